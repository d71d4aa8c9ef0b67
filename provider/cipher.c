/*
 * The TLS 1.2 RSA key exchange (asym_cipher "RSA"): libssl asks for the
 * premaster secret with RSA_PKCS1_WITH_TLS_PADDING, the client's version
 * and 48 bytes of room. lurkd decrypts with implicit rejection
 * (server/implicit.h): always 48 bytes, pseudo-random when the padding is
 * bad. lurkd does not know the version the client offered, so the check
 * of the secret's first two bytes is here, as OpenSSL's own: in constant
 * time, a mismatch gives 48 random bytes and no error (Bleichenbacher).
 * Nothing else is decrypted: lurk's keys decrypt for TLS only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "ckm.h"
#include "client/ops.h"
#include "mem.h"
#include "provider.h"

#define PMS_LEN 48

struct dec_ctx {
	struct lprov_ctx *pc;
	struct lprov_key *key;
	int pad;
	unsigned client_version, alt_version;
};

static void *
newctx(void *provctx)
{
	struct dec_ctx *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->pc = provctx;
	return c;
}

static void
freectx(void *vctx)
{
	free(vctx);
}

static void *
dupctx(void *vctx)
{
	struct dec_ctx *d = malloc(sizeof(*d));

	if (d != NULL)
		*d = *(struct dec_ctx *)vctx;
	return d;
}

static int
set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct dec_ctx *c = vctx;
	const OSSL_PARAM *p;
	const char *s;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
				strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) != 0)
				goto bad_pad;
			c->pad = RSA_PKCS1_PADDING;
		} else if (!OSSL_PARAM_get_int(p, &c->pad) ||
			   (c->pad != RSA_PKCS1_PADDING && c->pad != RSA_PKCS1_WITH_TLS_PADDING)) {
			goto bad_pad;
		}
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION)) !=
			NULL &&
		!OSSL_PARAM_get_uint(p, &c->client_version))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION)) !=
			NULL &&
		!OSSL_PARAM_get_uint(p, &c->alt_version))
		return 0;
	return 1;
bad_pad:
	lprov_raise(c->pc, LPROV_R_PARAM, "lurk decrypts the TLS RSA key exchange only");
	return 0;
}

static const OSSL_PARAM *
settable_ctx_params(void *vctx, void *provctx)
{
	static const OSSL_PARAM p[] = {
		OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
		OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
		OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
		OSSL_PARAM_END,
	};
	(void)vctx;
	(void)provctx;
	return p;
}

static int
decrypt_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
	struct dec_ctx *c = vctx;
	struct lprov_key *k = vkey;

	if (k == NULL || k->type != LURK_KEY_RSA || k->core == NULL) {
		lprov_raise(c->pc, LPROV_R_NOT_PRIVATE, "not an RSA key lurkd holds");
		return 0;
	}
	c->key = k;
	c->pad = RSA_PKCS1_PADDING;
	c->client_version = c->alt_version = 0;
	return set_ctx_params(c, params);
}

/* 0xff when a == b, else 0, without a branch. */
static uint8_t
ct_eq8(unsigned a, unsigned b)
{
	unsigned x = (a ^ b) & 0xff;

	return (uint8_t)(((x - 1) >> 8) & 0xff);
}

static int
decrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize, const unsigned char *in,
	size_t inlen)
{
	struct dec_ctx *c = vctx;
	uint8_t pt[LURK_WIRE_MAX_CIPHERTEXT], rnd[PMS_LEN], good;
	const struct lurk_wire_key *wk;
	size_t n = sizeof(pt);
	int r, ok = 0;

	if (c->key == NULL)
		return 0;
	if (c->pad != RSA_PKCS1_WITH_TLS_PADDING || c->client_version == 0) {
		lprov_raise(c->pc, LPROV_R_PARAM,
			"lurk decrypts only the TLS RSA key exchange's premaster secret");
		return 0;
	}
	if (out == NULL) {
		*outlen = PMS_LEN;
		return 1;
	}
	if (outsize < PMS_LEN) {
		lprov_raise(c->pc, LPROV_R_BUFFER, "room for %d bytes needed", PMS_LEN);
		return 0;
	}
	if ((wk = lprov_key_remote(c->key)) == NULL)
		return 0;
	lprov_log_mark();
	r = lc_decrypt(
		lprov_core_use(c->pc, c->key->core), wk, CKM_RSA_PKCS, NULL, in, inlen, pt, &n);
	if (r != 0) {
		lprov_raise_lurk(c->pc, r, "decrypt", c->key->label);
	} else if (n != PMS_LEN) {
		lprov_raise(
			c->pc, LPROV_R_INTERNAL, "lurkd answered %zu bytes, not %d", n, PMS_LEN);
	} else {
		/* The version the client offered, or (rollback bug) the one negotiated. */
		good = ct_eq8(pt[0], c->client_version >> 8) & ct_eq8(pt[1], c->client_version);
		if (c->alt_version != 0)
			good |= ct_eq8(pt[0], c->alt_version >> 8) & ct_eq8(pt[1], c->alt_version);
		randombytes_buf(rnd, sizeof(rnd));
		for (size_t i = 0; i < PMS_LEN; i++)
			out[i] = (uint8_t)((pt[i] & good) | (rnd[i] & (uint8_t)~good));
		*outlen = PMS_LEN;
		ok = 1;
	}
	lurk_wipe(pt, sizeof(pt));
	lurk_wipe(rnd, sizeof(rnd));
	return ok;
}

const OSSL_DISPATCH lprov_rsa_cipher[] = {
	{OSSL_FUNC_ASYM_CIPHER_NEWCTX, (void (*)(void))newctx},
	{OSSL_FUNC_ASYM_CIPHER_FREECTX, (void (*)(void))freectx},
	{OSSL_FUNC_ASYM_CIPHER_DUPCTX, (void (*)(void))dupctx},
	{OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT, (void (*)(void))decrypt_init},
	{OSSL_FUNC_ASYM_CIPHER_DECRYPT, (void (*)(void))decrypt},
	{OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS, (void (*)(void))set_ctx_params},
	{OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))settable_ctx_params},
	{0, NULL},
};
