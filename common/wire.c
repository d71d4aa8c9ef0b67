/*
 * The wire protocol's framing around the messages: fragmentation of a message
 * into transport plaintexts, reassembly, the header, error classes and the
 * text check. The messages themselves are in wire-msg.c.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "err.h"
#include "mem.h"
#include "wire.h"

void
lurk_wire_frag_init(struct lurk_wire_frag *f, const uint8_t *msg, size_t len)
{
	f->msg = msg;
	f->len = len;
	f->off = 0;
	f->done = 0;
	f->pt_len = 0;
}

int
lurk_wire_frag_next(struct lurk_wire_frag *f, const uint8_t **pt, size_t *pt_len)
{
	size_t chunk;
	uint8_t flags = 0;

	*pt = NULL;
	*pt_len = 0;
	/* The previous fragment may hold part of a secret (a decrypt response). */
	lurk_wipe(f->pt, f->pt_len);
	f->pt_len = 0;
	if (f->len > LURK_WIRE_MAX_MSG)
		return LURK_ERR_TOO_LARGE;
	if (f->msg == NULL && f->len != 0)
		return LURK_ERR_INVALID_ARG;
	if (f->done)
		return 0;
	/* Even an empty message is one (final) fragment. */
	chunk = f->len - f->off;
	if (chunk > LURK_WIRE_FRAG_MAX_CHUNK) {
		chunk = LURK_WIRE_FRAG_MAX_CHUNK;
		flags = LURK_WIRE_FRAG_MORE;
	}
	f->pt[0] = flags;
	if (chunk != 0)
		memcpy(f->pt + LURK_WIRE_FRAG_HDR_LEN, f->msg + f->off, chunk);
	f->off += chunk;
	f->done = flags == 0;
	f->pt_len = LURK_WIRE_FRAG_HDR_LEN + chunk;
	*pt = f->pt;
	*pt_len = f->pt_len;
	return 1;
}

void
lurk_wire_frag_clear(struct lurk_wire_frag *f)
{
	lurk_wipe(f->pt, f->pt_len);
	f->pt_len = 0;
	f->done = 1;
}

int
lurk_wire_reasm_init(struct lurk_wire_reasm *r)
{
	r->complete = 0;
	return lurk_buf_init(&r->msg, LURK_WIRE_MAX_MSG);
}

int
lurk_wire_reasm_feed(struct lurk_wire_reasm *r, const uint8_t *pt, size_t len)
{
	size_t chunk;
	uint8_t flags;
	int ret;

	if (r->complete)
		return LURK_ERR_STATE;
	if (pt == NULL && len != 0)
		return LURK_ERR_INVALID_ARG;
	if (len < LURK_WIRE_FRAG_HDR_LEN) {
		ret = LURK_ERR_INCOMPLETE;
		goto fail;
	}
	if (len > LURK_NOISE_MAX_PLAINTEXT) {
		ret = LURK_ERR_TOO_LARGE;
		goto fail;
	}
	flags = pt[0];
	chunk = len - LURK_WIRE_FRAG_HDR_LEN;
	/* Reserved bits, and a MORE fragment that adds nothing (it could spin forever). */
	if ((flags & ~LURK_WIRE_FRAG_MORE) != 0 || ((flags & LURK_WIRE_FRAG_MORE) && chunk == 0)) {
		ret = LURK_ERR_BAD_FORMAT;
		goto fail;
	}
	/* Refuse before appending: nothing is allocated for a message over the cap. */
	if (chunk > LURK_WIRE_MAX_MSG - lurk_buf_len(&r->msg)) {
		ret = LURK_ERR_TOO_LARGE;
		goto fail;
	}
	if ((ret = lurk_buf_put_bytes(&r->msg, pt + LURK_WIRE_FRAG_HDR_LEN, chunk)) != 0)
		goto fail;
	if (flags & LURK_WIRE_FRAG_MORE)
		return 0;
	r->complete = 1;
	return 1;
fail:
	lurk_wire_reasm_reset(r);
	return ret;
}

const uint8_t *
lurk_wire_reasm_msg(const struct lurk_wire_reasm *r)
{
	static const uint8_t empty[1];

	if (!r->complete)
		return NULL;
	return lurk_buf_len(&r->msg) != 0 ? lurk_buf_ptr(&r->msg) : empty;
}

size_t
lurk_wire_reasm_len(const struct lurk_wire_reasm *r)
{
	return r->complete ? lurk_buf_len(&r->msg) : 0;
}

void
lurk_wire_reasm_reset(struct lurk_wire_reasm *r)
{
	/* Freed, not kept: 10,000 idle connections must not each hold a large block. */
	lurk_buf_clear(&r->msg);
	r->complete = 0;
}

void
lurk_wire_reasm_clear(struct lurk_wire_reasm *r)
{
	lurk_wire_reasm_reset(r);
}

static int
type_known(uint8_t type)
{
	switch (type) {
	case LURK_WIRE_LIST:
	case LURK_WIRE_SIGN:
	case LURK_WIRE_DECRYPT:
	case LURK_WIRE_PING:
	case LURK_WIRE_LIST_RESP:
	case LURK_WIRE_SIGN_RESP:
	case LURK_WIRE_DECRYPT_RESP:
	case LURK_WIRE_PING_RESP:
	case LURK_WIRE_FROST_COMMIT:
	case LURK_WIRE_FROST_SIGN:
	case LURK_WIRE_FROST_COMMIT_RESP:
	case LURK_WIRE_FROST_SIGN_RESP:
	case LURK_WIRE_RSA_PARTIAL:
	case LURK_WIRE_RSA_PARTIAL_RESP:
	case LURK_WIRE_ERROR:
		return 1;
	default:
		return 0;
	}
}

int
lurk_wire_header_peek(const struct lurk_buf *in, struct lurk_wire_hdr *h)
{
	struct lurk_buf v;
	int r;

	memset(h, 0, sizeof(*h));
	lurk_buf_view(&v, lurk_buf_ptr(in), lurk_buf_len(in));
	if ((r = lurk_buf_get_u8(&v, &h->version)) != 0 ||
		(r = lurk_buf_get_u8(&v, &h->type)) != 0 ||
		(r = lurk_buf_get_u32(&v, &h->id)) != 0) {
		memset(h, 0, sizeof(*h));
		return r;
	}
	return 0;
}

int
lurk_wire_header_parse(struct lurk_buf *in, struct lurk_wire_hdr *h)
{
	int r;

	if ((r = lurk_wire_header_peek(in, h)) != 0)
		return r;
	if (h->version != LURK_WIRE_VERSION)
		r = LURK_ERR_BAD_VERSION;
	else if (!type_known(h->type))
		r = LURK_ERR_UNKNOWN_OP;
	else
		r = lurk_buf_consume(in, LURK_WIRE_HDR_LEN);
	if (r != 0)
		memset(h, 0, sizeof(*h));
	return r;
}

int
lurk_wire_header_build(struct lurk_buf *out, uint8_t type, uint32_t id)
{
	const uint8_t h[LURK_WIRE_HDR_LEN] = {
		LURK_WIRE_VERSION,
		type,
		(uint8_t)(id >> 24),
		(uint8_t)(id >> 16),
		(uint8_t)(id >> 8),
		(uint8_t)id,
	};

	if (!type_known(type))
		return LURK_ERR_UNKNOWN_OP;
	/* One put, so a failure leaves nothing behind. */
	return lurk_buf_put_bytes(out, h, sizeof(h));
}

/*
 * lurkd answers every refusal and failure through this table, and the module
 * reads the class back through lurk_wire_status_to_err: one mapping, both ways.
 */
enum lurk_wire_status
lurk_wire_status_from_err(int r)
{
	switch (r) {
	case LURK_ERR_INCOMPLETE:
	case LURK_ERR_TOO_LARGE:
	case LURK_ERR_TRAILING:
	case LURK_ERR_EMBEDDED_NUL:
	case LURK_ERR_BAD_FORMAT:
	case LURK_ERR_BAD_VERSION:
	case LURK_ERR_UNKNOWN_OP:
		return LURK_WIRE_ST_PROTOCOL;
	case LURK_ERR_DENIED:
	case LURK_ERR_UNKNOWN_PEER:
		return LURK_WIRE_ST_DENIED;
	case LURK_ERR_POLICY:
		return LURK_WIRE_ST_POLICY;
	case LURK_ERR_RATE_LIMIT:
		return LURK_WIRE_ST_RATE_LIMIT;
	case LURK_ERR_NOT_FOUND:
		return LURK_WIRE_ST_NOT_FOUND;
	case LURK_ERR_MECHANISM:
		return LURK_WIRE_ST_MECHANISM;
	case LURK_ERR_CRYPTO:
		return LURK_WIRE_ST_CRYPTO;
	case LURK_ERR_INTERNAL:
	case LURK_ERR_ALLOC:
	case LURK_ERR_AUDIT: /* lurkd serves nothing it cannot audit */
	default:
		return LURK_WIRE_ST_INTERNAL;
	}
}

int
lurk_wire_status_to_err(uint16_t status)
{
	switch (status) {
	case LURK_WIRE_ST_DENIED:
		return LURK_ERR_DENIED;
	case LURK_WIRE_ST_POLICY:
		return LURK_ERR_POLICY;
	case LURK_WIRE_ST_RATE_LIMIT:
		return LURK_ERR_RATE_LIMIT;
	case LURK_WIRE_ST_NOT_FOUND:
		return LURK_ERR_NOT_FOUND;
	case LURK_WIRE_ST_MECHANISM:
		return LURK_ERR_MECHANISM;
	case LURK_WIRE_ST_CRYPTO:
		return LURK_ERR_CRYPTO;
	default:
		/* PROTOCOL, INTERNAL: the server's fault or ours, not the key's. */
		return LURK_ERR_PEER;
	}
}

const char *
lurk_wire_status_str(uint16_t status)
{
	static const char *const names[] = {
		[LURK_WIRE_ST_PROTOCOL] = "protocol error",
		[LURK_WIRE_ST_DENIED] = "access denied",
		[LURK_WIRE_ST_POLICY] = "refused by usage policy",
		[LURK_WIRE_ST_RATE_LIMIT] = "rate limited",
		[LURK_WIRE_ST_NOT_FOUND] = "no such key",
		[LURK_WIRE_ST_INTERNAL] = "server error",
		[LURK_WIRE_ST_MECHANISM] = "mechanism not supported",
		[LURK_WIRE_ST_CRYPTO] = "key operation failed",
	};

	if (status >= LURK_ARRAY_LEN(names) || names[status] == NULL)
		return "unknown status";
	return names[status];
}

/* RFC 3629: shortest form, no surrogates, nothing past U+10FFFF. */
static int
utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, need;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = p[i++];

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1fu;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0fu;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07u;
			min = 0x10000;
		} else {
			return 0;
		}
		if (need > n - i)
			return 0;
		for (; need != 0; need--, i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

int
lurk_wire_text_check(const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (p == NULL)
		return LURK_ERR_INVALID_ARG;
	if (memchr(p, '\0', n) != NULL)
		return LURK_ERR_EMBEDDED_NUL;
	return utf8_valid(p, n) ? 0 : LURK_ERR_BAD_FORMAT;
}
