// SPDX-License-Identifier: MIT
/* segplan-agent: flows from packets. Offline reading of capture files now;
 * live capture, classification and IPFIX export build on the same pipeline. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/capture.h"
#include "agent/decode.h"
#include "agent/export.h"
#include "agent/flow.h"
#include "core/atomic.h"
#include "core/diag.h"
#include "core/exitcodes.h"

#ifndef SEGPLAN_VERSION
#define SEGPLAN_VERSION "0.1.0"
#endif

static const char usage_text[] =
    "usage: segplan-agent --read FILE [--flows-out FILE.jsonl] [--max-flows N] [--stats]\n"
    "                     [--vlan-key VID[,VID...]] [--timeout CLASS=SECONDS]...\n"
    "       segplan-agent --help | --version\n"
    "\n"
    "Reads a pcap or pcapng capture and meters its bidirectional flows.\n"
    "\n"
    "  -r, --read FILE        capture file to read (pcap or pcapng)\n"
    "  -o, --flows-out FILE   write ended flows as JSON lines (docs/agent.md)\n"
    "  -m, --max-flows N      flow table size; the least recently active flow is\n"
    "                         evicted when it is full (default 262144)\n"
    "  -s, --stats            statistics as JSON on stdout (default: text on stderr)\n"
    "      --vlan-key LIST    VLAN ids that are part of the flow key (overlapping\n"
    "                         address spaces); other VLANs do not split flows\n"
    "      --timeout C=S      timeout in seconds for C: tcp, udp, icmp, other (idle),\n"
    "                         active, close (grace after FIN both ways or RST)\n"
    "  -h, --help             this help\n"
    "\n"
    "exit codes: 0 ok, 2 usage, 3 unreadable or refused capture, 4 system error\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("segplan-agent: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
	return SEG_EXIT_USAGE;
}

static int fail(int code, const char *what, int err)
{
	fprintf(stderr, "segplan-agent: %s: %s\n", what, strerror(-err));
	return code;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_timeout(const char *arg, struct flow_timeouts *t)
{
	static const char *const names[] = {"tcp", "udp", "icmp", "other", "active", "close"};
	uint64_t *slots[] = {&t->tcp_ns,   &t->udp_ns,	  &t->icmp_ns,
			     &t->other_ns, &t->active_ns, &t->close_ns};
	const char *eq = strchr(arg, '=');
	uint64_t sec;
	if (!eq || !parse_u64(eq + 1, 365ull * 86400, &sec) || sec == 0)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == (size_t)(eq - arg) &&
		    strncmp(arg, names[i], eq - arg) == 0) {
			*slots[i] = sec * 1000000000ull;
			return true;
		}
	return false;
}

static void print_stats_text(const char *path, const struct dec_stats *ds,
			     const struct flow_stats *fs)
{
	uint64_t not_decoded = 0;
	for (int r = 0; r < DEC_R_COUNT; r++)
		not_decoded += ds->reasons[r];
	fprintf(stderr,
		"segplan-agent: %s: %" PRIu64 " packets read, %" PRIu64 " decoded, %" PRIu64
		" not decoded\n",
		path, ds->read, ds->decoded, not_decoded);
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

struct opts {
	const char *read;
	const char *flows_out;
	uint64_t max_flows;
	bool stats_json;
	const char *vlan_key;
	struct flow_timeouts timeouts;
};

enum { OPT_VLAN_KEY = 256, OPT_TIMEOUT, OPT_VERSION };
static const char shortopts[] = ":r:o:m:sh";
static const struct option longopts[] = {
    {"read", required_argument, NULL, 'r'},
    {"flows-out", required_argument, NULL, 'o'},
    {"max-flows", required_argument, NULL, 'm'},
    {"stats", no_argument, NULL, 's'},
    {"vlan-key", required_argument, NULL, OPT_VLAN_KEY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* getopt_long takes unambiguous prefixes of long options; the agent takes
 * exact names only. Returns the first inexact one, or NULL. */
static const char *inexact_option(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] != '-') {
			/* A short option cluster: its last option may take the next argument. */
			const char *arg = strchr(shortopts, a[strlen(a) - 1]);
			if (arg && arg[1] == ':')
				i++;
			continue;
		}
		size_t n = strcspn(a + 2, "=");
		const struct option *o = longopts;
		while (o->name && !(strlen(o->name) == n && strncmp(o->name, a + 2, n) == 0))
			o++;
		if (!o->name)
			return a;
		if (o->has_arg == required_argument && a[2 + n] != '=')
			i++;
	}
	return NULL;
}

/* Returns -1 to go on, or the exit code to stop with. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	const char *inexact = inexact_option(argc, argv);
	if (inexact)
		return usage_error("unknown option '%s'", inexact);
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->read = optarg;
			break;
		case 'o':
			o->flows_out = optarg;
			break;
		case 'm':
			if (!parse_u64(optarg, FLOW_LIMIT_MAX, &o->max_flows) || o->max_flows == 0)
				return usage_error(
				    "--max-flows wants a number from 1 to 1073741824, "
				    "not '%s'",
				    optarg);
			break;
		case 's':
			o->stats_json = true;
			break;
		case OPT_VLAN_KEY:
			o->vlan_key = optarg;
			break;
		case OPT_TIMEOUT:
			if (!parse_timeout(optarg, &o->timeouts))
				return usage_error("--timeout wants CLASS=SECONDS (tcp, udp, icmp, "
						   "other, active, close), not '%s'",
						   optarg);
			break;
		case OPT_VERSION:
			printf("segplan-agent %s\n", SEGPLAN_VERSION);
			return SEG_EXIT_OK;
		case 'h':
			fputs(usage_text, stdout);
			return SEG_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->read)
		return usage_error("%s", "--read FILE is required (live capture comes later)");
	return -1;
}

static int apply_vlan_key(struct flow_table *ft, const char *list)
{
	char *dup = strdup(list);
	if (!dup)
		return -ENOMEM;
	int rc = 0;
	char *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t vid;
		if (!parse_u64(t, 4095, &vid) || flow_table_distinguish_vlan(ft, (unsigned)vid)) {
			rc = -EINVAL;
			break;
		}
	}
	free(dup);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	struct diag_list *dl = diag_list_new();
	struct cap *cap = NULL;
	struct dec *dec = NULL;
	struct flow_table *ft = NULL;
	struct atomic_file *af = NULL;
	struct exp_jsonl out = {0};
	int code = SEG_EXIT_OK;
	if (!dl) {
		code = fail(SEG_EXIT_SYSTEM, "setup", -ENOMEM);
		goto out;
	}
	struct flow_config fc = {
	    .max_flows = (size_t)o.max_flows,
	    .timeouts = o.timeouts,
	    .sink = o.flows_out ? exp_jsonl_sink : NULL,
	    .sink_arg = &out,
	};
	rc = flow_table_new(&fc, &ft);
	dec = dec_new(NULL);
	if (rc || !dec) {
		code = fail(SEG_EXIT_SYSTEM, "setup", rc ? rc : -ENOMEM);
		goto out;
	}
	if (o.vlan_key && (rc = apply_vlan_key(ft, o.vlan_key)) != 0) {
		code = rc == -EINVAL
			   ? usage_error("--vlan-key wants VLAN ids 0-4095, not '%s'", o.vlan_key)
			   : fail(SEG_EXIT_SYSTEM, "setup", rc);
		goto out;
	}
	rc = cap_open_offline(o.read, dl, &cap);
	if (rc) {
		diag_write(dl, stderr);
		code = rc == -EINVAL ? SEG_EXIT_INPUT : fail(SEG_EXIT_SYSTEM, o.read, rc);
		goto out;
	}
	if (o.flows_out) {
		rc = atomic_file_open(o.flows_out, &af);
		if (rc) {
			code = fail(SEG_EXIT_SYSTEM, o.flows_out, rc);
			goto out;
		}
		out.f = atomic_file_stream(af);
	}

	rc = cap_run(cap, dec, ft, dl);
	dec_flush(dec);
	flow_table_flush(ft);
	if (rc) {
		/* The file is refused part-way: report, and write no flows. */
		diag_write(dl, stderr);
		code = SEG_EXIT_INPUT;
	} else if (out.err) {
		code = fail(SEG_EXIT_SYSTEM, o.flows_out, out.err);
	} else if (af) {
		rc = atomic_file_commit(af);
		af = NULL;
		if (rc)
			code = fail(SEG_EXIT_SYSTEM, o.flows_out, rc);
	}

	if (o.stats_json) {
		json_t *j = exp_stats_json(dec_stats(dec), flow_table_stats(ft),
					   flow_table_count(ft), flow_table_mem(ft));
		if (j) {
			json_object_set_new(j, "file", json_string(o.read));
			json_object_set_new(j, "linktype", json_string(cap_linktype_name(cap)));
			json_object_set_new(j, "complete", json_boolean(code == SEG_EXIT_OK));
		}
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0 ||
		    fputc('\n', stdout) == EOF) {
			if (code == SEG_EXIT_OK)
				code = fail(SEG_EXIT_SYSTEM, "stats", -ENOMEM);
		}
		json_decref(j);
	} else {
		print_stats_text(o.read, dec_stats(dec), flow_table_stats(ft));
	}
out:
	atomic_file_abort(af);
	cap_close(cap);
	flow_table_free(ft);
	dec_free(dec);
	diag_list_free(dl);
	return code;
}
