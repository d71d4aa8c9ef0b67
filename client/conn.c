#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "chan.h"
#include "conn.h"
#include "err.h"
#include "frame.h"
#include "log.h"
#include "mem.h"
#include "pool.h" /* lc_now_ms: one clock for the core */
#include "refusal.h"
#include "transport.h"
#include "wire.h"

struct lurk_client {
	int fd;
	pid_t pid;
	int dead;
	int io_timeout_ms;
	int sys_errno; /* errno of the last failed socket call */
	uint32_t next_id;
	uint32_t want_id; /* the id of the request sent, for lurk_client_recv */
	struct lurk_chan *chan;
	struct lurk_tp tp;   /* frames, and after the handshake messages (transport.h) */
	struct lurk_buf out; /* bytes for the socket */
	uint8_t in[16384];
	size_t in_off, in_len;
};

/* The grammar is common/addr.c's, shared with lurkd; this copies the parts out. */
int
lurk_client_parse_address(
	const char *a, int *is_unix, char *host, size_t host_len, char *port, size_t port_len)
{
	struct lurk_addr ad;

	if (lurk_addr_parse(a, &ad) != 0 ||
		lurk_addr_copy(host, host_len, ad.host, ad.host_len) != 0)
		return LURK_ERR_CONFIG;
	if (ad.kind == LURK_ADDR_UNIX) {
		if (port_len > 0)
			port[0] = '\0';
	} else if (lurk_addr_copy(port, port_len, ad.port, ad.port_len) != 0) {
		return LURK_ERR_CONFIG;
	}
	*is_unix = ad.kind == LURK_ADDR_UNIX;
	return 0;
}

/* The pending error of a socket (SO_ERROR), or dflt when it has none. */
static int
socket_error(int fd, int dflt)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0 || e == 0)
		return dflt;
	return e;
}

/* Whether fd has something to read now (bytes, or the end of stream). */
static int
readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/*
 * Waits for fd to be ready for `events` until the deadline; *err gets the
 * errno of a failure. What poll reports besides readiness counts, so the
 * caller never loops on a socket that will not work: POLLNVAL, POLLERR (the
 * socket's own error in *err) and POLLHUP (even with POLLOUT, as an
 * unconnected socket has) are failures, unless there is something to read.
 * That comes first: the caller's next call meets the closed or failed
 * socket and its recv gets the bytes (a refusal lurkd sent before closing),
 * then the error or the end of stream.
 */
static int
wait_fd(int fd, short events, int64_t deadline, int *err)
{
	for (;;) {
		int64_t left = deadline - lc_now_ms();
		struct pollfd pfd = {.fd = fd, .events = events};
		int n;

		if (left <= 0)
			return LURK_ERR_TIMEOUT;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errno;
			return LURK_ERR_IO;
		}
		if (n == 0)
			continue;
		if (pfd.revents & POLLNVAL) {
			*err = EBADF;
			return LURK_ERR_IO;
		}
		if ((pfd.revents & (POLLERR | POLLHUP)) && !readable(fd)) {
			*err = socket_error(fd, (pfd.revents & POLLERR) ? EIO : EPIPE);
			return LURK_ERR_IO;
		}
		return 0;
	}
}

/* Sleeps ms milliseconds, or until the deadline if that comes first. */
static void
nap(int ms, int64_t deadline)
{
	int64_t left = deadline - lc_now_ms();
	struct timespec ts;

	if (left < ms)
		ms = left > 0 ? (int)left : 0;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * A unix connect. EAGAIN is not "in progress" (a unix connect completes or
 * fails at once): the server's listen queue is full, because lurkd is
 * overloaded or not accepting. The connect is tried again after a pause
 * (5 ms, doubling to 100 ms) until the deadline, which then gives
 * LURK_ERR_TIMEOUT with *err = EAGAIN.
 */
static int
connect_unix(int fd, const struct sockaddr_un *sa, int64_t deadline, int *err)
{
	int pause_ms = 5;

	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS)
			return 0; /* not on Linux; the handshake waits until writable */
		if (errno != EAGAIN) {
			*err = errno;
			return LURK_ERR_IO;
		}
		if (deadline - lc_now_ms() <= 0) {
			*err = EAGAIN;
			return LURK_ERR_TIMEOUT;
		}
		nap(pause_ms, deadline);
		pause_ms = pause_ms >= 50 ? 100 : pause_ms * 2;
	}
}

/* *err gets the errno of the call that failed (for TCP, of the last address tried). */
static int
open_socket(const char *address, int64_t deadline, int *out, int *err)
{
	char host[256], port[16];
	struct addrinfo hints, *ai = NULL, *p;
	int is_unix = 0, fd = -1, r = LURK_ERR_IO, one = 1;

	*out = -1;
	if ((r = lurk_client_parse_address(
		     address, &is_unix, host, sizeof(host), port, sizeof(port))) != 0)
		return r;
	if (is_unix) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		memcpy(sa.sun_path, host, strlen(host) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			*err = errno;
			return LURK_ERR_IO;
		}
		if ((r = connect_unix(fd, &sa, deadline, err)) != 0) {
			close(fd);
			return r;
		}
		*out = fd;
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return LURK_ERR_CONFIG;
	r = LURK_ERR_IO;
	for (p = ai; p != NULL; p = p->ai_next) {
		int so_err = 0;
		socklen_t elen = sizeof(so_err);

		fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			*err = errno;
			continue;
		}
		if (connect(fd, p->ai_addr, p->ai_addrlen) != 0) {
			if (errno != EINPROGRESS)
				*err = errno;
			if (errno != EINPROGRESS ||
				(r = wait_fd(fd, POLLOUT, deadline, err)) != 0 ||
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &elen) != 0 ||
				so_err != 0) {
				if (so_err != 0)
					*err = so_err;
				if (r == 0)
					r = LURK_ERR_IO;
				close(fd);
				fd = -1;
				if (r == LURK_ERR_TIMEOUT)
					break;
				continue;
			}
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		r = 0;
		break;
	}
	freeaddrinfo(ai);
	if (r == 0)
		*out = fd;
	return r;
}

static int
send_all(struct lurk_client *c, const uint8_t *p, size_t len, int64_t deadline)
{
	size_t off = 0;
	int r;

	while (off < len) {
		ssize_t w = send(c->fd, p + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN)) {
			if ((r = wait_fd(c->fd, POLLOUT, deadline, &c->sys_errno)) != 0)
				return r;
			continue;
		}
		if (w <= 0) {
			c->sys_errno = w < 0 ? errno : 0;
			return LURK_ERR_IO;
		}
		off += (size_t)w;
	}
	return 0;
}

/*
 * Reads and feeds the endpoint until it has something whole: during the
 * handshake a frame, then a message. Returns the lurk_tp_event. With
 * wait_first (a request just went out) the first read waits for the socket
 * first: lurkd's answer is never there yet, and a read that finds nothing
 * costs a system call before the poll anyway.
 */
static int
pump(struct lurk_client *c, int64_t deadline, int wait_first)
{
	int r;

	for (;;) {
		if (c->in_off < c->in_len) {
			size_t used = 0;
			r = lurk_tp_feed(&c->tp, c->in + c->in_off, c->in_len - c->in_off, &used);
			c->in_off += used;
			if (r < 0)
				return r;
			if (r == LURK_TP_FRAME || r == LURK_TP_MESSAGE)
				return r;
			if (r == LURK_TP_FRAGMENT)
				continue; /* the message goes on */
		}
		if (wait_first) {
			wait_first = 0;
			if ((r = wait_fd(c->fd, POLLIN, deadline, &c->sys_errno)) != 0)
				return r;
		}
		ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = wait_fd(c->fd, POLLIN, deadline, &c->sys_errno)) != 0)
				return r;
			continue;
		}
		if (n < 0) {
			c->sys_errno = errno;
			return LURK_ERR_IO;
		}
		if (n == 0)
			return LURK_ERR_EOF;
		c->in_off = 0;
		c->in_len = (size_t)n;
	}
}

/* The next handshake frame, borrowed until the next read. */
static int
read_frame(struct lurk_client *c, const uint8_t **frame, size_t *len, int64_t deadline)
{
	int r;

	if ((r = pump(c, deadline, 0)) < 0)
		return r;
	return lurk_tp_frame(&c->tp, frame, len);
}

/*
 * Whether a frame is lurkd's refusal (refusal.h) instead of msg2; if so
 * *refusal gets its code and *r its error (an unknown code reads as a
 * refused handshake).
 */
static int
is_refusal(const uint8_t *frame, size_t len, int *refusal, int *r)
{
	if (len != LURK_REFUSAL_LEN || frame[0] != LURK_REFUSAL_MARK)
		return 0;
	*refusal = frame[1];
	switch (frame[1]) {
	case LURK_REFUSAL_UNKNOWN_CLIENT:
		*r = LURK_ERR_UNKNOWN_PEER;
		break;
	case LURK_REFUSAL_DENIED:
		*r = LURK_ERR_DENIED;
		break;
	case LURK_REFUSAL_STALE:
		*r = LURK_ERR_STALE;
		break;
	case LURK_REFUSAL_BUSY:
		*r = LURK_ERR_BUSY;
		break;
	default:
		*r = LURK_ERR_SERVER_KEY;
		break;
	}
	return 1;
}

static int
handshake(struct lurk_client *c, int64_t deadline, int *refusal)
{
	uint8_t msg1[LURK_MSG1_LEN];
	const uint8_t *frame;
	size_t len;
	int r;

	/* A unix connect may still be completing: wait until writable. */
	if ((r = wait_fd(c->fd, POLLOUT, deadline, &c->sys_errno)) != 0)
		return r;
	if ((r = lurk_chan_write_msg1(c->chan, msg1)) != 0 ||
		(r = lurk_frame_put(&c->out, msg1, sizeof(msg1))) != 0)
		return r;
	r = send_all(c, lurk_buf_ptr(&c->out), lurk_buf_len(&c->out), deadline);
	lurk_buf_reset(&c->out);
	/*
	 * A lurkd at max-connections refuses at accept and closes before msg1
	 * arrives: the send then fails with the refusal already here to read.
	 * The peer is gone, so the read ends at once.
	 */
	if (r == LURK_ERR_IO && (c->sys_errno == EPIPE || c->sys_errno == ECONNRESET)) {
		int saved = c->sys_errno;
		if (read_frame(c, &frame, &len, deadline) == 0 &&
			is_refusal(frame, len, refusal, &r))
			return r;
		c->sys_errno = saved;
		return r;
	}
	if (r != 0)
		return r;
	if ((r = read_frame(c, &frame, &len, deadline)) != 0)
		return r;
	/* Not msg2 but lurkd saying why it will not go on (it closes next). */
	if (is_refusal(frame, len, refusal, &r))
		return r;
	if ((r = lurk_chan_read_msg2(c->chan, frame, len)) != 0)
		return r;
	return lurk_tp_start(&c->tp, c->chan);
}

int
lurk_client_connect(
	const struct lurk_client_cfg *cfg, struct lurk_client **out, struct lurk_client_why *why)
{
	struct lurk_client_why ignored;
	struct lurk_client *c;
	int64_t deadline =
		lc_now_ms() + (cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000);
	int r;

	*out = NULL;
	if (why == NULL)
		why = &ignored;
	memset(why, 0, sizeof(*why));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LURK_ERR_ALLOC;
	c->fd = -1;
	c->pid = getpid();
	c->io_timeout_ms = cfg->io_timeout_ms > 0 ? cfg->io_timeout_ms : 5000;
	c->next_id = 1;
	if ((r = lurk_tp_init(&c->tp, LURK_MSG2_LEN)) != 0 ||
		(r = lurk_buf_init(&c->out, LURK_WIRE_MAX_MSG + 64 * 1024)) != 0)
		goto out;
	if ((r = lurk_chan_new_initiator(cfg->client_sk, cfg->server_pk, &c->chan)) != 0 ||
		(r = lurk_chan_set_limits(
			 c->chan, LURK_CLIENT_MAX_AGE_S, LURK_SESSION_MAX_MESSAGES)) != 0)
		goto out;
	if ((r = open_socket(cfg->address, deadline, &c->fd, &why->sys_errno)) != 0)
		goto out;
	why->in_handshake = 1;
	if ((r = handshake(c, deadline, &why->refusal)) != 0) {
		why->sys_errno = c->sys_errno;
		goto out;
	}
	memset(why, 0, sizeof(*why));
	*out = c;
	c = NULL;
out:
	lurk_client_free(c);
	return r;
}

int
lurk_client_call(struct lurk_client *c, const uint8_t *req, size_t req_len, struct lurk_buf *resp)
{
	return lurk_client_call_within(c, req, req_len, resp, c->io_timeout_ms);
}

int
lurk_client_send(struct lurk_client *c, const uint8_t *req, size_t req_len, int64_t deadline)
{
	struct lurk_wire_hdr want;
	struct lurk_buf view;
	int r;

	if (c->pid != getpid() || c->dead)
		return LURK_ERR_STATE;
	lurk_buf_view(&view, req, req_len);
	if ((r = lurk_wire_header_peek(&view, &want)) != 0)
		return r;
	c->want_id = want.id;
	lurk_buf_reset(&c->out);
	if ((r = lurk_tp_seal(&c->tp, req, req_len, &c->out)) == 0)
		r = send_all(c, lurk_buf_ptr(&c->out), lurk_buf_len(&c->out), deadline);
	lurk_buf_reset(&c->out);
	if (r != 0)
		c->dead = 1;
	return r;
}

int
lurk_client_recv(struct lurk_client *c, struct lurk_buf *resp, int64_t deadline)
{
	struct lurk_wire_hdr got;
	struct lurk_buf view;
	const uint8_t *msg;
	size_t len;
	int r;

	if (c->pid != getpid() || c->dead)
		return LURK_ERR_STATE;
	if ((r = pump(c, deadline, 1)) < 0 || (r = lurk_tp_message(&c->tp, &msg, &len)) != 0)
		goto out;
	lurk_buf_view(&view, msg, len);
	if ((r = lurk_wire_header_peek(&view, &got)) != 0)
		goto out;
	if (got.id != c->want_id) {
		r = LURK_ERR_BAD_FORMAT;
		goto out;
	}
	lurk_buf_reset(resp);
	r = lurk_buf_put_bytes(resp, msg, len);
out:
	/* The response, or what came of it, may be a secret (a decrypt response). */
	lurk_tp_release(&c->tp);
	if (r != 0)
		c->dead = 1;
	return r;
}

int
lurk_client_call_within(struct lurk_client *c, const uint8_t *req, size_t req_len,
	struct lurk_buf *resp, int timeout_ms)
{
	int64_t deadline = lc_now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	int r;

	if ((r = lurk_client_send(c, req, req_len, deadline)) != 0)
		return r;
	return lurk_client_recv(c, resp, deadline);
}

int
lurk_client_stale(struct lurk_client *c)
{
	if (c->dead)
		return 1;
	return lurk_chan_check_limits(c->chan) != 0;
}

int
lurk_client_check_idle(struct lurk_client *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
	int n;

	if (c->dead)
		return LURK_ERR_STATE;
	if (lurk_chan_check_limits(c->chan) != 0)
		return LURK_ERR_SESSION_EXPIRED;
	if (c->in_off < c->in_len)
		return LURK_ERR_BAD_FORMAT;
	while ((n = poll(&pfd, 1, 0)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	c->dead = 1;
	/* Bytes before the end of stream are junk too, but the end is what happened. */
	if (n < 0 || (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
		return LURK_ERR_EOF;
	return LURK_ERR_BAD_FORMAT;
}

uint32_t
lurk_client_next_id(struct lurk_client *c)
{
	return c->next_id++;
}

const char *
lurk_client_session(const struct lurk_client *c)
{
	return lurk_tp_session(&c->tp);
}

int
lurk_client_fd(const struct lurk_client *c)
{
	return c->fd;
}

void
lurk_client_free(struct lurk_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	lurk_tp_clear(&c->tp);
	lurk_chan_free(c->chan);
	lurk_buf_clear(&c->out);
	lurk_wipe(c, sizeof(*c));
	free(c);
}

void
lurk_client_abandon(struct lurk_client *c)
{
	if (c != NULL && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}
