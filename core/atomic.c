// SPDX-License-Identifier: MIT
#include "core/atomic.h"

#include <errno.h>
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
