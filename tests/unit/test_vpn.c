// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "vpn/teletraffic.h"
#include "vpn/vpn.h"

/* True when got equals a value published to 4 (or digits) significant digits. */
static bool sig_equal(double got, double want, int digits)
{
	double unit = pow(10, floor(log10(fabs(want))) - (digits - 1));
	return fabs(got - want) <= 0.5 * unit * (1 + 1e-9);
}

static struct vpn_config *load_text(const char *text, struct diag_list *dl)
{
	struct vpn_config *c = NULL;
	int r = vpn_load_buffer(text, strlen(text), "vpn.yaml", dl, &c);
	cr_assert_eq(r, 0, "load failed (%d):\n%s", r, tu_diags(dl));
	return c;
}

static struct vpn_config *example(struct diag_list *dl)
{
	return load_text(vpn_example_yaml, dl);
}

/* The offered load that gives blocking b on n servers, by bisection. */
static double erlang_b_load(long n, double b)
{
	double lo = 0, hi = 10.0 * (double)n + 10;
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;
		if (tt_erlang_b(mid, n) > b)
			hi = mid;
		else
			lo = mid;
	}
	return (lo + hi) / 2;
}

/* tests/fuzz/corpus/vpn/dup-key: the YAML reader reports a duplicate key as an
 * error and still yields the document; the configuration must not load. */
Test(vpn, duplicate_key_is_an_error_obeyed)
{
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = NULL;
	char *text;
	cr_assert(asprintf(&text, "%s%s", vpn_example_yaml, vpn_example_yaml) > 0);
	cr_assert_eq(vpn_load_buffer(text, strlen(text), "vpn.yaml", dl, &c), -EINVAL, "%s",
		     tu_diags(dl));
	cr_assert_null(c);
	cr_assert(tu_diag_contains(dl, "error: duplicate key 'groups'"), "%s", tu_diags(dl));
	free(text);
	diag_list_free(dl);
}

Test(teletraffic, erlang_b_published_values)
{
	/* erlang.com calculator manual, "How much traffic can a trunk group handle?":
	 * 15 lines at 1% blocking carry 8.108 erlangs. */
	cr_assert(sig_equal(erlang_b_load(15, 0.01), 8.108, 4), "%.6f", erlang_b_load(15, 0.01));
	/* Worked M/M/k/k example (scribd "QTDN", A = 180 erlangs): P200 = 0.01032,
	 * P201 = 0.00916, so 201 circuits are the minimum for 1%. */
	cr_assert(sig_equal(tt_erlang_b(180, 200), 0.01032, 4), "%.7f", tt_erlang_b(180, 200));
	cr_assert(sig_equal(tt_erlang_b(180, 201), 0.00916, 3), "%.7f", tt_erlang_b(180, 201));
	cr_assert_eq(tt_erlang_b_servers(180, 0.01), 201);
	cr_assert_eq(tt_erlang_b(5, 0), 1.0);
	cr_assert_eq(tt_erlang_b_servers(0, 0.01), 0);
}

Test(teletraffic, engset_published_values)
{
	/* R package 'queueing' 0.2.12, documentation of Engset(): three users, two
	 * servers, r = 0.5/0.7 prints 0.3275109 (the Engset time congestion). */
	cr_assert(sig_equal(tt_engset_time(3, 2, 0.5 / 0.7), 0.3275, 4), "%.7f",
		  tt_engset_time(3, 2, 0.5 / 0.7));
	/* Call congestion is the time congestion of the other S-1 sources. */
	cr_assert_float_eq(tt_engset_call(4, 2, 0.5 / 0.7), tt_engset_time(3, 2, 0.5 / 0.7), 1e-15);
	/* erlang.com Engset calculator (sources, total erlangs -> blocking on 5 lines),
	 * as quoted in the tests of fast-engset (Azimzadeh and Carpenter, ORL 2016);
	 * published to 3 significant digits. */
	static const struct {
		long sources;
		double erlangs, blocking;
	} t[] = {{10, 2, 0.016}, {20, 4, 0.181}, {20, 8, 0.471}, {20, 16, 0.709}, {40, 20, 0.764}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double b = tt_engset_blocking(t[i].sources, 5, t[i].erlangs / (double)t[i].sources);
		cr_assert(sig_equal(b, t[i].blocking, t[i].blocking < 0.1 ? 2 : 3),
			  "S=%ld A=%g: %.5f, published %.3f", t[i].sources, t[i].erlangs, b,
			  t[i].blocking);
	}
}

Test(teletraffic, engset_tends_to_erlang_b_and_servers_are_minimal)
{
	/* Infinitely many sources of vanishing traffic are Erlang's Poisson stream. */
	for (long n = 5; n <= 40; n += 7) {
		double a = 0.8 * (double)n;
		double e = tt_engset_blocking(2000000, n, a / 2000000.0);
		cr_assert_float_eq(e, tt_erlang_b(a, n), 1e-4 * tt_erlang_b(a, n) + 1e-12, "n=%ld",
				   n);
	}
	/* Finite sources are smoother than Poisson: never more servers. */
	for (long s = 20; s <= 2000; s *= 3) {
		double alpha = 0.3;
		long n = tt_engset_servers(s, alpha, 0.01);
		cr_assert_leq(tt_engset_blocking(s, n, alpha), 0.01);
		cr_assert_gt(tt_engset_blocking(s, n - 1, alpha), 0.01);
		cr_assert_leq(n, tt_erlang_b_servers(alpha * (double)s, 0.01), "S=%ld", s);
	}
}

/* The exact pmf of a sum of Bernoulli variables by enumerating every outcome. */
static void brute_force(const long *n, const double *p, size_t k, double *pmf, size_t len)
{
	long total = 0;
	for (size_t i = 0; i < k; i++)
		total += n[i];
	memset(pmf, 0, len * sizeof(*pmf));
	for (unsigned long m = 0; m < (1ul << total); m++) {
		double pr = 1;
		long ones = 0, bit = 0;
		for (size_t i = 0; i < k; i++)
			for (long j = 0; j < n[i]; j++, bit++) {
				bool on = (m >> bit) & 1;
				pr *= on ? p[i] : 1 - p[i];
				ones += on;
			}
		pmf[ones] += pr;
	}
}

Test(teletraffic, binomial_convolution_matches_brute_force)
{
	const long n[] = {3, 4, 2, 1};
	const double p[] = {0.2, 0.5, 0.9, 0.35};
	double exact[16];
	brute_force(n, p, 4, exact, 16);
	struct tt_pmf sum, g, next;
	cr_assert_eq(tt_binomial_pmf(0, 0.5, &sum), 0);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(tt_binomial_pmf(n[i], p[i], &g), 0);
		cr_assert_eq(tt_pmf_convolve(&sum, &g, &next), 0);
		tt_pmf_free(&g);
		tt_pmf_free(&sum);
		sum = next;
	}
	for (long k = 0; k <= 10; k++) {
		double got = k >= sum.lo && k < sum.lo + (long)sum.len ? sum.p[k - sum.lo] : 0;
		cr_assert_float_eq(got, exact[k], 1e-14, "P(X=%ld)", k);
	}
	/* The refusal quantile: P(X > c) <= eps < P(X > c - 1). */
	for (double eps = 0.001; eps < 0.5; eps *= 3) {
		long c = tt_pmf_upper(&sum, eps);
		double tail = 0;
		for (long k = c + 1; k <= 10; k++)
			tail += exact[k];
		cr_assert_leq(tail, eps + 1e-15);
		cr_assert_gt(tail + exact[c], eps, "eps %g: c=%ld is not the smallest", eps, c);
	}
	tt_pmf_free(&sum);
}

Test(teletraffic, large_binomial_is_stable)
{
	struct tt_pmf d;
	cr_assert_eq(tt_binomial_pmf(20000, 0.4, &d), 0);
	double s = 0;
	for (size_t i = 0; i < d.len; i++) {
		cr_assert(isfinite(d.p[i]) && d.p[i] >= 0);
		s += d.p[i];
	}
	cr_assert_float_eq(s, 1.0, 1e-12);
	cr_assert_float_eq(tt_pmf_mean(&d), 8000.0, 1e-6);
	/* A direct log-space term far from the mode agrees with the recurrence. */
	long k = 7700;
	double direct = exp(lgamma(20001) - lgamma(k + 1.0) - lgamma(20001.0 - k) + k * log(0.4) +
			    (20000 - k) * log(0.6));
	cr_assert_float_eq(d.p[k - d.lo], direct, 1e-9 * direct);
	/* The normal approximation of the 99% point is within a couple of units. */
	long c = tt_pmf_upper(&d, 0.01);
	double approx = 8000 + tt_norm_quantile(0.99) * sqrt(20000 * 0.4 * 0.6);
	cr_assert(fabs((double)c - approx) < 3, "c=%ld approx=%.1f", c, approx);
	tt_pmf_free(&d);
}

Test(teletraffic, lognormal_fit_reproduces_mean_and_p95)
{
	const double cases[][2] = {{0.6, 2.0}, {1.5, 4.5}, {2, 2}, {10, 38}};
	for (size_t i = 0; i < 4; i++) {
		double mu, sigma, m = cases[i][0], q = cases[i][1];
		cr_assert_eq(tt_lognormal_fit(m, q, 0.95, &mu, &sigma), 0);
		cr_assert_float_eq(exp(mu + sigma * sigma / 2), m, 1e-12 * m);
		cr_assert_float_eq(exp(mu + tt_norm_quantile(0.95) * sigma), q, 1e-12 * q);
	}
	double mu, sigma;
	cr_assert_eq(tt_lognormal_fit(1, 0.5, 0.95, &mu, &sigma), -EDOM);
	cr_assert_eq(tt_lognormal_fit(1, tt_lognormal_max_ratio(0.95) * 1.01, 0.95, &mu, &sigma),
		     -EDOM);
	cr_assert_float_eq(tt_norm_quantile(0.975), 1.959963984540054, 1e-13);
	cr_assert_float_eq(tt_norm_quantile(1e-9), -5.997807015007687, 1e-11);
}

Test(vpn, example_loads_and_matches_the_example_inventory)
{
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = example(dl);
	cr_assert_eq(diag_count(dl), 0, "%s", tu_diags(dl));
	cr_assert_eq(vpn_total_accounts(c), 8000);
	cr_assert_eq(c->gateways, 2);
	cr_assert_eq(c->uplinks, 2);
	const char *path = tu_path("examples/stuttgart/vpn.yaml");
	FILE *f = fopen(path, "rb");
	if (f) {
		static char buf[65536];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		cr_assert_str_eq(buf, vpn_example_yaml, "%s differs from vpn_example_yaml", path);
	}
	vpn_config_free(c);
	diag_list_free(dl);
}

Test(vpn, scaling_is_proportional_and_house_monotone)
{
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = example(dl);
	long prev[4] = {0}, acc[4];
	vpn_scale_accounts(c, 8000, acc);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(acc[i], c->groups[i].accounts);
	for (long n = 0; n <= 3000; n++) {
		vpn_scale_accounts(c, n, acc);
		long s = 0;
		for (size_t i = 0; i < 4; i++) {
			s += acc[i];
			cr_assert_geq(acc[i], prev[i], "group %zu lost an account at %ld", i, n);
			double quota = (double)n * (double)c->groups[i].accounts / 8000.0;
			cr_assert(fabs((double)acc[i] - quota) < 1.5, "n=%ld group %zu", n, i);
			prev[i] = acc[i];
		}
		cr_assert_eq(s, n);
	}
	vpn_config_free(c);
	diag_list_free(dl);
}

/* Stated tolerance (docs/vpn.md): analytic and Monte Carlo within 1% from a few
 * hundred users up, 1.5% at a few hundred with this sample count. */
Test(vpn, analytic_percentile_agrees_with_monte_carlo)
{
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = example(dl);
	struct vpn_demand d;
	double mc;
	cr_assert_eq(vpn_demand_at(c, 8000, c->gateways, c->uplinks, &d), 0);
	cr_assert_eq(vpn_monte_carlo(c, 8000, 10000, 42, &mc), 0);
	cr_assert(fabs(d.mbps - mc) / mc < 0.01, "analytic %.2f, Monte Carlo %.2f", d.mbps, mc);
	cr_assert_gt(d.mbps, d.mbps_mean, "the 99th percentile lies above the mean");
	cr_assert_eq(vpn_demand_at(c, 400, c->gateways, c->uplinks, &d), 0);
	cr_assert_eq(vpn_monte_carlo(c, 400, 20000, 7, &mc), 0);
	cr_assert(fabs(d.mbps - mc) / mc < 0.015, "analytic %.2f, Monte Carlo %.2f", d.mbps, mc);
	/* The seed makes the run repeatable, and another seed differs. */
	double again, other;
	cr_assert_eq(vpn_monte_carlo(c, 400, 20000, 7, &again), 0);
	cr_assert_eq(vpn_monte_carlo(c, 400, 20000, 8, &other), 0);
	cr_assert_eq(mc, again);
	cr_assert_neq(mc, other);
	vpn_config_free(c);
	diag_list_free(dl);
}

static const char grid_yaml[] = "groups:\n"
				"  - name: a\n"
				"    accounts: %ld\n"
				"    busy_hour_probability: %g\n"
				"    mbps_mean: %g\n"
				"    mbps_p95: %g\n"
				"    split_tunnel: 0.3\n"
				"  - name: b\n"
				"    accounts: 300\n"
				"    busy_hour_probability: 0.6\n"
				"    mbps_mean: 2\n"
				"    mbps_p95: 5\n"
				"gateways:\n"
				"  count: %ld\n"
				"  max_tunnels: %ld\n"
				"  throughput_mbps: 1500\n"
				"uplinks:\n"
				"  count: 2\n"
				"  capacity_mbps: 2500\n";

static struct vpn_config *grid_config(long accounts, double p, double mean, long gateways,
				      long tunnels, struct diag_list *dl)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), grid_yaml, accounts, p, mean, 3 * mean, gateways, tunnels);
	return load_text(buf, dl);
}

Test(vpn, headroom_falls_with_users_and_rises_with_a_gateway)
{
	struct diag_list *dl = diag_list_new();
	const long accounts[] = {500, 2000, 6000};
	const double probs[] = {0.1, 0.4, 0.8};
	const double means[] = {0.5, 2};
	const long gws[] = {2, 3};
	for (size_t ia = 0; ia < 3; ia++)
		for (size_t ip = 0; ip < 3; ip++)
			for (size_t im = 0; im < 2; im++)
				for (size_t ig = 0; ig < 2; ig++) {
					struct vpn_config *c = grid_config(
					    accounts[ia], probs[ip], means[im], gws[ig], 2000, dl);
					long n = vpn_total_accounts(c);
					struct vpn_demand base, more, wider;
					cr_assert_eq(
					    vpn_demand_at(c, n, c->gateways, c->uplinks, &base), 0);
					cr_assert_eq(vpn_demand_at(c, n + n / 10, c->gateways,
								   c->uplinks, &more),
						     0);
					cr_assert_eq(vpn_demand_at(c, n, c->gateways + 1,
								   c->uplinks, &wider),
						     0);
					for (int s = 0; s < VPN_STATE_COUNT; s++) {
						const struct vpn_cell *b = base.cell[s],
								      *m = more.cell[s],
								      *w = wider.cell[s];
						cr_assert_lt(m[VPN_TUNNELS].headroom,
							     b[VPN_TUNNELS].headroom);
						cr_assert_lt(m[VPN_GATEWAY_MBPS].headroom,
							     b[VPN_GATEWAY_MBPS].headroom);
						cr_assert_lt(m[VPN_UPLINK_MBPS].headroom,
							     b[VPN_UPLINK_MBPS].headroom);
						cr_assert_gt(w[VPN_TUNNELS].headroom,
							     b[VPN_TUNNELS].headroom);
						cr_assert_gt(w[VPN_GATEWAY_MBPS].headroom,
							     b[VPN_GATEWAY_MBPS].headroom);
						cr_assert_eq(w[VPN_UPLINK_MBPS].headroom,
							     b[VPN_UPLINK_MBPS].headroom);
					}
					vpn_config_free(c);
				}
	diag_list_free(dl);
}

Test(vpn, max_users_bisection_is_consistent)
{
	struct diag_list *dl = diag_list_new();
	struct vpn_config *cs[] = {example(dl), grid_config(2000, 0.4, 0.5, 2, 2000, dl),
				   grid_config(500, 0.8, 2, 3, 600, dl)};
	for (size_t i = 0; i < 3; i++) {
		struct vpn_config *c = cs[i];
		for (int s = 0; s < VPN_STATE_COUNT; s++) {
			long n;
			cr_assert_eq(vpn_max_users(c, (enum vpn_state)s, &n), 0);
			cr_assert_gt(n, 0);
			struct vpn_demand at, above;
			cr_assert_eq(vpn_demand_at(c, n, c->gateways, c->uplinks, &at), 0);
			cr_assert_eq(vpn_demand_at(c, n + 1, c->gateways, c->uplinks, &above), 0);
			cr_assert(vpn_demand_fits(&at, (enum vpn_state)s), "config %zu %s: %ld", i,
				  vpn_state_names[s], n);
			cr_assert_not(vpn_demand_fits(&above, (enum vpn_state)s),
				      "config %zu %s: %ld + 1 still fits", i, vpn_state_names[s],
				      n);
		}
		vpn_config_free(c);
	}
	diag_list_free(dl);
}

Test(vpn, compute_reports_binding_growth_and_horizon)
{
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = example(dl);
	struct vpn_options o = {.users = 0, .samples = 500, .seed = 3};
	struct vpn_result r;
	cr_assert_eq(vpn_compute(c, &o, &r), 0);
	/* The binding resource has the least headroom of its state. */
	for (int s = 0; s < VPN_STATE_COUNT; s++)
		for (int k = 0; k < VPN_RESOURCE_COUNT; k++)
			cr_assert_leq(r.now.cell[s][r.binding[s]].headroom,
				      r.now.cell[s][k].headroom);
	cr_assert_eq(r.max_users_n1, r.max_users[r.n1_state]);
	cr_assert_leq(r.max_users_n1, r.max_users[VPN_NORMAL]);
	/* Growing for years_n1 years reaches one user beyond the N-1 maximum. */
	cr_assert(isfinite(r.years_n1));
	cr_assert_float_eq(8000 * pow(1 + c->growth, r.years_n1), r.max_users_n1 + 1.0, 1e-6);
	/* The horizon's recommendation carries N-1, one gateway fewer would not. */
	long g = r.gateways_needed, u = r.uplinks_needed;
	cr_assert_geq(g, c->gateways);
	const struct vpn_demand *h = &r.horizon;
	cr_assert_geq((double)(g - 1) * (double)c->max_tunnels, (double)h->tunnels);
	cr_assert_geq((double)(g - 1) * c->gateway_mbps, h->mbps);
	cr_assert_geq((double)(u - 1) * c->uplink_mbps, h->mbps);
	if (g > c->gateways)
		cr_assert((double)(g - 2) * (double)c->max_tunnels < (double)h->tunnels ||
			  (double)(g - 2) * c->gateway_mbps < h->mbps);
	cr_assert_gt(h->accounts, 8000);
	vpn_result_free(&r);
	vpn_config_free(c);
	diag_list_free(dl);
}

static void expect_error(const char *text, const char *want)
{
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = (struct vpn_config *)1;
	cr_assert_eq(vpn_load_buffer(text, strlen(text), "vpn.yaml", dl, &c), -EINVAL);
	cr_assert_null(c);
	cr_assert(tu_has_diag(dl, want), "want: %s\ngot:\n%s", want, tu_diags(dl));
	diag_list_free(dl);
}

static const char good_tail[] = "gateways:\n"
				"  count: 2\n"
				"  max_tunnels: 100\n"
				"  throughput_mbps: 100\n"
				"uplinks:\n"
				"  count: 1\n"
				"  capacity_mbps: 100\n";

static void expect_group_error(const char *group, const char *want)
{
	char buf[2048];
	snprintf(buf, sizeof(buf), "groups:\n%s%s", group, good_tail);
	expect_error(buf, want);
}

Test(vpn, a_duplicate_key_fails_the_load)
{
	char buf[8192];
	snprintf(buf, sizeof(buf), "%sgateways:\n  count: 3\n", vpn_example_yaml);
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = (struct vpn_config *)1;
	cr_assert_eq(vpn_load_buffer(buf, strlen(buf), "vpn.yaml", dl, &c), -EINVAL);
	cr_assert_null(c);
	cr_assert(tu_diag_contains(dl, "error: duplicate key 'gateways' (first at line 35)"), "%s",
		  tu_diags(dl));
	diag_list_free(dl);
}

Test(vpn, bad_yaml_gives_located_errors)
{
	expect_group_error("  - name: staff\n"
			   "    accounts: 10\n"
			   "    mbps_mean: 1\n"
			   "    mbps_p95: 2\n",
			   "vpn.yaml:2:5: error: missing key 'busy_hour_probability'");
	expect_group_error("  - name: staff\n"
			   "    accounts: many\n"
			   "    busy_hour_probability: 0.5\n"
			   "    mbps_mean: 1\n"
			   "    mbps_p95: 2\n",
			   "vpn.yaml:3:15: error: expected an integer, got 'many'");
	expect_group_error("  - name: staff\n"
			   "    accounts: -5\n"
			   "    busy_hour_probability: 0.5\n"
			   "    mbps_mean: 1\n"
			   "    mbps_p95: 2\n",
			   "vpn.yaml:3:15: error: -5 is out of range [0, 100000000]");
	expect_group_error("  - name: staff\n"
			   "    acounts: 10\n"
			   "    busy_hour_probability: 0.5\n"
			   "    mbps_mean: 1\n"
			   "    mbps_p95: 2\n",
			   "vpn.yaml:3:5: error: unknown key 'acounts' (did you mean 'accounts'?)");
	expect_group_error("  - name: staff\n"
			   "    accounts: 10\n"
			   "    busy_hour_probability: 1.5\n"
			   "    mbps_mean: 1\n"
			   "    mbps_p95: 2\n",
			   "vpn.yaml:4:28: error: 1.5 is out of range [0, 1]");
	expect_group_error("  - name: staff\n"
			   "    accounts: 10\n"
			   "    busy_hour_probability: 0.5\n"
			   "    mbps_mean: 1\n"
			   "    mbps_p95: 5\n",
			   "vpn.yaml:6:15: error: mbps_p95 5 must lie between mbps_mean (1) and "
			   "3.868 x mbps_mean (3.86813) for a lognormal fit");
	expect_group_error("  - name: staff\n"
			   "    accounts: 10\n"
			   "    busy_hour_probability: 0.5\n"
			   "    mbps_mean: 1\n"
			   "    mbps_p95: 2\n"
			   "  - name: staff\n"
			   "    accounts: 10\n"
			   "    busy_hour_probability: 0.5\n"
			   "    mbps_mean: 1\n"
			   "    mbps_p95: 2\n",
			   "vpn.yaml:7:11: error: duplicate group 'staff' (first at line 2)");
	expect_error("groups: []\n", "vpn.yaml:1:9: error: 'groups' needs at least one group");
	expect_error("groups:\n"
		     "  - name: staff\n"
		     "    accounts: 10\n"
		     "    busy_hour_probability: 0.5\n"
		     "    mbps_mean: 1\n"
		     "    mbps_p95: 2\n"
		     "gateways:\n"
		     "  count: 2\n"
		     "  max_tunels: 100\n"
		     "  throughput_mbps: 100\n"
		     "uplink:\n"
		     "  count: 1\n",
		     "vpn.yaml:9:3: error: unknown key 'max_tunels' (did you mean 'max_tunnels'?)");
}

Test(vpn, every_error_is_reported_at_once)
{
	const char *text = "groups:\n"
			   "  - name: Staff\n"
			   "    accounts: 10\n"
			   "    busy_hour_probability: 2\n"
			   "    mbps_mean: 0\n"
			   "    mbps_p95: 2\n"
			   "gateways:\n"
			   "  count: 0\n"
			   "  max_tunnels: 100\n"
			   "  throughput_mbps: fast\n"
			   "uplink:\n"
			   "  count: 1\n"
			   "service_level:\n"
			   "  refusal_probability: 0.6\n";
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = NULL;
	cr_assert_eq(vpn_load_buffer(text, strlen(text), "vpn.yaml", dl, &c), -EINVAL);
	const char *want[] = {
	    "vpn.yaml:2:11: error: group name 'Staff' must be 1-32 characters of a-z 0-9 _ -",
	    "vpn.yaml:4:28: error: 2 is out of range [0, 1]",
	    "vpn.yaml:5:16: error: 'mbps_mean' must be greater than 0",
	    "vpn.yaml:8:10: error: 0 is out of range [1, 100]",
	    "vpn.yaml:10:20: error: expected a number, got 'fast'",
	    "vpn.yaml:11:1: error: unknown key 'uplink' (did you mean 'uplinks'?)",
	    "vpn.yaml:1:1: error: missing key 'uplinks'",
	    "vpn.yaml:14:24: error: 0.6 is out of range [1e-09, 0.2]",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(tu_has_diag(dl, want[i]), "want: %s\ngot:\n%s", want[i], tu_diags(dl));
	cr_assert_eq(diag_errors(dl), sizeof(want) / sizeof(want[0]), "%s", tu_diags(dl));
	diag_list_free(dl);
}

Test(vpn, cli_exit_codes_and_json)
{
	const char *bin = getenv("SEGPLAN_BIN");
	if (!bin || !*bin)
		cr_skip_test("SEGPLAN_BIN is not set (run through ctest)");
	char *dir = tu_tmpdir();
	char *p = tu_write(dir, "vpn.yaml", vpn_example_yaml);
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "'%s' vpn '%s' --json --samples 200 > '%s/out.json'", bin, dir,
		 dir);
	cr_assert_eq(tu_run(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "grep -q '\"method\": \"fenton-wilkinson\"' '%s/out.json' && "
		 "grep -q '\"worst_single_failure\"' '%s/out.json'",
		 dir, dir);
	cr_assert_eq(tu_run(cmd), 0);
	/* 40,000 users do not fit the example's gateways: a finding. */
	snprintf(cmd, sizeof(cmd), "'%s' vpn '%s' --users 40000 --samples 200 >/dev/null", bin,
		 dir);
	cr_assert_eq(tu_run(cmd), 1);
	snprintf(cmd, sizeof(cmd), "'%s' vpn '%s' --user 5 2>/dev/null", bin, dir);
	cr_assert_eq(tu_run(cmd), 2);
	snprintf(cmd, sizeof(cmd), "'%s' vpn --help >/dev/null", bin);
	cr_assert_eq(tu_run(cmd), 0);
	free(p);
	p = tu_write(dir, "vpn.yaml", "groups: 3\n");
	snprintf(cmd, sizeof(cmd), "'%s' vpn '%s' 2>/dev/null", bin, dir);
	cr_assert_eq(tu_run(cmd), 3);
	free(p);
	tu_rmdir(dir);
	free(dir);
}
