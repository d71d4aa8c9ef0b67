/*
 * PKCS#11 conformance of lurk-pkcs11.so as the independent suites and the
 * consumers check it: initialization rules, slots and token, sessions,
 * write protection, object search and attributes. Run by test-module.sh
 * against a real lurkd.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "p11-test.h"
#include "tap.h"

#define NKEYS 6 /* rsa2048 rsa3072 ec256 ec384 ec521 ed25519 */

static void
test_before_init(void)
{
	CK_SESSION_HANDLE s;
	CK_ULONG n = 0;
	CK_INFO info;

	p11_load();
	assert_num_eq(p11->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_num_eq(p11->C_GetSlotList(CK_TRUE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_num_eq(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s),
		CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_num_eq(p11->C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_num_eq(p11->C_FindObjectsInit(1, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_num_eq(p11->C_SignInit(1, NULL, 1), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_num_eq(p11->C_Encrypt(1, NULL, 0, NULL, NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_num_eq(p11->C_GetFunctionStatus(1), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_num_eq(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static CK_RV
fake_create(CK_VOID_PTR_PTR m)
{
	*m = NULL;
	return CKR_OK;
}

static CK_RV
fake_mutex(CK_VOID_PTR m)
{
	(void)m;
	return CKR_OK;
}

static void
test_init_args(void)
{
	CK_C_INITIALIZE_ARGS a;

	p11_load();
	memset(&a, 0, sizeof(a));
	a.pReserved = (void *)"x";
	assert_num_eq(p11->C_Initialize(&a), CKR_ARGUMENTS_BAD);
	memset(&a, 0, sizeof(a));
	a.CreateMutex = fake_create; /* some callbacks but not all */
	assert_num_eq(p11->C_Initialize(&a), CKR_ARGUMENTS_BAD);
	a.DestroyMutex = fake_mutex;
	a.LockMutex = fake_mutex;
	a.UnlockMutex = fake_mutex;
	assert_num_eq(p11->C_Initialize(&a), CKR_CANT_LOCK);
	/* What installed GnuTLS passes (research/gnutls_pkcs11.md §2.1). */
	memset(&a, 0, sizeof(a));
	a.flags = CKF_LIBRARY_CANT_CREATE_OS_THREADS | CKF_OS_LOCKING_OK;
	assert_num_eq(p11->C_Initialize(&a), CKR_OK);
	assert_num_eq(p11->C_Initialize(&a), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	assert_num_eq(p11->C_Finalize((void *)"x"), CKR_ARGUMENTS_BAD);
	p11_fini();
	/* Callbacks with OS locking allowed: we use our own locks. */
	a.CreateMutex = fake_create;
	a.DestroyMutex = fake_mutex;
	a.LockMutex = fake_mutex;
	a.UnlockMutex = fake_mutex;
	a.flags = CKF_OS_LOCKING_OK;
	assert_num_eq(p11->C_Initialize(&a), CKR_OK);
	p11_fini();
}

#define RACERS 8
static CK_RV race_rv[RACERS];
static pthread_barrier_t race_barrier;

static void *
racer(void *arg)
{
	size_t i = (size_t)arg;

	pthread_barrier_wait(&race_barrier);
	race_rv[i] = p11->C_Initialize(NULL);
	return NULL;
}

static void
test_init_concurrent(void)
{
	pthread_t t[RACERS];
	int ok = 0, already = 0;

	p11_load();
	for (int round = 0; round < 20; round++) {
		pthread_barrier_init(&race_barrier, NULL, RACERS);
		for (size_t i = 0; i < RACERS; i++)
			assert_num_eq(pthread_create(&t[i], NULL, racer, (void *)i), 0);
		for (size_t i = 0; i < RACERS; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&race_barrier);
		for (size_t i = 0; i < RACERS; i++) {
			ok += race_rv[i] == CKR_OK;
			already += race_rv[i] == CKR_CRYPTOKI_ALREADY_INITIALIZED;
		}
		p11_fini();
	}
	/* Exactly one winner per round, every other caller told so. */
	assert_num_eq(ok, 20);
	assert_num_eq(already, 20 * (RACERS - 1));
}

static void
test_info(void)
{
	CK_SLOT_ID slots[4];
	CK_ULONG n = 0;
	CK_INFO info;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;

	p11_init();
	assert_num_eq(p11->C_GetInfo(&info), CKR_OK);
	assert_num_eq(info.cryptokiVersion.major, 2);
	assert_num_eq(info.cryptokiVersion.minor, 40);
	assert_mem_eq(info.manufacturerID, "lurk                            ", 32);
	assert_num_eq(p11->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_num_eq(n, 1);
	n = 0;
	assert_num_eq(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
	assert_num_eq(n, 1);
	assert_num_eq(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_num_eq(p11->C_GetSlotInfo(slots[0], &si), CKR_OK);
	assert_true(si.flags & CKF_TOKEN_PRESENT);
	assert_num_eq(p11->C_GetSlotInfo(7, &si), CKR_SLOT_ID_INVALID);
	assert_num_eq(p11->C_GetTokenInfo(slots[0], &ti), CKR_OK);
	assert_mem_eq(ti.label, "lurk                            ", 32);
	assert_true(ti.flags & CKF_WRITE_PROTECTED);
	assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
	assert_false(ti.flags & CKF_LOGIN_REQUIRED);
	p11_fini();
}

static void
test_sessions(void)
{
	CK_SESSION_HANDLE s, rw;
	CK_SESSION_INFO info;
	CK_OBJECT_HANDLE o;
	CK_BBOOL t = CK_TRUE;
	CK_ATTRIBUTE a = {CKA_TOKEN, &t, sizeof(t)};
	CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
	CK_BYTE buf[64];
	CK_ULONG n = sizeof(buf);

	p11_init();
	assert_num_eq(p11->C_OpenSession(0, 0, NULL, NULL, &s), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	assert_num_eq(
		p11->C_OpenSession(3, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_SLOT_ID_INVALID);
	s = p11_session();
	/* Read-write sessions open (the suites ask for them); every write is refused. */
	assert_num_eq(p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &rw),
		CKR_OK);
	assert_num_eq(p11->C_GetSessionInfo(rw, &info), CKR_OK);
	assert_num_eq(info.state, CKS_RW_PUBLIC_SESSION);
	assert_num_eq(p11->C_GetSessionInfo(s, &info), CKR_OK);
	assert_num_eq(info.state, CKS_RO_PUBLIC_SESSION);
	assert_num_eq(p11->C_CreateObject(rw, &a, 1, &o), CKR_TOKEN_WRITE_PROTECTED);
	assert_num_eq(p11->C_CopyObject(rw, 1, &a, 1, &o), CKR_TOKEN_WRITE_PROTECTED);
	assert_num_eq(p11->C_DestroyObject(rw, 1), CKR_TOKEN_WRITE_PROTECTED);
	assert_num_eq(p11->C_SetAttributeValue(rw, 1, &a, 1), CKR_TOKEN_WRITE_PROTECTED);
	assert_num_eq(p11->C_GenerateKey(rw, &m, &a, 1, &o), CKR_TOKEN_WRITE_PROTECTED);
	assert_num_eq(
		p11->C_GenerateKeyPair(rw, &m, &a, 1, &a, 1, &o, &o), CKR_TOKEN_WRITE_PROTECTED);
	assert_num_eq(p11->C_InitToken(0, (CK_BYTE_PTR) "1234", 4, buf), CKR_TOKEN_WRITE_PROTECTED);
	assert_num_eq(p11->C_GetFunctionStatus(s), CKR_FUNCTION_NOT_PARALLEL);
	assert_num_eq(p11->C_CancelFunction(s), CKR_FUNCTION_NOT_PARALLEL);
	/* No private-key encryption (libp11's fallback), no digest, no RNG. */
	assert_num_eq(p11->C_EncryptInit(s, &m, 1), CKR_FUNCTION_NOT_SUPPORTED);
	assert_num_eq(p11->C_GenerateRandom(s, buf, n), CKR_FUNCTION_NOT_SUPPORTED);
	assert_num_eq(p11->C_GetSessionInfo(s + 1000, &info), CKR_SESSION_HANDLE_INVALID);
	assert_num_eq(p11->C_CloseSession(s), CKR_OK);
	assert_num_eq(p11->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
	assert_num_eq(p11->C_CloseAllSessions(0), CKR_OK);
	assert_num_eq(p11->C_GetSessionInfo(rw, &info), CKR_SESSION_HANDLE_INVALID);
	p11_fini();
}

static void
test_login(void)
{
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO info;

	p11_init();
	s = p11_session();
	assert_num_eq(p11->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
	assert_num_eq(p11->C_Login(s, CKU_USER, (CK_BYTE_PTR) "1234", 4), CKR_OK);
	assert_num_eq(p11->C_GetSessionInfo(s, &info), CKR_OK);
	assert_num_eq(info.state, CKS_RO_USER_FUNCTIONS);
	assert_num_eq(
		p11->C_Login(s, CKU_USER, (CK_BYTE_PTR) "1234", 4), CKR_USER_ALREADY_LOGGED_IN);
	assert_num_eq(p11->C_Logout(s), CKR_OK);
	p11_fini();
}

static void
test_find(void)
{
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY, pub = CKO_PUBLIC_KEY, cert = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE x509 = CKC_X_509;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE by_class[] = {{CKA_CLASS, &priv, sizeof(priv)}};
	CK_ATTRIBUTE by_pub[] = {{CKA_CLASS, &pub, sizeof(pub)}};
	CK_ATTRIBUTE trusted[] = {{CKA_CLASS, &cert, sizeof(cert)},
		{CKA_CERTIFICATE_TYPE, &x509, sizeof(x509)}, {CKA_TRUSTED, &yes, sizeof(yes)}};
	CK_ATTRIBUTE none[] = {{CKA_LABEL, "nope", 4}, {CKA_CLASS, &priv, sizeof(priv)}};
	CK_ATTRIBUTE wrong_len[] = {{CKA_CLASS, &priv, 1}};
	CK_OBJECT_HANDLE o[4];
	CK_ULONG got;
	CK_SESSION_HANDLE s;
	size_t all;

	p11_init();
	s = p11_session();
	all = p11_count(s, NULL, 0); /* the empty template */
	/* Private key, public key, certificate and one intermediate per key. */
	assert_num_eq(all, NKEYS * 4);
	assert_num_eq(p11_count(s, by_class, 1), NKEYS);
	assert_num_eq(p11_count(s, by_pub, 1), NKEYS);
	assert_num_eq(p11_count(s, trusted, 3), NKEYS);
	assert_num_eq(p11_count(s, none, 2), 0);
	assert_num_eq(p11_count(s, wrong_len, 1), 0);
	(void)p11_find(s, CKO_PRIVATE_KEY, "ec256");
	/* Search state: one at a time, resumable, ended by Final. */
	assert_num_eq(p11->C_FindObjects(s, o, 4, &got), CKR_OPERATION_NOT_INITIALIZED);
	assert_num_eq(p11->C_FindObjectsInit(s, by_class, 1), CKR_OK);
	assert_num_eq(p11->C_FindObjectsInit(s, by_class, 1), CKR_OPERATION_ACTIVE);
	assert_num_eq(p11->C_FindObjects(s, o, 4, &got), CKR_OK);
	assert_num_eq(got, 4);
	assert_num_eq(p11->C_FindObjects(s, o, 4, &got), CKR_OK);
	assert_num_eq(got, NKEYS - 4);
	assert_num_eq(p11->C_FindObjects(s, o, 4, &got), CKR_OK);
	assert_num_eq(got, 0);
	assert_num_eq(p11->C_FindObjectsFinal(s), CKR_OK);
	p11_fini();
}

static void
test_attributes(void)
{
	static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE rsa, ec, ed;
	CK_BBOOL sens = 0, extr = 1, sign = 0, aa = 1;
	CK_KEY_TYPE kt;
	uint8_t buf[1024], small[4];
	CK_ATTRIBUTE flags[] = {{CKA_SENSITIVE, &sens, 1}, {CKA_EXTRACTABLE, &extr, 1},
		{CKA_SIGN, &sign, 1}, {CKA_ALWAYS_AUTHENTICATE, &aa, 1}};
	CK_ATTRIBUTE a[2];

	p11_init();
	s = p11_session();
	rsa = p11_find(s, CKO_PRIVATE_KEY, "rsa2048");
	ec = p11_find(s, CKO_PRIVATE_KEY, "ec256");
	ed = p11_find(s, CKO_PRIVATE_KEY, "ed25519");
	assert_num_eq(p11->C_GetAttributeValue(s, rsa, flags, 4), CKR_OK);
	assert_true(sens && !extr && sign && !aa);
	/* The secret is never revealed; the rest of the template is still answered. */
	a[0] = (CK_ATTRIBUTE){CKA_VALUE, buf, sizeof(buf)};
	a[1] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
	assert_num_eq(p11->C_GetAttributeValue(s, rsa, a, 2), CKR_ATTRIBUTE_SENSITIVE);
	assert_num_eq(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_num_eq(kt, CKK_RSA);
	a[0] = (CK_ATTRIBUTE){CKA_PRIVATE_EXPONENT, buf, sizeof(buf)};
	assert_num_eq(p11->C_GetAttributeValue(s, rsa, a, 1), CKR_ATTRIBUTE_SENSITIVE);
	/* Size query, then the value; too small a buffer. */
	a[0] = (CK_ATTRIBUTE){CKA_MODULUS, NULL, 0};
	assert_num_eq(p11->C_GetAttributeValue(s, rsa, a, 1), CKR_OK);
	assert_num_eq(a[0].ulValueLen, 256);
	a[0].pValue = buf;
	assert_num_eq(p11->C_GetAttributeValue(s, rsa, a, 1), CKR_OK);
	assert_true(buf[0] & 0x80); /* no leading zero: 2048 bits exactly */
	a[0] = (CK_ATTRIBUTE){CKA_MODULUS, small, sizeof(small)};
	assert_num_eq(p11->C_GetAttributeValue(s, rsa, a, 1), CKR_BUFFER_TOO_SMALL);
	assert_num_eq(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	a[0] = (CK_ATTRIBUTE){0x7fff0001UL, buf, sizeof(buf)};
	assert_num_eq(p11->C_GetAttributeValue(s, rsa, a, 1), CKR_ATTRIBUTE_TYPE_INVALID);
	/* EC params and point on the private key (libp11 reads them there). */
	a[0] = (CK_ATTRIBUTE){CKA_EC_PARAMS, buf, sizeof(buf)};
	assert_num_eq(p11->C_GetAttributeValue(s, ec, a, 1), CKR_OK);
	assert_num_eq(a[0].ulValueLen, sizeof(p256));
	assert_mem_eq(buf, p256, sizeof(p256));
	a[0] = (CK_ATTRIBUTE){CKA_EC_POINT, buf, sizeof(buf)};
	assert_num_eq(p11->C_GetAttributeValue(s, ec, a, 1), CKR_OK);
	assert_num_eq(a[0].ulValueLen, 67); /* 04 41 04 X Y */
	assert_num_eq(buf[0], 0x04);
	assert_num_eq(buf[2], 0x04);
	a[0] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
	assert_num_eq(p11->C_GetAttributeValue(s, ed, a, 1), CKR_OK);
	assert_num_eq(kt, CKK_EC_EDWARDS);
	a[0] = (CK_ATTRIBUTE){CKA_EC_POINT, buf, sizeof(buf)};
	assert_num_eq(p11->C_GetAttributeValue(s, ed, a, 1), CKR_OK);
	assert_num_eq(a[0].ulValueLen, 34);
	assert_num_eq(p11->C_GetAttributeValue(s, 0x12345, a, 1), CKR_OBJECT_HANDLE_INVALID);
	p11_fini();
}

static void
test_mechanisms(void)
{
	CK_MECHANISM_TYPE list[64];
	CK_ULONG n = 64;
	CK_MECHANISM_INFO info;
	CK_MECHANISM raw = {CKM_RSA_X_509, NULL, 0}, pss_noparams = {CKM_RSA_PKCS_PSS, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE rsa, ec;
	int have_pss = 0, have_eddsa = 0, have_raw = 0;

	p11_init();
	assert_num_eq(p11->C_GetMechanismList(0, list, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++) {
		have_pss |= list[i] == CKM_RSA_PKCS_PSS;
		have_eddsa |= list[i] == CKM_EDDSA;
		have_raw |= list[i] == CKM_RSA_X_509;
	}
	assert_true(have_pss && have_eddsa && !have_raw);
	/* GnuTLS decides on TLS 1.3 for an RSA key by this call's return value. */
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS_PSS, &info), CKR_OK);
	assert_true(info.flags & CKF_SIGN);
	assert_num_eq(info.ulMinKeySize, 2048);
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_RSA_X_509, &info), CKR_MECHANISM_INVALID);
	s = p11_session();
	rsa = p11_find(s, CKO_PRIVATE_KEY, "rsa2048");
	ec = p11_find(s, CKO_PRIVATE_KEY, "ec256");
	/* Raw RSA never starts; a mechanism of another key type neither. */
	assert_num_eq(p11->C_SignInit(s, &raw, rsa), CKR_MECHANISM_INVALID);
	assert_num_eq(p11->C_SignInit(s, &pss_noparams, ec), CKR_KEY_TYPE_INCONSISTENT);
	assert_num_eq(p11->C_SignInit(s, &pss_noparams, rsa), CKR_MECHANISM_PARAM_INVALID);
	assert_num_eq(p11->C_SignInit(s, &raw, p11_find(s, CKO_CERTIFICATE, "rsa2048")),
		CKR_KEY_HANDLE_INVALID);
	p11_fini();
}

/* The PKCS#11 3.0 way in: the same function list, by interface name. */
struct interface {
	CK_UTF8CHAR *name;
	void *functions;
	CK_FLAGS flags;
};

static void
test_interface(void)
{
	CK_RV (*list)(struct interface *, CK_ULONG_PTR);
	CK_RV (*get)(CK_UTF8CHAR *, CK_VERSION *, struct interface **, CK_FLAGS);
	struct interface ifs[2], *one = NULL;
	CK_VERSION v30 = {3, 0};
	CK_ULONG n = 0;
	void *h;

	p11_load();
	assert_ptr_not_null(h = dlopen(getenv("LURK_TEST_MODULE"), RTLD_NOW | RTLD_NOLOAD));
	*(void **)&list = dlsym(h, "C_GetInterfaceList");
	*(void **)&get = dlsym(h, "C_GetInterface");
	assert_true(list != NULL && get != NULL);
	assert_num_eq(list(NULL, &n), CKR_OK);
	assert_num_eq(n, 1);
	assert_num_eq(list(ifs, &n), CKR_OK);
	assert_str_eq((const char *)ifs[0].name, "PKCS 11");
	assert_true(ifs[0].functions == p11);
	assert_num_eq(get((CK_UTF8CHAR *)"PKCS 11", NULL, &one, 0), CKR_OK);
	assert_true(one->functions == p11);
	assert_num_eq(get(NULL, NULL, &one, 0), CKR_OK);
	assert_num_eq(get((CK_UTF8CHAR *)"Vendor X", NULL, &one, 0), CKR_ARGUMENTS_BAD);
	assert_num_eq(get((CK_UTF8CHAR *)"PKCS 11", &v30, &one, 0), CKR_ARGUMENTS_BAD);
	dlclose(h);
}

int
main(int argc, char **argv)
{
	lurk_test(test_before_init, "/p11/before-initialize");
	lurk_test(test_interface, "/p11/interfaces");
	lurk_test(test_init_args, "/p11/initialize-arguments");
	lurk_test(test_init_concurrent, "/p11/initialize-concurrent");
	lurk_test(test_info, "/p11/info-slot-token");
	lurk_test(test_sessions, "/p11/sessions-write-protected");
	lurk_test(test_login, "/p11/login");
	lurk_test(test_find, "/p11/find-objects");
	lurk_test(test_attributes, "/p11/attributes");
	lurk_test(test_mechanisms, "/p11/mechanisms");
	return lurk_test_run(argc, argv);
}
