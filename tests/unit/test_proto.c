// SPDX-License-Identifier: MIT
/*
 * core/proto: the one table of IP protocols and ICMP types. The table is
 * walked, and for every protocol with ports in it: the policy reader takes a
 * service with it, the evaluator matches a tuple on its port (also through
 * the table's JSON, as the agent loads it), the compiler puts it in the port
 * set and libnftables takes the ruleset (dry run in a network namespace),
 * the decoder finds both ports in crafted packets, the flow table keys on
 * them, and the agent's summary and the audit keep the destination port.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/decode.h"
#include "agent/flow.h"
#include "agent/summary.h"
#include "audit/audit.h"
#include "compile/compile.h"
#include "core/proto.h"
#include "craft/craft.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

#define DAY "2026-01-01"

/* The port of a protocol in these tests, and a range beside it. */
#define PORT(p)	    ((uint16_t)(1000 + (p)))
#define RANGE_LO(p) ((uint16_t)(20000 + 10 * (p)))
#define RANGE_HI(p) ((uint16_t)(RANGE_LO(p) + 5))

static size_t port_protos(uint8_t *out)
{
	size_t n = 0;
	for (unsigned p = 0; p < 256; p++)
		if (proto_has_ports((uint8_t)p))
			out[n++] = (uint8_t)p;
	return n;
}

Test(proto, table_rows_agree_with_names_numbers_and_netinet)
{
	const char *names[256];
	size_t nn = proto_names(names, 256), rows = 0;
	for (unsigned p = 0; p < 256; p++) {
		const struct proto *r = proto_get((uint8_t)p);
		if (!r) {
			cr_expect_null(proto_name((uint8_t)p));
			cr_expect(!proto_has_ports((uint8_t)p));
			continue;
		}
		char num[8];
		snprintf(num, sizeof(num), "%u", p);
		cr_expect_eq(r->num, p, "row %u", p);
		cr_expect_eq(proto_parse(r->name), (int)p, "%s", r->name);
		cr_expect_eq(proto_parse(num), (int)p);
		cr_expect_eq(proto_by_name(r->name), r);
		cr_expect_str_eq(names[rows], r->name, "names in number order");
		cr_expect(!r->ports || r->hdr_len >= 8, "%s: ports need a header", r->name);
		rows++;
	}
	cr_expect_eq(nn, rows);
	uint8_t v[256];
	size_t n = port_protos(v);
	/* TCP, UDP, DCCP, SCTP, UDP-Lite: the transport protocols of <netinet/in.h> with ports. */
	const uint8_t want[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_DCCP, IPPROTO_SCTP,
				IPPROTO_UDPLITE};
	cr_assert_eq(n, sizeof(want));
	cr_expect(memcmp(v, want, n) == 0);
	cr_expect(proto_is_icmp(4, IPPROTO_ICMP) && proto_is_icmp(6, IPPROTO_ICMPV6));
	cr_expect(!proto_is_icmp(6, IPPROTO_ICMP) && !proto_is_icmp(4, IPPROTO_ICMPV6));
	cr_expect_eq(proto_icmp_of(4), IPPROTO_ICMP);
	cr_expect_eq(proto_icmp_of(6), IPPROTO_ICMPV6);
	cr_expect_eq(proto_parse("256"), -1);
	cr_expect_eq(proto_parse("udp-lite"), -1);
	cr_expect_eq(proto_parse(""), -1);
}

Test(proto, icmp_types_round_trip_and_pair_queries)
{
	for (uint8_t fam = 4; fam <= 6; fam += 2) {
		const char *names[256];
		size_t nn = proto_icmp_names(fam, names, 256), seen = 0;
		for (unsigned t = 0; t < 256; t++) {
			const char *nm = proto_icmp_name(fam, (uint8_t)t);
			if (!nm) {
				cr_expect(!proto_icmp_is_query(fam, (uint8_t)t));
				continue;
			}
			cr_expect_eq(proto_icmp_parse(fam, nm), (int)t, "%s", nm);
			cr_expect_str_eq(names[seen++], nm);
			int req = proto_icmp_request_of(fam, (uint8_t)t);
			if (req >= 0) {
				/* A reply: its request is a query and no reply itself. */
				cr_expect(proto_icmp_is_query(fam, (uint8_t)t));
				cr_expect(proto_icmp_is_query(fam, (uint8_t)req));
				cr_expect_eq(proto_icmp_request_of(fam, (uint8_t)req), -1);
			}
		}
		cr_expect_eq(nn, seen);
	}
	cr_expect_eq(proto_icmp_request_of(4, 0), 8);
	cr_expect_eq(proto_icmp_request_of(4, 18), 17);
	cr_expect_eq(proto_icmp_request_of(6, 129), 128);
	cr_expect_eq(proto_icmp_request_of(6, 136), -1);
	cr_expect(proto_icmp_is_query(4, 13) && !proto_icmp_is_query(4, 3));
	cr_expect_eq(proto_icmp_parse(6, "nd-neighbor-solicit"), 135);
	cr_expect_eq(proto_icmp_parse(4, "nd-neighbor-solicit"), -1);
}

/* ------------------------------------------------------------------ */
/* Policy reader, evaluator, compiler */

/* The golden inventory with one service per protocol with ports, all allowed admin -> servers. */
static char *policy_text(void)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	cr_assert(f);
	fputs("version: 1\nmanagement: [mgmt]\ndatacentre:\n  sites: [DC1]\nzones:\n"
	      "  admin: a\n  servers: s\n  printers: p\n  school: c\n  guest: g\n  mgmt: m\n"
	      "services:\n",
	      f);
	uint8_t v[256];
	size_t n = port_protos(v);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  p-%s: {%s: [%u, %u-%u]}\n", proto_name(v[i]), proto_name(v[i]),
			PORT(v[i]), RANGE_LO(v[i]), RANGE_HI(v[i]));
	fputs("rules:\n  - id: ports\n    from: [admin]\n    to: [servers]\n    services: [", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%sp-%s", i ? ", " : "", proto_name(v[i]));
	fputs("]\n    action: accept\n", f);
	fclose(f);
	return s;
}

struct world {
	struct inventory *inv;
	struct policy *p;
	struct pol_build *b;
	struct pol_table *t; /* gateway S1 */
	int s1;
};

static void world_load(struct world *w)
{
	memset(w, 0, sizeof(*w));
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(inventory_load(tu_path("tests/golden/policy/inventory"), dl, &w->inv), 0, "%s",
		     tu_diags(dl));
	char *text = policy_text();
	cr_assert_eq(policy_load_buffer(text, strlen(text), "policy.yaml", w->inv, DAY, dl, &w->p),
		     0, "%s\n%s", tu_diags(dl), text);
	cr_expect_eq(diag_count(dl), 0, "%s", tu_diags(dl));
	free(text);
	diag_list_free(dl);
	w->s1 = inventory_find_site(w->inv, "S1");
	cr_assert_geq(w->s1, 0);
	cr_assert_eq(pol_build_new(w->p, w->inv, &w->b), 0);
	cr_assert_eq(pol_build_gateway(w->b, w->s1, POL_MODE_ENFORCE, &w->t), 0);
}

static void world_free(struct world *w)
{
	pol_table_free(w->t);
	pol_build_free(w->b);
	policy_free(w->p);
	inventory_free(w->inv);
}

static struct pol_tuple tuple(uint8_t fam, uint8_t proto, uint16_t dport)
{
	struct pol_tuple tp;
	memset(&tp, 0, sizeof(tp));
	cr_assert_eq(ip_addr_parse(fam == 4 ? "10.0.1.10" : "fd00:1:0:1::10", &tp.src), 0);
	cr_assert_eq(ip_addr_parse(fam == 4 ? "10.1.1.5" : "fd00:1:0:101::5", &tp.dst), 0);
	tp.proto = proto;
	tp.dport = dport;
	tp.icmp_type = -1;
	return tp;
}

static bool accepted_by_rule(const struct pol_table *t, const struct pol_tuple *tp)
{
	struct pol_verdict v;
	cr_assert_eq(pol_decide(t, tp, &v), 0);
	return v.action == POL_ACCEPT && v.by == POL_BY_RULE;
}

static void expect_ports_decided(const struct pol_table *t, const char *how)
{
	uint8_t v[256];
	size_t n = port_protos(v);
	for (size_t i = 0; i < n; i++) {
		const char *nm = proto_name(v[i]);
		for (uint8_t fam = 4; fam <= 6; fam += 2) {
			struct pol_tuple in = tuple(fam, v[i], PORT(v[i]));
			cr_expect(accepted_by_rule(t, &in), "%s: %s/%u IPv%u", how, nm, PORT(v[i]),
				  fam);
			in = tuple(fam, v[i], RANGE_HI(v[i]));
			cr_expect(accepted_by_rule(t, &in), "%s: %s range end", how, nm);
			struct pol_tuple out = tuple(fam, v[i], (uint16_t)(PORT(v[i]) + 1));
			cr_expect(!accepted_by_rule(t, &out), "%s: %s/%u", how, nm, PORT(v[i]) + 1);
			/* Another protocol's port is not this protocol's. */
			uint8_t other = v[(i + 1) % n];
			out = tuple(fam, v[i], PORT(other));
			cr_expect(!accepted_by_rule(t, &out), "%s: %s/%u", how, nm, PORT(other));
		}
	}
}

Test(proto, reader_evaluator_and_compiler_take_every_protocol_with_ports)
{
	struct world w;
	world_load(&w);
	/* (a) one service per protocol, holding its port and range */
	uint8_t v[256];
	size_t n = port_protos(v);
	cr_assert_eq(w.p->nservices, n);
	for (size_t i = 0; i < n; i++) {
		const struct pol_match *m = &w.p->services[i].match;
		cr_assert_eq(m->nports, 2, "%s", w.p->services[i].name);
		cr_expect_eq(m->ports[0].proto, v[i]);
		cr_expect_eq(m->ports[0].lo, PORT(v[i]));
		cr_expect_eq(m->ports[1].hi, RANGE_HI(v[i]));
	}
	/* (b) the evaluator, on the gateway's table and on its JSON as the agent reads it */
	expect_ports_decided(w.t, "table");
	json_t *j = pol_table_to_json(w.t);
	cr_assert(j);
	struct diag_list *dl = diag_list_new();
	struct pol_table *back = NULL;
	cr_assert_eq(pol_table_from_json(j, "S1.policy.json", dl, &back), 0, "%s", tu_diags(dl));
	expect_ports_decided(back, "json");
	pol_table_free(back);
	json_decref(j);
	diag_list_free(dl);

	/* (c) the port set, by nft's name where its grammar has one, and the kernel's parser */
	char *text = NULL;
	size_t len = 0;
	cr_assert_eq(pol_nft_render(w.b, w.t, w.s1, &text, &len, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		const struct proto *r = proto_get(v[i]);
		char want[64], num[8];
		snprintf(num, sizeof(num), "%u", v[i]);
		const char *nm = r->nft_keyword ? r->name : num;
		snprintf(want, sizeof(want), "%s . %u", nm, PORT(v[i]));
		cr_expect(strstr(text, want), "'%s' not in the ruleset", want);
		snprintf(want, sizeof(want), "%s . %u-%u", nm, RANGE_LO(v[i]), RANGE_HI(v[i]));
		cr_expect(strstr(text, want), "'%s' not in the ruleset", want);
	}
	cr_expect(strstr(text, "meta l4proto . th dport @s_"), "%s", text);
	const char *bufs[] = {text};
	struct tu_nft_job job = {.bufs = bufs, .nbufs = 1};
	char msg[4096];
	int rc = tu_nft_dry_run(&job, msg, sizeof(msg));
	free(text);
	world_free(&w);
	tu_skip_without_netns(rc);
	cr_expect_eq(rc, 0, "%s", msg);
}

Test(proto, reader_suggests_the_keys_of_the_table)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct policy *p = NULL;
	cr_assert_eq(inventory_load(tu_path("tests/golden/policy/inventory"), dl, &inv), 0);
	const char *text = "version: 1\nmanagement: [mgmt]\nzones:\n  mgmt: m\nservices:\n"
			   "  lite: {udplit: [5000]}\n  x: {protocols: [udplit]}\n"
			   "rules: []\n";
	cr_expect_neq(policy_load_buffer(text, strlen(text), "policy.yaml", inv, DAY, dl, &p), 0);
	cr_expect(tu_diag_contains(dl, "unknown key 'udplit' (did you mean 'udplite'?)"), "%s",
		  tu_diags(dl));
	cr_expect(tu_diag_contains(dl, "unknown protocol 'udplit' (did you mean 'udplite'?)"), "%s",
		  tu_diags(dl));
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
}

/* ------------------------------------------------------------------ */
/* Decoder, flow table, summary */

static struct craft packet(uint8_t fam, uint8_t proto, bool reply)
{
	const char *a = fam == 4 ? "10.0.1.10" : "fd00:1:0:1::10";
	const char *b = fam == 4 ? "10.1.1.5" : "fd00:1:0:101::5";
	return (struct craft){.ip_version = fam,
			      .src = reply ? b : a,
			      .dst = reply ? a : b,
			      .proto = proto,
			      .sport = reply ? PORT(proto) : (uint16_t)(40000 + proto),
			      .dport = reply ? (uint16_t)(40000 + proto) : PORT(proto),
			      .payload = 20};
}

static void collect(void *arg, const struct flow *f, enum flow_end why)
{
	struct flow *out = arg;
	(void)why;
	cr_assert_eq(out->proto, 0, "one flow per protocol and family");
	*out = *f;
}

Test(proto, decoder_flows_and_summary_keep_the_ports)
{
	struct world w;
	world_load(&w);
	struct sum *s;
	cr_assert_eq(sum_new(&s), 0);
	uint8_t v[256];
	size_t n = port_protos(v);
	struct dec *d = dec_new(NULL);
	cr_assert(d);
	for (size_t i = 0; i < n; i++)
		for (uint8_t fam = 4; fam <= 6; fam += 2)
			for (int shortseq = 0; shortseq < 1 + (v[i] == IPPROTO_DCCP); shortseq++) {
				struct flow got;
				memset(&got, 0, sizeof(got));
				struct flow_config fc = {.sink = collect, .sink_arg = &got};
				struct flow_table *ft;
				cr_assert_eq(flow_table_new(&fc, &ft), 0);
				for (int r = 0; r < 2; r++) {
					/* (d) both ports, from the request and its reply */
					uint8_t buf[256];
					struct craft c = packet(fam, v[i], r);
					c.dccp_short_seq = shortseq;
					struct craft_layout lay;
					size_t len =
					    craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), &lay);
					cr_assert_gt(len, 0);
					struct dec_pkt pk;
					cr_assert_eq(
					    dec_packet(d, DLT_EN10MB, buf, len, len, 1, &pk),
					    DEC_OK, "%s IPv%u", proto_name(v[i]), fam);
					cr_expect_eq(pk.proto, v[i]);
					cr_expect_eq(pk.sport, c.sport, "%s", proto_name(v[i]));
					cr_expect_eq(pk.dport, c.dport, "%s", proto_name(v[i]));
					/* One byte short of the fixed header is cut short. */
					struct dec_pkt cut;
					size_t hdr = lay.payload - lay.l4;
					cr_expect_eq(dec_packet(d, DLT_EN10MB, buf,
								lay.l4 + hdr - 1, len, 1, &cut),
						     DEC_R_TRUNC_TRANSPORT, "%s header of %zu",
						     proto_name(v[i]), hdr);
					flow_table_add(ft, &pk, 1000 + (uint64_t)r);
				}
				flow_table_flush(ft);
				flow_table_free(ft);
				/* one flow, oriented from the initiator, both directions counted */
				cr_expect_eq(got.proto, v[i]);
				cr_expect_eq(got.sport, 40000 + v[i]);
				cr_expect_eq(got.dport, PORT(v[i]), "%s", proto_name(v[i]));
				cr_expect(got.packets[0] == 1 && got.packets[1] == 1);
				/* (e) the summary decides it by its port and keeps the port */
				struct sum_class cls;
				sum_add(s, w.t, &got, FLOW_END_FORCED, &cls);
				cr_expect(cls.v.action == POL_ACCEPT && cls.v.by == POL_BY_RULE,
					  "%s IPv%u", proto_name(v[i]), fam);
			}
	dec_free(d);
	json_t *j = json_object();
	cr_assert_eq(sum_to_json(s, w.t, j), 0);
	size_t k;
	json_t *t;
	size_t found = 0;
	json_array_foreach(json_object_get(j, "tuples"), k, t)
	{
		json_int_t proto = json_integer_value(json_object_get(t, "proto"));
		cr_expect(proto_has_ports((uint8_t)proto));
		cr_expect_eq(json_integer_value(json_object_get(t, "dst_port")), PORT(proto));
		cr_expect_str_eq(json_string_value(json_object_get(t, "rule")), "ports");
		found++;
	}
	cr_expect_eq(found, 2 * n, "one tuple per protocol and family");
	json_decref(j);
	sum_free(s);
	world_free(&w);
}

/* ------------------------------------------------------------------ */
/* Audit */

Test(proto, audit_keeps_the_port_and_suggests_the_reader_key)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct policy *p = NULL;
	cr_assert_eq(inventory_load(tu_path("tests/golden/audit/inventory"), dl, &inv), 0);
	cr_assert_eq(policy_load(tu_path("tests/golden/audit/inventory/policy.yaml"), "policy.yaml",
				 inv, "2026-11-26", dl, &p),
		     0, "%s", tu_diags(dl));
	json_error_t err;
	json_t *j = json_load_file(tu_path("tests/golden/audit/s3.json"), 0, &err);
	cr_assert(j, "%s", err.text);
	/* The GRE tuple denied by default (voip -> internet), once per protocol with ports. */
	json_t *tuples = json_object_get(j, "tuples"), *gre = NULL;
	size_t k;
	json_t *t;
	json_array_foreach(tuples, k, t) if (json_integer_value(json_object_get(t, "proto")) == 47)
	    gre = t;
	cr_assert(gre);
	uint8_t v[256];
	size_t n = port_protos(v);
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_deep_copy(gre);
		json_object_set_new(c, "proto", json_integer(v[i]));
		json_object_set_new(c, "dst_port", json_integer(PORT(v[i])));
		json_array_append_new(tuples, c);
	}
	struct audit *a;
	struct audit_report *r;
	cr_assert_eq(audit_new(p, inv, NULL, &a), 0);
	cr_assert_eq(audit_add_json(a, j, "s3.json", dl), 0, "%s", tu_diags(dl));
	cr_assert_eq(audit_report(a, &r), 0);
	char *yaml = audit_suggest_yaml(r, p, inv);
	cr_assert(yaml);
	for (size_t i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof(want), "%s/%u", proto_name(v[i]), PORT(v[i]));
		bool denied = false;
		for (size_t d = 0; d < r->ndenials; d++) {
			char txt[64];
			audit_svc_text(&r->denials[d].svc, txt, sizeof(txt));
			denied |= strcmp(txt, want) == 0;
		}
		cr_expect(denied, "no denial %s", want);
		/* The suggestion names the port under the key the policy reader takes. */
		snprintf(want, sizeof(want), "%s: [%u]", proto_name(v[i]), PORT(v[i]));
		cr_expect(strstr(yaml, want), "'%s' not in\n%s", want, yaml);
	}
	free(yaml);
	audit_report_free(r);
	audit_free(a);
	json_decref(j);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
}
