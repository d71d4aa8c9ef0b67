/*
 * The key servers' part of a client configuration file (lurk-pkcs11.conf's
 * format, docs/consumers.md): the [module] settings (client key, timeouts,
 * idle connections) and the [server] sections, one per replica of lurkd.
 *
 * A face keeps sections of its own in the same file (the PKCS#11 module's
 * [token] sections): the loader hands it every section it does not know,
 * and that section's items, through struct lc_conf_face.
 */
#ifndef LURK_CLIENT_CONF_H
#define LURK_CLIENT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "ini.h"
#include "keyfile.h"
#include "lurk-limits.h"

/*
 * One key server. Those with share 0 serve the same whole keys (replicas);
 * share 1 and share 2 name the one server holding each share of the split
 * keys (client/split.c).
 */
struct lc_server {
	char name[64];
	char *address;
	uint8_t pk[LURK_NOISE_KEY_LEN];
	int share; /* 0, 1 or 2 */
};

struct lc_conf {
	char path[4096];
	uint8_t client_sk[LURK_NOISE_KEY_LEN]; /* secret, as read; lc_core_new moves it into the
						  pool and wipes it here */
	uint8_t locked[LURK_LOCKED_LEN];       /* the sealed key, when the file is PIN-protected */
	int pin_protected;
	int connect_timeout_ms;
	int io_timeout_ms;
	unsigned idle_per_server;
	struct lc_server servers[LC_MAX_SERVERS];
	size_t nservers;
};

/*
 * A face's own sections. section() is called with the header of a section
 * the core does not own: 0 takes it (its items then go to item()), 1 leaves
 * it (the file is refused: unknown section), else a LURK_ERR_* with err
 * written (lurk_ini_fail). end() runs once the core found the file good, for
 * the face's checks and defaults; its err is "FILE: reason". Any of them may
 * be NULL.
 */
struct lc_conf_face {
	int (*section)(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len);
	int (*item)(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len);
	int (*end)(void *ctx, const char *path, char *err, size_t err_len);
	void *ctx;
};

/*
 * Reads the file; on failure err says why (file:line: reason) and c is
 * cleared. face may be NULL: then only [module] and [server] are known.
 */
int lc_conf_load(struct lc_conf *c, const char *path, const struct lc_conf_face *face, char *err,
	size_t err_len) LURK_MUST_CHECK;
/* Frees and wipes (the client key with the rest). */
void lc_conf_clear(struct lc_conf *c);

#endif
