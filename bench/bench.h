/*
 * lurk-bench's shared parts: the options, the workers and their clock, and
 * the CSV line every measurement ends in (bench-run.c).
 */
#ifndef LURK_BENCH_H
#define LURK_BENCH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_THREADS 64
#define BENCH_MAX_SAMPLES 200000 /* per thread: the count cap of every loop */
#define BENCH_MAX_ERRORS  1000   /* per thread: a failing way stops early */
#define BENCH_MAX_PIDS    2      /* --cpu-pid: the two share servers of a split key */

struct bench_opt {
	const char *cmd, *name, *alg, *lib, *key, *module, *token, *label, *pin;
	const char *address, *server_pk, *client_key, *connect, *cafile, *host;
	int threads, count;
	int cpu_pid[BENCH_MAX_PIDS], n_cpu_pids; /* --cpu-pid, given once per server */
	double seconds;
};
extern struct bench_opt opt;

struct worker {
	pthread_t t;
	int id;
	uint32_t *lat; /* µs, one per operation */
	size_t n, errors;
};

/* Workers wait on bench_ready once set up (key loaded, warmed up), then on
 * bench_go; the clock runs from then until bench_t_end. */
extern pthread_barrier_t bench_ready, bench_go;
extern double bench_t_end;

double bench_now(void);
/* Whether a worker's loop goes on: time left, under the sample and error caps. */
int bench_more(const struct worker *w);
/* One operation's latency, started at t0. */
void bench_record(struct worker *w, double t0);
/* The data each algorithm signs, as a TLS server hands it over (hash,
 * DigestInfo through PKCS#11 for RSA, the TLS 1.3 content for Ed25519). */
size_t bench_input(uint8_t *buf);
/* Runs fn in n threads, prints one CSV line of kind `kind`; its last field
 * is, with opt.cpu_pid, the CPU those processes (and their children) spent
 * per operation, summed, or when nothing was measured why not (bench_why,
 * which a worker may set, else "n/a"). */
int bench_run(void *(*fn)(void *), int n, const char *kind);
extern char bench_why[64];
/* Merges the workers' samples and prints the CSV line. */
void bench_report(const char *kind, struct worker *w, int nw, double secs, const char *extra);
/* A worker that could not set up: counts an error, passes both barriers. */
void *bench_fail(struct worker *w);

void *bench_sign_openssl(void *arg);
int bench_cmd_hs(void);

#endif
