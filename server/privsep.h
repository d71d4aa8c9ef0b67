/*
 * The channel between lurkd's privileged parent and its unprivileged child
 * (main.c): a unix stream socketpair carrying messages
 *
 *   u8 type, u32 length (big-endian), length bytes
 *
 * parent → child: PRIVSEP_CONFIG, a files bundle (files.h), with the audit
 *   log's descriptor attached (SCM_RIGHTS) when the audit log is a file;
 * child → parent: PRIVSEP_DONE after each configuration (loaded or refused),
 *   PRIVSEP_RELOAD to ask for a reload (the child got SIGHUP).
 * The parent reads only one byte types from the child, never a path or a
 * length: a compromised child can ask for a reload and nothing else.
 */
#ifndef LURKD_PRIVSEP_H
#define LURKD_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

enum {
	PRIVSEP_CONFIG = 1,
	PRIVSEP_DONE = 2,
	PRIVSEP_RELOAD = 3,
};

/* Sends a message, with fd attached when fd >= 0. Blocking. */
int lurkd_privsep_send(
	int sock, uint8_t type, const uint8_t *p, size_t len, int fd) LURK_MUST_CHECK;
/*
 * Receives one message (blocking): *type, a malloc'd body of at most max
 * bytes (wipe and free it), and *fd (-1 if none). LURK_ERR_EOF when the
 * other side is gone.
 */
int lurkd_privsep_recv(
	int sock, size_t max, uint8_t *type, uint8_t **p, size_t *len, int *fd) LURK_MUST_CHECK;

#endif
