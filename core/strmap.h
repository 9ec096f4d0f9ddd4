/* SPDX-License-Identifier: MIT */
/* A string-keyed hash map to int (open addressing, FNV-1a); keys are borrowed, not copied. */
#ifndef SEGPLAN_STRMAP_H
#define SEGPLAN_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(size_t expected);
void strmap_free(struct strmap *m);
/* Inserts key -> val unless present. Returns -1 when inserted, the existing
 * value when the key was already there, or -2 on out-of-memory. */
int strmap_put(struct strmap *m, const char *key, int val);
/* The value for key, or -1. */
int strmap_get(const struct strmap *m, const char *key);
size_t strmap_size(const struct strmap *m);

#endif
