// SPDX-License-Identifier: MIT
/*
 * The policy compiler against its baseline, in one run: for the example city
 * (850 sites) and a generated 10,000-site city with the example policy,
 *  - baseline: loading the inventory and the policy (what every command pays);
 *  - compile: every gateway's table, nftables text and policy.json, in memory;
 *  - write: the same through pol_compile to a directory (atomic, fsync'ed
 *    files), once, for 850 sites only;
 * medians of several runs, and per gateway: output size, rules, set elements.
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

#define RUNS 3

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

struct load {
	struct inventory *inv;
	struct policy *p;
};

static int load(const char *dir, struct load *l)
{
	struct diag_list *dl = diag_list_new();
	char path[4096];
	int rc = inventory_load(dir, dl, &l->inv);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/policy.yaml", dir);
		rc = policy_load(path, NULL, l->inv, "2026-01-01", dl, &l->p);
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

static void spread(const char *what, size_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_size);
	printf("    %-22s median %8zu   max %8zu\n", what, v[n / 2], v[n - 1]);
}

static int bench_city(const char *label, const char *dir, bool write)
{
	double tl[RUNS], tc[RUNS];
	struct load l = {0};
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now();
		if (load(dir, &l) < 0)
			return 1;
		tl[r] = bench_now() - t0;
		t0 = bench_now();
		if (compile_all(&l, NULL) < 0)
			return 1;
		tc[r] = bench_now() - t0;
		if (r + 1 < RUNS)
			unload(&l);
	}
	size_t n = l.inv->nsites;
	struct per_gw g = {calloc(n, sizeof(size_t)), calloc(n, sizeof(size_t)),
			   calloc(n, sizeof(size_t))};
	if (!g.bytes || !g.rules || !g.elements || compile_all(&l, &g) < 0)
		return 1;
	double ml = bench_median(tl, RUNS), mc = bench_median(tc, RUNS);
	size_t total = 0;
	for (size_t s = 0; s < n; s++)
		total += g.bytes[s];
	printf("%s: %zu sites, %zu segments, %zu policy rules\n", label, n, l.inv->nsegments,
	       l.p->nrules);
	printf("    load (baseline)        %8.3f s\n", ml);
	printf("    compile all gateways   %8.3f s   %.2fx load   %.2f ms per gateway\n", mc,
	       mc / ml, 1000 * mc / (double)n);
	printf("    output                 %8.1f MB\n", (double)total / 1e6);
	spread("bytes per gateway", g.bytes, n);
	spread("nft rules per gateway", g.rules, n);
	spread("set elements per gw", g.elements, n);
	if (write) {
		char tmpl[] = "/tmp/bench-compile.XXXXXX";
		if (!mkdtemp(tmpl))
			return 1;
		struct pol_compile_opts o = {.mode = POL_MODE_ENFORCE};
		struct pol_compile_stats st;
		double t0 = bench_now();
		int rc = pol_compile(l.p, l.inv, tmpl, &o, &st);
		double tw = bench_now() - t0;
		printf("    compile + write files  %8.3f s   (%zu files, each fsync'ed)\n", tw,
		       2 * st.gateways);
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0 || rc < 0)
			return 1;
	}
	free(g.bytes);
	free(g.rules);
	free(g.elements);
	unload(&l);
	return 0;
}

int main(int argc, char **argv)
{
	const char *src = bench_src(argc, argv, 1);
	char ex[2048], tmpl[] = "/tmp/bench-compile-city.XXXXXX", path[4096];
	int rc = 0;
	snprintf(ex, sizeof(ex), "%s/examples/stuttgart", src);
	printf("bench_compile: medians of %d runs\n", RUNS);
	snprintf(path, sizeof(path), "%s/sites.csv", ex);
	FILE *f = fopen(path, "r");
	if (f) {
		fclose(f);
		rc |= bench_city("example city", ex, true);
	} else {
		fprintf(stderr, "bench_compile: %s not found, skipping the example city\n", ex);
	}
	if (bench_city_generate(10000, tmpl) < 0)
		return 1;
	rc |= bench_city("generated city", tmpl, false);
	if (bench_city_remove(tmpl) < 0)
		rc = 1;
	return rc;
}
