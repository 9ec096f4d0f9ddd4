// SPDX-License-Identifier: MIT
/* segplan vpn: the VPN headroom model (docs/vpn.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/exitcodes.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "vpn/vpn.h"

#define DEFAULT_SAMPLES 2000L
#define DEFAULT_SEED	1ULL
#define MIN_SAMPLES	100L
#define MAX_SAMPLES	10000000L

static const char usage[] =
    "usage: segplan vpn INVENTORY [--users N] [--json] [--seed S] [--samples K]\n"
    "\n"
    "VPN headroom of the remote-access set-up in INVENTORY/vpn.yaml: concurrent\n"
    "tunnels and throughput of the busy hour against the gateways and uplinks,\n"
    "in normal state, with one gateway lost and with one uplink lost; the largest\n"
    "user count carried, the years of growth left, and what the horizon needs.\n"
    "\n"
    "options:\n"
    "  --users N    evaluate N users in total, the groups scaled proportionally\n"
    "               (default: the accounts in vpn.yaml)\n"
    "  --json       machine-readable output (schema in docs/vpn.md)\n"
    "  --seed S     Monte Carlo seed, 0-9223372036854775807 (default 1)\n"
    "  --samples K  Monte Carlo samples, 100-10000000 (default 2000)\n"
    "  -h, --help   show this help\n"
    "\n"
    "exit status: 0 the users fit in every state, 1 they do not fit in some state,\n"
    "2 usage, 3 invalid vpn.yaml, 4 system error\n";

static const struct option longopts[] = {
    {"users", required_argument, NULL, 'u'}, {"json", no_argument, NULL, 'j'},
    {"seed", required_argument, NULL, 's'},  {"samples", required_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
};

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *users_or_null(long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static double pct(double h)
{
	return h * 100;
}

static json_t *to_json(const struct vpn_config *c, const struct vpn_result *r)
{
	json_t *groups = json_array();
	for (size_t i = 0; i < c->ngroups; i++) {
		const struct vpn_group *g = &c->groups[i];
		const struct vpn_group_result *gr = &r->groups[i];
		json_array_append_new(
		    groups,
		    json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "name", g->name,
			      "accounts", (json_int_t)gr->accounts, "busy_hour_probability",
			      g->p_busy, "mbps_mean", g->mbps_mean, "mbps_p95", g->mbps_p95,
			      "split_tunnel", g->split, "lognormal_mu", g->ln_mu, "lognormal_sigma",
			      g->ln_sigma, "mean_tunnels", gr->mean_tunnels, "tunnelled_mbps_mean",
			      gr->mean_mbps));
	}
	json_t *res = json_array();
	for (int s = 0; s < VPN_STATE_COUNT; s++)
		for (int k = 0; k < VPN_RESOURCE_COUNT; k++) {
			const struct vpn_cell *cell = &r->now.cell[s][k];
			json_array_append_new(
			    res, json_pack("{s:s, s:s, s:f, s:f, s:o, s:b}", "resource",
					   vpn_resource_names[k], "state", vpn_state_names[s],
					   "need", cell->need, "capacity", cell->capacity,
					   "headroom_pct", num_or_null(pct(cell->headroom)), "fits",
					   cell->need <= cell->capacity));
		}
	const struct vpn_cell *w = &r->now.cell[r->worst_state][r->worst_resource];
	json_t *binding = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:o}}", "normal",
				    vpn_resource_names[r->binding[VPN_NORMAL]], "gateway_lost",
				    vpn_resource_names[r->binding[VPN_GATEWAY_LOST]], "uplink_lost",
				    vpn_resource_names[r->binding[VPN_UPLINK_LOST]], "worst",
				    "state", vpn_state_names[r->worst_state], "resource",
				    vpn_resource_names[r->worst_resource], "headroom_pct",
				    num_or_null(pct(w->headroom)));
	json_t *max = json_pack("{s:o, s:o, s:o, s:o, s:s}", "normal",
				users_or_null(r->max_users[VPN_NORMAL]), "gateway_lost",
				users_or_null(r->max_users[VPN_GATEWAY_LOST]), "uplink_lost",
				users_or_null(r->max_users[VPN_UPLINK_LOST]),
				"worst_single_failure", users_or_null(r->max_users_n1),
				"worst_single_failure_state", vpn_state_names[r->n1_state]);
	json_t *growth = json_pack(
	    "{s:f, s:o, s:o, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I}", "yearly", c->growth,
	    "years_until_normal_exhausted", num_or_null(r->years_normal),
	    "years_until_n1_exhausted", num_or_null(r->years_n1), "horizon_years",
	    (json_int_t)c->horizon_years, "horizon_accounts", (json_int_t)r->horizon_accounts,
	    "horizon_tunnels", (json_int_t)r->horizon.tunnels, "horizon_mbps", r->horizon.mbps,
	    "gateways", (json_int_t)c->gateways, "gateways_needed", (json_int_t)r->gateways_needed,
	    "uplinks", (json_int_t)c->uplinks, "uplinks_needed", (json_int_t)r->uplinks_needed);
	bool fits =
	    r->carried[VPN_NORMAL] && r->carried[VPN_GATEWAY_LOST] && r->carried[VPN_UPLINK_LOST];
	return json_pack(
	    "{s:s, s:I, s:{s:f, s:f}, s:o, s:{s:f, s:I, s:I, s:I}, "
	    "s:{s:f, s:f, s:f, s:f, s:f, s:s, s:f, s:I, s:I, s:f}, s:o, s:o, s:o, s:o, s:b}",
	    "file", c->file, "accounts", (json_int_t)r->now.accounts, "service_level",
	    "refusal_probability", c->refusal, "bandwidth_percentile", c->percentile, "groups",
	    groups, "tunnels", "offered_erlangs", r->now.offered, "binomial",
	    (json_int_t)r->now.tunnels, "engset", (json_int_t)r->tunnels_engset, "erlang_b",
	    (json_int_t)r->tunnels_erlang_b, "throughput_mbps", "mean", r->now.mbps_mean, "sd",
	    r->now.mbps_sd, "skewness", r->now.mbps_skew, "percentile", c->percentile, "analytic",
	    r->now.mbps, "method", "fenton-wilkinson", "monte_carlo", r->mbps_mc, "samples",
	    (json_int_t)r->samples, "seed", (json_int_t)r->seed, "relative_difference",
	    r->mc_rel_diff, "resources", res, "binding", binding, "max_users", max, "growth",
	    growth, "fits", fits);
}

static void print_users(const char *label, long v)
{
	if (v < 0)
		printf("%s at least %ld", label, VPN_USERS_LIMIT);
	else
		printf("%s %ld", label, v);
}

static void print_years(const char *label, double y)
{
	if (isfinite(y))
		printf("%s in %.1f years", label, y);
	else
		printf("%s never", label);
}

static void print_headroom(double h)
{
	if (isnan(h))
		printf("%10s\n", "none");
	else
		printf("%9.1f%%\n", pct(h));
}

static void print_human(const struct vpn_config *c, const struct vpn_result *r)
{
	printf("VPN headroom: %s, %ld accounts in %zu groups\n", c->file, r->now.accounts,
	       c->ngroups);
	printf("service level: at most %g%% of users refused a tunnel, the %g%% bandwidth "
	       "percentile must fit\n\n",
	       c->refusal * 100, c->percentile * 100);
	printf("concurrent tunnels: binomial %ld, Engset %ld, Erlang B %ld (offered %.1f "
	       "erlangs)\n",
	       r->now.tunnels, r->tunnels_engset, r->tunnels_erlang_b, r->now.offered);
	printf("throughput at the percentile: %.1f Mbit/s analytic (Fenton-Wilkinson), "
	       "%.1f Mbit/s Monte Carlo (%ld samples, seed %llu), difference %+.2f%%\n\n",
	       r->now.mbps, r->mbps_mc, r->samples, (unsigned long long)r->seed,
	       r->mc_rel_diff * 100);
	printf("%-14s %-14s %12s %12s %10s\n", "resource", "state", "need", "capacity", "headroom");
	for (int s = 0; s < VPN_STATE_COUNT; s++)
		for (int k = 0; k < VPN_RESOURCE_COUNT; k++) {
			const struct vpn_cell *cell = &r->now.cell[s][k];
			printf("%-14s %-14s %12.*f %12.*f ", vpn_resource_names[k],
			       vpn_state_names[s], k == VPN_TUNNELS ? 0 : 1, cell->need,
			       k == VPN_TUNNELS ? 0 : 1, cell->capacity);
			print_headroom(cell->headroom);
		}
	printf("\nbinds first:");
	for (int s = 0; s < VPN_STATE_COUNT; s++) {
		double h = r->now.cell[s][r->binding[s]].headroom;
		printf("%s %s: %s", s ? ";" : "", vpn_state_names[s],
		       vpn_resource_names[r->binding[s]]);
		if (!isnan(h))
			printf(" (%.1f%%)", pct(h));
	}
	printf("\n");
	print_users("largest user count carried: normal", r->max_users[VPN_NORMAL]);
	print_users(", worst single failure", r->max_users_n1);
	printf(" (%s)\n", vpn_state_names[r->n1_state]);
	printf("growth %g%%/year: ", c->growth * 100);
	print_years("normal headroom gone", r->years_normal);
	print_years(", N-1 headroom gone", r->years_n1);
	printf("\nhorizon %ld years: %ld accounts; N-1 needs %ld gateways (%ld more) and %ld "
	       "uplinks (%ld more)\n",
	       c->horizon_years, r->horizon_accounts, r->gateways_needed,
	       r->gateways_needed - c->gateways, r->uplinks_needed, r->uplinks_needed - c->uplinks);
	for (int s = 0; s < VPN_STATE_COUNT; s++)
		if (!r->carried[s])
			printf("does not fit: %s\n", vpn_state_names[s]);
}

int cmd_vpn(int argc, char **argv)
{
	struct vpn_options o = {.users = 0, .samples = DEFAULT_SAMPLES, .seed = DEFAULT_SEED};
	bool json = false;
	const char *bad = out_inexact_option(argc, argv, longopts);
	if (bad)
		return out_usage(usage, "vpn: unknown option '%s'", bad);
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			return out_help(usage);
		case 'j':
			json = true;
			break;
		case 'u':
			if (!parse_long(optarg, 1, VPN_USERS_LIMIT, &o.users))
				return out_usage(usage,
						 "vpn: --users needs an integer 1-%ld, not '%s'",
						 VPN_USERS_LIMIT, optarg);
			break;
		case 'k':
			if (!parse_long(optarg, MIN_SAMPLES, MAX_SAMPLES, &o.samples))
				return out_usage(
				    usage, "vpn: --samples needs an integer %ld-%ld, not '%s'",
				    MIN_SAMPLES, MAX_SAMPLES, optarg);
			break;
		case 's': {
			long v;
			if (!parse_long(optarg, 0, LONG_MAX, &v))
				return out_usage(usage,
						 "vpn: --seed needs an integer 0-%ld, not '%s'",
						 LONG_MAX, optarg);
			o.seed = (uint64_t)v;
			break;
		}
		case ':':
			return out_usage(usage, "vpn: option '%s' needs a value", argv[optind - 1]);
		default:
			return out_usage(usage, "vpn: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return out_usage(usage, "vpn: missing INVENTORY");
	if (argc - optind > 1)
		return out_usage(usage, "vpn: unexpected argument '%s'", argv[optind + 1]);
	struct diag_list *dl = diag_list_new();
	struct vpn_config *c = NULL;
	struct vpn_result r;
	bool have_result = false;
	int rc = SEG_EXIT_OK;
	if (!dl)
		return out_fail(SEG_EXIT_SYSTEM, "vpn: out of memory");
	int e = vpn_load(argv[optind], dl, &c);
	out_diags(dl);
	if ((rc = out_input_code(dl, e)) != SEG_EXIT_OK) {
		if (rc == SEG_EXIT_SYSTEM)
			out_fail(rc, "vpn: %s", strerror(-e));
		goto out;
	}
	e = vpn_compute(c, &o, &r);
	if (e < 0) {
		rc = out_fail(SEG_EXIT_SYSTEM, "vpn: %s", strerror(-e));
		goto out;
	}
	have_result = true;
	if (json) {
		json_t *j = to_json(c, &r);
		rc = j ? out_json(j) : out_fail(SEG_EXIT_SYSTEM, "vpn: out of memory");
	} else {
		print_human(c, &r);
		if (fflush(stdout) != 0)
			rc = out_fail(SEG_EXIT_SYSTEM, "vpn: cannot write the output");
	}
	if (rc == SEG_EXIT_OK &&
	    !(r.carried[VPN_NORMAL] && r.carried[VPN_GATEWAY_LOST] && r.carried[VPN_UPLINK_LOST]))
		rc = SEG_EXIT_FINDINGS;
out:
	if (have_result)
		vpn_result_free(&r);
	vpn_config_free(c);
	diag_list_free(dl);
	return rc;
}
