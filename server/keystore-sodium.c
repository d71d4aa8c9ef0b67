/*
 * The libsodium back end: Ed25519 keys read from files. The 32-byte seed
 * comes out of the key GnuTLS loaded; libsodium's secret key (seed and
 * public key) lives in sodium_malloc memory between guard pages, read-only
 * once made, and sodium_free wipes it.
 */
#include "config.h"

#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <sodium.h>

#include "err.h"
#include "keystore-int.h"
#include "mem.h"

/* The public key at the end of an Ed25519 SubjectPublicKeyInfo (RFC 8410). */
#define ED25519_SPKI_LEN 44

static int
na_sign(struct lurk_tls_key *k, const struct lurk_sig_op *op, uint8_t *sig, size_t *sig_len)
{
	unsigned long long n = 0;

	/* *sig_len is at least k->sig_len, 64 (crypto_sign_BYTES): lurk_tls_key_sign checked. */
	if (op->kind != LURK_SIG_EDDSA)
		return LURK_ERR_MECHANISM;
	if (crypto_sign_detached(sig, &n, op->tbs, op->tbs_len, (const uint8_t *)k->be) != 0)
		return LURK_ERR_CRYPTO;
	*sig_len = (size_t)n;
	return 0;
}

static void
na_free(struct lurk_tls_key *k)
{
	sodium_free(k->be); /* wipes before it unmaps */
	k->be = NULL;
}

static const struct lurk_key_ops sodium_ops = {
	.name = "libsodium",
	.sign = na_sign,
	.decrypt_tls = NULL,
	.free = na_free,
};

static void
free_datum(gnutls_datum_t *d, int secret)
{
	if (d->data != NULL && secret)
		lurk_wipe(d->data, d->size);
	gnutls_free(d->data);
	d->data = NULL;
}

int
lurk_ks_sodium_attach(
	struct lurk_tls_key *k, const struct lurk_tls_key_source *src, char *why, size_t why_len)
{
	gnutls_datum_t x = {NULL, 0}, seed = {NULL, 0};
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], *sk;
	int r = LURK_ERR_KEY_FILE;

	if (k->pkcs11 || k->type != LURK_KEY_ED25519)
		return LURK_ERR_MECHANISM;
	if ((sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return LURK_ERR_ALLOC;
	if (gnutls_privkey_export_ecc_raw2(k->priv, &curve, &x, NULL, &seed, 0) < 0 ||
		curve != GNUTLS_ECC_CURVE_ED25519 || seed.size != crypto_sign_SEEDBYTES ||
		crypto_sign_seed_keypair(pk, sk, seed.data) != 0) {
		snprintf(why, why_len, "%s: cannot read the Ed25519 key", src->source);
		goto out;
	}
	/* What libsodium derived must be the key the certificate carries. */
	if (k->spki.size != ED25519_SPKI_LEN ||
		memcmp(k->spki.data + ED25519_SPKI_LEN - sizeof(pk), pk, sizeof(pk)) != 0) {
		snprintf(why, why_len, "%s: libsodium and GnuTLS read different public keys",
			src->source);
		goto out;
	}
	(void)sodium_mprotect_readonly(sk);
	k->ops = &sodium_ops;
	k->be = sk;
	sk = NULL;
	r = 0;
out:
	free_datum(&seed, 1);
	free_datum(&x, 0);
	sodium_free(sk);
	return r;
}
