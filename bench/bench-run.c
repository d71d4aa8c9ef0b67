/*
 * lurk-bench's runner: worker threads started together on a barrier, each
 * loop bounded by time and a sample cap, the samples merged into one CSV
 * line, and a server's CPU time over the run read from /proc.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"

pthread_barrier_t bench_ready, bench_go;
double bench_t_end;
char bench_why[64];

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
bench_more(const struct worker *w)
{
	return bench_now() < bench_t_end && w->n < BENCH_MAX_SAMPLES &&
	       w->errors < BENCH_MAX_ERRORS;
}

void
bench_record(struct worker *w, double t0)
{
	if (w->n < BENCH_MAX_SAMPLES)
		w->lat[w->n++] = (uint32_t)((bench_now() - t0) * 1e6);
}

void *
bench_fail(struct worker *w)
{
	w->errors++;
	pthread_barrier_wait(&bench_ready);
	pthread_barrier_wait(&bench_go);
	return NULL;
}

size_t
bench_input(uint8_t *buf)
{
	static const uint8_t di[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	static const char ctx[] = "TLS 1.3, server CertificateVerify";

	if (strcmp(opt.alg, "ed25519") == 0) {
		memset(buf, 0x20, 64);
		memcpy(buf + 64, ctx, sizeof(ctx));
		randombytes_buf(buf + 64 + sizeof(ctx), 32);
		return 64 + sizeof(ctx) + 32;
	}
	if (strcmp(opt.alg, "rsa") == 0 && opt.module != NULL) {
		memcpy(buf, di, sizeof(di));
		randombytes_buf(buf + sizeof(di), 32);
		return sizeof(di) + 32;
	}
	randombytes_buf(buf, 32);
	return 32;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
bench_report(const char *kind, struct worker *w, int nw, double secs, const char *extra)
{
	size_t total = 0, errors = 0, k = 0;
	uint32_t *all;

	for (int i = 0; i < nw; i++) {
		total += w[i].n;
		errors += w[i].errors;
	}
	if ((all = malloc((total ? total : 1) * sizeof(*all))) == NULL)
		total = 0;
	for (int i = 0; i < nw && all != NULL; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof(*all));
		k += w[i].n;
	}
	if (total > 0)
		qsort(all, total, sizeof(*all), cmp_u32);
	printf("%s,%s,%s,%d,%zu,%.3f,%.1f,%u,%u,%zu,%s\n", kind, opt.name,
		strcmp(kind, "connect") != 0 ? opt.alg : "-", nw, total, secs, total / secs,
		total ? all[total / 2] : 0, total ? all[(size_t)((double)total * 0.99)] : 0, errors,
		extra);
	fflush(stdout);
	free(all);
}

/* utime + stime + the reaped children's (fields 14-17 of /proc/PID/stat),
 * in clock ticks; *ppid gets field 4. -1 if the process is gone. */
static long long
stat_ticks(const char *pid, int *ppid)
{
	char path[64], buf[2048], *p;
	unsigned long ut, st;
	long cut, cst;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	ok = fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL &&
	     sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld", ppid, &ut,
		     &st, &cut, &cst) == 5;
	fclose(f);
	return ok ? (long long)(ut + st) + cut + cst : -1;
}

/* The CPU time of pid and its live children (p11-kit server forks one per
 * client; lurkd and gnutls-serv have none), in clock ticks. */
static long long
cpu_ticks(int pid)
{
	char self[16];
	long long sum;
	struct dirent *e;
	DIR *d;
	int ppid;

	snprintf(self, sizeof(self), "%d", pid);
	if ((sum = stat_ticks(self, &ppid)) < 0 || (d = opendir("/proc")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		long long t;
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if ((t = stat_ticks(e->d_name, &ppid)) >= 0 && ppid == pid)
			sum += t;
	}
	closedir(d);
	return sum;
}

/* The CPU time of every --cpu-pid process, summed; -1 without one or when
 * one cannot be read. */
static long long
cpu_all(void)
{
	long long sum = 0, t;

	if (opt.n_cpu_pids == 0)
		return -1;
	for (int i = 0; i < opt.n_cpu_pids; i++) {
		if ((t = cpu_ticks(opt.cpu_pid[i])) < 0)
			return -1;
		sum += t;
	}
	return sum;
}

int
bench_run(void *(*fn)(void *), int n, const char *kind)
{
	static struct worker w[BENCH_MAX_THREADS];
	long long c0, c1;
	char extra[64] = "";
	double t0;
	size_t ops = 0;
	int started = 0;

	memset(w, 0, sizeof(w));
	pthread_barrier_init(&bench_ready, NULL, (unsigned)n + 1);
	pthread_barrier_init(&bench_go, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		w[i].id = i;
		if ((w[i].lat = malloc(BENCH_MAX_SAMPLES * sizeof(uint32_t))) == NULL ||
			pthread_create(&w[i].t, NULL, fn, &w[i]) != 0) {
			fprintf(stderr, "lurk-bench: cannot start %d threads\n", n);
			exit(1); /* the barriers wait for n: no way on */
		}
		started++;
	}
	/* Every worker has its key (and has warmed up); the clock starts now. */
	pthread_barrier_wait(&bench_ready);
	c0 = cpu_all();
	t0 = bench_now();
	bench_t_end = t0 + opt.seconds;
	pthread_barrier_wait(&bench_go);
	for (int i = 0; i < started; i++) {
		pthread_join(w[i].t, NULL);
		ops += w[i].n;
	}
	c1 = cpu_all();
	pthread_barrier_destroy(&bench_ready);
	pthread_barrier_destroy(&bench_go);
	if (c0 >= 0 && c1 >= 0 && ops > 0)
		snprintf(extra, sizeof(extra), "%.1f",
			(double)(c1 - c0) * 1e6 / (double)sysconf(_SC_CLK_TCK) / (double)ops);
	else if (ops == 0)
		snprintf(extra, sizeof(extra), "%s", bench_why[0] ? bench_why : "n/a");
	bench_report(kind, w, n, bench_now() - t0, extra);
	for (int i = 0; i < n; i++)
		free(w[i].lat);
	return 0;
}
