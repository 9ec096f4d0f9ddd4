/* SPDX-License-Identifier: MIT */
/*
 * Flow records out of the agent: one JSON object per flow (JSON lines,
 * docs/agent.md), and the agent's counters as JSON. IPFIX comes later here.
 */
#ifndef SEGPLAN_AGENT_EXPORT_H
#define SEGPLAN_AGENT_EXPORT_H

#include <jansson.h>
#include <stdio.h>

#include "agent/decode.h"
#include "agent/flow.h"

/* The record as a JSON object (docs/agent.md); NULL on out of memory. */
json_t *exp_flow_json(const struct flow *f, enum flow_end why);

/* Text form of a flow address: dotted quad for IPv4-mapped ones, RFC 5952
 * otherwise. buf needs 46 bytes. */
const char *exp_addr(const uint8_t a[16], char *buf, size_t size);

/* A flow sink writing JSON lines to a stream; the first error is kept. */
struct exp_jsonl {
	FILE *f;
	int err; /* 0 or a negative errno */
	unsigned long long lines;
};

/* Matches flow_sink_fn; arg is a struct exp_jsonl. */
void exp_jsonl_sink(void *arg, const struct flow *f, enum flow_end why);

/* The statistics object (docs/agent.md); NULL on out of memory. fs may
 * be NULL. */
json_t *exp_stats_json(const struct dec_stats *ds, const struct flow_stats *fs, size_t flows_active,
		       size_t table_bytes);

#endif
