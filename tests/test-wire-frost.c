/*
 * The split-key wire messages (common/wire-frost.c, docs/wire.md "Split
 * keys"), FROST and RSA_PARTIAL: round trips, every count and length bound on both the build and
 * the parse side, every truncation and a trailing byte; and the share flags
 * of a list entry.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "tap.h"
#include "wire-field.h"
#include "wire-frost.h"
#include "wire.h"

typedef int (*parse_fn)(struct lurk_buf *in, void *m);

static int
p_commit_req(struct lurk_buf *in, void *m)
{
	return lurk_wire_frost_commit_req_parse(in, m);
}
static int
p_commit_resp(struct lurk_buf *in, void *m)
{
	return lurk_wire_frost_commit_resp_parse(in, m);
}
static int
p_sign_req(struct lurk_buf *in, void *m)
{
	return lurk_wire_frost_sign_req_parse(in, m);
}
static int
p_sign_resp(struct lurk_buf *in, void *m)
{
	return lurk_wire_frost_sign_resp_parse(in, m);
}
static int
p_rsa_req(struct lurk_buf *in, void *m)
{
	return lurk_wire_rsa_partial_req_parse(in, m);
}
static int
p_rsa_resp(struct lurk_buf *in, void *m)
{
	return lurk_wire_rsa_partial_resp_parse(in, m);
}

/* Parses the built message msg (header and body) into m: the parser's result. */
static int
parse_msg(const struct lurk_buf *msg, size_t len, uint8_t type, parse_fn fn, void *m)
{
	struct lurk_wire_hdr h;
	struct lurk_buf in;
	size_t before;
	int r;

	lurk_buf_view(&in, lurk_buf_ptr(msg), len);
	assert_ok(lurk_wire_header_parse(&in, &h));
	assert_num_eq(h.type, type);
	assert_num_eq(h.id, 77);
	before = lurk_buf_len(&in);
	r = fn(&in, m);
	if (r != 0)
		assert_num_eq(lurk_buf_len(&in), before); /* the cursor did not move */
	else
		assert_num_eq(lurk_buf_len(&in), 0);
	return r;
}

/* Every proper prefix of the body fails, one extra byte is trailing; m is zeroed. */
static void
truncations(struct lurk_buf *msg, uint8_t type, parse_fn fn, void *m, size_t m_len)
{
	size_t len = lurk_buf_len(msg);
	uint8_t zero[sizeof(struct lurk_wire_frost_commit_resp)] = {0};
	struct lurk_buf *longer = lurk_buf_new(LURK_WIRE_MAX_MSG);

	assert_true(m_len <= sizeof(zero));
	for (size_t n = LURK_WIRE_HDR_LEN; n < len; n++) {
		assert_true(parse_msg(msg, n, type, fn, m) != 0);
		assert_mem_eq(m, zero, m_len);
	}
	assert_ptr_not_null(longer);
	assert_ok(lurk_buf_put_bytes(longer, lurk_buf_ptr(msg), len));
	assert_ok(lurk_buf_put_u8(longer, 0));
	assert_err(parse_msg(longer, len + 1, type, fn, m), LURK_ERR_TRAILING);
	assert_mem_eq(m, zero, m_len);
	lurk_buf_free(longer);
}

static const uint8_t key_id[20] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

static void
test_commit_req(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_frost_commit_req m = {key_id, sizeof(key_id), 5}, got;
	uint8_t long_id[LURK_WIRE_MAX_KEY_ID + 1] = {0};

	assert_ok(lurk_wire_frost_commit_req_build(b, 77, &m));
	assert_num_eq(lurk_buf_len(b), LURK_WIRE_HDR_LEN + 2 + 20 + 2);
	assert_ok(parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_COMMIT, p_commit_req, &got));
	assert_num_eq(got.count, 5);
	assert_num_eq(got.key_id_len, 20);
	assert_mem_eq(got.key_id, key_id, 20);
	truncations(b, LURK_WIRE_FROST_COMMIT, p_commit_req, &got, sizeof(got));

	/* Builder bounds: count 1..16, key id 1..64; a refused build appends nothing. */
	lurk_buf_reset(b);
	for (size_t n = 1; n <= LURK_WIRE_FROST_MAX_COMMIT; n++) {
		m.count = n;
		assert_ok(lurk_wire_frost_commit_req_build(b, 77, &m));
		lurk_buf_reset(b);
	}
	m.count = 0;
	assert_err(lurk_wire_frost_commit_req_build(b, 77, &m), LURK_ERR_BAD_FORMAT);
	m.count = LURK_WIRE_FROST_MAX_COMMIT + 1;
	assert_err(lurk_wire_frost_commit_req_build(b, 77, &m), LURK_ERR_TOO_LARGE);
	m.count = 1;
	m.key_id_len = 0;
	assert_true(lurk_wire_frost_commit_req_build(b, 77, &m) != 0);
	m.key_id = long_id;
	m.key_id_len = sizeof(long_id);
	assert_err(lurk_wire_frost_commit_req_build(b, 77, &m), LURK_ERR_TOO_LARGE);
	assert_num_eq(lurk_buf_len(b), 0);

	/* Parser bounds, from hand-made bodies. */
	for (unsigned n = 0; n <= 17; n += 17) {
		lurk_buf_reset(b);
		assert_ok(lurk_wire_header_build(b, LURK_WIRE_FROST_COMMIT, 77));
		assert_ok(lurk_wire_put_key_id(b, key_id, sizeof(key_id)));
		assert_ok(lurk_buf_put_u16(b, (uint16_t)n));
		assert_err(
			parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_COMMIT, p_commit_req, &got),
			n == 0 ? LURK_ERR_BAD_FORMAT : LURK_ERR_TOO_LARGE);
	}
	lurk_buf_free(b);
}

static void
test_commit_resp(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_frost_commit_resp m, got;

	memset(&m, 0, sizeof(m));
	m.count = LURK_WIRE_FROST_MAX_COMMIT;
	for (size_t i = 0; i < m.count; i++) {
		memset(m.com[i].handle, (int)i + 1, 16);
		memset(m.com[i].D, (int)i + 0x40, 32);
		memset(m.com[i].E, (int)i + 0x80, 32);
	}
	assert_ok(lurk_wire_frost_commit_resp_build(b, 77, &m));
	assert_num_eq(lurk_buf_len(b), LURK_WIRE_HDR_LEN + 2 + 16 * LURK_WIRE_FROST_COM_LEN);
	assert_ok(parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_COMMIT_RESP, p_commit_resp, &got));
	assert_num_eq(got.count, m.count);
	assert_mem_eq(got.com, m.com, sizeof(m.com));
	/* One commitment, and every truncation of it. */
	lurk_buf_reset(b);
	m.count = 1;
	assert_ok(lurk_wire_frost_commit_resp_build(b, 77, &m));
	truncations(b, LURK_WIRE_FROST_COMMIT_RESP, p_commit_resp, &got, sizeof(got));
	lurk_buf_reset(b);
	m.count = 0;
	assert_err(lurk_wire_frost_commit_resp_build(b, 77, &m), LURK_ERR_BAD_FORMAT);
	m.count = LURK_WIRE_FROST_MAX_COMMIT + 1;
	assert_err(lurk_wire_frost_commit_resp_build(b, 77, &m), LURK_ERR_TOO_LARGE);
	assert_num_eq(lurk_buf_len(b), 0);
	/* A count over the cap is refused before the bytes are looked at; one over the bytes left
	 * too. */
	assert_ok(lurk_wire_header_build(b, LURK_WIRE_FROST_COMMIT_RESP, 77));
	assert_ok(lurk_buf_put_u16(b, 17));
	assert_err(parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_COMMIT_RESP, p_commit_resp, &got),
		LURK_ERR_TOO_LARGE);
	lurk_buf_reset(b);
	assert_ok(lurk_wire_header_build(b, LURK_WIRE_FROST_COMMIT_RESP, 77));
	assert_ok(lurk_buf_put_u16(b, 2));
	assert_ok(lurk_buf_put_bytes(b, m.com[0].handle, LURK_WIRE_FROST_COM_LEN));
	assert_err(parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_COMMIT_RESP, p_commit_resp, &got),
		LURK_ERR_INCOMPLETE);
	lurk_buf_free(b);
}

static void
fill_sign(struct lurk_wire_frost_sign_req *m, const uint8_t *msg, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->key_id = key_id;
	m->key_id_len = sizeof(key_id);
	memset(m->handle, 0xaa, sizeof(m->handle));
	m->msg = msg;
	m->msg_len = len;
	for (int i = 0; i < 2; i++) {
		m->list[i].id = (uint16_t)(i + 1);
		memset(m->list[i].D, 0x10 + i, 32);
		memset(m->list[i].E, 0x20 + i, 32);
	}
}

static void
test_sign_req(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_frost_sign_req m, got;
	static uint8_t big[LURK_WIRE_MAX_DATA + 1];
	size_t body;

	fill_sign(&m, (const uint8_t *)"message", 7);
	assert_ok(lurk_wire_frost_sign_req_build(b, 77, &m));
	body = 2 + 20 + 16 + 4 + 7 + 1 + 2 * LURK_WIRE_FROST_ENTRY_LEN;
	assert_num_eq(lurk_buf_len(b), LURK_WIRE_HDR_LEN + body);
	assert_ok(parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_SIGN, p_sign_req, &got));
	assert_mem_eq(got.key_id, key_id, 20);
	assert_mem_eq(got.handle, m.handle, 16);
	assert_num_eq(got.msg_len, 7);
	assert_mem_eq(got.msg, "message", 7);
	for (int i = 0; i < 2; i++) {
		assert_num_eq(got.list[i].id, i + 1);
		assert_mem_eq(got.list[i].D, m.list[i].D, 32);
		assert_mem_eq(got.list[i].E, m.list[i].E, 32);
	}
	truncations(b, LURK_WIRE_FROST_SIGN, p_sign_req, &got, sizeof(got));
	/* The message: 0 and LURK_WIRE_MAX_DATA bytes pass, one more does not. */
	lurk_buf_reset(b);
	fill_sign(&m, big, 0);
	assert_ok(lurk_wire_frost_sign_req_build(b, 77, &m));
	lurk_buf_reset(b);
	fill_sign(&m, big, LURK_WIRE_MAX_DATA);
	assert_ok(lurk_wire_frost_sign_req_build(b, 77, &m));
	assert_ok(parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_SIGN, p_sign_req, &got));
	assert_num_eq(got.msg_len, LURK_WIRE_MAX_DATA);
	lurk_buf_reset(b);
	fill_sign(&m, big, LURK_WIRE_MAX_DATA + 1);
	assert_err(lurk_wire_frost_sign_req_build(b, 77, &m), LURK_ERR_TOO_LARGE);
	assert_num_eq(lurk_buf_len(b), 0);
	/* The list count is exactly 2: 1 and 3 are refused (3 with its third entry there). */
	for (uint8_t n = 1; n <= 3; n += 2) {
		lurk_buf_reset(b);
		fill_sign(&m, (const uint8_t *)"x", 1);
		assert_ok(lurk_wire_header_build(b, LURK_WIRE_FROST_SIGN, 77));
		assert_ok(lurk_wire_put_key_id(b, key_id, sizeof(key_id)));
		assert_ok(lurk_buf_put_bytes(b, m.handle, 16));
		assert_ok(lurk_wire_put_str32(b, "x", 1, LURK_WIRE_MAX_DATA, 0));
		assert_ok(lurk_buf_put_u8(b, n));
		for (uint8_t i = 0; i < n; i++) {
			assert_ok(lurk_buf_put_u16(b, (uint16_t)(i + 1)));
			assert_ok(lurk_buf_put_bytes(b, m.list[0].D, 32));
			assert_ok(lurk_buf_put_bytes(b, m.list[0].E, 32));
		}
		assert_err(parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_SIGN, p_sign_req, &got),
			n == 1 ? LURK_ERR_BAD_FORMAT : LURK_ERR_TOO_LARGE);
	}
	lurk_buf_free(b);
}

static void
test_sign_resp(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_frost_sign_resp m, got;

	memset(&m, 0, sizeof(m));
	memset(m.z, 0x33, 32);
	for (size_t fresh = 0; fresh <= 1; fresh++) {
		m.fresh_count = fresh;
		memset(m.fresh.handle, 0x44, 16);
		memset(m.fresh.D, 0x55, 32);
		memset(m.fresh.E, 0x66, 32);
		lurk_buf_reset(b);
		assert_ok(lurk_wire_frost_sign_resp_build(b, 77, &m));
		assert_num_eq(lurk_buf_len(b),
			LURK_WIRE_HDR_LEN + 32 + 1 + fresh * LURK_WIRE_FROST_COM_LEN);
		assert_ok(parse_msg(
			b, lurk_buf_len(b), LURK_WIRE_FROST_SIGN_RESP, p_sign_resp, &got));
		assert_mem_eq(got.z, m.z, 32);
		assert_num_eq(got.fresh_count, fresh);
		if (fresh)
			assert_mem_eq(&got.fresh, &m.fresh, sizeof(m.fresh));
		truncations(b, LURK_WIRE_FROST_SIGN_RESP, p_sign_resp, &got, sizeof(got));
	}
	lurk_buf_reset(b);
	m.fresh_count = 2;
	assert_err(lurk_wire_frost_sign_resp_build(b, 77, &m), LURK_ERR_TOO_LARGE);
	assert_num_eq(lurk_buf_len(b), 0);
	assert_ok(lurk_wire_header_build(b, LURK_WIRE_FROST_SIGN_RESP, 77));
	assert_ok(lurk_buf_put_bytes(b, m.z, 32));
	assert_ok(lurk_buf_put_u8(b, 2));
	for (int i = 0; i < 2; i++)
		assert_ok(lurk_buf_put_bytes(b, m.fresh.handle, LURK_WIRE_FROST_COM_LEN));
	assert_err(parse_msg(b, lurk_buf_len(b), LURK_WIRE_FROST_SIGN_RESP, p_sign_resp, &got),
		LURK_ERR_TOO_LARGE);
	lurk_buf_free(b);
}

static void
test_rsa_partial(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	static uint8_t em[LURK_WIRE_MAX_CIPHERTEXT + 1], data[LURK_WIRE_MAX_CIPHERTEXT + 1];
	struct lurk_wire_rsa_partial_req m, got;
	struct lurk_wire_rsa_partial_resp p = {em, 256}, pgot;

	memset(&m, 0, sizeof(m));
	m.key_id = key_id;
	m.key_id_len = sizeof(key_id);
	m.mech = 0x0d; /* CKM_RSA_PKCS_PSS */
	m.param.kind = LURK_WIRE_PARAM_PSS;
	m.param.u.pss.hash = 0x250;
	m.param.u.pss.mgf = 2;
	m.param.u.pss.slen = 32;
	memset(data, 0x5a, sizeof(data));
	memset(em, 0xa5, sizeof(em));
	m.data = data;
	m.data_len = 32;
	m.em = em;
	m.em_len = 256;
	assert_ok(lurk_wire_rsa_partial_req_build(b, 77, &m));
	assert_num_eq(lurk_buf_len(b), LURK_WIRE_HDR_LEN + 22 + 4 + 13 + 34 + 258);
	assert_ok(parse_msg(b, lurk_buf_len(b), LURK_WIRE_RSA_PARTIAL, p_rsa_req, &got));
	assert_num_eq(got.mech, m.mech);
	assert_num_eq(got.param.kind, LURK_WIRE_PARAM_PSS);
	assert_num_eq(got.param.u.pss.slen, 32);
	assert_num_eq(got.data_len, 32);
	assert_num_eq(got.em_len, 256);
	assert_mem_eq(got.em, em, 256);
	truncations(b, LURK_WIRE_RSA_PARTIAL, p_rsa_req, &got, sizeof(got));
	/* data and em: 1024 bytes pass, 1025 do not; EdDSA parameters are refused. */
	lurk_buf_reset(b);
	m.data_len = m.em_len = LURK_WIRE_MAX_CIPHERTEXT;
	assert_ok(lurk_wire_rsa_partial_req_build(b, 77, &m));
	assert_ok(parse_msg(b, lurk_buf_len(b), LURK_WIRE_RSA_PARTIAL, p_rsa_req, &got));
	lurk_buf_reset(b);
	m.em_len = LURK_WIRE_MAX_CIPHERTEXT + 1;
	assert_err(lurk_wire_rsa_partial_req_build(b, 77, &m), LURK_ERR_TOO_LARGE);
	m.em_len = 0;
	m.data_len = LURK_WIRE_MAX_CIPHERTEXT + 1;
	assert_err(lurk_wire_rsa_partial_req_build(b, 77, &m), LURK_ERR_TOO_LARGE);
	m.data_len = 32;
	memset(&m.param, 0, sizeof(m.param));
	m.param.kind = LURK_WIRE_PARAM_EDDSA;
	assert_err(lurk_wire_rsa_partial_req_build(b, 77, &m), LURK_ERR_BAD_FORMAT);
	assert_num_eq(lurk_buf_len(b), 0);
	assert_ok(lurk_wire_header_build(b, LURK_WIRE_RSA_PARTIAL, 77));
	assert_ok(lurk_wire_put_key_id(b, key_id, sizeof(key_id)));
	assert_ok(lurk_buf_put_u32(b, 0x1057));
	assert_ok(lurk_wire_put_param(b, &m.param));
	assert_ok(lurk_wire_put_str16(b, data, 1, 1024, 0));
	assert_ok(lurk_wire_put_str16(b, em, 0, 1024, 0));
	assert_err(parse_msg(b, lurk_buf_len(b), LURK_WIRE_RSA_PARTIAL, p_rsa_req, &got),
		LURK_ERR_BAD_FORMAT);

	/* The response: 1..1024 bytes. */
	lurk_buf_reset(b);
	assert_ok(lurk_wire_rsa_partial_resp_build(b, 77, &p));
	assert_ok(parse_msg(b, lurk_buf_len(b), LURK_WIRE_RSA_PARTIAL_RESP, p_rsa_resp, &pgot));
	assert_num_eq(pgot.partial_len, 256);
	assert_mem_eq(pgot.partial, em, 256);
	truncations(b, LURK_WIRE_RSA_PARTIAL_RESP, p_rsa_resp, &pgot, sizeof(pgot));
	lurk_buf_reset(b);
	p.partial_len = 0;
	assert_true(lurk_wire_rsa_partial_resp_build(b, 77, &p) != 0);
	p.partial_len = LURK_WIRE_MAX_CIPHERTEXT + 1;
	assert_err(lurk_wire_rsa_partial_resp_build(b, 77, &p), LURK_ERR_TOO_LARGE);
	assert_num_eq(lurk_buf_len(b), 0);
	lurk_buf_free(b);
}

/* A list entry may say SHARE1 or SHARE2, never both, never with SIGN or DECRYPT. */
static void
test_list_share_flags(void)
{
	static const uint32_t flags[] = {LURK_WIRE_KEY_SHARE1, LURK_WIRE_KEY_SHARE2,
		LURK_WIRE_KEY_SHARE1 | LURK_WIRE_KEY_REQUIRE_CONTENT,
		LURK_WIRE_KEY_SHARE1 | LURK_WIRE_KEY_SHARE2,
		LURK_WIRE_KEY_SHARE1 | LURK_WIRE_KEY_SIGN,
		LURK_WIRE_KEY_SHARE2 | LURK_WIRE_KEY_DECRYPT, 0x20};
	static const int ok[] = {1, 1, 1, 0, 0, 0, 0};
	uint8_t spki[44] = {0x30};
	uint32_t mech = 0x1057; /* CKM_EDDSA */
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct lurk_wire_key k = {.id = (uint8_t *)key_id,
			.id_len = 20,
			.label = "split",
			.label_len = 5,
			.type = LURK_KEY_ED25519,
			.bits = 255,
			.spki = spki,
			.spki_len = sizeof(spki),
			.flags = flags[i],
			.mechs = &mech,
			.mech_count = 1};
		struct lurk_wire_list_resp m = {&k, 1}, got;
		struct lurk_wire_hdr h;
		struct lurk_buf in;
		size_t at;

		lurk_buf_reset(b);
		if (ok[i]) {
			assert_ok(lurk_wire_list_resp_build(b, 77, &m));
			lurk_buf_view(&in, lurk_buf_ptr(b), lurk_buf_len(b));
			assert_ok(lurk_wire_header_parse(&in, &h));
			assert_ok(lurk_wire_list_resp_parse(&in, &got));
			assert_num_eq(got.keys[0].flags, flags[i]);
			lurk_wire_list_resp_clear(&got);
			continue;
		}
		assert_true(lurk_wire_list_resp_build(b, 77, &m) != 0);
		assert_num_eq(lurk_buf_len(b), 0);
		/* Built with allowed flags, then patched: the parser refuses it too. */
		k.flags = LURK_WIRE_KEY_SHARE1;
		assert_ok(lurk_wire_list_resp_build(b, 77, &m));
		at = LURK_WIRE_HDR_LEN + 2 + 2 + 20 + 2 + 5 + 1 + 2 + 4 + sizeof(spki);
		((uint8_t *)lurk_buf_ptr(b))[at + 3] = (uint8_t)flags[i];
		lurk_buf_view(&in, lurk_buf_ptr(b), lurk_buf_len(b));
		assert_ok(lurk_wire_header_parse(&in, &h));
		assert_err(lurk_wire_list_resp_parse(&in, &got), LURK_ERR_BAD_FORMAT);
	}
	lurk_buf_free(b);
}

int
main(int argc, char **argv)
{
	lurk_test(test_commit_req, "/wire-frost/commit-req");
	lurk_test(test_commit_resp, "/wire-frost/commit-resp");
	lurk_test(test_sign_req, "/wire-frost/sign-req");
	lurk_test(test_sign_resp, "/wire-frost/sign-resp");
	lurk_test(test_rsa_partial, "/wire-frost/rsa-partial");
	lurk_test(test_list_share_flags, "/wire-frost/list-share-flags");
	return lurk_test_run(argc, argv);
}
