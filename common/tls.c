/*
 * The TLS facts table (tls.h). Every other file asks these functions rather
 * than keeping its own copy of an OID or a length.
 */
#include "config.h"

#include <string.h>

#include "ckm.h"
#include "compiler.h"
#include "tls.h"

/*
 * SHA-224 is here only because lurkd's key store signs a SHA-224 DigestInfo
 * or hash when asked; the policy never lets one through (no TLS signature
 * scheme uses it).
 */
static const struct lurk_hash_info hashes[] = {
	{LURK_HASH_SHA1, "SHA-1", 20, LURK_HASH_USE_LEGACY,
		{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
			0x14},
		15, CKM_SHA_1, 0, 0, 0, 0},
	{LURK_HASH_SHA224, "SHA-224", 28, LURK_HASH_USE_NONE,
		{0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
			0x04, 0x05, 0x00, 0x04, 0x1c},
		19, CKM_SHA224, 0, 0, 0, 0},
	{LURK_HASH_SHA256, "SHA-256", 32, LURK_HASH_USE_TLS,
		{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
			0x01, 0x05, 0x00, 0x04, 0x20},
		19, CKM_SHA256, CKG_MGF1_SHA256, CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS,
		CKM_ECDSA_SHA256},
	{LURK_HASH_SHA384, "SHA-384", 48, LURK_HASH_USE_TLS,
		{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
			0x02, 0x05, 0x00, 0x04, 0x30},
		19, CKM_SHA384, CKG_MGF1_SHA384, CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS,
		CKM_ECDSA_SHA384},
	{LURK_HASH_SHA512, "SHA-512", 64, LURK_HASH_USE_TLS,
		{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
			0x03, 0x05, 0x00, 0x04, 0x40},
		19, CKM_SHA512, CKG_MGF1_SHA512, CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS,
		CKM_ECDSA_SHA512},
};

const struct lurk_hash_info *
lurk_hash_by_id(enum lurk_hash id)
{
	for (size_t i = 0; i < LURK_ARRAY_LEN(hashes); i++)
		if (hashes[i].id == id)
			return &hashes[i];
	return NULL;
}

const struct lurk_hash_info *
lurk_hash_by_len(size_t len)
{
	for (size_t i = 0; i < LURK_ARRAY_LEN(hashes); i++)
		if (hashes[i].len == len)
			return &hashes[i];
	return NULL;
}

const struct lurk_hash_info *
lurk_hash_by_ckm(uint32_t ckm)
{
	for (size_t i = 0; i < LURK_ARRAY_LEN(hashes); i++)
		if (hashes[i].ckm == ckm)
			return &hashes[i];
	return NULL;
}

const struct lurk_hash_info *
lurk_hash_by_sign_mech(uint32_t mech)
{
	if (mech == 0)
		return NULL;
	for (size_t i = 0; i < LURK_ARRAY_LEN(hashes); i++)
		if (hashes[i].ckm_rsa_pkcs == mech || hashes[i].ckm_rsa_pss == mech ||
			hashes[i].ckm_ecdsa == mech)
			return &hashes[i];
	return NULL;
}

/* The prefixes differ by their second byte (the length), so at most one matches. */
const struct lurk_hash_info *
lurk_hash_by_digest_info(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i < LURK_ARRAY_LEN(hashes); i++)
		if (len >= hashes[i].di_prefix_len &&
			memcmp(d, hashes[i].di_prefix, hashes[i].di_prefix_len) == 0)
			return &hashes[i];
	return NULL;
}

int
lurk_tls_hash_len(size_t len)
{
	const struct lurk_hash_info *h = lurk_hash_by_len(len);

	return h != NULL && h->tls == LURK_HASH_USE_TLS;
}

size_t
lurk_tls_sig_len(enum lurk_key_type type, unsigned bits)
{
	switch (type) {
	case LURK_KEY_RSA:
		return ((size_t)bits + 7) / 8;
	case LURK_KEY_EC:
		return 2 * (((size_t)bits + 7) / 8);
	case LURK_KEY_ED25519:
		return 64; /* RFC 8032 §5.1.6 */
	case LURK_KEY_ED448:
		return 114; /* RFC 8032 §5.2.6 */
	default:
		return 0;
	}
}
