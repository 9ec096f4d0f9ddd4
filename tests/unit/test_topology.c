// SPDX-License-Identifier: MIT
/*
 * The topology analyses on small hand-built inventories with answers worked
 * out by hand, the incremental N-1 and the lowpoint DFS against brute-force
 * recomputation on random graphs, and the exports read back by their parsers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <igraph.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "topology/export.h"
#include "topology/topo.h"

/* ---- building inventories by hand ---- */

static struct inventory *inv_new(size_t n, int primary, int fallback)
{
	struct inventory *inv = calloc(1, sizeof(*inv));
	cr_assert_not_null(inv);
	inv->sites = calloc(n, sizeof(*inv->sites));
	inv->links = calloc(4 * n + 8, sizeof(*inv->links));
	cr_assert_not_null(inv->sites);
	cr_assert_not_null(inv->links);
	inv->nsites = n;
	inv->primary_dc = primary;
	inv->fallback_dc = fallback;
	for (size_t i = 0; i < n; i++) {
		struct site *s = &inv->sites[i];
		cr_assert(asprintf(&s->id, "S%zu", i) > 0);
		cr_assert(asprintf(&s->name, "Site %zu", i) > 0);
		s->district = -1;
		s->type = SITE_OFFICE;
		s->lat = 48.7 + 0.01 * (double)(i % 7);
		s->lon = 9.1 + 0.013 * (double)(i / 7);
		s->required_mbps = 10;
		s->broadband = BB_FIBRE;
	}
	if (primary >= 0) {
		inv->sites[primary].type = SITE_DATA_CENTRE;
		inv->sites[primary].flags |= SITE_F_PRIMARY;
	}
	if (fallback >= 0) {
		inv->sites[fallback].type = SITE_DATA_CENTRE;
		inv->sites[fallback].flags |= SITE_F_FALLBACK;
	}
	return inv;
}

static int inv_link(struct inventory *inv, int a, int b, enum link_kind kind, double cap,
		    double len)
{
	struct link *k = &inv->links[inv->nlinks];
	cr_assert(asprintf(&k->id, "L%zu", inv->nlinks) > 0);
	k->a = a;
	k->b = b;
	k->kind = kind;
	k->capacity_mbps = cap;
	k->length_m = len;
	return (int)inv->nlinks++;
}

static int fibre(struct inventory *inv, int a, int b)
{
	return inv_link(inv, a, b, LINK_FIBRE, 1000, 100);
}

static void inv_free(struct inventory *inv)
{
	for (size_t i = 0; i < inv->nsites; i++) {
		free(inv->sites[i].id);
		free(inv->sites[i].name);
	}
	for (size_t i = 0; i < inv->nlinks; i++)
		free(inv->links[i].id);
	free(inv->sites);
	free(inv->links);
	free(inv);
}

struct analysis {
	struct topo *t;
	struct topo_connectivity conn;
	struct topo_resilience res;
};

static void analyse(const struct inventory *inv, const struct topo_failset *fs, struct analysis *a)
{
	cr_assert_eq(topo_new(inv, fs, &a->t), 0);
	cr_assert_eq(topo_connectivity(a->t, &a->conn), 0);
	cr_assert_eq(topo_resilience(a->t, &a->res), 0);
}

static void analysis_free(struct analysis *a)
{
	topo_resilience_free(&a->res);
	topo_connectivity_free(&a->conn);
	topo_free(a->t);
}

static const struct topo_spof *find_spof(const struct topo_resilience *r, enum topo_element k,
					 int index)
{
	for (size_t i = 0; i < r->nspof; i++)
		if (r->spof[i].kind == k && r->spof[i].index == index)
			return &r->spof[i];
	return NULL;
}

static void assert_cut(const struct topo_resilience *r, enum topo_element k, int index,
		       const int *want, size_t n)
{
	const struct topo_spof *s = find_spof(r, k, index);
	cr_assert_not_null(s, "%s %d is not a single point of failure",
			   k == TOPO_SITE ? "site" : "link", index);
	cr_assert_eq(s->ncut, n, "%s %d cuts off %zu sites, expected %zu",
		     k == TOPO_SITE ? "site" : "link", index, s->ncut, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(s->cut[i], want[i], "%s %d: cut[%zu] = %d, expected %d",
			     k == TOPO_SITE ? "site" : "link", index, i, s->cut[i], want[i]);
}

/* ---- resilience on known shapes ---- */

Test(topology, ring_has_no_single_point_of_failure)
{
	struct inventory *inv = inv_new(6, 0, 3);
	for (int i = 0; i < 6; i++)
		fibre(inv, i, (i + 1) % 6);
	struct analysis a;
	analyse(inv, NULL, &a);
	cr_assert_eq(a.conn.ncomponents, 1);
	cr_assert_eq(a.conn.ncut_off, 0);
	cr_assert_eq(a.res.nspof, 0);
	cr_assert_eq(a.res.class_count[TOPO_CLASS_REDUNDANT], 6);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(a.res.cls[i], TOPO_CLASS_REDUNDANT, "site %d", i);
	cr_assert_eq(a.res.plain_articulation_points, 0);
	cr_assert_eq(a.res.plain_bridges, 0);
	analysis_free(&a);
	inv_free(inv);
}

Test(topology, ring_with_one_data_centre_depends_on_it)
{
	struct inventory *inv = inv_new(5, 2, -1);
	for (int i = 0; i < 5; i++)
		fibre(inv, i, (i + 1) % 5);
	struct analysis a;
	analyse(inv, NULL, &a);
	/* Without a fallback, the data centre itself cuts everyone else off. */
	cr_assert_eq(a.res.nspof, 1);
	assert_cut(&a.res, TOPO_SITE, 2, (int[]){0, 1, 3, 4}, 4);
	cr_assert_eq(a.res.cls[2], TOPO_CLASS_REDUNDANT);
	cr_assert_eq(a.res.class_count[TOPO_CLASS_SINGLE], 4);
	analysis_free(&a);
	inv_free(inv);
}

Test(topology, chain_every_inner_site_and_every_link_is_critical)
{
	/* DC 0 - 1 - 2 - 3 - 4 */
	struct inventory *inv = inv_new(5, 0, -1);
	for (int i = 0; i < 4; i++)
		fibre(inv, i, i + 1);
	struct analysis a;
	analyse(inv, NULL, &a);
	cr_assert_eq(a.res.nspof_links, 4);
	cr_assert_eq(a.res.nspof_sites, 4); /* the DC and the three inner sites */
	assert_cut(&a.res, TOPO_SITE, 0, (int[]){1, 2, 3, 4}, 4);
	assert_cut(&a.res, TOPO_SITE, 1, (int[]){2, 3, 4}, 3);
	assert_cut(&a.res, TOPO_SITE, 2, (int[]){3, 4}, 2);
	assert_cut(&a.res, TOPO_SITE, 3, (int[]){4}, 1);
	cr_assert_null(find_spof(&a.res, TOPO_SITE, 4));
	assert_cut(&a.res, TOPO_LINK, 0, (int[]){1, 2, 3, 4}, 4);
	assert_cut(&a.res, TOPO_LINK, 1, (int[]){2, 3, 4}, 3);
	assert_cut(&a.res, TOPO_LINK, 2, (int[]){3, 4}, 2);
	assert_cut(&a.res, TOPO_LINK, 3, (int[]){4}, 1);
	cr_assert_eq(a.res.cls[0], TOPO_CLASS_REDUNDANT);
	for (int i = 1; i < 5; i++)
		cr_assert_eq(a.res.cls[i], TOPO_CLASS_SINGLE, "site %d", i);
	/* Sorted by what they cut off, sites before links on ties. */
	cr_assert_eq(a.res.spof[0].kind, TOPO_SITE);
	cr_assert_eq(a.res.spof[0].ncut, 4);
	cr_assert_eq(a.res.spof[1].kind, TOPO_LINK);
	cr_assert_eq(a.res.spof[1].ncut, 4);
	cr_assert_float_eq(a.res.spof[0].cut_demand_mbps, 40, 1e-9);
	cr_assert_eq(a.res.plain_articulation_points, 3);
	cr_assert_eq(a.res.plain_bridges, 4);
	analysis_free(&a);
	inv_free(inv);
}

Test(topology, chain_between_both_data_centres_is_redundant)
{
	/* With a DC at each end, every site has two ways out. */
	struct inventory *inv = inv_new(5, 0, 4);
	for (int i = 0; i < 4; i++)
		fibre(inv, i, i + 1);
	struct analysis a;
	analyse(inv, NULL, &a);
	cr_assert_eq(a.res.nspof, 0);
	cr_assert_eq(a.res.class_count[TOPO_CLASS_REDUNDANT], 5);
	cr_assert_eq(a.res.plain_bridges, 4, "igraph's plain count ignores the DC pair");
	analysis_free(&a);
	inv_free(inv);
}

Test(topology, star_with_data_centres_on_two_leaves)
{
	/* Centre 0; leaves 1 (primary), 2 (fallback), 3, 4, 5. */
	struct inventory *inv = inv_new(6, 1, 2);
	for (int i = 1; i < 6; i++)
		fibre(inv, 0, i);
	struct analysis a;
	analyse(inv, NULL, &a);
	assert_cut(&a.res, TOPO_SITE, 0, (int[]){3, 4, 5}, 3);
	assert_cut(&a.res, TOPO_LINK, 2, (int[]){3}, 1);
	assert_cut(&a.res, TOPO_LINK, 3, (int[]){4}, 1);
	assert_cut(&a.res, TOPO_LINK, 4, (int[]){5}, 1);
	cr_assert_null(find_spof(&a.res, TOPO_LINK, 0),
		       "centre-primary has the fallback beside it");
	cr_assert_null(find_spof(&a.res, TOPO_LINK, 1));
	cr_assert_eq(a.res.nspof, 4);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(a.res.cls[i], TOPO_CLASS_REDUNDANT, "site %d", i);
	for (int i = 3; i < 6; i++)
		cr_assert_eq(a.res.cls[i], TOPO_CLASS_SINGLE, "site %d", i);
	cr_assert_eq(a.res.plain_articulation_points, 1);
	cr_assert_eq(a.res.plain_bridges, 5);
	analysis_free(&a);
	inv_free(inv);
}

Test(topology, two_rings_joined_by_a_bridge)
{
	/* Ring 0-1-2-3 (DCs 0 and 1), ring 4-5-6-7, bridge 2-4. */
	struct inventory *inv = inv_new(8, 0, 1);
	for (int i = 0; i < 4; i++)
		fibre(inv, i, (i + 1) % 4);
	for (int i = 0; i < 4; i++)
		fibre(inv, 4 + i, 4 + (i + 1) % 4);
	int bridge = fibre(inv, 2, 4);
	struct analysis a;
	analyse(inv, NULL, &a);
	cr_assert_eq(a.res.nspof, 3);
	assert_cut(&a.res, TOPO_SITE, 2, (int[]){4, 5, 6, 7}, 4);
	assert_cut(&a.res, TOPO_SITE, 4, (int[]){5, 6, 7}, 3);
	assert_cut(&a.res, TOPO_LINK, bridge, (int[]){4, 5, 6, 7}, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(a.res.cls[i], TOPO_CLASS_REDUNDANT, "site %d", i);
	for (int i = 4; i < 8; i++)
		cr_assert_eq(a.res.cls[i], TOPO_CLASS_SINGLE, "site %d", i);
	cr_assert_eq(a.res.plain_articulation_points, 2);
	cr_assert_eq(a.res.plain_bridges, 1);
	analysis_free(&a);
	inv_free(inv);
}

Test(topology, disconnected_and_planned_only_sites_are_cut_off)
{
	/* Ring 0..3 with DCs 0, 2; site 4 isolated; site 5 only on a planned trench;
	 * sites 6-7 an island of their own. */
	struct inventory *inv = inv_new(8, 0, 2);
	for (int i = 0; i < 4; i++)
		fibre(inv, i, (i + 1) % 4);
	int planned = inv_link(inv, 3, 5, LINK_PLANNED, 1000, 50);
	fibre(inv, 6, 7);
	struct analysis a;
	analyse(inv, NULL, &a);
	cr_assert_eq(topo_nedges(a.t), 5);
	cr_assert_not(topo_link_in_graph(a.t, (size_t)planned));
	cr_assert_eq(a.conn.ncomponents, 4);
	cr_assert_eq(a.conn.ncut_off, 4);
	int want[] = {4, 5, 6, 7};
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(a.conn.cut_off[i], want[i]);
		cr_assert_eq(a.res.cls[want[i]], TOPO_CLASS_CUT_OFF);
	}
	cr_assert_eq(a.res.class_count[TOPO_CLASS_CUT_OFF], 4);
	cr_assert_eq(a.res.class_count[TOPO_CLASS_REDUNDANT], 4);
	cr_assert_eq(a.conn.component[6], a.conn.component[7]);
	cr_assert_neq(a.conn.component[6], a.conn.component[0]);
	analysis_free(&a);
	inv_free(inv);
}

Test(topology, parallel_links_are_two_paths)
{
	/* DCs 0 and 1 joined; site 2 hangs off 1 by two parallel fibres, site 3
	 * off 2 by one. */
	struct inventory *inv = inv_new(4, 0, 1);
	fibre(inv, 0, 1);
	int p1 = fibre(inv, 1, 2), p2 = fibre(inv, 2, 1);
	int single = fibre(inv, 2, 3);
	struct analysis a;
	analyse(inv, NULL, &a);
	cr_assert_null(find_spof(&a.res, TOPO_LINK, p1));
	cr_assert_null(find_spof(&a.res, TOPO_LINK, p2));
	assert_cut(&a.res, TOPO_LINK, single, (int[]){3}, 1);
	assert_cut(&a.res, TOPO_SITE, 1, (int[]){2, 3}, 2);
	assert_cut(&a.res, TOPO_SITE, 2, (int[]){3}, 1);
	cr_assert_eq(a.res.nspof_links, 1);
	cr_assert_eq(a.res.plain_bridges, 2, "0-1 and 2-3; the parallel pair is none");
	analysis_free(&a);
	inv_free(inv);
}

/* ---- what-if ---- */

Test(topology, whatif_reports_lost_sites_and_class_changes)
{
	/* Ring 0..5 with DCs 0 and 3, site 6 hanging off 1. */
	struct inventory *inv = inv_new(7, 0, 3);
	for (int i = 0; i < 6; i++)
		fibre(inv, i, (i + 1) % 6);
	fibre(inv, 1, 6);
	inv->sites[6].required_mbps = 55;
	struct analysis base;
	analyse(inv, NULL, &base);
	cr_assert_eq(base.res.cls[6], TOPO_CLASS_SINGLE);

	const char *ids1[] = {"L0"};
	struct diag_list *dl = diag_list_new();
	struct topo_failset fs;
	cr_assert_eq(topo_failset_resolve(inv, ids1, 1, dl, &fs), 0);
	cr_assert_eq(fs.nlinks, 1);
	cr_assert_eq(fs.links[0], 0);
	struct analysis after;
	analyse(inv, &fs, &after);
	struct topo_whatif w;
	cr_assert_eq(topo_whatif(inv, &base.res, &after.res, &w), 0);
	/* Without 0-1 the ring is a chain 1-2-3-4-5-0: 1 and 2 hang off DC 3,
	 * 4 and 5 still lie between both DCs. */
	cr_assert_eq(w.nlost, 0);
	cr_assert_eq(w.transitions[2][1], 2);
	cr_assert_eq(w.nchanged, 2);
	cr_assert_eq(w.changed[0].site, 1);
	cr_assert_eq(w.changed[1].site, 2);
	cr_assert_eq(after.res.cls[4], TOPO_CLASS_REDUNDANT);
	topo_whatif_free(&w);
	analysis_free(&after);
	topo_failset_free(&fs);

	const char *ids2[] = {"L0", "S3"};
	cr_assert_eq(topo_failset_resolve(inv, ids2, 2, dl, &fs), 0);
	analyse(inv, &fs, &after);
	cr_assert_eq(topo_whatif(inv, &base.res, &after.res, &w), 0);
	cr_assert_eq(w.nfailed_sites, 1);
	cr_assert_eq(w.failed_sites[0], 3);
	cr_assert_eq(w.nlost, 3);
	cr_assert_eq(w.lost[0], 1);
	cr_assert_eq(w.lost[1], 2);
	cr_assert_eq(w.lost[2], 6);
	cr_assert_float_eq(w.lost_demand_mbps, 75, 1e-9);
	cr_assert_eq(w.transitions[2][0], 2);
	cr_assert_eq(w.transitions[1][0], 1);
	cr_assert_eq(w.transitions[2][1], 2); /* 4 and 5 now hang off DC 0 alone */
	cr_assert_eq(after.res.cls[3], TOPO_CLASS_FAILED);
	topo_whatif_free(&w);
	analysis_free(&after);
	topo_failset_free(&fs);
	analysis_free(&base);
	diag_list_free(dl);
	inv_free(inv);
}

Test(topology, fail_unknown_id_suggests)
{
	struct inventory *inv = inv_new(3, 0, -1);
	fibre(inv, 0, 1);
	inv_link(inv, 1, 2, LINK_PLANNED, 100, 10);
	const char *ids[] = {"L1x", "S1", "Q"};
	struct diag_list *dl = diag_list_new();
	struct topo_failset fs;
	cr_assert_eq(topo_failset_resolve(inv, ids, 3, dl, &fs), -EINVAL);
	cr_assert_eq(diag_errors(dl), 2, "%s", tu_diags(dl));
	cr_assert(tu_diag_contains(dl, "unknown site or link 'L1x' (did you mean 'L1'?)"), "%s",
		  tu_diags(dl));
	cr_assert(tu_diag_contains(dl, "unknown site or link 'Q'"), "%s", tu_diags(dl));
	diag_list_free(dl);

	const char *planned[] = {"L1", "S2"};
	dl = diag_list_new();
	cr_assert_eq(topo_failset_resolve(inv, planned, 2, dl, &fs), 0);
	cr_assert_eq(diag_warnings(dl), 1, "a planned trench cannot fail: %s", tu_diags(dl));
	cr_assert_eq(fs.nlinks, 0);
	cr_assert_eq(fs.nsites, 1);
	topo_failset_free(&fs);
	diag_list_free(dl);
	inv_free(inv);
}

/* ---- capacity ---- */

/*
 * DC0 (primary) and DC1 (fallback); sites A=2, B=3, C=4, D=5.
 *   L0 DC0-A 100 m 1000   L1 A-B 100 m 100   L2 DC0-B 250 m 1000
 *   L3 B-C 50 m 100       L4 DC1-C 10 m 1000 L5 DC0-DC1 1000 m 10000
 *   L6 C-D 20 m 100
 * Shortest paths from DC0: A 100 (L0), B 200 (via A, not 250 direct),
 * C 250, DC1 260 (via C, not 1000 direct), D 270. Tree: L0 L1 L3 L4 L6.
 * Demands DC1 5, A 10, B 20, C 30, D 7: loads L6 7, L4 5, L3 42, L1 62,
 * L0 72, L2 and L5 0.
 */
static struct inventory *capacity_city(void)
{
	struct inventory *inv = inv_new(6, 0, 1);
	inv_link(inv, 0, 2, LINK_FIBRE, 1000, 100);
	inv_link(inv, 2, 3, LINK_FIBRE, 100, 100);
	inv_link(inv, 0, 3, LINK_FIBRE, 1000, 250);
	inv_link(inv, 3, 4, LINK_FIBRE, 100, 50);
	inv_link(inv, 1, 4, LINK_FIBRE, 1000, 10);
	inv_link(inv, 0, 1, LINK_FIBRE, 10000, 1000);
	inv_link(inv, 4, 5, LINK_FIBRE, 100, 20);
	double dem[] = {0, 5, 10, 20, 30, 7};
	for (int i = 0; i < 6; i++)
		inv->sites[i].required_mbps = dem[i];
	return inv;
}

Test(topology, capacity_loads_and_bottlenecks_by_hand)
{
	struct inventory *inv = capacity_city();
	struct topo *t;
	cr_assert_eq(topo_new(inv, NULL, &t), 0);
	struct topo_capacity c;
	struct topo_capacity_opts o = {.threshold = 0.5, .n1 = TOPO_N1_NONE};
	cr_assert_eq(topo_capacity(t, &o, &c), 0);
	double load[] = {72, 62, 0, 42, 5, 0, 7};
	for (int l = 0; l < 7; l++) {
		cr_assert_float_eq(c.links[l].load_mbps, load[l], 1e-9, "L%d", l);
		cr_assert_float_eq(c.links[l].util, load[l] / inv->links[l].capacity_mbps, 1e-12,
				   "L%d", l);
		cr_assert_float_eq(c.links[l].headroom_mbps, inv->links[l].capacity_mbps - load[l],
				   1e-9, "L%d", l);
	}
	cr_assert_eq(c.nover, 1);
	cr_assert_eq(c.over[0], 1, "only A-B runs above 50%%");
	cr_assert_eq(c.by_load[0], 1);
	cr_assert_eq(c.by_load[1], 3);
	cr_assert_float_eq(c.demand_mbps, 72, 1e-9);
	cr_assert_float_eq(c.unroutable_mbps, 0, 1e-9);
	cr_assert_eq(c.n1_set, TOPO_N1_NONE);
	cr_assert_eq(c.nfailures, 0);

	cr_assert_float_eq(c.sites[5].dist_m, 270, 1e-9);
	cr_assert_eq(c.sites[5].hops, 4);
	cr_assert_eq(c.sites[5].dc, 0);
	cr_assert_eq(c.sites[1].dc, 0, "the fallback itself is routed to the primary");
	cr_assert_eq(c.sites[2].bottleneck_link, 0);
	cr_assert_float_eq(c.sites[2].bottleneck_mbps, 1000, 1e-9);
	/* L1 and L3 are both 100 Mbit/s: the one nearer the DC is reported. */
	cr_assert_eq(c.sites[4].bottleneck_link, 1);
	cr_assert_eq(c.sites[5].bottleneck_link, 1);
	cr_assert_float_eq(c.sites[5].bottleneck_mbps, 100, 1e-9);
	cr_assert_eq(c.sites[0].bottleneck_link, -1);
	topo_capacity_free(&c);
	topo_free(t);
	inv_free(inv);
}

Test(topology, capacity_n1_worst_cases_by_hand)
{
	struct inventory *inv = capacity_city();
	struct topo *t;
	cr_assert_eq(topo_new(inv, NULL, &t), 0);
	struct topo_capacity c;
	struct topo_capacity_opts o = {.threshold = 0.8, .n1 = TOPO_N1_ALL};
	cr_assert_eq(topo_capacity(t, &o, &c), 0);
	cr_assert_eq(c.n1_set, TOPO_N1_ALL);
	cr_assert_eq(c.nfailures, 7);
	/*
	 * L0 fails: B via L2 (250), A behind B: L2 72, L1 10.
	 * L1 fails: B via L2: L0 10, L2 62.
	 * L3 fails: DC1 via L5 (1000), C behind DC1, D behind C:
	 *           L5 42, L4 37, L1 20, L0 30.
	 * L4 fails: DC1 via L5: L5 5, L3 37, L1 57, L0 67.
	 * L6 fails: D has no other path: 7 Mbit/s unroutable.
	 * So L2's worst is 72 (L0 failing), L4's 37 and L5's 42 (L3 failing);
	 * no failure raises L0, L1, L3 or L6 above their normal load.
	 */
	struct {
		double load;
		int cause;
	} worst[] = {{72, -1}, {62, -1}, {72, 0}, {42, -1}, {37, 3}, {42, 3}, {7, -1}};
	for (int l = 0; l < 7; l++) {
		cr_assert_float_eq(c.links[l].worst_load_mbps, worst[l].load, 1e-9, "L%d", l);
		cr_assert_float_eq(c.links[l].worst_util,
				   worst[l].load / inv->links[l].capacity_mbps, 1e-12, "L%d", l);
		cr_assert_eq(c.links[l].worst_cause, worst[l].cause, "L%d: cause %d", l,
			     c.links[l].worst_cause);
	}
	size_t rerouted[] = {5, 4, 0, 3, 1, 0, 1};
	for (int l = 0; l < 7; l++) {
		cr_assert_eq(c.failures[l].link, l);
		cr_assert_eq(c.failures[l].rerouted_sites, rerouted[l], "L%d", l);
		cr_assert_eq(c.failures[l].unroutable_sites, l == 6 ? 1 : 0, "L%d", l);
		cr_assert_float_eq(c.failures[l].unroutable_mbps, l == 6 ? 7 : 0, 1e-9, "L%d", l);
	}
	/* With L0 failed, A-B drops to 10 % and B-C's 42 % is the highest; with L4
	 * failed, A-B carries 57. */
	cr_assert_eq(c.failures[0].max_util_link, 3);
	cr_assert_float_eq(c.failures[0].max_util, 0.42, 1e-12);
	cr_assert_eq(c.failures[4].max_util_link, 1);
	cr_assert_float_eq(c.failures[4].max_util, 0.57, 1e-12);

	double loads[7], unr;
	cr_assert_eq(topo_n1_scenario(t, &c, 3, loads, &unr), 0);
	double want[] = {30, 20, 0, 0, 37, 42, 7};
	for (int l = 0; l < 7; l++)
		cr_assert_float_eq(loads[l], want[l], 1e-9, "L3 failing: L%d", l);
	cr_assert_float_eq(unr, 0, 1e-12);
	topo_capacity_free(&c);
	topo_free(t);
	inv_free(inv);
}

Test(topology, capacity_falls_back_when_primary_is_unreachable)
{
	/* Two islands: DC0 with site 2, DC1 with sites 3-4. */
	struct inventory *inv = inv_new(5, 0, 1);
	fibre(inv, 0, 2);
	fibre(inv, 1, 3);
	fibre(inv, 3, 4);
	inv->sites[3].required_mbps = 40;
	inv->sites[4].required_mbps = 25;
	struct topo *t;
	cr_assert_eq(topo_new(inv, NULL, &t), 0);
	struct topo_capacity c;
	struct topo_capacity_opts o = {.threshold = 0.8, .n1 = TOPO_N1_CORE};
	cr_assert_eq(topo_capacity(t, &o, &c), 0);
	cr_assert_eq(c.sites[2].dc, 0);
	cr_assert_eq(c.sites[3].dc, 1);
	cr_assert_eq(c.sites[4].dc, 1);
	cr_assert_float_eq(c.links[1].load_mbps, 65, 1e-9);
	cr_assert_float_eq(c.sites[4].dist_m, 200, 1e-9);
	/* 'core': only links between hubs and data centres fail; here none. */
	cr_assert_eq(c.n1_set, TOPO_N1_CORE);
	cr_assert_eq(c.nfailures, 0);
	topo_capacity_free(&c);
	topo_free(t);
	inv_free(inv);
}

/* ---- random graphs against brute force ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* splitmix64: fixed seeds make every run check the same graphs. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

static struct inventory *random_city(uint64_t seed)
{
	rng_state = seed;
	size_t n = 8 + rng() % 33;
	int fallback = rng() % 4 ? 1 : -1;
	struct inventory *inv = inv_new(n, 0, fallback);
	/* A random tree over most sites, then extra and parallel links; a few
	 * sites stay outside or only on planned trenches. */
	size_t attached = n - rng() % 3;
	for (size_t v = 1; v < attached; v++) {
		int p = (int)(rng() % v);
		inv_link(inv, p, (int)v, LINK_FIBRE, 50 + 950 * rnd(), 10 + 990 * rnd());
	}
	size_t extra = rng() % (n / 2 + 1);
	for (size_t i = 0; i < extra; i++) {
		int a = (int)(rng() % n), b = (int)(rng() % n);
		if (a == b)
			continue;
		enum link_kind k = rng() % 6 == 0 ? LINK_PLANNED : LINK_RENTED;
		inv_link(inv, a, b, k, 50 + 950 * rnd(), 10 + 990 * rnd());
	}
	for (size_t v = 0; v < n; v++)
		inv->sites[v].required_mbps = floor(1 + 100 * rnd());
	return inv;
}

Test(topology, incremental_n1_equals_brute_force_on_random_graphs)
{
	for (uint64_t g = 0; g < 50; g++) {
		struct inventory *inv = random_city(1000 + g);
		struct topo *t;
		cr_assert_eq(topo_new(inv, NULL, &t), 0);
		struct topo_capacity c;
		struct topo_capacity_opts o = {.threshold = 0.8, .n1 = TOPO_N1_ALL};
		cr_assert_eq(topo_capacity(t, &o, &c), 0);
		double *loads = calloc(inv->nlinks, sizeof(double));
		double *worst = calloc(inv->nlinks, sizeof(double));
		cr_assert_not_null(loads);
		cr_assert_not_null(worst);
		for (size_t l = 0; l < inv->nlinks; l++)
			worst[l] = c.links[l].util;
		size_t fi = 0;
		for (size_t l = 0; l < inv->nlinks; l++) {
			if (inv->links[l].kind == LINK_PLANNED)
				continue;
			double unr;
			cr_assert_eq(topo_n1_scenario(t, &c, (int)l, loads, &unr), 0);
			int fl = (int)l;
			struct topo_failset fs = {.links = &fl, .nlinks = 1};
			struct topo *tb;
			struct topo_capacity b;
			struct topo_capacity_opts ob = {.threshold = 0.8, .n1 = TOPO_N1_NONE};
			cr_assert_eq(topo_new(inv, &fs, &tb), 0);
			cr_assert_eq(topo_capacity(tb, &ob, &b), 0);
			for (size_t k = 0; k < inv->nlinks; k++) {
				cr_assert_float_eq(
				    loads[k], b.links[k].load_mbps, 1e-6,
				    "graph %lu, %s fails: load of %s %.6f, brute force "
				    "%.6f",
				    (unsigned long)g, inv->links[l].id, inv->links[k].id, loads[k],
				    b.links[k].load_mbps);
				if (b.links[k].in_graph && b.links[k].util > worst[k])
					worst[k] = b.links[k].util;
			}
			cr_assert_float_eq(unr, b.unroutable_mbps - c.unroutable_mbps, 1e-6,
					   "graph %lu, %s fails", (unsigned long)g,
					   inv->links[l].id);
			cr_assert_eq(c.failures[fi].link, (int)l);
			cr_assert_float_eq(c.failures[fi].unroutable_mbps, unr, 1e-9);
			fi++;
			topo_capacity_free(&b);
			topo_free(tb);
		}
		cr_assert_eq(fi, c.nfailures);
		for (size_t l = 0; l < inv->nlinks; l++) {
			if (!c.links[l].in_graph)
				continue;
			cr_assert_float_eq(c.links[l].worst_util, worst[l], 1e-9,
					   "graph %lu, worst case of %s", (unsigned long)g,
					   inv->links[l].id);
		}
		free(loads);
		free(worst);
		topo_capacity_free(&c);
		topo_free(t);
		inv_free(inv);
	}
}

Test(topology, spof_cut_sets_equal_brute_force_on_random_graphs)
{
	for (uint64_t g = 0; g < 30; g++) {
		struct inventory *inv = random_city(5000 + g);
		struct analysis a;
		analyse(inv, NULL, &a);
		unsigned char *single = calloc(inv->nsites, 1);
		cr_assert_not_null(single);
		/* Take out every site and every link in turn; what newly reaches no
		 * DC is exactly the reported cut set. */
		for (size_t e = 0; e < inv->nsites + inv->nlinks; e++) {
			int idx = (int)(e < inv->nsites ? e : e - inv->nsites);
			enum topo_element kind = e < inv->nsites ? TOPO_SITE : TOPO_LINK;
			if (kind == TOPO_LINK && inv->links[idx].kind == LINK_PLANNED)
				continue;
			struct topo_failset fs = {0};
			if (kind == TOPO_SITE) {
				fs.sites = &idx;
				fs.nsites = 1;
			} else {
				fs.links = &idx;
				fs.nlinks = 1;
			}
			struct analysis f;
			analyse(inv, &fs, &f);
			int newly[64];
			size_t nn = 0;
			for (size_t v = 0; v < inv->nsites; v++)
				if (a.res.cls[v] != TOPO_CLASS_CUT_OFF &&
				    f.res.cls[v] == TOPO_CLASS_CUT_OFF) {
					newly[nn++] = (int)v;
					single[v] = 1;
				}
			const struct topo_spof *s = find_spof(&a.res, kind, idx);
			if (nn == 0)
				cr_assert_null(s, "graph %lu: %s %d cuts off nothing",
					       (unsigned long)g,
					       kind == TOPO_SITE ? "site" : "link", idx);
			else
				assert_cut(&a.res, kind, idx, newly, nn);
			analysis_free(&f);
		}
		for (size_t v = 0; v < inv->nsites; v++) {
			unsigned char want = a.res.cls[v] == TOPO_CLASS_CUT_OFF ? TOPO_CLASS_CUT_OFF
					     : single[v]			? TOPO_CLASS_SINGLE
							 : TOPO_CLASS_REDUNDANT;
			cr_assert_eq(a.res.cls[v], want, "graph %lu, site %zu: class %d, want %d",
				     (unsigned long)g, v, a.res.cls[v], want);
		}
		free(single);
		analysis_free(&a);
		inv_free(inv);
	}
}

/* ---- exports ---- */

static struct inventory *export_city(void)
{
	/* Ring DC0-1-2-3 with a spur 4 off 2 (bridge) and a planned trench 3-4. */
	struct inventory *inv = inv_new(5, 0, 1);
	for (int i = 0; i < 4; i++)
		fibre(inv, i, (i + 1) % 4);
	inv_link(inv, 2, 4, LINK_DSL, 50, 300);
	inv_link(inv, 3, 4, LINK_PLANNED, 1000, 200);
	free(inv->sites[2].name);
	inv->sites[2].name = strdup("Bürgerbüro Süd & \"Söhne\" <Möhringen>");
	inv->sites[4].broadband = BB_DSL;
	return inv;
}

struct exported {
	struct inventory *inv;
	struct analysis a;
	char *dir, *path;
};

static void export_to(enum export_format fmt, const char *name, struct exported *x)
{
	x->inv = export_city();
	analyse(x->inv, NULL, &x->a);
	x->dir = tu_tmpdir();
	cr_assert_not_null(x->dir);
	cr_assert(asprintf(&x->path, "%s/%s", x->dir, name) > 0);
	cr_assert_eq(export_write(x->a.t, &x->a.res, fmt, x->path), 0);
}

static void exported_free(struct exported *x)
{
	analysis_free(&x->a);
	inv_free(x->inv);
	tu_rmdir(x->dir);
	free(x->dir);
	free(x->path);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(topology, geojson_reads_back)
{
	struct exported x;
	export_to(EXPORT_GEOJSON, "t.geojson", &x);
	json_error_t err;
	json_t *j = json_load_file(x.path, 0, &err);
	cr_assert_not_null(j, "%s:%d: %s", x.path, err.line, err.text);
	cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "FeatureCollection");
	json_t *fs = json_object_get(j, "features");
	cr_assert_eq(json_array_size(fs), 5 + 5, "5 sites and 5 built links, no planned trench");
	size_t points = 0, lines = 0;
	for (size_t i = 0; i < json_array_size(fs); i++) {
		json_t *f = json_array_get(fs, i);
		json_t *geo = json_object_get(f, "geometry"), *p = json_object_get(f, "properties");
		const char *type = json_string_value(json_object_get(geo, "type"));
		json_t *co = json_object_get(geo, "coordinates");
		const char *id = json_string_value(json_object_get(p, "id"));
		cr_assert_str_eq(json_string_value(json_object_get(f, "type")), "Feature");
		if (strcmp(type, "Point") == 0) {
			int v = atoi(id + 1);
			const struct site *s = &x.inv->sites[v];
			/* RFC 7946: [longitude, latitude]. */
			cr_assert_float_eq(json_real_value(json_array_get(co, 0)), s->lon, 1e-9);
			cr_assert_float_eq(json_real_value(json_array_get(co, 1)), s->lat, 1e-9);
			cr_assert_str_eq(json_string_value(json_object_get(p, "name")), s->name);
			cr_assert_eq(json_integer_value(json_object_get(p, "redundancy_class")),
				     x.a.res.cls[v]);
			cr_assert_eq(json_is_true(json_object_get(p, "spof")), v == 2);
			points++;
		} else {
			cr_assert_str_eq(type, "LineString");
			int l = atoi(id + 1);
			const struct link *k = &x.inv->links[l];
			cr_assert_eq(json_array_size(co), 2);
			cr_assert_float_eq(
			    json_real_value(json_array_get(json_array_get(co, 1), 0)),
			    x.inv->sites[k->b].lon, 1e-9);
			cr_assert_str_eq(json_string_value(json_object_get(p, "kind")),
					 link_kind_names[k->kind]);
			cr_assert_float_eq(json_real_value(json_object_get(p, "capacity_mbps")),
					   k->capacity_mbps, 1e-9);
			cr_assert_eq(json_is_true(json_object_get(p, "bridge")), l == 4);
			lines++;
		}
	}
	cr_assert_eq(points, 5);
	cr_assert_eq(lines, 5);
	json_decref(j);
	exported_free(&x);
}

Test(topology, graphml_reads_back_with_igraph)
{
	struct exported x;
	export_to(EXPORT_GRAPHML, "t.graphml", &x);
	topo_igraph_init();
	FILE *f = fopen(x.path, "r");
	cr_assert_not_null(f);
	igraph_t g;
	cr_assert_eq(igraph_read_graph_graphml(&g, f, 0), IGRAPH_SUCCESS);
	fclose(f);
	cr_assert_eq(igraph_vcount(&g), 5);
	cr_assert_eq(igraph_ecount(&g), 5);
	cr_assert_str_eq(VAS(&g, "label", 2), x.inv->sites[2].name);
	cr_assert_str_eq(VAS(&g, "site", 4), "S4");
	cr_assert_str_eq(EAS(&g, "kind", 4), "dsl");
	cr_assert_float_eq(EAN(&g, "capacity_mbps", 4), 50, 1e-9);
	cr_assert_float_eq(VAN(&g, "redundancy_class", 4), TOPO_CLASS_SINGLE, 1e-9);
	igraph_destroy(&g);
	exported_free(&x);
}

Test(topology, svg_has_one_escaped_circle_per_site)
{
	struct exported x;
	export_to(EXPORT_SVG, "t.svg", &x);
	char *svg = tu_slurp(x.path, NULL);
	cr_assert(strncmp(svg, "<?xml", 5) == 0);
	cr_assert_eq(count(svg, "<circle"), x.inv->nsites);
	cr_assert_eq(count(svg, "</circle>"), x.inv->nsites);
	cr_assert_eq(count(svg, "<line"), 5);
	cr_assert_not_null(strstr(svg, "Bürgerbüro Süd &amp; &quot;Söhne&quot; &lt;Möhringen&gt;"));
	cr_assert_null(strstr(svg, "<Möhringen>"));
	cr_assert_eq(count(svg, "<svg"), 1);
	cr_assert_not_null(strstr(svg, "</svg>\n"));
	cr_assert_not_null(strstr(svg, "single point of failure"));
	free(svg);
	exported_free(&x);
}

Test(topology, dot_has_labels_and_escapes_quotes)
{
	struct exported x;
	export_to(EXPORT_DOT, "t.dot", &x);
	char *dot = tu_slurp(x.path, NULL);
	cr_assert(strncmp(dot, "graph segplan {", 15) == 0);
	cr_assert_eq(count(dot, " -- "), 5);
	cr_assert_not_null(strstr(dot, "\\\"Söhne\\\""));
	cr_assert_not_null(strstr(dot, "\"S2\\nBürgerbüro"));
	free(dot);
	exported_free(&x);
}

Test(topology, failed_export_leaves_no_file)
{
	struct inventory *inv = export_city();
	struct analysis a;
	analyse(inv, NULL, &a);
	char *dir = tu_tmpdir();
	char *path;
	cr_assert(asprintf(&path, "%s/missing/t.svg", dir) > 0);
	cr_assert_lt(export_write(a.t, &a.res, EXPORT_SVG, path), 0);
	cr_assert_not(tu_file_exists(path));
	enum export_format fmt;
	cr_assert_eq(export_format_parse("geojson", &fmt), 0);
	cr_assert_eq(fmt, EXPORT_GEOJSON);
	cr_assert_eq(export_format_parse("GeoJSON", &fmt), -EINVAL);
	free(path);
	tu_rmdir(dir);
	free(dir);
	analysis_free(&a);
	inv_free(inv);
}
