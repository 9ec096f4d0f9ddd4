/* SPDX-License-Identifier: MIT */
/*
 * From an inventory and rollout.yaml to a rollout instance
 * (docs/rollout.md): the sites to connect, their priority scores and the
 * candidate trenches; and back from a plan to sites, years and rents.
 */
#ifndef SEGPLAN_ROLLOUT_CITY_H
#define SEGPLAN_ROLLOUT_CITY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "inventory/inventory.h"
#include "rollout/rollout_config.h"
#include "rollout/rollout_model.h"

/* The parts of a site's priority score (docs/rollout.md, "Priority"). */
struct rollout_score {
	double base, school, critical, staff, bandwidth, rent, total;
};

enum rollout_urgent {
	ROLLOUT_URGENT_SCHOOL = 1u << 0,   /* an under-served school */
	ROLLOUT_URGENT_CRITICAL = 1u << 1, /* critical infrastructure without fibre */
};

struct rollout_city {
	const struct inventory *inv;
	struct rollout_inst *inst;    /* node v is inv->sites[inst->nodes[v].site] */
	struct rollout_score *score;  /* per node, [0] unused */
	unsigned *urgent;	      /* per node: enum rollout_urgent bits */
	int *site_node;		      /* per inventory site: node, or -1 */
	size_t sites;		      /* sites that need broadband: all but data centres */
	size_t fibre;		      /* of those, on fibre now */
	size_t excluded, unreachable; /* left out of the instance */
};

/*
 * Builds the instance. Pins and exclusions naming unknown sites, sites
 * already on fibre or years beyond the horizon are located errors in
 * cfg->file. Returns 0, -EINVAL after errors, or -ENOMEM.
 */
int rollout_city_build(const struct inventory *inv, const struct rollout_config *cfg,
		       struct diag_list *dl, struct rollout_city **out);
void rollout_city_free(struct rollout_city *c);

/* Sets every year's budget to eur (the --budget and --scenario levers). */
void rollout_city_set_budget(struct rollout_city *c, double eur);

/* Interim rent an urgent site pays until the end of its year (the horizon when unplanned). */
double rollout_city_rent(const struct rollout_config *cfg, int year, int horizon);

#endif
