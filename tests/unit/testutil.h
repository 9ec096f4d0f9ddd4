/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests. */
#ifndef SEGPLAN_TESTUTIL_H
#define SEGPLAN_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"

/* The source tree (SEGPLAN_SRC, or the current directory). */
const char *tu_src(void);
/* Path under the source tree; returns a static buffer rotated over 8 calls. */
const char *tu_path(const char *rel);
/* A fresh temporary directory (removed by tu_rmdir). */
char *tu_tmpdir(void);
void tu_rmdir(const char *dir);
/* A fresh temporary directory with a copy of every file of the source tree's folder rel
 * but skip (NULL: none). */
char *tu_copy_dir(const char *rel, const char *skip);
/* Writes text to dir/name; returns the malloc'ed path. */
char *tu_write(const char *dir, const char *name, const char *text);
/* True when some diagnostic formats exactly as want ("file:l:c: error: msg"). */
bool tu_has_diag(const struct diag_list *dl, const char *want);
/* True when some diagnostic's formatted text contains needle. */
bool tu_diag_contains(const struct diag_list *dl, const char *needle);
/* All diagnostics, one per line, in a static buffer (for failure messages). */
const char *tu_diags(const struct diag_list *dl);
/* Runs a shell command, returns its exit status (or -1). */
int tu_run(const char *cmd);
bool tu_file_exists(const char *path);
/* A whole file, NUL-terminated (malloc'ed), its length in *len (len may be NULL); NULL when it
 * cannot be read. */
char *tu_read(const char *path, size_t *len);
/* tu_read that fails the test when the file cannot be read. */
char *tu_slurp(const char *path, size_t *len);

/* Rulesets checked by a libnftables dry run in a child inside its own network namespace. */
struct tu_nft_job {
	const char *const *files; /* checked with nft_run_cmd_from_filename */
	size_t nfiles;
	const char *const *bufs; /* or with nft_run_cmd_from_buffer */
	size_t nbufs;
};

/* 0 when every ruleset passes; 77 when no namespace can be made; else 1 with msg set. */
int tu_nft_dry_run(const struct tu_nft_job *job, char *msg, size_t size);
/* Skips the test when tu_nft_dry_run gave 77 (fails instead under CI=true). */
void tu_skip_without_netns(int rc);

#endif
