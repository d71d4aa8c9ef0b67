/*
 * Key share files (issue 18, docs/split-keys.md "Share files"): one
 * server's half of a split key, written by `lurk-admin split` and read by
 * `lurk-admin split-check` (and, later, lurkd). A PEM block
 *
 *	-----BEGIN LURK KEY SHARE-----
 *	base64 of the body, lines of 64 characters
 *	-----END LURK KEY SHARE-----
 *
 * whose body is text lines, each once, in this order, ending in LF:
 *
 *	lurk-key-share 1
 *	type ed25519 | rsa
 *	index 1 | 2
 *	spki BASE64          the whole key's DER SubjectPublicKeyInfo
 *	pk1 BASE64           Ed25519 only: PK_1 = [a_1]B (32 bytes)
 *	pk2 BASE64           Ed25519 only: PK_2 = [a_2]B (32 bytes)
 *	share BASE64         the secret share (see below)
 *
 * Ed25519: share is the 32-byte λ-weighted scalar a_i (little-endian,
 * canonical, non-zero), a_1 + a_2 = s. RSA: share is d_i, big-endian
 * without leading zero bytes, d = d_1 − d_2 (share 1 is added, share 2
 * subtracted, both positive), at most |n| + 128 bits; n and e are those of
 * the spki line.
 *
 * Reading checks every line and length, that PK, PK_1 and PK_2 are valid
 * points with PK_1 + PK_2 = PK, that a_i is canonical and [a_i]B = PK_i,
 * and for RSA that the modulus has 2048..8192 bits. The secret lives only
 * in sodium_malloc'd memory (and the file buffer, also sodium_malloc'd),
 * wiped on every path. No output; *why says what is wrong (no data in it).
 */
#ifndef LURK_SHARE_FILE_H
#define LURK_SHARE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

#include "compiler.h"
#include "frost.h"

#define LURK_SHARE_PEM_LABEL "LURK KEY SHARE"
#define LURK_SHARE_MAGIC     "lurk-key-share 1"
/* The largest share file and decoded body accepted. */
#define LURK_SHARE_FILE_MAX 16384u
#define LURK_SHARE_BODY_MAX 8192u
/* A DER SPKI (RSA-8192's is 550 bytes) and an RSA share (8192 + 128 bits). */
#define LURK_SHARE_SPKI_MAX   1100u
#define LURK_SHARE_SECRET_MAX 1040u

enum lurk_share_type {
	LURK_SHARE_ED25519 = 1,
	LURK_SHARE_RSA = 2,
};

struct lurk_share {
	enum lurk_share_type type;
	unsigned index; /* 1 or 2 */
	uint8_t spki[LURK_SHARE_SPKI_MAX];
	size_t spki_len;
	/* Ed25519: the whole key's public key and the two public shares. */
	uint8_t pk[LURK_FROST_POINT_LEN];
	uint8_t pk1[LURK_FROST_POINT_LEN];
	uint8_t pk2[LURK_FROST_POINT_LEN];
	/* RSA: the public modulus and exponent, from spki. */
	BIGNUM *n;
	BIGNUM *e;
	/* sodium_malloc'd: a_i (32 bytes) or d_i (big-endian). */
	uint8_t *secret;
	size_t secret_len;
};

/* A share with a sodium_malloc'd secret of secret_len bytes; NULL if out of memory. */
struct lurk_share *lurk_share_new(enum lurk_share_type type, size_t secret_len);
/* Wipes and frees; NULL is fine. */
void lurk_share_free(struct lurk_share *s);

/* The PEM text in buf (len bytes); 0 or a negative LURK_ERR_* with *why set. */
int lurk_share_parse(
	const uint8_t *buf, size_t len, struct lurk_share **out, const char **why) LURK_MUST_CHECK;
/* The same from a file (a regular file of at most LURK_SHARE_FILE_MAX bytes). */
int lurk_share_read(const char *path, struct lurk_share **out, const char **why) LURK_MUST_CHECK;

/*
 * Writes s to path with mode 0600 through a temporary file in the same
 * directory: renamed over path with overwrite, else linked, so an existing
 * path is never replaced ("file exists (use -f to replace it)").
 */
int lurk_share_write(const char *path, const struct lurk_share *s, int overwrite,
	const char **why) LURK_MUST_CHECK;

#endif
