/*
 * Everything a key-server token does not do. Each answers as the standard
 * says for an unsupported function, after the checks every function makes
 * (initialized, a valid session), so conformance suites see consistent
 * return values. Encryption with a private key (libp11's fallback for a
 * refused sign, docs/consumers.md) and recovery signatures are
 * deliberately absent. The PKCS#11 3.0 functions that are not supported
 * (p11.c) answer through lp_unsupported as well.
 */
#include "config.h"

#include "module.h"

CK_RV
lp_unsupported(CK_SESSION_HANDLE h)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	lp_session_put(s);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG_PTR len)
{
	(void)state, (void)len;
	return lp_unsupported(h);
}

CK_RV
C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG len, CK_OBJECT_HANDLE ek,
	CK_OBJECT_HANDLE ak)
{
	(void)state, (void)len, (void)ek, (void)ak;
	return lp_unsupported(h);
}

CK_RV
C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)m, (void)k;
	return lp_unsupported(h);
}

CK_RV
C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m)
{
	(void)m;
	return lp_unsupported(h);
}

CK_RV
C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl)
{
	(void)d, (void)dl;
	return lp_unsupported(h);
}

CK_RV
C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k)
{
	(void)k;
	return lp_unsupported(h);
}

CK_RV
C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)m, (void)k;
	return lp_unsupported(h);
}

CK_RV
C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)m, (void)k;
	return lp_unsupported(h);
}

CK_RV
C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR s, CK_ULONG sl)
{
	(void)d, (void)dl, (void)s, (void)sl;
	return lp_unsupported(h);
}

CK_RV
C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl)
{
	(void)d, (void)dl;
	return lp_unsupported(h);
}

CK_RV
C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG sl)
{
	(void)s, (void)sl;
	return lp_unsupported(h);
}

CK_RV
C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)m, (void)k;
	return lp_unsupported(h);
}

CK_RV
C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG sl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)s, (void)sl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_DigestEncryptUpdate(
	CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_DecryptDigestUpdate(
	CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_DecryptVerifyUpdate(
	CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)d, (void)dl, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE wk, CK_OBJECT_HANDLE k,
	CK_BYTE_PTR o, CK_ULONG_PTR ol)
{
	(void)m, (void)wk, (void)k, (void)o, (void)ol;
	return lp_unsupported(h);
}

CK_RV
C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE uk, CK_BYTE_PTR w,
	CK_ULONG wl, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
	(void)m, (void)uk, (void)w, (void)wl, (void)t, (void)n, (void)k;
	return lp_unsupported(h);
}

CK_RV
C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE bk, CK_ATTRIBUTE_PTR t,
	CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
	(void)m, (void)bk, (void)t, (void)n, (void)k;
	return lp_unsupported(h);
}

/*
 * The token has no RNG (no CKF_RNG): PKCS#11 names that CKR_RANDOM_NO_RNG,
 * after the session and the arguments are checked.
 */
static CK_RV
no_rng(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl)
{
	CK_RV rv = lp_unsupported(h);

	if (rv != CKR_FUNCTION_NOT_SUPPORTED)
		return rv;
	return d == NULL && dl > 0 ? CKR_ARGUMENTS_BAD : CKR_RANDOM_NO_RNG;
}

CK_RV
C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl)
{
	return no_rng(h, d, dl);
}

CK_RV
C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl)
{
	return no_rng(h, d, dl);
}
