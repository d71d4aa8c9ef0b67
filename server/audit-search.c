/*
 * lurk-admin audit: "which client had this digest (or this content) signed,
 * and when", from lurkd's audit log (JSON lines, see audit.h).
 *
 *   lurk-admin audit [--sha256 HEX | --hex HEX | --content FILE]
 *                    [--client NAME] [--key NAME] [--verdict V] LOG...
 *
 * One line per matching record; exit 0 if any matched, 1 if none, 2 on error.
 * Lines that are not audit records (or longer than 64 KiB) are skipped and
 * counted on stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit-search.h"

#define MAX_LINE (64 * 1024)

struct query {
	char sha256[65]; /* lower-case hex, or "" for any */
	const char *client, *key, *verdict;
};

static const char *
field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : "";
}

static int
matches(json_t *o, const struct query *q)
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

/* Returns matches found, or -1 if the file cannot be read. */
static long
search_file(const char *path, const struct query *q, long *skipped)
{
	FILE *f = fopen(path, "re");
	char *line;
	long found = 0;

	if (f == NULL) {
		fprintf(stderr, "lurk-admin: %s: cannot open\n", path);
		return -1;
	}
	if ((line = malloc(MAX_LINE + 2)) == NULL) {
		fclose(f);
		return -1;
	}
	while (fgets(line, MAX_LINE + 2, f) != NULL) {
		size_t n = strlen(line);
		json_error_t err;
		json_t *o;

		if (n > MAX_LINE && line[n - 1] != '\n') {
			int c;
			/* Over-long: skip the rest of it. */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
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
			printf("%s client=%s key=%s op=%s mechanism=%s verdict=%s%s%s session=%s\n",
				field(o, "time"), field(o, "client"), field(o, "key"),
				field(o, "op"), field(o, "mechanism"), field(o, "verdict"),
				field(o, "reason")[0] != '\0' ? " reason=" : "", field(o, "reason"),
				field(o, "session"));
			found++;
		}
		json_decref(o);
	}
	free(line);
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
	struct query q;
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
