#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "err.h"
#include "keyfile.h"
#include "p11-test.h"
#include "tap.h"

CK_FUNCTION_LIST *p11;

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
p11_load(void)
{
	const char *path = getenv("LURK_TEST_MODULE");
	CK_C_GetFunctionList get;
	void *h;

	if (p11 != NULL)
		return;
	if (path == NULL || (h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "cannot load the module (LURK_TEST_MODULE=%s): %s\n",
			path ? path : "(unset)", dlerror());
		exit(1);
	}
	/* Nothing but C_GetFunctionList may be exported. */
	if (dlsym(h, "C_Initialize") != NULL || dlsym(h, "lurk_buf_new") != NULL) {
		fprintf(stderr, "the module exports more than C_GetFunctionList\n");
		exit(1);
	}
	*(void **)&get = dlsym(h, "C_GetFunctionList");
	if (get == NULL || get(&p11) != CKR_OK) {
		fprintf(stderr, "C_GetFunctionList failed\n");
		exit(1);
	}
}

void
p11_init(void)
{
	CK_RV rv;

	p11_load();
	/* A test that failed half-way left the module initialized: start afresh. */
	if ((rv = p11->C_Initialize(NULL)) == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		lurk_test_diag("the module was left initialized: finalizing it first");
		assert_num_eq(p11->C_Finalize(NULL), CKR_OK);
		rv = p11->C_Initialize(NULL);
	}
	assert_num_eq(rv, CKR_OK);
}

int
p11_wait_server(int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = {CKA_CLASS, &priv, sizeof(priv)};
	CK_SESSION_HANDLE s;
	CK_RV rv;

	p11_load();
	do {
		if (p11->C_Initialize(NULL) != CKR_OK)
			return 0;
		rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s);
		if (rv == CKR_OK && (rv = p11->C_FindObjectsInit(s, &t, 1)) == CKR_OK)
			(void)p11->C_FindObjectsFinal(s);
		(void)p11->C_Finalize(NULL);
		if (rv == CKR_OK)
			return 1;
		usleep(200 * 1000);
	} while (now_ms() < end);
	return 0;
}

void
p11_fini(void)
{
	assert_num_eq(p11->C_Finalize(NULL), CKR_OK);
}

CK_SESSION_HANDLE
p11_session(void)
{
	CK_SESSION_HANDLE s;

	assert_num_eq(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	return s;
}

size_t
p11_count(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_OBJECT_HANDLE objs[256];
	CK_ULONG got = 0;

	assert_num_eq(p11->C_FindObjectsInit(s, tmpl, n), CKR_OK);
	assert_num_eq(p11->C_FindObjects(s, objs, 256, &got), CKR_OK);
	assert_num_eq(p11->C_FindObjectsFinal(s), CKR_OK);
	return got;
}

CK_RV
p11_key(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *k)
{
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &priv, sizeof(priv)},
		{CKA_LABEL, (void *)label, strlen(label)},
	};
	CK_ULONG got = 0;
	CK_RV rv, end;

	*k = 0;
	if ((rv = p11->C_FindObjectsInit(s, t, 2)) != CKR_OK)
		return rv;
	rv = p11->C_FindObjects(s, k, 1, &got);
	end = p11->C_FindObjectsFinal(s);
	if (rv == CKR_OK)
		rv = end;
	if (rv != CKR_OK || got == 0)
		*k = 0;
	return rv;
}

int
p11_child_sign(int reinit, const uint8_t h[32], uint8_t sig[64])
{
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	CK_ULONG n = 64;
	CK_RV rv;

	if (reinit && p11->C_Initialize(NULL) != CKR_OK)
		return 10;
	if (p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
		p11_key(s, "ec256", &k) != CKR_OK || k == 0)
		return 11;
	if (p11->C_SignInit(s, &m, k) != CKR_OK)
		return 12;
	if ((rv = p11->C_Sign(s, (CK_BYTE_PTR)h, 32, sig, &n)) != CKR_OK)
		return rv == CKR_DEVICE_ERROR ? 13 : 14;
	return n == 64 ? 0 : 15;
}

void
p11_wrong_note(struct p11_wrong *w, const char *call, CK_RV rv)
{
	if (w->n++ == 0) {
		w->call = call;
		w->rv = rv;
	}
}

int
p11_wrong_report(const struct p11_wrong *w, const char *who)
{
	if (w->n > 0)
		lurk_test_diag("%s: %d answers PKCS#11 does not allow there, the first from %s: "
			       "0x%lx",
			who, w->n, w->call, w->rv);
	return w->n;
}

CK_OBJECT_HANDLE
p11_find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS klass, const char *label)
{
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &klass, sizeof(klass)},
		{CKA_LABEL, (void *)label, strlen(label)},
	};
	CK_OBJECT_HANDLE o[2];
	CK_ULONG got = 0;

	assert_num_eq(p11->C_FindObjectsInit(s, t, 2), CKR_OK);
	assert_num_eq(p11->C_FindObjects(s, o, 2, &got), CKR_OK);
	assert_num_eq(p11->C_FindObjectsFinal(s), CKR_OK);
	if (got != 1)
		lurk_test_fail(__FILE__, __LINE__, "%lu objects of class %lu labelled %s", got,
			klass, label);
	return o[0];
}

CK_RV
p11_sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mech, const void *params,
	size_t params_len, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len)
{
	CK_MECHANISM m = {mech, (void *)params, params_len};
	CK_ULONG n = *sig_len;
	CK_RV rv;

	if ((rv = p11->C_SignInit(s, &m, key)) != CKR_OK)
		return rv;
	rv = p11->C_Sign(s, (CK_BYTE_PTR)data, len, sig, &n);
	*sig_len = n;
	return rv;
}

static gnutls_sign_algorithm_t
sign_algo(gnutls_pk_algorithm_t pk, CK_MECHANISM_TYPE mech, size_t len, int *hashed)
{
	*hashed = 1;
	switch (mech) {
	case CKM_ECDSA:
		return gnutls_pk_to_sign(GNUTLS_PK_ECDSA, len == 32   ? GNUTLS_DIG_SHA256
							  : len == 48 ? GNUTLS_DIG_SHA384
								      : GNUTLS_DIG_SHA512);
	case CKM_RSA_PKCS:
		return GNUTLS_SIGN_RSA_SHA256; /* the helpers only make SHA-256 DigestInfos */
	case CKM_RSA_PKCS_PSS:
		return GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	case CKM_EDDSA:
		*hashed = 0;
		return GNUTLS_SIGN_EDDSA_ED25519;
	case CKM_ECDSA_SHA256:
		*hashed = 0;
		return gnutls_pk_to_sign(GNUTLS_PK_ECDSA, GNUTLS_DIG_SHA256);
	case CKM_SHA256_RSA_PKCS_PSS:
		*hashed = 0;
		return GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	case CKM_SHA256_RSA_PKCS:
		*hashed = 0;
		return GNUTLS_SIGN_RSA_SHA256;
	default:
		(void)pk;
		return GNUTLS_SIGN_UNKNOWN;
	}
}

gnutls_pubkey_t
p11_cert_pubkey(CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_HANDLE cert = p11_find(s, CKO_CERTIFICATE, label);
	uint8_t der[8192];
	CK_ATTRIBUTE a = {CKA_VALUE, der, sizeof(der)};
	gnutls_datum_t cd;
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;

	assert_num_eq(p11->C_GetAttributeValue(s, cert, &a, 1), CKR_OK);
	cd.data = der;
	cd.size = (unsigned)a.ulValueLen;
	assert_true(gnutls_x509_crt_init(&crt) == 0);
	assert_true(gnutls_x509_crt_import(crt, &cd, GNUTLS_X509_FMT_DER) == 0);
	assert_true(gnutls_pubkey_init(&pub) == 0);
	assert_true(gnutls_pubkey_import_x509(pub, crt, 0) == 0);
	gnutls_x509_crt_deinit(crt);
	return pub;
}

int
p11_verify(CK_SESSION_HANDLE s, const char *label, CK_MECHANISM_TYPE mech, const uint8_t *data,
	size_t len, const uint8_t *sig, size_t sig_len)
{
	gnutls_pubkey_t pub = p11_cert_pubkey(s, label);
	gnutls_datum_t dd = {(void *)data, (unsigned)len}, sd = {(void *)sig, (unsigned)sig_len};
	gnutls_datum_t r, sv, enc = {NULL, 0};
	int hashed, ok;
	gnutls_sign_algorithm_t alg;

	alg = sign_algo(gnutls_pubkey_get_pk_algorithm(pub, NULL), mech, len, &hashed);
	if (mech == CKM_ECDSA || mech == CKM_ECDSA_SHA256) {
		/* PKCS#11 gives r‖s; GnuTLS verifies DER. */
		r.data = (void *)sig;
		r.size = (unsigned)sig_len / 2;
		sv.data = (void *)(sig + sig_len / 2);
		sv.size = (unsigned)sig_len / 2;
		assert_true(gnutls_encode_rs_value(&enc, &r, &sv) == 0);
		sd = enc;
	}
	if (mech == CKM_RSA_PKCS) {
		/* The DigestInfo's last 32 bytes are the hash. */
		dd.data = (void *)(data + len - 32);
		dd.size = 32;
	}
	if (hashed)
		ok = gnutls_pubkey_verify_hash2(pub, alg, 0, &dd, &sd) >= 0;
	else
		ok = gnutls_pubkey_verify_data2(pub, alg, 0, &dd, &sd) >= 0;
	gnutls_free(enc.data);
	gnutls_pubkey_deinit(pub);
	return ok;
}

size_t
tls13_content(uint8_t *out, size_t hash_len)
{
	static const char ctx[] = "TLS 1.3, server CertificateVerify";

	memset(out, 0x20, 64);
	memcpy(out + 64, ctx, sizeof(ctx)); /* with its 0x00 */
	randombytes_buf(out + 64 + sizeof(ctx), hash_len);
	return 64 + sizeof(ctx) + hash_len;
}

size_t
digest_info_sha256(uint8_t *out)
{
	static const uint8_t prefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

	memcpy(out, prefix, sizeof(prefix));
	randombytes_buf(out + sizeof(prefix), 32);
	return sizeof(prefix) + 32;
}

static char sealed_dir[64];

static void
sealed_cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/client.key", sealed_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/module.conf", sealed_dir);
	unlink(path);
	rmdir(sealed_dir);
}

void
p11_sealed_conf(const char *pin, const char *extra, char *path, size_t len)
{
	uint8_t sk[32], pk[32], locked[LURK_LOCKED_LEN];
	const char *base = getenv("LURK_PKCS11_CONF"), *why = NULL;
	char key[128], line[8192];
	FILE *in, *out;

	if (sealed_dir[0] == '\0') {
		snprintf(sealed_dir, sizeof(sealed_dir), "%s/lurk-p11-XXXXXX",
			getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		assert_ptr_not_null(mkdtemp(sealed_dir));
		atexit(sealed_cleanup);
	}
	snprintf(key, sizeof(key), "%s/client.key", sealed_dir);
	snprintf(path, len, "%s/module.conf", sealed_dir);
	assert_ok(lurk_static_key_generate(sk, pk));
	assert_ok(lurk_static_key_lock(sk, pin, strlen(pin), locked));
	assert_ok(lurk_keyfile_write_locked(key, locked, 1, &why));
	assert_ptr_not_null(base);
	assert_ptr_not_null(in = fopen(base, "r"));
	assert_ptr_not_null(out = fopen(path, "w"));
	while (fgets(line, sizeof(line), in) != NULL)
		if (strncmp(line, "client-key", 10) == 0)
			fprintf(out, "client-key = %s\n", key);
		else
			fputs(line, out);
	fprintf(out, "\n%s", extra ? extra : "");
	fclose(in);
	assert_num_eq(fclose(out), 0);
}
