/*
 * Helpers for the tests that load lurk-pkcs11.so like a consumer does
 * (dlopen + C_GetFunctionList) and check what it answers against a real
 * lurkd started by tests/test-module.sh.
 */
#ifndef LURK_P11_TEST_H
#define LURK_P11_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "ckm.h"

/* The module under test (LURK_TEST_MODULE), loaded once. */
extern CK_FUNCTION_LIST *p11;

void p11_load(void);
/* C_Initialize(NULL) must succeed. */
void p11_init(void);
void p11_fini(void);
/* A serial session on slot 0. */
CK_SESSION_HANDLE p11_session(void);
/* The object with this class and label; fails the test if not exactly one. */
CK_OBJECT_HANDLE p11_find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS klass, const char *label);
/* Number of objects matching a template. */
size_t p11_count(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* Signs with mech (params may be NULL) in one C_Sign; returns the CK_RV. */
CK_RV p11_sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mech,
	const void *params, size_t params_len, const uint8_t *data, size_t len, uint8_t *sig,
	size_t *sig_len);
/*
 * Verifies a signature as PKCS#11 returns it (ECDSA r‖s) with the public key
 * of the certificate labelled label, read from the token: 1 if good.
 */
int p11_verify(CK_SESSION_HANDLE s, const char *label, CK_MECHANISM_TYPE mech, const uint8_t *data,
	size_t len, const uint8_t *sig, size_t sig_len);

/* A TLS 1.3 server CertificateVerify input with a random hash of hash_len bytes. */
size_t tls13_content(uint8_t *out, size_t hash_len);
/* DER DigestInfo of SHA-256 over random bytes (51 bytes). */
size_t digest_info_sha256(uint8_t *out);

int64_t now_ms(void);

#endif
