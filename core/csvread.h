/* SPDX-License-Identifier: MIT */
/*
 * CSV tables (RFC 4180, parsed by libcsv) with a header row and the source
 * position of every cell, so that readers can report FILE:LINE:COL.
 */
#ifndef SEGPLAN_CSVREAD_H
#define SEGPLAN_CSVREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"

/* Lines longer than this are rejected as absurd (not as data). */
#define CSV_MAX_LINE 65536

struct csv_table;

/*
 * Reads path; diagnostics name the file as display (or path when NULL).
 * Problems with single lines (invalid UTF-8, too long, parse errors) are
 * reported and the line skipped; an empty or header-only file is an error.
 * Returns 0 with *out set (even when errors were reported, so that every
 * file can be checked), or a negative errno when the file cannot be read
 * (also reported).
 */
int csv_table_read(const char *path, const char *display, struct diag_list *dl,
		   struct csv_table **out);
void csv_table_free(struct csv_table *t);

const char *csv_table_name(const struct csv_table *t);
size_t csv_table_nrows(const struct csv_table *t);
size_t csv_table_ncols(const struct csv_table *t);
const char *csv_table_header(const struct csv_table *t, size_t col);
/* Index of the header column called name, or -1. */
int csv_table_column(const struct csv_table *t, const char *name);

/* The cell's text ("" when the row is short); never NULL. */
const char *csv_cell(const struct csv_table *t, size_t row, int col);
bool csv_cell_present(const struct csv_table *t, size_t row, int col);
unsigned csv_cell_line(const struct csv_table *t, size_t row, int col);
unsigned csv_cell_col(const struct csv_table *t, size_t row, int col);
unsigned csv_row_line(const struct csv_table *t, size_t row);
size_t csv_row_ncells(const struct csv_table *t, size_t row);

/*
 * Binds the required and optional column names to indices (idx has one slot
 * per name, required first). A missing required column is an error at the
 * header with a 'did you mean' when a header name is close; an unknown header
 * is a warning. Returns false when a required column is missing.
 */
bool csv_bind_columns(const struct csv_table *t, const char *const *required, size_t nreq,
		      const char *const *optional, size_t nopt, int *idx, struct diag_list *dl);

/* Reports an error located at a cell. */
void csv_cell_error(const struct csv_table *t, size_t row, int col, struct diag_list *dl,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Typed cells. Each reports a located error and returns false on a missing
 * (when required), malformed or out-of-range value; an absent optional cell
 * leaves *out unchanged and returns true.
 */
bool csv_get_long(const struct csv_table *t, size_t row, int col, bool required, long min, long max,
		  struct diag_list *dl, long *out);
bool csv_get_double(const struct csv_table *t, size_t row, int col, bool required, double min,
		    double max, struct diag_list *dl, double *out);
/* Matches one of names exactly; errors with a suggestion. Returns the index or -1. */
int csv_get_enum(const struct csv_table *t, size_t row, int col, const char *const *names, size_t n,
		 struct diag_list *dl);
/* A non-empty string cell. */
bool csv_get_str(const struct csv_table *t, size_t row, int col, struct diag_list *dl,
		 const char **out);

/* Checks UTF-8 (RFC 3629: no overlongs, no surrogates); returns the byte
 * offset of the first invalid byte, or (size_t)-1 when valid. */
size_t utf8_invalid_at(const char *s, size_t len);
/* Number of code points in the first n bytes of s (valid UTF-8 assumed). */
size_t utf8_count(const char *s, size_t n);

/*
 * Checks a whole text buffer line by line: invalid UTF-8, NUL bytes and
 * lines over CSV_MAX_LINE are located errors. Returns the number of errors.
 */
size_t text_check(const char *buf, size_t len, const char *name, struct diag_list *dl);

#endif
