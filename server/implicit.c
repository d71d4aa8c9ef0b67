#include "config.h"

#include <string.h>

#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include "err.h"
#include "implicit.h"
#include "keystore.h"
#include "lurk-limits.h"
#include "mem.h"
#include "tls.h"

int
lurkd_implicit_secret(struct lurk_tls_key *k, uint8_t secret[LURKD_IMPLICIT_SECRET_LEN])
{
	static const char label[] = "lurk implicit rejection secret v1";
	/* A DigestInfo(SHA-256) of the label, as a TLS 1.2 signature would carry. */
	const struct lurk_hash_info *h = lurk_hash_by_id(LURK_HASH_SHA256);
	uint8_t di[LURK_DIGEST_INFO_MAX_PFX + crypto_hash_sha256_BYTES],
		sig[LURK_WIRE_MAX_SIGNATURE];
	struct lurk_sign_req req;
	size_t sig_len = sizeof(sig);
	int r;

	memcpy(di, h->di_prefix, h->di_prefix_len);
	crypto_hash_sha256(di + h->di_prefix_len, (const uint8_t *)label, sizeof(label) - 1);
	memset(&req, 0, sizeof(req));
	req.mech = CKM_RSA_PKCS;
	req.data = di;
	req.len = h->di_prefix_len + h->len;
	/* PKCS#1 v1.5 signatures are deterministic: the same key gives the same secret. */
	if ((r = lurk_tls_key_sign(k, &req, sig, &sig_len)) != 0)
		goto out;
	crypto_generichash(secret, LURKD_IMPLICIT_SECRET_LEN, sig, sig_len, (const uint8_t *)label,
		sizeof(label) - 1);
out:
	lurk_wipe(sig, sizeof(sig));
	return r;
}

int
lurkd_decrypt_implicit(struct lurk_tls_key *k, const uint8_t secret[LURKD_IMPLICIT_SECRET_LEN],
	const uint8_t *ct, size_t ct_len, uint8_t out[LURKD_PMS_LEN])
{
	uint8_t fallback[LURKD_PMS_LEN], pms[LURKD_PMS_LEN];
	uint32_t bad;
	uint8_t keep;
	int r;

	/*
	 * A key or ciphertext length the decryption cannot take is a public
	 * fact, answered as such; only the padding's verdict is masked below.
	 */
	if ((r = lurk_tls_key_decrypt_tls_check(k, CKM_RSA_PKCS, ct_len)) != 0)
		return r;
	/* Computed every time, whatever the padding turns out to be. */
	crypto_generichash(
		fallback, sizeof(fallback), ct, ct_len, secret, LURKD_IMPLICIT_SECRET_LEN);
	memset(pms, 0, sizeof(pms));
	r = lurk_tls_key_decrypt_tls(k, CKM_RSA_PKCS, ct, ct_len, pms);
	/* bad = 1 if r != 0, without a branch on r. */
	bad = ((uint32_t)r | (0u - (uint32_t)r)) >> 31;
	keep = (uint8_t)(bad - 1u); /* 0xff when good, 0x00 when bad */
	for (size_t i = 0; i < LURKD_PMS_LEN; i++)
		out[i] = (uint8_t)((pms[i] & keep) | (fallback[i] & (uint8_t)~keep));
	lurk_wipe(pms, sizeof(pms));
	lurk_wipe(fallback, sizeof(fallback));
	return 0;
}
