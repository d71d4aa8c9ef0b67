/*
 * A lurkd connection: frames in, Noise handshake, then requests served. The
 * transport endpoint (common/transport.h) turns bytes into requests and
 * responses into bytes; this file does the non-blocking I/O, the output
 * buffering, the deadlines and the frame-memory ledger around it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "acl.h"
#include "chan.h"
#include "conn.h"
#include "counts.h"
#include "err.h"
#include "frame.h"
#include "handle.h"
#include "keyfile.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "replay.h"
#include "pressure.h"
#include "refusal.h"
#include "transport.h"
#include "wire.h"

#define MAX_READS_PER_EVENT 16
#define OUT_MAX             (LURK_WIRE_MAX_MSG + 64 * 1024)
#define RESP_MAX            LURK_WIRE_MAX_MSG
/* About what a Noise session (struct lurk_chan) takes, for the memory given back. */
#define CHAN_FOOTPRINT 1024

enum conn_state {
	CONN_HANDSHAKE,
	CONN_OPEN,
	CONN_DEAD,
};

struct lurkd_conn {
	struct lurkd_conn *prev, *next;
	struct lurkd *server;
	struct lurkd_pnode pn; /* handshake queue, frame-memory ledger (pressure.h) */
	int fd;
	int out_armed; /* EPOLLOUT is in the worker's interest set */
	enum conn_state state;
	time_t born;
	time_t last_active;   /* last complete frame */
	time_t frame_started; /* first byte of the request now partial (frame or fragments) */
	int served;           /* a request has been decrypted: the handshake was live */
	uint8_t source_counted, client_counted; /* in server->per_source, per_client */
	uint8_t source_key[LURKD_SOURCE_KEY_LEN];
	char peer[80];
	struct sockaddr_storage peer_addr;
	struct lurk_chan *chan;
	struct lurk_tp tp;   /* frames in; requests and responses after the handshake */
	struct lurk_buf out; /* framed ciphertext waiting for the socket */
	uint8_t client_pk[LURK_NOISE_KEY_LEN];
	const struct lurkd_client *client; /* in cfg */
	const struct lurkd_config *cfg;    /* configuration client points into */
};

static void
describe_peer(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t out_len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	(void)len;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, out_len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, out_len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, out_len, "unix");
	}
}

struct lurkd_conn *
lurkd_conn_new(int fd, const struct sockaddr_storage *peer, socklen_t peer_len, time_t now,
	struct lurkd *server, const uint8_t *source_key)
{
	struct lurkd_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->server = server;
	c->born = now;
	c->pn.born = now;
	c->pn.peer = c->peer;
	atomic_init(&c->pn.evicted, 0);
	c->last_active = now;
	c->state = CONN_HANDSHAKE;
	describe_peer(peer, peer_len, c->peer, sizeof(c->peer));
	memcpy(&c->peer_addr, peer, sizeof(c->peer_addr));
	if (lurk_tp_init(&c->tp, LURK_MSG1_LEN) != 0) {
		free(c);
		return NULL;
	}
	if (lurk_buf_init(&c->out, OUT_MAX) != 0) {
		lurk_tp_clear(&c->tp);
		free(c);
		return NULL;
	}
	if (source_key != NULL) {
		memcpy(c->source_key, source_key, LURKD_SOURCE_KEY_LEN);
		c->source_counted = 1;
	}
	return c;
}

void
lurkd_conn_free(struct lurkd_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->server != NULL) {
		struct lurkd *s = c->server;
		if (s->pressure != NULL) {
			lurkd_pressure_release(s->pressure, &c->pn);
			lurkd_pressure_note_freed(
				s->pressure, sizeof(*c) + (c->chan != NULL ? CHAN_FOOTPRINT : 0));
		}
		if (c->source_counted)
			lurkd_counts_put(s->per_source, c->source_key);
		if (c->client_counted)
			lurkd_counts_put(s->per_client, c->client_pk);
	}
	lurk_tp_clear(&c->tp);
	lurk_chan_free(c->chan);
	lurk_buf_clear(&c->out);
	lurk_wipe(c, sizeof(*c));
	free(c);
}

int
lurkd_conn_fd(const struct lurkd_conn *c)
{
	return c->fd;
}

struct lurkd_pnode *
lurkd_conn_pnode(struct lurkd_conn *c)
{
	return &c->pn;
}

int
lurkd_conn_want_write(const struct lurkd_conn *c)
{
	return lurk_buf_len(&c->out) != 0;
}

int
lurkd_conn_swap_armed(struct lurkd_conn *c, int armed)
{
	int was = c->out_armed;

	c->out_armed = armed;
	return was;
}

/* Lines an unauthenticated peer can make lurkd write: a few per 10 s each, then a count. */
static struct lurk_log_limit unknown_clients = LURK_LOG_LIMIT_INIT("unknown client keys", 10, 5);
static struct lurk_log_limit refused_clients = LURK_LOG_LIMIT_INIT("refused clients", 10, 5);
static struct lurk_log_limit refused_handshakes = LURK_LOG_LIMIT_INIT("refused handshakes", 10, 5);
/* Junk on the port: anyone can send it, one connection after another. */
static struct lurk_log_limit bad_frames =
	LURK_LOG_LIMIT_INIT("connections closed for a bad frame", 10, 5);
static struct lurk_log_limit at_client_cap =
	LURK_LOG_LIMIT_INIT("handshakes refused at max-connections-per-client", 10, 5);
static struct lurk_log_limit frame_memory_full =
	LURK_LOG_LIMIT_INIT("connections closed to keep within frame-memory", 10, 5);

/* Allow-list hook: runs right after the client's static key is decrypted. */
static int
allow_client(void *ctx, const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	struct lurkd_conn *c = ctx;
	char fp[LURK_STATIC_KEY_FP_LEN + 1];

	c->client = lurkd_config_client(c->cfg, pk);
	if (c->client == NULL) {
		lurk_static_key_fingerprint(pk, fp);
		lurk_warn_limited(&unknown_clients,
			"unknown client key %s from %s: connection closed", fp, c->peer);
		return LURK_ERR_UNKNOWN_PEER;
	}
	if (!lurk_acl_source_ok(&c->client->acl, (const struct sockaddr *)&c->peer_addr)) {
		lurk_warn_limited(&refused_clients,
			"client %s refused from %s: source address not allowed", c->client->name,
			c->peer);
		return LURK_ERR_DENIED;
	}
	if (!lurk_acl_time_ok(&c->client->acl, (int64_t)time(NULL))) {
		lurk_warn_limited(&refused_clients,
			"client %s refused from %s: outside its validity window", c->client->name,
			c->peer);
		return LURK_ERR_DENIED;
	}
	memcpy(c->client_pk, pk, LURK_NOISE_KEY_LEN);
	return 0;
}

/* The refusal code a client is told for a msg1 we will not complete. */
static uint8_t
refusal_code(int r)
{
	switch (r) {
	case LURK_ERR_UNKNOWN_PEER:
		return LURK_REFUSAL_UNKNOWN_CLIENT;
	case LURK_ERR_DENIED:
		return LURK_REFUSAL_DENIED;
	case LURK_ERR_REPLAY:
	case LURK_ERR_STALE:
		return LURK_REFUSAL_STALE;
	case LURK_ERR_BUSY:
		return LURK_REFUSAL_BUSY;
	default:
		return LURK_REFUSAL_HANDSHAKE;
	}
}

/*
 * Tells the peer why, in one plaintext frame (refusal.h), best effort: the
 * socket is fresh, so four bytes go out at once or not at all.
 */
void
lurkd_send_refusal(int fd, uint8_t code)
{
	uint8_t msg[LURK_REFUSAL_LEN] = {LURK_REFUSAL_MARK, code};
	uint8_t frame[LURK_FRAME_HDR_LEN + LURK_REFUSAL_LEN];
	ssize_t w;

	if (lurk_frame_header(frame, sizeof(msg)) != 0)
		return;
	memcpy(frame + LURK_FRAME_HDR_LEN, msg, sizeof(msg));
	w = send(fd, frame, sizeof(frame), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
}

void
lurkd_send_busy(int fd)
{
	uint8_t drain[512];

	lurkd_send_refusal(fd, LURK_REFUSAL_BUSY);
	/*
	 * A msg1 already here, unread, would make the close a reset that
	 * discards the refusal on the client's side: read it away first (a
	 * few reads: a msg1 is 114 bytes, and a flood gets no more).
	 */
	(void)shutdown(fd, SHUT_WR);
	for (int i = 0; i < 8 && recv(fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
		;
}

void
lurkd_conn_goodbye(struct lurkd_conn *c)
{
	/* Transport frames are encrypted: only a handshake can still take a refusal. */
	if (atomic_load(&c->pn.evicted) && c->state == CONN_HANDSHAKE)
		lurkd_send_busy(c->fd);
}

/* max-connections-per-client, once the client is known: 0, or refused (BUSY). */
static int
count_client(struct lurkd_conn *c, struct lurkd_conn_env *env)
{
	unsigned n = 0;
	int r;

	if (env->server->per_client == NULL)
		return 0;
	r = lurkd_counts_take(env->server->per_client, c->client_pk, env->cfg->max_per_client, &n);
	if (r != 0) {
		lurk_warn_limited(&at_client_cap,
			"client %s refused from %s: max-connections-per-client (%u) reached",
			c->client->name, c->peer, env->cfg->max_per_client);
		lurkd_send_refusal(c->fd, LURK_REFUSAL_BUSY);
		return LURK_ERR_BUSY;
	}
	c->client_counted = 1;
	return 0;
}

/* msg1 from the endpoint: the handshake, msg2 queued, the endpoint to transport. */
static int
do_handshake(struct lurkd_conn *c, struct lurkd_conn_env *env)
{
	uint8_t msg2[LURK_MSG2_LEN];
	const uint8_t *msg;
	size_t len;
	int r;

	if ((r = lurk_tp_frame(&c->tp, &msg, &len)) != 0)
		return r;
	c->cfg = env->cfg;
	if ((r = lurk_chan_new_responder(env->cfg->sk, env->cfg->pk, lurk_replay_fresh,
		     env->server->replay, allow_client, c, &c->chan)) != 0)
		return r;
	if ((r = lurk_chan_set_limits(
		     c->chan, env->cfg->session_max_age_s, LURK_SESSION_MAX_MESSAGES)) != 0)
		return r;
	if ((r = lurk_chan_read_msg1(c->chan, msg, len)) != 0) {
		if (r == LURK_ERR_DECRYPT)
			lurk_warn_limited(&refused_handshakes,
				"handshake from %s refused: msg1 does not decrypt with this "
				"server's key (the client has a wrong public key for it?)",
				c->peer);
		else if (r != LURK_ERR_UNKNOWN_PEER && r != LURK_ERR_DENIED)
			lurk_warn_limited(&refused_handshakes, "handshake from %s refused: %s",
				c->peer, lurk_err_str(r));
		lurkd_send_refusal(c->fd, refusal_code(r));
		lurkd_metrics_handshake(r);
		return r;
	}
	if ((r = count_client(c, env)) != 0) {
		lurkd_metrics_handshake(r);
		return r;
	}
	if ((r = lurk_chan_write_msg2(c->chan, msg2)) != 0 ||
		(r = lurk_frame_put(&c->out, msg2, sizeof(msg2))) != 0)
		return r;
	if ((r = lurk_tp_start(&c->tp, c->chan)) != 0)
		return r;
	c->state = CONN_OPEN;
	lurkd_metrics_handshake(0);
	lurk_debug(LURK_DBG_SERVER, "session %s: client %s from %s", lurk_tp_session(&c->tp),
		c->client->name, c->peer);
	return 0;
}

/* A transport frame was taken (ev: LURK_TP_FRAGMENT or LURK_TP_MESSAGE): serve a whole request. */
static int
do_transport(struct lurkd_conn *c, struct lurkd_conn_env *env, int ev)
{
	struct lurkd_req_ctx ctx;
	const uint8_t *msg;
	size_t len;
	int r;

	if (!c->served) {
		/* Authenticated for good: never evicted for a newcomer from now on. */
		c->served = 1;
		if (env->server->pressure != NULL &&
			(r = lurkd_pressure_hs_done(env->server->pressure, &c->pn)) != 0) {
			lurk_tp_release(&c->tp);
			return r;
		}
	}
	if (ev == LURK_TP_FRAGMENT)
		return 0; /* more fragments to come */
	if ((r = lurk_tp_message(&c->tp, &msg, &len)) != 0)
		return r;
	ctx.server = env->server;
	ctx.cfg = c->cfg;
	ctx.client = c->client;
	ctx.session = lurk_tp_session(&c->tp);
	ctx.peer = c->peer;
	ctx.batch = env->batch;
	r = lurkd_handle_request(&ctx, msg, len, env->resp);
	lurk_tp_release(&c->tp);
	if (r != 0)
		return r;
	r = lurk_tp_seal(&c->tp, lurk_buf_ptr(env->resp), lurk_buf_len(env->resp), &c->out);
	lurk_buf_reset(env->resp);
	return r;
}

/* The log line for a failed feed: where it failed says what the peer did. */
static void
log_feed_error(struct lurkd_conn *c, int r)
{
	const char *name = c->client != NULL ? c->client->name : "?";

	switch (lurk_tp_failed_at(&c->tp)) {
	case LURK_TP_AT_DECRYPT:
		lurk_info("session %s (%s): %s: connection closed", lurk_tp_session(&c->tp), name,
			lurk_err_str(r));
		break;
	case LURK_TP_AT_FRAGMENT:
		lurk_info("session %s (%s): bad fragment: %s", lurk_tp_session(&c->tp), name,
			lurk_err_str(r));
		break;
	default:
		lurk_log_limited(&bad_frames, LURK_LOG_INFO, "lurkd_conn_readable",
			"connection from %s: bad frame: %s", c->peer, lurk_err_str(r));
		break;
	}
}

int
lurkd_conn_writable(struct lurkd_conn *c)
{
	while (lurk_buf_len(&c->out) != 0) {
		ssize_t w = send(c->fd, lurk_buf_ptr(&c->out), lurk_buf_len(&c->out),
			MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w <= 0)
			return LURK_ERR_IO;
		if (lurk_buf_consume(&c->out, (size_t)w) != 0)
			return LURK_ERR_INTERNAL;
	}
	/* Give memory back while idle: an idle connection holds no buffers. */
	lurk_buf_clear(&c->out);
	return 0;
}

/* Whether a request is partly here: a frame begun, or fragments without their last. */
static int
request_partial(const struct lurkd_conn *c)
{
	return lurk_tp_frame_partial(&c->tp) || lurk_tp_message_partial(&c->tp);
}

/*
 * Bytes c holds in a partly received request: the partial frame's buffer,
 * and the reassembly of a request in several fragments (charged at twice
 * its length: it grows by doubling). The buffer of a frame already served
 * is freed here rather than when the next byte comes, so an idle
 * connection holds none.
 */
static size_t
held_bytes(struct lurkd_conn *c)
{
	size_t frame, m;

	lurk_tp_trim(&c->tp);
	lurk_tp_pending(&c->tp, &frame, &m);
	if (m != 0)
		frame += m < LURK_WIRE_MAX_MSG / 2 ? 2 * m : LURK_WIRE_MAX_MSG;
	return frame;
}

/* After a read: what c holds goes on the frame-memory ledger (pressure.h). */
static int
settle_memory(struct lurkd_conn *c, struct lurkd_conn_env *env)
{
	struct lurkd_evicted ev;
	size_t held = held_bytes(c);
	int r;

	if (env->server->pressure == NULL)
		return 0;
	r = lurkd_pressure_charge(
		env->server->pressure, &c->pn, held, c->frame_started, env->cfg->frame_memory, &ev);
	if (ev.count != 0)
		lurk_warn_limited(&frame_memory_full,
			"frame-memory (%zu MB) full: %u connection%s closed, "
			"oldest partial request first (%s: %zu bytes, started %ld s ago)",
			env->cfg->frame_memory >> 20, ev.count, ev.count == 1 ? "" : "s", ev.peer,
			ev.bytes, (long)(env->now - ev.fm_started));
	if (r != 0)
		c->state = CONN_DEAD;
	return r;
}

int
lurkd_conn_readable(struct lurkd_conn *c, struct lurkd_conn_env *env)
{
	uint8_t *in = env->scratch;
	size_t in_cap = LURKD_SCRATCH_AREA;
	int r;

	if (c->state == CONN_DEAD || atomic_load(&c->pn.evicted))
		return LURK_ERR_STATE;
	for (int i = 0; i < MAX_READS_PER_EVENT; i++) {
		ssize_t n = recv(c->fd, in, in_cap, MSG_DONTWAIT);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return LURK_ERR_IO;
		if (n == 0)
			return LURK_ERR_EOF;
		while (off < (size_t)n) {
			size_t used = 0;
			if (!request_partial(c))
				c->frame_started = env->now;
			r = lurk_tp_feed(&c->tp, in + off, (size_t)n - off, &used);
			off += used;
			if (r < 0) {
				log_feed_error(c, r);
				c->state = CONN_DEAD;
				return r;
			}
			if (r == LURK_TP_NEED_MORE)
				continue;
			c->last_active = env->now;
			r = c->state == CONN_HANDSHAKE ? do_handshake(c, env)
						       : do_transport(c, env, r);
			if (r != 0) {
				c->state = CONN_DEAD;
				return r;
			}
		}
		if ((size_t)n < in_cap)
			break;
	}
	return settle_memory(c, env);
}

/* Whether c's client may keep this connection under cfg; NULL and a log line if not. */
static const struct lurkd_client *
still_allowed(struct lurkd_conn *c, struct lurkd_config *cfg)
{
	const struct lurkd_client *cl = lurkd_config_client(cfg, c->client_pk);

	if (cl == NULL) {
		lurk_info("session %s: client removed from the configuration: connection closed",
			lurk_tp_session(&c->tp));
		return NULL;
	}
	if (!lurk_acl_source_ok(&cl->acl, (const struct sockaddr *)&c->peer_addr)) {
		lurk_info("session %s: client %s from %s: source no longer allowed: connection "
			  "closed",
			lurk_tp_session(&c->tp), cl->name, c->peer);
		return NULL;
	}
	if (!lurk_acl_time_ok(&cl->acl, (int64_t)time(NULL))) {
		lurk_info("session %s: client %s outside its new validity window: connection "
			  "closed",
			lurk_tp_session(&c->tp), cl->name);
		return NULL;
	}
	return cl;
}

int
lurkd_conn_revalidate(struct lurkd_conn *c, struct lurkd_config *cfg)
{
	if (c->state != CONN_OPEN) {
		/* Handshakes in progress finish against the configuration they began with. */
		return 0;
	}
	if ((c->client = still_allowed(c, cfg)) == NULL) {
		c->state = CONN_DEAD;
		return LURK_ERR_CLOSED;
	}
	c->cfg = cfg;
	return 0;
}

int
lurkd_conn_dead(const struct lurkd_conn *c)
{
	return c->state == CONN_DEAD || atomic_load(&c->pn.evicted);
}

int
lurkd_conn_check_time(struct lurkd_conn *c, time_t now, const struct lurkd_config *cfg)
{
	if (atomic_load(&c->pn.evicted))
		return LURK_ERR_BUSY;
	if (c->state == CONN_HANDSHAKE && now - c->born > (time_t)cfg->handshake_timeout_s)
		return LURK_ERR_TIMEOUT;
	if (c->state != CONN_OPEN)
		return 0;
	if (!c->served && now - c->born > (time_t)cfg->handshake_timeout_s) {
		/* A replayed msg1 completes a handshake nobody can use: it gets no more time. */
		lurk_debug(LURK_DBG_SERVER, "session %s: no request after the handshake",
			lurk_tp_session(&c->tp));
		return LURK_ERR_TIMEOUT;
	}
	if (request_partial(c) && now - c->frame_started > (time_t)cfg->frame_timeout_s) {
		lurk_info("session %s (%s): a %s stalled for %u s: connection closed",
			lurk_tp_session(&c->tp), c->client != NULL ? c->client->name : "?",
			lurk_tp_frame_partial(&c->tp) ? "frame" : "request's fragments",
			cfg->frame_timeout_s);
		return LURK_ERR_TIMEOUT;
	}
	if (now - c->last_active > (time_t)cfg->idle_timeout_s) {
		lurk_debug(LURK_DBG_SERVER, "session %s: idle for %u s", lurk_tp_session(&c->tp),
			cfg->idle_timeout_s);
		return LURK_ERR_TIMEOUT;
	}
	if (lurk_chan_check_limits(c->chan) != 0) {
		lurk_debug(LURK_DBG_SERVER, "session %s: limits reached", lurk_tp_session(&c->tp));
		return LURK_ERR_SESSION_EXPIRED;
	}
	return 0;
}

struct lurkd_conn *
lurkd_conn_next(const struct lurkd_conn *c)
{
	return c->next;
}

void
lurkd_conn_link(struct lurkd_conn **head, struct lurkd_conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head != NULL)
		(*head)->prev = c;
	*head = c;
}

void
lurkd_conn_unlink(struct lurkd_conn **head, struct lurkd_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}
