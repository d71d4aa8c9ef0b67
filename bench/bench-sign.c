/*
 * lurk-bench sign: signatures in a loop, in-process (GnuTLS, or OpenSSL in
 * bench-openssl.c) or through a PKCS#11 module (lurk, SoftHSM2,
 * p11-kit-client), each thread with its own key handle or session.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "bench.h"
#include "ckm.h"

int bench_cmd_sign(void);

static CK_FUNCTION_LIST *p11;

static int
gnutls_sign_once(gnutls_privkey_t k, uint8_t *buf)
{
	gnutls_sign_algorithm_t alg = strcmp(opt.alg, "ecdsa") == 0 ? GNUTLS_SIGN_ECDSA_SHA256
				      : strcmp(opt.alg, "rsa") == 0 ? GNUTLS_SIGN_RSA_SHA256
								    : GNUTLS_SIGN_EDDSA_ED25519;
	gnutls_datum_t data = {buf, (unsigned)bench_input(buf)}, sig;
	int r = strcmp(opt.alg, "ed25519") == 0 ? gnutls_privkey_sign_data2(k, alg, 0, &data, &sig)
						: gnutls_privkey_sign_hash2(k, alg, 0, &data, &sig);

	if (r < 0)
		return -1;
	gnutls_free(sig.data);
	return 0;
}

static void *
sign_gnutls(void *arg)
{
	struct worker *w = arg;
	gnutls_datum_t pem = {NULL, 0};
	gnutls_privkey_t k;
	uint8_t buf[256];

	if (gnutls_load_file(opt.key, &pem) < 0 || gnutls_privkey_init(&k) < 0)
		return bench_fail(w);
	if (gnutls_privkey_import_x509_raw(k, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
		gnutls_privkey_deinit(k);
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
		return bench_fail(w);
	}
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	/* Warm up (GnuTLS sets up per-thread state on first use), then wait for the start. */
	(void)gnutls_sign_once(k, buf);
	pthread_barrier_wait(&bench_ready);
	pthread_barrier_wait(&bench_go);
	while (bench_more(w)) {
		double t0 = bench_now();
		if (gnutls_sign_once(k, buf) != 0)
			w->errors++;
		else
			bench_record(w, t0);
	}
	gnutls_privkey_deinit(k);
	return NULL;
}

static int
p11_key(CK_SESSION_HANDLE *s, CK_OBJECT_HANDLE *key)
{
	CK_SLOT_ID slots[32];
	CK_ULONG n = 32, got = 0;
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &priv, sizeof(priv)}, {CKA_LABEL, (void *)opt.label, 0}};
	CK_TOKEN_INFO ti;
	char label[33];

	t[1].ulValueLen = strlen(opt.label);
	if (p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	for (CK_ULONG i = 0; i < n && i < 32; i++) {
		CK_RV rv;
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(label, ti.label, 32);
		label[32] = '\0';
		for (int j = 31; j >= 0 && label[j] == ' '; j--)
			label[j] = '\0';
		if (strcmp(label, opt.token) != 0)
			continue;
		if (p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, s) != CKR_OK)
			return -1;
		if (opt.pin != NULL) {
			rv = p11->C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)opt.pin, strlen(opt.pin));
			if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
				return -1;
		}
		if (p11->C_FindObjectsInit(*s, t, 2) != CKR_OK ||
			p11->C_FindObjects(*s, key, 1, &got) != CKR_OK ||
			p11->C_FindObjectsFinal(*s) != CKR_OK || got != 1)
			return -1;
		return 0;
	}
	return -1;
}

static void *
sign_pkcs11(void *arg)
{
	struct worker *w = arg;
	CK_MECHANISM m = {strcmp(opt.alg, "ecdsa") == 0 ? CKM_ECDSA
			  : strcmp(opt.alg, "rsa") == 0 ? CKM_RSA_PKCS
							: CKM_EDDSA,
		NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	uint8_t buf[256], sig[1024];

	if (p11_key(&s, &k) != 0) {
		if (w->id == 0) /* one writer */
			snprintf(bench_why, sizeof(bench_why), "n/a (no key %.40s)", opt.label);
		return bench_fail(w);
	}
	/* One signature before the clock starts: connections and per-thread state exist. */
	{
		CK_ULONG sl = sizeof(sig), len = bench_input(buf);
		if (p11->C_SignInit(s, &m, k) == CKR_OK)
			(void)p11->C_Sign(s, buf, len, sig, &sl);
	}
	pthread_barrier_wait(&bench_ready);
	pthread_barrier_wait(&bench_go);
	while (bench_more(w) && w->errors <= 100) {
		double t0 = bench_now();
		CK_ULONG sl = sizeof(sig), len = bench_input(buf);
		CK_RV rv = p11->C_SignInit(s, &m, k);
		if (rv == CKR_OK)
			rv = p11->C_Sign(s, buf, len, sig, &sl);
		if (rv != CKR_OK) {
			if (w->id == 0) /* one writer */
				snprintf(bench_why, sizeof(bench_why), "n/a (CK_RV 0x%lx)",
					(unsigned long)rv);
			w->errors++;
			continue;
		}
		bench_record(w, t0);
	}
	p11->C_CloseSession(s);
	return NULL;
}

int
bench_cmd_sign(void)
{
	void *h;
	CK_C_GetFunctionList get;
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};

	if (opt.key != NULL && strcmp(opt.lib, "openssl") == 0)
		return bench_run(bench_sign_openssl, opt.threads, "sign");
	if (opt.key != NULL)
		return bench_run(sign_gnutls, opt.threads, "sign");
	if (opt.module == NULL || opt.token == NULL || opt.label == NULL ||
		(h = dlopen(opt.module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "lurk-bench: cannot load the module %s\n",
			opt.module ? opt.module : "");
		return 1;
	}
	*(void **)&get = dlsym(h, "C_GetFunctionList");
	if (get == NULL || get(&p11) != CKR_OK || p11->C_Initialize(&args) != CKR_OK) {
		fprintf(stderr, "lurk-bench: %s does not initialize\n", opt.module);
		return 1;
	}
	bench_run(sign_pkcs11, opt.threads, "sign");
	p11->C_Finalize(NULL);
	return 0;
}
