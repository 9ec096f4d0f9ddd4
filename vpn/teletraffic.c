// SPDX-License-Identifier: MIT
#include "vpn/teletraffic.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double tt_erlang_b(double a, long n)
{
	double b = 1.0;
	for (long k = 1; k <= n; k++)
		b = a * b / ((double)k + a * b);
	return b;
}

long tt_erlang_b_servers(double a, double target)
{
	if (a <= 0)
		return 0;
	double b = 1.0;
	long k = 0;
	while (b > target) {
		k++;
		b = a * b / ((double)k + a * b);
	}
	return k;
}

double tt_engset_time(long sources, long n, double beta)
{
	if (n > sources)
		return 0.0;
	double e = 1.0;
	for (long k = 1; k <= n; k++) {
		double x = (double)(sources - k + 1) * beta * e;
		e = x / ((double)k + x);
	}
	return e;
}

double tt_engset_call(long sources, long n, double beta)
{
	return sources < 1 ? 0.0 : tt_engset_time(sources - 1, n, beta);
}

double tt_engset_blocking(long sources, long n, double alpha)
{
	if (sources < 1 || n >= sources || alpha <= 0)
		return 0.0;
	if (n <= 0)
		return 1.0;
	if (alpha >= 1)
		return 1.0;
	/* g(B) = E(beta(B)) - B is >= 0 at B = 0 and < 0 at B = 1. */
	double lo = 0, hi = 1;
	for (int i = 0; i < 60; i++) {
		double b = (lo + hi) / 2;
		double beta = alpha / (1 - alpha * (1 - b));
		if (tt_engset_call(sources, n, beta) > b)
			lo = b;
		else
			hi = b;
	}
	return (lo + hi) / 2;
}

long tt_engset_servers(long sources, double alpha, double target)
{
	if (sources < 1 || alpha <= 0)
		return 0;
	/* Blocking falls as servers are added; with n = S nothing is blocked. */
	long lo = 0, hi = sources;
	while (hi - lo > 1) {
		long mid = lo + (hi - lo) / 2;
		if (tt_engset_blocking(sources, mid, alpha) <= target)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

void tt_pmf_free(struct tt_pmf *d)
{
	if (!d)
		return;
	free(d->p);
	d->p = NULL;
	d->len = 0;
	d->lo = 0;
}

static int pmf_point(long k, struct tt_pmf *out)
{
	out->p = malloc(sizeof(double));
	if (!out->p)
		return -ENOMEM;
	out->p[0] = 1.0;
	out->lo = k;
	out->len = 1;
	return 0;
}

int tt_binomial_pmf(long n, double p, struct tt_pmf *out)
{
	memset(out, 0, sizeof(*out));
	if (n <= 0 || p <= 0)
		return pmf_point(0, out);
	if (p >= 1)
		return pmf_point(n, out);
	long mode = (long)floor((double)(n + 1) * p);
	if (mode > n)
		mode = n;
	double lmode = lgamma((double)n + 1) - lgamma((double)mode + 1) -
		       lgamma((double)(n - mode) + 1) + (double)mode * log(p) +
		       (double)(n - mode) * log1p(-p);
	double pm = exp(lmode);
	double odds = p / (1 - p);
	/* Find the support first, so the values go straight into place. */
	long lo = mode, hi = mode;
	for (double v = pm; lo > 0;) {
		v *= (double)lo / ((double)(n - lo + 1) * odds);
		if (v < TT_PMF_CUT)
			break;
		lo--;
	}
	for (double v = pm; hi < n;) {
		v *= (double)(n - hi) / ((double)(hi + 1)) * odds;
		if (v < TT_PMF_CUT)
			break;
		hi++;
	}
	size_t len = (size_t)(hi - lo + 1);
	double *v = malloc(len * sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t m = (size_t)(mode - lo);
	v[m] = pm;
	for (size_t i = m; i > 0; i--) {
		long k = lo + (long)i; /* P(k-1) from P(k) */
		v[i - 1] = v[i] * (double)k / ((double)(n - k + 1) * odds);
	}
	for (size_t i = m; i + 1 < len; i++) {
		long k = lo + (long)i; /* P(k+1) from P(k) */
		v[i + 1] = v[i] * (double)(n - k) / ((double)(k + 1)) * odds;
	}
	/* The recurrence drifts by a few ulps per step: renormalise. */
	double sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += v[i];
	for (size_t i = 0; i < len; i++)
		v[i] /= sum;
	out->lo = lo;
	out->len = len;
	out->p = v;
	return 0;
}

int tt_pmf_convolve(const struct tt_pmf *a, const struct tt_pmf *b, struct tt_pmf *out)
{
	memset(out, 0, sizeof(*out));
	size_t len = a->len + b->len - 1;
	double *v = calloc(len, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < a->len; i++) {
		double x = a->p[i];
		double *dst = v + i;
		for (size_t j = 0; j < b->len; j++)
			dst[j] += x * b->p[j];
	}
	/* Trim the negligible ends, so repeated convolutions stay narrow. */
	size_t first = 0, last = len - 1;
	while (first < last && v[first] < TT_PMF_CUT)
		first++;
	while (last > first && v[last] < TT_PMF_CUT)
		last--;
	if (first > 0)
		memmove(v, v + first, (last - first + 1) * sizeof(*v));
	out->lo = a->lo + b->lo + (long)first;
	out->len = last - first + 1;
	out->p = v;
	return 0;
}

double tt_pmf_tail(const struct tt_pmf *d, long c)
{
	double t = 0;
	for (size_t i = d->len; i-- > 0;) {
		if (d->lo + (long)i <= c)
			break;
		t += d->p[i];
	}
	return t;
}

long tt_pmf_upper(const struct tt_pmf *d, double eps)
{
	/* Summed from the top: the small terms first, no cancellation. */
	long c = d->lo + (long)d->len - 1;
	double tail = 0;
	for (size_t i = d->len - 1; i > 0; i--) {
		if (tail + d->p[i] > eps)
			break;
		tail += d->p[i];
		c--;
	}
	return c;
}

double tt_pmf_mean(const struct tt_pmf *d)
{
	double m = 0;
	for (size_t i = 0; i < d->len; i++)
		m += d->p[i] * (double)(d->lo + (long)i);
	return m;
}

double tt_norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

double tt_norm_quantile(double p)
{
	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p > 0.5)
		return -tt_norm_quantile(1 - p);
	/* Start from Abramowitz and Stegun 26.2.23 (error < 4.5e-4), then
	 * Newton on the exact cdf: three steps reach double precision. */
	double t = sqrt(-2 * log(p));
	double x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) /
			     (1 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
	for (int i = 0; i < 4; i++) {
		double dens = exp(-0.5 * x * x) / sqrt(2 * M_PI);
		if (dens <= 0)
			break;
		x -= (tt_norm_cdf(x) - p) / dens;
	}
	return x;
}

double tt_lognormal_max_ratio(double level)
{
	double z = tt_norm_quantile(level);
	return exp(z * z / 2);
}

int tt_lognormal_fit(double mean, double q, double level, double *mu, double *sigma)
{
	double z = tt_norm_quantile(level);
	if (!(mean > 0) || !(q >= mean) || !(z > 0))
		return -EDOM;
	double d = z * z - 2 * log(q / mean);
	if (d < 0)
		return -EDOM;
	double s = z - sqrt(d);
	*sigma = s;
	*mu = log(mean) - s * s / 2;
	return 0;
}

void tt_rng_seed(struct tt_rng *r, uint64_t seed)
{
	xoshiro_seed(&r->x, seed);
	r->has_spare = false;
	r->spare = 0;
}

uint64_t tt_rng_next(struct tt_rng *r)
{
	return xoshiro_next(&r->x);
}

double tt_rng_uniform(struct tt_rng *r)
{
	/* The top 53 bits, shifted by half a step: never 0, never 1. */
	return ((double)(tt_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

double tt_rng_normal(struct tt_rng *r)
{
	if (r->has_spare) {
		r->has_spare = false;
		return r->spare;
	}
	double u, v, s;
	do {
		u = 2 * tt_rng_uniform(r) - 1;
		v = 2 * tt_rng_uniform(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	double f = sqrt(-2 * log(s) / s);
	r->spare = v * f;
	r->has_spare = true;
	return u * f;
}
