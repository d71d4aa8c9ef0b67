/*
 * Slots and tokens: one slot with one token per [token] of the module's file
 * (one "lurk" token by default), always present, with a stable label and a
 * serial derived from the label and the key server's key so pkcs11: URIs
 * keep matching. The key list is the client core's (client/keys.c: fetched
 * from the key server on first need and kept); the tokens are built from it
 * once. Token and slot information never needs the network, so listing
 * tokens works (and is fast) with the key server down.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client/core.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "tls.h"

/*
 * The core's pool holds the client key (the plain one from the start, a
 * PIN-protected one once C_Login opened it): the module keeps no copy of
 * that state, which could say logged out while the pool still signs.
 */
CK_RV
lp_key_ready(void)
{
	return lp.core != NULL && lc_core_key_ready(lp.core) ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
}

int
lp_pin_protected(void)
{
	return lp.core != NULL && lc_core_conf(lp.core)->pin_protected;
}

CK_RV
lp_slot_token(CK_SLOT_ID slot, size_t *tok)
{
	if (!lp.conf_ok || slot >= lp.conf.ntokens)
		return CKR_SLOT_ID_INVALID;
	*tok = (size_t)slot;
	return CKR_OK;
}

CK_RV
lp_load_list(void)
{
	const struct lurk_wire_list_resp *list;
	struct lp_token tokens[LP_MAX_TOKENS];
	int r;

	pthread_mutex_lock(&lp.lock);
	if (lp.list_loaded) {
		pthread_mutex_unlock(&lp.lock);
		return CKR_OK;
	}
	pthread_mutex_unlock(&lp.lock);
	/* Nothing can be fetched before C_Login opens a PIN-protected client key. */
	if (lp_key_ready() != CKR_OK)
		return CKR_USER_NOT_LOGGED_IN;

	/* The core fetches the list once, without any lock held, and keeps it. */
	if ((r = lc_core_keys(lp.core, &list)) != 0)
		return lp_rv(r);
	memset(tokens, 0, sizeof(tokens));
	for (size_t i = 0; i < lp.conf.ntokens; i++)
		if (lp_token_build(&tokens[i], &lp.conf.tokens[i], list, lp_pin_protected()) != 0) {
			for (size_t j = 0; j < i; j++)
				lp_token_clear(&tokens[j]);
			return CKR_HOST_MEMORY;
		}
	pthread_mutex_lock(&lp.lock);
	if (!lp.list_loaded) {
		memcpy(lp.tokens, tokens, sizeof(tokens));
		lp.list_loaded = 1;
		memset(tokens, 0, sizeof(tokens));
		for (size_t i = 0; i < lp.conf.ntokens; i++)
			if (lp.tokens[i].nobjs == 0)
				lurk_warn("token '%s': the key server gives this client no key for "
					  "it",
					lp.conf.tokens[i].label);
	}
	pthread_mutex_unlock(&lp.lock);
	/* Lost the race: drop our copy of the tokens. */
	for (size_t i = 0; i < LP_MAX_TOKENS; i++)
		lp_token_clear(&tokens[i]);
	return CKR_OK;
}

static CK_RV
counted_get_slot_list(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	size_t n;
	CK_RV rv = CKR_OK;

	(void)present;
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	n = lp.conf_ok ? lp.conf.ntokens : 0;
	if (lp_out_room(list, count, n, &rv))
		for (size_t i = 0; i < n; i++)
			list[i] = i;
	return rv;
}

CK_RV
C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv;

	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	rv = counted_get_slot_list(present, list, count);
	lp_leave();
	return rv;
}

static CK_RV
counted_get_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	char desc[128];
	size_t tok;
	CK_RV rv = CKR_OK;

	if ((rv = lp_slot_token(slot, &tok)) != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	snprintf(desc, sizeof(desc), "lurk remote keys: %s", lp.conf.tokens[tok].label);
	lp_pad(info->slotDescription, sizeof(info->slotDescription), desc);
	lp_pad(info->manufacturerID, sizeof(info->manufacturerID), "lurk");
	info->flags = CKF_TOKEN_PRESENT;
	info->hardwareVersion.major = 0;
	info->hardwareVersion.minor = 1;
	info->firmwareVersion = info->hardwareVersion;
	return CKR_OK;
}

CK_RV
C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	CK_RV rv;

	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	rv = counted_get_slot_info(slot, info);
	lp_leave();
	return rv;
}

static CK_RV
counted_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	uint8_t digest[8];
	char serial[17];
	crypto_generichash_state st;
	const struct lp_token_conf *tc;
	size_t tok;
	CK_RV rv = CKR_OK;

	if ((rv = lp_slot_token(slot, &tok)) != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	tc = &lp.conf.tokens[tok];
	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	crypto_generichash_update(&st, (const uint8_t *)tc->label, strlen(tc->label));
	crypto_generichash_update(&st, lc_core_conf(lp.core)->servers[0].pk, LURK_NOISE_KEY_LEN);
	crypto_generichash_final(&st, digest, sizeof(digest));
	sodium_bin2hex(serial, sizeof(serial), digest, sizeof(digest));

	memset(info, 0, sizeof(*info));
	lp_pad(info->label, sizeof(info->label), tc->label);
	lp_pad(info->manufacturerID, sizeof(info->manufacturerID), "lurk");
	lp_pad(info->model, sizeof(info->model), "remote key");
	lp_pad(info->serialNumber, sizeof(info->serialNumber), serial);
	/*
	 * A PIN exists only for a PIN-protected client key. Otherwise lurkd
	 * authenticates this host by its client key, outside the library: that is
	 * a protected authentication path (a C_Login without a PIN), so GnuTLS
	 * (--login) and pkcs11-tool (--login) never ask for a PIN that does not
	 * exist, and the login they make anyway succeeds.
	 */
	info->flags = CKF_TOKEN_INITIALIZED | CKF_WRITE_PROTECTED;
	if (lp_pin_protected())
		info->flags |= CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
	else
		info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
	info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulSessionCount = CK_UNAVAILABLE_INFORMATION;
	info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulRwSessionCount = CK_UNAVAILABLE_INFORMATION;
	info->ulMaxPinLen = 255;
	info->ulMinPinLen = 0;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.minor = 1;
	info->firmwareVersion.minor = 1;
	return CKR_OK;
}

CK_RV
C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv;

	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	rv = counted_get_token_info(slot, info);
	lp_leave();
	return rv;
}

/*
 * What the module can serve for each key type lurkd holds (the mechanisms
 * lurkd lists for such a key, README: RSA 2048-4096, P-256/384/521, Ed25519
 * and Ed448). Before C_Login opens a PIN-protected client key the key list
 * cannot be fetched (nothing is sent before it), so the mechanism functions,
 * which take no session and need no login, answer with what the token's key
 * types could ever offer; once the list is known, with what its keys offer.
 */
#define EC_FLAGS (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)

static const struct {
	CK_MECHANISM_TYPE mech;
	enum lurk_key_type type;
	CK_ULONG min_bits, max_bits;
	CK_FLAGS flags;
} possible[] = {
	{CKM_RSA_PKCS, LURK_KEY_RSA, 2048, 4096, CKF_HW | CKF_SIGN | CKF_DECRYPT},
	{CKM_RSA_PKCS_PSS, LURK_KEY_RSA, 2048, 4096, CKF_HW | CKF_SIGN},
	{CKM_SHA256_RSA_PKCS, LURK_KEY_RSA, 2048, 4096, CKF_HW | CKF_SIGN},
	{CKM_SHA384_RSA_PKCS, LURK_KEY_RSA, 2048, 4096, CKF_HW | CKF_SIGN},
	{CKM_SHA512_RSA_PKCS, LURK_KEY_RSA, 2048, 4096, CKF_HW | CKF_SIGN},
	{CKM_SHA256_RSA_PKCS_PSS, LURK_KEY_RSA, 2048, 4096, CKF_HW | CKF_SIGN},
	{CKM_SHA384_RSA_PKCS_PSS, LURK_KEY_RSA, 2048, 4096, CKF_HW | CKF_SIGN},
	{CKM_SHA512_RSA_PKCS_PSS, LURK_KEY_RSA, 2048, 4096, CKF_HW | CKF_SIGN},
	{CKM_ECDSA, LURK_KEY_EC, 256, 521, CKF_HW | CKF_SIGN | EC_FLAGS},
	{CKM_ECDSA_SHA256, LURK_KEY_EC, 256, 521, CKF_HW | CKF_SIGN | EC_FLAGS},
	{CKM_ECDSA_SHA384, LURK_KEY_EC, 256, 521, CKF_HW | CKF_SIGN | EC_FLAGS},
	{CKM_ECDSA_SHA512, LURK_KEY_EC, 256, 521, CKF_HW | CKF_SIGN | EC_FLAGS},
	{CKM_EDDSA, LURK_KEY_ED25519, 255, 255, CKF_HW | CKF_SIGN},
	{CKM_EDDSA, LURK_KEY_ED448, 448, 448, CKF_HW | CKF_SIGN},
};

static int
token_may_have(size_t tok, enum lurk_key_type type)
{
	unsigned types = lp.conf.tokens[tok].types;

	return types == 0 || (types & (1u << type)) != 0;
}

/* The mechanisms the token's key types could offer, each once. */
static size_t
possible_mechs(size_t tok, CK_MECHANISM_TYPE *out, size_t max)
{
	size_t n = 0, j;

	for (size_t i = 0; i < LURK_ARRAY_LEN(possible); i++) {
		if (!token_may_have(tok, possible[i].type))
			continue;
		for (j = 0; j < n && out[j] != possible[i].mech; j++)
			;
		if (j == n && n < max)
			out[n++] = possible[i].mech;
	}
	return n;
}

static CK_RV
possible_info(size_t tok, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	int found = 0;

	for (size_t i = 0; i < LURK_ARRAY_LEN(possible); i++) {
		if (possible[i].mech != type || !token_may_have(tok, possible[i].type))
			continue;
		if (!found || possible[i].min_bits < info->ulMinKeySize)
			info->ulMinKeySize = possible[i].min_bits;
		if (possible[i].max_bits > info->ulMaxKeySize)
			info->ulMaxKeySize = possible[i].max_bits;
		info->flags |= possible[i].flags;
		found = 1;
	}
	return found ? CKR_OK : CKR_MECHANISM_INVALID;
}

static CK_RV
counted_get_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	CK_MECHANISM_TYPE mechs[LURK_ARRAY_LEN(possible)];
	const CK_MECHANISM_TYPE *from;
	size_t tok, n;
	CK_RV rv = CKR_OK;

	if ((rv = lp_slot_token(slot, &tok)) != CKR_OK)
		return rv;
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = lp_load_list();
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		n = possible_mechs(tok, mechs, LURK_ARRAY_LEN(mechs));
		from = mechs;
	} else if (rv != CKR_OK) {
		return rv;
	} else {
		n = lp.tokens[tok].nmechs;
		from = lp.tokens[tok].mechs;
	}
	if (lp_out_room(list, count, n, &rv))
		for (size_t i = 0; i < n; i++)
			list[i] = from[i];
	return rv;
}

CK_RV
C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv;

	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	rv = counted_get_mechanism_list(slot, list, count);
	lp_leave();
	return rv;
}

static CK_RV
counted_get_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	int found = 0;
	size_t tok;
	CK_RV rv = CKR_OK;

	if ((rv = lp_slot_token(slot, &tok)) != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = lp_load_list();
	if (rv != CKR_OK && rv != CKR_USER_NOT_LOGGED_IN)
		return rv;
	memset(info, 0, sizeof(*info));
	if (rv == CKR_USER_NOT_LOGGED_IN)
		return possible_info(tok, type, info);
	for (size_t i = 0; i < lp.tokens[tok].nobjs; i++) {
		const struct lp_object *o = &lp.tokens[tok].objs[i];
		const struct lurk_wire_key *k = o->key;
		CK_ULONG bits = k->bits;
		if (o->klass != CKO_PRIVATE_KEY || !lp_key_has_mech(k, type))
			continue;
		if (!found || bits < info->ulMinKeySize)
			info->ulMinKeySize = bits;
		if (bits > info->ulMaxKeySize)
			info->ulMaxKeySize = bits;
		found = 1;
		info->flags |= CKF_HW | CKF_SIGN;
		if (type == CKM_RSA_PKCS && (k->flags & LURK_WIRE_KEY_DECRYPT))
			info->flags |= CKF_DECRYPT;
		if (k->type == LURK_KEY_EC)
			info->flags |= EC_FLAGS;
	}
	return found ? CKR_OK : CKR_MECHANISM_INVALID;
}

CK_RV
C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	CK_RV rv;

	if ((rv = lp_enter()) != CKR_OK)
		return rv;
	rv = counted_get_mechanism_info(slot, type, info);
	lp_leave();
	return rv;
}

CK_RV
C_InitToken(CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG len, CK_UTF8CHAR_PTR label)
{
	size_t tok;
	CK_RV rv;

	(void)pin, (void)len, (void)label;
	if ((rv = lp_check()) != CKR_OK || (rv = lp_slot_token(slot, &tok)) != CKR_OK)
		return rv;
	return CKR_TOKEN_WRITE_PROTECTED;
}

/*
 * Login. With a plain client key the token needs none (the Noise key is what
 * lurkd authenticates): it has no PIN (no CKF_USER_PIN_INITIALIZED) but a
 * protected authentication path, and a user login with no PIN, or with any
 * PIN a tool sends anyway, succeeds. With a PIN-protected key (lurk-admin
 * genkey --pin-file) the token sets CKF_LOGIN_REQUIRED and C_Login opens the
 * key; nothing reaches lurkd before that. A security officer has nothing to
 * do on a write-protected token.
 */
static CK_RV
unlock(CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	uint8_t sk[LURK_NOISE_KEY_LEN];
	CK_RV rv = CKR_OK;
	int r;

	if (pin == NULL || len == 0 || len > 255)
		return CKR_PIN_INCORRECT;
	/* Argon2id takes a while: not under the lock. */
	if ((r = lc_core_open_key(lp.core, (const char *)pin, len, sk)) == LURK_ERR_DECRYPT) {
		lurk_warn("C_Login: wrong PIN for the client key");
		return CKR_PIN_INCORRECT;
	} else if (r != 0) {
		/* Out of memory for Argon2id is not a wrong PIN (lp_rv: CKR_HOST_MEMORY). */
		lurk_error_r(r, "C_Login: the client key could not be opened");
		return lp_rv(r);
	}
	/* lp.lock orders the logins and logouts: the key's state cannot change between. */
	pthread_mutex_lock(&lp.lock);
	if (lp_key_ready() == CKR_OK) {
		rv = CKR_USER_ALREADY_LOGGED_IN;
	} else if (lc_core_set_key(lp.core, sk) != 0) {
		rv = CKR_HOST_MEMORY;
	} else {
		for (size_t i = 0; i < LP_MAX_TOKENS; i++)
			lp.logged_in[i] = 1;
	}
	pthread_mutex_unlock(&lp.lock);
	sodium_memzero(sk, sizeof(sk));
	return rv;
}

CK_RV
C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE type, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	struct lp_session *s;
	CK_RV rv;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	if (type == CKU_SO) {
		rv = CKR_PIN_INCORRECT;
	} else if (type != CKU_USER && type != CKU_CONTEXT_SPECIFIC) {
		rv = CKR_USER_TYPE_INVALID;
	} else if (lp_pin_protected() && type == CKU_USER && lp_key_ready() != CKR_OK) {
		rv = unlock(pin, len);
	} else {
		pthread_mutex_lock(&lp.lock);
		if (type == CKU_USER && lp.logged_in[s->tok])
			rv = CKR_USER_ALREADY_LOGGED_IN;
		else
			lp.logged_in[s->tok] = 1;
		pthread_mutex_unlock(&lp.lock);
	}
	lp_session_put(s);
	return rv;
}

CK_RV
C_Logout(CK_SESSION_HANDLE h)
{
	struct lp_session *s;
	CK_RV rv;
	int r;

	if ((rv = lp_session_get(h, &s)) != CKR_OK)
		return rv;
	pthread_mutex_lock(&lp.lock);
	if (lp_pin_protected() && lp_key_ready() == CKR_OK) {
		/*
		 * The key is closed again: every token is logged out, and every
		 * connection it opened is closed (those in use when they end).
		 * If it cannot be, it is still open and still signs: nothing
		 * is logged out, and the caller is told.
		 */
		if ((r = lc_core_set_key(lp.core, NULL)) != 0) {
			lurk_error("C_Logout: the client key's memory could not be made writable "
				   "to wipe it; it stays open");
			rv = lp_rv(r);
		} else {
			if (!lp.logged_in[s->tok])
				rv = CKR_USER_NOT_LOGGED_IN;
			memset(lp.logged_in, 0, sizeof(lp.logged_in));
		}
	} else {
		if (!lp.logged_in[s->tok])
			rv = CKR_USER_NOT_LOGGED_IN;
		lp.logged_in[s->tok] = 0;
	}
	pthread_mutex_unlock(&lp.lock);
	lp_session_put(s);
	return rv;
}
