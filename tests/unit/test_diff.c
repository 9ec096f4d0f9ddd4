// SPDX-License-Identifier: MIT
/*
 * policy diff: edits that decide nothing differently give no change; for
 * random mutations, the tuples whose verdict changes under the shared
 * evaluator (pol_decide on each judging gateway's table) are exactly the
 * tuples inside the reported changes.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/diff.h"
#include "compile/compile.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

static const char districts[] = "name,lat,lon,radius_m\n"
				"Mitte,48.7758,9.1829,2000\n"
				"Möhringen,48.7250,9.1500,3000\n";
static const char sites[] =
    "id,name,district,type,lat,lon,staff,broadband,current_mbps,required_mbps,flags\n"
    "DC1,Rechenzentrum,Mitte,data_centre,48.7760,9.1830,12,fibre,10000,10000,primary\n"
    "S000001,Rathaus Möhringen,Möhringen,town_hall,48.7260,9.1510,120,fibre,1000,500,hub\n"
    "S000002,Grundschule Mitte,Mitte,school,48.7770,9.1800,40,fibre,1000,500,\n"
    "S000003,Amt Mitte,Mitte,office,48.7750,9.1850,30,fibre,1000,100,\n"
    "S000004,Schule Möhringen,Möhringen,school,48.7240,9.1480,50,fibre,1000,500,\n";
static const char links[] = "id,a,b,kind,capacity_mbps,length_m,cost_eur\n"
			    "L1,DC1,S000001,fibre,10000,7500,\n"
			    "L2,DC1,S000002,fibre,1000,400,\n"
			    "L3,DC1,S000003,fibre,1000,300,\n"
			    "L4,S000001,S000004,fibre,1000,300,\n";
static const char segments[] = "site,name,zone,vlan,ipv4,ipv6\n"
			       "DC1,servers,servers,20,10.32.0.0/24,fd5e:0:0:100::/64\n"
			       "DC1,mgmt,mgmt,99,10.48.0.0/24,fd5e:0:0:200::/64\n"
			       "S000001,admin,admin,10,10.0.0.0/25,fd5e::/64\n"
			       "S000001,voip,voip,30,10.16.0.0/26,\n"
			       "S000001,servers,servers,20,10.32.1.0/24,fd5e:0:0:101::/64\n"
			       "S000002,school,school,60,10.64.0.0/24,fd5e:0:0:300::/64\n"
			       "S000002,printers,printers,40,10.80.0.0/26,\n"
			       "S000003,admin,admin,10,10.0.1.0/25,fd5e:0:0:1::/64\n"
			       "S000003,printers,printers,40,10.80.1.0/26,\n"
			       "S000003,voip,voip,30,10.16.1.0/26,fd5e:0:0:400::/64\n"
			       "S000004,school,school,60,10.64.1.0/24,fd5e:0:0:301::/64\n"
			       "S000004,admin,admin,10,10.0.2.0/25,fd5e:0:0:2::/64\n";
static const char plan[] = "zone,prefix\n"
			   "city,10.0.0.0/8\n"
			   "city,fd5e::/48\n"
			   "admin,10.0.0.0/16\n"
			   "admin,fd5e::/56\n"
			   "voip,10.16.0.0/16\n"
			   "voip,fd5e:0:0:400::/56\n"
			   "servers,10.32.0.0/16\n"
			   "servers,fd5e:0:0:100::/56\n"
			   "mgmt,10.48.0.0/16\n"
			   "mgmt,fd5e:0:0:200::/56\n"
			   "school,10.64.0.0/16\n"
			   "school,fd5e:0:0:300::/56\n"
			   "printers,10.80.0.0/16\n"
			   "vpn-staff,10.200.0.0/16\n";

static const char *const site_ids[] = {"DC1", "S000001", "S000002", "S000003", "S000004"};
#define NSITES 5

/* ------------------------------------------------------------------ */
/* Policies built from parts, so that mutations are edits of records */

struct tsvc {
	char name[32];
	char spec[96];
};

struct trule {
	char id[32], from[64], to[64], svc[64], scope[16], action[8];
	int site; /* index into site_ids, -1 city-wide */
};

struct tpol {
	struct tsvc svc[16];
	size_t nsvc;
	struct trule r[32];
	size_t nr;
};

static const struct tpol base = {
    .svc = {{"web", "tcp: [80, 443]"},
	    {"dns", "udp: [53], tcp: [53]"},
	    {"ssh", "tcp: [22]"},
	    {"rtp", "udp: [10000-20000]"},
	    {"printing", "tcp: [515, 631, 9100]"},
	    {"ping", "icmp: [echo-request], icmpv6: [echo-request]"},
	    {"tunnels", "protocols: [gre, esp]"},
	    {"high", "tcp: [1024-49151], sctp: [3868]"}},
    .nsvc = 8,
    .r = {{"mgmt-all", "[mgmt]", "any", "any", "any", "accept", -1},
	  {"dns", "[admin, school, voip]", "[servers]", "[dns]", "dc-only", "accept", -1},
	  {"central", "[admin]", "[servers]", "[web, ping]", "any", "accept", -1},
	  {"local-print", "[admin, school]", "[printers]", "[printing]", "same-site", "accept", -1},
	  {"district-high", "[admin]", "[admin, voip]", "[high]", "same-district", "accept", -1},
	  {"phones", "[voip]", "[voip, servers]", "[rtp]", "any", "accept", -1},
	  {"school-out", "[school]", "[internet]", "[web, dns]", "any", "accept", -1},
	  {"vpn-in", "[vpn-staff]", "[servers, admin]", "[ssh, web, tunnels]", "any", "accept", -1},
	  {"school-apart", "[school]", "[admin, servers, voip]", "any", "any", "reject", -1},
	  {"no-ssh", "any", "[servers]", "[ssh]", "dc-only", "drop", -1},
	  {"internet-in", "[internet]", "[servers]", "[web]", "dc-only", "accept", -1}},
    .nr = 11,
};

static char *render(const struct tpol *t)
{
	size_t cap = 16384, o = 0;
	char *s = malloc(cap);
	cr_assert_not_null(s);
	o += (size_t)snprintf(s + o, cap - o,
			      "version: 1\nzones:\n  admin: a\n  servers: s\n  voip: v\n"
			      "  printers: p\n  school: sc\n  mgmt: m\nservices:\n");
	for (size_t i = 0; i < t->nsvc; i++)
		o += (size_t)snprintf(s + o, cap - o, "  %s: {%s}\n", t->svc[i].name,
				      t->svc[i].spec);
	o += (size_t)snprintf(s + o, cap - o, "rules:\n");
	for (size_t i = 0; i < t->nr; i++)
		if (t->r[i].site < 0)
			o += (size_t)snprintf(
			    s + o, cap - o,
			    "  - {id: %s, from: %s, to: %s, services: %s, scope: %s, action: %s}\n",
			    t->r[i].id, t->r[i].from, t->r[i].to, t->r[i].svc, t->r[i].scope,
			    t->r[i].action);
	bool any = false;
	for (int site = 0; site < NSITES; site++) {
		bool head = false;
		for (size_t i = 0; i < t->nr; i++) {
			if (t->r[i].site != site)
				continue;
			if (!any)
				o += (size_t)snprintf(s + o, cap - o, "sites:\n");
			if (!head)
				o += (size_t)snprintf(s + o, cap - o, "  %s:\n    rules:\n",
						      site_ids[site]);
			any = head = true;
			o += (size_t)snprintf(s + o, cap - o,
					      "      - {id: %s, from: %s, to: %s, services: %s, "
					      "scope: %s, action: %s}\n",
					      t->r[i].id, t->r[i].from, t->r[i].to, t->r[i].svc,
					      t->r[i].scope, t->r[i].action);
		}
	}
	cr_assert_lt(o, cap);
	return s;
}

/* ------------------------------------------------------------------ */

struct env {
	char *dir;
	struct inventory *inv;
};

static void env_init(struct env *e)
{
	e->dir = tu_tmpdir();
	cr_assert_not_null(e->dir);
	free(tu_write(e->dir, "districts.csv", districts));
	free(tu_write(e->dir, "sites.csv", sites));
	free(tu_write(e->dir, "links.csv", links));
	free(tu_write(e->dir, "segments.csv", segments));
	free(tu_write(e->dir, "addressplan.csv", plan));
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(inventory_load(e->dir, dl, &e->inv), 0, "%s", tu_diags(dl));
	diag_list_free(dl);
}

static void env_free(struct env *e)
{
	inventory_free(e->inv);
	tu_rmdir(e->dir);
	free(e->dir);
}

/* render(t) with extra top-level lines after "version: 1". */
static struct policy *load_with(const struct env *e, const struct tpol *t, const char *extra,
				const char *name)
{
	char *text = render(t), *full = NULL;
	cr_assert(asprintf(&full, "version: 1\n%s%s", extra, text + strlen("version: 1\n")) > 0);
	struct diag_list *dl = diag_list_new();
	struct policy *p = NULL;
	cr_assert_eq(policy_load_buffer(full, strlen(full), name, e->inv, "2025-06-01", dl, &p), 0,
		     "%s\n%s", tu_diags(dl), full);
	diag_list_free(dl);
	free(text);
	free(full);
	return p;
}

static struct policy *load(const struct env *e, const struct tpol *t, const char *name)
{
	return load_with(e, t, "", name);
}

static const char *changes_text(const struct diff_report *d, const struct policy *a,
				const struct policy *b)
{
	static char buf[32768];
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < d->n && o < sizeof(buf) - 1; i++) {
		char *t = diff_change_text(d, a, b, &d->v[i]);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\n", t ? t : "?");
		free(t);
	}
	return buf;
}

static struct diff_report *diff_of(const struct env *e, const struct policy *a,
				   const struct policy *b)
{
	struct diff_report *d = NULL;
	cr_assert_eq(diff_policies(a, e->inv, b, e->inv, &d), 0);
	return d;
}

static void expect_no_change(const struct env *e, const struct tpol *ta, const struct tpol *tb)
{
	struct policy *a = load(e, ta, "old.yaml"), *b = load(e, tb, "new.yaml");
	struct diff_report *d = diff_of(e, a, b);
	cr_assert_eq(d->n, 0, "%s", changes_text(d, a, b));
	cr_assert_gt(d->atoms, 0);
	diff_report_free(d);
	policy_free(a);
	policy_free(b);
}

Test(diff, equivalent_edits_give_no_change)
{
	struct env e;
	env_init(&e);
	expect_no_change(&e, &base, &base);
	/* Reordering independent rules: local-print and district-high share no zone pair. */
	struct tpol t = base;
	t.r[3] = base.r[4];
	t.r[4] = base.r[3];
	expect_no_change(&e, &base, &t);
	/* school-out and vpn-in, further apart. */
	t = base;
	t.r[6] = base.r[7];
	t.r[7] = base.r[6];
	expect_no_change(&e, &base, &t);
	/* Renaming a service. */
	t = base;
	snprintf(t.svc[0].name, sizeof(t.svc[0].name), "http-s");
	snprintf(t.r[2].svc, sizeof(t.r[2].svc), "[http-s, ping]");
	snprintf(t.r[6].svc, sizeof(t.r[6].svc), "[http-s, dns]");
	snprintf(t.r[7].svc, sizeof(t.r[7].svc), "[ssh, http-s, tunnels]");
	snprintf(t.r[10].svc, sizeof(t.r[10].svc), "[http-s]");
	expect_no_change(&e, &base, &t);
	/* Splitting a rule into two that together decide the same. */
	t = base;
	memmove(&t.r[3], &t.r[2], (t.nr - 2) * sizeof(t.r[0]));
	t.nr++;
	snprintf(t.r[2].svc, sizeof(t.r[2].svc), "[web]");
	snprintf(t.r[3].id, sizeof(t.r[3].id), "central-ping");
	snprintf(t.r[3].svc, sizeof(t.r[3].svc), "[ping]");
	expect_no_change(&e, &base, &t);
	/* And a real change is seen: the ssh drop moved before the VPN rule. */
	t = base;
	t.r[7] = base.r[9];
	t.r[8] = base.r[7];
	t.r[9] = base.r[8];
	struct policy *a = load(&e, &base, "old.yaml"), *b = load(&e, &t, "new.yaml");
	struct diff_report *d = diff_of(&e, a, b);
	const char *all = changes_text(d, a, b);
	cr_assert_eq(d->n, 2, "%s", all);
	cr_assert(strstr(all, "ipv4 vpn-staff -> servers[dc] tcp/22 (elsewhere): accept (rule "
			      "'vpn-in') -> drop (rule 'no-ssh')\n"),
		  "%s", all);
	cr_assert(strstr(all, "school -> servers[dc] tcp/22 (same-district, elsewhere): reject "
			      "(rule 'school-apart') -> drop (rule 'no-ssh')\n"),
		  "%s", all);
	diff_report_free(d);
	policy_free(a);
	policy_free(b);
	env_free(&e);
}

/* ------------------------------------------------------------------ */
/* Random tuples */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* (Vigna 2016) */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void random_in(const struct ip_prefix *p, struct ip_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = p->family;
	memcpy(a->b, p->b, 16);
	unsigned bits = ip_family_bits(p->family);
	for (unsigned i = p->len; i < bits; i++)
		if (rnd() & 1)
			a->b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

static void parse_prefix(const char *s, struct ip_prefix *p)
{
	cr_assert_eq(ip_prefix_parse(s, false, p), 0, "%s", s);
}

/* An address of family fam: mostly in a segment, sometimes in a pool, unassigned or outside. */
static void random_addr(const struct inventory *inv, uint8_t fam, struct ip_addr *a)
{
	struct ip_prefix p;
	unsigned k = rndn(10);
	if (k == 0) {
		parse_prefix(fam == 4 ? "192.0.2.0/24" : "2001:db8::/32", &p);
	} else if (k == 1) {
		parse_prefix(fam == 4 ? "10.250.0.0/16" : "fd5e:0:0:ff00::/56", &p);
	} else if (k == 2 && fam == 4) {
		parse_prefix("10.200.0.0/16", &p);
	} else {
		for (;;) {
			const struct segment *s = &inv->segments[rndn((unsigned)inv->nsegments)];
			if (fam == 4 && s->has_v4) {
				p = s->v4;
				break;
			}
			if (fam == 6 && s->has_v6) {
				p = s->v6;
				break;
			}
		}
	}
	random_in(&p, a);
}

static const uint16_t ports[] = {0,    21,   22,    23,	   52,	  53,	 54,	79,    80,
				 81,   442,  443,   444,   515,	  631,	 1023,	1024,  3868,
				 9100, 9999, 10000, 15000, 20000, 20001, 49151, 49152, 65535};

static void random_service(uint8_t fam, struct pol_tuple *t)
{
	static const uint8_t protos[] = {IPPROTO_TCP,  IPPROTO_TCP, IPPROTO_TCP,  IPPROTO_UDP,
					 IPPROTO_UDP,  IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6,
					 IPPROTO_SCTP, 47,	    50,		  0,
					 255};
	unsigned k = rndn(sizeof(protos));
	t->proto = k == sizeof(protos) - 1 ? (uint8_t)rndn(256) : protos[k];
	if (t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6) {
		/* Favour the types rules and the preamble name. */
		unsigned r = rndn(4);
		t->icmp_type = r == 0	? (fam == 4 ? 8 : 128)
			       : r == 1 ? (fam == 4 ? 3 : 2)
					: (int)rndn(256);
	} else {
		t->icmp_type = -1;
	}
	t->dport = rndn(2) ? ports[rndn(sizeof(ports) / sizeof(ports[0]))] : (uint16_t)rndn(65536);
}

/* The protocol and port (or type) of a point of the service line. */
static void point_service(uint32_t x, uint8_t fam, struct pol_tuple *t)
{
	unsigned p = 0;
	while (p < 255 && lint_svc_point((uint8_t)(p + 1), 0) <= x)
		p++;
	t->proto = (uint8_t)p;
	unsigned v = x - lint_svc_point((uint8_t)p, 0);
	t->dport = proto_has_ports(t->proto) ? (uint16_t)v : 0;
	t->icmp_type = p == IPPROTO_ICMP || p == IPPROTO_ICMPV6 ? (int)v : -1;
	(void)fam;
}

/* An address of a zone: a segment of it, or the pool, unassigned or outside addresses. */
static void zone_addr(const struct inventory *inv, const char *zone, uint8_t fam, struct ip_addr *a)
{
	struct ip_prefix p;
	size_t n = 0;
	for (size_t i = 0; i < inv->nsegments; i++)
		n += strcmp(inv->segments[i].zone, zone) == 0 &&
		     (fam == 4 ? inv->segments[i].has_v4 : inv->segments[i].has_v6);
	if (n) {
		size_t k = rndn((unsigned)n);
		for (size_t i = 0; i < inv->nsegments; i++) {
			const struct segment *s = &inv->segments[i];
			if (strcmp(s->zone, zone) != 0 || !(fam == 4 ? s->has_v4 : s->has_v6) ||
			    k--)
				continue;
			random_in(fam == 4 ? &s->v4 : &s->v6, a);
			return;
		}
	}
	if (strcmp(zone, "vpn-staff") == 0 && fam == 4)
		parse_prefix("10.200.0.0/16", &p);
	else if (strcmp(zone, "unassigned") == 0)
		parse_prefix(fam == 4 ? "10.250.0.0/16" : "fd5e:0:0:ff00::/56", &p);
	else
		parse_prefix(fam == 4 ? "192.0.2.0/24" : "2001:db8::/32", &p);
	random_in(&p, a);
}

static int pick(const bool *set, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += set[i];
	if (!k)
		return -1;
	k = rndn((unsigned)k);
	for (size_t i = 0; i < n; i++)
		if (set[i] && k-- == 0)
			return (int)i;
	return -1;
}

/* A tuple aimed at a random change box (its relation and dc parts may still miss). */
static void box_tuple(const struct diff_report *d, const struct inventory *inv, struct pol_tuple *t)
{
	const struct lint_box *b = &d->v[rndn((unsigned)d->n)].box;
	size_t ne = 2 * d->names.nzones;
	uint8_t fam = b->fams == 1 ? 4 : b->fams == 2 ? 6 : (rndn(2) ? 4 : 6);
	int from = pick(b->from, ne), to = pick(b->to, ne);
	zone_addr(inv, d->names.zones[from / 2], fam, &t->src);
	zone_addr(inv, d->names.zones[to / 2], fam, &t->dst);
	const struct lint_iv *iv = &b->svc.v[rndn((unsigned)b->svc.n)];
	point_service(iv->lo + (uint32_t)(rnd() % ((uint64_t)iv->hi - iv->lo + 1)), fam, t);
}

struct judge_tables {
	struct pol_build *ba, *bb;
	struct pol_table *city, *ta[NSITES], *tb[NSITES];
};

static void tables_init(struct judge_tables *j, const struct env *e, const struct policy *a,
			const struct policy *b)
{
	cr_assert_eq(pol_build_new(a, e->inv, &j->ba), 0);
	cr_assert_eq(pol_build_new(b, e->inv, &j->bb), 0);
	cr_assert_eq(pol_build_city(j->ba, &j->city), 0);
	cr_assert_eq(e->inv->nsites, NSITES);
	for (int s = 0; s < NSITES; s++) {
		cr_assert_eq(pol_build_gateway(j->ba, s, POL_MODE_ENFORCE, &j->ta[s]), 0);
		cr_assert_eq(pol_build_gateway(j->bb, s, POL_MODE_ENFORCE, &j->tb[s]), 0);
	}
}

static void tables_free(struct judge_tables *j)
{
	for (int s = 0; s < NSITES; s++) {
		pol_table_free(j->ta[s]);
		pol_table_free(j->tb[s]);
	}
	pol_table_free(j->city);
	pol_build_free(j->ba);
	pol_build_free(j->bb);
}

/* The point of the diff's space that tuple t is at gateway g. */
static void point_of(const struct judge_tables *j, const struct inventory *inv,
		     const struct diff_report *d, const struct pol_tuple *t, int g,
		     struct lint_point *pt)
{
	struct pol_class s, c;
	pol_classify(j->city, &t->src, &s);
	pol_classify(j->city, &t->dst, &c);
	pt->family = t->src.family;
	pt->from = lint_endpoint(&d->names, pol_table_zone_name(j->city, s.zone), s.dc);
	pt->to = lint_endpoint(&d->names, pol_table_zone_name(j->city, c.zone), c.dc);
	int dist = inv->sites[g].district;
	bool sd = s.site >= 0 && inv->sites[s.site].district == dist;
	bool dd = c.site >= 0 && inv->sites[c.site].district == dist;
	if (s.site == g && c.site == g)
		pt->rel = LINT_REL_SITE;
	else if (sd && dd)
		pt->rel = LINT_REL_DISTRICT;
	else
		pt->rel = LINT_REL_ELSEWHERE;
	unsigned x = proto_has_ports(t->proto) ? t->dport
		     : t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6
			 ? (unsigned)t->icmp_type
			 : 0;
	pt->svc = lint_svc_point(t->proto, x);
}

static bool has_exceptions(const struct diff_report *d, const char *site)
{
	for (size_t i = 0; i < d->nsites; i++)
		if (strcmp(d->sites[i], site) == 0)
			return true;
	return false;
}

static bool inside(const struct diff_report *d, const char *site, const struct lint_point *pt)
{
	const char *view = has_exceptions(d, site) ? site : NULL;
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_change *c = &d->v[i];
		if ((c->site == NULL) != (view == NULL) || (view && strcmp(c->site, view) != 0))
			continue;
		if (lint_box_contains(&c->box, pt))
			return true;
	}
	return false;
}

#define NTUPLES 10000

/* Checks diff(a, b) against the evaluator on NTUPLES random tuples; returns the differing count. */
static size_t check_tuples(const struct env *e, const struct tpol *ta, const struct tpol *tb,
			   const char *what)
{
	struct policy *a = load(e, ta, "old.yaml"), *b = load(e, tb, "new.yaml");
	struct diff_report *d = diff_of(e, a, b);
	struct judge_tables j;
	memset(&j, 0, sizeof(j));
	tables_init(&j, e, a, b);
	size_t differ = 0, judged = 0;
	for (size_t n = 0; n < NTUPLES; n++) {
		struct pol_tuple t;
		memset(&t, 0, sizeof(t));
		if (d->n && rndn(3) == 0) {
			box_tuple(d, e->inv, &t);
		} else {
			uint8_t fam = rndn(2) ? 4 : 6;
			random_addr(e->inv, fam, &t.src);
			random_addr(e->inv, fam, &t.dst);
			random_service(fam, &t);
		}
		int judges[2], counted;
		size_t nj;
		pol_build_judges(j.ba, &t.src, &t.dst, judges, &nj, &counted);
		for (size_t k = 0; k < nj; k++) {
			int g = judges[k];
			struct pol_verdict va, vb;
			cr_assert_eq(pol_decide(j.ta[g], &t, &va), 0);
			cr_assert_eq(pol_decide(j.tb[g], &t, &vb), 0);
			struct lint_point pt;
			point_of(&j, e->inv, d, &t, g, &pt);
			bool changed = va.action != vb.action;
			bool in = inside(d, e->inv->sites[g].id, &pt);
			judged++;
			differ += changed;
			if (changed != in) {
				char s[64], x[64];
				ip_addr_format(&t.src, s, sizeof(s));
				ip_addr_format(&t.dst, x, sizeof(x));
				cr_assert_fail(
				    "%s: %s -> %s proto %u port %u type %d at %s: verdict "
				    "%s -> %s (rules %d -> %d) but %s the changes:\n%s",
				    what, s, x, t.proto, t.dport, t.icmp_type, e->inv->sites[g].id,
				    pol_action_names[va.action], pol_action_names[vb.action],
				    va.rule, vb.rule, in ? "inside" : "outside",
				    changes_text(d, a, b));
			}
		}
	}
	cr_log_info("%s: %zu changes, %zu of %zu judged tuples differ", what, d->n, differ, judged);
	tables_free(&j);
	diff_report_free(d);
	policy_free(a);
	policy_free(b);
	return differ;
}

static void mutate_remove(struct tpol *t)
{
	size_t i = rndn((unsigned)t->nr);
	memmove(&t->r[i], &t->r[i + 1], (t->nr - i - 1) * sizeof(t->r[0]));
	t->nr--;
}

static void mutate_flip(struct tpol *t)
{
	struct trule *r = &t->r[rndn((unsigned)t->nr)];
	static const char *const next[][2] = {
	    {"accept", "drop"}, {"drop", "accept"}, {"reject", "accept"}};
	for (size_t k = 0; k < 3; k++)
		if (strcmp(r->action, next[k][0]) == 0) {
			snprintf(r->action, sizeof(r->action), "%s", next[k][1]);
			return;
		}
}

static void mutate_widen(struct tpol *t)
{
	/* A service with a port range gets a wider one. */
	static const char *const wide[][2] = {{"rtp", "udp: [9000-24000]"},
					      {"high", "tcp: [1000-50000], sctp: [3860-3900]"},
					      {"web", "tcp: [80-443]"},
					      {"dns", "udp: [53-123], tcp: [53]"}};
	unsigned k = rndn(4);
	for (size_t i = 0; i < t->nsvc; i++)
		if (strcmp(t->svc[i].name, wide[k][0]) == 0)
			snprintf(t->svc[i].spec, sizeof(t->svc[i].spec), "%s", wide[k][1]);
}

static void mutate_move(struct tpol *t)
{
	size_t i = rndn((unsigned)t->nr), j = rndn((unsigned)t->nr);
	struct trule r = t->r[i];
	memmove(&t->r[i], &t->r[i + 1], (t->nr - i - 1) * sizeof(t->r[0]));
	memmove(&t->r[j + 1], &t->r[j], (t->nr - 1 - j) * sizeof(t->r[0]));
	t->r[j] = r;
}

static void mutate_exception(struct tpol *t)
{
	static const char *const zones[] = {"[admin]",	  "[school]",	 "[voip]", "[servers]",
					    "[printers]", "[vpn-staff]", "any",	   "[internet]"};
	static const char *const svcs[] = {"[web]", "[ssh]",  "[rtp, dns]",
					   "any",   "[ping]", "[tunnels]"};
	static const char *const scopes[] = {"any", "same-site", "same-district", "dc-only"};
	static const char *const acts[] = {"accept", "drop", "reject"};
	struct trule *r = &t->r[t->nr++];
	snprintf(r->id, sizeof(r->id), "exc-%zu", t->nr);
	snprintf(r->from, sizeof(r->from), "%s", zones[rndn(8)]);
	snprintf(r->to, sizeof(r->to), "%s", zones[rndn(8)]);
	snprintf(r->svc, sizeof(r->svc), "%s", svcs[rndn(6)]);
	snprintf(r->scope, sizeof(r->scope), "%s", scopes[rndn(4)]);
	snprintf(r->action, sizeof(r->action), "%s", acts[rndn(3)]);
	r->site = 1 + (int)rndn(NSITES - 1);
}

struct mutation {
	const char *name;
	void (*apply)(struct tpol *t);
};

static const struct mutation mutations[] = {
    {"remove a rule", mutate_remove},		{"flip an action", mutate_flip},
    {"widen a port range", mutate_widen},	{"move a rule", mutate_move},
    {"add a site exception", mutate_exception},
};

Test(diff, random_mutations_match_the_evaluator, .timeout = 600)
{
	struct env e;
	env_init(&e);
	size_t total = 0;
	for (size_t m = 0; m < sizeof(mutations) / sizeof(mutations[0]); m++) {
		/* Two mutations of each kind that change something (some draws change nothing). */
		for (uint64_t seed = 1, found = 0; found < 2 && seed < 64; seed++) {
			rng_state = 0x9E3779B97F4A7C15ULL * (seed + 64 * m);
			struct tpol t = base;
			mutations[m].apply(&t);
			/* The second on top of another kind, so that changes interact. */
			if (found == 1)
				mutations[(m + 1) % 5].apply(&t);
			char what[96];
			snprintf(what, sizeof(what), "%s%s (seed %llu)", mutations[m].name,
				 found ? " and more" : "", (unsigned long long)seed);
			size_t n = check_tuples(&e, &base, &t, what);
			total += n;
			found += n > 0;
		}
	}
	/* The mutations are not all no-ops: the implication was tested in both directions. */
	cr_assert_gt(total, 100);
	env_free(&e);
}

Test(diff, an_exception_set_in_both)
{
	struct env e;
	env_init(&e);
	/* Both policies have the same exception at S000002; the city-wide change shows in both
	 * views. */
	rng_state = 42;
	struct tpol a = base, b;
	struct trule x = {"lab", "[school]", "[printers]", "[web]", "same-site", "accept", 2};
	a.r[a.nr++] = x;
	b = a;
	snprintf(b.r[8].action, sizeof(b.r[8].action), "drop"); /* school-apart */
	size_t n = check_tuples(&e, &a, &b, "reject -> drop");
	cr_assert_gt(n, 0);
	struct policy *pa = load(&e, &a, "old.yaml"), *pb = load(&e, &b, "new.yaml");
	struct diff_report *d = diff_of(&e, pa, pb);
	cr_assert_eq(d->nsites, 1);
	bool city = false, site = false;
	for (size_t i = 0; i < d->n; i++) {
		city |= d->v[i].site == NULL;
		site |= d->v[i].site && strcmp(d->v[i].site, "S000002") == 0;
		cr_assert_eq(d->v[i].before.action, POL_REJECT);
		cr_assert_eq(d->v[i].after.action, POL_DROP);
	}
	cr_assert(city && site, "%s", changes_text(d, pa, pb));
	json_t *j = diff_change_json(d, pa, pb, &d->v[0]);
	cr_assert_not_null(j);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "before"), "rule")),
			 "school-apart");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "after"), "verdict")),
			 "drop");
	json_decref(j);
	diff_report_free(d);
	policy_free(pa);
	policy_free(pb);
	env_free(&e);
}

Test(diff, management_zone_added_shows_hosts_and_gateways)
{
	struct env e;
	env_init(&e);
	struct policy *a = load_with(&e, &base, "management: [mgmt]\n", "old.yaml");
	struct policy *b = load_with(&e, &base, "management: [mgmt, admin]\n", "new.yaml");
	struct diff_report *d = diff_of(&e, a, b);
	cr_assert_eq(d->n, 0, "%s", changes_text(d, a, b));
	cr_assert_eq(d->nmgmt, 1);
	cr_assert_eq(diff_count(d), 1);
	const struct diff_mgmt *m = &d->mgmt[0];
	cr_assert_str_eq(m->zone, "admin");
	cr_assert(m->added);
	/* The oracle: every prefix of an admin segment in segments.csv, and nothing else. */
	char want[16][IP_PREFIX_STRLEN];
	size_t nwant = 0;
	for (size_t i = 0; i < e.inv->nsegments; i++) {
		const struct segment *s = &e.inv->segments[i];
		if (strcmp(s->zone, "admin") != 0)
			continue;
		if (s->has_v4)
			ip_prefix_format(&s->v4, want[nwant++], IP_PREFIX_STRLEN);
		if (s->has_v6)
			ip_prefix_format(&s->v6, want[nwant++], IP_PREFIX_STRLEN);
	}
	cr_assert_eq(nwant, 6);
	json_t *j = diff_mgmt_json(m);
	char *text = diff_mgmt_text(m);
	cr_assert(j && text);
	cr_assert_str_eq(json_string_value(json_object_get(j, "change")), "added");
	json_t *hosts = json_object_get(j, "hosts");
	cr_assert_eq(json_array_size(hosts), nwant, "%s", text);
	for (size_t i = 0; i < nwant; i++) {
		bool found = false;
		for (size_t k = 0; k < json_array_size(hosts); k++)
			found |= strcmp(json_string_value(json_array_get(hosts, k)), want[i]) == 0;
		cr_assert(found, "%s missing from %s", want[i], text);
		char needle[sizeof(want) + 2];
		snprintf(needle, sizeof(needle), " %s", want[i]);
		cr_assert(strstr(text, needle), "%s missing from %s", want[i], text);
	}
	/* Anti-lockout applies at every gateway: all of them, each named. */
	json_t *gws = json_object_get(j, "gateways");
	cr_assert_eq(json_array_size(gws), NSITES);
	for (size_t i = 0; i < NSITES; i++) {
		cr_assert_str_eq(json_string_value(json_array_get(gws, i)), site_ids[i]);
		cr_assert(strstr(text, site_ids[i]), "%s", text);
	}
	cr_assert(strstr(text, "management: zone 'admin' added: ") == text, "%s", text);
	cr_assert(strstr(text, "newly reach all 5 gateways"), "%s", text);
	free(text);
	json_decref(j);
	diff_report_free(d);
	/* The other way round it is a removal, with the same hosts. */
	d = diff_of(&e, b, a);
	cr_assert_eq(d->nmgmt, 1);
	cr_assert_not(d->mgmt[0].added);
	cr_assert_eq(d->mgmt[0].nhosts, nwant);
	diff_report_free(d);
	policy_free(a);
	policy_free(b);
	env_free(&e);
}

Test(diff, logging_expiry_and_routing_access)
{
	struct env e;
	env_init(&e);
	struct tpol tb = base;
	struct policy *a =
	    load_with(&e, &base, "logging: {denied: true, rate: 10/minute}\n", "old.yaml");
	struct policy *b =
	    load_with(&e, &tb, "logging: {denied: false, group: 5, rate: 1/second}\n", "new.yaml");
	struct diff_report *d = diff_of(&e, a, b);
	cr_assert_eq(d->nlogging, 3);
	const char *want[] = {"logging: denied true -> false", "logging: group kernel log -> 5",
			      "logging: rate 10/minute -> 1/second"};
	for (size_t i = 0; i < 3; i++) {
		char *t = diff_setting_text("logging", &d->logging[i]);
		cr_assert_str_eq(t, want[i]);
		free(t);
	}
	cr_assert_eq(d->nexpiry, 0);
	cr_assert_eq(d->ngateways, 0);
	diff_report_free(d);
	policy_free(b);
	/* A rule's log and expiry (a date, then an instant). */
	const char *pa = "version: 1\nrules:\n  - {id: r, from: [admin], to: [servers], services: "
			 "any, action: accept, expires: 2026-01-31}\n";
	const char *pb = "version: 1\nrules:\n  - {id: r, from: [admin], to: [servers], services: "
			 "any, action: accept, log: true, expires: 2026-03-01T06:00:00Z}\n";
	struct diag_list *dl = diag_list_new();
	struct policy *ra = NULL, *rb = NULL;
	cr_assert_eq(policy_load_buffer(pa, strlen(pa), "a", e.inv, "2025-06-01", dl, &ra), 0, "%s",
		     tu_diags(dl));
	cr_assert_eq(policy_load_buffer(pb, strlen(pb), "b", e.inv, "2025-06-01", dl, &rb), 0, "%s",
		     tu_diags(dl));
	d = diff_of(&e, ra, rb);
	cr_assert_eq(d->nlogging, 1);
	char *t = diff_setting_text("logging", &d->logging[0]);
	cr_assert_str_eq(t, "logging: rule 'r' log false -> true");
	free(t);
	cr_assert_eq(d->nexpiry, 1);
	json_t *j = diff_setting_json(&d->expiry[0]);
	cr_assert_str_eq(json_string_value(json_object_get(j, "rule")), "r");
	cr_assert_str_eq(json_string_value(json_object_get(j, "before")), "2026-01-31");
	cr_assert_str_eq(json_string_value(json_object_get(j, "after")), "2026-03-01T06:00:00Z");
	json_decref(j);
	diff_report_free(d);
	/* Routing-protocol access: the same policy, a gateway that now runs BGP (no interface
	 * table: open to any peer), and one with an interface table naming its peer. */
	struct env e2;
	env_init(&e2);
	e2.inv->sites[1].flags |= SITE_F_BGP;
	struct iface ifc = {.site = 3, .name = (char *)"wan0", .role = IFACE_UPLINK, .segment = -1};
	struct ip_addr peer;
	cr_assert_eq(ip_addr_parse("192.0.2.1", &peer), 0);
	ifc.bgp_peers = &peer;
	ifc.nbgp_peers = 1;
	size_t start[NSITES + 1] = {0, 0, 0, 0, 1, 1};
	/* The loaded table (empty: no interfaces.csv) is put back before freeing. */
	struct iface *own_ifaces = e2.inv->ifaces;
	size_t *own_start = e2.inv->iface_start, own_n = e2.inv->nifaces;
	e2.inv->ifaces = &ifc;
	e2.inv->nifaces = 1;
	e2.inv->iface_start = start;
	struct policy *a2 = load(&e2, &base, "new.yaml");
	d = NULL;
	cr_assert_eq(diff_policies(a, e.inv, a2, e2.inv, &d), 0);
	cr_assert_eq(d->n, 0);
	cr_assert_eq(d->ngateways, 2);
	char *g1 = diff_gateway_text(&d->gateways[0]), *g2 = diff_gateway_text(&d->gateways[1]);
	cr_assert_str_eq(g1, "gateway S000001: newly accepts bgp ipv4 from any on any interface\n"
			     "gateway S000001: newly accepts bgp ipv6 from any on any interface");
	cr_assert_str_eq(g2, "gateway S000003: newly accepts bgp ipv4 from 192.0.2.1 on wan0");
	free(g1);
	free(g2);
	j = diff_gateway_json(&d->gateways[1]);
	json_t *x = json_array_get(json_object_get(j, "added"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(x, "protocol")), "bgp");
	cr_assert_str_eq(json_string_value(json_object_get(x, "interface")), "wan0");
	cr_assert_str_eq(json_string_value(json_object_get(x, "from")), "192.0.2.1");
	json_decref(j);
	diff_report_free(d);
	e2.inv->ifaces = own_ifaces;
	e2.inv->nifaces = own_n;
	e2.inv->iface_start = own_start;
	policy_free(a2);
	policy_free(ra);
	policy_free(rb);
	policy_free(a);
	diag_list_free(dl);
	env_free(&e2);
	env_free(&e);
}

/* ------------------------------------------------------------------ */
/* Stage 2: classes by membership, gateway services, limits, windows */

#include "core/proto.h"

struct s2env {
	char *dir;
	struct inventory *inv;
};

static void s2_env(struct s2env *e)
{
	e->dir = tu_copy_dir("tests/e2e/fixtures/stage2", "policy.yaml");
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(inventory_load(e->dir, dl, &e->inv), 0, "%s", tu_diags(dl));
	diag_list_free(dl);
}

static void s2_env_free(struct s2env *e)
{
	inventory_free(e->inv);
	tu_rmdir(e->dir);
	free(e->dir);
}

static const char s2_top[] = "version: 1\n"
			     "management: [mgmt]\n"
			     "datacentre:\n"
			     "  sites: [DC1]\n"
			     "services:\n"
			     "  dns: {udp: [53], tcp: [53]}\n"
			     "  web: {tcp: [80, 443]}\n"
			     "  ssh: {tcp: [22]}\n"
			     "  sql: {tcp: [5432]}\n"
			     "  snmp: {udp: [161]}\n"
			     "  syslog: {udp: [514]}\n"
			     "objects:\n"
			     "  resolvers: [dc-dns1, dc-dns2]\n"
			     "  core: {objects: [resolvers], addresses: [10.99.8.123]}\n"
			     "externals:\n"
			     "  state-dc: {addresses: [100.70.0.0/16, \"fd70::/48\"]}\n"
			     "site_groups:\n"
			     "  mitte: {districts: [Mitte]}\n"
			     "  townhalls: {types: [town_hall]}\n";

static struct policy *s2_load(const struct s2env *e, const char *body, const char *name)
{
	char *full = NULL;
	cr_assert(asprintf(&full, "%s%s", s2_top, body) > 0);
	struct diag_list *dl = diag_list_new();
	struct policy *p = NULL;
	cr_assert_eq(policy_load_buffer(full, strlen(full), name, e->inv, "2026-12-07", dl, &p), 0,
		     "%s\n%s", tu_diags(dl), full);
	diag_list_free(dl);
	free(full);
	return p;
}

/* The base: every kind of endpoint term, an exception, a gateway service; no window. */
static const char s2_base[] =
    "rules:\n"
    "  - {id: mgmt-all, from: mgmt, to: any, services: any, action: accept}\n"
    "  - {id: dns, from: {except: [guest]}, to: core, services: [dns], action: accept}\n"
    "  - {id: payroll-web, from: admin, to: {app: payroll, role: web}, services: [web], action: accept}\n"
    "  - {id: payroll-db, from: {app: payroll, role: web}, to: {app: payroll, role: db}, services: [sql], action: accept}\n"
    "  - {id: state, from: {zone: admin, sites: mitte}, to: state-dc, services: [web], action: accept}\n"
    "  - {id: bms-sup, from: {zone: bms, sites: townhalls}, to: {role: bms-supervisor}, services: [web], scope: same-site, action: accept}\n"
    "  - {id: ssh, from: admin, to: servers, services: [ssh], action: accept, limit: {rate: 5/second}}\n"
    "  - {id: school-no, from: school, to: any, services: any, action: reject}\n"
    "sites:\n"
    "  S2:\n"
    "    rules:\n"
    "      - {id: s2-web, from: school, to: {app: payroll, role: web}, services: [web], action: accept}\n"
    "gateway:\n"
    "  - {id: snmp, from: {role: monitoring}, services: [snmp], action: accept, interfaces: [transfer]}\n";

static char *s2_edit(const char *from, const char *to)
{
	const char *at = strstr(s2_base, from);
	cr_assert_not_null(at, "%s", from);
	char *s = NULL;
	cr_assert(asprintf(&s, "%.*s%s%s", (int)(at - s2_base), s2_base, to, at + strlen(from)) > 0);
	return s;
}

static const char *s2_all_text(const struct diff_report *d, const struct policy *a,
			       const struct policy *b)
{
	static char buf[32768];
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < d->n + d->nservices && o < sizeof(buf) - 1; i++) {
		char *t = i < d->n ? diff_change_text(d, a, b, &d->v[i])
				   : diff_service_text(d, a, b, &d->services[i - d->n]);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\n", t ? t : "?");
		free(t);
	}
	return buf;
}

Test(diff_stage2, an_identical_policy_and_equivalent_edits_give_no_change)
{
	struct s2env e;
	s2_env(&e);
	struct policy *a = s2_load(&e, s2_base, "old.yaml");
	/* core and the resolvers it holds: the same addresses as core alone. */
	char *t = s2_edit("to: core, services: [dns]", "to: [resolvers, core], services: [dns]");
	char *u = NULL;
	cr_assert(asprintf(&u, "%s", t) > 0);
	struct policy *b = s2_load(&e, u, "new.yaml");
	struct diff_report *d = NULL;
	cr_assert_eq(diff_policies(a, e.inv, b, e.inv, &d), 0);
	cr_assert_eq(diff_count(d), 0, "%s", s2_all_text(d, a, b));
	cr_assert_gt(d->classes, 2 * d->names.nzones / 2);
	diff_report_free(d);
	policy_free(b);
	free(t);
	free(u);
	policy_free(a);
	s2_env_free(&e);
}

Test(diff_stage2, gateway_services_and_limits)
{
	struct s2env e;
	s2_env(&e);
	struct policy *a = s2_load(&e, s2_base, "old.yaml");
	/* The monitoring host loses SNMP on the transfer interfaces' gateway (S1) and gains syslog
	 * from every segment host of mgmt... no: from the admin zone, everywhere. */
	char *t = s2_edit("  - {id: snmp, from: {role: monitoring}, services: [snmp], action: accept, "
			  "interfaces: [transfer]}\n",
			  "  - {id: syslog, from: admin, services: [syslog], action: accept}\n");
	char *u = NULL;
	cr_assert(asprintf(&u, "%s", t) > 0);
	free(t);
	t = u;
	u = NULL;
	const char *lim = "limit: {rate: 5/second}";
	char *at = strstr(t, lim);
	cr_assert_not_null(at);
	cr_assert(asprintf(&u, "%.*slimit: {rate: 10/second}%s", (int)(at - t), t, at + strlen(lim)) >
		  0);
	struct policy *b = s2_load(&e, u, "new.yaml");
	struct diff_report *d = NULL;
	cr_assert_eq(diff_policies(a, e.inv, b, e.inv, &d), 0);
	const char *all = s2_all_text(d, a, b);
	/* Only S1 has addresses of its own (interfaces.csv): the services change there. */
	bool lost = false, gained = false;
	for (size_t i = 0; i < d->nservices; i++) {
		const struct diff_service *c = &d->services[i];
		cr_assert_eq(c->ngateways, 1, "%s", all);
		cr_assert_str_eq(c->gateways[0], "S1");
		char *from = lint_endpoints_text(&d->names, c->box.from);
		char *svc = lint_services_text(&c->box.svc);
		if (c->before.action == POL_ACCEPT) {
			cr_assert_str_eq(a->rules[c->before.rule].id, "snmp");
			cr_assert_str_eq(svc, "udp/161", "%s", all);
			cr_assert(strstr(from, "{role: monitoring}") != NULL, "%s", from);
			lost = true;
		} else {
			cr_assert_str_eq(b->rules[c->after.rule].id, "syslog");
			cr_assert_str_eq(svc, "udp/514", "%s", all);
			cr_assert(strstr(from, "admin") != NULL, "%s", from);
			gained = true;
		}
		free(from);
		free(svc);
	}
	cr_assert(lost && gained, "%s", all);
	/* The limit is part of the verdict: every admin -> servers ssh flow changes. */
	bool ssh = false;
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_change *c = &d->v[i];
		cr_assert_eq(c->before.action, POL_ACCEPT, "%s", all);
		cr_assert_str_eq(a->rules[c->before.rule].id, "ssh");
		cr_assert_str_eq(b->rules[c->after.rule].id, "ssh");
		char *txt = diff_change_text(d, a, b, c);
		cr_assert(strstr(txt, "limit 5/second") && strstr(txt, "limit 10/second"), "%s", txt);
		free(txt);
		ssh = true;
	}
	cr_assert(ssh, "%s", all);
	diff_report_free(d);
	policy_free(b);
	free(t);
	free(u);
	policy_free(a);
	s2_env_free(&e);
}

/* An address of the fixture, often a host's. */
static void s2_addr(const struct inventory *inv, uint8_t fam, struct ip_addr *a)
{
	static const char *const v4[] = {"10.99.64.9",  "10.99.66.3", "10.99.100.1", "100.70.1.10",
					 "8.8.8.8",     "10.99.8.53", "10.99.8.80",  "10.99.8.81",
					 "10.99.8.161", "10.99.9.10", "10.99.41.10", "10.99.8.123"};
	static const char *const v6[] = {"fd99:0:64::9",  "fd99:0:66::3",  "fd99:9::1",
					 "2001:db8::1",   "fd70::5",	   "fd99:0:1::53",
					 "fd99:0:1::80",  "fd99:0:1::81",  "fd99:0:1::161",
					 "fd99:0:5:1::10"};
	if (rndn(3) == 0) {
		const char *s = fam == 4 ? v4[rndn(sizeof(v4) / sizeof(v4[0]))]
					 : v6[rndn(sizeof(v6) / sizeof(v6[0]))];
		cr_assert_eq(ip_addr_parse(s, a), 0);
		return;
	}
	random_addr(inv, fam, a);
}

/* An address of endpoint ep (found by trying random ones), false when none turns up. */
static bool s2_addr_of(const struct lint_space *s, const struct inventory *inv, uint8_t fam,
		       int ep, struct ip_addr *a)
{
	for (int i = 0; i < 400; i++) {
		s2_addr(inv, fam, a);
		if (lint_space_endpoint(s, 0, a) == ep)
			return true;
	}
	return false;
}

/* A tuple aimed at a random change box (its relation may still miss). */
static bool s2_box_tuple(const struct diff_report *d, const struct lint_space *s,
			 const struct inventory *inv, struct pol_tuple *out)
{
	const struct lint_box *b = &d->v[rndn((unsigned)d->n)].box;
	uint8_t fam = b->fams == 1 ? 4 : b->fams == 2 ? 6 : (rndn(2) ? 4 : 6);
	int from = pick(b->from, d->names.ne), to = pick(b->to, d->names.ne);
	struct pol_tuple t = *out;
	if (from < 0 || to < 0 || !s2_addr_of(s, inv, fam, from, &t.src) ||
	    !s2_addr_of(s, inv, fam, to, &t.dst))
		return false;
	const struct lint_iv *iv = &b->svc.v[rndn((unsigned)b->svc.n)];
	point_service(iv->lo + (uint32_t)(rnd() % ((uint64_t)iv->hi - iv->lo + 1)), fam, &t);
	*out = t;
	return true;
}

/* The mutations of the stage-2 base, each with the old text and the new. */
static const char *const s2_mut[][2] = {
    {"from: {except: [guest]}, to: core", "from: {except: [guest, school]}, to: core"},
    {"to: {app: payroll, role: web}, services: [web], action: accept}\n  - {id: payroll-db",
     "to: {app: payroll}, services: [web], action: accept}\n  - {id: payroll-db"},
    {"from: {zone: admin, sites: mitte}", "from: {zone: admin, sites: townhalls}"},
    /* The scope alone changes nothing (both ends are at S1 anyway): with every bms, it does. */
    {"from: {zone: bms, sites: townhalls}, to: {role: bms-supervisor}, services: [web], scope: "
     "same-site,",
     "from: bms, to: {role: bms-supervisor}, services: [web],"},
    {"  - {id: school-no, from: school, to: any, services: any, action: reject}\n", ""},
    {"from: school, to: {app: payroll, role: web}", "from: school, to: core"},
    {"  - {id: mgmt-all, from: mgmt, to: any, services: any, action: accept}\n",
     "  - {id: mgmt-all, from: mgmt, to: {except: [bms]}, services: any, action: accept}\n"},
};

Test(diff_stage2, random_tuples_change_exactly_inside_the_boxes, .timeout = 600)
{
	struct s2env e;
	s2_env(&e);
	rng_state = 0x5eed5eedULL;
	struct policy *a = s2_load(&e, s2_base, "old.yaml");
	for (size_t mi = 0; mi < sizeof(s2_mut) / sizeof(s2_mut[0]); mi++) {
		char *t = s2_edit(s2_mut[mi][0], s2_mut[mi][1]);
		struct policy *b = s2_load(&e, t, "new.yaml");
		struct diff_report *d = NULL;
		cr_assert_eq(diff_policies(a, e.inv, b, e.inv, &d), 0);
		cr_assert_gt(d->n, 0, "mutation %zu changes nothing", mi);
		/* The same space as the diff's: the same inputs give the same endpoints. */
		const struct policy *pols[2] = {a, b};
		const struct inventory *invs[2] = {e.inv, e.inv};
		struct lint_space *s = NULL;
		cr_assert_eq(lint_space_new(pols, invs, 2, &s), 0);
		cr_assert_eq(lint_space_names(s)->ne, d->names.ne);
		struct pol_build *ba = NULL, *bb = NULL;
		struct pol_table *city = NULL;
		cr_assert_eq(pol_build_new(a, e.inv, &ba), 0);
		cr_assert_eq(pol_build_new(b, e.inv, &bb), 0);
		cr_assert_eq(pol_build_city(ba, &city), 0);
		size_t ns = e.inv->nsites, changed = 0, judged = 0;
		struct pol_table **ta = calloc(ns, sizeof(*ta)), **tb = calloc(ns, sizeof(*tb));
		for (size_t g = 0; g < ns; g++) {
			cr_assert_eq(pol_build_gateway(ba, (int)g, POL_MODE_ENFORCE, &ta[g]), 0);
			cr_assert_eq(pol_build_gateway(bb, (int)g, POL_MODE_ENFORCE, &tb[g]), 0);
		}
		for (size_t n = 0; n < 3000; n++) {
			struct pol_tuple tp;
			memset(&tp, 0, sizeof(tp));
			uint8_t fam = rndn(2) ? 4 : 6;
			s2_addr(e.inv, fam, &tp.src);
			s2_addr(e.inv, fam, &tp.dst);
			random_service(fam, &tp);
			if (rndn(3) == 0 && s2_box_tuple(d, s, e.inv, &tp)) {
				fam = tp.src.family;
			} else if (rndn(2)) {
				static const uint16_t p[] = {22, 53, 80, 443, 161, 5432};
				tp.proto = rndn(2) ? IPPROTO_TCP : IPPROTO_UDP;
				tp.dport = p[rndn(6)];
			}
			int judges[2], counted;
			size_t nj;
			pol_build_judges(ba, &tp.src, &tp.dst, judges, &nj, &counted);
			for (size_t k = 0; k < nj; k++) {
				int g = judges[k];
				struct pol_verdict va, vb;
				cr_assert_eq(pol_decide(ta[g], &tp, &va), 0);
				cr_assert_eq(pol_decide(tb[g], &tp, &vb), 0);
				if (va.to_gateway)
					continue;
				struct lint_point pt;
				struct pol_class cs, cd;
				pol_classify(city, &tp.src, &cs);
				pol_classify(city, &tp.dst, &cd);
				pt.family = fam;
				pt.from = lint_space_endpoint(s, 0, &tp.src);
				pt.to = lint_space_endpoint(s, 0, &tp.dst);
				int dist = e.inv->sites[g].district;
				bool sd = cs.site >= 0 && e.inv->sites[cs.site].district == dist;
				bool dd = cd.site >= 0 && e.inv->sites[cd.site].district == dist;
				pt.rel = cs.site == g && cd.site == g ? LINT_REL_SITE
					 : sd && dd		      ? LINT_REL_DISTRICT
								      : LINT_REL_ELSEWHERE;
				unsigned x = proto_has_ports(tp.proto) ? tp.dport
					     : tp.proto == IPPROTO_ICMP || tp.proto == IPPROTO_ICMPV6
						 ? (unsigned)tp.icmp_type
						 : 0;
				pt.svc = lint_svc_point(tp.proto, x);
				/* Limits are part of the verdict; none changes in these mutations. */
				bool ch = va.action != vb.action;
				bool in = inside(d, e.inv->sites[g].id, &pt);
				judged++;
				changed += ch;
				if (ch != in) {
					char s1[64], s2[64];
					ip_addr_format(&tp.src, s1, sizeof(s1));
					ip_addr_format(&tp.dst, s2, sizeof(s2));
					cr_assert_fail("mutation %zu: %s -> %s proto %u port %u at %s: "
						       "%s -> %s but %s the changes:\n%s",
						       mi, s1, s2, tp.proto, tp.dport,
						       e.inv->sites[g].id, pol_action_names[va.action],
						       pol_action_names[vb.action],
						       in ? "inside" : "outside", s2_all_text(d, a, b));
				}
			}
		}
		cr_log_info("stage-2 mutation %zu: %zu changes, %zu of %zu judged tuples differ", mi,
			    d->n, changed, judged);
		cr_assert_gt(changed, 0, "mutation %zu: no random tuple changes", mi);
		for (size_t g = 0; g < ns; g++) {
			pol_table_free(ta[g]);
			pol_table_free(tb[g]);
		}
		free(ta);
		free(tb);
		pol_table_free(city);
		pol_build_free(ba);
		pol_build_free(bb);
		lint_space_free(s);
		diff_report_free(d);
		policy_free(b);
		free(t);
	}
	policy_free(a);
	s2_env_free(&e);
}

Test(diff_stage2, a_window_changes_only_what_it_opens)
{
	struct s2env e;
	s2_env(&e);
	struct policy *a = s2_load(&e, s2_base, "old.yaml");
	char *t = s2_edit("  - {id: school-no,",
			  "  - id: vendors\n"
			  "    from: vpn-vendors\n"
			  "    to: bms\n"
			  "    services: [ssh]\n"
			  "    action: accept\n"
			  "    when: {days: mon-fri, hours: \"22:00-02:00\", timezone: Europe/Berlin}\n"
			  "  - {id: school-no,");
	struct policy *b = s2_load(&e, t, "new.yaml");
	struct diff_report *d = NULL;
	cr_assert_eq(diff_policies(a, e.inv, b, e.inv, &d), 0);
	cr_assert_eq(d->regimes, 2, "window open and shut");
	cr_assert_gt(d->n, 0);
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_change *c = &d->v[i];
		cr_assert_eq(c->before.rule, -1);
		cr_assert_str_eq(b->rules[c->after.rule].id, "vendors");
		char *txt = lint_services_text(&c->box.svc);
		cr_assert_str_eq(txt, "tcp/22");
		free(txt);
	}
	diff_report_free(d);
	policy_free(b);
	free(t);
	policy_free(a);
	s2_env_free(&e);
}
