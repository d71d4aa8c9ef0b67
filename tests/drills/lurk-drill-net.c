/*
 * lurk-drill's raw-socket modes (flood, handshake, junk): connections to
 * lurkd that a client would not make, to drill its limits. Usage and output
 * are described at the top of lurk-drill.c.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>

#include "client/conn.h"
#include "err.h"
#include "frame.h"
#include "keyfile.h"
#include "lurk-limits.h"

#include "lurk-drill.h"

static struct sockaddr_storage peer;
static socklen_t peer_len;
static struct sockaddr_in src_addr;
static int have_src;

static int
resolve(void)
{
	char host[256], port[16];
	int is_unix;

	if (lurk_client_parse_address(
		    dopt.address, &is_unix, host, sizeof(host), port, sizeof(port)) != 0) {
		fprintf(stderr, "lurk-drill: bad address %s\n", dopt.address);
		return -1;
	}
	if (is_unix) {
		struct sockaddr_un *un = (struct sockaddr_un *)&peer;
		if (strlen(host) >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, host);
		peer_len = sizeof(*un);
	} else {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
		if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
			fprintf(stderr, "lurk-drill: cannot resolve %s\n", dopt.address);
			return -1;
		}
		memcpy(&peer, ai->ai_addr, ai->ai_addrlen);
		peer_len = ai->ai_addrlen;
		freeaddrinfo(ai);
	}
	if (dopt.source != NULL) {
		src_addr.sin_family = AF_INET;
		if (inet_pton(AF_INET, dopt.source, &src_addr.sin_addr) != 1) {
			fprintf(stderr, "lurk-drill: bad source %s\n", dopt.source);
			return -1;
		}
		have_src = 1;
	}
	return 0;
}

/* A non-blocking socket with its connect started; -1 on failure. */
static int
raw_connect(void)
{
	int fd = socket(peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (have_src && peer.ss_family == AF_INET &&
		bind(fd, (struct sockaddr *)&src_addr, sizeof(src_addr)) != 0) {
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&peer, peer_len) != 0 && errno != EINPROGRESS &&
		errno != EAGAIN) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Paces to dopt.rate operations per second from start (0: unpaced). */
static void
pace(int64_t start, unsigned long long done)
{
	int64_t due;

	if (dopt.rate <= 0)
		return;
	due = start + (int64_t)(done * 1000000ULL / (unsigned long long)dopt.rate);
	if (due > mono_us())
		sleep_ms((due - mono_us() + 999) / 1000);
}

int
cmd_flood(void)
{
	struct pollfd *pf = calloc((size_t)dopt.conns, sizeof(*pf));
	unsigned long long connects = 0, connected = 0, failed = 0, closed = 0, reopened = 0;
	int64_t start = mono_us(), end = start + (int64_t)(dopt.seconds * 1e6);
	int open = 0, open_max = 0;
	uint8_t buf[512];

	if (pf == NULL || resolve() != 0)
		return 1;
	raise_nofile();
	if (dopt.rate <= 0)
		dopt.rate = 200;
	for (int i = 0; i < dopt.conns; i++) {
		pf[i].fd = raw_connect();
		pf[i].events = POLLOUT;
		connects++;
		if (pf[i].fd < 0)
			failed++;
		else
			open++;
	}
	open_max = open;
	while (mono_us() < end) {
		int n = poll(pf, (nfds_t)dopt.conns, 10);
		for (int i = 0; n > 0 && i < dopt.conns; i++) {
			int err = 0;
			socklen_t el = sizeof(err);
			ssize_t r;
			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			if (pf[i].events == POLLOUT) {
				if (getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
					err != 0) {
					close(pf[i].fd);
					pf[i].fd = -1;
					open--;
					failed++;
					continue;
				}
				connected++;
				pf[i].events = POLLIN;
				continue;
			}
			while ((r = recv(pf[i].fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
				;
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open--;
				closed++;
			}
		}
		/* Closed slots are opened again, at most dopt.rate a second. */
		for (int i = 0; i < dopt.conns; i++) {
			int64_t now = mono_us();
			if (pf[i].fd >= 0)
				continue;
			if ((int64_t)(reopened * 1000000ULL / (unsigned long long)dopt.rate) >
				now - start)
				break;
			pf[i].fd = raw_connect();
			pf[i].events = POLLOUT;
			connects++;
			reopened++;
			if (pf[i].fd < 0)
				failed++;
			else
				open++;
		}
		if (open > open_max)
			open_max = open;
	}
	say("flood connects=%llu connected=%llu failed=%llu closed_by_server=%llu open_max=%d "
	    "open_at_end=%d\n",
		connects, connected, failed, closed, open_max, open);
	for (int i = 0; i < dopt.conns; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	free(pf);
	return 0;
}

int
cmd_handshake(void)
{
	uint8_t pk[LURK_NOISE_KEY_LEN], sk[LURK_NOISE_KEY_LEN];
	struct lurk_client_cfg cfg = {.server_pk = pk, .client_sk = sk, 2000, 2000};
	unsigned long long attempts = 0, ok = 0, refused = 0, other = 0;
	int64_t start = mono_us(), end = start + (int64_t)(dopt.seconds * 1e6);
	const char *why = NULL;

	if (lurk_static_key_b64_decode(dopt.server_pk, pk) != 0 ||
		lurk_keyfile_read(dopt.client_key, sk, &why) != 0) {
		fprintf(stderr, "lurk-drill: keys: %s\n", why ? why : "bad server key");
		return 1;
	}
	if (dopt.rate <= 0)
		dopt.rate = 500;
	cfg.address = dopt.address;
	while (mono_us() < end) {
		struct lurk_client *c = NULL;
		struct lurk_client_why wy;
		int r = lurk_client_connect(&cfg, &c, &wy);
		attempts++;
		if (r == 0)
			ok++;
		else if (wy.refusal != 0)
			refused++;
		else
			other++;
		lurk_client_free(c);
		pace(start, attempts);
	}
	sodium_memzero(sk, sizeof(sk));
	say("handshake attempts=%llu ok=%llu refused=%llu other=%llu\n", attempts, ok, refused,
		other);
	return 0;
}

/* Waits (at most ms) for the peer to close; 1 if it did. */
static int
wait_close(int fd, int ms)
{
	int64_t end = mono_us() + (int64_t)ms * 1000;
	uint8_t buf[256];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = (end - mono_us()) / 1000;
		ssize_t r;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return 0;
		while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 1;
	}
}

int
cmd_junk(void)
{
	unsigned long long attempts = 0, closed = 0;
	int64_t start = mono_us(), end = start + (int64_t)(dopt.seconds * 1e6);
	uint8_t junk[400];

	if (resolve() != 0)
		return 1;
	if (dopt.rate <= 0)
		dopt.rate = 500;
	while (mono_us() < end) {
		int fd = raw_connect();
		size_t n;
		struct pollfd p;
		randombytes_buf(junk, sizeof(junk));
		switch (attempts % 5) {
		case 0: /* random bytes, random frame length */
			n = 200;
			break;
		case 1: /* a zero-length frame */
			junk[0] = junk[1] = 0;
			n = 2;
			break;
		case 2: /* a frame over any handshake's size */
			junk[0] = junk[1] = 0xff;
			n = 100;
			break;
		case 3: /* a msg1 that does not decrypt */
			junk[0] = 0;
			junk[1] = LURK_MSG1_LEN;
			n = 2 + LURK_MSG1_LEN;
			break;
		default: /* a whole frame too short for msg1 */
			junk[0] = 0;
			junk[1] = 16;
			n = 18;
			break;
		}
		attempts++;
		if (fd >= 0) {
			p.fd = fd;
			p.events = POLLOUT;
			if (poll(&p, 1, 1000) == 1 &&
				send(fd, junk, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n)
				closed += (unsigned long long)wait_close(fd, 1000);
			close(fd);
		}
		pace(start, attempts);
	}
	say("junk attempts=%llu closed_by_server=%llu\n", attempts, closed);
	return 0;
}

/* --- main --------------------------------------------------------------- */
