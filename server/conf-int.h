/*
 * Inside lurkd.conf's loader: what conf.c and conf-client.c (the [client]
 * sections, and the load-time checks that look at clients and keys together)
 * share. Not for other callers.
 */
#ifndef LURKD_CONF_INT_H
#define LURKD_CONF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "conf.h"
#include "ini.h"

/* A string setting given once, not empty: strdup'd into *dst. */
int lurkd_conf_set_str(
	char **dst, const char *value, const char *key, char *err, size_t err_len) LURK_MUST_CHECK;
/* rate-limit or rate-burst: into *rate or *burst, whichever k names. */
int lurkd_conf_parse_rate(const char *k, const char *v, uint32_t *rate, uint32_t *burst, char *err,
	size_t err_len) LURK_MUST_CHECK;
/* One setting of a [client] section. */
int lurkd_conf_client_item(struct lurkd_client *cl, const struct lurk_ini_item *it, char *err,
	size_t err_len) LURK_MUST_CHECK;
/* The client's `keys` names onto c's keys (cl->keys); why says which name is unknown. */
int lurkd_conf_client_keys(
	struct lurkd_config *c, struct lurkd_client *cl, char *why, size_t why_len) LURK_MUST_CHECK;
/* The bytes of the list response cl gets; 0 when the keys were not parsed. */
size_t lurkd_conf_client_list_len(const struct lurkd_client *cl);
/*
 * Load-time warnings, to lurkd's log with the file and line: a key whose
 * `use` cannot be enforced because a client allowed it may send bare hashes
 * (docs/policy.md). Only keys loaded through the key store are looked at.
 */
void lurkd_conf_warn_use(const struct lurkd_config *c);

#endif
