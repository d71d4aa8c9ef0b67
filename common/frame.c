#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "frame.h"

int
lurk_frame_header(uint8_t hdr[LURK_FRAME_HDR_LEN], size_t len)
{
	if (len == 0)
		return LURK_ERR_INVALID_ARG;
	if (len > LURK_NOISE_MAX_MSG)
		return LURK_ERR_TOO_LARGE;
	hdr[0] = (uint8_t)(len >> 8);
	hdr[1] = (uint8_t)len;
	return 0;
}

int
lurk_frame_reader_init(struct lurk_frame_reader *fr, size_t max)
{
	memset(fr, 0, sizeof(*fr));
	if (max == 0 || max > LURK_NOISE_MAX_MSG) {
		fr->failed = 1;
		return LURK_ERR_INVALID_ARG;
	}
	fr->max = max;
	return 0;
}

int
lurk_frame_reader_set_max(struct lurk_frame_reader *fr, size_t max)
{
	if (max == 0 || max > LURK_NOISE_MAX_MSG)
		return LURK_ERR_INVALID_ARG;
	fr->max = max;
	return 0;
}

static void
release_body(struct lurk_frame_reader *fr)
{
	if (fr->body != NULL) {
		sodium_memzero(fr->body, fr->cap);
		free(fr->body);
	}
	fr->body = NULL;
	fr->cap = 0;
	fr->need = 0;
	fr->have = 0;
	fr->hdr_have = 0;
	fr->ready = 0;
}

void
lurk_frame_reader_clear(struct lurk_frame_reader *fr)
{
	release_body(fr);
	sodium_memzero(fr, sizeof(*fr));
	fr->failed = 1;
}

/* Makes room for `want` body bytes (≤ need): doubling, the old copy wiped. */
static int
grow(struct lurk_frame_reader *fr, size_t want)
{
	size_t cap = fr->cap != 0 ? fr->cap : LURK_FRAME_FIRST_ALLOC;
	uint8_t *nb;

	while (cap < want)
		cap *= 2;
	if (cap > fr->need)
		cap = fr->need;
	if ((nb = malloc(cap)) == NULL)
		return LURK_ERR_ALLOC;
	if (fr->body != NULL) {
		memcpy(nb, fr->body, fr->have);
		sodium_memzero(fr->body, fr->cap);
		free(fr->body);
	}
	fr->body = nb;
	fr->cap = cap;
	return 0;
}

int
lurk_frame_reader_feed(struct lurk_frame_reader *fr, const uint8_t *data, size_t len, size_t *used)
{
	size_t off = 0, n;
	int r = 0;

	*used = 0;
	if (fr->failed)
		return LURK_ERR_STATE;
	if (fr->ready)
		release_body(fr);

	while (fr->hdr_have < LURK_FRAME_HDR_LEN && off < len)
		fr->hdr[fr->hdr_have++] = data[off++];
	if (fr->hdr_have < LURK_FRAME_HDR_LEN)
		goto out;

	if (fr->need == 0) {
		fr->need = (size_t)fr->hdr[0] << 8 | fr->hdr[1];
		/* The cap is checked before anything is allocated. */
		if (fr->need == 0) {
			r = LURK_ERR_BAD_FORMAT;
			goto out;
		}
		if (fr->need > fr->max) {
			r = LURK_ERR_TOO_LARGE;
			goto out;
		}
		fr->have = 0;
	}

	n = fr->need - fr->have;
	if (n > len - off)
		n = len - off;
	if (fr->have + n > fr->cap && (r = grow(fr, fr->have + n)) != 0)
		goto out;
	if (n > 0)
		memcpy(fr->body + fr->have, data + off, n);
	fr->have += n;
	off += n;
	if (fr->have == fr->need) {
		fr->ready = 1;
		r = 1;
	}
out:
	*used = off;
	if (r < 0) {
		release_body(fr);
		fr->failed = 1;
	}
	return r;
}

int
lurk_frame_reader_frame(const struct lurk_frame_reader *fr, const uint8_t **frame, size_t *len)
{
	*frame = NULL;
	*len = 0;
	if (fr->failed || !fr->ready)
		return LURK_ERR_STATE;
	*frame = fr->body;
	*len = fr->need;
	return 0;
}

int
lurk_frame_reader_body(struct lurk_frame_reader *fr, uint8_t **body, size_t *len)
{
	*body = NULL;
	*len = 0;
	if (fr->failed || !fr->ready)
		return LURK_ERR_STATE;
	*body = fr->body;
	*len = fr->need;
	return 0;
}

int
lurk_frame_reader_partial(const struct lurk_frame_reader *fr)
{
	return !fr->ready && fr->hdr_have > 0;
}

size_t
lurk_frame_reader_held(const struct lurk_frame_reader *fr)
{
	return fr->cap;
}

int
lurk_frame_put(struct lurk_buf *out, const uint8_t *msg, size_t len)
{
	uint8_t hdr[LURK_FRAME_HDR_LEN];
	int r;

	if ((r = lurk_frame_header(hdr, len)) != 0 ||
		(r = lurk_buf_put_bytes(out, hdr, sizeof(hdr))) != 0 ||
		(r = lurk_buf_put_bytes(out, msg, len)) != 0)
		return r;
	return 0;
}
