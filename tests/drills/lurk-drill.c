/*
 * lurk-drill: the load program of the fault drills (tests/drills/, issue 13).
 * Every mode is bounded in time (and an alarm ends the process if a call
 * never returns); every figure is one "WORD key=value ..." line on stdout.
 *
 *   lurk-drill sign --module SO --label KEY [--token LABEL] [--threads N] [--seconds S]
 *              [--fail-pause-ms MS] [--slow-ms MS] [--per-second] [--grace S]
 *              [--rate R] [--stop-file FILE] [--window-start FILE] [--window-end FILE]
 *              [--ready-file FILE] [--mark-file FILE]
 *     N threads open a session each, find the private key KEY in token LABEL
 *     (default "lurk"), sign once unclocked, then sign (CKM_ECDSA over 32
 *     bytes) for S seconds, recording each call's start, latency and CK_RV.
 *     After a failed call a thread pauses --fail-pause-ms (default 10): a
 *     consumer with requests to serve, not a busy loop of our own making.
 *     --rate R: at most R calls a second over all threads (default: as fast
 *     as they go). --stop-file: the run ends early when FILE appears.
 *       go realtime_ms=T                     the clock started (T: CLOCK_REALTIME)
 *       sec t=K ok=N failed=N                each second (--per-second)
 *       slow start_ms=T ms=N rv=0xR thread=I each call over --slow-ms, when it ends
 *       failed rv=0xR name=NAME n=N          per CK_RV
 *       window ms=N cpu_ms=N cpu_pct=P ok=N failed=N max_ms=N p99_ms=N
 *         from the moment --window-start FILE appeared to --window-end FILE's
 *         (or the end): our own CPU time (getrusage) and the calls started in it
 *       mark ms=T inflight=N inflight_failed=N inflight_max_ms=N after_ok=N
 *            after_failed=N after_max_ms=N before_failed=N
 *         --mark-file holds a CLOCK_REALTIME in ms (written by the drill when it
 *         broke something): calls running across it, started after it, and
 *         failed before it
 *       ready seen=0|1 recover_ms=N
 *         --ready-file appeared after having been absent (lurkd's pid file): ms
 *         from then to the end of the first successful call (-1: none)
 *       result ok=N failed=N calls=N max_ms=N p50_ms=N p99_ms=N cpu_ms=N wall_ms=N
 *              setup_failed=N capped=N stuck=N
 *
 *   lurk-drill fresh --module SO --label KEY [--token LABEL] [--count N]
 *     N times: C_Initialize, the token's key list (C_FindObjects by label),
 *     C_Finalize. "fresh i=I found=0|1 ms=N rv=0xR", then "fresh ok=N of=N max_ms=N".
 *
 *   lurk-drill flood --address ADDR --conns N --seconds S [--rate R] [--source IP]
 *     N raw connections (no handshake) opened at once and held; those the
 *     server closes are opened again, at most R per second (default 200).
 *     "flood connects=N connected=N failed=N closed_by_server=N open_max=N open_at_end=N"
 *
 *   lurk-drill handshake --address ADDR --server-pk B64 --client-key FILE --seconds S
 *              [--rate R]
 *     Handshakes one after another (at most R per second, default 500), as a
 *     revoked or unknown client retrying in a loop would.
 *     "handshake attempts=N ok=N refused=N other=N"
 *
 *   lurk-drill junk --address ADDR --seconds S [--rate R]
 *     Connections that send junk (random bytes, a zero frame, a giant frame,
 *     a msg1 that does not decrypt, a short msg1) and wait for the close, at
 *     most R per second (default 500). "junk attempts=N closed_by_server=N"
 *
 * This file is the PKCS#11 modes (sign, fresh), the options and main();
 * lurk-drill-net.c the raw-socket modes (flood, handshake, junk).
 *
 * Exit status: 0 when the figures were printed, 1 when the module or an
 * address could not be used, 2 for usage, 3 when a thread did not finish in
 * time (the figures are printed first); SIGALRM ends a process that hangs.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>

#include "ckm.h"
#include "client/conn.h"
#include "err.h"
#include "frame.h"
#include "keyfile.h"
#include "lurk-limits.h"

#include "lurk-drill.h"

#define MAX_THREADS     64
#define SAMPLES_TOTAL   4000000 /* call records over every thread */
#define SAMPLES_THREAD  500000
#define MONITOR_TICK_MS 5
#define MAX_RV_KINDS    32

struct drill_opts dopt = {.token = "lurk",
	.threads = 1,
	.count = 1,
	.fail_pause_ms = 10,
	.slow_ms = 0,
	.conns = 100,
	.rate = 0,
	.seconds = 5,
	.grace = 15};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* One line on stdout, whole, at once. */
void
say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

void
sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
exists(const char *path)
{
	struct stat st;

	return path != NULL && stat(path, &st) == 0;
}

/* Microseconds to whole milliseconds, rounded up (a bound stays a bound). */
static long long
ms_up(int64_t us)
{
	return us <= 0 ? 0 : (long long)((us + 999) / 1000);
}

static const char *
rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return "CKR_OK";
	case CKR_HOST_MEMORY:
		return "CKR_HOST_MEMORY";
	case CKR_GENERAL_ERROR:
		return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED:
		return "CKR_FUNCTION_FAILED";
	case CKR_ARGUMENTS_BAD:
		return "CKR_ARGUMENTS_BAD";
	case CKR_DEVICE_ERROR:
		return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_MEMORY:
		return "CKR_DEVICE_MEMORY";
	case CKR_DEVICE_REMOVED:
		return "CKR_DEVICE_REMOVED";
	case CKR_KEY_HANDLE_INVALID:
		return "CKR_KEY_HANDLE_INVALID";
	case CKR_OPERATION_ACTIVE:
		return "CKR_OPERATION_ACTIVE";
	case CKR_OPERATION_NOT_INITIALIZED:
		return "CKR_OPERATION_NOT_INITIALIZED";
	case CKR_SESSION_CLOSED:
		return "CKR_SESSION_CLOSED";
	case CKR_SESSION_HANDLE_INVALID:
		return "CKR_SESSION_HANDLE_INVALID";
	case CKR_TOKEN_NOT_PRESENT:
		return "CKR_TOKEN_NOT_PRESENT";
	case CKR_USER_NOT_LOGGED_IN:
		return "CKR_USER_NOT_LOGGED_IN";
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		return "CKR_CRYPTOKI_NOT_INITIALIZED";
	default:
		return "other";
	}
}

/* --- PKCS#11 ------------------------------------------------------------ */

static CK_FUNCTION_LIST *p11;

static int
load_module(void)
{
	CK_C_GetFunctionList get;
	void *h = dlopen(dopt.module, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		fprintf(stderr, "lurk-drill: cannot load %s: %s\n", dopt.module, dlerror());
		return -1;
	}
	*(void **)&get = dlsym(h, "C_GetFunctionList");
	if (get == NULL || get(&p11) != CKR_OK) {
		fprintf(stderr, "lurk-drill: %s has no C_GetFunctionList\n", dopt.module);
		return -1;
	}
	return 0;
}

static CK_RV
initialize(void)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};

	return p11->C_Initialize(&args);
}

/* A session on the token labelled dopt.token and the private key labelled dopt.label in it. */
static CK_RV
find_key(CK_SESSION_HANDLE *s, CK_OBJECT_HANDLE *key)
{
	CK_SLOT_ID slots[32];
	CK_ULONG n = 32, got = 0;
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &priv, sizeof(priv)}, {CKA_LABEL, (void *)dopt.label, 0}};
	CK_TOKEN_INFO ti;
	CK_RV rv;
	char label[33];

	t[1].ulValueLen = strlen(dopt.label);
	if ((rv = p11->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
		return rv;
	for (CK_ULONG i = 0; i < n; i++) {
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(label, ti.label, 32);
		label[32] = '\0';
		for (int j = 31; j >= 0 && label[j] == ' '; j--)
			label[j] = '\0';
		if (strcmp(label, dopt.token) != 0)
			continue;
		if ((rv = p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, s)) !=
			CKR_OK)
			return rv;
		if ((rv = p11->C_FindObjectsInit(*s, t, 2)) == CKR_OK) {
			rv = p11->C_FindObjects(*s, key, 1, &got);
			(void)p11->C_FindObjectsFinal(*s);
		}
		if (rv == CKR_OK && got != 1)
			rv = CKR_KEY_HANDLE_INVALID; /* the list has no such key */
		if (rv != CKR_OK)
			(void)p11->C_CloseSession(*s);
		return rv;
	}
	return CKR_TOKEN_NOT_PRESENT;
}

static CK_RV
sign_once(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k)
{
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	uint8_t hash[32], sig[256];
	CK_ULONG sl = sizeof(sig);
	CK_RV rv;

	randombytes_buf(hash, sizeof(hash));
	if ((rv = p11->C_SignInit(s, &m, k)) != CKR_OK)
		return rv;
	return p11->C_Sign(s, hash, sizeof(hash), sig, &sl);
}

/* --- sign --------------------------------------------------------------- */

struct rec {
	int64_t start_us; /* from t0 */
	uint32_t lat_us;
	uint32_t rv;
};

struct worker {
	pthread_t t;
	int id;
	struct rec *r;
	size_t cap;
	atomic_size_t n; /* records written (release) */
	int setup_rv;    /* CK_RV of the session and key lookup */
	int capped;
	atomic_int done;
};

static int64_t t0_us, t0_real_us;
static _Atomic int64_t t_end_us; /* the monitor brings it forward when --stop-file appears */
static pthread_barrier_t ready_b, go_b;
static atomic_ullong n_ok, n_failed;

static int
session_gone(CK_RV rv)
{
	return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	       rv == CKR_KEY_HANDLE_INVALID;
}

static void *
sign_thread(void *arg)
{
	struct worker *w = arg;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
	int have = 0;

	w->setup_rv = (int)find_key(&s, &k);
	if (w->setup_rv == CKR_OK) {
		have = 1;
		(void)sign_once(s, k); /* connections and per-thread state exist */
	}
	pthread_barrier_wait(&ready_b);
	pthread_barrier_wait(&go_b);
	while (mono_us() < t_end_us) {
		int64_t start, end;
		CK_RV rv;
		size_t i = atomic_load_explicit(&w->n, memory_order_relaxed);

		if (dopt.rate > 0) {
			/* This thread's share of the rate: call i is due at t0 + i / share. */
			int64_t due = t0_us + (int64_t)((double)i * 1e6 * dopt.threads / dopt.rate),
				wait = due < t_end_us ? due - mono_us() : t_end_us - mono_us();
			if (wait > 0)
				sleep_ms((wait + 999) / 1000);
			if (mono_us() >= t_end_us)
				break;
		}
		start = mono_us();

		if (i == w->cap) {
			w->capped = 1;
			break;
		}
		if (!have) {
			rv = find_key(&s, &k);
			have = rv == CKR_OK;
		}
		if (have) {
			rv = sign_once(s, k);
			if (session_gone(rv)) {
				(void)p11->C_CloseSession(s);
				have = 0;
			}
		}
		end = mono_us();
		w->r[i].start_us = start - t0_us;
		w->r[i].lat_us = (uint32_t)(end - start);
		w->r[i].rv = (uint32_t)rv;
		atomic_store_explicit(&w->n, i + 1, memory_order_release);
		if (rv == CKR_OK) {
			atomic_fetch_add(&n_ok, 1);
		} else {
			atomic_fetch_add(&n_failed, 1);
		}
		if (dopt.slow_ms > 0 && end - start > (int64_t)dopt.slow_ms * 1000)
			say("slow start_ms=%lld ms=%lld rv=0x%lx thread=%d\n",
				(long long)((t0_real_us + start - t0_us) / 1000),
				ms_up(end - start), (unsigned long)rv, w->id);
		if (rv != CKR_OK && dopt.fail_pause_ms > 0) {
			int64_t left = (t_end_us - mono_us()) / 1000;
			sleep_ms(left < dopt.fail_pause_ms ? left : dopt.fail_pause_ms);
		}
	}
	if (have)
		(void)p11->C_CloseSession(s);
	atomic_store(&w->done, 1);
	return NULL;
}

/* What the monitor saw, in monotonic µs (0: not seen). */
static struct {
	int64_t ws_t, ws_cpu, we_t, we_cpu, ready_t;
	int ready_absent;
	atomic_int stop;
} mon;

static void *
monitor_thread(void *arg)
{
	int64_t next_sec = t0_us + 1000000, hard_end = t_end_us + (int64_t)(dopt.grace * 1e6);
	unsigned long long last_ok = 0, last_failed = 0;
	int sec = 1;

	(void)arg;
	while (!atomic_load(&mon.stop) && mono_us() < hard_end) {
		int64_t now = mono_us();
		if (dopt.per_second && now >= next_sec && now <= t_end_us + 1000000) {
			unsigned long long ok = atomic_load(&n_ok), failed = atomic_load(&n_failed);
			say("sec t=%d ok=%llu failed=%llu\n", sec, ok - last_ok,
				failed - last_failed);
			last_ok = ok;
			last_failed = failed;
			sec++;
			next_sec += 1000000;
		}
		if (mon.ws_t == 0 && exists(dopt.window_start)) {
			mon.ws_cpu = cpu_us();
			mon.ws_t = mono_us();
		}
		if (dopt.stop_file != NULL && now < t_end_us && exists(dopt.stop_file))
			t_end_us = now;
		if (mon.ws_t != 0 && mon.we_t == 0 && exists(dopt.window_end)) {
			mon.we_cpu = cpu_us();
			mon.we_t = mono_us();
		}
		if (dopt.ready_file != NULL && mon.ready_t == 0) {
			if (!exists(dopt.ready_file))
				mon.ready_absent = 1;
			else if (mon.ready_absent)
				mon.ready_t = mono_us();
		}
		sleep_ms(MONITOR_TICK_MS);
	}
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The CLOCK_REALTIME in ms that --mark-file holds, as µs from t0; 0 when none. */
static int
read_mark(int64_t *rel_us, long long *ms)
{
	FILE *f;
	int ok;

	if (dopt.mark_file == NULL || (f = fopen(dopt.mark_file, "r")) == NULL)
		return 0;
	ok = fscanf(f, "%lld", ms) == 1;
	fclose(f);
	if (!ok)
		return 0;
	*rel_us = *ms * 1000 - t0_real_us;
	return 1;
}

static void
report_sign(struct worker *w, int nw, int64_t end_us, int64_t cpu0, int64_t cpu1, int stuck)
{
	struct {
		uint32_t rv;
		unsigned long long n;
	} kinds[MAX_RV_KINDS];
	size_t nk = 0, total = 0, k = 0;
	unsigned long long ok = 0, failed = 0, w_ok = 0, w_failed = 0;
	unsigned long long inflight = 0, inflight_failed = 0, after_ok = 0, after_failed = 0,
			   before_failed = 0;
	uint32_t inflight_max = 0, after_max = 0, *lat, *wlat;
	size_t wn = 0;
	int64_t ws = mon.ws_t ? mon.ws_t - t0_us : -1, we, ready = mon.ready_t - t0_us,
		first_ok_after_ready = -1, mark = 0;
	long long mark_ms = 0;
	int has_mark = read_mark(&mark, &mark_ms), setup_failed = 0, capped = 0;

	we = mon.we_t ? mon.we_t - t0_us : end_us - t0_us;
	for (int i = 0; i < nw; i++)
		total += atomic_load_explicit(&w[i].n, memory_order_acquire);
	lat = malloc((total ? total : 1) * sizeof(*lat));
	wlat = malloc((total ? total : 1) * sizeof(*wlat));
	if (lat == NULL || wlat == NULL) {
		fprintf(stderr, "lurk-drill: out of memory\n");
		_exit(1);
	}
	for (int i = 0; i < nw; i++) {
		size_t n = atomic_load_explicit(&w[i].n, memory_order_acquire);
		setup_failed += w[i].setup_rv != CKR_OK;
		capped += w[i].capped;
		for (size_t j = 0; j < n; j++) {
			const struct rec *r = &w[i].r[j];
			int64_t e = r->start_us + r->lat_us;
			size_t q;
			lat[k++] = r->lat_us;
			if (r->rv == CKR_OK)
				ok++;
			else
				failed++;
			if (r->rv != CKR_OK) {
				for (q = 0; q < nk && kinds[q].rv != r->rv; q++)
					;
				if (q == nk && nk < MAX_RV_KINDS) {
					kinds[nk].rv = r->rv;
					kinds[nk++].n = 0;
				}
				if (q < nk)
					kinds[q].n++;
			}
			if (ws >= 0 && r->start_us >= ws && r->start_us < we) {
				if (r->rv == CKR_OK)
					w_ok++;
				else
					w_failed++;
				wlat[wn++] = r->lat_us;
			}
			if (has_mark && r->start_us < mark && e > mark) {
				inflight++;
				inflight_failed += r->rv != CKR_OK;
				if (r->lat_us > inflight_max)
					inflight_max = r->lat_us;
			} else if (has_mark && r->start_us >= mark) {
				if (r->rv == CKR_OK)
					after_ok++;
				else
					after_failed++;
				if (r->lat_us > after_max)
					after_max = r->lat_us;
			} else if (has_mark && r->rv != CKR_OK) {
				before_failed++;
			}
			if (mon.ready_t != 0 && r->rv == CKR_OK && e >= ready &&
				(first_ok_after_ready < 0 || e < first_ok_after_ready))
				first_ok_after_ready = e;
		}
	}
	qsort(lat, total, sizeof(*lat), cmp_u32);
	qsort(wlat, wn, sizeof(*wlat), cmp_u32);
	for (size_t q = 0; q < nk; q++)
		say("failed rv=0x%lx name=%s n=%llu\n", (unsigned long)kinds[q].rv,
			rv_name(kinds[q].rv), kinds[q].n);
	if (dopt.window_start != NULL) {
		if (ws < 0) {
			say("window seen=0\n");
		} else {
			int64_t span = we - ws, cpu = (mon.we_t ? mon.we_cpu : cpu1) - mon.ws_cpu;
			say("window ms=%lld cpu_ms=%lld cpu_pct=%.2f ok=%llu failed=%llu "
			    "max_ms=%lld "
			    "p99_ms=%lld\n",
				(long long)(span / 1000), (long long)(cpu / 1000),
				span > 0 ? 100.0 * (double)cpu / (double)span : 0.0, w_ok, w_failed,
				wn ? ms_up(wlat[wn - 1]) : 0LL,
				wn ? ms_up(wlat[(size_t)((double)wn * 0.99)]) : 0LL);
		}
	}
	if (dopt.mark_file != NULL) {
		if (!has_mark)
			say("mark seen=0\n");
		else
			say("mark ms=%lld inflight=%llu inflight_failed=%llu inflight_max_ms=%lld "
			    "after_ok=%llu after_failed=%llu after_max_ms=%lld "
			    "before_failed=%llu\n",
				mark_ms, inflight, inflight_failed, ms_up(inflight_max), after_ok,
				after_failed, ms_up(after_max), before_failed);
	}
	if (dopt.ready_file != NULL)
		say("ready seen=%d recover_ms=%lld\n", mon.ready_t != 0,
			mon.ready_t == 0 || first_ok_after_ready < 0
				? -1LL
				: (long long)ms_up(first_ok_after_ready - ready));
	say("result ok=%llu failed=%llu calls=%zu max_ms=%lld p50_ms=%lld p99_ms=%lld "
	    "cpu_ms=%lld wall_ms=%lld setup_failed=%d capped=%d stuck=%d\n",
		ok, failed, total, total ? ms_up(lat[total - 1]) : 0LL,
		total ? ms_up(lat[total / 2]) : 0LL,
		total ? ms_up(lat[(size_t)((double)total * 0.99)]) : 0LL,
		(long long)((cpu1 - cpu0) / 1000), (long long)((end_us - t0_us) / 1000),
		setup_failed, capped, stuck);
	free(lat);
	free(wlat);
}

static int
cmd_sign(void)
{
	struct worker *w = calloc((size_t)dopt.threads, sizeof(*w));
	pthread_t mt;
	int64_t cpu0, cpu1, end_us;
	size_t cap = SAMPLES_TOTAL / (size_t)dopt.threads;
	int stuck = 0;
	CK_RV rv;

	if (cap > SAMPLES_THREAD)
		cap = SAMPLES_THREAD;
	if (w == NULL || load_module() != 0)
		return 1;
	if ((rv = initialize()) != CKR_OK) {
		fprintf(stderr, "lurk-drill: C_Initialize: 0x%lx\n", (unsigned long)rv);
		return 1;
	}
	pthread_barrier_init(&ready_b, NULL, (unsigned)dopt.threads + 1);
	pthread_barrier_init(&go_b, NULL, (unsigned)dopt.threads + 1);
	for (int i = 0; i < dopt.threads; i++) {
		w[i].id = i;
		w[i].cap = cap;
		if ((w[i].r = malloc(cap * sizeof(struct rec))) == NULL ||
			pthread_create(&w[i].t, NULL, sign_thread, &w[i]) != 0) {
			fprintf(stderr, "lurk-drill: no memory or thread\n");
			_exit(1);
		}
	}
	/* Every thread has its session and key; the clock starts now. */
	pthread_barrier_wait(&ready_b);
	t0_us = mono_us();
	t0_real_us = real_us();
	t_end_us = t0_us + (int64_t)(dopt.seconds * 1e6);
	cpu0 = cpu_us();
	if (pthread_create(&mt, NULL, monitor_thread, NULL) != 0)
		_exit(1);
	say("go realtime_ms=%lld\n", (long long)(t0_real_us / 1000));
	pthread_barrier_wait(&go_b);
	for (int i = 0; i < dopt.threads; i++) {
		int64_t until = t_end_us + (int64_t)(dopt.grace * 1e6);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)((until - mono_us()) / 1000000) + 1;
		if (pthread_timedjoin_np(w[i].t, NULL, &ts) != 0)
			stuck++;
	}
	end_us = mono_us();
	cpu1 = cpu_us();
	atomic_store(&mon.stop, 1);
	pthread_join(mt, NULL);
	report_sign(w, dopt.threads, end_us, cpu0, cpu1, stuck);
	if (stuck) {
		fprintf(stderr, "lurk-drill: %d threads still in a call %.0f s after the end\n",
			stuck, dopt.grace);
		_exit(3); /* the threads still in calls own what C_Finalize would free */
	}
	(void)p11->C_Finalize(NULL);
	for (int i = 0; i < dopt.threads; i++)
		free(w[i].r);
	free(w);
	return 0;
}

/* --- fresh -------------------------------------------------------------- */

static int
cmd_fresh(void)
{
	int found_n = 0;
	int64_t max = 0;

	if (load_module() != 0)
		return 1;
	for (int i = 1; i <= dopt.count; i++) {
		int64_t start = mono_us(), took;
		CK_SESSION_HANDLE s;
		CK_OBJECT_HANDLE k;
		CK_RV rv = initialize();
		int found = 0;
		if (rv == CKR_OK) {
			rv = find_key(&s, &k);
			found = rv == CKR_OK;
			if (found)
				(void)p11->C_CloseSession(s);
			(void)p11->C_Finalize(NULL);
		}
		took = mono_us() - start;
		if (took > max)
			max = took;
		found_n += found;
		say("fresh i=%d found=%d ms=%lld rv=0x%lx\n", i, found, ms_up(took),
			(unsigned long)rv);
	}
	say("fresh ok=%d of=%d max_ms=%lld\n", found_n, dopt.count, ms_up(max));
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of tests/drills/lurk-drill.c\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	double limit;

	if (argc < 2 || sodium_init() < 0)
		usage();
	dopt.cmd = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(k, "--per-second") == 0) {
			dopt.per_second = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(k, "--module") == 0)
			dopt.module = v;
		else if (strcmp(k, "--token") == 0)
			dopt.token = v;
		else if (strcmp(k, "--label") == 0)
			dopt.label = v;
		else if (strcmp(k, "--threads") == 0)
			dopt.threads = atoi(v);
		else if (strcmp(k, "--seconds") == 0)
			dopt.seconds = atof(v);
		else if (strcmp(k, "--count") == 0)
			dopt.count = atoi(v);
		else if (strcmp(k, "--fail-pause-ms") == 0)
			dopt.fail_pause_ms = atoi(v);
		else if (strcmp(k, "--slow-ms") == 0)
			dopt.slow_ms = atoi(v);
		else if (strcmp(k, "--grace") == 0)
			dopt.grace = atof(v);
		else if (strcmp(k, "--window-start") == 0)
			dopt.window_start = v;
		else if (strcmp(k, "--window-end") == 0)
			dopt.window_end = v;
		else if (strcmp(k, "--ready-file") == 0)
			dopt.ready_file = v;
		else if (strcmp(k, "--mark-file") == 0)
			dopt.mark_file = v;
		else if (strcmp(k, "--stop-file") == 0)
			dopt.stop_file = v;
		else if (strcmp(k, "--address") == 0)
			dopt.address = v;
		else if (strcmp(k, "--server-pk") == 0)
			dopt.server_pk = v;
		else if (strcmp(k, "--client-key") == 0)
			dopt.client_key = v;
		else if (strcmp(k, "--source") == 0)
			dopt.source = v;
		else if (strcmp(k, "--conns") == 0)
			dopt.conns = atoi(v);
		else if (strcmp(k, "--rate") == 0)
			dopt.rate = atoi(v);
		else
			usage();
	}
	if (dopt.threads < 1 || dopt.threads > MAX_THREADS ||
		!(dopt.seconds > 0 && dopt.seconds <= 600) || dopt.count < 1 || dopt.count > 1000 ||
		dopt.fail_pause_ms < 0 || dopt.fail_pause_ms > 10000 || dopt.slow_ms < 0 ||
		!(dopt.grace >= 1 && dopt.grace <= 120) || dopt.conns < 1 ||
		dopt.conns > MAX_FLOOD || dopt.rate < 0 || dopt.rate > 1000000)
		usage();
	/* Whatever happens in a call, the process ends: setup + run + grace, then SIGALRM. */
	limit = strcmp(dopt.cmd, "fresh") == 0 ? dopt.count * (dopt.grace + 30.0)
					       : dopt.seconds + dopt.grace + 60.0;
	alarm((unsigned)limit + 1);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(dopt.cmd, "sign") == 0 && dopt.module && dopt.label)
		return cmd_sign();
	if (strcmp(dopt.cmd, "fresh") == 0 && dopt.module && dopt.label)
		return cmd_fresh();
	if (strcmp(dopt.cmd, "flood") == 0 && dopt.address)
		return cmd_flood();
	if (strcmp(dopt.cmd, "handshake") == 0 && dopt.address && dopt.server_pk && dopt.client_key)
		return cmd_handshake();
	if (strcmp(dopt.cmd, "junk") == 0 && dopt.address)
		return cmd_junk();
	usage();
	return 2;
}
