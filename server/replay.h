/*
 * The responder's cache of msg1 ephemeral keys seen recently (docs/channel.md).
 *
 * A msg1 is accepted only if its timestamp is within ±window seconds of now
 * and its ephemeral key has not been seen in that window. Many worker
 * processes share one client key and connect concurrently, so there is no
 * per-client "newer than last time" rule (docs/channel.md).
 *
 * One cache serves every connection of a server: capacity is fixed at
 * creation (bounded memory), entries are reclaimed once their timestamp has
 * left the window, and when every slot holds an entry still in its window the
 * cache refuses (LURK_ERR_BUSY: fail closed). Only allow-listed clients that
 * also decrypted a well-formed payload reach the cache, so filling it takes a
 * client key. All functions may be called from several threads.
 */
#ifndef LURK_REPLAY_H
#define LURK_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h"

struct lurk_replay;

/* capacity 1..LURK_REPLAY_CACHE_MAX entries, window 1..LURK_REPLAY_WINDOW_MAX seconds. */
int lurk_replay_new(size_t capacity, unsigned window_s, struct lurk_replay **out) LURK_MUST_CHECK;
void lurk_replay_free(struct lurk_replay *rc);

/*
 * timestamp and now are Unix seconds. Returns 0 after recording eph_pk,
 * LURK_ERR_STALE if |timestamp - now| > window, LURK_ERR_REPLAY if eph_pk is
 * already there, LURK_ERR_BUSY if the cache is full of live entries.
 */
int lurk_replay_check_and_add(struct lurk_replay *rc, const uint8_t eph_pk[LURK_NOISE_KEY_LEN],
	int64_t timestamp, int64_t now) LURK_MUST_CHECK;

/* The same as a channel's freshness check (lurk_chan_fresh_fn, ctx the cache). */
int lurk_replay_fresh(void *rc, const uint8_t eph_pk[LURK_NOISE_KEY_LEN], int64_t timestamp,
	int64_t now) LURK_MUST_CHECK;

unsigned lurk_replay_window(const struct lurk_replay *rc);
/* Entries held now (live or not yet reclaimed). */
size_t lurk_replay_count(struct lurk_replay *rc);

#endif
