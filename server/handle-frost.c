/*
 * lurkd's half of a split Ed25519 key (issue 18; docs/split-keys.md, research
 * split_keys.md §8): FROST_COMMIT hands out single-use commitments from one
 * RAM-only table (frost-nonces.h), FROST_SIGN answers z_i for a message the
 * TLS policy accepts. The share never signs alone: SIGN and DECRYPT on it are
 * refused in handle.c.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include "err.h"
#include "frost-nonces.h"
#include "frost.h"
#include "handle-int.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "share-file.h"
#include "wire-frost.h"

_Static_assert(LURK_NOISE_KEY_LEN == LURK_FROST_OWNER_LEN, "a client is named by its static key");
_Static_assert(LURK_WIRE_FROST_HANDLE_LEN == LURK_FROST_HANDLE_LEN, "one handle size");
_Static_assert(LURK_WIRE_FROST_MAX_COMMIT <= LURKD_FROST_PER_CLIENT, "a batch fits the cap");

/*
 * One table per lurkd process, made on first use in the serving process (so
 * it never crosses the privilege-separation fork) and kept for its life: a
 * reload keeps it, and entries name the client's static key and the key's
 * group public key, so a kept key keeps its commitments. Never freed: the
 * entries are sodium_malloc'd, and an exiting process takes them along.
 */
static struct lurk_frost_nonces *table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void
table_make(void)
{
	if (lurk_frost_nonces_new(
		    LURKD_FROST_CAPACITY, LURKD_FROST_PER_CLIENT, LURKD_FROST_TTL, &table) != 0)
		table = NULL;
}

static struct lurk_frost_nonces *
nonces(void)
{
	(void)pthread_once(&table_once, table_make);
	return table;
}

static const uint32_t eddsa_mech[] = {CKM_EDDSA};

void
lurkd_frost_list_key(
	const struct lurkd_key_conf *k, const struct lurkd_client *cl, struct lurk_wire_key *w)
{
	w->type = LURK_KEY_ED25519;
	w->bits = 255;
	w->spki = (uint8_t *)k->share->spki;
	w->spki_len = k->share->spki_len;
	w->flags = k->share->index == 1 ? LURK_WIRE_KEY_SHARE1 : LURK_WIRE_KEY_SHARE2;
	if (k->policy.require_content || cl->require_content)
		w->flags |= LURK_WIRE_KEY_REQUIRE_CONTENT;
	w->mechs = (uint32_t *)eddsa_mech;
	w->mech_count = 1;
	w->certs = NULL;
	w->cert_count = 0;
}

static void
to_wire(struct lurk_wire_frost_com *w, const struct lurk_frost_issued *is)
{
	memcpy(w->handle, is->handle, sizeof(w->handle));
	memcpy(w->D, is->com.D, sizeof(w->D));
	memcpy(w->E, is->com.E, sizeof(w->E));
}

/* The key, if admitted and a share; otherwise NULL and *r the answer sent. */
static const struct lurkd_key_conf *
admit_share(const struct lurkd_req_ctx *ctx, const uint8_t *key_id, size_t key_id_len,
	struct lurkd_audit_rec *a, const struct timespec *t0, uint32_t id, struct lurk_buf *resp,
	int *r)
{
	const struct lurkd_key_conf *key;

	if ((key = lurkd_admit(ctx, key_id, key_id_len, a, t0, id, resp, r)) == NULL)
		return NULL;
	if (key->share == NULL) {
		*r = lurkd_refuse(ctx, a, t0, key, id, LURK_ERR_MECHANISM, 0,
			"key is not a share of a split key", resp);
		return NULL;
	}
	if (nonces() == NULL) {
		*r = lurkd_refuse(
			ctx, a, t0, key, id, LURK_ERR_INTERNAL, 0, "no commitment table", resp);
		return NULL;
	}
	return key;
}

int
lurkd_handle_frost_commit(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	struct lurk_wire_frost_commit_req m;
	struct lurk_wire_frost_commit_resp out;
	struct lurk_frost_issued is[LURK_WIRE_FROST_MAX_COMMIT];
	struct lurkd_audit_rec a;
	struct timespec t0;
	const struct lurkd_key_conf *key;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lurk_wire_frost_commit_req_parse(in, &m) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed frost-commit request");
	lurkd_req_audit_init(&a, ctx, "frost-commit", NULL, CKM_EDDSA, NULL, 0);
	if ((key = admit_share(ctx, m.key_id, m.key_id_len, &a, &t0, id, resp, &r)) == NULL)
		return r;
	r = lurk_frost_nonces_issue(nonces(), ctx->client->pk, key->share->pk,
		(uint16_t)key->share->index, key->share->secret, (int64_t)time(NULL), m.count, is);
	if (r == LURK_ERR_BUSY)
		return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_RATE_LIMIT, 0,
			"too many outstanding commitments", resp);
	if (r != 0) {
		(void)lurkd_req_audit_done(ctx, &a, "error", lurk_err_str(r), &t0);
		return lurkd_reply_error(resp, id, r, 0, lurk_err_str(r));
	}
	if (lurkd_req_audit_done(ctx, &a, "allowed", NULL, &t0) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_AUDIT, 0, "the audit log cannot be written");
	memset(&out, 0, sizeof(out));
	out.count = m.count;
	for (size_t i = 0; i < m.count; i++)
		to_wire(&out.com[i], &is[i]);
	lurk_buf_reset(resp);
	return lurk_wire_frost_commit_resp_build(resp, id, &out);
}

/*
 * The server's checks in the research's order (§8 step 4): the key is this
 * client's (admit), the list is ids 1 then 2, the handle is taken (spent
 * whatever follows) and its commitment is the list's own entry, every point
 * is valid, the TLS policy accepts the message as CKM_EDDSA content; then z.
 */
int
lurkd_handle_frost_sign(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	struct lurk_wire_frost_sign_req m;
	struct lurk_wire_frost_sign_resp out;
	struct lurk_frost_nonce nonce;
	struct lurk_frost_commitment own;
	struct lurk_frost_issued fresh;
	struct lurk_policy_req preq;
	struct lurk_policy pol;
	struct lurkd_audit_rec a;
	struct timespec t0;
	const struct lurkd_key_conf *key;
	enum lurk_policy_reason why;
	const char *bad = NULL;
	int64_t now = (int64_t)time(NULL);
	unsigned self;
	int r, err = LURK_ERR_BAD_FORMAT;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lurk_wire_frost_sign_req_parse(in, &m) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed frost-sign request");
	lurkd_req_audit_init(&a, ctx, "frost-sign", NULL, CKM_EDDSA, m.msg, m.msg_len);
	if ((key = admit_share(ctx, m.key_id, m.key_id_len, &a, &t0, id, resp, &r)) == NULL)
		return r;
	if (m.list[0].id != 1 || m.list[1].id != 2)
		return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_BAD_FORMAT, 0,
			"commitment list is not identifiers 1 then 2", resp);
	self = key->share->index - 1;
	r = lurk_frost_nonces_take(
		nonces(), ctx->client->pk, key->share->pk, m.handle, now, &nonce, &own);
	if (r == LURK_ERR_STALE)
		return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_NOT_FOUND,
			LURK_WIRE_FROST_HANDLE_EXPIRED, "commitment handle expired", resp);
	if (r != 0)
		return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_NOT_FOUND,
			LURK_WIRE_FROST_HANDLE_UNKNOWN, "unknown or used commitment handle", resp);
	/* From here the handle is spent: every path wipes the nonce. */
	if (sodium_memcmp(own.D, m.list[self].D, LURK_FROST_POINT_LEN) != 0 ||
		sodium_memcmp(own.E, m.list[self].E, LURK_FROST_POINT_LEN) != 0)
		bad = "the list's entry for this server is not its commitment";
	for (size_t i = 0; bad == NULL && i < LURK_FROST_SIGNERS; i++)
		if (lurk_frost_point_check(m.list[i].D) != 0 ||
			lurk_frost_point_check(m.list[i].E) != 0)
			bad = "invalid commitment point";
	if (bad == NULL) {
		memset(&preq, 0, sizeof(preq));
		preq.key_type = LURK_KEY_ED25519;
		preq.mech = CKM_EDDSA;
		preq.data = m.msg;
		preq.len = m.msg_len;
		pol = key->policy;
		pol.require_content |= ctx->client->require_content;
		if ((why = lurk_policy_check_sign(&pol, &preq)) != LURK_POLICY_ALLOW) {
			sodium_memzero(&nonce, sizeof(nonce));
			return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_POLICY, (uint16_t)why,
				lurk_policy_reason_str(why), resp);
		}
	}
	if (bad != NULL) {
		sodium_memzero(&nonce, sizeof(nonce));
		return lurkd_refuse(ctx, &a, &t0, key, id, err, 0, bad, resp);
	}
	memset(&out, 0, sizeof(out));
	r = lurk_frost_sign((uint16_t)key->share->index, key->share->secret, &nonce, key->share->pk,
		m.list, LURK_FROST_SIGNERS, m.msg, m.msg_len, out.z);
	sodium_memzero(&nonce, sizeof(nonce)); /* lurk_frost_sign has; belt and braces */
	if (r != 0) {
		(void)lurkd_req_audit_done(ctx, &a, "error", lurk_err_str(r), &t0);
		return lurkd_reply_error(resp, id, LURK_ERR_CRYPTO, 0, lurk_err_str(r));
	}
	/* One fresh commitment in exchange; none if the client is at its cap. */
	if (lurk_frost_nonces_issue(nonces(), ctx->client->pk, key->share->pk,
		    (uint16_t)key->share->index, key->share->secret, now, 1, &fresh) == 0) {
		out.fresh_count = 1;
		to_wire(&out.fresh, &fresh);
	}
	if (lurkd_req_audit_done(ctx, &a, "allowed", NULL, &t0) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_AUDIT, 0, "the audit log cannot be written");
	lurk_buf_reset(resp);
	return lurk_wire_frost_sign_resp_build(resp, id, &out);
}
