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
 * Fork: the pool remembers its pid. In a child every inherited connection is
 * dropped without a byte sent (the child must not reuse the parent's nonces;
 * lurk_client_free never sends).
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

struct pserver {
	struct lurk_client **idle;
	size_t nidle;
	int64_t down_until;
	int backoff_ms;
};

struct lp_pool {
	pthread_mutex_t lock;
	pid_t pid;
	const struct lp_conf *conf;
	struct pserver s[LP_MAX_SERVERS];
	size_t n;
	unsigned rr;
};

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
	*out = p;
	return 0;
}

static void
drop_idle(struct pserver *s)
{
	for (size_t i = 0; i < s->nidle; i++)
		lurk_client_free(s->idle[i]);
	s->nidle = 0;
}

void
lp_pool_forget(struct lp_pool *p)
{
	if (p == NULL)
		return;
	/* After fork the lock may have been held by a thread that is not here. */
	(void)pthread_mutex_init(&p->lock, NULL);
	for (size_t i = 0; i < p->n; i++) {
		drop_idle(&p->s[i]);
		p->s[i].down_until = 0;
		p->s[i].backoff_ms = 0;
	}
	p->pid = getpid();
}

void
lp_pool_free(struct lp_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		drop_idle(&p->s[i]);
		free(p->s[i].idle);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void
mark_down(struct lp_pool *p, size_t i)
{
	struct pserver *s = &p->s[i];

	pthread_mutex_lock(&p->lock);
	s->backoff_ms = s->backoff_ms == 0
				? BACKOFF_MIN_MS
				: (s->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS
								       : s->backoff_ms * 2);
	s->down_until = lp_now_ms() + s->backoff_ms;
	/* Its other connections went the same way (a restart): do not try them one by one. */
	drop_idle(s);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Servers in the order to try: those up, round-robin, then those in backoff,
 * soonest back first. Takes an idle connection when one of the servers up
 * has one (and fresh is 0). Returns how many servers are in order[].
 */
static size_t
plan(struct lp_pool *p, int fresh, size_t avoid, size_t *order, struct lurk_client **conn,
	size_t *conn_server)
{
	int64_t now = lp_now_ms();
	size_t n = 0, start;

	*conn = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->pid != getpid()) {
		pthread_mutex_unlock(&p->lock);
		lp_pool_forget(p);
		pthread_mutex_lock(&p->lock);
	}
	start = p->rr++ % p->n;
	for (size_t k = 0; k < p->n; k++) {
		size_t i = (start + k) % p->n;
		if (p->s[i].down_until > now || (i == avoid && p->n > 1))
			continue;
		if (!fresh && *conn == NULL && p->s[i].nidle > 0) {
			*conn = p->s[i].idle[--p->s[i].nidle];
			*conn_server = i;
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
			    p->s[order[j - 1]].down_until > now;
			j--)
			order[j] = order[j - 1];
		order[j] = i;
		n++;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void
checkin(struct lp_pool *p, size_t i, struct lurk_client *c)
{
	struct pserver *s = &p->s[i];

	pthread_mutex_lock(&p->lock);
	if (p->pid == getpid() && !lurk_client_stale(c) && s->nidle < p->conf->idle_per_server) {
		s->idle[s->nidle++] = c;
		c = NULL;
	}
	s->backoff_ms = 0;
	s->down_until = 0;
	pthread_mutex_unlock(&p->lock);
	lurk_client_free(c);
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
connect_one(struct lp_pool *p, const size_t *order, size_t n, struct lurk_client **out,
	size_t *server, struct lurk_client_why *why)
{
	int64_t deadline = lp_now_ms() + p->conf->connect_timeout_ms;
	int r = LURK_ERR_IO;

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
		if (left <= 0)
			break;
		if ((r = lurk_client_connect(&cfg, out, why)) == 0) {
			*server = order[k];
			return 0;
		}
		log_connect_failure(p->conf, sv, r, why);
		mark_down(p, order[k]);
	}
	return r;
}

CK_RV
lp_pool_call(struct lp_pool *p, lp_build_fn build, void *ctx, struct lurk_buf *resp)
{
	struct lurk_buf *req = lurk_buf_new(LURK_WIRE_MAX_MSG);
	size_t order[LP_MAX_SERVERS], n, server = 0, failed = (size_t)-1;
	struct lurk_client_why why = {0};
	struct lurk_client *c;
	char buf[128];
	CK_RV rv = CKR_DEVICE_ERROR;
	int r = LURK_ERR_IO;

	if (req == NULL)
		return CKR_HOST_MEMORY;
	/* Two tries: a dropped connection costs one retry on a fresh one. */
	for (int attempt = 0; attempt < 2; attempt++) {
		n = plan(p, attempt > 0, failed, order, &c, &server);
		if (c == NULL && (r = connect_one(p, order, n, &c, &server, &why)) != 0)
			break;
		lurk_buf_reset(req);
		lurk_buf_reset(resp);
		if ((r = build(ctx, req, lurk_client_next_id(c))) != 0) {
			checkin(p, server, c);
			rv = r == LURK_ERR_ALLOC ? CKR_HOST_MEMORY : CKR_ARGUMENTS_BAD;
			goto out;
		}
		if ((r = lurk_client_call(c, lurk_buf_ptr(req), lurk_buf_len(req), resp)) == 0) {
			checkin(p, server, c);
			rv = CKR_OK;
			goto out;
		}
		lurk_warn("key server %s: %s (session %s)%s", p->conf->servers[server].name,
			lurk_err_str(r), lurk_client_session(c), attempt == 0 ? ", retrying" : "");
		lurk_client_free(c);
		mark_down(p, server);
		failed = server;
	}
	lurk_error("no key server answered: %s", short_reason(r, &why, buf, sizeof(buf)));
out:
	lurk_buf_free(req);
	return rv;
}
