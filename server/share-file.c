/*
 * Key share files (share-file.h, docs/split-keys.md "Share files"). The
 * PEM armour and the body are parsed here, not by OpenSSL's PEM reader, so
 * that every buffer the secret passes through is sodium_malloc'd and wiped,
 * and every line is bounded.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "err.h"
#include "keyline.h"
#include "mem.h"
#include "rsa-split.h"
#include "share-file.h"

#define PEM_BEGIN "-----BEGIN " LURK_SHARE_PEM_LABEL "-----"
#define PEM_END   "-----END " LURK_SHARE_PEM_LABEL "-----"
#define PEM_LINE  64u
/* A body line: the longest is the spki or share line, in base64. */
#define B64_MAX(n)    (((n) + 2) / 3 * 4)
#define BODY_LINE_MAX (6 + B64_MAX(LURK_SHARE_SPKI_MAX))

/* RFC 8410 SubjectPublicKeyInfo of an Ed25519 key, before its 32 bytes. */
static const uint8_t ed25519_spki_prefix[12] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

struct lurk_share *
lurk_share_new(enum lurk_share_type type, size_t secret_len)
{
	struct lurk_share *s;

	if (secret_len == 0 || secret_len > LURK_SHARE_SECRET_MAX)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->secret = sodium_malloc(secret_len)) == NULL) {
		free(s);
		return NULL;
	}
	sodium_memzero(s->secret, secret_len);
	s->type = type;
	s->secret_len = secret_len;
	return s;
}

void
lurk_share_free(struct lurk_share *s)
{
	if (s == NULL)
		return;
	sodium_free(s->secret); /* wipes */
	BN_free(s->n);
	BN_free(s->e);
	lurk_freezero(s, sizeof(*s));
}

/* Canonical base64 (with padding) of exactly want bytes, or 1..want if at_most. */
static int
b64_value(const char *v, size_t vlen, uint8_t *out, size_t want, int at_most, size_t *got)
{
	const char *b64_end = NULL;
	size_t n = 0;

	if (vlen > B64_MAX(want) ||
		sodium_base642bin(out, want, v, vlen, NULL, &n, &b64_end,
			sodium_base64_VARIANT_ORIGINAL) != 0 ||
		b64_end != v + vlen || n == 0 || (!at_most && n != want))
		return 0;
	*got = n;
	return 1;
}

static int
ed25519_spki(struct lurk_share *s, const char **why)
{
	if (s->spki_len != sizeof(ed25519_spki_prefix) + LURK_FROST_POINT_LEN ||
		memcmp(s->spki, ed25519_spki_prefix, sizeof(ed25519_spki_prefix)) != 0) {
		*why = "the spki line is not an Ed25519 public key";
		return LURK_ERR_BAD_FORMAT;
	}
	memcpy(s->pk, s->spki + sizeof(ed25519_spki_prefix), LURK_FROST_POINT_LEN);
	if (lurk_frost_point_check(s->pk) != 0) {
		*why = "the Ed25519 public key is not a valid point";
		return LURK_ERR_BAD_FORMAT;
	}
	return 0;
}

static int
rsa_spki(struct lurk_share *s, const char **why)
{
	const unsigned char *p = s->spki;
	unsigned char *der = NULL;
	EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)s->spki_len);
	int der_len, bits, rc = LURK_ERR_BAD_FORMAT;

	*why = "the spki line is not an RSA public key";
	if (pkey == NULL || p != s->spki + s->spki_len || !EVP_PKEY_is_a(pkey, "RSA"))
		goto out;
	/* DER only: what OpenSSL writes back must be the line's bytes. */
	der_len = i2d_PUBKEY(pkey, &der);
	if (der_len <= 0 || (size_t)der_len != s->spki_len ||
		memcmp(der, s->spki, s->spki_len) != 0)
		goto out;
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &s->n) ||
		!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &s->e))
		goto out;
	bits = BN_num_bits(s->n);
	if (bits < LURK_RSA_SPLIT_MIN_BITS || bits > LURK_RSA_SPLIT_MAX_BITS) {
		*why = "the RSA modulus is not 2048 to 8192 bits";
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	return rc;
}

/* The secret share's checks, once the public lines are known. */
static int
check_secret(struct lurk_share *s, const char **why)
{
	uint8_t PKi[LURK_FROST_POINT_LEN];
	int rc = LURK_ERR_BAD_FORMAT;

	if (s->type == LURK_SHARE_RSA) {
		/* Big-endian without leading zeros, 0 < d_i < 2^(|n| + 128). */
		size_t bits = (s->secret_len - 1) * 8;

		for (unsigned top = s->secret[0]; top != 0; top >>= 1)
			bits++;
		if (s->secret[0] == 0 || bits > (size_t)BN_num_bits(s->n) + LURK_RSA_SPLIT_SLACK) {
			*why = "the RSA share is not a positive number of at most |n| + 128 bits";
			return rc;
		}
		return 0;
	}
	if (lurk_frost_public_shares_check(s->pk1, s->pk2, s->pk) != 0) {
		*why = "pk1 and pk2 are not valid points adding up to the public key";
		return rc;
	}
	if (lurk_frost_scalar_check(s->secret) != 0) {
		*why = "the share is not a canonical scalar (below L)";
		return rc;
	}
	if (lurk_frost_public_share(s->secret, PKi) != 0 ||
		sodium_memcmp(PKi, s->index == 1 ? s->pk1 : s->pk2, sizeof(PKi)) != 0) {
		*why = "the secret share does not match its public share";
		rc = LURK_ERR_CRYPTO;
		return rc;
	}
	return 0;
}

/*
 * The decoded body: the lines of share-file.h, each once, in order, in
 * keyline.h's grammar (a share's values hold no space).
 */
static int
parse_body(const uint8_t *body, size_t blen, struct lurk_share **out, const char **why)
{
	const char *p = (const char *)body, *end = p + blen, *line, *v;
	size_t len, vlen, got;
	enum lurk_share_type type;
	struct lurk_share *s = NULL;
	uint8_t *secret = NULL;
	unsigned index;
	int rc = LURK_ERR_BAD_FORMAT;

	if (!lurk_keyline_next(&p, end, &line, &len) || len != strlen(LURK_SHARE_MAGIC) ||
		memcmp(line, LURK_SHARE_MAGIC, len) != 0) {
		*why = "the first line must be '" LURK_SHARE_MAGIC "'";
		return rc;
	}
	if (!lurk_keyline_next(&p, end, &line, &len) ||
		!lurk_keyline_field(line, len, "type", 7, 0, &v, &vlen) ||
		!((vlen == 7 && memcmp(v, "ed25519", 7) == 0) ||
			(vlen == 3 && memcmp(v, "rsa", 3) == 0))) {
		*why = "the second line must be 'type ed25519' or 'type rsa'";
		return rc;
	}
	type = vlen == 7 ? LURK_SHARE_ED25519 : LURK_SHARE_RSA;
	if (!lurk_keyline_next(&p, end, &line, &len) ||
		!lurk_keyline_field(line, len, "index", 1, 0, &v, &vlen) ||
		(v[0] != '1' && v[0] != '2')) {
		*why = "the third line must be 'index 1' or 'index 2'";
		return rc;
	}
	index = (unsigned)(v[0] - '0');
	if ((secret = sodium_malloc(LURK_SHARE_SECRET_MAX)) == NULL) {
		*why = "out of memory";
		return LURK_ERR_ALLOC;
	}
	/* s is made once the secret's length is known; the public lines go on the stack first. */
	{
		struct lurk_share pub = {.type = type, .index = index};

		if (!lurk_keyline_next(&p, end, &line, &len) ||
			!lurk_keyline_field(
				line, len, "spki", B64_MAX(LURK_SHARE_SPKI_MAX), 0, &v, &vlen) ||
			!b64_value(v, vlen, pub.spki, sizeof(pub.spki), 1, &pub.spki_len)) {
			*why = "the fourth line must be 'spki BASE64' (a DER public key, at most "
			       "1100 "
			       "bytes)";
			goto out;
		}
		if (type == LURK_SHARE_ED25519) {
			if (!lurk_keyline_next(&p, end, &line, &len) ||
				!lurk_keyline_field(line, len, "pk1", B64_MAX(32), 0, &v, &vlen) ||
				!b64_value(v, vlen, pub.pk1, 32, 0, &got)) {
				*why = "the fifth line must be 'pk1 BASE64' (32 bytes)";
				goto out;
			}
			if (!lurk_keyline_next(&p, end, &line, &len) ||
				!lurk_keyline_field(line, len, "pk2", B64_MAX(32), 0, &v, &vlen) ||
				!b64_value(v, vlen, pub.pk2, 32, 0, &got)) {
				*why = "the sixth line must be 'pk2 BASE64' (32 bytes)";
				goto out;
			}
		}
		if (!lurk_keyline_next(&p, end, &line, &len) ||
			!lurk_keyline_field(
				line, len, "share", B64_MAX(LURK_SHARE_SECRET_MAX), 0, &v, &vlen) ||
			!b64_value(v, vlen, secret,
				type == LURK_SHARE_RSA ? LURK_SHARE_SECRET_MAX : 32,
				type == LURK_SHARE_RSA, &got)) {
			*why = type == LURK_SHARE_RSA ? "the last line must be 'share BASE64' (at "
							"most 1040 bytes)"
						      : "the last line must be 'share BASE64' (32 "
							"bytes)";
			goto out;
		}
		if (p != end) {
			*why = "nothing may follow the share line";
			goto out;
		}
		if ((s = lurk_share_new(type, got)) == NULL) {
			*why = "out of memory";
			rc = LURK_ERR_ALLOC;
			goto out;
		}
		s->index = index;
		memcpy(s->spki, pub.spki, pub.spki_len);
		s->spki_len = pub.spki_len;
		memcpy(s->pk1, pub.pk1, sizeof(s->pk1));
		memcpy(s->pk2, pub.pk2, sizeof(s->pk2));
		memcpy(s->secret, secret, got);
	}
	if ((rc = type == LURK_SHARE_ED25519 ? ed25519_spki(s, why) : rsa_spki(s, why)) != 0 ||
		(rc = check_secret(s, why)) != 0)
		goto out;
	*out = s;
	s = NULL;
	rc = 0;
out:
	sodium_free(secret);
	lurk_share_free(s);
	return rc;
}

int
lurk_share_parse(const uint8_t *buf, size_t len, struct lurk_share **out, const char **why)
{
	const char *p = (const char *)buf, *end, *line;
	char *b64 = NULL;
	uint8_t *body = NULL;
	size_t llen, b64_len = 0, blen = 0;
	const char *b64_end = NULL;
	int rc = LURK_ERR_BAD_FORMAT, ended = 0;

	if (out == NULL || why == NULL)
		return LURK_ERR_INVALID_ARG;
	*out = NULL;
	*why = NULL;
	if (buf == NULL || len == 0 || len > LURK_SHARE_FILE_MAX) {
		*why = "empty, or larger than 16384 bytes";
		return rc;
	}
	end = p + len;
	if (!lurk_keyline_next(&p, end, &line, &llen) || llen != strlen(PEM_BEGIN) ||
		memcmp(line, PEM_BEGIN, llen) != 0) {
		*why = "the first line must be '" PEM_BEGIN "'";
		return rc;
	}
	b64 = sodium_malloc(len);
	body = sodium_malloc(LURK_SHARE_BODY_MAX);
	if (b64 == NULL || body == NULL) {
		*why = "out of memory";
		rc = LURK_ERR_ALLOC;
		goto out;
	}
	while (lurk_keyline_next(&p, end, &line, &llen)) {
		if (llen == strlen(PEM_END) && memcmp(line, PEM_END, llen) == 0) {
			ended = 1;
			break;
		}
		if (llen == 0 || llen > PEM_LINE) {
			*why = "a base64 line is empty or longer than 64 characters";
			goto out;
		}
		memcpy(b64 + b64_len, line, llen);
		b64_len += llen;
	}
	if (!ended) {
		*why = "truncated: no '" PEM_END "' line";
		goto out;
	}
	if (p != end) {
		*why = "nothing may follow the END line";
		goto out;
	}
	if (b64_len == 0 || b64_len > B64_MAX(LURK_SHARE_BODY_MAX) ||
		sodium_base642bin(body, LURK_SHARE_BODY_MAX, b64, b64_len, NULL, &blen, &b64_end,
			sodium_base64_VARIANT_ORIGINAL) != 0 ||
		b64_end != b64 + b64_len) {
		*why = "the PEM body is not canonical base64 of at most 8192 bytes";
		goto out;
	}
	for (size_t i = 0; i < blen; i++) {
		if (body[i] != '\n' && (body[i] < 0x20 || body[i] > 0x7e)) {
			*why = "the body holds a byte that is not printable ASCII";
			goto out;
		}
	}
	/* Every body line is bounded, the longest field included. */
	for (size_t i = 0, start = 0; i < blen; i++) {
		if (body[i] == '\n') {
			if (i - start > BODY_LINE_MAX) {
				*why = "a body line is longer than its longest allowed value";
				goto out;
			}
			start = i + 1;
		}
	}
	rc = parse_body(body, blen, out, why);
out:
	if (b64 != NULL)
		sodium_free(b64);
	if (body != NULL)
		sodium_free(body);
	return rc;
}

int
lurk_share_read(const char *path, struct lurk_share **out, const char **why)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t have = 0;
	int fd, rc = LURK_ERR_KEY_FILE;

	if (out == NULL || why == NULL || path == NULL)
		return LURK_ERR_INVALID_ARG;
	*out = NULL;
	*why = "cannot open the file";
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0)
		return rc;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		*why = "share file is accessible by group or others (chmod 600 it)";
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > (off_t)LURK_SHARE_FILE_MAX) {
		*why = "empty, or larger than 16384 bytes";
		goto out;
	}
	if ((buf = sodium_malloc(LURK_SHARE_FILE_MAX + 1)) == NULL) {
		*why = "out of memory";
		rc = LURK_ERR_ALLOC;
		goto out;
	}
	/* One byte more than allowed: a file that grew since fstat is caught. */
	while (have < LURK_SHARE_FILE_MAX + 1) {
		ssize_t n = read(fd, buf + have, LURK_SHARE_FILE_MAX + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = "read failed";
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > LURK_SHARE_FILE_MAX) {
		*why = "empty, or larger than 16384 bytes";
		goto out;
	}
	rc = lurk_share_parse(buf, have, out, why);
out:
	if (buf != NULL)
		sodium_free(buf);
	close(fd);
	return rc;
}

/* Appends "NAME BASE64(v)\n" at body + *off (cap bytes in all). */
static int
put_b64(char *body, size_t cap, size_t *off, const char *name, const uint8_t *v, size_t vlen)
{
	size_t n = strlen(name),
	       b = sodium_base64_ENCODED_LEN(vlen, sodium_base64_VARIANT_ORIGINAL);

	if (*off + n + 1 + b > cap)
		return -1;
	memcpy(body + *off, name, n);
	body[*off + n] = ' ';
	sodium_bin2base64(body + *off + n + 1, b, v, vlen, sodium_base64_VARIANT_ORIGINAL);
	/* b counts the NUL, which the LF replaces. */
	*off += n + 1 + b;
	body[*off - 1] = '\n';
	return 0;
}

/* The whole PEM text of s into pem (cap bytes); its length or -1. */
static int
encode(const struct lurk_share *s, char *pem, size_t cap, size_t *pem_len)
{
	char *body = sodium_malloc(LURK_SHARE_BODY_MAX + 1), *b64 = NULL;
	size_t off = 0, b64_len, pos = 0;
	int r = -1, len;

	if (body == NULL)
		return -1;
	len = snprintf(body, LURK_SHARE_BODY_MAX, "%s\ntype %s\nindex %u\n", LURK_SHARE_MAGIC,
		s->type == LURK_SHARE_ED25519 ? "ed25519" : "rsa", s->index);
	if (len <= 0 || (size_t)len >= LURK_SHARE_BODY_MAX)
		goto out;
	off = (size_t)len;
	if (put_b64(body, LURK_SHARE_BODY_MAX, &off, "spki", s->spki, s->spki_len) != 0 ||
		(s->type == LURK_SHARE_ED25519 &&
			(put_b64(body, LURK_SHARE_BODY_MAX, &off, "pk1", s->pk1, 32) != 0 ||
				put_b64(body, LURK_SHARE_BODY_MAX, &off, "pk2", s->pk2, 32) !=
					0)) ||
		put_b64(body, LURK_SHARE_BODY_MAX, &off, "share", s->secret, s->secret_len) != 0)
		goto out;
	b64_len = sodium_base64_ENCODED_LEN(off, sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = sodium_malloc(b64_len)) == NULL)
		goto out;
	sodium_bin2base64(b64, b64_len, (const uint8_t *)body, off, sodium_base64_VARIANT_ORIGINAL);
	b64_len--; /* the NUL */
	if (strlen(PEM_BEGIN) + strlen(PEM_END) + 2 + b64_len + b64_len / PEM_LINE + 1 > cap)
		goto out;
	pos = (size_t)snprintf(pem, cap, "%s\n", PEM_BEGIN);
	for (size_t i = 0; i < b64_len; i += PEM_LINE) {
		size_t n = b64_len - i < PEM_LINE ? b64_len - i : PEM_LINE;
		memcpy(pem + pos, b64 + i, n);
		pos += n;
		pem[pos++] = '\n';
	}
	memcpy(pem + pos, PEM_END "\n", strlen(PEM_END) + 1);
	pos += strlen(PEM_END) + 1;
	*pem_len = pos;
	r = 0;
out:
	sodium_free(body);
	if (b64 != NULL)
		sodium_free(b64);
	return r;
}

int
lurk_share_write(const char *path, const struct lurk_share *s, int overwrite, const char **why)
{
	char tmp[PATH_MAX], *pem = NULL;
	size_t pem_len = 0, off = 0;
	int fd = -1, made = 0, rc = LURK_ERR_KEY_FILE, n;
	mode_t old_umask;

	if (why == NULL || path == NULL || s == NULL || (s->index != 1 && s->index != 2) ||
		s->spki_len == 0 || s->spki_len > sizeof(s->spki))
		return LURK_ERR_INVALID_ARG;
	*why = NULL;
	n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		*why = "path too long";
		return rc;
	}
	if (!overwrite && access(path, F_OK) == 0) {
		*why = "file exists (use -f to replace it)";
		return rc;
	}
	if ((pem = sodium_malloc(LURK_SHARE_FILE_MAX)) == NULL ||
		encode(s, pem, LURK_SHARE_FILE_MAX, &pem_len) != 0) {
		*why = "cannot encode the share";
		goto out;
	}
	old_umask = umask(077);
	fd = mkostemp(tmp, O_CLOEXEC);
	umask(old_umask);
	if (fd < 0) {
		*why = "cannot create a temporary file beside it";
		goto out;
	}
	made = 1;
	if (fchmod(fd, 0600) != 0) {
		*why = "cannot set file mode 0600";
		goto out;
	}
	while (off < pem_len) {
		ssize_t w = write(fd, pem + off, pem_len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*why = "write failed";
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		*why = "fsync failed";
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		*why = "close failed";
		goto out;
	}
	fd = -1;
	/* link() never replaces: a file made since the check above is kept. */
	if (overwrite ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
		*why = errno == EEXIST ? "file exists (use -f to replace it)"
				       : "cannot move the temporary file into place";
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	/* Renamed, it is gone; linked, or on failure, it goes. */
	if (made)
		(void)unlink(tmp);
	if (pem != NULL)
		sodium_free(pem);
	return rc;
}
