// SPDX-License-Identifier: MIT
#include "planner/out.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "core/exitcodes.h"

/*
 * Every JSON the CLI writes, with a newline. json_dumpf hands each token to
 * its own fwrite; for a large document (the audit of 850 gateways: 18 MB)
 * that was a tenth of the command's time, so tokens are gathered here and
 * written in large pieces.
 */
struct dumpbuf {
	FILE *f;
	size_t n;
	char b[1 << 16];
};

static int dump_put(const char *s, size_t n, void *data)
{
	struct dumpbuf *d = data;
	if (d->n + n > sizeof(d->b)) {
		if (d->n && fwrite(d->b, 1, d->n, d->f) != d->n)
			return -1;
		d->n = 0;
		if (n > sizeof(d->b))
			return fwrite(s, 1, n, d->f) == n ? 0 : -1;
	}
	memcpy(d->b + d->n, s, n);
	d->n += n;
	return 0;
}

static int dump(json_t *j, FILE *f)
{
	struct dumpbuf *d = malloc(sizeof(*d));
	if (!d)
		return -1;
	d->f = f;
	d->n = 0;
	int r = json_dump_callback(j, dump_put, d,
				   JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (r == 0)
		r = dump_put("\n", 1, d);
	if (r == 0 && d->n && fwrite(d->b, 1, d->n, f) != d->n)
		r = -1;
	free(d);
	return r;
}

int out_json(json_t *j)
{
	int r = dump(j, stdout);
	json_decref(j);
	if (r != 0 || fflush(stdout) != 0)
		return SEG_EXIT_SYSTEM;
	return SEG_EXIT_OK;
}

int out_json_file(const char *path, json_t *j)
{
	struct atomic_file *af;
	int r = atomic_file_open(path, &af);
	if (r < 0)
		return r;
	if (dump(j, atomic_file_stream(af)) != 0) {
		atomic_file_abort(af);
		return -EIO;
	}
	return atomic_file_commit(af);
}

void out_diags(struct diag_list *dl)
{
	diag_sort(dl);
	diag_write(dl, stderr);
	size_t e = diag_errors(dl), w = diag_warnings(dl);
	if (e)
		fprintf(stderr, "%zu error%s, %zu warning%s\n", e, e == 1 ? "" : "s", w,
			w == 1 ? "" : "s");
}

int out_input_code(const struct diag_list *dl, int rc)
{
	if ((dl && diag_errors(dl)) || rc == -EINVAL || rc == -ENOENT)
		return SEG_EXIT_INPUT;
	return rc < 0 ? SEG_EXIT_SYSTEM : SEG_EXIT_OK;
}

int out_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("segplan: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	fputs(usage, stderr);
	return SEG_EXIT_USAGE;
}

int out_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("segplan: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	return code;
}

int out_help(const char *usage)
{
	fputs(usage, stdout);
	return SEG_EXIT_OK;
}

bool out_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

const char *out_inexact_option(int argc, char **argv, const struct option *longopts)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (strncmp(a, "--", 2) != 0)
			continue;
		size_t n = strcspn(a + 2, "=");
		bool found = false;
		for (const struct option *o = longopts; o->name && !found; o++)
			found = strlen(o->name) == n && strncmp(o->name, a + 2, n) == 0;
		if (!found)
			return a;
	}
	return NULL;
}
