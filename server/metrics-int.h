/* What metrics.c (counting) shares with metrics-expo.c (exposition, HTTP). */
#ifndef LURKD_METRICS_INT_H
#define LURKD_METRICS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "audit.h"
#include "policy.h"

#define MOPS              5                      /* sign, decrypt, then the split-key ops */
#define MOPS_WHOLE        2                      /* sign, decrypt: histograms always shown */
#define MMECH             (LURKD_MECH_COUNT + 2) /* the named ones, "none", "other" */
#define MVERDICTS         3                      /* allowed, refused, error */
#define MBUCKETS          15                     /* histogram bounds, 20 µs to 1 s */
#define MREASONS          (LURK_POLICY_LAST + 4) /* policy reasons 1..18, then the four below */
#define MREASON_NO_KEY    (LURK_POLICY_LAST - 1)
#define MREASON_AUDIT     (LURK_POLICY_LAST)
#define MREASON_WINDOW    (LURK_POLICY_LAST + 1)
#define MREASON_RL_CLIENT (LURK_POLICY_LAST + 2)
#define MREASON_RL_KEY    (LURK_POLICY_LAST + 3)

enum {
	MHS_ACCEPTED = 0,
	MHS_BAD_MSG1,
	MHS_MALFORMED,
	MHS_UNKNOWN_CLIENT,
	MHS_DENIED,
	MHS_REPLAY,
	MHS_STALE,
	MHS_CLIENT_LIMIT,
	MHS_N,
};

/* A latency histogram: counts per bucket (the last: over 1 s), sum in µs. */
struct mhist {
	atomic_uint_fast64_t b[MBUCKETS + 1];
	atomic_uint_fast64_t sum_us;
};

struct mkey {
	struct mkey *next;
	char *name;
	struct mhist lat[MOPS];
};

struct lurkd_mpair {
	struct lurkd_mpair *next;
	char *client;
	char *key; /* "" for requests naming no key of this client */
	struct mkey *k;
	atomic_uint_fast64_t n[MOPS][MMECH][MVERDICTS];
};

struct mstate {
	int on;               /* set before any thread starts, then read-only */
	pthread_mutex_t lock; /* the lists (bind, render); never on the request path */
	struct lurkd_mpair *pairs;
	struct mkey *keys;
	struct lurkd *server;
	atomic_uint_fast64_t refusals[MREASONS];
	atomic_uint_fast64_t conns[3];
	atomic_uint_fast64_t hs[MHS_N];
	atomic_uint_fast64_t reloads[2]; /* failed, ok */
	atomic_llong loaded_at;          /* the live configuration's, unix seconds */
	atomic_llong audit_depth;
	struct mhist audit_write;
};

extern struct mstate lurkd_mstate;
extern const uint64_t lurkd_mbounds_us[MBUCKETS];
extern const char *const lurkd_mreason_names[MREASONS];
extern const char *const lurkd_mhs_names[MHS_N];
extern const char *const lurkd_mverdict_names[MVERDICTS];
extern const char *const lurkd_mop_names[MOPS];

#endif
