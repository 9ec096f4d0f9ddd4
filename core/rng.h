/* SPDX-License-Identifier: MIT */
/*
 * xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64: the one
 * pseudo-random generator of the deterministic parts (the example city, the
 * VPN model's Monte Carlo). The same seed gives the same stream everywhere.
 */
#ifndef SEGPLAN_RNG_H
#define SEGPLAN_RNG_H

#include <stdint.h>

struct xoshiro {
	uint64_t s[4];
};

/* splitmix64 spreads any seed, 0 included, over the whole state. */
void xoshiro_seed(struct xoshiro *r, uint64_t seed);
uint64_t xoshiro_next(struct xoshiro *r);

#endif
