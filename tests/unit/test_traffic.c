// SPDX-License-Identifier: MIT
/*
 * The demo traffic generator (craft/traffic.c): every planned connection
 * is decided by the compiled example policy as intended (rule and action)
 * and counted by the gateway whose capture holds it; the captures hold
 * exactly the planned connections, decodable, in time order; the choice of
 * gateways follows the site types; output is byte-identical on regeneration
 * and equal to the committed examples/stuttgart/traffic.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/decode.h"
#include "compile/compile.h"
#include "craft/traffic.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

#define EXAMPLE "examples/stuttgart"
#define DAY	"2026-03-02"

static struct inventory *inv;
static struct policy *pol;

static void load_example(void)
{
	struct diag_list *dl = diag_list_new();
	cr_assert_not_null(dl);
	cr_assert_eq(inventory_load(tu_path(EXAMPLE), dl, &inv), 0, "%s", tu_diags(dl));
	cr_assert_eq(
	    policy_load(tu_path(EXAMPLE "/policy.yaml"), "policy.yaml", inv, DAY, dl, &pol), 0,
	    "%s", tu_diags(dl));
	diag_list_free(dl);
}

static void unload_example(void)
{
	policy_free(pol);
	inventory_free(inv);
	pol = NULL;
	inv = NULL;
}

TestSuite(traffic, .init = load_example, .fini = unload_example);

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void flow_text(const struct traffic_flow *f, char *buf, size_t size)
{
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
	ip_addr_format(&f->src, a, sizeof(a));
	ip_addr_format(&f->dst, b, sizeof(b));
	snprintf(buf, size, "%s %s -> %s proto %u dport %u", f->kind, a, b, f->proto, f->dport);
}

Test(traffic, gateways_by_type)
{
	int s[TRAFFIC_MAX_GATEWAYS];
	cr_assert_eq(traffic_pick_gateways(inv, 3, s), 3);
	cr_expect_eq(inv->sites[s[0]].type, SITE_TOWN_HALL);
	cr_expect(inv->sites[s[0]].flags & SITE_F_HUB, "the town hall is a district hub");
	cr_expect_eq(inv->sites[s[1]].type, SITE_SCHOOL);
	cr_expect_eq(inv->sites[s[2]].type, SITE_OFFICE);

	/* Asking for more goes round the types again; never a data centre, never twice. */
	size_t n = traffic_pick_gateways(inv, TRAFFIC_MAX_GATEWAYS, s);
	cr_assert_eq(n, TRAFFIC_MAX_GATEWAYS);
	for (size_t i = 0; i < n; i++) {
		cr_expect_neq(inv->sites[s[i]].type, SITE_DATA_CENTRE);
		for (size_t j = 0; j < i; j++)
			cr_expect_neq(s[i], s[j], "site %s chosen twice", inv->sites[s[i]].id);
	}
	cr_expect_eq(inv->sites[s[9]].type, SITE_TOWN_HALL, "the second round starts again");
	int again[3];
	cr_assert_eq(traffic_pick_gateways(inv, 3, again), 3);
	cr_expect_arr_eq(again, s, sizeof(again), "the first three of a longer pick are the same");
}

/* Every connection of the first nine gateways (one per type) is decided as intended. */
Test(traffic, decided_by_the_example_policy_as_intended)
{
	struct pol_build *b = NULL;
	int s[9];
	size_t n = traffic_pick_gateways(inv, 9, s);
	cr_assert_eq(n, 9);
	cr_assert_eq(pol_build_new(pol, inv, &b), 0);
	size_t accepted = 0, denied = 0, v6 = 0;
	for (size_t g = 0; g < n; g++) {
		struct traffic_plan p;
		struct pol_table *t = NULL;
		cr_assert_eq(traffic_plan_site(inv, s[g], 1, &p), 0);
		cr_assert_eq(pol_build_gateway(b, s[g], POL_MODE_ENFORCE, &t), 0);
		cr_assert_gt(p.nflows, 10, "%s has traffic", inv->sites[s[g]].id);
		for (size_t i = 0; i < p.nflows; i++) {
			const struct traffic_flow *f = &p.flows[i];
			struct pol_tuple tp = {.src = f->src,
					       .dst = f->dst,
					       .proto = f->proto,
					       .dport = f->dport,
					       .icmp_type = f->icmp_type};
			struct pol_verdict v;
			char what[200];
			flow_text(f, what, sizeof(what));
			cr_assert_eq(pol_decide(t, &tp, &v), 0, "%s", what);
			const char *rule =
			    v.rule >= 0 ? pol_table_rule(t, (size_t)v.rule)->id : NULL;
			if (f->expect_rule)
				cr_expect(rule && strcmp(rule, f->expect_rule) == 0,
					  "%s at %s: decided by %s, meant %s", what,
					  inv->sites[s[g]].id, rule ? rule : "the default",
					  f->expect_rule);
			else
				cr_expect_eq(v.by, POL_BY_DEFAULT, "%s at %s: decided by %s", what,
					     inv->sites[s[g]].id, rule ? rule : "?");
			cr_expect_eq(v.action == POL_ACCEPT, f->expect_accept, "%s at %s: %s", what,
				     inv->sites[s[g]].id, pol_action_names[v.action]);
			/* The capture's gateway is the one that counts the connection. */
			int judges[2], counted;
			size_t nj;
			pol_build_judges(b, &f->src, &f->dst, judges, &nj, &counted);
			cr_expect_eq(counted, s[g], "%s is counted at site %d, not %s", what,
				     counted, inv->sites[s[g]].id);
			accepted += f->expect_accept;
			denied += !f->expect_accept;
			v6 += f->src.family == 6;
		}
		pol_table_free(t);
		traffic_plan_clear(&p);
	}
	cr_expect_gt(accepted, 0);
	cr_expect_gt(denied, 0);
	cr_expect_gt(v6, 0);
	pol_build_free(b);
}

struct seen {
	const struct traffic_plan *p;
	size_t *packets; /* per flow */
	size_t unmatched;
};

static bool same_addr(const uint8_t d[16], const struct ip_addr *a)
{
	if (a->family == 6)
		return memcmp(d, a->b, 16) == 0;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(d, mapped, 12) == 0 && memcmp(d + 12, a->b, 4) == 0;
}

/* The flow of the plan a decoded packet belongs to (either direction), or -1. */
static long match(const struct traffic_plan *p, const struct dec_pkt *k)
{
	for (size_t i = 0; i < p->nflows; i++) {
		const struct traffic_flow *f = &p->flows[i];
		if (k->proto != f->proto)
			continue;
		bool fwd = same_addr(k->src, &f->src) && same_addr(k->dst, &f->dst);
		bool back = same_addr(k->src, &f->dst) && same_addr(k->dst, &f->src);
		if (f->icmp_type >= 0) {
			if ((fwd || back) && k->icmp_id == f->sport)
				return (long)i;
		} else if ((fwd && k->sport == f->sport && k->dport == f->dport) ||
			   (back && k->sport == f->dport && k->dport == f->sport)) {
			return (long)i;
		}
	}
	return -1;
}

Test(traffic, capture_holds_exactly_the_plan)
{
	int s[3];
	cr_assert_eq(traffic_pick_gateways(inv, 3, s), 3);
	for (size_t g = 0; g < 3; g++) {
		struct traffic_plan p;
		struct traffic_stats st = {0};
		void *data;
		size_t len;
		cr_assert_eq(traffic_plan_site(inv, s[g], 7, &p), 0);
		cr_assert_eq(traffic_render(&p, &data, &len, &st), 0);
		cr_expect_eq(st.file_bytes, len);
		cr_expect_eq(st.flows, p.nflows);

		char errbuf[PCAP_ERRBUF_SIZE];
		FILE *mf = fmemopen(data, len, "rb");
		cr_assert_not_null(mf);
		pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(
		    mf, PCAP_TSTAMP_PRECISION_NANO, errbuf);
		cr_assert_not_null(pc, "%s", errbuf);
		cr_expect_eq(pcap_datalink(pc), DLT_EN10MB);
		struct dec *d = dec_new(NULL);
		size_t *per_flow = calloc(p.nflows, sizeof(*per_flow));
		cr_assert(d && per_flow);
		struct pcap_pkthdr *h;
		const u_char *pkt;
		uint64_t last = 0, ip_bytes = 0;
		size_t packets = 0, unmatched = 0;
		while (pcap_next_ex(pc, &h, &pkt) == 1) {
			uint64_t ts =
			    (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
			struct dec_pkt k;
			cr_expect_geq(ts, last, "packet %zu goes back in time", packets);
			cr_expect_geq(ts, TRAFFIC_EPOCH_S * 1000000000ULL);
			cr_expect_leq(h->caplen, TRAFFIC_SNAPLEN);
			last = ts;
			packets++;
			int r = dec_packet(d, DLT_EN10MB, pkt, h->caplen, h->len, ts, &k);
			cr_assert_eq(r, DEC_OK, "packet %zu not decoded (%d)", packets, r);
			ip_bytes += k.ip_len;
			long i = match(&p, &k);
			if (i < 0)
				unmatched++;
			else
				per_flow[i]++;
		}
		cr_expect_eq(packets, st.packets);
		cr_expect_eq(ip_bytes, st.bytes, "IP bytes as the generator counted them");
		cr_expect_eq(unmatched, 0, "%zu packets of no planned connection", unmatched);
		for (size_t i = 0; i < p.nflows; i++) {
			const struct traffic_flow *f = &p.flows[i];
			size_t min = f->shape == TRAFFIC_TCP	     ? 6
				     : f->shape == TRAFFIC_TCP_RESET ? 2
								     : 1;
			cr_expect_geq(per_flow[i], min, "%s: %zu packets", f->kind, per_flow[i]);
		}
		pcap_close(pc);
		dec_free(d);
		free(per_flow);
		free(data);
		traffic_plan_clear(&p);
	}
}

Test(traffic, deterministic_and_seeded)
{
	int s[1];
	cr_assert_eq(traffic_pick_gateways(inv, 1, s), 1);
	void *a, *b, *c;
	size_t la, lb, lc;
	struct traffic_plan p;
	cr_assert_eq(traffic_plan_site(inv, s[0], 1, &p), 0);
	cr_assert_eq(traffic_render(&p, &a, &la, NULL), 0);
	cr_assert_eq(traffic_render(&p, &b, &lb, NULL), 0);
	traffic_plan_clear(&p);
	cr_assert_eq(traffic_plan_site(inv, s[0], 2, &p), 0);
	cr_assert_eq(traffic_render(&p, &c, &lc, NULL), 0);
	traffic_plan_clear(&p);
	cr_expect(la == lb && memcmp(a, b, la) == 0, "same plan, same bytes");
	cr_expect(la != lc || memcmp(a, c, la) != 0, "another seed, other traffic");
	free(a);
	free(b);
	free(c);
}

/* `segplan example` writes examples/stuttgart/traffic with these defaults. */
Test(traffic, committed_captures_are_up_to_date)
{
	char *dir = tu_tmpdir();
	struct traffic_stats st = {0};
	int s[TRAFFIC_DEFAULT_GATEWAYS];
	cr_assert_eq(traffic_generate(inv, TRAFFIC_DEFAULT_GATEWAYS, 1, dir, &st), 0);
	cr_expect_eq(st.gateways, TRAFFIC_DEFAULT_GATEWAYS);
	cr_expect_lt(st.file_bytes, 1000000, "the committed captures stay small");
	size_t n = traffic_pick_gateways(inv, TRAFFIC_DEFAULT_GATEWAYS, s);
	for (size_t i = 0; i < n; i++) {
		char rel[128], *mine;
		size_t l1, l2;
		snprintf(rel, sizeof(rel), EXAMPLE "/traffic/%s.pcap", inv->sites[s[i]].id);
		cr_assert(asprintf(&mine, "%s/%s.pcap", dir, inv->sites[s[i]].id) > 0);
		char *x = read_all(mine, &l1), *y = read_all(tu_path(rel), &l2);
		cr_assert_not_null(x, "%s written", mine);
		cr_assert_not_null(y, "%s committed", rel);
		cr_expect(l1 == l2 && memcmp(x, y, l1) == 0,
			  "%s differs from a regeneration (segplan example --out " EXAMPLE
			  " --force)",
			  rel);
		free(x);
		free(y);
		free(mine);
	}
	tu_rmdir(dir);
	free(dir);
}

Test(traffic, site_out_of_range)
{
	struct traffic_plan p;
	cr_expect_eq(traffic_plan_site(inv, -1, 1, &p), -EINVAL);
	cr_expect_eq(traffic_plan_site(inv, (int)inv->nsites, 1, &p), -EINVAL);
	cr_expect_eq(p.nflows, 0);
}
