/*
 * Wire messages against an independent encoding of the schema in
 * docs/wire.md: the builders write exactly it, and the failure matrix (every
 * truncation, a trailing byte, giant and over-cap length prefixes and counts,
 * empty and NUL-bearing strings, refused values) for every message type and
 * every field. Round trips are in test-wire.c, fragments in test-wire-frag.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "tap.h"
#include "wire-samples.h"
#include "wire.h"

/*
 * An independent encoding of the schema, field by field ("segments"), that
 * can also break any one field on purpose.
 */
enum seg_kind { SEG_U8, SEG_U16, SEG_U32, SEG_U64, SEG_S16, SEG_S32 };

struct seg {
	enum seg_kind kind;
	uint64_t v; /* integers */
	const uint8_t *p;
	size_t n;     /* strings */
	size_t cap;   /* strings: length cap; counts: count cap; else 0 */
	size_t min;   /* strings: least length */
	int text;     /* strings: UTF-8 text */
	int has_bad;  /* integers: a value the parser must refuse */
	uint64_t bad; /* ... that value */
	int bad_err;  /* ... and its error */
};

#define MAX_SEGS 128

struct desc {
	const char *name;
	struct seg s[MAX_SEGS];
	size_t n;
};

static struct seg *
seg_add(struct desc *d, enum seg_kind kind, uint64_t v)
{
	struct seg *s;

	assert_true(d->n < MAX_SEGS);
	s = &d->s[d->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->v = v;
	return s;
}

static void
seg_bad(struct desc *d, enum seg_kind kind, uint64_t v, uint64_t bad, int err)
{
	struct seg *s = seg_add(d, kind, v);

	s->has_bad = 1;
	s->bad = bad;
	s->bad_err = err;
}

static void
seg_count(struct desc *d, size_t n, size_t cap)
{
	seg_add(d, SEG_U16, n)->cap = cap;
}

static void
seg_str(struct desc *d, enum seg_kind kind, const void *p, size_t n, size_t cap, size_t min,
	int text)
{
	struct seg *s = seg_add(d, kind, 0);

	s->p = p;
	s->n = n;
	s->cap = cap;
	s->min = min;
	s->text = text;
}

static void
d_header(struct desc *d, const char *name, uint8_t type, uint32_t id)
{
	d->name = name;
	d->n = 0;
	seg_bad(d, SEG_U8, LURK_WIRE_VERSION, 2, LURK_ERR_BAD_VERSION);
	seg_bad(d, SEG_U8, type, 0x08, LURK_ERR_UNKNOWN_OP);
	seg_add(d, SEG_U32, id);
}

static void
d_param(struct desc *d, const struct lurk_wire_param *pa)
{
	seg_bad(d, SEG_U8, pa->kind, 3, LURK_ERR_BAD_FORMAT);
	if (pa->kind == LURK_WIRE_PARAM_PSS) {
		seg_add(d, SEG_U32, pa->u.pss.hash);
		seg_add(d, SEG_U32, pa->u.pss.mgf);
		seg_add(d, SEG_U32, pa->u.pss.slen);
	} else if (pa->kind == LURK_WIRE_PARAM_EDDSA) {
		seg_bad(d, SEG_U8, pa->u.eddsa.ph_flag, 2, LURK_ERR_BAD_FORMAT);
		seg_str(d, SEG_S16, pa->u.eddsa.context, pa->u.eddsa.context_len,
			LURK_WIRE_MAX_CONTEXT, 0, 0);
	}
}

static void
d_list_resp(struct desc *d, uint32_t id, const struct lurk_wire_list_resp *m)
{
	d_header(d, "list-resp", LURK_WIRE_LIST_RESP, id);
	seg_count(d, m->key_count, LURK_WIRE_MAX_KEYS);
	for (size_t i = 0; i < m->key_count; i++) {
		const struct lurk_wire_key *k = &m->keys[i];

		seg_str(d, SEG_S16, k->id, k->id_len, LURK_WIRE_MAX_KEY_ID, 1, 0);
		seg_str(d, SEG_S16, k->label, k->label_len, LURK_WIRE_MAX_LABEL, 0, 1);
		seg_bad(d, SEG_U8, k->type, 5, LURK_ERR_BAD_FORMAT);
		seg_add(d, SEG_U16, k->bits);
		seg_str(d, SEG_S32, k->spki, k->spki_len, LURK_WIRE_MAX_PUBKEY, 1, 0);
		seg_bad(d, SEG_U32, k->flags, k->flags | 0x100, LURK_ERR_BAD_FORMAT);
		seg_count(d, k->mech_count, LURK_WIRE_MAX_MECHS);
		for (size_t j = 0; j < k->mech_count; j++)
			seg_add(d, SEG_U32, k->mechs[j]);
		seg_count(d, k->cert_count, LURK_WIRE_MAX_CHAIN);
		for (size_t j = 0; j < k->cert_count; j++)
			seg_str(d, SEG_S32, k->certs[j].der, k->certs[j].der_len,
				LURK_WIRE_MAX_CERT, 1, 0);
	}
}

static void
d_sign_req(struct desc *d, const char *name, uint32_t id, const struct lurk_wire_sign_req *m)
{
	d_header(d, name, LURK_WIRE_SIGN, id);
	seg_str(d, SEG_S16, m->key_id, m->key_id_len, LURK_WIRE_MAX_KEY_ID, 1, 0);
	seg_add(d, SEG_U32, m->mech);
	d_param(d, &m->param);
	seg_str(d, SEG_S32, m->data, m->data_len, LURK_WIRE_MAX_DATA, 0, 0);
}

static void
d_decrypt_req(struct desc *d, uint32_t id, const struct lurk_wire_decrypt_req *m)
{
	d_header(d, "decrypt-req", LURK_WIRE_DECRYPT, id);
	seg_str(d, SEG_S16, m->key_id, m->key_id_len, LURK_WIRE_MAX_KEY_ID, 1, 0);
	seg_add(d, SEG_U32, m->mech);
	d_param(d, &m->param);
	seg_str(d, SEG_S16, m->ct, m->ct_len, LURK_WIRE_MAX_CIPHERTEXT, 0, 0);
}

/* Writes the segments, with segment `at` broken as `mu` says; exact-size malloc. */
enum mut { MUT_NONE, MUT_GIANT, MUT_OVERCAP, MUT_EMPTY, MUT_NUL, MUT_BAD };

static uint8_t *
encode(const struct desc *d, size_t at, enum mut mu, size_t *len)
{
	static uint8_t filler[LURK_WIRE_MAX_DATA + 1];
	struct lurk_buf *b = lurk_buf_new(BIG_CAP);
	uint8_t *out;

	memset(filler, 'a', sizeof(filler));
	assert_ptr_not_null(b);
	for (size_t i = 0; i < d->n; i++) {
		struct seg s = d->s[i];
		uint8_t nul[LURK_WIRE_MAX_DATA + 1];
		uint64_t prefix;

		if (i == at && mu == MUT_BAD)
			s.v = s.bad;
		if (i == at && mu == MUT_OVERCAP && s.p == NULL)
			s.v = s.cap + 1; /* a count */
		if (i == at && mu == MUT_GIANT && s.p == NULL)
			s.v = 0xffff; /* a count */
		if (i == at && mu == MUT_OVERCAP && s.p != NULL) {
			s.p = filler;
			s.n = s.cap + 1;
		}
		if (i == at && mu == MUT_EMPTY)
			s.n = 0;
		if (i == at && mu == MUT_NUL) {
			/* One NUL inserted in the middle. */
			memcpy(nul, s.p, s.n / 2);
			nul[s.n / 2] = 0;
			memcpy(nul + s.n / 2 + 1, s.p + s.n / 2, s.n - s.n / 2);
			s.p = nul;
			s.n++;
		}
		prefix = s.n;
		if (i == at && mu == MUT_GIANT && s.p != NULL)
			prefix = s.kind == SEG_S16 ? 0xffff : 0xffffffff;
		switch (s.kind) {
		case SEG_U8:
			assert_ok(lurk_buf_put_u8(b, (uint8_t)s.v));
			break;
		case SEG_U16:
			assert_ok(lurk_buf_put_u16(b, (uint16_t)s.v));
			break;
		case SEG_U32:
			assert_ok(lurk_buf_put_u32(b, (uint32_t)s.v));
			break;
		case SEG_U64:
			assert_ok(lurk_buf_put_u64(b, s.v));
			break;
		case SEG_S16:
			assert_ok(lurk_buf_put_u16(b, (uint16_t)prefix));
			assert_ok(lurk_buf_put_bytes(b, s.p, s.n));
			break;
		case SEG_S32:
			assert_ok(lurk_buf_put_u32(b, (uint32_t)prefix));
			assert_ok(lurk_buf_put_bytes(b, s.p, s.n));
			break;
		}
	}
	*len = lurk_buf_len(b);
	out = malloc(*len ? *len : 1);
	assert_ptr_not_null(out);
	memcpy(out, lurk_buf_ptr(b), *len);
	lurk_buf_free(b);
	return out;
}

/* Every sample: its description, and the library's build of the same message. */
#define N_SAMPLES 11

static struct desc samples[N_SAMPLES];
static struct lurk_buf *built[N_SAMPLES];

static void
make_samples(void)
{
	static struct lurk_wire_decrypt_resp dresp;
	struct desc *d = samples;
	struct lurk_buf **b = built;

	for (int i = 0; i < N_SAMPLES; i++) {
		lurk_buf_free(built[i]);
		assert_ptr_not_null(built[i] = lurk_buf_new(BIG_CAP));
	}
	d_header(d++, "list-req", LURK_WIRE_LIST, 1);
	assert_ok(lurk_wire_list_req_build(*b++, 1));
	d_list_resp(d++, 1, &wire_sample_list);
	assert_ok(lurk_wire_list_resp_build(*b++, 1, &wire_sample_list));
	d_sign_req(d++, "sign-req-none", 2, &wire_sample_sign_none);
	assert_ok(lurk_wire_sign_req_build(*b++, 2, &wire_sample_sign_none));
	d_sign_req(d++, "sign-req-pss", 0xfffffffe, &wire_sample_sign_pss);
	assert_ok(lurk_wire_sign_req_build(*b++, 0xfffffffe, &wire_sample_sign_pss));
	d_sign_req(d++, "sign-req-eddsa", 3, &wire_sample_sign_eddsa);
	assert_ok(lurk_wire_sign_req_build(*b++, 3, &wire_sample_sign_eddsa));
	d_header(d, "sign-resp", LURK_WIRE_SIGN_RESP, 2);
	seg_str(d++, SEG_S16, wire_sample_sign_resp.sig, wire_sample_sign_resp.sig_len,
		LURK_WIRE_MAX_SIGNATURE, 0, 0);
	assert_ok(lurk_wire_sign_resp_build(*b++, 2, &wire_sample_sign_resp));
	d_decrypt_req(d++, 4, &wire_sample_decrypt_req);
	assert_ok(lurk_wire_decrypt_req_build(*b++, 4, &wire_sample_decrypt_req));
	memset(dresp.pt, 0x03, 48);
	dresp.pt_len = 48;
	d_header(d, "decrypt-resp", LURK_WIRE_DECRYPT_RESP, 4);
	seg_str(d++, SEG_S16, dresp.pt, dresp.pt_len, LURK_WIRE_MAX_CIPHERTEXT, 0, 0);
	assert_ok(lurk_wire_decrypt_resp_build(*b++, 4, &dresp));
	d_header(d++, "ping-req", LURK_WIRE_PING, 5);
	assert_ok(lurk_wire_ping_req_build(*b++, 5));
	d_header(d, "ping-resp", LURK_WIRE_PING_RESP, 5);
	seg_add(d, SEG_U64, wire_sample_ping_resp.time);
	seg_bad(d, SEG_U32, wire_sample_ping_resp.flags, 0x80000000u, LURK_ERR_BAD_FORMAT);
	seg_add(d++, SEG_U32, wire_sample_ping_resp.keys);
	assert_ok(lurk_wire_ping_resp_build(*b++, 5, &wire_sample_ping_resp));
	d_header(d, "error-resp", LURK_WIRE_ERROR, 6);
	seg_bad(d, SEG_U16, wire_sample_error.status, LURK_WIRE_ST_LAST + 1, LURK_ERR_BAD_FORMAT);
	seg_add(d, SEG_U16, wire_sample_error.reason);
	seg_str(d++, SEG_S16, wire_sample_error.text, wire_sample_error.text_len,
		LURK_WIRE_MAX_REASON, 0, 1);
	assert_ok(lurk_wire_error_build(*b++, 6, &wire_sample_error));
	assert_num_eq(d - samples, N_SAMPLES);
	assert_num_eq(b - built, N_SAMPLES);
}

/* The builders write exactly the schema, and the parsers accept it. */
static void
test_builders_match_schema(void)
{
	make_samples();
	for (int i = 0; i < N_SAMPLES; i++) {
		size_t len;
		uint8_t *p = encode(&samples[i], SIZE_MAX, MUT_NONE, &len);

		lurk_test_diag("%s: %zu bytes", samples[i].name, len);
		assert_num_eq(lurk_buf_len(built[i]), len);
		assert_mem_eq(lurk_buf_ptr(built[i]), p, len);
		assert_ok(wire_parse_any(p, len));
		free(p);
	}
}

/* Every shorter prefix of every message is incomplete; one byte more is trailing. */
static void
test_truncated_and_trailing(void)
{
	make_samples();
	for (int i = 0; i < N_SAMPLES; i++) {
		size_t len;
		uint8_t *p = encode(&samples[i], SIZE_MAX, MUT_NONE, &len), *q;

		for (size_t cut = 0; cut < len; cut++) {
			/* An exact-size copy, so a sanitizer sees any read past the end. */
			q = malloc(cut ? cut : 1);
			memcpy(q, p, cut);
			assert_err(wire_parse_any(q, cut), LURK_ERR_INCOMPLETE);
			free(q);
		}
		q = malloc(len + 1);
		memcpy(q, p, len);
		q[len] = 0;
		assert_err(wire_parse_any(q, len + 1), LURK_ERR_TRAILING);
		free(q);
		free(p);
	}
}

/* Breaks each field of each message in each way that applies to it. */
static void
test_field_matrix(void)
{
	int checked = 0;

	make_samples();
	for (int i = 0; i < N_SAMPLES; i++) {
		const struct desc *d = &samples[i];

		for (size_t at = 0; at < d->n; at++) {
			const struct seg *s = &d->s[at];
			int is_str = s->kind == SEG_S16 || s->kind == SEG_S32;
			struct {
				enum mut mu;
				int applies, err;
			} cases[] = {
				{MUT_GIANT, s->cap != 0, LURK_ERR_TOO_LARGE},
				{MUT_OVERCAP, s->cap != 0, LURK_ERR_TOO_LARGE},
				{MUT_EMPTY, is_str && s->min > 0, LURK_ERR_BAD_FORMAT},
				{MUT_NUL, is_str && s->text, LURK_ERR_EMBEDDED_NUL},
				{MUT_BAD, s->has_bad, s->bad_err},
			};

			for (size_t c = 0; c < LURK_ARRAY_LEN(cases); c++) {
				size_t len;
				uint8_t *p;

				if (!cases[c].applies)
					continue;
				p = encode(d, at, cases[c].mu, &len);
				if (wire_parse_any(p, len) != cases[c].err)
					lurk_test_diag(
						"%s field %zu case %d", d->name, at, cases[c].mu);
				assert_err(wire_parse_any(p, len), cases[c].err);
				free(p);
				checked++;
			}
		}
	}
	lurk_test_diag("%d broken messages refused", checked);
}

static void
test_unknown_types(void)
{
	static const uint8_t types[] = {0x00, 0x08, 0x7f, 0x80, 0x88, 0xfe};
	uint8_t msg[LURK_WIRE_HDR_LEN + 1] = {LURK_WIRE_VERSION, 0, 0x12, 0x34, 0x56, 0x78, 0};

	for (size_t i = 0; i < sizeof(types); i++) {
		struct lurk_wire_hdr h;
		struct lurk_buf in;

		msg[1] = types[i];
		lurk_buf_view(&in, msg, sizeof(msg));
		assert_err(lurk_wire_header_parse(&in, &h), LURK_ERR_UNKNOWN_OP);
		assert_num_eq(lurk_buf_len(&in), sizeof(msg));
		/* The id is still there to answer with an error response. */
		assert_ok(lurk_wire_header_peek(&in, &h));
		assert_num_eq(h.id, 0x12345678);
		assert_num_eq(h.type, types[i]);
	}
}

static void
test_bad_param_kinds(void)
{
	static const uint8_t bad[] = {3, 4, 0x80, 0xff};
	struct lurk_wire_sign_req m = wire_sample_sign_none;
	struct lurk_buf *b = lurk_buf_new(BIG_CAP);

	for (size_t i = 0; i < sizeof(bad); i++) {
		m.param.kind = bad[i];
		assert_err(lurk_wire_sign_req_build(b, 1, &m), LURK_ERR_BAD_FORMAT);
		assert_num_eq(lurk_buf_len(b), 0);
	}
	/* And on the parse side, for decrypt too (the sign side is in the matrix). */
	assert_ok(lurk_wire_decrypt_req_build(b, 9, &wire_sample_decrypt_req));
	{
		uint8_t *p = malloc(lurk_buf_len(b));
		size_t len = lurk_buf_len(b);
		size_t kind_at = LURK_WIRE_HDR_LEN + 2 + wire_sample_decrypt_req.key_id_len + 4;

		memcpy(p, lurk_buf_ptr(b), len);
		for (size_t i = 0; i < sizeof(bad); i++) {
			p[kind_at] = bad[i];
			assert_err(wire_parse_any(p, len), LURK_ERR_BAD_FORMAT);
		}
		free(p);
	}
	lurk_buf_free(b);
}

int
main(int argc, char **argv)
{
	lurk_test(test_builders_match_schema, "/wire/matrix/builders-match-schema");
	lurk_test(test_truncated_and_trailing, "/wire/matrix/truncated-and-trailing");
	lurk_test(test_field_matrix, "/wire/matrix/field-matrix");
	lurk_test(test_unknown_types, "/wire/matrix/unknown-types");
	lurk_test(test_bad_param_kinds, "/wire/matrix/bad-param-kinds");
	return lurk_test_run(argc, argv);
}
