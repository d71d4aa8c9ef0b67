/*
 * Inside the usage policy classifier: the TLS content parsers
 * (policy-content.c) as policy.c calls them. Not for other callers.
 */
#ifndef LURK_POLICY_INT_H
#define LURK_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Which TLS handshake signature input a content check recognised. */
enum lurk_policy_content {
	LURK_CONTENT_NONE = 0,
	LURK_CONTENT_TLS13_CV,        /* TLS 1.3 CertificateVerify input */
	LURK_CONTENT_SKE,             /* TLS 1.0-1.2 ServerKeyExchange signed block */
	LURK_CONTENT_TLS12_CLIENT_CV, /* TLS 1.2 client CertificateVerify: the transcript */
};

/*
 * Whole signed content: allowed only as a TLS 1.3 CertificateVerify input, a
 * ServerKeyExchange block or a TLS 1.2 client CertificateVerify transcript the
 * key's policy permits. *kind says which one it was recognised as, also when
 * refused for a detail; LURK_CONTENT_NONE with LURK_POLICY_NOT_TLS.
 */
enum lurk_policy_reason lurk_policy_content_check(const struct lurk_policy *p, const uint8_t *d,
	size_t len, enum lurk_policy_content *kind) LURK_MUST_CHECK;

/*
 * policy-transcript.c: does the data begin as a TLS 1.2 ClientHello would
 * (01, u24 length, 03 03)? And the check of the whole TLS 1.2 client
 * CertificateVerify input: LURK_POLICY_NOT_TLS unless it parses as one,
 * LURK_POLICY_TRAILING for one followed by more bytes, then the key's use
 * (client) and tls-versions (1.2).
 */
int lurk_policy_is_tls12_transcript_start(const uint8_t *d, size_t len);
enum lurk_policy_reason lurk_policy_tls12_client_cv(
	const struct lurk_policy *p, const uint8_t *d, size_t len) LURK_MUST_CHECK;

#endif
