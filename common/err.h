/*
 * One error space for all of lurk: 0 is success, every failure is a negative
 * LURK_ERR_* value. lurk_err_str() gives a short English description that is
 * safe to log (it never contains data).
 */
#ifndef LURK_ERR_H
#define LURK_ERR_H

enum lurk_err {
	LURK_OK = 0,
	LURK_ERR_INTERNAL = -1,      /* broken invariant: a bug */
	LURK_ERR_ALLOC = -2,         /* out of memory */
	LURK_ERR_INVALID_ARG = -3,   /* caller misuse */
	LURK_ERR_NO_SPACE = -4,      /* write would pass the buffer's cap */
	LURK_ERR_INCOMPLETE = -5,    /* input ends before the value does */
	LURK_ERR_TOO_LARGE = -6,     /* a length is over its cap */
	LURK_ERR_TRAILING = -7,      /* bytes left after the message */
	LURK_ERR_READONLY = -8,      /* write to a read-only view */
	LURK_ERR_EMBEDDED_NUL = -9,  /* NUL inside a string */
	LURK_ERR_BAD_FORMAT = -10,   /* malformed input */
	LURK_ERR_BAD_VERSION = -11,  /* unsupported protocol version */
	LURK_ERR_UNKNOWN_OP = -12,   /* unknown message type */
	LURK_ERR_DECRYPT = -13,      /* AEAD authentication failed */
	LURK_ERR_DH = -14,           /* X25519 gave an all-zero result */
	LURK_ERR_STATE = -15,        /* call not valid in this state */
	LURK_ERR_UNKNOWN_PEER = -16, /* client key not on the allow-list */
	LURK_ERR_REPLAY = -17,       /* msg1 ephemeral key already seen */
	LURK_ERR_STALE = -18,        /* msg1 timestamp outside the window */
	LURK_ERR_BUSY = -19,         /* a bounded table is full */
	LURK_ERR_NONCE_EXHAUSTED = -20,
	LURK_ERR_SESSION_EXPIRED = -21, /* session age or message limit reached */
	LURK_ERR_IO = -22,              /* read/write/connect failed (see errno) */
	LURK_ERR_EOF = -23,             /* peer closed the connection */
	LURK_ERR_TIMEOUT = -24,
	LURK_ERR_AGAIN = -25, /* would block: call again when ready */
	LURK_ERR_CONFIG = -26,
	LURK_ERR_KEY_FILE = -27,   /* key file unreadable, unsafe or malformed */
	LURK_ERR_NOT_FOUND = -28,  /* no such key or object */
	LURK_ERR_DENIED = -29,     /* client may not use this key */
	LURK_ERR_POLICY = -30,     /* usage policy refused the request */
	LURK_ERR_RATE_LIMIT = -31, /* rate limit exceeded */
	LURK_ERR_MECHANISM = -32,  /* mechanism not supported for this key */
	LURK_ERR_CRYPTO = -33,     /* signing or decryption failed */
	LURK_ERR_PEER = -34,       /* the peer sent an error response */
	LURK_ERR_CLOSED = -35,     /* connection closed by us (shutdown, revocation) */
	LURK_ERR_SYSTEM = -36,     /* other system call failure (see errno) */
	LURK_ERR_SERVER_KEY = -37, /* the server could not read our msg1: wrong server key */
	LURK_ERR_AUDIT = -38,      /* the audit log cannot be written */
	LURK_ERR_NO_KEY = -39,     /* no client key yet (a PIN-protected one not opened) */
	/* Keep LURK_ERR_LAST the most negative code. */
	LURK_ERR_LAST = -40,
};

const char *lurk_err_str(int r);

#endif
