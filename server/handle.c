/*
 * lurkd request handlers. Each one: parse, is this client allowed this key,
 * the usage policy, the operation, the response, an audit record.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include "acl.h"
#include "audit.h"
#include "err.h"
#include "handle.h"
#include "handle-int.h"
#include "implicit.h"
#include "keystore.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "policy.h"
#include "ratelimit.h"
#include "wire.h"

static uint64_t
usec_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint64_t)(t1.tv_sec - t0->tv_sec) * 1000000u +
	       (uint64_t)((t1.tv_nsec - t0->tv_nsec) / 1000);
}

/*
 * The error response for a failure err (a LURK_ERR_*): its class comes from
 * the one table both sides share (lurk_wire_status_from_err), so the client
 * reads back the error lurkd meant.
 */
int
lurkd_reply_error(struct lurk_buf *resp, uint32_t id, int err, uint16_t reason, const char *text)
{
	struct lurk_wire_error e = {
		.status = (uint16_t)lurk_wire_status_from_err(err),
		.reason = reason,
		.text = text,
		.text_len = strlen(text),
	};

	lurk_buf_reset(resp);
	return lurk_wire_error_build(resp, id, &e);
}

void
lurkd_req_audit_init(struct lurkd_audit_rec *a, const struct lurkd_req_ctx *ctx, const char *op,
	uint32_t mech, const uint8_t *input, size_t input_len)
{
	memset(a, 0, sizeof(*a));
	clock_gettime(CLOCK_REALTIME, &a->when);
	snprintf(a->session, sizeof(a->session), "%s", ctx->session);
	snprintf(a->client, sizeof(a->client), "%s", ctx->client->name);
	snprintf(a->op, sizeof(a->op), "%s", op);
	a->key_index = ctx->client->nkeys; /* none of its own until lurkd_admit finds it */
	a->mechanism = mech;
	a->input_len = (uint32_t)input_len;
	if (input_len != 0)
		crypto_hash_sha256(a->input_sha256, input, input_len);
}

/* Completes the record and adds it to the batch; the result may go out once it is written. */
int
lurkd_req_audit_done(const struct lurkd_req_ctx *ctx, struct lurkd_audit_rec *a,
	const char *verdict, const char *reason, const struct timespec *t0)
{
	int r;

	snprintf(a->verdict, sizeof(a->verdict), "%s", verdict);
	snprintf(a->reason, sizeof(a->reason), "%s", reason != NULL ? reason : "");
	a->usec = usec_since(t0);
	lurkd_metrics_request(ctx->client, a->key_index, a);
	if (ctx->server->audit == NULL)
		return 0;
	if ((r = lurkd_audit_add(ctx->batch, a)) != 0)
		lurk_error_r(r, "audit record for session %s", ctx->session);
	return r;
}

static int
handle_list(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	const struct lurkd_client *cl = ctx->client;
	struct lurk_wire_list_resp m = {0};
	struct lurk_wire_key *keys = NULL;
	struct lurk_wire_cert *certs = NULL;
	size_t ncerts = 0, ci = 0;
	int r;

	if (lurk_wire_list_req_parse(in) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed list request");
	for (size_t i = 0; i < cl->nkeys; i++)
		if (cl->keys[i]->key != NULL)
			ncerts += lurk_tls_key_chain_len(cl->keys[i]->key);
	keys = calloc(cl->nkeys ? cl->nkeys : 1, sizeof(*keys));
	certs = calloc(ncerts ? ncerts : 1, sizeof(*certs));
	if (keys == NULL || certs == NULL) {
		r = lurkd_reply_error(resp, id, LURK_ERR_ALLOC, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cl->nkeys; i++) {
		const struct lurkd_key_conf *k = cl->keys[i];
		struct lurk_wire_key *w = &keys[i];
		const uint32_t *mechs;

		w->id = (uint8_t *)k->id;
		w->id_len = sizeof(k->id);
		w->label = k->name;
		w->label_len = strlen(k->name);
		if (k->share != NULL) {
			lurkd_frost_list_key(k, cl, w);
			continue;
		}
		w->type = (uint8_t)lurk_tls_key_type(k->key);
		w->bits = (uint16_t)lurk_tls_key_bits(k->key);
		w->spki = (uint8_t *)lurk_tls_key_spki(k->key, &w->spki_len);
		w->flags = LURK_WIRE_KEY_SIGN;
		if (k->policy.rsa_decrypt)
			w->flags |= LURK_WIRE_KEY_DECRYPT;
		if (k->policy.require_content || cl->require_content)
			w->flags |= LURK_WIRE_KEY_REQUIRE_CONTENT;
		w->mech_count = lurk_tls_key_mechanisms(k->key, &mechs);
		w->mechs = (uint32_t *)mechs;
		w->certs = &certs[ci];
		w->cert_count = lurk_tls_key_chain_len(k->key);
		for (size_t j = 0; j < w->cert_count; j++, ci++)
			certs[ci].der =
				(uint8_t *)lurk_tls_key_chain_cert(k->key, j, &certs[ci].der_len);
	}
	m.keys = keys;
	m.key_count = cl->nkeys;
	lurk_buf_reset(resp);
	if ((r = lurk_wire_list_resp_build(resp, id, &m)) != 0) {
		/* The limits checked at load (lurk-limits.h) should make this unreachable. */
		lurk_error_r(r, "list response for client %s", cl->name);
		r = lurkd_reply_error(resp, id, LURK_ERR_INTERNAL, 0, "list too large");
	}
out:
	free(keys);
	free(certs);
	return r;
}

static int
handle_ping(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	struct lurk_wire_ping_resp m;

	if (lurk_wire_ping_req_parse(in) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed ping request");
	m.time = (uint64_t)time(NULL);
	m.flags = atomic_load(&ctx->server->stopping) ? LURK_WIRE_PING_DRAINING : 0;
	m.keys = (uint32_t)ctx->client->nkeys;
	lurk_buf_reset(resp);
	return lurk_wire_ping_resp_build(resp, id, &m);
}

/* A hash-only request from a client with require-content = yes (docs/policy.md). */
#define LURKD_CLIENT_CONTENT_REQUIRED "client requires whole content, got a bare hash"

/* Every refusal is in the audit log; the log gets the first few of each 10 s. */
static struct lurk_log_limit refusals = LURK_LOG_LIMIT_INIT("refused requests", 10, 20);

static void
log_refusal(const struct lurkd_req_ctx *ctx, const char *op, const struct lurkd_key_conf *key,
	uint32_t mech, const char *why)
{
	const char *mn = lurkd_mech_name(mech);
	char mbuf[16];

	if (mn == NULL) {
		snprintf(mbuf, sizeof(mbuf), "0x%08x", mech);
		mn = mbuf;
	}
	lurk_warn_limited(&refusals, "refused %s: session %s client %s key %s mechanism %s: %s", op,
		ctx->session, ctx->client->name, key != NULL ? key->name : "?", mn, why);
}

/*
 * Client and key controls before any key use: validity window (it may end
 * during a session) and the rate limits. NULL or a reason to refuse.
 */
static const char *
controls(const struct lurkd_req_ctx *ctx, const struct lurkd_key_conf *key, int *err)
{
	uint64_t now = lurk_ratelimit_now();

	if (!lurk_acl_time_ok(&ctx->client->acl, (int64_t)time(NULL))) {
		*err = LURK_ERR_DENIED;
		return "client outside its validity window";
	}
	/* The buckets lock themselves; the configuration is otherwise read-only. */
	if (lurk_ratelimit_take((struct lurk_ratelimit *)&ctx->client->rl, now) != 0) {
		*err = LURK_ERR_RATE_LIMIT;
		return "client rate limit exceeded";
	}
	if (lurk_ratelimit_take((struct lurk_ratelimit *)&key->rl, now) != 0) {
		*err = LURK_ERR_RATE_LIMIT;
		return "key rate limit exceeded";
	}
	return NULL;
}

/* Logs, audits and answers one refusal. */
int
lurkd_refuse(const struct lurkd_req_ctx *ctx, struct lurkd_audit_rec *a, const struct timespec *t0,
	const struct lurkd_key_conf *key, uint32_t id, int err, uint16_t reason, const char *why,
	struct lurk_buf *resp)
{
	lurkd_metrics_refusal(err, reason, why);
	return lurkd_refuse_uncounted(ctx, a, t0, key, id, err, reason, why, resp);
}

int
lurkd_refuse_uncounted(const struct lurkd_req_ctx *ctx, struct lurkd_audit_rec *a,
	const struct timespec *t0, const struct lurkd_key_conf *key, uint32_t id, int err,
	uint16_t reason, const char *why, struct lurk_buf *resp)
{
	log_refusal(ctx, a->op, key, a->mechanism, why);
	(void)lurkd_req_audit_done(ctx, a, "refused", why, t0);
	return lurkd_reply_error(resp, id, err, reason, why);
}

/*
 * The key, if this client may use it now (listed for it, inside its validity
 * window, within the rate limits); otherwise NULL, with *r the answer sent.
 */
const struct lurkd_key_conf *
lurkd_admit(const struct lurkd_req_ctx *ctx, const uint8_t *key_id, size_t key_id_len,
	struct lurkd_audit_rec *a, const struct timespec *t0, uint32_t id, struct lurk_buf *resp,
	int *r)
{
	size_t ki = lurkd_client_key_index(ctx->client, key_id, key_id_len);
	const struct lurkd_key_conf *key;
	const char *denied;
	int err;

	if (ki == ctx->client->nkeys) {
		/* The same answer whether the key exists for someone else or not at all. */
		*r = lurkd_refuse(ctx, a, t0, NULL, id, LURK_ERR_NOT_FOUND, 0,
			"no such key for this client", resp);
		return NULL;
	}
	key = ctx->client->keys[ki];
	a->key_index = ki;
	snprintf(a->key, sizeof(a->key), "%s", key->name);
	if (lurkd_audit_ok(ctx->server->audit) != 0) {
		/* Nothing is served that cannot be audited. */
		*r = lurkd_refuse(ctx, a, t0, key, id, LURK_ERR_AUDIT, 0,
			"the audit log cannot be written", resp);
		return NULL;
	}
	if ((denied = controls(ctx, key, &err)) != NULL) {
		*r = lurkd_refuse(ctx, a, t0, key, id, err, 0, denied, resp);
		return NULL;
	}
	return key;
}

int
lurkd_reply_result(const struct lurkd_req_ctx *ctx, struct lurkd_audit_rec *a,
	const struct timespec *t0, uint32_t id, int r, int err, lurkd_build_fn build,
	const void *out, void *secret, size_t secret_len, struct lurk_buf *resp)
{
	int rc;

	if (r != 0) {
		(void)lurkd_req_audit_done(ctx, a, "error", lurk_err_str(r), t0);
		rc = lurkd_reply_error(resp, id, err, 0, lurk_err_str(r));
	} else if (lurkd_req_audit_done(ctx, a, "allowed", NULL, t0) != 0) {
		rc = lurkd_reply_error(
			resp, id, LURK_ERR_AUDIT, 0, "the audit log cannot be written");
	} else {
		lurk_buf_reset(resp);
		rc = build(resp, id, out);
	}
	if (secret != NULL)
		lurk_wipe(secret, secret_len);
	return rc;
}

static int
build_sign(struct lurk_buf *resp, uint32_t id, const void *out)
{
	return lurk_wire_sign_resp_build(resp, id, out);
}

static int
build_decrypt(struct lurk_buf *resp, uint32_t id, const void *out)
{
	return lurk_wire_decrypt_resp_build(resp, id, out);
}

static int
handle_sign(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	struct lurk_wire_sign_req m;
	struct lurk_policy_req preq;
	struct lurk_policy pol;
	struct lurk_sign_req sreq;
	struct lurk_wire_sign_resp out;
	struct lurkd_audit_rec a;
	struct timespec t0;
	const struct lurkd_key_conf *key;
	enum lurk_policy_reason why;
	const char *why_text;
	uint8_t sig[LURK_WIRE_MAX_SIGNATURE];
	size_t sig_len = sizeof(sig);
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lurk_wire_sign_req_parse(in, &m) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed sign request");
	lurkd_req_audit_init(&a, ctx, "sign", m.mech, m.data, m.data_len);
	if ((key = lurkd_admit(ctx, m.key_id, m.key_id_len, &a, &t0, id, resp, &r)) == NULL)
		return r;
	if (key->share != NULL)
		return lurkd_refuse(
			ctx, &a, &t0, key, id, LURK_ERR_MECHANISM, 0, LURKD_SHARE_ALONE, resp);
	memset(&preq, 0, sizeof(preq));
	preq.key_type = lurk_tls_key_type(key->key);
	preq.mech = m.mech;
	preq.has_pss = m.param.kind == LURK_WIRE_PARAM_PSS;
	if (preq.has_pss) {
		preq.pss_hash = m.param.u.pss.hash;
		preq.pss_mgf = m.param.u.pss.mgf;
		preq.pss_slen = m.param.u.pss.slen;
	}
	preq.data = m.data;
	preq.len = m.data_len;
	/* A require-content credential sends no bare hash, whatever the key allows. */
	pol = key->policy;
	pol.require_content |= ctx->client->require_content;
	why = lurk_policy_check_sign(&pol, &preq);
	/* EdDSA parameters (prehash, context) never occur in TLS. */
	if (why == LURK_POLICY_ALLOW && m.param.kind == LURK_WIRE_PARAM_EDDSA &&
		(m.param.u.eddsa.ph_flag != 0 || m.param.u.eddsa.context_len != 0))
		why = LURK_POLICY_MECHANISM;
	if (why != LURK_POLICY_ALLOW) {
		/* The same reason code either way; the text says whose setting refused it. */
		why_text = why == LURK_POLICY_CONTENT_REQUIRED && !key->policy.require_content
				   ? LURKD_CLIENT_CONTENT_REQUIRED
				   : lurk_policy_reason_str(why);
		return lurkd_refuse(
			ctx, &a, &t0, key, id, LURK_ERR_POLICY, (uint16_t)why, why_text, resp);
	}
	memset(&sreq, 0, sizeof(sreq));
	sreq.mech = m.mech;
	sreq.has_pss = preq.has_pss;
	sreq.pss_hash = preq.pss_hash;
	sreq.pss_mgf = preq.pss_mgf;
	sreq.pss_slen = preq.pss_slen;
	sreq.data = m.data;
	sreq.len = m.data_len;
	/*
	 * On failure the key store says what went wrong (keystore.h): a
	 * mechanism the key lacks, request data it does not sign, the key
	 * operation failing. The policy has refused malformed data before this.
	 */
	if ((r = lurk_tls_key_sign(key->key, &sreq, sig, &sig_len)) != 0)
		log_refusal(ctx, "sign", key, m.mech, lurk_err_str(r));
	out.sig = sig;
	out.sig_len = sig_len;
	return lurkd_reply_result(ctx, &a, &t0, id, r, r, build_sign, &out, sig, sizeof(sig), resp);
}

static int
handle_decrypt(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp)
{
	struct lurk_wire_decrypt_req m;
	struct lurk_wire_decrypt_resp out;
	struct lurkd_audit_rec a;
	struct timespec t0;
	const struct lurkd_key_conf *key;
	enum lurk_policy_reason why;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lurk_wire_decrypt_req_parse(in, &m) != 0)
		return lurkd_reply_error(
			resp, id, LURK_ERR_BAD_FORMAT, 0, "malformed decrypt request");
	lurkd_req_audit_init(&a, ctx, "decrypt", m.mech, m.ct, m.ct_len);
	if ((key = lurkd_admit(ctx, m.key_id, m.key_id_len, &a, &t0, id, resp, &r)) == NULL)
		return r;
	if (key->share != NULL)
		return lurkd_refuse(
			ctx, &a, &t0, key, id, LURK_ERR_MECHANISM, 0, LURKD_SHARE_ALONE, resp);
	/* An RSA key's signature length is its modulus length; other keys stop at the type. */
	why = lurk_policy_check_decrypt(&key->policy, lurk_tls_key_type(key->key),
		lurk_tls_key_sig_len(key->key), m.mech, m.ct_len);
	if (why == LURK_POLICY_ALLOW && m.param.kind != LURK_WIRE_PARAM_NONE)
		why = LURK_POLICY_MECHANISM;
	if (why != LURK_POLICY_ALLOW)
		return lurkd_refuse(ctx, &a, &t0, key, id, LURK_ERR_POLICY, (uint16_t)why,
			lurk_policy_reason_str(why), resp);
	/*
	 * Implicit rejection: bad padding, or a premaster of a TLS version the
	 * key does not allow, still gets 48 bytes, and the same answer path.
	 */
	memset(&out, 0, sizeof(out));
	/* Its failures are public facts: bad padding is answered, not an error (implicit.h). */
	r = lurkd_decrypt_implicit(
		key->key, key->implicit_secret, key->policy.tls_versions, m.ct, m.ct_len, out.pt);
	out.pt_len = LURKD_PMS_LEN;
	return lurkd_reply_result(
		ctx, &a, &t0, id, r, r, build_decrypt, &out, &out, sizeof(out), resp);
}

typedef int (*handler_fn)(
	const struct lurkd_req_ctx *ctx, uint32_t id, struct lurk_buf *in, struct lurk_buf *resp);

static const struct {
	uint8_t type;
	handler_fn fn;
} handlers[] = {
	{LURK_WIRE_LIST, handle_list},
	{LURK_WIRE_SIGN, handle_sign},
	{LURK_WIRE_DECRYPT, handle_decrypt},
	{LURK_WIRE_PING, handle_ping},
	{LURK_WIRE_FROST_COMMIT, lurkd_handle_frost_commit},
	{LURK_WIRE_FROST_SIGN, lurkd_handle_frost_sign},
	{LURK_WIRE_RSA_PARTIAL, lurkd_handle_rsa_partial},
};

int
lurkd_handle_request(
	const struct lurkd_req_ctx *ctx, const uint8_t *msg, size_t len, struct lurk_buf *resp)
{
	struct lurk_wire_hdr h;
	struct lurk_buf in;
	int r;

	lurk_buf_reset(resp);
	lurk_buf_view(&in, msg, len);
	r = lurk_wire_header_parse(&in, &h);
	if (r == LURK_ERR_UNKNOWN_OP || r == LURK_ERR_BAD_VERSION) {
		/* Answerable: the header is there, the request is not ours. */
		lurk_buf_view(&in, msg, len);
		if (lurk_wire_header_peek(&in, &h) != 0)
			return LURK_ERR_BAD_FORMAT;
		lurk_debug(LURK_DBG_SERVER, "session %s: %s (type %u)", ctx->session,
			lurk_err_str(r), h.type);
		return lurkd_reply_error(resp, h.id, r, 0,
			r == LURK_ERR_UNKNOWN_OP ? "unknown operation" : "unsupported version");
	}
	if (r != 0)
		return r;
	for (size_t i = 0; i < LURK_ARRAY_LEN(handlers); i++)
		if (handlers[i].type == h.type)
			return handlers[i].fn(ctx, h.id, &in, resp);
	/* A response type sent to the server. */
	return lurkd_reply_error(resp, h.id, LURK_ERR_UNKNOWN_OP, 0, "unexpected message type");
}
