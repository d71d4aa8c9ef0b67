/*
 * lurk-pkcs11.so: the function list and the general-purpose functions.
 *
 * Initialization follows what installed consumers do (research/
 * gnutls_pkcs11.md §2.1, §2.7): GnuTLS passes CKF_LIBRARY_CANT_CREATE_OS_THREADS
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

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "module.h"

struct lp_state lp = {.lock = PTHREAD_MUTEX_INITIALIZER};
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t
lp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

CK_RV
lp_check(void)
{
	return __atomic_load_n(&lp.initialized, __ATOMIC_ACQUIRE) ? CKR_OK
								  : CKR_CRYPTOKI_NOT_INITIALIZED;
}

static void
log_setup(void)
{
	const char *v = secure_getenv("LURK_PKCS11_LOG");
	int level = LURK_LOG_WARN;
	enum lurk_log_target target = LURK_LOG_STDERR;

	if (v == NULL)
		v = "";
	if (strcmp(v, "none") == 0)
		target = LURK_LOG_NONE;
	else if (strcmp(v, "error") == 0)
		level = LURK_LOG_ERROR;
	else if (strcmp(v, "info") == 0)
		level = LURK_LOG_INFO;
	else if (strcmp(v, "debug") == 0)
		level = LURK_LOG_DEBUG;
	lurk_log_init("lurk-pkcs11", target, level);
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
	lp_pool_forget(lp.pool);
	lp_sessions_after_fork();
	lp.pid = getpid();
}

CK_RV
C_Initialize(CK_VOID_PTR args)
{
	char err[1024];
	CK_RV rv;

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
	lp.unlocked = 0;
	lp.list_loaded = 0;
	lp.list_next_try_ms = 0;
	lp.conf_ok = 0;
	if (lp_conf_load(&lp.conf, lp_conf_path(), err, sizeof(err)) != 0) {
		lurk_error("%s; lurk shows no token until this is fixed", err);
	} else if (lp_pool_new(&lp.pool, &lp.conf) != 0) {
		lp_conf_clear(&lp.conf);
		rv = CKR_HOST_MEMORY;
		goto out;
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
	__atomic_store_n(&lp.initialized, 0, __ATOMIC_RELEASE);
	lp_sessions_close(LP_MAX_TOKENS);
	lp_pool_free(lp.pool);
	lp.pool = NULL;
	for (size_t i = 0; i < LP_MAX_TOKENS; i++)
		lp_token_clear(&lp.tokens[i]);
	lurk_wire_list_resp_clear(&lp.list);
	lp.list_loaded = 0;
	if (lp.conf_ok)
		lp_conf_clear(&lp.conf);
	lp.conf_ok = 0;
	pthread_mutex_unlock(&init_lock);
	return CKR_OK;
}

CK_RV
C_GetInfo(CK_INFO_PTR info)
{
	CK_RV rv;

	if ((rv = lp_check()) != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 40;
	lp_pad(info->manufacturerID, sizeof(info->manufacturerID), "lurk");
	lp_pad(info->libraryDescription, sizeof(info->libraryDescription),
		"lurk remote keys (lurkd)");
	info->libraryVersion.major = 0;
	info->libraryVersion.minor = 1;
	return CKR_OK;
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
 * PKCS#11 3.0 consumers (pkcs11-provider) ask for an interface by name: the
 * one we have is "PKCS 11" with the 2.40 function list. p11-kit 0.24's header
 * predates 3.0, so the structure is spelled out here as the standard has it.
 */
struct lp_interface {
	CK_UTF8CHAR *name;
	void *functions;
	CK_FLAGS flags;
};

static struct lp_interface interface = {(CK_UTF8CHAR *)"PKCS 11", &function_list, 0};

LURK_EXPORT CK_RV C_GetInterfaceList(struct lp_interface *list, CK_ULONG_PTR count);
LURK_EXPORT CK_RV C_GetInterface(
	CK_UTF8CHAR *name, CK_VERSION *version, struct lp_interface **out, CK_FLAGS flags);

LURK_EXPORT CK_RV
C_GetInterfaceList(struct lp_interface *list, CK_ULONG_PTR count)
{
	CK_RV rv;

	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	if (lp_out_room(list, count, 1, &rv))
		list[0] = interface;
	return rv;
}

LURK_EXPORT CK_RV
C_GetInterface(CK_UTF8CHAR *name, CK_VERSION *version, struct lp_interface **out, CK_FLAGS flags)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((name != NULL && strcmp((const char *)name, "PKCS 11") != 0) ||
		(version != NULL && (version->major != 2 || version->minor != 40)) ||
		(flags & ~interface.flags) != 0)
		return CKR_ARGUMENTS_BAD;
	*out = &interface;
	return CKR_OK;
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
