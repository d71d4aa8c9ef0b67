/*
 * lurk-admin split and split-check (issue 18, docs/split-keys.md "Share
 * files"):
 *
 *   lurk-admin split [-f] KEY.pem SHARE1 SHARE2
 *   lurk-admin split-check SHARE1 SHARE2 [CERT]
 *
 * split reads an Ed25519 or RSA private key (PEM, PKCS#8 or PKCS#1) with
 * libcrypto, splits it with the cores (lurk_frost_split: a_1 + a_2 = s;
 * lurk_rsa_split: d = d_1 − d_2), proves the split with a trial signature
 * before writing anything, writes the two share files, reads them back
 * and checks them as split-check does. split-check parses two share files
 * and proves that they sign together, and optionally that their key is a
 * certificate's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "admin-split.h"
#include "err.h"
#include "frost.h"
#include "mem.h"
#include "rsa-split.h"
#include "share-file.h"

/* DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1). */
static const uint8_t sha256_prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

static void
split_usage(FILE *f)
{
	fputs("usage: lurk-admin split [-f] KEY.pem SHARE1 SHARE2\n"
	      "       lurk-admin split-check SHARE1 SHARE2 [CERT]\n"
	      "See lurk-admin(1) and docs/split-keys.md.\n",
		f);
}

static EVP_PKEY *
spki_pkey(const struct lurk_share *s)
{
	const unsigned char *p = s->spki;

	return d2i_PUBKEY(NULL, &p, (long)s->spki_len);
}

/*
 * FROST with a_1 and a_2 over a random message: lurk_frost_aggregate
 * releases the signature only if libsodium verifies it; OpenSSL must too.
 */
static int
trial_ed25519(const struct lurk_share *s1, const struct lurk_share *s2, const char **why)
{
	struct lurk_frost_nonce n1, n2;
	struct lurk_frost_commitment list[2];
	uint8_t msg[32], z[2][LURK_FROST_SCALAR_LEN], sig[LURK_FROST_SIG_LEN];
	EVP_PKEY *pub = spki_pkey(s1);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;

	randombytes_buf(msg, sizeof(msg));
	if (pub == NULL || md == NULL) {
		*why = "out of memory";
		goto out;
	}
	*why = "the two shares do not make a signature that verifies under the public key";
	if (lurk_frost_commit(1, s1->secret, &n1, &list[0]) != 0 ||
		lurk_frost_commit(2, s2->secret, &n2, &list[1]) != 0 ||
		lurk_frost_sign(1, s1->secret, &n1, s1->pk, list, 2, msg, sizeof(msg), z[0]) != 0 ||
		lurk_frost_sign(2, s2->secret, &n2, s1->pk, list, 2, msg, sizeof(msg), z[1]) != 0 ||
		lurk_frost_aggregate(s1->pk, list, 2, msg, sizeof(msg), z, sig) != 0)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) != 1 ||
		EVP_DigestVerify(md, sig, sizeof(sig), msg, sizeof(msg)) != 1)
		goto out;
	ok = 1;
out:
	sodium_memzero(&n1, sizeof(n1));
	sodium_memzero(&n2, sizeof(n2));
	sodium_memzero(z, sizeof(z));
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	return ok;
}

/* The RSA share as a constant-time BIGNUM in the secure heap. */
static BIGNUM *
share_bn(const struct lurk_share *s)
{
	BIGNUM *b = BN_secure_new();

	if (b != NULL && BN_bin2bn(s->secret, (int)s->secret_len, b) == NULL) {
		BN_clear_free(b);
		return NULL;
	}
	if (b != NULL)
		BN_set_flags(b, BN_FLG_CONSTTIME);
	return b;
}

/*
 * PKCS#1 v1.5 over a random SHA-256 DigestInfo from the two partials: the
 * combined signature must verify in OpenSSL and, with the original key,
 * equal OpenSSL's signature byte for byte.
 */
static int
trial_rsa(
	const struct lurk_share *s1, const struct lurk_share *s2, EVP_PKEY *orig, const char **why)
{
	uint8_t tbs[sizeof(sha256_prefix) + 32];
	uint8_t *em = NULL, *p1 = NULL, *p2 = NULL, *sig = NULL, *ref = NULL;
	size_t k = (size_t)BN_num_bytes(s1->n), ref_len = k;
	BIGNUM *d1 = share_bn(s1), *d2 = share_bn(s2);
	EVP_PKEY *pub = spki_pkey(s1);
	EVP_PKEY_CTX *ctx = NULL;
	int ok = 0;

	memcpy(tbs, sha256_prefix, sizeof(sha256_prefix));
	randombytes_buf(tbs + sizeof(sha256_prefix), 32);
	*why = "out of memory";
	if (d1 == NULL || d2 == NULL || pub == NULL || (em = malloc(k)) == NULL ||
		(p1 = malloc(k)) == NULL || (p2 = malloc(k)) == NULL || (sig = malloc(k)) == NULL ||
		(ref = malloc(k)) == NULL)
		goto out;
	*why = "the two shares do not make a signature that verifies under the public key";
	if (lurk_rsa_pkcs1_encode(tbs, sizeof(tbs), em, k) != 0 ||
		lurk_rsa_partial(s1->n, d1, em, k, p1) != 0 ||
		lurk_rsa_partial(s1->n, d2, em, k, p2) != 0 ||
		lurk_rsa_combine(s1->n, s1->e, em, p1, p2, k, sig) != 0)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new(pub, NULL)) == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
		EVP_PKEY_verify(ctx, sig, k, tbs, sizeof(tbs)) != 1)
		goto out;
	if (orig != NULL) {
		EVP_PKEY_CTX_free(ctx);
		*why = "the combined signature differs from OpenSSL's with the original key";
		if ((ctx = EVP_PKEY_CTX_new(orig, NULL)) == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
			EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
			EVP_PKEY_sign(ctx, ref, &ref_len, tbs, sizeof(tbs)) != 1 || ref_len != k ||
			memcmp(ref, sig, k) != 0)
			goto out;
	}
	ok = 1;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pub);
	BN_clear_free(d1);
	BN_clear_free(d2);
	/* The partials are m^d_i: not secret alone, but no reason to leave them about. */
	lurk_freezero(p1, p1 != NULL ? k : 0);
	lurk_freezero(p2, p2 != NULL ? k : 0);
	free(em);
	free(sig);
	free(ref);
	return ok;
}

/*
 * a and b are shares 1 and 2 (in either order) of one key and one split,
 * and sign together; on success *one, *two are in index order.
 */
static int
check_pair(const struct lurk_share *a, const struct lurk_share *b, EVP_PKEY *orig,
	const struct lurk_share **one, const struct lurk_share **two, const char **why)
{
	if (a->index == b->index) {
		*why = a->index == 1 ? "both files are share 1: a split has shares 1 and 2"
				     : "both files are share 2: a split has shares 1 and 2";
		return 0;
	}
	*one = a->index == 1 ? a : b;
	*two = a->index == 1 ? b : a;
	if (a->type != b->type || a->spki_len != b->spki_len ||
		memcmp(a->spki, b->spki, a->spki_len) != 0) {
		*why = "the two shares are of different keys";
		return 0;
	}
	if (a->type == LURK_SHARE_ED25519) {
		if (memcmp(a->pk1, b->pk1, sizeof(a->pk1)) != 0 ||
			memcmp(a->pk2, b->pk2, sizeof(a->pk2)) != 0) {
			*why = "the two shares come from different splits (their pk1 and pk2 "
			       "differ)";
			return 0;
		}
		return trial_ed25519(*one, *two, why);
	}
	return trial_rsa(*one, *two, orig, why);
}

/* The DER SPKI of the first certificate in path (PEM, a PEM chain, or DER) equals s's. */
static int
cert_matches(const char *path, const struct lurk_share *s, const char **why)
{
	BIO *in = BIO_new_file(path, "rb");
	X509 *x = NULL;
	unsigned char *der = NULL;
	int n, ok = 0;

	if (in == NULL) {
		*why = "cannot read the certificate file";
		return 0;
	}
	if ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) == NULL &&
		(BIO_reset(in) != 0 || (x = d2i_X509_bio(in, NULL)) == NULL)) {
		*why = "not a PEM or DER certificate";
		goto out;
	}
	n = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	if (n <= 0 || (size_t)n != s->spki_len || memcmp(der, s->spki, s->spki_len) != 0) {
		*why = "the certificate's public key is not the shares' key";
		goto out;
	}
	ok = 1;
out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(in);
	return ok;
}

int
lurk_admin_split_check(int argc, char **argv)
{
	struct lurk_share *a = NULL, *b = NULL;
	const struct lurk_share *one, *two;
	const char *why = NULL;
	int ret = 1;

	if (argc != 3 && argc != 4) {
		split_usage(stderr);
		return 2;
	}
	if (lurk_share_read(argv[1], &a, &why) != 0) {
		fprintf(stderr, "lurk-admin: %s: %s\n", argv[1], why);
		goto out;
	}
	if (lurk_share_read(argv[2], &b, &why) != 0) {
		fprintf(stderr, "lurk-admin: %s: %s\n", argv[2], why);
		goto out;
	}
	if (!check_pair(a, b, NULL, &one, &two, &why)) {
		fprintf(stderr, "lurk-admin: %s, %s: %s\n", argv[1], argv[2], why);
		goto out;
	}
	if (argc == 4 && !cert_matches(argv[3], a, &why)) {
		fprintf(stderr, "lurk-admin: %s: %s\n", argv[3], why);
		goto out;
	}
	printf("ok: %s and %s are shares 1 and 2 of one %s key; a trial signature verifies%s%s\n",
		one == a ? argv[1] : argv[2], one == a ? argv[2] : argv[1],
		a->type == LURK_SHARE_ED25519 ? "Ed25519" : "RSA",
		argc == 4 ? "; the key is the certificate's in " : "", argc == 4 ? argv[3] : "");
	ret = 0;
out:
	(void)two;
	lurk_share_free(a);
	lurk_share_free(b);
	return ret;
}

/* Both shares' public part from the key. */
static int
set_spki(EVP_PKEY *pkey, struct lurk_share *s1, struct lurk_share *s2)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pkey, &der), ok = n > 0 && (size_t)n <= sizeof(s1->spki);

	if (ok) {
		memcpy(s1->spki, der, (size_t)n);
		memcpy(s2->spki, der, (size_t)n);
		s1->spki_len = s2->spki_len = (size_t)n;
	}
	OPENSSL_free(der);
	s1->index = 1;
	s2->index = 2;
	return ok;
}

static int
split_ed25519(EVP_PKEY *pkey, struct lurk_share **o1, struct lurk_share **o2, const char **why)
{
	uint8_t *sec = sodium_malloc(64), pk[32];
	size_t len = 32, pk_len = sizeof(pk);
	struct lurk_share *s1 = lurk_share_new(LURK_SHARE_ED25519, 32),
			  *s2 = lurk_share_new(LURK_SHARE_ED25519, 32);
	int ok = 0;

	*why = "out of memory";
	if (sec == NULL || s1 == NULL || s2 == NULL)
		goto out;
	*why = "cannot split the Ed25519 key";
	/* sec: the RFC 8032 seed, then s. */
	if (EVP_PKEY_get_raw_private_key(pkey, sec, &len) != 1 || len != 32 ||
		EVP_PKEY_get_raw_public_key(pkey, pk, &pk_len) != 1 || pk_len != 32 ||
		lurk_frost_seed_to_scalar(sec, sec + 32, s1->pk) != 0 ||
		memcmp(s1->pk, pk, sizeof(pk)) != 0 || !set_spki(pkey, s1, s2) ||
		lurk_frost_split(sec + 32, NULL, s1->secret, s2->secret) != 0 ||
		lurk_frost_public_share(s1->secret, s1->pk1) != 0 ||
		lurk_frost_public_share(s2->secret, s1->pk2) != 0 ||
		lurk_frost_public_shares_check(s1->pk1, s1->pk2, s1->pk) != 0)
		goto out;
	memcpy(s2->pk, s1->pk, sizeof(s1->pk));
	memcpy(s2->pk1, s1->pk1, sizeof(s1->pk1));
	memcpy(s2->pk2, s1->pk2, sizeof(s1->pk2));
	*o1 = s1;
	*o2 = s2;
	s1 = s2 = NULL;
	ok = 1;
out:
	if (sec != NULL)
		sodium_free(sec);
	lurk_share_free(s1);
	lurk_share_free(s2);
	return ok;
}

static int
split_rsa(EVP_PKEY *pkey, struct lurk_share **o1, struct lurk_share **o2, const char **why)
{
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *d1 = NULL, *d2 = NULL;
	struct lurk_share *s1 = NULL, *s2 = NULL;
	int bits, ok = 0;

	*why = "cannot read the RSA key's n, e and d";
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
		!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) ||
		!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d))
		goto out;
	bits = BN_num_bits(n);
	if (bits < LURK_RSA_SPLIT_MIN_BITS || bits > LURK_RSA_SPLIT_MAX_BITS) {
		*why = "RSA keys of 2048 to 8192 bits can be split";
		goto out;
	}
	*why = "cannot split the RSA key";
	if (lurk_rsa_split(n, d, &d1, &d2) != 0)
		goto out;
	*why = "out of memory";
	if ((s1 = lurk_share_new(LURK_SHARE_RSA, (size_t)BN_num_bytes(d1))) == NULL ||
		(s2 = lurk_share_new(LURK_SHARE_RSA, (size_t)BN_num_bytes(d2))) == NULL ||
		(s1->n = BN_dup(n)) == NULL || (s1->e = BN_dup(e)) == NULL ||
		(s2->n = BN_dup(n)) == NULL || (s2->e = BN_dup(e)) == NULL)
		goto out;
	if (BN_bn2bin(d1, s1->secret) != (int)s1->secret_len ||
		BN_bn2bin(d2, s2->secret) != (int)s2->secret_len || !set_spki(pkey, s1, s2)) {
		*why = "cannot encode the RSA shares";
		goto out;
	}
	*o1 = s1;
	*o2 = s2;
	s1 = s2 = NULL;
	ok = 1;
out:
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(d1);
	BN_clear_free(d2);
	lurk_share_free(s1);
	lurk_share_free(s2);
	return ok;
}

static EVP_PKEY *
read_private_key(const char *path, const char **why)
{
	BIO *in = BIO_new_file(path, "r");
	EVP_PKEY *pkey = NULL;

	if (in == NULL) {
		*why = "cannot read the key file";
		return NULL;
	}
	/*
	 * PKCS#8 or PKCS#1. An encrypted PKCS#8 key is tried with the empty
	 * passphrase first (certtool --empty-password writes those), then
	 * OpenSSL asks for the passphrase on the terminal.
	 */
	if ((pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, (void *)"")) == NULL &&
		(BIO_reset(in) != 0 ||
			(pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)) == NULL))
		*why = "not a PEM private key (PKCS#8 or PKCS#1), or a wrong passphrase";
	BIO_free(in);
	return pkey;
}

int
lurk_admin_split(int argc, char **argv)
{
	const char *key = NULL, *out1 = NULL, *out2 = NULL, *why = NULL;
	struct lurk_share *s1 = NULL, *s2 = NULL, *r1 = NULL, *r2 = NULL;
	const struct lurk_share *one, *two;
	EVP_PKEY *pkey = NULL;
	int overwrite = 0, ret = 1, wrote1 = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 && key == NULL)
			overwrite = 1;
		else if (argv[i][0] == '-' || out2 != NULL) {
			split_usage(stderr);
			return 2;
		} else if (key == NULL)
			key = argv[i];
		else if (out1 == NULL)
			out1 = argv[i];
		else
			out2 = argv[i];
	}
	if (out2 == NULL || strcmp(out1, out2) == 0 || strcmp(key, out1) == 0 ||
		strcmp(key, out2) == 0) {
		split_usage(stderr);
		return 2;
	}
	if (!overwrite && (access(out1, F_OK) == 0 || access(out2, F_OK) == 0)) {
		fprintf(stderr, "lurk-admin: %s: file exists (use -f to replace it)\n",
			access(out1, F_OK) == 0 ? out1 : out2);
		return 1;
	}
	if ((pkey = read_private_key(key, &why)) == NULL) {
		fprintf(stderr, "lurk-admin: %s: %s\n", key, why);
		goto out;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		fprintf(stderr,
			"lurk-admin: %s: ECDSA keys cannot be split: two-party ECDSA is out "
			"of scope (docs/split-keys.md); split an Ed25519 or RSA key\n",
			key);
		goto out;
	}
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		if (!split_ed25519(pkey, &s1, &s2, &why))
			goto fail;
	} else if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (!split_rsa(pkey, &s1, &s2, &why))
			goto fail;
	} else {
		why = "only Ed25519 and RSA keys can be split";
		goto fail;
	}
	/* The proof before anything is written. */
	if (!check_pair(s1, s2, pkey, &one, &two, &why))
		goto fail;
	if (lurk_share_write(out1, s1, overwrite, &why) != 0) {
		fprintf(stderr, "lurk-admin: %s: %s\n", out1, why);
		goto out;
	}
	wrote1 = 1;
	if (lurk_share_write(out2, s2, overwrite, &why) != 0) {
		fprintf(stderr, "lurk-admin: %s: %s\n", out2, why);
		goto out;
	}
	/* What was written is what lurkd will read: read it back and sign again. */
	if (lurk_share_read(out1, &r1, &why) != 0 || lurk_share_read(out2, &r2, &why) != 0 ||
		!check_pair(r1, r2, pkey, &one, &two, &why)) {
		fprintf(stderr, "lurk-admin: the written shares do not check: %s\n", why);
		(void)unlink(out2);
		goto out;
	}
	printf("Split %s (%s) into %s (share 1) and %s (share 2); a trial signature made with\n"
	       "the two shares verifies under the key's public key. Now:\n"
	       "  1. Give %s to one party's lurkd and %s to the other party's, each over a\n"
	       "     confidential, authenticated channel. No one place may hold both.\n"
	       "  2. Destroy the original key and every copy and backup of it, e.g.\n"
	       "     shred -u %s\n"
	       "     and remove the share files from this machine once delivered.\n"
	       "  3. Whoever ran this split held the whole key: the split is only as\n"
	       "     trustworthy as this machine and its operator.\n"
	       "Check a pair with: lurk-admin split-check %s %s CERT\n",
		key, s1->type == LURK_SHARE_ED25519 ? "Ed25519" : "RSA", out1, out2, out1, out2,
		key, out1, out2);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "lurk-admin: %s: %s\n", key, why);
out:
	if (ret != 0 && wrote1)
		(void)unlink(out1);
	EVP_PKEY_free(pkey);
	lurk_share_free(s1);
	lurk_share_free(s2);
	lurk_share_free(r1);
	lurk_share_free(r2);
	return ret;
}
