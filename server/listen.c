#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <pwd.h>

#include "err.h"
#include "listen.h"
#include "log.h"

#define LISTEN_BACKLOG 4096
/*
 * Directories lurkd creates for its unix sockets: no access for others;
 * owned like the socket (see lurkd_listen_open), so its group reaches both.
 */
#define LISTEN_DIR_MODE 0750
/* Longer than any unix socket path (sun_path is 108 bytes on Linux). */
#define LISTEN_PATH_MAX 1024

/* The directory part of a socket path: "/run/lurk/s" -> "/run/lurk", "/s" -> "/". */
static int
socket_dir(const char *socket_path, char *dir, size_t dir_len)
{
	const char *slash = strrchr(socket_path, '/');
	size_t n;

	if (slash == NULL) {
		snprintf(dir, dir_len, ".");
		return 0;
	}
	n = slash == socket_path ? 1 : (size_t)(slash - socket_path);
	if (n >= dir_len)
		return -1;
	memcpy(dir, socket_path, n);
	dir[n] = '\0';
	/* "/run//s": drop trailing slashes but keep "/". */
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	return 0;
}

/*
 * The nearest ancestor of dir (dir itself included) that exists: *len gets how
 * much of dir it is (0 for "." above a relative path), *st its stat. Returns 0,
 * or -1 with errno when a lookup fails for another reason than a missing
 * component.
 */
static int
nearest_existing(const char *dir, size_t *len, struct stat *st)
{
	char p[LISTEN_PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, dir, n + 1);
	for (;;) {
		if (stat(n == 0 ? "." : p, st) == 0) {
			*len = n;
			return 0;
		}
		/* ENOTDIR: a file stands in the way; the walk up finds it. */
		if ((errno != ENOENT && errno != ENOTDIR) || n == 0)
			return -1;
		/* Up one level: "/a/b" -> "/a", "/a" -> "/", "a" -> "". */
		while (n > 0 && p[n - 1] != '/')
			n--;
		while (n > 1 && p[n - 1] == '/')
			n--;
		p[n] = '\0';
	}
}

int
lurkd_listen_dir_check(const char *socket_path, char *why, size_t why_len)
{
	char dir[LISTEN_PATH_MAX], anc[LISTEN_PATH_MAX];
	struct stat st;
	size_t n;

	if (socket_dir(socket_path, dir, sizeof(dir)) != 0) {
		snprintf(why, why_len, "unix socket path too long: %s", socket_path);
		return LURK_ERR_CONFIG;
	}
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (nearest_existing(dir, &n, &st) != 0) {
		snprintf(why, why_len, "directory %s does not exist and cannot be created: %s", dir,
			strerror(errno));
		return LURK_ERR_CONFIG;
	}
	if (n == 0)
		snprintf(anc, sizeof(anc), ".");
	else
		snprintf(anc, sizeof(anc), "%.*s", (int)n, dir);
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, why_len,
			"directory %s does not exist and cannot be created: %s is not a directory",
			dir, anc);
		return LURK_ERR_CONFIG;
	}
	if (access(anc, W_OK | X_OK) != 0) {
		snprintf(why, why_len,
			"directory %s does not exist and cannot be created: %s is not writable: %s",
			dir, anc, strerror(errno));
		return LURK_ERR_CONFIG;
	}
	return 0;
}

/* "lurk:lurk" for a user and its group (numbers if they have no names). */
static void
owner_name(const struct passwd *pw, char *out, size_t out_len)
{
	struct group *gr = getgrgid(pw->pw_gid);

	if (gr != NULL)
		snprintf(out, out_len, "%s:%s", pw->pw_name, gr->gr_name);
	else
		snprintf(out, out_len, "%s:%lu", pw->pw_name, (unsigned long)pw->pw_gid);
}

/*
 * Creates the socket's directory and its missing parents, each with mode
 * LISTEN_DIR_MODE whatever the umask, owned by owner (NULL: whoever runs
 * this), and logs each one.
 */
static int
make_socket_dir(const char *socket_path, const struct passwd *owner, char *err, size_t err_len)
{
	char who[300] = "";
	char dir[LISTEN_PATH_MAX];
	struct stat st;
	size_t n, len;

	if (socket_dir(socket_path, dir, sizeof(dir)) != 0) {
		snprintf(err, err_len, "unix socket path too long: %s", socket_path);
		return LURK_ERR_CONFIG;
	}
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (nearest_existing(dir, &n, &st) != 0) {
		snprintf(err, err_len, "cannot create directory %s for unix socket %s: %s", dir,
			socket_path, strerror(errno));
		return LURK_ERR_SYSTEM;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, err_len, "cannot create directory %s for unix socket %s: %s", dir,
			socket_path, strerror(ENOTDIR));
		return LURK_ERR_CONFIG;
	}
	if (owner != NULL) {
		char name[256];
		owner_name(owner, name, sizeof(name));
		snprintf(who, sizeof(who), ", owner %s", name);
	}
	/* dir[0, n) exists ("." when n is 0); create each level below it. */
	len = strlen(dir);
	while (n < len) {
		while (n < len && dir[n] == '/')
			n++;
		while (n < len && dir[n] != '/')
			n++;
		dir[n] = '\0';
		if (mkdir(dir, LISTEN_DIR_MODE) != 0) {
			/* Someone else made it meanwhile: fine if it is a directory. */
			if (errno != EEXIST || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
				if (errno == EEXIST)
					errno = ENOTDIR;
				snprintf(err, err_len,
					"cannot create directory %s for unix socket %s: %s", dir,
					socket_path, strerror(errno));
				return LURK_ERR_SYSTEM;
			}
		} else {
			/* mkdir's mode went through the umask. */
			if (chmod(dir, LISTEN_DIR_MODE) != 0 ||
				(owner != NULL && chown(dir, owner->pw_uid, owner->pw_gid) != 0)) {
				snprintf(err, err_len,
					"cannot create directory %s for unix socket %s: %s: %s",
					dir, socket_path, owner != NULL ? "chmod/chown" : "chmod",
					strerror(errno));
				return LURK_ERR_SYSTEM;
			}
			lurk_info("created directory %s (mode %04o) for unix socket %s%s", dir,
				(unsigned)LISTEN_DIR_MODE, socket_path, who);
		}
		if (n < len)
			dir[n] = '/';
	}
	return 0;
}

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

int
lurkd_listen_plan(const struct lurkd_listen *l, unsigned mode, const struct passwd *owner,
	char *out, size_t out_len)
{
	char dir[LISTEN_PATH_MAX], who[300] = "the user lurkd starts as", top[LISTEN_PATH_MAX];
	struct stat st;
	size_t n = 0;

	out[0] = '\0';
	if (l->kind != LURKD_LISTEN_UNIX || socket_dir(l->path, dir, sizeof(dir)) != 0)
		return 0;
	if (owner != NULL)
		owner_name(owner, who, sizeof(who));
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(out, out_len, "unix socket %s: mode %04o, owner %s", l->path, mode, who);
		return 0;
	}
	/* The first missing level below the nearest one that exists. */
	if (nearest_existing(dir, &n, &st) != 0)
		return 0;
	while (n < strlen(dir) && dir[n] == '/')
		n++;
	snprintf(top, sizeof(top), "%s", dir);
	for (size_t i = n; top[i] != '\0'; i++)
		if (top[i] == '/') {
			top[i] = '\0';
			break;
		}
	snprintf(out, out_len,
		"unix socket %s: mode %04o, owner %s; lurkd will create %s (mode %04o, owner "
		"%s)%s%s",
		l->path, mode, who, dir, (unsigned)LISTEN_DIR_MODE, who,
		strcmp(top, dir) != 0 ? ", and the missing folders above it from " : "",
		strcmp(top, dir) != 0 ? top : "");
	return 1;
}

static int
open_unix(const struct lurkd_listen *l, unsigned mode, const struct passwd *owner, int *out,
	char *err, size_t err_len)
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
	} else if ((r = make_socket_dir(l->path, owner, err, err_len)) != 0) {
		return r;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return LURK_ERR_SYSTEM;
	}
	/* The socket file is born with the final mode: no window where it is wider. */
	old = umask((mode_t)(~mode & 0777));
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0 || chmod(l->path, mode) != 0 ||
		(owner != NULL && chown(l->path, owner->pw_uid, owner->pw_gid) != 0) ||
		listen(fd, LISTEN_BACKLOG) != 0) {
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
lurkd_listen_open(const struct lurkd_listen *l, unsigned mode, const struct passwd *owner, int *fd,
	char *err, size_t err_len)
{
	*fd = -1;
	if (l->kind == LURKD_LISTEN_UNIX)
		return open_unix(l, mode, owner, fd, err, err_len);
	return open_tcp(l, fd, err, err_len);
}
