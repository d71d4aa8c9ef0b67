#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define MAX_TESTS 1024

static struct {
	lurk_test_fn fn;
	const char *name;
} tests[MAX_TESTS];
static int n_tests;
static jmp_buf fail_jmp;
static int in_test;

void
lurk_test(lurk_test_fn fn, const char *name)
{
	if (n_tests >= MAX_TESTS) {
		fprintf(stderr, "too many tests\n");
		exit(99);
	}
	tests[n_tests].fn = fn;
	tests[n_tests].name = name;
	n_tests++;
}

void
lurk_test_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void
lurk_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	if (in_test)
		longjmp(fail_jmp, 1);
	exit(99);
}

int
lurk_test_skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	return 77;
}

int
lurk_test_run(int argc, char **argv)
{
	const char *volatile only = argc > 1 ? argv[1] : NULL;
	volatile int failed = 0, run = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < n_tests; i++)
		if (only == NULL || strstr(tests[i].name, only) != NULL)
			run++;
	printf("1..%d\n", run);
	run = 0;
	/* i lives across setjmp/longjmp too: volatile, or it may come back stale. */
	for (volatile int i = 0; i < n_tests; i++) {
		if (only != NULL && strstr(tests[i].name, only) == NULL)
			continue;
		run++;
		in_test = 1;
		if (setjmp(fail_jmp) == 0) {
			tests[i].fn();
			printf("ok %d %s\n", run, tests[i].name);
		} else {
			printf("not ok %d %s\n", run, tests[i].name);
			failed++;
		}
		in_test = 0;
	}
	fflush(stdout);
	return failed == 0 ? 0 : 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint8_t *
lurk_test_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex);
	uint8_t *out;

	*len = 0;
	if (n % 2 != 0)
		return NULL;
	if ((out = malloc(n / 2 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

char *
lurk_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			char *nd = realloc(data, cap + 65536);
			if (nd == NULL) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = nd;
			cap += 65536;
		}
		size_t got = fread(data + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	data[n] = '\0';
	if (len != NULL)
		*len = n;
	return data;
}
