/*
 * The audit log: one JSON line per operation.
 *
 * Group commit: a worker formats the records of one event-loop pass into its
 * own batch, writes the batch with one write(2) (O_APPEND, whole lines), and
 * only then lets the responses of that pass go to their sockets. So a
 * signature never leaves lurkd before its record is in the log's file (the
 * kernel's page cache: it survives lurkd being killed); `audit-sync = yes`
 * adds an fdatasync(2) per batch for machine crashes. A failed write marks
 * the log failing: the responses of that batch are dropped (their
 * connections closed) and every request is refused with a reason until a
 * write succeeds again. There is no queue, so nothing stalls on it.
 *
 * {"time":"2026-11-22T10:00:00.123456Z","session":"ab12…","client":"edge1",
 *  "key":"www","op":"sign","mechanism":"CKM_ECDSA","input_sha256":"…",
 *  "input_len":32,"verdict":"allowed","reason":"","usec":41}
 */
#ifndef LURKD_AUDIT_H
#define LURKD_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "compiler.h"

struct lurkd_audit;

struct lurkd_audit_rec {
	struct timespec when;
	char session[17]; /* first 8 bytes of the Noise handshake hash, hex */
	char client[64];
	char key[64];
	char op[16];
	uint32_t mechanism; /* CKM_*, or UINT32_MAX for none */
	uint8_t input_sha256[32];
	uint32_t input_len;
	char verdict[16]; /* "allowed", "refused", "error" */
	char reason[96];
	uint64_t usec;
	/* Not logged: the key's index in the client's keys, or its nkeys for none (metrics). */
	size_t key_index;
};

/* One worker's records of one event-loop pass. */
struct lurkd_audit_batch {
	char *buf;
	size_t len, cap;
	unsigned records;
	unsigned allowed; /* records whose operation succeeded (their result waits) */
};

/*
 * target: a file path (appended to), "syslog", or NULL for no audit log.
 * sync: fdatasync after each batch.
 */
int lurkd_audit_open(const char *target, int sync, struct lurkd_audit **out, char *err,
	size_t err_len) LURK_MUST_CHECK;
/* The same on a file the caller opened (privilege separation); takes fd. */
int lurkd_audit_open_fd(
	const char *path, int fd, int sync, struct lurkd_audit **out) LURK_MUST_CHECK;
/* Reopens the file (log rotation); called on reload. */
void lurkd_audit_reopen(struct lurkd_audit *a);
/* Replaces the file with fd (opened by the privileged parent); takes fd. */
void lurkd_audit_replace_fd(struct lurkd_audit *a, int fd);
void lurkd_audit_set_sync(struct lurkd_audit *a, int sync);
/* 0 while the log can be written; LURK_ERR_AUDIT after a failed write. */
int lurkd_audit_ok(struct lurkd_audit *a);
/* Closes and frees. NULL is fine. */
void lurkd_audit_close(struct lurkd_audit *a);

void lurkd_audit_batch_free(struct lurkd_audit_batch *b);
/* Adds one record to the batch; LURK_ERR_ALLOC or LURK_ERR_TOO_LARGE if it cannot. */
int lurkd_audit_add(struct lurkd_audit_batch *b, const struct lurkd_audit_rec *rec) LURK_MUST_CHECK;
/*
 * Writes the batch (one write, all of it) and empties it. 0 when written (or
 * when there is no audit log); LURK_ERR_AUDIT when not: the batch's results
 * must not be sent.
 */
int lurkd_audit_commit(struct lurkd_audit *a, struct lurkd_audit_batch *b) LURK_MUST_CHECK;

/* Formats one record as a JSON line (with '\n'); returns its length. */
size_t lurkd_audit_format(const struct lurkd_audit_rec *rec, char *out, size_t out_len);
/* Name of a PKCS#11 mechanism, e.g. "CKM_ECDSA", or NULL. */
const char *lurkd_mech_name(uint32_t mech);
/* The mechanisms lurkd names: how many, the i-th, and mech's index or -1 (metrics). */
#define LURKD_MECH_COUNT 14
uint32_t lurkd_mech_at(size_t i);
int lurkd_mech_index(uint32_t mech);

#endif
