/* SPDX-License-Identifier: MIT */
/*
 * The report of an audit (audit_report, audit_report_json and the text of
 * services of audit.h), built from the model (model.h). Inside the audit
 * folder: the order of services that the suggested rules share.
 */
#ifndef SEGPLAN_AUDIT_REPORT_H
#define SEGPLAN_AUDIT_REPORT_H

#include "audit/audit.h"

/* By protocol, family, then port. */
int audit_cmp_svc(const struct summary_svc *a, const struct summary_svc *b);

#endif
