// SPDX-License-Identifier: MIT
/*
 * policy lint: one small policy per finding, located exactly; a clean policy
 * with none; the example city's policy.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/lint.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

/* Two districts; DC1 in Mitte, the town hall in Möhringen, a school and an office in Mitte. */
static const char districts[] = "name,lat,lon,radius_m\n"
				"Mitte,48.7758,9.1829,2000\n"
				"Möhringen,48.7250,9.1500,3000\n";
static const char sites[] =
    "id,name,district,type,lat,lon,staff,broadband,current_mbps,required_mbps,flags\n"
    "DC1,Rechenzentrum,Mitte,data_centre,48.7760,9.1830,12,fibre,10000,10000,primary\n"
    "S000001,Rathaus Möhringen,Möhringen,town_hall,48.7260,9.1510,120,fibre,1000,500,hub\n"
    "S000002,Grundschule Mitte,Mitte,school,48.7770,9.1800,40,fibre,1000,500,\n"
    "S000003,Amt Mitte,Mitte,office,48.7750,9.1850,30,fibre,1000,100,\n";
static const char links[] = "id,a,b,kind,capacity_mbps,length_m,cost_eur\n"
			    "L1,DC1,S000001,fibre,10000,7500,\n"
			    "L2,DC1,S000002,fibre,1000,400,\n"
			    "L3,DC1,S000003,fibre,1000,300,\n";
static const char segments[] = "site,name,zone,vlan,ipv4,ipv6\n"
			       "DC1,servers,servers,20,10.32.0.0/24,fd5e:0:0:100::/64\n"
			       "DC1,mgmt,mgmt,99,10.48.0.0/24,fd5e:0:0:200::/64\n"
			       "S000001,admin,admin,10,10.0.0.0/25,fd5e::/64\n"
			       "S000001,voip,voip,30,10.16.0.0/26,\n"
			       "S000001,servers,servers,20,10.32.1.0/24,fd5e:0:0:101::/64\n"
			       "S000002,school,school,60,10.64.0.0/24,fd5e:0:0:300::/64\n"
			       "S000002,printers,printers,40,10.80.0.0/26,\n"
			       "S000003,admin,admin,10,10.0.1.0/25,fd5e:0:0:1::/64\n"
			       "S000003,printers,printers,40,10.80.1.0/26,\n";
static const char plan[] = "zone,prefix\n"
			   "city,10.0.0.0/8\n"
			   "city,fd5e::/48\n"
			   "admin,10.0.0.0/16\n"
			   "admin,fd5e::/56\n"
			   "voip,10.16.0.0/16\n"
			   "servers,10.32.0.0/16\n"
			   "servers,fd5e:0:0:100::/56\n"
			   "mgmt,10.48.0.0/16\n"
			   "mgmt,fd5e:0:0:200::/56\n"
			   "school,10.64.0.0/16\n"
			   "school,fd5e:0:0:300::/56\n"
			   "printers,10.80.0.0/16\n"
			   "vpn-staff,10.200.0.0/16\n";

/* Lines 1-15; the rules follow from line 16, one per line. */
static const char head[] = "version: 1\n"
			   "zones:\n"
			   "  admin: Administration\n"
			   "  servers: Servers\n"
			   "  voip: Phones\n"
			   "  printers: Printers\n"
			   "  school: Pupils\n"
			   "  mgmt: Management\n"
			   "services:\n"
			   "  web: {tcp: [80, 443]}\n"
			   "  https: {tcp: [443]}\n"
			   "  http: {tcp: [80]}\n"
			   "  dns: {udp: [53], tcp: [53]}\n"
			   "  printing: {tcp: [515, 631, 9100]}\n"
			   "rules:\n";

struct run {
	char *dir;
	struct inventory *inv;
	struct policy *p;
	struct diag_list *dl;
	struct lint_report *r;
	int rc;
};

/* Writes the inventory and head + rules (or a whole policy when rules is NULL), loads, lints. */
static void lint_run(struct run *x, const char *policy_text, const char *date)
{
	memset(x, 0, sizeof(*x));
	x->dir = tu_tmpdir();
	cr_assert_not_null(x->dir);
	free(tu_write(x->dir, "districts.csv", districts));
	free(tu_write(x->dir, "sites.csv", sites));
	free(tu_write(x->dir, "links.csv", links));
	free(tu_write(x->dir, "segments.csv", segments));
	free(tu_write(x->dir, "addressplan.csv", plan));
	char *path = tu_write(x->dir, "policy.yaml", policy_text);
	x->dl = diag_list_new();
	struct diag_list *idl = diag_list_new();
	cr_assert_eq(inventory_load(x->dir, idl, &x->inv), 0, "%s", tu_diags(idl));
	diag_list_free(idl);
	x->rc = policy_load(path, "policy.yaml", x->inv, date ? date : "2025-06-01", x->dl, &x->p);
	if (x->rc == 0) {
		struct ydoc *doc = NULL;
		struct diag_list *ydl = diag_list_new();
		cr_assert_eq(ydoc_load(path, "policy.yaml", ydl, &doc), 0);
		cr_assert_eq(lint_policy(x->p, x->inv, doc, x->dl, &x->r), 0);
		ydoc_free(doc);
		diag_list_free(ydl);
	}
	free(path);
}

static void run_free(struct run *x)
{
	lint_report_free(x->r);
	policy_free(x->p);
	inventory_free(x->inv);
	diag_list_free(x->dl);
	tu_rmdir(x->dir);
	free(x->dir);
}

static char *with_rules(const char *rules)
{
	char *s = malloc(strlen(head) + strlen(rules) + 1);
	cr_assert_not_null(s);
	strcpy(s, head);
	strcat(s, rules);
	return s;
}

static const char *report_text(const struct lint_report *r)
{
	static char buf[16384];
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; r && i < r->n && o < sizeof(buf) - 1; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u:%u %s: %s\n", r->v[i].line,
				      r->v[i].col, lint_kind_names[r->v[i].kind], r->v[i].msg);
	return buf;
}

/* The findings of one kind; exactly one expected. */
static const struct lint_finding *only(const struct lint_report *r, enum lint_kind k)
{
	const struct lint_finding *f = NULL;
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == k) {
			f = &r->v[i];
			n++;
		}
	cr_assert_eq(n, 1, "expected one %s finding:\n%s", lint_kind_names[k], report_text(r));
	return f;
}

/* Findings other than unused services (the head declares more services than most tests use). */
static size_t nfindings(const struct lint_report *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->v[i].kind != LINT_UNUSED_SERVICE;
	return n;
}

static bool names_rule(const struct policy *p, const struct lint_finding *f, const char *id)
{
	for (size_t i = 0; i < f->nothers; i++)
		if (strcmp(p->rules[f->others[i]].id, id) == 0)
			return true;
	return false;
}

Test(lint, shadowed_by_one_rule)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: web, from: [admin], to: [servers], services: [web], action: accept}\n"
	    "  - {id: tls, from: [admin], to: [servers], services: [https], scope: dc-only, "
	    "action: drop}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_SHADOWED);
	cr_assert_eq(f->line, 17);
	cr_assert_eq(f->col, 5);
	cr_assert_str_eq(x.p->rules[f->rule].id, "tls");
	cr_assert_eq(f->nothers, 1);
	cr_assert(names_rule(x.p, f, "web"));
	cr_assert(tu_diag_contains(x.dl, "policy.yaml:17:5: warning: rule 'tls' is shadowed by "
					 "rule 'web' (line 16)"),
		  "%s", tu_diags(x.dl));
	cr_assert_eq(nfindings(x.r), 1, "%s", report_text(x.r));
	run_free(&x);
	free(pol);
}

Test(lint, shadowed_by_a_union)
{
	struct run x;
	/* Neither http nor https alone covers web; together they do, in every scope. */
	char *pol = with_rules(
	    "  - {id: plain, from: [admin], to: [servers], services: [http], action: accept}\n"
	    "  - {id: tls, from: [admin], to: [servers], services: [https], action: accept}\n"
	    "  - {id: both, from: [admin], to: [servers], services: [web], action: reject}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_SHADOWED);
	cr_assert_eq(f->line, 18);
	cr_assert_str_eq(x.p->rules[f->rule].id, "both");
	cr_assert_eq(f->nothers, 2, "%s", report_text(x.r));
	cr_assert(names_rule(x.p, f, "plain") && names_rule(x.p, f, "tls"));
	cr_assert(strstr(f->msg, "union of rules 'plain' and 'tls'"), "%s", f->msg);
	run_free(&x);
	free(pol);
}

Test(lint, shadowed_by_a_union_of_scopes)
{
	struct run x;
	/*
	 * admin reaches servers at its own site, in its district and elsewhere:
	 * same-district covers the first two, dc-only does not cover the branch
	 * servers elsewhere, so a third rule for those completes the union.
	 */
	char *pol = with_rules(
	    "  - {id: near, from: [admin], to: [servers], services: [web], scope: same-district, "
	    "action: accept}\n"
	    "  - {id: central, from: [admin], to: [servers], services: [web], scope: dc-only, "
	    "action: accept}\n"
	    "  - {id: all, from: [admin], to: [servers], services: [https], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	/* S000003's admins reach S000001's branch servers (another district, not dc): not shadowed.
	 */
	for (size_t i = 0; i < x.r->n; i++)
		cr_assert_neq(x.r->v[i].kind, LINT_SHADOWED, "%s", report_text(x.r));
	run_free(&x);
	free(pol);
	pol = with_rules(
	    "  - {id: near, from: [admin], to: [servers], services: [web], scope: same-district, "
	    "action: accept}\n"
	    "  - {id: central, from: [admin], to: [servers], services: [web], scope: dc-only, "
	    "action: accept}\n"
	    "  - {id: far, from: [admin], to: [servers], services: [http, https], action: accept}\n"
	    "  - {id: all, from: [admin], to: [servers], services: [https], action: reject}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_SHADOWED);
	cr_assert_str_eq(x.p->rules[f->rule].id, "all");
	run_free(&x);
	free(pol);
}

Test(lint, redundant)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: tls, from: [admin], to: [servers], services: [https], action: accept}\n"
	    "  - {id: dns, from: [admin], to: [servers], services: [dns], action: reject}\n"
	    "  - {id: web, from: [admin], to: [servers], services: [web], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_REDUNDANT);
	cr_assert_eq(f->line, 16);
	cr_assert_str_eq(x.p->rules[f->rule].id, "tls");
	cr_assert_eq(f->nothers, 1);
	cr_assert(names_rule(x.p, f, "web"));
	run_free(&x);
	free(pol);
	/* A drop in between that overlaps (and decides something) makes it necessary. */
	pol = with_rules(
	    "  - {id: tls, from: [admin], to: [servers], services: [https], action: accept}\n"
	    "  - {id: no-tls, from: [admin], to: [servers], services: [https, dns], scope: "
	    "dc-only, action: reject}\n"
	    "  - {id: web, from: [admin], to: [servers], services: [web], action: accept}\n");
	lint_run(&x, pol, NULL);
	for (size_t i = 0; i < x.r->n; i++)
		cr_assert_neq(x.r->v[i].kind, LINT_REDUNDANT, "%s", report_text(x.r));
	run_free(&x);
	free(pol);
	/* One that decides nothing is shadowed; without it the first is redundant. */
	pol = with_rules(
	    "  - {id: tls, from: [admin], to: [servers], services: [https], action: accept}\n"
	    "  - {id: no-tls, from: [admin], to: [servers], services: [https], scope: dc-only, "
	    "action: reject}\n"
	    "  - {id: web, from: [admin], to: [servers], services: [web], action: accept}\n");
	lint_run(&x, pol, NULL);
	f = only(x.r, LINT_SHADOWED);
	cr_assert_str_eq(x.p->rules[f->rule].id, "no-tls");
	f = only(x.r, LINT_REDUNDANT);
	cr_assert_str_eq(x.p->rules[f->rule].id, "tls");
	cr_assert(names_rule(x.p, f, "web"));
	run_free(&x);
	free(pol);
}

Test(lint, opposite_action_overlap)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: dns, from: [school], to: [servers], services: [dns], scope: dc-only, action: "
	    "accept}\n"
	    "  - {id: apart, from: [school], to: [servers, admin], services: any, action: "
	    "reject}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_OVERLAP);
	cr_assert_eq(f->line, 17);
	cr_assert_str_eq(x.p->rules[f->rule].id, "apart");
	cr_assert(names_rule(x.p, f, "dns"));
	cr_assert_geq(f->nboxes, 1);
	/* The overlap is exactly school -> servers in the data centre, DNS. */
	char *t = lint_box_text(&x.r->names, &f->boxes[0]);
	cr_assert_str_eq(t, "school -> servers[dc] tcp/53,udp/53 (same-district)", "%s",
			 report_text(x.r));
	free(t);
	cr_assert_eq(f->nboxes, 1, "%s", report_text(x.r));
	struct lint_point pt = {6, lint_endpoint(&x.r->names, "school", false),
				lint_endpoint(&x.r->names, "servers", true), LINT_REL_DISTRICT,
				lint_svc_point(17, 53)};
	cr_assert(lint_box_contains(&f->boxes[0], &pt));
	pt.svc = lint_svc_point(17, 54);
	cr_assert_not(lint_box_contains(&f->boxes[0], &pt));
	pt.svc = lint_svc_point(6, 53);
	pt.to = lint_endpoint(&x.r->names, "servers", false);
	cr_assert_not(lint_box_contains(&f->boxes[0], &pt));
	run_free(&x);
	free(pol);
}

Test(lint, any_to_any)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: open, from: any, to: any, services: any, action: accept}\n"
	    "  - {id: out, from: [school], to: [internet], services: any, action: accept}\n"
	    "  - {id: in, from: any, to: [servers], services: any, action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_ANY_ANY);
	cr_assert_eq(f->line, 16);
	cr_assert_str_eq(x.p->rules[f->rule].id, "open");
	f = only(x.r, LINT_INTERNET_ANY);
	cr_assert_str_eq(x.p->rules[f->rule].id, "out");
	f = only(x.r, LINT_BROAD);
	cr_assert_str_eq(x.p->rules[f->rule].id, "in");
	run_free(&x);
	free(pol);
}

Test(lint, zone_without_segments)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: web, from: [admin], to: [servers], services: [web], action: accept}\n");
	/* A declared zone that no segment uses, inserted after 'mgmt' (line 9). */
	char *p2 = malloc(strlen(pol) + 64);
	char *at = strstr(pol, "services:\n");
	cr_assert_not_null(p2);
	memcpy(p2, pol, (size_t)(at - pol));
	strcpy(p2 + (at - pol), "  lab: Laboratory\n");
	strcat(p2, at);
	lint_run(&x, p2, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_EMPTY_ZONE);
	cr_assert_eq(f->line, 9);
	cr_assert_eq(f->col, 3);
	cr_assert_str_eq(x.p->zones[f->zone].name, "lab");
	run_free(&x);
	free(pol);
	free(p2);
}

Test(lint, unknown_zone_and_service)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: web, from: [admn], to: [servers], services: [web], action: accept}\n"
	    "  - {id: tls, from: [admin], to: [servers], services: [htps], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, -EINVAL);
	cr_assert(tu_has_diag(x.dl, "policy.yaml:16:22: error: unknown zone 'admn' (did you mean "
				    "'admin'?)"),
		  "%s", tu_diags(x.dl));
	cr_assert(tu_has_diag(x.dl, "policy.yaml:17:56: error: unknown service 'htps' (did you "
				    "mean 'https'?)"),
		  "%s", tu_diags(x.dl));
	run_free(&x);
	/* The command shows them and exits 3. */
	const char *bin = getenv("SEGPLAN_BIN");
	cr_assert_not_null(bin);
	char *dir = tu_tmpdir();
	free(tu_write(dir, "districts.csv", districts));
	free(tu_write(dir, "sites.csv", sites));
	free(tu_write(dir, "links.csv", links));
	free(tu_write(dir, "segments.csv", segments));
	free(tu_write(dir, "addressplan.csv", plan));
	free(tu_write(dir, "policy.yaml", pol));
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s' policy lint '%s' 2>'%s/err' >/dev/null", bin, dir, dir);
	cr_assert_eq(tu_run(cmd), 3);
	snprintf(cmd, sizeof(cmd),
		 "grep -q \"policy.yaml:16:22: error: unknown zone 'admn' (did you mean "
		 "'admin'?)\" '%s/err'",
		 dir);
	cr_assert_eq(tu_run(cmd), 0);
	tu_rmdir(dir);
	free(dir);
	free(pol);
}

Test(lint, expired_and_expiring)
{
	struct run x;
	char *pol =
	    with_rules("  - {id: old, from: [admin], to: [servers], services: [http], action: "
		       "accept, expires: 2025-05-31}\n"
		       "  - {id: soon, from: [admin], to: [servers], services: [https], action: "
		       "accept, expires: 2025-06-20}\n"
		       "  - {id: later, from: [admin], to: [servers], services: [dns], action: "
		       "accept, expires: 2025-12-31}\n");
	lint_run(&x, pol, "2025-06-01");
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_EXPIRED);
	cr_assert_eq(f->line, 16);
	cr_assert(strstr(f->msg, "expired on 2025-05-31"), "%s", f->msg);
	f = only(x.r, LINT_EXPIRING);
	cr_assert_eq(f->line, 17);
	cr_assert(strstr(f->msg, "expires on 2025-06-20, in 19 days"), "%s", f->msg);
	cr_assert_eq(nfindings(x.r), 2, "%s", report_text(x.r));
	run_free(&x);
	/* A month later the second has expired too and the third is due. */
	lint_run(&x, pol, "2025-12-15");
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	size_t expired = 0;
	for (size_t i = 0; i < x.r->n; i++)
		expired += x.r->v[i].kind == LINT_EXPIRED;
	cr_assert_eq(expired, 2, "%s", report_text(x.r));
	f = only(x.r, LINT_EXPIRING);
	cr_assert_eq(f->line, 18);
	run_free(&x);
	free(pol);
}

Test(lint, unmatchable)
{
	struct run x;
	/* No gateway judges a VPN user reaching the internet, nor printers at two sites locally. */
	char *pol =
	    with_rules("  - {id: vpn-out, from: [vpn-staff], to: [internet], services: "
		       "[web], action: accept}\n"
		       "  - {id: voip-print, from: [voip], to: [printers], services: "
		       "[printing], scope: same-site, action: accept}\n"
		       "  - {id: print, from: [admin], to: [printers], services: [printing], "
		       "scope: same-site, action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	size_t n = 0;
	for (size_t i = 0; i < x.r->n; i++) {
		if (x.r->v[i].kind == LINT_UNUSED_SERVICE)
			continue;
		cr_assert_eq(x.r->v[i].kind, LINT_UNMATCHABLE, "%s", report_text(x.r));
		cr_assert_neq(x.r->v[i].line, 18);
		n++;
	}
	cr_assert_eq(n, 2, "%s", report_text(x.r));
	run_free(&x);
	free(pol);
}

Test(lint, site_exceptions)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: print, from: [admin], to: [printers], services: [printing], scope: "
	    "same-site, "
	    "action: accept}\n"
	    "  - {id: no-print, from: [school], to: [printers], services: any, action: reject}\n"
	    "sites:\n"
	    "  S000002:\n"
	    "    rules:\n"
	    "      - {id: lab-print, from: [school], to: [printers], services: [printing], scope: "
	    "same-site, action: accept}\n"
	    "  S000003:\n"
	    "    rules:\n"
	    "      - {id: office-print, from: [admin], to: [printers], services: [printing], "
	    "scope: same-site, action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	cr_assert_eq(x.r->views, 3);
	cr_assert_eq(nfindings(x.r), 2, "%s", report_text(x.r));
	const struct lint_finding *f = only(x.r, LINT_OVERRIDE);
	cr_assert_str_eq(x.p->rules[f->rule].id, "lab-print");
	cr_assert_eq(f->severity, DIAG_NOTE);
	cr_assert_str_eq(x.inv->sites[f->site].id, "S000002");
	cr_assert(names_rule(x.p, f, "no-print"));
	cr_assert_eq(f->line, 21);
	cr_assert_eq(f->col, 9);
	/* At S000003 the city-wide rule already accepts what its exception does. */
	f = only(x.r, LINT_REDUNDANT);
	cr_assert_str_eq(x.p->rules[f->rule].id, "office-print");
	cr_assert(names_rule(x.p, f, "print"));
	cr_assert_str_eq(x.inv->sites[f->site].id, "S000003");
	run_free(&x);
	free(pol);
}

Test(lint, clean_policy)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: central, from: [admin], to: [servers], services: [web, dns], scope: dc-only, "
	    "action: accept}\n"
	    "  - {id: print, from: [admin, school], to: [printers], services: [printing], scope: "
	    "same-site, action: accept}\n"
	    "  - {id: phones, from: [voip], to: [servers], services: [web], action: accept}\n"
	    "  - {id: school-out, from: [school], to: [internet], services: [web, dns], action: "
	    "accept}\n"
	    "  - {id: ops, from: [mgmt], to: [admin, servers, voip, printers, school], services: "
	    "[https, http], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	cr_assert_eq(x.r->n, 0, "%s", report_text(x.r));
	cr_assert_eq(diag_count(x.dl), 0, "%s", tu_diags(x.dl));
	cr_assert_eq(x.r->views, 1);
	cr_assert_gt(x.r->atoms, 0);
	run_free(&x);
	free(pol);
}

Test(lint, example_policy, .timeout = 120)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct policy *p = NULL;
	struct ydoc *doc = NULL;
	struct lint_report *r = NULL;
	const char *path = tu_path("examples/stuttgart/policy.yaml");
	cr_assert_eq(inventory_load(tu_path("examples/stuttgart"), dl, &inv), 0, "%s",
		     tu_diags(dl));
	cr_assert_eq(policy_load(path, NULL, inv, "2026-01-01", dl, &p), 0, "%s", tu_diags(dl));
	cr_assert_eq(ydoc_load(path, NULL, dl, &doc), 0);
	cr_assert_eq(lint_policy(p, inv, doc, dl, &r), 0);
	cr_assert_eq(diag_errors(dl), 0, "%s", tu_diags(dl));
	cr_log_info("example policy: %zu findings over %zu views, %zu atoms\n%s", r->n, r->views,
		    r->atoms, report_text(r));
	for (size_t i = 0; i < r->n; i++)
		cr_assert_neq(r->v[i].severity, DIAG_ERROR);
	cr_assert_eq(r->views, 3); /* the city and the two sites with exceptions */
	lint_report_free(r);
	ydoc_free(doc);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
}

/* The findings about rules that advise removing one (shadowed, redundant), as "kind:rule". */
static size_t removals(const struct lint_report *r, const struct policy *p, const char *rule,
		       const struct lint_finding **out)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct lint_finding *f = &r->v[i];
		if ((f->kind != LINT_SHADOWED && f->kind != LINT_REDUNDANT) || f->rule < 0)
			continue;
		if (rule && strcmp(p->rules[f->rule].id, rule) != 0)
			continue;
		if (out)
			*out = f;
		n++;
	}
	return n;
}

/* Removing every rule lint advises removing must change no decision: no circular advice. */
static void expect_removable_together(const struct run *x)
{
	for (size_t i = 0; i < x->r->n; i++) {
		const struct lint_finding *f = &x->r->v[i];
		if (f->kind != LINT_SHADOWED && f->kind != LINT_REDUNDANT)
			continue;
		/* The rules a finding relies on are not themselves to be removed. */
		for (size_t k = 0; k < f->nothers; k++)
			cr_assert_eq(removals(x->r, x->p, x->p->rules[f->others[k]].id, NULL), 0,
				     "'%s' relies on a rule lint also removes:\n%s",
				     x->p->rules[f->rule].id, report_text(x->r));
	}
}

/* rule has one removal finding, shadowed by exactly the rule by. */
static void expect_shadowed_by(const struct run *x, const char *rule, const char *by)
{
	const struct lint_finding *f = NULL;
	cr_assert_eq(removals(x->r, x->p, rule, &f), 1, "%s", report_text(x->r));
	cr_assert(f->kind == LINT_SHADOWED && f->nothers == 1 && names_rule(x->p, f, by), "%s",
		  report_text(x->r));
}

Test(lint, two_identical_rules_one_finding)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: a, from: [admin], to: [servers], services: [web], action: accept}\n"
	    "  - {id: b, from: [admin], to: [servers], services: [web], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	cr_assert_eq(removals(x.r, x.p, NULL, NULL), 1, "%s", report_text(x.r));
	const struct lint_finding *f = NULL;
	cr_assert_eq(removals(x.r, x.p, "b", &f), 1, "%s", report_text(x.r));
	cr_assert_eq(f->kind, LINT_SHADOWED);
	cr_assert(names_rule(x.p, f, "a"));
	expect_removable_together(&x);
	run_free(&x);
	free(pol);
	/* The same with drop rules, where the default drop could be named as well. */
	pol = with_rules(
	    "  - {id: a, from: [school], to: [servers], services: [web], action: reject}\n"
	    "  - {id: b, from: [school], to: [servers], services: [web], action: reject}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(removals(x.r, x.p, NULL, NULL), 1, "%s", report_text(x.r));
	cr_assert_eq(removals(x.r, x.p, "b", NULL), 1, "%s", report_text(x.r));
	expect_removable_together(&x);
	run_free(&x);
	free(pol);
}

Test(lint, three_identical_rules)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: a, from: [admin], to: [servers], services: [web], action: accept}\n"
	    "  - {id: b, from: [admin], to: [servers], services: [web], action: accept}\n"
	    "  - {id: c, from: [admin], to: [servers], services: [web], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	cr_assert_eq(removals(x.r, x.p, NULL, NULL), 2, "%s", report_text(x.r));
	cr_assert_eq(removals(x.r, x.p, "a", NULL), 0, "%s", report_text(x.r));
	expect_shadowed_by(&x, "b", "a");
	expect_shadowed_by(&x, "c", "a");
	expect_removable_together(&x);
	run_free(&x);
	free(pol);
}

Test(lint, covered_by_a_broader_rule_and_a_copy)
{
	struct run x;
	/* The broader rule first: both copies are shadowed by it, not by each other. */
	char *pol = with_rules(
	    "  - {id: wide, from: [admin], to: [servers], services: any, action: accept}\n"
	    "  - {id: b, from: [admin], to: [servers], services: [web], action: accept}\n"
	    "  - {id: c, from: [admin], to: [servers], services: [web], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	cr_assert_eq(removals(x.r, x.p, NULL, NULL), 2, "%s", report_text(x.r));
	expect_shadowed_by(&x, "b", "wide");
	expect_shadowed_by(&x, "c", "wide");
	expect_removable_together(&x);
	run_free(&x);
	free(pol);
	/* The broader rule between the copies: the first is redundant (the broader one takes
	 * over), and the copy is shadowed by the broader rule, not by the one to remove. */
	pol = with_rules(
	    "  - {id: b, from: [admin], to: [servers], services: [web], action: accept}\n"
	    "  - {id: wide, from: [admin], to: [servers], services: any, action: accept}\n"
	    "  - {id: c, from: [admin], to: [servers], services: [web], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(removals(x.r, x.p, NULL, NULL), 2, "%s", report_text(x.r));
	const struct lint_finding *f = NULL;
	cr_assert_eq(removals(x.r, x.p, "b", &f), 1, "%s", report_text(x.r));
	cr_assert_eq(f->kind, LINT_REDUNDANT);
	cr_assert(names_rule(x.p, f, "wide"));
	expect_shadowed_by(&x, "c", "wide");
	expect_removable_together(&x);
	run_free(&x);
	free(pol);
}

Test(lint, redundant_chain_is_not_removed_whole)
{
	struct run x;
	/* a is redundant (b takes tcp/80 over); c is shadowed by b. Without a and c, b is
	 * needed, so it is not redundant as well, although c would take its part over. */
	char *pol = with_rules(
	    "  - {id: a, from: [admin], to: [servers], services: [http], action: accept}\n"
	    "  - {id: b, from: [admin], to: [servers], services: [web], action: accept}\n"
	    "  - {id: c, from: [admin], to: [servers], services: [https], action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	cr_assert_eq(removals(x.r, x.p, NULL, NULL), 2, "%s", report_text(x.r));
	cr_assert_eq(removals(x.r, x.p, "b", NULL), 0, "%s", report_text(x.r));
	const struct lint_finding *f = NULL;
	cr_assert_eq(removals(x.r, x.p, "a", &f), 1, "%s", report_text(x.r));
	cr_assert_eq(f->kind, LINT_REDUNDANT);
	expect_removable_together(&x);
	run_free(&x);
	free(pol);
}

Test(lint, no_rules_accepts_nothing)
{
	struct run x;
	/* head ends in "rules:\n": make it an empty list. */
	char *pol = NULL;
	cr_assert(asprintf(&pol, "%.*s []\n", (int)strlen(head) - 1, head) > 0);
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_ACCEPTS_NOTHING);
	cr_assert_eq(f->severity, DIAG_WARNING);
	cr_assert_eq(f->line, 15);
	cr_assert_eq(f->col, 1);
	cr_assert(tu_diag_contains(x.dl, "policy.yaml:15:1: warning: no rule accepts anything"),
		  "%s", tu_diags(x.dl));
	run_free(&x);
	/* Rules that only drop and reject accept nothing either. */
	free(pol);
	pol = with_rules(
	    "  - {id: no, from: [school], to: any, services: [web, http, https, dns, printing], "
	    "action: reject}\n");
	lint_run(&x, pol, NULL);
	f = only(x.r, LINT_ACCEPTS_NOTHING);
	cr_assert_eq(f->line, 15);
	run_free(&x);
	free(pol);
}

Test(lint, unused_service)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: web, from: [admin], to: [servers], services: [web, dns], action: accept}\n"
	    "sites:\n"
	    "  S000002:\n"
	    "    rules:\n"
	    "      - {id: lab, from: [school], to: [printers], services: [printing], scope: "
	    "same-site, action: accept}\n");
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	size_t n = 0;
	for (size_t i = 0; i < x.r->n; i++) {
		const struct lint_finding *f = &x.r->v[i];
		if (f->kind != LINT_UNUSED_SERVICE)
			continue;
		n++;
		cr_assert_eq(f->severity, DIAG_WARNING);
		cr_assert_eq(f->col, 3);
		cr_assert_geq(f->service, 0);
		const char *name = x.p->services[f->service].name;
		/* https (line 11) and http (line 12): web, dns and printing are used. */
		cr_assert(strcmp(name, "https") == 0 || strcmp(name, "http") == 0, "%s",
			  report_text(x.r));
		cr_assert_eq(f->line, strcmp(name, "https") == 0 ? 11u : 12u);
	}
	cr_assert_eq(n, 2, "%s", report_text(x.r));
	cr_assert(tu_diag_contains(x.dl, "policy.yaml:12:3: warning: service 'http' (line 12) is "
					 "used by no rule"),
		  "%s", tu_diags(x.dl));
	run_free(&x);
	free(pol);
}

Test(lint, expiry_at_an_instant)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: gone, from: [admin], to: [servers], services: [http], action: accept, "
	    "expires: 2025-05-31T23:59:59Z}\n"
	    "  - {id: noon, from: [admin], to: [servers], services: [https], action: accept, "
	    "expires: 2025-06-10T12:00:00Z}\n"
	    "  - {id: today, from: [admin], to: [servers], services: [dns], action: accept, "
	    "expires: 2025-06-01T08:00:00Z}\n");
	lint_run(&x, pol, "2025-06-01");
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	const struct lint_finding *f = only(x.r, LINT_EXPIRED);
	cr_assert_str_eq(x.p->rules[f->rule].id, "gone");
	cr_assert(strstr(f->msg, "expired on 2025-05-31T23:59:59Z"), "%s", f->msg);
	size_t n = 0;
	for (size_t i = 0; i < x.r->n; i++) {
		f = &x.r->v[i];
		if (f->kind != LINT_EXPIRING)
			continue;
		n++;
		if (strcmp(x.p->rules[f->rule].id, "noon") == 0)
			cr_assert(strstr(f->msg, "expires at 2025-06-10T12:00:00Z, in 9 days"),
				  "%s", f->msg);
		else
			cr_assert(strstr(f->msg, "expires at 2025-06-01T08:00:00Z, in 0 days"),
				  "%s", f->msg);
	}
	cr_assert_eq(n, 2, "%s", report_text(x.r));
	run_free(&x);
	free(pol);
}

Test(lint, risky_management_zones)
{
	struct run x;
	char *pol = with_rules(
	    "  - {id: web, from: [admin], to: [servers], services: [web, http, https, dns, "
	    "printing], action: accept}\n");
	/* Lines 1-15 of head stay; management goes in after version (line 2). */
	char *risky = NULL;
	cr_assert(asprintf(&risky, "version: 1\nmanagement: [mgmt, school, vpn-staff]\n%s",
			   pol + strlen("version: 1\n")) > 0);
	lint_run(&x, risky, NULL);
	cr_assert_eq(x.rc, 0, "%s", tu_diags(x.dl));
	size_t n = 0;
	for (size_t i = 0; i < x.r->n; i++) {
		const struct lint_finding *f = &x.r->v[i];
		if (f->kind != LINT_MGMT_RISK)
			continue;
		n++;
		cr_assert_eq(f->line, 2);
		const char *z = x.p->zones[f->zone].name;
		cr_assert(strcmp(z, "school") == 0 || strcmp(z, "vpn-staff") == 0, "%s",
			  report_text(x.r));
		cr_assert(strstr(f->msg, strcmp(z, "school") == 0 ? "looks like a school network"
								  : "is a VPN pool"),
			  "%s", f->msg);
	}
	cr_assert_eq(n, 2, "%s", report_text(x.r));
	cr_assert_eq(nfindings(x.r), 2, "%s", report_text(x.r));
	run_free(&x);
	free(risky);
	/* A management zone without hosts: the policy reader refuses it before lint
	 * runs (nothing would prevent a lockout). */
	cr_assert(asprintf(&risky, "version: 1\nmanagement: [ghost]\n%s",
			   pol + strlen("version: 1\n")) > 0);
	memcpy(strstr(risky, "  mgmt: Management"), "  ghost: Nothing!!", 18);
	lint_run(&x, risky, NULL);
	cr_assert_eq(x.rc, -EINVAL);
	cr_assert(tu_has_diag(x.dl,
			      "policy.yaml:2:14: error: management zone 'ghost' has no "
			      "addresses (no segment in segments.csv, no VPN pool in "
			      "addressplan.csv): it adds nothing to the anti-lockout accept, "
			      "and a bad ruleset can lock the engineers out of every gateway"),
		  "%s", tu_diags(x.dl));
	run_free(&x);
	free(risky);
	/* The default ([mgmt]) is fine. */
	lint_run(&x, pol, NULL);
	cr_assert_eq(x.r->n, 0, "%s", report_text(x.r));
	run_free(&x);
	free(pol);
}
