/*
 * The module's file (never x-init-reserved, which installed GnuTLS does
 * not pass on; docs/consumers.md): the client core's sections ([module],
 * [server]: client/conf.c) and the tokens, which are the module's:
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

#include "client/core.h"
#include "err.h"
#include "ini.h"
#include "module.h"
#include "tls.h"

/* A [token] header; any other section the core does not know is not ours either. */
static int
token_section(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	struct lp_conf *c = ctx;
	struct lp_token_conf *t;

	if (strcmp(it->section, "token") != 0)
		return 1;
	if (c->ntokens == LP_MAX_TOKENS)
		return lurk_ini_fail(err, err_len, "more than %d [token] sections", LP_MAX_TOKENS);
	t = &c->tokens[c->ntokens++];
	if (strlen(it->name) >= sizeof(t->name))
		return lurk_ini_fail(err, err_len, "token name too long");
	strcpy(t->name, it->name);
	snprintf(t->label, sizeof(t->label), "%s", *it->name ? it->name : "lurk");
	return 0;
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
token_item(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	return token_key(ctx, it->key, it->value, err, err_len);
}

/* Once the core found the file good: the default token, and labels told apart. */
static int
tokens_end(void *ctx, const char *path, char *err, size_t err_len)
{
	struct lp_conf *c = ctx;

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
				return LURK_ERR_CONFIG;
			}
	return 0;
}

int
lp_conf_load(struct lp_conf *c, struct lc_core **core, const char *path, char *err, size_t err_len)
{
	struct lc_conf_face face = {token_section, token_item, tokens_end, c};
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = lc_core_new(core, path, &face, err, err_len)) != 0) {
		lp_conf_clear(c);
		return r;
	}
	return 0;
}

void
lp_conf_clear(struct lp_conf *c)
{
	for (size_t i = 0; i < LP_MAX_TOKENS; i++)
		for (size_t j = 0; j < c->tokens[i].nkeys; j++)
			free(c->tokens[i].keys[j]);
	memset(c, 0, sizeof(*c));
}

const char *
lp_conf_path(void)
{
	const char *p = secure_getenv("LURK_PKCS11_CONF");

	return p != NULL && *p != '\0' ? p : LURK_SYSCONFDIR "/lurk/lurk-pkcs11.conf";
}
