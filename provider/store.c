/*
 * The "lurk" OSSL_STORE loader (docs/provider.md): programs that take a
 * URI for their key (openssl s_server -key, pkey -in, pkeyutl -inkey,
 * nginx 1.29's store:) reach lurkd's key NAME as
 *
 *	lurk:NAME
 *	lurk:NAME?config=/absolute/path.conf
 *
 * NAME is lurkd's name for the key (its label), 1 to LURK_WIRE_MAX_LABEL
 * bytes once decoded; PATH the client configuration, absolute, at most
 * LPROV_MAX_CONF_PATH bytes once decoded. Without ?config=, the provider's
 * openssl.cnf setting LPROV_CONF_PARAM. RFC 3986 percent-encoding (%XX) is
 * decoded, and both decode to printable ASCII, as in a LURK KEY file. Raw,
 * NAME holds only unreserved characters, sub-delims, ':' and '@' (so no
 * '/', and no "lurk://"); PATH also '/' and '?', but not '&'. The scheme
 * is matched without case. Nothing else: no fragment, no other query
 * parameter, no empty query.
 *
 * Unlike a key file, the URI carries no public key. OPEN reads the
 * configuration and fetches lurkd's key list (the one round trip, within
 * the configuration's timeout), so a bad URI, an unknown key or an
 * unreachable lurkd fails the open with its reason on the error queue.
 * LOAD hands out the one key, then EOF: by reference to this provider's
 * keymgmt (a private key lurkd holds, as the decoder does) unless only a
 * public key is expected, then as its DER SubjectPublicKeyInfo for the
 * default provider; nothing when something else (a certificate) is.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/store.h>
#include <openssl/x509.h>

#include "client/core.h"
#include "provider.h"

#define SHOWN_MAX 96u /* bytes of a URI or a query key quoted in an error */

struct uri {
	char name[LURK_WIRE_MAX_LABEL + 1];
	char conf[LPROV_MAX_CONF_PATH + 1];
	int has_conf;
};

struct store_ctx {
	struct lprov_ctx *pc;
	struct lprov_core *core;
	char label[LURK_WIRE_MAX_LABEL + 1];
	enum lurk_key_type type;
	EVP_PKEY *pub; /* in pc->pubctx */
	uint8_t *spki; /* DER, as lurkd's key list gave it */
	size_t spki_len;
	int expect; /* OSSL_STORE_INFO_*, 0: anything */
	int eof;
};

int
lprov_conf_path_ok(const char *s)
{
	size_t n = strnlen(s, LPROV_MAX_CONF_PATH + 1);

	if (n == 0 || n > LPROV_MAX_CONF_PATH || s[0] != '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* At most SHOWN_MAX bytes of s[0..len), each non-printable byte as '?', "..." if cut. */
static const char *
shown(char out[SHOWN_MAX + 4], const char *s, size_t len)
{
	size_t n = len < SHOWN_MAX ? len : SHOWN_MAX;

	for (size_t i = 0; i < n; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) ? '?' : s[i];
	strcpy(out + n, len > n ? "..." : "");
	return out;
}

/* RFC 3986's pchar less pct-encoded: unreserved, sub-delims, ':' and '@'. */
static int
pchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL);
}

static int
name_raw(int c)
{
	return pchar(c);
}

/* A query value: '&' ends it. */
static int
conf_raw(int c)
{
	return c == '/' || c == '?' || (c != '&' && pchar(c));
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes s[0..len) into out (cap bytes, with its NUL): a raw byte
 * must pass raw_ok, a '%' start two hex digits, and every decoded byte be
 * printable ASCII. 0, or -1 raised (what: the part, for the message).
 */
static int
decode(struct lprov_ctx *pc, const char *uri, const char *what, const char *s, size_t len,
	int (*raw_ok)(int), char *out, size_t cap)
{
	char show[SHOWN_MAX + 4];
	size_t i = 0, n = 0;
	int c, hi, lo;

	while (i < len) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
				(lo = hexval(s[i + 2])) < 0) {
				lprov_raise(pc, LPROV_R_URI,
					"lurk: URI '%s': in the %s, '%%' must begin %%XX (two hex "
					"digits)",
					shown(show, uri, strlen(uri)), what);
				return -1;
			}
			c = hi << 4 | lo;
			if (c < 0x20 || c > 0x7e) {
				lprov_raise(pc, LPROV_R_URI,
					"lurk: URI '%s': in the %s, %%%c%c is not printable ASCII",
					shown(show, uri, strlen(uri)), what, s[i + 1], s[i + 2]);
				return -1;
			}
			i += 3;
		} else if (raw_ok(c)) {
			i++;
		} else {
			if (c >= 0x20 && c <= 0x7e)
				lprov_raise(pc, LPROV_R_URI,
					"lurk: URI '%s': in the %s, '%c' must be written %%%02X",
					shown(show, uri, strlen(uri)), what, c, c);
			else
				lprov_raise(pc, LPROV_R_URI,
					"lurk: URI '%s': in the %s, a byte 0x%02x that is not "
					"printable ASCII",
					shown(show, uri, strlen(uri)), what, c);
			return -1;
		}
		if (n + 1 >= cap) {
			lprov_raise(pc, LPROV_R_URI,
				"lurk: URI '%s': the %s is longer than %zu bytes",
				shown(show, uri, strlen(uri)), what, cap - 1);
			return -1;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* The query after '?': exactly "config=PATH". 0, or -1 raised. */
static int
parse_query(struct lprov_ctx *pc, const char *uri, const char *q, struct uri *u)
{
	char show[SHOWN_MAX + 4], show2[SHOWN_MAX + 4];
	const char *amp, *eq;
	size_t plen;

	if (*q == '\0') {
		lprov_raise(pc, LPROV_R_URI, "lurk: URI '%s': an empty query after '?'",
			shown(show, uri, strlen(uri)));
		return -1;
	}
	for (; *q != '\0'; q = *amp != '\0' ? amp + 1 : amp) {
		amp = q + strcspn(q, "&");
		plen = (size_t)(amp - q);
		eq = memchr(q, '=', plen);
		if (eq == NULL || (size_t)(eq - q) != strlen("config") ||
			memcmp(q, "config", strlen("config")) != 0) {
			lprov_raise(pc, LPROV_R_URI,
				"lurk: URI '%s': unknown query parameter '%s' (only config=)",
				shown(show, uri, strlen(uri)),
				shown(show2, q, eq != NULL ? (size_t)(eq - q) : plen));
			return -1;
		}
		if (u->has_conf) {
			lprov_raise(pc, LPROV_R_URI, "lurk: URI '%s': config= given twice",
				shown(show, uri, strlen(uri)));
			return -1;
		}
		if (decode(pc, uri, "config path", eq + 1, (size_t)(amp - eq - 1), conf_raw,
			    u->conf, sizeof(u->conf)) != 0)
			return -1;
		if (u->conf[0] != '/') {
			lprov_raise(pc, LPROV_R_URI,
				"lurk: URI '%s': config= must be an absolute path",
				shown(show, uri, strlen(uri)));
			return -1;
		}
		u->has_conf = 1;
		if (*amp == '&' && amp[1] == '\0') {
			lprov_raise(pc, LPROV_R_URI, "lurk: URI '%s': an empty query parameter",
				shown(show, uri, strlen(uri)));
			return -1;
		}
	}
	return 0;
}

/* 0, or -1 raised. */
static int
parse_uri(struct lprov_ctx *pc, const char *uri, struct uri *u)
{
	const size_t slen = strlen(LPROV_STORE_SCHEME);
	char show[SHOWN_MAX + 4];
	const char *p, *q;
	size_t nlen;

	if (strncasecmp(uri, LPROV_STORE_SCHEME, slen) != 0 || uri[slen] != ':') {
		lprov_raise(
			pc, LPROV_R_URI, "'%s' is not a lurk: URI", shown(show, uri, strlen(uri)));
		return -1;
	}
	p = uri + slen + 1;
	if (strchr(p, '#') != NULL) {
		lprov_raise(pc, LPROV_R_URI, "lurk: URI '%s': a fragment ('#') is not accepted",
			shown(show, uri, strlen(uri)));
		return -1;
	}
	q = strchr(p, '?');
	nlen = q != NULL ? (size_t)(q - p) : strlen(p);
	if (nlen == 0) {
		lprov_raise(pc, LPROV_R_URI,
			"lurk: URI '%s' names no key: lurk:NAME[?config=/path/to/lurk.conf]",
			shown(show, uri, strlen(uri)));
		return -1;
	}
	if (decode(pc, uri, "key name", p, nlen, name_raw, u->name, sizeof(u->name)) != 0)
		return -1;
	return q != NULL ? parse_query(pc, uri, q + 1, u) : 0;
}

static void
store_free(struct store_ctx *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->pub);
	free(s->spki);
	free(s);
}

/* The key lurkd serves under s->label, from the key list; 0, or -1 raised. */
static int
fetch_key(struct store_ctx *s)
{
	const struct lurk_wire_list_resp *list;
	const struct lurk_wire_key *wk;
	const unsigned char *sp;
	int r;

	lprov_log_mark();
	if ((r = lc_core_keys(lprov_core_use(s->pc, s->core), &list)) != 0) {
		lprov_raise_lurk(s->pc, r, "key list", s->label);
		return -1;
	}
	if ((wk = lc_keys_find(list, s->label)) == NULL) {
		lprov_raise(s->pc, LPROV_R_NO_KEY,
			"lurkd serves no key named '%s' to the client of %s", s->label,
			s->core->path);
		return -1;
	}
	sp = wk->spki;
	ERR_set_mark();
	s->pub = d2i_PUBKEY_ex(NULL, &sp, (long)wk->spki_len, s->pc->pubctx, NULL);
	ERR_pop_to_mark();
	if (s->pub == NULL || sp != wk->spki + wk->spki_len ||
		(s->type = lprov_pkey_type(s->pub)) == 0) {
		lprov_raise(s->pc, LPROV_R_NO_KEY,
			"lurkd's key '%s' is not an RSA, EC P-256/384/521 or Ed25519 key",
			s->label);
		return -1;
	}
	if ((s->spki = malloc(wk->spki_len)) == NULL) {
		lprov_raise(s->pc, LPROV_R_INTERNAL, "out of memory");
		return -1;
	}
	memcpy(s->spki, wk->spki, wk->spki_len);
	s->spki_len = wk->spki_len;
	return 0;
}

static void *
store_open(void *provctx, const char *uri)
{
	struct lprov_ctx *pc = provctx;
	struct store_ctx *s = NULL;
	struct uri *u;
	const char *conf;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		lprov_raise(pc, LPROV_R_INTERNAL, "out of memory");
		return NULL;
	}
	if (parse_uri(pc, uri, u) != 0)
		goto fail;
	if (u->has_conf) {
		conf = u->conf;
	} else if (pc->default_conf_bad) {
		lprov_raise(pc, LPROV_R_CONFIG,
			"lurk:%s: " LPROV_CONF_PARAM
			" in the provider's openssl.cnf section is not "
			"an absolute path of at most %u printable bytes",
			u->name, LPROV_MAX_CONF_PATH);
		goto fail;
	} else if (pc->default_conf[0] != '\0') {
		conf = pc->default_conf;
	} else {
		lprov_raise(pc, LPROV_R_URI,
			"lurk:%s names no client configuration: add ?config=/path/to/lurk.conf, or "
			"set " LPROV_CONF_PARAM " in the provider's openssl.cnf section",
			u->name);
		goto fail;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		lprov_raise(pc, LPROV_R_INTERNAL, "out of memory");
		goto fail;
	}
	s->pc = pc;
	memcpy(s->label, u->name, sizeof(s->label));
	if ((s->core = lprov_core_get(pc, conf)) == NULL || fetch_key(s) != 0)
		goto fail;
	free(u);
	return s;
fail:
	store_free(s);
	free(u);
	return NULL;
}

/* The key by reference, for this provider's keymgmt load (as decoder.c's). */
static int
load_key(struct store_ctx *s, OSSL_CALLBACK *cb, void *cbarg)
{
	struct lprov_key *key;
	int object = OSSL_OBJECT_PKEY, rc;
	OSSL_PARAM params[4];

	if ((key = lprov_key_new_remote(s->pc, s->pub, s->core, s->label, s->spki, s->spki_len)) ==
		NULL)
		return 0;
	params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object);
	params[1] = OSSL_PARAM_construct_utf8_string(
		OSSL_OBJECT_PARAM_DATA_TYPE, (char *)lprov_key_type_name(s->type), 0);
	params[2] =
		OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &key, sizeof(key));
	params[3] = OSSL_PARAM_construct_end();
	rc = cb(params, cbarg);
	lprov_key_free(key); /* NULL once the keymgmt's load took it */
	return rc;
}

/* The public key alone: its SubjectPublicKeyInfo, which the default provider decodes. */
static int
load_pubkey(struct store_ctx *s, OSSL_CALLBACK *cb, void *cbarg)
{
	int object = OSSL_OBJECT_PKEY;
	OSSL_PARAM params[5];

	params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object);
	params[1] = OSSL_PARAM_construct_utf8_string(
		OSSL_OBJECT_PARAM_DATA_TYPE, (char *)lprov_key_type_name(s->type), 0);
	params[2] = OSSL_PARAM_construct_utf8_string(
		OSSL_OBJECT_PARAM_DATA_STRUCTURE, "SubjectPublicKeyInfo", 0);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, s->spki, s->spki_len);
	params[4] = OSSL_PARAM_construct_end();
	return cb(params, cbarg);
}

static int
store_load(void *vctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
	OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	struct store_ctx *s = vctx;

	(void)pw_cb;
	(void)pw_cbarg;
	if (s->eof)
		return 0;
	s->eof = 1; /* one key per URI, whatever becomes of it */
	switch (s->expect) {
	case 0:
	case OSSL_STORE_INFO_PKEY:
		return load_key(s, object_cb, object_cbarg);
	case OSSL_STORE_INFO_PUBKEY:
		return load_pubkey(s, object_cb, object_cbarg);
	default:
		return 1; /* no certificate, CRL or parameters here: nothing */
	}
}

static int
store_eof(void *vctx)
{
	return ((struct store_ctx *)vctx)->eof;
}

static int
store_close(void *vctx)
{
	store_free(vctx);
	return 1;
}

static const OSSL_PARAM *
store_settable_ctx_params(void *provctx)
{
	static const OSSL_PARAM p[] = {
		OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
		OSSL_PARAM_END,
	};
	(void)provctx;
	return p;
}

/* What is expected; a search (OSSL_STORE_find) is refused: the URI names the one key. */
static int
store_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	static const char *const searches[] = {
		OSSL_STORE_PARAM_SUBJECT,
		OSSL_STORE_PARAM_ISSUER,
		OSSL_STORE_PARAM_SERIAL,
		OSSL_STORE_PARAM_FINGERPRINT,
		OSSL_STORE_PARAM_ALIAS,
	};
	struct store_ctx *s = vctx;
	const OSSL_PARAM *p;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT)) != NULL &&
		!OSSL_PARAM_get_int(p, &s->expect))
		return 0;
	for (size_t i = 0; i < sizeof(searches) / sizeof(searches[0]); i++)
		if (OSSL_PARAM_locate_const(params, searches[i]) != NULL) {
			lprov_raise(s->pc, LPROV_R_PARAM, "lurk:%s names one key: no search by %s",
				s->label, searches[i]);
			return 0;
		}
	return 1;
}

const OSSL_DISPATCH lprov_store[] = {
	{OSSL_FUNC_STORE_OPEN, (void (*)(void))store_open},
	{OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))store_settable_ctx_params},
	{OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))store_set_ctx_params},
	{OSSL_FUNC_STORE_LOAD, (void (*)(void))store_load},
	{OSSL_FUNC_STORE_EOF, (void (*)(void))store_eof},
	{OSSL_FUNC_STORE_CLOSE, (void (*)(void))store_close},
	{0, NULL},
};
