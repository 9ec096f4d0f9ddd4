// SPDX-License-Identifier: MIT
#include "vpn/vpn.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yamlread.h"
#include "vpn/teletraffic.h"

const char vpn_example_yaml[] =
    "# Remote access of the city administration: the VPN headroom model\n"
    "# (segplan vpn, docs/vpn.md). Built for up to 8,000 users: two gateways\n"
    "# of 4,000 tunnels each behind two internet uplinks.\n"
    "groups:\n"
    "  # Field staff (social services, inspectors, enforcement, care):\n"
    "  # mail, case files and mobile apps, rarely video.\n"
    "  - name: mobile\n"
    "    accounts: 5000\n"
    "    busy_hour_probability: 0.35\n"
    "    mbps_mean: 0.6\n"
    "    mbps_p95: 2.0\n"
    "    split_tunnel: 0.2\n"
    "  # Office staff working from home: desktop applications and video\n"
    "  # conferences (about 2-4 Mbit/s per call) through the tunnel.\n"
    "  - name: staff\n"
    "    accounts: 2400\n"
    "    busy_hour_probability: 0.55\n"
    "    mbps_mean: 1.5\n"
    "    mbps_p95: 4.5\n"
    "    split_tunnel: 0.25\n"
    "  # IT administrators on call: remote consoles, software transfers.\n"
    "  - name: admins\n"
    "    accounts: 120\n"
    "    busy_hour_probability: 0.7\n"
    "    mbps_mean: 2.0\n"
    "    mbps_p95: 6.0\n"
    "    split_tunnel: 0\n"
    "  # External vendors maintaining building automation and applications.\n"
    "  - name: vendors\n"
    "    accounts: 480\n"
    "    busy_hour_probability: 0.1\n"
    "    mbps_mean: 0.8\n"
    "    mbps_p95: 2.5\n"
    "    split_tunnel: 0\n"
    "gateways:\n"
    "  count: 2\n"
    "  max_tunnels: 4000\n"
    "  throughput_mbps: 4000\n"
    "uplinks:\n"
    "  count: 2\n"
    "  capacity_mbps: 5000\n"
    "service_level:\n"
    "  refusal_probability: 0.01\n"
    "  bandwidth_percentile: 0.99\n"
    "growth:\n"
    "  yearly: 0.05\n"
    "  horizon_years: 5\n";

const char *const vpn_state_names[VPN_STATE_COUNT] = {"normal", "gateway_lost", "uplink_lost"};
const char *const vpn_resource_names[VPN_RESOURCE_COUNT] = {"tunnels", "gateway_mbps",
							    "uplink_mbps"};

/* Limits that keep the exact model fast; far beyond any city's VPN. */
#define MAX_ACCOUNTS 100000000L
#define MAX_COUNT    100L
#define MAX_TUNNELS  10000000L
#define MAX_MBPS     1e7
#define MIN_REFUSAL  1e-9
#define MAX_REFUSAL  0.2
#define MIN_PCTL     0.5
#define MAX_PCTL     0.9999
#define MAX_HORIZON  50L
#define P95	     0.95

void vpn_config_free(struct vpn_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ngroups; i++)
		free(c->groups[i].name);
	free(c->groups);
	free(c->file);
	free(c);
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

/* A number in (0, max]: the checked getter covers [0, max], zero is refused here. */
static bool get_positive(const struct ydoc *d, const struct ynode *map, const char *key, double max,
			 struct diag_list *dl, double *out)
{
	double v = 0;
	if (!ynode_get_double(d, map, key, true, 0, max, dl, &v))
		return false;
	if (v <= 0) {
		ynode_error(d, ynode_get(map, key), dl, "'%s' must be greater than 0", key);
		return false;
	}
	*out = v;
	return true;
}

static bool load_group(const struct ydoc *d, const struct ynode *n, struct vpn_group *g,
		       struct diag_list *dl)
{
	static const char *const keys[] = {"name",	"accounts", "busy_hour_probability",
					   "mbps_mean", "mbps_p95", "split_tunnel"};
	if (!ynode_expect(d, n, YNODE_MAP, "a group", dl))
		return false;
	bool ok = ynode_check_keys(d, n, keys, sizeof(keys) / sizeof(keys[0]), dl);
	const char *name = NULL;
	g->line = ynode_line(n);
	if (ynode_get_str(d, n, "name", true, dl, &name)) {
		if (!name_ok(name)) {
			ynode_error(d, ynode_get(n, "name"), dl,
				    "group name '%s' must be 1-32 characters of a-z 0-9 _ -", name);
			ok = false;
		} else if (!(g->name = strdup(name))) {
			return false;
		}
	} else {
		ok = false;
	}
	ok &= ynode_get_long(d, n, "accounts", true, 0, MAX_ACCOUNTS, dl, &g->accounts);
	ok &= ynode_get_double(d, n, "busy_hour_probability", true, 0, 1, dl, &g->p_busy);
	bool bw = get_positive(d, n, "mbps_mean", MAX_MBPS, dl, &g->mbps_mean);
	bw &= get_positive(d, n, "mbps_p95", MAX_MBPS, dl, &g->mbps_p95);
	g->split = 0;
	ok &= ynode_get_double(d, n, "split_tunnel", false, 0, 1, dl, &g->split);
	if (bw && tt_lognormal_fit(g->mbps_mean, g->mbps_p95, P95, &g->ln_mu, &g->ln_sigma) < 0) {
		double r = tt_lognormal_max_ratio(P95);
		ynode_error(d, ynode_get(n, "mbps_p95"), dl,
			    "mbps_p95 %g must lie between mbps_mean (%g) and %.3f x mbps_mean "
			    "(%g) for a lognormal fit",
			    g->mbps_p95, g->mbps_mean, r, r * g->mbps_mean);
		bw = false;
	}
	return ok && bw;
}

static bool load_groups(const struct ydoc *d, const struct ynode *root, struct vpn_config *c,
			struct diag_list *dl)
{
	const struct ynode *gs = ynode_get(root, "groups");
	if (!gs) {
		ynode_error(d, root, dl, "missing key 'groups'");
		return false;
	}
	if (!ynode_expect(d, gs, YNODE_SEQ, "'groups'", dl))
		return false;
	if (ynode_len(gs) == 0) {
		ynode_error(d, gs, dl, "'groups' needs at least one group");
		return false;
	}
	c->groups = calloc(ynode_len(gs), sizeof(*c->groups));
	if (!c->groups)
		return false;
	c->ngroups = ynode_len(gs);
	bool ok = true;
	for (size_t i = 0; i < c->ngroups; i++) {
		ok &= load_group(d, ynode_item(gs, i), &c->groups[i], dl);
		for (size_t j = 0; j < i && c->groups[i].name; j++) {
			if (c->groups[j].name &&
			    strcmp(c->groups[i].name, c->groups[j].name) == 0) {
				ynode_error(d, ynode_get(ynode_item(gs, i), "name"), dl,
					    "duplicate group '%s' (first at line %u)",
					    c->groups[i].name, c->groups[j].line);
				ok = false;
				break;
			}
		}
	}
	if (ok && vpn_total_accounts(c) == 0) {
		ynode_error(d, gs, dl, "the groups have no accounts at all");
		ok = false;
	}
	return ok;
}

/* A required mapping of the root, checked against its keys. */
static const struct ynode *section(const struct ydoc *d, const struct ynode *root, const char *key,
				   bool required, const char *const *keys, size_t nkeys,
				   struct diag_list *dl, bool *ok)
{
	const struct ynode *n = ynode_get(root, key);
	if (!n) {
		if (required) {
			ynode_error(d, root, dl, "missing key '%s'", key);
			*ok = false;
		}
		return NULL;
	}
	char what[64];
	snprintf(what, sizeof(what), "'%s'", key);
	if (!ynode_expect(d, n, YNODE_MAP, what, dl)) {
		*ok = false;
		return NULL;
	}
	*ok &= ynode_check_keys(d, n, keys, nkeys, dl);
	return n;
}

static bool load_root(const struct ydoc *d, struct vpn_config *c, struct diag_list *dl)
{
	static const char *const top[] = {"groups", "gateways", "uplinks", "service_level",
					  "growth"};
	static const char *const gwk[] = {"count", "max_tunnels", "throughput_mbps"};
	static const char *const upk[] = {"count", "capacity_mbps"};
	static const char *const slk[] = {"refusal_probability", "bandwidth_percentile"};
	static const char *const grk[] = {"yearly", "horizon_years"};
	const struct ynode *root = ydoc_root(d);
	if (!ynode_expect(d, root, YNODE_MAP, "vpn.yaml", dl))
		return false;
	bool ok = ynode_check_keys(d, root, top, 5, dl);
	ok &= load_groups(d, root, c, dl);
	const struct ynode *gw = section(d, root, "gateways", true, gwk, 3, dl, &ok);
	if (gw) {
		ok &= ynode_get_long(d, gw, "count", true, 1, MAX_COUNT, dl, &c->gateways);
		ok &=
		    ynode_get_long(d, gw, "max_tunnels", true, 1, MAX_TUNNELS, dl, &c->max_tunnels);
		ok &= get_positive(d, gw, "throughput_mbps", MAX_MBPS, dl, &c->gateway_mbps);
	}
	const struct ynode *up = section(d, root, "uplinks", true, upk, 2, dl, &ok);
	if (up) {
		ok &= ynode_get_long(d, up, "count", true, 1, MAX_COUNT, dl, &c->uplinks);
		ok &= get_positive(d, up, "capacity_mbps", MAX_MBPS, dl, &c->uplink_mbps);
	}
	const struct ynode *sl = section(d, root, "service_level", false, slk, 2, dl, &ok);
	if (sl) {
		ok &= ynode_get_double(d, sl, "refusal_probability", false, MIN_REFUSAL,
				       MAX_REFUSAL, dl, &c->refusal);
		ok &= ynode_get_double(d, sl, "bandwidth_percentile", false, MIN_PCTL, MAX_PCTL, dl,
				       &c->percentile);
	}
	const struct ynode *gr = section(d, root, "growth", false, grk, 2, dl, &ok);
	if (gr) {
		ok &= ynode_get_double(d, gr, "yearly", false, -0.5, 10, dl, &c->growth);
		ok &= ynode_get_long(d, gr, "horizon_years", false, 1, MAX_HORIZON, dl,
				     &c->horizon_years);
	}
	return ok;
}

/* The configuration in d (loaded by the caller, r its load's result, before
 * the errors in dl until then: a duplicate key is an error of the load that
 * still yields a document), then d freed. */
static int from_doc(struct ydoc *d, int r, size_t before, struct diag_list *dl,
		    struct vpn_config **out)
{
	*out = NULL;
	if (r < 0)
		return r;
	struct vpn_config *c = calloc(1, sizeof(*c));
	if (!c || !(c->file = strdup(ydoc_name(d)))) {
		r = -ENOMEM;
		goto out;
	}
	c->refusal = VPN_DEFAULT_REFUSAL;
	c->percentile = VPN_DEFAULT_PERCENTILE;
	c->growth = VPN_DEFAULT_GROWTH;
	c->horizon_years = VPN_DEFAULT_HORIZON;
	bool ok = load_root(d, c, dl);
	if (!ok || diag_errors(dl) > before)
		r = diag_errors(dl) > before ? -EINVAL : -ENOMEM;
out:
	ydoc_free(d);
	if (r < 0) {
		vpn_config_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int vpn_load_buffer(const char *buf, size_t len, const char *name, struct diag_list *dl,
		    struct vpn_config **out)
{
	struct ydoc *d = NULL;
	size_t before = diag_errors(dl);
	int r = ydoc_load_buffer(buf, len, name, dl, &d);
	return from_doc(d, r, before, dl, out);
}

int vpn_load_file(const char *path, const char *display, struct diag_list *dl,
		  struct vpn_config **out)
{
	struct ydoc *d = NULL;
	size_t before = diag_errors(dl);
	int r = ydoc_load(path, display, dl, &d);
	return from_doc(d, r, before, dl, out);
}

int vpn_load(const char *dir, struct diag_list *dl, struct vpn_config **out)
{
	char *path;
	size_t n = strlen(dir);
	int r;
	if (strcmp(dir, ".") == 0)
		r = asprintf(&path, "vpn.yaml");
	else
		r = asprintf(&path, "%s%svpn.yaml", dir, n && dir[n - 1] == '/' ? "" : "/");
	if (r < 0)
		return -ENOMEM;
	r = vpn_load_file(path, NULL, dl, out);
	free(path);
	return r;
}

long vpn_total_accounts(const struct vpn_config *c)
{
	long s = 0;
	for (size_t i = 0; i < c->ngroups; i++)
		s += c->groups[i].accounts;
	return s;
}

void vpn_scale_accounts(const struct vpn_config *c, long total, long *acc)
{
	long s = vpn_total_accounts(c);
	long sum = 0;
	for (size_t i = 0; i < c->ngroups; i++) {
		double q = s > 0 ? (double)total * (double)c->groups[i].accounts / (double)s : 0;
		acc[i] = (long)floor(q + 0.5);
		sum += acc[i];
	}
	if (s <= 0)
		return;
	/*
	 * Rounding the quotas is Sainte-Lague with the divisor s/total; when
	 * that misses the total, moving the divisor hands out or takes back
	 * one account at a time by the divisor method's priorities.
	 */
	while (sum < total) {
		size_t best = 0;
		double bp = -1;
		for (size_t i = 0; i < c->ngroups; i++) {
			double pr = (double)c->groups[i].accounts / ((double)acc[i] + 0.5);
			if (pr > bp) {
				bp = pr;
				best = i;
			}
		}
		acc[best]++;
		sum++;
	}
	while (sum > total) {
		size_t best = 0;
		double bp = INFINITY;
		for (size_t i = 0; i < c->ngroups; i++) {
			if (acc[i] == 0)
				continue;
			double pr = (double)c->groups[i].accounts / ((double)acc[i] - 0.5);
			if (pr < bp) {
				bp = pr;
				best = i;
			}
		}
		acc[best]--;
		sum--;
	}
}

/* Cumulants of the tunnelled throughput (docs/vpn.md, "Throughput"). */
struct cumulants {
	double k1, k2, k3;
};

static void throughput_cumulants(const struct vpn_config *c, const long *acc, struct cumulants *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < c->ngroups; i++) {
		const struct vpn_group *g = &c->groups[i];
		double a = 1 - g->split, mu = g->ln_mu, s2 = g->ln_sigma * g->ln_sigma;
		/* Raw moments of Y = a X, X lognormal: E[Y^k] = a^k exp(k mu + k^2 s2 / 2). */
		double y1 = a * exp(mu + s2 / 2);
		double y2 = a * a * exp(2 * mu + 2 * s2);
		double y3 = a * a * a * exp(3 * mu + 4.5 * s2);
		/* One account contributes Z = B Y, B ~ Bernoulli(p): E[Z^k] = p E[Y^k]. */
		double m1 = g->p_busy * y1, m2 = g->p_busy * y2, m3 = g->p_busy * y3;
		double n = (double)acc[i];
		out->k1 += n * m1;
		out->k2 += n * (m2 - m1 * m1);
		out->k3 += n * (m3 - 3 * m2 * m1 + 2 * m1 * m1 * m1);
	}
	if (out->k2 < 0)
		out->k2 = 0;
}

/*
 * Fenton-Wilkinson: the lognormal with the aggregate's mean and variance.
 * The aggregate is a sum of many right-skewed terms; a lognormal keeps that
 * skew where a normal would not, and for thinned lognormal sums its implied
 * skewness (3 cv + cv^3) is close to the exact one (docs/vpn.md).
 */
static double fw_quantile(const struct cumulants *k, double z)
{
	if (k->k1 <= 0)
		return 0;
	double s2 = log1p(k->k2 / (k->k1 * k->k1));
	double mu = log(k->k1) - s2 / 2;
	return exp(mu + z * sqrt(s2));
}

static double mean_tunnels(const struct vpn_config *c, const long *acc)
{
	double m = 0;
	for (size_t i = 0; i < c->ngroups; i++)
		m += (double)acc[i] * c->groups[i].p_busy;
	return m;
}

/* The distribution of concurrent tunnels: the groups' binomials convolved. */
static int tunnel_pmf(const struct vpn_config *c, const long *acc, struct tt_pmf *out)
{
	struct tt_pmf sum, g, next;
	int r = tt_binomial_pmf(0, 0, &sum);
	for (size_t i = 0; r == 0 && i < c->ngroups; i++) {
		r = tt_binomial_pmf(acc[i], c->groups[i].p_busy, &g);
		if (r < 0)
			break;
		r = tt_pmf_convolve(&sum, &g, &next);
		tt_pmf_free(&g);
		tt_pmf_free(&sum);
		sum = next;
	}
	if (r < 0) {
		tt_pmf_free(&sum);
		return r;
	}
	*out = sum;
	return 0;
}

static void state_counts(long gateways, long uplinks, enum vpn_state s, long *gw, long *up)
{
	*gw = gateways - (s == VPN_GATEWAY_LOST ? 1 : 0);
	*up = uplinks - (s == VPN_UPLINK_LOST ? 1 : 0);
}

static void fill_cell(struct vpn_cell *cell, double need, double cap)
{
	cell->need = need;
	cell->capacity = cap;
	cell->headroom = cap > 0 ? (cap - need) / cap : NAN;
}

static int demand_acc(const struct vpn_config *c, const long *acc, long gateways, long uplinks,
		      struct vpn_demand *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < c->ngroups; i++)
		d->accounts += acc[i];
	d->offered = mean_tunnels(c, acc);
	struct tt_pmf pmf;
	int r = tunnel_pmf(c, acc, &pmf);
	if (r < 0)
		return r;
	d->tunnels = tt_pmf_upper(&pmf, c->refusal);
	tt_pmf_free(&pmf);
	struct cumulants k;
	throughput_cumulants(c, acc, &k);
	d->mbps_mean = k.k1;
	d->mbps_sd = sqrt(k.k2);
	d->mbps_skew = k.k2 > 0 ? k.k3 / pow(k.k2, 1.5) : 0;
	d->mbps = fw_quantile(&k, tt_norm_quantile(c->percentile));
	for (int s = 0; s < VPN_STATE_COUNT; s++) {
		long gw, up;
		state_counts(gateways, uplinks, (enum vpn_state)s, &gw, &up);
		fill_cell(&d->cell[s][VPN_TUNNELS], (double)d->tunnels,
			  (double)gw * (double)c->max_tunnels);
		fill_cell(&d->cell[s][VPN_GATEWAY_MBPS], d->mbps, (double)gw * c->gateway_mbps);
		fill_cell(&d->cell[s][VPN_UPLINK_MBPS], d->mbps, (double)up * c->uplink_mbps);
	}
	return 0;
}

int vpn_demand_at(const struct vpn_config *c, long total, long gateways, long uplinks,
		  struct vpn_demand *out)
{
	long *acc = calloc(c->ngroups, sizeof(*acc));
	if (!acc)
		return -ENOMEM;
	vpn_scale_accounts(c, total, acc);
	int r = demand_acc(c, acc, gateways, uplinks, out);
	free(acc);
	return r;
}

bool vpn_demand_fits(const struct vpn_demand *d, enum vpn_state s)
{
	for (int k = 0; k < VPN_RESOURCE_COUNT; k++)
		if (d->cell[s][k].need > d->cell[s][k].capacity)
			return false;
	return true;
}

/*
 * Whether total users fit in state s, with the cheap tests first. The
 * tunnel test is skipped when the mean alone is 2 above the capacity: the
 * median of a sum of Bernoulli variables is within 1 of its mean, so then
 * P(X > capacity) >= 1/2 > refusal (at most 0.2) and the answer is known.
 */
static int fits_at(const struct vpn_config *c, long total, enum vpn_state s, long *acc, bool *ok)
{
	long gw, up;
	state_counts(c->gateways, c->uplinks, s, &gw, &up);
	vpn_scale_accounts(c, total, acc);
	struct cumulants k;
	throughput_cumulants(c, acc, &k);
	double mbps = fw_quantile(&k, tt_norm_quantile(c->percentile));
	double cap_t = (double)gw * (double)c->max_tunnels;
	*ok = false;
	if (mbps > (double)gw * c->gateway_mbps || mbps > (double)up * c->uplink_mbps)
		return 0;
	if (mean_tunnels(c, acc) > cap_t + 2)
		return 0;
	struct tt_pmf pmf;
	int r = tunnel_pmf(c, acc, &pmf);
	if (r < 0)
		return r;
	*ok = (double)tt_pmf_upper(&pmf, c->refusal) <= cap_t;
	tt_pmf_free(&pmf);
	return 0;
}

int vpn_max_users(const struct vpn_config *c, enum vpn_state s, long *out)
{
	long *acc = calloc(c->ngroups, sizeof(*acc));
	if (!acc)
		return -ENOMEM;
	long gw, up;
	state_counts(c->gateways, c->uplinks, s, &gw, &up);
	/* Start where the means alone would reach a capacity, then gallop. */
	long s0 = vpn_total_accounts(c);
	struct cumulants k;
	vpn_scale_accounts(c, s0, acc);
	throughput_cumulants(c, acc, &k);
	double rate_t = s0 > 0 ? mean_tunnels(c, acc) / (double)s0 : 0;
	double rate_b = s0 > 0 ? k.k1 / (double)s0 : 0;
	double guess = (double)VPN_USERS_LIMIT;
	if (rate_t > 0)
		guess = fmin(guess, (double)gw * (double)c->max_tunnels / rate_t);
	if (rate_b > 0) {
		guess = fmin(guess, (double)gw * c->gateway_mbps / rate_b);
		guess = fmin(guess, (double)up * c->uplink_mbps / rate_b);
	}
	long g = (long)guess;
	long lo = 0, hi = -1, step = g / 64 > 1 ? g / 64 : 1;
	bool ok = false;
	int r = 0;
	if (g > 0 && (r = fits_at(c, g, s, acc, &ok)) < 0)
		goto out;
	if (g > 0 && ok) {
		lo = g;
		while (hi < 0) {
			long n = lo + step > VPN_USERS_LIMIT ? VPN_USERS_LIMIT : lo + step;
			if (n == lo) {
				lo = -1; /* still fits at the limit */
				goto out;
			}
			if ((r = fits_at(c, n, s, acc, &ok)) < 0)
				goto out;
			if (ok)
				lo = n;
			else
				hi = n;
			step *= 2;
		}
	} else {
		hi = g > 0 ? g : 1;
		while (hi - lo > 1) {
			long n = hi - step > 0 ? hi - step : 0;
			if (n == 0)
				break;
			if ((r = fits_at(c, n, s, acc, &ok)) < 0)
				goto out;
			if (ok) {
				lo = n;
				break;
			}
			hi = n;
			step *= 2;
		}
	}
	while (hi - lo > 1) {
		long mid = lo + (hi - lo) / 2;
		if ((r = fits_at(c, mid, s, acc, &ok)) < 0)
			goto out;
		if (ok)
			lo = mid;
		else
			hi = mid;
	}
out:
	free(acc);
	if (r == 0)
		*out = lo;
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int vpn_monte_carlo(const struct vpn_config *c, long total, long samples, uint64_t seed,
		    double *out)
{
	size_t ng = c->ngroups;
	long *acc = calloc(ng, sizeof(*acc));
	struct tt_pmf *pmf = calloc(ng, sizeof(*pmf));
	double *tot = malloc((size_t)(samples > 0 ? samples : 1) * sizeof(*tot));
	int r = 0;
	if (!acc || !pmf || !tot || samples < 1) {
		r = samples < 1 ? -EINVAL : -ENOMEM;
		goto out;
	}
	vpn_scale_accounts(c, total, acc);
	/* Each group's binomial as a cumulative table, for sampling by inversion. */
	for (size_t i = 0; i < ng && r == 0; i++) {
		r = tt_binomial_pmf(acc[i], c->groups[i].p_busy, &pmf[i]);
		for (size_t j = 1; r == 0 && j < pmf[i].len; j++)
			pmf[i].p[j] += pmf[i].p[j - 1];
	}
	if (r < 0)
		goto out;
	struct tt_rng rng;
	tt_rng_seed(&rng, seed);
	for (long n = 0; n < samples; n++) {
		double sum = 0;
		for (size_t i = 0; i < ng; i++) {
			const struct tt_pmf *d = &pmf[i];
			double u = tt_rng_uniform(&rng);
			size_t lo = 0, hi = d->len - 1;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (d->p[mid] >= u)
					hi = mid;
				else
					lo = mid + 1;
			}
			long users = d->lo + (long)lo;
			const struct vpn_group *g = &c->groups[i];
			double a = 1 - g->split;
			for (long k = 0; k < users; k++)
				sum += a * exp(g->ln_mu + g->ln_sigma * tt_rng_normal(&rng));
		}
		tot[n] = sum;
	}
	qsort(tot, (size_t)samples, sizeof(*tot), cmp_double);
	/* The nearest-rank percentile. */
	long idx = (long)ceil(c->percentile * (double)samples) - 1;
	if (idx < 0)
		idx = 0;
	if (idx >= samples)
		idx = samples - 1;
	*out = tot[idx];
out:
	for (size_t i = 0; pmf && i < ng; i++)
		tt_pmf_free(&pmf[i]);
	free(pmf);
	free(acc);
	free(tot);
	return r;
}

void vpn_result_free(struct vpn_result *r)
{
	if (!r)
		return;
	free(r->groups);
	r->groups = NULL;
	r->ngroups = 0;
}

static double headroom_key(double h)
{
	return isnan(h) ? -INFINITY : h;
}

static double years_until(long now, long max, double growth)
{
	if (max < 0)
		return INFINITY;
	if (now > max)
		return 0;
	if (growth <= 0)
		return INFINITY;
	/* The first moment now (1 + g)^t reaches max + 1 users. */
	return log(((double)max + 1) / (double)now) / log1p(growth);
}

static long ceil_div(double need, double per)
{
	return need <= 0 ? 0 : (long)ceil(need / per);
}

int vpn_compute(const struct vpn_config *c, const struct vpn_options *o, struct vpn_result *r)
{
	memset(r, 0, sizeof(*r));
	long total = o->users > 0 ? o->users : vpn_total_accounts(c);
	long *acc = calloc(c->ngroups, sizeof(*acc));
	r->groups = calloc(c->ngroups, sizeof(*r->groups));
	int rc = 0;
	if (!acc || !r->groups) {
		rc = -ENOMEM;
		goto out;
	}
	r->ngroups = c->ngroups;
	vpn_scale_accounts(c, total, acc);
	for (size_t i = 0; i < c->ngroups; i++) {
		const struct vpn_group *g = &c->groups[i];
		r->groups[i].accounts = acc[i];
		r->groups[i].mean_tunnels = (double)acc[i] * g->p_busy;
		r->groups[i].mean_mbps = r->groups[i].mean_tunnels * (1 - g->split) * g->mbps_mean;
	}
	if ((rc = demand_acc(c, acc, c->gateways, c->uplinks, &r->now)) < 0)
		goto out;
	/* Engset: every account is a source offering the pooled probability. */
	double pbar = total > 0 ? r->now.offered / (double)total : 0;
	r->tunnels_engset = tt_engset_servers(total, pbar, c->refusal);
	r->tunnels_erlang_b = tt_erlang_b_servers(r->now.offered, c->refusal);
	r->samples = o->samples;
	r->seed = o->seed;
	if ((rc = vpn_monte_carlo(c, total, o->samples, o->seed, &r->mbps_mc)) < 0)
		goto out;
	r->mc_rel_diff = r->mbps_mc > 0 ? (r->now.mbps - r->mbps_mc) / r->mbps_mc : 0;
	double worst = INFINITY;
	for (int s = 0; s < VPN_STATE_COUNT; s++) {
		double least = INFINITY;
		for (int k = 0; k < VPN_RESOURCE_COUNT; k++) {
			double h = headroom_key(r->now.cell[s][k].headroom);
			if (h < least) {
				least = h;
				r->binding[s] = (enum vpn_resource)k;
			}
			if (h < worst) {
				worst = h;
				r->worst_state = (enum vpn_state)s;
				r->worst_resource = (enum vpn_resource)k;
			}
		}
		r->carried[s] = vpn_demand_fits(&r->now, (enum vpn_state)s);
		if ((rc = vpn_max_users(c, (enum vpn_state)s, &r->max_users[s])) < 0)
			goto out;
	}
	r->n1_state = VPN_GATEWAY_LOST;
	long a = r->max_users[VPN_GATEWAY_LOST], b = r->max_users[VPN_UPLINK_LOST];
	if (a < 0 || (b >= 0 && b < a))
		r->n1_state = VPN_UPLINK_LOST;
	r->max_users_n1 = r->max_users[r->n1_state];
	r->years_normal = years_until(total, r->max_users[VPN_NORMAL], c->growth);
	r->years_n1 = years_until(total, r->max_users_n1, c->growth);
	double h = (double)total * pow(1 + c->growth, (double)c->horizon_years);
	r->horizon_accounts = h > (double)VPN_USERS_LIMIT ? VPN_USERS_LIMIT : (long)llround(h);
	if ((rc = vpn_demand_at(c, r->horizon_accounts, c->gateways, c->uplinks, &r->horizon)) < 0)
		goto out;
	/* N-1 at the horizon: the survivors of one loss carry everything. */
	long gw = 1 + ceil_div((double)r->horizon.tunnels, (double)c->max_tunnels);
	long gw_b = 1 + ceil_div(r->horizon.mbps, c->gateway_mbps);
	long upl = 1 + ceil_div(r->horizon.mbps, c->uplink_mbps);
	if (gw_b > gw)
		gw = gw_b;
	r->gateways_needed = gw > c->gateways ? gw : c->gateways;
	r->uplinks_needed = upl > c->uplinks ? upl : c->uplinks;
out:
	free(acc);
	if (rc < 0)
		vpn_result_free(r);
	return rc;
}
