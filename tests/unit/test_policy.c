// SPDX-License-Identifier: MIT
/*
 * The policy model (policy/policy.c) and the evaluator (eval/eval.c):
 * validation with located diagnostics, and the semantics every gateway and
 * the agent share (first match, scopes, pseudo-zones, services, families,
 * site exceptions, default drop).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

#define GOLDEN_INV "tests/golden/policy/inventory"
#define DAY	   "2026-01-01"

static struct inventory *load_inv(const char *rel)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	int rc = inventory_load(tu_path(rel), dl, &inv);
	cr_assert_eq(rc, 0, "inventory %s: %s", rel, tu_diags(dl));
	diag_list_free(dl);
	return inv;
}

/* Loads policy text against the golden inventory; diagnostics go to dl. */
static struct policy *load_text(const struct inventory *inv, const char *text, struct diag_list *dl)
{
	struct policy *p = NULL;
	policy_load_buffer(text, strlen(text), "policy.yaml", inv, DAY, dl, &p);
	return p;
}

/* ------------------------------------------------------------------ */
/* Validation */

static const char header[] = "version: 1\n"
			     "services:\n"
			     "  web: {tcp: [80, 443]}\n"
			     "  dns: {udp: [53]}\n"
			     "rules:\n";

static void expect_error(const char *rules, const char *want)
{
	struct inventory *inv = load_inv(GOLDEN_INV);
	struct diag_list *dl = diag_list_new();
	char *text;
	cr_assert(asprintf(&text, "%s%s", header, rules) > 0);
	struct policy *p = load_text(inv, text, dl);
	cr_expect_null(p, "a policy with errors must not load");
	cr_expect(tu_has_diag(dl, want), "want '%s', got:\n%s", want, tu_diags(dl));
	policy_free(p);
	free(text);
	diag_list_free(dl);
	inventory_free(inv);
}

/* tests/fuzz/corpus/policy/dup-key-zone: a duplicate key is an error of the
 * YAML reader that still yields a document; the policy must not load, and
 * the zone's first description must not leak (the ASan build checks). */
Test(policy, duplicate_key_is_an_error_obeyed)
{
	struct inventory *inv = load_inv(GOLDEN_INV);
	struct diag_list *dl = diag_list_new();
	char *golden = tu_read(tu_path(GOLDEN_INV "/policy.yaml"), NULL);
	char *text;
	cr_assert(golden);
	cr_assert(asprintf(&text, "%s", golden) > 0);
	/* The golden text loads; the same with a zone described twice does not. */
	struct policy *p = load_text(inv, text, dl);
	cr_assert_not_null(p, "%s", tu_diags(dl));
	policy_free(p);
	free(text);
	cr_assert(asprintf(&text, "%.*s  admin: again\n%s",
			   (int)(strstr(golden, "  servers:") - golden), golden,
			   strstr(golden, "  servers:")) > 0);
	p = load_text(inv, text, dl);
	cr_expect_null(p, "a policy with a duplicate key must not load");
	cr_expect(
	    tu_has_diag(dl, "policy.yaml:13:3: error: duplicate key 'admin' (first at line 12)"),
	    "%s", tu_diags(dl));
	policy_free(p);
	free(text);
	free(golden);
	diag_list_free(dl);
	inventory_free(inv);
}

Test(policy, unknown_zone_is_located_with_suggestion)
{
	expect_error("  - {id: a, from: [admn], to: any, services: any, action: accept}\n",
		     "policy.yaml:6:20: error: unknown zone 'admn' (did you mean 'admin'?)");
}

/* The YAML reader reports it and still returns the tree; the policy must not load. */
Test(policy, a_duplicate_key_fails_the_load)
{
	expect_error("  - {id: a, from: any, to: any, services: [web], action: accept}\n"
		     "version: 1\n",
		     "policy.yaml:7:1: error: duplicate key 'version' (first at line 1)");
}

Test(policy, unknown_service_is_located_with_suggestion)
{
	expect_error("  - {id: a, from: any, to: any, services: [wbe], action: accept}\n",
		     "policy.yaml:6:44: error: unknown service 'wbe' (did you mean 'web'?)");
}

Test(policy, duplicate_rule_ids_name_the_first)
{
	expect_error("  - {id: a, from: any, to: any, services: any, action: accept}\n"
		     "  - {id: a, from: any, to: any, services: any, action: drop}\n",
		     "policy.yaml:7:10: error: duplicate rule id 'a' (first at line 6)");
}

Test(policy, duplicate_ids_across_site_exceptions)
{
	expect_error("  - {id: a, from: any, to: any, services: any, action: accept}\n"
		     "sites:\n"
		     "  S1:\n"
		     "    rules:\n"
		     "      - {id: a, from: any, to: any, services: any, action: drop}\n",
		     "policy.yaml:10:14: error: duplicate rule id 'a' (first at line 6)");
}

Test(policy, bad_ports)
{
	const char *bad[][2] = {
	    {"0", "bad port '0': a port is 1-65535, a range LOW-HIGH"},
	    {"65536", "bad port '65536': a port is 1-65535, a range LOW-HIGH"},
	    {"http", "bad port 'http': a port is 1-65535, a range LOW-HIGH"},
	    {"90-80", "port range '90-80' runs backwards (did you mean '80-90'?)"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct inventory *inv = load_inv(GOLDEN_INV);
		struct diag_list *dl = diag_list_new();
		char *text, *want;
		cr_assert(
		    asprintf(&text,
			     "services:\n  x: {tcp: [22, %s]}\nrules:\n"
			     "  - {id: a, from: any, to: any, services: [x], action: accept}\n",
			     bad[i][0]) > 0);
		cr_assert(asprintf(&want, "policy.yaml:2:17: error: %s", bad[i][1]) > 0);
		struct policy *p = load_text(inv, text, dl);
		cr_expect_null(p);
		cr_expect(tu_has_diag(dl, want), "want '%s', got:\n%s", want, tu_diags(dl));
		policy_free(p);
		free(text);
		free(want);
		diag_list_free(dl);
		inventory_free(inv);
	}
}

Test(policy, bad_dates)
{
	expect_error("  - {id: a, from: any, to: any, services: any, action: accept, expires: "
		     "2026-02-29}\n",
		     "policy.yaml:6:73: error: bad date '2026-02-29': expected YYYY-MM-DD, a real "
		     "day, or YYYY-MM-DDTHH:MM:SSZ");
	expect_error("  - {id: a, from: any, to: any, services: any, action: accept, expires: "
		     "next week}\n",
		     "policy.yaml:6:73: error: bad date 'next week': expected YYYY-MM-DD, a real "
		     "day, or YYYY-MM-DDTHH:MM:SSZ");
	expect_error("  - {id: a, from: any, to: any, services: any, action: accept, expires: "
		     "'2026-01-02T24:00:00Z'}\n",
		     "policy.yaml:6:73: error: bad date '2026-01-02T24:00:00Z': expected "
		     "YYYY-MM-DD, a real day, or YYYY-MM-DDTHH:MM:SSZ");
	expect_error("  - {id: a, from: any, to: any, services: any, action: accept, expires: "
		     "'2026-01-02 10:00:00'}\n",
		     "policy.yaml:6:73: error: bad date '2026-01-02 10:00:00': expected "
		     "YYYY-MM-DD, a real day, or YYYY-MM-DDTHH:MM:SSZ");
}

Test(policy, expiry_ends_at_the_instant)
{
	int64_t end;
	cr_assert(policy_parse_expiry("2026-01-01", &end));
	cr_expect_eq(end, 1767312000, "a date lasts through its day (UTC)");
	cr_assert(policy_parse_expiry("2026-01-01T12:30:05Z", &end));
	cr_expect_eq(end, 1767270605);
	cr_expect_not(policy_parse_expiry("2026-01-01T12:30:05", &end));
	cr_assert(policy_parse_expiry("2026-01-01T13:30:05+01:00", &end));
	cr_expect_eq(end, 1767270605, "an offset is the same instant");
	cr_expect_not(policy_parse_expiry("2026-02-30T00:00:00Z", &end));
}

Test(policy, unknown_site_scope_action_keywords)
{
	expect_error("  - {id: a, from: any, to: any, services: any, action: acept}\n",
		     "policy.yaml:6:56: error: unknown action 'acept' (did you mean 'accept'?)");
	expect_error("  - {id: a, from: any, to: any, services: any, action: allow}\n",
		     "policy.yaml:6:56: error: unknown action 'allow' (accept, drop or reject)");
	expect_error(
	    "  - {id: a, from: any, to: any, services: any, scope: same-sit, action: "
	    "drop}\n",
	    "policy.yaml:6:55: error: unknown scope 'same-sit' (did you mean 'same-site'?)");
	expect_error("  - {id: a, from: any, to: any, services: any, action: drop}\n"
		     "sites:\n  S9:\n    rules: []\n",
		     "policy.yaml:8:3: error: unknown site 'S9' (did you mean 'S1'?)");
	expect_error("  - {id: a, from: any, to: any, servces: any, action: drop}\n",
		     "policy.yaml:6:33: error: unknown key 'servces' (did you mean 'services'?)");
}

Test(policy, every_error_at_once)
{
	struct inventory *inv = load_inv(GOLDEN_INV);
	struct diag_list *dl = diag_list_new();
	struct policy *p =
	    load_text(inv,
		      "rules:\n"
		      "  - {id: a, from: [nope], to: any, services: any, action: x}\n"
		      "  - {id: b, from: any, to: [nada], services: [none], action: "
		      "accept}\n",
		      dl);
	cr_expect_null(p);
	cr_expect_eq(diag_errors(dl), 4, "%s", tu_diags(dl));
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
}

Test(policy, golden_loads_and_reports_expired_rule)
{
	struct inventory *inv = load_inv(GOLDEN_INV);
	struct diag_list *dl = diag_list_new();
	struct policy *p = NULL;
	int rc = policy_load(tu_path(GOLDEN_INV "/policy.yaml"), "policy.yaml", inv, DAY, dl, &p);
	cr_assert_eq(rc, 0, "%s", tu_diags(dl));
	cr_expect_eq(diag_errors(dl), 0);
	cr_expect(tu_has_diag(dl, "policy.yaml:59:5: warning: rule 'old-project' expired on "
				  "2025-12-31 (today is 2026-01-01): not compiled"),
		  "%s", tu_diags(dl));
	int r = policy_find_rule(p, "old-project");
	cr_assert_geq(r, 0);
	cr_expect(p->rules[r].expired);
	/* Site exceptions come after the city-wide rules and know their site. */
	int e = policy_find_rule(p, "s2-lab-printers");
	cr_assert_eq((size_t)e, p->nrules - 1);
	cr_expect_eq(p->rules[e].site, inventory_find_site(inv, "S2"));
	/* One day earlier the same rule is live. */
	policy_free(p);
	diag_list_free(dl);
	dl = diag_list_new();
	rc = policy_load(tu_path(GOLDEN_INV "/policy.yaml"), "policy.yaml", inv, "2025-12-31", dl,
			 &p);
	cr_assert_eq(rc, 0);
	cr_expect_not(p->rules[policy_find_rule(p, "old-project")].expired);
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
}

Test(policy, dates)
{
	long d;
	cr_expect(policy_parse_date("1970-01-01", &d) && d == 0);
	cr_expect(policy_parse_date("2024-02-29", &d) && d == 19782);
	cr_expect(policy_parse_date("2000-03-01", &d) && d == 11017);
	cr_expect_not(policy_parse_date("2023-02-29", &d));
	cr_expect_not(policy_parse_date("2023-13-01", &d));
	cr_expect_not(policy_parse_date("2023-1-01", &d));
}

Test(policy, example_text_matches_the_example_file)
{
	char *f = tu_read(tu_path("examples/stuttgart/policy.yaml"), NULL);
	cr_assert_not_null(f);
	cr_expect_str_eq(policy_example_yaml, f);
	free(f);
}

Test(policy, example_policy_is_valid_for_the_example_city)
{
	if (!tu_file_exists(tu_path("examples/stuttgart/sites.csv")))
		cr_skip_test("examples/stuttgart is not there yet");
	struct inventory *inv = load_inv("examples/stuttgart");
	struct diag_list *dl = diag_list_new();
	struct policy *p = NULL;
	int rc = policy_load_buffer(policy_example_yaml, strlen(policy_example_yaml), "policy.yaml",
				    inv, DAY, dl, &p);
	cr_expect_eq(rc, 0, "%s", tu_diags(dl));
	cr_expect_eq(diag_count(dl), 0, "%s", tu_diags(dl));
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
}

/* ------------------------------------------------------------------ */
/* Evaluator semantics */

struct fixture {
	struct inventory *inv;
	struct policy *p;
	struct pol_build *b;
};

static void setup(struct fixture *f, const char *text)
{
	struct diag_list *dl = diag_list_new();
	f->inv = load_inv(GOLDEN_INV);
	if (text) {
		f->p = load_text(f->inv, text, dl);
	} else {
		policy_load(tu_path(GOLDEN_INV "/policy.yaml"), "policy.yaml", f->inv, DAY, dl,
			    &f->p);
	}
	cr_assert_not_null(f->p, "%s", tu_diags(dl));
	cr_assert_eq(pol_build_new(f->p, f->inv, &f->b), 0);
	diag_list_free(dl);
}

static void teardown(struct fixture *f)
{
	pol_build_free(f->b);
	policy_free(f->p);
	inventory_free(f->inv);
}

/* The verdict at site's gateway: "accept:<rule>", "drop:default", "transit" ... */
static const char *decide_mode(struct fixture *f, const char *site, enum pol_mode mode,
			       const char *src, const char *dst, const char *proto, int port)
{
	static char out[128];
	struct pol_table *t = NULL;
	struct pol_tuple tp;
	struct pol_verdict v;
	memset(&tp, 0, sizeof(tp));
	cr_assert_eq(ip_addr_parse(src, &tp.src), 0);
	cr_assert_eq(ip_addr_parse(dst, &tp.dst), 0);
	tp.proto = (uint8_t)proto_parse(proto);
	tp.icmp_type = -1;
	if (proto_has_ports(tp.proto))
		tp.dport = (uint16_t)port;
	else
		tp.icmp_type = port;
	cr_assert_eq(pol_build_gateway(f->b, inventory_find_site(f->inv, site), mode, &t), 0);
	cr_assert_eq(pol_decide(t, &tp, &v), 0);
	const struct pol_trule *r = v.rule >= 0 ? pol_table_rule(t, (size_t)v.rule) : NULL;
	if (v.by == POL_BY_TRANSIT)
		snprintf(out, sizeof(out), "transit");
	else
		snprintf(out, sizeof(out), "%s:%s%s%s", pol_action_names[v.action],
			 r ? r->id : pol_outcome_names[v.by], r && r->exception ? "!" : "",
			 v.passes ? "" : " (stops)");
	pol_table_free(t);
	return out;
}

static const char *decide(struct fixture *f, const char *site, const char *src, const char *dst,
			  const char *proto, int port)
{
	return decide_mode(f, site, POL_MODE_ENFORCE, src, dst, proto, port);
}

/* Addresses of the golden city (tests/golden/policy/inventory/segments.csv). */
#define ADMIN_S1  "10.0.1.10"
#define ADMIN_S3  "10.0.3.10"
#define SRV_DC1	  "10.1.0.10"
#define SRV_S1	  "10.1.1.10"
#define PRN_S1	  "10.2.1.10"
#define PRN_S2	  "10.2.2.10"
#define SCHOOL_S2 "10.3.2.10"
#define GUEST_S3  "10.4.3.10"
#define MGMT_DC1  "10.9.0.10"

/* tests/fuzz/corpus/poltable/no-policy-hash: a table without its optional
 * members loads; written again it must load again to the same JSON (the
 * writer once wrote null for them, which the reader refuses). */
Test(eval, table_without_optional_members_round_trips)
{
	struct diag_list *dl = diag_list_new();
	json_error_t err;
	json_t *j = json_load_file(tu_path("tests/golden/policy/expected/S1.policy.json"), 0, &err);
	cr_assert_not_null(j, "%s", err.text);
	cr_assert_eq(json_object_del(j, "policy_hash"), 0);
	cr_assert_eq(json_object_del(j, "generator"), 0);
	struct pol_table *t = NULL, *u = NULL;
	cr_assert_eq(pol_table_from_json(j, "S1.policy.json", dl, &t), 0, "%s", tu_diags(dl));
	json_t *w = pol_table_to_json(t);
	cr_assert_not_null(w);
	cr_expect_null(json_object_get(w, "policy_hash"), "an absent member is left out");
	cr_assert_eq(pol_table_from_json(w, "again.policy.json", dl, &u), 0, "%s", tu_diags(dl));
	json_t *w2 = pol_table_to_json(u);
	cr_assert(json_equal(w, w2));
	json_decref(w2);
	json_decref(w);
	json_decref(j);
	pol_table_free(u);
	pol_table_free(t);
	diag_list_free(dl);
}

Test(eval, first_match_wins)
{
	struct fixture f;
	setup(&f,
	      "services: {web: {tcp: [80]}}\nrules:\n"
	      "  - {id: first, from: [admin], to: [servers], services: [web], action: drop}\n"
	      "  - {id: second, from: [admin], to: [servers], services: any, action: accept}\n");
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, SRV_DC1, "tcp", 80), "drop:first (stops)");
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, SRV_DC1, "tcp", 81), "accept:second");
	teardown(&f);
	/* Swapped, the broad rule shadows the narrow one. */
	setup(&f, "services: {web: {tcp: [80]}}\nrules:\n"
		  "  - {id: second, from: [admin], to: [servers], services: any, action: accept}\n"
		  "  - {id: first, from: [admin], to: [servers], services: [web], action: drop}\n");
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, SRV_DC1, "tcp", 80), "accept:second");
	teardown(&f);
}

Test(eval, default_drop)
{
	struct fixture f;
	setup(&f, NULL);
	cr_expect_str_eq(decide(&f, "S3", ADMIN_S3, PRN_S1, "tcp", 9100), "drop:default (stops)");
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, "10.200.0.9", "udp", 53),
			 "drop:default (stops)");
	teardown(&f);
}

Test(eval, scope_same_site)
{
	struct fixture f;
	setup(&f, NULL);
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, PRN_S1, "tcp", 9100), "accept:print-local");
	/* Another site's printer: the rule's scope fails at both gateways. */
	cr_expect_str_eq(decide(&f, "S3", ADMIN_S3, PRN_S1, "tcp", 9100), "drop:default (stops)");
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S3, PRN_S1, "tcp", 9100), "drop:default (stops)");
	teardown(&f);
}

Test(eval, scope_same_district)
{
	struct fixture f;
	setup(&f, "services: {web: {tcp: [443]}}\nrules:\n"
		  "  - {id: near, from: [admin], to: [school], services: [web], scope: "
		  "same-district, action: accept}\n");
	/* S1 and S2 are in Mitte, S3 in Nord. */
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, SCHOOL_S2, "tcp", 443), "accept:near");
	cr_expect_str_eq(decide(&f, "S2", ADMIN_S1, SCHOOL_S2, "tcp", 443), "accept:near");
	cr_expect_str_eq(decide(&f, "S3", ADMIN_S3, SCHOOL_S2, "tcp", 443), "drop:default (stops)");
	cr_expect_str_eq(decide(&f, "S2", ADMIN_S3, SCHOOL_S2, "tcp", 443), "drop:default (stops)");
	teardown(&f);
}

Test(eval, scope_dc_only)
{
	struct fixture f;
	setup(&f, NULL);
	cr_expect_str_eq(decide(&f, "S3", ADMIN_S3, SRV_DC1, "udp", 53), "accept:dns-central");
	cr_expect_str_eq(decide(&f, "DC1", ADMIN_S3, SRV_DC1, "udp", 53), "accept:dns-central");
	/* A branch server is not in the data-centre networks. */
	cr_expect_str_eq(decide(&f, "S3", ADMIN_S3, SRV_S1, "udp", 53), "drop:default (stops)");
	teardown(&f);
}

Test(eval, dc_pseudo_zone)
{
	struct fixture f;
	setup(&f, NULL);
	/* vendor-tunnel: vpn-vendors to `dc` (any address of DC1's segments), GRE. */
	cr_expect_str_eq(decide(&f, "DC1", "10.201.0.7", MGMT_DC1, "gre", 0),
			 "accept:vendor-tunnel");
	cr_expect_str_eq(decide(&f, "S1", "10.201.0.7", SRV_S1, "gre", 0), "drop:default (stops)");
	teardown(&f);
}

Test(eval, pseudo_zones_classify)
{
	struct fixture f;
	setup(&f, NULL);
	struct pol_table *city;
	cr_assert_eq(pol_build_city(f.b, &city), 0);
	const char *cases[][2] = {
	    {"8.8.8.8", "internet"},
	    {"10.0.0.1", "unassigned"},
	    {"10.200.1.2", "vpn-staff"},
	    {ADMIN_S3, "admin"},
	    {"fd00:1:0:c800::5", "vpn-staff"},
	    {"fd00:1:0:2::1", "unassigned"},
	    {"2001:db8::1", "special"},
	    {"fd00:1:0:302::1", "school"},
	    {"2a00:1450::1", "internet"},
	    {"127.0.0.1", "special"},
	    {"169.254.1.1", "special"},
	    {"224.0.0.5", "special"},
	    {"255.255.255.255", "special"},
	    {"198.18.0.1", "special"},
	    {"fe80::1", "special"},
	    {"ff02::1", "special"},
	    {"::ffff:10.0.0.1", "special"},
	    {"192.168.1.1", "private-external"},
	    {"172.16.0.1", "private-external"},
	    {"100.64.0.1", "private-external"},
	    {"11.0.0.1", "internet"},
	    {"fd12:3456::1", "private-external"},
	    {"172.32.0.1", "internet"},
	    {"100.128.0.1", "internet"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_addr a;
		struct pol_class c;
		cr_assert_eq(ip_addr_parse(cases[i][0], &a), 0);
		pol_classify(city, &a, &c);
		cr_expect_str_eq(pol_table_zone_name(city, c.zone), cases[i][1], "%s", cases[i][0]);
	}
	struct ip_addr a;
	struct pol_class c;
	ip_addr_parse(SRV_DC1, &a);
	pol_classify(city, &a, &c);
	cr_expect(c.dc);
	cr_expect_str_eq(pol_table_site_name(city, c.site), "DC1");
	ip_addr_parse(SRV_S1, &a);
	pol_classify(city, &a, &c);
	cr_expect_not(c.dc);
	pol_table_free(city);
	/* The pseudo-zones in rules. */
	cr_expect_str_eq(decide(&f, "S2", SCHOOL_S2, "8.8.8.8", "tcp", 443), "accept:school-out");
	cr_expect_str_eq(decide(&f, "S3", GUEST_S3, "9.9.9.9", "udp", 4500),
			 "accept:guest-internet");
	cr_expect_str_eq(decide(&f, "S3", ADMIN_S3, "10.0.0.1", "tcp", 22),
			 "drop:no-unassigned (stops)");
	cr_expect_str_eq(decide(&f, "DC1", "10.200.0.9", SRV_DC1, "tcp", 443), "accept:office-web");
	cr_expect_str_eq(decide(&f, "DC1", "10.201.0.9", SRV_DC1, "tcp", 443),
			 "drop:default (stops)");
	teardown(&f);
}

Test(eval, port_range_edges)
{
	struct fixture f;
	setup(&f, NULL);
	/* web: tcp 80, 443, 8000-8099 */
	int ports[] = {79, 80, 81, 443, 7999, 8000, 8050, 8099, 8100};
	bool want[] = {false, true, false, true, false, true, true, true, false};
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		const char *v = decide(&f, "S1", ADMIN_S1, SRV_S1, "tcp", ports[i]);
		cr_expect_eq(strcmp(v, "accept:office-web") == 0, want[i], "port %d: %s", ports[i],
			     v);
	}
	/* The same numbers over UDP are not the service. */
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, SRV_S1, "udp", 8000), "drop:default (stops)");
	teardown(&f);
}

Test(eval, icmp_types_and_conntrack)
{
	struct fixture f;
	setup(&f, NULL);
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, SRV_S1, "icmp", 8), "accept:office-web");
	/* Messages that open no connection in conntrack are invalid: an unsolicited
	 * reply or error is dropped before any rule (related ones pass with their
	 * connection, which a single tuple cannot be). */
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, SRV_S1, "icmp", 0), "drop:invalid (stops)");
	cr_expect_str_eq(decide(&f, "S1", "fd00:1:0:1::5", "fd00:1:0:101::5", "icmpv6", 128),
			 "accept:office-web");
	cr_expect_str_eq(decide(&f, "S1", "8.8.8.8", ADMIN_S1, "icmp", 3), "drop:invalid (stops)");
	cr_expect_str_eq(decide(&f, "S1", "2a00:1450::1", "fd00:1:0:1::5", "icmpv6", 2),
			 "drop:invalid (stops)");
	cr_expect_str_eq(decide(&f, "S1", "fd00:1:0:1::5", "fd00:1:0:101::5", "icmpv6", 8),
			 "drop:invalid (stops)");
	/* Queries open connections and go to the rules. */
	for (int t = 0; t < 256; t++) {
		bool v4 = t == 8 || t == 13 || t == 15 || t == 17;
		bool v6 = t == 128 || t == 139 || (t >= 130 && t <= 136) || t == 143;
		cr_expect_eq(pol_icmp_can_open(4, 1, t), v4, "icmp type %d", t);
		cr_expect_eq(pol_icmp_can_open(6, 58, t), v6, "icmpv6 type %d", t);
	}
	/* Protocol numbers of the other family are not ICMP there. */
	cr_expect(pol_icmp_can_open(4, 58, 1));
	cr_expect(pol_icmp_can_open(6, 1, 3));
	teardown(&f);
}

Test(eval, families_stay_apart)
{
	struct fixture f;
	setup(&f, NULL);
	/* printers have no IPv6: print-local can only ever match IPv4. */
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, PRN_S1, "tcp", 631), "accept:print-local");
	cr_expect_str_eq(decide(&f, "S1", "fd00:1:0:1::5", "fd00:1:0:1::6", "tcp", 631),
			 "drop:default (stops)");
	cr_expect_str_eq(decide(&f, "S1", "fd00:1:0:1::5", "fd00:1:0:101::5", "tcp", 443),
			 "accept:office-web");
	teardown(&f);
}

Test(eval, site_exceptions_only_at_their_site)
{
	struct fixture f;
	setup(&f, NULL);
	/* At S2 the exception comes first and lets school ping its printers. */
	cr_expect_str_eq(decide(&f, "S2", SCHOOL_S2, PRN_S2, "icmp", 8), "accept:s2-lab-printers!");
	/* Printing to S1's printers: S2's exception accepts, S1 applies school-apart. */
	cr_expect_str_eq(decide(&f, "S2", SCHOOL_S2, PRN_S1, "tcp", 9100),
			 "accept:s2-lab-printers!");
	cr_expect_str_eq(decide(&f, "S1", SCHOOL_S2, PRN_S1, "tcp", 9100),
			 "reject:school-apart (stops)");
	teardown(&f);
}

Test(eval, transit_and_observe)
{
	struct fixture f;
	setup(&f, NULL);
	cr_expect_str_eq(decide(&f, "S3", ADMIN_S1, SRV_DC1, "tcp", 22), "transit");
	cr_expect_str_eq(decide_mode(&f, "S1", POL_MODE_OBSERVE, ADMIN_S1, SRV_DC1, "tcp", 22),
			 "drop:default");
	cr_expect_str_eq(decide_mode(&f, "S2", POL_MODE_OBSERVE, SCHOOL_S2, ADMIN_S1, "tcp", 22),
			 "reject:school-apart");
	teardown(&f);
}

Test(eval, expired_rules_do_not_decide)
{
	struct fixture f;
	setup(&f, NULL);
	/* old-project (admin to internet) expired on 2025-12-31. */
	cr_expect_str_eq(decide(&f, "S1", ADMIN_S1, "8.8.8.8", "tcp", 443), "drop:default (stops)");
	teardown(&f);
}

/* A rule that ends after the policy's day: compiled, with its end; it decides
 * connections opened before the end and none after (kernel: meta time). */
Test(eval, expiry_is_judged_at_the_connections_time)
{
	struct fixture f;
	setup(&f, "version: 1\n"
		  "services:\n"
		  "  web: {tcp: [443]}\n"
		  "rules:\n"
		  "  - {id: temp, from: [admin], to: [servers], services: [web], action: accept,\n"
		  "     expires: '2026-01-01T12:00:00Z'}\n");
	struct pol_table *t = NULL;
	cr_assert_eq(pol_build_gateway(f.b, inventory_find_site(f.inv, "S1"), POL_MODE_ENFORCE, &t),
		     0);
	cr_assert_eq(pol_table_nrules(t), 1);
	cr_expect_eq(pol_table_rule(t, 0)->expires, 1767268800);
	struct pol_tuple tp = {.proto = IPPROTO_TCP, .dport = 443, .icmp_type = -1};
	ip_addr_parse(ADMIN_S1, &tp.src);
	ip_addr_parse(SRV_S1, &tp.dst);
	struct pol_verdict v;
	int64_t when[] = {0, 1767268799, 1767268800, 1767300000};
	bool want[] = {true, true, false, false};
	for (size_t i = 0; i < 4; i++) {
		tp.time = when[i];
		cr_assert_eq(pol_decide(t, &tp, &v), 0);
		cr_expect_eq(v.action == POL_ACCEPT, want[i], "time %lld", (long long)when[i]);
	}
	/* The end travels in policy.json for the agent. */
	json_t *j = pol_table_to_json(t);
	struct pol_table *back = NULL;
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(pol_table_from_json(j, "t.json", dl, &back), 0, "%s", tu_diags(dl));
	cr_expect_eq(pol_table_rule(back, 0)->expires, 1767268800);
	/* The ruleset says it in Unix seconds, whatever the loader's time zone. */
	char *text = NULL;
	size_t len;
	cr_assert_eq(pol_nft_render(f.b, t, inventory_find_site(f.inv, "S1"), &text, &len, NULL),
		     0);
	cr_expect(strstr(text, "meta time < 1767268800"), "%s", text);
	free(text);
	json_decref(j);
	diag_list_free(dl);
	pol_table_free(back);
	pol_table_free(t);
	teardown(&f);
}

Test(eval, json_round_trip_keeps_decisions)
{
	struct fixture f;
	setup(&f, NULL);
	const char *sites[] = {"DC1", "S1", "S2", "S3"};
	const char *addrs[] = {ADMIN_S1,   ADMIN_S3,	 SRV_DC1,     SRV_S1,	PRN_S1,
			       PRN_S2,	   SCHOOL_S2,	 GUEST_S3,    MGMT_DC1, "8.8.8.8",
			       "10.0.0.1", "10.200.0.1", "10.201.0.1"};
	const char *protos[][2] = {{"tcp", "443"}, {"tcp", "9100"}, {"udp", "53"},
				   {"icmp", "8"},  {"gre", "0"},    {"tcp", "8100"}};
	size_t na = sizeof(addrs) / sizeof(addrs[0]);
	for (size_t s = 0; s < 4; s++) {
		struct pol_table *t, *back;
		struct diag_list *dl = diag_list_new();
		cr_assert_eq(pol_build_gateway(f.b, inventory_find_site(f.inv, sites[s]),
					       POL_MODE_ENFORCE, &t),
			     0);
		json_t *j = pol_table_to_json(t);
		cr_assert_not_null(j);
		cr_assert_eq(pol_table_from_json(j, "mem", dl, &back), 0, "%s", tu_diags(dl));
		json_t *j2 = pol_table_to_json(back);
		cr_expect(json_equal(j, j2), "JSON differs after a round trip at %s", sites[s]);
		for (size_t a = 0; a < na; a++)
			for (size_t b = 0; b < na; b++)
				for (size_t k = 0; k < 6; k++) {
					struct pol_tuple tp = {.icmp_type = -1};
					struct pol_verdict v1, v2;
					ip_addr_parse(addrs[a], &tp.src);
					ip_addr_parse(addrs[b], &tp.dst);
					tp.proto = (uint8_t)proto_parse(protos[k][0]);
					if (tp.proto == IPPROTO_ICMP)
						tp.icmp_type = atoi(protos[k][1]);
					else
						tp.dport = (uint16_t)atoi(protos[k][1]);
					pol_decide(t, &tp, &v1);
					pol_decide(back, &tp, &v2);
					cr_expect(v1.by == v2.by && v1.action == v2.action &&
						      v1.rule == v2.rule,
						  "%s: %s -> %s differs", sites[s], addrs[a],
						  addrs[b]);
				}
		json_decref(j);
		json_decref(j2);
		pol_table_free(t);
		pol_table_free(back);
		diag_list_free(dl);
	}
	teardown(&f);
}

Test(eval, table_json_errors_are_reported)
{
	struct diag_list *dl = diag_list_new();
	struct pol_table *t = NULL;
	json_t *j = json_loads("{\"format\": 1, \"mode\": \"enforce\", \"zones\": [], \"sites\": "
			       "[], \"lists\": {\"zones\": [[\"10.0.0.0/8\", \"nowhere\"]]}, "
			       "\"rules\": []}",
			       0, NULL);
	cr_assert_not_null(j);
	cr_expect_lt(pol_table_from_json(j, "t.json", dl, &t), 0);
	cr_expect_null(t);
	cr_expect(tu_diag_contains(dl, "t.json: error: lists entry names the unknown 'nowhere'"),
		  "%s", tu_diags(dl));
	json_decref(j);
	diag_list_free(dl);
}

Test(eval, table_json_refuses_zones_overlapping_beyond_neighbours)
{
	/* A /8 of zone a with two /16 of a inside, and a /16 of zone b between them: sorted,
	 * b's neighbours are both a's /16s, and only the /8 overlaps it. */
	struct diag_list *dl = diag_list_new();
	struct pol_table *t = NULL;
	json_t *j = json_loads(
	    "{\"format\": 1, \"mode\": \"enforce\", \"zones\": [{\"name\": \"a\", \"kind\": "
	    "\"segment\"}, {\"name\": \"b\", \"kind\": \"segment\"}], \"sites\": [], \"lists\": "
	    "{\"zones\": [[\"10.0.0.0/8\", \"a\"], [\"10.1.0.0/16\", \"a\"], [\"10.2.0.0/16\", "
	    "\"b\"], [\"10.3.0.0/16\", \"a\"]]}, \"rules\": []}",
	    0, NULL);
	cr_assert_not_null(j);
	cr_expect_eq(pol_table_from_json(j, "t.json", dl, &t), -EINVAL, "%s", tu_diags(dl));
	cr_expect_null(t);
	cr_expect(tu_diag_contains(dl, "t.json: error: lists.zones: zone ranges overlap"), "%s",
		  tu_diags(dl));
	json_decref(j);
	diag_list_free(dl);
}

/* Address k of a small space (10.0.0.k), or of IPv6 (fd00::k) when v6. */
static struct ip_addr small_addr(unsigned k, bool v6)
{
	struct ip_addr a = {.family = v6 ? 6 : 4};
	if (v6) {
		a.b[0] = 0xfd;
		a.b[15] = (uint8_t)k;
	} else {
		a.b[0] = 10;
		a.b[3] = (uint8_t)k;
	}
	return a;
}

/*
 * Against a brute-force oracle on thousands of random lists in a 64-address
 * space (so that ranges overlap often, nested several deep): -EEXIST exactly
 * when two ranges of different values share an address; otherwise every
 * address finds the value of the ranges holding it, and the result is sorted,
 * disjoint, and merged (no two touching ranges with one value).
 */
Test(eval, ranges_normalize_matches_a_brute_force_oracle)
{
	enum { SPACE = 64, CASES = 20000 };
	uint64_t x = 0x9e3779b97f4a7c15u;
	size_t refused = 0, accepted = 0;
	for (int c = 0; c < CASES; c++) {
		struct {
			unsigned lo, hi;
			bool v6;
			int val;
		} in[12];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t n = 1 + x % 12;
		int nvals = 1 + (int)((x >> 8) % 3);
		struct pol_ranges r = {0};
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned a = (unsigned)(x % SPACE),
				 len = (unsigned)((x >> 6) % (SPACE / 2));
			in[i].lo = a;
			in[i].hi = a + len < SPACE ? a + len : SPACE - 1;
			in[i].v6 = (x >> 20) % 8 == 0;
			in[i].val = (int)((x >> 24) % (uint64_t)nvals);
			struct ip_addr f = small_addr(in[i].lo, in[i].v6),
				       l = small_addr(in[i].hi, in[i].v6);
			cr_assert_eq(pol_ranges_add(&r, &f, &l, in[i].val), 0);
		}
		/* The oracle: the value at every address, or a conflict. */
		int at[2][SPACE];
		bool conflict = false;
		for (int f = 0; f < 2; f++)
			for (unsigned k = 0; k < SPACE; k++)
				at[f][k] = -1;
		for (size_t i = 0; i < n; i++)
			for (unsigned k = in[i].lo; k <= in[i].hi; k++) {
				int *v = &at[in[i].v6][k];
				conflict |= *v >= 0 && *v != in[i].val;
				*v = in[i].val;
			}
		int rc = pol_ranges_normalize(&r);
		if (conflict) {
			cr_assert_eq(rc, -EEXIST, "case %d: an overlap with two values is refused",
				     c);
			refused++;
			pol_ranges_free(&r);
			continue;
		}
		cr_assert_eq(rc, 0, "case %d", c);
		accepted++;
		for (int f = 0; f < 2; f++)
			for (unsigned k = 0; k < SPACE; k++) {
				struct ip_addr a = small_addr(k, f);
				const struct pol_range *g = pol_ranges_find(&r, &a);
				cr_assert_eq(g ? g->val : -1, at[f][k], "case %d: address %u/%d", c,
					     k, f);
			}
		for (size_t i = 1; i < r.n; i++) {
			const struct pol_range *p = &r.v[i - 1], *q = &r.v[i];
			if (p->first.family != q->first.family)
				continue;
			cr_assert_lt(ip_addr_cmp(&p->last, &q->first), 0, "case %d: disjoint", c);
			struct ip_addr next = p->last;
			cr_assert(ip_addr_add(&next, 1));
			cr_assert(ip_addr_cmp(&next, &q->first) != 0 || p->val != q->val,
				  "case %d: touching ranges of one value are merged", c);
		}
		pol_ranges_free(&r);
	}
	/* Both outcomes are exercised many times. */
	cr_expect_gt(refused, CASES / 10, "%zu refused", refused);
	cr_expect_gt(accepted, CASES / 10, "%zu accepted", accepted);
}

Test(eval, ranges_merge_and_find)
{
	struct pol_ranges r = {0};
	struct ip_prefix p;
	ip_prefix_parse("10.0.0.0/25", false, &p);
	pol_ranges_add_prefix(&r, &p, 1);
	ip_prefix_parse("10.0.0.128/25", false, &p);
	pol_ranges_add_prefix(&r, &p, 1);
	ip_prefix_parse("10.0.2.0/24", false, &p);
	pol_ranges_add_prefix(&r, &p, 1);
	ip_prefix_parse("10.0.1.0/24", false, &p);
	pol_ranges_add_prefix(&r, &p, 2);
	cr_assert_eq(pol_ranges_normalize(&r), 0);
	/* Adjacent halves with one value merge; a different value in between does not. */
	cr_expect_eq(r.n, 3);
	cr_expect(pol_range_is_prefix(&r.v[0], &p) && p.len == 24);
	struct ip_addr a;
	ip_addr_parse("10.0.0.255", &a);
	cr_expect_eq(pol_ranges_find(&r, &a)->val, 1);
	ip_addr_parse("10.0.1.0", &a);
	cr_expect_eq(pol_ranges_find(&r, &a)->val, 2);
	ip_addr_parse("10.0.3.0", &a);
	cr_expect_null(pol_ranges_find(&r, &a));
	/* Overlap with different values is refused. */
	ip_prefix_parse("10.0.1.128/25", false, &p);
	pol_ranges_add_prefix(&r, &p, 3);
	cr_expect_eq(pol_ranges_normalize(&r), -EEXIST);
	pol_ranges_free(&r);
}

/* A copy of the golden inventory in a fresh directory, the zone of "ZONE,VLAN" in
 * segments.csv and addressplan.csv renamed to: the directory (tu_rmdir). */
static char *golden_renaming(const char *zone_vlan, const char *to)
{
	char *dir = tu_tmpdir(), *cmd, zone[64];
	snprintf(zone, sizeof(zone), "%.*s", (int)strcspn(zone_vlan, ","), zone_vlan);
	cr_assert(asprintf(&cmd,
			   "cp %s/*.csv %s/ && sed -i 's/,%s,/,%s,%s,/' %s/segments.csv && "
			   "sed -i 's/^%s,/%s,/' %s/addressplan.csv",
			   tu_path(GOLDEN_INV), dir, zone_vlan, to, zone_vlan + strlen(zone) + 1,
			   dir, zone, to, dir) > 0);
	cr_assert_eq(tu_run(cmd), 0);
	free(cmd);
	return dir;
}

/* management: [Z] with one accept rule, against inv. */
static struct policy *load_management(const struct inventory *inv, const char *zones,
				      struct diag_list *dl)
{
	char *text;
	cr_assert(asprintf(&text,
			   "management: %s\n"
			   "zones:\n"
			   "  ops: Operators, not yet in the inventory\n"
			   "rules:\n"
			   "  - {id: a, from: any, to: any, services: any, action: accept}\n",
			   zones) > 0);
	struct policy *p = load_text(inv, text, dl);
	free(text);
	return p;
}

Test(policy, management_names_no_pseudo_zone_and_no_empty_zone)
{
	static const struct {
		const char *zones, *want;
	} cases[] = {
	    {"[mgmt, internet]",
	     "policy.yaml:1:20: error: management zone 'internet' is the pseudo-zone of every "
	     "address outside the city plan: it would open every gateway to the whole internet"},
	    {"[unassigned]", "policy.yaml:1:14: error: management zone 'unassigned' is a "
			     "pseudo-zone, not a network of engineers"},
	    {"[dc]", "policy.yaml:1:14: error: management zone 'dc' is a pseudo-zone"},
	    {"ops", "policy.yaml:1:13: error: management zone 'ops' has no addresses (no segment "
		    "in segments.csv, no VPN pool in addressplan.csv): it adds nothing to the "
		    "anti-lockout accept"},
	};
	struct inventory *inv = load_inv(GOLDEN_INV);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list *dl = diag_list_new();
		struct policy *p = load_management(inv, cases[i].zones, dl);
		cr_expect_null(p, "%s must not load", cases[i].zones);
		cr_expect(tu_diag_contains(dl, cases[i].want), "want '%s', got:\n%s", cases[i].want,
			  tu_diags(dl));
		policy_free(p);
		diag_list_free(dl);
	}
	struct diag_list *dl = diag_list_new();
	struct policy *p = load_management(inv, "[mgmt]", dl);
	cr_expect_not_null(p, "%s", tu_diags(dl));
	cr_expect_eq(diag_errors(dl), 0, "%s", tu_diags(dl));
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
}

Test(policy, management_in_a_guest_or_school_network_is_a_warning)
{
	struct inventory *inv = load_inv(GOLDEN_INV);
	const char *const names[] = {"guest", "school"};
	for (size_t i = 0; i < 2; i++) {
		struct diag_list *dl = diag_list_new();
		char zones[32];
		snprintf(zones, sizeof(zones), "[mgmt, %s]", names[i]);
		struct policy *p = load_management(inv, zones, dl);
		cr_expect_not_null(p, "a warning only: %s", tu_diags(dl));
		char want[256];
		snprintf(want, sizeof(want),
			 "policy.yaml:1:20: warning: management zone '%s' is a guest or school "
			 "network: every visitor or pupil there reaches the management of every "
			 "gateway",
			 names[i]);
		cr_expect(tu_has_diag(dl, want), "want '%s', got:\n%s", want, tu_diags(dl));
		policy_free(p);
		diag_list_free(dl);
	}
	inventory_free(inv);
	/* Not by its name: a zone whose segments are all at schools and nurseries. */
	char *dir = golden_renaming("school,60", "pupils");
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(inventory_load(dir, dl, &inv), 0, "%s", tu_diags(dl));
	struct policy *p = load_management(inv, "[pupils]", dl);
	cr_expect_not_null(p, "%s", tu_diags(dl));
	cr_expect(tu_diag_contains(dl, "policy.yaml:1:14: warning: management zone 'pupils' is a "
				       "guest or school network"),
		  "%s", tu_diags(dl));
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(policy, dc_is_reserved_as_a_segment_zone)
{
	char *dir = golden_renaming("guest,70", "dc");
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	cr_assert_eq(inventory_load(dir, dl, &inv), 0, "%s", tu_diags(dl));
	struct policy *p = load_text(inv, "rules: []\n", dl);
	cr_expect_null(p);
	char *want;
	cr_assert(asprintf(&want,
			   "%s/segments.csv:12: error: zone 'dc' is reserved for the data-centre "
			   "networks (docs/policy.md)",
			   dir) > 0);
	cr_expect(tu_has_diag(dl, want), "%s", tu_diags(dl));
	free(want);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Stage 2 (docs/policy.md "Stage 2"): the reader's errors and the sets */

#define S2_INV "tests/e2e/fixtures/stage2"

static const char s2_header[] = "version: 1\n"
				"services:\n"
				"  web: {tcp: [80, 443]}\n"
				"  dns: {udp: [53]}\n";

/* Loads s2_header + text against the stage-2 fixture; the policy or NULL. */
static struct policy *s2_load(const char *text, struct diag_list *dl, struct inventory **inv)
{
	*inv = load_inv(S2_INV);
	char *full;
	cr_assert(asprintf(&full, "%s%s", s2_header, text) > 0);
	struct policy *p = load_text(*inv, full, dl);
	free(full);
	return p;
}

static void s2_expect_error(const char *text, const char *want)
{
	struct inventory *inv;
	struct diag_list *dl = diag_list_new();
	struct policy *p = s2_load(text, dl, &inv);
	cr_expect_null(p, "a policy with errors must not load: %s", text);
	/* Exactly one error: no cascade of follow-up errors. */
	cr_expect_eq(diag_errors(dl), 1, "one error wanted for:\n%s\ngot:\n%s", text, tu_diags(dl));
	cr_expect(strstr(tu_diags(dl), want), "want '%s', got:\n%s", want, tu_diags(dl));
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
}

Test(stage2, reader_errors_are_located_and_suggest)
{
	s2_expect_error("rules:\n  - {id: a, from: {rle: web}, to: any, services: [web], action: accept}\n",
			"no host of hosts.csv has the label 'rle' (did you mean 'role'?)");
	s2_expect_error("rules:\n  - {id: a, from: {role: wbe}, to: any, services: [web], action: accept}\n",
			"no host has role=wbe (did you mean 'web'?)");
	s2_expect_error(
	    "rules:\n  - {id: a, from: {app: dns, role: web}, to: any, services: [web], action: accept}\n",
	    "no host carries all these labels");
	s2_expect_error("objects:\n  a: [b]\n  b: [a]\nrules:\n"
			"  - {id: r, from: a, to: any, services: [web], action: accept}\n",
			"contains itself");
	s2_expect_error("objects:\n  admin: [10.99.1.5]\nrules: []\n",
			"'admin' is already the name of a zone");
	s2_expect_error("objects:\n  dc-dns1: [10.99.1.5]\nrules: []\n",
			"'dc-dns1' is already the name of a host of hosts.csv");
	s2_expect_error("externals:\n  bad: [10.99.1.0/24]\nrules: []\n",
			"external network 'bad' overlaps the city's own addresses");
	s2_expect_error("objects:\n  x: [10.99.1.5/24]\nrules: []\n",
			"prefix '10.99.1.5/24' has host bits set (did you mean '10.99.1.0/24'?)");
	s2_expect_error("objects:\n  x: [resolverz]\nrules: []\n",
			"'resolverz' is no address, host or object");
	s2_expect_error("site_groups:\n  g: {types: [fire_statoin]}\nrules: []\n",
			"unknown type 'fire_statoin' (did you mean 'fire_station'?)");
	s2_expect_error("site_groups:\n  g: {}\nrules: []\n", "selects every site");
	s2_expect_error("rules:\n  - {id: a, from: {sites: [S9]}, to: any, services: [web], action: accept}\n",
			"unknown site group or site 'S9'");
	s2_expect_error("rules:\n  - {id: a, from: [admin], to: any, services: [web], action: drop, "
			"limit: 5/second}\n",
			"a limit caps what a rule accepts");
	s2_expect_error("rules:\n  - {id: a, from: [admin], to: any, services: [web], action: accept, "
			"limit: 5/fortnight}\n",
			"bad limit '5/fortnight'");
	s2_expect_error("rules:\n  - {id: a, from: [admin], to: any, services: [web], action: accept, "
			"when: {hours: \"25:00-02:00\"}}\n",
			"rule 'a': ");
	s2_expect_error("rules:\n  - {id: a, from: [admin], to: any, services: [web], action: accept, "
			"when: {hours: \"22:00-02:00\", timezone: Europe/Berln}}\n",
			"Europe/Berln");
	s2_expect_error("rules: []\ngateway:\n  - {id: g, from: [admin], services: [web], action: accept, "
			"interfaces: [eth7]}\n",
			"'eth7' is no interface role");
	s2_expect_error("rules: []\nassertions:\n  - {id: x, from: [guest], to: [mgmt]}\n",
			"missing key 'expect'");
	s2_expect_error("rules:\n  - {id: a, from: [admn], to: any, services: [web], action: accept}\n",
			"unknown zone 'admn' (did you mean 'admin'?)");
}

/* The addresses of table set `label` of gateway site's table, checked against want (CIDRs). */
static void expect_set(const char *policy_text, const char *site, const char *label,
		       const char *const *want, size_t nwant)
{
	struct inventory *inv;
	struct diag_list *dl = diag_list_new();
	struct policy *p = s2_load(policy_text, dl, &inv);
	cr_assert_not_null(p, "%s", tu_diags(dl));
	struct pol_build *b = NULL;
	struct pol_table *t = NULL;
	cr_assert_eq(pol_build_new(p, inv, &b), 0);
	cr_assert_eq(pol_build_gateway(b, inventory_find_site(inv, site), POL_MODE_ENFORCE, &t), 0);
	int k = -1;
	for (size_t i = 0; i < pol_table_nsets(t); i++)
		if (strcmp(pol_table_set_label(t, (int)i), label) == 0)
			k = (int)i;
	cr_assert_geq(k, 0, "no set '%s' at %s", label, site);
	/* The oracle: the wanted prefixes, normalized by the same list type, compared range by range. */
	struct pol_ranges w = {0};
	for (size_t i = 0; i < nwant; i++) {
		struct ip_addr f, l;
		char a[64], z[64];
		if (sscanf(want[i], "%63[^-]-%63s", a, z) == 2) {
			cr_assert_eq(ip_addr_parse(a, &f), 0);
			cr_assert_eq(ip_addr_parse(z, &l), 0);
		} else {
			struct ip_prefix pf;
			cr_assert_eq(ip_prefix_parse(want[i], true, &pf), 0);
			ip_prefix_first(&pf, &f);
			ip_prefix_last(&pf, &l);
		}
		cr_assert_eq(pol_ranges_add(&w, &f, &l, 0), 0);
	}
	cr_assert_eq(pol_ranges_normalize(&w), 0);
	const struct pol_ranges *got = pol_table_set(t, k);
	cr_expect_eq(got->n, w.n, "set %s: %zu ranges, want %zu", label, got->n, w.n);
	for (size_t i = 0; i < w.n && i < got->n; i++)
		cr_expect(ip_addr_cmp(&got->v[i].first, &w.v[i].first) == 0 &&
			      ip_addr_cmp(&got->v[i].last, &w.v[i].last) == 0,
			  "set %s: range %zu differs", label, i);
	pol_ranges_free(&w);
	pol_table_free(t);
	pol_build_free(b);
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
}

Test(stage2, terms_are_the_addresses_they_say)
{
	/* A prefix minus a host: two ranges per family around it. */
	static const char *const minus[] = {"10.99.9.0-10.99.9.9", "10.99.9.11-10.99.9.255",
					    "fd99:0:1:1::-fd99:0:1:1::f",
					    "fd99:0:1:1::11-fd99:0:1:1:ffff:ffff:ffff:ffff"};
	expect_set("objects:\n  net: [10.99.9.0/24, \"fd99:0:1:1::/64\"]\nrules:\n"
		   "  - {id: a, from: [admin], to: {object: net, except: [s1-print]}, services: [web], "
		   "action: accept}\n",
		   "S1", "{object: net, except: [{host: s1-print}]}", minus, 4);
	/* Labels: the hosts carrying both, nothing else. */
	static const char *const web[] = {"10.99.8.80/32", "fd99:0:1::80/128"};
	expect_set("rules:\n  - {id: a, from: [admin], to: {app: payroll, role: web}, services: [web], "
		   "action: accept}\n",
		   "S1", "{app: payroll, role: web}", web, 2);
	/* A zone at a site group: the segments of the group's sites only (Mitte: S1, S2). */
	static const char *const mitte_admin[] = {"10.99.1.0/24", "10.99.2.0/24",
						  "fd99:0:0:1::/64", "fd99:0:0:2::/64"};
	expect_set("site_groups:\n  mitte: {districts: [Mitte]}\nrules:\n"
		   "  - {id: a, from: {zone: admin, sites: mitte}, to: [servers], services: [web], "
		   "action: accept}\n",
		   "S1", "{zone: admin, sites: mitte}", mitte_admin, 4);
	/* Nested objects: the union. */
	static const char *const nested[] = {"10.99.8.53-10.99.8.54", "10.99.8.123/32",
					     "fd99:0:1::53-fd99:0:1::54"};
	expect_set("objects:\n  resolvers: [dc-dns1, dc-dns2]\n  core: {objects: [resolvers], "
		   "addresses: [10.99.8.123]}\nrules:\n"
		   "  - {id: a, from: [admin], to: core, services: [dns], action: accept}\n",
		   "S1", "core", nested, 3);
}

/* A rule is compiled where one end can be local: a site group's rule at its sites and at the
 * other end's gateway, not at a third. */
Test(stage2, site_group_rules_compile_at_both_ends_only)
{
	struct inventory *inv;
	struct diag_list *dl = diag_list_new();
	struct policy *p = s2_load("site_groups:\n  th: {types: [town_hall]}\nrules:\n"
				   "  - {id: a, from: {zone: bms, sites: th}, to: [dc], services: [web], "
				   "action: accept}\n",
				   dl, &inv);
	cr_assert_not_null(p, "%s", tu_diags(dl));
	struct pol_build *b = NULL;
	cr_assert_eq(pol_build_new(p, inv, &b), 0);
	static const char *const sites[] = {"S1", "DC1", "S2", "S3"};
	static const bool want[] = {true, true, false, false};
	for (size_t i = 0; i < 4; i++) {
		struct pol_table *t = NULL;
		cr_assert_eq(pol_build_gateway(b, inventory_find_site(inv, sites[i]), POL_MODE_ENFORCE,
					       &t),
			     0);
		cr_expect_eq(pol_table_nrules(t) == 1, want[i], "%s: %zu rules", sites[i],
			     pol_table_nrules(t));
		pol_table_free(t);
	}
	pol_build_free(b);
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
}

/* What lint's unused-object finding reads: an object used through another is used. */
Test(stage2, objects_used_through_nesting)
{
	struct inventory *inv;
	struct diag_list *dl = diag_list_new();
	struct policy *p = s2_load("objects:\n  a: [b]\n  b: [10.99.1.5]\n  c: [10.99.1.6]\n"
				   "site_groups:\n  g: [S1]\n  h: [S2]\nrules:\n"
				   "  - {id: r, from: {object: a, sites: g}, to: any, services: [web], "
				   "action: accept}\n",
				   dl, &inv);
	cr_assert_not_null(p, "%s", tu_diags(dl));
	cr_expect(p->objects[policy_find_object(p, "a")].used);
	cr_expect(p->objects[policy_find_object(p, "b")].used);
	cr_expect(!p->objects[policy_find_object(p, "c")].used);
	cr_expect(p->groups[policy_find_group(p, "g")].used);
	cr_expect(!p->groups[policy_find_group(p, "h")].used);
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
}

/* Found by review: terms are told apart by their whole text (a long mapping once shared
 * the set of another), and different keys of a mapping intersect (object and host). */
Test(stage2, long_mappings_stay_apart_and_keys_intersect)
{
	char *text = NULL, objs[4096] = "", list[4096] = "";
	size_t o = 0, l = 0;
	for (int i = 0; i < 22; i++) {
		o += (size_t)snprintf(objs + o, sizeof(objs) - o,
				      "  o%02d-a-rather-long-name-to-make-the-text-long: "
				      "[10.99.8.%d]\n",
				      i, 200 + i);
		l += (size_t)snprintf(list + l, sizeof(list) - l, "%so%02d-a-rather-long-name-to-"
								  "make-the-text-long",
				      i ? ", " : "", i);
	}
	cr_assert(asprintf(&text,
			   "objects:\n%s  pay-all: [10.99.8.0/24]\n  srv-a: [10.99.8.1]\n"
			   "  srv_a: [10.99.8.2]\nrules:\n"
			   "  - {id: wide, from: [admin], to: {objects: [%s, pay-all]}, services: [web], "
			   "action: accept}\n"
			   "  - {id: narrow, from: [voip], to: {objects: [%s]}, services: [web], "
			   "action: accept}\n"
			   "  - {id: both, from: [voip], to: {object: pay-all, host: pay-db}, services: "
			   "[dns], action: accept}\n"
			   "  - {id: none, from: [voip], to: {object: srv-a, host: pay-db}, services: "
			   "[dns], action: accept}\n"
			   "  - {id: dash, from: [guest], to: srv-a, services: [web], action: accept}\n"
			   "  - {id: under, from: [guest], to: srv_a, services: [web], action: accept}\n",
			   objs, list, list) > 0);
	struct inventory *inv;
	struct diag_list *dl = diag_list_new();
	struct policy *p = s2_load(text, dl, &inv);
	cr_assert_not_null(p, "%s", tu_diags(dl));
	struct pol_build *b = NULL;
	struct pol_table *t = NULL;
	cr_assert_eq(pol_build_new(p, inv, &b), 0);
	cr_assert_eq(pol_build_gateway(b, inventory_find_site(inv, "DC1"), POL_MODE_ENFORCE, &t), 0);
	struct {
		const char *src, *dst;
		int dport, proto;
		const char *rule; /* NULL: default drop */
	} cases[] = {
	    {"10.99.1.5", "10.99.8.80", 80, 6, "wide"},	  /* in pay-all */
	    {"10.99.17.5", "10.99.8.80", 80, 6, NULL},	  /* not in the narrow list */
	    {"10.99.17.5", "10.99.8.205", 80, 6, "narrow"}, /* in the list */
	    {"10.99.17.5", "10.99.8.81", 53, 17, "both"},	  /* pay-db inside pay-all */
	    {"10.99.17.5", "10.99.8.80", 53, 17, NULL},	  /* pay-all but not pay-db */
	    {"10.99.49.5", "10.99.8.1", 80, 6, "dash"},	  /* srv-a */
	    {"10.99.49.5", "10.99.8.2", 80, 6, "under"},	  /* srv_a, its own set */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pol_tuple tp = {.proto = (uint8_t)cases[i].proto,
				       .dport = (uint16_t)cases[i].dport,
				       .icmp_type = -1};
		struct pol_verdict v;
		cr_assert_eq(ip_addr_parse(cases[i].src, &tp.src), 0);
		cr_assert_eq(ip_addr_parse(cases[i].dst, &tp.dst), 0);
		cr_assert_eq(pol_decide(t, &tp, &v), 0);
		const char *got = v.rule >= 0 ? pol_table_rule(t, (size_t)v.rule)->id : NULL;
		cr_expect((got == NULL) == (cases[i].rule == NULL) &&
			      (!got || strcmp(got, cases[i].rule) == 0),
			  "%s -> %s:%d: rule %s, want %s", cases[i].src, cases[i].dst, cases[i].dport,
			  got ? got : "(default)", cases[i].rule ? cases[i].rule : "(default)");
	}
	/* {object: srv-a, host: pay-db} is empty (no address in both): rule none can match no
	 * connection and is compiled nowhere. */
	cr_expect_eq(pol_table_nrules(t), 5, "%zu rules at DC1", pol_table_nrules(t));
	for (size_t i = 0; i < pol_table_nrules(t); i++)
		cr_expect_str_neq(pol_table_rule(t, i)->id, "none");
	pol_table_free(t);
	pol_build_free(b);
	policy_free(p);
	diag_list_free(dl);
	inventory_free(inv);
	free(text);
}

/* Found by fuzz.poltable: a set whose second range is malformed loaded as a success with an
 * unsealed table (the first range's success was the return code). */
Test(stage2, table_set_with_a_bad_range_is_refused)
{
	const char *text =
	    "{\"format\": 1, \"mode\": \"enforce\", \"zones\": [{\"name\": \"a\", \"kind\": "
	    "\"segment\"}], \"sites\": [], \"lists\": {\"zones\": [[\"10.0.0.0/24\", \"a\"]]}, "
	    "\"sets\": [{\"name\": \"o_x\", \"label\": \"x\", \"ranges\": [\"10.0.0.1/32\", "
	    "\"10.0.0.5-255.256.0.0\"]}], \"rules\": []}";
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	cr_assert_not_null(j, "%s", err.text);
	struct diag_list *dl = diag_list_new();
	struct pol_table *t = NULL;
	cr_expect_neq(pol_table_from_json(j, "t.json", dl, &t), 0);
	cr_expect_null(t);
	cr_expect(strstr(tu_diags(dl), "malformed address range"), "%s", tu_diags(dl));
	pol_table_free(t);
	json_decref(j);
	diag_list_free(dl);
}
