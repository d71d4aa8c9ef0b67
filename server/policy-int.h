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
	LURK_CONTENT_TLS13_CV, /* TLS 1.3 CertificateVerify input */
	LURK_CONTENT_SKE,      /* TLS 1.0-1.2 ServerKeyExchange signed block */
};

/*
 * Whole signed content: allowed only as a TLS 1.3 CertificateVerify input or a
 * ServerKeyExchange block the key's policy permits. *kind says which one it
 * was recognised as, also when refused for a detail; LURK_CONTENT_NONE with
 * LURK_POLICY_NOT_TLS.
 */
enum lurk_policy_reason lurk_policy_content_check(const struct lurk_policy *p, const uint8_t *d,
	size_t len, enum lurk_policy_content *kind) LURK_MUST_CHECK;

#endif
