/*
 * The Noise transport endpoint of transport.h: the one place where whole
 * messages become framed ciphertext and back, for the client and lurkd.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "chan.h"
#include "err.h"
#include "mem.h"
#include "transport.h"

int
lurk_tp_init(struct lurk_tp *t, size_t hs_max)
{
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = lurk_frame_reader_init(&t->frames, hs_max)) != 0)
		return r;
	if ((r = lurk_wire_reasm_init(&t->reasm)) != 0) {
		lurk_frame_reader_clear(&t->frames);
		return r;
	}
	return 0;
}

void
lurk_tp_clear(struct lurk_tp *t)
{
	if (t == NULL)
		return;
	lurk_frame_reader_clear(&t->frames);
	lurk_wire_reasm_clear(&t->reasm);
	t->chan = NULL;
	t->dead = 1;
	t->failed_at = LURK_TP_AT_NONE;
	lurk_wipe(t->session, sizeof(t->session));
}

int
lurk_tp_start(struct lurk_tp *t, struct lurk_chan *chan)
{
	uint8_t sid[LURK_HASH_LEN];
	int r;

	if (t->dead || t->chan != NULL || !lurk_chan_ready(chan))
		return LURK_ERR_STATE;
	if ((r = lurk_chan_session_id(chan, sid)) != 0 ||
		(r = lurk_frame_reader_set_max(&t->frames, LURK_NOISE_MAX_MSG)) != 0)
		return r;
	sodium_bin2hex(t->session, sizeof(t->session), sid, LURK_TP_SESSION_LEN / 2);
	t->chan = chan;
	return 0;
}

int
lurk_tp_open(const struct lurk_tp *t)
{
	return !t->dead && t->chan != NULL;
}

const char *
lurk_tp_session(const struct lurk_tp *t)
{
	return t->session;
}

int
lurk_tp_seal(struct lurk_tp *t, const uint8_t *msg, size_t len, struct lurk_buf *out)
{
	const size_t per_frag = LURK_FRAME_HDR_LEN + LURK_WIRE_FRAG_HDR_LEN + LURK_AEAD_TAG_LEN;
	size_t nfrags, total, off = 0, chunk, ct_len;
	uint8_t *base, *p, flags;
	int r = 0;

	if (t->dead || t->chan == NULL)
		return LURK_ERR_STATE;
	/* Before anything is appended or encrypted. */
	if (len > LURK_WIRE_MAX_MSG)
		return LURK_ERR_TOO_LARGE;
	if (msg == NULL && len != 0) {
		t->dead = 1;
		return LURK_ERR_INVALID_ARG;
	}
	/*
	 * All the frames' room in one reserve: its pointer stays valid (no
	 * growth in between) and a failure has one span to wipe and take back,
	 * nothing the caller queued before. Even an empty message is one (final)
	 * fragment. len is capped above, so this cannot overflow.
	 */
	nfrags = len == 0 ? 1 : (len + LURK_WIRE_FRAG_MAX_CHUNK - 1) / LURK_WIRE_FRAG_MAX_CHUNK;
	total = len + nfrags * per_frag;
	if ((r = lurk_buf_reserve(out, total, &base)) != 0) {
		t->dead = 1;
		return r;
	}
	p = base;
	do {
		chunk = len - off;
		flags = 0;
		if (chunk > LURK_WIRE_FRAG_MAX_CHUNK) {
			chunk = LURK_WIRE_FRAG_MAX_CHUNK;
			flags = LURK_WIRE_FRAG_MORE;
		}
		/* The fragment (flags, chunk) behind the frame header, encrypted in place there. */
		ct_len = LURK_WIRE_FRAG_HDR_LEN + chunk + LURK_AEAD_TAG_LEN;
		if (LURK_FRAME_HDR_LEN + ct_len > total - (size_t)(p - base)) {
			r = LURK_ERR_INTERNAL; /* the count above is wrong: never past the span */
			break;
		}
		if ((r = lurk_frame_header(p, ct_len)) != 0)
			break;
		p[LURK_FRAME_HDR_LEN] = flags;
		if (chunk != 0)
			memcpy(p + LURK_FRAME_HDR_LEN + LURK_WIRE_FRAG_HDR_LEN, msg + off, chunk);
		if ((r = lurk_chan_encrypt(t->chan, p + LURK_FRAME_HDR_LEN,
			     LURK_WIRE_FRAG_HDR_LEN + chunk, p + LURK_FRAME_HDR_LEN, ct_len,
			     &ct_len)) != 0)
			break;
		p += LURK_FRAME_HDR_LEN + ct_len;
		off += chunk;
	} while (flags != 0);
	if (r == 0 && (size_t)(p - base) != total)
		r = LURK_ERR_INTERNAL;
	if (r != 0) {
		/*
		 * The span may hold plaintext (a decrypt response) not yet
		 * encrypted: wiped here, whatever unput can do. unput cannot fail
		 * on a span just reserved; if it did, the zeros stay (the endpoint
		 * is dead), but the bytes queued before this call are kept.
		 */
		lurk_wipe(base, total);
		if (lurk_buf_unput(out, total) != 0)
			r = LURK_ERR_INTERNAL;
		t->dead = 1;
		return r;
	}
	return 0;
}

/* Decrypts the ready frame in place, takes its fragment, wipes it. */
static int
take_frame(struct lurk_tp *t)
{
	uint8_t *body;
	size_t len, pt_len = 0;
	int r;

	/* The reader's own buffer, released (wiped) by the next feed: no plaintext copy. */
	if ((r = lurk_frame_reader_body(&t->frames, &body, &len)) != 0) {
		t->failed_at = LURK_TP_AT_FRAME;
		return r;
	}
	if ((r = lurk_chan_decrypt(t->chan, body, len, body, len, &pt_len)) != 0) {
		t->failed_at = LURK_TP_AT_DECRYPT;
		return r;
	}
	r = lurk_wire_reasm_feed(&t->reasm, body, pt_len);
	lurk_wipe(body, pt_len);
	if (r < 0) {
		t->failed_at = LURK_TP_AT_FRAGMENT;
		return r;
	}
	return r == 1 ? LURK_TP_MESSAGE : LURK_TP_FRAGMENT;
}

int
lurk_tp_feed(struct lurk_tp *t, const uint8_t *data, size_t len, size_t *used)
{
	int r;

	*used = 0;
	if (t->dead)
		return LURK_ERR_STATE;
	if (t->reasm.complete)
		lurk_wire_reasm_reset(&t->reasm);
	r = lurk_frame_reader_feed(&t->frames, data, len, used);
	if (r < 0)
		t->failed_at = LURK_TP_AT_FRAME;
	else if (r == 1 && t->chan != NULL)
		r = take_frame(t);
	else if (r == 1)
		r = LURK_TP_FRAME;
	if (r < 0) {
		/* The partial message (perhaps a secret) goes with the stream. */
		lurk_wire_reasm_reset(&t->reasm);
		t->dead = 1;
	}
	return r;
}

int
lurk_tp_frame(const struct lurk_tp *t, const uint8_t **frame, size_t *len)
{
	if (t->dead || t->chan != NULL) {
		*frame = NULL;
		*len = 0;
		return LURK_ERR_STATE;
	}
	return lurk_frame_reader_frame(&t->frames, frame, len);
}

int
lurk_tp_message(const struct lurk_tp *t, const uint8_t **msg, size_t *len)
{
	*msg = NULL;
	*len = 0;
	if (t->dead || !t->reasm.complete)
		return LURK_ERR_STATE;
	*msg = lurk_wire_reasm_msg(&t->reasm);
	*len = lurk_wire_reasm_len(&t->reasm);
	return 0;
}

void
lurk_tp_release(struct lurk_tp *t)
{
	lurk_wire_reasm_reset(&t->reasm);
}

enum lurk_tp_stage
lurk_tp_failed_at(const struct lurk_tp *t)
{
	return t->failed_at;
}

int
lurk_tp_frame_partial(const struct lurk_tp *t)
{
	return lurk_frame_reader_partial(&t->frames);
}

int
lurk_tp_message_partial(const struct lurk_tp *t)
{
	return !t->reasm.complete && lurk_buf_len(&t->reasm.msg) != 0;
}

void
lurk_tp_pending(const struct lurk_tp *t, size_t *frame_bytes, size_t *message_bytes)
{
	*frame_bytes =
		lurk_frame_reader_partial(&t->frames) ? lurk_frame_reader_held(&t->frames) : 0;
	*message_bytes = lurk_buf_len(&t->reasm.msg);
}

void
lurk_tp_trim(struct lurk_tp *t)
{
	uint8_t none = 0;
	size_t used;
	int r;

	/* A zero-byte feed releases a frame already handed out, and nothing else. */
	if (!lurk_frame_reader_partial(&t->frames)) {
		r = lurk_frame_reader_feed(&t->frames, &none, 0, &used);
		(void)r;
	}
}
