/*
 * RSA two of two by an additive split of d over the integers (issue 18;
 * research split_keys.md §5, §8): d1 drawn in [0, 2^(|n|+128)), d2 = d1 − d
 * (drawn again while d2 ≤ 0), so d = d1 − d2 and each share alone is within
 * 2^-128 of independent of d. Server 1 returns s1 = m^d1, server 2 returns
 * t = m^d2, the client sets s = s1·t⁻¹ mod n and releases s only if s^e ≡ m.
 * No CRT (the share holders never see p, q): each partial is a full-length
 * constant-time exponentiation (BN_mod_exp_mont_consttime, about 4× a CRT
 * signature, research §5).
 *
 * No server exponentiates a value it has not checked: the encoders below are
 * what a server runs on a request before lurk_rsa_partial (PKCS#1 v1.5 from
 * an allow-listed DigestInfo; PSS by EMSA-PSS-VERIFY of the client's EM with
 * salt length = hash length). A raw m^d oracle would sign anything and decrypt
 * TLS 1.2 RSA key exchange.
 *
 * Both sides use it: lurkd the partial and the encoders' checks, the client
 * core (client/split.c) the encoders and lurk_rsa_combine.
 *
 * Returns 0 or a negative LURK_ERR_*: LURK_ERR_INVALID_ARG for misuse,
 * LURK_ERR_BAD_FORMAT for input a server must refuse, LURK_ERR_CRYPTO when a
 * combined signature does not verify (a wrong share: which one cannot be
 * told), LURK_ERR_ALLOC. Outputs are zeroed on failure.
 */
#ifndef LURK_RSA_SPLIT_H
#define LURK_RSA_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

#include "compiler.h"

/* Slack of the integer split, in bits. */
#define LURK_RSA_SPLIT_SLACK 128
/* Moduli 2048..8192 bits (k = 256..1024 bytes). */
#define LURK_RSA_SPLIT_MIN_BITS 2048
#define LURK_RSA_SPLIT_MAX_BITS 8192

/*
 * Dealer (offline): *d1 and *d2 (new, freed with BN_clear_free) with
 * d = d1 − d2, both positive.
 */
int lurk_rsa_split(const BIGNUM *n, const BIGNUM *d, BIGNUM **d1, BIGNUM **d2) LURK_MUST_CHECK;

/*
 * A server's partial: out = em^di mod n, k = |n| in bytes; em is k bytes,
 * big-endian, and must be < n.
 */
int lurk_rsa_partial(const BIGNUM *n, const BIGNUM *di, const uint8_t *em, size_t k,
	uint8_t *out) LURK_MUST_CHECK;

/*
 * Client: sig = s1·t⁻¹ mod n, released only if sig^e ≡ em (mod n). All k bytes.
 */
int lurk_rsa_combine(const BIGNUM *n, const BIGNUM *e, const uint8_t *em, const uint8_t *s1,
	const uint8_t *t, size_t k, uint8_t *sig) LURK_MUST_CHECK;

/*
 * EMSA-PKCS1-v1_5 (RFC 8017 §9.2): em = 00 01 FF.. 00 ‖ T for a DigestInfo T
 * of SHA-256, SHA-384 or SHA-512 (the prefix and length must match one of
 * them; anything else is LURK_ERR_BAD_FORMAT).
 */
int lurk_rsa_pkcs1_encode(
	const uint8_t *digest_info, size_t len, uint8_t *em, size_t k) LURK_MUST_CHECK;

/*
 * EMSA-PSS (RFC 8017 §9.1) with MGF1 over the same hash, salt length = hash
 * length (TLS 1.3), emBits = |n| − 1, md one of "SHA256", "SHA384", "SHA512".
 * encode (client) takes the salt (hash-length bytes); verify (server) is 0
 * only if em is a valid encoding of mhash.
 */
int lurk_rsa_pss_encode(const char *md, const uint8_t *mhash, const uint8_t *salt, const BIGNUM *n,
	uint8_t *em, size_t k) LURK_MUST_CHECK;
int lurk_rsa_pss_verify(const char *md, const uint8_t *mhash, const BIGNUM *n, const uint8_t *em,
	size_t k) LURK_MUST_CHECK;

#endif
