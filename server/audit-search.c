/*
 * lurk-admin audit: "which client had this digest (or this content) signed,
 * and when", from lurkd's audit log (JSON lines, see audit.h).
 *
 *   lurk-admin audit [--sha256 HEX | --hex HEX | --content FILE]
 *                    [--client NAME] [--key NAME] [--verdict V] LOG...
 *
 * One line per matching record; exit 0 if any matched, 1 if none, 2 on error.
 * Lines that are not audit records (or longer than 64 KiB, or holding a NUL
 * byte) are skipped and counted on stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit-search.h"

#define MAX_LINE (64 * 1024)

static const char *
field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : "";
}

/*
 * Writes label and a field's text. The log's JSON escapes can hold any
 * character: control characters (C0, DEL, and C1 as UTF-8) are written as
 * \xNN / \u00NN, so a record stays one line and cannot drive the terminal.
 */
static void
put_field(FILE *out, const char *label, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputs(label, out);
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(out, "\\x%02x", *p);
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(out, "\\u00%02x", *++p);
		else
			fputc(*p, out);
	}
}

static int
matches(json_t *o, const struct lurk_audit_query *q)
{
	if (q->sha256[0] != '\0' && strcmp(field(o, "input_sha256"), q->sha256) != 0)
		return 0;
	if (q->client != NULL && strcmp(field(o, "client"), q->client) != 0)
		return 0;
	if (q->key != NULL && strcmp(field(o, "key"), q->key) != 0)
		return 0;
	if (q->verdict != NULL && strcmp(field(o, "verdict"), q->verdict) != 0)
		return 0;
	return 1;
}

/*
 * Reads one line (without its '\n') into line, NUL-terminated. 0 at the end
 * of the input, else 1 with *bad set for a line that cannot be a record:
 * longer than MAX_LINE, or holding a NUL byte. Such a line is read to its end
 * and never split: with fgets, the part after a NUL in an over-long line came
 * back as a line of its own, parsed as a record. The caller holds f's lock.
 */
static int
read_line(FILE *f, char *line, int *bad)
{
	size_t n = 0;
	int c;

	*bad = 0;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (c == '\0' || n == MAX_LINE)
			*bad = 1;
		else
			line[n++] = (char)c;
	}
	line[n] = '\0';
	return c != EOF || n != 0 || *bad;
}

long
lurk_audit_search_stream(FILE *f, const struct lurk_audit_query *q, FILE *out, long *skipped)
{
	char *line;
	long found = 0;
	int bad;

	if ((line = malloc(MAX_LINE + 1)) == NULL)
		return -1;
	flockfile(f);
	while (read_line(f, line, &bad)) {
		json_error_t err;
		json_t *o;

		if (bad) {
			(*skipped)++;
			continue;
		}
		if ((o = json_loads(line, JSON_REJECT_DUPLICATES, &err)) == NULL ||
			!json_is_object(o) || !json_is_string(json_object_get(o, "time"))) {
			json_decref(o);
			(*skipped)++;
			continue;
		}
		if (matches(o, q)) {
			put_field(out, "", field(o, "time"));
			put_field(out, " client=", field(o, "client"));
			put_field(out, " key=", field(o, "key"));
			put_field(out, " op=", field(o, "op"));
			put_field(out, " mechanism=", field(o, "mechanism"));
			put_field(out, " verdict=", field(o, "verdict"));
			if (field(o, "reason")[0] != '\0')
				put_field(out, " reason=", field(o, "reason"));
			put_field(out, " session=", field(o, "session"));
			fputc('\n', out);
			found++;
		}
		json_decref(o);
	}
	funlockfile(f);
	free(line);
	return found;
}

/* Returns matches found, or -1 if the file cannot be read. */
static long
search_file(const char *path, const struct lurk_audit_query *q, long *skipped)
{
	FILE *f = fopen(path, "re");
	long found;

	if (f == NULL) {
		fprintf(stderr, "lurk-admin: %s: cannot open\n", path);
		return -1;
	}
	found = lurk_audit_search_stream(f, q, stdout, skipped);
	fclose(f);
	return found;
}

static int
hex_sha256_of_file(const char *path, char out[65])
{
	crypto_hash_sha256_state st;
	uint8_t buf[8192], h[32];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	crypto_hash_sha256_init(&st);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		crypto_hash_sha256_update(&st, buf, n);
	fclose(f);
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(out, 65, h, sizeof(h));
	return 0;
}

static int
hex_sha256_of_hex(const char *hex, char out[65])
{
	size_t len = strlen(hex), n = 0;
	uint8_t *bin = malloc(len / 2 + 1), h[32];

	if (bin == NULL || sodium_hex2bin(bin, len / 2 + 1, hex, len, NULL, &n, NULL) != 0 ||
		n * 2 != len) {
		free(bin);
		return -1;
	}
	crypto_hash_sha256(h, bin, n);
	free(bin);
	sodium_bin2hex(out, 65, h, sizeof(h));
	return 0;
}

int
lurk_admin_audit(int argc, char **argv)
{
	struct lurk_audit_query q;
	long total = 0, skipped = 0;
	int nfiles = 0, i;

	memset(&q, 0, sizeof(q));
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (val == NULL)
			goto usage;
		if (strcmp(opt, "--sha256") == 0) {
			if (strlen(val) != 64 || strspn(val, "0123456789abcdefABCDEF") != 64)
				goto usage;
			for (int j = 0; j < 64; j++)
				q.sha256[j] = (char)(val[j] >= 'A' && val[j] <= 'F' ? val[j] + 32
										    : val[j]);
		} else if (strcmp(opt, "--hex") == 0) {
			if (hex_sha256_of_hex(val, q.sha256) != 0)
				goto usage;
		} else if (strcmp(opt, "--content") == 0) {
			if (hex_sha256_of_file(val, q.sha256) != 0) {
				fprintf(stderr, "lurk-admin: %s: cannot read\n", val);
				return 2;
			}
		} else if (strcmp(opt, "--client") == 0) {
			q.client = val;
		} else if (strcmp(opt, "--key") == 0) {
			q.key = val;
		} else if (strcmp(opt, "--verdict") == 0) {
			q.verdict = val;
		} else {
			goto usage;
		}
	}
	for (; i < argc; i++) {
		long n = search_file(argv[i], &q, &skipped);
		if (n < 0)
			return 2;
		total += n;
		nfiles++;
	}
	if (nfiles == 0)
		goto usage;
	if (skipped > 0)
		fprintf(stderr, "lurk-admin: %ld line(s) skipped: not audit records\n", skipped);
	return total > 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: lurk-admin audit [--sha256 HEX | --hex HEX | --content FILE] "
			"[--client NAME] [--key NAME] [--verdict allowed|refused|error] LOG...\n");
	return 2;
}
