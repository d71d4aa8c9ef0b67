/*
 * lurk-bench: the measurements of docs/benchmark.md, one CSV line per run.
 *
 *   lurk-bench sign --name NAME --alg ecdsa|ed25519|rsa --threads N --seconds S
 *              (--key FILE.pem | --module SO --token LABEL --label KEY [--pin PIN])
 *              [--cpu-pid PID]
 *     sign,NAME,ALG,THREADS,OPS,SECONDS,OPS_PER_S,P50_US,P99_US,ERRORS,SERVER_CPU_US_PER_OP
 *     In-process GnuTLS with --key; any PKCS#11 module otherwise (lurk,
 *     SoftHSM2, p11-kit-client). --cpu-pid: the CPU time that process spent
 *     per operation (lurkd's cost per signature).
 *
 *   lurk-bench tls --name NAME --cert CERT --key KEY [--provider SO] --conns N --seconds S
 *     tls,NAME,-,CONNS,HANDSHAKES,SECONDS,PER_S,P50_US,P99_US,ERRORS,
 *     TLS 1.3 full handshakes against a GnuTLS server in this process
 *     (--server-threads, default 4, each with its own credentials so a
 *     PKCS#11 key is not serialised through one session), N client threads.
 *
 *   lurk-bench connect --address ADDR --server-pk B64 --client-key FILE --count N
 *     connect,lurk,-,1,N,SECONDS,PER_S,P50_US,P99_US,ERRORS,
 *     Connect, Noise handshake and one ping, N times.
 *
 * Every loop is bounded by its time and a sample cap.
 */
#include "config.h"

#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs11.h>
#include <sodium.h>

#include "ckm.h"
#include "client/conn.h"
#include "keyfile.h"
#include "wire.h"

#define MAX_THREADS 64
#define MAX_SAMPLES 200000 /* per thread */

static struct {
	const char *cmd, *name, *alg, *key, *cert, *module, *token, *label, *pin, *provider;
	const char *address, *server_pk, *client_key;
	int threads, count, cpu_pid, server_threads;
	double seconds;
} o = {.name = "?", .alg = "ecdsa", .threads = 1, .count = 100, .seconds = 3, .server_threads = 4};

struct worker {
	pthread_t t;
	int id;
	uint32_t *lat; /* µs */
	size_t n, errors;
};

static CK_FUNCTION_LIST *p11;
static double t_end;
static pthread_barrier_t ready, go; /* workers set up; then the clock starts */
static volatile int stop_flag;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Merges the samples and prints the CSV line. */
static void
report(const char *kind, struct worker *w, int nw, double secs, const char *extra)
{
	size_t total = 0, errors = 0, k = 0;
	uint32_t *all;

	for (int i = 0; i < nw; i++) {
		total += w[i].n;
		errors += w[i].errors;
	}
	all = malloc((total ? total : 1) * sizeof(*all));
	for (int i = 0; i < nw; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof(*all));
		k += w[i].n;
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	printf("%s,%s,%s,%d,%zu,%.3f,%.1f,%u,%u,%zu,%s\n", kind, o.name,
		strcmp(kind, "sign") == 0 ? o.alg : "-", nw, total, secs, total / secs,
		total ? all[total / 2] : 0, total ? all[(size_t)(total * 0.99)] : 0, errors, extra);
	free(all);
}

/* The data each algorithm signs, as a TLS server would hand it over. */
static size_t
input(uint8_t *buf)
{
	static const uint8_t di[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	static const char ctx[] = "TLS 1.3, server CertificateVerify";

	if (strcmp(o.alg, "ed25519") == 0) {
		memset(buf, 0x20, 64);
		memcpy(buf + 64, ctx, sizeof(ctx));
		randombytes_buf(buf + 64 + sizeof(ctx), 32);
		return 64 + sizeof(ctx) + 32;
	}
	if (strcmp(o.alg, "rsa") == 0 && o.module != NULL) {
		memcpy(buf, di, sizeof(di));
		randombytes_buf(buf + sizeof(di), 32);
		return sizeof(di) + 32;
	}
	randombytes_buf(buf, 32);
	return 32;
}

static void
record(struct worker *w, double t0)
{
	if (w->n < MAX_SAMPLES)
		w->lat[w->n++] = (uint32_t)((now() - t0) * 1e6);
}

static void *
sign_gnutls(void *arg)
{
	struct worker *w = arg;
	gnutls_datum_t pem = {NULL, 0}, data, sig;
	gnutls_privkey_t k;
	gnutls_sign_algorithm_t alg = strcmp(o.alg, "ecdsa") == 0 ? GNUTLS_SIGN_ECDSA_SHA256
				      : strcmp(o.alg, "rsa") == 0 ? GNUTLS_SIGN_RSA_SHA256
								  : GNUTLS_SIGN_EDDSA_ED25519;
	uint8_t buf[256];

	if (gnutls_load_file(o.key, &pem) < 0 || gnutls_privkey_init(&k) < 0 ||
		gnutls_privkey_import_x509_raw(k, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
		w->errors++;
		pthread_barrier_wait(&ready);
		pthread_barrier_wait(&go);
		return NULL;
	}
	/* Warm up (GnuTLS sets up per-thread state on first use), then wait for the start. */
	data.data = buf;
	data.size = (unsigned)input(buf);
	if ((strcmp(o.alg, "ed25519") == 0
			    ? gnutls_privkey_sign_data2(k, alg, 0, &data, &sig)
			    : gnutls_privkey_sign_hash2(k, alg, 0, &data, &sig)) == 0)
		gnutls_free(sig.data);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	while (now() < t_end && w->n < MAX_SAMPLES) {
		double t0 = now();
		int r;
		data.data = buf;
		data.size = (unsigned)input(buf);
		r = strcmp(o.alg, "ed25519") == 0
			    ? gnutls_privkey_sign_data2(k, alg, 0, &data, &sig)
			    : gnutls_privkey_sign_hash2(k, alg, 0, &data, &sig);
		if (r < 0) {
			w->errors++;
			continue;
		}
		gnutls_free(sig.data);
		record(w, t0);
	}
	gnutls_privkey_deinit(k);
	gnutls_free(pem.data);
	return NULL;
}

static int
p11_key(CK_SESSION_HANDLE *s, CK_OBJECT_HANDLE *key)
{
	CK_SLOT_ID slots[32];
	CK_ULONG n = 32, got = 0;
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &priv, sizeof(priv)}, {CKA_LABEL, (void *)o.label, 0}};
	CK_TOKEN_INFO ti;
	char label[33];

	t[1].ulValueLen = strlen(o.label);
	if (p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_RV rv;
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(label, ti.label, 32);
		label[32] = '\0';
		for (int j = 31; j >= 0 && label[j] == ' '; j--)
			label[j] = '\0';
		if (strcmp(label, o.token) != 0)
			continue;
		if (p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, s) != CKR_OK)
			return -1;
		if (o.pin != NULL) {
			rv = p11->C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)o.pin, strlen(o.pin));
			if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
				return -1;
		}
		if (p11->C_FindObjectsInit(*s, t, 2) != CKR_OK ||
			p11->C_FindObjects(*s, key, 1, &got) != CKR_OK ||
			p11->C_FindObjectsFinal(*s) != CKR_OK || got != 1)
			return -1;
		return 0;
	}
	return -1;
}

static CK_RV mech_rv;

static void *
sign_pkcs11(void *arg)
{
	struct worker *w = arg;
	CK_MECHANISM m = {strcmp(o.alg, "ecdsa") == 0 ? CKM_ECDSA
			  : strcmp(o.alg, "rsa") == 0 ? CKM_RSA_PKCS
						      : CKM_EDDSA,
		NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	uint8_t buf[256], sig[1024];

	if (p11_key(&s, &k) != 0) {
		w->errors++;
		pthread_barrier_wait(&ready);
		pthread_barrier_wait(&go);
		return NULL;
	}
	/* One signature before the clock starts: connections and per-thread state exist. */
	{
		CK_ULONG sl = sizeof(sig), len = input(buf);
		if (p11->C_SignInit(s, &m, k) == CKR_OK)
			(void)p11->C_Sign(s, buf, len, sig, &sl);
	}
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	while (now() < t_end && w->n < MAX_SAMPLES) {
		double t0 = now();
		CK_ULONG sl = sizeof(sig), len = input(buf);
		CK_RV rv = p11->C_SignInit(s, &m, k);
		if (rv == CKR_OK)
			rv = p11->C_Sign(s, buf, len, sig, &sl);
		if (rv != CKR_OK) {
			mech_rv = rv;
			if (++w->errors > 100)
				break;
			continue;
		}
		record(w, t0);
	}
	p11->C_CloseSession(s);
	return NULL;
}

static long long
cpu_ticks(int pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL || (p = strrchr(buf, ')')) == NULL ||
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) !=
			2) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return (long long)(ut + st);
}

static int
run_workers(void *(*fn)(void *), int n, const char *kind, const char *extra_if_none)
{
	struct worker w[MAX_THREADS];
	long long c0 = -1, c1;
	char extra[64] = "";
	double t0;
	size_t ops = 0;

	memset(w, 0, sizeof(w));
	pthread_barrier_init(&ready, NULL, (unsigned)n + 1);
	pthread_barrier_init(&go, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		w[i].id = i;
		w[i].lat = malloc(MAX_SAMPLES * sizeof(uint32_t));
		pthread_create(&w[i].t, NULL, fn, &w[i]);
	}
	/* Every worker has its key (and has warmed up); the clock starts now. */
	pthread_barrier_wait(&ready);
	c0 = o.cpu_pid ? cpu_ticks(o.cpu_pid) : -1;
	t0 = now();
	t_end = t0 + o.seconds;
	pthread_barrier_wait(&go);
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		ops += w[i].n;
	}
	c1 = o.cpu_pid ? cpu_ticks(o.cpu_pid) : -1;
	pthread_barrier_destroy(&ready);
	pthread_barrier_destroy(&go);
	if (c0 >= 0 && c1 >= 0 && ops > 0)
		snprintf(extra, sizeof(extra), "%.1f",
			(double)(c1 - c0) * 1e6 / (double)sysconf(_SC_CLK_TCK) / (double)ops);
	else if (ops == 0 && extra_if_none != NULL)
		snprintf(extra, sizeof(extra), "%s", extra_if_none);
	report(kind, w, n, now() - t0, extra);
	for (int i = 0; i < n; i++)
		free(w[i].lat);
	return 0;
}

static int
cmd_sign(void)
{
	void *h;
	CK_C_GetFunctionList get;
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	char why[64];

	if (o.key != NULL)
		return run_workers(sign_gnutls, o.threads, "sign", NULL);
	if (o.module == NULL || o.token == NULL || o.label == NULL ||
		(h = dlopen(o.module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "lurk-bench: cannot load the module %s\n",
			o.module ? o.module : "");
		return 1;
	}
	*(void **)&get = dlsym(h, "C_GetFunctionList");
	if (get == NULL || get(&p11) != CKR_OK || p11->C_Initialize(&args) != CKR_OK) {
		fprintf(stderr, "lurk-bench: %s does not initialize\n", o.module);
		return 1;
	}
	snprintf(why, sizeof(why), "n/a (CK_RV 0x%lx)", (unsigned long)mech_rv);
	run_workers(sign_pkcs11, o.threads, "sign", mech_rv ? why : "n/a");
	p11->C_Finalize(NULL);
	return 0;
}

/* TLS: a server in this process, clients in threads. */
static int listen_fd;
static int tls_port;

static void *
tls_server(void *arg)
{
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;

	(void)arg;
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
		gnutls_certificate_set_x509_key_file2(
			cred, o.cert, o.key, GNUTLS_X509_FMT_PEM, NULL, 0) < 0 ||
		gnutls_priority_init(&prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL) < 0) {
		fprintf(stderr, "lurk-bench: server credentials failed\n");
		exit(1);
	}
	while (!stop_flag) {
		int fd = accept(listen_fd, NULL, NULL);
		gnutls_session_t s;
		if (fd < 0)
			continue;
		gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_TICKETS);
		gnutls_priority_set(s, prio);
		gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
		gnutls_transport_set_int(s, fd);
		if (gnutls_handshake(s) == 0)
			gnutls_bye(s, GNUTLS_SHUT_WR);
		gnutls_deinit(s);
		close(fd);
	}
	return NULL;
}

static void *
tls_client(void *arg)
{
	struct worker *w = arg;
	gnutls_certificate_credentials_t cred;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)tls_port)};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gnutls_certificate_allocate_credentials(&cred);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	while (now() < t_end && w->n < MAX_SAMPLES) {
		double t0 = now();
		gnutls_session_t s;
		int fd = socket(AF_INET, SOCK_STREAM, 0), r;
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			w->errors++;
			if (fd >= 0)
				close(fd);
			continue;
		}
		gnutls_init(&s, GNUTLS_CLIENT);
		gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL);
		gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
		gnutls_transport_set_int(s, fd);
		r = gnutls_handshake(s);
		gnutls_deinit(s);
		close(fd);
		if (r < 0)
			w->errors++;
		else
			record(w, t0);
	}
	gnutls_certificate_free_credentials(cred);
	return NULL;
}

static int
cmd_tls(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	pthread_t srv[16];

	if (o.provider != NULL && (gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, NULL) < 0 ||
					  gnutls_pkcs11_add_provider(o.provider, NULL) < 0)) {
		fprintf(stderr, "lurk-bench: cannot load %s\n", o.provider);
		return 1;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((listen_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		listen(listen_fd, 256) != 0 ||
		getsockname(listen_fd, (struct sockaddr *)&sa, &sl) != 0)
		return 1;
	tls_port = ntohs(sa.sin_port);
	for (int i = 0; i < o.server_threads; i++)
		pthread_create(&srv[i], NULL, tls_server, NULL);
	usleep(300000); /* the workers load their keys */
	run_workers(tls_client, o.threads, "tls", NULL);
	stop_flag = 1;
	/* The server threads block in accept; the process ends here. */
	fflush(stdout);
	_exit(0);
}

static int
cmd_connect(void)
{
	uint8_t pk[LURK_NOISE_KEY_LEN], sk[LURK_NOISE_KEY_LEN];
	struct lurk_client_cfg cfg = {.server_pk = pk, .client_sk = sk, 3000, 3000};
	struct worker w = {0};
	const char *why = NULL;
	double t0 = now();

	if (lurk_static_key_b64_decode(o.server_pk, pk) != 0 ||
		lurk_keyfile_read(o.client_key, sk, &why) != 0) {
		fprintf(stderr, "lurk-bench: keys: %s\n", why ? why : "bad server key");
		return 1;
	}
	cfg.address = o.address;
	w.lat = malloc((size_t)o.count * sizeof(uint32_t));
	for (int i = 0; i < o.count && now() - t0 < 60; i++) {
		double t1 = now();
		struct lurk_client *c = NULL;
		struct lurk_buf *req = lurk_buf_new(256), *resp = lurk_buf_new(4096);
		if (lurk_client_connect(&cfg, &c, NULL) == 0 &&
			lurk_wire_ping_req_build(req, lurk_client_next_id(c)) == 0 &&
			lurk_client_call(c, lurk_buf_ptr(req), lurk_buf_len(req), resp) == 0)
			w.lat[w.n++] = (uint32_t)((now() - t1) * 1e6);
		else
			w.errors++;
		lurk_client_free(c);
		lurk_buf_free(req);
		lurk_buf_free(resp);
	}
	o.name = "lurk";
	report("connect", &w, 1, now() - t0, "");
	free(w.lat);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || sodium_init() < 0)
		goto usage;
	o.cmd = argv[1];
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (strcmp(k, "--name") == 0)
			o.name = v;
		else if (strcmp(k, "--alg") == 0)
			o.alg = v;
		else if (strcmp(k, "--key") == 0)
			o.key = v;
		else if (strcmp(k, "--cert") == 0)
			o.cert = v;
		else if (strcmp(k, "--module") == 0)
			o.module = v;
		else if (strcmp(k, "--token") == 0)
			o.token = v;
		else if (strcmp(k, "--label") == 0)
			o.label = v;
		else if (strcmp(k, "--pin") == 0)
			o.pin = v;
		else if (strcmp(k, "--provider") == 0)
			o.provider = v;
		else if (strcmp(k, "--address") == 0)
			o.address = v;
		else if (strcmp(k, "--server-pk") == 0)
			o.server_pk = v;
		else if (strcmp(k, "--client-key") == 0)
			o.client_key = v;
		else if (strcmp(k, "--threads") == 0 || strcmp(k, "--conns") == 0)
			o.threads = atoi(v);
		else if (strcmp(k, "--count") == 0)
			o.count = atoi(v);
		else if (strcmp(k, "--seconds") == 0)
			o.seconds = atof(v);
		else if (strcmp(k, "--server-threads") == 0)
			o.server_threads = atoi(v);
		else if (strcmp(k, "--cpu-pid") == 0)
			o.cpu_pid = atoi(v);
		else
			goto usage;
	}
	if (o.server_threads < 1 || o.server_threads > 16 || o.threads < 1 ||
		o.threads > MAX_THREADS || o.seconds <= 0 || o.seconds > 600 || o.count < 1 ||
		o.count > 100000)
		goto usage;
	if (strcmp(o.cmd, "sign") == 0)
		return cmd_sign();
	if (strcmp(o.cmd, "tls") == 0 && o.cert != NULL && o.key != NULL)
		return cmd_tls();
	if (strcmp(o.cmd, "connect") == 0 && o.address && o.server_pk && o.client_key)
		return cmd_connect();
usage:
	fprintf(stderr, "usage: see the comment at the top of bench/lurk-bench.c\n");
	return 2;
}
