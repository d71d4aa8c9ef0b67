#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "counts.h"
#include "err.h"

#define MIN_SLOTS   64
#define MAX_KEY_LEN 32

/* A slot: count (0: empty), the key's hash (its home slot), then the key. */
struct slot {
	uint32_t count;
	uint32_t hash;
	uint8_t key[];
};

struct lurkd_counts {
	pthread_mutex_t lock;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	size_t key_len, stride;
	size_t nslots;    /* a power of two; 0 until the first entry */
	size_t max_slots; /* twice max_entries, rounded up: the load stays at most 1/2 */
	size_t used;
	uint8_t *slots;
};

static struct slot *
slot_at(const struct lurkd_counts *t, uint8_t *slots, size_t i)
{
	return (struct slot *)(void *)(slots + i * t->stride);
}

static uint32_t
hash_key(const struct lurkd_counts *t, const uint8_t *key)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, key, t->key_len, t->hkey);
	return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

int
lurkd_counts_new(size_t key_len, size_t max_entries, struct lurkd_counts **out)
{
	struct lurkd_counts *t;
	size_t max_slots = MIN_SLOTS;

	*out = NULL;
	if (key_len == 0 || key_len > MAX_KEY_LEN || max_entries == 0 || max_entries > SIZE_MAX / 4)
		return LURK_ERR_INVALID_ARG;
	while (max_slots < 2 * max_entries)
		max_slots *= 2;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return LURK_ERR_ALLOC;
	pthread_mutex_init(&t->lock, NULL);
	randombytes_buf(t->hkey, sizeof(t->hkey));
	t->key_len = key_len;
	/* Slots stay 4-byte aligned for count and hash. */
	t->stride = (sizeof(struct slot) + key_len + 3) & ~(size_t)3;
	t->max_slots = max_slots;
	*out = t;
	return 0;
}

void
lurkd_counts_free(struct lurkd_counts *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	sodium_memzero(t->hkey, sizeof(t->hkey));
	free(t);
}

/* 1 and *at = its slot if key is there; else 0 and *at = the empty slot ending its probe. */
static int
find_inlock(const struct lurkd_counts *t, const uint8_t *key, uint32_t h, size_t *at)
{
	size_t mask = t->nslots - 1, i = h & mask;

	/* The load is at most 1/2: an empty slot ends every probe. */
	for (size_t n = 0; n < t->nslots; n++, i = (i + 1) & mask) {
		struct slot *s = slot_at(t, t->slots, i);
		if (s->count == 0) {
			*at = i;
			return 0;
		}
		if (s->hash == h && memcmp(s->key, key, t->key_len) == 0) {
			*at = i;
			return 1;
		}
	}
	*at = 0;
	return -1;
}

/* Moves every entry into a table of n slots; LURK_ERR_ALLOC leaves the old one. */
static int
resize_inlock(struct lurkd_counts *t, size_t n)
{
	uint8_t *ns = calloc(n, t->stride);
	size_t mask = n - 1;

	if (ns == NULL)
		return LURK_ERR_ALLOC;
	for (size_t i = 0; i < t->nslots; i++) {
		struct slot *s = slot_at(t, t->slots, i);
		size_t j = s->hash & mask;
		if (s->count == 0)
			continue;
		while (slot_at(t, ns, j)->count != 0)
			j = (j + 1) & mask;
		memcpy(slot_at(t, ns, j), s, t->stride);
	}
	free(t->slots);
	t->slots = ns;
	t->nslots = n;
	return 0;
}

int
lurkd_counts_take(struct lurkd_counts *t, const uint8_t *key, unsigned limit, unsigned *count)
{
	uint32_t h = hash_key(t, key);
	struct slot *s;
	size_t at;
	int r = 0, found;

	*count = 0;
	pthread_mutex_lock(&t->lock);
	if (t->nslots == 0 && (r = resize_inlock(t, MIN_SLOTS)) != 0)
		goto out;
	if ((found = find_inlock(t, key, h, &at)) < 0) {
		r = LURK_ERR_INTERNAL;
		goto out;
	}
	if (found) {
		s = slot_at(t, t->slots, at);
		*count = s->count;
		if (s->count >= limit) {
			r = LURK_ERR_BUSY;
			goto out;
		}
		*count = ++s->count;
		goto out;
	}
	if (limit == 0) {
		r = LURK_ERR_BUSY;
		goto out;
	}
	if (2 * (t->used + 1) > t->nslots) {
		if (t->nslots >= t->max_slots) {
			r = LURK_ERR_NO_SPACE;
			goto out;
		}
		if ((r = resize_inlock(t, 2 * t->nslots)) != 0 ||
			find_inlock(t, key, h, &at) != 0) {
			r = r != 0 ? r : LURK_ERR_INTERNAL;
			goto out;
		}
	}
	s = slot_at(t, t->slots, at);
	s->count = 1;
	s->hash = h;
	memcpy(s->key, key, t->key_len);
	t->used++;
	*count = 1;
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* Empties slot i and moves later entries of its run back (no tombstones). */
static void
remove_inlock(struct lurkd_counts *t, size_t i)
{
	size_t mask = t->nslots - 1, j = i;

	slot_at(t, t->slots, i)->count = 0;
	for (size_t n = 0; n < t->nslots; n++) {
		struct slot *s;
		size_t home;
		j = (j + 1) & mask;
		s = slot_at(t, t->slots, j);
		if (s->count == 0)
			break;
		home = s->hash & mask;
		/* s stays if its home lies cyclically in (i, j]: its probe does not pass i. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		memcpy(slot_at(t, t->slots, i), s, t->stride);
		s->count = 0;
		i = j;
	}
	t->used--;
}

void
lurkd_counts_put(struct lurkd_counts *t, const uint8_t *key)
{
	uint32_t h = hash_key(t, key);
	size_t at;

	pthread_mutex_lock(&t->lock);
	if (t->nslots != 0 && find_inlock(t, key, h, &at) == 1) {
		struct slot *s = slot_at(t, t->slots, at);
		if (--s->count == 0) {
			remove_inlock(t, at);
			/* Give the memory of a flood back once it is over (a failure keeps it). */
			if (t->nslots > MIN_SLOTS && 8 * t->used < t->nslots)
				(void)resize_inlock(t, t->nslots / 2);
		}
	}
	pthread_mutex_unlock(&t->lock);
}

size_t
lurkd_counts_entries(struct lurkd_counts *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->used;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void
lurkd_source_key(int fd, const struct sockaddr_storage *peer, uint8_t key[LURKD_SOURCE_KEY_LEN],
	char *desc, size_t desc_len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	memset(key, 0, LURKD_SOURCE_KEY_LEN);
	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
		struct in6_addr net = in6->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&net)) {
			key[0] = 4;
			memcpy(key + 4, &net.s6_addr[12], 4);
			inet_ntop(AF_INET, &net.s6_addr[12], host, sizeof(host));
			snprintf(desc, desc_len, "%s", host);
			return;
		}
		key[0] = 6;
		memcpy(key + 4, net.s6_addr, 8);
		memset(&net.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &net, host, sizeof(host));
		snprintf(desc, desc_len, "%s/64", host);
	} else if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
		key[0] = 4;
		memcpy(key + 4, &in->sin_addr, 4);
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(desc, desc_len, "%s", host);
	} else {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		/* Without credentials every such peer shares one "unknown" source. */
		key[0] = 'u';
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && len == sizeof(cr)) {
			key[1] = 1;
			memcpy(key + 4, &cr.uid, sizeof(cr.uid));
			snprintf(desc, desc_len, "uid %lu", (unsigned long)cr.uid);
		} else {
			snprintf(desc, desc_len, "a unix peer of unknown uid");
		}
	}
}
