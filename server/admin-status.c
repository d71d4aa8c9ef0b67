/*
 * lurk-admin status [--metrics URL|unix:/PATH]: fetches lurkd's metrics
 * with libcurl (no hand-written HTTP; at most LURK_STATUS_MAX_BYTES, 10 s)
 * and prints one screen: version, configuration generation and when it was
 * loaded, connections, per key and per client the requests allowed and
 * refused (a key's median latency from its histogram), the top refusal
 * reasons.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "admin-status.h"

#define DEFAULT_METRICS "http://127.0.0.1:9468/metrics"
#define TOP_REASONS     5
#define TOP_ROWS        20

struct body {
	char *p;
	size_t len;
	int too_big;
};

static size_t
on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t len = size * n;
	char *np;

	if (len > LURK_STATUS_MAX_BYTES - b->len) {
		b->too_big = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if ((np = realloc(b->p, b->len + len + 1)) == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

static int
fetch(const char *where, struct body *b)
{
	CURL *h;
	CURLcode rc;
	char errbuf[CURL_ERROR_SIZE] = "";
	int unix_socket = strncmp(where, "unix:", 5) == 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (h = curl_easy_init()) == NULL) {
		fprintf(stderr, "lurk-admin: cannot initialise libcurl\n");
		return 1;
	}
	(void)curl_easy_setopt(h, CURLOPT_URL, unix_socket ? "http://localhost/metrics" : where);
	if (unix_socket)
		(void)curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, where + 5);
	(void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	(void)curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	(void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LURK_STATUS_MAX_BYTES);
	(void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	(void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	(void)curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	if (rc == CURLE_OK)
		return 0;
	if (b->too_big)
		fprintf(stderr, "lurk-admin: %s: more than %u bytes of metrics\n", where,
			LURK_STATUS_MAX_BYTES);
	else
		fprintf(stderr, "lurk-admin: %s: %s\n", where,
			errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return 1;
}

static int
by_total(const void *a, const void *b)
{
	const struct status_row *x = a, *y = b;
	double tx = x->allowed + x->refused + x->errors, ty = y->allowed + y->refused + y->errors;

	return tx < ty ? 1 : tx > ty ? -1 : strcmp(x->name, y->name);
}

/* The bound under which half of a key's requests finished, as text. */
static void
median(const struct status_row *r, char *out, size_t len)
{
	size_t order[LURK_STATUS_BUCKETS];
	double total = 0;

	snprintf(out, len, "-");
	for (size_t i = 0; i < r->nle; i++) {
		order[i] = i;
		if (r->le[i] >= 1e300)
			total = r->cum[i];
	}
	/* Buckets in increasing bound order (they arrive so, but nothing relies on it). */
	for (size_t i = 1; i < r->nle; i++)
		for (size_t j = i; j > 0 && r->le[order[j]] < r->le[order[j - 1]]; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	if (total <= 0)
		return;
	for (size_t i = 0; i < r->nle; i++) {
		double le = r->le[order[i]];
		if (r->cum[order[i]] * 2 < total)
			continue;
		if (le >= 1e300)
			snprintf(out, len, "> 1 s");
		else if (le < 0.001)
			snprintf(out, len, "<= %g us", le * 1e6);
		else
			snprintf(out, len, "<= %g ms", le * 1e3);
		return;
	}
}

static void
print_rows(const char *title, struct status_table *t, int with_latency)
{
	char med[32];

	qsort(t->rows, t->n, sizeof(*t->rows), by_total);
	printf("\n%-24s %10s %10s %8s%s\n", title, "ALLOWED", "REFUSED", "ERRORS",
		with_latency ? "  MEDIAN" : "");
	for (size_t i = 0; i < t->n && i < TOP_ROWS; i++) {
		const struct status_row *r = &t->rows[i];
		if (with_latency)
			median(r, med, sizeof(med));
		printf("  %-22s %10.0f %10.0f %8.0f%s%s\n", r->name, r->allowed, r->refused,
			r->errors, with_latency ? "  " : "", with_latency ? med : "");
	}
	if (t->n > TOP_ROWS || t->truncated)
		printf("  (%s%zu more not shown)\n", t->truncated ? "at least " : "",
			t->n > TOP_ROWS ? t->n - TOP_ROWS : 0);
}

static void
print_status(struct status *st)
{
	char when[64] = "?";
	time_t t = (time_t)st->loaded;
	struct tm tm;
	size_t shown = 0;

	if (st->loaded > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("lurkd %s, configuration generation %.0f, loaded %s\n", st->version, st->generation,
		when);
	printf("reloads: %.0f ok, %.0f failed\n", st->reload_ok, st->reload_failed);
	printf("connections: %.0f open; %.0f accepted, %.0f refused at a limit\n", st->open,
		st->conn_ok, st->conn_refused);
	printf("handshakes: %.0f accepted, %.0f refused\n", st->hs_ok, st->hs_refused);
	print_rows("KEY", &st->keys, 1);
	print_rows("CLIENT", &st->clients, 0);
	qsort(st->reasons.rows, st->reasons.n, sizeof(*st->reasons.rows), by_total);
	printf("\nTOP REFUSAL REASONS\n");
	for (size_t i = 0; i < st->reasons.n && shown < TOP_REASONS; i++) {
		if (st->reasons.rows[i].allowed <= 0)
			break;
		printf("  %10.0f %s\n", st->reasons.rows[i].allowed, st->reasons.rows[i].name);
		shown++;
	}
	if (shown == 0)
		printf("  (none)\n");
}

int
lurk_admin_status(int argc, char **argv)
{
	const char *where = DEFAULT_METRICS;
	struct body b = {0};
	struct status st;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--metrics") == 0 && i + 1 < argc) {
			where = argv[++i];
		} else {
			fprintf(stderr, "usage: lurk-admin status [--metrics URL|unix:/PATH]\n");
			return 2;
		}
	}
	if ((r = fetch(where, &b)) != 0) {
		free(b.p);
		return r;
	}
	if (b.len == 0 || lurk_status_parse(b.p, b.len, &st) != 0) {
		fprintf(stderr, "lurk-admin: %s: no metrics read\n", where);
		free(b.p);
		return 1;
	}
	free(b.p);
	if (st.version[0] == '?') {
		fprintf(stderr, "lurk-admin: %s: not lurkd's metrics (no lurkd_build_info)\n",
			where);
		lurk_status_free(&st);
		return 1;
	}
	print_status(&st);
	lurk_status_free(&st);
	return 0;
}
