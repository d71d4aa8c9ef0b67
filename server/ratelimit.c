#include "config.h"

#include <string.h>
#include <time.h>

#include "err.h"
#include "ratelimit.h"

int
lurk_ratelimit_init(struct lurk_ratelimit *rl, uint32_t rate_per_s, uint32_t burst)
{
	memset(rl, 0, sizeof(*rl));
	if (rate_per_s > LURK_RATELIMIT_MAX_RATE || burst > LURK_RATELIMIT_MAX_BURST)
		return LURK_ERR_INVALID_ARG;
	if (rate_per_s != 0) {
		if (burst == 0)
			burst = rate_per_s;
		rl->interval_ns = 1000000000u / rate_per_s;
		if (rl->interval_ns == 0)
			rl->interval_ns = 1;
		rl->tolerance_ns = rl->interval_ns * (uint64_t)(burst - 1);
	}
	if (pthread_mutex_init(&rl->lock, NULL) != 0)
		return LURK_ERR_SYSTEM;
	rl->initialised = 1;
	return 0;
}

void
lurk_ratelimit_clear(struct lurk_ratelimit *rl)
{
	if (rl->initialised)
		pthread_mutex_destroy(&rl->lock);
	rl->initialised = 0;
}

int
lurk_ratelimit_take(struct lurk_ratelimit *rl, uint64_t now)
{
	int r = 0;

	if (!rl->initialised || rl->interval_ns == 0)
		return 0;
	pthread_mutex_lock(&rl->lock);
	/* GCRA: allowed while the next arrival is no further ahead than the burst allows. */
	if (rl->tat_ns > now && rl->tat_ns - now > rl->tolerance_ns) {
		r = LURK_ERR_RATE_LIMIT;
	} else {
		rl->tat_ns = (rl->tat_ns > now ? rl->tat_ns : now) + rl->interval_ns;
	}
	pthread_mutex_unlock(&rl->lock);
	return r;
}

uint64_t
lurk_ratelimit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
