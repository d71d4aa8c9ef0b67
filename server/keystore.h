/*
 * lurkd's key store: private keys from PEM files (PKCS#1, SEC1, PKCS#8,
 * optionally encrypted) or pkcs11: URIs of an HSM, each with its certificate
 * chain. GnuTLS reads them; the signing is done by OpenSSL's libcrypto (file
 * RSA and ECDSA keys), libsodium (file Ed25519 keys) or GnuTLS (HSM keys,
 * Ed448), see keystore-int.h. Signatures come back in PKCS#11 format (ECDSA
 * as fixed-width r‖s). Keys may be used from several threads at once (GnuTLS
 * serializes PKCS#11-held keys itself).
 */
#ifndef LURKD_KEYSTORE_H
#define LURKD_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h" /* LURK_TLS_KEY_MAX_* */
#include "tls.h"         /* enum lurk_key_type */

struct lurk_tls_key;

/* libsodium, GnuTLS and OpenSSL set up; call once at start, deinit at exit. */
int lurk_keystore_init(void) LURK_MUST_CHECK;
void lurk_keystore_deinit(void);

/* What a key is loaded from: the caller has read the files (server/files.h). */
struct lurk_tls_key_source {
	const char *source; /* a PEM file's name, or a pkcs11: URI */
	const uint8_t *pem; /* the PEM file's contents (NULL for a pkcs11: URI) */
	size_t pem_len;
	const char *password;     /* encrypted PEM, or the token PIN; NULL if none */
	const char *chain;        /* the certificate file's name, for messages */
	const uint8_t *chain_pem; /* PEM, leaf first: the leaf must carry this key */
	size_t chain_len;
};

/* On failure why gets a short reason (never secret material). */
int lurk_tls_key_load(const struct lurk_tls_key_source *src, struct lurk_tls_key **out, char *why,
	size_t why_len) LURK_MUST_CHECK;
void lurk_tls_key_free(struct lurk_tls_key *k);

enum lurk_key_type lurk_tls_key_type(const struct lurk_tls_key *k);
/* RSA modulus bits, or the curve's size (256, 384, 521, 255, 448). */
unsigned lurk_tls_key_bits(const struct lurk_tls_key *k);
const uint8_t *lurk_tls_key_spki(const struct lurk_tls_key *k, size_t *len);
size_t lurk_tls_key_chain_len(const struct lurk_tls_key *k);
const uint8_t *lurk_tls_key_chain_cert(const struct lurk_tls_key *k, size_t i, size_t *len);
size_t lurk_tls_key_mechanisms(const struct lurk_tls_key *k, const uint32_t **mechs);
/* Signature length in PKCS#11 format. */
size_t lurk_tls_key_sig_len(const struct lurk_tls_key *k);

struct lurk_sign_req {
	uint32_t mech; /* CKM_* */
	int has_pss;
	uint32_t pss_hash, pss_mgf, pss_slen;
	const uint8_t *data;
	size_t len;
};

/*
 * The errors say what went wrong, for the answer's status
 * (lurk_wire_status_from_err): LURK_ERR_MECHANISM, a mechanism or parameters
 * the key does not take; LURK_ERR_BAD_FORMAT or LURK_ERR_TOO_LARGE, request
 * data that is not what the mechanism signs (a DigestInfo of no hash the
 * store knows); LURK_ERR_CRYPTO, the private-key operation failed;
 * LURK_ERR_NO_SPACE, a caller's buffer under lurk_tls_key_sig_len.
 */
/* *sig_len: capacity in, length out. */
int lurk_tls_key_sign(struct lurk_tls_key *k, const struct lurk_sign_req *req, uint8_t *sig,
	size_t *sig_len) LURK_MUST_CHECK;
/*
 * Whether the key takes a decryption with mech of a ct_len-byte ciphertext:
 * public facts only (LURK_ERR_MECHANISM, LURK_ERR_BAD_FORMAT), so a caller
 * may branch on the answer before any secret is involved.
 */
int lurk_tls_key_decrypt_tls_check(
	const struct lurk_tls_key *k, uint32_t mech, size_t ct_len) LURK_MUST_CHECK;
/*
 * CKM_RSA_PKCS decryption of a modulus-length ciphertext into exactly 48
 * bytes: lurk_tls_key_decrypt_tls_check's errors, then LURK_ERR_CRYPTO for
 * bad padding (a secret: see server/implicit.h).
 */
int lurk_tls_key_decrypt_tls(struct lurk_tls_key *k, uint32_t mech, const uint8_t *ct,
	size_t ct_len, uint8_t out[48]) LURK_MUST_CHECK;

#endif
