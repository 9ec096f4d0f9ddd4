// SPDX-License-Identifier: MIT
#include "planner/out.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "core/atomic.h"
#include "core/exitcodes.h"

int out_json(json_t *j)
{
	int r =
	    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(j);
	fputc('\n', stdout);
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
	if (json_dumpf(j, atomic_file_stream(af),
		       JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) != 0) {
		atomic_file_abort(af);
		return -EIO;
	}
	fputc('\n', atomic_file_stream(af));
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
