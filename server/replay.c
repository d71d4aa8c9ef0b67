/*
 * The seen-ephemeral cache: a ring of entries in insertion order (so the
 * oldest is reclaimed first and memory never grows) and an open-addressing
 * index over it (linear probing at most half full, keyed SipHash so a client
 * cannot aim its keys at one chain, Knuth's backward-shift deletion so no
 * tombstones accumulate).
 *
 * An entry must stay while a replay of its msg1 could still pass the window
 * check, i.e. until timestamp + window; it is reclaimed once that is in the
 * past and every older entry has gone. Keeping an entry too long is safe;
 * dropping it too early is not, hence the conservative rules below.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "replay.h"

#define SLOT_EMPTY UINT32_MAX

struct entry {
	uint8_t pk[LURK_NOISE_KEY_LEN];
	int64_t expires; /* timestamp + window */
	uint32_t hash;
};

struct lurk_replay {
	pthread_mutex_t lock;
	struct entry *ring; /* cap entries; live ones are head .. head+count-1 */
	size_t cap;
	size_t head;
	size_t count;
	uint32_t *index; /* mask+1 slots, each a ring position or SLOT_EMPTY */
	size_t mask;
	uint8_t key[crypto_shorthash_KEYBYTES];
	unsigned window;
	int64_t latest; /* highest `now` seen, see effective_now() */
	int has_latest;
};

int
lurk_replay_new(size_t capacity, unsigned window_s, struct lurk_replay **out)
{
	struct lurk_replay *rc;
	size_t slots = 2;

	*out = NULL;
	if (capacity == 0 || capacity > LURK_REPLAY_CACHE_MAX || window_s == 0 ||
		window_s > LURK_REPLAY_WINDOW_MAX)
		return LURK_ERR_INVALID_ARG;
	if (sodium_init() < 0)
		return LURK_ERR_INTERNAL;
	while (slots < 2 * capacity)
		slots *= 2;
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return LURK_ERR_ALLOC;
	rc->ring = calloc(capacity, sizeof(*rc->ring));
	rc->index = malloc(slots * sizeof(*rc->index));
	if (rc->ring == NULL || rc->index == NULL || pthread_mutex_init(&rc->lock, NULL) != 0) {
		free(rc->ring);
		free(rc->index);
		free(rc);
		return LURK_ERR_ALLOC;
	}
	for (size_t i = 0; i < slots; i++)
		rc->index[i] = SLOT_EMPTY;
	rc->cap = capacity;
	rc->mask = slots - 1;
	rc->window = window_s;
	crypto_shorthash_keygen(rc->key);
	*out = rc;
	return 0;
}

void
lurk_replay_free(struct lurk_replay *rc)
{
	if (rc == NULL)
		return;
	pthread_mutex_destroy(&rc->lock);
	free(rc->ring);
	free(rc->index);
	sodium_memzero(rc->key, sizeof(rc->key));
	free(rc);
}

unsigned
lurk_replay_window(const struct lurk_replay *rc)
{
	return rc->window;
}

size_t
lurk_replay_count(struct lurk_replay *rc)
{
	size_t n;

	pthread_mutex_lock(&rc->lock);
	n = rc->count;
	pthread_mutex_unlock(&rc->lock);
	return n;
}

static uint32_t
hash_key(const struct lurk_replay *rc, const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, pk, LURK_NOISE_KEY_LEN, rc->key);
	return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

/* The slot holding pk (returns 1), or the empty slot where it would go (returns 0). */
static int
find_inlock(const struct lurk_replay *rc, const uint8_t pk[LURK_NOISE_KEY_LEN], uint32_t hash,
	size_t *slot)
{
	size_t i = hash & rc->mask;

	/* The index is at most half full, so an empty slot always ends the probe. */
	while (rc->index[i] != SLOT_EMPTY) {
		const struct entry *e = &rc->ring[rc->index[i]];

		if (e->hash == hash && sodium_memcmp(e->pk, pk, LURK_NOISE_KEY_LEN) == 0) {
			*slot = i;
			return 1;
		}
		i = (i + 1) & rc->mask;
	}
	*slot = i;
	return 0;
}

/* Knuth 6.4 algorithm R: empties slot i, moving later entries of the chain back. */
static void
index_remove_inlock(struct lurk_replay *rc, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t k;

		j = (j + 1) & rc->mask;
		if (rc->index[j] == SLOT_EMPTY)
			break;
		k = rc->ring[rc->index[j]].hash & rc->mask;
		/* The entry at j may move to i unless its home k lies cyclically in (i, j]. */
		if ((i <= j) ? (k <= i || k > j) : (k <= i && k > j)) {
			rc->index[i] = rc->index[j];
			i = j;
		}
	}
	rc->index[i] = SLOT_EMPTY;
}

static void
reclaim_inlock(struct lurk_replay *rc, int64_t now)
{
	while (rc->count > 0 && rc->ring[rc->head].expires < now) {
		struct entry *e = &rc->ring[rc->head];
		size_t slot;

		if (find_inlock(rc, e->pk, e->hash, &slot))
			index_remove_inlock(rc, slot);
		memset(e, 0, sizeof(*e));
		rc->head = (rc->head + 1) % rc->cap;
		rc->count--;
	}
}

/*
 * Threads read the clock before taking the lock, so `now` may arrive a little
 * out of order. Checking and reclaiming against the highest value seen keeps
 * them consistent: an entry is never reclaimed by one thread while another
 * would still accept its timestamp. A step back of more than the window is a
 * clock change, not a race: then the mark follows the clock (entries only
 * live longer, which is safe).
 */
static int64_t
effective_now_inlock(struct lurk_replay *rc, int64_t now)
{
	if (rc->has_latest && now < rc->latest &&
		(uint64_t)rc->latest - (uint64_t)now <= rc->window)
		return rc->latest;
	rc->latest = now;
	rc->has_latest = 1;
	return now;
}

static int
outside_window(int64_t ts, int64_t now, unsigned window)
{
	/* Unsigned differences cannot overflow, whatever the two values are. */
	if (ts >= now)
		return (uint64_t)ts - (uint64_t)now > window;
	return (uint64_t)now - (uint64_t)ts > window;
}

int
lurk_replay_check_and_add(struct lurk_replay *rc, const uint8_t eph_pk[LURK_NOISE_KEY_LEN],
	int64_t timestamp, int64_t now)
{
	uint32_t hash = hash_key(rc, eph_pk);
	struct entry *e;
	size_t slot;
	int r = 0;

	if (pthread_mutex_lock(&rc->lock) != 0)
		return LURK_ERR_INTERNAL;
	now = effective_now_inlock(rc, now);
	if (outside_window(timestamp, now, rc->window) || timestamp > INT64_MAX - rc->window) {
		r = LURK_ERR_STALE;
		goto out;
	}
	reclaim_inlock(rc, now);
	if (find_inlock(rc, eph_pk, hash, &slot)) {
		r = LURK_ERR_REPLAY;
		goto out;
	}
	if (rc->count == rc->cap) {
		r = LURK_ERR_BUSY;
		goto out;
	}
	e = &rc->ring[(rc->head + rc->count) % rc->cap];
	memcpy(e->pk, eph_pk, LURK_NOISE_KEY_LEN);
	e->expires = timestamp + (int64_t)rc->window;
	e->hash = hash;
	rc->index[slot] = (uint32_t)((rc->head + rc->count) % rc->cap);
	rc->count++;
out:
	pthread_mutex_unlock(&rc->lock);
	return r;
}

int
lurk_replay_fresh(
	void *rc, const uint8_t eph_pk[LURK_NOISE_KEY_LEN], int64_t timestamp, int64_t now)
{
	return lurk_replay_check_and_add(rc, eph_pk, timestamp, now);
}
