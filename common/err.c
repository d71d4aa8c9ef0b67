#include "config.h"

#include <stddef.h>

#include "err.h"
#include "compiler.h"

static const char *const err_names[] = {
	[0] = "success",
	[-LURK_ERR_INTERNAL] = "internal error",
	[-LURK_ERR_ALLOC] = "out of memory",
	[-LURK_ERR_INVALID_ARG] = "invalid argument",
	[-LURK_ERR_NO_SPACE] = "no buffer space",
	[-LURK_ERR_INCOMPLETE] = "message incomplete",
	[-LURK_ERR_TOO_LARGE] = "length over limit",
	[-LURK_ERR_TRAILING] = "unexpected trailing data",
	[-LURK_ERR_READONLY] = "buffer is read-only",
	[-LURK_ERR_EMBEDDED_NUL] = "embedded NUL in string",
	[-LURK_ERR_BAD_FORMAT] = "malformed message",
	[-LURK_ERR_BAD_VERSION] = "unsupported protocol version",
	[-LURK_ERR_UNKNOWN_OP] = "unknown operation",
	[-LURK_ERR_DECRYPT] = "decryption failed",
	[-LURK_ERR_DH] = "invalid Diffie-Hellman result",
	[-LURK_ERR_STATE] = "invalid state",
	[-LURK_ERR_UNKNOWN_PEER] = "unknown peer key",
	[-LURK_ERR_REPLAY] = "replayed handshake",
	[-LURK_ERR_STALE] = "handshake timestamp outside window",
	[-LURK_ERR_BUSY] = "table full",
	[-LURK_ERR_NONCE_EXHAUSTED] = "nonce space exhausted",
	[-LURK_ERR_SESSION_EXPIRED] = "session expired",
	[-LURK_ERR_IO] = "I/O error",
	[-LURK_ERR_EOF] = "connection closed by peer",
	[-LURK_ERR_TIMEOUT] = "timed out",
	[-LURK_ERR_AGAIN] = "operation would block",
	[-LURK_ERR_CONFIG] = "configuration error",
	[-LURK_ERR_KEY_FILE] = "bad key file",
	[-LURK_ERR_NOT_FOUND] = "not found",
	[-LURK_ERR_DENIED] = "access denied",
	[-LURK_ERR_POLICY] = "refused by usage policy",
	[-LURK_ERR_RATE_LIMIT] = "rate limit exceeded",
	[-LURK_ERR_MECHANISM] = "mechanism not supported",
	[-LURK_ERR_CRYPTO] = "cryptographic operation failed",
	[-LURK_ERR_PEER] = "error reported by peer",
	[-LURK_ERR_CLOSED] = "connection closed",
	[-LURK_ERR_SYSTEM] = "system error",
	[-LURK_ERR_SERVER_KEY] =
		"the server did not accept our handshake (wrong server public key?)",
	[-LURK_ERR_AUDIT] = "the audit log cannot be written",
	[-LURK_ERR_NO_KEY] = "no client key (PIN-protected key not opened)",
};

const char *
lurk_err_str(int r)
{
	if (r > 0 || r <= LURK_ERR_LAST)
		return "unknown error";
	if ((unsigned)-r >= LURK_ARRAY_LEN(err_names) || err_names[-r] == NULL)
		return "unknown error";
	return err_names[-r];
}
