/*
 * Request handlers of lurkd: one function per operation, chosen from a table
 * by message type (like OpenSSH's monitor table). For every request: is this
 * client allowed this key, then the usage policy, then the operation, then an
 * audit record.
 */
#ifndef LURKD_HANDLE_H
#define LURKD_HANDLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compiler.h"
#include "audit.h"
#include "conf.h"
#include "server.h"

struct lurkd_req_ctx {
	struct lurkd *server;
	const struct lurkd_config *cfg;
	const struct lurkd_client *client;
	const char *session;             /* hex prefix of the handshake hash */
	const char *peer;                /* peer address for logs */
	struct lurkd_audit_batch *batch; /* the worker's: records of this pass */
};

/*
 * Serves one reassembled request message and writes one response message into
 * resp (emptied first). Returns 0, or a negative LURK_ERR_* when the message
 * is too broken to answer: then the connection is closed.
 */
int lurkd_handle_request(const struct lurkd_req_ctx *ctx, const uint8_t *msg, size_t len,
	struct lurk_buf *resp) LURK_MUST_CHECK;

#endif
