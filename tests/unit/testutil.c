// SPDX-License-Identifier: MIT
#include "tests/unit/testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <nftables/libnftables.h>
#include <sched.h>
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

char *tu_copy_dir(const char *rel, const char *skip)
{
	char *dir = tu_tmpdir();
	const char *from = tu_path(rel);
	DIR *d = dir ? opendir(from) : NULL;
	cr_assert_not_null(d, "cannot read %s", from);
	char src[4096];
	snprintf(src, sizeof(src), "%s", from);
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[4352];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", src, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (skip && strcmp(e->d_name, skip) == 0))
			continue;
		char *text = tu_slurp(path, NULL);
		free(tu_write(dir, e->d_name, text));
		free(text);
	}
	closedir(d);
	return dir;
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

char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	char chunk[65536];
	size_t got;
	while (m && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, got, m);
	bool bad = ferror(f) || !m;
	fclose(f);
	if (m)
		fclose(m);
	if (bad) {
		free(buf);
		return NULL;
	}
	if (len)
		*len = n;
	return buf;
}

char *tu_slurp(const char *path, size_t *len)
{
	char *buf = tu_read(path, len);
	cr_assert_not_null(buf, "cannot read %s", path);
	return buf;
}

bool tu_file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int tu_nft_dry_run(const struct tu_nft_job *job, char *msg, size_t size)
{
	int fd[2];
	if (pipe(fd) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		if (unshare(CLONE_NEWNET) != 0)
			_exit(77);
		struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!ctx || nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx))
			_exit(2);
		nft_ctx_set_dry_run(ctx, true);
		for (size_t i = 0; i < job->nfiles + job->nbufs; i++) {
			int r = i < job->nfiles
				    ? nft_run_cmd_from_filename(ctx, job->files[i])
				    : nft_run_cmd_from_buffer(ctx, job->bufs[i - job->nfiles]);
			if (r != 0) {
				const char *e = nft_ctx_get_error_buffer(ctx);
				dprintf(fd[1], "ruleset %zu: %.3000s", i, e ? e : "?");
				_exit(1);
			}
		}
		nft_ctx_free(ctx);
		_exit(0);
	}
	close(fd[1]);
	ssize_t n = read(fd[0], msg, size - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

void tu_skip_without_netns(int rc)
{
	if (rc != 77)
		return;
	const char *ci = getenv("CI");
	cr_assert(!(ci && strcmp(ci, "true") == 0), "no network namespace in CI (need root)");
	cr_skip_test("needs root for a network namespace");
}
