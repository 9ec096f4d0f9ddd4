/* SPDX-License-Identifier: MIT */
/*
 * The policy as a zone-by-zone matrix (docs/report.md, "Zone matrix"): for
 * every (from zone, to zone) what the gateways' rules accept, computed
 * exactly on analysis/lint.h's atoms, not by sampling. Each gateway view is
 * taken into account: the city-wide rules at gateways without exceptions,
 * and each site's exceptions with the city-wide rules at that site.
 */
#ifndef SEGPLAN_ZONEMATRIX_H
#define SEGPLAN_ZONEMATRIX_H

#include <stdbool.h>
#include <stddef.h>

#include "inventory/inventory.h"
#include "policy/policy.h"

enum zm_verdict {
	ZM_NEVER,   /* no gateway judges a packet from the one zone to the other */
	ZM_DENIED,  /* nothing is accepted */
	ZM_PARTLY,  /* some services, the same ones wherever the zones meet */
	ZM_SCOPED,  /* what is accepted depends on where (site, district, data centre, exception) */
	ZM_ALLOWED, /* every service, everywhere */
	ZM_VERDICT_COUNT
};

extern const char *const zm_verdict_names[ZM_VERDICT_COUNT];

struct zm_cell {
	enum zm_verdict verdict;
	int *rules; /* policy rules that accept some of these packets, ascending */
	size_t nrules;
	size_t atoms;	 /* (gateway view, atom) pairs judged */
	bool exceptions; /* a site exception decides some of these packets */
};

struct zm_matrix {
	int *zones; /* policy zone indices, in policy order; the dc overlay is not a zone here */
	size_t nzones;
	struct zm_cell *cells; /* [from * nzones + to] */
	size_t views;	       /* rule lists analysed */
};

/* p was loaded against inv. 0 or a negative errno (-ENOMEM). */
int zm_compute(const struct policy *p, const struct inventory *inv, struct zm_matrix *out);
void zm_matrix_free(struct zm_matrix *m);

/* The cell of policy zones from and to, or NULL when either is not in the matrix. */
const struct zm_cell *zm_cell(const struct zm_matrix *m, int from, int to);

#endif
