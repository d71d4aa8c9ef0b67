/*
 * Per-client access controls: a validity window (not before / not after, in
 * RFC 3339 UTC) and source address restrictions for TCP clients (CIDR
 * prefixes, IPv4 and IPv6; IPv4-mapped IPv6 peers match IPv4 prefixes). Unix
 * socket peers are not subject to source restrictions: the socket's file
 * mode restricts them.
 */
#ifndef LURK_ACL_H
#define LURK_ACL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "compiler.h"
#include "lurk-limits.h"

struct lurk_acl_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits;
};

struct lurk_acl {
	int64_t not_before; /* unix seconds; INT64_MIN when unset */
	int64_t not_after;  /* INT64_MAX when unset */
	struct lurk_acl_prefix sources[LURK_ACL_MAX_SOURCES];
	size_t nsources; /* 0: any source */
};

void lurk_acl_init(struct lurk_acl *acl);
/* "2026-11-22T10:00:00Z" only (UTC, seconds, 'T' and 'Z'). */
int lurk_acl_parse_time(const char *s, int64_t *out) LURK_MUST_CHECK;
/* A list of "ADDR" or "ADDR/BITS" separated by blanks or commas; replaces the list. */
int lurk_acl_parse_sources(struct lurk_acl *acl, const char *s) LURK_MUST_CHECK;
/* 1 when now is inside the window. */
int lurk_acl_time_ok(const struct lurk_acl *acl, int64_t now);
/* 1 when the peer may connect (any unix peer; a TCP peer inside a prefix). */
int lurk_acl_source_ok(const struct lurk_acl *acl, const struct sockaddr *sa);

#endif
