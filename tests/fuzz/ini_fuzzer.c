/*
 * Fuzz target for the INI reader (common/ini.c) behind lurkd.conf and
 * lurk-pkcs11.conf. The input is the file's text. The callback touches every
 * field of every item and checks what ini.h promises of it: section, name
 * and key characters, a value trimmed and free of inline comments, lines in
 * order; every value also goes through lurk_ini_bool and lurk_ini_uint. The
 * text is parsed again with a callback that refuses one item, and with small
 * error buffers: the error must name that item's line. Must never crash,
 * leak or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	unsigned items;
	unsigned last_line;
	unsigned refuse_at; /* refuse the item with this index (from 1); 0: none */
	unsigned refused_line;
};

static int
only(const char *s, int (*ok)(char c))
{
	for (; *s != '\0'; s++) {
		if (!ok(*s))
			return 0;
	}
	return 1;
}

static int
key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int
name_char(char c)
{
	return key_char(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_';
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void
check_value(const char *v)
{
	static const unsigned long long maxes[] = {0, 1, 9, 10, 65535, 4294967295ull, ~0ull};
	size_t n = strlen(v);
	unsigned long long u;
	int b;

	if (strchr(v, '\n') != NULL || (n > 0 && (blank(v[0]) || blank(v[n - 1]))))
		abort();
	/* A '#' or ';' after a blank starts a comment, so the value cannot hold one. */
	for (size_t i = 1; i < n; i++) {
		if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t'))
			abort();
	}
	if (lurk_ini_bool(v, &b) == 0) {
		if (strcmp(v, b ? "yes" : "no") != 0 && strcmp(v, b ? "true" : "false") != 0 &&
			strcmp(v, b ? "on" : "off") != 0 && strcmp(v, b ? "1" : "0") != 0)
			abort();
	} else if (b != 0) {
		abort();
	}
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		if (lurk_ini_uint(v, maxes[i], &u) == 0) {
			unsigned long long again = 0;

			/* Only digits, within the bound, and the same number read by hand. */
			if (n == 0 || u > maxes[i] || strspn(v, "0123456789") != n)
				abort();
			for (size_t j = 0; j < n; j++)
				again = again * 10 + (unsigned)(v[j] - '0');
			if (again != u)
				abort();
		} else if (u != 0) {
			abort();
		}
	}
}

static int
on_item(void *vctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	struct ctx *c = vctx;

	c->items++;
	if (it->section == NULL || it->name == NULL || it->line == 0 || it->line <= c->last_line)
		abort();
	c->last_line = it->line;
	if (it->section[0] == '\0' || !only(it->section, key_char) || !only(it->name, name_char))
		abort();
	if (it->key == NULL) {
		if (it->value != NULL)
			abort();
	} else {
		if (it->key[0] == '\0' || !only(it->key, key_char) || it->value == NULL)
			abort();
		check_value(it->value);
	}
	if (c->items == c->refuse_at) {
		c->refused_line = it->line;
		return lurk_ini_fail(err, err_len, "refused %s%s%s", it->section,
			it->key != NULL ? "." : "", it->key != NULL ? it->key : "");
	}
	return 0;
}

/* The error text is "LINE: reason", cut to the buffer. */
static void
check_err(const char *err, size_t err_len, unsigned line)
{
	char want[32];
	size_t n;

	if (err_len == 0)
		return;
	n = (size_t)snprintf(want, sizeof(want), "%u: ", line);
	if (strlen(err) >= err_len || strncmp(err, want, err_len - 1 < n ? err_len - 1 : n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct ctx c = {0};
	char err[600], small[8];
	unsigned line = 0;
	int r;

	r = lurk_ini_parse(text, size, on_item, &c, err, sizeof(err), &line);
	if (r != 0 && r != LURK_ERR_CONFIG)
		abort();
	if (r != 0) {
		check_err(err, sizeof(err), line);
		if (line == 0 && size != 0 && memchr(text, '\0', size) == NULL)
			abort();
	}
	if (c.items == 0)
		return 0;
	/* Again, refusing the middle item: its line must be the one reported. */
	{
		struct ctx c2 = {0};

		c2.refuse_at = (c.items + 1) / 2;
		line = 0;
		if (lurk_ini_parse(text, size, on_item, &c2, small, sizeof(small), &line) !=
				LURK_ERR_CONFIG ||
			c2.items != c2.refuse_at || line != c2.refused_line)
			abort();
		check_err(small, sizeof(small), line);
		c2 = (struct ctx){0};
		c2.refuse_at = c.items;
		if (lurk_ini_parse(text, size, on_item, &c2, NULL, 0, NULL) != LURK_ERR_CONFIG)
			abort();
	}
	return 0;
}
