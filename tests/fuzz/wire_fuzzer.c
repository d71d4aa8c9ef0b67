/*
 * Fuzz target for the wire protocol. The first byte picks how the rest is
 * fed:
 *	0:    the rest is one message; it is fragmented with lurk_wire_frag and
 *	      reassembled, and must come back unchanged;
 *	k>0:  the rest is a run of transport plaintexts of k bytes each (flags
 *	      byte included, so bad flags are reached), fed to the reassembler;
 *	      every distinct message it completes is checked.
 * A message is checked by the header parse and every body parser, on the
 * body after the header and on the raw bytes. A body any parser accepts
 * must be canonical: building what was parsed gives back exactly those
 * bytes, which parse again. Must never crash, leak or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

#include "buf.h"
#include "err.h"
#include "wire-frost.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse, then build with id 0: 0 parsed and built, 1 refused by the parser, or the build error. */
typedef int (*rebuild_fn)(struct lurk_buf *in, struct lurk_buf *out);

static int
rb_list_req(struct lurk_buf *in, struct lurk_buf *out)
{
	if (lurk_wire_list_req_parse(in) != 0)
		return 1;
	return lurk_wire_list_req_build(out, 0);
}

static int
rb_list_resp(struct lurk_buf *in, struct lurk_buf *out)
{
	struct lurk_wire_list_resp m;
	int r;

	if (lurk_wire_list_resp_parse(in, &m) != 0)
		return 1;
	r = lurk_wire_list_resp_build(out, 0, &m);
	lurk_wire_list_resp_clear(&m);
	return r;
}

static int
rb_sign_req(struct lurk_buf *in, struct lurk_buf *out)
{
	struct lurk_wire_sign_req m;

	if (lurk_wire_sign_req_parse(in, &m) != 0)
		return 1;
	return lurk_wire_sign_req_build(out, 0, &m);
}

static int
rb_sign_resp(struct lurk_buf *in, struct lurk_buf *out)
{
	struct lurk_wire_sign_resp m;

	if (lurk_wire_sign_resp_parse(in, &m) != 0)
		return 1;
	return lurk_wire_sign_resp_build(out, 0, &m);
}

static int
rb_decrypt_req(struct lurk_buf *in, struct lurk_buf *out)
{
	struct lurk_wire_decrypt_req m;

	if (lurk_wire_decrypt_req_parse(in, &m) != 0)
		return 1;
	return lurk_wire_decrypt_req_build(out, 0, &m);
}

static int
rb_decrypt_resp(struct lurk_buf *in, struct lurk_buf *out)
{
	struct lurk_wire_decrypt_resp m;
	int r;

	if (lurk_wire_decrypt_resp_parse(in, &m) != 0)
		return 1;
	r = lurk_wire_decrypt_resp_build(out, 0, &m);
	lurk_wire_decrypt_resp_clear(&m);
	return r;
}

static int
rb_ping_req(struct lurk_buf *in, struct lurk_buf *out)
{
	if (lurk_wire_ping_req_parse(in) != 0)
		return 1;
	return lurk_wire_ping_req_build(out, 0);
}

static int
rb_ping_resp(struct lurk_buf *in, struct lurk_buf *out)
{
	struct lurk_wire_ping_resp m;

	if (lurk_wire_ping_resp_parse(in, &m) != 0)
		return 1;
	return lurk_wire_ping_resp_build(out, 0, &m);
}

static int
rb_error(struct lurk_buf *in, struct lurk_buf *out)
{
	struct lurk_wire_error m;

	if (lurk_wire_error_parse(in, &m) != 0)
		return 1;
	return lurk_wire_error_build(out, 0, &m);
}

/* The split-key messages (wire-frost.h). */
#define RB_FROST(name, type_)                                                                      \
	static int rb_##name(struct lurk_buf *in, struct lurk_buf *out)                            \
	{                                                                                          \
		struct lurk_wire_##type_ m;                                                        \
		if (lurk_wire_##type_##_parse(in, &m) != 0)                                        \
			return 1;                                                                  \
		return lurk_wire_##type_##_build(out, 0, &m);                                      \
	}
RB_FROST(frost_commit_req, frost_commit_req)
RB_FROST(frost_commit_resp, frost_commit_resp)
RB_FROST(frost_sign_req, frost_sign_req)
RB_FROST(frost_sign_resp, frost_sign_resp)
RB_FROST(rsa_partial_req, rsa_partial_req)
RB_FROST(rsa_partial_resp, rsa_partial_resp)

static const struct {
	uint8_t type;
	rebuild_fn fn;
} parsers[] = {
	{LURK_WIRE_LIST, rb_list_req},
	{LURK_WIRE_LIST_RESP, rb_list_resp},
	{LURK_WIRE_SIGN, rb_sign_req},
	{LURK_WIRE_SIGN_RESP, rb_sign_resp},
	{LURK_WIRE_DECRYPT, rb_decrypt_req},
	{LURK_WIRE_DECRYPT_RESP, rb_decrypt_resp},
	{LURK_WIRE_PING, rb_ping_req},
	{LURK_WIRE_PING_RESP, rb_ping_resp},
	{LURK_WIRE_ERROR, rb_error},
	{LURK_WIRE_FROST_COMMIT, rb_frost_commit_req},
	{LURK_WIRE_FROST_COMMIT_RESP, rb_frost_commit_resp},
	{LURK_WIRE_FROST_SIGN, rb_frost_sign_req},
	{LURK_WIRE_FROST_SIGN_RESP, rb_frost_sign_resp},
	{LURK_WIRE_RSA_PARTIAL, rb_rsa_partial_req},
	{LURK_WIRE_RSA_PARTIAL_RESP, rb_rsa_partial_resp},
};

/*
 * Parser i on `in` (holding `body`); if it accepts, the rebuild must be the
 * header and exactly `body`, and must parse again to the same bytes.
 */
static void
check_parser(size_t i, struct lurk_buf *in, const uint8_t *body, size_t n, struct lurk_buf *out,
	struct lurk_buf *out2)
{
	struct lurk_wire_hdr h;
	struct lurk_buf again;
	int r;

	lurk_buf_reset(out);
	lurk_buf_reset(out2);
	r = parsers[i].fn(in, out);
	if (r == 1)
		return;
	/* A body at the message cap can be one header too big to rebuild. */
	if (r == LURK_ERR_TOO_LARGE && n > LURK_WIRE_MAX_MSG - LURK_WIRE_HDR_LEN)
		return;
	if (r != 0 || lurk_buf_len(in) != 0 || lurk_buf_len(out) != LURK_WIRE_HDR_LEN + n ||
		memcmp(lurk_buf_ptr(out) + LURK_WIRE_HDR_LEN, body, n) != 0)
		abort();
	lurk_buf_view(&again, lurk_buf_ptr(out), lurk_buf_len(out));
	if (lurk_wire_header_parse(&again, &h) != 0 || h.type != parsers[i].type || h.id != 0 ||
		parsers[i].fn(&again, out2) != 0 || lurk_buf_len(out2) != lurk_buf_len(out) ||
		memcmp(lurk_buf_ptr(out2), lurk_buf_ptr(out), lurk_buf_len(out)) != 0)
		abort();
}

/*
 * Scratch buffers, made once: three new buffers for every body checked cost
 * more than the parsing (ASan's allocator fills, quarantines and page-faults
 * every block). Reset wipes what a run left.
 */
static struct lurk_buf *copy_buf, *out_buf, *out2_buf;

static void
scratch_init(void)
{
	if (copy_buf != NULL)
		return;
	if ((copy_buf = lurk_buf_new(LURK_BUF_SIZE_MAX)) == NULL ||
		(out_buf = lurk_buf_new(LURK_BUF_SIZE_MAX)) == NULL ||
		(out2_buf = lurk_buf_new(LURK_BUF_SIZE_MAX)) == NULL)
		abort();
}

/*
 * The writable copy keeps its allocation between inputs, so the bytes past
 * the body are poisoned for AddressSanitizer while parsers read it: a read
 * past the body is caught as it would be in an exact-size allocation.
 * (Parsers only read and wipe inside the body; buf.c writes past it only
 * when putting, and the copy is unpoisoned before that.)
 */
static void
copy_poison_tail(int on)
{
#ifdef FUZZ_ASAN
	size_t used = copy_buf->size;

	if (copy_buf->d == NULL)
		return;
	if (on)
		ASAN_POISON_MEMORY_REGION(copy_buf->d + used, copy_buf->alloc - used);
	else
		ASAN_UNPOISON_MEMORY_REGION(copy_buf->d, copy_buf->alloc);
#else
	(void)on;
#endif
}

/* Every parser on `body`, from a read-only view and from a writable copy. */
static void
check_body(const uint8_t *body, size_t n)
{
	struct lurk_buf view;

	scratch_init();
	for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		lurk_buf_view(&view, body, n);
		check_parser(i, &view, body, n, out_buf, out2_buf);
		copy_poison_tail(0);
		lurk_buf_reset(copy_buf);
		if (lurk_buf_put_bytes(copy_buf, body, n) != 0)
			abort();
		copy_poison_tail(1);
		check_parser(i, copy_buf, body, n, out_buf, out2_buf);
	}
	copy_poison_tail(0);
	lurk_buf_reset(copy_buf);
}

static void
check_message(const uint8_t *msg, size_t n)
{
	struct lurk_wire_hdr h, peek;
	struct lurk_buf in;
	int r;

	lurk_buf_view(&in, msg, n);
	/* The id of any message with a whole header can be peeked, to answer it. */
	if (lurk_wire_header_peek(&in, &peek) != (n < LURK_WIRE_HDR_LEN ? LURK_ERR_INCOMPLETE : 0))
		abort();
	r = lurk_wire_header_parse(&in, &h);
	if (r == 0 && (h.type != peek.type || h.id != peek.id))
		abort();
	if (r == 0) {
		if (lurk_buf_len(&in) != n - LURK_WIRE_HDR_LEN)
			abort();
		check_body(lurk_buf_ptr(&in), lurk_buf_len(&in));
	} else if (lurk_buf_len(&in) != n) {
		abort();
	}
	check_body(msg, n);
}

/* Mode 0: the message through our own fragmentation must come back whole. */
static void
fragment_and_reassemble(const uint8_t *msg, size_t n)
{
	/* 64 KiB: made once (the fragmenter wipes what it held after each use). */
	static struct lurk_wire_frag *f;
	struct lurk_wire_reasm r;
	const uint8_t *pt;
	size_t pt_len;
	int ret, fed = 0;

	if (f == NULL && (f = malloc(sizeof(*f))) == NULL)
		abort();
	if (lurk_wire_reasm_init(&r) != 0)
		abort();
	lurk_wire_frag_init(f, msg, n);
	while ((ret = lurk_wire_frag_next(f, &pt, &pt_len)) == 1) {
		if (pt_len > LURK_NOISE_MAX_PLAINTEXT)
			abort();
		fed = lurk_wire_reasm_feed(&r, pt, pt_len);
		if (fed < 0)
			abort();
	}
	if (ret != 0 || fed != 1 || lurk_wire_reasm_len(&r) != n ||
		memcmp(lurk_wire_reasm_msg(&r), msg, n) != 0)
		abort();
	/*
	 * The message came back byte for byte, so it is not checked again
	 * here: LLVMFuzzerTestOneInput checks the same bytes from the input
	 * itself, an exact-size allocation where any over-read shows.
	 */
	lurk_wire_reasm_clear(&r);
}

/*
 * Short messages already checked for this input. Small k completes a message
 * every few bytes (k = 1: an empty one per 0x00 byte), and the checks are
 * pure functions of the bytes, so each distinct message is checked once:
 * thousands of identical checks per input made the target ~100x slower.
 * An open-addressing set; a generation number empties it per input.
 */
#define SEEN_SLOTS   4096 /* a power of two, more than an input's messages */
#define SEEN_MSG_MAX 32   /* longer messages are always checked */

struct seen {
	uint32_t gen;
	size_t count;
	uint32_t slot_gen[SEEN_SLOTS];
	uint8_t len[SEEN_SLOTS];
	uint8_t msg[SEEN_SLOTS][SEEN_MSG_MAX];
};

/* 1 if msg was checked already; else records it (when it fits) and returns 0. */
static int
seen_before(struct seen *s, const uint8_t *msg, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)n;
	size_t i;

	if (n > SEEN_MSG_MAX || s->count >= SEEN_SLOTS / 2)
		return 0;
	for (size_t j = 0; j < n; j++)
		h = (h ^ msg[j]) * 16777619u;
	for (i = h & (SEEN_SLOTS - 1); s->slot_gen[i] == s->gen; i = (i + 1) & (SEEN_SLOTS - 1)) {
		if (s->len[i] == n && (n == 0 || memcmp(s->msg[i], msg, n) == 0))
			return 1;
	}
	s->slot_gen[i] = s->gen;
	s->len[i] = (uint8_t)n;
	if (n != 0)
		memcpy(s->msg[i], msg, n);
	s->count++;
	return 0;
}

/* Mode k: the input's own plaintexts, k bytes each. */
static void
reassemble_pieces(const uint8_t *p, size_t n, size_t k)
{
	static struct seen seen;
	struct lurk_wire_reasm r;

	seen.count = 0;
	if (++seen.gen == 0) { /* wrapped: forget every slot */
		memset(seen.slot_gen, 0, sizeof(seen.slot_gen));
		seen.gen = 1;
	}
	if (lurk_wire_reasm_init(&r) != 0)
		abort();
	for (size_t off = 0; off < n; off += k) {
		size_t len = n - off < k ? n - off : k;
		int ret = lurk_wire_reasm_feed(&r, p + off, len);

		if (ret == 1) {
			const uint8_t *msg = lurk_wire_reasm_msg(&r);
			size_t msg_len = lurk_wire_reasm_len(&r);

			if (msg == NULL)
				abort();
			if (!seen_before(&seen, msg, msg_len))
				check_message(msg, msg_len);
			lurk_wire_reasm_reset(&r);
		} else if (ret < 0 && (lurk_wire_reasm_len(&r) != 0 || r.msg.alloc != 0)) {
			abort(); /* an error drops the partial message */
		}
	}
	lurk_wire_reasm_clear(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] == 0 && size - 1 <= LURK_WIRE_MAX_MSG)
		fragment_and_reassemble(data + 1, size - 1);
	else if (data[0] != 0)
		reassemble_pieces(data + 1, size - 1, data[0]);
	/* And every parser straight on the raw input. */
	check_message(data + 1, size - 1);
	return 0;
}
