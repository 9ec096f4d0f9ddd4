// SPDX-License-Identifier: MIT
/*
 * Properties of the stage-2 policy (issue #12), each over 10,000 random
 * tuples decided by pol_decide with the gateway tables of pol_build_gateway,
 * on the stage-2 fixture (tests/e2e/fixtures/stage2: DC1, S1 multi-homed
 * with interfaces.csv, S2, S3; hosts.csv):
 *  - objects, external networks and site groups that no rule uses change no
 *    verdict at any gateway (and no byte of the ruleset but the policy hash);
 *  - a site group of one equals the old site exception at that site's
 *    gateway. Elsewhere they differ, and that is the point of site groups:
 *    the group rules are compiled at the gateway of a connection's other end
 *    too, and decide there what the exception decides at the site (and
 *    nothing else), except for connections to the site gateway's own
 *    addresses, which its input chain judges (no exception applies there);
 *  - `except` is set difference, with the membership of the tuples'
 *    addresses computed here from the prefixes (inet_pton and bit masks, not
 *    the library's ranges);
 * and the `meta time` sets rendered for windows in Europe/Berlin around the
 * two daylight-saving changes of 2027 hold exactly the seconds that
 * core/timewin's tw_contains, the table's spans (query's pol_decide) and the
 * times stated here say.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile/compile.h"
#include "core/timewin.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

#define FIXTURE	 "tests/e2e/fixtures/stage2"
#define DAY	 "2026-12-01"
#define NTUPLES	 10000
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* A policy built for every gateway */

struct built {
	struct policy *p;
	struct pol_build *b;
	struct pol_table **t; /* [inv->nsites] */
};

static struct inventory *load_inventory(void)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	cr_assert_eq(inventory_load(tu_path(FIXTURE), dl, &inv), 0, "%s", tu_diags(dl));
	diag_list_free(dl);
	return inv;
}

static void build(const struct inventory *inv, const char *text, const char *day, struct built *w)
{
	struct diag_list *dl = diag_list_new();
	memset(w, 0, sizeof(*w));
	cr_assert_eq(policy_load_buffer(text, strlen(text), "policy.yaml", inv, day, dl, &w->p), 0,
		     "%s", tu_diags(dl));
	cr_assert_eq(pol_build_new(w->p, inv, &w->b), 0);
	w->t = calloc(inv->nsites, sizeof(*w->t));
	cr_assert_not_null(w->t);
	for (size_t s = 0; s < inv->nsites; s++)
		cr_assert_eq(pol_build_gateway(w->b, (int)s, POL_MODE_ENFORCE, &w->t[s]), 0);
	diag_list_free(dl);
}

static void unbuild(const struct inventory *inv, struct built *w)
{
	for (size_t s = 0; w->t && s < inv->nsites; s++)
		pol_table_free(w->t[s]);
	free(w->t);
	pol_build_free(w->b);
	policy_free(w->p);
}

/* text with add inserted after the first line that is exactly `line` */
static char *insert_after(const char *text, const char *line, const char *add)
{
	char *needle, *out;
	cr_assert(asprintf(&needle, "\n%s\n", line) > 0);
	const char *at = strstr(text, needle);
	cr_assert_not_null(at, "no line '%s' in the policy", line);
	size_t head = (size_t)(at - text) + strlen(needle);
	cr_assert(asprintf(&out, "%.*s%s%s", (int)head, text, add, text + head) > 0);
	free(needle);
	return out;
}

static char *fixture_policy(void)
{
	return tu_slurp(tu_path(FIXTURE "/policy.yaml"), NULL);
}

/* ------------------------------------------------------------------ */
/* Random tuples (splitmix64: the same on every machine) */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return rnd() % n;
}

/* Where addresses are drawn from: every segment, host and gateway address of
 * the inventory, the VPN pools, the outside (state-dc, the internet), and
 * the prefixes a test adds; within each, the edges and just past them too. */
struct pool {
	struct ip_prefix v[256];
	size_t n;
	/* half of the addresses and ports come from these, where a test names some */
	struct ip_prefix focus[32];
	size_t nfocus;
	uint16_t fports[16];
	size_t nfports;
};

static void pool_focus(struct pool *pl, const char *const *prefixes, size_t n,
		       const uint16_t *fports, size_t nports)
{
	for (size_t i = 0; i < n; i++) {
		cr_assert_lt(pl->nfocus, 32);
		cr_assert_eq(ip_prefix_parse(prefixes[i], true, &pl->focus[pl->nfocus]), 0, "%s",
			     prefixes[i]);
		pl->nfocus++;
	}
	for (size_t i = 0; i < nports; i++) {
		cr_assert_lt(pl->nfports, 16);
		pl->fports[pl->nfports++] = fports[i];
	}
}

static void pool_add(struct pool *pl, const char *s)
{
	cr_assert_lt(pl->n, 256);
	cr_assert_eq(ip_prefix_parse(s, true, &pl->v[pl->n]), 0, "%s", s);
	pl->n++;
}

static void pool_add_prefix(struct pool *pl, const struct ip_prefix *p)
{
	cr_assert_lt(pl->n, 256);
	pl->v[pl->n++] = *p;
}

static void pool_inventory(struct pool *pl, const struct inventory *inv)
{
	for (size_t i = 0; i < inv->nsegments; i++) {
		if (inv->segments[i].has_v4)
			pool_add_prefix(pl, &inv->segments[i].v4);
		if (inv->segments[i].has_v6)
			pool_add_prefix(pl, &inv->segments[i].v6);
	}
	for (size_t h = 0; h < inv->nhosts; h++)
		for (size_t k = 0; k < inv->hosts[h].naddrs; k++)
			pool_add_prefix(pl, &inv->hosts[h].addrs[k]);
	for (size_t i = 0; i < inv->nifaces; i++) {
		struct ip_prefix p = {0};
		if (inv->ifaces[i].has_v4) {
			p.family = 4;
			p.len = 32;
			memcpy(p.b, inv->ifaces[i].addr4.b, 16);
			pool_add_prefix(pl, &p);
		}
		if (inv->ifaces[i].has_v6) {
			p.family = 6;
			p.len = 128;
			memcpy(p.b, inv->ifaces[i].addr6.b, 16);
			pool_add_prefix(pl, &p);
		}
	}
	static const char *const more[] = {"10.99.64.0/24",  "fd99:0:64::/64",
					   "10.99.65.0/24",  "fd99:0:65::/64",
					   "10.99.66.0/24",  "fd99:0:66::/64",
					   "10.99.100.0/24", "fd99:0:99::/64",
					   "100.70.0.0/16",  "fd70::/48",
					   "11.22.33.0/24",  "2a0b:11::/64",
					   "0.0.0.0/0",	     "::/0"};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		pool_add(pl, more[i]);
}

/* a + d (d = -1 or 1) in place; false past either end */
static bool addr_step(struct ip_addr *a, int d)
{
	int n = a->family == 4 ? 4 : 16;
	for (int i = n - 1; i >= 0; i--) {
		int v = a->b[i] + d;
		a->b[i] = (uint8_t)(v & 0xff);
		if (v >= 0 && v <= 255)
			return true;
	}
	return false;
}

/* An address of p: its first, its last, just before or past it, or any. */
static void draw_in(const struct ip_prefix *p, struct ip_addr *out)
{
	uint8_t fam = p->family;
	int bits = fam == 4 ? 32 : 128;
	memset(out, 0, sizeof(*out));
	out->family = fam;
	memcpy(out->b, p->b, 16);
	uint64_t k = below(16);
	for (int i = p->len; i < bits; i++) {
		int bit = k == 0 ? 0 : k == 1 ? 1 : (int)(rnd() & 1); /* first, last, or any */
		if (bit)
			out->b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	/* just before the prefix (from its first address) or just past it (from its last) */
	if (k == 2) {
		memcpy(out->b, p->b, 16);
		if (!addr_step(out, -1))
			memcpy(out->b, p->b, 16);
	} else if (k == 3) {
		for (int i = p->len; i < bits; i++)
			out->b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		struct ip_addr last = *out;
		if (!addr_step(out, 1))
			*out = last;
	}
}

static void draw_addr(const struct pool *pl, uint8_t fam, struct ip_addr *out)
{
	const struct ip_prefix *p;
	do
		p = pl->nfocus && below(2) ? &pl->focus[below(pl->nfocus)] : &pl->v[below(pl->n)];
	while (p->family != fam);
	draw_in(p, out);
}

static const uint16_t ports[] = {53, 80, 443, 631, 9100, 22, 5432, 161, 123, 8443, 445};

/* A connection a test aims at: from one prefix to another, a protocol and port. */
struct aim {
	const char *src, *dst;
	uint8_t proto;
	uint16_t port;
};

static void draw_aimed(const struct aim *a, int64_t now, struct pol_tuple *t)
{
	struct ip_prefix ps, pd;
	memset(t, 0, sizeof(*t));
	cr_assert_eq(ip_prefix_parse(a->src, true, &ps), 0, "%s", a->src);
	cr_assert_eq(ip_prefix_parse(a->dst, true, &pd), 0, "%s", a->dst);
	draw_in(&ps, &t->src);
	draw_in(&pd, &t->dst);
	t->proto = a->proto;
	uint64_t q = below(8);
	t->dport = (uint16_t)(a->port + (q == 0 ? 1 : q == 1 ? -1 : 0));
	if (q == 2)
		t->proto = a->proto == 6 ? 17 : 6;
	t->time = now - 86400 + (int64_t)below(31 * 86400);
}

static void draw_tuple(const struct pool *pl, int64_t now, struct pol_tuple *t);

/* Every other tuple aimed (at one of aims), the others drawn from the pool. */
static void draw_mixed(const struct pool *pl, const struct aim *aims, size_t naims, int i,
		       int64_t now, struct pol_tuple *t)
{
	if (i % 2)
		draw_aimed(&aims[below(naims)], now, t);
	else
		draw_tuple(pl, now, t);
}

static void draw_tuple(const struct pool *pl, int64_t now, struct pol_tuple *t)
{
	memset(t, 0, sizeof(*t));
	uint8_t fam = below(2) ? 4 : 6;
	draw_addr(pl, fam, &t->src);
	draw_addr(pl, fam, &t->dst);
	uint64_t r = below(20);
	if (r < 8) {
		t->proto = 6;
	} else if (r < 15) {
		t->proto = 17;
	} else if (r < 18) {
		t->proto = fam == 4 ? 1 : 58;
		static const int t4[] = {8, 0, 3, 13}, t6[] = {128, 129, 1, 135};
		t->icmp_type = fam == 4 ? t4[below(4)] : t6[below(4)];
	} else {
		t->proto = r == 18 ? 47 : 132;
	}
	if ((t->proto == 6 || t->proto == 17) && pl->nfports && below(2)) {
		t->dport = pl->fports[below(pl->nfports)];
	} else if (t->proto == 6 || t->proto == 17 || t->proto == 132) {
		uint64_t q = below(10);
		t->dport = q < 7 ? (uint16_t)(ports[below(sizeof(ports) / sizeof(ports[0]))] +
					      (q == 5	? 1
					       : q == 6 ? -1
							: 0))
				 : (uint16_t)(1 + below(65535));
	}
	/* a day before the policy's day to a month after it (its windows) */
	t->time = now - 86400 + (int64_t)below(31 * 86400);
}

static const char *rule_id(const struct pol_table *t, const struct pol_verdict *v)
{
	return v->rule >= 0 ? pol_table_rule(t, (size_t)v->rule)->id : "-";
}

static void tuple_text(const struct pol_tuple *t, char *buf, size_t size)
{
	char s[64], d[64];
	ip_addr_format(&t->src, s, sizeof(s));
	ip_addr_format(&t->dst, d, sizeof(d));
	snprintf(buf, size, "%s -> %s proto %u port %u type %d at %lld", s, d, t->proto, t->dport,
		 t->icmp_type, (long long)t->time);
}

static bool same_verdict(const struct pol_table *ta, const struct pol_verdict *a,
			 const struct pol_table *tb, const struct pol_verdict *b)
{
	return a->by == b->by && a->action == b->action && a->passes == b->passes &&
	       a->to_gateway == b->to_gateway && strcmp(rule_id(ta, a), rule_id(tb, b)) == 0;
}

/* ------------------------------------------------------------------ */
/* Unused definitions */

Test(stage2, unused_objects_groups_externals_change_no_verdict)
{
	struct inventory *inv = load_inventory();
	char *base = fixture_policy();
	/* overlapping what the rules use, nested in a used object, a group of the
	 * sites the used groups hold */
	char *t1 = insert_after(base, "objects:",
				"  unused-obj: [10.99.8.0/23, \"fd99:0:1::/48\", 10.99.9.10]\n"
				"  unused-nest: {objects: [resolvers, unused-obj], "
				"addresses: [10.99.41.10]}\n");
	char *t2 = insert_after(t1, "externals:",
				"  unused-ext: {addresses: [100.70.1.0/24, 203.0.113.0/24, "
				"\"fd70::/64\"]}\n");
	char *with = insert_after(
	    t2, "site_groups:", "  unused-grp: {districts: [Mitte]}\n  unused-one: [S3]\n");
	struct built a, b;
	build(inv, base, DAY, &a);
	build(inv, with, DAY, &b);
	static const char *const objects[] = {"unused-obj", "unused-nest", "unused-ext"};
	for (size_t i = 0; i < NELEM(objects); i++) {
		int o = policy_find_object(b.p, objects[i]);
		cr_assert_geq(o, 0);
		cr_expect_not(b.p->objects[o].used, "%s is not used", objects[i]);
	}
	static const char *const groups[] = {"unused-grp", "unused-one"};
	for (size_t i = 0; i < NELEM(groups); i++) {
		int g = policy_find_group(b.p, groups[i]);
		cr_assert_geq(g, 0);
		cr_expect_not(b.p->groups[g].used, "%s is not used", groups[i]);
	}

	struct pool pl = {.n = 0};
	pool_inventory(&pl, inv);
	/* half of the tuples aimed at the fixture's rules, at their edges */
	static const struct aim aims[] = {
	    {"10.99.57.0/24", "10.99.8.0/24", 6, 443},	 /* mgmt-all */
	    {"10.99.1.0/24", "10.99.8.52/30", 17, 53},	 /* dns, to core */
	    {"10.99.49.0/24", "10.99.8.120/29", 17, 53}, /* dns from guest (excepted) */
	    {"fd99:0:2:1::/64", "fd99:0:1::50/124", 6, 53},
	    {"10.99.1.0/24", "10.99.8.80/31", 6, 443}, /* payroll-web: web, db */
	    {"fd99:0:0:3::/64", "fd99:0:1::80/127", 6, 80},
	    {"10.99.8.80/31", "10.99.8.80/31", 6, 5432}, /* payroll-db */
	    {"fd99:0:1::80/127", "fd99:0:1::80/127", 6, 5432},
	    {"10.99.1.0/24", "100.70.0.0/23", 6, 443}, /* state-partner, from mitte */
	    {"10.99.3.0/24", "100.70.1.0/24", 6, 443}, /* ... and from Nord */
	    {"fd99:0:0:2::/64", "fd70::/120", 6, 80},
	    {"10.99.41.0/24", "10.99.41.8/30", 6, 80}, /* bms-sup, same site */
	    {"fd99:0:5:1::/64", "fd99:0:5:1::8/125", 6, 443},
	    {"10.99.1.0/24", "10.99.9.8/29", 6, 631}, /* print-net, except s1-print */
	    {"fd99:0:0:1::/64", "fd99:0:1:1::8/125", 6, 9100},
	    {"10.99.1.0/24", "10.99.9.0/24", 6, 22}, /* ssh-limited */
	    {"fd99:0:0:3::/64", "fd99:0:1::/64", 6, 22},
	    {"10.99.17.0/24", "10.99.8.0/24", 6, 22},  /* ssh-src */
	    {"10.99.66.0/24", "10.99.41.0/24", 6, 22}, /* maint, in its window or not */
	    {"fd99:0:66::/64", "fd99:0:5::/64", 6, 22},
	    {"10.99.8.160/30", "10.99.254.0/29", 17, 161}, /* snmp, the gateway service */
	    {"fd99:0:1::160/126", "fd99:0:0:1::/126", 17, 161},
	};
	rng_state = 20261203;
	size_t decided = 0, by_rule = 0, hits[64] = {0};
	cr_assert_lt(a.p->nrules, 64);
	for (int i = 0; i < NTUPLES; i++) {
		struct pol_tuple t;
		draw_mixed(&pl, aims, NELEM(aims), i, a.p->now, &t);
		for (size_t s = 0; s < inv->nsites; s++) {
			struct pol_verdict va, vb;
			cr_assert_eq(pol_decide(a.t[s], &t, &va), 0);
			cr_assert_eq(pol_decide(b.t[s], &t, &vb), 0);
			if (!same_verdict(a.t[s], &va, b.t[s], &vb)) {
				char buf[256];
				tuple_text(&t, buf, sizeof(buf));
				cr_assert_fail("at %s: %s: %s by %s without the unused "
					       "definitions, %s by %s with them",
					       inv->sites[s].id, buf, pol_action_names[va.action],
					       rule_id(a.t[s], &va), pol_action_names[vb.action],
					       rule_id(b.t[s], &vb));
			}
			decided += va.by != POL_BY_TRANSIT;
			by_rule += va.by == POL_BY_RULE;
			if (va.by == POL_BY_RULE) {
				int k = policy_find_rule(a.p, rule_id(a.t[s], &va));
				cr_assert_geq(k, 0);
				hits[k]++;
			}
		}
	}
	cr_log_info("unused definitions: %d tuples x %zu gateways, %zu judged, %zu by a rule",
		    NTUPLES, inv->nsites, decided, by_rule);
	/* every rule of the policy decided some of them */
	for (size_t k = 0; k < a.p->nrules; k++) {
		cr_log_info("  rule %s: %zu", a.p->rules[k].id, hits[k]);
		cr_expect_gt(hits[k], 0, "rule %s decided no tuple", a.p->rules[k].id);
	}
	/* the rulesets: the same bytes but for the policy's hash */
	for (size_t s = 0; s < inv->nsites; s++) {
		char *na, *nb;
		size_t la, lb;
		cr_assert_eq(pol_nft_render(a.b, a.t[s], (int)s, &na, &la, NULL), 0);
		cr_assert_eq(pol_nft_render(b.b, b.t[s], (int)s, &nb, &lb, NULL), 0);
		const char *ha = strstr(na, "# sha256:"), *hb = strstr(nb, "# sha256:");
		cr_assert(ha && hb);
		const char *ea = strchr(ha, '\n'), *eb = strchr(hb, '\n');
		cr_expect(ha - na == hb - nb && memcmp(na, nb, (size_t)(ha - na)) == 0 &&
			      strcmp(ea, eb) == 0,
			  "%s: the ruleset differs beyond the hash", inv->sites[s].id);
		free(na);
		free(nb);
	}
	unbuild(inv, &a);
	unbuild(inv, &b);
	free(base);
	free(t1);
	free(t2);
	free(with);
	inventory_free(inv);
}

/* ------------------------------------------------------------------ */
/* A site group of one and the site exception */

Test(stage2, site_group_of_one_equals_the_site_exception)
{
	struct inventory *inv = load_inventory();
	char *base = fixture_policy();
	/* A: two exceptions at S1 (one forbids what the city-wide rules allow,
	 * one allows more); B: each rewritten city-wide as two rules placed first,
	 * one with its source at S1, one with its destination there */
	char *a_text;
	cr_assert(asprintf(&a_text,
			   "%ssites:\n  S1:\n    rules:\n"
			   "      - {id: x1, from: [admin], to: [servers], services: [ssh], "
			   "action: reject}\n"
			   "      - {id: x2, from: [voip], to: [bms, servers], services: [web], "
			   "action: accept}\n",
			   base) > 0);
	char *b_text = insert_after(
	    base, "rules:",
	    "  - {id: x1-from, from: {zone: admin, sites: [S1]}, to: [servers], services: [ssh], "
	    "action: reject}\n"
	    "  - {id: x1-to, from: [admin], to: {zone: servers, sites: [S1]}, services: [ssh], "
	    "action: reject}\n"
	    "  - {id: x2-from, from: {zone: voip, sites: [S1]}, to: [bms, servers], services: "
	    "[web], "
	    "action: accept}\n"
	    "  - {id: x2-to, from: [voip], to: {zones: [bms, servers], sites: [S1]}, services: "
	    "[web], action: accept}\n");
	struct built a, b;
	build(inv, a_text, DAY, &a);
	build(inv, b_text, DAY, &b);
	int s1 = inventory_find_site(inv, "S1");
	cr_assert_geq(s1, 0);

	struct pool pl = {.n = 0};
	pool_inventory(&pl, inv);
	/* half of the tuples between admin or voip and servers or bms, at S1 and elsewhere */
	static const struct aim aims[] = {
	    {"10.99.1.0/24", "10.99.9.0/24", 6, 22},
	    {"10.99.1.0/24", "10.99.8.0/24", 6, 22},
	    {"10.99.3.0/24", "10.99.9.0/24", 6, 22},
	    {"10.99.3.0/24", "10.99.11.0/24", 6, 22},
	    {"fd99:0:0:1::/64", "fd99:0:1::/64", 6, 22},
	    {"fd99:0:0:3::/64", "fd99:0:1:1::/64", 6, 22},
	    {"10.99.17.0/24", "10.99.41.0/24", 6, 80},
	    {"10.99.17.0/24", "10.99.43.0/24", 6, 443},
	    {"10.99.19.0/24", "10.99.41.0/24", 6, 443},
	    {"10.99.18.0/24", "10.99.9.0/24", 6, 80},
	    {"fd99:0:2:1::/64", "fd99:0:5::/64", 6, 443},
	    {"fd99:0:2:3::/64", "fd99:0:5:1::/64", 6, 80},
	    {"10.99.1.0/24", "10.99.41.0/24", 6, 22},
	    {"10.99.17.0/24", "10.99.1.0/24", 6, 80},
	};
	rng_state = 42;
	size_t at_s1 = 0, by_exception = 0, differ_elsewhere = 0, judged_elsewhere = 0,
	       to_s1_gateway = 0;
	for (int i = 0; i < NTUPLES; i++) {
		struct pol_tuple t;
		draw_mixed(&pl, aims, NELEM(aims), i, a.p->now, &t);
		char buf[256];
		tuple_text(&t, buf, sizeof(buf));
		struct pol_verdict a1, b1;
		cr_assert_eq(pol_decide(a.t[s1], &t, &a1), 0);
		cr_assert_eq(pol_decide(b.t[s1], &t, &b1), 0);
		const char *ra = rule_id(a.t[s1], &a1), *rb = rule_id(b.t[s1], &b1);
		/* at S1: the same verdict; x1 (x2) of A is x1-from or x1-to (x2-...) of B */
		bool exc =
		    a1.by == POL_BY_RULE && pol_table_rule(a.t[s1], (size_t)a1.rule)->exception;
		bool ok = a1.by == b1.by && a1.action == b1.action && a1.passes == b1.passes &&
			  a1.to_gateway == b1.to_gateway &&
			  (exc ? strncmp(rb, ra, strlen(ra)) == 0 && rb[strlen(ra)] == '-'
			       : strcmp(ra, rb) == 0);
		cr_assert(ok,
			  "at S1: %s: %s by %s with the exception, %s by %s with the group of one",
			  buf, pol_action_names[a1.action], ra, pol_action_names[b1.action], rb);
		at_s1 += a1.by != POL_BY_TRANSIT;
		by_exception += exc;
		/* elsewhere B differs from A exactly where its group rule decides, and
		 * then it says what the exception says at S1 (the other end's site) */
		for (size_t s = 0; s < inv->nsites; s++) {
			if ((int)s == s1)
				continue;
			struct pol_verdict va, vb;
			cr_assert_eq(pol_decide(a.t[s], &t, &va), 0);
			cr_assert_eq(pol_decide(b.t[s], &t, &vb), 0);
			judged_elsewhere += va.by != POL_BY_TRANSIT;
			if (same_verdict(a.t[s], &va, b.t[s], &vb))
				continue;
			const char *rbs = rule_id(b.t[s], &vb);
			if (a1.to_gateway) {
				/* to one of S1's own addresses: S1's input chain judges it, where
				 * neither exceptions nor group rules apply; the other end's
				 * gateway judges it by the group rule, as one at S1's segment */
				cr_assert(vb.by == POL_BY_RULE && rbs[0] == 'x',
					  "at %s: %s: %s by %s", inv->sites[s].id, buf,
					  pol_action_names[vb.action], rbs);
				to_s1_gateway++;
				continue;
			}
			differ_elsewhere++;
			cr_assert(
			    vb.by == POL_BY_RULE && rbs[0] == 'x' && exc &&
				strncmp(rbs, ra, strlen(ra)) == 0 && vb.action == a1.action,
			    "at %s: %s: %s by %s with the exception, %s by %s with the group of "
			    "one (at S1: %s by %s)",
			    inv->sites[s].id, buf, pol_action_names[va.action],
			    rule_id(a.t[s], &va), pol_action_names[vb.action], rbs,
			    pol_action_names[a1.action], ra);
		}
	}
	cr_log_info(
	    "group of one: %d tuples, %zu judged at S1, %zu by the exceptions; elsewhere "
	    "%zu judged, %zu decided by the group rules as at S1, %zu to S1's own addresses",
	    NTUPLES, at_s1, by_exception, judged_elsewhere, differ_elsewhere, to_s1_gateway);
	cr_expect_gt(by_exception, 1000, "the exceptions decided enough tuples (%zu)",
		     by_exception);
	cr_expect_gt(differ_elsewhere, 500,
		     "the group rules are compiled where the other end is (%zu tuples)",
		     differ_elsewhere);
	unbuild(inv, &a);
	unbuild(inv, &b);
	free(base);
	free(a_text);
	free(b_text);
	inventory_free(inv);
}

/* ------------------------------------------------------------------ */
/* except is set difference */

/* A prefix parsed here with inet_pton, and membership by its bits: the
 * oracle does not use the library's prefixes or ranges. */
struct xprefix {
	uint8_t family;
	unsigned char b[16];
	int len;
};

static void xparse(const char *s, struct xprefix *p)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	memset(p, 0, sizeof(*p));
	p->family = strchr(buf, ':') ? 6 : 4;
	p->len = p->family == 4 ? 32 : 128;
	if (slash) {
		*slash = '\0';
		p->len = atoi(slash + 1);
	}
	cr_assert_eq(inet_pton(p->family == 4 ? AF_INET : AF_INET6, buf, p->b), 1, "%s", s);
}

static bool xcontains(const struct xprefix *p, const struct ip_addr *a)
{
	if (p->family != a->family)
		return false;
	for (int i = 0; i < p->len; i++) {
		int m = 0x80 >> (i % 8);
		if ((p->b[i / 8] & m) != (a->b[i / 8] & m))
			return false;
	}
	return true;
}

static bool xin(const struct xprefix *v, size_t n, const struct ip_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (xcontains(&v[i], a))
			return true;
	return false;
}

static const char *const BIG[] = {"10.99.8.0/22", "fd99:0:1::/48", "100.70.0.0/16"};
static const char *const HOLES[] = {"10.99.9.0/25", "10.99.8.53", "fd99:0:1:1::/64", "fd99:0:1::53",
				    "100.70.1.0/24"};
static const char *const BIG2[] = {"10.99.40.0/22", "fd99:0:5::/48"};

Test(stage2, except_is_set_difference)
{
	struct inventory *inv = load_inventory();
	char *base = fixture_policy();
	const char *objects = "  big: [10.99.8.0/22, \"fd99:0:1::/48\", 100.70.0.0/16]\n"
			      "  holes: [10.99.9.0/25, 10.99.8.53, \"fd99:0:1:1::/64\", "
			      "\"fd99:0:1::53\", 100.70.1.0/24]\n"
			      "  big2: [10.99.40.0/22, \"fd99:0:5::/48\"]\n";
	char *without = insert_after(base, "objects:", objects);
	/* E1: to an object minus another; E2: from every address minus a zone and
	 * an object; both first */
	char *with =
	    insert_after(without, "rules:",
			 "  - {id: e1, from: any, to: {object: big, except: [holes]}, "
			 "services: [printing], action: accept}\n"
			 "  - {id: e2, from: {except: [guest, holes]}, to: big2, services: "
			 "[sql], action: reject}\n");
	struct built w0, w;
	build(inv, without, DAY, &w0);
	build(inv, with, DAY, &w);
	/* the oracle's sets: the prefixes above, and the guest zone's segments read
	 * from segments.csv here (site,name,zone,vlan,ipv4,ipv6) */
	struct xprefix big[NELEM(BIG)], holes[NELEM(HOLES)], big2[NELEM(BIG2)], guest[16];
	size_t nguest = 0;
	for (size_t i = 0; i < NELEM(BIG); i++)
		xparse(BIG[i], &big[i]);
	for (size_t i = 0; i < NELEM(HOLES); i++)
		xparse(HOLES[i], &holes[i]);
	for (size_t i = 0; i < NELEM(BIG2); i++)
		xparse(BIG2[i], &big2[i]);
	char *csv = tu_slurp(tu_path(FIXTURE "/segments.csv"), NULL), *save = NULL;
	for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[6] = {0}, *s2 = NULL;
		int k = 0;
		for (char *c = strtok_r(line, ",", &s2); c && k < 6; c = strtok_r(NULL, ",", &s2))
			f[k++] = c;
		if (k >= 5 && strcmp(f[2], "guest") == 0)
			for (int j = 4; j < k && nguest < 16; j++)
				xparse(f[j], &guest[nguest++]);
	}
	free(csv);
	cr_assert_gt(nguest, 0, "the fixture has a guest segment");

	struct pool pl = {.n = 0};
	pool_inventory(&pl, inv);
	for (size_t i = 0; i < NELEM(BIG); i++)
		pool_add(&pl, BIG[i]);
	for (size_t i = 0; i < NELEM(HOLES); i++)
		pool_add(&pl, HOLES[i]);
	for (size_t i = 0; i < NELEM(BIG2); i++)
		pool_add(&pl, BIG2[i]);
	/* the sets' edges, the excluded zone, the services */
	static const char *const focus[] = {
	    "10.99.8.0/24",    "10.99.9.0/24",	   "10.99.11.255/32",  "10.99.12.0/32",
	    "10.99.8.52/30",   "fd99:0:1::50/124", "fd99:0:1:1::/120", "fd99:0:1:2::/128",
	    "100.70.1.0/24",   "100.70.0.255/32",  "100.70.2.0/32",    "10.99.41.0/24",
	    "10.99.43.0/24",   "10.99.40.0/24",	   "fd99:0:5:1::/64",  "10.99.49.0/24",
	    "fd99:0:6:1::/64", "10.99.1.0/24",	   "fd99:0:0:1::/64"};
	static const uint16_t fports[] = {631, 9100, 5432};
	pool_focus(&pl, focus, NELEM(focus), fports, NELEM(fports));
	rng_state = 7;
	size_t e1 = 0, e2 = 0, in_hole = 0, from_excepted = 0;
	for (int i = 0; i < NTUPLES; i++) {
		struct pol_tuple t;
		draw_tuple(&pl, w.p->now, &t);
		char buf[256];
		tuple_text(&t, buf, sizeof(buf));
		bool printing = t.proto == 6 && (t.dport == 631 || t.dport == 9100);
		bool sql = t.proto == 6 && t.dport == 5432;
		bool m1 =
		    printing && xin(big, NELEM(big), &t.dst) && !xin(holes, NELEM(holes), &t.dst);
		bool m2 = sql && xin(big2, NELEM(big2), &t.dst) && !xin(guest, nguest, &t.src) &&
			  !xin(holes, NELEM(holes), &t.src);
		bool hole = printing && xin(holes, NELEM(holes), &t.dst);
		bool exc = sql && xin(big2, NELEM(big2), &t.dst) &&
			   (xin(guest, nguest, &t.src) || xin(holes, NELEM(holes), &t.src));
		for (size_t s = 0; s < inv->nsites; s++) {
			struct pol_verdict v0, v;
			cr_assert_eq(pol_decide(w0.t[s], &t, &v0), 0);
			cr_assert_eq(pol_decide(w.t[s], &t, &v), 0);
			/* transit, invalid and the input chain come before any rule */
			bool before =
			    v0.by == POL_BY_TRANSIT || v0.by == POL_BY_INVALID || v0.to_gateway;
			const char *want = before ? NULL : m1 ? "e1" : m2 ? "e2" : NULL;
			if (want) {
				cr_assert(
				    v.by == POL_BY_RULE && strcmp(rule_id(w.t[s], &v), want) == 0 &&
					v.action == (want[1] == '1' ? POL_ACCEPT : POL_REJECT),
				    "at %s: %s: want %s, got %s by %s", inv->sites[s].id, buf, want,
				    pol_action_names[v.action], rule_id(w.t[s], &v));
				e1 += want[1] == '1';
				e2 += want[1] == '2';
			} else {
				cr_assert(same_verdict(w0.t[s], &v0, w.t[s], &v),
					  "at %s: %s: outside e1 and e2, want %s by %s as without "
					  "them, got %s by %s",
					  inv->sites[s].id, buf, pol_action_names[v0.action],
					  rule_id(w0.t[s], &v0), pol_action_names[v.action],
					  rule_id(w.t[s], &v));
				in_hole += !before && hole;
				from_excepted += !before && exc;
			}
		}
	}
	cr_log_info("except: %d tuples x %zu gateways: %zu decided by e1, %zu by e2; %zu to a hole "
		    "and %zu from an excepted source went on to the rules below",
		    NTUPLES, inv->nsites, e1, e2, in_hole, from_excepted);
	cr_expect_gt(e1, 100, "e1 (%zu)", e1);
	cr_expect_gt(e2, 50, "e2 (%zu)", e2);
	cr_expect_gt(in_hole, 20, "tuples to the holes of e1 (%zu)", in_hole);
	cr_expect_gt(from_excepted, 20, "tuples from e2's exclusions (%zu)", from_excepted);
	unbuild(inv, &w0);
	unbuild(inv, &w);
	free(base);
	free(without);
	free(with);
	inventory_free(inv);
}

/* ------------------------------------------------------------------ */
/* Time windows across the daylight-saving changes */

/* The intervals FIRST-LAST of `set NAME` in a rendered ruleset. */
static size_t window_elements(const char *nft, const char *name, int64_t *first, int64_t *last,
			      size_t max)
{
	char head[96];
	snprintf(head, sizeof(head), "\tset %s {\n", name);
	const char *p = strstr(nft, head);
	cr_assert_not_null(p, "no %s in the ruleset", name);
	p = strstr(p, "elements = {");
	cr_assert_not_null(p);
	p += strlen("elements = {");
	const char *end = strchr(p, '}');
	size_t n = 0;
	long long a, b;
	int used;
	while (p < end && n < max && sscanf(p, " %lld-%lld%n", &a, &b, &used) == 2) {
		first[n] = a;
		last[n] = b;
		n++;
		p += used;
		while (p < end && (*p == ',' || *p == ' ' || *p == '\n' || *p == '\t'))
			p++;
	}
	return n;
}

static int64_t utc(const char *s)
{
	struct tm tm = {0};
	cr_assert_eq(sscanf(s, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			    &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
		     6, "%s", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

Test(stage2, window_sets_hold_what_timewin_says_across_dst)
{
	struct inventory *inv = load_inventory();
	char *base = fixture_policy();
	char *text = insert_after(
	    base, "rules:",
	    "  - {id: wa, from: [vpn-vendors], to: [bms], services: [ssh], action: accept,\n"
	    "     when: {days: daily, hours: \"01:30-03:30\", timezone: Europe/Berlin}}\n"
	    "  - {id: wb, from: [vpn-vendors], to: [bms], services: [web], action: accept,\n"
	    "     when: {hours: \"02:15-02:45\", timezone: Europe/Berlin}}\n");
	struct built w;
	build(inv, text, "2027-03-20", &w);
	int s1 = inventory_find_site(inv, "S1");
	char *nft;
	size_t len;
	cr_assert_eq(pol_nft_render(w.b, w.t[s1], s1, &nft, &len, NULL), 0);
	static int64_t fa[1000], la[1000], fb[1000], lb[1000];
	size_t na = window_elements(nft, "w_wa", fa, la, 1000);
	size_t nb = window_elements(nft, "w_wb", fb, lb, 1000);
	cr_assert_gt(na, 300, "a year of daily occurrences (%zu)", na);
	cr_assert_gt(nb, 300, "(%zu)", nb);
	struct tw_window wa, wb;
	char err[128];
	cr_assert_eq(tw_parse("daily", "01:30-03:30", "Europe/Berlin", &wa, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(tw_parse("daily", "02:15-02:45", "Europe/Berlin", &wb, err, sizeof(err)), 0,
		     "%s", err);
	/* Berlin: 2027-03-28 01:00 UTC the clock jumps from 02:00 CET to 03:00
	 * CEST (02:15-02:45 does not exist that night); 2027-10-31 01:00 UTC
	 * from 03:00 CEST back to 02:00 CET (02:00-03:00 happens twice). */
	static const struct {
		const char *at;
		bool a, b;
	} cases[] = {
	    {"2027-03-27T00:29:59Z", 0, 0},
	    {"2027-03-27T00:30:00Z", 1, 0}, /* CET: 01:30 */
	    {"2027-03-27T01:14:59Z", 1, 0},
	    {"2027-03-27T01:15:00Z", 1, 1},
	    {"2027-03-27T01:44:59Z", 1, 1},
	    {"2027-03-27T01:45:00Z", 1, 0},
	    {"2027-03-27T02:29:59Z", 1, 0},
	    {"2027-03-27T02:30:00Z", 0, 0},
	    {"2027-03-28T00:29:59Z", 0, 0},
	    {"2027-03-28T00:30:00Z", 1, 0}, /* the night of the jump */
	    {"2027-03-28T00:59:59Z", 1, 0}, /* 01:59:59 CET */
	    {"2027-03-28T01:00:00Z", 1, 0}, /* 03:00 CEST */
	    {"2027-03-28T01:15:00Z", 1, 0},
	    {"2027-03-28T01:29:59Z", 1, 0},
	    {"2027-03-28T01:30:00Z", 0, 0},
	    {"2027-03-28T23:29:59Z", 0, 0}, /* CEST from here */
	    {"2027-03-28T23:30:00Z", 1, 0},
	    {"2027-03-29T00:14:59Z", 1, 0},
	    {"2027-03-29T00:15:00Z", 1, 1},
	    {"2027-03-29T00:44:59Z", 1, 1},
	    {"2027-03-29T00:45:00Z", 1, 0},
	    {"2027-03-29T01:29:59Z", 1, 0},
	    {"2027-03-29T01:30:00Z", 0, 0},
	    {"2027-10-30T23:29:59Z", 0, 0}, /* the night back */
	    {"2027-10-30T23:30:00Z", 1, 0},
	    {"2027-10-31T00:14:59Z", 1, 0},
	    {"2027-10-31T00:15:00Z", 1, 1},
	    {"2027-10-31T00:44:59Z", 1, 1}, /* 02:15 CEST */
	    {"2027-10-31T00:45:00Z", 1, 0},
	    {"2027-10-31T00:59:59Z", 1, 0},
	    {"2027-10-31T01:00:00Z", 1, 0},
	    {"2027-10-31T01:14:59Z", 1, 0},
	    {"2027-10-31T01:15:00Z", 1, 1},
	    {"2027-10-31T01:44:59Z", 1, 1}, /* 02:15 CET */
	    {"2027-10-31T01:45:00Z", 1, 0},
	    {"2027-10-31T02:29:59Z", 1, 0},
	    {"2027-10-31T02:30:00Z", 0, 0},
	    {"2027-10-31T23:29:59Z", 0, 0}, /* CET: 00:29:59 */
	    {"2027-11-01T00:30:00Z", 1, 0},
	    {"2027-11-01T01:15:00Z", 1, 1},
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t t = utc(cases[i].at);
		/* a rendered element a-b covers second t wholly when a <= t < b
		 * (meta time counts nanoseconds; b itself is the first nanosecond
		 * after the window's last second) */
		bool ra = false, rb = false;
		for (size_t k = 0; k < na; k++)
			ra |= fa[k] <= t && t < la[k];
		for (size_t k = 0; k < nb; k++)
			rb |= fb[k] <= t && t < lb[k];
		cr_expect_eq(tw_contains(&wa, t), cases[i].a, "tw_contains wa at %s", cases[i].at);
		cr_expect_eq(tw_contains(&wb, t), cases[i].b, "tw_contains wb at %s", cases[i].at);
		cr_expect_eq(ra, cases[i].a, "w_wa holds %s: %d, want %d", cases[i].at, ra,
			     cases[i].a);
		cr_expect_eq(rb, cases[i].b, "w_wb holds %s: %d, want %d", cases[i].at, rb,
			     cases[i].b);
		/* the table's spans: what query decides at that instant */
		struct pol_tuple tp = {.proto = 6, .dport = 22, .time = t};
		cr_assert_eq(ip_addr_parse("10.99.66.20", &tp.src), 0);
		cr_assert_eq(ip_addr_parse("10.99.41.20", &tp.dst), 0);
		struct pol_verdict v;
		cr_assert_eq(pol_decide(w.t[s1], &tp, &v), 0);
		cr_expect_eq(v.by == POL_BY_RULE && strcmp(rule_id(w.t[s1], &v), "wa") == 0,
			     cases[i].a, "pol_decide at %s: %s", cases[i].at, rule_id(w.t[s1], &v));
		tp.dport = 80;
		cr_assert_eq(pol_decide(w.t[s1], &tp, &v), 0);
		cr_expect_eq(v.by == POL_BY_RULE && strcmp(rule_id(w.t[s1], &v), "wb") == 0,
			     cases[i].b, "pol_decide at %s (wb): %s", cases[i].at,
			     rule_id(w.t[s1], &v));
	}
	/* and every second of the two nights, rendered set against tw_contains */
	size_t seconds = 0;
	for (int night = 0; night < 2; night++) {
		int64_t from = utc(night ? "2027-10-30T22:00:00Z" : "2027-03-27T22:00:00Z");
		for (int64_t t = from; t < from + 6 * 3600; t++, seconds++) {
			bool ra = false, rb = false;
			for (size_t k = 0; k < na && !ra; k++)
				ra = fa[k] <= t && t < la[k];
			for (size_t k = 0; k < nb && !rb; k++)
				rb = fb[k] <= t && t < lb[k];
			if (ra != tw_contains(&wa, t) || rb != tw_contains(&wb, t))
				cr_assert_fail(
				    "at %lld the rendered sets say %d %d, tw_contains %d %d",
				    (long long)t, ra, rb, tw_contains(&wa, t), tw_contains(&wb, t));
		}
	}
	cr_log_info("windows: %zu and %zu occurrences rendered; %zu instants stated, %zu seconds "
		    "around the changes compared",
		    na, nb, NELEM(cases), seconds);
	free(nft);
	unbuild(inv, &w);
	free(base);
	free(text);
	inventory_free(inv);
}
