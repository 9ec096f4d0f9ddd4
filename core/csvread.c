// SPDX-License-Identifier: MIT
#include "core/csvread.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cell {
	char *text;
	unsigned line, col;
};

struct row {
	struct cell *cells;
	size_t n;
	unsigned line;
};

struct csv_table {
	char *name;
	struct row header;
	struct row *rows;
	size_t nrows, cap;
};

/* Parser state shared with libcsv's callbacks. */
struct reader {
	struct csv_table *t;
	struct diag_list *dl;
	struct row cur;
	size_t cur_cap;
	bool have_header;
	bool oom;
	/* Start positions of the fields of the record being parsed. */
	unsigned *start_line, *start_col;
	size_t nstarts, starts_cap;
	bool in_quotes;
};

size_t utf8_invalid_at(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (i + need >= len)
			return i;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += need + 1;
	}
	return (size_t)-1;
}

size_t utf8_count(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static void row_free(struct row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->cells[i].text);
	free(r->cells);
	r->cells = NULL;
	r->n = 0;
}

static void on_field(void *s, size_t len, void *data)
{
	struct reader *rd = data;
	if (rd->oom)
		return;
	if (rd->cur.n == rd->cur_cap) {
		size_t cap = rd->cur_cap ? rd->cur_cap * 2 : 16;
		struct cell *c = realloc(rd->cur.cells, cap * sizeof(*c));
		if (!c) {
			rd->oom = true;
			return;
		}
		rd->cur.cells = c;
		rd->cur_cap = cap;
	}
	struct cell *c = &rd->cur.cells[rd->cur.n];
	c->text = malloc(len + 1);
	if (!c->text) {
		rd->oom = true;
		return;
	}
	if (len)
		memcpy(c->text, s, len);
	c->text[len] = '\0';
	size_t k = rd->cur.n;
	c->line = k < rd->nstarts ? rd->start_line[k] : 0;
	c->col = k < rd->nstarts ? rd->start_col[k] : 0;
	if (rd->cur.n == 0)
		rd->cur.line = c->line;
	rd->cur.n++;
}

static void on_row(int term, void *data)
{
	(void)term;
	struct reader *rd = data;
	struct csv_table *t = rd->t;
	if (rd->oom)
		goto out;
	if (!rd->have_header) {
		t->header = rd->cur;
		rd->have_header = true;
		rd->cur.cells = NULL;
		rd->cur.n = 0;
		rd->cur_cap = 0;
		goto out;
	}
	/* Cells beyond the header's columns are nobody's: usually a comma in a
	 * value that is not quoted, which shifts every later value (empty
	 * extras, as from a trailing comma, are harmless). */
	for (size_t k = t->header.n; k < rd->cur.n; k++)
		if (rd->cur.cells[k].text[0]) {
			diag_add(rd->dl, DIAG_ERROR, t->name, rd->cur.cells[k].line,
				 rd->cur.cells[k].col,
				 "%zu values, but the header has %zu columns (a comma in a value "
				 "that is not quoted?)",
				 rd->cur.n, t->header.n);
			break;
		}
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct row *r = realloc(t->rows, cap * sizeof(*r));
		if (!r) {
			rd->oom = true;
			goto out;
		}
		t->rows = r;
		t->cap = cap;
	}
	t->rows[t->nrows++] = rd->cur;
	rd->cur.cells = NULL;
	rd->cur.n = 0;
	rd->cur_cap = 0;
out:
	row_free(&rd->cur);
	rd->cur_cap = 0;
	rd->nstarts = 0;
}

static bool push_start(struct reader *rd, unsigned line, unsigned col)
{
	if (rd->nstarts == rd->starts_cap) {
		size_t cap = rd->starts_cap ? rd->starts_cap * 2 : 16;
		unsigned *a = realloc(rd->start_line, cap * sizeof(*a));
		if (!a)
			return false;
		rd->start_line = a;
		unsigned *b = realloc(rd->start_col, cap * sizeof(*b));
		if (!b)
			return false;
		rd->start_col = b;
		rd->starts_cap = cap;
	}
	rd->start_line[rd->nstarts] = line;
	rd->start_col[rd->nstarts] = col;
	rd->nstarts++;
	return true;
}

/*
 * libcsv does not report positions, so the field starts of a line are found
 * with the same quoting rules (RFC 4180: a quote toggles quoting, a doubled
 * quote inside quotes toggles twice) before the line is handed to libcsv.
 */
static bool scan_starts(struct reader *rd, const char *s, size_t len, unsigned line)
{
	bool at_record_start = rd->nstarts == 0 && !rd->in_quotes;
	if (at_record_start && !push_start(rd, line, 1))
		return false;
	unsigned col = 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80 && i > 0)
			col++;
		if (c == '"')
			rd->in_quotes = !rd->in_quotes;
		else if (c == ',' && !rd->in_quotes && !push_start(rd, line, col + 1))
			return false;
	}
	return true;
}

/* Reports what makes one line unreadable as text; true when it did. */
static bool line_problem(const char *s, size_t len, const char *name, unsigned lineno,
			 struct diag_list *dl)
{
	if (len > CSV_MAX_LINE) {
		diag_add(dl, DIAG_ERROR, name, lineno, CSV_MAX_LINE + 1,
			 "line too long (%zu bytes; the limit is %d)", len, CSV_MAX_LINE);
		return true;
	}
	const char *nul = memchr(s, '\0', len);
	if (nul) {
		diag_add(dl, DIAG_ERROR, name, lineno,
			 (unsigned)utf8_count(s, (size_t)(nul - s)) + 1,
			 "NUL byte: this is not a text file");
		return true;
	}
	size_t bad = utf8_invalid_at(s, len);
	if (bad != (size_t)-1) {
		diag_add(dl, DIAG_ERROR, name, lineno, (unsigned)utf8_count(s, bad) + 1,
			 "invalid UTF-8 (byte 0x%02x)", (unsigned char)s[bad]);
		return true;
	}
	return false;
}

size_t text_check(const char *buf, size_t len, const char *name, struct diag_list *dl)
{
	size_t errors = 0;
	unsigned lineno = 0;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) + 1 : len;
		lineno++;
		const char *s = buf + off;
		size_t n = end - off;
		if (lineno == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
			s += 3;
			n -= 3;
		}
		errors += line_problem(s, n, name, lineno, dl);
		off = end;
	}
	return errors;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

int csv_table_read(const char *path, const char *display, struct diag_list *dl,
		   struct csv_table **out)
{
	*out = NULL;
	const char *name = display ? display : path;
	int r = 0;
	char *buf = NULL;
	size_t cap = 0;
	struct csv_parser p;
	bool parser_ready = false;
	struct reader rd = {0};
	struct csv_table *t = calloc(1, sizeof(*t));
	FILE *f = fopen(path, "rb");
	if (!t || !(t->name = strdup(name))) {
		r = -ENOMEM;
		goto out;
	}
	if (!f) {
		r = -errno;
		diag_add(dl, DIAG_ERROR, name, 0, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (csv_init(&p, CSV_APPEND_NULL) != 0) {
		r = -ENOMEM;
		goto out;
	}
	parser_ready = true;
	rd.t = t;
	rd.dl = dl;
	unsigned lineno = 0;
	bool any = false;
	ssize_t n;
	while ((n = getline(&buf, &cap, f)) >= 0) {
		lineno++;
		size_t len = (size_t)n;
		char *s = buf;
		if (lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
			s += 3; /* byte order mark */
			len -= 3;
		}
		if (line_problem(s, len, name, lineno, dl))
			continue;
		if (!rd.in_quotes && blank(s, len))
			continue;
		any = true;
		if (!scan_starts(&rd, s, len, lineno)) {
			r = -ENOMEM;
			goto out;
		}
		if (csv_parse(&p, s, len, on_field, on_row, &rd) != len) {
			diag_add(dl, DIAG_ERROR, name, lineno, 0, "CSV syntax error: %s",
				 csv_strerror(csv_error(&p)));
			csv_free(&p);
			csv_init(&p, CSV_APPEND_NULL);
			rd.nstarts = 0;
			rd.in_quotes = false;
			row_free(&rd.cur);
			rd.cur_cap = 0;
		}
		if (rd.oom) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (ferror(f)) {
		r = -EIO;
		diag_add(dl, DIAG_ERROR, name, lineno, 0, "read error");
		goto out;
	}
	if (rd.in_quotes)
		diag_add(dl, DIAG_ERROR, name, rd.nstarts ? rd.start_line[0] : lineno,
			 rd.nstarts ? rd.start_col[0] : 0,
			 "unterminated quoted field: the record starting here runs to the end of "
			 "the file");
	else
		csv_fini(&p, on_field, on_row, &rd);
	if (rd.oom) {
		r = -ENOMEM;
		goto out;
	}
	if (!any)
		diag_add(dl, DIAG_ERROR, name, 1, 1, "file is empty (expected a header row)");
	else if (t->nrows == 0)
		diag_add(dl, DIAG_WARNING, name, 2, 1, "no data rows after the header");
	*out = t;
	t = NULL;
out:
	if (r == -ENOMEM)
		diag_add(dl, DIAG_ERROR, name, 0, 0, "out of memory");
	if (parser_ready)
		csv_free(&p);
	row_free(&rd.cur);
	free(rd.start_line);
	free(rd.start_col);
	free(buf);
	if (f)
		fclose(f);
	csv_table_free(t);
	return r;
}

void csv_table_free(struct csv_table *t)
{
	if (!t)
		return;
	row_free(&t->header);
	for (size_t i = 0; i < t->nrows; i++)
		row_free(&t->rows[i]);
	free(t->rows);
	free(t->name);
	free(t);
}

const char *csv_table_name(const struct csv_table *t)
{
	return t->name;
}

size_t csv_table_nrows(const struct csv_table *t)
{
	return t->nrows;
}

size_t csv_table_ncols(const struct csv_table *t)
{
	return t->header.n;
}

const char *csv_table_header(const struct csv_table *t, size_t col)
{
	return col < t->header.n ? t->header.cells[col].text : NULL;
}

int csv_table_column(const struct csv_table *t, const char *name)
{
	for (size_t i = 0; i < t->header.n; i++)
		if (strcmp(t->header.cells[i].text, name) == 0)
			return (int)i;
	return -1;
}

static const struct cell *cell_at(const struct csv_table *t, size_t row, int col)
{
	if (row >= t->nrows || col < 0 || (size_t)col >= t->rows[row].n)
		return NULL;
	return &t->rows[row].cells[col];
}

const char *csv_cell(const struct csv_table *t, size_t row, int col)
{
	const struct cell *c = cell_at(t, row, col);
	return c ? c->text : "";
}

bool csv_cell_present(const struct csv_table *t, size_t row, int col)
{
	const struct cell *c = cell_at(t, row, col);
	return c && c->text[0];
}

unsigned csv_cell_line(const struct csv_table *t, size_t row, int col)
{
	const struct cell *c = cell_at(t, row, col);
	return c ? c->line : csv_row_line(t, row);
}

unsigned csv_cell_col(const struct csv_table *t, size_t row, int col)
{
	const struct cell *c = cell_at(t, row, col);
	if (c)
		return c->col;
	/* A short row: point just past its last cell. */
	if (row < t->nrows && t->rows[row].n) {
		const struct cell *last = &t->rows[row].cells[t->rows[row].n - 1];
		return last->col + (unsigned)utf8_count(last->text, strlen(last->text));
	}
	return 1;
}

unsigned csv_row_line(const struct csv_table *t, size_t row)
{
	return row < t->nrows ? t->rows[row].line : 0;
}

size_t csv_row_ncells(const struct csv_table *t, size_t row)
{
	return row < t->nrows ? t->rows[row].n : 0;
}

void csv_cell_error(const struct csv_table *t, size_t row, int col, struct diag_list *dl,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(dl, DIAG_ERROR, t->name, csv_cell_line(t, row, col), csv_cell_col(t, row, col),
		  fmt, ap);
	va_end(ap);
}

bool csv_bind_columns(const struct csv_table *t, const char *const *required, size_t nreq,
		      const char *const *optional, size_t nopt, int *idx, struct diag_list *dl)
{
	bool ok = true;
	if (t->header.n == 0)
		return false; /* an empty file, already reported */
	const char **hdr = calloc(t->header.n + 1, sizeof(*hdr));
	for (size_t i = 0; hdr && i < t->header.n; i++)
		hdr[i] = t->header.cells[i].text;
	unsigned hline = t->header.n ? t->header.cells[0].line : 1;
	for (size_t i = 0; i < nreq + nopt; i++) {
		const char *name = i < nreq ? required[i] : optional[i - nreq];
		idx[i] = csv_table_column(t, name);
		if (idx[i] >= 0 || i >= nreq)
			continue;
		ok = false;
		const char *s = hdr ? diag_suggest(name, hdr, t->header.n) : NULL;
		if (s) {
			int at = csv_table_column(t, s);
			diag_add(dl, DIAG_ERROR, t->name, hline, t->header.cells[at].col,
				 "missing column '%s' (did you mean '%s'?)", name, s);
		} else {
			diag_add(dl, DIAG_ERROR, t->name, hline, 1, "missing column '%s'", name);
		}
	}
	for (size_t h = 0; h < t->header.n; h++) {
		bool known = false;
		for (size_t i = 0; i < nreq + nopt && !known; i++)
			known = idx[i] == (int)h;
		if (!known)
			diag_add(dl, DIAG_WARNING, t->name, t->header.cells[h].line,
				 t->header.cells[h].col, "unknown column '%s' is ignored",
				 t->header.cells[h].text);
	}
	free(hdr);
	return ok;
}

bool csv_get_long(const struct csv_table *t, size_t row, int col, bool required, long min, long max,
		  struct diag_list *dl, long *out)
{
	const char *s = csv_cell(t, row, col);
	if (!*s) {
		if (required)
			csv_cell_error(t, row, col, dl, "missing value for '%s'",
				       csv_table_header(t, (size_t)col));
		return !required;
	}
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s) {
		csv_cell_error(t, row, col, dl, "'%s' is not an integer (column '%s')", s,
			       csv_table_header(t, (size_t)col));
		return false;
	}
	if (v < min || v > max) {
		csv_cell_error(t, row, col, dl, "%s '%ld' out of range [%ld, %ld]",
			       csv_table_header(t, (size_t)col), v, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool csv_get_double(const struct csv_table *t, size_t row, int col, bool required, double min,
		    double max, struct diag_list *dl, double *out)
{
	const char *s = csv_cell(t, row, col);
	if (!*s) {
		if (required)
			csv_cell_error(t, row, col, dl, "missing value for '%s'",
				       csv_table_header(t, (size_t)col));
		return !required;
	}
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v)) {
		csv_cell_error(t, row, col, dl, "'%s' is not a number (column '%s')", s,
			       csv_table_header(t, (size_t)col));
		return false;
	}
	if (v < min || v > max) {
		csv_cell_error(t, row, col, dl, "%s '%s' out of range [%g, %g]",
			       csv_table_header(t, (size_t)col), s, min, max);
		return false;
	}
	*out = v;
	return true;
}

int csv_get_enum(const struct csv_table *t, size_t row, int col, const char *const *names, size_t n,
		 struct diag_list *dl)
{
	const char *s = csv_cell(t, row, col);
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	if (!*s) {
		csv_cell_error(t, row, col, dl, "missing value for '%s'",
			       csv_table_header(t, (size_t)col));
		return -1;
	}
	const char *sug = diag_suggest(s, names, n);
	if (sug)
		csv_cell_error(t, row, col, dl, "unknown %s '%s' (did you mean '%s'?)",
			       csv_table_header(t, (size_t)col), s, sug);
	else
		csv_cell_error(t, row, col, dl, "unknown %s '%s'", csv_table_header(t, (size_t)col),
			       s);
	return -1;
}

bool csv_get_str(const struct csv_table *t, size_t row, int col, struct diag_list *dl,
		 const char **out)
{
	const char *s = csv_cell(t, row, col);
	if (!*s) {
		csv_cell_error(t, row, col, dl, "missing value for '%s'",
			       csv_table_header(t, (size_t)col));
		return false;
	}
	*out = s;
	return true;
}
