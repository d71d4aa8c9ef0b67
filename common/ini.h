/*
 * A strict INI reader for lurkd.conf and the module's configuration.
 *
 *   # comment            ; comment
 *   [server]             a section
 *   [key www]            a section with a name (letters, digits, . _ -)
 *   listen = tcp:127.0.0.1:7443
 *   workers = 2          # an inline comment
 *
 * Keys are lower-case letters, digits and '-'. A value is the rest of the line
 * with surrounding blanks removed. A line whose first non-blank character is
 * '#' or ';' is a comment. Elsewhere, a '#' or ';' that follows a blank (space
 * or tab) starts a comment that runs to the end of the line, after a value or
 * a section header alike; the value is what comes before it, trimmed
 * ("k = # note" gives an empty value). A '#' or ';' right after another
 * character is part of the value: "a#b", "pkcs11:token=a;object=b". So a value
 * cannot hold " #" or " ;". There are no continuation lines. Anything else is
 * an error that names the line.
 */
#ifndef LURK_INI_H
#define LURK_INI_H

#include <stddef.h>

#include "compiler.h"
#include "lurk-limits.h"

struct lurk_ini_item {
	const char *section; /* e.g. "key" */
	const char *name;    /* section name, e.g. "www"; "" when none */
	const char *key;     /* NULL when this item opens a section */
	const char *value;
	unsigned line;
};

/*
 * Called for each section header (key == NULL) and each key = value. Returns 0
 * to go on, or a negative LURK_ERR_* after writing a reason into err.
 */
typedef int (*lurk_ini_fn)(void *ctx, const struct lurk_ini_item *item, char *err, size_t err_len);

/*
 * Parses text; on failure err gets "LINE: reason" (the caller adds the file
 * name) and *err_line the line. Returns 0 or LURK_ERR_CONFIG (or the
 * callback's error).
 */
int lurk_ini_parse(const char *text, size_t len, lurk_ini_fn fn, void *ctx, char *err,
	size_t err_len, unsigned *err_line) LURK_MUST_CHECK;
/* Reads a file (at most LURK_INI_MAX_FILE) and parses it; err gets "FILE:LINE: reason". */
int lurk_ini_parse_file(
	const char *path, lurk_ini_fn fn, void *ctx, char *err, size_t err_len) LURK_MUST_CHECK;

/* Writes a reason into err for a callback's refusal; returns LURK_ERR_CONFIG. */
int lurk_ini_fail(char *err, size_t err_len, const char *fmt, ...) LURK_PRINTF(3, 4);
/* Helpers for values: strict booleans and bounded unsigned integers. */
int lurk_ini_bool(const char *value, int *out) LURK_MUST_CHECK;
int lurk_ini_uint(
	const char *value, unsigned long long max, unsigned long long *out) LURK_MUST_CHECK;

#endif
