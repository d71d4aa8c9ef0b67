/*
 * File contents for the configuration loader: the disk, a recorder over the
 * disk, or a bundle from the privileged parent (files.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "files.h"
#include "mem.h"

struct file {
	char *path;
	uint8_t *data;
	size_t len;
	unsigned flags;
};

struct lurkd_files {
	int recording; /* 1: read the disk and keep copies; 0: a bundle */
	struct file *files;
	size_t n;
	size_t total;
};

static const uint8_t magic[5] = {'L', 'R', 'K', 'B', 1};

struct lurkd_files *
lurkd_files_recorder(void)
{
	struct lurkd_files *fs = calloc(1, sizeof(*fs));

	if (fs != NULL)
		fs->recording = 1;
	return fs;
}

void
lurkd_files_free(struct lurkd_files *fs)
{
	if (fs == NULL)
		return;
	for (size_t i = 0; i < fs->n; i++) {
		lurkd_files_release(fs->files[i].data, fs->files[i].len);
		free(fs->files[i].path);
	}
	free(fs->files);
	free(fs);
}

void
lurkd_files_release(uint8_t *data, size_t len)
{
	if (data == NULL)
		return;
	/* Every file is wiped: most of what lurkd reads is secret or says where secrets are. */
	sodium_memzero(data, len + 1);
	free(data);
}

static int
fail(char *why, size_t why_len, const char *fmt, const char *arg)
{
	(void)fmt; /* always "%s" */
	snprintf(why, why_len, "%s", arg);
	return LURK_ERR_CONFIG;
}

/* Reads a regular file of at most LURKD_FILES_MAX_FILE bytes. */
static int
read_disk(const char *path, unsigned flags, uint8_t **data, size_t *len, char *why, size_t why_len)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t have = 0;
	int fd, oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

	if (flags & LURKD_FILE_OWNER_ONLY)
		oflags |= O_NOFOLLOW;
	if ((fd = open(path, oflags)) < 0)
		return fail(why, why_len, "%s", errno == ENOENT ? "no such file" : strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(why, why_len, "%s", "not a regular file");
	}
	if ((flags & LURKD_FILE_OWNER_ONLY) && (st.st_mode & 077) != 0) {
		close(fd);
		return fail(
			why, why_len, "%s", "file is accessible by group or others (chmod 600 it)");
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > LURKD_FILES_MAX_FILE) {
		close(fd);
		return fail(why, why_len, "%s", "file too large");
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return LURK_ERR_ALLOC;
	}
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, p + have, (size_t)st.st_size - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (have != (size_t)st.st_size) {
		lurkd_files_release(p, have);
		return fail(why, why_len, "%s", "read failed or the file changed while read");
	}
	p[have] = '\0';
	*data = p;
	*len = have;
	return 0;
}

static int
copy_of(const uint8_t *src, size_t len, uint8_t **data, size_t *out_len)
{
	uint8_t *p = malloc(len + 1);

	if (p == NULL)
		return LURK_ERR_ALLOC;
	memcpy(p, src, len);
	p[len] = '\0';
	*data = p;
	*out_len = len;
	return 0;
}

static struct file *
find(const struct lurkd_files *fs, const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->files[i].path, path) == 0)
			return &fs->files[i];
	return NULL;
}

static int
record(struct lurkd_files *fs, const char *path, const uint8_t *data, size_t len, unsigned flags)
{
	struct file *nf;

	if (find(fs, path) != NULL)
		return 0;
	if (fs->n >= LURKD_FILES_MAX_COUNT || strlen(path) > LURKD_FILES_MAX_PATH ||
		fs->total + len > LURKD_FILES_MAX_BUNDLE / 2)
		return LURK_ERR_TOO_LARGE;
	if ((nf = realloc(fs->files, (fs->n + 1) * sizeof(*nf))) == NULL)
		return LURK_ERR_ALLOC;
	fs->files = nf;
	nf = &fs->files[fs->n];
	memset(nf, 0, sizeof(*nf));
	if ((nf->path = strdup(path)) == NULL || copy_of(data, len, &nf->data, &nf->len) != 0) {
		free(nf->path);
		return LURK_ERR_ALLOC;
	}
	nf->flags = flags;
	fs->n++;
	fs->total += len;
	return 0;
}

int
lurkd_files_read(struct lurkd_files *fs, const char *path, unsigned flags, uint8_t **data,
	size_t *len, char *why, size_t why_len)
{
	const struct file *f;
	int r;

	*data = NULL;
	*len = 0;
	if (fs == NULL || fs->recording) {
		if ((r = read_disk(path, flags, data, len, why, why_len)) != 0)
			return r;
		if (fs != NULL && (r = record(fs, path, *data, *len, flags)) != 0) {
			lurkd_files_release(*data, *len);
			*data = NULL;
			return fail(why, why_len, "%s", lurk_err_str(r));
		}
		return 0;
	}
	if ((f = find(fs, path)) == NULL)
		return fail(why, why_len, "%s", "not read by lurkd's privileged parent");
	return copy_of(f->data, f->len, data, len);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
lurkd_files_bundle(const struct lurkd_files *fs, uint8_t **out, size_t *out_len)
{
	size_t need = sizeof(magic) + 4, off = 0;
	uint8_t *p;

	*out = NULL;
	*out_len = 0;
	for (size_t i = 0; i < fs->n; i++)
		need += 2 + strlen(fs->files[i].path) + 1 + 4 + fs->files[i].len;
	if (need > LURKD_FILES_MAX_BUNDLE)
		return LURK_ERR_TOO_LARGE;
	if ((p = malloc(need)) == NULL)
		return LURK_ERR_ALLOC;
	memcpy(p, magic, sizeof(magic));
	off = sizeof(magic);
	put32(p + off, (uint32_t)fs->n);
	off += 4;
	for (size_t i = 0; i < fs->n; i++) {
		const struct file *f = &fs->files[i];
		size_t pl = strlen(f->path);
		p[off++] = (uint8_t)(pl >> 8);
		p[off++] = (uint8_t)pl;
		memcpy(p + off, f->path, pl);
		off += pl;
		p[off++] = (uint8_t)f->flags;
		put32(p + off, (uint32_t)f->len);
		off += 4;
		memcpy(p + off, f->data, f->len);
		off += f->len;
	}
	*out = p;
	*out_len = off;
	return 0;
}

struct lurkd_files *
lurkd_files_from_bundle(const uint8_t *p, size_t len)
{
	struct lurkd_files *fs;
	size_t off = sizeof(magic);
	uint32_t count;

	if (len < sizeof(magic) + 4 || len > LURKD_FILES_MAX_BUNDLE ||
		memcmp(p, magic, sizeof(magic)) != 0)
		return NULL;
	count = get32(p + off);
	off += 4;
	if (count > LURKD_FILES_MAX_COUNT || (fs = calloc(1, sizeof(*fs))) == NULL)
		return NULL;
	fs->recording = 1; /* record() is reused to add entries */
	for (uint32_t i = 0; i < count; i++) {
		size_t pl, dl;
		char path[LURKD_FILES_MAX_PATH + 1];
		unsigned flags;

		if (len - off < 2)
			goto bad;
		pl = (size_t)p[off] << 8 | p[off + 1];
		off += 2;
		if (pl == 0 || pl > LURKD_FILES_MAX_PATH || len - off < pl + 1 + 4)
			goto bad;
		memcpy(path, p + off, pl);
		path[pl] = '\0';
		if (strlen(path) != pl)
			goto bad;
		off += pl;
		flags = p[off++];
		dl = get32(p + off);
		off += 4;
		if (dl > LURKD_FILES_MAX_FILE || len - off < dl || find(fs, path) != NULL)
			goto bad;
		if (record(fs, path, p + off, dl, flags) != 0)
			goto bad;
		off += dl;
	}
	if (off != len)
		goto bad;
	fs->recording = 0;
	return fs;
bad:
	lurkd_files_free(fs);
	return NULL;
}
