#include "config.h"

#include <arpa/inet.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <sodium.h>

#include "addr.h"
#include "err.h"
#include "files.h"
#include "implicit.h"
#include "ini.h"
#include "keyfile.h"
#include "keystore.h"
#include "listen.h"
#include "metrics.h"
#include "log.h"
#include "mem.h"
#include "share-file.h"
#include "wire.h"
#include "conf.h"
#include "conf-int.h"

#define MAX_ERRORS 200

/* Every problem found in one run, each with its line (0: the file as a whole). */
struct errors {
	struct {
		unsigned line;
		char *text;
	} e[MAX_ERRORS];
	size_t n;
	size_t more; /* past MAX_ERRORS */
};

struct parse_ctx {
	struct lurkd_config *c;
	struct lurkd_key_conf *key;  /* current [key] section */
	struct lurkd_client *client; /* current [client] section */
	int in_server;
	int skip; /* the current section header was refused: skip its items */
	struct errors *errs;
};

static void LURK_PRINTF(3, 4) add_error(struct errors *es, unsigned line, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	if (es->n == MAX_ERRORS) {
		es->more++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	es->e[es->n].line = line;
	if ((es->e[es->n].text = strdup(buf)) != NULL)
		es->n++;
}

static void
errors_clear(struct errors *es)
{
	for (size_t i = 0; i < es->n; i++)
		free(es->e[i].text);
	es->n = 0;
	es->more = 0;
}

/* "FILE:LINE: reason" lines in line order, joined with newlines. */
static void
errors_format(struct errors *es, const char *path, char *out, size_t out_len)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 1; i < es->n; i++) /* few entries: insertion sort, stable */
		for (size_t j = i; j > 0 && es->e[j - 1].line > es->e[j].line; j--) {
			unsigned l = es->e[j].line;
			char *t = es->e[j].text;
			es->e[j] = es->e[j - 1];
			es->e[j - 1].line = l;
			es->e[j - 1].text = t;
		}
	for (size_t i = 0; i < es->n && off + 1 < out_len; i++) {
		int n;
		if (es->e[i].line != 0)
			n = snprintf(out + off, out_len - off, "%s%s:%u: %s", i ? "\n" : "", path,
				es->e[i].line, es->e[i].text);
		else
			n = snprintf(out + off, out_len - off, "%s%s: %s", i ? "\n" : "", path,
				es->e[i].text);
		if (n < 0 || (size_t)n >= out_len - off)
			return;
		off += (size_t)n;
	}
	if (es->more != 0 && off + 1 < out_len)
		snprintf(out + off, out_len - off, "\n%s: and %zu more errors", path, es->more);
}

/* One address, unix:/PATH or tcp:ADDRESS:PORT, into l (what: the setting, for errors). */
static int
parse_addr(struct lurkd_listen *l, const char *what, const char *v, unsigned line, char *err,
	size_t err_len)
{
	struct lurk_addr a;
	unsigned char addr[16];
	unsigned long long p;

	memset(l, 0, sizeof(*l));
	l->line = line;
	/* An empty host or port is refused below, by the numeric checks that name it. */
	switch (lurk_addr_parse(v, &a)) {
	case LURK_ADDR_BAD_SCHEME:
		return lurk_ini_fail(err, err_len,
			"%s must be unix:/PATH or tcp:ADDRESS:PORT, got '%s'", what, v);
	case LURK_ADDR_BAD_PATH:
		return lurk_ini_fail(err, err_len,
			"unix socket path must be absolute and under 108 bytes: '%s'", v + 5);
	case LURK_ADDR_NO_BRACKET:
		return lurk_ini_fail(err, err_len, "expected tcp:[ADDRESS]:PORT, got '%s'", v);
	case LURK_ADDR_NO_COLON:
		return lurk_ini_fail(err, err_len, "expected tcp:ADDRESS:PORT, got '%s'", v);
	default:
		break;
	}
	if (a.kind == LURK_ADDR_UNIX) {
		l->kind = LURKD_LISTEN_UNIX;
		return (l->path = strndup(a.host, a.host_len)) == NULL ? LURK_ERR_ALLOC : 0;
	}
	l->kind = LURKD_LISTEN_TCP;
	if ((l->host = strndup(a.host, a.host_len)) == NULL ||
		(l->port = strndup(a.port, a.port_len)) == NULL)
		return LURK_ERR_ALLOC;
	if (inet_pton(AF_INET, l->host, addr) != 1 && inet_pton(AF_INET6, l->host, addr) != 1)
		return lurk_ini_fail(
			err, err_len, "'%s' is not a numeric IPv4 or IPv6 address", l->host);
	if (lurk_ini_uint(l->port, 65535, &p) != 0)
		return lurk_ini_fail(err, err_len, "'%s' is not a port number", l->port);
	return 0;
}

static void
listen_clear(struct lurkd_listen *l)
{
	free(l->host);
	free(l->port);
	free(l->path);
	memset(l, 0, sizeof(*l));
}

static int
parse_listen(struct lurkd_config *c, const char *v, unsigned line, char *err, size_t err_len)
{
	int r;

	if (c->nlisten >= LURKD_MAX_LISTEN)
		return lurk_ini_fail(
			err, err_len, "more than %u listen addresses", LURKD_MAX_LISTEN);
	if ((r = parse_addr(&c->listen[c->nlisten], "listen", v, line, err, err_len)) != 0) {
		listen_clear(&c->listen[c->nlisten]);
		return r;
	}
	c->nlisten++;
	return 0;
}

/* metrics-listen (metrics.h): one address; a second one replaces the first. */
static int
parse_metrics_listen(
	struct lurkd_config *c, const char *v, unsigned line, char *err, size_t err_len)
{
	int r;

	listen_clear(&c->metrics_listen);
	if ((r = parse_addr(&c->metrics_listen, "metrics-listen", v, line, err, err_len)) != 0)
		listen_clear(&c->metrics_listen);
	return r;
}

static int
server_item(struct lurkd_config *c, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	unsigned long long n;
	const char *k = it->key, *v = it->value;

	if (strcmp(k, "listen") == 0)
		return parse_listen(c, v, it->line, err, err_len);
	if (strcmp(k, "metrics-listen") == 0)
		return parse_metrics_listen(c, v, it->line, err, err_len);
	if (strcmp(k, "metrics-allow-remote") == 0) {
		if (lurk_ini_bool(v, &c->metrics_allow_remote) != 0)
			return lurk_ini_fail(err, err_len,
				"metrics-allow-remote must be yes or no, got '%s'", v);
		return 0;
	}
	if (strcmp(k, "static-key") == 0) {
		c->static_key_line = it->line;
		return lurkd_conf_set_str(&c->static_key_path, v, k, err, err_len);
	}
	if (strcmp(k, "audit-log") == 0) {
		if (strcmp(v, "none") == 0)
			return 0;
		return lurkd_conf_set_str(&c->audit_log, v, k, err, err_len);
	}
	if (strcmp(k, "user") == 0) {
		c->user_line = it->line;
		return lurkd_conf_set_str(&c->user, v, k, err, err_len);
	}
	if (strcmp(k, "audit-sync") == 0) {
		if (lurk_ini_bool(v, &c->audit_sync) != 0)
			return lurk_ini_fail(
				err, err_len, "audit-sync must be yes or no, got '%s'", v);
		return 0;
	}
	if (strcmp(k, "workers") == 0) {
		if (lurk_ini_uint(v, 256, &n) != 0 || n == 0)
			return lurk_ini_fail(err, err_len, "workers must be 1 to 256, got '%s'", v);
		c->workers = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "socket-mode") == 0) {
		unsigned mode = 0;
		if (strlen(v) < 1 || strlen(v) > 4 || strspn(v, "01234567") != strlen(v))
			return lurk_ini_fail(
				err, err_len, "socket-mode must be octal, e.g. 0660, got '%s'", v);
		for (const char *p = v; *p; p++)
			mode = mode * 8 + (unsigned)(*p - '0');
		if (mode & 0007)
			return lurk_ini_fail(
				err, err_len, "socket-mode %s gives access to others", v);
		c->socket_mode = mode;
		return 0;
	}
	if (strcmp(k, "replay-window") == 0) {
		if (lurk_ini_uint(v, 3600, &n) != 0 || n < 5)
			return lurk_ini_fail(err, err_len,
				"replay-window must be 5 to 3600 seconds, got '%s'", v);
		c->replay_window_s = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "replay-cache") == 0) {
		if (lurk_ini_uint(v, 1u << 24, &n) != 0 || n < 16)
			return lurk_ini_fail(
				err, err_len, "replay-cache must be 16 to 16777216, got '%s'", v);
		c->replay_cache = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "session-max-age") == 0) {
		if (lurk_ini_uint(v, 86400, &n) != 0 || n < 10)
			return lurk_ini_fail(err, err_len,
				"session-max-age must be 10 to 86400 seconds, got '%s'", v);
		c->session_max_age_s = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "handshake-timeout") == 0) {
		if (lurk_ini_uint(v, 60, &n) != 0 || n < 1)
			return lurk_ini_fail(err, err_len,
				"handshake-timeout must be 1 to 60 seconds, got '%s'", v);
		c->handshake_timeout_s = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "idle-timeout") == 0) {
		if (lurk_ini_uint(v, 86400, &n) != 0 || n < 10)
			return lurk_ini_fail(err, err_len,
				"idle-timeout must be 10 to 86400 seconds, got '%s'", v);
		c->idle_timeout_s = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "frame-timeout") == 0) {
		if (lurk_ini_uint(v, 600, &n) != 0 || n < 1)
			return lurk_ini_fail(err, err_len,
				"frame-timeout must be 1 to 600 seconds, got '%s'", v);
		c->frame_timeout_s = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "max-connections") == 0) {
		if (lurk_ini_uint(v, 1000000, &n) != 0 || n < 1)
			return lurk_ini_fail(
				err, err_len, "max-connections must be 1 to 1000000, got '%s'", v);
		c->max_connections = (unsigned)n;
		c->max_connections_line = it->line;
		return 0;
	}
	if (strcmp(k, "max-connections-per-source") == 0 ||
		strcmp(k, "max-connections-per-client") == 0) {
		if (lurk_ini_uint(v, 1000000, &n) != 0 || n < 1)
			return lurk_ini_fail(
				err, err_len, "%s must be 1 to 1000000, got '%s'", k, v);
		if (strcmp(k, "max-connections-per-source") == 0)
			c->max_per_source = (unsigned)n;
		else
			c->max_per_client = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "frame-memory") == 0) {
		if (lurk_ini_uint(v, 4096, &n) != 0 || n < 1)
			return lurk_ini_fail(err, err_len,
				"frame-memory must be 1 to 4096 (megabytes), got '%s'", v);
		c->frame_memory = (size_t)n << 20;
		return 0;
	}
	return lurk_ini_fail(err, err_len, "unknown setting '%s' in [server]", k);
}

static int
parse_use(const char *v, unsigned *use)
{
	char tmp[64], *save = NULL;

	*use = 0;
	if (strlen(v) >= sizeof(tmp))
		return LURK_ERR_CONFIG;
	strcpy(tmp, v);
	for (char *t = strtok_r(tmp, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		if (strcmp(t, "server") == 0)
			*use |= LURK_USE_SERVER;
		else if (strcmp(t, "client") == 0)
			*use |= LURK_USE_CLIENT;
		else
			return LURK_ERR_CONFIG;
	}
	return *use != 0 ? 0 : LURK_ERR_CONFIG;
}

static int
parse_versions(const char *v, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{"1.0", LURK_TLS10}, {"1.1", LURK_TLS11}, {"1.2", LURK_TLS12}, {"1.3", LURK_TLS13}};
	char tmp[64], *save = NULL;

	*out = 0;
	if (strlen(v) >= sizeof(tmp))
		return LURK_ERR_CONFIG;
	strcpy(tmp, v);
	for (char *t = strtok_r(tmp, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		size_t i;
		for (i = 0; i < LURK_ARRAY_LEN(names); i++)
			if (strcmp(t, names[i].name) == 0)
				break;
		if (i == LURK_ARRAY_LEN(names))
			return LURK_ERR_CONFIG;
		*out |= names[i].bit;
	}
	return *out != 0 ? 0 : LURK_ERR_CONFIG;
}

static int
key_item(struct lurkd_key_conf *key, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	const char *k = it->key, *v = it->value;

	if (strcmp(k, "source") == 0)
		return lurkd_conf_set_str(&key->source, v, k, err, err_len);
	if (strcmp(k, "share") == 0)
		return lurkd_conf_set_str(&key->share_path, v, k, err, err_len);
	if (strcmp(k, "password-file") == 0)
		return lurkd_conf_set_str(&key->password_file, v, k, err, err_len);
	if (strcmp(k, "chain") == 0)
		return lurkd_conf_set_str(&key->chain, v, k, err, err_len);
	if (strcmp(k, "use") == 0) {
		if (parse_use(v, &key->policy.use) != 0)
			return lurk_ini_fail(err, err_len,
				"use is server, client or 'server client', got '%s'", v);
		return 0;
	}
	if (strcmp(k, "tls-versions") == 0) {
		if (parse_versions(v, &key->policy.tls_versions) != 0)
			return lurk_ini_fail(err, err_len,
				"tls-versions is a list of 1.0 1.1 1.2 1.3, got '%s'", v);
		return 0;
	}
	if (strcmp(k, "require-content") == 0) {
		if (lurk_ini_bool(v, &key->policy.require_content) != 0)
			return lurk_ini_fail(
				err, err_len, "require-content must be yes or no, got '%s'", v);
		return 0;
	}
	if (strcmp(k, "rsa-decrypt") == 0) {
		if (lurk_ini_bool(v, &key->policy.rsa_decrypt) != 0)
			return lurk_ini_fail(
				err, err_len, "rsa-decrypt must be yes or no, got '%s'", v);
		return 0;
	}
	if (strcmp(k, "rate-limit") == 0 || strcmp(k, "rate-burst") == 0)
		return lurkd_conf_parse_rate(k, v, &key->rate, &key->burst, err, err_len);
	return lurk_ini_fail(err, err_len, "unknown setting '%s' in [key]", k);
}

static int
open_section(struct parse_ctx *p, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	struct lurkd_config *c = p->c;

	p->key = NULL;
	p->client = NULL;
	p->in_server = 0;
	if (strcmp(it->section, "server") == 0) {
		if (it->name[0] != '\0')
			return lurk_ini_fail(
				err, err_len, "[server] takes no name, got '%s'", it->name);
		p->in_server = 1;
		return 0;
	}
	if (strcmp(it->section, "key") == 0) {
		if (it->name[0] == '\0')
			return lurk_ini_fail(err, err_len, "[key NAME] needs a name%s", "");
		for (size_t i = 0; i < c->nkeys; i++)
			if (strcmp(c->keys[i].name, it->name) == 0)
				return lurk_ini_fail(
					err, err_len, "key '%s' defined twice", it->name);
		/* One list response carries every key a client may use. */
		if (c->nkeys >= LURKD_MAX_KEYS)
			return lurk_ini_fail(err, err_len,
				"more than %u keys (the most one list response carries)",
				LURKD_MAX_KEYS);
		/* A key's name is its PKCS#11 label on the wire: bounded, UTF-8, no NUL. */
		if (strlen(it->name) > LURKD_MAX_KEY_NAME)
			return lurk_ini_fail(err, err_len,
				"key name of %zu bytes, over the limit of %u (it is its label)",
				strlen(it->name), LURKD_MAX_KEY_NAME);
		if (lurk_wire_text_check((const uint8_t *)it->name, strlen(it->name)) != 0)
			return lurk_ini_fail(
				err, err_len, "key name '%s' is not UTF-8 text", it->name);
		struct lurkd_key_conf *nk = realloc(c->keys, (c->nkeys + 1) * sizeof(*nk));
		if (nk == NULL)
			return LURK_ERR_ALLOC;
		c->keys = nk;
		p->key = &c->keys[c->nkeys++];
		memset(p->key, 0, sizeof(*p->key));
		p->key->line = it->line;
		lurk_policy_default(&p->key->policy);
		return (p->key->name = strdup(it->name)) != NULL ? 0 : LURK_ERR_ALLOC;
	}
	if (strcmp(it->section, "client") == 0) {
		if (it->name[0] == '\0')
			return lurk_ini_fail(err, err_len, "[client NAME] needs a name%s", "");
		for (size_t i = 0; i < c->nclients; i++)
			if (strcmp(c->clients[i].name, it->name) == 0)
				return lurk_ini_fail(
					err, err_len, "client '%s' defined twice", it->name);
		if (c->nclients >= LURKD_MAX_CLIENTS)
			return lurk_ini_fail(
				err, err_len, "more than %u clients", LURKD_MAX_CLIENTS);
		struct lurkd_client *ncl = realloc(c->clients, (c->nclients + 1) * sizeof(*ncl));
		if (ncl == NULL)
			return LURK_ERR_ALLOC;
		c->clients = ncl;
		p->client = &c->clients[c->nclients++];
		memset(p->client, 0, sizeof(*p->client));
		lurk_acl_init(&p->client->acl);
		p->client->line = it->line;
		return (p->client->name = strdup(it->name)) != NULL ? 0 : LURK_ERR_ALLOC;
	}
	return lurk_ini_fail(
		err, err_len, "unknown section [%s] (expected server, key or client)", it->section);
}

static int
on_item(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	struct parse_ctx *p = ctx;
	char why[512] = "";
	int r;

	if (it->key == NULL) {
		r = open_section(p, it, why, sizeof(why));
		p->skip = r != 0;
	} else if (p->skip) {
		return 0;
	} else if (p->in_server) {
		r = server_item(p->c, it, why, sizeof(why));
	} else if (p->key != NULL) {
		r = key_item(p->key, it, why, sizeof(why));
	} else if (p->client != NULL) {
		r = lurkd_conf_client_item(p->client, it, why, sizeof(why));
	} else {
		r = lurk_ini_fail(why, sizeof(why), "a setting before any section%s", "");
	}
	if (r == LURK_ERR_CONFIG) {
		/* Note it and go on: one run reports every problem. */
		add_error(p->errs, it->line, "%s", why[0] ? why : lurk_err_str(r));
		return 0;
	}
	if (r != 0)
		snprintf(err, err_len, "%s", lurk_err_str(r));
	return r;
}

/* The first line of a password file (at most 1023 bytes), malloc'd. */
static int
read_password(struct lurkd_files *fs, const char *path, char **out, char *why, size_t why_len)
{
	uint8_t *d = NULL;
	size_t len = 0, n;
	char fwhy[256];

	*out = NULL;
	if (lurkd_files_read(fs, path, LURKD_FILE_SECRET | LURKD_FILE_OWNER_ONLY, &d, &len, fwhy,
		    sizeof(fwhy)) != 0) {
		snprintf(why, why_len, "cannot read password-file %s: %s", path, fwhy);
		return LURK_ERR_CONFIG;
	}
	n = strcspn((const char *)d, "\r\n");
	if (n > 1023) {
		lurkd_files_release(d, len);
		snprintf(why, why_len, "password-file %s: first line too long", path);
		return LURK_ERR_CONFIG;
	}
	if ((*out = malloc(n + 1)) != NULL) {
		memcpy(*out, d, n);
		(*out)[n] = '\0';
	}
	lurkd_files_release(d, len);
	return *out != NULL ? 0 : LURK_ERR_ALLOC;
}

/*
 * Reads one key's files (source, chain, password) and, with parse, loads the
 * key through the key store and derives its stable id from its public key.
 */
static int
load_key(struct lurkd_files *fs, struct lurkd_key_conf *k, int parse, char *why, size_t why_len)
{
	struct lurk_tls_key_source src = {.source = k->source, .chain = k->chain};
	uint8_t *pem = NULL, *chain = NULL, digest[32];
	size_t pem_len = 0, chain_len = 0;
	char *password = NULL, fwhy[256];
	const uint8_t *spki;
	size_t spki_len;
	int r;

	if (k->password_file != NULL &&
		(r = read_password(fs, k->password_file, &password, why, why_len)) != 0)
		return r;
	if (strncmp(k->source, "pkcs11:", 7) != 0 &&
		lurkd_files_read(fs, k->source, LURKD_FILE_SECRET | LURKD_FILE_OWNER_ONLY, &pem,
			&pem_len, fwhy, sizeof(fwhy)) != 0) {
		snprintf(why, why_len, "cannot read %s: %s", k->source, fwhy);
		r = LURK_ERR_KEY_FILE;
		goto out;
	}
	if (lurkd_files_read(fs, k->chain, 0, &chain, &chain_len, fwhy, sizeof(fwhy)) != 0) {
		snprintf(why, why_len, "cannot read certificate file %s: %s", k->chain, fwhy);
		r = LURK_ERR_KEY_FILE;
		goto out;
	}
	r = 0;
	if (!parse)
		goto out;
	src.pem = pem;
	src.pem_len = pem_len;
	src.password = password;
	src.chain_pem = chain;
	src.chain_len = chain_len;
	r = lurk_tls_key_load(&src, &k->key, why, why_len);
out:
	if (password != NULL)
		lurk_freezero(password, strlen(password));
	lurkd_files_release(pem, pem_len);
	lurkd_files_release(chain, chain_len);
	if (r != 0 || !parse)
		return r;
	/* CKA_ID: the first 20 bytes of SHA-256 over the SubjectPublicKeyInfo. */
	spki = lurk_tls_key_spki(k->key, &spki_len);
	if (spki == NULL || gnutls_hash_fast(GNUTLS_DIG_SHA256, spki, spki_len, digest) != 0) {
		snprintf(why, why_len, "cannot read the public key");
		return LURK_ERR_CRYPTO;
	}
	memcpy(k->id, digest, LURKD_KEY_ID_LEN);
	if (lurk_tls_key_type(k->key) != LURK_KEY_RSA && k->policy.rsa_decrypt) {
		snprintf(why, why_len, "rsa-decrypt is only possible with an RSA key");
		return LURK_ERR_CONFIG;
	}
	if (k->policy.rsa_decrypt && lurkd_implicit_secret(k->key, k->implicit_secret) != 0) {
		snprintf(why, why_len, "cannot derive the implicit-rejection secret");
		return LURK_ERR_CRYPTO;
	}
	return 0;
}

/*
 * Reads a share = file (a secret, owner-only, through the file reader so the
 * privileged parent can hand it over) and, with parse, checks it
 * (share-file.c) and derives the key id from the whole key's public key, as
 * for any key (Ed25519 and RSA shares).
 */
static int
load_share(struct lurkd_files *fs, struct lurkd_key_conf *k, int parse, char *why, size_t why_len)
{
	uint8_t *d = NULL, digest[32];
	size_t len = 0;
	const char *swhy = NULL;
	char fwhy[256];
	int r;

	if (k->password_file != NULL || k->chain != NULL || k->policy.rsa_decrypt) {
		snprintf(why, why_len,
			"a share takes no password-file, chain or rsa-decrypt (it never "
			"signs or decrypts alone)");
		return LURK_ERR_CONFIG;
	}
	if (lurkd_files_read(fs, k->share_path, LURKD_FILE_SECRET | LURKD_FILE_OWNER_ONLY, &d, &len,
		    fwhy, sizeof(fwhy)) != 0) {
		snprintf(why, why_len, "cannot read share %s: %s", k->share_path, fwhy);
		return LURK_ERR_KEY_FILE;
	}
	if (!parse) {
		lurkd_files_release(d, len);
		return 0;
	}
	r = lurk_share_parse(d, len, &k->share, &swhy);
	lurkd_files_release(d, len);
	if (r != 0) {
		snprintf(why, why_len, "share %s: %s", k->share_path,
			swhy != NULL ? swhy : lurk_err_str(r));
		return r;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, k->share->spki, k->share->spki_len, digest) != 0) {
		snprintf(why, why_len, "cannot hash the public key");
		return LURK_ERR_CRYPTO;
	}
	memcpy(k->id, digest, LURKD_KEY_ID_LEN);
	return 0;
}

static void
validate(struct lurkd_config *c, struct lurkd_files *fs, unsigned flags, struct errors *es)
{
	char why[512];
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	if (c->nlisten == 0)
		add_error(es, 0, "[server] needs at least one 'listen'");
	for (size_t i = 0; i < c->nlisten; i++)
		if (c->listen[i].kind == LURKD_LISTEN_UNIX &&
			lurkd_listen_dir_check(c->listen[i].path, why, sizeof(why)) != 0)
			add_error(es, c->listen[i].line, "listen unix:%s: %s", c->listen[i].path,
				why);
	if (lurkd_metrics_conf_check(
		    &c->metrics_listen, c->metrics_allow_remote, why, sizeof(why)) != 0)
		add_error(es, c->metrics_listen.line, "metrics-listen: %s", why);
	else if (c->metrics_listen.kind == LURKD_LISTEN_UNIX &&
		 lurkd_listen_dir_check(c->metrics_listen.path, why, sizeof(why)) != 0)
		add_error(es, c->metrics_listen.line, "metrics-listen unix:%s: %s",
			c->metrics_listen.path, why);
	if (c->user != NULL && getpwnam(c->user) == NULL)
		add_error(es, c->user_line, "user '%s' does not exist", c->user);
	if ((c->sk = lurk_secret_alloc(LURK_NOISE_KEY_LEN)) == NULL) {
		add_error(es, 0, "out of memory");
		return;
	}
	if (c->static_key_path == NULL) {
		add_error(es, 0, "[server] needs 'static-key' (make one with lurk-admin genkey)");
	} else if (lurkd_files_read(fs, c->static_key_path,
			   LURKD_FILE_SECRET | LURKD_FILE_OWNER_ONLY, &text, &len, why,
			   sizeof(why)) != 0) {
		add_error(es, c->static_key_line, "static-key %s: %s", c->static_key_path, why);
	} else {
		const char *kwhy = NULL;
		if (lurk_keyfile_parse((const char *)text, len, c->sk, &kwhy) != 0 ||
			lurk_static_key_public(c->sk, c->pk) != 0)
			add_error(es, c->static_key_line, "static-key %s: %s", c->static_key_path,
				kwhy != NULL ? kwhy : "invalid key");
		else if (lurk_secret_readonly(c->sk) != 0)
			add_error(es, c->static_key_line, "static-key: cannot protect its memory");
		else
			/* Guard pages around it, locked, read-only: a stray write faults. */
			lurk_debug(LURK_DBG_KEYS, "static key in guarded memory at %p, read-only",
				(void *)c->sk);
		lurkd_files_release(text, len);
	}
	for (size_t i = 0; i < c->nkeys; i++) {
		struct lurkd_key_conf *k = &c->keys[i];
		if (lurk_ratelimit_init(&k->rl, k->rate, k->burst) != 0)
			add_error(es, k->line, "key '%s': cannot set up its rate limit", k->name);
		else
			k->rl_ready = 1;
		if (k->source != NULL && k->share_path != NULL) {
			add_error(es, k->line, "key '%s' has both 'source' and 'share'", k->name);
			continue;
		}
		why[0] = '\0';
		r = 0;
		if (k->share_path != NULL)
			r = load_share(fs, k, (flags & LURKD_CONF_KEYS) != 0, why, sizeof(why));
		else if (k->source == NULL)
			add_error(es, k->line, "key '%s' needs a 'source' (or a 'share')", k->name);
		if (k->share_path == NULL && k->chain == NULL)
			add_error(es, k->line, "key '%s' needs a 'chain' (certificate file)",
				k->name);
		if (k->share_path == NULL && (k->source == NULL || k->chain == NULL))
			continue;
		if (k->share_path == NULL)
			r = load_key(fs, k, (flags & LURKD_CONF_KEYS) != 0, why, sizeof(why));
		if (r != 0) {
			add_error(es, k->line, "key '%s': %s", k->name,
				why[0] ? why : lurk_err_str(r));
			continue;
		}
		for (size_t j = 0; (k->key != NULL || k->share != NULL) && j < i; j++)
			if ((c->keys[j].key != NULL || c->keys[j].share != NULL) &&
				memcmp(c->keys[j].id, k->id, LURKD_KEY_ID_LEN) == 0)
				add_error(es, k->line, "key '%s' is the same key as '%s'", k->name,
					c->keys[j].name);
	}
	for (size_t i = 0; i < c->nclients; i++) {
		struct lurkd_client *cl = &c->clients[i];
		size_t list_len;

		if (cl->fingerprint[0] == '\0')
			add_error(es, cl->line, "client '%s' needs a 'public-key'", cl->name);
		if (cl->acl.not_before > cl->acl.not_after)
			add_error(es, cl->line, "client '%s': not-before is after not-after",
				cl->name);
		if (lurk_ratelimit_init(&cl->rl, cl->rate, cl->burst) != 0)
			add_error(es, cl->line, "client '%s': cannot set up its rate limit",
				cl->name);
		else
			cl->rl_ready = 1;
		for (size_t j = 0; cl->fingerprint[0] != '\0' && j < i; j++)
			if (memcmp(c->clients[j].pk, cl->pk, LURK_NOISE_KEY_LEN) == 0)
				add_error(es, cl->line,
					"client '%s' has the same public key as '%s'", cl->name,
					c->clients[j].name);
		why[0] = '\0';
		if ((r = lurkd_conf_client_keys(c, cl, why, sizeof(why))) != 0)
			add_error(es, cl->keys_line != 0 ? cl->keys_line : cl->line, "%s",
				why[0] ? why : lurk_err_str(r));
		else if ((list_len = lurkd_conf_client_list_len(cl)) > LURK_WIRE_MAX_MSG)
			add_error(es, cl->keys_line != 0 ? cl->keys_line : cl->line,
				"client '%s': its %zu keys and chains make a list response of %zu "
				"bytes, over the limit of %u",
				cl->name, cl->nkeys, list_len, LURK_WIRE_MAX_MSG);
	}
}

static void
config_free(struct lurkd_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nlisten; i++) {
		free(c->listen[i].host);
		free(c->listen[i].port);
		free(c->listen[i].path);
	}
	listen_clear(&c->metrics_listen);
	for (size_t i = 0; i < c->nkeys; i++) {
		struct lurkd_key_conf *k = &c->keys[i];
		lurk_tls_key_free(k->key);
		lurk_share_free(k->share);
		free(k->share_path);
		if (k->rl_ready)
			lurk_ratelimit_clear(&k->rl);
		lurk_wipe(k->implicit_secret, sizeof(k->implicit_secret));
		free(k->name);
		free(k->source);
		free(k->password_file);
		free(k->chain);
	}
	free(c->keys);
	for (size_t i = 0; i < c->nclients; i++) {
		if (c->clients[i].rl_ready)
			lurk_ratelimit_clear(&c->clients[i].rl);
		free(c->clients[i].name);
		free(c->clients[i].keys_text);
		free(c->clients[i].keys);
		free(c->clients[i].mpairs);
	}
	free(c->clients);
	lurk_secret_free(c->sk);
	free(c->path);
	free(c->static_key_path);
	free(c->audit_log);
	free(c->user);
	free(c);
}

static struct lurkd_config *
config_new(void)
{
	struct lurkd_config *c = calloc(1, sizeof(*c));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (c == NULL)
		return NULL;
	atomic_init(&c->refs, 1);
	c->workers = cores > 0 && cores <= 256 ? (unsigned)cores : 2;
	c->socket_mode = 0660;
	c->replay_window_s = LURK_REPLAY_WINDOW_S;
	c->replay_cache = LURK_REPLAY_CACHE_DEFAULT;
	c->session_max_age_s = LURK_SESSION_MAX_AGE_S;
	c->max_connections = 20000;
	/*
	 * A module process keeps up to 64 connections per server (its
	 * idle-connections): 1024 lets 16 of them share one host or one client
	 * key, and one source or one stolen key still gets only 5% of the
	 * default max-connections.
	 */
	c->max_per_source = 1024;
	c->max_per_client = 1024;
	/*
	 * A request is at most one 64 KB frame at a time; 32 MB holds 500 of
	 * them stalled at once, and keeps lurkd's memory for partial requests
	 * well under 100 MB whatever its peers do.
	 */
	c->frame_memory = (size_t)32 << 20;
	c->idle_timeout_s = LURK_SESSION_MAX_AGE_S;
	c->frame_timeout_s = 10;
	c->handshake_timeout_s = 10;
	return c;
}

/*
 * Parses text into c, noting every problem. A line the INI reader cannot
 * read is noted and blanked, and the text parsed again from the start, so
 * the lines after it are checked too.
 */
static int
parse_text(char *text, size_t len, struct lurkd_config **cp, struct errors *es, char *err,
	size_t err_len)
{
	struct errors syntax;
	int r = 0;

	memset(&syntax, 0, sizeof(syntax));
	for (unsigned tries = 0; tries <= MAX_ERRORS; tries++) {
		struct parse_ctx p;
		char ierr[600];
		unsigned line = 0;

		errors_clear(es);
		lurkd_config_unref(*cp);
		if ((*cp = config_new()) == NULL)
			return LURK_ERR_ALLOC;
		memset(&p, 0, sizeof(p));
		p.c = *cp;
		p.errs = es;
		r = lurk_ini_parse(text, len, on_item, &p, ierr, sizeof(ierr), &line);
		if (r != LURK_ERR_CONFIG || line == 0)
			break;
		/* "LINE: reason": keep the reason, blank the line, read again. */
		const char *reason = strchr(ierr, ':');
		add_error(&syntax, line, "%s", reason != NULL ? reason + 2 : ierr);
		char *ls = text;
		for (unsigned l = 1; l < line && ls != NULL; l++)
			if ((ls = memchr(ls, '\n', len - (size_t)(ls - text))) != NULL)
				ls++;
		for (; ls != NULL && ls < text + len && *ls != '\n'; ls++)
			*ls = ' ';
		r = 0;
	}
	if (r != 0) {
		errors_clear(&syntax);
		snprintf(err, err_len, "%s", lurk_err_str(r));
		return r;
	}
	for (size_t i = 0; i < syntax.n; i++)
		add_error(es, syntax.e[i].line, "%s", syntax.e[i].text);
	errors_clear(&syntax);
	return 0;
}

int
lurkd_config_load(const char *path, struct lurkd_files *fs, unsigned flags,
	struct lurkd_config **out, char *err, size_t err_len)
{
	struct lurkd_config *c = NULL;
	struct errors *es;
	uint8_t *text = NULL;
	size_t len = 0;
	char why[256];
	int r;

	*out = NULL;
	if ((es = calloc(1, sizeof(*es))) == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		return LURK_ERR_ALLOC;
	}
	if (lurkd_files_read(fs, path, 0, &text, &len, why, sizeof(why)) != 0) {
		snprintf(err, err_len, "%s: cannot read: %s", path, why);
		r = LURK_ERR_CONFIG;
		goto out;
	}
	if ((r = parse_text((char *)text, len, &c, es, err, err_len)) != 0)
		goto out;
	if ((c->path = strdup(path)) == NULL) {
		r = LURK_ERR_ALLOC;
		snprintf(err, err_len, "%s: out of memory", path);
		goto out;
	}
	validate(c, fs, flags, es);
	if (es->n != 0) {
		errors_format(es, path, err, err_len);
		r = LURK_ERR_CONFIG;
		goto out;
	}
	if (flags & LURKD_CONF_KEYS)
		lurkd_conf_warn_use(c);
	*out = c;
	c = NULL;
out:
	lurkd_files_release(text, len);
	errors_clear(es);
	free(es);
	lurkd_config_unref(c);
	return r;
}

struct lurkd_config *
lurkd_config_ref(struct lurkd_config *c)
{
	if (c != NULL)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

void
lurkd_config_unref(struct lurkd_config *c)
{
	if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
		config_free(c);
}

const struct lurkd_client *
lurkd_config_client(const struct lurkd_config *c, const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	const struct lurkd_client *found = NULL;

	/* Visit every entry so the time taken does not depend on where a key sits. */
	for (size_t i = 0; i < c->nclients; i++)
		if (sodium_memcmp(c->clients[i].pk, pk, LURK_NOISE_KEY_LEN) == 0)
			found = &c->clients[i];
	return found;
}

size_t
lurkd_client_key_index(const struct lurkd_client *cl, const uint8_t *id, size_t id_len)
{
	size_t i = 0;

	if (id_len != LURKD_KEY_ID_LEN)
		return cl->nkeys;
	while (i < cl->nkeys && memcmp(cl->keys[i]->id, id, LURKD_KEY_ID_LEN) != 0)
		i++;
	return i;
}

const struct lurkd_key_conf *
lurkd_client_key(const struct lurkd_client *cl, const uint8_t *id, size_t id_len)
{
	size_t i = lurkd_client_key_index(cl, id, id_len);

	return i < cl->nkeys ? cl->keys[i] : NULL;
}
