/*
 * Content checks of the usage policy (docs/policy.md): when the whole signed
 * content is visible, it must be exactly a TLS 1.3 CertificateVerify input
 * (RFC 8446 §4.4.3), a TLS 1.0-1.2 ServerKeyExchange signed block
 * (RFC 5246 §7.4.3, RFC 8422 §5.4) or a TLS 1.2 client CertificateVerify
 * input (RFC 5246 §7.4.8, policy-transcript.c), byte for byte, nothing after.
 *
 * Every bound is written as `n > len - off` with off <= len known, so no
 * check can overflow and nothing past len is read.
 */
#include "config.h"

#include <string.h>

#include "policy-int.h"
#include "tls.h"

#define TLS13_PAD_LEN        64
#define TLS13_CTX_LEN        33   /* both contexts have the same length */
#define RANDOMS_LEN          64   /* client_random || server_random */
#define DH_MIN_P_LEN         256  /* 2048 bits */
#define DH_MAX_P_LEN         1024 /* 8192 bits */
#define CURVE_EXPLICIT_PRIME 1
#define CURVE_EXPLICIT_CHAR2 2
#define CURVE_NAMED          3

static const char tls13_server_ctx[TLS13_CTX_LEN + 1] = "TLS 1.3, server CertificateVerify";
static const char tls13_client_ctx[TLS13_CTX_LEN + 1] = "TLS 1.3, client CertificateVerify";

/* 64 x 0x20, context, 0x00, transcript hash of 32/48/64 bytes. */
static enum lurk_policy_reason
check_tls13(const struct lurk_policy *p, const uint8_t *d, size_t len)
{
	const size_t off = TLS13_PAD_LEN + TLS13_CTX_LEN + 1;
	int server;

	if (len < off)
		return LURK_POLICY_NOT_TLS;
	if (memcmp(d + TLS13_PAD_LEN, tls13_server_ctx, TLS13_CTX_LEN) == 0)
		server = 1;
	else if (memcmp(d + TLS13_PAD_LEN, tls13_client_ctx, TLS13_CTX_LEN) == 0)
		server = 0;
	else
		return LURK_POLICY_NOT_TLS;
	if (d[off - 1] != 0x00)
		return LURK_POLICY_NOT_TLS;
	if (server && !(p->use & LURK_USE_SERVER))
		return LURK_POLICY_SERVER_CONTEXT;
	if (!server && !(p->use & LURK_USE_CLIENT))
		return LURK_POLICY_CLIENT_CONTEXT;
	if (!(p->tls_versions & LURK_TLS13))
		return LURK_POLICY_TLS_VERSION;
	/*
	 * Past the longest hash is trailing data, short of it a wrong length: a
	 * 65-byte "hash" and a 64-byte one plus a stray byte are the same bytes.
	 */
	if (len - off > LURK_HASH_MAX_LEN)
		return LURK_POLICY_TRAILING;
	if (!lurk_tls_hash_len(len - off))
		return LURK_POLICY_HASH_LENGTH;
	return LURK_POLICY_ALLOW;
}

/* A named group's public value: exact length and encoding (RFC 8446 §4.2.8.2). */
static enum lurk_policy_reason
check_ecdh_point(unsigned group, const uint8_t *v, size_t n)
{
	size_t want;
	int montgomery = 0;
	uint8_t acc = 0;

	switch (group) {
	case 0x0017: /* secp256r1 */
		want = 65;
		break;
	case 0x0018: /* secp384r1 */
		want = 97;
		break;
	case 0x0019: /* secp521r1 */
		want = 133;
		break;
	case 0x001d: /* x25519 */
		want = 32;
		montgomery = 1;
		break;
	case 0x001e: /* x448 */
		want = 56;
		montgomery = 1;
		break;
	default:
		return LURK_POLICY_GROUP;
	}
	if (n != want)
		return LURK_POLICY_PUBLIC_VALUE;
	if (!montgomery)
		return v[0] == 0x04 ? LURK_POLICY_ALLOW : LURK_POLICY_PUBLIC_VALUE;
	/* An all-zero X25519/X448 share gives an all-zero secret (RFC 7748 §6). */
	for (size_t i = 0; i < n; i++)
		acc |= v[i];
	return acc != 0 ? LURK_POLICY_ALLOW : LURK_POLICY_PUBLIC_VALUE;
}

/*
 * ServerECDHParams, named_curve: 03, group(2), point<1..255>. A group or point
 * is blamed only when the framing holds to the end; a valid block followed by
 * more bytes is trailing data; anything else is not TLS at all, so that, say,
 * a certificate whose byte 64 happens to be 0x03 is reported as what it is.
 */
static enum lurk_policy_reason
check_ecdh(const uint8_t *d, size_t len)
{
	size_t off = RANDOMS_LEN, n;
	unsigned group;
	enum lurk_policy_reason r;

	if (4 > len - off)
		return LURK_POLICY_NOT_TLS;
	group = (unsigned)d[off + 1] << 8 | d[off + 2];
	n = d[off + 3];
	off += 4;
	if (n > len - off)
		return LURK_POLICY_NOT_TLS;
	r = check_ecdh_point(group, d + off, n);
	if (n == len - off)
		return r;
	return r == LURK_POLICY_ALLOW ? LURK_POLICY_TRAILING : LURK_POLICY_NOT_TLS;
}

/* Skips count u8-length vectors; 0 if they are all there. */
static int
skip_vectors(const uint8_t *d, size_t len, size_t *off, int count)
{
	for (int i = 0; i < count; i++) {
		if (1 > len - *off || d[*off] > len - *off - 1)
			return -1;
		*off += 1 + (size_t)d[*off];
	}
	return 0;
}

/*
 * Explicit curves (RFC 4492 §5.4), which RFC 8422 removed and no TLS stack
 * sends: refused as a group when the block has their framing, else not TLS.
 * explicit_prime: p, a, b, base, order, cofactor, then the point; explicit_char2:
 * m(2), basis(1), one or three basis vectors, a, b, base, order, cofactor, point.
 */
static enum lurk_policy_reason
check_explicit(const uint8_t *d, size_t len)
{
	size_t off = RANDOMS_LEN + 1;

	if (d[RANDOMS_LEN] == CURVE_EXPLICIT_CHAR2) {
		if (3 > len - off)
			return LURK_POLICY_NOT_TLS;
		off += 3;
		if (skip_vectors(d, len, &off, d[off - 1] == 2 ? 3 : 1) != 0)
			return LURK_POLICY_NOT_TLS;
		if (skip_vectors(d, len, &off, 6) != 0)
			return LURK_POLICY_NOT_TLS;
	} else if (skip_vectors(d, len, &off, 7) != 0) {
		return LURK_POLICY_NOT_TLS;
	}
	return off == len ? LURK_POLICY_GROUP : LURK_POLICY_NOT_TLS;
}

enum dh_shape {
	DH_NONE,     /* not three u16-length values */
	DH_TRAILING, /* three values, then more bytes */
	DH_EXACT,    /* three values, exactly to the end */
};

/* ServerDHParams: dh_p, dh_g, dh_Ys, each with a u16 length. */
static enum dh_shape
parse_dh(const uint8_t *d, size_t len, size_t lens[3], size_t *p_start)
{
	size_t off = RANDOMS_LEN;

	for (int i = 0; i < 3; i++) {
		if (2 > len - off)
			return DH_NONE;
		lens[i] = (size_t)d[off] << 8 | d[off + 1];
		off += 2;
		if (lens[i] > len - off)
			return DH_NONE;
		if (i == 0)
			*p_start = off;
		off += lens[i];
	}
	return off == len ? DH_EXACT : DH_TRAILING;
}

/* p of 2048-8192 bits without a leading zero byte; g and Ys 1..len(p) bytes. */
static enum lurk_policy_reason
check_dh_sizes(const uint8_t *d, const size_t lens[3], size_t p_start)
{
	if (lens[0] < DH_MIN_P_LEN || lens[0] > DH_MAX_P_LEN || d[p_start] == 0)
		return LURK_POLICY_DH_PARAMS;
	if (lens[1] == 0 || lens[1] > lens[0] || lens[2] == 0 || lens[2] > lens[0])
		return LURK_POLICY_DH_PARAMS;
	return LURK_POLICY_ALLOW;
}

/*
 * client_random || server_random || ServerECDHParams or ServerDHParams.
 *
 * The first params byte is ambiguous: 0x01-0x03 is both an ECCurveType and
 * the high byte of a DH p length of 256-1023 bytes (ffdhe6144's is 03 00).
 * A block that parses exactly as ServerDHParams is DH (an ECDH block is at
 * most 64 + 4 + 255 bytes, too short for such a p); so is a valid DH block
 * followed by more bytes (trailing). Otherwise 03 is a named curve and 01/02
 * explicit curves.
 */
static enum lurk_policy_reason
check_ske(const struct lurk_policy *p, const uint8_t *d, size_t len)
{
	size_t lens[3] = {0, 0, 0}, p_start = 0;
	enum dh_shape dh;
	enum lurk_policy_reason r;

	if (len <= RANDOMS_LEN)
		return LURK_POLICY_NOT_TLS;
	dh = parse_dh(d, len, lens, &p_start);
	if (dh == DH_EXACT)
		r = check_dh_sizes(d, lens, p_start);
	else if (dh == DH_TRAILING && check_dh_sizes(d, lens, p_start) == LURK_POLICY_ALLOW)
		r = LURK_POLICY_TRAILING;
	else if (d[RANDOMS_LEN] == CURVE_NAMED)
		r = check_ecdh(d, len);
	else if (d[RANDOMS_LEN] == CURVE_EXPLICIT_PRIME || d[RANDOMS_LEN] == CURVE_EXPLICIT_CHAR2)
		r = check_explicit(d, len);
	else
		r = LURK_POLICY_NOT_TLS;
	if (r != LURK_POLICY_ALLOW)
		return r;
	if (!(p->use & LURK_USE_SERVER))
		return LURK_POLICY_SERVER_CONTEXT;
	if (!(p->tls_versions & (LURK_TLS10 | LURK_TLS11 | LURK_TLS12)))
		return LURK_POLICY_TLS_VERSION;
	return LURK_POLICY_ALLOW;
}

/*
 * Data that begins as a TLS 1.2 ClientHello (01, u24 length, 03 03) may still
 * be a ServerKeyExchange block: its first 32 bytes are the client random,
 * which begins with those bytes once in 2^40. Such a block is never taken for
 * a transcript: unless the transcript parse allows the data, the SKE check
 * decides, and only when that finds no SKE either does the transcript's
 * verdict (a refusal) stand.
 */
static enum lurk_policy_reason
check_transcript_or_ske(
	const struct lurk_policy *p, const uint8_t *d, size_t len, enum lurk_policy_content *kind)
{
	enum lurk_policy_reason rt, rs;

	rt = lurk_policy_tls12_client_cv(p, d, len);
	if (rt != LURK_POLICY_ALLOW) {
		rs = check_ske(p, d, len);
		if (rs != LURK_POLICY_NOT_TLS) {
			*kind = LURK_CONTENT_SKE;
			return rs;
		}
	}
	*kind = rt == LURK_POLICY_NOT_TLS ? LURK_CONTENT_NONE : LURK_CONTENT_TLS12_CLIENT_CV;
	return rt;
}

enum lurk_policy_reason
lurk_policy_content_check(
	const struct lurk_policy *p, const uint8_t *d, size_t len, enum lurk_policy_content *kind)
{
	enum lurk_policy_reason r;
	size_t i;

	/*
	 * TLS 1.3 first: 64 random bytes that are all 0x20 and then 'T' are
	 * possible in a ServerKeyExchange only with probability 2^-520.
	 */
	if (len > TLS13_PAD_LEN) {
		for (i = 0; i < TLS13_PAD_LEN && d[i] == 0x20; i++)
			;
		if (i == TLS13_PAD_LEN && d[TLS13_PAD_LEN] == 'T') {
			r = check_tls13(p, d, len);
			*kind = r == LURK_POLICY_NOT_TLS ? LURK_CONTENT_NONE
							 : LURK_CONTENT_TLS13_CV;
			return r;
		}
	}
	if (lurk_policy_is_tls12_transcript_start(d, len))
		return check_transcript_or_ske(p, d, len, kind);
	r = check_ske(p, d, len);
	*kind = r == LURK_POLICY_NOT_TLS ? LURK_CONTENT_NONE : LURK_CONTENT_SKE;
	return r;
}
