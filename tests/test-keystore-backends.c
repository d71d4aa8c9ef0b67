/*
 * lurkd's key store back ends (server/keystore-int.h), each checked by a
 * library other than the one that signed: file RSA and ECDSA keys sign
 * through OpenSSL and GnuTLS verifies (encrypted ones too: GnuTLS decrypts,
 * OpenSSL gets the key from it, even RC2-encrypted PKCS#8 that OpenSSL 3
 * could not read itself); file Ed25519 keys sign through libsodium and
 * GnuTLS verifies; Ed448 keys, and RSA and ECDSA keys as the GnuTLS back end
 * serves HSM keys, sign through GnuTLS and OpenSSL verifies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ckm.h"
#include "err.h"
#include "keystore-int.h"
#include "log.h"
#include "mem.h"
#include "tap.h"
#include "tls.h"

struct tkey {
	struct lurk_tls_key *k;
	gnutls_pubkey_t pub; /* GnuTLS's view of the public key */
	EVP_PKEY *opub;      /* OpenSSL's */
};

enum how {
	PLAIN,  /* unencrypted PKCS#8, through lurk_tls_key_load */
	RC2,    /* RC2-encrypted PKCS#8, through lurk_tls_key_load */
	GNUTLS, /* the GnuTLS back end on a gnutls_privkey_t, as for an HSM key */
};

/*
 * The key the GnuTLS back end would serve for a pkcs11: URI: a
 * gnutls_privkey_t and the public facts keystore.c fills in, without a
 * token. (A file RSA or ECDSA key goes to OpenSSL.)
 */
static struct lurk_tls_key *
gnutls_key(gnutls_x509_privkey_t xk, gnutls_pubkey_t pub)
{
	struct lurk_tls_key *k = calloc(1, sizeof(*k));
	gnutls_ecc_curve_t curve;
	unsigned bits = 0;
	int pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);

	assert_true(k != NULL);
	assert_num_eq(gnutls_privkey_init(&k->priv), 0);
	assert_num_eq(gnutls_privkey_import_x509(k->priv, xk, GNUTLS_PRIVKEY_IMPORT_COPY), 0);
	assert_num_eq(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &k->spki), 0);
	if (pk == GNUTLS_PK_RSA) {
		k->type = LURK_KEY_RSA;
		k->bits = bits;
	} else {
		assert_num_eq(pk, GNUTLS_PK_ECDSA);
		assert_num_eq(gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0), 0);
		assert_num_eq(curve, GNUTLS_ECC_CURVE_SECP256R1);
		k->type = LURK_KEY_EC;
		k->bits = 256;
	}
	k->sig_len = lurk_tls_sig_len(k->type, k->bits);
	lurk_ks_gnutls_attach(k);
	return k;
}

/* A key of this type, as a PEM the key store loads, or as the GnuTLS back end serves it. */
static void
load(struct tkey *t, gnutls_pk_algorithm_t pk, unsigned bits, enum how how)
{
	int rc2 = how == RC2;
	gnutls_x509_privkey_t xk;
	gnutls_x509_crt_t crt;
	gnutls_datum_t kp = {NULL, 0}, cp = {NULL, 0};
	struct lurk_tls_key_source src = {.source = "test.key", .chain = "test.pem"};
	const unsigned char *p;
	const uint8_t *spki;
	size_t spki_len;
	char why[256] = "";

	assert_num_eq(gnutls_x509_privkey_init(&xk), 0);
	assert_num_eq(gnutls_x509_privkey_generate(xk, pk, bits, 0), 0);
	/* PKCS#8, the one form GnuTLS writes for every key type. */
	assert_num_eq(gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_PEM, rc2 ? "pw" : NULL,
			      rc2 ? GNUTLS_PKCS_PKCS12_RC2_40 : GNUTLS_PKCS_PLAIN, &kp),
		0);
	assert_num_eq(gnutls_x509_crt_init(&crt), 0);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, "\x01", 1);
	gnutls_x509_crt_set_activation_time(crt, time(NULL));
	gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 3600);
	gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "backends", 8);
	gnutls_x509_crt_set_key(crt, xk);
	/* EdDSA certificates name no separate hash. */
	assert_num_eq(gnutls_x509_crt_sign2(crt, crt, xk,
			      pk == GNUTLS_PK_RSA || pk == GNUTLS_PK_ECDSA ? GNUTLS_DIG_SHA256
									   : GNUTLS_DIG_UNKNOWN,
			      0),
		0);
	assert_num_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cp), 0);
	src.pem = kp.data;
	src.pem_len = kp.size;
	src.password = rc2 ? "pw" : NULL;
	src.chain_pem = cp.data;
	src.chain_len = cp.size;
	assert_num_eq(gnutls_pubkey_init(&t->pub), 0);
	assert_num_eq(gnutls_pubkey_import_x509(t->pub, crt, 0), 0);
	if (how == GNUTLS)
		t->k = gnutls_key(xk, t->pub);
	else if (lurk_tls_key_load(&src, &t->k, why, sizeof(why)) != 0)
		lurk_test_fail(__FILE__, __LINE__, "load: %s", why);
	spki = lurk_tls_key_spki(t->k, &spki_len);
	p = spki;
	assert_true((t->opub = d2i_PUBKEY(NULL, &p, (long)spki_len)) != NULL);
	gnutls_free(kp.data);
	gnutls_free(cp.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(xk);
}

static void
unload(struct tkey *t)
{
	lurk_tls_key_free(t->k);
	gnutls_pubkey_deinit(t->pub);
	EVP_PKEY_free(t->opub);
}

static int
sign(struct tkey *t, uint32_t mech, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len,
	const struct lurk_hash_info *pss)
{
	struct lurk_sign_req req = {.mech = mech, .data = data, .len = len};

	*sig_len = LURK_WIRE_MAX_SIGNATURE;
	if (pss != NULL) {
		req.has_pss = 1;
		req.pss_hash = pss->ckm;
		req.pss_mgf = pss->pss_mgf;
		req.pss_slen = (uint32_t)pss->len;
	}
	return lurk_tls_key_sign(t->k, &req, sig, sig_len);
}

static int
gt_verify_hash(struct tkey *t, gnutls_sign_algorithm_t alg, unsigned flags, const uint8_t *h,
	size_t hl, const uint8_t *sig, size_t sl)
{
	gnutls_datum_t hd = {(uint8_t *)h, (unsigned)hl}, sd = {(uint8_t *)sig, (unsigned)sl};

	return gnutls_pubkey_verify_hash2(t->pub, alg, flags, &hd, &sd);
}

static int
gt_verify_data(struct tkey *t, gnutls_sign_algorithm_t alg, const uint8_t *d, size_t dl,
	const uint8_t *sig, size_t sl)
{
	gnutls_datum_t dd = {(uint8_t *)d, (unsigned)dl}, sd = {(uint8_t *)sig, (unsigned)sl};

	return gnutls_pubkey_verify_data2(t->pub, alg, 0, &dd, &sd);
}

/* PKCS#11's r‖s as the DER GnuTLS verifies. */
static int
gt_verify_ecdsa(struct tkey *t, gnutls_sign_algorithm_t alg, const uint8_t *h, size_t hl,
	const uint8_t *sig, size_t sl)
{
	gnutls_datum_t r = {(uint8_t *)sig, (unsigned)sl / 2},
		       s = {(uint8_t *)sig + sl / 2, (unsigned)sl / 2}, der;
	int ret;

	assert_num_eq(gnutls_encode_rs_value(&der, &r, &s), 0);
	ret = gt_verify_hash(t, alg, 0, h, hl, der.data, der.size);
	gnutls_free(der.data);
	return ret;
}

/* OpenSSL's verification of a signature over a hash (or raw PKCS#1 input, md NULL). */
static int
os_verify(struct tkey *t, int pad, const EVP_MD *md, const uint8_t *h, size_t hl,
	const uint8_t *sig, size_t sl)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(t->opub, NULL);
	uint8_t der[160], *dp = der;
	ECDSA_SIG *es = NULL;
	int ok = ctx != NULL && EVP_PKEY_verify_init(ctx) > 0;

	if (pad == 0) { /* ECDSA: r‖s to DER */
		es = ECDSA_SIG_new();
		ok = ok && es != NULL &&
		     ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)sl / 2, NULL),
			     BN_bin2bn(sig + sl / 2, (int)sl / 2, NULL)) == 1;
		sl = ok ? (size_t)i2d_ECDSA_SIG(es, &dp) : 0;
		sig = der;
	} else {
		ok = ok && EVP_PKEY_CTX_set_rsa_padding(ctx, pad) > 0;
		if (pad == RSA_PKCS1_PSS_PADDING)
			ok = ok && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, EVP_MD_get_size(md)) > 0 &&
			     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0;
	}
	if (md != NULL)
		ok = ok && EVP_PKEY_CTX_set_signature_md(ctx, md) > 0;
	ok = ok && EVP_PKEY_verify(ctx, sig, sl, h, hl) == 1;
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
hash(gnutls_digest_algorithm_t dig, const uint8_t *d, size_t len, uint8_t *out)
{
	assert_num_eq(gnutls_hash_fast(dig, d, len, out), 0);
}

static uint8_t msg[130], h256[32], h384[48], di256[51], md5sha1[36];

static void
setup(void)
{
	const struct lurk_hash_info *h = lurk_hash_by_id(LURK_HASH_SHA256);

	gnutls_rnd(GNUTLS_RND_NONCE, msg, sizeof(msg));
	gnutls_rnd(GNUTLS_RND_NONCE, md5sha1, sizeof(md5sha1));
	hash(GNUTLS_DIG_SHA256, msg, sizeof(msg), h256);
	hash(GNUTLS_DIG_SHA384, msg, sizeof(msg), h384);
	memcpy(di256, h->di_prefix, h->di_prefix_len);
	memcpy(di256 + h->di_prefix_len, h256, 32);
}

static void
test_rsa_openssl(void)
{
	const struct lurk_hash_info *s256 = lurk_hash_by_id(LURK_HASH_SHA256),
				    *s384 = lurk_hash_by_id(LURK_HASH_SHA384);
	uint8_t sig[LURK_WIRE_MAX_SIGNATURE];
	struct tkey t;
	size_t sl;

	setup();
	load(&t, GNUTLS_PK_RSA, 2048, PLAIN);
	assert_str_eq(t.k->ops->name, "OpenSSL");
	assert_ok(sign(&t, CKM_RSA_PKCS, di256, sizeof(di256), sig, &sl, NULL));
	assert_num_eq(sl, 256);
	assert_num_eq(gt_verify_hash(&t, GNUTLS_SIGN_RSA_SHA256, 0, h256, 32, sig, sl), 0);
	assert_ok(sign(&t, CKM_RSA_PKCS, md5sha1, sizeof(md5sha1), sig, &sl, NULL));
	assert_num_eq(gt_verify_hash(&t, GNUTLS_SIGN_UNKNOWN, GNUTLS_VERIFY_USE_TLS1_RSA, md5sha1,
			      sizeof(md5sha1), sig, sl),
		0);
	/* PSS, salt of the hash's length: GnuTLS checks it is so. */
	assert_ok(sign(&t, CKM_RSA_PKCS_PSS, h256, 32, sig, &sl, s256));
	assert_num_eq(gt_verify_hash(&t, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, 0, h256, 32, sig, sl), 0);
	assert_ok(sign(&t, CKM_RSA_PKCS_PSS, h384, 48, sig, &sl, s384));
	assert_num_eq(gt_verify_hash(&t, GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, 0, h384, 48, sig, sl), 0);
	assert_ok(sign(&t, CKM_SHA256_RSA_PKCS, msg, sizeof(msg), sig, &sl, NULL));
	assert_num_eq(gt_verify_data(&t, GNUTLS_SIGN_RSA_SHA256, msg, sizeof(msg), sig, sl), 0);
	assert_ok(sign(&t, CKM_SHA384_RSA_PKCS_PSS, msg, sizeof(msg), sig, &sl, NULL));
	assert_num_eq(
		gt_verify_data(&t, GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, msg, sizeof(msg), sig, sl), 0);
	/* The checks before the back end stay: wrong salt, a short hash, the wrong family. */
	{
		struct lurk_sign_req req = {.mech = CKM_RSA_PKCS_PSS,
			.data = h256,
			.len = 32,
			.has_pss = 1,
			.pss_hash = s256->ckm,
			.pss_mgf = s256->pss_mgf,
			.pss_slen = 20};
		sl = sizeof(sig);
		assert_num_eq(lurk_tls_key_sign(t.k, &req, sig, &sl), LURK_ERR_MECHANISM);
	}
	assert_num_eq(sign(&t, CKM_RSA_PKCS, di256, sizeof(di256) - 1, sig, &sl, NULL),
		LURK_ERR_BAD_FORMAT);
	assert_num_eq(sign(&t, CKM_ECDSA, h256, 32, sig, &sl, NULL), LURK_ERR_MECHANISM);
	unload(&t);
}

static void
ec_openssl(unsigned bits, gnutls_sign_algorithm_t alg, gnutls_sign_algorithm_t salg, uint32_t smech,
	const uint8_t *h, size_t hl)
{
	uint8_t sig[LURK_WIRE_MAX_SIGNATURE];
	struct tkey t;
	size_t sl;

	load(&t, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(
			bits == 256 ? GNUTLS_ECC_CURVE_SECP256R1 : GNUTLS_ECC_CURVE_SECP384R1),
		PLAIN);
	assert_str_eq(t.k->ops->name, "OpenSSL");
	for (int i = 0; i < 20; i++) { /* r or s with leading zero bytes come up too */
		assert_ok(sign(&t, CKM_ECDSA, h, hl, sig, &sl, NULL));
		assert_num_eq(sl, bits == 256 ? 64 : 96);
		assert_num_eq(gt_verify_ecdsa(&t, alg, h, hl, sig, sl), 0);
	}
	assert_ok(sign(&t, smech, msg, sizeof(msg), sig, &sl, NULL));
	{
		gnutls_datum_t r = {sig, (unsigned)sl / 2}, s = {sig + sl / 2, (unsigned)sl / 2},
			       der, d = {msg, sizeof(msg)};
		assert_num_eq(gnutls_encode_rs_value(&der, &r, &s), 0);
		assert_num_eq(gnutls_pubkey_verify_data2(t.pub, salg, 0, &d, &der), 0);
		gnutls_free(der.data);
	}
	assert_num_eq(
		sign(&t, CKM_RSA_PKCS, di256, sizeof(di256), sig, &sl, NULL), LURK_ERR_MECHANISM);
	unload(&t);
}

static void
test_ecdsa_openssl(void)
{
	setup();
	ec_openssl(256, GNUTLS_SIGN_ECDSA_SHA256, GNUTLS_SIGN_ECDSA_SHA256, CKM_ECDSA_SHA256, h256,
		32);
	ec_openssl(384, GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_SIGN_ECDSA_SHA512, CKM_ECDSA_SHA512, h384,
		48);
}

static void
test_ed25519_sodium(void)
{
	uint8_t sig[LURK_WIRE_MAX_SIGNATURE];
	struct tkey t;
	size_t sl;

	setup();
	load(&t, GNUTLS_PK_EDDSA_ED25519, 256, PLAIN);
	assert_str_eq(t.k->ops->name, "libsodium");
	assert_ok(sign(&t, CKM_EDDSA, msg, sizeof(msg), sig, &sl, NULL));
	assert_num_eq(sl, 64);
	assert_num_eq(gt_verify_data(&t, GNUTLS_SIGN_EDDSA_ED25519, msg, sizeof(msg), sig, sl), 0);
	msg[0] ^= 1; /* and GnuTLS does tell a wrong one */
	assert_true(gt_verify_data(&t, GNUTLS_SIGN_EDDSA_ED25519, msg, sizeof(msg), sig, sl) < 0);
	assert_num_eq(sign(&t, CKM_ECDSA, h256, 32, sig, &sl, NULL), LURK_ERR_MECHANISM);
	unload(&t);
}

/* A ciphertext of pt under the key's public key (GnuTLS pads it, PKCS#1 v1.5 type 2). */
static void
encrypt(struct tkey *t, const uint8_t *pt, size_t len, uint8_t ct[256])
{
	gnutls_datum_t in = {(uint8_t *)pt, (unsigned)len}, c = {NULL, 0};

	assert_num_eq(gnutls_pubkey_encrypt_data(t->pub, 0, &in, &c), 0);
	assert_num_eq(c.size, 256);
	memcpy(ct, c.data, 256);
	gnutls_free(c.data);
}

/*
 * RSA key exchange through the key's back end (GnuTLS's
 * gnutls_privkey_decrypt_data2, or OpenSSL's raw RSA and lurk_ks_pms_unpad):
 * the premaster secret of a good ciphertext; an error, not a secret, for bad
 * padding and for good padding around a secret that is not 48 bytes.
 */
static void
check_decrypt(struct tkey *t)
{
	uint8_t pms[48], ct[256], out[48];

	gnutls_rnd(GNUTLS_RND_NONCE, pms, sizeof(pms));
	encrypt(t, pms, sizeof(pms), ct);
	memset(out, 0, sizeof(out));
	assert_ok(lurk_tls_key_decrypt_tls(t->k, CKM_RSA_PKCS, ct, sizeof(ct), out));
	assert_mem_eq(out, pms, 48);
	/* A random value below the modulus decrypts to random padding. */
	gnutls_rnd(GNUTLS_RND_NONCE, ct, sizeof(ct));
	ct[0] = 0x01;
	assert_err(
		lurk_tls_key_decrypt_tls(t->k, CKM_RSA_PKCS, ct, sizeof(ct), out), LURK_ERR_CRYPTO);
	encrypt(t, pms, 47, ct);
	assert_err(
		lurk_tls_key_decrypt_tls(t->k, CKM_RSA_PKCS, ct, sizeof(ct), out), LURK_ERR_CRYPTO);
	/* The public checks before the back end: the modulus length, the mechanism. */
	encrypt(t, pms, sizeof(pms), ct);
	assert_err(lurk_tls_key_decrypt_tls(t->k, CKM_RSA_PKCS, ct, sizeof(ct) - 1, out),
		LURK_ERR_BAD_FORMAT);
	assert_err(lurk_tls_key_decrypt_tls(t->k, CKM_RSA_X_509, ct, sizeof(ct), out),
		LURK_ERR_MECHANISM);
}

/* GnuTLS's signatures, OpenSSL's verification. */
static void
test_gnutls(void)
{
	const struct lurk_hash_info *s256 = lurk_hash_by_id(LURK_HASH_SHA256);
	uint8_t sig[LURK_WIRE_MAX_SIGNATURE];
	struct tkey t;
	size_t sl;

	setup();
	/* RSA and ECDSA as the GnuTLS back end serves an HSM's keys. */
	load(&t, GNUTLS_PK_RSA, 2048, GNUTLS);
	assert_str_eq(t.k->ops->name, "GnuTLS");
	assert_ok(sign(&t, CKM_RSA_PKCS, di256, sizeof(di256), sig, &sl, NULL));
	assert_true(os_verify(&t, RSA_PKCS1_PADDING, EVP_sha256(), h256, 32, sig, sl));
	assert_ok(sign(&t, CKM_RSA_PKCS, md5sha1, sizeof(md5sha1), sig, &sl, NULL));
	assert_true(os_verify(&t, RSA_PKCS1_PADDING, NULL, md5sha1, sizeof(md5sha1), sig, sl));
	assert_ok(sign(&t, CKM_RSA_PKCS_PSS, h256, 32, sig, &sl, s256));
	assert_true(os_verify(&t, RSA_PKCS1_PSS_PADDING, EVP_sha256(), h256, 32, sig, sl));
	assert_ok(sign(&t, CKM_SHA384_RSA_PKCS, msg, sizeof(msg), sig, &sl, NULL));
	assert_true(os_verify(&t, RSA_PKCS1_PADDING, EVP_sha384(), h384, 48, sig, sl));
	check_decrypt(&t);
	unload(&t);
	load(&t, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), GNUTLS);
	assert_str_eq(t.k->ops->name, "GnuTLS");
	for (int i = 0; i < 20; i++) { /* r or s with leading zero bytes come up too */
		assert_ok(sign(&t, CKM_ECDSA, h256, 32, sig, &sl, NULL));
		assert_num_eq(sl, 64);
		assert_true(os_verify(&t, 0, NULL, h256, 32, sig, sl));
	}
	unload(&t);
	/* A file key only GnuTLS serves. */
	load(&t, GNUTLS_PK_EDDSA_ED448, 456, PLAIN);
	assert_str_eq(t.k->ops->name, "GnuTLS");
	assert_ok(sign(&t, CKM_EDDSA, msg, sizeof(msg), sig, &sl, NULL));
	{
		EVP_MD_CTX *mc = EVP_MD_CTX_new();
		assert_true(mc != NULL && EVP_DigestVerifyInit(mc, NULL, NULL, NULL, t.opub) == 1);
		assert_num_eq(EVP_DigestVerify(mc, sig, sl, msg, sizeof(msg)), 1);
		EVP_MD_CTX_free(mc);
	}
	unload(&t);
}

/*
 * Encrypted keys: GnuTLS decrypts (once), OpenSSL gets the key from it, so
 * even RC2-encrypted PKCS#8, which OpenSSL 3 without its legacy provider
 * cannot read, signs and decrypts through OpenSSL.
 */
static void
test_encrypted_openssl(void)
{
	uint8_t sig[LURK_WIRE_MAX_SIGNATURE];
	struct tkey t;
	size_t sl;

	setup();
	load(&t, GNUTLS_PK_RSA, 2048, RC2);
	assert_str_eq(t.k->ops->name, "OpenSSL");
	assert_ok(sign(&t, CKM_RSA_PKCS, di256, sizeof(di256), sig, &sl, NULL));
	assert_num_eq(gt_verify_hash(&t, GNUTLS_SIGN_RSA_SHA256, 0, h256, 32, sig, sl), 0);
	check_decrypt(&t);
	unload(&t);
	load(&t, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), RC2);
	assert_str_eq(t.k->ops->name, "OpenSSL");
	assert_ok(sign(&t, CKM_ECDSA, h256, 32, sig, &sl, NULL));
	assert_num_eq(gt_verify_ecdsa(&t, GNUTLS_SIGN_ECDSA_SHA256, h256, 32, sig, sl), 0);
	unload(&t);
}

/* OpenSSL's signatures, OpenSSL-independent check above; here OpenSSL's own view agrees. */
static void
test_openssl_self(void)
{
	uint8_t sig[LURK_WIRE_MAX_SIGNATURE];
	struct tkey t;
	size_t sl;

	setup();
	load(&t, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), PLAIN);
	assert_ok(sign(&t, CKM_ECDSA, h384, 48, sig, &sl, NULL));
	assert_true(os_verify(&t, 0, NULL, h384, 48, sig, sl));
	unload(&t);
}

int
main(int argc, char **argv)
{
	int r;

	lurk_log_init("test-keystore-backends", LURK_LOG_STDERR, LURK_LOG_ERROR);
	if (lurk_mem_init() != 0 || lurk_keystore_init() != 0)
		return 99;
	lurk_test(test_rsa_openssl, "/keystore/rsa/openssl-signs-gnutls-verifies");
	lurk_test(test_ecdsa_openssl, "/keystore/ecdsa/openssl-signs-gnutls-verifies");
	lurk_test(test_ed25519_sodium, "/keystore/ed25519/sodium-signs-gnutls-verifies");
	lurk_test(test_gnutls, "/keystore/gnutls-signs-openssl-verifies");
	lurk_test(test_encrypted_openssl, "/keystore/encrypted/gnutls-decrypts-openssl-signs");
	lurk_test(test_openssl_self, "/keystore/ecdsa/p384-openssl-verifies");
	r = lurk_test_run(argc, argv);
	lurk_keystore_deinit();
	return r;
}
