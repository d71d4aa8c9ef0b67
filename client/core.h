/*
 * The client core (docs/architecture.md): what every face of lurk on the
 * TLS server's side uses, with no PKCS#11 in it. One context holds the
 * configuration of the key servers (conf.h), the connections to them
 * (pool.h) and the key list (keys.h); ops.h signs and decrypts with it.
 *
 *   lc_core_new(&cc, path, face, err, len)   read the file, make the pool
 *   lc_core_keys(cc, &list)                  the keys lurkd serves us
 *   lc_sign(cc, key, mech, param, data, ...) one signature, within the timeout
 *   lc_core_free(cc)
 *
 * The core creates no thread, prints nothing to stdout and never exits;
 * its locks are held for memory work only, never across a round trip. It
 * logs through log.h, whose setup is the face's.
 */
#ifndef LURK_CLIENT_CORE_H
#define LURK_CLIENT_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "conf.h"
#include "keys.h"
#include "pool.h"
#include "wire.h"

struct lc_core;
struct lc_split;

/*
 * Reads the configuration at path (face: the sections of the caller's own,
 * or NULL) and makes the pool, with the client key in it unless the file's
 * key is PIN-protected (then see lc_core_open_key). The caller has run
 * sodium_init. 0; LURK_ERR_CONFIG when the file is not good (err says why:
 * file:line: reason); LURK_ERR_ALLOC.
 */
int lc_core_new(struct lc_core **out, const char *path, const struct lc_conf_face *face, char *err,
	size_t err_len) LURK_MUST_CHECK;
/* Closes every connection without sending, wipes every secret. NULL is fine. */
void lc_core_free(struct lc_core *cc);
const struct lc_conf *lc_core_conf(const struct lc_core *cc);
/* The whole keys' pool (share 1's when there is none). */
struct lc_pool *lc_core_pool(struct lc_core *cc);
/* The pool of the server holding share 1 or 2 of the split keys, or NULL. */
struct lc_pool *lc_core_share_pool(struct lc_core *cc, int share);
/* The split keys' state (client/split.h). */
struct lc_split *lc_core_split(struct lc_core *cc);
/* In a forked child: drops what the parent's connections left, fresh locks. */
void lc_core_after_fork(struct lc_core *cc);

/*
 * A PIN-protected client key, opened with the PIN into sk (Argon2id: slow,
 * no lock held; sk is the caller's to wipe). 0; LURK_ERR_DECRYPT for a
 * wrong PIN; LURK_ERR_ALLOC when Argon2id lacks memory; LURK_ERR_STATE
 * when the file's key is not PIN-protected.
 */
int lc_core_open_key(const struct lc_core *cc, const char *pin, size_t pin_len,
	uint8_t sk[LURK_NOISE_KEY_LEN]) LURK_MUST_CHECK;
/* The client key for new connections (NULL wipes it); see lc_pool_set_key. */
int lc_core_set_key(struct lc_core *cc, const uint8_t *sk) LURK_MUST_CHECK;
/* 1 when there is a client key to connect with. */
int lc_core_key_ready(struct lc_core *cc);

/* The key list (keys.h: lc_keys_get), valid until lc_core_free. */
int lc_core_keys(struct lc_core *cc, const struct lurk_wire_list_resp **out) LURK_MUST_CHECK;

#endif
