/* SPDX-License-Identifier: MIT */
/*
 * The suggested rules of a report: the smallest set of zone-pair rules that
 * would let the denied traffic through (built here for audit_report), and
 * the writer of them as a policy.yaml fragment (audit_suggest_yaml of
 * audit.h).
 */
#ifndef SEGPLAN_AUDIT_SUGGEST_H
#define SEGPLAN_AUDIT_SUGGEST_H

#include "audit/audit.h"

struct audit;

/*
 * r's suggestions and new services from the model's denied groups, and each
 * denial's suggestion (r->denials in the report's order: denial i of the
 * model is r->denials[order[i]]). 0 or -ENOMEM.
 */
int audit_build_suggestions(const struct audit *a, struct audit_report *r, const long *order);

#endif
