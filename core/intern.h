/* SPDX-License-Identifier: MIT */
/*
 * Interned strings: each distinct key gets the next index (0, 1, ...), and
 * the table keeps its own copy of the key. For counting by text keys (rule
 * ids, "zone|zone|service" aggregates). A zeroed struct is an empty table.
 */
#ifndef SEGPLAN_INTERN_H
#define SEGPLAN_INTERN_H

#include <stdbool.h>
#include <stddef.h>

struct strmap;

struct intern {
	struct strmap *map;
	char **keys; /* keys[i] is the key of index i */
	size_t n, cap;
};

/* The index of key, added when new (then *added, when not NULL, is set), or
 * -ENOMEM. */
long intern_get(struct intern *k, const char *key, bool *added);
/* The index of key, or -1 when it was never added. */
long intern_find(const struct intern *k, const char *key);
void intern_free(struct intern *k);

#endif
