#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mem.h"

#define BUF_MIN_ALLOC 256

/*
 * The invariants every entry point checks first. A violation is a bug in lurk,
 * never bad input; the module must not abort inside its host, so it is
 * reported as LURK_ERR_INTERNAL rather than raised.
 */
static int
buf_check(const struct lurk_buf *b)
{
	if (b == NULL)
		return LURK_ERR_INVALID_ARG;
	if (b->off > b->size || b->size > b->alloc || b->max_size > LURK_BUF_SIZE_MAX)
		return LURK_ERR_INTERNAL;
	if (!b->readonly && (b->alloc > b->max_size || b->cd != b->d))
		return LURK_ERR_INTERNAL;
	if (b->alloc != 0 && b->cd == NULL)
		return LURK_ERR_INTERNAL;
	return 0;
}

int
lurk_buf_init(struct lurk_buf *b, size_t max_size)
{
	if (b == NULL || max_size > LURK_BUF_SIZE_MAX)
		return LURK_ERR_INVALID_ARG;
	memset(b, 0, sizeof(*b));
	b->max_size = max_size;
	return 0;
}

struct lurk_buf *
lurk_buf_new(size_t max_size)
{
	struct lurk_buf *b;

	if (max_size > LURK_BUF_SIZE_MAX)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max_size = max_size;
	b->heap = 1;
	return b;
}

void
lurk_buf_view(struct lurk_buf *b, const void *p, size_t len)
{
	memset(b, 0, sizeof(*b));
	if (p == NULL || len > LURK_BUF_SIZE_MAX)
		len = 0;
	b->cd = p;
	b->size = b->alloc = b->max_size = len;
	b->readonly = 1;
}

struct lurk_buf *
lurk_buf_from(const void *p, size_t len)
{
	struct lurk_buf *b;

	if (p == NULL || len > LURK_BUF_SIZE_MAX)
		return NULL;
	if ((b = malloc(sizeof(*b))) == NULL)
		return NULL;
	lurk_buf_view(b, p, len);
	b->heap = 1;
	return b;
}

void
lurk_buf_clear(struct lurk_buf *b)
{
	size_t max;

	if (b == NULL)
		return;
	if (!b->readonly)
		lurk_freezero(b->d, b->alloc);
	max = b->max_size;
	memset(b, 0, sizeof(*b));
	b->max_size = max;
}

void
lurk_buf_free(struct lurk_buf *b)
{
	int heap;

	if (b == NULL)
		return;
	heap = b->heap;
	lurk_buf_clear(b);
	if (heap)
		free(b);
}

size_t
lurk_buf_len(const struct lurk_buf *b)
{
	if (buf_check(b) != 0)
		return 0;
	return b->size - b->off;
}

const uint8_t *
lurk_buf_ptr(const struct lurk_buf *b)
{
	if (buf_check(b) != 0 || b->cd == NULL)
		return NULL;
	return b->cd + b->off;
}

size_t
lurk_buf_max_size(const struct lurk_buf *b)
{
	return b != NULL ? b->max_size : 0;
}

int
lurk_buf_set_max_size(struct lurk_buf *b, size_t max_size)
{
	int r;

	if ((r = buf_check(b)) != 0)
		return r;
	if (b->readonly)
		return LURK_ERR_READONLY;
	if (max_size > LURK_BUF_SIZE_MAX || max_size < b->alloc)
		return LURK_ERR_NO_SPACE;
	b->max_size = max_size;
	return 0;
}

void
lurk_buf_reset(struct lurk_buf *b)
{
	if (buf_check(b) != 0)
		return;
	if (b->readonly) {
		b->off = b->size;
		return;
	}
	lurk_wipe(b->d, b->size);
	b->off = b->size = 0;
}

int
lurk_buf_consume(struct lurk_buf *b, size_t n)
{
	int r;

	if ((r = buf_check(b)) != 0)
		return r;
	if (n > b->size - b->off)
		return LURK_ERR_INCOMPLETE;
	b->off += n;
	return 0;
}

int
lurk_buf_get_end(const struct lurk_buf *b)
{
	int r;

	if ((r = buf_check(b)) != 0)
		return r;
	return b->size == b->off ? 0 : LURK_ERR_TRAILING;
}

/* Borrows n bytes and moves the cursor; the common core of every getter. */
static int
take(struct lurk_buf *b, size_t n, const uint8_t **p)
{
	int r;

	*p = NULL;
	if ((r = buf_check(b)) != 0)
		return r;
	if (n > b->size - b->off)
		return LURK_ERR_INCOMPLETE;
	*p = b->cd != NULL ? b->cd + b->off : NULL;
	b->off += n;
	return 0;
}

int
lurk_buf_get_u8(struct lurk_buf *b, uint8_t *v)
{
	const uint8_t *p;
	int r;

	*v = 0;
	if ((r = take(b, 1, &p)) != 0)
		return r;
	*v = p[0];
	return 0;
}

int
lurk_buf_get_u16(struct lurk_buf *b, uint16_t *v)
{
	const uint8_t *p;
	int r;

	*v = 0;
	if ((r = take(b, 2, &p)) != 0)
		return r;
	*v = (uint16_t)((uint16_t)p[0] << 8 | p[1]);
	return 0;
}

int
lurk_buf_get_u32(struct lurk_buf *b, uint32_t *v)
{
	const uint8_t *p;
	int r;

	*v = 0;
	if ((r = take(b, 4, &p)) != 0)
		return r;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
lurk_buf_get_u64(struct lurk_buf *b, uint64_t *v)
{
	const uint8_t *p;
	uint64_t x = 0;
	int r;

	*v = 0;
	if ((r = take(b, 8, &p)) != 0)
		return r;
	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	*v = x;
	return 0;
}

int
lurk_buf_get_bytes(struct lurk_buf *b, void *dst, size_t n)
{
	const uint8_t *p;
	int r;

	if ((r = take(b, n, &p)) != 0) {
		if (dst != NULL)
			lurk_wipe(dst, n);
		return r;
	}
	if (n != 0)
		memcpy(dst, p, n);
	return 0;
}

int
lurk_buf_get_secret(struct lurk_buf *b, void *dst, size_t n)
{
	const uint8_t *p;
	int r;

	if ((r = take(b, n, &p)) != 0) {
		if (dst != NULL)
			lurk_wipe(dst, n);
		return r;
	}
	if (n != 0)
		memcpy(dst, p, n);
	if (!b->readonly)
		lurk_wipe(b->d + (b->off - n), n);
	return 0;
}

int
lurk_buf_get_direct(struct lurk_buf *b, const uint8_t **p, size_t n)
{
	return take(b, n, p);
}

/* Reads a length prefix of `width` bytes and borrows that many bytes. */
static int
get_prefixed(struct lurk_buf *b, int width, const uint8_t **p, size_t *n, size_t max)
{
	size_t save, len;
	uint16_t l16;
	uint32_t l32;
	int r;

	*p = NULL;
	*n = 0;
	if ((r = buf_check(b)) != 0)
		return r;
	save = b->off;
	if (width == 2) {
		r = lurk_buf_get_u16(b, &l16);
		len = l16;
	} else {
		r = lurk_buf_get_u32(b, &l32);
		len = l32;
	}
	if (r != 0)
		return r;
	if (len > max || len > LURK_BUF_SIZE_MAX) {
		b->off = save;
		return LURK_ERR_TOO_LARGE;
	}
	if ((r = take(b, len, p)) != 0) {
		b->off = save;
		return r;
	}
	*n = len;
	return 0;
}

int
lurk_buf_get_string_direct(struct lurk_buf *b, const uint8_t **p, size_t *n, size_t max)
{
	return get_prefixed(b, 4, p, n, max);
}

int
lurk_buf_get_string16_direct(struct lurk_buf *b, const uint8_t **p, size_t *n, size_t max)
{
	return get_prefixed(b, 2, p, n, max);
}

int
lurk_buf_get_cstring16(struct lurk_buf *b, char **s, size_t max)
{
	const uint8_t *p;
	size_t n, save;
	char *out;
	int r;

	*s = NULL;
	if ((r = buf_check(b)) != 0)
		return r;
	save = b->off;
	if ((r = get_prefixed(b, 2, &p, &n, max)) != 0)
		return r;
	if (n != 0 && memchr(p, '\0', n) != NULL) {
		b->off = save;
		return LURK_ERR_EMBEDDED_NUL;
	}
	if ((out = malloc(n + 1)) == NULL) {
		b->off = save;
		return LURK_ERR_ALLOC;
	}
	if (n != 0)
		memcpy(out, p, n);
	out[n] = '\0';
	*s = out;
	return 0;
}

int
lurk_buf_get_sub(struct lurk_buf *b, struct lurk_buf *child, size_t max)
{
	const uint8_t *p;
	size_t n;
	int r;

	lurk_buf_view(child, NULL, 0);
	if ((r = get_prefixed(b, 4, &p, &n, max)) != 0)
		return r;
	lurk_buf_view(child, p, n);
	return 0;
}

/* Makes room for n more bytes, moving unread data to the front or growing. */
static int
make_room(struct lurk_buf *b, size_t n)
{
	size_t used, need, nalloc;
	uint8_t *nd;
	int r;

	if ((r = buf_check(b)) != 0)
		return r;
	if (b->readonly)
		return LURK_ERR_READONLY;
	used = b->size - b->off;
	if (n > b->max_size || b->max_size - n < used)
		return LURK_ERR_NO_SPACE;
	if (n <= b->alloc - b->size)
		return 0;
	need = used + n;
	if (need <= b->alloc) {
		/* Compact in place; wipe the bytes the move leaves behind. */
		memmove(b->d, b->d + b->off, used);
		lurk_wipe(b->d + used, b->size - used);
		b->off = 0;
		b->size = used;
		return 0;
	}
	nalloc = b->alloc < BUF_MIN_ALLOC ? BUF_MIN_ALLOC : b->alloc;
	while (nalloc < need && nalloc <= b->max_size / 2)
		nalloc *= 2;
	if (nalloc < need || nalloc > b->max_size)
		nalloc = need > b->max_size / 2 ? b->max_size : need;
	if (nalloc < need)
		return LURK_ERR_NO_SPACE;
	/* Never realloc: the old block may hold secrets and must be wiped. */
	if ((nd = malloc(nalloc)) == NULL)
		return LURK_ERR_ALLOC;
	if (used != 0)
		memcpy(nd, b->d + b->off, used);
	lurk_freezero(b->d, b->alloc);
	b->d = nd;
	b->cd = nd;
	b->alloc = nalloc;
	b->off = 0;
	b->size = used;
	return 0;
}

int
lurk_buf_reserve(struct lurk_buf *b, size_t n, uint8_t **p)
{
	int r;

	*p = NULL;
	if ((r = make_room(b, n)) != 0)
		return r;
	/* No pointer arithmetic on a buffer that has no storage yet (n == 0). */
	*p = b->d != NULL ? b->d + b->size : NULL;
	b->size += n;
	return 0;
}

int
lurk_buf_unput(struct lurk_buf *b, size_t n)
{
	int r;

	if ((r = buf_check(b)) != 0)
		return r;
	if (b->readonly)
		return LURK_ERR_READONLY;
	if (n > b->size - b->off)
		return LURK_ERR_INCOMPLETE;
	b->size -= n;
	lurk_wipe(b->d + b->size, n);
	return 0;
}

int
lurk_buf_put_bytes(struct lurk_buf *b, const void *src, size_t n)
{
	uint8_t *p;
	int r;

	if ((r = lurk_buf_reserve(b, n, &p)) != 0)
		return r;
	if (n != 0)
		memcpy(p, src, n);
	return 0;
}

int
lurk_buf_put_u8(struct lurk_buf *b, uint8_t v)
{
	return lurk_buf_put_bytes(b, &v, 1);
}

int
lurk_buf_put_u16(struct lurk_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	return lurk_buf_put_bytes(b, x, sizeof(x));
}

int
lurk_buf_put_u32(struct lurk_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	return lurk_buf_put_bytes(b, x, sizeof(x));
}

int
lurk_buf_put_u64(struct lurk_buf *b, uint64_t v)
{
	uint8_t x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (56 - 8 * i));
	return lurk_buf_put_bytes(b, x, sizeof(x));
}

int
lurk_buf_put_string(struct lurk_buf *b, const void *p, size_t n)
{
	uint8_t *dst;
	int r;

	if (n > UINT32_MAX || n > LURK_BUF_SIZE_MAX)
		return LURK_ERR_TOO_LARGE;
	/* One reservation so a failure leaves nothing half-written. */
	if (n > SIZE_MAX - 4)
		return LURK_ERR_TOO_LARGE;
	if ((r = lurk_buf_reserve(b, 4 + n, &dst)) != 0)
		return r;
	dst[0] = (uint8_t)(n >> 24);
	dst[1] = (uint8_t)(n >> 16);
	dst[2] = (uint8_t)(n >> 8);
	dst[3] = (uint8_t)n;
	if (n != 0)
		memcpy(dst + 4, p, n);
	return 0;
}

int
lurk_buf_put_string16(struct lurk_buf *b, const void *p, size_t n)
{
	uint8_t *dst;
	int r;

	if (n > UINT16_MAX)
		return LURK_ERR_TOO_LARGE;
	if ((r = lurk_buf_reserve(b, 2 + n, &dst)) != 0)
		return r;
	dst[0] = (uint8_t)(n >> 8);
	dst[1] = (uint8_t)n;
	if (n != 0)
		memcpy(dst + 2, p, n);
	return 0;
}
