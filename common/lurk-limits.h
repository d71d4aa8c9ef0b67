/*
 * Every size, cap and limit of the channel, the wire protocol, lurkd, the
 * client core and the PKCS#11 face in one place (as WireGuard's messages.h
 * does), so a reviewer can see them together. What lurkd accepts at load is derived from what the
 * wire carries, and checked when the configuration and its key files are
 * read (server/conf.c, server/keystore.c): a configuration that loads can be
 * served. The static asserts at the end hold the limits that must fit inside
 * others.
 */
#ifndef LURK_LURK_LIMITS_H
#define LURK_LURK_LIMITS_H

/* Noise (rev 34) with X25519, ChaChaPoly and BLAKE2b. */
enum {
	LURK_NOISE_KEY_LEN = 32,   /* X25519 public or private key */
	LURK_HASH_LEN = 64,        /* BLAKE2b-512 */
	LURK_HASH_BLOCK_LEN = 128, /* BLAKE2b block, for HMAC */
	LURK_AEAD_KEY_LEN = 32,
	LURK_AEAD_TAG_LEN = 16,
	LURK_NOISE_MAX_MSG = 65535,            /* Noise §3 */
	LURK_NOISE_MAX_PLAINTEXT = 65535 - 16, /* one transport message */
	LURK_FRAME_HDR_LEN = 2,                /* u16 big-endian length */
};

/* msg1 payload: u8 version, u8 flags, u16 reserved, TAI64N (12 bytes). */
enum {
	LURK_CHAN_VERSION = 1,
	LURK_MSG1_PAYLOAD_LEN = 16,
	LURK_MSG1_LEN = 32 + (32 + 16) + (16 + 16), /* e, enc(s), enc(payload) = 112 */
	LURK_MSG2_PAYLOAD_LEN = 0,
	LURK_MSG2_LEN = 32 + 16, /* e, enc(empty) = 48 */
};

/* Replay defence and session limits (defaults; the server may configure them). */
#define LURK_REPLAY_WINDOW_S      60u
#define LURK_REPLAY_CACHE_DEFAULT 65536u
#define LURK_SESSION_MAX_AGE_S    (30u * 60u)
#define LURK_SESSION_MAX_MESSAGES (1ull << 32)

/* Wire protocol. */
#define LURK_WIRE_VERSION        1u
#define LURK_WIRE_MAX_MSG        (1024u * 1024u) /* a reassembled message */
#define LURK_WIRE_MAX_KEY_ID     64u
#define LURK_WIRE_MAX_LABEL      255u
#define LURK_WIRE_MAX_DATA       (64u * 1024u) /* data to sign */
#define LURK_WIRE_MAX_CIPHERTEXT 1024u         /* RSA up to 8192 bits */
#define LURK_WIRE_MAX_SIGNATURE  1024u
#define LURK_WIRE_MAX_PUBKEY     4096u         /* DER SubjectPublicKeyInfo */
#define LURK_WIRE_MAX_CERT       (32u * 1024u) /* one DER certificate */
#define LURK_WIRE_MAX_CHAIN      16u           /* certificates per key */
#define LURK_WIRE_MAX_KEYS       256u          /* keys in one list response */
#define LURK_WIRE_MAX_MECHS      64u           /* mechanisms per key */
#define LURK_WIRE_MAX_REASON     255u          /* text in an error response */
#define LURK_WIRE_MAX_CONTEXT    255u          /* EdDSA context (RFC 8032) */
#define LURK_WIRE_HDR_LEN        6u            /* u8 version, u8 type, u32 id */
#define LURK_WIRE_FRAG_HDR_LEN   1u            /* u8 flags before each chunk */
#define LURK_WIRE_FRAG_MAX_CHUNK (LURK_NOISE_MAX_PLAINTEXT - LURK_WIRE_FRAG_HDR_LEN)

/*
 * lurkd.conf (server/conf.c). Every key is listed to a client that names it,
 * in one list response: the wire's caps are the configuration's.
 */
#define LURKD_MAX_KEYS     LURK_WIRE_MAX_KEYS  /* [key] sections */
#define LURKD_MAX_KEY_NAME LURK_WIRE_MAX_LABEL /* bytes: a key's name is its CKA_LABEL */
#define LURKD_KEY_ID_LEN   20u                 /* CKA_ID: SHA-256 of the SPKI, truncated */
#define LURKD_MAX_LISTEN   16u                 /* listen lines */
#define LURKD_MAX_CLIENTS  65536u              /* [client] sections */

/* Keys and chains as lurkd's key store loads them (server/keystore.c). */
#define LURK_TLS_KEY_MAX_CHAIN    LURK_WIRE_MAX_CHAIN  /* certificates, leaf first */
#define LURK_TLS_KEY_MAX_CERT     LURK_WIRE_MAX_CERT   /* bytes of one DER certificate */
#define LURK_TLS_KEY_MAX_PUBKEY   LURK_WIRE_MAX_PUBKEY /* bytes of the DER SPKI */
#define LURK_TLS_KEY_MAX_MECHS    16u                  /* mechanisms listed per key */
#define LURK_TLS_KEY_RSA_MIN_BITS 2048u
#define LURK_TLS_KEY_RSA_MAX_BITS 4096u
#define LURK_TLS_KEY_EC_MAX_BITS  521u /* P-521 */

/* Files and buffers (common/). */
#define LURK_BUF_SIZE_MAX (16u * 1024 * 1024) /* one lurk_buf */
#define LURK_INI_MAX_FILE (1024 * 1024)       /* lurkd.conf, the module's file */
#define LURK_INI_MAX_LINE 4096
#define LURK_KEYFILE_MAX  4096 /* a Noise static key file */
#define LURK_ADDR_UNIX_PATH_MAX                                                                    \
	108 /* sizeof(sockaddr_un.sun_path) on Linux: a path must be shorter */

/* lurkd's gates and privilege separation (server/). */
#define LURK_ACL_MAX_SOURCES     64        /* prefixes in one `sources` list */
#define LURK_RATELIMIT_MAX_RATE  10000000u /* operations per second */
#define LURK_RATELIMIT_MAX_BURST 10000000u
#define LURK_REPLAY_CACHE_MAX    (1u << 24)  /* replay-cache entries */
#define LURK_REPLAY_WINDOW_MAX   86400u      /* seconds */
#define LURKD_FILES_MAX_FILE     (16u << 20) /* one file the parent reads for the child */
#define LURKD_FILES_MAX_COUNT    8192u
#define LURKD_FILES_MAX_BUNDLE   (256u << 20) /* everything sent to the child at once */
#define LURKD_FILES_MAX_PATH     4096u

/* The client core's file: [module] defaults and [server] sections (client/). */
#define LC_MAX_SERVERS        16
#define LC_CONNECT_TIMEOUT_MS 3000
#define LC_IO_TIMEOUT_MS      5000 /* `timeout`: one call, start to end */
#define LC_IDLE_PER_SERVER    64
#define LC_LIST_RETRY_MS      1000 /* a failed key-list fetch is not tried again sooner */
/* Session age the client keeps to, a little under the server's default. */
#define LURK_CLIENT_MAX_AGE_S (LURK_SESSION_MAX_AGE_S - 60u)

/* The PKCS#11 face's [token] sections (module/). */
#define LP_MAX_TOKENS 16
#define LP_MAX_FILTER 32 /* key labels named in one [token] */

#define LURK_LIMIT_FITS(a, b, why) _Static_assert((a) <= (b), why)
LURK_LIMIT_FITS(LURK_WIRE_FRAG_MAX_CHUNK + LURK_WIRE_FRAG_HDR_LEN, LURK_NOISE_MAX_PLAINTEXT,
	"a fragment fits one transport message");
LURK_LIMIT_FITS(LURK_WIRE_MAX_DATA + 64, LURK_WIRE_MAX_MSG, "a sign request fits a message");
LURK_LIMIT_FITS((LURK_WIRE_MAX_CHAIN * (4 + LURK_WIRE_MAX_CERT)) + LURK_WIRE_MAX_PUBKEY + 1024,
	LURK_WIRE_MAX_MSG, "one key with its whole chain fits a list response");
LURK_LIMIT_FITS(LURK_WIRE_MAX_KEYS, 0xffffu, "the key count is a u16");
LURK_LIMIT_FITS(LURK_WIRE_MAX_LABEL, 0xffffu, "a label is a u16 string");
LURK_LIMIT_FITS(LURKD_KEY_ID_LEN, LURK_WIRE_MAX_KEY_ID, "lurkd's key ids fit the wire");
LURK_LIMIT_FITS(LURK_TLS_KEY_MAX_MECHS, LURK_WIRE_MAX_MECHS, "a key's mechanisms fit the wire");
LURK_LIMIT_FITS(LURK_TLS_KEY_RSA_MAX_BITS / 8, LURK_WIRE_MAX_SIGNATURE,
	"an RSA signature fits a sign response");
LURK_LIMIT_FITS(LURK_TLS_KEY_RSA_MAX_BITS / 8, LURK_WIRE_MAX_CIPHERTEXT,
	"an RSA ciphertext fits a decrypt request");
LURK_LIMIT_FITS(2 * ((LURK_TLS_KEY_EC_MAX_BITS + 7) / 8), LURK_WIRE_MAX_SIGNATURE,
	"an ECDSA signature (r||s) fits a sign response");
LURK_LIMIT_FITS(LURK_WIRE_MAX_REASON, LURK_WIRE_MAX_MSG, "an error response fits a message");

LURK_LIMIT_FITS(LURK_WIRE_MAX_MSG, LURK_BUF_SIZE_MAX, "a reassembled message fits one buffer");
LURK_LIMIT_FITS(
	LURK_INI_MAX_FILE, LURKD_FILES_MAX_FILE, "lurkd.conf fits what the parent hands over");
LURK_LIMIT_FITS(
	LURK_KEYFILE_MAX, LURKD_FILES_MAX_FILE, "a key file fits what the parent hands over");
LURK_LIMIT_FITS(LURK_CLIENT_MAX_AGE_S + 1, LURK_SESSION_MAX_AGE_S,
	"the client retires a session before lurkd's default age closes it");

#endif
