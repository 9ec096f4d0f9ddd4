// SPDX-License-Identifier: MIT
/* segplan rollout: the budgeted broadband rollout plan (docs/rollout.md). */
#include <csv.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/exitcodes.h"
#include "inventory/inventory.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "rollout/rollout_bound.h"
#include "rollout/rollout_city.h"
#include "rollout/rollout_config.h"
#include "rollout/rollout_exact.h"
#include "rollout/rollout_heur.h"

#define MAX_SCENARIOS 16

static const char usage[] =
    "usage: segplan rollout INVENTORY [--years N] [--budget EUR] [--exact]\n"
    "                       [--json | --csv] [--scenario EUR,EUR,...] [--config FILE]\n"
    "\n"
    "Plans which sites without fibre are connected in which year, within the\n"
    "yearly budget, by priority (rollout.yaml in INVENTORY; docs/rollout.md).\n"
    "\n"
    "  --years N          horizon in years (overrides horizon_years)\n"
    "  --budget EUR       every year's budget (overrides budget.yearly_eur and budget.years)\n"
    "  --exact            solve the model exactly with GLPK (at most exact.max_sites sites)\n"
    "  --json             the plan as JSON\n"
    "  --csv              one CSV row per site to connect\n"
    "  --scenario LIST    also plan with each yearly budget in LIST, side by side\n"
    "  --config FILE      rollout.yaml to read instead of INVENTORY/rollout.yaml\n"
    "  -h, --help         this help\n"
    "\n"
    "exit codes: 0 plan made, 1 no plan (pins over budget, --exact refused or\n"
    "without a solution), 2 usage, 3 invalid input, 4 system error\n";

static const struct option longopts[] = {
    {"years", required_argument, NULL, 'y'},
    {"budget", required_argument, NULL, 'b'},
    {"exact", no_argument, NULL, 'x'},
    {"json", no_argument, NULL, 'j'},
    {"csv", no_argument, NULL, 'C'},
    {"scenario", required_argument, NULL, 's'},
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct args {
	const char *dir, *config;
	long years;
	double budget;
	bool have_budget, exact, json, csv;
	double scen[MAX_SCENARIOS];
	int nscen;
};

/* A plan and what it means, for the printers. */
struct result {
	const struct rollout_config *cfg;
	const struct rollout_city *city;
	const struct rollout_plan *plan;
	const char *solver;
	bool optimal;
	double bound;
	struct rollout_plan scen_plan[MAX_SCENARIOS];
	double scen_bound[MAX_SCENARIOS];
};

static bool parse_eur(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e12)
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	const char *bad = out_inexact_option(argc, argv, longopts);
	if (bad)
		return out_usage(usage, "rollout: unknown option '%s'", bad);
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'y': {
			char *end;
			errno = 0;
			a->years = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || a->years < 1 ||
			    a->years > ROLLOUT_MAX_YEARS)
				return out_usage(usage, "rollout: --years must be 1-%d",
						 ROLLOUT_MAX_YEARS);
			break;
		}
		case 'b':
			if (!parse_eur(optarg, &a->budget))
				return out_usage(usage, "rollout: --budget needs an amount in EUR");
			a->have_budget = true;
			break;
		case 'x':
			a->exact = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'C':
			a->csv = true;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 's': {
			char *copy = strdup(optarg), *save = NULL;
			if (!copy)
				return out_fail(SEG_EXIT_SYSTEM, "out of memory");
			a->nscen = 0;
			for (char *tok = strtok_r(copy, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (a->nscen == MAX_SCENARIOS ||
				    !parse_eur(tok, &a->scen[a->nscen])) {
					free(copy);
					return out_usage(
					    usage,
					    "rollout: --scenario needs up to %d amounts "
					    "in EUR, separated by commas",
					    MAX_SCENARIOS);
				}
				a->nscen++;
			}
			free(copy);
			if (a->nscen == 0)
				return out_usage(usage, "rollout: --scenario needs amounts");
			break;
		}
		case 'h':
			return -1;
		default:
			return out_usage(usage, "rollout: bad option '%s'", argv[optind - 1]);
		}
	}
	if (a->json && a->csv)
		return out_usage(usage, "rollout: --json and --csv exclude each other");
	if (optind != argc - 1)
		return out_usage(usage, "rollout: give exactly one INVENTORY directory");
	a->dir = argv[optind];
	return 0;
}

static const char *site_id(const struct rollout_city *c, int v)
{
	return c->inv->sites[c->inst->nodes[v].site].id;
}

/* The site a node's trench ends at: its parent, or the fibre site for the network. */
static int trench_end(const struct rollout_city *c, const struct rollout_plan *p, int v)
{
	const struct rollout_edge *e = &c->inst->edges[p->edge[v]];
	int s = c->inst->nodes[v].site;
	if (p->parent[v] > 0)
		return c->inst->nodes[p->parent[v]].site;
	return e->end_a == s ? e->end_b : e->end_a;
}

static double edge_cost(const struct rollout_city *c, const struct rollout_plan *p, int v)
{
	return p->edge[v] >= 0 ? c->inst->edges[p->edge[v]].cost : 0;
}

static const char *link_id(const struct rollout_city *c, const struct rollout_plan *p, int v)
{
	int tag = p->edge[v] >= 0 ? c->inst->edges[p->edge[v]].tag : -1;
	return tag >= 0 ? c->inv->links[tag].id : NULL;
}

/* Sites on fibre at the end of year t (t = 0: now). */
static size_t covered(const struct rollout_city *c, const struct rollout_plan *p, int t)
{
	size_t k = c->fibre;
	for (int v = 1; v <= c->inst->n; v++)
		k += p->year[v] >= 1 && p->year[v] <= t;
	return k;
}

static double share(const struct rollout_city *c, size_t k)
{
	return c->sites ? (double)k / (double)c->sites : 1;
}

static double gap(double bound, double value)
{
	return bound > 0 ? (bound - value) / bound : 0;
}

static const char *urgent_reason(unsigned u)
{
	if ((u & ROLLOUT_URGENT_SCHOOL) && (u & ROLLOUT_URGENT_CRITICAL))
		return "under-served school, critical";
	return u & ROLLOUT_URGENT_SCHOOL ? "under-served school" : "critical";
}

static json_t *path_json(const struct rollout_city *c, const struct rollout_plan *p, int v)
{
	json_t *a = json_array();
	for (int u = v; u > 0; u = p->parent[u]) {
		json_array_append_new(a, json_string(site_id(c, u)));
		if (p->parent[u] == 0)
			json_array_append_new(a,
					      json_string(c->inv->sites[trench_end(c, p, u)].id));
	}
	return a;
}

static json_t *score_json(const struct rollout_score *s)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "base", s->base, "school", s->school,
			 "critical", s->critical, "staff", s->staff, "bandwidth_gap", s->bandwidth,
			 "interim_rent", s->rent);
}

static json_t *site_json(const struct result *r, int v)
{
	const struct rollout_city *c = r->city;
	const struct site *s = &c->inv->sites[c->inst->nodes[v].site];
	const struct rollout_plan *p = r->plan;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f}", "id", s->id, "name", s->name, "district",
			      c->inv->districts[s->district].name, "type", site_type_names[s->type],
			      "score", c->score[v].total);
	if (p->year[v] > 0) {
		const char *l = link_id(c, p, v);
		json_object_set_new(o, "cost_eur",
				    json_real(c->inst->nodes[v].fixed + edge_cost(c, p, v)));
		json_object_set_new(o, "fixed_eur", json_real(c->inst->nodes[v].fixed));
		json_object_set_new(o, "trench_eur", json_real(edge_cost(c, p, v)));
		json_object_set_new(o, "via", json_string(c->inv->sites[trench_end(c, p, v)].id));
		json_object_set_new(o, "planned_link", l ? json_string(l) : json_null());
		json_object_set_new(o, "path", path_json(c, p, v));
	}
	return o;
}

static json_t *scenarios_json(const struct result *r, const struct args *a)
{
	json_t *arr = json_array();
	for (int i = 0; i < a->nscen; i++) {
		const struct rollout_plan *p = &r->scen_plan[i];
		json_t *years = json_array();
		for (int t = 1; t <= r->city->inst->horizon; t++) {
			size_t k = covered(r->city, p, t), n = 0;
			for (int v = 1; v <= r->city->inst->n; v++)
				n += p->year[v] == t;
			json_array_append_new(
			    years, json_pack("{s:i, s:I, s:f, s:I, s:f}", "year", t, "sites",
					     (json_int_t)n, "spent_eur", p->spent[t], "fibre_sites",
					     (json_int_t)k, "coverage", share(r->city, k)));
		}
		json_array_append_new(
		    arr, json_pack("{s:f, s:f, s:f, s:f, s:o}", "budget_eur", a->scen[i], "value",
				   p->value, "bound", r->scen_bound[i], "gap",
				   gap(r->scen_bound[i], p->value), "years", years));
	}
	return arr;
}

static int print_json(const struct result *r, const struct args *a)
{
	const struct rollout_city *c = r->city;
	const struct rollout_plan *p = r->plan;
	const struct rollout_inst *in = c->inst;
	json_t *years = json_array(), *unplanned = json_array(), *urgent = json_array();
	json_t *scores = json_array();
	double rent_total = 0;
	for (int t = 1; t <= in->horizon; t++) {
		json_t *sites = json_array();
		for (int v = 1; v <= in->n; v++)
			if (p->year[v] == t)
				json_array_append_new(sites, site_json(r, v));
		size_t k = covered(c, p, t);
		json_array_append_new(
		    years, json_pack("{s:i, s:i, s:f, s:f, s:o, s:{s:I, s:I, s:f}}", "year", t,
				     "calendar_year", r->cfg->start_year + t - 1, "budget_eur",
				     in->budget[t], "spent_eur", p->spent[t], "sites", sites,
				     "coverage", "fibre_sites", (json_int_t)k, "sites",
				     (json_int_t)c->sites, "share", share(c, k)));
	}
	for (int v = 1; v <= in->n; v++) {
		const struct site *s = &c->inv->sites[in->nodes[v].site];
		if (p->year[v] == 0)
			json_array_append_new(unplanned, json_string(s->id));
		json_array_append_new(
		    scores, json_pack("{s:s, s:f, s:o, s:o}", "id", s->id, "score",
				      c->score[v].total, "parts", score_json(&c->score[v]), "year",
				      p->year[v] ? json_integer(p->year[v]) : json_null()));
		if (!c->urgent[v])
			continue;
		double rent = rollout_city_rent(r->cfg, p->year[v], in->horizon);
		rent_total += rent;
		json_array_append_new(
		    urgent, json_pack("{s:s, s:s, s:s, s:o, s:f}", "id", s->id, "name", s->name,
				      "reason", urgent_reason(c->urgent[v]), "year",
				      p->year[v] ? json_integer(p->year[v]) : json_null(),
				      "interim_rent_eur", rent));
	}
	json_t *j = json_pack(
	    "{s:s, s:s, s:b, s:i, s:i, s:b, s:{s:I, s:I, s:I, s:I, s:I}, s:f, s:f, s:f, s:o, "
	    "s:o, s:{s:f, s:o, s:f}, s:o}",
	    "inventory", a->dir, "solver", r->solver, "optimal", r->optimal, "horizon_years",
	    in->horizon, "start_year", r->cfg->start_year, "carry_over", in->carry_over, "sites",
	    "total", (json_int_t)c->sites, "fibre", (json_int_t)c->fibre, "to_connect",
	    (json_int_t)in->n, "excluded", (json_int_t)c->excluded, "unreachable",
	    (json_int_t)c->unreachable, "value", p->value, "bound", r->bound, "gap",
	    gap(r->bound, p->value), "years", years, "not_planned", unplanned, "urgent",
	    "rent_eur_per_year", r->cfg->rent_eur_per_year, "sites", urgent, "rent_total_eur",
	    rent_total, "scores", scores);
	if (!j)
		return out_fail(SEG_EXIT_SYSTEM, "rollout: cannot build the JSON output");
	if (a->nscen)
		json_object_set_new(j, "scenarios", scenarios_json(r, a));
	return out_json(j);
}

static void csv_field(FILE *f, const char *s, bool last)
{
	csv_fwrite(f, s, strlen(s));
	fputc(last ? '\n' : ',', f);
}

static void csv_num(FILE *f, double v, bool last)
{
	fprintf(f, "%.2f%c", v, last ? '\n' : ',');
}

static int print_csv(const struct result *r)
{
	const struct rollout_city *c = r->city;
	const struct rollout_plan *p = r->plan;
	FILE *f = stdout;
	fputs("year,calendar_year,id,name,district,type,score,base,school,critical,staff,"
	      "bandwidth_gap,interim_rent,cost_eur,fixed_eur,trench_eur,via,planned_link,path,"
	      "urgent,interim_rent_eur\n",
	      f);
	for (int v = 1; v <= c->inst->n; v++) {
		const struct site *s = &c->inv->sites[c->inst->nodes[v].site];
		const struct rollout_score *sc = &c->score[v];
		int y = p->year[v];
		if (y)
			fprintf(f, "%d,%d,", y, r->cfg->start_year + y - 1);
		else
			fputs(",,", f);
		csv_field(f, s->id, false);
		csv_field(f, s->name, false);
		csv_field(f, c->inv->districts[s->district].name, false);
		csv_field(f, site_type_names[s->type], false);
		double parts[] = {sc->total, sc->base,	    sc->school, sc->critical,
				  sc->staff, sc->bandwidth, sc->rent};
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			csv_num(f, parts[i], false);
		if (y) {
			csv_num(f, c->inst->nodes[v].fixed + edge_cost(c, p, v), false);
			csv_num(f, c->inst->nodes[v].fixed, false);
			csv_num(f, edge_cost(c, p, v), false);
			csv_field(f, c->inv->sites[trench_end(c, p, v)].id, false);
			const char *l = link_id(c, p, v);
			csv_field(f, l ? l : "", false);
			char path[1024];
			int u = v;
			size_t len = (size_t)snprintf(path, sizeof(path), "%s", s->id);
			while (p->parent[u] > 0 && len < sizeof(path)) {
				u = p->parent[u];
				len += (size_t)snprintf(path + len, sizeof(path) - len, " %s",
							site_id(c, u));
			}
			if (len < sizeof(path))
				snprintf(path + len, sizeof(path) - len, " %s",
					 c->inv->sites[trench_end(c, p, u)].id);
			csv_field(f, path, false);
		} else {
			fputs(",,,,,,", f);
		}
		csv_field(f, c->urgent[v] ? urgent_reason(c->urgent[v]) : "", false);
		if (c->urgent[v])
			csv_num(f, rollout_city_rent(r->cfg, y, c->inst->horizon), true);
		else
			fputc('\n', f);
	}
	return fflush(f) == 0 ? SEG_EXIT_OK : SEG_EXIT_SYSTEM;
}

/* 1234567.8 -> "1,234,568" */
static const char *eur(char *buf, size_t size, double v)
{
	char digits[64];
	snprintf(digits, sizeof(digits), "%.0f", fabs(v));
	size_t n = strlen(digits), o = 0;
	if (v < -0.5 && o + 1 < size)
		buf[o++] = '-';
	for (size_t i = 0; i < n && o + 2 < size; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/* Prints s in a column of width characters (UTF-8 code points), cut or padded. */
static void column(const char *s, int width)
{
	int n = 0;
	const char *e = s;
	while (*e && n < width) {
		e++;
		while ((*e & 0xC0) == 0x80)
			e++;
		n++;
	}
	printf("%.*s%*s ", (int)(e - s), s, width - n, "");
}

static void print_path(const struct rollout_city *c, const struct rollout_plan *p, int v)
{
	int u = v;
	while (p->parent[u] > 0) {
		u = p->parent[u];
		printf(" > %s", site_id(c, u));
	}
	printf(" > %s (fibre)", c->inv->sites[trench_end(c, p, u)].id);
}

static int print_text(const struct result *r, const struct args *a)
{
	const struct rollout_city *c = r->city;
	const struct rollout_plan *p = r->plan;
	const struct rollout_inst *in = c->inst;
	char b1[32], b2[32], b3[32];
	printf("Rollout plan for %s (%s%s): %d sites to connect, %d years from %d\n", a->dir,
	       r->solver, r->optimal ? ", proven optimal" : "", in->n, in->horizon,
	       r->cfg->start_year);
	printf("now on fibre: %zu of %zu sites (%.1f%%)", c->fibre, c->sites,
	       100 * share(c, c->fibre));
	if (c->excluded || c->unreachable)
		printf("; excluded %zu, without a candidate trench to the network %zu", c->excluded,
		       c->unreachable);
	printf("\nvalue %.1f, bound %.1f, gap %.2f%%\n", p->value, r->bound,
	       100 * gap(r->bound, p->value));
	for (int t = 1; t <= in->horizon; t++) {
		int n = 0;
		for (int v = 1; v <= in->n; v++)
			n += p->year[v] == t;
		size_t k = covered(c, p, t);
		printf("\nYear %d (%d): %d sites, %s of %s EUR, coverage %.1f%% (%zu/%zu)\n", t,
		       r->cfg->start_year + t - 1, n, eur(b1, sizeof(b1), p->spent[t]),
		       eur(b2, sizeof(b2), in->budget[t]), 100 * share(c, k), k, c->sites);
		if (n)
			printf("  %-9s %-34s %-16s %6s %10s  %s\n", "ID", "NAME", "DISTRICT",
			       "SCORE", "COST EUR", "TRENCH PATH");
		for (int v = 1; v <= in->n; v++) {
			if (p->year[v] != t)
				continue;
			const struct site *s = &c->inv->sites[in->nodes[v].site];
			const char *l = link_id(c, p, v);
			printf("  %-9s ", s->id);
			column(s->name, 34);
			column(c->inv->districts[s->district].name, 16);
			printf("%6.1f %10s  %s", c->score[v].total,
			       eur(b3, sizeof(b3), in->nodes[v].fixed + edge_cost(c, p, v)), s->id);
			print_path(c, p, v);
			if (l)
				printf(" [%s]", l);
			putchar('\n');
		}
	}
	double rent = 0;
	bool any = false;
	for (int v = 1; v <= in->n; v++) {
		if (!c->urgent[v])
			continue;
		if (!any)
			printf("\nUrgent sites: an interim line (%s EUR a year) until connected\n"
			       "  %-9s %-34s %-30s %5s %10s\n",
			       eur(b1, sizeof(b1), r->cfg->rent_eur_per_year), "ID", "NAME",
			       "REASON", "YEAR", "RENT EUR");
		any = true;
		const struct site *s = &c->inv->sites[in->nodes[v].site];
		double x = rollout_city_rent(r->cfg, p->year[v], in->horizon);
		rent += x;
		char year[16];
		snprintf(year, sizeof(year), "%d", p->year[v]);
		printf("  %-9s ", s->id);
		column(s->name, 34);
		printf("%-30s %5s %10s\n", urgent_reason(c->urgent[v]), p->year[v] ? year : "-",
		       eur(b2, sizeof(b2), x));
	}
	if (any)
		printf("  interim rent in total: %s EUR\n", eur(b1, sizeof(b1), rent));
	printf("\nScores of the sites to connect\n  %-9s %7s %6s %6s %8s %6s %9s %6s %5s\n", "ID",
	       "SCORE", "BASE", "SCHOOL", "CRITICAL", "STAFF", "BANDWIDTH", "RENT", "YEAR");
	for (int v = 1; v <= in->n; v++) {
		const struct rollout_score *s = &c->score[v];
		char year[16];
		snprintf(year, sizeof(year), "%d", p->year[v]);
		printf("  %-9s %7.1f %6.1f %6.1f %8.1f %6.1f %9.1f %6.1f %5s\n", site_id(c, v),
		       s->total, s->base, s->school, s->critical, s->staff, s->bandwidth, s->rent,
		       p->year[v] ? year : "-");
	}
	if (a->nscen) {
		printf("\nBudget scenarios: coverage at the end of each year\n  %-6s", "YEAR");
		for (int i = 0; i < a->nscen; i++)
			printf(" %12s", eur(b1, sizeof(b1), a->scen[i]));
		putchar('\n');
		for (int t = 1; t <= in->horizon; t++) {
			printf("  %-6d", r->cfg->start_year + t - 1);
			for (int i = 0; i < a->nscen; i++)
				printf(" %11.1f%%",
				       100 * share(c, covered(c, &r->scen_plan[i], t)));
			putchar('\n');
		}
		printf("  %-6s", "gap");
		for (int i = 0; i < a->nscen; i++)
			printf(" %11.2f%%", 100 * gap(r->scen_bound[i], r->scen_plan[i].value));
		putchar('\n');
	}
	return fflush(stdout) == 0 ? SEG_EXIT_OK : SEG_EXIT_SYSTEM;
}

static int load(const struct args *a, struct diag_list *dl, struct inventory **inv,
		struct rollout_config *cfg)
{
	int r = inventory_load(a->dir, dl, inv);
	if (r < 0)
		return r == -ENOMEM ? SEG_EXIT_SYSTEM : SEG_EXIT_INPUT;
	char *path = NULL;
	if (!a->config && asprintf(&path, "%s/rollout.yaml", a->dir) < 0)
		return SEG_EXIT_SYSTEM;
	r = rollout_config_load(a->config ? a->config : path, NULL, dl, cfg);
	free(path);
	if (r == -ENOMEM)
		return SEG_EXIT_SYSTEM;
	/* A file with errors still has its pins checked, so every error is reported at once. */
	if (r < 0 && r != -EINVAL)
		return SEG_EXIT_INPUT;
	if (a->years)
		cfg->horizon = (int)a->years;
	if (a->have_budget) {
		cfg->yearly_budget = a->budget;
		memset(cfg->year_budget, 0, sizeof(cfg->year_budget));
	}
	return SEG_EXIT_OK;
}

static int solve(const struct args *a, struct rollout_city *city, struct rollout_plan *plan,
		 struct result *res)
{
	const struct rollout_config *cfg = res->cfg;
	int r = rollout_heuristic(city->inst, plan);
	if (r == -ENOSPC)
		return out_fail(SEG_EXIT_FINDINGS,
				"rollout: the pinned sites cannot be connected within their "
				"years' budgets");
	if (r < 0)
		return out_fail(SEG_EXIT_SYSTEM, "rollout: %s", strerror(-r));
	res->bound = rollout_bound(city->inst);
	if (!a->exact)
		return SEG_EXIT_OK;
	struct rollout_plan x = {0};
	struct rollout_exact_info info;
	struct rollout_exact_opts o = {cfg->exact_max_sites, cfg->exact_time_limit_s};
	if (rollout_plan_init(&x, city->inst) < 0)
		return out_fail(SEG_EXIT_SYSTEM, "rollout: out of memory");
	r = rollout_exact(city->inst, &o, plan, &x, &info);
	if (r == 0 && x.value >= plan->value - 1e-9)
		r = rollout_plan_copy(plan, &x);
	rollout_plan_clear(&x);
	if (r == -E2BIG)
		return out_fail(
		    SEG_EXIT_FINDINGS,
		    "rollout: --exact solves at most %d sites to connect (exact.max_sites "
		    "in rollout.yaml); this plan has %d: use the heuristic, whose gap to "
		    "the bound is printed",
		    o.max_sites, city->inst->n);
	if (r == -ENOSPC)
		return out_fail(SEG_EXIT_FINDINGS, "rollout: no plan satisfies the pins");
	if (r == -ETIME)
		return out_fail(SEG_EXIT_FINDINGS,
				"rollout: GLPK found no plan within %g s (exact.time_limit_s)",
				o.time_limit_s);
	if (r < 0)
		return out_fail(SEG_EXIT_SYSTEM, "rollout: GLPK failed (%s)", strerror(-r));
	res->solver = "exact";
	res->optimal = info.optimal;
	/* The solver's own bound is the tighter one when it proved the optimum. */
	if (info.optimal || info.bound < res->bound)
		res->bound = info.optimal ? plan->value : info.bound;
	return SEG_EXIT_OK;
}

static int scenarios(const struct args *a, struct rollout_city *city, struct result *res)
{
	double saved[ROLLOUT_MAX_YEARS + 1];
	memcpy(saved, city->inst->budget, sizeof(saved));
	int r = 0;
	for (int i = 0; i < a->nscen && r == 0; i++) {
		rollout_city_set_budget(city, a->scen[i]);
		r = rollout_plan_init(&res->scen_plan[i], city->inst);
		if (r == 0)
			r = rollout_heuristic(city->inst, &res->scen_plan[i]);
		res->scen_bound[i] = rollout_bound(city->inst);
	}
	memcpy(city->inst->budget, saved, sizeof(saved));
	if (r == -ENOSPC)
		return out_fail(SEG_EXIT_FINDINGS,
				"rollout: in a scenario the pinned sites do not fit the budget");
	return r < 0 ? out_fail(SEG_EXIT_SYSTEM, "rollout: %s", strerror(-r)) : SEG_EXIT_OK;
}

int cmd_rollout(int argc, char **argv)
{
	struct args a = {0};
	int code = parse_args(argc, argv, &a);
	if (code < 0)
		return out_help(usage);
	if (code)
		return code;
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct rollout_config cfg;
	struct rollout_city *city = NULL;
	struct rollout_plan plan = {0};
	struct result res = {.cfg = &cfg, .solver = "heuristic"};
	rollout_config_init(&cfg);
	if (!dl) {
		code = out_fail(SEG_EXIT_SYSTEM, "rollout: out of memory");
		goto out;
	}
	if ((code = load(&a, dl, &inv, &cfg)) != SEG_EXIT_OK)
		goto out;
	int r = rollout_city_build(inv, &cfg, dl, &city);
	if ((code = out_input_code(dl, r)) != SEG_EXIT_OK)
		goto out;
	if (diag_count(dl))
		out_diags(dl);
	if (rollout_plan_init(&plan, city->inst) < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "rollout: out of memory");
		goto out;
	}
	res.city = city;
	res.plan = &plan;
	if ((code = solve(&a, city, &plan, &res)) != SEG_EXIT_OK ||
	    (code = scenarios(&a, city, &res)) != SEG_EXIT_OK)
		goto out;
	if (a.json)
		code = print_json(&res, &a);
	else if (a.csv)
		code = print_csv(&res);
	else
		code = print_text(&res, &a);
out:
	if (code == SEG_EXIT_INPUT || (code == SEG_EXIT_SYSTEM && dl && diag_count(dl)))
		out_diags(dl);
	for (int i = 0; i < MAX_SCENARIOS; i++)
		rollout_plan_clear(&res.scen_plan[i]);
	rollout_plan_clear(&plan);
	rollout_city_free(city);
	rollout_config_clear(&cfg);
	inventory_free(inv);
	diag_list_free(dl);
	return code;
}
