/*
 * lurkd's metrics: the counting (metrics.h). Every hook is a few relaxed
 * atomic additions into blocks made when a configuration was bound.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "metrics-int.h"
#include "metrics.h"

struct mstate lurkd_mstate = {.lock = PTHREAD_MUTEX_INITIALIZER};

const uint64_t lurkd_mbounds_us[MBUCKETS] = {20, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000,
	50000, 100000, 250000, 500000, 1000000};

/* Policy reasons by number (policy.h), then lurkd's own refusals. */
const char *const lurkd_mreason_names[MREASONS] = {
	"mechanism",
	"key_type",
	"content_required",
	"not_tls",
	"client_context",
	"server_context",
	"hash_length",
	"trailing",
	"digestinfo",
	"legacy_hash",
	"pss_params",
	"tls_version",
	"group",
	"public_value",
	"dh_params",
	"decrypt_off",
	"ciphertext_len",
	"scheme",
	"no_such_key",
	"audit_unwritable",
	"validity_window",
	"client_rate_limit",
	"key_rate_limit",
};
_Static_assert(LURK_POLICY_LAST == 19, "refusal reason names follow enum lurk_policy_reason");

const char *const lurkd_mhs_names[MHS_N] = {"accepted", "bad_msg1", "malformed", "unknown_client",
	"denied", "replay", "stale", "client_limit"};
const char *const lurkd_mverdict_names[MVERDICTS] = {"allowed", "refused", "error"};
/* The audit records' op names (handle.c, handle-frost.c); sign and decrypt first. */
const char *const lurkd_mop_names[MOPS] = {
	"sign", "decrypt", "frost-commit", "frost-sign", "rsa-partial"};

#define M (&lurkd_mstate)

static inline void
inc(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static int
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int
lurkd_metrics_conf_check(const struct lurkd_listen *l, int allow_remote, char *why, size_t why_len)
{
	if (l->kind != LURKD_LISTEN_TCP || allow_remote || is_loopback(l->host))
		return 0;
	snprintf(why, why_len,
		"%s is not a loopback address: the metrics name every client and key and "
		"have no authentication, so lurkd serves them on 127.0.0.0/8, ::1 or a unix "
		"socket only (set metrics-allow-remote = yes to serve them there anyway)",
		l->host);
	return LURK_ERR_CONFIG;
}

static struct mkey *
key_block(const char *name)
{
	struct mkey *k, **pk;

	for (k = M->keys; k != NULL; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->name = strdup(name)) == NULL) {
		free(k);
		return NULL;
	}
	/* Last in the list, as pairs are: the exposition follows the configuration's order. */
	for (pk = &M->keys; *pk != NULL; pk = &(*pk)->next)
		;
	*pk = k;
	return k;
}

static struct lurkd_mpair *
pair_block(const char *client, const char *key)
{
	struct lurkd_mpair *p, **pp;

	for (p = M->pairs; p != NULL; p = p->next)
		if (strcmp(p->client, client) == 0 && strcmp(p->key, key) == 0)
			return p;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->client = strdup(client)) == NULL ||
		(p->key = strdup(key)) == NULL) {
		if (p != NULL)
			free(p->client);
		free(p);
		return NULL;
	}
	if (key[0] != '\0' && (p->k = key_block(key)) == NULL) {
		free(p->client);
		free(p->key);
		free(p);
		return NULL;
	}
	for (pp = &M->pairs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = p;
	return p;
}

void
lurkd_metrics_bind(struct lurkd_config *c)
{
	int failed = 0;

	if (!M->on)
		return;
	pthread_mutex_lock(&M->lock);
	for (size_t i = 0; i < c->nclients && !failed; i++) {
		struct lurkd_client *cl = &c->clients[i];
		if (cl->mpairs != NULL)
			continue; /* bound already */
		cl->mpairs = calloc(cl->nkeys + 1, sizeof(*cl->mpairs));
		if (cl->mpairs == NULL) {
			failed = 1;
			break;
		}
		for (size_t j = 0; j <= cl->nkeys && !failed; j++)
			if ((cl->mpairs[j] = pair_block(
				     cl->name, j < cl->nkeys ? cl->keys[j]->name : "")) == NULL)
				failed = 1;
		if (failed) {
			free(cl->mpairs);
			cl->mpairs = NULL;
		}
	}
	pthread_mutex_unlock(&M->lock);
	atomic_store(&M->loaded_at, (long long)time(NULL));
	if (failed)
		lurk_error("metrics: out of memory: some clients' requests are not counted");
}

static void
observe(struct mhist *h, uint64_t us)
{
	size_t i = 0;

	while (i < MBUCKETS && us > lurkd_mbounds_us[i])
		i++;
	inc(&h->b[i]);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

void
lurkd_metrics_request(const struct lurkd_client *cl, size_t key, const struct lurkd_audit_rec *a)
{
	struct lurkd_mpair *p;
	int op = 0, mech, v;

	if (cl->mpairs == NULL)
		return;
	/* An op name not in the fixed list is not counted (none is made). */
	while (op < MOPS && strcmp(a->op, lurkd_mop_names[op]) != 0)
		op++;
	if (op == MOPS)
		return;
	p = cl->mpairs[key < cl->nkeys ? key : cl->nkeys];
	if (a->mechanism == UINT32_MAX)
		mech = LURKD_MECH_COUNT;
	else if ((mech = lurkd_mech_index(a->mechanism)) < 0)
		mech = LURKD_MECH_COUNT + 1;
	v = a->verdict[0] == 'a' ? 0 : a->verdict[0] == 'r' ? 1 : 2;
	inc(&p->n[op][mech][v]);
	if (p->k != NULL)
		observe(&p->k->lat[op], a->usec);
}

void
lurkd_metrics_refusal(int err, unsigned policy_reason, const char *why)
{
	unsigned i;

	if (!M->on)
		return;
	switch (err) {
	case LURK_ERR_POLICY:
		if (policy_reason == 0 || policy_reason >= LURK_POLICY_LAST)
			return;
		i = policy_reason - 1;
		break;
	case LURK_ERR_NOT_FOUND:
		i = MREASON_NO_KEY;
		break;
	case LURK_ERR_AUDIT:
		i = MREASON_AUDIT;
		break;
	case LURK_ERR_DENIED:
		i = MREASON_WINDOW;
		break;
	case LURK_ERR_RATE_LIMIT:
		/* handle.c's two texts: "client rate limit…", "key rate limit…". */
		i = why[0] == 'c' ? MREASON_RL_CLIENT : MREASON_RL_KEY;
		break;
	default:
		return;
	}
	inc(&M->refusals[i]);
}

void
lurkd_metrics_connection(enum lurkd_mconn result)
{
	if (M->on && (unsigned)result < LURKD_MCONN_N)
		inc(&M->conns[result]);
}

void
lurkd_metrics_handshake(int err)
{
	int i;

	if (!M->on)
		return;
	switch (err) {
	case 0:
		i = MHS_ACCEPTED;
		break;
	case LURK_ERR_DECRYPT:
		i = MHS_BAD_MSG1;
		break;
	case LURK_ERR_UNKNOWN_PEER:
		i = MHS_UNKNOWN_CLIENT;
		break;
	case LURK_ERR_DENIED:
		i = MHS_DENIED;
		break;
	case LURK_ERR_REPLAY:
		i = MHS_REPLAY;
		break;
	case LURK_ERR_STALE:
		i = MHS_STALE;
		break;
	case LURK_ERR_BUSY:
		i = MHS_CLIENT_LIMIT;
		break;
	default:
		i = MHS_MALFORMED;
		break;
	}
	inc(&M->hs[i]);
}

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint64_t
lurkd_metrics_audit_start(unsigned records)
{
	if (!M->on)
		return 0;
	atomic_fetch_add_explicit(&M->audit_depth, records, memory_order_relaxed);
	return now_ns();
}

void
lurkd_metrics_audit_end(unsigned records, uint64_t start_ns)
{
	if (!M->on)
		return;
	atomic_fetch_sub_explicit(&M->audit_depth, records, memory_order_relaxed);
	observe(&M->audit_write, (now_ns() - start_ns) / 1000u);
}

void
lurkd_metrics_reload(int ok)
{
	if (M->on)
		inc(&M->reloads[ok != 0]);
}
