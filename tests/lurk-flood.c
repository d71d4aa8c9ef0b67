/*
 * lurk-flood: holds many connections open to lurkd, to test and drill its
 * limits (docs/architecture.md, "what gives first under pressure").
 *
 *   lurk-flood [OPTIONS] idle ADDRESS N
 *       N connections that send nothing: what a port scan or a slowloris
 *       peer leaves behind.
 *   lurk-flood [OPTIONS] stall ADDRESS SERVER_PUB CLIENT_KEY_FILE N BYTES
 *       N authenticated connections: each completes the Noise handshake
 *       and one request (ping) with the client library, so lurkd counts it
 *       as a client's, then sends the header of a 65535-byte frame and
 *       BYTES (0 to 65534) bytes of it, and stalls. BYTES 0: an idle
 *       authenticated connection.
 *
 *   ADDRESS      tcp:HOST:PORT, tcp:[V6]:PORT or unix:/PATH
 *   SERVER_PUB   lurkd's public key, base64 (lurk-admin pubkey)
 *   -t SECONDS   hold at most this long (default 60, at most 3600)
 *   -w           also stop when stdin closes (a drill's script holds it open)
 *   -b SOURCE    bind TCP connections to SOURCE first (idle only; e.g.
 *                127.0.0.2 to come from another loopback address)
 *   -r           open a new connection for each one lurkd closes, so N stay
 *                open for the whole run (at most 256 a tenth of a second)
 *
 * It opens the connections one after another (each bounded by 5 s) and
 * prints one line:
 *   open N refused R failed F
 * (refused: lurkd answered with a refusal frame, e.g. BUSY; failed:
 * anything else), then holds them until SECONDS have passed, stdin closes
 * (-w) or lurkd has closed all of them (without -r). Whenever the counts
 * change it prints, at most ten times a second,
 *   held N refused R closed C
 * (refused: closed after a refusal frame; closed: without one), and at the
 * end the same line with "done " in front. Exit status 0, or 1 for a usage
 * error or when not one connection could be opened.
 *
 * It raises its own RLIMIT_NOFILE to N + 64 (as root, the hard limit too).
 *
 * The memory drill (10,000 idle and 5,000 stalled connections; lurkd must
 * stay under 100 MB and serve): start lurkd with max-connections = 20000,
 * max-connections-per-source = 20000, max-connections-per-client = 20000,
 * handshake-timeout = 60 and frame-timeout = 600, then
 *   lurk-flood -t 300 -r idle tcp:127.0.0.1:PORT 10000 &
 *   lurk-flood -t 300 stall tcp:127.0.0.1:PORT "$(cat server.pub)" a.key 5000 65000 &
 * read VmRSS and VmHWM in /proc/PID/status of lurkd while legitimate
 * clients sign (tests/lurk-client ... load, or bench/), and again after
 * the floods end.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client/conn.h"
#include "err.h"
#include "frame.h"
#include "keyfile.h"
#include "mem.h"
#include "refusal.h"
#include "wire.h"

#define MAX_CONNS       100000
#define MAX_SECONDS     3600
#define STEP_MS         5000 /* one connection's connect, handshake and ping */
#define REOPEN_PER_TICK 256

enum mode { IDLE, STALL };

struct conn {
	int fd;
	int refused; /* a refusal frame came */
};

static enum mode mode;
static const char *address, *source;
static struct lurk_client_cfg ccfg;
static uint8_t server_pk[LURK_NOISE_KEY_LEN], client_sk[LURK_NOISE_KEY_LEN];
static size_t stall_bytes;
static unsigned long n_refused, n_failed, n_closed_refused, n_closed;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
parse_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno != 0 || *end != '\0' || *out > max ? -1 : 0;
}

/* Room for n connections: the soft limit, and the hard one when we may. */
static void
raise_nofile(unsigned long n)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		struct rlimit up = {want, want};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* A plain connected socket to address (bound to source first), or -1. */
static int
raw_connect(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char host[256], port[16];
	int is_unix, fd;
	struct timeval tv = {STEP_MS / 1000, 0};

	memset(&ss, 0, sizeof(ss));
	if (lurk_client_parse_address(address, &is_unix, host, sizeof(host), port, sizeof(port)) !=
		0)
		return -1;
	if (is_unix) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, host, strlen(host) + 1);
		len = sizeof(*un);
	} else if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(port));
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(port));
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		len = sizeof(*in);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (source != NULL && !is_unix) {
		struct sockaddr_storage bs;
		socklen_t blen;
		memset(&bs, 0, sizeof(bs));
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *b6 = (struct sockaddr_in6 *)&bs;
			b6->sin6_family = AF_INET6;
			blen = sizeof(*b6);
			if (inet_pton(AF_INET6, source, &b6->sin6_addr) != 1)
				goto fail;
		} else {
			struct sockaddr_in *b4 = (struct sockaddr_in *)&bs;
			b4->sin_family = AF_INET;
			blen = sizeof(*b4);
			if (inet_pton(AF_INET, source, &b4->sin_addr) != 1)
				goto fail;
		}
		if (bind(fd, (struct sockaddr *)&bs, blen) != 0)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* An authenticated connection stalled mid-frame: its socket, or -1 (refused: *refused). */
static int
stall_connect(int *refused)
{
	struct lurk_client *c = NULL;
	struct lurk_client_why why;
	struct lurk_buf *req = lurk_buf_new(64), *resp = lurk_buf_new(LURK_WIRE_MAX_MSG);
	uint8_t *frame = NULL;
	size_t off = 0;
	int fd = -1;

	*refused = 0;
	if (req == NULL || resp == NULL)
		goto out;
	if (lurk_client_connect(&ccfg, &c, &why) != 0) {
		*refused = why.refusal != 0;
		goto out;
	}
	/* One request served: lurkd now treats it as an authenticated client's. */
	if (lurk_wire_ping_req_build(req, lurk_client_next_id(c)) != 0 ||
		lurk_client_call(c, lurk_buf_ptr(req), lurk_buf_len(req), resp) != 0)
		goto out;
	/* Keep the socket, not the client (it holds 80 KB of buffers). */
	if ((fd = dup(lurk_client_fd(c))) < 0)
		goto out;
	if (stall_bytes != 0) {
		size_t n = LURK_FRAME_HDR_LEN + stall_bytes;
		if ((frame = malloc(n)) == NULL)
			goto fail;
		frame[0] = frame[1] = 0xff; /* 65535 bytes announced */
		memset(frame + LURK_FRAME_HDR_LEN, 0x5a, stall_bytes);
		/* The socket is non-blocking: wait for room, STEP_MS at most each time. */
		for (int turns = 0; off < n && turns < 1000; turns++) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			ssize_t w = send(fd, frame + off, n - off, MSG_NOSIGNAL);
			if (w > 0) {
				off += (size_t)w;
				continue;
			}
			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				goto fail;
			if (poll(&p, 1, STEP_MS) <= 0)
				goto fail;
		}
		if (off < n)
			goto fail;
	}
	goto out;
fail:
	close(fd);
	fd = -1;
out:
	free(frame);
	lurk_client_free(c);
	lurk_buf_free(req);
	lurk_buf_free(resp);
	return fd;
}

/* Opens one connection into *c; 0, or -1 (counted as refused or failed). */
static int
open_one(struct conn *c)
{
	int refused = 0;

	c->refused = 0;
	c->fd = mode == IDLE ? raw_connect() : stall_connect(&refused);
	if (c->fd >= 0)
		return 0;
	if (refused)
		n_refused++;
	else
		n_failed++;
	return -1;
}

/* lurkd wrote or closed: a refusal frame is noted, a close counted. 1 if c closed. */
static int
on_input(struct conn *c)
{
	uint8_t rd[256];
	ssize_t n = recv(c->fd, rd, sizeof(rd), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n == LURK_FRAME_HDR_LEN + LURK_REFUSAL_LEN &&
		rd[LURK_FRAME_HDR_LEN] == LURK_REFUSAL_MARK)
		c->refused = 1;
	if (n > 0)
		return 0; /* a stalled connection's ping answer, or the refusal: EOF follows */
	if (c->refused)
		n_closed_refused++;
	else
		n_closed++;
	close(c->fd);
	c->fd = -1;
	return 1;
}

static void
report(const char *prefix, unsigned long held)
{
	printf("%sheld %lu refused %lu closed %lu\n", prefix, held, n_closed_refused, n_closed);
	fflush(stdout);
}

static int
usage(void)
{
	fprintf(stderr, "usage: lurk-flood [-t SECONDS] [-w] [-r] [-b SOURCE] idle ADDRESS N\n"
			"       lurk-flood [-t SECONDS] [-w] [-r] stall ADDRESS SERVER_PUB "
			"CLIENT_KEY_FILE N BYTES\n");
	return 1;
}

int
main(int argc, char **argv)
{
	unsigned long n = 0, seconds = 60, held = 0, v;
	int watch_stdin = 0, reopen = 0, opt;
	struct pollfd *pf = NULL;
	struct conn *cs = NULL;
	int64_t end, last_report = 0;
	const char *why = NULL;
	int changed = 1;

	while ((opt = getopt(argc, argv, "t:wrb:")) != -1) {
		switch (opt) {
		case 't':
			if (parse_count(optarg, MAX_SECONDS, &seconds) != 0 || seconds == 0)
				return usage();
			break;
		case 'w':
			watch_stdin = 1;
			break;
		case 'r':
			reopen = 1;
			break;
		case 'b':
			source = optarg;
			break;
		default:
			return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 3 && strcmp(argv[0], "idle") == 0) {
		mode = IDLE;
		address = argv[1];
		if (parse_count(argv[2], MAX_CONNS, &n) != 0)
			return usage();
	} else if (argc == 6 && strcmp(argv[0], "stall") == 0) {
		mode = STALL;
		address = argv[1];
		if (parse_count(argv[4], MAX_CONNS, &n) != 0 ||
			parse_count(argv[5], LURK_NOISE_MAX_MSG - 1, &v) != 0)
			return usage();
		stall_bytes = v;
		if (lurk_mem_init() != 0)
			return 1;
		if (lurk_static_key_b64_decode(argv[2], server_pk) != 0 ||
			lurk_keyfile_read(argv[3], client_sk, &why) != 0) {
			fprintf(stderr, "lurk-flood: bad keys: %s\n",
				why != NULL ? why : "server key");
			return 1;
		}
		ccfg.address = address;
		ccfg.server_pk = server_pk;
		ccfg.client_sk = client_sk;
		ccfg.connect_timeout_ms = STEP_MS;
		ccfg.io_timeout_ms = STEP_MS;
	} else {
		return usage();
	}
	if (n == 0)
		return usage();
	raise_nofile(n);
	if ((cs = calloc(n, sizeof(*cs))) == NULL || (pf = calloc(n + 1, sizeof(*pf))) == NULL)
		return 1;
	end = now_ms() + (int64_t)seconds * 1000;
	for (unsigned long i = 0; i < n; i++) {
		cs[i].fd = -1;
		if (now_ms() < end && open_one(&cs[i]) == 0)
			held++;
	}
	printf("open %lu refused %lu failed %lu\n", held, n_refused, n_failed);
	fflush(stdout);
	if (held == 0 && !reopen) {
		report("done ", 0);
		free(cs);
		free(pf);
		return 1;
	}
	/* Hold: each turn waits at most 100 ms, and the run at most `seconds`. */
	while (now_ms() < end && (held > 0 || reopen)) {
		unsigned long np = 0, again = 0;
		int r;

		if (changed && now_ms() - last_report >= 100) {
			report("", held);
			last_report = now_ms();
			changed = 0;
		}
		for (unsigned long i = 0; i < n; i++) {
			if (cs[i].fd < 0)
				continue;
			pf[np].fd = cs[i].fd;
			pf[np].events = POLLIN | POLLRDHUP;
			pf[np].revents = 0;
			np++;
		}
		if (watch_stdin) {
			pf[np].fd = 0;
			pf[np].events = POLLIN;
			pf[np].revents = 0;
		}
		r = poll(pf, np + (watch_stdin ? 1 : 0), 100);
		if (r < 0 && errno != EINTR)
			break;
		if (watch_stdin && (pf[np].revents & (POLLIN | POLLHUP))) {
			char b[256];
			if (read(0, b, sizeof(b)) <= 0)
				break;
		}
		/* pf lists the open ones in the order of cs. */
		for (unsigned long i = 0, k = 0; i < n && k < np; i++) {
			if (cs[i].fd < 0)
				continue;
			if (pf[k++].revents != 0 && on_input(&cs[i])) {
				held--;
				changed = 1;
			}
		}
		for (unsigned long i = 0; reopen && i < n && again < REOPEN_PER_TICK; i++) {
			if (cs[i].fd >= 0)
				continue;
			again++;
			if (open_one(&cs[i]) == 0)
				held++;
			changed = 1;
		}
	}
	report("done ", held);
	for (unsigned long i = 0; i < n; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	free(cs);
	free(pf);
	lurk_wipe(client_sk, sizeof(client_sk));
	return 0;
}
