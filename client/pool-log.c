/*
 * What the pool says when a key server gives no connection (pool-log.h):
 * one warning naming what to fix, from the errno of the connect or the
 * refusal lurkd sent instead of its handshake reply.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "conn.h"
#include "err.h"
#include "keyfile.h"
#include "log.h"
#include "pool-log.h"

/* A short reason for a failed connect: the errno's text when there is one. */
const char *
lc_pool_short_reason(int r, const struct lurk_client_why *why, char *buf, size_t len)
{
	if (r != LURK_ERR_IO || why->sys_errno == 0)
		return lurk_err_str(r);
	switch (why->sys_errno) {
	case ECONNREFUSED:
		return "connection refused";
	case ENOENT:
		return "no such socket";
	case EACCES:
	case EPERM:
		return "permission denied";
	case ECONNRESET:
	case EPIPE:
		return "connection reset";
	default:
		/* GNU strerror_r (config.h defines _GNU_SOURCE): thread-safe. */
		return strerror_r(why->sys_errno, buf, len);
	}
}

/*
 * One warning for a server that gave no connection, saying what to fix: the
 * errno of the connect, or the refusal lurkd sent instead of msg2 (its own
 * log says the same from its side, with the same client key fingerprint).
 */
void
lc_pool_log_connect_failure(const struct lc_conf *conf, const struct lc_server *sv,
	const uint8_t *sk, int r, const struct lurk_client_why *why, unsigned long fast,
	int answered)
{
	uint8_t pk[LURK_NOISE_KEY_LEN];
	char fp[LURK_STATIC_KEY_FP_LEN + 1] = "unknown", b64[LURK_STATIC_KEY_B64_LEN + 1] = "";
	char buf[128], more[96] = "";
	int closed = r == LURK_ERR_EOF ||
		     (r == LURK_ERR_IO && why->in_handshake &&
			     (why->sys_errno == ECONNRESET || why->sys_errno == EPIPE));

	if (fast > 0)
		snprintf(more, sizeof(more), " (%lu calls failed at once since the last line)",
			fast);
	if (lurk_static_key_public(sk, pk) == 0) {
		lurk_static_key_fingerprint(pk, fp);
		lurk_static_key_b64_encode(pk, b64);
	}
	if (r == LURK_ERR_IO && !why->in_handshake && why->sys_errno == ECONNREFUSED)
		lurk_warn("key server %s (%s): connection refused: is lurkd running?%s", sv->name,
			sv->address, more);
	else if (r == LURK_ERR_IO && !why->in_handshake && why->sys_errno == ENOENT)
		lurk_warn("key server %s (%s): no such socket: is lurkd running?%s", sv->name,
			sv->address, more);
	else if (r == LURK_ERR_IO && !why->in_handshake &&
		 (why->sys_errno == EACCES || why->sys_errno == EPERM))
		lurk_warn("key server %s (%s): permission denied: this user may not use lurkd's "
			  "socket (see socket-mode in lurkd.conf)%s",
			sv->name, sv->address, more);
	else if (r == LURK_ERR_SERVER_KEY)
		lurk_warn("the key server at %s did not accept our handshake: check public-key "
			  "for server %s in %s%s",
			sv->address, sv->name, conf->path, more);
	else if (r == LURK_ERR_UNKNOWN_PEER)
		lurk_warn("the key server at %s refused this client key (fingerprint %s): add it "
			  "to lurkd.conf as a [client] with public-key = %s%s",
			sv->address, fp, b64, more);
	else if (r == LURK_ERR_DENIED)
		lurk_warn("the key server at %s refused this client now (source address or "
			  "validity window): see lurkd's log%s",
			sv->address, more);
	else if (r == LURK_ERR_STALE)
		lurk_warn("the key server at %s refused our handshake as replayed or out of its "
			  "time window: check both machines' clocks%s",
			sv->address, more);
	else if (r == LURK_ERR_BUSY)
		lurk_warn("the key server at %s is busy: at max-connections, or at its cap per "
			  "source address or per client key (lurkd's log says which); try again "
			  "later or raise the limit in lurkd.conf%s",
			sv->address, more);
	else if (closed && answered)
		/* It knew this key a moment ago: it is going away (kill, restart). */
		lurk_warn("key server %s (%s): closed the connection during the handshake; it "
			  "accepted this client before, so it is likely stopping or restarting%s",
			sv->name, sv->address, more);
	else if (closed)
		/* A lurkd without refusal frames closes without saying why. */
		lurk_warn("the key server at %s closed the connection during the handshake: check "
			  "public-key for server %s in %s, and that lurkd.conf has this client "
			  "key (fingerprint %s)%s",
			sv->address, sv->name, conf->path, fp, more);
	else if (r == LURK_ERR_TIMEOUT && !why->in_handshake && why->sys_errno == EAGAIN)
		lurk_warn("key server %s (%s): its listen queue stayed full for connect-timeout "
			  "(%d ms): lurkd is overloaded or not accepting connections%s",
			sv->name, sv->address, conf->connect_timeout_ms, more);
	else if (r == LURK_ERR_TIMEOUT)
		lurk_warn("key server %s (%s): no answer in time (connect-timeout %d ms, less when "
			  "shared with other servers within timeout)%s",
			sv->name, sv->address, conf->connect_timeout_ms, more);
	else if (r == LURK_ERR_CONFIG)
		lurk_warn("key server %s (%s): the host name does not resolve%s", sv->name,
			sv->address, more);
	else
		lurk_warn("key server %s (%s): %s%s", sv->name, sv->address,
			lc_pool_short_reason(r, why, buf, sizeof(buf)), more);
	sodium_memzero(pk, sizeof(pk));
}
