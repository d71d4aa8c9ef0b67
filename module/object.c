/*
 * The objects a token shows, built once from the key server's list
 * (docs/consumers.md): for each key a private key (sensitive,
 * never extractable, RSA modulus and exponent or EC params and point so
 * GnuTLS and libp11 find the public half on it), a public key, the
 * certificate, and the chain's certificates (CKA_TRUSTED, so GnuTLS picks
 * them up as issuers), all answered from memory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "err.h"
#include "log.h"
#include "module.h"
#include "tls.h"

#define MAX_ATTRS 40

/*
 * failed: out of memory (or out of room, a bug), the token cannot be built;
 * bad: the key server's data cannot be shown (a public key that cannot be
 * read or is not of the key's type), the object is left out.
 */
struct builder {
	struct lp_attr a[MAX_ATTRS];
	size_t n;
	int failed;
	int bad;
};

static void
add(struct builder *b, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
	if (b->failed || b->n == MAX_ATTRS) {
		b->failed = 1;
		return;
	}
	b->a[b->n].type = type;
	b->a[b->n].len = len;
	b->a[b->n].value = malloc(len ? len : 1);
	if (b->a[b->n].value == NULL) {
		b->failed = 1;
		return;
	}
	if (len)
		memcpy(b->a[b->n].value, v, len);
	b->n++;
}

static void
add_bool(struct builder *b, CK_ATTRIBUTE_TYPE type, int v)
{
	CK_BBOOL x = v ? CK_TRUE : CK_FALSE;

	add(b, type, &x, sizeof(x));
}

static void
add_ulong(struct builder *b, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	add(b, type, &v, sizeof(v));
}

static void
add_datum(struct builder *b, CK_ATTRIBUTE_TYPE type, const gnutls_datum_t *d)
{
	add(b, type, d->data, d->size);
}

/* An attribute that exists but is never revealed (value NULL). */
static void
add_sensitive(struct builder *b, CK_ATTRIBUTE_TYPE type)
{
	if (b->failed || b->n == MAX_ATTRS) {
		b->failed = 1;
		return;
	}
	b->a[b->n].type = type;
	b->a[b->n].value = NULL;
	b->a[b->n].len = 0;
	b->n++;
}

/* 0 and the object, 1 when it cannot be shown (b->bad), or LURK_ERR_ALLOC. */
static int
finish(struct builder *b, struct lp_object *o, CK_OBJECT_CLASS klass, const struct lurk_wire_key *k)
{
	if (b->failed || b->bad) {
		for (size_t i = 0; i < b->n; i++)
			free(b->a[i].value);
		return b->failed ? LURK_ERR_ALLOC : 1;
	}
	o->klass = klass;
	o->key = k;
	o->nattrs = b->n;
	if ((o->attrs = calloc(b->n, sizeof(*o->attrs))) == NULL) {
		for (size_t i = 0; i < b->n; i++)
			free(b->a[i].value);
		return LURK_ERR_ALLOC;
	}
	memcpy(o->attrs, b->a, b->n * sizeof(*o->attrs));
	return 0;
}

static CK_KEY_TYPE
ck_key_type(const struct lurk_wire_key *k)
{
	switch (k->type) {
	case LURK_KEY_RSA:
		return CKK_RSA;
	case LURK_KEY_EC:
		return CKK_EC;
	default:
		return CKK_EC_EDWARDS;
	}
}

/*
 * A short DER TLV around raw bytes: the OCTET STRING of an EdDSA CKA_EC_POINT,
 * the INTEGER of a CKA_SERIAL_NUMBER (both well under 128 bytes).
 */
static void
add_der(struct builder *b, CK_ATTRIBUTE_TYPE type, uint8_t tag, const uint8_t *p, size_t len)
{
	uint8_t der[2 + 127];

	if (len == 0 || len > sizeof(der) - 2) {
		b->bad = 1;
		return;
	}
	der[0] = tag;
	der[1] = (uint8_t)len;
	memcpy(der + 2, p, len);
	add(b, type, der, len + 2);
}

/* Whether a SubjectPublicKeyInfo's algorithm is the key's type. */
static int
pk_is_type(gnutls_pubkey_t pub, const struct lurk_wire_key *k)
{
	int algo = gnutls_pubkey_get_pk_algorithm(pub, NULL);

	switch (k->type) {
	case LURK_KEY_RSA:
		return algo == GNUTLS_PK_RSA || algo == GNUTLS_PK_RSA_PSS;
	case LURK_KEY_EC:
		return algo == GNUTLS_PK_ECDSA;
	case LURK_KEY_ED25519:
		return algo == GNUTLS_PK_EDDSA_ED25519;
	case LURK_KEY_ED448:
		return algo == GNUTLS_PK_EDDSA_ED448;
	default:
		return 0;
	}
}

/*
 * The public key's attributes, from its SubjectPublicKeyInfo; b->bad when it
 * cannot be read or is not of the key's type.
 */
static void
add_public(struct builder *b, const struct lurk_wire_key *k, int on_private)
{
	static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
	static const uint8_t oid_ed448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
	gnutls_datum_t spki = {k->spki, (unsigned)k->spki_len}, m = {0}, e = {0}, x = {0};
	gnutls_pubkey_t pub = NULL;
	gnutls_ecc_curve_t curve;

	if (gnutls_pubkey_init(&pub) < 0) {
		b->failed = 1;
		goto out;
	}
	if (gnutls_pubkey_import(pub, &spki, GNUTLS_X509_FMT_DER) < 0 || !pk_is_type(pub, k)) {
		b->bad = 1;
		goto out;
	}
	switch (k->type) {
	case LURK_KEY_RSA:
		if (gnutls_pubkey_export_rsa_raw2(pub, &m, &e, GNUTLS_EXPORT_FLAG_NO_LZ) < 0) {
			b->bad = 1;
			break;
		}
		add_datum(b, CKA_MODULUS, &m);
		add_datum(b, CKA_PUBLIC_EXPONENT, &e);
		if (!on_private)
			add_ulong(b, CKA_MODULUS_BITS, (CK_ULONG)m.size * 8);
		break;
	case LURK_KEY_EC:
		if (gnutls_pubkey_export_ecc_x962(pub, &m, &e) < 0) {
			b->bad = 1;
			break;
		}
		add_datum(b, CKA_EC_PARAMS, &m);
		add_datum(b, CKA_EC_POINT, &e);
		break;
	default:
		if (gnutls_pubkey_export_ecc_raw2(pub, &curve, &x, NULL, GNUTLS_EXPORT_FLAG_NO_LZ) <
			0) {
			b->bad = 1;
			break;
		}
		if (k->type == LURK_KEY_ED448)
			add(b, CKA_EC_PARAMS, oid_ed448, sizeof(oid_ed448));
		else
			add(b, CKA_EC_PARAMS, oid_ed25519, sizeof(oid_ed25519));
		add_der(b, CKA_EC_POINT, 0x04, x.data, x.size);
		break;
	}
	if (!on_private)
		add(b, CKA_PUBLIC_KEY_INFO, k->spki, k->spki_len);
out:
	gnutls_free(m.data);
	gnutls_free(e.data);
	gnutls_free(x.data);
	gnutls_pubkey_deinit(pub);
}

static void
add_common(struct builder *b, CK_OBJECT_CLASS klass, const struct lurk_wire_key *k,
	const uint8_t *id, size_t id_len, const char *label)
{
	add_ulong(b, CKA_CLASS, klass);
	add_bool(b, CKA_TOKEN, 1);
	add_bool(b, CKA_MODIFIABLE, 0);
	add_bool(b, CKA_COPYABLE, 0);
	add_bool(b, CKA_DESTROYABLE, 0);
	add(b, CKA_ID, id, id_len);
	add(b, CKA_LABEL, label, strlen(label));
	(void)k;
}

static int
build_private(struct lp_object *o, const struct lurk_wire_key *k, const gnutls_datum_t *subject,
	int private)
{
	struct builder b = {0};
	CK_MECHANISM_TYPE mechs[LURK_WIRE_MAX_MECHS];

	if (k->mech_count > LURK_ARRAY_LEN(mechs))
		b.bad = 1;
	add_common(&b, CKO_PRIVATE_KEY, k, k->id, k->id_len, k->label);
	add_bool(&b, CKA_PRIVATE, private);
	add_ulong(&b, CKA_KEY_TYPE, ck_key_type(k));
	add_bool(&b, CKA_SIGN, (k->flags & LURK_WIRE_KEY_SIGN) != 0);
	add_bool(&b, CKA_DECRYPT, (k->flags & LURK_WIRE_KEY_DECRYPT) != 0);
	add_bool(&b, CKA_SIGN_RECOVER, 0);
	add_bool(&b, CKA_UNWRAP, 0);
	add_bool(&b, CKA_DERIVE, 0);
	add_bool(&b, CKA_SENSITIVE, 1);
	add_bool(&b, CKA_ALWAYS_SENSITIVE, 1);
	add_bool(&b, CKA_EXTRACTABLE, 0);
	add_bool(&b, CKA_NEVER_EXTRACTABLE, 1);
	add_bool(&b, CKA_ALWAYS_AUTHENTICATE, 0);
	add_bool(&b, CKA_LOCAL, 0);
	add_bool(&b, CKA_WRAP_WITH_TRUSTED, 0);
	if (subject != NULL)
		add_datum(&b, CKA_SUBJECT, subject);
	for (size_t i = 0; i < k->mech_count && i < LURK_ARRAY_LEN(mechs); i++)
		mechs[i] = k->mechs[i];
	if (!b.bad)
		add(&b, CKA_ALLOWED_MECHANISMS, mechs, k->mech_count * sizeof(mechs[0]));
	add_public(&b, k, 1);
	add_sensitive(&b, CKA_VALUE);
	add_sensitive(&b, CKA_PRIVATE_EXPONENT);
	add_sensitive(&b, CKA_PRIME_1);
	add_sensitive(&b, CKA_PRIME_2);
	add_sensitive(&b, CKA_EXPONENT_1);
	add_sensitive(&b, CKA_EXPONENT_2);
	add_sensitive(&b, CKA_COEFFICIENT);
	return finish(&b, o, CKO_PRIVATE_KEY, k);
}

static int
build_public(struct lp_object *o, const struct lurk_wire_key *k, const gnutls_datum_t *subject)
{
	struct builder b = {0};

	add_common(&b, CKO_PUBLIC_KEY, k, k->id, k->id_len, k->label);
	add_bool(&b, CKA_PRIVATE, 0);
	add_ulong(&b, CKA_KEY_TYPE, ck_key_type(k));
	add_bool(&b, CKA_VERIFY, 1);
	add_bool(&b, CKA_ENCRYPT, 0);
	add_bool(&b, CKA_VERIFY_RECOVER, 0);
	add_bool(&b, CKA_WRAP, 0);
	add_bool(&b, CKA_DERIVE, 0);
	add_bool(&b, CKA_TRUSTED, 0);
	add_bool(&b, CKA_LOCAL, 0);
	if (subject != NULL)
		add_datum(&b, CKA_SUBJECT, subject);
	add_public(&b, k, 0);
	return finish(&b, o, CKO_PUBLIC_KEY, k);
}

/*
 * A chain certificate's CKA_ID: its SubjectKeyIdentifier when it has one of
 * at most CHAIN_ID_MAX bytes, else the key's id (up to LURK_WIRE_MAX_KEY_ID
 * bytes) followed by the certificate's place in the chain, so that each
 * chain certificate of a key has an id of its own. -1 when there is none.
 */
#define CHAIN_ID_MAX (LURK_WIRE_MAX_KEY_ID + 1)

static int
chain_id(gnutls_x509_crt_t crt, const struct lurk_wire_key *k, size_t chain,
	uint8_t id[CHAIN_ID_MAX], size_t *id_len)
{
	*id_len = CHAIN_ID_MAX;
	if (gnutls_x509_crt_get_subject_key_id(crt, id, id_len, NULL) == 0 && *id_len > 0 &&
		*id_len <= CHAIN_ID_MAX)
		return 0;
	if (k->id_len == 0 || k->id_len > CHAIN_ID_MAX - 1 || chain > UINT8_MAX)
		return -1;
	memcpy(id, k->id, k->id_len);
	id[k->id_len] = (uint8_t)chain;
	*id_len = k->id_len + 1;
	return 0;
}

/*
 * A certificate; chain > 0 for the chain's certificates after the leaf. 1
 * when it cannot be shown (left out with a warning), else finish()'s result.
 */
static int
build_cert(struct lp_object *o, const struct lurk_wire_key *k, size_t chain,
	gnutls_datum_t *leaf_subject)
{
	const struct lurk_wire_cert *c = &k->certs[chain];
	gnutls_datum_t der = {c->der, (unsigned)c->der_len}, subj = {0}, iss = {0};
	gnutls_x509_crt_t crt = NULL;
	struct builder b = {0};
	uint8_t serial[64], cid[CHAIN_ID_MAX];
	size_t serial_len = sizeof(serial), cid_len = 0;
	char label[LURK_WIRE_MAX_LABEL + 32];
	int r = 1;

	if (gnutls_x509_crt_init(&crt) < 0 ||
		gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0 ||
		gnutls_x509_crt_get_raw_dn(crt, &subj) < 0 ||
		gnutls_x509_crt_get_raw_issuer_dn(crt, &iss) < 0 ||
		gnutls_x509_crt_get_serial(crt, serial, &serial_len) < 0 || serial_len == 0 ||
		(chain > 0 && chain_id(crt, k, chain, cid, &cid_len) != 0)) {
		lurk_warn("key %s: certificate %zu cannot be parsed; left out", k->label, chain);
		goto out;
	}
	if (chain == 0) {
		add_common(&b, CKO_CERTIFICATE, k, k->id, k->id_len, k->label);
	} else {
		/* Chain certificates: their own id and a label of their own. */
		snprintf(label, sizeof(label), "%s chain %zu", k->label, chain);
		add_common(&b, CKO_CERTIFICATE, k, cid, cid_len, label);
	}
	add_bool(&b, CKA_PRIVATE, 0);
	add_ulong(&b, CKA_CERTIFICATE_TYPE, CKC_X_509);
	add_bool(&b, CKA_TRUSTED, chain > 0);
	add_ulong(&b, CKA_CERTIFICATE_CATEGORY, chain > 0 ? 2 : 1); /* authority : token user */
	add_datum(&b, CKA_SUBJECT, &subj);
	add_datum(&b, CKA_ISSUER, &iss);
	add_der(&b, CKA_SERIAL_NUMBER, 0x02, serial, serial_len);
	add_datum(&b, CKA_VALUE, &der);
	r = finish(&b, o, CKO_CERTIFICATE, k);
	if (chain == 0 && r == 0 && leaf_subject != NULL) {
		*leaf_subject = subj;
		subj.data = NULL;
	}
out:
	gnutls_free(subj.data);
	gnutls_free(iss.data);
	gnutls_x509_crt_deinit(crt);
	return r;
}

static int
token_wants(const struct lp_token_conf *tc, const struct lurk_wire_key *k)
{
	int named = tc->nkeys == 0;

	for (size_t i = 0; i < tc->nkeys; i++)
		if (strcmp(tc->keys[i], k->label) == 0)
			named = 1;
	return named && (tc->types == 0 || (tc->types & (1u << k->type)) != 0);
}

static void
add_mechs(struct lp_token *t, const struct lurk_wire_key *k)
{
	for (size_t i = 0; i < k->mech_count; i++) {
		size_t j;
		for (j = 0; j < t->nmechs && t->mechs[j] != k->mechs[i]; j++)
			;
		if (j == t->nmechs && t->nmechs < LURK_ARRAY_LEN(t->mechs))
			t->mechs[t->nmechs++] = k->mechs[i];
	}
}

static void
object_clear(struct lp_object *o)
{
	for (size_t j = 0; j < o->nattrs; j++)
		free(o->attrs[j].value);
	free(o->attrs);
	memset(o, 0, sizeof(*o));
}

/*
 * One key's objects, appended to t: its certificates (those that cannot be
 * parsed are left out), then the private and the public key. A key whose
 * public key cannot be shown is left out whole. 0 or LURK_ERR_ALLOC.
 */
static int
build_key(struct lp_token *t, const struct lurk_wire_key *k, int private)
{
	gnutls_datum_t subject = {0};
	const gnutls_datum_t *subj;
	size_t first = t->nobjs;
	int r = 0;

	for (size_t c = 0; c < k->cert_count; c++) {
		if ((r = build_cert(&t->objs[t->nobjs], k, c, c == 0 ? &subject : NULL)) < 0)
			goto out;
		if (r == 0)
			t->nobjs++;
	}
	subj = subject.data != NULL ? &subject : NULL;
	if ((r = build_private(&t->objs[t->nobjs], k, subj, private)) == 0) {
		t->nobjs++;
		if ((r = build_public(&t->objs[t->nobjs], k, subj)) == 0)
			t->nobjs++;
	}
	if (r == 1) {
		lurk_warn("key %s: public key unreadable or not of the key's type; left out",
			k->label);
		while (t->nobjs > first)
			object_clear(&t->objs[--t->nobjs]);
		r = 0;
	} else if (r == 0) {
		add_mechs(t, k);
	}
out:
	gnutls_free(subject.data);
	return r;
}

int
lp_token_build(struct lp_token *t, const struct lp_token_conf *tc,
	const struct lurk_wire_list_resp *list, int private)
{
	size_t cap = 0;
	int r;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < list->key_count; i++)
		if (token_wants(tc, &list->keys[i]))
			cap += 2 + list->keys[i].cert_count;
	if (cap == 0)
		return 0;
	if ((t->objs = calloc(cap, sizeof(*t->objs))) == NULL)
		return LURK_ERR_ALLOC;
	for (size_t i = 0; i < list->key_count; i++) {
		if (!token_wants(tc, &list->keys[i]))
			continue;
		if ((r = build_key(t, &list->keys[i], private)) != 0) {
			lp_token_clear(t);
			return r;
		}
	}
	return 0;
}

void
lp_token_clear(struct lp_token *t)
{
	for (size_t i = 0; i < t->nobjs; i++)
		object_clear(&t->objs[i]);
	free(t->objs);
	memset(t, 0, sizeof(*t));
}

static const struct lp_attr *
find_attr(const struct lp_object *o, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < o->nattrs; i++)
		if (o->attrs[i].type == type)
			return &o->attrs[i];
	return NULL;
}

int
lp_object_match(const struct lp_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++) {
		const struct lp_attr *a = find_attr(o, tmpl[i].type);
		if (a == NULL || a->value == NULL || tmpl[i].ulValueLen != a->len ||
			(a->len > 0 && (tmpl[i].pValue == NULL ||
					       memcmp(tmpl[i].pValue, a->value, a->len) != 0)))
			return 0;
	}
	return 1;
}

/* PKCS#11 2.40 §5.2 C_GetAttributeValue: every attribute is answered, the worst error returned. */
CK_RV
lp_object_get(const struct lp_object *o, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_RV rv = CKR_OK;

	for (CK_ULONG i = 0; i < n; i++) {
		const struct lp_attr *a = find_attr(o, tmpl[i].type);
		if (a == NULL) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = rv == CKR_OK ? CKR_ATTRIBUTE_TYPE_INVALID : rv;
		} else if (a->value == NULL) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = rv == CKR_OK ? CKR_ATTRIBUTE_SENSITIVE : rv;
		} else if (tmpl[i].pValue == NULL) {
			tmpl[i].ulValueLen = a->len;
		} else if (tmpl[i].ulValueLen < a->len) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = rv == CKR_OK ? CKR_BUFFER_TOO_SMALL : rv;
		} else {
			memcpy(tmpl[i].pValue, a->value, a->len);
			tmpl[i].ulValueLen = a->len;
		}
	}
	return rv;
}

size_t
lp_key_sig_len(const struct lurk_wire_key *k)
{
	/* The table lurkd sizes its signatures by (common/tls.c). */
	return lurk_tls_sig_len((enum lurk_key_type)k->type, k->bits);
}

int
lp_key_has_mech(const struct lurk_wire_key *k, CK_MECHANISM_TYPE m)
{
	for (size_t i = 0; i < k->mech_count; i++)
		if (k->mechs[i] == m)
			return 1;
	return 0;
}
