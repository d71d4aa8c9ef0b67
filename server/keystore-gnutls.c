/*
 * The GnuTLS back end: keys behind pkcs11: URIs (GnuTLS drives the token and
 * serialises its sessions) and Ed448 keys, which the faster back ends do not
 * serve. It signs with the gnutls_privkey_t keystore.c loaded.
 */
#include "config.h"

#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "err.h"
#include "keystore-int.h"
#include "mem.h"
#include "tls.h"

gnutls_digest_algorithm_t
lurk_ks_gnutls_dig(const struct lurk_hash_info *h)
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

static int
gt_sign(struct lurk_tls_key *k, const struct lurk_sig_op *op, uint8_t *sig, size_t *sig_len)
{
	gnutls_datum_t d = {(uint8_t *)op->tbs, (unsigned)op->tbs_len}, s = {NULL, 0};
	gnutls_digest_algorithm_t dig = lurk_ks_gnutls_dig(op->hash);
	int r;

	switch (op->kind) {
	case LURK_SIG_RSA_PKCS1:
		if (op->hash == NULL) { /* TLS 1.0/1.1's MD5‖SHA-1, padded as it is */
			r = gnutls_privkey_sign_hash(k->priv, GNUTLS_DIG_UNKNOWN,
				GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, &d, &s);
			break;
		}
		/* GnuTLS builds the DigestInfo again from the bare hash. */
		d.data += op->hash->di_prefix_len;
		d.size = (unsigned)op->hash->len;
		r = gnutls_privkey_sign_hash2(
			k->priv, gnutls_pk_to_sign(GNUTLS_PK_RSA, dig), 0, &d, &s);
		break;
	case LURK_SIG_RSA_PSS:
		r = gnutls_privkey_sign_hash2(k->priv, pss_algo(dig), 0, &d, &s);
		break;
	case LURK_SIG_ECDSA:
		r = gnutls_privkey_sign_hash2(
			k->priv, gnutls_pk_to_sign(GNUTLS_PK_ECDSA, dig), 0, &d, &s);
		if (r >= 0) { /* GnuTLS's DER to PKCS#11's r‖s */
			r = lurk_ks_ecdsa_raw(k, s.data, s.size, sig, sig_len);
			gnutls_free(s.data);
			return r;
		}
		break;
	case LURK_SIG_EDDSA:
		r = gnutls_privkey_sign_data2(k->priv,
			k->type == LURK_KEY_ED448 ? GNUTLS_SIGN_EDDSA_ED448
						  : GNUTLS_SIGN_EDDSA_ED25519,
			0, &d, &s);
		break;
	default:
		return LURK_ERR_MECHANISM;
	}
	if (r < 0)
		return LURK_ERR_CRYPTO;
	if (s.size > *sig_len) {
		r = LURK_ERR_NO_SPACE;
	} else {
		memcpy(sig, s.data, s.size);
		*sig_len = s.size;
		r = 0;
	}
	gnutls_free(s.data);
	return r;
}

static int
gt_decrypt_tls(struct lurk_tls_key *k, const uint8_t *ct, size_t ct_len, uint8_t out[48])
{
	gnutls_datum_t c = {(uint8_t *)ct, (unsigned)ct_len};

	/* GnuTLS's constant-time call: fixed 48-byte output, no early exit on padding. */
	return gnutls_privkey_decrypt_data2(k->priv, 0, &c, out, 48) < 0 ? LURK_ERR_CRYPTO : 0;
}

static void
gt_free(struct lurk_tls_key *k)
{
	(void)k; /* keystore.c deinits k->priv, as for every back end */
}

static const struct lurk_key_ops gnutls_ops = {
	.name = "GnuTLS",
	.sign = gt_sign,
	.decrypt_tls = gt_decrypt_tls,
	.free = gt_free,
};

void
lurk_ks_gnutls_attach(struct lurk_tls_key *k)
{
	k->ops = &gnutls_ops;
	k->be = NULL;
}
