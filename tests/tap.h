/*
 * A small TAP harness in the p11-kit style: register tests with lurk_test(),
 * run them with lurk_test_run(). A failed assertion prints a diagnostic and
 * longjmps out of the test, which is reported "not ok".
 */
#ifndef LURK_TAP_H
#define LURK_TAP_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

typedef void (*lurk_test_fn)(void);

void lurk_test(lurk_test_fn fn, const char *name);
/* Runs every registered test; returns the process exit status. */
int lurk_test_run(int argc, char **argv);
/* Skips the whole program (prints "1..0 # SKIP reason") and returns 77. */
int lurk_test_skip_all(const char *reason);
/* Prints "# ..." lines. */
void lurk_test_diag(const char *fmt, ...) LURK_PRINTF(1, 2);

void lurk_test_fail(const char *file, int line, const char *fmt, ...)
	LURK_PRINTF(3, 4) LURK_NORETURN;

#define assert_true(expr)                                                                          \
	do {                                                                                       \
		if (!(expr))                                                                       \
			lurk_test_fail(__FILE__, __LINE__, "'%s' is false", #expr);                \
	} while (0)

#define assert_false(expr)                                                                         \
	do {                                                                                       \
		if (expr)                                                                          \
			lurk_test_fail(__FILE__, __LINE__, "'%s' is true", #expr);                 \
	} while (0)

#define assert_num_eq(a, b)                                                                        \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b)                                                                      \
			lurk_test_fail(                                                            \
				__FILE__, __LINE__, "%s (%lld) != %s (%lld)", #a, _a, #b, _b);     \
	} while (0)

#define assert_num_cmp(a, op, b)                                                                   \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (!(_a op _b))                                                                   \
			lurk_test_fail(__FILE__, __LINE__, "%s (%lld) %s %s (%lld) is false", #a,  \
				_a, #op, #b, _b);                                                  \
	} while (0)

#define assert_str_eq(a, b)                                                                        \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0)                               \
			lurk_test_fail(__FILE__, __LINE__, "%s (\"%s\") != %s (\"%s\")", #a,       \
				_a ? _a : "(null)", #b, _b ? _b : "(null)");                       \
	} while (0)

#define assert_str_contains(hay, needle)                                                           \
	do {                                                                                       \
		const char *_h = (hay), *_n = (needle);                                            \
		if (_h == NULL || _n == NULL || strstr(_h, _n) == NULL)                            \
			lurk_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",       \
				_h ? _h : "(null)", _n ? _n : "(null)");                           \
	} while (0)

#define assert_mem_eq(a, b, n)                                                                     \
	do {                                                                                       \
		size_t _n = (size_t)(n);                                                           \
		if (_n != 0 && memcmp((a), (b), _n) != 0)                                          \
			lurk_test_fail(                                                            \
				__FILE__, __LINE__, "%s and %s differ (%zu bytes)", #a, #b, _n);   \
	} while (0)

#define assert_ptr_null(p)                                                                         \
	do {                                                                                       \
		if ((p) != NULL)                                                                   \
			lurk_test_fail(__FILE__, __LINE__, "%s is not NULL", #p);                  \
	} while (0)

#define assert_ptr_not_null(p)                                                                     \
	do {                                                                                       \
		if ((p) == NULL)                                                                   \
			lurk_test_fail(__FILE__, __LINE__, "%s is NULL", #p);                      \
	} while (0)

/* r must be the given LURK_ERR_* (or 0). */
#define assert_err(r, e)                                                                           \
	do {                                                                                       \
		int _r = (r), _e = (e);                                                            \
		if (_r != _e)                                                                      \
			lurk_test_fail(__FILE__, __LINE__, "%s gave %d (%s), expected %d (%s)",    \
				#r, _r, lurk_err_str(_r), _e, lurk_err_str(_e));                   \
	} while (0)

#define assert_ok(r) assert_err((r), 0)

/* Hex helpers for fixtures: returns a malloc'd buffer, length in *len. */
uint8_t *lurk_test_unhex(const char *hex, size_t *len);
/* Reads a whole file (malloc'd, NUL-terminated); NULL on failure. */
char *lurk_test_read_file(const char *path, size_t *len);

#endif
