// SPDX-License-Identifier: MIT
/*
 * The HTML report: well-formed, escaped, self-contained; one marker per
 * site, one matrix cell per zone pair, one timeline row per planned year
 * (counted against the inventory, the policy and the plan, on a small city
 * and on the 850-site example); the zone matrix's verdicts on a policy whose
 * answers are known; the audit's denied-but-observed counts on the matrix;
 * atomic output.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile/compile.h"
#include "example/example.h"
#include "report/report.h"
#include "report/reportdata.h"
#include "report/zonematrix.h"
#include "tests/unit/testutil.h"
#include "vpn/vpn.h"

/* A city of five sites; the school's name needs every HTML escape. */
static const char districts[] = "name,lat,lon,radius_m\n"
				"Mitte,48.7758,9.1829,2000\n"
				"Möhringen,48.7250,9.1500,3000\n";
static const char sites[] =
    "id,name,district,type,lat,lon,staff,broadband,current_mbps,required_mbps,flags\n"
    "DC1,Rechenzentrum,Mitte,data_centre,48.7760,9.1830,12,fibre,10000,10000,primary\n"
    "S000001,Rathaus Möhringen,Möhringen,town_hall,48.7260,9.1510,120,fibre,1000,500,hub\n"
    "S000002,\"Grundschule \"\"Am Bach\"\" & Söhne <Nord>\",Mitte,school,48.7770,9.1800,40,dsl,"
    "16,100,\n"
    "S000003,Amt für Ämter,Mitte,office,48.7750,9.1850,30,none,0,100,\n"
    "S000004,Bücherei,Möhringen,library,48.7240,9.1530,8,fibre,1000,100,\n";
static const char links[] = "id,a,b,kind,capacity_mbps,length_m,cost_eur\n"
			    "L1,DC1,S000001,fibre,10000,7500,\n"
			    "L2,S000001,S000002,dsl,16,5800,\n"
			    "L3,DC1,S000003,radio,50,300,\n"
			    "L4,S000001,S000004,fibre,1000,300,\n"
			    "P1,DC1,S000002,planned,10000,400,120000\n";
static const char segments[] = "site,name,zone,vlan,ipv4,ipv6\n"
			       "DC1,servers,servers,20,10.32.0.0/24,fd5e:0:0:100::/64\n"
			       "DC1,mgmt,mgmt,99,10.48.0.0/24,fd5e:0:0:200::/64\n"
			       "S000001,admin,admin,10,10.0.0.0/25,fd5e::/64\n"
			       "S000001,servers,servers,20,10.32.1.0/24,fd5e:0:0:101::/64\n"
			       "S000002,school,school,60,10.64.0.0/24,fd5e:0:0:300::/64\n"
			       "S000002,admin,admin,10,10.0.2.0/25,\n"
			       "S000003,admin,admin,10,10.0.1.0/25,fd5e:0:0:1::/64\n"
			       "S000003,printers,printers,40,10.80.1.0/26,\n"
			       "S000003,voip,voip,30,10.16.1.0/26,\n"
			       "S000004,admin,admin,10,10.0.3.0/25,\n";
static const char plan[] = "zone,prefix\n"
			   "city,10.0.0.0/8\n"
			   "city,fd5e::/48\n"
			   "admin,10.0.0.0/16\n"
			   "admin,fd5e::/56\n"
			   "servers,10.32.0.0/16\n"
			   "servers,fd5e:0:0:100::/56\n"
			   "mgmt,10.48.0.0/16\n"
			   "mgmt,fd5e:0:0:200::/56\n"
			   "school,10.64.0.0/16\n"
			   "school,fd5e:0:0:300::/56\n"
			   "printers,10.80.0.0/16\n"
			   "voip,10.16.0.0/16\n"
			   "vpn-staff,10.200.0.0/16\n";
static const char rollout[] = "horizon_years: 3\n"
			      "start_year: 2026\n"
			      "budget:\n"
			      "  yearly_eur: 160000\n";
static const char policy[] = "version: 1\n"
			     "zones:\n"
			     "  admin: Administration\n"
			     "  servers: Servers\n"
			     "  school: Pupils\n"
			     "  mgmt: Management\n"
			     "  printers: Printers\n"
			     "  voip: Phones\n"
			     "services:\n"
			     "  web: {tcp: [80, 443]}\n"
			     "  ssh: {tcp: [22]}\n"
			     "rules:\n"
			     "  - id: mgmt-all\n"
			     "    from: [mgmt]\n"
			     "    to: any\n"
			     "    services: any\n"
			     "    action: accept\n"
			     "  - id: admin-web\n"
			     "    from: [admin]\n"
			     "    to: [servers]\n"
			     "    services: [web]\n"
			     "    action: accept\n"
			     "  - id: printers-web\n"
			     "    from: [printers]\n"
			     "    to: [voip]\n"
			     "    services: [web]\n"
			     "    action: accept\n"
			     "  - id: school-local\n"
			     "    from: [school]\n"
			     "    to: [admin]\n"
			     "    services: any\n"
			     "    scope: same-site\n"
			     "    action: accept\n";
static const char exception[] = "sites:\n"
				"  S000003:\n"
				"    rules:\n"
				"      - id: s3-ssh\n"
				"        from: [admin]\n"
				"        to: [servers]\n"
				"        services: [ssh]\n"
				"        action: accept\n";

#define DATE "2026-03-01"

/* Writes the city; the models only when asked for. */
static char *city(bool models, const char *policy_extra)
{
	char *dir = tu_tmpdir();
	cr_assert_not_null(dir);
	free(tu_write(dir, "districts.csv", districts));
	free(tu_write(dir, "sites.csv", sites));
	free(tu_write(dir, "links.csv", links));
	free(tu_write(dir, "segments.csv", segments));
	free(tu_write(dir, "addressplan.csv", plan));
	if (!models)
		return dir;
	free(tu_write(dir, "rollout.yaml", rollout));
	free(tu_write(dir, "vpn.yaml", vpn_example_yaml));
	char *pol = malloc(strlen(policy) + (policy_extra ? strlen(policy_extra) : 0) + 1);
	cr_assert_not_null(pol);
	strcpy(pol, policy);
	if (policy_extra)
		strcat(pol, policy_extra);
	free(tu_write(dir, "policy.yaml", pol));
	free(pol);
	return dir;
}

static struct report_data *load(const char *dir, const char *const *summaries, size_t n)
{
	struct diag_list *dl = diag_list_new();
	struct report_data *d = NULL;
	struct report_data_opts o = {.date = DATE, .summaries = summaries, .nsummaries = n};
	int r = report_data_load(dir, &o, dl, &d);
	cr_assert_eq(r, 0, "report_data_load: %d\n%s", r, tu_diags(dl));
	diag_list_free(dl);
	return d;
}

/* The report of in as a string (malloc'ed). */
static char *render(struct report_input *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	int r = report_write(in, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(r, 0, "report_write: %d", r);
	cr_assert_eq(strlen(buf), len, "no NUL byte inside the document");
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The number printed right after label (thousands separated by commas). */
static double number_after(const char *html, const char *label)
{
	const char *p = strstr(html, label);
	cr_assert_not_null(p, "%s", label);
	char digits[64];
	size_t n = 0;
	for (p += strlen(label); n + 1 < sizeof(digits) && strchr("0123456789.,-", *p); p++)
		if (*p != ',')
			digits[n++] = *p;
	digits[n] = '\0';
	cr_assert_gt(n, 0, "%s", label);
	return strtod(digits, NULL);
}

static bool is_void(const char *name, size_t n)
{
	static const char *const v[] = {"meta", "br", "input", "link", "img", "hr", "col", "wbr"};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strlen(v[i]) == n && strncmp(v[i], name, n) == 0)
			return true;
	return false;
}

/*
 * Every element is closed in the order it was opened (void and self-closed
 * elements aside); <style> and <script> are raw text to their end tag. Returns
 * NULL when well-formed, else a message (static).
 */
static const char *check_nesting(const char *html)
{
	static char msg[256];
	char stack[64][16];
	size_t depth = 0;
	bool root = false;
	for (const char *p = strchr(html, '<'); p; p = strchr(p, '<')) {
		if (strncmp(p, "<!--", 4) == 0) {
			const char *e = strstr(p, "-->");
			if (!e)
				return "comment without end";
			p = e + 3;
			continue;
		}
		if (p[1] == '!') {
			p = strchr(p, '>');
			if (!p)
				return "declaration without end";
			continue;
		}
		bool closing = p[1] == '/';
		const char *name = p + 1 + closing;
		size_t n =
		    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
		const char *end = strchr(name, '>');
		if (!n || !end || n >= sizeof(stack[0])) {
			snprintf(msg, sizeof(msg), "bad tag at: %.40s", p);
			return msg;
		}
		if (closing) {
			if (!depth || strlen(stack[depth - 1]) != n ||
			    strncmp(stack[depth - 1], name, n) != 0) {
				snprintf(msg, sizeof(msg), "</%.*s> closes <%s>", (int)n, name,
					 depth ? stack[depth - 1] : "nothing");
				return msg;
			}
			depth--;
		} else if (!is_void(name, n) && end[-1] != '/') {
			if (depth == sizeof(stack) / sizeof(stack[0]))
				return "too deep";
			root |= depth == 0 && n == 4 && strncmp(name, "html", 4) == 0;
			memcpy(stack[depth], name, n);
			stack[depth++][n] = '\0';
			if ((n == 5 && strncmp(name, "style", 5) == 0) ||
			    (n == 6 && strncmp(name, "script", 6) == 0)) {
				char close[16];
				snprintf(close, sizeof(close), "</%.*s>", (int)n, name);
				const char *at = strstr(end, close);
				if (!at)
					return "raw text element without end";
				end = at - 1;
			}
		}
		p = end + 1;
	}
	if (depth) {
		snprintf(msg, sizeof(msg), "<%s> never closed", stack[depth - 1]);
		return msg;
	}
	return root ? NULL : "no <html> root";
}

/* No resource outside the file: no URL scheme, no src, no href but fragments, no CSS url(). */
static void assert_self_contained(const char *html)
{
	cr_assert_null(strstr(html, "http://"));
	cr_assert_null(strstr(html, "https://"));
	cr_assert_null(strstr(html, "//cdn"));
	cr_assert_null(strstr(html, " src="));
	cr_assert_null(strstr(html, "url("));
	cr_assert_null(strstr(html, "@import"));
	cr_assert_eq(count(html, "href=\""), count(html, "href=\"#"));
}

Test(report, escapes_html_special_characters)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	report_html_text(f, "a<b>&\"c\" 'd' Ä");
	fclose(f);
	cr_assert_str_eq(buf, "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos; Ä");
	free(buf);
}

/* The nesting check the other tests rely on finds what it must. */
Test(report, nesting_check_finds_broken_documents)
{
	cr_assert_null(check_nesting("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
				     "<style>p>b{}</style></head><body><svg><rect/></svg>"
				     "<script>if(a<b){}</script></body></html>"));
	cr_assert_not_null(check_nesting("<html><body><div></body></html>"));
	cr_assert_not_null(check_nesting("<html><body><table><tr></table></body></html>"));
	cr_assert_not_null(check_nesting("<html><body>"));
	cr_assert_not_null(check_nesting("<html><style>p{}</html>"));
	cr_assert_not_null(check_nesting("<body></body>"));
}

Test(report, small_city_counts_escaping_and_shape)
{
	char *dir = city(true, NULL);
	struct report_data *d = load(dir, NULL, 0);
	struct report_input in = {.title = "Test & <Report>", .source = dir, .generated = DATE};
	report_data_input(d, &in);
	cr_assert_not_null(in.rollout);
	cr_assert_not_null(in.vpn);
	cr_assert_not_null(in.matrix);
	char *html = render(&in);
	const struct inventory *inv = topo_inventory(in.topo);

	const char *err = check_nesting(html);
	cr_assert_null(err, "%s", err);
	assert_self_contained(html);

	cr_assert_eq(count(html, " class=\"site bb-"), inv->nsites);
	for (size_t v = 0; v < inv->nsites; v++) {
		char want[64];
		snprintf(want, sizeof(want), "data-id=\"%s\"", inv->sites[v].id);
		cr_assert_eq(count(html, want), 1, "%s", want);
	}
	size_t nz = in.matrix->nzones;
	cr_assert_eq(count(html, "<td class=\"cell "), nz * nz);
	size_t shown = 0;
	for (size_t z = 0; z < in.policy->nzones; z++)
		shown += in.policy->zones[z].kind != POL_ZONE_DC;
	cr_assert_eq(nz, shown, "every zone but the dc overlay");
	cr_assert_eq(count(html, "<tr class=\"year\""), (size_t)in.rollout->city->inst->horizon);
	cr_assert_eq(count(html, "<tr class=\"vpnrow\""), VPN_STATE_COUNT * VPN_RESOURCE_COUNT);

	/* Every piece of text is escaped, wherever it appears. */
	cr_assert_gt(count(html, "Grundschule &quot;Am Bach&quot; &amp; Söhne &lt;Nord&gt;"), 0);
	cr_assert_null(strstr(html, "\"Am Bach\""));
	cr_assert_null(strstr(html, "<Nord>"));
	cr_assert_null(strstr(html, "<Report>"));
	cr_assert_gt(count(html, "Test &amp; &lt;Report&gt;"), 1, "title and heading");
	cr_assert_gt(count(html, "Amt für Ämter"), 0, "UTF-8 passes through");

	/* The planned site's year is on its marker; the DC is not part of the rollout. */
	int s2 = inventory_find_site(inv, "S000002");
	int node = in.rollout->city->site_node[s2];
	cr_assert_gt(node, 0);
	int y = in.rollout->plan->year[node];
	char want[64];
	if (y)
		snprintf(want, sizeof(want), "data-id=\"S000002\" data-y=\"%d\"", y);
	else
		snprintf(want, sizeof(want), "data-id=\"S000002\" data-y=\"n\"");
	cr_assert_eq(count(html, want), 1, "%s", want);
	cr_assert_eq(count(html, "data-id=\"DC1\" data-y=\"0\""), 1);

	/* The plan's figures as computed, each in its place. */
	double value = in.rollout->plan->value, bound = in.rollout->bound;
	cr_assert_gt(bound, value, "a real gap, so that a swapped number shows");
	cr_assert_float_eq(number_after(html, "Plan value "), value, 0.051);
	cr_assert_float_eq(number_after(html, "of the upper bound "), bound, 0.051);
	free(html);
	report_data_free(d);
	tu_rmdir(dir);
	free(dir);
}

Test(report, sections_without_models_say_so)
{
	char *dir = city(false, NULL);
	struct report_data *d = load(dir, NULL, 0);
	struct report_input in = {0};
	report_data_input(d, &in);
	cr_assert_null(in.rollout);
	cr_assert_null(in.vpn);
	cr_assert_null(in.policy);
	char *html = render(&in);
	const char *err = check_nesting(html);
	cr_assert_null(err, "%s", err);
	assert_self_contained(html);
	cr_assert_eq(count(html, " class=\"site bb-"), topo_inventory(in.topo)->nsites);
	cr_assert_eq(count(html, "<tr class=\"year\""), 0);
	cr_assert_eq(count(html, "<td class=\"cell "), 0);
	cr_assert_eq(count(html, "id=\"v-year\""), 0, "no rollout view without a plan");
	cr_assert_neq(strstr(html, "no rollout.yaml"), NULL);
	cr_assert_neq(strstr(html, "no vpn.yaml"), NULL);
	cr_assert_neq(strstr(html, "no policy.yaml"), NULL);
	free(html);
	report_data_free(d);
	tu_rmdir(dir);
	free(dir);
}

static enum zm_verdict verdict(const struct policy *p, const struct zm_matrix *m, const char *from,
			       const char *to)
{
	const struct zm_cell *c = zm_cell(m, policy_find_zone(p, from), policy_find_zone(p, to));
	cr_assert_not_null(c, "%s -> %s", from, to);
	return c->verdict;
}

Test(report, zone_matrix_verdicts)
{
	char *dir = city(true, NULL);
	struct report_data *d = load(dir, NULL, 0);
	struct report_input in = {0};
	report_data_input(d, &in);
	const struct policy *p = in.policy;
	const struct zm_matrix *m = in.matrix;
	cr_assert_eq(m->views, 1);
	cr_assert_eq(verdict(p, m, "mgmt", "admin"), ZM_ALLOWED);
	cr_assert_eq(verdict(p, m, "mgmt", "school"), ZM_ALLOWED);
	cr_assert_eq(verdict(p, m, "admin", "servers"), ZM_PARTLY);
	const struct zm_cell *one =
	    zm_cell(m, policy_find_zone(p, "printers"), policy_find_zone(p, "voip"));
	cr_assert_eq(one->atoms, 1, "IPv4 at one site only");
	cr_assert_eq(one->verdict, ZM_PARTLY, "a single atom that accepts some services");
	cr_assert_eq(verdict(p, m, "school", "admin"), ZM_SCOPED, "same-site only");
	cr_assert_eq(verdict(p, m, "admin", "school"), ZM_DENIED);
	cr_assert_eq(verdict(p, m, "servers", "admin"), ZM_DENIED);
	cr_assert_eq(verdict(p, m, "internet", "internet"), ZM_NEVER, "no gateway in between");
	const struct zm_cell *c =
	    zm_cell(m, policy_find_zone(p, "admin"), policy_find_zone(p, "servers"));
	cr_assert_eq(c->nrules, 1);
	cr_assert_eq(c->rules[0], policy_find_rule(p, "admin-web"));
	cr_assert_not(c->exceptions);
	cr_assert_null(zm_cell(m, policy_find_zone(p, "dc"), policy_find_zone(p, "admin")),
		       "the dc overlay is no row");
	report_data_free(d);
	tu_rmdir(dir);
	free(dir);

	/* A site exception makes the admin -> servers answer depend on the gateway. */
	dir = city(true, exception);
	d = load(dir, NULL, 0);
	report_data_input(d, &in);
	p = in.policy;
	m = in.matrix;
	cr_assert_eq(m->views, 2);
	c = zm_cell(m, policy_find_zone(p, "admin"), policy_find_zone(p, "servers"));
	cr_assert_eq(c->verdict, ZM_SCOPED);
	cr_assert(c->exceptions);
	cr_assert_eq(c->nrules, 2);
	cr_assert_eq(verdict(p, m, "admin", "school"), ZM_DENIED, "other cells keep theirs");
	char *html = render(&in);
	cr_assert_neq(strstr(html, "s3-ssh (ssh; site exception)"), NULL);
	free(html);
	report_data_free(d);
	tu_rmdir(dir);
	free(dir);
}

/* An agent summary of S000002 with the current policy hash and a denied admin -> school tuple. */
static char *summary(const char *dir, const char *name, unsigned long long flows)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct policy *p = NULL;
	struct pol_build *b = NULL;
	char path[4096];
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	cr_assert_eq(inventory_load(dir, dl, &inv), 0);
	cr_assert_eq(policy_load(path, NULL, inv, DATE, dl, &p), 0, "%s", tu_diags(dl));
	cr_assert_eq(pol_build_new(p, inv, &b), 0);
	char text[2048];
	snprintf(text, sizeof(text),
		 "{\"format\": 1, \"kind\": \"segplan-agent-summary\", \"host\": \"gw2\", "
		 "\"site\": \"S000002\", \"window\": {\"start\": \"2026-03-01T10:00:00Z\", "
		 "\"end\": \"2026-03-01T10:05:00Z\"}, \"policy\": {\"hash\": \"%s\", \"mode\": "
		 "\"enforce\"}, \"tuples\": [{\"src_zone\": \"admin\", \"dst_zone\": \"school\", "
		 "\"ip_version\": 4, \"proto\": 6, \"dst_port\": 445, \"verdict\": \"drop\", "
		 "\"passes\": false, \"by\": \"default\", \"rule\": null, \"flows\": %llu, "
		 "\"packets\": 20, \"bytes\": 1200}]}\n",
		 pol_build_hash(b), flows);
	pol_build_free(b);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
	return tu_write(dir, name, text);
}

Test(report, audit_findings_on_the_matrix)
{
	char *dir = city(true, NULL);
	char *s1 = summary(dir, "s1.json", 7);
	const char *files[] = {s1};
	struct report_data *d = load(dir, files, 1);
	struct report_input in = {0};
	report_data_input(d, &in);
	cr_assert_not_null(in.audit);
	cr_assert_eq(in.audit->nsummaries, 1);
	char *html = render(&in);
	const char *err = check_nesting(html);
	cr_assert_null(err, "%s", err);
	cr_assert_eq(count(html, "<b class=\"obs\">"), 1, "one cell with denials");
	const char *cell =
	    strstr(html, "<td class=\"cell c-denied obs\" data-from=\"admin\" data-to=\"school\"");
	cr_assert_not_null(cell);
	const char *cell_end = strstr(cell, "</td>");
	const char *mark = strstr(cell, "<b class=\"obs\">7</b>");
	cr_assert(mark && mark < cell_end, "the count is in the admin -> school cell");
	cr_assert_neq(strstr(cell, "tcp/445 7"), NULL);
	free(html);
	report_data_free(d);

	/* A malformed summary is a located error, and nothing is loaded. */
	char *bad = tu_write(dir, "bad.json", "{\"format\": 1,\n  \"kind\": 5}\n");
	const char *two[] = {s1, bad};
	struct diag_list *dl = diag_list_new();
	struct report_data_opts o = {.date = DATE, .summaries = two, .nsummaries = 2};
	d = NULL;
	cr_assert_eq(report_data_load(dir, &o, dl, &d), -EINVAL);
	cr_assert_null(d);
	cr_assert(tu_diag_contains(dl, "bad.json"), "%s", tu_diags(dl));
	diag_list_free(dl);

	/* Summaries need a policy to be held against. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	cr_assert_eq(unlink(path), 0);
	dl = diag_list_new();
	cr_assert_eq(report_data_load(dir, &o, dl, &d), -EINVAL);
	cr_assert(tu_diag_contains(dl, "no policy.yaml"), "%s", tu_diags(dl));
	diag_list_free(dl);
	free(s1);
	free(bad);
	tu_rmdir(dir);
	free(dir);
}

Test(report, written_atomically)
{
	char *dir = city(false, NULL);
	struct report_data *d = load(dir, NULL, 0);
	struct report_input in = {0};
	report_data_input(d, &in);
	char path[4096];
	snprintf(path, sizeof(path), "%s/out.html", dir);
	cr_assert_eq(report_write_file(&in, path), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_size, 1000);

	/* A report that cannot be made leaves the previous file alone and no temporary one. */
	struct report_input broken = in;
	broken.topo = NULL;
	cr_assert_eq(report_write_file(&broken, path), -EINVAL);
	struct stat st2;
	cr_assert_eq(stat(path, &st2), 0);
	cr_assert_eq(st2.st_size, st.st_size);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 6", dir);
	cr_assert_eq(tu_run(cmd), 0, "five inventory files and the report");

	snprintf(path, sizeof(path), "%s/missing/out.html", dir);
	cr_assert_lt(report_write_file(&in, path), 0);
	cr_assert_not(tu_file_exists(path));
	report_data_free(d);
	tu_rmdir(dir);
	free(dir);
}

Test(report, example_city, .timeout = 300)
{
	char *dir = tu_tmpdir();
	struct example_opts eo;
	example_opts_default(&eo);
	char city_dir[4096];
	snprintf(city_dir, sizeof(city_dir), "%s/city", dir);
	cr_assert_eq(example_generate(&eo, city_dir, NULL), 0);
	struct report_data *d = load(city_dir, NULL, 0);
	struct report_input in = {.source = "examples/stuttgart"};
	report_data_input(d, &in);
	char *html = render(&in);
	const struct inventory *inv = topo_inventory(in.topo);
	cr_assert_eq(inv->nsites, (size_t)eo.sites);
	cr_assert_eq(count(html, " class=\"site bb-"), inv->nsites);
	cr_assert_eq(count(html, "<td class=\"cell "), in.matrix->nzones * in.matrix->nzones);
	cr_assert_eq(count(html, "<tr class=\"year\""), (size_t)in.rollout->city->inst->horizon);
	cr_assert_eq(count(html, "class=\"spof-row\""), in.res->nspof < 10 ? in.res->nspof : 10);
	const char *err = check_nesting(html);
	cr_assert_null(err, "%s", err);
	assert_self_contained(html);
	cr_assert_lt(strlen(html), 2u << 20, "%zu bytes", strlen(html));
	free(html);
	report_data_free(d);
	tu_rmdir(dir);
	free(dir);
}
