/*
 * split-client: a test driver for a split Ed25519 key served by two lurkd
 * (issue 18): the coordinator's side of FROST (research split_keys.md §8)
 * over the wire messages of common/wire-frost.h, enough to test lurkd's half.
 * The real coordinator (the client core) is later work.
 *
 *   split-client ADDR1 PUB1 ADDR2 PUB2 CLIENT_KEY_FILE COMMAND LABEL MSG_HEX
 *     sign       commit at both, sign at both, aggregate (common/frost.c):
 *                prints "sig HEX" (R ‖ z1 + z2, verified by libsodium) and
 *                "alone HEX" (R ‖ z1: server 1's share on its own)
 *     reuse      one signature, then the same handle again at server 1
 *     unknown    a handle server 1 never issued
 *     foreign    server 1's own list entry replaced by another of its
 *                commitments, then the right list with the same handle
 *     held FILE  as sign, but after the commitments prints "committed" and
 *                waits (at most 60 s) until FILE exists: the test reloads
 *                lurkd in between (the command takes FILE before LABEL)
 *   A split RSA key (RSA_PARTIAL; MSG_HEX is a DigestInfo, or PSS's mHash):
 *     rsa-pkcs1  partials from both, combined (lurk_rsa_combine checks
 *                s^e = m): prints "sig HEX" and "alone HEX" (server 1's)
 *     rsa-pss    the same with an EMSA-PSS encoding made here (random salt)
 *     rsa-pss-other  an encoding of another hash sent with this one: refused
 *
 * Exit status: 0 the expected outcome (the refusal commands print the
 * server's "class reason: text"), 1 usage or connection error, 2 a server
 * refused a step that should pass (its error on stderr), 3 a wrong outcome.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include "client/conn.h"
#include "err.h"
#include "frost.h"
#include "keyfile.h"
#include "mem.h"
#include "rsa-split.h"
#include "wire-frost.h"
#include "wire.h"

#define ED25519_SPKI_LEN 44 /* RFC 8410: 12-byte prefix, then the 32-byte key */
#define SPKI_MAX         1100

struct server {
	struct lurk_client *c;
	uint8_t key_id[LURK_WIRE_MAX_KEY_ID];
	size_t key_id_len;
	uint8_t spki[SPKI_MAX];
	size_t spki_len;
	uint8_t type;
	unsigned index;
};

static struct lurk_buf *req, *resp;
static const char *hold_file; /* held: wait for it between commit and sign */
static struct lurk_wire_error last_err;

static void
hex(const char *tag, const uint8_t *p, size_t n)
{
	printf("%s ", tag);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static uint8_t *
unhex(const char *s, size_t *n)
{
	size_t len = strlen(s);
	uint8_t *p;

	if (len % 2 != 0 || (p = malloc(len / 2 + 1)) == NULL)
		return NULL;
	if (sodium_hex2bin(p, len / 2, s, len, NULL, n, NULL) != 0 || *n != len / 2) {
		free(p);
		return NULL;
	}
	return p;
}

/* 0 and the body in resp, 2 for an error response (kept in last_err), 1 otherwise. */
static int
call(struct server *s, uint8_t want)
{
	struct lurk_wire_hdr h;
	int r;

	if ((r = lurk_client_call(s->c, lurk_buf_ptr(req), lurk_buf_len(req), resp)) != 0 ||
		(r = lurk_wire_header_parse(resp, &h)) != 0) {
		fprintf(stderr, "split-client: call: %s\n", lurk_err_str(r));
		return 1;
	}
	if (h.type == LURK_WIRE_ERROR) {
		if (lurk_wire_error_parse(resp, &last_err) != 0)
			return 1;
		return 2;
	}
	return h.type == want ? 0 : 1;
}

static void
print_err(const char *what)
{
	fprintf(stderr, "split-client: %s: %s %u: %.*s\n", what,
		lurk_wire_status_str(last_err.status), last_err.reason, (int)last_err.text_len,
		last_err.text);
}

/* The key LABEL at s, which must be a share; its id, SPKI and index. */
static int
find_key(struct server *s, const char *label)
{
	struct lurk_wire_list_resp l;
	int r;

	lurk_buf_reset(req);
	if (lurk_wire_list_req_build(req, lurk_client_next_id(s->c)) != 0 ||
		(r = call(s, LURK_WIRE_LIST_RESP)) != 0 || lurk_wire_list_resp_parse(resp, &l) != 0)
		return 1;
	r = 3;
	for (size_t i = 0; i < l.key_count; i++) {
		const struct lurk_wire_key *k = &l.keys[i];
		if (strcmp(k->label, label) != 0)
			continue;
		if ((k->type == LURK_KEY_ED25519 && k->spki_len != ED25519_SPKI_LEN) ||
			(k->type != LURK_KEY_ED25519 && k->type != LURK_KEY_RSA) ||
			k->spki_len > SPKI_MAX ||
			(k->flags & (LURK_WIRE_KEY_SHARE1 | LURK_WIRE_KEY_SHARE2)) == 0 ||
			(k->flags & LURK_WIRE_KEY_SIGN) != 0)
			break;
		memcpy(s->key_id, k->id, k->id_len);
		s->key_id_len = k->id_len;
		memcpy(s->spki, k->spki, k->spki_len);
		s->spki_len = k->spki_len;
		s->type = k->type;
		s->index = (k->flags & LURK_WIRE_KEY_SHARE1) ? 1 : 2;
		r = 0;
	}
	lurk_wire_list_resp_clear(&l);
	if (r != 0)
		fprintf(stderr, "split-client: no share key %s\n", label);
	return r;
}

static int
commit(struct server *s, size_t n, struct lurk_wire_frost_commit_resp *out)
{
	struct lurk_wire_frost_commit_req m = {s->key_id, s->key_id_len, n};
	int r;

	lurk_buf_reset(req);
	if (lurk_wire_frost_commit_req_build(req, lurk_client_next_id(s->c), &m) != 0)
		return 1;
	if ((r = call(s, LURK_WIRE_FROST_COMMIT_RESP)) != 0)
		return r;
	if (lurk_wire_frost_commit_resp_parse(resp, out) != 0 || out->count != n)
		return 1;
	return 0;
}

static int
sign(struct server *s, const uint8_t handle[16], const struct lurk_frost_commitment list[2],
	const uint8_t *msg, size_t len, uint8_t z[32])
{
	struct lurk_wire_frost_sign_req m;
	struct lurk_wire_frost_sign_resp out;
	int r;

	memset(&m, 0, sizeof(m));
	m.key_id = s->key_id;
	m.key_id_len = s->key_id_len;
	memcpy(m.handle, handle, 16);
	m.msg = msg;
	m.msg_len = len;
	memcpy(m.list, list, sizeof(m.list));
	lurk_buf_reset(req);
	if (lurk_wire_frost_sign_req_build(req, lurk_client_next_id(s->c), &m) != 0)
		return 1;
	if ((r = call(s, LURK_WIRE_FROST_SIGN_RESP)) != 0)
		return r;
	if (lurk_wire_frost_sign_resp_parse(resp, &out) != 0)
		return 1;
	memcpy(z, out.z, 32);
	return 0;
}

static void
entry(struct lurk_frost_commitment *e, uint16_t id, const struct lurk_wire_frost_com *c)
{
	e->id = id;
	memcpy(e->D, c->D, 32);
	memcpy(e->E, c->E, 32);
}

/* One FROST signature with both servers; 0 and sig, or the failing step's status. */
static int
full_sign(struct server sv[2], const uint8_t *msg, size_t len, uint8_t handle1[16], int print)
{
	struct lurk_wire_frost_commit_resp c[2];
	struct lurk_frost_commitment list[2];
	uint8_t z[2][32], sig[64], R[32];
	const uint8_t *pk = sv[0].spki + 12;
	int r;

	for (int i = 0; i < 2; i++)
		if ((r = commit(&sv[i], 1, &c[i])) != 0) {
			print_err("commit");
			return r;
		}
	entry(&list[0], 1, &c[0].com[0]);
	entry(&list[1], 2, &c[1].com[0]);
	memcpy(handle1, c[0].com[0].handle, 16);
	if (hold_file != NULL) {
		printf("committed\n");
		fflush(stdout);
		for (int i = 0; i < 3000 && access(hold_file, F_OK) != 0; i++) {
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (access(hold_file, F_OK) != 0) {
			fprintf(stderr, "split-client: %s did not appear\n", hold_file);
			return 1;
		}
	}
	for (int i = 0; i < 2; i++)
		if ((r = sign(&sv[i], c[i].com[0].handle, list, msg, len, z[i])) != 0) {
			if (r == 2)
				print_err(i == 0 ? "sign at server 1" : "sign at server 2");
			return r;
		}
	if ((r = lurk_frost_aggregate(pk, list, 2, msg, len, z, sig)) != 0) {
		fprintf(stderr, "split-client: aggregate: %s\n", lurk_err_str(r));
		return 3;
	}
	if (print) {
		uint8_t rho[2][32], alone[64];
		hex("sig", sig, 64);
		/* R ‖ z1: what server 1's answer alone would give. */
		if (lurk_frost_binding_factors(pk, list, 2, msg, len, rho) != 0 ||
			lurk_frost_group_commitment(list, 2, rho, R) != 0)
			return 3;
		memcpy(alone, R, 32);
		memcpy(alone + 32, z[0], 32);
		hex("alone", alone, 64);
	}
	return 0;
}

/* A refusal was expected: 0 and the server's answer printed, or 3. */
static int
expect_refused(int r, const char *what)
{
	if (r != 2) {
		fprintf(stderr, "split-client: %s was not refused (%d)\n", what, r);
		return 3;
	}
	printf("refused %s %u: %.*s\n", lurk_wire_status_str(last_err.status), last_err.reason,
		(int)last_err.text_len, last_err.text);
	return 0;
}

/* RSA_PARTIAL at s: 0 and k bytes in out, 2 refused, 1 otherwise. */
static int
partial(struct server *s, uint32_t mech, const struct lurk_wire_param *pa, const uint8_t *data,
	size_t len, const uint8_t *em, size_t em_len, uint8_t *out, size_t k)
{
	struct lurk_wire_rsa_partial_req m = {
		s->key_id, s->key_id_len, mech, *pa, data, len, em, em_len};
	struct lurk_wire_rsa_partial_resp p;
	int r;

	lurk_buf_reset(req);
	if (lurk_wire_rsa_partial_req_build(req, lurk_client_next_id(s->c), &m) != 0)
		return 1;
	if ((r = call(s, LURK_WIRE_RSA_PARTIAL_RESP)) != 0)
		return r;
	if (lurk_wire_rsa_partial_resp_parse(resp, &p) != 0 || p.partial_len != k)
		return 1;
	memcpy(out, p.partial, k);
	return 0;
}

static int
run_rsa(struct server sv[2], const char *cmd, const uint8_t *msg, size_t len)
{
	const uint8_t *q = sv[0].spki;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &q, (long)sv[0].spki_len);
	BIGNUM *n = NULL, *e = NULL;
	struct lurk_wire_param pa;
	uint8_t em[1024], s[2][1024], sig[1024], salt[64], other[64];
	const char *md = len == 32 ? "SHA256" : len == 48 ? "SHA384" : "SHA512";
	uint32_t mech = CKM_RSA_PKCS;
	size_t k, em_len = 0;
	int r = 1;

	memset(&pa, 0, sizeof(pa));
	if (pk == NULL || !EVP_PKEY_get_bn_param(pk, "n", &n) ||
		!EVP_PKEY_get_bn_param(pk, "e", &e))
		goto out;
	k = (size_t)BN_num_bytes(n);
	if (strcmp(cmd, "rsa-pkcs1") == 0) {
		if (lurk_rsa_pkcs1_encode(msg, len, em, k) != 0) {
			/* Not ours to encode: the server must refuse it too. */
			memset(em, 0, sizeof(em));
		}
	} else if (len == 32 || len == 48 || len == 64) {
		mech = CKM_RSA_PKCS_PSS;
		pa.kind = LURK_WIRE_PARAM_PSS;
		pa.u.pss.hash = len == 32 ? CKM_SHA256 : len == 48 ? CKM_SHA384 : CKM_SHA512;
		pa.u.pss.mgf = len == 32   ? CKG_MGF1_SHA256
			       : len == 48 ? CKG_MGF1_SHA384
					   : CKG_MGF1_SHA512;
		pa.u.pss.slen = (uint32_t)len;
		randombytes_buf(salt, len);
		memcpy(other, msg, len);
		if (strcmp(cmd, "rsa-pss-other") == 0)
			other[0] ^= 1;
		if (lurk_rsa_pss_encode(md, other, salt, n, em, k) != 0)
			goto out;
		em_len = k;
	} else {
		goto out;
	}
	for (int i = 0; i < 2; i++)
		if ((r = partial(&sv[i], mech, &pa, msg, len, em, em_len, s[i], k)) != 0) {
			if (strcmp(cmd, "rsa-pss-other") == 0) {
				r = expect_refused(r, "an encoding of another hash");
				goto out;
			}
			if (r == 2)
				print_err(i == 0 ? "partial at server 1" : "partial at server 2");
			goto out;
		}
	if (strcmp(cmd, "rsa-pss-other") == 0) {
		r = expect_refused(0, "an encoding of another hash");
		goto out;
	}
	if (lurk_rsa_combine(n, e, em, s[0], s[1], k, sig) != 0) {
		fprintf(stderr, "split-client: the partials do not combine to a signature\n");
		r = 3;
		goto out;
	}
	hex("sig", sig, k);
	hex("alone", s[0], k);
	r = 0;
out:
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	return r;
}

static int
run(struct server sv[2], const char *cmd, const uint8_t *msg, size_t len)
{
	struct lurk_wire_frost_commit_resp c1, c2;
	struct lurk_frost_commitment list[2];
	uint8_t handle[16], z[32];
	int r;

	if (strncmp(cmd, "rsa-", 4) == 0) {
		if (sv[0].type != LURK_KEY_RSA)
			return 3;
		return run_rsa(sv, cmd, msg, len);
	}
	if (sv[0].type != LURK_KEY_ED25519)
		return 3;
	if (strcmp(cmd, "sign") == 0 || strcmp(cmd, "held") == 0)
		return full_sign(sv, msg, len, handle, 1);
	if (strcmp(cmd, "reuse") == 0) {
		if ((r = full_sign(sv, msg, len, handle, 0)) != 0)
			return r;
		if ((r = commit(&sv[1], 1, &c2)) != 0)
			return r;
		memset(list, 0, sizeof(list));
		/* The list does not matter: the handle is gone. */
		if ((r = commit(&sv[0], 1, &c1)) != 0)
			return r;
		entry(&list[0], 1, &c1.com[0]);
		entry(&list[1], 2, &c2.com[0]);
		return expect_refused(sign(&sv[0], handle, list, msg, len, z), "a reused handle");
	}
	if (strcmp(cmd, "unknown") == 0) {
		if ((r = commit(&sv[0], 1, &c1)) != 0 || (r = commit(&sv[1], 1, &c2)) != 0)
			return r;
		entry(&list[0], 1, &c1.com[0]);
		entry(&list[1], 2, &c2.com[0]);
		randombytes_buf(handle, sizeof(handle));
		return expect_refused(sign(&sv[0], handle, list, msg, len, z), "an unknown handle");
	}
	if (strcmp(cmd, "foreign") == 0) {
		if ((r = commit(&sv[0], 2, &c1)) != 0 || (r = commit(&sv[1], 1, &c2)) != 0)
			return r;
		/* Handle 0 with the commitment of handle 1 as server 1's entry. */
		entry(&list[0], 1, &c1.com[1]);
		entry(&list[1], 2, &c2.com[0]);
		if ((r = expect_refused(sign(&sv[0], c1.com[0].handle, list, msg, len, z),
			     "a foreign own entry")) != 0)
			return r;
		/* The refused request spent the handle: the right list is refused too. */
		entry(&list[0], 1, &c1.com[0]);
		return expect_refused(
			sign(&sv[0], c1.com[0].handle, list, msg, len, z), "the spent handle");
	}
	if (strcmp(cmd, "badpoint") == 0) {
		if ((r = commit(&sv[0], 1, &c1)) != 0 || (r = commit(&sv[1], 1, &c2)) != 0)
			return r;
		entry(&list[0], 1, &c1.com[0]);
		entry(&list[1], 2, &c2.com[0]);
		/* The other signer's E: the identity, of small order (never a valid commitment). */
		memset(list[1].E, 0, sizeof(list[1].E));
		list[1].E[0] = 1;
		return expect_refused(
			sign(&sv[0], c1.com[0].handle, list, msg, len, z), "an invalid peer point");
	}
	fprintf(stderr, "split-client: unknown command %s\n", cmd);
	return 1;
}

int
main(int argc, char **argv)
{
	struct server sv[2];
	struct lurk_client_cfg cfg[2];
	struct lurk_client_why cw;
	uint8_t spk[2][LURK_NOISE_KEY_LEN], csk[LURK_NOISE_KEY_LEN], *msg = NULL;
	const char *why = NULL;
	size_t len = 0;
	int ret = 1;

	if (argc == 10 && strcmp(argv[6], "held") == 0) {
		hold_file = argv[7];
		memmove(&argv[7], &argv[8], 2 * sizeof(*argv));
		argc--;
	}
	if (argc != 9) {
		fprintf(stderr,
			"usage: split-client ADDR1 PUB1 ADDR2 PUB2 CLIENT_KEY_FILE "
			"{sign|reuse|unknown|foreign|held FILE|rsa-pkcs1|rsa-pss|rsa-pss-other} "
			"LABEL MSG_HEX\n");
		return 1;
	}
	memset(sv, 0, sizeof(sv));
	if (lurk_mem_init() != 0 || sodium_init() < 0 ||
		(req = lurk_buf_new(LURK_WIRE_MAX_MSG)) == NULL ||
		(resp = lurk_buf_new(LURK_WIRE_MAX_MSG)) == NULL ||
		(msg = unhex(argv[8], &len)) == NULL)
		goto out;
	if (lurk_static_key_b64_decode(argv[2], spk[0]) != 0 ||
		lurk_static_key_b64_decode(argv[4], spk[1]) != 0 ||
		lurk_keyfile_read(argv[5], csk, &why) != 0) {
		fprintf(stderr, "split-client: bad keys\n");
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		memset(&cfg[i], 0, sizeof(cfg[i]));
		cfg[i].address = argv[1 + 2 * i];
		cfg[i].server_pk = spk[i];
		cfg[i].client_sk = csk;
		cfg[i].connect_timeout_ms = 5000;
		cfg[i].io_timeout_ms = 10000;
		if (lurk_client_connect(&cfg[i], &sv[i].c, &cw) != 0) {
			fprintf(stderr, "split-client: cannot connect to %s\n", cfg[i].address);
			goto out;
		}
		if ((ret = find_key(&sv[i], argv[7])) != 0)
			goto out;
	}
	if (sv[0].index != 1 || sv[1].index != 2 || sv[0].spki_len != sv[1].spki_len ||
		memcmp(sv[0].spki, sv[1].spki, sv[0].spki_len) != 0) {
		fprintf(stderr,
			"split-client: the servers do not hold shares 1 and 2 of one key\n");
		ret = 3;
		goto out;
	}
	ret = run(sv, argv[6], msg, len);
out:
	for (int i = 0; i < 2; i++)
		if (sv[i].c != NULL)
			lurk_client_free(sv[i].c);
	lurk_wipe(csk, sizeof(csk));
	free(msg);
	lurk_buf_free(req);
	lurk_buf_free(resp);
	return ret;
}
