/*
 * lurkd.conf: listen addresses, the server's Noise key, keys and clients.
 *
 *   [server]
 *   listen = unix:/run/lurk/lurkd.sock      (several listen lines allowed)
 *   listen = tcp:127.0.0.1:7443
 *   listen = tcp:[::1]:7443
 *   static-key = /etc/lurk/server.key
 *   audit-log = /var/log/lurk/audit.log     (or "syslog", or "none")
 *   user = lurk                             (serve as this user; see main.c)
 *   audit-sync = no                         (yes: fdatasync each audit batch)
 *   workers = 2                             (event-loop threads; default: cores)
 *   socket-mode = 0660
 *   handshake-timeout = 10                  (seconds for the handshake and first request)
 *   idle-timeout = 1800                     (seconds without a request; then closed)
 *   frame-timeout = 10                      (seconds for a started frame to complete)
 *   max-connections = 20000
 *   max-connections-per-source = 1024       (per IPv4 address, IPv6 /64, or unix peer uid)
 *   max-connections-per-client = 1024       (per client key, once its handshake completes)
 *   frame-memory = 32                       (MB held in partly received requests, all told)
 *
 *   [key www]
 *   source = /etc/lurk/keys/www.pem         (PEM, or a pkcs11: URI)
 *   password-file = /etc/lurk/keys/www.pass (optional)
 *   chain = /etc/lurk/keys/www-chain.pem    (leaf first)
 *   use = server                            (server, client, or both)
 *   tls-versions = 1.2 1.3
 *   require-content = no
 *   rsa-decrypt = no
 *
 *   rate-limit = 1000                       (operations per second on this key; optional)
 *   rate-burst = 200                        (default: rate-limit)
 *
 *   [key split]                             (one server's share of a split key, issue 18)
 *   share = /etc/lurk/keys/split.share      (instead of source: lurk-admin split output;
 *                                            no chain, password-file or rsa-decrypt)
 *
 *   [client edge1]
 *   public-key = <base64 from lurk-admin genkey>
 *   keys = www api
 *   rate-limit = 500                        (operations per second; optional)
 *   rate-burst = 100
 *   not-before = 2026-11-01T00:00:00Z       (validity window, UTC; optional)
 *   not-after = 2027-11-01T00:00:00Z
 *   sources = 192.0.2.0/24 2001:db8::/32    (TCP clients only; optional)
 *   require-content = no                    (yes: its hash-only requests are refused)
 *
 * A configuration is immutable once loaded and shared by reference between
 * the event-loop threads; SIGHUP loads a new one and swaps it in.
 */
#ifndef LURKD_CONF_H
#define LURKD_CONF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h"
#include "policy.h"
#include "acl.h"
#include "ratelimit.h"

struct lurk_tls_key;
struct lurk_share;
struct lurkd_mpair;

/* LURKD_MAX_KEYS, LURKD_MAX_KEY_NAME and the others are in lurk-limits.h. */

enum lurkd_listen_kind {
	LURKD_LISTEN_TCP = 1,
	LURKD_LISTEN_UNIX = 2,
};

struct lurkd_listen {
	enum lurkd_listen_kind kind;
	char *host; /* TCP: numeric address */
	char *port;
	char *path; /* unix socket path */
	unsigned line;
};

struct lurkd_key_conf {
	char *name;
	char *source;
	char *password_file;
	char *chain;
	unsigned line;
	struct lurk_policy policy;
	struct lurk_tls_key *key; /* NULL until loaded, and for a share */
	char *share_path;         /* share = (instead of source) */
	struct lurk_share *share; /* share-file.h: loaded share (Ed25519 or RSA), or NULL */
	uint8_t id[LURKD_KEY_ID_LEN];
	uint8_t implicit_secret[32]; /* RSA decryption: implicit rejection (implicit.h) */
	uint32_t rate, burst;        /* rate-limit, rate-burst; 0 = unlimited */
	struct lurk_ratelimit rl;    /* shared by the workers; has its own lock */
	int rl_ready;
};

struct lurkd_client {
	char *name;
	uint8_t pk[LURK_NOISE_KEY_LEN];
	char fingerprint[17];
	unsigned line;
	char *keys_text;
	unsigned keys_line;
	struct lurkd_key_conf **keys;
	size_t nkeys;
	struct lurk_acl acl;      /* not-before, not-after, sources */
	int require_content;      /* refuse its hash-only requests, whatever the key */
	uint32_t rate, burst;     /* rate-limit, rate-burst; 0 = unlimited */
	struct lurk_ratelimit rl; /* shared by the workers; has its own lock */
	int rl_ready;
	struct lurkd_mpair **mpairs; /* metrics.h: one per key, then "no such key"; or NULL */
};

struct lurkd_config {
	atomic_int refs;
	char *path;
	struct lurkd_listen listen[LURKD_MAX_LISTEN];
	size_t nlisten;
	char *static_key_path;
	unsigned static_key_line;
	uint8_t *sk; /* sodium_malloc'd, 32 bytes */
	uint8_t pk[LURK_NOISE_KEY_LEN];
	char *audit_log; /* path, "syslog", or NULL for none */
	char *user;
	unsigned user_line;
	int audit_sync; /* fdatasync the audit log after each batch */
	unsigned workers;
	unsigned socket_mode;
	unsigned replay_window_s;
	unsigned replay_cache;
	unsigned session_max_age_s;
	unsigned handshake_timeout_s; /* handshake and first request */
	unsigned idle_timeout_s;      /* an authenticated connection with no request is closed */
	unsigned frame_timeout_s; /* a request (frame or fragments) must complete this long after
				     its first byte */
	unsigned max_connections;
	unsigned max_connections_line; /* 0: the default */
	unsigned max_per_source;       /* connections from one source (counts.h) */
	unsigned max_per_client;       /* connections of one client key */
	size_t frame_memory;           /* bytes held in partly received requests, all connections */
	struct lurkd_key_conf *keys;
	size_t nkeys;
	struct lurkd_client *clients;
	size_t nclients;
	uint64_t generation;
	struct lurkd_listen metrics_listen; /* kind 0: no metrics endpoint (metrics.h) */
	int metrics_allow_remote;
};

struct lurkd_files;

#define LURKD_CONF_KEYS 1u /* load every key and chain through the key store */

/*
 * Loads and checks a configuration, reading files through fs (files.h; NULL:
 * the disk). Without LURKD_CONF_KEYS the key files are read but not parsed
 * (lurkd's privileged parent, which only collects them). On failure err gets
 * every problem found, one "FILE:LINE: reason" (or "FILE: reason") per line.
 */
int lurkd_config_load(const char *path, struct lurkd_files *fs, unsigned flags,
	struct lurkd_config **out, char *err, size_t err_len) LURK_MUST_CHECK;
struct lurkd_config *lurkd_config_ref(struct lurkd_config *c);
void lurkd_config_unref(struct lurkd_config *c);

/* Lookups; NULL when absent. Public keys compare in constant time. */
const struct lurkd_client *lurkd_config_client(
	const struct lurkd_config *c, const uint8_t pk[LURK_NOISE_KEY_LEN]);
const struct lurkd_key_conf *lurkd_client_key(
	const struct lurkd_client *cl, const uint8_t *id, size_t id_len);
/* The same as an index into cl->keys; cl->nkeys when absent. */
size_t lurkd_client_key_index(const struct lurkd_client *cl, const uint8_t *id, size_t id_len);

#endif
