// SPDX-License-Identifier: MIT
/* The agent's one reporting path: every line it prints (log lines, errors,
 * usage, statistics) goes through here, so that the modules of the program
 * print nothing themselves. Log lines start with "segplan-agent: ". */
#ifndef SEGPLAN_AGENT_REPORT_H
#define SEGPLAN_AGENT_REPORT_H

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>

#include "agent/decode.h"
#include "agent/flow.h"
#include "core/diag.h"

struct agent;

/* "segplan-agent: <message>" on stderr. */
void report_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "segplan-agent: error: <message>" on stderr. */
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "segplan-agent: <what>: <strerror(-err)>" on stderr; returns code. */
int report_fail(int code, const char *what, int err);
/* "segplan-agent: <message>", then the usage text, on stderr; returns
 * SEG_EXIT_USAGE. */
int report_usage_error(const char *usage, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* The help text on stdout (-h), the version line on stdout (--version). */
void report_help(const char *usage);
void report_version(void);
/* The gathered diagnostics on stderr. */
void report_diags(const struct diag_list *dl);

uint64_t report_not_decoded(const struct dec_stats *ds);
/* The statistics as text on stderr (offline, and the head of SIGUSR1's). */
void report_stats_text(const char *what, const struct dec_stats *ds, const struct flow_stats *fs);
/* SIGUSR1: the live statistics, per interface and of the window. */
void report_live_stats(struct agent *a);
/* --stats: the statistics document as JSON on stdout. 0 or -EIO. */
int report_stats_json(const json_t *j);

#endif
