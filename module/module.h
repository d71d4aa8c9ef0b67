/*
 * Inside lurk-pkcs11.so (docs/architecture.md): the state shared by the module's
 * files. p11.c is the function list and the general functions, slot.c slots,
 * tokens, mechanisms and login, session.c sessions and object search,
 * object.c the objects built from the key server's list, crypto.c signing
 * and decryption, pool.c the connections to lurkd, conf.c the module's file.
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
#include "compiler.h"
#include "limits.h"
#include "keyfile.h"
#include "wire.h"

#define LP_MAX_SERVERS 16
#define LP_MAX_TOKENS  16
#define LP_MAX_FILTER  32 /* key labels named in one [token] */

/* Defaults for the module's file ([module] section). */
#define LP_CONNECT_TIMEOUT_MS 3000
#define LP_IO_TIMEOUT_MS      5000
#define LP_IDLE_PER_SERVER    64

/* One key server; all of them serve the same keys (replicas). */
struct lp_server {
	char name[64];
	char *address;
	uint8_t pk[LURK_NOISE_KEY_LEN];
};

/* What one token shows: every key, or those named or of the types given. */
struct lp_token_conf {
	char name[64];
	char label[33];            /* CK_TOKEN_INFO label, space padded when shown */
	char *keys[LP_MAX_FILTER]; /* key labels; none means every key */
	size_t nkeys;
	unsigned types; /* 1 << enum lurk_key_type; 0 means every type */
};

struct lp_conf {
	char path[4096];
	uint8_t client_sk[LURK_NOISE_KEY_LEN]; /* secret, as read; C_Initialize moves it into the
						  pool */
	uint8_t locked[LURK_LOCKED_LEN];       /* the sealed key, when the file is PIN-protected */
	int pin_protected;
	int connect_timeout_ms;
	int io_timeout_ms;
	unsigned idle_per_server;
	struct lp_server servers[LP_MAX_SERVERS];
	size_t nservers;
	struct lp_token_conf tokens[LP_MAX_TOKENS];
	size_t ntokens;
};

/* conf.c: reads the file; on failure err says why (file:line: reason). */
int lp_conf_load(struct lp_conf *c, const char *path, char *err, size_t err_len) LURK_MUST_CHECK;
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

/* object.c */
int lp_token_build(struct lp_token *t, const struct lp_token_conf *tc,
	const struct lurk_wire_list_resp *list) LURK_MUST_CHECK;
void lp_token_clear(struct lp_token *t);
/* 1 if every attribute of the template matches the object byte for byte. */
int lp_object_match(const struct lp_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n);
CK_RV lp_object_get(const struct lp_object *o, CK_ATTRIBUTE *tmpl, CK_ULONG n);
/* Expected signature length for a key, or 0 if not known. */
size_t lp_key_sig_len(const struct lurk_wire_key *k);
/* Whether the key lists this mechanism. */
int lp_key_has_mech(const struct lurk_wire_key *k, CK_MECHANISM_TYPE m);

/* pool.c: connections to the key servers, checked out one call at a time. */
struct lp_pool;
int lp_pool_new(struct lp_pool **out, const struct lp_conf *c) LURK_MUST_CHECK;
void lp_pool_free(struct lp_pool *p);
/* Drops every idle connection without sending on it (after fork). */
void lp_pool_forget(struct lp_pool *p);
/*
 * The client key, copied into the pool's guarded memory (NULL wipes it).
 * Every connection made with the key it replaces is closed: idle ones now,
 * those in use when they are checked in. 0 or LURK_ERR_ALLOC.
 */
int lp_pool_set_key(struct lp_pool *p, const uint8_t *sk) LURK_MUST_CHECK;
/*
 * One request, one response, within the conf's io timeout from start to
 * end: the message built by build(ctx, out, id) is sent on a pooled
 * connection and the response (header included) replaces resp. CKR_OK;
 * CKR_DEVICE_ERROR when no server answered in time, or at once when every
 * server is in backoff; CKR_USER_NOT_LOGGED_IN when there is no client key.
 * The failure model (backoff, probes, retries, balance) is pool.c's.
 */
typedef int (*lp_build_fn)(void *ctx, struct lurk_buf *out, uint32_t id);
CK_RV lp_pool_call(struct lp_pool *p, lp_build_fn build, void *ctx, struct lurk_buf *resp);

/* crypto.c: maps a lurkd error response to a return value and logs it. */
CK_RV lp_rv_from_error(const struct lurk_wire_error *e, const char *op, const char *label);

/* The module's state (p11.c). */
struct lp_state {
	pthread_mutex_t lock; /* everything below except the pool's own lock */
	int initialized;
	pid_t pid;
	int conf_ok;
	struct lp_conf conf;
	struct lp_pool *pool;
	/* Key list, fetched once on first need and kept. */
	struct lurk_wire_list_resp list;
	int list_loaded;
	int64_t list_next_try_ms;
	struct lp_token tokens[LP_MAX_TOKENS];
	int logged_in[LP_MAX_TOKENS];
	int unlocked; /* a PIN-protected client key has been opened by C_Login */
};

extern struct lp_state lp;

int64_t lp_now_ms(void);
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
/* Loads the key list if not yet loaded (network, no lock held). */
CK_RV lp_load_list(void);
/* CKR_OK when the client key is usable (no PIN, or C_Login gave it). */
CK_RV lp_key_ready(void);
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
