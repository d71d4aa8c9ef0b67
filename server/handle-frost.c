/*
 * lurkd's half of a split key (issue 18; docs/split-keys.md, research
 * split_keys.md §8). Ed25519: FROST_COMMIT hands out single-use commitments
 * from one RAM-only table (frost-nonces.h), FROST_SIGN answers z_i for a
 * message the TLS policy accepts. RSA: RSA_PARTIAL answers m^d_i for an
 * encoded message lurkd built or checked itself (rsa-split.h). The share
 * never signs alone: SIGN and DECRYPT on it are refused in handle.c.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include "err.h"
#include "frost-nonces.h"
#include "frost.h"
#include "handle-int.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "rsa-split.h"
#include "share-file.h"
#include "wire-frost.h"

_Static_assert(LURK_NOISE_KEY_LEN == LURK_FROST_OWNER_LEN, "a client is named by its static key");
_Static_assert(LURK_WIRE_FROST_HANDLE_LEN == LURK_FROST_HANDLE_LEN, "one handle size");
_Static_assert(LURK_WIRE_FROST_MAX_COMMIT <= LURKD_FROST_PER_CLIENT, "a batch fits the cap");

/*
 * One table per lurkd process, made on first use in the serving process (so
 * it never crosses the privilege-separation fork) and kept for its life: a
 * reload keeps it, and entries name the client's static key and the key's
 * group public key, so a kept key keeps its commitments. Never freed: the
 * entries are sodium_malloc'd, and an exiting process takes them along.
 */
static struct lurk_frost_nonces *table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void
table_make(void)
{
	if (lurk_frost_nonces_new(
		    LURKD_FROST_CAPACITY, LURKD_FROST_PER_CLIENT, LURKD_FROST_TTL, &table) != 0)
		table = NULL;
}

static struct lurk_frost_nonces *
nonces(void)
{
	(void)pthread_once(&table_once, table_make);
	return table;
}

static const uint32_t eddsa_mech[] = {CKM_EDDSA};
static const uint32_t rsa_mechs[] = {CKM_RSA_PKCS, CKM_RSA_PKCS_PSS};

void
lurkd_frost_list_key(
	const struct lurkd_key_conf *k, const struct lurkd_client *cl, struct lurk_wire_key *w)
{
	if (k->share->type == LURK_SHARE_RSA) {
		w->type = LURK_KEY_RSA;
		w->bits = (uint16_t)BN_num_bits(k->share->n);
		w->mechs = (uint32_t *)rsa_mechs;
		w->mech_count = LURK_ARRAY_LEN(rsa_mechs);
	} else {
		w->type = LURK_KEY_ED25519;
		w->bits = 255;
		w->mechs = (uint32_t *)eddsa_mech;
		w->mech_count = 1;
	}
	w->spki = (uint8_t *)k->share->spki;
	w->spki_len = k->share->spki_len;
	w->flags = k->share->index == 1 ? LURK_WIRE_KEY_SHARE1 : LURK_WIRE_KEY_SHARE2;
	if (k->policy.require_content || cl->require_content)
		w->flags |= LURK_WIRE_KEY_REQUIRE_CONTENT;
	w->certs = NULL;
	w->cert_count = 0;
}

static void
to_wire(struct lurk_wire_frost_com *w, const struct lurk_frost_issued *is)
{
	memcpy(w->handle, is->handle, sizeof(w->handle));
	memcpy(w->D, is->com.D, sizeof(w->D));
	memcpy(w->E, is->com.E, sizeof(w->E));
}

/* The key, if admitted and a share of this type; otherwise NULL and *r the answer sent. */
static const struct lurkd_key_conf *
admit_share(const struct lurkd_req_ctx *ctx, const uint8_t *key_id, size_t key_id_len,
	enum lurk_share_type type, struct lurkd_audit_rec *a, const struct timespec *t0,
	uint32_t id, struct lurk_buf *resp, int *r)
{
	const struct lurkd_key_conf *key;

	if ((key = lurkd_admit(ctx, key_id, key_id_len, a, t0, id, resp, r)) == NULL)
		return NULL;
	if (key->share == NULL || key->share->type != type) {
		*r = lurkd_refuse(ctx, a, t0, key, id, LURK_ERR_MECHANISM, 0,
			type == LURK_SHARE_RSA ? "key is not a share of a split RSA key"
					       : "key is not a share of a split Ed25519 key",
			resp);
		return NULL;
	}
	if (type == LURK_SHARE_ED25519 && nonces() == NULL) {
		*r = lurkd_refuse(
			ctx, a, t0, key, id, LURK_ERR_INTERNAL, 0, "no commitment table", resp);
		return NULL;
	}
	return key;
}

static int
build_commit(struct lurk_buf *resp, uint32_t id, const void *out)
{
	return lurk_wire_frost_commit_resp_build(resp, id, out);
}

static int
build_frost_sign(struct lurk_buf *resp, uint32_t id, const void *out)
{
	return lurk_wire_frost_sign_resp_build(resp, id, out);
}

static int
build_rsa_partial(struct lurk_buf *resp, uint32_t id, const void *out)
{
	return lurk_wire_rsa_partial_resp_build(resp, id, out);
}

int
lurkd_handle_frost_commit(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	struct lurk_wire_frost_commit_req m;
	struct lurk_wire_frost_commit_resp out;
	struct lurk_frost_issued is[LURK_WIRE_FROST_MAX_COMMIT];
	struct lurkd_audit_rec a;
	struct timespec t0;
	const struct lurkd_key_conf *key;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lurk_wire_frost_commit_req_parse(in, &m) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed frost-commit request");
	lurkd_req_audit_init(&a, ctx, "frost-commit", CKM_EDDSA, NULL, 0);
	if ((key = admit_share(ctx, m.key_id, m.key_id_len, LURK_SHARE_ED25519, &a, &t0, id, resp,
		     &r)) == NULL)
		return r;
	r = lurk_frost_nonces_issue(nonces(), ctx->client->pk, key->share->pk,
		(uint16_t)key->share->index, key->share->secret, (int64_t)time(NULL), m.count, is);
	if (r == LURK_ERR_BUSY)
		return lurkd_refuse_uncounted(ctx, &a, &t0, key, id, LURK_ERR_RATE_LIMIT, 0,
			"too many outstanding commitments", resp);
	/* Commitments are public: nothing to wipe (the nonces stay in the table). */
	memset(&out, 0, sizeof(out));
	if (r == 0) {
		out.count = m.count;
		for (size_t i = 0; i < m.count; i++)
			to_wire(&out.com[i], &is[i]);
	}
	return lurkd_reply_result(ctx, &a, &t0, id, r, r, build_commit, &out, NULL, 0, resp);
}

/*
 * The server's checks in the research's order (§8 step 4): the key is this
 * client's (admit), the list is ids 1 then 2, the handle is taken (spent
 * whatever follows) and its commitment is the list's own entry, every point
 * is valid, the TLS policy accepts the message as CKM_EDDSA content; then z.
 */
int
lurkd_handle_frost_sign(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	struct lurk_wire_frost_sign_req m;
	struct lurk_wire_frost_sign_resp out;
	struct lurk_frost_nonce nonce;
	struct lurk_frost_commitment own;
	struct lurk_frost_issued fresh;
	struct lurk_policy_req preq;
	struct lurk_policy pol;
	struct lurkd_audit_rec a;
	struct timespec t0;
	const struct lurkd_key_conf *key;
	enum lurk_policy_reason why;
	const char *bad = NULL;
	int64_t now = (int64_t)time(NULL);
	unsigned self;
	int r, err = LURK_ERR_BAD_FORMAT;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lurk_wire_frost_sign_req_parse(in, &m) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed frost-sign request");
	lurkd_req_audit_init(&a, ctx, "frost-sign", CKM_EDDSA, m.msg, m.msg_len);
	if ((key = admit_share(ctx, m.key_id, m.key_id_len, LURK_SHARE_ED25519, &a, &t0, id, resp,
		     &r)) == NULL)
		return r;
	if (m.list[0].id != 1 || m.list[1].id != 2)
		return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_BAD_FORMAT, 0,
			"commitment list is not identifiers 1 then 2", resp);
	self = key->share->index - 1;
	r = lurk_frost_nonces_take(
		nonces(), ctx->client->pk, key->share->pk, m.handle, now, &nonce, &own);
	if (r == LURK_ERR_STALE)
		return lurkd_refuse_uncounted(ctx, &a, &t0, key, id, LURK_ERR_NOT_FOUND,
			LURK_WIRE_FROST_HANDLE_EXPIRED, "commitment handle expired", resp);
	if (r != 0)
		return lurkd_refuse_uncounted(ctx, &a, &t0, key, id, LURK_ERR_NOT_FOUND,
			LURK_WIRE_FROST_HANDLE_UNKNOWN, "unknown or used commitment handle", resp);
	/* From here the handle is spent: every path wipes the nonce. */
	if (sodium_memcmp(own.D, m.list[self].D, LURK_FROST_POINT_LEN) != 0 ||
		sodium_memcmp(own.E, m.list[self].E, LURK_FROST_POINT_LEN) != 0)
		bad = "the list's entry for this server is not its commitment";
	/*
	 * All four points valid, before the policy (docs/split-keys.md, step 5):
	 * our own two are byte-equal to the commitment we made, so valid by
	 * construction; only the peer's two pay the ~37 µs subgroup check here.
	 */
	if (bad == NULL && (lurk_frost_point_check(m.list[1 - self].D) != 0 ||
				   lurk_frost_point_check(m.list[1 - self].E) != 0))
		bad = "invalid commitment point";
	if (bad == NULL) {
		memset(&preq, 0, sizeof(preq));
		preq.key_type = LURK_KEY_ED25519;
		preq.mech = CKM_EDDSA;
		preq.data = m.msg;
		preq.len = m.msg_len;
		pol = key->policy;
		pol.require_content |= ctx->client->require_content;
		if ((why = lurk_policy_check_sign(&pol, &preq)) != LURK_POLICY_ALLOW) {
			sodium_memzero(&nonce, sizeof(nonce));
			return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_POLICY, (uint16_t)why,
				lurk_policy_reason_str(why), resp);
		}
	}
	if (bad != NULL) {
		sodium_memzero(&nonce, sizeof(nonce));
		return lurkd_refuse(ctx, &a, &t0, key, id, err, 0, bad, resp);
	}
	memset(&out, 0, sizeof(out));
	r = lurk_frost_sign((uint16_t)key->share->index, key->share->secret, &nonce, key->share->pk,
		m.list, LURK_FROST_SIGNERS, m.msg, m.msg_len, out.z);
	sodium_memzero(&nonce, sizeof(nonce)); /* lurk_frost_sign has; belt and braces */
	/* One fresh commitment in exchange; none if the client is at its cap. */
	if (r == 0 &&
		lurk_frost_nonces_issue(nonces(), ctx->client->pk, key->share->pk,
			(uint16_t)key->share->index, key->share->secret, now, 1, &fresh) == 0) {
		out.fresh_count = 1;
		to_wire(&out.fresh, &fresh);
	}
	return lurkd_reply_result(ctx, &a, &t0, id, r, LURK_ERR_CRYPTO, build_frost_sign, &out,
		&out, sizeof(out), resp);
}

/* The hash's OpenSSL name for a TLS PSS hash (the policy has checked the parameters). */
static const char *
pss_md(uint32_t ckm)
{
	switch (ckm) {
	case CKM_SHA256:
		return "SHA256";
	case CKM_SHA384:
		return "SHA384";
	case CKM_SHA512:
		return "SHA512";
	default:
		return NULL;
	}
}

/*
 * RSA_PARTIAL: the key is this client's RSA share; the policy accepts the
 * request as the hash-only sign it stands for (CKM_RSA_PKCS over a
 * DigestInfo, CKM_RSA_PKCS_PSS over an mHash); lurkd builds the PKCS#1 v1.5
 * encoding itself from an allow-listed DigestInfo, or checks the client's PSS
 * encoding against the mHash (EMSA-PSS-VERIFY); then m^d_i mod n, in
 * constant time. Nothing unchecked is exponentiated (research pitfall 6).
 */
int
lurkd_handle_rsa_partial(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	struct lurk_wire_rsa_partial_req m;
	struct lurk_wire_rsa_partial_resp out;
	struct lurk_policy_req preq;
	struct lurk_policy pol;
	struct lurkd_audit_rec a;
	struct timespec t0;
	const struct lurkd_key_conf *key;
	enum lurk_policy_reason why;
	uint8_t em[LURK_WIRE_MAX_CIPHERTEXT], part[LURK_WIRE_MAX_CIPHERTEXT];
	const char *md;
	BIGNUM *di = NULL;
	size_t k;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lurk_wire_rsa_partial_req_parse(in, &m) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed rsa-partial request");
	lurkd_req_audit_init(&a, ctx, "rsa-partial", m.mech, m.data, m.data_len);
	if ((key = admit_share(
		     ctx, m.key_id, m.key_id_len, LURK_SHARE_RSA, &a, &t0, id, resp, &r)) == NULL)
		return r;
	if (m.mech != CKM_RSA_PKCS && m.mech != CKM_RSA_PKCS_PSS)
		return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_MECHANISM, 0,
			"a split RSA key takes CKM_RSA_PKCS or CKM_RSA_PKCS_PSS", resp);
	memset(&preq, 0, sizeof(preq));
	preq.key_type = LURK_KEY_RSA;
	preq.mech = m.mech;
	preq.has_pss = m.param.kind == LURK_WIRE_PARAM_PSS;
	if (preq.has_pss) {
		preq.pss_hash = m.param.u.pss.hash;
		preq.pss_mgf = m.param.u.pss.mgf;
		preq.pss_slen = m.param.u.pss.slen;
	}
	preq.data = m.data;
	preq.len = m.data_len;
	pol = key->policy;
	pol.require_content |= ctx->client->require_content;
	if ((why = lurk_policy_check_sign(&pol, &preq)) != LURK_POLICY_ALLOW)
		return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_POLICY, (uint16_t)why,
			lurk_policy_reason_str(why), resp);
	k = (size_t)BN_num_bytes(key->share->n);
	if (m.mech == CKM_RSA_PKCS) {
		if (m.param.kind != LURK_WIRE_PARAM_NONE || m.em_len != 0 ||
			lurk_rsa_pkcs1_encode(m.data, m.data_len, em, k) != 0)
			return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_BAD_FORMAT, 0,
				"not a SHA-256, SHA-384 or SHA-512 DigestInfo", resp);
	} else {
		if (!preq.has_pss || (md = pss_md(preq.pss_hash)) == NULL || m.em_len != k)
			return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_BAD_FORMAT, 0,
				"PSS needs the hash's parameters and a modulus-length encoding",
				resp);
		if (lurk_rsa_pss_verify(md, m.data, key->share->n, m.em, k) != 0)
			return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_BAD_FORMAT, 0,
				"the encoded message is not EMSA-PSS of the hash", resp);
		memcpy(em, m.em, k);
	}
	if ((di = BN_secure_new()) == NULL ||
		BN_bin2bn(key->share->secret, (int)key->share->secret_len, di) == NULL)
		r = LURK_ERR_ALLOC;
	else
		r = lurk_rsa_partial(key->share->n, di, em, k, part);
	BN_clear_free(di);
	out.partial = part;
	out.partial_len = k;
	return lurkd_reply_result(ctx, &a, &t0, id, r, LURK_ERR_CRYPTO, build_rsa_partial, &out,
		part, sizeof(part), resp);
}
