/*
 * Stream framing for Noise messages (Noise §13, docs/channel.md): every message
 * is a u16 big-endian length and then that many bytes, 1 to 65535. A
 * zero-length frame is an error (no Noise message is empty).
 *
 * The reader takes arbitrary chunks of a byte stream and hands out complete
 * frames. It holds at most one frame of at most `max` bytes (itself at most
 * LURK_NOISE_MAX_MSG); a handshake can use a small cap and transport the
 * full one. The frame buffer grows as bytes arrive (from
 * LURK_FRAME_FIRST_ALLOC, doubling), not to the announced length, so a peer
 * that announces a large frame and stalls holds little memory. The buffer is
 * wiped whenever it is released or moved.
 */
#ifndef LURK_FRAME_H
#define LURK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h"

/* hdr = u16be(len); LURK_ERR_INVALID_ARG for 0, LURK_ERR_TOO_LARGE over 65535. */
int lurk_frame_header(uint8_t hdr[LURK_FRAME_HDR_LEN], size_t len) LURK_MUST_CHECK;

struct lurk_buf;

#define LURK_FRAME_FIRST_ALLOC 2048

/* Appends u16be(len) and the message to out: one frame ready for the socket. */
int lurk_frame_put(struct lurk_buf *out, const uint8_t *msg, size_t len) LURK_MUST_CHECK;

struct lurk_frame_reader {
	size_t max; /* largest frame accepted */
	uint8_t hdr[LURK_FRAME_HDR_LEN];
	size_t hdr_have; /* header bytes received */
	uint8_t *body;   /* NULL until body bytes arrive */
	size_t cap;      /* bytes allocated at body */
	size_t need;     /* frame length from the header; 0 until it is complete */
	size_t have;     /* body bytes received */
	int ready;       /* a complete frame waits in body */
	int failed;      /* an error was returned: the stream is unusable */
};

/* max is 1..LURK_NOISE_MAX_MSG. */
int lurk_frame_reader_init(struct lurk_frame_reader *fr, size_t max) LURK_MUST_CHECK;
/* Changes the cap for frames whose header has not started yet. */
int lurk_frame_reader_set_max(struct lurk_frame_reader *fr, size_t max) LURK_MUST_CHECK;
/* Wipes and frees everything; the reader must be initialised again before reuse. */
void lurk_frame_reader_clear(struct lurk_frame_reader *fr);

/*
 * Consumes bytes of data until one frame is complete or data runs out; *used
 * says how many were taken (feed the rest again after taking the frame). A
 * frame handed out before is released (wiped) first. Returns 1 when a frame
 * is ready, 0 when more bytes are needed, or negative: LURK_ERR_BAD_FORMAT
 * (zero length), LURK_ERR_TOO_LARGE (over max), LURK_ERR_ALLOC; after an
 * error every call gives LURK_ERR_STATE.
 */
int lurk_frame_reader_feed(struct lurk_frame_reader *fr, const uint8_t *data, size_t len,
	size_t *used) LURK_MUST_CHECK;
/* Borrows the ready frame: valid until the next feed or clear. LURK_ERR_STATE if none. */
int lurk_frame_reader_frame(
	const struct lurk_frame_reader *fr, const uint8_t **frame, size_t *len) LURK_MUST_CHECK;
/*
 * The ready frame, writable: for decryption in place, so no plaintext copy
 * is made (the reader wipes it when it releases it). Valid until the next
 * feed or clear. LURK_ERR_STATE if none.
 */
int lurk_frame_reader_body(
	struct lurk_frame_reader *fr, uint8_t **body, size_t *len) LURK_MUST_CHECK;
/* Whether a frame has been started but not completed (bytes are pending). */
int lurk_frame_reader_partial(const struct lurk_frame_reader *fr);
/* The bytes the reader holds for its frame buffer (0 once released). */
size_t lurk_frame_reader_held(const struct lurk_frame_reader *fr);

#endif
