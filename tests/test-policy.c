/*
 * The usage policy classifier, table-driven: TLS handshake inputs pass, and
 * everything else is refused with its own reason.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckm.h"
#include "err.h"
#include "server/policy.h"
#include "tap.h"
#include "tls.h"
#include "test-policy.h"

#define SERVER_12_13 (LURK_USE_SERVER | 0x100)
#define LEGACY       (LURK_USE_SERVER | 0x200)
#define CLIENT_ONLY  (LURK_USE_CLIENT | 0x400)
#define ONLY_12      (LURK_USE_SERVER | 0x800)
#define CONTENT      (LURK_USE_SERVER | 0x1000)

static uint8_t data[4096];
static size_t data_len;

static void
put(const void *p, size_t n)
{
	memcpy(data + data_len, p, n);
	data_len += n;
}

static void
put_byte(uint8_t b, size_t n)
{
	memset(data + data_len, b, n);
	data_len += n;
}

static void
tls13(const char *ctx, size_t hash_len)
{
	data_len = 0;
	put_byte(0x20, 64);
	put(ctx, strlen(ctx));
	put_byte(0x00, 1);
	put_byte(0xab, hash_len);
}

static void
ske_ecdh(uint16_t group, uint8_t first, size_t point_len)
{
	uint8_t hdr[4] = {0x03, (uint8_t)(group >> 8), (uint8_t)group, (uint8_t)point_len};

	data_len = 0;
	put_byte(0x11, 32); /* client_random */
	put_byte(0x22, 32); /* server_random */
	put(hdr, sizeof(hdr));
	put_byte(first, 1);
	put_byte(0x5a, point_len - 1);
}

static void
ske_dh(size_t p_len)
{
	uint8_t l[2] = {(uint8_t)(p_len >> 8), (uint8_t)p_len}, g[3] = {0, 1, 2};

	data_len = 0;
	put_byte(0x11, 64);
	put(l, 2);
	put_byte(0xff, p_len);
	put(g, 3);
	put(l, 2);
	put_byte(0x42, p_len);
}

static void
digest_info(const char *hex_prefix, size_t hash_len)
{
	size_t n;
	uint8_t *p = lurk_test_unhex(hex_prefix, &n);

	data_len = 0;
	put(p, n);
	put_byte(0xcd, hash_len);
	free(p);
}

static void
raw(size_t n)
{
	data_len = 0;
	put_byte(0x77, n);
}

static void
text(const char *s)
{
	data_len = 0;
	put(s, strlen(s));
}

static struct lurk_policy
policy_of(unsigned flags)
{
	struct lurk_policy p;

	lurk_policy_default(&p);
	if (flags & 0x200)
		p.tls_versions |= LURK_TLS10 | LURK_TLS11;
	if (flags & 0x400)
		p.use = LURK_USE_CLIENT;
	if (flags & 0x800)
		p.tls_versions = LURK_TLS12;
	if (flags & 0x1000)
		p.require_content = 1;
	return p;
}

static void
expect(const char *name, unsigned pol, enum lurk_key_type kt, uint32_t mech, int pss, uint32_t hash,
	uint32_t mgf, uint32_t slen, enum lurk_policy_reason want)
{
	struct lurk_policy p = policy_of(pol);
	struct lurk_policy_req req = {.key_type = kt,
		.mech = mech,
		.has_pss = pss,
		.pss_hash = hash,
		.pss_mgf = mgf,
		.pss_slen = slen,
		.data = data,
		.len = data_len};
	enum lurk_policy_reason got = lurk_policy_check_sign(&p, &req);

	if (got != want)
		lurk_test_fail(__FILE__, __LINE__, "%s: got %d (%s), want %d (%s)", name, got,
			lurk_policy_reason_str(got), want, lurk_policy_reason_str(want));
}

#define SRV   "TLS 1.3, server CertificateVerify"
#define CLI   "TLS 1.3, client CertificateVerify"
#define DI256 "3031300d060960864801650304020105000420"
#define DI384 "3041300d060960864801650304020205000430"
#define DI512 "3051300d060960864801650304020305000440"
#define DI1   "3021300906052b0e03021a05000414"
#define NOPSS 0, 0, 0, 0

static void
test_allowed(void)
{
	static const size_t lens[] = {32, 48, 64};

	for (size_t i = 0; i < 3; i++) {
		tls13(SRV, lens[i]);
		expect("tls13 ed25519", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS, 0);
		expect("tls13 ed448", SERVER_12_13, LURK_KEY_ED448, CKM_EDDSA, NOPSS, 0);
		expect("tls13 ecdsa-sha256", SERVER_12_13, LURK_KEY_EC, CKM_ECDSA_SHA256, NOPSS, 0);
		expect("tls13 sha256-rsa-pss", SERVER_12_13, LURK_KEY_RSA, CKM_SHA256_RSA_PKCS_PSS,
			1, CKM_SHA256, CKG_MGF1_SHA256, 32, 0);
		raw(lens[i]);
		expect("ecdsa hash", SERVER_12_13, LURK_KEY_EC, CKM_ECDSA, NOPSS, 0);
	}
	tls13(CLI, 32);
	expect("tls13 client ctx, client key", CLIENT_ONLY, LURK_KEY_ED25519, CKM_EDDSA, NOPSS, 0);
	ske_ecdh(0x001d, 0x09, 32);
	expect("ske x25519", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS, 0);
	ske_ecdh(0x0017, 0x04, 65);
	expect("ske p256 (observed 133-byte layout)", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA,
		NOPSS, 0);
	assert_num_eq(data_len, 133);
	ske_ecdh(0x0018, 0x04, 97);
	expect("ske p384", SERVER_12_13, LURK_KEY_EC, CKM_ECDSA_SHA384, NOPSS, 0);
	ske_ecdh(0x001e, 0x01, 56);
	expect("ske x448", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS, 0);
	ske_dh(256);
	expect("ske dhe 2048", SERVER_12_13, LURK_KEY_RSA, CKM_SHA256_RSA_PKCS, NOPSS, 0);
	digest_info(DI256, 32);
	expect("digestinfo sha256", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS, 0);
	digest_info(DI384, 48);
	expect("digestinfo sha384", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS, 0);
	digest_info(DI512, 64);
	expect("digestinfo sha512", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS, 0);
	raw(32);
	expect("pss sha256", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, 1, CKM_SHA256,
		CKG_MGF1_SHA256, 32, 0);
	raw(48);
	expect("pss sha384", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, 1, CKM_SHA384,
		CKG_MGF1_SHA384, 48, 0);
	raw(64);
	expect("pss sha512", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, 1, CKM_SHA512,
		CKG_MGF1_SHA512, 64, 0);
	raw(36);
	expect("md5+sha1 with TLS 1.0", LEGACY, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS, 0);
	digest_info(DI1, 20);
	expect("sha1 digestinfo with TLS 1.0", LEGACY, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS, 0);
	raw(20);
	expect("ecdsa sha1 with TLS 1.0", LEGACY, LURK_KEY_EC, CKM_ECDSA, NOPSS, 0);
}

static void
test_refused(void)
{
	text("arbitrary bytes that no TLS handshake would ever sign, not even close");
	expect("arbitrary bytes", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_NOT_TLS);
	/* A TBSCertificate: SEQUENCE, [0] version 3, serial, sha256WithRSA ... */
	size_t n;
	uint8_t *tbs = lurk_test_unhex(
		"308201a2a003020102021412345678900a0b0c0d0e0f1011121314151617300d06092a864886f70d01"
		"010b0500301f311d301b06035504030c146c75726b2064656d6f20726f6f74204341301e170d3236"
		"313132323030303030305a170d3237313132323030303030305a301c311a301806035504030c1177"
		"77772e6578616d706c652e636f6d",
		&n);
	data_len = 0;
	put(tbs, n);
	free(tbs);
	expect("X.509 TBSCertificate", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_NOT_TLS);
	expect("X.509 TBSCertificate (ecdsa-sha256)", SERVER_12_13, LURK_KEY_EC, CKM_ECDSA_SHA256,
		NOPSS, LURK_POLICY_NOT_TLS);
	text("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjM0IiwiYWRtaW4iOnRydWUsImV4cCI6OTk5OTk5OTk5OX0");
	expect("JWT signing input", SERVER_12_13, LURK_KEY_EC, CKM_ECDSA_SHA256, NOPSS,
		LURK_POLICY_NOT_TLS);
	/* SSH userauth: string session id, 50, user, "ssh-connection", "publickey", TRUE, ... */
	uint8_t *ssh = lurk_test_unhex("00000020aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				       "aaaaaaaaaaaaa32000000047"
				       "26f6f740000000e7373682d636f6e6e656374696f6e000000097075626c"
				       "69636b6579010000000b7373"
				       "682d6564323535313900000033000000",
		&n);
	data_len = 0;
	put(ssh, n);
	free(ssh);
	expect("SSH userauth blob", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_NOT_TLS);
	tls13(CLI, 32);
	expect("TLS 1.3 client context, server-only key", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA,
		NOPSS, LURK_POLICY_CLIENT_CONTEXT);
	tls13(SRV, 32);
	expect("server context, client-only key", CLIENT_ONLY, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_SERVER_CONTEXT);
	expect("TLS 1.3 on a TLS-1.2-only key", ONLY_12, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_TLS_VERSION);
	static const size_t bad_lens[] = {0, 20, 31, 33, 47, 49, 63};
	for (size_t i = 0; i < LURK_ARRAY_LEN(bad_lens); i++) {
		tls13(SRV, bad_lens[i]);
		expect("transcript hash of wrong length", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA,
			NOPSS, LURK_POLICY_HASH_LENGTH);
	}
	tls13(SRV, 64);
	put_byte(0, 1);
	expect("trailing byte after TLS 1.3 input", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA,
		NOPSS, LURK_POLICY_TRAILING);
	ske_ecdh(0x0017, 0x04, 65);
	put_byte(0, 1);
	expect("trailing byte after SKE", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_TRAILING);
	ske_ecdh(0x0016, 0x04, 65);
	expect("SKE unknown group", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_GROUP);
	ske_ecdh(0x0017, 0x04, 64);
	expect("SKE p256 point too short", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_PUBLIC_VALUE);
	ske_ecdh(0x0017, 0x02, 65);
	expect("SKE p256 compressed point", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_PUBLIC_VALUE);
	ske_ecdh(0x001d, 0x09, 31);
	expect("SKE x25519 of 31 bytes", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_PUBLIC_VALUE);
	ske_ecdh(0x001d, 0x00, 32);
	memset(data + 68, 0, 32);
	expect("SKE x25519 all zero", SERVER_12_13, LURK_KEY_ED25519, CKM_EDDSA, NOPSS,
		LURK_POLICY_PUBLIC_VALUE);
	ske_dh(128);
	expect("SKE DH 1024 bits", SERVER_12_13, LURK_KEY_RSA, CKM_SHA256_RSA_PKCS, NOPSS,
		LURK_POLICY_DH_PARAMS);
	digest_info("302d300d06096086480165030402040500041c", 28);
	expect("DigestInfo SHA-224", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS,
		LURK_POLICY_DIGESTINFO);
	digest_info("3020300c06082a864886f70d020505000410", 16);
	expect("DigestInfo MD5", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS,
		LURK_POLICY_DIGESTINFO);
	digest_info("302f300b0609608648016503040201040420", 32);
	expect("DigestInfo without NULL parameters", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS,
		NOPSS, LURK_POLICY_DIGESTINFO);
	digest_info("3033300f060960864801650304020104020000040420", 32);
	expect("DigestInfo with extra parameters", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS,
		LURK_POLICY_DIGESTINFO);
	digest_info(DI256, 31);
	expect("DigestInfo short digest", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS,
		LURK_POLICY_DIGESTINFO);
	digest_info(DI256, 33);
	expect("DigestInfo trailing byte", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS,
		LURK_POLICY_TRAILING);
	raw(32);
	expect("PSS salt 0", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, 1, CKM_SHA256,
		CKG_MGF1_SHA256, 0, LURK_POLICY_PSS_PARAMS);
	expect("PSS salt 20", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, 1, CKM_SHA256,
		CKG_MGF1_SHA256, 20, LURK_POLICY_PSS_PARAMS);
	expect("PSS MGF of another hash", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, 1,
		CKM_SHA256, CKG_MGF1_SHA384, 32, LURK_POLICY_PSS_PARAMS);
	expect("PSS without parameters", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, NOPSS,
		LURK_POLICY_PSS_PARAMS);
	expect("PSS hash length mismatch", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, 1,
		CKM_SHA384, CKG_MGF1_SHA384, 48, LURK_POLICY_HASH_LENGTH);
	raw(256);
	expect("raw RSA", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_X_509, NOPSS, LURK_POLICY_MECHANISM);
	expect("unknown mechanism", SERVER_12_13, LURK_KEY_RSA, 0x80001234u, NOPSS,
		LURK_POLICY_MECHANISM);
	raw(32);
	expect("ECDSA on an RSA key", SERVER_12_13, LURK_KEY_RSA, CKM_ECDSA, NOPSS,
		LURK_POLICY_KEY_TYPE);
	expect("EdDSA on an EC key", SERVER_12_13, LURK_KEY_EC, CKM_EDDSA, NOPSS,
		LURK_POLICY_KEY_TYPE);
	raw(36);
	expect("MD5+SHA-1 on a TLS-1.2+ key", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS,
		LURK_POLICY_LEGACY_HASH);
	digest_info(DI1, 20);
	expect("SHA-1 DigestInfo on a TLS-1.2+ key", SERVER_12_13, LURK_KEY_RSA, CKM_RSA_PKCS,
		NOPSS, LURK_POLICY_LEGACY_HASH);
	raw(20);
	expect("ECDSA SHA-1 on a TLS-1.2+ key", SERVER_12_13, LURK_KEY_EC, CKM_ECDSA, NOPSS,
		LURK_POLICY_LEGACY_HASH);
	raw(33);
	expect("ECDSA digest of 33 bytes", SERVER_12_13, LURK_KEY_EC, CKM_ECDSA, NOPSS,
		LURK_POLICY_HASH_LENGTH);
	raw(32);
	expect("require-content: ECDSA hash", CONTENT, LURK_KEY_EC, CKM_ECDSA, NOPSS,
		LURK_POLICY_CONTENT_REQUIRED);
	expect("require-content: PSS hash", CONTENT, LURK_KEY_RSA, CKM_RSA_PKCS_PSS, 1, CKM_SHA256,
		CKG_MGF1_SHA256, 32, LURK_POLICY_CONTENT_REQUIRED);
	digest_info(DI256, 32);
	expect("require-content: DigestInfo", CONTENT, LURK_KEY_RSA, CKM_RSA_PKCS, NOPSS,
		LURK_POLICY_CONTENT_REQUIRED);
	tls13(SRV, 32);
	expect("require-content still allows content", CONTENT, LURK_KEY_EC, CKM_ECDSA_SHA256,
		NOPSS, 0);
}

/* Every prefix of a valid input is refused, and nothing reads past the end. */
static void
test_truncations(void)
{
	uint8_t copy[512];
	size_t full;

	for (int kind = 0; kind < 2; kind++) {
		if (kind == 0)
			tls13(SRV, 48);
		else
			ske_ecdh(0x0017, 0x04, 65);
		full = data_len;
		memcpy(copy, data, full);
		for (size_t cut = 0; cut < full; cut++) {
			struct lurk_policy p = policy_of(SERVER_12_13);
			uint8_t *exact = malloc(cut ? cut : 1);
			struct lurk_policy_req req = {.key_type = LURK_KEY_ED25519,
				.mech = CKM_EDDSA,
				.data = exact,
				.len = cut};
			memcpy(exact, copy, cut);
			if (kind == 0 && (cut == full - 16))
				req.len = cut; /* 32-byte hash: a valid shorter input */
			enum lurk_policy_reason r = lurk_policy_check_sign(&p, &req);
			if (!(kind == 0 && cut == full - 16))
				assert_true(r != LURK_POLICY_ALLOW);
			free(exact);
		}
	}
}

static void
test_decrypt(void)
{
	struct lurk_policy p = policy_of(SERVER_12_13);

	assert_num_eq(lurk_policy_check_decrypt(&p, LURK_KEY_RSA, 256, CKM_RSA_PKCS, 256),
		LURK_POLICY_DECRYPT_OFF);
	p.rsa_decrypt = 1;
	assert_num_eq(lurk_policy_check_decrypt(&p, LURK_KEY_RSA, 256, CKM_RSA_PKCS, 256), 0);
	assert_num_eq(lurk_policy_check_decrypt(&p, LURK_KEY_RSA, 256, CKM_RSA_PKCS, 255),
		LURK_POLICY_CIPHERTEXT_LEN);
	assert_num_eq(lurk_policy_check_decrypt(&p, LURK_KEY_RSA, 256, CKM_RSA_X_509, 256),
		LURK_POLICY_MECHANISM);
	assert_num_eq(lurk_policy_check_decrypt(&p, LURK_KEY_EC, 32, CKM_RSA_PKCS, 32),
		LURK_POLICY_KEY_TYPE);
}

static void
test_reason_strings(void)
{
	for (int i = 0; i < LURK_POLICY_LAST; i++) {
		const char *s = lurk_policy_reason_str((enum lurk_policy_reason)i);
		assert_true(s != NULL && s[0] != '\0' && strcmp(s, "unknown reason") != 0);
		for (int j = 0; j < i; j++)
			assert_true(
				strcmp(s, lurk_policy_reason_str((enum lurk_policy_reason)j)) != 0);
	}
	assert_str_eq(lurk_policy_reason_str(LURK_POLICY_LAST), "unknown reason");
}

/*
 * The TLS facts table (common/tls.c) every user reads: each DigestInfo
 * prefix is a SEQUENCE whose length and final OCTET STRING header agree with
 * the hash's length, every lookup finds the same entry, and the policy takes
 * exactly the table's TLS hashes.
 */
static void
test_tls_table(void)
{
	static const enum lurk_hash ids[] = {LURK_HASH_SHA1, LURK_HASH_SHA224, LURK_HASH_SHA256,
		LURK_HASH_SHA384, LURK_HASH_SHA512};
	struct lurk_policy p;
	uint8_t di[LURK_DIGEST_INFO_MAX_PFX + LURK_HASH_MAX_LEN + 1];

	lurk_policy_default(&p);
	for (size_t i = 0; i < LURK_ARRAY_LEN(ids); i++) {
		const struct lurk_hash_info *h = lurk_hash_by_id(ids[i]);
		struct lurk_policy_req req = {.key_type = LURK_KEY_RSA, .mech = CKM_RSA_PKCS};

		assert_true(h != NULL && h->id == ids[i] && h->name != NULL);
		assert_true(h->len <= LURK_HASH_MAX_LEN);
		assert_true(h->di_prefix_len <= LURK_DIGEST_INFO_MAX_PFX);
		assert_num_eq(h->di_prefix[0], 0x30);
		assert_num_eq(h->di_prefix[1], h->di_prefix_len - 2 + h->len);
		assert_num_eq(h->di_prefix[h->di_prefix_len - 2], 0x04);
		assert_num_eq(h->di_prefix[h->di_prefix_len - 1], h->len);
		assert_true(lurk_hash_by_len(h->len) == h);
		assert_true(lurk_hash_by_ckm(h->ckm) == h);
		memcpy(di, h->di_prefix, h->di_prefix_len);
		memset(di + h->di_prefix_len, 0xab, h->len);
		assert_true(lurk_hash_by_digest_info(di, h->di_prefix_len + h->len) == h);
		assert_true(lurk_hash_by_digest_info(di, h->di_prefix_len - 1) == NULL);
		assert_num_eq(lurk_tls_hash_len(h->len), h->tls == LURK_HASH_USE_TLS);
		/* PSS and the combined mechanisms exactly for the TLS 1.2/1.3 hashes. */
		assert_num_eq(h->pss_mgf != 0, h->tls == LURK_HASH_USE_TLS);
		assert_num_eq(h->ckm_rsa_pss != 0, h->tls == LURK_HASH_USE_TLS);
		if (h->ckm_rsa_pss != 0) {
			assert_true(lurk_hash_by_sign_mech(h->ckm_rsa_pss) == h);
			assert_true(lurk_hash_by_sign_mech(h->ckm_rsa_pkcs) == h);
			assert_true(lurk_hash_by_sign_mech(h->ckm_ecdsa) == h);
		}
		/* The policy allows a DigestInfo exactly when TLS signs its hash. */
		req.data = di;
		req.len = h->di_prefix_len + h->len;
		assert_num_eq(lurk_policy_check_sign(&p, &req),
			h->tls == LURK_HASH_USE_TLS    ? LURK_POLICY_ALLOW
			: h->tls == LURK_HASH_USE_NONE ? LURK_POLICY_DIGESTINFO
						       : LURK_POLICY_LEGACY_HASH);
	}
	assert_true(lurk_hash_by_id(LURK_HASH_NONE) == NULL);
	assert_true(lurk_hash_by_len(0) == NULL && lurk_hash_by_len(36) == NULL);
	assert_true(lurk_hash_by_ckm(CKM_MD5) == NULL);
	assert_true(lurk_hash_by_sign_mech(0) == NULL);
	assert_true(lurk_hash_by_sign_mech(CKM_RSA_PKCS) == NULL);
	/* Signature sizes in PKCS#11 format. */
	assert_num_eq(lurk_tls_sig_len(LURK_KEY_RSA, 2048), 256);
	assert_num_eq(lurk_tls_sig_len(LURK_KEY_RSA, 3071), 384);
	assert_num_eq(lurk_tls_sig_len(LURK_KEY_EC, 256), 64);
	assert_num_eq(lurk_tls_sig_len(LURK_KEY_EC, 384), 96);
	assert_num_eq(lurk_tls_sig_len(LURK_KEY_EC, 521), 132);
	assert_num_eq(lurk_tls_sig_len(LURK_KEY_ED25519, 255), 64);
	assert_num_eq(lurk_tls_sig_len(LURK_KEY_ED448, 448), 114);
	assert_num_eq(lurk_tls_sig_len((enum lurk_key_type)0, 256), 0);
	assert_num_eq(lurk_tls_sig_len((enum lurk_key_type)5, 256), 0);
}

int
main(int argc, char **argv)
{
	lurk_test(test_allowed, "/policy/allowed");
	lurk_test(test_refused, "/policy/refused-with-reason");
	lurk_test(test_truncations, "/policy/every-truncation");
	lurk_test(test_decrypt, "/policy/decrypt");
	lurk_test(test_reason_strings, "/policy/reason-strings");
	lurk_test(test_tls_table, "/policy/tls-table");
	lurk_test(test_policy_transcript, "/policy/tls12-client-cv");
	lurk_test(test_policy_fixtures, "/policy/fixtures");
	return lurk_test_run(argc, argv);
}
