/*
 * The address grammar of addr.h: one parse for lurkd's listen lines and the
 * client's server address, so both accept and refuse the same strings.
 */
#include "config.h"

#include <string.h>

#include "addr.h"

int
lurk_addr_parse(const char *s, struct lurk_addr *a)
{
	const char *h, *h_end, *p;

	memset(a, 0, sizeof(*a));
	a->host = a->port = "";
	if (strncmp(s, "unix:", 5) == 0) {
		size_t n = strlen(s + 5);

		if (s[5] != '/' || n >= LURK_ADDR_UNIX_PATH_MAX)
			return LURK_ADDR_BAD_PATH;
		a->kind = LURK_ADDR_UNIX;
		a->host = s + 5;
		a->host_len = n;
		return 0;
	}
	if (strncmp(s, "tcp:", 4) != 0)
		return LURK_ADDR_BAD_SCHEME;
	h = s + 4;
	if (*h == '[') {
		h++;
		if ((h_end = strchr(h, ']')) == NULL || h_end[1] != ':')
			return LURK_ADDR_NO_BRACKET;
		p = h_end + 2;
	} else {
		/* The last ':': "tcp:::1:80" is host "::1", port "80". */
		if ((h_end = strrchr(h, ':')) == NULL)
			return LURK_ADDR_NO_COLON;
		p = h_end + 1;
	}
	a->kind = LURK_ADDR_TCP;
	a->host = h;
	a->host_len = (size_t)(h_end - h);
	a->port = p;
	a->port_len = strlen(p);
	if (a->host_len == 0)
		return LURK_ADDR_EMPTY_HOST;
	if (a->port_len == 0)
		return LURK_ADDR_EMPTY_PORT;
	return 0;
}

int
lurk_addr_copy(char *dst, size_t cap, const char *span, size_t len)
{
	if (cap == 0)
		return -1;
	if (len >= cap) {
		dst[0] = '\0';
		return -1;
	}
	memcpy(dst, span, len);
	dst[len] = '\0';
	return 0;
}
