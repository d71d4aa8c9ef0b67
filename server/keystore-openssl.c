/*
 * The OpenSSL back end: RSA and ECDSA keys read from PEM files, signed with
 * OpenSSL 3's libcrypto (constant-time P-256, RSA with blinding), several
 * times faster than the same work in nettle on the machines lurkd runs on.
 *
 * The file is not parsed again here: keystore.c has read (and decrypted)
 * it through GnuTLS, which hands the private key over as unencrypted DER in
 * memory; OpenSSL's view of the public key must still equal GnuTLS's.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "err.h"
#include "keystore-int.h"
#include "log.h"
#include "mem.h"
#include "tls.h"

/* The largest DER ECDSA-Sig-Value: P-521's r and s of 66 bytes, with headers. */
#define ECDSA_DER_MAX 160

void
lurk_ks_openssl_init(void)
{
	(void)OPENSSL_init_crypto(0, NULL);
}

static const EVP_MD *
ossl_md(const struct lurk_hash_info *h)
{
	switch (h != NULL ? h->id : 0) {
	case LURK_HASH_SHA1:
		return EVP_sha1();
	case LURK_HASH_SHA224:
		return EVP_sha224();
	case LURK_HASH_SHA256:
		return EVP_sha256();
	case LURK_HASH_SHA384:
		return EVP_sha384();
	case LURK_HASH_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* The public key OpenSSL read must be the one GnuTLS read, byte for byte. */
static int
same_public(const struct lurk_tls_key *k, EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pkey, &der), same;

	same = n > 0 && (size_t)n == k->spki.size && memcmp(der, k->spki.data, k->spki.size) == 0;
	OPENSSL_free(der);
	return same;
}

/*
 * The back end's state (k->be). sign is a context sign-initialised once, at
 * load, with nothing else set: each signature works on a copy of it
 * (EVP_PKEY_CTX_dup only reads it, so threads share it), ~0.1-0.6 us against
 * ~2.2-3.4 us for a new context and EVP_PKEY_sign_init per call. decrypt
 * (RSA keys only) is the same for decryption, with its padding (none) set.
 */
struct os_key {
	EVP_PKEY *pkey;
	EVP_PKEY_CTX *sign;
	EVP_PKEY_CTX *decrypt;
};

static int
os_sign(struct lurk_tls_key *k, const struct lurk_sig_op *op, uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_dup(((struct os_key *)k->be)->sign);
	uint8_t der[ECDSA_DER_MAX];
	size_t n = *sig_len;
	const EVP_MD *md;
	int ret = LURK_ERR_CRYPTO;

	if (ctx == NULL)
		goto out;
	switch (op->kind) {
	case LURK_SIG_RSA_PKCS1:
		/* No digest set: OpenSSL pads tbs (the DigestInfo, or MD5‖SHA-1) as given. */
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
			EVP_PKEY_sign(ctx, sig, &n, op->tbs, op->tbs_len) <= 0)
			goto out;
		break;
	case LURK_SIG_RSA_PSS:
		md = ossl_md(op->hash);
		if (md == NULL || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
			EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
			EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
			EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)op->hash->len) <= 0 ||
			EVP_PKEY_sign(ctx, sig, &n, op->tbs, op->tbs_len) <= 0)
			goto out;
		break;
	case LURK_SIG_ECDSA:
		/* DER from OpenSSL, r‖s for PKCS#11 as the GnuTLS back end makes it. */
		n = sizeof(der);
		if (EVP_PKEY_sign(ctx, der, &n, op->tbs, op->tbs_len) <= 0)
			goto out;
		ret = lurk_ks_ecdsa_raw(k, der, n, sig, sig_len);
		goto out;
	default:
		ret = LURK_ERR_MECHANISM;
		goto out;
	}
	*sig_len = n;
	ret = 0;
out:
	if (ret != 0)
		ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

static int
os_decrypt_tls(struct lurk_tls_key *k, const uint8_t *ct, size_t ct_len, uint8_t out[48])
{
	const struct os_key *ok = k->be;
	EVP_PKEY_CTX *ctx = ok->decrypt != NULL ? EVP_PKEY_CTX_dup(ok->decrypt) : NULL;
	uint8_t em[LURK_TLS_KEY_RSA_MAX_BITS / 8];
	size_t n = sizeof(em);
	int r = LURK_ERR_CRYPTO;

	/*
	 * OpenSSL 3.0's PKCS#1 v1.5 decryption has no implicit rejection: take
	 * the raw RSA result (blinded; the context was set to RSA_NO_PADDING at
	 * load) and check the padding here without a branch. Only public facts
	 * (ct not below the modulus) fail early.
	 */
	if (ctx == NULL || ct_len > sizeof(em) || EVP_PKEY_decrypt(ctx, em, &n, ct, ct_len) <= 0 ||
		n != ct_len) {
		ERR_clear_error();
		goto out;
	}
	r = lurk_ks_pms_unpad(em, n, out);
out:
	OPENSSL_cleanse(em, sizeof(em));
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static void
os_free(struct lurk_tls_key *k)
{
	struct os_key *ok = k->be;

	/* RSA and EC private components are freed with BN_clear_free. */
	if (ok != NULL) {
		EVP_PKEY_CTX_free(ok->sign);
		EVP_PKEY_CTX_free(ok->decrypt);
		EVP_PKEY_free(ok->pkey);
		free(ok);
	}
	k->be = NULL;
}

static const struct lurk_key_ops openssl_ops = {
	.name = "OpenSSL",
	.sign = os_sign,
	.decrypt_tls = os_decrypt_tls,
	.free = os_free,
};

/*
 * The private key GnuTLS read (and decrypted, for an encrypted file) as
 * unencrypted PKCS#8 DER, for OpenSSL to read from memory: the file is parsed
 * and its password's KDF run once, by GnuTLS. The DER is wiped and freed
 * here, the exported copy wiped by GnuTLS's deinit.
 */
static EVP_PKEY *
from_gnutls(const struct lurk_tls_key *k)
{
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t der = {NULL, 0};
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;

	if (gnutls_privkey_export_x509(k->priv, &xk) >= 0 &&
		gnutls_x509_privkey_export2_pkcs8(
			xk, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN, &der) >= 0 &&
		der.size <= INT_MAX) {
		p = der.data;
		pkey = d2i_AutoPrivateKey(NULL, &p, (long)der.size);
		if (pkey != NULL && p != der.data + der.size) { /* not all of it: not this key */
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	if (der.data != NULL) {
		gnutls_memset(der.data, 0, der.size);
		gnutls_free(der.data);
	}
	gnutls_x509_privkey_deinit(xk);
	return pkey;
}

int
lurk_ks_openssl_attach(
	struct lurk_tls_key *k, const struct lurk_tls_key_source *src, char *why, size_t why_len)
{
	struct os_key *ok = NULL;
	EVP_PKEY *pkey;
	int want;

	if (k->pkcs11)
		return LURK_ERR_MECHANISM;
	if (k->type == LURK_KEY_RSA)
		want = EVP_PKEY_RSA;
	else if (k->type == LURK_KEY_EC)
		want = EVP_PKEY_EC;
	else
		return LURK_ERR_MECHANISM;
	if ((pkey = from_gnutls(k)) == NULL) {
		snprintf(why, why_len, "%s: cannot hand the key from GnuTLS to OpenSSL",
			src->source);
		ERR_clear_error();
		return LURK_ERR_KEY_FILE;
	}
	if (EVP_PKEY_get_base_id(pkey) != want || !same_public(k, pkey)) {
		snprintf(why, why_len, "%s: OpenSSL and GnuTLS read different public keys",
			src->source);
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return LURK_ERR_KEY_FILE;
	}
	if ((ok = calloc(1, sizeof(*ok))) == NULL ||
		(ok->sign = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
		EVP_PKEY_sign_init(ok->sign) <= 0 ||
		(want == EVP_PKEY_RSA &&
			((ok->decrypt = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
				EVP_PKEY_decrypt_init(ok->decrypt) <= 0 ||
				EVP_PKEY_CTX_set_rsa_padding(ok->decrypt, RSA_NO_PADDING) <= 0))) {
		if (ok != NULL) {
			EVP_PKEY_CTX_free(ok->sign);
			EVP_PKEY_CTX_free(ok->decrypt);
		}
		free(ok);
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return LURK_ERR_ALLOC;
	}
	ok->pkey = pkey;
	k->ops = &openssl_ops;
	k->be = ok;
	return 0;
}
