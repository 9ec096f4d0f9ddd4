/* SPDX-License-Identifier: MIT */
/*
 * Atomic file output: write to a temporary file beside the target, fsync,
 * rename into place on commit. A failed or aborted write leaves no file and
 * never a half-written one.
 */
#ifndef SEGPLAN_ATOMIC_H
#define SEGPLAN_ATOMIC_H

#include <stdio.h>

struct atomic_file;

/* Returns 0 or a negative errno. */
int atomic_file_open(const char *path, struct atomic_file **out);
FILE *atomic_file_stream(struct atomic_file *af);
/* Flushes, syncs and renames; frees af in every case. 0 or negative errno. */
int atomic_file_commit(struct atomic_file *af);
/* Removes the temporary file and frees af; NULL is a no-op. */
void atomic_file_abort(struct atomic_file *af);

/* Writes a whole buffer to path atomically. */
int atomic_write(const char *path, const void *data, size_t len);

/*
 * A batch of files that appear together: each is written to a temporary file
 * at once, then commit syncs the file system once (not once per file) and
 * renames them all into place. When anything fails before the renames, no
 * file of the batch appears.
 */
struct atomic_batch;

int atomic_batch_new(struct atomic_batch **out);
/* Writes data to a temporary file beside path. 0 or a negative errno. */
int atomic_batch_add(struct atomic_batch *b, const char *path, const void *data, size_t len);
/* Syncs, renames every file, frees b. 0 or the first negative errno. */
int atomic_batch_commit(struct atomic_batch *b);
/* Removes the temporary files and frees b; NULL is a no-op. */
void atomic_batch_abort(struct atomic_batch *b);

/* Creates a directory and its parents (mode 0755); existing ones are fine. */
int mkdir_p(const char *path);

#endif
