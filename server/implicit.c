#include "config.h"

#include <string.h>

#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include "err.h"
#include "implicit.h"
#include "keystore.h"
#include "lurk-limits.h"
#include "mem.h"
#include "policy.h"
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

/* 0xffffffff when x is 0, else 0: no branch, no table. */
static uint32_t
ct_is_zero(uint32_t x)
{
	return (uint32_t)0 - ((~x & (x - 1)) >> 31);
}

/*
 * 0xffffffff when the premaster's two version bytes name a TLS version the
 * key allows, else 0. The premaster carries the version the client offered
 * (ClientHello.client_version, RFC 5246 §7.4.7.1): 3.1 is a TLS 1.0 client,
 * 3.2 a TLS 1.1 one, 3.3 one that offered TLS 1.2 (or 1.3, whose
 * legacy_version is 3.3). Which versions are allowed is public; the bytes
 * are secret, so every candidate is compared without a branch.
 */
static uint32_t
version_allowed(const uint8_t pms[LURKD_PMS_LEN], unsigned tls_versions)
{
	static const struct {
		uint32_t wire;
		unsigned bit;
	} versions[] = {{0x0301, LURK_TLS10}, {0x0302, LURK_TLS11}, {0x0303, LURK_TLS12}};
	uint32_t v = ((uint32_t)pms[0] << 8) | pms[1], ok = 0;

	for (size_t i = 0; i < LURK_ARRAY_LEN(versions); i++)
		ok |= ct_is_zero(v ^ versions[i].wire) &
		      ((uint32_t)0 - (uint32_t)((tls_versions & versions[i].bit) != 0));
	return ok;
}

int
lurkd_decrypt_implicit(struct lurk_tls_key *k, const uint8_t secret[LURKD_IMPLICIT_SECRET_LEN],
	unsigned tls_versions, const uint8_t *ct, size_t ct_len, uint8_t out[LURKD_PMS_LEN])
{
	uint8_t fallback[LURKD_PMS_LEN], pms[LURKD_PMS_LEN];
	uint32_t good;
	uint8_t keep;
	int r;

	/*
	 * A key or ciphertext length the decryption cannot take is a public
	 * fact, answered as such; only the padding's and the version's
	 * verdicts are masked below.
	 */
	if ((r = lurk_tls_key_decrypt_tls_check(k, CKM_RSA_PKCS, ct_len)) != 0)
		return r;
	/* Computed every time, whatever the padding turns out to be. */
	crypto_generichash(
		fallback, sizeof(fallback), ct, ct_len, secret, LURKD_IMPLICIT_SECRET_LEN);
	memset(pms, 0, sizeof(pms));
	r = lurk_tls_key_decrypt_tls(k, CKM_RSA_PKCS, ct, ct_len, pms);
	/*
	 * Good padding and an allowed version, one mask for both: the version
	 * bytes are read whatever the padding's verdict (pms holds the
	 * decryption's 48 bytes, or zeros), and neither verdict branches.
	 */
	good = ct_is_zero((uint32_t)r) & version_allowed(pms, tls_versions);
	keep = (uint8_t)good; /* 0xff when good, 0x00 when not */
	for (size_t i = 0; i < LURKD_PMS_LEN; i++)
		out[i] = (uint8_t)((pms[i] & keep) | (fallback[i] & (uint8_t)~keep));
	lurk_wipe(pms, sizeof(pms));
	lurk_wipe(fallback, sizeof(fallback));
	return 0;
}
