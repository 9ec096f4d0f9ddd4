/* SPDX-License-Identifier: MIT */
/*
 * Windows of one gateway summed into one window (docs/summary.md, "Merged
 * windows"): what the agent's spool writes when it must make room, and what
 * a store may do with old windows. Works on the JSON documents, so that it
 * keeps every member it does not know.
 */
#ifndef SEGPLAN_SUMMARY_MERGE_H
#define SEGPLAN_SUMMARY_MERGE_H

#include <jansson.h>
#include <stddef.h>

/*
 * A new summary of the n windows docs (oldest first, each a valid summary of
 * one gateway, summary_read): the last window's envelope, policy, gateway
 * and kernel; window.start the earliest start, window.end the latest end;
 * tuples added by their key (flows, packets, bytes, answered; names summed
 * by name; examples the busiest SUMMARY_EXAMPLES pairs; hosts unioned up to
 * SUMMARY_HOSTS per end, complete false once more were seen; scope checks
 * that every window gives summed); rule_hits summed by id; flows, outcomes,
 * denied, unassigned and the capture's window counters summed; events
 * concatenated. No chain and no window.replaces: the caller adds them.
 * NULL when out of memory or a window has no times.
 */
json_t *summary_merge(json_t *const *docs, size_t n);

#endif
