/*
 * The key store's byte-level security code on hand-built inputs:
 * lurk_ks_pms_unpad (the TLS premaster secret out of a raw RSA decryption,
 * checked without a branch) and lurk_ks_ecdsa_raw (DER ECDSA-Sig-Value to
 * PKCS#11's r‖s). Each case names the mistake it would catch.
 */
#include "config.h"

#include <string.h>

#include "err.h"
#include "keystore-int.h"
#include "tap.h"

#define EM_LEN 256
#define SEP    (EM_LEN - 49) /* the separator's place before a 48-byte secret */

/* A valid type-2 block: 00 02, non-zero padding, 00 at SEP, then 48 bytes. */
static void
good_em(uint8_t em[EM_LEN])
{
	em[0] = 0x00;
	em[1] = 0x02;
	for (size_t i = 2; i < SEP; i++)
		em[i] = (uint8_t)(1 + i % 255); /* never zero */
	em[SEP] = 0x00;
	for (size_t i = SEP + 1; i < EM_LEN; i++)
		em[i] = (uint8_t)(0xa0 ^ i); /* the secret: any bytes, zeros included */
	em[SEP + 5] = 0x00;
}

/* Unpads em; the output must be the last 48 bytes whatever the verdict. */
static int
unpad(const uint8_t em[EM_LEN])
{
	uint8_t out[48];
	int r;

	memset(out, 0x5a, sizeof(out));
	r = lurk_ks_pms_unpad(em, EM_LEN, out);
	assert_mem_eq(out, em + EM_LEN - 48, 48);
	return r;
}

static void
test_unpad_good(void)
{
	uint8_t em[EM_LEN];

	good_em(em);
	assert_ok(unpad(em));
}

static void
test_unpad_bad(void)
{
	uint8_t em[EM_LEN];

	good_em(em);
	em[0] = 0x01; /* not 00 first */
	assert_err(unpad(em), LURK_ERR_CRYPTO);
	good_em(em);
	em[1] = 0x01; /* block type 1 (a signature), not 2 */
	assert_err(unpad(em), LURK_ERR_CRYPTO);
	good_em(em);
	em[1] = 0x00;
	assert_err(unpad(em), LURK_ERR_CRYPTO);
	good_em(em);
	em[2] = 0x00; /* no padding at all: the separator right after 00 02 */
	assert_err(unpad(em), LURK_ERR_CRYPTO);
	good_em(em);
	em[SEP - 1] = 0x00; /* the separator one early: a 49-byte message */
	assert_err(unpad(em), LURK_ERR_CRYPTO);
	good_em(em);
	em[SEP] = 0x01; /* no separator where a 48-byte message needs it */
	assert_err(unpad(em), LURK_ERR_CRYPTO);
	good_em(em);
	em[2 + 7] = 0x00; /* a separator after 7 padding bytes, fewer than 8 */
	assert_err(unpad(em), LURK_ERR_CRYPTO);
	good_em(em);
	em[2 + 8] = 0x00; /* and after exactly 8: still not where a 48-byte secret needs it */
	assert_err(unpad(em), LURK_ERR_CRYPTO);
}

/* The shortest block: exactly 8 bytes of padding; one fewer is refused below. */
static void
test_unpad_min(void)
{
	uint8_t em[59], out[48];

	em[0] = 0x00;
	em[1] = 0x02;
	memset(em + 2, 0xff, 8);
	em[10] = 0x00;
	memset(em + 11, 0x33, 48);
	assert_ok(lurk_ks_pms_unpad(em, sizeof(em), out));
	assert_mem_eq(out, em + 11, 48);
}

/* Too short to hold 00 02, 8 bytes of padding, 00 and 48 bytes: refused, no read past it. */
static void
test_unpad_short(void)
{
	uint8_t em[58] = {0x00, 0x02}, out[48];

	assert_err(lurk_ks_pms_unpad(em, sizeof(em), out), LURK_ERR_CRYPTO);
}

/* A P-256 key as far as lurk_ks_ecdsa_raw cares: 32-byte r and s. */
static const struct lurk_tls_key p256 = {.type = LURK_KEY_EC, .bits = 256, .sig_len = 64};

static int
raw(const uint8_t *der, size_t len, uint8_t sig[64])
{
	size_t sl = 64;
	int r;

	memset(sig, 0xee, 64);
	r = lurk_ks_ecdsa_raw(&p256, der, len, sig, &sl);
	if (r == 0)
		assert_num_eq(sl, 64);
	return r;
}

/* SEQUENCE { INTEGER r, INTEGER s } with r of rl bytes (first byte r0) and s of sl bytes. */
static size_t
build(uint8_t *d, size_t rl, uint8_t r0, size_t sl, uint8_t s0)
{
	size_t o = 0;

	d[o++] = 0x30;
	d[o++] = (uint8_t)(2 + rl + 2 + sl);
	d[o++] = 0x02;
	d[o++] = (uint8_t)rl;
	for (size_t i = 0; i < rl; i++)
		d[o++] = i == 0 ? r0 : (uint8_t)(0x10 + i);
	d[o++] = 0x02;
	d[o++] = (uint8_t)sl;
	for (size_t i = 0; i < sl; i++)
		d[o++] = i == 0 ? s0 : (uint8_t)(0x40 + i);
	return o;
}

static void
test_ecdsa_raw(void)
{
	uint8_t d[160], sig[64], want[64];
	size_t n;

	/* r and s with the high bit set: DER puts a 00 before each, r‖s does not. */
	n = build(d, 33, 0x00, 33, 0x00);
	d[5] = 0x81;  /* r's first byte after the 00 */
	d[40] = 0xc1; /* s's (30 len 02 21 00 r[32] 02 21 00 s[32]) */
	assert_ok(raw(d, n, sig));
	assert_mem_eq(sig, d + 5, 32);
	assert_mem_eq(sig + 32, d + 40, 32);

	/* A short r (here 30 bytes) is left-padded to the field, not shifted. */
	n = build(d, 30, 0x12, 32, 0x34);
	memset(want, 0, 2);
	memcpy(want + 2, d + 4, 30);
	memcpy(want + 32, d + 4 + 30 + 2, 32);
	assert_ok(raw(d, n, sig));
	assert_mem_eq(sig, want, 64);

	/* An r one byte too long for the field (no leading zero to drop): refused. */
	n = build(d, 33, 0x01, 32, 0x34);
	assert_err(raw(d, n, sig), LURK_ERR_CRYPTO);

	/* Trailing bytes after the SEQUENCE: refused. */
	n = build(d, 32, 0x12, 32, 0x34);
	d[n] = 0x00;
	assert_err(raw(d, n + 1, sig), LURK_ERR_CRYPTO);
	/* And bytes inside the SEQUENCE after s. */
	d[1] += 1;
	assert_err(raw(d, n + 1, sig), LURK_ERR_CRYPTO);

	/* Wrong tags: not a SEQUENCE, r or s not an INTEGER. */
	n = build(d, 32, 0x12, 32, 0x34);
	d[0] = 0x31;
	assert_err(raw(d, n, sig), LURK_ERR_CRYPTO);
	n = build(d, 32, 0x12, 32, 0x34);
	d[2] = 0x04;
	assert_err(raw(d, n, sig), LURK_ERR_CRYPTO);
	n = build(d, 32, 0x12, 32, 0x34);
	d[2 + 2 + 32] = 0x03;
	assert_err(raw(d, n, sig), LURK_ERR_CRYPTO);

	/* A SEQUENCE length short of its contents (r and s still within the input). */
	n = build(d, 32, 0x12, 32, 0x34);
	d[1] -= 1;
	assert_err(raw(d, n, sig), LURK_ERR_CRYPTO);
	/* A SEQUENCE length past the input, and a truncated input. */
	n = build(d, 32, 0x12, 32, 0x34);
	assert_err(raw(d, n - 1, sig), LURK_ERR_CRYPTO);
	/* Negative (high bit without the 00) and empty integers. */
	n = build(d, 32, 0x92, 32, 0x34);
	assert_err(raw(d, n, sig), LURK_ERR_CRYPTO);
	n = build(d, 0, 0, 32, 0x34);
	assert_err(raw(d, n, sig), LURK_ERR_CRYPTO);

	/* A length in long form under 128 is BER, not DER. */
	n = build(d, 32, 0x12, 32, 0x34);
	memmove(d + 3, d + 2, n - 2);
	d[1] = 0x81;
	d[2] = (uint8_t)(n - 2);
	assert_err(raw(d, n + 1, sig), LURK_ERR_CRYPTO);

	/* The buffer must hold k->sig_len bytes. */
	{
		size_t sl = 63;
		n = build(d, 32, 0x12, 32, 0x34);
		assert_err(lurk_ks_ecdsa_raw(&p256, d, n, sig, &sl), LURK_ERR_NO_SPACE);
	}
}

/* P-521: 66-byte fields, a SEQUENCE over 127 bytes, so its length in long form (81 xx). */
static void
test_ecdsa_raw_p521(void)
{
	static const struct lurk_tls_key p521 = {.type = LURK_KEY_EC, .bits = 521, .sig_len = 132};
	uint8_t d[160], sig[132];
	size_t o = 0, sl = sizeof(sig);

	d[o++] = 0x30;
	d[o++] = 0x81;
	d[o++] = 2 + 66 + 2 + 66;
	for (int k = 0; k < 2; k++) {
		d[o++] = 0x02;
		d[o++] = 66;
		d[o++] = 0x01; /* P-521's top byte holds one bit */
		for (int i = 1; i < 66; i++)
			d[o++] = (uint8_t)(k * 0x40 + i);
	}
	assert_ok(lurk_ks_ecdsa_raw(&p521, d, o, sig, &sl));
	assert_num_eq(sl, 132);
	assert_mem_eq(sig, d + 5, 66);
	assert_mem_eq(sig + 66, d + 5 + 66 + 2, 66);
}

int
main(int argc, char **argv)
{
	lurk_test(test_unpad_good, "/keystore/pms-unpad/good");
	lurk_test(test_unpad_bad, "/keystore/pms-unpad/bad");
	lurk_test(test_unpad_min, "/keystore/pms-unpad/8-byte-padding");
	lurk_test(test_unpad_short, "/keystore/pms-unpad/short");
	lurk_test(test_ecdsa_raw, "/keystore/ecdsa-raw/p256");
	lurk_test(test_ecdsa_raw_p521, "/keystore/ecdsa-raw/p521");
	return lurk_test_run(argc, argv);
}
