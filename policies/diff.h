/* SPDX-License-Identifier: MIT */
/*
 * `segplan policy diff`: the semantic difference of two policies
 * (docs/policy-lint.md): the packets whose verdict changes, as boxes of
 * (family, source zones, destination zones, relation of the ends, services),
 * each with the verdict and the deciding rule before and after. Built on the
 * exact model of policies/lint.h, so reordering independent rules, renaming
 * a service or splitting a rule into equivalent ones gives no change.
 */
#ifndef SEGPLAN_DIFF_H
#define SEGPLAN_DIFF_H

#include <jansson.h>
#include <stddef.h>

#include "policies/lint.h"
#include "policies/policy.h"
#include "topology/inventory.h"

struct diff_side {
	enum pol_action action;
	int rule; /* index into that policy's rules; -1 for the default drop */
};

struct diff_change {
	/*
	 * The gateway: NULL for every gateway without exceptions of its own (in
	 * either policy), else the site id of one that has some.
	 */
	const char *site;
	struct diff_side before, after;
	struct lint_box box;
};

struct diff_report {
	struct lint_names names; /* the zones the boxes refer to */
	struct diff_change *v;
	size_t n;
	char **sites; /* the sites with exceptions, each its own view */
	size_t nsites;
	size_t atoms; /* atoms compared, summed over the views */
};

/*
 * Compares the decisions of policy b (loaded against inventory ib) with
 * those of a (against ia). Zones and sites are matched by name. 0 or a
 * negative errno.
 */
int diff_policies(const struct policy *a, const struct inventory *ia, const struct policy *b,
		  const struct inventory *ib, struct diff_report **out);
void diff_report_free(struct diff_report *d);

/* {"site", "family", "from", "to", "relation", "services", "before", "after"}. */
json_t *diff_change_json(const struct diff_report *d, const struct policy *a,
			 const struct policy *b, const struct diff_change *c);
/* "S000002: admin -> servers[dc] tcp/445 (same-site): accept (rule 'x') -> drop (default)". */
char *diff_change_text(const struct diff_report *d, const struct policy *a, const struct policy *b,
		       const struct diff_change *c);

#endif
