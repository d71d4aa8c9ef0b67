/*
 * lurk-admin lurk-key: writes the LURK KEY file through which lurk's OpenSSL
 * provider names a key (docs/provider.md), so operators need not assemble
 * it by hand:
 *
 *   lurk-admin lurk-key --config /etc/lurk/lurk.conf --key NAME CERT.pem
 *
 * The file holds no secret: the client configuration's path, lurkd's name
 * for the key, and the public key of the certificate (its first one), which
 * the provider checks against lurkd's key list before it signs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "admin-lurkkey.h"
#include "keyline.h"
#include "lurk-limits.h"

#define CONF_PATH_MAX 4095u /* what the provider's decoder accepts (PATH_MAX less the NUL) */
#define SPKI_MAX      LURK_WIRE_MAX_PUBKEY

/* Printable ASCII, 1..cap bytes: what the decoder accepts in a value (the same check). */
static int
printable(const char *s, size_t cap)
{
	return lurk_keyline_value_ok(s, strlen(s), cap, LURK_KEYLINE_SPACES);
}

/* The DER SubjectPublicKeyInfo of the first certificate in path; 0 or -1 (why says). */
static int
cert_spki(const char *path, uint8_t *out, size_t *out_len, const char **why)
{
	gnutls_datum_t pem = {NULL, 0}, der = {NULL, 0};
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int r = -1;

	if (gnutls_load_file(path, &pem) < 0) {
		*why = "cannot read the certificate file";
		return -1;
	}
	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&pub) < 0) {
		*why = "out of memory";
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0 &&
		gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_DER) < 0) {
		*why = "not a PEM or DER certificate";
		goto out;
	}
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
		gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) < 0) {
		*why = "cannot read the certificate's public key";
		goto out;
	}
	if (der.size == 0 || der.size > SPKI_MAX) {
		*why = "the certificate's public key is too large";
		goto out;
	}
	memcpy(out, der.data, der.size);
	*out_len = der.size;
	r = 0;
out:
	gnutls_free(der.data);
	gnutls_free(pem.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	return r;
}

static int
usage_error(const char *msg)
{
	fprintf(stderr,
		"lurk-admin lurk-key: %s\n"
		"usage: lurk-admin lurk-key --config ABSOLUTE-PATH --key NAME CERT\n",
		msg);
	return 2;
}

int
lurk_admin_lurkkey(int argc, char **argv)
{
	const char *conf = NULL, *key = NULL, *cert = NULL, *why = NULL;
	uint8_t spki[SPKI_MAX];
	size_t spki_len = 0, body_len, b64_len;
	char *body = NULL, *b64 = NULL;
	int n, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			key = argv[++i];
		else if (argv[i][0] == '-' || cert != NULL)
			return usage_error("unexpected argument");
		else
			cert = argv[i];
	}
	if (conf == NULL || key == NULL || cert == NULL)
		return usage_error("--config, --key and a certificate file are needed");
	if (conf[0] != '/' || !printable(conf, CONF_PATH_MAX))
		return usage_error("--config must be an absolute path of printable characters");
	if (!printable(key, LURK_WIRE_MAX_LABEL))
		return usage_error("--key must be 1 to 255 printable characters");
	if (cert_spki(cert, spki, &spki_len, &why) != 0) {
		fprintf(stderr, "lurk-admin lurk-key: %s: %s\n", cert, why);
		return 1;
	}

	/* The body, then its base64 in PEM lines of 64 characters. */
	body_len = strlen(conf) + strlen(key) +
		   sodium_base64_ENCODED_LEN(spki_len, sodium_base64_VARIANT_ORIGINAL) + 64;
	b64_len = sodium_base64_ENCODED_LEN(body_len, sodium_base64_VARIANT_ORIGINAL);
	body = malloc(body_len);
	b64 = malloc(b64_len);
	if (body == NULL || b64 == NULL) {
		fprintf(stderr, "lurk-admin lurk-key: out of memory\n");
		goto out;
	}
	n = snprintf(body, body_len, "lurk-key 1\nconfig %s\nkey %s\nspki ", conf, key);
	if (n < 0 || (size_t)n >= body_len)
		goto out;
	sodium_bin2base64(
		body + n, body_len - (size_t)n, spki, spki_len, sodium_base64_VARIANT_ORIGINAL);
	n += (int)strlen(body + n);
	if ((size_t)n + 1 >= body_len)
		goto out;
	body[n++] = '\n';
	sodium_bin2base64(
		b64, b64_len, (const uint8_t *)body, (size_t)n, sodium_base64_VARIANT_ORIGINAL);
	fputs("-----BEGIN LURK KEY-----\n", stdout);
	for (size_t off = 0, len = strlen(b64); off < len; off += 64)
		printf("%.*s\n", (int)(len - off < 64 ? len - off : 64), b64 + off);
	fputs("-----END LURK KEY-----\n", stdout);
	rc = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "lurk-admin lurk-key: cannot write the key file\n");
out:
	free(body);
	free(b64);
	return rc;
}
