/*
 * Wire messages: build, parse and compare every message; what parsers
 * borrow, copy, zero and wipe; builders refusing what a parser would refuse;
 * and a list response of about 200 KiB through fragmentation and reassembly.
 * The field-by-field failure matrix is in test-wire-matrix.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "tap.h"
#include "wire-samples.h"
#include "wire.h"

/* Parses the header of b, expecting this type and id. */
static void
expect_header(struct lurk_buf *b, uint8_t type, uint32_t id)
{
	struct lurk_wire_hdr h;

	assert_ok(lurk_wire_header_parse(b, &h));
	assert_num_eq(h.version, LURK_WIRE_VERSION);
	assert_num_eq(h.type, type);
	assert_num_eq(h.id, id);
}

static int
inside(const void *p, const struct lurk_buf *b, size_t before)
{
	const uint8_t *start = lurk_buf_ptr(b) - before;

	return (const uint8_t *)p >= start && (const uint8_t *)p < start + before;
}

static void
assert_list_eq(const struct lurk_wire_list_resp *a, const struct lurk_wire_list_resp *b)
{
	assert_num_eq(a->key_count, b->key_count);
	for (size_t i = 0; i < a->key_count; i++) {
		const struct lurk_wire_key *x = &a->keys[i], *y = &b->keys[i];

		assert_num_eq(x->id_len, y->id_len);
		assert_mem_eq(x->id, y->id, x->id_len);
		assert_num_eq(x->label_len, y->label_len);
		assert_mem_eq(x->label, y->label, x->label_len);
		assert_num_eq(x->type, y->type);
		assert_num_eq(x->bits, y->bits);
		assert_num_eq(x->spki_len, y->spki_len);
		assert_mem_eq(x->spki, y->spki, x->spki_len);
		assert_num_eq(x->flags, y->flags);
		assert_num_eq(x->mech_count, y->mech_count);
		for (size_t j = 0; j < x->mech_count; j++)
			assert_num_eq(x->mechs[j], y->mechs[j]);
		assert_num_eq(x->cert_count, y->cert_count);
		for (size_t j = 0; j < x->cert_count; j++) {
			assert_num_eq(x->certs[j].der_len, y->certs[j].der_len);
			assert_mem_eq(x->certs[j].der, y->certs[j].der, x->certs[j].der_len);
		}
	}
}

static void
assert_param_eq(const struct lurk_wire_param *a, const struct lurk_wire_param *b)
{
	assert_num_eq(a->kind, b->kind);
	if (a->kind == LURK_WIRE_PARAM_PSS) {
		assert_num_eq(a->u.pss.hash, b->u.pss.hash);
		assert_num_eq(a->u.pss.mgf, b->u.pss.mgf);
		assert_num_eq(a->u.pss.slen, b->u.pss.slen);
	} else if (a->kind == LURK_WIRE_PARAM_EDDSA) {
		assert_num_eq(a->u.eddsa.ph_flag, b->u.eddsa.ph_flag);
		assert_num_eq(a->u.eddsa.context_len, b->u.eddsa.context_len);
		assert_mem_eq(a->u.eddsa.context, b->u.eddsa.context, a->u.eddsa.context_len);
	}
}

static void
test_list(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_list_resp m;
	size_t want;

	assert_ok(lurk_wire_list_req_build(b, 77));
	assert_num_eq(lurk_buf_len(b), LURK_WIRE_HDR_LEN);
	expect_header(b, LURK_WIRE_LIST, 77);
	assert_ok(lurk_wire_list_req_parse(b));

	assert_ok(lurk_wire_list_resp_build(b, 77, &wire_sample_list));
	/* The size lurkd checks each client's list against at load, to the byte. */
	want = LURK_WIRE_LIST_RESP_HDR_LEN;
	for (size_t i = 0; i < wire_sample_list.key_count; i++) {
		const struct lurk_wire_key *k = &wire_sample_list.keys[i];
		size_t cert_bytes = 0;
		for (size_t j = 0; j < k->cert_count; j++)
			cert_bytes += k->certs[j].der_len;
		want += lurk_wire_list_key_len(k->id_len, k->label_len, k->spki_len, k->mech_count,
			k->cert_count, cert_bytes);
	}
	assert_num_eq(lurk_buf_len(b), want);
	expect_header(b, LURK_WIRE_LIST_RESP, 77);
	assert_ok(lurk_wire_list_resp_parse(b, &m));
	assert_num_eq(lurk_buf_len(b), 0);
	/* A deep copy: it outlives the message. */
	lurk_buf_free(b);
	assert_list_eq(&m, &wire_sample_list);
	for (size_t i = 0; i < m.key_count; i++)
		assert_num_eq(m.keys[i].label[m.keys[i].label_len], 0);
	assert_str_eq(m.keys[0].label, "www.example.com RSA");
	lurk_wire_list_resp_clear(&m);
	assert_ptr_null(m.keys);
	assert_num_eq(m.key_count, 0);
	lurk_wire_list_resp_clear(&m); /* twice is fine */
}

static void
test_list_empty(void)
{
	struct lurk_buf *b = lurk_buf_new(64);
	const struct lurk_wire_list_resp none = {NULL, 0};
	struct lurk_wire_list_resp m;

	assert_ok(lurk_wire_list_resp_build(b, 1, &none));
	expect_header(b, LURK_WIRE_LIST_RESP, 1);
	assert_ok(lurk_wire_list_resp_parse(b, &m));
	assert_num_eq(m.key_count, 0);
	lurk_wire_list_resp_clear(&m);
	lurk_buf_free(b);
}

static void
test_sign(void)
{
	const struct lurk_wire_sign_req *reqs[] = {
		&wire_sample_sign_none, &wire_sample_sign_pss, &wire_sample_sign_eddsa};
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_sign_resp resp;

	for (size_t i = 0; i < LURK_ARRAY_LEN(reqs); i++) {
		struct lurk_wire_sign_req m;
		size_t len;

		assert_ok(lurk_wire_sign_req_build(b, (uint32_t)i, reqs[i]));
		expect_header(b, LURK_WIRE_SIGN, (uint32_t)i);
		len = lurk_buf_len(b);
		assert_ok(lurk_wire_sign_req_parse(b, &m));
		assert_num_eq(lurk_buf_len(b), 0);
		assert_num_eq(m.key_id_len, reqs[i]->key_id_len);
		assert_mem_eq(m.key_id, reqs[i]->key_id, m.key_id_len);
		assert_num_eq(m.mech, reqs[i]->mech);
		assert_param_eq(&m.param, &reqs[i]->param);
		assert_num_eq(m.data_len, reqs[i]->data_len);
		assert_mem_eq(m.data, reqs[i]->data, m.data_len);
		/* Borrowed from the input, not copied. */
		assert_true(inside(m.key_id, b, len) && inside(m.data, b, len));
		lurk_buf_reset(b);
	}
	assert_ok(lurk_wire_sign_resp_build(b, 9, &wire_sample_sign_resp));
	expect_header(b, LURK_WIRE_SIGN_RESP, 9);
	assert_ok(lurk_wire_sign_resp_parse(b, &resp));
	assert_num_eq(resp.sig_len, wire_sample_sign_resp.sig_len);
	assert_mem_eq(resp.sig, wire_sample_sign_resp.sig, resp.sig_len);
	lurk_buf_free(b);
}

static void
test_decrypt(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_decrypt_resp out, in;
	struct lurk_wire_decrypt_req m;
	const uint8_t *raw;
	size_t len;

	assert_ok(lurk_wire_decrypt_req_build(b, 0xffffffff, &wire_sample_decrypt_req));
	expect_header(b, LURK_WIRE_DECRYPT, 0xffffffff);
	assert_ok(lurk_wire_decrypt_req_parse(b, &m));
	assert_num_eq(m.key_id_len, wire_sample_decrypt_req.key_id_len);
	assert_mem_eq(m.key_id, wire_sample_decrypt_req.key_id, m.key_id_len);
	assert_num_eq(m.mech, wire_sample_decrypt_req.mech);
	assert_param_eq(&m.param, &wire_sample_decrypt_req.param);
	assert_num_eq(m.ct_len, wire_sample_decrypt_req.ct_len);
	assert_mem_eq(m.ct, wire_sample_decrypt_req.ct, m.ct_len);
	lurk_buf_reset(b);

	memset(&out, 0, sizeof(out));
	for (size_t i = 0; i < 48; i++)
		out.pt[i] = (uint8_t)(0x80 + i);
	out.pt_len = 48;
	assert_ok(lurk_wire_decrypt_resp_build(b, 5, &out));
	expect_header(b, LURK_WIRE_DECRYPT_RESP, 5);
	raw = lurk_buf_ptr(b);
	len = lurk_buf_len(b);
	assert_ok(lurk_wire_decrypt_resp_parse(b, &in));
	assert_num_eq(in.pt_len, 48);
	assert_mem_eq(in.pt, out.pt, 48);
	/* The plaintext was wiped from the writable input as it was copied. */
	for (size_t i = 2; i < len; i++)
		assert_num_eq(raw[i], 0);
	lurk_wire_decrypt_resp_clear(&in);
	assert_num_eq(in.pt_len, 0);
	assert_num_eq(in.pt[0], 0);
	lurk_buf_free(b);
}

static void
test_ping_and_error(void)
{
	struct lurk_buf *b = lurk_buf_new(1024);
	struct lurk_wire_ping_resp p;
	struct lurk_wire_error e;

	assert_ok(lurk_wire_ping_req_build(b, 3));
	expect_header(b, LURK_WIRE_PING, 3);
	assert_ok(lurk_wire_ping_req_parse(b));
	assert_ok(lurk_wire_ping_resp_build(b, 3, &wire_sample_ping_resp));
	expect_header(b, LURK_WIRE_PING_RESP, 3);
	assert_ok(lurk_wire_ping_resp_parse(b, &p));
	assert_true(p.time == wire_sample_ping_resp.time);
	assert_num_eq(p.flags, wire_sample_ping_resp.flags);
	assert_num_eq(p.keys, wire_sample_ping_resp.keys);

	assert_ok(lurk_wire_error_build(b, 4, &wire_sample_error));
	expect_header(b, LURK_WIRE_ERROR, 4);
	assert_ok(lurk_wire_error_parse(b, &e));
	assert_num_eq(e.status, LURK_WIRE_ST_POLICY);
	assert_num_eq(e.reason, wire_sample_error.reason);
	assert_num_eq(e.text_len, wire_sample_error.text_len);
	assert_mem_eq(e.text, wire_sample_error.text, e.text_len);
	assert_num_eq(lurk_wire_status_to_err(e.status), LURK_ERR_POLICY);
	lurk_buf_free(b);
}

/* A failed parse zeroes its output and leaves the cursor where it was. */
static void
test_failure_zeroes(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_sign_req m;
	struct lurk_wire_list_resp l;
	struct lurk_wire_decrypt_resp d;
	uint8_t zero[sizeof(d)] = {0};
	size_t len;

	assert_ok(lurk_wire_sign_req_build(b, 1, &wire_sample_sign_pss));
	assert_ok(lurk_buf_put_u8(b, 0)); /* trailing */
	expect_header(b, LURK_WIRE_SIGN, 1);
	len = lurk_buf_len(b);
	memset(&m, 0xaa, sizeof(m));
	assert_err(lurk_wire_sign_req_parse(b, &m), LURK_ERR_TRAILING);
	assert_num_eq(lurk_buf_len(b), len);
	assert_ptr_null(m.key_id);
	assert_ptr_null(m.data);
	assert_num_eq(m.mech, 0);
	assert_num_eq(m.param.kind, 0);
	lurk_buf_reset(b);

	/* The list parse frees the keys it had copied before the failure. */
	assert_ok(lurk_wire_list_resp_build(b, 1, &wire_sample_list));
	assert_ok(lurk_buf_unput(b, 1));
	expect_header(b, LURK_WIRE_LIST_RESP, 1);
	memset(&l, 0xaa, sizeof(l));
	assert_err(lurk_wire_list_resp_parse(b, &l), LURK_ERR_INCOMPLETE);
	assert_ptr_null(l.keys);
	assert_num_eq(l.key_count, 0);
	lurk_buf_reset(b);

	assert_ok(lurk_buf_put_u16(b, 1025));
	memset(&d, 0xaa, sizeof(d));
	assert_err(lurk_wire_decrypt_resp_parse(b, &d), LURK_ERR_TOO_LARGE);
	assert_mem_eq(&d, zero, sizeof(d));
	lurk_buf_free(b);
}

/* A refused build leaves `out` exactly as it was ("pre"). */
static void
expect_refused(struct lurk_buf *b, int r, int err)
{
	assert_err(r, err);
	assert_num_eq(lurk_buf_len(b), 3);
	assert_mem_eq(lurk_buf_ptr(b), "pre", 3);
}

static uint8_t big[LURK_WIRE_MAX_DATA + 1];

static void
test_build_refuses_requests(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_BUF_SIZE_MAX);
	struct lurk_wire_sign_req s;
	struct lurk_wire_decrypt_req d;

	assert_ok(lurk_buf_put_bytes(b, "pre", 3));
	expect_refused(b, lurk_wire_header_build(b, 8, 1), LURK_ERR_UNKNOWN_OP);
	s = wire_sample_sign_none;
	s.key_id_len = 0;
	expect_refused(b, lurk_wire_sign_req_build(b, 1, &s), LURK_ERR_BAD_FORMAT);
	s.key_id = big;
	s.key_id_len = LURK_WIRE_MAX_KEY_ID + 1;
	expect_refused(b, lurk_wire_sign_req_build(b, 1, &s), LURK_ERR_TOO_LARGE);
	s = wire_sample_sign_none;
	s.data = big;
	s.data_len = LURK_WIRE_MAX_DATA + 1;
	expect_refused(b, lurk_wire_sign_req_build(b, 1, &s), LURK_ERR_TOO_LARGE);
	s.data_len = LURK_WIRE_MAX_DATA; /* the cap itself is fine */
	assert_ok(lurk_wire_sign_req_build(b, 1, &s));
	assert_ok(lurk_buf_unput(b, lurk_buf_len(b) - 3));
	s = wire_sample_sign_eddsa;
	s.param.u.eddsa.ph_flag = 2;
	expect_refused(b, lurk_wire_sign_req_build(b, 1, &s), LURK_ERR_BAD_FORMAT);
	s = wire_sample_sign_eddsa;
	s.param.u.eddsa.context = big;
	s.param.u.eddsa.context_len = LURK_WIRE_MAX_CONTEXT + 1;
	expect_refused(b, lurk_wire_sign_req_build(b, 1, &s), LURK_ERR_TOO_LARGE);

	d = wire_sample_decrypt_req;
	d.ct = big;
	d.ct_len = LURK_WIRE_MAX_CIPHERTEXT + 1;
	expect_refused(b, lurk_wire_decrypt_req_build(b, 1, &d), LURK_ERR_TOO_LARGE);
	d = wire_sample_decrypt_req;
	d.key_id_len = 0;
	expect_refused(b, lurk_wire_decrypt_req_build(b, 1, &d), LURK_ERR_BAD_FORMAT);
	d = wire_sample_decrypt_req;
	d.param.kind = 0xff;
	expect_refused(b, lurk_wire_decrypt_req_build(b, 1, &d), LURK_ERR_BAD_FORMAT);
	lurk_buf_free(b);
}

static void
test_build_refuses_responses(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_BUF_SIZE_MAX);
	struct lurk_wire_sign_resp sr = {big, LURK_WIRE_MAX_SIGNATURE + 1};
	struct lurk_wire_decrypt_resp dr = {.pt_len = LURK_WIRE_MAX_CIPHERTEXT + 1};
	struct lurk_wire_ping_resp pr = wire_sample_ping_resp;
	struct lurk_wire_error e = wire_sample_error;

	assert_ok(lurk_buf_put_bytes(b, "pre", 3));
	expect_refused(b, lurk_wire_sign_resp_build(b, 1, &sr), LURK_ERR_TOO_LARGE);
	expect_refused(b, lurk_wire_decrypt_resp_build(b, 1, &dr), LURK_ERR_TOO_LARGE);
	pr.flags = 2;
	expect_refused(b, lurk_wire_ping_resp_build(b, 1, &pr), LURK_ERR_BAD_FORMAT);
	e.status = 0;
	expect_refused(b, lurk_wire_error_build(b, 1, &e), LURK_ERR_BAD_FORMAT);
	e.status = LURK_WIRE_ST_LAST + 1;
	expect_refused(b, lurk_wire_error_build(b, 1, &e), LURK_ERR_BAD_FORMAT);
	e = wire_sample_error;
	e.text = (const char *)big;
	e.text_len = LURK_WIRE_MAX_REASON + 1;
	memset(big, 'a', sizeof(big));
	expect_refused(b, lurk_wire_error_build(b, 1, &e), LURK_ERR_TOO_LARGE);
	e.text = "no\0pe";
	e.text_len = 5;
	expect_refused(b, lurk_wire_error_build(b, 1, &e), LURK_ERR_EMBEDDED_NUL);
	e.text = "\xff";
	e.text_len = 1;
	expect_refused(b, lurk_wire_error_build(b, 1, &e), LURK_ERR_BAD_FORMAT);
	lurk_buf_free(b);
}

static void
test_build_refuses_list(void)
{
	struct lurk_buf *b = lurk_buf_new(LURK_BUF_SIZE_MAX);
	struct lurk_wire_key k[LURK_WIRE_MAX_KEYS + 1];
	struct lurk_wire_cert certs[LURK_WIRE_MAX_CHAIN + 1];
	struct lurk_wire_list_resp m = {k, 1};
	uint32_t mechs[LURK_WIRE_MAX_MECHS + 1] = {0};
	struct {
		size_t *field;
		size_t value;
		int err;
	} lens[] = {
		{&k[0].id_len, 0, LURK_ERR_BAD_FORMAT},
		{&k[0].id_len, LURK_WIRE_MAX_KEY_ID + 1, LURK_ERR_TOO_LARGE},
		{&k[0].label_len, LURK_WIRE_MAX_LABEL + 1, LURK_ERR_TOO_LARGE},
		{&k[0].spki_len, 0, LURK_ERR_BAD_FORMAT},
		{&k[0].spki_len, LURK_WIRE_MAX_PUBKEY + 1, LURK_ERR_TOO_LARGE},
		{&k[0].mech_count, LURK_WIRE_MAX_MECHS + 1, LURK_ERR_TOO_LARGE},
		{&k[0].cert_count, LURK_WIRE_MAX_CHAIN + 1, LURK_ERR_TOO_LARGE},
		{&certs[1].der_len, 0, LURK_ERR_BAD_FORMAT},
		{&certs[1].der_len, LURK_WIRE_MAX_CERT + 1, LURK_ERR_TOO_LARGE},
		{&m.key_count, LURK_WIRE_MAX_KEYS + 1, LURK_ERR_TOO_LARGE},
	};

	memset(big, 'a', sizeof(big));
	for (size_t i = 0; i < LURK_ARRAY_LEN(certs); i++)
		certs[i] = (struct lurk_wire_cert){big, 100};
	assert_ok(lurk_buf_put_bytes(b, "pre", 3));
	for (size_t i = 0; i < LURK_ARRAY_LEN(lens); i++) {
		size_t save;

		for (size_t j = 0; j < LURK_ARRAY_LEN(k); j++) {
			k[j] = wire_sample_list.keys[0];
			k[j].id = k[j].spki = big;
			k[j].label = (char *)big;
			k[j].mechs = mechs;
			k[j].certs = certs;
			k[j].cert_count = 2;
		}
		save = *lens[i].field;
		*lens[i].field = lens[i].value;
		expect_refused(b, lurk_wire_list_resp_build(b, 1, &m), lens[i].err);
		*lens[i].field = save;
		assert_ok(lurk_wire_list_resp_build(b, 1, &m));
		assert_ok(lurk_buf_unput(b, lurk_buf_len(b) - 3));
	}
	k[0].type = 0;
	expect_refused(b, lurk_wire_list_resp_build(b, 1, &m), LURK_ERR_BAD_FORMAT);
	k[0].type = LURK_KEY_ED448 + 1;
	expect_refused(b, lurk_wire_list_resp_build(b, 1, &m), LURK_ERR_BAD_FORMAT);
	k[0].type = LURK_KEY_ED448;
	k[0].flags = LURK_WIRE_KEY_FLAGS + 1;
	expect_refused(b, lurk_wire_list_resp_build(b, 1, &m), LURK_ERR_BAD_FORMAT);
	k[0].flags = 0;
	k[0].label = "a\0b";
	k[0].label_len = 3;
	expect_refused(b, lurk_wire_list_resp_build(b, 1, &m), LURK_ERR_EMBEDDED_NUL);

	/* Every field within its cap, but the whole over LURK_WIRE_MAX_MSG. */
	k[0] = k[1];
	for (size_t i = 0; i < LURK_ARRAY_LEN(certs); i++)
		certs[i].der_len = LURK_WIRE_MAX_CERT;
	for (size_t j = 0; j < 3; j++)
		k[j].cert_count = LURK_WIRE_MAX_CHAIN - 1;
	m.key_count = 2;
	assert_ok(lurk_wire_list_resp_build(b, 1, &m)); /* 960 KiB of certificates */
	assert_ok(lurk_buf_unput(b, lurk_buf_len(b) - 3));
	m.key_count = 3;
	expect_refused(b, lurk_wire_list_resp_build(b, 1, &m), LURK_ERR_TOO_LARGE);
	lurk_buf_free(b);
}

/* About 200 KiB of certificates: more than three transport messages. */
static void
test_large_list_fragmented(void)
{
	static uint8_t der[7][30000];
	struct lurk_wire_cert chain[7];
	struct lurk_wire_key k[2] = {wire_sample_list.keys[0], wire_sample_list.keys[1]};
	struct lurk_wire_list_resp m = {k, 2}, got;
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG), in;
	struct lurk_wire_reasm ra;
	struct lurk_wire_frag f;
	const uint8_t *pt;
	size_t pt_len, n = 0;
	int r;

	for (size_t i = 0; i < 7; i++) {
		for (size_t j = 0; j < sizeof(der[i]); j++)
			der[i][j] = (uint8_t)(i * 31 + j);
		chain[i] = (struct lurk_wire_cert){der[i], sizeof(der[i])};
	}
	k[0].certs = chain;
	k[0].cert_count = 7;
	assert_ok(lurk_wire_list_resp_build(b, 42, &m));
	assert_num_cmp(lurk_buf_len(b), >, 200 * 1024);
	assert_ok(lurk_wire_reasm_init(&ra));
	lurk_wire_frag_init(&f, lurk_buf_ptr(b), lurk_buf_len(b));
	while ((r = lurk_wire_frag_next(&f, &pt, &pt_len)) == 1) {
		assert_num_cmp(pt_len, <=, LURK_NOISE_MAX_PLAINTEXT);
		assert_num_eq(lurk_wire_reasm_feed(&ra, pt, pt_len), f.done ? 1 : 0);
		n++;
	}
	assert_ok(r);
	assert_num_eq(
		n, (lurk_buf_len(b) + LURK_WIRE_FRAG_MAX_CHUNK - 1) / LURK_WIRE_FRAG_MAX_CHUNK);
	assert_num_eq(lurk_wire_reasm_len(&ra), lurk_buf_len(b));
	assert_mem_eq(lurk_wire_reasm_msg(&ra), lurk_buf_ptr(b), lurk_buf_len(b));

	lurk_buf_view(&in, lurk_wire_reasm_msg(&ra), lurk_wire_reasm_len(&ra));
	expect_header(&in, LURK_WIRE_LIST_RESP, 42);
	assert_ok(lurk_wire_list_resp_parse(&in, &got));
	lurk_wire_reasm_clear(&ra);
	assert_list_eq(&got, &m);
	lurk_wire_list_resp_clear(&got);
	lurk_buf_free(b);
}

int
main(int argc, char **argv)
{
	lurk_test(test_list, "/wire/list");
	lurk_test(test_list_empty, "/wire/list/empty");
	lurk_test(test_sign, "/wire/sign");
	lurk_test(test_decrypt, "/wire/decrypt");
	lurk_test(test_ping_and_error, "/wire/ping-and-error");
	lurk_test(test_failure_zeroes, "/wire/failure-zeroes");
	lurk_test(test_build_refuses_requests, "/wire/build/refuses-requests");
	lurk_test(test_build_refuses_responses, "/wire/build/refuses-responses");
	lurk_test(test_build_refuses_list, "/wire/build/refuses-list");
	lurk_test(test_large_list_fragmented, "/wire/large-list-fragmented");
	return lurk_test_run(argc, argv);
}
