/*
 * The pool's connect failures in words (client/pool-log.c), apart from the
 * pool's state machine in pool.c.
 */
#ifndef LURK_CLIENT_POOL_LOG_H
#define LURK_CLIENT_POOL_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "conn.h"

/* A short reason for a failed connect: the errno's text when there is one. */
const char *lc_pool_short_reason(int r, const struct lurk_client_why *why, char *buf, size_t len);
/*
 * One warning for server sv of conf that gave no connection (r, why), with
 * the client key sk's fingerprint where it helps, fast calls failed at
 * once since the last line, and whether sv answered this key before.
 */
void lc_pool_log_connect_failure(const struct lc_conf *conf, const struct lc_server *sv,
	const uint8_t *sk, int r, const struct lurk_client_why *why, unsigned long fast,
	int answered);

#endif
