#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "keyfile.h"
#include "mem.h"

static void
set_why(const char **why, const char *s)
{
	if (why != NULL)
		*why = s;
}

void
lurk_static_key_b64_encode(
	const uint8_t key[LURK_NOISE_KEY_LEN], char out[LURK_STATIC_KEY_B64_LEN + 1])
{
	sodium_bin2base64(out, LURK_STATIC_KEY_B64_LEN + 1, key, LURK_NOISE_KEY_LEN,
		sodium_base64_VARIANT_ORIGINAL);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * 1 if any of the n bytes is over 0x7f. libsodium 1.0.18's base64 decoder
 * reads its input as (signed) char and takes every such byte for a base64
 * digit, so a key line holding one decoded to some other key instead of being
 * refused. An OR over all bytes, branch-free: the text is key material.
 */
static int
has_high_byte(const char *p, size_t n)
{
	unsigned char acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= (unsigned char)p[i];
	return acc >> 7;
}

int
lurk_static_key_b64_decode(const char *text, uint8_t key[LURK_NOISE_KEY_LEN])
{
	size_t start = 0, end, bin_len = 0;
	const char *last = NULL;

	memset(key, 0, LURK_NOISE_KEY_LEN);
	if (text == NULL)
		return LURK_ERR_INVALID_ARG;
	end = strlen(text);
	while (start < end && is_space(text[start]))
		start++;
	while (end > start && is_space(text[end - 1]))
		end--;
	if (end - start != LURK_STATIC_KEY_B64_LEN)
		return LURK_ERR_BAD_FORMAT;
	/* libsodium's decoder runs in constant time over the key material. */
	if (has_high_byte(text + start, LURK_STATIC_KEY_B64_LEN) ||
		sodium_base642bin(key, LURK_NOISE_KEY_LEN, text + start, LURK_STATIC_KEY_B64_LEN,
			NULL, &bin_len, &last, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		bin_len != LURK_NOISE_KEY_LEN || last != text + end) {
		sodium_memzero(key, LURK_NOISE_KEY_LEN);
		return LURK_ERR_BAD_FORMAT;
	}
	return 0;
}

int
lurk_static_key_public(const uint8_t sk[LURK_NOISE_KEY_LEN], uint8_t pk[LURK_NOISE_KEY_LEN])
{
	if (crypto_scalarmult_base(pk, sk) != 0) {
		memset(pk, 0, LURK_NOISE_KEY_LEN);
		return LURK_ERR_DH;
	}
	return 0;
}

void
lurk_static_key_fingerprint(
	const uint8_t pk[LURK_NOISE_KEY_LEN], char out[LURK_STATIC_KEY_FP_LEN + 1])
{
	uint8_t h[LURK_STATIC_KEY_FP_LEN / 2];

	crypto_generichash(h, sizeof(h), pk, LURK_NOISE_KEY_LEN, NULL, 0);
	sodium_bin2hex(out, LURK_STATIC_KEY_FP_LEN + 1, h, sizeof(h));
}

int
lurk_static_key_generate(uint8_t sk[LURK_NOISE_KEY_LEN], uint8_t pk[LURK_NOISE_KEY_LEN])
{
	if (crypto_box_keypair(pk, sk) != 0) {
		sodium_memzero(sk, LURK_NOISE_KEY_LEN);
		return LURK_ERR_CRYPTO;
	}
	return 0;
}

/* Writes one line (a key, plain or sealed) to a new 0600 file. */
static int
write_key_line(const char *path, char *line, size_t len, int overwrite, const char **why)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	int fd = -1, r = LURK_ERR_KEY_FILE;
	size_t off = 0;
	mode_t old_umask;

	flags |= overwrite ? O_TRUNC : O_EXCL;
	old_umask = umask(077);
	fd = open(path, flags, 0600);
	umask(old_umask);
	if (fd < 0) {
		set_why(why, errno == EEXIST ? "file exists (use -f to replace it)"
					     : "cannot create file");
		goto out;
	}
	/* An existing file being replaced must end up private too. */
	if (fchmod(fd, 0600) != 0) {
		set_why(why, "cannot set file mode 0600");
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			set_why(why, "write failed");
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		set_why(why, "fsync failed");
		goto out;
	}
	r = 0;
out:
	sodium_memzero(line, len);
	if (fd >= 0 && close(fd) != 0 && r == 0) {
		set_why(why, "close failed");
		r = LURK_ERR_KEY_FILE;
	}
	if (r != 0 && fd >= 0)
		(void)unlink(path);
	return r;
}

int
lurk_keyfile_write(
	const char *path, const uint8_t sk[LURK_NOISE_KEY_LEN], int overwrite, const char **why)
{
	char line[LURK_STATIC_KEY_B64_LEN + 2];

	lurk_static_key_b64_encode(sk, line);
	line[LURK_STATIC_KEY_B64_LEN] = '\n';
	line[LURK_STATIC_KEY_B64_LEN + 1] = '\0';
	return write_key_line(path, line, LURK_STATIC_KEY_B64_LEN + 1, overwrite, why);
}

int
lurk_keyfile_write_locked(
	const char *path, const uint8_t locked[LURK_LOCKED_LEN], int overwrite, const char **why)
{
	char line[sizeof(LURK_LOCKED_TAG) +
		  sodium_base64_ENCODED_LEN(LURK_LOCKED_LEN, sodium_base64_VARIANT_ORIGINAL) + 1];
	size_t n = sizeof(LURK_LOCKED_TAG);

	memcpy(line, LURK_LOCKED_TAG " ", n);
	sodium_bin2base64(line + n, sizeof(line) - n, locked, LURK_LOCKED_LEN,
		sodium_base64_VARIANT_ORIGINAL);
	n += strlen(line + n);
	line[n++] = '\n';
	return write_key_line(path, line, n, overwrite, why);
}

/*
 * The next line of text[0..len) from *pos that holds something (neither
 * blank nor a comment), spaces trimmed: [*a, *b). 0 when there is none.
 */
static int
next_line(const char *text, size_t len, size_t *pos, size_t *a, size_t *b)
{
	while (*pos < len) {
		size_t eol = *pos;

		while (eol < len && text[eol] != '\n')
			eol++;
		*a = *pos;
		*b = eol;
		*pos = eol + 1;
		while (*a < *b && is_space(text[*a]))
			(*a)++;
		while (*b > *a && is_space(text[*b - 1]))
			(*b)--;
		if (*a < *b && text[*a] != '#')
			return 1;
	}
	return 0;
}

/* 1 if the n bytes at p are a PIN-protected key line: the tag, alone or then a space. */
static int
is_locked_line(const char *p, size_t n)
{
	size_t tag = sizeof(LURK_LOCKED_TAG) - 1;

	return n >= tag && memcmp(p, LURK_LOCKED_TAG, tag) == 0 && (n == tag || p[tag] == ' ');
}

int
lurk_keyfile_parse(const char *text, size_t len, uint8_t sk[LURK_NOISE_KEY_LEN], const char **why)
{
	char line[LURK_STATIC_KEY_B64_LEN + 1];
	size_t pos = 0, a, b;
	int r = LURK_ERR_KEY_FILE;

	memset(sk, 0, LURK_NOISE_KEY_LEN);
	if (!next_line(text, len, &pos, &a, &b)) {
		set_why(why, "no key in file");
		goto out;
	}
	if (is_locked_line(text + a, b - a)) {
		set_why(why, "key is PIN-protected");
		goto out;
	}
	if (b - a != LURK_STATIC_KEY_B64_LEN || memchr(text + a, '\0', b - a) != NULL) {
		set_why(why, "key line is not 44 base64 characters");
		goto out;
	}
	memcpy(line, text + a, LURK_STATIC_KEY_B64_LEN);
	line[LURK_STATIC_KEY_B64_LEN] = '\0';
	if (lurk_static_key_b64_decode(line, sk) != 0) {
		set_why(why, "key line is not valid base64");
		goto out;
	}
	if (next_line(text, len, &pos, &a, &b)) {
		set_why(why, "more than one key line");
		goto out;
	}
	r = 0;
out:
	sodium_memzero(line, sizeof(line));
	if (r != 0)
		sodium_memzero(sk, LURK_NOISE_KEY_LEN);
	return r;
}

/* Reads a private key file (regular, owner-only, bounded) into text (NUL-terminated). */
static int
read_private_file(
	const char *path, char text[LURK_KEYFILE_MAX + 1], size_t *out_len, const char **why)
{
	struct stat st;
	size_t len = 0;
	int fd, r = LURK_ERR_KEY_FILE;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		set_why(why, errno == ENOENT ? "no such file" : "cannot open file");
		return LURK_ERR_KEY_FILE;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_why(why, "not a regular file");
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		set_why(why, "file is accessible by group or others (chmod 600 it)");
		goto out;
	}
	if (st.st_size > LURK_KEYFILE_MAX) {
		set_why(why, "file too large for a key file");
		goto out;
	}
	/*
	 * LURK_KEYFILE_MAX bytes are a key file: read up to one more (into the
	 * NUL's place), which means a file that grew past the limit since fstat.
	 */
	for (;;) {
		ssize_t n = read(fd, text + len, LURK_KEYFILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_why(why, "read failed");
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > LURK_KEYFILE_MAX) {
			set_why(why, "file too large for a key file");
			goto out;
		}
	}
	text[len] = '\0';
	*out_len = len;
	r = 0;
out:
	close(fd);
	return r;
}

int
lurk_keyfile_read(const char *path, uint8_t sk[LURK_NOISE_KEY_LEN], const char **why)
{
	char text[LURK_KEYFILE_MAX + 1];
	size_t len = 0;
	int r;

	memset(sk, 0, LURK_NOISE_KEY_LEN);
	if ((r = read_private_file(path, text, &len, why)) == 0)
		r = lurk_keyfile_parse(text, len, sk, why);
	sodium_memzero(text, sizeof(text));
	return r;
}

/*
 * Either form, by the file's first key line. A PIN-protected line is held to
 * a plain key's rules: comments and blank lines around it, no other line;
 * and its file holds no NUL byte anywhere (text tools would read it short).
 */
int
lurk_keyfile_load(const char *path, uint8_t sk[LURK_NOISE_KEY_LEN], uint8_t locked[LURK_LOCKED_LEN],
	int *is_locked, const char **why)
{
	char text[LURK_KEYFILE_MAX + 1];
	const char *l;
	size_t len = 0, got = 0, pos = 0, a, b, n;
	int r;

	memset(sk, 0, LURK_NOISE_KEY_LEN);
	*is_locked = 0;
	if ((r = read_private_file(path, text, &len, why)) != 0)
		goto out;
	if (!next_line(text, len, &pos, &a, &b) || !is_locked_line(text + a, b - a)) {
		r = lurk_keyfile_parse(text, len, sk, why);
		goto out;
	}
	l = text + a + sizeof(LURK_LOCKED_TAG) - 1;
	n = b - a - (sizeof(LURK_LOCKED_TAG) - 1);
	r = LURK_ERR_KEY_FILE;
	if (memchr(text, '\0', len) != NULL)
		set_why(why, "PIN-protected key file holds a NUL byte");
	else if (n == 0 || has_high_byte(l, n) ||
		 sodium_base642bin(locked, LURK_LOCKED_LEN, l, n, " \t", &got, NULL,
			 sodium_base64_VARIANT_ORIGINAL) != 0 ||
		 got != LURK_LOCKED_LEN)
		set_why(why, "PIN-protected key line is malformed");
	else if (next_line(text, len, &pos, &a, &b))
		set_why(why, "more than one key line");
	else
		r = 0;
	if (r != 0)
		sodium_memzero(locked, LURK_LOCKED_LEN);
	else
		*is_locked = 1;
out:
	sodium_memzero(text, sizeof(text));
	return r;
}

/* Key for the sealed box from the PIN (Argon2id, libsodium's interactive limits). */
static int
pin_key(uint8_t key[crypto_secretbox_KEYBYTES], const uint8_t salt[crypto_pwhash_SALTBYTES],
	const char *pin, size_t pin_len)
{
	return crypto_pwhash(key, crypto_secretbox_KEYBYTES, pin, pin_len, salt,
		       crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
		       crypto_pwhash_ALG_ARGON2ID13) == 0
		       ? 0
		       : LURK_ERR_ALLOC;
}

int
lurk_static_key_lock(const uint8_t sk[LURK_NOISE_KEY_LEN], const char *pin, size_t pin_len,
	uint8_t locked[LURK_LOCKED_LEN])
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t *salt = locked, *nonce = locked + crypto_pwhash_SALTBYTES;
	int r;

	randombytes_buf(locked, crypto_pwhash_SALTBYTES + crypto_secretbox_NONCEBYTES);
	if ((r = pin_key(key, salt, pin, pin_len)) == 0)
		crypto_secretbox_easy(
			nonce + crypto_secretbox_NONCEBYTES, sk, LURK_NOISE_KEY_LEN, nonce, key);
	sodium_memzero(key, sizeof(key));
	return r;
}

int
lurk_static_key_unlock(const uint8_t locked[LURK_LOCKED_LEN], const char *pin, size_t pin_len,
	uint8_t sk[LURK_NOISE_KEY_LEN])
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	const uint8_t *salt = locked, *nonce = locked + crypto_pwhash_SALTBYTES;
	int r;

	if ((r = pin_key(key, salt, pin, pin_len)) == 0 &&
		crypto_secretbox_open_easy(sk, nonce + crypto_secretbox_NONCEBYTES,
			LURK_NOISE_KEY_LEN + crypto_secretbox_MACBYTES, nonce, key) != 0)
		r = LURK_ERR_DECRYPT;
	sodium_memzero(key, sizeof(key));
	if (r != 0)
		sodium_memzero(sk, LURK_NOISE_KEY_LEN);
	return r;
}
