/*
 * Noise static keys: base64 text, key files, fingerprints.
 *
 * A private key file holds one line: the 32-byte X25519 private key in
 * standard base64 (44 characters). Lines starting with '#' and blank lines
 * are ignored. The file must be a regular file that only its owner can read
 * or write (mode 0600 or 0400), as ssh demands of its keys.
 */
#ifndef LURK_KEYFILE_H
#define LURK_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h"

#define LURK_STATIC_KEY_B64_LEN 44 /* base64 of 32 bytes, with padding */
#define LURK_STATIC_KEY_FP_LEN  16 /* hex characters */

/*
 * A PIN-protected key file holds one line "pin-protected BASE64" instead:
 * Argon2id salt (16) ‖ secretbox nonce (24) ‖ sealed key (32 + 16).
 */
#define LURK_LOCKED_TAG "pin-protected"
#define LURK_LOCKED_LEN (16 + 24 + 32 + 16)

void lurk_static_key_b64_encode(
	const uint8_t key[LURK_NOISE_KEY_LEN], char out[LURK_STATIC_KEY_B64_LEN + 1]);
/* Exactly 44 base64 characters (surrounding spaces ignored); key zeroed on failure. */
int lurk_static_key_b64_decode(const char *text, uint8_t key[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
/* Public key for a private key; LURK_ERR_DH for a degenerate key. */
int lurk_static_key_public(
	const uint8_t sk[LURK_NOISE_KEY_LEN], uint8_t pk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
/* Short, non-secret name of a public key for logs: 16 hex of BLAKE2b(pk). */
void lurk_static_key_fingerprint(
	const uint8_t pk[LURK_NOISE_KEY_LEN], char out[LURK_STATIC_KEY_FP_LEN + 1]);
/* Makes a new key pair. */
int lurk_static_key_generate(
	uint8_t sk[LURK_NOISE_KEY_LEN], uint8_t pk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;

/*
 * Writes a private key to a new file with mode 0600; refuses to overwrite
 * unless `overwrite`. *why (may be NULL) gets a static reason on failure.
 */
int lurk_keyfile_write(const char *path, const uint8_t sk[LURK_NOISE_KEY_LEN], int overwrite,
	const char **why) LURK_MUST_CHECK;
/* Reads a private key file, checking type and permissions; sk zeroed on failure. */
int lurk_keyfile_read(
	const char *path, uint8_t sk[LURK_NOISE_KEY_LEN], const char **why) LURK_MUST_CHECK;
/*
 * Reads either form: a plain key into sk (*is_locked 0), or a PIN-protected
 * one into locked (*is_locked 1). Same file checks as lurk_keyfile_read.
 */
int lurk_keyfile_load(const char *path, uint8_t sk[LURK_NOISE_KEY_LEN],
	uint8_t locked[LURK_LOCKED_LEN], int *is_locked, const char **why) LURK_MUST_CHECK;
/* Seals sk under a PIN; opens it again (LURK_ERR_DECRYPT for a wrong PIN, sk zeroed). */
int lurk_static_key_lock(const uint8_t sk[LURK_NOISE_KEY_LEN], const char *pin, size_t pin_len,
	uint8_t locked[LURK_LOCKED_LEN]) LURK_MUST_CHECK;
int lurk_static_key_unlock(const uint8_t locked[LURK_LOCKED_LEN], const char *pin, size_t pin_len,
	uint8_t sk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
/* Writes a PIN-protected key file (mode 0600). */
int lurk_keyfile_write_locked(const char *path, const uint8_t locked[LURK_LOCKED_LEN],
	int overwrite, const char **why) LURK_MUST_CHECK;
/* Parses key file text (the same rules as the file); sk zeroed on failure. */
int lurk_keyfile_parse(const char *text, size_t len, uint8_t sk[LURK_NOISE_KEY_LEN],
	const char **why) LURK_MUST_CHECK;

#endif
