/*
 * PKCS#11 conformance of lurk-pkcs11.so as the independent suites and the
 * consumers check it: the 2.40 and 3.0 interfaces, initialization rules,
 * slots and token, login, sessions (and their lookup at scale and from
 * threads), write protection, object search, attributes and mechanisms
 * (before a PIN login too). Run by test-module.sh against a real lurkd, and
 * with LURK_TEST_MODE=pin by test-module-tools.sh (a PIN-sealed client key).
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	/* What installed GnuTLS passes (docs/consumers.md). */
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
	/* A plain client key: no login needed, no PIN to claim, a PIN-less login path. */
	assert_false(ti.flags & CKF_LOGIN_REQUIRED);
	assert_false(ti.flags & CKF_USER_PIN_INITIALIZED);
	assert_true(ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
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
	assert_num_eq(p11->C_GenerateRandom(s, buf, n), CKR_RANDOM_NO_RNG);
	assert_num_eq(p11->C_SeedRandom(s, buf, n), CKR_RANDOM_NO_RNG);
	assert_num_eq(p11->C_GenerateRandom(s, NULL, 1), CKR_ARGUMENTS_BAD);
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
	/* The protected authentication path: a login without a PIN (GnuTLS --login). */
	assert_num_eq(p11->C_Login(s, CKU_USER, NULL, 0), CKR_OK);
	assert_num_eq(p11->C_GetSessionInfo(s, &info), CKR_OK);
	assert_num_eq(info.state, CKS_RO_USER_FUNCTIONS);
	assert_num_eq(
		p11->C_Login(s, CKU_USER, (CK_BYTE_PTR) "1234", 4), CKR_USER_ALREADY_LOGGED_IN);
	assert_num_eq(p11->C_Logout(s), CKR_OK);
	/* A PIN a tool sends anyway (pkcs11-tool --pin) is not one the token checks. */
	assert_num_eq(p11->C_Login(s, CKU_USER, (CK_BYTE_PTR) "1234", 4), CKR_OK);
	assert_num_eq(p11->C_Logout(s), CKR_OK);
	assert_num_eq(p11->C_GetSessionInfo(s, &info), CKR_OK);
	assert_num_eq(info.state, CKS_RO_PUBLIC_SESSION);
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

static int
has_mech(const CK_MECHANISM_TYPE *list, CK_ULONG n, CK_MECHANISM_TYPE m)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (list[i] == m)
			return 1;
	return 0;
}

/*
 * A PIN-sealed client key: before C_Login nothing may be sent, so the key
 * list is unknown; the mechanism functions (no session, no login) still
 * answer, with what the token's key types can be served with.
 */
static void
test_mechanisms_before_login(void)
{
	const char *saved = getenv("LURK_PKCS11_CONF");
	char conf[256], *old = saved ? strdup(saved) : NULL;
	CK_MECHANISM_TYPE list[64];
	CK_MECHANISM_INFO info;
	CK_TOKEN_INFO ti;
	CK_ULONG n;

	p11_sealed_conf("2468",
		"[token all]\nlabel = lurk\n\n[token ec]\nlabel = lurk-ec\nkey-types = ec\n", conf,
		sizeof(conf));
	setenv("LURK_PKCS11_CONF", conf, 1);
	p11_init();
	assert_num_eq(p11->C_GetTokenInfo(0, &ti), CKR_OK);
	assert_true(ti.flags & CKF_LOGIN_REQUIRED);
	assert_true(ti.flags & CKF_USER_PIN_INITIALIZED);
	assert_false(ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
	/* Every key type: every mechanism lurk signs or decrypts with. */
	assert_num_eq(p11->C_GetMechanismList(0, NULL, &n), CKR_OK);
	assert_num_eq(n, 13);
	n = 2;
	assert_num_eq(p11->C_GetMechanismList(0, list, &n), CKR_BUFFER_TOO_SMALL);
	assert_num_eq(n, 13);
	n = 64;
	assert_num_eq(p11->C_GetMechanismList(0, list, &n), CKR_OK);
	assert_num_eq(n, 13);
	assert_true(has_mech(list, n, CKM_RSA_PKCS) && has_mech(list, n, CKM_RSA_PKCS_PSS) &&
		    has_mech(list, n, CKM_SHA256_RSA_PKCS_PSS) && has_mech(list, n, CKM_ECDSA) &&
		    has_mech(list, n, CKM_ECDSA_SHA384) && has_mech(list, n, CKM_EDDSA));
	assert_false(has_mech(list, n, CKM_RSA_X_509));
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS_PSS, &info), CKR_OK);
	assert_num_eq(info.flags, CKF_HW | CKF_SIGN);
	assert_num_eq(info.ulMinKeySize, 2048);
	assert_num_eq(info.ulMaxKeySize, 4096);
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS, &info), CKR_OK);
	assert_num_eq(info.flags, CKF_HW | CKF_SIGN | CKF_DECRYPT);
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_EDDSA, &info), CKR_OK);
	assert_num_eq(info.ulMinKeySize, 255);
	assert_num_eq(info.ulMaxKeySize, 448);
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_RSA_X_509, &info), CKR_MECHANISM_INVALID);
	/* key-types = ec: the ECDSA family only, P-256 to P-521. */
	n = 64;
	assert_num_eq(p11->C_GetMechanismList(1, list, &n), CKR_OK);
	assert_num_eq(n, 4);
	assert_true(has_mech(list, n, CKM_ECDSA) && has_mech(list, n, CKM_ECDSA_SHA256) &&
		    has_mech(list, n, CKM_ECDSA_SHA384) && has_mech(list, n, CKM_ECDSA_SHA512));
	assert_num_eq(p11->C_GetMechanismInfo(1, CKM_ECDSA, &info), CKR_OK);
	assert_num_eq(
		info.flags, CKF_HW | CKF_SIGN | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS);
	assert_num_eq(info.ulMinKeySize, 256);
	assert_num_eq(info.ulMaxKeySize, 521);
	assert_num_eq(p11->C_GetMechanismInfo(1, CKM_RSA_PKCS_PSS, &info), CKR_MECHANISM_INVALID);
	assert_num_eq(p11->C_GetMechanismInfo(1, CKM_EDDSA, &info), CKR_MECHANISM_INVALID);
	assert_num_eq(p11->C_GetMechanismList(2, list, &n), CKR_SLOT_ID_INVALID);
	p11_fini();
	if (old != NULL)
		setenv("LURK_PKCS11_CONF", old, 1);
	free(old);
}

/*
 * LURK_TEST_MODE=pin (test-module-tools.sh): a PIN-sealed key lurkd knows,
 * client p, allowed ec256 only. Before login the token's possible mechanisms,
 * after it those of its keys.
 */
static void
test_pin_login_mechanisms(void)
{
	const char *pin = getenv("LURK_TEST_PIN");
	CK_MECHANISM_TYPE list[64];
	CK_MECHANISM_INFO info;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE s;
	CK_ULONG n = 64;

	assert_ptr_not_null(pin);
	p11_init();
	assert_num_eq(p11->C_GetTokenInfo(0, &ti), CKR_OK);
	assert_true(ti.flags & CKF_LOGIN_REQUIRED);
	assert_true(ti.flags & CKF_USER_PIN_INITIALIZED);
	assert_false(ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
	assert_num_eq(p11->C_GetMechanismList(0, list, &n), CKR_OK);
	assert_num_eq(n, 13);
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS_PSS, &info), CKR_OK);
	assert_num_eq(info.ulMinKeySize, 2048);
	s = p11_session();
	assert_num_eq(p11->C_Login(s, CKU_USER, NULL, 0), CKR_PIN_INCORRECT);
	assert_num_eq(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
	n = 64;
	assert_num_eq(p11->C_GetMechanismList(0, list, &n), CKR_OK);
	assert_num_eq(n, 4);
	assert_true(has_mech(list, n, CKM_ECDSA) && has_mech(list, n, CKM_ECDSA_SHA256));
	assert_false(has_mech(list, n, CKM_RSA_PKCS_PSS) || has_mech(list, n, CKM_EDDSA));
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_ECDSA, &info), CKR_OK);
	assert_num_eq(info.ulMinKeySize, 256);
	assert_num_eq(info.ulMaxKeySize, 256);
	assert_num_eq(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS_PSS, &info), CKR_MECHANISM_INVALID);
	assert_num_eq(p11->C_Logout(s), CKR_OK);
	p11_fini();
}

/* The PKCS#11 3.0 way in: "PKCS 11" 3.0 (the default) and 2.40. */
static void
test_interface(void)
{
	CK_RV (*list)(struct p11_interface *, CK_ULONG_PTR);
	CK_RV (*get)(CK_UTF8CHAR *, CK_VERSION *, struct p11_interface **, CK_FLAGS);
	struct p11_interface ifs[2], *one = NULL;
	struct p11_functions_3_0 *f3;
	CK_VERSION v30 = {3, 0}, v240 = {2, 40}, v31 = {3, 1}, v220 = {2, 20};
	CK_UTF8CHAR_PTR name = (CK_UTF8CHAR_PTR) "PKCS 11";
	CK_ULONG n = 0;
	void *h;

	p11_load();
	assert_ptr_not_null(h = dlopen(getenv("LURK_TEST_MODULE"), RTLD_NOW | RTLD_NOLOAD));
	*(void **)&list = dlsym(h, "C_GetInterfaceList");
	*(void **)&get = dlsym(h, "C_GetInterface");
	assert_true(list != NULL && get != NULL);
	assert_num_eq(list(NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_num_eq(list(NULL, &n), CKR_OK);
	assert_num_eq(n, 2);
	n = 1;
	assert_num_eq(list(ifs, &n), CKR_BUFFER_TOO_SMALL);
	assert_num_eq(n, 2);
	assert_num_eq(list(ifs, &n), CKR_OK);
	assert_str_eq((const char *)ifs[0].name, "PKCS 11");
	assert_str_eq((const char *)ifs[1].name, "PKCS 11");
	assert_num_eq(((CK_VERSION *)ifs[0].functions)->major, 3);
	assert_num_eq(((CK_VERSION *)ifs[0].functions)->minor, 0);
	assert_true(ifs[1].functions == p11);
	assert_num_eq(ifs[0].flags, 0);
	assert_num_eq(ifs[1].flags, 0);

	/* The default is 3.0, by name or not; each version by its number. */
	assert_num_eq(get(NULL, NULL, &one, 0), CKR_OK);
	assert_true(one->functions == ifs[0].functions);
	assert_num_eq(get(name, NULL, &one, 0), CKR_OK);
	assert_true(one->functions == ifs[0].functions);
	assert_num_eq(get(name, &v30, &one, 0), CKR_OK);
	assert_true(one->functions == ifs[0].functions);
	assert_num_eq(get(name, &v240, &one, 0), CKR_OK);
	assert_true(one->functions == p11);
	assert_num_eq(get(NULL, &v240, &one, 0), CKR_OK);
	assert_true(one->functions == p11);
	one = NULL;
	assert_num_eq(get((CK_UTF8CHAR *)"Vendor X", NULL, &one, 0), CKR_ARGUMENTS_BAD);
	assert_num_eq(get((CK_UTF8CHAR *)"PKCS 11 ", NULL, &one, 0), CKR_ARGUMENTS_BAD);
	assert_num_eq(get(name, &v31, &one, 0), CKR_ARGUMENTS_BAD);
	assert_num_eq(get(name, &v220, &one, 0), CKR_ARGUMENTS_BAD);
	assert_num_eq(get(name, NULL, &one, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
	assert_ptr_null(one);
	assert_num_eq(get(name, NULL, NULL, 0), CKR_ARGUMENTS_BAD);

	/* The 3.0 list: the 2.40 functions, then every 3.0 one, none missing. */
	f3 = ifs[0].functions;
	{
		void (*const *fp)(void) = (void (*const *)(void))(
			(const char *)f3 + offsetof(CK_FUNCTION_LIST, C_Initialize));
		size_t nfp = (sizeof(*f3) - offsetof(CK_FUNCTION_LIST, C_Initialize)) / sizeof(*fp);
		assert_num_eq(nfp, 68 + 24);
		for (size_t i = 0; i < nfp; i++)
			if (fp[i] == NULL)
				lurk_test_fail(__FILE__, __LINE__, "3.0 function %zu is NULL", i);
	}
	assert_true(f3->v2.C_Initialize == p11->C_Initialize);
	assert_true(f3->v2.C_Sign == p11->C_Sign);
	assert_true(f3->v2.C_WaitForSlotEvent == p11->C_WaitForSlotEvent);
	assert_true((void *)f3->C_GetInterfaceList == (void *)list);
	assert_true((void *)f3->C_GetInterface == (void *)get);
	{
		CK_SESSION_HANDLE s;
		CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
		CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
		CK_ATTRIBUTE t = {CKA_CLASS, &priv, sizeof(priv)};
		CK_OBJECT_HANDLE o[2];
		CK_BYTE b[64];
		CK_ULONG bl = sizeof(b);
		CK_INFO info;

		assert_num_eq(f3->v2.C_Initialize(NULL), CKR_OK);
		assert_num_eq(f3->v2.C_GetInfo(&info), CKR_OK);
		assert_num_eq(info.cryptokiVersion.major, 3);
		assert_num_eq(info.cryptokiVersion.minor, 0);
		assert_num_eq(p11->C_GetInfo(&info), CKR_OK);
		assert_num_eq(info.cryptokiVersion.major, 2);
		assert_num_eq(info.cryptokiVersion.minor, 40);
		assert_num_eq(f3->v2.C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
		assert_num_eq(f3->C_LoginUser(s, CKU_USER, NULL, 0, (CK_UTF8CHAR_PTR) "u", 1),
			CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_MessageEncryptInit(s, &m, 1), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_EncryptMessage(s, NULL, 0, NULL, 0, b, 1, b, &bl),
			CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(
			f3->C_EncryptMessageBegin(s, NULL, 0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_EncryptMessageNext(s, NULL, 0, b, 1, b, &bl, 0),
			CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_MessageEncryptFinal(s), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_MessageDecryptInit(s, &m, 1), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_DecryptMessage(s, NULL, 0, NULL, 0, b, 1, b, &bl),
			CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(
			f3->C_DecryptMessageBegin(s, NULL, 0, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_DecryptMessageNext(s, NULL, 0, b, 1, b, &bl, 0),
			CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_MessageDecryptFinal(s), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_MessageSignInit(s, &m, 1), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(
			f3->C_SignMessage(s, NULL, 0, b, 1, b, &bl), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_SignMessageBegin(s, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_SignMessageNext(s, NULL, 0, b, 1, b, &bl),
			CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_MessageSignFinal(s), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_MessageVerifyInit(s, &m, 1), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(
			f3->C_VerifyMessage(s, NULL, 0, b, 1, b, 1), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_VerifyMessageBegin(s, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_VerifyMessageNext(s, NULL, 0, b, 1, b, 1),
			CKR_FUNCTION_NOT_SUPPORTED);
		assert_num_eq(f3->C_MessageVerifyFinal(s), CKR_FUNCTION_NOT_SUPPORTED);
		/* Every one checks its session first. */
		assert_num_eq(f3->C_MessageSignInit(s + 1, &m, 1), CKR_SESSION_HANDLE_INVALID);
		assert_num_eq(f3->C_LoginUser(s + 1, CKU_USER, NULL, 0, NULL, 0),
			CKR_SESSION_HANDLE_INVALID);
		assert_num_eq(f3->C_SessionCancel(s + 1, CKF_SIGN), CKR_SESSION_HANDLE_INVALID);
		/* C_SessionCancel ends a search (and a signature); nothing active is fine. */
		assert_num_eq(f3->C_SessionCancel(s, CKF_SIGN | CKF_DECRYPT), CKR_OK);
		assert_num_eq(f3->v2.C_FindObjectsInit(s, &t, 1), CKR_OK);
		assert_num_eq(f3->C_SessionCancel(s, CKF_FIND_OBJECTS), CKR_OK);
		assert_num_eq(f3->v2.C_FindObjects(s, o, 2, &bl), CKR_OPERATION_NOT_INITIALIZED);
		assert_num_eq(
			f3->v2.C_SignInit(s, &m, p11_find(s, CKO_PRIVATE_KEY, "ec256")), CKR_OK);
		assert_num_eq(f3->C_SessionCancel(s, CKF_SIGN), CKR_OK);
		bl = sizeof(b);
		assert_num_eq(f3->v2.C_Sign(s, b, 32, b, &bl), CKR_OPERATION_NOT_INITIALIZED);
		assert_num_eq(f3->v2.C_Finalize(NULL), CKR_OK);
	}
	dlclose(h);
}

/*
 * Session lookup is O(1): a handle is found as fast among 10,000 open
 * sessions as alone (the table was scanned from its start on every call).
 * Best of several runs, compared with a wide margin.
 */
static int64_t
lookup_ns(CK_SESSION_HANDLE s, int calls)
{
	struct timespec a, b;
	int64_t best = INT64_MAX;
	CK_SESSION_INFO info;

	for (int run = 0; run < 5; run++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < calls; i++)
			if (p11->C_GetSessionInfo(s, &info) != CKR_OK)
				return -1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		int64_t ns = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
		if (ns < best)
			best = ns;
	}
	return best;
}

#define MANY 10000

static void
test_session_lookup_scales(void)
{
	CK_SESSION_HANDLE *all = calloc(MANY, sizeof(*all)), alone;
	int64_t t1, tn;

	assert_ptr_not_null(all);
	p11_init();
	alone = p11_session();
	t1 = lookup_ns(alone, 2000);
	assert_num_eq(p11->C_CloseSession(alone), CKR_OK);
	for (size_t i = 0; i < MANY; i++)
		all[i] = p11_session();
	tn = lookup_ns(all[MANY - 1], 2000);
	lurk_test_diag("2000 lookups: %lld us with 1 session, %lld us with %d",
		(long long)t1 / 1000, (long long)tn / 1000, MANY);
	assert_true(t1 > 0 && tn > 0);
	assert_num_cmp(tn, <, 10 * t1 + 2000000);
	/* Closed handles stay invalid when their slots are reused. */
	for (size_t i = 0; i < MANY; i += 2)
		assert_num_eq(p11->C_CloseSession(all[i]), CKR_OK);
	for (size_t i = 0; i < MANY; i += 2) {
		CK_SESSION_HANDLE again = p11_session();
		CK_SESSION_INFO info;
		assert_num_eq(p11->C_GetSessionInfo(all[i], &info), CKR_SESSION_HANDLE_INVALID);
		assert_num_eq(p11->C_CloseSession(all[i]), CKR_SESSION_HANDLE_INVALID);
		assert_true(again != all[i]);
		all[i] = again;
	}
	for (size_t i = 0; i < MANY; i++)
		assert_num_eq(p11->C_CloseSession(all[i]), CKR_OK);
	p11_fini();
	free(all);
}

#define SESSIONS 1000
#define LOOKERS  8

static CK_SESSION_HANDLE shared[SESSIONS];
static unsigned long looker_bad[LOOKERS];
static pthread_barrier_t look_barrier;

/* Looks up every shared session many times, and opens and closes its own meanwhile. */
static void *
looker(void *arg)
{
	size_t me = (size_t)arg;
	CK_SESSION_INFO info;

	pthread_barrier_wait(&look_barrier);
	for (int round = 0; round < 50; round++) {
		CK_SESSION_HANDLE mine, closed;
		for (size_t i = 0; i < SESSIONS; i++) {
			size_t j = (i * 7 + me * 131) % SESSIONS;
			if (p11->C_GetSessionInfo(shared[j], &info) != CKR_OK || info.slotID != 0 ||
				info.state != CKS_RO_PUBLIC_SESSION)
				looker_bad[me]++;
		}
		if (p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &mine) !=
			CKR_OK) {
			looker_bad[me]++;
			continue;
		}
		if (p11->C_GetSessionInfo(mine, &info) != CKR_OK ||
			info.state != CKS_RW_PUBLIC_SESSION)
			looker_bad[me]++;
		closed = mine;
		if (p11->C_CloseSession(mine) != CKR_OK)
			looker_bad[me]++;
		/* Another thread may have reopened the slot: never as this handle. */
		if (p11->C_GetSessionInfo(closed, &info) != CKR_SESSION_HANDLE_INVALID)
			looker_bad[me]++;
	}
	return NULL;
}

static void
test_sessions_threads(void)
{
	pthread_t t[LOOKERS];
	unsigned long bad = 0;

	p11_init();
	for (size_t i = 0; i < SESSIONS; i++)
		shared[i] = p11_session();
	pthread_barrier_init(&look_barrier, NULL, LOOKERS);
	for (size_t i = 0; i < LOOKERS; i++)
		assert_num_eq(pthread_create(&t[i], NULL, looker, (void *)i), 0);
	for (size_t i = 0; i < LOOKERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&look_barrier);
	for (size_t i = 0; i < LOOKERS; i++)
		bad += looker_bad[i];
	assert_num_eq(bad, 0);
	assert_num_eq(p11->C_CloseAllSessions(0), CKR_OK);
	for (size_t i = 0; i < SESSIONS; i++) {
		CK_SESSION_INFO info;
		assert_num_eq(p11->C_GetSessionInfo(shared[i], &info), CKR_SESSION_HANDLE_INVALID);
	}
	p11_fini();
}

int
main(int argc, char **argv)
{
	const char *mode = getenv("LURK_TEST_MODE");

	if (mode != NULL && strcmp(mode, "pin") == 0) {
		lurk_test(test_pin_login_mechanisms, "/p11/pin/mechanisms-before-and-after-login");
		return lurk_test_run(argc, argv);
	}
	if (!p11_wait_server(15000))
		lurk_test_diag("lurkd did not answer a key list within 15 s");
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
	lurk_test(test_session_lookup_scales, "/p11/session-lookup-scales");
	lurk_test(test_sessions_threads, "/p11/sessions-8-threads");
	/* Last: it points LURK_PKCS11_CONF elsewhere while it runs. */
	lurk_test(test_mechanisms_before_login, "/p11/mechanisms-before-login");
	return lurk_test_run(argc, argv);
}
