/*
 * The address grammar both sides speak (lurkd's listen lines, the module's
 * and the test tools' server addresses):
 *
 *   unix:/PATH          an absolute path, under 108 bytes (sun_path)
 *   tcp:HOST:PORT       HOST up to the last ':' (so a bare v6 address works)
 *   tcp:[V6]:PORT       HOST between the brackets
 *
 * The parse is only the grammar: it allocates nothing and points into the
 * string. What a side asks of HOST and PORT beyond that (lurkd: numeric
 * address and port; the client: getaddrinfo at connect time) is its own.
 */
#ifndef LURK_ADDR_H
#define LURK_ADDR_H

#include <stddef.h>

#include "compiler.h"
#include "lurk-limits.h"

enum lurk_addr_kind {
	LURK_ADDR_UNIX = 1,
	LURK_ADDR_TCP = 2,
};

/* Why a string was refused; each side words it for its own users. */
enum lurk_addr_why {
	LURK_ADDR_BAD_SCHEME = 1, /* neither "unix:" nor "tcp:" */
	LURK_ADDR_BAD_PATH,       /* unix path not absolute, or 108 bytes or more */
	LURK_ADDR_NO_BRACKET,     /* "tcp:[" without "]:" after the address */
	LURK_ADDR_NO_COLON,       /* "tcp:" without a ':' before the port */
	LURK_ADDR_EMPTY_HOST,     /* "tcp::80", "tcp:[]:80" */
	LURK_ADDR_EMPTY_PORT,     /* "tcp:1.2.3.4:" */
};

/*
 * Spans of the parsed string: host is the unix path (with its leading '/')
 * or the TCP host without brackets; port is empty for unix. Not
 * NUL-terminated, valid as long as the string.
 */
struct lurk_addr {
	enum lurk_addr_kind kind;
	const char *host;
	size_t host_len;
	const char *port;
	size_t port_len;
};

/*
 * 0, or a positive enum lurk_addr_why. For EMPTY_HOST and EMPTY_PORT the
 * spans are filled all the same (one of them empty), so a caller that
 * refuses them with its own check of the host or port can name them.
 */
int lurk_addr_parse(const char *s, struct lurk_addr *a) LURK_MUST_CHECK;

/*
 * Copies a span into dst as a C string: 0, or -1 if it needs cap bytes or
 * more (dst is then the empty string).
 */
int lurk_addr_copy(char *dst, size_t cap, const char *span, size_t len) LURK_MUST_CHECK;

#endif
