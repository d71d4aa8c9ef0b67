#include "config.h"

#include <string.h>

#include <sodium.h>

#include "err.h"
#include "noise.h"

/* Noise §12.3: 32 bits of zeros, then the counter as 64-bit little-endian. */
static void
make_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

void
lurk_noise_hash(
	uint8_t out[LURK_HASH_LEN], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;

	/* Unkeyed, 64-byte output: BLAKE2b-512 as the spec's HASH. */
	crypto_generichash_init(&st, NULL, 0, LURK_HASH_LEN);
	if (alen != 0)
		crypto_generichash_update(&st, a, alen);
	if (blen != 0)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, LURK_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void
lurk_noise_hmac(uint8_t out[LURK_HASH_LEN], const uint8_t *key, size_t keylen, const uint8_t *data,
	size_t datalen)
{
	uint8_t k[LURK_HASH_BLOCK_LEN], pad[LURK_HASH_BLOCK_LEN], inner[LURK_HASH_LEN];

	/* RFC 2104: a key longer than the block is hashed first; then zero-padded. */
	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k))
		lurk_noise_hash(k, key, keylen, NULL, 0);
	else if (keylen != 0)
		memcpy(k, key, keylen);

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	lurk_noise_hash(inner, pad, sizeof(pad), data, datalen);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	lurk_noise_hash(out, pad, sizeof(pad), inner, sizeof(inner));

	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/* Noise §4.3: temp = HMAC(ck, ikm); o1 = HMAC(temp, 0x01); oi = HMAC(temp, o(i-1) || i). */
static void
hkdf(uint8_t *o1, uint8_t *o2, uint8_t *o3, const uint8_t ck[LURK_HASH_LEN], const uint8_t *ikm,
	size_t ikmlen)
{
	uint8_t temp[LURK_HASH_LEN], in[LURK_HASH_LEN + 1], prev[LURK_HASH_LEN];

	lurk_noise_hmac(temp, ck, LURK_HASH_LEN, ikm, ikmlen);
	in[0] = 0x01;
	lurk_noise_hmac(prev, temp, sizeof(temp), in, 1);
	memcpy(o1, prev, LURK_HASH_LEN);
	memcpy(in, prev, LURK_HASH_LEN);
	in[LURK_HASH_LEN] = 0x02;
	lurk_noise_hmac(prev, temp, sizeof(temp), in, sizeof(in));
	memcpy(o2, prev, LURK_HASH_LEN);
	if (o3 != NULL) {
		memcpy(in, prev, LURK_HASH_LEN);
		in[LURK_HASH_LEN] = 0x03;
		lurk_noise_hmac(o3, temp, sizeof(temp), in, sizeof(in));
	}
	sodium_memzero(temp, sizeof(temp));
	sodium_memzero(in, sizeof(in));
	sodium_memzero(prev, sizeof(prev));
}

void
lurk_noise_hkdf2(uint8_t o1[LURK_HASH_LEN], uint8_t o2[LURK_HASH_LEN],
	const uint8_t ck[LURK_HASH_LEN], const uint8_t *ikm, size_t ikmlen)
{
	hkdf(o1, o2, NULL, ck, ikm, ikmlen);
}

void
lurk_noise_hkdf3(uint8_t o1[LURK_HASH_LEN], uint8_t o2[LURK_HASH_LEN], uint8_t o3[LURK_HASH_LEN],
	const uint8_t ck[LURK_HASH_LEN], const uint8_t *ikm, size_t ikmlen)
{
	hkdf(o1, o2, o3, ck, ikm, ikmlen);
}

int
lurk_noise_dh(uint8_t out[LURK_NOISE_KEY_LEN], const uint8_t sk[LURK_NOISE_KEY_LEN],
	const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	/* libsodium returns -1 for small-order points and all-zero outputs (§12.1). */
	if (crypto_scalarmult(out, sk, pk) != 0) {
		sodium_memzero(out, LURK_NOISE_KEY_LEN);
		return LURK_ERR_DH;
	}
	return 0;
}

int
lurk_noise_pubkey(uint8_t pk[LURK_NOISE_KEY_LEN], const uint8_t sk[LURK_NOISE_KEY_LEN])
{
	if (crypto_scalarmult_base(pk, sk) != 0) {
		sodium_memzero(pk, LURK_NOISE_KEY_LEN);
		return LURK_ERR_DH;
	}
	return 0;
}

int
lurk_noise_keypair(uint8_t pk[LURK_NOISE_KEY_LEN], uint8_t sk[LURK_NOISE_KEY_LEN])
{
	int r;

	randombytes_buf(sk, LURK_NOISE_KEY_LEN);
	if ((r = lurk_noise_pubkey(pk, sk)) != 0)
		sodium_memzero(sk, LURK_NOISE_KEY_LEN);
	return r;
}

void
lurk_noise_cipher_init(struct lurk_noise_cipher *cs, const uint8_t *k)
{
	lurk_noise_cipher_clear(cs);
	if (k != NULL) {
		memcpy(cs->k, k, LURK_AEAD_KEY_LEN);
		cs->has_key = 1;
	}
}

void
lurk_noise_cipher_clear(struct lurk_noise_cipher *cs)
{
	sodium_memzero(cs, sizeof(*cs));
}

int
lurk_noise_cipher_encrypt(struct lurk_noise_cipher *cs, const uint8_t *ad, size_t adlen,
	const uint8_t *pt, size_t ptlen, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long clen = 0;

	*outlen = 0;
	if (ptlen > LURK_NOISE_MAX_PLAINTEXT)
		return LURK_ERR_TOO_LARGE;
	if (!cs->has_key) {
		if (ptlen > outcap)
			return LURK_ERR_NO_SPACE;
		if (ptlen != 0)
			memmove(out, pt, ptlen);
		*outlen = ptlen;
		return 0;
	}
	if (ptlen > outcap || outcap - ptlen < LURK_AEAD_TAG_LEN)
		return LURK_ERR_NO_SPACE;
	/* §5.1: 2^64-1 is reserved for REKEY and must never encrypt a message. */
	if (cs->n == UINT64_MAX)
		return LURK_ERR_NONCE_EXHAUSTED;
	make_nonce(nonce, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(
		    out, &clen, pt, ptlen, ad, adlen, NULL, nonce, cs->k) != 0)
		return LURK_ERR_INTERNAL;
	cs->n++;
	*outlen = (size_t)clen;
	return 0;
}

int
lurk_noise_cipher_decrypt(struct lurk_noise_cipher *cs, const uint8_t *ad, size_t adlen,
	const uint8_t *ct, size_t ctlen, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long plen = 0;

	*outlen = 0;
	if (ctlen > LURK_NOISE_MAX_MSG)
		return LURK_ERR_TOO_LARGE;
	if (!cs->has_key) {
		if (ctlen > outcap)
			return LURK_ERR_NO_SPACE;
		if (ctlen != 0)
			memmove(out, ct, ctlen);
		*outlen = ctlen;
		return 0;
	}
	if (ctlen < LURK_AEAD_TAG_LEN)
		return LURK_ERR_DECRYPT;
	if (ctlen - LURK_AEAD_TAG_LEN > outcap)
		return LURK_ERR_NO_SPACE;
	if (cs->n == UINT64_MAX)
		return LURK_ERR_NONCE_EXHAUSTED;
	make_nonce(nonce, cs->n);
	/* n is only advanced on success (§5.1). */
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
		    out, &plen, NULL, ct, ctlen, ad, adlen, nonce, cs->k) != 0)
		return LURK_ERR_DECRYPT;
	cs->n++;
	*outlen = (size_t)plen;
	return 0;
}

int
lurk_noise_cipher_rekey(struct lurk_noise_cipher *cs)
{
	uint8_t zeros[LURK_AEAD_KEY_LEN] = {0};
	uint8_t tmp[LURK_AEAD_KEY_LEN + LURK_AEAD_TAG_LEN];
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long clen = 0;
	int r = 0;

	if (!cs->has_key)
		return LURK_ERR_STATE;
	make_nonce(nonce, UINT64_MAX);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(
		    tmp, &clen, zeros, sizeof(zeros), NULL, 0, NULL, nonce, cs->k) != 0) {
		r = LURK_ERR_INTERNAL;
		goto out;
	}
	memcpy(cs->k, tmp, LURK_AEAD_KEY_LEN);
out:
	sodium_memzero(tmp, sizeof(tmp));
	return r;
}

void
lurk_noise_sym_init(struct lurk_noise_sym *ss, const char *protocol_name)
{
	size_t len = strlen(protocol_name);

	lurk_noise_sym_clear(ss);
	/* §5.2: pad with zeros when it fits, hash only when it does not. */
	if (len <= LURK_HASH_LEN)
		memcpy(ss->h, protocol_name, len);
	else
		lurk_noise_hash(ss->h, (const uint8_t *)protocol_name, len, NULL, 0);
	memcpy(ss->ck, ss->h, LURK_HASH_LEN);
}

void
lurk_noise_sym_clear(struct lurk_noise_sym *ss)
{
	sodium_memzero(ss, sizeof(*ss));
}

void
lurk_noise_sym_mix_hash(struct lurk_noise_sym *ss, const uint8_t *data, size_t len)
{
	lurk_noise_hash(ss->h, ss->h, LURK_HASH_LEN, data, len);
}

void
lurk_noise_sym_mix_key(struct lurk_noise_sym *ss, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[LURK_HASH_LEN];

	/* HASHLEN is 64: the cipher key is the first 32 bytes of temp_k. */
	lurk_noise_hkdf2(ss->ck, temp_k, ss->ck, ikm, len);
	lurk_noise_cipher_init(&ss->cs, temp_k);
	sodium_memzero(temp_k, sizeof(temp_k));
}

void
lurk_noise_sym_mix_key_and_hash(struct lurk_noise_sym *ss, const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[LURK_HASH_LEN], temp_k[LURK_HASH_LEN];

	lurk_noise_hkdf3(ss->ck, temp_h, temp_k, ss->ck, ikm, len);
	lurk_noise_sym_mix_hash(ss, temp_h, sizeof(temp_h));
	lurk_noise_cipher_init(&ss->cs, temp_k);
	sodium_memzero(temp_h, sizeof(temp_h));
	sodium_memzero(temp_k, sizeof(temp_k));
}

int
lurk_noise_sym_mix_dh(struct lurk_noise_sym *ss, const uint8_t sk[LURK_NOISE_KEY_LEN],
	const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	uint8_t dh[LURK_NOISE_KEY_LEN];
	int r;

	if ((r = lurk_noise_dh(dh, sk, pk)) != 0)
		goto out;
	lurk_noise_sym_mix_key(ss, dh, sizeof(dh));
out:
	sodium_memzero(dh, sizeof(dh));
	return r;
}

int
lurk_noise_sym_encrypt_and_hash(struct lurk_noise_sym *ss, const uint8_t *pt, size_t ptlen,
	uint8_t *out, size_t outcap, size_t *outlen)
{
	int r;

	r = lurk_noise_cipher_encrypt(
		&ss->cs, ss->h, LURK_HASH_LEN, pt, ptlen, out, outcap, outlen);
	if (r != 0)
		return r;
	/* The ciphertext, not the plaintext, goes into h. */
	lurk_noise_sym_mix_hash(ss, out, *outlen);
	return 0;
}

int
lurk_noise_sym_decrypt_and_hash(struct lurk_noise_sym *ss, const uint8_t *ct, size_t ctlen,
	uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t next_h[LURK_HASH_LEN];
	int r;

	/* Hash the ciphertext before decrypting, so out may overwrite ct in place. */
	lurk_noise_hash(next_h, ss->h, LURK_HASH_LEN, ct, ctlen);
	r = lurk_noise_cipher_decrypt(
		&ss->cs, ss->h, LURK_HASH_LEN, ct, ctlen, out, outcap, outlen);
	if (r == 0)
		memcpy(ss->h, next_h, LURK_HASH_LEN);
	sodium_memzero(next_h, sizeof(next_h));
	return r;
}

void
lurk_noise_sym_split(
	struct lurk_noise_sym *ss, struct lurk_noise_cipher *c1, struct lurk_noise_cipher *c2)
{
	uint8_t k1[LURK_HASH_LEN], k2[LURK_HASH_LEN];

	lurk_noise_hkdf2(k1, k2, ss->ck, NULL, 0);
	lurk_noise_cipher_init(c1, k1);
	lurk_noise_cipher_init(c2, k2);
	/* Only h survives the handshake (session id, §11.2). */
	sodium_memzero(ss->ck, sizeof(ss->ck));
	lurk_noise_cipher_clear(&ss->cs);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
}
