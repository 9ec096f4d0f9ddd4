// SPDX-License-Identifier: MIT
/*
 * bench_lint: `segplan policy lint` and `segplan policy diff` on a stage-2
 * policy (objects, labels, site groups, except, a time window, a limit, a
 * gateway service, assertions) against the same commands on the zone-only
 * policy of the same city, in one run:
 *  - the example city (850 sites): its stage-2 policy
 *    (examples/stuttgart/policy-stage2.yaml, or the file given), else one
 *    generated from its inventory (hosts.csv, site types, districts);
 *  - a generated 10,000-site city with a stage-2 policy generated the same way.
 * lint: lint_policy; diff: diff_policies of the zone-only policy against the
 * stage-2 one (the baseline: the zone-only policy against itself). Prints the
 * classes, atoms, views, gateways, time-window regimes, the medians of 5 runs
 * and the ratios. The target: lint and diff of the stage-2 policy under
 * 2 s each. Usage: bench_lint [SRCDIR [STAGE2.yaml]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "analysis/diff.h"
#include "analysis/lint.h"
#include "inventory/inventory.h"
#include "policy/policy.h"

#define RUNS 5

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *s = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&s, &n);
	int c;
	while (m && (c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	if (!m || fclose(m) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The first segment of zone at site, or NULL. */
static const struct segment *segment_of(const struct inventory *inv, int site, const char *zone)
{
	for (size_t i = 0; i < inv->nsegments; i++)
		if (inv->segments[i].site == site && strcmp(inv->segments[i].zone, zone) == 0)
			return &inv->segments[i];
	return NULL;
}

/* Address `off` of a segment's IPv4 prefix (or IPv6 when it has none), as text. */
static void seg_addr(const struct segment *s, unsigned off, char *buf, size_t size)
{
	struct ip_addr a;
	ip_prefix_first(s->has_v4 ? &s->v4 : &s->v6, &a);
	ip_addr_add(&a, off);
	ip_addr_format(&a, buf, size);
}

/*
 * A stage-2 policy from a zone-only one and its inventory: objects of host
 * addresses (the data centres' core servers, a print server and a building
 * supervisor per district), site groups by type and district, label rules
 * for the applications of hosts.csv, an external network, a windowed and a
 * limited rule, a gateway service and assertions, all before the zone rules.
 */
static char *stage2_from(const char *base, const struct inventory *inv)
{
	const char *rules = strstr(base, "\nrules:\n");
	char *out = NULL;
	size_t len = 0;
	FILE *f = rules ? open_memstream(&out, &len) : NULL;
	if (!f)
		return NULL;
	fprintf(f, "%.*s\n", (int)(rules - base), base);
	fprintf(f, "objects:\n  dc-core: [");
	size_t n = 0;
	for (size_t s = 0; s < inv->nsites; s++) {
		const struct segment *sg = inv->sites[s].type == SITE_DATA_CENTRE
					       ? segment_of(inv, (int)s, "servers")
					       : NULL;
		for (unsigned k = 10; sg && k < 14; k++) {
			char a[64];
			seg_addr(sg, k, a, sizeof(a));
			fprintf(f, "%s\"%s\"", n++ ? ", " : "", a);
		}
	}
	fprintf(f, "]\n");
	for (size_t d = 0; d < inv->ndistricts; d++) {
		const struct segment *ps = NULL, *bs = NULL;
		for (size_t s = 0; s < inv->nsites && (!ps || !bs); s++) {
			if ((size_t)inv->sites[s].district != d ||
			    inv->sites[s].type == SITE_DATA_CENTRE)
				continue;
			if (!ps)
				ps = segment_of(inv, (int)s, "servers");
			if (!bs)
				bs = segment_of(inv, (int)s, "bms");
		}
		char a[64];
		if (ps) {
			seg_addr(ps, 10, a, sizeof(a));
			fprintf(f, "  print-d%zu: [\"%s\"]\n", d, a);
		}
		if (bs) {
			seg_addr(bs, 20, a, sizeof(a));
			fprintf(f, "  bms-sup-d%zu: [\"%s\"]\n", d, a);
		}
	}
	fprintf(f, "externals:\n  state-dc: {addresses: [100.70.0.0/16]}\n");
	fprintf(f, "site_groups:\n");
	bool type[SITE_TYPE_COUNT] = {false};
	for (size_t s = 0; s < inv->nsites; s++)
		type[inv->sites[s].type] = true;
	for (int t = 0; t < SITE_TYPE_COUNT; t++)
		if (type[t])
			fprintf(f, "  t-%s: {types: [%s]}\n", site_type_names[t],
				site_type_names[t]);
	for (size_t d = 0; d < inv->ndistricts; d++)
		fprintf(f, "  d%zu: {districts: [\"%s\"]}\n", d, inv->districts[d].name);
	fprintf(f, "rules:\n");
	fprintf(f, "  - {id: s2-dns, from: {except: [guest]}, to: dc-core, services: [dns, ntp], "
		   "action: accept}\n");
	fprintf(f, "  - {id: s2-ssh, from: admin, to: dc-core, services: [ssh], action: accept, "
		   "limit: {rate: 5/second}}\n");
	fprintf(f, "  - {id: s2-state, from: {zone: admin, sites: t-town_hall}, to: state-dc, "
		   "services: [web], action: accept}\n");
	fprintf(f, "  - id: s2-vendors\n    from: vpn-vendors\n    to: bms\n    services: [ssh]\n"
		   "    action: accept\n"
		   "    when: {days: mon-fri, hours: \"22:00-02:00\", timezone: Europe/Berlin}\n");
	for (size_t d = 0; d < inv->ndistricts; d++) {
		fprintf(f,
			"  - {id: s2-print-d%zu, from: {zone: admin, sites: d%zu}, to: print-d%zu, "
			"services: [printing], action: accept}\n",
			d, d, d);
		fprintf(f,
			"  - {id: s2-bms-d%zu, from: {zone: bms, sites: d%zu}, to: bms-sup-d%zu, "
			"services: [bacnet], action: accept}\n",
			d, d, d);
	}
	/* One label rule per application of hosts.csv. */
	char **apps = calloc(inv->nhosts + 1, sizeof(char *));
	size_t napps = 0;
	for (size_t h = 0; apps && h < inv->nhosts; h++)
		for (size_t k = 0; k < inv->hosts[h].nlabels; k++) {
			const struct host_label *l = &inv->hosts[h].labels[k];
			bool seen = strcmp(l->key, "app") != 0;
			for (size_t i = 0; i < napps && !seen; i++)
				seen = strcmp(apps[i], l->value) == 0;
			if (!seen)
				apps[napps++] = l->value;
		}
	for (size_t i = 0; i < napps; i++)
		fprintf(f,
			"  - {id: s2-app-%zu, from: admin, to: {app: %s}, services: [web], "
			"action: accept}\n",
			i, apps[i]);
	free(apps);
	fprintf(f, "%s", rules + strlen("\nrules:\n"));
	fprintf(f,
		"gateway:\n  - {id: s2-snmp, from: dc-core, services: [snmp], action: accept}\n");
	fprintf(f, "assertions:\n"
		   "  - {id: guest-never-mgmt, from: guest, to: mgmt, expect: deny}\n"
		   "  - {id: admin-dns, from: admin, to: dc-core, services: [dns], expect: allow}\n"
		   "  - {id: school-never-bms, from: school, to: bms, expect: deny}\n");
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static struct policy *load_text(const char *text, const char *name, const struct inventory *inv)
{
	struct diag_list *dl = diag_list_new();
	struct policy *p = NULL;
	int rc =
	    dl ? policy_load_buffer(text, strlen(text), name, inv, "2026-01-05", dl, &p) : -ENOMEM;
	if (rc < 0) {
		fprintf(stderr, "bench_lint: %s does not load:\n", name);
		diag_write(dl, stderr);
	}
	diag_list_free(dl);
	return rc < 0 ? NULL : p;
}

struct result {
	double t;
	size_t classes, atoms, views, gateways, regimes, findings, errors, changes;
};

static int time_lint(const struct policy *p, const struct inventory *inv, struct result *r)
{
	double v[RUNS];
	for (int i = 0; i < RUNS; i++) {
		struct diag_list *dl = diag_list_new();
		struct lint_report *lr = NULL;
		double t0 = bench_now();
		int rc = dl ? lint_policy(p, inv, NULL, dl, &lr) : -ENOMEM;
		v[i] = bench_now() - t0;
		if (rc == 0) {
			r->classes = lr->classes;
			r->atoms = lr->atoms;
			r->views = lr->views;
			r->gateways = lr->gateways;
			r->regimes = lr->regimes;
			r->findings = lr->n;
			r->errors = lr->errors;
		}
		lint_report_free(lr);
		diag_list_free(dl);
		if (rc < 0)
			return rc;
	}
	r->t = bench_median(v, RUNS);
	return 0;
}

static int time_diff(const struct policy *a, const struct policy *b, const struct inventory *inv,
		     struct result *r)
{
	double v[RUNS];
	for (int i = 0; i < RUNS; i++) {
		struct diff_report *d = NULL;
		double t0 = bench_now();
		int rc = diff_policies(a, inv, b, inv, &d);
		v[i] = bench_now() - t0;
		if (rc == 0) {
			r->classes = d->classes;
			r->atoms = d->atoms;
			r->views = d->nsites + 1;
			r->regimes = d->regimes;
			r->changes = diff_count(d);
		}
		diff_report_free(d);
		if (rc < 0)
			return rc;
	}
	r->t = bench_median(v, RUNS);
	return 0;
}

static int bench_city(const char *label, const char *dir, const char *stage2_file)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	char path[4096];
	int rc = dl ? inventory_load(dir, dl, &inv) : -ENOMEM;
	if (rc < 0) {
		diag_write(dl, stderr);
		diag_list_free(dl);
		return 1;
	}
	diag_list_free(dl);
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	char *t1 = slurp(path), *t2 = stage2_file ? slurp(stage2_file) : NULL;
	const char *what = stage2_file && t2 ? stage2_file : "generated from the inventory";
	if (t1 && !t2)
		t2 = stage2_from(t1, inv);
	struct policy *p1 = t1 ? load_text(t1, "policy.yaml", inv) : NULL;
	struct policy *p2 = t2 ? load_text(t2, "stage2.yaml", inv) : NULL;
	struct result l1 = {0}, l2 = {0}, d1 = {0}, d2 = {0};
	rc = 1;
	if (!p1 || !p2 || time_lint(p1, inv, &l1) < 0 || time_lint(p2, inv, &l2) < 0 ||
	    time_diff(p1, p1, inv, &d1) < 0 || time_diff(p1, p2, inv, &d2) < 0)
		goto out;
	printf("%s: %zu sites, %zu hosts; stage-2 policy %s: %zu rules, %zu terms, %zu "
	       "assertions\n",
	       label, inv->nsites, inv->nhosts, what, p2->nrules, p2->nterms, p2->nassertions);
	printf("    lint zone-only  %8.3f s   %5zu classes %8zu atoms %3zu views %5zu gateways\n",
	       l1.t, l1.classes, l1.atoms, l1.views, l1.gateways);
	printf("    lint stage-2    %8.3f s   %5zu classes %8zu atoms %3zu views %5zu gateways "
	       "%zu regimes   %.2fx   %zu findings (%zu failing assertions)\n",
	       l2.t, l2.classes, l2.atoms, l2.views, l2.gateways, l2.regimes, l2.t / l1.t,
	       l2.findings, l2.errors);
	printf("    diff zone-only  %8.3f s   %5zu classes %8zu atoms %3zu views (itself)\n", d1.t,
	       d1.classes, d1.atoms, d1.views);
	printf("    diff stage-2    %8.3f s   %5zu classes %8zu atoms %3zu views %zu regimes   "
	       "%.2fx   %zu differences (zone-only -> stage-2)\n",
	       d2.t, d2.classes, d2.atoms, d2.views, d2.regimes, d2.t / d1.t, d2.changes);
	printf("    target < 2 s each: %s\n", l2.t < 2 && d2.t < 2 ? "met" : "NOT MET");
	rc = 0;
out:
	policy_free(p1);
	policy_free(p2);
	free(t1);
	free(t2);
	inventory_free(inv);
	return rc;
}

int main(int argc, char **argv)
{
	const char *src = bench_src(argc, argv, 1);
	char ex[2048], s2[2100], tmpl[] = "/tmp/bench-lint-city.XXXXXX", path[4096];
	int rc = 0;
	snprintf(ex, sizeof(ex), "%s/examples/stuttgart", src);
	snprintf(s2, sizeof(s2), "%s/policy-stage2.yaml", ex);
	const char *file = argc > 2 ? argv[2] : s2;
	FILE *f = fopen(file, "r");
	bool have2 = f != NULL;
	if (f)
		fclose(f);
	printf("bench_lint: medians of %d runs\n", RUNS);
	snprintf(path, sizeof(path), "%s/sites.csv", ex);
	if ((f = fopen(path, "r"))) {
		fclose(f);
		rc |= bench_city("example city", ex, have2 ? file : NULL);
	} else {
		fprintf(stderr, "bench_lint: %s not found, skipping the example city\n", ex);
	}
	if (bench_city_generate(10000, tmpl) < 0)
		return 1;
	rc |= bench_city("generated city", tmpl, NULL);
	if (bench_city_remove(tmpl) < 0)
		rc = 1;
	return rc;
}
