/*
 * Logging for the server, the admin tool and the module.
 *
 * Lines go to stderr (default) or syslog; on a stderr that systemd connected
 * to the journal (JOURNAL_STREAM), each line starts with its "<N>" priority
 * (sd-daemon(3)) instead of the name and pid, which the journal adds. Debug
 * output is off unless the category is named in LURK_DEBUG (e.g.
 * LURK_DEBUG=chan,wire or =all), read with secure_getenv so a setuid host
 * cannot be made chatty.
 *
 * Never pass secrets to these functions: log types, lengths, fingerprints.
 */
#ifndef LURK_LOG_H
#define LURK_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include "compiler.h"

enum lurk_log_level {
	LURK_LOG_ERROR = 0,
	LURK_LOG_WARN = 1,
	LURK_LOG_INFO = 2,
	LURK_LOG_DEBUG = 3,
};

enum lurk_log_cat {
	LURK_DBG_CHAN = 1 << 0,
	LURK_DBG_WIRE = 1 << 1,
	LURK_DBG_CONF = 1 << 2,
	LURK_DBG_SERVER = 1 << 3,
	LURK_DBG_MODULE = 1 << 4,
	LURK_DBG_POLICY = 1 << 5,
	LURK_DBG_KEYS = 1 << 6,
	LURK_DBG_ALL = 0x7f,
};

/* Where lines go. */
enum lurk_log_target {
	LURK_LOG_STDERR = 0,
	LURK_LOG_SYSLOG = 1,
	LURK_LOG_NONE = 2,
};

/* Optional sink, used by tests to capture lines. */
typedef void (*lurk_log_sink_fn)(void *ctx, int level, const char *line);

/* Sets the program name, target and the most verbose level written. */
void lurk_log_init(const char *ident, enum lurk_log_target target, int max_level);
/*
 * For a library inside another program (the module, the provider): stderr
 * at the level the environment variable env names (none, error, warn, info,
 * debug; unset or anything else: warn), read with secure_getenv.
 */
void lurk_log_init_env(const char *ident, const char *env);
void lurk_log_set_sink(lurk_log_sink_fn fn, void *ctx);
/* Re-reads LURK_DEBUG; returns the enabled category mask. */
unsigned lurk_log_debug_init(void);
int lurk_log_debug_enabled(unsigned cat);

void lurk_log_msg(int level, const char *func, const char *fmt, ...) LURK_PRINTF(3, 4);
/* Same, with ": <lurk_err_str(r)>" appended. */
void lurk_log_msg_r(int level, int r, const char *func, const char *fmt, ...) LURK_PRINTF(4, 5);

/*
 * A line that may repeat without bound (an unknown client retrying, junk on
 * a port, refusals): at most `burst` lines per `window_s` seconds from one
 * limiter; the rest are counted, and the next line after the window (or
 * lurk_log_limits_tick(), which the server calls every second) reports them:
 * "WHAT: 5431 more in the last 10 s".
 */
struct lurk_log_limit {
	const char *what;
	unsigned window_s, burst;
	int64_t (*now)(void); /* NULL: CLOCK_MONOTONIC seconds (tests set a fake clock) */
	pthread_mutex_t lock;
	int64_t window_start;
	unsigned logged, suppressed;
	int started;    /* window_start is set (under lock) */
	int registered; /* on the tick's list (under the list's lock) */
	struct lurk_log_limit *next_registered;
};
#define LURK_LOG_LIMIT_INIT(w, win, b)                                                             \
	{                                                                                          \
		.what = (w), .window_s = (win), .burst = (b), .lock = PTHREAD_MUTEX_INITIALIZER,   \
	}

void lurk_log_limited(struct lurk_log_limit *l, int level, const char *func, const char *fmt, ...)
	LURK_PRINTF(4, 5);
/* Reports every limiter whose window has ended with lines held back. */
void lurk_log_limits_tick(void);

#define lurk_warn_limited(l, ...) lurk_log_limited((l), LURK_LOG_WARN, __func__, __VA_ARGS__)
#define lurk_error(...)           lurk_log_msg(LURK_LOG_ERROR, __func__, __VA_ARGS__)
#define lurk_warn(...)            lurk_log_msg(LURK_LOG_WARN, __func__, __VA_ARGS__)
#define lurk_info(...)            lurk_log_msg(LURK_LOG_INFO, __func__, __VA_ARGS__)
#define lurk_error_r(r, ...)      lurk_log_msg_r(LURK_LOG_ERROR, (r), __func__, __VA_ARGS__)
#define lurk_warn_r(r, ...)       lurk_log_msg_r(LURK_LOG_WARN, (r), __func__, __VA_ARGS__)
#define lurk_debug(cat, ...)                                                                       \
	do {                                                                                       \
		if (lurk_log_debug_enabled(cat))                                                   \
			lurk_log_msg(LURK_LOG_DEBUG, __func__, __VA_ARGS__);                       \
	} while (0)

#endif
