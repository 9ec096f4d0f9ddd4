// SPDX-License-Identifier: MIT
/*
 * bench_rollout: speed and plan quality of the rollout planner.
 *
 *   bench_rollout [--example DIR] [--sites N]  time the plan for the example
 *       city and for a generated city of N sites (default 10000), with the
 *       gap to the bound; the baseline is the priority list (the heaviest
 *       chain that fits, no improvement), run on the same instance.
 *   bench_rollout --prove FILE [--time-limit S]  solve the golden test
 *       instances with GLPK and write their optima to FILE (only when every
 *       one was proven).
 *
 * The golden instances are rollout_gen_random(seed, 10 + (seed - 1) % 11
 * sites, 3 years) for seeds 1..50 (docs/rollout.md, "Tests").
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "core/atomic.h"
#include "example/example.h"
#include "inventory/inventory.h"
#include "rollout/rollout_bound.h"
#include "rollout/rollout_city.h"
#include "rollout/rollout_config.h"
#include "rollout/rollout_exact.h"
#include "rollout/rollout_gen.h"
#include "rollout/rollout_heur.h"

#define GOLDEN_COUNT 50
#define GOLDEN_YEARS 3
#define REPEATS	     5

/* Proves one golden optimum and appends its line to m; 0, or 1 when not proven. */
static int prove_one(int seed, double limit, FILE *m)
{
	int n = 10 + (seed - 1) % 11, bad = 1;
	struct rollout_inst *in = rollout_gen_random((uint64_t)seed, n, GOLDEN_YEARS);
	struct rollout_plan h = {0}, x = {0};
	struct rollout_exact_info info;
	struct rollout_exact_opts o = {.max_sites = 20, .time_limit_s = limit};
	if (!in || rollout_plan_init(&h, in) < 0 || rollout_plan_init(&x, in) < 0 ||
	    rollout_heuristic(in, &h) < 0)
		goto out;
	int r = rollout_exact(in, &o, &h, &x, &info);
	fprintf(stderr, "seed %2d: %2d sites, optimum %.0f (%s, %.1f s), heuristic %.0f\n", seed, n,
		x.value, r == 0 && info.optimal ? "proven" : "NOT proven", info.seconds, h.value);
	if (r < 0 || !info.optimal)
		goto out;
	fprintf(m, "%d\t%d\t%d\t%.0f\t%.1f\n", seed, n, GOLDEN_YEARS, x.value, info.seconds);
	bad = 0;
out:
	rollout_plan_clear(&h);
	rollout_plan_clear(&x);
	rollout_inst_free(in);
	return bad;
}

static int prove(const char *path, double limit)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int failed = 0;
	if (!m)
		return 1;
	fprintf(m, "# Optima of the rollout test instances (docs/rollout.md, \"Tests\"),\n"
		   "# proven with GLPK by scripts/prove-rollout-optima.sh.\n"
		   "# seed\tsites\tyears\toptimum\tseconds\n");
	for (int seed = 1; seed <= GOLDEN_COUNT; seed++)
		failed += prove_one(seed, limit, m);
	fclose(m);
	int r = failed ? -EINVAL : atomic_write(path, buf, len);
	free(buf);
	if (failed)
		fprintf(stderr, "%d instance(s) not proven: %s not written\n", failed, path);
	return r < 0 ? 1 : 0;
}

/* Plans one city REPEATS times with both solvers and prints medians, ratios and gaps. */
static int bench_city(const char *label, const char *dir)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct rollout_config cfg;
	struct rollout_city *city = NULL;
	struct rollout_plan h = {0}, g = {0};
	double th[REPEATS], tg[REPEATS], tb[REPEATS], bound = 0;
	int r = 1;
	char path[4096];
	rollout_config_init(&cfg);
	if (!dl || inventory_load(dir, dl, &inv) < 0) {
		fprintf(stderr, "%s: cannot load the inventory in %s\n", label, dir);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/rollout.yaml", dir);
	int lr = rollout_config_load(path, "rollout.yaml", dl, &cfg);
	if (lr == -ENOENT)
		lr = rollout_config_load_buffer(rollout_example_yaml, strlen(rollout_example_yaml),
						"rollout.yaml", dl, &cfg);
	if (lr < 0)
		goto out;
	double t0 = bench_now();
	if (rollout_city_build(inv, &cfg, dl, &city) < 0)
		goto out;
	double tbuild = bench_now() - t0;
	if (rollout_plan_init(&h, city->inst) < 0 || rollout_plan_init(&g, city->inst) < 0)
		goto out;
	for (int i = 0; i < REPEATS; i++) {
		t0 = bench_now();
		if (rollout_heuristic(city->inst, &h) < 0)
			goto out;
		th[i] = bench_now() - t0;
		t0 = bench_now();
		if (rollout_greedy(city->inst, 0, &g) < 0)
			goto out;
		tg[i] = bench_now() - t0;
		t0 = bench_now();
		bound = rollout_bound(city->inst);
		tb[i] = bench_now() - t0;
	}
	int ch = 0, cg = 0;
	for (int v = 1; v <= city->inst->n; v++) {
		ch += h.year[v] > 0;
		cg += g.year[v] > 0;
	}
	printf("%s: %zu sites, %d to connect, %d candidate trenches, %d years\n", label,
	       inv->nsites, city->inst->n, city->inst->nedges, city->inst->horizon);
	printf("  instance build     %8.1f ms\n", tbuild * 1e3);
	printf("  heuristic          %8.1f ms  value %.1f  sites %d  gap to bound %.2f%%\n",
	       bench_median(th, REPEATS) * 1e3, h.value, ch, 100 * (bound - h.value) / bound);
	printf("  priority list      %8.1f ms  value %.1f  sites %d  gap to bound %.2f%%\n",
	       bench_median(tg, REPEATS) * 1e3, g.value, cg, 100 * (bound - g.value) / bound);
	printf("  bound              %8.3f ms  value %.1f\n", bench_median(tb, REPEATS) * 1e3,
	       bound);
	printf("  heuristic / priority list: value x%.3f, time x%.1f\n", h.value / g.value,
	       bench_median(th, REPEATS) / fmax(bench_median(tg, REPEATS), 1e-9));
	r = 0;
out:
	if (r && dl)
		diag_write(dl, stderr);
	rollout_plan_clear(&h);
	rollout_plan_clear(&g);
	rollout_city_free(city);
	rollout_config_clear(&cfg);
	inventory_free(inv);
	diag_list_free(dl);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"example", required_argument, NULL, 'e'},
	    {"sites", required_argument, NULL, 'n'},
	    {"prove", required_argument, NULL, 'p'},
	    {"time-limit", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *example = "examples/stuttgart", *prove_path = NULL;
	long sites = 10000;
	double limit = 900;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			example = optarg;
			break;
		case 'n':
			sites = strtol(optarg, NULL, 10);
			break;
		case 'p':
			prove_path = optarg;
			break;
		case 't':
			limit = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: bench_rollout [--example DIR] [--sites N]\n"
					"       bench_rollout --prove FILE [--time-limit S]\n");
			return 2;
		}
	}
	if (prove_path)
		return prove(prove_path, limit);
	int r = bench_city("example city", example);
	char dir[] = "/tmp/bench-rollout.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	struct example_opts eo;
	example_opts_default(&eo);
	eo.sites = sites;
	char label[64];
	snprintf(label, sizeof(label), "generated city (%ld sites)", sites);
	if (example_generate(&eo, dir, NULL) < 0) {
		fprintf(stderr, "example_generate failed\n");
		r = 1;
	} else {
		r |= bench_city(label, dir);
	}
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return r;
}
