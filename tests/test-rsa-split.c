/*
 * RSA two of two (server/rsa-split.c) against OpenSSL on a fresh key: the
 * split shares sum to d; the combined PKCS#1 v1.5 signature equals
 * OpenSSL's byte for byte; the combined PSS signature verifies in OpenSSL and
 * OpenSSL's PSS encoding passes the server's check; a wrong share, swapped
 * partials, an out-of-range value, a DigestInfo off the allow-list and PSS
 * encodings that are not for this hash or salt length are refused.
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "err.h"
#include "rsa-split.h"
#include "tap.h"

#define K 256

static EVP_PKEY *key;
static BIGNUM *n, *e, *d, *d1, *d2;
static const uint8_t msg[] = "TLS 1.3, server CertificateVerify";

static void
load_key(void)
{
	if (key != NULL)
		return;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_ptr_not_null(key);
	assert_num_eq(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_num_eq(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
	assert_num_eq(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_D, &d), 1);
	assert_num_eq(BN_num_bytes(n), K);
	assert_ok(lurk_rsa_split(n, d, &d1, &d2));
}

static void
sha256(const uint8_t *m, size_t len, uint8_t out[32])
{
	assert_num_eq(EVP_Digest(m, len, out, NULL, EVP_sha256(), NULL), 1);
}

/* OpenSSL's signature of the SHA-256 hash with the given padding and salt length. */
static size_t
openssl_sign(int padding, int saltlen, const uint8_t hash[32], uint8_t sig[K])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	size_t len = K;

	assert_ptr_not_null(c);
	assert_num_eq(EVP_PKEY_sign_init(c), 1);
	assert_num_eq(EVP_PKEY_CTX_set_rsa_padding(c, padding), 1);
	assert_num_eq(EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()), 1);
	if (padding == RSA_PKCS1_PSS_PADDING)
		assert_num_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, saltlen), 1);
	assert_num_eq(EVP_PKEY_sign(c, sig, &len, hash, 32), 1);
	EVP_PKEY_CTX_free(c);
	return len;
}

static int
openssl_verify_pss(const uint8_t hash[32], const uint8_t sig[K])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	int ok;

	assert_ptr_not_null(c);
	assert_num_eq(EVP_PKEY_verify_init(c), 1);
	assert_num_eq(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING), 1);
	assert_num_eq(EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()), 1);
	assert_num_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, 32), 1);
	ok = EVP_PKEY_verify(c, sig, K, hash, 32) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

/* The two servers' partials and the client's combination. */
static int
split_sign(const uint8_t em[K], uint8_t sig[K])
{
	uint8_t s1[K], t[K];

	assert_ok(lurk_rsa_partial(n, d1, em, K, s1));
	assert_ok(lurk_rsa_partial(n, d2, em, K, t));
	return lurk_rsa_combine(n, e, em, s1, t, K, sig);
}

static void
test_split_shares(void)
{
	BIGNUM *diff = BN_new(), *a, *b;

	load_key();
	assert_ptr_not_null(diff);
	assert_num_eq(BN_sub(diff, d1, d2), 1);
	assert_num_eq(BN_cmp(diff, d), 0);
	assert_false(BN_is_negative(d2));
	assert_num_cmp(BN_num_bits(d1), <=, 2048 + LURK_RSA_SPLIT_SLACK);
	/* Drawn afresh each time. */
	assert_ok(lurk_rsa_split(n, d, &a, &b));
	assert_true(BN_cmp(a, d1) != 0);
	BN_clear_free(a);
	BN_clear_free(b);
	/* Refused: d ≥ n, zero, a short modulus. */
	assert_err(lurk_rsa_split(n, n, &a, &b), LURK_ERR_INVALID_ARG);
	assert_ptr_null(a);
	BN_zero(diff);
	assert_err(lurk_rsa_split(n, diff, &a, &b), LURK_ERR_INVALID_ARG);
	assert_num_eq(BN_set_word(diff, 65537), 1);
	assert_err(lurk_rsa_split(diff, d, &a, &b), LURK_ERR_INVALID_ARG);
	BN_free(diff);
}

static void
test_pkcs1_equals_openssl(void)
{
	static const uint8_t prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
		0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	uint8_t di[51], em[K], sig[K], want[K];

	load_key();
	memcpy(di, prefix, sizeof(prefix));
	sha256(msg, sizeof(msg) - 1, di + 19);
	assert_ok(lurk_rsa_pkcs1_encode(di, sizeof(di), em, K));
	assert_num_eq(em[0], 0);
	assert_num_eq(em[1], 1);
	assert_ok(split_sign(em, sig));
	assert_num_eq(openssl_sign(RSA_PKCS1_PADDING, 0, di + 19, want), K);
	assert_mem_eq(sig, want, K);
}

static void
test_pss_verifies(void)
{
	uint8_t hash[32], other[32], salt[32], em[K], sig[K], ossl[K], em2[K], wrong[K];
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *x = BN_new();

	load_key();
	sha256(msg, sizeof(msg) - 1, hash);
	assert_num_eq(RAND_bytes(salt, sizeof(salt)), 1);
	/* The client encodes; each server checks the encoding before exponentiating. */
	assert_ok(lurk_rsa_pss_encode("SHA256", hash, salt, n, em, K));
	assert_ok(lurk_rsa_pss_verify("SHA256", hash, n, em, K));
	assert_ok(split_sign(em, sig));
	assert_true(openssl_verify_pss(hash, sig));

	/* OpenSSL's PSS encoding (salt 32) passes the server's check... */
	assert_num_eq(openssl_sign(RSA_PKCS1_PSS_PADDING, 32, hash, ossl), K);
	assert_num_eq(BN_bin2bn(ossl, K, x) != NULL, 1);
	assert_num_eq(BN_mod_exp(x, x, e, n, ctx), 1);
	assert_num_eq(BN_bn2binpad(x, em2, K), K);
	assert_ok(lurk_rsa_pss_verify("SHA256", hash, n, em2, K));
	/* ...but not for another hash, another hash function, or a 20-byte salt. */
	memcpy(other, hash, 32);
	other[0] ^= 1;
	assert_err(lurk_rsa_pss_verify("SHA256", other, n, em2, K), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_rsa_pss_verify("SHA384", hash, n, em2, K), LURK_ERR_BAD_FORMAT);
	assert_num_eq(openssl_sign(RSA_PKCS1_PSS_PADDING, 20, hash, ossl), K);
	assert_num_eq(BN_bin2bn(ossl, K, x) != NULL, 1);
	assert_num_eq(BN_mod_exp(x, x, e, n, ctx), 1);
	assert_num_eq(BN_bn2binpad(x, em2, K), K);
	assert_err(lurk_rsa_pss_verify("SHA256", hash, n, em2, K), LURK_ERR_BAD_FORMAT);
	/* A random value is not an encoding (the server is no m^d oracle). */
	assert_num_eq(RAND_bytes(wrong, K), 1);
	wrong[0] &= 0x7f;
	wrong[K - 1] = 0xbc;
	assert_err(lurk_rsa_pss_verify("SHA256", hash, n, wrong, K), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_rsa_pss_verify("MD5", hash, n, em, K), LURK_ERR_INVALID_ARG);
	BN_free(x);
	BN_CTX_free(ctx);
}

static void
test_wrong_share_detected(void)
{
	uint8_t hash[32], salt[32] = {7}, em[K], s1[K], t[K], sig[K];
	BIGNUM *bad = BN_dup(d1);

	load_key();
	sha256(msg, sizeof(msg) - 1, hash);
	assert_ok(lurk_rsa_pss_encode("SHA256", hash, salt, n, em, K));
	assert_ptr_not_null(bad);
	assert_num_eq(BN_add_word(bad, 1), 1);
	assert_ok(lurk_rsa_partial(n, bad, em, K, s1));
	assert_ok(lurk_rsa_partial(n, d2, em, K, t));
	memset(sig, 0xaa, K);
	assert_err(lurk_rsa_combine(n, e, em, s1, t, K, sig), LURK_ERR_CRYPTO);
	assert_true(CRYPTO_memcmp(sig, (uint8_t[K]){0}, K) == 0); /* nothing released */
	/* Right shares, partials swapped: m^(d2−d1) is not a signature. */
	assert_ok(lurk_rsa_partial(n, d1, em, K, s1));
	assert_err(lurk_rsa_combine(n, e, em, t, s1, K, sig), LURK_ERR_CRYPTO);
	assert_ok(lurk_rsa_combine(n, e, em, s1, t, K, sig));
	BN_clear_free(bad);
}

static void
test_inputs_refused(void)
{
	static const uint8_t sha1_di[35] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03,
		0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
	uint8_t big[K], out[K],
		di[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

	load_key();
	/* em ≥ n, em = 0 or 1, wrong length. */
	assert_num_eq(BN_bn2binpad(n, big, K), K);
	assert_err(lurk_rsa_partial(n, d1, big, K, out), LURK_ERR_BAD_FORMAT);
	memset(big, 0xff, K);
	assert_err(lurk_rsa_partial(n, d1, big, K, out), LURK_ERR_BAD_FORMAT);
	memset(big, 0, K);
	assert_err(lurk_rsa_partial(n, d1, big, K, out), LURK_ERR_BAD_FORMAT);
	big[K - 1] = 1;
	assert_err(lurk_rsa_partial(n, d1, big, K, out), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_rsa_partial(n, d1, big, K - 1, out), LURK_ERR_INVALID_ARG);
	/* Only the allow-listed DigestInfos, at their exact length. */
	assert_err(lurk_rsa_pkcs1_encode(sha1_di, sizeof(sha1_di), out, K), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_rsa_pkcs1_encode(di, sizeof(di) - 1, out, K), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_rsa_pkcs1_encode(di + 19, 32, out, K), LURK_ERR_BAD_FORMAT);
	assert_ok(lurk_rsa_pkcs1_encode(di, sizeof(di), out, K));
}

/* An RSA key of exactly 2049 bits from two primes (OpenSSL's keygen rounds odd sizes down). */
static EVP_PKEY *
key_2049(BIGNUM **n2, BIGNUM **e2, BIGNUM **dd)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *p = BN_new(), *q = BN_new(), *p1 = BN_new(), *q1 = BN_new(), *l = BN_new(),
	       *g = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;

	*n2 = BN_new();
	*e2 = BN_new();
	*dd = BN_new();
	assert_true(ctx && p && q && p1 && q1 && l && g && bld && c && *n2 && *e2 && *dd);
	assert_num_eq(BN_set_word(*e2, 65537), 1);
	/* Top two bits set in each prime: n has exactly 1025 + 1024 bits. */
	assert_num_eq(BN_generate_prime_ex(p, 1025, 0, NULL, NULL, NULL), 1);
	assert_num_eq(BN_generate_prime_ex(q, 1024, 0, NULL, NULL, NULL), 1);
	assert_num_eq(BN_mul(*n2, p, q, ctx), 1);
	assert_num_eq(BN_num_bits(*n2), 2049);
	/* d = e^-1 mod lcm(p − 1, q − 1) */
	assert_num_eq(BN_sub(p1, p, BN_value_one()), 1);
	assert_num_eq(BN_sub(q1, q, BN_value_one()), 1);
	assert_num_eq(BN_mul(l, p1, q1, ctx), 1);
	assert_num_eq(BN_gcd(g, p1, q1, ctx), 1);
	assert_num_eq(BN_div(l, NULL, l, g, ctx), 1);
	assert_ptr_not_null(BN_mod_inverse(*dd, *e2, l, ctx));
	assert_num_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *n2), 1);
	assert_num_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *e2), 1);
	assert_ptr_not_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_num_eq(EVP_PKEY_fromdata_init(c), 1);
	assert_num_eq(EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(c);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_clear_free(p1);
	BN_clear_free(q1);
	BN_clear_free(l);
	BN_free(g);
	BN_CTX_free(ctx);
	return k;
}

/*
 * |n| = 2049: emBits = 2048 is a whole number of bytes, so the k-byte EM
 * starts with a zero byte (RFC 8017 §9.1.1 emLen = k − 1). OpenSSL verifies.
 */
static void
test_pss_byte_aligned_embits(void)
{
	BIGNUM *n2, *e2, *dd, *a = NULL, *b = NULL;
	EVP_PKEY *k2 = key_2049(&n2, &e2, &dd);
	uint8_t hash[32], salt[32], em[257], s1[257], t[257], sig[257];
	EVP_PKEY_CTX *c;

	assert_ptr_not_null(k2);
	assert_ok(lurk_rsa_split(n2, dd, &a, &b));
	sha256(msg, sizeof(msg) - 1, hash);
	assert_num_eq(RAND_bytes(salt, sizeof(salt)), 1);
	assert_ok(lurk_rsa_pss_encode("SHA256", hash, salt, n2, em, sizeof(em)));
	assert_num_eq(em[0], 0);
	assert_ok(lurk_rsa_pss_verify("SHA256", hash, n2, em, sizeof(em)));
	em[0] = 1; /* the byte above emBits must be zero */
	assert_err(lurk_rsa_pss_verify("SHA256", hash, n2, em, sizeof(em)), LURK_ERR_BAD_FORMAT);
	em[0] = 0;
	assert_ok(lurk_rsa_partial(n2, a, em, sizeof(em), s1));
	assert_ok(lurk_rsa_partial(n2, b, em, sizeof(em), t));
	assert_ok(lurk_rsa_combine(n2, e2, em, s1, t, sizeof(em), sig));
	assert_ptr_not_null(c = EVP_PKEY_CTX_new(k2, NULL));
	assert_num_eq(EVP_PKEY_verify_init(c), 1);
	assert_num_eq(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING), 1);
	assert_num_eq(EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()), 1);
	assert_num_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, 32), 1);
	assert_num_eq(EVP_PKEY_verify(c, sig, sizeof(sig), hash, 32), 1);
	EVP_PKEY_CTX_free(c);
	BN_clear_free(a);
	BN_clear_free(b);
	BN_clear_free(dd);
	BN_free(n2);
	BN_free(e2);
	EVP_PKEY_free(k2);
}

int
main(int argc, char **argv)
{
	int rc;

	lurk_test(test_split_shares, "d = d1 − d2 with d1 < 2^(|n|+128), both positive");
	lurk_test(test_pkcs1_equals_openssl, "combined PKCS#1 v1.5 signature equals OpenSSL's");
	lurk_test(test_pss_verifies, "combined PSS signature verifies; the server's PSS check");
	lurk_test(test_wrong_share_detected, "a wrong share or swapped partials are not released");
	lurk_test(test_pss_byte_aligned_embits,
		"PSS with |n| − 1 a multiple of 8 (leading zero byte)");
	lurk_test(test_inputs_refused, "out-of-range values and unlisted DigestInfos refused");
	rc = lurk_test_run(argc, argv);
	BN_clear_free(d1);
	BN_clear_free(d2);
	BN_clear_free(d);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(key);
	return rc;
}
