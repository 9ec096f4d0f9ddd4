// SPDX-License-Identifier: MIT
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_src(void)
{
	const char *s = getenv("SEGPLAN_SRC");
	return s && *s ? s : ".";
}

const char *tu_path(const char *rel)
{
	static char buf[8][4096];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tu_src(), rel);
	return buf[k];
}

char *tu_tmpdir(void)
{
	char *t = strdup("/tmp/segplan-test.XXXXXX");
	if (!t || !mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

void tu_rmdir(const char *dir)
{
	char *cmd;
	if (!dir || strncmp(dir, "/tmp/", 5) != 0)
		return;
	if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
		if (system(cmd) != 0) {
			/* best effort */
		}
		free(cmd);
	}
}

char *tu_write(const char *dir, const char *name, const char *text)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	FILE *f = fopen(p, "wb");
	if (!f) {
		free(p);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return p;
}

bool tu_has_diag(const struct diag_list *dl, const char *want)
{
	char buf[2048];
	for (size_t i = 0; i < diag_count(dl); i++) {
		diag_format(diag_get(dl, i), buf, sizeof(buf));
		if (strcmp(buf, want) == 0)
			return true;
	}
	return false;
}

bool tu_diag_contains(const struct diag_list *dl, const char *needle)
{
	char buf[2048];
	for (size_t i = 0; i < diag_count(dl); i++) {
		diag_format(diag_get(dl, i), buf, sizeof(buf));
		if (strstr(buf, needle))
			return true;
	}
	return false;
}

const char *tu_diags(const struct diag_list *dl)
{
	static char out[16384];
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < diag_count(dl) && used < sizeof(out) - 2; i++) {
		int n = diag_format(diag_get(dl, i), out + used, sizeof(out) - used - 1);
		if (n < 0)
			break;
		used += (size_t)n < sizeof(out) - used - 1 ? (size_t)n : sizeof(out) - used - 2;
		out[used++] = '\n';
		out[used] = '\0';
	}
	return out;
}

int tu_run(const char *cmd)
{
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

bool tu_file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}
