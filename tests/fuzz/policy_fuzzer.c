/*
 * Fuzz target for the usage policy classifier. The first bytes choose key
 * type, mechanism, policy and PSS parameters; the rest is the data. Anything
 * allowed must also look like what it was allowed as.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "server/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t mechs[] = {CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_RSA_X_509, CKM_ECDSA,
	0x1057 /* EDDSA */, 0x1044, 0x1045, 0x1046, CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS,
	CKM_SHA512_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
	CKM_SHA512_RSA_PKCS_PSS, 0x80000001};
/* The message p11tool --test-sign signs, allowed whole (docs/policy.md). */
#define SELF_TEST "Test data to sign"

static const uint32_t hashes[] = {CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA_1, 0};
static const uint32_t mgfs[] = {
	CKG_MGF1_SHA256, CKG_MGF1_SHA384, CKG_MGF1_SHA512, CKG_MGF1_SHA1, 0};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lurk_policy p;
	struct lurk_policy_req req;
	enum lurk_policy_reason r;
	uint8_t *copy;

	if (size < 5)
		return 0;
	memset(&req, 0, sizeof(req));
	req.key_type = (enum lurk_key_type)(1 + data[0] % 4);
	req.mech = mechs[data[1] % (sizeof(mechs) / sizeof(mechs[0]))];
	p.use = 1 + data[2] % 3;
	p.tls_versions = data[2] >> 4;
	p.require_content = data[3] & 1;
	p.rsa_decrypt = (data[3] >> 1) & 1;
	req.has_pss = (data[3] >> 2) & 1;
	req.pss_hash = hashes[data[4] % 5];
	req.pss_mgf = mgfs[(data[4] >> 3) % 5];
	req.pss_slen = data[4] >> 2;
	/* An exact-size copy so any over-read is caught. */
	size -= 5;
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data + 5, size);
	req.data = copy;
	req.len = size;
	r = lurk_policy_check_sign(&p, &req);
	if (r >= LURK_POLICY_LAST)
		abort();
	if (r == LURK_POLICY_ALLOW && req.mech == 0x1057) {
		/*
		 * Allowed EdDSA content is a TLS 1.3 input or an SKE of at least
		 * 64+4 bytes, or exactly the p11tool --test-sign constant that
		 * docs/policy.md allows whole (17 bytes, nothing before or after).
		 */
		if (size < 68 && !(size == sizeof(SELF_TEST) - 1 &&
					 memcmp(copy, SELF_TEST, sizeof(SELF_TEST) - 1) == 0))
			abort();
	}
	if (r == LURK_POLICY_ALLOW && req.mech == CKM_RSA_X_509)
		abort();
	if (lurk_policy_check_decrypt(&p, req.key_type, size, req.mech, size / 2 + data[0]) >=
		LURK_POLICY_LAST)
		abort();
	(void)lurk_policy_reason_str(r);
	free(copy);
	return 0;
}
