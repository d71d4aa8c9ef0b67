/*
 * The Noise transport endpoint (common/transport.c) between two channels
 * with fixed keys: the handshake through it, messages at and around the
 * fragment size and the message cap (one over refused before anything is
 * appended or allocated), bytes fed one at a time and all at once, two
 * messages back to back, tampered frames and bad fragments (the endpoint
 * dies), a full output buffer, a seal that fails midway, and the session
 * id.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chan.h"
#include "err.h"
#include "frame.h"
#include "noise.h"
#include "tap.h"
#include "transport.h"
#include "wire.h"

#include "fuzz/msg1_fixture.h"

#define CHUNK   LURK_WIRE_FRAG_MAX_CHUNK
#define OUT_MAX (LURK_WIRE_MAX_MSG + 64 * 1024)

static int
fresh_ok(void *ctx, const uint8_t eph[LURK_NOISE_KEY_LEN], int64_t ts, int64_t now)
{
	return 0;
}

static int
allow_ok(void *ctx, const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	return 0;
}

/* Client (initiator) and server (responder), each a channel and an endpoint. */
struct pair {
	struct lurk_chan *cc, *sc;
	struct lurk_tp ct, st;
	struct lurk_buf wire; /* bytes "on the socket" */
};

/* Feeds all of data to t, expecting exactly one event `want` at its last byte. */
static void
feed_expect(struct lurk_tp *t, const uint8_t *data, size_t len, int want)
{
	size_t used = 0;

	assert_num_eq(lurk_tp_feed(t, data, len, &used), want);
	assert_num_eq(used, len);
}

static void
pair_new(struct pair *p)
{
	uint8_t spk[LURK_NOISE_KEY_LEN], msg1[LURK_MSG1_LEN], msg2[LURK_MSG2_LEN];
	const uint8_t *f;
	size_t n;

	memset(p, 0, sizeof(*p));
	assert_ok(lurk_noise_pubkey(spk, FIX_SERVER_SK));
	assert_ok(lurk_chan_new_initiator(FIX_CLIENT_SK, spk, &p->cc));
	assert_ok(lurk_chan_new_responder(
		FIX_SERVER_SK, spk, fresh_ok, NULL, allow_ok, NULL, &p->sc));
	lurk_chan_set_clock(p->cc, fix_clock, NULL);
	lurk_chan_set_clock(p->sc, fix_clock, NULL);
	assert_ok(lurk_chan_test_set_ephemeral(p->cc, FIX_CLIENT_EPH_SK));
	assert_ok(lurk_tp_init(&p->ct, LURK_MSG2_LEN));
	assert_ok(lurk_tp_init(&p->st, LURK_MSG1_LEN));
	assert_ok(lurk_buf_init(&p->wire, OUT_MAX));
	assert_str_eq(lurk_tp_session(&p->ct), "");
	assert_false(lurk_tp_open(&p->ct));

	/* The handshake messages go through the endpoints as plain frames. */
	assert_ok(lurk_chan_write_msg1(p->cc, msg1));
	assert_ok(lurk_frame_put(&p->wire, msg1, sizeof(msg1)));
	feed_expect(&p->st, lurk_buf_ptr(&p->wire), lurk_buf_len(&p->wire), LURK_TP_FRAME);
	lurk_buf_reset(&p->wire);
	assert_ok(lurk_tp_frame(&p->st, &f, &n));
	assert_num_eq(n, LURK_MSG1_LEN);
	assert_ok(lurk_chan_read_msg1(p->sc, f, n));
	assert_ok(lurk_chan_write_msg2(p->sc, msg2));
	assert_ok(lurk_tp_start(&p->st, p->sc));
	assert_ok(lurk_frame_put(&p->wire, msg2, sizeof(msg2)));
	feed_expect(&p->ct, lurk_buf_ptr(&p->wire), lurk_buf_len(&p->wire), LURK_TP_FRAME);
	lurk_buf_reset(&p->wire);
	assert_ok(lurk_tp_frame(&p->ct, &f, &n));
	assert_ok(lurk_chan_read_msg2(p->cc, f, n));
	assert_ok(lurk_tp_start(&p->ct, p->cc));
	assert_true(lurk_tp_open(&p->ct));
	assert_true(lurk_tp_open(&p->st));
}

static void
pair_free(struct pair *p)
{
	lurk_tp_clear(&p->ct);
	lurk_tp_clear(&p->st);
	lurk_chan_free(p->cc);
	lurk_chan_free(p->sc);
	lurk_buf_clear(&p->wire);
}

static uint8_t *
pattern(size_t len, unsigned seed)
{
	uint8_t *m = malloc(len ? len : 1);

	assert_ptr_not_null(m);
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(i * 13 + i / 253 + seed);
	return m;
}

/* The frames sealing a message of len bytes take: one per fragment, each with its tag. */
static size_t
sealed_len(size_t len)
{
	size_t frags = len == 0 ? 1 : (len + CHUNK - 1) / CHUNK;

	return len + frags * (LURK_FRAME_HDR_LEN + LURK_WIRE_FRAG_HDR_LEN + LURK_AEAD_TAG_LEN);
}

/* Seals len bytes on a, feeds them to b at once, checks the message. */
static void
round_trip(struct lurk_tp *a, struct lurk_tp *b, struct lurk_buf *wire, size_t len)
{
	uint8_t *m = pattern(len, (unsigned)len);
	const uint8_t *p = NULL, *got;
	size_t n, used, off = 0;
	int r;

	lurk_buf_reset(wire);
	assert_ok(lurk_tp_seal(a, m, len, wire));
	assert_num_eq(lurk_buf_len(wire), sealed_len(len));
	p = lurk_buf_ptr(wire);
	/* A fragment per frame; the message only with the last. */
	while ((r = lurk_tp_feed(b, p + off, lurk_buf_len(wire) - off, &used)) ==
		LURK_TP_FRAGMENT) {
		off += used;
		assert_true(lurk_tp_message_partial(b));
		assert_err(lurk_tp_message(b, &got, &n), LURK_ERR_STATE);
	}
	off += used;
	assert_num_eq(r, LURK_TP_MESSAGE);
	assert_num_eq(off, lurk_buf_len(wire));
	assert_false(lurk_tp_message_partial(b));
	assert_ok(lurk_tp_message(b, &got, &n));
	assert_num_eq(n, len);
	assert_mem_eq(got, m, len);
	lurk_tp_release(b);
	assert_err(lurk_tp_message(b, &got, &n), LURK_ERR_STATE);
	free(m);
}

static void
test_sizes(void)
{
	static const size_t sizes[] = {1, 0, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK,
		LURK_WIRE_MAX_MSG - 1, LURK_WIRE_MAX_MSG};
	struct pair p;

	pair_new(&p);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		round_trip(&p.ct, &p.st, &p.wire, sizes[i]);
		round_trip(&p.st, &p.ct, &p.wire, sizes[i]);
	}
	pair_free(&p);
}

static void
test_over_max(void)
{
	struct pair p;
	struct lurk_buf out;
	uint8_t *m = pattern(LURK_WIRE_MAX_MSG + 1, 1);

	pair_new(&p);
	assert_ok(lurk_buf_init(&out, OUT_MAX));
	assert_err(lurk_tp_seal(&p.ct, m, LURK_WIRE_MAX_MSG + 1, &out), LURK_ERR_TOO_LARGE);
	/* Refused before anything was appended or allocated, or a nonce used. */
	assert_num_eq(lurk_buf_len(&out), 0);
	assert_num_eq(out.alloc, 0);
	assert_err(lurk_tp_seal(&p.ct, m, SIZE_MAX, &out), LURK_ERR_TOO_LARGE);
	assert_num_eq(out.alloc, 0);
	/* The endpoint lives on: the next message is the peer's first. */
	assert_true(lurk_tp_open(&p.ct));
	round_trip(&p.ct, &p.st, &p.wire, 1);
	lurk_buf_clear(&out);
	free(m);
	pair_free(&p);
}

/* One byte at a time: NEED_MORE until each frame ends, FRAME then MESSAGE. */
static void
test_byte_at_a_time(void)
{
	struct pair p;
	size_t len = CHUNK + 10, used, frames = 0;
	uint8_t *m = pattern(len, 3);
	const uint8_t *got;
	size_t n, total;

	pair_new(&p);
	assert_ok(lurk_tp_seal(&p.st, m, len, &p.wire));
	total = lurk_buf_len(&p.wire);
	for (size_t i = 0; i < total; i++) {
		int r = lurk_tp_feed(&p.ct, lurk_buf_ptr(&p.wire) + i, 1, &used);

		assert_num_eq(used, 1);
		if (i == total - 1) {
			assert_num_eq(r, LURK_TP_MESSAGE);
		} else if (r == LURK_TP_FRAGMENT) {
			frames++;
			assert_false(lurk_tp_frame_partial(&p.ct));
		} else {
			assert_num_eq(r, LURK_TP_NEED_MORE);
			assert_true(lurk_tp_frame_partial(&p.ct) || i == 0);
		}
	}
	assert_num_eq(frames, 1);
	assert_ok(lurk_tp_message(&p.ct, &got, &n));
	assert_num_eq(n, len);
	assert_mem_eq(got, m, len);
	/* A zero-byte feed releases the message and finds nothing. */
	assert_num_eq(lurk_tp_feed(&p.ct, got, 0, &used), LURK_TP_NEED_MORE);
	assert_err(lurk_tp_message(&p.ct, &got, &n), LURK_ERR_STATE);
	free(m);
	pair_free(&p);
}

/* Two messages in one read: the first is found, the rest fed again gives the second. */
static void
test_back_to_back(void)
{
	struct pair p;
	uint8_t *a = pattern(100, 5), *b = pattern(CHUNK + 7, 9);
	const uint8_t *got;
	size_t n, used, len_a;

	pair_new(&p);
	assert_ok(lurk_tp_seal(&p.ct, a, 100, &p.wire));
	len_a = lurk_buf_len(&p.wire);
	assert_ok(lurk_tp_seal(&p.ct, b, CHUNK + 7, &p.wire));
	assert_num_eq(lurk_tp_feed(&p.st, lurk_buf_ptr(&p.wire), lurk_buf_len(&p.wire), &used),
		LURK_TP_MESSAGE);
	assert_num_eq(used, len_a);
	assert_ok(lurk_tp_message(&p.st, &got, &n));
	assert_num_eq(n, 100);
	assert_mem_eq(got, a, 100);
	assert_ok(lurk_buf_consume(&p.wire, used));
	/* Not released by the caller: the next feed does it. */
	assert_num_eq(lurk_tp_feed(&p.st, lurk_buf_ptr(&p.wire), lurk_buf_len(&p.wire), &used),
		LURK_TP_FRAGMENT);
	assert_ok(lurk_buf_consume(&p.wire, used));
	feed_expect(&p.st, lurk_buf_ptr(&p.wire), lurk_buf_len(&p.wire), LURK_TP_MESSAGE);
	assert_ok(lurk_tp_message(&p.st, &got, &n));
	assert_num_eq(n, CHUNK + 7);
	assert_mem_eq(got, b, CHUNK + 7);
	lurk_tp_release(&p.st);
	free(a);
	free(b);
	pair_free(&p);
}

/* The handshake's last frame and the first transport frame in one read. */
static void
test_leftover_after_handshake(void)
{
	uint8_t spk[LURK_NOISE_KEY_LEN], msg1[LURK_MSG1_LEN], msg2[LURK_MSG2_LEN];
	struct lurk_chan *cc, *sc;
	struct lurk_tp ct;
	struct lurk_buf wire;
	const uint8_t *f;
	size_t n, used;
	struct lurk_tp st;

	assert_ok(lurk_noise_pubkey(spk, FIX_SERVER_SK));
	assert_ok(lurk_chan_new_initiator(FIX_CLIENT_SK, spk, &cc));
	assert_ok(lurk_chan_new_responder(FIX_SERVER_SK, spk, fresh_ok, NULL, allow_ok, NULL, &sc));
	assert_ok(lurk_tp_init(&ct, LURK_MSG2_LEN));
	assert_ok(lurk_tp_init(&st, LURK_MSG1_LEN));
	assert_ok(lurk_buf_init(&wire, OUT_MAX));
	assert_ok(lurk_chan_write_msg1(cc, msg1));
	assert_ok(lurk_chan_read_msg1(sc, msg1, sizeof(msg1)));
	assert_ok(lurk_chan_write_msg2(sc, msg2));
	assert_ok(lurk_tp_start(&st, sc));
	assert_ok(lurk_frame_put(&wire, msg2, sizeof(msg2)));
	assert_ok(lurk_tp_seal(&st, (const uint8_t *)"hello", 5, &wire));
	assert_num_eq(
		lurk_tp_feed(&ct, lurk_buf_ptr(&wire), lurk_buf_len(&wire), &used), LURK_TP_FRAME);
	assert_num_eq(used, LURK_FRAME_HDR_LEN + LURK_MSG2_LEN);
	assert_err(lurk_tp_message(&ct, &f, &n), LURK_ERR_STATE);
	assert_ok(lurk_tp_frame(&ct, &f, &n));
	assert_ok(lurk_chan_read_msg2(cc, f, n));
	assert_ok(lurk_tp_start(&ct, cc));
	/* Started once only; and no handshake frames in transport mode. */
	assert_err(lurk_tp_start(&ct, cc), LURK_ERR_STATE);
	assert_err(lurk_tp_frame(&ct, &f, &n), LURK_ERR_STATE);
	assert_ok(lurk_buf_consume(&wire, used));
	feed_expect(&ct, lurk_buf_ptr(&wire), lurk_buf_len(&wire), LURK_TP_MESSAGE);
	assert_ok(lurk_tp_message(&ct, &f, &n));
	assert_num_eq(n, 5);
	assert_mem_eq(f, "hello", 5);
	lurk_tp_clear(&ct);
	lurk_tp_clear(&st);
	lurk_chan_free(cc);
	lurk_chan_free(sc);
	lurk_buf_clear(&wire);
}

/* Every later call on a dead endpoint gives LURK_ERR_STATE. */
static void
assert_dead(struct lurk_tp *t)
{
	const uint8_t *f;
	size_t n, used;
	struct lurk_buf out;

	assert_ok(lurk_buf_init(&out, 1024));
	assert_false(lurk_tp_open(t));
	assert_err(lurk_tp_feed(t, (const uint8_t *)"\0\1x", 3, &used), LURK_ERR_STATE);
	assert_num_eq(used, 0);
	assert_err(lurk_tp_seal(t, (const uint8_t *)"x", 1, &out), LURK_ERR_STATE);
	assert_num_eq(lurk_buf_len(&out), 0);
	assert_err(lurk_tp_message(t, &f, &n), LURK_ERR_STATE);
	lurk_buf_clear(&out);
}

static void
test_tampered(void)
{
	size_t offsets[] = {LURK_FRAME_HDR_LEN, LURK_FRAME_HDR_LEN + 3, 0};

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		struct pair p;
		uint8_t *w;
		size_t len, used;
		int r;

		pair_new(&p);
		assert_ok(lurk_tp_seal(&p.ct, (const uint8_t *)"secret", 6, &p.wire));
		len = lurk_buf_len(&p.wire);
		w = malloc(len);
		assert_ptr_not_null(w);
		memcpy(w, lurk_buf_ptr(&p.wire), len);
		if (offsets[i] == 0) {
			/* The last byte of the tag. */
			w[len - 1] ^= 0x80;
		} else {
			w[offsets[i]] ^= 0x01;
		}
		r = lurk_tp_feed(&p.st, w, len, &used);
		assert_err(r, LURK_ERR_DECRYPT);
		assert_num_eq(lurk_tp_failed_at(&p.st), LURK_TP_AT_DECRYPT);
		assert_dead(&p.st);
		free(w);
		pair_free(&p);
	}
}

/* A header that announces a zero-length frame, or one past the cap: the frame stage. */
static void
test_bad_frames(void)
{
	static const uint8_t zero[] = {0, 0, 1};
	struct pair p;
	size_t used;

	pair_new(&p);
	assert_err(lurk_tp_feed(&p.st, zero, sizeof(zero), &used), LURK_ERR_BAD_FORMAT);
	assert_num_eq(lurk_tp_failed_at(&p.st), LURK_TP_AT_FRAME);
	assert_dead(&p.st);
	pair_free(&p);

	/* During the handshake, frames are capped at the handshake's size. */
	{
		struct lurk_tp t;
		uint8_t hdr[2];

		assert_ok(lurk_tp_init(&t, LURK_MSG1_LEN));
		assert_ok(lurk_frame_header(hdr, LURK_MSG1_LEN + 1));
		assert_err(lurk_tp_feed(&t, hdr, 2, &used), LURK_ERR_TOO_LARGE);
		assert_num_eq(lurk_tp_failed_at(&t), LURK_TP_AT_FRAME);
		assert_dead(&t);
		lurk_tp_clear(&t);
	}
}

/* A frame that decrypts but carries a bad fragment: the fragment stage, partial wiped. */
static void
test_bad_fragment(void)
{
	struct pair p;
	uint8_t *m = pattern(CHUNK + 1, 7);
	uint8_t pt[2] = {0x02, 'x'}, ct[2 + LURK_AEAD_TAG_LEN];
	size_t n, used, fr, msg;

	pair_new(&p);
	/* The first fragment of a two-fragment message arrives. */
	assert_ok(lurk_tp_seal(&p.ct, m, CHUNK + 1, &p.wire));
	assert_num_eq(lurk_tp_feed(&p.st, lurk_buf_ptr(&p.wire), lurk_buf_len(&p.wire), &used),
		LURK_TP_FRAGMENT);
	lurk_tp_pending(&p.st, &fr, &msg);
	assert_num_eq(msg, CHUNK);
	/* Then one with a reserved flag bit, sealed by hand on the same channel. */
	lurk_buf_reset(&p.wire);
	assert_ok(lurk_chan_test_set_nonces(p.cc, 1, 0)); /* the second frame was not sent */
	assert_ok(lurk_chan_encrypt(p.cc, pt, sizeof(pt), ct, sizeof(ct), &n));
	assert_ok(lurk_frame_put(&p.wire, ct, n));
	assert_err(lurk_tp_feed(&p.st, lurk_buf_ptr(&p.wire), lurk_buf_len(&p.wire), &used),
		LURK_ERR_BAD_FORMAT);
	assert_num_eq(lurk_tp_failed_at(&p.st), LURK_TP_AT_FRAGMENT);
	lurk_tp_pending(&p.st, &fr, &msg);
	assert_num_eq(msg, 0);
	assert_false(lurk_tp_message_partial(&p.st));
	assert_dead(&p.st);
	free(m);
	pair_free(&p);
}

/* An output buffer that cannot take the message: nothing of it stays, the endpoint dies. */
static void
test_out_full(void)
{
	struct pair p;
	struct lurk_buf out;
	uint8_t *m = pattern(3 * CHUNK, 11);

	pair_new(&p);
	assert_ok(lurk_buf_init(&out, 2 * LURK_NOISE_MAX_MSG + 100));
	assert_ok(lurk_buf_put_bytes(&out, "queued", 6));
	assert_err(lurk_tp_seal(&p.ct, m, 3 * CHUNK, &out), LURK_ERR_NO_SPACE);
	assert_num_eq(lurk_buf_len(&out), 6);
	assert_mem_eq(lurk_buf_ptr(&out), "queued", 6);
	assert_dead(&p.ct);
	lurk_buf_clear(&out);
	free(m);
	pair_free(&p);
}

/*
 * A failure after some fragments were encrypted (the session's message
 * limit is reached at the second): what this call appended is taken back, what was queued before
 * stays, the endpoint dies.
 */
static void
test_fail_midway(void)
{
	struct pair p;
	struct lurk_buf out;
	uint8_t *m = pattern(2 * CHUNK, 12);

	pair_new(&p);
	assert_ok(lurk_buf_init(&out, OUT_MAX));
	assert_ok(lurk_buf_put_bytes(&out, "queued", 6));
	assert_ok(lurk_chan_test_set_nonces(p.cc, LURK_SESSION_MAX_MESSAGES - 1, 0));
	assert_err(lurk_tp_seal(&p.ct, m, 2 * CHUNK, &out), LURK_ERR_SESSION_EXPIRED);
	assert_num_eq(lurk_buf_len(&out), 6);
	assert_mem_eq(lurk_buf_ptr(&out), "queued", 6);
	assert_dead(&p.ct);
	lurk_buf_clear(&out);
	free(m);
	pair_free(&p);
}

static void
test_session_id(void)
{
	struct pair p;
	const char *a, *b;

	pair_new(&p);
	a = lurk_tp_session(&p.ct);
	b = lurk_tp_session(&p.st);
	assert_num_eq(strlen(a), LURK_TP_SESSION_LEN);
	assert_num_eq(LURK_TP_SESSION_LEN, 16);
	for (size_t i = 0; i < strlen(a); i++)
		assert_true(isxdigit((unsigned char)a[i]) && !isupper((unsigned char)a[i]));
	assert_str_eq(a, b);
	pair_free(&p);
}

/* What a partial request holds, and that an idle endpoint holds nothing. */
static void
test_held(void)
{
	struct pair p;
	size_t fr, msg, used, off;
	uint8_t *m = pattern(CHUNK + 1, 2);
	int r;

	pair_new(&p);
	assert_ok(lurk_tp_seal(&p.ct, m, CHUNK + 1, &p.wire));
	/* Part of the first frame: its buffer is held. */
	assert_num_eq(lurk_tp_feed(&p.st, lurk_buf_ptr(&p.wire), 1000, &used), LURK_TP_NEED_MORE);
	assert_true(lurk_tp_frame_partial(&p.st));
	assert_false(lurk_tp_message_partial(&p.st));
	lurk_tp_trim(&p.st);
	lurk_tp_pending(&p.st, &fr, &msg);
	assert_num_cmp(fr, >=, 1000 - LURK_FRAME_HDR_LEN);
	assert_num_eq(msg, 0);
	/* The first frame whole: its fragment is held, the frame's buffer goes with a trim. */
	off = used;
	r = lurk_tp_feed(&p.st, lurk_buf_ptr(&p.wire) + off, lurk_buf_len(&p.wire) - off, &used);
	assert_num_eq(r, LURK_TP_FRAGMENT);
	off += used;
	assert_false(lurk_tp_frame_partial(&p.st));
	assert_true(lurk_tp_message_partial(&p.st));
	lurk_tp_trim(&p.st);
	lurk_tp_pending(&p.st, &fr, &msg);
	assert_num_eq(fr, 0);
	assert_num_eq(msg, CHUNK);
	assert_num_eq(lurk_frame_reader_held(&p.st.frames), 0);
	feed_expect(
		&p.st, lurk_buf_ptr(&p.wire) + off, lurk_buf_len(&p.wire) - off, LURK_TP_MESSAGE);
	lurk_tp_release(&p.st);
	lurk_tp_trim(&p.st);
	lurk_tp_pending(&p.st, &fr, &msg);
	assert_num_eq(fr, 0);
	assert_num_eq(msg, 0);
	assert_num_eq(lurk_frame_reader_held(&p.st.frames), 0);
	assert_false(lurk_tp_frame_partial(&p.st));
	assert_false(lurk_tp_message_partial(&p.st));
	free(m);
	pair_free(&p);
}

int
main(int argc, char **argv)
{
	lurk_test(test_sizes, "/transport/sizes");
	lurk_test(test_over_max, "/transport/over-max");
	lurk_test(test_byte_at_a_time, "/transport/byte-at-a-time");
	lurk_test(test_back_to_back, "/transport/back-to-back");
	lurk_test(test_leftover_after_handshake, "/transport/leftover-after-handshake");
	lurk_test(test_tampered, "/transport/tampered");
	lurk_test(test_bad_frames, "/transport/bad-frames");
	lurk_test(test_bad_fragment, "/transport/bad-fragment");
	lurk_test(test_out_full, "/transport/out-full");
	lurk_test(test_fail_midway, "/transport/fail-midway");
	lurk_test(test_session_id, "/transport/session-id");
	lurk_test(test_held, "/transport/held");
	return lurk_test_run(argc, argv);
}
