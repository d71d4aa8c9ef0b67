/*
 * What gives first when lurkd is full, shared by the workers:
 *
 * - the handshake queue: every connection that has not yet completed its
 *   handshake and sent its first request, oldest first. At max-connections
 *   a new connection closes the oldest of them (lurkd_pressure_evict_oldest)
 *   instead of being refused, so idle or half-open connections cannot lock
 *   legitimate clients out; authenticated connections are never in it.
 * - the frame-memory ledger: bytes held in partly received requests, with
 *   the connections holding them, oldest partial frame first. When the sum
 *   would pass frame-memory, the connections whose frames started first
 *   are closed until it fits (lurkd_pressure_charge).
 *
 * A connection belongs to one worker (its owner), which alone frees it.
 * Another thread that evicts it only marks it (lurkd_pnode.evicted), takes
 * it off both lists and off the ledger, and wakes the owner through the
 * callback given to lurkd_pressure_new; the owner then closes it. Every
 * list change is under one lock; the common path (a request that arrives
 * whole in one read) takes no lock at all.
 */
#ifndef LURKD_PRESSURE_H
#define LURKD_PRESSURE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "compiler.h"

struct lurkd_worker;
struct lurkd_pressure;

/* One connection's place in the lists; embedded in struct lurkd_conn. */
struct lurkd_pnode {
	struct lurkd_pnode *hs_prev, *hs_next; /* handshake queue (under the lock) */
	struct lurkd_pnode *fm_prev, *fm_next; /* frame-memory ledger (under the lock) */
	struct lurkd_worker *owner;            /* the worker to wake (under the lock) */
	const char *peer;                      /* for log lines (the connection's) */
	time_t born;
	time_t fm_started;        /* the partial frame's first byte (under the lock) */
	size_t charged;           /* bytes on the ledger (under the lock) */
	uint8_t on_hs, on_fm;     /* under the lock */
	uint8_t hs_mine, fm_mine; /* the owner's own view: it added it and did not take it off */
	atomic_int evicted;       /* set under the lock; the owner closes the connection */
};

/* What an eviction closed, for the caller's log line (peer copied under the lock). */
struct lurkd_evicted {
	char peer[80];
	time_t born, fm_started;
	size_t bytes;
	unsigned count;
};

typedef void (*lurkd_pressure_wake_fn)(struct lurkd_worker *owner);

int lurkd_pressure_new(lurkd_pressure_wake_fn wake, struct lurkd_pressure **out) LURK_MUST_CHECK;
void lurkd_pressure_free(struct lurkd_pressure *p);

/* A new connection joins the end of the handshake queue (n->owner and n->peer set). */
void lurkd_pressure_hs_add(struct lurkd_pressure *p, struct lurkd_pnode *n);
/* The connection now belongs to another worker (it could not be handed over). */
void lurkd_pressure_set_owner(
	struct lurkd_pressure *p, struct lurkd_pnode *n, struct lurkd_worker *owner);
/*
 * Its first request arrived: off the handshake queue, never evicted for a
 * newcomer from now on. LURK_ERR_BUSY if it was evicted meanwhile (close it).
 */
int lurkd_pressure_hs_done(struct lurkd_pressure *p, struct lurkd_pnode *n) LURK_MUST_CHECK;
/* Evicts the oldest connection of the handshake queue: 1 (ev filled), or 0 if it is empty. */
int lurkd_pressure_evict_oldest(struct lurkd_pressure *p, struct lurkd_evicted *ev);

/*
 * Sets the bytes n holds in a partly received request to `held` (0: none),
 * the partial frame having started at `started`. If the ledger's total then
 * passes budget, connections are evicted oldest partial frame first until
 * it fits; ev counts them (and names the first). Returns 0, or
 * LURK_ERR_BUSY when n itself must close: it was evicted before, or its
 * frame is the oldest left and the total still does not fit (then it is
 * off the ledger already, and counted in ev).
 */
int lurkd_pressure_charge(struct lurkd_pressure *p, struct lurkd_pnode *n, size_t held,
	time_t started, size_t budget, struct lurkd_evicted *ev) LURK_MUST_CHECK;
/* The connection is being freed: off every list and the ledger. */
void lurkd_pressure_release(struct lurkd_pressure *p, struct lurkd_pnode *n);

/* Bytes on the ledger now. */
size_t lurkd_pressure_frame_bytes(struct lurkd_pressure *p);
/* Adds n bytes to what has been freed since the last take (memory to give back). */
void lurkd_pressure_note_freed(struct lurkd_pressure *p, size_t n);
/* Bytes freed since the last call, and starts counting again. */
size_t lurkd_pressure_take_freed(struct lurkd_pressure *p);

#endif
