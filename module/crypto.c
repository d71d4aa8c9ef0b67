/*
 * Signing and decryption: the only calls that go to the key server, one
 * round trip each. Size queries (a NULL output buffer) are answered from the
 * key's size without the network and leave the operation active, as GnuTLS
 * expects (docs/consumers.md). The combined hash-and-sign
 * mechanisms collect C_SignUpdate data and send it whole at C_SignFinal, so
 * lurkd sees the content it signs and can check it (docs/policy.md).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client/ops.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "tls.h"

/* CK_EDDSA_PARAMS (PKCS#11 3.0), which p11-kit 0.24's header lacks. */
struct eddsa_params {
	CK_BBOOL ph_flag;
	CK_ULONG context_len;
	CK_BYTE_PTR context;
};

#define TLS_PREMASTER_LEN 48 /* all lurkd ever returns from a decryption */

static int
is_combined(CK_MECHANISM_TYPE m)
{
	switch (m) {
	case CKM_ECDSA_SHA256:
	case CKM_ECDSA_SHA384:
	case CKM_ECDSA_SHA512:
	case CKM_SHA256_RSA_PKCS:
	case CKM_SHA384_RSA_PKCS:
	case CKM_SHA512_RSA_PKCS:
	case CKM_SHA256_RSA_PKCS_PSS:
	case CKM_SHA384_RSA_PKCS_PSS:
	case CKM_SHA512_RSA_PKCS_PSS:
		return 1;
	default:
		return 0;
	}
}

static CK_RV
set_params(struct lp_op *op, const CK_MECHANISM *m)
{
	int pss = m->mechanism == CKM_RSA_PKCS_PSS || m->mechanism == CKM_SHA256_RSA_PKCS_PSS ||
		  m->mechanism == CKM_SHA384_RSA_PKCS_PSS ||
		  m->mechanism == CKM_SHA512_RSA_PKCS_PSS;

	if (m->pParameter == NULL || m->ulParameterLen == 0) {
		/* Raw PSS needs its parameters; the combined forms imply them. */
		if (m->mechanism == CKM_RSA_PKCS_PSS)
			return CKR_MECHANISM_PARAM_INVALID;
		return CKR_OK;
	}
	if (pss) {
		const CK_RSA_PKCS_PSS_PARAMS *p = m->pParameter;
		if (m->ulParameterLen != sizeof(*p) || p->hashAlg > UINT32_MAX ||
			p->mgf > UINT32_MAX || p->sLen > UINT32_MAX)
			return CKR_MECHANISM_PARAM_INVALID;
		op->param.kind = LURK_WIRE_PARAM_PSS;
		op->param.u.pss.hash = (uint32_t)p->hashAlg;
		op->param.u.pss.mgf = (uint32_t)p->mgf;
		op->param.u.pss.slen = (uint32_t)p->sLen;
		return CKR_OK;
	}
	if (m->mechanism == CKM_EDDSA) {
		const struct eddsa_params *p = m->pParameter;
		if (m->ulParameterLen != sizeof(*p) || p->context_len > LURK_WIRE_MAX_CONTEXT ||
			(p->context_len > 0 && p->context == NULL))
			return CKR_MECHANISM_PARAM_INVALID;
		op->param.kind = LURK_WIRE_PARAM_EDDSA;
		op->param.u.eddsa.ph_flag = p->ph_flag ? 1 : 0;
		if (p->context_len)
			memcpy(op->context, p->context, p->context_len);
		op->param.u.eddsa.context = op->context;
		op->param.u.eddsa.context_len = p->context_len;
		return CKR_OK;
	}
	return CKR_MECHANISM_PARAM_INVALID;
}

/* A mechanism of another key in the token: the key is the wrong type for it. */
static int
token_has_mech(size_t tok, CK_MECHANISM_TYPE m)
{
	for (size_t i = 0; i < lp.tokens[tok].nmechs; i++)
		if (lp.tokens[tok].mechs[i] == m)
			return 1;
	return 0;
}

static CK_RV
op_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key, enum lp_op_kind kind)
{
	const struct lp_object *o;
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (m == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (s->op.kind != LP_OP_NONE) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	/* The list may need the network: not under the session's lock. */
	lp_session_unlock(s);
	if ((rv = lp_key_ready()) == CKR_OK)
		rv = lp_load_list();
	lp_session_relock(s);
	if (rv == CKR_OK && s->op.kind != LP_OP_NONE)
		rv = CKR_OPERATION_ACTIVE; /* another thread, on this session, meanwhile */
	if (rv != CKR_OK)
		goto out;
	o = lp_object_from_handle(s->tok, key);
	if (o == NULL || o->klass != CKO_PRIVATE_KEY) {
		rv = CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	if (kind == LP_OP_SIGN) {
		if (!(o->key->flags & LURK_WIRE_KEY_SIGN))
			rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		else if (!lp_key_has_mech(o->key, m->mechanism))
			rv = token_has_mech(s->tok, m->mechanism) ? CKR_KEY_TYPE_INCONSISTENT
								  : CKR_MECHANISM_INVALID;
	} else if (m->mechanism != CKM_RSA_PKCS || o->key->type != LURK_KEY_RSA) {
		/* Only the TLS 1.2 RSA key exchange; lurkd decides whether it is on. */
		rv = CKR_MECHANISM_INVALID;
	}
	if (rv != CKR_OK)
		goto out;
	memset(&s->op, 0, sizeof(s->op));
	if ((rv = set_params(&s->op, m)) != CKR_OK)
		goto out;
	s->op.kind = kind;
	s->op.key = o;
	s->op.mech = m->mechanism;
out:
	lp_session_put(s);
	return rv;
}

/* One round trip through the core; the answer goes to out (at most *out_len bytes). */
static CK_RV
remote(const struct lp_op *op, const uint8_t *data, size_t len, uint8_t *out, CK_ULONG_PTR out_len)
{
	size_t n = *out_len;
	int r;

	if (op->kind == LP_OP_SIGN)
		r = lc_sign(
			lp.core, op->key->key, (uint32_t)op->mech, &op->param, data, len, out, &n);
	else
		r = lc_decrypt(
			lp.core, op->key->key, (uint32_t)op->mech, &op->param, data, len, out, &n);
	if (r == 0)
		*out_len = n;
	return lp_rv(r);
}

/*
 * The PKCS#11 output convention (2.40 §5.2): NULL buffer → the length, the
 * operation stays; too small → CKR_BUFFER_TOO_SMALL, it stays; otherwise the
 * operation runs and ends whatever the result.
 */
static CK_RV
finish(struct lp_session *s, const uint8_t *data, size_t len, CK_BYTE_PTR out, CK_ULONG_PTR out_len,
	size_t need)
{
	CK_RV rv;

	if (out_len == NULL) {
		lp_op_end(&s->op);
		return CKR_ARGUMENTS_BAD;
	}
	if (!lp_out_room(out, out_len, need, &rv))
		return rv; /* a size query, or too small: the operation stays */
	if (data == NULL && len > 0) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (len > LURK_WIRE_MAX_DATA) {
		rv = CKR_DATA_LEN_RANGE;
	} else {
		/* No lock across the round trip; the operation is ours meanwhile. */
		s->op.running = 1;
		lp_session_unlock(s);
		rv = remote(&s->op, data, len, out, out_len);
		lp_session_relock(s);
	}
	lp_op_end(&s->op);
	return rv;
}

CK_RV
C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
	return op_init(h, m, key, LP_OP_SIGN);
}

CK_RV
C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (s->op.kind != LP_OP_SIGN)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (s->op.running || s->op.updated)
		rv = CKR_OPERATION_ACTIVE;
	else
		rv = finish(s, data, len, sig, sig_len, lp_key_sig_len(s->op.key->key));
	lp_session_put(s);
	return rv;
}

CK_RV
C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR part, CK_ULONG len)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (s->op.kind != LP_OP_SIGN) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	if (s->op.running) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if (!is_combined(s->op.mech))
		rv = CKR_MECHANISM_INVALID; /* single-part mechanisms: C_Sign only */
	else if (part == NULL && len > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if (s->op.data == NULL && (s->op.data = lurk_buf_new(LURK_WIRE_MAX_DATA)) == NULL)
		rv = CKR_HOST_MEMORY;
	else if (len > 0 && lurk_buf_put_bytes(s->op.data, part, len) != 0)
		rv = CKR_DATA_LEN_RANGE;
	if (rv != CKR_OK)
		lp_op_end(&s->op);
	else
		s->op.updated = 1;
out:
	lp_session_put(s);
	return rv;
}

CK_RV
C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (s->op.kind != LP_OP_SIGN)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (s->op.running)
		rv = CKR_OPERATION_ACTIVE;
	else if (!is_combined(s->op.mech)) {
		lp_op_end(&s->op);
		rv = CKR_MECHANISM_INVALID;
	} else {
		const uint8_t *d = s->op.data ? lurk_buf_ptr(s->op.data) : NULL;
		size_t n = s->op.data ? lurk_buf_len(s->op.data) : 0;
		rv = finish(s, d, n, sig, sig_len, lp_key_sig_len(s->op.key->key));
	}
	lp_session_put(s);
	return rv;
}

CK_RV
C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
	return op_init(h, m, key, LP_OP_DECRYPT);
}

CK_RV
C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR ct, CK_ULONG len, CK_BYTE_PTR pt, CK_ULONG_PTR pt_len)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (s->op.kind != LP_OP_DECRYPT)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (s->op.running)
		rv = CKR_OPERATION_ACTIVE;
	else if (len > LURK_WIRE_MAX_CIPHERTEXT && pt != NULL) {
		lp_op_end(&s->op);
		rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
	} else
		rv = finish(s, ct, len, pt, pt_len, TLS_PREMASTER_LEN);
	lp_session_put(s);
	return rv;
}
