/* Noise key files: strict format, private permissions, base64 round trip. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "keyfile.h"
#include "mem.h"
#include "tap.h"

static char dir[] = "/tmp/lurk-test-keyfile-XXXXXX";

static void
path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_num_eq(write(fd, text, strlen(text)), (long long)strlen(text));
	assert_num_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_b64(void)
{
	uint8_t k[LURK_NOISE_KEY_LEN], back[LURK_NOISE_KEY_LEN];
	char b64[LURK_STATIC_KEY_B64_LEN + 1];

	for (int i = 0; i < LURK_NOISE_KEY_LEN; i++)
		k[i] = (uint8_t)(i * 7 + 1);
	lurk_static_key_b64_encode(k, b64);
	assert_num_eq(strlen(b64), LURK_STATIC_KEY_B64_LEN);
	assert_ok(lurk_static_key_b64_decode(b64, back));
	assert_mem_eq(k, back, LURK_NOISE_KEY_LEN);
	/* Surrounding space is fine; anything else is not. */
	char padded[64];
	snprintf(padded, sizeof(padded), "  %s\n", b64);
	assert_ok(lurk_static_key_b64_decode(padded, back));
	b64[10] = '*';
	assert_err(lurk_static_key_b64_decode(b64, back), LURK_ERR_BAD_FORMAT);
	for (int i = 0; i < LURK_NOISE_KEY_LEN; i++)
		assert_num_eq(back[i], 0); /* zeroed on failure */
	assert_err(lurk_static_key_b64_decode("AAAA", back), LURK_ERR_BAD_FORMAT);
	/* 45 characters: too long. */
	assert_err(
		lurk_static_key_b64_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A", back),
		LURK_ERR_BAD_FORMAT);
	assert_err(lurk_static_key_b64_decode(NULL, back), LURK_ERR_INVALID_ARG);
}

static void
test_write_read(void)
{
	uint8_t sk[LURK_NOISE_KEY_LEN], pk[LURK_NOISE_KEY_LEN], sk2[LURK_NOISE_KEY_LEN],
		pk2[LURK_NOISE_KEY_LEN];
	char path[512];
	const char *why = NULL;
	struct stat st;

	path_of(path, sizeof(path), "k1");
	assert_ok(lurk_static_key_generate(sk, pk));
	assert_ok(lurk_keyfile_write(path, sk, 0, &why));
	assert_num_eq(stat(path, &st), 0);
	assert_num_eq(st.st_mode & 0777, 0600);
	assert_ok(lurk_keyfile_read(path, sk2, &why));
	assert_mem_eq(sk, sk2, LURK_NOISE_KEY_LEN);
	assert_ok(lurk_static_key_public(sk2, pk2));
	assert_mem_eq(pk, pk2, LURK_NOISE_KEY_LEN);
	/* No silent overwrite. */
	assert_err(lurk_keyfile_write(path, sk, 0, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "exists");
	assert_ok(lurk_keyfile_write(path, sk, 1, &why));
	lurk_wipe(sk, sizeof(sk));
	lurk_wipe(sk2, sizeof(sk2));
}

static void
test_read_refusals(void)
{
	uint8_t sk[LURK_NOISE_KEY_LEN];
	char path[512], big[5000];
	const char *why = NULL;
	const char *good = "# comment\n\nAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n";

	path_of(path, sizeof(path), "k2");
	write_text(path, good, 0600);
	assert_ok(lurk_keyfile_read(path, sk, &why));
	assert_num_eq(sk[0], 1);
	assert_num_eq(sk[31], 32);

	write_text(path, good, 0644);
	assert_err(lurk_keyfile_read(path, sk, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "group or others");
	assert_num_eq(sk[0], 0);

	write_text(path, "", 0600);
	assert_err(lurk_keyfile_read(path, sk, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "no key");

	write_text(path,
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n"
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n",
		0600);
	assert_err(lurk_keyfile_read(path, sk, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "more than one");

	write_text(path, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA= trailing\n", 0600);
	assert_err(lurk_keyfile_read(path, sk, &why), LURK_ERR_KEY_FILE);

	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_text(path, big, 0600);
	assert_err(lurk_keyfile_read(path, sk, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "too large");

	path_of(path, sizeof(path), "missing");
	assert_err(lurk_keyfile_read(path, sk, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "no such file");

	/* A directory, and a symlink (O_NOFOLLOW), are not key files. */
	assert_err(lurk_keyfile_read(dir, sk, &why), LURK_ERR_KEY_FILE);
	char link[512], target[512];
	path_of(target, sizeof(target), "k2");
	path_of(link, sizeof(link), "link");
	assert_num_eq(symlink(target, link), 0);
	assert_err(lurk_keyfile_read(link, sk, &why), LURK_ERR_KEY_FILE);
}

/*
 * A file of LURK_KEYFILE_MAX bytes is a key file; one byte more is not. A
 * key line after LURK_KEYFILE_MAX - 46 bytes of comment makes the file
 * exactly that size.
 */
static void
sized_key_file(const char *path, size_t size)
{
	const char *key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n";
	char text[LURK_KEYFILE_MAX + 2];
	size_t pad = size - strlen(key);

	assert_num_cmp(size, <, sizeof(text));
	memset(text, '#', pad - 1);
	text[pad - 1] = '\n';
	memcpy(text + pad, key, strlen(key) + 1);
	write_text(path, text, 0600);
}

static void
test_size_limit(void)
{
	uint8_t sk[LURK_NOISE_KEY_LEN], locked[LURK_LOCKED_LEN];
	char path[512];
	const char *why = NULL;
	struct stat st;
	int is_locked = -1;

	path_of(path, sizeof(path), "sized");
	sized_key_file(path, LURK_KEYFILE_MAX);
	assert_num_eq(stat(path, &st), 0);
	assert_num_eq(st.st_size, LURK_KEYFILE_MAX);
	assert_ok(lurk_keyfile_read(path, sk, &why));
	assert_num_eq(sk[0], 1);
	assert_num_eq(sk[31], 32);
	assert_ok(lurk_keyfile_load(path, sk, locked, &is_locked, &why));
	assert_num_eq(is_locked, 0);
	assert_num_eq(sk[31], 32);

	sized_key_file(path, LURK_KEYFILE_MAX + 1);
	assert_err(lurk_keyfile_read(path, sk, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "too large");
	assert_num_eq(sk[0], 0);
	assert_err(lurk_keyfile_load(path, sk, locked, &is_locked, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "too large");
	lurk_wipe(sk, sizeof(sk));
}

static void
test_fingerprint(void)
{
	uint8_t pk[LURK_NOISE_KEY_LEN] = {9};
	char a[LURK_STATIC_KEY_FP_LEN + 1], b[LURK_STATIC_KEY_FP_LEN + 1];

	lurk_static_key_fingerprint(pk, a);
	assert_num_eq(strlen(a), LURK_STATIC_KEY_FP_LEN);
	pk[31] ^= 1;
	lurk_static_key_fingerprint(pk, b);
	assert_true(strcmp(a, b) != 0);
}

/* PIN-protected key files: sealed under Argon2id, opened only by the right PIN. */
static void
test_locked(void)
{
	uint8_t sk[LURK_NOISE_KEY_LEN], pk[LURK_NOISE_KEY_LEN], sk2[LURK_NOISE_KEY_LEN],
		zero[LURK_NOISE_KEY_LEN] = {0};
	uint8_t locked[LURK_LOCKED_LEN], locked2[LURK_LOCKED_LEN];
	char path[512], plain[512];
	const char *why = NULL;
	struct stat st;
	int is_locked = -1;

	path_of(path, sizeof(path), "locked");
	path_of(plain, sizeof(plain), "plain");
	assert_ok(lurk_static_key_generate(sk, pk));
	assert_ok(lurk_static_key_lock(sk, "1234", 4, locked));
	assert_ok(lurk_keyfile_write_locked(path, locked, 0, &why));
	assert_num_eq(stat(path, &st), 0);
	assert_num_eq(st.st_mode & 0777, 0600);
	/* The plain reader names the problem instead of failing vaguely. */
	assert_err(lurk_keyfile_read(path, sk2, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "PIN-protected");
	assert_ok(lurk_keyfile_load(path, sk2, locked2, &is_locked, &why));
	assert_num_eq(is_locked, 1);
	assert_mem_eq(locked, locked2, LURK_LOCKED_LEN);
	assert_mem_eq(sk2, zero, LURK_NOISE_KEY_LEN);
	assert_err(lurk_static_key_unlock(locked2, "1235", 4, sk2), LURK_ERR_DECRYPT);
	assert_mem_eq(sk2, zero, LURK_NOISE_KEY_LEN);
	assert_err(lurk_static_key_unlock(locked2, "123", 3, sk2), LURK_ERR_DECRYPT);
	assert_ok(lurk_static_key_unlock(locked2, "1234", 4, sk2));
	assert_mem_eq(sk, sk2, LURK_NOISE_KEY_LEN);
	/* A flipped byte of the sealed key is refused, never a wrong key. */
	locked2[LURK_LOCKED_LEN - 1] ^= 1;
	assert_err(lurk_static_key_unlock(locked2, "1234", 4, sk2), LURK_ERR_DECRYPT);
	/* The loader reads plain files too. */
	assert_ok(lurk_keyfile_write(plain, sk, 0, &why));
	assert_ok(lurk_keyfile_load(plain, sk2, locked2, &is_locked, &why));
	assert_num_eq(is_locked, 0);
	assert_mem_eq(sk, sk2, LURK_NOISE_KEY_LEN);
	lurk_wipe(sk, sizeof(sk));
	lurk_wipe(sk2, sizeof(sk2));
}

/*
 * A PIN-protected file is read as strictly as a plain one: comments and
 * blank lines around the key line, nothing else after it.
 */
static void
test_locked_strict(void)
{
	static const char *tails[] = {
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n", /* a plain key as well */
		NULL,                                             /* the sealed line again */
		"junk\n",
		"# a comment\nmore junk\n",
	};
	uint8_t sk[LURK_NOISE_KEY_LEN], pk[LURK_NOISE_KEY_LEN], locked[LURK_LOCKED_LEN],
		locked2[LURK_LOCKED_LEN], zero[LURK_LOCKED_LEN] = {0};
	char path[512], line[256], text[1024];
	const char *why = NULL;
	int is_locked = -1;

	path_of(path, sizeof(path), "locked-strict");
	assert_ok(lurk_static_key_generate(sk, pk));
	assert_ok(lurk_static_key_lock(sk, "1234", 4, locked));
	memcpy(line, LURK_LOCKED_TAG " ", sizeof(LURK_LOCKED_TAG));
	sodium_bin2base64(line + sizeof(LURK_LOCKED_TAG), sizeof(line) - sizeof(LURK_LOCKED_TAG),
		locked, LURK_LOCKED_LEN, sodium_base64_VARIANT_ORIGINAL);

	/* Comments, blank lines, spaces and CRLF around it, as a plain file may have. */
	snprintf(text, sizeof(text), "# sealed\n\n  %s \r\n\n# end\n", line);
	write_text(path, text, 0600);
	assert_ok(lurk_keyfile_load(path, sk, locked2, &is_locked, &why));
	assert_num_eq(is_locked, 1);
	assert_mem_eq(locked, locked2, LURK_LOCKED_LEN);

	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(text, sizeof(text), "%s\n%s%s", line, tails[i] ? tails[i] : line,
			tails[i] ? "" : "\n");
		write_text(path, text, 0600);
		is_locked = -1;
		memset(locked2, 0xaa, sizeof(locked2));
		why = NULL;
		if (lurk_keyfile_load(path, sk, locked2, &is_locked, &why) != LURK_ERR_KEY_FILE)
			lurk_test_fail(
				__FILE__, __LINE__, "tail %zu after the sealed line accepted", i);
		assert_num_eq(is_locked, 0);
		assert_str_contains(why, "more than one key line");
		assert_mem_eq(locked2, zero, LURK_LOCKED_LEN); /* nothing half-read is left */
	}
	/* Nor a NUL byte after it (what follows it would escape any text tool). */
	snprintf(text, sizeof(text), "%s\n#", line);
	{
		int fd = open(path, O_WRONLY | O_TRUNC);
		size_t n = strlen(text) + 1;
		assert_true(fd >= 0);
		assert_num_eq(write(fd, text, n), (long long)n);
		assert_num_eq(write(fd, "junk\n", 5), 5);
		close(fd);
	}
	assert_err(lurk_keyfile_load(path, sk, locked2, &is_locked, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "NUL");
	lurk_wipe(sk, sizeof(sk));
}

int
main(int argc, char **argv)
{
	int r;

	if (lurk_mem_init() != 0 || mkdtemp(dir) == NULL)
		return 99;
	lurk_test(test_b64, "/keyfile/b64");
	lurk_test(test_write_read, "/keyfile/write-read");
	lurk_test(test_read_refusals, "/keyfile/read-refusals");
	lurk_test(test_fingerprint, "/keyfile/fingerprint");
	lurk_test(test_locked, "/keyfile/pin-protected");
	lurk_test(test_size_limit, "/keyfile/size-limit");
	lurk_test(test_locked_strict, "/keyfile/pin-protected-strict");
	r = lurk_test_run(argc, argv);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		r = 99;
	return r;
}
