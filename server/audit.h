/*
 * The audit log: one JSON line per operation, written by its own thread so
 * the request path only copies a record into a bounded queue. When the queue
 * is full the caller waits for room: records are never dropped.
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
};

/* target: a file path (appended to), "syslog", or NULL for no audit log. */
int lurkd_audit_open(
	const char *target, struct lurkd_audit **out, char *err, size_t err_len) LURK_MUST_CHECK;
void lurkd_audit_record(struct lurkd_audit *a, const struct lurkd_audit_rec *rec);
/* Reopens the file (after log rotation); called on SIGHUP. */
void lurkd_audit_reopen(struct lurkd_audit *a);
/* Writes out everything queued, stops the writer and frees. NULL is fine. */
void lurkd_audit_close(struct lurkd_audit *a);
/* Formats one record as a JSON line (with '\n'); returns its length. */
size_t lurkd_audit_format(const struct lurkd_audit_rec *rec, char *out, size_t out_len);
/* Name of a PKCS#11 mechanism, e.g. "CKM_ECDSA", or NULL. */
const char *lurkd_mech_name(uint32_t mech);

#endif
