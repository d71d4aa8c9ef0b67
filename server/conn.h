/*
 * One client connection of lurkd: the Noise handshake, then requests.
 *
 * Input is read into a per-connection buffer that grows only as far as a
 * partial frame needs (so idle connections stay small); complete frames are
 * decrypted and served inline by the worker that owns the connection.
 */
#ifndef LURKD_CONN_H
#define LURKD_CONN_H

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "compiler.h"
#include "limits.h"
#include "server.h"

struct lurkd_conn;

/* Per-worker scratch: plaintext, ciphertext and socket input areas. */
#define LURKD_SCRATCH_AREA (LURK_NOISE_MAX_MSG + 17)
#define LURKD_SCRATCH_LEN  (3 * LURKD_SCRATCH_AREA)

struct lurkd_conn_env {
	struct lurkd *server;
	struct lurkd_config *cfg; /* the worker's current configuration */
	uint8_t *scratch;         /* LURKD_SCRATCH_LEN bytes */
	size_t scratch_len;
	struct lurk_buf *resp;           /* the worker's response buffer */
	struct lurkd_audit_batch *batch; /* the worker's audit records of this pass */
	time_t now;                      /* this pass's time */
};

struct lurkd_conn *lurkd_conn_new(
	int fd, const struct sockaddr_storage *peer, socklen_t peer_len, time_t now);
void lurkd_conn_free(struct lurkd_conn *c);
int lurkd_conn_fd(const struct lurkd_conn *c);

/*
 * Reads what is there and serves it; responses wait in the connection until
 * lurkd_conn_writable() (after the pass's audit batch is written). A
 * negative return means: close it.
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
/* 1 once the connection is to be closed. */
int lurkd_conn_dead(const struct lurkd_conn *c);
/*
 * 0 while within its deadlines, else negative: the handshake and the first
 * request within the handshake timeout (a replayed msg1 gets no more), a
 * started frame completed within frame-timeout, a request at least every
 * idle-timeout, the session's age and message limits.
 */
int lurkd_conn_check_time(
	struct lurkd_conn *c, time_t now, const struct lurkd_config *cfg) LURK_MUST_CHECK;

/* Sends a handshake refusal frame (refusal.h) on fd, best effort. */
void lurkd_send_refusal(int fd, uint8_t code);

/* Intrusive list links, owned by the worker. */
struct lurkd_conn *lurkd_conn_next(const struct lurkd_conn *c);
void lurkd_conn_link(struct lurkd_conn **head, struct lurkd_conn *c);
void lurkd_conn_unlink(struct lurkd_conn **head, struct lurkd_conn *c);

#endif
