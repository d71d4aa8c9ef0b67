/*
 * Token-bucket rate limits, as a generic cell rate algorithm (GCRA): a
 * bucket allows `burst` operations at once and `rate` per second on
 * average. Time is passed in (monotonic nanoseconds), so tests need no
 * sleeping. Buckets are shared by lurkd's workers: each has its own mutex.
 */
#ifndef LURK_RATELIMIT_H
#define LURK_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h"

struct lurk_ratelimit {
	pthread_mutex_t lock;
	uint64_t interval_ns;  /* 1e9 / rate; 0 = unlimited */
	uint64_t tolerance_ns; /* interval * (burst - 1) */
	uint64_t tat_ns;       /* theoretical arrival time of the next operation */
	int initialised;
};

/* rate 0 means unlimited; burst 0 means burst = rate (at least 1). */
int lurk_ratelimit_init(
	struct lurk_ratelimit *rl, uint32_t rate_per_s, uint32_t burst) LURK_MUST_CHECK;
void lurk_ratelimit_clear(struct lurk_ratelimit *rl);
/* 0 if the operation may go ahead (and is counted), else LURK_ERR_RATE_LIMIT. */
int lurk_ratelimit_take(struct lurk_ratelimit *rl, uint64_t now_ns) LURK_MUST_CHECK;
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t lurk_ratelimit_now(void);

#endif
