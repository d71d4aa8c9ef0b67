/*
 * Fuzz target for the path from a key list to a token's objects
 * (module/object.c). The input is a whole list response as lurkd sends it,
 * header and body; it is read as the module reads it (slot.c: header, then
 * lurk_wire_list_resp_parse), and from a list the parser accepts two tokens
 * are built with lp_token_build: one showing every key, and one whose
 * filter (a key's label, key types) and PIN protection come from the
 * request id. Every attribute of every object is then read the way
 * C_GetAttributeValue callers do: a size query, a fetch into a buffer of
 * exactly that size, a fetch one byte short, and all of them in one
 * template. Must never crash, leak or read out of bounds, and:
 *  - a list the parser accepts always builds (what cannot be shown is left
 *    out, never the whole token);
 *  - each object belongs to a key of the list that the token wants, with at
 *    most 2 + cert_count objects per key, and matches its own CKA_CLASS and
 *    CKA_ID;
 *  - a value is either given whole or refused (sensitive, too small).
 * Seeds: tests/fuzz/corpus/objects/, written by tests/test-objects
 * (LURK_OBJECTS_CORPUS=<dir>).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "module.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
wants(const struct lp_token_conf *tc, const struct lurk_wire_key *k)
{
	int named = tc->nkeys == 0;

	for (size_t i = 0; i < tc->nkeys; i++)
		if (strcmp(tc->keys[i], k->label) == 0)
			named = 1;
	return named && (tc->types == 0 || (tc->types & (1u << k->type)) != 0);
}

/* One attribute: size query, exact fetch, short fetch. */
static void
read_attr(const struct lp_object *o, const struct lp_attr *at)
{
	CK_ATTRIBUTE a = {at->type, NULL, 0};
	CK_RV rv = lp_object_get(o, &a, 1);
	uint8_t *v;

	if (at->value == NULL) {
		if (rv != CKR_ATTRIBUTE_SENSITIVE || a.ulValueLen != CK_UNAVAILABLE_INFORMATION)
			abort();
		return;
	}
	/* The first attribute of that type answers (types are not repeated). */
	if (rv != CKR_OK || a.ulValueLen != at->len)
		abort();
	if ((v = malloc(a.ulValueLen ? a.ulValueLen : 1)) == NULL)
		abort();
	a.pValue = v;
	if (lp_object_get(o, &a, 1) != CKR_OK || a.ulValueLen != at->len ||
		(at->len != 0 && memcmp(v, at->value, at->len) != 0))
		abort();
	if (at->len > 1) {
		/* An exact-size buffer one short: refused, nothing written past it. */
		free(v);
		if ((v = malloc(at->len - 1)) == NULL)
			abort();
		a.pValue = v;
		a.ulValueLen = at->len - 1;
		if (lp_object_get(o, &a, 1) != CKR_BUFFER_TOO_SMALL ||
			a.ulValueLen != CK_UNAVAILABLE_INFORMATION)
			abort();
	}
	free(v);
}

static void
check_object(const struct lp_object *o)
{
	CK_ATTRIBUTE *all;
	CK_ATTRIBUTE self[2];
	CK_OBJECT_CLASS klass = 0;
	const struct lp_attr *id = NULL;
	int sensitive = 0;
	CK_RV rv;

	for (size_t j = 0; j < o->nattrs; j++) {
		/* No attribute type twice. */
		for (size_t i = 0; i < j; i++)
			if (o->attrs[i].type == o->attrs[j].type)
				abort();
		read_attr(o, &o->attrs[j]);
		if (o->attrs[j].type == CKA_ID)
			id = &o->attrs[j];
		if (o->attrs[j].type == CKA_CLASS && o->attrs[j].len == sizeof(klass))
			memcpy(&klass, o->attrs[j].value, sizeof(klass));
		if (o->attrs[j].value == NULL)
			sensitive = 1;
	}
	if (id == NULL || id->value == NULL || klass != o->klass)
		abort();
	self[0] = (CK_ATTRIBUTE){CKA_CLASS, &klass, sizeof(klass)};
	self[1] = (CK_ATTRIBUTE){CKA_ID, id->value, id->len};
	if (!lp_object_match(o, self, 2))
		abort();

	/* Every attribute and one unknown in one template, sizes only. */
	if ((all = calloc(o->nattrs + 1, sizeof(*all))) == NULL)
		abort();
	for (size_t j = 0; j < o->nattrs; j++)
		all[j].type = o->attrs[j].type;
	all[o->nattrs].type = CKA_VENDOR_DEFINED | 0x4c55;
	rv = lp_object_get(o, all, o->nattrs + 1);
	if (rv != (sensitive ? CKR_ATTRIBUTE_SENSITIVE : CKR_ATTRIBUTE_TYPE_INVALID))
		abort();
	for (size_t j = 0; j < o->nattrs; j++)
		if (all[j].ulValueLen !=
			(o->attrs[j].value == NULL ? CK_UNAVAILABLE_INFORMATION : o->attrs[j].len))
			abort();
	free(all);
}

static void
check_token(const struct lp_token *t, const struct lp_token_conf *tc,
	const struct lurk_wire_list_resp *list)
{
	size_t *count;

	if (t->nobjs > 0 && t->objs == NULL)
		abort();
	if ((count = calloc(list->key_count + 1, sizeof(*count))) == NULL)
		abort();
	for (size_t i = 0; i < t->nobjs; i++) {
		const struct lp_object *o = &t->objs[i];
		size_t k = (size_t)(o->key - list->keys);

		if (o->key < list->keys || k >= list->key_count || !wants(tc, o->key) ||
			++count[k] > 2 + o->key->cert_count)
			abort();
		if (o->klass != CKO_CERTIFICATE && o->klass != CKO_PRIVATE_KEY &&
			o->klass != CKO_PUBLIC_KEY)
			abort();
		check_object(o);
	}
	free(count);
	if (t->nmechs > LURK_ARRAY_LEN(t->mechs))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct lurk_wire_list_resp list;
	struct lurk_wire_hdr h;
	struct lp_token_conf all = {0}, some = {0};
	struct lp_token t;
	struct lurk_buf in;

	if (!once) {
		lurk_log_init("objects_fuzzer", LURK_LOG_NONE, LURK_LOG_ERROR);
		once = 1;
	}
	lurk_buf_view(&in, data, size);
	if (lurk_wire_header_parse(&in, &h) != 0 || h.type != LURK_WIRE_LIST_RESP ||
		lurk_wire_list_resp_parse(&in, &list) != 0)
		return 0;
	for (size_t i = 0; i < list.key_count; i++) {
		(void)lp_key_sig_len(&list.keys[i]);
		(void)lp_key_has_mech(&list.keys[i], CKM_EDDSA);
	}

	if (lp_token_build(&t, &all, &list, 0) != 0)
		abort();
	check_token(&t, &all, &list);
	lp_token_clear(&t);
	if (t.objs != NULL || t.nobjs != 0)
		abort();

	/* The id picks the second token: bit 0 PIN, bit 1 a key's label, bits 3-6 the types. */
	if ((h.id & 2) != 0 && list.key_count > 0) {
		some.keys[0] = list.keys[(h.id >> 8) % list.key_count].label;
		some.nkeys = 1;
	}
	some.types = (h.id >> 2) & 0x1e;
	if (lp_token_build(&t, &some, &list, (int)(h.id & 1)) != 0)
		abort();
	check_token(&t, &some, &list);
	lp_token_clear(&t);

	lurk_wire_list_resp_clear(&list);
	return 0;
}
