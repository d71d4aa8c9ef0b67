#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "ini.h"
#include "mem.h"

/* Locale-independent character classes (no <ctype.h> in parsers). */
static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static void
trim(char **start, char **end)
{
	while (*start < *end && is_blank(**start))
		(*start)++;
	while (*end > *start && is_blank((*end)[-1]))
		(*end)--;
}

/*
 * Where an inline comment starts in the trimmed line [s, e): the first '#' or
 * ';' that follows a blank. e when there is none. s[0] is never one (a line
 * starting with either is a comment line), so "a#b" and "a;b" stay values.
 */
static char *
comment_start(char *s, char *e)
{
	for (char *p = s + 1; p < e; p++) {
		if ((*p == '#' || *p == ';') && (p[-1] == ' ' || p[-1] == '\t'))
			return p;
	}
	return e;
}

/* Parses "[section]" or "[section name]" in place. */
static int
parse_header(char *s, char *e, char **section, char **name, char *err, size_t err_len)
{
	char *p, *q;

	if (e - s < 3 || e[-1] != ']') {
		snprintf(err, err_len, "section header must end with ']'");
		return LURK_ERR_CONFIG;
	}
	s++;
	e--;
	trim(&s, &e);
	p = s;
	while (p < e && is_key_char(*p))
		p++;
	if (p == s) {
		snprintf(err, err_len, "empty or invalid section name");
		return LURK_ERR_CONFIG;
	}
	q = p;
	while (q < e && is_blank(*q))
		q++;
	if (q == e) {
		*p = '\0';
		*section = s;
		*name = p; /* "" */
		return 0;
	}
	if (q == p) {
		snprintf(err, err_len, "invalid character in section name");
		return LURK_ERR_CONFIG;
	}
	for (char *c = q; c < e; c++) {
		if (!is_name_char(*c)) {
			snprintf(err, err_len,
				"section names may use only letters, digits, '.', '_' and '-'");
			return LURK_ERR_CONFIG;
		}
	}
	*p = '\0';
	*e = '\0';
	*section = s;
	*name = q;
	return 0;
}

int
lurk_ini_parse(const char *text, size_t len, lurk_ini_fn fn, void *ctx, char *err, size_t err_len,
	unsigned *err_line)
{
	char line[LURK_INI_MAX_LINE + 1];
	char section[LURK_INI_MAX_LINE + 1] = "", name[LURK_INI_MAX_LINE + 1] = "";
	char reason[512];
	size_t pos = 0;
	unsigned lineno = 0;
	int have_section = 0, r = 0;

	reason[0] = '\0';
	if (len > LURK_INI_MAX_FILE) {
		snprintf(reason, sizeof(reason), "file larger than %d bytes", LURK_INI_MAX_FILE);
		r = LURK_ERR_CONFIG;
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(reason, sizeof(reason), "file contains a NUL byte");
		r = LURK_ERR_CONFIG;
		goto out;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		struct lurk_ini_item item;
		char *s, *e, *eq, *k_end, *v;

		lineno++;
		if (n > LURK_INI_MAX_LINE) {
			snprintf(reason, sizeof(reason), "line longer than %d bytes",
				LURK_INI_MAX_LINE);
			r = LURK_ERR_CONFIG;
			goto out;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl != NULL ? 1 : 0);
		s = line;
		e = line + n;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		e = comment_start(s, e);
		trim(&s, &e);
		if (*s == '[') {
			char *sec, *nm;
			if ((r = parse_header(s, e, &sec, &nm, reason, sizeof(reason))) != 0)
				goto out;
			memcpy(section, sec, strlen(sec) + 1);
			memcpy(name, nm, strlen(nm) + 1);
			have_section = 1;
			item = (struct lurk_ini_item){section, name, NULL, NULL, lineno};
			if ((r = fn(ctx, &item, reason, sizeof(reason))) != 0)
				goto out;
			continue;
		}
		if ((eq = memchr(s, '=', (size_t)(e - s))) == NULL) {
			snprintf(reason, sizeof(reason), "expected 'key = value' or '[section]'");
			r = LURK_ERR_CONFIG;
			goto out;
		}
		if (!have_section) {
			snprintf(reason, sizeof(reason), "setting outside of any [section]");
			r = LURK_ERR_CONFIG;
			goto out;
		}
		k_end = eq;
		while (k_end > s && is_blank(k_end[-1]))
			k_end--;
		if (k_end == s) {
			snprintf(reason, sizeof(reason), "missing key before '='");
			r = LURK_ERR_CONFIG;
			goto out;
		}
		for (char *c = s; c < k_end; c++) {
			if (!is_key_char(*c)) {
				snprintf(reason, sizeof(reason),
					"keys may use only a-z, 0-9 and '-'");
				r = LURK_ERR_CONFIG;
				goto out;
			}
		}
		*k_end = '\0';
		v = eq + 1;
		while (v < e && is_blank(*v))
			v++;
		*e = '\0';
		item = (struct lurk_ini_item){section, name, s, v, lineno};
		if ((r = fn(ctx, &item, reason, sizeof(reason))) != 0)
			goto out;
	}
out:
	if (r != 0) {
		if (reason[0] == '\0')
			snprintf(reason, sizeof(reason), "%s", lurk_err_str(r));
		snprintf(err, err_len, "%u: %s", lineno, reason);
		if (err_line != NULL)
			*err_line = lineno;
	}
	/* Lines can carry secrets (passwords): do not leave them on the stack. */
	lurk_wipe(line, sizeof(line));
	return r;
}

int
lurk_ini_parse_file(const char *path, lurk_ini_fn fn, void *ctx, char *err, size_t err_len)
{
	struct stat st;
	char *text = NULL, inner[600];
	size_t len = 0;
	int fd, r = LURK_ERR_CONFIG;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return LURK_ERR_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > LURK_INI_MAX_FILE) {
		snprintf(err, err_len, "%s: larger than %d bytes", path, LURK_INI_MAX_FILE);
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		r = LURK_ERR_ALLOC;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_len, "%s: read failed: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if ((r = lurk_ini_parse(text, len, fn, ctx, inner, sizeof(inner), NULL)) != 0)
		snprintf(err, err_len, "%s:%s", path, inner);
out:
	if (text != NULL) {
		lurk_wipe(text, len);
		free(text);
	}
	close(fd);
	return r;
}

int
lurk_ini_bool(const char *v, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	*out = 0;
	return LURK_ERR_CONFIG;
}

int
lurk_ini_fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return LURK_ERR_CONFIG;
}

int
lurk_ini_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	unsigned long long x = 0;

	*out = 0;
	if (*v == '\0')
		return LURK_ERR_CONFIG;
	for (const char *p = v; *p != '\0'; p++) {
		unsigned d;
		if (*p < '0' || *p > '9')
			return LURK_ERR_CONFIG;
		d = (unsigned)(*p - '0');
		if (x > max / 10 || (x == max / 10 && d > max % 10))
			return LURK_ERR_CONFIG;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}
