/* SPDX-License-Identifier: MIT */
/*
 * The agent's summary of a time window (docs/summary.md): its name and
 * version, written by segplan-agent and read by segplan audit. Both sides
 * take them from here.
 */
#ifndef SEGPLAN_SUMMARY_H
#define SEGPLAN_SUMMARY_H

#include <jansson.h>
#include <stdint.h>
#include <stddef.h>

#include "eval/eval.h"

#define SUMMARY_KIND	 "segplan-agent-summary" /* "kind" */
#define SUMMARY_GAP_KIND "segplan-agent-gap"	 /* a spool's gap marker */
#define SUMMARY_FORMAT	 1			 /* "format": the version written and accepted */
#define SUMMARY_EXAMPLES 3			 /* example host pairs per denied tuple */
#define SUMMARY_HOSTS	 16			 /* distinct addresses per end of a denied tuple */

/* The envelope of a summary: format, kind, generator (the agent and its
 * version), host and site (NULL: null). 0, or non-zero when out of memory. */
int summary_envelope(json_t *j, const char *host, const char *site);

/* RFC 3339 UTC text of a time in nanoseconds ("2026-11-26T16:24:10Z",
 * whole seconds). buf needs 24 bytes. */
const char *summary_time(uint64_t ns, char *buf, size_t size);

/*
 * The term of a rule's side that address a (classified as c) matched, as the
 * summaries and `segplan policy query` name it: "any", the first zone of the
 * side that holds it, else the label of the first named set; NULL when none
 * does.
 */
const char *summary_side_term(const struct pol_table *t, const struct pol_side *sd,
			      const struct ip_addr *a, const struct pol_class *c);

/* Writes the summary to path atomically, as the agent always has: two-space
 * indented JSON and a newline. 0 or a negative errno. */
int summary_write(const char *path, const json_t *j);

#endif
