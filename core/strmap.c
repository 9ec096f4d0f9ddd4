// SPDX-License-Identifier: MIT
#include "core/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The key's hash is kept beside it: most probes then end without a strcmp
 * and without touching the key's memory. */
struct slot {
	const char *key;
	uint32_t hash;
	int val;
};

struct strmap {
	struct slot *s;
	size_t cap, n; /* cap is a power of two, load kept below 1/2 */
};

static uint32_t fnv1a(const char *k)
{
	uint64_t h = 1469598103934665603ull;
	for (; *k; k++) {
		h ^= (unsigned char)*k;
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

struct strmap *strmap_new(size_t expected)
{
	struct strmap *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cap = 16;
	while (m->cap < expected * 2 + 1)
		m->cap *= 2;
	m->s = calloc(m->cap, sizeof(*m->s));
	if (!m->s) {
		free(m);
		return NULL;
	}
	return m;
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	free(m->s);
	free(m);
}

static struct slot *find(const struct strmap *m, const char *key, uint32_t h)
{
	size_t i = (size_t)h & (m->cap - 1);
	while (m->s[i].key && (m->s[i].hash != h || strcmp(m->s[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return &m->s[i];
}

static int grow(struct strmap *m)
{
	struct strmap big = {.cap = m->cap * 2};
	big.s = calloc(big.cap, sizeof(*big.s));
	if (!big.s)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->s[i].key)
			*find(&big, m->s[i].key, m->s[i].hash) = m->s[i];
	free(m->s);
	m->s = big.s;
	m->cap = big.cap;
	return 0;
}

int strmap_put(struct strmap *m, const char *key, int val)
{
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return -2;
	uint32_t h = fnv1a(key);
	struct slot *s = find(m, key, h);
	if (s->key)
		return s->val;
	s->key = key;
	s->hash = h;
	s->val = val;
	m->n++;
	return -1;
}

int strmap_get(const struct strmap *m, const char *key)
{
	const struct slot *s = find(m, key, fnv1a(key));
	return s->key ? s->val : -1;
}

size_t strmap_size(const struct strmap *m)
{
	return m->n;
}
