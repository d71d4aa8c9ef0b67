/*
 * Signing and decryption in PKCS#11 terms: which mechanism a key takes, how
 * its parameters must look, and the hashing of whole content; the back end
 * (k->ops) then does the private-key step on one struct lurk_sig_op.
 */
#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ckm.h"
#include "err.h"
#include "keystore-int.h"
#include "mem.h"
#include "tls.h"

/*
 * A DigestInfo is accepted only byte for byte as DER encodes it for one of
 * the table's hashes: stricter than parsing, and there is nothing else TLS sends.
 * Every hash of common/tls.c's table has a GnuTLS and an OpenSSL digest.
 */
static const struct lurk_hash_info *
parse_digest_info(const uint8_t *p, size_t len)
{
	const struct lurk_hash_info *h = lurk_hash_by_digest_info(p, len);

	if (h == NULL || len != h->di_prefix_len + h->len)
		return NULL;
	return h;
}

/* Checks the PSS parameters against the hash: MGF1 of it, salt of its length. */
static int
check_pss(const struct lurk_sign_req *req, const struct lurk_hash_info *want)
{
	const struct lurk_hash_info *h;

	if (!req->has_pss)
		return LURK_ERR_MECHANISM;
	h = lurk_hash_by_ckm(req->pss_hash);
	if (h == NULL || h->pss_mgf == 0 || h != want || req->pss_mgf != h->pss_mgf ||
		req->pss_slen != h->len)
		return LURK_ERR_MECHANISM;
	return 0;
}

/*
 * The hash-and-sign mechanisms: the content is hashed here, the back end
 * signs the hash. h is a table entry (common/tls.c): a digest GnuTLS has,
 * at most LURK_HASH_MAX_LEN bytes.
 */
static int
hash_content(const struct lurk_sign_req *req, const struct lurk_hash_info *h,
	uint8_t out[LURK_HASH_MAX_LEN])
{
	return gnutls_hash_fast(lurk_ks_gnutls_dig(h), req->data, req->len, out) < 0
		       ? LURK_ERR_CRYPTO
		       : 0;
}

/* The request as one operation on the key, or why the key store refuses it. */
static int
to_op(const struct lurk_tls_key *k, const struct lurk_sign_req *req, struct lurk_sig_op *op,
	uint8_t hash[LURK_DIGEST_INFO_MAX_PFX + LURK_HASH_MAX_LEN])
{
	const struct lurk_hash_info *hi;
	int rsa = k->type == LURK_KEY_RSA, r;

	op->tbs = req->data;
	op->tbs_len = req->len;
	switch (req->mech) {
	case CKM_RSA_PKCS:
		if (!rsa)
			return LURK_ERR_MECHANISM;
		op->kind = LURK_SIG_RSA_PKCS1;
		op->hash = NULL;
		if (req->len == LURK_TLS_MD5_SHA1_LEN) /* TLS 1.0/1.1: no DigestInfo */
			return 0;
		if ((op->hash = parse_digest_info(req->data, req->len)) == NULL)
			return LURK_ERR_BAD_FORMAT;
		return 0;
	case CKM_RSA_PKCS_PSS:
		hi = lurk_hash_by_len(req->len);
		if (!rsa || hi == NULL || check_pss(req, hi) != 0)
			return LURK_ERR_MECHANISM;
		op->kind = LURK_SIG_RSA_PSS;
		op->hash = hi;
		return 0;
	case CKM_SHA256_RSA_PKCS:
	case CKM_SHA384_RSA_PKCS:
	case CKM_SHA512_RSA_PKCS:
		if (!rsa)
			return LURK_ERR_MECHANISM;
		/*
		 * A DigestInfo of the content's hash, then as CKM_RSA_PKCS. The
		 * table has an entry for each of these mechanisms, its prefix and
		 * hash within LURK_DIGEST_INFO_MAX_PFX and LURK_HASH_MAX_LEN.
		 */
		hi = lurk_hash_by_sign_mech(req->mech);
		memcpy(hash, hi->di_prefix, hi->di_prefix_len);
		if ((r = hash_content(req, hi, hash + hi->di_prefix_len)) != 0)
			return r;
		op->kind = LURK_SIG_RSA_PKCS1;
		op->hash = hi;
		op->tbs = hash;
		op->tbs_len = hi->di_prefix_len + hi->len;
		return 0;
	case CKM_SHA256_RSA_PKCS_PSS:
	case CKM_SHA384_RSA_PKCS_PSS:
	case CKM_SHA512_RSA_PKCS_PSS:
		hi = lurk_hash_by_sign_mech(req->mech);
		if (!rsa || hi == NULL || (req->has_pss && check_pss(req, hi) != 0))
			return LURK_ERR_MECHANISM;
		op->kind = LURK_SIG_RSA_PSS;
		break;
	case CKM_ECDSA:
		hi = lurk_hash_by_len(req->len);
		if (k->type != LURK_KEY_EC || hi == NULL)
			return LURK_ERR_MECHANISM;
		op->kind = LURK_SIG_ECDSA;
		op->hash = hi;
		return 0;
	case CKM_ECDSA_SHA256:
	case CKM_ECDSA_SHA384:
	case CKM_ECDSA_SHA512:
		hi = lurk_hash_by_sign_mech(req->mech);
		if (k->type != LURK_KEY_EC || hi == NULL)
			return LURK_ERR_MECHANISM;
		op->kind = LURK_SIG_ECDSA;
		break;
	case CKM_EDDSA:
		if (k->type != LURK_KEY_ED25519 && k->type != LURK_KEY_ED448)
			return LURK_ERR_MECHANISM;
		op->kind = LURK_SIG_EDDSA;
		op->hash = NULL;
		return 0;
	default:
		/* Raw RSA (CKM_RSA_X_509) and everything else. */
		return LURK_ERR_MECHANISM;
	}
	/* The hash-and-sign mechanisms that sign the bare hash (PSS, ECDSA). */
	if ((r = hash_content(req, hi, hash)) != 0)
		return r;
	op->hash = hi;
	op->tbs = hash;
	op->tbs_len = hi->len;
	return 0;
}

int
lurk_tls_key_sign(
	struct lurk_tls_key *k, const struct lurk_sign_req *req, uint8_t *sig, size_t *sig_len)
{
	/* Room for a DigestInfo: hash-and-sign PKCS#1 builds one here. */
	uint8_t hash[LURK_DIGEST_INFO_MAX_PFX + LURK_HASH_MAX_LEN];
	struct lurk_sig_op op;
	int r;

	if (req->len > 0x7fffffff)
		return LURK_ERR_TOO_LARGE;
	/* Checked before anything is hashed, so no early return leaves a hash behind. */
	if (*sig_len < k->sig_len)
		return LURK_ERR_NO_SPACE;
	/*
	 * The hash of content is no secret, but the content may be: wipe both
	 * alike, on every path past to_op (which may fail after hashing).
	 */
	if ((r = to_op(k, req, &op, hash)) == 0)
		r = k->ops->sign(k, &op, sig, sig_len);
	lurk_wipe(hash, sizeof(hash));
	return r;
}

int
lurk_tls_key_decrypt_tls_check(const struct lurk_tls_key *k, uint32_t mech, size_t ct_len)
{
	if (k->type != LURK_KEY_RSA || mech != CKM_RSA_PKCS || k->ops->decrypt_tls == NULL)
		return LURK_ERR_MECHANISM;
	if (ct_len != k->sig_len) /* an RSA key's: the modulus length */
		return LURK_ERR_BAD_FORMAT;
	return 0;
}

int
lurk_tls_key_decrypt_tls(
	struct lurk_tls_key *k, uint32_t mech, const uint8_t *ct, size_t ct_len, uint8_t out[48])
{
	int r = lurk_tls_key_decrypt_tls_check(k, mech, ct_len);

	return r != 0 ? r : k->ops->decrypt_tls(k, ct, ct_len, out);
}

/*
 * One DER tag and length at *off: the length is short form or 0x81 (the
 * largest value here, P-521's SEQUENCE, is 138 bytes), and the value must
 * lie within len. Returns the value's length, or -1.
 */
static long
der_header(const uint8_t *d, size_t len, size_t *off, uint8_t tag)
{
	size_t n;

	if (2 > len - *off || d[*off] != tag)
		return -1;
	n = d[*off + 1];
	*off += 2;
	if (n == 0x81) {
		if (1 > len - *off || d[*off] < 0x80) /* DER: long form only from 128 */
			return -1;
		n = d[(*off)++];
	} else if (n > 0x7f) {
		return -1;
	}
	return n > len - *off ? -1 : (long)n;
}

/* One positive INTEGER into a field of fl bytes, left-padded with zeros. */
static int
der_uint(const uint8_t *d, size_t len, size_t *off, uint8_t *out, size_t fl)
{
	long n = der_header(d, len, off, 0x02);
	const uint8_t *v = d + *off;
	size_t vl;

	/* Not empty, not negative: r and s are in [1, n-1]. */
	if (n <= 0 || (v[0] & 0x80) != 0)
		return -1;
	vl = (size_t)n;
	*off += vl;
	/* DER's leading zero (before a high bit) and any others: what is left must fit. */
	while (vl > 0 && *v == 0)
		v++, vl--;
	if (vl > fl)
		return -1;
	memset(out, 0, fl - vl);
	memcpy(out + fl - vl, v, vl);
	return 0;
}

int
lurk_ks_ecdsa_raw(const struct lurk_tls_key *k, const uint8_t *der, size_t der_len, uint8_t *sig,
	size_t *sig_len)
{
	size_t fl = k->sig_len / 2, off = 0;
	long n;

	if (*sig_len < k->sig_len)
		return LURK_ERR_NO_SPACE;
	/* SEQUENCE { r INTEGER, s INTEGER }, the SEQUENCE the whole input. */
	if ((n = der_header(der, der_len, &off, 0x30)) < 0 || (size_t)n != der_len - off ||
		der_uint(der, der_len, &off, sig, fl) != 0 ||
		der_uint(der, der_len, &off, sig + fl, fl) != 0 || off != der_len)
		return LURK_ERR_CRYPTO;
	*sig_len = 2 * fl;
	return 0;
}

/* 0xffffffff when x is 0, else 0: no branch, no table. */
static uint32_t
ct_is_zero(uint32_t x)
{
	return (uint32_t)0 - ((~x & (x - 1)) >> 31);
}

int
lurk_ks_pms_unpad(const uint8_t *em, size_t em_len, uint8_t out[48])
{
	/* 0x00 0x02 PS (at least 8 non-zero bytes) 0x00 M (48 bytes). */
	size_t sep = em_len - 49;
	uint32_t good;

	if (em_len < 2 + 8 + 1 + 48)
		return LURK_ERR_CRYPTO; /* a public length, checked at load */
	good = ct_is_zero(em[0]) & ct_is_zero(em[1] ^ 2u) & ct_is_zero(em[sep]);
	for (size_t i = 2; i < sep; i++)
		good &= ~ct_is_zero(em[i]);
	memcpy(out, em + em_len - 48, 48);
	return (int)((uint32_t)LURK_ERR_CRYPTO & ~good);
}
