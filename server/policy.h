/*
 * The usage policy classifier: is this signature or decryption something a
 * TLS handshake asks for? Pure functions, no I/O (docs/policy.md).
 *
 * Two strengths, stated plainly:
 *  - content checks, when the whole signed content is visible (CKM_EDDSA and
 *    the combined hash-and-sign mechanisms): it must parse as a TLS 1.3
 *    CertificateVerify input, a TLS 1.2 ServerKeyExchange signed block or a
 *    TLS 1.2 client CertificateVerify input (the handshake transcript);
 *  - shape checks, when only a hash is visible (CKM_RSA_PKCS over a
 *    DigestInfo, CKM_RSA_PKCS_PSS, CKM_ECDSA): exactly the (mechanism,
 *    parameters, length) combinations TLS signature schemes produce.
 */
#ifndef LURK_POLICY_H
#define LURK_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "tls.h" /* enum lurk_key_type, the hash table */

enum {
	LURK_USE_SERVER = 1 << 0,
	LURK_USE_CLIENT = 1 << 1,
};

enum {
	LURK_TLS10 = 1 << 0,
	LURK_TLS11 = 1 << 1,
	LURK_TLS12 = 1 << 2,
	LURK_TLS13 = 1 << 3,
};

/* Per-key policy, from lurkd.conf. */
struct lurk_policy {
	unsigned use;          /* LURK_USE_*; default server only */
	unsigned tls_versions; /* LURK_TLS*; default 1.2 and 1.3 */
	int require_content;   /* refuse every hash-only request (lurkd also sets it per client) */
	int rsa_decrypt;       /* allow TLS RSA key-exchange decryption */
};

/* Verdicts: 0 allows; each refusal has its own reason. */
enum lurk_policy_reason {
	LURK_POLICY_ALLOW = 0,
	LURK_POLICY_MECHANISM = 1,        /* raw RSA, unknown or unsupported mechanism */
	LURK_POLICY_KEY_TYPE = 2,         /* mechanism does not fit the key type */
	LURK_POLICY_CONTENT_REQUIRED = 3, /* hash-only, require-content on key or client */
	LURK_POLICY_NOT_TLS = 4,          /* content is not a TLS handshake signature input */
	LURK_POLICY_CLIENT_CONTEXT = 5,   /* client CertificateVerify, key is server-only */
	LURK_POLICY_SERVER_CONTEXT = 6,   /* server signature on a client-only key */
	LURK_POLICY_HASH_LENGTH = 7,      /* transcript hash or digest of a length TLS never uses */
	LURK_POLICY_TRAILING = 8,         /* bytes after a well-formed structure */
	LURK_POLICY_DIGESTINFO = 9,       /* malformed DigestInfo, unknown OID, extra parameters */
	LURK_POLICY_LEGACY_HASH = 10,     /* SHA-1 / MD5+SHA-1 on a key without TLS 1.0/1.1 */
	LURK_POLICY_PSS_PARAMS = 11,      /* PSS salt or MGF other than TLS uses */
	LURK_POLICY_TLS_VERSION = 12,     /* the TLS version of the content is not enabled */
	LURK_POLICY_GROUP = 13,           /* named group not allowed or unknown */
	LURK_POLICY_PUBLIC_VALUE = 14,    /* key share of the wrong length or encoding */
	LURK_POLICY_DH_PARAMS = 15,       /* ServerDHParams of unreasonable size */
	LURK_POLICY_DECRYPT_OFF = 16,     /* RSA key-exchange decryption not enabled */
	LURK_POLICY_CIPHERTEXT_LEN = 17,  /* ciphertext is not the modulus length */
	LURK_POLICY_SCHEME = 18,          /* PKCS#1 v1.5 over a TLS 1.3 CertificateVerify */
	LURK_POLICY_LAST = 19,
};

struct lurk_policy_req {
	enum lurk_key_type key_type;
	uint32_t mech; /* CKM_* */
	int has_pss;
	uint32_t pss_hash, pss_mgf, pss_slen;
	const uint8_t *data;
	size_t len;
};

/* Default policy: server use, TLS 1.2 and 1.3, hash-only allowed, no decryption. */
void lurk_policy_default(struct lurk_policy *p);
/* Classifies a signature request; returns LURK_POLICY_ALLOW or a reason. */
enum lurk_policy_reason lurk_policy_check_sign(
	const struct lurk_policy *p, const struct lurk_policy_req *req) LURK_MUST_CHECK;
/* Classifies a decryption request for a key of modulus_len bytes. */
enum lurk_policy_reason lurk_policy_check_decrypt(const struct lurk_policy *p,
	enum lurk_key_type key_type, size_t modulus_len, uint32_t mech,
	size_t ct_len) LURK_MUST_CHECK;
/* Short, stable text for a reason ("not a TLS handshake signature input", ...). */
const char *lurk_policy_reason_str(enum lurk_policy_reason r);

#endif
