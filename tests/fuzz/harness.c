// SPDX-License-Identifier: MIT
#include "tests/fuzz/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((weak)) void fuzz_init(void)
{
}

const char *fuzz_src(void)
{
	const char *s = getenv("SEGPLAN_SRC");
	return s && *s ? s : FUZZ_SRC_DIR;
}

static char tmpdir[4096];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void tmpdir_remove(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir;
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/segplan-fuzz.%ld.XXXXXX", base, (long)getpid());
	FUZZ_ASSERT(mkdtemp(tmpdir));
	atexit(tmpdir_remove);
	return tmpdir;
}

const char *fuzz_write(const char *name, const void *data, size_t size)
{
	static char path[4200];
	snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
	FILE *f = fopen(path, "wb");
	FUZZ_ASSERT(f);
	FUZZ_ASSERT(fwrite(data, 1, size, f) == size || size == 0);
	FUZZ_ASSERT(fclose(f) == 0);
	return path;
}

char *fuzz_slurp(const char *rel, size_t *len)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", fuzz_src(), rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		fprintf(stderr, "fuzz: cannot read %s: %s\n", path, strerror(errno));
	FUZZ_ASSERT(f);
	FUZZ_ASSERT(fseek(f, 0, SEEK_END) == 0);
	long n = ftell(f);
	FUZZ_ASSERT(n >= 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	FUZZ_ASSERT(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

const struct inventory *fuzz_inventory(const char *rel)
{
	static struct inventory *inv;
	static char loaded[256];
	if (inv && strcmp(loaded, rel) == 0)
		return inv;
	FUZZ_ASSERT(!inv); /* one inventory per target */
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/tests/golden/%s", fuzz_src(), rel);
	struct diag_list *dl = diag_list_new();
	FUZZ_ASSERT(dl);
	if (inventory_load(dir, dl, &inv) != 0) {
		diag_write(dl, stderr);
		__builtin_trap();
	}
	diag_list_free(dl);
	snprintf(loaded, sizeof(loaded), "%s", rel);
	return inv;
}

static struct diag_list *current;

void fuzz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: fuzz assertion failed: %s\n", file, line, what);
	if (current)
		diag_write(current, stderr);
	__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	/* An exact-size copy: a read past the input is a read past the malloc'ed block. */
	char *buf = malloc(size + 1);
	FUZZ_ASSERT(buf);
	memcpy(buf, data, size);
	buf[size] = '\0';
	struct diag_list *dl = diag_list_new();
	FUZZ_ASSERT(dl);
	current = dl;
	fuzz_one(buf, size, dl);
	current = NULL;
	/* FUZZ_DIAG=1 when reproducing: what the reader said about the input. */
	static int show = -1;
	if (show < 0)
		show = getenv("FUZZ_DIAG") != NULL;
	if (show)
		diag_write(dl, stderr);
	char line[512];
	for (size_t i = 0; i < diag_count(dl); i++)
		diag_format(diag_get(dl, i), line, sizeof(line));
	diag_list_free(dl);
	free(buf);
	return 0;
}
