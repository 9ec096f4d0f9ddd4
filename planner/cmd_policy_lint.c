// SPDX-License-Identifier: MIT
/* segplan policy lint / diff (docs/policy-lint.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/diff.h"
#include "analysis/lint.h"
#include "core/exitcodes.h"
#include "core/yamlread.h"
#include "inventory/inventory.h"
#include "planner/out.h"
#include "planner/policy_lint.h"
#include "policy/policy.h"

static const char lint_usage[] =
    "usage: segplan policy lint INVENTORY [--policy FILE] [--json] [--date YYYY-MM-DD]\n"
    "\n"
    "Analyses INVENTORY/policy.yaml exactly, over every packet some gateway\n"
    "judges: rules shadowed by one earlier rule or by several together,\n"
    "redundant rules, overlaps of rules with opposite actions, overly broad\n"
    "rules, zones without segments, expired and soon expiring rules; with\n"
    "stage-2 terms also unused objects and site groups, objects across zones,\n"
    "terms that hold no address, and the policy's assertions, each failing one\n"
    "an error with a connection that breaks it. Each finding is located at its\n"
    "rule as FILE:LINE:COL (docs/policy-lint.md).\n"
    "\n"
    "options:\n"
    "  --policy F   analyse the policy file F instead of INVENTORY/policy.yaml\n"
    "  --json       machine-readable output (schema in docs/policy-lint.md)\n"
    "  --date D     judge expiry on day D (default: today, UTC)\n"
    "  -h, --help   show this help\n"
    "\n"
    "exit status: 0 no finding, 1 findings, 2 usage, 3 invalid input, 4 system error\n";

static const char diff_usage[] =
    "usage: segplan policy diff OLD NEW [--old-policy FILE] [--new-policy FILE] [--json]\n"
    "                           [--date YYYY-MM-DD]\n"
    "\n"
    "The semantic difference between the policies of two inventory directories:\n"
    "the packets (family, zones, relation of the ends, services) whose verdict\n"
    "changes, with the deciding rule before and after. Reordering rules without\n"
    "effect, renaming services or splitting rules gives no change. Then what\n"
    "reaches the gateways themselves and what they log: management zones added\n"
    "or removed (with their hosts and the gateways), logging, rule expiry,\n"
    "each gateway's routing-protocol access (OSPF, VRRP, BGP) and its gateway\n"
    "services.\n"
    "\n"
    "options:\n"
    "  --old-policy F  the old policy is the file F instead of OLD/policy.yaml\n"
    "  --new-policy F  the new policy is the file F instead of NEW/policy.yaml\n"
    "                  (OLD and NEW may then be the same inventory)\n"
    "  --json          machine-readable output (schema in docs/policy-lint.md)\n"
    "  --date D        judge expiry on day D in both (default: today, UTC)\n"
    "  -h, --help   show this help\n"
    "\n"
    "exit status: 0 no difference, 1 differences, 2 usage, 3 invalid input,\n"
    "4 system error\n";

static const struct option lint_opts[] = {
    {"json", no_argument, NULL, 'j'},
    {"date", required_argument, NULL, 'd'},
    {"policy", required_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option diff_opts[] = {
    {"json", no_argument, NULL, 'j'},
    {"date", required_argument, NULL, 'd'},
    {"old-policy", required_argument, NULL, 'O'},
    {"new-policy", required_argument, NULL, 'N'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct args {
	bool json;
	const char *date;
	const char *policy[2]; /* --policy (lint) or --old-policy, --new-policy (diff); NULL:
				  the inventory's policy.yaml */
	int first;	       /* index of the first operand */
};

/* Parses the options; a return >= 0 is the exit code to return at once. */
static int parse(int argc, char **argv, const char *usage, const char *cmd,
		 const struct option *longopts, struct args *a)
{
	memset(a, 0, sizeof(*a));
	const char *bad = out_inexact_option(argc, argv, longopts);
	if (bad)
		return out_usage(usage, "policy %s: unknown option '%s'", cmd, bad);
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		long days;
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'd':
			if (!policy_parse_date(optarg, &days))
				return out_usage(usage,
						 "policy %s: --date takes YYYY-MM-DD, not '%s'",
						 cmd, optarg);
			a->date = optarg;
			break;
		case 'p':
		case 'O':
			a->policy[0] = optarg;
			break;
		case 'N':
			a->policy[1] = optarg;
			break;
		case 'h':
			return out_help(usage);
		default:
			return out_usage(usage, "policy %s: invalid option", cmd);
		}
	}
	a->first = optind;
	return -1;
}

struct loaded {
	char *path;
	struct inventory *inv;
	struct policy *p;
};

static void loaded_free(struct loaded *l)
{
	policy_free(l->p);
	inventory_free(l->inv);
	free(l->path);
}

/* Loads DIR's inventory and policy (policy_file, or DIR/policy.yaml when NULL); 0, or
 * the exit code (problems in dl). */
static int load(const char *dir, const char *policy_file, const char *date, struct diag_list *dl,
		struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	struct diag_list *idl = diag_list_new();
	if (!idl || (policy_file ? !(l->path = strdup(policy_file))
				 : asprintf(&l->path, "%s/policy.yaml", dir) < 0)) {
		l->path = NULL;
		diag_list_free(idl);
		return out_fail(SEG_EXIT_SYSTEM, "out of memory");
	}
	/* Inventory warnings are `segplan check`'s business; its errors stop us. */
	int rc = inventory_load(dir, idl, &l->inv);
	if (rc == -EINVAL) {
		for (size_t i = 0; i < diag_count(idl); i++) {
			const struct diag *d = diag_get(idl, i);
			if (d->severity == DIAG_ERROR)
				diag_add(dl, d->severity, d->file, d->line, d->col, "%s", d->msg);
		}
	}
	diag_list_free(idl);
	if (rc == -EINVAL)
		return SEG_EXIT_INPUT;
	if (rc < 0)
		return out_fail(SEG_EXIT_SYSTEM, "%s: %s", dir, strerror(-rc));
	rc = policy_load(l->path, NULL, l->inv, date, dl, &l->p);
	int code = out_input_code(dl, rc);
	if (code == SEG_EXIT_SYSTEM)
		return out_fail(code, "%s: %s", l->path, strerror(-rc));
	return code;
}

static json_t *input_json(const struct diag *d)
{
	return json_pack("{s:s,s:s,s:s?,s:I,s:I,s:n,s:n,s:n,s:[],s:s}", "kind", "input", "severity",
			 d->severity == DIAG_ERROR ? "error" : "warning", "file", d->file, "line",
			 (json_int_t)d->line, "col", (json_int_t)d->col, "rule", "zone", "site",
			 "rules", "message", d->msg);
}

static bool located_finding(const struct lint_report *r, const struct diag *d)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].line == d->line && r->v[i].col == d->col)
			return true;
	return false;
}

int policy_cmd_lint(int argc, char **argv)
{
	struct args a;
	int code = parse(argc, argv, lint_usage, "lint", lint_opts, &a);
	if (code >= 0)
		return code;
	if (argc - a.first != 1)
		return out_usage(lint_usage, "policy lint: expected one INVENTORY directory");
	struct diag_list *dl = diag_list_new(), *out = diag_list_new(), *ydl = diag_list_new();
	struct loaded l;
	struct ydoc *doc = NULL;
	struct lint_report *r = NULL;
	memset(&l, 0, sizeof(l));
	if (!dl || !out || !ydl) {
		code = out_fail(SEG_EXIT_SYSTEM, "out of memory");
		goto out;
	}
	if ((code = load(argv[a.first], a.policy[0], a.date, dl, &l)) != 0) {
		out_diags(dl);
		goto out;
	}
	/* The tree again, only for the positions of zone declarations. */
	if (ydoc_load(l.path, NULL, ydl, &doc) < 0)
		doc = NULL;
	int rc = lint_policy(l.p, l.inv, doc, out, &r);
	if (rc < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "lint: %s", strerror(-rc));
		goto out;
	}
	/* The loader's warnings, unless a finding says the same at the same place. */
	size_t warnings = 0, notes = 0;
	json_t *findings = a.json ? json_array() : NULL;
	for (size_t i = 0; i < diag_count(dl); i++) {
		const struct diag *d = diag_get(dl, i);
		if (located_finding(r, d))
			continue;
		warnings++;
		if (findings)
			json_array_append_new(findings, input_json(d));
		else
			diag_add(out, d->severity, d->file, d->line, d->col, "%s", d->msg);
	}
	for (size_t i = 0; i < r->n; i++) {
		warnings += r->v[i].severity != DIAG_NOTE;
		notes += r->v[i].severity == DIAG_NOTE;
		if (findings)
			json_array_append_new(findings, lint_finding_json(l.p, l.inv, r, &r->v[i]));
	}
	code = warnings ? SEG_EXIT_FINDINGS : SEG_EXIT_OK;
	if (findings) {
		json_t *j = json_pack(
		    "{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "policy", l.p->file, "date",
		    l.p->date, "views", (json_int_t)r->views, "atoms", (json_int_t)r->atoms,
		    "classes", (json_int_t)r->classes, "gateways", (json_int_t)r->gateways,
		    "regimes", (json_int_t)r->regimes, "errors", (json_int_t)r->errors, "warnings",
		    (json_int_t)(warnings - r->errors), "notes", (json_int_t)notes, "findings",
		    findings);
		int jc = j ? out_json(j) : out_fail(SEG_EXIT_SYSTEM, "out of memory");
		code = jc ? jc : code;
		goto out;
	}
	diag_sort(out);
	for (size_t i = 0; i < diag_count(out); i++) {
		char buf[4096];
		diag_format(diag_get(out, i), buf, sizeof(buf));
		printf("%s\n", buf);
	}
	char errs[48] = "";
	if (r->errors)
		snprintf(errs, sizeof(errs), " (%zu error%s)", r->errors, r->errors == 1 ? "" : "s");
	printf("%s: %zu finding%s%s, %zu note%s (%zu rules, %zu views, %zu atoms, %zu classes, "
	       "date %s)\n",
	       l.p->file, warnings, warnings == 1 ? "" : "s", errs, notes, notes == 1 ? "" : "s",
	       l.p->nrules, r->views, r->atoms, r->classes, l.p->date);
out:
	lint_report_free(r);
	ydoc_free(doc);
	loaded_free(&l);
	diag_list_free(dl);
	diag_list_free(out);
	diag_list_free(ydl);
	return code;
}

int policy_cmd_diff(int argc, char **argv)
{
	struct args a;
	int code = parse(argc, argv, diff_usage, "diff", diff_opts, &a);
	if (code >= 0)
		return code;
	if (argc - a.first != 2)
		return out_usage(diff_usage,
				 "policy diff: expected OLD and NEW inventory directories");
	struct diag_list *dl = diag_list_new();
	struct loaded la, lb;
	struct diff_report *d = NULL;
	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	if (!dl) {
		code = out_fail(SEG_EXIT_SYSTEM, "out of memory");
		goto out;
	}
	/* Both are read, so that every error of both is reported at once. */
	int ca = load(argv[a.first], a.policy[0], a.date, dl, &la);
	int cb = load(argv[a.first + 1], a.policy[1], a.date, dl, &lb);
	if (ca || cb) {
		out_diags(dl);
		code = ca == SEG_EXIT_SYSTEM || cb == SEG_EXIT_SYSTEM ? SEG_EXIT_SYSTEM
								      : SEG_EXIT_INPUT;
		goto out;
	}
	int rc = diff_policies(la.p, la.inv, lb.p, lb.inv, &d);
	if (rc < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "diff: %s", strerror(-rc));
		goto out;
	}
	code = diff_count(d) ? SEG_EXIT_FINDINGS : SEG_EXIT_OK;
	if (a.json) {
		json_t *ch = json_array(), *views = json_array(), *mg = json_array(),
		       *lg = json_array(), *ex = json_array(), *gw = json_array(),
		       *sv = json_array();
		for (size_t i = 0; sv && i < d->nservices; i++)
			json_array_append_new(sv, diff_service_json(d, la.p, lb.p, &d->services[i]));
		for (size_t i = 0; ch && i < d->n; i++)
			json_array_append_new(ch, diff_change_json(d, la.p, lb.p, &d->v[i]));
		for (size_t i = 0; views && i < d->nsites; i++)
			json_array_append_new(views, json_string(d->sites[i]));
		for (size_t i = 0; mg && i < d->nmgmt; i++)
			json_array_append_new(mg, diff_mgmt_json(&d->mgmt[i]));
		for (size_t i = 0; lg && i < d->nlogging; i++)
			json_array_append_new(lg, diff_setting_json(&d->logging[i]));
		for (size_t i = 0; ex && i < d->nexpiry; i++)
			json_array_append_new(ex, diff_setting_json(&d->expiry[i]));
		for (size_t i = 0; gw && i < d->ngateways; i++)
			json_array_append_new(gw, diff_gateway_json(&d->gateways[i]));
		json_t *j = ch && views && mg && lg && ex && gw && sv
				? json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
					    "old", la.p->file, "new", lb.p->file, "date",
					    la.p->date, "atoms", (json_int_t)d->atoms, "classes",
					    (json_int_t)d->classes, "regimes",
					    (json_int_t)d->regimes, "exception_sites", views,
					    "changes", ch, "management", mg, "logging", lg,
					    "expiry", ex, "gateway_access", gw,
					    "gateway_services", sv)
				: NULL;
		if (!j) {
			json_decref(sv);
			json_decref(ch);
			json_decref(views);
			json_decref(mg);
			json_decref(lg);
			json_decref(ex);
			json_decref(gw);
		}
		int jc = j ? out_json(j) : out_fail(SEG_EXIT_SYSTEM, "out of memory");
		code = jc ? jc : code;
		goto out;
	}
	for (size_t i = 0; i < diff_count(d); i++) {
		size_t k = i;
		char *t;
		if (k < d->n)
			t = diff_change_text(d, la.p, lb.p, &d->v[k]);
		else if ((k -= d->n) < d->nmgmt)
			t = diff_mgmt_text(&d->mgmt[k]);
		else if ((k -= d->nmgmt) < d->nlogging)
			t = diff_setting_text("logging", &d->logging[k]);
		else if ((k -= d->nlogging) < d->nexpiry)
			t = diff_setting_text("expiry", &d->expiry[k]);
		else if ((k -= d->nexpiry) < d->ngateways)
			t = diff_gateway_text(&d->gateways[k]);
		else
			t = diff_service_text(d, la.p, lb.p, &d->services[k - d->ngateways]);
		if (!t) {
			code = out_fail(SEG_EXIT_SYSTEM, "out of memory");
			goto out;
		}
		printf("%s\n", t);
		free(t);
	}
	printf("%zu change%s, %zu other difference%s (%zu atoms compared, %zu classes, date %s)\n",
	       d->n, d->n == 1 ? "" : "s", diff_count(d) - d->n,
	       diff_count(d) - d->n == 1 ? "" : "s", d->atoms, d->classes, la.p->date);
out:
	diff_report_free(d);
	loaded_free(&la);
	loaded_free(&lb);
	diag_list_free(dl);
	return code;
}
