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

const char *
lurkd_mech_name(uint32_t mech)
{
	for (size_t i = 0; i < LURK_ARRAY_LEN(mech_names); i++)
		if (mech_names[i].mech == mech)
			return mech_names[i].name;
	return NULL;
}

/* Copies s into out as JSON string content; names here are plain, but be safe. */
static size_t
json_str(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n + 7 < cap; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			out[n++] = '\\';
			out[n++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
		} else {
			out[n++] = (char)ch;
		}
	}
	out[n] = '\0';
	return n;
}

size_t
lurkd_audit_format(const struct lurkd_audit_rec *rec, char *out, size_t out_len)
{
	char t[32], client[400], key[400], reason[600], mech[32], hex[65];
	struct tm tm;
	const char *mn = lurkd_mech_name(rec->mechanism);
	int n;

	gmtime_r(&rec->when.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	json_str(client, sizeof(client), rec->client);
	json_str(key, sizeof(key), rec->key);
	json_str(reason, sizeof(reason), rec->reason);
	if (rec->mechanism == UINT32_MAX)
		snprintf(mech, sizeof(mech), "none");
	else if (mn != NULL)
		snprintf(mech, sizeof(mech), "%s", mn);
	else
		snprintf(mech, sizeof(mech), "0x%08x", rec->mechanism);
	sodium_bin2hex(hex, sizeof(hex), rec->input_sha256, 32);
	n = snprintf(out, out_len,
		"{\"time\":\"%s.%06ldZ\",\"session\":\"%s\",\"client\":\"%s\",\"key\":\"%s\","
		"\"op\":\"%s\",\"mechanism\":\"%s\",\"input_sha256\":\"%s\",\"input_len\":%u,"
		"\"verdict\":\"%s\",\"reason\":\"%s\",\"usec\":%llu}\n",
		t, rec->when.tv_nsec / 1000, rec->session, client, key, rec->op, mech,
		rec->input_len ? hex : "", rec->input_len, rec->verdict, reason,
		(unsigned long long)rec->usec);
	if (n < 0)
		return 0;
	if ((size_t)n >= out_len) {
		/* Never emit half a JSON object. */
		return 0;
	}
	return (size_t)n;
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
	int e = 0;

	if (a == NULL || b->records == 0) {
		batch_reset(b);
		return 0;
	}
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
