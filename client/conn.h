/*
 * A blocking client connection to lurkd: connect (TCP or unix socket), the
 * Noise IK handshake, then request/response calls, each bounded by a
 * timeout. Used by the PKCS#11 module (one connection per checked-out pool
 * slot) and by the test client. Creates no threads; not thread-safe: one
 * caller at a time per connection.
 *
 * Fork: a connection remembers the pid that made it. In any other process
 * every call fails with LURK_ERR_STATE, and lurk_client_free() closes the
 * socket without sending, so a child never reuses its parent's nonces.
 */
#ifndef LURK_CLIENT_H
#define LURK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compiler.h"
#include "lurk-limits.h"

struct lurk_client;

struct lurk_client_cfg {
	const char *address;      /* "unix:/path", "tcp:HOST:PORT" or "tcp:[V6]:PORT" */
	const uint8_t *server_pk; /* LURK_NOISE_KEY_LEN bytes, pinned */
	const uint8_t *client_sk; /* LURK_NOISE_KEY_LEN bytes */
	int connect_timeout_ms;   /* connect and handshake together */
	int io_timeout_ms;        /* each call */
};

/*
 * What an operator needs to know about a failed connect, beyond the error
 * code: the errno of the socket call that failed (ECONNREFUSED, ENOENT,
 * EACCES, ...) and whether the handshake had started. A handshake refusal
 * from lurkd (refusal.h) comes back as its own error code:
 * LURK_ERR_SERVER_KEY (msg1 did not decrypt: a wrong server public key),
 * LURK_ERR_UNKNOWN_PEER, LURK_ERR_DENIED, LURK_ERR_STALE or LURK_ERR_BUSY,
 * with `refusal` set to the code received. A server that closes without a
 * refusal (an older lurkd) gives LURK_ERR_EOF as before.
 */
struct lurk_client_why {
	int sys_errno;    /* errno of the failing connect/poll/send/recv, 0 if none */
	int in_handshake; /* 1 once the socket was connected and msg1 was being sent */
	int refusal;      /* enum lurk_refusal received, 0 if none */
};

/* why may be NULL; it is always filled (zeroed on success). */
int lurk_client_connect(const struct lurk_client_cfg *cfg, struct lurk_client **out,
	struct lurk_client_why *why) LURK_MUST_CHECK;
/*
 * Sends one whole request message and waits for the response with the same
 * id, which replaces the contents of resp. LURK_ERR_IO, LURK_ERR_EOF,
 * LURK_ERR_TIMEOUT, LURK_ERR_DECRYPT or LURK_ERR_BAD_FORMAT leave the
 * connection dead: free it and connect again.
 */
int lurk_client_call(struct lurk_client *c, const uint8_t *req, size_t req_len,
	struct lurk_buf *resp) LURK_MUST_CHECK;
/* The same, bounded by timeout_ms instead of the connection's io_timeout_ms. */
int lurk_client_call_within(struct lurk_client *c, const uint8_t *req, size_t req_len,
	struct lurk_buf *resp, int timeout_ms) LURK_MUST_CHECK;
/*
 * The two halves of a call, so that one caller can have requests in flight
 * on two connections at once (a split key's two servers, client/split.c):
 * send one request, then receive its response, each bounded by deadline
 * (lc_now_ms's clock). A failure leaves the connection dead, as above.
 */
int lurk_client_send(struct lurk_client *c, const uint8_t *req, size_t req_len,
	int64_t deadline) LURK_MUST_CHECK;
int lurk_client_recv(
	struct lurk_client *c, struct lurk_buf *resp, int64_t deadline) LURK_MUST_CHECK;
/*
 * 1 if the connection should not be used for another call. Neither this nor
 * lurk_client_check_idle asks which process this is (a system call each,
 * and the pool has asked once per call already); lurk_client_call_within
 * does, and refuses a connection made by another process.
 */
int lurk_client_stale(struct lurk_client *c);
/*
 * For an idle connection about to carry a call: 0 if it may, else why not:
 * LURK_ERR_STATE (failed before),
 * LURK_ERR_SESSION_EXPIRED (our age or message limit), LURK_ERR_EOF (the
 * server closed it: its session-max-age or idle-timeout, a reload, a
 * restart) or LURK_ERR_BAD_FORMAT (bytes arrived unasked: lurkd sends
 * nothing between calls). One poll() that does not wait, no byte sent or
 * read.
 */
int lurk_client_check_idle(struct lurk_client *c) LURK_MUST_CHECK;
uint32_t lurk_client_next_id(struct lurk_client *c);
/* Our Noise session id prefix (16 hex characters) for logs. */
const char *lurk_client_session(const struct lurk_client *c);
/*
 * The connection's socket, for tests that go on by hand after the
 * handshake (tests/lurk-flood.c). Bytes written to it bypass the channel.
 */
int lurk_client_fd(const struct lurk_client *c);
/* Closes the socket and wipes the channel without sending anything. NULL is fine. */
void lurk_client_free(struct lurk_client *c);
/*
 * In a child after fork (a pthread_atfork child handler): closes the
 * child's copy of the socket, and nothing else, so it is async-signal-safe
 * and safe on a connection a thread of the parent was in the middle of
 * changing. A connection abandoned while idle is freed later as usual
 * (lurk_client_free); one that was in use is never touched again.
 */
void lurk_client_abandon(struct lurk_client *c);

/* Splits "unix:/p", "tcp:h:p", "tcp:[h]:p" into parts; 0 or LURK_ERR_CONFIG. */
int lurk_client_parse_address(const char *address, int *is_unix, char *host, size_t host_len,
	char *port, size_t port_len) LURK_MUST_CHECK;

#endif
