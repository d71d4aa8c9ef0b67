/* Every error code has its own description; logging appends it and drops nothing. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "tap.h"

static void
test_every_code_named(void)
{
	for (int r = 0; r > LURK_ERR_LAST; r--) {
		const char *s = lurk_err_str(r);
		assert_ptr_not_null(s);
		assert_true(strcmp(s, "unknown error") != 0);
		for (int q = 0; q > r; q--)
			assert_true(strcmp(s, lurk_err_str(q)) != 0);
	}
	assert_str_eq(lurk_err_str(LURK_ERR_LAST), "unknown error");
	assert_str_eq(lurk_err_str(1), "unknown error");
	assert_str_eq(lurk_err_str(-100000), "unknown error");
	assert_str_eq(lurk_err_str(LURK_ERR_TRAILING), "unexpected trailing data");
}

static char last_line[2048];
static int last_level = -1;
static int lines;

static void
sink(void *ctx, int level, const char *line)
{
	(void)ctx;
	last_level = level;
	lines++;
	strncpy(last_line, line, sizeof(last_line) - 1);
}

static void
test_log_sink(void)
{
	lurk_log_init("test-err", LURK_LOG_NONE, LURK_LOG_INFO);
	lurk_log_set_sink(sink, NULL);
	lurk_error_r(LURK_ERR_REPLAY, "client %s", "abcd");
	assert_num_eq(last_level, LURK_LOG_ERROR);
	assert_str_eq(last_line, "client abcd: replayed handshake");
	/* Debug lines stay off unless LURK_DEBUG names their category. */
	lines = 0;
	lurk_debug(LURK_DBG_CHAN, "hidden %d", 1);
	assert_num_eq(lines, 0);
	setenv("LURK_DEBUG", "wire,chan", 1);
	assert_num_eq(lurk_log_debug_init(), LURK_DBG_WIRE | LURK_DBG_CHAN);
	lurk_debug(LURK_DBG_CHAN, "shown %d", 2);
	assert_num_eq(lines, 1);
	assert_str_eq(last_line, "shown 2");
	lurk_debug(LURK_DBG_CONF, "hidden %d", 3);
	assert_num_eq(lines, 1);
	setenv("LURK_DEBUG", "all", 1);
	assert_num_eq(lurk_log_debug_init(), LURK_DBG_ALL);
	unsetenv("LURK_DEBUG");
	assert_num_eq(lurk_log_debug_init(), 0);
	/* Lines longer than the line buffer are cut, not overflowed. */
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lurk_warn("%s", big);
	assert_num_eq(strlen(last_line), 1023);
	lurk_log_set_sink(NULL, NULL);
}

static int64_t fake_clock;

static int64_t
fake_now(void)
{
	return fake_clock;
}

/* A repeated line: 3 per 10 s window, the rest counted and reported once. */
static void
test_log_limit(void)
{
	static struct lurk_log_limit l = LURK_LOG_LIMIT_INIT("unknown client keys", 10, 3);

	l.now = fake_now;
	fake_clock = 1000;
	lurk_log_init("test-err", LURK_LOG_NONE, LURK_LOG_INFO);
	lurk_log_set_sink(sink, NULL);
	lines = 0;
	for (int i = 0; i < 5000; i++)
		lurk_warn_limited(&l, "unknown client key %d", i);
	assert_num_eq(lines, 3);
	assert_str_eq(last_line, "unknown client key 2");
	/* Within the window a tick reports nothing. */
	fake_clock += 9;
	lurk_log_limits_tick();
	assert_num_eq(lines, 3);
	/* The window is over: one summary line with the count. */
	fake_clock += 1;
	lurk_log_limits_tick();
	assert_num_eq(lines, 4);
	assert_str_eq(last_line, "unknown client keys: 4997 more in the last 10 s");
	assert_num_eq(last_level, LURK_LOG_WARN);
	/* A new window logs again; nothing held back means no summary. */
	lurk_warn_limited(&l, "unknown client key %s", "again");
	assert_num_eq(lines, 5);
	fake_clock += 20;
	lurk_log_limits_tick();
	assert_num_eq(lines, 5);
	lurk_log_set_sink(NULL, NULL);
}

int
main(int argc, char **argv)
{
	lurk_test(test_every_code_named, "/err/every-code-named");
	lurk_test(test_log_sink, "/log/sink-and-debug");
	lurk_test(test_log_limit, "/log/repeated-lines-limited");
	return lurk_test_run(argc, argv);
}
