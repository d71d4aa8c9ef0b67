/*
 * The wire protocol around the messages: fragmentation at and around the
 * transport limit, reassembly and its refusals (cap, flags, empty
 * fragments), the header, error classes and the text check.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "tap.h"
#include "wire.h"

#define CHUNK LURK_WIRE_FRAG_MAX_CHUNK

static uint8_t *
pattern(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_ptr_not_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + i / 251);
	return p;
}

/* Fragments a message of `len` bytes, checks every fragment, reassembles it. */
static void
frag_roundtrip(size_t len, size_t want_frags)
{
	uint8_t *msg = pattern(len);
	struct lurk_wire_frag *f = malloc(sizeof(*f));
	struct lurk_wire_reasm r;
	const uint8_t *pt;
	size_t pt_len, n = 0, total = 0;
	int ret;

	assert_ptr_not_null(f);
	assert_ok(lurk_wire_reasm_init(&r));
	lurk_wire_frag_init(f, msg, len);
	while ((ret = lurk_wire_frag_next(f, &pt, &pt_len)) == 1) {
		int last = total + (pt_len - 1) == len;

		n++;
		assert_num_cmp(pt_len, >=, 1);
		assert_num_cmp(pt_len, <=, LURK_NOISE_MAX_PLAINTEXT);
		assert_num_eq(pt[0], last ? 0 : LURK_WIRE_FRAG_MORE);
		/* Only the last fragment may be short. */
		if (!last)
			assert_num_eq(pt_len, LURK_NOISE_MAX_PLAINTEXT);
		total += pt_len - 1;
		assert_num_eq(lurk_wire_reasm_feed(&r, pt, pt_len), last ? 1 : 0);
	}
	assert_ok(ret);
	assert_num_eq(n, want_frags);
	/* Done, again done; the copy was wiped. */
	assert_num_eq(lurk_wire_frag_next(f, &pt, &pt_len), 0);
	assert_ptr_null(pt);
	assert_num_eq(f->pt[0], 0);
	assert_num_eq(lurk_wire_reasm_len(&r), len);
	assert_mem_eq(lurk_wire_reasm_msg(&r), msg, len);
	lurk_wire_reasm_clear(&r);
	free(f);
	free(msg);
}

static void
test_boundaries(void)
{
	frag_roundtrip(0, 1);
	frag_roundtrip(1, 1);
	frag_roundtrip(CHUNK - 1, 1);
	frag_roundtrip(CHUNK, 1); /* exactly LURK_NOISE_MAX_PLAINTEXT with the flags byte */
	frag_roundtrip(CHUNK + 1, 2);
	frag_roundtrip(2 * CHUNK, 2);
	frag_roundtrip(2 * CHUNK + 1, 3);
	frag_roundtrip(LURK_WIRE_MAX_MSG, (LURK_WIRE_MAX_MSG + CHUNK - 1) / CHUNK);
}

static void
test_frag_too_large(void)
{
	static uint8_t msg[1];
	struct lurk_wire_frag *f = malloc(sizeof(*f));
	const uint8_t *pt = msg;
	size_t pt_len = 9;

	/* The length alone is refused; the bytes are never read. */
	lurk_wire_frag_init(f, msg, LURK_WIRE_MAX_MSG + 1);
	assert_err(lurk_wire_frag_next(f, &pt, &pt_len), LURK_ERR_TOO_LARGE);
	assert_ptr_null(pt);
	assert_num_eq(pt_len, 0);
	lurk_wire_frag_init(f, NULL, 5);
	assert_err(lurk_wire_frag_next(f, &pt, &pt_len), LURK_ERR_INVALID_ARG);
	free(f);
}

/* A caller that stops after the first fragment wipes the copy with clear. */
static void
test_frag_clear(void)
{
	uint8_t *msg = pattern(CHUNK + 10);
	struct lurk_wire_frag *f = malloc(sizeof(*f));
	const uint8_t *pt;
	size_t pt_len;

	lurk_wire_frag_init(f, msg, CHUNK + 10);
	assert_num_eq(lurk_wire_frag_next(f, &pt, &pt_len), 1);
	assert_num_eq(pt[1], msg[0]);
	lurk_wire_frag_clear(f);
	for (size_t i = 0; i < LURK_NOISE_MAX_PLAINTEXT; i++)
		assert_num_eq(f->pt[i], 0);
	assert_num_eq(lurk_wire_frag_next(f, &pt, &pt_len), 0);
	free(f);
	free(msg);
}

/* The cap is checked before appending: nothing is allocated past it. */
static void
test_reasm_cap(void)
{
	static uint8_t pt[LURK_NOISE_MAX_PLAINTEXT];
	struct lurk_wire_reasm r;
	size_t fed = 0;

	assert_ok(lurk_wire_reasm_init(&r));
	pt[0] = LURK_WIRE_FRAG_MORE;
	while (LURK_WIRE_MAX_MSG - fed >= CHUNK) {
		assert_ok(lurk_wire_reasm_feed(&r, pt, sizeof(pt)));
		fed += CHUNK;
	}
	/* Fill up to exactly the cap, still MORE. */
	assert_ok(lurk_wire_reasm_feed(&r, pt, 1 + (LURK_WIRE_MAX_MSG - fed)));
	assert_num_cmp(r.msg.alloc, <=, LURK_WIRE_MAX_MSG);
	/* One byte more is refused, and the partial message dropped. */
	pt[0] = 0;
	assert_err(lurk_wire_reasm_feed(&r, pt, 2), LURK_ERR_TOO_LARGE);
	assert_num_eq(r.msg.alloc, 0);
	assert_num_eq(lurk_wire_reasm_len(&r), 0);
	assert_ptr_null(lurk_wire_reasm_msg(&r));
	/* A message of exactly the cap is fine. */
	pt[0] = LURK_WIRE_FRAG_MORE;
	for (fed = 0; LURK_WIRE_MAX_MSG - fed > CHUNK; fed += CHUNK)
		assert_ok(lurk_wire_reasm_feed(&r, pt, sizeof(pt)));
	pt[0] = 0;
	assert_num_eq(lurk_wire_reasm_feed(&r, pt, 1 + (LURK_WIRE_MAX_MSG - fed)), 1);
	assert_num_eq(lurk_wire_reasm_len(&r), LURK_WIRE_MAX_MSG);
	lurk_wire_reasm_clear(&r);
	/* A plaintext over the transport limit cannot come from the channel. */
	assert_ok(lurk_wire_reasm_init(&r));
	{
		uint8_t *p = calloc(1, LURK_NOISE_MAX_PLAINTEXT + 1);

		assert_err(lurk_wire_reasm_feed(&r, p, LURK_NOISE_MAX_PLAINTEXT + 1),
			LURK_ERR_TOO_LARGE);
		free(p);
	}
	lurk_wire_reasm_clear(&r);
}

static void
test_reasm_bad_fragments(void)
{
	static const uint8_t flags[] = {0x02, 0x03, 0x80, 0x81, 0xfe, 0xff};
	const uint8_t more_a[] = {LURK_WIRE_FRAG_MORE, 'a'};
	const uint8_t empty_more[] = {LURK_WIRE_FRAG_MORE};
	const uint8_t empty_final[] = {0};
	struct lurk_wire_reasm r;

	assert_ok(lurk_wire_reasm_init(&r));
	for (size_t i = 0; i < sizeof(flags); i++) {
		uint8_t pt[2] = {flags[i], 'x'};

		assert_ok(lurk_wire_reasm_feed(&r, more_a, sizeof(more_a)));
		assert_err(lurk_wire_reasm_feed(&r, pt, sizeof(pt)), LURK_ERR_BAD_FORMAT);
		/* The partial message went with the error. */
		assert_num_eq(lurk_wire_reasm_feed(&r, empty_final, 1), 1);
		assert_num_eq(lurk_wire_reasm_len(&r), 0);
		assert_ptr_not_null(lurk_wire_reasm_msg(&r));
		lurk_wire_reasm_reset(&r);
	}
	/* An empty fragment that promises more would let a peer spin us for free. */
	assert_err(lurk_wire_reasm_feed(&r, empty_more, 1), LURK_ERR_BAD_FORMAT);
	assert_ok(lurk_wire_reasm_feed(&r, more_a, sizeof(more_a)));
	assert_err(lurk_wire_reasm_feed(&r, empty_more, 1), LURK_ERR_BAD_FORMAT);
	/* No flags byte at all. */
	assert_err(lurk_wire_reasm_feed(&r, empty_final, 0), LURK_ERR_INCOMPLETE);
	/* An empty final fragment ends a message. */
	assert_ok(lurk_wire_reasm_feed(&r, more_a, sizeof(more_a)));
	assert_num_eq(lurk_wire_reasm_feed(&r, empty_final, 1), 1);
	assert_num_eq(lurk_wire_reasm_len(&r), 1);
	assert_mem_eq(lurk_wire_reasm_msg(&r), "a", 1);
	/* A complete message must be reset before the next. */
	assert_err(lurk_wire_reasm_feed(&r, more_a, sizeof(more_a)), LURK_ERR_STATE);
	lurk_wire_reasm_reset(&r);
	assert_ptr_null(lurk_wire_reasm_msg(&r));
	assert_ok(lurk_wire_reasm_feed(&r, more_a, sizeof(more_a)));
	assert_ptr_null(lurk_wire_reasm_msg(&r));
	assert_num_eq(lurk_wire_reasm_len(&r), 0);
	lurk_wire_reasm_clear(&r);
}

static void
test_header(void)
{
	uint8_t msg[] = {LURK_WIRE_VERSION, LURK_WIRE_SIGN, 0xde, 0xad, 0xbe, 0xef, 0x42};
	struct lurk_wire_hdr h;
	struct lurk_buf in;

	lurk_buf_view(&in, msg, sizeof(msg));
	assert_ok(lurk_wire_header_parse(&in, &h));
	assert_num_eq(h.version, LURK_WIRE_VERSION);
	assert_num_eq(h.type, LURK_WIRE_SIGN);
	assert_num_eq(h.id, 0xdeadbeef);
	assert_num_eq(lurk_buf_len(&in), 1);
	/* Every shorter input is incomplete, output zeroed, cursor unmoved. */
	for (size_t n = 0; n < LURK_WIRE_HDR_LEN; n++) {
		uint8_t *p = malloc(n ? n : 1);

		memcpy(p, msg, n);
		lurk_buf_view(&in, p, n);
		memset(&h, 0xaa, sizeof(h));
		assert_err(lurk_wire_header_parse(&in, &h), LURK_ERR_INCOMPLETE);
		assert_num_eq(h.id, 0);
		assert_num_eq(lurk_buf_len(&in), n);
		assert_err(lurk_wire_header_peek(&in, &h), LURK_ERR_INCOMPLETE);
		free(p);
	}
	/* Other versions: refused, but the id can be peeked to answer. */
	for (int v = 0; v < 256; v++) {
		if (v == LURK_WIRE_VERSION)
			continue;
		msg[0] = (uint8_t)v;
		lurk_buf_view(&in, msg, sizeof(msg));
		assert_err(lurk_wire_header_parse(&in, &h), LURK_ERR_BAD_VERSION);
		assert_num_eq(h.id, 0);
		assert_num_eq(lurk_buf_len(&in), sizeof(msg));
		assert_ok(lurk_wire_header_peek(&in, &h));
		assert_num_eq(h.version, v);
		assert_num_eq(h.id, 0xdeadbeef);
	}
	/* Exactly the fifteen known types pass (nine, and the six split-key ones). */
	msg[0] = LURK_WIRE_VERSION;
	for (int t = 0, known = 0; t < 256; t++) {
		msg[1] = (uint8_t)t;
		lurk_buf_view(&in, msg, sizeof(msg));
		if (lurk_wire_header_parse(&in, &h) == 0)
			known++;
		if (t == 255)
			assert_num_eq(known, 15);
	}
}

static void
test_status_mapping(void)
{
	static const int roundtrip[] = {LURK_ERR_DENIED, LURK_ERR_POLICY, LURK_ERR_RATE_LIMIT,
		LURK_ERR_NOT_FOUND, LURK_ERR_MECHANISM, LURK_ERR_CRYPTO};

	for (size_t i = 0; i < LURK_ARRAY_LEN(roundtrip); i++)
		assert_num_eq(lurk_wire_status_to_err(lurk_wire_status_from_err(roundtrip[i])),
			roundtrip[i]);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_BAD_FORMAT), LURK_WIRE_ST_PROTOCOL);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_UNKNOWN_OP), LURK_WIRE_ST_PROTOCOL);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_TRAILING), LURK_WIRE_ST_PROTOCOL);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_UNKNOWN_PEER), LURK_WIRE_ST_DENIED);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_BAD_VERSION), LURK_WIRE_ST_PROTOCOL);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_ALLOC), LURK_WIRE_ST_INTERNAL);
	/* lurkd's answers: its errors go out through this table (server/handle.c). */
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_INTERNAL), LURK_WIRE_ST_INTERNAL);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_AUDIT), LURK_WIRE_ST_INTERNAL);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_DENIED), LURK_WIRE_ST_DENIED);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_RATE_LIMIT), LURK_WIRE_ST_RATE_LIMIT);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_NOT_FOUND), LURK_WIRE_ST_NOT_FOUND);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_POLICY), LURK_WIRE_ST_POLICY);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_MECHANISM), LURK_WIRE_ST_MECHANISM);
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_CRYPTO), LURK_WIRE_ST_CRYPTO);
	/* The client tells each refusal class apart (the module maps them to CKR_*). */
	for (uint16_t s = LURK_WIRE_ST_PROTOCOL; s <= LURK_WIRE_ST_LAST; s++)
		for (uint16_t t = LURK_WIRE_ST_PROTOCOL; t < s; t++)
			if (lurk_wire_status_to_err(s) != LURK_ERR_PEER)
				assert_true(
					lurk_wire_status_to_err(s) != lurk_wire_status_to_err(t));
	assert_num_eq(lurk_wire_status_from_err(LURK_ERR_IO), LURK_WIRE_ST_INTERNAL);
	assert_num_eq(lurk_wire_status_from_err(0), LURK_WIRE_ST_INTERNAL);
	assert_num_eq(lurk_wire_status_to_err(LURK_WIRE_ST_PROTOCOL), LURK_ERR_PEER);
	assert_num_eq(lurk_wire_status_to_err(LURK_WIRE_ST_INTERNAL), LURK_ERR_PEER);
	assert_num_eq(lurk_wire_status_to_err(0), LURK_ERR_PEER);
	assert_num_eq(lurk_wire_status_to_err(0xffff), LURK_ERR_PEER);
	for (uint16_t s = LURK_WIRE_ST_PROTOCOL; s <= LURK_WIRE_ST_LAST; s++)
		assert_true(strcmp(lurk_wire_status_str(s), "unknown status") != 0);
	assert_str_eq(lurk_wire_status_str(0), "unknown status");
	assert_str_eq(lurk_wire_status_str(LURK_WIRE_ST_LAST + 1), "unknown status");
}

static void
test_text_check(void)
{
	static const struct {
		const char *s;
		size_t n;
		int err;
	} cases[] = {
		{"", 0, 0},
		{"plain ascii", 11, 0},
		{"\xc3\xa9", 2, 0},         /* U+00E9 */
		{"\xe2\x9c\x93", 3, 0},     /* U+2713 */
		{"\xf0\x9f\x94\x91", 4, 0}, /* U+1F511 */
		{"\xf4\x8f\xbf\xbf", 4, 0}, /* U+10FFFF */
		{"a\0b", 3, LURK_ERR_EMBEDDED_NUL},
		{"\0", 1, LURK_ERR_EMBEDDED_NUL},
		{"\x80", 1, LURK_ERR_BAD_FORMAT},             /* lone continuation */
		{"\xc0\x80", 2, LURK_ERR_BAD_FORMAT},         /* overlong NUL */
		{"\xc1\xbf", 2, LURK_ERR_BAD_FORMAT},         /* overlong */
		{"\xe0\x80\xaf", 3, LURK_ERR_BAD_FORMAT},     /* overlong '/' */
		{"\xf0\x80\x80\xaf", 4, LURK_ERR_BAD_FORMAT}, /* overlong '/' */
		{"\xed\xa0\x80", 3, LURK_ERR_BAD_FORMAT},     /* surrogate U+D800 */
		{"\xf4\x90\x80\x80", 4, LURK_ERR_BAD_FORMAT}, /* U+110000 */
		{"\xf5\x80\x80\x80", 4, LURK_ERR_BAD_FORMAT},
		{"\xe2\x9c", 2, LURK_ERR_BAD_FORMAT},     /* cut short */
		{"\xe2\x28\xa1", 3, LURK_ERR_BAD_FORMAT}, /* bad continuation */
		{"\xff", 1, LURK_ERR_BAD_FORMAT},
	};

	for (size_t i = 0; i < LURK_ARRAY_LEN(cases); i++) {
		uint8_t *p = malloc(cases[i].n ? cases[i].n : 1);

		memcpy(p, cases[i].s, cases[i].n);
		if (lurk_wire_text_check(p, cases[i].n) != cases[i].err)
			lurk_test_diag("case %zu", i);
		assert_err(lurk_wire_text_check(p, cases[i].n), cases[i].err);
		free(p);
	}
}

int
main(int argc, char **argv)
{
	lurk_test(test_boundaries, "/wire/frag/boundaries");
	lurk_test(test_frag_too_large, "/wire/frag/too-large");
	lurk_test(test_frag_clear, "/wire/frag/clear");
	lurk_test(test_reasm_cap, "/wire/reasm/cap");
	lurk_test(test_reasm_bad_fragments, "/wire/reasm/bad-fragments");
	lurk_test(test_header, "/wire/header");
	lurk_test(test_status_mapping, "/wire/status");
	lurk_test(test_text_check, "/wire/text");
	return lurk_test_run(argc, argv);
}
