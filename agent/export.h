/* SPDX-License-Identifier: MIT */
/*
 * Flow records out of the agent: one JSON object per flow (JSON lines,
 * docs/agent.md), written to one file or to segments rotated by size and
 * age, and the agent's counters as JSON.
 */
#ifndef SEGPLAN_AGENT_EXPORT_H
#define SEGPLAN_AGENT_EXPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/decode.h"
#include "agent/flow.h"

/* The record as a JSON object (docs/agent.md); NULL on out of memory. */
json_t *exp_flow_json(const struct flow *f, enum flow_end why);

/* Text form of a flow address: dotted quad for IPv4-mapped ones, RFC 5952
 * otherwise. buf needs 46 bytes. */
const char *exp_addr(const uint8_t a[16], char *buf, size_t size);

/*
 * Every host address the agent writes (flow records, summaries) is formatted
 * by exp_addr. With --pseudonymise, main installs a keyed formatter here
 * (agent/pseudo.h) so that no output holds a raw address; buf has at least
 * INET6_ADDRSTRLEN bytes. NULL restores the plain text form.
 */
typedef const char *(*exp_addr_fn)(const void *ctx, const uint8_t a[16], char *buf, size_t size);
void exp_set_addr_hook(exp_addr_fn fn, const void *ctx);

/* A flow sink writing JSON lines to a stream; the first error is kept. */
struct exp_jsonl {
	FILE *f;
	int err; /* 0 or a negative errno */
	unsigned long long lines;
	unsigned long long bytes;
};

/* Matches flow_sink_fn; arg is a struct exp_jsonl. */
void exp_jsonl_sink(void *arg, const struct flow *f, enum flow_end why);

/* Writes o as one compact line (o is not released). */
void exp_jsonl_write(struct exp_jsonl *w, const json_t *o);

/*
 * Flow records in segments: FILE "dir/flows.jsonl" becomes
 * "dir/flows-20261126T164700Z.jsonl", "dir/flows-20261126T170000Z.jsonl",
 * ... (the UTC time the segment was opened; "-2", "-3" added when two open
 * in one second). Each segment is written through core/atomic.h and
 * appears whole when it is closed: a reader never sees half a line.
 * Closed segments older than the retention are deleted.
 */
struct exp_rotor_config {
	const char *path;
	uint64_t max_bytes;  /* 0: no size limit */
	uint64_t max_age_ns; /* 0: no age limit */
	uint64_t retain_ns;  /* 0: keep every segment */
};

struct exp_rotor;

/* Opens the first segment at time now_ns (ns since the epoch). 0 or a
 * negative errno. */
int exp_rotor_open(const struct exp_rotor_config *cfg, uint64_t now_ns, struct exp_rotor **out);
/* The writer of the current segment (stable across rotations). */
struct exp_jsonl *exp_rotor_writer(struct exp_rotor *r);
/* Closes the segment and opens the next when it is full or old; then
 * deletes expired segments. 0, or the first write/rename error. */
int exp_rotor_tick(struct exp_rotor *r, uint64_t now_ns);
/* Closes the current segment (kept even when empty: the last window) and
 * frees r. 0 or a negative errno; NULL is a no-op. */
int exp_rotor_close(struct exp_rotor *r);
/* The path of the last closed segment, "" before the first. */
const char *exp_rotor_last(const struct exp_rotor *r);

/* The statistics object (docs/agent.md); NULL on out of memory. fs may
 * be NULL. */
json_t *exp_stats_json(const struct dec_stats *ds, const struct flow_stats *fs, size_t flows_active,
		       size_t table_bytes);

#endif
