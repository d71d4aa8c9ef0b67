/*
 * lurk-bench: the measurements of docs/benchmark.md, one CSV line per run:
 *   KIND,NAME,ALG,THREADS,OPS,SECONDS,OPS_PER_S,P50_US,P99_US,ERRORS,SERVER_CPU_US_PER_OP
 *
 *   lurk-bench sign --name NAME --alg ecdsa|ed25519|rsa --threads N --seconds S
 *              (--key FILE.pem [--lib gnutls|openssl]
 *               | --module SO --token LABEL --label KEY [--pin PIN]) [--cpu-pid PID]
 *     In-process GnuTLS (bench-sign.c) or OpenSSL libcrypto
 *     (bench-openssl.c) with --key; any PKCS#11 module otherwise (lurk,
 *     SoftHSM2, p11-kit-client).
 *
 *   lurk-bench hs --name NAME --alg ecdsa|rsa --connect 127.0.0.1:PORT --conns N
 *              --seconds S --cafile CA.pem [--host NAME] [--cpu-pid PID]
 *     TLS 1.3 full handshakes against a running server, N client threads
 *     on OpenSSL's libssl (bench-hs.c).
 *
 *   lurk-bench connect --address ADDR --server-pk B64 --client-key FILE --count N
 *     Connect, Noise handshake and one ping, N times (ALG is "-").
 *
 * --cpu-pid: the CPU time that process and its children spent per
 * operation (lurkd's or p11-kit server's cost per signature); given twice
 * (a split key's two lurkd), the two processes' time summed. Every loop is
 * bounded by its time, a sample cap and an error cap (bench-run.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench.h"
#include "client/conn.h"
#include "keyfile.h"
#include "wire.h"

int bench_cmd_sign(void);

struct bench_opt opt = {.name = "?",
	.alg = "ecdsa",
	.lib = "gnutls",
	.host = "localhost",
	.threads = 1,
	.count = 100,
	.seconds = 3};

static int
cmd_connect(void)
{
	uint8_t pk[LURK_NOISE_KEY_LEN], sk[LURK_NOISE_KEY_LEN];
	struct lurk_client_cfg cfg = {.server_pk = pk, .client_sk = sk, 3000, 3000};
	struct worker w = {0};
	const char *why = NULL;
	double t0 = bench_now();

	if (lurk_static_key_b64_decode(opt.server_pk, pk) != 0 ||
		lurk_keyfile_read(opt.client_key, sk, &why) != 0) {
		fprintf(stderr, "lurk-bench: keys: %s\n", why ? why : "bad server key");
		sodium_memzero(sk, sizeof(sk));
		return 1;
	}
	cfg.address = opt.address;
	if ((w.lat = malloc((size_t)opt.count * sizeof(uint32_t))) == NULL) {
		sodium_memzero(sk, sizeof(sk));
		return 1;
	}
	for (int i = 0; i < opt.count && bench_now() - t0 < 60; i++) {
		double t1 = bench_now();
		struct lurk_client *c = NULL;
		struct lurk_buf *req = lurk_buf_new(256), *resp = lurk_buf_new(4096);
		if (req != NULL && resp != NULL && lurk_client_connect(&cfg, &c, NULL) == 0 &&
			lurk_wire_ping_req_build(req, lurk_client_next_id(c)) == 0 &&
			lurk_client_call(c, lurk_buf_ptr(req), lurk_buf_len(req), resp) == 0)
			w.lat[w.n++] = (uint32_t)((bench_now() - t1) * 1e6);
		else
			w.errors++;
		lurk_client_free(c);
		lurk_buf_free(req);
		lurk_buf_free(resp);
	}
	opt.name = "lurk";
	sodium_memzero(sk, sizeof(sk));
	bench_report("connect", &w, 1, bench_now() - t0, "");
	free(w.lat);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || sodium_init() < 0)
		goto usage;
	opt.cmd = argv[1];
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (strcmp(k, "--name") == 0)
			opt.name = v;
		else if (strcmp(k, "--alg") == 0)
			opt.alg = v;
		else if (strcmp(k, "--lib") == 0)
			opt.lib = v;
		else if (strcmp(k, "--key") == 0)
			opt.key = v;
		else if (strcmp(k, "--module") == 0)
			opt.module = v;
		else if (strcmp(k, "--token") == 0)
			opt.token = v;
		else if (strcmp(k, "--label") == 0)
			opt.label = v;
		else if (strcmp(k, "--pin") == 0)
			opt.pin = v;
		else if (strcmp(k, "--address") == 0)
			opt.address = v;
		else if (strcmp(k, "--server-pk") == 0)
			opt.server_pk = v;
		else if (strcmp(k, "--client-key") == 0)
			opt.client_key = v;
		else if (strcmp(k, "--connect") == 0)
			opt.connect = v;
		else if (strcmp(k, "--cafile") == 0)
			opt.cafile = v;
		else if (strcmp(k, "--host") == 0)
			opt.host = v;
		else if (strcmp(k, "--threads") == 0 || strcmp(k, "--conns") == 0)
			opt.threads = atoi(v);
		else if (strcmp(k, "--count") == 0)
			opt.count = atoi(v);
		else if (strcmp(k, "--seconds") == 0)
			opt.seconds = atof(v);
		else if (strcmp(k, "--cpu-pid") == 0 && opt.n_cpu_pids < BENCH_MAX_PIDS) {
			if ((opt.cpu_pid[opt.n_cpu_pids++] = atoi(v)) <= 0)
				goto usage;
		} else
			goto usage;
	}
	if (opt.threads < 1 || opt.threads > BENCH_MAX_THREADS || opt.seconds <= 0 ||
		opt.seconds > 600 || opt.count < 1 || opt.count > 100000 ||
		(strcmp(opt.lib, "gnutls") != 0 && strcmp(opt.lib, "openssl") != 0) ||
		(strcmp(opt.alg, "ecdsa") != 0 && strcmp(opt.alg, "rsa") != 0 &&
			strcmp(opt.alg, "ed25519") != 0))
		goto usage;
	if (strcmp(opt.cmd, "sign") == 0)
		return bench_cmd_sign();
	if (strcmp(opt.cmd, "hs") == 0)
		return bench_cmd_hs();
	if (strcmp(opt.cmd, "connect") == 0 && opt.address && opt.server_pk && opt.client_key)
		return cmd_connect();
usage:
	fprintf(stderr, "usage: see the comment at the top of bench/lurk-bench.c\n");
	return 2;
}
