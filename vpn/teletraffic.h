/* SPDX-License-Identifier: MIT */
/*
 * Teletraffic maths for the VPN model (docs/vpn.md): Erlang's loss formula,
 * Engset's formula, binomial distributions and their exact convolution, the
 * lognormal fit of a bandwidth, and a small seeded PRNG for Monte Carlo.
 * Pure functions; nothing here knows about vpn.yaml.
 */
#ifndef SEGPLAN_TELETRAFFIC_H
#define SEGPLAN_TELETRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

/*
 * Erlang B: the blocking probability of n servers offered a erlangs of
 * Poisson traffic, by the recurrence B(0) = 1,
 * B(k) = a B(k-1) / (k + a B(k-1)), which never overflows.
 */
double tt_erlang_b(double a, long n);
/* The smallest n with B(a, n) <= target (0 when a is 0). */
long tt_erlang_b_servers(double a, double target);

/*
 * Engset time congestion E(S, n, beta): the probability that all n servers
 * are busy when S sources each offer beta erlangs while idle (Iversen,
 * Teletraffic Engineering Handbook, ch. 8), by the recurrence E(0) = 1,
 * E(k) = (S-k+1) beta E(k-1) / (k + (S-k+1) beta E(k-1)).
 */
double tt_engset_time(long sources, long n, double beta);
/* Call congestion: what an arriving request sees, E(S-1, n, beta). */
double tt_engset_call(long sources, long n, double beta);
/*
 * Call congestion when each source offers alpha erlangs (0 <= alpha < 1),
 * the traffic it would carry if nothing were blocked. A blocked source
 * returns to idle at once, so its idle intensity beta solves
 * beta = alpha / (1 - alpha (1 - B)) with B the call congestion itself;
 * the fixed point is found by bisection on B, which always converges (plain
 * iteration can oscillate).
 */
double tt_engset_blocking(long sources, long n, double alpha);
/* The smallest n with tt_engset_blocking <= target (at most sources). */
long tt_engset_servers(long sources, double alpha, double target);

/* A probability mass function on the integers lo .. lo + len - 1. */
struct tt_pmf {
	long lo;
	size_t len;
	double *p;
};

/*
 * Binomial(n, p), built from the mode outward by the ratio recurrence
 * P(k+1)/P(k) = (n-k)/(k+1) * p/(1-p) starting from the log-space value at
 * the mode, so no factorial or power ever under- or overflows. Terms below
 * TT_PMF_CUT are left out. Returns 0 or -ENOMEM.
 */
int tt_binomial_pmf(long n, double p, struct tt_pmf *out);
/* The distribution of the sum of two independent variables; out is new. */
int tt_pmf_convolve(const struct tt_pmf *a, const struct tt_pmf *b, struct tt_pmf *out);
void tt_pmf_free(struct tt_pmf *d);
/* P(X > c). */
double tt_pmf_tail(const struct tt_pmf *d, long c);
/* The smallest c with P(X > c) <= eps. */
long tt_pmf_upper(const struct tt_pmf *d, double eps);
double tt_pmf_mean(const struct tt_pmf *d);

/* Terms smaller than this are dropped: their total mass is below 1e-35. */
#define TT_PMF_CUT 1e-40

/* The standard normal distribution. */
double tt_norm_cdf(double x);
/* Its quantile, for 0 < p < 1, to full double precision. */
double tt_norm_quantile(double p);

/*
 * The lognormal ln X ~ N(mu, sigma^2) with the given mean and quantile q at
 * level (e.g. 0.95): mean = exp(mu + sigma^2/2), q = exp(mu + z sigma), so
 * sigma = z - sqrt(z^2 - 2 ln(q/mean)) (the root with sigma < z). Needs
 * mean <= q <= mean * exp(z^2/2); returns -EDOM otherwise.
 */
int tt_lognormal_fit(double mean, double q, double level, double *mu, double *sigma);
/* The largest q/mean ratio tt_lognormal_fit accepts at level. */
double tt_lognormal_max_ratio(double level);

/* core/rng.h's generator, with the spare of the polar method. */
struct tt_rng {
	struct xoshiro x;
	bool has_spare;
	double spare;
};

void tt_rng_seed(struct tt_rng *r, uint64_t seed);
uint64_t tt_rng_next(struct tt_rng *r);
/* Uniform in the open interval (0, 1). */
double tt_rng_uniform(struct tt_rng *r);
/* Standard normal (Marsaglia's polar method). */
double tt_rng_normal(struct tt_rng *r);

#endif
