/* SPDX-License-Identifier: MIT */
/*
 * The VPN headroom model (docs/vpn.md): vpn.yaml of an inventory, the
 * busy-hour demand of its user groups (concurrent tunnels, throughput at a
 * percentile), the capacity of gateways and uplinks in normal state and
 * with one of them lost, and how far the set-up carries growth.
 */
#ifndef SEGPLAN_VPN_H
#define SEGPLAN_VPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

/* The example city's vpn.yaml, written by `segplan example`. */
extern const char vpn_example_yaml[];

struct vpn_group {
	char *name;
	long accounts;
	double p_busy;	  /* probability of being connected in the busy hour */
	double mbps_mean; /* bandwidth of an active user, Mbit/s */
	double mbps_p95;
	double split; /* share of traffic split-tunnelled away, 0..1 */
	double ln_mu; /* lognormal fit of the bandwidth (before the split) */
	double ln_sigma;
	unsigned line;
};

struct vpn_config {
	char *file;
	struct vpn_group *groups;
	size_t ngroups;
	long gateways;
	long max_tunnels;    /* per gateway */
	double gateway_mbps; /* throughput per gateway */
	long uplinks;
	double uplink_mbps; /* capacity per uplink */
	double refusal;	    /* target probability that a user is refused a tunnel */
	double percentile;  /* bandwidth percentile that must fit */
	double growth;	    /* yearly growth of the accounts */
	long horizon_years;
};

#define VPN_DEFAULT_REFUSAL    0.01
#define VPN_DEFAULT_PERCENTILE 0.99
#define VPN_DEFAULT_GROWTH     0.05
#define VPN_DEFAULT_HORIZON    5
/* Searches for the largest carried user count stop here. */
#define VPN_USERS_LIMIT 1000000000L

/*
 * Loads and validates DIR/vpn.yaml (or a file, or a buffer). Every problem
 * is a located diagnostic. Returns 0 with *out set, -EINVAL when errors
 * were reported, or another negative errno.
 */
int vpn_load(const char *dir, struct diag_list *dl, struct vpn_config **out);
int vpn_load_file(const char *path, const char *display, struct diag_list *dl,
		  struct vpn_config **out);
int vpn_load_buffer(const char *buf, size_t len, const char *name, struct diag_list *dl,
		    struct vpn_config **out);
void vpn_config_free(struct vpn_config *c);

enum vpn_state { VPN_NORMAL, VPN_GATEWAY_LOST, VPN_UPLINK_LOST, VPN_STATE_COUNT };
enum vpn_resource { VPN_TUNNELS, VPN_GATEWAY_MBPS, VPN_UPLINK_MBPS, VPN_RESOURCE_COUNT };

extern const char *const vpn_state_names[VPN_STATE_COUNT];
extern const char *const vpn_resource_names[VPN_RESOURCE_COUNT];

/* headroom = (capacity - need) / capacity; NAN when the capacity is 0. */
struct vpn_cell {
	double need, capacity, headroom;
};

/* The analytic demand at one account total, against a set-up. */
struct vpn_demand {
	long accounts;
	double offered;	  /* erlangs: sum of accounts * p */
	long tunnels;	  /* binomial model: smallest c with P(X > c) <= refusal */
	double mbps_mean; /* tunnelled throughput: mean, sd, skewness */
	double mbps_sd;
	double mbps_skew;
	double mbps; /* at the bandwidth percentile (Fenton-Wilkinson) */
	struct vpn_cell cell[VPN_STATE_COUNT][VPN_RESOURCE_COUNT];
};

/*
 * Accounts per group for a total of users, proportional to the configured
 * accounts by Sainte-Lague (Webster) rounding, which is house-monotone: a
 * larger total never gives any group fewer accounts. acc has ngroups slots.
 */
void vpn_scale_accounts(const struct vpn_config *c, long total, long *acc);
long vpn_total_accounts(const struct vpn_config *c);

/* The demand of total users (scaled), with the given gateways and uplinks. 0 or -ENOMEM. */
int vpn_demand_at(const struct vpn_config *c, long total, long gateways, long uplinks,
		  struct vpn_demand *out);
/* True when every resource's need fits its capacity in state s. */
bool vpn_demand_fits(const struct vpn_demand *d, enum vpn_state s);

struct vpn_options {
	long users;    /* total users to evaluate; 0: the configured accounts */
	long samples;  /* Monte Carlo samples (>= 1) */
	uint64_t seed; /* Monte Carlo seed */
};

struct vpn_group_result {
	long accounts;
	double mean_tunnels; /* accounts * p */
	double mean_mbps;    /* tunnelled mean of the group */
};

struct vpn_result {
	struct vpn_demand now;
	struct vpn_group_result *groups; /* ngroups entries */
	size_t ngroups;
	long tunnels_engset;   /* Engset, pooled sources, call congestion <= refusal */
	long tunnels_erlang_b; /* Erlang B with A = offered */
	double mbps_mc;	       /* Monte Carlo percentile */
	double mc_rel_diff;    /* (analytic - Monte Carlo) / Monte Carlo */
	long samples;
	uint64_t seed;
	enum vpn_resource binding[VPN_STATE_COUNT]; /* least headroom per state */
	enum vpn_state worst_state;		    /* least headroom of all */
	enum vpn_resource worst_resource;
	bool carried[VPN_STATE_COUNT];	 /* the users fit in that state */
	long max_users[VPN_STATE_COUNT]; /* -1: at least VPN_USERS_LIMIT */
	enum vpn_state n1_state;	 /* the single failure that carries fewest */
	long max_users_n1;
	double years_normal; /* until the headroom is gone; INFINITY: never */
	double years_n1;
	long horizon_accounts;
	struct vpn_demand horizon;
	long gateways_needed; /* for N-1 at the horizon, never below today's */
	long uplinks_needed;
};

/* Runs the whole model. Returns 0 or a negative errno; free with vpn_result_free. */
int vpn_compute(const struct vpn_config *c, const struct vpn_options *o, struct vpn_result *r);
void vpn_result_free(struct vpn_result *r);

/* The largest total (<= VPN_USERS_LIMIT, else -1) that fits in state s. */
int vpn_max_users(const struct vpn_config *c, enum vpn_state s, long *out);

/* The Monte Carlo percentile of the tunnelled throughput at total users. */
int vpn_monte_carlo(const struct vpn_config *c, long total, long samples, uint64_t seed,
		    double *out);

#endif
