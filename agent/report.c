// SPDX-License-Identifier: MIT
/* The agent's reporting path: stderr for log lines, errors and usage,
 * stdout for --help, --version and --stats. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/report.h"
#include "core/exitcodes.h"
#include "core/version.h"

int report_fail(int code, const char *what, int err)
{
	fprintf(stderr, "segplan-agent: %s: %s\n", what, strerror(-err));
	return code;
}

/* One line on stderr: prefix, the message, a newline. */
static void vline(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vline(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void report_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline("segplan-agent: ", fmt, ap);
	va_end(ap);
}

uint64_t report_not_decoded(const struct dec_stats *ds)
{
	uint64_t n = 0;
	for (int r = 0; r < DEC_R_COUNT; r++)
		n += ds->reasons[r];
	return n;
}

void report_stats_text(const char *what, const struct dec_stats *ds, const struct flow_stats *fs)
{
	fprintf(stderr,
		"segplan-agent: %s: %" PRIu64 " packets read, %" PRIu64 " decoded, %" PRIu64
		" not decoded\n",
		what, ds->read, ds->decoded, report_not_decoded(ds));
	for (int r = 0; r < DEC_R_COUNT; r++)
		if (ds->reasons[r])
			fprintf(stderr, "  %-24s %" PRIu64 "\n", dec_reason_name(r),
				ds->reasons[r]);
	fprintf(stderr,
		"  flows: %" PRIu64 " created, %" PRIu64 " records (idle %" PRIu64
		", active %" PRIu64 ", end %" PRIu64 ", evicted %" PRIu64 ", flushed %" PRIu64
		")\n",
		fs->created, fs->records, fs->expired_idle, fs->expired_active, fs->expired_closed,
		fs->evicted, fs->flushed);
}

void report_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline("segplan-agent: error: ", fmt, ap);
	va_end(ap);
}

int report_usage_error(const char *usage, const char *fmt, va_list ap)
{
	vline("segplan-agent: ", fmt, ap);
	fputs(usage, stderr);
	return SEG_EXIT_USAGE;
}

void report_help(const char *usage)
{
	fputs(usage, stdout);
}

void report_version(void)
{
	printf("segplan-agent %s\n", SEGPLAN_VERSION);
}

void report_diags(const struct diag_list *dl)
{
	diag_write(dl, stderr);
}

void report_live_stats(struct agent *a)
{
	report_stats_text("live", dec_stats(a->dec), flow_table_stats(a->ft));
	for (int i = 0; i < a->nifs; i++) {
		struct cap_stats t = agent_iface_stats(&a->ifs[i]);
		fprintf(stderr,
			"  %s: %s, %" PRIu64 " received, %" PRIu64 " dropped, %" PRIu64
			" dropped by the interface, reopened %u\n",
			a->ifs[i].name, a->ifs[i].cap ? "capturing" : "not capturing", t.received,
			t.dropped, t.if_dropped, a->ifs[i].reopened);
	}
	struct sum_totals st;
	sum_totals(a->sum, &st);
	fprintf(stderr,
		"  window: %" PRIu64 " connections, %" PRIu64 " counted here, %" PRIu64
		" denied, %" PRIu64 " unassigned; %zu flows active\n",
		st.connections, st.ours, st.denied, st.unassigned, flow_table_count(a->ft));
}

int report_stats_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF)
		return -EIO;
	return 0;
}
