// SPDX-License-Identifier: MIT
#include "analysis/lint.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "compile/gateway.h"
#include "eval/eval.h"

const char *const lint_rel_names[LINT_REL_COUNT] = {"same-site", "same-district", "elsewhere"};
const char *const lint_kind_names[LINT_KIND_COUNT] = {
    "shadowed",	  "unmatchable",     "redundant",     "overlap",    "override",
    "any-to-any", "broad",	     "internet-any",  "empty-zone", "expired",
    "expiring",	  "accepts-nothing", "unused-service"};

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

static uint32_t proto_off(unsigned p)
{
	uint32_t off = 0;
	for (unsigned q = 0; q < p; q++)
		off += proto_size(q);
	return off;
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
	uint32_t o = 0;
	for (unsigned p = 0; p < 256; p++) {
		uint32_t sz = proto_size(p);
		if (x < o + sz) {
			*off = o;
			return p;
		}
		o += sz;
	}
	*off = o;
	return 255;
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
	out->n = 0;
	uint8_t proto = proto_icmp_of(family);
	for (int t = 0; t < 256; t++)
		if (!pol_icmp_can_open(family, proto, t) &&
		    iv_push(out, lint_svc_point(proto, (unsigned)t),
			    lint_svc_point(proto, (unsigned)t)) < 0)
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

struct input {
	const struct policy *p;
	const struct inventory *inv;
	int *zmap;	  /* policy zone -> space zone */
	bool *local;	  /* [site][fam][endpoint]: the site's segments hold such addresses */
	bool *nonsite;	  /* [fam][endpoint]: addresses at no site (pools, unassigned, internet) */
	unsigned *dcount; /* [district][fam][endpoint]: sites of the district with such addresses */
	unsigned *gcount; /* [fam][endpoint]: sites anywhere */
};

struct lint_space {
	struct lint_names names;
	size_t ne, natoms, ninputs;
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

int lint_names_copy(struct lint_names *dst, const struct lint_names *src)
{
	dst->zones = calloc(src->nzones + 1, sizeof(char *));
	dst->seen = calloc(2 * src->nzones + 1, sizeof(bool));
	if (!dst->zones || !dst->seen)
		return -ENOMEM;
	memcpy(dst->seen, src->seen, 2 * src->nzones * sizeof(bool));
	for (; dst->nzones < src->nzones; dst->nzones++)
		if (!(dst->zones[dst->nzones] = strdup(src->zones[dst->nzones])))
			return -ENOMEM;
	return 0;
}

void lint_names_clear(struct lint_names *n)
{
	for (size_t z = 0; z < n->nzones; z++)
		free(n->zones[z]);
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

/* Boundaries of every list of the city table in one family, sorted and unique. */
static int boundaries(const struct pol_table *city, uint8_t fam, struct ip_addr **out, size_t *n)
{
	static const enum pol_list lists[] = {POL_L_ZONES, POL_L_CITY, POL_L_DC, POL_L_SITES};
	size_t cap = 1;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		cap += 2 * pol_table_clist(city, lists[l])->n;
	struct ip_addr *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t k = 0;
	v[k++].family = fam;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		const struct pol_ranges *r = pol_table_clist(city, lists[l]);
		for (size_t i = 0; i < r->n; i++) {
			if (r->v[i].first.family != fam)
				continue;
			v[k++] = r->v[i].first;
			struct ip_addr next = r->v[i].last;
			if (ip_addr_add(&next, 1))
				v[k++] = next;
		}
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

/*
 * Which endpoints each site's segments hold, and which lie at no site: the
 * address space cut into the pieces on which the classification is constant.
 */
static int collect_endpoints(struct lint_space *s, struct input *in)
{
	const struct inventory *inv = in->inv;
	struct pol_build *b = NULL;
	struct pol_table *city = NULL;
	struct ip_addr *bd = NULL;
	size_t ne = s->ne;
	int rc = pol_build_new(in->p, inv, &b);
	if (rc == 0)
		rc = pol_build_city(b, &city);
	if (rc < 0)
		goto out;
	rc = -ENOMEM;
	in->local = calloc(inv->nsites * NFAM * ne + 1, sizeof(bool));
	in->nonsite = calloc(NFAM * ne, sizeof(bool));
	in->dcount = calloc(inv->ndistricts * NFAM * ne + 1, sizeof(unsigned));
	in->gcount = calloc(NFAM * ne, sizeof(unsigned));
	if (!in->local || !in->nonsite || !in->dcount || !in->gcount)
		goto out;
	for (int f = 0; f < NFAM; f++) {
		size_t nb;
		free(bd);
		bd = NULL;
		if ((rc = boundaries(city, fam_of[f], &bd, &nb)) < 0)
			goto out;
		for (size_t i = 0; i < nb; i++) {
			struct pol_class c;
			pol_classify(city, &bd[i], &c);
			if (c.zone < 0)
				continue;
			size_t e = (size_t)in->zmap[c.zone] * 2 + (c.dc ? 1 : 0);
			s->names.seen[e] = true;
			if (c.site >= 0)
				in->local[((size_t)c.site * NFAM + (size_t)f) * ne + e] = true;
			else
				in->nonsite[(size_t)f * ne + e] = true;
		}
	}
	for (size_t site = 0; site < inv->nsites; site++)
		for (size_t k = 0; k < NFAM * ne; k++)
			if (in->local[site * NFAM * ne + k]) {
				in->gcount[k]++;
				in->dcount[(size_t)inv->sites[site].district * NFAM * ne + k]++;
			}
	rc = 0;
out:
	free(bd);
	pol_table_free(city);
	pol_build_free(b);
	return rc;
}

void lint_space_free(struct lint_space *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ninputs; i++) {
		free(s->in[i].zmap);
		free(s->in[i].local);
		free(s->in[i].nonsite);
		free(s->in[i].dcount);
		free(s->in[i].gcount);
	}
	lint_names_clear(&s->names);
	free(s);
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
		s->in[i].p = pols[i];
		s->in[i].inv = invs[i];
		if (!(s->in[i].zmap = calloc(pols[i]->nzones + 1, sizeof(int))))
			goto out;
		for (size_t z = 0; z < pols[i]->nzones; z++)
			if ((rc = s->in[i].zmap[z] = space_zone(s, pols[i]->zones[z].name)) < 0)
				goto out;
	}
	s->ne = 2 * s->names.nzones;
	s->natoms = NFAM * s->ne * s->ne * LINT_REL_COUNT;
	rc = -ENOMEM;
	if (!(s->names.seen = calloc(s->ne + 1, sizeof(bool))))
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = collect_endpoints(s, &s->in[i])) < 0)
			goto out;
	rc = 0;
out:
	if (rc < 0)
		lint_space_free(s);
	else
		*out = s;
	return rc;
}

void lint_space_realise(const struct lint_space *s, size_t which,
			bool (*keep)(const char *site, void *ctx), void *ctx, bool *real)
{
	const struct input *in = &s->in[which];
	const struct inventory *inv = in->inv;
	size_t ne = s->ne;
	for (size_t g = 0; g < inv->nsites; g++) {
		if (keep && !keep(inv->sites[g].id, ctx))
			continue;
		size_t d = (size_t)inv->sites[g].district;
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
						real[atom_index(s, f, (int)a, (int)b,
								LINT_REL_SITE)] = true;
					if (D) {
						real[atom_index(s, f, (int)a, (int)b,
								LINT_REL_DISTRICT)] = true;
						real[atom_index(s, f, (int)b, (int)a,
								LINT_REL_DISTRICT)] = true;
					}
					if (F) {
						real[atom_index(s, f, (int)a, (int)b,
								LINT_REL_ELSEWHERE)] = true;
						real[atom_index(s, f, (int)b, (int)a,
								LINT_REL_ELSEWHERE)] = true;
					}
				}
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Models: a gateway's rule list */

struct mrule {
	int idx;
	const struct pol_rule *r;
	bool *from, *to; /* per endpoint */
	struct lint_ivset svc[NFAM];
};

struct lint_model {
	const struct lint_space *s;
	struct mrule *v;
	size_t n;
	struct lint_ivset uni[NFAM];
};

static void side_set(const struct lint_space *s, const struct input *in, bool any, const int *zs,
		     size_t nz, bool *out)
{
	for (size_t e = 0; e < s->ne; e++)
		out[e] = any;
	for (size_t i = 0; i < nz; i++) {
		if (in->p->zones[zs[i]].kind == POL_ZONE_DC) {
			/* The dc pseudo-zone is an overlay: every zone's data-centre part. */
			for (size_t e = 1; e < s->ne; e += 2)
				out[e] = true;
			continue;
		}
		size_t z = (size_t)in->zmap[zs[i]];
		out[2 * z] = out[2 * z + 1] = true;
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

static int add_mrule(struct lint_model *m, const struct input *in, size_t idx)
{
	const struct lint_space *s = m->s;
	const struct policy *p = in->p;
	const struct pol_rule *r = &p->rules[idx];
	struct mrule *k = &m->v[m->n++];
	struct pol_match svc = {0};
	int rc = -ENOMEM;
	k->idx = (int)idx;
	k->r = r;
	k->from = calloc(s->ne + 1, sizeof(bool));
	k->to = calloc(s->ne + 1, sizeof(bool));
	if (!k->from || !k->to)
		goto out;
	side_set(s, in, r->from.any, r->from.zones, r->from.nzones, k->from);
	side_set(s, in, r->to.any, r->to.zones, r->to.nzones, k->to);
	svc.any = r->svc_any;
	rc = 0;
	for (size_t i = 0; i < r->nservices && rc == 0; i++)
		rc = pol_match_merge(&svc, &p->services[r->services[i]].match);
	for (int f = 0; f < NFAM && rc == 0; f++) {
		rc = match_set(&svc, fam_of[f], &k->svc[f]);
		if (rc == 0)
			rc = lint_ivset_inter(&k->svc[f], &m->uni[f], &k->svc[f]);
	}
out:
	pol_match_free(&svc);
	return rc;
}

int lint_model_new(const struct lint_space *s, size_t which, int site, struct lint_model **out)
{
	const struct input *in = &s->in[which];
	const struct policy *p = in->p;
	struct lint_model *m = calloc(1, sizeof(*m));
	int rc = -ENOMEM;
	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->s = s;
	if (!(m->v = calloc(p->nrules + 1, sizeof(*m->v))))
		goto out;
	for (int f = 0; f < NFAM; f++)
		if ((rc = universe(fam_of[f], &m->uni[f])) < 0)
			goto out;
	/* Exceptions of the site first, then the city-wide rules (pol_build_gateway). */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->nrules; i++) {
			const struct pol_rule *r = &p->rules[i];
			if (r->expired || r->site != (pass == 0 ? site : -1) ||
			    (pass == 0 && site < 0))
				continue;
			if ((rc = add_mrule(m, in, i)) < 0)
				goto out;
		}
	rc = 0;
out:
	if (rc < 0)
		lint_model_free(m);
	else
		*out = m;
	return rc;
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
static bool mrule_hits(const struct mrule *k, int from, int to, enum lint_rel rel)
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
		return (to & 1) != 0;
	case POL_SCOPE_COUNT:
		break;
	}
	return false;
}

/* lint_model_decide over the rules alive (all when alive is NULL). */
static int model_decide(const struct lint_model *m, size_t atom, const bool *alive,
			struct lint_ivset *parts, struct lint_ivset *rest)
{
	uint8_t fam;
	int from, to;
	enum lint_rel rel;
	lint_atom_parts(m->s, atom, &fam, &from, &to, &rel);
	int f = fam == 4 ? 0 : 1;
	int rc = iv_copy(rest, &m->uni[f]);
	for (size_t k = 0; k < m->n && rc == 0; k++) {
		parts[k].n = 0;
		if (!rest->n || (alive && !alive[k]) || !mrule_hits(&m->v[k], from, to, rel))
			continue;
		rc = lint_ivset_inter(rest, &m->v[k].svc[f], &parts[k]);
		if (rc == 0 && parts[k].n)
			rc = lint_ivset_minus(rest, &m->v[k].svc[f], rest);
	}
	return rc;
}

int lint_model_decide(const struct lint_model *m, size_t atom, struct lint_ivset *parts,
		      struct lint_ivset *rest)
{
	return model_decide(m, atom, NULL, parts, rest);
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

int lint_boxes_merge(struct lint_box *v, size_t *n, size_t ne)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < *n; i++) {
			for (size_t j = i + 1; j < *n;) {
				int which = -1;
				if (box_diffs(&v[i], &v[j], ne, &which) > 1) {
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
					 lint_ivset_union(&v[i].svc, &v[j].svc, &v[i].svc) < 0)
					return -ENOMEM;
				lint_box_free(&v[j]);
				v[j] = v[--*n];
				changed = true;
			}
		}
	}
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

/* The endpoints of one side as names; NULL entries skipped. Appends to a (JSON) or b (text). */
static void endpoint_names(const struct lint_names *n, const bool *set, json_t *a, struct sbuf *b)
{
	bool all = true;
	for (size_t e = 0; e < 2 * n->nzones; e++)
		all &= set[e] || !n->seen[e];
	if (all) {
		if (a)
			json_array_append_new(a, json_string("any"));
		if (b)
			sb_add(b, "any");
		return;
	}
	size_t k = 0;
	for (size_t z = 0; z < n->nzones; z++) {
		bool h0 = set[2 * z], h1 = set[2 * z + 1];
		if (!h0 && !h1)
			continue;
		char name[128];
		if ((h0 || !n->seen[2 * z]) && (h1 || !n->seen[2 * z + 1]))
			snprintf(name, sizeof(name), "%s", n->zones[z]);
		else
			snprintf(name, sizeof(name), "%s[%s]", n->zones[z], h1 ? "dc" : "non-dc");
		if (a)
			json_array_append_new(a, json_string(name));
		if (b)
			sb_add(b, "%s%s", k ? "," : "", name);
		k++;
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

/* The redundancy walk for rule k inside one atom: who decides its packets without it. */
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
		if (m->v[l].r->action != rk->action)
			a->not_red[k] = true;
		else
			a->takers[k * nr + l] = true;
		rc = lint_ivset_minus(&x, &m->v[l].svc[f], &x);
	}
	/* Left to the default drop: the same only for a drop whose logging is not lost. */
	if (rc == 0 && x.n && !a->not_red[k]) {
		if (rk->action == POL_DROP && (!rk->log || p->log_denied))
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
		if ((rc = model_decide(m, at, alive, parts, &rest)) < 0)
			break;
		for (size_t k = 0; k < nr; k++)
			hit[k] = (!alive || alive[k]) && m->v[k].svc[f].n &&
				 mrule_hits(&m->v[k], from, to, rel);
		for (size_t k = 0; k < nr && rc == 0; k++) {
			if (!hit[k])
				continue;
			const struct lint_ivset *mk = &m->v[k].svc[f];
			a->matched[k] = true;
			a->decided[k] |= parts[k].n > 0;
			for (size_t j = 0; j < k && rc == 0; j++) {
				if (!hit[j] || !iv_subset(mk, &m->v[j].svc[f]))
					a->cover_fail[k * nr + j] = true;
				if (!parts[j].n || !iv_meets(&parts[j], mk))
					continue;
				a->contrib[k * nr + j] = true;
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
	if (override)
		rc = add_finding(
		    L, LINT_OVERRIDE, DIAG_NOTE, rj->line, rj->col, m->v[j].idx, -1, site,
		    "%sexception '%s' (%s) overrides city-wide rule '%s' (%s) for %s%s", pre,
		    rj->id, pol_action_names[rj->action], rk->id, pol_action_names[rk->action],
		    first, more);
	else
		rc = add_finding(
		    L, LINT_OVERLAP, DIAG_WARNING, rk->line, rk->col, m->v[k].idx, -1, site,
		    "%srule '%s' (%s) overlaps the earlier rule '%s' (%s), which decides "
		    "%s%s",
		    pre, rk->id, pol_action_names[rk->action], rj->id, pol_action_names[rj->action],
		    first, more);
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
	else if (acc && (names_internet(p, r->from.zones, r->from.nzones) || names_internet(p, r->to.zones, r->to.nzones)))
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
	if ((rc = lint_names_copy(&r->names, lint_space_names(s))) < 0)
		goto out;
	if ((rc = lint_view(&L, -1)) < 0)
		goto out;
	for (size_t i = 0; i < p->nrules; i++) {
		int site = p->rules[i].site;
		if (site < 0 || p->rules[i].expired || viewed[site])
			continue;
		viewed[site] = true;
		if ((rc = lint_view(&L, site)) < 0)
			goto out;
	}
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
	return o;
}
