// SPDX-License-Identifier: MIT
/* The agent's options: getopt_long over the command line, with the config
 * file's options put in front of it (the command line wins). Exact long
 * option names only. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/options.h"
#include "agent/report.h"
#include "core/exitcodes.h"

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
    "      --spool DIR        also keep every window's summary as a file of its own in\n"
    "                         DIR, chained by SHA-256, for shipping (docs/summary.md)\n"
    "      --spool-max-mb N   spool size cap, MiB: then old 5-minute windows are merged\n"
    "                         into hourly ones, then the oldest dropped (default 512)\n"
    "      --spool-max-days N drop spool files older than N days (default 14)\n"
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

int opt_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int code = report_usage_error(usage_text, fmt, ap);
	va_end(ap);
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
			*slots[i] = sec * SEC;
			return true;
		}
	return false;
}

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
	OPT_SPOOL,
	OPT_SPOOL_MAX_MB,
	OPT_SPOOL_MAX_DAYS,
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
    {"spool", required_argument, NULL, OPT_SPOOL},
    {"spool-max-mb", required_argument, NULL, OPT_SPOOL_MAX_MB},
    {"spool-max-days", required_argument, NULL, OPT_SPOOL_MAX_DAYS},
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
		return opt_usage_error("--%s wants a number from %" PRIu64 " to %" PRIu64
				       ", not '%s'",
				       name, lo, hi, arg);
	return -1;
}

/* Returns -1 to go on, or the exit code to stop with. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	const char *inexact = inexact_option(argc, argv);
	if (inexact)
		return opt_usage_error("unknown option '%s'", inexact);
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
				return opt_usage_error("at most %d interfaces", MAX_IFACES);
			for (int k = 0; k < o->nifaces; k++)
				if (strcmp(o->ifaces[k], optarg) == 0)
					return opt_usage_error("interface '%s' given twice",
							       optarg);
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				return opt_usage_error("bad interface name '%s'", optarg);
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
		case OPT_SPOOL:
			if (!*optarg)
				return opt_usage_error("%s", "--spool wants a directory");
			o->spool = optarg;
			break;
		case OPT_SPOOL_MAX_MB:
			rc = number_opt("spool-max-mb", optarg, 1, 1 << 24, &o->spool_max_mb);
			break;
		case OPT_SPOOL_MAX_DAYS:
			rc = number_opt("spool-max-days", optarg, 1, 3660, &o->spool_max_days);
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
				return opt_usage_error(
				    "--timeout wants CLASS=SECONDS (tcp, udp, icmp, "
				    "other, active, close), not '%s'",
				    optarg);
			break;
		case 'c':
			return opt_usage_error("%s", "--config cannot be given in a config file");
		case 'u':
			o->user = optarg;
			break;
		case OPT_VERSION:
			report_version();
			return SEG_EXIT_OK;
		case 'h':
			report_help(usage_text);
			return SEG_EXIT_OK;
		case ':':
			return opt_usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			return opt_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return opt_usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->read == !o->nifaces)
		return opt_usage_error("%s", o->read ? "--read and --interface exclude each other"
						     : "--read FILE or --interface IF is required");
	if (!o->spool && (o->spool_max_mb || o->spool_max_days))
		return opt_usage_error("%s", "--spool-max-mb and --spool-max-days go with --spool");
	if (o->read && o->user)
		return opt_usage_error("%s", "--user is for live capture");
	if (o->read && (o->rotate_set || o->interval_s))
		return opt_usage_error("%s",
				       "--rotate-mb, --rotate-s, --retain-h and --interval are "
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

int opt_apply_vlan_key(struct flow_table *ft, const char *list)
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

int opt_load(int argc, char **argv, struct diag_list *dl, struct opts *o, char ***argv_out,
	     int *nalloc)
{
	int at = 0, span = 0;
	const char *cfg = config_path(argc, argv, &at, &span);
	char **args = calloc((size_t)argc + MAX_CFG_ARGS + 1, sizeof(char *));
	if (!args)
		return report_fail(SEG_EXIT_SYSTEM, "setup", -ENOMEM);
	*argv_out = args;
	int n = 1;
	args[0] = argv[0];
	if (cfg) {
		if (!*cfg)
			return opt_usage_error("option '%s' needs an argument", argv[at]);
		int rc = read_config(cfg, dl, args + 1, nalloc);
		n += *nalloc;
		if (rc) {
			report_diags(dl);
			return rc == -EINVAL || rc == -ENOENT ? SEG_EXIT_INPUT : SEG_EXIT_SYSTEM;
		}
	}
	for (int i = 1; i < argc; i++)
		if (!cfg || i < at || i >= at + span)
			args[n++] = argv[i];
	return parse_args(n, args, o);
}

void opt_free_args(char **args, int nalloc)
{
	for (int i = 0; args && i < nalloc; i++)
		free(args[1 + i]);
	free(args);
}
