// SPDX-License-Identifier: MIT
#include "core/prefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned ip_family_bits(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

int ip_addr_parse(const char *s, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return -EINVAL;
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, out->b) != 1)
			return -EINVAL;
		out->family = 6;
		return 0;
	}
	/* inet_pton(AF_INET) accepts only dotted quads: no octal, no short forms. */
	if (inet_pton(AF_INET, s, out->b) != 1)
		return -EINVAL;
	out->family = 4;
	return 0;
}

static void mask_bits(uint8_t *b, unsigned len, unsigned bits)
{
	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned lo = i * 8;
		if (lo >= len)
			b[i] = 0;
		else if (lo + 8 > len)
			b[i] &= (uint8_t)(0xff << (8 - (len - lo)));
	}
}

int ip_prefix_parse(const char *s, bool allow_host, struct ip_prefix *out)
{
	char buf[IP_PREFIX_STRLEN];
	memset(out, 0, sizeof(*out));
	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	long len = -1;
	if (slash) {
		*slash = '\0';
		const char *l = slash + 1;
		if (!*l || strlen(l) > 3)
			return -EINVAL;
		for (const char *c = l; *c; c++)
			if (*c < '0' || *c > '9')
				return -EINVAL;
		len = strtol(l, NULL, 10);
	} else if (!allow_host) {
		return -EINVAL;
	}
	struct ip_addr a;
	if (ip_addr_parse(buf, &a) < 0)
		return -EINVAL;
	unsigned bits = ip_family_bits(a.family);
	if (len < 0)
		len = bits;
	if ((unsigned long)len > bits)
		return -EINVAL;
	out->family = a.family;
	out->len = (uint8_t)len;
	memcpy(out->b, a.b, 16);
	mask_bits(out->b, out->len, bits);
	return memcmp(out->b, a.b, 16) ? -EDOM : 0;
}

void ip_addr_format(const struct ip_addr *a, char *buf, size_t size)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, buf, (socklen_t)size) && size)
		buf[0] = '\0';
}

void ip_prefix_format(const struct ip_prefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->b, a, sizeof(a)))
		a[0] = '\0';
	snprintf(buf, size, "%s/%u", a, p->len);
}

/* Compares the first len bits of two byte strings. */
static int bits_cmp(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned full = len / 8;
	int c = memcmp(a, b, full);
	if (c || len % 8 == 0)
		return c;
	uint8_t m = (uint8_t)(0xff << (8 - len % 8));
	return (int)(a[full] & m) - (int)(b[full] & m);
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	return p->family == a->family && bits_cmp(p->b, a->b, p->len) == 0;
}

bool ip_prefix_covers(const struct ip_prefix *outer, const struct ip_prefix *inner)
{
	return outer->family == inner->family && outer->len <= inner->len &&
	       bits_cmp(outer->b, inner->b, outer->len) == 0;
}

bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return ip_prefix_covers(a, b) || ip_prefix_covers(b, a);
}

int ip_prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->b, b->b, 16);
	if (c)
		return c;
	return (int)a->len - (int)b->len;
}

int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, 16);
}

void ip_prefix_first(const struct ip_prefix *p, struct ip_addr *out)
{
	out->family = p->family;
	memcpy(out->b, p->b, 16);
}

void ip_prefix_last(const struct ip_prefix *p, struct ip_addr *out)
{
	unsigned bits = ip_family_bits(p->family);
	out->family = p->family;
	memcpy(out->b, p->b, 16);
	for (unsigned i = p->len; i < bits; i++)
		out->b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

bool ip_addr_add(struct ip_addr *a, uint64_t n)
{
	int last = a->family == 4 ? 3 : 15;
	unsigned carry = 0;
	for (int i = last; i >= 0; i--) {
		unsigned v = a->b[i] + (unsigned)(n & 0xff) + carry;
		a->b[i] = (uint8_t)v;
		carry = v >> 8;
		n >>= 8;
	}
	return carry == 0 && n == 0;
}

struct ovl_item {
	const struct ip_prefix *p;
	size_t idx;
};

static int ovl_cmp(const void *x, const void *y)
{
	const struct ovl_item *a = x, *b = y;
	int c = ip_prefix_cmp(a->p, b->p);
	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int ip_prefix_find_overlaps(const struct ip_prefix *v, size_t n,
			    void (*cb)(size_t i, size_t j, void *ctx), void *ctx)
{
	struct ovl_item *s = malloc((n + 1) * sizeof(*s));
	/* Stack of enclosing prefixes in sorted order (nesting depth <= 129). */
	size_t *stack = malloc(130 * sizeof(*stack));
	if (!s || !stack) {
		free(s);
		free(stack);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		s[i].p = &v[i];
		s[i].idx = i;
	}
	qsort(s, n, sizeof(*s), ovl_cmp);
	/*
	 * Sorted by address then length, a prefix overlaps an earlier one only if
	 * that one covers it; the covering candidates form a nesting stack. After
	 * reporting, the new prefix is pushed only when it is not covered, so the
	 * stack holds disjoint-or-nested prefixes and stays short.
	 */
	size_t depth = 0;
	for (size_t k = 0; k < n; k++) {
		while (depth > 0 && !ip_prefix_covers(s[stack[depth - 1]].p, s[k].p))
			depth--;
		if (depth > 0) {
			cb(s[stack[depth - 1]].idx, s[k].idx, ctx);
			continue;
		}
		stack[depth++] = k;
	}
	free(s);
	free(stack);
	return 0;
}
