// SPDX-License-Identifier: MIT
/*
 * segplan demo: the whole pipeline on one inventory (docs/demo.md). The
 * analyses run in-process through the library headers; the outputs that
 * only a command renders (topology.json, vpn.json, rollout.csv) come from
 * that command's function with its standard output sent into the file; the
 * agent is the segplan-agent program, as on a gateway.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "compile/compile.h"
#include "core/atomic.h"
#include "core/exitcodes.h"
#include "craft/traffic.h"
#include "inventory/inventory.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "planner/policy_lint.h"
#include "policy/policy.h"
#include "report/reach.h"
#include "report/report.h"
#include "report/reportdata.h"
#include "topology/export.h"
#include "topology/topo.h"

extern char **environ;

#define DEFAULT_INVENTORY "examples/stuttgart"
#define DEFAULT_OUT	  "demo-out"
#define MAX_CAPTURES	  TRAFFIC_MAX_GATEWAYS

static const char usage[] =
    "usage: segplan demo [--out DIR] [--inventory DIR] [--date YYYY-MM-DD] [--json]\n"
    "\n"
    "Runs the whole pipeline on an inventory and writes every result into DIR:\n"
    "check the inventory, analyse the topology (DIR/topology.json, DIR/map.svg,\n"
    "DIR/city.geojson), compile every gateway's ruleset (DIR/rules/), compile the\n"
    "stage-2 policy INVENTORY/policy-stage2.yaml when there is one (DIR/rules-stage2/)\n"
    "and count what it closes (DIR/stage2.json, DIR/stage2.txt, DIR/policy-diff-stage2.json),\n"
    "size the VPN\n"
    "(DIR/vpn.json), plan the rollout (DIR/rollout.csv, DIR/rollout.json), run\n"
    "segplan-agent over the demo captures of INVENTORY/traffic/*.pcap (generated\n"
    "into DIR/traffic/ when the inventory has none) into DIR/summaries/, audit the\n"
    "summaries (DIR/audit.json, DIR/suggested-rules.yaml) and write the report\n"
    "(DIR/report.html). Prints the key numbers and where each output is.\n"
    "\n"
    "  -o, --out DIR        output directory, created when missing (default demo-out)\n"
    "  -i, --inventory DIR  the inventory (default examples/stuttgart, relative to\n"
    "                       the current directory)\n"
    "  -d, --date D         judge policy rule expiry on day D (default: today, UTC)\n"
    "      --json           print the summary as JSON\n"
    "  -h, --help           this help\n"
    "\n"
    "The agent is the segplan-agent beside this segplan (or in agent/ beside it in\n"
    "a build tree).\n"
    "\n"
    "exit codes: 0 every step ran, 1 a step failed, 2 usage, 3 invalid inventory,\n"
    "4 system error\n";

static const struct option longopts[] = {
    {"out", required_argument, NULL, 'o'},  {"inventory", required_argument, NULL, 'i'},
    {"date", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
};

struct demo {
	const char *inv_dir, *out, *date;
	bool json;
	struct timespec t0;

	struct inventory *inv;
	struct policy *policy;
	struct policy *stage2; /* INVENTORY/policy-stage2.yaml, when there is one */
	json_t *sum;	       /* the summary, filled step by step */

	char *captures[MAX_CAPTURES]; /* capture files, sorted */
	char *summaries[MAX_CAPTURES];
	size_t ncaptures;
};

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static char *path_in(const char *dir, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/*
 * Runs a command's function with its standard output sent into path
 * (atomically: the file appears only when the command exited with a code
 * up to max_ok), or discarded when path is NULL. Returns the command's exit
 * code, or SEG_EXIT_SYSTEM.
 */
static int run_into(int (*fn)(int, char **), char **argv, const char *path, int max_ok)
{
	struct atomic_file *af = NULL;
	int argc = 0, fd, code;
	while (argv[argc])
		argc++;
	if (path) {
		if (atomic_file_open(path, &af) < 0)
			return SEG_EXIT_SYSTEM;
		fd = fileno(atomic_file_stream(af));
	} else if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
		return SEG_EXIT_SYSTEM;
	}
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		code = SEG_EXIT_SYSTEM;
		goto out;
	}
	optind = 0;
	code = fn(argc, argv);
	if (fflush(stdout) != 0)
		code = SEG_EXIT_SYSTEM;
	dup2(saved, STDOUT_FILENO);
	close(saved);
out:
	if (af) {
		if (code <= max_ok && atomic_file_commit(af) < 0)
			code = SEG_EXIT_SYSTEM;
		else if (code > max_ok)
			atomic_file_abort(af);
	} else {
		close(fd);
	}
	return code;
}

/* The JSON a command wrote; NULL (and a message) when it does not parse. */
static json_t *load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	if (!j)
		out_fail(SEG_EXIT_SYSTEM, "demo: %s:%d:%d: %s", path, err.line, err.column,
			 err.text);
	return j;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* ------------------------------------------------------------------ */
/* The steps: each returns an exit code and adds its numbers to d->sum. */

static int step_check(struct demo *d)
{
	char *argv[] = {"check", (char *)d->inv_dir, NULL};
	struct diag_list *dl = NULL;
	char *ppath = NULL;
	int code = run_into(cmd_check, argv, NULL, SEG_EXIT_OK);
	if (code != SEG_EXIT_OK)
		return code;
	if (!(dl = diag_list_new()) || !(ppath = path_in(d->inv_dir, "policy.yaml"))) {
		code = SEG_EXIT_SYSTEM;
		goto out;
	}
	int r = inventory_load(d->inv_dir, dl, &d->inv);
	if (r == 0)
		r = policy_load(ppath, NULL, d->inv, d->date, dl, &d->policy);
	if ((code = out_input_code(dl, r)) != SEG_EXIT_OK) {
		out_diags(dl);
		goto out;
	}
	size_t sites = 0, fibre = 0;
	for (size_t i = 0; i < d->inv->nsites; i++) {
		if (d->inv->sites[i].type == SITE_DATA_CENTRE)
			continue;
		sites++;
		fibre += d->inv->sites[i].broadband == BB_FIBRE;
	}
	json_object_set_new(
	    d->sum, "inventory",
	    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f}", "dir", d->inv_dir, "sites",
		      (json_int_t)d->inv->nsites, "links", (json_int_t)d->inv->nlinks, "segments",
		      (json_int_t)d->inv->nsegments, "sites_needing_broadband", (json_int_t)sites,
		      "fibre_sites", (json_int_t)fibre, "fibre_share_pct", pct(fibre, sites)));
out:
	free(ppath);
	diag_list_free(dl);
	return code;
}

static int step_topology(struct demo *d)
{
	char *json = path_in(d->out, "topology.json"), *svg = path_in(d->out, "map.svg"),
	     *geo = path_in(d->out, "city.geojson");
	char *argv[] = {"topology", (char *)d->inv_dir, "--json", NULL};
	struct topo *t = NULL;
	struct topo_resilience res;
	bool have_res = false;
	int code = SEG_EXIT_SYSTEM, r = 0;
	if (!json || !svg || !geo) {
		r = -ENOMEM;
		goto out;
	}
	if ((code = run_into(cmd_topology, argv, json, SEG_EXIT_OK)) != SEG_EXIT_OK)
		goto out;
	code = SEG_EXIT_SYSTEM;
	if ((r = topo_new(d->inv, NULL, &t)) < 0 || (r = topo_resilience(t, &res)) < 0)
		goto out;
	have_res = true;
	if ((r = export_write(t, &res, EXPORT_SVG, svg)) < 0 ||
	    (r = export_write(t, &res, EXPORT_GEOJSON, geo)) < 0)
		goto out;
	json_object_set_new(d->sum, "topology",
			    json_pack("{s:I, s:I, s:{s:I, s:I, s:I}}", "spof_sites",
				      (json_int_t)res.nspof_sites, "spof_links",
				      (json_int_t)res.nspof_links, "classes", "redundant",
				      (json_int_t)res.class_count[TOPO_CLASS_REDUNDANT], "single",
				      (json_int_t)res.class_count[TOPO_CLASS_SINGLE], "cut_off",
				      (json_int_t)res.class_count[TOPO_CLASS_CUT_OFF]));
	code = SEG_EXIT_OK;
out:
	if (code == SEG_EXIT_SYSTEM && r < 0)
		out_fail(code, "demo: topology: %s", strerror(-r));
	if (have_res)
		topo_resilience_free(&res);
	topo_free(t);
	free(json);
	free(svg);
	free(geo);
	return code;
}

static int step_compile(struct demo *d)
{
	char *dir = path_in(d->out, "rules");
	struct pol_compile_opts o = {.mode = POL_MODE_ENFORCE};
	struct pol_compile_stats st;
	int r = dir ? pol_compile(d->policy, d->inv, dir, &o, &st) : -ENOMEM;
	if (r < 0) {
		free(dir);
		return out_fail(SEG_EXIT_SYSTEM, "demo: policy compile: %s", strerror(-r));
	}
	json_object_set_new(d->sum, "policy",
			    json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "rules_dir", dir, "mode",
				      pol_mode_names[o.mode], "gateways", (json_int_t)st.gateways,
				      "rules", (json_int_t)st.rules, "set_elements",
				      (json_int_t)st.elements, "bytes", (json_int_t)st.bytes));
	free(dir);
	return SEG_EXIT_OK;
}

/* The instant the reachability counts judge at: 10:00 UTC on the day judged (--date or
 * today), when the vendors' working-day windows are open on a working day. */
static int64_t count_instant(const struct demo *d, char *text, size_t size)
{
	long days;
	time_t now = time(NULL);
	struct tm tm;
	char day[11];
	if (d->date)
		snprintf(day, sizeof(day), "%s", d->date);
	else if (!gmtime_r(&now, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d", &tm))
		snprintf(day, sizeof(day), "1970-01-01");
	if (!policy_parse_date(day, &days))
		days = 0;
	snprintf(text, size, "%sT10:00:00Z", day);
	return (int64_t)days * 86400 + 10 * 3600;
}

/* Every probe's counts of one policy, or NULL (errno in *rc). */
static json_t *count_policy(const struct demo *d, const struct policy *p, int64_t when,
			    struct reach_counts *c, json_t **meta, int *rc)
{
	struct reach *r;
	if ((*rc = reach_new(p, d->inv, when, true, &r)) < 0)
		return NULL;
	for (size_t k = 0; k < reach_nprobes && *rc == 0; k++)
		*rc = reach_count(r, &reach_probes[k], &c[k]);
	if (*rc == 0 && meta) {
		char inet[IP_PREFIX_STRLEN] = "";
		if (reach_internet(r))
			ip_addr_format(reach_internet(r), inet, sizeof(inet));
		struct reach_space sp;
		reach_space(r, &sp);
		*meta = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s}", "addresses",
				  (json_int_t)sp.addresses, "sited", (json_int_t)sp.sited, "pairs",
				  (json_int_t)sp.pairs, "pieces", (json_int_t)sp.pieces, "classes",
				  (json_int_t)sp.classes, "internet", inet);
	}
	reach_free(r);
	return *rc == 0 ? json_true() : NULL;
}

static json_t *counts_json(const struct reach_counts *c)
{
	return json_pack("{s:I, s:I, s:I}", "inside", (json_int_t)c->inside, "to_internet",
			 (json_int_t)c->to_internet, "from_internet", (json_int_t)c->from_internet);
}

/* The share of before that after no longer has, in per cent (negative: it has more). */
static double closed_pct(json_int_t before, json_int_t after)
{
	return before ? 100.0 * (double)(before - after) / (double)before : 0.0;
}

static json_int_t jget(const json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

/* The reachable pairs before and after, as a table (docs/demo.md). */
static int write_stage2_text(const char *path, const json_t *j)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	const json_t *m = json_object_get(j, "space");
	fprintf(f,
		"What %s closes compared with %s, at %s.\n"
		"pairs: ordered pairs of the city's own IPv4 addresses that can open a connection\n"
		"(%" JSON_INTEGER_FORMAT " addresses in segments and VPN pools, the gateways' own "
		"left out; of their pairs a gateway\njudges, %" JSON_INTEGER_FORMAT
		" have a source outside the management networks, which reach everything in both).\n"
		"to inet: addresses at a site outside the management networks that can open one "
		"to the internet (%s).\n\n",
		json_string_value(json_object_get(j, "policy")),
		json_string_value(json_object_get(j, "baseline")),
		json_string_value(json_object_get(j, "instant")),
		json_integer_value(json_object_get(m, "addresses")),
		json_integer_value(json_object_get(m, "pairs")),
		json_string_value(json_object_get(m, "internet")));
	fprintf(f, "%-11s %-10s %18s %18s %8s %12s %12s\n", "service", "port", "pairs before",
		"pairs after", "closed", "to inet bef.", "to inet aft.");
	size_t i;
	json_t *sv;
	json_array_foreach(json_object_get(j, "services"), i, sv)
	{
		json_int_t b = jget(sv, "before", "inside"), a = jget(sv, "after", "inside");
		char port[24];
		snprintf(port, sizeof(port), "%s/%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(sv, "proto")) == 6 ? "tcp" : "udp",
			 json_integer_value(json_object_get(sv, "port")));
		char closed[16];
		if (b == 0)
			snprintf(closed, sizeof(closed), "%s", a ? "opened" : "-");
		else
			snprintf(closed, sizeof(closed), "%.1f%%", closed_pct(b, a));
		fprintf(f,
			"%-11s %-10s %18" JSON_INTEGER_FORMAT " %18" JSON_INTEGER_FORMAT
			" %8s %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "\n",
			json_string_value(json_object_get(sv, "name")), port, b, a, closed,
			jget(sv, "before", "to_internet"), jget(sv, "after", "to_internet"));
	}
	json_int_t tb = jget(j, "total", "before"), ta = jget(j, "total", "after");
	fprintf(f, "%-11s %-10s %18" JSON_INTEGER_FORMAT " %18" JSON_INTEGER_FORMAT " %7.1f%%\n",
		"all", "", tb, ta, closed_pct(tb, ta));
	fprintf(f, "\nsegplan policy diff: %" JSON_INTEGER_FORMAT " changes (%s)\n",
		jget(j, "diff", "changes"),
		json_string_value(json_object_get(json_object_get(j, "diff"), "file")));
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	int rc = atomic_write(path, buf, len);
	free(buf);
	return rc;
}

/*
 * The stage-2 policy beside policy.yaml: compiled into DIR/rules-stage2, and what it
 * closes against policy.yaml counted exactly (report/reach.h) into DIR/stage2.json and
 * DIR/stage2.txt. `segplan policy diff` of the two goes into DIR/policy-diff-stage2.json:
 * the packet classes whose verdict changes (docs/policy-lint.md).
 */
static int step_stage2(struct demo *d)
{
	char *ppath = path_in(d->inv_dir, "policy-stage2.yaml"),
	     *dir = path_in(d->out, "rules-stage2"), *jpath = path_in(d->out, "stage2.json"),
	     *tpath = path_in(d->out, "stage2.txt"),
	     *dpath = path_in(d->out, "policy-diff-stage2.json");
	struct diag_list *dl = diag_list_new();
	struct reach_counts before[16], after[16];
	json_t *j = NULL, *meta = NULL, *svc = NULL, *dj = NULL;
	int code = SEG_EXIT_SYSTEM, rc = -ENOMEM;
	if (!ppath || !dir || !jpath || !tpath || !dpath || !dl || reach_nprobes > 16)
		goto out;
	if (access(ppath, F_OK) != 0) {
		code = SEG_EXIT_OK; /* nothing to compare: the step says so */
		json_object_set_new(d->sum, "stage2", json_null());
		goto out;
	}
	rc = policy_load(ppath, NULL, d->inv, d->date, dl, &d->stage2);
	out_diags(dl);
	if ((code = out_input_code(dl, rc)) != SEG_EXIT_OK)
		goto out;
	code = SEG_EXIT_SYSTEM;
	struct pol_compile_opts o = {.mode = POL_MODE_ENFORCE};
	struct pol_compile_stats st;
	if ((rc = pol_compile(d->stage2, d->inv, dir, &o, &st)) < 0)
		goto out;
	char instant[32];
	int64_t when = count_instant(d, instant, sizeof(instant));
	if (!count_policy(d, d->policy, when, before, NULL, &rc) ||
	    !count_policy(d, d->stage2, when, after, &meta, &rc))
		goto out;
	rc = -ENOMEM;
	uint64_t tb = 0, ta = 0;
	if (!(svc = json_array()))
		goto out;
	for (size_t k = 0; k < reach_nprobes; k++) {
		tb += before[k].inside;
		ta += after[k].inside;
		json_array_append_new(
		    svc,
		    json_pack("{s:s, s:i, s:i, s:o, s:o}", "name", reach_probes[k].name, "proto",
			      reach_probes[k].proto, "port", reach_probes[k].dport, "before",
			      counts_json(&before[k]), "after", counts_json(&after[k])));
	}
	/* The hook: diff's view of the same comparison (packet classes whose verdict changes). */
	char *argv[] = {"diff", (char *)d->inv_dir, (char *)d->inv_dir,	       "--new-policy",
			ppath,	"--json",	    d->date ? "--date" : NULL, (char *)d->date,
			NULL};
	int dc = run_into(policy_cmd_diff, argv, dpath, SEG_EXIT_FINDINGS);
	if (dc > SEG_EXIT_FINDINGS) {
		code = dc;
		goto out;
	}
	if (!(dj = load_json(dpath)))
		goto out;
	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:{s:I, s:I}, s:{s:s, s:I}}",
		      "policy", ppath, "baseline", d->policy->file, "rules_dir", dir, "instant",
		      instant, "gateways", (json_int_t)st.gateways, "rules", (json_int_t)st.rules,
		      "set_elements", (json_int_t)st.elements, "space", meta, "services", svc,
		      "total", "before", (json_int_t)tb, "after", (json_int_t)ta, "diff", "file",
		      dpath, "changes",
		      (json_int_t)json_array_size(json_object_get(dj, "changes")));
	meta = svc = NULL;
	if (!j)
		goto out;
	if ((rc = out_json_file(jpath, j)) < 0 || (rc = write_stage2_text(tpath, j)) < 0)
		goto out;
	json_object_set(d->sum, "stage2", j);
	code = SEG_EXIT_OK;
out:
	if (code == SEG_EXIT_SYSTEM)
		out_fail(code, "demo: stage 2: %s", strerror(rc < 0 ? -rc : ENOMEM));
	json_decref(j);
	json_decref(meta);
	json_decref(svc);
	json_decref(dj);
	diag_list_free(dl);
	free(ppath);
	free(dir);
	free(jpath);
	free(tpath);
	free(dpath);
	return code;
}

static int step_vpn(struct demo *d)
{
	char *path = path_in(d->out, "vpn.json");
	char *argv[] = {"vpn", (char *)d->inv_dir, "--json", NULL};
	json_t *j = NULL;
	/* Exit 1 is a finding (the users do not fit somewhere): the demo shows it. */
	int code = path ? run_into(cmd_vpn, argv, path, SEG_EXIT_FINDINGS) : SEG_EXIT_SYSTEM;
	if (code > SEG_EXIT_FINDINGS)
		goto out;
	if (!(j = load_json(path))) {
		code = SEG_EXIT_SYSTEM;
		goto out;
	}
	json_t *worst = json_object_get(json_object_get(j, "binding"), "worst");
	json_t *mx = json_object_get(j, "max_users");
	json_object_set_new(
	    d->sum, "vpn",
	    json_pack(
		"{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "accounts", json_object_get(j, "accounts"),
		"binding_state", json_object_get(worst, "state"), "binding_resource",
		json_object_get(worst, "resource"), "headroom_pct",
		json_object_get(worst, "headroom_pct"), "max_users_single_failure",
		json_object_get(mx, "worst_single_failure"), "fits", json_object_get(j, "fits")));
	code = SEG_EXIT_OK;
out:
	json_decref(j);
	free(path);
	return code;
}

static int step_rollout(struct demo *d)
{
	char *csv = path_in(d->out, "rollout.csv"), *json = path_in(d->out, "rollout.json");
	char *acsv[] = {"rollout", (char *)d->inv_dir, "--csv", NULL};
	char *ajson[] = {"rollout", (char *)d->inv_dir, "--json", NULL};
	json_t *j = NULL, *per_year = json_array();
	int code = SEG_EXIT_SYSTEM;
	if (!csv || !json || !per_year)
		goto out;
	if ((code = run_into(cmd_rollout, acsv, csv, SEG_EXIT_OK)) != SEG_EXIT_OK ||
	    (code = run_into(cmd_rollout, ajson, json, SEG_EXIT_OK)) != SEG_EXIT_OK)
		goto out;
	if (!(j = load_json(json))) {
		code = SEG_EXIT_SYSTEM;
		goto out;
	}
	size_t i;
	json_t *y;
	json_array_foreach(json_object_get(j, "years"), i, y)
	{
		json_array_append_new(
		    per_year,
		    json_pack("{s:O?, s:I}", "year", json_object_get(y, "calendar_year"), "sites",
			      (json_int_t)json_array_size(json_object_get(y, "sites"))));
	}
	json_t *sites = json_object_get(j, "sites");
	json_object_set_new(
	    d->sum, "rollout",
	    json_pack("{s:O?, s:O?, s:O, s:I, s:O?, s:O?, s:O?}", "to_connect",
		      json_object_get(sites, "to_connect"), "fibre_sites",
		      json_object_get(sites, "fibre"), "per_year", per_year, "not_planned",
		      (json_int_t)json_array_size(json_object_get(j, "not_planned")), "value",
		      json_object_get(j, "value"), "bound", json_object_get(j, "bound"), "gap",
		      json_object_get(j, "gap")));
out:
	json_decref(per_year);
	json_decref(j);
	free(csv);
	free(json);
	return code;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .pcap files of INVENTORY/traffic, or captures generated into DIR/traffic when there are none.
 */
static int find_captures(struct demo *d, json_t *agent)
{
	char *dir = path_in(d->inv_dir, "traffic");
	DIR *dh = dir ? opendir(dir) : NULL;
	struct dirent *e;
	bool generated = false;
	if (!dir)
		return SEG_EXIT_SYSTEM;
	while (dh && (e = readdir(dh)) && d->ncaptures < MAX_CAPTURES) {
		size_t n = strlen(e->d_name);
		if (n > 5 && strcmp(e->d_name + n - 5, ".pcap") == 0 && e->d_name[0] != '.' &&
		    !(d->captures[d->ncaptures++] = path_in(dir, e->d_name)))
			break;
	}
	if (dh)
		closedir(dh);
	if (!d->ncaptures) {
		/* No committed captures: the same generator `segplan example` uses. */
		int sites[TRAFFIC_DEFAULT_GATEWAYS];
		size_t n = traffic_pick_gateways(d->inv, TRAFFIC_DEFAULT_GATEWAYS, sites);
		free(dir);
		if (!(dir = path_in(d->out, "traffic")))
			return SEG_EXIT_SYSTEM;
		int r = traffic_generate(d->inv, n, 1, dir, NULL);
		if (r < 0) {
			out_fail(SEG_EXIT_SYSTEM, "demo: cannot write captures into %s: %s", dir,
				 strerror(-r));
			free(dir);
			return SEG_EXIT_SYSTEM;
		}
		for (size_t i = 0; i < n; i++) {
			char name[64];
			snprintf(name, sizeof(name), "%s.pcap", d->inv->sites[sites[i]].id);
			if (!(d->captures[d->ncaptures++] = path_in(dir, name)))
				break;
		}
		generated = true;
	}
	for (size_t i = 0; i < d->ncaptures; i++)
		if (!d->captures[i]) {
			free(dir);
			return SEG_EXIT_SYSTEM;
		}
	qsort(d->captures, d->ncaptures, sizeof(*d->captures), str_cmp);
	json_object_set_new(agent, "captures_dir", json_string(dir));
	json_object_set_new(agent, "captures_generated", json_boolean(generated));
	free(dir);
	return SEG_EXIT_OK;
}

/* The segplan-agent beside the running segplan, or in agent/ beside it (a build tree). */
static char *agent_path(void)
{
	char self[PATH_MAX], *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	const char *dir = dirname(self);
	if (asprintf(&p, "%s/segplan-agent", dir) < 0)
		return NULL;
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	if (asprintf(&p, "%s/agent/segplan-agent", dir) < 0)
		return NULL;
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* Runs the agent over one capture; its statistics (JSON) go to stats. An exit code. */
static int spawn_agent(const char *agent, char *const argv[], const char *stats)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return SEG_EXIT_SYSTEM;
	int r = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, stats,
						 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (r == 0)
		r = posix_spawn(&pid, agent, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		out_fail(SEG_EXIT_SYSTEM, "demo: cannot start %s: %s", agent, strerror(r));
		return SEG_EXIT_SYSTEM;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return SEG_EXIT_SYSTEM;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return SEG_EXIT_OK;
	out_fail(SEG_EXIT_FINDINGS, "demo: %s --read %s failed (%s %d)", agent, argv[2],
		 WIFEXITED(status) ? "exit" : "signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return SEG_EXIT_FINDINGS;
}

static json_int_t jint(const json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

static int step_agent(struct demo *d)
{
	json_t *agent = json_object();
	char *bin = agent_path(), *sdir = path_in(d->out, "summaries"),
	     *fdir = path_in(d->out, "flows");
	json_int_t packets = 0, flows = 0, counted = 0, denied = 0;
	int code = SEG_EXIT_SYSTEM;
	if (!agent || !sdir || !fdir)
		goto out;
	if (!bin) {
		code =
		    out_fail(SEG_EXIT_FINDINGS,
			     "demo: no segplan-agent beside this segplan (build it: make build)");
		goto out;
	}
	int r = mkdir_p(sdir);
	if (r < 0 || (r = mkdir_p(fdir)) < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "demo: cannot create the directories in %s: %s",
				d->out, strerror(-r));
		goto out;
	}
	if ((code = find_captures(d, agent)) != SEG_EXIT_OK)
		goto out;
	for (size_t i = 0; i < d->ncaptures && code == SEG_EXIT_OK; i++) {
		char *base = strrchr(d->captures[i], '/') + 1, site[64], *pol, *flo, *stats;
		snprintf(site, sizeof(site), "%.*s", (int)(strlen(base) - 5), base);
		pol = NULL;
		flo = NULL;
		stats = NULL;
		if (asprintf(&pol, "%s/rules/%s.policy.json", d->out, site) < 0 ||
		    asprintf(&d->summaries[i], "%s/%s.json", sdir, site) < 0 ||
		    asprintf(&flo, "%s/%s.jsonl", fdir, site) < 0 ||
		    asprintf(&stats, "%s/%s.stats.json", sdir, site) < 0) {
			code = SEG_EXIT_SYSTEM;
		} else {
			char *argv[] = {"segplan-agent", "--read",	d->captures[i],
					"--policy",	 pol,		"--summary",
					d->summaries[i], "--flows-out", flo,
					"--stats",	 NULL};
			code = spawn_agent(bin, argv, stats);
		}
		json_t *s = code == SEG_EXIT_OK ? load_json(d->summaries[i]) : NULL;
		if (code == SEG_EXIT_OK && !s)
			code = SEG_EXIT_SYSTEM;
		if (s) {
			packets += jint(s, "capture", "packets_read");
			flows += jint(s, "flows", "connections");
			counted += jint(s, "flows", "counted");
			denied += jint(s, "denied", "flows");
			json_decref(s);
		}
		free(pol);
		free(flo);
		free(stats);
	}
	if (code != SEG_EXIT_OK)
		goto out;
	json_object_set_new(agent, "summaries_dir", json_string(sdir));
	json_object_set_new(agent, "gateways", json_integer((json_int_t)d->ncaptures));
	json_object_set_new(agent, "packets", json_integer(packets));
	json_object_set_new(agent, "flows", json_integer(flows));
	json_object_set_new(agent, "counted", json_integer(counted));
	json_object_set_new(agent, "denied", json_integer(denied));
	json_object_set_new(d->sum, "agent", agent);
	agent = NULL;
out:
	json_decref(agent);
	free(bin);
	free(sdir);
	free(fdir);
	return code;
}

static int step_audit(struct demo *d)
{
	struct diag_list *dl = diag_list_new();
	struct audit *au = NULL;
	struct audit_report *r = NULL;
	char *json = path_in(d->out, "audit.json"), *sug = path_in(d->out, "suggested-rules.yaml"),
	     *yaml = NULL;
	json_t *j = NULL;
	int code = SEG_EXIT_SYSTEM, rc = -ENOMEM;
	if (!dl || !json || !sug)
		goto out;
	rc = audit_new(d->policy, d->inv, NULL, &au);
	if (rc == 0)
		rc = audit_add_files(au, (const char *const *)d->summaries, d->ncaptures, dl);
	out_diags(dl);
	if (out_input_code(dl, rc) == SEG_EXIT_INPUT) {
		code = out_fail(SEG_EXIT_INPUT, "demo: audit: a summary was refused");
		goto out;
	}
	if (rc < 0 || (rc = audit_report(au, &r)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(j = audit_report_json(r, d->policy, d->inv)) ||
	    !(yaml = audit_suggest_yaml(r, d->policy, d->inv)))
		goto out;
	if ((rc = out_json_file(json, j)) < 0 || (rc = atomic_write(sug, yaml, strlen(yaml))) < 0)
		goto out;
	json_object_set_new(
	    d->sum, "audit",
	    json_pack("{s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I}", "summaries",
		      (json_int_t)r->nsummaries, "flows", (json_int_t)r->total.flows, "covered",
		      (json_int_t)r->covered.flows, "denied_flows", (json_int_t)r->denied.flows,
		      "coverage_pct", pct(r->covered.flows, r->total.flows), "denials",
		      (json_int_t)r->ndenials, "unused_rules", (json_int_t)r->unused, "suggestions",
		      (json_int_t)r->nsuggestions, "foreign", (json_int_t)r->nforeign));
	code = SEG_EXIT_OK;
out:
	if (code == SEG_EXIT_SYSTEM)
		out_fail(code, "demo: audit: %s", strerror(rc < 0 ? -rc : ENOMEM));
	json_decref(j);
	free(yaml);
	free(json);
	free(sug);
	audit_report_free(r);
	audit_free(au);
	diag_list_free(dl);
	return code;
}

static int step_report(struct demo *d)
{
	struct diag_list *dl = diag_list_new();
	struct report_data *rd = NULL;
	char *path = path_in(d->out, "report.html"), day[11];
	int code = SEG_EXIT_SYSTEM, r = -ENOMEM;
	if (!dl || !path)
		goto out;
	struct report_data_opts o = {.date = d->date,
				     .summaries = (const char *const *)d->summaries,
				     .nsummaries = d->ncaptures};
	r = report_data_load(d->inv_dir, &o, dl, &rd);
	out_diags(dl);
	if (out_input_code(dl, r) == SEG_EXIT_INPUT) {
		code = SEG_EXIT_INPUT;
		goto out;
	}
	if (r == -ENOSPC) {
		code = out_fail(SEG_EXIT_FINDINGS, "demo: report: no rollout plan fits the budget");
		goto out;
	}
	if (r < 0)
		goto out;
	time_t now = time(NULL);
	struct tm tm;
	if (d->date)
		snprintf(day, sizeof(day), "%s", d->date);
	else if (!gmtime_r(&now, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d", &tm))
		snprintf(day, sizeof(day), "unknown");
	struct report_input in = {.title = "segplan demo", .source = d->inv_dir, .generated = day};
	report_data_input(rd, &in);
	if ((r = report_write_file(&in, path)) < 0)
		goto out;
	code = SEG_EXIT_OK;
out:
	if (code == SEG_EXIT_SYSTEM)
		out_fail(code, "demo: report: %s", strerror(-r));
	report_data_free(rd);
	free(path);
	diag_list_free(dl);
	return code;
}

/* ------------------------------------------------------------------ */

static const char *const outputs[] = {
    "topology.json", "map.svg",	    "city.geojson",	    "rules/",
    "vpn.json",	     "rollout.csv", "rollout.json",	    "summaries/",
    "flows/",	     "audit.json",  "suggested-rules.yaml", "report.html",
};
#define NOUTPUTS (sizeof(outputs) / sizeof(outputs[0]))
/* With a stage-2 policy, also: */
static const char *const outputs2[] = {"rules-stage2/", "stage2.json", "stage2.txt",
				       "policy-diff-stage2.json"};
#define NOUTPUTS2 (sizeof(outputs2) / sizeof(outputs2[0]))

static json_int_t geti(const json_t *s, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(s, a), b));
}

static double getr(const json_t *s, const char *a, const char *b)
{
	return json_number_value(json_object_get(json_object_get(s, a), b));
}

static const char *gets_(const json_t *s, const char *a, const char *b)
{
	const char *v = json_string_value(json_object_get(json_object_get(s, a), b));
	return v ? v : "?";
}

static void print_summary(const struct demo *d)
{
	const json_t *s = d->sum;
	printf("\nsegplan demo: %s -> %s in %.1f s\n\n", d->inv_dir, d->out,
	       json_real_value(json_object_get(s, "seconds")));
	printf("  sites      %" JSON_INTEGER_FORMAT " sites, %" JSON_INTEGER_FORMAT
	       " links; %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
	       " sites on fibre (%.1f %%)\n",
	       geti(s, "inventory", "sites"), geti(s, "inventory", "links"),
	       geti(s, "inventory", "fibre_sites"), geti(s, "inventory", "sites_needing_broadband"),
	       getr(s, "inventory", "fibre_share_pct"));
	const json_t *cl = json_object_get(json_object_get(s, "topology"), "classes");
	printf("  topology   single points of failure: %" JSON_INTEGER_FORMAT
	       " sites, %" JSON_INTEGER_FORMAT " links; redundancy classes: %" JSON_INTEGER_FORMAT
	       " redundant, %" JSON_INTEGER_FORMAT " single, %" JSON_INTEGER_FORMAT " cut off\n",
	       geti(s, "topology", "spof_sites"), geti(s, "topology", "spof_links"),
	       json_integer_value(json_object_get(cl, "redundant")),
	       json_integer_value(json_object_get(cl, "single")),
	       json_integer_value(json_object_get(cl, "cut_off")));
	printf("  policy     %" JSON_INTEGER_FORMAT " gateways compiled (%s): %" JSON_INTEGER_FORMAT
	       " rules, %" JSON_INTEGER_FORMAT " set elements\n",
	       geti(s, "policy", "gateways"), gets_(s, "policy", "mode"),
	       geti(s, "policy", "rules"), geti(s, "policy", "set_elements"));
	const json_t *s2 = json_object_get(s, "stage2");
	if (json_is_object(s2)) {
		json_int_t tb = geti(s2, "total", "before"), ta = geti(s2, "total", "after");
		printf(
		    "  stage 2    %" JSON_INTEGER_FORMAT " gateways compiled: %" JSON_INTEGER_FORMAT
		    " rules, %" JSON_INTEGER_FORMAT " set elements; reachable address pairs "
		    "(%zu services): %" JSON_INTEGER_FORMAT " -> %" JSON_INTEGER_FORMAT
		    " (%.1f %% closed)\n",
		    json_integer_value(json_object_get(s2, "gateways")),
		    json_integer_value(json_object_get(s2, "rules")),
		    json_integer_value(json_object_get(s2, "set_elements")),
		    json_array_size(json_object_get(s2, "services")), tb, ta, closed_pct(tb, ta));
	}
	printf("  vpn        %" JSON_INTEGER_FORMAT " accounts; binding: %s in state %s, %.1f %% "
	       "headroom; %" JSON_INTEGER_FORMAT " users carried with any single failure\n",
	       geti(s, "vpn", "accounts"), gets_(s, "vpn", "binding_resource"),
	       gets_(s, "vpn", "binding_state"), getr(s, "vpn", "headroom_pct"),
	       geti(s, "vpn", "max_users_single_failure"));
	printf("  rollout    %" JSON_INTEGER_FORMAT " sites to connect; per year:",
	       geti(s, "rollout", "to_connect"));
	size_t i;
	json_t *y;
	json_array_foreach(json_object_get(json_object_get(s, "rollout"), "per_year"), i, y)
	{
		printf(" %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT ")",
		       json_integer_value(json_object_get(y, "sites")),
		       json_integer_value(json_object_get(y, "year")));
	}
	printf("; %" JSON_INTEGER_FORMAT " not planned; gap to the bound %.2f %%\n",
	       geti(s, "rollout", "not_planned"), 100 * getr(s, "rollout", "gap"));
	printf("  agent      %" JSON_INTEGER_FORMAT " gateways, %" JSON_INTEGER_FORMAT
	       " packets, %" JSON_INTEGER_FORMAT " flows seen, %" JSON_INTEGER_FORMAT " counted\n",
	       geti(s, "agent", "gateways"), geti(s, "agent", "packets"), geti(s, "agent", "flows"),
	       geti(s, "agent", "counted"));
	printf("  audit      coverage %.1f %% (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
	       " flows by an accept rule); %" JSON_INTEGER_FORMAT
	       " denied flows in %" JSON_INTEGER_FORMAT
	       " zone pairs and services; %" JSON_INTEGER_FORMAT " suggested rules\n",
	       getr(s, "audit", "coverage_pct"), geti(s, "audit", "covered"),
	       geti(s, "audit", "flows"), geti(s, "audit", "denied_flows"),
	       geti(s, "audit", "denials"), geti(s, "audit", "suggestions"));
	printf("\noutputs:\n");
	for (size_t k = 0; k < NOUTPUTS; k++)
		printf("  %s/%s\n", d->out, outputs[k]);
	for (size_t k = 0; d->stage2 && k < NOUTPUTS2; k++)
		printf("  %s/%s\n", d->out, outputs2[k]);
}

static const struct {
	const char *name;
	int (*run)(struct demo *d);
} steps[] = {
    {"check", step_check},    {"topology", step_topology}, {"policy compile", step_compile},
    {"stage 2", step_stage2}, {"vpn", step_vpn},	   {"rollout", step_rollout},
    {"agent", step_agent},    {"audit", step_audit},	   {"report", step_report},
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

int cmd_demo(int argc, char **argv)
{
	struct demo d = {.inv_dir = DEFAULT_INVENTORY, .out = DEFAULT_OUT};
	const char *bad = out_inexact_option(argc, argv, longopts);
	int c, code = SEG_EXIT_OK;
	if (bad)
		return out_usage(usage, "demo: unknown option '%s'", bad);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:i:d:", longopts, NULL)) != -1) {
		long days;
		switch (c) {
		case 'h':
			return out_help(usage);
		case 'o':
			d.out = optarg;
			break;
		case 'i':
			d.inv_dir = optarg;
			break;
		case 'd':
			if (!policy_parse_date(optarg, &days))
				return out_usage(usage, "demo: --date needs YYYY-MM-DD, not '%s'",
						 optarg);
			d.date = optarg;
			break;
		case 'j':
			d.json = true;
			break;
		case ':':
			return out_usage(usage, "demo: option '%s' needs a value",
					 argv[optind - 1]);
		default:
			return out_usage(usage, "demo: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return out_usage(usage, "demo: unexpected argument '%s'", argv[optind]);
	if (!*d.out || !*d.inv_dir)
		return out_usage(usage, "demo: --out and --inventory need a directory");
	struct stat st;
	if (stat(d.inv_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return out_fail(SEG_EXIT_INPUT,
				"demo: no inventory directory %s (run segplan demo in the source "
				"tree, or give --inventory DIR)",
				d.inv_dir);
	if (!(d.sum = json_object()))
		return out_fail(SEG_EXIT_SYSTEM, "demo: out of memory");
	clock_gettime(CLOCK_MONOTONIC, &d.t0);
	for (size_t i = 0; i < NSTEPS && code == SEG_EXIT_OK; i++) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (!d.json) {
			printf("[%zu/%zu] %-15s", i + 1, NSTEPS, steps[i].name);
			fflush(stdout);
		}
		code = steps[i].run(&d);
		/* The first step checks every input file: DIR is made only for valid input. */
		int r;
		if (i == 0 && code == SEG_EXIT_OK && (r = mkdir_p(d.out)) < 0)
			code = out_fail(SEG_EXIT_SYSTEM, "demo: cannot create %s: %s", d.out,
					strerror(-r));
		if (!d.json)
			printf(" %s (%.2f s)\n", code == SEG_EXIT_OK ? "ok" : "FAILED",
			       elapsed(&t));
		if (code != SEG_EXIT_OK)
			fprintf(stderr, "segplan demo: step '%s' failed (exit %d)\n", steps[i].name,
				code);
	}
	if (code == SEG_EXIT_OK) {
		json_object_set_new(d.sum, "out", json_string(d.out));
		json_object_set_new(d.sum, "seconds", json_real(elapsed(&d.t0)));
		json_t *o = json_array();
		for (size_t k = 0; o && k < NOUTPUTS + (d.stage2 ? NOUTPUTS2 : 0); k++) {
			char *p =
			    path_in(d.out, k < NOUTPUTS ? outputs[k] : outputs2[k - NOUTPUTS]);
			json_array_append_new(o, json_string(p ? p : ""));
			free(p);
		}
		json_object_set_new(d.sum, "outputs", o);
		if (d.json) {
			code = out_json(json_incref(d.sum));
		} else {
			print_summary(&d);
			if (fflush(stdout) != 0)
				code = SEG_EXIT_SYSTEM;
		}
	}
	for (size_t i = 0; i < d.ncaptures; i++) {
		free(d.captures[i]);
		free(d.summaries[i]);
	}
	json_decref(d.sum);
	policy_free(d.stage2);
	policy_free(d.policy);
	inventory_free(d.inv);
	return code;
}
