/*
 * The OpenSSL back end: RSA and ECDSA keys read from PEM files, signed with
 * OpenSSL 3's libcrypto (constant-time P-256, RSA with blinding), several
 * times faster than the same work in nettle on the machines lurkd runs on.
 *
 * The file is read again here from the bytes the parent handed over (the
 * child never opens it); keystore.c has already read it through GnuTLS for
 * the public facts, and the two must agree on the public key.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

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

/*
 * The key's password for an encrypted PEM; never a prompt on a terminal.
 * No password is the empty one, as GnuTLS reads it (certtool writes PKCS#8
 * encrypted under an empty password by default).
 */
static int
pw_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u != NULL ? u : "";
	size_t n = strlen(pw);

	(void)rwflag;
	if (size <= 0 || n >= (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

/* OpenSSL's reason for the last error, for a log line (no key material in it). */
static const char *
ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *s = e != 0 ? ERR_reason_error_string(e) : NULL;

	return s != NULL ? s : "unknown error";
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

static int
os_sign(struct lurk_tls_key *k, const struct lurk_sig_op *op, uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)k->be, NULL);
	uint8_t der[ECDSA_DER_MAX];
	size_t n = *sig_len;
	const EVP_MD *md;
	int ret = LURK_ERR_CRYPTO;

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0)
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
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)k->be, NULL);
	uint8_t em[LURK_TLS_KEY_RSA_MAX_BITS / 8];
	size_t n = sizeof(em);
	int r = LURK_ERR_CRYPTO;

	/*
	 * OpenSSL 3.0's PKCS#1 v1.5 decryption has no implicit rejection: take
	 * the raw RSA result (blinded) and check the padding here without a
	 * branch. Only public facts (ct not below the modulus) fail early.
	 */
	if (ctx == NULL || ct_len > sizeof(em) || EVP_PKEY_decrypt_init(ctx) <= 0 ||
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) <= 0 ||
		EVP_PKEY_decrypt(ctx, em, &n, ct, ct_len) <= 0 || n != ct_len) {
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
	/* RSA and EC private components are freed with BN_clear_free. */
	EVP_PKEY_free((EVP_PKEY *)k->be);
	k->be = NULL;
}

static const struct lurk_key_ops openssl_ops = {
	.name = "OpenSSL",
	.sign = os_sign,
	.decrypt_tls = os_decrypt_tls,
	.free = os_free,
};

int
lurk_ks_openssl_attach(
	struct lurk_tls_key *k, const struct lurk_tls_key_source *src, char *why, size_t why_len)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int want;

	if (k->pkcs11 || src->pem == NULL || src->pem_len > INT_MAX)
		return LURK_ERR_MECHANISM;
	if (k->type == LURK_KEY_RSA)
		want = EVP_PKEY_RSA;
	else if (k->type == LURK_KEY_EC)
		want = EVP_PKEY_EC;
	else
		return LURK_ERR_MECHANISM;
	if ((bio = BIO_new_mem_buf(src->pem, (int)src->pem_len)) == NULL)
		return LURK_ERR_ALLOC;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, (void *)src->password);
	BIO_free(bio);
	if (pkey == NULL) {
		/* GnuTLS read it: keep serving it through GnuTLS, and say so. */
		lurk_warn("key %s: OpenSSL cannot read it (%s); it signs through GnuTLS",
			src->source, ossl_reason());
		ERR_clear_error();
		return LURK_ERR_MECHANISM;
	}
	if (EVP_PKEY_get_base_id(pkey) != want || !same_public(k, pkey)) {
		snprintf(why, why_len, "%s: OpenSSL and GnuTLS read different public keys",
			src->source);
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return LURK_ERR_KEY_FILE;
	}
	k->ops = &openssl_ops;
	k->be = pkey;
	return 0;
}
