// SPDX-License-Identifier: MIT
/* The agent's summary windows: the summary document of a window
 * (docs/summary.md; the envelope itself is summary/'s) and the start of
 * the next window. */
#ifndef SEGPLAN_AGENT_WINDOW_H
#define SEGPLAN_AGENT_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"

/* The summary of the window [win_start, end] (live) or of the capture's
 * time span (offline) to --summary and to the spool (--spool). 0 or a
 * negative errno; *failed then names the output that failed. */
int win_write_summary(struct agent *a, uint64_t end_ns, bool final, const char **failed);
/* Starts the next window. */
void win_next(struct agent *a, uint64_t start_ns);
/* Ends the window at now: writes its summary (when --summary or --spool is
 * given, saying so when it cannot) and starts the next one. */
void win_tick(struct agent *a, uint64_t now, bool final);

#endif
