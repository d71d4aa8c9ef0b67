/*
 * Shared by the policy test's table (test-policy.c) and its fixture reader
 * (test-policy-fixtures.c).
 */
#ifndef LURK_TEST_POLICY_H
#define LURK_TEST_POLICY_H

#include <stdint.h>

#include "server/policy.h"

/* CK_RSA_PKCS_PSS_PARAMS as lurk_policy_req carries them. */
struct pss {
	int has;
	uint32_t hash, mgf, slen;
};

/* "NOT_TLS" for LURK_POLICY_NOT_TLS, ...; "?" for a value without a name. */
const char *policy_reason_name(enum lurk_policy_reason r);
/* Every line of tests/fixtures/policy/{allowed,refused}/\*.hex gets its verdict. */
void test_policy_fixtures(void);
/* The TLS 1.2 client CertificateVerify transcript (test-policy-transcript.c). */
void test_policy_transcript(void);

#endif
