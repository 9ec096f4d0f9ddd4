/* SPDX-License-Identifier: MIT */
/*
 * Seeded random rollout instances for the tests, the golden optima and the
 * benchmark: sites in clusters east of a fibre backbone, so that most sites
 * are reached most cheaply through a neighbour that is not connected yet.
 * The same seed gives the same instance on every machine (own PRNG,
 * distances from sqrt only, costs in whole euros).
 */
#ifndef SEGPLAN_ROLLOUT_GEN_H
#define SEGPLAN_ROLLOUT_GEN_H

#include <stdint.h>

#include "rollout/rollout_model.h"

/* Instances are redrawn until at least this share of sites needs a chain. */
#define ROLLOUT_GEN_MIN_CHAIN_SHARE 0.3

/*
 * n sites, horizon years; NULL on out-of-memory or bad arguments. The
 * yearly budget is a quarter of the cost of connecting every site at once.
 */
struct rollout_inst *rollout_gen_random(uint64_t seed, int n, int horizon);

/*
 * The share of sites whose cheapest connection on their own (trenches plus
 * the fixed costs of every other site on the way) runs through another site
 * that is not connected yet. -ENOMEM as a negative value.
 */
double rollout_gen_chain_share(const struct rollout_inst *in);

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, and the same everywhere. */
uint64_t rollout_gen_next(uint64_t *state);

#endif
