/*
 * Connections to the key servers: the client core's failure model
 * (docs/architecture.md, "The client core: failures").
 *
 * A call checks a connection out, makes one round trip on it with no lock
 * held, and checks it back in; so concurrent callers each have their own
 * connection and never wait on one another's network time.
 *
 * Time. A call has `timeout` (the configuration's io timeout) from start to
 * end, connects and retries included: no call outlives it. A new connection
 * gets at most connect-timeout, and never more than its share of what is
 * left when other servers remain to be tried, so one hung replica cannot
 * take the whole budget from the healthy one behind it. With another server
 * to fall back on, a call's first round trip gets half of what is left: a
 * server that stopped answering mid-call costs the call half its time, and
 * the other half goes to a replica.
 *
 * Backoff, shared by every thread. A server that fails a new connection or
 * a call is down for a backoff that doubles from 250 ms to 1 s (8 s when it
 * failed by timing out: it accepted and then said nothing, and each try
 * costs a caller its time). When a backoff ends, exactly one caller probes
 * the server with a new connection, and the others keep to the servers that
 * are up. When every server is down, a call fails at once with
 * LURK_ERR_IO and no connect: an outage costs the consumer no CPU and
 * lurkd no reconnection storm, and a server that comes back is found by the
 * next probe, within a second. A failed server is logged once per backoff
 * step (every 30 s at most once it stays at the longest step), with the
 * number of calls that failed at once meanwhile.
 *
 * Balance. New connections go to the server that has the fewest; a
 * connection checked in to a server that has two or more than the least
 * loaded server that is up is closed instead of kept. So a replica that
 * comes back takes its share within a few calls, and replicas stay even.
 *
 * Pooled connections die with no one watching: lurkd closes a session at its
 * session-max-age or idle-timeout, on a reload that drops the client, when
 * it restarts. So an idle connection is checked before it is used (one poll
 * that does not wait: lurkd sends nothing unasked, so anything readable
 * means it closed) and replaced if dead; and a call that fails on a pooled
 * connection other than by timing out, which the server may have closed
 * just as the request went out, is made again on a new connection to the
 * same server. Neither is a server failure.
 *
 * The client key lives here, in memory of its own (sodium_malloc: guard
 * pages, locked, kept out of core dumps) that is read-only except while it
 * is set. A connect copies it under the lock; unsetting it wipes it and bumps
 * the epoch, so every idle connection is closed and every connection in use
 * is closed when it is checked in.
 *
 * Fork: handlers registered with pthread_atfork keep the pool usable in a
 * child without the face starting the core again. Before the fork they take
 * every pool's lock (held only for memory work, so briefly); after it the
 * parent lets go, and the child drops every connection it inherited without
 * a byte sent: the child must not reuse the parent's nonces, and its copy
 * of a socket must not keep the parent's sessions open. The handler only
 * closes the sockets; the child's next use of the pool frees what was idle
 * (lurk_client_free never sends) and leaves alone what a thread of the
 * parent had checked out, which that thread may have been changing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "conn.h"
#include "err.h"
#include "keyfile.h"
#include "log.h"
#include "pool.h"
#include "pool-log.h"

#define BACKOFF_MIN_MS      250
#define BACKOFF_MAX_MS      1000  /* refused, gone, closed: probing costs nothing */
#define BACKOFF_MAX_HUNG_MS 8000  /* timed out: a probe costs its caller time */
#define QUIET_LOG_MS        30000 /* at the longest step, a still-down server's line */
#define NO_SERVER           ((size_t)-1)
#define NO_KEY              1 /* connect_one: logged out (lurk errors are negative) */

/* A connection of the pool, idle or checked out; on the pool's list either way. */
struct pconn {
	struct lurk_client *c;
	size_t server;
	unsigned epoch; /* the pool's epoch when its key was copied */
	int idle;       /* in its server's idle[] (under the lock) */
	struct pconn *prev, *next;
};

struct pserver {
	struct pconn **idle;
	size_t nidle;
	size_t nconns; /* idle or checked out */
	int64_t down_until;
	int backoff_ms; /* 0: up and proven; else down until down_until, then probed */
	int probing;    /* a caller is probing it (its backoff ended) */
	int answered;   /* it completed a handshake with this key since it was set */
	int64_t logged_ms;
};

struct lc_pool {
	/* First member: tests/test-module-fork.c finds the lock at the pool's address. */
	pthread_mutex_t lock;
	pid_t pid; /* the process that owns the connections; atomic */
	const struct lc_conf *conf;
	struct pserver s[LC_MAX_SERVERS];
	size_t n;
	unsigned rr;
	uint8_t *sk;                 /* the client key: sodium_malloc, read-only but while set */
	int has_key;                 /* written under the lock, atomically: read without it */
	unsigned epoch;              /* bumped when the key changes: older connections are closed */
	unsigned long fast_failures; /* calls failed at once (every server down) since logged */
	struct pconn *conns;         /* every connection, idle or checked out */
	struct pconn *orphans;       /* what a fork left, for take_orphans */
	struct lc_pool *next_pool;   /* the fork handlers' list, under pools_lock */
};

/* Every live pool, for the fork handlers (a process normally has one). */
static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lc_pool *pools;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_failed;

int64_t
lc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Frees a list of connections (linked by next), without a byte sent. */
static void
free_list(struct pconn *list)
{
	while (list != NULL) {
		struct pconn *next = list->next;
		lurk_client_free(list->c);
		free(list);
		list = next;
	}
}

/*
 * What a fork left (see reset_in_child), now that this is ordinary code in
 * the child: the connections that were idle go onto list, for free_list; of
 * those a thread of the parent had checked out only our record is freed,
 * since that thread may have been changing them. Under the lock.
 */
static struct pconn *
take_orphans(struct lc_pool *p, struct pconn *list)
{
	struct pconn *pc, *next;

	for (pc = p->orphans; pc != NULL; pc = next) {
		next = pc->next;
		if (pc->idle) {
			pc->next = list;
			list = pc;
		} else {
			free(pc);
		}
	}
	p->orphans = NULL;
	return list;
}

/*
 * In the child, from the fork handler: no lock can be trusted, and nothing
 * but async-signal-safe calls (no heap work: the allocator of a sanitizer
 * may be locked by a thread that is gone). Every connection's socket is
 * closed and the connections set aside for take_orphans.
 */
static void
reset_in_child(struct lc_pool *p, int lock_is_ours)
{
	struct pconn *pc = p->conns, *last = NULL;

	/*
	 * From the fork handler the lock is held by this thread (fork_prepare
	 * took it): release it. Without the handlers it may be held by a thread
	 * the fork left behind: make it anew.
	 */
	if (lock_is_ours)
		pthread_mutex_unlock(&p->lock);
	else
		(void)pthread_mutex_init(&p->lock, NULL);
	for (; pc != NULL; last = pc, pc = pc->next)
		lurk_client_abandon(pc->c);
	if (last != NULL) {
		last->next = p->orphans;
		p->orphans = p->conns;
	}
	p->conns = NULL;
	for (size_t i = 0; i < p->n; i++) {
		p->s[i].nidle = 0;
		p->s[i].nconns = 0;
		p->s[i].down_until = 0;
		p->s[i].backoff_ms = 0;
		p->s[i].probing = 0;
	}
	__atomic_store_n(&p->pid, getpid(), __ATOMIC_RELEASE);
}

static void
fork_prepare(void)
{
	pthread_mutex_lock(&pools_lock);
	for (struct lc_pool *p = pools; p != NULL; p = p->next_pool)
		pthread_mutex_lock(&p->lock);
}

static void
fork_parent(void)
{
	for (struct lc_pool *p = pools; p != NULL; p = p->next_pool)
		pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&pools_lock);
}

static void
fork_child(void)
{
	/* fork_prepare's locks belong to this thread, the child's only one. */
	for (struct lc_pool *p = pools; p != NULL; p = p->next_pool)
		reset_in_child(p, 1);
	pthread_mutex_unlock(&pools_lock);
}

/* Once per load of the code (glibc drops the handlers at dlclose). */
static void
register_atfork(void)
{
	atfork_failed = pthread_atfork(fork_prepare, fork_parent, fork_child) != 0;
}

int
lc_pool_new(struct lc_pool **out, const struct lc_conf *c)
{
	struct lc_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL || pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return LURK_ERR_ALLOC;
	}
	p->pid = getpid();
	p->conf = c;
	p->n = c->nservers;
	if ((p->sk = sodium_malloc(LURK_NOISE_KEY_LEN)) == NULL) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return LURK_ERR_ALLOC;
	}
	sodium_memzero(p->sk, LURK_NOISE_KEY_LEN);
	(void)sodium_mprotect_readonly(p->sk);
	for (size_t i = 0; i < p->n; i++) {
		p->s[i].idle = calloc(c->idle_per_server ? c->idle_per_server : 1, sizeof(void *));
		if (p->s[i].idle == NULL) {
			lc_pool_free(p);
			return LURK_ERR_ALLOC;
		}
	}
	(void)pthread_once(&atfork_once, register_atfork);
	if (atfork_failed)
		lurk_warn("pthread_atfork failed: a child process must call C_Initialize before "
			  "using lurk");
	pthread_mutex_lock(&pools_lock);
	p->next_pool = pools;
	pools = p;
	pthread_mutex_unlock(&pools_lock);
	*out = p;
	return 0;
}

/*
 * The fork handlers did not run (a fork by a raw system call, or
 * pthread_atfork failed): the pid tells, and the pool is reset as the
 * child handler would have. Checked before any lock is taken.
 */
static void
check_pid(struct lc_pool *p)
{
	if (__atomic_load_n(&p->pid, __ATOMIC_ACQUIRE) != getpid())
		reset_in_child(p, 0);
}

/* Off the pool's list of connections (the caller holds the lock). */
static void
unlink_conn(struct lc_pool *p, struct pconn *pc)
{
	if (pc->prev != NULL)
		pc->prev->next = pc->next;
	else
		p->conns = pc->next;
	if (pc->next != NULL)
		pc->next->prev = pc->prev;
}

/* Takes a server's idle connections off the pool (under the lock); the caller frees them. */
static struct pconn *
take_idle(struct lc_pool *p, struct pserver *s, struct pconn *list)
{
	for (size_t i = 0; i < s->nidle; i++) {
		struct pconn *pc = s->idle[i];
		unlink_conn(p, pc);
		pc->idle = 0;
		pc->next = list;
		list = pc;
		s->nconns--;
	}
	s->nidle = 0;
	return list;
}

void
lc_pool_forget(struct lc_pool *p)
{
	struct pconn *list = NULL;

	if (p == NULL)
		return;
	check_pid(p);
	pthread_mutex_lock(&p->lock);
	list = take_orphans(p, list);
	for (size_t i = 0; i < p->n; i++) {
		list = take_idle(p, &p->s[i], list);
		p->s[i].down_until = 0;
		p->s[i].backoff_ms = 0;
		p->s[i].probing = 0;
	}
	pthread_mutex_unlock(&p->lock);
	free_list(list);
}

void
lc_pool_free(struct lc_pool *p)
{
	struct lc_pool **pp;

	if (p == NULL)
		return;
	pthread_mutex_lock(&pools_lock);
	for (pp = &pools; *pp != NULL; pp = &(*pp)->next_pool)
		if (*pp == p) {
			*pp = p->next_pool;
			break;
		}
	pthread_mutex_unlock(&pools_lock);
	free_list(take_orphans(p, p->conns));
	for (size_t i = 0; i < p->n; i++)
		free(p->s[i].idle);
	sodium_free(p->sk); /* wipes */
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int
lc_pool_set_key(struct lc_pool *p, const uint8_t *sk)
{
	struct pconn *list = NULL;
	int r = 0;

	check_pid(p);
	pthread_mutex_lock(&p->lock);
	if (sodium_mprotect_readwrite(p->sk) != 0) {
		r = LURK_ERR_ALLOC;
	} else {
		if (sk != NULL)
			memcpy(p->sk, sk, LURK_NOISE_KEY_LEN);
		else
			sodium_memzero(p->sk, LURK_NOISE_KEY_LEN);
		(void)sodium_mprotect_readonly(p->sk);
		__atomic_store_n(&p->has_key, sk != NULL, __ATOMIC_RELEASE);
		/* Connections made with the old key (or none) end: idle ones now, others at
		 * checkin. */
		p->epoch++;
		for (size_t i = 0; i < p->n; i++) {
			list = take_idle(p, &p->s[i], list);
			__atomic_store_n(&p->s[i].answered, 0, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&p->lock);
	free_list(list);
	if (r == 0 && sk != NULL)
		lurk_debug(LURK_DBG_MODULE, "client key in guarded memory at %p, read-only",
			(void *)p->sk);
	return r;
}

/*
 * Asked before every operation (C_SignInit): no lock and no getpid. A fork
 * leaves the key as it was (a child keeps it), so the answer needs neither;
 * the call that follows checks the process (check_pid in plan).
 */
int
lc_pool_has_key(struct lc_pool *p)
{
	return __atomic_load_n(&p->has_key, __ATOMIC_ACQUIRE);
}

/* Off the pool's list and freed, without a byte sent. */
static void
discard(struct lc_pool *p, struct pconn *pc)
{
	pthread_mutex_lock(&p->lock);
	unlink_conn(p, pc);
	p->s[pc->server].nconns--;
	pthread_mutex_unlock(&p->lock);
	lurk_client_free(pc->c);
	free(pc);
}

/*
 * A server failed: down for the next backoff step, its idle connections
 * closed (they went the same way: a restart). Returns 1 when the caller
 * should log it (the failure that started this step, or every QUIET_LOG_MS
 * at the longest step) with *fast the calls failed at once since the last
 * line; 0 when another caller already did.
 */
static int
mark_down(struct lc_pool *p, size_t i, int hung, unsigned long *fast)
{
	struct pserver *s = &p->s[i];
	int64_t now = lc_now_ms();
	int max = hung ? BACKOFF_MAX_HUNG_MS : BACKOFF_MAX_MS, log = 0;
	struct pconn *list;

	pthread_mutex_lock(&p->lock);
	if (s->down_until <= now) {
		int was = s->backoff_ms;
		s->backoff_ms = was == 0 ? BACKOFF_MIN_MS : (was >= max / 2 ? max : was * 2);
		s->down_until = now + s->backoff_ms;
		log = was < max || now - s->logged_ms >= QUIET_LOG_MS;
		if (log) {
			s->logged_ms = now;
			*fast = p->fast_failures;
			p->fast_failures = 0;
		}
	}
	s->probing = 0;
	list = take_idle(p, s, NULL);
	pthread_mutex_unlock(&p->lock);
	free_list(list);
	return log;
}

/* The least number of connections of a server that is up, other than skip. */
static size_t
least_loaded(const struct lc_pool *p, size_t skip, int64_t now)
{
	size_t least = (size_t)-1;

	for (size_t i = 0; i < p->n; i++)
		if (i != skip && p->s[i].backoff_ms == 0 && p->s[i].down_until <= now &&
			p->s[i].nconns < least)
			least = p->s[i].nconns;
	return least;
}

/* What a call is to use: a pooled connection, or the servers to connect to in order. */
struct pick {
	struct pconn *conn;
	size_t order[LC_MAX_SERVERS];
	size_t n;
	size_t probe; /* the server this caller claimed to probe, or NO_SERVER */
};

/*
 * Under the lock. A server whose backoff ended and that nobody probes yet
 * comes first, claimed by this caller, and no idle connection is taken (the
 * probe is how a server comes back). Otherwise, unless fresh: an idle
 * connection of a server that is up, from the one with the most. Then, for
 * a new connection: `first` (when not NO_SERVER and not down), and the
 * servers up, fewest connections first (round-robin among equals), never
 * `avoid` when another is up. No server at all: every one is down.
 */
static void
plan(struct lc_pool *p, int fresh, size_t first, size_t avoid, struct pick *pk)
{
	int64_t now = lc_now_ms();
	size_t start, from, best = NO_SERVER;

	pk->conn = NULL;
	pk->n = 0;
	pk->probe = NO_SERVER;
	check_pid(p);
	pthread_mutex_lock(&p->lock);
	start = p->rr++ % p->n;
	for (size_t k = 0; k < p->n && pk->probe == NO_SERVER; k++) {
		size_t i = (start + k) % p->n;
		struct pserver *s = &p->s[i];
		if (s->backoff_ms != 0 && s->down_until <= now && !s->probing &&
			(i != avoid || p->n == 1)) {
			s->probing = 1;
			pk->probe = i;
			pk->order[pk->n++] = i;
		}
	}
	if (pk->probe == NO_SERVER && !fresh) {
		for (size_t k = 0; k < p->n; k++) {
			size_t i = (start + k) % p->n;
			if (p->s[i].backoff_ms == 0 && p->s[i].down_until <= now &&
				p->s[i].nidle > 0 &&
				(best == NO_SERVER || p->s[i].nidle > p->s[best].nidle))
				best = i;
		}
		if (best != NO_SERVER) {
			pk->conn = p->s[best].idle[--p->s[best].nidle];
			pk->conn->idle = 0;
			pthread_mutex_unlock(&p->lock);
			return;
		}
	}
	if (first != NO_SERVER && first != pk->probe && p->s[first].down_until <= now &&
		!p->s[first].probing)
		pk->order[pk->n++] = first;
	/* The servers up, by connections then round-robin: insertion into what is there. */
	from = pk->n;
	for (size_t k = 0; k < p->n; k++) {
		size_t i = (start + k) % p->n, j;
		const struct pserver *s = &p->s[i];
		if (i == first || i == pk->probe || s->backoff_ms != 0 || s->down_until > now ||
			(i == avoid && p->n > 1))
			continue;
		for (j = pk->n; j > from && p->s[pk->order[j - 1]].nconns > s->nconns; j--)
			pk->order[j] = pk->order[j - 1];
		pk->order[j] = i;
		pk->n++;
	}
	if (pk->n == 0 && avoid != NO_SERVER && avoid < p->n && p->s[avoid].down_until <= now &&
		!p->s[avoid].probing)
		pk->order[pk->n++] = avoid; /* the only one that is up */
	if (pk->n == 0)
		p->fast_failures++;
	pthread_mutex_unlock(&p->lock);
}

/* A probe that was claimed and not made: another caller may make it. */
static void
unclaim(struct lc_pool *p, size_t i)
{
	if (i == NO_SERVER)
		return;
	pthread_mutex_lock(&p->lock);
	p->s[i].probing = 0;
	pthread_mutex_unlock(&p->lock);
}

static void
checkin(struct lc_pool *p, struct pconn *pc)
{
	struct pserver *s = &p->s[pc->server];
	int64_t now = lc_now_ms();
	size_t least;
	int keep;

	/*
	 * Outside the lock: the limits read the clock. The process is the one
	 * plan() checked at the start of this call: a fork does not take a
	 * call under way into the child (only the forking thread goes there).
	 */
	keep = !lurk_client_stale(pc->c);
	pthread_mutex_lock(&p->lock);
	s->backoff_ms = 0;
	s->down_until = 0;
	s->probing = 0;
	least = least_loaded(p, pc->server, now);
	if (keep && pc->epoch == p->epoch && s->nidle < p->conf->idle_per_server &&
		(least == (size_t)-1 || s->nconns < least + 2)) {
		pc->idle = 1;
		s->idle[s->nidle++] = pc;
		pc = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	if (pc != NULL)
		discard(p, pc);
}

/* A new connection on the pool's list; NULL and LURK_ERR_ALLOC if no memory. */
static int
adopt(struct lc_pool *p, struct lurk_client *c, size_t server, unsigned epoch, struct pconn **out)
{
	struct pconn *pc = calloc(1, sizeof(*pc));

	*out = NULL;
	if (pc == NULL) {
		lurk_client_free(c);
		unclaim(p, server);
		return LURK_ERR_ALLOC;
	}
	pc->c = c;
	pc->server = server;
	pc->epoch = epoch;
	pthread_mutex_lock(&p->lock);
	pc->next = p->conns;
	if (p->conns != NULL)
		p->conns->prev = pc;
	p->conns = pc;
	p->s[server].nconns++;
	__atomic_store_n(&p->s[server].answered, 1, __ATOMIC_RELAXED);
	p->s[server].backoff_ms = 0;
	p->s[server].down_until = 0;
	p->s[server].probing = 0;
	pthread_mutex_unlock(&p->lock);
	*out = pc;
	return 0;
}

/*
 * A new connection to the first server in pk->order that takes one, each
 * given at most connect-timeout and its share of the time left before the
 * call's deadline. NO_KEY when there is no client key (logged out).
 */
static int
connect_one(struct lc_pool *p, struct pick *pk, int64_t deadline, struct pconn **out,
	struct lurk_client_why *why)
{
	uint8_t sk[LURK_NOISE_KEY_LEN];
	struct lurk_client_cfg cfg = {.client_sk = sk, .io_timeout_ms = p->conf->io_timeout_ms};
	unsigned epoch;
	int r = LURK_ERR_TIMEOUT, have;

	*out = NULL;
	pthread_mutex_lock(&p->lock);
	have = p->has_key;
	if (have)
		memcpy(sk, p->sk, sizeof(sk));
	epoch = p->epoch;
	pthread_mutex_unlock(&p->lock);
	if (!have) {
		unclaim(p, pk->probe);
		return NO_KEY;
	}
	for (size_t k = 0; k < pk->n; k++) {
		size_t i = pk->order[k];
		const struct lc_server *sv = &p->conf->servers[i];
		int64_t left = deadline - lc_now_ms(), share;
		struct lurk_client *c;
		unsigned long fast = 0;

		if (left <= 0) {
			if (pk->probe != NO_SERVER && k == 0)
				unclaim(p, pk->probe);
			break;
		}
		share = k + 1 < pk->n ? left / (int64_t)(pk->n - k) : left;
		if (share > p->conf->connect_timeout_ms)
			share = p->conf->connect_timeout_ms;
		cfg.address = sv->address;
		cfg.server_pk = sv->pk;
		cfg.connect_timeout_ms = share > 0 ? (int)share : 1;
		if ((r = lurk_client_connect(&cfg, &c, why)) == 0) {
			r = adopt(p, c, i, epoch, out);
			break;
		}
		if (mark_down(p, i, r == LURK_ERR_TIMEOUT, &fast))
			lc_pool_log_connect_failure(p->conf, sv, sk, r, why, fast,
				__atomic_load_n(&p->s[i].answered, __ATOMIC_RELAXED));
	}
	sodium_memzero(sk, sizeof(sk));
	return r;
}

/* Why an idle connection was not used, for the log. */
static const char *
idle_reason(int r)
{
	switch (r) {
	case LURK_ERR_EOF:
		return "closed by the server";
	case LURK_ERR_SESSION_EXPIRED:
		return "at its age or message limit";
	case LURK_ERR_BAD_FORMAT:
		return "had bytes nobody asked for";
	default:
		return lurk_err_str(r);
	}
}

/*
 * An idle connection that is still good, or none (then pk holds a plan for
 * a new one). Dead ones on the way are dropped: the server closed them,
 * which says nothing against the server.
 */
static void
take_live(struct lc_pool *p, size_t avoid, struct pick *pk)
{
	int r;

	for (;;) {
		plan(p, 0, NO_SERVER, avoid, pk);
		if (pk->conn == NULL || (r = lurk_client_check_idle(pk->conn->c)) == 0)
			return;
		lurk_info("key server %s: pooled connection (session %s) %s: replaced",
			p->conf->servers[pk->conn->server].name, lurk_client_session(pk->conn->c),
			idle_reason(r));
		discard(p, pk->conn);
	}
}

int
lc_pool_call(struct lc_pool *p, lc_build_fn build, void *ctx, struct lurk_buf *resp)
{
	int64_t deadline = lc_now_ms() + p->conf->io_timeout_ms;
	struct lurk_buf req_buf, *req = &req_buf; /* on the stack: one allocation less a call */
	size_t server, first = NO_SERVER, avoid = NO_SERVER;
	struct lurk_client_why why = {0};
	struct pick pk;
	char reason[128];
	int rv = LURK_ERR_IO, r = LURK_ERR_IO, failures = 0;

	if (lurk_buf_init(req, LURK_WIRE_MAX_MSG) != 0)
		return LURK_ERR_INTERNAL;
	if (__atomic_load_n(&p->orphans, __ATOMIC_RELAXED) != NULL) {
		struct pconn *list;
		pthread_mutex_lock(&p->lock);
		list = take_orphans(p, NULL);
		pthread_mutex_unlock(&p->lock);
		free_list(list);
	}
	/*
	 * Two failures at most, each on a different server when there is
	 * another: a server that fails costs one more try elsewhere. A pooled
	 * connection that fails other than by timing out is no failure of its
	 * server (it may have closed it just as the request went out): the call
	 * is made again on a new connection to that server, once.
	 */
	for (;;) {
		struct pconn *pc;
		int pooled;
		int64_t left;
		if (first == NO_SERVER)
			take_live(p, avoid, &pk);
		else
			plan(p, 1, first, avoid, &pk);
		if (pk.conn == NULL && pk.n == 0)
			break; /* every server down: at once, no connect */
		pooled = pk.conn != NULL;
		if ((pc = pk.conn) == NULL && (r = connect_one(p, &pk, deadline, &pc, &why)) != 0)
			break;
		server = pc->server;
		lurk_buf_reset(req);
		lurk_buf_reset(resp);
		if ((r = build(ctx, req, lurk_client_next_id(pc->c))) != 0) {
			checkin(p, pc);
			rv = r == LURK_ERR_ALLOC ? LURK_ERR_ALLOC : LURK_ERR_INVALID_ARG;
			goto out;
		}
		left = deadline - lc_now_ms();
		if (failures == 0 && first == NO_SERVER && p->n > 1)
			left /= 2; /* the other half is for a replica */
		r = lurk_client_call_within(pc->c, lurk_buf_ptr(req), lurk_buf_len(req), resp,
			left > 0 ? (int)left : 1);
		if (r == 0) {
			checkin(p, pc);
			rv = 0;
			goto out;
		}
		if (pooled && r != LURK_ERR_TIMEOUT && first == NO_SERVER) {
			lurk_info("key server %s: %s on a pooled connection (session %s): "
				  "retrying on a new connection",
				p->conf->servers[server].name, lurk_err_str(r),
				lurk_client_session(pc->c));
			discard(p, pc);
			first = server;
			continue;
		}
		failures++;
		{
			unsigned long fast = 0;
			int more = failures < 2 && deadline - lc_now_ms() > 0;
			char session[24];
			snprintf(session, sizeof(session), "%s", lurk_client_session(pc->c));
			discard(p, pc);
			if (mark_down(p, server, r == LURK_ERR_TIMEOUT, &fast))
				lurk_warn("key server %s: %s (session %s)%s",
					p->conf->servers[server].name, lurk_err_str(r), session,
					more ? ", retrying" : "");
			if (!more)
				break;
		}
		first = NO_SERVER;
		avoid = server;
	}
	/*
	 * Each server's failure was logged once for its backoff step (here or
	 * by another caller); one more line per failed call would make an
	 * outage flood the consumer's log.
	 */
	if (r == LURK_ERR_ALLOC)
		rv = LURK_ERR_ALLOC;
	else if (r == NO_KEY)
		rv = LURK_ERR_NO_KEY;
	else if (pk.n > 0 || pk.conn != NULL)
		lurk_info("no key server answered: %s",
			lc_pool_short_reason(r, &why, reason, sizeof(reason)));
out:
	lurk_buf_clear(req); /* wipes */
	return rv;
}

/*
 * The two halves of a call, for a caller with requests in flight to two
 * pools at once (a split key's two servers, client/split.c). No failover
 * and no retry here: a split key's share has one server, and the caller
 * retries the whole operation once. A pooled connection found dead when
 * sending (the server closed it as the request went out) is replaced once,
 * as lc_pool_call does.
 */
int
lc_pool_send(
	struct lc_pool *p, lc_build_fn build, void *ctx, int64_t deadline, struct lc_pool_req *q)
{
	struct lurk_buf req_buf, *req = &req_buf;
	struct lurk_client_why why = {0};
	struct pick pk;
	char reason[128];
	int r = LURK_ERR_IO, fresh = 0;

	memset(q, 0, sizeof(*q));
	q->deadline = deadline;
	if (lurk_buf_init(req, LURK_WIRE_MAX_MSG) != 0)
		return LURK_ERR_INTERNAL;
	for (;;) {
		struct pconn *pc;
		if (!fresh)
			take_live(p, NO_SERVER, &pk);
		else
			plan(p, 1, NO_SERVER, NO_SERVER, &pk);
		if (pk.conn == NULL && pk.n == 0) {
			r = LURK_ERR_IO; /* down, in backoff: at once */
			break;
		}
		if ((pc = pk.conn) == NULL && (r = connect_one(p, &pk, deadline, &pc, &why)) != 0) {
			if (r == NO_KEY)
				r = LURK_ERR_NO_KEY;
			else if (r != LURK_ERR_ALLOC)
				lurk_info("no key server answered: %s",
					lc_pool_short_reason(r, &why, reason, sizeof(reason)));
			break;
		}
		lurk_buf_reset(req);
		if ((r = build(ctx, req, lurk_client_next_id(pc->c))) != 0) {
			checkin(p, pc);
			r = r == LURK_ERR_ALLOC ? LURK_ERR_ALLOC : LURK_ERR_INVALID_ARG;
			break;
		}
		r = lurk_client_send(pc->c, lurk_buf_ptr(req), lurk_buf_len(req), deadline);
		if (r == 0) {
			q->p = p;
			q->pc = pc;
			q->pooled = pk.conn != NULL;
			break;
		}
		{
			size_t server = pc->server;
			unsigned long fast = 0;
			discard(p, pc);
			if (pk.conn == NULL || fresh) {
				if (mark_down(p, server, r == LURK_ERR_TIMEOUT, &fast))
					lurk_warn("key server %s: %s",
						p->conf->servers[server].name, lurk_err_str(r));
				r = LURK_ERR_IO;
				break;
			}
		}
		fresh = 1; /* a pooled connection: once more on a new one */
	}
	lurk_buf_clear(req); /* wipes */
	return r;
}

int
lc_pool_recv(struct lc_pool_req *q, struct lurk_buf *resp)
{
	struct lc_pool *p = q->p;
	struct pconn *pc = q->pc;
	unsigned long fast = 0;
	char session[24];
	size_t server;
	int r;

	if (pc == NULL)
		return LURK_ERR_STATE;
	q->pc = NULL;
	if ((r = lurk_client_recv(pc->c, resp, q->deadline)) == 0) {
		checkin(p, pc);
		return 0;
	}
	server = pc->server;
	snprintf(session, sizeof(session), "%s", lurk_client_session(pc->c));
	discard(p, pc);
	if (q->pooled && r != LURK_ERR_TIMEOUT && r != LURK_ERR_ALLOC) {
		/* As lc_pool_call: the server may have closed it as the request went out. */
		lurk_info("key server %s: %s on a pooled connection (session %s)",
			p->conf->servers[server].name, lurk_err_str(r), session);
		return LURK_ERR_EOF;
	}
	if (mark_down(p, server, r == LURK_ERR_TIMEOUT, &fast))
		lurk_warn("key server %s: %s (session %s)", p->conf->servers[server].name,
			lurk_err_str(r), session);
	return r == LURK_ERR_ALLOC ? r : LURK_ERR_IO;
}

void
lc_pool_abandon(struct lc_pool_req *q)
{
	if (q->pc != NULL)
		discard(q->p, q->pc);
	q->pc = NULL;
}
