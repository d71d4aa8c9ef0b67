/*
 * lurk-pkcs11.so: the function list and the general-purpose functions.
 *
 * Initialization follows what installed consumers do (docs/consumers.md):
 * GnuTLS passes CKF_LIBRARY_CANT_CREATE_OS_THREADS
 * | CKF_OS_LOCKING_OK (we never create threads and lock with pthreads), and
 * calls C_Initialize again in a forked child without C_Finalize: that is a
 * reset, not CKR_CRYPTOKI_ALREADY_INITIALIZED. A missing or broken
 * configuration file leaves the module loaded with no slot and one log line,
 * so a host that loads every registered module is never broken by us.
 *
 * Logs go to stderr (never stdout), warnings and errors only unless
 * LURK_PKCS11_LOG says otherwise (none, error, warn, info, debug).
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client/core.h"
#include "err.h"
#include "log.h"
#include "module.h"

struct lp_state lp = {.lock = PTHREAD_MUTEX_INITIALIZER};
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

void
lp_pad(CK_UTF8CHAR *dst, size_t len, const char *s)
{
	size_t n = strlen(s);

	memset(dst, ' ', len);
	memcpy(dst, s, n < len ? n : len);
}

int
lp_out_room(const void *buf, CK_ULONG_PTR count, CK_ULONG n, CK_RV *rv)
{
	CK_ULONG have = *count;

	*count = n;
	*rv = CKR_OK;
	if (buf == NULL)
		return 0;
	if (have < n) {
		*rv = CKR_BUFFER_TOO_SMALL;
		return 0;
	}
	return 1;
}

/*
 * The one mapping of the client core's results (LURK_ERR_*) to what PKCS#11
 * callers get back.
 */
CK_RV
lp_rv(int r)
{
	switch (r) {
	case 0:
		return CKR_OK;
	case LURK_ERR_ALLOC:
		return CKR_HOST_MEMORY;
	case LURK_ERR_NO_KEY: /* a PIN-protected client key not opened by C_Login */
		return CKR_USER_NOT_LOGGED_IN;
	case LURK_ERR_INVALID_ARG: /* the request could not be built from what was given */
		return CKR_ARGUMENTS_BAD;
	case LURK_ERR_POLICY:
	case LURK_ERR_DENIED:
	case LURK_ERR_RATE_LIMIT:
		return CKR_FUNCTION_REJECTED;
	case LURK_ERR_MECHANISM:
		return CKR_MECHANISM_INVALID;
	case LURK_ERR_NOT_FOUND:
		return CKR_KEY_HANDLE_INVALID;
	default:
		/* No server answered, a malformed answer, lurkd's own failure. */
		return CKR_DEVICE_ERROR;
	}
}

CK_RV
lp_check(void)
{
	return __atomic_load_n(&lp.initialized, __ATOMIC_ACQUIRE) ? CKR_OK
								  : CKR_CRYPTOKI_NOT_INITIALIZED;
}

/* Calls counted in (lp_enter); sequentially consistent with lp.initialized. */
static unsigned inflight;

CK_RV
lp_enter(void)
{
	/* In first, then look: C_Finalize clears initialized, then waits for inflight 0. */
	__atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&lp.initialized, __ATOMIC_SEQ_CST)) {
		lp_leave();
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	return CKR_OK;
}

void
lp_leave(void)
{
	__atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
}

/*
 * C_Finalize, once no new call can start: waits for the calls under way,
 * each bounded by the timeout. 0 when none is left; -1 if some still are
 * after twice the timeout (then nothing may be freed).
 */
static int
wait_for_calls(void)
{
	int64_t until = lc_now_ms() +
			2 * (int64_t)(lp.conf_ok ? lc_core_conf(lp.core)->io_timeout_ms : 0) + 1000;
	struct timespec pause = {0, 1000000};

	/* In a child the parent's threads are gone: what they counted in never leaves. */
	if (lp.pid != getpid())
		return 0;
	while (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST) != 0) {
		if (lc_now_ms() > until)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

static void
log_setup(void)
{
	lurk_log_init_env("lurk-pkcs11", "LURK_PKCS11_LOG");
}

static CK_RV
check_args(const CK_C_INITIALIZE_ARGS *a)
{
	int some, all;

	if (a == NULL)
		return CKR_OK;
	some = a->CreateMutex || a->DestroyMutex || a->LockMutex || a->UnlockMutex;
	all = a->CreateMutex && a->DestroyMutex && a->LockMutex && a->UnlockMutex;
	if ((some && !all) || a->pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	/* Caller's mutexes only, no OS locking: we cannot honour that. */
	if (all && !(a->flags & CKF_OS_LOCKING_OK))
		return CKR_CANT_LOCK;
	return CKR_OK;
}

/* In a forked child: nothing of the parent's channels may be used or sent on. */
static void
after_fork(void)
{
	(void)pthread_mutex_init(&lp.lock, NULL);
	__atomic_store_n(&inflight, 0, __ATOMIC_SEQ_CST); /* their threads did not fork */
	lc_core_after_fork(lp.core);
	lp_sessions_after_fork();
	lp.pid = getpid();
}

CK_RV
C_Initialize(CK_VOID_PTR args)
{
	char err[1024];
	CK_RV rv;
	int r;

	if ((rv = check_args(args)) != CKR_OK)
		return rv;
	pthread_mutex_lock(&init_lock);
	if (lp.initialized) {
		if (lp.pid != getpid()) {
			after_fork();
			rv = CKR_OK;
		} else {
			rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		}
		goto out;
	}
	log_setup();
	if (sodium_init() < 0) {
		lurk_error("libsodium failed to initialize");
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	memset(lp.logged_in, 0, sizeof(lp.logged_in));
	lp.list_loaded = 0;
	lp.conf_ok = 0;
	lp.core = NULL;
	/* The core keeps the client key in its pool's guarded memory; no other copy stays. */
	r = lp_conf_load(&lp.conf, &lp.core, lp_conf_path(), err, sizeof(err));
	if (r == LURK_ERR_ALLOC) {
		rv = CKR_HOST_MEMORY;
		goto out;
	} else if (r != 0 && !secure_getenv("LURK_PKCS11_CONF") &&
		   access(lp_conf_path(), F_OK) != 0 && errno == ENOENT) {
		/*
		 * Installed but not configured (the package on a host that does
		 * not use it): p11-kit loads us into every program that lists
		 * modules, and each would print this line. Said at info level; a
		 * file that exists but is wrong, or one LURK_PKCS11_CONF names,
		 * is an error.
		 */
		lurk_info("%s; lurk shows no token until it exists", err);
	} else if (r != 0) {
		lurk_error("%s; lurk shows no token until this is fixed", err);
	} else {
		lp.conf_ok = 1;
	}
	lp.pid = getpid();
	__atomic_store_n(&lp.initialized, 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&init_lock);
	return rv;
}

CK_RV
C_Finalize(CK_VOID_PTR reserved)
{
	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&init_lock);
	if (!lp.initialized) {
		pthread_mutex_unlock(&init_lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	__atomic_store_n(&lp.initialized, 0, __ATOMIC_SEQ_CST);
	if (wait_for_calls() != 0) {
		/* PKCS#11 leaves this undefined; we leak rather than free what is in use. */
		lurk_error("C_Finalize: calls still under way after twice the timeout; the "
			   "module's memory is left as it is");
		lp_sessions_close(LP_MAX_TOKENS); /* frees only those nobody uses */
		lp.core = NULL;
		lp.conf_ok = 0;
		memset(lp.tokens, 0, sizeof(lp.tokens));
		lp.list_loaded = 0;
		pthread_mutex_unlock(&init_lock);
		return CKR_OK;
	}
	lp_sessions_close(LP_MAX_TOKENS);
	/* The tokens' objects point into the core's key list: they go first. */
	for (size_t i = 0; i < LP_MAX_TOKENS; i++)
		lp_token_clear(&lp.tokens[i]);
	lp.list_loaded = 0;
	lc_core_free(lp.core); /* closes every connection, wipes the client key */
	lp.core = NULL;
	if (lp.conf_ok)
		lp_conf_clear(&lp.conf);
	lp.conf_ok = 0;
	pthread_mutex_unlock(&init_lock);
	return CKR_OK;
}

/* The version is that of the interface the caller took the function from. */
static CK_RV
get_info(CK_INFO_PTR info, CK_BYTE major, CK_BYTE minor)
{
	CK_RV rv;

	if ((rv = lp_check()) != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = major;
	info->cryptokiVersion.minor = minor;
	lp_pad(info->manufacturerID, sizeof(info->manufacturerID), "lurk");
	lp_pad(info->libraryDescription, sizeof(info->libraryDescription),
		"lurk remote keys (lurkd)");
	info->libraryVersion.major = 0;
	info->libraryVersion.minor = 1;
	return CKR_OK;
}

CK_RV
C_GetInfo(CK_INFO_PTR info)
{
	return get_info(info, 2, 40);
}

static CK_RV
get_info_3_0(CK_INFO_PTR info)
{
	return get_info(info, 3, 0);
}

/* Legacy parallel-function calls (PKCS#11 2.40 §5.16). */
CK_RV
C_GetFunctionStatus(CK_SESSION_HANDLE h)
{
	CK_RV rv;

	(void)h;
	return (rv = lp_check()) != CKR_OK ? rv : CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV
C_CancelFunction(CK_SESSION_HANDLE h)
{
	CK_RV rv;

	(void)h;
	return (rv = lp_check()) != CKR_OK ? rv : CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV
C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved)
{
	CK_RV rv;

	(void)flags, (void)slot, (void)reserved;
	return (rv = lp_check()) != CKR_OK ? rv : CKR_FUNCTION_NOT_SUPPORTED;
}

static CK_FUNCTION_LIST function_list = {
	.version = {2, 40},
	.C_Initialize = C_Initialize,
	.C_Finalize = C_Finalize,
	.C_GetInfo = C_GetInfo,
	.C_GetFunctionList = C_GetFunctionList,
	.C_GetSlotList = C_GetSlotList,
	.C_GetSlotInfo = C_GetSlotInfo,
	.C_GetTokenInfo = C_GetTokenInfo,
	.C_GetMechanismList = C_GetMechanismList,
	.C_GetMechanismInfo = C_GetMechanismInfo,
	.C_InitToken = C_InitToken,
	.C_InitPIN = C_InitPIN,
	.C_SetPIN = C_SetPIN,
	.C_OpenSession = C_OpenSession,
	.C_CloseSession = C_CloseSession,
	.C_CloseAllSessions = C_CloseAllSessions,
	.C_GetSessionInfo = C_GetSessionInfo,
	.C_GetOperationState = C_GetOperationState,
	.C_SetOperationState = C_SetOperationState,
	.C_Login = C_Login,
	.C_Logout = C_Logout,
	.C_CreateObject = C_CreateObject,
	.C_CopyObject = C_CopyObject,
	.C_DestroyObject = C_DestroyObject,
	.C_GetObjectSize = C_GetObjectSize,
	.C_GetAttributeValue = C_GetAttributeValue,
	.C_SetAttributeValue = C_SetAttributeValue,
	.C_FindObjectsInit = C_FindObjectsInit,
	.C_FindObjects = C_FindObjects,
	.C_FindObjectsFinal = C_FindObjectsFinal,
	.C_EncryptInit = C_EncryptInit,
	.C_Encrypt = C_Encrypt,
	.C_EncryptUpdate = C_EncryptUpdate,
	.C_EncryptFinal = C_EncryptFinal,
	.C_DecryptInit = C_DecryptInit,
	.C_Decrypt = C_Decrypt,
	.C_DecryptUpdate = C_DecryptUpdate,
	.C_DecryptFinal = C_DecryptFinal,
	.C_DigestInit = C_DigestInit,
	.C_Digest = C_Digest,
	.C_DigestUpdate = C_DigestUpdate,
	.C_DigestKey = C_DigestKey,
	.C_DigestFinal = C_DigestFinal,
	.C_SignInit = C_SignInit,
	.C_Sign = C_Sign,
	.C_SignUpdate = C_SignUpdate,
	.C_SignFinal = C_SignFinal,
	.C_SignRecoverInit = C_SignRecoverInit,
	.C_SignRecover = C_SignRecover,
	.C_VerifyInit = C_VerifyInit,
	.C_Verify = C_Verify,
	.C_VerifyUpdate = C_VerifyUpdate,
	.C_VerifyFinal = C_VerifyFinal,
	.C_VerifyRecoverInit = C_VerifyRecoverInit,
	.C_VerifyRecover = C_VerifyRecover,
	.C_DigestEncryptUpdate = C_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = C_DecryptDigestUpdate,
	.C_SignEncryptUpdate = C_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = C_DecryptVerifyUpdate,
	.C_GenerateKey = C_GenerateKey,
	.C_GenerateKeyPair = C_GenerateKeyPair,
	.C_WrapKey = C_WrapKey,
	.C_UnwrapKey = C_UnwrapKey,
	.C_DeriveKey = C_DeriveKey,
	.C_SeedRandom = C_SeedRandom,
	.C_GenerateRandom = C_GenerateRandom,
	.C_GetFunctionStatus = C_GetFunctionStatus,
	.C_CancelFunction = C_CancelFunction,
	.C_WaitForSlotEvent = C_WaitForSlotEvent,
};

/*
 * PKCS#11 3.0. p11-kit 0.24's header predates it, so its types are spelled
 * out here as the standard has them (pkcs11t.h, pkcs11f.h): the 3.0 function
 * list is the 2.40 one followed by the 3.0 functions, in this order.
 */
typedef struct {
	CK_UTF8CHAR_PTR pInterfaceName;
	CK_VOID_PTR pFunctionList;
	CK_FLAGS flags;
} lp_interface;

/* The shapes of the 3.0 functions. */
typedef CK_RV get_interface_list_fn(lp_interface *, CK_ULONG_PTR);
typedef CK_RV get_interface_fn(CK_UTF8CHAR_PTR, CK_VERSION *, lp_interface **, CK_FLAGS);
typedef CK_RV login_user_fn(
	CK_SESSION_HANDLE, CK_USER_TYPE, CK_UTF8CHAR_PTR, CK_ULONG, CK_UTF8CHAR_PTR, CK_ULONG);
typedef CK_RV session_cancel_fn(CK_SESSION_HANDLE, CK_FLAGS);
typedef CK_RV message_init_fn(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE);
typedef CK_RV crypt_message_fn(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG,
	CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
typedef CK_RV crypt_message_begin_fn(
	CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG);
typedef CK_RV crypt_message_next_fn(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG,
	CK_BYTE_PTR, CK_ULONG_PTR, CK_FLAGS);
typedef CK_RV message_final_fn(CK_SESSION_HANDLE);
typedef CK_RV sign_message_fn(
	CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
typedef CK_RV message_begin_fn(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG);
typedef CK_RV verify_message_fn(
	CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG);

struct lp_function_list_3_0 {
	CK_FUNCTION_LIST v2;
	get_interface_list_fn *C_GetInterfaceList;
	get_interface_fn *C_GetInterface;
	login_user_fn *C_LoginUser;
	session_cancel_fn *C_SessionCancel;
	message_init_fn *C_MessageEncryptInit;
	crypt_message_fn *C_EncryptMessage;
	crypt_message_begin_fn *C_EncryptMessageBegin;
	crypt_message_next_fn *C_EncryptMessageNext;
	message_final_fn *C_MessageEncryptFinal;
	message_init_fn *C_MessageDecryptInit;
	crypt_message_fn *C_DecryptMessage;
	crypt_message_begin_fn *C_DecryptMessageBegin;
	crypt_message_next_fn *C_DecryptMessageNext;
	message_final_fn *C_MessageDecryptFinal;
	message_init_fn *C_MessageSignInit;
	sign_message_fn *C_SignMessage;
	message_begin_fn *C_SignMessageBegin;
	sign_message_fn *C_SignMessageNext;
	message_final_fn *C_MessageSignFinal;
	message_init_fn *C_MessageVerifyInit;
	verify_message_fn *C_VerifyMessage;
	message_begin_fn *C_VerifyMessageBegin;
	verify_message_fn *C_VerifyMessageNext;
	message_final_fn *C_MessageVerifyFinal;
};

/* The 2.40 list is a prefix of the 3.0 one: no padding between them. */
_Static_assert(offsetof(struct lp_function_list_3_0, C_GetInterfaceList) ==
		       offsetof(CK_FUNCTION_LIST, C_WaitForSlotEvent) + sizeof(void (*)(void)),
	"CK_FUNCTION_LIST_3_0 layout");

LURK_EXPORT CK_RV C_GetInterfaceList(lp_interface *list, CK_ULONG_PTR count);
LURK_EXPORT CK_RV C_GetInterface(
	CK_UTF8CHAR_PTR name, CK_VERSION *version, lp_interface **out, CK_FLAGS flags);

/*
 * No user names: a token user is this host (its client key), and a PIN, if
 * any, goes through C_Login. The session is checked first, as everywhere.
 */
static CK_RV
login_user(CK_SESSION_HANDLE h, CK_USER_TYPE type, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len,
	CK_UTF8CHAR_PTR user, CK_ULONG user_len)
{
	(void)type, (void)pin, (void)pin_len, (void)user, (void)user_len;
	return lp_unsupported(h);
}

/* Message-based encryption, decryption, signing and verification: none of them. */
static CK_RV
message_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)m, (void)k;
	return lp_unsupported(h);
}

static CK_RV
message_final(CK_SESSION_HANDLE h)
{
	return lp_unsupported(h);
}

static CK_RV
crypt_message(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR ad, CK_ULONG adl,
	CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
	(void)p, (void)pl, (void)ad, (void)adl, (void)in, (void)inl, (void)out, (void)outl;
	return lp_unsupported(h);
}

static CK_RV
crypt_message_begin(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR ad, CK_ULONG adl)
{
	(void)p, (void)pl, (void)ad, (void)adl;
	return lp_unsupported(h);
}

static CK_RV
crypt_message_next(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR in, CK_ULONG inl,
	CK_BYTE_PTR out, CK_ULONG_PTR outl, CK_FLAGS flags)
{
	(void)p, (void)pl, (void)in, (void)inl, (void)out, (void)outl, (void)flags;
	return lp_unsupported(h);
}

static CK_RV
sign_message(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR d, CK_ULONG dl,
	CK_BYTE_PTR sig, CK_ULONG_PTR sigl)
{
	(void)p, (void)pl, (void)d, (void)dl, (void)sig, (void)sigl;
	return lp_unsupported(h);
}

static CK_RV
message_begin(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl)
{
	(void)p, (void)pl;
	return lp_unsupported(h);
}

static CK_RV
verify_message(CK_SESSION_HANDLE h, CK_VOID_PTR p, CK_ULONG pl, CK_BYTE_PTR d, CK_ULONG dl,
	CK_BYTE_PTR sig, CK_ULONG sigl)
{
	(void)p, (void)pl, (void)d, (void)dl, (void)sig, (void)sigl;
	return lp_unsupported(h);
}

static struct lp_function_list_3_0 function_list_3_0 = {
	.C_GetInterfaceList = C_GetInterfaceList,
	.C_GetInterface = C_GetInterface,
	.C_LoginUser = login_user,
	.C_SessionCancel = lp_session_cancel,
	.C_MessageEncryptInit = message_init,
	.C_EncryptMessage = crypt_message,
	.C_EncryptMessageBegin = crypt_message_begin,
	.C_EncryptMessageNext = crypt_message_next,
	.C_MessageEncryptFinal = message_final,
	.C_MessageDecryptInit = message_init,
	.C_DecryptMessage = crypt_message,
	.C_DecryptMessageBegin = crypt_message_begin,
	.C_DecryptMessageNext = crypt_message_next,
	.C_MessageDecryptFinal = message_final,
	.C_MessageSignInit = message_init,
	.C_SignMessage = sign_message,
	.C_SignMessageBegin = message_begin,
	.C_SignMessageNext = sign_message,
	.C_MessageSignFinal = message_final,
	.C_MessageVerifyInit = message_init,
	.C_VerifyMessage = verify_message,
	.C_VerifyMessageBegin = message_begin,
	.C_VerifyMessageNext = verify_message,
	.C_MessageVerifyFinal = message_final,
};

/*
 * "PKCS 11" 3.0 first, the default (as p11-kit's proxy and OpenSC do:
 * p11-kit 0.25 and later load a module by C_GetInterface("PKCS 11", NULL),
 * older ones by C_GetFunctionList), then "PKCS 11" 2.40. Neither is fork
 * safe in the standard's sense: a child calls C_Initialize again.
 */
static lp_interface interfaces[] = {
	{(CK_UTF8CHAR_PTR) "PKCS 11", &function_list_3_0, 0},
	{(CK_UTF8CHAR_PTR) "PKCS 11", &function_list, 0},
};

static pthread_once_t interfaces_once = PTHREAD_ONCE_INIT;

/* The 3.0 list starts with the 2.40 functions, all but C_GetInfo's version. */
static void
interfaces_init(void)
{
	function_list_3_0.v2 = function_list;
	function_list_3_0.v2.version.major = 3;
	function_list_3_0.v2.version.minor = 0;
	function_list_3_0.v2.C_GetInfo = get_info_3_0;
}

LURK_EXPORT CK_RV
C_GetInterfaceList(lp_interface *list, CK_ULONG_PTR count)
{
	CK_RV rv;

	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_once(&interfaces_once, interfaces_init);
	if (lp_out_room(list, count, LURK_ARRAY_LEN(interfaces), &rv))
		memcpy(list, interfaces, sizeof(interfaces));
	return rv;
}

LURK_EXPORT CK_RV
C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION *version, lp_interface **out, CK_FLAGS flags)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_once(&interfaces_once, interfaces_init);
	for (size_t i = 0; i < LURK_ARRAY_LEN(interfaces); i++) {
		const CK_VERSION *v = interfaces[i].pFunctionList;
		if (name != NULL &&
			strcmp((const char *)name, (const char *)interfaces[i].pInterfaceName) != 0)
			continue;
		if (version != NULL && (version->major != v->major || version->minor != v->minor))
			continue;
		if ((flags & ~interfaces[i].flags) != 0)
			continue;
		*out = &interfaces[i];
		return CKR_OK;
	}
	return CKR_ARGUMENTS_BAD;
}

/* The exported symbols (hidden visibility and module/Makefile.am keep the rest in). */
LURK_EXPORT CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	*out = &function_list;
	return CKR_OK;
}
