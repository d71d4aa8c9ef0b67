/*
 * Replay driver for the fuzz targets, so they run in `make check` without
 * libFuzzer: every file of the target's committed corpus
 * ($top_srcdir/tests/fuzz/corpus/<FUZZ_CORPUS>/) and every path given on the
 * command line is fed to LLVMFuzzerTestOneInput once. A crash or sanitizer
 * report fails the test; each input is one TAP line.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (1024 * 1024)

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_file(const char *path, int n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	size_t len;

	if (f == NULL) {
		printf("not ok %d %s # cannot open\n", n, path);
		return 1;
	}
	if ((data = malloc(FUZZ_MAX_INPUT)) == NULL) {
		fclose(f);
		return 1;
	}
	len = fread(data, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	/* An exact-size copy lets AddressSanitizer see any over-read. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(data);
		return 1;
	}
	memcpy(exact, data, len);
	free(data);
	(void)LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	printf("ok %d %s\n", n, path);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char dir[4096], path[4096 + 256];
	char *names[4096];
	int count = 0, failed = 0, n = 0;
	DIR *d;
	struct dirent *e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top != NULL ? top : ".", FUZZ_CORPUS);
	if ((d = opendir(dir)) == NULL) {
		printf("1..0 # SKIP no corpus at %s\n", dir);
		return argc > 1 ? 99 : 77;
	}
	while ((e = readdir(d)) != NULL && count < (int)(sizeof(names) / sizeof(names[0]))) {
		if (e->d_name[0] == '.')
			continue;
		names[count++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)count, sizeof(names[0]), cmp_str);
	printf("1..%d\n", count + argc - 1);
	for (int i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		failed |= run_file(path, ++n);
		free(names[i]);
	}
	for (int i = 1; i < argc; i++)
		failed |= run_file(argv[i], ++n);
	return failed ? 1 : 0;
}
