/* SPDX-License-Identifier: MIT */
/*
 * Everything the HTML report shows, computed from an inventory directory:
 * the topology analyses, the rollout plan (heuristic and bound), the VPN
 * model, the policy's zone matrix and, when agent summaries are given, the
 * audit. The models are optional: each is read when its file
 * (rollout.yaml, vpn.yaml, policy.yaml) is present.
 */
#ifndef SEGPLAN_REPORTDATA_H
#define SEGPLAN_REPORTDATA_H

#include <stddef.h>

#include "core/diag.h"
#include "report/report.h"

struct report_data;

struct report_data_opts {
	double threshold;	      /* link utilisation counted as high; 0: 0.8 */
	const char *date;	      /* policy expiry day YYYY-MM-DD; NULL: today (UTC) */
	const char *const *summaries; /* agent summary files (docs/summary.md) */
	size_t nsummaries;
};

/*
 * Loads and analyses. Every problem of every input file (summaries
 * included) is a located diagnostic in dl. Returns 0 with *out set;
 * -EINVAL when errors were reported; -ENOSPC when the rollout's pinned sites
 * do not fit their years' budgets; another negative errno on system errors.
 */
int report_data_load(const char *dir, const struct report_data_opts *o, struct diag_list *dl,
		     struct report_data **out);
void report_data_free(struct report_data *d);

/* Fills the analyses' parts of in (topo ... audit); the caller sets title, source, dates, top. */
void report_data_input(const struct report_data *d, struct report_input *in);

#endif
