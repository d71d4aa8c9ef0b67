/*
 * lurkd's single-use FROST commitment table (server/frost-nonces.c): take
 * once, unknown and reused handles, handles bound to client and key, expiry
 * by the time passed in, per-client cap and capacity, all-or-none issue, a
 * race of two threads for one handle, and two tables (two servers) whose
 * taken nonces produce a signature that verifies.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "frost-nonces.h"
#include "tap.h"

#define NOW 1700000000

static uint8_t client_a[32], client_b[32], key[32], other_key[32], share[32];

static void
setup(void)
{
	memset(client_a, 0xa, 32);
	memset(client_b, 0xb, 32);
	memset(key, 0x11, 32);
	memset(other_key, 0x22, 32);
	crypto_core_ed25519_scalar_random(share);
}

static void
test_new_args(void)
{
	struct lurk_frost_nonces *t = (void *)1;

	assert_err(lurk_frost_nonces_new(0, 1, 60, &t), LURK_ERR_INVALID_ARG);
	assert_ptr_null(t);
	assert_err(
		lurk_frost_nonces_new(LURK_FROST_NONCES_MAX + 1, 1, 60, &t), LURK_ERR_INVALID_ARG);
	assert_err(lurk_frost_nonces_new(4, 5, 60, &t), LURK_ERR_INVALID_ARG);
	assert_err(lurk_frost_nonces_new(4, 4, 0, &t), LURK_ERR_INVALID_ARG);
	assert_err(lurk_frost_nonces_new(4, 4, LURK_FROST_NONCES_TTL_MAX + 1, &t),
		LURK_ERR_INVALID_ARG);
	assert_ok(lurk_frost_nonces_new(4, 4, 60, &t));
	lurk_frost_nonces_free(t);
	lurk_frost_nonces_free(NULL);
}

static void
test_take_once(void)
{
	struct lurk_frost_nonces *t;
	struct lurk_frost_issued iss[4];
	struct lurk_frost_nonce n;
	struct lurk_frost_commitment com;
	uint8_t D[32], unknown[LURK_FROST_HANDLE_LEN];
	size_t i;

	setup();
	assert_ok(lurk_frost_nonces_new(16, 8, 60, &t));
	assert_ok(lurk_frost_nonces_issue(t, client_a, key, 2, share, NOW, 4, iss));
	assert_num_eq(lurk_frost_nonces_count(t, client_a), 4);
	assert_num_eq(lurk_frost_nonces_count(t, client_b), 0);
	for (i = 0; i < 4; i++) {
		assert_num_eq(iss[i].com.id, 2);
		assert_ok(lurk_frost_point_check(iss[i].com.D));
		assert_ok(lurk_frost_point_check(iss[i].com.E));
		if (i > 0)
			assert_true(memcmp(iss[i].handle, iss[i - 1].handle, 16) != 0);
	}
	/* Unknown handle. */
	randombytes_buf(unknown, sizeof(unknown));
	assert_err(lurk_frost_nonces_take(t, client_a, key, unknown, NOW, &n, &com),
		LURK_ERR_NOT_FOUND);
	/* Another client's or another key's take of a real handle: refused, not spent. */
	assert_err(lurk_frost_nonces_take(t, client_b, key, iss[0].handle, NOW, &n, &com),
		LURK_ERR_NOT_FOUND);
	assert_err(lurk_frost_nonces_take(t, client_a, other_key, iss[0].handle, NOW, &n, &com),
		LURK_ERR_NOT_FOUND);
	assert_true(sodium_is_zero((uint8_t *)&n, sizeof(n)));
	assert_num_eq(lurk_frost_nonces_count(t, client_a), 4);
	/* The owner takes it: the nonce matches the commitment it was issued with. */
	assert_ok(lurk_frost_nonces_take(t, client_a, key, iss[0].handle, NOW + 1, &n, &com));
	assert_mem_eq(&com, &iss[0].com, sizeof(com));
	assert_num_eq(crypto_scalarmult_ed25519_base_noclamp(D, n.d), 0);
	assert_mem_eq(D, iss[0].com.D, 32);
	assert_num_eq(lurk_frost_nonces_count(t, client_a), 3);
	/* Reused: gone. */
	assert_err(lurk_frost_nonces_take(t, client_a, key, iss[0].handle, NOW + 1, &n, &com),
		LURK_ERR_NOT_FOUND);
	assert_true(sodium_is_zero((uint8_t *)&n, sizeof(n)));
	assert_true(sodium_is_zero((uint8_t *)&com, sizeof(com)));
	/* The others are still there, each once. */
	for (i = 1; i < 4; i++)
		assert_ok(lurk_frost_nonces_take(t, client_a, key, iss[i].handle, NOW, &n, &com));
	assert_num_eq(lurk_frost_nonces_count(t, NULL), 0);
	sodium_memzero(&n, sizeof(n));
	lurk_frost_nonces_free(t);
}

static void
test_expiry(void)
{
	struct lurk_frost_nonces *t;
	struct lurk_frost_issued iss[3];
	struct lurk_frost_nonce n;
	struct lurk_frost_commitment com;

	setup();
	assert_ok(lurk_frost_nonces_new(8, 8, 30, &t));
	assert_ok(lurk_frost_nonces_issue(t, client_a, key, 1, share, NOW, 2, iss));
	assert_ok(lurk_frost_nonces_issue(t, client_a, key, 1, share, NOW + 20, 1, iss + 2));
	/* One second before the end it still works. */
	assert_ok(lurk_frost_nonces_take(t, client_a, key, iss[0].handle, NOW + 29, &n, &com));
	/* At the end: stale, and wiped. */
	assert_err(lurk_frost_nonces_take(t, client_a, key, iss[1].handle, NOW + 30, &n, &com),
		LURK_ERR_STALE);
	assert_true(sodium_is_zero((uint8_t *)&n, sizeof(n)));
	assert_err(lurk_frost_nonces_take(t, client_a, key, iss[1].handle, NOW + 1, &n, &com),
		LURK_ERR_NOT_FOUND);
	/* expire() reclaims only what has expired. */
	assert_num_eq(lurk_frost_nonces_expire(t, NOW + 49), 0);
	assert_num_eq(lurk_frost_nonces_count(t, NULL), 1);
	assert_num_eq(lurk_frost_nonces_expire(t, NOW + 50), 1);
	assert_num_eq(lurk_frost_nonces_count(t, NULL), 0);
	sodium_memzero(&n, sizeof(n));
	lurk_frost_nonces_free(t);
}

static void
test_caps(void)
{
	struct lurk_frost_nonces *t;
	struct lurk_frost_issued iss[4], refused[5];
	struct lurk_frost_nonce n;
	struct lurk_frost_commitment com;

	setup();
	assert_ok(lurk_frost_nonces_new(6, 4, 60, &t));
	assert_ok(lurk_frost_nonces_issue(t, client_a, key, 1, share, NOW, 3, iss));
	/* Client a's cap is 4: two more is refused, all or none. */
	assert_err(lurk_frost_nonces_issue(t, client_a, key, 1, share, NOW, 2, refused),
		LURK_ERR_BUSY);
	assert_true(sodium_is_zero((uint8_t *)refused, 2 * sizeof(refused[0])));
	assert_num_eq(lurk_frost_nonces_count(t, client_a), 3);
	assert_err(lurk_frost_nonces_issue(t, client_a, key, 1, share, NOW, 5, refused),
		LURK_ERR_INVALID_ARG);
	assert_ok(lurk_frost_nonces_issue(t, client_a, key, 1, share, NOW, 1, iss + 3));
	/* The table holds 6: client b gets 2, not 3. */
	assert_err(lurk_frost_nonces_issue(t, client_b, key, 1, share, NOW, 3, refused),
		LURK_ERR_BUSY);
	assert_num_eq(lurk_frost_nonces_count(t, client_b), 0);
	assert_ok(lurk_frost_nonces_issue(t, client_b, key, 1, share, NOW, 2, iss));
	assert_err(lurk_frost_nonces_issue(t, client_b, key, 1, share, NOW, 1, refused),
		LURK_ERR_BUSY);
	/* A take frees a slot. */
	assert_ok(lurk_frost_nonces_take(t, client_b, key, iss[0].handle, NOW, &n, &com));
	assert_ok(lurk_frost_nonces_issue(t, client_b, key, 1, share, NOW, 1, iss));
	/* Once everything expired, issuing reclaims the space. */
	assert_ok(lurk_frost_nonces_issue(t, client_b, key, 1, share, NOW + 60, 4, iss));
	assert_num_eq(lurk_frost_nonces_count(t, NULL), 4);
	sodium_memzero(&n, sizeof(n));
	lurk_frost_nonces_free(t);
}

struct racer {
	struct lurk_frost_nonces *t;
	const uint8_t *handle;
	int rc;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct lurk_frost_nonce n;
	struct lurk_frost_commitment com;

	r->rc = lurk_frost_nonces_take(r->t, client_a, key, r->handle, NOW, &n, &com);
	sodium_memzero(&n, sizeof(n));
	return NULL;
}

/* Two workers present the same handle at once: exactly one gets the nonce. */
static void
test_race(void)
{
	struct lurk_frost_nonces *t;
	struct lurk_frost_issued iss;
	struct racer r[2];
	pthread_t th[2];
	int round, k;

	setup();
	assert_ok(lurk_frost_nonces_new(4, 4, 60, &t));
	for (round = 0; round < 200; round++) {
		assert_ok(lurk_frost_nonces_issue(t, client_a, key, 1, share, NOW, 1, &iss));
		for (k = 0; k < 2; k++) {
			r[k] = (struct racer){t, iss.handle, 1};
			assert_num_eq(pthread_create(&th[k], NULL, race, &r[k]), 0);
		}
		for (k = 0; k < 2; k++)
			assert_num_eq(pthread_join(th[k], NULL), 0);
		assert_true((r[0].rc == 0 && r[1].rc == LURK_ERR_NOT_FOUND) ||
			    (r[1].rc == 0 && r[0].rc == LURK_ERR_NOT_FOUND));
	}
	assert_num_eq(lurk_frost_nonces_count(t, NULL), 0);
	lurk_frost_nonces_free(t);
}

/* Two servers, each with its table and share, sign through taken commitments. */
static void
test_two_servers_sign(void)
{
	struct lurk_frost_nonces *t1, *t2;
	struct lurk_frost_issued i1, i2;
	struct lurk_frost_nonce n1, n2;
	struct lurk_frost_commitment list[2], c1, c2;
	uint8_t s[32], PK[32], a1[32], a2[32], z[2][32], sig[64];
	static const uint8_t msg[] = "TLS 1.3, server CertificateVerify";

	setup();
	crypto_core_ed25519_scalar_random(s);
	assert_ok(lurk_frost_public_share(s, PK));
	assert_ok(lurk_frost_split(s, NULL, a1, a2));
	sodium_memzero(s, sizeof(s));
	assert_ok(lurk_frost_nonces_new(4, 4, 60, &t1));
	assert_ok(lurk_frost_nonces_new(4, 4, 60, &t2));
	assert_ok(lurk_frost_nonces_issue(t1, client_a, PK, 1, a1, NOW, 1, &i1));
	assert_ok(lurk_frost_nonces_issue(t2, client_a, PK, 2, a2, NOW, 1, &i2));
	list[0] = i1.com;
	list[1] = i2.com;
	assert_ok(lurk_frost_nonces_take(t1, client_a, PK, i1.handle, NOW + 1, &n1, &c1));
	assert_ok(lurk_frost_nonces_take(t2, client_a, PK, i2.handle, NOW + 1, &n2, &c2));
	assert_ok(lurk_frost_sign(1, a1, &n1, PK, list, 2, msg, sizeof(msg) - 1, z[0]));
	assert_ok(lurk_frost_sign(2, a2, &n2, PK, list, 2, msg, sizeof(msg) - 1, z[1]));
	assert_ok(lurk_frost_aggregate(
		PK, list, 2, msg, sizeof(msg) - 1, (const uint8_t(*)[32])z, sig));
	assert_num_eq(crypto_sign_ed25519_verify_detached(sig, msg, sizeof(msg) - 1, PK), 0);
	/* The same handles cannot be used for a second signature. */
	assert_err(lurk_frost_nonces_take(t1, client_a, PK, i1.handle, NOW + 1, &n1, &c1),
		LURK_ERR_NOT_FOUND);
	sodium_memzero(a1, sizeof(a1));
	sodium_memzero(a2, sizeof(a2));
	lurk_frost_nonces_free(t1);
	lurk_frost_nonces_free(t2);
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	lurk_test(test_new_args, "table limits are checked");
	lurk_test(test_take_once, "take once; unknown, reused, other client's handles refused");
	lurk_test(test_expiry, "expiry by the time given");
	lurk_test(test_caps, "per-client cap and capacity, all or none");
	lurk_test(test_race, "two threads, one handle: one winner");
	lurk_test(test_two_servers_sign, "two tables sign one verifying signature");
	return lurk_test_run(argc, argv);
}
