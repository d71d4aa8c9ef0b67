/*
 * The wire protocol between lurk-pkcs11.so and lurkd (docs/wire.md; the
 * encoding is spelled out in docs/wire.md). Pure byte buffers in and out, no
 * I/O: the channel carries what this layer produces.
 *
 * Fragments. Every transport plaintext is
 *	u8 flags (bit 0 LURK_WIRE_FRAG_MORE, other bits zero) ‖ chunk
 * and the chunks of one message are sent back to back, never interleaved.
 *
 * Messages. A reassembled message (at most LURK_WIRE_MAX_MSG bytes) is
 *	u8 version (LURK_WIRE_VERSION) ‖ u8 type ‖ u32 request id ‖ body
 * Integers are big-endian; strings are a u16 or u32 length and the bytes.
 * A response carries the id of its request and the type request | 0x80, or
 * LURK_WIRE_ERROR.
 *
 * Conventions. Every function returns 0 or a negative LURK_ERR_* (the
 * fragment functions also return 1, said below). Parsers read the body only:
 * call lurk_wire_header_parse() first, then the parser for that type, which
 * consumes the rest of the input and refuses trailing bytes. A parser that
 * fails has zeroed its output and left the cursor where it was. Parsed byte
 * strings are borrowed: they point into the input and are valid as long as
 * the input's storage (except the list response, which is copied, and the
 * decrypt response, which is copied into the struct). Builders append one
 * whole message to `out` and refuse what the peer's parser would refuse
 * (caps, bad values): on failure `out` is as it was.
 */
#ifndef LURK_WIRE_H
#define LURK_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compiler.h"
#include "lurk-limits.h"
#include "tls.h" /* enum lurk_key_type: RSA 1, EC 2, ED25519 3, ED448 4 */

enum lurk_wire_type {
	LURK_WIRE_LIST = 1,
	LURK_WIRE_SIGN = 2,
	LURK_WIRE_DECRYPT = 3,
	LURK_WIRE_PING = 4,
	LURK_WIRE_FROST_COMMIT = 5, /* split keys: wire-frost.h */
	LURK_WIRE_FROST_SIGN = 6,
	LURK_WIRE_RSA_PARTIAL = 7,
	LURK_WIRE_RESPONSE = 0x80, /* set in every response type */
	LURK_WIRE_LIST_RESP = LURK_WIRE_LIST | LURK_WIRE_RESPONSE,
	LURK_WIRE_SIGN_RESP = LURK_WIRE_SIGN | LURK_WIRE_RESPONSE,
	LURK_WIRE_DECRYPT_RESP = LURK_WIRE_DECRYPT | LURK_WIRE_RESPONSE,
	LURK_WIRE_PING_RESP = LURK_WIRE_PING | LURK_WIRE_RESPONSE,
	LURK_WIRE_FROST_COMMIT_RESP = LURK_WIRE_FROST_COMMIT | LURK_WIRE_RESPONSE,
	LURK_WIRE_FROST_SIGN_RESP = LURK_WIRE_FROST_SIGN | LURK_WIRE_RESPONSE,
	LURK_WIRE_RSA_PARTIAL_RESP = LURK_WIRE_RSA_PARTIAL | LURK_WIRE_RESPONSE,
	LURK_WIRE_ERROR = 0xff, /* answers any request */
};

/* Fragment flags. */
#define LURK_WIRE_FRAG_MORE 0x01u

/* Key flags in the list response (other bits are zero). */
#define LURK_WIRE_KEY_SIGN            0x01u /* the client may sign with this key */
#define LURK_WIRE_KEY_DECRYPT         0x02u /* RSA key-exchange decryption allowed */
#define LURK_WIRE_KEY_REQUIRE_CONTENT 0x04u /* hash-only sign requests are refused */
#define LURK_WIRE_KEY_SHARE1          0x08u /* lurkd holds share 1 of a split key (no SIGN) */
#define LURK_WIRE_KEY_SHARE2          0x10u /* lurkd holds share 2 of a split key (no SIGN) */
#define LURK_WIRE_KEY_FLAGS           0x1fu

/* Ping status flags (other bits are zero). */
#define LURK_WIRE_PING_DRAINING 0x01u /* server is shutting down: reconnect elsewhere */
#define LURK_WIRE_PING_FLAGS    0x01u

/* Kinds of mechanism parameters. */
enum lurk_wire_param_kind {
	LURK_WIRE_PARAM_NONE = 0,
	LURK_WIRE_PARAM_PSS = 1,   /* CK_RSA_PKCS_PSS_PARAMS */
	LURK_WIRE_PARAM_EDDSA = 2, /* CK_EDDSA_PARAMS */
};

/* Error classes of an error response. */
enum lurk_wire_status {
	LURK_WIRE_ST_PROTOCOL = 1,   /* malformed or unknown request */
	LURK_WIRE_ST_DENIED = 2,     /* this client may not use this key */
	LURK_WIRE_ST_POLICY = 3,     /* usage policy refused; reason = lurk_policy_reason */
	LURK_WIRE_ST_RATE_LIMIT = 4, /* try again later */
	LURK_WIRE_ST_NOT_FOUND = 5,  /* no such key */
	LURK_WIRE_ST_INTERNAL = 6,   /* server fault */
	LURK_WIRE_ST_MECHANISM = 7,  /* mechanism not supported for this key */
	LURK_WIRE_ST_CRYPTO = 8,     /* the key operation failed */
	LURK_WIRE_ST_LAST = 8,
};

/* Fragmentation: yields the transport plaintexts of one message. */
struct lurk_wire_frag {
	const uint8_t *msg;
	size_t len, off;
	int done;      /* the final fragment has been given */
	size_t pt_len; /* bytes of pt in use, wiped by the next call */
	uint8_t pt[LURK_NOISE_MAX_PLAINTEXT];
};

/* msg must stay unchanged until the last fragment has been taken. */
void lurk_wire_frag_init(struct lurk_wire_frag *f, const uint8_t *msg, size_t len);
/*
 * 1 and the next fragment in *pt (≤ LURK_NOISE_MAX_PLAINTEXT bytes, valid
 * until the next call), 0 when all have been given (f is then wiped), or
 * LURK_ERR_TOO_LARGE for a message over LURK_WIRE_MAX_MSG (nothing given).
 */
int lurk_wire_frag_next(
	struct lurk_wire_frag *f, const uint8_t **pt, size_t *pt_len) LURK_MUST_CHECK;
/* Wipes the copy of the message in f: for a caller that stops early. */
void lurk_wire_frag_clear(struct lurk_wire_frag *f);

/* Reassembly: appends chunks until a fragment without MORE. */
struct lurk_wire_reasm {
	struct lurk_buf msg; /* capped at LURK_WIRE_MAX_MSG */
	int complete;
};

int lurk_wire_reasm_init(struct lurk_wire_reasm *r) LURK_MUST_CHECK;
/*
 * Takes one transport plaintext: 1 when it completed a message, 0 when more
 * fragments are needed, or LURK_ERR_BAD_FORMAT (reserved flag bits, empty
 * non-final fragment), LURK_ERR_INCOMPLETE (no flags byte),
 * LURK_ERR_TOO_LARGE (the message would pass LURK_WIRE_MAX_MSG: refused
 * before anything is appended), LURK_ERR_STATE (a complete message was not
 * reset). After an error the partial message has been wiped.
 */
int lurk_wire_reasm_feed(struct lurk_wire_reasm *r, const uint8_t *pt, size_t len) LURK_MUST_CHECK;
/* The complete message; valid until the next reset or clear. NULL until complete. */
const uint8_t *lurk_wire_reasm_msg(const struct lurk_wire_reasm *r);
size_t lurk_wire_reasm_len(const struct lurk_wire_reasm *r);
/* Wipes and frees the message (it may hold a decrypted secret); ready for the next one. */
void lurk_wire_reasm_reset(struct lurk_wire_reasm *r);
void lurk_wire_reasm_clear(struct lurk_wire_reasm *r);

/* Header. */
struct lurk_wire_hdr {
	uint8_t version;
	uint8_t type; /* enum lurk_wire_type */
	uint32_t id;
};

/*
 * Reads and checks the header: LURK_ERR_BAD_VERSION, LURK_ERR_UNKNOWN_OP for
 * a type not in enum lurk_wire_type, LURK_ERR_INCOMPLETE. Any known type
 * passes: the caller refuses those it does not expect (a server, responses).
 * To answer a refused request with an error response, take its id from
 * lurk_wire_header_peek().
 */
int lurk_wire_header_parse(struct lurk_buf *in, struct lurk_wire_hdr *h) LURK_MUST_CHECK;
/* The first LURK_WIRE_HDR_LEN bytes as they are, unchecked; does not consume. */
int lurk_wire_header_peek(const struct lurk_buf *in, struct lurk_wire_hdr *h) LURK_MUST_CHECK;
/* Appends a header with LURK_WIRE_VERSION. */
int lurk_wire_header_build(struct lurk_buf *out, uint8_t type, uint32_t id) LURK_MUST_CHECK;

/* Mechanism parameters (the same union in sign and decrypt requests). */
struct lurk_wire_param {
	uint8_t kind; /* enum lurk_wire_param_kind */
	union {
		struct {
			uint32_t hash; /* CKM_SHA256, ... */
			uint32_t mgf;  /* CKG_MGF1_SHA256, ... */
			uint32_t slen;
		} pss;
		struct {
			uint8_t ph_flag; /* 0 or 1 */
			const uint8_t *context;
			size_t context_len; /* ≤ LURK_WIRE_MAX_CONTEXT */
		} eddsa;
	} u;
};

/* List response: a certificate, a key. Parsed copies are owned by the response. */
struct lurk_wire_cert {
	uint8_t *der;
	size_t der_len; /* 1..LURK_WIRE_MAX_CERT */
};

struct lurk_wire_key {
	uint8_t *id;      /* CKA_ID */
	size_t id_len;    /* 1..LURK_WIRE_MAX_KEY_ID */
	char *label;      /* CKA_LABEL: UTF-8, no NUL; parsed copies are NUL-terminated */
	size_t label_len; /* ≤ LURK_WIRE_MAX_LABEL, not counting the terminator */
	uint8_t type;     /* enum lurk_key_type */
	uint16_t bits;
	uint8_t *spki;                /* DER SubjectPublicKeyInfo */
	size_t spki_len;              /* 1..LURK_WIRE_MAX_PUBKEY */
	uint32_t flags;               /* LURK_WIRE_KEY_* */
	uint32_t *mechs;              /* CKM_* */
	size_t mech_count;            /* ≤ LURK_WIRE_MAX_MECHS */
	struct lurk_wire_cert *certs; /* leaf first */
	size_t cert_count;            /* ≤ LURK_WIRE_MAX_CHAIN */
};

/*
 * The parse makes a deep copy the module can cache after the message is
 * gone; lurk_wire_list_resp_clear() frees it. Builders only read.
 */
struct lurk_wire_list_resp {
	struct lurk_wire_key *keys;
	size_t key_count; /* ≤ LURK_WIRE_MAX_KEYS */
};

struct lurk_wire_sign_req {
	const uint8_t *key_id;
	size_t key_id_len; /* 1..LURK_WIRE_MAX_KEY_ID */
	uint32_t mech;     /* CKM_* */
	struct lurk_wire_param param;
	const uint8_t *data;
	size_t data_len; /* ≤ LURK_WIRE_MAX_DATA */
};

struct lurk_wire_sign_resp {
	const uint8_t *sig;
	size_t sig_len; /* ≤ LURK_WIRE_MAX_SIGNATURE; PKCS#11 format (ECDSA r‖s) */
};

struct lurk_wire_decrypt_req {
	const uint8_t *key_id;
	size_t key_id_len;
	uint32_t mech;
	struct lurk_wire_param param; /* kind NONE for CKM_RSA_PKCS */
	const uint8_t *ct;
	size_t ct_len; /* ≤ LURK_WIRE_MAX_CIPHERTEXT */
};

/*
 * Secret. The parse copies the plaintext here (and wipes it in the input when
 * the input is writable); the caller copies it out and calls
 * lurk_wire_decrypt_resp_clear(), which wipes.
 */
struct lurk_wire_decrypt_resp {
	uint8_t pt[LURK_WIRE_MAX_CIPHERTEXT];
	size_t pt_len;
};

struct lurk_wire_ping_resp {
	uint64_t time;  /* server clock, Unix seconds */
	uint32_t flags; /* LURK_WIRE_PING_* */
	uint32_t keys;  /* keys served to this client */
};

struct lurk_wire_error {
	uint16_t status;  /* enum lurk_wire_status */
	uint16_t reason;  /* detail, e.g. enum lurk_policy_reason; 0 if none */
	const char *text; /* UTF-8, no NUL, never secret; not NUL-terminated */
	size_t text_len;  /* ≤ LURK_WIRE_MAX_REASON */
};

int lurk_wire_list_req_build(struct lurk_buf *out, uint32_t id) LURK_MUST_CHECK;
int lurk_wire_list_req_parse(struct lurk_buf *in) LURK_MUST_CHECK;
int lurk_wire_list_resp_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_list_resp *m) LURK_MUST_CHECK;
int lurk_wire_list_resp_parse(struct lurk_buf *in, struct lurk_wire_list_resp *m) LURK_MUST_CHECK;
/* Frees everything the parse allocated and zeroes *m. */
void lurk_wire_list_resp_clear(struct lurk_wire_list_resp *m);

int lurk_wire_sign_req_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_sign_req *m) LURK_MUST_CHECK;
int lurk_wire_sign_req_parse(struct lurk_buf *in, struct lurk_wire_sign_req *m) LURK_MUST_CHECK;
int lurk_wire_sign_resp_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_sign_resp *m) LURK_MUST_CHECK;
int lurk_wire_sign_resp_parse(struct lurk_buf *in, struct lurk_wire_sign_resp *m) LURK_MUST_CHECK;

int lurk_wire_decrypt_req_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_decrypt_req *m) LURK_MUST_CHECK;
int lurk_wire_decrypt_req_parse(
	struct lurk_buf *in, struct lurk_wire_decrypt_req *m) LURK_MUST_CHECK;
int lurk_wire_decrypt_resp_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_decrypt_resp *m) LURK_MUST_CHECK;
int lurk_wire_decrypt_resp_parse(
	struct lurk_buf *in, struct lurk_wire_decrypt_resp *m) LURK_MUST_CHECK;
void lurk_wire_decrypt_resp_clear(struct lurk_wire_decrypt_resp *m);

int lurk_wire_ping_req_build(struct lurk_buf *out, uint32_t id) LURK_MUST_CHECK;
int lurk_wire_ping_req_parse(struct lurk_buf *in) LURK_MUST_CHECK;
int lurk_wire_ping_resp_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_ping_resp *m) LURK_MUST_CHECK;
int lurk_wire_ping_resp_parse(struct lurk_buf *in, struct lurk_wire_ping_resp *m) LURK_MUST_CHECK;

int lurk_wire_error_build(
	struct lurk_buf *out, uint32_t id, const struct lurk_wire_error *m) LURK_MUST_CHECK;
int lurk_wire_error_parse(struct lurk_buf *in, struct lurk_wire_error *m) LURK_MUST_CHECK;

/*
 * Bytes one key takes in a list response, from the sizes of its parts
 * (cert_bytes: the certificates' DER lengths added up); a response is
 * LURK_WIRE_LIST_RESP_HDR_LEN plus its keys. lurkd checks at load that each
 * client's list fits in LURK_WIRE_MAX_MSG.
 */
#define LURK_WIRE_LIST_RESP_HDR_LEN (LURK_WIRE_HDR_LEN + 2)
size_t lurk_wire_list_key_len(size_t id_len, size_t label_len, size_t spki_len, size_t mech_count,
	size_t cert_count, size_t cert_bytes);

/* The class to send for a failure (anything unexpected is INTERNAL). */
enum lurk_wire_status lurk_wire_status_from_err(int r);
/* The LURK_ERR_* a received class stands for (PROTOCOL and INTERNAL: LURK_ERR_PEER). */
int lurk_wire_status_to_err(uint16_t status);
/* Short text for logs. */
const char *lurk_wire_status_str(uint16_t status);

/* 0 for UTF-8 text without NUL, else LURK_ERR_EMBEDDED_NUL or LURK_ERR_BAD_FORMAT. */
int lurk_wire_text_check(const uint8_t *p, size_t n) LURK_MUST_CHECK;

#endif
