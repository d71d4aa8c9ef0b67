/*
 * FROST(Ed25519, SHA-512) on libsodium 1.0.18 (RFC 9591; the mapping and its
 * pitfalls are in docs/research/split_keys.md §2):
 *
 * - libsodium has no DeserializeScalar: s < L is a constant-time
 *   little-endian sodium_compare against L.
 * - crypto_core_ed25519_add does no subgroup check, so every point from a peer
 *   goes through crypto_core_ed25519_is_valid_point first, once per
 *   operation: that check costs ~37 µs (a subgroup check), so each public
 *   entry point checks PK and the list once, then uses the unchecked static
 *   helpers below (encode_list, rho_of, R_of, context_of). A signer's own
 *   entry, byte-equal to [d]B and [e]B it computed, needs no further check.
 * - the noclamp scalar multiplications return -1 for a zero scalar or an
 *   identity result; both are errors here (a zero ρ or c has probability
 *   2^-252, a zero share is refused).
 *
 * Secret scalars (shares, nonces, products with them) only go through
 * crypto_core_ed25519_scalar_* and crypto_scalarmult_ed25519_*, which are
 * constant time; every stack copy is wiped before return.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "err.h"
#include "frost.h"

#define SL LURK_FROST_SCALAR_LEN
#define PL LURK_FROST_POINT_LEN

static const char ctx[] = "FROST-ED25519-SHA512-v1";

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t order_le[SL] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c,
	0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

struct part {
	const uint8_t *p;
	size_t len;
};

/* SHA-512 over [ctx ‖ tag] ‖ parts; tag NULL means no context (H2). */
static void
hash_parts(const char *tag, const struct part *parts, size_t n, uint8_t out[64])
{
	crypto_hash_sha512_state st;
	size_t i;

	crypto_hash_sha512_init(&st);
	if (tag != NULL) {
		crypto_hash_sha512_update(&st, (const uint8_t *)ctx, sizeof(ctx) - 1);
		crypto_hash_sha512_update(&st, (const uint8_t *)tag, strlen(tag));
	}
	for (i = 0; i < n; i++)
		crypto_hash_sha512_update(&st, parts[i].p, parts[i].len);
	crypto_hash_sha512_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* The same, reduced mod L (H1, H2, H3). */
static void
hash_to_scalar(const char *tag, const struct part *parts, size_t n, uint8_t out[SL])
{
	uint8_t h[64];

	hash_parts(tag, parts, n, h);
	crypto_core_ed25519_scalar_reduce(out, h);
	sodium_memzero(h, sizeof(h));
}

static void
id_scalar(uint16_t id, uint8_t out[SL])
{
	memset(out, 0, SL);
	out[0] = (uint8_t)(id & 0xff);
	out[1] = (uint8_t)(id >> 8);
}

static int
msg_ok(const uint8_t *msg, size_t msg_len)
{
	return (msg != NULL || msg_len == 0) && msg_len <= LURK_FROST_MSG_MAX;
}

int
lurk_frost_scalar_check(const uint8_t s[SL])
{
	if (s == NULL)
		return LURK_ERR_INVALID_ARG;
	/* sodium_compare reads both as little-endian numbers: -1 means s < L. */
	return sodium_compare(s, order_le, SL) == -1 ? 0 : LURK_ERR_BAD_FORMAT;
}

int
lurk_frost_point_check(const uint8_t P[PL])
{
	if (P == NULL)
		return LURK_ERR_INVALID_ARG;
	return crypto_core_ed25519_is_valid_point(P) == 1 ? 0 : LURK_ERR_BAD_FORMAT;
}

int
lurk_frost_h4(const uint8_t *msg, size_t msg_len, uint8_t out[64])
{
	struct part p = {msg, msg_len};

	if (out == NULL || !msg_ok(msg, msg_len))
		return LURK_ERR_INVALID_ARG;
	hash_parts("msg", &p, 1, out);
	return 0;
}

int
lurk_frost_h5(const uint8_t *m, size_t m_len, uint8_t out[64])
{
	struct part p = {m, m_len};

	if (out == NULL || (m == NULL && m_len != 0))
		return LURK_ERR_INVALID_ARG;
	hash_parts("com", &p, 1, out);
	return 0;
}

int
lurk_frost_nonce_generate_from(
	const uint8_t rand[LURK_FROST_RAND_LEN], const uint8_t sk[SL], uint8_t nonce[SL])
{
	struct part p[2] = {{rand, LURK_FROST_RAND_LEN}, {sk, SL}};

	if (nonce == NULL)
		return LURK_ERR_INVALID_ARG;
	if (rand == NULL || sk == NULL) {
		sodium_memzero(nonce, SL);
		return LURK_ERR_INVALID_ARG;
	}
	hash_to_scalar("nonce", p, 2, nonce);
	return 0;
}

int
lurk_frost_nonce_generate(const uint8_t sk[SL], uint8_t nonce[SL])
{
	uint8_t r[LURK_FROST_RAND_LEN];
	int rc;

	randombytes_buf(r, sizeof(r));
	rc = lurk_frost_nonce_generate_from(r, sk, nonce);
	sodium_memzero(r, sizeof(r));
	return rc;
}

int
lurk_frost_commit_from(uint16_t id, const uint8_t sk[SL],
	const uint8_t hiding_rand[LURK_FROST_RAND_LEN],
	const uint8_t binding_rand[LURK_FROST_RAND_LEN], struct lurk_frost_nonce *nonce,
	struct lurk_frost_commitment *com)
{
	int rc;

	if (nonce == NULL || com == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(com, 0, sizeof(*com));
	if (id == 0) {
		sodium_memzero(nonce, sizeof(*nonce));
		return LURK_ERR_INVALID_ARG;
	}
	if ((rc = lurk_frost_nonce_generate_from(hiding_rand, sk, nonce->d)) < 0 ||
		(rc = lurk_frost_nonce_generate_from(binding_rand, sk, nonce->e)) < 0)
		goto fail;
	if (crypto_scalarmult_ed25519_base_noclamp(com->D, nonce->d) != 0 ||
		crypto_scalarmult_ed25519_base_noclamp(com->E, nonce->e) != 0) {
		rc = LURK_ERR_CRYPTO;
		goto fail;
	}
	com->id = id;
	return 0;
fail:
	sodium_memzero(nonce, sizeof(*nonce));
	memset(com, 0, sizeof(*com));
	return rc;
}

int
lurk_frost_commit(uint16_t id, const uint8_t sk[SL], struct lurk_frost_nonce *nonce,
	struct lurk_frost_commitment *com)
{
	uint8_t r[2][LURK_FROST_RAND_LEN];
	int rc;

	randombytes_buf(r, sizeof(r));
	rc = lurk_frost_commit_from(id, sk, r[0], r[1], nonce, com);
	sodium_memzero(r, sizeof(r));
	return rc;
}

/* The list's shape: n entries, identifiers non-zero and strictly ascending. */
static int
list_shape_check(const struct lurk_frost_commitment *list, size_t n)
{
	size_t i;

	if (list == NULL || n != LURK_FROST_SIGNERS)
		return LURK_ERR_INVALID_ARG;
	for (i = 0; i < n; i++)
		if (list[i].id == 0 || (i > 0 && list[i].id <= list[i - 1].id))
			return LURK_ERR_BAD_FORMAT;
	return 0;
}

/* Every D and E valid, except entry skip's (skip >= n checks them all). */
static int
list_points_check(const struct lurk_frost_commitment *list, size_t n, size_t skip)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i == skip)
			continue;
		if (lurk_frost_point_check(list[i].D) < 0 || lurk_frost_point_check(list[i].E) < 0)
			return LURK_ERR_BAD_FORMAT;
	}
	return 0;
}

int
lurk_frost_list_check(const struct lurk_frost_commitment *list, size_t n)
{
	int rc;

	if ((rc = list_shape_check(list, n)) < 0)
		return rc;
	return list_points_check(list, n, n);
}

/* The unchecked helpers below take a list that has passed lurk_frost_list_check. */
static void
encode_list(const struct lurk_frost_commitment *list, size_t n, uint8_t out[LURK_FROST_LIST_LEN])
{
	size_t i;
	uint8_t *p = out;

	for (i = 0; i < n; i++) {
		id_scalar(list[i].id, p);
		memcpy(p + SL, list[i].D, PL);
		memcpy(p + SL + PL, list[i].E, PL);
		p += LURK_FROST_LIST_ENTRY_LEN;
	}
}

int
lurk_frost_list_encode(
	const struct lurk_frost_commitment *list, size_t n, uint8_t out[LURK_FROST_LIST_LEN])
{
	int rc;

	if (out == NULL)
		return LURK_ERR_INVALID_ARG;
	if ((rc = lurk_frost_list_check(list, n)) < 0) {
		memset(out, 0, LURK_FROST_LIST_LEN);
		return rc;
	}
	encode_list(list, n, out);
	return 0;
}

/* ρ_i for a checked PK and list; msg_ok(msg, msg_len) holds. */
static void
rho_of(const uint8_t PK[PL], const struct lurk_frost_commitment *list, size_t n, const uint8_t *msg,
	size_t msg_len, uint8_t rho[LURK_FROST_SIGNERS][SL])
{
	uint8_t enc[LURK_FROST_LIST_LEN], prefix[PL + 64 + 64], id[SL];
	struct part m = {msg, msg_len}, p[2] = {{prefix, sizeof(prefix)}, {id, SL}}, e;
	size_t i;

	encode_list(list, n, enc);
	e.p = enc;
	e.len = sizeof(enc);
	memcpy(prefix, PK, PL);
	hash_parts("msg", &m, 1, prefix + PL);      /* H4 */
	hash_parts("com", &e, 1, prefix + PL + 64); /* H5 */
	for (i = 0; i < n; i++) {
		id_scalar(list[i].id, id);
		hash_to_scalar("rho", p, 2, rho[i]);
	}
}

int
lurk_frost_binding_factors(const uint8_t PK[PL], const struct lurk_frost_commitment *list, size_t n,
	const uint8_t *msg, size_t msg_len, uint8_t rho[LURK_FROST_SIGNERS][SL])
{
	int rc;

	if (rho == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(rho, 0, LURK_FROST_SIGNERS * SL);
	if (PK == NULL || !msg_ok(msg, msg_len))
		return LURK_ERR_INVALID_ARG;
	if ((rc = lurk_frost_point_check(PK)) < 0 || (rc = lurk_frost_list_check(list, n)) < 0)
		return rc;
	rho_of(PK, list, n, msg, msg_len, rho);
	return 0;
}

/* R for a checked list. */
static int
R_of(const struct lurk_frost_commitment *list, size_t n, const uint8_t rho[LURK_FROST_SIGNERS][SL],
	uint8_t R[PL])
{
	uint8_t t[PL], acc[PL];
	size_t i;

	for (i = 0; i < n; i++) {
		/* D_i + [ρ_i]E_i; the caller has validated the points. */
		if (crypto_scalarmult_ed25519_noclamp(t, rho[i], list[i].E) != 0 ||
			crypto_core_ed25519_add(t, list[i].D, t) != 0)
			return LURK_ERR_CRYPTO;
		if (i == 0)
			memcpy(acc, t, PL);
		else if (crypto_core_ed25519_add(acc, acc, t) != 0)
			return LURK_ERR_CRYPTO;
	}
	memcpy(R, acc, PL);
	return 0;
}

int
lurk_frost_group_commitment(const struct lurk_frost_commitment *list, size_t n,
	const uint8_t rho[LURK_FROST_SIGNERS][SL], uint8_t R[PL])
{
	int rc;

	if (R == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(R, 0, PL);
	if (rho == NULL)
		return LURK_ERR_INVALID_ARG;
	if ((rc = lurk_frost_list_check(list, n)) < 0)
		return rc;
	if ((rc = R_of(list, n, rho, R)) < 0)
		memset(R, 0, PL);
	return rc;
}

int
lurk_frost_challenge(const uint8_t R[PL], const uint8_t PK[PL], const uint8_t *msg, size_t msg_len,
	uint8_t c[SL])
{
	struct part p[3] = {{R, PL}, {PK, PL}, {msg, msg_len}};

	if (c == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(c, 0, SL);
	if (R == NULL || PK == NULL || !msg_ok(msg, msg_len))
		return LURK_ERR_INVALID_ARG;
	hash_to_scalar(NULL, p, 3, c);
	return 0;
}

int
lurk_frost_lagrange(uint16_t id, const uint16_t *ids, size_t n, uint8_t lambda[SL])
{
	uint8_t xi[SL], xj[SL], num[SL], den[SL], t[SL];
	size_t j;
	int found = 0;

	if (lambda == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(lambda, 0, SL);
	if (ids == NULL || n == 0 || n > LURK_FROST_SIGNERS || id == 0)
		return LURK_ERR_INVALID_ARG;
	id_scalar(id, xi);
	id_scalar(1, num);
	id_scalar(1, den);
	for (j = 0; j < n; j++) {
		if (ids[j] == 0)
			return LURK_ERR_INVALID_ARG;
		if (ids[j] == id) {
			if (found++)
				return LURK_ERR_INVALID_ARG; /* duplicate */
			continue;
		}
		id_scalar(ids[j], xj);
		crypto_core_ed25519_scalar_mul(num, num, xj);
		crypto_core_ed25519_scalar_sub(t, xj, xi);
		crypto_core_ed25519_scalar_mul(den, den, t);
	}
	if (!found)
		return LURK_ERR_INVALID_ARG;
	if (crypto_core_ed25519_scalar_invert(t, den) != 0)
		return LURK_ERR_INVALID_ARG; /* a duplicate identifier */
	crypto_core_ed25519_scalar_mul(lambda, num, t);
	return 0;
}

/* The position of id in a list of the right shape. */
static int
find_id(uint16_t id, const struct lurk_frost_commitment *list, size_t n, size_t *pos)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].id == id) {
			*pos = i;
			return 0;
		}
	return LURK_ERR_BAD_FORMAT; /* the signer's own commitment is missing */
}

/* ρ, R and c for one signature over a checked PK and list (msg_ok holds). */
static int
context_of(const uint8_t PK[PL], const struct lurk_frost_commitment *list, size_t n,
	const uint8_t *msg, size_t msg_len, uint8_t rho[LURK_FROST_SIGNERS][SL], uint8_t R[PL],
	uint8_t c[SL])
{
	int rc;

	rho_of(PK, list, n, msg, msg_len, rho);
	if ((rc = R_of(list, n, (const uint8_t(*)[SL])rho, R)) < 0)
		return rc;
	return lurk_frost_challenge(R, PK, msg, msg_len, c);
}

/* PK valid, the list well formed with every point valid, id in it: the one check. */
static int
checked_context(uint16_t id, const uint8_t PK[PL], const struct lurk_frost_commitment *list,
	size_t n, const uint8_t *msg, size_t msg_len, uint8_t rho[LURK_FROST_SIGNERS][SL],
	uint8_t R[PL], uint8_t c[SL], size_t *pos)
{
	int rc;

	if (PK == NULL || !msg_ok(msg, msg_len))
		return LURK_ERR_INVALID_ARG;
	if ((rc = lurk_frost_point_check(PK)) < 0 || (rc = lurk_frost_list_check(list, n)) < 0 ||
		(rc = find_id(id, list, n, pos)) < 0)
		return rc;
	return context_of(PK, list, n, msg, msg_len, rho, R, c);
}

int
lurk_frost_sign(uint16_t id, const uint8_t a[SL], struct lurk_frost_nonce *nonce,
	const uint8_t PK[PL], const struct lurk_frost_commitment *list, size_t n,
	const uint8_t *msg, size_t msg_len, uint8_t z[SL])
{
	uint8_t rho[LURK_FROST_SIGNERS][SL], R[PL], c[SL], D[PL], E[PL], t[SL];
	size_t pos = 0;
	int rc;

	if (z == NULL || nonce == NULL) {
		if (nonce != NULL)
			sodium_memzero(nonce, sizeof(*nonce));
		return LURK_ERR_INVALID_ARG;
	}
	memset(z, 0, SL);
	if (a == NULL || id == 0 || PK == NULL || !msg_ok(msg, msg_len)) {
		rc = LURK_ERR_INVALID_ARG;
		goto out;
	}
	/*
	 * The peers' points are checked here, once: the entries other than ours
	 * with lurk_frost_point_check, ours by being byte-equal to [d]B and [e]B,
	 * which are valid by construction (non-zero nonces, canonical encodings).
	 */
	if ((rc = list_shape_check(list, n)) < 0 || (rc = find_id(id, list, n, &pos)) < 0 ||
		(rc = lurk_frost_point_check(PK)) < 0 || (rc = list_points_check(list, n, pos)) < 0)
		goto out;
	/* The list must carry this nonce's own commitment, unchanged. */
	if (crypto_scalarmult_ed25519_base_noclamp(D, nonce->d) != 0 ||
		crypto_scalarmult_ed25519_base_noclamp(E, nonce->e) != 0) {
		rc = LURK_ERR_INVALID_ARG; /* a wiped (zero) nonce: already used */
		goto out;
	}
	if (sodium_memcmp(D, list[pos].D, PL) != 0 || sodium_memcmp(E, list[pos].E, PL) != 0) {
		rc = LURK_ERR_BAD_FORMAT;
		goto out;
	}
	if ((rc = context_of(PK, list, n, msg, msg_len, rho, R, c)) < 0)
		goto out;
	/* z = d + e·ρ + a·c */
	crypto_core_ed25519_scalar_mul(t, nonce->e, rho[pos]);
	crypto_core_ed25519_scalar_add(z, nonce->d, t);
	crypto_core_ed25519_scalar_mul(t, a, c);
	crypto_core_ed25519_scalar_add(z, z, t);
	rc = 0;
out:
	sodium_memzero(nonce, sizeof(*nonce));
	sodium_memzero(t, sizeof(t));
	if (rc < 0)
		sodium_memzero(z, SL);
	return rc;
}

int
lurk_frost_verify_share(uint16_t id, const uint8_t PK_id[PL], const uint8_t PK[PL],
	const struct lurk_frost_commitment *list, size_t n, const uint8_t *msg, size_t msg_len,
	const uint8_t z[SL])
{
	uint8_t rho[LURK_FROST_SIGNERS][SL], R[PL], c[SL], lhs[PL], rhs[PL], t[PL];
	size_t pos = 0;
	int rc;

	if (z == NULL || PK_id == NULL)
		return LURK_ERR_INVALID_ARG;
	if ((rc = lurk_frost_scalar_check(z)) < 0 || (rc = lurk_frost_point_check(PK_id)) < 0)
		return rc;
	if ((rc = checked_context(id, PK, list, n, msg, msg_len, rho, R, c, &pos)) < 0)
		return rc;
	/* [z]B == D + [ρ]E + [c]PK_id (a zero z cannot be a valid share). */
	if (crypto_scalarmult_ed25519_base_noclamp(lhs, z) != 0)
		return LURK_ERR_CRYPTO;
	if (crypto_scalarmult_ed25519_noclamp(rhs, rho[pos], list[pos].E) != 0 ||
		crypto_core_ed25519_add(rhs, list[pos].D, rhs) != 0 ||
		crypto_scalarmult_ed25519_noclamp(t, c, PK_id) != 0 ||
		crypto_core_ed25519_add(rhs, rhs, t) != 0)
		return LURK_ERR_CRYPTO;
	return sodium_memcmp(lhs, rhs, PL) == 0 ? 0 : LURK_ERR_CRYPTO;
}

int
lurk_frost_aggregate(const uint8_t PK[PL], const struct lurk_frost_commitment *list, size_t n,
	const uint8_t *msg, size_t msg_len, const uint8_t z[LURK_FROST_SIGNERS][SL],
	uint8_t sig[LURK_FROST_SIG_LEN])
{
	uint8_t rho[LURK_FROST_SIGNERS][SL];
	size_t i;
	int rc;

	if (sig == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(sig, 0, LURK_FROST_SIG_LEN);
	if (z == NULL || PK == NULL || !msg_ok(msg, msg_len))
		return LURK_ERR_INVALID_ARG;
	/* PK and the list checked once; R from the unchecked helpers. */
	if ((rc = lurk_frost_point_check(PK)) < 0 || (rc = lurk_frost_list_check(list, n)) < 0)
		goto fail;
	rho_of(PK, list, n, msg, msg_len, rho);
	if ((rc = R_of(list, n, (const uint8_t(*)[SL])rho, sig)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((rc = lurk_frost_scalar_check(z[i])) < 0)
			goto fail;
		crypto_core_ed25519_scalar_add(sig + PL, sig + PL, z[i]);
	}
	if (crypto_sign_ed25519_verify_detached(sig, msg, msg_len, PK) != 0) {
		rc = LURK_ERR_CRYPTO;
		goto fail;
	}
	return 0;
fail:
	memset(sig, 0, LURK_FROST_SIG_LEN);
	return rc;
}

int
lurk_frost_seed_to_scalar(const uint8_t seed[32], uint8_t s[SL], uint8_t PK[PL])
{
	uint8_t h[64];

	if (s == NULL || PK == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(s, 0, SL);
	memset(PK, 0, PL);
	if (seed == NULL)
		return LURK_ERR_INVALID_ARG;
	crypto_hash_sha512(h, seed, 32);
	/* RFC 8032 §5.1.5 clamp, then reduce a ‖ 0^32 (h[32..63] is the nonce prefix, dropped). */
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
	sodium_memzero(h + 32, 32);
	crypto_core_ed25519_scalar_reduce(s, h);
	sodium_memzero(h, sizeof(h));
	if (crypto_scalarmult_ed25519_base_noclamp(PK, s) != 0) {
		sodium_memzero(s, SL);
		return LURK_ERR_CRYPTO;
	}
	return 0;
}

int
lurk_frost_shamir_share(const uint8_t s[SL], const uint8_t coef[SL], uint16_t id, uint8_t sk[SL])
{
	uint8_t x[SL], t[SL];

	if (sk == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(sk, 0, SL);
	if (s == NULL || coef == NULL || id == 0)
		return LURK_ERR_INVALID_ARG;
	if (lurk_frost_scalar_check(s) < 0 || lurk_frost_scalar_check(coef) < 0)
		return LURK_ERR_BAD_FORMAT;
	id_scalar(id, x);
	crypto_core_ed25519_scalar_mul(t, coef, x);
	crypto_core_ed25519_scalar_add(sk, s, t);
	sodium_memzero(t, sizeof(t));
	return 0;
}

int
lurk_frost_split(const uint8_t s[SL], const uint8_t coef[SL], uint8_t a1[SL], uint8_t a2[SL])
{
	static const uint16_t ids[2] = {1, 2};
	uint8_t k[SL], sk[SL], lambda[SL];
	int rc;

	if (a1 == NULL || a2 == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(a1, 0, SL);
	memset(a2, 0, SL);
	if (coef != NULL)
		memcpy(k, coef, SL);
	else
		crypto_core_ed25519_scalar_random(k);
	if ((rc = lurk_frost_shamir_share(s, k, 1, sk)) < 0 ||
		(rc = lurk_frost_lagrange(1, ids, 2, lambda)) < 0)
		goto out;
	crypto_core_ed25519_scalar_mul(a1, lambda, sk); /* 2·f(1) */
	if ((rc = lurk_frost_shamir_share(s, k, 2, sk)) < 0 ||
		(rc = lurk_frost_lagrange(2, ids, 2, lambda)) < 0)
		goto out;
	crypto_core_ed25519_scalar_mul(a2, lambda, sk); /* −f(2) */
	/* A zero share would make its public share the identity: refuse. */
	if (sodium_is_zero(a1, SL) || sodium_is_zero(a2, SL))
		rc = LURK_ERR_CRYPTO;
out:
	sodium_memzero(k, sizeof(k));
	sodium_memzero(sk, sizeof(sk));
	if (rc < 0) {
		sodium_memzero(a1, SL);
		sodium_memzero(a2, SL);
	}
	return rc;
}

int
lurk_frost_public_share(const uint8_t a[SL], uint8_t PK_i[PL])
{
	if (PK_i == NULL)
		return LURK_ERR_INVALID_ARG;
	memset(PK_i, 0, PL);
	if (a == NULL)
		return LURK_ERR_INVALID_ARG;
	if (lurk_frost_scalar_check(a) < 0)
		return LURK_ERR_BAD_FORMAT;
	return crypto_scalarmult_ed25519_base_noclamp(PK_i, a) == 0 ? 0 : LURK_ERR_CRYPTO;
}

int
lurk_frost_public_shares_check(const uint8_t PK1[PL], const uint8_t PK2[PL], const uint8_t PK[PL])
{
	uint8_t sum[PL];
	int rc;

	if ((rc = lurk_frost_point_check(PK1)) < 0 || (rc = lurk_frost_point_check(PK2)) < 0 ||
		(rc = lurk_frost_point_check(PK)) < 0)
		return rc;
	if (crypto_core_ed25519_add(sum, PK1, PK2) != 0)
		return LURK_ERR_CRYPTO;
	return sodium_memcmp(sum, PK, PL) == 0 ? 0 : LURK_ERR_CRYPTO;
}
