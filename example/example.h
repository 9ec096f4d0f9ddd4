/* SPDX-License-Identifier: MIT */
/*
 * The example city: a deterministic inventory modelled on Stuttgart's 23
 * districts (docs/inventory.md, "The example city"; the address plan is in
 * docs/addressplan.md). The same (sites, seed) gives byte-identical files on
 * every machine with IEEE-754 doubles: the generator uses its own PRNG
 * (xoshiro256** seeded by splitmix64) and prints numbers with fixed precision.
 */
#ifndef SEGPLAN_EXAMPLE_H
#define SEGPLAN_EXAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Two data centres plus one town hall per district come first. */
#define EXAMPLE_MIN_SITES 25
/* Site ids are S + six digits. */
#define EXAMPLE_MAX_SITES     1000000
#define EXAMPLE_DEFAULT_SITES 850
#define EXAMPLE_DEFAULT_SEED  1

/* Under-served schools at EXAMPLE_FULL_SITES sites or more; scaled below. */
#define EXAMPLE_UNDERSERVED_SCHOOLS 19
#define EXAMPLE_FULL_SITES	    500

/* Sites (other than data centres and town halls) with a vendor's building-automation
 * controller in hosts.csv, when the city has that many with a bms segment. */
#define EXAMPLE_VENDOR_SITES 6

/* Planned trench cost model: fixed part (building entry, splicing) + per metre. */
#define EXAMPLE_TRENCH_FIXED_EUR 15000.0
#define EXAMPLE_TRENCH_EUR_PER_M 250.0

struct example_opts {
	long sites;    /* EXAMPLE_MIN_SITES..EXAMPLE_MAX_SITES */
	uint64_t seed; /* any value */
	bool force;    /* overwrite the files of a non-empty directory */
};

/* What was generated (filled by example_generate when asked for). */
struct example_summary {
	size_t sites, links, segments, plan_rows, hosts;
	size_t fibre_sites; /* non-data-centre sites on fibre */
	size_t other_sites; /* non-data-centre sites */
	size_t underserved_schools;
	size_t planned_trenches;
	bool ipv4;	  /* false: the city was too large for 10.0.0.0/8, IPv6 only */
	unsigned ula_len; /* 48, or shorter for very large cities */
};

void example_opts_default(struct example_opts *o);

/*
 * Writes districts.csv, sites.csv, links.csv, segments.csv, addressplan.csv,
 * interfaces.csv, hosts.csv, README.md and the example policy.yaml, policy-stage2.yaml (for
 * the city's vendors: example_write_stage2), vpn.yaml and rollout.yaml into dir (created when
 * missing), all in one atomic batch. Returns 0, -EINVAL for options out of range, -ENOTEMPTY
 * when dir holds files and o->force is not set, or another negative errno. sum may be NULL.
 */
int example_generate(const struct example_opts *o, const char *dir, struct example_summary *sum);

/*
 * The stage-2 policy of the example city (examples/stuttgart/policy-stage2.yaml),
 * NUL-terminated. It grants each building-automation vendor a VPN range and a rule of its
 * own; example_write_stage2 writes it without the range ("  vpn-vendor-<v>: ...") and the
 * rule ("  - id: vendor-<v>" to the blank line after it) of every vendor v for which
 * has(v, ctx) is false, so that the policy loads for a city without that vendor's
 * controllers.
 */
extern const char example_policy_stage2_yaml[];
void example_write_stage2(FILE *f, bool (*has)(const char *vendor, void *ctx), void *ctx);

/* Number of under-served schools for a city of n sites (before capping by
 * the schools that exist). */
size_t example_underserved_target(long n);

#endif
