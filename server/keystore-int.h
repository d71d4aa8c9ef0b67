/* The key store's private parts, shared by keystore.c and keystore-ops.c. */
#ifndef LURKD_KEYSTORE_INT_H
#define LURKD_KEYSTORE_INT_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "keystore.h"

struct lurk_tls_key {
	gnutls_privkey_t priv;
	gnutls_pubkey_t pub;
	gnutls_datum_t spki;
	gnutls_datum_t chain[LURK_TLS_KEY_MAX_CHAIN];
	size_t nchain;
	enum lurk_key_type type;
	unsigned bits;
	size_t sig_len;
	gnutls_ecc_curve_t curve;
	const uint32_t *mechs;
	size_t nmechs;
	int pkcs11;
};

#endif
