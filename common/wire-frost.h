/*
 * Wire messages for split Ed25519 keys (issue 18, docs/wire.md "Split keys",
 * research split_keys.md §8): a client asks each of the two lurkd holding a
 * share for commitments ahead of time (FROST_COMMIT), then sends both the
 * same message and commitment list (FROST_SIGN) and adds the two answers up
 * with lurk_frost_aggregate (common/frost.h).
 *
 *	FROST_COMMIT       str16 key id [1..64], u16 count [1..LURK_WIRE_FROST_MAX_COMMIT]
 *	FROST_COMMIT_RESP  u16 count [1..LURK_WIRE_FROST_MAX_COMMIT], each
 *	                   handle (16 bytes) ‖ D (32) ‖ E (32)
 *	FROST_SIGN         str16 key id [1..64], handle (16), str32 message
 *	                   [0..LURK_WIRE_MAX_DATA], u8 list count (exactly 2), each
 *	                   u16 identifier ‖ D (32) ‖ E (32)
 *	FROST_SIGN_RESP    z (32), u8 fresh count [0..1], each handle ‖ D ‖ E
 *
 *	RSA_PARTIAL        str16 key id [1..64], u32 mechanism (CKM_RSA_PKCS or
 *	                   CKM_RSA_PKCS_PSS), parameters (as SIGN's), str16 data
 *	                   [0..LURK_WIRE_MAX_CIPHERTEXT] (the DigestInfo, or PSS's
 *	                   mHash), str16 em [0..LURK_WIRE_MAX_CIPHERTEXT] (PSS: the
 *	                   encoded message the client made; PKCS#1 v1.5: empty)
 *	RSA_PARTIAL_RESP   str16 partial [1..LURK_WIRE_MAX_CIPHERTEXT]: m^d_i mod n
 *
 * Only lengths and counts are checked here; whether identifiers, points and
 * scalars are valid is the signer's and the coordinator's check (frost.h).
 * Parsed structs are copies except the key id and the message, which point
 * into the input. The conventions are those of wire.h.
 */
#ifndef LURK_WIRE_FROST_H
#define LURK_WIRE_FROST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compiler.h"
#include "frost.h"
#include "wire.h"

#define LURK_WIRE_FROST_HANDLE_LEN 16
#define LURK_WIRE_FROST_MAX_COMMIT 16 /* commitments per FROST_COMMIT */
/* ERROR reasons with class NOT_FOUND answering a FROST_SIGN (0: no such key). */
#define LURK_WIRE_FROST_HANDLE_UNKNOWN 1 /* never issued, already used, or lost in a restart */
#define LURK_WIRE_FROST_HANDLE_EXPIRED 2
/* handle ‖ D ‖ E, and u16 id ‖ D ‖ E */
#define LURK_WIRE_FROST_COM_LEN   (LURK_WIRE_FROST_HANDLE_LEN + 2 * LURK_FROST_POINT_LEN)
#define LURK_WIRE_FROST_ENTRY_LEN (2 + 2 * LURK_FROST_POINT_LEN)

/* One issued commitment, as the server sends it. */
struct lurk_wire_frost_com {
	uint8_t handle[LURK_WIRE_FROST_HANDLE_LEN];
	uint8_t D[LURK_FROST_POINT_LEN];
	uint8_t E[LURK_FROST_POINT_LEN];
};

struct lurk_wire_frost_commit_req {
	const uint8_t *key_id;
	size_t key_id_len; /* 1..LURK_WIRE_MAX_KEY_ID */
	size_t count;      /* 1..LURK_WIRE_FROST_MAX_COMMIT */
};

struct lurk_wire_frost_commit_resp {
	struct lurk_wire_frost_com com[LURK_WIRE_FROST_MAX_COMMIT];
	size_t count; /* 1..LURK_WIRE_FROST_MAX_COMMIT */
};

struct lurk_wire_frost_sign_req {
	const uint8_t *key_id;
	size_t key_id_len;
	uint8_t handle[LURK_WIRE_FROST_HANDLE_LEN]; /* the commitment this server signs with */
	const uint8_t *msg;
	size_t msg_len;                                        /* ≤ LURK_WIRE_MAX_DATA */
	struct lurk_frost_commitment list[LURK_FROST_SIGNERS]; /* exactly 2 on the wire */
};

struct lurk_wire_frost_sign_resp {
	uint8_t z[LURK_FROST_SCALAR_LEN];
	size_t fresh_count; /* 0 or 1 */
	struct lurk_wire_frost_com fresh;
};

struct lurk_wire_rsa_partial_req {
	const uint8_t *key_id;
	size_t key_id_len;
	uint32_t mech;
	struct lurk_wire_param param; /* NONE or PSS */
	const uint8_t *data;
	size_t data_len;
	const uint8_t *em;
	size_t em_len;
};

struct lurk_wire_rsa_partial_resp {
	const uint8_t *partial;
	size_t partial_len;
};

int lurk_wire_rsa_partial_req_build(struct lurk_buf *out, uint32_t id,
	const struct lurk_wire_rsa_partial_req *m) LURK_MUST_CHECK;
int lurk_wire_rsa_partial_req_parse(
	struct lurk_buf *in, struct lurk_wire_rsa_partial_req *m) LURK_MUST_CHECK;
int lurk_wire_rsa_partial_resp_build(struct lurk_buf *out, uint32_t id,
	const struct lurk_wire_rsa_partial_resp *m) LURK_MUST_CHECK;
int lurk_wire_rsa_partial_resp_parse(
	struct lurk_buf *in, struct lurk_wire_rsa_partial_resp *m) LURK_MUST_CHECK;

int lurk_wire_frost_commit_req_build(struct lurk_buf *out, uint32_t id,
	const struct lurk_wire_frost_commit_req *m) LURK_MUST_CHECK;
int lurk_wire_frost_commit_req_parse(
	struct lurk_buf *in, struct lurk_wire_frost_commit_req *m) LURK_MUST_CHECK;
int lurk_wire_frost_commit_resp_build(struct lurk_buf *out, uint32_t id,
	const struct lurk_wire_frost_commit_resp *m) LURK_MUST_CHECK;
int lurk_wire_frost_commit_resp_parse(
	struct lurk_buf *in, struct lurk_wire_frost_commit_resp *m) LURK_MUST_CHECK;

int lurk_wire_frost_sign_req_build(struct lurk_buf *out, uint32_t id,
	const struct lurk_wire_frost_sign_req *m) LURK_MUST_CHECK;
int lurk_wire_frost_sign_req_parse(
	struct lurk_buf *in, struct lurk_wire_frost_sign_req *m) LURK_MUST_CHECK;
int lurk_wire_frost_sign_resp_build(struct lurk_buf *out, uint32_t id,
	const struct lurk_wire_frost_sign_resp *m) LURK_MUST_CHECK;
int lurk_wire_frost_sign_resp_parse(
	struct lurk_buf *in, struct lurk_wire_frost_sign_resp *m) LURK_MUST_CHECK;

#endif
