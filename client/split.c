/*
 * Split keys on the client's side (split.h): the commitment cache, the two
 * requests in flight at once, and the combination that must verify before
 * a signature leaves. Nothing handled here is secret: commitments, partial
 * signatures and encodings are public values; the shares stay in the two
 * lurkd.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "buf.h"
#include "ckm.h"
#include "err.h"
#include "frost.h"
#include "keys.h"
#include "log.h"
#include "ops.h"
#include "pool.h"
#include "rsa-split.h"
#include "split.h"
#include "tls.h"
#include "wire-frost.h"

#define ED25519_SPKI_LEN 44 /* RFC 8410: 12 bytes of DER, then the key */
#define STALE            1  /* answer(): a commitment the server no longer knows */
#define RSA_MAX_BYTES    (LURK_RSA_SPLIT_MAX_BITS / 8)

struct cached {
	struct lurk_wire_frost_com com;
	int64_t until;
};

/* A split Ed25519 key's commitments, per share, newest last. */
struct entry {
	uint8_t id[LURK_WIRE_MAX_KEY_ID];
	size_t id_len;
	struct cached c[2][LC_SPLIT_CACHE];
	size_t n[2];
	struct entry *next;
};

struct lc_split {
	pthread_mutex_t lock; /* memory work only */
	struct entry *list;
};

int
lc_split_new(struct lc_split **out)
{
	struct lc_split *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return LURK_ERR_ALLOC;
	}
	*out = s;
	return 0;
}

static void
free_entries(struct entry *e)
{
	while (e != NULL) {
		struct entry *next = e->next;
		free(e);
		e = next;
	}
}

void
lc_split_free(struct lc_split *s)
{
	if (s == NULL)
		return;
	free_entries(s->list);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void
lc_split_after_fork(struct lc_split *s)
{
	if (s == NULL)
		return;
	(void)pthread_mutex_init(&s->lock, NULL);
	free_entries(s->list);
	s->list = NULL;
}

/* Under the lock: key's entry, made if new; NULL without memory. */
static struct entry *
entry_of(struct lc_split *s, const struct lurk_wire_key *key)
{
	struct entry *e;

	for (e = s->list; e != NULL; e = e->next)
		if (e->id_len == key->id_len && memcmp(e->id, key->id, key->id_len) == 0)
			return e;
	if (key->id_len > sizeof(e->id) || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->id, key->id, key->id_len);
	e->id_len = key->id_len;
	e->next = s->list;
	s->list = e;
	return e;
}

/* One unexpired commitment of share i (0 or 1) into *com: 1, or 0 if none. */
static int
take(struct lc_split *s, const struct lurk_wire_key *key, int i, struct lurk_wire_frost_com *com)
{
	int64_t now = lc_now_ms();
	struct entry *e;
	int got = 0;

	pthread_mutex_lock(&s->lock);
	if ((e = entry_of(s, key)) != NULL)
		while (!got && e->n[i] > 0) {
			struct cached *c = &e->c[i][--e->n[i]];
			if (c->until > now) {
				*com = c->com;
				got = 1;
			}
		}
	pthread_mutex_unlock(&s->lock);
	return got;
}

/* Keeps what fits; the rest expire unused at lurkd. */
static void
put(struct lc_split *s, const struct lurk_wire_key *key, int i,
	const struct lurk_wire_frost_com *com, size_t n)
{
	int64_t until = lc_now_ms() + LC_SPLIT_COM_TTL_MS;
	struct entry *e;

	pthread_mutex_lock(&s->lock);
	if ((e = entry_of(s, key)) != NULL)
		for (size_t k = 0; k < n && e->n[i] < LC_SPLIT_CACHE; k++) {
			e->c[i][e->n[i]].com = com[k];
			e->c[i][e->n[i]++].until = until;
		}
	pthread_mutex_unlock(&s->lock);
}

/* Share i's server forgot its commitments (a restart): drop ours. */
static void
flush(struct lc_split *s, const struct lurk_wire_key *key, int i)
{
	struct entry *e;

	pthread_mutex_lock(&s->lock);
	if ((e = entry_of(s, key)) != NULL)
		e->n[i] = 0;
	pthread_mutex_unlock(&s->lock);
}

static const char *
server_name(struct lc_core *cc, int i)
{
	const struct lc_conf *c = lc_core_conf(cc);

	for (size_t k = 0; k < c->nservers; k++)
		if (c->servers[k].share == i + 1)
			return c->servers[k].name;
	return "?";
}

/* One request to each share's server that has a build function. */
struct half {
	lc_build_fn build;
	void *ctx;
	struct lurk_buf resp;
	int r;
};

/*
 * Both requests go out before either answer is read, so the two servers
 * work at the same time; each answer is read until the common deadline.
 */
static void
both(struct lc_core *cc, struct half h[2], int64_t deadline)
{
	struct lc_pool_req q[2];
	int sent[2] = {0, 0};

	for (int i = 0; i < 2; i++) {
		if (h[i].build == NULL)
			continue;
		h[i].r = lc_pool_send(
			lc_core_share_pool(cc, i + 1), h[i].build, h[i].ctx, deadline, &q[i]);
		sent[i] = h[i].r == 0;
	}
	for (int i = 0; i < 2; i++)
		if (sent[i])
			h[i].r = lc_pool_recv(&q[i], &h[i].resp);
}

static int
halves_init(struct half h[2])
{
	memset(h, 0, 2 * sizeof(*h));
	if (lurk_buf_init(&h[0].resp, LURK_WIRE_MAX_MSG) != 0)
		return LURK_ERR_ALLOC;
	if (lurk_buf_init(&h[1].resp, LURK_WIRE_MAX_MSG) != 0) {
		lurk_buf_clear(&h[0].resp);
		return LURK_ERR_ALLOC;
	}
	return 0;
}

static void
halves_clear(struct half h[2])
{
	lurk_buf_clear(&h[0].resp); /* wipes */
	lurk_buf_clear(&h[1].resp);
}

/*
 * Server i's answer: 0 when it is of type want (parse it from resp then);
 * STALE for a commitment handle it does not know (unknown, spent, expired:
 * it restarted, or the handle is older than we thought); else its refusal
 * (logged by lc_refused, with the server's name), with *e set;
 * LURK_ERR_BAD_FORMAT (logged) for anything else.
 */
static int
answer(struct lc_core *cc, struct half *h, int i, uint8_t want, const char *op,
	const struct lurk_wire_key *key, struct lurk_wire_error *e)
{
	struct lurk_wire_hdr hd;
	char what[128];

	snprintf(what, sizeof(what), "%s (share %d, server %s)", op, i + 1, server_name(cc, i));
	memset(e, 0, sizeof(*e));
	if (lurk_wire_header_parse(&h->resp, &hd) == 0) {
		if (hd.type == want)
			return 0;
		if (hd.type == LURK_WIRE_ERROR && lurk_wire_error_parse(&h->resp, e) == 0) {
			/* A forgotten commitment is retried, not reported as a refusal. */
			if (e->status == LURK_WIRE_ST_NOT_FOUND &&
				(e->reason == LURK_WIRE_FROST_HANDLE_UNKNOWN ||
					e->reason == LURK_WIRE_FROST_HANDLE_EXPIRED))
				return STALE;
			return lc_refused(e, what, key->label);
		}
	}
	lurk_error("%s with key %s: malformed response", what, key->label);
	return LURK_ERR_BAD_FORMAT;
}

/*
 * The result of two halves: a server that did not answer first (the
 * operator's first thing to mend), then a refusal or other error, then a
 * forgotten commitment (STALE: retried), then success.
 */
static int
worst(int a, int b)
{
	if (a == LURK_ERR_IO || b == LURK_ERR_IO)
		return LURK_ERR_IO;
	if (a < 0 || b < 0)
		return a < 0 ? a : b;
	return a != 0 ? a : b;
}

/* ---- Ed25519: FROST ---- */

struct commit_ctx {
	const struct lurk_wire_key *key;
};

static int
build_commit(void *ctx, struct lurk_buf *out, uint32_t id)
{
	const struct commit_ctx *c = ctx;
	struct lurk_wire_frost_commit_req m = {c->key->id, c->key->id_len, LC_SPLIT_BATCH};

	return lurk_wire_frost_commit_req_build(out, id, &m);
}

struct fsign_ctx {
	struct lurk_wire_frost_sign_req m;
};

static int
build_fsign(void *ctx, struct lurk_buf *out, uint32_t id)
{
	return lurk_wire_frost_sign_req_build(out, id, &((struct fsign_ctx *)ctx)->m);
}

/* Fresh commitments for the shares that have none (have[i] == 0), one for now into com[i]. */
static int
commit(struct lc_core *cc, const struct lurk_wire_key *key, const int have[2],
	struct lurk_wire_frost_com com[2], int64_t deadline)
{
	struct commit_ctx c = {key};
	struct half h[2];
	int r[2] = {0, 0};

	if (halves_init(h) != 0)
		return LURK_ERR_ALLOC;
	for (int i = 0; i < 2; i++)
		if (!have[i]) {
			h[i].build = build_commit;
			h[i].ctx = &c;
		}
	both(cc, h, deadline);
	for (int i = 0; i < 2; i++) {
		struct lurk_wire_frost_commit_resp cr;
		struct lurk_wire_error e;
		if (have[i])
			continue;
		if ((r[i] = h[i].r) != 0)
			continue;
		if ((r[i] = answer(cc, &h[i], i, LURK_WIRE_FROST_COMMIT_RESP, "frost-commit", key,
			     &e)) != 0)
			continue;
		if (lurk_wire_frost_commit_resp_parse(&h[i].resp, &cr) != 0) {
			lurk_error("frost-commit with key %s: malformed response", key->label);
			r[i] = LURK_ERR_BAD_FORMAT;
			continue;
		}
		com[i] = cr.com[0];
		/* Kept even when the other server failed: it will be back. */
		put(lc_core_split(cc), key, i, cr.com + 1, cr.count - 1);
	}
	halves_clear(h);
	return worst(r[0], r[1]);
}

static void
list_entry(struct lurk_frost_commitment *l, uint16_t id, const struct lurk_wire_frost_com *c)
{
	l->id = id;
	memcpy(l->D, c->D, sizeof(l->D));
	memcpy(l->E, c->E, sizeof(l->E));
}

/* One FROST signature; *again when a retry with fresh commitments may succeed. */
static int
frost(struct lc_core *cc, const struct lurk_wire_key *key, const uint8_t *msg, size_t len,
	uint8_t sig[LURK_FROST_SIG_LEN], int64_t deadline, int *again)
{
	struct lc_split *s = lc_core_split(cc);
	struct lurk_wire_frost_com com[2];
	struct fsign_ctx fc[2];
	uint8_t z[2][LURK_FROST_SCALAR_LEN];
	const uint8_t *pk = key->spki + (ED25519_SPKI_LEN - LURK_FROST_POINT_LEN);
	struct half h[2];
	int have[2], r[2] = {0, 0}, rv;

	for (int i = 0; i < 2; i++)
		have[i] = take(s, key, i, &com[i]);
	if ((!have[0] || !have[1]) && (rv = commit(cc, key, have, com, deadline)) != 0) {
		/* What one server gave back unused goes back for the next call. */
		for (int i = 0; i < 2; i++)
			if (have[i])
				put(s, key, i, &com[i], 1);
		return rv;
	}
	memset(fc, 0, sizeof(fc));
	for (int i = 0; i < 2; i++) {
		fc[i].m.key_id = key->id;
		fc[i].m.key_id_len = key->id_len;
		memcpy(fc[i].m.handle, com[i].handle, sizeof(fc[i].m.handle));
		fc[i].m.msg = msg;
		fc[i].m.msg_len = len;
		list_entry(&fc[i].m.list[0], 1, &com[0]);
		list_entry(&fc[i].m.list[1], 2, &com[1]);
	}
	if (halves_init(h) != 0)
		return LURK_ERR_ALLOC;
	for (int i = 0; i < 2; i++) {
		h[i].build = build_fsign;
		h[i].ctx = &fc[i];
	}
	both(cc, h, deadline);
	for (int i = 0; i < 2; i++) {
		struct lurk_wire_frost_sign_resp sr;
		struct lurk_wire_error e;
		if ((r[i] = h[i].r) != 0)
			continue;
		r[i] = answer(cc, &h[i], i, LURK_WIRE_FROST_SIGN_RESP, "frost-sign", key, &e);
		if (r[i] == STALE) {
			lurk_info("split key %s: server %s no longer knows our commitment (a "
				  "restart?): fetching new ones",
				key->label, server_name(cc, i));
			flush(s, key, i);
			*again = 1;
		}
		if (r[i] != 0)
			continue;
		if (lurk_wire_frost_sign_resp_parse(&h[i].resp, &sr) != 0) {
			lurk_error("frost-sign with key %s: malformed response", key->label);
			r[i] = LURK_ERR_BAD_FORMAT;
			continue;
		}
		memcpy(z[i], sr.z, sizeof(z[i]));
		if (sr.fresh_count == 1)
			put(s, key, i, &sr.fresh, 1);
	}
	halves_clear(h);
	if ((rv = worst(r[0], r[1])) == STALE)
		return LURK_ERR_PEER; /* retried once; twice is the server's fault */
	if (rv != 0)
		return rv;
	/* Verified against the whole public key: a bad part never leaves as a signature. */
	if ((rv = lurk_frost_aggregate(pk, fc[0].m.list, LURK_FROST_SIGNERS, msg, len, z, sig)) !=
		0) {
		lurk_warn("split key %s: the two parts did not make a valid signature (one of "
			  "servers %s and %s answered wrongly)",
			key->label, server_name(cc, 0), server_name(cc, 1));
		*again = 1;
		return LURK_ERR_CRYPTO;
	}
	return 0;
}

/* ---- RSA: two partial exponentiations ---- */

struct partial_ctx {
	struct lurk_wire_rsa_partial_req m;
};

static int
build_partial(void *ctx, struct lurk_buf *out, uint32_t id)
{
	return lurk_wire_rsa_partial_req_build(out, id, &((struct partial_ctx *)ctx)->m);
}

static const char *
md_name(size_t hash_len)
{
	return hash_len == 32 ? "SHA256" : hash_len == 48 ? "SHA384" : "SHA512";
}

/*
 * em: what the combined signature must verify to. PKCS#1 v1.5: built here
 * for the check and by each lurkd for itself (em_sent 0). PSS: built here
 * with a fresh salt and sent, each lurkd checks it.
 */
static int
encode(const struct lurk_wire_key *key, uint32_t mech, const struct lurk_wire_param *param,
	const uint8_t *data, size_t len, const BIGNUM *n, uint8_t *em, size_t k, size_t *em_sent)
{
	const struct lurk_hash_info *hi;
	uint8_t salt[64];
	int r;

	if (mech == CKM_RSA_PKCS) {
		*em_sent = 0;
		if (param->kind != LURK_WIRE_PARAM_NONE ||
			lurk_rsa_pkcs1_encode(data, len, em, k) != 0) {
			lurk_warn(
				"sign with split key %s: CKM_RSA_PKCS needs a SHA-256, SHA-384 or "
				"SHA-512 DigestInfo",
				key->label);
			return LURK_ERR_POLICY;
		}
		return 0;
	}
	hi = param->kind == LURK_WIRE_PARAM_PSS ? lurk_hash_by_ckm(param->u.pss.hash) : NULL;
	if (hi == NULL || !lurk_tls_hash_len(hi->len) || param->u.pss.mgf != hi->pss_mgf ||
		param->u.pss.slen != hi->len || len != hi->len) {
		lurk_warn("sign with split key %s: PSS as TLS uses it only (SHA-256/384/512, MGF1 "
			  "of the same hash, salt of its length, the hash given)",
			key->label);
		return LURK_ERR_MECHANISM;
	}
	randombytes_buf(salt, hi->len);
	r = lurk_rsa_pss_encode(md_name(hi->len), data, salt, n, em, k);
	*em_sent = k;
	return r == 0 ? 0 : LURK_ERR_INTERNAL;
}

static int
rsa(struct lc_core *cc, const struct lurk_wire_key *key, uint32_t mech,
	const struct lurk_wire_param *param, const uint8_t *data, size_t len, uint8_t *sig,
	size_t *sig_len, int64_t deadline, int *again)
{
	const uint8_t *q = key->spki;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &q, (long)key->spki_len);
	BIGNUM *n = NULL, *e = NULL;
	uint8_t em[RSA_MAX_BYTES], part[2][RSA_MAX_BYTES];
	struct partial_ctx pc;
	struct half h[2];
	size_t k = 0, em_sent = 0;
	int r[2] = {0, 0}, rv = LURK_ERR_BAD_FORMAT;

	if (pub == NULL || !EVP_PKEY_get_bn_param(pub, "n", &n) ||
		!EVP_PKEY_get_bn_param(pub, "e", &e) || (k = (size_t)BN_num_bytes(n)) < 256 ||
		k > RSA_MAX_BYTES) {
		lurk_error("split key %s: not an RSA public key of 2048 to 8192 bits", key->label);
		goto out;
	}
	if (*sig_len < k) {
		lurk_error("sign with split key %s: %zu bytes of room for a %zu-byte signature",
			key->label, *sig_len, k);
		goto out;
	}
	if ((rv = encode(key, mech, param, data, len, n, em, k, &em_sent)) != 0)
		goto out;
	memset(&pc, 0, sizeof(pc));
	pc.m = (struct lurk_wire_rsa_partial_req){
		key->id, key->id_len, mech, *param, data, len, em, em_sent};
	if ((rv = halves_init(h)) != 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		h[i].build = build_partial;
		h[i].ctx = &pc;
	}
	both(cc, h, deadline);
	for (int i = 0; i < 2; i++) {
		struct lurk_wire_rsa_partial_resp pr;
		struct lurk_wire_error er;
		if ((r[i] = h[i].r) != 0 || (r[i] = answer(cc, &h[i], i, LURK_WIRE_RSA_PARTIAL_RESP,
						     "rsa-partial", key, &er)) != 0)
			continue;
		if (lurk_wire_rsa_partial_resp_parse(&h[i].resp, &pr) != 0 || pr.partial_len != k) {
			lurk_error("rsa-partial with key %s: malformed response", key->label);
			r[i] = LURK_ERR_BAD_FORMAT;
			continue;
		}
		memcpy(part[i], pr.partial, k);
	}
	halves_clear(h);
	if ((rv = worst(r[0], r[1])) != 0)
		goto out;
	if (lurk_rsa_combine(n, e, em, part[0], part[1], k, sig) != 0) {
		lurk_warn("split key %s: the two parts did not make a valid signature (one of "
			  "servers %s and %s answered wrongly)",
			key->label, server_name(cc, 0), server_name(cc, 1));
		*again = 1;
		rv = LURK_ERR_CRYPTO;
		goto out;
	}
	*sig_len = k;
	rv = 0;
out:
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pub);
	return rv;
}

int
lc_split_sign(struct lc_core *cc, const struct lurk_wire_key *key, uint32_t mech,
	const struct lurk_wire_param *param, const uint8_t *data, size_t len, uint8_t *sig,
	size_t *sig_len)
{
	int64_t deadline = lc_now_ms() + lc_core_conf(cc)->io_timeout_ms;
	struct lurk_wire_param none = {0};
	int r = LURK_ERR_MECHANISM;

	if (param == NULL)
		param = &none;
	if (lc_core_share_pool(cc, 1) == NULL || lc_core_share_pool(cc, 2) == NULL)
		return LURK_ERR_STATE;
	for (int attempt = 0; attempt < 2; attempt++) {
		int again = 0;
		if (key->type == LURK_KEY_ED25519) {
			if (mech != CKM_EDDSA ||
				(param->kind == LURK_WIRE_PARAM_EDDSA &&
					(param->u.eddsa.ph_flag ||
						param->u.eddsa.context_len > 0)) ||
				(param->kind != LURK_WIRE_PARAM_NONE &&
					param->kind != LURK_WIRE_PARAM_EDDSA)) {
				lurk_warn("sign with split key %s: pure Ed25519 (CKM_EDDSA, no "
					  "context) only",
					key->label);
				return LURK_ERR_MECHANISM;
			}
			if (key->spki_len != ED25519_SPKI_LEN || *sig_len < LURK_FROST_SIG_LEN) {
				lurk_error("sign with split key %s: bad key or room", key->label);
				return LURK_ERR_BAD_FORMAT;
			}
			r = frost(cc, key, data, len, sig, deadline, &again);
			if (r == 0)
				*sig_len = LURK_FROST_SIG_LEN;
		} else if (key->type == LURK_KEY_RSA &&
			   (mech == CKM_RSA_PKCS || mech == CKM_RSA_PKCS_PSS)) {
			r = rsa(cc, key, mech, param, data, len, sig, sig_len, deadline, &again);
		} else {
			lurk_warn("sign with split key %s: mechanism 0x%x not offered", key->label,
				(unsigned)mech);
			return LURK_ERR_MECHANISM;
		}
		if (r == LURK_ERR_EOF)
			again = 1; /* a pooled connection the server had closed */
		if (r == 0 || !again || lc_now_ms() >= deadline)
			break;
		lurk_info("split key %s: trying once more%s", key->label,
			r == LURK_ERR_EOF ? "" : " with fresh commitments");
	}
	return r;
}
