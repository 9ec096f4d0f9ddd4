// SPDX-License-Identifier: MIT
/* segplan policy apply|confirm|status: see docs/deploy.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/diag.h"
#include "core/exitcodes.h"
#include "core/timefmt.h"
#include "deploy/apply.h"
#include "nftstate/nftstate.h"
#include "planner/out.h"
#include "planner/policy_deploy.h"

#define MAX_CONFIRM_SECONDS 86400
/* Elements listed per set in the text output; --json has all. */
#define TEXT_ELEMENT_DRIFT 20

static const char apply_usage[] =
    "usage: segplan policy apply FILE.nft [--netns NAME] [--check] [--confirm SECONDS]\n"
    "\n"
    "Loads a compiled ruleset (table inet segplan) with libnftables: a dry run in\n"
    "the kernel first, then one transaction. A ruleset with errors changes\n"
    "nothing; its errors are reported as FILE:LINE:COL: error: ...\n"
    "\n"
    "  --netns NAME        work in the network namespace /run/netns/NAME\n"
    "  --check             only check (dry run), apply nothing\n"
    "  --confirm SECONDS   put the previous table back after SECONDS (1-86400)\n"
    "                      unless `segplan policy confirm` runs before\n"
    "  -h, --help          this help\n"
    "\n"
    "exit: 0 applied or checked, 1 refused (a confirm window is open),\n"
    "      2 usage, 3 invalid ruleset, 4 system error\n";

static const char confirm_usage[] =
    "usage: segplan policy confirm [--netns NAME]\n"
    "\n"
    "Keeps the ruleset of a pending `segplan policy apply --confirm`: stops its\n"
    "rollback.\n"
    "\n"
    "  --netns NAME        the network namespace /run/netns/NAME\n"
    "  -h, --help          this help\n"
    "\n"
    "exit: 0 confirmed, 1 no window open (none, or it expired and the previous\n"
    "      table came back), 2 usage, 4 system error\n";

static const char status_usage[] =
    "usage: segplan policy status [--netns NAME] [--against FILE.nft] [--json]\n"
    "\n"
    "Reads the live table inet segplan over netlink: packets and bytes per policy\n"
    "rule (comment \"rule:<id>\"), the rules without hits, since when the counters\n"
    "run (the last apply), and an open confirm window.\n"
    "\n"
    "  --netns NAME        the network namespace /run/netns/NAME\n"
    "  --against FILE.nft  also compare with FILE.nft, loaded into a scratch\n"
    "                      namespace and read back the same way: rules missing,\n"
    "                      extra, changed or reordered, set elements that differ\n"
    "  --json              print the status as JSON\n"
    "  -h, --help          this help\n"
    "\n"
    "exit: 0 table present (and in sync with FILE), 1 drift or no table,\n"
    "      2 usage, 3 invalid FILE, 4 system error\n";

static void iso_time(time_t t, char *buf, size_t size)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}

/* Enters --netns (when given) and finds the state directory. Returns 0 or an
 * exit code, having printed why. */
static int enter(const char *usage, const char *netns, char *label, size_t lsize, char *dir,
		 size_t dsize)
{
	int r = apply_netns_label(netns, label, lsize);
	if (r == -EINVAL)
		return out_usage(usage, "policy: invalid netns name '%s' ('default' is reserved)",
				 netns);
	if (r < 0)
		return out_fail(SEG_EXIT_SYSTEM, "netns: %s", strerror(-r));
	if (netns && (r = apply_enter_netns(netns)) < 0)
		return out_fail(r == -ENOENT ? SEG_EXIT_INPUT : SEG_EXIT_SYSTEM, "netns '%s': %s",
				netns, strerror(-r));
	if (!netns && (r = apply_netns_label(NULL, label, lsize)) < 0)
		return out_fail(SEG_EXIT_SYSTEM, "netns: %s", strerror(-r));
	if ((r = apply_state_dir(label, dir, dsize)) < 0)
		return out_fail(SEG_EXIT_SYSTEM, "state directory: %s", strerror(-r));
	return 0;
}

static const char *netns_hint(const char *netns, char *buf, size_t size)
{
	if (netns)
		snprintf(buf, size, " --netns %s", netns);
	else
		buf[0] = '\0';
	return buf;
}

/* Exit code for a failed apply/check, diagnostics printed. */
static int apply_failed(int r, const char *path, struct diag_list *dl)
{
	out_diags(dl);
	if (r == -EINVAL)
		return SEG_EXIT_INPUT;
	if (r == -EPERM)
		return out_fail(SEG_EXIT_SYSTEM, "%s: not permitted (needs CAP_NET_ADMIN)", path);
	return out_fail(SEG_EXIT_SYSTEM, "%s: %s", path, strerror(-r));
}

int policy_cmd_apply(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"netns", required_argument, NULL, 'n'},
	    {"check", no_argument, NULL, 'c'},
	    {"confirm", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *netns = NULL;
	bool check = false;
	unsigned long seconds = 0;
	char label[256], dir[4096], when[32], hint[300];
	int c;
	optind = 1;
	const char *inexact = out_inexact_option(argc, argv, opts);
	if (inexact)
		return out_usage(apply_usage, "policy apply: unknown option '%s'", inexact);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'n':
			netns = optarg;
			break;
		case 'c':
			check = true;
			break;
		case 'C':
			errno = 0;
			seconds = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || seconds == 0 ||
			    seconds > MAX_CONFIRM_SECONDS)
				return out_usage(
				    apply_usage,
				    "policy apply: --confirm takes 1 to %d seconds, not "
				    "'%s'",
				    MAX_CONFIRM_SECONDS, optarg);
			break;
		case 'h':
			return out_help(apply_usage);
		default:
			return out_usage(apply_usage, "policy apply: invalid option");
		}
	}
	if (argc - optind != 1)
		return out_usage(apply_usage, "policy apply: expected one FILE.nft");
	if (check && seconds)
		return out_usage(apply_usage, "policy apply: --check applies nothing to confirm");
	const char *path = argv[optind];
	int code = enter(apply_usage, netns, label, sizeof(label), dir, sizeof(dir));
	if (code)
		return code;
	struct diag_list *dl = diag_list_new();
	if (!dl)
		return out_fail(SEG_EXIT_SYSTEM, "out of memory");
	time_t now = time(NULL);
	int r;
	if (check) {
		r = apply_check(path, dl);
		if (r < 0) {
			code = apply_failed(r, path, dl);
		} else {
			out_diags(dl);
			printf("%s: ok: the kernel accepts it (checked only, nothing applied)\n",
			       path);
		}
		goto out;
	}
	struct apply_pending pd;
	if (!seconds && apply_pending_get(dir, &pd) == 0 && pd.alive) {
		iso_time(pd.deadline, when, sizeof(when));
		code = out_fail(SEG_EXIT_FINDINGS,
				"a confirm window for %s is open until %s: run `segplan policy "
				"confirm%s` first, or apply with --confirm",
				pd.file, when, netns_hint(netns, hint, sizeof(hint)));
		goto out;
	}
	r = seconds ? apply_confirmed(path, dir, (unsigned)seconds, now, dl, &pd)
		    : apply_file(path, now, dl);
	if (r < 0) {
		code = apply_failed(r, path, dl);
		goto out;
	}
	out_diags(dl);
	iso_time(now, when, sizeof(when));
	printf("%s: applied to table %s %s (netns %s) at %s\n", path, APPLY_FAMILY, APPLY_TABLE,
	       label, when);
	if (seconds) {
		iso_time(pd.deadline, when, sizeof(when));
		printf("the previous table comes back at %s (in %lu s) unless `segplan policy "
		       "confirm%s` runs before\n",
		       when, seconds, netns_hint(netns, hint, sizeof(hint)));
	}
out:
	diag_list_free(dl);
	return code;
}

int policy_cmd_confirm(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"netns", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *netns = NULL;
	char label[256], dir[4096], when[32];
	int c;
	optind = 1;
	const char *inexact = out_inexact_option(argc, argv, opts);
	if (inexact)
		return out_usage(confirm_usage, "policy confirm: unknown option '%s'", inexact);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			netns = optarg;
			break;
		case 'h':
			return out_help(confirm_usage);
		default:
			return out_usage(confirm_usage, "policy confirm: invalid option");
		}
	}
	if (argc != optind)
		return out_usage(confirm_usage, "policy confirm: unexpected argument '%s'",
				 argv[optind]);
	int code = enter(confirm_usage, netns, label, sizeof(label), dir, sizeof(dir));
	if (code)
		return code;
	struct apply_pending pd;
	struct apply_rollback rb;
	int r = apply_confirm(dir, &pd);
	if (r == -ENOENT) {
		if (apply_rollback_get(dir, &rb) == 0) {
			iso_time(rb.at, when, sizeof(when));
			return out_fail(
			    SEG_EXIT_FINDINGS,
			    "nothing to confirm: the window for %s expired; the previous "
			    "table was %s at %s",
			    rb.file, rb.ok ? "restored" : "NOT restored", when);
		}
		return out_fail(SEG_EXIT_FINDINGS, "nothing to confirm in netns %s", label);
	}
	if (r < 0)
		return out_fail(SEG_EXIT_SYSTEM, "confirm: %s", strerror(-r));
	iso_time(pd.applied, when, sizeof(when));
	printf("confirmed: %s, applied at %s, stays (netns %s)\n", pd.file, when, label);
	return SEG_EXIT_OK;
}

static json_t *drift_json(const struct nfts_drift *d)
{
	json_t *j = json_object();
	json_object_set_new(j, "kind", json_string(nfts_drift_kind_name(d->kind)));
	json_object_set_new(j, "object", json_string(nfts_drift_object_name(d->object)));
	if (d->chain)
		json_object_set_new(j, "chain", json_string(d->chain));
	if (d->set)
		json_object_set_new(j, "set", json_string(d->set));
	if (d->name)
		json_object_set_new(j, "name", json_string(d->name));
	if (d->detail)
		json_object_set_new(j, "detail", json_string(d->detail));
	if (d->want)
		json_object_set_new(j, "intended", json_string(d->want));
	if (d->have)
		json_object_set_new(j, "live", json_string(d->have));
	return j;
}

static void drift_text(const struct nfts_drift *d)
{
	const char *kind = nfts_drift_kind_name(d->kind);
	switch (d->object) {
	case NFTS_OBJ_CHAIN:
		printf("  %s chain %s%s%s\n", kind, d->chain, d->detail ? ": " : "",
		       d->detail ? d->detail : "");
		break;
	case NFTS_OBJ_RULE:
		if (d->name)
			printf("  %s rule %s (chain %s)%s%s\n", kind, d->name, d->chain,
			       d->kind == NFTS_DRIFT_CHANGED ? ": " : "",
			       d->kind == NFTS_DRIFT_CHANGED ? d->detail : "");
		else
			printf("  %s rule without id in chain %s: %s\n", kind, d->chain,
			       d->detail ? d->detail : "");
		break;
	case NFTS_OBJ_SET:
		printf("  %s set %s%s%s\n", kind, d->set, d->detail ? ": " : "",
		       d->detail ? d->detail : "");
		break;
	case NFTS_OBJ_ELEMENT:
		printf("  %s element %s in set %s\n", kind, d->name, d->set);
		break;
	}
}

static void print_drift(const struct nfts_drift *d, size_t n)
{
	size_t shown = 0, hidden = 0;
	const char *set = NULL;
	for (size_t i = 0; i < n; i++) {
		if (d[i].object == NFTS_OBJ_ELEMENT) {
			if (!set || strcmp(set, d[i].set) != 0) {
				set = d[i].set;
				shown = 0;
			}
			if (shown++ >= TEXT_ELEMENT_DRIFT) {
				hidden++;
				continue;
			}
		}
		drift_text(&d[i]);
	}
	if (hidden)
		printf("  ... and %zu more element differences (--json lists all)\n", hidden);
}

/* A time window's set (compile: comment "window:<id> <text>; until <RFC 3339>"). */
struct window_info {
	char id[64], text[128], until[32];
	int64_t end;
};

static bool window_of(const struct nfts_set *st, struct window_info *w)
{
	const char *c = st->comment;
	if (!c || strncmp(c, "window:", 7) != 0)
		return false;
	const char *sp = strchr(c + 7, ' '), *u = strstr(c, "; until ");
	if (!sp || !u || u < sp)
		return false;
	snprintf(w->id, sizeof(w->id), "%.*s", (int)(sp - c - 7), c + 7);
	snprintf(w->text, sizeof(w->text), "%.*s", (int)(u - sp - 1), sp + 1);
	snprintf(w->until, sizeof(w->until), "%s", u + 8);
	int64_t ns;
	if (!rfc3339_parse(w->until, &ns))
		return false;
	w->end = ns / 1000000000;
	return true;
}

/* Days a window's rendering has left (negative: past). */
static long window_days(const struct window_info *w)
{
	int64_t d = w->end - (int64_t)time(NULL);
	return (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

int policy_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"netns", required_argument, NULL, 'n'},
	    {"against", required_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *netns = NULL, *against = NULL;
	bool json = false;
	char label[256], dir[4096], when[32], hint[300];
	int c;
	optind = 1;
	const char *inexact = out_inexact_option(argc, argv, opts);
	if (inexact)
		return out_usage(status_usage, "policy status: unknown option '%s'", inexact);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			netns = optarg;
			break;
		case 'a':
			against = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return out_help(status_usage);
		default:
			return out_usage(status_usage, "policy status: invalid option");
		}
	}
	if (argc != optind)
		return out_usage(status_usage, "policy status: unexpected argument '%s'",
				 argv[optind]);
	int code = enter(status_usage, netns, label, sizeof(label), dir, sizeof(dir));
	if (code)
		return code;

	struct nfts *live = NULL, *want = NULL;
	struct nfts_drift *drift = NULL;
	size_t ndrift = 0;
	struct diag_list *dl = diag_list_new();
	json_t *j = NULL;
	if (!dl)
		return out_fail(SEG_EXIT_SYSTEM, "out of memory");
	/* Live first: reading the file switches namespaces and back. */
	int r = nfts_read(APPLY_FAMILY, APPLY_TABLE, &live);
	if (r < 0 && r != -ENOENT) {
		code = out_fail(SEG_EXIT_SYSTEM, "reading table %s %s: %s", APPLY_FAMILY,
				APPLY_TABLE, strerror(-r));
		goto out;
	}
	if (against) {
		r = apply_read_file(against, dl, &want);
		if (r < 0) {
			code = apply_failed(r, against, dl);
			goto out;
		}
		if (live && (r = nfts_diff(want, live, APPLY_MARK_CHAIN, &drift, &ndrift)) < 0) {
			code = out_fail(SEG_EXIT_SYSTEM, "drift: %s", strerror(-r));
			goto out;
		}
	}
	struct apply_mark mark;
	struct apply_pending pd;
	struct apply_rollback rb;
	bool marked = live && apply_mark_get(live, &mark) == 0;
	bool pending = apply_pending_get(dir, &pd) == 0;
	bool rolled = apply_rollback_get(dir, &rb) == 0 && (!marked || rb.at >= mark.applied);
	bool in_sync = live && ndrift == 0;
	code = live && (!against || in_sync) ? SEG_EXIT_OK : SEG_EXIT_FINDINGS;
	/* Time windows are rendered for a horizon: past it they never open. */
	struct window_info win[64];
	size_t nwin = 0;
	for (size_t i = 0; live && i < nfts_nsets(live) && nwin < 64; i++)
		if (window_of(nfts_set_at(live, i), &win[nwin]))
			nwin++;
	for (size_t i = 0; i < nwin; i++)
		if (window_days(&win[i]) < 0)
			code = SEG_EXIT_FINDINGS;

	if (json) {
		json_t *rules = json_array(), *zero = json_array();
		j = json_object();
		json_object_set_new(j, "netns", json_string(label));
		json_object_set_new(j, "table", json_string(APPLY_FAMILY " " APPLY_TABLE));
		json_object_set_new(j, "present", json_boolean(live != NULL));
		if (marked) {
			iso_time(mark.applied, when, sizeof(when));
			json_object_set_new(j, "applied_at", json_string(when));
			json_object_set_new(j, "applied_epoch", json_integer(mark.applied));
			json_object_set_new(j, "applied_file", json_string(mark.file));
		} else {
			json_object_set_new(j, "applied_at", json_null());
		}
		if (pending) {
			iso_time(pd.deadline, when, sizeof(when));
			json_object_set_new(j, "confirm_pending",
					    json_pack("{s:s, s:s, s:I, s:b}", "file", pd.file,
						      "rollback_at", when, "watchdog_pid",
						      (json_int_t)pd.pid, "watchdog_alive",
						      pd.alive));
		} else {
			json_object_set_new(j, "confirm_pending", json_null());
		}
		if (rolled) {
			iso_time(rb.at, when, sizeof(when));
			json_object_set_new(j, "last_rollback",
					    json_pack("{s:s, s:s, s:b, s:s}", "at", when, "file",
						      rb.file, "ok", rb.ok, "error", rb.error));
		}
		for (size_t i = 0; live && i < nfts_nrules(live); i++) {
			const struct nfts_rule *ru = nfts_rule_at(live, i);
			if (!ru->id)
				continue;
			json_array_append_new(rules, json_pack("{s:s, s:s, s:I, s:b, s:I, s:I}",
							       "id", ru->id, "chain", ru->chain,
							       "handle", (json_int_t)ru->handle,
							       "counter", ru->counter, "packets",
							       (json_int_t)ru->packets, "bytes",
							       (json_int_t)ru->bytes));
			if (ru->counter && ru->packets == 0)
				json_array_append_new(zero, json_string(ru->id));
		}
		json_object_set_new(j, "rules", rules);
		json_object_set_new(j, "zero_hits", zero);
		json_t *wa = json_array();
		for (size_t i = 0; i < nwin; i++)
			json_array_append_new(
			    wa, json_pack("{s:s,s:s,s:s,s:I,s:b}", "rule", win[i].id, "window",
					  win[i].text, "rendered_until", win[i].until, "days_left",
					  (json_int_t)window_days(&win[i]), "expired",
					  window_days(&win[i]) < 0));
		json_object_set_new(j, "windows", wa);
		if (against) {
			json_t *da = json_array();
			for (size_t i = 0; i < ndrift; i++)
				json_array_append_new(da, drift_json(&drift[i]));
			json_object_set_new(j, "against", json_string(against));
			json_object_set_new(j, "in_sync", json_boolean(in_sync));
			json_object_set_new(j, "drift", da);
		}
		int jr = out_json(j);
		j = NULL;
		if (jr)
			code = jr;
		goto out;
	}

	if (!live) {
		printf("no table %s %s in netns %s\n", APPLY_FAMILY, APPLY_TABLE, label);
	} else if (marked) {
		iso_time(mark.applied, when, sizeof(when));
		printf("table %s %s in netns %s: applied %s from %s; counters run since then\n",
		       APPLY_FAMILY, APPLY_TABLE, label, when, mark.file);
	} else {
		printf("table %s %s in netns %s: not loaded by segplan policy apply; counters run "
		       "since an unknown time\n",
		       APPLY_FAMILY, APPLY_TABLE, label);
	}
	if (pending) {
		iso_time(pd.deadline, when, sizeof(when));
		if (pd.alive)
			printf("confirm window open: the previous table comes back at %s unless "
			       "`segplan policy confirm%s` runs before\n",
			       when, netns_hint(netns, hint, sizeof(hint)));
		else
			printf("confirm window of %s: its watchdog (pid %d) is gone; nothing will "
			       "roll back\n",
			       pd.file, (int)pd.pid);
	}
	if (rolled) {
		iso_time(rb.at, when, sizeof(when));
		printf("last rollback: %s at %s (%s was not confirmed)%s%s\n",
		       rb.ok ? "previous table restored" : "FAILED", when, rb.file,
		       rb.ok ? "" : ": ", rb.ok ? "" : rb.error);
	}
	if (live) {
		size_t n = 0, nzero = 0;
		printf("%-32s %-12s %12s %14s\n", "RULE", "CHAIN", "PACKETS", "BYTES");
		for (size_t i = 0; i < nfts_nrules(live); i++) {
			const struct nfts_rule *ru = nfts_rule_at(live, i);
			if (!ru->id)
				continue;
			n++;
			if (!ru->counter) {
				printf("%-32s %-12s %12s %14s\n", ru->id, ru->chain, "-", "-");
				continue;
			}
			printf("%-32s %-12s %12" PRIu64 " %14" PRIu64 "\n", ru->id, ru->chain,
			       ru->packets, ru->bytes);
			nzero += ru->packets == 0;
		}
		printf("%zu policy rule%s, %zu without hits%s", n, n == 1 ? "" : "s", nzero,
		       nzero ? ":" : "");
		for (size_t i = 0; nzero && i < nfts_nrules(live); i++) {
			const struct nfts_rule *ru = nfts_rule_at(live, i);
			if (ru->id && ru->counter && ru->packets == 0)
				printf(" %s", ru->id);
		}
		printf("\n");
	}
	for (size_t i = 0; i < nwin; i++) {
		long d = window_days(&win[i]);
		printf("time window of rule %s (%s): rendered until %s, %s\n", win[i].id,
		       win[i].text, win[i].until,
		       d < 0	? "PAST: the rule matches nothing until compiled and applied again"
		       : d < 30 ? "less than 30 days left: compile and apply again soon"
				: "in force (the spans follow the zone's daylight-saving changes)");
	}
	if (against && live) {
		if (in_sync)
			printf("in sync with %s\n", against);
		else
			printf("drift against %s: %zu difference%s\n", against, ndrift,
			       ndrift == 1 ? "" : "s");
		print_drift(drift, ndrift);
	}
out:
	json_decref(j);
	nfts_drift_free(drift, ndrift);
	nfts_free(live);
	nfts_free(want);
	diag_list_free(dl);
	return code;
}
