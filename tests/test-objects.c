/*
 * The token's objects (module/object.c) built from key lists as lurkd sends
 * them: real keys and certificates made here with GnuTLS, put through
 * lurk_wire_list_resp_build and the module's parse, then lp_token_build and
 * every attribute read back with lp_object_get. Covers the chain
 * certificate's CKA_ID at the wire's longest key id, certificates that
 * cannot be shown (left out, nothing leaked), and keys whose public key
 * cannot be read.
 *
 * With LURK_OBJECTS_CORPUS=<dir> every list response built here is also
 * written to <dir>/<name>: the seeds of tests/fuzz/corpus/objects/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "tap.h"
#include "wire.h"

static gnutls_x509_privkey_t ca_key, ed_key, ed448_key, ec_key, rsa_key;
static gnutls_x509_crt_t ca_crt;

static const uint32_t ed_mechs[] = {CKM_EDDSA};
static const uint32_t rsa_mechs[] = {CKM_RSA_PKCS, CKM_RSA_PKCS_PSS};
static const uint32_t ec_mechs[] = {CKM_ECDSA};

/* --- keys, certificates, list responses --- */

static gnutls_x509_privkey_t
gen_key(gnutls_pk_algorithm_t algo, unsigned bits)
{
	gnutls_x509_privkey_t k;

	assert_num_eq(gnutls_x509_privkey_init(&k), 0);
	assert_num_eq(gnutls_x509_privkey_generate(k, algo, bits, 0), 0);
	return k;
}

/* The DER SubjectPublicKeyInfo of a key (gnutls_free the data). */
static void
spki_of(gnutls_x509_privkey_t k, gnutls_datum_t *out)
{
	gnutls_privkey_t pk;
	gnutls_pubkey_t pub;

	assert_num_eq(gnutls_privkey_init(&pk), 0);
	assert_num_eq(gnutls_privkey_import_x509(pk, k, 0), 0);
	assert_num_eq(gnutls_pubkey_init(&pub), 0);
	assert_num_eq(gnutls_pubkey_import_privkey(pub, pk, 0, 0), 0);
	assert_num_eq(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, out), 0);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(pk);
}

/*
 * A certificate for k named cn, signed by the test CA (or self-signed when
 * issuer is NULL); a SubjectKeyIdentifier only when skid is given (GnuTLS
 * adds none of its own).
 */
static gnutls_x509_crt_t
make_crt(const char *cn, gnutls_x509_privkey_t k, gnutls_x509_crt_t issuer,
	gnutls_x509_privkey_t ik, const uint8_t *serial, size_t serial_len, const uint8_t *skid,
	size_t skid_len, int ca)
{
	gnutls_x509_crt_t c;
	uint8_t got[64];
	size_t got_len = sizeof(got);

	assert_num_eq(gnutls_x509_crt_init(&c), 0);
	assert_num_eq(gnutls_x509_crt_set_version(c, 3), 0);
	assert_num_eq(gnutls_x509_crt_set_serial(c, serial, serial_len), 0);
	assert_num_eq(gnutls_x509_crt_set_activation_time(c, time(NULL) - 60), 0);
	assert_num_eq(gnutls_x509_crt_set_expiration_time(c, time(NULL) + 86400), 0);
	assert_num_eq(gnutls_x509_crt_set_dn_by_oid(
			      c, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)),
		0);
	assert_num_eq(gnutls_x509_crt_set_key(c, k), 0);
	assert_num_eq(gnutls_x509_crt_set_basic_constraints(c, ca, -1), 0);
	if (skid != NULL)
		assert_num_eq(gnutls_x509_crt_set_subject_key_id(c, skid, skid_len), 0);
	assert_num_eq(gnutls_x509_crt_sign2(c, issuer != NULL ? issuer : c, issuer != NULL ? ik : k,
			      GNUTLS_DIG_SHA512, 0),
		0);
	if (skid == NULL)
		assert_num_cmp(gnutls_x509_crt_get_subject_key_id(c, got, &got_len, NULL), <, 0);
	return c;
}

static void
crt_der(gnutls_x509_crt_t c, struct lurk_wire_cert *out)
{
	gnutls_datum_t d;

	assert_num_eq(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER, &d), 0);
	out->der = d.data;
	out->der_len = d.size;
}

/* A certificate for k signed by the CA, serial 1 byte, no SKID. */
static void
leaf_for(gnutls_x509_privkey_t k, const char *cn, struct lurk_wire_cert *out)
{
	gnutls_x509_crt_t c =
		make_crt(cn, k, ca_crt, ca_key, (const uint8_t *)"\x42", 1, NULL, 0, 0);

	crt_der(c, out);
	gnutls_x509_crt_deinit(c);
}

/* The CA's own certificate as a chain certificate. */
static void
ca_der(struct lurk_wire_cert *out)
{
	crt_der(ca_crt, out);
}

static void
key_init(struct lurk_wire_key *k, const uint8_t *id, size_t id_len, const char *label,
	enum lurk_key_type type, uint16_t bits, gnutls_x509_privkey_t key, const uint32_t *mechs,
	size_t nmechs, struct lurk_wire_cert *certs, size_t ncerts)
{
	gnutls_datum_t spki;

	memset(k, 0, sizeof(*k));
	spki_of(key, &spki);
	k->id = (uint8_t *)id;
	k->id_len = id_len;
	k->label = (char *)label;
	k->label_len = strlen(label);
	k->type = (uint8_t)type;
	k->bits = bits;
	k->spki = spki.data;
	k->spki_len = spki.size;
	k->flags = LURK_WIRE_KEY_SIGN;
	k->mechs = (uint32_t *)mechs;
	k->mech_count = nmechs;
	k->certs = certs;
	k->cert_count = ncerts;
}

/* Frees what key_init and the certificate helpers allocated (not id, label, mechs). */
static void
key_free(struct lurk_wire_key *k)
{
	gnutls_free(k->spki);
	for (size_t i = 0; i < k->cert_count; i++)
		gnutls_free(k->certs[i].der);
}

static void
seed_write(const char *name, const uint8_t *p, size_t n)
{
	const char *dir = getenv("LURK_OBJECTS_CORPUS");
	char path[4096];
	FILE *f;

	if (dir == NULL || *dir == 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_ptr_not_null(f = fopen(path, "wb"));
	assert_num_eq(fwrite(p, 1, n, f), n);
	assert_num_eq(fclose(f), 0);
}

/* The list as lurkd sends it and the module reads it back (slot.c's fetch_list). */
static void
wire_roundtrip(
	const char *name, struct lurk_wire_key *keys, size_t n, struct lurk_wire_list_resp *out)
{
	struct lurk_wire_list_resp m = {keys, n};
	struct lurk_buf *b = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_hdr h;

	assert_ptr_not_null(b);
	assert_ok(lurk_wire_list_resp_build(b, 1, &m));
	seed_write(name, lurk_buf_ptr(b), lurk_buf_len(b));
	assert_ok(lurk_wire_header_parse(b, &h));
	assert_num_eq(h.type, LURK_WIRE_LIST_RESP);
	assert_ok(lurk_wire_list_resp_parse(b, out));
	lurk_buf_free(b);
}

/* --- reading the objects --- */

/* An attribute's value as C_GetAttributeValue gives it: size query, then fetch. */
static uint8_t *
get_attr(const struct lp_object *o, CK_ATTRIBUTE_TYPE type, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	uint8_t *v;

	assert_num_eq(lp_object_get(o, &a, 1), CKR_OK);
	assert_ptr_not_null(v = malloc(a.ulValueLen ? a.ulValueLen : 1));
	a.pValue = v;
	assert_num_eq(lp_object_get(o, &a, 1), CKR_OK);
	*len = a.ulValueLen;
	return v;
}

static void
assert_attr(const struct lp_object *o, CK_ATTRIBUTE_TYPE type, const void *want, size_t want_len)
{
	size_t len;
	uint8_t *v = get_attr(o, type, &len);

	assert_num_eq(len, want_len);
	assert_mem_eq(v, want, want_len);
	free(v);
}

static CK_ULONG
get_ulong(const struct lp_object *o, CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG x = 0;
	CK_ATTRIBUTE a = {type, &x, sizeof(x)};

	assert_num_eq(lp_object_get(o, &a, 1), CKR_OK);
	assert_num_eq(a.ulValueLen, sizeof(x));
	return x;
}

/* The n-th object of a class (in build order), or NULL. */
static const struct lp_object *
nth(const struct lp_token *t, CK_OBJECT_CLASS klass, size_t n)
{
	for (size_t i = 0; i < t->nobjs; i++)
		if (t->objs[i].klass == klass && n-- == 0)
			return &t->objs[i];
	return NULL;
}

/* Every object answers every one of its attributes and says so by class. */
static void
check_objects(const struct lp_token *t)
{
	for (size_t i = 0; i < t->nobjs; i++) {
		const struct lp_object *o = &t->objs[i];

		assert_num_eq(get_ulong(o, CKA_CLASS), o->klass);
		for (size_t j = 0; j < o->nattrs; j++) {
			CK_ATTRIBUTE a = {o->attrs[j].type, NULL, 0};
			CK_RV rv = lp_object_get(o, &a, 1);

			if (o->attrs[j].value == NULL) {
				assert_num_eq(rv, CKR_ATTRIBUTE_SENSITIVE);
				assert_true(a.ulValueLen == CK_UNAVAILABLE_INFORMATION);
			} else {
				size_t len;
				free(get_attr(o, a.type, &len));
				assert_num_eq(len, o->attrs[j].len);
			}
		}
	}
}

/* Captures warnings, to see what was left out. */
static char warned[4096];

static void
sink(void *ctx, int level, const char *line)
{
	(void)ctx;
	if (level <= LURK_LOG_WARN && strlen(warned) + strlen(line) + 2 < sizeof(warned)) {
		strcat(warned, line);
		strcat(warned, "\n");
	}
}

/* --- tests --- */

/*
 * The wire allows a 64-byte key id; a chain certificate without a
 * SubjectKeyIdentifier takes the key's id and its position in the chain
 * (65 bytes), which once overflowed a 64-byte stack buffer.
 */
static void
test_chain_no_skid_longest_id(void)
{
	uint8_t id[LURK_WIRE_MAX_KEY_ID], want[LURK_WIRE_MAX_KEY_ID + 1];
	struct lurk_wire_cert certs[2];
	struct lurk_wire_key k;
	struct lurk_wire_list_resp list;
	struct lp_token_conf tc = {0};
	struct lp_token t;
	const struct lp_object *leaf, *chain;
	size_t len;
	uint8_t *v;

	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(0xa0 + i);
	leaf_for(ed_key, "leaf", &certs[0]);
	ca_der(&certs[1]);
	key_init(&k, id, sizeof(id), "k64", LURK_KEY_ED25519, 256, ed_key, ed_mechs, 1, certs, 2);
	wire_roundtrip("ed25519-id64-chain-noskid", &k, 1, &list);
	assert_num_eq(list.keys[0].id_len, LURK_WIRE_MAX_KEY_ID);

	assert_ok(lp_token_build(&t, &tc, &list, 0));
	assert_num_eq(t.nobjs, 4);
	check_objects(&t);
	assert_ptr_not_null(leaf = nth(&t, CKO_CERTIFICATE, 0));
	assert_ptr_not_null(chain = nth(&t, CKO_CERTIFICATE, 1));
	assert_attr(leaf, CKA_ID, id, sizeof(id));
	assert_attr(nth(&t, CKO_PRIVATE_KEY, 0), CKA_ID, id, sizeof(id));
	assert_attr(nth(&t, CKO_PUBLIC_KEY, 0), CKA_ID, id, sizeof(id));
	memcpy(want, id, sizeof(id));
	want[sizeof(id)] = 1;
	assert_attr(chain, CKA_ID, want, sizeof(want));
	assert_attr(chain, CKA_LABEL, "k64 chain 1", 11);
	assert_num_eq(get_ulong(chain, CKA_CERTIFICATE_CATEGORY), 2);
	v = get_attr(chain, CKA_VALUE, &len);
	assert_num_eq(len, certs[1].der_len);
	assert_mem_eq(v, certs[1].der, len);
	free(v);

	lp_token_clear(&t);
	lurk_wire_list_resp_clear(&list);
	key_free(&k);
}

/* A chain certificate with a SubjectKeyIdentifier shows it as its CKA_ID. */
static void
test_chain_skid(void)
{
	static const uint8_t skid[20] = {
		0x5c, 0x1d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
	gnutls_x509_crt_t inter;
	struct lurk_wire_cert certs[3];
	struct lurk_wire_key k;
	struct lurk_wire_list_resp list;
	struct lp_token_conf tc = {0};
	struct lp_token t;
	uint8_t want[4] = {0x01, 0x02, 0x03, 2};

	leaf_for(ed_key, "leaf", &certs[0]);
	inter = make_crt(
		"inter", ed_key, ca_crt, ca_key, (const uint8_t *)"\x07", 1, skid, sizeof(skid), 1);
	crt_der(inter, &certs[1]);
	gnutls_x509_crt_deinit(inter);
	ca_der(&certs[2]);
	key_init(&k, (const uint8_t *)"\x01\x02\x03", 3, "skid", LURK_KEY_ED25519, 256, ed_key,
		ed_mechs, 1, certs, 3);
	wire_roundtrip("ed25519-chain-skid", &k, 1, &list);

	assert_ok(lp_token_build(&t, &tc, &list, 0));
	assert_num_eq(t.nobjs, 5);
	check_objects(&t);
	assert_attr(nth(&t, CKO_CERTIFICATE, 1), CKA_ID, skid, sizeof(skid));
	assert_attr(nth(&t, CKO_CERTIFICATE, 2), CKA_ID, want, sizeof(want));
	assert_attr(nth(&t, CKO_CERTIFICATE, 2), CKA_LABEL, "skid chain 2", 12);

	lp_token_clear(&t);
	lurk_wire_list_resp_clear(&list);
	key_free(&k);
}

/*
 * Certificates that cannot be shown are left out with a warning and the
 * rest is built: one whose serial is too long to show (GnuTLS has already
 * read its names, which once leaked) and bytes that are no certificate.
 */
static void
test_bad_certs_left_out(void)
{
	uint8_t serial[80];
	gnutls_x509_crt_t c;
	struct lurk_wire_cert certs[3];
	struct lurk_wire_key k;
	struct lurk_wire_list_resp list;
	struct lp_token_conf tc = {0};
	struct lp_token t;

	for (size_t i = 0; i < sizeof(serial); i++)
		serial[i] = (uint8_t)(i + 1);
	leaf_for(ed_key, "leaf", &certs[0]);
	c = make_crt("long serial", ed_key, ca_crt, ca_key, serial, sizeof(serial), NULL, 0, 1);
	crt_der(c, &certs[1]);
	gnutls_x509_crt_deinit(c);
	certs[2].der = gnutls_malloc(4);
	memcpy(certs[2].der, "\x30\x02\x05\x00", 4);
	certs[2].der_len = 4;
	key_init(&k, (const uint8_t *)"bad", 3, "bad", LURK_KEY_ED25519, 256, ed_key, ed_mechs, 1,
		certs, 3);
	wire_roundtrip("ed25519-bad-chain-certs", &k, 1, &list);

	warned[0] = 0;
	lurk_log_set_sink(sink, NULL);
	assert_ok(lp_token_build(&t, &tc, &list, 0));
	lurk_log_set_sink(NULL, NULL);
	assert_num_eq(t.nobjs, 3); /* leaf, private, public */
	check_objects(&t);
	assert_str_contains(warned, "certificate 1 cannot be parsed");
	assert_str_contains(warned, "certificate 2 cannot be parsed");
	assert_ptr_null(nth(&t, CKO_CERTIFICATE, 1));
	lp_token_clear(&t);
	lurk_wire_list_resp_clear(&list);

	/* The leaf itself bad: the keys are still shown, without a CKA_SUBJECT. */
	gnutls_free(certs[0].der);
	certs[0] = certs[1];
	certs[1].der = NULL;
	k.cert_count = 1;
	wire_roundtrip("ed25519-bad-leaf", &k, 1, &list);
	assert_ok(lp_token_build(&t, &tc, &list, 0));
	assert_num_eq(t.nobjs, 2);
	check_objects(&t);
	{
		CK_ATTRIBUTE a = {CKA_SUBJECT, NULL, 0};
		assert_num_eq(lp_object_get(nth(&t, CKO_PRIVATE_KEY, 0), &a, 1),
			CKR_ATTRIBUTE_TYPE_INVALID);
	}
	lp_token_clear(&t);
	lurk_wire_list_resp_clear(&list);
	k.cert_count = 3;
	key_free(&k);
}

/*
 * A key whose public key cannot be read, or is not of the key's type, is
 * left out with a warning (all its objects, certificates included) and the
 * other keys are shown: once the whole token failed to build, which the
 * module reported as CKR_HOST_MEMORY for every token.
 */
static void
test_bad_public_key_left_out(void)
{
	struct lurk_wire_cert c0[1], c1[2], c2[1];
	struct lurk_wire_key k[3];
	struct lurk_wire_list_resp list;
	struct lp_token_conf tc = {0};
	struct lp_token t;

	leaf_for(ed_key, "junk", &c0[0]);
	leaf_for(ed_key, "good", &c1[0]);
	ca_der(&c1[1]);
	leaf_for(ed_key, "liar", &c2[0]);
	key_init(&k[0], (const uint8_t *)"j", 1, "junk", LURK_KEY_ED25519, 256, ed_key, ed_mechs, 1,
		c0, 1);
	gnutls_free(k[0].spki);
	k[0].spki = gnutls_malloc(4);
	memcpy(k[0].spki, "\x30\x02\x05\x00", 4);
	k[0].spki_len = 4;
	key_init(&k[1], (const uint8_t *)"g", 1, "good", LURK_KEY_ED25519, 256, ed_key, ed_mechs, 1,
		c1, 2);
	/* An Ed25519 public key said to be RSA, and one said to be EC. */
	key_init(&k[2], (const uint8_t *)"l", 1, "liar", LURK_KEY_RSA, 2048, ed_key, rsa_mechs, 2,
		c2, 1);
	wire_roundtrip("bad-public-keys", k, 3, &list);

	warned[0] = 0;
	lurk_log_set_sink(sink, NULL);
	assert_ok(lp_token_build(&t, &tc, &list, 0));
	lurk_log_set_sink(NULL, NULL);
	assert_num_eq(t.nobjs, 4);
	check_objects(&t);
	for (size_t i = 0; i < t.nobjs; i++)
		assert_true(t.objs[i].key == &list.keys[1]);
	assert_str_contains(
		warned, "key junk: public key unreadable or not of the key's type; left out");
	assert_str_contains(
		warned, "key liar: public key unreadable or not of the key's type; left out");
	assert_num_eq(t.nmechs, 1); /* the left-out keys' mechanisms are not listed */
	lp_token_clear(&t);
	lurk_wire_list_resp_clear(&list);

	list.keys = NULL;
	k[2].type = LURK_KEY_EC;
	k[2].mechs = (uint32_t *)ec_mechs;
	k[2].mech_count = 1;
	wire_roundtrip("ed25519-said-ec", &k[2], 1, &list);
	assert_ok(lp_token_build(&t, &tc, &list, 0));
	assert_num_eq(t.nobjs, 0);
	lp_token_clear(&t);
	lurk_wire_list_resp_clear(&list);
	for (size_t i = 0; i < 3; i++)
		key_free(&k[i]);
}

/* Every key type, several keys in one list, and the token's filters. */
static void
test_key_types(void)
{
	struct lurk_wire_cert rc[1], ec[2], xc[1];
	struct lurk_wire_key k[4];
	struct lurk_wire_list_resp list;
	struct lp_token_conf tc = {0};
	struct lp_token t;
	char *only[] = {"ec"};
	gnutls_datum_t m, e;
	size_t len;
	uint8_t *v;

	leaf_for(rsa_key, "rsa", &rc[0]);
	leaf_for(ec_key, "ec", &ec[0]);
	ca_der(&ec[1]);
	leaf_for(ed448_key, "ed448", &xc[0]);
	key_init(&k[0], (const uint8_t *)"r", 1, "rsa", LURK_KEY_RSA, 2048, rsa_key, rsa_mechs, 2,
		rc, 1);
	k[0].flags |= LURK_WIRE_KEY_DECRYPT;
	key_init(
		&k[1], (const uint8_t *)"e", 1, "ec", LURK_KEY_EC, 256, ec_key, ec_mechs, 1, ec, 2);
	key_init(&k[2], (const uint8_t *)"x", 1, "ed448", LURK_KEY_ED448, 456, ed448_key, ed_mechs,
		1, xc, 1);
	key_init(&k[3], (const uint8_t *)"n", 1, "nocert", LURK_KEY_ED25519, 256, ed_key, ed_mechs,
		1, NULL, 0);
	wire_roundtrip("all-types", k, 4, &list);

	/* As for a PIN-protected client key: the private keys are CKA_PRIVATE. */
	assert_ok(lp_token_build(&t, &tc, &list, 1));
	assert_num_eq(t.nobjs, 3 + 4 + 3 + 2);
	check_objects(&t);
	assert_num_eq(t.nmechs, 4);
	assert_num_eq(get_ulong(nth(&t, CKO_PRIVATE_KEY, 0), CKA_KEY_TYPE), CKK_RSA);
	assert_num_eq(get_ulong(nth(&t, CKO_PUBLIC_KEY, 0), CKA_MODULUS_BITS), 2048);
	assert_num_eq(
		gnutls_x509_privkey_export_rsa_raw(rsa_key, &m, &e, NULL, NULL, NULL, NULL), 0);
	v = get_attr(nth(&t, CKO_PRIVATE_KEY, 0), CKA_PUBLIC_EXPONENT, &len);
	assert_num_eq(len, 3);
	assert_mem_eq(v, "\x01\x00\x01", 3);
	free(v);
	gnutls_free(m.data);
	gnutls_free(e.data);
	assert_attr(nth(&t, CKO_PRIVATE_KEY, 0), CKA_PRIVATE, "\x01", 1);
	assert_attr(nth(&t, CKO_PRIVATE_KEY, 0), CKA_DECRYPT, "\x01", 1);
	assert_num_eq(get_ulong(nth(&t, CKO_PRIVATE_KEY, 1), CKA_KEY_TYPE), CKK_EC);
	assert_attr(nth(&t, CKO_PRIVATE_KEY, 1), CKA_EC_PARAMS,
		"\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10);
	assert_attr(nth(&t, CKO_PUBLIC_KEY, 2), CKA_EC_PARAMS, "\x06\x03\x2b\x65\x71", 5);
	v = get_attr(nth(&t, CKO_PUBLIC_KEY, 2), CKA_EC_POINT, &len);
	assert_num_eq(len, 2 + 57);
	assert_mem_eq(v, "\x04\x39", 2);
	free(v);
	lp_token_clear(&t);

	/* Only the key named "ec", and only EC and RSA keys. */
	tc.keys[0] = only[0];
	tc.nkeys = 1;
	assert_ok(lp_token_build(&t, &tc, &list, 0));
	assert_num_eq(t.nobjs, 4);
	assert_num_eq(t.nmechs, 1);
	lp_token_clear(&t);
	tc.nkeys = 0;
	tc.types = (1u << LURK_KEY_EC) | (1u << LURK_KEY_RSA);
	assert_ok(lp_token_build(&t, &tc, &list, 0));
	assert_num_eq(t.nobjs, 3 + 4);
	lp_token_clear(&t);
	tc.types = 1u << LURK_KEY_ED448;
	tc.keys[0] = only[0];
	tc.nkeys = 1;
	assert_ok(lp_token_build(&t, &tc, &list, 0));
	assert_num_eq(t.nobjs, 0);
	assert_ptr_null(t.objs);
	lp_token_clear(&t);

	lurk_wire_list_resp_clear(&list);
	for (size_t i = 0; i < 4; i++)
		key_free(&k[i]);
}

/* C_GetAttributeValue's rules: size query, short buffer, sensitive, unknown, worst error kept. */
static void
test_get_rules(void)
{
	struct lurk_wire_cert certs[1];
	struct lurk_wire_key k;
	struct lurk_wire_list_resp list;
	struct lp_token_conf tc = {0};
	struct lp_token t;
	const struct lp_object *priv;
	uint8_t small[1];
	CK_ATTRIBUTE a[3];

	leaf_for(ed_key, "leaf", &certs[0]);
	key_init(&k, (const uint8_t *)"\x09\x08", 2, "rules", LURK_KEY_ED25519, 256, ed_key,
		ed_mechs, 1, certs, 1);
	wire_roundtrip("ed25519-leaf", &k, 1, &list);
	assert_ok(lp_token_build(&t, &tc, &list, 0));
	assert_ptr_not_null(priv = nth(&t, CKO_PRIVATE_KEY, 0));

	a[0] = (CK_ATTRIBUTE){CKA_LABEL, small, sizeof(small)};
	a[1] = (CK_ATTRIBUTE){CKA_VALUE, NULL, 0};
	a[2] = (CK_ATTRIBUTE){CKA_ID, NULL, 0};
	assert_num_eq(lp_object_get(priv, a, 3), CKR_BUFFER_TOO_SMALL);
	assert_true(a[0].ulValueLen == CK_UNAVAILABLE_INFORMATION);
	assert_true(a[1].ulValueLen == CK_UNAVAILABLE_INFORMATION);
	assert_num_eq(a[2].ulValueLen, 2);
	a[0] = (CK_ATTRIBUTE){CKA_VENDOR_DEFINED, NULL, 0};
	assert_num_eq(lp_object_get(priv, a, 2), CKR_ATTRIBUTE_TYPE_INVALID);
	a[0] = (CK_ATTRIBUTE){CKA_ID, "\x09\x08", 2};
	assert_true(lp_object_match(priv, a, 1));
	a[0].ulValueLen = 1;
	assert_false(lp_object_match(priv, a, 1));
	a[0] = (CK_ATTRIBUTE){CKA_VALUE, NULL, 0};
	assert_false(lp_object_match(priv, a, 1)); /* sensitive never matches */

	lp_token_clear(&t);
	lurk_wire_list_resp_clear(&list);
	key_free(&k);
}

int
main(int argc, char **argv)
{
	int r;

	lurk_log_init("test-objects", LURK_LOG_STDERR, LURK_LOG_WARN);
	if (gnutls_global_init() < 0)
		return 99;
	ca_key = gen_key(GNUTLS_PK_EDDSA_ED25519, 256);
	ed_key = gen_key(GNUTLS_PK_EDDSA_ED25519, 256);
	ed448_key = gen_key(GNUTLS_PK_EDDSA_ED448, 456);
	ec_key = gen_key(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	rsa_key = gen_key(GNUTLS_PK_RSA, 2048);
	/* The CA has no SubjectKeyIdentifier: as a chain certificate it needs an id of its own. */
	ca_crt = make_crt("Test CA", ca_key, NULL, NULL, (const uint8_t *)"\x01", 1, NULL, 0, 1);

	lurk_test(test_chain_no_skid_longest_id, "/objects/chain-no-skid-longest-id");
	lurk_test(test_chain_skid, "/objects/chain-skid");
	lurk_test(test_bad_certs_left_out, "/objects/bad-certs-left-out");
	lurk_test(test_bad_public_key_left_out, "/objects/bad-public-key-left-out");
	lurk_test(test_key_types, "/objects/key-types");
	lurk_test(test_get_rules, "/objects/get-rules");
	r = lurk_test_run(argc, argv);

	gnutls_x509_crt_deinit(ca_crt);
	gnutls_x509_privkey_deinit(ca_key);
	gnutls_x509_privkey_deinit(ed_key);
	gnutls_x509_privkey_deinit(ed448_key);
	gnutls_x509_privkey_deinit(ec_key);
	gnutls_x509_privkey_deinit(rsa_key);
	gnutls_global_deinit();
	return r;
}
