/*
 * Fuzz target for key files (common/keyfile.c). The input is a key file's
 * text. It goes through:
 *  - lurk_keyfile_parse, from memory: a key it accepts must be the one
 *    canonical base64 line of the file; a refusal zeroes the key and says why;
 *  - lurk_keyfile_load, through a private temporary file (mode 0600), since
 *    the PIN-protected form ("pin-protected BASE64") is only parsed there: a
 *    plain file must give what lurk_keyfile_parse gives; a locked one is
 *    refused by lurk_keyfile_parse as PIN-protected, and its line, blanks
 *    removed, is the canonical base64 of the sealed bytes;
 *  - lurk_static_key_b64_decode on the text as a string: a decoded key re-encodes
 *    to the trimmed text.
 * Unlocking (Argon2id, 64 MiB a try) is left out: it only sees 88 bytes the
 * parse above already produced. Must never crash, leak or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_path[4096];
static int tmp_fd = -1;

static void
remove_tmp(void)
{
	if (tmp_fd >= 0)
		(void)unlink(tmp_path);
}

/* In /dev/shm when there is one: truncating a file on disk costs ~1 ms a run. */
static void
tmp_init(void)
{
	const char *dir = getenv("TMPDIR");
	const char *dirs[] = {"/dev/shm", dir != NULL && dir[0] != '\0' ? dir : "/tmp"};

	if (tmp_fd >= 0)
		return;
	for (size_t i = 0; i < 2 && tmp_fd < 0; i++) {
		snprintf(tmp_path, sizeof(tmp_path), "%s/lurk-keyfile-fuzz.XXXXXX", dirs[i]);
		/* mkstemp makes it 0600, as key files must be. */
		tmp_fd = mkstemp(tmp_path);
	}
	if (tmp_fd < 0)
		abort();
	atexit(remove_tmp);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A key lurk_keyfile_parse accepted: its base64 is a line of the text, trimmed. */
static void
check_key_line(const char *text, size_t len, const uint8_t sk[LURK_NOISE_KEY_LEN])
{
	char b64[LURK_STATIC_KEY_B64_LEN + 1];
	size_t pos = 0;

	lurk_static_key_b64_encode(sk, b64);
	while (pos < len) {
		size_t a = pos, b;

		while (pos < len && text[pos] != '\n')
			pos++;
		b = pos++;
		while (a < b && is_space(text[a]))
			a++;
		while (b > a && is_space(text[b - 1]))
			b--;
		if (b - a == LURK_STATIC_KEY_B64_LEN &&
			memcmp(text + a, b64, LURK_STATIC_KEY_B64_LEN) == 0)
			return;
	}
	abort();
}

/* A locked file: the line after the tag, without blanks, is the sealed bytes' base64. */
static void
check_locked_line(const char *text, const uint8_t locked[LURK_LOCKED_LEN])
{
	char want[sodium_base64_ENCODED_LEN(LURK_LOCKED_LEN, sodium_base64_VARIANT_ORIGINAL)];
	char got[sizeof(want) + 1];
	const char *p = text;
	size_t n = 0;

	/* The key line: the first that is neither blank nor a '#' comment. */
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '#')
			break;
		while (*p != '\0' && *p != '\n')
			p++;
	}
	if (strncmp(p, LURK_LOCKED_TAG " ", sizeof(LURK_LOCKED_TAG)) != 0)
		abort();
	sodium_bin2base64(
		want, sizeof(want), locked, LURK_LOCKED_LEN, sodium_base64_VARIANT_ORIGINAL);
	for (p += sizeof(LURK_LOCKED_TAG); *p != '\0' && *p != '\r' && *p != '\n'; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (n == sizeof(got) - 1)
			abort();
		got[n++] = *p;
	}
	got[n] = '\0';
	if (strcmp(got, want) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	uint8_t sk[LURK_NOISE_KEY_LEN], sk2[LURK_NOISE_KEY_LEN], locked[LURK_LOCKED_LEN];
	const char *why = NULL, *why2 = NULL;
	char *str;
	int r, r2, is_locked = -1;

	if (sodium_init() < 0)
		abort();
	/* From memory. */
	r = lurk_keyfile_parse(text, size, sk, &why);
	if (r == 0)
		check_key_line(text, size, sk);
	else if (!all_zero(sk, sizeof(sk)) || why == NULL)
		abort();
	if (lurk_keyfile_parse(text, size, sk2, NULL) != r || memcmp(sk, sk2, sizeof(sk)) != 0)
		abort();

	/* As a string, to the base64 decoder. */
	if ((str = malloc(size + 1)) == NULL)
		return 0;
	memcpy(str, text, size);
	str[size] = '\0';
	if (lurk_static_key_b64_decode(str, sk2) == 0) {
		char b64[LURK_STATIC_KEY_B64_LEN + 1];
		size_t a = 0, b = strlen(str);

		while (a < b && is_space(str[a]))
			a++;
		while (b > a && is_space(str[b - 1]))
			b--;
		lurk_static_key_b64_encode(sk2, b64);
		if (b - a != LURK_STATIC_KEY_B64_LEN ||
			memcmp(str + a, b64, LURK_STATIC_KEY_B64_LEN) != 0)
			abort();
	} else if (!all_zero(sk2, sizeof(sk2))) {
		abort();
	}

	/*
	 * Through a file, for the PIN-protected form. A file over the cap is
	 * refused before parsing; that is the file reader's rule, not the
	 * parser's.
	 */
	if (size < LURK_KEYFILE_MAX) {
		tmp_init();
		if (ftruncate(tmp_fd, 0) != 0 || pwrite(tmp_fd, data, size, 0) != (ssize_t)size)
			abort();
		memset(locked, 0xa5, sizeof(locked));
		r2 = lurk_keyfile_load(tmp_path, sk2, locked, &is_locked, &why2);
		if (is_locked == 1) {
			/* lurk_keyfile_parse refuses the same text for being locked. */
			if (r2 != 0 || !all_zero(sk2, sizeof(sk2)) || r == 0 ||
				strcmp(why, "key is PIN-protected") != 0)
				abort();
			check_locked_line(str, locked);
		} else if (is_locked == 0) {
			/* A plain file (or a malformed locked line, refused). */
			if (r2 == 0 && (r != 0 || memcmp(sk, sk2, sizeof(sk)) != 0))
				abort();
			if (r2 != 0 && !all_zero(sk2, sizeof(sk2)))
				abort();
			if (r2 != 0 && why2 == NULL)
				abort();
			if (r == 0 && r2 != 0)
				abort();
		} else {
			abort();
		}
	}
	free(str);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}
