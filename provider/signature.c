/*
 * Signatures by lurkd. libssl signs with EVP_DigestSign over the whole
 * to-be-signed content (a TLS 1.3 CertificateVerify input, a TLS 1.2
 * ServerKeyExchange block): digest_sign and digest_sign_update/final
 * collect that content, bounded, and send it with the mechanism that
 * hashes it in lurkd (CKM_SHA256_RSA_PKCS_PSS, CKM_ECDSA_SHA384,
 * CKM_EDDSA, ...), so lurkd's policy sees what it signs.
 *
 * digest_sign_init runs while libssl picks a signature algorithm, once per
 * candidate hash: it never reaches lurkd, and refusing a hash (SHA-1,
 * SHA-224, MD5-SHA1) only drops that candidate.
 *
 * sign over a bare hash is offered for callers that hash themselves
 * (openssl pkeyutl): it goes with the hash-only mechanisms (CKM_ECDSA,
 * CKM_RSA_PKCS over a DigestInfo, CKM_RSA_PKCS_PSS), which lurkd refuses
 * for keys that require content.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "ckm.h"
#include "client/ops.h"
#include "mem.h"
#include "provider.h"

struct sig_ctx {
	struct lprov_ctx *pc;
	struct lprov_key *key;
	enum lurk_key_type type;
	int digest_sign;                  /* 1: content; 0: sign over a hash */
	const struct lurk_hash_info *md;  /* NULL: Ed25519, or a hash-only sign by length */
	const struct lurk_hash_info *mgf; /* NULL: MGF1 with md */
	int pad;                          /* RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING */
	int saltlen;                      /* RSA_PSS_SALTLEN_* or a length */
	uint8_t *buf;                     /* the content so far (digest_sign_update) */
	size_t len, cap;
};

static void
buf_clear(struct sig_ctx *c)
{
	if (c->buf != NULL)
		lurk_wipe(c->buf, c->cap); /* the content may be secret to someone */
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void *
newctx(void *provctx, const char *propq, enum lurk_key_type type)
{
	struct sig_ctx *c = calloc(1, sizeof(*c));

	(void)propq;
	if (c == NULL)
		return NULL;
	c->pc = provctx;
	c->type = type;
	return c;
}

static void *
rsa_newctx(void *provctx, const char *propq)
{
	return newctx(provctx, propq, LURK_KEY_RSA);
}

static void *
ecdsa_newctx(void *provctx, const char *propq)
{
	return newctx(provctx, propq, LURK_KEY_EC);
}

static void *
ed25519_newctx(void *provctx, const char *propq)
{
	return newctx(provctx, propq, LURK_KEY_ED25519);
}

static void
freectx(void *vctx)
{
	struct sig_ctx *c = vctx;

	if (c == NULL)
		return;
	buf_clear(c);
	free(c);
}

/* EVP_DigestSignFinal signs on a copy of the context: the content comes along. */
static void *
dupctx(void *vctx)
{
	struct sig_ctx *c = vctx, *d = malloc(sizeof(*d));

	if (d == NULL)
		return NULL;
	*d = *c;
	d->buf = NULL;
	if (c->buf != NULL) {
		if ((d->buf = malloc(c->cap)) == NULL) {
			free(d);
			return NULL;
		}
		memcpy(d->buf, c->buf, c->len);
	}
	return d;
}

static int
pad_from_param(const OSSL_PARAM *p, int *pad)
{
	const char *s;

	if (p->data_type == OSSL_PARAM_UTF8_STRING) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
			return 0;
		if (strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0)
			*pad = RSA_PKCS1_PADDING;
		else if (strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0)
			*pad = RSA_PKCS1_PSS_PADDING;
		else
			return 0;
		return 1;
	}
	return OSSL_PARAM_get_int(p, pad) &&
	       (*pad == RSA_PKCS1_PADDING || *pad == RSA_PKCS1_PSS_PADDING);
}

static int
saltlen_from_param(const OSSL_PARAM *p, int *saltlen)
{
	const char *s;
	char *end;
	long v;

	if (p->data_type != OSSL_PARAM_UTF8_STRING)
		return OSSL_PARAM_get_int(p, saltlen) && *saltlen >= RSA_PSS_SALTLEN_MAX;
	if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
		return 0;
	if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0)
		*saltlen = RSA_PSS_SALTLEN_DIGEST;
	else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0)
		*saltlen = RSA_PSS_SALTLEN_MAX;
	else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0)
		*saltlen = RSA_PSS_SALTLEN_AUTO;
	else {
		v = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || v < 0 || v > LURK_WIRE_MAX_SIGNATURE)
			return 0;
		*saltlen = (int)v;
	}
	return 1;
}

static int
set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct sig_ctx *c = vctx;
	const OSSL_PARAM *p;
	const char *s;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL) {
		if (c->type == LURK_KEY_ED25519 || !OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
			(c->md = lprov_hash_by_name(c->pc, s)) == NULL) {
			lprov_raise(c->pc, LPROV_R_DIGEST,
				"lurk signs with SHA-256, SHA-384 or SHA-512");
			return 0;
		}
	}
	if (c->type != LURK_KEY_RSA)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL &&
		!pad_from_param(p, &c->pad)) {
		lprov_raise(
			c->pc, LPROV_R_PARAM, "lurk signs with PKCS#1 v1.5 or PSS padding only");
		return 0;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL &&
		!saltlen_from_param(p, &c->saltlen)) {
		lprov_raise(c->pc, LPROV_R_PARAM, "bad PSS salt length");
		return 0;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
			(c->mgf = lprov_hash_by_name(c->pc, s)) == NULL) {
			lprov_raise(c->pc, LPROV_R_DIGEST,
				"lurk's MGF1 is SHA-256, SHA-384 or SHA-512");
			return 0;
		}
	}
	return 1;
}

/*
 * Every key libssl's ctrl translation may set must be listed, or
 * EVP_PKEY_CTX_set_rsa_padding fails the handshake (strict check).
 */
static const OSSL_PARAM *
settable_ctx_params(void *vctx, void *provctx)
{
	static const OSSL_PARAM p[] = {
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_PROPERTIES, NULL, 0),
		OSSL_PARAM_END,
	};
	(void)vctx;
	(void)provctx;
	return p;
}

static int
get_ctx_params(void *vctx, OSSL_PARAM params[])
{
	struct sig_ctx *c = vctx;
	OSSL_PARAM *p;

	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
		!OSSL_PARAM_set_utf8_string(p, c->md != NULL ? c->md->name : ""))
		return 0;
	if (c->type != LURK_KEY_RSA)
		return 1;
	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL &&
		!OSSL_PARAM_set_int(p, c->pad))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL &&
		!OSSL_PARAM_set_int(p, c->saltlen))
		return 0;
	return 1;
}

static const OSSL_PARAM *
gettable_ctx_params(void *vctx, void *provctx)
{
	static const OSSL_PARAM p[] = {
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL),
		OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL),
		OSSL_PARAM_END,
	};
	(void)vctx;
	(void)provctx;
	return p;
}

/* Both inits: no network, every setting back to its default (PKCS#1 sends no pad-mode). */
static int
init(struct sig_ctx *c, const char *mdname, void *vkey, const OSSL_PARAM params[], int content)
{
	struct lprov_key *k = vkey;

	if (k != NULL) {
		if (k->type != c->type || k->core == NULL) {
			lprov_raise(c->pc, LPROV_R_NOT_PRIVATE, "not a private key lurkd holds");
			return 0;
		}
		c->key = k;
	}
	if (c->key == NULL)
		return 0;
	buf_clear(c);
	c->digest_sign = content;
	c->md = c->mgf = NULL;
	c->pad = RSA_PKCS1_PADDING;
	c->saltlen = RSA_PSS_SALTLEN_DIGEST;
	if (mdname != NULL && *mdname != '\0') {
		if (c->type == LURK_KEY_ED25519 ||
			(c->md = lprov_hash_by_name(c->pc, mdname)) == NULL) {
			lprov_raise(c->pc, LPROV_R_DIGEST,
				"%s: lurk signs with SHA-256, SHA-384 or SHA-512 only", mdname);
			return 0;
		}
	} else if (content && c->type != LURK_KEY_ED25519) {
		c->md = lurk_hash_by_id(LURK_HASH_SHA256);
	}
	return set_ctx_params(c, params);
}

static int
digest_sign_init(void *vctx, const char *mdname, void *vkey, const OSSL_PARAM params[])
{
	return init(vctx, mdname, vkey, params, 1);
}

static int
sign_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
	return init(vctx, NULL, vkey, params, 0);
}

/* ECDSA: lurkd answers r‖s (PKCS#11), OpenSSL wants a DER ECDSA-Sig-Value. */
static int
ecdsa_der(struct sig_ctx *c, const uint8_t *rs, size_t n, unsigned char *sig, size_t *siglen,
	size_t sigsize)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = sig;
	int len = -1;

	if (es != NULL && n % 2 == 0 && n > 0) {
		r = BN_bin2bn(rs, (int)(n / 2), NULL);
		s = BN_bin2bn(rs + n / 2, (int)(n / 2), NULL);
		if (r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s)) {
			r = s = NULL;
			if ((size_t)i2d_ECDSA_SIG(es, NULL) <= sigsize)
				len = i2d_ECDSA_SIG(es, &p);
			else
				lprov_raise(c->pc, LPROV_R_BUFFER, "signature buffer too small");
		}
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	if (len <= 0)
		return 0;
	*siglen = (size_t)len;
	return 1;
}

/* The mechanism and its parameter for this context and data; 0: raised. */
static int
pick_mech(struct sig_ctx *c, size_t len, uint32_t *mech, struct lurk_wire_param *param)
{
	const struct lurk_hash_info *h = c->md;
	size_t bytes;
	int slen;

	memset(param, 0, sizeof(*param));
	if (c->type == LURK_KEY_ED25519) {
		*mech = CKM_EDDSA;
		return 1;
	}
	if (!c->digest_sign) {
		/* A bare hash: its length says which, unless the caller said. */
		if (h == NULL)
			h = lurk_hash_by_len(len);
		if (h == NULL || h->len != len || h->pss_mgf == 0) {
			lprov_raise(
				c->pc, LPROV_R_DIGEST, "not a SHA-256, SHA-384 or SHA-512 hash");
			return 0;
		}
		c->md = h;
	}
	if (c->type == LURK_KEY_EC) {
		*mech = c->digest_sign ? h->ckm_ecdsa : CKM_ECDSA;
		return 1;
	}
	if (c->pad == RSA_PKCS1_PADDING) {
		*mech = c->digest_sign ? h->ckm_rsa_pkcs : CKM_RSA_PKCS;
		return 1;
	}
	bytes = (size_t)EVP_PKEY_get_size(c->key->pub);
	slen = c->saltlen;
	if (slen == RSA_PSS_SALTLEN_DIGEST)
		slen = (int)h->len;
	else if (slen < 0) /* max or auto: as long as the modulus allows (lurkd refuses it) */
		slen = (int)(bytes - h->len - 2);
	*mech = c->digest_sign ? h->ckm_rsa_pss : CKM_RSA_PKCS_PSS;
	param->kind = LURK_WIRE_PARAM_PSS;
	param->u.pss.hash = h->ckm;
	param->u.pss.mgf = (c->mgf != NULL ? c->mgf : h)->pss_mgf;
	param->u.pss.slen = (uint32_t)slen;
	return 1;
}

/* One signature by lurkd over data (content, or a hash for sign). */
static int
remote_sign(struct sig_ctx *c, unsigned char *sig, size_t *siglen, size_t sigsize,
	const unsigned char *tbs, size_t tbslen)
{
	uint8_t raw[LURK_WIRE_MAX_SIGNATURE];
	uint8_t di[LURK_DIGEST_INFO_MAX_PFX + LURK_HASH_MAX_LEN];
	const struct lurk_wire_key *wk;
	struct lurk_wire_param param;
	const uint8_t *data = tbs;
	size_t n = sizeof(raw);
	uint32_t mech;
	int r, ok = 0;

	if (tbslen > LPROV_MAX_TBS) {
		lprov_raise(c->pc, LPROV_R_TOO_LARGE, "%zu bytes to sign, lurk takes at most %u",
			tbslen, LPROV_MAX_TBS);
		return 0;
	}
	if (!pick_mech(c, tbslen, &mech, &param) || (wk = lprov_key_remote(c->key)) == NULL)
		return 0;
	if (mech == CKM_RSA_PKCS) {
		memcpy(di, c->md->di_prefix, c->md->di_prefix_len);
		memcpy(di + c->md->di_prefix_len, tbs, tbslen);
		data = di;
		tbslen += c->md->di_prefix_len;
	}
	lprov_log_mark();
	r = lc_sign(lprov_core_use(c->pc, c->key->core), wk, mech, &param, data, tbslen, raw, &n);
	if (r != 0) {
		lprov_raise_lurk(c->pc, r, "sign", c->key->label);
	} else if (c->type == LURK_KEY_EC) {
		ok = ecdsa_der(c, raw, n, sig, siglen, sigsize);
	} else if (n > sigsize) {
		lprov_raise(c->pc, LPROV_R_BUFFER, "signature buffer too small");
	} else {
		memcpy(sig, raw, n);
		*siglen = n;
		ok = 1;
	}
	lurk_wipe(di, sizeof(di));
	return ok;
}

static int
digest_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
	const unsigned char *tbs, size_t tbslen)
{
	struct sig_ctx *c = vctx;

	if (c->key == NULL || !c->digest_sign)
		return 0;
	/* The size query (sig NULL) is answered here: max-size, no lurkd. */
	if (sig == NULL) {
		*siglen = (size_t)EVP_PKEY_get_size(c->key->pub);
		return 1;
	}
	return remote_sign(c, sig, siglen, sigsize, tbs, tbslen);
}

static int
digest_sign_update(void *vctx, const unsigned char *data, size_t len)
{
	struct sig_ctx *c = vctx;
	size_t cap;
	uint8_t *nb;

	if (c->key == NULL || !c->digest_sign)
		return 0;
	if (len > LPROV_MAX_TBS - c->len) {
		lprov_raise(c->pc, LPROV_R_TOO_LARGE, "more than %u bytes to sign", LPROV_MAX_TBS);
		return 0;
	}
	if (c->len + len > c->cap) {
		cap = c->cap ? c->cap : 256;
		while (cap < c->len + len)
			cap *= 2;
		if (cap > LPROV_MAX_TBS)
			cap = LPROV_MAX_TBS;
		/* A new buffer, the old one wiped: no copy of the content left behind. */
		if ((nb = malloc(cap)) == NULL)
			return 0;
		if (c->len > 0)
			memcpy(nb, c->buf, c->len);
		if (c->buf != NULL)
			lurk_wipe(c->buf, c->cap);
		free(c->buf);
		c->buf = nb;
		c->cap = cap;
	}
	if (len > 0)
		memcpy(c->buf + c->len, data, len);
	c->len += len;
	return 1;
}

static int
digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize)
{
	struct sig_ctx *c = vctx;
	int ok;

	if (c->key == NULL || !c->digest_sign)
		return 0;
	if (sig == NULL) {
		*siglen = (size_t)EVP_PKEY_get_size(c->key->pub);
		return 1;
	}
	ok = remote_sign(
		c, sig, siglen, sigsize, c->buf != NULL ? c->buf : (const uint8_t *)"", c->len);
	buf_clear(c);
	return ok;
}

static int
sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize, const unsigned char *tbs,
	size_t tbslen)
{
	struct sig_ctx *c = vctx;

	if (c->key == NULL || c->digest_sign)
		return 0;
	if (sig == NULL) {
		*siglen = (size_t)EVP_PKEY_get_size(c->key->pub);
		return 1;
	}
	return remote_sign(c, sig, siglen, sigsize, tbs, tbslen);
}

#define FN(id, f)                                                                                  \
	{                                                                                          \
		OSSL_FUNC_SIGNATURE_##id, (void (*)(void))(f)                                      \
	}
#define COMMON_FNS                                                                                 \
	FN(FREECTX, freectx), FN(DUPCTX, dupctx), FN(DIGEST_SIGN_INIT, digest_sign_init),          \
		FN(DIGEST_SIGN, digest_sign), FN(SET_CTX_PARAMS, set_ctx_params),                  \
		FN(SETTABLE_CTX_PARAMS, settable_ctx_params), FN(GET_CTX_PARAMS, get_ctx_params),  \
		FN(GETTABLE_CTX_PARAMS, gettable_ctx_params)
#define STREAM_FNS                                                                                 \
	FN(DIGEST_SIGN_UPDATE, digest_sign_update), FN(DIGEST_SIGN_FINAL, digest_sign_final),      \
		FN(SIGN_INIT, sign_init), FN(SIGN, sign)

const OSSL_DISPATCH lprov_rsa_signature[] = {
	FN(NEWCTX, rsa_newctx),
	COMMON_FNS,
	STREAM_FNS,
	{0, NULL},
};

const OSSL_DISPATCH lprov_ecdsa_signature[] = {
	FN(NEWCTX, ecdsa_newctx),
	COMMON_FNS,
	STREAM_FNS,
	{0, NULL},
};

/* Ed25519 signs in one go (RFC 8032): no streaming, no hash. */
const OSSL_DISPATCH lprov_ed25519_signature[] = {
	FN(NEWCTX, ed25519_newctx),
	COMMON_FNS,
	{0, NULL},
};
