/* The strict INI reader: what it accepts, and the line it names for what it refuses. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "ini.h"
#include "tap.h"

struct seen {
	char log[4096];
	int fail_at_key; /* make the callback fail at this key */
};

static int
collect(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof(s->log) - n, "%u[%s|%s]%s=%s;", it->line, it->section, it->name,
		it->key ? it->key : "", it->value ? it->value : "");
	if (it->key != NULL && s->fail_at_key && strcmp(it->key, "bad") == 0) {
		snprintf(err, err_len, "bad is not allowed");
		return LURK_ERR_CONFIG;
	}
	return 0;
}

static int
parse(const char *text, struct seen *s, char *err, unsigned *line)
{
	memset(s->log, 0, sizeof(s->log));
	err[0] = '\0';
	*line = 0;
	return lurk_ini_parse(text, strlen(text), collect, s, err, 256, line);
}

static void
test_accepts(void)
{
	struct seen s = {.fail_at_key = 0};
	char err[256];
	unsigned line;

	assert_ok(parse("# c\n; c\n\n[server]\n listen = tcp:127.0.0.1:1 \n"
			"[key www.example_1]\nsource=pkcs11:token=a;object=b\r\nempty =\n",
		&s, err, &line));
	assert_str_eq(s.log, "4[server|]=;5[server|]listen=tcp:127.0.0.1:1;"
			     "6[key|www.example_1]=;7[key|www.example_1]source=pkcs11:token=a;"
			     "object=b;8[key|www.example_1]empty=;");
	assert_ok(parse("", &s, err, &line));
	assert_ok(parse("[a]\nk = v = w", &s, err, &line)); /* no final newline; '=' in value */
	assert_str_contains(s.log, "k=v = w;");
}

/* Parses text and checks the items seen. */
static void
expect_items(const char *text, const char *want)
{
	struct seen s = {.fail_at_key = 0};
	char err[256];
	unsigned line;

	assert_ok(parse(text, &s, err, &line));
	assert_str_eq(s.log, want);
}

static void
test_inline_comments(void)
{
	expect_items("[a]\nk = v # comment\n", "1[a|]=;2[a|]k=v;");
	expect_items("[a]\nk = v\t# comment after a tab\n", "1[a|]=;2[a|]k=v;");
	expect_items("[a]\nk = v  \t # c\r\n", "1[a|]=;2[a|]k=v;");
	expect_items("[a]\nk = two words   # c = d # e\n", "1[a|]=;2[a|]k=two words;");
	expect_items("[a]\nk = v ; comment\n", "1[a|]=;2[a|]k=v;");
	expect_items("[a]\nk = v #\n", "1[a|]=;2[a|]k=v;");
	/* Not after a blank: part of the value. */
	expect_items("[a]\nk = a#b\n", "1[a|]=;2[a|]k=a#b;");
	expect_items("[a]\nk = a#b # c\n", "1[a|]=;2[a|]k=a#b;");
	expect_items(
		"[a]\nk = pkcs11:token=a;object=b ; c\n", "1[a|]=;2[a|]k=pkcs11:token=a;object=b;");
	expect_items("[a]\nk =#v\n", "1[a|]=;2[a|]k=#v;");
	/* An empty value with a comment is an empty value, as without one. */
	expect_items("[a]\nempty =\nk = # nothing\nj =\t; nothing\n",
		"1[a|]=;2[a|]empty=;3[a|]k=;4[a|]j=;");
	/* After a section header. */
	expect_items("[key www] # x\nk = v\n", "1[key|www]=;2[key|www]k=v;");
	expect_items("[server]\t; x ]\n", "1[server|]=;");
	/* Lines that are only a comment stay comments. */
	expect_items("# k = v\n  ; x\n\t# [a]\n[a]\n  # k = v\n", "4[a|]=;");
}

static void
expect_error(const char *text, unsigned want_line, const char *want)
{
	struct seen s = {.fail_at_key = 1};
	char err[256];
	unsigned line;

	assert_err(parse(text, &s, err, &line), LURK_ERR_CONFIG);
	assert_num_eq(line, want_line);
	assert_str_contains(err, want);
}

static void
test_refuses(void)
{
	expect_error("k = v\n", 1, "outside of any [section]");
	expect_error("[a]\njunk\n", 2, "expected 'key = value'");
	expect_error("[a]\n= v\n", 2, "missing key");
	expect_error("[a]\nKey = v\n", 2, "a-z, 0-9");
	expect_error("[a\n", 1, "must end with ']'");
	expect_error("[]\n", 1, "section header");
	expect_error("[a b c]\n", 1, "letters, digits");
	expect_error("[a b/c]\n", 1, "letters, digits");
	expect_error("[a]\nok = 1\nbad = 2\n", 3, "bad is not allowed");
	/* A comment hides what follows it, and needs a blank before it. */
	expect_error("[a]\njunk # k = v\n", 2, "expected 'key = value'");
	expect_error("[a]# x\n", 1, "must end with ']'");
	expect_error("k = v # [a]\n", 1, "outside of any [section]");
	char big[LURK_INI_MAX_LINE + 20];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "[a]\nk=", 6);
	expect_error(big, 2, "longer than");
}

static void
test_nul_and_size(void)
{
	struct seen s = {.fail_at_key = 0};
	char err[256];
	unsigned line;

	assert_err(
		lurk_ini_parse("[a]\0", 4, collect, &s, err, sizeof(err), &line), LURK_ERR_CONFIG);
	assert_str_contains(err, "NUL");
	assert_err(lurk_ini_parse("", LURK_INI_MAX_FILE + 1, collect, &s, err, sizeof(err), &line),
		LURK_ERR_CONFIG);
	assert_err(lurk_ini_parse_file("/nonexistent/lurk.conf", collect, &s, err, sizeof(err)),
		LURK_ERR_CONFIG);
	assert_str_contains(err, "/nonexistent/lurk.conf: cannot open");
	assert_err(lurk_ini_parse_file("/", collect, &s, err, sizeof(err)), LURK_ERR_CONFIG);
}

static void
test_values(void)
{
	unsigned long long v;
	int b;

	assert_ok(lurk_ini_uint("0", 10, &v));
	assert_num_eq(v, 0);
	assert_ok(lurk_ini_uint("18446744073709551615", ~0ull, &v));
	assert_true(v == ~0ull);
	assert_err(lurk_ini_uint("18446744073709551616", ~0ull, &v), LURK_ERR_CONFIG);
	assert_ok(lurk_ini_uint("10", 10, &v));
	assert_err(lurk_ini_uint("11", 10, &v), LURK_ERR_CONFIG);
	assert_err(lurk_ini_uint("1", 0, &v), LURK_ERR_CONFIG);
	assert_err(lurk_ini_uint("", 10, &v), LURK_ERR_CONFIG);
	assert_err(lurk_ini_uint("-1", 10, &v), LURK_ERR_CONFIG);
	assert_err(lurk_ini_uint("1x", 10, &v), LURK_ERR_CONFIG);
	assert_err(lurk_ini_uint(" 1", 10, &v), LURK_ERR_CONFIG);
	assert_ok(lurk_ini_bool("yes", &b));
	assert_num_eq(b, 1);
	assert_ok(lurk_ini_bool("off", &b));
	assert_num_eq(b, 0);
	assert_err(lurk_ini_bool("maybe", &b), LURK_ERR_CONFIG);
}

int
main(int argc, char **argv)
{
	lurk_test(test_accepts, "/ini/accepts");
	lurk_test(test_inline_comments, "/ini/inline-comments");
	lurk_test(test_refuses, "/ini/refuses-with-line");
	lurk_test(test_nul_and_size, "/ini/nul-size-file");
	lurk_test(test_values, "/ini/values");
	return lurk_test_run(argc, argv);
}
