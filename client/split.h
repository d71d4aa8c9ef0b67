/*
 * Split keys on the client's side (issue 18, docs/split-keys.md "The
 * client's side"): a key that two lurkd hold one share each, the one named
 * share = 1 and the one named share = 2 in the configuration. The core
 * sends each signature to both at once (one request on each, then both
 * answers read), combines the two parts and releases the signature only if
 * it verifies with the key's public key.
 *
 *   Ed25519: FROST(Ed25519, SHA-512), RFC 9591, with commitments fetched
 *   ahead (FROST_COMMIT) and kept here per key and share, so a signature is
 *   one FROST_SIGN to each server; each answer brings a fresh commitment.
 *   RSA: RSA_PARTIAL to both; PKCS#1 v1.5 (lurkd builds the encoding) or
 *   PSS (built here with a random salt, checked by each lurkd); combined
 *   by lurk_rsa_combine (common/rsa-split.h).
 *
 * A refusal by either server fails the signature with its reason (logged);
 * a server that does not answer fails it within the timeout, with no
 * fallback. A combination that does not verify, or a commitment a server no
 * longer knows (it restarted), is tried once more with fresh commitments.
 */
#ifndef LURK_CLIENT_SPLIT_H
#define LURK_CLIENT_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "core.h"
#include "wire.h"

/* Commitments kept per key and share, and fetched at once when none is left. */
#define LC_SPLIT_CACHE 24
#define LC_SPLIT_BATCH 4
/* A commitment is used within this of its arrival (lurkd expires it at 300 s). */
#define LC_SPLIT_COM_TTL_MS 240000

/* The commitment cache. 0 or LURK_ERR_ALLOC. */
int lc_split_new(struct lc_split **out) LURK_MUST_CHECK;
void lc_split_free(struct lc_split *s);
/* In a forked child: a fresh lock, no commitment (the parent may spend them). */
void lc_split_after_fork(struct lc_split *s);

/*
 * Signs as lc_sign does (ops.h) with a split key (lc_keys_split): CKM_EDDSA
 * for Ed25519; CKM_RSA_PKCS (a SHA-256/384/512 DigestInfo) or
 * CKM_RSA_PKCS_PSS (the hash, MGF1 of it, salt of its length) for RSA.
 * Errors as lc_sign's; LURK_ERR_MECHANISM for another mechanism;
 * LURK_ERR_CRYPTO when the parts did not make a valid signature twice.
 */
int lc_split_sign(struct lc_core *cc, const struct lurk_wire_key *key, uint32_t mech,
	const struct lurk_wire_param *param, const uint8_t *data, size_t len, uint8_t *sig,
	size_t *sig_len) LURK_MUST_CHECK;

#endif
