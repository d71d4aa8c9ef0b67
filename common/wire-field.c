/*
 * Field types of the wire messages, each a get/put pair that checks the same
 * rules on both sides, and the scaffolding every message parser and builder
 * uses. Internal to wire-msg.c; the schema is in docs/wire.md.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "err.h"
#include "wire-field.h"
#include "wire.h"

/* The body as a view: parsed from, then consumed from `in` by body_done. */
void
lurk_wire_body_view(struct lurk_buf *in, struct lurk_buf *v)
{
	lurk_buf_view(v, lurk_buf_ptr(in), lurk_buf_len(in));
}

int
lurk_wire_body_done(struct lurk_buf *in, const struct lurk_buf *v)
{
	int r;

	if ((r = lurk_buf_get_end(v)) != 0)
		return r;
	return lurk_buf_consume(in, lurk_buf_len(in));
}

/* Removes what a failed builder appended (wiping it). */
int
lurk_wire_undo(struct lurk_buf *out, size_t start, int r)
{
	size_t len = lurk_buf_len(out);

	if (len > start && lurk_buf_unput(out, len - start) != 0)
		return LURK_ERR_INTERNAL;
	return r;
}

/* Ends a builder: a message over LURK_WIRE_MAX_MSG would be refused by the peer. */
int
lurk_wire_built(struct lurk_buf *out, size_t start)
{
	if (lurk_buf_len(out) - start > LURK_WIRE_MAX_MSG)
		return lurk_wire_undo(out, start, LURK_ERR_TOO_LARGE);
	return 0;
}

/* Field types shared by several messages, each a get/put pair. */

int
lurk_wire_get_str16(struct lurk_buf *b, const uint8_t **p, size_t *n, size_t max, size_t min)
{
	int r;

	if ((r = lurk_buf_get_string16_direct(b, p, n, max)) != 0)
		return r;
	return *n < min ? LURK_ERR_BAD_FORMAT : 0;
}

int
lurk_wire_put_str16(struct lurk_buf *b, const void *p, size_t n, size_t max, size_t min)
{
	if (n > max)
		return LURK_ERR_TOO_LARGE;
	if (n < min || (p == NULL && n != 0))
		return LURK_ERR_BAD_FORMAT;
	return lurk_buf_put_string16(b, p, n);
}

int
lurk_wire_get_str32(struct lurk_buf *b, const uint8_t **p, size_t *n, size_t max, size_t min)
{
	int r;

	if ((r = lurk_buf_get_string_direct(b, p, n, max)) != 0)
		return r;
	return *n < min ? LURK_ERR_BAD_FORMAT : 0;
}

int
lurk_wire_put_str32(struct lurk_buf *b, const void *p, size_t n, size_t max, size_t min)
{
	if (n > max)
		return LURK_ERR_TOO_LARGE;
	if (n < min || (p == NULL && n != 0))
		return LURK_ERR_BAD_FORMAT;
	return lurk_buf_put_string(b, p, n);
}

/* u16 string of UTF-8 text without NUL. */
/* Key id: u16 string of 1..LURK_WIRE_MAX_KEY_ID bytes. */
int
lurk_wire_get_key_id(struct lurk_buf *b, const uint8_t **p, size_t *n)
{
	return lurk_wire_get_str16(b, p, n, LURK_WIRE_MAX_KEY_ID, 1);
}

int
lurk_wire_put_key_id(struct lurk_buf *b, const void *p, size_t n)
{
	return lurk_wire_put_str16(b, p, n, LURK_WIRE_MAX_KEY_ID, 1);
}

int
lurk_wire_get_text(struct lurk_buf *b, const char **s, size_t *n, size_t max)
{
	const uint8_t *p;
	int r;

	if ((r = lurk_buf_get_string16_direct(b, &p, n, max)) != 0 ||
		(r = lurk_wire_text_check(p, *n)) != 0)
		return r;
	*s = (const char *)p;
	return 0;
}

int
lurk_wire_put_text(struct lurk_buf *b, const char *s, size_t n, size_t max)
{
	int r;

	if (n > max)
		return LURK_ERR_TOO_LARGE;
	if ((r = lurk_wire_text_check((const uint8_t *)s, n)) != 0)
		return r;
	return lurk_buf_put_string16(b, s, n);
}

/* u32 flags: bits outside `known` are reserved and must be zero. */
int
lurk_wire_get_flags(struct lurk_buf *b, uint32_t *v, uint32_t known)
{
	int r;

	if ((r = lurk_buf_get_u32(b, v)) != 0)
		return r;
	return (*v & ~known) != 0 ? LURK_ERR_BAD_FORMAT : 0;
}

int
lurk_wire_put_flags(struct lurk_buf *b, uint32_t v, uint32_t known)
{
	if ((v & ~known) != 0)
		return LURK_ERR_BAD_FORMAT;
	return lurk_buf_put_u32(b, v);
}

/* u16 count: over its cap, or more elements than bytes left could hold, fails here. */
int
lurk_wire_get_count(struct lurk_buf *b, size_t *count, size_t max, size_t elem_min)
{
	uint16_t n;
	int r;

	*count = 0;
	if ((r = lurk_buf_get_u16(b, &n)) != 0)
		return r;
	if (n > max)
		return LURK_ERR_TOO_LARGE;
	if (n > lurk_buf_len(b) / elem_min)
		return LURK_ERR_INCOMPLETE;
	*count = n;
	return 0;
}

int
lurk_wire_put_count(struct lurk_buf *b, size_t count, size_t max)
{
	if (count > max)
		return LURK_ERR_TOO_LARGE;
	return lurk_buf_put_u16(b, (uint16_t)count);
}

static int
key_type_ok(uint8_t t)
{
	return t == LURK_KEY_RSA || t == LURK_KEY_EC || t == LURK_KEY_ED25519 ||
	       t == LURK_KEY_ED448;
}

int
lurk_wire_get_key_type(struct lurk_buf *b, uint8_t *t)
{
	int r;

	if ((r = lurk_buf_get_u8(b, t)) != 0)
		return r;
	return key_type_ok(*t) ? 0 : LURK_ERR_BAD_FORMAT;
}

int
lurk_wire_put_key_type(struct lurk_buf *b, uint8_t t)
{
	return key_type_ok(t) ? lurk_buf_put_u8(b, t) : LURK_ERR_BAD_FORMAT;
}

/*
 * Mechanism parameters: u8 kind, then
 *	NONE:  nothing
 *	PSS:   u32 hash, u32 mgf, u32 sLen
 *	EDDSA: u8 phFlag (0 or 1), u16 string context (≤ LURK_WIRE_MAX_CONTEXT)
 */
int
lurk_wire_get_param(struct lurk_buf *b, struct lurk_wire_param *pa)
{
	int r;

	if ((r = lurk_buf_get_u8(b, &pa->kind)) != 0)
		return r;
	switch (pa->kind) {
	case LURK_WIRE_PARAM_NONE:
		return 0;
	case LURK_WIRE_PARAM_PSS:
		if ((r = lurk_buf_get_u32(b, &pa->u.pss.hash)) != 0 ||
			(r = lurk_buf_get_u32(b, &pa->u.pss.mgf)) != 0 ||
			(r = lurk_buf_get_u32(b, &pa->u.pss.slen)) != 0)
			return r;
		return 0;
	case LURK_WIRE_PARAM_EDDSA:
		if ((r = lurk_buf_get_u8(b, &pa->u.eddsa.ph_flag)) != 0 ||
			(r = lurk_wire_get_str16(b, &pa->u.eddsa.context, &pa->u.eddsa.context_len,
				 LURK_WIRE_MAX_CONTEXT, 0)) != 0)
			return r;
		return pa->u.eddsa.ph_flag > 1 ? LURK_ERR_BAD_FORMAT : 0;
	default:
		return LURK_ERR_BAD_FORMAT;
	}
}

int
lurk_wire_put_param(struct lurk_buf *b, const struct lurk_wire_param *pa)
{
	int r;

	switch (pa->kind) {
	case LURK_WIRE_PARAM_NONE:
		return lurk_buf_put_u8(b, pa->kind);
	case LURK_WIRE_PARAM_PSS:
		if ((r = lurk_buf_put_u8(b, pa->kind)) != 0 ||
			(r = lurk_buf_put_u32(b, pa->u.pss.hash)) != 0 ||
			(r = lurk_buf_put_u32(b, pa->u.pss.mgf)) != 0 ||
			(r = lurk_buf_put_u32(b, pa->u.pss.slen)) != 0)
			return r;
		return 0;
	case LURK_WIRE_PARAM_EDDSA:
		if (pa->u.eddsa.ph_flag > 1)
			return LURK_ERR_BAD_FORMAT;
		if ((r = lurk_buf_put_u8(b, pa->kind)) != 0 ||
			(r = lurk_buf_put_u8(b, pa->u.eddsa.ph_flag)) != 0 ||
			(r = lurk_wire_put_str16(b, pa->u.eddsa.context, pa->u.eddsa.context_len,
				 LURK_WIRE_MAX_CONTEXT, 0)) != 0)
			return r;
		return 0;
	default:
		return LURK_ERR_BAD_FORMAT;
	}
}

static int
status_ok(uint16_t s)
{
	return s >= LURK_WIRE_ST_PROTOCOL && s <= LURK_WIRE_ST_LAST;
}

int
lurk_wire_get_status(struct lurk_buf *b, uint16_t *s)
{
	int r;

	if ((r = lurk_buf_get_u16(b, s)) != 0)
		return r;
	return status_ok(*s) ? 0 : LURK_ERR_BAD_FORMAT;
}

int
lurk_wire_put_status(struct lurk_buf *b, uint16_t s)
{
	return status_ok(s) ? lurk_buf_put_u16(b, s) : LURK_ERR_BAD_FORMAT;
}
