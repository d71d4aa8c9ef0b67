/*
 * A Noise transport endpoint: what lies between a whole plaintext message of
 * the wire protocol and the bytes on the socket, for both sides (the client's
 * blocking connection and lurkd's event-driven one). No I/O: the caller
 * reads and writes the socket, with its own waiting and buffering.
 *
 *   out:  message -> fragments (wire.h) -> encrypt (chan.h) -> frames (frame.h)
 *   in:   bytes -> frames -> decrypt -> fragments -> message
 *
 * An endpoint starts in handshake mode, where it only cuts the stream into
 * frames (of at most the cap given to lurk_tp_init) and hands each one out
 * as it is: the caller runs the handshake. lurk_tp_start() then switches it
 * to transport mode over the established channel, which it borrows (the
 * caller frees the channel after lurk_tp_clear).
 *
 * Bounds: a message to seal over LURK_WIRE_MAX_MSG is refused before
 * anything is allocated or appended; received frames are capped at
 * LURK_NOISE_MAX_MSG (the handshake cap before) and reassembled messages at
 * LURK_WIRE_MAX_MSG, each refused before it is stored. Plaintext is wiped
 * wherever it was: fragments are encrypted in place in the output buffer
 * (wiped there if sealing fails), frames decrypted in place after
 * reassembly, a message when it is released. Sealing allocates nothing but
 * the output buffer's growth.
 *
 * After any error but the size refusal of lurk_tp_seal the endpoint is dead:
 * every later call gives LURK_ERR_STATE. Not thread-safe.
 */
#ifndef LURK_TRANSPORT_H
#define LURK_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compiler.h"
#include "frame.h"
#include "lurk-limits.h"
#include "wire.h"

struct lurk_chan;

/* The session id for logs: the first 8 bytes of the handshake hash in hex. */
#define LURK_TP_SESSION_LEN 16

/* What lurk_tp_feed() found, besides errors. */
enum lurk_tp_event {
	LURK_TP_NEED_MORE = 0, /* every byte was taken; no frame completed */
	LURK_TP_FRAME = 1,     /* handshake: a frame is ready (lurk_tp_frame) */
	LURK_TP_MESSAGE = 2,   /* transport: a frame completed a message (lurk_tp_message) */
	LURK_TP_FRAGMENT = 3,  /* transport: a frame gave a fragment, the message goes on */
};

/* Which step a failed lurk_tp_feed() failed at, for the caller's log line. */
enum lurk_tp_stage {
	LURK_TP_AT_NONE = 0,
	LURK_TP_AT_FRAME,    /* framing: LURK_ERR_BAD_FORMAT, LURK_ERR_TOO_LARGE, ... */
	LURK_TP_AT_DECRYPT,  /* lurk_chan_decrypt: LURK_ERR_DECRYPT, ..._SESSION_EXPIRED, ... */
	LURK_TP_AT_FRAGMENT, /* reassembly: LURK_ERR_BAD_FORMAT, LURK_ERR_TOO_LARGE, ... */
};

/* The struct is public so it can be embedded; only transport.c touches its fields. */
struct lurk_tp {
	struct lurk_chan *chan; /* borrowed; NULL in handshake mode */
	struct lurk_frame_reader frames;
	struct lurk_wire_reasm reasm;
	enum lurk_tp_stage failed_at;
	int dead;
	char session[LURK_TP_SESSION_LEN + 1];
};

/* Handshake mode, frames of at most hs_max bytes (1..LURK_NOISE_MAX_MSG). */
int lurk_tp_init(struct lurk_tp *t, size_t hs_max) LURK_MUST_CHECK;
/* Wipes and frees everything the endpoint holds (not the channel); NULL is fine. */
void lurk_tp_clear(struct lurk_tp *t);

/*
 * Transport mode over chan, whose handshake is complete: frames up to
 * LURK_NOISE_MAX_MSG, the session id set. Bytes fed before and not yet
 * taken are read as transport frames.
 */
int lurk_tp_start(struct lurk_tp *t, struct lurk_chan *chan) LURK_MUST_CHECK;
/* Whether lurk_tp_start() has succeeded. */
int lurk_tp_open(const struct lurk_tp *t);
/* LURK_TP_SESSION_LEN hex characters once started, "" before. Not secret. */
const char *lurk_tp_session(const struct lurk_tp *t);

/*
 * Fragments, encrypts and frames one whole message, appending the frames to
 * out: bytes ready for the socket. LURK_ERR_TOO_LARGE for a message over
 * LURK_WIRE_MAX_MSG, refused before anything else (the endpoint lives on).
 * Any other failure (out full, LURK_ERR_SESSION_EXPIRED,
 * LURK_ERR_NONCE_EXHAUSTED, ...) takes back what this call appended and
 * kills the endpoint: a nonce may have gone to a frame that is not sent.
 */
int lurk_tp_seal(
	struct lurk_tp *t, const uint8_t *msg, size_t len, struct lurk_buf *out) LURK_MUST_CHECK;

/*
 * Consumes bytes of data until one frame is complete or data runs out;
 * *used says how many were taken (feed the rest again after handling what
 * was found). Returns an enum lurk_tp_event or a negative LURK_ERR_*
 * (lurk_tp_failed_at says where). A frame or message handed out before is
 * released (wiped) first.
 */
int lurk_tp_feed(struct lurk_tp *t, const uint8_t *data, size_t len, size_t *used) LURK_MUST_CHECK;
/* Handshake mode: borrows the ready frame, valid until the next feed. */
int lurk_tp_frame(const struct lurk_tp *t, const uint8_t **frame, size_t *len) LURK_MUST_CHECK;
/* Transport mode: borrows the complete message, valid until lurk_tp_release or a feed. */
int lurk_tp_message(const struct lurk_tp *t, const uint8_t **msg, size_t *len) LURK_MUST_CHECK;
/* Wipes the message, complete or partial (it may hold a secret); the stream goes on. */
void lurk_tp_release(struct lurk_tp *t);
enum lurk_tp_stage lurk_tp_failed_at(const struct lurk_tp *t);

/*
 * For lurkd's deadlines and frame-memory ledger: whether a frame has begun
 * and not ended; whether fragments of a message have arrived and its last
 * one has not; the bytes those hold (the frame's buffer and the message so
 * far). lurk_tp_trim() frees the buffer of a frame already handled, so an
 * idle endpoint holds none.
 */
int lurk_tp_frame_partial(const struct lurk_tp *t);
int lurk_tp_message_partial(const struct lurk_tp *t);
void lurk_tp_pending(const struct lurk_tp *t, size_t *frame_bytes, size_t *message_bytes);
void lurk_tp_trim(struct lurk_tp *t);

#endif
