/*
 * Open connections counted by key, shared by the workers: per source
 * address (max-connections-per-source) and per client key
 * (max-connections-per-client).
 *
 * A table is open addressing with linear probing, one lock, keyed with
 * SipHash under a random key (crypto_shorthash), so a peer that picks its
 * addresses cannot make one probe chain long. An entry lives while its count
 * is above 0 and is removed when the last connection goes, so the table
 * holds at most as many entries as connections are open. It grows by
 * doubling up to max_entries (the connections lurkd can hold at once) and
 * shrinks back as entries go: a flood of distinct sources costs memory only
 * while their connections are open, and never more than that ceiling.
 */
#ifndef LURKD_COUNTS_H
#define LURKD_COUNTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "compiler.h"

struct lurkd_counts;

/* A source: IPv4 address, IPv6 /64, or a unix peer's uid; see lurkd_source_key. */
#define LURKD_SOURCE_KEY_LEN 12

/* key_len is 1..32 bytes; max_entries bounds the table (at least 1). */
int lurkd_counts_new(size_t key_len, size_t max_entries, struct lurkd_counts **out) LURK_MUST_CHECK;
void lurkd_counts_free(struct lurkd_counts *t);

/*
 * Counts one more connection for key unless it has `limit` already:
 * 0, LURK_ERR_BUSY (at limit; nothing counted) or LURK_ERR_NO_SPACE (the
 * table is at max_entries: a bug, since entries never outnumber
 * connections). *count gets the key's count after the call.
 */
int lurkd_counts_take(struct lurkd_counts *t, const uint8_t *key, unsigned limit,
	unsigned *count) LURK_MUST_CHECK;
/* One connection fewer for key (taken before); the entry goes at 0. */
void lurkd_counts_put(struct lurkd_counts *t, const uint8_t *key);
/* Keys counted now (for tests and logs). */
size_t lurkd_counts_entries(struct lurkd_counts *t);

/*
 * The source key of an accepted connection: its IPv4 address (an
 * IPv4-mapped IPv6 address counts as IPv4), the /64 of an IPv6 address
 * (one host or one customer usually holds a whole /64), or for a unix
 * socket the peer's uid (SO_PEERCRED; every local process of one user is
 * one source). desc gets a form for logs: "192.0.2.1", "2001:db8:1:2::/64",
 * "uid 33".
 */
void lurkd_source_key(int fd, const struct sockaddr_storage *peer,
	uint8_t key[LURKD_SOURCE_KEY_LEN], char *desc, size_t desc_len);

#endif
