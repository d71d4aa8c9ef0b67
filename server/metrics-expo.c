/*
 * lurkd's metrics: the Prometheus text exposition (version 0.0.4) and its
 * HTTP endpoint, served by libmicrohttpd from its own thread on the socket
 * lurkd opened at start. Only GET /metrics: 404 for other paths, 405 for
 * other methods; at most METRICS_CONNECTIONS connections, each closed after
 * METRICS_TIMEOUT idle seconds.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "conf.h"
#include "err.h"
#include "listen.h"
#include "log.h"
#include "metrics-int.h"
#include "metrics.h"
#include "server.h"

#define METRICS_CONNECTIONS 16
#define METRICS_TIMEOUT     10          /* seconds */
#define METRICS_MAX_TEXT    (64u << 20) /* far above keys × clients × series; a bound all the same */

#define M (&lurkd_mstate)

static int metrics_fd = -1;
static char *metrics_path; /* a unix socket's, to remove at exit */
static struct MHD_Daemon *daemon_;

size_t
lurkd_metrics_escape(const char *in, char *out, size_t out_len)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		const char *rep = NULL;
		char one[2] = {*in, '\0'};
		if (*in == '\\')
			rep = "\\\\";
		else if (*in == '"')
			rep = "\\\"";
		else if (*in == '\n')
			rep = "\\n";
		else
			rep = one;
		for (; *rep != '\0'; rep++) {
			if (o + 1 >= out_len)
				return (size_t)-1;
			out[o++] = *rep;
		}
	}
	if (o >= out_len)
		return (size_t)-1;
	out[o] = '\0';
	return o;
}

struct text {
	char *p;
	size_t len, cap;
	int failed;
};

static void LURK_PRINTF(2, 3) put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap =
			t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
		char *np;
		if (cap > METRICS_MAX_TEXT || (np = realloc(t->p, cap)) == NULL) {
			t->failed = 1;
			return;
		}
		t->p = np;
		t->cap = cap;
	}
}

static void
head(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* An escaped label value; names longer than this are cut (config names are far shorter). */
static const char *
esc(const char *in, char *buf, size_t len)
{
	if (lurkd_metrics_escape(in, buf, len) == (size_t)-1)
		buf[0] = '\0';
	return buf;
}

static void
hist(struct text *t, const char *name, const char *labels, const struct mhist *h)
{
	uint64_t cum = 0;

	for (size_t i = 0; i <= MBUCKETS; i++) {
		cum += atomic_load_explicit(&h->b[i], memory_order_relaxed);
		if (i < MBUCKETS)
			put(t, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
				labels[0] ? "," : "", (double)lurkd_mbounds_us[i] / 1e6,
				(unsigned long long)cum);
		else
			put(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
				labels[0] ? "," : "", (unsigned long long)cum);
	}
	put(t, "%s_sum%s%s%s %.6f\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
		(double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6);
	put(t, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
		(unsigned long long)cum);
}

static int
hist_empty(const struct mhist *h)
{
	for (size_t i = 0; i <= MBUCKETS; i++)
		if (atomic_load_explicit(&h->b[i], memory_order_relaxed) != 0)
			return 0;
	return 1;
}

static const char *
mech_label(size_t m, char *buf, size_t len)
{
	if (m < LURKD_MECH_COUNT)
		return lurkd_mech_name(lurkd_mech_at(m));
	snprintf(buf, len, "%s", m == LURKD_MECH_COUNT ? "none" : "other");
	return buf;
}

static void
render_ops(struct text *t)
{
	char c[256], k[256], mb[16], labels[700];

	head(t, "lurkd_operations_total", "counter",
		"Requests naming a key, by client, key, operation, mechanism and verdict.");
	for (const struct lurkd_mpair *p = M->pairs; p != NULL; p = p->next)
		for (size_t o = 0; o < MOPS; o++)
			for (size_t m = 0; m < MMECH; m++)
				for (size_t v = 0; v < MVERDICTS; v++) {
					uint64_t n = atomic_load_explicit(
						&p->n[o][m][v], memory_order_relaxed);
					if (n == 0)
						continue;
					put(t,
						"lurkd_operations_total{key=\"%s\",client=\"%s\","
						"operation=\"%s\",mechanism=\"%s\",verdict=\"%s\"} "
						"%llu\n",
						esc(p->key, k, sizeof(k)),
						esc(p->client, c, sizeof(c)), lurkd_mop_names[o],
						mech_label(m, mb, sizeof(mb)),
						lurkd_mverdict_names[v], (unsigned long long)n);
				}
	head(t, "lurkd_operation_duration_seconds", "histogram",
		"Time lurkd spent on a request naming one of its keys, by key and operation.");
	for (const struct mkey *kb = M->keys; kb != NULL; kb = kb->next)
		for (size_t o = 0; o < MOPS; o++) {
			/* The split-key ops' histograms once they have a request. */
			if (o >= MOPS_WHOLE && hist_empty(&kb->lat[o]))
				continue;
			snprintf(labels, sizeof(labels), "key=\"%s\",operation=\"%s\"",
				esc(kb->name, k, sizeof(k)), lurkd_mop_names[o]);
			hist(t, "lurkd_operation_duration_seconds", labels, &kb->lat[o]);
		}
}

static void
render_counters(struct text *t)
{
	static const char *const conn_names[LURKD_MCONN_N] = {
		"accepted", "max_connections", "max_per_source"};
	struct lurkd *s = M->server;

	head(t, "lurkd_refusals_total", "counter", "Requests refused, by reason.");
	for (size_t i = 0; i < MREASONS; i++)
		put(t, "lurkd_refusals_total{reason=\"%s\"} %llu\n", lurkd_mreason_names[i],
			(unsigned long long)atomic_load(&M->refusals[i]));
	head(t, "lurkd_rate_limited_total", "counter",
		"Requests refused by a rate limit, by whose limit (client or key).");
	put(t, "lurkd_rate_limited_total{scope=\"client\"} %llu\n",
		(unsigned long long)atomic_load(&M->refusals[MREASON_RL_CLIENT]));
	put(t, "lurkd_rate_limited_total{scope=\"key\"} %llu\n",
		(unsigned long long)atomic_load(&M->refusals[MREASON_RL_KEY]));
	head(t, "lurkd_connections_total", "counter",
		"Connections at accept: accepted, or refused at a limit.");
	for (size_t i = 0; i < LURKD_MCONN_N; i++)
		put(t, "lurkd_connections_total{result=\"%s\"} %llu\n", conn_names[i],
			(unsigned long long)atomic_load(&M->conns[i]));
	head(t, "lurkd_connections_open", "gauge", "Connections open now.");
	put(t, "lurkd_connections_open %u\n", s != NULL ? atomic_load(&s->connections) : 0u);
	head(t, "lurkd_handshakes_total", "counter",
		"Noise handshakes: accepted, or refused by cause.");
	for (size_t i = 0; i < MHS_N; i++)
		put(t, "lurkd_handshakes_total{result=\"%s\"} %llu\n", lurkd_mhs_names[i],
			(unsigned long long)atomic_load(&M->hs[i]));
	head(t, "lurkd_audit_queue_depth", "gauge",
		"Audit records handed to the log and not yet written.");
	put(t, "lurkd_audit_queue_depth %lld\n", (long long)atomic_load(&M->audit_depth));
	head(t, "lurkd_audit_write_seconds", "histogram",
		"Time to write one batch of audit records (and fdatasync with audit-sync).");
	hist(t, "lurkd_audit_write_seconds", "", &M->audit_write);
	head(t, "lurkd_reloads_total", "counter", "Configuration reloads, by result.");
	put(t, "lurkd_reloads_total{result=\"ok\"} %llu\n",
		(unsigned long long)atomic_load(&M->reloads[1]));
	put(t, "lurkd_reloads_total{result=\"failed\"} %llu\n",
		(unsigned long long)atomic_load(&M->reloads[0]));
	head(t, "lurkd_config_generation", "gauge",
		"The live configuration's generation: 0 at start, one more per reload.");
	put(t, "lurkd_config_generation %llu\n",
		s != NULL ? (unsigned long long)atomic_load(&s->generation) : 0ull);
	head(t, "lurkd_config_loaded_timestamp_seconds", "gauge",
		"When the live configuration was loaded, in seconds since the epoch.");
	put(t, "lurkd_config_loaded_timestamp_seconds %lld\n", atomic_load(&M->loaded_at));
	head(t, "lurkd_build_info", "gauge", "Always 1; the version is its label.");
	put(t, "lurkd_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
}

int
lurkd_metrics_render(char **out, size_t *len)
{
	struct text t = {.cap = 16384};

	if ((t.p = malloc(t.cap)) == NULL)
		return LURK_ERR_ALLOC;
	pthread_mutex_lock(&M->lock);
	render_ops(&t);
	pthread_mutex_unlock(&M->lock);
	render_counters(&t);
	if (t.failed) {
		free(t.p);
		return LURK_ERR_ALLOC;
	}
	*out = t.p;
	*len = t.len;
	return 0;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text;
	size_t len;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: lurkd serves /metrics\n");
	if (lurkd_metrics_render(&text, &len) != 0)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	(void)MHD_add_response_header(
		r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int
lurkd_metrics_open(const struct lurkd_config *c, unsigned mode, const struct passwd *owner,
	char *err, size_t err_len)
{
	const struct lurkd_listen *l = &c->metrics_listen;
	char where[300];

	if (l->kind == 0)
		return 0;
	lurkd_listen_describe(l, where, sizeof(where));
	if (lurkd_listen_open(l, mode, owner, &metrics_fd, err, err_len) != 0)
		return LURK_ERR_IO;
	if (l->kind == LURKD_LISTEN_UNIX)
		metrics_path = strdup(l->path);
	M->on = 1;
	lurk_info("metrics on %s", where);
	return 0;
}

void
lurkd_metrics_close_fd(void)
{
	if (metrics_fd >= 0)
		close(metrics_fd);
	metrics_fd = -1;
	M->on = 0;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	lurk_debug(LURK_DBG_SERVER, "metrics: %s", line);
}

int
lurkd_metrics_start(struct lurkd *s)
{
	if (metrics_fd < 0)
		return 0;
	M->server = s;
	daemon_ = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		on_request, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)metrics_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (daemon_ == NULL) {
		lurk_error("metrics: cannot start the HTTP server");
		return LURK_ERR_IO;
	}
	metrics_fd = -1; /* the daemon's now */
	return 0;
}

void
lurkd_metrics_stop(void)
{
	if (daemon_ != NULL)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	lurkd_metrics_close_fd();
}

void
lurkd_metrics_unlink(void)
{
	if (metrics_path != NULL)
		(void)unlink(metrics_path);
	free(metrics_path);
	metrics_path = NULL;
}
