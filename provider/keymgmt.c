/*
 * Key management for lurkd's RSA, EC (P-256, P-384, P-521) and Ed25519
 * keys. A key's public part is an EVP_PKEY in the provider's own library
 * context (the default provider's), which answers every public parameter
 * libssl asks for (bits, security-bits, max-size, group, n, e, the default
 * or mandatory digest); the private part stays in lurkd.
 *
 * Export hands out the public part only: refusing any selection with the
 * private key is what makes OpenSSL run signatures in this provider
 * instead of exporting the key to the default provider.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "provider.h"

const char *
lprov_key_type_name(enum lurk_key_type t)
{
	switch (t) {
	case LURK_KEY_RSA:
		return "RSA";
	case LURK_KEY_EC:
		return "EC";
	case LURK_KEY_ED25519:
		return "ED25519";
	default:
		return "?";
	}
}

enum lurk_key_type
lprov_pkey_type(const EVP_PKEY *pub)
{
	static const char *const curves[] = {"prime256v1", "secp384r1", "secp521r1"};
	char group[64];

	if (EVP_PKEY_is_a(pub, "RSA"))
		return LURK_KEY_RSA;
	if (EVP_PKEY_is_a(pub, "ED25519"))
		return LURK_KEY_ED25519;
	if (!EVP_PKEY_is_a(pub, "EC") ||
		!EVP_PKEY_get_utf8_string_param(
			pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL))
		return 0;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(group, curves[i]) == 0)
			return LURK_KEY_EC;
	return 0;
}

static struct lprov_key *
key_alloc(struct lprov_ctx *pc, enum lurk_key_type type)
{
	struct lprov_key *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->pc = pc;
	k->type = type;
	return k;
}

struct lprov_key *
lprov_key_new_remote(struct lprov_ctx *pc, EVP_PKEY *pub, struct lprov_core *core,
	const char *label, const uint8_t *spki, size_t spki_len)
{
	enum lurk_key_type type = lprov_pkey_type(pub);
	struct lprov_key *k;

	if (type == 0 || strlen(label) >= sizeof(k->label) || spki_len == 0)
		return NULL;
	if ((k = key_alloc(pc, type)) == NULL || (k->spki = malloc(spki_len)) == NULL ||
		!EVP_PKEY_up_ref(pub)) {
		lprov_key_free(k);
		lprov_raise(pc, LPROV_R_INTERNAL, "out of memory");
		return NULL;
	}
	k->pub = pub;
	memcpy(k->spki, spki, spki_len);
	k->spki_len = spki_len;
	k->core = core;
	strcpy(k->label, label);
	return k;
}

void
lprov_key_free(struct lprov_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pub);
	free(k->spki);
	free(k);
}

static void *
rsa_new(void *provctx)
{
	return key_alloc(provctx, LURK_KEY_RSA);
}

static void *
ec_new(void *provctx)
{
	return key_alloc(provctx, LURK_KEY_EC);
}

static void *
ed25519_new(void *provctx)
{
	return key_alloc(provctx, LURK_KEY_ED25519);
}

static void
km_free(void *kd)
{
	lprov_key_free(kd);
}

/* The decoder hands over its key by reference; the key must be of this keymgmt's type. */
static void *
load(const void *ref, size_t ref_size, enum lurk_key_type type)
{
	struct lprov_key *k;

	if (ref == NULL || ref_size != sizeof(k))
		return NULL;
	memcpy(&k, ref, sizeof(k));
	if (k == NULL || k->type != type)
		return NULL;
	/* Ours now: the decoder sees NULL and does not free it. */
	memset((void *)ref, 0, sizeof(k));
	return k;
}

static void *
rsa_load(const void *ref, size_t ref_size)
{
	return load(ref, ref_size, LURK_KEY_RSA);
}

static void *
ec_load(const void *ref, size_t ref_size)
{
	return load(ref, ref_size, LURK_KEY_EC);
}

static void *
ed25519_load(const void *ref, size_t ref_size)
{
	return load(ref, ref_size, LURK_KEY_ED25519);
}

static int
km_has(const void *kd, int selection)
{
	const struct lprov_key *k = kd;

	if (k == NULL)
		return 0;
	/* A remote key answers 1 for the private part (PEM_read_bio_PrivateKey asks). */
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && k->core == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) && k->pub == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) && k->pub == NULL)
		return 0;
	return 1;
}

static int
km_match(const void *a, const void *b, int selection)
{
	const struct lprov_key *k1 = a, *k2 = b;

	if (k1 == NULL || k2 == NULL || k1->pub == NULL || k2->pub == NULL || k1->type != k2->type)
		return 0;
	if (selection & OSSL_KEYMGMT_SELECT_KEYPAIR)
		return EVP_PKEY_eq(k1->pub, k2->pub) == 1;
	if (selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS)
		return EVP_PKEY_parameters_eq(k1->pub, k2->pub) == 1;
	return 1;
}

/* The public part only (a certificate's key, for a match). */
static int
km_import(void *kd, int selection, const OSSL_PARAM params[])
{
	struct lprov_key *k = kd;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pub = NULL;
	int sel, ok;

	if (k == NULL || k->pub != NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
		return 0;
	if (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY)
		sel = EVP_PKEY_PUBLIC_KEY;
	else if (selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS)
		sel = EVP_PKEY_KEY_PARAMETERS;
	else
		return 0;
	ctx = EVP_PKEY_CTX_new_from_name(k->pc->pubctx, lprov_key_type_name(k->type), NULL);
	ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	     EVP_PKEY_fromdata(ctx, &pub, sel, (OSSL_PARAM *)params) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return 0;
	k->pub = pub;
	return 1;
}

static int
km_export(void *kd, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	struct lprov_key *k = kd;

	/* Never the private part: lurkd keeps it, and the operation stays here. */
	if (k == NULL || k->pub == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
		return 0;
	return EVP_PKEY_export(k->pub, selection, cb, cbarg) == 1;
}

static int
km_get_params(void *kd, OSSL_PARAM params[])
{
	struct lprov_key *k = kd;

	if (k == NULL || k->pub == NULL)
		return 0;
	return EVP_PKEY_get_params(k->pub, params) == 1;
}

static const OSSL_PARAM rsa_gettable[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
	OSSL_PARAM_END,
};

static const OSSL_PARAM ec_gettable[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
	OSSL_PARAM_END,
};

static const OSSL_PARAM ed25519_gettable[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_END,
};

static const OSSL_PARAM rsa_pub_types[] = {
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
	OSSL_PARAM_END,
};

static const OSSL_PARAM ec_pub_types[] = {
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
	OSSL_PARAM_END,
};

static const OSSL_PARAM ed25519_pub_types[] = {
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_END,
};

static const OSSL_PARAM *
rsa_gettable_params(void *provctx)
{
	(void)provctx;
	return rsa_gettable;
}

static const OSSL_PARAM *
ec_gettable_params(void *provctx)
{
	(void)provctx;
	return ec_gettable;
}

static const OSSL_PARAM *
ed25519_gettable_params(void *provctx)
{
	(void)provctx;
	return ed25519_gettable;
}

static const OSSL_PARAM *
rsa_types(int selection)
{
	return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : rsa_pub_types;
}

static const OSSL_PARAM *
ec_types(int selection)
{
	return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : ec_pub_types;
}

static const OSSL_PARAM *
ed25519_types(int selection)
{
	return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : ed25519_pub_types;
}

/* Without this, OpenSSL looks for a signature named "EC" and finds none. */
static const char *
ec_query_operation_name(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

#define FN(id, f)                                                                                  \
	{                                                                                          \
		OSSL_FUNC_KEYMGMT_##id, (void (*)(void))(f)                                        \
	}
#define COMMON_FNS                                                                                 \
	FN(FREE, km_free), FN(HAS, km_has), FN(MATCH, km_match), FN(IMPORT, km_import),            \
		FN(EXPORT, km_export), FN(GET_PARAMS, km_get_params)

const OSSL_DISPATCH lprov_rsa_keymgmt[] = {
	COMMON_FNS,
	FN(NEW, rsa_new),
	FN(LOAD, rsa_load),
	FN(GETTABLE_PARAMS, rsa_gettable_params),
	FN(IMPORT_TYPES, rsa_types),
	FN(EXPORT_TYPES, rsa_types),
	{0, NULL},
};

const OSSL_DISPATCH lprov_ec_keymgmt[] = {
	COMMON_FNS,
	FN(NEW, ec_new),
	FN(LOAD, ec_load),
	FN(GETTABLE_PARAMS, ec_gettable_params),
	FN(IMPORT_TYPES, ec_types),
	FN(EXPORT_TYPES, ec_types),
	FN(QUERY_OPERATION_NAME, ec_query_operation_name),
	{0, NULL},
};

const OSSL_DISPATCH lprov_ed25519_keymgmt[] = {
	COMMON_FNS,
	FN(NEW, ed25519_new),
	FN(LOAD, ed25519_load),
	FN(GETTABLE_PARAMS, ed25519_gettable_params),
	FN(IMPORT_TYPES, ed25519_types),
	FN(EXPORT_TYPES, ed25519_types),
	{0, NULL},
};
