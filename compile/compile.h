/* SPDX-License-Identifier: MIT */
/*
 * The policy compiler: policy + inventory -> one evaluator table per site
 * gateway (eval/eval.h), rendered as an nftables ruleset
 * (DIR/<site>.nft, docs/policy.md) and as the classification table the
 * agent loads (DIR/<site>.policy.json, docs/policy-json.md).
 *
 * The nft rules are a rendering of the same table that pol_decide() reads,
 * so `segplan policy query`, the agent and the kernel agree by construction.
 */
#ifndef SEGPLAN_COMPILE_H
#define SEGPLAN_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"

/* City-wide data computed once per compile: zone partition, district and data-centre lists. */
struct pol_build;

/* p and inv must outlive the build. 0 or a negative errno. */
int pol_build_new(const struct policy *p, const struct inventory *inv, struct pol_build **out);
void pol_build_free(struct pol_build *b);

/* "sha256:<hex>" of the canonical policy and address plan; same for every gateway. */
const char *pol_build_hash(const struct pol_build *b);
/* The policy built, and the addresses of its endpoint term k (NULL when no such term). */
const struct policy *pol_build_policy(const struct pol_build *b);
const struct pol_ranges *pol_build_term(const struct pol_build *b, int term);

/*
 * The table of site's gateway: its exceptions then the city-wide rules that
 * can match a packet with an end in its segments (expired rules left out),
 * and only the address ranges those rules need.
 */
int pol_build_gateway(const struct pol_build *b, int site, enum pol_mode mode,
		      struct pol_table **out);

/* Is gateway service rule (an index into the policy's rules, r->gateway) compiled into
 * site's input chain (not expired, and one of its interfaces, if it names any, is there)? */
bool pol_build_offers(const struct pol_build *b, int rule, int site);

/* A classification table of the whole city (every zone and site), no rules. */
int pol_build_city(const struct pol_build *b, struct pol_table **out);

/*
 * Which gateways judge a packet from src to dst (the gateways of the sites
 * whose segments hold either end; one when both are at the same site), and
 * which one counts the flow: the initiator's site, or the destination's when
 * the initiator is at no site (outside the city, a VPN pool, unassigned).
 * Sites are inventory indices; *counted is -1 when no gateway judges.
 */
void pol_build_judges(const struct pol_build *b, const struct ip_addr *src,
		      const struct ip_addr *dst, int judges[2], size_t *njudges, int *counted);

struct pol_nft_stats {
	size_t rules;	 /* nft rules rendered from policy rules */
	size_t sets;	 /* named sets */
	size_t elements; /* set elements */
	size_t bytes;	 /* size of the ruleset text */
};

/* Renders gateway table t of site as an nftables ruleset (malloc'ed text). */
int pol_nft_render(const struct pol_build *b, const struct pol_table *t, int site, char **text,
		   size_t *len, struct pol_nft_stats *st);

struct pol_compile_opts {
	const int *sites; /* inventory site indices (repeats allowed); none: every site */
	size_t nsites;
	enum pol_mode mode;
};

struct pol_compile_stats {
	size_t gateways;
	size_t rules, max_rules;       /* nft rules from policy rules: total and per gateway */
	size_t elements, max_elements; /* set elements */
	size_t bytes;		       /* .nft and .json together */
};

/*
 * Writes DIR/<site>.nft and DIR/<site>.policy.json for the chosen gateways,
 * each file atomically (core/atomic.h). The policy was validated when it was
 * loaded, so input errors never get here. 0 or a negative errno.
 */
int pol_compile(const struct policy *p, const struct inventory *inv, const char *dir,
		const struct pol_compile_opts *o, struct pol_compile_stats *st);

#endif
