/* SPDX-License-Identifier: MIT */
/*
 * Classification of flow records against the gateway's policy table
 * (eval/eval.h) and the segment summary of a time window
 * (docs/summary.md): counts per (source zone, destination zone, protocol,
 * destination port) with the verdict and deciding rule, rule hits, denied
 * flows with example hosts, traffic from and to unassigned addresses, and
 * the flows another gateway counts.
 *
 * A record is classified once, when the flow table hands it over: the
 * initiator is known by then (a SYN+ACK or an ICMP reply seen first has
 * been turned around) and no packet pays for it. A record that continues a
 * flow cut by the active timeout adds packets and bytes but is not a new
 * connection: rule hits count connections, as the kernel's counters do.
 */
#ifndef SEGPLAN_AGENT_SUMMARY_H
#define SEGPLAN_AGENT_SUMMARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/flow.h"
#include "eval/eval.h"
#include "nftstate/nftstate.h"
#include "summary/summary.h"

#define SUM_UNASSIGNED_TOP 20 /* unassigned addresses listed, by bytes */

/* The classification of one flow record. */
struct sum_class {
	bool classified; /* a policy table was given */
	struct pol_verdict v;
	bool ours; /* this gateway is the one that counts the flow */
	bool src_unassigned, dst_unassigned;
};

/*
 * Decides the record's connection with the table (t may be NULL: then
 * nothing is classified and every flow counts as ours). The flow counts at
 * this gateway when its initiator is in a local segment, or when the
 * initiator is at no site (internet, a VPN pool, unassigned) and the
 * responder is local (docs/policy.md, "Where it is counted"). A record of
 * ICMP errors related to a connection (struct flow's related) passes: outcome
 * POL_BY_RELATED, accept, no rule.
 */
void sum_classify(const struct pol_table *t, const struct flow *f, struct sum_class *out);

/* Adds the classification to a flow record object (docs/summary.md):
 * src_zone, dst_zone, verdict, passes, by, rule, counted. 0 or -ENOMEM. */
int sum_class_to_json(const struct pol_table *t, const struct sum_class *c, json_t *rec);

struct sum;

/* 0 or -ENOMEM. */
int sum_new(struct sum **out);
void sum_free(struct sum *s);

/* Classifies one record with t (may be NULL) and counts it into the
 * window; out (may be NULL) receives the classification. */
void sum_add(struct sum *s, const struct pol_table *t, const struct flow *f, enum flow_end why,
	     struct sum_class *out);

/* The caller replaced the policy table (SIGHUP): the next records are
 * classified by another table even if it sits at the old one's address. */
void sum_policy_changed(struct sum *s);

/* Starts a new window: every count goes back to zero (flows cut by the
 * active timeout are still known as such). */
void sum_reset(struct sum *s);

/* Totals of the window so far. */
struct sum_totals {
	uint64_t records;     /* flow records seen */
	uint64_t connections; /* of them, new connections */
	uint64_t ours;	      /* connections counted here */
	uint64_t not_ours;    /* connections another gateway counts (or transit) */
	uint64_t denied;      /* connections counted here that the policy denies */
	uint64_t unassigned;  /* connections counted here with an unassigned end */
};
void sum_totals(const struct sum *s, struct sum_totals *out);

/* New connections decided by the rule with this id in the window. */
uint64_t sum_rule_hits(const struct sum *s, const char *id);

/*
 * The window's classified part of the summary: "flows", "tuples",
 * "rule_hits" (every rule of t, zero or not, and any rule counted under an
 * earlier policy of the window), "outcomes", "denied", "unassigned".
 * Members are added to obj. 0 or -ENOMEM.
 */
int sum_to_json(const struct sum *s, const struct pol_table *t, json_t *obj);

/*
 * The "kernel" part: the live `inet segplan` table's policy rule counters
 * and the time it was applied (the segplan_meta chain, docs/deploy.md).
 * err is nfts_read()'s result when st is NULL. NULL on out of memory.
 */
json_t *sum_kernel_json(const struct nfts *st, int err);

/* The apply marker's time (seconds since the epoch) and file name from the
 * table's segplan_meta chain; false when the table has no marker. */
bool sum_applied_at(const struct nfts *st, int64_t *epoch, char *file, size_t size);

#endif
