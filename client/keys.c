/*
 * The key list, fetched from lurkd once and kept. The fetch is a round trip
 * made without the lock; two callers that race may both fetch, and the
 * first to come back keeps its list.
 */
#include "config.h"

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

int
lc_keys_get(struct lc_keys *k, struct lc_pool *pool, const struct lurk_wire_list_resp **out)
{
	struct lurk_wire_list_resp list = {0};
	int r = 0;

	*out = NULL;
	if (__atomic_load_n(&k->loaded, __ATOMIC_ACQUIRE)) {
		*out = &k->list;
		return 0;
	}
	/* Nothing is sent before a PIN-protected client key is opened. */
	if (!lc_pool_has_key(pool))
		return LURK_ERR_NO_KEY;
	pthread_mutex_lock(&k->lock);
	if (lc_now_ms() < k->next_try_ms)
		r = LURK_ERR_AGAIN;
	pthread_mutex_unlock(&k->lock);
	if (r != 0)
		return r;

	/* The network part without the lock; a racing caller may fetch too. */
	if ((r = fetch(pool, &list)) != 0) {
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

const struct lurk_wire_key *
lc_keys_find(const struct lurk_wire_list_resp *list, const char *label)
{
	for (size_t i = 0; i < list->key_count; i++)
		if (strcmp(list->keys[i].label, label) == 0)
			return &list->keys[i];
	return NULL;
}
