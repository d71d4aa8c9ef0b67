/*
 * Helpers for the tests that load lurk-pkcs11.so like a consumer does
 * (dlopen + C_GetFunctionList) and check what it answers against a real
 * lurkd started by tests/test-module.sh.
 */
#ifndef LURK_P11_TEST_H
#define LURK_P11_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>

#include "ckm.h"

/* The module under test (LURK_TEST_MODULE), loaded once. */
extern CK_FUNCTION_LIST *p11;

void p11_load(void);
/* C_Initialize(NULL) must succeed. */
void p11_init(void);
void p11_fini(void);
/*
 * Until lurkd answers a key list (its socket may come before it is ready):
 * 1 when it did within timeout_ms. Leaves the module uninitialized.
 */
int p11_wait_server(int timeout_ms);
/* A serial session on slot 0. */
CK_SESSION_HANDLE p11_session(void);
/* The object with this class and label; fails the test if not exactly one. */
CK_OBJECT_HANDLE p11_find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS klass, const char *label);
/*
 * Without test asserts, for threads and forked children: the private key
 * labelled label, *k 0 when the token shows none (a PIN-protected token
 * before C_Login); otherwise the CK_RV of the first call that failed.
 */
CK_RV p11_key(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *k);
/*
 * A forked child's signature, without test asserts: after C_Initialize if
 * reinit, on a session of its own, ec256 signs the 32 bytes h (CKM_ECDSA)
 * into sig. 0 when it did; otherwise the step that failed, as the child's
 * exit status: 10 C_Initialize, 11 the session or the key, 12 C_SignInit,
 * 13 C_Sign answering CKR_DEVICE_ERROR, 14 C_Sign answering anything else,
 * 15 a signature that is not 64 bytes.
 */
int p11_child_sign(int reinit, const uint8_t h[32], uint8_t sig[64]);
/*
 * What threads got that PKCS#11 does not allow where they got it: how many
 * answers, and the first (a thread cannot assert: the main thread reports).
 */
struct p11_wrong {
	int n;
	const char *call;
	CK_RV rv;
};
void p11_wrong_note(struct p11_wrong *w, const char *call, CK_RV rv);
/* A diag line about w, if it holds anything, naming who got it; returns w->n. */
int p11_wrong_report(const struct p11_wrong *w, const char *who);
/* Number of objects matching a template. */
size_t p11_count(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* Signs with mech (params may be NULL) in one C_Sign; returns the CK_RV. */
CK_RV p11_sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mech,
	const void *params, size_t params_len, const uint8_t *data, size_t len, uint8_t *sig,
	size_t *sig_len);
/*
 * The public key of the certificate labelled label, read from the token
 * (the caller gnutls_pubkey_deinit's it).
 */
gnutls_pubkey_t p11_cert_pubkey(CK_SESSION_HANDLE s, const char *label);
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

/*
 * PKCS#11 3.0 as the standard has it (p11-kit 0.24's header predates it):
 * CK_INTERFACE, and CK_FUNCTION_LIST_3_0 = the 2.40 list, then these. The
 * tests' one definition; module/p11.c keeps the module's own (struct
 * lp_function_list_3_0), and test-module-p11's /p11/interfaces checks the
 * module's list against this one. Once pkcs11.h has CK_FUNCTION_LIST_3_0,
 * both should use it instead.
 */
struct p11_interface {
	CK_UTF8CHAR_PTR name;
	CK_VOID_PTR functions;
	CK_FLAGS flags;
};

typedef CK_RV p11_login_user_fn(
	CK_SESSION_HANDLE, CK_USER_TYPE, CK_UTF8CHAR_PTR, CK_ULONG, CK_UTF8CHAR_PTR, CK_ULONG);
typedef CK_RV p11_message_init_fn(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE);
typedef CK_RV p11_crypt_message_fn(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG,
	CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
typedef CK_RV p11_crypt_begin_fn(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG);
typedef CK_RV p11_crypt_next_fn(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG,
	CK_BYTE_PTR, CK_ULONG_PTR, CK_FLAGS);
typedef CK_RV p11_message_final_fn(CK_SESSION_HANDLE);
typedef CK_RV p11_sign_message_fn(
	CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
typedef CK_RV p11_message_begin_fn(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG);
typedef CK_RV p11_verify_message_fn(
	CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG);

struct p11_functions_3_0 {
	CK_FUNCTION_LIST v2;
	CK_RV (*C_GetInterfaceList)(struct p11_interface *, CK_ULONG_PTR);
	CK_RV (*C_GetInterface)(CK_UTF8CHAR_PTR, CK_VERSION *, struct p11_interface **, CK_FLAGS);
	p11_login_user_fn *C_LoginUser;
	CK_RV (*C_SessionCancel)(CK_SESSION_HANDLE, CK_FLAGS);
	p11_message_init_fn *C_MessageEncryptInit;
	p11_crypt_message_fn *C_EncryptMessage;
	p11_crypt_begin_fn *C_EncryptMessageBegin;
	p11_crypt_next_fn *C_EncryptMessageNext;
	p11_message_final_fn *C_MessageEncryptFinal;
	p11_message_init_fn *C_MessageDecryptInit;
	p11_crypt_message_fn *C_DecryptMessage;
	p11_crypt_begin_fn *C_DecryptMessageBegin;
	p11_crypt_next_fn *C_DecryptMessageNext;
	p11_message_final_fn *C_MessageDecryptFinal;
	p11_message_init_fn *C_MessageSignInit;
	p11_sign_message_fn *C_SignMessage;
	p11_message_begin_fn *C_SignMessageBegin;
	p11_sign_message_fn *C_SignMessageNext;
	p11_message_final_fn *C_MessageSignFinal;
	p11_message_init_fn *C_MessageVerifyInit;
	p11_verify_message_fn *C_VerifyMessage;
	p11_message_begin_fn *C_VerifyMessageBegin;
	p11_verify_message_fn *C_VerifyMessageNext;
	p11_message_final_fn *C_MessageVerifyFinal;
};

/* The 2.40 list is a prefix of the 3.0 one, as module/p11.c asserts of its own. */
_Static_assert(offsetof(struct p11_functions_3_0, C_GetInterfaceList) == sizeof(CK_FUNCTION_LIST),
	"p11_functions_3_0: the 3.0 functions follow the 2.40 list");

#ifndef CKF_FIND_OBJECTS
#define CKF_FIND_OBJECTS (1UL << 6)
#endif
#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE 1UL
#endif

/*
 * A module file like LURK_PKCS11_CONF's but with a new client key sealed
 * under pin, and extra appended (token sections); its path goes to path.
 */
void p11_sealed_conf(const char *pin, const char *extra, char *path, size_t len);

#endif
