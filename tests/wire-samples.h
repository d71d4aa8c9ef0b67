/* Sample messages shared by the wire tests. */
#ifndef LURK_TEST_WIRE_SAMPLES_H
#define LURK_TEST_WIRE_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* PKCS#11 numbers used in samples (pkcs11t.h). */
#define CKM_RSA_PKCS            0x0001u
#define CKM_RSA_PKCS_PSS        0x000du
#define CKM_SHA256              0x0250u
#define CKM_SHA256_RSA_PKCS_PSS 0x0043u
#define CKM_ECDSA               0x1041u
#define CKM_ECDSA_SHA256        0x1044u
#define CKM_EDDSA               0x1057u
#define CKG_MGF1_SHA256         0x0002u

#define BIG_CAP LURK_BUF_SIZE_MAX

extern const struct lurk_wire_list_resp wire_sample_list;      /* 3 keys, 0-2 certificates each */
extern const struct lurk_wire_sign_req wire_sample_sign_none;  /* ECDSA over a digest */
extern const struct lurk_wire_sign_req wire_sample_sign_pss;   /* RSA-PSS SHA-256 */
extern const struct lurk_wire_sign_req wire_sample_sign_eddsa; /* Ed25519ctx over content */
extern const struct lurk_wire_sign_resp wire_sample_sign_resp;
extern const struct lurk_wire_decrypt_req wire_sample_decrypt_req;
extern const struct lurk_wire_ping_resp wire_sample_ping_resp;
extern const struct lurk_wire_error wire_sample_error;

/* What a receiver does: the header, then the parser for its type (freeing what it made). */
int wire_parse_any(const uint8_t *p, size_t n);

#endif
