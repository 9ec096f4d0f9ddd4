/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics with a source location, collected so that every problem in
 * every input file is reported at once (like a compiler), never printed by
 * library code: the programs print them.
 */
#ifndef SEGPLAN_DIAG_H
#define SEGPLAN_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
	enum diag_severity severity;
	char *file;    /* as given by the reader; may be NULL for no file */
	unsigned line; /* 1-based; 0 = whole file */
	unsigned col;  /* 1-based in characters (UTF-8 code points); 0 = whole line */
	char *msg;
};

struct diag_list;

struct diag_list *diag_list_new(void);
void diag_list_free(struct diag_list *dl);

/* Adds one diagnostic. Never fails visibly: on out-of-memory the list
 * remembers that it lost a message and diag_errors() still counts it. */
void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file, unsigned line,
	      unsigned col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void diag_vadd(struct diag_list *dl, enum diag_severity sev, const char *file, unsigned line,
	       unsigned col, const char *fmt, va_list ap);

size_t diag_count(const struct diag_list *dl);
size_t diag_errors(const struct diag_list *dl);
size_t diag_warnings(const struct diag_list *dl);
const struct diag *diag_get(const struct diag_list *dl, size_t i);

/* Sorts by file (in order of first appearance), line, column: stable. */
void diag_sort(struct diag_list *dl);

/* "FILE:LINE:COL: error: MSG" (parts omitted when zero). Returns the length
 * snprintf would have written. */
int diag_format(const struct diag *d, char *buf, size_t size);

/* Writes every diagnostic, one per line, to f (used by the programs only). */
void diag_write(const struct diag_list *dl, FILE *f);

/* The candidate closest to word by edit distance, if it is close enough to
 * be a plausible typo (distance <= max(1, len/3)); NULL otherwise. */
const char *diag_suggest(const char *word, const char *const *cands, size_t n);

/* Levenshtein distance between two byte strings. */
size_t diag_edit_distance(const char *a, const char *b);

#endif
