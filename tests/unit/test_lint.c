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

/* ------------------------------------------------------------------ */
/* Stage 2: objects, labels, site groups, except, windows, assertions */

#include <inttypes.h>

#include "compile/compile.h"
#include "core/proto.h"
#include "eval/eval.h"

/* The stage-2 fixture's inventory (hosts.csv, interfaces.csv) with a policy of the test's. */
static void s2_run(struct run *x, const char *policy_text)
{
	memset(x, 0, sizeof(*x));
	x->dir = tu_copy_dir("tests/e2e/fixtures/stage2", "policy.yaml");
	char *path = tu_write(x->dir, "policy.yaml", policy_text);
	x->dl = diag_list_new();
	struct diag_list *idl = diag_list_new();
	cr_assert_eq(inventory_load(x->dir, idl, &x->inv), 0, "%s", tu_diags(idl));
	diag_list_free(idl);
	/* A Monday: the vendors' window (mon-fri 22:00-02:00 Berlin) opens that evening. */
	x->rc = policy_load(path, "policy.yaml", x->inv, "2026-12-07", x->dl, &x->p);
	cr_assert_eq(x->rc, 0, "%s", tu_diags(x->dl));
	struct ydoc *doc = NULL;
	struct diag_list *ydl = diag_list_new();
	cr_assert_eq(ydoc_load(path, "policy.yaml", ydl, &doc), 0);
	cr_assert_eq(lint_policy(x->p, x->inv, doc, x->dl, &x->r), 0);
	ydoc_free(doc);
	diag_list_free(ydl);
	free(path);
}

/* Lines 1-25; rules from line 26 on. */
static const char s2_head[] = "version: 1\n"
			      "management: [mgmt]\n"
			      "datacentre:\n"
			      "  sites: [DC1]\n"
			      "services:\n"
			      "  dns: {udp: [53], tcp: [53]}\n"
			      "  web: {tcp: [80, 443]}\n"
			      "  ssh: {tcp: [22]}\n"
			      "  sql: {tcp: [5432]}\n"
			      "  snmp: {udp: [161]}\n"
			      "objects:\n"
			      "  resolvers: [dc-dns1, dc-dns2]\n"
			      "  core: {objects: [resolvers], addresses: [10.99.8.123]}\n"
			      "  spare: [10.99.1.77]\n"
			      "  wide: [10.99.0.0/20]\n"
			      "  edge: [10.99.127.0/24, 10.99.128.0/24]\n"
			      "externals:\n"
			      "  state-dc: {addresses: [100.70.0.0/16]}\n"
			      "  partner: {addresses: [100.71.0.0/16]}\n"
			      "site_groups:\n"
			      "  mitte: {districts: [Mitte]}\n"
			      "  townhalls: {types: [town_hall]}\n"
			      "  pilot: [S1]\n"
			      "  unused-group: [S3]\n"
			      "rules:\n";

static char *s2_policy(const char *rules, const char *tail)
{
	char *s = NULL;
	cr_assert(asprintf(&s, "%s%s%s", s2_head, rules, tail ? tail : "") > 0);
	return s;
}

static const struct lint_finding *finding_of(const struct lint_report *r, const struct policy *p,
					     enum lint_kind k, const char *rule)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == k && r->v[i].rule >= 0 &&
		    strcmp(p->rules[r->v[i].rule].id, rule) == 0)
			return &r->v[i];
	return NULL;
}

Test(lint_stage2, shadowed_through_objects_and_labels)
{
	struct run x;
	char *pol = s2_policy("  - {id: web-all, from: admin, to: servers, services: [web], action: accept}\n"
			      "  - {id: pay-web, from: admin, to: {app: payroll, role: web}, services: [web], action: accept}\n"
			      "  - {id: dns-core, from: admin, to: core, services: [dns], action: accept}\n"
			      "  - {id: dns-res, from: admin, to: resolvers, services: [dns], action: accept}\n"
			      "  - {id: res-then, from: admin, to: dc-dns1, services: [dns], action: drop}\n",
			      "  - {id: use, from: [state-dc, partner], to: {sites: [pilot, mitte, townhalls, unused-group]}, services: [web], action: drop}\n");
	s2_run(&x, pol);
	const struct lint_finding *f = finding_of(x.r, x.p, LINT_SHADOWED, "pay-web");
	cr_assert_not_null(f, "%s", report_text(x.r));
	cr_assert(names_rule(x.p, f, "web-all"), "%s", f->msg);
	/* resolvers lie inside core: the rule naming them decides nothing. */
	f = finding_of(x.r, x.p, LINT_SHADOWED, "dns-res");
	cr_assert_not_null(f, "%s", report_text(x.r));
	cr_assert(names_rule(x.p, f, "dns-core"), "%s", f->msg);
	/* One host of the resolvers, with the opposite action: shadowed too, not an overlap only. */
	cr_assert_not_null(finding_of(x.r, x.p, LINT_SHADOWED, "res-then"), "%s", report_text(x.r));
	cr_assert_null(finding_of(x.r, x.p, LINT_SHADOWED, "web-all"));
	cr_assert_null(finding_of(x.r, x.p, LINT_SHADOWED, "dns-core"));
	run_free(&x);
	free(pol);
}

Test(lint_stage2, except_and_site_groups)
{
	struct run x;
	char *pol = s2_policy(
	    "  - {id: not-guest, from: {except: [guest]}, to: core, services: [dns], action: accept}\n"
	    "  - {id: guest-dns, from: guest, to: core, services: [dns], action: drop}\n"
	    "  - {id: admin-dns, from: admin, to: core, services: [dns], action: accept}\n"
	    "  - {id: mitte-web, from: {zone: admin, sites: mitte}, to: servers, services: [web], action: accept}\n"
	    "  - {id: admin-web, from: admin, to: servers, services: [web], action: accept}\n"
	    "  - {id: pilot-web, from: {zone: admin, sites: pilot}, to: servers, services: [web], action: accept}\n",
	    "  - {id: use, from: [state-dc, partner, spare, wide, edge], to: {sites: [townhalls, unused-group]}, services: [web], action: drop}\n");
	s2_run(&x, pol);
	/* guest is excepted from the first rule: the drop decides its queries. */
	cr_assert_null(finding_of(x.r, x.p, LINT_SHADOWED, "guest-dns"), "%s", report_text(x.r));
	const struct lint_finding *f = finding_of(x.r, x.p, LINT_SHADOWED, "admin-dns");
	cr_assert_not_null(f, "%s", report_text(x.r));
	cr_assert(names_rule(x.p, f, "not-guest"));
	/* Admin at S3 (Nord) is not in mitte: the city-wide rule still decides it. */
	cr_assert_null(finding_of(x.r, x.p, LINT_SHADOWED, "admin-web"), "%s", report_text(x.r));
	/* mitte-web is redundant next to admin-web: pilot-web is named shadowed by the one that
	 * stays. */
	cr_assert_not_null(finding_of(x.r, x.p, LINT_REDUNDANT, "mitte-web"), "%s", report_text(x.r));
	f = finding_of(x.r, x.p, LINT_SHADOWED, "pilot-web");
	cr_assert_not_null(f, "%s", report_text(x.r));
	cr_assert(names_rule(x.p, f, "admin-web"), "%s", f->msg);
	run_free(&x);
	free(pol);
}

Test(lint_stage2, windowed_rules_never_shadow)
{
	struct run x;
	char *pol = s2_policy(
	    "  - id: maint\n"
	    "    from: vpn-vendors\n"
	    "    to: bms\n"
	    "    services: [ssh]\n"
	    "    action: accept\n"
	    "    when: {days: mon-fri, hours: \"22:00-02:00\", timezone: Europe/Berlin}\n"
	    "  - {id: vendors-no, from: vpn-vendors, to: bms, services: [ssh], action: drop, log: true}\n"
	    "  - {id: vendors-no2, from: vpn-vendors, to: bms, services: [ssh], action: drop, log: true}\n"
	    "  - {id: admin-ssh, from: admin, to: servers, services: [ssh], action: accept}\n"
	    "  - id: admin-ssh-night\n"
	    "    from: admin\n"
	    "    to: servers\n"
	    "    services: [ssh]\n"
	    "    action: drop\n"
	    "    when: {days: daily, hours: \"01:00-02:00\", timezone: UTC}\n",
	    "  - {id: use, from: [state-dc, partner, spare, wide, edge], to: {sites: [mitte, townhalls, pilot, unused-group]}, services: [web], action: drop}\n");
	s2_run(&x, pol);
	/* The drop decides while the window is shut: not shadowed. */
	cr_assert_null(finding_of(x.r, x.p, LINT_SHADOWED, "vendors-no"), "%s", report_text(x.r));
	/* Its copy is shadowed, by the copy (unwindowed), never by the windowed rule. */
	const struct lint_finding *f = finding_of(x.r, x.p, LINT_SHADOWED, "vendors-no2");
	cr_assert_not_null(f, "%s", report_text(x.r));
	cr_assert(names_rule(x.p, f, "vendors-no") && !names_rule(x.p, f, "maint"), "%s", f->msg);
	/* A windowed rule after one that takes everything it matches is shadowed. */
	f = finding_of(x.r, x.p, LINT_SHADOWED, "admin-ssh-night");
	cr_assert_not_null(f, "%s", report_text(x.r));
	cr_assert_null(finding_of(x.r, x.p, LINT_SHADOWED, "maint"));
	/* The windowed accept is not redundant: the drop after it decides otherwise. */
	cr_assert_null(finding_of(x.r, x.p, LINT_REDUNDANT, "maint"), "%s", report_text(x.r));
	run_free(&x);
	free(pol);
}

Test(lint_stage2, unused_and_overlapping_objects_and_empty_terms)
{
	struct run x;
	char *pol = s2_policy(
	    "  - {id: dns, from: admin, to: core, services: [dns], action: accept}\n"
	    "  - {id: nobody, from: {zone: guest, sites: [S2]}, to: servers, services: [web], action: accept}\n"
	    "  - {id: groups, from: {zone: admin, sites: [mitte, townhalls, pilot]}, to: state-dc, services: [web], action: accept}\n",
	    NULL);
	s2_run(&x, pol);
	const char *unused[] = {"spare", "wide", "edge", "partner"};
	for (size_t i = 0; i < 4; i++) {
		bool hit = false;
		for (size_t k = 0; k < x.r->n; k++)
			hit |= x.r->v[k].kind == LINT_UNUSED_OBJECT && x.r->v[k].object >= 0 &&
			       strcmp(x.p->objects[x.r->v[k].object].name, unused[i]) == 0;
		cr_assert(hit, "%s not reported unused:\n%s", unused[i], report_text(x.r));
	}
	/* resolvers are named only inside core, which a rule uses: used. */
	for (size_t k = 0; k < x.r->n; k++) {
		const struct lint_finding *f = &x.r->v[k];
		cr_assert(!(f->kind == LINT_UNUSED_OBJECT &&
			    (strcmp(x.p->objects[f->object].name, "resolvers") == 0 ||
			     strcmp(x.p->objects[f->object].name, "core") == 0 ||
			     strcmp(x.p->objects[f->object].name, "state-dc") == 0)),
			  "%s", f->msg);
	}
	const struct lint_finding *g = only(x.r, LINT_UNUSED_GROUP);
	cr_assert_str_eq(x.p->groups[g->group].name, "unused-group");
	/* wide spans admin, servers and unassigned; edge crosses the city's edge. */
	size_t over = 0;
	for (size_t k = 0; k < x.r->n; k++) {
		const struct lint_finding *f = &x.r->v[k];
		if (f->kind != LINT_OBJECT_OVERLAP)
			continue;
		over++;
		const char *n = x.p->objects[f->object].name;
		cr_assert(strcmp(n, "wide") == 0 || strcmp(n, "edge") == 0, "%s", f->msg);
		if (strcmp(n, "wide") == 0)
			cr_assert(strstr(f->msg, "admin") && strstr(f->msg, "servers") &&
				      strstr(f->msg, "unassigned"),
				  "%s", f->msg);
		else
			cr_assert(strstr(f->msg, "partly inside the city plan"), "%s", f->msg);
	}
	cr_assert_eq(over, 2, "%s", report_text(x.r));
	const struct lint_finding *e = only(x.r, LINT_EMPTY_TERM);
	cr_assert_str_eq(x.p->rules[e->rule].id, "nobody");
	cr_assert(strstr(e->msg, "{zone: guest, sites: S2}"), "%s", e->msg);
	run_free(&x);
	free(pol);
}

/* Is address a on side sd of policy p (zones by the city table, terms by their addresses)? */
static bool on_side(const struct pol_build *b, const struct pol_table *city,
		    const struct policy *p, const struct pol_rside *sd, const struct ip_addr *a)
{
	struct pol_class c;
	pol_classify(city, a, &c);
	if (sd->any)
		return true;
	for (size_t i = 0; i < sd->nzones; i++) {
		const struct pol_zone *z = &p->zones[sd->zones[i]];
		if ((z->kind == POL_ZONE_DC && c.dc) ||
		    (c.zone >= 0 && strcmp(pol_table_zone_name(city, c.zone), z->name) == 0))
			return true;
	}
	for (size_t i = 0; i < sd->nterms; i++)
		if (pol_ranges_find(pol_build_term(b, sd->terms[i]), a))
			return true;
	return false;
}

/* The oracle: the flow of a failing assertion, judged by pol_decide at each gateway. */
static void check_flow(const struct run *x, const struct lint_finding *f)
{
	const struct lint_flow *fl = f->flow;
	const struct pol_assertion *as = &x->p->assertions[f->assertion];
	struct pol_build *b = NULL;
	struct pol_table *city = NULL;
	cr_assert_not_null(fl);
	cr_assert_eq(pol_build_new(x->p, x->inv, &b), 0);
	cr_assert_eq(pol_build_city(b, &city), 0);
	cr_assert(on_side(b, city, x->p, &as->from, &fl->src), "%s", f->msg);
	cr_assert(on_side(b, city, x->p, &as->to, &fl->dst), "%s", f->msg);
	struct pol_tuple t;
	memset(&t, 0, sizeof(t));
	t.src = fl->src;
	t.dst = fl->dst;
	t.proto = fl->proto;
	t.dport = fl->port >= 0 ? (uint16_t)fl->port : 0;
	t.icmp_type = fl->icmp_type;
	t.time = fl->time;
	if (!as->svc_any) {
		bool in = false;
		for (size_t i = 0; i < as->nservices; i++) {
			const struct pol_match *m = &x->p->services[as->services[i]].match;
			for (size_t k = 0; k < m->nports; k++)
				in |= m->ports[k].proto == t.proto && m->ports[k].lo <= t.dport &&
				      t.dport <= m->ports[k].hi;
		}
		cr_assert(in, "%s: the flow's service is not the assertion's", f->msg);
	}
	int judges[2], counted;
	size_t nj;
	pol_build_judges(b, &t.src, &t.dst, judges, &nj, &counted);
	cr_assert_eq(nj, fl->njudges, "%s", f->msg);
	bool all = true;
	for (size_t k = 0; k < nj; k++) {
		cr_assert_eq(judges[k], fl->judges[k], "%s", f->msg);
		struct pol_table *gt = NULL;
		struct pol_verdict v;
		cr_assert_eq(pol_build_gateway(b, judges[k], POL_MODE_ENFORCE, &gt), 0);
		cr_assert_eq(pol_decide(gt, &t, &v), 0);
		cr_assert(!v.to_gateway);
		all &= v.passes;
		cr_assert_eq(v.passes, fl->accepted[k], "%s at %s", f->msg,
			     x->inv->sites[judges[k]].id);
		if (fl->rules[k] >= 0)
			cr_assert_str_eq(pol_table_rule(gt, (size_t)v.rule)->id,
					 x->p->rules[fl->rules[k]].id);
		else
			cr_assert_eq(v.by, POL_BY_DEFAULT, "%s", f->msg);
		pol_table_free(gt);
	}
	if (as->allow)
		cr_assert(!all, "%s: every judge accepts", f->msg);
	else
		cr_assert(all, "%s: some judge drops", f->msg);
	pol_table_free(city);
	pol_build_free(b);
}

static const char s2_rules[] =
    "  - {id: mgmt-all, from: mgmt, to: any, services: any, action: accept}\n"
    "  - {id: dns, from: {except: [guest]}, to: core, services: [dns], action: accept}\n"
    "  - {id: payroll-web, from: admin, to: {app: payroll, role: web}, services: [web], action: accept}\n"
    "  - {id: payroll-db, from: {app: payroll, role: web}, to: {app: payroll, role: db}, services: [sql], action: accept}\n"
    "  - {id: state, from: {zone: admin, sites: mitte}, to: state-dc, services: [web], action: accept}\n"
    "  - {id: bms-sup, from: {zone: bms, sites: townhalls}, to: {role: bms-supervisor}, services: [web], scope: same-site, action: accept}\n"
    "  - {id: print, from: admin, to: {object: wide, except: [s1-print]}, services: [web], action: accept}\n"
    "  - id: ssh-limited\n"
    "    from: [admin]\n"
    "    to: [servers]\n"
    "    services: [ssh]\n"
    "    action: accept\n"
    "    limit: {rate: 5/second, burst: 5}\n"
    "  - id: maint\n"
    "    from: [vpn-vendors]\n"
    "    to: [bms]\n"
    "    services: [ssh]\n"
    "    action: accept\n"
    "    when: {days: mon-fri, hours: \"22:00-02:00\", timezone: Europe/Berlin}\n"
    "  - {id: school-no, from: school, to: any, services: any, action: reject}\n"
    "  - {id: voip-sd, from: voip, to: voip, services: any, scope: same-district, action: accept}\n"
    "sites:\n"
    "  S2:\n"
    "    rules:\n"
    "      - {id: s2-school-web, from: school, to: {app: payroll, role: web}, services: [web], action: accept}\n"
    "  S3:\n"
    "    rules:\n"
    "      - {id: s3-no-ssh, from: admin, to: servers, services: [ssh], action: drop}\n"
    "gateway:\n"
    "  - {id: snmp, from: {role: monitoring}, services: [snmp], action: accept, interfaces: [transfer]}\n";

Test(lint_stage2, assertions_hold_and_fail_with_a_real_flow)
{
	struct run x;
	char *pol = s2_policy(
	    s2_rules,
	    "assertions:\n"
	    "  - {id: guest-never-mgmt, from: guest, to: mgmt, expect: deny}\n"
	    "  - {id: admin-payroll, from: admin, to: {app: payroll, role: web}, services: [web], expect: allow}\n"
	    "  - {id: no-admin-ssh, from: admin, to: servers, services: [ssh], expect: deny}\n"
	    "  - {id: vendors-never-bms, from: vpn-vendors, to: bms, expect: deny}\n"
	    "  - {id: admin-db, from: admin, to: {app: payroll, role: db}, services: [sql], expect: allow}\n"
	    "  - {id: school-never-payroll, from: school, to: {app: payroll}, services: [web], expect: deny}\n"
	    "  - {id: web-db, from: {app: payroll, role: web}, to: {app: payroll, role: db}, services: [sql], expect: allow}\n"
	    "  - {id: voip-apart, from: voip, to: voip, services: [web], expect: deny}\n"
	    "  - {id: s3-admin-ssh, from: admin, to: servers, services: [ssh], expect: allow}\n");
	s2_run(&x, pol);
	/* school-never-payroll holds: S2's exception accepts, but DC1 judges the connection too
	 * and rejects it (school-no). */
	const char *fail[] = {"no-admin-ssh", "vendors-never-bms", "admin-db", "voip-apart",
			      "s3-admin-ssh"};
	size_t nfail = 0;
	for (size_t i = 0; i < x.r->n; i++) {
		const struct lint_finding *f = &x.r->v[i];
		if (f->kind != LINT_ASSERTION)
			continue;
		nfail++;
		cr_assert_eq(f->severity, DIAG_ERROR);
		const char *id = x.p->assertions[f->assertion].id;
		bool expected = false;
		for (size_t k = 0; k < sizeof(fail) / sizeof(fail[0]); k++)
			expected |= strcmp(fail[k], id) == 0;
		cr_assert(expected, "unexpected: %s", f->msg);
		check_flow(&x, f);
		if (strcmp(id, "vendors-never-bms") == 0) {
			/* Only in the window: the flow is timed inside it. */
			cr_assert_neq(f->flow->time, 0);
			cr_assert(strstr(f->msg, "maint"), "%s", f->msg);
		}
		if (strcmp(id, "s3-admin-ssh") == 0)
			cr_assert(strstr(f->msg, "s3-no-ssh"), "%s", f->msg);
	}
	cr_assert_eq(nfail, sizeof(fail) / sizeof(fail[0]), "%s", report_text(x.r));
	cr_assert_eq(x.r->errors, nfail);
	run_free(&x);
	free(pol);
}

/* A random address of the fixture: segments, hosts, pools, unassigned, outside. */
static void s2_addr(const struct inventory *inv, uint8_t fam, unsigned *seed, struct ip_addr *a)
{
	static const char *const v4[] = {"10.99.64.9", "10.99.65.7", "10.99.66.3", "10.99.100.1",
					 "100.70.1.10", "8.8.8.8", "172.16.5.5", "10.99.8.53",
					 "10.99.8.80", "10.99.8.81", "10.99.8.161", "10.99.9.10",
					 "10.99.41.10", "10.99.8.123"};
	static const char *const v6[] = {"fd99:0:64::9",   "fd99:0:66::3", "fd99:9::1",
					 "2001:db8::1",    "fd70::5",	   "fd99:0:1::53",
					 "fd99:0:1::80",   "fd99:0:1::81", "fd99:0:1::161",
					 "fd99:0:5:1::10", "fd42::1"};
	unsigned k = (unsigned)rand_r(seed) % 3;
	if (k == 0) {
		const char *s = fam == 4 ? v4[(unsigned)rand_r(seed) % (sizeof(v4) / sizeof(v4[0]))]
					 : v6[(unsigned)rand_r(seed) % (sizeof(v6) / sizeof(v6[0]))];
		cr_assert_eq(ip_addr_parse(s, a), 0);
		return;
	}
	for (;;) {
		const struct segment *sg = &inv->segments[(unsigned)rand_r(seed) % inv->nsegments];
		const struct ip_prefix *p = fam == 4 ? (sg->has_v4 ? &sg->v4 : NULL)
						     : (sg->has_v6 ? &sg->v6 : NULL);
		if (!p)
			continue;
		ip_prefix_first(p, a);
		/* The first addresses (hosts live low in the fixture) or any. */
		unsigned off = (unsigned)rand_r(seed) % 2 ? (unsigned)rand_r(seed) % 16
							   : (unsigned)rand_r(seed) % 256;
		a->b[fam == 4 ? 3 : 15] = (uint8_t)off;
		return;
	}
}

Test(lint_stage2, model_verdicts_equal_the_evaluator, .timeout = 300)
{
	struct run x;
	char *pol = s2_policy(s2_rules, NULL);
	s2_run(&x, pol);
	const struct policy *pols[1] = {x.p};
	const struct inventory *invs[1] = {x.inv};
	struct lint_space *s = NULL;
	struct pol_build *b = NULL;
	struct pol_table *city = NULL, **gt = calloc(x.inv->nsites, sizeof(*gt));
	struct lint_model **m = calloc(x.inv->nsites, sizeof(*m));
	cr_assert_eq(lint_space_new(pols, invs, 1, &s), 0);
	cr_assert_eq(pol_build_new(x.p, x.inv, &b), 0);
	cr_assert_eq(pol_build_city(b, &city), 0);
	for (size_t g = 0; g < x.inv->nsites; g++) {
		bool exc = false;
		for (size_t i = 0; i < x.p->nrules; i++)
			exc |= x.p->rules[i].site == (int)g;
		cr_assert_eq(pol_build_gateway(b, (int)g, POL_MODE_ENFORCE, &gt[g]), 0);
		cr_assert_eq(lint_model_new(s, 0, exc ? (int)g : -1, &m[g]), 0);
	}
	/* Times: none (every window open), and around the vendors' window. */
	const int64_t times[] = {0, x.p->now + 12 * 3600, x.p->now + 21 * 3600 + 30 * 60,
				 x.p->now + 5 * 86400 + 22 * 3600};
	unsigned seed = 12;
	size_t judged = 0, by_rule = 0, cases = 0;
	for (; cases < 2000; cases++) {
		struct pol_tuple t;
		memset(&t, 0, sizeof(t));
		uint8_t fam = rand_r(&seed) % 2 ? 4 : 6;
		s2_addr(x.inv, fam, &seed, &t.src);
		s2_addr(x.inv, fam, &seed, &t.dst);
		static const uint8_t protos[] = {6, 6, 6, 17, 17, 1, 58, 47};
		t.proto = protos[(unsigned)rand_r(&seed) % sizeof(protos)];
		static const uint16_t ports[] = {22, 53, 80, 443, 161, 5432, 8080, 9100};
		t.dport = ports[(unsigned)rand_r(&seed) % (sizeof(ports) / sizeof(ports[0]))];
		t.icmp_type = t.proto == 1 || t.proto == 58 ? (int)((unsigned)rand_r(&seed) % 256) : -1;
		if (t.proto == 1 || t.proto == 58)
			t.proto = fam == 4 ? 1 : 58;
		t.time = times[(unsigned)rand_r(&seed) % 4];
		int judges[2], counted;
		size_t nj;
		pol_build_judges(b, &t.src, &t.dst, judges, &nj, &counted);
		int from = lint_space_endpoint(s, 0, &t.src), to = lint_space_endpoint(s, 0, &t.dst);
		struct pol_class cs, cd;
		pol_classify(city, &t.src, &cs);
		pol_classify(city, &t.dst, &cd);
		for (size_t k = 0; k < nj; k++) {
			int g = judges[k];
			struct pol_verdict v;
			cr_assert_eq(pol_decide(gt[g], &t, &v), 0);
			/* The gateways' own addresses are the input chain's. */
			if (v.to_gateway || from < 0 || to < 0)
				continue;
			int dist = x.inv->sites[g].district;
			bool sd = cs.site >= 0 && x.inv->sites[cs.site].district == dist;
			bool dd = cd.site >= 0 && x.inv->sites[cd.site].district == dist;
			enum lint_rel rel = cs.site == g && cd.site == g ? LINT_REL_SITE
					    : sd && dd		       ? LINT_REL_DISTRICT
								       : LINT_REL_ELSEWHERE;
			unsigned pv = proto_has_ports(t.proto) ? t.dport
				      : t.icmp_type >= 0       ? (unsigned)t.icmp_type
							       : 0;
			lint_model_set_time(m[g], t.time);
			int r = lint_model_verdict(m[g], lint_atom_index(s, fam, from, to, rel),
						   lint_svc_point(t.proto, pv));
			char a1[64], a2[64];
			ip_addr_format(&t.src, a1, sizeof(a1));
			ip_addr_format(&t.dst, a2, sizeof(a2));
			judged++;
			if (v.by == POL_BY_INVALID) {
				cr_assert_eq(r, -2, "%s -> %s proto %u type %d", a1, a2, t.proto,
					     t.icmp_type);
			} else if (v.by == POL_BY_DEFAULT) {
				cr_assert_eq(r, -1, "%s -> %s proto %u port %u at %s, t=%" PRId64
						    ": model says rule '%s', evaluator the default",
					     a1, a2, t.proto, t.dport, x.inv->sites[g].id, t.time,
					     r >= 0 ? x.p->rules[lint_model_rule(m[g], (size_t)r)].id
						    : "-");
			} else {
				cr_assert_eq(v.by, POL_BY_RULE);
				by_rule++;
				cr_assert_geq(r, 0, "%s -> %s proto %u port %u at %s: evaluator rule %s",
					      a1, a2, t.proto, t.dport, x.inv->sites[g].id,
					      pol_table_rule(gt[g], (size_t)v.rule)->id);
				cr_assert_str_eq(x.p->rules[lint_model_rule(m[g], (size_t)r)].id,
						 pol_table_rule(gt[g], (size_t)v.rule)->id,
						 "%s -> %s proto %u port %u at %s", a1, a2, t.proto,
						 t.dport, x.inv->sites[g].id);
			}
		}
	}
	cr_log_info("%zu tuples, %zu judged, %zu decided by a rule", cases, judged, by_rule);
	cr_assert_gt(judged, 1000);
	cr_assert_gt(by_rule, 100);
	for (size_t g = 0; g < x.inv->nsites; g++) {
		pol_table_free(gt[g]);
		lint_model_free(m[g]);
	}
	free(gt);
	free(m);
	pol_table_free(city);
	pol_build_free(b);
	lint_space_free(s);
	run_free(&x);
	free(pol);
}
