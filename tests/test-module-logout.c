/*
 * C_Login and C_Logout while other threads sign, with a PIN-protected client
 * key (LURK_PKCS11_CONF names it, LURK_TEST_PIN opens it; lurkd knows it
 * and lets it use ec256). Run by test-module-race.sh, and under
 * ThreadSanitizer by test-module-tsan.sh.
 *
 * What PKCS#11 (2.40 §5.6, C_Logout) lets a signer see: a logout makes the
 * application's handles to private objects invalid, so C_SignInit answers
 * CKR_OK (still logged in, or a handle the module keeps valid),
 * CKR_USER_NOT_LOGGED_IN or CKR_KEY_HANDLE_INVALID; a C_Sign already
 * initialized answers CKR_OK (its round trip began before the logout) or
 * CKR_USER_NOT_LOGGED_IN. After either refusal a signer finds the key again
 * rather than trust its old handle; while logged out a public session finds
 * no private object (checked at the end, once the threads are done).
 * Never CKR_DEVICE_ERROR, CKR_GENERAL_ERROR or anything else: the key
 * being wiped under a connection the module is making is the module's
 * business, not a server failure.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "p11-test.h"
#include "tap.h"

#define SIGNERS  8
#define ATTEMPTS 300    /* signatures a signer tries at most: a bound */
#define CYCLES   32     /* logins, each followed by a logout */
#define WAIT_MS  120000 /* a bound on all waits for the others, not a target */

struct signer {
	pthread_t t;
	int ok, refused, attempts;
	struct p11_wrong wrong;
};

static int stop;                   /* atomic: the login thread is done */
static int signed_total;           /* atomic: signatures made, all threads */
static int refused_total;          /* atomic: refusals and empty searches */
static CK_OBJECT_HANDLE known_key; /* atomic: a handle the key once had */

/* Logged out (refused, or nothing found): the next try when a login may have come. */
static void
logged_out(struct signer *w, CK_OBJECT_HANDLE *k)
{
	w->refused++;
	__atomic_add_fetch(&refused_total, 1, __ATOMIC_ACQ_REL);
	*k = 0;
	usleep(1000);
}

static void *
signer(void *arg)
{
	struct signer *w = arg;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k = 0;
	CK_RV rv;

	/* No test asserts here (they jump): count, and the main thread checks. */
	if ((rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK) {
		p11_wrong_note(&w->wrong, "C_OpenSession", rv);
		return NULL;
	}
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE) && w->attempts < ATTEMPTS) {
		uint8_t h[32], sig[64];
		CK_ULONG n = sizeof(sig);

		if (k == 0) {
			/* Logged out, the search succeeds and finds nothing. */
			if ((rv = p11_key(s, "ec256", &k)) != CKR_OK) {
				p11_wrong_note(&w->wrong, "C_FindObjects", rv);
				break;
			}
			if (k == 0) {
				logged_out(w, &k);
				continue;
			}
			__atomic_store_n(&known_key, k, __ATOMIC_RELEASE);
		}
		randombytes_buf(h, sizeof(h));
		rv = p11->C_SignInit(s, &m, k);
		if (rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_KEY_HANDLE_INVALID) {
			logged_out(w, &k);
			continue;
		}
		w->attempts++;
		if (rv != CKR_OK) {
			p11_wrong_note(&w->wrong, "C_SignInit", rv);
			continue;
		}
		rv = p11->C_Sign(s, h, 32, sig, &n);
		if (rv == CKR_OK && n == 64) {
			w->ok++;
			__atomic_add_fetch(&signed_total, 1, __ATOMIC_ACQ_REL);
		} else if (rv == CKR_USER_NOT_LOGGED_IN) {
			logged_out(w, &k);
		} else {
			/* (CKR_OK with a wrong length is no better) */
			p11_wrong_note(&w->wrong, "C_Sign", rv == CKR_OK ? CKR_GENERAL_ERROR : rv);
		}
	}
	(void)p11->C_CloseSession(s);
	return NULL;
}

struct login {
	pthread_t t;
	const char *pin;
	int logins, logouts, waits_timed_out;
	struct p11_wrong wrong;
};

static int64_t deadline; /* of every wait for the others: a bound, not a target */

/* Until *counter is past since, or the deadline: 1 if it got there. */
static int
wait_past(int *counter, int since)
{
	while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) <= since)
		if (now_ms() > deadline)
			return 0;
		else
			usleep(500);
	return 1;
}

static void *
login_logout(void *arg)
{
	struct login *l = arg;
	CK_SESSION_HANDLE s;
	CK_RV rv;

	if ((rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK) {
		p11_wrong_note(&l->wrong, "C_OpenSession", rv);
		goto out;
	}
	for (int c = 0; c < CYCLES; c++) {
		int before = __atomic_load_n(&signed_total, __ATOMIC_ACQUIRE), seen;

		rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)l->pin, strlen(l->pin));
		if (rv != CKR_OK) {
			p11_wrong_note(&l->wrong, "C_Login", rv);
			break;
		}
		l->logins++;
		/* Some signing in this login, so the logout lands among signatures. */
		if (!wait_past(&signed_total, before))
			l->waits_timed_out++;
		seen = __atomic_load_n(&refused_total, __ATOMIC_ACQUIRE);
		if ((rv = p11->C_Logout(s)) != CKR_OK) {
			p11_wrong_note(&l->wrong, "C_Logout", rv);
			break;
		}
		l->logouts++;
		/* A signer meets the logout before the next login. */
		if (!wait_past(&refused_total, seen))
			l->waits_timed_out++;
	}
	(void)p11->C_CloseSession(s);
out:
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_logout_while_signing(void)
{
	const char *pin = getenv("LURK_TEST_PIN");
	struct signer w[SIGNERS];
	struct login l = {.pin = pin};
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = {CKA_CLASS, &priv, sizeof(priv)};
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	uint8_t h[32], sig[64];
	size_t n = sizeof(sig);
	int ok = 0, nrefused = 0, attempts = 0, nbad = 0;
	size_t found;
	char who[32];
	CK_RV rv;
	int64_t t0;

	assert_ptr_not_null(pin);
	p11_init();
	/* The case is only worth running with a key that needs the PIN. */
	assert_num_eq(p11->C_GetTokenInfo(0, &ti), CKR_OK);
	assert_true(ti.flags & CKF_LOGIN_REQUIRED);
	memset(w, 0, sizeof(w));
	t0 = now_ms();
	deadline = t0 + WAIT_MS;
	assert_num_eq(pthread_create(&l.t, NULL, login_logout, &l), 0);
	for (int i = 0; i < SIGNERS; i++)
		assert_num_eq(pthread_create(&w[i].t, NULL, signer, &w[i]), 0);
	pthread_join(l.t, NULL);
	for (int i = 0; i < SIGNERS; i++) {
		pthread_join(w[i].t, NULL);
		ok += w[i].ok;
		nrefused += w[i].refused;
		attempts += w[i].attempts;
		snprintf(who, sizeof(who), "signer %d", i);
		nbad += p11_wrong_report(&w[i].wrong, who);
	}
	lurk_test_diag("%d logins and %d logouts while %d threads signed: %d signatures, %d "
		       "refusals or empty searches while logged out, %d attempts, %lld ms",
		l.logins, l.logouts, SIGNERS, ok, nrefused, attempts, (long long)(now_ms() - t0));
	if (l.waits_timed_out)
		lurk_test_diag("the login thread waited in vain %d times (all waits end %d ms "
			       "after the start)",
			l.waits_timed_out, WAIT_MS);
	assert_num_eq(p11_wrong_report(&l.wrong, "the login thread"), 0);
	assert_num_eq(l.logins, CYCLES);
	assert_num_eq(l.logouts, CYCLES);
	assert_num_eq(nbad, 0);
	assert_num_eq(l.waits_timed_out, 0);
	assert_num_cmp(ok, >=, CYCLES); /* each login waited for one */

	/* Logged out: the key is neither usable by its old handle nor found. */
	s = p11_session();
	k = __atomic_load_n(&known_key, __ATOMIC_ACQUIRE);
	assert_true(k != 0);
	rv = p11->C_SignInit(s, &m, k);
	if (rv != CKR_USER_NOT_LOGGED_IN && rv != CKR_KEY_HANDLE_INVALID)
		lurk_test_fail(__FILE__, __LINE__, "C_SignInit logged out: 0x%lx", rv);
	/* A public session sees public objects only (PKCS#11 2.40 §4.4, §5.6). */
	if ((found = p11_count(s, &t, 1)) != 0)
		lurk_test_fail(__FILE__, __LINE__,
			"logged out, C_FindObjects still finds %zu private key(s)", found);
	/* And the PIN opens it again: a good signature. */
	assert_num_eq(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
	k = p11_find(s, CKO_PRIVATE_KEY, "ec256");
	randombytes_buf(h, sizeof(h));
	assert_num_eq(p11_sign(s, k, CKM_ECDSA, NULL, 0, h, 32, sig, &n), CKR_OK);
	assert_true(p11_verify(s, "ec256", CKM_ECDSA, h, 32, sig, n));
	assert_num_eq(p11->C_Logout(s), CKR_OK);
	p11_fini();
}

int
main(int argc, char **argv)
{
	lurk_test(test_logout_while_signing, "/logout/login-and-logout-while-threads-sign");
	return lurk_test_run(argc, argv);
}
