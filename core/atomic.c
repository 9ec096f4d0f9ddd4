// SPDX-License-Identifier: MIT
#include "core/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct atomic_file {
	char *path;
	char *tmp;
	FILE *f;
};

int atomic_file_open(const char *path, struct atomic_file **out)
{
	*out = NULL;
	struct atomic_file *af = calloc(1, sizeof(*af));
	if (!af)
		return -ENOMEM;
	af->path = strdup(path);
	if (!af->path || asprintf(&af->tmp, "%s.tmp.XXXXXX", path) < 0) {
		af->tmp = NULL;
		atomic_file_abort(af);
		return -ENOMEM;
	}
	int fd = mkstemp(af->tmp);
	if (fd < 0) {
		int e = -errno;
		free(af->tmp);
		af->tmp = NULL;
		atomic_file_abort(af);
		return e;
	}
	fchmod(fd, 0644);
	af->f = fdopen(fd, "w");
	if (!af->f) {
		int e = -errno;
		close(fd);
		atomic_file_abort(af);
		return e;
	}
	*out = af;
	return 0;
}

FILE *atomic_file_stream(struct atomic_file *af)
{
	return af->f;
}

int atomic_file_commit(struct atomic_file *af)
{
	int r = 0;
	if (fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) != 0)
		r = -(errno ? errno : EIO);
	if (fclose(af->f) != 0 && r == 0)
		r = -errno;
	af->f = NULL;
	if (r == 0 && rename(af->tmp, af->path) != 0)
		r = -errno;
	if (r == 0) {
		free(af->tmp);
		af->tmp = NULL;
	}
	atomic_file_abort(af);
	return r;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (!af)
		return;
	if (af->f)
		fclose(af->f);
	if (af->tmp)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	free(af);
}

int atomic_write(const char *path, const void *data, size_t len)
{
	struct atomic_file *af;
	int r = atomic_file_open(path, &af);
	if (r < 0)
		return r;
	if (len && fwrite(data, 1, len, af->f) != len) {
		r = -(errno ? errno : EIO);
		atomic_file_abort(af);
		return r;
	}
	return atomic_file_commit(af);
}

int mkdir_p(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	int r = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return r;
}

struct atomic_batch {
	char **path, **tmp;
	size_t n, cap;
};

int atomic_batch_new(struct atomic_batch **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

int atomic_batch_add(struct atomic_batch *b, const char *path, const void *data, size_t len)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		char **p = realloc(b->path, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		b->path = p;
		char **t = realloc(b->tmp, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		b->tmp = t;
		b->cap = cap;
	}
	char *dst = strdup(path), *tmp = NULL;
	if (!dst || asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		free(dst);
		return -ENOMEM;
	}
	int r = 0, fd = mkstemp(tmp);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	fchmod(fd, 0644);
	for (size_t off = 0; off < len;) {
		ssize_t k = write(fd, (const char *)data + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)k;
	}
	if (close(fd) != 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		goto out;
	}
	b->path[b->n] = dst;
	b->tmp[b->n] = tmp;
	b->n++;
	return 0;
out:
	free(dst);
	free(tmp);
	return r;
}

/* fsync of the directory holding path, so that the rename itself is durable. */
static int sync_parent(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	int r = fd < 0 || fsync(fd) != 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

int atomic_batch_commit(struct atomic_batch *b)
{
	int r = 0;
	if (b->n) {
		/* One syncfs for every file of the batch instead of one fsync each. */
		int fd = open(b->tmp[0], O_RDONLY);
		if (fd < 0 || syncfs(fd) != 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
	}
	for (size_t i = 0; i < b->n && r == 0; i++)
		if (rename(b->tmp[i], b->path[i]) != 0)
			r = -errno;
	if (r == 0 && b->n)
		r = sync_parent(b->path[0]);
	if (r == 0)
		for (size_t i = 0; i < b->n; i++) {
			free(b->tmp[i]);
			b->tmp[i] = NULL;
		}
	atomic_batch_abort(b);
	return r;
}

void atomic_batch_abort(struct atomic_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		if (b->tmp[i])
			unlink(b->tmp[i]);
		free(b->tmp[i]);
		free(b->path[i]);
	}
	free(b->tmp);
	free(b->path);
	free(b);
}
