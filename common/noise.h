/*
 * Noise protocol primitives (spec rev 34) for the suite 25519_ChaChaPoly_BLAKE2b
 * on libsodium 1.0.18: HASH, HMAC, HKDF, DH, CipherState and SymmetricState.
 *
 * These are the building blocks; chan.c unrolls the IK handshake on top of
 * them, and the vector test runs every other pattern through a small token
 * interpreter on the same functions. Nothing here knows about patterns.
 *
 * Mapping (see docs/channel.md):
 *  - HASH is unkeyed BLAKE2b with a 64-byte output (crypto_generichash).
 *  - HMAC is RFC 2104 over that HASH with a 128-byte block, built by hand:
 *    keyed BLAKE2b is not HMAC and fails the vectors.
 *  - ENCRYPT is crypto_aead_chacha20poly1305_ietf with the nonce
 *    00 00 00 00 || LE64(n) (§12.3).
 *  - DH is crypto_scalarmult, and an all-zero result aborts (§12.1).
 *
 * Every function that can fail returns 0 or a negative LURK_ERR_*. Output
 * buffers are described by (out, outcap) and the length written goes to
 * *outlen; out may be the same pointer as the input (in place), but must not
 * overlap it otherwise.
 */
#ifndef LURK_NOISE_H
#define LURK_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h"

/* Noise §5.1: k (if has_key) and the 64-bit nonce n. */
struct lurk_noise_cipher {
	uint8_t k[LURK_AEAD_KEY_LEN];
	uint64_t n;
	int has_key;
};

/* Noise §5.2: the CipherState, the chaining key ck and the handshake hash h. */
struct lurk_noise_sym {
	struct lurk_noise_cipher cs;
	uint8_t ck[LURK_HASH_LEN];
	uint8_t h[LURK_HASH_LEN];
};

/* HASH(a || b); b may be NULL when blen is 0. */
void lurk_noise_hash(
	uint8_t out[LURK_HASH_LEN], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* HMAC-HASH(key, data), RFC 2104 with a 128-byte block. */
void lurk_noise_hmac(uint8_t out[LURK_HASH_LEN], const uint8_t *key, size_t keylen,
	const uint8_t *data, size_t datalen);
/* Noise §4.3 HKDF with two or three outputs; ikm may be NULL when ikmlen is 0. */
void lurk_noise_hkdf2(uint8_t o1[LURK_HASH_LEN], uint8_t o2[LURK_HASH_LEN],
	const uint8_t ck[LURK_HASH_LEN], const uint8_t *ikm, size_t ikmlen);
void lurk_noise_hkdf3(uint8_t o1[LURK_HASH_LEN], uint8_t o2[LURK_HASH_LEN],
	uint8_t o3[LURK_HASH_LEN], const uint8_t ck[LURK_HASH_LEN], const uint8_t *ikm,
	size_t ikmlen);

/* X25519; LURK_ERR_DH (and out wiped) if the peer key gives an all-zero result. */
int lurk_noise_dh(uint8_t out[LURK_NOISE_KEY_LEN], const uint8_t sk[LURK_NOISE_KEY_LEN],
	const uint8_t pk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
/* Public key of a private key. */
int lurk_noise_pubkey(
	uint8_t pk[LURK_NOISE_KEY_LEN], const uint8_t sk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
/* A fresh random key pair (GENERATE_KEYPAIR). */
int lurk_noise_keypair(
	uint8_t pk[LURK_NOISE_KEY_LEN], uint8_t sk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;

/* InitializeKey(k), or the empty state when k is NULL; n = 0. */
void lurk_noise_cipher_init(struct lurk_noise_cipher *cs, const uint8_t *k);
void lurk_noise_cipher_clear(struct lurk_noise_cipher *cs);
/*
 * EncryptWithAd / DecryptWithAd. Without a key the text is copied through.
 * With a key: outcap must hold ptlen + 16 (encrypt) or ctlen - 16 (decrypt);
 * plaintexts are at most LURK_NOISE_MAX_PLAINTEXT and messages at most
 * LURK_NOISE_MAX_MSG (LURK_ERR_TOO_LARGE). n == 2^64-1 is reserved
 * (LURK_ERR_NONCE_EXHAUSTED). A failed decryption gives LURK_ERR_DECRYPT and
 * leaves n unchanged (§5.1).
 */
int lurk_noise_cipher_encrypt(struct lurk_noise_cipher *cs, const uint8_t *ad, size_t adlen,
	const uint8_t *pt, size_t ptlen, uint8_t *out, size_t outcap,
	size_t *outlen) LURK_MUST_CHECK;
int lurk_noise_cipher_decrypt(struct lurk_noise_cipher *cs, const uint8_t *ad, size_t adlen,
	const uint8_t *ct, size_t ctlen, uint8_t *out, size_t outcap,
	size_t *outlen) LURK_MUST_CHECK;
/* REKEY (§4.2): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros[32]); n is kept. */
int lurk_noise_cipher_rekey(struct lurk_noise_cipher *cs) LURK_MUST_CHECK;

/*
 * InitializeSymmetric(name): h = name zero-padded when it fits in HASHLEN,
 * else HASH(name); ck = h; no key.
 */
void lurk_noise_sym_init(struct lurk_noise_sym *ss, const char *protocol_name);
void lurk_noise_sym_clear(struct lurk_noise_sym *ss);
void lurk_noise_sym_mix_hash(struct lurk_noise_sym *ss, const uint8_t *data, size_t len);
void lurk_noise_sym_mix_key(struct lurk_noise_sym *ss, const uint8_t *ikm, size_t len);
void lurk_noise_sym_mix_key_and_hash(struct lurk_noise_sym *ss, const uint8_t *ikm, size_t len);
/* MixKey(DH(sk, pk)), the DH output wiped; LURK_ERR_DH leaves ss unchanged. */
int lurk_noise_sym_mix_dh(struct lurk_noise_sym *ss, const uint8_t sk[LURK_NOISE_KEY_LEN],
	const uint8_t pk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
/* EncryptAndHash / DecryptAndHash with h as the associated data (§5.2). */
int lurk_noise_sym_encrypt_and_hash(struct lurk_noise_sym *ss, const uint8_t *pt, size_t ptlen,
	uint8_t *out, size_t outcap, size_t *outlen) LURK_MUST_CHECK;
int lurk_noise_sym_decrypt_and_hash(struct lurk_noise_sym *ss, const uint8_t *ct, size_t ctlen,
	uint8_t *out, size_t outcap, size_t *outlen) LURK_MUST_CHECK;
/* Split(): c1 for initiator-to-responder, c2 for the other way; ck and k are then wiped. */
void lurk_noise_sym_split(
	struct lurk_noise_sym *ss, struct lurk_noise_cipher *c1, struct lurk_noise_cipher *c2);

#endif
