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

#endif
