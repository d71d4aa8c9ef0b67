/*
 * RSA two of two, additive over the integers (rsa-split.h). The partials
 * use BN_mod_exp_mont_consttime with BN_FLG_CONSTTIME on the share; the
 * combine step works on public values only. The encoders are written out
 * (RFC 8017 §9.1, §9.2) rather than taken from OpenSSL's deprecated RSA_*
 * padding functions, and bounded by LURK_RSA_SPLIT_MAX_BITS.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "err.h"
#include "rsa-split.h"

#define K_MAX    (LURK_RSA_SPLIT_MAX_BITS / 8)
#define HASH_MAX 64

/* k = |n| in bytes, n in the supported range. */
static int
modulus_ok(const BIGNUM *n, size_t k)
{
	int bits = n != NULL ? BN_num_bits(n) : 0;

	return bits >= LURK_RSA_SPLIT_MIN_BITS && bits <= LURK_RSA_SPLIT_MAX_BITS && BN_is_odd(n) &&
	       (size_t)BN_num_bytes(n) == k;
}

/* x = em as a number, 1 < x < n. */
static int
load_below_n(const BIGNUM *n, const uint8_t *b, size_t k, BIGNUM *x)
{
	if (BN_bin2bn(b, (int)k, x) == NULL)
		return LURK_ERR_ALLOC;
	if (BN_cmp(x, n) >= 0 || BN_is_zero(x) || BN_is_one(x))
		return LURK_ERR_BAD_FORMAT;
	return 0;
}

int
lurk_rsa_split(const BIGNUM *n, const BIGNUM *d, BIGNUM **d1, BIGNUM **d2)
{
	BIGNUM *a = NULL, *b = NULL;
	int tries, rc = LURK_ERR_ALLOC;

	if (d1 == NULL || d2 == NULL)
		return LURK_ERR_INVALID_ARG;
	*d1 = *d2 = NULL;
	if (n == NULL || !modulus_ok(n, (size_t)BN_num_bytes(n)) || d == NULL ||
		BN_is_negative(d) || BN_is_zero(d) || BN_cmp(d, n) >= 0)
		return LURK_ERR_INVALID_ARG;
	if ((a = BN_secure_new()) == NULL || (b = BN_secure_new()) == NULL)
		goto fail;
	/* d1 ≤ d has probability below 2^-128: a few tries are plenty. */
	for (tries = 0; tries < 8; tries++) {
		if (!BN_priv_rand(a, BN_num_bits(n) + LURK_RSA_SPLIT_SLACK, BN_RAND_TOP_ANY,
			    BN_RAND_BOTTOM_ANY) ||
			!BN_sub(b, a, d)) {
			rc = LURK_ERR_CRYPTO;
			goto fail;
		}
		if (!BN_is_negative(b) && !BN_is_zero(b)) {
			*d1 = a;
			*d2 = b;
			return 0;
		}
	}
	rc = LURK_ERR_CRYPTO;
fail:
	BN_clear_free(a);
	BN_clear_free(b);
	return rc;
}

int
lurk_rsa_partial(const BIGNUM *n, const BIGNUM *di, const uint8_t *em, size_t k, uint8_t *out)
{
	BN_CTX *ctx = NULL;
	BIGNUM *m, *r, *x = NULL;
	int rc = LURK_ERR_ALLOC;

	if (out == NULL)
		return LURK_ERR_INVALID_ARG;
	if (!modulus_ok(n, k) || di == NULL || BN_is_negative(di) || em == NULL) {
		memset(out, 0, k <= K_MAX ? k : 0);
		return LURK_ERR_INVALID_ARG;
	}
	memset(out, 0, k);
	if ((ctx = BN_CTX_secure_new()) == NULL)
		goto out;
	BN_CTX_start(ctx);
	if ((m = BN_CTX_get(ctx)) == NULL || (r = BN_CTX_get(ctx)) == NULL)
		goto out;
	if ((rc = load_below_n(n, em, k, m)) < 0)
		goto out;
	/* A copy of the share flagged constant-time: the exponent is the secret. */
	if ((x = BN_dup(di)) == NULL) {
		rc = LURK_ERR_ALLOC;
		goto out;
	}
	BN_set_flags(x, BN_FLG_CONSTTIME);
	if (!BN_mod_exp_mont_consttime(r, m, x, n, ctx, NULL) || BN_bn2binpad(r, out, (int)k) < 0) {
		rc = LURK_ERR_CRYPTO;
		goto out;
	}
	rc = 0;
out:
	BN_clear_free(x);
	if (ctx != NULL) {
		BN_CTX_end(ctx);
		BN_CTX_free(ctx);
	}
	if (rc < 0)
		OPENSSL_cleanse(out, k);
	return rc;
}

int
lurk_rsa_combine(const BIGNUM *n, const BIGNUM *e, const uint8_t *em, const uint8_t *s1,
	const uint8_t *t, size_t k, uint8_t *sig)
{
	BN_CTX *ctx = NULL;
	BIGNUM *m, *a, *b, *s, *v;
	int rc = LURK_ERR_ALLOC;

	if (sig == NULL)
		return LURK_ERR_INVALID_ARG;
	if (!modulus_ok(n, k) || e == NULL || em == NULL || s1 == NULL || t == NULL) {
		memset(sig, 0, k <= K_MAX ? k : 0);
		return LURK_ERR_INVALID_ARG;
	}
	memset(sig, 0, k);
	if ((ctx = BN_CTX_new()) == NULL)
		goto out;
	BN_CTX_start(ctx);
	m = BN_CTX_get(ctx);
	a = BN_CTX_get(ctx);
	b = BN_CTX_get(ctx);
	s = BN_CTX_get(ctx);
	if ((v = BN_CTX_get(ctx)) == NULL)
		goto out;
	if ((rc = load_below_n(n, em, k, m)) < 0 || (rc = load_below_n(n, s1, k, a)) < 0 ||
		(rc = load_below_n(n, t, k, b)) < 0)
		goto out;
	rc = LURK_ERR_CRYPTO;
	/* Public values: the variable-time inverse is fine. */
	if (BN_mod_inverse(b, b, n, ctx) == NULL || !BN_mod_mul(s, a, b, n, ctx) ||
		!BN_mod_exp(v, s, e, n, ctx))
		goto out;
	if (BN_cmp(v, m) != 0)
		goto out; /* a wrong share, or a wrong partial: do not release */
	if (BN_bn2binpad(s, sig, (int)k) < 0)
		goto out;
	rc = 0;
out:
	if (ctx != NULL) {
		BN_CTX_end(ctx);
		BN_CTX_free(ctx);
	}
	if (rc < 0)
		memset(sig, 0, k);
	return rc;
}

/* DigestInfo prefixes, RFC 8017 §9.2 note 1. */
static const struct {
	uint8_t prefix[19];
	size_t hash_len;
} digest_infos[] = {
	{{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
		 0x05, 0x00, 0x04, 0x20},
		32},
	{{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
		 0x05, 0x00, 0x04, 0x30},
		48},
	{{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
		 0x05, 0x00, 0x04, 0x40},
		64},
};

int
lurk_rsa_pkcs1_encode(const uint8_t *digest_info, size_t len, uint8_t *em, size_t k)
{
	size_t i;

	if (em == NULL || k < LURK_RSA_SPLIT_MIN_BITS / 8 || k > K_MAX)
		return LURK_ERR_INVALID_ARG;
	memset(em, 0, k);
	if (digest_info == NULL)
		return LURK_ERR_INVALID_ARG;
	for (i = 0; i < sizeof(digest_infos) / sizeof(digest_infos[0]); i++)
		if (len == sizeof(digest_infos[i].prefix) + digest_infos[i].hash_len &&
			memcmp(digest_info, digest_infos[i].prefix,
				sizeof(digest_infos[i].prefix)) == 0)
			break;
	if (i == sizeof(digest_infos) / sizeof(digest_infos[0]))
		return LURK_ERR_BAD_FORMAT;
	/* k ≥ 256 > 64 + 19 + 11: room for at least 8 bytes of 0xff. */
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, k - len - 3);
	em[k - len - 1] = 0x00;
	memcpy(em + k - len, digest_info, len);
	return 0;
}

/* The PSS hashes: SHA-256, -384, -512 only. */
static const EVP_MD *
pss_md(const char *name, size_t *hlen)
{
	const EVP_MD *md = NULL;

	if (name == NULL)
		return NULL;
	if (strcmp(name, "SHA256") == 0)
		md = EVP_sha256();
	else if (strcmp(name, "SHA384") == 0)
		md = EVP_sha384();
	else if (strcmp(name, "SHA512") == 0)
		md = EVP_sha512();
	if (md != NULL)
		*hlen = (size_t)EVP_MD_get_size(md);
	return md;
}

/* H(0x00 × 8 ‖ mhash ‖ salt) */
static int
pss_h(const EVP_MD *md, size_t hlen, const uint8_t *mhash, const uint8_t *salt, uint8_t *h)
{
	static const uint8_t zeros[8];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c != NULL && EVP_DigestInit_ex(c, md, NULL) &&
		 EVP_DigestUpdate(c, zeros, sizeof(zeros)) && EVP_DigestUpdate(c, mhash, hlen) &&
		 EVP_DigestUpdate(c, salt, hlen) && EVP_DigestFinal_ex(c, h, NULL);

	EVP_MD_CTX_free(c);
	return ok ? 0 : LURK_ERR_CRYPTO;
}

/* out[0..len) ^= MGF1(seed), RFC 8017 B.2.1. */
static int
mgf1_xor(const EVP_MD *md, size_t hlen, const uint8_t *seed, uint8_t *out, size_t len)
{
	uint8_t block[HASH_MAX], ctr[4];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint32_t i;
	size_t done = 0, j;
	int rc = 0;

	if (c == NULL)
		return LURK_ERR_ALLOC;
	for (i = 0; done < len; i++) {
		ctr[0] = (uint8_t)(i >> 24);
		ctr[1] = (uint8_t)(i >> 16);
		ctr[2] = (uint8_t)(i >> 8);
		ctr[3] = (uint8_t)i;
		if (!EVP_DigestInit_ex(c, md, NULL) || !EVP_DigestUpdate(c, seed, hlen) ||
			!EVP_DigestUpdate(c, ctr, 4) || !EVP_DigestFinal_ex(c, block, NULL)) {
			rc = LURK_ERR_CRYPTO;
			break;
		}
		for (j = 0; j < hlen && done < len; j++)
			out[done++] ^= block[j];
	}
	EVP_MD_CTX_free(c);
	return rc;
}

/* emBits = |n| − 1; the k-byte EM has (8k − emBits) leading zero bits. */
static int
pss_layout(const BIGNUM *n, size_t k, size_t hlen, size_t *lead, size_t *em_len, unsigned *top)
{
	size_t em_bits = (size_t)BN_num_bits(n) - 1;

	*em_len = (em_bits + 7) / 8;
	*lead = k - *em_len; /* 0 or 1 */
	*top = (unsigned)(8 * *em_len - em_bits);
	return *em_len >= 2 * hlen + 2 ? 0 : LURK_ERR_INVALID_ARG;
}

int
lurk_rsa_pss_encode(const char *md_name, const uint8_t *mhash, const uint8_t *salt, const BIGNUM *n,
	uint8_t *em, size_t k)
{
	const EVP_MD *md;
	size_t hlen = 0, lead, em_len, db_len;
	unsigned top;
	uint8_t *db, *h;
	int rc;

	if (em == NULL || k > K_MAX)
		return LURK_ERR_INVALID_ARG;
	memset(em, 0, k);
	if (!modulus_ok(n, k) || mhash == NULL || salt == NULL ||
		(md = pss_md(md_name, &hlen)) == NULL)
		return LURK_ERR_INVALID_ARG;
	if ((rc = pss_layout(n, k, hlen, &lead, &em_len, &top)) < 0)
		return rc;
	db_len = em_len - hlen - 1;
	db = em + lead;
	h = db + db_len;
	if ((rc = pss_h(md, hlen, mhash, salt, h)) < 0)
		goto fail;
	/* DB = PS (zeros) ‖ 0x01 ‖ salt, then masked. */
	db[db_len - hlen - 1] = 0x01;
	memcpy(db + db_len - hlen, salt, hlen);
	if ((rc = mgf1_xor(md, hlen, h, db, db_len)) < 0)
		goto fail;
	db[0] &= (uint8_t)(0xff >> top);
	em[k - 1] = 0xbc;
	return 0;
fail:
	memset(em, 0, k);
	return rc;
}

int
lurk_rsa_pss_verify(
	const char *md_name, const uint8_t *mhash, const BIGNUM *n, const uint8_t *em, size_t k)
{
	const EVP_MD *md;
	size_t hlen = 0, lead, em_len, db_len, i;
	unsigned top;
	uint8_t db[K_MAX], h2[HASH_MAX];
	const uint8_t *h;
	int rc;

	if (!modulus_ok(n, k) || em == NULL || mhash == NULL ||
		(md = pss_md(md_name, &hlen)) == NULL)
		return LURK_ERR_INVALID_ARG;
	if ((rc = pss_layout(n, k, hlen, &lead, &em_len, &top)) < 0)
		return rc;
	db_len = em_len - hlen - 1;
	h = em + lead + db_len;
	if ((lead && em[0] != 0) || em[k - 1] != 0xbc || (em[lead] & (uint8_t) ~(0xff >> top)) != 0)
		return LURK_ERR_BAD_FORMAT;
	memcpy(db, em + lead, db_len);
	if ((rc = mgf1_xor(md, hlen, h, db, db_len)) < 0)
		return rc;
	db[0] &= (uint8_t)(0xff >> top);
	/* PS all zero, then 0x01, then a salt of exactly hlen bytes. */
	for (i = 0; i < db_len - hlen - 1; i++)
		if (db[i] != 0)
			return LURK_ERR_BAD_FORMAT;
	if (db[db_len - hlen - 1] != 0x01)
		return LURK_ERR_BAD_FORMAT;
	if ((rc = pss_h(md, hlen, mhash, db + db_len - hlen, h2)) < 0)
		return rc;
	return CRYPTO_memcmp(h, h2, hlen) == 0 ? 0 : LURK_ERR_BAD_FORMAT;
}
