/*
 * RSA key-exchange decryption with implicit rejection (docs/policy.md): the
 * answer is always 48 bytes. A ciphertext with bad padding gets a
 * pseudo-random value derived from the ciphertext and a per-key secret,
 * selected without a branch, so lurkd is no padding oracle (Bleichenbacher).
 *
 * The per-key secret is derived from the key itself (a deterministic RSA
 * PKCS#1 v1.5 signature over a fixed label, hashed), so every lurkd holding
 * the same key gives the same answer for the same ciphertext: failing over
 * between servers reveals nothing either.
 */
#ifndef LURKD_IMPLICIT_H
#define LURKD_IMPLICIT_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct lurk_tls_key;

#define LURKD_IMPLICIT_SECRET_LEN 32
#define LURKD_PMS_LEN             48

/* Derives the per-key secret (RSA keys only). */
int lurkd_implicit_secret(
	struct lurk_tls_key *k, uint8_t secret[LURKD_IMPLICIT_SECRET_LEN]) LURK_MUST_CHECK;
/*
 * Writes 48 bytes to out and returns 0, whatever the padding. Only a request
 * the key cannot take, public facts the policy checks before, returns early
 * (out untouched): LURK_ERR_MECHANISM for a key that does not decrypt,
 * LURK_ERR_BAD_FORMAT for a ciphertext not of the modulus length.
 */
int lurkd_decrypt_implicit(struct lurk_tls_key *k, const uint8_t secret[LURKD_IMPLICIT_SECRET_LEN],
	const uint8_t *ct, size_t ct_len, uint8_t out[LURKD_PMS_LEN]) LURK_MUST_CHECK;

#endif
