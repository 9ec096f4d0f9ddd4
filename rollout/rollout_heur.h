/* SPDX-License-Identifier: MIT */
/*
 * The fast rollout solver for any size (docs/rollout.md, "Heuristic"):
 * year by year, greedy by weight per euro over the cheapest chain of sites
 * that reaches a site from the network, then local improvement (move a site
 * earlier, drop one and refill, insert one earlier at the price of others,
 * exchange two) and, on small instances, an iterated local search from a
 * fixed seed. Every plan it returns keeps every year's budget; the result
 * is deterministic.
 */
#ifndef SEGPLAN_ROLLOUT_HEUR_H
#define SEGPLAN_ROLLOUT_HEUR_H

#include "rollout/rollout_model.h"

/*
 * Fills out (initialised with rollout_plan_init). Returns 0; -ENOSPC when
 * the pinned sites alone cannot be connected within their years' budgets
 * (out then holds the pins and whatever else fits is not planned); -ENOMEM.
 */
int rollout_heuristic(const struct rollout_inst *in, struct rollout_plan *out);

/*
 * The construction step alone, for comparisons: year by year, the chain with
 * the best weight / cost^alpha that still fits (alpha 0: the heaviest chain
 * that fits, as a priority list would do). Same returns as above.
 */
int rollout_greedy(const struct rollout_inst *in, double alpha, struct rollout_plan *out);

#endif
