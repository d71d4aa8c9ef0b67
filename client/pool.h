/*
 * The connections to the key servers, checked out one call at a time; the
 * failure model (backoff, probes, retries, balance, fork) is pool.c's.
 * Every lock is held for memory work only, never across a round trip.
 */
#ifndef LURK_CLIENT_POOL_H
#define LURK_CLIENT_POOL_H

#include <stdint.h>

#include "buf.h"
#include "compiler.h"
#include "conf.h"

/* The core's clock: monotonic milliseconds. */
int64_t lc_now_ms(void);

struct lc_pool;

/* A pool for the servers of c, which must outlive it. 0 or LURK_ERR_ALLOC. */
int lc_pool_new(struct lc_pool **out, const struct lc_conf *c) LURK_MUST_CHECK;
/* Closes every connection without sending, wipes the client key. NULL is fine. */
void lc_pool_free(struct lc_pool *p);
/* Drops every idle connection without sending on it (after fork). NULL is fine. */
void lc_pool_forget(struct lc_pool *p);
/*
 * The client key, copied into the pool's guarded memory (NULL wipes it).
 * Every connection made with the key it replaces is closed: idle ones now,
 * those in use when they are checked in. 0 or LURK_ERR_ALLOC.
 */
int lc_pool_set_key(struct lc_pool *p, const uint8_t *sk) LURK_MUST_CHECK;
/* 1 when the pool has a client key to connect with. */
int lc_pool_has_key(struct lc_pool *p);
/*
 * One request, one response, within the conf's io timeout from start to
 * end: the message built by build(ctx, out, id) is sent on a pooled
 * connection and the response (header included) replaces resp. 0, or:
 * LURK_ERR_IO when no server answered in time, or at once when every
 * server is in backoff (the log says why, once per server per backoff
 * step); LURK_ERR_NO_KEY when there is no client key; LURK_ERR_ALLOC;
 * LURK_ERR_INVALID_ARG when build failed otherwise.
 */
typedef int (*lc_build_fn)(void *ctx, struct lurk_buf *out, uint32_t id);
int lc_pool_call(
	struct lc_pool *p, lc_build_fn build, void *ctx, struct lurk_buf *resp) LURK_MUST_CHECK;

/*
 * A call in two halves, for requests in flight to two pools at once (a
 * split key's servers, client/split.c): lc_pool_send checks a connection
 * out and sends; lc_pool_recv waits for the response until the deadline
 * given to send, and checks the connection back in (or drops it and marks
 * its server down). No retry on another server. Every q that send
 * returned 0 for is ended by exactly one lc_pool_recv or lc_pool_abandon.
 * Errors as lc_pool_call's, and LURK_ERR_EOF from lc_pool_recv when a
 * pooled connection failed other than by timing out: the server may have
 * closed it as the request went out, which is no failure of the server
 * (not marked down); the caller may try once more.
 */
struct pconn;
struct lc_pool_req {
	struct lc_pool *p;
	struct pconn *pc;
	int64_t deadline;
	int pooled; /* pc was idle in the pool, not made for this call */
};
int lc_pool_send(struct lc_pool *p, lc_build_fn build, void *ctx, int64_t deadline,
	struct lc_pool_req *q) LURK_MUST_CHECK;
int lc_pool_recv(struct lc_pool_req *q, struct lurk_buf *resp) LURK_MUST_CHECK;
/* Drops q's connection unread (the other half failed). */
void lc_pool_abandon(struct lc_pool_req *q);

#endif
