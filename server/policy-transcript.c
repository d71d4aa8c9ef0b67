/*
 * The TLS 1.2 client CertificateVerify input (RFC 5246 §7.4.8): what a TLS
 * 1.2 client signs to authenticate is the concatenation of every handshake
 * message so far, each as type(1) ‖ length(3) ‖ body. For a full handshake
 * with client authentication that is, in this order and nothing else:
 *
 *   ClientHello, ServerHello (0x0303), Certificate, [CertificateStatus],
 *   [ServerKeyExchange], CertificateRequest, ServerHelloDone,
 *   Certificate (the client's), ClientKeyExchange
 *
 * CertificateStatus (RFC 6066 §8) comes when the client asked for OCSP
 * stapling; ServerKeyExchange with (EC)DHE key exchange. Each message's
 * length must fit, and so must every vector inside the bodies parsed here.
 * The bytes begin with a ClientHello header (01, u24 length, 03 03), so
 * they can be neither a JWT, an X.509 TBSCertificate nor an SSH request.
 *
 * Every bound is written as `n > len - off` with off <= len known, so no
 * check can overflow and nothing past len is read.
 */
#include "config.h"

#include "lurk-limits.h"
#include "policy-int.h"

#define HS_HDR_LEN     4
#define TLS12_VERSION  0x0303
#define RANDOM_LEN     32
#define SESSION_ID_MAX 32

enum hs_type {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CERTIFICATE_REQUEST = 13,
	HS_SERVER_HELLO_DONE = 14,
	HS_CLIENT_KEY_EXCHANGE = 16,
	HS_CERTIFICATE_STATUS = 22,
};

/* A bounded reader over one message body. */
struct cur {
	const uint8_t *d;
	size_t len, off;
};

/* A big-endian integer of n (1..3) bytes; -1 when the body is shorter. */
static int
get_n(struct cur *c, size_t n, size_t *v)
{
	if (n > c->len - c->off)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v << 8 | c->d[c->off + i];
	c->off += n;
	return 0;
}

/* A vector with an n-byte length of min..max bytes: skipped. */
static int
skip_vec(struct cur *c, size_t n, size_t min, size_t max)
{
	size_t l;

	if (get_n(c, n, &l) != 0 || l < min || l > max || l > c->len - c->off)
		return -1;
	c->off += l;
	return 0;
}

static int
at_end(const struct cur *c)
{
	return c->off == c->len ? 0 : -1;
}

/* legacy_version 0x0303, random: the start of both hellos. */
static int
hello_start(struct cur *c)
{
	size_t v;

	if (get_n(c, 2, &v) != 0 || v != TLS12_VERSION || RANDOM_LEN > c->len - c->off)
		return -1;
	c->off += RANDOM_LEN;
	return skip_vec(c, 1, 0, SESSION_ID_MAX);
}

/* Optional extensions<0..2^16-1> to the end, each type(2) ‖ data<0..2^16-1>. */
static int
extensions(struct cur *c)
{
	size_t l, end, t;

	if (c->off == c->len)
		return 0;
	if (get_n(c, 2, &l) != 0 || l != c->len - c->off)
		return -1;
	end = c->off + l;
	while (c->off < end)
		if (get_n(c, 2, &t) != 0 || skip_vec(c, 2, 0, 0xffff) != 0)
			return -1;
	return 0;
}

static int
client_hello(struct cur *c)
{
	size_t l;

	if (hello_start(c) != 0)
		return -1;
	/* cipher_suites<2..2^16-2>: pairs. */
	if (get_n(c, 2, &l) != 0 || l < 2 || l % 2 != 0 || l > c->len - c->off)
		return -1;
	c->off += l;
	if (skip_vec(c, 1, 1, 0xff) != 0)
		return -1;
	return extensions(c);
}

static int
server_hello(struct cur *c)
{
	if (hello_start(c) != 0 || 3 > c->len - c->off)
		return -1;
	c->off += 3; /* cipher_suite, compression_method */
	return extensions(c);
}

/* certificate_list<1..2^24-1> of ASN.1Cert<1..2^24-1>: not empty for either side. */
static int
certificate(struct cur *c)
{
	size_t l;

	if (get_n(c, 3, &l) != 0 || l == 0 || l != c->len - c->off)
		return -1;
	while (c->off < c->len)
		if (skip_vec(c, 3, 1, 0xffffff) != 0)
			return -1;
	return 0;
}

/* CertificateStatus: status_type ocsp(1), OCSPResponse<1..2^24-1>. */
static int
certificate_status(struct cur *c)
{
	size_t t;

	if (get_n(c, 1, &t) != 0 || t != 1 || skip_vec(c, 3, 1, 0xffffff) != 0)
		return -1;
	return at_end(c);
}

/* certificate_types<1..2^8-1>, signature_algorithms<2..2^16-2>, authorities<0..2^16-1>. */
static int
certificate_request(struct cur *c)
{
	size_t l;

	if (skip_vec(c, 1, 1, 0xff) != 0)
		return -1;
	if (get_n(c, 2, &l) != 0 || l < 2 || l % 2 != 0 || l > c->len - c->off)
		return -1;
	c->off += l;
	if (skip_vec(c, 2, 0, 0xffff) != 0)
		return -1;
	return at_end(c);
}

/*
 * ClientKeyExchange: one non-empty vector, the encrypted premaster or DH
 * public value with a u16 length, or the ECDH point with a u8 length.
 */
static int
client_key_exchange(struct cur *c)
{
	struct cur c8 = *c;

	if (skip_vec(&c8, 1, 1, 0xff) == 0 && at_end(&c8) == 0)
		return 0;
	if (skip_vec(c, 2, 1, 0xffff) != 0)
		return -1;
	return at_end(c);
}

/* The ServerKeyExchange depends on the cipher suite: its body is only not empty. */
static int
server_key_exchange(struct cur *c)
{
	return c->len > 0 ? 0 : -1;
}

static int
server_hello_done(struct cur *c)
{
	return at_end(c);
}

/* The messages in the order they must come. */
static const struct step {
	enum hs_type type;
	int optional;
	int (*body)(struct cur *c);
} steps[] = {
	{HS_CLIENT_HELLO, 0, client_hello},
	{HS_SERVER_HELLO, 0, server_hello},
	{HS_CERTIFICATE, 0, certificate},
	{HS_CERTIFICATE_STATUS, 1, certificate_status},
	{HS_SERVER_KEY_EXCHANGE, 1, server_key_exchange},
	{HS_CERTIFICATE_REQUEST, 0, certificate_request},
	{HS_SERVER_HELLO_DONE, 0, server_hello_done},
	{HS_CERTIFICATE, 0, certificate},
	{HS_CLIENT_KEY_EXCHANGE, 0, client_key_exchange},
};

#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

int
lurk_policy_is_tls12_transcript_start(const uint8_t *d, size_t len)
{
	return len >= HS_HDR_LEN + 2 && d[0] == HS_CLIENT_HELLO && d[4] == 0x03 && d[5] == 0x03;
}

enum lurk_policy_reason
lurk_policy_tls12_client_cv(const struct lurk_policy *p, const uint8_t *d, size_t len)
{
	size_t off = 0, step = 0, blen;
	struct cur c;

	/* The wire caps the data already; this parse does not rely on it. */
	if (len > LURK_WIRE_MAX_DATA)
		return LURK_POLICY_NOT_TLS;
	while (step < N_STEPS && off < len) {
		if (HS_HDR_LEN > len - off)
			return LURK_POLICY_NOT_TLS;
		while (step < N_STEPS && steps[step].optional && d[off] != steps[step].type)
			step++;
		if (step == N_STEPS || d[off] != steps[step].type)
			return LURK_POLICY_NOT_TLS;
		blen = (size_t)d[off + 1] << 16 | (size_t)d[off + 2] << 8 | d[off + 3];
		off += HS_HDR_LEN;
		if (blen > len - off)
			return LURK_POLICY_NOT_TLS;
		c = (struct cur){.d = d + off, .len = blen, .off = 0};
		if (steps[step].body(&c) != 0)
			return LURK_POLICY_NOT_TLS;
		off += blen;
		step++;
	}
	if (step < N_STEPS)
		return LURK_POLICY_NOT_TLS; /* ends before the ClientKeyExchange */
	if (off < len)
		return LURK_POLICY_TRAILING;
	if (!(p->use & LURK_USE_CLIENT))
		return LURK_POLICY_CLIENT_CONTEXT;
	if (!(p->tls_versions & LURK_TLS12))
		return LURK_POLICY_TLS_VERSION;
	return LURK_POLICY_ALLOW;
}
