/*
 * Signing and decryption through lurk-pkcs11.so against a real lurkd, every
 * signature verified with the certificate's public key: each key type and
 * mechanism, the size-query rules GnuTLS relies on, multi-part combined
 * mechanisms, policy refusals, many threads at once, fork, and (in the
 * modes test-module.sh selects with LURK_TEST_MODE) a key server that dies
 * and comes back, failover to a second server, and a broken configuration.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <sodium.h>

#include "p11-test.h"
#include "tap.h"

static CK_SESSION_HANDLE sess;

static void
setup(void)
{
	p11_init();
	sess = p11_session();
}

/* Signs data with key/mech and checks the result verifies. */
static void
sign_ok(const char *label, CK_MECHANISM_TYPE mech, const void *params, size_t params_len,
	const uint8_t *data, size_t len)
{
	CK_OBJECT_HANDLE k = p11_find(sess, CKO_PRIVATE_KEY, label);
	uint8_t sig[1024];
	size_t sig_len = sizeof(sig);
	CK_RV rv = p11_sign(sess, k, mech, params, params_len, data, len, sig, &sig_len);

	if (rv != CKR_OK)
		lurk_test_fail(__FILE__, __LINE__, "%s mech 0x%lx: rv 0x%lx", label, mech, rv);
	if (!p11_verify(sess, label, mech, data, len, sig, sig_len))
		lurk_test_fail(__FILE__, __LINE__, "%s mech 0x%lx: bad signature", label, mech);
}

static void
test_sign_each(void)
{
	CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	uint8_t h[64], di[64], msg[256];
	size_t n;

	setup();
	randombytes_buf(h, sizeof(h));
	n = digest_info_sha256(di);
	sign_ok("rsa2048", CKM_RSA_PKCS, NULL, 0, di, n);
	sign_ok("rsa3072", CKM_RSA_PKCS, NULL, 0, di, n);
	sign_ok("rsa2048", CKM_RSA_PKCS_PSS, &pss, sizeof(pss), h, 32);
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	sign_ok("ec384", CKM_ECDSA, NULL, 0, h, 48);
	sign_ok("ec521", CKM_ECDSA, NULL, 0, h, 64);
	n = tls13_content(msg, 32);
	sign_ok("ed25519", CKM_EDDSA, NULL, 0, msg, n);
	/* Combined mechanisms in one C_Sign: the whole content goes to lurkd. */
	sign_ok("ec256", CKM_ECDSA_SHA256, NULL, 0, msg, n);
	sign_ok("rsa2048", CKM_SHA256_RSA_PKCS_PSS, NULL, 0, msg, n);
	p11_fini();
}

/* GnuTLS's sequence: C_Sign(NULL) for the length, then the real call. */
static void
test_size_query(void)
{
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_OBJECT_HANDLE k;
	uint8_t h[48], sig[200];
	CK_ULONG n = 0;

	setup();
	randombytes_buf(h, sizeof(h));
	k = p11_find(sess, CKO_PRIVATE_KEY, "ec384");
	assert_num_eq(p11->C_Sign(sess, h, 48, NULL, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_num_eq(p11->C_SignInit(sess, &m, k), CKR_OK);
	assert_num_eq(p11->C_SignInit(sess, &m, k), CKR_OPERATION_ACTIVE);
	assert_num_eq(p11->C_Sign(sess, h, 48, NULL, &n), CKR_OK);
	assert_num_eq(n, 96); /* r‖s, 48 bytes each */
	n = 10;
	assert_num_eq(p11->C_Sign(sess, h, 48, sig, &n), CKR_BUFFER_TOO_SMALL);
	assert_num_eq(n, 96);
	n = sizeof(sig);
	assert_num_eq(p11->C_Sign(sess, h, 48, sig, &n), CKR_OK);
	assert_num_eq(n, 96);
	assert_true(p11_verify(sess, "ec384", CKM_ECDSA, h, 48, sig, n));
	/* The operation ended with the signature. */
	assert_num_eq(p11->C_Sign(sess, h, 48, sig, &n), CKR_OPERATION_NOT_INITIALIZED);
	p11_fini();
}

static void
test_multipart(void)
{
	CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0}, raw = {CKM_ECDSA, NULL, 0};
	CK_OBJECT_HANDLE k;
	uint8_t msg[256], sig[128];
	CK_ULONG n = 0;
	size_t len;

	setup();
	len = tls13_content(msg, 32);
	k = p11_find(sess, CKO_PRIVATE_KEY, "ec256");
	assert_num_eq(p11->C_SignInit(sess, &m, k), CKR_OK);
	/* In pieces, as pkcs11-provider sends TLS content through EVP_DigestSign. */
	assert_num_eq(p11->C_SignUpdate(sess, msg, 40), CKR_OK);
	assert_num_eq(p11->C_SignUpdate(sess, msg + 40, 0), CKR_OK);
	assert_num_eq(p11->C_SignUpdate(sess, msg + 40, len - 40), CKR_OK);
	assert_num_eq(p11->C_Sign(sess, msg, len, sig, &n), CKR_OPERATION_ACTIVE);
	assert_num_eq(p11->C_SignFinal(sess, NULL, &n), CKR_OK);
	assert_num_eq(n, 64);
	assert_num_eq(p11->C_SignFinal(sess, sig, &n), CKR_OK);
	assert_true(p11_verify(sess, "ec256", CKM_ECDSA_SHA256, msg, len, sig, n));
	/* Single-part mechanisms take no C_SignUpdate. */
	assert_num_eq(p11->C_SignInit(sess, &raw, k), CKR_OK);
	assert_num_eq(p11->C_SignUpdate(sess, msg, 32), CKR_MECHANISM_INVALID);
	assert_num_eq(p11->C_SignFinal(sess, sig, &n), CKR_OPERATION_NOT_INITIALIZED);
	p11_fini();
}

static void
test_refused(void)
{
	CK_RSA_PKCS_PSS_PARAMS salt0 = {CKM_SHA256, CKG_MGF1_SHA256, 0};
	uint8_t junk[100], sig[512], h[32];
	size_t n = sizeof(sig);
	CK_ULONG cn = sizeof(sig);

	setup();
	randombytes_buf(junk, sizeof(junk));
	randombytes_buf(h, sizeof(h));
	/* Arbitrary data under EdDSA and a combined mechanism: lurkd sees it is no TLS input. */
	assert_num_eq(p11_sign(sess, p11_find(sess, CKO_PRIVATE_KEY, "ed25519"), CKM_EDDSA, NULL, 0,
			      junk, sizeof(junk), sig, &n),
		CKR_FUNCTION_REJECTED);
	/* The refusal ended the operation. */
	assert_num_eq(p11->C_Sign(sess, junk, 10, sig, &cn), CKR_OPERATION_NOT_INITIALIZED);
	n = sizeof(sig);
	assert_num_eq(p11_sign(sess, p11_find(sess, CKO_PRIVATE_KEY, "ec256"), CKM_ECDSA_SHA256,
			      NULL, 0, junk, sizeof(junk), sig, &n),
		CKR_FUNCTION_REJECTED);
	n = sizeof(sig);
	assert_num_eq(p11_sign(sess, p11_find(sess, CKO_PRIVATE_KEY, "ec256"), CKM_ECDSA, NULL, 0,
			      junk, 33, sig, &n),
		CKR_FUNCTION_REJECTED);
	n = sizeof(sig);
	assert_num_eq(p11_sign(sess, p11_find(sess, CKO_PRIVATE_KEY, "rsa2048"), CKM_RSA_PKCS_PSS,
			      &salt0, sizeof(salt0), h, 32, sig, &n),
		CKR_FUNCTION_REJECTED);
	n = sizeof(sig);
	assert_num_eq(p11_sign(sess, p11_find(sess, CKO_PRIVATE_KEY, "rsa2048"), CKM_RSA_PKCS, NULL,
			      0, h, 32, sig, &n),
		CKR_FUNCTION_REJECTED);
	p11_fini();
}

/* Encrypts a TLS premaster secret to the certificate's key. */
static void
encrypt_pms(const char *label, const uint8_t *pms, uint8_t *ct, size_t *ct_len)
{
	gnutls_pubkey_t pub = p11_cert_pubkey(sess, label);
	gnutls_datum_t pd = {(void *)pms, 48}, out;

	assert_true(gnutls_pubkey_encrypt_data(pub, 0, &pd, &out) == 0);
	memcpy(ct, out.data, out.size);
	*ct_len = out.size;
	gnutls_free(out.data);
	gnutls_pubkey_deinit(pub);
}

static void
test_decrypt(void)
{
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0}, oaep = {CKM_RSA_PKCS_OAEP, NULL, 0};
	uint8_t pms[48], ct[512], pt[512];
	size_t ct_len;
	CK_ULONG n;
	CK_OBJECT_HANDLE k;

	setup();
	pms[0] = 3;
	pms[1] = 3;
	randombytes_buf(pms + 2, 46);
	encrypt_pms("rsa2048", pms, ct, &ct_len);
	k = p11_find(sess, CKO_PRIVATE_KEY, "rsa2048");
	assert_num_eq(p11->C_DecryptInit(sess, &oaep, k), CKR_MECHANISM_INVALID);
	assert_num_eq(p11->C_DecryptInit(sess, &m, k), CKR_OK);
	n = 0;
	assert_num_eq(p11->C_Decrypt(sess, ct, ct_len, NULL, &n), CKR_OK);
	assert_num_eq(n, 48);
	n = sizeof(pt);
	assert_num_eq(p11->C_Decrypt(sess, ct, ct_len, pt, &n), CKR_OK);
	assert_num_eq(n, 48);
	assert_mem_eq(pt, pms, 48);
	/* rsa3072 has RSA key-exchange decryption off (the default): refused. */
	encrypt_pms("rsa3072", pms, ct, &ct_len);
	k = p11_find(sess, CKO_PRIVATE_KEY, "rsa3072");
	assert_num_eq(p11->C_DecryptInit(sess, &m, k), CKR_OK);
	n = sizeof(pt);
	assert_num_eq(p11->C_Decrypt(sess, ct, ct_len, pt, &n), CKR_FUNCTION_REJECTED);
	p11_fini();
}

#define THREADS     8
#define PER_THREAD  40
#define THREAD_TIME 30000 /* ms, a bound, not a target */

struct worker {
	pthread_t t;
	int ok, bad;
};

static void *
worker(void *arg)
{
	struct worker *w = arg;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k = 0;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	int64_t end = now_ms() + THREAD_TIME;

	/* No test asserts here (they jump): count, and the main thread checks. */
	if (p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
		p11_key(s, "ec256", &k) != CKR_OK || k == 0) {
		w->bad = PER_THREAD;
		return NULL;
	}
	for (int i = 0; i < PER_THREAD && now_ms() < end; i++) {
		uint8_t h[32], sig[64];
		CK_ULONG n = sizeof(sig);
		randombytes_buf(h, sizeof(h));
		if (p11->C_SignInit(s, &m, k) == CKR_OK &&
			p11->C_Sign(s, h, 32, sig, &n) == CKR_OK && n == 64)
			w->ok++;
		else
			w->bad++;
	}
	p11->C_CloseSession(s);
	return NULL;
}

static void
test_threads(void)
{
	struct worker w[THREADS];
	int ok = 0, bad = 0;
	int64_t t0;

	setup();
	memset(w, 0, sizeof(w));
	t0 = now_ms();
	for (int i = 0; i < THREADS; i++)
		assert_num_eq(pthread_create(&w[i].t, NULL, worker, &w[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(w[i].t, NULL);
		ok += w[i].ok;
		bad += w[i].bad;
	}
	lurk_test_diag("%d threads: %d signatures in %lld ms, %d failed", THREADS, ok,
		(long long)(now_ms() - t0), bad);
	assert_num_eq(bad, 0);
	assert_num_eq(ok, THREADS * PER_THREAD);
	p11_fini();
}

static void
test_fork(void)
{
	uint8_t h[32], sig[64];
	int status;

	setup();
	randombytes_buf(h, sizeof(h));
	/* The parent has a pooled connection; the children must not touch it. */
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	for (int reinit = 0; reinit < 2; reinit++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(p11_child_sign(reinit, h, sig));
		assert_num_eq(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_num_eq(WEXITSTATUS(status), 0);
		/* Had a child sent on the parent's channel, nonces would clash here. */
		randombytes_buf(h, sizeof(h));
		sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	}
	p11_fini();
}

/* LURK_TEST_MODE=outage: LURK_TEST_STOP and LURK_TEST_START are shell commands. */
static void
test_outage(void)
{
	CK_OBJECT_HANDLE k;
	uint8_t h[32], sig[64];
	size_t n;
	int64_t t0, took;

	setup();
	randombytes_buf(h, sizeof(h));
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	k = p11_find(sess, CKO_PRIVATE_KEY, "ec256");
	assert_num_eq(system(getenv("LURK_TEST_STOP")), 0);
	t0 = now_ms();
	n = sizeof(sig);
	assert_num_eq(p11_sign(sess, k, CKM_ECDSA, NULL, 0, h, 32, sig, &n), CKR_DEVICE_ERROR);
	took = now_ms() - t0;
	lurk_test_diag("dead server: CKR_DEVICE_ERROR after %lld ms", (long long)took);
	assert_num_cmp(took, <, 3000); /* connect-timeout is 1000 ms in this mode */
	/* Metadata is still answered from the cache. */
	(void)p11_find(sess, CKO_PRIVATE_KEY, "rsa2048");
	assert_num_eq(system(getenv("LURK_TEST_START")), 0);
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	/* A restart under an idle pooled connection: the sign is retried on a fresh one. */
	assert_num_eq(system(getenv("LURK_TEST_STOP")), 0);
	assert_num_eq(system(getenv("LURK_TEST_START")), 0);
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	p11_fini();
}

/* LURK_TEST_MODE=failover: the first [server] does not exist. */
static void
test_failover(void)
{
	uint8_t h[32];
	int64_t t0 = now_ms(), took;

	setup();
	for (int i = 0; i < 20; i++) {
		randombytes_buf(h, sizeof(h));
		sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	}
	took = now_ms() - t0;
	lurk_test_diag("20 signatures with one of two servers dead: %lld ms", (long long)took);
	assert_num_cmp(took, <, 5000);
	p11_fini();
}

/* The session's own lock is not held across the network: a thread asks about it meanwhile. */
struct info_probe {
	pthread_t t;
	int64_t took_ms;
	CK_RV rv;
};

static void *
probe_session_info(void *arg)
{
	struct info_probe *pr = arg;
	struct timespec pause = {0, 200 * 1000000L}; /* while the key list is being fetched */
	CK_SESSION_INFO info;
	int64_t t0;

	nanosleep(&pause, NULL);
	t0 = now_ms();
	pr->rv = p11->C_GetSessionInfo(sess, &info);
	pr->took_ms = now_ms() - t0;
	return NULL;
}

/*
 * LURK_TEST_MODE=hang: a server that takes the TCP connection and never
 * answers (a listening socket nobody accepts on) costs the connect timeout,
 * then CKR_DEVICE_ERROR; never a hang. Meanwhile the session answers other
 * calls at once: no lock is held across the round trip.
 */
static void
test_hang(void)
{
	struct info_probe pr = {0};
	const char *dir = getenv("LURK_TEST_DIR");
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char conf[4096], pub[128];
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = {CKA_CLASS, &priv, sizeof(priv)};
	FILE *f;
	int fd;
	int64_t t0, took;

	assert_ptr_not_null(dir);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_num_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_num_eq(listen(fd, 8), 0);
	assert_num_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(conf, sizeof(conf), "%s/server.pub", dir);
	assert_ptr_not_null(f = fopen(conf, "r"));
	assert_ptr_not_null(fgets(pub, sizeof(pub), f));
	fclose(f);
	snprintf(conf, sizeof(conf), "%s/hang.conf", dir);
	assert_ptr_not_null(f = fopen(conf, "w"));
	fprintf(f,
		"[module]\nclient-key = %s/a.key\nconnect-timeout = 1000\n\n[server mute]\n"
		"address = tcp:127.0.0.1:%u\npublic-key = %s\n",
		dir, ntohs(sa.sin_port), pub);
	fclose(f);
	setenv("LURK_PKCS11_CONF", conf, 1);
	setup();
	assert_num_eq(pthread_create(&pr.t, NULL, probe_session_info, &pr), 0);
	t0 = now_ms();
	assert_num_eq(p11->C_FindObjectsInit(sess, &t, 1), CKR_DEVICE_ERROR);
	took = now_ms() - t0;
	assert_num_eq(pthread_join(pr.t, NULL), 0);
	lurk_test_diag("mute server: CKR_DEVICE_ERROR after %lld ms; C_GetSessionInfo on the "
		       "same session meanwhile: %lld ms",
		(long long)took, (long long)pr.took_ms);
	assert_num_cmp(took, >=, 900);
	assert_num_cmp(took, <, 2500);
	assert_num_eq(pr.rv, CKR_OK);
	/* Held across the round trip, the lock would have made it wait out the 1 s timeout. */
	assert_num_cmp(pr.took_ms, <, 500);
	p11_fini();
	close(fd);
}

/*
 * A unix-socket relay in front of lurkd, standing in for a server that
 * closes connections: with kill_next set it closes the connection of the
 * next request (on a session already made) instead of passing it on, as
 * lurkd does when the request comes just past session-max-age; with
 * close_idle set it closes every connection at once, as lurkd does at
 * session-max-age, on a reload or when it stops. It counts what it did.
 */
#define RELAY_MAX 16

struct relay {
	pthread_t t;
	int lfd;
	char target[108];
	int wake[2];
	int kill_next, close_idle, stop; /* under lock */
	int accepted, killed, closed;    /* under lock */
	pthread_mutex_t lock;
	struct {
		int c, s;    /* client side, server side; -1 when free */
		int session; /* the server has answered on it */
	} p[RELAY_MAX];
};

static void
relay_close(struct relay *r, int i)
{
	close(r->p[i].c);
	close(r->p[i].s);
	r->p[i].c = r->p[i].s = -1;
	r->p[i].session = 0;
}

/* Moves what is readable on from to to; 0 when from closed or failed. */
static int
relay_move(int from, int to)
{
	uint8_t b[16384];
	ssize_t n = recv(from, b, sizeof(b), 0), off = 0;

	if (n <= 0)
		return 0;
	while (off < n) {
		ssize_t w = send(to, b + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w <= 0)
			return 0;
		off += w;
	}
	return 1;
}

static void *
relay_run(void *arg)
{
	struct relay *r = arg;

	for (;;) {
		struct pollfd pf[2 + 2 * RELAY_MAX];
		int idx[2 + 2 * RELAY_MAX], n = 2;

		pthread_mutex_lock(&r->lock);
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		if (r->close_idle) {
			for (int i = 0; i < RELAY_MAX; i++)
				if (r->p[i].c >= 0) {
					relay_close(r, i);
					r->closed++;
				}
			r->close_idle = 0;
		}
		pthread_mutex_unlock(&r->lock);
		pf[0] = (struct pollfd){.fd = r->lfd, .events = POLLIN};
		pf[1] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
		for (int i = 0; i < RELAY_MAX; i++)
			if (r->p[i].c >= 0) {
				idx[n] = i;
				pf[n++] = (struct pollfd){.fd = r->p[i].c, .events = POLLIN};
				idx[n] = i;
				pf[n++] = (struct pollfd){.fd = r->p[i].s, .events = POLLIN};
			}
		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		if (pf[1].revents) {
			char b[16];
			if (read(r->wake[0], b, sizeof(b)) < 0)
				continue;
		}
		if (pf[0].revents & POLLIN) {
			struct sockaddr_un sa = {.sun_family = AF_UNIX};
			int c = accept(r->lfd, NULL, NULL), s = socket(AF_UNIX, SOCK_STREAM, 0), i;
			memcpy(sa.sun_path, r->target, strlen(r->target) + 1);
			for (i = 0; i < RELAY_MAX && r->p[i].c >= 0; i++)
				;
			if (c < 0 || s < 0 || i == RELAY_MAX ||
				connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
				close(c);
				close(s);
			} else {
				pthread_mutex_lock(&r->lock);
				r->p[i].c = c;
				r->p[i].s = s;
				r->accepted++;
				pthread_mutex_unlock(&r->lock);
			}
			continue; /* the table changed: poll again */
		}
		for (int k = 2; k < n; k++) {
			int i = idx[k], from_client = (k % 2) == 0;
			if (!pf[k].revents || r->p[i].c < 0)
				continue;
			pthread_mutex_lock(&r->lock);
			if (from_client && r->p[i].session && r->kill_next) {
				r->kill_next = 0;
				r->killed++;
				relay_close(r, i);
			} else if (!relay_move(from_client ? r->p[i].c : r->p[i].s,
					   from_client ? r->p[i].s : r->p[i].c)) {
				relay_close(r, i);
			} else if (!from_client) {
				r->p[i].session = 1;
			}
			pthread_mutex_unlock(&r->lock);
		}
	}
	return NULL;
}

static void
relay_start(struct relay *r, const char *listen_path, const char *target)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < RELAY_MAX; i++)
		r->p[i].c = r->p[i].s = -1;
	assert_num_cmp(strlen(target), <, sizeof(r->target));
	assert_num_cmp(strlen(listen_path), <, sizeof(sa.sun_path));
	memcpy(r->target, target, strlen(target) + 1);
	memcpy(sa.sun_path, listen_path, strlen(listen_path) + 1);
	unlink(sa.sun_path);
	assert_num_eq(pthread_mutex_init(&r->lock, NULL), 0);
	assert_num_eq(pipe(r->wake), 0);
	assert_true((r->lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_num_eq(bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_num_eq(listen(r->lfd, 16), 0);
	assert_num_eq(pthread_create(&r->t, NULL, relay_run, r), 0);
}

/* Sets *flag under the relay's lock and wakes it. */
static void
relay_set(struct relay *r, int *flag)
{
	pthread_mutex_lock(&r->lock);
	*flag = 1;
	pthread_mutex_unlock(&r->lock);
	assert_num_eq(write(r->wake[1], "x", 1), 1);
}

/* Reads a counter under the relay's lock, once the relay has done what it was told. */
static int
relay_count(struct relay *r, int *counter)
{
	int v;

	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&r->lock);
		v = r->close_idle;
		pthread_mutex_unlock(&r->lock);
		if (!v)
			break;
		usleep(5000);
	}
	pthread_mutex_lock(&r->lock);
	v = *counter;
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void
relay_stop(struct relay *r)
{
	relay_set(r, &r->stop);
	pthread_join(r->t, NULL);
	for (int i = 0; i < RELAY_MAX; i++)
		if (r->p[i].c >= 0)
			relay_close(r, i);
	close(r->lfd);
	close(r->wake[0]);
	close(r->wake[1]);
	pthread_mutex_destroy(&r->lock);
}

/*
 * LURK_TEST_MODE=reuse: the server closes pooled connections (LURK_TEST_DIR
 * holds lurkd's socket and keys). A connection it closed while idle is
 * replaced before use; one it closes as a request arrives costs one retry on
 * a new connection to the same server. Neither is an error nor a server
 * down: test-module.sh checks the module logged no warning, and counts the
 * info lines.
 */
static void
test_reuse(void)
{
	const char *dir = getenv("LURK_TEST_DIR");
	char conf[4096], pub[128], sock[200], target[200];
	struct relay r;
	uint8_t h[32];
	FILE *f;

	assert_ptr_not_null(dir);
	snprintf(sock, sizeof(sock), "%s/relay.sock", dir);
	snprintf(target, sizeof(target), "%s/lurkd.sock", dir);
	relay_start(&r, sock, target);
	snprintf(conf, sizeof(conf), "%s/server.pub", dir);
	assert_ptr_not_null(f = fopen(conf, "r"));
	assert_ptr_not_null(fgets(pub, sizeof(pub), f));
	fclose(f);
	snprintf(conf, sizeof(conf), "%s/relay.conf", dir);
	assert_ptr_not_null(f = fopen(conf, "w"));
	fprintf(f,
		"[module]\nclient-key = %s/a.key\nconnect-timeout = 1000\ntimeout = 2000\n\n"
		"[server relayed]\naddress = unix:%s\npublic-key = %s\n",
		dir, sock, pub);
	fclose(f);
	setenv("LURK_PKCS11_CONF", conf, 1);
	setup(); /* the key list came through the relay: one connection, now idle */
	randombytes_buf(h, sizeof(h));
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	assert_num_eq(relay_count(&r, &r.accepted), 1);

	/* Closed as the request arrives: one retry, on a new connection to the same server. */
	relay_set(&r, &r.kill_next);
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	assert_num_eq(relay_count(&r, &r.killed), 1);
	assert_num_eq(relay_count(&r, &r.accepted), 2);
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32); /* the new one went back to the pool */
	assert_num_eq(relay_count(&r, &r.accepted), 2);

	/* Closed while idle, three times: replaced before use, each time. */
	for (int i = 0; i < 3; i++) {
		relay_set(&r, &r.close_idle);
		assert_num_eq(relay_count(&r, &r.closed), i + 1);
		usleep(20000); /* the close reaches the module's socket */
		sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
		assert_num_eq(relay_count(&r, &r.accepted), 3 + i);
	}
	p11_fini();
	relay_stop(&r);
	unlink(sock);
}

/*
 * LURK_TEST_MODE=age: lurkd runs with session-max-age = 10 (its minimum) and
 * closes each session at that age, idle or not. Signing every 250 ms for
 * LURK_TEST_AGE_S seconds crosses that, and every signature is made.
 */
static void
test_age(void)
{
	const char *v = getenv("LURK_TEST_AGE_S");
	int64_t end;
	int n = 0;

	setup();
	end = now_ms() + (v ? atoi(v) : 12) * 1000;
	while (now_ms() < end) {
		uint8_t h[32];
		randombytes_buf(h, sizeof(h));
		sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
		n++;
		usleep(250000);
	}
	lurk_test_diag("%d signatures across session-max-age", n);
	p11_fini();
}

/* LURK_TEST_MODE=pin: the client key is PIN-protected (LURK_TEST_PIN). */
static void
test_pin(void)
{
	const char *pin = getenv("LURK_TEST_PIN");
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = {CKA_CLASS, &priv, sizeof(priv)};
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_BBOOL is_private = 0;
	CK_ATTRIBUTE a = {CKA_PRIVATE, &is_private, 1};
	CK_TOKEN_INFO ti;
	CK_OBJECT_HANDLE k;
	uint8_t h[32];

	assert_ptr_not_null(pin);
	setup();
	assert_num_eq(p11->C_GetTokenInfo(0, &ti), CKR_OK);
	assert_true(ti.flags & CKF_LOGIN_REQUIRED);
	/* Before login nothing is known (nothing can reach lurkd without the key). */
	assert_num_eq(p11_count(sess, &t, 1), 0);
	assert_num_eq(p11_count(sess, NULL, 0), 0);
	assert_num_eq(
		p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR) "wrong", 5), CKR_PIN_INCORRECT);
	assert_num_eq(p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
	assert_num_eq(p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)),
		CKR_USER_ALREADY_LOGGED_IN);
	assert_num_eq(p11_count(sess, &t, 1), 1); /* this client may use ec256 only */
	k = p11_find(sess, CKO_PRIVATE_KEY, "ec256");
	assert_num_eq(p11->C_GetAttributeValue(sess, k, &a, 1), CKR_OK);
	assert_true(is_private);
	randombytes_buf(h, sizeof(h));
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	/* Logged out, the key is closed: no signing until the next login. */
	assert_num_eq(p11->C_Logout(sess), CKR_OK);
	assert_num_eq(p11->C_SignInit(sess, &m, k), CKR_USER_NOT_LOGGED_IN);
	assert_num_eq(p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
	sign_ok("ec256", CKM_ECDSA, NULL, 0, h, 32);
	p11_fini();
}

/* LURK_TEST_MODE=noconf: a broken file leaves a working module with no slot. */
static void
test_noconf(void)
{
	CK_ULONG n = 99;
	CK_SESSION_HANDLE s;

	p11_init();
	assert_num_eq(p11->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_num_eq(n, 0);
	assert_num_eq(
		p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_SLOT_ID_INVALID);
	p11_fini();
}

int
main(int argc, char **argv)
{
	const char *mode = getenv("LURK_TEST_MODE");

	if (mode == NULL || strcmp(mode, "ops") == 0) {
		lurk_test(test_sign_each, "/ops/sign-each-key-and-mechanism");
		lurk_test(test_size_query, "/ops/size-query");
		lurk_test(test_multipart, "/ops/multi-part");
		lurk_test(test_refused, "/ops/policy-refusals");
		lurk_test(test_decrypt, "/ops/decrypt");
		lurk_test(test_threads, "/ops/threads");
		lurk_test(test_fork, "/ops/fork");
	} else if (strcmp(mode, "outage") == 0) {
		lurk_test(test_outage, "/ops/server-dies-and-returns");
	} else if (strcmp(mode, "failover") == 0) {
		lurk_test(test_failover, "/ops/failover");
	} else if (strcmp(mode, "threads") == 0) {
		lurk_test(test_threads, "/ops/threads");
	} else if (strcmp(mode, "hang") == 0) {
		lurk_test(test_hang, "/ops/mute-server");
	} else if (strcmp(mode, "pin") == 0) {
		lurk_test(test_pin, "/ops/pin-protected-client-key");
	} else if (strcmp(mode, "reuse") == 0) {
		lurk_test(test_reuse, "/ops/server-closes-pooled-connections");
	} else if (strcmp(mode, "age") == 0) {
		lurk_test(test_age, "/ops/session-max-age");
	} else if (strcmp(mode, "noconf") == 0) {
		lurk_test(test_noconf, "/ops/broken-configuration");
	}
	return lurk_test_run(argc, argv);
}
