/*
 * lurk-bench hs: an independent TLS client (OpenSSL's libssl) driving full
 * TLS 1.3 handshakes against a real server (gnutls-serv, nginx) on
 * loopback, N threads, each one connection at a time.
 *
 * Every handshake is full: no session cache, no tickets asked for or kept,
 * a new SSL object per connection. The server's chain is verified against
 * --cafile and its name against --host (default localhost); a handshake
 * that fails, fails to verify or was resumed counts as an error. Once the
 * client has sent its Finished (the server has signed by then) it closes
 * with a reset (SO_LINGER 0), so thousands of handshakes per second leave
 * no TIME_WAIT behind to exhaust loopback's ports. Each socket has a 5 s
 * send and receive timeout, so a stalled server ends a handshake as an
 * error instead of hanging the loop.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench.h"

static SSL_CTX *ctx;
static struct sockaddr_in peer;

/* One handshake on a new connection: 0 if full, verified and not resumed. */
static int
handshake(void)
{
	struct timeval tv = {5, 0};
	struct linger lg = {1, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, r = -1;
	SSL *s = NULL;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
		connect(fd, (struct sockaddr *)&peer, sizeof(peer)) != 0)
		goto out;
	if ((s = SSL_new(ctx)) == NULL || SSL_set_fd(s, fd) != 1 ||
		SSL_set_tlsext_host_name(s, opt.host) != 1 || SSL_set1_host(s, opt.host) != 1)
		goto out;
	if (SSL_connect(s) == 1 && SSL_get_verify_result(s) == X509_V_OK &&
		SSL_get0_peer_certificate(s) != NULL && !SSL_session_reused(s) &&
		SSL_version(s) == TLS1_3_VERSION)
		r = 0;
out:
	ERR_clear_error(); /* the error queue is per thread; keep it empty */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	SSL_free(s);
	close(fd);
	return r;
}

static void *
hs_client(void *arg)
{
	struct worker *w = arg;

	/* One handshake before the clock: the server's workers have their keys. */
	if (handshake() != 0)
		w->errors++;
	pthread_barrier_wait(&bench_ready);
	pthread_barrier_wait(&bench_go);
	while (bench_more(w)) {
		double t0 = bench_now();
		if (handshake() != 0)
			w->errors++;
		else
			bench_record(w, t0);
	}
	return NULL;
}

/* --connect 127.0.0.1:PORT (IPv4 loopback: the benchmark runs on one machine). */
static int
parse_peer(const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;
	char *end;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535 ||
		inet_pton(AF_INET, host, &peer.sin_addr) != 1)
		return -1;
	peer.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)port);
	return 0;
}

int
bench_cmd_hs(void)
{
	if (opt.connect == NULL || opt.cafile == NULL || parse_peer(opt.connect) != 0) {
		fprintf(stderr, "lurk-bench hs: --connect 127.0.0.1:PORT and --cafile FILE\n");
		return 2;
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
		SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
		SSL_CTX_load_verify_locations(ctx, opt.cafile, NULL) != 1) {
		fprintf(stderr, "lurk-bench hs: cannot set up the client (CA %s)\n", opt.cafile);
		SSL_CTX_free(ctx);
		return 1;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	bench_run(hs_client, opt.threads, "hs");
	SSL_CTX_free(ctx);
	return 0;
}
