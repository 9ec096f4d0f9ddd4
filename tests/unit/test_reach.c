// SPDX-License-Identifier: MIT
/*
 * report/reach.c counts the reachable address pairs of a policy by endpoint
 * class. Checked here another way:
 *  - the counts equal a sum over every pair of pieces (no classes), each pair
 *    judged on its own two addresses at its own gateways, for a generated
 *    city with the zone-only and the stage-2 policy;
 *  - on the example city, the verdict the count assumes for a pair of
 *    addresses equals pol_decide at the gateways that judge that very pair,
 *    for random address pairs drawn from every segment and pool;
 *  - the addresses counted are the segments and pools less the gateways'
 *    own addresses, by plain arithmetic on the inventory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "core/rng.h"
#include "example/example.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "report/reach.h"
#include "tests/unit/testutil.h"

#define WHEN 1796637600 /* 2026-12-07T10:00:00Z, a Monday: the vendors' window is open */

struct world {
	struct inventory *inv;
	struct policy *p;
	struct pol_build *b;
	struct pol_table **gw;
};

static void load_world(struct world *w, const char *dir, const char *policy)
{
	struct diag_list *dl = diag_list_new();
	char path[4200];
	memset(w, 0, sizeof(*w));
	cr_assert_eq(inventory_load(dir, dl, &w->inv), 0, "%s", tu_diags(dl));
	snprintf(path, sizeof(path), "%s/%s", dir, policy);
	cr_assert_eq(policy_load(path, NULL, w->inv, "2026-12-07", dl, &w->p), 0, "%s",
		     tu_diags(dl));
	cr_assert_eq(pol_build_new(w->p, w->inv, &w->b), 0);
	w->gw = calloc(w->inv->nsites + 1, sizeof(*w->gw));
	cr_assert_not_null(w->gw);
	diag_list_free(dl);
}

static void free_world(struct world *w)
{
	for (size_t i = 0; i < w->inv->nsites; i++)
		pol_table_free(w->gw[i]);
	free(w->gw);
	pol_build_free(w->b);
	policy_free(w->p);
	inventory_free(w->inv);
}

static uint32_t u4(const struct ip_addr *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

static struct ip_addr a4(uint32_t u)
{
	struct ip_addr a;
	memset(&a, 0, sizeof(a));
	a.family = 4;
	for (int i = 0; i < 4; i++)
		a.b[i] = (uint8_t)(u >> (24 - 8 * i));
	return a;
}

/* pol_decide at every gateway that judges the pair: 1 passes, 0 not, -1 none judges. */
static int decide(struct world *w, const struct reach_probe *pr, uint32_t s, uint32_t d)
{
	struct ip_addr a = a4(s), b = a4(d);
	struct pol_tuple tp = {.src = a,
			       .dst = b,
			       .proto = pr->proto,
			       .dport = pr->dport,
			       .icmp_type = -1,
			       .time = WHEN};
	int j[2], counted;
	size_t nj;
	pol_build_judges(w->b, &a, &b, j, &nj, &counted);
	if (nj == 0)
		return -1;
	int pass = 1;
	for (size_t i = 0; i < nj; i++) {
		if (!w->gw[j[i]])
			cr_assert_eq(pol_build_gateway(w->b, j[i], POL_MODE_ENFORCE, &w->gw[j[i]]),
				     0);
		struct pol_verdict v;
		cr_assert_eq(pol_decide(w->gw[j[i]], &tp, &v), 0);
		pass &= v.passes;
	}
	return pass;
}

/* The regions counted, by plain inventory reading: segments, then VPN pools. */
struct region {
	uint32_t lo, hi;
	int unit, site;
};

static size_t regions(const struct world *w, struct region *out)
{
	size_t n = 0;
	for (size_t i = 0; i < w->inv->nsegments; i++) {
		const struct segment *g = &w->inv->segments[i];
		if (!g->has_v4)
			continue;
		struct ip_addr lo, hi;
		ip_prefix_first(&g->v4, &lo);
		ip_prefix_last(&g->v4, &hi);
		out[n++] = (struct region){u4(&lo), u4(&hi), (int)i, g->site};
	}
	for (size_t i = 0; i < w->inv->nplan; i++) {
		const struct plan_prefix *pp = &w->inv->plan[i];
		if (pp->prefix.family != 4 || strncmp(pp->zone, "vpn-", 4) != 0)
			continue;
		struct ip_addr lo, hi;
		ip_prefix_first(&pp->prefix, &lo);
		ip_prefix_last(&pp->prefix, &hi);
		out[n++] = (struct region){u4(&lo), u4(&hi), (int)(w->inv->nsegments + i), -1};
	}
	return n;
}

static bool is_gateway(const struct world *w, uint32_t a)
{
	for (size_t k = 0; k < w->inv->nifaces; k++)
		if (w->inv->ifaces[k].has_v4 && u4(&w->inv->ifaces[k].addr4) == a)
			return true;
	return false;
}

Test(reach, addresses_are_the_segments_and_pools_less_the_gateways, .timeout = 120)
{
	struct world w;
	load_world(&w, tu_path("examples/stuttgart"), "policy-stage2.yaml");
	struct region *rg = calloc(w.inv->nsegments + w.inv->nplan + 1, sizeof(*rg));
	size_t n = regions(&w, rg);
	uint64_t want = 0;
	for (size_t i = 0; i < n; i++)
		want += (uint64_t)rg[i].hi - rg[i].lo + 1;
	size_t gws = 0;
	for (size_t k = 0; k < w.inv->nifaces; k++) {
		if (!w.inv->ifaces[k].has_v4)
			continue;
		uint32_t a = u4(&w.inv->ifaces[k].addr4);
		for (size_t i = 0; i < n; i++)
			if (rg[i].lo <= a && a <= rg[i].hi) {
				gws++;
				break;
			}
	}
	want -= gws;
	struct reach *r;
	cr_assert_eq(reach_new(w.p, w.inv, WHEN, false, &r), 0);
	struct reach_space sp;
	reach_space(r, &sp);
	cr_expect_eq(sp.addresses, want, "%llu addresses, want %llu",
		     (unsigned long long)sp.addresses, (unsigned long long)want);
	cr_expect_gt(gws, 4000, "the gateways' own addresses lie in the segments");
	reach_free(r);
	free(rg);
	free_world(&w);
}

/* Every pair of pieces judged on its own: pieces cut at every boundary a rule can see. */
/* Is a a source in one of the policy's management zones? */
static bool management_source(const struct world *w, const struct pol_table *city, uint32_t a)
{
	struct ip_addr x = a4(a);
	struct pol_class c;
	pol_classify(city, &x, &c);
	for (size_t m = 0; m < w->p->nmanagement; m++)
		if (strcmp(w->p->zones[w->p->management[m]].name,
			   pol_table_zone_name(city, c.zone)) == 0)
			return true;
	return false;
}

static void brute_force(struct world *w, const struct reach_probe *probes, size_t np, bool skip,
			uint64_t *inside, uint64_t *pairs)
{
	struct region *rg = calloc(w->inv->nsegments + w->inv->nplan + 1, sizeof(*rg));
	size_t nr = regions(w, rg);
	/* The cut points: every term's ranges, the dc networks, each gateway address alone. */
	size_t cap = 1 << 16, nc = 0;
	uint32_t *cut = malloc(cap * sizeof(*cut));
	struct pol_table *city;
	cr_assert_eq(pol_build_city(w->b, &city), 0);
	for (int k = -1; k < (int)w->p->nterms; k++) {
		const struct pol_ranges *t =
		    k < 0 ? pol_table_clist(city, POL_L_DC) : pol_build_term(w->b, k);
		for (size_t i = 0; t && i < t->n; i++) {
			if (t->v[i].first.family != 4)
				continue;
			if (nc + 2 > cap)
				cut = realloc(cut, (cap *= 2) * sizeof(*cut));
			cut[nc++] = u4(&t->v[i].first);
			cut[nc++] = u4(&t->v[i].last) + 1;
		}
	}
	for (size_t k = 0; k < w->inv->nifaces; k++)
		if (w->inv->ifaces[k].has_v4) {
			if (nc + 2 > cap)
				cut = realloc(cut, (cap *= 2) * sizeof(*cut));
			cut[nc++] = u4(&w->inv->ifaces[k].addr4);
			cut[nc++] = u4(&w->inv->ifaces[k].addr4) + 1;
		}
	struct piece {
		uint32_t lo, n;
		int unit, site;
	} *pc = NULL;
	size_t npc = 0;
	for (size_t i = 0; i < nr; i++) {
		/* the cuts inside this region, by a linear scan, sorted by insertion */
		uint32_t in[4096];
		size_t ni = 0;
		for (size_t c = 0; c < nc; c++)
			if (cut[c] > rg[i].lo && cut[c] <= rg[i].hi) {
				size_t at = ni++;
				cr_assert_lt(ni, 4096);
				while (at > 0 && in[at - 1] > cut[c]) {
					in[at] = in[at - 1];
					at--;
				}
				in[at] = cut[c];
			}
		uint32_t start = rg[i].lo;
		for (size_t c = 0; c <= ni; c++) {
			uint32_t end = c < ni ? in[c] - 1 : rg[i].hi;
			if (c < ni && c > 0 && in[c] == in[c - 1])
				continue;
			if (end < start)
				continue;
			if (!(start == end && is_gateway(w, start))) {
				pc = realloc(pc, (npc + 1) * sizeof(*pc));
				pc[npc++] =
				    (struct piece){start, end - start + 1, rg[i].unit, rg[i].site};
			}
			start = end + 1;
		}
	}
	*pairs = 0;
	for (size_t x = 0; x < npc; x++)
		for (size_t y = 0; y < npc; y++) {
			if (pc[x].unit == pc[y].unit || (pc[x].site < 0 && pc[y].site < 0) ||
			    (skip && management_source(w, city, pc[x].lo)))
				continue;
			uint64_t n = (uint64_t)pc[x].n * pc[y].n;
			*pairs += n;
			for (size_t k = 0; k < np; k++) {
				int v = decide(w, &probes[k], pc[x].lo, pc[y].lo);
				cr_assert_neq(v, -1);
				if (v == 1)
					inside[k] += n;
			}
		}
	pol_table_free(city);
	free(pc);
	free(cut);
	free(rg);
}

static void counts_equal_the_sum_over_pieces(const char *dir, const char *policy, bool skip)
{
	struct world w;
	load_world(&w, dir, policy);
	const struct reach_probe probes[] = {{"ssh", 6, 22},	    {"smtp", 6, 25},
					     {"bacnet", 17, 47808}, {"ipp", 6, 631},
					     {"alarm", 6, 9998},    {"modbus", 6, 502}};
	size_t np = sizeof(probes) / sizeof(probes[0]);
	uint64_t want[8] = {0}, pairs, any = 0;
	brute_force(&w, probes, np, skip, want, &pairs);
	struct reach *r;
	cr_assert_eq(reach_new(w.p, w.inv, WHEN, skip, &r), 0);
	struct reach_space sp;
	reach_space(r, &sp);
	cr_expect_eq(sp.pairs, pairs, "%s: %llu pairs, the pieces give %llu", policy,
		     (unsigned long long)sp.pairs, (unsigned long long)pairs);
	for (size_t k = 0; k < np; k++) {
		struct reach_counts c;
		cr_assert_eq(reach_count(r, &probes[k], &c), 0);
		cr_expect_eq(c.inside, want[k], "%s %s: %llu, the pieces give %llu", policy,
			     probes[k].name, (unsigned long long)c.inside,
			     (unsigned long long)want[k]);
		any += c.inside;
	}
	cr_expect_gt(any, 0, "%s: nothing reachable", policy);
	cr_expect_lt(sp.classes, sp.pieces, "classes group pieces");
	reach_free(r);
	free_world(&w);
}

Test(reach, counts_equal_the_sum_over_every_pair_of_pieces, .timeout = 600)
{
	struct example_opts o;
	example_opts_default(&o);
	o.sites = 40;
	char *dir = tu_tmpdir();
	cr_assert_eq(example_generate(&o, dir, NULL), 0);
	/* The site exceptions moved to sites where they decide something in this city: the
	 * vocational school's to a school (S000013), the fire station's to S000036. */
	const char *names[] = {"policy.yaml", "policy-stage2.yaml"};
	for (int i = 0; i < 2; i++) {
		char path[4200], *text;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = tu_slurp(path, NULL);
		char *at = strstr(text, "  S000003:\n");
		cr_assert_not_null(at);
		memcpy(at, "  S000013:\n", 11);
		if ((at = strstr(text, "  S000002:\n")))
			memcpy(at, "  S000036:\n", 11);
		free(tu_write(dir, "moved.yaml", text));
		free(text);
		counts_equal_the_sum_over_pieces(dir, "moved.yaml", false);
		counts_equal_the_sum_over_pieces(dir, "moved.yaml", true);
	}
	tu_rmdir(dir);
	free(dir);
}

static uint64_t below(struct xoshiro *g, uint64_t n)
{
	return xoshiro_next(g) % n;
}

/* Random pairs of the example city: the class verdict is the pair's own verdict. */
static void pairs_match_pol_decide(const char *policy, bool skip)
{
	struct world w;
	load_world(&w, tu_path("examples/stuttgart"), policy);
	struct reach *r;
	cr_assert_eq(reach_new(w.p, w.inv, WHEN, skip, &r), 0);
	struct region *rg = calloc(w.inv->nsegments + w.inv->nplan + 1, sizeof(*rg));
	size_t nr = regions(&w, rg);
	uint64_t *cum = calloc(nr + 1, sizeof(uint64_t));
	for (size_t i = 0; i < nr; i++)
		cum[i + 1] = cum[i] + (rg[i].hi - rg[i].lo + 1);
	struct xoshiro g;
	xoshiro_seed(&g, 12);
	size_t checked = 0, passed = 0, tried = 0;
	for (size_t pr = 0; pr < reach_nprobes; pr++)
		for (int i = 0; i < 600; i++) {
			uint32_t ends[2];
			for (int e = 0; e < 2; e++) {
				/* uniform over the addresses, and sometimes a host of hosts.csv */
				if (below(&g, 3) == 0 && w.inv->nhosts) {
					const struct host *h =
					    &w.inv->hosts[below(&g, w.inv->nhosts)];
					struct ip_addr ha;
					ip_prefix_first(&h->addrs[0], &ha);
					ends[e] = u4(&ha);
				} else {
					uint64_t x = below(&g, cum[nr]);
					size_t lo = 0, hi = nr;
					while (lo + 1 < hi) {
						size_t m = (lo + hi) / 2;
						if (cum[m] <= x)
							lo = m;
						else
							hi = m;
					}
					ends[e] = rg[lo].lo + (uint32_t)(x - cum[lo]);
				}
			}
			tried++;
			struct ip_addr a = a4(ends[0]), b = a4(ends[1]);
			int want = reach_pair(r, &reach_probes[pr], &a, &b);
			cr_assert_geq(want, -1);
			if (want < 0)
				continue;
			int got = decide(&w, &reach_probes[pr], ends[0], ends[1]);
			cr_expect_eq(got, want,
				     "%s %s: %d.%d.%d.%d -> %d.%d.%d.%d: %d, the count assumes %d",
				     policy, reach_probes[pr].name, a.b[0], a.b[1], a.b[2], a.b[3],
				     b.b[0], b.b[1], b.b[2], b.b[3], got, want);
			checked++;
			passed += got == 1;
			/* and to the internet */
			const struct ip_addr *in = reach_internet(r);
			cr_assert_not_null(in);
			want = reach_pair(r, &reach_probes[pr], &a, in);
			if (want >= 0)
				cr_expect_eq(decide(&w, &reach_probes[pr], ends[0], u4(in)), want);
		}
	cr_expect_gt(checked, tried / 2, "%zu of %zu pairs counted", checked, tried);
	cr_expect_gt(passed, skip ? 5 : 50, "%s: only %zu of the pairs checked pass", policy,
		     passed);
	free(cum);
	free(rg);
	reach_free(r);
	free_world(&w);
}

Test(reach, class_verdicts_are_the_pairs_own_zone_only, .timeout = 300)
{
	pairs_match_pol_decide("policy.yaml", false);
}

Test(reach, class_verdicts_are_the_pairs_own_stage2, .timeout = 300)
{
	pairs_match_pol_decide("policy-stage2.yaml", false);
	pairs_match_pol_decide("policy-stage2.yaml", true);
}
