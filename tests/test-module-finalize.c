/*
 * C_Finalize while other threads sign, then C_Initialize again, a few
 * rounds. Run by test-module-race.sh (strict and AddressSanitizer builds)
 * and under ThreadSanitizer by test-module-tsan.sh.
 *
 * PKCS#11 (2.40 §5.4) leaves C_Finalize undefined while other threads are
 * in calls; the module promises what can be promised (docs/architecture.md):
 * no new call starts, those under way end, then it frees. So a signer sees
 * only what PKCS#11 defines for that moment: CKR_OK (a call under way
 * ended), CKR_CRYPTOKI_NOT_INITIALIZED (a call after), CKR_SESSION_HANDLE_INVALID
 * (its session is gone with the finalize), CKR_SESSION_CLOSED (closed
 * during the call), or from C_Sign CKR_OPERATION_NOT_INITIALIZED; never a
 * device or general error, a crash, or (in the sanitizer builds) a use after
 * free or a data race. After the finalize every signer has stopped, and
 * once initialized again the module signs.
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

#define SIGNERS  6
#define ROUNDS   4
#define ATTEMPTS 2000  /* signatures a signer tries in a round at most: a bound */
#define WAIT_MS  60000 /* a bound on waiting for the signers, not a target */

struct signer {
	pthread_t t;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	int ok;  /* atomic: the main thread watches it */
	int end; /* the module was gone: the answer that said so */
	int other;
	CK_RV end_rv;
	struct p11_wrong wrong;
};

static int stop; /* atomic: the main thread gave up waiting */

/* The module was finalized under this call (or before it). */
static int
gone(CK_RV rv)
{
	return rv == CKR_CRYPTOKI_NOT_INITIALIZED || rv == CKR_SESSION_HANDLE_INVALID ||
	       rv == CKR_SESSION_CLOSED;
}

static void *
signer(void *arg)
{
	struct signer *w = arg;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_RV rv = CKR_OK;

	/* No test asserts here (they jump): count, and the main thread checks. */
	for (int i = 0; i < ATTEMPTS && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); i++) {
		uint8_t h[32], sig[64];
		CK_ULONG n = sizeof(sig);
		const char *call = "C_SignInit";

		randombytes_buf(h, sizeof(h));
		if ((rv = p11->C_SignInit(w->s, &m, w->k)) == CKR_OK) {
			call = "C_Sign";
			if ((rv = p11->C_Sign(w->s, h, 32, sig, &n)) == CKR_OK && n == 64) {
				__atomic_add_fetch(&w->ok, 1, __ATOMIC_ACQ_REL);
				continue;
			}
			if (rv == CKR_OPERATION_NOT_INITIALIZED) {
				w->other++;
				continue;
			}
		}
		if (gone(rv)) {
			w->end = 1;
			w->end_rv = rv;
			break;
		}
		/* (CKR_OK with a wrong length is no better) */
		p11_wrong_note(&w->wrong, call, rv == CKR_OK ? CKR_GENERAL_ERROR : rv);
	}
	return NULL;
}

/* Until every signer has signed and n signatures are made, or WAIT_MS: 1 if so. */
static int
wait_signed(struct signer *w, int n)
{
	int64_t end = now_ms() + WAIT_MS;

	for (;;) {
		int total = 0, each = 1;
		for (int i = 0; i < SIGNERS; i++) {
			int ok = __atomic_load_n(&w[i].ok, __ATOMIC_ACQUIRE);
			total += ok;
			each = each && ok > 0;
		}
		if (each && total >= n)
			return 1;
		if (now_ms() > end)
			return 0;
		usleep(500);
	}
}

static void
test_finalize_while_signing(void)
{
	struct signer w[SIGNERS];
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	uint8_t h[32], sig[64];
	char who[48];
	size_t n;

	p11_init();
	for (int round = 0; round < ROUNDS; round++) {
		int ok = 0, ended = 0, other = 0, nbad = 0, started, why[3] = {0, 0, 0};
		CK_RV fin = CKR_OK;
		/* A different moment each round: after some more signatures or none. */
		int target = SIGNERS + (int)randombytes_uniform(3 * SIGNERS);

		s = p11_session();
		k = p11_find(s, CKO_PRIVATE_KEY, "ec256");
		memset(w, 0, sizeof(w));
		for (int i = 0; i < SIGNERS; i++) {
			w[i].s = p11_session();
			w[i].k = k;
		}
		__atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
		for (int i = 0; i < SIGNERS; i++)
			assert_num_eq(pthread_create(&w[i].t, NULL, signer, &w[i]), 0);
		started = wait_signed(w, target);
		if (started)
			fin = p11->C_Finalize(NULL);
		if (!started || fin != CKR_OK)
			__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
		for (int i = 0; i < SIGNERS; i++) {
			pthread_join(w[i].t, NULL);
			ok += w[i].ok;
			ended += w[i].end;
			other += w[i].other;
			if (w[i].end)
				why[w[i].end_rv == CKR_CRYPTOKI_NOT_INITIALIZED     ? 0
					: w[i].end_rv == CKR_SESSION_HANDLE_INVALID ? 1
										    : 2]++;
			snprintf(who, sizeof(who), "round %d, signer %d", round, i);
			nbad += p11_wrong_report(&w[i].wrong, who);
		}
		lurk_test_diag("round %d: C_Finalize after %d signatures (%d wanted); the signers "
			       "stopped on CKR_CRYPTOKI_NOT_INITIALIZED %d, "
			       "CKR_SESSION_HANDLE_INVALID %d, CKR_SESSION_CLOSED %d; "
			       "%d C_Sign found no operation",
			round, ok, target, why[0], why[1], why[2], other);
		assert_true(started);
		assert_num_eq(fin, CKR_OK);
		assert_num_eq(nbad, 0);
		assert_num_eq(ended, SIGNERS); /* each saw the module go, none ran out */
		/* Initialized again, the module signs. */
		p11_init();
		s = p11_session();
		k = p11_find(s, CKO_PRIVATE_KEY, "ec256");
		randombytes_buf(h, sizeof(h));
		n = sizeof(sig);
		assert_num_eq(p11_sign(s, k, CKM_ECDSA, NULL, 0, h, 32, sig, &n), CKR_OK);
		assert_true(p11_verify(s, "ec256", CKM_ECDSA, h, 32, sig, n));
	}
	p11_fini();
}

int
main(int argc, char **argv)
{
	lurk_test(test_finalize_while_signing, "/finalize/while-threads-sign");
	return lurk_test_run(argc, argv);
}
