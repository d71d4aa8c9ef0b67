/*
 * The share file reader and writer (server/share-file.c) on cases the shell
 * test cannot easily make: a scalar equal to L with otherwise valid public
 * lines, a small-order public share, non-canonical base64, lines out of
 * order, RSA shares with a leading zero byte or too many bits, a buffer over
 * the size cap, and the writer's 0600 mode under umask 0, its refusal to
 * replace a file without overwrite and a round trip through both.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "err.h"
#include "frost.h"
#include "share-file.h"
#include "tap.h"

#define PEM_CAP (LURK_SHARE_FILE_MAX + 64)

/* L, little-endian: the group order, the first non-canonical scalar. */
static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
	0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
/* A point of order 8 (canonical encoding). */
static const uint8_t order8[32] = {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
	0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38,
	0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05};

static char pem[PEM_CAP];
static struct lurk_share *ed1, *ed2;

/* A fresh Ed25519 split, made as lurk-admin split makes it. */
static void
make_ed(void)
{
	uint8_t seed[32], s[32];

	if (ed1 != NULL)
		return;
	randombytes_buf(seed, sizeof(seed));
	ed1 = lurk_share_new(LURK_SHARE_ED25519, 32);
	ed2 = lurk_share_new(LURK_SHARE_ED25519, 32);
	assert_ptr_not_null(ed1);
	assert_ptr_not_null(ed2);
	assert_ok(lurk_frost_seed_to_scalar(seed, s, ed1->pk));
	assert_ok(lurk_frost_split(s, NULL, ed1->secret, ed2->secret));
	assert_ok(lurk_frost_public_share(ed1->secret, ed1->pk1));
	assert_ok(lurk_frost_public_share(ed2->secret, ed1->pk2));
	static const uint8_t prefix[12] = {
		0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
	memcpy(ed1->spki, prefix, 12);
	memcpy(ed1->spki + 12, ed1->pk, 32);
	ed1->spki_len = 44;
	ed1->index = 1;
	memcpy(ed2->spki, ed1->spki, 44);
	ed2->spki_len = 44;
	memcpy(ed2->pk, ed1->pk, 32);
	memcpy(ed2->pk1, ed1->pk1, 32);
	memcpy(ed2->pk2, ed1->pk2, 32);
	ed2->index = 2;
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(s, sizeof(s));
}

static void
b64(char *out, size_t cap, const uint8_t *v, size_t n)
{
	sodium_bin2base64(out, cap, v, n, sodium_base64_VARIANT_ORIGINAL);
}

/* The PEM armour around body, into pem. */
static size_t
wrap(const char *body)
{
	static char enc[PEM_CAP];
	size_t n, pos;

	b64(enc, sizeof(enc), (const uint8_t *)body, strlen(body));
	n = strlen(enc);
	pos = (size_t)snprintf(pem, sizeof(pem), "-----BEGIN LURK KEY SHARE-----\n");
	for (size_t i = 0; i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;
		memcpy(pem + pos, enc + i, k);
		pos += k;
		pem[pos++] = '\n';
	}
	pos += (size_t)snprintf(pem + pos, sizeof(pem) - pos, "-----END LURK KEY SHARE-----\n");
	return pos;
}

/* An Ed25519 body for share 1 with the given pk1 and share. */
static const char *
ed_body(const uint8_t *pk1, const uint8_t *share)
{
	static char body[1024];
	char spki[80], p1[48], p2[48], sh[48];

	b64(spki, sizeof(spki), ed1->spki, ed1->spki_len);
	b64(p1, sizeof(p1), pk1, 32);
	b64(p2, sizeof(p2), ed1->pk2, 32);
	b64(sh, sizeof(sh), share, 32);
	snprintf(body, sizeof(body),
		"lurk-key-share 1\ntype ed25519\nindex 1\nspki %s\npk1 %s\npk2 %s\nshare %s\n",
		spki, p1, p2, sh);
	return body;
}

/* parse must refuse pem (len bytes) with a reason containing want. */
static void
refused(size_t len, const char *want)
{
	struct lurk_share *s = NULL;
	const char *why = NULL;

	assert_num_cmp(lurk_share_parse((const uint8_t *)pem, len, &s, &why), <, 0);
	assert_ptr_null(s);
	assert_str_contains(why, want);
}

static void
test_ed_body_checks(void)
{
	struct lurk_share *s = NULL;
	const char *why = NULL;
	char body[1024];
	size_t len;

	make_ed();
	len = wrap(ed_body(ed1->pk1, ed1->secret));
	assert_ok(lurk_share_parse((const uint8_t *)pem, len, &s, &why));
	assert_mem_eq(s->secret, ed1->secret, 32);
	lurk_share_free(s);
	refused(wrap(ed_body(ed1->pk1, L)), "canonical scalar");
	refused(wrap(ed_body(order8, ed1->secret)), "pk1 and pk2");
	refused(wrap(ed_body(ed1->pk2, ed1->secret)), "pk1 and pk2");
	/* Lines out of order. */
	snprintf(body, sizeof(body), "%s", ed_body(ed1->pk1, ed1->secret));
	memcpy(strstr(body, "type ed25519\nindex 1"), "index 1\ntype ed25519", 20);
	refused(wrap(body), "second line");
	/* pk1 with non-zero padding bits: "...=" with the last character changed. */
	snprintf(body, sizeof(body), "%s", ed_body(ed1->pk1, ed1->secret));
	{
		char *p = strstr(body, "\npk2 ") - 2; /* the character before '=' */
		*p = *p == 'B' ? 'C' : 'B';
	}
	refused(wrap(body), "fifth line");
	/* Something after the END line. */
	len = wrap(ed_body(ed1->pk1, ed1->secret));
	memcpy(pem + len, "x\n", 3);
	refused(len + 2, "follow the END");
	/* Over the size cap, before anything else is looked at. */
	memset(pem, 'A', sizeof(pem));
	refused(LURK_SHARE_FILE_MAX + 1, "16384");
}

static void
test_rsa_body_checks(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	unsigned char *der = NULL;
	static char body[4096], spki[1024], sh[1024];
	uint8_t share[2048 / 8 + 18];
	struct lurk_share *s = NULL;
	const char *why = NULL;
	int n;

	assert_ptr_not_null(key);
	n = i2d_PUBKEY(key, &der);
	assert_num_cmp(n, >, 0);
	b64(spki, sizeof(spki), der, (size_t)n);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	/* |n| + 128 bits is the most a share may have. */
	memset(share, 0xff, sizeof(share));
	b64(sh, sizeof(sh), share, 2048 / 8 + 16);
	snprintf(body, sizeof(body), "lurk-key-share 1\ntype rsa\nindex 2\nspki %s\nshare %s\n",
		spki, sh);
	assert_ok(lurk_share_parse((const uint8_t *)pem, wrap(body), &s, &why));
	assert_num_eq(s->index, 2);
	assert_num_eq(BN_num_bits(s->n), 2048);
	lurk_share_free(s);
	b64(sh, sizeof(sh), share, 2048 / 8 + 17);
	snprintf(body, sizeof(body), "lurk-key-share 1\ntype rsa\nindex 2\nspki %s\nshare %s\n",
		spki, sh);
	refused(wrap(body), "at most |n| + 128 bits");
	share[0] = 0;
	b64(sh, sizeof(sh), share, 2048 / 8);
	snprintf(body, sizeof(body), "lurk-key-share 1\ntype rsa\nindex 2\nspki %s\nshare %s\n",
		spki, sh);
	refused(wrap(body), "positive number");
	assert_ptr_null(lurk_share_new(LURK_SHARE_RSA, LURK_SHARE_SECRET_MAX + 1));
}

static void
test_write_read(void)
{
	char dir[] = "/tmp/lurk-share.XXXXXX", path[64];
	struct lurk_share *s = NULL;
	const char *why = NULL;
	struct stat st;
	mode_t old;

	make_ed();
	assert_ptr_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/share1", dir);
	old = umask(0);
	assert_ok(lurk_share_write(path, ed1, 0, &why));
	umask(old);
	assert_num_eq(stat(path, &st), 0);
	assert_num_eq(st.st_mode & 0777, 0600);
	assert_err(lurk_share_write(path, ed2, 0, &why), LURK_ERR_KEY_FILE);
	assert_str_contains(why, "file exists");
	assert_ok(lurk_share_read(path, &s, &why));
	assert_num_eq(s->index, 1);
	assert_mem_eq(s->secret, ed1->secret, 32);
	assert_mem_eq(s->pk2, ed1->pk2, 32);
	lurk_share_free(s);
	assert_ok(lurk_share_write(path, ed2, 1, &why));
	assert_ok(lurk_share_read(path, &s, &why));
	assert_num_eq(s->index, 2);
	assert_mem_eq(s->secret, ed2->secret, 32);
	lurk_share_free(s);
	assert_num_eq(unlink(path), 0);
	/* Nothing but the file was left in the directory: rmdir succeeds. */
	assert_num_eq(rmdir(dir), 0);
}

int
main(int argc, char **argv)
{
	int rc;

	if (sodium_init() < 0)
		return 1;
	lurk_test(test_ed_body_checks, "Ed25519 bodies: L, small order, pk sum, order, base64");
	lurk_test(test_rsa_body_checks, "RSA bodies: |n| + 128 bits, leading zero, secret cap");
	lurk_test(test_write_read, "writer: 0600 under umask 0, no replace without overwrite");
	rc = lurk_test_run(argc, argv);
	lurk_share_free(ed1);
	lurk_share_free(ed2);
	return rc;
}
