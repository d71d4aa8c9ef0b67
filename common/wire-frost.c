/*
 * Split-key wire messages (wire-frost.h, docs/wire.md "Split keys"), parse
 * and build side by side like wire-msg.c.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "err.h"
#include "wire-field.h"
#include "wire-frost.h"

static int
get_com(struct lurk_buf *b, struct lurk_wire_frost_com *c)
{
	int r;

	if ((r = lurk_buf_get_bytes(b, c->handle, sizeof(c->handle))) != 0 ||
		(r = lurk_buf_get_bytes(b, c->D, sizeof(c->D))) != 0 ||
		(r = lurk_buf_get_bytes(b, c->E, sizeof(c->E))) != 0)
		return r;
	return 0;
}

static int
put_com(struct lurk_buf *b, const struct lurk_wire_frost_com *c)
{
	int r;

	if ((r = lurk_buf_put_bytes(b, c->handle, sizeof(c->handle))) != 0 ||
		(r = lurk_buf_put_bytes(b, c->D, sizeof(c->D))) != 0 ||
		(r = lurk_buf_put_bytes(b, c->E, sizeof(c->E))) != 0)
		return r;
	return 0;
}

/* A count in [min..max], as a u16 (wide) or a u8, bounded by the bytes left. */
static int
get_count(struct lurk_buf *b, int wide, size_t min, size_t max, size_t elem, size_t *n)
{
	uint16_t v16;
	uint8_t v8;
	int r;

	*n = 0;
	if (wide) {
		if ((r = lurk_buf_get_u16(b, &v16)) != 0)
			return r;
		*n = v16;
	} else {
		if ((r = lurk_buf_get_u8(b, &v8)) != 0)
			return r;
		*n = v8;
	}
	if (*n > max)
		return LURK_ERR_TOO_LARGE;
	if (*n < min)
		return LURK_ERR_BAD_FORMAT;
	if (*n > lurk_buf_len(b) / elem)
		return LURK_ERR_INCOMPLETE;
	return 0;
}

static int
put_count(struct lurk_buf *b, int wide, size_t min, size_t max, size_t n)
{
	if (n > max)
		return LURK_ERR_TOO_LARGE;
	if (n < min)
		return LURK_ERR_BAD_FORMAT;
	return wide ? lurk_buf_put_u16(b, (uint16_t)n) : lurk_buf_put_u8(b, (uint8_t)n);
}

/* FROST_COMMIT: str16 key id, u16 count [1..LURK_WIRE_FROST_MAX_COMMIT]. */
int
lurk_wire_frost_commit_req_parse(struct lurk_buf *in, struct lurk_wire_frost_commit_req *m)
{
	struct lurk_buf v;
	uint16_t n = 0;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_key_id(&v, &m->key_id, &m->key_id_len)) != 0 ||
		(r = lurk_buf_get_u16(&v, &n)) != 0)
		goto fail;
	if (n > LURK_WIRE_FROST_MAX_COMMIT) {
		r = LURK_ERR_TOO_LARGE;
		goto fail;
	}
	if (n == 0) {
		r = LURK_ERR_BAD_FORMAT;
		goto fail;
	}
	m->count = n;
	if ((r = lurk_wire_body_done(in, &v)) != 0)
		goto fail;
	return 0;
fail:
	memset(m, 0, sizeof(*m));
	return r;
}

int
lurk_wire_frost_commit_req_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_frost_commit_req *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_FROST_COMMIT, id)) != 0 ||
		(r = lurk_wire_put_key_id(out, m->key_id, m->key_id_len)) != 0 ||
		(r = put_count(out, 1, 1, LURK_WIRE_FROST_MAX_COMMIT, m->count)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/* FROST_COMMIT_RESP: u16 count [1..LURK_WIRE_FROST_MAX_COMMIT], each handle ‖ D ‖ E. */
int
lurk_wire_frost_commit_resp_parse(struct lurk_buf *in, struct lurk_wire_frost_commit_resp *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = get_count(&v, 1, 1, LURK_WIRE_FROST_MAX_COMMIT, LURK_WIRE_FROST_COM_LEN,
		     &m->count)) != 0)
		goto fail;
	for (size_t i = 0; i < m->count; i++)
		if ((r = get_com(&v, &m->com[i])) != 0)
			goto fail;
	if ((r = lurk_wire_body_done(in, &v)) != 0)
		goto fail;
	return 0;
fail:
	memset(m, 0, sizeof(*m));
	return r;
}

int
lurk_wire_frost_commit_resp_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_frost_commit_resp *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_FROST_COMMIT_RESP, id)) != 0 ||
		(r = put_count(out, 1, 1, LURK_WIRE_FROST_MAX_COMMIT, m->count)) != 0)
		return lurk_wire_undo(out, start, r);
	for (size_t i = 0; i < m->count; i++)
		if ((r = put_com(out, &m->com[i])) != 0)
			return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/*
 * FROST_SIGN: str16 key id, handle (16), str32 message [0..LURK_WIRE_MAX_DATA],
 * u8 list count (exactly LURK_FROST_SIGNERS), each u16 id ‖ D ‖ E.
 */
int
lurk_wire_frost_sign_req_parse(struct lurk_buf *in, struct lurk_wire_frost_sign_req *m)
{
	struct lurk_buf v;
	size_t n;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_key_id(&v, &m->key_id, &m->key_id_len)) != 0 ||
		(r = lurk_buf_get_bytes(&v, m->handle, sizeof(m->handle))) != 0 ||
		(r = lurk_wire_get_str32(&v, &m->msg, &m->msg_len, LURK_WIRE_MAX_DATA, 0)) != 0 ||
		(r = get_count(&v, 0, LURK_FROST_SIGNERS, LURK_FROST_SIGNERS,
			 LURK_WIRE_FROST_ENTRY_LEN, &n)) != 0)
		goto fail;
	for (size_t i = 0; i < LURK_FROST_SIGNERS; i++)
		if ((r = lurk_buf_get_u16(&v, &m->list[i].id)) != 0 ||
			(r = lurk_buf_get_bytes(&v, m->list[i].D, LURK_FROST_POINT_LEN)) != 0 ||
			(r = lurk_buf_get_bytes(&v, m->list[i].E, LURK_FROST_POINT_LEN)) != 0)
			goto fail;
	if ((r = lurk_wire_body_done(in, &v)) != 0)
		goto fail;
	return 0;
fail:
	memset(m, 0, sizeof(*m));
	return r;
}

int
lurk_wire_frost_sign_req_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_frost_sign_req *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_FROST_SIGN, id)) != 0 ||
		(r = lurk_wire_put_key_id(out, m->key_id, m->key_id_len)) != 0 ||
		(r = lurk_buf_put_bytes(out, m->handle, sizeof(m->handle))) != 0 ||
		(r = lurk_wire_put_str32(out, m->msg, m->msg_len, LURK_WIRE_MAX_DATA, 0)) != 0 ||
		(r = put_count(
			 out, 0, LURK_FROST_SIGNERS, LURK_FROST_SIGNERS, LURK_FROST_SIGNERS)) != 0)
		return lurk_wire_undo(out, start, r);
	for (size_t i = 0; i < LURK_FROST_SIGNERS; i++)
		if ((r = lurk_buf_put_u16(out, m->list[i].id)) != 0 ||
			(r = lurk_buf_put_bytes(out, m->list[i].D, LURK_FROST_POINT_LEN)) != 0 ||
			(r = lurk_buf_put_bytes(out, m->list[i].E, LURK_FROST_POINT_LEN)) != 0)
			return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/* FROST_SIGN_RESP: z (32), u8 fresh count [0..1], each handle ‖ D ‖ E. */
int
lurk_wire_frost_sign_resp_parse(struct lurk_buf *in, struct lurk_wire_frost_sign_resp *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_buf_get_bytes(&v, m->z, sizeof(m->z))) != 0 ||
		(r = get_count(&v, 0, 0, 1, LURK_WIRE_FROST_COM_LEN, &m->fresh_count)) != 0 ||
		(m->fresh_count == 1 && (r = get_com(&v, &m->fresh)) != 0) ||
		(r = lurk_wire_body_done(in, &v)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return 0;
}

int
lurk_wire_frost_sign_resp_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_frost_sign_resp *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_FROST_SIGN_RESP, id)) != 0 ||
		(r = lurk_buf_put_bytes(out, m->z, sizeof(m->z))) != 0 ||
		(r = put_count(out, 0, 0, 1, m->fresh_count)) != 0 ||
		(m->fresh_count == 1 && (r = put_com(out, &m->fresh)) != 0))
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/*
 * RSA_PARTIAL: str16 key id, u32 mechanism, parameters, str16 data
 * [0..LURK_WIRE_MAX_CIPHERTEXT], str16 em [0..LURK_WIRE_MAX_CIPHERTEXT].
 * Parameters are NONE or PSS (EdDSA's are BAD_FORMAT here).
 */
int
lurk_wire_rsa_partial_req_parse(struct lurk_buf *in, struct lurk_wire_rsa_partial_req *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_key_id(&v, &m->key_id, &m->key_id_len)) != 0 ||
		(r = lurk_buf_get_u32(&v, &m->mech)) != 0 ||
		(r = lurk_wire_get_param(&v, &m->param)) != 0 ||
		(m->param.kind == LURK_WIRE_PARAM_EDDSA && (r = LURK_ERR_BAD_FORMAT) != 0) ||
		(r = lurk_wire_get_str16(
			 &v, &m->data, &m->data_len, LURK_WIRE_MAX_CIPHERTEXT, 0)) != 0 ||
		(r = lurk_wire_get_str16(&v, &m->em, &m->em_len, LURK_WIRE_MAX_CIPHERTEXT, 0)) !=
			0 ||
		(r = lurk_wire_body_done(in, &v)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return 0;
}

int
lurk_wire_rsa_partial_req_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_rsa_partial_req *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if (m->param.kind == LURK_WIRE_PARAM_EDDSA)
		return LURK_ERR_BAD_FORMAT;
	if ((r = lurk_wire_header_build(out, LURK_WIRE_RSA_PARTIAL, id)) != 0 ||
		(r = lurk_wire_put_key_id(out, m->key_id, m->key_id_len)) != 0 ||
		(r = lurk_buf_put_u32(out, m->mech)) != 0 ||
		(r = lurk_wire_put_param(out, &m->param)) != 0 ||
		(r = lurk_wire_put_str16(out, m->data, m->data_len, LURK_WIRE_MAX_CIPHERTEXT, 0)) !=
			0 ||
		(r = lurk_wire_put_str16(out, m->em, m->em_len, LURK_WIRE_MAX_CIPHERTEXT, 0)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/* RSA_PARTIAL_RESP: str16 partial [1..LURK_WIRE_MAX_CIPHERTEXT]. */
int
lurk_wire_rsa_partial_resp_parse(struct lurk_buf *in, struct lurk_wire_rsa_partial_resp *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_str16(
		     &v, &m->partial, &m->partial_len, LURK_WIRE_MAX_CIPHERTEXT, 1)) != 0 ||
		(r = lurk_wire_body_done(in, &v)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return 0;
}

int
lurk_wire_rsa_partial_resp_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_rsa_partial_resp *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_RSA_PARTIAL_RESP, id)) != 0 ||
		(r = lurk_wire_put_str16(
			 out, m->partial, m->partial_len, LURK_WIRE_MAX_CIPHERTEXT, 1)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}
