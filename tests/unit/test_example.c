// SPDX-License-Identifier: MIT
/*
 * The example city is real: generated cities (and the committed
 * examples/stuttgart) are read back with inventory_load and checked against
 * what docs/inventory.md ("The example city") and docs/addressplan.md promise.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csvread.h"
#include "core/prefix.h"
#include "example/example.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

static const char *const files[] = {"districts.csv",	  "sites.csv",	     "links.csv",
				    "segments.csv",	  "addressplan.csv", "interfaces.csv",
				    "hosts.csv",	  "README.md",	     "policy.yaml",
				    "policy-stage2.yaml", "vpn.yaml",	     "rollout.yaml"};
#define NFILES (sizeof(files) / sizeof(files[0]))

/* A fresh city in a new temporary directory. */
static char *generate(long sites, uint64_t seed, struct example_summary *sum)
{
	struct example_opts o;
	example_opts_default(&o);
	o.sites = sites;
	o.seed = seed;
	char *dir = tu_tmpdir();
	cr_assert_not_null(dir);
	int r = example_generate(&o, dir, sum);
	cr_assert_eq(r, 0, "example_generate(%ld, %llu): %s", sites, (unsigned long long)seed,
		     strerror(-r));
	return dir;
}

static struct inventory *load(const char *dir)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	int r = inventory_load(dir, dl, &inv);
	cr_assert_eq(r, 0, "%s does not load:\n%s", dir, tu_diags(dl));
	cr_assert_eq(diag_warnings(dl), 0, "%s has warnings:\n%s", dir, tu_diags(dl));
	diag_list_free(dl);
	return inv;
}

static size_t load_stage2(const char *dir, const char *date);

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return tu_slurp(path, len);
}

static bool same_file(const char *a, const char *b, const char *name)
{
	size_t la, lb;
	char *x = slurp(a, name, &la), *y = slurp(b, name, &lb);
	bool same = la == lb && memcmp(x, y, la) == 0;
	free(x);
	free(y);
	return same;
}

/* --- the checks, shared by the fresh and the committed city --- */

/* docs/inventory.md: within radius_m of its centre and no other centre nearer. */
static void check_sites_in_area(const struct inventory *inv)
{
	cr_assert_eq(inv->ndistricts, 23);
	for (size_t i = 0; i < inv->nsites; i++) {
		const struct site *s = &inv->sites[i];
		const struct district *d = &inv->districts[s->district];
		double own = geo_distance_m(s->lat, s->lon, d->lat, d->lon);
		cr_assert_leq(own, d->radius_m, "%s is %.1f m from the centre of %s (radius %.0f)",
			      s->id, own, d->name, d->radius_m);
		for (size_t k = 0; k < inv->ndistricts; k++) {
			const struct district *o = &inv->districts[k];
			cr_assert_geq(geo_distance_m(s->lat, s->lon, o->lat, o->lon), own,
				      "%s in %s is nearer to the centre of %s", s->id, d->name,
				      o->name);
		}
	}
}

static bool is_ring_node(const struct site *s)
{
	return s->flags & (SITE_F_HUB | SITE_F_PRIMARY | SITE_F_FALLBACK);
}

/* Ring nodes reachable from the first one over ring links, skipping link 'skip'. */
static size_t ring_reach(const struct inventory *inv, const int *ring_links, size_t nrl,
			 size_t skip, int start)
{
	bool *seen = calloc(inv->nsites, sizeof(*seen));
	int *stack = malloc(inv->nsites * sizeof(*stack));
	size_t top = 0, count = 1;
	seen[start] = true;
	stack[top++] = start;
	while (top) {
		int v = stack[--top];
		for (size_t k = 0; k < nrl; k++) {
			if (k == skip)
				continue;
			const struct link *l = &inv->links[ring_links[k]];
			int w = l->a == v ? l->b : l->b == v ? l->a : -1;
			if (w >= 0 && !seen[w]) {
				seen[w] = true;
				stack[top++] = w;
				count++;
			}
		}
	}
	free(seen);
	free(stack);
	return count;
}

/* Removing any one ring link keeps all ring nodes connected (2-edge-connected). */
static void check_core_ring(const struct inventory *inv)
{
	size_t nodes = 0, nrl = 0;
	int start = -1;
	int *rl = malloc(inv->nlinks * sizeof(*rl));
	for (size_t i = 0; i < inv->nsites; i++)
		if (is_ring_node(&inv->sites[i])) {
			nodes++;
			start = (int)i;
		}
	for (size_t i = 0; i < inv->nlinks; i++) {
		const struct link *l = &inv->links[i];
		if (l->kind == LINK_FIBRE && is_ring_node(&inv->sites[l->a]) &&
		    is_ring_node(&inv->sites[l->b])) {
			cr_assert_geq(l->capacity_mbps, 10000, "core link %s is too thin", l->id);
			rl[nrl++] = (int)i;
		}
	}
	cr_assert_eq(nodes, 25, "2 data centres + 23 hubs, got %zu ring nodes", nodes);
	cr_assert_geq(nrl, nodes);
	cr_assert_eq(ring_reach(inv, rl, nrl, SIZE_MAX, start), nodes);
	for (size_t k = 0; k < nrl; k++)
		cr_assert_eq(ring_reach(inv, rl, nrl, k, start), nodes,
			     "removing %s disconnects the core ring", inv->links[rl[k]].id);
	free(rl);
}

/* Fibre share, under-served schools, and the one interim line of every other site. */
static void check_broadband(const struct inventory *inv, size_t want_underserved)
{
	size_t other = 0, fibre = 0, under = 0;
	for (size_t i = 0; i < inv->nsites; i++) {
		const struct site *s = &inv->sites[i];
		if (s->type == SITE_DATA_CENTRE)
			continue;
		other++;
		if (s->broadband == BB_FIBRE) {
			fibre++;
			continue;
		}
		if (s->type == SITE_SCHOOL) {
			cr_assert_lt(s->current_mbps, s->required_mbps,
				     "school %s lacks fibre but is not under-served", s->id);
			under++;
		}
		size_t lines = 0;
		for (size_t k = 0; k < inv->nlinks; k++) {
			const struct link *l = &inv->links[k];
			if ((l->a != (int)i && l->b != (int)i) || l->kind == LINK_PLANNED)
				continue;
			cr_assert(l->kind == (s->broadband == BB_DSL ? LINK_DSL : LINK_RENTED),
				  "%s: %s link %s", s->id, broadband_names[s->broadband], l->id);
			const struct site *hub = &inv->sites[l->a == (int)i ? l->b : l->a];
			cr_assert(hub->flags & SITE_F_HUB, "%s's line %s does not end at a hub",
				  s->id, l->id);
			cr_assert_eq(hub->district, s->district);
			cr_assert_eq(l->capacity_mbps, s->current_mbps);
			lines++;
		}
		cr_assert_eq(lines, 1, "%s has %zu interim lines", s->id, lines);
	}
	double share = 100.0 * (double)fibre / (double)other;
	cr_assert(share >= 73.0 && share <= 77.0, "fibre share %.2f %% (%zu of %zu)", share, fibre,
		  other);
	cr_assert_eq(under, want_underserved, "%zu under-served schools", under);
}

/* length = great-circle distance x 1.3, to the printed 0.1 m; trench costs follow the model. */
static void check_links(const struct inventory *inv)
{
	size_t planned = 0, offnet = 0;
	for (size_t i = 0; i < inv->nsites; i++)
		offnet += inv->sites[i].broadband != BB_FIBRE;
	for (size_t i = 0; i < inv->nlinks; i++) {
		const struct link *l = &inv->links[i];
		const struct site *a = &inv->sites[l->a], *b = &inv->sites[l->b];
		double want =
		    geo_distance_m(a->lat, a->lon, b->lat, b->lon) * INVENTORY_DETOUR_FACTOR;
		cr_assert_leq(fabs(l->length_m - want), 0.05 + 1e-6, "%s: %.1f m, want %.3f m",
			      l->id, l->length_m, want);
		if (l->kind != LINK_PLANNED)
			continue;
		planned++;
		cr_assert_neq(a->broadband, BB_FIBRE, "trench %s starts at a fibre site", l->id);
		cr_assert_eq(b->broadband, BB_FIBRE, "trench %s does not end on fibre", l->id);
		double cost = EXAMPLE_TRENCH_FIXED_EUR + EXAMPLE_TRENCH_EUR_PER_M * l->length_m;
		cr_assert_leq(fabs(l->cost_eur - cost), 0.5, "%s costs %.0f, want %.0f", l->id,
			      l->cost_eur, cost);
	}
	/* A tenth of the off-fibre sites, rounded. */
	cr_assert_leq(fabs((double)planned - 0.1 * (double)offnet), 0.5,
		      "%zu trenches for %zu sites", planned, offnet);
}

struct overlap_ctx {
	size_t n;
	char first[160];
};

static void on_overlap(size_t i, size_t j, void *ctx)
{
	struct overlap_ctx *c = ctx;
	if (c->n++ == 0)
		snprintf(c->first, sizeof(c->first), "prefixes %zu and %zu", i, j);
}

static bool in_zone(const struct inventory *inv, const char *zone, const struct ip_prefix *p)
{
	for (size_t k = 0; k < inv->nplan; k++)
		if (strcmp(inv->plan[k].zone, zone) == 0 &&
		    ip_prefix_covers(&inv->plan[k].prefix, p))
			return true;
	return false;
}

/* No two segments overlap; each lies in its zone's supernets; supernets and pools are disjoint. */
static void check_plan(const struct inventory *inv)
{
	struct ip_prefix *v = malloc(2 * inv->nsegments * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		cr_assert(g->has_v6, "segment %zu has no IPv6 prefix", i);
		cr_assert_eq(g->v6.len, 64);
		v[n++] = g->v6;
		cr_assert(in_zone(inv, g->zone, &g->v6), "%s/%s IPv6 is outside its zone",
			  inv->sites[g->site].id, g->name);
		if (g->has_v4) {
			v[n++] = g->v4;
			cr_assert(in_zone(inv, g->zone, &g->v4), "%s/%s IPv4 is outside its zone",
				  inv->sites[g->site].id, g->name);
		}
	}
	struct overlap_ctx ctx = {0};
	cr_assert_eq(ip_prefix_find_overlaps(v, n, on_overlap, &ctx), 0);
	cr_assert_eq(ctx.n, 0, "%zu overlapping segments, first %s", ctx.n, ctx.first);
	n = 0;
	for (size_t k = 0; k < inv->nplan; k++) {
		const struct plan_prefix *p = &inv->plan[k];
		if (strcmp(p->zone, "city") == 0)
			continue;
		cr_assert(in_zone(inv, "city", &p->prefix), "plan row %s is outside the city",
			  p->zone);
		v[n++] = p->prefix;
	}
	cr_assert_gt(n, 0);
	cr_assert_eq(ip_prefix_find_overlaps(v, n, on_overlap, &ctx), 0);
	cr_assert_eq(ctx.n, 0, "zone supernets overlap: %s", ctx.first);
	free(v);
}

/* VLAN ids are per zone and unique within a site. */
static void check_vlans(const struct inventory *inv)
{
	for (size_t i = 1; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		for (size_t k = i; k-- > 0 && inv->segments[k].site == g->site;)
			cr_assert_neq(inv->segments[k].vlan, g->vlan, "VLAN %d twice at %s",
				      g->vlan, inv->sites[g->site].id);
	}
}

static bool overlaps_plan_row(const struct inventory *inv, const struct ip_prefix *p)
{
	for (size_t k = 0; k < inv->nplan; k++)
		if (strcmp(inv->plan[k].zone, "city") != 0 &&
		    ip_prefix_overlaps(&inv->plan[k].prefix, p))
			return true;
	return false;
}

/* The transfer nets of one interface: inside the city, in no zone and no pool. */
static void check_transfer_net(const struct inventory *inv, const struct iface *f)
{
	for (int fam = 0; fam < 2; fam++) {
		if (!(fam ? f->has_v6 : f->has_v4))
			continue;
		const struct ip_prefix *p = fam ? &f->net6 : &f->net4;
		cr_assert_eq(p->len, fam ? 127 : 31, "%s %s: /%u", inv->sites[f->site].id, f->name,
			     p->len);
		cr_assert(in_zone(inv, "city", p), "%s %s: transfer net outside the city",
			  inv->sites[f->site].id, f->name);
		cr_assert_not(overlaps_plan_row(inv, p), "%s %s: transfer net in a zone or pool",
			      inv->sites[f->site].id, f->name);
	}
}

/* A /31 whose two addresses are not the same: the two ends of one link. */
static void check_link_ends(const struct iface *a, const struct iface *b, const char *link)
{
	cr_assert_eq(a->has_v4, b->has_v4, "%s: one end without IPv4", link);
	cr_assert_eq(a->has_v6, b->has_v6, "%s: one end without IPv6", link);
	cr_assert(a->has_v6, "%s: no IPv6 transfer net", link);
	if (a->has_v4) {
		cr_assert_eq(ip_prefix_cmp(&a->net4, &b->net4), 0, "%s: different IPv4 nets", link);
		cr_assert_neq(ip_addr_cmp(&a->addr4, &b->addr4), 0, "%s: same IPv4 address", link);
	}
	cr_assert_eq(ip_prefix_cmp(&a->net6, &b->net6), 0, "%s: different IPv6 nets", link);
	cr_assert_neq(ip_addr_cmp(&a->addr6, &b->addr6), 0, "%s: same IPv6 address", link);
	cr_assert_eq(a->ospf, b->ospf, "%s: OSPF at one end only", link);
}

/* Overlaps among segment prefixes (the first nseg) and transfer nets. */
struct net_pairs {
	const struct ip_prefix *v;
	size_t nseg;
	size_t with_segment, twins, unequal;
};

static void on_net_pair(size_t i, size_t j, void *ctx)
{
	struct net_pairs *p = ctx;
	bool si = i < p->nseg, sj = j < p->nseg;
	if (si && sj)
		return; /* check_plan's business */
	if (si || sj)
		p->with_segment++;
	else if (ip_prefix_cmp(&p->v[i], &p->v[j]) == 0)
		p->twins++;
	else
		p->unequal++;
}

/*
 * interfaces.csv: every segment has its interface with the first host, every
 * existing link an interface at both ends on one transfer net of its own,
 * outside every segment, zone and pool; the BGP sites a provider uplink.
 */
static void check_ifaces(const struct inventory *inv)
{
	struct ip_prefix isp;
	cr_assert(inv->has_ifaces);
	cr_assert_eq(ip_prefix_parse("100.64.0.0/10", false, &isp), 0);
	size_t *seen = calloc(inv->nsegments + 1, sizeof(*seen));
	size_t *wan = calloc(inv->nsites + 1, sizeof(*wan)); /* the next wanN per site */
	struct ip_prefix *nets =
	    malloc((inv->nsegments * 2 + inv->nifaces * 2 + 1) * sizeof(*nets));
	size_t nn = 0, nseg_nets;
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		if (g->has_v4)
			nets[nn++] = g->v4;
		if (g->has_v6)
			nets[nn++] = g->v6;
	}
	nseg_nets = nn;
	for (size_t s = 0; s < inv->nsites; s++) {
		const struct site *st = &inv->sites[s];
		size_t outs = 0, isps = 0;
		cr_assert_lt(inv->iface_start[s], inv->iface_start[s + 1], "%s has no interfaces",
			     st->id);
		for (size_t i = inv->iface_start[s]; i < inv->iface_start[s + 1]; i++) {
			const struct iface *f = &inv->ifaces[i];
			cr_assert_eq(f->site, (int)s);
			if (f->role == IFACE_SEGMENT) {
				const struct segment *g = &inv->segments[f->segment];
				char want[32];
				struct ip_addr gw;
				snprintf(want, sizeof(want), "eth1.%d", g->vlan);
				cr_assert_str_eq(f->name, want);
				seen[f->segment]++;
				cr_assert_eq(f->vrrp, (st->flags & SITE_F_VRRP) != 0);
				cr_assert_eq(f->has_v4, g->has_v4);
				if (g->has_v4) {
					ip_prefix_first(&g->v4, &gw);
					ip_addr_add(&gw, 1);
					cr_assert_eq(ip_addr_cmp(&gw, &f->addr4), 0,
						     "%s %s: not the first host", st->id, f->name);
				}
				ip_prefix_first(&g->v6, &gw);
				ip_addr_add(&gw, 1);
				cr_assert_eq(ip_addr_cmp(&gw, &f->addr6), 0);
				continue;
			}
			outs++;
			if (strcmp(f->name, "isp0") == 0) {
				isps++;
				cr_assert(st->flags & SITE_F_BGP, "%s: isp0 without bgp", st->id);
				cr_assert(ip_prefix_covers(&isp, &f->net4));
				cr_assert_eq(f->nbgp_peers, 1);
				cr_assert(ip_prefix_contains(&f->net4, &f->bgp_peers[0]));
				cr_assert_neq(ip_addr_cmp(&f->bgp_peers[0], &f->addr4), 0);
				continue;
			}
			cr_assert_eq(f->nbgp_peers, 0);
			check_transfer_net(inv, f);
			for (int fam = 0; fam < 2; fam++)
				if (fam ? f->has_v6 : f->has_v4)
					nets[nn++] = fam ? f->net6 : f->net4;
		}
		cr_assert_gt(outs, 0, "%s has no uplink or transfer interface", st->id);
		cr_assert_eq(isps, (st->flags & SITE_F_BGP) != 0, "%s: %zu isp0", st->id, isps);
	}
	for (size_t i = 0; i < inv->nsegments; i++)
		cr_assert_eq(seen[i], 1, "segment %s/%s has %zu interfaces",
			     inv->sites[inv->segments[i].site].id, inv->segments[i].name, seen[i]);
	/* The k-th existing link of a site is its wan<k>; both ends share the net. */
	for (size_t l = 0; l < inv->nlinks; l++) {
		const struct link *lk = &inv->links[l];
		if (lk->kind == LINK_PLANNED)
			continue;
		const struct iface *end[2] = {NULL, NULL};
		int sites[2] = {lk->a, lk->b};
		for (int e = 0; e < 2; e++) {
			char name[32];
			snprintf(name, sizeof(name), "wan%zu", wan[sites[e]]++);
			for (size_t i = inv->iface_start[sites[e]];
			     i < inv->iface_start[sites[e] + 1]; i++)
				if (strcmp(inv->ifaces[i].name, name) == 0)
					end[e] = &inv->ifaces[i];
			cr_assert_not_null(end[e], "%s: no %s at %s", lk->id, name,
					   inv->sites[sites[e]].id);
			bool fibre = lk->kind == LINK_FIBRE || lk->kind == LINK_RADIO;
			cr_assert_eq(end[e]->role, fibre ? IFACE_TRANSFER : IFACE_UPLINK, "%s",
				     lk->id);
		}
		check_link_ends(end[0], end[1], lk->id);
		bool ospf = (inv->sites[lk->a].flags & inv->sites[lk->b].flags & SITE_F_OSPF) &&
			    end[0]->role == IFACE_TRANSFER;
		cr_assert_eq(end[0]->ospf, ospf, "%s: ospf", lk->id);
	}
	/* No transfer net overlaps a segment, and no two links share one: every
	 * net overlaps exactly its twin at the link's other end, so the pairs are
	 * half the nets. */
	struct net_pairs np = {nets, nseg_nets, 0, 0, 0};
	cr_assert_eq(ip_prefix_find_overlaps(nets, nn, on_net_pair, &np), 0);
	cr_assert_eq(np.with_segment, 0, "%zu transfer nets overlap a segment", np.with_segment);
	cr_assert_eq(np.unequal, 0, "%zu transfer nets overlap another one", np.unequal);
	cr_assert_eq(np.twins, (nn - nseg_nets) / 2, "%zu twins for %zu transfer nets", np.twins,
		     nn - nseg_nets);
	free(seen);
	free(wan);
	free(nets);
}

/* --- hosts.csv --- */

static bool has_role(const struct host *h, const char *role)
{
	return host_has_label(h, "role", role);
}

/* The label value of key (the first), or NULL. */
static const char *label_of(const struct host *h, const char *key)
{
	for (size_t i = 0; i < h->nlabels; i++)
		if (strcmp(h->labels[i].key, key) == 0)
			return h->labels[i].value;
	return NULL;
}

/* A district's name as the generator promises it in labels (docs/inventory.md). */
static void district_label(const char *name, char *out, size_t size)
{
	static const char *const from[] = {"ä", "ö", "ü", "ß", " "}, *const to[] = {"ae", "oe",
										    "ue", "ss",
										    "-"};
	size_t n = 0;
	while (*name && n + 3 < size) {
		size_t k = 0;
		while (k < 5 && strncmp(name, from[k], strlen(from[k])) != 0)
			k++;
		if (k < 5) {
			n += (size_t)snprintf(out + n, size - n, "%s", to[k]);
			name += strlen(from[k]);
		} else {
			char ch = *name++;
			out[n++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
		}
	}
	out[n] = '\0';
}

/* The segment of site s that holds prefix p, or NULL. */
static const struct segment *segment_of(const struct inventory *inv, int s,
					const struct ip_prefix *p)
{
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		if (g->site != s)
			continue;
		if ((g->has_v4 && ip_prefix_covers(&g->v4, p)) ||
		    (g->has_v6 && ip_prefix_covers(&g->v6, p)))
			return g;
	}
	return NULL;
}

/*
 * A host at a site: one address per family of one segment, in the zone its
 * role belongs in, at least ten addresses from the segment's start (clear of
 * the gateway), never a gateway's own address; the IPv6 interface id repeats
 * the IPv4 address's last octet.
 */
static const struct segment *check_host_at_site(const struct inventory *inv, const struct host *h)
{
	const struct segment *g = segment_of(inv, h->site, &h->addrs[0]);
	cr_assert_not_null(g, "%s: not in a segment of its site", h->name);
	cr_assert_eq(h->naddrs, (size_t)g->has_v4 + g->has_v6, "%s: %zu addresses", h->name,
		     h->naddrs);
	struct ip_addr v4 = {0}, v6 = {0};
	for (size_t i = 0; i < h->naddrs; i++) {
		const struct ip_prefix *p = &h->addrs[i];
		const struct ip_prefix *net = p->family == 4 ? &g->v4 : &g->v6;
		struct ip_addr a, first;
		cr_assert_eq(p->len, ip_family_bits(p->family), "%s: a prefix", h->name);
		cr_assert(ip_prefix_covers(net, p), "%s: address %zu outside segment %s", h->name,
			  i, g->name);
		ip_prefix_first(p, &a);
		ip_prefix_first(net, &first);
		ip_addr_add(&first, 10);
		cr_assert_geq(ip_addr_cmp(&a, &first), 0, "%s: too near the gateway", h->name);
		for (size_t k = inv->iface_start[h->site]; k < inv->iface_start[h->site + 1]; k++) {
			const struct iface *f = &inv->ifaces[k];
			cr_assert_neq(ip_addr_cmp(&a, p->family == 4 ? &f->addr4 : &f->addr6), 0,
				      "%s takes the address of %s", h->name, f->name);
		}
		*(p->family == 4 ? &v4 : &v6) = a;
	}
	if (g->has_v4) {
		char dec[8], hex[8];
		snprintf(dec, sizeof(dec), "%u", v4.b[3]);
		snprintf(hex, sizeof(hex), "%x", v6.b[15] | (v6.b[14] & 0x0f) << 8);
		cr_assert_str_eq(hex, dec, "%s: IPv6 does not repeat the IPv4 octet", h->name);
	}
	return g;
}

/*
 * hosts.csv: what docs/inventory.md promises of the example's hosts, counted
 * from the inventory itself: per data centre two resolvers, two NTP servers,
 * a mail relay, two directory servers, a DHCP server, a monitoring server and
 * a cooling controller, the syslog collector in the primary only; payroll and
 * case management as web, app and db in production at the primary and on
 * standby at the fallback; a print server and a supervisor per district in its
 * town hall; vendor controllers at other sites; the state's services at no
 * site, outside the city's plan.
 */
static void check_hosts(const struct inventory *inv)
{
	static const char *const per_dc[][2] = {{"resolver", "dns"}, {"ntp", "time"},
						{"relay", "mail"},   {"directory", "ldap"},
						{"dhcp", "dhcp"},    {"monitoring", "snmp"}};
	static const size_t per_dc_n[] = {2, 2, 1, 2, 1, 1};
	static const char *const apps[] = {"payroll", "casemgmt"}, *const tiers[] = {"web", "app",
										     "db"};
	size_t ndc = 0, cand = 0, at_dc[6] = {0}, syslog = 0, cooling = 0, vendors = 0,
	       partners = 0;
	size_t app[2][3][2] = {{{0}}}; /* app, tier, primary/fallback */
	size_t *print = calloc(inv->ndistricts, sizeof(*print));
	size_t *bms = calloc(inv->ndistricts, sizeof(*bms));
	cr_assert(inv->has_hosts);
	for (size_t i = 0; i < inv->nsites; i++) {
		const struct site *s = &inv->sites[i];
		bool has_bms = false;
		ndc += s->type == SITE_DATA_CENTRE;
		for (size_t k = 0; k < inv->nsegments; k++)
			has_bms |= inv->segments[k].site == (int)i &&
				   !strcmp(inv->segments[k].zone, "bms");
		cand += has_bms && s->type != SITE_DATA_CENTRE && s->type != SITE_TOWN_HALL;
	}
	for (size_t i = 0; i < inv->nhosts; i++) {
		const struct host *h = &inv->hosts[i];
		cr_assert_eq(inventory_find_host(inv, h->name), (int)i);
		if (h->site < 0) {
			/* Outside every prefix of the city's plan, and at no site. */
			cr_assert(host_has_label(h, "partner", "state-dc"), "%s: no partner",
				  h->name);
			for (size_t a = 0; a < h->naddrs; a++)
				for (size_t k = 0; k < inv->nplan; k++)
					cr_assert_not(
					    ip_prefix_overlaps(&inv->plan[k].prefix, &h->addrs[a]),
					    "%s is inside the city's plan", h->name);
			partners++;
			continue;
		}
		const struct site *s = &inv->sites[h->site];
		const struct segment *g = check_host_at_site(inv, h);
		if (s->type == SITE_DATA_CENTRE) {
			int side = h->site == inv->primary_dc ? 0 : 1;
			cr_assert(h->site == inv->primary_dc || h->site == inv->fallback_dc);
			if (has_role(h, "controller")) {
				cr_assert_str_eq(g->zone, "bms", "%s", h->name);
				cooling++;
				continue;
			}
			if (has_role(h, "syslog") || has_role(h, "monitoring"))
				cr_assert_str_eq(g->zone, "mgmt", "%s", h->name);
			else
				cr_assert_str_eq(g->zone, "servers", "%s", h->name);
			syslog += has_role(h, "syslog") && side == 0;
			for (size_t k = 0; k < 6; k++)
				at_dc[k] += has_role(h, per_dc[k][0]) &&
					    host_has_label(h, "app", per_dc[k][1]);
			for (size_t a = 0; a < 2; a++)
				for (size_t t = 0; t < 3; t++)
					app[a][t][side] +=
					    host_has_label(h, "app", apps[a]) &&
					    has_role(h, tiers[t]) &&
					    host_has_label(h, "env", side ? "standby" : "prod");
			continue;
		}
		char want[64];
		district_label(inv->districts[s->district].name, want, sizeof(want));
		cr_assert_str_eq(label_of(h, "district") ? label_of(h, "district") : "", want, "%s",
				 h->name);
		if (has_role(h, "print")) {
			cr_assert_eq(s->type, SITE_TOWN_HALL, "%s", h->name);
			cr_assert_str_eq(g->zone, "servers", "%s", h->name);
			print[s->district]++;
		} else if (has_role(h, "bms-supervisor")) {
			cr_assert_eq(s->type, SITE_TOWN_HALL, "%s", h->name);
			cr_assert_str_eq(g->zone, "bms", "%s", h->name);
			cr_assert(host_has_label(h, "app", "bms"));
			bms[s->district]++;
		} else {
			cr_assert(has_role(h, "controller") && label_of(h, "vendor"), "%s",
				  h->name);
			cr_assert_str_eq(g->zone, "bms", "%s", h->name);
			cr_assert_neq(s->type, SITE_TOWN_HALL, "%s", h->name);
			vendors++;
		}
	}
	cr_assert_eq(ndc, 2);
	for (size_t k = 0; k < 6; k++)
		cr_assert_eq(at_dc[k], per_dc_n[k] * ndc, "%zu %s servers", at_dc[k], per_dc[k][0]);
	for (size_t a = 0; a < 2; a++)
		for (size_t t = 0; t < 3; t++)
			cr_assert(app[a][t][0] == 1 && app[a][t][1] == 1,
				  "%s %s: %zu prod, %zu standby", apps[a], tiers[t], app[a][t][0],
				  app[a][t][1]);
	cr_assert_eq(syslog, 1);
	cr_assert_eq(cooling, ndc);
	for (size_t d = 0; d < inv->ndistricts; d++) {
		cr_assert_eq(print[d], 1, "%s: %zu print servers", inv->districts[d].name,
			     print[d]);
		cr_assert_eq(bms[d], 1, "%s: %zu supervisors", inv->districts[d].name, bms[d]);
	}
	cr_assert_eq(vendors, cand < EXAMPLE_VENDOR_SITES ? cand : EXAMPLE_VENDOR_SITES);
	cr_assert(partners >= 2 && partners <= 3, "%zu partner hosts", partners);
	free(print);
	free(bms);
}

static void check_city(const struct inventory *inv, size_t want_sites)
{
	cr_assert_eq(inv->nsites, want_sites);
	cr_assert_geq(inv->primary_dc, 0);
	cr_assert_geq(inv->fallback_dc, 0);
	check_sites_in_area(inv);
	check_core_ring(inv);
	check_broadband(inv, example_underserved_target((long)want_sites));
	check_links(inv);
	check_plan(inv);
	check_vlans(inv);
	check_ifaces(inv);
	check_hosts(inv);
}

Test(example, fresh_city_is_real)
{
	struct example_summary sum;
	char *dir = generate(850, 1, &sum);
	struct inventory *inv = load(dir);
	check_city(inv, 850);
	cr_assert_eq(sum.underserved_schools, 19);
	cr_assert_eq(sum.links, inv->nlinks);
	cr_assert_eq(sum.segments, inv->nsegments);
	cr_assert_eq(sum.hosts, inv->nhosts);
	inventory_free(inv);
	tu_rmdir(dir);
	free(dir);
}

Test(example, committed_city_is_real)
{
	struct inventory *inv = load(tu_path("examples/stuttgart"));
	check_city(inv, 850);
	inventory_free(inv);
}

Test(example, committed_city_equals_fresh_generation)
{
	char *dir = generate(EXAMPLE_DEFAULT_SITES, EXAMPLE_DEFAULT_SEED, NULL);
	for (size_t i = 0; i < NFILES; i++)
		cr_assert(
		    same_file(dir, tu_path("examples/stuttgart"), files[i]),
		    "examples/stuttgart/%s differs from `segplan example` output: regenerate it",
		    files[i]);
	tu_rmdir(dir);
	free(dir);
}

Test(example, same_seed_same_bytes_other_seed_other_city)
{
	char *a = generate(850, 7, NULL), *b = generate(850, 7, NULL), *c = generate(850, 8, NULL);
	for (size_t i = 0; i < NFILES; i++)
		cr_assert(same_file(a, b, files[i]), "%s differs between two runs", files[i]);
	cr_assert(same_file(a, c, "districts.csv"));
	cr_assert_not(same_file(a, c, "sites.csv"), "seeds 7 and 8 give the same sites");
	cr_assert_not(same_file(a, c, "links.csv"), "seeds 7 and 8 give the same links");
	const char *dirs[] = {a, b, c};
	for (size_t i = 0; i < 3; i++) {
		tu_rmdir(dirs[i]);
		free((char *)dirs[i]);
	}
}

/* The promises hold for any N >= 500, not just for the defaults. */
Test(example, other_sizes_and_seeds)
{
	const long sizes[] = {500, 501, 1333};
	const uint64_t seeds[] = {2, 99, 0xdeadbeefcafeu};
	for (size_t i = 0; i < 3; i++) {
		char *dir = generate(sizes[i], seeds[i], NULL);
		struct inventory *inv = load(dir);
		check_city(inv, (size_t)sizes[i]);
		inventory_free(inv);
		tu_rmdir(dir);
		free(dir);
	}
}

/* Small cities scale the under-served schools down: floor(19 N / 500). */
Test(example, small_cities)
{
	struct example_summary sum;
	cr_assert_eq(example_underserved_target(100), 3);
	cr_assert_eq(example_underserved_target(499), 18);
	cr_assert_eq(example_underserved_target(500), 19);
	cr_assert_eq(example_underserved_target(100000), 19);
	char *dir = generate(100, 5, &sum);
	struct inventory *inv = load(dir);
	cr_assert_eq(inv->nsites, 100);
	check_sites_in_area(inv);
	check_core_ring(inv);
	check_links(inv);
	check_plan(inv);
	check_ifaces(inv);
	check_hosts(inv);
	cr_assert_eq(sum.underserved_schools, 3);
	inventory_free(inv);
	tu_rmdir(dir);
	free(dir);

	dir = generate(EXAMPLE_MIN_SITES, 1, &sum);
	inv = load(dir);
	cr_assert_eq(inv->nsites, 25);
	check_core_ring(inv);
	check_plan(inv);
	check_ifaces(inv);
	check_hosts(inv);
	cr_assert_eq(sum.fibre_sites, sum.other_sites, "only town halls: all on fibre");
	inventory_free(inv);
	tu_rmdir(dir);
	free(dir);
}

/* A 10,000-site city still fits 10.0.0.0/8 and one ULA /48, both for every segment. */
Test(example, ten_thousand_sites_fit_10_8_and_a_48, .timeout = 300)
{
	struct example_summary sum;
	struct ip_prefix net10, ula;
	memset(&ula, 0, sizeof(ula));
	char *dir = generate(10000, 1, &sum);
	cr_assert(sum.ipv4);
	cr_assert_eq(sum.ula_len, 48);
	struct inventory *inv = load(dir);
	cr_assert_eq(ip_prefix_parse("10.0.0.0/8", false, &net10), 0);
	size_t cities = 0;
	for (size_t k = 0; k < inv->nplan; k++)
		if (strcmp(inv->plan[k].zone, "city") == 0) {
			cities++;
			if (inv->plan[k].prefix.family == 6)
				ula = inv->plan[k].prefix;
			else
				cr_assert_eq(ip_prefix_cmp(&inv->plan[k].prefix, &net10), 0);
		}
	cr_assert_eq(cities, 2);
	cr_assert_eq(ula.len, 48);
	cr_assert_eq(ula.b[0], 0xfd, "not a ULA (RFC 4193)");
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		cr_assert(g->has_v4 && g->has_v6, "segment %zu lacks an address family", i);
		cr_assert(ip_prefix_covers(&net10, &g->v4));
		cr_assert(ip_prefix_covers(&ula, &g->v6));
	}
	check_plan(inv);
	check_ifaces(inv);
	check_hosts(inv);
	check_broadband(inv, 19);
	inventory_free(inv);
	cr_expect_eq(load_stage2(dir, "2026-12-03"), 0, "the stage-2 policy has warnings");
	tu_rmdir(dir);
	free(dir);
}

/* Beyond 10.0.0.0/8 the plan is IPv6 only, from a shorter ULA prefix. */
Test(example, large_city_is_ipv6_only, .timeout = 300)
{
	struct example_summary sum;
	struct diag_list *dl = diag_list_new();
	struct csv_table *t = NULL;
	char path[4096];
	char *dir = generate(40000, 1, &sum);
	cr_assert_not(sum.ipv4);
	cr_assert_eq(sum.ula_len, 44);
	snprintf(path, sizeof(path), "%s/addressplan.csv", dir);
	cr_assert_eq(csv_table_read(path, NULL, dl, &t), 0);
	int zc = csv_table_column(t, "zone"), pc = csv_table_column(t, "prefix");
	for (size_t r = 0; r < csv_table_nrows(t); r++) {
		struct ip_prefix p;
		cr_assert_eq(ip_prefix_parse(csv_cell(t, r, pc), false, &p), 0);
		cr_assert_eq(p.family, 6, "IPv4 row %s", csv_cell(t, r, pc));
		if (strcmp(csv_cell(t, r, zc), "city") == 0)
			cr_assert_eq(p.len, 44);
	}
	csv_table_free(t);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(example, refuses_a_non_empty_directory_without_force)
{
	struct example_opts o;
	example_opts_default(&o);
	char *dir = tu_tmpdir();
	free(tu_write(dir, "notes.txt", "keep me\n"));
	cr_assert_eq(example_generate(&o, dir, NULL), -ENOTEMPTY);
	char sites[4200];
	snprintf(sites, sizeof(sites), "%s/sites.csv", dir);
	cr_assert_not(tu_file_exists(sites), "wrote into a non-empty directory");
	o.force = true;
	cr_assert_eq(example_generate(&o, dir, NULL), 0);
	cr_assert(tu_file_exists(sites));
	snprintf(sites, sizeof(sites), "%s/notes.txt", dir);
	cr_assert(tu_file_exists(sites), "--force removed a file it does not own");
	tu_rmdir(dir);
	free(dir);
}

Test(example, rejects_sizes_out_of_range)
{
	struct example_opts o;
	example_opts_default(&o);
	char *dir = tu_tmpdir();
	o.sites = EXAMPLE_MIN_SITES - 1;
	cr_assert_eq(example_generate(&o, dir, NULL), -EINVAL);
	o.sites = EXAMPLE_MAX_SITES + 1;
	cr_assert_eq(example_generate(&o, dir, NULL), -EINVAL);
	tu_rmdir(dir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* The stage-2 policy */

Test(example, stage2_text_matches_the_example_file)
{
	char *f = tu_slurp(tu_path("examples/stuttgart/policy-stage2.yaml"), NULL);
	cr_expect_str_eq(example_policy_stage2_yaml, f,
			 "example/stage2.c differs from examples/stuttgart/policy-stage2.yaml: "
			 "regenerate the string (the command is in example/stage2.c)");
	free(f);
}

static bool has_all(const char *vendor, void *ctx)
{
	(void)vendor;
	(void)ctx;
	return true;
}

static bool lacks_one(const char *vendor, void *ctx)
{
	return strcmp(vendor, ctx) != 0;
}

static char *render(bool (*has)(const char *, void *), void *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	example_write_stage2(f, has, ctx);
	fclose(f);
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The filter drops exactly a vendor's range (one line) and rule (its block and the blank
 * line after it), nothing of another vendor, and keeps the rest byte for byte. */
Test(example, stage2_leaves_out_only_the_vendors_asked)
{
	char *all = render(has_all, NULL);
	cr_assert_str_eq(all, example_policy_stage2_yaml);
	const char *vendors[] = {"stulz", "sauter", "siemens", "honeywell", "johnson-controls"};
	for (size_t i = 0; i < 5; i++) {
		char *less = render(lacks_one, (void *)vendors[i]);
		char range[96], rule[96];
		snprintf(range, sizeof(range), "  vpn-vendor-%s: ", vendors[i]);
		snprintf(rule, sizeof(rule), "  - id: vendor-%s\n", vendors[i]);
		cr_assert_not_null(strstr(all, range));
		cr_assert_null(strstr(less, range), "%s: range kept", vendors[i]);
		cr_assert_null(strstr(less, rule), "%s: rule kept", vendors[i]);
		/* The rule's block in the full text: from its id to the next blank line. */
		const char *r = strstr(all, rule), *end = strstr(r, "\n\n");
		cr_assert_not_null(end);
		char *block = strndup(r, (size_t)(end - r) + 2);
		size_t dropped = 1 + count_lines(block);
		cr_expect_eq(count_lines(all) - count_lines(less), dropped, "%s", vendors[i]);
		cr_expect(strstr(less, "  - id: vendors-erp-migration\n"), "the ERP vendor stays");
		cr_expect(strstr(less, "  vpn-vendor-erp: "), "the ERP vendor's range stays");
		for (size_t j = 0; j < 5; j++) {
			if (j == i)
				continue;
			snprintf(rule, sizeof(rule), "  - id: vendor-%s\n", vendors[j]);
			cr_expect(strstr(less, rule), "%s went with %s", vendors[j], vendors[i]);
		}
		free(block);
		free(less);
	}
	free(all);
}

/* Loads a city's policy-stage2.yaml; the number of warnings. */
static size_t load_stage2(const char *dir, const char *date)
{
	struct inventory *inv = load(dir);
	struct diag_list *dl = diag_list_new();
	struct policy *p = NULL;
	char path[4200];
	snprintf(path, sizeof(path), "%s/policy-stage2.yaml", dir);
	int rc = policy_load(path, NULL, inv, date, dl, &p);
	cr_assert_eq(rc, 0, "%s:\n%s", path, tu_diags(dl));
	cr_assert_eq(diag_errors(dl), 0, "%s", tu_diags(dl));
	/* A vendor rule exactly for the vendors with a controller in the city. */
	const char *vendors[] = {"stulz", "sauter", "siemens", "honeywell", "johnson-controls"};
	for (size_t v = 0; v < 5; v++) {
		bool host = false;
		for (size_t h = 0; h < inv->nhosts; h++)
			for (size_t l = 0; l < inv->hosts[h].nlabels; l++)
				host |= strcmp(inv->hosts[h].labels[l].key, "vendor") == 0 &&
					strcmp(inv->hosts[h].labels[l].value, vendors[v]) == 0;
		char id[64];
		snprintf(id, sizeof(id), "vendor-%s", vendors[v]);
		cr_expect_eq(policy_find_rule(p, id) >= 0, host, "%s: rule %s, controller %s", dir,
			     policy_find_rule(p, id) >= 0 ? "present" : "absent",
			     host ? "present" : "absent");
	}
	size_t w = diag_warnings(dl);
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
	return w;
}

/* Every generated city gets a stage-2 policy that loads: the example city's without a
 * warning, small ones with the warnings of policy.yaml (no school, no fire station). */
Test(example, stage2_policy_loads_for_generated_cities, .timeout = 300)
{
	cr_expect_eq(load_stage2(tu_path("examples/stuttgart"), "2026-12-03"), 0);
	const long sizes[] = {850, 850, 5000, 60, 100, EXAMPLE_MIN_SITES};
	const uint64_t seeds[] = {2, 3, 3, 7, 5, 1};
	for (size_t i = 0; i < 6; i++) {
		char *dir = generate(sizes[i], seeds[i], NULL);
		size_t w = load_stage2(dir, "2026-12-03");
		if (sizes[i] >= 850)
			cr_expect_eq(w, 0, "%ld sites, seed %llu: %zu warnings", sizes[i],
				     (unsigned long long)seeds[i], w);
		tu_rmdir(dir);
		free(dir);
	}
}
