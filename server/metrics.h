/*
 * lurkd's Prometheus metrics (docs/metrics.md, lurkd(8) METRICS).
 *
 * Counting (metrics.c): relaxed C11 atomics, no lock and no allocation on
 * the request path. The series of a (client, key) pair live in a block the
 * configuration points to (lurkd_client.mpairs); blocks are made when a
 * configuration is bound (at start and on reload, before it serves) and are
 * kept by name for lurkd's life, so a reload never resets the counts of a
 * client or key it keeps. Label cardinality is bounded by the configured
 * clients and keys (every pair ever configured since start), the operations,
 * the mechanisms lurkd names (audit.c) and three verdicts; refusal reasons
 * are a fixed list.
 *
 * Serving (metrics-expo.c): libmicrohttpd on one socket lurkd opens at start
 * with its other listeners (`metrics-listen`), in the process that serves
 * clients; only GET /metrics. Nothing is counted while it is not configured.
 */
#ifndef LURKD_METRICS_H
#define LURKD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct lurkd;
struct lurkd_audit_rec;
struct lurkd_client;
struct lurkd_config;
struct lurkd_listen;
struct passwd;

/* Connection results at accept (worker.c). */
enum lurkd_mconn {
	LURKD_MCONN_ACCEPTED = 0,
	LURKD_MCONN_MAX_CONNECTIONS,
	LURKD_MCONN_MAX_PER_SOURCE,
	LURKD_MCONN_N,
};

/*
 * Whether l may serve metrics: absent (kind 0) is fine; a TCP address not on
 * loopback (127.0.0.0/8, ::1) only with allow_remote. 0, or why says not.
 */
int lurkd_metrics_conf_check(
	const struct lurkd_listen *l, int allow_remote, char *why, size_t why_len) LURK_MUST_CHECK;

/* Gives c's clients their series blocks (nothing while metrics are off). */
void lurkd_metrics_bind(struct lurkd_config *c);

/* Hooks: each returns at once while metrics are off. */
/*
 * A request's audit record a, for the key at index key of cl->keys (as
 * handle.c found it), or cl->nkeys when it named none of the client's keys.
 */
void lurkd_metrics_request(
	const struct lurkd_client *cl, size_t key, const struct lurkd_audit_rec *a);
void lurkd_metrics_refusal(int err, unsigned policy_reason, const char *why);
void lurkd_metrics_connection(enum lurkd_mconn result);
/* A Noise handshake's end: 0 accepted, or the LURK_ERR_* that refused it. */
void lurkd_metrics_handshake(int err);
/* Around an audit batch's write: records handed to the log, and how long it took. */
uint64_t lurkd_metrics_audit_start(unsigned records);
void lurkd_metrics_audit_end(unsigned records, uint64_t start_ns);
/* A reload's outcome (ok 1 or 0); a configuration that goes live also binds. */
void lurkd_metrics_reload(int ok);

/*
 * Opens the metrics socket of c (nothing when not configured), as lurkd's
 * listeners are (listen.h: owner, socket-mode). Call before privilege
 * separation; the parent then calls lurkd_metrics_close_fd.
 */
int lurkd_metrics_open(const struct lurkd_config *c, unsigned mode, const struct passwd *owner,
	char *err, size_t err_len) LURK_MUST_CHECK;
void lurkd_metrics_close_fd(void);
/* Serves the socket opened above (its own thread); s gives the gauges. */
int lurkd_metrics_start(struct lurkd *s) LURK_MUST_CHECK;
void lurkd_metrics_stop(void);
/* Removes a unix metrics socket (the process that made it, at exit). */
void lurkd_metrics_unlink(void);

/* The text exposition of every series; malloc'd into *out. For the endpoint and tests. */
int lurkd_metrics_render(char **out, size_t *len) LURK_MUST_CHECK;
/*
 * A label value escaped per the text exposition format (\\, \", \n) into
 * out; returns the length, or (size_t)-1 if it does not fit.
 */
size_t lurkd_metrics_escape(const char *in, char *out, size_t out_len);

#endif
