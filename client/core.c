/*
 * The client core's context: configuration, pool and key list together,
 * made and freed by the face. The client key goes from the file into the
 * pool's guarded memory at once, and no other copy stays.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core.h"
#include "err.h"
#include "split.h"

struct lc_core {
	struct lc_conf conf;
	/*
	 * Per group of servers: [0] whole keys (replicas), [1] and [2] the
	 * holders of share 1 and share 2 of the split keys. sub[g] is conf with
	 * only that group's servers (the addresses are conf's), for its pool;
	 * a group with no server has no pool.
	 */
	struct lc_conf sub[3];
	struct lc_pool *pool[3];
	struct lc_keys keys;
	struct lc_split *split;
};

/* conf's timeouts and the servers of group g, with no secret copied. */
static void
make_sub(const struct lc_conf *c, int g, struct lc_conf *sub)
{
	memset(sub, 0, sizeof(*sub));
	memcpy(sub->path, c->path, sizeof(sub->path));
	sub->connect_timeout_ms = c->connect_timeout_ms;
	sub->io_timeout_ms = c->io_timeout_ms;
	sub->idle_per_server = c->idle_per_server;
	for (size_t i = 0; i < c->nservers; i++)
		if (c->servers[i].share == g)
			sub->servers[sub->nservers++] = c->servers[i];
}

int
lc_core_new(struct lc_core **out, const char *path, const struct lc_conf_face *face, char *err,
	size_t err_len)
{
	struct lc_core *cc = calloc(1, sizeof(*cc));
	int r;

	*out = NULL;
	if (cc == NULL)
		return LURK_ERR_ALLOC;
	if (err_len > 0)
		err[0] = '\0';
	if ((r = lc_conf_load(&cc->conf, path, face, err, err_len)) != 0) {
		if (err_len > 0 && err[0] == '\0')
			snprintf(err, err_len, "%s: %s", path, lurk_err_str(r));
		free(cc);
		return LURK_ERR_CONFIG;
	}
	if (lc_keys_init(&cc->keys) != 0) {
		lc_conf_clear(&cc->conf);
		free(cc);
		return LURK_ERR_ALLOC;
	}
	if (lc_split_new(&cc->split) != 0) {
		lc_core_free(cc);
		return LURK_ERR_ALLOC;
	}
	for (int g = 0; g < 3; g++) {
		make_sub(&cc->conf, g, &cc->sub[g]);
		if (cc->sub[g].nservers == 0)
			continue;
		if (lc_pool_new(&cc->pool[g], &cc->sub[g]) != 0 ||
			(!cc->conf.pin_protected &&
				lc_pool_set_key(cc->pool[g], cc->conf.client_sk) != 0)) {
			lc_core_free(cc);
			return LURK_ERR_ALLOC;
		}
	}
	/* The pool keeps the key in guarded memory; no other copy stays. */
	sodium_memzero(cc->conf.client_sk, sizeof(cc->conf.client_sk));
	*out = cc;
	return 0;
}

void
lc_core_free(struct lc_core *cc)
{
	if (cc == NULL)
		return;
	for (int g = 0; g < 3; g++)
		lc_pool_free(cc->pool[g]);
	lc_split_free(cc->split);
	lc_keys_clear(&cc->keys);
	lc_conf_clear(&cc->conf);
	free(cc);
}

const struct lc_conf *
lc_core_conf(const struct lc_core *cc)
{
	return &cc->conf;
}

struct lc_pool *
lc_core_pool(struct lc_core *cc)
{
	return cc->pool[0] != NULL ? cc->pool[0] : cc->pool[1];
}

struct lc_pool *
lc_core_share_pool(struct lc_core *cc, int share)
{
	return cc->pool[share];
}

struct lc_split *
lc_core_split(struct lc_core *cc)
{
	return cc->split;
}

void
lc_core_after_fork(struct lc_core *cc)
{
	if (cc == NULL)
		return;
	lc_keys_after_fork(&cc->keys);
	lc_split_after_fork(cc->split);
	for (int g = 0; g < 3; g++)
		lc_pool_forget(cc->pool[g]);
}

int
lc_core_open_key(
	const struct lc_core *cc, const char *pin, size_t pin_len, uint8_t sk[LURK_NOISE_KEY_LEN])
{
	if (!cc->conf.pin_protected)
		return LURK_ERR_STATE;
	/* Not every failure is a wrong PIN: Argon2id may lack memory (LURK_ERR_ALLOC). */
	return lurk_static_key_unlock(cc->conf.locked, pin, pin_len, sk);
}

int
lc_core_set_key(struct lc_core *cc, const uint8_t *sk)
{
	int r;

	for (int g = 0; g < 3; g++)
		if (cc->pool[g] != NULL && (r = lc_pool_set_key(cc->pool[g], sk)) != 0)
			return r;
	return 0;
}

int
lc_core_key_ready(struct lc_core *cc)
{
	return lc_pool_has_key(lc_core_pool(cc));
}

int
lc_core_keys(struct lc_core *cc, const struct lurk_wire_list_resp **out)
{
	return lc_keys_get(&cc->keys, cc->pool, out);
}
