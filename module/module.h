/*
 * Inside lurk-pkcs11.so (docs/architecture.md): the PKCS#11 face of the client
 * core (client/: the key servers' configuration, the connections to lurkd,
 * the key list, signing and decryption). The state shared by the module's
 * files: p11.c is the function list and the general functions, slot.c
 * slots, tokens, mechanisms and login, session.c sessions and object
 * search, object.c the objects built from the key list, crypto.c signing
 * and decryption and the core's errors as CK_RV, conf.c the [token]
 * sections of the module's file.
 *
 * Rules, because the module lives in other people's processes: no thread is
 * ever created, nothing is printed to stdout, nothing exits or aborts, every
 * lock is held only for memory work (never across a network round trip).
 */
#ifndef LURK_MODULE_H
#define LURK_MODULE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ckm.h"
#include "client/core.h"
#include "compiler.h"
#include "lurk-limits.h"
#include "keyfile.h"
#include "wire.h"

/* What one token shows: every key, or those named or of the types given. */
struct lp_token_conf {
	char name[64];
	char label[33];            /* CK_TOKEN_INFO label, space padded when shown */
	char *keys[LP_MAX_FILTER]; /* key labels; none means every key */
	size_t nkeys;
	unsigned types; /* 1 << enum lurk_key_type; 0 means every type */
};

/*
 * The module's part of its file: the [token] sections. [module] and
 * [server] are the core's (client/conf.h).
 */
struct lp_conf {
	struct lp_token_conf tokens[LP_MAX_TOKENS];
	size_t ntokens;
};

/*
 * conf.c: makes the core from the file at path, c getting the [token]
 * sections (one "lurk" token with every key when there are none). 0;
 * LURK_ERR_CONFIG when the file is not good (err says why: file:line:
 * reason); LURK_ERR_ALLOC. On failure c is cleared and *core NULL.
 */
int lp_conf_load(struct lp_conf *c, struct lc_core **core, const char *path, char *err,
	size_t err_len) LURK_MUST_CHECK;
void lp_conf_clear(struct lp_conf *c);
/* LURK_PKCS11_CONF, else SYSCONFDIR/lurk/lurk-pkcs11.conf. */
const char *lp_conf_path(void);

/* An attribute with its value as PKCS#11 returns it. */
struct lp_attr {
	CK_ATTRIBUTE_TYPE type;
	uint8_t *value;
	size_t len;
};

/* One object of a token; immutable once built. */
struct lp_object {
	CK_OBJECT_CLASS klass;
	const struct lurk_wire_key *key; /* the key it belongs to */
	struct lp_attr *attrs;
	size_t nattrs;
};

/* A token's objects and mechanisms, built from the key list. */
struct lp_token {
	struct lp_object *objs;
	size_t nobjs;
	CK_MECHANISM_TYPE mechs[64];
	size_t nmechs;
};

/* object.c; private: the private keys are CKA_PRIVATE (the client key needs C_Login). */
int lp_token_build(struct lp_token *t, const struct lp_token_conf *tc,
	const struct lurk_wire_list_resp *list, int private) LURK_MUST_CHECK;
void lp_token_clear(struct lp_token *t);
/* 1 if every attribute of the template matches the object byte for byte. */
int lp_object_match(const struct lp_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n);
CK_RV lp_object_get(const struct lp_object *o, CK_ATTRIBUTE *tmpl, CK_ULONG n);
/* Expected signature length for a key, or 0 if not known. */
size_t lp_key_sig_len(const struct lurk_wire_key *k);
/* Whether the key lists this mechanism. */
int lp_key_has_mech(const struct lurk_wire_key *k, CK_MECHANISM_TYPE m);

/*
 * p11.c: the client core's result (0 or a LURK_ERR_*, already logged
 * where it needs to be) as PKCS#11 returns it: a refusal by lurkd's policy,
 * access list or rate limit is CKR_FUNCTION_REJECTED, an unsupported
 * mechanism CKR_MECHANISM_INVALID, an unknown key CKR_KEY_HANDLE_INVALID,
 * no client key CKR_USER_NOT_LOGGED_IN, any other failure of lurkd or of
 * the way to it CKR_DEVICE_ERROR.
 */
CK_RV lp_rv(int r);

/* The module's state (p11.c). */
struct lp_state {
	pthread_mutex_t lock; /* everything below except what the core locks itself */
	int initialized;
	pid_t pid;
	int conf_ok;
	struct lp_conf conf; /* the [token] sections */
	/* The key servers, the pool, the key list, the client key: whether it is
	 * PIN-protected and whether C_Login opened it are the core's to say. */
	struct lc_core *core;
	/* The tokens, built once from the core's key list (their objects point into it). */
	int list_loaded;
	struct lp_token tokens[LP_MAX_TOKENS];
	int logged_in[LP_MAX_TOKENS];
};

extern struct lp_state lp;

/* Checks initialization; CKR_OK or CKR_CRYPTOKI_NOT_INITIALIZED. */
CK_RV lp_check(void);
/*
 * A call that uses the module's state: lp_enter checks initialization and
 * counts the call in; lp_leave (only after CKR_OK) counts it out. C_Finalize
 * waits for the calls counted in (each bounded by the timeout) before it
 * frees anything, so a C_Finalize that races other calls, which PKCS#11
 * leaves undefined, does not free what they use.
 */
CK_RV lp_enter(void) LURK_MUST_CHECK;
void lp_leave(void);
/* Builds the tokens from the core's key list, fetched if need be (network, no lock held). */
CK_RV lp_load_list(void);
/* CKR_OK when the client key is usable (no PIN, or C_Login gave it): the core says. */
CK_RV lp_key_ready(void);
/* Whether the client key is PIN-protected (the tokens need C_Login): the core says. */
int lp_pin_protected(void);
/* Slot number to token index; CKR_SLOT_ID_INVALID when none. */
CK_RV lp_slot_token(CK_SLOT_ID slot, size_t *tok);

/* An operation in progress on a session (sign or decrypt). */
enum lp_op_kind { LP_OP_NONE = 0, LP_OP_SIGN, LP_OP_DECRYPT };

struct lp_op {
	enum lp_op_kind kind;
	const struct lp_object *key;
	CK_MECHANISM_TYPE mech;
	struct lurk_wire_param param;
	uint8_t context[LURK_WIRE_MAX_CONTEXT]; /* EdDSA context, param points here */
	struct lurk_buf *data;                  /* multi-part data, NULL until C_SignUpdate */
	int updated;                            /* C_SignUpdate was called */
	int running; /* its round trip is under way, without the session's lock: hands off */
};

struct lp_session {
	CK_SESSION_HANDLE handle;
	size_t tok;
	CK_FLAGS flags;
	pthread_mutex_t lock; /* held by the one caller using the session */
	unsigned refs;        /* under the session table's lock */
	int closed;
	/* C_FindObjects state */
	int finding;
	CK_OBJECT_HANDLE *found;
	size_t nfound, pos;
	struct lp_op op;
};

/*
 * session.c: finds an open session, locked and referenced (and the call
 * counted in, lp_enter); put releases all three.
 */
CK_RV lp_session_get(CK_SESSION_HANDLE h, struct lp_session **out);
void lp_session_put(struct lp_session *s);
/*
 * Lets the session's lock go for a network round trip and takes it back:
 * the session stays referenced; what the caller marked as its own (an
 * operation `running`) nobody else changes meanwhile, the rest may have.
 */
void lp_session_unlock(struct lp_session *s);
void lp_session_relock(struct lp_session *s);
/* Closes every session (C_Finalize, fork); with tok < LP_MAX_TOKENS only that token's. */
void lp_sessions_close(size_t tok);
/* After fork: fresh locks (a lock may have been held by a thread left behind). */
void lp_sessions_after_fork(void);
/* Object handle to object within a token; NULL when not one of its handles. */
const struct lp_object *lp_object_from_handle(size_t tok, CK_OBJECT_HANDLE h);
void lp_op_end(struct lp_op *op);
/* PKCS#11 3.0 C_SessionCancel (flags CKF_SIGN, CKF_DECRYPT, CKF_FIND_OBJECTS). */
CK_RV lp_session_cancel(CK_SESSION_HANDLE h, CK_FLAGS flags);

/* unsupported.c: CKR_FUNCTION_NOT_SUPPORTED once initialization and h are checked. */
CK_RV lp_unsupported(CK_SESSION_HANDLE h);

/*
 * PKCS#11's rule for outputs of n items or bytes: a NULL buffer asks for n, a
 * short one gets CKR_BUFFER_TOO_SMALL; *count becomes n either way. Returns 1
 * when the caller is to fill the buffer (*rv is then CKR_OK).
 */
int lp_out_room(const void *buf, CK_ULONG_PTR count, CK_ULONG n, CK_RV *rv);
/* Copies s into a blank-padded fixed field. */
void lp_pad(CK_UTF8CHAR *dst, size_t len, const char *s);

#endif
