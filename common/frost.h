/*
 * FROST(Ed25519, SHA-512), RFC 9591, for a key split between two lurkd
 * servers (issue 18, docs/split-keys.md). libsodium 1.0.18 only.
 *
 * The servers sign (lurk_frost_commit, lurk_frost_sign); the client
 * coordinates (lurk_frost_aggregate, lurk_frost_verify_share); the dealer
 * splits an existing Ed25519 seed or a group secret into two shares.
 *
 * Shares are stored λ-weighted ("additive"): a_i = λ_i·sk_i, so a_1 + a_2 = s
 * and z_i = d_i + e_i·ρ_i + a_i·c, bit-identical to the RFC's z_i. The
 * public share of a signer is PK_i = [a_i]B and PK_1 + PK_2 = PK.
 * Identifiers stay in the encoding (commitment list and ρ input), so the
 * signing core takes them as parameters and is checked against RFC 9591
 * Appendix E.1 (signers 1 and 3) as well as the {1,2} instance lurk uses.
 *
 * Every function returns 0 or a negative LURK_ERR_*: LURK_ERR_INVALID_ARG for
 * caller misuse, LURK_ERR_BAD_FORMAT for a non-canonical scalar, an invalid
 * point or a malformed commitment list, LURK_ERR_CRYPTO when a share or the
 * signature does not verify. Every point from a peer (PK, PK_id, each D and
 * E) is checked by each public function that takes it, once per call: the
 * check is a ~37 µs subgroup check, so the internals do not repeat it.
 * Outputs are zeroed on failure. Secrets passed
 * in are never copied anywhere but the stack, which is wiped on every path.
 * No allocation, no threads, no output.
 */
#ifndef LURK_FROST_H
#define LURK_FROST_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define LURK_FROST_SCALAR_LEN 32
#define LURK_FROST_POINT_LEN  32
#define LURK_FROST_SIG_LEN    64
#define LURK_FROST_RAND_LEN   32
/* Signers per signature: lurk is two of two (the E.1 vector also signs with 2). */
#define LURK_FROST_SIGNERS 2
/* Identifier, 32 bytes, plus D and E. */
#define LURK_FROST_LIST_ENTRY_LEN (LURK_FROST_SCALAR_LEN + 2 * LURK_FROST_POINT_LEN)
#define LURK_FROST_LIST_LEN       (LURK_FROST_SIGNERS * LURK_FROST_LIST_ENTRY_LEN)
/* Largest message signed (a TLS 1.3 CertificateVerify content is 130 bytes). */
#define LURK_FROST_MSG_MAX 65536

/* A signer's secret nonce pair for one signature: use once, then it is wiped. */
struct lurk_frost_nonce {
	uint8_t d[LURK_FROST_SCALAR_LEN]; /* hiding */
	uint8_t e[LURK_FROST_SCALAR_LEN]; /* binding */
};

/* A signer's public commitment: identifier (1..65535 here), D = [d]B, E = [e]B. */
struct lurk_frost_commitment {
	uint16_t id;
	uint8_t D[LURK_FROST_POINT_LEN];
	uint8_t E[LURK_FROST_POINT_LEN];
};

/* ---- Checks on peer data. ---- */

/* 0 if s < L (DeserializeScalar), else LURK_ERR_BAD_FORMAT; constant time. */
int lurk_frost_scalar_check(const uint8_t s[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;
/* 0 if P is canonical, in the prime-order subgroup and not the identity. */
int lurk_frost_point_check(const uint8_t P[LURK_FROST_POINT_LEN]) LURK_MUST_CHECK;

/* ---- Hashes (RFC 9591 §6.1, context "FROST-ED25519-SHA512-v1"). ---- */

/* H4(msg), H5(m): 64-byte digests, not reduced. */
int lurk_frost_h4(const uint8_t *msg, size_t msg_len, uint8_t out[64]) LURK_MUST_CHECK;
int lurk_frost_h5(const uint8_t *m, size_t m_len, uint8_t out[64]) LURK_MUST_CHECK;

/* ---- Round one (signer). ---- */

/* nonce = H3(rand ‖ sk): the vector form, rand given. */
int lurk_frost_nonce_generate_from(const uint8_t rand[LURK_FROST_RAND_LEN],
	const uint8_t sk[LURK_FROST_SCALAR_LEN],
	uint8_t nonce[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;
/* The same with rand drawn by randombytes_buf. */
int lurk_frost_nonce_generate(const uint8_t sk[LURK_FROST_SCALAR_LEN],
	uint8_t nonce[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;

/*
 * commit: d and e from the two randomness values (the vector form), D and E
 * into *com with com->id = id. sk is the share the nonces are hedged with.
 */
int lurk_frost_commit_from(uint16_t id, const uint8_t sk[LURK_FROST_SCALAR_LEN],
	const uint8_t hiding_rand[LURK_FROST_RAND_LEN],
	const uint8_t binding_rand[LURK_FROST_RAND_LEN], struct lurk_frost_nonce *nonce,
	struct lurk_frost_commitment *com) LURK_MUST_CHECK;
int lurk_frost_commit(uint16_t id, const uint8_t sk[LURK_FROST_SCALAR_LEN],
	struct lurk_frost_nonce *nonce, struct lurk_frost_commitment *com) LURK_MUST_CHECK;

/* ---- Shared computations (signer and coordinator). ---- */

/*
 * The list must hold LURK_FROST_SIGNERS entries with identifiers non-zero and
 * strictly ascending and every point valid (lurk_frost_point_check).
 */
int lurk_frost_list_check(const struct lurk_frost_commitment *list, size_t n) LURK_MUST_CHECK;
/* encode_group_commitment_list: n × (id as a 32-byte scalar ‖ D ‖ E). */
int lurk_frost_list_encode(const struct lurk_frost_commitment *list, size_t n,
	uint8_t out[LURK_FROST_LIST_LEN]) LURK_MUST_CHECK;
/* ρ_i = H1(PK ‖ H4(msg) ‖ H5(list) ‖ id_i) for each entry, in list order. */
int lurk_frost_binding_factors(const uint8_t PK[LURK_FROST_POINT_LEN],
	const struct lurk_frost_commitment *list, size_t n, const uint8_t *msg, size_t msg_len,
	uint8_t rho[LURK_FROST_SIGNERS][LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;
/* R = Σ (D_i + [ρ_i]E_i). */
int lurk_frost_group_commitment(const struct lurk_frost_commitment *list, size_t n,
	const uint8_t rho[LURK_FROST_SIGNERS][LURK_FROST_SCALAR_LEN],
	uint8_t R[LURK_FROST_POINT_LEN]) LURK_MUST_CHECK;
/* c = H2(R ‖ PK ‖ msg), RFC 8032's k. */
int lurk_frost_challenge(const uint8_t R[LURK_FROST_POINT_LEN],
	const uint8_t PK[LURK_FROST_POINT_LEN], const uint8_t *msg, size_t msg_len,
	uint8_t c[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;
/* λ_id over the identifiers ids[0..n-1] (id among them), for Shamir shares. */
int lurk_frost_lagrange(uint16_t id, const uint16_t *ids, size_t n,
	uint8_t lambda[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;

/* ---- Round two (signer). ---- */

/*
 * z = d + e·ρ_id + a·c, where a is the λ-weighted share. Checks PK, the
 * list's shape and the other entries' points (lurk_frost_list_check's rules)
 * and that the entry for id equals [d]B, [e]B (valid points by construction).
 * *nonce is wiped on every path, success or not: a nonce is used once.
 */
int lurk_frost_sign(uint16_t id, const uint8_t a[LURK_FROST_SCALAR_LEN],
	struct lurk_frost_nonce *nonce, const uint8_t PK[LURK_FROST_POINT_LEN],
	const struct lurk_frost_commitment *list, size_t n, const uint8_t *msg, size_t msg_len,
	uint8_t z[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;

/* ---- Coordinator. ---- */

/*
 * verify_signature_share: [z]B == D_id + [ρ_id]E_id + [c]PK_id, with PK_id the
 * λ-weighted public share [a_id]B. 0 if it holds, LURK_ERR_CRYPTO if not,
 * LURK_ERR_BAD_FORMAT for a non-canonical z or an invalid point.
 */
int lurk_frost_verify_share(uint16_t id, const uint8_t PK_id[LURK_FROST_POINT_LEN],
	const uint8_t PK[LURK_FROST_POINT_LEN], const struct lurk_frost_commitment *list, size_t n,
	const uint8_t *msg, size_t msg_len, const uint8_t z[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;

/*
 * aggregate: PK and the list checked (lurk_frost_point_check,
 * lurk_frost_list_check), each z_i (in list order) checked canonical, sig = R ‖ Σz_i, then
 * crypto_sign_ed25519_verify_detached(sig, msg, PK): LURK_ERR_CRYPTO (and a
 * zeroed sig) if it does not verify, so an unverified signature never leaves.
 */
int lurk_frost_aggregate(const uint8_t PK[LURK_FROST_POINT_LEN],
	const struct lurk_frost_commitment *list, size_t n, const uint8_t *msg, size_t msg_len,
	const uint8_t z[LURK_FROST_SIGNERS][LURK_FROST_SCALAR_LEN],
	uint8_t sig[LURK_FROST_SIG_LEN]) LURK_MUST_CHECK;

/* ---- Dealer (offline) and public shares. ---- */

/* RFC 8032 §5.1.5: s = clamp(SHA-512(seed)[0..31]) mod L, PK = [s]B. */
int lurk_frost_seed_to_scalar(const uint8_t seed[32], uint8_t s[LURK_FROST_SCALAR_LEN],
	uint8_t PK[LURK_FROST_POINT_LEN]) LURK_MUST_CHECK;
/*
 * Two-of-two Shamir shares of s with f(x) = s + coef·x (RFC 9591 App. C with
 * MIN_PARTICIPANTS 2): sk_id = f(id). Reproduces the RFC's dealer values.
 */
int lurk_frost_shamir_share(const uint8_t s[LURK_FROST_SCALAR_LEN],
	const uint8_t coef[LURK_FROST_SCALAR_LEN], uint16_t id,
	uint8_t sk[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;
/*
 * The stored form for identifiers 1 and 2: a_1 = 2·f(1), a_2 = −f(2), so
 * a_1 + a_2 = s. coef NULL draws it with crypto_core_ed25519_scalar_random.
 */
int lurk_frost_split(const uint8_t s[LURK_FROST_SCALAR_LEN],
	const uint8_t coef[LURK_FROST_SCALAR_LEN], uint8_t a1[LURK_FROST_SCALAR_LEN],
	uint8_t a2[LURK_FROST_SCALAR_LEN]) LURK_MUST_CHECK;
/* PK_i = [a]B (a non-zero). */
int lurk_frost_public_share(
	const uint8_t a[LURK_FROST_SCALAR_LEN], uint8_t PK_i[LURK_FROST_POINT_LEN]) LURK_MUST_CHECK;
/* 0 if PK_1, PK_2 and PK are valid points and PK_1 + PK_2 == PK, else LURK_ERR_CRYPTO / BAD_FORMAT.
 */
int lurk_frost_public_shares_check(const uint8_t PK1[LURK_FROST_POINT_LEN],
	const uint8_t PK2[LURK_FROST_POINT_LEN],
	const uint8_t PK[LURK_FROST_POINT_LEN]) LURK_MUST_CHECK;

#endif
