/*
 * lurkd.conf's [client] sections (conf.h): their settings, the keys they
 * name, and the load-time warning that needs clients and keys together.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ini.h"
#include "keyfile.h"
#include "keystore.h"
#include "log.h"
#include "tls.h"
#include "wire.h"
#include "conf-int.h"
#include "share-file.h"

int
lurkd_conf_set_str(char **dst, const char *value, const char *key, char *err, size_t err_len)
{
	if (*dst != NULL)
		return lurk_ini_fail(err, err_len, "'%s' given twice", key);
	if (*value == '\0')
		return lurk_ini_fail(err, err_len, "'%s' needs a value", key);
	if ((*dst = strdup(value)) == NULL)
		return LURK_ERR_ALLOC;
	return 0;
}

int
lurkd_conf_parse_rate(
	const char *k, const char *v, uint32_t *rate, uint32_t *burst, char *err, size_t err_len)
{
	unsigned long long n;

	if (lurk_ini_uint(v, LURK_RATELIMIT_MAX_RATE, &n) != 0)
		return lurk_ini_fail(err, err_len, "%s must be 0 to %u operations, got '%s'", k,
			LURK_RATELIMIT_MAX_RATE, v);
	if (strcmp(k, "rate-limit") == 0)
		*rate = (uint32_t)n;
	else
		*burst = (uint32_t)n;
	return 0;
}

int
lurkd_conf_client_item(
	struct lurkd_client *cl, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	const char *k = it->key, *v = it->value;

	if (strcmp(k, "public-key") == 0) {
		if (cl->fingerprint[0] != '\0')
			return lurk_ini_fail(err, err_len, "'%s' given twice", k);
		if (lurk_static_key_b64_decode(v, cl->pk) != 0)
			return lurk_ini_fail(err, err_len,
				"public-key must be 44 base64 characters (lurk-admin genkey), got "
				"'%s'",
				v);
		lurk_static_key_fingerprint(cl->pk, cl->fingerprint);
		return 0;
	}
	if (strcmp(k, "keys") == 0) {
		cl->keys_line = it->line;
		return lurkd_conf_set_str(&cl->keys_text, v, k, err, err_len);
	}
	if (strcmp(k, "require-content") == 0) {
		/* This credential's hash-only requests are refused, whatever the key. */
		if (lurk_ini_bool(v, &cl->require_content) != 0)
			return lurk_ini_fail(
				err, err_len, "require-content must be yes or no, got '%s'", v);
		return 0;
	}
	if (strcmp(k, "rate-limit") == 0 || strcmp(k, "rate-burst") == 0)
		return lurkd_conf_parse_rate(k, v, &cl->rate, &cl->burst, err, err_len);
	if (strcmp(k, "not-before") == 0 || strcmp(k, "not-after") == 0) {
		int64_t t;
		if (lurk_acl_parse_time(v, &t) != 0)
			return lurk_ini_fail(err, err_len,
				"%s must be like 2026-11-22T10:00:00Z (UTC), got '%s'", k, v);
		if (k[4] == 'b')
			cl->acl.not_before = t;
		else
			cl->acl.not_after = t;
		return 0;
	}
	if (strcmp(k, "sources") == 0) {
		if (lurk_acl_parse_sources(&cl->acl, v) != 0)
			return lurk_ini_fail(err, err_len,
				"sources is a list of ADDRESS[/BITS] (at most 64), got '%s'", v);
		return 0;
	}
	return lurk_ini_fail(err, err_len, "unknown setting '%s' in [client]", k);
}

int
lurkd_conf_client_keys(struct lurkd_config *c, struct lurkd_client *cl, char *why, size_t why_len)
{
	char *tmp, *save = NULL;
	int r = 0;

	if (cl->keys_text == NULL)
		return 0;
	if ((tmp = strdup(cl->keys_text)) == NULL)
		return LURK_ERR_ALLOC;
	for (char *t = strtok_r(tmp, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		struct lurkd_key_conf *found = NULL, **nk;
		for (size_t i = 0; i < c->nkeys; i++)
			if (strcmp(c->keys[i].name, t) == 0)
				found = &c->keys[i];
		if (found == NULL) {
			snprintf(why, why_len, "client '%s' names unknown key '%s'", cl->name, t);
			r = LURK_ERR_CONFIG;
			break;
		}
		for (size_t i = 0; i < cl->nkeys; i++)
			if (cl->keys[i] == found)
				found = NULL;
		if (found == NULL)
			continue;
		if ((nk = realloc(cl->keys, (cl->nkeys + 1) * sizeof(*nk))) == NULL) {
			r = LURK_ERR_ALLOC;
			break;
		}
		cl->keys = nk;
		cl->keys[cl->nkeys++] = found;
	}
	free(tmp);
	return r;
}

/*
 * The list response a client gets, in bytes: every key it may use with its
 * chain must fit in one message, or lurkd could not answer it.
 */
size_t
lurkd_conf_client_list_len(const struct lurkd_client *cl)
{
	size_t n = LURK_WIRE_LIST_RESP_HDR_LEN;

	for (size_t i = 0; i < cl->nkeys; i++) {
		const struct lurk_tls_key *k = cl->keys[i]->key;
		const uint32_t *mechs;
		size_t spki_len, cert_bytes = 0, len;

		if (cl->keys[i]->share != NULL) {
			/* A share: its public key, CKM_EDDSA or two RSA mechanisms, no chain. */
			n += lurk_wire_list_key_len(LURKD_KEY_ID_LEN, strlen(cl->keys[i]->name),
				cl->keys[i]->share->spki_len,
				cl->keys[i]->share->type == LURK_SHARE_RSA ? 2 : 1, 0, 0);
			continue;
		}
		if (k == NULL)
			return 0; /* keys not parsed: nothing to measure */
		(void)lurk_tls_key_spki(k, &spki_len);
		for (size_t j = 0; j < lurk_tls_key_chain_len(k); j++) {
			(void)lurk_tls_key_chain_cert(k, j, &len);
			cert_bytes += len;
		}
		n += lurk_wire_list_key_len(LURKD_KEY_ID_LEN, strlen(cl->keys[i]->name), spki_len,
			lurk_tls_key_mechanisms(k, &mechs), lurk_tls_key_chain_len(k), cert_bytes);
	}
	return n;
}

static int
client_has(const struct lurkd_client *cl, const struct lurkd_key_conf *k)
{
	for (size_t i = 0; i < cl->nkeys; i++)
		if (cl->keys[i] == k)
			return 1;
	return 0;
}

/* Keys with a warning line of their own at one load; the rest are counted. */
#define WARN_USE_LINES 16

/*
 * `use` is checked on content only (the TLS 1.3 context string, a
 * ServerKeyExchange block): a bare hash does not say which context it was
 * made for. So an RSA or ECDSA key limited to one use has that limit only
 * when no client of it can send bare hashes: the key or each of its clients
 * has require-content = yes. Ed25519/Ed448 sign content only.
 */
void
lurkd_conf_warn_use(const struct lurkd_config *c)
{
	size_t lines = 0, more = 0;

	for (size_t i = 0; i < c->nkeys; i++) {
		const struct lurkd_key_conf *k = &c->keys[i];
		const struct lurkd_client *first = NULL;
		char others[40];
		enum lurk_key_type t;
		size_t n = 0;

		if (k->key == NULL || k->policy.require_content ||
			k->policy.use == (LURK_USE_SERVER | LURK_USE_CLIENT))
			continue;
		t = lurk_tls_key_type(k->key);
		if (t != LURK_KEY_RSA && t != LURK_KEY_EC)
			continue;
		for (size_t j = 0; j < c->nclients; j++)
			if (!c->clients[j].require_content && client_has(&c->clients[j], k)) {
				first = first != NULL ? first : &c->clients[j];
				n++;
			}
		if (n == 0)
			continue;
		if (lines == WARN_USE_LINES) {
			more++;
			continue;
		}
		lines++;
		others[0] = '\0';
		if (n > 1)
			snprintf(others, sizeof(others), " (and %zu more)", n - 1);
		lurk_warn("%s:%u: key '%s' (%s): use = %s is not enforced: client '%s'%s may send "
			  "bare hashes, which do not show the TLS context; set require-content = "
			  "yes on the key or on each of its clients",
			c->path, k->line, k->name, t == LURK_KEY_RSA ? "RSA" : "ECDSA",
			k->policy.use == LURK_USE_CLIENT ? "client" : "server", first->name,
			others);
	}
	if (more != 0)
		lurk_warn("%s: and %zu more keys whose use is not enforced on bare hashes", c->path,
			more);
}
