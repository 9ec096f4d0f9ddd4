/* SPDX-License-Identifier: MIT */
#include "core/intern.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"

long intern_get(struct intern *k, const char *key, bool *added)
{
	if (added)
		*added = false;
	if (!k->map && !(k->map = strmap_new(64)))
		return -ENOMEM;
	int i = strmap_get(k->map, key);
	if (i >= 0)
		return i;
	if (k->n >= (size_t)INT32_MAX)
		return -ENOMEM;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		char **v = realloc(k->keys, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		k->keys = v;
		k->cap = cap;
	}
	char *dup = strdup(key);
	if (!dup)
		return -ENOMEM;
	if (strmap_put(k->map, dup, (int)k->n) == -2) {
		free(dup);
		return -ENOMEM;
	}
	k->keys[k->n] = dup;
	if (added)
		*added = true;
	return (long)k->n++;
}

long intern_find(const struct intern *k, const char *key)
{
	return k->map ? strmap_get(k->map, key) : -1;
}

void intern_free(struct intern *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->keys[i]);
	free(k->keys);
	strmap_free(k->map);
	memset(k, 0, sizeof(*k));
}
