/*
 * The TLS 1.2 client CertificateVerify input (server/policy-transcript.c),
 * built here message by message so that each test breaks one thing: allowed
 * for a `use = client` key with TLS 1.2, refused otherwise, and refused as
 * soon as one byte, length, version or message is off. Real captured
 * transcripts are fixtures (tests/fixtures/policy/{allowed,refused}/
 * \*tls12-client-cv.hex).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ckm.h"
#include "server/policy-int.h"
#include "server/policy.h"
#include "tap.h"
#include "test-policy.h"

enum { CH, SH, CERT, STATUS, SKE, CR, SHD, CCERT, CKE, N_MSG };

/* One handshake's messages, each type ‖ u24 length ‖ body. */
struct hs {
	uint8_t msg[N_MSG][512];
	size_t len[N_MSG];
	int order[N_MSG + 1]; /* message indexes, -1 ends */
};

static uint8_t data[8192];
static size_t data_len;

static void
put(uint8_t *m, size_t *n, const char *hex)
{
	size_t l;
	uint8_t *b = lurk_test_unhex(hex, &l);

	memcpy(m + *n, b, l);
	*n += l;
	free(b);
}

static void
fill(uint8_t *m, size_t *n, uint8_t v, size_t count)
{
	memset(m + *n, v, count);
	*n += count;
}

/* type, then the body's length once it is known. */
static void
seal(struct hs *h, int i, uint8_t type)
{
	size_t body = h->len[i] - 4;

	h->msg[i][0] = type;
	h->msg[i][1] = (uint8_t)(body >> 16);
	h->msg[i][2] = (uint8_t)(body >> 8);
	h->msg[i][3] = (uint8_t)body;
}

/* certificate_list with one 300-byte "certificate". */
static void
certificate(struct hs *h, int i)
{
	h->len[i] = 4;
	put(h->msg[i], &h->len[i], "00012f00012c");
	fill(h->msg[i], &h->len[i], 0x30, 300);
	seal(h, i, 11);
}

/*
 * ECDHE-ECDSA with a session id, extensions on both hellos and OCSP
 * stapling (status) or not, with a ServerKeyExchange (ske) or not (then the
 * ClientKeyExchange is an RSA-encrypted premaster with a u16 length).
 */
static void
build(struct hs *h, int status, int ske)
{
	int k = 0;

	memset(h, 0, sizeof(*h));
	h->len[CH] = 4;
	put(h->msg[CH], &h->len[CH], "0303");
	fill(h->msg[CH], &h->len[CH], 0x11, 32);
	put(h->msg[CH], &h->len[CH], "20");
	fill(h->msg[CH], &h->len[CH], 0x5e, 32);
	/* Two suites, null compression; signature_algorithms, status_request. */
	put(h->msg[CH], &h->len[CH], "0004c02bc02f0100");
	put(h->msg[CH], &h->len[CH], "0011000d000400020403000500050100000000");
	seal(h, CH, 1);
	h->len[SH] = 4;
	put(h->msg[SH], &h->len[SH], "0303");
	fill(h->msg[SH], &h->len[SH], 0x22, 32);
	put(h->msg[SH], &h->len[SH],
		"00c02b00"
		"0009ff0100010000050000"); /* reneg_info, status */
	seal(h, SH, 2);
	certificate(h, CERT);
	h->len[STATUS] = 4;
	put(h->msg[STATUS], &h->len[STATUS], "01000064");
	fill(h->msg[STATUS], &h->len[STATUS], 0x30, 100);
	seal(h, STATUS, 22);
	h->len[SKE] = 4;
	put(h->msg[SKE], &h->len[SKE], "0300174104");
	fill(h->msg[SKE], &h->len[SKE], 0x44, 64);
	put(h->msg[SKE], &h->len[SKE], "04030048");
	fill(h->msg[SKE], &h->len[SKE], 0x30, 72);
	seal(h, SKE, 12);
	h->len[CR] = 4;
	/* Two certificate types, two signature algorithms, no authorities. */
	put(h->msg[CR], &h->len[CR], "0201400004040308040000");
	seal(h, CR, 13);
	h->len[SHD] = 4;
	seal(h, SHD, 14);
	certificate(h, CCERT);
	h->len[CKE] = 4;
	if (ske) {
		put(h->msg[CKE], &h->len[CKE], "4104");
		fill(h->msg[CKE], &h->len[CKE], 0x55, 64);
	} else {
		put(h->msg[CKE], &h->len[CKE], "0100");
		fill(h->msg[CKE], &h->len[CKE], 0x66, 256);
	}
	seal(h, CKE, 16);
	for (int i = 0; i < N_MSG; i++)
		if ((i != STATUS || status) && (i != SKE || ske))
			h->order[k++] = i;
	h->order[k] = -1;
}

static void
flatten(const struct hs *h)
{
	data_len = 0;
	for (int k = 0; h->order[k] >= 0; k++) {
		memcpy(data + data_len, h->msg[h->order[k]], h->len[h->order[k]]);
		data_len += h->len[h->order[k]];
	}
}

/* Leaves out the message at position k of the order. */
static void
drop(struct hs *h, int k)
{
	for (; h->order[k] >= 0; k++)
		h->order[k] = h->order[k + 1];
}

static struct lurk_policy
pol(unsigned use, unsigned versions)
{
	struct lurk_policy p;

	lurk_policy_default(&p);
	p.use = use;
	p.tls_versions = versions;
	return p;
}

#define CLIENT    pol(LURK_USE_CLIENT, LURK_TLS12 | LURK_TLS13)
#define SERVER    pol(LURK_USE_SERVER, LURK_TLS12 | LURK_TLS13)
#define CLIENT_13 pol(LURK_USE_CLIENT, LURK_TLS13)
#define CLIENT_12 pol(LURK_USE_CLIENT, LURK_TLS12)

static void
expect_at(int line, const char *name, struct lurk_policy p, enum lurk_key_type kt, uint32_t mech,
	enum lurk_policy_reason want)
{
	struct lurk_policy_req req = {.key_type = kt, .mech = mech, .data = data, .len = data_len};
	enum lurk_policy_reason got = lurk_policy_check_sign(&p, &req);

	if (got != want)
		lurk_test_fail(__FILE__, line, "%s: got %s (%s), want %s", name,
			policy_reason_name(got), lurk_policy_reason_str(got),
			policy_reason_name(want));
}
#define expect(...) expect_at(__LINE__, __VA_ARGS__)

static enum lurk_policy_content
kind_of(struct lurk_policy p)
{
	enum lurk_policy_content kind = LURK_CONTENT_NONE;
	enum lurk_policy_reason r = lurk_policy_content_check(&p, data, data_len, &kind);

	/* The kind is set whatever the verdict; NONE exactly with NOT_TLS. */
	assert_num_eq(r == LURK_POLICY_NOT_TLS, kind == LURK_CONTENT_NONE);
	return kind;
}

static void
test_allowed(void)
{
	struct hs h;

	for (int status = 0; status < 2; status++) {
		for (int ske = 0; ske < 2; ske++) {
			build(&h, status, ske);
			flatten(&h);
			expect("ecdsa-sha256", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256, 0);
			expect("ecdsa-sha384", CLIENT_12, LURK_KEY_EC, CKM_ECDSA_SHA384, 0);
			expect("rsa pkcs#1 (TLS 1.2 allows it)", CLIENT, LURK_KEY_RSA,
				CKM_SHA256_RSA_PKCS, 0);
			expect("rsa-pss", CLIENT, LURK_KEY_RSA, CKM_SHA256_RSA_PKCS_PSS, 0);
			expect("ed25519", CLIENT, LURK_KEY_ED25519, CKM_EDDSA, 0);
			assert_num_eq(kind_of(CLIENT), LURK_CONTENT_TLS12_CLIENT_CV);
		}
	}
	/* A ClientHello without extensions, a ServerHello without them. */
	build(&h, 0, 1);
	h.len[CH] -= 2 + 17;
	seal(&h, CH, 1);
	h.len[SH] -= 2 + 9;
	seal(&h, SH, 2);
	flatten(&h);
	expect("hellos without extensions", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256, 0);
}

static void
test_policy(void)
{
	struct hs h;

	build(&h, 0, 1);
	flatten(&h);
	expect("use = server", SERVER, LURK_KEY_EC, CKM_ECDSA_SHA256, LURK_POLICY_CLIENT_CONTEXT);
	assert_num_eq(kind_of(SERVER), LURK_CONTENT_TLS12_CLIENT_CV);
	expect("tls-versions = 1.3", CLIENT_13, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_TLS_VERSION);
	expect("use = server and 1.3: the use first", pol(LURK_USE_SERVER, LURK_TLS13), LURK_KEY_EC,
		CKM_ECDSA_SHA256, LURK_POLICY_CLIENT_CONTEXT);
	expect("use = server, client", pol(LURK_USE_SERVER | LURK_USE_CLIENT, LURK_TLS12),
		LURK_KEY_EC, CKM_ECDSA_SHA256, 0);
	expect("bare ECDSA over it: a hash of a wrong length", CLIENT, LURK_KEY_EC, CKM_ECDSA,
		LURK_POLICY_HASH_LENGTH);
}

static void
test_refused(void)
{
	struct hs h;
	int tmp;

	build(&h, 1, 1);
	flatten(&h);
	data_len--;
	expect("truncated by one byte", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256, LURK_POLICY_NOT_TLS);
	assert_num_eq(kind_of(CLIENT), LURK_CONTENT_NONE);
	flatten(&h);
	data[data_len++] = 0x00;
	expect("one trailing byte", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256, LURK_POLICY_TRAILING);
	flatten(&h);
	memcpy(data + data_len, h.msg[SHD], h.len[SHD]);
	data_len += h.len[SHD];
	expect("a ServerHelloDone after the ClientKeyExchange", CLIENT, LURK_KEY_EC,
		CKM_ECDSA_SHA256, LURK_POLICY_TRAILING);

	/* Out of order: CertificateRequest after ServerHelloDone; SKE before Certificate. */
	build(&h, 0, 1);
	tmp = h.order[4], h.order[4] = h.order[5], h.order[5] = tmp;
	assert_num_eq(h.order[5], CR);
	flatten(&h);
	expect("CertificateRequest after ServerHelloDone", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	tmp = h.order[2], h.order[2] = h.order[3], h.order[3] = tmp;
	flatten(&h);
	expect("ServerKeyExchange before Certificate", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 1, 1);
	tmp = h.order[3], h.order[3] = h.order[4], h.order[4] = tmp;
	flatten(&h);
	expect("CertificateStatus after ServerKeyExchange", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);

	/* Messages missing. */
	build(&h, 0, 1);
	h.order[7] = -1;
	flatten(&h);
	expect("ClientKeyExchange missing", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	drop(&h, 4);
	flatten(&h);
	expect("CertificateRequest missing", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	drop(&h, 6);
	flatten(&h);
	expect("client Certificate missing", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.order[8] = CKE;
	h.order[9] = -1;
	flatten(&h);
	expect("two ClientKeyExchanges", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_TRAILING);

	/* Versions. */
	build(&h, 0, 1);
	h.msg[SH][5] = 0x02;
	flatten(&h);
	expect("ServerHello 0x0302", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256, LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.msg[SH][5] = 0x04;
	flatten(&h);
	expect("ServerHello 0x0304", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256, LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.msg[CH][5] = 0x02;
	flatten(&h);
	expect("ClientHello 0x0302", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256, LURK_POLICY_NOT_TLS);

	/* Lengths. */
	build(&h, 0, 1);
	h.msg[CKE][1] = 0xff;
	flatten(&h);
	expect("ClientKeyExchange length past the end", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.msg[CERT][1] = 0xff;
	h.msg[CERT][2] = 0xff;
	h.msg[CERT][3] = 0xff;
	flatten(&h);
	expect("Certificate length 2^24-1", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.msg[CERT][6]++; /* certificate_list one longer than the body */
	flatten(&h);
	expect("certificate_list past its message", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.msg[CH][38] = 33; /* session id of 33 bytes */
	flatten(&h);
	expect("session id of 33 bytes", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.msg[SHD][3] = 1;
	flatten(&h);
	expect("ServerHelloDone with a body", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.msg[CKE][4] = 0x42; /* point one longer than the message */
	flatten(&h);
	expect("ClientKeyExchange vector past its message", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	build(&h, 0, 1);
	h.msg[CCERT][4] = h.msg[CCERT][5] = h.msg[CCERT][6] = 0;
	h.len[CCERT] = 7;
	seal(&h, CCERT, 11);
	flatten(&h);
	expect("empty client certificate list", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
	data_len = 6;
	memcpy(data, "\x01\x00\x00\x02\x03\x03", 6);
	expect("a ClientHello header alone", CLIENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		LURK_POLICY_NOT_TLS);
}

/* Every prefix of a valid transcript is refused, and nothing reads past the end. */
static void
test_truncations(void)
{
	struct hs h;
	struct lurk_policy p = CLIENT;

	build(&h, 1, 1);
	flatten(&h);
	for (size_t cut = 0; cut < data_len; cut++) {
		uint8_t *exact = malloc(cut ? cut : 1);
		struct lurk_policy_req req = {.key_type = LURK_KEY_EC,
			.mech = CKM_ECDSA_SHA256,
			.data = exact,
			.len = cut};

		memcpy(exact, data, cut);
		assert_true(lurk_policy_check_sign(&p, &req) != LURK_POLICY_ALLOW);
		free(exact);
	}
}

/*
 * A ServerKeyExchange block whose client random begins 01 00 00 xx 03 03,
 * as one in 2^40 do, is still a ServerKeyExchange block, never a transcript.
 */
static void
test_ske_like_transcript(void)
{
	static const char *const starts[] = {"010000440303", "010000000303", "01ffffff0303"};

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		size_t n;
		uint8_t *s = lurk_test_unhex(starts[i], &n);

		data_len = 0;
		memcpy(data, s, n);
		memset(data + n, 0x11, 32 - n);
		memset(data + 32, 0x22, 32);
		memcpy(data + 64, "\x03\x00\x17\x41\x04", 5);
		memset(data + 69, 0x5a, 64);
		data_len = 133;
		free(s);
		assert_true(lurk_policy_is_tls12_transcript_start(data, data_len));
		expect("SKE p256 starting like a ClientHello", SERVER, LURK_KEY_EC,
			CKM_ECDSA_SHA256, 0);
		assert_num_eq(kind_of(SERVER), LURK_CONTENT_SKE);
		expect("... on a client key: a server signature", CLIENT, LURK_KEY_EC,
			CKM_ECDSA_SHA256, LURK_POLICY_SERVER_CONTEXT);
		data[data_len++] = 0;
		expect("... with a trailing byte: trailing after the SKE", SERVER, LURK_KEY_EC,
			CKM_ECDSA_SHA256, LURK_POLICY_TRAILING);
		data[66] = 0x16; /* group 0x0016 */
		data_len--;
		expect("... with an unknown group: the SKE's reason", SERVER, LURK_KEY_EC,
			CKM_ECDSA_SHA256, LURK_POLICY_GROUP);
	}
	/* A DHE block (2048-bit p) starting the same way. */
	data_len = 0;
	memcpy(data, "\x01\x00\x00\x10\x03\x03", 6);
	memset(data + 6, 0x11, 58);
	data_len = 64;
	data[data_len++] = 0x01;
	data[data_len++] = 0x00;
	memset(data + data_len, 0xff, 256);
	data_len += 256;
	memcpy(data + data_len, "\x00\x01\x02\x01\x00", 5);
	data_len += 5;
	memset(data + data_len, 0x42, 256);
	data_len += 256;
	expect("SKE DHE starting like a ClientHello", SERVER, LURK_KEY_RSA, CKM_SHA256_RSA_PKCS, 0);
}

void
test_policy_transcript(void)
{
	test_allowed();
	test_policy();
	test_refused();
	test_truncations();
	test_ske_like_transcript();
}
