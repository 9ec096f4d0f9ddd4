// SPDX-License-Identifier: MIT
#include "analysis/lint.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile/compile.h"
#include "compile/gateway.h"
#include "core/timewin.h"
#include "eval/eval.h"

const char *const lint_rel_names[LINT_REL_COUNT] = {"same-site", "same-district", "elsewhere"};
const char *const lint_kind_names[LINT_KIND_COUNT] = {
    "shadowed",	  "unmatchable",     "redundant",      "overlap",	  "override",
    "any-to-any", "broad",	     "internet-any",   "empty-zone",	  "expired",
    "expiring",	  "accepts-nothing", "unused-service", "management-risk", "no-management",
    "open-bgp",	  "unused-object",   "unused-group",   "object-overlap",  "empty-term",
    "assertion"};

#define NFAM 2
static const uint8_t fam_of[NFAM] = {4, 6};

/* ------------------------------------------------------------------ */
/* The service line: protocol 0's point, then protocol 1's 256 ICMP types, ... */

static bool is_icmp_proto(unsigned p)
{
	return p < 256 && proto_is_any_icmp((uint8_t)p);
}

static uint32_t proto_size(unsigned p)
{
	if (proto_has_ports((uint8_t)p))
		return 65536;
	return is_icmp_proto(p) ? 256 : 1;
}

/* Where each protocol starts on the line (computed once: the sizes never change). */
static uint32_t proto_off(unsigned p)
{
	static uint32_t off[257];
	static bool done;
	if (!done) {
		for (unsigned q = 0; q < 256; q++)
			off[q + 1] = off[q] + proto_size(q);
		done = true;
	}
	return off[p];
}

static uint32_t line_end(void)
{
	return proto_off(255) + proto_size(255) - 1;
}

uint32_t lint_svc_point(uint8_t proto, unsigned x)
{
	uint32_t sz = proto_size(proto);
	return proto_off(proto) + (x < sz ? x : sz - 1);
}

/* The protocol a point belongs to, and the offset of that protocol. */
static unsigned point_proto(uint32_t x, uint32_t *off)
{
	unsigned lo = 0, hi = 255;
	while (lo < hi) {
		unsigned mid = (lo + hi + 1) / 2;
		if (proto_off(mid) <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	*off = proto_off(lo);
	return lo;
}

bool lint_svc_is_fixed(uint8_t family, uint32_t point)
{
	uint32_t off;
	unsigned p = point_proto(point, &off);
	return is_icmp_proto(p) && !pol_icmp_can_open(family, (uint8_t)p, (int)(point - off));
}

/* ------------------------------------------------------------------ */
/* Interval sets */

void lint_ivset_free(struct lint_ivset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Appends an interval as it is (iv_normalize sorts and merges later). */
static int iv_append(struct lint_ivset *s, uint32_t lo, uint32_t hi)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct lint_iv *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct lint_iv){lo, hi};
	return 0;
}

/* Appends an interval that starts at or after the last one, merging when they touch. */
static int iv_push(struct lint_ivset *s, uint32_t lo, uint32_t hi)
{
	if (s->n && lo <= (uint64_t)s->v[s->n - 1].hi + 1) {
		if (hi > s->v[s->n - 1].hi)
			s->v[s->n - 1].hi = hi;
		return 0;
	}
	return iv_append(s, lo, hi);
}

static int iv_cmp(const void *a, const void *b)
{
	const struct lint_iv *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sorts and merges a set built by appending in any order. */
static void iv_normalize(struct lint_ivset *s)
{
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), iv_cmp);
	size_t n = s->n;
	s->n = 0;
	for (size_t i = 0; i < n; i++)
		iv_push(s, s->v[i].lo, s->v[i].hi); /* never grows: cannot fail */
}

static int iv_copy(struct lint_ivset *dst, const struct lint_ivset *src)
{
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		if (iv_push(dst, src->v[i].lo, src->v[i].hi) < 0)
			return -ENOMEM;
	return 0;
}

bool lint_ivset_contains(const struct lint_ivset *s, uint32_t x)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].hi < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->v[lo].lo <= x;
}

int lint_ivset_union(const struct lint_ivset *a, const struct lint_ivset *b, struct lint_ivset *out)
{
	struct lint_ivset r = {0};
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		const struct lint_iv *x;
		if (j >= b->n || (i < a->n && a->v[i].lo <= b->v[j].lo))
			x = &a->v[i++];
		else
			x = &b->v[j++];
		if (iv_push(&r, x->lo, x->hi) < 0) {
			lint_ivset_free(&r);
			return -ENOMEM;
		}
	}
	lint_ivset_free(out);
	*out = r;
	return 0;
}

int lint_ivset_inter(const struct lint_ivset *a, const struct lint_ivset *b, struct lint_ivset *out)
{
	struct lint_ivset r = {0};
	size_t i = 0, j = 0;
	while (i < a->n && j < b->n) {
		uint32_t lo = a->v[i].lo > b->v[j].lo ? a->v[i].lo : b->v[j].lo;
		uint32_t hi = a->v[i].hi < b->v[j].hi ? a->v[i].hi : b->v[j].hi;
		if (lo <= hi && iv_push(&r, lo, hi) < 0) {
			lint_ivset_free(&r);
			return -ENOMEM;
		}
		if (a->v[i].hi < b->v[j].hi)
			i++;
		else
			j++;
	}
	lint_ivset_free(out);
	*out = r;
	return 0;
}

int lint_ivset_minus(const struct lint_ivset *a, const struct lint_ivset *b, struct lint_ivset *out)
{
	struct lint_ivset r = {0};
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t lo = a->v[i].lo, hi = a->v[i].hi;
		while (j < b->n && b->v[j].hi < lo)
			j++;
		for (size_t k = j; k < b->n && b->v[k].lo <= hi && lo <= hi; k++) {
			if (b->v[k].lo > lo && iv_push(&r, (uint32_t)lo, b->v[k].lo - 1) < 0)
				goto fail;
			lo = (uint64_t)b->v[k].hi + 1;
		}
		if (lo <= hi && iv_push(&r, (uint32_t)lo, (uint32_t)hi) < 0)
			goto fail;
	}
	lint_ivset_free(out);
	*out = r;
	return 0;
fail:
	lint_ivset_free(&r);
	return -ENOMEM;
}

bool lint_ivset_equal(const struct lint_ivset *a, const struct lint_ivset *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof(*a->v)) == 0);
}

/* Is a a subset of b? */
static bool iv_subset(const struct lint_ivset *a, const struct lint_ivset *b)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && b->v[j].hi < a->v[i].lo)
			j++;
		if (j >= b->n || b->v[j].lo > a->v[i].lo || b->v[j].hi < a->v[i].hi)
			return false;
	}
	return true;
}

static bool iv_meets(const struct lint_ivset *a, const struct lint_ivset *b)
{
	size_t i = 0, j = 0;
	while (i < a->n && j < b->n) {
		if (a->v[i].hi < b->v[j].lo)
			i++;
		else if (b->v[j].hi < a->v[i].lo)
			j++;
		else
			return true;
	}
	return false;
}

static int fixed_set(uint8_t family, struct lint_ivset *out)
{
	/* The same few intervals every time: computed once per family. */
	static struct lint_iv cache[2][256];
	static size_t ncache[2];
	static bool done[2];
	int f = family == 4 ? 0 : 1;
	if (!done[f]) {
		struct lint_ivset c = {0};
		uint8_t proto = proto_icmp_of(family);
		for (int t = 0; t < 256; t++)
			if (!pol_icmp_can_open(family, proto, t) &&
			    iv_push(&c, lint_svc_point(proto, (unsigned)t),
				    lint_svc_point(proto, (unsigned)t)) < 0) {
				lint_ivset_free(&c);
				return -ENOMEM;
			}
		if (c.n)
			memcpy(cache[f], c.v, c.n * sizeof(*c.v));
		ncache[f] = c.n;
		lint_ivset_free(&c);
		done[f] = true;
	}
	out->n = 0;
	for (size_t i = 0; i < ncache[f]; i++)
		if (iv_push(out, cache[f][i].lo, cache[f][i].hi) < 0)
			return -ENOMEM;
	return 0;
}

int lint_ivset_add_fixed(struct lint_ivset *s, uint8_t family)
{
	struct lint_ivset p = {0};
	int rc = fixed_set(family, &p);
	if (rc == 0)
		rc = lint_ivset_union(s, &p, s);
	lint_ivset_free(&p);
	return rc;
}

/* Every point of the line but the family's invalid ICMP points: what rules can decide. */
static int universe(uint8_t family, struct lint_ivset *out)
{
	struct lint_ivset all = {0}, p = {0};
	int rc = iv_push(&all, 0, line_end());
	if (rc == 0)
		rc = fixed_set(family, &p);
	if (rc == 0)
		rc = lint_ivset_minus(&all, &p, out);
	lint_ivset_free(&all);
	lint_ivset_free(&p);
	return rc;
}

/* A policy service list as points of family's line (svc_matches in eval/eval.c). */
static int match_set(const struct pol_match *m, uint8_t family, struct lint_ivset *out)
{
	out->n = 0;
	if (m->any)
		return iv_append(out, 0, line_end());
	for (size_t i = 0; i < m->nports; i++)
		if (iv_append(out, lint_svc_point(m->ports[i].proto, m->ports[i].lo),
			      lint_svc_point(m->ports[i].proto, m->ports[i].hi)) < 0)
			return -ENOMEM;
	const uint8_t *types = family == 4 ? m->icmp : m->icmp6;
	size_t ntypes = family == 4 ? m->nicmp : m->nicmp6;
	uint8_t tproto = proto_icmp_of(family);
	for (size_t i = 0; i < ntypes; i++)
		if (iv_append(out, lint_svc_point(tproto, types[i]),
			      lint_svc_point(tproto, types[i])) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < m->nprotos; i++)
		if (iv_append(out, proto_off(m->protos[i]),
			      proto_off(m->protos[i]) + proto_size(m->protos[i]) - 1) < 0)
			return -ENOMEM;
	iv_normalize(out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The space */

/*
 * A piece of the address space on which everything the model asks is
 * constant: the zone, the data-centre flag, the site, the membership in
 * every endpoint term, whether it is a gateway's own address.
 */
struct piece {
	struct ip_addr first, last;
	int ep;	   /* endpoint, -1 when the address has no zone */
	int site;  /* -1 at no site */
	bool self; /* a gateway's own address: the input chain judges it, not the forward rules */
};

/* A time window of a rule, for the regimes (lint_space_regimes). */
struct rwin {
	size_t input;
	int rule;
	struct tw_window w;
};

struct input {
	const struct policy *p;
	const struct inventory *inv;
	struct pol_build *b;
	struct pol_table *city;
	int *zmap;	  /* policy zone -> space zone */
	int *tbit;	  /* policy term -> signature bit */
	struct piece *pc; /* both families, in address order */
	size_t npc;
	bool *has_exc;	  /* per site: some compiled exception (a view of its own) */
	bool *local;	  /* [site][fam][endpoint]: the site's segments hold such addresses */
	bool *nonsite;	  /* [fam][endpoint]: addresses at no site (pools, unassigned, internet) */
	unsigned *dcount; /* [district][fam][endpoint]: sites of the district with such addresses */
	unsigned *gcount; /* [fam][endpoint]: sites anywhere */
	size_t *byep;	  /* piece indices by endpoint: byep[epstart[e]..epstart[e + 1]) */
	size_t *epstart;
	int *gsig;    /* per site: the first site with the same district and local endpoints */
	size_t ngsig; /* distinct (district, local endpoints) among the sites */
};

/* A class of addresses with some term membership: an endpoint past the plain ones. */
struct xclass {
	int zone;
	bool dc;
	uint64_t *bits;
};

struct lint_space {
	struct lint_names names;
	size_t ne, natoms, ninputs;
	size_t nbits, nwords;
	const struct pol_ranges **bitr; /* per bit: the term's addresses */
	const char **bitlabel;
	struct xclass *xc;
	size_t nxc, capxc;
	int *hash; /* open addressing over xc, -1 empty */
	size_t nhash;
	struct rwin *win;
	size_t nwin;
	struct input in[2];
};

const struct lint_names *lint_space_names(const struct lint_space *s)
{
	return &s->names;
}

size_t lint_space_natoms(const struct lint_space *s)
{
	return s->natoms;
}

size_t lint_space_nclasses(const struct lint_space *s)
{
	size_t n = 0;
	for (size_t e = 0; e < s->ne; e++)
		n += s->names.seen[e];
	return n;
}

size_t lint_space_ngateways(const struct lint_space *s, size_t which)
{
	return s->in[which].ngsig;
}

size_t lint_atom_index(const struct lint_space *s, uint8_t family, int from, int to,
		       enum lint_rel rel)
{
	size_t f = family == 4 ? 0 : 1;
	return ((f * s->ne + (size_t)from) * s->ne + (size_t)to) * LINT_REL_COUNT + (size_t)rel;
}

static size_t atom_index(const struct lint_space *s, int f, int from, int to, int rel)
{
	return (((size_t)f * s->ne + (size_t)from) * s->ne + (size_t)to) * LINT_REL_COUNT +
	       (size_t)rel;
}

void lint_atom_parts(const struct lint_space *s, size_t atom, uint8_t *family, int *from, int *to,
		     enum lint_rel *rel)
{
	*rel = (enum lint_rel)(atom % LINT_REL_COUNT);
	atom /= LINT_REL_COUNT;
	*to = (int)(atom % s->ne);
	atom /= s->ne;
	*from = (int)(atom % s->ne);
	*family = fam_of[atom / s->ne];
}

int lint_endpoint_zone(const struct lint_names *n, int e)
{
	return (size_t)e < 2 * n->nzones ? e / 2 : n->classes[(size_t)e - 2 * n->nzones].zone;
}

bool lint_endpoint_dc(const struct lint_names *n, int e)
{
	return (size_t)e < 2 * n->nzones ? (e & 1) != 0 : n->classes[(size_t)e - 2 * n->nzones].dc;
}

static bool ep_dc(const struct lint_space *s, int e)
{
	return lint_endpoint_dc(&s->names, e);
}

/* Is endpoint e in the term of signature bit `bit`? Plain endpoints are in none. */
static bool ep_bit(const struct lint_space *s, size_t e, int bit)
{
	if (e < 2 * s->names.nzones || bit < 0)
		return false;
	const uint64_t *w = s->xc[e - 2 * s->names.nzones].bits;
	return (w[(size_t)bit / 64] >> ((size_t)bit % 64)) & 1;
}

int lint_names_copy(struct lint_names *dst, const struct lint_names *src)
{
	memset(dst, 0, sizeof(*dst));
	size_t nx = src->ne - 2 * src->nzones;
	dst->zones = calloc(src->nzones + 1, sizeof(char *));
	dst->seen = calloc(src->ne + 1, sizeof(bool));
	dst->classes = calloc(nx + 1, sizeof(*dst->classes));
	if (!dst->zones || !dst->seen || !dst->classes)
		return -ENOMEM;
	dst->ne = src->ne;
	memcpy(dst->seen, src->seen, src->ne * sizeof(bool));
	for (; dst->nzones < src->nzones; dst->nzones++)
		if (!(dst->zones[dst->nzones] = strdup(src->zones[dst->nzones])))
			return -ENOMEM;
	for (size_t i = 0; i < nx; i++) {
		dst->classes[i] = src->classes[i];
		dst->classes[i].label = NULL;
		if (src->classes[i].label &&
		    !(dst->classes[i].label = strdup(src->classes[i].label)))
			return -ENOMEM;
	}
	if (!(dst->plain = calloc(2 * src->nzones + 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t e = 0; src->plain && e < 2 * src->nzones; e++)
		if (src->plain[e] && !(dst->plain[e] = strdup(src->plain[e])))
			return -ENOMEM;
	return 0;
}

void lint_names_clear(struct lint_names *n)
{
	for (size_t z = 0; z < n->nzones; z++)
		free(n->zones[z]);
	for (size_t i = 0; n->classes && i < n->ne - 2 * n->nzones; i++)
		free(n->classes[i].label);
	for (size_t e = 0; n->plain && e < 2 * n->nzones; e++)
		free(n->plain[e]);
	free(n->plain);
	free(n->classes);
	free(n->zones);
	free(n->seen);
	memset(n, 0, sizeof(*n));
}

int lint_endpoint(const struct lint_names *n, const char *zone, bool dc)
{
	for (size_t z = 0; z < n->nzones; z++)
		if (strcmp(n->zones[z], zone) == 0)
			return (int)(2 * z + (dc ? 1 : 0));
	return -1;
}

static int space_zone(struct lint_space *s, const char *name)
{
	for (size_t z = 0; z < s->names.nzones; z++)
		if (strcmp(s->names.zones[z], name) == 0)
			return (int)z;
	char **v = realloc(s->names.zones, (s->names.nzones + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->names.zones = v;
	if (!(v[s->names.nzones] = strdup(name)))
		return -ENOMEM;
	return (int)s->names.nzones++;
}

static int addr_cmp(const void *a, const void *b)
{
	return ip_addr_cmp(a, b);
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void addr_dec(struct ip_addr *a)
{
	for (int i = (a->family == 4 ? 4 : 16) - 1; i >= 0; i--)
		if (a->b[i]-- != 0)
			break;
}

static int push_bound(struct ip_addr **v, size_t *n, size_t *cap, const struct ip_addr *a)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		struct ip_addr *w = realloc(*v, c * sizeof(*w));
		if (!w)
			return -ENOMEM;
		*v = w;
		*cap = c;
	}
	(*v)[(*n)++] = *a;
	return 0;
}

static int push_range(struct ip_addr **v, size_t *n, size_t *cap, const struct pol_range *r,
		      uint8_t fam)
{
	if (r->first.family != fam)
		return 0;
	int rc = push_bound(v, n, cap, &r->first);
	struct ip_addr next = r->last;
	if (rc == 0 && ip_addr_add(&next, 1))
		rc = push_bound(v, n, cap, &next);
	return rc;
}

/*
 * Boundaries in one family of every list of the city table, of the
 * special-purpose and private ranges outside it, of every term of both
 * policies and of the gateways' own addresses: sorted and unique, the first
 * the family's zero address.
 */
static int boundaries(const struct lint_space *s, const struct input *in, uint8_t fam,
		      const struct pol_ranges *self, struct ip_addr **out, size_t *n)
{
	static const enum pol_list lists[] = {POL_L_ZONES, POL_L_CITY, POL_L_DC, POL_L_SITES};
	struct ip_addr *v = NULL, zero;
	size_t k = 0, cap = 0;
	int rc;
	memset(&zero, 0, sizeof(zero));
	zero.family = fam;
	rc = push_bound(&v, &k, &cap, &zero);
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]) && rc == 0; l++) {
		const struct pol_ranges *r = pol_table_clist(in->city, lists[l]);
		for (size_t i = 0; i < r->n && rc == 0; i++)
			rc = push_range(&v, &k, &cap, &r->v[i], fam);
	}
	/* Outside the city: where special-purpose and private ranges start and end. */
	static const enum pol_zone_kind outside[] = {POL_ZONE_SPECIAL, POL_ZONE_PRIVEXT};
	for (size_t l = 0; l < 2 && rc == 0; l++) {
		const struct pol_ranges *r = pol_outside_ranges(outside[l]);
		for (size_t i = 0; r && i < r->n && rc == 0; i++)
			rc = push_range(&v, &k, &cap, &r->v[i], fam);
	}
	for (size_t b = 0; b < s->nbits && rc == 0; b++)
		for (size_t i = 0; i < s->bitr[b]->n && rc == 0; i++)
			rc = push_range(&v, &k, &cap, &s->bitr[b]->v[i], fam);
	for (size_t i = 0; i < self->n && rc == 0; i++)
		rc = push_range(&v, &k, &cap, &self->v[i], fam);
	if (rc < 0) {
		free(v);
		return rc;
	}
	qsort(v, k, sizeof(*v), addr_cmp);
	size_t o = 0;
	for (size_t i = 0; i < k; i++)
		if (o == 0 || ip_addr_cmp(&v[o - 1], &v[i]) != 0)
			v[o++] = v[i];
	*out = v;
	*n = o;
	return 0;
}

static uint64_t sig_hash(int zone, bool dc, const uint64_t *w, size_t nw)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(zone * 2 + dc);
	for (size_t i = 0; i < nw; i++) {
		h ^= w[i];
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return h;
}

static int xc_rehash(struct lint_space *s, size_t size)
{
	int *h = malloc(size * sizeof(int));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < size; i++)
		h[i] = -1;
	for (size_t k = 0; k < s->nxc; k++) {
		size_t j = sig_hash(s->xc[k].zone, s->xc[k].dc, s->xc[k].bits, s->nwords) % size;
		while (h[j] >= 0)
			j = (j + 1) % size;
		h[j] = (int)k;
	}
	free(s->hash);
	s->hash = h;
	s->nhash = size;
	return 0;
}

/* The endpoint of a signature: the plain one without terms, else its class (added when new). */
static int intern(struct lint_space *s, int zone, bool dc, const uint64_t *w)
{
	bool plain = true;
	for (size_t i = 0; i < s->nwords; i++)
		plain &= w[i] == 0;
	if (plain)
		return zone * 2 + (dc ? 1 : 0);
	if (2 * (s->nxc + 1) >= s->nhash && xc_rehash(s, s->nhash ? 2 * s->nhash : 64) < 0)
		return -ENOMEM;
	size_t j = sig_hash(zone, dc, w, s->nwords) % s->nhash;
	for (; s->hash[j] >= 0; j = (j + 1) % s->nhash) {
		const struct xclass *x = &s->xc[s->hash[j]];
		if (x->zone == zone && x->dc == dc &&
		    memcmp(x->bits, w, s->nwords * sizeof(uint64_t)) == 0)
			return (int)(2 * s->names.nzones) + s->hash[j];
	}
	if (s->nxc == s->capxc) {
		size_t c = s->capxc ? 2 * s->capxc : 64;
		struct xclass *v = realloc(s->xc, c * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->xc = v;
		s->capxc = c;
	}
	struct xclass *x = &s->xc[s->nxc];
	if (!(x->bits = malloc(s->nwords * sizeof(uint64_t))))
		return -ENOMEM;
	memcpy(x->bits, w, s->nwords * sizeof(uint64_t));
	x->zone = zone;
	x->dc = dc;
	s->hash[j] = (int)s->nxc;
	return (int)(2 * s->names.nzones + s->nxc++);
}

/* The own addresses of the inventory's gateways (interfaces.csv). */
static int self_ranges(const struct inventory *inv, struct pol_ranges *out)
{
	int rc = 0;
	for (size_t k = 0; k < inv->nifaces && rc == 0; k++) {
		const struct iface *x = &inv->ifaces[k];
		if (x->has_v4)
			rc = pol_ranges_add(out, &x->addr4, &x->addr4, 0);
		if (rc == 0 && x->has_v6)
			rc = pol_ranges_add(out, &x->addr6, &x->addr6, 0);
	}
	if (rc == 0 && (rc = pol_ranges_normalize(out)) == -EEXIST)
		rc = 0;
	return rc;
}

/* Cuts the address space into pieces and gives each its (provisional) endpoint. */
static int cut_pieces(struct lint_space *s, struct input *in)
{
	struct ip_addr *bd = NULL;
	struct pol_ranges self = {0};
	uint64_t *w = calloc(s->nwords + 1, sizeof(uint64_t));
	size_t *at = calloc(s->nbits + 1, sizeof(size_t));
	int rc = w && at ? self_ranges(in->inv, &self) : -ENOMEM;
	for (int f = 0; f < NFAM && rc == 0; f++) {
		size_t nb;
		free(bd);
		bd = NULL;
		if ((rc = boundaries(s, in, fam_of[f], &self, &bd, &nb)) < 0)
			break;
		struct piece *v = realloc(in->pc, (in->npc + nb + 1) * sizeof(*v));
		if (!v) {
			rc = -ENOMEM;
			break;
		}
		in->pc = v;
		memset(at, 0, s->nbits * sizeof(size_t));
		size_t sj = 0;
		for (size_t i = 0; i < nb && rc == 0; i++) {
			struct piece *pc = &in->pc[in->npc++];
			pc->first = bd[i];
			if (i + 1 < nb) {
				pc->last = bd[i + 1];
				addr_dec(&pc->last);
			} else {
				pc->last = bd[i];
				memset(pc->last.b, 0xff, fam_of[f] == 4 ? 4 : 16);
			}
			struct pol_class c;
			pol_classify(in->city, &pc->first, &c);
			pc->site = c.site;
			while (sj < self.n && ip_addr_cmp(&self.v[sj].last, &pc->first) < 0)
				sj++;
			pc->self = sj < self.n && ip_addr_cmp(&self.v[sj].first, &pc->first) <= 0;
			pc->ep = -1;
			if (c.zone < 0)
				continue;
			memset(w, 0, s->nwords * sizeof(uint64_t));
			for (size_t b = 0; b < s->nbits; b++) {
				const struct pol_ranges *r = s->bitr[b];
				while (at[b] < r->n &&
				       ip_addr_cmp(&r->v[at[b]].last, &pc->first) < 0)
					at[b]++;
				if (at[b] < r->n &&
				    ip_addr_cmp(&r->v[at[b]].first, &pc->first) <= 0)
					w[b / 64] |= 1ull << (b % 64);
			}
			int e = intern(s, in->zmap[c.zone], c.dc, w);
			if (e < 0)
				rc = e;
			pc->ep = e < 0 ? -1 : e;
		}
	}
	pol_ranges_free(&self);
	free(bd);
	free(w);
	free(at);
	return rc;
}

/*
 * Which endpoints each site's segments hold, and which lie at no site. A
 * gateway's own address belongs to the input chain: it makes no atom.
 */
static int collect_endpoints(struct lint_space *s, struct input *in)
{
	const struct inventory *inv = in->inv;
	size_t ne = s->ne;
	in->local = calloc(inv->nsites * NFAM * ne + 1, sizeof(bool));
	in->nonsite = calloc(NFAM * ne + 1, sizeof(bool));
	in->dcount = calloc(inv->ndistricts * NFAM * ne + 1, sizeof(unsigned));
	in->gcount = calloc(NFAM * ne + 1, sizeof(unsigned));
	in->gsig = calloc(inv->nsites + 1, sizeof(int));
	if (!in->local || !in->nonsite || !in->dcount || !in->gcount || !in->gsig)
		return -ENOMEM;
	for (size_t i = 0; i < in->npc; i++) {
		struct piece *pc = &in->pc[i];
		if (pc->ep < 0 || pc->self)
			continue;
		size_t f = pc->first.family == 4 ? 0 : 1, e = (size_t)pc->ep;
		s->names.seen[e] = true;
		if (pc->site >= 0)
			in->local[((size_t)pc->site * NFAM + f) * ne + e] = true;
		else
			in->nonsite[f * ne + e] = true;
	}
	in->byep = calloc(in->npc + 1, sizeof(size_t));
	in->epstart = calloc(ne + 2, sizeof(size_t));
	if (!in->byep || !in->epstart)
		return -ENOMEM;
	for (size_t i = 0; i < in->npc; i++)
		if (in->pc[i].ep >= 0)
			in->epstart[in->pc[i].ep + 2]++;
	for (size_t e = 0; e < ne; e++)
		in->epstart[e + 2] += in->epstart[e + 1];
	for (size_t i = 0; i < in->npc; i++)
		if (in->pc[i].ep >= 0)
			in->byep[in->epstart[in->pc[i].ep + 1]++] = i;
	for (size_t site = 0; site < inv->nsites; site++)
		for (size_t k = 0; k < NFAM * ne; k++)
			if (in->local[site * NFAM * ne + k]) {
				in->gcount[k]++;
				in->dcount[(size_t)inv->sites[site].district * NFAM * ne + k]++;
			}
	/* Gateways alike for the model: same district, same endpoints at home. */
	size_t nh = 2 * inv->nsites + 1;
	int *h = malloc(nh * sizeof(int));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < nh; i++)
		h[i] = -1;
	for (size_t g = 0; g < inv->nsites; g++) {
		const bool *row = &in->local[g * NFAM * ne];
		uint64_t x = 1469598103934665603ull ^ (uint64_t)inv->sites[g].district;
		for (size_t k = 0; k < NFAM * ne; k++)
			if (row[k])
				x = (x ^ k) * 1099511628211ull;
		size_t j = x % nh;
		for (; h[j] >= 0; j = (j + 1) % nh) {
			size_t o = (size_t)h[j];
			if (inv->sites[o].district == inv->sites[g].district &&
			    memcmp(&in->local[o * NFAM * ne], row, NFAM * ne) == 0)
				break;
		}
		if (h[j] < 0) {
			h[j] = (int)g;
			in->ngsig++;
		}
		in->gsig[g] = h[j];
	}
	free(h);
	return 0;
}

void lint_space_free(struct lint_space *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ninputs; i++) {
		struct input *in = &s->in[i];
		free(in->zmap);
		free(in->tbit);
		free(in->pc);
		free(in->has_exc);
		free(in->local);
		free(in->nonsite);
		free(in->dcount);
		free(in->gcount);
		free(in->gsig);
		free(in->byep);
		free(in->epstart);
		pol_table_free(in->city);
		pol_build_free(in->b);
	}
	for (size_t k = 0; k < s->nxc; k++)
		free(s->xc[k].bits);
	free(s->xc);
	free(s->hash);
	free(s->bitr);
	free(s->bitlabel);
	free(s->win);
	lint_names_clear(&s->names);
	free(s);
}

/* The signature bits: one per distinct term (same label and addresses in both policies). */
static int assign_bits(struct lint_space *s)
{
	size_t nt = 0;
	for (size_t i = 0; i < s->ninputs; i++)
		nt += s->in[i].p->nterms;
	s->bitr = calloc(nt + 1, sizeof(*s->bitr));
	s->bitlabel = calloc(nt + 1, sizeof(*s->bitlabel));
	if (!s->bitr || !s->bitlabel)
		return -ENOMEM;
	for (size_t i = 0; i < s->ninputs; i++) {
		struct input *in = &s->in[i];
		if (!(in->tbit = calloc(in->p->nterms + 1, sizeof(int))))
			return -ENOMEM;
		for (size_t t = 0; t < in->p->nterms; t++) {
			const struct pol_ranges *r = pol_build_term(in->b, (int)t);
			const char *label = in->p->terms[t].label;
			int bit = -1;
			for (size_t b = 0; b < s->nbits && bit < 0; b++)
				if (strcmp(s->bitlabel[b], label) == 0 && s->bitr[b]->n == r->n &&
				    (r->n == 0 ||
				     memcmp(s->bitr[b]->v, r->v, r->n * sizeof(*r->v)) == 0))
					bit = (int)b;
			if (bit < 0) {
				bit = (int)s->nbits++;
				s->bitr[bit] = r;
				s->bitlabel[bit] = label;
			}
			in->tbit[t] = bit;
		}
	}
	s->nwords = (s->nbits + 63) / 64;
	return 0;
}

/*
 * One endpoint's label: its zone (with [dc] or [non-dc] when the zone has
 * both), then the terms that tell it apart from the zone's other endpoints:
 * a term that holds most of the zone is named by its absence ("not T"), a
 * term that holds all of it not at all. bits is NULL for a plain endpoint.
 */
static char *class_label(const struct lint_space *s, int zone, bool dc, const uint64_t *bits,
			 const bool *both, const unsigned *in, const unsigned *total)
{
	size_t z = (size_t)zone;
	char *t = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&t, &len);
	if (!f)
		return NULL;
	fprintf(f, "%s", s->names.zones[z]);
	if (both[z])
		fprintf(f, "[%s]", dc ? "dc" : "non-dc");
	for (size_t b = 0; b < s->nbits; b++) {
		unsigned k = in[z * s->nbits + b];
		bool mine = bits && ((bits[b / 64] >> (b % 64)) & 1);
		bool neg = 2 * k > total[z];
		if (k == total[z] || (neg ? mine : !mine))
			continue;
		fprintf(f, "%s%s%s", n++ ? ", " : " [", neg ? "not " : "", s->bitlabel[b]);
	}
	if (n)
		fprintf(f, "]");
	else if (!bits)
		fprintf(f, " [in no term]");
	if (fclose(f) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

/* Names the classes ("servers [core, {app: payroll, role: web}]") and the plain endpoints of
 * zones that have classes. */
static int label_classes(struct lint_space *s)
{
	size_t nz = s->names.nzones, nx = s->nxc, nb = s->nbits;
	bool *dc = calloc(2 * nz + 1, sizeof(bool)), *both = calloc(nz + 1, sizeof(bool));
	unsigned *in = calloc(nz * nb + 1, sizeof(unsigned)),
		 *total = calloc(nz + 1, sizeof(unsigned));
	bool *cls = calloc(nz + 1, sizeof(bool));
	s->names.classes = calloc(nx + 1, sizeof(*s->names.classes));
	s->names.plain = calloc(2 * nz + 1, sizeof(char *));
	int rc = -ENOMEM;
	if (!dc || !both || !in || !total || !cls || !s->names.classes || !s->names.plain)
		goto out;
	/* Per zone: its endpoints that exist, and how many of them each term holds. */
	for (size_t e = 0; e < s->ne; e++) {
		if (!s->names.seen[e])
			continue;
		/* The classes' own records: names.classes is filled below. */
		int z = e < 2 * nz ? (int)e / 2 : s->xc[e - 2 * nz].zone;
		bool d = e < 2 * nz ? (e & 1) : s->xc[e - 2 * nz].dc;
		dc[2 * (size_t)z + d] = true;
		total[z]++;
		if (e < 2 * nz)
			continue;
		cls[z] = true;
		for (size_t b = 0; b < nb; b++)
			in[(size_t)z * nb + b] += ep_bit(s, e, (int)b);
	}
	for (size_t z = 0; z < nz; z++)
		both[z] = dc[2 * z] && dc[2 * z + 1];
	rc = 0;
	for (size_t k = 0; k < nx && rc == 0; k++) {
		const struct xclass *x = &s->xc[k];
		struct lint_class *c = &s->names.classes[k];
		c->zone = x->zone;
		c->dc = x->dc;
		if (!(c->label = class_label(s, x->zone, x->dc, x->bits, both, in, total)))
			rc = -ENOMEM;
	}
	for (size_t e = 0; e < 2 * nz && rc == 0; e++)
		if (cls[e / 2] &&
		    !(s->names.plain[e] = class_label(s, (int)e / 2, e & 1, NULL, both, in, total)))
			rc = -ENOMEM;
out:
	free(dc);
	free(both);
	free(in);
	free(total);
	free(cls);
	return rc;
}

/* The windows of every compiled forward rule and gateway service of the inputs. */
static int collect_windows(struct lint_space *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->ninputs; i++)
		n += s->in[i].p->nrules;
	if (!(s->win = calloc(n + 1, sizeof(*s->win))))
		return -ENOMEM;
	for (size_t i = 0; i < s->ninputs; i++)
		for (size_t k = 0; k < s->in[i].p->nrules; k++) {
			const struct pol_rule *r = &s->in[i].p->rules[k];
			if (!r->when.set || r->expired)
				continue;
			struct rwin *w = &s->win[s->nwin++];
			w->input = i;
			w->rule = (int)k;
			w->w.days = r->when.days;
			w->w.start = r->when.start;
			w->w.end = r->when.end;
			snprintf(w->w.tz, sizeof(w->w.tz), "%s", r->when.tz);
		}
	return 0;
}

int lint_space_new(const struct policy *const *pols, const struct inventory *const *invs, size_t n,
		   struct lint_space **out)
{
	struct lint_space *s = calloc(1, sizeof(*s));
	int rc = -ENOMEM;
	*out = NULL;
	if (!s || n == 0 || n > 2) {
		rc = s ? -EINVAL : -ENOMEM;
		goto out;
	}
	s->ninputs = n;
	for (size_t i = 0; i < n; i++) {
		struct input *in = &s->in[i];
		in->p = pols[i];
		in->inv = invs[i];
		if (!(in->zmap = calloc(pols[i]->nzones + 1, sizeof(int))) ||
		    !(in->has_exc = calloc(invs[i]->nsites + 1, sizeof(bool)))) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t z = 0; z < pols[i]->nzones; z++)
			if ((rc = in->zmap[z] = space_zone(s, pols[i]->zones[z].name)) < 0)
				goto out;
		for (size_t k = 0; k < pols[i]->nrules; k++)
			if (pols[i]->rules[k].site >= 0 && !pols[i]->rules[k].expired)
				in->has_exc[pols[i]->rules[k].site] = true;
		if ((rc = pol_build_new(in->p, in->inv, &in->b)) < 0 ||
		    (rc = pol_build_city(in->b, &in->city)) < 0)
			goto out;
	}
	if ((rc = assign_bits(s)) < 0 || (rc = collect_windows(s)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = cut_pieces(s, &s->in[i])) < 0)
			goto out;
	s->ne = 2 * s->names.nzones + s->nxc;
	s->names.ne = s->ne;
	s->natoms = NFAM * s->ne * s->ne * LINT_REL_COUNT;
	rc = -ENOMEM;
	if (!(s->names.seen = calloc(s->ne + 1, sizeof(bool))))
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = collect_endpoints(s, &s->in[i])) < 0)
			goto out;
	rc = label_classes(s);
out:
	if (rc < 0)
		lint_space_free(s);
	else
		*out = s;
	return rc;
}

/* The first piece of input `in` at or after address a (same family), by binary search. */
static size_t piece_at(const struct input *in, const struct ip_addr *a)
{
	size_t lo = 0, hi = in->npc;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct piece *pc = &in->pc[mid];
		if (pc->first.family < a->family ||
		    (pc->first.family == a->family && ip_addr_cmp(&pc->last, a) < 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int lint_space_endpoint(const struct lint_space *s, size_t which, const struct ip_addr *a)
{
	const struct input *in = &s->in[which];
	size_t lo = piece_at(in, a);
	if (lo >= in->npc || in->pc[lo].first.family != a->family || in->pc[lo].self)
		return -1;
	return in->pc[lo].ep;
}

/* Marks the atoms of gateway g (a representative of its kind) in real. */
static void realise_site(const struct lint_space *s, const struct input *in, size_t g, bool *real)
{
	size_t ne = s->ne, d = (size_t)in->inv->sites[g].district;
	for (int f = 0; f < NFAM; f++) {
		const bool *L = &in->local[(g * NFAM + (size_t)f) * ne];
		const unsigned *dc = &in->dcount[(d * NFAM + (size_t)f) * ne];
		const unsigned *gc = &in->gcount[(size_t)f * ne];
		const bool *ns = &in->nonsite[(size_t)f * ne];
		for (size_t a = 0; a < ne; a++) {
			if (!L[a])
				continue;
			for (size_t b = 0; b < ne; b++) {
				bool D = dc[b] > (L[b] ? 1u : 0u);
				bool F = gc[b] > dc[b] || ns[b];
				if (L[b])
					real[atom_index(s, f, (int)a, (int)b, LINT_REL_SITE)] =
					    true;
				if (D) {
					real[atom_index(s, f, (int)a, (int)b, LINT_REL_DISTRICT)] =
					    true;
					real[atom_index(s, f, (int)b, (int)a, LINT_REL_DISTRICT)] =
					    true;
				}
				if (F) {
					real[atom_index(s, f, (int)a, (int)b, LINT_REL_ELSEWHERE)] =
					    true;
					real[atom_index(s, f, (int)b, (int)a, LINT_REL_ELSEWHERE)] =
					    true;
				}
			}
		}
	}
}

void lint_space_realise(const struct lint_space *s, size_t which,
			bool (*keep)(const char *site, void *ctx), void *ctx, bool *real)
{
	const struct input *in = &s->in[which];
	const struct inventory *inv = in->inv;
	bool *done = calloc(inv->nsites + 1, sizeof(bool));
	for (size_t g = 0; g < inv->nsites; g++) {
		if (keep && !keep(inv->sites[g].id, ctx))
			continue;
		/* A gateway like one already done marks the same atoms. */
		size_t rep = (size_t)in->gsig[g];
		if (done && done[rep])
			continue;
		if (done)
			done[rep] = true;
		realise_site(s, in, g, real);
	}
	free(done);
}

/*
 * The instants at which the windowed rules of the inputs are on or off in a
 * combination not seen before, from the latest `now` of the inputs until the
 * horizon of the compiled windows or the first expiry of a compiled rule:
 * one instant per combination. Without windows, one regime at time 0 (the
 * evaluator's "no time": every window open).
 */
int lint_space_regimes(const struct lint_space *s, int64_t **times, size_t *n)
{
	*times = NULL;
	*n = 0;
	if (!s->nwin) {
		if (!(*times = calloc(1, sizeof(int64_t))))
			return -ENOMEM;
		*n = 1;
		return 0;
	}
	int64_t from = 0, to = INT64_MAX;
	for (size_t i = 0; i < s->ninputs; i++) {
		const struct policy *p = s->in[i].p;
		from = p->now > from ? p->now : from;
		int64_t h = p->now + (int64_t)LINT_WINDOW_HORIZON_DAYS * 86400;
		to = h < to ? h : to;
		for (size_t k = 0; k < p->nrules; k++)
			if (!p->rules[k].expired && p->rules[k].expires_at &&
			    p->rules[k].expires_at < to)
				to = p->rules[k].expires_at;
	}
	if (to <= from)
		to = from + 1;
	/* Every instant where some window opens or closes. */
	int64_t *cut = NULL;
	size_t nc = 0, cap = 0;
	int rc = 0;
	for (size_t w = 0; w <= s->nwin && rc == 0; w++) {
		struct tw_interval *iv = NULL;
		long m = 0;
		if (w < s->nwin) {
			m = tw_intervals(&s->win[w].w, from, to, NULL, 0);
			if (m < 0) {
				rc = (int)m;
				break;
			}
			if (!(iv = calloc((size_t)m + 1, sizeof(*iv)))) {
				rc = -ENOMEM;
				break;
			}
			m = tw_intervals(&s->win[w].w, from, to, iv, (size_t)m);
		}
		size_t need = nc + 2 * (size_t)(m > 0 ? m : 0) + 1;
		if (need > cap) {
			int64_t *v = realloc(cut, 2 * need * sizeof(*v));
			if (!v) {
				free(iv);
				rc = -ENOMEM;
				break;
			}
			cut = v;
			cap = 2 * need;
		}
		if (w == s->nwin)
			cut[nc++] = from;
		for (long k = 0; k < m; k++) {
			cut[nc++] = iv[k].first;
			if (iv[k].last + 1 < to)
				cut[nc++] = iv[k].last + 1;
		}
		free(iv);
	}
	if (rc == 0 && nc > 1)
		qsort(cut, nc, sizeof(*cut), i64_cmp);
	unsigned char *seen = NULL;
	size_t nseen = 0;
	if (rc == 0 && !(seen = calloc((nc + 1) * s->nwin, 1)))
		rc = -ENOMEM;
	for (size_t i = 0; i < nc && rc == 0; i++) {
		if (i && cut[i] == cut[i - 1])
			continue;
		unsigned char *v = &seen[nseen * s->nwin];
		for (size_t w = 0; w < s->nwin; w++)
			v[w] = tw_contains(&s->win[w].w, cut[i]);
		bool dup = false;
		for (size_t k = 0; k < nseen && !dup; k++)
			dup = memcmp(&seen[k * s->nwin], v, s->nwin) == 0;
		if (dup)
			continue;
		cut[nseen++] = cut[i];
	}
	free(seen);
	if (rc < 0) {
		free(cut);
		return rc;
	}
	*times = cut;
	*n = nseen;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Models: a gateway's rule list */

struct mrule {
	int idx;
	const struct pol_rule *r;
	bool *from, *to; /* per endpoint */
	struct lint_ivset svc[NFAM];
	const struct tw_window *win; /* its time window, or NULL */
	bool on;		     /* in the model's time (lint_model_set_time) */
};

struct lint_model {
	const struct lint_space *s;
	struct mrule *v;
	size_t n;
	struct lint_ivset uni[NFAM];
	bool input;   /* the input chain's gateway services (lint_model_new_input) */
	size_t which; /* the input */
};

/* Which endpoints a rule side (or an assertion's) holds. */
static void side_set(const struct lint_space *s, const struct input *in, const struct pol_rside *sd,
		     bool *out)
{
	size_t nz = s->names.nzones;
	for (size_t e = 0; e < s->ne; e++)
		out[e] = sd->any;
	for (size_t i = 0; i < sd->nzones; i++) {
		if (in->p->zones[sd->zones[i]].kind == POL_ZONE_DC) {
			/* The dc pseudo-zone is an overlay: every zone's data-centre part. */
			for (size_t e = 0; e < s->ne; e++)
				out[e] |= ep_dc(s, (int)e);
			continue;
		}
		int z = in->zmap[sd->zones[i]];
		out[2 * (size_t)z] = out[2 * (size_t)z + 1] = true;
		for (size_t k = 0; k < s->nxc; k++)
			out[2 * nz + k] |= s->xc[k].zone == z;
	}
	for (size_t i = 0; i < sd->nterms; i++) {
		int bit = in->tbit[sd->terms[i]];
		for (size_t k = 0; k < s->nxc; k++)
			out[2 * nz + k] |= ep_bit(s, 2 * nz + k, bit);
	}
}

void lint_model_free(struct lint_model *m)
{
	if (!m)
		return;
	for (size_t k = 0; k < m->n; k++) {
		free(m->v[k].from);
		free(m->v[k].to);
		for (int f = 0; f < NFAM; f++)
			lint_ivset_free(&m->v[k].svc[f]);
	}
	for (int f = 0; f < NFAM; f++)
		lint_ivset_free(&m->uni[f]);
	free(m->v);
	free(m);
}

/* The services of a rule or an assertion, as points of each family's line. */
static int services_of(const struct policy *p, bool any, const int *sv, size_t n,
		       const struct lint_ivset *uni, struct lint_ivset *out)
{
	struct pol_match svc = {0};
	int rc = 0;
	svc.any = any;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = pol_match_merge(&svc, &p->services[sv[i]].match);
	for (int f = 0; f < NFAM && rc == 0; f++) {
		rc = match_set(&svc, fam_of[f], &out[f]);
		if (rc == 0)
			rc = lint_ivset_inter(&out[f], &uni[f], &out[f]);
	}
	pol_match_free(&svc);
	return rc;
}

static int add_mrule(struct lint_model *m, const struct input *in, size_t idx)
{
	const struct lint_space *s = m->s;
	const struct policy *p = in->p;
	const struct pol_rule *r = &p->rules[idx];
	struct mrule *k = &m->v[m->n++];
	k->idx = (int)idx;
	k->r = r;
	k->on = true;
	for (size_t w = 0; w < s->nwin; w++)
		if (s->in + s->win[w].input == in && s->win[w].rule == (int)idx)
			k->win = &s->win[w].w;
	k->from = calloc(s->ne + 1, sizeof(bool));
	k->to = calloc(s->ne + 1, sizeof(bool));
	if (!k->from || !k->to)
		return -ENOMEM;
	side_set(s, in, &r->from, k->from);
	side_set(s, in, &r->to, k->to);
	return services_of(p, r->svc_any, r->services, r->nservices, m->uni, k->svc);
}

/*
 * The forward rules of a view: exceptions of the site, then the city-wide
 * rules (pol_build_gateway). A rule that pol_build_gateway leaves out where
 * neither of its sides can be local would match nothing the gateway judges,
 * so every view takes all of them. Gateway services are the input chain's
 * (gateway_model): their forward rule to the gateways offering them concerns
 * only the gateways' own addresses, which make no atom.
 */
/* A model of input which at site: its forward rules, or its input chain's gateway services. */
static int model_build(const struct lint_space *s, size_t which, int site, bool input,
		       struct lint_model **out)
{
	const struct input *in = &s->in[which];
	const struct policy *p = in->p;
	struct lint_model *m = calloc(1, sizeof(*m));
	int rc = -ENOMEM;
	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->s = s;
	m->input = input;
	m->which = which;
	if (!(m->v = calloc(p->nrules + 1, sizeof(*m->v))))
		goto out;
	for (int f = 0; f < NFAM; f++)
		if ((rc = universe(fam_of[f], &m->uni[f])) < 0)
			goto out;
	/* Forward: the site's exceptions, then the city-wide rules. Input: the gateway
	 * services the site's gateway offers, in policy order. */
	for (int pass = 0; pass < 2 && rc == 0; pass++)
		for (size_t i = 0; i < p->nrules && rc == 0; i++) {
			const struct pol_rule *r = &p->rules[i];
			bool take =
			    input ? pass == 1 && site >= 0 && pol_build_offers(in->b, (int)i, site)
				  : !r->expired && !r->gateway &&
					r->site == (pass == 0 ? site : -1) &&
					!(pass == 0 && site < 0);
			if (take)
				rc = add_mrule(m, in, i);
		}
out:
	if (rc < 0)
		lint_model_free(m);
	else
		*out = m;
	return rc;
}

int lint_model_new(const struct lint_space *s, size_t which, int site, struct lint_model **out)
{
	return model_build(s, which, site, false, out);
}

void lint_model_set_time(struct lint_model *m, int64_t t)
{
	for (size_t k = 0; k < m->n; k++)
		m->v[k].on = !m->v[k].win || t == 0 || tw_contains(m->v[k].win, t);
}

size_t lint_model_nrules(const struct lint_model *m)
{
	return m->n;
}

int lint_model_rule(const struct lint_model *m, size_t k)
{
	return k < m->n ? m->v[k].idx : -1;
}

/* Does rule k match the atom's addresses and scope (pol_rule_matches)? */
static bool mrule_hits(const struct lint_space *s, const struct mrule *k, int from, int to,
		       enum lint_rel rel)
{
	if (!k->from[from] || !k->to[to])
		return false;
	switch (k->r->scope) {
	case POL_SCOPE_ANY:
		return true;
	case POL_SCOPE_SAME_SITE:
		return rel == LINT_REL_SITE;
	case POL_SCOPE_SAME_DISTRICT:
		return rel == LINT_REL_SITE || rel == LINT_REL_DISTRICT;
	case POL_SCOPE_DC_ONLY:
		return ep_dc(s, to);
	case POL_SCOPE_COUNT:
		break;
	}
	return false;
}

/*
 * lint_model_decide over the rules alive (all when alive is NULL) and on.
 * transparent: a windowed rule takes its part but leaves it to the later
 * rules too, as when its window is shut: every rule then gets the most it
 * can ever decide (lint's findings must hold at every time).
 */
static int model_decide(const struct lint_model *m, size_t atom, const bool *alive,
			bool transparent, struct lint_ivset *parts, struct lint_ivset *rest)
{
	uint8_t fam;
	int from, to;
	enum lint_rel rel;
	lint_atom_parts(m->s, atom, &fam, &from, &to, &rel);
	int f = fam == 4 ? 0 : 1;
	int rc = iv_copy(rest, &m->uni[f]);
	for (size_t k = 0; k < m->n && rc == 0; k++) {
		const struct mrule *r = &m->v[k];
		parts[k].n = 0;
		if (!rest->n || (alive && !alive[k]) || !r->on ||
		    !mrule_hits(m->s, r, from, to, rel))
			continue;
		rc = lint_ivset_inter(rest, &r->svc[f], &parts[k]);
		if (rc == 0 && parts[k].n && !(transparent && r->win))
			rc = lint_ivset_minus(rest, &r->svc[f], rest);
	}
	return rc;
}

int lint_model_decide(const struct lint_model *m, size_t atom, struct lint_ivset *parts,
		      struct lint_ivset *rest)
{
	return model_decide(m, atom, NULL, false, parts, rest);
}

int lint_model_verdict(const struct lint_model *m, size_t atom, uint32_t point)
{
	uint8_t fam;
	int from, to;
	enum lint_rel rel;
	lint_atom_parts(m->s, atom, &fam, &from, &to, &rel);
	int f = fam == 4 ? 0 : 1;
	if (!lint_ivset_contains(&m->uni[f], point))
		return -2;
	for (size_t k = 0; k < m->n; k++)
		if (m->v[k].on && mrule_hits(m->s, &m->v[k], from, to, rel) &&
		    lint_ivset_contains(&m->v[k].svc[f], point))
			return (int)k;
	return -1;
}

/* ------------------------------------------------------------------ */
/* The input chain: what reaches a gateway itself */

int lint_model_new_input(const struct lint_space *s, size_t which, int site,
			 struct lint_model **out)
{
	return model_build(s, which, site, true, out);
}

bool lint_model_management(const struct lint_model *m, int from)
{
	const struct input *in = &m->s->in[m->which];
	int z = lint_endpoint_zone(&m->s->names, from);
	for (size_t i = 0; i < in->p->nmanagement; i++)
		if (in->zmap[in->p->management[i]] == z)
			return true;
	return false;
}

int lint_model_decide_input(const struct lint_model *m, uint8_t family, int from,
			    struct lint_ivset *parts, struct lint_ivset *rest)
{
	int f = family == 4 ? 0 : 1;
	int rc = iv_copy(rest, &m->uni[f]);
	for (size_t k = 0; k < m->n && rc == 0; k++) {
		const struct mrule *r = &m->v[k];
		parts[k].n = 0;
		if (!rest->n || !r->on || !r->from[from])
			continue;
		rc = lint_ivset_inter(rest, &r->svc[f], &parts[k]);
		if (rc == 0 && parts[k].n)
			rc = lint_ivset_minus(rest, &r->svc[f], rest);
	}
	return rc;
}

bool lint_model_same_rules(const struct lint_model *a, const struct lint_model *b)
{
	if (a->n != b->n)
		return false;
	for (size_t k = 0; k < a->n; k++)
		if (a->v[k].idx != b->v[k].idx)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Boxes */

void lint_box_free(struct lint_box *b)
{
	free(b->from);
	free(b->to);
	lint_ivset_free(&b->svc);
	memset(b, 0, sizeof(*b));
}

int lint_box_atom(const struct lint_space *s, size_t atom, const struct lint_ivset *svc,
		  struct lint_box *out)
{
	uint8_t fam;
	int from, to;
	enum lint_rel rel;
	memset(out, 0, sizeof(*out));
	lint_atom_parts(s, atom, &fam, &from, &to, &rel);
	out->fams = fam == 4 ? 1u : 2u;
	out->rels = 1u << rel;
	out->from = calloc(s->ne + 1, sizeof(bool));
	out->to = calloc(s->ne + 1, sizeof(bool));
	/*
	 * Both families' invalid ICMP points join every box: never decided, they
	 * cost nothing, and with them IPv4 and IPv6 boxes of the same services
	 * compare equal. The other family's invalid ICMP types are points of a
	 * protocol matched whole, present only when all of it is.
	 */
	if (!out->from || !out->to || iv_copy(&out->svc, svc) < 0 ||
	    lint_ivset_add_fixed(&out->svc, 4) < 0 || lint_ivset_add_fixed(&out->svc, 6) < 0) {
		lint_box_free(out);
		return -ENOMEM;
	}
	out->from[from] = out->to[to] = true;
	return 0;
}

bool lint_box_contains(const struct lint_box *b, const struct lint_point *pt)
{
	uint32_t x = pt->svc, off;
	unsigned p = point_proto(x, &off);
	if (!((b->fams & (pt->family == 4 ? 1u : 2u)) && (b->rels & (1u << pt->rel)) &&
	      pt->from >= 0 && pt->to >= 0 && b->from[pt->from] && b->to[pt->to]))
		return false;
	/* The other family's ICMP protocol is matched whole (svc_matches): the box holds
	 * it only when it holds every type of it. */
	if ((pt->family == 4 && p == IPPROTO_ICMPV6) || (pt->family == 6 && p == IPPROTO_ICMP)) {
		for (uint32_t t = 0; t < 256; t++)
			if (!lint_ivset_contains(&b->svc, off + t))
				return false;
		return true;
	}
	return !lint_svc_is_fixed(pt->family, x) && lint_ivset_contains(&b->svc, x);
}

/* How many of the five dimensions differ (stops counting at 2). */
static int box_diffs(const struct lint_box *a, const struct lint_box *b, size_t ne, int *which)
{
	int d = 0;
	if (a->fams != b->fams && (*which = 0, ++d > 1))
		return d;
	if (a->rels != b->rels && (*which = 1, ++d > 1))
		return d;
	if (memcmp(a->from, b->from, ne) != 0 && (*which = 2, ++d > 1))
		return d;
	if (memcmp(a->to, b->to, ne) != 0 && (*which = 3, ++d > 1))
		return d;
	if (!lint_ivset_equal(&a->svc, &b->svc) && (*which = 4, ++d > 1))
		return d;
	return d;
}

static uint64_t bytes_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* A hash of each of the five dimensions: boxes whose hashes differ in two differ in two. */
static void box_hash(const struct lint_box *b, size_t ne, uint64_t h[5])
{
	h[0] = b->fams;
	h[1] = b->rels;
	h[2] = bytes_hash(b->from, ne);
	h[3] = bytes_hash(b->to, ne);
	h[4] = bytes_hash(b->svc.v, b->svc.n * sizeof(*b->svc.v));
}

int lint_boxes_merge(struct lint_box *v, size_t *n, size_t ne)
{
	uint64_t(*h)[5] = malloc((*n + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		box_hash(&v[i], ne, h[i]);
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < *n; i++) {
			for (size_t j = i + 1; j < *n;) {
				int which = -1, dh = 0;
				for (int k = 0; k < 5 && dh < 2; k++)
					dh += h[i][k] != h[j][k];
				if (dh > 1 || box_diffs(&v[i], &v[j], ne, &which) > 1) {
					j++;
					continue;
				}
				/* A product box and one differing in a single dimension: union that
				 * one. */
				if (which == 0)
					v[i].fams |= v[j].fams;
				else if (which == 1)
					v[i].rels |= v[j].rels;
				else if (which == 2 || which == 3)
					for (size_t e = 0; e < ne; e++) {
						v[i].from[e] |= v[j].from[e];
						v[i].to[e] |= v[j].to[e];
					}
				else if (which == 4 &&
					 lint_ivset_union(&v[i].svc, &v[j].svc, &v[i].svc) < 0) {
					free(h);
					return -ENOMEM;
				}
				lint_box_free(&v[j]);
				v[j] = v[--*n];
				memcpy(h[j], h[*n], sizeof(h[j]));
				box_hash(&v[i], ne, h[i]);
				changed = true;
			}
		}
	}
	free(h);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rendering */

struct sbuf {
	char *s;
	size_t n, cap;
	bool bad;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || b->bad) {
		b->bad = true;
		return;
	}
	if (b->n + (size_t)len + 1 > b->cap) {
		size_t cap = (b->n + (size_t)len + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->bad = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)len;
}

static char *sb_take(struct sbuf *b)
{
	if (b->bad) {
		free(b->s);
		return NULL;
	}
	return b->s ? b->s : strdup("");
}

/* The plain endpoint's name: "zone", "zone[dc]" or "zone[non-dc]" when the zone has both. */
static void plain_name(const struct lint_names *n, size_t e, char *buf, size_t size)
{
	size_t z = e / 2;
	if (n->seen[2 * z] && n->seen[2 * z + 1])
		snprintf(buf, size, "%s[%s]", n->zones[z], (e & 1) ? "dc" : "non-dc");
	else
		snprintf(buf, size, "%s", n->zones[z]);
}

char *lint_endpoint_text(const struct lint_names *n, int e)
{
	char buf[256];
	if ((size_t)e >= 2 * n->nzones)
		return strdup(n->classes[(size_t)e - 2 * n->nzones].label);
	if (n->plain && n->plain[e])
		return strdup(n->plain[e]);
	plain_name(n, (size_t)e, buf, sizeof(buf));
	return strdup(buf);
}

static void name_out(json_t *a, struct sbuf *b, size_t *k, const char *name)
{
	if (a)
		json_array_append_new(a, json_string(name));
	if (b)
		sb_add(b, "%s%s", (*k)++ ? "," : "", name);
}

/*
 * The endpoints of one side as names. Appends to a (JSON) or b (text). A
 * zone whose every endpoint is in the set is named alone; so is its
 * data-centre part or the rest when the zone has classes in no term.
 */
static void endpoint_names(const struct lint_names *n, const bool *set, json_t *a, struct sbuf *b)
{
	size_t nz = n->nzones, ne = n->ne, k = 0;
	bool all = true;
	for (size_t e = 0; e < ne; e++)
		all &= set[e] || !n->seen[e];
	if (all) {
		name_out(a, b, &k, "any");
		return;
	}
	for (size_t z = 0; z < nz; z++) {
		/* [0]: non-dc, [1]: dc: some in the set, every seen one in the set. */
		bool some[2] = {set[2 * z], set[2 * z + 1]};
		bool every[2] = {set[2 * z] || !n->seen[2 * z],
				 set[2 * z + 1] || !n->seen[2 * z + 1]};
		bool seen[2] = {n->seen[2 * z], n->seen[2 * z + 1]}, cls = false;
		for (size_t e = 2 * nz; e < ne; e++) {
			const struct lint_class *c = &n->classes[e - 2 * nz];
			if ((size_t)c->zone != z)
				continue;
			cls = true;
			some[c->dc] |= set[e];
			every[c->dc] &= set[e] || !n->seen[e];
			seen[c->dc] |= n->seen[e];
		}
		if (!some[0] && !some[1])
			continue;
		char name[256];
		if (every[0] && every[1]) {
			snprintf(name, sizeof(name), "%s", n->zones[z]);
			name_out(a, b, &k, name);
			continue;
		}
		if (!cls) {
			snprintf(name, sizeof(name), "%s[%s]", n->zones[z],
				 some[1] ? "dc" : "non-dc");
			name_out(a, b, &k, name);
			continue;
		}
		for (int d = 0; d < 2; d++) {
			if (!some[d])
				continue;
			if (every[d] && seen[!d]) {
				snprintf(name, sizeof(name), "%s[%s]", n->zones[z],
					 d ? "dc" : "non-dc");
				name_out(a, b, &k, name);
				continue;
			}
			if (set[2 * z + (size_t)d] && n->seen[2 * z + (size_t)d]) {
				char *t = lint_endpoint_text(n, (int)(2 * z) + d);
				name_out(a, b, &k, t ? t : "?");
				free(t);
			}
			for (size_t e = 2 * nz; e < ne; e++) {
				const struct lint_class *c = &n->classes[e - 2 * nz];
				if ((size_t)c->zone == z && c->dc == (d == 1) && set[e] &&
				    n->seen[e])
					name_out(a, b, &k, c->label);
			}
		}
	}
}

static void proto_text(unsigned p, char *buf, size_t size)
{
	const char *nm = proto_name((uint8_t)p);
	if (nm)
		snprintf(buf, size, "%s", nm);
	else
		snprintf(buf, size, "%u", p);
}

/* The services as "tcp/80", "udp/10000-20000", "icmp/echo-request", "gre" or "any". */
static void service_names(const struct lint_ivset *svc, json_t *a, struct sbuf *b)
{
	struct lint_ivset care = {0}, dont = {0}, whole = {0};
	size_t k = 0;
	bool ok = true;
	for (int f = 0; f < NFAM && ok; f++)
		ok = lint_ivset_add_fixed(&dont, fam_of[f]) == 0;
	ok = ok && lint_ivset_union(svc, &dont, &whole) == 0;
	ok = ok && lint_ivset_minus(svc, &dont, &care) == 0;
	if (!ok)
		goto out;
	if (whole.n == 1 && whole.v[0].lo == 0 && whole.v[0].hi == line_end()) {
		if (a)
			json_array_append_new(a, json_string("any"));
		if (b)
			sb_add(b, "any");
		goto out;
	}
	for (unsigned p = 0; p < 256; p++) {
		uint32_t off = proto_off(p), sz = proto_size(p);
		struct lint_ivset one = {0}, pw = {0}, part = {0};
		char name[160], pn[32];
		proto_text(p, pn, sizeof(pn));
		bool have = false;
		if (iv_push(&one, off, off + sz - 1) < 0 ||
		    lint_ivset_inter(&whole, &one, &pw) < 0 ||
		    lint_ivset_inter(&care, &one, &part) < 0) {
			lint_ivset_free(&one);
			lint_ivset_free(&pw);
			lint_ivset_free(&part);
			break;
		}
		if (pw.n == 1 && pw.v[0].lo == off && pw.v[0].hi == off + sz - 1 && part.n) {
			snprintf(name, sizeof(name), "%s", pn);
			have = true;
		}
		for (size_t i = 0; i < part.n; i++) {
			unsigned lo = part.v[i].lo - off, hi = part.v[i].hi - off;
			const char *tn =
			    is_icmp_proto(p) && lo == hi
				? proto_icmp_name(p == IPPROTO_ICMP ? 4 : 6, (uint8_t)lo)
				: NULL;
			if (have)
				break;
			if (tn)
				snprintf(name, sizeof(name), "%s/%s", pn, tn);
			else if (lo == hi)
				snprintf(name, sizeof(name), "%s/%u", pn, lo);
			else
				snprintf(name, sizeof(name), "%s/%u-%u", pn, lo, hi);
			if (a)
				json_array_append_new(a, json_string(name));
			if (b)
				sb_add(b, "%s%s", k ? "," : "", name);
			k++;
		}
		if (have) {
			if (a)
				json_array_append_new(a, json_string(name));
			if (b)
				sb_add(b, "%s%s", k ? "," : "", name);
			k++;
		}
		lint_ivset_free(&one);
		lint_ivset_free(&pw);
		lint_ivset_free(&part);
	}
out:
	lint_ivset_free(&care);
	lint_ivset_free(&dont);
	lint_ivset_free(&whole);
}

static const char *fam_text(unsigned fams)
{
	return fams == 1 ? "ipv4" : fams == 2 ? "ipv6" : "any";
}

json_t *lint_box_json(const struct lint_names *n, const struct lint_box *b)
{
	json_t *o = json_object(), *from = json_array(), *to = json_array(), *rel = json_array(),
	       *svc = json_array();
	if (!o || !from || !to || !rel || !svc) {
		json_decref(o);
		json_decref(from);
		json_decref(to);
		json_decref(rel);
		json_decref(svc);
		return NULL;
	}
	endpoint_names(n, b->from, from, NULL);
	endpoint_names(n, b->to, to, NULL);
	for (int r = 0; r < LINT_REL_COUNT; r++)
		if (b->rels & (1u << r))
			json_array_append_new(rel, json_string(lint_rel_names[r]));
	service_names(&b->svc, svc, NULL);
	json_object_set_new(o, "family", json_string(fam_text(b->fams)));
	json_object_set_new(o, "from", from);
	json_object_set_new(o, "to", to);
	json_object_set_new(o, "relation", rel);
	json_object_set_new(o, "services", svc);
	return o;
}

char *lint_box_text(const struct lint_names *n, const struct lint_box *b)
{
	struct sbuf sb = {0};
	if (b->fams != 3)
		sb_add(&sb, "%s ", fam_text(b->fams));
	endpoint_names(n, b->from, NULL, &sb);
	sb_add(&sb, " -> ");
	endpoint_names(n, b->to, NULL, &sb);
	sb_add(&sb, " ");
	service_names(&b->svc, NULL, &sb);
	if (b->rels != (1u << LINT_REL_COUNT) - 1) {
		sb_add(&sb, " (");
		for (int r = 0, k = 0; r < LINT_REL_COUNT; r++)
			if (b->rels & (1u << r))
				sb_add(&sb, "%s%s", k++ ? ", " : "", lint_rel_names[r]);
		sb_add(&sb, ")");
	}
	return sb_take(&sb);
}

json_t *lint_endpoints_json(const struct lint_names *n, const bool *set)
{
	json_t *a = json_array();
	if (a)
		endpoint_names(n, set, a, NULL);
	return a;
}

char *lint_endpoints_text(const struct lint_names *n, const bool *set)
{
	struct sbuf sb = {0};
	endpoint_names(n, set, NULL, &sb);
	return sb_take(&sb);
}

json_t *lint_services_json(const struct lint_ivset *svc)
{
	json_t *a = json_array();
	if (a)
		service_names(svc, a, NULL);
	return a;
}

char *lint_services_text(const struct lint_ivset *svc)
{
	struct sbuf sb = {0};
	service_names(svc, NULL, &sb);
	return sb_take(&sb);
}

/* ------------------------------------------------------------------ */
/* Lint */

struct boxlist {
	struct lint_box *v;
	size_t n, cap;
};

static int boxlist_add(struct boxlist *l, const struct lint_space *s, size_t atom,
		       const struct lint_ivset *svc)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct lint_box *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	int rc = lint_box_atom(s, atom, svc, &l->v[l->n]);
	if (rc == 0)
		l->n++;
	return rc;
}

static void boxlist_free(struct boxlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		lint_box_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* What one view's analysis found out about each of its rules. */
struct acc {
	size_t nr;
	bool *matched, *decided, *not_red, *by_default;
	bool *cover_fail, *contrib, *takers; /* [k * nr + j] */
	struct boxlist *ovl;		     /* [k * nr + j]: j earlier, opposite action */
};

static void acc_free(struct acc *a)
{
	free(a->matched);
	free(a->decided);
	free(a->not_red);
	free(a->by_default);
	free(a->cover_fail);
	free(a->contrib);
	free(a->takers);
	for (size_t i = 0; a->ovl && i < a->nr * a->nr; i++)
		boxlist_free(&a->ovl[i]);
	free(a->ovl);
}

static int acc_init(struct acc *a, size_t nr)
{
	memset(a, 0, sizeof(*a));
	a->nr = nr;
	size_t n1 = nr + 1, n2 = nr * nr + 1;
	a->matched = calloc(n1, 1);
	a->decided = calloc(n1, 1);
	a->not_red = calloc(n1, 1);
	a->by_default = calloc(n1, 1);
	a->cover_fail = calloc(n2, 1);
	a->contrib = calloc(n2, 1);
	a->takers = calloc(n2, 1);
	a->ovl = calloc(n2, sizeof(*a->ovl));
	if (!a->matched || !a->decided || !a->not_red || !a->by_default || !a->cover_fail ||
	    !a->contrib || !a->takers || !a->ovl) {
		acc_free(a);
		return -ENOMEM;
	}
	return 0;
}

static bool opposite(enum pol_action a, enum pol_action b)
{
	return (a == POL_ACCEPT) != (b == POL_ACCEPT);
}

static bool limit_equal(const struct pol_limit *a, const struct pol_limit *b)
{
	return a->rate == b->rate &&
	       (!a->rate || (strcmp(a->unit, b->unit) == 0 && a->burst == b->burst &&
			     a->per_source == b->per_source));
}

/*
 * The redundancy walk for rule k inside one atom: who decides its packets
 * without it. A later rule with a time window is shut at some times: it
 * takes nothing for sure, and one with another action that could take a
 * part makes k needed. A taker must limit as k does (a limit is part of
 * what an accept does).
 */
static int redundancy(const struct lint_model *m, const struct policy *p, struct acc *a, size_t k,
		      const bool *hit, int f, const struct lint_ivset *part)
{
	size_t nr = a->nr;
	const struct pol_rule *rk = m->v[k].r;
	struct lint_ivset x = {0};
	int rc = iv_copy(&x, part);
	for (size_t l = k + 1; l < nr && rc == 0 && x.n && !a->not_red[k]; l++) {
		if (!hit[l] || !iv_meets(&x, &m->v[l].svc[f]))
			continue;
		const struct pol_rule *rl = m->v[l].r;
		if (rl->action != rk->action || !limit_equal(&rl->limit, &rk->limit))
			a->not_red[k] = true;
		else if (m->v[l].win)
			continue;
		else
			a->takers[k * nr + l] = true;
		rc = lint_ivset_minus(&x, &m->v[l].svc[f], &x);
	}
	/* Left to the default drop: the same only for a drop whose logging is not lost. */
	if (rc == 0 && x.n && !a->not_red[k]) {
		if (rk->action == POL_DROP && !rk->limit.rate && (!rk->log || p->log_denied))
			a->by_default[k] = true;
		else
			a->not_red[k] = true;
	}
	lint_ivset_free(&x);
	return rc;
}

/*
 * One pass over the atoms of a view, with the rules alive (all when alive is
 * NULL; the others are taken out of the list). Overlap boxes are collected
 * only when boxes is set; natoms, when not NULL, counts the atoms.
 */
static int analyse(const struct lint_space *s, const struct lint_model *m, const bool *real,
		   const struct policy *p, const bool *alive, bool boxes, struct acc *a,
		   size_t *natoms)
{
	size_t nr = m->n;
	struct lint_ivset *parts = calloc(nr + 1, sizeof(*parts)), rest = {0}, o = {0};
	bool *hit = calloc(nr + 1, 1);
	int rc = -ENOMEM;
	if (!parts || !hit)
		goto out;
	rc = 0;
	for (size_t at = 0; at < s->natoms && rc == 0; at++) {
		if (!real[at])
			continue;
		if (natoms)
			(*natoms)++;
		uint8_t fam;
		int from, to;
		enum lint_rel rel;
		lint_atom_parts(s, at, &fam, &from, &to, &rel);
		int f = fam == 4 ? 0 : 1;
		if ((rc = model_decide(m, at, alive, true, parts, &rest)) < 0)
			break;
		for (size_t k = 0; k < nr; k++)
			hit[k] = (!alive || alive[k]) && m->v[k].svc[f].n &&
				 mrule_hits(s, &m->v[k], from, to, rel);
		for (size_t k = 0; k < nr && rc == 0; k++) {
			if (!hit[k])
				continue;
			const struct lint_ivset *mk = &m->v[k].svc[f];
			a->matched[k] = true;
			a->decided[k] |= parts[k].n > 0;
			for (size_t j = 0; j < k && rc == 0; j++) {
				/* A windowed rule covers nothing for sure: it is shut at times. */
				if (!hit[j] || m->v[j].win || !iv_subset(mk, &m->v[j].svc[f]))
					a->cover_fail[k * nr + j] = true;
				if (!parts[j].n || !iv_meets(&parts[j], mk))
					continue;
				a->contrib[k * nr + j] |= !m->v[j].win;
				if (!boxes || !opposite(m->v[j].r->action, m->v[k].r->action))
					continue;
				rc = lint_ivset_inter(&parts[j], mk, &o);
				if (rc == 0)
					rc = boxlist_add(&a->ovl[k * nr + j], s, at, &o);
			}
			if (rc == 0 && parts[k].n)
				rc = redundancy(m, p, a, k, hit, f, &parts[k]);
		}
	}
out:
	for (size_t k = 0; parts && k < nr; k++)
		lint_ivset_free(&parts[k]);
	free(parts);
	free(hit);
	lint_ivset_free(&rest);
	lint_ivset_free(&o);
	return rc;
}

struct linter {
	const struct policy *p;
	const struct inventory *inv;
	const struct lint_space *s;
	struct diag_list *dl;
	struct lint_report *r;
	const char *file; /* the file findings point into, when not the policy (sites.csv) */
};

static int add_finding(struct linter *L, enum lint_kind kind, enum diag_severity sev, unsigned line,
		       unsigned col, int rule, int zone, int site, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

static int add_finding(struct linter *L, enum lint_kind kind, enum diag_severity sev, unsigned line,
		       unsigned col, int rule, int zone, int site, const char *fmt, ...)
{
	struct lint_report *r = L->r;
	struct lint_finding *v = realloc(r->v, (r->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->v = v;
	struct lint_finding *f = &v[r->n];
	memset(f, 0, sizeof(*f));
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&f->msg, fmt, ap);
	va_end(ap);
	if (len < 0) {
		f->msg = NULL;
		return -ENOMEM;
	}
	f->kind = kind;
	f->severity = sev;
	f->line = line;
	f->col = col;
	f->rule = rule;
	f->zone = zone;
	f->service = -1;
	f->site = site;
	f->assertion = f->object = f->group = -1;
	if (L->file && !(f->file = strdup(L->file))) {
		free(f->msg);
		return -ENOMEM;
	}
	r->n++;
	diag_add(L->dl, sev, L->file ? L->file : L->p->file, line, col, "%s", f->msg);
	return 0;
}

/* Names the rules as "'a', 'b' and 'c'". */
static char *rule_list(const struct policy *p, const int *v, size_t n)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++)
		sb_add(&b, "%s'%s'", i == 0 ? "" : i + 1 == n ? " and " : ", ", p->rules[v[i]].id);
	return sb_take(&b);
}

/* The rules marked in row, named; *count gets their number. */
static char *row_names(const struct policy *p, const struct lint_model *m, const bool *row,
		       size_t nr, size_t *count)
{
	int *idx = calloc(nr + 1, sizeof(int));
	size_t n = 0;
	if (!idx)
		return NULL;
	for (size_t j = 0; j < nr; j++)
		if (row[j])
			idx[n++] = m->v[j].idx;
	char *names = rule_list(p, idx, n);
	free(idx);
	if (count)
		*count = n;
	return names;
}

static int set_others(struct lint_finding *f, const struct lint_model *m, const bool *row,
		      size_t nr)
{
	f->others = calloc(nr + 1, sizeof(int));
	if (!f->others)
		return -ENOMEM;
	for (size_t j = 0; j < nr; j++)
		if (row[j])
			f->others[f->nothers++] = m->v[j].idx;
	return 0;
}

static char *view_prefix(const struct linter *L, int site)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s%s", site >= 0 ? "at site " : "",
		     site >= 0 ? L->inv->sites[site].id : "", site >= 0 ? ": " : "") < 0)
		return NULL;
	return s;
}

/*
 * alive: the rules no finding advises removing. A shadowed rule is named
 * shadowed by a single rule that covers it and stays (else one that at
 * least decides something), never by one that is itself to go.
 */
static int report_rule(struct linter *L, const struct lint_model *m, const struct acc *a, size_t k,
		       int site, const bool *alive)
{
	const struct policy *p = L->p;
	const struct pol_rule *rk = m->v[k].r;
	size_t nr = a->nr;
	bool *row = calloc(nr + 1, 1);
	char *names = NULL, *pre = view_prefix(L, site);
	int rc = -ENOMEM;
	if (!row || !pre)
		goto out;
	rc = 0;
	if (!a->matched[k]) {
		rc = add_finding(L, LINT_UNMATCHABLE, DIAG_WARNING, rk->line, rk->col, m->v[k].idx,
				 -1, site,
				 "%srule '%s' can never match: no gateway judges a packet between "
				 "its zones, in its scope, with its services",
				 pre, rk->id);
	} else if (!a->decided[k]) {
		int single = -1;
		for (int pass = 0; pass < 2 && single < 0; pass++)
			for (size_t j = 0; j < k && single < 0; j++)
				if (!a->cover_fail[k * nr + j] && a->decided[j] &&
				    (pass == 1 || alive[j]))
					single = (int)j;
		if (single >= 0) {
			row[single] = true;
			rc = add_finding(L, LINT_SHADOWED, DIAG_WARNING, rk->line, rk->col,
					 m->v[k].idx, -1, site,
					 "%srule '%s' is shadowed by rule '%s' (line %u): it never "
					 "decides anything",
					 pre, rk->id, m->v[single].r->id, m->v[single].r->line);
		} else {
			memcpy(row, &a->contrib[k * nr], nr);
			names = row_names(p, m, row, nr, NULL);
			rc = names
				 ? add_finding(L, LINT_SHADOWED, DIAG_WARNING, rk->line, rk->col,
					       m->v[k].idx, -1, site,
					       "%srule '%s' is shadowed by the union of rules %s "
					       "(no one of them alone): it never decides anything",
					       pre, rk->id, names)
				 : -ENOMEM;
		}
		if (rc == 0)
			rc = set_others(&L->r->v[L->r->n - 1], m, row, nr);
	} else if (!a->not_red[k]) {
		memcpy(row, &a->takers[k * nr], nr);
		size_t n = 0;
		names = row_names(p, m, row, nr, &n);
		if (!names) {
			rc = -ENOMEM;
			goto out;
		}
		if (n == 0)
			rc = add_finding(
			    L, LINT_REDUNDANT, DIAG_WARNING, rk->line, rk->col, m->v[k].idx, -1,
			    site,
			    "%srule '%s' is redundant: without it the default drop decides "
			    "the same",
			    pre, rk->id);
		else
			rc = add_finding(
			    L, LINT_REDUNDANT, DIAG_WARNING, rk->line, rk->col, m->v[k].idx, -1,
			    site,
			    "%srule '%s' is redundant: without it rule%s %s%s decide%s the "
			    "same (%s)",
			    pre, rk->id, n > 1 ? "s" : "", names,
			    a->by_default[k] ? " and the default drop" : "",
			    n == 1 && !a->by_default[k] ? "s" : "", pol_action_names[rk->action]);
		if (rc == 0)
			rc = set_others(&L->r->v[L->r->n - 1], m, row, nr);
	}
out:
	free(row);
	free(names);
	free(pre);
	return rc;
}

static int report_overlap(struct linter *L, const struct lint_model *m, struct acc *a, size_t k,
			  size_t j, int site)
{
	const struct pol_rule *rk = m->v[k].r, *rj = m->v[j].r;
	struct boxlist *bl = &a->ovl[k * a->nr + j];
	int rc = lint_boxes_merge(bl->v, &bl->n, L->s->ne);
	char *pre = view_prefix(L, site), *first = NULL;
	if (rc < 0 || !pre || !(first = lint_box_text(&L->s->names, &bl->v[0]))) {
		rc = -ENOMEM;
		goto out;
	}
	char more[48] = "";
	if (bl->n > 1)
		snprintf(more, sizeof(more), " (and %zu more)", bl->n - 1);
	bool override = rj->site >= 0 && rk->site < 0;
	/* A windowed rule decides only in its window: the finding says so. */
	char wj[160] = "", wk[160] = "";
	if (rj->when.set)
		snprintf(wj, sizeof(wj), ", when %s", rj->when.text);
	if (rk->when.set)
		snprintf(wk, sizeof(wk), ", when %s", rk->when.text);
	if (override)
		rc = add_finding(
		    L, LINT_OVERRIDE, DIAG_NOTE, rj->line, rj->col, m->v[j].idx, -1, site,
		    "%sexception '%s' (%s%s) overrides city-wide rule '%s' (%s%s) for %s%s", pre,
		    rj->id, pol_action_names[rj->action], wj, rk->id, pol_action_names[rk->action],
		    wk, first, more);
	else
		rc = add_finding(
		    L, LINT_OVERLAP, DIAG_WARNING, rk->line, rk->col, m->v[k].idx, -1, site,
		    "%srule '%s' (%s%s) overlaps the earlier rule '%s' (%s%s), which decides "
		    "%s%s",
		    pre, rk->id, pol_action_names[rk->action], wk, rj->id,
		    pol_action_names[rj->action], wj, first, more);
	if (rc == 0) {
		struct lint_finding *f = &L->r->v[L->r->n - 1];
		if (!(f->others = malloc(sizeof(int)))) {
			rc = -ENOMEM;
			goto out;
		}
		f->others[f->nothers++] = override ? m->v[k].idx : m->v[j].idx;
		f->boxes = bl->v;
		f->nboxes = bl->n;
		memset(bl, 0, sizeof(*bl));
	}
out:
	free(pre);
	free(first);
	return rc;
}

/*
 * Which rules can go together without changing a decision. Rules that decide
 * nothing go first: taking them out changes nothing. Then redundant rules
 * one at a time, in policy order, each judged without the ones already
 * taken out, so that two rules never each rely on the other (two identical
 * rules: the second is shadowed by the first, and the first is then not
 * redundant). Only the view's own rules are taken out (a site's view judges
 * its exceptions). a's redundancy results are replaced by the settled ones;
 * alive gets the rules that stay.
 */
static int settle_redundancy(const struct lint_space *s, const struct lint_model *m,
			     const bool *real, const struct policy *p, int site, struct acc *a,
			     bool *alive)
{
	size_t nr = m->n;
	bool dead = false;
	int rc = 0;
	for (size_t k = 0; k < nr; k++) {
		bool mine = (m->v[k].r->site >= 0) == (site >= 0);
		alive[k] = !mine || (a->matched[k] && a->decided[k]);
		dead |= !alive[k];
	}
	bool *red = calloc(nr + 1, 1);
	if (!red)
		return -ENOMEM;
	for (bool fresh = dead; rc == 0;) {
		struct acc b, *cur = a;
		if (fresh) {
			if ((rc = acc_init(&b, nr)) < 0)
				break;
			rc = analyse(s, m, real, p, alive, false, &b, NULL);
			cur = &b;
		}
		int pick = -1;
		for (size_t k = 0; k < nr && rc == 0 && pick < 0; k++)
			if (alive[k] && (m->v[k].r->site >= 0) == (site >= 0) && cur->decided[k] &&
			    !cur->not_red[k])
				pick = (int)k;
		if (pick >= 0 && cur != a) {
			memcpy(&a->takers[(size_t)pick * nr], &cur->takers[(size_t)pick * nr], nr);
			a->by_default[pick] = cur->by_default[pick];
		}
		if (cur != a)
			acc_free(&b);
		if (pick < 0)
			break;
		red[pick] = true;
		alive[pick] = false;
		fresh = true;
	}
	for (size_t k = 0; k < nr && rc == 0; k++)
		a->not_red[k] = !red[k];
	free(red);
	return rc;
}

static bool same_site(const char *site, void *ctx)
{
	return strcmp(site, ctx) == 0;
}

/*
 * Analyses the rule list of one view: the city-wide rules over every
 * gateway, or a site's exceptions and the city-wide rules over its gateway.
 */
static int lint_view(struct linter *L, int site)
{
	const struct lint_space *s = L->s;
	struct lint_model *m = NULL;
	struct acc a;
	bool *real = calloc(s->natoms + 1, 1), *alive = NULL;
	int rc = real ? lint_model_new(s, 0, site, &m) : -ENOMEM;
	if (rc < 0) {
		free(real);
		return rc;
	}
	if (!(alive = calloc(m->n + 1, 1))) {
		rc = -ENOMEM;
		goto out_model;
	}
	if ((rc = acc_init(&a, m->n)) < 0)
		goto out_model;
	if (site >= 0)
		lint_space_realise(s, 0, same_site, (void *)L->inv->sites[site].id, real);
	else
		lint_space_realise(s, 0, NULL, NULL, real);
	rc = analyse(s, m, real, L->p, NULL, true, &a, &L->r->atoms);
	L->r->views++;
	if (rc == 0)
		rc = settle_redundancy(s, m, real, L->p, site, &a, alive);
	for (size_t k = 0; k < m->n && rc == 0; k++) {
		bool mine = (m->v[k].r->site >= 0) == (site >= 0);
		if (mine)
			rc = report_rule(L, m, &a, k, site, alive);
		for (size_t j = 0; j < k && rc == 0; j++) {
			if (!a.ovl[k * a.nr + j].n || !a.decided[k])
				continue;
			/* The city view reports city rules; a site's view its exceptions. */
			if ((m->v[j].r->site >= 0) != (site >= 0))
				continue;
			rc = report_overlap(L, m, &a, k, j, site);
		}
	}
	acc_free(&a);
out_model:
	lint_model_free(m);
	free(alive);
	free(real);
	return rc;
}

/* Where the key name stands in the top-level mapping section (the top level itself when
 * section is NULL); 0:0 when nowhere. */
static void key_position(const struct ydoc *doc, const char *section, const char *name,
			 unsigned *line, unsigned *col)
{
	const struct ynode *root = doc ? ydoc_root(doc) : NULL;
	const struct ynode *m = root && ynode_kind(root) == YNODE_MAP
				    ? (section ? ynode_get(root, section) : root)
				    : NULL;
	*line = *col = 0;
	for (size_t i = 0; m && ynode_kind(m) == YNODE_MAP && i < ynode_len(m); i++) {
		const char *k = ynode_scalar(ynode_key(m, i));
		if (k && strcmp(k, name) == 0) {
			*line = ynode_line(ynode_key(m, i));
			*col = ynode_col(ynode_key(m, i));
			return;
		}
	}
}

static bool names_internet(const struct policy *p, const int *zs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p->zones[zs[i]].kind == POL_ZONE_INTERNET)
			return true;
	return false;
}

/* Findings about a rule as written: breadth and expiry. */
static int static_rule(struct linter *L, size_t i)
{
	const struct policy *p = L->p;
	const struct pol_rule *r = &p->rules[i];
	int ri = (int)i, rc = 0;
	bool acc = r->action == POL_ACCEPT && r->svc_any;
	if (acc && r->from.any && r->to.any)
		rc = add_finding(L, LINT_ANY_ANY, DIAG_WARNING, r->line, r->col, ri, -1, r->site,
				 "rule '%s' accepts every service from anywhere to anywhere%s%s",
				 r->id, r->scope != POL_SCOPE_ANY ? " (scope " : "",
				 r->scope != POL_SCOPE_ANY ? pol_scope_names[r->scope] : "");
	else if (acc && (r->from.any || r->to.any))
		rc = add_finding(L, LINT_BROAD, DIAG_WARNING, r->line, r->col, ri, -1, r->site,
				 "rule '%s' accepts every service %s any %s", r->id,
				 r->from.any ? "from" : "to",
				 r->from.any ? "source" : "destination");
	else if (acc && (names_internet(p, r->from.zones, r->from.nzones) ||
			 names_internet(p, r->to.zones, r->to.nzones)))
		rc = add_finding(L, LINT_INTERNET_ANY, DIAG_WARNING, r->line, r->col, ri, -1,
				 r->site, "rule '%s' accepts every service %s the internet", r->id,
				 names_internet(p, r->from.zones, r->from.nzones) ? "from" : "to");
	if (rc < 0 || !r->expires[0] || !r->expires_at)
		return rc;
	if (r->expired)
		return add_finding(L, LINT_EXPIRED, DIAG_WARNING, r->line, r->col, ri, -1, r->site,
				   "rule '%s' expired on %s (the date is %s): it is not compiled",
				   r->id, r->expires, p->date);
	/* Whole days left: a date ends at the next midnight, so on the date itself 0. */
	int64_t days = (r->expires_at - p->now - 1) / 86400;
	bool instant = strchr(r->expires, 'T') != NULL;
	if (days <= LINT_EXPIRY_WARN_DAYS)
		return add_finding(L, LINT_EXPIRING, DIAG_WARNING, r->line, r->col, ri, -1, r->site,
				   "rule '%s' expires %s %s, in %lld day%s", r->id,
				   instant ? "at" : "on", r->expires, (long long)days,
				   days == 1 ? "" : "s");
	return 0;
}

/* Words of a zone's name or description that mark hosts nobody vouches for. */
static const char *const untrusted_words[] = {"guest",	 "school", "pupil",
					      "student", "public", "visitor"};

static const char *untrusted_word(const struct pol_zone *z)
{
	for (size_t i = 0; i < sizeof(untrusted_words) / sizeof(untrusted_words[0]); i++)
		if (strcasestr(z->name, untrusted_words[i]) ||
		    (z->description && strcasestr(z->description, untrusted_words[i])))
			return untrusted_words[i];
	return NULL;
}

/*
 * The input chain: who reaches every gateway itself (the management zones,
 * before any other rule) and which gateways accept BGP from anyone.
 */
static int gateway_access(struct linter *L, const struct ydoc *doc)
{
	const struct policy *p = L->p;
	const struct inventory *inv = L->inv;
	unsigned line, col;
	int rc = 0;
	key_position(doc, NULL, "management", &line, &col);
	for (size_t i = 0; i < p->nmanagement && rc == 0; i++) {
		const struct pol_zone *z = &p->zones[p->management[i]];
		const char *w = untrusted_word(z);
		if (z->kind == POL_ZONE_VPN)
			rc = add_finding(
			    L, LINT_MGMT_RISK, DIAG_WARNING, line, col, -1, p->management[i], -1,
			    "management zone '%s' is a VPN pool: whoever logs in to that "
			    "VPN from the internet reaches every gateway itself",
			    z->name);
		else if (z->kind != POL_ZONE_SEGMENT)
			rc = add_finding(L, LINT_MGMT_RISK, DIAG_WARNING, line, col, -1,
					 p->management[i], -1,
					 "management zone '%s' is not a network of the city: its "
					 "addresses reach every gateway itself",
					 z->name);
		else if (w)
			rc = add_finding(L, LINT_MGMT_RISK, DIAG_WARNING, line, col, -1,
					 p->management[i], -1,
					 "management zone '%s' looks like a %s network: its hosts "
					 "reach every gateway itself",
					 z->name, w);
	}
	/* A listed zone without addresses never gets here: the policy reader refuses it. */
	if (rc == 0 && p->nmanagement == 0)
		rc = add_finding(L, LINT_NO_MGMT, DIAG_WARNING, line, col, -1, -1, -1,
				 "no management zone: the gateways exempt no host from their input "
				 "chain, and a faulty ruleset locks everyone out");
	size_t open = 0;
	int first = -1;
	for (size_t s = 0; s < inv->nsites && rc == 0; s++) {
		struct gw_access *v = NULL;
		size_t n = 0;
		if ((rc = gw_access_list(inv, (int)s, &v, &n)) < 0)
			break;
		bool any = false;
		for (size_t k = 0; k < n; k++)
			any |= strcmp(v[k].proto, "bgp") == 0 && strcmp(v[k].from, "any") == 0;
		free(v);
		if (any && open++ == 0)
			first = (int)s;
	}
	char *path = NULL;
	if (rc == 0 && open && asprintf(&path, "%s/sites.csv", inv->dir) < 0)
		return -ENOMEM;
	if (rc == 0 && open) {
		const struct site *st = &inv->sites[first];
		char more[48] = "";
		if (open > 1)
			snprintf(more, sizeof(more), " (and %zu more)", open - 1);
		L->file = path;
		rc = add_finding(L, LINT_OPEN_BGP, DIAG_WARNING, st->line, 0, -1, -1, first,
				 "gateway %s%s accepts BGP (tcp/179) from any address: flag bgp "
				 "without its BGP peers in interfaces.csv",
				 st->id, more);
		L->file = NULL;
	}
	free(path);
	return rc;
}

/* Findings about the policy as a whole: nothing accepted, services no rule uses. */
static int static_policy(struct linter *L, const struct ydoc *doc)
{
	const struct policy *p = L->p;
	bool accepts = false;
	int rc = 0;
	for (size_t i = 0; i < p->nrules; i++)
		accepts |= !p->rules[i].expired && p->rules[i].action == POL_ACCEPT;
	if (!accepts) {
		unsigned line, col;
		key_position(doc, NULL, "rules", &line, &col);
		rc =
		    add_finding(L, LINT_ACCEPTS_NOTHING, DIAG_WARNING, line, col, -1, -1, -1,
				"no rule accepts anything%s: every connection between segments is "
				"dropped by default (only the management zones reach the gateways)",
				p->nrules ? " (every rule drops, rejects or has expired)" : "");
	}
	for (size_t sv = 0; sv < p->nservices && rc == 0; sv++) {
		bool used = false;
		for (size_t i = 0; i < p->nrules && !used; i++)
			for (size_t k = 0; k < p->rules[i].nservices && !used; k++)
				used = p->rules[i].services[k] == (int)sv;
		if (used)
			continue;
		const struct pol_service *s = &p->services[sv];
		rc = add_finding(L, LINT_UNUSED_SERVICE, DIAG_WARNING, s->line, s->col, -1, -1, -1,
				 "service '%s' (line %u) is used by no rule", s->name, s->line);
		if (rc == 0)
			L->r->v[L->r->n - 1].service = (int)sv;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Stage 2: objects, groups and terms as written */

/* An object whose addresses lie in several zones, or both inside and outside the city plan. */
static int object_overlap(struct linter *L, size_t o)
{
	const struct pol_object *ob = &L->p->objects[o];
	const struct input *in = &L->s->in[0];
	const struct lint_names *n = &L->s->names;
	bool *zones = calloc(n->nzones + 1, sizeof(bool)), inside = false, outside = false;
	size_t nz = 0;
	if (!zones)
		return -ENOMEM;
	for (size_t i = 0; i < ob->addrs.n; i++) {
		const struct pol_range *r = &ob->addrs.v[i];
		for (size_t k = piece_at(in, &r->first);
		     k < in->npc && in->pc[k].first.family == r->first.family &&
		     ip_addr_cmp(&in->pc[k].first, &r->last) <= 0;
		     k++) {
			struct pol_class c;
			pol_classify(in->city, &in->pc[k].first, &c);
			inside |= c.city;
			outside |= !c.city;
			if (c.zone >= 0 && !zones[in->zmap[c.zone]]) {
				zones[in->zmap[c.zone]] = true;
				nz++;
			}
		}
	}
	int rc = 0;
	if (nz > 1 || (inside && outside)) {
		struct sbuf b = {0};
		for (size_t z = 0, k = 0; z < n->nzones; z++)
			if (zones[z])
				sb_add(&b, "%s%s", k++ ? ", " : "", n->zones[z]);
		char *list = sb_take(&b);
		if (!list)
			rc = -ENOMEM;
		else if (inside && outside)
			rc = add_finding(L, LINT_OBJECT_OVERLAP, DIAG_WARNING, ob->line, ob->col,
					 -1, -1, -1,
					 "object '%s' lies partly inside the city plan and partly "
					 "outside it (zones %s): rules naming it reach both",
					 ob->name, list);
		else
			rc = add_finding(L, LINT_OBJECT_OVERLAP, DIAG_WARNING, ob->line, ob->col,
					 -1, -1, -1,
					 "object '%s' spans %zu zones (%s): rules naming it reach "
					 "into each of them",
					 ob->name, nz, list);
		if (rc == 0)
			L->r->v[L->r->n - 1].object = (int)o;
		free(list);
	}
	free(zones);
	return rc;
}

/* Terms of a side that hold no address: the side names nothing there. */
static int empty_terms(struct linter *L, const struct pol_rside *sd, const char *what,
		       const char *id, const char *side, unsigned line, unsigned col, int rule)
{
	const struct input *in = &L->s->in[0];
	int rc = 0;
	for (size_t i = 0; i < sd->nterms && rc == 0; i++) {
		const struct pol_term *t = &L->p->terms[sd->terms[i]];
		if (pol_build_term(in->b, sd->terms[i])->n)
			continue;
		rc = add_finding(L, LINT_EMPTY_TERM, DIAG_WARNING, line, col, rule, -1, -1,
				 "%s '%s': %s %s holds no address (no host, object or segment "
				 "is in it): it matches nothing",
				 what, id, side, t->label);
	}
	return rc;
}

static int stage2_static(struct linter *L)
{
	const struct policy *p = L->p;
	int rc = 0;
	for (size_t o = 0; o < p->nobjects && rc == 0; o++) {
		const struct pol_object *ob = &p->objects[o];
		if (!ob->used) {
			rc = add_finding(
			    L, LINT_UNUSED_OBJECT, DIAG_WARNING, ob->line, ob->col, -1, -1, -1,
			    "%s '%s' (line %u) is used by no rule or assertion",
			    ob->kind == POL_OBJ_EXTERNAL ? "external network" : "object", ob->name,
			    ob->line);
			if (rc == 0)
				L->r->v[L->r->n - 1].object = (int)o;
		}
		if (rc == 0 && ob->kind == POL_OBJ_OBJECT)
			rc = object_overlap(L, o);
	}
	for (size_t g = 0; g < p->ngroups && rc == 0; g++) {
		const struct pol_group *gr = &p->groups[g];
		if (gr->used)
			continue;
		rc = add_finding(L, LINT_UNUSED_GROUP, DIAG_WARNING, gr->line, gr->col, -1, -1, -1,
				 "site group '%s' (line %u) is named by no rule or assertion",
				 gr->name, gr->line);
		if (rc == 0)
			L->r->v[L->r->n - 1].group = (int)g;
	}
	for (size_t i = 0; i < p->nrules && rc == 0; i++) {
		const struct pol_rule *r = &p->rules[i];
		const char *what = r->gateway ? "gateway service" : "rule";
		rc = empty_terms(L, &r->from, what, r->id, "from", r->line, r->col, (int)i);
		if (rc == 0)
			rc = empty_terms(L, &r->to, what, r->id, "to", r->line, r->col, (int)i);
	}
	for (size_t i = 0; i < p->nassertions && rc == 0; i++) {
		const struct pol_assertion *a = &p->assertions[i];
		rc = empty_terms(L, &a->from, "assertion", a->id, "from", a->line, a->col, -1);
		if (rc == 0)
			rc = empty_terms(L, &a->to, "assertion", a->id, "to", a->line, a->col, -1);
		if (rc == 0 && L->r->n && L->r->v[L->r->n - 1].kind == LINT_EMPTY_TERM &&
		    L->r->v[L->r->n - 1].line == a->line)
			L->r->v[L->r->n - 1].assertion = (int)i;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Assertions: every gateway view, both ends' gateways */

#define VIEW_NONE (-2) /* the end is at no site: no gateway of its own judges it */
#define VIEW_CITY (-1) /* the sites without exceptions */

/* Is site g's gateway in view v? */
static bool in_view(const struct input *in, int v, int g)
{
	if (g < 0)
		return v == VIEW_NONE;
	return v == VIEW_CITY ? !in->has_exc[g] : v == g;
}

/* Per district and anywhere: the sites of view v with each endpoint at home. */
struct vcount {
	unsigned *d; /* [district][fam][endpoint] */
	unsigned *g; /* [fam][endpoint] */
};

static int view_count(const struct lint_space *s, const struct input *in, int v, struct vcount *c)
{
	size_t ne = s->ne, nd = in->inv->ndistricts;
	c->d = calloc(nd * NFAM * ne + 1, sizeof(unsigned));
	c->g = calloc(NFAM * ne + 1, sizeof(unsigned));
	if (!c->d || !c->g)
		return -ENOMEM;
	for (size_t g = 0; g < in->inv->nsites; g++) {
		if (!in_view(in, v, (int)g))
			continue;
		size_t d = (size_t)in->inv->sites[g].district;
		for (size_t k = 0; k < NFAM * ne; k++)
			if (in->local[g * NFAM * ne + k]) {
				c->g[k]++;
				c->d[d * NFAM * ne + k]++;
			}
	}
	return 0;
}

static void vcount_free(struct vcount *c)
{
	free(c->d);
	free(c->g);
}

/*
 * Marks the atoms (from an endpoint of F to one of T) of the connections
 * whose source's gateway is in view v1 and destination's in v2 (VIEW_NONE:
 * that end is at no site). c2 counts v2's sites.
 */
static void realise_pair(const struct lint_space *s, const struct input *in, int v1, int v2,
			 const struct vcount *c2, const bool *F, const bool *T, bool *real)
{
	size_t ne = s->ne;
	const struct inventory *inv = in->inv;
	bool *done = calloc(inv->nsites + 1, sizeof(bool));
	if (v1 == VIEW_NONE) {
		for (size_t h = 0; h < inv->nsites; h++) {
			if (!in_view(in, v2, (int)h))
				continue;
			for (int f = 0; f < NFAM; f++) {
				const bool *L = &in->local[(h * NFAM + (size_t)f) * ne];
				const bool *ns = &in->nonsite[(size_t)f * ne];
				for (size_t b = 0; b < ne; b++)
					for (size_t a = 0; L[b] && T[b] && a < ne; a++)
						if (ns[a] && F[a])
							real[atom_index(s, f, (int)a, (int)b,
									LINT_REL_ELSEWHERE)] = true;
			}
		}
		free(done);
		return;
	}
	for (size_t g = 0; g < inv->nsites; g++) {
		if (!in_view(in, v1, (int)g))
			continue;
		size_t rep = (size_t)in->gsig[g];
		if (done && done[rep])
			continue;
		if (done)
			done[rep] = true;
		bool self2 = in_view(in, v2, (int)g);
		size_t d = (size_t)inv->sites[g].district;
		for (int f = 0; f < NFAM; f++) {
			const bool *L = &in->local[(g * NFAM + (size_t)f) * ne];
			const bool *ns = &in->nonsite[(size_t)f * ne];
			for (size_t a = 0; a < ne; a++) {
				if (!L[a] || !F[a])
					continue;
				for (size_t b = 0; b < ne; b++) {
					if (!T[b])
						continue;
					bool S = self2 && L[b], D = false, E;
					if (v2 == VIEW_NONE) {
						E = ns[b];
					} else {
						const unsigned *dc =
						    &c2->d[(d * NFAM + (size_t)f) * ne];
						const unsigned *gc = &c2->g[(size_t)f * ne];
						D = dc[b] > (S ? 1u : 0u);
						E = gc[b] > dc[b];
					}
					if (S)
						real[atom_index(s, f, (int)a, (int)b,
								LINT_REL_SITE)] = true;
					if (D)
						real[atom_index(s, f, (int)a, (int)b,
								LINT_REL_DISTRICT)] = true;
					if (E)
						real[atom_index(s, f, (int)a, (int)b,
								LINT_REL_ELSEWHERE)] = true;
				}
			}
		}
	}
	free(done);
}

/* The services model m accepts inside atom. */
static int accept_set(const struct lint_model *m, size_t atom, struct lint_ivset *parts,
		      struct lint_ivset *rest, struct lint_ivset *out)
{
	int rc = model_decide(m, atom, NULL, false, parts, rest);
	out->n = 0;
	for (size_t k = 0; k < m->n && rc == 0; k++)
		if (parts[k].n && m->v[k].r->action == POL_ACCEPT)
			rc = lint_ivset_union(out, &parts[k], out);
	return rc;
}

/* A point of x to name: TCP, then UDP, then ICMP, then the first one. */
static uint32_t pick_point(const struct lint_ivset *x, uint8_t family)
{
	static const uint8_t pref[] = {6, 17, 0};
	for (size_t i = 0; i < sizeof(pref); i++) {
		uint8_t p = pref[i] ? pref[i] : proto_icmp_of(family);
		uint32_t lo = proto_off(p), hi = lo + proto_size(p) - 1;
		for (size_t k = 0; k < x->n; k++)
			if (x->v[k].hi >= lo && x->v[k].lo <= hi)
				return x->v[k].lo > lo ? x->v[k].lo : lo;
	}
	return x->v[0].lo;
}

/* Does piece pair (i at site si, j at site sj) stand in relation rel? */
static bool pair_rel(const struct inventory *inv, int si, int sj, enum lint_rel rel)
{
	if (si >= 0 && sj >= 0 && si == sj)
		return rel == LINT_REL_SITE;
	if (si >= 0 && sj >= 0 && inv->sites[si].district == inv->sites[sj].district)
		return rel == LINT_REL_DISTRICT;
	return rel == LINT_REL_ELSEWHERE;
}

/* A concrete source and destination for the atom in views v1 and v2: piece indices. */
static bool find_pair(const struct input *in, int v1, int v2, uint8_t fam, int a, int b,
		      enum lint_rel rel, size_t *pi, size_t *pj)
{
	for (size_t ii = in->epstart[a]; ii < in->epstart[a + 1]; ii++) {
		size_t i = in->byep[ii];
		const struct piece *x = &in->pc[i];
		if (x->self || x->first.family != fam || !in_view(in, v1, x->site))
			continue;
		for (size_t jj = in->epstart[b]; jj < in->epstart[b + 1]; jj++) {
			size_t j = in->byep[jj];
			const struct piece *y = &in->pc[j];
			if (y->self || y->first.family != fam || !in_view(in, v2, y->site) ||
			    !pair_rel(in->inv, x->site, y->site, rel))
				continue;
			*pi = i;
			*pj = j;
			return true;
		}
	}
	return false;
}

static void time_text(int64_t t, char *buf, size_t size)
{
	time_t x = (time_t)t;
	struct tm tm;
	gmtime_r(&x, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "tcp/22", "icmp/echo-request", "gre". */
static void flow_service(const struct lint_flow *fl, char *buf, size_t size)
{
	char pn[32];
	proto_text(fl->proto, pn, sizeof(pn));
	const char *tn = fl->icmp_type >= 0 ? proto_icmp_name(fl->proto == IPPROTO_ICMP ? 4 : 6,
							      (uint8_t)fl->icmp_type)
					    : NULL;
	if (fl->port >= 0)
		snprintf(buf, size, "%s/%d", pn, fl->port);
	else if (tn)
		snprintf(buf, size, "%s/%s", pn, tn);
	else if (fl->icmp_type >= 0)
		snprintf(buf, size, "%s/%d", pn, fl->icmp_type);
	else
		snprintf(buf, size, "%s", pn);
}

struct views {
	int *id; /* VIEW_CITY, then the exception sites */
	struct lint_model **m;
	struct vcount *c;
	size_t n;
};

static void views_free(struct views *v)
{
	for (size_t i = 0; i < v->n; i++) {
		lint_model_free(v->m[i]);
		vcount_free(&v->c[i]);
	}
	free(v->id);
	free(v->m);
	free(v->c);
}

static int views_new(const struct lint_space *s, struct views *v)
{
	const struct input *in = &s->in[0];
	size_t ns = in->inv->nsites;
	memset(v, 0, sizeof(*v));
	v->id = calloc(ns + 2, sizeof(int));
	v->m = calloc(ns + 2, sizeof(*v->m));
	v->c = calloc(ns + 2, sizeof(*v->c));
	if (!v->id || !v->m || !v->c)
		return -ENOMEM;
	for (int g = -1; g < (int)ns; g++) {
		if (g >= 0 && !in->has_exc[g])
			continue;
		size_t k = v->n++;
		v->id[k] = g;
		int rc = lint_model_new(s, 0, g, &v->m[k]);
		if (rc == 0)
			rc = view_count(s, in, g, &v->c[k]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Reports assertion ai broken by the flow found (points x of atom at views k1, k2). */
static int report_assertion(struct linter *L, size_t ai, const struct views *V, int k1, int k2,
			    size_t atom, uint32_t x, size_t pi, size_t pj, int64_t when)
{
	const struct policy *p = L->p;
	const struct pol_assertion *as = &p->assertions[ai];
	const struct input *in = &L->s->in[0];
	struct lint_flow *fl = calloc(1, sizeof(*fl));
	if (!fl)
		return -ENOMEM;
	uint32_t off;
	unsigned pr = point_proto(x, &off);
	fl->src = in->pc[pi].first;
	fl->dst = in->pc[pj].first;
	fl->proto = (uint8_t)pr;
	fl->port = proto_has_ports((uint8_t)pr) ? (int)(x - off) : -1;
	fl->icmp_type = is_icmp_proto(pr) ? (int)(x - off) : -1;
	fl->time = when;
	fl->src_ep = in->pc[pi].ep;
	fl->dst_ep = in->pc[pj].ep;
	/* The judges in pol_build_judges' order: the source's gateway, then the destination's. */
	int sites[2] = {in->pc[pi].site, in->pc[pj].site}, ks[2] = {k1, k2};
	for (int e = 0; e < 2; e++) {
		if (sites[e] < 0 || (e == 1 && sites[1] == sites[0]))
			continue;
		const struct lint_model *m = V->m[ks[e]];
		int k = lint_model_verdict(m, atom, x);
		size_t j = fl->njudges++;
		fl->judges[j] = sites[e];
		fl->rules[j] = k >= 0 ? m->v[k].idx : -1;
		fl->accepted[j] = k >= 0 && m->v[k].r->action == POL_ACCEPT;
	}
	char src[IP_PREFIX_STRLEN], dst[IP_PREFIX_STRLEN], svc[64], at[48] = "";
	ip_addr_format(&fl->src, src, sizeof(src));
	ip_addr_format(&fl->dst, dst, sizeof(dst));
	flow_service(fl, svc, sizeof(svc));
	if (when) {
		char t[40];
		time_text(when, t, sizeof(t));
		snprintf(at, sizeof(at), " at %s", t);
	}
	char *sc = lint_endpoint_text(&L->s->names, fl->src_ep);
	char *dc = lint_endpoint_text(&L->s->names, fl->dst_ep);
	struct sbuf b = {0};
	for (size_t j = 0; j < fl->njudges; j++) {
		sb_add(&b, "%s%s %s", j ? ", " : "", L->inv->sites[fl->judges[j]].id,
		       fl->accepted[j] ? "accepts" : "drops");
		if (fl->rules[j] >= 0)
			sb_add(&b, " (rule '%s')", p->rules[fl->rules[j]].id);
		else
			sb_add(&b, " (the default drop)");
	}
	char *judges = sb_take(&b);
	int rc = sc && dc && judges
		     ? add_finding(L, LINT_ASSERTION, DIAG_ERROR, as->line, as->col, -1, -1, -1,
				   "assertion '%s' (expect %s) fails: %s (%s) -> %s (%s) %s%s: %s",
				   as->id, as->allow ? "allow" : "deny", src, sc, dst, dc, svc, at,
				   judges)
		     : -ENOMEM;
	free(sc);
	free(dc);
	free(judges);
	if (rc < 0) {
		free(fl);
		return rc;
	}
	struct lint_finding *f = &L->r->v[L->r->n - 1];
	f->assertion = (int)ai;
	f->flow = fl;
	if (!(f->others = calloc(3, sizeof(int))))
		return -ENOMEM;
	for (size_t j = 0; j < fl->njudges; j++)
		if (fl->rules[j] >= 0)
			f->others[f->nothers++] = fl->rules[j];
	return 0;
}

/*
 * Checks assertion ai at every pair of views (the source's gateway, the
 * destination's) in every regime of the time windows: a deny assertion fails
 * where both judges accept, an allow assertion where one drops. Stops at the
 * first failure, which it reports with a concrete connection.
 */
static int check_assertion(struct linter *L, size_t ai, const struct views *V, const int64_t *times,
			   size_t ntimes, bool *real)
{
	const struct lint_space *s = L->s;
	const struct input *in = &s->in[0];
	const struct pol_assertion *as = &L->p->assertions[ai];
	size_t ne = s->ne, nr = L->p->nrules;
	bool *F = calloc(ne + 1, sizeof(bool)), *T = calloc(ne + 1, sizeof(bool));
	struct lint_ivset S[NFAM] = {{0}}, uni[NFAM] = {{0}}, a1 = {0}, a2 = {0}, rest = {0},
			  bad = {0};
	struct lint_ivset *parts = calloc(nr + 1, sizeof(*parts));
	int rc = F && T && parts ? 0 : -ENOMEM;
	for (int f = 0; f < NFAM && rc == 0; f++)
		rc = universe(fam_of[f], &uni[f]);
	if (rc == 0)
		rc = services_of(L->p, as->svc_any, as->services, as->nservices, uni, S);
	if (rc < 0)
		goto out;
	side_set(s, in, &as->from, F);
	side_set(s, in, &as->to, T);
	bool found = false;
	for (size_t t = 0; t < ntimes && !found && rc == 0; t++) {
		for (size_t k = 0; k < V->n; k++)
			lint_model_set_time(V->m[k], times[t]);
		for (int k1 = -1; k1 < (int)V->n && !found && rc == 0; k1++)
			for (int k2 = -1; k2 < (int)V->n && !found && rc == 0; k2++) {
				if (k1 < 0 && k2 < 0)
					continue;
				int v1 = k1 < 0 ? VIEW_NONE : V->id[k1];
				int v2 = k2 < 0 ? VIEW_NONE : V->id[k2];
				memset(real, 0, s->natoms);
				realise_pair(s, in, v1, v2, k2 >= 0 ? &V->c[k2] : NULL, F, T, real);
				for (size_t at = 0; at < s->natoms && !found && rc == 0; at++) {
					if (!real[at])
						continue;
					uint8_t fam;
					int a, b;
					enum lint_rel rel;
					lint_atom_parts(s, at, &fam, &a, &b, &rel);
					int f = fam == 4 ? 0 : 1;
					if (!S[f].n)
						continue;
					/* A same-site connection has one judge. */
					if (rel == LINT_REL_SITE && k1 != k2)
						continue;
					rc = iv_copy(&a1, &uni[f]);
					if (rc == 0 && k1 >= 0)
						rc = accept_set(V->m[k1], at, parts, &rest, &a1);
					if (rc == 0 && k2 >= 0 && rel != LINT_REL_SITE)
						rc = accept_set(V->m[k2], at, parts, &rest, &a2);
					if (rc == 0 && k2 >= 0 && rel != LINT_REL_SITE)
						rc = lint_ivset_inter(&a1, &a2, &a1);
					if (rc == 0)
						rc = as->allow ? lint_ivset_minus(&S[f], &a1, &bad)
							       : lint_ivset_inter(&S[f], &a1, &bad);
					if (rc < 0 || !bad.n)
						continue;
					size_t pi, pj;
					if (!find_pair(in, v1, v2, fam, a, b, rel, &pi, &pj))
						continue;
					found = true;
					rc = report_assertion(L, ai, V, k1, k2, at,
							      pick_point(&bad, fam), pi, pj,
							      times[t]);
				}
			}
	}
out:
	for (int f = 0; f < NFAM; f++) {
		lint_ivset_free(&S[f]);
		lint_ivset_free(&uni[f]);
	}
	for (size_t k = 0; parts && k < nr; k++)
		lint_ivset_free(&parts[k]);
	free(parts);
	lint_ivset_free(&a1);
	lint_ivset_free(&a2);
	lint_ivset_free(&rest);
	lint_ivset_free(&bad);
	free(F);
	free(T);
	return rc;
}

static int check_assertions(struct linter *L)
{
	struct views V;
	int64_t *times = NULL;
	size_t ntimes = 0;
	bool *real = NULL;
	int rc = views_new(L->s, &V);
	if (rc == 0)
		rc = lint_space_regimes(L->s, &times, &ntimes);
	if (rc == 0 && !(real = calloc(L->s->natoms + 1, 1)))
		rc = -ENOMEM;
	L->r->regimes = ntimes;
	for (size_t i = 0; i < L->p->nassertions && rc == 0; i++)
		rc = check_assertion(L, i, &V, times, ntimes, real);
	free(real);
	free(times);
	views_free(&V);
	return rc;
}

static int finding_cmp(const void *x, const void *y)
{
	const struct lint_finding *a = x, *b = y;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	return (a->site > b->site) - (a->site < b->site);
}

void lint_report_free(struct lint_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct lint_finding *f = &r->v[i];
		free(f->msg);
		free(f->file);
		free(f->others);
		free(f->flow);
		for (size_t b = 0; b < f->nboxes; b++)
			lint_box_free(&f->boxes[b]);
		free(f->boxes);
	}
	free(r->v);
	lint_names_clear(&r->names);
	free(r);
}

int lint_policy(const struct policy *p, const struct inventory *inv, const struct ydoc *doc,
		struct diag_list *dl, struct lint_report **out)
{
	struct lint_space *s = NULL;
	struct lint_report *r = calloc(1, sizeof(*r));
	bool *viewed = calloc(inv->nsites + 1, sizeof(bool));
	struct linter L = {p, inv, NULL, dl, r, NULL};
	int rc = -ENOMEM;
	*out = NULL;
	if (!r || !viewed)
		goto out;
	for (size_t z = 0; z < p->nzones; z++) {
		const struct pol_zone *pz = &p->zones[z];
		if (pz->kind != POL_ZONE_SEGMENT || pz->nsegments)
			continue;
		unsigned line, col;
		key_position(doc, "zones", pz->name, &line, &col);
		if ((rc = add_finding(&L, LINT_EMPTY_ZONE, DIAG_WARNING, line, col, -1, (int)z, -1,
				      "zone '%s' has no segment in the inventory: rules naming it "
				      "match nothing",
				      pz->name)) < 0)
			goto out;
	}
	for (size_t i = 0; i < p->nrules; i++)
		if ((rc = static_rule(&L, i)) < 0)
			goto out;
	if ((rc = static_policy(&L, doc)) < 0 || (rc = gateway_access(&L, doc)) < 0)
		goto out;
	const struct policy *pols[1] = {p};
	const struct inventory *invs[1] = {inv};
	if ((rc = lint_space_new(pols, invs, 1, &s)) < 0)
		goto out;
	L.s = s;
	r->classes = lint_space_nclasses(s);
	r->gateways = lint_space_ngateways(s, 0);
	if ((rc = lint_names_copy(&r->names, lint_space_names(s))) < 0)
		goto out;
	if ((rc = stage2_static(&L)) < 0 || (rc = lint_view(&L, -1)) < 0)
		goto out;
	for (size_t i = 0; i < p->nrules; i++) {
		int site = p->rules[i].site;
		if (site < 0 || p->rules[i].expired || viewed[site])
			continue;
		viewed[site] = true;
		if ((rc = lint_view(&L, site)) < 0)
			goto out;
	}
	if ((rc = check_assertions(&L)) < 0)
		goto out;
	for (size_t i = 0; i < r->n; i++)
		r->errors += r->v[i].severity == DIAG_ERROR;
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), finding_cmp);
	rc = 0;
out:
	lint_space_free(s);
	free(viewed);
	if (rc < 0)
		lint_report_free(r);
	else
		*out = r;
	return rc;
}

json_t *lint_flow_json(const struct policy *p, const struct inventory *inv,
		       const struct lint_names *n, const struct lint_flow *fl)
{
	char src[IP_PREFIX_STRLEN], dst[IP_PREFIX_STRLEN], pn[32], t[40];
	ip_addr_format(&fl->src, src, sizeof(src));
	ip_addr_format(&fl->dst, dst, sizeof(dst));
	proto_text(fl->proto, pn, sizeof(pn));
	char *sc = lint_endpoint_text(n, fl->src_ep), *dc = lint_endpoint_text(n, fl->dst_ep);
	json_t *o = json_object(), *j = json_array();
	if (!o || !j || !sc || !dc) {
		json_decref(o);
		json_decref(j);
		free(sc);
		free(dc);
		return NULL;
	}
	for (size_t i = 0; i < fl->njudges; i++)
		json_array_append_new(
		    j, json_pack("{s:s,s:s,s:o}", "site", inv->sites[fl->judges[i]].id, "verdict",
				 fl->accepted[i] ? "accept" : "drop", "rule",
				 fl->rules[i] >= 0 ? json_string(p->rules[fl->rules[i]].id)
						   : json_null()));
	json_object_set_new(o, "src", json_string(src));
	json_object_set_new(o, "dst", json_string(dst));
	json_object_set_new(o, "from", json_string(sc));
	json_object_set_new(o, "to", json_string(dc));
	json_object_set_new(o, "protocol", json_string(pn));
	json_object_set_new(o, "port", fl->port >= 0 ? json_integer(fl->port) : json_null());
	json_object_set_new(o, "icmp_type",
			    fl->icmp_type >= 0 ? json_integer(fl->icmp_type) : json_null());
	if (fl->time)
		time_text(fl->time, t, sizeof(t));
	json_object_set_new(o, "time", fl->time ? json_string(t) : json_null());
	json_object_set_new(o, "judges", j);
	free(sc);
	free(dc);
	return o;
}

json_t *lint_finding_json(const struct policy *p, const struct inventory *inv,
			  const struct lint_report *r, const struct lint_finding *f)
{
	static const char *const sev[] = {"error", "warning", "note"};
	json_t *o = json_object(), *rules = json_array();
	if (!o || !rules) {
		json_decref(o);
		json_decref(rules);
		return NULL;
	}
	json_object_set_new(o, "kind", json_string(lint_kind_names[f->kind]));
	json_object_set_new(o, "severity", json_string(sev[f->severity]));
	json_object_set_new(o, "file", json_string(f->file ? f->file : p->file));
	json_object_set_new(o, "line", json_integer(f->line));
	json_object_set_new(o, "col", json_integer(f->col));
	json_object_set_new(o, "rule",
			    f->rule >= 0 ? json_string(p->rules[f->rule].id) : json_null());
	json_object_set_new(o, "zone",
			    f->zone >= 0 ? json_string(p->zones[f->zone].name) : json_null());
	json_object_set_new(o, "service",
			    f->service >= 0 ? json_string(p->services[f->service].name)
					    : json_null());
	json_object_set_new(o, "site",
			    f->site >= 0 ? json_string(inv->sites[f->site].id) : json_null());
	for (size_t i = 0; i < f->nothers; i++)
		json_array_append_new(rules, json_string(p->rules[f->others[i]].id));
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "message", json_string(f->msg));
	if (f->nboxes) {
		json_t *b = json_array();
		for (size_t i = 0; b && i < f->nboxes; i++)
			json_array_append_new(b, lint_box_json(&r->names, &f->boxes[i]));
		json_object_set_new(o, "packets", b);
	}
	/* Stage-2 keys only where they apply: stage-1 findings keep their form. */
	if (f->assertion >= 0)
		json_object_set_new(o, "assertion", json_string(p->assertions[f->assertion].id));
	if (f->object >= 0)
		json_object_set_new(o, "object", json_string(p->objects[f->object].name));
	if (f->group >= 0)
		json_object_set_new(o, "group", json_string(p->groups[f->group].name));
	if (f->flow)
		json_object_set_new(o, "flow", lint_flow_json(p, inv, &r->names, f->flow));
	return o;
}
