/* lurk-admin audit: search lurkd's audit log (see audit-search.c). */
#ifndef LURKD_AUDIT_SEARCH_H
#define LURKD_AUDIT_SEARCH_H

#include <stdio.h>

int lurk_admin_audit(int argc, char **argv);

/* What a search looks for; a field that is "" or NULL matches anything. */
struct lurk_audit_query {
	char sha256[65]; /* lower-case hex, or "" for any */
	const char *client, *key, *verdict;
};

/*
 * Searches one log read from `in`, writing a line per matching record to
 * `out`; lines that are not audit records are counted in *skipped. Returns
 * how many records matched, or -1 when out of memory. (lurk-admin audit runs
 * it on each LOG; the fuzz target on bytes in memory.)
 */
long lurk_audit_search_stream(FILE *in, const struct lurk_audit_query *q, FILE *out, long *skipped);

#endif
