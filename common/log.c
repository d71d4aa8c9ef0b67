#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static const char *log_ident = "lurk";
static enum lurk_log_target log_target = LURK_LOG_STDERR;
static int log_max_level = LURK_LOG_INFO;
static unsigned log_debug_mask;
static int log_debug_read;
static int log_journal; /* stderr is the journal's stream: "<N>" priorities */
static lurk_log_sink_fn log_sink;
static void *log_sink_ctx;

static const struct {
	const char *name;
	unsigned cat;
} debug_names[] = {
	{"chan", LURK_DBG_CHAN},
	{"wire", LURK_DBG_WIRE},
	{"conf", LURK_DBG_CONF},
	{"server", LURK_DBG_SERVER},
	{"module", LURK_DBG_MODULE},
	{"policy", LURK_DBG_POLICY},
	{"keys", LURK_DBG_KEYS},
	{"all", LURK_DBG_ALL},
};

/*
 * 1 when stderr is the stream systemd connected to the journal: it names it
 * in JOURNAL_STREAM as "DEVICE:INODE" (systemd.exec(5)); a stderr
 * redirected elsewhere by the host does not match and keeps plain lines.
 */
static int
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (env == NULL || sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
lurk_log_init(const char *ident, enum lurk_log_target target, int max_level)
{
	log_ident = ident != NULL ? ident : "lurk";
	log_target = target;
	log_max_level = max_level;
	log_journal = target == LURK_LOG_STDERR && stderr_is_journal();
	if (target == LURK_LOG_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	(void)lurk_log_debug_init();
}

void
lurk_log_init_env(const char *ident, const char *env)
{
	const char *v = secure_getenv(env);
	enum lurk_log_target target = LURK_LOG_STDERR;
	int level = LURK_LOG_WARN;

	if (v == NULL)
		v = "";
	if (strcmp(v, "none") == 0)
		target = LURK_LOG_NONE;
	else if (strcmp(v, "error") == 0)
		level = LURK_LOG_ERROR;
	else if (strcmp(v, "info") == 0)
		level = LURK_LOG_INFO;
	else if (strcmp(v, "debug") == 0)
		level = LURK_LOG_DEBUG;
	lurk_log_init(ident, target, level);
}

void
lurk_log_set_sink(lurk_log_sink_fn fn, void *ctx)
{
	log_sink = fn;
	log_sink_ctx = ctx;
}

unsigned
lurk_log_debug_init(void)
{
	const char *env = secure_getenv("LURK_DEBUG");
	unsigned mask = 0;

	while (env != NULL && *env != '\0') {
		size_t n = strcspn(env, ",: ");
		for (size_t i = 0; i < sizeof(debug_names) / sizeof(debug_names[0]); i++) {
			if (strlen(debug_names[i].name) == n &&
				strncmp(env, debug_names[i].name, n) == 0)
				mask |= debug_names[i].cat;
		}
		env += n;
		if (*env != '\0')
			env++;
	}
	log_debug_mask = mask;
	log_debug_read = 1;
	return mask;
}

int
lurk_log_debug_enabled(unsigned cat)
{
	if (!log_debug_read)
		(void)lurk_log_debug_init();
	return (log_debug_mask & cat) != 0;
}

static int
syslog_priority(int level)
{
	switch (level) {
	case LURK_LOG_ERROR:
		return LOG_ERR;
	case LURK_LOG_WARN:
		return LOG_WARNING;
	case LURK_LOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

static const char *
level_name(int level)
{
	switch (level) {
	case LURK_LOG_ERROR:
		return "error";
	case LURK_LOG_WARN:
		return "warning";
	case LURK_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* Writes one formatted line; `suffix` (may be NULL) is appended after ": ". */
static void LURK_PRINTF(4, 0)
	emit(int level, const char *func, const char *suffix, const char *fmt, va_list ap)
{
	char line[1024];
	char out[1200];
	int saved_errno = errno;
	int n;

	if (level > log_max_level && !(level == LURK_LOG_DEBUG && log_debug_mask != 0))
		goto out;
	if (log_target == LURK_LOG_NONE && log_sink == NULL)
		goto out;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		goto out;
	if (suffix != NULL) {
		size_t len = strlen(line);
		if (len < sizeof(line))
			snprintf(line + len, sizeof(line) - len, ": %s", suffix);
	}
	if (log_sink != NULL)
		log_sink(log_sink_ctx, level, line);

	switch (log_target) {
	case LURK_LOG_SYSLOG:
		if (level == LURK_LOG_DEBUG && func != NULL)
			syslog(syslog_priority(level), "%s: %s", func, line);
		else
			syslog(syslog_priority(level), "%s", line);
		break;
	case LURK_LOG_STDERR:
		/* The journal takes "<N>" as the line's priority and adds the name and pid. */
		if (log_journal && level == LURK_LOG_DEBUG && func != NULL)
			n = snprintf(out, sizeof(out), "<%d>%s: %s: %s\n", syslog_priority(level),
				level_name(level), func, line);
		else if (log_journal)
			n = snprintf(out, sizeof(out), "<%d>%s: %s\n", syslog_priority(level),
				level_name(level), line);
		else if (level == LURK_LOG_DEBUG && func != NULL)
			n = snprintf(out, sizeof(out), "%s[%ld]: %s: %s: %s\n", log_ident,
				(long)getpid(), level_name(level), func, line);
		else
			n = snprintf(out, sizeof(out), "%s[%ld]: %s: %s\n", log_ident,
				(long)getpid(), level_name(level), line);
		if (n > 0) {
			size_t len = (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;
			/* One write(2) per line keeps lines whole across threads. */
			ssize_t w = write(STDERR_FILENO, out, len);
			(void)w;
		}
		break;
	case LURK_LOG_NONE:
		break;
	}
out:
	errno = saved_errno;
}

void
lurk_log_msg(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, func, NULL, fmt, ap);
	va_end(ap);
}

void
lurk_log_msg_r(int level, int r, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, func, lurk_err_str(r), fmt, ap);
	va_end(ap);
}

/* Limiters that have logged, so a periodic tick can report what they held back. */
static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lurk_log_limit *limits;

static int64_t
limit_now(const struct lurk_log_limit *l)
{
	struct timespec ts;

	if (l->now != NULL)
		return l->now();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* With l->lock held: ends the window if it is over, reporting what it held back. */
static void
limit_roll(struct lurk_log_limit *l, int64_t now)
{
	if (now - l->window_start < (int64_t)l->window_s)
		return;
	if (l->suppressed != 0)
		lurk_log_msg(LURK_LOG_WARN, "log", "%s: %u more in the last %u s", l->what,
			l->suppressed, l->window_s);
	l->window_start = now;
	l->logged = 0;
	l->suppressed = 0;
}

void
lurk_log_limited(struct lurk_log_limit *l, int level, const char *func, const char *fmt, ...)
{
	int64_t now = limit_now(l);
	int show;
	va_list ap;

	/* The list's lock is never taken while holding l->lock (the tick takes them the other way).
	 */
	if (!__atomic_load_n(&l->registered, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&limits_lock);
		if (!l->registered) {
			l->next_registered = limits;
			limits = l;
			__atomic_store_n(&l->registered, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&limits_lock);
	}
	pthread_mutex_lock(&l->lock);
	if (!l->started) {
		l->window_start = now;
		l->started = 1;
	}
	limit_roll(l, now);
	show = l->logged < l->burst;
	if (show)
		l->logged++;
	else
		l->suppressed++;
	pthread_mutex_unlock(&l->lock);
	if (!show)
		return;
	va_start(ap, fmt);
	emit(level, func, NULL, fmt, ap);
	va_end(ap);
}

void
lurk_log_limits_tick(void)
{
	pthread_mutex_lock(&limits_lock);
	for (struct lurk_log_limit *l = limits; l != NULL; l = l->next_registered) {
		pthread_mutex_lock(&l->lock);
		if (l->started)
			limit_roll(l, limit_now(l));
		pthread_mutex_unlock(&l->lock);
	}
	pthread_mutex_unlock(&limits_lock);
}
