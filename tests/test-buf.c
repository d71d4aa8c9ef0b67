/* The bounded buffer: every getter against ok, exact, truncated, giant, over-cap and trailing
 * input. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "tap.h"

static void
test_put_get_ints(void)
{
	struct lurk_buf *b = lurk_buf_new(64);
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	assert_ptr_not_null(b);
	assert_ok(lurk_buf_put_u8(b, 0xab));
	assert_ok(lurk_buf_put_u16(b, 0x1234));
	assert_ok(lurk_buf_put_u32(b, 0xdeadbeef));
	assert_ok(lurk_buf_put_u64(b, 0x0102030405060708ull));
	assert_num_eq(lurk_buf_len(b), 15);
	/* Big-endian on the wire. */
	assert_mem_eq(lurk_buf_ptr(b),
		"\xab\x12\x34\xde\xad\xbe\xef\x01\x02\x03\x04\x05\x06\x07\x08", 15);
	assert_ok(lurk_buf_get_u8(b, &u8));
	assert_ok(lurk_buf_get_u16(b, &u16));
	assert_ok(lurk_buf_get_u32(b, &u32));
	assert_ok(lurk_buf_get_u64(b, &u64));
	assert_num_eq(u8, 0xab);
	assert_num_eq(u16, 0x1234);
	assert_num_eq(u32, 0xdeadbeef);
	assert_true(u64 == 0x0102030405060708ull);
	assert_ok(lurk_buf_get_end(b));
	lurk_buf_free(b);
}

/* Each integer getter on exactly-sized input succeeds and on one byte less fails clean. */
static void
test_ints_truncated(void)
{
	static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct lurk_buf v;
	uint8_t u8 = 9;
	uint16_t u16 = 9;
	uint32_t u32 = 9;
	uint64_t u64 = 9;

	lurk_buf_view(&v, data, 0);
	assert_err(lurk_buf_get_u8(&v, &u8), LURK_ERR_INCOMPLETE);
	assert_num_eq(u8, 0);
	lurk_buf_view(&v, data, 1);
	assert_err(lurk_buf_get_u16(&v, &u16), LURK_ERR_INCOMPLETE);
	assert_num_eq(u16, 0);
	assert_num_eq(lurk_buf_len(&v), 1); /* cursor did not move */
	lurk_buf_view(&v, data, 3);
	assert_err(lurk_buf_get_u32(&v, &u32), LURK_ERR_INCOMPLETE);
	assert_num_eq(u32, 0);
	assert_num_eq(lurk_buf_len(&v), 3);
	lurk_buf_view(&v, data, 7);
	assert_err(lurk_buf_get_u64(&v, &u64), LURK_ERR_INCOMPLETE);
	assert_true(u64 == 0);
	assert_num_eq(lurk_buf_len(&v), 7);
	lurk_buf_view(&v, data, 8);
	assert_ok(lurk_buf_get_u64(&v, &u64));
	assert_ok(lurk_buf_get_end(&v));
}

static void
test_bytes(void)
{
	static const uint8_t data[5] = {'h', 'e', 'l', 'l', 'o'};
	struct lurk_buf v;
	uint8_t out[6];
	const uint8_t *p;

	lurk_buf_view(&v, data, sizeof(data));
	memset(out, 0x55, sizeof(out));
	assert_err(lurk_buf_get_bytes(&v, out, 6), LURK_ERR_INCOMPLETE);
	for (size_t i = 0; i < 6; i++)
		assert_num_eq(out[i], 0); /* zeroed on failure */
	assert_ok(lurk_buf_get_bytes(&v, out, 2));
	assert_mem_eq(out, "he", 2);
	assert_err(lurk_buf_get_end(&v), LURK_ERR_TRAILING);
	assert_ok(lurk_buf_get_direct(&v, &p, 3));
	assert_mem_eq(p, "llo", 3);
	assert_ok(lurk_buf_get_end(&v));
	assert_err(lurk_buf_get_direct(&v, &p, 1), LURK_ERR_INCOMPLETE);
	assert_ptr_null(p);
}

static void
test_string32(void)
{
	static const uint8_t ok[] = {0, 0, 0, 3, 'a', 'b', 'c'};
	static const uint8_t trunc[] = {0, 0, 0, 3, 'a', 'b'};
	static const uint8_t giant[] = {0xff, 0xff, 0xff, 0xff, 'a'};
	static const uint8_t trailing[] = {0, 0, 0, 1, 'a', 'X'};
	static const uint8_t short_prefix[] = {0, 0, 0};
	struct lurk_buf v;
	const uint8_t *p;
	size_t n;

	lurk_buf_view(&v, ok, sizeof(ok));
	assert_ok(lurk_buf_get_string_direct(&v, &p, &n, 3));
	assert_num_eq(n, 3);
	assert_mem_eq(p, "abc", 3);
	assert_ok(lurk_buf_get_end(&v));

	/* Exactly at the cap passes, one over fails without moving. */
	lurk_buf_view(&v, ok, sizeof(ok));
	assert_err(lurk_buf_get_string_direct(&v, &p, &n, 2), LURK_ERR_TOO_LARGE);
	assert_num_eq(n, 0);
	assert_ptr_null(p);
	assert_num_eq(lurk_buf_len(&v), sizeof(ok));

	lurk_buf_view(&v, trunc, sizeof(trunc));
	assert_err(lurk_buf_get_string_direct(&v, &p, &n, 100), LURK_ERR_INCOMPLETE);
	assert_num_eq(lurk_buf_len(&v), sizeof(trunc));

	lurk_buf_view(&v, giant, sizeof(giant));
	assert_err(lurk_buf_get_string_direct(&v, &p, &n, SIZE_MAX), LURK_ERR_TOO_LARGE);
	assert_num_eq(lurk_buf_len(&v), sizeof(giant));

	lurk_buf_view(&v, trailing, sizeof(trailing));
	assert_ok(lurk_buf_get_string_direct(&v, &p, &n, 10));
	assert_err(lurk_buf_get_end(&v), LURK_ERR_TRAILING);

	lurk_buf_view(&v, short_prefix, sizeof(short_prefix));
	assert_err(lurk_buf_get_string_direct(&v, &p, &n, 10), LURK_ERR_INCOMPLETE);
}

static void
test_string16_and_cstring(void)
{
	static const uint8_t ok[] = {0, 2, 'h', 'i'};
	static const uint8_t nul[] = {0, 3, 'h', 0, 'i'};
	static const uint8_t giant[] = {0xff, 0xff, 'x'};
	static const uint8_t trunc[] = {0, 2, 'h'};
	struct lurk_buf v;
	const uint8_t *p;
	size_t n;
	char *s;

	lurk_buf_view(&v, ok, sizeof(ok));
	assert_ok(lurk_buf_get_string16_direct(&v, &p, &n, 2));
	assert_num_eq(n, 2);
	lurk_buf_view(&v, ok, sizeof(ok));
	assert_ok(lurk_buf_get_cstring16(&v, &s, 10));
	assert_str_eq(s, "hi");
	free(s);
	lurk_buf_view(&v, nul, sizeof(nul));
	assert_err(lurk_buf_get_cstring16(&v, &s, 10), LURK_ERR_EMBEDDED_NUL);
	assert_ptr_null(s);
	assert_num_eq(lurk_buf_len(&v), sizeof(nul));
	lurk_buf_view(&v, giant, sizeof(giant));
	assert_err(lurk_buf_get_cstring16(&v, &s, 100), LURK_ERR_TOO_LARGE);
	lurk_buf_view(&v, giant, sizeof(giant));
	assert_err(lurk_buf_get_string16_direct(&v, &p, &n, 0xffff), LURK_ERR_INCOMPLETE);
	lurk_buf_view(&v, trunc, sizeof(trunc));
	assert_err(lurk_buf_get_cstring16(&v, &s, 10), LURK_ERR_INCOMPLETE);
	assert_err(lurk_buf_get_string16_direct(&v, &p, &n, 10), LURK_ERR_INCOMPLETE);
}

static void
test_sub(void)
{
	static const uint8_t data[] = {0, 0, 0, 2, 0x12, 0x34, 0x99};
	struct lurk_buf v, child;
	uint16_t x;
	uint8_t y;

	lurk_buf_view(&v, data, sizeof(data));
	assert_ok(lurk_buf_get_sub(&v, &child, 16));
	assert_ok(lurk_buf_get_u16(&child, &x));
	assert_num_eq(x, 0x1234);
	assert_ok(lurk_buf_get_end(&child));
	assert_err(lurk_buf_put_u8(&child, 1), LURK_ERR_READONLY);
	assert_ok(lurk_buf_get_u8(&v, &y));
	assert_num_eq(y, 0x99);
	lurk_buf_view(&v, data, sizeof(data));
	assert_err(lurk_buf_get_sub(&v, &child, 1), LURK_ERR_TOO_LARGE);
	assert_num_eq(lurk_buf_len(&child), 0);
}

/* Writes stop at the cap; a failed write changes nothing. */
static void
test_cap(void)
{
	struct lurk_buf *b = lurk_buf_new(10);
	uint8_t *p;

	assert_ok(lurk_buf_put_bytes(b, "0123456789", 10));
	assert_err(lurk_buf_put_u8(b, 1), LURK_ERR_NO_SPACE);
	assert_num_eq(lurk_buf_len(b), 10);
	assert_err(lurk_buf_reserve(b, SIZE_MAX, &p), LURK_ERR_NO_SPACE);
	assert_ptr_null(p);
	/* Reading frees room: the buffer compacts instead of growing past the cap. */
	assert_ok(lurk_buf_consume(b, 4));
	assert_ok(lurk_buf_put_bytes(b, "abcd", 4));
	assert_num_eq(lurk_buf_len(b), 10);
	assert_mem_eq(lurk_buf_ptr(b), "456789abcd", 10);
	assert_err(lurk_buf_put_string(b, "x", 1), LURK_ERR_NO_SPACE);
	assert_err(lurk_buf_consume(b, 11), LURK_ERR_INCOMPLETE);
	lurk_buf_free(b);

	assert_ptr_null(lurk_buf_new(LURK_BUF_SIZE_MAX + 1));
	b = lurk_buf_new(LURK_BUF_SIZE_MAX);
	assert_ptr_not_null(b);
	assert_err(lurk_buf_reserve(b, LURK_BUF_SIZE_MAX + 1, &p), LURK_ERR_NO_SPACE);
	assert_err(lurk_buf_set_max_size(b, LURK_BUF_SIZE_MAX + 1), LURK_ERR_NO_SPACE);
	lurk_buf_free(b);
}

static void
test_growth_keeps_data(void)
{
	struct lurk_buf *b = lurk_buf_new(1 << 20);
	uint32_t v;

	for (uint32_t i = 0; i < 100000; i++)
		assert_ok(lurk_buf_put_u32(b, i));
	assert_num_eq(lurk_buf_len(b), 400000);
	for (uint32_t i = 0; i < 100000; i++) {
		assert_ok(lurk_buf_get_u32(b, &v));
		assert_num_eq(v, i);
	}
	assert_ok(lurk_buf_get_end(b));
	lurk_buf_free(b);
}

static void
test_strings_put(void)
{
	struct lurk_buf *b = lurk_buf_new(1 << 17);
	static uint8_t big[70000];
	const uint8_t *p;
	size_t n;

	assert_err(lurk_buf_put_string16(b, big, 65536), LURK_ERR_TOO_LARGE);
	assert_num_eq(lurk_buf_len(b), 0);
	assert_ok(lurk_buf_put_string16(b, big, 65535));
	assert_ok(lurk_buf_get_string16_direct(b, &p, &n, 65535));
	assert_num_eq(n, 65535);
	assert_ok(lurk_buf_put_string(b, "", 0));
	assert_ok(lurk_buf_get_string_direct(b, &p, &n, 0));
	assert_num_eq(n, 0);
	assert_ok(lurk_buf_get_end(b));
	lurk_buf_free(b);
}

static void
test_secret_wiped(void)
{
	struct lurk_buf b;
	uint8_t key[4];
	const uint8_t *p;

	assert_ok(lurk_buf_init(&b, 64));
	assert_ok(lurk_buf_put_bytes(&b, "\x01\x02\x03\x04\x05", 5));
	p = lurk_buf_ptr(&b);
	assert_ok(lurk_buf_get_secret(&b, key, 4));
	assert_mem_eq(key, "\x01\x02\x03\x04", 4);
	/* The source bytes are gone from the buffer's storage. */
	assert_mem_eq(p, "\0\0\0\0\x05", 5);
	lurk_buf_reset(&b);
	assert_num_eq(lurk_buf_len(&b), 0);
	assert_num_eq(p[4], 0); /* reset wipes what was left */
	assert_ok(lurk_buf_put_u8(&b, 7));
	assert_ok(lurk_buf_unput(&b, 1));
	assert_num_eq(lurk_buf_len(&b), 0);
	assert_err(lurk_buf_unput(&b, 1), LURK_ERR_INCOMPLETE);
	lurk_buf_clear(&b);
	assert_num_eq(lurk_buf_max_size(&b), 64);
}

static void
test_readonly_view(void)
{
	static const uint8_t data[2] = {1, 2};
	struct lurk_buf *v = lurk_buf_from(data, sizeof(data));
	uint8_t *p;

	assert_ptr_not_null(v);
	assert_err(lurk_buf_put_u8(v, 3), LURK_ERR_READONLY);
	assert_err(lurk_buf_reserve(v, 1, &p), LURK_ERR_READONLY);
	assert_err(lurk_buf_set_max_size(v, 10), LURK_ERR_READONLY);
	assert_err(lurk_buf_unput(v, 1), LURK_ERR_READONLY);
	assert_num_eq(lurk_buf_len(v), 2);
	lurk_buf_reset(v);
	assert_num_eq(lurk_buf_len(v), 0);
	lurk_buf_free(v);
	assert_ptr_null(lurk_buf_from(NULL, 1));
	lurk_buf_free(NULL);
}

/* A buffer whose fields were corrupted is refused, not trusted. */
static void
test_corrupt_refused(void)
{
	struct lurk_buf b;
	uint8_t v;

	assert_ok(lurk_buf_init(&b, 16));
	assert_ok(lurk_buf_put_u8(&b, 1));
	b.off = b.size + 1;
	assert_err(lurk_buf_get_u8(&b, &v), LURK_ERR_INTERNAL);
	assert_num_eq(lurk_buf_len(&b), 0);
	b.off = 0;
	lurk_buf_clear(&b);
	assert_err(lurk_buf_get_u8(NULL, &v), LURK_ERR_INVALID_ARG);
	assert_err(lurk_buf_init(&b, LURK_BUF_SIZE_MAX + 1), LURK_ERR_INVALID_ARG);
	assert_ok(lurk_buf_init(&b, 16));
	lurk_buf_clear(&b);
}

/* Every truncation of a well-formed message fails and never reads past the end. */
static void
test_every_truncation(void)
{
	struct lurk_buf *b = lurk_buf_new(256);
	const uint8_t *msg;
	size_t len;

	assert_ok(lurk_buf_put_u32(b, 7));
	assert_ok(lurk_buf_put_string16(b, "label", 5));
	assert_ok(lurk_buf_put_string(b, "payload", 7));
	assert_ok(lurk_buf_put_u64(b, 42));
	msg = lurk_buf_ptr(b);
	len = lurk_buf_len(b);
	for (size_t cut = 0; cut <= len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct lurk_buf v;
		const uint8_t *p;
		size_t n;
		uint32_t u32;
		uint64_t u64;
		int r;

		memcpy(copy, msg, cut);
		lurk_buf_view(&v, copy, cut);
		if ((r = lurk_buf_get_u32(&v, &u32)) == 0 &&
			(r = lurk_buf_get_string16_direct(&v, &p, &n, 16)) == 0 &&
			(r = lurk_buf_get_string_direct(&v, &p, &n, 16)) == 0 &&
			(r = lurk_buf_get_u64(&v, &u64)) == 0)
			r = lurk_buf_get_end(&v);
		if (cut == len)
			assert_ok(r);
		else
			assert_err(r, LURK_ERR_INCOMPLETE);
		free(copy);
	}
	lurk_buf_free(b);
}

int
main(int argc, char **argv)
{
	lurk_test(test_put_get_ints, "/buf/ints/round-trip");
	lurk_test(test_ints_truncated, "/buf/ints/truncated");
	lurk_test(test_bytes, "/buf/bytes");
	lurk_test(test_string32, "/buf/string32");
	lurk_test(test_string16_and_cstring, "/buf/string16-cstring");
	lurk_test(test_sub, "/buf/sub");
	lurk_test(test_cap, "/buf/cap");
	lurk_test(test_growth_keeps_data, "/buf/growth");
	lurk_test(test_strings_put, "/buf/strings-put");
	lurk_test(test_secret_wiped, "/buf/secret-wiped");
	lurk_test(test_readonly_view, "/buf/readonly");
	lurk_test(test_corrupt_refused, "/buf/corrupt");
	lurk_test(test_every_truncation, "/buf/every-truncation");
	return lurk_test_run(argc, argv);
}
