/* SPDX-License-Identifier: MIT */
/*
 * An upper bound on the value of every plan of an instance, cheap at any size
 * (docs/rollout.md, "The bound", has the proof): each site costs at least its
 * fixed cost plus its cheapest candidate trench; the LP relaxation of the
 * multi-year knapsack over those costs is solved exactly by filling the years
 * in order with the best weight per euro first.
 */
#ifndef SEGPLAN_ROLLOUT_BOUND_H
#define SEGPLAN_ROLLOUT_BOUND_H

#include "rollout/rollout_model.h"

/* The bound, or a negative errno (-ENOMEM). O(m + n log n). */
double rollout_bound(const struct rollout_inst *in);

#endif
