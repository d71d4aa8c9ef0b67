/*
 * The key list, fetched from lurkd once and kept. The fetch is a round trip
 * made without the lock; two callers that race may both fetch, and the
 * first to come back keeps its list.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "ops.h"

int
lc_keys_init(struct lc_keys *k)
{
	memset(k, 0, sizeof(*k));
	return pthread_mutex_init(&k->lock, NULL) == 0 ? 0 : LURK_ERR_ALLOC;
}

void
lc_keys_clear(struct lc_keys *k)
{
	lurk_wire_list_resp_clear(&k->list);
	pthread_mutex_destroy(&k->lock);
	memset(k, 0, sizeof(*k));
}

void
lc_keys_after_fork(struct lc_keys *k)
{
	(void)pthread_mutex_init(&k->lock, NULL);
}

static int
build_list(void *ctx, struct lurk_buf *out, uint32_t id)
{
	(void)ctx;
	return lurk_wire_list_req_build(out, id);
}

static int
fetch(struct lc_pool *pool, struct lurk_wire_list_resp *list)
{
	struct lurk_buf *resp = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_hdr h;
	struct lurk_wire_error e;
	int r;

	if (resp == NULL)
		return LURK_ERR_ALLOC;
	if ((r = lc_pool_call(pool, build_list, NULL, resp)) != 0)
		goto out;
	r = LURK_ERR_BAD_FORMAT;
	if (lurk_wire_header_parse(resp, &h) != 0)
		lurk_error("key list: malformed response");
	else if (h.type == LURK_WIRE_ERROR && lurk_wire_error_parse(resp, &e) == 0)
		r = lc_refused(&e, "list", "-");
	else if (h.type != LURK_WIRE_LIST_RESP || lurk_wire_list_resp_parse(resp, list) != 0)
		lurk_error("key list: malformed response");
	else
		r = 0;
out:
	lurk_buf_free(resp);
	return r;
}

static const struct lurk_wire_key *
find_id(const struct lurk_wire_list_resp *l, const struct lurk_wire_key *k)
{
	for (size_t i = 0; i < l->key_count; i++)
		if (l->keys[i].id_len == k->id_len && memcmp(l->keys[i].id, k->id, k->id_len) == 0)
			return &l->keys[i];
	return NULL;
}

static int
label_taken(const struct lurk_wire_key *keys, size_t n, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].label, label) == 0)
			return 1;
	return 0;
}

/*
 * One list from the groups' (l[0]: whole keys; l[1], l[2]: the holders of
 * share 1 and share 2; ok[g] when that group answered): the whole keys,
 * then each split key as one signing key with both share flags
 * (client/split.c signs with it). When both share holders answered, a split
 * key is offered only if they list it with the same id, type and public
 * key; when one is down, as the other lists it (signing fails until the
 * other is back). Keys each group serves otherwise (a whole key at a share
 * holder, a share at a whole-key server) are not offered: a server may
 * hold both kinds for different clients' files. Keys are moved out of l[],
 * which the caller clears.
 */
static int
merge(struct lurk_wire_list_resp l[3], const int ok[3], struct lurk_wire_list_resp *out)
{
	size_t cap = l[0].key_count + l[1].key_count + l[2].key_count, n = 0;
	struct lurk_wire_key *keys = calloc(cap ? cap : 1, sizeof(*keys));
	const uint32_t shares = LURK_WIRE_KEY_SHARE1 | LURK_WIRE_KEY_SHARE2;
	const uint32_t flag[3] = {0, LURK_WIRE_KEY_SHARE1, LURK_WIRE_KEY_SHARE2};

	if (keys == NULL)
		return LURK_ERR_ALLOC;
	for (size_t i = 0; i < l[0].key_count; i++) {
		struct lurk_wire_key *k = &l[0].keys[i];
		if (k->flags & shares)
			continue;
		keys[n++] = *k;
		memset(k, 0, sizeof(*k));
	}
	for (int g = 1; g <= 2; g++) {
		int o = 3 - g;
		if (!ok[g] || (g == 2 && ok[1]))
			continue; /* share 2's list leads only when share 1's is missing */
		for (size_t i = 0; i < l[g].key_count; i++) {
			struct lurk_wire_key *a = &l[g].keys[i];
			const struct lurk_wire_key *b = find_id(&l[o], a);
			uint32_t rc = 0;
			if (!(a->flags & flag[g]))
				continue;
			if (ok[o]) {
				if (b == NULL || !(b->flags & flag[o]) || b->type != a->type ||
					b->spki_len != a->spki_len ||
					memcmp(b->spki, a->spki, a->spki_len) != 0) {
					lurk_warn("key %s: share %d is served but the share = %d "
						  "server does not serve share %d of the same key: "
						  "not "
						  "offered",
						a->label, g, o, o);
					continue;
				}
				rc = b->flags & LURK_WIRE_KEY_REQUIRE_CONTENT;
			}
			if (label_taken(keys, n, a->label)) {
				lurk_warn(
					"key %s: a whole key has the same label: the split key is "
					"not offered",
					a->label);
				continue;
			}
			keys[n] = *a;
			keys[n].flags = LURK_WIRE_KEY_SIGN | shares |
					((a->flags | rc) & LURK_WIRE_KEY_REQUIRE_CONTENT);
			memset(a, 0, sizeof(*a));
			n++;
		}
	}
	out->keys = keys;
	out->key_count = n;
	return 0;
}

int
lc_keys_get(
	struct lc_keys *k, struct lc_pool *const pools[3], const struct lurk_wire_list_resp **out)
{
	struct lurk_wire_list_resp list = {0}, part[3];
	int r = 0, have = 0, rshare = 0, ok[3] = {0, 0, 0};

	*out = NULL;
	if (__atomic_load_n(&k->loaded, __ATOMIC_ACQUIRE)) {
		*out = &k->list;
		return 0;
	}
	/* Nothing is sent before a PIN-protected client key is opened. */
	for (int g = 0; g < 3; g++)
		if (pools[g] != NULL && lc_pool_has_key(pools[g]))
			have = 1;
	if (!have)
		return LURK_ERR_NO_KEY;
	pthread_mutex_lock(&k->lock);
	if (lc_now_ms() < k->next_try_ms)
		r = LURK_ERR_AGAIN;
	pthread_mutex_unlock(&k->lock);
	if (r != 0)
		return r;

	/* The network part without the lock; a racing caller may fetch too. */
	/*
	 * Every group configured must answer, but for one of the two share
	 * holders: a split key is listed while one of its servers is down (and
	 * signing with it fails until it is back), so that a process started
	 * then still has its whole keys and lists the split ones for later.
	 */
	memset(part, 0, sizeof(part));
	if (pools[0] != NULL)
		r = fetch(pools[0], &part[0]);
	ok[0] = r == 0;
	for (int g = 1; g <= 2 && r == 0; g++)
		if (pools[g] != NULL) {
			int rg = fetch(pools[g], &part[g]);
			ok[g] = rg == 0;
			if (rg != 0 && rshare == 0)
				rshare = rg;
		}
	if (r == 0 && pools[1] != NULL && !ok[1] && !ok[2])
		r = rshare;
	if (r == 0)
		r = merge(part, ok, &list);
	for (int g = 0; g < 3; g++)
		lurk_wire_list_resp_clear(&part[g]);
	if (r != 0) {
		pthread_mutex_lock(&k->lock);
		k->next_try_ms = lc_now_ms() + LC_LIST_RETRY_MS;
		pthread_mutex_unlock(&k->lock);
		return r;
	}
	pthread_mutex_lock(&k->lock);
	if (!k->loaded) {
		k->list = list;
		memset(&list, 0, sizeof(list));
		__atomic_store_n(&k->loaded, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&k->lock);
	/* Lost the race: drop our copy. */
	lurk_wire_list_resp_clear(&list);
	*out = &k->list;
	return 0;
}

int
lc_keys_split(const struct lurk_wire_key *key)
{
	const uint32_t shares = LURK_WIRE_KEY_SHARE1 | LURK_WIRE_KEY_SHARE2;

	return (key->flags & shares) == shares;
}

const struct lurk_wire_key *
lc_keys_find(const struct lurk_wire_list_resp *list, const char *label)
{
	for (size_t i = 0; i < list->key_count; i++)
		if (strcmp(list->keys[i].label, label) == 0)
			return &list->keys[i];
	return NULL;
}
