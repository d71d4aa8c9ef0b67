/*
 * A lurkd server's single-use FROST commitments (issue 18; research
 * split_keys.md §3, §8): the server issues commitments ahead of the message
 * (FROST preprocessing), each under a 16-byte random handle, and a SIGN names
 * the handle it uses. The secret nonces (d, e) live only in this table, in
 * sodium_malloc'd memory (guard pages, mlock, MADV_DONTDUMP), never on disk.
 *
 * - take-once: lurk_frost_nonces_take removes the entry before returning its
 *   nonce, so a second use of a handle finds nothing (LURK_ERR_NOT_FOUND, the
 *   same answer as a handle never issued or lost in a restart);
 * - bound to the client and the key it was issued for: another client's or
 *   another key's take of it is LURK_ERR_NOT_FOUND and does not spend it;
 * - expiry: an entry lives ttl seconds from issue; a take after that is
 *   LURK_ERR_STALE (and wipes it), and expired entries are reclaimed on issue;
 * - caps: at most per_client live entries per client (LURK_ERR_BUSY beyond)
 *   and capacity in all (LURK_ERR_BUSY when full of live entries);
 * - every entry is wiped when taken, expired, or when the table is freed.
 *
 * Times are Unix seconds passed in by the caller (tests need no clock).
 * All functions may be called from several threads (one mutex; issuing
 * computes the commitments under it, two base multiplications per entry).
 * A table must not cross a fork(): a child with a copy could reuse nonces.
 */
#ifndef LURK_FROST_NONCES_H
#define LURK_FROST_NONCES_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "frost.h"

#define LURK_FROST_HANDLE_LEN 16
/* Who and what an entry is for: the client's static key, the key's group public key. */
#define LURK_FROST_OWNER_LEN      32
#define LURK_FROST_NONCES_MAX     65536u /* capacity */
#define LURK_FROST_NONCES_TTL_MAX 3600u  /* seconds */

struct lurk_frost_nonces;

/* One issued commitment: what the server sends the client. */
struct lurk_frost_issued {
	uint8_t handle[LURK_FROST_HANDLE_LEN];
	struct lurk_frost_commitment com;
};

/* capacity 1..LURK_FROST_NONCES_MAX, per_client 1..capacity, ttl 1..LURK_FROST_NONCES_TTL_MAX. */
int lurk_frost_nonces_new(size_t capacity, size_t per_client, unsigned ttl_s,
	struct lurk_frost_nonces **out) LURK_MUST_CHECK;
/* Wipes every entry. NULL is fine. */
void lurk_frost_nonces_free(struct lurk_frost_nonces *t);

/*
 * Issues n (1..per_client) commitments for signer id with share a (the nonces
 * are hedged with it, RFC 9591 §4.1) to client for key, all or none:
 * LURK_ERR_BUSY if the client would pass its cap or the table is full.
 */
int lurk_frost_nonces_issue(struct lurk_frost_nonces *t, const uint8_t client[LURK_FROST_OWNER_LEN],
	const uint8_t key[LURK_FROST_OWNER_LEN], uint16_t id,
	const uint8_t a[LURK_FROST_SCALAR_LEN], int64_t now, size_t n,
	struct lurk_frost_issued *out) LURK_MUST_CHECK;

/*
 * Removes the entry for handle and gives its nonce and commitment (the nonce
 * goes to lurk_frost_sign, which wipes it). LURK_ERR_NOT_FOUND for an
 * unknown, already taken, or other client's or key's handle; LURK_ERR_STALE
 * if it expired (the entry is wiped). *nonce and *com are zeroed on failure.
 */
int lurk_frost_nonces_take(struct lurk_frost_nonces *t, const uint8_t client[LURK_FROST_OWNER_LEN],
	const uint8_t key[LURK_FROST_OWNER_LEN], const uint8_t handle[LURK_FROST_HANDLE_LEN],
	int64_t now, struct lurk_frost_nonce *nonce,
	struct lurk_frost_commitment *com) LURK_MUST_CHECK;

/* Wipes the entries expired at now; returns how many. */
size_t lurk_frost_nonces_expire(struct lurk_frost_nonces *t, int64_t now);
/* Entries held (client NULL: all clients), expired or not. */
size_t lurk_frost_nonces_count(struct lurk_frost_nonces *t, const uint8_t *client);

#endif
