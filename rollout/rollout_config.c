// SPDX-License-Identifier: MIT
#include "rollout/rollout_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/yamlread.h"

const char rollout_example_yaml[] =
    "# Broadband rollout of the example city (docs/rollout.md).\n"
    "# Money in EUR, lengths in metres.\n"
    "horizon_years: 5\n"
    "start_year: 2026\n"
    "budget:\n"
    "  yearly_eur: 5000000\n"
    "  carry_over: false\n"
    "  years: {}            # year number -> EUR, e.g. {3: 6000000}\n"
    "cost:\n"
    "  site_fixed_eur: 30000  # building entry, in-house cabling, equipment\n"
    "  trench_eur_per_m: 210\n"
    "  detour_factor: 1.3     # trench length over straight-line distance\n"
    "  neighbours: 4          # candidate trenches per site without planned ones\n"
    "priority:\n"
    "  base: 1\n"
    "  school: 50\n"
    "  critical: 40\n"
    "  staff: 0.05            # per person working there\n"
    "  bandwidth_gap: 0.02    # per Mbit/s of required - current\n"
    "  interim_rent: 1        # per 1,000 EUR of yearly interim rent\n"
    "interim:\n"
    "  rent_eur_per_month: 450\n"
    "exact:\n"
    "  max_sites: 25\n"
    "  time_limit_s: 60\n"
    "pins: {}               # site id -> year\n"
    "exclude: []            # site ids\n";

void rollout_config_init(struct rollout_config *c)
{
	memset(c, 0, sizeof(*c));
	c->horizon = 5;
	c->start_year = 2026;
	c->yearly_budget = 5e6;
	c->site_fixed_eur = 30000;
	c->trench_eur_per_m = 210;
	c->detour_factor = 1.3;
	c->neighbours = 4;
	c->w_base = 1;
	c->w_school = 50;
	c->w_critical = 40;
	c->w_staff = 0.05;
	c->w_bandwidth = 0.02;
	c->w_rent = 1;
	c->rent_eur_per_year = 450 * 12;
	c->exact_max_sites = 25;
	c->exact_time_limit_s = 60;
}

static void refs_free(struct rollout_site_ref *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].site);
	free(r);
}

void rollout_config_clear(struct rollout_config *c)
{
	if (!c)
		return;
	free(c->file);
	refs_free(c->pins, c->npins);
	refs_free(c->exclude, c->nexclude);
	rollout_config_init(c);
}

double rollout_config_budget(const struct rollout_config *c, int t)
{
	if (t >= 1 && t <= ROLLOUT_MAX_YEARS && c->year_budget[t] > 0)
		return c->year_budget[t];
	return c->yearly_budget;
}

static int add_ref(struct rollout_site_ref **arr, size_t *n, const struct ynode *key, int year)
{
	struct rollout_site_ref *a = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!a)
		return -ENOMEM;
	*arr = a;
	char *s = strdup(ynode_scalar(key));
	if (!s)
		return -ENOMEM;
	a[(*n)++] = (struct rollout_site_ref){s, year, ynode_line(key), ynode_col(key)};
	return 0;
}

static bool section(const struct ydoc *d, const struct ynode *root, const char *key,
		    const char *const *known, size_t nknown, struct diag_list *dl,
		    const struct ynode **out)
{
	*out = ynode_get(root, key);
	if (!*out)
		return true;
	if (!ynode_expect(d, *out, YNODE_MAP, key, dl)) {
		*out = NULL;
		return false;
	}
	return ynode_check_keys(d, *out, known, nknown, dl);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A plan year, as a year number (1 = start_year) or as a calendar year
 * (from 1900): planners write "S000123: 2027" as often as "S000123: 2".
 */
static bool plan_year(const struct ydoc *d, const struct ynode *n, const struct rollout_config *c,
		      struct diag_list *dl, long *out)
{
	long v;
	if (!ynode_to_long(d, n, 1, 9999, dl, &v))
		return false;
	long k = v >= 1900 ? v - c->start_year + 1 : v;
	if (k < 1 || k > ROLLOUT_MAX_YEARS) {
		ynode_error(d, n, dl,
			    "year %ld: give a year number from 1 to %d or a calendar year from %d "
			    "to %d",
			    v, ROLLOUT_MAX_YEARS, c->start_year,
			    c->start_year + ROLLOUT_MAX_YEARS - 1);
		return false;
	}
	*out = k;
	return true;
}

static int parse(const struct ydoc *d, struct diag_list *dl, struct rollout_config *c)
{
	static const char *const top[] = {"horizon_years", "start_year", "budget",
					  "cost",	   "priority",	 "interim",
					  "exact",	   "pins",	 "exclude"};
	static const char *const kbudget[] = {"yearly_eur", "carry_over", "years"};
	static const char *const kcost[] = {"site_fixed_eur", "trench_eur_per_m", "detour_factor",
					    "neighbours"};
	static const char *const kprio[] = {"base",  "school",	      "critical",
					    "staff", "bandwidth_gap", "interim_rent"};
	static const char *const kint[] = {"rent_eur_per_month", "rent_eur_per_year"};
	static const char *const kexact[] = {"max_sites", "time_limit_s"};
	const struct ynode *root = ydoc_root(d), *s;
	long l;
	int r;
	if (!root)
		return 0; /* an empty file: every default */
	if (!ynode_expect(d, root, YNODE_MAP, "rollout.yaml", dl))
		return 0;
	ynode_check_keys(d, root, top, N(top), dl);
	l = c->horizon;
	if (ynode_get_long(d, root, "horizon_years", false, 1, ROLLOUT_MAX_YEARS, dl, &l))
		c->horizon = (int)l;
	l = c->start_year;
	if (ynode_get_long(d, root, "start_year", false, 1900, 9999, dl, &l))
		c->start_year = (int)l;

	if (section(d, root, "budget", kbudget, N(kbudget), dl, &s) && s) {
		ynode_get_double(d, s, "yearly_eur", false, 0, 1e12, dl, &c->yearly_budget);
		ynode_get_bool(d, s, "carry_over", false, dl, &c->carry_over);
		const struct ynode *y = ynode_get(s, "years");
		if (y && ynode_expect(d, y, YNODE_MAP, "years", dl)) {
			for (size_t i = 0; i < ynode_len(y); i++) {
				double eur;
				if (plan_year(d, ynode_key(y, i), c, dl, &l) &&
				    ynode_to_double(d, ynode_value(y, i), 1, 1e12, dl, &eur))
					c->year_budget[l] = eur;
			}
		}
	}
	if (section(d, root, "cost", kcost, N(kcost), dl, &s) && s) {
		ynode_get_double(d, s, "site_fixed_eur", false, 0, 1e9, dl, &c->site_fixed_eur);
		ynode_get_double(d, s, "trench_eur_per_m", false, 0, 1e6, dl, &c->trench_eur_per_m);
		ynode_get_double(d, s, "detour_factor", false, 1, 10, dl, &c->detour_factor);
		l = c->neighbours;
		if (ynode_get_long(d, s, "neighbours", false, 1, 50, dl, &l))
			c->neighbours = (int)l;
	}
	if (section(d, root, "priority", kprio, N(kprio), dl, &s) && s) {
		ynode_get_double(d, s, "base", false, 0, 1e6, dl, &c->w_base);
		ynode_get_double(d, s, "school", false, 0, 1e6, dl, &c->w_school);
		ynode_get_double(d, s, "critical", false, 0, 1e6, dl, &c->w_critical);
		ynode_get_double(d, s, "staff", false, 0, 1e6, dl, &c->w_staff);
		ynode_get_double(d, s, "bandwidth_gap", false, 0, 1e6, dl, &c->w_bandwidth);
		ynode_get_double(d, s, "interim_rent", false, 0, 1e6, dl, &c->w_rent);
	}
	if (section(d, root, "interim", kint, N(kint), dl, &s) && s) {
		double m = -1, y = -1;
		ynode_get_double(d, s, "rent_eur_per_month", false, 0, 1e9, dl, &m);
		ynode_get_double(d, s, "rent_eur_per_year", false, 0, 1e10, dl, &y);
		if (m >= 0 && y >= 0)
			ynode_error(d, ynode_get(s, "rent_eur_per_year"), dl,
				    "give the interim rent per month or per year, not both");
		else if (m >= 0)
			c->rent_eur_per_year = 12 * m;
		else if (y >= 0)
			c->rent_eur_per_year = y;
	}
	if (section(d, root, "exact", kexact, N(kexact), dl, &s) && s) {
		l = c->exact_max_sites;
		if (ynode_get_long(d, s, "max_sites", false, 1, 200, dl, &l))
			c->exact_max_sites = (int)l;
		ynode_get_double(d, s, "time_limit_s", false, 0, 1e6, dl, &c->exact_time_limit_s);
	}
	const struct ynode *pins = ynode_get(root, "pins");
	if (pins && ynode_expect(d, pins, YNODE_MAP, "pins", dl)) {
		for (size_t i = 0; i < ynode_len(pins); i++) {
			const struct ynode *k = ynode_key(pins, i);
			if (!ynode_scalar(k)) {
				ynode_error(d, k, dl, "a pin's key must be a site id");
				continue;
			}
			if (plan_year(d, ynode_value(pins, i), c, dl, &l) &&
			    (r = add_ref(&c->pins, &c->npins, k, (int)l)) < 0)
				return r;
		}
	}
	const struct ynode *ex = ynode_get(root, "exclude");
	if (ex && ynode_expect(d, ex, YNODE_SEQ, "exclude", dl)) {
		for (size_t i = 0; i < ynode_len(ex); i++) {
			const struct ynode *k = ynode_item(ex, i);
			if (!ynode_scalar(k)) {
				ynode_error(d, k, dl, "exclude lists site ids");
				continue;
			}
			if ((r = add_ref(&c->exclude, &c->nexclude, k, 0)) < 0)
				return r;
		}
	}
	return 0;
}

/* before: the errors in dl before the document was loaded (a duplicate key is
 * an error of the load that still yields a document). */
static int finish(struct ydoc *d, struct diag_list *dl, struct rollout_config *c, int r,
		  size_t before)
{
	if (r == 0) {
		free(c->file);
		c->file = strdup(ydoc_name(d));
		r = c->file ? parse(d, dl, c) : -ENOMEM;
	}
	ydoc_free(d);
	if (r == 0 && diag_errors(dl) > before)
		r = -EINVAL;
	return r;
}

int rollout_config_load(const char *path, const char *display, struct diag_list *dl,
			struct rollout_config *c)
{
	struct ydoc *d = NULL;
	size_t before = diag_errors(dl);
	int r = ydoc_load(path, display, dl, &d);
	return finish(d, dl, c, r, before);
}

int rollout_config_load_buffer(const char *buf, size_t len, const char *name, struct diag_list *dl,
			       struct rollout_config *c)
{
	struct ydoc *d = NULL;
	size_t before = diag_errors(dl);
	int r = ydoc_load_buffer(buf, len, name, dl, &d);
	return finish(d, dl, c, r, before);
}
