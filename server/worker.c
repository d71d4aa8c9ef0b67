/*
 * The event-loop workers of lurkd. Each worker owns an epoll set with every
 * listening socket (EPOLLEXCLUSIVE, so one worker wakes per new connection)
 * and its connections, and serves their requests inline. A worker that
 * accepts a connection while another has fewer hands it over (once, at
 * accept; requests are never handed between threads), so a few busy clients
 * are not left on one core.
 */
#include "config.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "conn.h"
#include "counts.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "pressure.h"
#include "server.h"

#define MAX_EVENTS       256
#define DRAIN_DEADLINE_S 10
#define HANDOFF_MAX      256
/* Memory freed since the last malloc_trim that makes worker 0 call it again. */
#define TRIM_AFTER ((size_t)8 << 20)

struct lurkd_worker {
	struct lurkd *server;
	pthread_t thread;
	int epfd;
	int wakefd;
	unsigned index;
	struct lurkd_conn *conns;
	size_t nconns;
	struct lurkd_config *cfg;
	uint64_t gen;
	uint8_t *scratch;
	struct lurk_buf *resp;
	struct lurkd_audit_batch batch;         /* audit records of this pass */
	struct lurkd_conn *touched[MAX_EVENTS]; /* connections with responses of this pass */
	uint8_t holds_result[MAX_EVENTS];       /* ... one of them a key operation's result */
	size_t ntouched;
	atomic_size_t load;         /* connections owned or on their way here */
	time_t accept_paused_until; /* out of descriptors: listeners off until then */
	pthread_mutex_t hlock;
	struct lurkd_conn *handoff[HANDOFF_MAX];
	size_t nhandoff;
	atomic_int sweep; /* a connection here was marked to close (evicted, revoked) */
	size_t freed;     /* worker 0: bytes freed since its last malloc_trim */
};

/* epoll data: listening sockets and the wake fd are tagged by small integers. */
#define TAG_WAKE   ((uint64_t)1)
#define TAG_LISTEN ((uint64_t)2) /* + index */

static int
tag_is_conn(uint64_t tag)
{
	return tag > TAG_LISTEN + LURKD_MAX_LISTEN;
}

static void
close_conn(struct lurkd_worker *w, struct lurkd_conn *c)
{
	lurkd_conn_goodbye(c);
	(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, lurkd_conn_fd(c), NULL);
	lurkd_conn_unlink(&w->conns, c);
	lurkd_conn_free(c);
	w->nconns--;
	atomic_fetch_sub(&w->load, 1);
	atomic_fetch_sub(&w->server->connections, 1);
}

/* Takes a connection into this worker's epoll set and list. */
static void
adopt(struct lurkd_worker *w, struct lurkd_conn *c)
{
	struct epoll_event ev = {0};

	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = (uint64_t)(uintptr_t)c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, lurkd_conn_fd(c), &ev) != 0) {
		lurkd_conn_free(c);
		atomic_fetch_sub(&w->load, 1);
		atomic_fetch_sub(&w->server->connections, 1);
		return;
	}
	lurkd_conn_link(&w->conns, c);
	w->nconns++;
	/* Evicted while on its way here (pressure.h): the sweep that was due may have passed. */
	if (lurkd_conn_dead(c))
		close_conn(w, c);
}

/* The worker with the fewest connections (this one on a tie). */
static struct lurkd_worker *
least_loaded(struct lurkd_worker *w)
{
	struct lurkd *s = w->server;
	unsigned n = __atomic_load_n(&s->nworkers, __ATOMIC_ACQUIRE);
	struct lurkd_worker *best = w;
	size_t best_load = atomic_load(&w->load);

	for (unsigned i = 0; i < n; i++) {
		size_t l = atomic_load(&s->workers[i]->load);
		if (l < best_load) {
			best = s->workers[i];
			best_load = l;
		}
	}
	return best;
}

/* Gives c to worker t, which adopts it when woken; -1 if its queue is full. */
static int
hand_over(struct lurkd_worker *t, struct lurkd_conn *c)
{
	uint64_t one = 1;
	ssize_t wr;

	pthread_mutex_lock(&t->hlock);
	if (t->nhandoff == HANDOFF_MAX) {
		pthread_mutex_unlock(&t->hlock);
		return -1;
	}
	t->handoff[t->nhandoff++] = c;
	atomic_fetch_add(&t->load, 1);
	pthread_mutex_unlock(&t->hlock);
	wr = write(t->wakefd, &one, sizeof(one));
	(void)wr;
	return 0;
}

static void
adopt_handed(struct lurkd_worker *w)
{
	struct lurkd_conn *got[HANDOFF_MAX];
	size_t n;

	pthread_mutex_lock(&w->hlock);
	n = w->nhandoff;
	memcpy(got, w->handoff, n * sizeof(got[0]));
	w->nhandoff = 0;
	pthread_mutex_unlock(&w->hlock);
	for (size_t i = 0; i < n; i++)
		adopt(w, got[i]);
}

/*
 * EPOLLOUT only while a response waits for the socket; the interest set is
 * changed only when that changes (most responses are written at once, so a
 * request costs epoll_wait, recv and send, and no epoll_ctl).
 */
static void
update_interest(struct lurkd_worker *w, struct lurkd_conn *c)
{
	struct epoll_event ev = {0};
	int want = lurkd_conn_want_write(c);

	if (lurkd_conn_swap_armed(c, want) == want)
		return;
	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.u64 = (uint64_t)(uintptr_t)c;
	(void)epoll_ctl(w->epfd, EPOLL_CTL_MOD, lurkd_conn_fd(c), &ev);
}

static void
stop_listening(struct lurkd_worker *w)
{
	for (size_t i = 0; i < w->server->nlisten; i++)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->server->listen_fds[i], NULL);
}

/* Puts the listening sockets back into this worker's epoll set after a pause. */
static void
resume_listening(struct lurkd_worker *w)
{
	struct epoll_event ev = {0};

	for (size_t i = 0; i < w->server->nlisten; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.u64 = TAG_LISTEN + i;
		(void)epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->server->listen_fds[i], &ev);
	}
	w->accept_paused_until = 0;
}

static struct lurk_log_limit out_of_fds =
	LURK_LOG_LIMIT_INIT("accept failures for want of descriptors", 10, 1);

static struct lurk_log_limit at_max =
	LURK_LOG_LIMIT_INIT("connections refused at max-connections", 10, 5);
static struct lurk_log_limit at_source_cap =
	LURK_LOG_LIMIT_INIT("connections refused at max-connections-per-source", 10, 5);
static struct lurk_log_limit evictions = LURK_LOG_LIMIT_INIT(
	"unauthenticated connections closed for new ones at max-connections", 10, 5);

/*
 * Whether a new connection may stay: its source is under
 * max-connections-per-source, and lurkd under max-connections, or at it
 * with a connection still in its handshake to give up its place (the
 * oldest: pressure.h). 0 and the connection counted (lurkd's total, its
 * source's under key), or -1: refuse it.
 */
static int
admit(struct lurkd_worker *w, int fd, const struct sockaddr_storage *peer,
	uint8_t key[LURKD_SOURCE_KEY_LEN])
{
	struct lurkd *s = w->server;
	unsigned limit = w->cfg->max_connections, n, count;
	char src[INET6_ADDRSTRLEN + 8];
	struct lurkd_evicted ev;

	if (s->fd_budget < limit)
		limit = s->fd_budget;
	lurkd_source_key(fd, peer, key, src, sizeof(src));
	if (lurkd_counts_take(s->per_source, key, w->cfg->max_per_source, &count) != 0) {
		lurk_warn_limited(&at_source_cap,
			"connection from %s refused: max-connections-per-source (%u) reached", src,
			w->cfg->max_per_source);
		lurkd_metrics_connection(LURKD_MCONN_MAX_PER_SOURCE);
		return -1;
	}
	n = atomic_fetch_add(&s->connections, 1) + 1;
	if (n <= limit)
		return 0;
	/* Each newcomer past the limit evicts one; the slack covers those still closing. */
	if (n <= limit + LURKD_EVICT_SLACK && lurkd_pressure_evict_oldest(s->pressure, &ev)) {
		lurk_warn_limited(&evictions,
			"max-connections (%u) reached: closed the oldest connection still in its "
			"handshake (%s, %ld s old) for one from %s",
			limit, ev.peer, (long)(time(NULL) - ev.born), src);
		return 0;
	}
	atomic_fetch_sub(&s->connections, 1);
	lurkd_counts_put(s->per_source, key);
	lurkd_metrics_connection(LURKD_MCONN_MAX_CONNECTIONS);
	lurk_warn_limited(&at_max, "connection refused: max-connections (%u) reached%s",
		w->cfg->max_connections,
		n <= limit + LURKD_EVICT_SLACK ? ", every connection authenticated" : "");
	return -1;
}

static void
accept_all(struct lurkd_worker *w, int lfd)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		uint8_t key[LURKD_SOURCE_KEY_LEN];
		struct lurkd_worker *target;
		struct lurkd_pnode *pn;
		struct lurkd_conn *c;
		int fd, one = 1;

		fd = accept4(
			lfd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
				errno == ENOMEM) {
				/*
				 * The pending connection stays queued and the listener stays
				 * readable: without a pause this loop would spin.
				 */
				lurk_warn_limited(&out_of_fds,
					"accept: %s (%u connections open): not accepting for 1 s",
					strerror(errno), atomic_load(&w->server->connections));
				stop_listening(w);
				w->accept_paused_until = time(NULL) + 1;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				lurk_debug(LURK_DBG_SERVER, "accept: %s", strerror(errno));
			}
			return;
		}
		if (admit(w, fd, &peer, key) != 0) {
			lurkd_send_busy(fd);
			close(fd);
			continue;
		}
		lurkd_metrics_connection(LURKD_MCONN_ACCEPTED);
		if (peer.ss_family == AF_INET || peer.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = lurkd_conn_new(fd, &peer, peer_len, time(NULL), w->server, key)) == NULL) {
			close(fd);
			atomic_fetch_sub(&w->server->connections, 1);
			lurkd_counts_put(w->server->per_source, key);
			continue;
		}
		/* In the handshake queue before another thread can see it. */
		target = least_loaded(w);
		pn = lurkd_conn_pnode(c);
		pn->owner = target;
		lurkd_pressure_hs_add(w->server->pressure, pn);
		if (target != w && hand_over(target, c) == 0)
			continue;
		if (target != w)
			lurkd_pressure_set_owner(w->server->pressure, pn, w);
		atomic_fetch_add(&w->load, 1);
		adopt(w, c);
	}
}

/*
 * A new configuration: each connection is checked against its client's new
 * entry (still there, source, validity window). This runs before the pass's
 * events are served, so a revoked client's next request is not answered; a
 * refused connection is only marked here (the pass's events may name it)
 * and closed by sweep_dead().
 */
static void
refresh_config(struct lurkd_worker *w)
{
	uint64_t gen = atomic_load(&w->server->generation);

	if (gen == w->gen)
		return;
	lurkd_config_unref(w->cfg);
	w->cfg = lurkd_config_current(w->server);
	w->gen = w->cfg->generation;
	for (struct lurkd_conn *c = w->conns; c != NULL; c = lurkd_conn_next(c))
		if (lurkd_conn_revalidate(c, w->cfg) != 0) {
			lurk_debug(LURK_DBG_SERVER, "worker %u: a connection is closed", w->index);
			atomic_store(&w->sweep, 1);
		}
}

/* pressure.c evicted one of w's connections: w closes it at the end of its next pass. */
static void
wake_to_sweep(struct lurkd_worker *w)
{
	uint64_t one = 1;
	ssize_t wr;

	atomic_store(&w->sweep, 1);
	wr = write(w->wakefd, &one, sizeof(one));
	(void)wr;
}

static void
sweep_dead(struct lurkd_worker *w)
{
	struct lurkd_conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = lurkd_conn_next(c);
		if (lurkd_conn_dead(c))
			close_conn(w, c);
	}
}

/*
 * Worker 0, once a second: after many connections or partial requests
 * went, give the freed memory back to the system. glibc keeps freed blocks
 * in its arenas (one per thread), so without this a flood's peak stays in
 * lurkd's RSS long after the flood.
 */
static void
give_back_memory(struct lurkd_worker *w)
{
	w->freed += lurkd_pressure_take_freed(w->server->pressure);
	if (w->freed < TRIM_AFTER)
		return;
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
	lurk_debug(LURK_DBG_SERVER, "%zu MB freed: memory given back", w->freed >> 20);
	w->freed = 0;
}

static void
check_times(struct lurkd_worker *w, time_t now)
{
	struct lurkd_conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = lurkd_conn_next(c);
		if (lurkd_conn_check_time(c, now, w->cfg) != 0)
			close_conn(w, c);
	}
}

/*
 * Group commit: the pass's audit records are written, then its responses go
 * out. If the records cannot be written, no result of a key operation goes
 * out: those connections are closed (the clients retry and are then refused
 * with the reason, see handle.c).
 */
static void
commit_and_flush(struct lurkd_worker *w)
{
	int failed = lurkd_audit_commit(w->server->audit, &w->batch) != 0;

	for (size_t i = 0; i < w->ntouched; i++) {
		struct lurkd_conn *c = w->touched[i];
		if ((failed && w->holds_result[i]) || lurkd_conn_writable(c) != 0)
			close_conn(w, c);
		else
			update_interest(w, c);
	}
	w->ntouched = 0;
}

static void *
worker_main(void *arg)
{
	struct lurkd_worker *w = arg;
	struct epoll_event events[MAX_EVENTS];
	struct lurkd_conn_env env;
	time_t last_tick = time(NULL), drain_until = 0;
	int draining = 0;

	w->cfg = lurkd_config_current(w->server);
	w->gen = w->cfg->generation;
	for (;;) {
		int n = epoll_wait(w->epfd, events, MAX_EVENTS, 1000);
		time_t now = time(NULL);

		if (n < 0 && errno != EINTR) {
			lurk_error("epoll_wait: %s", strerror(errno));
			break;
		}
		refresh_config(w);
		env.server = w->server;
		env.cfg = w->cfg;
		env.scratch = w->scratch;
		env.scratch_len = LURKD_SCRATCH_LEN;
		env.resp = w->resp;
		env.batch = &w->batch;
		env.now = now;
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;
			if (tag == TAG_WAKE) {
				uint64_t v;
				ssize_t rd = read(w->wakefd, &v, sizeof(v));
				(void)rd;
				adopt_handed(w);
				continue;
			}
			if (!tag_is_conn(tag)) {
				if (!draining)
					accept_all(w, w->server->listen_fds[tag - TAG_LISTEN]);
				continue;
			}
			struct lurkd_conn *c = (struct lurkd_conn *)(uintptr_t)tag;
			uint32_t e = events[i].events;
			unsigned allowed = w->batch.allowed;
			int r = 0;
			if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				r = lurkd_conn_readable(c, &env);
			if (r != 0) {
				close_conn(w, c);
				continue;
			}
			/* Each connection comes once per pass: flushed after the commit. */
			w->holds_result[w->ntouched] = w->batch.allowed != allowed;
			w->touched[w->ntouched++] = c;
		}
		commit_and_flush(w);
		/* Walking every connection is for passes that marked some. */
		if (atomic_exchange(&w->sweep, 0))
			sweep_dead(w);
		if (now != last_tick) {
			check_times(w, now);
			last_tick = now;
			if (w->index == 0) {
				lurk_log_limits_tick(); /* counts of repeated lines held back */
				give_back_memory(w);
			}
			if (w->accept_paused_until != 0 && now >= w->accept_paused_until &&
				!draining)
				resume_listening(w);
		}
		if (atomic_load(&w->server->stopping)) {
			struct lurkd_conn *c, *next;
			if (!draining) {
				draining = 1;
				drain_until = now + DRAIN_DEADLINE_S;
				stop_listening(w);
			}
			/* Requests already read have been answered; close once flushed. */
			for (c = w->conns; c != NULL; c = next) {
				next = lurkd_conn_next(c);
				if (!lurkd_conn_want_write(c) || now >= drain_until)
					close_conn(w, c);
			}
			if (w->conns == NULL)
				break;
		}
	}
	while (w->conns != NULL)
		close_conn(w, w->conns);
	lurkd_config_unref(w->cfg);
	w->cfg = NULL;
	return NULL;
}

static void
worker_free(struct lurkd_worker *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nhandoff; i++)
		lurkd_conn_free(w->handoff[i]);
	pthread_mutex_destroy(&w->hlock);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	lurk_freezero(w->scratch, LURKD_SCRATCH_LEN);
	lurk_buf_free(w->resp);
	lurkd_audit_batch_free(&w->batch);
	free(w);
}

static int
worker_new(struct lurkd *s, unsigned index, struct lurkd_worker **out)
{
	struct lurkd_worker *w;
	struct epoll_event ev = {0};

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return LURK_ERR_ALLOC;
	w->server = s;
	w->index = index;
	pthread_mutex_init(&w->hlock, NULL);
	atomic_init(&w->sweep, 0);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->scratch = malloc(LURKD_SCRATCH_LEN);
	w->resp = lurk_buf_new(LURK_WIRE_MAX_MSG);
	if (w->epfd < 0 || w->wakefd < 0 || w->scratch == NULL || w->resp == NULL)
		goto fail;
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_WAKE;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) != 0)
		goto fail;
	for (size_t i = 0; i < s->nlisten; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.u64 = TAG_LISTEN + i;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->listen_fds[i], &ev) != 0)
			goto fail;
	}
	*out = w;
	return 0;
fail:
	lurk_error("worker %u: %s", index, strerror(errno));
	worker_free(w);
	return LURK_ERR_SYSTEM;
}

/*
 * The shared tables, sized by the connections lurkd can hold at once: an
 * entry per open connection at most, whatever the sources.
 */
static int
tables_new(struct lurkd *s)
{
	size_t most = (size_t)s->fd_budget + LURKD_EVICT_SLACK;
	int r;

	if ((r = lurkd_counts_new(LURKD_SOURCE_KEY_LEN, most, &s->per_source)) != 0 ||
		(r = lurkd_counts_new(LURK_NOISE_KEY_LEN, most, &s->per_client)) != 0 ||
		(r = lurkd_pressure_new(wake_to_sweep, &s->pressure)) != 0)
		return r;
	return 0;
}

int
lurkd_workers_start(struct lurkd *s, unsigned n)
{
	int r;

	if ((r = tables_new(s)) != 0)
		return r;
	if ((s->workers = calloc(n, sizeof(*s->workers))) == NULL)
		return LURK_ERR_ALLOC;
	for (unsigned i = 0; i < n; i++) {
		if ((r = worker_new(s, i, &s->workers[i])) != 0)
			return r;
		if (pthread_create(&s->workers[i]->thread, NULL, worker_main, s->workers[i]) != 0) {
			worker_free(s->workers[i]);
			s->workers[i] = NULL;
			return LURK_ERR_SYSTEM;
		}
		__atomic_store_n(&s->nworkers, s->nworkers + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

void
lurkd_workers_wake(struct lurkd *s)
{
	uint64_t one = 1;

	for (unsigned i = 0; i < s->nworkers; i++) {
		ssize_t w = write(s->workers[i]->wakefd, &one, sizeof(one));
		(void)w;
	}
}

void
lurkd_workers_join(struct lurkd *s)
{
	/* All of them first: a running worker may still wake another (pressure.h). */
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i]->thread, NULL);
	for (unsigned i = 0; i < s->nworkers; i++)
		worker_free(s->workers[i]);
	free(s->workers);
	s->workers = NULL;
	s->nworkers = 0;
	lurkd_pressure_free(s->pressure);
	s->pressure = NULL;
	lurkd_counts_free(s->per_source);
	s->per_source = NULL;
	lurkd_counts_free(s->per_client);
	s->per_client = NULL;
}
