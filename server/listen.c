#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "listen.h"

#define LISTEN_BACKLOG 4096

void
lurkd_listen_describe(const struct lurkd_listen *l, char *out, size_t out_len)
{
	if (l->kind == LURKD_LISTEN_UNIX)
		snprintf(out, out_len, "unix:%s", l->path);
	else if (strchr(l->host, ':') != NULL)
		snprintf(out, out_len, "tcp:[%s]:%s", l->host, l->port);
	else
		snprintf(out, out_len, "tcp:%s:%s", l->host, l->port);
}

static int
open_unix(const struct lurkd_listen *l, unsigned mode, int *out, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(l->path) >= sizeof(sa.sun_path)) {
		snprintf(err, err_len, "unix socket path too long: %s", l->path);
		return LURK_ERR_CONFIG;
	}
	memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
	if (lstat(l->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, err_len, "%s exists and is not a socket", l->path);
			return LURK_ERR_CONFIG;
		}
		/* Replace a stale socket, never one a running server still answers on. */
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
			r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
			close(fd);
			if (r == 0) {
				snprintf(err, err_len, "%s is in use by a running server", l->path);
				return LURK_ERR_CONFIG;
			}
		}
		(void)unlink(l->path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return LURK_ERR_SYSTEM;
	}
	/* The socket file is born with the final mode: no window where it is wider. */
	old = umask((mode_t)(~mode & 0777));
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0 || chmod(l->path, mode) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, err_len, "%s: %s", l->path, strerror(errno));
		close(fd);
		return LURK_ERR_SYSTEM;
	}
	*out = fd;
	return 0;
}

static int
open_tcp(const struct lurkd_listen *l, int *out, char *err, size_t err_len)
{
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(l->host, l->port, &hints, &ai)) != 0) {
		snprintf(err, err_len, "%s:%s: %s", l->host, l->port, gai_strerror(r));
		return LURK_ERR_CONFIG;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		freeaddrinfo(ai);
		return LURK_ERR_SYSTEM;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, err_len, "%s port %s: %s", l->host, l->port, strerror(errno));
		close(fd);
		freeaddrinfo(ai);
		return LURK_ERR_SYSTEM;
	}
	freeaddrinfo(ai);
	*out = fd;
	return 0;
}

int
lurkd_listen_open(const struct lurkd_listen *l, unsigned mode, int *fd, char *err, size_t err_len)
{
	*fd = -1;
	if (l->kind == LURKD_LISTEN_UNIX)
		return open_unix(l, mode, fd, err, err_len);
	return open_tcp(l, fd, err, err_len);
}
