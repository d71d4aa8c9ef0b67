/*
 * lurk_client_connect against sockets that never make a session: a unix
 * socket whose listen queue is full (lurkd overloaded or stopped, the
 * connect gets EAGAIN), and peers that close at once. Each must fail with
 * a clear error within connect-timeout, sleeping rather than spinning: the
 * process's CPU time while it waits is measured (getrusage) and must be a
 * small part of the wall time.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client/conn.h"
#include "err.h"
#include "lurk-limits.h"
#include "tap.h"

#define TIMEOUT_MS 1000

static char dir[] = "/tmp/lurk-connect.XXXXXX";

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* A listening unix socket at dir/name with this backlog; its address in addr. */
static int
listener(const char *name, int backlog, char *addr, size_t addr_len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	unlink(sa.sun_path);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_num_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_num_eq(listen(fd, backlog), 0);
	snprintf(addr, addr_len, "unix:%s", sa.sun_path);
	return fd;
}

struct attempt {
	int r;
	struct lurk_client_why why;
	int64_t wall, cpu;
};

static void
try_connect(const char *addr, struct attempt *a)
{
	uint8_t server_sk[LURK_NOISE_KEY_LEN], server_pk[LURK_NOISE_KEY_LEN],
		client_sk[LURK_NOISE_KEY_LEN];
	struct lurk_client_cfg cfg = {
		.address = addr,
		.server_pk = server_pk,
		.client_sk = client_sk,
		.connect_timeout_ms = TIMEOUT_MS,
		.io_timeout_ms = TIMEOUT_MS,
	};
	struct lurk_client *c = NULL;
	int64_t w0, c0;

	randombytes_buf(server_sk, sizeof(server_sk));
	randombytes_buf(client_sk, sizeof(client_sk));
	assert_num_eq(crypto_scalarmult_base(server_pk, server_sk), 0);
	w0 = wall_ms();
	c0 = cpu_ms();
	a->r = lurk_client_connect(&cfg, &c, &a->why);
	a->wall = wall_ms() - w0;
	a->cpu = cpu_ms() - c0;
	lurk_client_free(c);
	lurk_test_diag("%s: %s (errno %d: %s, in handshake %d) after %lld ms, %lld ms of CPU", addr,
		lurk_err_str(a->r), a->why.sys_errno,
		a->why.sys_errno ? strerror(a->why.sys_errno) : "-", a->why.in_handshake,
		(long long)a->wall, (long long)a->cpu);
	assert_true(a->r != 0);
	assert_ptr_null(c);
	assert_num_cmp(a->wall, <=, TIMEOUT_MS + 300);
	/* Waiting is sleeping: a loop around a failing call would use the whole wall time. */
	assert_num_cmp(a->cpu, <, a->wall / 10 + 20);
}

/* A listen queue nobody takes from, filled up: the next connect gets EAGAIN. */
static void
test_backlog_full(void)
{
	char addr[200];
	int lfd = listener("full.sock", 0, addr, sizeof(addr)), fds[64], n = 0;
	struct attempt a;

	for (; n < 64; n++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fd >= 0);
		memcpy(sa.sun_path, addr + 5, strlen(addr + 5) + 1);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			assert_num_eq(errno, EAGAIN);
			close(fd);
			break;
		}
		fds[n] = fd;
	}
	assert_num_cmp(n, <, 64);
	lurk_test_diag("the queue is full after %d connections", n);
	try_connect(addr, &a);
	/* Not a refusal, not a bug: the queue stayed full for the whole connect-timeout. */
	assert_num_eq(a.r, LURK_ERR_TIMEOUT);
	assert_num_eq(a.why.sys_errno, EAGAIN);
	assert_num_eq(a.why.in_handshake, 0);
	assert_num_cmp(a.wall, >=, TIMEOUT_MS - 100);
	while (n > 0)
		close(fds[--n]);
	close(lfd);
}

/* The same queue emptied meanwhile by an accepting thread: the retry gets through. */
struct drainer {
	int lfd;
	int delay_ms;
};

static void *
drain(void *arg)
{
	struct drainer *d = arg;
	int fd;

	usleep((useconds_t)d->delay_ms * 1000);
	/* Takes the filler, then the client's connection, and closes each: no session. */
	while ((fd = accept(d->lfd, NULL, NULL)) >= 0)
		close(fd);
	return NULL;
}

static void
test_backlog_drains(void)
{
	char addr[200];
	int lfd = listener("drain.sock", 0, addr, sizeof(addr)), fds[64], n = 0;
	struct drainer d = {lfd, 200};
	struct attempt a;
	pthread_t t;

	for (; n < 64; n++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		memcpy(sa.sun_path, addr + 5, strlen(addr + 5) + 1);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(fd);
			break;
		}
		fds[n] = fd;
	}
	assert_num_eq(pthread_create(&t, NULL, drain, &d), 0);
	try_connect(addr, &a);
	/* The connection was made once there was room (then closed: no session). */
	assert_num_eq(a.why.in_handshake, 1);
	assert_num_cmp(a.wall, >=, 150);
	assert_num_cmp(a.wall, <, TIMEOUT_MS);
	shutdown(lfd, SHUT_RDWR);
	close(lfd);
	pthread_join(t, NULL);
	while (n > 0)
		close(fds[--n]);
}

/* A peer that accepts and closes at once: an error now, not at the deadline. */
static void
test_peer_closes(void)
{
	char addr[200];
	int lfd = listener("close.sock", 8, addr, sizeof(addr));
	struct drainer d = {lfd, 0};
	struct attempt a;
	pthread_t t;

	assert_num_eq(pthread_create(&t, NULL, drain, &d), 0);
	try_connect(addr, &a);
	assert_num_eq(a.why.in_handshake, 1);
	assert_true(a.r == LURK_ERR_EOF || a.r == LURK_ERR_IO);
	assert_num_cmp(a.wall, <, 200);
	shutdown(lfd, SHUT_RDWR);
	close(lfd);
	pthread_join(t, NULL);
}

/* No socket there: the errno says so at once. */
static void
test_no_socket(void)
{
	char addr[200];
	struct attempt a;

	snprintf(addr, sizeof(addr), "unix:%s/none.sock", dir);
	try_connect(addr, &a);
	assert_num_eq(a.r, LURK_ERR_IO);
	assert_num_eq(a.why.sys_errno, ENOENT);
	assert_num_cmp(a.wall, <, 100);
}

int
main(int argc, char **argv)
{
	int r;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 1;
	lurk_test(test_backlog_full, "/connect/unix-listen-queue-full");
	lurk_test(test_backlog_drains, "/connect/unix-listen-queue-drains");
	lurk_test(test_peer_closes, "/connect/unix-peer-closes-at-once");
	lurk_test(test_no_socket, "/connect/unix-no-socket");
	r = lurk_test_run(argc, argv);
	for (const char *n = "full.sock\0drain.sock\0close.sock\0"; *n; n += strlen(n) + 1) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", dir, n);
		unlink(p);
	}
	rmdir(dir);
	return r;
}
