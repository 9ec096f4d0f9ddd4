// SPDX-License-Identifier: MIT
#include "core/diag.h"

#include <stdlib.h>
#include <string.h>

struct diag_list {
	struct diag *v;
	size_t n, cap;
	size_t errors, warnings;
	size_t lost; /* messages lost to out-of-memory */
};

struct diag_list *diag_list_new(void)
{
	return calloc(1, sizeof(struct diag_list));
}

void diag_list_free(struct diag_list *dl)
{
	if (!dl)
		return;
	for (size_t i = 0; i < dl->n; i++) {
		free(dl->v[i].file);
		free(dl->v[i].msg);
	}
	free(dl->v);
	free(dl);
}

void diag_vadd(struct diag_list *dl, enum diag_severity sev, const char *file, unsigned line,
	       unsigned col, const char *fmt, va_list ap)
{
	if (sev == DIAG_ERROR)
		dl->errors++;
	else if (sev == DIAG_WARNING)
		dl->warnings++;
	if (dl->n == dl->cap) {
		size_t cap = dl->cap ? dl->cap * 2 : 16;
		struct diag *v = realloc(dl->v, cap * sizeof(*v));
		if (!v) {
			dl->lost++;
			return;
		}
		dl->v = v;
		dl->cap = cap;
	}
	struct diag *d = &dl->v[dl->n];
	d->severity = sev;
	d->line = line;
	d->col = col;
	d->file = file ? strdup(file) : NULL;
	if (vasprintf(&d->msg, fmt, ap) < 0)
		d->msg = NULL;
	if ((file && !d->file) || !d->msg) {
		free(d->file);
		free(d->msg);
		dl->lost++;
		return;
	}
	dl->n++;
}

void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file, unsigned line,
	      unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(dl, sev, file, line, col, fmt, ap);
	va_end(ap);
}

size_t diag_count(const struct diag_list *dl)
{
	return dl->n;
}

size_t diag_errors(const struct diag_list *dl)
{
	return dl->errors;
}

size_t diag_warnings(const struct diag_list *dl)
{
	return dl->warnings;
}

const struct diag *diag_get(const struct diag_list *dl, size_t i)
{
	return i < dl->n ? &dl->v[i] : NULL;
}

/* Files keep the order in which they first produced a message. */
static size_t file_rank(const struct diag_list *dl, const char *file)
{
	for (size_t i = 0; i < dl->n; i++) {
		const char *f = dl->v[i].file;
		if (f == file || (f && file && strcmp(f, file) == 0))
			return i;
	}
	return dl->n;
}

static int diag_less(const struct diag_list *dl, const struct diag *a, size_t ra,
		     const struct diag *b, size_t rb)
{
	(void)dl;
	if (ra != rb)
		return ra < rb;
	if (a->line != b->line)
		return a->line < b->line;
	return a->col < b->col;
}

void diag_sort(struct diag_list *dl)
{
	size_t *rank = malloc(dl->n * sizeof(*rank) + 1);
	if (!rank)
		return;
	for (size_t i = 0; i < dl->n; i++)
		rank[i] = file_rank(dl, dl->v[i].file);
	/* Insertion sort: stable, and the lists are short and nearly sorted. */
	for (size_t i = 1; i < dl->n; i++) {
		struct diag d = dl->v[i];
		size_t r = rank[i], j = i;
		while (j > 0 && diag_less(dl, &d, r, &dl->v[j - 1], rank[j - 1])) {
			dl->v[j] = dl->v[j - 1];
			rank[j] = rank[j - 1];
			j--;
		}
		dl->v[j] = d;
		rank[j] = r;
	}
	free(rank);
}

static const char *sev_name(enum diag_severity s)
{
	switch (s) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	default:
		return "note";
	}
}

int diag_format(const struct diag *d, char *buf, size_t size)
{
	char loc[64] = "";
	if (d->line && d->col)
		snprintf(loc, sizeof(loc), ":%u:%u", d->line, d->col);
	else if (d->line)
		snprintf(loc, sizeof(loc), ":%u", d->line);
	if (d->file)
		return snprintf(buf, size, "%s%s: %s: %s", d->file, loc, sev_name(d->severity),
				d->msg);
	return snprintf(buf, size, "%s: %s", sev_name(d->severity), d->msg);
}

void diag_write(const struct diag_list *dl, FILE *f)
{
	char buf[1024];
	for (size_t i = 0; i < dl->n; i++) {
		diag_format(&dl->v[i], buf, sizeof(buf));
		fprintf(f, "%s\n", buf);
	}
	if (dl->lost)
		fprintf(f, "error: %zu further messages lost (out of memory)\n", dl->lost);
}

/* Optimal string alignment distance: Levenshtein plus adjacent transpositions,
 * the commonest typo ("fiber" for "fibre" is one edit). */
size_t diag_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *rows = malloc(3 * (lb + 1) * sizeof(*rows));
	if (!rows)
		return (size_t)-1;
	size_t *prev2 = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev[j - 1] + cost;
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	size_t d = prev[lb];
	free(rows);
	return d;
}

const char *diag_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word);
	size_t limit = len / 3 > 1 ? len / 3 : 1;
	const char *best = NULL;
	size_t bestd = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		size_t d = diag_edit_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= limit ? best : NULL;
}
