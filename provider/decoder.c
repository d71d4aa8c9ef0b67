/*
 * Key files with the PEM label "LURK KEY" (docs/provider.md): what
 * PEM_read_bio_PrivateKey (nginx, HAProxy, stunnel, curl) and openssl
 * s_server -key read, once OPENSSL_CONF loads this provider. Two steps,
 * as OpenSSL chains decoders:
 *
 *   "DER", input=pem: a LURK KEY block's body goes on with structure
 *   "lurk"; any other PEM block is not ours (empty-handed, no error).
 *
 *   "RSA" | "EC" | "ED25519", input=der, structure=lurk: the body is
 *
 *	lurk-key 1
 *	config /etc/lurk/lurk.conf       absolute path of the client configuration
 *	key www-rsa                      lurkd's name for the key (its label)
 *	spki MIIBIjANBgkqhkiG9w0BAQEF... base64 of the DER SubjectPublicKeyInfo
 *
 *   each line once, in this order, ending in LF, nothing else. The public
 *   key says the type, so each typed decoder answers without lurkd; the
 *   configuration is read (the core made) but nothing is sent: nginx -t
 *   and a master starting while lurkd is down still load the key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "keyline.h"
#include "provider.h"

struct key_file {
	char conf[LPROV_MAX_CONF_PATH + 1];
	char label[LURK_WIRE_MAX_LABEL + 1];
	uint8_t spki[LURK_WIRE_MAX_PUBKEY];
	size_t spki_len;
};

/*
 * "NAME VALUE" (keyline.h) with printable ASCII, spaces included, in VALUE
 * (1..cap - 1 bytes); the value is copied into out, NUL-ended.
 */
static int
field(const char *line, size_t len, const char *name, char *out, size_t cap)
{
	const char *v;
	size_t vlen;

	if (cap == 0 ||
		!lurk_keyline_field(line, len, name, cap - 1, LURK_KEYLINE_SPACES, &v, &vlen))
		return 0;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 1;
}

/* 1: parsed; 0: not a lurk key body (no magic line); -1: ours but malformed (raised). */
static int
parse_body(struct lprov_ctx *pc, const uint8_t *body, size_t blen, struct key_file *kf)
{
	const char *p = (const char *)body, *end = p + blen, *line;
	const char *why = NULL;
	size_t len;

	if (!lurk_keyline_next(&p, end, &line, &len) || len != strlen(LPROV_KEY_FILE_MAGIC) ||
		memcmp(line, LPROV_KEY_FILE_MAGIC, len) != 0)
		return 0;
	if (!lurk_keyline_next(&p, end, &line, &len) ||
		!field(line, len, "config", kf->conf, sizeof(kf->conf)) || kf->conf[0] != '/')
		why = "second line must be 'config /absolute/path'";
	else if (!lurk_keyline_next(&p, end, &line, &len) ||
		 !field(line, len, "key", kf->label, sizeof(kf->label)))
		why = "third line must be 'key NAME' (1 to 255 printable bytes)";
	else {
		char *spki64 = malloc(blen + 1);
		if (spki64 == NULL) {
			why = "out of memory";
		} else {
			if (!lurk_keyline_next(&p, end, &line, &len) ||
				!field(line, len, "spki", spki64, blen + 1) ||
				sodium_base642bin(kf->spki, sizeof(kf->spki), spki64,
					strlen(spki64), NULL, &kf->spki_len, NULL,
					sodium_base64_VARIANT_ORIGINAL) != 0 ||
				kf->spki_len == 0)
				why = "fourth line must be 'spki BASE64' (the DER public key, at "
				      "most 4096 "
				      "bytes)";
			else if (p != end)
				why = "nothing may follow the spki line";
			free(spki64);
		}
	}
	if (why != NULL) {
		lprov_raise(pc, LPROV_R_KEY_FILE, "LURK KEY: %s", why);
		return -1;
	}
	return 1;
}

/* Step 1: PEM to the body of a LURK KEY block. */
static void *
pem_newctx(void *provctx)
{
	return provctx;
}

static void
pem_freectx(void *vctx)
{
	(void)vctx;
}

static int
pem_decode(void *vctx, OSSL_CORE_BIO *cin, int selection, OSSL_CALLBACK *data_cb, void *data_cbarg,
	OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	struct lprov_ctx *pc = vctx;
	OSSL_PARAM params[3];
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long len = 0;
	BIO *in;
	int ok, rc = 1;

	(void)selection;
	(void)pw_cb;
	(void)pw_cbarg;
	if ((in = BIO_new_from_core_bio(pc->libctx, cin)) == NULL)
		return 0;
	/* Not PEM at all is not an error of ours: others decode it. */
	ERR_set_mark();
	ok = PEM_read_bio(in, &name, &header, &data, &len) > 0;
	ERR_pop_to_mark();
	BIO_free(in);
	if (!ok || strcmp(name, LPROV_PEM_LABEL) != 0)
		goto out;
	if (header[0] != '\0' || len <= 0 || (unsigned long)len > LPROV_MAX_KEY_BODY) {
		lprov_raise(pc, LPROV_R_KEY_FILE,
			"LURK KEY: no PEM headers, a body of 1 to %u bytes", LPROV_MAX_KEY_BODY);
		rc = 0;
		goto out;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, data, (size_t)len);
	params[1] = OSSL_PARAM_construct_utf8_string(
		OSSL_OBJECT_PARAM_DATA_STRUCTURE, (char *)LPROV_STRUCTURE, 0);
	params[2] = OSSL_PARAM_construct_end();
	rc = data_cb(params, data_cbarg);
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	return rc;
}

/* Step 2: the body to a key of one type. */
struct der_ctx {
	struct lprov_ctx *pc;
	enum lurk_key_type type;
};

static void *
der_newctx(void *provctx, enum lurk_key_type type)
{
	struct der_ctx *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->pc = provctx;
		c->type = type;
	}
	return c;
}

static void *
rsa_newctx(void *provctx)
{
	return der_newctx(provctx, LURK_KEY_RSA);
}

static void *
ec_newctx(void *provctx)
{
	return der_newctx(provctx, LURK_KEY_EC);
}

static void *
ed25519_newctx(void *provctx)
{
	return der_newctx(provctx, LURK_KEY_ED25519);
}

static void
der_freectx(void *vctx)
{
	free(vctx);
}

/* The whole input, at most LPROV_MAX_KEY_BODY bytes; 0 if longer or unreadable. */
static size_t
read_all(struct lprov_ctx *pc, OSSL_CORE_BIO *cin, uint8_t *buf, size_t cap)
{
	BIO *in = BIO_new_from_core_bio(pc->libctx, cin);
	size_t len = 0;
	int n;

	if (in == NULL)
		return 0;
	while (len < cap && (n = BIO_read(in, buf + len, (int)(cap - len))) > 0)
		len += (size_t)n;
	BIO_free(in);
	return len < cap ? len : 0;
}

static int
der_decode(void *vctx, OSSL_CORE_BIO *cin, int selection, OSSL_CALLBACK *data_cb, void *data_cbarg,
	OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	struct der_ctx *c = vctx;
	struct key_file *kf = NULL;
	struct lprov_key *key = NULL;
	struct lprov_core *core;
	const unsigned char *sp;
	uint8_t *body;
	EVP_PKEY *pub = NULL;
	OSSL_PARAM params[4];
	int object = OSSL_OBJECT_PKEY, rc = 1, r;
	size_t blen;

	(void)selection;
	(void)pw_cb;
	(void)pw_cbarg;
	if ((body = malloc(LPROV_MAX_KEY_BODY + 1)) == NULL ||
		(kf = calloc(1, sizeof(*kf))) == NULL) {
		rc = 0;
		goto out;
	}
	blen = read_all(c->pc, cin, body, LPROV_MAX_KEY_BODY + 1);
	if (blen == 0 || (r = parse_body(c->pc, body, blen, kf)) == 0)
		goto out; /* not ours: empty-handed */
	if (r < 0) {
		rc = 0;
		goto out;
	}
	sp = kf->spki;
	ERR_set_mark();
	pub = d2i_PUBKEY_ex(NULL, &sp, (long)kf->spki_len, c->pc->pubctx, NULL);
	ERR_pop_to_mark();
	if (pub == NULL || sp != kf->spki + kf->spki_len || lprov_pkey_type(pub) == 0) {
		lprov_raise(c->pc, LPROV_R_KEY_FILE,
			"LURK KEY for '%s': not an RSA, EC P-256/384/521 or Ed25519 public key",
			kf->label);
		rc = 0;
		goto out;
	}
	if (lprov_pkey_type(pub) != c->type)
		goto out; /* another typed decoder's */
	if ((core = lprov_core_get(c->pc, kf->conf)) == NULL ||
		(key = lprov_key_new_remote(c->pc, pub, core, kf->label, kf->spki, kf->spki_len)) ==
			NULL) {
		rc = 0;
		goto out;
	}
	params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object);
	params[1] = OSSL_PARAM_construct_utf8_string(
		OSSL_OBJECT_PARAM_DATA_TYPE, (char *)lprov_key_type_name(c->type), 0);
	params[2] =
		OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &key, sizeof(key));
	params[3] = OSSL_PARAM_construct_end();
	rc = data_cb(params, data_cbarg);
out:
	lprov_key_free(key); /* NULL once the keymgmt's load took it */
	EVP_PKEY_free(pub);
	free(kf);
	free(body);
	return rc;
}

/*
 * Only a keymgmt of another provider would ask for the object's data, and
 * it could make only a public key of it (then the default provider would
 * try to sign with no private key): refused.
 */
static int
der_export_object(void *vctx, const void *ref, size_t ref_size, OSSL_CALLBACK *cb, void *cbarg)
{
	(void)vctx;
	(void)ref;
	(void)ref_size;
	(void)cb;
	(void)cbarg;
	return 0;
}

const OSSL_DISPATCH lprov_pem_decoder[] = {
	{OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))pem_newctx},
	{OSSL_FUNC_DECODER_FREECTX, (void (*)(void))pem_freectx},
	{OSSL_FUNC_DECODER_DECODE, (void (*)(void))pem_decode},
	{0, NULL},
};

#define DER_FNS                                                                                    \
	{OSSL_FUNC_DECODER_FREECTX, (void (*)(void))der_freectx},                                  \
		{OSSL_FUNC_DECODER_DECODE, (void (*)(void))der_decode},                            \
	{                                                                                          \
		OSSL_FUNC_DECODER_EXPORT_OBJECT, (void (*)(void))der_export_object                 \
	}

const OSSL_DISPATCH lprov_rsa_decoder[] = {
	{OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))rsa_newctx},
	DER_FNS,
	{0, NULL},
};

const OSSL_DISPATCH lprov_ec_decoder[] = {
	{OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))ec_newctx},
	DER_FNS,
	{0, NULL},
};

const OSSL_DISPATCH lprov_ed25519_decoder[] = {
	{OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))ed25519_newctx},
	DER_FNS,
	{0, NULL},
};
