/*
 * lurk-admin status: a running lurkd's state on one screen, from its
 * metrics endpoint (admin-status.c fetches with libcurl, at most
 * LURK_STATUS_MAX_BYTES; admin-status-parse.c reads the exposition).
 */
#ifndef LURK_ADMIN_STATUS_H
#define LURK_ADMIN_STATUS_H

#include <stddef.h>
#include <stdint.h>

#define LURK_STATUS_MAX_BYTES (4u << 20)
#define LURK_STATUS_MAX_ROWS  4096 /* keys, clients or reasons kept; more are left out */
#define LURK_STATUS_BUCKETS   16

struct status_row {
	char name[128];
	double allowed, refused, errors;
	/* The latency histogram (keys): bounds and cumulative counts, both operations. */
	double le[LURK_STATUS_BUCKETS], cum[LURK_STATUS_BUCKETS];
	size_t nle;
};

struct status_table {
	struct status_row *rows;
	size_t n, cap;
	int truncated;
};

struct status {
	char version[64];
	double generation, loaded, open, conn_ok, conn_refused, hs_ok, hs_refused;
	double reload_ok, reload_failed;
	struct status_table keys, clients, reasons; /* reasons: count in allowed */
};

/* Reads an exposition text of len bytes into st (zeroed first). 0, or -1 out of memory. */
int lurk_status_parse(const char *text, size_t len, struct status *st);
void lurk_status_free(struct status *st);

/* argv[0] is "status"; 0, 1 (error) or 2 (usage). */
int lurk_admin_status(int argc, char **argv);

#endif
