/* Listening sockets of lurkd: TCP (IPv4/IPv6) and unix stream sockets. */
#ifndef LURKD_LISTEN_H
#define LURKD_LISTEN_H

#include <stddef.h>

#include "compiler.h"
#include "conf.h"

struct passwd;

/*
 * Opens one non-blocking listening socket. A unix socket is created with
 * `mode` (a stale socket file is replaced; anything else at the path is an
 * error); a missing directory for it is created first, with its missing
 * parents, mode 0750 (logged at info level). With owner (lurkd started as
 * root to serve as `user`), the socket and the directories it creates
 * belong to that user and its group, as they would if lurkd had been
 * started as that user: the group that may use the socket can reach it.
 * Directories that exist are left as they are. err gets the reason.
 */
int lurkd_listen_open(const struct lurkd_listen *l, unsigned mode, const struct passwd *owner,
	int *fd, char *err, size_t err_len) LURK_MUST_CHECK;
/*
 * What lurkd_listen_open will do for a unix socket, in words for
 * --check-config: its mode and owner, and the directories it will create.
 * 1 if it will create one, else 0 (out empty for TCP).
 */
int lurkd_listen_plan(const struct lurkd_listen *l, unsigned mode, const struct passwd *owner,
	char *out, size_t out_len);
/*
 * Whether the directory of a unix socket path is there or lurkd could create
 * it (lurkd_listen_open creates it, and its missing parents, with mode 0750):
 * 0 when it exists, or when its nearest existing ancestor is a directory this
 * process may write and search. Otherwise non-zero, and why gets "directory
 * DIR does not exist and cannot be created: REASON". For configuration checks.
 */
int lurkd_listen_dir_check(const char *socket_path, char *why, size_t why_len) LURK_MUST_CHECK;
/* Human form of a listen address for logs. */
void lurkd_listen_describe(const struct lurkd_listen *l, char *out, size_t out_len);

#endif
