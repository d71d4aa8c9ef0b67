/*
 * The key servers' part of a client configuration file:
 *
 *   [module]
 *   client-key = /etc/lurk/client.key    our Noise private key (mode 0600); if
 *                                        PIN-protected, it must be unlocked first
 *   connect-timeout = 3000               ms, connect and handshake
 *   timeout = 5000                       ms, each request
 *   idle-connections = 64                kept open per server
 *
 *   [server a]                           one or more replicas of the key server
 *   address = unix:/run/lurk/lurkd.sock  or tcp:HOST:PORT, tcp:[V6]:PORT
 *   public-key = BASE64                  lurkd's static key (lurk-admin pubkey)
 *   share = 1                            this server holds share 1 (or 2) of the
 *                                        split keys (client/split.c), not replicas
 *
 * Any other section is the face's (struct lc_conf_face), or an error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "conn.h"
#include "err.h"

struct ctx {
	struct lc_conf *c;
	const struct lc_conf_face *face;
	enum { S_NONE, S_MODULE, S_SERVER, S_FACE } section;
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
section(struct ctx *x, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	struct lc_conf *c = x->c;
	int r;

	if (strcmp(it->section, "module") == 0) {
		x->section = S_MODULE;
		return 0;
	}
	if (strcmp(it->section, "server") == 0) {
		struct lc_server *s;
		if (c->nservers == LC_MAX_SERVERS)
			return lurk_ini_fail(
				err, err_len, "more than %d [server] sections", LC_MAX_SERVERS);
		s = &c->servers[c->nservers++];
		x->section = S_SERVER;
		x->have_key = 0;
		if (strlen(it->name) >= sizeof(s->name))
			return lurk_ini_fail(err, err_len, "server name too long");
		strcpy(s->name, it->name);
		return 0;
	}
	if (x->face != NULL && x->face->section != NULL &&
		(r = x->face->section(x->face->ctx, it, err, err_len)) <= 0) {
		x->section = S_FACE;
		return r;
	}
	return lurk_ini_fail(err, err_len, "unknown section [%s]", it->section);
}

static int
module_key(struct lc_conf *c, const char *k, const char *v, char *err, size_t err_len)
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
	struct lc_server *s = &x->c->servers[x->c->nservers - 1];
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
	if (strcmp(k, "share") == 0) {
		if (s->share != 0)
			return lurk_ini_fail(err, err_len, "'share' given twice");
		if (strcmp(v, "1") != 0 && strcmp(v, "2") != 0)
			return lurk_ini_fail(err, err_len, "share must be 1 or 2, not '%s'", v);
		s->share = v[0] - '0';
		return 0;
	}
	return lurk_ini_fail(err, err_len, "unknown key '%s' in [server]", k);
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
	case S_FACE:
		if (x->face->item == NULL)
			return lurk_ini_fail(
				err, err_len, "unknown key '%s' in [%s]", it->key, it->section);
		return x->face->item(x->face->ctx, it, err, err_len);
	default:
		return lurk_ini_fail(err, err_len, "'%s' outside a section", it->key);
	}
}

/*
 * The holders of a split key's two shares: one server each (a commitment
 * lives in one lurkd's memory, so a share has no replica), both or neither.
 */
static int
check_shares(const struct lc_conf *c, char *err, size_t err_len)
{
	const char *name[3] = {NULL, NULL, NULL};

	for (size_t i = 0; i < c->nservers; i++) {
		int sh = c->servers[i].share;
		if (sh == 0)
			continue;
		if (name[sh] != NULL) {
			snprintf(err, err_len,
				"%s: [server %s] and [server %s] both have share = %d: a share "
				"is held by one server (no replicas)",
				c->path, name[sh], c->servers[i].name, sh);
			return LURK_ERR_CONFIG;
		}
		name[sh] = c->servers[i].name;
	}
	if ((name[1] == NULL) != (name[2] == NULL)) {
		snprintf(err, err_len,
			"%s: [server %s] has share = %d but no server has share = %d", c->path,
			name[1] ? name[1] : name[2], name[1] ? 1 : 2, name[1] ? 2 : 1);
		return LURK_ERR_CONFIG;
	}
	return 0;
}

int
lc_conf_load(struct lc_conf *c, const char *path, const struct lc_conf_face *face, char *err,
	size_t err_len)
{
	struct ctx x = {.c = c, .face = face};
	uint8_t zero[LURK_NOISE_KEY_LEN] = {0};
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->connect_timeout_ms = LC_CONNECT_TIMEOUT_MS;
	c->io_timeout_ms = LC_IO_TIMEOUT_MS;
	c->idle_per_server = LC_IDLE_PER_SERVER;
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
	if ((r = check_shares(c, err, err_len)) != 0)
		goto fail;
	r = LURK_ERR_CONFIG;
	if (!c->pin_protected && sodium_memcmp(c->client_sk, zero, sizeof(zero)) == 0) {
		snprintf(err, err_len, "%s: [module] has no client-key", path);
		goto fail;
	}
	if (face != NULL && face->end != NULL &&
		(r = face->end(face->ctx, path, err, err_len)) != 0)
		goto fail;
	return 0;
fail:
	lc_conf_clear(c);
	return r;
}

void
lc_conf_clear(struct lc_conf *c)
{
	for (size_t i = 0; i < LC_MAX_SERVERS; i++)
		free(c->servers[i].address);
	sodium_memzero(c, sizeof(*c));
}
