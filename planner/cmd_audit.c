// SPDX-License-Identifier: MIT
/* segplan audit: the agents' summaries against the current policy (docs/audit.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/atomic.h"
#include "core/exitcodes.h"
#include "inventory/inventory.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "policy/policy.h"

static const char usage[] =
    "usage: segplan audit INVENTORY SUMMARY... [--json] [--suggest-out FILE]\n"
    "                     [--top N] [--owner NAME] [--date YYYY-MM-DD]\n"
    "\n"
    "Reads the segment summaries of segplan-agent (any number of gateways and\n"
    "windows) and holds them against INVENTORY/policy.yaml: the share of flows an\n"
    "explicit accept rule covers, per site and overall; the denied zone pairs and\n"
    "services that really occur (in observe mode: what enforcing would break);\n"
    "rules without hits, with the kernel's counters; suggested accept rules for\n"
    "the denied traffic, for review; traffic of unassigned addresses. Summaries\n"
    "of another policy are listed and counted apart; a malformed one is an error\n"
    "(exit 3, nothing reported or written; docs/audit.md).\n"
    "\n"
    "options:\n"
    "  --json              machine-readable output (schema in docs/audit.md)\n"
    "  --suggest-out FILE  write the suggested rules as a policy.yaml fragment\n"
    "  --top N             entries per list in the text output (default 10)\n"
    "  --owner NAME        owner of the suggested rules (default security)\n"
    "  --date D            judge rule expiry on day D, as the compile did\n"
    "                      (default: today, UTC); it is part of the policy hash\n"
    "  -h, --help          show this help\n"
    "\n"
    "exit status: 0 nothing denied and every rule used, 1 findings (denials,\n"
    "unused rules, duplicate summaries, other policies), 2 usage, 3 invalid\n"
    "inventory, policy or summary, 4 system error\n";

static const struct option longopts[] = {
    {"json", no_argument, NULL, 'j'},
    {"suggest-out", required_argument, NULL, 's'},
    {"top", required_argument, NULL, 't'},
    {"owner", required_argument, NULL, 'o'},
    {"date", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct args {
	bool json;
	const char *suggest_out, *owner, *date;
	long top;
	int first;
};

static int parse(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->top = 10;
	const char *bad = out_inexact_option(argc, argv, longopts);
	if (bad)
		return out_usage(usage, "audit: unknown option '%s'", bad);
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		long days;
		char *end;
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 's':
			a->suggest_out = optarg;
			break;
		case 'o':
			if (!*optarg || strchr(optarg, '\n'))
				return out_usage(usage, "audit: --owner takes a one-line name");
			a->owner = optarg;
			break;
		case 't':
			a->top = strtol(optarg, &end, 10);
			if (*end || end == optarg || a->top < 1 || a->top > 1000000)
				return out_usage(usage, "audit: --top takes 1 to 1000000, not '%s'",
						 optarg);
			break;
		case 'd':
			if (!policy_parse_date(optarg, &days))
				return out_usage(usage, "audit: --date takes YYYY-MM-DD, not '%s'",
						 optarg);
			a->date = optarg;
			break;
		case 'h':
			return out_help(usage);
		default:
			return out_usage(usage, "audit: invalid option '%s'", argv[optind - 1]);
		}
	}
	a->first = optind;
	return -1;
}

/* Loads DIR's inventory and policy; 0, or the exit code (problems in dl). */
static int load(const char *dir, const char *date, struct diag_list *dl, struct inventory **inv,
		struct policy **p)
{
	char *path = NULL;
	struct diag_list *idl = diag_list_new();
	int code = 0;
	if (!idl || asprintf(&path, "%s/policy.yaml", dir) < 0) {
		path = NULL;
		code = out_fail(SEG_EXIT_SYSTEM, "out of memory");
		goto out;
	}
	/* Inventory warnings are `segplan check`'s business; its errors stop us. */
	int rc = inventory_load(dir, idl, inv);
	for (size_t i = 0; rc == -EINVAL && i < diag_count(idl); i++) {
		const struct diag *d = diag_get(idl, i);
		if (d->severity == DIAG_ERROR)
			diag_add(dl, d->severity, d->file, d->line, d->col, "%s", d->msg);
	}
	if (rc == -EINVAL) {
		code = SEG_EXIT_INPUT;
		goto out;
	}
	if (rc < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "%s: %s", dir, strerror(-rc));
		goto out;
	}
	rc = policy_load(path, NULL, *inv, date, dl, p);
	if ((code = out_input_code(dl, rc)) == SEG_EXIT_SYSTEM)
		out_fail(code, "%s: %s", path, strerror(-rc));
out:
	free(path);
	diag_list_free(idl);
	return code;
}

/* 12.3 kB, 4.5 MB: bytes for people. */
static const char *human(uint64_t v, char *buf, size_t size)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double x = (double)v;
	int u = 0;
	while (x >= 1000 && u < 5) {
		x /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", v);
	else
		snprintf(buf, size, "%.1f %s", x, units[u]);
	return buf;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_list(char *const *v, size_t n, size_t max, const char *null_name)
{
	for (size_t i = 0; i < n && i < max; i++)
		printf("%s%s", i ? ", " : "", v[i] ? v[i] : null_name);
	if (n > max)
		printf(" and %zu more", n - max);
}

/* Names of the tables: "core (3), {role: db} (1)", or without the flows. */
static void print_names(const struct audit_name *v, size_t n, size_t max, bool flows)
{
	for (size_t i = 0; i < n && i < max; i++) {
		printf("%s%s", i ? ", " : "", v[i].name);
		if (flows)
			printf(" (%" PRIu64 ")", v[i].flows);
	}
	if (n > max)
		printf(" and %zu more", n - max);
}

/* An end of a suggestion: its zone, or the object of the observed hosts and them. */
static void print_end(const struct audit_report *r, const struct audit_suggestion *s, int e)
{
	const char *zone = e ? s->to : s->from;
	if (s->object[e] < 0) {
		printf("%s", zone);
		return;
	}
	const struct audit_object *o = &r->objects[s->object[e]];
	printf("%s%s%s [", zone, o->existing ? " object " : " hosts ", o->name);
	print_list(o->items, o->nitems, 4, "");
	printf("]");
}

static void print_text(const struct audit_report *r, const struct policy *p,
		       const struct inventory *inv, const struct args *a)
{
	char b1[32], b2[32], svc[64];
	size_t top = (size_t)a->top;
	bool observe = false;
	for (size_t i = 0; i < r->nsummaries; i++)
		observe |= r->summaries[i].current && r->summaries[i].mode &&
			   strcmp(r->summaries[i].mode, "observe") == 0;

	size_t current = 0;
	for (size_t i = 0; i < r->nsummaries; i++)
		current += r->summaries[i].current;
	printf("audit of %zu summar%s (%zu of the current policy, %zu gateway%s), %s to %s\n",
	       r->nsummaries, r->nsummaries == 1 ? "y" : "ies", current, r->nsites,
	       r->nsites == 1 ? "" : "s", r->start ? r->start : "-", r->end ? r->end : "-");
	printf("policy %s (%s, date %s)\n", p->file, r->hash, p->date);
	for (size_t i = 0; i < r->nsummaries; i++) {
		const struct audit_summary *s = &r->summaries[i];
		if (s->capture_dropped || s->not_decoded)
			printf("  note: %s (%s): the capture lost %" PRIu64 " packets and %" PRIu64
			       " were not decoded: counts are low\n",
			       s->file, s->site ? s->site : "no site", s->capture_dropped,
			       s->not_decoded);
	}

	printf("\ncoverage by explicit accept rules: %" PRIu64 " of %" PRIu64
	       " flows (%.1f%%), %s of %s (%.1f%%)\n",
	       r->covered.flows, r->total.flows, pct(r->covered.flows, r->total.flows),
	       human(r->covered.bytes, b1, sizeof(b1)), human(r->total.bytes, b2, sizeof(b2)),
	       pct(r->covered.bytes, r->total.bytes));
	for (size_t i = 0; i < r->nsites && i < top; i++) {
		const struct audit_site *s = &r->sites[i];
		printf("  %-12s %8" PRIu64 " flows  %5.1f%% covered  %5.1f%% of bytes  %" PRIu64
		       " denied\n",
		       s->site, s->total.flows, pct(s->covered.flows, s->total.flows),
		       pct(s->covered.bytes, s->total.bytes), s->denied.flows);
	}
	if (r->nsites > top)
		printf("  ... %zu more sites (--top, --json)\n", r->nsites - top);

	printf("\ndenied%s: %" PRIu64 " flows, %s, %zu zone pair/service%s\n",
	       observe ? " (observe mode: what enforcing would break)" : "", r->denied.flows,
	       human(r->denied.bytes, b1, sizeof(b1)), r->ndenials, r->ndenials == 1 ? "" : "s");
	for (size_t i = 0; i < r->ndenials && i < top; i++) {
		const struct audit_denial *d = &r->denials[i];
		audit_svc_text(&d->svc, svc, sizeof(svc));
		printf("  %2zu. %s -> %s %s: %" PRIu64 " flows, %s%s\n", i + 1, d->from, d->to, svc,
		       d->c.flows, human(d->c.bytes, b1, sizeof(b1)),
		       d->passed ? " (passed: observe)" : "");
		printf("      at ");
		print_list(d->sites, d->nsites, 8, "");
		printf("; denied by ");
		print_list(d->rules, d->nrules, 4, "the default");
		if (d->nnames[SUMMARY_FROM] || d->nnames[SUMMARY_TO]) {
			printf(" (matched from ");
			print_names(d->names[SUMMARY_FROM], d->nnames[SUMMARY_FROM], 4, false);
			printf(", to ");
			print_names(d->names[SUMMARY_TO], d->nnames[SUMMARY_TO], 4, false);
			printf(")");
		}
		printf("\n");
		static const char *const in[2] = {"sources in", "destinations in"};
		for (int e = 0; e < 2; e++) {
			size_t n = d->nnames[e ? SUMMARY_DST_SETS : SUMMARY_SRC_SETS];
			if (!n)
				continue;
			printf("      %s ", in[e]);
			print_names(d->names[e ? SUMMARY_DST_SETS : SUMMARY_SRC_SETS], n, 4, true);
			printf("\n");
		}
		for (size_t k = 0; k < d->nex; k++) {
			const struct audit_example *x = &d->ex[k];
			printf("      e.g. %s%s%s%s -> %s%s%s%s (%" PRIu64 " flow%s)\n", x->src,
			       x->src_host ? " (" : "", x->src_host ? x->src_host : "",
			       x->src_host ? ")" : "", x->dst, x->dst_host ? " (" : "",
			       x->dst_host ? x->dst_host : "", x->dst_host ? ")" : "", x->flows,
			       x->flows == 1 ? "" : "s");
		}
	}
	if (r->ndenials > top)
		printf("  ... %zu more (--top, --json)\n", r->ndenials - top);

	printf("\nunused rules (no hit anywhere in the window, kernel counters included): %zu\n",
	       r->unused);
	size_t shown = 0, uncarried = 0;
	for (size_t i = 0; i < r->nrules; i++) {
		const struct audit_rule_use *u = &r->rules[i];
		const struct pol_rule *pr = &p->rules[u->rule];
		if (!u->judged_at) {
			uncarried++;
			continue;
		}
		if (u->hits.flows || u->kernel_packets || shown++ >= top)
			continue;
		printf("  %s:%u:%u: rule '%s' (%s%s%s): 0 hits at %zu gateway%s", p->file, pr->line,
		       pr->col, pr->id, pol_action_names[pr->action],
		       pr->site >= 0 ? ", exception of " : "",
		       pr->site >= 0 ? inv->sites[pr->site].id : "", u->judged_at,
		       u->judged_at == 1 ? "" : "s");
		printf(u->kernel ? ", kernel 0\n" : ", no kernel counters\n");
	}
	if (shown > top)
		printf("  ... %zu more (--top, --json)\n", shown - top);
	if (uncarried)
		printf("  (%zu rule%s carried by no audited gateway: not judged)\n", uncarried,
		       uncarried == 1 ? "" : "s");

	printf("\nsuggested rules (for review, never applied): %zu%s\n", r->nsuggestions,
	       r->nsuggestions && !a->suggest_out ? " (--suggest-out FILE writes them)" : "");
	for (size_t i = 0; i < r->nsuggestions && i < top; i++) {
		const struct audit_suggestion *s = &r->suggestions[i];
		printf("  %s: ", s->id);
		print_end(r, s, 0);
		printf(" -> ");
		print_end(r, s, 1);
		for (size_t k = 0; k < s->nitems; k++) {
			audit_item_text(&s->items[k], svc, sizeof(svc));
			printf("%s%s", k ? ", " : " ", svc);
		}
		if (s->scope != POL_SCOPE_ANY)
			printf(", %s", pol_scope_names[s->scope]);
		printf("; %s%s", s->site >= 0 ? "exception of " : "",
		       s->site >= 0 ? inv->sites[s->site].id : "");
		if (s->before >= 0)
			printf("%sinsert before: %s", s->site >= 0 ? ", " : "",
			       p->rules[s->before].id);
		else
			printf("at the end, before the default");
		printf(" (%" PRIu64 " flows, %s)%s%s", s->c.flows,
		       human(s->c.bytes, b1, sizeof(b1)), s->risk ? "; REVIEW WITH CARE: " : "",
		       s->risk ? s->risk : "");
		for (size_t k = 0; k < s->ncuts; k++)
			printf("%s%s", k ? ", " : "; CUTS THROUGH deny rule ",
			       p->rules[s->cuts[k]].id);
		printf("\n");
	}
	if (r->nsuggestions > top)
		printf("  ... %zu more (--top, --json)\n", r->nsuggestions - top);
	if (r->unresolved)
		printf("  %zu denial%s from or to zones the gateway's table merged ('-'): no "
		       "rule can name them\n",
		       r->unresolved, r->unresolved == 1 ? "" : "s");

	printf("\nunassigned addresses (in the city plan, in no segment): %" PRIu64 " flows, %s\n",
	       r->unassigned.flows, human(r->unassigned.bytes, b1, sizeof(b1)));
	for (size_t i = 0; i < r->nunassigned && i < top; i++) {
		const struct audit_unassigned *u = &r->unassigned_top[i];
		printf("  %s: %" PRIu64 " as source, %" PRIu64 " as destination, %s at ",
		       u->address, u->as_src, u->as_dst, human(u->bytes, b1, sizeof(b1)));
		print_list(u->sites, u->nsites, 8, "");
		printf("\n");
	}

	if (r->nforeign) {
		printf("\nother policies (counted apart, not above): %zu\n", r->nforeign);
		for (size_t i = 0; i < r->nforeign; i++) {
			const struct audit_foreign *f = &r->foreign[i];
			printf("  %s: %zu summar%s, %" PRIu64 " flows, %" PRIu64 " denied: ",
			       f->hash ? f->hash : "no policy", f->nfiles,
			       f->nfiles == 1 ? "y" : "ies", f->total.flows, f->denied.flows);
			print_list(f->files, f->nfiles, 4, "");
			printf("\n");
		}
	}
	if (r->skipped)
		printf("\nskipped: %zu summar%s (errors above)\n", r->skipped,
		       r->skipped == 1 ? "y" : "ies");
}

int cmd_audit(int argc, char **argv)
{
	struct args a;
	int code = parse(argc, argv, &a);
	if (code >= 0)
		return code;
	if (argc - a.first < 2)
		return out_usage(usage, "audit: expected INVENTORY and at least one SUMMARY");
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct policy *p = NULL;
	struct audit *au = NULL;
	struct audit_report *r = NULL;
	char *yaml = NULL;
	if (!dl) {
		code = out_fail(SEG_EXIT_SYSTEM, "out of memory");
		goto out;
	}
	if ((code = load(argv[a.first], a.date, dl, &inv, &p)) != 0) {
		out_diags(dl);
		goto out;
	}
	/* Policy warnings (an expired rule) are lint's business. */
	diag_list_free(dl);
	if (!(dl = diag_list_new())) {
		code = out_fail(SEG_EXIT_SYSTEM, "out of memory");
		goto out;
	}
	struct audit_opts o = {.owner = a.owner};
	int rc = audit_new(p, inv, &o, &au);
	if (rc == 0)
		rc = audit_add_files(au, (const char *const *)argv + a.first + 1,
				     (size_t)(argc - a.first - 1), dl);
	out_diags(dl);
	/* A summary refused is an error: nothing is reported or written from the others. */
	if ((code = out_input_code(dl, rc)) == SEG_EXIT_INPUT)
		goto out;
	if (rc == 0)
		rc = audit_report(au, &r);
	if (rc < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "audit: %s", strerror(-rc));
		goto out;
	}
	if (a.suggest_out) {
		yaml = audit_suggest_yaml(r, p, inv);
		rc = yaml ? atomic_write(a.suggest_out, yaml, strlen(yaml)) : -ENOMEM;
		if (rc < 0) {
			code = out_fail(SEG_EXIT_SYSTEM, "%s: %s", a.suggest_out, strerror(-rc));
			goto out;
		}
	}
	code = audit_has_findings(r) ? SEG_EXIT_FINDINGS : SEG_EXIT_OK;
	if (a.json) {
		json_t *j = audit_report_json(r, p, inv);
		int jc = j ? out_json(j) : out_fail(SEG_EXIT_SYSTEM, "out of memory");
		code = jc ? jc : code;
	} else {
		print_text(r, p, inv, &a);
		if (fflush(stdout) != 0)
			code = SEG_EXIT_SYSTEM;
	}
out:
	free(yaml);
	audit_report_free(r);
	audit_free(au);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
	return code;
}
