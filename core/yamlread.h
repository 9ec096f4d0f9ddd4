/* SPDX-License-Identifier: MIT */
/*
 * YAML documents (parsed by libyaml) as a small read-only tree with source
 * positions, plus checked accessors that report FILE:LINE:COL diagnostics.
 */
#ifndef SEGPLAN_YAMLREAD_H
#define SEGPLAN_YAMLREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode;
struct ydoc;

/*
 * Loads the first document of a YAML file. Syntax errors, invalid UTF-8 and
 * over-long lines are located errors, after which *out is NULL and -EINVAL
 * is returned; a missing file gives -ENOENT (reported too). Aliases are
 * resolved by libyaml; duplicate keys in a mapping are reported as errors
 * but the tree is still returned (0), so that the reader checks the rest:
 * a reader counts diag_errors() from before this call and fails with
 * -EINVAL when it grew.
 */
int ydoc_load(const char *path, const char *display, struct diag_list *dl, struct ydoc **out);
/* Same, from a buffer (tests, embedded defaults). */
int ydoc_load_buffer(const char *buf, size_t len, const char *name, struct diag_list *dl,
		     struct ydoc **out);
void ydoc_free(struct ydoc *d);

const char *ydoc_name(const struct ydoc *d);
/* NULL for an empty document. */
const struct ynode *ydoc_root(const struct ydoc *d);

enum ynode_kind ynode_kind(const struct ynode *n);
unsigned ynode_line(const struct ynode *n);
unsigned ynode_col(const struct ynode *n);
/* The text of a scalar, NULL for other kinds. */
const char *ynode_scalar(const struct ynode *n);
/* Items of a sequence or pairs of a mapping. */
size_t ynode_len(const struct ynode *n);
const struct ynode *ynode_item(const struct ynode *n, size_t i);
const struct ynode *ynode_key(const struct ynode *n, size_t i);
const struct ynode *ynode_value(const struct ynode *n, size_t i);
/* The value for a scalar key in a mapping, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);

void ynode_error(const struct ydoc *d, const struct ynode *n, struct diag_list *dl, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

/* Checks that n is a mapping (or sequence) and reports otherwise. */
bool ynode_expect(const struct ydoc *d, const struct ynode *n, enum ynode_kind kind,
		  const char *what, struct diag_list *dl);
/* Reports keys not in known, with a 'did you mean'. Returns false if any. */
bool ynode_check_keys(const struct ydoc *d, const struct ynode *map, const char *const *known,
		      size_t nknown, struct diag_list *dl);

/*
 * Typed values of map[key]. A missing key is an error when required (located
 * at the mapping) and otherwise leaves *out unchanged; a wrong type or range
 * is a located error. Return false on error.
 */
bool ynode_get_double(const struct ydoc *d, const struct ynode *map, const char *key, bool required,
		      double min, double max, struct diag_list *dl, double *out);
bool ynode_get_long(const struct ydoc *d, const struct ynode *map, const char *key, bool required,
		    long min, long max, struct diag_list *dl, long *out);
bool ynode_get_bool(const struct ydoc *d, const struct ynode *map, const char *key, bool required,
		    struct diag_list *dl, bool *out);
bool ynode_get_str(const struct ydoc *d, const struct ynode *map, const char *key, bool required,
		   struct diag_list *dl, const char **out);
/* A scalar node as a number, with the same reporting. */
bool ynode_to_double(const struct ydoc *d, const struct ynode *n, double min, double max,
		     struct diag_list *dl, double *out);
bool ynode_to_long(const struct ydoc *d, const struct ynode *n, long min, long max,
		   struct diag_list *dl, long *out);

#endif
