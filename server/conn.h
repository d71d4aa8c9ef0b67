/*
 * One client connection of lurkd: the Noise handshake, then requests.
 *
 * Input goes to the connection's transport endpoint (common/transport.h),
 * whose frame buffer grows only as far as a partial frame needs (so idle
 * connections stay small); complete requests are served inline by the
 * worker that owns the connection.
 */
#ifndef LURKD_CONN_H
#define LURKD_CONN_H

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "compiler.h"
#include "lurk-limits.h"
#include "server.h"

struct lurkd_conn;
struct lurkd_pnode;

/*
 * Per-worker scratch: the socket input area. Nothing else is needed: the
 * transport endpoint decrypts each frame in its own buffer and seals
 * responses straight into the connection's output.
 */
#define LURKD_SCRATCH_AREA (LURK_NOISE_MAX_MSG + 17)
#define LURKD_SCRATCH_LEN  LURKD_SCRATCH_AREA

struct lurkd_conn_env {
	struct lurkd *server;
	struct lurkd_config *cfg; /* the worker's current configuration */
	uint8_t *scratch;         /* LURKD_SCRATCH_LEN bytes */
	size_t scratch_len;
	struct lurk_buf *resp;           /* the worker's response buffer */
	struct lurkd_audit_batch *batch; /* the worker's audit records of this pass */
	time_t now;                      /* this pass's time */
};

/*
 * A connection of server's. source_key (counts.h), if not NULL, has been
 * counted in server->per_source for it: the count goes when it is freed.
 */
struct lurkd_conn *lurkd_conn_new(int fd, const struct sockaddr_storage *peer, socklen_t peer_len,
	time_t now, struct lurkd *server, const uint8_t *source_key);
/* Closes and frees c: off the shared lists, its counts given back. */
void lurkd_conn_free(struct lurkd_conn *c);
int lurkd_conn_fd(const struct lurkd_conn *c);
/* Its place in the handshake queue and the frame-memory ledger (pressure.h). */
struct lurkd_pnode *lurkd_conn_pnode(struct lurkd_conn *c);
/* Before closing: a connection evicted during its handshake is told BUSY (refusal.h). */
void lurkd_conn_goodbye(struct lurkd_conn *c);

/*
 * Reads what is there and serves it; responses wait in the connection until
 * lurkd_conn_writable() (after the pass's audit batch is written). What is
 * left of a partly received request then goes on the frame-memory ledger,
 * which may evict others (pressure.h). A negative return means: close it.
 */
int lurkd_conn_readable(struct lurkd_conn *c, struct lurkd_conn_env *env) LURK_MUST_CHECK;
/* Flushes pending output. A negative return means: close it. */
int lurkd_conn_writable(struct lurkd_conn *c) LURK_MUST_CHECK;
/* Whether output is waiting for the socket. */
int lurkd_conn_want_write(const struct lurkd_conn *c);
/* Records whether EPOLLOUT is armed for c; returns what it was. */
int lurkd_conn_swap_armed(struct lurkd_conn *c, int armed);
/*
 * After a reload: keeps the connection only if its client is still configured
 * and still allowed (source address, validity window), looking its keys up
 * again. Otherwise marks it dead (lurkd_conn_dead) and returns negative.
 */
int lurkd_conn_revalidate(struct lurkd_conn *c, struct lurkd_config *cfg) LURK_MUST_CHECK;
/* 1 once the connection is to be closed (revoked, or evicted by another). */
int lurkd_conn_dead(const struct lurkd_conn *c);
/*
 * 0 while within its deadlines, else negative: the handshake and the first
 * request within the handshake timeout (a replayed msg1 gets no more), a
 * started request (frame or fragments) completed within frame-timeout, a request at least every
 * idle-timeout, the session's age and message limits.
 */
int lurkd_conn_check_time(
	struct lurkd_conn *c, time_t now, const struct lurkd_config *cfg) LURK_MUST_CHECK;

/* Sends a handshake refusal frame (refusal.h) on fd, best effort. */
void lurkd_send_refusal(int fd, uint8_t code);
/* The BUSY refusal to a connection about to be closed, and what it sent read away. */
void lurkd_send_busy(int fd);

/* Intrusive list links, owned by the worker. */
struct lurkd_conn *lurkd_conn_next(const struct lurkd_conn *c);
void lurkd_conn_link(struct lurkd_conn **head, struct lurkd_conn *c);
void lurkd_conn_unlink(struct lurkd_conn **head, struct lurkd_conn *c);

#endif
