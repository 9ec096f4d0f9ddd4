// SPDX-License-Identifier: MIT
/* segplan-agent: flows from packets, classified against the gateway's
 * policy, summarised per segment pair. Offline reading of capture files,
 * live capture on the gateway's interfaces (docs/agent.md, docs/summary.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent/capture.h"
#include "agent/decode.h"
#include "agent/export.h"
#include "agent/flow.h"
#include "agent/ipfix.h"
#include "agent/netmon.h"
#include "agent/pseudo.h"
#include "agent/summary.h"
#include "core/atomic.h"
#include "core/diag.h"
#include "core/exitcodes.h"
#include "core/version.h"
#include "eval/eval.h"
#include "nftstate/nftstate.h"

#define SEC	       1000000000ull
#define MAX_IFACES     16
#define MAX_EVENTS     256 /* netlink events kept per summary window */
#define MAX_CFG_ARGS   256
#define DEFAULT_ROT_MB 64
#define DEFAULT_ROT_S  3600
#define DEFAULT_KEEP_H 168
#define DEFAULT_IVAL_S 300

static const char usage_text[] =
    "usage: segplan-agent --read FILE [options]\n"
    "       segplan-agent --interface IF [--interface IF]... [options]\n"
    "       segplan-agent --help | --version\n"
    "\n"
    "Meters bidirectional flows from a capture file or live interfaces, classifies\n"
    "each new flow against the gateway's policy table and writes segment summaries.\n"
    "\n"
    "input:\n"
    "  -r, --read FILE        capture file to read (pcap or pcapng)\n"
    "  -i, --interface IF     capture live on IF (repeatable, up to 16)\n"
    "      --buffer-mb N      kernel capture ring per interface, MiB (default 32)\n"
    "      --snaplen N        bytes kept per packet (default 256)\n"
    "      --filter EXPR      BPF filter, applied inside VLAN tags too\n"
    "policy:\n"
    "  -p, --policy FILE      <site>.policy.json of this gateway (segplan policy compile);\n"
    "                         SIGHUP reloads it\n"
    "output:\n"
    "  -o, --flows-out FILE   ended flows as JSON lines (docs/agent.md); live: segments\n"
    "                         FILE-<time>.jsonl rotated by size or age\n"
    "      --rotate-mb N      live: close a flows segment at N MiB (default 64)\n"
    "      --rotate-s S       live: close a flows segment after S seconds (default 3600)\n"
    "      --retain-h H       live: delete closed segments older than H hours (default 168;\n"
    "                         0 keeps them)\n"
    "      --summary FILE     segment summary, JSON, replaced atomically (docs/summary.md)\n"
    "      --interval S       live: seconds between summaries (default 300)\n"
    "      --ipfix HOST:PORT  also export ended flows as IPFIX (RFC 7011, biflows per\n"
    "                         RFC 5103) over UDP to a collector (docs/ipfix.md)\n"
    "      --ipfix-domain N   IPFIX observation domain id (default 0)\n"
    "      --pseudonymise KEYFILE  replace host addresses in every output by keyed\n"
    "                         hashes (HMAC-SHA-256, stable per key; docs/agent.md)\n"
    "  -s, --stats            offline: statistics as JSON on stdout (default: text on stderr)\n"
    "flows:\n"
    "  -m, --max-flows N      flow table size; the least recently active flow is\n"
    "                         evicted when it is full (default 262144)\n"
    "      --vlan-key LIST    VLAN ids that are part of the flow key (overlapping\n"
    "                         address spaces); other VLANs do not split flows\n"
    "      --timeout C=S      timeout in seconds for C: tcp, udp, icmp, other (idle),\n"
    "                         active, close (grace after FIN both ways or RST)\n"
    "running:\n"
    "  -c, --config FILE      options as `name = value` lines (the long option names);\n"
    "                         the command line wins\n"
    "  -u, --user NAME        after opening captures and netlink, run as NAME keeping\n"
    "                         only CAP_NET_RAW and CAP_NET_ADMIN\n"
    "  -h, --help             this help\n"
    "      --version          the version\n"
    "\n"
    "signals: SIGTERM/SIGINT flush every flow, write the final summary and exit 0;\n"
    "SIGHUP reloads the policy (a bad file keeps the old one); SIGUSR1 prints\n"
    "statistics to stderr.\n"
    "\n"
    "exit codes: 0 ok, 2 usage, 3 invalid input (capture, policy, config, interface),\n"
    "4 system error\n";

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

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("segplan-agent: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
			*slots[i] = sec * SEC;
			return true;
		}
	return false;
}

static uint64_t not_decoded(const struct dec_stats *ds)
{
	uint64_t n = 0;
	for (int r = 0; r < DEC_R_COUNT; r++)
		n += ds->reasons[r];
	return n;
}

static void print_stats_text(const char *what, const struct dec_stats *ds,
			     const struct flow_stats *fs)
{
	fprintf(stderr,
		"segplan-agent: %s: %" PRIu64 " packets read, %" PRIu64 " decoded, %" PRIu64
		" not decoded\n",
		what, ds->read, ds->decoded, not_decoded(ds));
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

/* ------------------------------------------------------------------ */
/* Options */

struct opts {
	const char *read;
	const char *ifaces[MAX_IFACES];
	int nifaces;
	uint64_t buffer_mb, snaplen;
	const char *filter;
	const char *policy;
	const char *flows_out;
	uint64_t rotate_mb, rotate_s, retain_h;
	bool rotate_set, retain_set;
	const char *summary;
	uint64_t interval_s;
	const char *ipfix;
	uint64_t ipfix_domain;
	const char *pseudonymise;
	uint64_t max_flows;
	bool stats_json;
	const char *vlan_key;
	struct flow_timeouts timeouts;
	const char *user;
};

enum {
	OPT_VLAN_KEY = 256,
	OPT_TIMEOUT,
	OPT_VERSION,
	OPT_BUFFER_MB,
	OPT_SNAPLEN,
	OPT_FILTER,
	OPT_ROTATE_MB,
	OPT_ROTATE_S,
	OPT_RETAIN_H,
	OPT_SUMMARY,
	OPT_INTERVAL,
	OPT_IPFIX,
	OPT_IPFIX_DOMAIN,
	OPT_PSEUDONYMISE,
};
static const char shortopts[] = ":r:i:p:o:m:c:u:sh";
static const struct option longopts[] = {
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"buffer-mb", required_argument, NULL, OPT_BUFFER_MB},
    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"policy", required_argument, NULL, 'p'},
    {"flows-out", required_argument, NULL, 'o'},
    {"rotate-mb", required_argument, NULL, OPT_ROTATE_MB},
    {"rotate-s", required_argument, NULL, OPT_ROTATE_S},
    {"retain-h", required_argument, NULL, OPT_RETAIN_H},
    {"summary", required_argument, NULL, OPT_SUMMARY},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"ipfix", required_argument, NULL, OPT_IPFIX},
    {"ipfix-domain", required_argument, NULL, OPT_IPFIX_DOMAIN},
    {"pseudonymise", required_argument, NULL, OPT_PSEUDONYMISE},
    {"max-flows", required_argument, NULL, 'm'},
    {"stats", no_argument, NULL, 's'},
    {"vlan-key", required_argument, NULL, OPT_VLAN_KEY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"config", required_argument, NULL, 'c'},
    {"user", required_argument, NULL, 'u'},
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

static int number_opt(const char *name, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (!parse_u64(arg, hi, out) || *out < lo)
		return usage_error("--%s wants a number from %" PRIu64 " to %" PRIu64 ", not '%s'",
				   name, lo, hi, arg);
	return -1;
}

/* Returns -1 to go on, or the exit code to stop with. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	const char *inexact = inexact_option(argc, argv);
	if (inexact)
		return usage_error("unknown option '%s'", inexact);
	int c, rc = -1;
	opterr = 0;
	optind = 1;
	while (rc < 0 && (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->read = optarg;
			break;
		case 'i':
			if (o->nifaces == MAX_IFACES)
				return usage_error("at most %d interfaces", MAX_IFACES);
			for (int k = 0; k < o->nifaces; k++)
				if (strcmp(o->ifaces[k], optarg) == 0)
					return usage_error("interface '%s' given twice", optarg);
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				return usage_error("bad interface name '%s'", optarg);
			o->ifaces[o->nifaces++] = optarg;
			break;
		case OPT_BUFFER_MB:
			rc = number_opt("buffer-mb", optarg, 1, 4096, &o->buffer_mb);
			break;
		case OPT_SNAPLEN:
			rc = number_opt("snaplen", optarg, 96, 262144, &o->snaplen);
			break;
		case OPT_FILTER:
			o->filter = optarg;
			break;
		case OPT_IPFIX:
			o->ipfix = optarg;
			break;
		case OPT_IPFIX_DOMAIN:
			rc = number_opt("ipfix-domain", optarg, 0, UINT32_MAX, &o->ipfix_domain);
			break;
		case OPT_PSEUDONYMISE:
			o->pseudonymise = optarg;
			break;
		case 'p':
			o->policy = optarg;
			break;
		case 'o':
			o->flows_out = optarg;
			break;
		case OPT_ROTATE_MB:
			rc = number_opt("rotate-mb", optarg, 1, 1 << 20, &o->rotate_mb);
			o->rotate_set = true;
			break;
		case OPT_ROTATE_S:
			rc = number_opt("rotate-s", optarg, 1, 366ull * 86400, &o->rotate_s);
			o->rotate_set = true;
			break;
		case OPT_RETAIN_H:
			rc = number_opt("retain-h", optarg, 0, 100ull * 366 * 24, &o->retain_h);
			o->rotate_set = o->retain_set = true;
			break;
		case OPT_SUMMARY:
			o->summary = optarg;
			break;
		case OPT_INTERVAL:
			rc = number_opt("interval", optarg, 1, 86400, &o->interval_s);
			break;
		case 'm':
			rc = number_opt("max-flows", optarg, 1, FLOW_LIMIT_MAX, &o->max_flows);
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
		case 'c':
			return usage_error("%s", "--config cannot be given in a config file");
		case 'u':
			o->user = optarg;
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
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->read == !o->nifaces)
		return usage_error("%s", o->read ? "--read and --interface exclude each other"
						 : "--read FILE or --interface IF is required");
	if (o->read && o->user)
		return usage_error("%s", "--user is for live capture");
	if (o->read && (o->rotate_set || o->interval_s))
		return usage_error("%s", "--rotate-mb, --rotate-s, --retain-h and --interval are "
					 "for live capture");
	return -1;
}

/*
 * The config file: `name = value` per line, names as the long options
 * (without dashes), `#` comments, repeated `interface` lines. Its options
 * come before the command line's, so the command line wins. Returns 0, or
 * -EINVAL with located diagnostics, or -ENOMEM / -errno.
 */
static int read_config(const char *path, struct diag_list *dl, char **args, int *nargs)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = -errno;
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read config: %s", strerror(-e));
		return e;
	}
	const char *names[sizeof(longopts) / sizeof(longopts[0])];
	size_t nnames = 0;
	for (const struct option *o = longopts; o->name; o++)
		names[nnames++] = o->name;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		char *p = line + strspn(line, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		if (!*p || *p == '#')
			continue;
		unsigned col = (unsigned)(p - line) + 1;
		size_t klen = strcspn(p, " \t=");
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)klen, p);
		char *v = p + klen;
		v += strspn(v, " \t");
		if (*v != '=') {
			diag_add(dl, DIAG_ERROR, path, lineno, col, "expected 'name = value'");
			rc = -EINVAL;
			continue;
		}
		v++;
		v += strspn(v, " \t");
		size_t vlen = strlen(v);
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			v[--vlen] = '\0';
		const struct option *o = longopts;
		while (o->name && strcmp(o->name, key) != 0)
			o++;
		if (!o->name || o->val == 'c' || o->val == 'h' || o->val == OPT_VERSION) {
			const char *s = diag_suggest(key, names, nnames);
			diag_add(dl, DIAG_ERROR, path, lineno, col, "unknown option '%s'%s%s%s",
				 key, s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
			rc = -EINVAL;
			continue;
		}
		if (o->has_arg == no_argument) {
			if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
				diag_add(dl, DIAG_ERROR, path, lineno, (unsigned)(v - line) + 1,
					 "'%s' wants true or false, not '%s'", key, v);
				rc = -EINVAL;
				continue;
			}
			if (strcmp(v, "false") == 0)
				continue;
		}
		if (*nargs == MAX_CFG_ARGS) {
			diag_add(dl, DIAG_ERROR, path, lineno, col, "more than %d options",
				 MAX_CFG_ARGS);
			rc = -EINVAL;
			break;
		}
		char *arg = NULL;
		if (o->has_arg == no_argument ? asprintf(&arg, "--%s", key) < 0
					      : asprintf(&arg, "--%s=%s", key, v) < 0) {
			rc = -ENOMEM;
			break;
		}
		args[(*nargs)++] = arg;
	}
	free(line);
	fclose(f);
	return rc;
}

/* Finds --config / -c on the command line; NULL when absent, "" when it
 * lacks its argument. */
static const char *config_path(int argc, char **argv, int *at, int *span)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
			*at = i;
			*span = i + 1 < argc ? 2 : 1;
			return i + 1 < argc ? argv[i + 1] : "";
		}
		if (strncmp(a, "--config=", 9) == 0) {
			*at = i;
			*span = 1;
			return a + 9;
		}
	}
	return NULL;
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

/* ------------------------------------------------------------------ */
/* The running agent */

struct iface {
	const char *name;
	struct cap *cap;   /* NULL while the interface is gone or down */
	uint32_t ifindex;  /* of the open capture, or last seen */
	unsigned reopened; /* captures opened again after the first */
	bool opened_once;
	int last_err;		 /* of the last attempt to open, 0 ok */
	struct cap_stats closed; /* counters of captures closed before */
	struct cap_stats window; /* totals at the window's start */
};

struct agent {
	struct opts o;
	struct diag_list *dl;
	struct dec *dec;
	struct flow_table *ft;
	struct pol_table *pol;
	unsigned reloads, reload_errors;
	uint64_t policy_loaded_ns;
	struct sum *sum;
	struct pseudo *ps;	   /* --pseudonymise, or NULL */
	struct ipfix_exporter *ix; /* --ipfix, or NULL */
	struct exp_jsonl *w;	   /* where flow records go, or NULL */
	struct exp_jsonl offline_w;
	struct atomic_file *af; /* offline flows file */
	struct exp_rotor *rot;	/* live flows segments */
	struct iface ifs[MAX_IFACES];
	int nifs;
	struct nm *nm;
	json_t *events;
	unsigned events_dropped;
	uint64_t win_start_ns;
	uint64_t first_ns, last_ns; /* offline: the capture's time span */
	struct dec_stats dec_base;
	struct flow_stats flow_base;
	const char *capture_error; /* offline: the file was refused part-way */
	bool summarize;		   /* live, or a summary file asked for */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* Would the gateway's policy let flow f through (an ICMP error's parent)? */
static bool agent_parent_passes(void *arg, const struct flow *f)
{
	struct agent *a = arg;
	struct sum_class c;
	sum_classify(a->pol, f, &c);
	return !c.classified || c.v.passes;
}

/* The flow sink: classify once per record, count it into the window,
 * write it. */
static void agent_sink(void *arg, const struct flow *f, enum flow_end why)
{
	struct agent *a = arg;
	struct sum_class c;
	if (a->summarize)
		sum_add(a->sum, a->pol, f, why, &c);
	else
		sum_classify(a->pol, f, &c);
	if (!a->first_ns || f->first_ns < a->first_ns)
		a->first_ns = f->first_ns;
	if (f->last_ns > a->last_ns)
		a->last_ns = f->last_ns;
	if (a->ix)
		ipfix_export(a->ix, f, why);
	if (!a->w || a->w->err)
		return;
	json_t *o = exp_flow_json(f, why);
	if (!o || sum_class_to_json(a->pol, &c, o) != 0) {
		a->w->err = -ENOMEM;
		json_decref(o);
		return;
	}
	exp_jsonl_write(a->w, o);
	json_decref(o);
}

static void zone_of(const struct agent *a, const struct ip_addr *ad, const char **zone, bool *local)
{
	*zone = NULL;
	*local = false;
	if (!a->pol)
		return;
	struct pol_class c;
	pol_classify(a->pol, ad, &c);
	*zone = pol_table_zone_name(a->pol, c.zone);
	*local = c.local;
}

static void add_stats(struct cap_stats *t, const struct cap_stats *s)
{
	t->received += s->received;
	t->dropped += s->dropped;
	t->if_dropped += s->if_dropped;
}

/* Counters of an interface over all its captures. */
static struct cap_stats iface_stats(struct iface *f)
{
	struct cap_stats t = f->closed, cur = {0};
	if (f->cap && cap_stats(f->cap, &cur) == 0)
		add_stats(&t, &cur);
	return t;
}

static void iface_close(struct iface *f)
{
	struct cap_stats cur = {0};
	if (!f->cap)
		return;
	if (cap_stats(f->cap, &cur) == 0)
		add_stats(&f->closed, &cur);
	cap_close(f->cap);
	f->cap = NULL;
}

static void record_event(struct agent *a, const char *what, const char *ifname, int ifindex,
			 const char *addr, const char *zone)
{
	char when[32];
	if (json_array_size(a->events) >= MAX_EVENTS) {
		a->events_dropped++;
		return;
	}
	json_t *e = json_pack("{s:s,s:s,s:s?,s:i}", "time",
			      summary_time(now_ns(), when, sizeof(when)), "event", what,
			      "interface", ifname && *ifname ? ifname : NULL, "ifindex", ifindex);
	if (e && addr) {
		json_object_set_new(e, "address", json_string(addr));
		json_object_set_new(e, "zone", zone ? json_string(zone) : json_null());
	}
	if (e)
		json_array_append_new(a->events, e);
}

/* Opens the capture of an interface. 0, or a negative errno (diagnostics
 * in a->dl). */
static int iface_open(struct agent *a, struct iface *f)
{
	struct cap_live_config cfg = {
	    .ifname = f->name,
	    .buffer_mb = (unsigned)a->o.buffer_mb,
	    .snaplen = (unsigned)a->o.snaplen,
	    .filter = a->o.filter,
	};
	int rc = cap_open_live(&cfg, a->dl, &f->cap);
	if (rc)
		return rc;
	f->ifindex = cap_ifindex(f->cap);
	if (f->opened_once) {
		f->reopened++;
		logmsg("capture on %s reopened (ifindex %" PRIu32 ")", f->name, f->ifindex);
		record_event(a, "capture-reopened", f->name, (int)f->ifindex, NULL, NULL);
	}
	f->opened_once = true;
	return 0;
}

/* Prints the diagnostics gathered so far and starts an empty list (the
 * old one stays when no memory is left for a new one). */
static void flush_diags(struct agent *a)
{
	diag_write(a->dl, stderr);
	struct diag_list *fresh = diag_list_new();
	if (fresh) {
		diag_list_free(a->dl);
		a->dl = fresh;
	}
}

/* Reopens closed captures whose interface is there and up (netlink said
 * so, or the periodic check after a missed event). */
static void reopen_captures(struct agent *a)
{
	for (int i = 0; i < a->nifs; i++) {
		struct iface *f = &a->ifs[i];
		int ifindex;
		bool up;
		if (!a->nm || nm_link(a->nm, f->name, &ifindex, &up) != 0) {
			iface_close(f);
			continue;
		}
		if (f->cap && (uint32_t)ifindex != f->ifindex) {
			/* Deleted and created again between two looks. */
			iface_close(f);
		}
		if (!f->cap && up) {
			int rc = iface_open(a, f);
			/* Tried every second: say it once per new reason. */
			if (rc && rc != -ENODEV && rc != f->last_err) {
				logmsg("cannot capture on %s: %s", f->name, strerror(-rc));
				flush_diags(a);
			}
			f->last_err = rc;
		}
	}
	if (diag_count(a->dl) && !diag_errors(a->dl))
		flush_diags(a);
	else if (diag_count(a->dl)) {
		/* Repeated failures: their diagnostics were shown once. */
		struct diag_list *fresh = diag_list_new();
		if (fresh) {
			diag_list_free(a->dl);
			a->dl = fresh;
		}
	}
}

static void on_netlink(void *arg, const struct nm_event *e)
{
	struct agent *a = arg;
	const char *what = nm_event_names[e->kind];
	if (e->kind == NM_ADDR_NEW || e->kind == NM_ADDR_DEL) {
		char text[INET6_ADDRSTRLEN + 8];
		const char *zone;
		bool local;
		ip_addr_format(&e->addr, text, sizeof(text));
		zone_of(a, &e->addr, &zone, &local);
		logmsg("address %s/%d %s on %s: zone %s%s", text, e->prefix_len,
		       e->kind == NM_ADDR_NEW ? "added" : "removed", e->ifname[0] ? e->ifname : "?",
		       zone ? zone : "unknown (no policy)", local ? ", local segment" : "");
		record_event(a, what, e->ifname, e->ifindex, text, zone);
		return;
	}
	if (e->kind == NM_RESYNC)
		logmsg("netlink notifications were lost: links and addresses read again");
	else
		logmsg("link %s (ifindex %d) %s", e->ifname[0] ? e->ifname : "?", e->ifindex,
		       e->kind == NM_LINK_NEW	? "appeared"
		       : e->kind == NM_LINK_DEL ? "deleted"
		       : e->kind == NM_LINK_UP	? "up"
						: "down");
	record_event(a, what, e->ifname, e->ifindex, NULL, NULL);
	for (int i = 0; i < a->nifs; i++)
		if (a->ifs[i].cap && e->kind == NM_LINK_DEL &&
		    (uint32_t)e->ifindex == a->ifs[i].ifindex)
			iface_close(&a->ifs[i]);
}

static json_t *interfaces_json(struct agent *a)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < a->nifs; i++) {
		struct iface *f = &a->ifs[i];
		struct cap_stats t = iface_stats(f);
		int ifindex = (int)f->ifindex;
		bool up = false;
		if (a->nm)
			nm_link(a->nm, f->name, &ifindex, &up);
		json_array_append_new(
		    arr, json_pack("{s:s,s:i,s:b,s:b,s:I,s:I,s:I,s:i}", "name", f->name, "ifindex",
				   ifindex, "up", up, "capturing", f->cap != NULL, "received",
				   (json_int_t)(t.received - f->window.received), "dropped",
				   (json_int_t)(t.dropped - f->window.dropped), "if_dropped",
				   (json_int_t)(t.if_dropped - f->window.if_dropped), "reopened",
				   f->reopened));
	}
	return arr;
}

static json_t *addresses_json(struct agent *a)
{
	struct nm_addr v[256];
	json_t *arr = json_array();
	size_t n = a->nm ? nm_addrs(a->nm, v, 256) : 0;
	for (size_t i = 0; arr && i < n && i < 256; i++) {
		char text[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE];
		const char *zone;
		bool local;
		ip_addr_format(&v[i].addr, text, sizeof(text));
		zone_of(a, &v[i].addr, &zone, &local);
		const char *name = nm_ifname(a->nm, v[i].ifindex, ifn);
		json_array_append_new(arr, json_pack("{s:s?,s:i,s:s,s:i,s:s?,s:b}", "interface",
						     name, "ifindex", v[i].ifindex, "address", text,
						     "prefix_len", v[i].prefix_len, "zone", zone,
						     "local", local));
	}
	return arr;
}

static json_t *decode_json(const struct dec_stats *now, const struct dec_stats *base)
{
	json_t *reasons = json_object();
	for (int r = 0; reasons && r < DEC_R_COUNT; r++)
		json_object_set_new(reasons, dec_reason_name(r),
				    json_integer((json_int_t)(now->reasons[r] - base->reasons[r])));
	return reasons;
}

static json_t *policy_json(const struct agent *a)
{
	char when[32];
	if (!a->pol)
		return json_null();
	struct pol_table_meta m;
	pol_table_get_meta(a->pol, &m);
	return json_pack("{s:s,s:s?,s:s?,s:s,s:s?,s:s,s:i,s:i}", "file", a->o.policy, "gateway",
			 m.gateway, "hash", m.hash, "mode", pol_mode_names[m.mode], "date", m.date,
			 "loaded_at", summary_time(a->policy_loaded_ns, when, sizeof(when)),
			 "reloads", a->reloads, "reload_errors", a->reload_errors);
}

static json_t *kernel_json(void)
{
	struct nfts *st = NULL;
	int rc = nfts_read("inet", "segplan", &st);
	json_t *j = sum_kernel_json(rc ? NULL : st, rc);
	nfts_free(st);
	return j;
}

/* The summary of the window [win_start, end] (docs/summary.md). */
static int write_summary(struct agent *a, uint64_t end_ns, bool final)
{
	char t0[32], t1[32], host[256] = "";
	bool live = a->o.nifaces > 0;
	uint64_t start = live ? a->win_start_ns : a->first_ns;
	if (!live)
		end_ns = a->last_ns;
	if (end_ns < start)
		end_ns = start;
	gethostname(host, sizeof(host) - 1);
	struct pol_table_meta m = {0};
	if (a->pol)
		pol_table_get_meta(a->pol, &m);
	const struct dec_stats *ds = dec_stats(a->dec);
	const struct flow_stats *fs = flow_table_stats(a->ft);
	json_t *j = json_object();
	int bad = !j;
	if (!bad) {
		bad |= summary_envelope(j, host, m.gateway);
		bad |= json_object_set_new(
		    j, "window",
		    json_pack("{s:s,s:s,s:f,s:b,s:s}", "start", summary_time(start, t0, sizeof(t0)),
			      "end", summary_time(end_ns, t1, sizeof(t1)), "seconds",
			      (double)(end_ns - start) / 1e9, "final", final, "clock",
			      live ? "wall" : "capture"));
		bad |= json_object_set_new(j, "policy", policy_json(a));
		json_t *cap = json_pack(
		    "{s:s,s:s?,s:I,s:I,s:I,s:I,s:o,s:I}", "mode", live ? "live" : "offline", "file",
		    a->o.read, "packets_read", (json_int_t)(ds->read - a->dec_base.read),
		    "packets_decoded", (json_int_t)(ds->decoded - a->dec_base.decoded),
		    "packets_not_decoded",
		    (json_int_t)(not_decoded(ds) - not_decoded(&a->dec_base)), "packets_held",
		    (json_int_t)ds->held, "decode_errors", decode_json(ds, &a->dec_base),
		    "fragment_cache_evictions",
		    (json_int_t)(ds->frag_evicted - a->dec_base.frag_evicted));
		if (cap && live)
			json_object_set_new(cap, "interfaces", interfaces_json(a));
		if (cap && a->capture_error)
			json_object_set_new(cap, "error", json_string(a->capture_error));
		bad |= json_object_set_new(j, "capture", cap);
		bad |= json_object_set_new(
		    j, "flow_table",
		    json_pack("{s:I,s:I,s:I,s:I,s:I}", "created",
			      (json_int_t)(fs->created - a->flow_base.created), "evicted",
			      (json_int_t)(fs->evicted - a->flow_base.evicted), "active",
			      (json_int_t)flow_table_count(a->ft), "peak", (json_int_t)fs->peak,
			      "table_bytes", (json_int_t)flow_table_mem(a->ft)));
		bad |= sum_to_json(a->sum, a->pol, j);
		if (live) {
			bad |= json_object_set_new(
			    j, "gateway", json_pack("{s:o}", "addresses", addresses_json(a)));
			bad |= json_object_set_new(j, "events", json_copy(a->events));
			bad |= json_object_set_new(j, "events_dropped",
						   json_integer(a->events_dropped));
			bad |= json_object_set_new(j, "kernel", kernel_json());
		} else {
			bad |= json_object_set_new(j, "kernel", json_null());
		}
	}
	int rc = bad ? -ENOMEM : summary_write(a->o.summary, j);
	json_decref(j);
	return rc;
}

/* Starts the next window. */
static void next_window(struct agent *a, uint64_t start_ns)
{
	a->win_start_ns = start_ns;
	a->dec_base = *dec_stats(a->dec);
	a->flow_base = *flow_table_stats(a->ft);
	for (int i = 0; i < a->nifs; i++)
		a->ifs[i].window = iface_stats(&a->ifs[i]);
	json_array_clear(a->events);
	a->events_dropped = 0;
	sum_reset(a->sum);
}

static void summary_tick(struct agent *a, uint64_t now, bool final)
{
	if (!a->o.summary) {
		next_window(a, now);
		return;
	}
	int rc = write_summary(a, now, final);
	if (rc)
		logmsg("%s: cannot write summary: %s", a->o.summary, strerror(-rc));
	next_window(a, now);
}

static void reload_policy(struct agent *a)
{
	struct pol_table *t = NULL;
	if (!a->o.policy) {
		logmsg("SIGHUP: no --policy to reload");
		return;
	}
	int rc = pol_table_load(a->o.policy, a->dl, &t);
	if (rc) {
		a->reload_errors++;
		logmsg("%s: reload failed, the previous policy stays", a->o.policy);
		flush_diags(a);
		record_event(a, "policy-reload-failed", NULL, 0, NULL, NULL);
		return;
	}
	pol_table_free(a->pol);
	a->pol = t;
	sum_policy_changed(a->sum);
	a->reloads++;
	a->policy_loaded_ns = now_ns();
	struct pol_table_meta m;
	pol_table_get_meta(t, &m);
	logmsg("%s: policy reloaded (%s, %s)", a->o.policy, m.hash ? m.hash : "no hash",
	       pol_mode_names[m.mode]);
	record_event(a, "policy-reloaded", NULL, 0, NULL, NULL);
}

static void print_live_stats(struct agent *a)
{
	print_stats_text("live", dec_stats(a->dec), flow_table_stats(a->ft));
	for (int i = 0; i < a->nifs; i++) {
		struct cap_stats t = iface_stats(&a->ifs[i]);
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

/* Runs as user, keeping only CAP_NET_RAW (reopening captures) and
 * CAP_NET_ADMIN (reading the nftables counters) in the permitted and
 * effective sets: capabilities(7), "Effect of user ID changes". */
static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	const uint64_t keep = (1ull << CAP_NET_RAW) | (1ull << CAP_NET_ADMIN);
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0)
		return -errno;
	/* The bounding set limits what any later execve could regain. */
	for (int cap = 0; cap <= 63; cap++)
		if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, (long)cap, 0L, 0L, 0L) != 0 &&
		    errno != EINVAL)
			return -errno;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return -errno;
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)keep;
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0)
		return -errno;
	/* Root must be gone for good. */
	if (pw->pw_uid != 0 && setuid(0) == 0)
		return -EPERM;
	return 0;
}

static int setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

static int run_live(struct agent *a)
{
	int code = SEG_EXIT_OK, rc;
	int sfd = setup_signals();
	if (sfd < 0)
		return fail(SEG_EXIT_SYSTEM, "signalfd", sfd);
	rc = nm_new(on_netlink, a, &a->nm);
	if (rc) {
		close(sfd);
		return fail(SEG_EXIT_SYSTEM, "netlink", rc);
	}
	for (int i = 0; i < a->nifs; i++) {
		struct iface *f = &a->ifs[i];
		int ifindex;
		bool up;
		if (nm_link(a->nm, f->name, &ifindex, &up) != 0) {
			/* A typo, not an interface that comes later. */
			fprintf(stderr, "segplan-agent: error: no interface '%s'\n", f->name);
			code = SEG_EXIT_INPUT;
			goto out;
		}
		rc = up ? iface_open(a, f) : 0;
		if (!up)
			logmsg("%s is down: capturing once it comes up", f->name);
		if (rc == -ENODEV) {
			logmsg("%s cannot be captured yet: waiting for it", f->name);
		} else if (rc) {
			diag_write(a->dl, stderr);
			code = rc == -EINVAL  ? SEG_EXIT_USAGE
			       : rc == -EPERM ? fail(SEG_EXIT_SYSTEM, f->name, rc)
					      : SEG_EXIT_SYSTEM;
			goto out;
		}
	}
	flush_diags(a);
	rc = a->o.user ? drop_privileges(a->o.user) : 0;
	if (rc == -ENOENT) {
		fprintf(stderr, "segplan-agent: error: no user '%s'\n", a->o.user);
		code = SEG_EXIT_INPUT;
		goto out;
	} else if (rc) {
		code = fail(SEG_EXIT_SYSTEM, "dropping privileges", rc);
		goto out;
	}
	uint64_t now = now_ns();
	uint64_t interval = (a->o.interval_s ? a->o.interval_s : DEFAULT_IVAL_S) * SEC;
	uint64_t next_summary = now + interval, next_tick = now + SEC;
	next_window(a, now);
	logmsg("capturing on %d interface%s%s%s", a->nifs, a->nifs == 1 ? "" : "s",
	       a->pol ? ", policy " : "", a->pol ? a->o.policy : "");
	bool stop = false;
	while (!stop) {
		struct pollfd pfd[MAX_IFACES + 2];
		struct iface *owner[MAX_IFACES + 2];
		int n = 0;
		pfd[n] = (struct pollfd){.fd = sfd, .events = POLLIN};
		owner[n++] = NULL;
		pfd[n] = (struct pollfd){.fd = nm_fd(a->nm), .events = POLLIN};
		owner[n++] = NULL;
		for (int i = 0; i < a->nifs; i++)
			if (a->ifs[i].cap && cap_fd(a->ifs[i].cap) >= 0) {
				pfd[n] =
				    (struct pollfd){.fd = cap_fd(a->ifs[i].cap), .events = POLLIN};
				owner[n++] = &a->ifs[i];
			}
		now = now_ns();
		uint64_t until = next_tick < next_summary ? next_tick : next_summary;
		int wait_ms = until > now ? (int)((until - now + 999999) / 1000000) : 0;
		if (poll(pfd, (nfds_t)n, wait_ms) < 0 && errno != EINTR) {
			code = fail(SEG_EXIT_SYSTEM, "poll", -errno);
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					stop = true;
				else if (si.ssi_signo == SIGHUP)
					reload_policy(a);
				else if (si.ssi_signo == SIGUSR1)
					print_live_stats(a);
			}
		}
		if (pfd[1].revents & POLLIN) {
			rc = nm_process(a->nm);
			if (rc)
				logmsg("netlink: %s", strerror(-rc));
			reopen_captures(a);
		}
		for (int k = 2; k < n; k++) {
			if (!(pfd[k].revents & (POLLIN | POLLERR | POLLHUP)) || !owner[k]->cap)
				continue;
			rc = cap_dispatch(owner[k]->cap, a->dec, a->ft, 0, a->dl);
			if (rc < 0) {
				flush_diags(a);
				iface_close(owner[k]);
				logmsg("capture on %s closed: reopened when the interface is back",
				       owner[k]->name);
				record_event(a, "capture-closed", owner[k]->name,
					     (int)owner[k]->ifindex, NULL, NULL);
			}
		}
		now = now_ns();
		if (now >= next_tick) {
			flow_table_expire(a->ft, now);
			if (a->ix)
				ipfix_poll(a->ix);
			if (a->rot && (rc = exp_rotor_tick(a->rot, now)) != 0)
				logmsg("%s: %s", a->o.flows_out, strerror(-rc));
			reopen_captures(a);
			next_tick = now + SEC;
		}
		if (now >= next_summary) {
			summary_tick(a, now, false);
			next_summary += interval;
			if (next_summary <= now)
				next_summary = now + interval;
		}
	}
	/* Nothing lost: what the rings still hold, then every open flow. */
	for (int i = 0; i < a->nifs; i++)
		if (a->ifs[i].cap)
			cap_dispatch(a->ifs[i].cap, a->dec, a->ft, 0, a->dl);
	dec_flush(a->dec);
	flow_table_flush(a->ft);
	if (a->ix)
		ipfix_flush(a->ix);
	now = now_ns();
	summary_tick(a, now, true);
	logmsg("stopped: %" PRIu64 " packets, %" PRIu64 " flow records", dec_stats(a->dec)->read,
	       flow_table_stats(a->ft)->records);
out:
	close(sfd);
	return code;
}

static int run_offline(struct agent *a, struct cap *cap)
{
	int code = SEG_EXIT_OK;
	int rc = cap_run(cap, a->dec, a->ft, a->dl);
	dec_flush(a->dec);
	flow_table_flush(a->ft);
	if (a->ix)
		ipfix_flush(a->ix);
	if (rc) {
		/* The file is refused part-way: report, and write no flows. */
		diag_write(a->dl, stderr);
		a->capture_error = "the capture was refused part-way";
		code = SEG_EXIT_INPUT;
	} else if (a->w && a->w->err) {
		code = fail(SEG_EXIT_SYSTEM, a->o.flows_out, a->w->err);
	} else if (a->af) {
		rc = atomic_file_commit(a->af);
		a->af = NULL;
		if (rc)
			code = fail(SEG_EXIT_SYSTEM, a->o.flows_out, rc);
	}
	if (a->o.summary && (rc = write_summary(a, 0, true)) != 0 && code == SEG_EXIT_OK)
		code = fail(SEG_EXIT_SYSTEM, a->o.summary, rc);

	if (a->o.stats_json) {
		json_t *j = exp_stats_json(dec_stats(a->dec), flow_table_stats(a->ft),
					   flow_table_count(a->ft), flow_table_mem(a->ft));
		if (j) {
			json_object_set_new(j, "file", json_string(a->o.read));
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
		print_stats_text(a->o.read, dec_stats(a->dec), flow_table_stats(a->ft));
	}
	return code;
}

/* Parses the config file (when given) and the command line into a->o.
 * Returns -1 to go on or an exit code; *argv_out holds the arguments that
 * a->o points into. */
static int load_options(int argc, char **argv, struct agent *a, char ***argv_out, int *nalloc)
{
	int at = 0, span = 0;
	const char *cfg = config_path(argc, argv, &at, &span);
	char **args = calloc((size_t)argc + MAX_CFG_ARGS + 1, sizeof(char *));
	if (!args)
		return fail(SEG_EXIT_SYSTEM, "setup", -ENOMEM);
	*argv_out = args;
	int n = 1;
	args[0] = argv[0];
	if (cfg) {
		if (!*cfg)
			return usage_error("option '%s' needs an argument", argv[at]);
		int rc = read_config(cfg, a->dl, args + 1, nalloc);
		n += *nalloc;
		if (rc) {
			diag_write(a->dl, stderr);
			return rc == -EINVAL || rc == -ENOENT ? SEG_EXIT_INPUT : SEG_EXIT_SYSTEM;
		}
	}
	for (int i = 1; i < argc; i++)
		if (!cfg || i < at || i >= at + span)
			args[n++] = argv[i];
	return parse_args(n, args, &a->o);
}

int main(int argc, char **argv)
{
	struct agent a = {0};
	char **args = NULL;
	int nalloc = 0;
	struct cap *cap = NULL;
	int code = SEG_EXIT_OK, rc;
	a.dl = diag_list_new();
	a.events = json_array();
	if (!a.dl || !a.events) {
		code = fail(SEG_EXIT_SYSTEM, "setup", -ENOMEM);
		goto out;
	}
	rc = load_options(argc, argv, &a, &args, &nalloc);
	if (rc >= 0) {
		code = rc;
		goto out;
	}
	if (a.o.pseudonymise) {
		rc = pseudo_open(a.o.pseudonymise, a.dl, &a.ps);
		if (rc) {
			diag_write(a.dl, stderr);
			code = rc == -EINVAL ? SEG_EXIT_INPUT : fail(SEG_EXIT_SYSTEM, "setup", rc);
			goto out;
		}
		/* From here on no output holds a raw host address. */
		exp_set_addr_hook(pseudo_addr_hook, a.ps);
	}
	if (a.o.ipfix) {
		struct ipfix_config ic = {.pseudo = a.ps};
		a.ix = ipfix_exporter_new(a.o.ipfix, (uint32_t)a.o.ipfix_domain, &ic, &rc);
		if (!a.ix) {
			code = rc == -EINVAL
				   ? usage_error("--ipfix wants HOST:PORT or [IPV6]:PORT, "
						 "not '%s'",
						 a.o.ipfix)
			       : rc == -ENOENT
				   ? (fprintf(stderr, "segplan-agent: %s: cannot resolve\n",
					      a.o.ipfix),
				      SEG_EXIT_INPUT)
				   : fail(SEG_EXIT_SYSTEM, a.o.ipfix, rc);
			goto out;
		}
	}
	/* Reading a file for its flows only costs nothing per record. */
	a.summarize = a.o.nifaces > 0 || a.o.summary;
	struct flow_config fc = {
	    .max_flows = (size_t)a.o.max_flows,
	    .timeouts = a.o.timeouts,
	    .sink = a.summarize || a.o.flows_out || a.ix ? agent_sink : NULL,
	    .sink_arg = &a,
	    .parent_passes = agent_parent_passes,
	    .parent_arg = &a,
	};
	rc = flow_table_new(&fc, &a.ft);
	a.dec = dec_new(NULL);
	if (rc || !a.dec || sum_new(&a.sum)) {
		code = fail(SEG_EXIT_SYSTEM, "setup", rc ? rc : -ENOMEM);
		goto out;
	}
	if (a.o.vlan_key && (rc = apply_vlan_key(a.ft, a.o.vlan_key)) != 0) {
		code = rc == -EINVAL
			   ? usage_error("--vlan-key wants VLAN ids 0-4095, not '%s'", a.o.vlan_key)
			   : fail(SEG_EXIT_SYSTEM, "setup", rc);
		goto out;
	}
	if (a.o.policy) {
		rc = pol_table_load(a.o.policy, a.dl, &a.pol);
		if (rc) {
			diag_write(a.dl, stderr);
			code =
			    rc == -ENOMEM ? fail(SEG_EXIT_SYSTEM, a.o.policy, rc) : SEG_EXIT_INPUT;
			goto out;
		}
		a.policy_loaded_ns = now_ns();
	}
	if (a.o.filter && cap_filter_check(a.o.filter, a.dl) != 0) {
		diag_write(a.dl, stderr);
		code = SEG_EXIT_USAGE;
		goto out;
	}
	if (a.o.read) {
		rc = cap_open_offline(a.o.read, a.dl, &cap);
		if (rc) {
			diag_write(a.dl, stderr);
			code = rc == -EINVAL ? SEG_EXIT_INPUT : fail(SEG_EXIT_SYSTEM, a.o.read, rc);
			goto out;
		}
		if (a.o.flows_out) {
			rc = atomic_file_open(a.o.flows_out, &a.af);
			if (rc) {
				code = fail(SEG_EXIT_SYSTEM, a.o.flows_out, rc);
				goto out;
			}
			a.offline_w.f = atomic_file_stream(a.af);
			a.w = &a.offline_w;
		}
		code = run_offline(&a, cap);
		goto out;
	}
	for (int i = 0; i < a.o.nifaces; i++)
		a.ifs[a.nifs++].name = a.o.ifaces[i];
	if (a.o.flows_out) {
		struct exp_rotor_config rc_cfg = {
		    .path = a.o.flows_out,
		    .max_bytes = (a.o.rotate_mb ? a.o.rotate_mb : DEFAULT_ROT_MB) << 20,
		    .max_age_ns = (a.o.rotate_s ? a.o.rotate_s : DEFAULT_ROT_S) * SEC,
		    .retain_ns = (a.o.retain_set ? a.o.retain_h : DEFAULT_KEEP_H) * 3600 * SEC,
		};
		rc = exp_rotor_open(&rc_cfg, now_ns(), &a.rot);
		if (rc) {
			code = fail(SEG_EXIT_SYSTEM, a.o.flows_out, rc);
			goto out;
		}
		a.w = exp_rotor_writer(a.rot);
	}
	code = run_live(&a);
	rc = exp_rotor_close(a.rot);
	a.rot = NULL;
	if (rc && code == SEG_EXIT_OK)
		code = fail(SEG_EXIT_SYSTEM, a.o.flows_out, rc);
out:
	for (int i = 0; i < a.nifs; i++)
		iface_close(&a.ifs[i]);
	exp_rotor_close(a.rot);
	nm_free(a.nm);
	atomic_file_abort(a.af);
	cap_close(cap);
	flow_table_free(a.ft);
	dec_free(a.dec);
	sum_free(a.sum);
	ipfix_exporter_free(a.ix);
	exp_set_addr_hook(NULL, NULL);
	pseudo_free(a.ps);
	pol_table_free(a.pol);
	json_decref(a.events);
	diag_list_free(a.dl);
	for (int i = 0; args && i < nalloc; i++)
		free(args[1 + i]);
	free(args);
	return code;
}
