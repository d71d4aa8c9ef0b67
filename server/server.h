/*
 * lurkd's shared state: the current configuration, the replay cache, the
 * audit log, listening sockets and the event-loop workers.
 *
 * Threads: the main thread handles signals (reload, shutdown); N workers each
 * run an epoll loop that accepts from the shared listening sockets
 * (EPOLLEXCLUSIVE), runs the Noise handshake, and serves requests inline, so
 * a request costs no hand-off between threads. The audit log has its own
 * writer thread.
 */
#ifndef LURKD_SERVER_H
#define LURKD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "audit.h"
#include "conf.h"

struct lurk_replay;
struct lurkd_counts;
struct lurkd_pressure;
struct lurkd_worker;

struct lurkd {
	pthread_mutex_t cfg_lock;
	struct lurkd_config *cfg; /* guarded by cfg_lock */
	atomic_uint_fast64_t generation;
	atomic_int stopping;
	struct lurk_replay *replay;
	struct lurkd_audit *audit;
	int listen_fds[LURKD_MAX_LISTEN];
	size_t nlisten;
	struct lurkd_worker **workers;
	unsigned nworkers;
	atomic_uint connections;         /* open connections, all workers */
	unsigned fd_budget;              /* connections the open-file limit allows (main.c) */
	struct lurkd_counts *per_source; /* open connections per source (counts.h) */
	struct lurkd_counts *per_client; /* open connections per client key, once known */
	struct lurkd_pressure *pressure; /* handshake queue, frame-memory ledger (pressure.h) */
};

/*
 * Connections admitted past max-connections while the ones they evicted
 * are on their way out (each newcomer there evicts one): the open-file
 * limit keeps this many descriptors spare (main.c).
 */
#define LURKD_EVICT_SLACK 32

/* A new reference to the current configuration (never NULL while running). */
struct lurkd_config *lurkd_config_current(struct lurkd *s);

int lurkd_workers_start(struct lurkd *s, unsigned n) LURK_MUST_CHECK;
/* Wakes every worker: configuration changed, or shutdown began. */
void lurkd_workers_wake(struct lurkd *s);
/* Waits for every worker to finish (after stopping was set) and frees them. */
void lurkd_workers_join(struct lurkd *s);

#endif
