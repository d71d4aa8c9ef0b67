/*
 * The seen-ephemeral cache: window, replays, bounded capacity (BUSY when full
 * of live entries), reclaiming after the window, a randomized comparison with
 * a plain model (exercises the index deletion), and concurrent threads.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "server/replay.h"
#include "tap.h"

static void
key_of(uint8_t pk[LURK_NOISE_KEY_LEN], uint32_t i)
{
	memset(pk, 0, LURK_NOISE_KEY_LEN);
	memcpy(pk, &i, sizeof(i));
	pk[31] = 0x77;
}

static int
add(struct lurk_replay *rc, uint32_t key, int64_t ts, int64_t now)
{
	uint8_t pk[LURK_NOISE_KEY_LEN];

	key_of(pk, key);
	return lurk_replay_check_and_add(rc, pk, ts, now);
}

static void
test_args(void)
{
	struct lurk_replay *rc = (struct lurk_replay *)&rc;

	assert_err(lurk_replay_new(0, 60, &rc), LURK_ERR_INVALID_ARG);
	assert_ptr_null(rc);
	assert_err(lurk_replay_new(LURK_REPLAY_CACHE_MAX + 1, 60, &rc), LURK_ERR_INVALID_ARG);
	assert_err(lurk_replay_new(16, 0, &rc), LURK_ERR_INVALID_ARG);
	assert_err(lurk_replay_new(16, LURK_REPLAY_WINDOW_MAX + 1, &rc), LURK_ERR_INVALID_ARG);
	assert_ok(lurk_replay_new(1, 5, &rc));
	assert_num_eq(lurk_replay_window(rc), 5);
	assert_ok(add(rc, 1, 100, 100));
	assert_err(add(rc, 2, 100, 100), LURK_ERR_BUSY);
	lurk_replay_free(rc);
	lurk_replay_free(NULL);
}

static void
test_basic(void)
{
	struct lurk_replay *rc;

	assert_ok(lurk_replay_new(8, 60, &rc));
	assert_ok(add(rc, 1, 1000, 1000));
	assert_err(add(rc, 1, 1000, 1000), LURK_ERR_REPLAY);
	assert_err(add(rc, 1, 1010, 1030), LURK_ERR_REPLAY);
	assert_ok(add(rc, 2, 1000, 1000));
	assert_num_eq(lurk_replay_count(rc), 2);
	lurk_replay_free(rc);
}

static void
test_window(void)
{
	struct lurk_replay *rc;

	assert_ok(lurk_replay_new(8, 60, &rc));
	assert_err(add(rc, 1, 1000 - 61, 1000), LURK_ERR_STALE);
	assert_err(add(rc, 2, 1000 + 61, 1000), LURK_ERR_STALE);
	assert_err(add(rc, 3, INT64_MIN, 1000), LURK_ERR_STALE);
	assert_err(add(rc, 4, INT64_MAX, 1000), LURK_ERR_STALE);
	assert_ok(add(rc, 5, 1000 - 60, 1000));
	assert_ok(add(rc, 6, 1000 + 60, 1000));
	assert_num_eq(lurk_replay_count(rc), 2);
	lurk_replay_free(rc);
}

static void
test_full_and_reclaim(void)
{
	struct lurk_replay *rc;

	assert_ok(lurk_replay_new(4, 60, &rc));
	for (uint32_t i = 0; i < 4; i++)
		assert_ok(add(rc, i, 1000, 1000));
	/* Full of live entries: refuse, but a replay is still reported as such. */
	assert_err(add(rc, 10, 1000, 1000), LURK_ERR_BUSY);
	assert_err(add(rc, 2, 1000, 1000), LURK_ERR_REPLAY);
	/* At 1060 a replay of ts 1000 would pass the window: the entries must stay. */
	assert_err(add(rc, 10, 1060, 1060), LURK_ERR_BUSY);
	assert_err(add(rc, 3, 1000, 1060), LURK_ERR_REPLAY);
	/* At 1061 they are out of the window and make room. */
	assert_ok(add(rc, 10, 1061, 1061));
	assert_num_eq(lurk_replay_count(rc), 1);
	assert_ok(add(rc, 2, 1061, 1061)); /* a key may come back once forgotten */
	lurk_replay_free(rc);
}

/* An entry stamped in the future stays until its own timestamp leaves the window. */
static void
test_future_entry(void)
{
	struct lurk_replay *rc;

	assert_ok(lurk_replay_new(4, 60, &rc));
	assert_ok(add(rc, 1, 1060, 1000));
	assert_ok(add(rc, 2, 1100, 1100)); /* reclaims nothing: 1 lives until 1120 */
	assert_err(add(rc, 1, 1060, 1110), LURK_ERR_REPLAY);
	assert_err(add(rc, 1, 1060, 1120), LURK_ERR_REPLAY);
	assert_err(add(rc, 1, 1060, 1121), LURK_ERR_STALE);
	lurk_replay_free(rc);
}

/* Threads read the clock before the lock: a late, smaller `now` is treated as the latest. */
static void
test_clock_order(void)
{
	struct lurk_replay *rc;

	assert_ok(lurk_replay_new(4, 60, &rc));
	assert_ok(add(rc, 1, 1000, 1000));
	assert_err(add(rc, 2, 939, 999), LURK_ERR_STALE);
	assert_ok(add(rc, 3, 940, 999));
	/* A step back of more than the window is a clock change: follow it. */
	assert_ok(add(rc, 4, 100, 100));
	assert_err(add(rc, 1, 100, 100), LURK_ERR_REPLAY);
	lurk_replay_free(rc);
}

/* Random traffic against a linear model with the same FIFO reclaim rule. */
struct model {
	uint32_t key[64];
	int64_t exp[64];
	size_t head, count;
};

static int
model_add(struct model *m, size_t cap, unsigned w, uint32_t key, int64_t ts, int64_t now)
{
	if (ts < now - (int64_t)w || ts > now + (int64_t)w)
		return LURK_ERR_STALE;
	while (m->count > 0 && m->exp[m->head] < now) {
		m->head = (m->head + 1) % cap;
		m->count--;
	}
	for (size_t i = 0; i < m->count; i++) {
		if (m->key[(m->head + i) % cap] == key)
			return LURK_ERR_REPLAY;
	}
	if (m->count == cap)
		return LURK_ERR_BUSY;
	m->key[(m->head + m->count) % cap] = key;
	m->exp[(m->head + m->count) % cap] = ts + w;
	m->count++;
	return 0;
}

static void
test_randomized(void)
{
	static const size_t caps[] = {1, 2, 3, 7, 16, 64};
	int seen[5] = {0};

	for (size_t c = 0; c < LURK_ARRAY_LEN(caps); c++) {
		struct lurk_replay *rc;
		struct model m = {0};
		int64_t now = 5000;

		assert_ok(lurk_replay_new(caps[c], 10, &rc));
		for (int i = 0; i < 20000; i++) {
			uint32_t key = randombytes_uniform(100);
			int64_t ts = now + (int64_t)randombytes_uniform(25) - 12;
			int want = model_add(&m, caps[c], 10, key, ts, now);

			assert_err(add(rc, key, ts, now), want);
			assert_num_eq(lurk_replay_count(rc), m.count);
			seen[-want == 0 ? 0 : -want - 16]++;
			now += randombytes_uniform(4) == 0;
		}
		lurk_replay_free(rc);
	}
	/* Every outcome happened: ok, replay, stale, busy. */
	assert_num_cmp(seen[0], >, 0);
	assert_num_cmp(seen[1], >, 0); /* REPLAY -17 */
	assert_num_cmp(seen[2], >, 0); /* STALE -18 */
	assert_num_cmp(seen[3], >, 0); /* BUSY -19 */
}

struct worker {
	struct lurk_replay *rc;
	uint32_t base;
	int shared_ok;
	int failures;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	for (uint32_t i = 0; i < 2000; i++) {
		if (add(w->rc, w->base + i, 1000, 1000) != 0)
			w->failures++;
		if (i % 100 == 0 && add(w->rc, 0xffff0000u + i, 1000, 1000) == 0)
			w->shared_ok++;
	}
	return NULL;
}

static void
test_threads(void)
{
	struct lurk_replay *rc;
	struct worker w[4];
	pthread_t t[4];
	int shared = 0;

	assert_ok(lurk_replay_new(16384, 60, &rc));
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.rc = rc, .base = (uint32_t)i * 100000};
		assert_num_eq(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_num_eq(pthread_join(t[i], NULL), 0);
		assert_num_eq(w[i].failures, 0);
		shared += w[i].shared_ok;
	}
	/* Each shared key was accepted exactly once, whichever thread got there first. */
	assert_num_eq(shared, 20);
	assert_num_eq(lurk_replay_count(rc), 4 * 2000 + 20);
	lurk_replay_free(rc);
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 99;
	lurk_test(test_args, "/replay/args");
	lurk_test(test_basic, "/replay/basic");
	lurk_test(test_window, "/replay/window");
	lurk_test(test_full_and_reclaim, "/replay/full-and-reclaim");
	lurk_test(test_future_entry, "/replay/future-entry");
	lurk_test(test_clock_order, "/replay/clock-order");
	lurk_test(test_randomized, "/replay/randomized");
	lurk_test(test_threads, "/replay/threads");
	return lurk_test_run(argc, argv);
}
