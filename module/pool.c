/*
 * Connections to the key servers. A call checks a connection out, makes one
 * round trip on it with no lock held, and checks it back in; so concurrent
 * callers each have their own connection and never wait on one another's
 * network time. New connections are spread round-robin over the servers that
 * are up; a server that fails is put in backoff (doubling from 250 ms to
 * 8 s) and the others are used meanwhile. When every server is in backoff
 * the one that went down first is tried anyway, so a restart costs at most a
 * reconnect and a dead server gives an error within the timeout, never a hang.
 *
 * Pooled connections die with no one watching: lurkd closes a session at its
 * session-max-age (which may be far under ours) or idle-timeout, on a reload
 * that drops the client, when it restarts. So an idle connection is checked
 * before it is used (one poll that does not wait: lurkd sends nothing
 * unasked, so anything readable means it closed) and replaced if dead; and
 * a call that fails on a pooled connection, which the server may have closed
 * just as the request went out, is made again on a new connection to the
 * same server. Neither is a server failure: only a failure on a new
 * connection puts a server in backoff.
 *
 * Fork: handlers registered with pthread_atfork keep the pool usable in a
 * child without C_Initialize. Before the fork they take every pool's lock
 * (held only for memory work, so briefly); after it the parent lets go, and
 * the child makes fresh locks and drops every connection it inherited
 * without a byte sent: the child must not reuse the parent's nonces, and its
 * copy of a socket must not keep the parent's sessions open. The handler
 * only closes the sockets; the child's next use of the pool frees what was
 * idle (lurk_client_free never sends) and leaves alone what a thread of the
 * parent had checked out, which that thread may have been changing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "client.h"
#include "err.h"
#include "keyfile.h"
#include "log.h"
#include "module.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
#define NO_SERVER      ((size_t)-1)

/* A connection of the pool, idle or checked out; on the pool's list either way. */
struct pconn {
	struct lurk_client *c;
	size_t server;
	int idle; /* in its server's idle[] (under the lock) */
	struct pconn *prev, *next;
};

struct pserver {
	struct pconn **idle;
	size_t nidle;
	int64_t down_until;
	int backoff_ms;
};

struct lp_pool {
	/* First member: tests/test-module-fork.c finds the lock at the pool's address. */
	pthread_mutex_t lock;
	pid_t pid; /* the process that owns the connections; atomic */
	const struct lp_conf *conf;
	struct pserver s[LP_MAX_SERVERS];
	size_t n;
	unsigned rr;
	struct pconn *conns;       /* every connection, idle or checked out */
	struct pconn *orphans;     /* what a fork left, for take_orphans */
	struct lp_pool *next_pool; /* the fork handlers' list, under pools_lock */
};

/* Every live pool, for the fork handlers (a module normally has one). */
static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lp_pool *pools;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_failed;

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
take_orphans(struct lp_pool *p, struct pconn *list)
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
reset_in_child(struct lp_pool *p, int lock_is_ours)
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
		p->s[i].down_until = 0;
		p->s[i].backoff_ms = 0;
	}
	__atomic_store_n(&p->pid, getpid(), __ATOMIC_RELEASE);
}

static void
fork_prepare(void)
{
	pthread_mutex_lock(&pools_lock);
	for (struct lp_pool *p = pools; p != NULL; p = p->next_pool)
		pthread_mutex_lock(&p->lock);
}

static void
fork_parent(void)
{
	for (struct lp_pool *p = pools; p != NULL; p = p->next_pool)
		pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&pools_lock);
}

static void
fork_child(void)
{
	/* fork_prepare's locks belong to this thread, the child's only one. */
	for (struct lp_pool *p = pools; p != NULL; p = p->next_pool)
		reset_in_child(p, 1);
	pthread_mutex_unlock(&pools_lock);
}

/* Once per load of the module (glibc drops the handlers at dlclose). */
static void
register_atfork(void)
{
	atfork_failed = pthread_atfork(fork_prepare, fork_parent, fork_child) != 0;
}

int
lp_pool_new(struct lp_pool **out, const struct lp_conf *c)
{
	struct lp_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL || pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return LURK_ERR_ALLOC;
	}
	p->pid = getpid();
	p->conf = c;
	p->n = c->nservers;
	for (size_t i = 0; i < p->n; i++) {
		p->s[i].idle = calloc(c->idle_per_server ? c->idle_per_server : 1, sizeof(void *));
		if (p->s[i].idle == NULL) {
			lp_pool_free(p);
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
check_pid(struct lp_pool *p)
{
	if (__atomic_load_n(&p->pid, __ATOMIC_ACQUIRE) != getpid())
		reset_in_child(p, 0);
}

/* Takes a server's idle connections off the pool (under the lock); the caller frees them. */
static struct pconn *
take_idle(struct lp_pool *p, struct pserver *s, struct pconn *list)
{
	for (size_t i = 0; i < s->nidle; i++) {
		struct pconn *pc = s->idle[i];
		if (pc->prev != NULL)
			pc->prev->next = pc->next;
		else
			p->conns = pc->next;
		if (pc->next != NULL)
			pc->next->prev = pc->prev;
		pc->idle = 0;
		pc->next = list;
		list = pc;
	}
	s->nidle = 0;
	return list;
}

void
lp_pool_forget(struct lp_pool *p)
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
	}
	pthread_mutex_unlock(&p->lock);
	free_list(list);
}

void
lp_pool_free(struct lp_pool *p)
{
	struct lp_pool **pp;

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
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Off the pool's list and freed, without a byte sent. */
static void
discard(struct lp_pool *p, struct pconn *pc)
{
	pthread_mutex_lock(&p->lock);
	if (pc->prev != NULL)
		pc->prev->next = pc->next;
	else
		p->conns = pc->next;
	if (pc->next != NULL)
		pc->next->prev = pc->prev;
	pthread_mutex_unlock(&p->lock);
	lurk_client_free(pc->c);
	free(pc);
}

static void
mark_down(struct lp_pool *p, size_t i)
{
	struct pserver *s = &p->s[i];
	struct pconn *list;

	pthread_mutex_lock(&p->lock);
	s->backoff_ms = s->backoff_ms == 0
				? BACKOFF_MIN_MS
				: (s->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS
								       : s->backoff_ms * 2);
	s->down_until = lp_now_ms() + s->backoff_ms;
	/* Its other connections went the same way (a restart): do not try them one by one. */
	list = take_idle(p, s, NULL);
	pthread_mutex_unlock(&p->lock);
	free_list(list);
}

/*
 * Servers in the order to try: first, when not NO_SERVER; then those up,
 * round-robin; then those in backoff, soonest back first. Takes an idle
 * connection when one of the servers up has one (and fresh is 0). Returns
 * how many servers are in order[].
 */
static size_t
plan(struct lp_pool *p, int fresh, size_t first, size_t avoid, size_t *order, struct pconn **conn)
{
	int64_t now = lp_now_ms();
	size_t n = 0, start;

	*conn = NULL;
	check_pid(p);
	pthread_mutex_lock(&p->lock);
	if (first != NO_SERVER)
		order[n++] = first;
	start = p->rr++ % p->n;
	for (size_t k = 0; k < p->n; k++) {
		size_t i = (start + k) % p->n;
		if (i == first || p->s[i].down_until > now || (i == avoid && p->n > 1))
			continue;
		if (!fresh && *conn == NULL && p->s[i].nidle > 0) {
			*conn = p->s[i].idle[--p->s[i].nidle];
			(*conn)->idle = 0;
		}
		order[n++] = i;
	}
	/* Then the rest, soonest back first (insertion into what is left). */
	for (size_t k = 0; k < p->n; k++) {
		size_t i = (start + k) % p->n, j;
		int placed = 0;
		for (j = 0; j < n; j++)
			if (order[j] == i)
				placed = 1;
		if (placed)
			continue;
		for (j = n; j > 0 && p->s[order[j - 1]].down_until > p->s[i].down_until &&
			    p->s[order[j - 1]].down_until > now && order[j - 1] != first;
			j--)
			order[j] = order[j - 1];
		order[j] = i;
		n++;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void
checkin(struct lp_pool *p, struct pconn *pc)
{
	struct pserver *s = &p->s[pc->server];
	int keep;

	/* Outside the lock: the limits read the clock. */
	keep = !lurk_client_stale(pc->c);
	pthread_mutex_lock(&p->lock);
	if (keep && __atomic_load_n(&p->pid, __ATOMIC_ACQUIRE) == getpid() &&
		s->nidle < p->conf->idle_per_server) {
		pc->idle = 1;
		s->idle[s->nidle++] = pc;
		pc = NULL;
	}
	s->backoff_ms = 0;
	s->down_until = 0;
	pthread_mutex_unlock(&p->lock);
	if (pc != NULL)
		discard(p, pc);
}

/* A new connection on the pool's list; NULL and LURK_ERR_ALLOC if no memory. */
static int
adopt(struct lp_pool *p, struct lurk_client *c, size_t server, struct pconn **out)
{
	struct pconn *pc = calloc(1, sizeof(*pc));

	*out = NULL;
	if (pc == NULL) {
		lurk_client_free(c);
		return LURK_ERR_ALLOC;
	}
	pc->c = c;
	pc->server = server;
	pthread_mutex_lock(&p->lock);
	pc->next = p->conns;
	if (p->conns != NULL)
		p->conns->prev = pc;
	p->conns = pc;
	pthread_mutex_unlock(&p->lock);
	*out = pc;
	return 0;
}

/* A short reason for a failed connect: the errno's text when there is one. */
static const char *
short_reason(int r, const struct lurk_client_why *why, char *buf, size_t len)
{
	if (r != LURK_ERR_IO || why->sys_errno == 0)
		return lurk_err_str(r);
	switch (why->sys_errno) {
	case ECONNREFUSED:
		return "connection refused";
	case ENOENT:
		return "no such socket";
	case EACCES:
	case EPERM:
		return "permission denied";
	case ECONNRESET:
	case EPIPE:
		return "connection reset";
	default:
		/* GNU strerror_r (config.h defines _GNU_SOURCE): thread-safe. */
		return strerror_r(why->sys_errno, buf, len);
	}
}

/*
 * One warning for a server that gave no connection, saying what to fix: the
 * errno of the connect, or the refusal lurkd sent instead of msg2 (its own
 * log says the same from its side, with the same client key fingerprint).
 */
static void
log_connect_failure(const struct lp_conf *conf, const struct lp_server *sv, int r,
	const struct lurk_client_why *why)
{
	uint8_t pk[LURK_KEY_LEN];
	char fp[LURK_KEY_FINGERPRINT_LEN + 1] = "unknown", b64[LURK_KEY_B64_LEN + 1] = "";
	char buf[128];
	int closed = r == LURK_ERR_EOF ||
		     (r == LURK_ERR_IO && why->in_handshake &&
			     (why->sys_errno == ECONNRESET || why->sys_errno == EPIPE));

	if (lurk_key_public(conf->client_sk, pk) == 0) {
		lurk_key_fingerprint(pk, fp);
		lurk_key_b64_encode(pk, b64);
	}
	if (r == LURK_ERR_IO && !why->in_handshake && why->sys_errno == ECONNREFUSED)
		lurk_warn("key server %s (%s): connection refused: is lurkd running?", sv->name,
			sv->address);
	else if (r == LURK_ERR_IO && !why->in_handshake && why->sys_errno == ENOENT)
		lurk_warn("key server %s (%s): no such socket: is lurkd running?", sv->name,
			sv->address);
	else if (r == LURK_ERR_IO && !why->in_handshake &&
		 (why->sys_errno == EACCES || why->sys_errno == EPERM))
		lurk_warn("key server %s (%s): permission denied: this user may not use lurkd's "
			  "socket (see socket-mode in lurkd.conf)",
			sv->name, sv->address);
	else if (r == LURK_ERR_SERVER_KEY)
		lurk_warn("the key server at %s did not accept our handshake: check public-key "
			  "for server %s in %s",
			sv->address, sv->name, conf->path);
	else if (r == LURK_ERR_UNKNOWN_PEER)
		lurk_warn("the key server at %s refused this client key (fingerprint %s): add it "
			  "to lurkd.conf as a [client] with public-key = %s",
			sv->address, fp, b64);
	else if (r == LURK_ERR_DENIED)
		lurk_warn("the key server at %s refused this client now (source address or "
			  "validity window): see lurkd's log",
			sv->address);
	else if (r == LURK_ERR_STALE)
		lurk_warn("the key server at %s refused our handshake as replayed or out of its "
			  "time window: check both machines' clocks",
			sv->address);
	else if (r == LURK_ERR_BUSY)
		lurk_warn("the key server at %s is at max-connections: try again later or raise "
			  "max-connections in lurkd.conf",
			sv->address);
	else if (closed)
		/* A lurkd without refusal frames closes without saying why. */
		lurk_warn("the key server at %s closed the connection during the handshake: check "
			  "public-key for server %s in %s, and that lurkd.conf has this client "
			  "key (fingerprint %s)",
			sv->address, sv->name, conf->path, fp);
	else if (r == LURK_ERR_TIMEOUT && !why->in_handshake && why->sys_errno == EAGAIN)
		lurk_warn("key server %s (%s): its listen queue stayed full for connect-timeout "
			  "(%d ms): lurkd is overloaded or not accepting connections",
			sv->name, sv->address, conf->connect_timeout_ms);
	else if (r == LURK_ERR_TIMEOUT)
		lurk_warn("key server %s (%s): no answer within connect-timeout (%d ms)", sv->name,
			sv->address, conf->connect_timeout_ms);
	else if (r == LURK_ERR_CONFIG)
		lurk_warn("key server %s (%s): the host name does not resolve", sv->name,
			sv->address);
	else
		lurk_warn("key server %s (%s): %s", sv->name, sv->address,
			short_reason(r, why, buf, sizeof(buf)));
	sodium_memzero(pk, sizeof(pk));
}

/* A new connection to the first server in order that takes one within the budget. */
static int
connect_one(struct lp_pool *p, const size_t *order, size_t n, struct pconn **out,
	struct lurk_client_why *why)
{
	int64_t deadline = lp_now_ms() + p->conf->connect_timeout_ms;
	int r = LURK_ERR_IO;

	*out = NULL;
	for (size_t k = 0; k < n; k++) {
		const struct lp_server *sv = &p->conf->servers[order[k]];
		int64_t left = deadline - lp_now_ms();
		struct lurk_client_cfg cfg = {
			.address = sv->address,
			.server_pk = sv->pk,
			.client_sk = p->conf->client_sk,
			.connect_timeout_ms = left > 0 ? (int)left : 1,
			.io_timeout_ms = p->conf->io_timeout_ms,
		};
		struct lurk_client *c;
		if (left <= 0)
			break;
		if ((r = lurk_client_connect(&cfg, &c, why)) == 0)
			return adopt(p, c, order[k], out);
		log_connect_failure(p->conf, sv, r, why);
		mark_down(p, order[k]);
	}
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
 * An idle connection that is still good, or NULL (then *n and order[] are
 * those of a plan for a new one). Dead ones on the way are dropped: the
 * server closed them, which says nothing against the server.
 */
static struct pconn *
take_live(struct lp_pool *p, size_t *order, size_t *n)
{
	struct pconn *pc;
	int r;

	for (;;) {
		*n = plan(p, 0, NO_SERVER, NO_SERVER, order, &pc);
		if (pc == NULL || (r = lurk_client_check_idle(pc->c)) == 0)
			return pc;
		lurk_info("key server %s: pooled connection (session %s) %s: replaced",
			p->conf->servers[pc->server].name, lurk_client_session(pc->c),
			idle_reason(r));
		discard(p, pc);
	}
}

CK_RV
lp_pool_call(struct lp_pool *p, lp_build_fn build, void *ctx, struct lurk_buf *resp)
{
	struct lurk_buf *req = lurk_buf_new(LURK_WIRE_MAX_MSG);
	size_t order[LP_MAX_SERVERS], n, server, first = NO_SERVER, avoid = NO_SERVER;
	struct lurk_client_why why = {0};
	struct pconn *pc;
	char buf[128];
	CK_RV rv = CKR_DEVICE_ERROR;
	int r = LURK_ERR_IO, failures = 0;

	if (req == NULL)
		return CKR_HOST_MEMORY;
	if (__atomic_load_n(&p->orphans, __ATOMIC_RELAXED) != NULL) {
		struct pconn *list;
		pthread_mutex_lock(&p->lock);
		list = take_orphans(p, NULL);
		pthread_mutex_unlock(&p->lock);
		free_list(list);
	}
	/*
	 * Two failures at most: a server that fails on a new connection costs
	 * one more try on another (a new connection again). A pooled connection
	 * that fails is no failure of its server (it may have closed it just as
	 * the request went out): the call is made again on a new connection to
	 * that server, once; a timeout is not, the server was there and silent.
	 */
	for (;;) {
		int pooled;
		if (first == NO_SERVER && avoid == NO_SERVER)
			pc = take_live(p, order, &n);
		else
			n = plan(p, 1, first, avoid, order, &pc);
		pooled = pc != NULL;
		if (pc == NULL && (r = connect_one(p, order, n, &pc, &why)) != 0)
			break;
		server = pc->server;
		lurk_buf_reset(req);
		lurk_buf_reset(resp);
		if ((r = build(ctx, req, lurk_client_next_id(pc->c))) != 0) {
			checkin(p, pc);
			rv = r == LURK_ERR_ALLOC ? CKR_HOST_MEMORY : CKR_ARGUMENTS_BAD;
			goto out;
		}
		r = lurk_client_call(pc->c, lurk_buf_ptr(req), lurk_buf_len(req), resp);
		if (r == 0) {
			checkin(p, pc);
			rv = CKR_OK;
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
		lurk_warn("key server %s: %s (session %s)%s", p->conf->servers[server].name,
			lurk_err_str(r), lurk_client_session(pc->c),
			failures < 2 ? ", retrying" : "");
		discard(p, pc);
		mark_down(p, server);
		if (failures == 2)
			break;
		first = NO_SERVER;
		avoid = server;
	}
	if (r == LURK_ERR_ALLOC)
		rv = CKR_HOST_MEMORY;
	else
		lurk_error("no key server answered: %s", short_reason(r, &why, buf, sizeof(buf)));
out:
	lurk_buf_free(req);
	return rv;
}
