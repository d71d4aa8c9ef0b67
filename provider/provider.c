/*
 * The provider's entry point and what every part shares: the algorithm
 * tables, errors on OpenSSL's queue, the client cores (one per
 * configuration file), the fork check, the key list lookup, and the
 * provider's own openssl.cnf setting (LPROV_CONF_PARAM, read at init).
 *
 * Fork: OpenSSL 3.0 gives providers no fork hook, and nginx loads keys in
 * its master and signs in forked workers. Each core remembers the process
 * it was made or last repaired in; the first use in another process drops
 * what the parent's connections left (lc_core_after_fork: closes the fds,
 * sends nothing, wipes the Noise state) and the pool reconnects lazily.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <sodium.h>

#include "client/core.h"
#include "compiler.h"
#include "err.h"
#include "log.h"
#include "provider.h"

static OSSL_FUNC_core_new_error_fn *c_new_error;
static OSSL_FUNC_core_set_error_debug_fn *c_set_error_debug;
static OSSL_FUNC_core_vset_error_fn *c_vset_error;

/* lurk's last warning or error in this thread: lurkd's refusal reason, for the error queue. */
static __thread char last_line[512];

void
lprov_log_mark(void)
{
	last_line[0] = '\0';
}

static void
log_sink(void *ctx, int level, const char *line)
{
	(void)ctx;
	if (level <= LURK_LOG_WARN)
		snprintf(last_line, sizeof(last_line), "%s", line);
}

static void
log_setup(void)
{
	lurk_log_init_env("lurk-provider", "LURK_PROVIDER_LOG");
	lurk_log_set_sink(log_sink, NULL);
}

static void
set_error(struct lprov_ctx *pc, int reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	c_vset_error(pc->handle, (uint32_t)reason, fmt, ap);
	va_end(ap);
}

void
lprov_raise(struct lprov_ctx *pc, int reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/*
	 * OpenSSL 3.0's decoder chain drops what a failing decoder raised
	 * ("unsupported" is all the caller sees): a bad key file or
	 * configuration is logged too, so the operator learns why.
	 */
	if (reason == LPROV_R_KEY_FILE || reason == LPROV_R_CONFIG)
		lurk_error("%s", msg);
	if (c_new_error == NULL || c_vset_error == NULL)
		return;
	c_new_error(pc->handle);
	if (c_set_error_debug != NULL)
		c_set_error_debug(pc->handle, NULL, 0, NULL);
	set_error(pc, reason, "%s", msg);
}

void
lprov_raise_lurk(struct lprov_ctx *pc, int r, const char *what, const char *label)
{
	int reason;

	switch (r) {
	case LURK_ERR_DENIED:
	case LURK_ERR_POLICY:
	case LURK_ERR_RATE_LIMIT:
	case LURK_ERR_NOT_FOUND:
	case LURK_ERR_MECHANISM:
	case LURK_ERR_CRYPTO:
	case LURK_ERR_PEER:
		reason = LPROV_R_REFUSED;
		break;
	case LURK_ERR_IO:
	case LURK_ERR_EOF:
	case LURK_ERR_TIMEOUT:
	case LURK_ERR_AGAIN:
	case LURK_ERR_CLOSED:
	case LURK_ERR_SERVER_KEY:
	case LURK_ERR_UNKNOWN_PEER:
	case LURK_ERR_SESSION_EXPIRED:
		reason = LPROV_R_UNREACHABLE;
		break;
	case LURK_ERR_NO_KEY:
		reason = LPROV_R_CONFIG;
		break;
	default:
		reason = LPROV_R_INTERNAL;
		break;
	}
	/* lurk's own line says it best (lurkd's reason for a refusal); else the error's name. */
	if (last_line[0] != '\0')
		lprov_raise(pc, reason, "%s", last_line);
	else
		lprov_raise(pc, reason, "%s with key %s: %s", what, label, lurk_err_str(r));
	last_line[0] = '\0';
}

/* The module's [token] sections may be in the same file: not ours, not wrong. */
static int
face_section(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	(void)ctx;
	(void)err;
	(void)err_len;
	return strcmp(it->section, "token") == 0 ? 0 : 1;
}

static int
face_item(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	(void)ctx;
	(void)it;
	(void)err;
	(void)err_len;
	return 0;
}

struct lprov_core *
lprov_core_get(struct lprov_ctx *pc, const char *path)
{
	const struct lc_conf_face face = {face_section, face_item, NULL, NULL};
	struct lprov_core *c;
	char err[1024];
	int r;

	pthread_mutex_lock(&pc->lock);
	for (c = pc->cores; c != NULL; c = c->next)
		if (strcmp(c->path, path) == 0)
			goto out;
	if (pc->ncores >= LPROV_MAX_CORES || strlen(path) > LPROV_MAX_CONF_PATH) {
		lprov_raise(pc, LPROV_R_CONFIG,
			"%s: too many configuration files or too long a path", path);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		lprov_raise(pc, LPROV_R_INTERNAL, "out of memory");
		goto out;
	}
	/* Reads the file and makes the pool; nothing goes on the network yet. */
	if ((r = lc_core_new(&c->core, path, &face, err, sizeof(err))) != 0) {
		lprov_raise(pc, LPROV_R_CONFIG, "%s", err[0] ? err : lurk_err_str(r));
		free(c);
		c = NULL;
		goto out;
	}
	if (!lc_core_key_ready(c->core)) {
		lprov_raise(pc, LPROV_R_CONFIG,
			"%s: the client key is PIN-protected; the provider cannot ask for a PIN",
			path);
		lc_core_free(c->core);
		free(c);
		c = NULL;
		goto out;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->pid = getpid();
	c->next = pc->cores;
	pc->cores = c;
	pc->ncores++;
out:
	pthread_mutex_unlock(&pc->lock);
	return c;
}

struct lc_core *
lprov_core_use(struct lprov_ctx *pc, struct lprov_core *c)
{
	pid_t me = getpid();

	if (__atomic_load_n(&c->pid, __ATOMIC_ACQUIRE) != me) {
		pthread_mutex_lock(&pc->lock);
		if (c->pid != me) {
			lc_core_after_fork(c->core);
			__atomic_store_n(&c->pid, me, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&pc->lock);
	}
	return c->core;
}

const struct lurk_wire_key *
lprov_key_remote(struct lprov_key *k)
{
	const struct lurk_wire_list_resp *list;
	const struct lurk_wire_key *wk;
	struct lc_core *cc;
	int r;

	if (k->core == NULL) {
		lprov_raise(k->pc, LPROV_R_NOT_PRIVATE,
			"a public key only: lurk holds no private key for it");
		return NULL;
	}
	cc = lprov_core_use(k->pc, k->core);
	lprov_log_mark();
	if ((r = lc_core_keys(cc, &list)) != 0) {
		lprov_raise_lurk(k->pc, r, "key list", k->label);
		return NULL;
	}
	if ((wk = lc_keys_find(list, k->label)) == NULL) {
		lprov_raise(k->pc, LPROV_R_NO_KEY,
			"lurkd serves no key named '%s' to the client of %s", k->label,
			k->core->path);
		return NULL;
	}
	if (wk->spki_len != k->spki_len || memcmp(wk->spki, k->spki, k->spki_len) != 0) {
		lprov_raise(k->pc, LPROV_R_KEY_CHANGED,
			"lurkd's key '%s' is not the public key in the key file", k->label);
		return NULL;
	}
	return wk;
}

const struct lurk_hash_info *
lprov_hash_by_name(struct lprov_ctx *pc, const char *name)
{
	static const struct {
		const char *name;
		enum lurk_hash id;
	} names[] = {
		{"SHA2-256", LURK_HASH_SHA256},
		{"SHA2-384", LURK_HASH_SHA384},
		{"SHA2-512", LURK_HASH_SHA512},
	};
	const struct lurk_hash_info *h = NULL;
	EVP_MD *md;

	/* libssl probes with "SHA256" and signs with "SHA2-256": ask OpenSSL what a name is. */
	ERR_set_mark();
	md = EVP_MD_fetch(pc->pubctx, name, NULL);
	ERR_pop_to_mark();
	if (md == NULL)
		return NULL;
	for (size_t i = 0; i < LURK_ARRAY_LEN(names) && h == NULL; i++)
		if (EVP_MD_is_a(md, names[i].name))
			h = lurk_hash_by_id(names[i].id);
	EVP_MD_free(md);
	return h;
}

#define RSA_NAMES     "RSA:rsaEncryption:1.2.840.113549.1.1.1"
#define EC_NAMES      "EC:id-ecPublicKey:1.2.840.10045.2.1"
#define ED25519_NAMES "ED25519:1.3.101.112"
#define DER_PROPS     LPROV_PROPS ",input=der,structure=" LPROV_STRUCTURE

static const OSSL_ALGORITHM keymgmts[] = {
	{RSA_NAMES, LPROV_PROPS, lprov_rsa_keymgmt, "RSA key held by lurkd"},
	{EC_NAMES, LPROV_PROPS, lprov_ec_keymgmt, "EC key held by lurkd"},
	{ED25519_NAMES, LPROV_PROPS, lprov_ed25519_keymgmt, "Ed25519 key held by lurkd"},
	{NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM signatures[] = {
	{RSA_NAMES, LPROV_PROPS, lprov_rsa_signature, "RSA signature by lurkd"},
	{"ECDSA", LPROV_PROPS, lprov_ecdsa_signature, "ECDSA signature by lurkd"},
	{ED25519_NAMES, LPROV_PROPS, lprov_ed25519_signature, "Ed25519 signature by lurkd"},
	{NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM ciphers[] = {
	{RSA_NAMES, LPROV_PROPS, lprov_rsa_cipher, "RSA key exchange decryption by lurkd"},
	{NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM decoders[] = {
	{"DER", LPROV_PROPS ",input=pem", lprov_pem_decoder, "LURK KEY PEM block"},
	{RSA_NAMES, DER_PROPS, lprov_rsa_decoder, "LURK KEY for an RSA key"},
	{EC_NAMES, DER_PROPS, lprov_ec_decoder, "LURK KEY for an EC key"},
	{ED25519_NAMES, DER_PROPS, lprov_ed25519_decoder, "LURK KEY for an Ed25519 key"},
	{NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM stores[] = {
	{LPROV_STORE_SCHEME, LPROV_PROPS, lprov_store, "lurk: URIs of keys held by lurkd"},
	{NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM *
query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	switch (op) {
	case OSSL_OP_KEYMGMT:
		return keymgmts;
	case OSSL_OP_SIGNATURE:
		return signatures;
	case OSSL_OP_ASYM_CIPHER:
		return ciphers;
	case OSSL_OP_DECODER:
		return decoders;
	case OSSL_OP_STORE:
		return stores;
	default:
		return NULL;
	}
}

static const OSSL_ITEM reasons[] = {
	{LPROV_R_KEY_FILE, "malformed LURK KEY file"},
	{LPROV_R_CONFIG, "lurk client configuration cannot be used"},
	{LPROV_R_NO_KEY, "lurkd does not serve this key"},
	{LPROV_R_KEY_CHANGED, "lurkd's key differs from the key file's"},
	{LPROV_R_REFUSED, "lurkd refused"},
	{LPROV_R_UNREACHABLE, "lurkd unreachable"},
	{LPROV_R_DIGEST, "digest not signed by lurk"},
	{LPROV_R_PARAM, "parameter not supported by lurk"},
	{LPROV_R_TOO_LARGE, "content too large for one lurk request"},
	{LPROV_R_BUFFER, "output buffer too small"},
	{LPROV_R_NOT_PRIVATE, "not a lurk private key"},
	{LPROV_R_INTERNAL, "lurk provider internal error"},
	{LPROV_R_URI, "malformed lurk: URI"},
	{0, NULL},
};

static const OSSL_ITEM *
get_reason_strings(void *provctx)
{
	(void)provctx;
	return reasons;
}

static const OSSL_PARAM *
gettable_params(void *provctx)
{
	static const OSSL_PARAM p[] = {
		OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, NULL, 0),
		OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, NULL, 0),
		OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_BUILDINFO, NULL, 0),
		OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, NULL),
		OSSL_PARAM_END,
	};
	(void)provctx;
	return p;
}

static int
get_params(void *provctx, OSSL_PARAM params[])
{
	OSSL_PARAM *p;

	(void)provctx;
	if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) != NULL &&
		!OSSL_PARAM_set_utf8_ptr(p, "lurk"))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) != NULL &&
		!OSSL_PARAM_set_utf8_ptr(p, PACKAGE_VERSION))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO)) != NULL &&
		!OSSL_PARAM_set_utf8_ptr(p, PACKAGE_STRING))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) != NULL &&
		!OSSL_PARAM_set_int(p, 1))
		return 0;
	return 1;
}

static void
teardown(void *provctx)
{
	struct lprov_ctx *pc = provctx;
	struct lprov_core *c, *next;

	if (pc == NULL)
		return;
	for (c = pc->cores; c != NULL; c = next) {
		next = c->next;
		lc_core_free(c->core); /* closes without sending, wipes */
		free(c);
	}
	OSSL_LIB_CTX_free(pc->pubctx);
	OSSL_LIB_CTX_free(pc->libctx);
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}

static const OSSL_DISPATCH provider_functions[] = {
	{OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))teardown},
	{OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))query},
	{OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))gettable_params},
	{OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))get_params},
	{OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))get_reason_strings},
	{0, NULL},
};

/*
 * The provider's section of openssl.cnf reaches us as core parameters:
 * LPROV_CONF_PARAM names the configuration of lurk: URIs without
 * ?config=. Checked here, said when a URI needs it (store.c).
 */
static void
read_settings(struct lprov_ctx *pc, OSSL_FUNC_core_get_params_fn *core_params)
{
	char *conf = NULL;
	OSSL_PARAM p[2];

	p[0] = OSSL_PARAM_construct_utf8_ptr(LPROV_CONF_PARAM, &conf, 0);
	p[1] = OSSL_PARAM_construct_end();
	if (core_params == NULL || !core_params(pc->handle, p) || conf == NULL)
		return;
	if (lprov_conf_path_ok(conf))
		snprintf(pc->default_conf, sizeof(pc->default_conf), "%s", conf);
	else
		pc->default_conf_bad = 1;
}

LURK_EXPORT OSSL_provider_init_fn OSSL_provider_init;

int
OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
	const OSSL_DISPATCH **out, void **provctx)
{
	OSSL_FUNC_core_get_params_fn *core_params = NULL;
	struct lprov_ctx *pc;

	for (const OSSL_DISPATCH *d = in; d->function_id != 0; d++) {
		switch (d->function_id) {
		case OSSL_FUNC_CORE_GET_PARAMS:
			core_params = OSSL_FUNC_core_get_params(d);
			break;
		case OSSL_FUNC_CORE_NEW_ERROR:
			c_new_error = OSSL_FUNC_core_new_error(d);
			break;
		case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
			c_set_error_debug = OSSL_FUNC_core_set_error_debug(d);
			break;
		case OSSL_FUNC_CORE_VSET_ERROR:
			c_vset_error = OSSL_FUNC_core_vset_error(d);
			break;
		default:
			break;
		}
	}
	if (sodium_init() < 0)
		return 0;
	log_setup();
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return 0;
	pc->handle = handle;
	if (pthread_mutex_init(&pc->lock, NULL) != 0) {
		free(pc);
		return 0;
	}
	read_settings(pc, core_params);
	/*
	 * libctx: the core's, so core BIOs work in the decoders. pubctx: a
	 * context of our own where the default provider does the public-key
	 * work (parsing the file's public key, matching a certificate), never
	 * reaching back into this provider.
	 */
	pc->libctx = OSSL_LIB_CTX_new_from_dispatch(handle, in);
	pc->pubctx = OSSL_LIB_CTX_new();
	if (pc->libctx == NULL || pc->pubctx == NULL) {
		teardown(pc);
		return 0;
	}
	*out = provider_functions;
	*provctx = pc;
	return 1;
}
