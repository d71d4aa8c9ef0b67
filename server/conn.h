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
	struct lurk_buf *resp; /* the worker's response buffer */
};

struct lurkd_conn *lurkd_conn_new(
	int fd, const struct sockaddr_storage *peer, socklen_t peer_len, time_t now);
void lurkd_conn_free(struct lurkd_conn *c);
int lurkd_conn_fd(const struct lurkd_conn *c);

/* Reads what is there and serves it. A negative return means: close it. */
int lurkd_conn_readable(struct lurkd_conn *c, struct lurkd_conn_env *env) LURK_MUST_CHECK;
/* Flushes pending output. A negative return means: close it. */
int lurkd_conn_writable(struct lurkd_conn *c) LURK_MUST_CHECK;
/* Whether output is waiting for the socket. */
int lurkd_conn_want_write(const struct lurkd_conn *c);
/* Records whether EPOLLOUT is armed for c; returns what it was. */
int lurkd_conn_swap_armed(struct lurkd_conn *c, int armed);
/*
 * After a reload: keeps the connection only if its client is still configured
 * (and its keys are looked up again). 0 to keep, negative to close.
 */
int lurkd_conn_revalidate(struct lurkd_conn *c, struct lurkd_config *cfg) LURK_MUST_CHECK;
/* 0 while within its deadlines (handshake time, session age), else negative. */
int lurkd_conn_check_time(
	struct lurkd_conn *c, time_t now, const struct lurkd_config *cfg) LURK_MUST_CHECK;

/* Intrusive list links, owned by the worker. */
struct lurkd_conn *lurkd_conn_next(const struct lurkd_conn *c);
void lurkd_conn_link(struct lurkd_conn **head, struct lurkd_conn *c);
void lurkd_conn_unlink(struct lurkd_conn **head, struct lurkd_conn *c);

#endif
