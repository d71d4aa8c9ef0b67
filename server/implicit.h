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
 *
 * The premaster's version bytes are checked inside the same mask: a TLS 1.0
 * or 1.1 premaster on a key without those versions gets the pseudo-random
 * answer too, so the handshake fails at Finished, as for bad padding.
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
 * Writes 48 bytes to out and returns 0, whatever the padding. The answer is
 * the premaster secret only when the padding is good and its two version
 * bytes name a version in tls_versions (3.1, 3.2, 3.3: LURK_TLS10, LURK_TLS11,
 * LURK_TLS12 of policy.h); otherwise the pseudo-random value, selected
 * without a branch on either verdict. Only a request the key cannot take,
 * public facts the policy checks before, returns early (out untouched):
 * LURK_ERR_MECHANISM for a key that does not decrypt, LURK_ERR_BAD_FORMAT
 * for a ciphertext not of the modulus length.
 */
int lurkd_decrypt_implicit(struct lurk_tls_key *k, const uint8_t secret[LURKD_IMPLICIT_SECRET_LEN],
	unsigned tls_versions, const uint8_t *ct, size_t ct_len,
	uint8_t out[LURKD_PMS_LEN]) LURK_MUST_CHECK;

#endif
