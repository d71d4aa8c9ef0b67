/*
 * What handle.c shares with the split-key handlers (handle-frost.c): the
 * error answer, the audit record, a refusal (logged, counted, audited,
 * answered) and admission (key listed for this client, validity window,
 * rate limits, audit log writable).
 */
#ifndef LURKD_HANDLE_INT_H
#define LURKD_HANDLE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "audit.h"
#include "buf.h"
#include "conf.h"
#include "handle.h"
#include "wire.h"

int lurkd_reply_error(
	struct lurk_buf *resp, uint32_t id, int err, uint16_t reason, const char *text);
/* The record of a request naming no key yet; lurkd_admit adds the key. */
void lurkd_req_audit_init(struct lurkd_audit_rec *a, const struct lurkd_req_ctx *ctx,
	const char *op, uint32_t mech, const uint8_t *input, size_t input_len);
int lurkd_req_audit_done(const struct lurkd_req_ctx *ctx, struct lurkd_audit_rec *a,
	const char *verdict, const char *reason, const struct timespec *t0);
int lurkd_refuse(const struct lurkd_req_ctx *ctx, struct lurkd_audit_rec *a,
	const struct timespec *t0, const struct lurkd_key_conf *key, uint32_t id, int err,
	uint16_t reason, const char *why, struct lurk_buf *resp);
/*
 * The same without a count in lurkd_refusals_total, whose reasons (metrics.c)
 * have no name for it (a spent commitment handle is not "no such key"); the
 * operation still counts as refused.
 */
int lurkd_refuse_uncounted(const struct lurkd_req_ctx *ctx, struct lurkd_audit_rec *a,
	const struct timespec *t0, const struct lurkd_key_conf *key, uint32_t id, int err,
	uint16_t reason, const char *why, struct lurk_buf *resp);
/*
 * The one ending of a request that computed a result, secret or not (a
 * signature, a premaster secret, a partial signature, commitments): r is
 * the operation's result. A failure is audited as "error" and answered with
 * class err and r's text; a success is audited as "allowed" and then built
 * into resp by build(resp, id, out), or answered as AUDIT when the record
 * cannot be added. [secret, secret + secret_len) is wiped on every path
 * (secret NULL: nothing to wipe).
 */
typedef int (*lurkd_build_fn)(struct lurk_buf *resp, uint32_t id, const void *out);
int lurkd_reply_result(const struct lurkd_req_ctx *ctx, struct lurkd_audit_rec *a,
	const struct timespec *t0, uint32_t id, int r, int err, lurkd_build_fn build,
	const void *out, void *secret, size_t secret_len, struct lurk_buf *resp);
const struct lurkd_key_conf *lurkd_admit(const struct lurkd_req_ctx *ctx, const uint8_t *key_id,
	size_t key_id_len, struct lurkd_audit_rec *a, const struct timespec *t0, uint32_t id,
	struct lurk_buf *resp, int *r);

/* A SIGN or DECRYPT naming a split key's share. */
#define LURKD_SHARE_ALONE "key is one share of a split key: it never signs alone"

/* Split-key requests (handle-frost.c). The FROST commitment table: capacity, per client, expiry. */
#define LURKD_FROST_CAPACITY   4096u
#define LURKD_FROST_PER_CLIENT 64u
#define LURKD_FROST_TTL        300u /* seconds */
/* The list entry of a share key: public key, SHARE1 or SHARE2, its mechanisms, no chain. */
void lurkd_frost_list_key(
	const struct lurkd_key_conf *k, const struct lurkd_client *cl, struct lurk_wire_key *w);
int lurkd_handle_frost_commit(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp);
int lurkd_handle_frost_sign(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp);
int lurkd_handle_rsa_partial(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp);

#endif
