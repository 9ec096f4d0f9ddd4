/* SPDX-License-Identifier: MIT */
/*
 * The rollout model as a mixed-integer programme solved by GLPK
 * (docs/rollout.md, "Exact solver"): binary arc variables a[u->v,t] (v is
 * connected in year t through the trench from u), and a directed
 * multi-commodity flow, one commodity per site, that carries one unit from
 * the network to the site in its year over arcs built by then:
 * g[k,u->v,t] <= sum_{s<=t} a[u->v,s]. GLPK's cuts are on and the
 * heuristic's plan is handed to it as the first incumbent.
 */
#ifndef SEGPLAN_ROLLOUT_EXACT_H
#define SEGPLAN_ROLLOUT_EXACT_H

#include <stdbool.h>

#include "rollout/rollout_model.h"

#define ROLLOUT_EXACT_MAX_SITES 25

struct rollout_exact_opts {
	int max_sites;	     /* refuse larger instances (-E2BIG); 0 = ROLLOUT_EXACT_MAX_SITES */
	double time_limit_s; /* 0 = none */
};

struct rollout_exact_info {
	bool optimal;	/* proven */
	double bound;	/* the best bound GLPK proved (== value when optimal) */
	double seconds; /* wall time inside GLPK */
	int rows, cols;
};

/*
 * Solves in to optimality or until the time limit. warm may be NULL or a
 * valid plan for in. out gets the best plan found (re-evaluated with the
 * model's cheapest parents). Returns 0; -E2BIG when in->n exceeds the
 * size limit; -ENOSPC when no plan satisfies the pins; -ETIME when the time
 * ran out before any plan was found; -ENOMEM; -EIO when GLPK failed.
 */
int rollout_exact(const struct rollout_inst *in, const struct rollout_exact_opts *opts,
		  const struct rollout_plan *warm, struct rollout_plan *out,
		  struct rollout_exact_info *info);

#endif
