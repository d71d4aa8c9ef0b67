/*
 * lurk-client: speaks lurk's protocol to lurkd through common/, without
 * PKCS#11. For tests, diagnostics and the benchmark. This file is the raw
 * protocol commands and main(); lurk-client-core.c is the -c mode through
 * the client core, lurk-client-util.c what both use (hex, mechanisms,
 * verification with GnuTLS).
 *
 *   lurk-client -a ADDR -s SERVER_PUB -k CLIENT_KEY_FILE COMMAND ...
 *     ping
 *     list                         one line per key
 *     sign LABEL MECH HEX [PSS]    MECH: ecdsa eddsa rsa-pkcs rsa-pss ecdsa-sha256 ...
 *                                  prints the signature in hex and verifies it
 *                                  with the key's public key (exit 3 if it fails)
 *     decrypt LABEL HEX            prints the 48-byte plaintext in hex
 *     raw-op TYPE                  sends a request of an unknown type (error expected)
 *     connections N LABEL          holds N connections open at once, then signs on each
 *     burst N LABEL                N ECDSA signatures on one connection: allowed/refused
 *     hold SECONDS|FILE            ping, wait (or until FILE exists), ping again
 *     load STOPFILE LABEL [HASHES] ECDSA signatures until STOPFILE exists; HASHES
 *                                  gets the SHA-256 of each input signed
 *     replay FILE                  msg1 saved to FILE (or sent again from it), then
 *                                  waits for the server to close the silent connection
 *     junk KIND                    raw socket, no handshake: sends KIND (bytes, zero-frame,
 *                                  giant-frame, bad-msg1) and expects the server to close
 *
 *   lurk-client -c MODULE_CONF COMMAND ...
 *     through the client core (client/): the servers, client key and timeouts
 *     of a module configuration file (lurk-pkcs11.conf's format; its [token]
 *     sections are the module's and left alone), with the core's pool, key
 *     list and failover, as the module uses them:
 *     list                         as above
 *     sign LABEL MECH HEX          as above
 *     decrypt LABEL HEX            as above
 *     A refusal is logged to stderr as the module logs it ("lurkd refused
 *     ..."). LURK_CLIENT_LOG=info|debug shows more of the core's log.
 *
 * Exit status: 0 ok, 1 usage/connection error, 2 the server answered with an
 * error (its class and reason are printed to stderr), 3 verification failed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sodium.h>

#include "chan.h"
#include "ckm.h"
#include "client/conn.h"
#include "client/keys.h"
#include "err.h"
#include "frame.h"
#include "keyfile.h"
#include "log.h"
#include "mem.h"
#include "refusal.h"
#include "wire.h"

#include "lurk-client.h"

static struct lurk_client_cfg cfg;
static uint8_t server_pk[LURK_NOISE_KEY_LEN], client_sk[LURK_NOISE_KEY_LEN];

/* Sends req and returns the response body in resp (after the header), or prints the error. */
static int
call(struct lurk_client *c, struct lurk_buf *req, struct lurk_buf *resp, uint8_t want_type,
	struct lurk_wire_hdr *h)
{
	int r;

	if ((r = lurk_client_call(c, lurk_buf_ptr(req), lurk_buf_len(req), resp)) != 0) {
		fprintf(stderr, "lurk-client: call failed: %s\n", lurk_err_str(r));
		return 1;
	}
	if ((r = lurk_wire_header_parse(resp, h)) != 0) {
		fprintf(stderr, "lurk-client: bad response: %s\n", lurk_err_str(r));
		return 1;
	}
	if (h->type == LURK_WIRE_ERROR) {
		struct lurk_wire_error e;
		if (lurk_wire_error_parse(resp, &e) != 0)
			return 1;
		fprintf(stderr, "lurk-client: server error: %s (reason %u): %.*s\n",
			lurk_wire_status_str(e.status), e.reason, (int)e.text_len, e.text);
		return 2;
	}
	if (h->type != want_type) {
		fprintf(stderr, "lurk-client: unexpected response type %u\n", h->type);
		return 1;
	}
	return 0;
}

static int
get_list(struct lurk_client *c, struct lurk_wire_list_resp *list)
{
	struct lurk_buf *req = lurk_buf_new(LURK_WIRE_MAX_MSG),
			*resp = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_hdr h;
	int ret = 1;

	if (req == NULL || resp == NULL ||
		lurk_wire_list_req_build(req, lurk_client_next_id(c)) != 0)
		goto out;
	if ((ret = call(c, req, resp, LURK_WIRE_LIST_RESP, &h)) != 0)
		goto out;
	ret = lurk_wire_list_resp_parse(resp, list) == 0 ? 0 : 1;
out:
	lurk_buf_free(req);
	lurk_buf_free(resp);
	return ret;
}

static int
do_sign(struct lurk_client *c, const struct lurk_wire_key *k, uint32_t mech, const uint8_t *data,
	size_t len, int quiet)
{
	struct lurk_buf *req = lurk_buf_new(LURK_WIRE_MAX_MSG),
			*resp = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_sign_req m = {0};
	struct lurk_wire_sign_resp out;
	struct lurk_wire_hdr h;
	int ret = 1;

	m.key_id = k->id;
	m.key_id_len = k->id_len;
	m.mech = mech;
	m.data = data;
	m.data_len = len;
	cli_sign_param(mech, len, &m.param);
	if (req == NULL || resp == NULL ||
		lurk_wire_sign_req_build(req, lurk_client_next_id(c), &m) != 0)
		goto out;
	if ((ret = call(c, req, resp, LURK_WIRE_SIGN_RESP, &h)) != 0)
		goto out;
	if (lurk_wire_sign_resp_parse(resp, &out) != 0) {
		ret = 1;
		goto out;
	}
	if (!quiet)
		cli_hex_print(out.sig, out.sig_len);
	if (cli_verify(k, mech, data, len, out.sig, out.sig_len) != 0) {
		fprintf(stderr, "lurk-client: signature does NOT verify\n");
		ret = 3;
	}
out:
	lurk_buf_free(req);
	lurk_buf_free(resp);
	return ret;
}

static int
cmd_list(struct lurk_client *c)
{
	struct lurk_wire_list_resp list = {0};

	if (get_list(c, &list) != 0)
		return 1;
	cli_print_list(&list);
	lurk_wire_list_resp_clear(&list);
	return 0;
}

static int
cmd_ping(struct lurk_client *c)
{
	struct lurk_buf *req = lurk_buf_new(256), *resp = lurk_buf_new(256);
	struct lurk_wire_ping_resp p;
	struct lurk_wire_hdr h;
	int ret = 1;

	if (req == NULL || resp == NULL ||
		lurk_wire_ping_req_build(req, lurk_client_next_id(c)) != 0)
		goto out;
	if ((ret = call(c, req, resp, LURK_WIRE_PING_RESP, &h)) != 0)
		goto out;
	if (lurk_wire_ping_resp_parse(resp, &p) != 0) {
		ret = 1;
		goto out;
	}
	printf("pong time=%llu keys=%u flags=0x%x%s session=%s\n", (unsigned long long)p.time,
		p.keys, p.flags,
		(p.flags & LURK_WIRE_PING_DRAINING) ? " (draining: lurkd is stopping)" : "",
		lurk_client_session(c));
out:
	lurk_buf_free(req);
	lurk_buf_free(resp);
	return ret;
}

static int
cmd_raw_op(struct lurk_client *c, const char *type)
{
	struct lurk_buf *req = lurk_buf_new(256), *resp = lurk_buf_new(256);
	struct lurk_wire_hdr h;
	int ret;

	/* By hand: the wire builders refuse to emit an unknown type. */
	if (lurk_buf_put_u8(req, LURK_WIRE_VERSION) != 0 ||
		lurk_buf_put_u8(req, (uint8_t)atoi(type)) != 0 ||
		lurk_buf_put_u32(req, lurk_client_next_id(c)) != 0)
		return 1;
	ret = call(c, req, resp, 0, &h);
	lurk_buf_free(req);
	lurk_buf_free(resp);
	return ret;
}

static int
cmd_sign(struct lurk_client *c, int argc, char **argv)
{
	struct lurk_wire_list_resp list = {0};
	const struct lurk_wire_key *k;
	uint8_t *data;
	size_t len;
	int ret;

	if (argc != 4)
		return 1;
	if (get_list(c, &list) != 0)
		return 1;
	if ((k = lc_keys_find(&list, argv[1])) == NULL)
		k = cli_fake_key(argv[1]);
	if ((data = cli_unhex(argv[3], &len)) == NULL) {
		fprintf(stderr, "lurk-client: bad hex data\n");
		return 1;
	}
	ret = do_sign(c, k, cli_mech_of(argv[2]), data, len, 0);
	free(data);
	lurk_wire_list_resp_clear(&list);
	return ret;
}

static int
cmd_decrypt(struct lurk_client *c, int argc, char **argv)
{
	struct lurk_wire_list_resp list = {0};
	struct lurk_buf *req = lurk_buf_new(LURK_WIRE_MAX_MSG),
			*resp = lurk_buf_new(LURK_WIRE_MAX_MSG);
	struct lurk_wire_decrypt_req m = {0};
	struct lurk_wire_decrypt_resp out;
	struct lurk_wire_hdr h;
	const struct lurk_wire_key *k;
	uint8_t *ct = NULL;
	int ret = 1;

	if (argc != 3 || get_list(c, &list) != 0 || (k = lc_keys_find(&list, argv[1])) == NULL)
		goto out;
	if ((ct = cli_unhex(argv[2], &m.ct_len)) == NULL)
		goto out;
	m.key_id = k->id;
	m.key_id_len = k->id_len;
	m.mech = CKM_RSA_PKCS;
	m.ct = ct;
	if (lurk_wire_decrypt_req_build(req, lurk_client_next_id(c), &m) != 0)
		goto out;
	if ((ret = call(c, req, resp, LURK_WIRE_DECRYPT_RESP, &h)) != 0)
		goto out;
	if (lurk_wire_decrypt_resp_parse(resp, &out) != 0) {
		ret = 1;
		goto out;
	}
	cli_hex_print(out.pt, out.pt_len);
	lurk_wire_decrypt_resp_clear(&out);
out:
	free(ct);
	lurk_buf_free(req);
	lurk_buf_free(resp);
	lurk_wire_list_resp_clear(&list);
	return ret;
}

/* Holds n connections open at once (each past its handshake), then signs on every one. */
static int
cmd_connections(int argc, char **argv)
{
	struct lurk_client **cs;
	struct lurk_wire_list_resp list = {0};
	const struct lurk_wire_key *k;
	struct rlimit rl;
	uint8_t hash[32];
	int n, ok = 0, failed = 0;

	if (argc != 3 || (n = atoi(argv[1])) <= 0 || n > 100000)
		return 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((cs = calloc((size_t)n, sizeof(*cs))) == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		struct lurk_client_why w;
		int r = lurk_client_connect(&cfg, &cs[i], &w);
		if (r != 0) {
			fprintf(stderr, "lurk-client: connection %d: %s%s%s\n", i, lurk_err_str(r),
				w.sys_errno ? ": " : "", w.sys_errno ? strerror(w.sys_errno) : "");
			failed++;
		}
	}
	if (cs[0] == NULL || get_list(cs[0], &list) != 0 ||
		(k = lc_keys_find(&list, argv[2])) == NULL) {
		fprintf(stderr, "lurk-client: no key %s\n", argv[2]);
		return 1;
	}
	crypto_hash_sha256(hash, (const uint8_t *)"lurk", 4);
	for (int i = 0; i < n; i++) {
		if (cs[i] != NULL && do_sign(cs[i], k, CKM_ECDSA, hash, sizeof(hash), 1) == 0)
			ok++;
		else
			failed++;
	}
	printf("connections=%d served=%d failed=%d\n", n, ok, failed);
	fflush(stdout);
	/* LURK_CLIENT_HOLD=SECONDS keeps them open (idle) for a measurement. */
	if (getenv("LURK_CLIENT_HOLD") != NULL)
		sleep((unsigned)atoi(getenv("LURK_CLIENT_HOLD")));
	for (int i = 0; i < n; i++)
		lurk_client_free(cs[i]);
	free(cs);
	lurk_wire_list_resp_clear(&list);
	return failed == 0 ? 0 : 1;
}

/* Signs n times on one connection; prints how many were allowed and refused. */
static int
cmd_burst(struct lurk_client *c, const char *count, const char *label)
{
	struct lurk_wire_list_resp list = {0};
	const struct lurk_wire_key *k;
	uint8_t hash[32];
	int n = atoi(count), allowed = 0, refused = 0;

	if (n <= 0 || n > 100000 || get_list(c, &list) != 0 ||
		(k = lc_keys_find(&list, label)) == NULL)
		return 1;
	crypto_hash_sha256(hash, (const uint8_t *)label, strlen(label));
	for (int i = 0; i < n; i++) {
		int r = do_sign(c, k, CKM_ECDSA, hash, sizeof(hash), 1);
		if (r == 0)
			allowed++;
		else if (r == 2)
			refused++;
		else
			break;
	}
	printf("allowed=%d refused=%d\n", allowed, refused);
	lurk_wire_list_resp_clear(&list);
	return allowed + refused == n ? 0 : 1;
}

/*
 * Load: signs random 32-byte hashes (CKM_ECDSA) with one key on one
 * connection until STOPFILE exists, at most 1,000,000 signatures and 300 s.
 * With HASHFILE, each input whose signature came back (and verified) has its
 * SHA-256 appended there in hex, one line each, written before the next
 * request. Stops at the first failure. Prints "signed=N failed=0|1".
 */
static int
cmd_load(struct lurk_client *c, const char *stopfile, const char *label, const char *hashfile)
{
	struct lurk_wire_list_resp list = {0};
	const struct lurk_wire_key *k;
	FILE *hf = NULL;
	time_t end = time(NULL) + 300;
	long signed_n = 0;
	int failed = 0;

	if (get_list(c, &list) != 0 || (k = lc_keys_find(&list, label)) == NULL)
		return 1;
	if (hashfile != NULL && (hf = fopen(hashfile, "a")) == NULL)
		return 1;
	while (signed_n < 1000000 && time(NULL) < end && access(stopfile, F_OK) != 0) {
		uint8_t hash[32], digest[32];
		char hex[65];
		randombytes_buf(hash, sizeof(hash));
		if (do_sign(c, k, CKM_ECDSA, hash, sizeof(hash), 1) != 0) {
			failed = 1;
			break;
		}
		signed_n++;
		if (hf != NULL) {
			crypto_hash_sha256(digest, hash, sizeof(hash));
			sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
			fprintf(hf, "%s\n", hex);
			fflush(hf);
		}
	}
	if (hf != NULL)
		fclose(hf);
	printf("signed=%ld failed=%d\n", signed_n, failed);
	lurk_wire_list_resp_clear(&list);
	return failed;
}

/*
 * Pings, waits, pings again: shows whether a live connection survives (e.g. a
 * reload). ARG is seconds to wait, or a file: then it waits (at most 120 s)
 * until the file exists, so a test can wait for state instead of time.
 */
static int
cmd_hold(struct lurk_client *c, const char *arg)
{
	int r = cmd_ping(c);

	if (r != 0)
		return r;
	fflush(stdout);
	if (strspn(arg, "0123456789") == strlen(arg)) {
		sleep((unsigned)atoi(arg));
	} else {
		for (int i = 0; i < 12000 && access(arg, F_OK) != 0; i++)
			usleep(10000);
	}
	r = cmd_ping(c);
	printf("second ping: %s\n", r == 0 ? "ok" : "failed");
	return r;
}

/* A plain socket to cfg.address, no handshake; -1 on failure. */
static int
raw_connect(void)
{
	char host[256], port[16];
	int is_unix, fd;

	if (lurk_client_parse_address(
		    cfg.address, &is_unix, host, sizeof(host), port, sizeof(port)) != 0)
		return -1;
	if (is_unix) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		memcpy(sa.sun_path, host, strlen(host) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
	} else {
		struct sockaddr_in sa = {
			.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
		inet_pton(AF_INET, host, &sa.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * A handshake by hand, to replay it: when FILE does not exist, makes msg1
 * (this client's key, the server's) and saves its frame there; when it
 * exists, sends its bytes unchanged. Prints what came back (msg2, or a
 * refusal), then sends nothing and waits, at most 120 s, for the server to
 * close: "closed after N s".
 */
static int
cmd_replay(const char *file)
{
	uint8_t frame[LURK_FRAME_HDR_LEN + LURK_MSG1_LEN], rd[256];
	struct lurk_chan *ch = NULL;
	struct timeval tv = {120, 0};
	time_t t0;
	FILE *f;
	ssize_t got;
	int fd;

	if ((f = fopen(file, "rb")) != NULL) {
		size_t n = fread(frame, 1, sizeof(frame), f);
		fclose(f);
		if (n != sizeof(frame))
			return 1;
	} else {
		if (lurk_chan_new_initiator(cfg.client_sk, cfg.server_pk, &ch) != 0 ||
			lurk_frame_header(frame, LURK_MSG1_LEN) != 0 ||
			lurk_chan_write_msg1(ch, frame + LURK_FRAME_HDR_LEN) != 0)
			return 1;
		lurk_chan_free(ch);
		if ((f = fopen(file, "wb")) == NULL ||
			fwrite(frame, 1, sizeof(frame), f) != sizeof(frame))
			return 1;
		fclose(f);
	}
	if ((fd = raw_connect()) < 0)
		return 1;
	if (write(fd, frame, sizeof(frame)) != (ssize_t)sizeof(frame)) {
		close(fd);
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = time(NULL);
	got = read(fd, rd, sizeof(rd));
	if (got == LURK_FRAME_HDR_LEN + LURK_MSG2_LEN)
		printf("handshake completed, ");
	else if (got == LURK_FRAME_HDR_LEN + LURK_REFUSAL_LEN &&
		 rd[LURK_FRAME_HDR_LEN] == LURK_REFUSAL_MARK)
		printf("refused (code %u), ", rd[LURK_FRAME_HDR_LEN + 1]);
	else
		printf("answer of %zd bytes, ", got);
	while (got > 0)
		got = read(fd, rd, sizeof(rd));
	printf("%s after %ld s\n", got == 0 ? "closed" : "still open", (long)(time(NULL) - t0));
	close(fd);
	return got == 0 ? 0 : 1;
}

/* Sends malformed input on a raw connection; 0 if the server then closes it. */
static int
cmd_junk(const char *kind)
{
	uint8_t junk[1200], rd[64];
	size_t n = 0;
	int fd;
	struct timeval tv = {5, 0};

	if ((fd = raw_connect()) < 0)
		return 1;
	randombytes_buf(junk, sizeof(junk));
	if (strcmp(kind, "bytes") == 0) {
		n = sizeof(junk);
	} else if (strcmp(kind, "zero-frame") == 0) {
		junk[0] = junk[1] = 0;
		n = 2;
	} else if (strcmp(kind, "giant-frame") == 0) {
		junk[0] = junk[1] = 0xff;
		n = 200;
	} else if (strcmp(kind, "bad-msg1") == 0) {
		junk[0] = 0;
		junk[1] = LURK_MSG1_LEN;
		n = 2 + LURK_MSG1_LEN;
	} else {
		close(fd);
		return 1;
	}
	if (write(fd, junk, n) != (ssize_t)n) {
		close(fd);
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/*
	 * The server must close, answering at most a handshake refusal frame
	 * (refusal.h); a giant frame may just wait: time out.
	 */
	ssize_t got = read(fd, rd, sizeof(rd));
	if (got == LURK_FRAME_HDR_LEN + LURK_REFUSAL_LEN &&
		rd[LURK_FRAME_HDR_LEN] == LURK_REFUSAL_MARK) {
		printf("refused (code %u), ", rd[LURK_FRAME_HDR_LEN + 1]);
		got = read(fd, rd, sizeof(rd));
	}
	close(fd);
	if (got == 0) {
		printf("closed by server\n");
		return 0;
	}
	printf("server answered or kept the connection (%zd)\n", got);
	return 1;
}

void
cli_usage(void)
{
	fprintf(stderr, "usage: lurk-client -a ADDR -s SERVER_PUB -k CLIENT_KEY_FILE "
			"{ping|list|sign LABEL MECH HEX|decrypt LABEL HEX|raw-op TYPE|"
			"connections N LABEL}\n"
			"       lurk-client -c MODULE_CONF {list|sign LABEL MECH HEX|decrypt LABEL "
			"HEX}\n");
}

int
main(int argc, char **argv)
{
	struct lurk_client *c = NULL;
	struct lurk_client_why cw;
	const char *why = NULL, *keyfile = NULL, *spub = NULL, *conf = NULL;
	int i, r, ret;

	if (lurk_mem_init() != 0 || gnutls_global_init() < 0)
		return 1;
	cfg.connect_timeout_ms = 5000;
	cfg.io_timeout_ms = 10000;
	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-a") == 0)
			cfg.address = argv[i + 1];
		else if (strcmp(argv[i], "-s") == 0)
			spub = argv[i + 1];
		else if (strcmp(argv[i], "-k") == 0)
			keyfile = argv[i + 1];
		else if (strcmp(argv[i], "-c") == 0)
			conf = argv[i + 1];
		else {
			cli_usage();
			return 1;
		}
	}
	if (conf != NULL && i < argc) {
		ret = cli_core_main(conf, argc - i, argv + i);
		gnutls_global_deinit();
		return ret;
	}
	if (cfg.address == NULL || spub == NULL || keyfile == NULL || i >= argc) {
		cli_usage();
		return 1;
	}
	if (lurk_static_key_b64_decode(spub, server_pk) != 0 ||
		lurk_keyfile_read(keyfile, client_sk, &why) != 0) {
		fprintf(stderr, "lurk-client: bad keys: %s\n", why != NULL ? why : "server key");
		return 1;
	}
	cfg.server_pk = server_pk;
	cfg.client_sk = client_sk;
	argc -= i;
	argv += i;
	if (strcmp(argv[0], "connections") == 0)
		return cmd_connections(argc, argv);
	if (strcmp(argv[0], "junk") == 0 && argc == 2)
		return cmd_junk(argv[1]);
	if (strcmp(argv[0], "replay") == 0 && argc == 2)
		return cmd_replay(argv[1]);
	if ((r = lurk_client_connect(&cfg, &c, &cw)) != 0) {
		fprintf(stderr, "lurk-client: connect %s: %s%s%s\n", cfg.address, lurk_err_str(r),
			cw.sys_errno ? ": " : "", cw.sys_errno ? strerror(cw.sys_errno) : "");
		return 1;
	}
	if (strcmp(argv[0], "ping") == 0)
		ret = cmd_ping(c);
	else if (strcmp(argv[0], "list") == 0)
		ret = cmd_list(c);
	else if (strcmp(argv[0], "sign") == 0)
		ret = cmd_sign(c, argc, argv);
	else if (strcmp(argv[0], "decrypt") == 0)
		ret = cmd_decrypt(c, argc, argv);
	else if (strcmp(argv[0], "burst") == 0 && argc == 3)
		ret = cmd_burst(c, argv[1], argv[2]);
	else if (strcmp(argv[0], "hold") == 0 && argc == 2)
		ret = cmd_hold(c, argv[1]);
	else if (strcmp(argv[0], "load") == 0 && (argc == 3 || argc == 4))
		ret = cmd_load(c, argv[1], argv[2], argc == 4 ? argv[3] : NULL);
	else if (strcmp(argv[0], "raw-op") == 0 && argc == 2)
		ret = cmd_raw_op(c, argv[1]);
	else {
		cli_usage();
		ret = 1;
	}
	lurk_client_free(c);
	lurk_wipe(client_sk, sizeof(client_sk));
	gnutls_global_deinit();
	return ret;
}
