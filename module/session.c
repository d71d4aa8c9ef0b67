/*
 * Sessions and object search. A session handle names its slot in the session
 * table (low 16 bits) and the serial number of its opening (the bits above),
 * so a lookup is one index and one comparison, and a closed session's handle
 * never finds the session that reuses its slot. The table's lock is held for
 * that memory work only; a caller gets a session locked and referenced
 * (lp_session_get) so a close from another thread never frees it under the
 * caller. Read-write sessions are accepted (conformance suites open them) but
 * the token is write protected: nothing is ever created, changed or destroyed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/ops.h"
#include "log.h"
#include "module.h"

#define SLOT_BITS    16
#define MAX_SESSIONS (1u << SLOT_BITS)
#define SLOT_MASK    ((CK_SESSION_HANDLE)MAX_SESSIONS - 1)

#ifndef CKF_FIND_OBJECTS
#define CKF_FIND_OBJECTS (1UL << 6) /* PKCS#11 3.0, for C_SessionCancel */
#endif

/* Slots in use hold a session; free ones are chained through next_free. */
struct slot {
	struct lp_session *s;
	size_t next_free;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *table;
static size_t table_cap;         /* slots allocated */
static size_t free_head;         /* first free slot, table_cap when none */
static CK_SESSION_HANDLE serial; /* of the last opening; kept across C_Finalize */

const struct lp_object *
lp_object_from_handle(size_t tok, CK_OBJECT_HANDLE h)
{
	size_t i = (size_t)(h & 0xfffff);

	if ((h >> 20) != tok + 1 || i == 0 || i > lp.tokens[tok].nobjs)
		return NULL;
	return &lp.tokens[tok].objs[i - 1];
}

static CK_OBJECT_HANDLE
handle_of(size_t tok, size_t i)
{
	return ((CK_OBJECT_HANDLE)(tok + 1) << 20) | (CK_OBJECT_HANDLE)(i + 1);
}

void
lp_op_end(struct lp_op *op)
{
	lurk_buf_free(op->data);
	sodium_memzero(op, sizeof(*op));
}

static void
session_free(struct lp_session *s)
{
	lp_op_end(&s->op);
	free(s->found);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The open session a handle names, or NULL. Under table_lock. */
static struct lp_session *
lookup(CK_SESSION_HANDLE h)
{
	size_t i = (size_t)(h & SLOT_MASK);

	if (i >= table_cap || table[i].s == NULL || table[i].s->handle != h)
		return NULL;
	return table[i].s;
}

CK_RV
lp_session_get(CK_SESSION_HANDLE h, struct lp_session **out)
{
	struct lp_session *s;
	CK_RV rv;

	*out = NULL;
	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	pthread_mutex_lock(&table_lock);
	if ((s = lookup(h)) != NULL)
		s->refs++;
	pthread_mutex_unlock(&table_lock);
	if (s == NULL) {
		lp_leave();
		return CKR_SESSION_HANDLE_INVALID;
	}
	pthread_mutex_lock(&s->lock);
	if (__atomic_load_n(&s->closed, __ATOMIC_ACQUIRE)) {
		lp_session_put(s);
		return CKR_SESSION_HANDLE_INVALID;
	}
	*out = s;
	return CKR_OK;
}

void
lp_session_unlock(struct lp_session *s)
{
	pthread_mutex_unlock(&s->lock);
}

void
lp_session_relock(struct lp_session *s)
{
	pthread_mutex_lock(&s->lock);
}

void
lp_session_put(struct lp_session *s)
{
	int last;

	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&table_lock);
	last = --s->refs == 0 && s->closed;
	pthread_mutex_unlock(&table_lock);
	if (last)
		session_free(s);
	lp_leave();
}

/* Takes a session out of its slot; freed when its last user lets go. Under table_lock. */
static void
unlink_at(size_t i)
{
	struct lp_session *s = table[i].s;

	table[i].s = NULL;
	table[i].next_free = free_head;
	free_head = i;
	__atomic_store_n(&s->closed, 1, __ATOMIC_RELEASE); /* read under s->lock too */
	if (s->refs == 0)
		session_free(s);
}

void
lp_sessions_close(size_t tok)
{
	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < table_cap; i++)
		if (table[i].s != NULL && (tok >= LP_MAX_TOKENS || table[i].s->tok == tok))
			unlink_at(i);
	if (tok >= LP_MAX_TOKENS) {
		free(table);
		table = NULL;
		table_cap = free_head = 0;
	}
	pthread_mutex_unlock(&table_lock);
}

/* After fork: the locks may be held by threads that are not in this process. */
void
lp_sessions_after_fork(void)
{
	(void)pthread_mutex_init(&table_lock, NULL);
	for (size_t i = 0; i < table_cap; i++)
		if (table[i].s != NULL) {
			(void)pthread_mutex_init(&table[i].s->lock, NULL);
			table[i].s->refs = 0;
		}
}

/* A free slot, the table doubled when there is none. Under table_lock. */
static CK_RV
take_slot(size_t *out)
{
	if (free_head == table_cap) {
		size_t cap = table_cap ? table_cap * 2 : 16;
		struct slot *t;
		if (cap > MAX_SESSIONS)
			return CKR_SESSION_COUNT;
		if ((t = realloc(table, cap * sizeof(*t))) == NULL)
			return CKR_HOST_MEMORY;
		/* The new slots, chained in order; the last points past the end. */
		for (size_t i = table_cap; i < cap; i++)
			t[i] = (struct slot){NULL, i + 1};
		table = t;
		free_head = table_cap;
		table_cap = cap;
	}
	*out = free_head;
	free_head = table[free_head].next_free;
	return CKR_OK;
}

static CK_RV
counted_open_session(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
	CK_SESSION_HANDLE_PTR out)
{
	struct lp_session *s;
	size_t tok, i;
	CK_RV rv = CKR_OK;

	(void)app;
	(void)notify;
	if ((rv = lp_slot_token(slot, &tok)) != CKR_OK)
		return rv;
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return CKR_HOST_MEMORY;
	}
	s->tok = tok;
	s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
	pthread_mutex_lock(&table_lock);
	if ((rv = take_slot(&i)) != CKR_OK) {
		pthread_mutex_unlock(&table_lock);
		session_free(s);
		return rv;
	}
	/* Never 0 (CK_INVALID_HANDLE), whatever the width of CK_ULONG. */
	do
		serial++;
	while ((serial << SLOT_BITS) == 0);
	s->handle = (serial << SLOT_BITS) | (CK_SESSION_HANDLE)i;
	table[i].s = s;
	*out = s->handle;
	pthread_mutex_unlock(&table_lock);
	return CKR_OK;
}

CK_RV
C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
	CK_SESSION_HANDLE_PTR out)
{
	CK_RV rv;

	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	rv = counted_open_session(slot, flags, app, notify, out);
	lp_leave();
	return rv;
}

static CK_RV
counted_close_session(CK_SESSION_HANDLE h)
{
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&table_lock);
	if (lookup(h) != NULL)
		unlink_at((size_t)(h & SLOT_MASK));
	else
		rv = CKR_SESSION_HANDLE_INVALID;
	pthread_mutex_unlock(&table_lock);
	return rv;
}

CK_RV
C_CloseSession(CK_SESSION_HANDLE h)
{
	CK_RV rv;

	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	rv = counted_close_session(h);
	lp_leave();
	return rv;
}

/*
 * PKCS#11 3.0 C_SessionCancel: ends the session's operations of the kinds
 * named (signing, decryption, object search); there is nothing else to end,
 * and ending an operation that was not active is not an error.
 */
CK_RV
lp_session_cancel(CK_SESSION_HANDLE h, CK_FLAGS flags)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	/* One under way (another thread, on this session) ends when its answer comes. */
	if (!s->op.running && (((flags & CKF_SIGN) && s->op.kind == LP_OP_SIGN) ||
				      ((flags & CKF_DECRYPT) && s->op.kind == LP_OP_DECRYPT)))
		lp_op_end(&s->op);
	if (flags & CKF_FIND_OBJECTS) {
		free(s->found);
		s->found = NULL;
		s->nfound = s->pos = 0;
		s->finding = 0;
	}
	lp_session_put(s);
	return CKR_OK;
}

static CK_RV
counted_close_all_sessions(CK_SLOT_ID slot)
{
	size_t tok;
	CK_RV rv = CKR_OK;

	if ((rv = lp_slot_token(slot, &tok)) != CKR_OK)
		return rv;
	lp_sessions_close(tok);
	return CKR_OK;
}

CK_RV
C_CloseAllSessions(CK_SLOT_ID slot)
{
	CK_RV rv;

	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	rv = counted_close_all_sessions(slot);
	lp_leave();
	return rv;
}

CK_RV
C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
	struct lp_session *s;
	int user;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (info == NULL) {
		lp_session_put(s);
		return CKR_ARGUMENTS_BAD;
	}
	pthread_mutex_lock(&lp.lock);
	user = lp.logged_in[s->tok];
	pthread_mutex_unlock(&lp.lock);
	memset(info, 0, sizeof(*info));
	info->slotID = s->tok;
	info->flags = s->flags;
	if (s->flags & CKF_RW_SESSION)
		info->state = user ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
	else
		info->state = user ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
	lp_session_put(s);
	return CKR_OK;
}

/*
 * A search by CKA_LABEL that names nothing in a token that has keys is most
 * likely a wrong object= in a pkcs11: URI: say which labels there are. Only
 * the label is compared, so a search that names an existing label with other
 * attributes that do not match says nothing.
 */
static void
warn_unknown_label(size_t tok, const struct lp_token *t, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	const CK_ATTRIBUTE *label = NULL;
	char want[LURK_WIRE_MAX_LABEL + 1], have[512];
	size_t len = 0, i, j;

	for (CK_ULONG k = 0; k < n; k++)
		if (tmpl[k].type == CKA_LABEL)
			label = &tmpl[k];
	if (label == NULL || t->nobjs == 0 || (label->pValue == NULL && label->ulValueLen > 0))
		return;
	for (i = 0; i < t->nobjs; i++)
		if (lp_object_match(&t->objs[i], label, 1))
			return;
	/* Copied for the log line, anything not printable replaced. */
	lc_printable(want, sizeof(want), (const char *)label->pValue, label->ulValueLen);
	/* Each key once (its objects share the key), as far as the line has room. */
	have[0] = '\0';
	for (i = 0; i < t->nobjs; i++) {
		const struct lurk_wire_key *k = t->objs[i].key;
		size_t need = (len ? 2 : 0) + strlen(k->label);
		for (j = 0; j < i && t->objs[j].key != k; j++)
			;
		if (j < i)
			continue;
		if (len + need + 5 >= sizeof(have)) {
			snprintf(have + len, sizeof(have) - len, "%s...", len ? ", " : "");
			break;
		}
		len += (size_t)snprintf(
			have + len, sizeof(have) - len, "%s%s", len ? ", " : "", k->label);
	}
	lurk_warn("no key labelled '%s' in token '%s' (this client has: %s)", want,
		lp.conf.tokens[tok].label, have);
}

CK_RV
C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct lp_session *s;
	struct lp_token *t;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (n > 0 && tmpl == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (s->finding) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	/* The list may need the network: not under the session's lock. */
	lp_session_unlock(s);
	/* Logged out of a PIN-protected key (again): as before the first login, nothing. */
	if ((rv = lp_key_ready()) == CKR_OK)
		rv = lp_load_list();
	lp_session_relock(s);
	if (s->finding) {
		rv = CKR_OPERATION_ACTIVE; /* another thread, on this session, meanwhile */
		goto out;
	}
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		/* PIN-protected and not logged in: no object is known yet. */
		free(s->found);
		s->found = NULL;
		s->nfound = s->pos = 0;
		s->finding = 1;
		rv = CKR_OK;
		goto out;
	}
	if (rv != CKR_OK)
		goto out;
	t = &lp.tokens[s->tok];
	free(s->found);
	s->nfound = s->pos = 0;
	if ((s->found = calloc(t->nobjs ? t->nobjs : 1, sizeof(*s->found))) == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < t->nobjs; i++)
		if (lp_object_match(&t->objs[i], tmpl, n))
			s->found[s->nfound++] = handle_of(s->tok, i);
	if (s->nfound == 0)
		warn_unknown_label(s->tok, t, tmpl, n);
	s->finding = 1;
out:
	lp_session_put(s);
	return rv;
}

CK_RV
C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (count == NULL || (out == NULL && max > 0))
		rv = CKR_ARGUMENTS_BAD;
	else if (!s->finding)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else {
		*count = 0;
		while (*count < max && s->pos < s->nfound)
			out[(*count)++] = s->found[s->pos++];
	}
	lp_session_put(s);
	return rv;
}

CK_RV
C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (!s->finding)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	free(s->found);
	s->found = NULL;
	s->nfound = s->pos = 0;
	s->finding = 0;
	lp_session_put(s);
	return rv;
}

CK_RV
C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	const struct lp_object *o;
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (tmpl == NULL && n > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if ((o = lp_object_from_handle(s->tok, obj)) == NULL)
		rv = CKR_OBJECT_HANDLE_INVALID;
	else
		rv = lp_object_get(o, tmpl, n);
	lp_session_put(s);
	return rv;
}

CK_RV
C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ULONG_PTR size)
{
	const struct lp_object *o;
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (size == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if ((o = lp_object_from_handle(s->tok, obj)) == NULL)
		rv = CKR_OBJECT_HANDLE_INVALID;
	else
		*size = CK_UNAVAILABLE_INFORMATION;
	lp_session_put(s);
	return rv;
}

/* The token is write protected: these check their arguments' handles and refuse. */
static CK_RV
refuse_write(CK_SESSION_HANDLE h)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	lp_session_put(s);
	return CKR_TOKEN_WRITE_PROTECTED;
}

CK_RV
C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR o)
{
	(void)t, (void)n, (void)o;
	return refuse_write(h);
}

CK_RV
C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR t, CK_ULONG n,
	CK_OBJECT_HANDLE_PTR o)
{
	(void)obj, (void)t, (void)n, (void)o;
	return refuse_write(h);
}

CK_RV
C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj)
{
	(void)obj;
	return refuse_write(h);
}

CK_RV
C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	(void)obj, (void)t, (void)n;
	return refuse_write(h);
}

CK_RV
C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG n,
	CK_OBJECT_HANDLE_PTR o)
{
	(void)m, (void)t, (void)n, (void)o;
	return refuse_write(h);
}

CK_RV
C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt, CK_ULONG pn,
	CK_ATTRIBUTE_PTR st, CK_ULONG sn, CK_OBJECT_HANDLE_PTR po, CK_OBJECT_HANDLE_PTR so)
{
	(void)m, (void)pt, (void)pn, (void)st, (void)sn, (void)po, (void)so;
	return refuse_write(h);
}

CK_RV
C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR o, CK_ULONG ol, CK_UTF8CHAR_PTR n, CK_ULONG nl)
{
	(void)o, (void)ol, (void)n, (void)nl;
	return refuse_write(h);
}

CK_RV
C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR p, CK_ULONG l)
{
	(void)p, (void)l;
	return refuse_write(h);
}
