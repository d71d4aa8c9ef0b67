/*
 * Loading keys and their chains. GnuTLS reads every key first (PEM files in
 * all the forms lurkd accepts, pkcs11: URIs) and gives the public facts:
 * type, size, SubjectPublicKeyInfo, the chain's match. Then the key goes to
 * the fastest back end that serves it (keystore-int.h), which may drop the
 * GnuTLS copy of the private key.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>

#include "ckm.h"
#include "err.h"
#include "keystore-int.h"
#include "log.h"
#include "mem.h"
#include "tls.h"

static const uint32_t rsa_mechs[] = {CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS,
	CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
	CKM_SHA512_RSA_PKCS_PSS};
static const uint32_t ec_mechs[] = {
	CKM_ECDSA, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512};
static const uint32_t ed_mechs[] = {CKM_EDDSA};
_Static_assert(LURK_ARRAY_LEN(rsa_mechs) <= LURK_TLS_KEY_MAX_MECHS &&
		       LURK_ARRAY_LEN(ec_mechs) <= LURK_TLS_KEY_MAX_MECHS,
	"a key's mechanisms fit a list response");

int
lurk_keystore_init(void)
{
	/*
	 * The libsodium back end's sodium_malloc needs sodium_init; calling it
	 * here (it is idempotent) keeps that from depending on the caller's order.
	 */
	if (lurk_mem_init() != 0)
		return LURK_ERR_INTERNAL;
	if (gnutls_global_init() < 0)
		return LURK_ERR_CRYPTO;
	lurk_ks_openssl_init();
	return 0;
}

void
lurk_keystore_deinit(void)
{
	gnutls_global_deinit();
}

/* GnuTLS asks for an HSM PIN through this; the PIN is the key's password. */
static int
pin_cb(void *user, int attempt, const char *url, const char *label, unsigned flags, char *pin,
	size_t pin_max)
{
	const char *pw = user;

	(void)url;
	(void)label;
	(void)flags;
	if (pw == NULL || attempt > 0 || strlen(pw) >= pin_max)
		return -1;
	memcpy(pin, pw, strlen(pw) + 1);
	return 0;
}

static int
load_private(
	struct lurk_tls_key *k, const struct lurk_tls_key_source *src, char *why, size_t why_len)
{
	const char *source = src->source, *password = src->password;
	gnutls_datum_t d = {(unsigned char *)src->pem, (unsigned)src->pem_len};
	int r;

	if (gnutls_privkey_init(&k->priv) < 0)
		return LURK_ERR_ALLOC;
	if (strncmp(source, "pkcs11:", 7) == 0) {
		if (password != NULL)
			gnutls_privkey_set_pin_function(k->priv, pin_cb, (void *)password);
		r = gnutls_privkey_import_url(k->priv, source, 0);
		if (r < 0) {
			snprintf(why, why_len, "cannot load %s: %s", source, gnutls_strerror(r));
			return LURK_ERR_KEY_FILE;
		}
		k->pkcs11 = 1;
		return 0;
	}
	if (src->pem == NULL || src->pem_len > UINT32_MAX) {
		snprintf(why, why_len, "cannot read %s", source);
		return LURK_ERR_KEY_FILE;
	}
	r = gnutls_privkey_import_x509_raw(k->priv, &d, GNUTLS_X509_FMT_PEM, password, 0);
	if (r < 0) {
		snprintf(why, why_len, "%s: %s", source,
			r == GNUTLS_E_DECRYPTION_FAILED ? "wrong password" : gnutls_strerror(r));
		return LURK_ERR_KEY_FILE;
	}
	return 0;
}

/* Key type, size and public key (DER SubjectPublicKeyInfo). */
static int
load_public(struct lurk_tls_key *k, char *why, size_t why_len)
{
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	gnutls_pubkey_t pub = NULL;
	unsigned bits = 0;
	int pk, r;

	if (gnutls_pubkey_init(&pub) < 0)
		return LURK_ERR_ALLOC;
	if ((r = gnutls_pubkey_import_privkey(pub, k->priv, 0, 0)) < 0 ||
		(r = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &k->spki)) < 0) {
		snprintf(why, why_len, "cannot read the public key: %s", gnutls_strerror(r));
		gnutls_pubkey_deinit(pub);
		return LURK_ERR_CRYPTO;
	}
	pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	if (pk == GNUTLS_PK_ECDSA && gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0) < 0)
		curve = GNUTLS_ECC_CURVE_INVALID;
	gnutls_pubkey_deinit(pub);
	switch (pk) {
	case GNUTLS_PK_RSA:
		if (bits < LURK_TLS_KEY_RSA_MIN_BITS || bits > LURK_TLS_KEY_RSA_MAX_BITS) {
			snprintf(why, why_len, "RSA keys must be %u to %u bits, this one has %u",
				LURK_TLS_KEY_RSA_MIN_BITS, LURK_TLS_KEY_RSA_MAX_BITS, bits);
			return LURK_ERR_KEY_FILE;
		}
		k->type = LURK_KEY_RSA;
		k->bits = bits;
		k->mechs = rsa_mechs;
		k->nmechs = LURK_ARRAY_LEN(rsa_mechs);
		break;
	case GNUTLS_PK_ECDSA:
		k->type = LURK_KEY_EC;
		k->mechs = ec_mechs;
		k->nmechs = LURK_ARRAY_LEN(ec_mechs);
		switch (curve) {
		case GNUTLS_ECC_CURVE_SECP256R1:
			k->bits = 256;
			break;
		case GNUTLS_ECC_CURVE_SECP384R1:
			k->bits = 384;
			break;
		case GNUTLS_ECC_CURVE_SECP521R1:
			k->bits = 521;
			break;
		default:
			snprintf(why, why_len, "EC keys must be on P-256, P-384 or P-521");
			return LURK_ERR_KEY_FILE;
		}
		break;
	case GNUTLS_PK_EDDSA_ED25519:
		k->type = LURK_KEY_ED25519;
		k->bits = 255;
		k->mechs = ed_mechs;
		k->nmechs = 1;
		break;
	case GNUTLS_PK_EDDSA_ED448:
		k->type = LURK_KEY_ED448;
		k->bits = 448;
		k->mechs = ed_mechs;
		k->nmechs = 1;
		break;
	default:
		snprintf(why, why_len, "unsupported key type (%s)",
			gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)pk));
		return LURK_ERR_KEY_FILE;
	}
	/* The list response carries it (no key type above comes near the limit). */
	if (k->spki.size > LURK_TLS_KEY_MAX_PUBKEY) {
		snprintf(why, why_len, "public key of %u bytes, over the limit of %u", k->spki.size,
			LURK_TLS_KEY_MAX_PUBKEY);
		return LURK_ERR_KEY_FILE;
	}
	k->sig_len = lurk_tls_sig_len(k->type, k->bits);
	return 0;
}

static int
load_chain(struct lurk_tls_key *k, const struct lurk_tls_key_source *src, char *why, size_t why_len)
{
	const char *chain_path = src->chain;
	gnutls_x509_crt_t *crts = NULL;
	gnutls_pubkey_t leaf_pub = NULL;
	gnutls_datum_t d = {(unsigned char *)src->chain_pem, (unsigned)src->chain_len},
		       leaf_spki = {NULL, 0};
	unsigned n = 0;
	int r, ret = LURK_ERR_KEY_FILE;

	if (src->chain_pem == NULL || src->chain_len > UINT32_MAX) {
		snprintf(why, why_len, "cannot read certificate file %s", chain_path);
		return LURK_ERR_KEY_FILE;
	}
	r = gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (r < 0 || n == 0) {
		snprintf(why, why_len, "%s: no PEM certificate: %s", chain_path,
			r < 0 ? gnutls_strerror(r) : "empty");
		return LURK_ERR_KEY_FILE;
	}
	if (n > LURK_TLS_KEY_MAX_CHAIN) {
		snprintf(why, why_len, "%s: %u certificates, more than the limit of %u", chain_path,
			n, LURK_TLS_KEY_MAX_CHAIN);
		goto out;
	}
	/* The leaf must carry exactly this key's public key. */
	if (gnutls_pubkey_init(&leaf_pub) < 0 ||
		gnutls_pubkey_import_x509(leaf_pub, crts[0], 0) < 0 ||
		gnutls_pubkey_export2(leaf_pub, GNUTLS_X509_FMT_DER, &leaf_spki) < 0) {
		snprintf(why, why_len, "%s: cannot read the leaf certificate's key", chain_path);
		goto out;
	}
	if (leaf_spki.size != k->spki.size ||
		memcmp(leaf_spki.data, k->spki.data, k->spki.size) != 0) {
		snprintf(why, why_len, "certificate in %s does not match the private key",
			chain_path);
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		if (gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &k->chain[i]) < 0) {
			snprintf(why, why_len, "%s: cannot encode certificate %u", chain_path, i);
			goto out;
		}
		k->nchain++;
		/* The list response carries each one whole. */
		if (k->chain[i].size > LURK_TLS_KEY_MAX_CERT) {
			snprintf(why, why_len,
				"%s: certificate %u is %u bytes, over the limit of %u", chain_path,
				i + 1, k->chain[i].size, LURK_TLS_KEY_MAX_CERT);
			goto out;
		}
	}
	ret = 0;
out:
	gnutls_free(leaf_spki.data);
	gnutls_pubkey_deinit(leaf_pub);
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return ret;
}

/* "RSA 2048 bits", "ECDSA P-256", "Ed25519": for the load-time line. */
static void
describe(const struct lurk_tls_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case LURK_KEY_RSA:
		snprintf(buf, len, "RSA %u bits", k->bits);
		break;
	case LURK_KEY_EC:
		snprintf(buf, len, "ECDSA P-%u", k->bits);
		break;
	case LURK_KEY_ED25519:
		snprintf(buf, len, "Ed25519");
		break;
	default:
		snprintf(buf, len, "Ed448");
		break;
	}
}

/*
 * The back end: libcrypto for file RSA and EC keys, libsodium for file
 * Ed25519 keys, GnuTLS for the rest (HSM keys, Ed448). Those that take the
 * key hold their own copy, so GnuTLS's is dropped (and wiped by GnuTLS).
 */
static int
attach(struct lurk_tls_key *k, const struct lurk_tls_key_source *src, char *why, size_t why_len)
{
	char what[32];
	int r;

	r = lurk_ks_openssl_attach(k, src, why, why_len);
	if (r == LURK_ERR_MECHANISM)
		r = lurk_ks_sodium_attach(k, src, why, why_len);
	if (r == LURK_ERR_MECHANISM) {
		lurk_ks_gnutls_attach(k);
		r = 0;
	}
	if (r != 0)
		return r;
	if (k->be != NULL) { /* a back end with its own copy of the key */
		gnutls_privkey_deinit(k->priv);
		k->priv = NULL;
	}
	describe(k, what, sizeof(what));
	lurk_debug(LURK_DBG_KEYS, "key %s: %s, %s", src->source, what, k->ops->name);
	return 0;
}

int
lurk_tls_key_load(
	const struct lurk_tls_key_source *src, struct lurk_tls_key **out, char *why, size_t why_len)
{
	struct lurk_tls_key *k;
	int r;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return LURK_ERR_ALLOC;
	if ((r = load_private(k, src, why, why_len)) != 0 ||
		(r = load_public(k, why, why_len)) != 0 ||
		(r = load_chain(k, src, why, why_len)) != 0 ||
		(r = attach(k, src, why, why_len)) != 0) {
		lurk_tls_key_free(k);
		return r;
	}
	*out = k;
	return 0;
}

void
lurk_tls_key_free(struct lurk_tls_key *k)
{
	if (k == NULL)
		return;
	if (k->ops != NULL)
		k->ops->free(k);
	if (k->priv != NULL)
		gnutls_privkey_deinit(k->priv);
	gnutls_free(k->spki.data);
	for (size_t i = 0; i < k->nchain; i++)
		gnutls_free(k->chain[i].data);
	free(k);
}

enum lurk_key_type
lurk_tls_key_type(const struct lurk_tls_key *k)
{
	return k->type;
}

unsigned
lurk_tls_key_bits(const struct lurk_tls_key *k)
{
	return k->bits;
}

const uint8_t *
lurk_tls_key_spki(const struct lurk_tls_key *k, size_t *len)
{
	*len = k->spki.size;
	return k->spki.data;
}

size_t
lurk_tls_key_chain_len(const struct lurk_tls_key *k)
{
	return k->nchain;
}

const uint8_t *
lurk_tls_key_chain_cert(const struct lurk_tls_key *k, size_t i, size_t *len)
{
	if (i >= k->nchain) {
		*len = 0;
		return NULL;
	}
	*len = k->chain[i].size;
	return k->chain[i].data;
}

size_t
lurk_tls_key_mechanisms(const struct lurk_tls_key *k, const uint32_t **mechs)
{
	*mechs = k->mechs;
	return k->nmechs;
}

size_t
lurk_tls_key_sig_len(const struct lurk_tls_key *k)
{
	return k->sig_len;
}
