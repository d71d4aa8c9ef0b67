/*
 * lurk-bench sign --lib openssl: the physical limit of this machine's
 * fastest constant-time code, OpenSSL 3's libcrypto in this process.
 *
 * ECDSA P-256 and RSA-2048 sign the 32-byte hash with EVP_PKEY_sign on a
 * context set up once per thread (signature digest SHA-256; for RSA,
 * PKCS#1 v1.5 padding around the DigestInfo OpenSSL builds), as GnuTLS's
 * way signs the hash with gnutls_privkey_sign_hash2. Ed25519 signs the TLS
 * 1.3 content with EVP_DigestSign (one-shot; the context initialised for
 * each signature).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "bench.h"

static EVP_PKEY *
load_key(void)
{
	EVP_PKEY *k;
	FILE *f;

	if ((f = fopen(opt.key, "r")) == NULL)
		return NULL;
	/* The demo keys are unencrypted PKCS#8; "" is the passphrase if one is asked. */
	k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	fclose(f);
	return k;
}

/* A sign context for the hash-signing algorithms (NULL for Ed25519). */
static EVP_PKEY_CTX *
hash_ctx(EVP_PKEY *k)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

	if (c == NULL || EVP_PKEY_sign_init(c) != 1 ||
		(strcmp(opt.alg, "rsa") == 0 &&
			EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1) ||
		EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) != 1) {
		EVP_PKEY_CTX_free(c);
		return NULL;
	}
	return c;
}

static int
sign_once(EVP_PKEY *k, EVP_PKEY_CTX *pc, EVP_MD_CTX *mc, uint8_t *buf)
{
	uint8_t sig[512];
	size_t len = bench_input(buf), sl = sizeof(sig);

	if (pc != NULL)
		return EVP_PKEY_sign(pc, sig, &sl, buf, len) == 1 ? 0 : -1;
	if (EVP_MD_CTX_reset(mc) != 1 ||
		EVP_DigestSignInit_ex(mc, NULL, NULL, NULL, NULL, k, NULL) != 1)
		return -1;
	return EVP_DigestSign(mc, sig, &sl, buf, len) == 1 ? 0 : -1;
}

void *
bench_sign_openssl(void *arg)
{
	struct worker *w = arg;
	int ed = strcmp(opt.alg, "ed25519") == 0;
	EVP_PKEY *k = load_key();
	EVP_PKEY_CTX *pc = NULL;
	EVP_MD_CTX *mc = NULL;
	uint8_t buf[256];

	if (k == NULL || (ed ? (mc = EVP_MD_CTX_new()) == NULL : (pc = hash_ctx(k)) == NULL)) {
		EVP_PKEY_free(k);
		return bench_fail(w);
	}
	/* Warm up (OpenSSL caches per-thread and per-key state), then wait for the start. */
	(void)sign_once(k, pc, mc, buf);
	pthread_barrier_wait(&bench_ready);
	pthread_barrier_wait(&bench_go);
	while (bench_more(w)) {
		double t0 = bench_now();
		if (sign_once(k, pc, mc, buf) != 0)
			w->errors++;
		else
			bench_record(w, t0);
	}
	EVP_MD_CTX_free(mc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(k); /* cleanses the key material */
	return NULL;
}
