/* SPDX-License-Identifier: MIT */
/*
 * The worker pool behind audit_add_file and audit_add_files (audit.h):
 * summaries are read, parsed and checked by up to AUDIT_MAX_WORKERS threads,
 * each into its own arena, and counted into the model (model.h) in the
 * caller's thread in the order given, so that the report and the
 * diagnostics do not depend on the number of workers.
 */
#ifndef SEGPLAN_AUDIT_POOL_H
#define SEGPLAN_AUDIT_POOL_H

#include "audit/audit.h"

/* Jobs taken beyond the last one counted, per worker: bounds the trees held. */
#define AUDIT_JOBS_AHEAD 4

#endif
