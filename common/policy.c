/* Placeholder until the classifier lands: allow nothing. */
#include "config.h"

#include "policy.h"

void
lurk_policy_default(struct lurk_policy *p)
{
	p->use = LURK_USE_SERVER;
	p->tls_versions = LURK_TLS12 | LURK_TLS13;
	p->require_content = 0;
	p->rsa_decrypt = 0;
}

enum lurk_policy_reason
lurk_policy_check_sign(const struct lurk_policy *p, const struct lurk_policy_req *req)
{
	(void)p;
	(void)req;
	return LURK_POLICY_MECHANISM;
}

enum lurk_policy_reason
lurk_policy_check_decrypt(const struct lurk_policy *p, enum lurk_key_type key_type,
	size_t modulus_len, uint32_t mech, size_t ct_len)
{
	(void)p;
	(void)key_type;
	(void)modulus_len;
	(void)mech;
	(void)ct_len;
	return LURK_POLICY_DECRYPT_OFF;
}

const char *
lurk_policy_reason_str(enum lurk_policy_reason r)
{
	(void)r;
	return "refused";
}
