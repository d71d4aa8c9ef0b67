/*
 * Signing and decryption with a key of the list (keys.h): one request to
 * lurkd through the pool, one response, within the configuration's timeout.
 * Mechanisms and parameters are lurk's wire numbers (wire.h), which are
 * PKCS#11's CKM_* and CKG_* values but need no PKCS#11 header.
 */
#ifndef LURK_CLIENT_OPS_H
#define LURK_CLIENT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "core.h"
#include "wire.h"

/*
 * Signs data (at most LURK_WIRE_MAX_DATA bytes) with key, mechanism mech
 * and param (NULL or kind LURK_WIRE_PARAM_NONE for none). *sig_len is the
 * room in sig on entry, the signature's length on success. 0, or what
 * lc_pool_call returns, or: LURK_ERR_BAD_FORMAT (a malformed or unexpected
 * response, or a signature longer than the room: logged), or, for a
 * refusal (logged with lurkd's reason), lurk_wire_status_to_err of its
 * status (LURK_ERR_DENIED, LURK_ERR_POLICY, LURK_ERR_RATE_LIMIT,
 * LURK_ERR_NOT_FOUND, LURK_ERR_MECHANISM, LURK_ERR_CRYPTO, LURK_ERR_PEER).
 */
int lc_sign(struct lc_core *cc, const struct lurk_wire_key *key, uint32_t mech,
	const struct lurk_wire_param *param, const uint8_t *data, size_t len, uint8_t *sig,
	size_t *sig_len) LURK_MUST_CHECK;
/* The same for a decryption (the TLS 1.2 RSA key exchange); pt is secret. */
int lc_decrypt(struct lc_core *cc, const struct lurk_wire_key *key, uint32_t mech,
	const struct lurk_wire_param *param, const uint8_t *ct, size_t len, uint8_t *pt,
	size_t *pt_len) LURK_MUST_CHECK;

/*
 * An error response from lurkd: logs it ("lurkd refused OP with key LABEL:
 * ...") and returns lurk_wire_status_to_err of its status.
 */
int lc_refused(const struct lurk_wire_error *e, const char *op, const char *label);

/*
 * Copies text of len bytes (not NUL-terminated) for a log line, as much as
 * fits in cap - 1 (cap at least 1), anything not printable ASCII replaced
 * by '?'; dst is NUL-terminated.
 */
void lc_printable(char *dst, size_t cap, const char *src, size_t len);

#endif
