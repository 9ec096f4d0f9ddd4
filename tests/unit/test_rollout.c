// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inventory.h"
#include "rollout/rollout_bound.h"
#include "rollout/rollout_city.h"
#include "rollout/rollout_config.h"
#include "rollout/rollout_exact.h"
#include "rollout/rollout_gen.h"
#include "rollout/rollout_heur.h"
#include "rollout/rollout_model.h"
#include "tests/unit/testutil.h"

#define GOLDEN	   "tests/golden/rollout/optima.tsv"
#define GOLDEN_MAX 64
#define LIVE_EXACT 5

struct golden {
	int seed, sites, years;
	double optimum, seconds;
};

static int read_golden(struct golden *g, int max)
{
	FILE *f = fopen(tu_path(GOLDEN), "r");
	cr_assert_not_null(f, "cannot open %s", tu_path(GOLDEN));
	char line[256];
	int n = 0;
	while (fgets(line, sizeof(line), f) && n < max) {
		if (line[0] == '#')
			continue;
		struct golden *x = &g[n];
		if (sscanf(line, "%d %d %d %lf %lf", &x->seed, &x->sites, &x->years, &x->optimum,
			   &x->seconds) == 5)
			n++;
	}
	fclose(f);
	return n;
}

static struct rollout_inst *golden_inst(const struct golden *g)
{
	struct rollout_inst *in = rollout_gen_random((uint64_t)g->seed, g->sites, g->years);
	cr_assert_not_null(in);
	return in;
}

/* Re-evaluating a plan's years must give the same costs: no hidden state. */
static void assert_consistent(const struct rollout_inst *in, const struct rollout_plan *p)
{
	struct rollout_plan q = {0};
	cr_assert_eq(rollout_plan_copy(&q, p), 0);
	cr_assert_eq(rollout_plan_evaluate(in, &q), 0,
		     "plan has a site without a way to the network");
	for (int t = 1; t <= in->horizon; t++)
		cr_assert_float_eq(q.spent[t], p->spent[t], 1e-6, "year %d", t);
	cr_assert_float_eq(q.value, p->value, 1e-9);
	/* The same-year rule: every parent is connected no later than its child. */
	for (int v = 1; v <= in->n; v++)
		if (p->year[v])
			cr_assert(p->parent[v] == 0 || (p->year[p->parent[v]] >= 1 &&
							p->year[p->parent[v]] <= p->year[v]));
	rollout_plan_clear(&q);
}

/* tests/fuzz/corpus/rollout/dup-key: the YAML reader reports a duplicate key
 * as an error and still yields the document; the configuration must not load. */
Test(rollout, duplicate_key_is_an_error_obeyed)
{
	struct diag_list *dl = diag_list_new();
	struct rollout_config c;
	rollout_config_init(&c);
	const char *text = "horizon_years: 4\n"
			   "horizon_years: 6\n";
	cr_assert_eq(rollout_config_load_buffer(text, strlen(text), "rollout.yaml", dl, &c),
		     -EINVAL, "%s", tu_diags(dl));
	cr_assert(tu_has_diag(dl,
			      "rollout.yaml:2:1: error: duplicate key 'horizon_years' (first at "
			      "line 1)"),
		  "%s", tu_diags(dl));
	rollout_config_clear(&c);
	diag_list_free(dl);
}

Test(rollout, golden_instances_need_chains)
{
	struct golden g[GOLDEN_MAX];
	int n = read_golden(g, GOLDEN_MAX);
	cr_assert_geq(n, 50, "only %d golden optima", n);
	for (int i = 0; i < n; i++) {
		cr_assert(g[i].sites >= 10 && g[i].sites <= 20 && g[i].years == 3);
		struct rollout_inst *in = golden_inst(&g[i]);
		double share = rollout_gen_chain_share(in);
		cr_assert_geq(share, 0.3, "seed %d: only %.0f%% of the sites need a chain",
			      g[i].seed, 100 * share);
		rollout_inst_free(in);
	}
}

Test(rollout, heuristic_near_golden_optima_and_bound_above)
{
	struct golden g[GOLDEN_MAX];
	int n = read_golden(g, GOLDEN_MAX);
	double sum = 0;
	cr_assert_geq(n, 50);
	for (int i = 0; i < n; i++) {
		struct rollout_inst *in = golden_inst(&g[i]);
		struct rollout_plan p;
		cr_assert_eq(rollout_plan_init(&p, in), 0);
		cr_assert_eq(rollout_heuristic(in, &p), 0);
		cr_assert(rollout_plan_within_budget(in, &p), "seed %d: over budget", g[i].seed);
		assert_consistent(in, &p);
		double ratio = p.value / g[i].optimum;
		cr_assert_leq(p.value, g[i].optimum + 1e-6, "seed %d: beats the proven optimum",
			      g[i].seed);
		cr_assert_geq(ratio, 0.95, "seed %d: %.0f of %.0f (%.1f%%)", g[i].seed, p.value,
			      g[i].optimum, 100 * ratio);
		double b = rollout_bound(in);
		cr_assert_geq(b, g[i].optimum - 1e-6, "seed %d: bound %.2f below the optimum %.0f",
			      g[i].seed, b, g[i].optimum);
		sum += ratio;
		rollout_plan_clear(&p);
		rollout_inst_free(in);
	}
	cr_assert_geq(sum / n, 0.98, "average %.2f%% of the optimum", 100 * sum / n);
}

static int by_seconds(const void *a, const void *b)
{
	const struct golden *x = a, *y = b;
	return (x->seconds > y->seconds) - (x->seconds < y->seconds);
}

Test(rollout, exact_reproduces_golden_optima, .timeout = 300)
{
	struct golden g[GOLDEN_MAX];
	int n = read_golden(g, GOLDEN_MAX);
	/* The quickest proofs: enough to catch a changed model, cheap enough to run always. */
	qsort(g, (size_t)n, sizeof(*g), by_seconds);
	for (int i = 0; i < LIVE_EXACT && i < n; i++) {
		struct rollout_inst *in = golden_inst(&g[i]);
		struct rollout_plan x;
		struct rollout_exact_info info;
		struct rollout_exact_opts o = {.max_sites = 20, .time_limit_s = 120};
		cr_assert_eq(rollout_plan_init(&x, in), 0);
		cr_assert_eq(rollout_exact(in, &o, NULL, &x, &info), 0);
		cr_assert(info.optimal, "seed %d not proven", g[i].seed);
		cr_assert_float_eq(x.value, g[i].optimum, 1e-6, "seed %d: %.0f, golden %.0f",
				   g[i].seed, x.value, g[i].optimum);
		cr_assert(rollout_plan_within_budget(in, &x));
		assert_consistent(in, &x);
		rollout_plan_clear(&x);
		rollout_inst_free(in);
	}
}

/* A random small instance with a twist: carry-over, uneven budgets, a pin. */
static struct rollout_inst *twisted(uint64_t seed)
{
	struct rollout_inst *in = rollout_gen_random(seed, 8, 3);
	cr_assert_not_null(in);
	in->carry_over = seed % 2 == 0;
	in->budget[1] *= 0.7;
	in->budget[3] *= 1.5;
	in->nodes[1 + (int)(seed % 8)].pin = 2 + (int)(seed % 2);
	return in;
}

Test(rollout, bound_and_heuristic_valid_with_carry_over_and_pins, .timeout = 300)
{
	int solved = 0;
	for (uint64_t seed = 101; seed <= 106; seed++) {
		struct rollout_inst *in = twisted(seed);
		struct rollout_plan h, x;
		struct rollout_exact_info info;
		struct rollout_exact_opts o = {.time_limit_s = 120};
		cr_assert_eq(rollout_plan_init(&h, in), 0);
		cr_assert_eq(rollout_plan_init(&x, in), 0);
		int rh = rollout_heuristic(in, &h), rx = rollout_exact(in, &o, &h, &x, &info);
		cr_assert_eq(rx, rh, "seed %llu: exact %d, heuristic %d", (unsigned long long)seed,
			     rx, rh);
		if (rx == 0) {
			solved++;
			cr_assert(info.optimal);
			cr_assert(rollout_plan_within_budget(in, &h));
			cr_assert(rollout_plan_within_budget(in, &x));
			for (int v = 1; v <= in->n; v++)
				if (in->nodes[v].pin) {
					cr_assert_eq(h.year[v], in->nodes[v].pin);
					cr_assert_eq(x.year[v], in->nodes[v].pin);
				}
			cr_assert_leq(h.value, x.value + 1e-6);
			cr_assert_geq(rollout_bound(in), x.value - 1e-6);
		}
		rollout_plan_clear(&h);
		rollout_plan_clear(&x);
		rollout_inst_free(in);
	}
	cr_assert_geq(solved, 3, "only %d of the instances have a plan", solved);
}

Test(rollout, same_year_rule)
{
	/* root - 1 - 2: site 2 reaches the network only through site 1. */
	struct rollout_inst *in = rollout_inst_new(2, 2);
	cr_assert_eq(rollout_inst_add_edge(in, 0, 1, 1000, -1, 0, 1), 0);
	cr_assert_eq(rollout_inst_add_edge(in, 1, 2, 500, -1, 1, 2), 0);
	cr_assert_eq(rollout_inst_add_edge(in, 2, 1, 900, -1, 2, 1), 0); /* parallel, dearer */
	cr_assert_eq(rollout_inst_finish(in), 0);
	cr_assert_eq(in->nedges, 2);
	in->nodes[1].fixed = in->nodes[2].fixed = 100;
	in->budget[1] = in->budget[2] = 1e6;
	struct rollout_plan p;
	cr_assert_eq(rollout_plan_init(&p, in), 0);
	p.year[1] = p.year[2] = 1; /* same year: allowed, both trenches paid in year 1 */
	cr_assert_eq(rollout_plan_evaluate(in, &p), 0);
	cr_assert_eq(p.parent[2], 1);
	cr_assert_float_eq(p.spent[1], 1000 + 500 + 200, 1e-9);
	p.year[1] = 2; /* through a site connected later: not allowed */
	cr_assert_eq(rollout_plan_evaluate(in, &p), -EINVAL);
	rollout_plan_clear(&p);
	rollout_inst_free(in);
}

Test(rollout, exact_refuses_large_instances)
{
	struct rollout_inst *in = rollout_gen_random(7, 30, 3);
	struct rollout_plan x;
	struct rollout_exact_info info;
	struct rollout_exact_opts o = {.max_sites = 25};
	cr_assert_eq(rollout_plan_init(&x, in), 0);
	cr_assert_eq(rollout_exact(in, &o, NULL, &x, &info), -E2BIG);
	rollout_plan_clear(&x);
	rollout_inst_free(in);
}

Test(rollout, pins_over_budget_are_reported)
{
	struct rollout_inst *in = rollout_gen_random(3, 12, 3);
	for (int v = 1; v <= in->n; v++)
		in->nodes[v].pin = 1;
	struct rollout_plan p;
	cr_assert_eq(rollout_plan_init(&p, in), 0);
	cr_assert_eq(rollout_heuristic(in, &p), -ENOSPC);
	rollout_plan_clear(&p);
	rollout_inst_free(in);
}

/* The example city with a rollout.yaml text. */
struct city {
	struct diag_list *dl;
	struct inventory *inv;
	struct rollout_config cfg;
	struct rollout_city *c;
};

static int city_open(struct city *x, const char *yaml)
{
	memset(x, 0, sizeof(*x));
	x->dl = diag_list_new();
	rollout_config_init(&x->cfg);
	cr_assert_eq(inventory_load(tu_path("examples/stuttgart"), x->dl, &x->inv), 0, "%s",
		     tu_diags(x->dl));
	int r = rollout_config_load_buffer(yaml, strlen(yaml), "rollout.yaml", x->dl, &x->cfg);
	if (r < 0)
		return r;
	return rollout_city_build(x->inv, &x->cfg, x->dl, &x->c);
}

static void city_close(struct city *x)
{
	rollout_city_free(x->c);
	rollout_config_clear(&x->cfg);
	inventory_free(x->inv);
	diag_list_free(x->dl);
}

Test(rollout, example_yaml_file_is_the_embedded_text)
{
	FILE *f = fopen(tu_path("examples/stuttgart/rollout.yaml"), "rb");
	cr_assert_not_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_assert_eq(n, strlen(rollout_example_yaml));
	cr_assert_eq(memcmp(buf, rollout_example_yaml, n), 0);
}

Test(rollout, example_plan_is_deterministic_and_within_budget)
{
	struct city x;
	cr_assert_eq(city_open(&x, rollout_example_yaml), 0, "%s", tu_diags(x.dl));
	const struct rollout_inst *in = x.c->inst;
	struct rollout_plan a, b;
	cr_assert_eq(rollout_plan_init(&a, in), 0);
	cr_assert_eq(rollout_plan_init(&b, in), 0);
	cr_assert_eq(rollout_heuristic(in, &a), 0);
	cr_assert_eq(rollout_heuristic(in, &b), 0);
	for (int v = 1; v <= in->n; v++) {
		cr_assert_eq(a.year[v], b.year[v]);
		cr_assert_eq(a.parent[v], b.parent[v]);
	}
	cr_assert(rollout_plan_within_budget(in, &a));
	assert_consistent(in, &a);
	double bound = rollout_bound(in);
	cr_assert_geq(bound, a.value);
	cr_assert_lt((bound - a.value) / bound, 0.05, "gap %.2f%%",
		     100 * (bound - a.value) / bound);
	/* The city's premise: about 105,000 EUR a site, 40-60 sites a year. */
	int sites = 0;
	double spent = 0;
	for (int t = 1; t <= in->horizon; t++)
		spent += a.spent[t];
	for (int v = 1; v <= in->n; v++)
		sites += a.year[v] > 0;
	cr_assert(spent / sites > 95000 && spent / sites < 120000, "%.0f EUR a site",
		  spent / sites);
	/* Every under-served school goes first. */
	for (int v = 1; v <= in->n; v++)
		if (x.c->urgent[v] & ROLLOUT_URGENT_SCHOOL)
			cr_assert_eq(a.year[v], 1, "%s in year %d",
				     x.inv->sites[in->nodes[v].site].id, a.year[v]);
	rollout_plan_clear(&a);
	rollout_plan_clear(&b);
	city_close(&x);
}

/* The lowest-scored and the highest-scored site of the example. */
static void extremes(const struct city *x, int *low, int *high)
{
	*low = *high = 1;
	for (int v = 1; v <= x->c->inst->n; v++) {
		if (x->c->score[v].total < x->c->score[*low].total)
			*low = v;
		if (x->c->score[v].total > x->c->score[*high].total)
			*high = v;
	}
}

Test(rollout, pins_and_exclusions_are_honoured)
{
	struct city x;
	cr_assert_eq(city_open(&x, rollout_example_yaml), 0);
	int low, high;
	extremes(&x, &low, &high);
	char low_id[64], high_id[64];
	snprintf(low_id, sizeof(low_id), "%s", x.inv->sites[x.c->inst->nodes[low].site].id);
	snprintf(high_id, sizeof(high_id), "%s", x.inv->sites[x.c->inst->nodes[high].site].id);
	city_close(&x);

	char yaml[512];
	snprintf(yaml, sizeof(yaml), "pins:\n  %s: 1\nexclude:\n  - %s\n", low_id, high_id);
	cr_assert_eq(city_open(&x, yaml), 0, "%s", tu_diags(x.dl));
	int vl = x.c->site_node[inventory_find_site(x.inv, low_id)];
	cr_assert_gt(vl, 0);
	cr_assert_eq(x.c->site_node[inventory_find_site(x.inv, high_id)], -1);
	cr_assert_eq(x.c->excluded, 1);
	struct rollout_plan p;
	cr_assert_eq(rollout_plan_init(&p, x.c->inst), 0);
	cr_assert_eq(rollout_heuristic(x.c->inst, &p), 0);
	cr_assert_eq(p.year[vl], 1, "pinned site in year %d", p.year[vl]);
	cr_assert(rollout_plan_within_budget(x.c->inst, &p));
	for (int v = 1; v <= x.c->inst->n; v++)
		cr_assert_neq(x.c->inst->nodes[v].site, inventory_find_site(x.inv, high_id));
	rollout_plan_clear(&p);
	city_close(&x);
}

Test(rollout, bad_yaml_gives_located_errors)
{
	struct diag_list *dl = diag_list_new();
	struct rollout_config c;
	rollout_config_init(&c);
	const char *text = "horizon_years: 0\n"
			   "cost:\n"
			   "  trench_eur_per_metre: 3\n"
			   "budget:\n"
			   "  yearly_eur: lots\n"
			   "pins:\n"
			   "  S000001: 99\n";
	cr_assert_eq(rollout_config_load_buffer(text, strlen(text), "rollout.yaml", dl, &c),
		     -EINVAL);
	cr_assert(tu_has_diag(dl, "rollout.yaml:1:16: error: 0 is out of range [1, 50]"), "%s",
		  tu_diags(dl));
	cr_assert(tu_has_diag(dl, "rollout.yaml:3:3: error: unknown key 'trench_eur_per_metre' "
				  "(did you mean 'trench_eur_per_m'?)"),
		  "%s", tu_diags(dl));
	cr_assert(tu_diag_contains(dl, "rollout.yaml:5:15: error: expected a number, got 'lots'"),
		  "%s", tu_diags(dl));
	cr_assert(tu_has_diag(dl, "rollout.yaml:7:12: error: year 99: give a year number from 1 to "
				  "50 or a calendar year from 2026 to 2075"),
		  "%s", tu_diags(dl));
	rollout_config_clear(&c);
	diag_list_free(dl);
}

/* A city where every site already has fibre: nothing to connect, and every
 * solver says so (the heuristic's search and GLPK both failed on n = 0). */
Test(rollout, nothing_to_connect)
{
	struct rollout_inst *in = rollout_inst_new(0, 3);
	cr_assert_not_null(in);
	for (int t = 1; t <= 3; t++)
		in->budget[t] = 1000;
	cr_assert_eq(rollout_inst_finish(in), 0);
	struct rollout_plan h = {0}, x = {0};
	cr_assert_eq(rollout_plan_init(&h, in), 0);
	cr_assert_eq(rollout_plan_init(&x, in), 0);
	cr_assert_eq(rollout_heuristic(in, &h), 0);
	cr_assert_eq(h.value, 0);
	struct rollout_exact_info info;
	cr_assert_eq(rollout_exact(in, NULL, &h, &x, &info), 0);
	cr_assert(info.optimal);
	cr_assert_eq(x.value, 0);
	cr_assert_eq(info.bound, 0);
	cr_assert_eq(rollout_bound(in), 0);
	rollout_plan_clear(&h);
	rollout_plan_clear(&x);
	rollout_inst_free(in);
}

/* Pins and budget overrides take year numbers (1 = start_year) or calendar years. */
Test(rollout, years_by_number_or_calendar)
{
	struct diag_list *dl = diag_list_new();
	struct rollout_config c;
	rollout_config_init(&c);
	const char *text = "start_year: 2030\n"
			   "horizon_years: 4\n"
			   "budget:\n"
			   "  years: {2: 1000000, 2033: 2000000}\n"
			   "pins:\n"
			   "  S000010: 2031\n"
			   "  S000020: 3\n"
			   "  S000030: 2029\n";
	cr_assert_eq(rollout_config_load_buffer(text, strlen(text), "r.yaml", dl, &c), -EINVAL);
	cr_assert_eq(c.year_budget[2], 1000000);
	cr_assert_eq(c.year_budget[4], 2000000, "2033 is the fourth year from 2030");
	cr_assert_eq(c.npins, 2, "2029 is before the start: refused");
	cr_assert_str_eq(c.pins[0].site, "S000010");
	cr_assert_eq(c.pins[0].year, 2);
	cr_assert_str_eq(c.pins[1].site, "S000020");
	cr_assert_eq(c.pins[1].year, 3);
	cr_assert(tu_has_diag(dl, "r.yaml:8:12: error: year 2029: give a year number from 1 to 50 "
				  "or a calendar year from 2030 to 2079"),
		  "%s", tu_diags(dl));
	cr_assert_eq(diag_count(dl), 1, "%s", tu_diags(dl));
	rollout_config_clear(&c);
	diag_list_free(dl);
}

Test(rollout, a_duplicate_key_fails_the_load)
{
	struct diag_list *dl = diag_list_new();
	struct rollout_config c;
	rollout_config_init(&c);
	const char *text = "start_year: 2030\n"
			   "horizon_years: 4\n"
			   "start_year: 2031\n";
	cr_assert_eq(rollout_config_load_buffer(text, strlen(text), "r.yaml", dl, &c), -EINVAL);
	cr_assert(
	    tu_has_diag(dl, "r.yaml:3:1: error: duplicate key 'start_year' (first at line 1)"),
	    "%s", tu_diags(dl));
	rollout_config_clear(&c);
	diag_list_free(dl);
}

Test(rollout, pins_naming_unknown_or_fibre_sites_are_located_errors)
{
	struct city x;
	const char *yaml = "horizon_years: 3\n"
			   "pins:\n"
			   "  S00001O: 2\n"    /* a typo */
			   "  DC1: 1\n"	       /* a data centre */
			   "  S000012: 2030\n" /* the fifth year of three */
			   "exclude: [Nowhere]\n";
	cr_assert_eq(city_open(&x, yaml), -EINVAL);
	cr_assert(tu_diag_contains(x.dl, "rollout.yaml:3:3: error: unknown site 'S00001O' (did you "
					 "mean 'S000010'?)"),
		  "%s", tu_diags(x.dl));
	cr_assert(tu_diag_contains(x.dl, "rollout.yaml:4:3: error: site 'DC1' cannot be pinned"),
		  "%s", tu_diags(x.dl));
	cr_assert(tu_diag_contains(x.dl,
				   "rollout.yaml:5:3: error: site 'S000012' is pinned to year 5 "
				   "(2030), beyond the horizon of 3 years (2026-2028)"),
		  "%s", tu_diags(x.dl));
	cr_assert(tu_diag_contains(x.dl, "rollout.yaml:6:11: error: unknown site 'Nowhere'"), "%s",
		  tu_diags(x.dl));
	city_close(&x);
}

Test(rollout, cli_exit_codes)
{
	const char *bin = getenv("SEGPLAN_BIN");
	cr_assert_not_null(bin, "SEGPLAN_BIN is not set");
	char *dir = tu_tmpdir(), cmd[2048];
	char *bad = tu_write(dir, "bad.yaml", "cost:\n  neighbors: 4\n");
	const char *ex = tu_path("examples/stuttgart");
	struct {
		const char *args;
		int code;
	} cases[] = {
	    {"--help", 0},
	    {"", 2},
	    {"EX --budget lots", 2},
	    {"EX --json --csv", 2},
	    {"EX --exact", 1},
	    {"EX --config BAD", 3},
	    {"EX --years 3 --budget 4000000 --scenario 3000000,5000000 --json", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char args[1024] = "";
		const char *s = cases[i].args;
		size_t o = 0;
		while (*s && o + 600 < sizeof(args)) {
			if (strncmp(s, "EX", 2) == 0) {
				o += (size_t)snprintf(args + o, sizeof(args) - o, "%s", ex);
				s += 2;
			} else if (strncmp(s, "BAD", 3) == 0) {
				o += (size_t)snprintf(args + o, sizeof(args) - o, "%s", bad);
				s += 3;
			} else {
				args[o++] = *s++;
				args[o] = '\0';
			}
		}
		snprintf(cmd, sizeof(cmd), "'%s' rollout %s >/dev/null 2>&1", bin, args);
		cr_assert_eq(tu_run(cmd), cases[i].code, "%s", cmd);
	}
	free(bad);
	tu_rmdir(dir);
	free(dir);
}
