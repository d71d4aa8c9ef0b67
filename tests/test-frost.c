/*
 * FROST(Ed25519, SHA-512) core (common/frost.c) against RFC 9591 Appendix E.1
 * and the derived {1,2} vector (tests/fixtures/frost-vectors.h): dealer
 * shares, nonces from the given randomness, commitments, H4, H5, binding
 * factors, challenge, signature shares and the final signature, which
 * libsodium and OpenSSL (EVP, Ed25519) both verify. Then the negatives: a
 * tampered share, a non-canonical scalar, invalid points, a malformed list,
 * a nonce used twice or for another commitment, wrong public shares.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "err.h"
#include "fixtures/frost-vectors.h"
#include "frost.h"
#include "tap.h"

#define MSG     ((const uint8_t *)E1_MSG)
#define MSG_LEN (sizeof(E1_MSG) - 1)

/* hex → exactly n bytes, or the test fails. */
static void
hx(const char *hex, uint8_t *out, size_t n)
{
	size_t got = 0;

	assert_num_eq(strlen(hex), 2 * n);
	assert_num_eq(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL), 0);
	assert_num_eq(got, n);
}

/* out equals the hex value. */
#define assert_hex(buf, hex)                                                                       \
	do {                                                                                       \
		uint8_t _want[sizeof(buf)];                                                        \
		hx((hex), _want, sizeof(_want));                                                   \
		assert_mem_eq((buf), _want, sizeof(_want));                                        \
	} while (0)

/* OpenSSL's Ed25519 verification of sig over msg with the raw public key PK. */
static int
openssl_verify(const uint8_t PK[32], const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, PK, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;

	if (pk != NULL && md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1)
		ok = EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return ok;
}

/* The E.1 signing state: signers 1 and 3, λ-weighted shares over {1,3}. */
struct e1 {
	uint8_t s[32], PK[32], a1[32], a3[32];
	struct lurk_frost_nonce n1, n3;
	struct lurk_frost_commitment list[2];
};

static void
e1_setup(struct e1 *v)
{
	static const uint16_t ids[2] = {1, 3};
	uint8_t sk1[32], sk3[32], hr[32], br[32], lambda[32];

	hx(E1_SECRET, v->s, 32);
	hx(E1_PK, v->PK, 32);
	hx(E1_SK1, sk1, 32);
	hx(E1_SK3, sk3, 32);
	assert_ok(lurk_frost_lagrange(1, ids, 2, lambda));
	crypto_core_ed25519_scalar_mul(v->a1, lambda, sk1);
	assert_ok(lurk_frost_lagrange(3, ids, 2, lambda));
	crypto_core_ed25519_scalar_mul(v->a3, lambda, sk3);
	/* Nonces are hedged with the signer's Shamir share, as in the RFC. */
	hx(E1_P1_HRAND, hr, 32);
	hx(E1_P1_BRAND, br, 32);
	assert_ok(lurk_frost_commit_from(1, sk1, hr, br, &v->n1, &v->list[0]));
	hx(E1_P3_HRAND, hr, 32);
	hx(E1_P3_BRAND, br, 32);
	assert_ok(lurk_frost_commit_from(3, sk3, hr, br, &v->n3, &v->list[1]));
}

static void
test_e1_dealer(void)
{
	static const uint16_t ids[2] = {1, 3};
	uint8_t s[32], coef[32], sk[32], PK[32], lambda[32], a1[32], a3[32], sum[32];
	uint8_t sk1[32], sk3[32];

	hx(E1_SECRET, s, 32);
	hx(E1_COEF, coef, 32);
	assert_ok(lurk_frost_public_share(s, PK));
	assert_hex(PK, E1_PK);
	/* f(x) = s + coef·x gives the RFC's three shares. */
	assert_ok(lurk_frost_shamir_share(s, coef, 1, sk));
	assert_hex(sk, E1_SK1);
	memcpy(sk1, sk, 32);
	assert_ok(lurk_frost_shamir_share(s, coef, 2, sk));
	assert_hex(sk, E1_SK2);
	assert_ok(lurk_frost_shamir_share(s, coef, 3, sk));
	assert_hex(sk, E1_SK3);
	memcpy(sk3, sk, 32);
	/* λ over {1,3} = 3/2, −1/2: the research's additive a_1, a_3, summing to s. */
	assert_ok(lurk_frost_lagrange(1, ids, 2, lambda));
	crypto_core_ed25519_scalar_mul(a1, lambda, sk1);
	assert_hex(a1, E1_A1);
	assert_ok(lurk_frost_lagrange(3, ids, 2, lambda));
	crypto_core_ed25519_scalar_mul(a3, lambda, sk3);
	assert_hex(a3, E1_A3);
	crypto_core_ed25519_scalar_add(sum, a1, a3);
	assert_mem_eq(sum, s, 32);
}

static void
test_e1_round_one(void)
{
	struct e1 v;

	e1_setup(&v);
	assert_hex(v.n1.d, E1_P1_D);
	assert_hex(v.n1.e, E1_P1_E);
	assert_hex(v.list[0].D, E1_P1_DC);
	assert_hex(v.list[0].E, E1_P1_EC);
	assert_hex(v.n3.d, E1_P3_D);
	assert_hex(v.n3.e, E1_P3_E);
	assert_hex(v.list[1].D, E1_P3_DC);
	assert_hex(v.list[1].E, E1_P3_EC);
	assert_num_eq(v.list[0].id, 1);
	assert_num_eq(v.list[1].id, 3);
	sodium_memzero(&v, sizeof(v));
}

static void
test_e1_round_two(void)
{
	struct e1 v;
	uint8_t enc[LURK_FROST_LIST_LEN], h4[64], h5[64], rho[2][32], R[32], c[32];
	uint8_t z[2][32], sig[64], PK1[32], PK3[32];

	e1_setup(&v);
	assert_ok(lurk_frost_h4(MSG, MSG_LEN, h4));
	assert_hex(h4, E1_H4);
	assert_ok(lurk_frost_list_encode(v.list, 2, enc));
	/* Identifier 3 as a 32-byte little-endian scalar, then D3 and E3. */
	assert_num_eq(enc[96], 3);
	assert_true(sodium_is_zero(enc + 97, 31));
	assert_ok(lurk_frost_h5(enc, sizeof(enc), h5));
	assert_hex(h5, E1_H5);
	assert_ok(lurk_frost_binding_factors(v.PK, v.list, 2, MSG, MSG_LEN, rho));
	assert_hex(rho[0], E1_RHO1);
	assert_hex(rho[1], E1_RHO3);
	assert_ok(lurk_frost_group_commitment(v.list, 2, (const uint8_t(*)[32])rho, R));
	assert_ok(lurk_frost_challenge(R, v.PK, MSG, MSG_LEN, c));
	assert_hex(c, E1_C);

	assert_ok(lurk_frost_sign(1, v.a1, &v.n1, v.PK, v.list, 2, MSG, MSG_LEN, z[0]));
	assert_hex(z[0], E1_Z1);
	assert_ok(lurk_frost_sign(3, v.a3, &v.n3, v.PK, v.list, 2, MSG, MSG_LEN, z[1]));
	assert_hex(z[1], E1_Z3);
	/* sign wiped the nonces: used once. */
	assert_true(sodium_is_zero((uint8_t *)&v.n1, sizeof(v.n1)));
	assert_true(sodium_is_zero((uint8_t *)&v.n3, sizeof(v.n3)));

	/* Share checks with the λ-weighted public shares, then the signature. */
	assert_ok(lurk_frost_public_share(v.a1, PK1));
	assert_ok(lurk_frost_public_share(v.a3, PK3));
	assert_ok(lurk_frost_public_shares_check(PK1, PK3, v.PK));
	assert_ok(lurk_frost_verify_share(1, PK1, v.PK, v.list, 2, MSG, MSG_LEN, z[0]));
	assert_ok(lurk_frost_verify_share(3, PK3, v.PK, v.list, 2, MSG, MSG_LEN, z[1]));
	assert_ok(
		lurk_frost_aggregate(v.PK, v.list, 2, MSG, MSG_LEN, (const uint8_t(*)[32])z, sig));
	assert_hex(sig, E1_SIG);
	assert_mem_eq(sig, R, 32);
	assert_num_eq(crypto_sign_ed25519_verify_detached(sig, MSG, MSG_LEN, v.PK), 0);
	assert_true(openssl_verify(v.PK, MSG, MSG_LEN, sig));
	sodium_memzero(&v, sizeof(v));
}

/* The {1,2} instance lurk runs, end to end from the dealer. */
static void
test_derived_12(void)
{
	uint8_t s[32], coef[32], PK[32], a1[32], a2[32], sk1[32], sk2[32], hr[32], br[32];
	uint8_t rho[2][32], z[2][32], sig[64], PK1[32], PK2[32];
	struct lurk_frost_nonce n1, n2;
	struct lurk_frost_commitment list[2];

	hx(E1_SECRET, s, 32);
	hx(E1_COEF, coef, 32);
	hx(E1_PK, PK, 32);
	assert_ok(lurk_frost_split(s, coef, a1, a2));
	assert_hex(a1, D12_A1);
	assert_hex(a2, D12_A2);
	assert_ok(lurk_frost_shamir_share(s, coef, 1, sk1));
	assert_ok(lurk_frost_shamir_share(s, coef, 2, sk2));

	hx(E1_P1_HRAND, hr, 32);
	hx(E1_P1_BRAND, br, 32);
	assert_ok(lurk_frost_commit_from(1, sk1, hr, br, &n1, &list[0]));
	hx(E1_P3_HRAND, hr, 32);
	hx(E1_P3_BRAND, br, 32);
	assert_ok(lurk_frost_commit_from(2, sk2, hr, br, &n2, &list[1]));
	assert_hex(list[0].D, E1_P1_DC);
	assert_hex(list[1].D, D12_P2_DC);
	assert_hex(list[1].E, D12_P2_EC);

	assert_ok(lurk_frost_binding_factors(PK, list, 2, MSG, MSG_LEN, rho));
	assert_hex(rho[0], D12_RHO1);
	assert_hex(rho[1], D12_RHO2);
	assert_ok(lurk_frost_sign(1, a1, &n1, PK, list, 2, MSG, MSG_LEN, z[0]));
	assert_ok(lurk_frost_sign(2, a2, &n2, PK, list, 2, MSG, MSG_LEN, z[1]));
	assert_hex(z[0], D12_Z1);
	assert_hex(z[1], D12_Z2);

	assert_ok(lurk_frost_public_share(a1, PK1));
	assert_ok(lurk_frost_public_share(a2, PK2));
	assert_ok(lurk_frost_public_shares_check(PK1, PK2, PK));
	assert_ok(lurk_frost_verify_share(1, PK1, PK, list, 2, MSG, MSG_LEN, z[0]));
	assert_ok(lurk_frost_verify_share(2, PK2, PK, list, 2, MSG, MSG_LEN, z[1]));
	assert_ok(lurk_frost_aggregate(PK, list, 2, MSG, MSG_LEN, (const uint8_t(*)[32])z, sig));
	assert_hex(sig, D12_SIG);
	assert_true(openssl_verify(PK, MSG, MSG_LEN, sig));
	sodium_memzero(a1, 32);
	sodium_memzero(a2, 32);
}

/* An existing Ed25519 key split with fresh randomness signs a TLS-sized message. */
static void
test_seed_split_random(void)
{
	uint8_t seed[32], pk[32], sk64[64], s[32], PK[32], a1[32], a2[32], PK1[32], PK2[32];
	uint8_t msg[130], z[2][32], sig[64];
	struct lurk_frost_nonce n1, n2;
	struct lurk_frost_commitment list[2];
	int round;

	for (round = 0; round < 8; round++) {
		randombytes_buf(seed, sizeof(seed));
		randombytes_buf(msg, sizeof(msg));
		assert_num_eq(crypto_sign_ed25519_seed_keypair(pk, sk64, seed), 0);
		assert_ok(lurk_frost_seed_to_scalar(seed, s, PK));
		assert_mem_eq(PK, pk, 32); /* the certificate's key is unchanged */
		assert_ok(lurk_frost_split(s, NULL, a1, a2));
		assert_ok(lurk_frost_public_share(a1, PK1));
		assert_ok(lurk_frost_public_share(a2, PK2));
		assert_ok(lurk_frost_public_shares_check(PK1, PK2, PK));
		/* The server hedges its nonces with the share it stores. */
		assert_ok(lurk_frost_commit(1, a1, &n1, &list[0]));
		assert_ok(lurk_frost_commit(2, a2, &n2, &list[1]));
		assert_ok(lurk_frost_sign(1, a1, &n1, PK, list, 2, msg, sizeof(msg), z[0]));
		assert_ok(lurk_frost_sign(2, a2, &n2, PK, list, 2, msg, sizeof(msg), z[1]));
		assert_ok(lurk_frost_aggregate(
			PK, list, 2, msg, sizeof(msg), (const uint8_t(*)[32])z, sig));
		assert_num_eq(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
		assert_true(openssl_verify(PK, msg, sizeof(msg), sig));
	}
	sodium_memzero(sk64, sizeof(sk64));
	sodium_memzero(s, sizeof(s));
}

/* Shares for the {1,2} vector, fresh nonces: the state the negative tests tamper with. */
struct run {
	uint8_t PK[32], a1[32], a2[32], PK1[32], PK2[32];
	struct lurk_frost_commitment list[2];
	uint8_t z[2][32];
};

static void
run_setup(struct run *r)
{
	uint8_t s[32];
	struct lurk_frost_nonce n1, n2;

	crypto_core_ed25519_scalar_random(s);
	assert_ok(lurk_frost_public_share(s, r->PK));
	assert_ok(lurk_frost_split(s, NULL, r->a1, r->a2));
	assert_ok(lurk_frost_public_share(r->a1, r->PK1));
	assert_ok(lurk_frost_public_share(r->a2, r->PK2));
	assert_ok(lurk_frost_commit(1, r->a1, &n1, &r->list[0]));
	assert_ok(lurk_frost_commit(2, r->a2, &n2, &r->list[1]));
	assert_ok(lurk_frost_sign(1, r->a1, &n1, r->PK, r->list, 2, MSG, MSG_LEN, r->z[0]));
	assert_ok(lurk_frost_sign(2, r->a2, &n2, r->PK, r->list, 2, MSG, MSG_LEN, r->z[1]));
	sodium_memzero(s, sizeof(s));
}

static void
test_bad_share_detected(void)
{
	static const uint8_t one[32] = {1};
	struct run r;
	uint8_t sig[64];

	run_setup(&r);
	/* z_2 + 1: still canonical, but wrong. */
	crypto_core_ed25519_scalar_add(r.z[1], r.z[1], one);
	assert_err(
		lurk_frost_aggregate(r.PK, r.list, 2, MSG, MSG_LEN, (const uint8_t(*)[32])r.z, sig),
		LURK_ERR_CRYPTO);
	assert_true(sodium_is_zero(sig, 64)); /* nothing unverified leaves */
	/* Blame: signer 1's share holds, signer 2's does not. */
	assert_ok(lurk_frost_verify_share(1, r.PK1, r.PK, r.list, 2, MSG, MSG_LEN, r.z[0]));
	assert_err(lurk_frost_verify_share(2, r.PK2, r.PK, r.list, 2, MSG, MSG_LEN, r.z[1]),
		LURK_ERR_CRYPTO);
	/* A right share checked against the wrong public share, or for another message. */
	assert_err(lurk_frost_verify_share(1, r.PK2, r.PK, r.list, 2, MSG, MSG_LEN, r.z[0]),
		LURK_ERR_CRYPTO);
	assert_err(lurk_frost_verify_share(
			   1, r.PK1, r.PK, r.list, 2, (const uint8_t *)"tesT", 4, r.z[0]),
		LURK_ERR_CRYPTO);
	/* A share from another signing (other commitments) does not fit. */
	{
		struct run o;

		run_setup(&o);
		memcpy(r.z[1], o.z[1], 32);
		assert_err(lurk_frost_aggregate(
				   r.PK, r.list, 2, MSG, MSG_LEN, (const uint8_t(*)[32])r.z, sig),
			LURK_ERR_CRYPTO);
	}
}

static void
test_scalar_canonical(void)
{
	struct run r;
	uint8_t L[32], sig[64], t[32];
	static const uint8_t zero[32];

	hx("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", L, 32);
	assert_err(lurk_frost_scalar_check(L), LURK_ERR_BAD_FORMAT);
	memcpy(t, L, 32);
	t[0]--; /* L − 1 */
	assert_ok(lurk_frost_scalar_check(t));
	t[0] += 2; /* L + 1 */
	assert_err(lurk_frost_scalar_check(t), LURK_ERR_BAD_FORMAT);
	memset(t, 0xff, 32);
	assert_err(lurk_frost_scalar_check(t), LURK_ERR_BAD_FORMAT);
	assert_ok(lurk_frost_scalar_check(zero));

	/* z_1 + L is the same residue but not canonical: refused, not reduced. */
	run_setup(&r);
	{
		unsigned carry = 0, i;

		for (i = 0; i < 32; i++) {
			carry += (unsigned)r.z[0][i] + L[i];
			t[i] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	/* z + L < 2^254: no carry out, and t ≥ L. */
	assert_err(lurk_frost_scalar_check(t), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_frost_verify_share(1, r.PK1, r.PK, r.list, 2, MSG, MSG_LEN, t),
		LURK_ERR_BAD_FORMAT);
	memcpy(r.z[0], t, 32);
	assert_err(
		lurk_frost_aggregate(r.PK, r.list, 2, MSG, MSG_LEN, (const uint8_t(*)[32])r.z, sig),
		LURK_ERR_BAD_FORMAT);
	assert_err(lurk_frost_public_share(L, t), LURK_ERR_BAD_FORMAT);
}

static void
test_points_refused(void)
{
	struct run r;
	struct lurk_frost_commitment bad[2];
	uint8_t rho[2][32], sig[64], p[32];
	struct lurk_frost_nonce n;
	uint8_t z[32];
	int k;

	run_setup(&r);
	for (k = 0; k < 4; k++) {
		memset(p, 0, 32);
		switch (k) {
		case 0: /* the identity (small order) */
			p[0] = 1;
			break;
		case 1: /* y = p (non-canonical encoding of 0) */
			hx("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", p,
				32);
			break;
		case 2: /* a point of order 8 */
			hx("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", p,
				32);
			break;
		case 3: /* PK + a torsion point: on the curve, outside the subgroup */
			hx("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", p,
				32);
			assert_num_eq(crypto_core_ed25519_add(p, r.PK, p), 0);
			break;
		}
		assert_err(lurk_frost_point_check(p), LURK_ERR_BAD_FORMAT);
		memcpy(bad, r.list, sizeof(bad));
		memcpy(k % 2 ? bad[1].E : bad[0].D, p, 32);
		assert_err(lurk_frost_list_check(bad, 2), LURK_ERR_BAD_FORMAT);
		assert_err(lurk_frost_binding_factors(r.PK, bad, 2, MSG, MSG_LEN, rho),
			LURK_ERR_BAD_FORMAT);
		assert_err(lurk_frost_aggregate(
				   r.PK, bad, 2, MSG, MSG_LEN, (const uint8_t(*)[32])r.z, sig),
			LURK_ERR_BAD_FORMAT);
		assert_err(lurk_frost_verify_share(1, r.PK1, r.PK, bad, 2, MSG, MSG_LEN, r.z[0]),
			LURK_ERR_BAD_FORMAT);
		/* A bad group key or public share too. */
		assert_err(lurk_frost_verify_share(1, p, r.PK, r.list, 2, MSG, MSG_LEN, r.z[0]),
			LURK_ERR_BAD_FORMAT);
		assert_err(lurk_frost_public_shares_check(r.PK1, p, r.PK), LURK_ERR_BAD_FORMAT);
		assert_err(lurk_frost_binding_factors(p, r.list, 2, MSG, MSG_LEN, rho),
			LURK_ERR_BAD_FORMAT);
		/* The signer refuses too, and its nonce is gone anyway. */
		assert_ok(lurk_frost_commit(1, r.a1, &n, &bad[0]));
		memcpy(bad[1].D, p, 32);
		assert_err(lurk_frost_sign(1, r.a1, &n, r.PK, bad, 2, MSG, MSG_LEN, z),
			LURK_ERR_BAD_FORMAT);
		assert_true(sodium_is_zero((uint8_t *)&n, sizeof(n)));
		assert_true(sodium_is_zero(z, 32));
		/*
		 * Each point is checked once per call, not skipped: the peer's E,
		 * and our own entry (checked by equality with [d]B, [e]B), are
		 * refused as well, and a bad group key too.
		 */
		assert_ok(lurk_frost_commit(1, r.a1, &n, &bad[0]));
		bad[1] = r.list[1];
		memcpy(bad[1].E, p, 32);
		assert_err(lurk_frost_sign(1, r.a1, &n, r.PK, bad, 2, MSG, MSG_LEN, z),
			LURK_ERR_BAD_FORMAT);
		assert_true(sodium_is_zero(z, 32));
		assert_ok(lurk_frost_commit(1, r.a1, &n, &bad[0]));
		bad[1] = r.list[1];
		memcpy(k % 2 ? bad[0].E : bad[0].D, p, 32);
		assert_err(lurk_frost_sign(1, r.a1, &n, r.PK, bad, 2, MSG, MSG_LEN, z),
			LURK_ERR_BAD_FORMAT);
		assert_true(sodium_is_zero(z, 32));
		assert_ok(lurk_frost_commit(1, r.a1, &n, &bad[0]));
		assert_err(lurk_frost_sign(1, r.a1, &n, p, bad, 2, MSG, MSG_LEN, z),
			LURK_ERR_BAD_FORMAT);
		assert_true(sodium_is_zero((uint8_t *)&n, sizeof(n)));
		/* The coordinator: a bad point in either entry, or a bad group key. */
		memcpy(bad, r.list, sizeof(bad));
		memcpy(k % 2 ? bad[0].E : bad[1].D, p, 32);
		assert_err(lurk_frost_aggregate(
				   r.PK, bad, 2, MSG, MSG_LEN, (const uint8_t(*)[32])r.z, sig),
			LURK_ERR_BAD_FORMAT);
		assert_err(lurk_frost_aggregate(
				   p, r.list, 2, MSG, MSG_LEN, (const uint8_t(*)[32])r.z, sig),
			LURK_ERR_BAD_FORMAT);
		assert_true(sodium_is_zero(sig, 64));
		/* The same list with its points put back still signs and aggregates. */
		assert_ok(lurk_frost_aggregate(
			r.PK, r.list, 2, MSG, MSG_LEN, (const uint8_t(*)[32])r.z, sig));
	}
	/* PK_1 + PK_2 must be PK. */
	assert_ok(lurk_frost_public_shares_check(r.PK1, r.PK2, r.PK));
	assert_err(lurk_frost_public_shares_check(r.PK1, r.PK1, r.PK), LURK_ERR_CRYPTO);
}

static void
test_list_and_nonce_misuse(void)
{
	struct run r;
	struct lurk_frost_nonce n, copy, spare;
	struct lurk_frost_commitment list[2], other;
	uint8_t z[32], rho[2][32];

	run_setup(&r);
	assert_ok(lurk_frost_commit(1, r.a1, &n, &list[0]));
	list[1] = r.list[1];

	/* Unsorted, duplicate, zero identifiers, wrong count. */
	{
		struct lurk_frost_commitment swapped[2] = {list[1], list[0]},
					     dup[2] = {list[0], list[0]};

		assert_err(lurk_frost_list_check(swapped, 2), LURK_ERR_BAD_FORMAT);
		assert_err(lurk_frost_list_check(dup, 2), LURK_ERR_BAD_FORMAT);
		dup[1].id = 0;
		assert_err(lurk_frost_list_check(dup, 2), LURK_ERR_BAD_FORMAT);
		assert_err(lurk_frost_list_check(list, 1), LURK_ERR_INVALID_ARG);
		assert_err(lurk_frost_list_check(list, 3), LURK_ERR_INVALID_ARG);
		assert_err(lurk_frost_binding_factors(r.PK, swapped, 2, MSG, MSG_LEN, rho),
			LURK_ERR_BAD_FORMAT);
	}

	/* The list carries another commitment for this signer: refused, nonce wiped. */
	copy = n;
	assert_ok(lurk_frost_commit(1, r.a1, &spare, &other));
	sodium_memzero(&spare, sizeof(spare));
	{
		struct lurk_frost_commitment l2[2] = {other, list[1]};

		assert_err(lurk_frost_sign(1, r.a1, &copy, r.PK, l2, 2, MSG, MSG_LEN, z),
			LURK_ERR_BAD_FORMAT);
		assert_true(sodium_is_zero((uint8_t *)&copy, sizeof(copy)));
	}
	/* Its own identifier missing from the list. */
	copy = n;
	assert_err(lurk_frost_sign(3, r.a1, &copy, r.PK, list, 2, MSG, MSG_LEN, z),
		LURK_ERR_BAD_FORMAT);
	assert_true(sodium_is_zero((uint8_t *)&copy, sizeof(copy)));
	/* Used once: after a signature the same nonce struct cannot sign again. */
	assert_ok(lurk_frost_sign(1, r.a1, &n, r.PK, list, 2, MSG, MSG_LEN, z));
	assert_false(sodium_is_zero(z, 32));
	assert_err(
		lurk_frost_sign(1, r.a1, &n, r.PK, list, 2, MSG, MSG_LEN, z), LURK_ERR_INVALID_ARG);
	assert_true(sodium_is_zero(z, 32));
	/* A message over the cap. */
	{
		uint8_t h[64];

		assert_err(lurk_frost_h4(MSG, LURK_FROST_MSG_MAX + 1, h), LURK_ERR_INVALID_ARG);
	}
}

static void
test_lagrange_12(void)
{
	static const uint16_t ids[2] = {1, 2}, dup[2] = {1, 1};
	uint8_t lambda[32], want[32] = {2}, minus1[32], one[32] = {1};

	assert_ok(lurk_frost_lagrange(1, ids, 2, lambda));
	assert_mem_eq(lambda, want, 32);
	assert_ok(lurk_frost_lagrange(2, ids, 2, lambda));
	crypto_core_ed25519_scalar_negate(minus1, one);
	assert_mem_eq(lambda, minus1, 32);
	assert_err(lurk_frost_lagrange(3, ids, 2, lambda), LURK_ERR_INVALID_ARG);
	assert_err(lurk_frost_lagrange(1, dup, 2, lambda), LURK_ERR_INVALID_ARG);
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	lurk_test(test_e1_dealer,
		"E.1 dealer: group key, shares from the coefficient, λ-weighted shares");
	lurk_test(test_e1_round_one, "E.1 round one: nonces and commitments from the randomness");
	lurk_test(test_e1_round_two, "E.1 round two: H4, H5, ρ, c, z_1, z_3, signature, verified");
	lurk_test(test_derived_12, "derived {1,2} vector end to end from the dealer split");
	lurk_test(test_seed_split_random,
		"an Ed25519 seed split, signed, verified by libsodium and OpenSSL");
	lurk_test(
		test_bad_share_detected, "a tampered share fails aggregation and its share check");
	lurk_test(test_scalar_canonical, "non-canonical scalars are refused");
	lurk_test(test_points_refused, "invalid points are refused everywhere");
	lurk_test(
		test_list_and_nonce_misuse, "malformed lists, foreign commitments, a reused nonce");
	lurk_test(test_lagrange_12, "λ over {1,2} is 2 and −1");
	return lurk_test_run(argc, argv);
}
