/*
 * The TLS facts lurk relies on, written once: key types as on the wire, the
 * hashes TLS signs with (length, DigestInfo encoding, PKCS#11 names, PSS
 * parameters) and the size of a signature for each key type. The usage
 * policy, lurkd's key store and the module all read these tables, so they
 * cannot disagree about what a SHA-384 DigestInfo or a P-521 signature is.
 * Pure data, no I/O.
 */
#ifndef LURK_TLS_H
#define LURK_TLS_H

#include <stddef.h>
#include <stdint.h>

/* Key types, as on the wire (u8): never renumber. */
enum lurk_key_type {
	LURK_KEY_RSA = 1,
	LURK_KEY_EC = 2,
	LURK_KEY_ED25519 = 3,
	LURK_KEY_ED448 = 4,
};

enum lurk_hash {
	LURK_HASH_NONE = 0,
	LURK_HASH_SHA1,
	LURK_HASH_SHA224,
	LURK_HASH_SHA256,
	LURK_HASH_SHA384,
	LURK_HASH_SHA512,
};

/* Where TLS signs a hash (struct lurk_hash_info.tls). */
enum lurk_hash_use {
	LURK_HASH_USE_NONE = 0,   /* never in TLS; lurkd's key store still signs it */
	LURK_HASH_USE_LEGACY = 1, /* TLS 1.0 and 1.1 only */
	LURK_HASH_USE_TLS = 2,    /* TLS 1.2 and 1.3 signature schemes */
};

#define LURK_HASH_MAX_LEN        64 /* SHA-512 */
#define LURK_DIGEST_INFO_MAX_PFX 19 /* DER up to the hash's OCTET STRING length */
/* TLS 1.0/1.1 RSA signs MD5 || SHA-1 without a DigestInfo (RFC 4346 §4.7). */
#define LURK_TLS_MD5_SHA1_LEN 36

struct lurk_hash_info {
	enum lurk_hash id;
	const char *name;
	size_t len;
	enum lurk_hash_use tls;
	/* DigestInfo with NULL parameters, byte for byte (RFC 8017 §9.2 note 1). */
	uint8_t di_prefix[LURK_DIGEST_INFO_MAX_PFX];
	size_t di_prefix_len;
	uint32_t ckm; /* CKM_SHA* */
	/* PSS as TLS uses it: MGF1 of the same hash, salt of its length (RFC 8446 §4.2.3). */
	uint32_t pss_mgf; /* CKG_MGF1_*; 0: TLS never signs this hash with PSS */
	/* The PKCS#11 mechanisms that hash the content with it and sign; 0 if none. */
	uint32_t ckm_rsa_pkcs, ckm_rsa_pss, ckm_ecdsa;
};

/* The entry for id; NULL for LURK_HASH_NONE or an unknown value. */
const struct lurk_hash_info *lurk_hash_by_id(enum lurk_hash id);
/* The hash of this output length (each length is one hash's); NULL if none. */
const struct lurk_hash_info *lurk_hash_by_len(size_t len);
/* The hash a CKM_SHA* names; NULL if none. */
const struct lurk_hash_info *lurk_hash_by_ckm(uint32_t ckm);
/* The hash of a combined hash-and-sign mechanism (CKM_SHA384_RSA_PKCS_PSS, ...). */
const struct lurk_hash_info *lurk_hash_by_sign_mech(uint32_t mech);
/*
 * The hash whose DigestInfo prefix d starts with, the hash bytes not checked
 * (the caller tells trailing bytes from a short hash); NULL if none.
 */
const struct lurk_hash_info *lurk_hash_by_digest_info(const uint8_t *d, size_t len);
/* 1 for a hash length TLS 1.2 and 1.3 sign (32, 48, 64), else 0. */
int lurk_tls_hash_len(size_t len);

/*
 * A signature's length in PKCS#11 format (ECDSA as r‖s, each the field's
 * size) for a key of this type and size (RSA modulus bits, or the curve's:
 * 256, 384, 521, 255, 448); 0 for an unknown type.
 */
size_t lurk_tls_sig_len(enum lurk_key_type type, unsigned bits);

#endif
