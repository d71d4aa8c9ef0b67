/*
 * The key list: what lurkd serves this client (wire.h's struct
 * lurk_wire_key: label, id, type, public key, certificates, mechanisms),
 * fetched once on first need and kept for the life of the core. A failed
 * fetch is not retried for a second, so an outage does not turn every
 * caller's request into a list request.
 */
#ifndef LURK_CLIENT_KEYS_H
#define LURK_CLIENT_KEYS_H

#include <pthread.h>
#include <stdint.h>

#include "compiler.h"
#include "pool.h"
#include "wire.h"
#include "lurk-limits.h"

struct lc_keys {
	pthread_mutex_t lock; /* memory work only */
	struct lurk_wire_list_resp list;
	int loaded; /* atomic; once set, list stays as it is until lc_keys_clear */
	int64_t next_try_ms;
};

int lc_keys_init(struct lc_keys *k) LURK_MUST_CHECK;
void lc_keys_clear(struct lc_keys *k);
/* In a forked child: a fresh lock (a thread left behind may have held it). */
void lc_keys_after_fork(struct lc_keys *k);
/*
 * The list, fetched through the pools if not yet loaded (network, no lock
 * held), kept until lc_keys_clear. pools[0] serves whole keys, pools[1]
 * and pools[2] the shares of split keys; any may be NULL (not configured).
 * The whole keys' servers must answer, and one of the two share holders. A
 * split key is listed once, with its share 1 label (share 2's when server 1
 * is down) and both share flags (lc_keys_split). 0; LURK_ERR_NO_KEY
 * when there is no client key (nothing is sent); LURK_ERR_AGAIN within
 * LC_LIST_RETRY_MS of a failed fetch; else the fetch's error:
 * lc_pool_call's, a refusal's (logged, see lc_refused), or
 * LURK_ERR_BAD_FORMAT (a malformed response, logged).
 */
int lc_keys_get(struct lc_keys *k, struct lc_pool *const pools[3],
	const struct lurk_wire_list_resp **out) LURK_MUST_CHECK;
/* 1 for a split key of the merged list (both share flags), signed by client/split.c. */
int lc_keys_split(const struct lurk_wire_key *key);
/* The key labelled label in list, or NULL. */
const struct lurk_wire_key *lc_keys_find(const struct lurk_wire_list_resp *list, const char *label);

#endif
