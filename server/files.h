/*
 * Where lurkd's configuration loader gets the contents of files: straight
 * from the disk, or from a bundle that the privileged parent read.
 *
 * Privilege separation (see main.c and docs/architecture.md): a lurkd started
 * as root with `user =` keeps a small root parent that only reads files. On
 * start and on every reload the parent reads lurkd.conf and every file it
 * names (static key, key sources, password files, chains) with a recorder,
 * checking them as lurkd always does, and sends the bundle to the
 * unprivileged child, which loads the configuration from the bundle alone.
 * The child never asks for a path: it gets what the parent's own reading of
 * its own configuration named.
 *
 * Bundle: "LRKB" u8 version, u32 count, then per file: u16 path length,
 * path, u8 flags, u32 data length, data (all big-endian). Bounded by
 * LURKD_FILES_MAX_* below; a bundle that breaks any bound is refused whole.
 */
#ifndef LURKD_FILES_H
#define LURKD_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lurk-limits.h"

/* Flags of a read. */
#define LURKD_FILE_SECRET     1u /* wiped when released */
#define LURKD_FILE_OWNER_ONLY 2u /* refused if group or others may read it */

struct lurkd_files;

/* A recorder: reads the disk and keeps a copy of everything read. */
struct lurkd_files *lurkd_files_recorder(void);
/* A bundle parsed from bytes (which the caller may then wipe); NULL if malformed. */
struct lurkd_files *lurkd_files_from_bundle(const uint8_t *p, size_t len);
void lurkd_files_free(struct lurkd_files *fs);

/*
 * The contents of path (NUL-terminated, *len without the NUL). fs NULL
 * reads the disk. On failure why gets a reason ("no such file", …).
 * Release with lurkd_files_release().
 */
int lurkd_files_read(struct lurkd_files *fs, const char *path, unsigned flags, uint8_t **data,
	size_t *len, char *why, size_t why_len) LURK_MUST_CHECK;
void lurkd_files_release(uint8_t *data, size_t len);

/* The recorder's files as a bundle (malloc'd; wipe and free it). */
int lurkd_files_bundle(
	const struct lurkd_files *fs, uint8_t **out, size_t *out_len) LURK_MUST_CHECK;

#endif
