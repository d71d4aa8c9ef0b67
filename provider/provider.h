/*
 * lurk-provider.so: the OpenSSL 3 face of lurk over the client core
 * (docs/provider.md). OpenSSL programs load a key file with the PEM label
 * "LURK KEY" (decoder.c); the key it names is lurkd's (keymgmt.c), and
 * libssl's signatures reach lurkd with the whole signed content
 * (signature.c), RSA key-exchange decryptions too (cipher.c). Programs that
 * take URIs reach the same keys through OSSL_STORE as "lurk:NAME" (store.c).
 *
 * Like the module, the provider runs inside other people's processes: it
 * creates no thread, never exits, prints nothing to stdout; errors go to
 * OpenSSL's error queue.
 */
#ifndef LURK_PROVIDER_H
#define LURK_PROVIDER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/core.h>
#include <openssl/evp.h>

#include "lurk-limits.h"
#include "tls.h"
#include "wire.h"

/* The provider's limits, beside lurk-limits.h's. */
#define LPROV_MAX_TBS        LURK_WIRE_MAX_DATA /* bytes one digest-sign collects */
#define LPROV_MAX_KEY_BODY   12288u             /* decoded body of a LURK KEY block */
#define LPROV_MAX_CONF_PATH  4095u              /* lc_conf's path, less its NUL */
#define LPROV_MAX_CORES      64u                /* configuration files per process */
#define LPROV_PEM_LABEL      "LURK KEY"
#define LPROV_STRUCTURE      "lurk"
#define LPROV_PROPS          "provider=lurk"
#define LPROV_KEY_FILE_MAGIC "lurk-key 1"
#define LPROV_STORE_SCHEME   "lurk"        /* lurk:NAME[?config=PATH] (store.c) */
#define LPROV_CONF_PARAM     "lurk-config" /* openssl.cnf: the URI's default configuration */

/* Reasons on OpenSSL's error queue (provider.c has their strings). */
enum lprov_reason {
	LPROV_R_KEY_FILE = 1,     /* the LURK KEY body is malformed */
	LPROV_R_CONFIG = 2,       /* the client configuration cannot be used */
	LPROV_R_NO_KEY = 3,       /* lurkd does not serve the key the file names */
	LPROV_R_KEY_CHANGED = 4,  /* lurkd's public key is not the file's */
	LPROV_R_REFUSED = 5,      /* lurkd refused (its reason follows) */
	LPROV_R_UNREACHABLE = 6,  /* no answer from any lurkd */
	LPROV_R_DIGEST = 7,       /* a digest lurk does not sign with */
	LPROV_R_PARAM = 8,        /* a parameter lurk cannot honour */
	LPROV_R_TOO_LARGE = 9,    /* more content than one request carries */
	LPROV_R_BUFFER = 10,      /* the caller's buffer is too small */
	LPROV_R_NOT_PRIVATE = 11, /* a public key only: nothing to sign with */
	LPROV_R_INTERNAL = 12,
	LPROV_R_URI = 13, /* a lurk: URI this provider does not accept */
};

/* One client configuration file and its core, shared by the keys naming it. */
struct lprov_core {
	char path[LPROV_MAX_CONF_PATH + 1];
	struct lc_core *core;
	pid_t pid; /* the process whose connections the core holds */
	struct lprov_core *next;
};

/* The provider's context (one per OSSL_LIB_CTX that loads it). */
struct lprov_ctx {
	const OSSL_CORE_HANDLE *handle;
	OSSL_LIB_CTX *libctx; /* the core's, for core BIOs */
	OSSL_LIB_CTX *pubctx; /* our own, default provider: public-key work */
	pthread_mutex_t lock; /* the list of cores; memory work only */
	struct lprov_core *cores;
	size_t ncores;
	/*
	 * The configuration of a lurk: URI without ?config=, from the provider's
	 * openssl.cnf section (LPROV_CONF_PARAM), read at init; "" when unset.
	 * default_conf_bad: set, but not an absolute path of at most
	 * LPROV_MAX_CONF_PATH printable bytes (said when a URI needs it).
	 */
	char default_conf[LPROV_MAX_CONF_PATH + 1];
	int default_conf_bad;
};

/*
 * A key. Loaded from a LURK KEY file: lurkd holds the private part, core
 * and label say where. Imported (a certificate's key, for a match): the
 * public part only. Immutable once made: one key serves every thread.
 */
struct lprov_key {
	struct lprov_ctx *pc;
	enum lurk_key_type type;
	EVP_PKEY *pub;           /* in pc->pubctx */
	struct lprov_core *core; /* NULL: a public key only */
	char label[LURK_WIRE_MAX_LABEL + 1];
	uint8_t *spki; /* DER, as the file gave it */
	size_t spki_len;
};

/* provider.c */
/* Forgets lurk's last logged line in this thread (before a call whose failure is raised). */
void lprov_log_mark(void);
void lprov_raise(struct lprov_ctx *pc, int reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A client core error r (LURK_ERR_*): the reason it maps to, with lurk's last log line. */
void lprov_raise_lurk(struct lprov_ctx *pc, int r, const char *what, const char *label);
/* The core for path, made on first use (reads the file, no network); NULL: raised. */
struct lprov_core *lprov_core_get(struct lprov_ctx *pc, const char *path);
/* The core, ready for this process: after a fork, the parent's connections are dropped. */
struct lc_core *lprov_core_use(struct lprov_ctx *pc, struct lprov_core *c);
/* The key list entry for k, its public key checked against the file's; NULL: raised. */
const struct lurk_wire_key *lprov_key_remote(struct lprov_key *k);
/* The hash an OpenSSL digest name stands for (SHA-256/384/512 only); NULL if none. */
const struct lurk_hash_info *lprov_hash_by_name(struct lprov_ctx *pc, const char *name);

/* keymgmt.c */
const char *lprov_key_type_name(enum lurk_key_type t); /* "RSA", "EC", "ED25519" */
/* A key lurkd holds, from a parsed key file; NULL: raised. Takes nothing. */
struct lprov_key *lprov_key_new_remote(struct lprov_ctx *pc, EVP_PKEY *pub, struct lprov_core *core,
	const char *label, const uint8_t *spki, size_t spki_len);
void lprov_key_free(struct lprov_key *k);
/* The type of a public key lurk serves (RSA, EC P-256/384/521, Ed25519), or 0. */
enum lurk_key_type lprov_pkey_type(const EVP_PKEY *pub);

extern const OSSL_DISPATCH lprov_rsa_keymgmt[], lprov_ec_keymgmt[], lprov_ed25519_keymgmt[];
extern const OSSL_DISPATCH lprov_rsa_signature[], lprov_ecdsa_signature[],
	lprov_ed25519_signature[];
extern const OSSL_DISPATCH lprov_rsa_cipher[];
extern const OSSL_DISPATCH lprov_pem_decoder[], lprov_rsa_decoder[], lprov_ec_decoder[],
	lprov_ed25519_decoder[];
extern const OSSL_DISPATCH lprov_store[];

/* store.c */
/* 1 if s (NUL-ended) is an absolute path of at most LPROV_MAX_CONF_PATH printable ASCII bytes. */
int lprov_conf_path_ok(const char *s);

#endif
