/* What lurk-client's two modes share: hex, mechanism names, verification. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sodium.h>

#include "ckm.h"
#include "wire.h"

#include "lurk-client.h"

static const struct {
	const char *name;
	uint32_t mech;
} mechs[] = {
	{"ecdsa", CKM_ECDSA},
	{"eddsa", CKM_EDDSA},
	{"rsa-pkcs", CKM_RSA_PKCS},
	{"rsa-pss", CKM_RSA_PKCS_PSS},
	{"rsa-x509", CKM_RSA_X_509},
	{"ecdsa-sha256", CKM_ECDSA_SHA256},
	{"ecdsa-sha384", CKM_ECDSA_SHA384},
	{"ecdsa-sha512", CKM_ECDSA_SHA512},
	{"sha256-rsa-pkcs", CKM_SHA256_RSA_PKCS},
	{"sha384-rsa-pkcs", CKM_SHA384_RSA_PKCS},
	{"sha256-rsa-pss", CKM_SHA256_RSA_PKCS_PSS},
	{"sha384-rsa-pss", CKM_SHA384_RSA_PKCS_PSS},
};

void
cli_hex_print(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

uint8_t *
cli_unhex(const char *s, size_t *n)
{
	size_t len = strlen(s);
	uint8_t *out = malloc(len / 2 + 1);

	if (out == NULL || sodium_hex2bin(out, len / 2 + 1, s, len, NULL, n, NULL) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

uint32_t
cli_mech_of(const char *name)
{
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcmp(mechs[i].name, name) == 0)
			return mechs[i].mech;
	return (uint32_t)strtoul(name, NULL, 0);
}

/* A key lurkd does not list, with a made-up id: asked anyway, the server must refuse it. */
const struct lurk_wire_key *
cli_fake_key(char *label)
{
	static struct lurk_wire_key fake = {0};
	static uint8_t id[20];

	memset(id, 0x42, sizeof(id));
	fake.id = id;
	fake.id_len = sizeof(id);
	fake.label = label;
	return &fake;
}

void
cli_print_list(const struct lurk_wire_list_resp *list)
{
	for (size_t i = 0; i < list->key_count; i++) {
		const struct lurk_wire_key *k = &list->keys[i];
		printf("%s type=%u bits=%u flags=0x%x mechs=%zu certs=%zu id=", k->label, k->type,
			k->bits, k->flags, k->mech_count, k->cert_count);
		cli_hex_print(k->id, k->id_len);
	}
}

/* The parameters a mechanism takes for data of len bytes (PSS: the hash's). */
void
cli_sign_param(uint32_t mech, size_t len, struct lurk_wire_param *p)
{
	memset(p, 0, sizeof(*p));
	if (mech == CKM_RSA_PKCS_PSS) {
		p->kind = LURK_WIRE_PARAM_PSS;
		p->u.pss.hash = len == 32 ? CKM_SHA256 : len == 48 ? CKM_SHA384 : CKM_SHA512;
		p->u.pss.mgf = len == 32   ? CKG_MGF1_SHA256
			       : len == 48 ? CKG_MGF1_SHA384
					   : CKG_MGF1_SHA512;
		p->u.pss.slen = (uint32_t)len;
		if (getenv("LURK_CLIENT_PSS_SALT") != NULL)
			p->u.pss.slen = (uint32_t)atoi(getenv("LURK_CLIENT_PSS_SALT"));
	} else if (mech == CKM_SHA256_RSA_PKCS_PSS || mech == CKM_SHA384_RSA_PKCS_PSS) {
		int h384 = mech == CKM_SHA384_RSA_PKCS_PSS;
		p->kind = LURK_WIRE_PARAM_PSS;
		p->u.pss.hash = h384 ? CKM_SHA384 : CKM_SHA256;
		p->u.pss.mgf = h384 ? CKG_MGF1_SHA384 : CKG_MGF1_SHA256;
		p->u.pss.slen = h384 ? 48 : 32;
	}
}

static gnutls_digest_algorithm_t
hash_of_len(size_t n)
{
	switch (n) {
	case 20:
		return GNUTLS_DIG_SHA1;
	case 32:
		return GNUTLS_DIG_SHA256;
	case 48:
		return GNUTLS_DIG_SHA384;
	case 64:
		return GNUTLS_DIG_SHA512;
	default:
		return GNUTLS_DIG_UNKNOWN;
	}
}

/* Verifies a PKCS#11-format signature with the key's SPKI. 0 if it verifies. */
int
cli_verify(const struct lurk_wire_key *k, uint32_t mech, const uint8_t *data, size_t len,
	const uint8_t *sig, size_t sig_len)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t spki = {k->spki, (unsigned)k->spki_len};
	gnutls_datum_t d = {(uint8_t *)data, (unsigned)len},
		       s = {(uint8_t *)sig, (unsigned)sig_len};
	gnutls_datum_t der = {NULL, 0};
	gnutls_sign_algorithm_t alg = GNUTLS_SIGN_UNKNOWN;
	int hashed = 1, r = -1;

	if (gnutls_pubkey_init(&pub) < 0 ||
		gnutls_pubkey_import(pub, &spki, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	switch (mech) {
	case CKM_ECDSA:
	case CKM_ECDSA_SHA256:
	case CKM_ECDSA_SHA384:
	case CKM_ECDSA_SHA512: {
		gnutls_datum_t rr = {(uint8_t *)sig, (unsigned)sig_len / 2};
		gnutls_datum_t ss = {(uint8_t *)sig + sig_len / 2, (unsigned)sig_len / 2};
		if (gnutls_encode_rs_value(&der, &rr, &ss) < 0)
			goto out;
		s = der;
		if (mech == CKM_ECDSA)
			alg = gnutls_pk_to_sign(GNUTLS_PK_ECDSA, hash_of_len(len));
		else {
			hashed = 0;
			alg = gnutls_pk_to_sign(
				GNUTLS_PK_ECDSA, mech == CKM_ECDSA_SHA256   ? GNUTLS_DIG_SHA256
						 : mech == CKM_ECDSA_SHA384 ? GNUTLS_DIG_SHA384
									    : GNUTLS_DIG_SHA512);
		}
		break;
	}
	case CKM_EDDSA:
		hashed = 0;
		alg = k->type == 4 ? GNUTLS_SIGN_EDDSA_ED448 : GNUTLS_SIGN_EDDSA_ED25519;
		break;
	case CKM_RSA_PKCS: {
		/* DigestInfo: the digest is the last bytes; its length picks the hash. */
		if (len == 36) {
			r = gnutls_pubkey_verify_hash2(pub, GNUTLS_SIGN_RSA_RAW,
				    GNUTLS_VERIFY_USE_TLS1_RSA, &d, &s) >= 0
				    ? 0
				    : -1;
			goto out;
		}
		size_t dl = len == 51 ? 32 : len == 67 ? 48 : len == 83 ? 64 : len == 35 ? 20 : 0;
		if (dl == 0)
			goto out;
		d.data += len - dl;
		d.size = (unsigned)dl;
		alg = gnutls_pk_to_sign(GNUTLS_PK_RSA, hash_of_len(dl));
		break;
	}
	case CKM_RSA_PKCS_PSS:
		alg = hash_of_len(len) == GNUTLS_DIG_SHA256   ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA256
		      : hash_of_len(len) == GNUTLS_DIG_SHA384 ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA384
							      : GNUTLS_SIGN_RSA_PSS_RSAE_SHA512;
		break;
	case CKM_SHA256_RSA_PKCS:
		hashed = 0;
		alg = GNUTLS_SIGN_RSA_SHA256;
		break;
	case CKM_SHA384_RSA_PKCS:
		hashed = 0;
		alg = GNUTLS_SIGN_RSA_SHA384;
		break;
	case CKM_SHA256_RSA_PKCS_PSS:
		hashed = 0;
		alg = GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
		break;
	case CKM_SHA384_RSA_PKCS_PSS:
		hashed = 0;
		alg = GNUTLS_SIGN_RSA_PSS_RSAE_SHA384;
		break;
	default:
		goto out;
	}
	if (hashed)
		r = gnutls_pubkey_verify_hash2(pub, alg, 0, &d, &s) >= 0 ? 0 : -1;
	else
		r = gnutls_pubkey_verify_data2(pub, alg, 0, &d, &s) >= 0 ? 0 : -1;
out:
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	return r;
}
