/*
 * Fuzz target for lurk-admin audit's reading of the audit log
 * (server/audit-search.c). The first byte picks how the rest becomes the log:
 * even, as it is; odd, every 0xff byte stands for 4093 spaces, so lines past
 * the 64 KiB limit (valid JSON among them) come from short inputs. The log
 * is searched with a fixed set of queries (everything; a client; a digest,
 * key and verdict). Checks: every line is either a match or skipped, never
 * split or merged; a match prints exactly one line with no control
 * characters; a narrower query matches no more than everything does. Must
 * never crash, leak or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/audit-search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STRETCH     4093
#define LOG_MAX     (200u * 1024) /* three lines over the limit; more only slows it */
#define DIGEST_SEEN "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* Searches log with q; returns matches, and checks the printed lines. */
static long
search(const char *log, size_t len, const struct lurk_audit_query *q, long *skipped)
{
	char *out = NULL;
	size_t out_len = 0, lines = 0;
	FILE *in, *o;
	long found;

	*skipped = 0;
	/* fmemopen refuses an empty buffer; an empty log is a one-byte buffer read to its end. */
	if ((in = fmemopen((void *)(len != 0 ? log : "\n"), len != 0 ? len : 1, "r")) == NULL)
		abort();
	if (len == 0 && fgetc(in) != '\n')
		abort();
	if ((o = open_memstream(&out, &out_len)) == NULL)
		abort();
	found = lurk_audit_search_stream(in, q, o, skipped);
	fclose(in);
	if (fclose(o) != 0 || found < 0 || *skipped < 0)
		abort();
	for (size_t i = 0; i < out_len; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == '\n')
			lines++;
		else if (c < 0x20 || c == 0x7f ||
			 (c == 0xc2 && i + 1 < out_len && (unsigned char)out[i + 1] >= 0x80 &&
				 (unsigned char)out[i + 1] <= 0x9f))
			abort();
	}
	if (lines != (size_t)found || (out_len != 0 && out[out_len - 1] != '\n'))
		abort();
	free(out);
	return found;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lurk_audit_query all, client, narrow;
	const uint8_t *p = data + 1;
	size_t n = size - 1, len = 0, lines = 0;
	long found_all, found, skipped_all, skipped;
	char *log;

	if (size == 0)
		return 0;
	/* Build the log: exact size, so an over-read shows. */
	if (data[0] & 1) {
		for (size_t i = 0; i < n; i++)
			len += p[i] == 0xff ? STRETCH : 1;
	} else {
		len = n;
	}
	if (len > LOG_MAX)
		return 0;
	if ((log = malloc(len ? len : 1)) == NULL)
		return 0;
	if (data[0] & 1) {
		size_t j = 0;

		for (size_t i = 0; i < n; i++) {
			if (p[i] == 0xff) {
				memset(log + j, ' ', STRETCH);
				j += STRETCH;
			} else {
				log[j++] = (char)p[i];
			}
		}
	} else if (n != 0) {
		memcpy(log, p, n);
	}
	for (size_t i = 0; i < len; i++)
		lines += log[i] == '\n';
	if (len != 0 && log[len - 1] != '\n')
		lines++;

	memset(&all, 0, sizeof(all));
	client = all;
	client.client = "edge1";
	narrow = all;
	memcpy(narrow.sha256, DIGEST_SEEN, sizeof(narrow.sha256));
	narrow.key = "www";
	narrow.verdict = "allowed";

	found_all = search(log, len, &all, &skipped_all);
	/* Each line is a record or skipped: none split, none lost. */
	if ((size_t)(found_all + skipped_all) != lines)
		abort();
	/* Narrower queries only matter when something matched (and cost a pass each). */
	if (found_all == 0) {
		free(log);
		return 0;
	}
	found = search(log, len, &client, &skipped);
	if (found > found_all || skipped != skipped_all)
		abort();
	found = search(log, len, &narrow, &skipped);
	if (found > found_all || skipped != skipped_all)
		abort();
	free(log);
	return 0;
}
