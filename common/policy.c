/*
 * The usage policy classifier (DESIGN.md §5): content checks where the whole
 * signed content is visible, shape checks where only a hash is.
 */
#include "config.h"

#include <string.h>

#include "ckm.h"
#include "policy.h"

#define TLS13_PAD_LEN 64

static const char tls13_server_ctx[] = "TLS 1.3, server CertificateVerify";
static const char tls13_client_ctx[] = "TLS 1.3, client CertificateVerify";

/* DigestInfo encodings TLS produces, byte for byte (RFC 8017 §9.2 note 1). */
static const uint8_t di_sha1[] = {
	0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
static const uint8_t di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t di_sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
static const uint8_t di_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

void
lurk_policy_default(struct lurk_policy *p)
{
	p->use = LURK_USE_SERVER;
	p->tls_versions = LURK_TLS12 | LURK_TLS13;
	p->require_content = 0;
	p->rsa_decrypt = 0;
}

static int
legacy_ok(const struct lurk_policy *p)
{
	return (p->tls_versions & (LURK_TLS10 | LURK_TLS11)) != 0;
}

static int
is_tls_hash_len(size_t n)
{
	return n == 32 || n == 48 || n == 64;
}

/* TLS 1.3 CertificateVerify input: 64 x 0x20, context, 0x00, transcript hash. */
static enum lurk_policy_reason
check_tls13(const struct lurk_policy *p, const uint8_t *d, size_t len)
{
	size_t ctx_len = sizeof(tls13_server_ctx) - 1, off = TLS13_PAD_LEN + ctx_len + 1;
	int server;

	if (len < off)
		return LURK_POLICY_NOT_TLS;
	if (memcmp(d + TLS13_PAD_LEN, tls13_server_ctx, ctx_len) == 0)
		server = 1;
	else if (memcmp(d + TLS13_PAD_LEN, tls13_client_ctx, ctx_len) == 0)
		server = 0;
	else
		return LURK_POLICY_NOT_TLS;
	if (d[off - 1] != 0x00)
		return LURK_POLICY_NOT_TLS;
	if (server && !(p->use & LURK_USE_SERVER))
		return LURK_POLICY_SERVER_CONTEXT;
	if (!server && !(p->use & LURK_USE_CLIENT))
		return LURK_POLICY_CLIENT_CONTEXT;
	if (!(p->tls_versions & LURK_TLS13))
		return LURK_POLICY_TLS_VERSION;
	/* Past the longest transcript hash is trailing data; short of it, a wrong length. */
	if (len - off > 64)
		return LURK_POLICY_TRAILING;
	if (!is_tls_hash_len(len - off))
		return LURK_POLICY_HASH_LENGTH;
	return LURK_POLICY_ALLOW;
}

/* The public value of a named group: exact length and encoding. */
static enum lurk_policy_reason
check_ecdh_point(uint16_t group, const uint8_t *v, size_t n)
{
	size_t want;
	int uncompressed = 1;

	switch (group) {
	case 0x0017: /* secp256r1 */
		want = 65;
		break;
	case 0x0018: /* secp384r1 */
		want = 97;
		break;
	case 0x0019: /* secp521r1 */
		want = 133;
		break;
	case 0x001d: /* x25519 */
		want = 32;
		uncompressed = 0;
		break;
	case 0x001e: /* x448 */
		want = 56;
		uncompressed = 0;
		break;
	default:
		return LURK_POLICY_GROUP;
	}
	if (n != want)
		return LURK_POLICY_PUBLIC_VALUE;
	if (uncompressed && v[0] != 0x04)
		return LURK_POLICY_PUBLIC_VALUE;
	if (!uncompressed) {
		uint8_t acc = 0;
		for (size_t i = 0; i < n; i++)
			acc |= v[i];
		if (acc == 0)
			return LURK_POLICY_PUBLIC_VALUE;
	}
	return LURK_POLICY_ALLOW;
}

static int
get_u16(const uint8_t *d, size_t len, size_t *off, size_t *v)
{
	if (len - *off < 2)
		return -1;
	*v = (size_t)d[*off] << 8 | d[*off + 1];
	*off += 2;
	return 0;
}

/*
 * ServerDHParams: three u16-length values p, g, Ys. Structure first (anything
 * that does not parse is not TLS), then sizes: p of 2048-8192 bits with no
 * leading zero, g and Ys no longer than p.
 */
static enum lurk_policy_reason
check_dh(const uint8_t *d, size_t len, size_t off)
{
	size_t lens[3], starts[3];

	for (int i = 0; i < 3; i++) {
		if (get_u16(d, len, &off, &lens[i]) != 0 || lens[i] == 0 || len - off < lens[i])
			return LURK_POLICY_NOT_TLS;
		starts[i] = off;
		off += lens[i];
	}
	if (off != len)
		return LURK_POLICY_TRAILING;
	if (lens[0] < 256 || lens[0] > 1024 || d[starts[0]] == 0 || lens[1] > lens[0] ||
		lens[2] > lens[0])
		return LURK_POLICY_DH_PARAMS;
	return LURK_POLICY_ALLOW;
}

/* TLS 1.0-1.2 ServerKeyExchange signed content: randoms then ECDH or DH params. */
static enum lurk_policy_reason
check_ske(const struct lurk_policy *p, const uint8_t *d, size_t len)
{
	size_t off = 64, n;
	uint16_t group;
	enum lurk_policy_reason r;

	if (len < off + 4)
		return LURK_POLICY_NOT_TLS;
	if (d[off] == 0x03) {
		/* ServerECDHParams: named_curve, group, opaque point<1..255>. */
		group = (uint16_t)(d[off + 1] << 8 | d[off + 2]);
		n = d[off + 3];
		off += 4;
		if (n == 0 || len - off < n)
			return LURK_POLICY_NOT_TLS;
		if ((r = check_ecdh_point(group, d + off, n)) != LURK_POLICY_ALLOW)
			return r;
		off += n;
		if (off != len)
			return LURK_POLICY_TRAILING;
	} else {
		if ((r = check_dh(d, len, off)) != LURK_POLICY_ALLOW)
			return r;
	}
	if (!(p->use & LURK_USE_SERVER))
		return LURK_POLICY_SERVER_CONTEXT;
	if (!(p->tls_versions & (LURK_TLS10 | LURK_TLS11 | LURK_TLS12)))
		return LURK_POLICY_TLS_VERSION;
	return LURK_POLICY_ALLOW;
}

/* Whole signed content: it must be one of the TLS handshake signature inputs. */
static enum lurk_policy_reason
check_content(const struct lurk_policy *p, const uint8_t *d, size_t len)
{
	size_t i;

	if (len >= TLS13_PAD_LEN + 1) {
		for (i = 0; i < TLS13_PAD_LEN && d[i] == 0x20; i++)
			;
		/* 64 random bytes all 0x20 followed by 'T': treat as TLS 1.3. */
		if (i == TLS13_PAD_LEN && d[TLS13_PAD_LEN] == 'T')
			return check_tls13(p, d, len);
	}
	return check_ske(p, d, len);
}

static enum lurk_policy_reason
check_digest_info(const struct lurk_policy *p, const uint8_t *d, size_t len)
{
	static const struct {
		const uint8_t *prefix;
		size_t prefix_len, hash_len;
		int legacy;
	} dis[] = {
		{di_sha256, sizeof(di_sha256), 32, 0},
		{di_sha384, sizeof(di_sha384), 48, 0},
		{di_sha512, sizeof(di_sha512), 64, 0},
		{di_sha1, sizeof(di_sha1), 20, 1},
	};

	if (len == 36) /* TLS 1.0/1.1: MD5 || SHA-1, no DigestInfo */
		return legacy_ok(p) ? LURK_POLICY_ALLOW : LURK_POLICY_LEGACY_HASH;
	for (size_t i = 0; i < sizeof(dis) / sizeof(dis[0]); i++) {
		if (len < dis[i].prefix_len || memcmp(d, dis[i].prefix, dis[i].prefix_len) != 0)
			continue;
		if (len - dis[i].prefix_len > dis[i].hash_len)
			return LURK_POLICY_TRAILING;
		if (len - dis[i].prefix_len < dis[i].hash_len)
			return LURK_POLICY_DIGESTINFO;
		if (dis[i].legacy && !legacy_ok(p))
			return LURK_POLICY_LEGACY_HASH;
		return LURK_POLICY_ALLOW;
	}
	return LURK_POLICY_DIGESTINFO;
}

/* hashAlg -> (MGF1 of it, its length); 0 when not a TLS hash. */
static size_t
pss_hash_len(uint32_t hash, uint32_t *mgf)
{
	switch (hash) {
	case CKM_SHA256:
		*mgf = CKG_MGF1_SHA256;
		return 32;
	case CKM_SHA384:
		*mgf = CKG_MGF1_SHA384;
		return 48;
	case CKM_SHA512:
		*mgf = CKG_MGF1_SHA512;
		return 64;
	default:
		*mgf = 0;
		return 0;
	}
}

static enum lurk_policy_reason
check_pss_params(const struct lurk_policy_req *req, size_t want_len)
{
	uint32_t mgf;
	size_t hl;

	if (!req->has_pss)
		return LURK_POLICY_PSS_PARAMS;
	if ((hl = pss_hash_len(req->pss_hash, &mgf)) == 0)
		return LURK_POLICY_PSS_PARAMS;
	if (want_len != 0 && hl != want_len)
		return LURK_POLICY_HASH_LENGTH;
	if (req->pss_mgf != mgf || req->pss_slen != hl)
		return LURK_POLICY_PSS_PARAMS;
	return LURK_POLICY_ALLOW;
}

/* Which key types a mechanism needs; 0 for mechanisms lurk never performs. */
static int
mech_key_type(uint32_t mech, int *content)
{
	*content = 0;
	switch (mech) {
	case CKM_RSA_PKCS:
	case CKM_RSA_PKCS_PSS:
		return LURK_KEY_RSA;
	case CKM_SHA256_RSA_PKCS:
	case CKM_SHA384_RSA_PKCS:
	case CKM_SHA512_RSA_PKCS:
	case CKM_SHA256_RSA_PKCS_PSS:
	case CKM_SHA384_RSA_PKCS_PSS:
	case CKM_SHA512_RSA_PKCS_PSS:
		*content = 1;
		return LURK_KEY_RSA;
	case CKM_ECDSA:
		return LURK_KEY_EC;
	case CKM_ECDSA_SHA256:
	case CKM_ECDSA_SHA384:
	case CKM_ECDSA_SHA512:
		*content = 1;
		return LURK_KEY_EC;
	case CKM_EDDSA:
		*content = 1;
		return LURK_KEY_ED25519;
	default:
		return 0;
	}
}

enum lurk_policy_reason
lurk_policy_check_sign(const struct lurk_policy *p, const struct lurk_policy_req *req)
{
	enum lurk_policy_reason r;
	int content, want;

	want = mech_key_type(req->mech, &content);
	if (want == 0)
		return LURK_POLICY_MECHANISM;
	if (want == LURK_KEY_ED25519
			? (req->key_type != LURK_KEY_ED25519 && req->key_type != LURK_KEY_ED448)
			: (int)req->key_type != want)
		return LURK_POLICY_KEY_TYPE;
	if (req->data == NULL && req->len != 0)
		return LURK_POLICY_NOT_TLS;
	if (content) {
		/* Combined PSS: parameters, when given, must match the mechanism's hash. */
		if (req->mech == CKM_SHA256_RSA_PKCS_PSS || req->mech == CKM_SHA384_RSA_PKCS_PSS ||
			req->mech == CKM_SHA512_RSA_PKCS_PSS) {
			size_t hl = req->mech == CKM_SHA256_RSA_PKCS_PSS   ? 32
				    : req->mech == CKM_SHA384_RSA_PKCS_PSS ? 48
									   : 64;
			if (req->has_pss && (r = check_pss_params(req, hl)) != LURK_POLICY_ALLOW)
				return r == LURK_POLICY_HASH_LENGTH ? LURK_POLICY_PSS_PARAMS : r;
		}
		return check_content(p, req->data, req->len);
	}
	if (p->require_content)
		return LURK_POLICY_CONTENT_REQUIRED;
	switch (req->mech) {
	case CKM_RSA_PKCS:
		return check_digest_info(p, req->data, req->len);
	case CKM_RSA_PKCS_PSS:
		if (!is_tls_hash_len(req->len))
			return LURK_POLICY_HASH_LENGTH;
		return check_pss_params(req, req->len);
	case CKM_ECDSA:
		if (req->len == 20)
			return legacy_ok(p) ? LURK_POLICY_ALLOW : LURK_POLICY_LEGACY_HASH;
		return is_tls_hash_len(req->len) ? LURK_POLICY_ALLOW : LURK_POLICY_HASH_LENGTH;
	default:
		return LURK_POLICY_MECHANISM;
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
	static const char *const names[] = {
		[LURK_POLICY_ALLOW] = "allowed",
		[LURK_POLICY_MECHANISM] = "mechanism not allowed (raw RSA or unknown)",
		[LURK_POLICY_KEY_TYPE] = "mechanism does not fit the key type",
		[LURK_POLICY_CONTENT_REQUIRED] = "key requires whole content, got a bare hash",
		[LURK_POLICY_NOT_TLS] = "not a TLS handshake signature input",
		[LURK_POLICY_CLIENT_CONTEXT] = "TLS 1.3 client context on a server-only key",
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
	};

	if ((unsigned)r >= LURK_POLICY_LAST || names[r] == NULL)
		return "unknown reason";
	return names[r];
}
