/*
 * The module's own file (never x-init-reserved, which installed GnuTLS does
 * not pass on; docs/consumers.md):
 *
 *   [module]
 *   client-key = /etc/lurk/client.key    our Noise private key (mode 0600); if
 *                                        PIN-protected, the token requires login
 *   connect-timeout = 3000               ms, connect and handshake
 *   timeout = 5000                       ms, each request
 *   idle-connections = 64                kept open per server
 *
 *   [server a]                           one or more replicas of the key server
 *   address = unix:/run/lurk/lurkd.sock  or tcp:HOST:PORT, tcp:[V6]:PORT
 *   public-key = BASE64                  lurkd's static key (lurk-admin pubkey)
 *
 *   [token web]                          optional; default one token "lurk"
 *   label = lurk-web                     with every key
 *   keys = www, api                      key labels shown in this token
 *   key-types = rsa, ec                  or key types (rsa, ec, ed25519, ed448)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/conn.h"
#include "err.h"
#include "ini.h"
#include "keyfile.h"
#include "module.h"
#include "policy.h"

struct ctx {
	struct lp_conf *c;
	enum { S_NONE, S_MODULE, S_SERVER, S_TOKEN } section;
	int have_key;
};

static int
get_ms(const char *v, int *out, char *err, size_t err_len)
{
	unsigned long long n;

	if (lurk_ini_uint(v, 600000, &n) != 0 || n == 0)
		return lurk_ini_fail(
			err, err_len, "expected milliseconds between 1 and 600000, got '%s'", v);
	*out = (int)n;
	return 0;
}

static int
copy_name(char *dst, size_t len, const char *name, const char *what, char *err, size_t err_len)
{
	if (strlen(name) >= len)
		return lurk_ini_fail(err, err_len, "%s name too long", what);
	strcpy(dst, name);
	return 0;
}

static int
section(struct ctx *x, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	struct lp_conf *c = x->c;

	if (strcmp(it->section, "module") == 0) {
		x->section = S_MODULE;
		return 0;
	}
	if (strcmp(it->section, "server") == 0) {
		struct lp_server *s;
		if (c->nservers == LP_MAX_SERVERS)
			return lurk_ini_fail(
				err, err_len, "more than %d [server] sections", LP_MAX_SERVERS);
		s = &c->servers[c->nservers++];
		x->section = S_SERVER;
		x->have_key = 0;
		return copy_name(s->name, sizeof(s->name), it->name, "server", err, err_len);
	}
	if (strcmp(it->section, "token") == 0) {
		struct lp_token_conf *t;
		if (c->ntokens == LP_MAX_TOKENS)
			return lurk_ini_fail(
				err, err_len, "more than %d [token] sections", LP_MAX_TOKENS);
		t = &c->tokens[c->ntokens++];
		x->section = S_TOKEN;
		if (copy_name(t->name, sizeof(t->name), it->name, "token", err, err_len) != 0)
			return LURK_ERR_CONFIG;
		snprintf(t->label, sizeof(t->label), "%s", *it->name ? it->name : "lurk");
		return 0;
	}
	return lurk_ini_fail(err, err_len, "unknown section [%s]", it->section);
}

static int
module_key(struct lp_conf *c, const char *k, const char *v, char *err, size_t err_len)
{
	const char *why = NULL;
	unsigned long long n;

	if (strcmp(k, "client-key") == 0) {
		if (lurk_keyfile_load(v, c->client_sk, c->locked, &c->pin_protected, &why) != 0)
			return lurk_ini_fail(
				err, err_len, "client-key %s: %s", v, why ? why : "unreadable");
		return 0;
	}
	if (strcmp(k, "connect-timeout") == 0)
		return get_ms(v, &c->connect_timeout_ms, err, err_len);
	if (strcmp(k, "timeout") == 0)
		return get_ms(v, &c->io_timeout_ms, err, err_len);
	if (strcmp(k, "idle-connections") == 0) {
		if (lurk_ini_uint(v, 4096, &n) != 0)
			return lurk_ini_fail(
				err, err_len, "idle-connections: expected 0..4096, got '%s'", v);
		c->idle_per_server = (unsigned)n;
		return 0;
	}
	return lurk_ini_fail(err, err_len, "unknown key '%s' in [module]", k);
}

static int
server_key(struct ctx *x, const char *k, const char *v, char *err, size_t err_len)
{
	struct lp_server *s = &x->c->servers[x->c->nservers - 1];
	int is_unix;
	char host[256], port[16];

	if (strcmp(k, "address") == 0) {
		if (s->address != NULL)
			return lurk_ini_fail(err, err_len, "'address' given twice");
		if (lurk_client_parse_address(
			    v, &is_unix, host, sizeof(host), port, sizeof(port)) != 0)
			return lurk_ini_fail(err, err_len,
				"address must be unix:/PATH, tcp:HOST:PORT or tcp:[V6]:PORT, not "
				"'%s'",
				v);
		return (s->address = strdup(v)) != NULL ? 0 : LURK_ERR_ALLOC;
	}
	if (strcmp(k, "public-key") == 0) {
		if (lurk_static_key_b64_decode(v, s->pk) != 0)
			return lurk_ini_fail(
				err, err_len, "public-key must be 44 base64 characters");
		x->have_key = 1;
		return 0;
	}
	return lurk_ini_fail(err, err_len, "unknown key '%s' in [server]", k);
}

static int
token_key(struct lp_conf *c, const char *k, const char *v, char *err, size_t err_len)
{
	struct lp_token_conf *t = &c->tokens[c->ntokens - 1];
	char buf[LURK_INI_MAX_LINE], *item, *save;

	if (strcmp(k, "label") == 0) {
		if (*v == '\0' || strlen(v) > 32)
			return lurk_ini_fail(err, err_len, "label must be 1 to 32 bytes");
		snprintf(t->label, sizeof(t->label), "%s", v);
		return 0;
	}
	if (strcmp(k, "keys") != 0 && strcmp(k, "key-types") != 0)
		return lurk_ini_fail(err, err_len, "unknown key '%s' in [token]", k);
	snprintf(buf, sizeof(buf), "%s", v);
	for (item = strtok_r(buf, ", \t", &save); item != NULL;
		item = strtok_r(NULL, ", \t", &save)) {
		if (strcmp(k, "keys") == 0) {
			if (t->nkeys == LP_MAX_FILTER)
				return lurk_ini_fail(err, err_len, "more than %d keys in one token",
					LP_MAX_FILTER);
			if ((t->keys[t->nkeys] = strdup(item)) == NULL)
				return LURK_ERR_ALLOC;
			t->nkeys++;
		} else if (strcmp(item, "rsa") == 0) {
			t->types |= 1u << LURK_KEY_RSA;
		} else if (strcmp(item, "ec") == 0) {
			t->types |= 1u << LURK_KEY_EC;
		} else if (strcmp(item, "ed25519") == 0) {
			t->types |= 1u << LURK_KEY_ED25519;
		} else if (strcmp(item, "ed448") == 0) {
			t->types |= 1u << LURK_KEY_ED448;
		} else {
			return lurk_ini_fail(err, err_len,
				"unknown key type '%s' (rsa, ec, ed25519, ed448)", item);
		}
	}
	return 0;
}

static int
on_item(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	struct ctx *x = ctx;

	if (it->key == NULL) {
		if (x->section == S_SERVER && !x->have_key)
			return lurk_ini_fail(
				err, err_len, "the [server] before this one has no public-key");
		return section(x, it, err, err_len);
	}
	switch (x->section) {
	case S_MODULE:
		return module_key(x->c, it->key, it->value, err, err_len);
	case S_SERVER:
		return server_key(x, it->key, it->value, err, err_len);
	case S_TOKEN:
		return token_key(x->c, it->key, it->value, err, err_len);
	default:
		return lurk_ini_fail(err, err_len, "'%s' outside a section", it->key);
	}
}

int
lp_conf_load(struct lp_conf *c, const char *path, char *err, size_t err_len)
{
	struct ctx x = {.c = c};
	uint8_t zero[LURK_NOISE_KEY_LEN] = {0};
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->connect_timeout_ms = LP_CONNECT_TIMEOUT_MS;
	c->io_timeout_ms = LP_IO_TIMEOUT_MS;
	c->idle_per_server = LP_IDLE_PER_SERVER;
	if ((r = lurk_ini_parse_file(path, on_item, &x, err, err_len)) != 0)
		goto fail;
	r = LURK_ERR_CONFIG;
	if (x.section == S_SERVER && !x.have_key) {
		snprintf(err, err_len, "%s: the last [server] has no public-key", path);
		goto fail;
	}
	if (c->nservers == 0) {
		snprintf(err, err_len, "%s: no [server] section", path);
		goto fail;
	}
	for (size_t i = 0; i < c->nservers; i++) {
		if (c->servers[i].address == NULL) {
			snprintf(err, err_len, "%s: [server %s] has no address", path,
				c->servers[i].name);
			goto fail;
		}
	}
	if (!c->pin_protected && sodium_memcmp(c->client_sk, zero, sizeof(zero)) == 0) {
		snprintf(err, err_len, "%s: [module] has no client-key", path);
		goto fail;
	}
	if (c->ntokens == 0) {
		c->ntokens = 1;
		snprintf(c->tokens[0].name, sizeof(c->tokens[0].name), "lurk");
		snprintf(c->tokens[0].label, sizeof(c->tokens[0].label), "lurk");
	}
	for (size_t i = 0; i < c->ntokens; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->tokens[i].label, c->tokens[j].label) == 0) {
				snprintf(err, err_len, "%s: two tokens labelled '%s'", path,
					c->tokens[i].label);
				goto fail;
			}
	return 0;
fail:
	lp_conf_clear(c);
	return r;
}

void
lp_conf_clear(struct lp_conf *c)
{
	for (size_t i = 0; i < LP_MAX_SERVERS; i++)
		free(c->servers[i].address);
	for (size_t i = 0; i < LP_MAX_TOKENS; i++)
		for (size_t j = 0; j < c->tokens[i].nkeys; j++)
			free(c->tokens[i].keys[j]);
	sodium_memzero(c, sizeof(*c));
}

const char *
lp_conf_path(void)
{
	const char *p = secure_getenv("LURK_PKCS11_CONF");

	return p != NULL && *p != '\0' ? p : LURK_SYSCONFDIR "/lurk/lurk-pkcs11.conf";
}
