/*
 * The sd_notify protocol (sd_notify(3), "the notification socket"): one
 * datagram of newline-separated KEY=value assignments to the AF_UNIX socket
 * in $NOTIFY_SOCKET. A name starting with '@' is in the abstract namespace
 * (the '@' becomes a NUL byte and the address has no terminator); anything
 * else must be an absolute path. Other forms (systemd 254's "vsock:") are
 * refused with a log line. Each message is bounded (NOTIFY_MAX) and a
 * fresh socket is used per message, so no descriptor stays open in lurkd.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

/* A message: a few assignments and a STATUS line of at most STATUS_MAX bytes. */
#define NOTIFY_MAX 512
#define STATUS_MAX 256

int
lurkd_notify(const char *msg)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t n, len;
	socklen_t salen;
	ssize_t sent;
	int fd;

	if (name == NULL || name[0] == '\0')
		return 1;
	n = strlen(name);
	len = strlen(msg);
	if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof(sa.sun_path)) {
		lurk_warn(
			"NOTIFY_SOCKET is not a unix socket path or abstract name: not notifying");
		return -1;
	}
	if (len == 0 || len > NOTIFY_MAX)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, n);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		salen++; /* the path's terminating NUL */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		lurk_warn("notify: socket: %s", strerror(errno));
		return -1;
	}
	do
		sent = sendto(fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
	while (sent < 0 && errno == EINTR);
	if (sent != (ssize_t)len) {
		lurk_warn("notify: cannot reach the service manager at %s: %s", name,
			sent < 0 ? strerror(errno) : "short write");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
lurkd_notify_ready(const char *status)
{
	char msg[NOTIFY_MAX];

	(void)snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld\nSTATUS=%.*s", (long)getpid(),
		STATUS_MAX, status);
	(void)lurkd_notify(msg);
}

void
lurkd_notify_reloading(void)
{
	char msg[NOTIFY_MAX];
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		ts.tv_sec = ts.tv_nsec = 0;
	(void)snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
		(unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	(void)lurkd_notify(msg);
}

void
lurkd_notify_stopping(void)
{
	(void)lurkd_notify("STOPPING=1\nSTATUS=stopping: finishing requests in flight");
}
