/* Sample messages shared by the wire tests, and a receiver's parse of any message. */
#include "config.h"

#include <string.h>

#include "err.h"
#include "wire-samples.h"

/* Sample data. */
static uint8_t kid_rsa[] = "rsa-2048-www";
static uint8_t kid_ec[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
static uint8_t kid_ed[] = "ed";
static uint8_t digest[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4};
static uint8_t tls13_cv[64 + 34 + 32];
static uint8_t context[] = "ctx";
static uint8_t sig[256] = {0x30, 0x44, 0x02, 0x20};
static uint8_t ct[256] = {0x5a};
static uint8_t spki_rsa[294] = {0x30, 0x82, 0x01, 0x22};
static uint8_t spki_ec[91] = {0x30, 0x59};
static uint8_t spki_ed[44] = {0x30, 0x2a};
static uint8_t cert_a[700] = {0x30, 0x82, 0x02, 0xb8};
static uint8_t cert_b[1200] = {0x30, 0x82, 0x04, 0xac};
static uint8_t cert_c[3] = {0x30, 0x01, 0x00};
static uint32_t mechs_rsa[] = {CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS};
static uint32_t mechs_ec[] = {CKM_ECDSA, CKM_ECDSA_SHA256};
static uint32_t mechs_ed[] = {CKM_EDDSA};
static struct lurk_wire_cert chain_rsa[] = {{cert_a, sizeof(cert_a)}, {cert_b, sizeof(cert_b)}};
static struct lurk_wire_cert chain_ec[] = {{cert_c, sizeof(cert_c)}};

static struct lurk_wire_key keys[] = {
	{kid_rsa, sizeof(kid_rsa) - 1, "www.example.com RSA", 19, LURK_KEY_RSA, 2048, spki_rsa,
		sizeof(spki_rsa), LURK_WIRE_KEY_SIGN | LURK_WIRE_KEY_DECRYPT, mechs_rsa, 3,
		chain_rsa, 2},
	{kid_ec, sizeof(kid_ec), "\xc3\xa9t\xc3\xa9 P-256 \xe2\x9c\x93", 15, LURK_KEY_EC, 256,
		spki_ec, sizeof(spki_ec), LURK_WIRE_KEY_SIGN | LURK_WIRE_KEY_REQUIRE_CONTENT,
		mechs_ec, 2, chain_ec, 1},
	{kid_ed, 2, "", 0, LURK_KEY_ED25519, 255, spki_ed, sizeof(spki_ed), LURK_WIRE_KEY_SIGN,
		mechs_ed, 1, NULL, 0},
};
const struct lurk_wire_list_resp wire_sample_list = {keys, 3};

const struct lurk_wire_sign_req wire_sample_sign_none = {
	kid_ec, sizeof(kid_ec), CKM_ECDSA, {.kind = LURK_WIRE_PARAM_NONE}, digest, 32};
const struct lurk_wire_sign_req wire_sample_sign_pss = {kid_rsa, sizeof(kid_rsa) - 1,
	CKM_RSA_PKCS_PSS, {.kind = LURK_WIRE_PARAM_PSS, .u.pss = {CKM_SHA256, CKG_MGF1_SHA256, 32}},
	digest, 32};
const struct lurk_wire_sign_req wire_sample_sign_eddsa = {kid_ed, 2, CKM_EDDSA,
	{.kind = LURK_WIRE_PARAM_EDDSA, .u.eddsa = {1, context, 3}}, tls13_cv, sizeof(tls13_cv)};
const struct lurk_wire_sign_resp wire_sample_sign_resp = {sig, 64};
const struct lurk_wire_decrypt_req wire_sample_decrypt_req = {
	kid_rsa, sizeof(kid_rsa) - 1, CKM_RSA_PKCS, {.kind = LURK_WIRE_PARAM_NONE}, ct, sizeof(ct)};
const struct lurk_wire_ping_resp wire_sample_ping_resp = {1700000000u, LURK_WIRE_PING_DRAINING, 3};
const struct lurk_wire_error wire_sample_error = {
	LURK_WIRE_ST_POLICY, 4, "not a TLS handshake", 19};

/* Header, then the parser its type calls for: what a receiver does. */
int
wire_parse_any(const uint8_t *p, size_t n)
{
	struct lurk_wire_list_resp list;
	struct lurk_wire_sign_req sreq;
	struct lurk_wire_sign_resp sresp;
	struct lurk_wire_decrypt_req dreq;
	struct lurk_wire_decrypt_resp dresp;
	struct lurk_wire_ping_resp ping;
	struct lurk_wire_error err;
	struct lurk_wire_hdr h;
	struct lurk_buf in;
	int r;

	lurk_buf_view(&in, p, n);
	if ((r = lurk_wire_header_parse(&in, &h)) != 0)
		return r;
	switch (h.type) {
	case LURK_WIRE_LIST:
		return lurk_wire_list_req_parse(&in);
	case LURK_WIRE_LIST_RESP:
		r = lurk_wire_list_resp_parse(&in, &list);
		lurk_wire_list_resp_clear(&list);
		return r;
	case LURK_WIRE_SIGN:
		return lurk_wire_sign_req_parse(&in, &sreq);
	case LURK_WIRE_SIGN_RESP:
		return lurk_wire_sign_resp_parse(&in, &sresp);
	case LURK_WIRE_DECRYPT:
		return lurk_wire_decrypt_req_parse(&in, &dreq);
	case LURK_WIRE_DECRYPT_RESP:
		r = lurk_wire_decrypt_resp_parse(&in, &dresp);
		lurk_wire_decrypt_resp_clear(&dresp);
		return r;
	case LURK_WIRE_PING:
		return lurk_wire_ping_req_parse(&in);
	case LURK_WIRE_PING_RESP:
		return lurk_wire_ping_resp_parse(&in, &ping);
	case LURK_WIRE_ERROR:
		return lurk_wire_error_parse(&in, &err);
	default:
		return LURK_ERR_INTERNAL;
	}
}
