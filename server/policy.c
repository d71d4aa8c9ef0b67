/*
 * The usage policy classifier (docs/policy.md): which mechanisms lurk performs
 * for which key type, shape checks where only a hash is visible, and the
 * decryption rule. Content checks are in policy-content.c.
 */
#include "config.h"

#include <string.h>

#include "ckm.h"
#include "compiler.h"
#include "policy-int.h"
#include "policy.h"
#include "tls.h"

enum key_kind {
	KIND_RSA,
	KIND_EC,
	KIND_EDWARDS, /* Ed25519 or Ed448 */
};

enum check {
	SHAPE_DIGEST_INFO, /* CKM_RSA_PKCS over a DigestInfo */
	SHAPE_PSS,         /* CKM_RSA_PKCS_PSS over a hash */
	SHAPE_ECDSA,       /* CKM_ECDSA over a hash */
	CONTENT,           /* whole content: hashed (or not) by the token */
	CONTENT_PSS,       /* whole content, PSS with the mechanism's hash */
	CONTENT_PKCS1,     /* whole content, PKCS#1 v1.5: never in TLS 1.3 */
};

/* The mechanisms lurk performs. Everything else, raw RSA first, is refused. */
static const struct mech {
	uint32_t mech;
	enum key_kind kind;
	enum check check;
} mechs[] = {
	{CKM_RSA_PKCS, KIND_RSA, SHAPE_DIGEST_INFO},
	{CKM_RSA_PKCS_PSS, KIND_RSA, SHAPE_PSS},
	{CKM_ECDSA, KIND_EC, SHAPE_ECDSA},
	{CKM_SHA256_RSA_PKCS, KIND_RSA, CONTENT_PKCS1},
	{CKM_SHA384_RSA_PKCS, KIND_RSA, CONTENT_PKCS1},
	{CKM_SHA512_RSA_PKCS, KIND_RSA, CONTENT_PKCS1},
	{CKM_SHA256_RSA_PKCS_PSS, KIND_RSA, CONTENT_PSS},
	{CKM_SHA384_RSA_PKCS_PSS, KIND_RSA, CONTENT_PSS},
	{CKM_SHA512_RSA_PKCS_PSS, KIND_RSA, CONTENT_PSS},
	{CKM_ECDSA_SHA256, KIND_EC, CONTENT},
	{CKM_ECDSA_SHA384, KIND_EC, CONTENT},
	{CKM_ECDSA_SHA512, KIND_EC, CONTENT},
	{CKM_EDDSA, KIND_EDWARDS, CONTENT},
};

void
lurk_policy_default(struct lurk_policy *p)
{
	p->use = LURK_USE_SERVER;
	p->tls_versions = LURK_TLS12 | LURK_TLS13;
	p->require_content = 0;
	p->rsa_decrypt = 0;
}

static const struct mech *
find_mech(uint32_t mech)
{
	for (size_t i = 0; i < LURK_ARRAY_LEN(mechs); i++)
		if (mechs[i].mech == mech)
			return &mechs[i];
	return NULL;
}

static int
key_fits(enum key_kind kind, enum lurk_key_type kt)
{
	switch (kind) {
	case KIND_RSA:
		return kt == LURK_KEY_RSA;
	case KIND_EC:
		return kt == LURK_KEY_EC;
	case KIND_EDWARDS:
		return kt == LURK_KEY_ED25519 || kt == LURK_KEY_ED448;
	default:
		return 0;
	}
}

/* SHA-1 and MD5+SHA-1 signatures exist only in TLS 1.0 and 1.1. */
static enum lurk_policy_reason
legacy(const struct lurk_policy *p)
{
	if (p->tls_versions & (LURK_TLS10 | LURK_TLS11))
		return LURK_POLICY_ALLOW;
	return LURK_POLICY_LEGACY_HASH;
}

/* The DigestInfo of SHA-256("test text"), gnutls lib/cert-cred.c's key/certificate check. */
static const uint8_t gnutls_key_check[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20, 0x0f, 0x46, 0x73, 0x8e, 0xbe,
	0xd3, 0x70, 0xc5, 0xc5, 0x2e, 0xe0, 0xad, 0x96, 0xde, 0xc8, 0xf4, 0x59, 0xfb, 0x90, 0x1c,
	0x2c, 0xa4, 0xe2, 0x85, 0x21, 0x1e, 0xdd, 0xf9, 0x03, 0xbf, 0x15, 0x98};

/*
 * Exact prefix and length rather than a DER parse: any other encoding of the
 * same DigestInfo (absent NULL, long-form lengths, other parameters) is
 * refused, as no TLS stack produces it. Only the hashes TLS signs count.
 */
static enum lurk_policy_reason
check_digest_info(const struct lurk_policy *p, const uint8_t *d, size_t len)
{
	const struct lurk_hash_info *h;

	if (len == LURK_TLS_MD5_SHA1_LEN)
		return legacy(p);
	if ((h = lurk_hash_by_digest_info(d, len)) == NULL || h->tls == LURK_HASH_USE_NONE)
		return LURK_POLICY_DIGESTINFO;
	/* A whole DigestInfo followed by more bytes is trailing data. */
	if (len - h->di_prefix_len > h->len)
		return LURK_POLICY_TRAILING;
	if (len - h->di_prefix_len < h->len)
		return LURK_POLICY_DIGESTINFO;
	if (h->tls == LURK_HASH_USE_LEGACY)
		return legacy(p);
	/*
	 * A SHA-2 DigestInfo is a TLS 1.2 signature: TLS 1.0/1.1 sign MD5+SHA-1
	 * without one, and TLS 1.3 handshakes never use PKCS#1 v1.5 (RFC 8446
	 * §4.4.3). GnuTLS's key/certificate check at load signs SHA-256("test
	 * text") this way whatever the version: a fixed public message, allowed.
	 */
	if (!(p->tls_versions & LURK_TLS12) &&
		!(len == sizeof(gnutls_key_check) && memcmp(d, gnutls_key_check, len) == 0))
		return LURK_POLICY_TLS_VERSION;
	return LURK_POLICY_ALLOW;
}

/* TLS PSS: MGF1 of the same hash and salt = hash length (RFC 8446 §4.2.3). */
static enum lurk_policy_reason
check_pss_params(const struct lurk_policy_req *req, size_t *hash_len)
{
	const struct lurk_hash_info *h;

	*hash_len = 0;
	/* SHA-1 and every hash without a TLS PSS scheme have no pss_mgf. */
	if (!req->has_pss || (h = lurk_hash_by_ckm(req->pss_hash)) == NULL || h->pss_mgf == 0)
		return LURK_POLICY_PSS_PARAMS;
	*hash_len = h->len;
	if (req->pss_mgf != h->pss_mgf || req->pss_slen != h->len)
		return LURK_POLICY_PSS_PARAMS;
	return LURK_POLICY_ALLOW;
}

static enum lurk_policy_reason
check_shape(const struct lurk_policy *p, const struct mech *m, const struct lurk_policy_req *req)
{
	const struct lurk_hash_info *h;
	enum lurk_policy_reason r;
	size_t hl;

	switch (m->check) {
	case SHAPE_DIGEST_INFO:
		return check_digest_info(p, req->data, req->len);
	case SHAPE_PSS:
		if (!lurk_tls_hash_len(req->len))
			return LURK_POLICY_HASH_LENGTH;
		if ((r = check_pss_params(req, &hl)) != LURK_POLICY_ALLOW)
			return r;
		return hl == req->len ? LURK_POLICY_ALLOW : LURK_POLICY_HASH_LENGTH;
	case SHAPE_ECDSA:
		/* A SHA-1 hash: ECDSA in TLS 1.0/1.1. */
		h = lurk_hash_by_len(req->len);
		if (h != NULL && h->tls == LURK_HASH_USE_LEGACY)
			return legacy(p);
		return lurk_tls_hash_len(req->len) ? LURK_POLICY_ALLOW : LURK_POLICY_HASH_LENGTH;
	default:
		return LURK_POLICY_MECHANISM;
	}
}

/* The message p11tool --test-sign signs (gnutls src/pkcs11.c). */
#define SELF_TEST "Test data to sign"

static enum lurk_policy_reason
check_content(const struct lurk_policy *p, const struct mech *m, const struct lurk_policy_req *req)
{
	enum lurk_policy_content kind;
	enum lurk_policy_reason r;
	size_t hl;

	/* Combined PSS: parameters are optional, but if given they must be its own. */
	if (m->check == CONTENT_PSS && req->has_pss &&
		((r = check_pss_params(req, &hl)) != LURK_POLICY_ALLOW ||
			req->pss_hash != lurk_hash_by_sign_mech(m->mech)->ckm))
		return LURK_POLICY_PSS_PARAMS;
	/*
	 * p11tool --test-sign signs this fixed string: a signature over a public
	 * constant authenticates nothing, and it lets an operator check a key.
	 */
	if (req->len == sizeof(SELF_TEST) - 1 && memcmp(req->data, SELF_TEST, req->len) == 0)
		return LURK_POLICY_ALLOW;
	if ((r = lurk_policy_content_check(p, req->data, req->len, &kind)) != LURK_POLICY_ALLOW)
		return r;
	/* RFC 8446 §4.4.3: RSA signatures in TLS 1.3 CertificateVerify are PSS. */
	if (m->check == CONTENT_PKCS1 && kind == LURK_CONTENT_TLS13_CV)
		return LURK_POLICY_SCHEME;
	return LURK_POLICY_ALLOW;
}

enum lurk_policy_reason
lurk_policy_check_sign(const struct lurk_policy *p, const struct lurk_policy_req *req)
{
	const struct mech *m;

	if ((m = find_mech(req->mech)) == NULL)
		return LURK_POLICY_MECHANISM;
	if (!key_fits(m->kind, req->key_type))
		return LURK_POLICY_KEY_TYPE;
	if (req->data == NULL && req->len != 0)
		return LURK_POLICY_NOT_TLS;
	switch (m->check) {
	case SHAPE_DIGEST_INFO:
	case SHAPE_PSS:
	case SHAPE_ECDSA:
		if (p->require_content)
			return LURK_POLICY_CONTENT_REQUIRED;
		if (req->has_pss && m->check != SHAPE_PSS)
			return LURK_POLICY_PSS_PARAMS;
		return check_shape(p, m, req);
	case CONTENT_PSS:
		return check_content(p, m, req);
	default:
		/* PSS parameters on a mechanism that is not PSS: no TLS stack sends them. */
		if (req->has_pss)
			return LURK_POLICY_PSS_PARAMS;
		return check_content(p, m, req);
	}
}

enum lurk_policy_reason
lurk_policy_check_decrypt(const struct lurk_policy *p, enum lurk_key_type key_type,
	size_t modulus_len, uint32_t mech, size_t ct_len)
{
	if (key_type != LURK_KEY_RSA)
		return LURK_POLICY_KEY_TYPE;
	if (mech != CKM_RSA_PKCS)
		return LURK_POLICY_MECHANISM;
	if (!p->rsa_decrypt)
		return LURK_POLICY_DECRYPT_OFF;
	if (ct_len != modulus_len)
		return LURK_POLICY_CIPHERTEXT_LEN;
	return LURK_POLICY_ALLOW;
}

const char *
lurk_policy_reason_str(enum lurk_policy_reason r)
{
	static const char *const names[LURK_POLICY_LAST] = {
		[LURK_POLICY_ALLOW] = "allowed",
		[LURK_POLICY_MECHANISM] = "mechanism not allowed (raw RSA or unknown)",
		[LURK_POLICY_KEY_TYPE] = "mechanism does not fit the key type",
		[LURK_POLICY_CONTENT_REQUIRED] = "key requires whole content, got a bare hash",
		[LURK_POLICY_NOT_TLS] = "not a TLS handshake signature input",
		[LURK_POLICY_CLIENT_CONTEXT] = "client signature on a server-only key",
		[LURK_POLICY_SERVER_CONTEXT] = "server signature on a client-only key",
		[LURK_POLICY_HASH_LENGTH] = "hash length TLS does not use",
		[LURK_POLICY_TRAILING] = "trailing bytes after the TLS structure",
		[LURK_POLICY_DIGESTINFO] = "DigestInfo not SHA-256/384/512 in DER",
		[LURK_POLICY_LEGACY_HASH] = "SHA-1 or MD5+SHA-1 without TLS 1.0/1.1 enabled",
		[LURK_POLICY_PSS_PARAMS] = "PSS parameters TLS does not use",
		[LURK_POLICY_TLS_VERSION] = "TLS version not enabled for this key",
		[LURK_POLICY_GROUP] = "key exchange group not allowed",
		[LURK_POLICY_PUBLIC_VALUE] = "malformed key share",
		[LURK_POLICY_DH_PARAMS] = "unreasonable DH parameters",
		[LURK_POLICY_DECRYPT_OFF] = "RSA key-exchange decryption not enabled",
		[LURK_POLICY_CIPHERTEXT_LEN] = "ciphertext is not the modulus length",
		[LURK_POLICY_SCHEME] = "PKCS#1 v1.5 signature over TLS 1.3 content",
	};

	if ((unsigned)r >= LURK_POLICY_LAST || names[r] == NULL)
		return "unknown reason";
	return names[r];
}
