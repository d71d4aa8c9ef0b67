/*
 * u16 length framing: headers, a reader fed byte by byte, in big and random
 * chunks, zero-length and maximum-length frames, frames over the reader's cap.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "frame.h"
#include "tap.h"

static const size_t sizes[] = {1, 2, 48, 112, 255, 256, 300, 4096, 65535, 7};

/* The frames of sizes[], each filled with its index, one after another. */
static uint8_t *
make_stream(size_t *len)
{
	size_t total = 0, off = 0;
	uint8_t *s;

	for (size_t i = 0; i < LURK_ARRAY_LEN(sizes); i++)
		total += LURK_FRAME_HDR_LEN + sizes[i];
	s = malloc(total);
	assert_ptr_not_null(s);
	for (size_t i = 0; i < LURK_ARRAY_LEN(sizes); i++) {
		assert_ok(lurk_frame_header(s + off, sizes[i]));
		off += LURK_FRAME_HDR_LEN;
		memset(s + off, (int)i + 1, sizes[i]);
		off += sizes[i];
	}
	*len = total;
	return s;
}

/* Feeds the stream in chunks of chunk() bytes; checks every frame comes out whole. */
static void
run_stream(size_t (*chunk)(void))
{
	struct lurk_frame_reader fr;
	size_t len, off = 0, got = 0;
	uint8_t *s = make_stream(&len);

	assert_ok(lurk_frame_reader_init(&fr, LURK_NOISE_MAX_MSG));
	while (off < len) {
		size_t n = chunk(), used;
		int r;

		if (n > len - off)
			n = len - off;
		while (n > 0) {
			const uint8_t *f;
			size_t flen;

			r = lurk_frame_reader_feed(&fr, s + off, n, &used);
			assert_true(r == 0 || r == 1);
			assert_num_cmp(used, <=, n);
			off += used;
			n -= used;
			if (r == 0) {
				assert_num_eq(n, 0);
				assert_err(lurk_frame_reader_frame(&fr, &f, &flen), LURK_ERR_STATE);
				continue;
			}
			assert_ok(lurk_frame_reader_frame(&fr, &f, &flen));
			assert_num_cmp(got, <, LURK_ARRAY_LEN(sizes));
			assert_num_eq(flen, sizes[got]);
			for (size_t i = 0; i < flen; i++)
				assert_num_eq(f[i], got + 1);
			got++;
		}
	}
	assert_num_eq(got, LURK_ARRAY_LEN(sizes));
	assert_false(lurk_frame_reader_partial(&fr));
	lurk_frame_reader_clear(&fr);
	free(s);
}

static size_t
one(void)
{
	return 1;
}

static size_t
huge(void)
{
	return SIZE_MAX / 2;
}

static size_t
random_chunk(void)
{
	return 1 + randombytes_uniform(700);
}

static void
test_byte_by_byte(void)
{
	run_stream(one);
}

static void
test_big_chunks(void)
{
	run_stream(huge);
}

static void
test_random_chunks(void)
{
	for (int i = 0; i < 20; i++)
		run_stream(random_chunk);
}

static void
test_header(void)
{
	uint8_t h[2];

	assert_ok(lurk_frame_header(h, 1));
	assert_mem_eq(h, "\x00\x01", 2);
	assert_ok(lurk_frame_header(h, 0x1234));
	assert_mem_eq(h, "\x12\x34", 2);
	assert_ok(lurk_frame_header(h, 65535));
	assert_mem_eq(h, "\xff\xff", 2);
	assert_err(lurk_frame_header(h, 0), LURK_ERR_INVALID_ARG);
	assert_err(lurk_frame_header(h, 65536), LURK_ERR_TOO_LARGE);
	assert_err(lurk_frame_header(h, SIZE_MAX), LURK_ERR_TOO_LARGE);
}

static void
test_zero_length(void)
{
	struct lurk_frame_reader fr;
	size_t used;

	assert_ok(lurk_frame_reader_init(&fr, 100));
	assert_err(lurk_frame_reader_feed(&fr, (const uint8_t *)"\x00\x00\x01", 3, &used),
		LURK_ERR_BAD_FORMAT);
	assert_num_eq(used, 2);
	/* The stream is unusable from then on. */
	assert_err(lurk_frame_reader_feed(&fr, (const uint8_t *)"\x00\x01\x01", 3, &used),
		LURK_ERR_STATE);
	assert_num_eq(used, 0);
	lurk_frame_reader_clear(&fr);
}

static void
test_cap(void)
{
	struct lurk_frame_reader fr;
	const uint8_t *f;
	uint8_t buf[2 + 113];
	size_t used, len;

	assert_err(lurk_frame_reader_init(&fr, 0), LURK_ERR_INVALID_ARG);
	assert_err(lurk_frame_reader_init(&fr, LURK_NOISE_MAX_MSG + 1), LURK_ERR_INVALID_ARG);
	/* Exactly the cap is fine; one more is refused at the header, before allocating. */
	assert_ok(lurk_frame_reader_init(&fr, 112));
	memset(buf, 0x42, sizeof(buf));
	assert_ok(lurk_frame_header(buf, 112));
	assert_num_eq(lurk_frame_reader_feed(&fr, buf, 2 + 112, &used), 1);
	assert_ok(lurk_frame_reader_frame(&fr, &f, &len));
	assert_num_eq(len, 112);
	assert_ok(lurk_frame_header(buf, 113));
	assert_err(lurk_frame_reader_feed(&fr, buf, 2, &used), LURK_ERR_TOO_LARGE);
	assert_err(lurk_frame_reader_frame(&fr, &f, &len), LURK_ERR_STATE);
	lurk_frame_reader_clear(&fr);

	/* The cap can be raised after the handshake. */
	assert_ok(lurk_frame_reader_init(&fr, 112));
	assert_err(lurk_frame_reader_set_max(&fr, 0), LURK_ERR_INVALID_ARG);
	assert_ok(lurk_frame_reader_set_max(&fr, LURK_NOISE_MAX_MSG));
	assert_num_eq(lurk_frame_reader_feed(&fr, buf, sizeof(buf), &used), 1);
	assert_num_eq(used, sizeof(buf));
	lurk_frame_reader_clear(&fr);
}

static void
test_max_length(void)
{
	struct lurk_frame_reader fr;
	uint8_t *buf = malloc(2 + 65535);
	const uint8_t *f;
	size_t used, len;

	assert_ptr_not_null(buf);
	memset(buf, 0xa5, 2 + 65535);
	assert_ok(lurk_frame_header(buf, 65535));
	assert_ok(lurk_frame_reader_init(&fr, LURK_NOISE_MAX_MSG));
	assert_num_eq(lurk_frame_reader_feed(&fr, buf, 2 + 65534, &used), 0);
	assert_true(lurk_frame_reader_partial(&fr));
	assert_num_eq(lurk_frame_reader_feed(&fr, buf + 2 + 65534, 1, &used), 1);
	assert_ok(lurk_frame_reader_frame(&fr, &f, &len));
	assert_num_eq(len, 65535);
	assert_num_eq(f[0], 0xa5);
	assert_num_eq(f[65534], 0xa5);
	/* An empty feed releases the frame and waits. */
	assert_num_eq(lurk_frame_reader_feed(&fr, buf, 0, &used), 0);
	assert_err(lurk_frame_reader_frame(&fr, &f, &len), LURK_ERR_STATE);
	lurk_frame_reader_clear(&fr);
	free(buf);
}

/* Clearing mid-frame frees the partial body (ASan would report a leak otherwise). */
static void
test_clear_partial(void)
{
	struct lurk_frame_reader fr;
	size_t used;

	assert_ok(lurk_frame_reader_init(&fr, 1000));
	assert_num_eq(lurk_frame_reader_feed(&fr, (const uint8_t *)"\x03\x00secret", 8, &used), 0);
	assert_true(lurk_frame_reader_partial(&fr));
	lurk_frame_reader_clear(&fr);
	assert_ptr_null(fr.body);
	assert_err(
		lurk_frame_reader_feed(&fr, (const uint8_t *)"\x00\x01", 2, &used), LURK_ERR_STATE);
}

/*
 * A peer announcing the largest frame and sending a little of it makes the
 * reader hold memory for what arrived, not for what was announced; the
 * buffer grows as the rest comes and the frame is whole at the end.
 */
static void
test_grows_as_bytes_arrive(void)
{
	struct lurk_frame_reader fr;
	static uint8_t msg[LURK_NOISE_MAX_MSG + LURK_FRAME_HDR_LEN];
	const uint8_t *frame;
	size_t used, len, off = 0;

	randombytes_buf(msg, sizeof(msg));
	msg[0] = 0xff;
	msg[1] = 0xff;
	assert_ok(lurk_frame_reader_init(&fr, LURK_NOISE_MAX_MSG));
	assert_num_eq(lurk_frame_reader_feed(&fr, msg, 2 + 100, &used), 0);
	off += used;
	assert_true(lurk_frame_reader_held(&fr) <= LURK_FRAME_FIRST_ALLOC);
	assert_num_eq(lurk_frame_reader_feed(&fr, msg + off, 10000, &used), 0);
	off += used;
	assert_true(lurk_frame_reader_held(&fr) >= 10100 &&
		    lurk_frame_reader_held(&fr) <= 2 * 10100 + LURK_FRAME_FIRST_ALLOC);
	assert_num_eq(lurk_frame_reader_feed(&fr, msg + off, sizeof(msg) - off, &used), 1);
	assert_ok(lurk_frame_reader_frame(&fr, &frame, &len));
	assert_num_eq(len, LURK_NOISE_MAX_MSG);
	assert_true(memcmp(frame, msg + 2, len) == 0);
	lurk_frame_reader_clear(&fr);
	assert_num_eq(lurk_frame_reader_held(&fr), 0);
}

/*
 * The writable body is the frame lurk_frame_reader_frame lends, there only
 * while a frame is ready; the buffer goes (held 0) when the next feed
 * releases it.
 */
static void
test_body(void)
{
	struct lurk_frame_reader fr;
	const uint8_t in[] = {0x00, 0x03, 'a', 'b', 'c'};
	const uint8_t *frame;
	uint8_t *body;
	size_t used, len, blen;

	assert_ok(lurk_frame_reader_init(&fr, 16));
	assert_err(lurk_frame_reader_body(&fr, &body, &blen), LURK_ERR_STATE);
	assert_ptr_null(body);
	assert_num_eq(blen, 0);
	assert_num_eq(lurk_frame_reader_feed(&fr, in, 4, &used), 0);
	assert_err(lurk_frame_reader_body(&fr, &body, &blen), LURK_ERR_STATE);
	assert_num_cmp(lurk_frame_reader_held(&fr), >=, 2);
	assert_num_eq(lurk_frame_reader_feed(&fr, in + 4, 1, &used), 1);
	assert_ok(lurk_frame_reader_body(&fr, &body, &blen));
	assert_ok(lurk_frame_reader_frame(&fr, &frame, &len));
	assert_true(body == frame);
	assert_num_eq(blen, 3);
	assert_num_eq(len, 3);
	body[0] = 'x'; /* in place, as a decryption writes it */
	assert_mem_eq(frame, "xbc", 3);
	assert_num_eq(lurk_frame_reader_feed(&fr, in, 0, &used), 0);
	assert_num_eq(lurk_frame_reader_held(&fr), 0);
	assert_err(lurk_frame_reader_body(&fr, &body, &blen), LURK_ERR_STATE);
	lurk_frame_reader_clear(&fr);
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 99;
	lurk_test(test_header, "/frame/header");
	lurk_test(test_byte_by_byte, "/frame/byte-by-byte");
	lurk_test(test_big_chunks, "/frame/big-chunks");
	lurk_test(test_random_chunks, "/frame/random-chunks");
	lurk_test(test_zero_length, "/frame/zero-length");
	lurk_test(test_cap, "/frame/cap");
	lurk_test(test_max_length, "/frame/max-length");
	lurk_test(test_clear_partial, "/frame/clear-partial");
	lurk_test(test_grows_as_bytes_arrive, "/frame/grows-as-bytes-arrive");
	lurk_test(test_body, "/frame/body-and-held");
	return lurk_test_run(argc, argv);
}
