/*
 * The commitment table: a fixed array of entries in one sodium_malloc'd
 * block (the secret nonces sit beside their handles), scanned linearly under
 * one mutex. Capacity is bounded (LURK_FROST_NONCES_MAX) and a scan is a few
 * thousand 16-byte compares at most, small beside the scalar multiplications
 * a signature costs.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "frost-nonces.h"

struct entry {
	uint8_t used;
	uint8_t handle[LURK_FROST_HANDLE_LEN];
	uint8_t client[LURK_FROST_OWNER_LEN];
	uint8_t key[LURK_FROST_OWNER_LEN];
	int64_t expires;
	struct lurk_frost_nonce nonce;
	struct lurk_frost_commitment com;
};

struct lurk_frost_nonces {
	pthread_mutex_t lock;
	struct entry *e; /* cap entries, sodium_malloc'd */
	size_t cap;
	size_t per_client;
	unsigned ttl;
};

int
lurk_frost_nonces_new(
	size_t capacity, size_t per_client, unsigned ttl_s, struct lurk_frost_nonces **out)
{
	struct lurk_frost_nonces *t;

	if (out == NULL)
		return LURK_ERR_INVALID_ARG;
	*out = NULL;
	if (capacity == 0 || capacity > LURK_FROST_NONCES_MAX || per_client == 0 ||
		per_client > capacity || ttl_s == 0 || ttl_s > LURK_FROST_NONCES_TTL_MAX)
		return LURK_ERR_INVALID_ARG;
	if (sodium_init() < 0)
		return LURK_ERR_INTERNAL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return LURK_ERR_ALLOC;
	/* capacity ≤ 65536 entries of ~250 bytes: no overflow. */
	if ((t->e = sodium_malloc(capacity * sizeof(*t->e))) == NULL) {
		free(t);
		return LURK_ERR_ALLOC;
	}
	sodium_memzero(t->e, capacity * sizeof(*t->e));
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		sodium_free(t->e);
		free(t);
		return LURK_ERR_SYSTEM;
	}
	t->cap = capacity;
	t->per_client = per_client;
	t->ttl = ttl_s;
	*out = t;
	return 0;
}

void
lurk_frost_nonces_free(struct lurk_frost_nonces *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	sodium_free(t->e); /* wipes the whole block */
	free(t);
}

static void
wipe(struct entry *e)
{
	sodium_memzero(e, sizeof(*e));
}

static size_t
expire_inlock(struct lurk_frost_nonces *t, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < t->cap; i++)
		if (t->e[i].used && t->e[i].expires <= now) {
			wipe(&t->e[i]);
			n++;
		}
	return n;
}

static size_t
count_inlock(struct lurk_frost_nonces *t, const uint8_t *client)
{
	size_t i, n = 0;

	for (i = 0; i < t->cap; i++)
		if (t->e[i].used && (client == NULL || memcmp(t->e[i].client, client,
							       LURK_FROST_OWNER_LEN) == 0))
			n++;
	return n;
}

int
lurk_frost_nonces_issue(struct lurk_frost_nonces *t, const uint8_t client[LURK_FROST_OWNER_LEN],
	const uint8_t key[LURK_FROST_OWNER_LEN], uint16_t id,
	const uint8_t a[LURK_FROST_SCALAR_LEN], int64_t now, size_t n,
	struct lurk_frost_issued *out)
{
	size_t i, done = 0;
	int rc = 0;

	if (out == NULL)
		return LURK_ERR_INVALID_ARG;
	if (t == NULL || client == NULL || key == NULL || a == NULL || id == 0 || n == 0 ||
		n > t->per_client) {
		memset(out, 0, sizeof(*out));
		return LURK_ERR_INVALID_ARG;
	}
	memset(out, 0, n * sizeof(*out));
	pthread_mutex_lock(&t->lock);
	expire_inlock(t, now);
	if (count_inlock(t, client) + n > t->per_client || count_inlock(t, NULL) + n > t->cap) {
		rc = LURK_ERR_BUSY;
		goto out;
	}
	for (i = 0; i < t->cap && done < n; i++) {
		struct entry *e = &t->e[i];

		if (e->used)
			continue;
		if ((rc = lurk_frost_commit(id, a, &e->nonce, &e->com)) < 0) {
			wipe(e);
			goto out;
		}
		randombytes_buf(e->handle, sizeof(e->handle));
		memcpy(e->client, client, LURK_FROST_OWNER_LEN);
		memcpy(e->key, key, LURK_FROST_OWNER_LEN);
		e->expires = now + (int64_t)t->ttl;
		e->used = 1;
		memcpy(out[done].handle, e->handle, sizeof(e->handle));
		out[done].com = e->com;
		done++;
	}
	if (done != n)
		rc = LURK_ERR_INTERNAL; /* counted free slots above */
out:
	if (rc < 0) {
		/* All or none: withdraw what this call issued. */
		size_t k, j;

		for (k = 0; k < done; k++)
			for (j = 0; j < t->cap; j++)
				if (t->e[j].used && sodium_memcmp(t->e[j].handle, out[k].handle,
							    LURK_FROST_HANDLE_LEN) == 0)
					wipe(&t->e[j]);
		memset(out, 0, n * sizeof(*out));
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int
lurk_frost_nonces_take(struct lurk_frost_nonces *t, const uint8_t client[LURK_FROST_OWNER_LEN],
	const uint8_t key[LURK_FROST_OWNER_LEN], const uint8_t handle[LURK_FROST_HANDLE_LEN],
	int64_t now, struct lurk_frost_nonce *nonce, struct lurk_frost_commitment *com)
{
	size_t i;
	int rc = LURK_ERR_NOT_FOUND;

	if (nonce == NULL || com == NULL)
		return LURK_ERR_INVALID_ARG;
	sodium_memzero(nonce, sizeof(*nonce));
	memset(com, 0, sizeof(*com));
	if (t == NULL || client == NULL || key == NULL || handle == NULL)
		return LURK_ERR_INVALID_ARG;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->cap; i++) {
		struct entry *e = &t->e[i];

		if (!e->used || sodium_memcmp(e->handle, handle, LURK_FROST_HANDLE_LEN) != 0)
			continue;
		/* Another client's or key's handle: not found, and not spent. */
		if (sodium_memcmp(e->client, client, LURK_FROST_OWNER_LEN) != 0 ||
			sodium_memcmp(e->key, key, LURK_FROST_OWNER_LEN) != 0)
			break;
		if (e->expires <= now) {
			rc = LURK_ERR_STALE;
		} else {
			*nonce = e->nonce;
			*com = e->com;
			rc = 0;
		}
		wipe(e); /* removed before the caller signs: take-once */
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

size_t
lurk_frost_nonces_expire(struct lurk_frost_nonces *t, int64_t now)
{
	size_t n;

	if (t == NULL)
		return 0;
	pthread_mutex_lock(&t->lock);
	n = expire_inlock(t, now);
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t
lurk_frost_nonces_count(struct lurk_frost_nonces *t, const uint8_t *client)
{
	size_t n;

	if (t == NULL)
		return 0;
	pthread_mutex_lock(&t->lock);
	n = count_inlock(t, client);
	pthread_mutex_unlock(&t->lock);
	return n;
}
