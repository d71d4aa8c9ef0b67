#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include "audit.h"
#include "err.h"
#include "log.h"
#include "metrics.h"

#define AUDIT_LINE_MAX  2048
#define AUDIT_BATCH_MAX (16u << 20) /* far more than one event-loop pass can make */
#define FAIL_LOG_EVERY  10          /* seconds between "still failing" lines */

struct lurkd_audit {
	pthread_rwlock_t lock; /* writers share it; a file swap takes it alone */
	int fd;
	int use_syslog;
	atomic_int sync;
	atomic_int failing;
	atomic_llong fail_logged; /* time of the last failure line */
	char *path;
};

static const struct {
	uint32_t mech;
	const char *name;
} mech_names[] = {
	{CKM_RSA_PKCS, "CKM_RSA_PKCS"},
	{CKM_RSA_X_509, "CKM_RSA_X_509"},
	{CKM_RSA_PKCS_PSS, "CKM_RSA_PKCS_PSS"},
	{CKM_SHA256_RSA_PKCS, "CKM_SHA256_RSA_PKCS"},
	{CKM_SHA384_RSA_PKCS, "CKM_SHA384_RSA_PKCS"},
	{CKM_SHA512_RSA_PKCS, "CKM_SHA512_RSA_PKCS"},
	{CKM_SHA256_RSA_PKCS_PSS, "CKM_SHA256_RSA_PKCS_PSS"},
	{CKM_SHA384_RSA_PKCS_PSS, "CKM_SHA384_RSA_PKCS_PSS"},
	{CKM_SHA512_RSA_PKCS_PSS, "CKM_SHA512_RSA_PKCS_PSS"},
	{CKM_ECDSA, "CKM_ECDSA"},
	{CKM_ECDSA_SHA256, "CKM_ECDSA_SHA256"},
	{CKM_ECDSA_SHA384, "CKM_ECDSA_SHA384"},
	{CKM_ECDSA_SHA512, "CKM_ECDSA_SHA512"},
	{CKM_EDDSA, "CKM_EDDSA"},
};

_Static_assert(LURK_ARRAY_LEN(mech_names) == LURKD_MECH_COUNT, "LURKD_MECH_COUNT");

uint32_t
lurkd_mech_at(size_t i)
{
	return i < LURKD_MECH_COUNT ? mech_names[i].mech : UINT32_MAX;
}

int
lurkd_mech_index(uint32_t mech)
{
	for (size_t i = 0; i < LURK_ARRAY_LEN(mech_names); i++)
		if (mech_names[i].mech == mech)
			return (int)i;
	return -1;
}

const char *
lurkd_mech_name(uint32_t mech)
{
	for (size_t i = 0; i < LURK_ARRAY_LEN(mech_names); i++)
		if (mech_names[i].mech == mech)
			return mech_names[i].name;
	return NULL;
}

/*
 * The line is built by hand, not by snprintf: this runs once per request in
 * every worker, and snprintf with gmtime/strftime was ~8,000 instructions of
 * a signature's ~270,000 (glibc's gmtime also takes a process-wide lock).
 * A writer keeps to its buffer; once a piece does not fit, the line is
 * refused whole (lurkd_audit_format returns 0), never emitted in half.
 */
struct line {
	char *p;
	size_t left; /* room in p, the final '\0' included */
	int full;
};

static void
put_mem(struct line *l, const char *s, size_t n)
{
	if (l->full || n >= l->left) {
		l->full = 1;
		return;
	}
	memcpy(l->p, s, n);
	l->p += n;
	l->left -= n;
}

static void
put_str(struct line *l, const char *s)
{
	put_mem(l, s, strlen(s));
}

/* s as JSON string content: quote and backslash escaped, controls and non-ASCII as \u00XX. */
static void
put_json(struct line *l, const char *s)
{
	static const char hexd[] = "0123456789abcdef";

	for (; *s != '\0' && !l->full; s++) {
		unsigned char ch = (unsigned char)*s;
		char e[6] = {'\\', 'u', '0', '0', hexd[ch >> 4], hexd[ch & 15]};
		if (ch == '"' || ch == '\\') {
			e[1] = (char)ch;
			put_mem(l, e, 2);
		} else if (ch < 0x20 || ch >= 0x7f) {
			put_mem(l, e, 6);
		} else {
			put_mem(l, s, 1);
		}
	}
}

/* v in decimal, at least width digits (zero-padded). */
static void
put_uint(struct line *l, uint64_t v, int width)
{
	char d[24];
	int n = 0;

	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || n < width);
	put_mem(l, d + sizeof(d) - n, (size_t)n);
}

/*
 * UTC calendar date of a day count since 1970-01-01 (H. Hinnant's
 * civil_from_days), exact for every day gmtime knows at or after 1970.
 */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

/* "2026-11-22T10:00:00.123456Z", as strftime("%Y-%m-%dT%H:%M:%S") and %06ld made it. */
static void
put_time(struct line *l, const struct timespec *when)
{
	int64_t secs = (int64_t)when->tv_sec, y;
	unsigned m, d, sod;

	if (secs < 0 || secs > INT64_C(253402300799) || when->tv_nsec < 0 ||
		when->tv_nsec >= 1000000000L) {
		/* Before 1970, after 9999, or no valid time: gmtime's words. */
		char t[48];
		struct tm tm;
		if (gmtime_r(&when->tv_sec, &tm) == NULL) {
			l->full = 1;
			return;
		}
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
		put_str(l, t);
		put_mem(l, ".", 1);
		snprintf(t, sizeof(t), "%06ld", (long)(when->tv_nsec / 1000));
		put_str(l, t);
		put_mem(l, "Z", 1);
		return;
	}
	civil_from_days(secs / 86400, &y, &m, &d);
	sod = (unsigned)(secs % 86400);
	put_uint(l, (uint64_t)y, 4);
	put_mem(l, "-", 1);
	put_uint(l, m, 2);
	put_mem(l, "-", 1);
	put_uint(l, d, 2);
	put_mem(l, "T", 1);
	put_uint(l, sod / 3600, 2);
	put_mem(l, ":", 1);
	put_uint(l, sod / 60 % 60, 2);
	put_mem(l, ":", 1);
	put_uint(l, sod % 60, 2);
	put_mem(l, ".", 1);
	put_uint(l, (uint64_t)(when->tv_nsec / 1000), 6);
	put_mem(l, "Z", 1);
}

size_t
lurkd_audit_format(const struct lurkd_audit_rec *rec, char *out, size_t out_len)
{
	static const char hexd[] = "0123456789abcdef";
	struct line l = {out, out_len, out_len == 0};
	const char *mn = lurkd_mech_name(rec->mechanism);
	char hex[65];

	put_str(&l, "{\"time\":\"");
	put_time(&l, &rec->when);
	put_str(&l, "\",\"session\":\"");
	put_str(&l, rec->session);
	put_str(&l, "\",\"client\":\"");
	put_json(&l, rec->client);
	put_str(&l, "\",\"key\":\"");
	put_json(&l, rec->key);
	put_str(&l, "\",\"op\":\"");
	put_str(&l, rec->op);
	put_str(&l, "\",\"mechanism\":\"");
	if (rec->mechanism == UINT32_MAX) {
		put_str(&l, "none");
	} else if (mn != NULL) {
		put_str(&l, mn);
	} else {
		char x[10] = {'0', 'x'};
		for (int i = 0; i < 8; i++)
			x[2 + i] = hexd[(rec->mechanism >> (28 - 4 * i)) & 15];
		put_mem(&l, x, sizeof(x));
	}
	put_str(&l, "\",\"input_sha256\":\"");
	if (rec->input_len != 0) {
		sodium_bin2hex(hex, sizeof(hex), rec->input_sha256, 32);
		put_mem(&l, hex, 64);
	}
	put_str(&l, "\",\"input_len\":");
	put_uint(&l, rec->input_len, 1);
	put_str(&l, ",\"verdict\":\"");
	put_str(&l, rec->verdict);
	put_str(&l, "\",\"reason\":\"");
	put_json(&l, rec->reason);
	put_str(&l, "\",\"usec\":");
	put_uint(&l, rec->usec, 1);
	put_mem(&l, "}\n", 2);
	if (l.full)
		return 0; /* never half a JSON object */
	*l.p = '\0';
	return (size_t)(l.p - out);
}

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

static struct lurkd_audit *
audit_new(void)
{
	struct lurkd_audit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->fd = -1;
	pthread_rwlock_init(&a->lock, NULL);
	atomic_init(&a->sync, 0);
	atomic_init(&a->failing, 0);
	atomic_init(&a->fail_logged, 0);
	return a;
}

int
lurkd_audit_open(const char *target, int sync, struct lurkd_audit **out, char *err, size_t err_len)
{
	struct lurkd_audit *a;

	*out = NULL;
	if (target == NULL)
		return 0;
	if ((a = audit_new()) == NULL)
		return LURK_ERR_ALLOC;
	atomic_store(&a->sync, sync);
	if (strcmp(target, "syslog") == 0) {
		a->use_syslog = 1;
	} else if ((a->path = strdup(target)) == NULL) {
		lurkd_audit_close(a);
		return LURK_ERR_ALLOC;
	} else if ((a->fd = open_file(target)) < 0) {
		snprintf(err, err_len, "audit-log %s: %s", target, strerror(errno));
		lurkd_audit_close(a);
		return LURK_ERR_CONFIG;
	}
	*out = a;
	return 0;
}

int
lurkd_audit_open_fd(const char *path, int fd, int sync, struct lurkd_audit **out)
{
	struct lurkd_audit *a;

	*out = NULL;
	if ((a = audit_new()) == NULL || (a->path = strdup(path)) == NULL) {
		lurkd_audit_close(a);
		close(fd);
		return LURK_ERR_ALLOC;
	}
	a->fd = fd;
	atomic_store(&a->sync, sync);
	*out = a;
	return 0;
}

void
lurkd_audit_replace_fd(struct lurkd_audit *a, int fd)
{
	int old;

	if (a == NULL || a->use_syslog) {
		if (fd >= 0)
			close(fd);
		return;
	}
	pthread_rwlock_wrlock(&a->lock);
	old = a->fd;
	a->fd = fd;
	pthread_rwlock_unlock(&a->lock);
	if (old >= 0)
		close(old);
	/* A new file: the next batch shows whether it can be written (a failure drops it). */
	if (atomic_exchange(&a->failing, 0))
		lurk_info("audit log %s reopened: trying it again", a->path);
}

void
lurkd_audit_reopen(struct lurkd_audit *a)
{
	int fd;

	if (a == NULL || a->use_syslog)
		return;
	if ((fd = open_file(a->path)) < 0) {
		lurk_error("audit log %s: reopen failed, writing on to the old file: %s", a->path,
			strerror(errno));
		return;
	}
	lurkd_audit_replace_fd(a, fd);
}

void
lurkd_audit_set_sync(struct lurkd_audit *a, int sync)
{
	if (a != NULL)
		atomic_store(&a->sync, sync);
}

int
lurkd_audit_ok(struct lurkd_audit *a)
{
	return a != NULL && atomic_load(&a->failing) ? LURK_ERR_AUDIT : 0;
}

void
lurkd_audit_close(struct lurkd_audit *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0) {
		if (atomic_load(&a->sync))
			(void)fdatasync(a->fd);
		close(a->fd);
	}
	pthread_rwlock_destroy(&a->lock);
	free(a->path);
	free(a);
}

void
lurkd_audit_batch_free(struct lurkd_audit_batch *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

int
lurkd_audit_add(struct lurkd_audit_batch *b, const struct lurkd_audit_rec *rec)
{
	size_t n;

	if (b->cap - b->len < AUDIT_LINE_MAX) {
		size_t cap = b->cap ? 2 * b->cap : 16 * AUDIT_LINE_MAX;
		char *p;
		if (cap > AUDIT_BATCH_MAX)
			return LURK_ERR_TOO_LARGE;
		if ((p = realloc(b->buf, cap)) == NULL)
			return LURK_ERR_ALLOC;
		b->buf = p;
		b->cap = cap;
	}
	if ((n = lurkd_audit_format(rec, b->buf + b->len, AUDIT_LINE_MAX)) == 0)
		return LURK_ERR_TOO_LARGE;
	b->len += n;
	b->records++;
	if (strcmp(rec->verdict, "allowed") == 0)
		b->allowed++;
	return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		off += (size_t)w;
	}
	return 0;
}

static void
batch_reset(struct lurkd_audit_batch *b)
{
	b->len = 0;
	b->records = 0;
	b->allowed = 0;
	/* Give a large batch's memory back; keep the usual size. */
	if (b->cap > 64 * AUDIT_LINE_MAX) {
		free(b->buf);
		b->buf = NULL;
		b->cap = 0;
	}
}

/* Logs a failure at once, then at most every FAIL_LOG_EVERY seconds while it lasts. */
static void
note_failure(struct lurkd_audit *a, int e)
{
	long long now = (long long)time(NULL), last = atomic_load(&a->fail_logged);
	int was = atomic_exchange(&a->failing, 1);

	if (was && now - last < FAIL_LOG_EVERY)
		return;
	if (!atomic_compare_exchange_strong(&a->fail_logged, &last, now))
		return;
	lurk_error("audit log %s cannot be written (%s): refusing every request until it can",
		a->path != NULL ? a->path : "syslog", strerror(e));
}

int
lurkd_audit_commit(struct lurkd_audit *a, struct lurkd_audit_batch *b)
{
	uint64_t t0;
	int e = 0;

	if (a == NULL || b->records == 0) {
		batch_reset(b);
		return 0;
	}
	t0 = lurkd_metrics_audit_start(b->records);
	if (a->use_syslog) {
		/* One call per line; syslog(3) returns once the line is handed over. */
		for (size_t off = 0; off < b->len;) {
			const char *nl = memchr(b->buf + off, '\n', b->len - off);
			size_t l = nl != NULL ? (size_t)(nl - (b->buf + off)) : b->len - off;
			syslog(LOG_INFO | LOG_AUTHPRIV, "audit: %.*s", (int)l, b->buf + off);
			off += l + 1;
		}
	} else {
		pthread_rwlock_rdlock(&a->lock);
		if (a->fd < 0)
			e = EBADF;
		else if ((e = write_all(a->fd, b->buf, b->len)) == 0 && atomic_load(&a->sync) &&
			 fdatasync(a->fd) != 0)
			e = errno;
		pthread_rwlock_unlock(&a->lock);
	}
	lurkd_metrics_audit_end(b->records, t0);
	batch_reset(b);
	if (e != 0) {
		note_failure(a, e);
		return LURK_ERR_AUDIT;
	}
	if (atomic_exchange(&a->failing, 0))
		lurk_info(
			"audit log %s can be written again", a->path != NULL ? a->path : "syslog");
	return 0;
}
