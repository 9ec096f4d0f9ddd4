// SPDX-License-Identifier: MIT
/* Reachable address pairs of a policy, counted exactly by endpoint class (report/reach.h). */
#include "report/reach.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"

const struct reach_probe reach_probes[] = {
    {"ssh", 6, 22},	     {"smtp", 6, 25},	    {"dns", 17, 53}, {"https", 6, 443},
    {"ldap", 6, 389},	     {"smb", 6, 445},	    {"ipp", 6, 631}, {"rdp", 6, 3389},
    {"postgresql", 6, 5432}, {"bacnet", 17, 47808},
};
const size_t reach_nprobes = sizeof(reach_probes) / sizeof(reach_probes[0]);

enum rel { REL_SITE, REL_DISTRICT, REL_ELSEWHERE, REL_COUNT };

struct piece {
	uint32_t lo, hi;
	int unit; /* segment index, or nsegments + plan row for a VPN pool */
	int site; /* -1 for a pool */
	int cls;
};

/* Two representatives of a class at distinct places (sites or districts), -1 when none. */
struct two {
	int place[2];
	uint32_t addr[2];
};

struct reach {
	const struct policy *p;
	const struct inventory *inv;
	struct pol_build *b;
	struct pol_table *city;
	struct pol_table **gw; /* per site, built when first needed */
	int64_t when;
	struct piece *pc;
	size_t npc;
	size_t ncls;
	uint64_t *tot, *nosite;	 /* per class */
	uint64_t *n[REL_COUNT];	 /* ncls * ncls: ordered address pairs per relation */
	uint32_t (*rep_site)[2]; /* ncls * ncls: a pair at one site in two segments; hi bit: none */
	bool *has_site;
	struct two *dist_rep; /* ncls * ndistricts: the class at two sites of the district */
	struct two *else_rep; /* per class: at sites of two districts (or a pool address) */
	bool *pool_cls;	      /* per class: its addresses are in VPN pools */
	bool *skip_cls;	      /* per class: a management zone's, not counted as a source */
	bool skip_management;
	uint64_t addresses, pairs, sited;
	struct ip_addr internet;
	bool has_internet;
	int8_t *cache; /* ncls * ncls * REL_COUNT verdicts for the current probe */
	const struct reach_probe *cached;
};

static uint32_t v4u(const struct ip_addr *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

static struct ip_addr v4a(uint32_t u)
{
	struct ip_addr a;
	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.b[0] = (uint8_t)(u >> 24);
	a.b[1] = (uint8_t)(u >> 16);
	a.b[2] = (uint8_t)(u >> 8);
	a.b[3] = (uint8_t)u;
	return a;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

struct vec32 {
	uint32_t *v;
	size_t n, cap;
};

static int vec_push(struct vec32 *v, uint32_t x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		uint32_t *nv = realloc(v->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

/* Cuts at a range's start and after its end (IPv4 ranges only). */
static int cut_ranges(struct vec32 *cuts, const struct pol_ranges *r)
{
	for (size_t i = 0; r && i < r->n; i++) {
		if (r->v[i].first.family != 4)
			continue;
		uint32_t lo = v4u(&r->v[i].first), hi = v4u(&r->v[i].last);
		if (vec_push(cuts, lo) < 0 || (hi != UINT32_MAX && vec_push(cuts, hi + 1) < 0))
			return -ENOMEM;
	}
	return 0;
}

static bool in_sorted(const uint32_t *v, size_t n, uint32_t x)
{
	return bsearch(&x, v, n, sizeof(*v), u32_cmp) != NULL;
}

/* The regions counted: every segment's IPv4 prefix and every VPN pool of the plan. */
static int add_region(struct reach *r, struct piece **out, size_t *n, size_t *cap,
		      const struct vec32 *cuts, const struct vec32 *gws, uint32_t lo, uint32_t hi,
		      int unit, int site)
{
	/* the first cut above lo */
	size_t a = 0, b = cuts->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (cuts->v[m] <= lo)
			a = m + 1;
		else
			b = m;
	}
	uint32_t start = lo;
	for (;;) {
		uint32_t end = a < cuts->n && cuts->v[a] <= hi ? cuts->v[a] - 1 : hi;
		bool gw = start == end && in_sorted(gws->v, gws->n, start);
		if (!gw) {
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 4096;
				struct piece *np = realloc(*out, nc * sizeof(*np));
				if (!np)
					return -ENOMEM;
				*out = np;
				*cap = nc;
			}
			(*out)[(*n)++] = (struct piece){start, end, unit, site, -1};
			r->addresses += (uint64_t)end - start + 1;
		}
		if (end == hi)
			break;
		start = end + 1;
		a++;
	}
	return 0;
}

struct sigsort {
	const unsigned char *sigs;
	size_t size;
};

static int sig_cmp(const void *a, const void *b, void *ctx)
{
	const struct sigsort *s = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = memcmp(s->sigs + x * s->size, s->sigs + y * s->size, s->size);
	return c ? c : x < y ? -1 : x > y;
}

static void sig_of(const struct reach *r, const struct piece *pc, const bool *exc_site,
		   unsigned char *sig, size_t size)
{
	struct ip_addr a = v4a(pc->lo);
	struct pol_class c;
	pol_classify(r->city, &a, &c);
	int32_t head[3] = {c.zone, c.dc, pc->site >= 0 && exc_site[pc->site] ? pc->site : -1};
	memset(sig, 0, size);
	memcpy(sig, head, sizeof(head));
	for (size_t k = 0; k < r->p->nterms; k++)
		sig[sizeof(head) + k] = pol_ranges_find(pol_build_term(r->b, (int)k), &a) != NULL;
}

/* Cuts the city into pieces and classes. */
static int make_pieces(struct reach *r)
{
	const struct inventory *inv = r->inv;
	const struct policy *p = r->p;
	struct vec32 cuts = {0}, gws = {0};
	size_t cap = 0;
	int rc = 0;
	for (size_t k = 0; k < p->nterms && rc == 0; k++)
		rc = cut_ranges(&cuts, pol_build_term(r->b, (int)k));
	if (rc == 0)
		rc = cut_ranges(&cuts, pol_table_clist(r->city, POL_L_DC));
	for (size_t k = 0; k < inv->nifaces && rc == 0; k++)
		if (inv->ifaces[k].has_v4) {
			uint32_t a = v4u(&inv->ifaces[k].addr4);
			rc = vec_push(&gws, a);
			if (rc == 0)
				rc = vec_push(&cuts, a);
			if (rc == 0 && a != UINT32_MAX)
				rc = vec_push(&cuts, a + 1);
		}
	if (rc == 0) {
		if (cuts.n)
			qsort(cuts.v, cuts.n, sizeof(uint32_t), u32_cmp);
		if (gws.n)
			qsort(gws.v, gws.n, sizeof(uint32_t), u32_cmp);
	}
	for (size_t i = 0; i < inv->nsegments && rc == 0; i++) {
		const struct segment *g = &inv->segments[i];
		if (!g->has_v4)
			continue;
		struct ip_addr lo, hi;
		ip_prefix_first(&g->v4, &lo);
		ip_prefix_last(&g->v4, &hi);
		rc = add_region(r, &r->pc, &r->npc, &cap, &cuts, &gws, v4u(&lo), v4u(&hi), (int)i,
				g->site);
	}
	for (size_t i = 0; i < inv->nplan && rc == 0; i++) {
		const struct plan_prefix *pp = &inv->plan[i];
		if (pp->prefix.family != 4)
			continue;
		struct ip_addr lo, hi;
		struct pol_class c;
		ip_prefix_first(&pp->prefix, &lo);
		ip_prefix_last(&pp->prefix, &hi);
		pol_classify(r->city, &lo, &c);
		if (pol_table_zone_kind(r->city, c.zone) != POL_ZONE_VPN)
			continue;
		rc = add_region(r, &r->pc, &r->npc, &cap, &cuts, &gws, v4u(&lo), v4u(&hi),
				(int)(inv->nsegments + i), -1);
	}
	free(cuts.v);
	free(gws.v);
	if (rc < 0)
		return rc;

	/* Classes: pieces with equal signatures, numbered in signature order. */
	size_t size = 3 * sizeof(int32_t) + p->nterms;
	bool *exc = calloc(inv->nsites + 1, sizeof(bool));
	unsigned char *sigs = calloc(r->npc + 1, size);
	size_t *idx = calloc(r->npc + 1, sizeof(size_t));
	if (!exc || !sigs || !idx) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].site >= 0 && !p->rules[i].expired)
			exc[p->rules[i].site] = true;
	for (size_t i = 0; i < r->npc; i++) {
		sig_of(r, &r->pc[i], exc, sigs + i * size, size);
		idx[i] = i;
	}
	struct sigsort sc = {sigs, size};
	qsort_r(idx, r->npc, sizeof(size_t), sig_cmp, &sc);
	for (size_t i = 0; i < r->npc; i++) {
		if (i && memcmp(sigs + idx[i] * size, sigs + idx[i - 1] * size, size) != 0)
			r->ncls++;
		r->pc[idx[i]].cls = (int)r->ncls;
	}
	if (r->npc)
		r->ncls++;
out:
	free(exc);
	free(sigs);
	free(idx);
	return rc;
}

/* A class at a place (site or district): keeps the first two distinct places. */
static void two_add(struct two *t, int place, uint32_t addr)
{
	if (t->place[0] < 0) {
		t->place[0] = place;
		t->addr[0] = addr;
	} else if (t->place[1] < 0 && t->place[0] != place) {
		t->place[1] = place;
		t->addr[1] = addr;
	}
}

/* Representatives of x and y at two distinct places; false when there are none. */
static bool two_pick(const struct two *x, const struct two *y, uint32_t *a, uint32_t *b)
{
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (x->place[i] >= 0 && y->place[j] >= 0 && x->place[i] != y->place[j]) {
				*a = x->addr[i];
				*b = y->addr[j];
				return true;
			}
	return false;
}

/* Per (class, unit) and (class, site) sums, for the relation counts. */
struct cell {
	int key, cls;
	uint64_t n;
	uint32_t rep;
};

static int cell_cmp(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->cls < y->cls ? -1 : x->cls > y->cls;
}

/* Cells merged by (key, cls): their count summed, the first representative kept. */
static size_t merge_cells(struct cell *c, size_t n)
{
	if (n == 0)
		return 0;
	qsort(c, n, sizeof(*c), cell_cmp);
	size_t m = 0;
	for (size_t i = 1; i < n; i++) {
		if (c[i].key == c[m].key && c[i].cls == c[m].cls)
			c[m].n += c[i].n;
		else
			c[++m] = c[i];
	}
	return m + 1;
}

/* Adds n[x][y] += a.n * b.n for every pair of cells in each group of equal keys. */
static void pair_sums(const struct cell *c, size_t n, size_t ncls, uint64_t *out)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && c[j].key == c[i].key)
			j++;
		for (size_t a = i; a < j; a++)
			for (size_t b = i; b < j; b++)
				out[(size_t)c[a].cls * ncls + (size_t)c[b].cls] += c[a].n * c[b].n;
		i = j;
	}
}

static int count_relations(struct reach *r)
{
	const struct inventory *inv = r->inv;
	size_t K = r->ncls, nd = inv->ndistricts;
	int rc = -ENOMEM;
	struct cell *units = calloc(r->npc + 1, sizeof(*units));
	struct cell *sites = calloc(r->npc + 1, sizeof(*sites));
	struct cell *dists = calloc(r->npc + 1, sizeof(*dists));
	uint64_t *ss = calloc(K * K + 1, sizeof(uint64_t)),
		 *sg = calloc(K * K + 1, sizeof(uint64_t));
	uint64_t *sd = calloc(K * K + 1, sizeof(uint64_t));
	r->tot = calloc(K + 1, sizeof(uint64_t));
	r->nosite = calloc(K + 1, sizeof(uint64_t));
	r->pool_cls = calloc(K + 1, sizeof(bool));
	r->skip_cls = calloc(K + 1, sizeof(bool));
	r->rep_site = calloc(K * K + 1, sizeof(*r->rep_site));
	r->has_site = calloc(K * K + 1, sizeof(bool));
	r->dist_rep = calloc(K * nd + 1, sizeof(*r->dist_rep));
	r->else_rep = calloc(K + 1, sizeof(*r->else_rep));
	for (int k = 0; k < REL_COUNT; k++)
		r->n[k] = calloc(K * K + 1, sizeof(uint64_t));
	if (!units || !sites || !dists || !ss || !sg || !sd || !r->tot || !r->nosite ||
	    !r->pool_cls || !r->skip_cls || !r->rep_site || !r->has_site || !r->dist_rep ||
	    !r->else_rep || !r->n[0] || !r->n[1] || !r->n[2])
		goto out;
	for (size_t i = 0; i < K * nd; i++)
		r->dist_rep[i] = (struct two){{-1, -1}, {0, 0}};
	for (size_t i = 0; i < K; i++)
		r->else_rep[i] = (struct two){{-1, -1}, {0, 0}};
	size_t nu = 0, ns = 0, ndc = 0;
	for (size_t i = 0; i < r->npc; i++) {
		const struct piece *pc = &r->pc[i];
		uint64_t w = (uint64_t)pc->hi - pc->lo + 1;
		r->tot[pc->cls] += w;
		if (r->skip_management) {
			struct ip_addr a = v4a(pc->lo);
			struct pol_class c;
			pol_classify(r->city, &a, &c);
			const char *zn = pol_table_zone_name(r->city, c.zone);
			for (size_t m = 0; zn && m < r->p->nmanagement; m++)
				if (strcmp(r->p->zones[r->p->management[m]].name, zn) == 0)
					r->skip_cls[pc->cls] = true;
		}
		if (pc->site < 0) {
			r->nosite[pc->cls] += w;
			r->pool_cls[pc->cls] = true;
			/* a pool's class is at no place: any of its addresses stands for it */
			if (r->else_rep[pc->cls].place[0] < 0)
				r->else_rep[pc->cls] =
				    (struct two){{nd == 0 ? 0 : (int)nd, -1}, {pc->lo, 0}};
			continue;
		}
		r->sited += w;
		/* (pairs inside a pool are left out with those of two pools) */
		units[nu++] = (struct cell){pc->unit, pc->cls, w, pc->lo};
		int d = inv->sites[pc->site].district;
		sites[ns++] = (struct cell){pc->site, pc->cls, w, pc->lo};
		dists[ndc++] = (struct cell){d, pc->cls, w, pc->lo};
		two_add(&r->dist_rep[(size_t)pc->cls * nd + (size_t)d], pc->site, pc->lo);
		two_add(&r->else_rep[pc->cls], d, pc->lo);
	}
	nu = merge_cells(units, nu);
	ns = merge_cells(sites, ns);
	ndc = merge_cells(dists, ndc);
	pair_sums(units, nu, K, sg);
	pair_sums(sites, ns, K, ss);
	pair_sums(dists, ndc, K, sd);
	/* Same site, two segments: a representative pair from the unit cells of each site
	 * (keyed by site here, n holding the segment). */
	struct cell *bysite = calloc(nu + 1, sizeof(*bysite));
	if (!bysite)
		goto out;
	size_t nb = 0;
	for (size_t i = 0; i < nu; i++) {
		int u = units[i].key;
		if ((size_t)u < inv->nsegments)
			bysite[nb++] = (struct cell){inv->segments[u].site, units[i].cls,
						     (uint64_t)u, units[i].rep};
	}
	qsort(bysite, nb, sizeof(*bysite), cell_cmp);
	for (size_t i = 0; i < nb;) {
		size_t j = i;
		while (j < nb && bysite[j].key == bysite[i].key)
			j++;
		for (size_t a = i; a < j; a++)
			for (size_t b = i; b < j; b++) {
				size_t xy = (size_t)bysite[a].cls * K + (size_t)bysite[b].cls;
				if (bysite[a].n != bysite[b].n && !r->has_site[xy]) {
					r->has_site[xy] = true;
					r->rep_site[xy][0] = bysite[a].rep;
					r->rep_site[xy][1] = bysite[b].rep;
				}
			}
		i = j;
	}
	free(bysite);
	for (size_t x = 0; x < K; x++)
		for (size_t y = 0; y < K; y++) {
			size_t xy = x * K + y;
			r->n[REL_SITE][xy] = ss[xy] - sg[xy];
			r->n[REL_DISTRICT][xy] = sd[xy] - ss[xy];
			r->n[REL_ELSEWHERE][xy] =
			    r->tot[x] * r->tot[y] - sd[xy] - r->nosite[x] * r->nosite[y];
			for (int k = 0; k < REL_COUNT; k++)
				r->pairs += r->skip_cls[x] ? 0 : r->n[k][xy];
		}
	rc = 0;
out:
	free(units);
	free(sites);
	free(dists);
	free(ss);
	free(sg);
	free(sd);
	return rc;
}

/*
 * What "the internet" stands for: of a few public addresses, the one in the fewest
 * endpoint terms (a term such as `{except: [guest]}` holds the whole internet; an
 * object or external network that names one of them does not hold the others).
 */
static void pick_internet(struct reach *r)
{
	static const char *const cand[] = {"8.8.8.8",  "9.9.9.9",    "1.1.1.1",
					   "80.1.2.3", "141.30.1.1", "200.1.2.3"};
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		struct ip_addr a;
		struct pol_class c;
		if (ip_addr_parse(cand[i], &a) != 0)
			continue;
		pol_classify(r->city, &a, &c);
		if (pol_table_zone_kind(r->city, c.zone) != POL_ZONE_INTERNET || c.dc)
			continue;
		size_t named = 0;
		for (size_t k = 0; k < r->p->nterms; k++)
			named += pol_ranges_find(pol_build_term(r->b, (int)k), &a) != NULL;
		if (named < best) {
			best = named;
			r->internet = a;
			r->has_internet = true;
		}
	}
}

int reach_new(const struct policy *p, const struct inventory *inv, int64_t when,
	      bool skip_management, struct reach **out)
{
	*out = NULL;
	struct reach *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = p;
	r->inv = inv;
	r->when = when;
	r->skip_management = skip_management;
	int rc = pol_build_new(p, inv, &r->b);
	if (rc == 0)
		rc = pol_build_city(r->b, &r->city);
	if (rc == 0 && !(r->gw = calloc(inv->nsites + 1, sizeof(*r->gw))))
		rc = -ENOMEM;
	if (rc == 0)
		rc = make_pieces(r);
	if (rc == 0)
		rc = count_relations(r);
	if (rc == 0 && !(r->cache = malloc(r->ncls * r->ncls * REL_COUNT + 1)))
		rc = -ENOMEM;
	if (rc < 0) {
		reach_free(r);
		return rc;
	}
	pick_internet(r);
	*out = r;
	return 0;
}

void reach_free(struct reach *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->gw && i < r->inv->nsites; i++)
		pol_table_free(r->gw[i]);
	free(r->gw);
	pol_table_free(r->city);
	pol_build_free(r->b);
	free(r->pc);
	free(r->tot);
	free(r->nosite);
	free(r->pool_cls);
	free(r->skip_cls);
	for (int k = 0; k < REL_COUNT; k++)
		free(r->n[k]);
	free(r->rep_site);
	free(r->has_site);
	free(r->dist_rep);
	free(r->else_rep);
	free(r->cache);
	free(r);
}

void reach_space(const struct reach *r, struct reach_space *out)
{
	*out = (struct reach_space){r->addresses, r->pairs, r->sited, r->npc, r->ncls};
}

const struct ip_addr *reach_internet(const struct reach *r)
{
	return r->has_internet ? &r->internet : NULL;
}

/* Does a new connection from a to b pass every gateway that judges it? 1, 0, -1 when no
 * gateway judges it, or a negative errno below -1. */
static int judge(struct reach *r, const struct reach_probe *pr, const struct ip_addr *a,
		 const struct ip_addr *b)
{
	struct pol_tuple tp = {.src = *a,
			       .dst = *b,
			       .proto = pr->proto,
			       .dport = pr->dport,
			       .icmp_type = -1,
			       .time = r->when};
	int judges[2], counted;
	size_t nj;
	pol_build_judges(r->b, a, b, judges, &nj, &counted);
	if (nj == 0)
		return -1;
	bool pass = true;
	for (size_t i = 0; i < nj; i++) {
		struct pol_table **t = &r->gw[judges[i]];
		int rc;
		if (!*t && (rc = pol_build_gateway(r->b, judges[i], POL_MODE_ENFORCE, t)) < 0)
			return rc < -1 ? rc : -ENOMEM;
		struct pol_verdict v;
		if ((rc = pol_decide(*t, &tp, &v)) < 0)
			return rc < -1 ? rc : -EINVAL;
		pass &= v.passes;
	}
	return pass;
}

/* The representatives of classes x and y in relation k; false when there are none. */
static bool reps(const struct reach *r, size_t x, size_t y, int k, uint32_t *a, uint32_t *b)
{
	size_t K = r->ncls, nd = r->inv->ndistricts;
	if (k == REL_SITE) {
		if (!r->has_site[x * K + y])
			return false;
		*a = r->rep_site[x * K + y][0];
		*b = r->rep_site[x * K + y][1];
		return true;
	}
	if (k == REL_DISTRICT) {
		for (size_t d = 0; d < nd; d++)
			if (two_pick(&r->dist_rep[x * nd + d], &r->dist_rep[y * nd + d], a, b))
				return true;
		return false;
	}
	return two_pick(&r->else_rep[x], &r->else_rep[y], a, b);
}

/* The verdict of classes x and y in relation k for the cached probe (1, 0, -1, -errno). */
static int class_verdict(struct reach *r, size_t x, size_t y, int k)
{
	int8_t *c = &r->cache[(x * r->ncls + y) * REL_COUNT + (size_t)k];
	if (*c != 2)
		return *c;
	uint32_t a, b;
	int v = -1;
	if (reps(r, x, y, k, &a, &b)) {
		struct ip_addr sa = v4a(a), da = v4a(b);
		v = judge(r, r->cached, &sa, &da);
		if (v < -1)
			return v;
	}
	*c = (int8_t)v;
	return v;
}

static void use_probe(struct reach *r, const struct reach_probe *probe)
{
	if (r->cached == probe)
		return;
	memset(r->cache, 2, r->ncls * r->ncls * REL_COUNT);
	r->cached = probe;
}

int reach_count(struct reach *r, const struct reach_probe *probe, struct reach_counts *out)
{
	memset(out, 0, sizeof(*out));
	use_probe(r, probe);
	size_t K = r->ncls;
	for (size_t x = 0; x < K; x++)
		for (size_t y = 0; y < K && !r->skip_cls[x]; y++)
			for (int k = 0; k < REL_COUNT; k++) {
				uint64_t n = r->n[k][x * K + y];
				if (n == 0)
					continue;
				int v = class_verdict(r, x, y, k);
				if (v < -1)
					return v;
				if (v == 1)
					out->inside += n;
			}
	if (!r->has_internet)
		return 0;
	for (size_t x = 0; x < K; x++) {
		if (r->pool_cls[x] || r->else_rep[x].place[0] < 0)
			continue;
		struct ip_addr a = v4a(r->else_rep[x].addr[0]);
		int v = r->skip_cls[x] ? 0 : judge(r, probe, &a, &r->internet);
		int w = v < -1 ? v : judge(r, probe, &r->internet, &a);
		if (v < -1 || w < -1)
			return v < -1 ? v : w;
		if (v == 1)
			out->to_internet += r->tot[x];
		if (w == 1)
			out->from_internet += r->tot[x];
	}
	return 0;
}

/* The piece holding IPv4 address u, or NULL. */
static const struct piece *piece_of(const struct reach *r, uint32_t u)
{
	for (size_t i = 0; i < r->npc; i++)
		if (r->pc[i].lo <= u && u <= r->pc[i].hi)
			return &r->pc[i];
	return NULL;
}

int reach_pair(struct reach *r, const struct reach_probe *probe, const struct ip_addr *src,
	       const struct ip_addr *dst)
{
	if (src->family != 4 || dst->family != 4)
		return -1;
	use_probe(r, probe);
	const struct piece *a = piece_of(r, v4u(src));
	if (!a || r->skip_cls[a->cls])
		return -1;
	if (r->has_internet && ip_addr_cmp(dst, &r->internet) == 0) {
		if (a->site < 0)
			return -1;
		struct ip_addr ra = v4a(r->else_rep[a->cls].addr[0]);
		return judge(r, probe, &ra, &r->internet);
	}
	const struct piece *b = piece_of(r, v4u(dst));
	if (!b || a->unit == b->unit || (a->site < 0 && b->site < 0))
		return -1;
	int k = a->site == b->site ? REL_SITE
		: a->site >= 0 && b->site >= 0 &&
			r->inv->sites[a->site].district == r->inv->sites[b->site].district
		    ? REL_DISTRICT
		    : REL_ELSEWHERE;
	return class_verdict(r, (size_t)a->cls, (size_t)b->cls, k);
}
