/*
 * Internal to the wire protocol (wire-field.c, wire-msg.c): the field types
 * messages are made of, each a get/put pair enforcing the same rules, so a
 * builder never emits what a parser refuses.
 *
 * Getters return borrowed pointers into b; they do not clean up on failure
 * because message parsers read from a throw-away view and zero their output.
 * Putters may leave part of a field behind on failure; builders undo the
 * whole message (lurk_wire_undo).
 */
#ifndef LURK_WIRE_FIELD_H
#define LURK_WIRE_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compiler.h"
#include "wire.h"

/* A view `v` of in's unread bytes; body_done checks v is used up, then consumes in. */
void lurk_wire_body_view(struct lurk_buf *in, struct lurk_buf *v);
int lurk_wire_body_done(struct lurk_buf *in, const struct lurk_buf *v) LURK_MUST_CHECK;
/* Builders: drop what was appended since `start` and return r; or check the size cap. */
int lurk_wire_undo(struct lurk_buf *out, size_t start, int r) LURK_MUST_CHECK;
int lurk_wire_built(struct lurk_buf *out, size_t start) LURK_MUST_CHECK;

/* u16 / u32 length-prefixed bytes of min..max bytes (TOO_LARGE over max, BAD_FORMAT under min). */
int lurk_wire_get_str16(
	struct lurk_buf *b, const uint8_t **p, size_t *n, size_t max, size_t min) LURK_MUST_CHECK;
int lurk_wire_put_str16(
	struct lurk_buf *b, const void *p, size_t n, size_t max, size_t min) LURK_MUST_CHECK;
int lurk_wire_get_str32(
	struct lurk_buf *b, const uint8_t **p, size_t *n, size_t max, size_t min) LURK_MUST_CHECK;
int lurk_wire_put_str32(
	struct lurk_buf *b, const void *p, size_t n, size_t max, size_t min) LURK_MUST_CHECK;
/* Key id: u16 string of 1..LURK_WIRE_MAX_KEY_ID bytes. */
int lurk_wire_get_key_id(struct lurk_buf *b, const uint8_t **p, size_t *n) LURK_MUST_CHECK;
int lurk_wire_put_key_id(struct lurk_buf *b, const void *p, size_t n) LURK_MUST_CHECK;
/* u16 string of UTF-8 text without NUL (not NUL-terminated when borrowed). */
int lurk_wire_get_text(struct lurk_buf *b, const char **s, size_t *n, size_t max) LURK_MUST_CHECK;
int lurk_wire_put_text(struct lurk_buf *b, const char *s, size_t n, size_t max) LURK_MUST_CHECK;
/* u32 flags whose bits outside `known` must be zero. */
int lurk_wire_get_flags(struct lurk_buf *b, uint32_t *v, uint32_t known) LURK_MUST_CHECK;
int lurk_wire_put_flags(struct lurk_buf *b, uint32_t v, uint32_t known) LURK_MUST_CHECK;
/*
 * u16 element count: TOO_LARGE over max, INCOMPLETE when the bytes left
 * cannot hold that many elements of at least elem_min bytes (checked before
 * the caller allocates).
 */
int lurk_wire_get_count(
	struct lurk_buf *b, size_t *count, size_t max, size_t elem_min) LURK_MUST_CHECK;
int lurk_wire_put_count(struct lurk_buf *b, size_t count, size_t max) LURK_MUST_CHECK;
/* u8 enum lurk_key_type. */
int lurk_wire_get_key_type(struct lurk_buf *b, uint8_t *t) LURK_MUST_CHECK;
int lurk_wire_put_key_type(struct lurk_buf *b, uint8_t t) LURK_MUST_CHECK;
/* u16 enum lurk_wire_status. */
int lurk_wire_get_status(struct lurk_buf *b, uint16_t *s) LURK_MUST_CHECK;
int lurk_wire_put_status(struct lurk_buf *b, uint16_t s) LURK_MUST_CHECK;
/* The mechanism parameter union (u8 kind, then per kind). */
int lurk_wire_get_param(struct lurk_buf *b, struct lurk_wire_param *pa) LURK_MUST_CHECK;
int lurk_wire_put_param(struct lurk_buf *b, const struct lurk_wire_param *pa) LURK_MUST_CHECK;

#endif
