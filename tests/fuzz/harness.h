/* SPDX-License-Identifier: MIT */
/*
 * The shared libFuzzer driver of the parser targets (tests/fuzz/fuzz_*.c).
 * harness.c defines LLVMFuzzerTestOneInput: it hands each target the input
 * as a NUL-terminated copy with a fresh diagnostic list, then formats every
 * diagnostic (so a bad location or message string shows up under ASan) and
 * frees the list. A target defines fuzz_one() and may define fuzz_init().
 */
#ifndef SEGPLAN_FUZZ_HARNESS_H
#define SEGPLAN_FUZZ_HARNESS_H

#include <stddef.h>

#include "core/diag.h"
#include "inventory/inventory.h"

/* Called once before the first input (weak: targets without state omit it). */
void fuzz_init(void);
/* One input: buf[len] == '\0', but buf may hold NUL bytes before it. */
void fuzz_one(const char *buf, size_t len, struct diag_list *dl);

/* The source tree: $SEGPLAN_SRC, else the tree the target was built from. */
const char *fuzz_src(void);
/* A directory of this process's own (under $TMPDIR or /dev/shm), removed at exit. */
const char *fuzz_tmpdir(void);
/* Writes data to fuzz_tmpdir()/name (replacing it); the path, in a static buffer. */
const char *fuzz_write(const char *name, const void *data, size_t size);
/* Reads fuzz_src()/rel whole, NUL-terminated; traps when it cannot. */
char *fuzz_slurp(const char *rel, size_t *len);
/* A small valid inventory from the tree (tests/golden/<rel>), loaded once; traps on failure. */
const struct inventory *fuzz_inventory(const char *rel);

/* Prints what failed and the input's diagnostics so far, then traps
 * (libFuzzer saves the input). */
__attribute__((noreturn)) void fuzz_fail(const char *what, const char *file, int line);
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(#cond, __FILE__, __LINE__);                                      \
	} while (0)

#endif
