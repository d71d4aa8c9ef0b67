#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

#define AUDIT_QUEUE     4096
#define AUDIT_BATCH     64
#define AUDIT_LINGER_MS 10
#define AUDIT_LINE_MAX  2048

struct lurkd_audit {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	pthread_t thread;
	struct lurkd_audit_rec *queue;
	size_t head, count;
	int stop, reopen, use_syslog, fd;
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
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

static void
write_line(struct lurkd_audit *a, const char *line, size_t len)
{
	size_t off = 0;

	if (a->use_syslog) {
		syslog(LOG_INFO | LOG_AUTHPRIV, "audit: %.*s", (int)(len - 1), line);
		return;
	}
	while (off < len && a->fd >= 0) {
		ssize_t w = write(a->fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			lurk_error("audit log %s: write failed: %s", a->path, strerror(errno));
			return;
		}
		off += (size_t)w;
	}
}

/* Waits until a batch is due: AUDIT_BATCH records, AUDIT_LINGER_MS after the first, stop or reopen.
 */
static void
wait_for_batch(struct lurkd_audit *a)
{
	struct timespec until;

	while (a->count == 0 && !a->stop && !a->reopen)
		pthread_cond_wait(&a->not_empty, &a->lock);
	/* The first record of a batch is here: linger a little for the rest. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += AUDIT_LINGER_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (a->count < AUDIT_BATCH && !a->stop && !a->reopen)
		if (pthread_cond_timedwait(&a->not_empty, &a->lock, &until) == ETIMEDOUT)
			break;
}

/*
 * The writer drains the queue in batches: formatted into one buffer, one
 * write(2). Producers wake it only when a batch is full (AUDIT_BATCH); a
 * lone record is written within AUDIT_LINGER_MS. Nothing is ever dropped:
 * a full queue makes producers wait.
 */
static void *
writer(void *arg)
{
	struct lurkd_audit *a = arg;
	struct lurkd_audit_rec batch[AUDIT_BATCH];
	char *out = malloc(AUDIT_BATCH * AUDIT_LINE_MAX);

	pthread_mutex_lock(&a->lock);
	for (;;) {
		size_t n = 0, len = 0;

		wait_for_batch(a);
		if (a->reopen) {
			int fd = open_file(a->path);
			a->reopen = 0;
			if (fd >= 0) {
				close(a->fd);
				a->fd = fd;
			} else {
				lurk_error("audit log %s: reopen failed: %s", a->path,
					strerror(errno));
			}
			continue;
		}
		if (a->count == 0 && a->stop)
			break;
		while (a->count > 0 && n < AUDIT_BATCH) {
			batch[n++] = a->queue[a->head];
			a->head = (a->head + 1) % AUDIT_QUEUE;
			a->count--;
		}
		pthread_cond_broadcast(&a->not_full);
		pthread_mutex_unlock(&a->lock);
		for (size_t i = 0; i < n; i++) {
			if (out == NULL || a->use_syslog) {
				char line[AUDIT_LINE_MAX];
				size_t l = lurkd_audit_format(&batch[i], line, sizeof(line));
				if (l != 0)
					write_line(a, line, l);
				continue;
			}
			len += lurkd_audit_format(&batch[i], out + len, AUDIT_LINE_MAX);
		}
		if (len > 0)
			write_line(a, out, len);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	free(out);
	return NULL;
}

int
lurkd_audit_open(const char *target, struct lurkd_audit **out, char *err, size_t err_len)
{
	struct lurkd_audit *a;

	*out = NULL;
	if (target == NULL)
		return 0;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
		(a->queue = calloc(AUDIT_QUEUE, sizeof(*a->queue))) == NULL) {
		free(a);
		return LURK_ERR_ALLOC;
	}
	a->fd = -1;
	if (strcmp(target, "syslog") == 0) {
		a->use_syslog = 1;
	} else {
		if ((a->path = strdup(target)) == NULL) {
			free(a->queue);
			free(a);
			return LURK_ERR_ALLOC;
		}
		if ((a->fd = open_file(target)) < 0) {
			snprintf(err, err_len, "audit-log %s: %s", target, strerror(errno));
			free(a->path);
			free(a->queue);
			free(a);
			return LURK_ERR_CONFIG;
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->not_empty, NULL);
	pthread_cond_init(&a->not_full, NULL);
	if (pthread_create(&a->thread, NULL, writer, a) != 0) {
		snprintf(err, err_len, "cannot start the audit thread");
		if (a->fd >= 0)
			close(a->fd);
		free(a->path);
		free(a->queue);
		free(a);
		return LURK_ERR_SYSTEM;
	}
	*out = a;
	return 0;
}

void
lurkd_audit_record(struct lurkd_audit *a, const struct lurkd_audit_rec *rec)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	while (a->count == AUDIT_QUEUE && !a->stop)
		pthread_cond_wait(&a->not_full, &a->lock);
	a->queue[(a->head + a->count) % AUDIT_QUEUE] = *rec;
	a->count++;
	/* Wake the writer for a batch's first record and when a batch is full. */
	if (a->count == 1 || a->count >= AUDIT_BATCH)
		pthread_cond_signal(&a->not_empty);
	pthread_mutex_unlock(&a->lock);
}

void
lurkd_audit_reopen(struct lurkd_audit *a)
{
	if (a == NULL || a->use_syslog)
		return;
	pthread_mutex_lock(&a->lock);
	a->reopen = 1;
	pthread_cond_signal(&a->not_empty);
	pthread_mutex_unlock(&a->lock);
}

void
lurkd_audit_close(struct lurkd_audit *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_broadcast(&a->not_empty);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	if (a->fd >= 0) {
		fsync(a->fd);
		close(a->fd);
	}
	pthread_cond_destroy(&a->not_empty);
	pthread_cond_destroy(&a->not_full);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a->queue);
	free(a);
}
