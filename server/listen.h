/* Listening sockets of lurkd: TCP (IPv4/IPv6) and unix stream sockets. */
#ifndef LURKD_LISTEN_H
#define LURKD_LISTEN_H

#include <stddef.h>

#include "compiler.h"
#include "conf.h"

/*
 * Opens one non-blocking listening socket. A unix socket is created with
 * `mode` (a stale socket file is replaced; anything else at the path is an
 * error). err gets the reason.
 */
int lurkd_listen_open(const struct lurkd_listen *l, unsigned mode, int *fd, char *err,
	size_t err_len) LURK_MUST_CHECK;
/* Human form of a listen address for logs. */
void lurkd_listen_describe(const struct lurkd_listen *l, char *out, size_t out_len);

#endif
