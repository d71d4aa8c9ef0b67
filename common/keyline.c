/* The "NAME VALUE" line reader of lurk's key file bodies (keyline.h). */
#include "config.h"

#include <string.h>

#include "keyline.h"

int
lurk_keyline_next(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (nl == NULL)
		return 0;
	*line = *p;
	*len = (size_t)(nl - *p);
	*p = nl + 1;
	return 1;
}

int
lurk_keyline_value_ok(const char *v, size_t vlen, size_t max, unsigned flags)
{
	unsigned char lo = (flags & LURK_KEYLINE_SPACES) != 0 ? 0x20 : 0x21;

	if (vlen == 0 || vlen > max)
		return 0;
	for (size_t i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < lo || (unsigned char)v[i] > 0x7e)
			return 0;
	return 1;
}

int
lurk_keyline_field(const char *line, size_t len, const char *name, size_t max, unsigned flags,
	const char **v, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n + 1 || memcmp(line, name, n) != 0 || line[n] != ' ')
		return 0;
	*v = line + n + 1;
	*vlen = len - n - 1;
	return lurk_keyline_value_ok(*v, *vlen, max, flags);
}
