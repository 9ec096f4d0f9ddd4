// SPDX-License-Identifier: MIT
/*
 * The policy compiler against its baseline, in one run: for the example city
 * (850 sites) and a generated 10,000-site city, each with the zone-only
 * policy (policy.yaml) and the stage-2 policy (policy-stage2.yaml, hosts,
 * labels, site groups, windows, limits, a gateway service),
 *  - load: the inventory and the policy (what every command pays);
 *  - compile: every gateway's table, nftables text and policy.json, in memory;
 *  - write: the same through pol_compile to a directory (atomic, fsync'ed
 *    files), once per policy, for 850 sites only;
 * medians of RUNS runs (the two policies alternate within each run, so that
 * both see the same load), the ratio stage 2 / zone-only as the gate, and
 * per gateway: output size, nft rules, set elements.
 * usage: bench_compile [SRCDIR]   (SRCDIR defaults to $SEGPLAN_SRC or ".")
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "compile/compile.h"
#include "inventory/inventory.h"
#include "policy/policy.h"

#define RUNS 5
#define DAY  "2026-12-07"

enum { ZONE, STAGE2, NPOL };
static const char *const pol_file[NPOL] = {"policy.yaml", "policy-stage2.yaml"};
static const char *const pol_name[NPOL] = {"zone-only", "stage 2"};

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

struct load {
	struct inventory *inv;
	struct policy *p;
};

static int load(const char *dir, const char *file, struct load *l)
{
	struct diag_list *dl = diag_list_new();
	char path[4096];
	int rc = inventory_load(dir, dl, &l->inv);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		rc = policy_load(path, NULL, l->inv, DAY, dl, &l->p);
	}
	if (rc < 0) {
		diag_write(dl, stderr);
		inventory_free(l->inv);
		l->inv = NULL;
	}
	diag_list_free(dl);
	return rc;
}

static void unload(struct load *l)
{
	policy_free(l->p);
	inventory_free(l->inv);
	memset(l, 0, sizeof(*l));
}

struct per_gw {
	size_t *bytes, *rules, *elements;
};

/* Every gateway in memory; fills per-gateway numbers when g is given. */
static int compile_all(const struct load *l, struct per_gw *g)
{
	struct pol_build *b;
	int rc = pol_build_new(l->p, l->inv, &b);
	for (size_t s = 0; rc == 0 && s < l->inv->nsites; s++) {
		struct pol_table *t;
		char *text = NULL, *js = NULL;
		size_t len;
		struct pol_nft_stats st;
		rc = pol_build_gateway(b, (int)s, POL_MODE_ENFORCE, &t);
		if (rc == 0)
			rc = pol_nft_render(b, t, (int)s, &text, &len, &st);
		if (rc == 0) {
			json_t *j = pol_table_to_json(t);
			js = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
			json_decref(j);
			rc = js ? 0 : -ENOMEM;
		}
		if (rc == 0 && g) {
			g->bytes[s] = len + strlen(js) + 1;
			g->rules[s] = st.rules;
			g->elements[s] = st.elements;
		}
		free(text);
		free(js);
		pol_table_free(t);
	}
	pol_build_free(b);
	return rc;
}

/* Median and maximum of v (sorted here). */
static void spread(size_t *v, size_t n, size_t *med, size_t *max)
{
	qsort(v, n, sizeof(*v), cmp_size);
	*med = v[n / 2];
	*max = v[n - 1];
}

static int write_files(const struct load *l, double *secs, size_t *files)
{
	char tmpl[] = "/tmp/bench-compile.XXXXXX", cmd[256];
	if (!mkdtemp(tmpl))
		return -errno;
	struct pol_compile_opts o = {.mode = POL_MODE_ENFORCE};
	struct pol_compile_stats st;
	double t0 = bench_now();
	int rc = pol_compile(l->p, l->inv, tmpl, &o, &st);
	*secs = bench_now() - t0;
	*files = 2 * st.gateways;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

static int bench_city(const char *label, const char *dir, bool write)
{
	double tl[NPOL][RUNS], tc[NPOL][RUNS];
	struct load l = {0};
	for (int r = 0; r < RUNS; r++)
		for (int k = 0; k < NPOL; k++) {
			double t0 = bench_now();
			if (load(dir, pol_file[k], &l) < 0)
				return 1;
			tl[k][r] = bench_now() - t0;
			t0 = bench_now();
			if (compile_all(&l, NULL) < 0)
				return 1;
			tc[k][r] = bench_now() - t0;
			unload(&l);
		}
	double ml[NPOL], mc[NPOL], tw[NPOL] = {0};
	size_t n = 0, segs = 0, nrules[NPOL], med[NPOL][3], max[NPOL][3], files = 0;
	double mb[NPOL];
	for (int k = 0; k < NPOL; k++) {
		if (load(dir, pol_file[k], &l) < 0)
			return 1;
		n = l.inv->nsites;
		segs = l.inv->nsegments;
		nrules[k] = l.p->nrules;
		struct per_gw g = {calloc(n, sizeof(size_t)), calloc(n, sizeof(size_t)),
				   calloc(n, sizeof(size_t))};
		if (!g.bytes || !g.rules || !g.elements || compile_all(&l, &g) < 0)
			return 1;
		size_t total = 0;
		for (size_t s = 0; s < n; s++)
			total += g.bytes[s];
		mb[k] = (double)total / 1e6;
		spread(g.bytes, n, &med[k][0], &max[k][0]);
		spread(g.rules, n, &med[k][1], &max[k][1]);
		spread(g.elements, n, &med[k][2], &max[k][2]);
		if (write && write_files(&l, &tw[k], &files) < 0)
			return 1;
		free(g.bytes);
		free(g.rules);
		free(g.elements);
		unload(&l);
		ml[k] = bench_median(tl[k], RUNS);
		mc[k] = bench_median(tc[k], RUNS);
	}
	printf("%s: %zu sites, %zu segments; policy rules: zone-only %zu, stage 2 %zu\n", label, n,
	       segs, nrules[ZONE], nrules[STAGE2]);
	printf("    %-26s %12s %18s %8s\n", "", pol_name[ZONE], pol_name[STAGE2], "ratio");
	printf("    %-26s %10.3f s %16.3f s %7.2fx\n", "load", ml[ZONE], ml[STAGE2],
	       ml[STAGE2] / ml[ZONE]);
	printf("    %-26s %10.3f s %16.3f s %7.2fx   <- gate\n", "compile all gateways", mc[ZONE],
	       mc[STAGE2], mc[STAGE2] / mc[ZONE]);
	printf("    %-26s %9.2f ms %15.2f ms\n", "per gateway", 1000 * mc[ZONE] / (double)n,
	       1000 * mc[STAGE2] / (double)n);
	printf("    %-26s %9.1f MB %15.1f MB %7.2fx\n", "output", mb[ZONE], mb[STAGE2],
	       mb[STAGE2] / mb[ZONE]);
	static const char *const what[3] = {"bytes per gateway", "nft rules per gateway",
					    "set elements per gateway"};
	for (int i = 0; i < 3; i++)
		printf("    %-26s %7zu / %-8zu %7zu / %-8zu (median / max)\n", what[i],
		       med[ZONE][i], max[ZONE][i], med[STAGE2][i], max[STAGE2][i]);
	if (write)
		printf("    %-26s %10.3f s %16.3f s %7.2fx   (%zu files each, fsync'ed)\n",
		       "compile + write files", tw[ZONE], tw[STAGE2], tw[STAGE2] / tw[ZONE], files);
	printf("    gate: stage-2 compile / zone-only compile = %.2f\n", mc[STAGE2] / mc[ZONE]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *src = bench_src(argc, argv, 1);
	char ex[2048], tmpl[] = "/tmp/bench-compile-city.XXXXXX", path[4096];
	int rc = 0;
	snprintf(ex, sizeof(ex), "%s/examples/stuttgart", src);
	printf("bench_compile: medians of %d runs, expiry judged on %s\n", RUNS, DAY);
	snprintf(path, sizeof(path), "%s/policy-stage2.yaml", ex);
	FILE *f = fopen(path, "r");
	if (f) {
		fclose(f);
		rc |= bench_city("example city", ex, true);
	} else {
		fprintf(stderr, "bench_compile: %s not found, skipping the example city\n", path);
	}
	/* example_generate writes both policies, the stage-2 one for this city's vendors. */
	if (bench_city_generate(10000, tmpl) < 0)
		return 1;
	rc |= bench_city("generated city", tmpl, false);
	if (bench_city_remove(tmpl) < 0)
		rc = 1;
	return rc;
}
