// SPDX-License-Identifier: MIT
#include "core/yamlread.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/csvread.h"

struct ynode {
	enum ynode_kind kind;
	unsigned line, col;
	char *text;	      /* scalars */
	struct ynode **items; /* sequences: items; mappings: key, value, key, value ... */
	size_t n;	      /* items, or pairs for mappings */
};

struct ydoc {
	char *name;
	struct ynode *root;
	struct ynode *pool; /* every node, in one allocation per document */
	size_t npool;
};

static void node_free_contents(struct ynode *n)
{
	free(n->text);
	free(n->items);
}

void ydoc_free(struct ydoc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->npool; i++)
		node_free_contents(&d->pool[i]);
	free(d->pool);
	free(d->name);
	free(d);
}

static void report_dups(struct ydoc *d, const struct ynode *map, struct diag_list *dl)
{
	for (size_t i = 1; i < map->n; i++) {
		const char *k = ynode_scalar(map->items[2 * i]);
		if (!k)
			continue;
		for (size_t j = 0; j < i; j++) {
			const char *o = ynode_scalar(map->items[2 * j]);
			if (o && strcmp(k, o) == 0) {
				ynode_error(d, map->items[2 * i], dl,
					    "duplicate key '%s' (first at line %u)", k,
					    map->items[2 * j]->line);
				break;
			}
		}
	}
}

/* Converts libyaml's node array (1-based ids) into our tree. */
static int convert(struct ydoc *d, yaml_document_t *doc, struct diag_list *dl)
{
	size_t n = (size_t)(doc->nodes.top - doc->nodes.start);
	d->pool = calloc(n + 1, sizeof(*d->pool));
	if (!d->pool)
		return -ENOMEM;
	d->npool = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *y = &doc->nodes.start[i];
		struct ynode *o = &d->pool[i];
		o->line = (unsigned)y->start_mark.line + 1;
		o->col = (unsigned)y->start_mark.column + 1;
		switch (y->type) {
		case YAML_SCALAR_NODE:
			o->kind = YNODE_SCALAR;
			o->text =
			    strndup((const char *)y->data.scalar.value, y->data.scalar.length);
			if (!o->text)
				return -ENOMEM;
			break;
		case YAML_SEQUENCE_NODE: {
			o->kind = YNODE_SEQ;
			size_t k =
			    (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
			o->items = calloc(k + 1, sizeof(*o->items));
			if (!o->items)
				return -ENOMEM;
			for (size_t j = 0; j < k; j++)
				o->items[j] = &d->pool[y->data.sequence.items.start[j] - 1];
			o->n = k;
			break;
		}
		case YAML_MAPPING_NODE: {
			o->kind = YNODE_MAP;
			size_t k =
			    (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
			o->items = calloc(2 * k + 1, sizeof(*o->items));
			if (!o->items)
				return -ENOMEM;
			for (size_t j = 0; j < k; j++) {
				yaml_node_pair_t *p = &y->data.mapping.pairs.start[j];
				o->items[2 * j] = &d->pool[p->key - 1];
				o->items[2 * j + 1] = &d->pool[p->value - 1];
			}
			o->n = k;
			break;
		}
		default:
			o->kind = YNODE_SCALAR;
			o->text = strdup("");
			if (!o->text)
				return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (d->pool[i].kind == YNODE_MAP)
			report_dups(d, &d->pool[i], dl);
	d->root = n ? &d->pool[0] : NULL;
	return 0;
}

int ydoc_load_buffer(const char *buf, size_t len, const char *name, struct diag_list *dl,
		     struct ydoc **out)
{
	*out = NULL;
	if (text_check(buf, len, name, dl))
		return -EINVAL;
	struct ydoc *d = calloc(1, sizeof(*d));
	if (!d || !(d->name = strdup(name))) {
		free(d);
		return -ENOMEM;
	}
	yaml_parser_t p;
	yaml_document_t doc;
	int r = 0;
	if (!yaml_parser_initialize(&p)) {
		ydoc_free(d);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &doc)) {
		diag_add(dl, DIAG_ERROR, name, (unsigned)p.problem_mark.line + 1,
			 (unsigned)p.problem_mark.column + 1, "YAML syntax error: %s%s%s",
			 p.problem ? p.problem : "unknown problem", p.context ? " " : "",
			 p.context ? p.context : "");
		r = -EINVAL;
		goto out;
	}
	r = convert(d, &doc, dl);
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&p);
	if (r < 0) {
		ydoc_free(d);
		return r;
	}
	*out = d;
	return 0;
}

int ydoc_load(const char *path, const char *display, struct diag_list *dl, struct ydoc **out)
{
	const char *name = display ? display : path;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		diag_add(dl, DIAG_ERROR, name, 0, 0, "cannot open: %s", strerror(e));
		return -e;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[65536];
	size_t k;
	int r = 0;
	if (!m) {
		fclose(f);
		return -ENOMEM;
	}
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, k, m);
	if (ferror(f)) {
		diag_add(dl, DIAG_ERROR, name, 0, 0, "read error");
		r = -EIO;
	}
	fclose(f);
	fclose(m);
	if (r == 0)
		r = ydoc_load_buffer(buf, len, name, dl, out);
	free(buf);
	return r;
}

const char *ydoc_name(const struct ydoc *d)
{
	return d->name;
}

const struct ynode *ydoc_root(const struct ydoc *d)
{
	return d->root;
}

enum ynode_kind ynode_kind(const struct ynode *n)
{
	return n->kind;
}

unsigned ynode_line(const struct ynode *n)
{
	return n->line;
}

unsigned ynode_col(const struct ynode *n)
{
	return n->col;
}

const char *ynode_scalar(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR ? n->text : NULL;
}

size_t ynode_len(const struct ynode *n)
{
	return n && n->kind != YNODE_SCALAR ? n->n : 0;
}

const struct ynode *ynode_item(const struct ynode *n, size_t i)
{
	return n && n->kind == YNODE_SEQ && i < n->n ? n->items[i] : NULL;
}

const struct ynode *ynode_key(const struct ynode *n, size_t i)
{
	return n && n->kind == YNODE_MAP && i < n->n ? n->items[2 * i] : NULL;
}

const struct ynode *ynode_value(const struct ynode *n, size_t i)
{
	return n && n->kind == YNODE_MAP && i < n->n ? n->items[2 * i + 1] : NULL;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		const char *k = ynode_scalar(map->items[2 * i]);
		if (k && strcmp(k, key) == 0)
			return map->items[2 * i + 1];
	}
	return NULL;
}

void ynode_error(const struct ydoc *d, const struct ynode *n, struct diag_list *dl, const char *fmt,
		 ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(dl, DIAG_ERROR, d->name, n ? n->line : 1, n ? n->col : 1, fmt, ap);
	va_end(ap);
}

static const char *kind_name(enum ynode_kind k)
{
	return k == YNODE_MAP ? "a mapping" : k == YNODE_SEQ ? "a list" : "a value";
}

bool ynode_expect(const struct ydoc *d, const struct ynode *n, enum ynode_kind kind,
		  const char *what, struct diag_list *dl)
{
	if (n && n->kind == kind)
		return true;
	ynode_error(d, n, dl, "%s must be %s%s%s", what, kind_name(kind), n ? ", not " : "",
		    n ? kind_name(n->kind) : "");
	return false;
}

bool ynode_check_keys(const struct ydoc *d, const struct ynode *map, const char *const *known,
		      size_t nknown, struct diag_list *dl)
{
	bool ok = true;
	for (size_t i = 0; i < ynode_len(map) && map->kind == YNODE_MAP; i++) {
		const struct ynode *kn = map->items[2 * i];
		const char *k = ynode_scalar(kn);
		bool found = false;
		for (size_t j = 0; k && j < nknown && !found; j++)
			found = strcmp(k, known[j]) == 0;
		if (found)
			continue;
		ok = false;
		const char *s = k ? diag_suggest(k, known, nknown) : NULL;
		if (s)
			ynode_error(d, kn, dl, "unknown key '%s' (did you mean '%s'?)", k, s);
		else
			ynode_error(d, kn, dl, "unknown key '%s'", k ? k : "?");
	}
	return ok;
}

static const struct ynode *lookup(const struct ydoc *d, const struct ynode *map, const char *key,
				  bool required, struct diag_list *dl)
{
	const struct ynode *v = ynode_get(map, key);
	if (!v && required)
		ynode_error(d, map, dl, "missing key '%s'", key);
	return v;
}

bool ynode_to_double(const struct ydoc *d, const struct ynode *n, double min, double max,
		     struct diag_list *dl, double *out)
{
	const char *s = ynode_scalar(n);
	char *end;
	errno = 0;
	double v = s ? strtod(s, &end) : NAN;
	if (!s || errno || end == s || *end || !isfinite(v)) {
		ynode_error(d, n, dl, "expected a number, got '%s'", s ? s : kind_name(n->kind));
		return false;
	}
	if (v < min || v > max) {
		ynode_error(d, n, dl, "%s is out of range [%g, %g]", s, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool ynode_to_long(const struct ydoc *d, const struct ynode *n, long min, long max,
		   struct diag_list *dl, long *out)
{
	const char *s = ynode_scalar(n);
	char *end = NULL;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 0;
	if (!s || errno || end == s || *end) {
		ynode_error(d, n, dl, "expected an integer, got '%s'", s ? s : kind_name(n->kind));
		return false;
	}
	if (v < min || v > max) {
		ynode_error(d, n, dl, "%s is out of range [%ld, %ld]", s, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool ynode_get_double(const struct ydoc *d, const struct ynode *map, const char *key, bool required,
		      double min, double max, struct diag_list *dl, double *out)
{
	const struct ynode *v = lookup(d, map, key, required, dl);
	if (!v)
		return !required;
	return ynode_to_double(d, v, min, max, dl, out);
}

bool ynode_get_long(const struct ydoc *d, const struct ynode *map, const char *key, bool required,
		    long min, long max, struct diag_list *dl, long *out)
{
	const struct ynode *v = lookup(d, map, key, required, dl);
	if (!v)
		return !required;
	return ynode_to_long(d, v, min, max, dl, out);
}

bool ynode_get_bool(const struct ydoc *d, const struct ynode *map, const char *key, bool required,
		    struct diag_list *dl, bool *out)
{
	const struct ynode *v = lookup(d, map, key, required, dl);
	if (!v)
		return !required;
	const char *s = ynode_scalar(v);
	/* YAML 1.2 core schema booleans only. */
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
		*out = s[0] == 't';
		return true;
	}
	ynode_error(d, v, dl, "'%s' must be true or false", key);
	return false;
}

bool ynode_get_str(const struct ydoc *d, const struct ynode *map, const char *key, bool required,
		   struct diag_list *dl, const char **out)
{
	const struct ynode *v = lookup(d, map, key, required, dl);
	if (!v)
		return !required;
	const char *s = ynode_scalar(v);
	if (!s) {
		ynode_error(d, v, dl, "'%s' must be a value, not %s", key, kind_name(v->kind));
		return false;
	}
	*out = s;
	return true;
}
