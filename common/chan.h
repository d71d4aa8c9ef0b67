/*
 * The lurk channel: Noise_IK_25519_ChaChaPoly_BLAKE2b (docs/channel.md), then transport messages.
 *
 *   prologue "lurk/1" (6 bytes, no NUL): any change of the protocol before
 *   msg1 must change it, so both sides agree on what came first (§6).
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss    msg1: 112 bytes, payload 16 bytes:
 *                      u8 version (LURK_CHAN_VERSION), u8 flags (0),
 *                      u16 reserved (0), TAI64N timestamp (12 bytes, big-endian)
 *   <- e, ee, se       msg2: 48 bytes, empty payload
 *
 * The code does no I/O: messages are byte buffers, so the server can drive it
 * from an event loop and the module from blocking sockets. Framing is in
 * frame.h. Nothing here acts on the msg1 payload beyond the freshness check;
 * requests go only in transport messages after msg2.
 *
 * A struct lurk_chan is one handshake attempt and then one session: make a
 * new one for every connection (an ephemeral key is never reused). It is not
 * thread-safe. Every failed handshake step, and every failed decryption,
 * wipes the secrets and leaves the channel dead: later calls give
 * LURK_ERR_STATE. All functions return 0 or a negative LURK_ERR_*.
 */
#ifndef LURK_CHAN_H
#define LURK_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "compiler.h"
#include "lurk-limits.h"

#define LURK_CHAN_PROTOCOL "Noise_IK_25519_ChaChaPoly_BLAKE2b"
#define LURK_CHAN_PROLOGUE "lurk/1"

struct lurk_chan;

/*
 * The freshness check of a msg1 that decrypted and parsed (lurkd's is
 * server/replay.c's cache): 0 records the ephemeral key as seen;
 * LURK_ERR_STALE (timestamp outside the window), LURK_ERR_REPLAY or
 * LURK_ERR_BUSY refuse it. timestamp and now are Unix seconds.
 */
typedef int (*lurk_chan_fresh_fn)(
	void *ctx, const uint8_t eph_pk[LURK_NOISE_KEY_LEN], int64_t timestamp, int64_t now);
/* 0 accepts the client key; anything else refuses it (a negative LURK_ERR_* is passed on). */
typedef int (*lurk_chan_allow_fn)(void *ctx, const uint8_t client_pk[LURK_NOISE_KEY_LEN]);
/*
 * Reads a clock: CLOCK_REALTIME for msg1 timestamps, CLOCK_MONOTONIC for the
 * session age. The default calls clock_gettime(); tests inject their own.
 */
typedef void (*lurk_chan_clock_fn)(void *ctx, clockid_t id, struct timespec *ts);

/* Client side: our static private key and the server's pinned public key. */
int lurk_chan_new_initiator(const uint8_t client_sk[LURK_NOISE_KEY_LEN],
	const uint8_t server_pk[LURK_NOISE_KEY_LEN], struct lurk_chan **out) LURK_MUST_CHECK;
/*
 * Server side: its static key pair (server_pk must belong to server_sk), the
 * freshness check (one replay cache shared by all connections), and the
 * allow-list hook.
 */
int lurk_chan_new_responder(const uint8_t server_sk[LURK_NOISE_KEY_LEN],
	const uint8_t server_pk[LURK_NOISE_KEY_LEN], lurk_chan_fresh_fn fresh, void *fresh_ctx,
	lurk_chan_allow_fn allow, void *allow_ctx, struct lurk_chan **out) LURK_MUST_CHECK;
/* Wipes everything and frees; NULL is fine. */
void lurk_chan_free(struct lurk_chan *c);
/* Wipes every secret and makes the channel dead, without freeing it. */
void lurk_chan_close(struct lurk_chan *c);

void lurk_chan_set_clock(struct lurk_chan *c, lurk_chan_clock_fn fn, void *ctx);
/*
 * Session limits (defaults LURK_SESSION_MAX_AGE_S, LURK_SESSION_MAX_MESSAGES):
 * age from the end of the handshake, and messages per direction. Both > 0.
 */
int lurk_chan_set_limits(
	struct lurk_chan *c, uint64_t max_age_s, uint64_t max_messages) LURK_MUST_CHECK;

/* Initiator: msg1 with a fresh ephemeral key and the current time. */
int lurk_chan_write_msg1(struct lurk_chan *c, uint8_t out[LURK_MSG1_LEN]) LURK_MUST_CHECK;
/*
 * Responder. len must be LURK_MSG1_LEN (else LURK_ERR_BAD_FORMAT). The client
 * key is put to the allow-list hook as soon as it is decrypted, before any
 * other work: LURK_ERR_UNKNOWN_PEER (or the hook's error) means close the
 * connection without answering. Then LURK_ERR_DECRYPT, LURK_ERR_BAD_VERSION,
 * LURK_ERR_BAD_FORMAT (flags, reserved, timestamp encoding), LURK_ERR_STALE,
 * LURK_ERR_REPLAY, LURK_ERR_BUSY; only a msg1 that passes all of them is
 * recorded by the freshness check.
 */
int lurk_chan_read_msg1(struct lurk_chan *c, const uint8_t *msg, size_t len) LURK_MUST_CHECK;
/* Responder, after read_msg1: msg2, then the channel is in transport mode. */
int lurk_chan_write_msg2(struct lurk_chan *c, uint8_t out[LURK_MSG2_LEN]) LURK_MUST_CHECK;
/* Initiator: len must be LURK_MSG2_LEN; then transport mode. */
int lurk_chan_read_msg2(struct lurk_chan *c, const uint8_t *msg, size_t len) LURK_MUST_CHECK;

/* Whether the handshake is complete and the channel alive. */
int lurk_chan_ready(const struct lurk_chan *c);
/* The peer's static key: the server's (initiator) or, after read_msg1, the client's. */
int lurk_chan_remote_static(
	const struct lurk_chan *c, uint8_t pk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
/* The handshake hash h after Split: the session id for logs (not secret, §11.2). */
int lurk_chan_session_id(const struct lurk_chan *c, uint8_t id[LURK_HASH_LEN]) LURK_MUST_CHECK;
/* 0 while within the session limits, else LURK_ERR_SESSION_EXPIRED (or LURK_ERR_STATE). */
int lurk_chan_check_limits(struct lurk_chan *c) LURK_MUST_CHECK;

/*
 * Transport: ptlen at most LURK_NOISE_MAX_PLAINTEXT, outcap at least
 * ptlen + LURK_AEAD_TAG_LEN (encrypt) or ctlen - LURK_AEAD_TAG_LEN (decrypt);
 * out may equal the input. Refused with LURK_ERR_SESSION_EXPIRED past the
 * limits and LURK_ERR_NONCE_EXHAUSTED at nonce 2^64-1. Any decrypt failure
 * (LURK_ERR_DECRYPT, a bad length) kills the channel.
 */
int lurk_chan_encrypt(struct lurk_chan *c, const uint8_t *pt, size_t ptlen, uint8_t *out,
	size_t outcap, size_t *outlen) LURK_MUST_CHECK;
int lurk_chan_decrypt(struct lurk_chan *c, const uint8_t *ct, size_t ctlen, uint8_t *out,
	size_t outcap, size_t *outlen) LURK_MUST_CHECK;

#ifdef LURK_TESTING
/*
 * Test hooks, compiled only into liblurk-common-testable.la.
 * set_ephemeral: the next ephemeral key is sk (used once).
 * set_prologue: replaces "lurk/1"; only before the first message.
 * The *_payload variants run the same handshake with any payload (and, on
 * the responder, no version/timestamp/replay checks; the allow-list hook
 * still runs), so the public vectors can drive this code.
 * set_nonces: moves the transport counters (send, recv).
 * handshake_wiped: 1 if no handshake secret (ck, k, static and ephemeral
 * private keys) is left; secrets_wiped: the same and no transport key.
 */
int lurk_chan_test_set_ephemeral(
	struct lurk_chan *c, const uint8_t sk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
int lurk_chan_test_set_prologue(
	struct lurk_chan *c, const uint8_t *prologue, size_t len) LURK_MUST_CHECK;
int lurk_chan_test_write_msg1_payload(struct lurk_chan *c, const uint8_t *payload, size_t plen,
	uint8_t *out, size_t outcap, size_t *outlen) LURK_MUST_CHECK;
int lurk_chan_test_read_msg1_payload(struct lurk_chan *c, const uint8_t *msg, size_t len,
	uint8_t *payload, size_t cap, size_t *plen) LURK_MUST_CHECK;
int lurk_chan_test_write_msg2_payload(struct lurk_chan *c, const uint8_t *payload, size_t plen,
	uint8_t *out, size_t outcap, size_t *outlen) LURK_MUST_CHECK;
int lurk_chan_test_read_msg2_payload(struct lurk_chan *c, const uint8_t *msg, size_t len,
	uint8_t *payload, size_t cap, size_t *plen) LURK_MUST_CHECK;
int lurk_chan_test_set_nonces(
	struct lurk_chan *c, uint64_t send_n, uint64_t recv_n) LURK_MUST_CHECK;
int lurk_chan_test_handshake_wiped(const struct lurk_chan *c);
int lurk_chan_test_secrets_wiped(const struct lurk_chan *c);
#endif

#endif
