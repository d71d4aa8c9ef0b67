/*
 * The key store's private parts. keystore.c loads a key and its public facts
 * (through GnuTLS, for every key); keystore-ops.c checks a request against
 * the key's mechanisms and turns it into one struct lurk_sig_op; a back end
 * behind struct lurk_key_ops does the private-key work:
 *
 *   keystore-openssl.c  RSA and ECDSA keys from files: OpenSSL 3 libcrypto
 *   keystore-sodium.c   Ed25519 keys from files: libsodium
 *   keystore-gnutls.c   pkcs11: URIs and Ed448
 */
#ifndef LURKD_KEYSTORE_INT_H
#define LURKD_KEYSTORE_INT_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "keystore.h"

/* A signature request reduced to what the private key must do. */
enum lurk_sig_kind {
	LURK_SIG_RSA_PKCS1, /* PKCS#1 v1.5 type 1 padding around tbs (a DigestInfo, or MD5‖SHA-1) */
	LURK_SIG_RSA_PSS,   /* PSS over the hash tbs: MGF1 of the same hash, salt of its length */
	LURK_SIG_ECDSA,     /* ECDSA over the hash tbs; the answer is r‖s */
	LURK_SIG_EDDSA,     /* pure EdDSA over the message tbs */
};

struct lurk_sig_op {
	enum lurk_sig_kind kind;
	/*
	 * The hash tbs is (PSS, ECDSA) or the hash the DigestInfo carries
	 * (PKCS#1; NULL for TLS 1.0's MD5‖SHA-1, which has none).
	 */
	const struct lurk_hash_info *hash;
	const uint8_t *tbs;
	size_t tbs_len;
};

struct lurk_key_ops {
	const char *name; /* the library, for the load-time log line */
	/* *sig_len: capacity in (at least k->sig_len), length out. */
	int (*sign)(struct lurk_tls_key *k, const struct lurk_sig_op *op, uint8_t *sig,
		size_t *sig_len);
	/*
	 * RSA key exchange: exactly 48 bytes out; nonzero when the padding is
	 * bad, decided without a branch on the plaintext (implicit.c masks the
	 * answer). ct_len is the modulus length (checked by the caller).
	 */
	int (*decrypt_tls)(
		struct lurk_tls_key *k, const uint8_t *ct, size_t ct_len, uint8_t out[48]);
	/* Frees and wipes the back end's private state (k->be). */
	void (*free)(struct lurk_tls_key *k);
};

struct lurk_tls_key {
	const struct lurk_key_ops *ops;
	void *be;              /* the back end's private state */
	gnutls_privkey_t priv; /* as loaded; the GnuTLS back end keeps it, others drop it */
	gnutls_datum_t spki;
	gnutls_datum_t chain[LURK_TLS_KEY_MAX_CHAIN];
	size_t nchain;
	enum lurk_key_type type;
	unsigned bits;
	size_t sig_len;
	const uint32_t *mechs;
	size_t nmechs;
	int pkcs11;
};

/*
 * Back ends. Each attach takes the loaded key (k->priv, decrypted by GnuTLS,
 * and the public facts) and its source (for messages); on 0, k->ops and k->be
 * are set and k->priv may be dropped.
 * LURK_ERR_MECHANISM: not a key this back end serves (why untouched).
 */
void lurk_ks_gnutls_attach(struct lurk_tls_key *k);
int lurk_ks_openssl_attach(struct lurk_tls_key *k, const struct lurk_tls_key_source *src, char *why,
	size_t why_len) LURK_MUST_CHECK;
int lurk_ks_sodium_attach(struct lurk_tls_key *k, const struct lurk_tls_key_source *src, char *why,
	size_t why_len) LURK_MUST_CHECK;
void lurk_ks_openssl_init(void);

/* GnuTLS's name for a hash of the table in tls.h (GNUTLS_DIG_UNKNOWN if none). */
gnutls_digest_algorithm_t lurk_ks_gnutls_dig(const struct lurk_hash_info *h);

/*
 * PKCS#11's ECDSA r‖s from a DER ECDSA-Sig-Value (SEQUENCE of two positive
 * INTEGERs, nothing after it), each left-padded to half of k->sig_len: the
 * one conversion both back ends use. LURK_ERR_CRYPTO when the DER is not
 * that or an integer does not fit the field; LURK_ERR_NO_SPACE when *sig_len
 * is below k->sig_len.
 */
int lurk_ks_ecdsa_raw(const struct lurk_tls_key *k, const uint8_t *der, size_t der_len,
	uint8_t *sig, size_t *sig_len) LURK_MUST_CHECK;

/*
 * The TLS premaster secret from a raw RSA decryption em (the modulus length,
 * at least 2048 bits): 0x00 0x02, non-zero padding, 0x00, 48 bytes. Always
 * copies the last 48 bytes to out and checks in constant time; returns 0 or
 * LURK_ERR_CRYPTO without a branch on em.
 */
int lurk_ks_pms_unpad(const uint8_t *em, size_t em_len, uint8_t out[48]);

#endif
