// SPDX-License-Identifier: MIT
/* segplan report: one self-contained HTML report (docs/report.md). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/exitcodes.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "report/report.h"
#include "report/reportdata.h"

#define MAX_TOP 1000L

static const char usage[] =
    "usage: segplan report INVENTORY [SUMMARY...] -o FILE [--title TEXT] [--top N]\n"
    "                      [--threshold PERCENT] [--date YYYY-MM-DD]\n"
    "\n"
    "Writes one self-contained HTML file (no external resources; it opens offline):\n"
    "the map of the sites by broadband and by rollout year with the single points of\n"
    "failure, the rollout timeline against the budget, the VPN headroom, the policy\n"
    "as a zone-by-zone matrix and the most loaded links. The models present in\n"
    "INVENTORY (rollout.yaml, vpn.yaml, policy.yaml) are used; agent SUMMARY files\n"
    "add the audit's denied-but-observed connections to the matrix.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE    the HTML file to write (atomically)\n"
    "  --title TEXT         the report's heading (default \"Network report\")\n"
    "  --top N              rows in the lists of weak spots and loaded links (default 10)\n"
    "  --threshold PERCENT  link utilisation that counts as high (default 80)\n"
    "  --date D             judge policy rule expiry on day D, as the compile did\n"
    "                       (default: today, UTC; the audit compares policy hashes)\n"
    "  -h, --help           this help\n"
    "\n"
    "exit codes: 0 written, 1 no rollout plan (pinned sites over budget), 2 usage,\n"
    "3 invalid input (a malformed summary too: nothing is written), 4 system error\n";

static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"title", required_argument, NULL, 't'},
    {"top", required_argument, NULL, 'n'},
    {"threshold", required_argument, NULL, 'T'},
    {"date", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct args {
	const char *dir, *output, *title, *date;
	char **summaries;
	int nsummaries;
	long top;
	double threshold;
};

/* Returns 0, -1 for --help, or an exit code. */
static int parse_args(int argc, char **argv, struct args *a)
{
	const char *bad = out_inexact_option(argc, argv, longopts);
	if (bad)
		return out_usage(usage, "report: unknown option '%s'", bad);
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		char *end;
		switch (ch) {
		case 'h':
			return -1;
		case 'o':
			a->output = optarg;
			break;
		case 't':
			a->title = optarg;
			break;
		case 'd': {
			long days;
			if (!policy_parse_date(optarg, &days))
				return out_usage(usage, "report: --date needs YYYY-MM-DD, not '%s'",
						 optarg);
			a->date = optarg;
			break;
		}
		case 'n':
			errno = 0;
			a->top = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || a->top < 1 || a->top > MAX_TOP)
				return out_usage(usage,
						 "report: --top needs an integer 1-%ld, not '%s'",
						 MAX_TOP, optarg);
			break;
		case 'T':
			errno = 0;
			a->threshold = strtod(optarg, &end) / 100.0;
			if (errno || end == optarg || *end || !isfinite(a->threshold) ||
			    a->threshold <= 0)
				return out_usage(usage,
						 "report: --threshold takes a percentage > 0");
			break;
		case ':':
			return out_usage(usage, "report: option '%s' needs a value",
					 argv[optind - 1]);
		default:
			return out_usage(usage, "report: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return out_usage(usage, "report: missing INVENTORY");
	if (!a->output)
		return out_usage(usage, "report: missing -o FILE");
	a->dir = argv[optind];
	a->summaries = argv + optind + 1;
	a->nsummaries = argc - optind - 1;
	return 0;
}

/* Today (UTC), or SOURCE_DATE_EPOCH's day for reproducible output. */
static void today(char *buf, size_t size)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = time(NULL);
	if (sde && *sde) {
		char *end;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (!errno && !*end && v >= 0)
			t = (time_t)v;
	}
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d", &tm))
		snprintf(buf, size, "unknown date");
}

int cmd_report(int argc, char **argv)
{
	struct args a = {.threshold = 0.8};
	int code = parse_args(argc, argv, &a);
	if (code < 0)
		return out_help(usage);
	if (code)
		return code;
	struct diag_list *dl = diag_list_new();
	struct report_data *d = NULL;
	char date[32];
	if (!dl)
		return out_fail(SEG_EXIT_SYSTEM, "report: out of memory");
	struct report_data_opts o = {.threshold = a.threshold,
				     .date = a.date,
				     .summaries = (const char *const *)a.summaries,
				     .nsummaries = (size_t)a.nsummaries};
	int r = report_data_load(a.dir, &o, dl, &d);
	out_diags(dl);
	if (out_input_code(dl, r) == SEG_EXIT_INPUT) {
		code = SEG_EXIT_INPUT;
		goto out;
	}
	if (r == -ENOSPC) {
		code = out_fail(SEG_EXIT_FINDINGS,
				"report: the pinned sites cannot be connected within their years' "
				"budgets (see segplan rollout)");
		goto out;
	}
	if (r < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "report: %s: %s", a.dir, strerror(-r));
		goto out;
	}
	today(date, sizeof(date));
	struct report_input in = {
	    .title = a.title, .source = a.dir, .generated = date, .top = (size_t)a.top};
	report_data_input(d, &in);
	if ((r = report_write_file(&in, a.output)) < 0)
		code = out_fail(SEG_EXIT_SYSTEM, "report: cannot write %s: %s", a.output,
				strerror(-r));
out:
	report_data_free(d);
	diag_list_free(dl);
	return code;
}
