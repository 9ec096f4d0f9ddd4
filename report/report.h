/* SPDX-License-Identifier: MIT */
/*
 * The HTML report (docs/report.md): one self-contained file (inline CSS,
 * inline SVG, a few lines of inline JavaScript, no external resource) with
 * the map of the sites, the rollout timeline, the VPN headroom, the policy
 * as a zone matrix and the topology's weak spots. The analyses are done by
 * the caller; this module only draws their plain result structs.
 */
#ifndef SEGPLAN_REPORT_H
#define SEGPLAN_REPORT_H

#include <stdio.h>

#include "audit/audit.h"
#include "policy/policy.h"
#include "report/zonematrix.h"
#include "rollout/rollout_city.h"
#include "rollout/rollout_config.h"
#include "rollout/rollout_model.h"
#include "topology/topo.h"
#include "vpn/vpn.h"

struct report_rollout {
	const struct rollout_config *cfg;
	const struct rollout_city *city;
	const struct rollout_plan *plan;
	double bound; /* rollout_bound of the instance */
};

struct report_vpn {
	const struct vpn_config *cfg;
	const struct vpn_result *res;
};

/* Everything the report shows; a NULL part leaves its section with a note. */
struct report_input {
	const char *title;	 /* NULL: "Network report" */
	const char *source;	 /* the inventory directory, as the user named it */
	const char *generated;	 /* when, as text (YYYY-MM-DD); NULL: left out */
	const struct topo *topo; /* required: the map, and the inventory through it */
	const struct topo_resilience *res;
	const struct topo_capacity *cap;
	const struct report_rollout *rollout;
	const struct report_vpn *vpn;
	const struct policy *policy; /* with its matrix, or both NULL */
	const struct zm_matrix *matrix;
	const struct audit_report *audit; /* of the same policy; NULL: no summaries given */
	size_t top;			  /* rows in the lists; 0: 10 */
};

/* Writes the report to f. 0 or a negative errno (-EIO when f failed, -EINVAL, -ENOMEM). */
int report_write(const struct report_input *in, FILE *f);
/* Writes it to path atomically: the file appears whole or not at all. */
int report_write_file(const struct report_input *in, const char *path);

/* Writes s with HTML's special characters (& < > " ') as character references. */
void report_html_text(FILE *f, const char *s);

#endif
