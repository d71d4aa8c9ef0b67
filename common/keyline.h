/*
 * The line grammar of lurk's key file bodies: the LURK KEY file the
 * provider reads (provider/decoder.c, written by lurk-admin lurk-key) and
 * the LURK KEY SHARE file lurkd reads (server/share-file.c). A body is
 * LF-ended lines, each after the first "NAME VALUE", the value 1..max
 * bytes of printable ASCII. Nothing is read outside [p, end).
 */
#ifndef LURK_KEYLINE_H
#define LURK_KEYLINE_H

#include <stddef.h>

/* The value may hold spaces (0x20..0x7e); without it, 0x21..0x7e. */
#define LURK_KEYLINE_SPACES 1u

/* The next line of [*p, end) as [*line, *len), without its LF; 0 when none is complete. */
int lurk_keyline_next(const char **p, const char *end, const char **line, size_t *len);

/* 1 if v is 1..max bytes of printable ASCII (flags: LURK_KEYLINE_SPACES). */
int lurk_keyline_value_ok(const char *v, size_t vlen, size_t max, unsigned flags);

/*
 * 1 if line is "NAME VALUE" for this name, with a value lurk_keyline_value_ok
 * accepts; the value, not NUL-ended, in [*v, *v + *vlen).
 */
int lurk_keyline_field(const char *line, size_t len, const char *name, size_t max, unsigned flags,
	const char **v, size_t *vlen);

#endif
