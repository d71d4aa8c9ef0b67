/*
 * Bounded buffers and parsers, after OpenSSH's sshbuf and s2n's stuffer.
 *
 * A buffer holds bytes [off, size) that are still to be read, inside an
 * allocation of `alloc` bytes that never grows past `max_size` (itself at most
 * LURK_BUF_SIZE_MAX). Views (lurk_buf_view, lurk_buf_from) read caller memory
 * and are read-only.
 *
 * Every function returns 0 or a negative LURK_ERR_*. On failure the outputs
 * are zeroed and the read cursor has not moved. Memory is wiped whenever it is
 * released or moved: on growth, on reset, and on free.
 *
 * Integers are big-endian. Strings are a length prefix (u16 or u32) and bytes.
 *
 * The struct is public so buffers can live on the stack, but its fields are
 * only touched by buf.c.
 */
#ifndef LURK_BUF_H
#define LURK_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h"

struct lurk_buf {
	uint8_t *d;        /* owned storage; NULL for views */
	const uint8_t *cd; /* storage for reads (== d unless a view) */
	size_t off;        /* read cursor */
	size_t size;       /* end of written data */
	size_t alloc;      /* bytes allocated at d */
	size_t max_size;   /* cap on alloc */
	unsigned readonly : 1;
	unsigned heap : 1; /* the struct itself came from lurk_buf_new/from */
};

/* Growable buffer capped at max_size; NULL on allocation failure or bad cap. */
struct lurk_buf *lurk_buf_new(size_t max_size);
/* Read-only heap view of caller memory, which must outlive it. */
struct lurk_buf *lurk_buf_from(const void *p, size_t len);
/* Wipes and frees storage, then the struct if it was allocated. NULL is fine. */
void lurk_buf_free(struct lurk_buf *b);

/* Embedded forms: no allocation of the struct. lurk_buf_clear wipes and frees storage. */
int lurk_buf_init(struct lurk_buf *b, size_t max_size) LURK_MUST_CHECK;
void lurk_buf_view(struct lurk_buf *b, const void *p, size_t len);
void lurk_buf_clear(struct lurk_buf *b);

/* Bytes not yet read. */
size_t lurk_buf_len(const struct lurk_buf *b);
/* Pointer to the unread bytes; valid until the next call that modifies b. */
const uint8_t *lurk_buf_ptr(const struct lurk_buf *b);
size_t lurk_buf_max_size(const struct lurk_buf *b);
/* Lowers (never raises past LURK_BUF_SIZE_MAX) the cap; fails if data would not fit. */
int lurk_buf_set_max_size(struct lurk_buf *b, size_t max_size) LURK_MUST_CHECK;
/* Wipes the contents and empties the buffer, keeping its allocation. */
void lurk_buf_reset(struct lurk_buf *b);
/* Skips n unread bytes. */
int lurk_buf_consume(struct lurk_buf *b, size_t n) LURK_MUST_CHECK;
/* 0 if every byte has been read, else LURK_ERR_TRAILING. */
int lurk_buf_get_end(const struct lurk_buf *b) LURK_MUST_CHECK;

int lurk_buf_get_u8(struct lurk_buf *b, uint8_t *v) LURK_MUST_CHECK;
int lurk_buf_get_u16(struct lurk_buf *b, uint16_t *v) LURK_MUST_CHECK;
int lurk_buf_get_u32(struct lurk_buf *b, uint32_t *v) LURK_MUST_CHECK;
int lurk_buf_get_u64(struct lurk_buf *b, uint64_t *v) LURK_MUST_CHECK;
/* Copies exactly n bytes. */
int lurk_buf_get_bytes(struct lurk_buf *b, void *dst, size_t n) LURK_MUST_CHECK;
/* Copies exactly n bytes, then wipes them in b when b is writable. */
int lurk_buf_get_secret(struct lurk_buf *b, void *dst, size_t n) LURK_MUST_CHECK;
/* Borrows exactly n bytes: *p is valid until the next call that modifies b. */
int lurk_buf_get_direct(struct lurk_buf *b, const uint8_t **p, size_t n) LURK_MUST_CHECK;
/*
 * Borrows a u32- (or u16-) length-prefixed string of at most max bytes.
 * LURK_ERR_TOO_LARGE if the prefix is over max, LURK_ERR_INCOMPLETE if the
 * bytes are not all there.
 */
int lurk_buf_get_string_direct(
	struct lurk_buf *b, const uint8_t **p, size_t *n, size_t max) LURK_MUST_CHECK;
int lurk_buf_get_string16_direct(
	struct lurk_buf *b, const uint8_t **p, size_t *n, size_t max) LURK_MUST_CHECK;
/* u16-prefixed text into a new NUL-terminated string; refuses embedded NULs. */
int lurk_buf_get_cstring16(struct lurk_buf *b, char **s, size_t max) LURK_MUST_CHECK;
/* u32-prefixed sub-message as a read-only view `child` into b's storage. */
int lurk_buf_get_sub(struct lurk_buf *b, struct lurk_buf *child, size_t max) LURK_MUST_CHECK;

int lurk_buf_put_u8(struct lurk_buf *b, uint8_t v) LURK_MUST_CHECK;
int lurk_buf_put_u16(struct lurk_buf *b, uint16_t v) LURK_MUST_CHECK;
int lurk_buf_put_u32(struct lurk_buf *b, uint32_t v) LURK_MUST_CHECK;
int lurk_buf_put_u64(struct lurk_buf *b, uint64_t v) LURK_MUST_CHECK;
int lurk_buf_put_bytes(struct lurk_buf *b, const void *p, size_t n) LURK_MUST_CHECK;
int lurk_buf_put_string(struct lurk_buf *b, const void *p, size_t n) LURK_MUST_CHECK;
int lurk_buf_put_string16(struct lurk_buf *b, const void *p, size_t n) LURK_MUST_CHECK;
/* Appends n bytes and returns a pointer to them for the caller to fill. */
int lurk_buf_reserve(struct lurk_buf *b, size_t n, uint8_t **p) LURK_MUST_CHECK;
/* Drops the last n written bytes (wiping them): undoes a reserve. */
int lurk_buf_unput(struct lurk_buf *b, size_t n) LURK_MUST_CHECK;

#endif
