/* SPDX-License-Identifier: MIT */
/*
 * rollout.yaml: budget, cost model, priority weights, interim rent, pins and
 * exclusions of the broadband rollout (every key is in docs/rollout.md).
 */
#ifndef SEGPLAN_ROLLOUT_CONFIG_H
#define SEGPLAN_ROLLOUT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "rollout/rollout_model.h"

/* The example city's rollout.yaml (written by `segplan example`). */
extern const char rollout_example_yaml[];

/* A site named in rollout.yaml, with where it was named. */
struct rollout_site_ref {
	char *site;
	int year; /* pins only */
	unsigned line, col;
};

struct rollout_config {
	char *file; /* name used in diagnostics */
	int horizon;
	int start_year; /* calendar year of year 1, for display */
	double yearly_budget;
	bool carry_over;
	double year_budget[ROLLOUT_MAX_YEARS + 1]; /* > 0: override for that year */
	double site_fixed_eur, trench_eur_per_m, detour_factor;
	int neighbours;
	double w_base, w_school, w_critical, w_staff, w_bandwidth, w_rent;
	double rent_eur_per_year;
	int exact_max_sites;
	double exact_time_limit_s;
	struct rollout_site_ref *pins, *exclude;
	size_t npins, nexclude;
};

/* The documented defaults. */
void rollout_config_init(struct rollout_config *c);
void rollout_config_clear(struct rollout_config *c);

/*
 * Reads rollout.yaml over the defaults in c (initialise c first). Every
 * problem is a located diagnostic; returns 0, -EINVAL when errors were
 * reported, or another negative errno.
 */
int rollout_config_load(const char *path, const char *display, struct diag_list *dl,
			struct rollout_config *c);
int rollout_config_load_buffer(const char *buf, size_t len, const char *name, struct diag_list *dl,
			       struct rollout_config *c);

/* The budget of year t (1-based). */
double rollout_config_budget(const struct rollout_config *c, int t);

#endif
