/* Signing and decryption in PKCS#11 terms, carried out by GnuTLS. */
#include "config.h"

#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ckm.h"
#include "err.h"
#include "keystore-int.h"
#include "mem.h"
#include "tls.h"

/* GnuTLS's name for each hash of the table in tls.h. */
static gnutls_digest_algorithm_t
gnutls_dig(const struct lurk_hash_info *h)
{
	static const struct {
		enum lurk_hash id;
		gnutls_digest_algorithm_t dig;
	} digs[] = {
		{LURK_HASH_SHA1, GNUTLS_DIG_SHA1},
		{LURK_HASH_SHA224, GNUTLS_DIG_SHA224},
		{LURK_HASH_SHA256, GNUTLS_DIG_SHA256},
		{LURK_HASH_SHA384, GNUTLS_DIG_SHA384},
		{LURK_HASH_SHA512, GNUTLS_DIG_SHA512},
	};

	for (size_t i = 0; h != NULL && i < LURK_ARRAY_LEN(digs); i++)
		if (digs[i].id == h->id)
			return digs[i].dig;
	return GNUTLS_DIG_UNKNOWN;
}

/*
 * A DigestInfo is accepted only byte for byte as DER encodes it for one of
 * the table's hashes: stricter than parsing, and there is nothing else TLS sends.
 */
static int
parse_digest_info(
	const uint8_t *p, size_t len, gnutls_digest_algorithm_t *dig, gnutls_datum_t *hash)
{
	const struct lurk_hash_info *h = lurk_hash_by_digest_info(p, len);

	if (h == NULL || len != h->di_prefix_len + h->len)
		return LURK_ERR_BAD_FORMAT;
	*dig = gnutls_dig(h);
	hash->data = (uint8_t *)p + h->di_prefix_len;
	hash->size = (unsigned)h->len;
	return 0;
}

static gnutls_sign_algorithm_t
pss_algo(gnutls_digest_algorithm_t dig)
{
	switch (dig) {
	case GNUTLS_DIG_SHA256:
		return GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	case GNUTLS_DIG_SHA384:
		return GNUTLS_SIGN_RSA_PSS_RSAE_SHA384;
	case GNUTLS_DIG_SHA512:
		return GNUTLS_SIGN_RSA_PSS_RSAE_SHA512;
	default:
		return GNUTLS_SIGN_UNKNOWN;
	}
}

/* Checks the PSS parameters against the hash: MGF1 of it, salt of its length. */
static int
check_pss(const struct lurk_sign_req *req, const struct lurk_hash_info *want)
{
	const struct lurk_hash_info *h;

	if (!req->has_pss)
		return LURK_ERR_MECHANISM;
	h = lurk_hash_by_ckm(req->pss_hash);
	if (h == NULL || h->pss_mgf == 0 || h != want || req->pss_mgf != h->pss_mgf ||
		req->pss_slen != h->len)
		return LURK_ERR_MECHANISM;
	return 0;
}

/* GnuTLS's DER ECDSA signature to PKCS#11's r‖s, each padded to the field size. */
static int
ecdsa_to_raw(const struct lurk_tls_key *k, const gnutls_datum_t *der, uint8_t *sig, size_t *sig_len)
{
	gnutls_datum_t r = {NULL, 0}, s = {NULL, 0};
	size_t fl = k->sig_len / 2;
	const uint8_t *rp, *sp;
	size_t rl, sl;
	int ret = LURK_ERR_CRYPTO;

	if (*sig_len < k->sig_len)
		return LURK_ERR_NO_SPACE;
	if (gnutls_decode_rs_value(der, &r, &s) < 0)
		return LURK_ERR_CRYPTO;
	rp = r.data;
	rl = r.size;
	sp = s.data;
	sl = s.size;
	/* Drop DER's leading zero bytes; what is left must fit the field. */
	while (rl > 0 && *rp == 0)
		rp++, rl--;
	while (sl > 0 && *sp == 0)
		sp++, sl--;
	if (rl > fl || sl > fl)
		goto out;
	memset(sig, 0, 2 * fl);
	memcpy(sig + fl - rl, rp, rl);
	memcpy(sig + 2 * fl - sl, sp, sl);
	*sig_len = 2 * fl;
	ret = 0;
out:
	gnutls_free(r.data);
	gnutls_free(s.data);
	return ret;
}

static int
finish(const struct lurk_tls_key *k, int ecdsa, gnutls_datum_t *s, uint8_t *sig, size_t *sig_len)
{
	int r;

	if (ecdsa) {
		r = ecdsa_to_raw(k, s, sig, sig_len);
	} else if (s->size > *sig_len) {
		r = LURK_ERR_NO_SPACE;
	} else {
		memcpy(sig, s->data, s->size);
		*sig_len = s->size;
		r = 0;
	}
	gnutls_free(s->data);
	return r;
}

int
lurk_tls_key_sign(
	struct lurk_tls_key *k, const struct lurk_sign_req *req, uint8_t *sig, size_t *sig_len)
{
	gnutls_datum_t d = {(uint8_t *)req->data, (unsigned)req->len}, s = {NULL, 0}, h;
	const struct lurk_hash_info *hi;
	gnutls_digest_algorithm_t dig;
	gnutls_sign_algorithm_t alg;
	int r, ecdsa = 0;

	if (req->len > 0x7fffffff)
		return LURK_ERR_TOO_LARGE;
	switch (req->mech) {
	case CKM_RSA_PKCS:
		if (k->type != LURK_KEY_RSA)
			return LURK_ERR_MECHANISM;
		if (req->len == LURK_TLS_MD5_SHA1_LEN) /* TLS 1.0/1.1: no DigestInfo */
			r = gnutls_privkey_sign_hash(k->priv, GNUTLS_DIG_UNKNOWN,
				GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, &d, &s);
		else if (parse_digest_info(req->data, req->len, &dig, &h) != 0)
			return LURK_ERR_BAD_FORMAT;
		else
			r = gnutls_privkey_sign_hash2(
				k->priv, gnutls_pk_to_sign(GNUTLS_PK_RSA, dig), 0, &h, &s);
		break;
	case CKM_RSA_PKCS_PSS:
		hi = lurk_hash_by_len(req->len);
		if (k->type != LURK_KEY_RSA || hi == NULL || check_pss(req, hi) != 0)
			return LURK_ERR_MECHANISM;
		r = gnutls_privkey_sign_hash2(k->priv, pss_algo(gnutls_dig(hi)), 0, &d, &s);
		break;
	case CKM_SHA256_RSA_PKCS:
	case CKM_SHA384_RSA_PKCS:
	case CKM_SHA512_RSA_PKCS:
		if (k->type != LURK_KEY_RSA)
			return LURK_ERR_MECHANISM;
		dig = gnutls_dig(lurk_hash_by_sign_mech(req->mech));
		r = gnutls_privkey_sign_data2(
			k->priv, gnutls_pk_to_sign(GNUTLS_PK_RSA, dig), 0, &d, &s);
		break;
	case CKM_SHA256_RSA_PKCS_PSS:
	case CKM_SHA384_RSA_PKCS_PSS:
	case CKM_SHA512_RSA_PKCS_PSS:
		hi = lurk_hash_by_sign_mech(req->mech);
		if (k->type != LURK_KEY_RSA || (req->has_pss && check_pss(req, hi) != 0))
			return LURK_ERR_MECHANISM;
		r = gnutls_privkey_sign_data2(k->priv, pss_algo(gnutls_dig(hi)), 0, &d, &s);
		break;
	case CKM_ECDSA:
		dig = gnutls_dig(lurk_hash_by_len(req->len));
		if (k->type != LURK_KEY_EC || dig == GNUTLS_DIG_UNKNOWN)
			return LURK_ERR_MECHANISM;
		alg = gnutls_pk_to_sign(GNUTLS_PK_ECDSA, dig);
		r = gnutls_privkey_sign_hash2(k->priv, alg, 0, &d, &s);
		ecdsa = 1;
		break;
	case CKM_ECDSA_SHA256:
	case CKM_ECDSA_SHA384:
	case CKM_ECDSA_SHA512:
		if (k->type != LURK_KEY_EC)
			return LURK_ERR_MECHANISM;
		dig = gnutls_dig(lurk_hash_by_sign_mech(req->mech));
		r = gnutls_privkey_sign_data2(
			k->priv, gnutls_pk_to_sign(GNUTLS_PK_ECDSA, dig), 0, &d, &s);
		ecdsa = 1;
		break;
	case CKM_EDDSA:
		if (k->type == LURK_KEY_ED25519)
			alg = GNUTLS_SIGN_EDDSA_ED25519;
		else if (k->type == LURK_KEY_ED448)
			alg = GNUTLS_SIGN_EDDSA_ED448;
		else
			return LURK_ERR_MECHANISM;
		r = gnutls_privkey_sign_data2(k->priv, alg, 0, &d, &s);
		break;
	default:
		/* Raw RSA (CKM_RSA_X_509) and everything else. */
		return LURK_ERR_MECHANISM;
	}
	if (r < 0)
		return LURK_ERR_CRYPTO;
	return finish(k, ecdsa, &s, sig, sig_len);
}

int
lurk_tls_key_decrypt_tls(
	struct lurk_tls_key *k, uint32_t mech, const uint8_t *ct, size_t ct_len, uint8_t out[48])
{
	gnutls_datum_t c = {(uint8_t *)ct, (unsigned)ct_len};

	if (k->type != LURK_KEY_RSA || mech != CKM_RSA_PKCS)
		return LURK_ERR_MECHANISM;
	if (ct_len != lurk_tls_sig_len(LURK_KEY_RSA, k->bits))
		return LURK_ERR_BAD_FORMAT;
	/* The constant-time GnuTLS call: fixed 48-byte output, no early exit on padding. */
	if (gnutls_privkey_decrypt_data2(k->priv, 0, &c, out, 48) < 0)
		return LURK_ERR_CRYPTO;
	return 0;
}
