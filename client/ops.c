/*
 * Signing and decryption: the request built for the pool, the response
 * parsed, and a refusal logged with lurkd's own words, once per call. No
 * lock is held here: the pool holds its own for memory work only.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "ops.h"
#include "pool.h"
#include "split.h"

void
lc_printable(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len && i + 1 < cap; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

int
lc_refused(const struct lurk_wire_error *e, const char *op, const char *label)
{
	char text[LURK_WIRE_MAX_REASON + 1];

	lc_printable(text, sizeof(text), e->text, e->text_len);
	if (e->status == LURK_WIRE_ST_POLICY)
		lurk_warn("lurkd refused %s with key %s: %s (reason %u: %s)", op, label,
			lurk_wire_status_str(e->status), e->reason, text);
	else
		lurk_warn("lurkd refused %s with key %s: %s: %s", op, label,
			lurk_wire_status_str(e->status), text);
	return lurk_wire_status_to_err(e->status);
}

struct call {
	int sign;
	const struct lurk_wire_key *key;
	uint32_t mech;
	struct lurk_wire_param param;
	const uint8_t *data;
	size_t len;
};

static int
build(void *ctx, struct lurk_buf *out, uint32_t id)
{
	const struct call *c = ctx;

	if (c->sign) {
		struct lurk_wire_sign_req m = {
			.key_id = c->key->id,
			.key_id_len = c->key->id_len,
			.mech = c->mech,
			.param = c->param,
			.data = c->data,
			.data_len = c->len,
		};
		return lurk_wire_sign_req_build(out, id, &m);
	} else {
		struct lurk_wire_decrypt_req m = {
			.key_id = c->key->id,
			.key_id_len = c->key->id_len,
			.mech = c->mech,
			.param = c->param,
			.ct = c->data,
			.ct_len = c->len,
		};
		return lurk_wire_decrypt_req_build(out, id, &m);
	}
}

/* One round trip; the answer goes to out (at most *out_len bytes). */
static int
remote(struct lc_core *cc, const struct call *c, uint8_t *out, size_t *out_len)
{
	struct lurk_buf resp_buf, *resp = &resp_buf; /* on the stack: one allocation less a call */
	const char *what = c->sign ? "sign" : "decrypt";
	const char *label = c->key->label;
	struct lurk_wire_hdr h;
	struct lurk_wire_error e;
	int r;

	if (lurk_buf_init(resp, LURK_WIRE_MAX_MSG) != 0)
		return LURK_ERR_INTERNAL;
	if ((r = lc_pool_call(lc_core_pool(cc), build, (void *)c, resp)) != 0)
		goto out;
	r = LURK_ERR_BAD_FORMAT;
	if (lurk_wire_header_parse(resp, &h) != 0) {
		lurk_error("%s with key %s: malformed response", what, label);
	} else if (h.type == LURK_WIRE_ERROR) {
		if (lurk_wire_error_parse(resp, &e) == 0)
			r = lc_refused(&e, what, label);
	} else if (c->sign && h.type == LURK_WIRE_SIGN_RESP) {
		struct lurk_wire_sign_resp s;
		if (lurk_wire_sign_resp_parse(resp, &s) != 0 || s.sig_len > *out_len) {
			lurk_error("sign with key %s: malformed response", label);
		} else {
			memcpy(out, s.sig, s.sig_len);
			*out_len = s.sig_len;
			r = 0;
		}
	} else if (!c->sign && h.type == LURK_WIRE_DECRYPT_RESP) {
		struct lurk_wire_decrypt_resp d;
		if (lurk_wire_decrypt_resp_parse(resp, &d) != 0 || d.pt_len > *out_len) {
			lurk_error("decrypt with key %s: malformed response", label);
		} else {
			memcpy(out, d.pt, d.pt_len);
			*out_len = d.pt_len;
			r = 0;
		}
		lurk_wire_decrypt_resp_clear(&d);
	} else {
		lurk_error("%s with key %s: unexpected response type %u", what, label, h.type);
	}
out:
	lurk_buf_clear(resp); /* wipes */
	return r;
}

static int
op(struct lc_core *cc, int sign, const struct lurk_wire_key *key, uint32_t mech,
	const struct lurk_wire_param *param, const uint8_t *data, size_t len, uint8_t *out,
	size_t *out_len)
{
	struct call c = {sign, key, mech, {0}, data, len};

	if (lc_keys_split(key)) {
		if (sign)
			return lc_split_sign(cc, key, mech, param, data, len, out, out_len);
		lurk_warn("decrypt with split key %s: not offered (use ECDHE suites)", key->label);
		return LURK_ERR_MECHANISM;
	}
	if (param != NULL)
		c.param = *param;
	return remote(cc, &c, out, out_len);
}

int
lc_sign(struct lc_core *cc, const struct lurk_wire_key *key, uint32_t mech,
	const struct lurk_wire_param *param, const uint8_t *data, size_t len, uint8_t *sig,
	size_t *sig_len)
{
	return op(cc, 1, key, mech, param, data, len, sig, sig_len);
}

int
lc_decrypt(struct lc_core *cc, const struct lurk_wire_key *key, uint32_t mech,
	const struct lurk_wire_param *param, const uint8_t *ct, size_t len, uint8_t *pt,
	size_t *pt_len)
{
	return op(cc, 0, key, mech, param, ct, len, pt, pt_len);
}
