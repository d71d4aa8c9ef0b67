/*
 * lurk-admin status: reads lurkd's text exposition. Only the lurkd_ series
 * it shows; every line and label is bounded (names cut at the row's size,
 * at most LURK_STATUS_MAX_ROWS rows per table, LURK_STATUS_BUCKETS bounds
 * per histogram), and anything it does not understand is skipped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin-status.h"

#define MAX_LABELS 8

struct label {
	char name[32];
	char value[128];
};

struct sample {
	char name[64];
	struct label l[MAX_LABELS];
	size_t nl;
	double v;
};

static const char *
label(const struct sample *s, const char *name)
{
	for (size_t i = 0; i < s->nl; i++)
		if (strcmp(s->l[i].name, name) == 0)
			return s->l[i].value;
	return NULL;
}

/* Copies up to the end of a label value (the closing quote), unescaping; NULL if malformed. */
static const char *
read_value(const char *p, const char *end, char *out, size_t out_len)
{
	size_t o = 0;

	for (; p < end && *p != '"'; p++) {
		char c = *p;
		if (c == '\\') {
			if (++p >= end)
				return NULL;
			c = *p == 'n' ? '\n' : *p;
		}
		if (o + 1 < out_len)
			out[o++] = c;
	}
	out[o] = '\0';
	return p < end ? p + 1 : NULL;
}

/* One line "name{a="x",b="y"} value"; 0, or -1 to skip it. */
static int
parse_line(const char *p, const char *end, struct sample *s)
{
	size_t n = 0;
	char num[64];
	char *e;

	memset(s, 0, sizeof(*s));
	while (p < end && *p != '{' && *p != ' ') {
		if (n + 1 >= sizeof(s->name))
			return -1;
		s->name[n++] = *p++;
	}
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			struct label *l;
			size_t k = 0;
			if (s->nl == MAX_LABELS)
				return -1;
			l = &s->l[s->nl++];
			while (p < end && *p != '=' && k + 1 < sizeof(l->name))
				l->name[k++] = *p++;
			if (p + 1 >= end || p[0] != '=' || p[1] != '"')
				return -1;
			if ((p = read_value(p + 2, end, l->value, sizeof(l->value))) == NULL)
				return -1;
			if (p < end && *p == ',')
				p++;
		}
		if (p >= end)
			return -1;
		p++;
	}
	while (p < end && *p == ' ')
		p++;
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, p, n);
	num[n] = '\0';
	if (strcmp(num, "+Inf") == 0) {
		s->v = 1e300;
		return 0;
	}
	s->v = strtod(num, &e);
	return *e == '\0' || *e == ' ' ? 0 : -1;
}

static struct status_row *
row(struct status_table *t, const char *name)
{
	struct status_row *r;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	if (t->n == LURK_STATUS_MAX_ROWS) {
		t->truncated = 1;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct status_row *nr = realloc(t->rows, cap * sizeof(*nr));
		if (nr == NULL)
			return NULL;
		t->rows = nr;
		t->cap = cap;
	}
	r = &t->rows[t->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

static void
add_verdict(struct status_row *r, const char *verdict, double v)
{
	if (r == NULL || verdict == NULL)
		return;
	if (strcmp(verdict, "allowed") == 0)
		r->allowed += v;
	else if (strcmp(verdict, "refused") == 0)
		r->refused += v;
	else
		r->errors += v;
}

static void
add_bucket(struct status_row *r, const char *le, double v)
{
	double b;
	size_t i;

	if (r == NULL || le == NULL)
		return;
	b = strcmp(le, "+Inf") == 0 ? 1e300 : strtod(le, NULL);
	for (i = 0; i < r->nle; i++)
		if (r->le[i] == b)
			break;
	if (i == r->nle) {
		if (r->nle == LURK_STATUS_BUCKETS)
			return;
		r->le[r->nle++] = b;
	}
	r->cum[i] += v;
}

static void
take(struct status *st, const struct sample *s)
{
	const char *n = s->name, *k = label(s, "key"), *res = label(s, "result");

	if (strcmp(n, "lurkd_operations_total") == 0) {
		/* Requests naming no key of the client count for the client only. */
		if (k != NULL && k[0] != '\0')
			add_verdict(row(&st->keys, k), label(s, "verdict"), s->v);
		if (label(s, "client") != NULL)
			add_verdict(
				row(&st->clients, label(s, "client")), label(s, "verdict"), s->v);
	} else if (strcmp(n, "lurkd_operation_duration_seconds_bucket") == 0 && k != NULL) {
		add_bucket(row(&st->keys, k), label(s, "le"), s->v);
	} else if (strcmp(n, "lurkd_refusals_total") == 0 && label(s, "reason") != NULL) {
		struct status_row *r = row(&st->reasons, label(s, "reason"));
		if (r != NULL)
			r->allowed += s->v;
	} else if (strcmp(n, "lurkd_build_info") == 0 && label(s, "version") != NULL) {
		snprintf(st->version, sizeof(st->version), "%s", label(s, "version"));
	} else if (strcmp(n, "lurkd_config_generation") == 0) {
		st->generation = s->v;
	} else if (strcmp(n, "lurkd_config_loaded_timestamp_seconds") == 0) {
		st->loaded = s->v;
	} else if (strcmp(n, "lurkd_connections_open") == 0) {
		st->open = s->v;
	} else if (strcmp(n, "lurkd_connections_total") == 0 && res != NULL) {
		*(strcmp(res, "accepted") == 0 ? &st->conn_ok : &st->conn_refused) += s->v;
	} else if (strcmp(n, "lurkd_handshakes_total") == 0 && res != NULL) {
		*(strcmp(res, "accepted") == 0 ? &st->hs_ok : &st->hs_refused) += s->v;
	} else if (strcmp(n, "lurkd_reloads_total") == 0 && res != NULL) {
		*(strcmp(res, "ok") == 0 ? &st->reload_ok : &st->reload_failed) += s->v;
	}
}

int
lurk_status_parse(const char *text, size_t len, struct status *st)
{
	const char *p = text, *end = text + len;
	struct sample s;

	memset(st, 0, sizeof(*st));
	snprintf(st->version, sizeof(st->version), "?");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		if (le > p && *p != '#' && strncmp(p, "lurkd_", 6) == 0 &&
			parse_line(p, le, &s) == 0)
			take(st, &s);
		p = le + 1;
	}
	return 0;
}

void
lurk_status_free(struct status *st)
{
	free(st->keys.rows);
	free(st->clients.rows);
	free(st->reasons.rows);
	memset(st, 0, sizeof(*st));
}
