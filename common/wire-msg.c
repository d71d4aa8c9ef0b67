/*
 * Every message of the wire protocol, parse and build side by side, each
 * reading like its schema in docs/wire.md. A parser reads the body (after
 * lurk_wire_header_parse) from a view of the input, so a failure leaves the
 * cursor where it was, and consumes the input only when the whole body is
 * good. A builder appends a whole message or, on failure, nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mem.h"
#include "wire-field.h"
#include "wire.h"

/* Smallest encodings, to bound counts by the bytes left before allocating. */
/* id, label, type, bits, public key, flags, mechanism count, certificate count */
#define KEY_MIN_LEN  ((2 + 1) + 2 + 1 + 2 + (4 + 1) + 4 + 2 + 2)
#define MECH_LEN     4
#define CERT_MIN_LEN (4 + 1)

/* list request: empty body. */

int
lurk_wire_list_req_build(struct lurk_buf *out, uint32_t id)
{
	return lurk_wire_header_build(out, LURK_WIRE_LIST, id);
}

int
lurk_wire_list_req_parse(struct lurk_buf *in)
{
	return lurk_buf_get_end(in);
}

/*
 * list response:
 *	u16 key count (≤ LURK_WIRE_MAX_KEYS), then per key:
 *	u16 string key id (1..LURK_WIRE_MAX_KEY_ID), CKA_ID
 *	u16 string label (UTF-8, no NUL, ≤ LURK_WIRE_MAX_LABEL), CKA_LABEL
 *	u8 key type (enum lurk_key_type)
 *	u16 key bits
 *	u32 string public key, DER SubjectPublicKeyInfo (1..LURK_WIRE_MAX_PUBKEY)
 *	u32 flags (LURK_WIRE_KEY_*)
 *	u16 mechanism count (≤ LURK_WIRE_MAX_MECHS), each u32 CKM_*
 *	u16 certificate count (≤ LURK_WIRE_MAX_CHAIN), each u32 string DER
 *	    (1..LURK_WIRE_MAX_CERT), leaf first
 * The parse copies everything, so the module can cache the keys.
 */

/* A NUL-terminated copy (the terminator makes labels C strings). */
static int
dup_bytes(uint8_t **dst, size_t *dst_len, const uint8_t *p, size_t n)
{
	if ((*dst = malloc(n + 1)) == NULL)
		return LURK_ERR_ALLOC;
	if (n != 0)
		memcpy(*dst, p, n);
	(*dst)[n] = 0;
	*dst_len = n;
	return 0;
}

static int
get_mechs(struct lurk_buf *b, struct lurk_wire_key *k)
{
	size_t n;
	int r;

	if ((r = lurk_wire_get_count(b, &n, LURK_WIRE_MAX_MECHS, MECH_LEN)) != 0)
		return r;
	if ((k->mechs = lurk_calloc_array(n, sizeof(*k->mechs))) == NULL)
		return LURK_ERR_ALLOC;
	k->mech_count = n;
	for (size_t i = 0; i < n; i++)
		if ((r = lurk_buf_get_u32(b, &k->mechs[i])) != 0)
			return r;
	return 0;
}

static int
get_certs(struct lurk_buf *b, struct lurk_wire_key *k)
{
	const uint8_t *p;
	size_t n, len;
	int r;

	if ((r = lurk_wire_get_count(b, &n, LURK_WIRE_MAX_CHAIN, CERT_MIN_LEN)) != 0)
		return r;
	if ((k->certs = lurk_calloc_array(n, sizeof(*k->certs))) == NULL)
		return LURK_ERR_ALLOC;
	k->cert_count = n;
	for (size_t i = 0; i < n; i++)
		if ((r = lurk_wire_get_str32(b, &p, &len, LURK_WIRE_MAX_CERT, 1)) != 0 ||
			(r = dup_bytes(&k->certs[i].der, &k->certs[i].der_len, p, len)) != 0)
			return r;
	return 0;
}

/* On failure the caller frees what was copied so far (lurk_wire_list_resp_clear). */
/* A split key's share is 1 or 2, never both, and a share never signs alone. */
static int
share_flags_ok(uint32_t flags)
{
	uint32_t share = flags & (LURK_WIRE_KEY_SHARE1 | LURK_WIRE_KEY_SHARE2);

	if (share == 0)
		return 1;
	return share != (LURK_WIRE_KEY_SHARE1 | LURK_WIRE_KEY_SHARE2) &&
	       (flags & (LURK_WIRE_KEY_SIGN | LURK_WIRE_KEY_DECRYPT)) == 0;
}

static int
get_key(struct lurk_buf *b, struct lurk_wire_key *k)
{
	const uint8_t *id, *spki;
	const char *label;
	size_t id_len, label_len, spki_len;
	int r;

	if ((r = lurk_wire_get_key_id(b, &id, &id_len)) != 0 ||
		(r = lurk_wire_get_text(b, &label, &label_len, LURK_WIRE_MAX_LABEL)) != 0 ||
		(r = lurk_wire_get_key_type(b, &k->type)) != 0 ||
		(r = lurk_buf_get_u16(b, &k->bits)) != 0 ||
		(r = lurk_wire_get_str32(b, &spki, &spki_len, LURK_WIRE_MAX_PUBKEY, 1)) != 0 ||
		(r = lurk_wire_get_flags(b, &k->flags, LURK_WIRE_KEY_FLAGS)) != 0 ||
		(r = get_mechs(b, k)) != 0 || (r = get_certs(b, k)) != 0)
		return r;
	if (!share_flags_ok(k->flags))
		return LURK_ERR_BAD_FORMAT;
	if ((r = dup_bytes(&k->id, &k->id_len, id, id_len)) != 0 ||
		(r = dup_bytes((uint8_t **)&k->label, &k->label_len, (const uint8_t *)label,
			 label_len)) != 0 ||
		(r = dup_bytes(&k->spki, &k->spki_len, spki, spki_len)) != 0)
		return r;
	return 0;
}

static int
put_key(struct lurk_buf *b, const struct lurk_wire_key *k)
{
	int r;

	if (!share_flags_ok(k->flags))
		return LURK_ERR_BAD_FORMAT;
	if ((r = lurk_wire_put_key_id(b, k->id, k->id_len)) != 0 ||
		(r = lurk_wire_put_text(b, k->label, k->label_len, LURK_WIRE_MAX_LABEL)) != 0 ||
		(r = lurk_wire_put_key_type(b, k->type)) != 0 ||
		(r = lurk_buf_put_u16(b, k->bits)) != 0 ||
		(r = lurk_wire_put_str32(b, k->spki, k->spki_len, LURK_WIRE_MAX_PUBKEY, 1)) != 0 ||
		(r = lurk_wire_put_flags(b, k->flags, LURK_WIRE_KEY_FLAGS)) != 0 ||
		(r = lurk_wire_put_count(b, k->mech_count, LURK_WIRE_MAX_MECHS)) != 0)
		return r;
	for (size_t i = 0; i < k->mech_count; i++)
		if ((r = lurk_buf_put_u32(b, k->mechs[i])) != 0)
			return r;
	if ((r = lurk_wire_put_count(b, k->cert_count, LURK_WIRE_MAX_CHAIN)) != 0)
		return r;
	for (size_t i = 0; i < k->cert_count; i++)
		if ((r = lurk_wire_put_str32(
			     b, k->certs[i].der, k->certs[i].der_len, LURK_WIRE_MAX_CERT, 1)) != 0)
			return r;
	return 0;
}

/* put_key's fixed part: the lengths and counts, type, bits and flags. */
#define KEY_FIXED_LEN (2 + 2 + 1 + 2 + 4 + 4 + 2 + 2)

size_t
lurk_wire_list_key_len(size_t id_len, size_t label_len, size_t spki_len, size_t mech_count,
	size_t cert_count, size_t cert_bytes)
{
	/* Each term is capped far below SIZE_MAX / 8 by the caller's limits. */
	return KEY_FIXED_LEN + id_len + label_len + spki_len + MECH_LEN * mech_count +
	       4 * cert_count + cert_bytes;
}

int
lurk_wire_list_resp_parse(struct lurk_buf *in, struct lurk_wire_list_resp *m)
{
	struct lurk_buf v;
	size_t n;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_count(&v, &n, LURK_WIRE_MAX_KEYS, KEY_MIN_LEN)) != 0)
		goto fail;
	if ((m->keys = lurk_calloc_array(n, sizeof(*m->keys))) == NULL) {
		r = LURK_ERR_ALLOC;
		goto fail;
	}
	m->key_count = n;
	for (size_t i = 0; i < n; i++)
		if ((r = get_key(&v, &m->keys[i])) != 0)
			goto fail;
	if ((r = lurk_wire_body_done(in, &v)) != 0)
		goto fail;
	return 0;
fail:
	lurk_wire_list_resp_clear(m);
	return r;
}

int
lurk_wire_list_resp_build(struct lurk_buf *out, uint32_t id, const struct lurk_wire_list_resp *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_LIST_RESP, id)) != 0 ||
		(r = lurk_wire_put_count(out, m->key_count, LURK_WIRE_MAX_KEYS)) != 0)
		return lurk_wire_undo(out, start, r);
	for (size_t i = 0; i < m->key_count; i++)
		if ((r = put_key(out, &m->keys[i])) != 0)
			return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

void
lurk_wire_list_resp_clear(struct lurk_wire_list_resp *m)
{
	for (size_t i = 0; m->keys != NULL && i < m->key_count; i++) {
		struct lurk_wire_key *k = &m->keys[i];

		for (size_t j = 0; k->certs != NULL && j < k->cert_count; j++)
			free(k->certs[j].der);
		free(k->certs);
		free(k->mechs);
		free(k->spki);
		free(k->label);
		free(k->id);
	}
	free(m->keys);
	memset(m, 0, sizeof(*m));
}
/*
 * sign request:
 *	u16 string key id (1..LURK_WIRE_MAX_KEY_ID)
 *	u32 mechanism (CKM_*)
 *	parameters
 *	u32 string data (≤ LURK_WIRE_MAX_DATA)
 */
int
lurk_wire_sign_req_parse(struct lurk_buf *in, struct lurk_wire_sign_req *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_key_id(&v, &m->key_id, &m->key_id_len)) != 0 ||
		(r = lurk_buf_get_u32(&v, &m->mech)) != 0 ||
		(r = lurk_wire_get_param(&v, &m->param)) != 0 ||
		(r = lurk_wire_get_str32(&v, &m->data, &m->data_len, LURK_WIRE_MAX_DATA, 0)) != 0 ||
		(r = lurk_wire_body_done(in, &v)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return 0;
}

int
lurk_wire_sign_req_build(struct lurk_buf *out, uint32_t id, const struct lurk_wire_sign_req *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_SIGN, id)) != 0 ||
		(r = lurk_wire_put_key_id(out, m->key_id, m->key_id_len)) != 0 ||
		(r = lurk_buf_put_u32(out, m->mech)) != 0 ||
		(r = lurk_wire_put_param(out, &m->param)) != 0 ||
		(r = lurk_wire_put_str32(out, m->data, m->data_len, LURK_WIRE_MAX_DATA, 0)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/* sign response: u16 string signature (≤ LURK_WIRE_MAX_SIGNATURE). */
int
lurk_wire_sign_resp_parse(struct lurk_buf *in, struct lurk_wire_sign_resp *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_str16(&v, &m->sig, &m->sig_len, LURK_WIRE_MAX_SIGNATURE, 0)) != 0 ||
		(r = lurk_wire_body_done(in, &v)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return 0;
}

int
lurk_wire_sign_resp_build(struct lurk_buf *out, uint32_t id, const struct lurk_wire_sign_resp *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_SIGN_RESP, id)) != 0 ||
		(r = lurk_wire_put_str16(out, m->sig, m->sig_len, LURK_WIRE_MAX_SIGNATURE, 0)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/*
 * decrypt request:
 *	u16 string key id (1..LURK_WIRE_MAX_KEY_ID)
 *	u32 mechanism (CKM_*)
 *	parameters
 *	u16 string ciphertext (≤ LURK_WIRE_MAX_CIPHERTEXT)
 */
int
lurk_wire_decrypt_req_parse(struct lurk_buf *in, struct lurk_wire_decrypt_req *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_key_id(&v, &m->key_id, &m->key_id_len)) != 0 ||
		(r = lurk_buf_get_u32(&v, &m->mech)) != 0 ||
		(r = lurk_wire_get_param(&v, &m->param)) != 0 ||
		(r = lurk_wire_get_str16(&v, &m->ct, &m->ct_len, LURK_WIRE_MAX_CIPHERTEXT, 0)) !=
			0 ||
		(r = lurk_wire_body_done(in, &v)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return 0;
}

int
lurk_wire_decrypt_req_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_decrypt_req *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_DECRYPT, id)) != 0 ||
		(r = lurk_wire_put_key_id(out, m->key_id, m->key_id_len)) != 0 ||
		(r = lurk_buf_put_u32(out, m->mech)) != 0 ||
		(r = lurk_wire_put_param(out, &m->param)) != 0 ||
		(r = lurk_wire_put_str16(out, m->ct, m->ct_len, LURK_WIRE_MAX_CIPHERTEXT, 0)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/* decrypt response: u16 string plaintext (≤ LURK_WIRE_MAX_CIPHERTEXT). Secret. */
int
lurk_wire_decrypt_resp_parse(struct lurk_buf *in, struct lurk_wire_decrypt_resp *m)
{
	struct lurk_buf v;
	const uint8_t *p;
	size_t n;
	int r;

	lurk_wipe(m, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_str16(&v, &p, &n, LURK_WIRE_MAX_CIPHERTEXT, 0)) != 0 ||
		(r = lurk_buf_get_end(&v)) != 0)
		return r;
	/* Checked; now copy from `in` itself, which wipes the source when writable. */
	if ((r = lurk_buf_consume(in, 2)) != 0 || (r = lurk_buf_get_secret(in, m->pt, n)) != 0) {
		lurk_wipe(m, sizeof(*m));
		return r;
	}
	m->pt_len = n;
	return 0;
}

int
lurk_wire_decrypt_resp_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_decrypt_resp *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_DECRYPT_RESP, id)) != 0 ||
		(r = lurk_wire_put_str16(out, m->pt, m->pt_len, LURK_WIRE_MAX_CIPHERTEXT, 0)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

void
lurk_wire_decrypt_resp_clear(struct lurk_wire_decrypt_resp *m)
{
	lurk_wipe(m, sizeof(*m));
}

/* ping request: empty body. */

int
lurk_wire_ping_req_build(struct lurk_buf *out, uint32_t id)
{
	return lurk_wire_header_build(out, LURK_WIRE_PING, id);
}

int
lurk_wire_ping_req_parse(struct lurk_buf *in)
{
	return lurk_buf_get_end(in);
}

/* ping response: u64 server time (Unix seconds), u32 status flags, u32 keys served. */
int
lurk_wire_ping_resp_parse(struct lurk_buf *in, struct lurk_wire_ping_resp *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_buf_get_u64(&v, &m->time)) != 0 ||
		(r = lurk_wire_get_flags(&v, &m->flags, LURK_WIRE_PING_FLAGS)) != 0 ||
		(r = lurk_buf_get_u32(&v, &m->keys)) != 0 ||
		(r = lurk_wire_body_done(in, &v)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return 0;
}

int
lurk_wire_ping_resp_build(struct lurk_buf *out, uint32_t id, const struct lurk_wire_ping_resp *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_PING_RESP, id)) != 0 ||
		(r = lurk_buf_put_u64(out, m->time)) != 0 ||
		(r = lurk_wire_put_flags(out, m->flags, LURK_WIRE_PING_FLAGS)) != 0 ||
		(r = lurk_buf_put_u32(out, m->keys)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}

/*
 * error response:
 *	u16 status (enum lurk_wire_status)
 *	u16 reason code
 *	u16 string reason text (UTF-8, no NUL, ≤ LURK_WIRE_MAX_REASON)
 */
int
lurk_wire_error_parse(struct lurk_buf *in, struct lurk_wire_error *m)
{
	struct lurk_buf v;
	int r;

	memset(m, 0, sizeof(*m));
	lurk_wire_body_view(in, &v);
	if ((r = lurk_wire_get_status(&v, &m->status)) != 0 ||
		(r = lurk_buf_get_u16(&v, &m->reason)) != 0 ||
		(r = lurk_wire_get_text(&v, &m->text, &m->text_len, LURK_WIRE_MAX_REASON)) != 0 ||
		(r = lurk_wire_body_done(in, &v)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return 0;
}

int
lurk_wire_error_build(struct lurk_buf *out, uint32_t id, const struct lurk_wire_error *m)
{
	size_t start = lurk_buf_len(out);
	int r;

	if ((r = lurk_wire_header_build(out, LURK_WIRE_ERROR, id)) != 0 ||
		(r = lurk_wire_put_status(out, m->status)) != 0 ||
		(r = lurk_buf_put_u16(out, m->reason)) != 0 ||
		(r = lurk_wire_put_text(out, m->text, m->text_len, LURK_WIRE_MAX_REASON)) != 0)
		return lurk_wire_undo(out, start, r);
	return lurk_wire_built(out, start);
}
