// SPDX-License-Identifier: MIT
/*
 * segplan audit on hand-made summaries (tests/golden/audit/ JSON files) of a small
 * inventory (tests/golden/audit/inventory): known coverage, denials, unused
 * rules and suggestions; merging windows and gateways; a flow between two
 * sites counted once; another policy kept apart; a truncated file located
 * and skipped; pseudonyms kept; and the suggested rules, inserted into a
 * copy of policy.yaml, letting every denied tuple pass pol_decide at every
 * gateway that judges it.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/flow.h"
#include "agent/summary.h"
#include "audit/audit.h"
#include "compile/compile.h"
#include "core/yamlread.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

#define GOLDEN "tests/golden/audit/"
#define DATE   "2026-11-26"

static const char *const current[] = {"s1-am.json", "s1-pm.json", "s2.json", "s3.json"};
#define NCURRENT 4

struct fx {
	struct inventory *inv;
	struct policy *p;
	struct diag_list *dl;
};

static void fx_load(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->dl = diag_list_new();
	cr_assert(f->dl);
	cr_assert_eq(inventory_load(tu_path(GOLDEN "inventory"), f->dl, &f->inv), 0, "%s",
		     tu_diags(f->dl));
	cr_assert_eq(policy_load(tu_path(GOLDEN "inventory/policy.yaml"), "policy.yaml", f->inv,
				 DATE, f->dl, &f->p),
		     0, "%s", tu_diags(f->dl));
}

static void fx_free(struct fx *f)
{
	policy_free(f->p);
	inventory_free(f->inv);
	diag_list_free(f->dl);
}

/* Audits the golden files named; returns the report (diagnostics in f->dl). */
static struct audit_report *run(struct fx *f, const char *const *names, size_t n)
{
	struct audit *a;
	struct audit_report *r;
	cr_assert_eq(audit_new(f->p, f->inv, NULL, &a), 0);
	for (size_t i = 0; i < n; i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), GOLDEN "%s", names[i]);
		int rc = audit_add_file(a, tu_path(rel), f->dl);
		cr_assert(rc == 0 || rc == -EINVAL, "%s: %d", names[i], rc);
	}
	cr_assert_eq(audit_report(a, &r), 0);
	audit_free(a);
	return r;
}

static const struct audit_denial *denial(const struct audit_report *r, const char *from,
					 const char *to, const char *svc)
{
	for (size_t i = 0; i < r->ndenials; i++) {
		char t[64];
		audit_svc_text(&r->denials[i].svc, t, sizeof(t));
		if (!strcmp(r->denials[i].from, from) && !strcmp(r->denials[i].to, to) &&
		    !strcmp(t, svc))
			return &r->denials[i];
	}
	return NULL;
}

static const struct audit_suggestion *suggestion(const struct audit_report *r, const char *id)
{
	for (size_t i = 0; i < r->nsuggestions; i++)
		if (!strcmp(r->suggestions[i].id, id))
			return &r->suggestions[i];
	return NULL;
}

static const struct audit_rule_use *use(const struct audit_report *r, const struct policy *p,
					const char *id)
{
	for (size_t i = 0; i < r->nrules; i++)
		if (!strcmp(p->rules[r->rules[i].rule].id, id))
			return &r->rules[i];
	return NULL;
}

static const struct audit_site *site(const struct audit_report *r, const char *id)
{
	for (size_t i = 0; i < r->nsites; i++)
		if (!strcmp(r->sites[i].site, id))
			return &r->sites[i];
	return NULL;
}

Test(audit, golden_summaries_carry_the_current_policy_hash)
{
	struct fx f;
	fx_load(&f);
	struct pol_build *b;
	cr_assert_eq(pol_build_new(f.p, f.inv, &b), 0);
	for (size_t i = 0; i < NCURRENT; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), GOLDEN "%s", current[i]);
		json_t *j = json_load_file(tu_path(rel), 0, NULL);
		cr_assert(j);
		const char *h =
		    json_string_value(json_object_get(json_object_get(j, "policy"), "hash"));
		cr_expect_str_eq(
		    h, pol_build_hash(b),
		    "%s: the policy hash changed: run tests/golden/audit/regenerate.sh", rel);
		json_decref(j);
	}
	pol_build_free(b);
	fx_free(&f);
}

Test(audit, coverage_per_site_and_overall)
{
	struct fx f;
	fx_load(&f);
	struct audit_report *r = run(&f, current, NCURRENT);
	cr_assert_eq(diag_errors(f.dl), 0, "%s", tu_diags(f.dl));
	/* Hand-counted from the golden files: accepted by a rule / all tuples. */
	cr_expect_eq(r->total.flows, 364);
	cr_expect_eq(r->covered.flows, 320);
	cr_expect_eq(r->denied.flows, 44);
	cr_expect_eq(r->total.bytes, 2981080);
	cr_expect_eq(r->denied.bytes, 251080);
	cr_expect_eq(r->covered.bytes, 2730000);
	cr_assert_eq(r->nsites, 3);
	const struct audit_site *s1 = site(r, "S1"), *s2 = site(r, "S2"), *s3 = site(r, "S3");
	cr_assert(s1 && s2 && s3);
	cr_expect_eq(s1->summaries, 2);
	cr_expect_eq(s1->total.flows, 257);
	cr_expect_eq(s1->covered.flows, 230);
	cr_expect_eq(s2->total.flows, 65);
	cr_expect_eq(s2->covered.flows, 50);
	cr_expect_eq(s3->total.flows, 42);
	cr_expect_eq(s3->covered.flows, 40);
	/* S2 ran in observe mode: its denials passed. */
	cr_expect_eq(r->passed, 15);
	cr_expect(audit_has_findings(r));
	audit_report_free(r);
	fx_free(&f);
}

Test(audit, denials_ranked_with_sites_rules_and_examples)
{
	struct fx f;
	fx_load(&f);
	struct audit_report *r = run(&f, current, NCURRENT);
	cr_assert_eq(r->ndenials, 12);
	for (size_t i = 1; i < r->ndenials; i++)
		cr_expect(r->denials[i - 1].c.flows >= r->denials[i].c.flows, "ranked by volume");
	const struct audit_denial *d = &r->denials[0];
	char t[64];
	audit_svc_text(&d->svc, t, sizeof(t));
	cr_expect_str_eq(d->from, "admin");
	cr_expect_str_eq(d->to, "servers");
	cr_expect_str_eq(t, "tcp/445");
	cr_expect_eq(d->c.flows, 16);
	cr_expect_eq(d->passed, 6, "the S2 share passed in observe mode");
	cr_assert_eq(d->nsites, 2);
	cr_expect_str_eq(d->sites[0], "S1");
	cr_expect_str_eq(d->sites[1], "S2");
	cr_assert_eq(d->nrules, 2);
	cr_expect_str_eq(d->rules[0], "s1-no-smb");
	cr_expect_null(d->rules[1], "the default drop");
	cr_assert_eq(d->nex, 3);
	cr_expect_str_eq(d->ex[0].src, "10.99.1.9");
	cr_expect_eq(d->ex[0].flows, 7);
	cr_expect_str_eq(d->ex[1].src, "10.99.2.9");
	cr_expect_str_eq(d->ex[2].src, "10.99.1.10");

	const struct audit_denial *ssh = denial(r, "admin", "voip", "tcp/22");
	cr_assert(ssh);
	cr_expect_eq(ssh->c.flows, 4, "another policy's 9 flows stay out");
	cr_expect_str_eq(ssh->rules[0], "admin-no-ssh");
	cr_assert(denial(r, "school", "admin", "icmp/echo-request"));
	cr_assert(denial(r, "school", "admin", "icmpv6/echo-request"));
	cr_assert(denial(r, "voip", "internet", "gre"));
	audit_report_free(r);
	fx_free(&f);
}

Test(audit, unused_rules_with_kernel_counters_per_apply_period)
{
	struct fx f;
	fx_load(&f);
	struct audit_report *r = run(&f, current, NCURRENT);
	cr_expect_eq(r->unused, 1);
	const struct audit_rule_use *u = use(r, f.p, "vendor-unused");
	cr_assert(u);
	cr_expect_eq(u->judged_at, 3);
	cr_expect_eq(u->hits.flows, 0);
	cr_expect(u->kernel);
	cr_expect_eq(u->kernel_packets, 0);
	/* No agent hit, but the kernel counted it: used. The reading of the
	 * afternoon (2) holds the morning's (1): the same apply period. */
	const struct audit_rule_use *m = use(r, f.p, "mgmt-all");
	cr_assert(m);
	cr_expect_eq(m->hits.flows, 0);
	cr_expect_eq(m->kernel_packets, 2);
	/* S1's afternoon reading (180) plus S3's own period (40). */
	const struct audit_rule_use *w = use(r, f.p, "office-web");
	cr_expect_eq(w->hits.flows, 220);
	cr_expect_eq(w->kernel_packets, 220);
	/* Only S1's gateway carries its exception. */
	cr_expect_eq(use(r, f.p, "s1-no-smb")->judged_at, 1);
	cr_expect_eq(use(r, f.p, "guest-internet")->judged_at, 1);
	audit_report_free(r);
	fx_free(&f);
}

Test(audit, suggestions_grouped_by_zone_pair_and_placed)
{
	struct fx f;
	fx_load(&f);
	struct audit_report *r = run(&f, current, NCURRENT);
	cr_assert_eq(r->nsuggestions, 7);
	cr_expect_eq(r->unresolved, 0);

	const struct audit_suggestion *v = suggestion(r, "audit-admin-voip");
	cr_assert(v);
	cr_expect_eq(v->site, -1);
	cr_assert_geq(v->before, 0);
	cr_expect_str_eq(f.p->rules[v->before].id, "admin-no-ssh", "before the earliest denier");
	char items[256] = "";
	for (size_t i = 0; i < v->nitems; i++) {
		char t[64];
		audit_item_text(&v->items[i], t, sizeof(t));
		strcat(items, i ? " " : "");
		strcat(items, t);
	}
	cr_expect_str_eq(items, "tcp/22 tcp/5060 udp/5060 udp/10000-10002",
			 "adjacent observed ports join, nothing unobserved is added");
	cr_assert_eq(v->nservices, 2);
	cr_expect_str_eq(v->services[0], "ssh", "an existing service wholly observed is reused");
	cr_expect_str_eq(v->services[1], "audit-admin-voip");
	cr_expect_eq(v->c.flows, 14);

	const struct audit_suggestion *ping = suggestion(r, "audit-school-admin");
	cr_assert(ping);
	cr_assert_eq(ping->nservices, 1);
	cr_expect_str_eq(ping->services[0], "ping");
	cr_expect_eq(ping->before, -1, "only the default denies it");

	/* Denied at S1 by its exception: an exception of S1, before it. */
	const struct audit_suggestion *ex = suggestion(r, "audit-s1-admin-servers");
	cr_assert(ex);
	cr_expect_str_eq(f.inv->sites[ex->site].id, "S1");
	cr_expect_str_eq(f.p->rules[ex->before].id, "s1-no-smb");
	cr_expect_eq(ex->c.flows, 10);
	const struct audit_suggestion *city = suggestion(r, "audit-admin-servers");
	cr_assert(city);
	cr_expect_eq(city->c.flows, 6);
	cr_expect_eq(city->before, -1);

	const struct audit_suggestion *gre = suggestion(r, "audit-voip-internet");
	cr_assert(gre);
	cr_expect_str_eq(gre->comment, "suggested by audit: 2 flows, 100000 bytes, review");
	cr_expect_str_eq(gre->owner, "security");
	audit_report_free(r);
	fx_free(&f);
}

/* ------------------------------------------------------------------ */
/* Suggested rules into a copy of policy.yaml */

struct lines {
	char **v;
	size_t n;
};

static void lines_split(const char *text, struct lines *l)
{
	memset(l, 0, sizeof(*l));
	const char *s = text;
	while (*s) {
		size_t k = strcspn(s, "\n");
		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = strndup(s, k);
		s += k + (s[k] == '\n');
	}
}

static void lines_insert(struct lines *l, size_t at, const char *line)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof(*l->v));
	l->v[at] = strdup(line);
	l->n++;
}

static char *lines_join(const struct lines *l)
{
	size_t len = 1;
	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->v[i]) + 1;
	char *s = calloc(1, len);
	for (size_t i = 0; i < l->n; i++) {
		strcat(s, l->v[i]);
		strcat(s, "\n");
	}
	return s;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static size_t indent(const char *s)
{
	return strspn(s, " ");
}

/* The line of "- id: ID" in l, or l->n. */
static size_t find_rule(const struct lines *l, const char *id)
{
	char want[128];
	snprintf(want, sizeof(want), "- id: %s", id);
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i] + indent(l->v[i]), want))
			return i;
	return l->n;
}

/*
 * Inserts the fragment's services after `services:` and each rule where its
 * `# insert ...` comment says (docs/audit.md), re-indented to the target.
 */
/* Inserts the entries of the fragment's top-level section `key:` after the policy's, or,
 * when the policy has none, the section whole before the policy's `services:`. */
static void merge_section(struct lines *pl, const struct lines *fl, const char *key)
{
	size_t at = pl->n, svc = pl->n, added = 0;
	for (size_t i = 0; i < pl->n; i++) {
		if (!strcmp(pl->v[i], key))
			at = i;
		if (!strcmp(pl->v[i], "services:"))
			svc = i;
	}
	cr_assert_lt(svc, pl->n);
	bool in = false;
	for (size_t i = 0; i < fl->n; i++) {
		if (!strcmp(fl->v[i], key)) {
			in = true;
			if (at == pl->n) {
				lines_insert(pl, svc, key);
				at = svc;
			}
			continue;
		}
		if (in && indent(fl->v[i]) == 0)
			in = false;
		if (in)
			lines_insert(pl, at + 1 + added++, fl->v[i]);
	}
}

static char *merge(const char *policy, const char *fragment)
{
	struct lines pl, fl;
	lines_split(policy, &pl);
	lines_split(fragment, &fl);
	merge_section(&pl, &fl, "services:");
	merge_section(&pl, &fl, "objects:");
	for (size_t i = 0; i < fl.n; i++) {
		const char *c = fl.v[i] + indent(fl.v[i]);
		if (strncmp(c, "# insert ", 9) != 0)
			continue;
		size_t ind = indent(fl.v[i]), end = i + 1;
		while (end < fl.n && indent(fl.v[end]) >= ind && fl.v[end][ind] != '#')
			end++;
		size_t at, target;
		if (!strncmp(c, "# insert before: ", 17)) {
			at = find_rule(&pl, c + 17);
			cr_assert_lt(at, pl.n, "placement of %s", c);
			target = indent(pl.v[at]);
		} else {
			/* The end of the city-wide rules: the next top-level key after `rules:`. */
			size_t k = 0;
			while (k < pl.n && strcmp(pl.v[k], "rules:"))
				k++;
			target = k + 1 < pl.n ? indent(pl.v[k + 1]) : 2;
			for (k++; k < pl.n && (pl.v[k][0] == ' ' || pl.v[k][0] == '\0'); k++)
				;
			at = k;
		}
		for (size_t k = i + 1; k < end; k++) {
			char line[512];
			snprintf(line, sizeof(line), "%*s%s", (int)target, "",
				 fl.v[k] + (indent(fl.v[k]) >= ind ? ind : indent(fl.v[k])));
			lines_insert(&pl, at + (k - i - 1), line);
		}
	}
	char *out = lines_join(&pl);
	lines_free(&pl);
	lines_free(&fl);
	return out;
}

static void tuple_of(const json_t *t, const json_t *ex, struct pol_tuple *tp)
{
	memset(tp, 0, sizeof(*tp));
	cr_assert_eq(ip_addr_parse(json_string_value(json_object_get(ex, "src")), &tp->src), 0);
	cr_assert_eq(ip_addr_parse(json_string_value(json_object_get(ex, "dst")), &tp->dst), 0);
	tp->proto = (uint8_t)json_integer_value(json_object_get(t, "proto"));
	tp->dport = (uint16_t)json_integer_value(json_object_get(t, "dst_port"));
	tp->icmp_type = json_object_get(t, "icmp_type")
			    ? (int)json_integer_value(json_object_get(t, "icmp_type"))
			    : -1;
}

static int decide(const struct pol_build *b, int gw, const struct pol_tuple *tp,
		  struct pol_verdict *v)
{
	struct pol_table *t;
	cr_assert_eq(pol_build_gateway(b, gw, POL_MODE_ENFORCE, &t), 0);
	int rc = pol_decide(t, tp, v);
	pol_table_free(t);
	return rc;
}

Test(audit, suggested_rules_let_every_denied_tuple_pass)
{
	struct fx f;
	fx_load(&f);
	struct audit_report *r = run(&f, current, NCURRENT);
	char *frag = audit_suggest_yaml(r, f.p, f.inv);
	cr_assert(frag);
	struct ydoc *doc = NULL;
	cr_assert_eq(ydoc_load_buffer(frag, strlen(frag), "suggested.yaml", f.dl, &doc), 0, "%s",
		     tu_diags(f.dl));
	const struct ynode *rules = ynode_get(ydoc_root(doc), "rules");
	cr_assert(rules && ynode_kind(rules) == YNODE_SEQ);
	cr_expect_eq(ynode_len(rules), 6, "six city-wide rules");
	ydoc_free(doc);

	char *orig = tu_slurp(tu_path(GOLDEN "inventory/policy.yaml"), NULL);
	char *merged = merge(orig, frag);
	struct policy *np = NULL;
	struct diag_list *ndl = diag_list_new();
	cr_assert_eq(
	    policy_load_buffer(merged, strlen(merged), "merged.yaml", f.inv, DATE, ndl, &np), 0,
	    "%s\n%s", tu_diags(ndl), merged);
	cr_expect_eq(np->nrules, f.p->nrules + 7);

	struct pol_build *ob, *nb;
	cr_assert_eq(pol_build_new(f.p, f.inv, &ob), 0);
	cr_assert_eq(pol_build_new(np, f.inv, &nb), 0);
	size_t proven = 0;
	for (size_t i = 0; i < NCURRENT; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), GOLDEN "%s", current[i]);
		json_error_t err;
		json_t *j = json_load_file(tu_path(rel), 0, &err);
		cr_assert(j, "%s: %s", rel, err.text);
		const char *sid = json_string_value(json_object_get(j, "site"));
		int gw = inventory_find_site(f.inv, sid);
		size_t k;
		json_t *t;
		json_array_foreach(json_object_get(j, "tuples"), k, t)
		{
			const char *verdict = json_string_value(json_object_get(t, "verdict"));
			if (strcmp(verdict, "drop") && strcmp(verdict, "reject"))
				continue;
			const json_t *exs = json_object_get(t, "examples");
			cr_assert_gt(json_array_size(exs), 0, "%s: every denied tuple has examples",
				     rel);
			size_t e;
			json_t *ex;
			json_array_foreach(exs, e, ex)
			{
				struct pol_tuple tp;
				struct pol_verdict v;
				int judges[2], counted;
				size_t nj;
				tuple_of(t, ex, &tp);
				pol_build_judges(ob, &tp.src, &tp.dst, judges, &nj, &counted);
				cr_assert_eq(counted, gw, "%s: counted at the summary's gateway",
					     rel);
				/* The golden tuple is what the evaluator says today... */
				cr_assert_eq(decide(ob, gw, &tp, &v), 0);
				cr_assert_neq(v.action, POL_ACCEPT, "%s tuple %zu is denied", rel,
					      k);
				/* ...and after the suggestions every judging gateway accepts. */
				for (size_t g = 0; g < nj; g++) {
					cr_assert_eq(decide(nb, judges[g], &tp, &v), 0);
					cr_expect(v.action == POL_ACCEPT && v.by == POL_BY_RULE,
						  "%s tuple %zu at gateway %s: %s", rel, k,
						  f.inv->sites[judges[g]].id,
						  pol_action_names[v.action]);
				}
				proven++;
			}
		}
		json_decref(j);
	}
	cr_expect_eq(proven, 14, "every example of every denied tuple");
	pol_build_free(ob);
	pol_build_free(nb);
	policy_free(np);
	diag_list_free(ndl);
	free(merged);
	free(orig);
	free(frag);
	audit_report_free(r);
	fx_free(&f);
}

/* ------------------------------------------------------------------ */
/* Merging */

static char *report_text(struct fx *f, const struct audit_report *r, bool drop_summaries)
{
	json_t *j = audit_report_json(r, f->p, f->inv);
	cr_assert(j);
	if (drop_summaries)
		json_object_del(j, "summaries");
	char *s = json_dumps(j, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	json_decref(j);
	return s;
}

Test(audit, windows_of_a_gateway_merge_into_one_summary)
{
	struct fx f;
	fx_load(&f);
	static const char *const split[] = {"s1-pm.json", "s1-am.json"};
	static const char *const whole[] = {"s1-day.json"};
	struct audit_report *a = run(&f, split, 2), *b = run(&f, whole, 1);
	/* Two summaries of S1 against one: all else is equal. */
	cr_expect_eq(a->sites[0].summaries, 2);
	a->sites[0].summaries = 1;
	char *ta = report_text(&f, a, true), *tb = report_text(&f, b, true);
	cr_expect(strcmp(ta, tb) == 0, "the reports differ");
	cr_expect_eq(a->total.flows, 257);
	free(ta);
	free(tb);
	audit_report_free(a);
	audit_report_free(b);
	fx_free(&f);
}

Test(audit, order_of_the_summaries_does_not_matter)
{
	struct fx f;
	fx_load(&f);
	static const char *const rev[] = {"s3.json", "s2.json", "s1-pm.json", "s1-am.json"};
	struct audit_report *a = run(&f, current, NCURRENT), *b = run(&f, rev, NCURRENT);
	char *ta = report_text(&f, a, false), *tb = report_text(&f, b, false);
	cr_expect(strcmp(ta, tb) == 0, "the reports differ");
	free(ta);
	free(tb);
	audit_report_free(a);
	audit_report_free(b);
	fx_free(&f);
}

/* Every gateway's tuples in one summary, as one agent would have counted them. */
static json_t *combined(void)
{
	json_t *all = NULL, *tuples = json_array();
	for (size_t i = 0; i < NCURRENT; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), GOLDEN "%s", current[i]);
		json_t *j = json_load_file(tu_path(rel), 0, NULL);
		cr_assert(j);
		json_array_extend(tuples, json_object_get(j, "tuples"));
		if (!all)
			all = json_deep_copy(j);
		json_decref(j);
	}
	json_object_set(all, "tuples", tuples);
	json_object_set_new(all, "rule_hits", json_array());
	json_object_set_new(all, "kernel", json_null());
	json_decref(tuples);
	return all;
}

Test(audit, many_gateways_give_what_one_combined_summary_gives)
{
	struct fx f;
	fx_load(&f);
	struct audit_report *a = run(&f, current, NCURRENT);
	struct audit *au;
	struct audit_report *b;
	json_t *c = combined();
	cr_assert_eq(audit_new(f.p, f.inv, NULL, &au), 0);
	cr_assert_eq(audit_add_json(au, c, "combined.json", f.dl), 0, "%s", tu_diags(f.dl));
	cr_assert_eq(audit_report(au, &b), 0);
	json_t *ja = audit_report_json(a, f.p, f.inv), *jb = audit_report_json(b, f.p, f.inv);
	/* What depends on the tuples alone: coverage, denials (but where), suggestions. */
	json_t *ca = json_object_get(ja, "coverage"), *cb = json_object_get(jb, "coverage");
	json_object_del(ca, "sites");
	json_object_del(cb, "sites");
	cr_expect(json_equal(ca, cb), "overall coverage");
	json_t *da = json_object_get(json_object_get(ja, "denied"), "items");
	json_t *db = json_object_get(json_object_get(jb, "denied"), "items");
	size_t i;
	json_t *x;
	json_array_foreach(da, i, x) json_object_del(x, "sites");
	json_array_foreach(db, i, x) json_object_del(x, "sites");
	cr_expect(json_equal(da, db), "denials");
	cr_expect(
	    json_equal(json_object_get(ja, "suggestions"), json_object_get(jb, "suggestions")),
	    "suggestions");
	json_decref(ja);
	json_decref(jb);
	json_decref(c);
	audit_report_free(a);
	audit_report_free(b);
	audit_free(au);
	fx_free(&f);
}

Test(audit, a_flow_between_two_sites_counts_once)
{
	struct fx f;
	fx_load(&f);
	/* 10.99.2.9 (S2 admin) -> 10.99.9.9 (S1 servers): both gateways judge
	 * it, S2's counts it; S1's summary has it under flows.not_ours. */
	struct pol_build *b;
	struct ip_addr s, d;
	int judges[2], counted;
	size_t nj;
	cr_assert_eq(pol_build_new(f.p, f.inv, &b), 0);
	ip_addr_parse("10.99.2.9", &s);
	ip_addr_parse("10.99.9.9", &d);
	pol_build_judges(b, &s, &d, judges, &nj, &counted);
	cr_assert_eq(nj, 2);
	cr_assert_str_eq(f.inv->sites[counted].id, "S2");
	pol_build_free(b);
	struct audit_report *r = run(&f, current, NCURRENT);
	const struct audit_denial *smb = denial(r, "admin", "servers", "tcp/445");
	cr_assert(smb);
	cr_expect_eq(smb->c.flows, 16, "10 at S1 and 6 from S2, not 6 more from S1's not_ours");
	uint64_t counted_flows = 0;
	for (size_t i = 0; i < r->nsummaries; i++)
		counted_flows += r->summaries[i].counted.flows;
	cr_expect_eq(r->total.flows, counted_flows);
	audit_report_free(r);
	fx_free(&f);
}

/* ------------------------------------------------------------------ */
/* Other policies, broken and pseudonymised summaries */

Test(audit, another_policy_is_flagged_and_kept_apart)
{
	struct fx f;
	fx_load(&f);
	static const char *const names[] = {"s1-am.json", "s1-pm.json", "s2.json", "s3.json",
					    "old.json"};
	struct audit_report *r = run(&f, names, 5);
	cr_assert_eq(r->nforeign, 1);
	cr_expect_str_eq(r->foreign[0].hash, "sha256:"
					     "00000000000000000000000000000000"
					     "00000000000000000000000000000000");
	cr_assert_eq(r->foreign[0].nfiles, 1);
	cr_expect(strstr(r->foreign[0].files[0], "old.json"));
	cr_expect_eq(r->foreign[0].total.flows, 9);
	cr_expect_eq(r->foreign[0].denied.flows, 9);
	cr_expect_eq(r->total.flows, 364, "not mixed into the current counts");
	cr_expect_eq(denial(r, "admin", "voip", "tcp/22")->c.flows, 4);
	cr_expect(tu_diag_contains(f.dl, "old.json: warning: ran policy sha256:0000"), "%s",
		  tu_diags(f.dl));
	size_t cur = 0;
	for (size_t i = 0; i < r->nsummaries; i++)
		cur += r->summaries[i].current;
	cr_expect_eq(r->nsummaries, 5);
	cr_expect_eq(cur, 4);
	audit_report_free(r);
	fx_free(&f);
}

Test(audit, truncated_summary_is_located_and_the_others_count)
{
	struct fx f;
	fx_load(&f);
	static const char *const names[] = {"s1-am.json", "truncated.json", "s1-pm.json", "s2.json",
					    "s3.json"};
	struct audit_report *r = run(&f, names, 5);
	cr_assert_eq(diag_errors(f.dl), 1, "%s", tu_diags(f.dl));
	const struct diag *d = NULL;
	for (size_t i = 0; i < diag_count(f.dl); i++)
		if (diag_get(f.dl, i)->severity == DIAG_ERROR)
			d = diag_get(f.dl, i);
	cr_assert(d);
	cr_expect(strstr(d->file, "truncated.json"));
	/* The file ends inside line 141 (a cut-off member name). */
	cr_expect_eq(d->line, 141);
	cr_expect_gt(d->col, 0);
	cr_expect(strstr(d->msg, "summary skipped"));
	cr_expect_eq(r->skipped, 1);
	cr_expect_eq(r->total.flows, 364);
	cr_expect(audit_has_findings(r));
	audit_report_free(r);
	fx_free(&f);
}

/* A directory among the summaries (a shell glob gone wide) is named as such. */
Test(audit, a_directory_is_skipped_and_the_others_count)
{
	struct fx f;
	fx_load(&f);
	static const char *const names[] = {"s1-am.json", "", "s1-pm.json", "s2.json", "s3.json"};
	struct audit_report *r = run(&f, names, 5);
	cr_assert_eq(diag_errors(f.dl), 1, "%s", tu_diags(f.dl));
	cr_assert(tu_diag_contains(f.dl, "error: is a directory, not a summary: skipped"), "%s",
		  tu_diags(f.dl));
	cr_expect_eq(r->skipped, 1);
	cr_expect_eq(r->total.flows, 364);
	audit_report_free(r);
	fx_free(&f);
}

static const char *const bad_members[][2] = {
    {"\"flows\": 100,", "\"flows\": -100,"},
    {"\"format\": 1,", "\"format\": 2,"},
    {"\"verdict\": \"accept\"", "\"verdict\": \"allow\""},
    {"\"tuples\": [", "\"tuples\": 7, \"x\": ["},
    {"\"site\": \"S1\"", "\"site\": \"S9\""},
    {"\"src_zone\": \"admin\"", "\"src_zone\": \"admn\""},
    {"\"src\": \"10.99.1.9\"", "\"src\": \"10.99.1.9|x\""},
};

Test(audit, a_summary_breaking_the_format_is_skipped_whole)
{
	struct fx f;
	fx_load(&f);
	char *good = tu_slurp(tu_path(GOLDEN "s1-am.json"), NULL);
	static const char *const want[] = {
	    "tuples[0].flows: expected an integer from 0",
	    "format: version 2 is not supported",
	    "tuples[0].verdict: unknown verdict 'allow'",
	    "tuples: expected an array",
	    "site: 'S9' is not a site of the inventory",
	    "tuples[0].src_zone: 'admn' is not a zone of the policy",
	    "'src' and 'dst' must be addresses or pseudonyms",
	};
	cr_assert_eq(sizeof(want) / sizeof(want[0]), sizeof(bad_members) / sizeof(bad_members[0]));
	for (size_t k = 0; k < sizeof(bad_members) / sizeof(bad_members[0]); k++) {
		char *p = strstr(good, bad_members[k][0]);
		cr_assert(p, "%s", bad_members[k][0]);
		size_t pre = (size_t)(p - good), ol = strlen(bad_members[k][0]);
		char *bad = calloc(1, strlen(good) + 64);
		memcpy(bad, good, pre);
		strcat(bad, bad_members[k][1]);
		strcat(bad, p + ol);
		struct audit *a;
		struct audit_report *r;
		struct diag_list *dl = diag_list_new();
		cr_assert_eq(audit_new(f.p, f.inv, NULL, &a), 0);
		cr_expect_eq(audit_add_buffer(a, bad, strlen(bad), "bad.json", dl), -EINVAL);
		cr_expect_eq(audit_add_file(a, tu_path(GOLDEN "s3.json"), dl), 0);
		cr_expect(tu_diag_contains(dl, want[k]), "%s", tu_diags(dl));
		cr_assert_eq(audit_report(a, &r), 0);
		cr_expect_eq(r->skipped, 1);
		cr_expect_eq(r->total.flows, 42, "nothing of the bad summary counted");
		audit_report_free(r);
		audit_free(a);
		diag_list_free(dl);
		free(bad);
	}
	free(good);
	fx_free(&f);
}

/* text with the first occurrence of old replaced by new (malloc'ed). */
static char *replaced(const char *text, const char *old, const char *new)
{
	const char *p = strstr(text, old);
	cr_assert_not_null(p, "%s", old);
	char *out;
	cr_assert(asprintf(&out, "%.*s%s%s", (int)(p - text), text, new, p + strlen(old)) > 0);
	return out;
}

Test(audit, window_times_are_rfc3339)
{
	struct fx f;
	fx_load(&f);
	char *good = tu_slurp(tu_path(GOLDEN "s1-am.json"), NULL);
	static const char *const cases[][3] = {
	    {"\"start\": \"2026-11-26T08:00:00Z\"", "\"start\": \"yesterday\"",
	     "bad.json: error: window.start: 'yesterday' is not an RFC 3339 time"},
	    {"\"start\": \"2026-11-26T08:00:00Z\"", "\"start\": \"2026-13-40T08:00:00Z\"",
	     "bad.json: error: window.start: '2026-13-40T08:00:00Z' is not an RFC 3339 time"},
	    {"\"end\": \"2026-11-26T12:00:00Z\"", "\"end\": \"2026-11-26 12:00:00\"",
	     "bad.json: error: window.end: '2026-11-26 12:00:00' is not an RFC 3339 time"},
	    {"\"end\": \"2026-11-26T12:00:00Z\"", "\"end\": \"2026-11-26T07:00:00Z\"",
	     "bad.json: error: window.end: 2026-11-26T07:00:00Z is before the start "
	     "2026-11-26T08:00:00Z"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *bad = replaced(good, cases[k][0], cases[k][1]);
		struct audit *a;
		struct diag_list *dl = diag_list_new();
		cr_assert_eq(audit_new(f.p, f.inv, NULL, &a), 0);
		cr_expect_eq(audit_add_buffer(a, bad, strlen(bad), "bad.json", dl), -EINVAL, "%s",
			     cases[k][1]);
		cr_expect(tu_diag_contains(dl, cases[k][2]), "want %s, got:\n%s", cases[k][2],
			  tu_diags(dl));
		audit_free(a);
		diag_list_free(dl);
		free(bad);
	}
	/* An offset is as good as Z. */
	char *ok = replaced(good, "\"end\": \"2026-11-26T12:00:00Z\"",
			    "\"end\": \"2026-11-26T13:00:00+01:00\"");
	struct audit *a;
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(audit_new(f.p, f.inv, NULL, &a), 0);
	cr_expect_eq(audit_add_buffer(a, ok, strlen(ok), "ok.json", dl), 0, "%s", tu_diags(dl));
	audit_free(a);
	diag_list_free(dl);
	free(ok);
	free(good);
	fx_free(&f);
}

/* Two windows of one gateway whose host name is longer than any key buffer: each
 * counts (a key cut short made the second "the same window" and skipped it). */
Test(audit, long_names_never_merge_two_windows)
{
	struct fx f;
	fx_load(&f);
	char *good = tu_slurp(tu_path(GOLDEN "s1-am.json"), NULL);
	char host[2100];
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	char *h, *longhost;
	cr_assert(asprintf(&h, "\"host\": \"%s\"", host) > 0);
	longhost = replaced(good, "\"host\": \"gw-s1\"", h);
	char *later = replaced(longhost, "\"end\": \"2026-11-26T12:00:00Z\"",
			       "\"end\": \"2026-11-26T12:00:01Z\"");
	struct audit *a;
	struct audit_report *r;
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(audit_new(f.p, f.inv, NULL, &a), 0);
	cr_expect_eq(audit_add_buffer(a, longhost, strlen(longhost), "a.json", dl), 0, "%s",
		     tu_diags(dl));
	cr_expect_eq(audit_add_buffer(a, later, strlen(later), "b.json", dl), 0, "%s",
		     tu_diags(dl));
	cr_expect_eq(diag_count(dl), 0, "%s", tu_diags(dl));
	cr_assert_eq(audit_report(a, &r), 0);
	cr_expect_eq(r->nsummaries, 2);
	cr_expect_eq(r->skipped, 0);
	audit_report_free(r);
	audit_free(a);
	diag_list_free(dl);
	free(h);
	free(longhost);
	free(later);
	free(good);
	fx_free(&f);
}

/* s3.json with its denied tuple's zones replaced, audited alone. */
static struct audit_report *s3_with(struct fx *f, const char *from, const char *to)
{
	char *text = tu_slurp(tu_path(GOLDEN "s3.json"), NULL);
	char *a = strstr(text, "\"src_zone\": \"voip\""),
	     *b = strstr(text, "\"dst_zone\": \"internet\"");
	cr_assert(a && b && a < b);
	char *out = calloc(1, strlen(text) + 64);
	sprintf(out, "%.*s\"src_zone\": \"%s\"%.*s\"dst_zone\": \"%s\"%s", (int)(a - text), text,
		from, (int)(b - a - strlen("\"src_zone\": \"voip\"")),
		a + strlen("\"src_zone\": \"voip\""), to, b + strlen("\"dst_zone\": \"internet\""));
	struct audit *au;
	struct audit_report *r;
	cr_assert_eq(audit_new(f->p, f->inv, NULL, &au), 0);
	cr_assert_eq(audit_add_buffer(au, out, strlen(out), "s3x.json", f->dl), 0, "%s",
		     tu_diags(f->dl));
	cr_assert_eq(audit_report(au, &r), 0);
	audit_free(au);
	free(out);
	free(text);
	return r;
}

/* Suggestions that open a zone to the internet or a management zone to
 * anyone are marked, in the report, its JSON and the YAML. */
Test(audit, risky_suggestions_are_marked)
{
	struct fx f;
	fx_load(&f);
	struct audit_report *r = run(&f, current, NCURRENT);
	for (size_t i = 0; i < r->nsuggestions; i++)
		cr_expect_null(r->suggestions[i].risk, "%s", r->suggestions[i].id);
	audit_report_free(r);

	r = s3_with(&f, "internet", "admin");
	cr_assert_eq(r->nsuggestions, 1);
	cr_expect_str_eq(r->suggestions[0].id, "audit-internet-admin");
	cr_expect_str_eq(r->suggestions[0].risk, "from the internet");
	char *yaml = audit_suggest_yaml(r, f.p, f.inv);
	cr_expect(strstr(yaml, "# review with care: from the internet\n"), "%s", yaml);
	free(yaml);
	json_t *j = audit_report_json(r, f.p, f.inv);
	json_t *sg = json_array_get(json_object_get(json_object_get(j, "suggestions"), "rules"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(sg, "risk")), "from the internet");
	json_decref(j);
	audit_report_free(r);

	r = s3_with(&f, "voip", "mgmt");
	cr_assert_eq(r->nsuggestions, 1);
	cr_expect_str_eq(r->suggestions[0].risk, "into a management zone");
	audit_report_free(r);

	r = s3_with(&f, "unassigned", "voip");
	cr_assert_eq(r->nsuggestions, 1);
	cr_expect_str_eq(r->suggestions[0].risk, "from addresses in no segment");
	audit_report_free(r);
	fx_free(&f);
}

Test(audit, the_same_window_twice_counts_once)
{
	struct fx f;
	fx_load(&f);
	static const char *const names[] = {"s2.json", "s2.json"};
	struct audit_report *r = run(&f, names, 2);
	cr_expect_eq(r->total.flows, 65);
	cr_expect_eq(r->nsummaries, 1);
	cr_expect(tu_diag_contains(f.dl, "warning: the same window of the same gateway"));
	audit_report_free(r);
	fx_free(&f);
}

Test(audit, pseudonymised_summaries_are_audited_as_they_are)
{
	struct fx f;
	fx_load(&f);
	static const char *const names[] = {"pseudo.json"};
	struct audit_report *r = run(&f, names, 1);
	cr_assert_eq(r->nsummaries, 1);
	cr_expect(r->summaries[0].pseudonymised);
	cr_assert_eq(r->ndenials, 1);
	cr_assert_eq(r->denials[0].nex, 1);
	cr_expect_str_eq(r->denials[0].ex[0].src, "h:0123456789abcdef");
	cr_expect_str_eq(r->denials[0].ex[0].dst, "h:fedcba9876543210");
	cr_assert_eq(r->nunassigned, 1);
	cr_expect_str_eq(r->unassigned_top[0].address, "h:00112233aabbccdd");
	cr_expect_eq(r->nsuggestions, 1, "zones are not pseudonymised: a rule is still suggested");
	audit_report_free(r);
	fx_free(&f);
}

Test(audit, a_merged_zone_gets_no_suggestion)
{
	struct fx f;
	fx_load(&f);
	char *good = tu_slurp(tu_path(GOLDEN "pseudo.json"), NULL);
	char *p = strstr(good, "\"src_zone\": \"admin\"");
	cr_assert(p);
	memcpy(p, "\"src_zone\": \"-\"    ", 19);
	struct audit *a;
	struct audit_report *r;
	cr_assert_eq(audit_new(f.p, f.inv, NULL, &a), 0);
	cr_assert_eq(audit_add_buffer(a, good, strlen(good), "merged.json", f.dl), 0, "%s",
		     tu_diags(f.dl));
	cr_assert_eq(audit_report(a, &r), 0);
	cr_expect_eq(r->ndenials, 1);
	cr_expect_eq(r->nsuggestions, 0);
	cr_expect_eq(r->unresolved, 1);
	cr_expect_eq(r->denials[0].suggestion, -1);
	audit_report_free(r);
	audit_free(a);
	free(good);
	fx_free(&f);
}

Test(audit, nothing_denied_and_every_rule_used_is_no_finding)
{
	struct fx f;
	fx_load(&f);
	/* S3's accepted tuple alone, with every rule S3 carries hit. */
	json_t *j = json_load_file(tu_path(GOLDEN "s3.json"), 0, NULL);
	cr_assert(j);
	json_t *t = json_object_get(j, "tuples");
	json_array_remove(t, 1);
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(j, "rule_hits"), i, h)
	    json_object_set_new(h, "hits", json_integer(1));
	struct audit *a;
	struct audit_report *r;
	cr_assert_eq(audit_new(f.p, f.inv, NULL, &a), 0);
	cr_assert_eq(audit_add_json(a, j, "clean.json", f.dl), 0);
	cr_assert_eq(audit_report(a, &r), 0);
	cr_expect_eq(r->ndenials, 0);
	cr_expect_eq(r->unused, 0);
	cr_expect_not(audit_has_findings(r));
	char *frag = audit_suggest_yaml(r, f.p, f.inv);
	cr_expect(strstr(frag, "rules: []"));
	free(frag);
	audit_report_free(r);
	audit_free(a);
	json_decref(j);
	fx_free(&f);
}

/* ------------------------------------------------------------------ */
/* Parallel reading */

/* What an audit of paths leaves: the --json report, the suggested rules and
 * every diagnostic in order, as one text. */
static char *audit_text(struct fx *f, unsigned workers, const char *const *paths, size_t n,
			bool one_by_one)
{
	struct audit_opts o = {.workers = workers};
	struct audit *a;
	struct audit_report *r;
	struct diag_list *dl = diag_list_new();
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert(dl && out);
	cr_assert_eq(audit_new(f->p, f->inv, &o, &a), 0);
	if (one_by_one) {
		for (size_t i = 0; i < n; i++) {
			int rc = audit_add_file(a, paths[i], dl);
			cr_assert(rc == 0 || rc == -EINVAL, "%s: %d", paths[i], rc);
		}
	} else {
		cr_assert_eq(audit_add_files(a, paths, n, dl), -EINVAL, "some files are skipped");
	}
	cr_assert_eq(audit_report(a, &r), 0);
	json_t *j = audit_report_json(r, f->p, f->inv);
	char *js = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *yaml = audit_suggest_yaml(r, f->p, f->inv);
	cr_assert(js && yaml);
	fprintf(out, "%s\n%s", js, yaml);
	for (size_t i = 0; i < diag_count(dl); i++) {
		char line[1024];
		diag_format(diag_get(dl, i), line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	cr_assert_eq(fclose(out), 0);
	free(js);
	free(yaml);
	json_decref(j);
	audit_report_free(r);
	audit_free(a);
	diag_list_free(dl);
	return text;
}

Test(audit, workers_change_nothing_of_report_or_diagnostics)
{
	struct fx f;
	fx_load(&f);
	char *dir = tu_tmpdir();
	char *s2 = NULL;
	size_t s2len = 0;
	FILE *in = fopen(tu_path(GOLDEN "s2.json"), "r");
	cr_assert(in);
	cr_assert_eq(getdelim(&s2, &s2len, '\0', in) > 0, true);
	fclose(in);
	/* A negative count: skipped with an error naming the member. */
	char *at = strstr(strstr(s2, "\"tuples\""), "\"flows\": "),
	     *bad = calloc(1, strlen(s2) + 2);
	cr_assert(at && bad);
	memcpy(bad, s2, (size_t)(at - s2) + 9);
	strcat(bad, "-");
	strcat(bad, at + 9);
	char *made[] = {
	    tu_write(dir, "bad-member.json", bad),
	    tu_write(dir, "empty.json", ""),
	    tu_write(dir, "dupkey.json", "{\"kind\": 1, \"kind\": 2}"),
	};
	char missing[512];
	snprintf(missing, sizeof(missing), "%s/missing.json", dir);
	static const char *const golden[] = {"s1-am.json",     "s1-pm.json", "s2.json",
					     "s3.json",	       "old.json",   "pseudo.json",
					     "truncated.json", "s1-day.json"};
	/* Enough files for every worker to run ahead of the counting, each
	 * golden one several times (later copies: the same window twice), the
	 * broken ones in between. */
	const char *paths[48];
	char gp[8][4096];
	size_t n = 0;
	for (size_t g = 0; g < 8; g++)
		snprintf(gp[g], sizeof(gp[g]), "%s%s", tu_path(GOLDEN), golden[g]);
	for (size_t round = 0; round < 4; round++) {
		for (size_t g = 0; g < 8; g++)
			paths[n++] = gp[(g + round * 3) % 8];
		paths[n++] = made[round % 3];
		paths[n++] = round % 2 ? missing : dir;
	}
	cr_assert_leq(n, sizeof(paths) / sizeof(paths[0]));
	char *one = audit_text(&f, 1, paths, n, false);
	char *seq = audit_text(&f, 4, paths, n, true);
	cr_assert(strstr(one, "missing.json: error: unable to open"), "%s", one);
	cr_assert(strstr(one, "bad-member.json: error: tuples[0].flows"), "%s", one);
	cr_assert(strstr(one, "warning: the same window"), "%s", one);
	cr_assert_str_eq(one, seq, "audit_add_files with one worker is audit_add_file in turn");
	for (unsigned w = 2; w <= AUDIT_MAX_WORKERS; w *= 2) {
		char *many = audit_text(&f, w, paths, n, false);
		cr_assert_str_eq(one, many, "%u workers", w);
		free(many);
	}
	free(one);
	free(seq);
	for (size_t i = 0; i < 3; i++)
		free(made[i]);
	free(bad);
	free(s2);
	tu_rmdir(dir);
	free(dir);
	fx_free(&f);
}

/* ------------------------------------------------------------------ */
/* The command */

static int cli(const char *args)
{
	char cmd[4096];
	const char *bin = getenv("SEGPLAN_BIN");
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' audit %s >/dev/null 2>&1", tu_path(GOLDEN),
		 bin ? bin : "segplan", args);
	return tu_run(cmd);
}

Test(audit, command_exit_codes_and_suggest_out)
{
	if (!getenv("SEGPLAN_BIN"))
		cr_skip_test("SEGPLAN_BIN is not set (run through ctest)");
	char *dir = tu_tmpdir();
	char args[1024];
	cr_expect_eq(cli("--help"), 0);
	cr_expect_eq(cli("inventory"), 2, "no summary");
	cr_expect_eq(cli("inventory s2.json --sugest-out x"), 2, "inexact option");
	cr_expect_eq(cli("/nonexistent s2.json"), 3);
	snprintf(args, sizeof(args),
		 "inventory s1-am.json s1-pm.json s2.json s3.json --json "
		 "--suggest-out '%s/s.yaml'",
		 dir);
	cr_expect_eq(cli(args), 1, "denials are findings");
	char path[1100];
	snprintf(path, sizeof(path), "%s/s.yaml", dir);
	cr_expect(tu_file_exists(path));
	tu_rmdir(dir);
	free(dir);
}

/* s3.json with an ICMP error tuple (voip <- internet, type 3) appended. */
static json_t *s3_plus_error(const char *verdict, const char *by, bool passes, json_int_t flows)
{
	json_t *j = json_load_file(tu_path(GOLDEN "s3.json"), 0, NULL);
	cr_assert(j);
	json_t *t0 = json_array_get(json_object_get(j, "tuples"), 0);
	json_t *e = json_pack("{s:O,s:O,s:i,s:i,s:i,s:s,s:b,s:s,s:n,s:I,s:I,s:I}", "src_zone",
			      json_object_get(t0, "dst_zone"), "dst_zone",
			      json_object_get(t0, "src_zone"), "ip_version", 4, "proto", 1,
			      "icmp_type", 3, "verdict", verdict, "passes", passes, "by", by,
			      "rule", "flows", flows, "packets", flows, "bytes", flows * 56);
	cr_assert(e);
	json_array_append_new(json_object_get(j, "tuples"), e);
	return j;
}

static struct audit_report *audit_json(struct fx *f, json_t *j, int want_rc)
{
	struct audit *a;
	struct audit_report *r;
	cr_assert_eq(audit_new(f->p, f->inv, NULL, &a), 0);
	cr_assert_eq(audit_add_json(a, j, "s3.json", f->dl), want_rc, "%s", tu_diags(f->dl));
	cr_assert_eq(audit_report(a, &r), 0);
	audit_free(a);
	json_decref(j);
	return r;
}

Test(audit, related_icmp_errors_are_neither_covered_nor_denied)
{
	struct fx f;
	fx_load(&f);
	struct audit_report *base = run(&f, (const char *const[]){"s3.json"}, 1);
	struct audit_report *rel = audit_json(&f, s3_plus_error("accept", "related", true, 5), 0);
	cr_expect_eq(rel->total.flows, base->total.flows, "related: part of its connection");
	cr_expect_eq(rel->covered.flows, base->covered.flows);
	cr_expect_eq(rel->denied.flows, base->denied.flows);
	cr_expect_eq(rel->ndenials, base->ndenials);
	/* An unsolicited error is what the kernel drops as invalid: a denial. */
	struct audit_report *inv = audit_json(&f, s3_plus_error("drop", "invalid", false, 2), 0);
	cr_expect_eq(inv->total.flows, base->total.flows + 2);
	cr_expect_eq(inv->denied.flows, base->denied.flows + 2);
	cr_expect_eq(inv->ndenials, base->ndenials + 1);
	/* A related error the summary calls dropped breaks the format. */
	struct audit_report *bad =
	    audit_json(&f, s3_plus_error("drop", "related", false, 1), -EINVAL);
	cr_expect(tu_diag_contains(f.dl, "a related ICMP error passes"), "%s", tu_diags(f.dl));
	cr_expect_eq(bad->skipped, 1);
	audit_report_free(base);
	audit_report_free(rel);
	audit_report_free(inv);
	audit_report_free(bad);
	fx_free(&f);
}

/* ------------------------------------------------------------------ */
/* Stage 2: the agent's summary of S1 (tests/e2e/fixtures/stage2), host-level suggestions */

#define S2_DIR	 "tests/e2e/fixtures/stage2"
#define S2_DATE	 "2026-12-01"
#define S2_NOON	 1796644800ull /* 2026-12-07T12:00:00Z */
#define S2_START "2026-12-07T12:00:00Z"
#define S2_END	 "2026-12-07T12:05:00Z"

/* The fixture's policy with an explicit reject of guest to the servers after `dns`. */
static const char s2_reject[] = "  - id: guest-no-servers\n"
				"    from: [guest]\n"
				"    to: [servers]\n"
				"    services: any\n"
				"    action: reject\n";

/* Connections S1 counts and its policy denies today. */
struct s2obs {
	const char *src, *dst;
	uint8_t proto;
	uint16_t dport;
};

static const struct s2obs s2obs[] = {
    /* guest -> the resolvers: the reject decides, and both resolvers are the object `resolvers` */
    {"10.99.49.5", "10.99.8.53", 17, 53},
    {"10.99.49.6", "10.99.8.54", 17, 53},
    {"10.99.49.6", "10.99.8.54", 17, 53},
    /* admin -> the printer the policy excludes: one host each way, at S1 */
    {"10.99.1.20", "10.99.9.10", 6, 631},
    /* twelve voip phones -> the building supervisor: too many sources for an object */
    {"10.99.17.1", "10.99.41.10", 6, 443},
    {"10.99.17.2", "10.99.41.10", 6, 443},
    {"10.99.17.3", "10.99.41.10", 6, 443},
    {"10.99.17.4", "10.99.41.10", 6, 443},
    {"10.99.17.5", "10.99.41.10", 6, 443},
    {"10.99.17.6", "10.99.41.10", 6, 443},
    {"10.99.17.7", "10.99.41.10", 6, 443},
    {"10.99.17.8", "10.99.41.10", 6, 443},
    {"10.99.17.9", "10.99.41.10", 6, 443},
    {"10.99.17.10", "10.99.41.10", 6, 443},
    {"10.99.17.11", "10.99.41.10", 6, 443},
    {"10.99.17.12", "10.99.41.10", 6, 443},
    /* ...and one phone to it on port 80: the same zones, other hosts: a rule of its own */
    {"10.99.17.5", "10.99.41.10", 6, 80},
    /* IPv6: admin -> the payroll database */
    {"fd99:0:0:1::20", "fd99:0:1::81", 6, 5432},
    /* a phone -> the admin address of a host that also has a servers address */
    {"10.99.17.5", "10.99.1.50", 6, 3389},
};
#define NS2OBS (sizeof(s2obs) / sizeof(s2obs[0]))

struct s2fx {
	struct inventory *inv;
	struct policy *p;
	char *text; /* the policy as loaded */
	struct diag_list *dl;
};

/* A host with an address in two zones (admin and servers at S1), added to hosts.csv. */
static const char s2_dual[] = "dual,S1,10.99.1.50 10.99.9.50,role=dual,\n";

static void s2_load(struct s2fx *x)
{
	memset(x, 0, sizeof(*x));
	x->dl = diag_list_new();
	char *dir = tu_tmpdir(), cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp '%s'/*.csv '%s'/", tu_path(S2_DIR), dir);
	cr_assert_eq(tu_run(cmd), 0);
	char *hosts = tu_slurp(tu_path(S2_DIR "/hosts.csv"), NULL);
	char *more = calloc(1, strlen(hosts) + sizeof(s2_dual));
	strcat(strcat(more, hosts), s2_dual);
	free(tu_write(dir, "hosts.csv", more));
	free(more);
	free(hosts);
	cr_assert_eq(inventory_load(dir, x->dl, &x->inv), 0, "%s", tu_diags(x->dl));
	tu_rmdir(dir);
	free(dir);
	char *orig = tu_slurp(tu_path(S2_DIR "/policy.yaml"), NULL);
	const char *at = strstr(orig, "  - id: payroll-web\n");
	cr_assert(at);
	x->text = calloc(1, strlen(orig) + sizeof(s2_reject));
	memcpy(x->text, orig, (size_t)(at - orig));
	strcat(x->text, s2_reject);
	strcat(x->text, at);
	free(orig);
	cr_assert_eq(policy_load_buffer(x->text, strlen(x->text), "policy.yaml", x->inv, S2_DATE,
					x->dl, &x->p),
		     0, "%s", tu_diags(x->dl));
}

static void s2_free(struct s2fx *x)
{
	policy_free(x->p);
	inventory_free(x->inv);
	diag_list_free(x->dl);
	free(x->text);
}

static void addr16(const char *text, uint8_t out[16])
{
	struct ip_addr a;
	cr_assert_eq(ip_addr_parse(text, &a), 0, "%s", text);
	memset(out, 0, 16);
	if (a.family == 4) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a.b, 4);
	} else {
		memcpy(out, a.b, 16);
	}
}

/* S1's summary of the observed connections, as the agent writes it (agent/summary.c). */
static json_t *s2_summary(const struct s2fx *x)
{
	struct pol_build *b;
	struct pol_table *t;
	struct sum *s;
	cr_assert_eq(pol_build_new(x->p, x->inv, &b), 0);
	cr_assert_eq(pol_build_gateway(b, inventory_find_site(x->inv, "S1"), POL_MODE_ENFORCE, &t),
		     0);
	cr_assert_eq(sum_new(&s), 0);
	for (size_t i = 0; i < NS2OBS; i++) {
		struct flow f;
		memset(&f, 0, sizeof(f));
		addr16(s2obs[i].src, f.src);
		addr16(s2obs[i].dst, f.dst);
		f.proto = s2obs[i].proto;
		f.sport = (uint16_t)(40000 + i);
		f.dport = s2obs[i].dport;
		f.first_ns = f.last_ns = (S2_NOON + i) * 1000000000ull;
		f.packets[0] = 2;
		f.bytes[0] = 120;
		struct sum_class c;
		sum_add(s, t, &f, FLOW_END_IDLE, &c);
		cr_assert(c.classified && c.ours && c.v.action != POL_ACCEPT,
			  "connection %zu is counted at S1 and denied", i);
	}
	json_t *j = json_object();
	cr_assert_eq(summary_envelope(j, "gw-s1", "S1"), 0);
	json_object_set_new(j, "window", json_pack("{s:s,s:s}", "start", S2_START, "end", S2_END));
	json_object_set_new(j, "policy",
			    json_pack("{s:s,s:s}", "hash", pol_build_hash(b), "mode", "enforce"));
	cr_assert_eq(sum_to_json(s, t, j), 0);
	sum_free(s);
	pol_table_free(t);
	pol_build_free(b);
	return j;
}

static struct audit_report *s2_audit(struct s2fx *x, json_t *j)
{
	struct audit *a;
	struct audit_report *r;
	cr_assert_eq(audit_new(x->p, x->inv, NULL, &a), 0);
	cr_assert_eq(audit_add_json(a, j, "s1.json", x->dl), 0, "%s", tu_diags(x->dl));
	cr_assert_eq(audit_report(a, &r), 0);
	audit_free(a);
	return r;
}

/* The suggestion that covers the denial of s2obs[i]. */
static const struct audit_suggestion *s2_suggestion_of(const struct audit_report *r,
						       const struct pol_table *city, size_t i)
{
	struct ip_addr s, d;
	struct pol_class cs, cd;
	cr_assert_eq(ip_addr_parse(s2obs[i].src, &s), 0);
	cr_assert_eq(ip_addr_parse(s2obs[i].dst, &d), 0);
	pol_classify(city, &s, &cs);
	pol_classify(city, &d, &cd);
	for (size_t k = 0; k < r->ndenials; k++) {
		const struct audit_denial *dn = &r->denials[k];
		if (!strcmp(dn->from, pol_table_zone_name(city, cs.zone)) &&
		    !strcmp(dn->to, pol_table_zone_name(city, cd.zone)) &&
		    dn->svc.proto == s2obs[i].proto && dn->svc.port == s2obs[i].dport) {
			cr_assert_geq(dn->suggestion, 0);
			return &r->suggestions[dn->suggestion];
		}
	}
	cr_assert_fail("no denial for observation %zu", i);
	return NULL;
}

/* What suggestion k may open at end e, by the test's own reckoning: the observed
 * addresses of that end, each standing for all addresses of its host of
 * hosts.csv; NULL when the suggestion names the whole zone. */
static struct pol_ranges *s2_allowed(const struct s2fx *x, const struct audit_report *r,
				     const struct pol_table *city, size_t k, int e)
{
	if (r->suggestions[k].object[e] < 0)
		return NULL;
	struct pol_ranges *rg = calloc(1, sizeof(*rg));
	for (size_t i = 0; i < NS2OBS; i++) {
		if (s2_suggestion_of(r, city, i) != &r->suggestions[k])
			continue;
		struct ip_addr a;
		cr_assert_eq(ip_addr_parse(e ? s2obs[i].dst : s2obs[i].src, &a), 0);
		pol_ranges_add(rg, &a, &a, 0);
		for (size_t h = 0; h < x->inv->nhosts; h++) {
			bool mine = false;
			for (size_t j = 0; j < x->inv->hosts[h].naddrs; j++)
				mine |= ip_prefix_contains(&x->inv->hosts[h].addrs[j], &a);
			for (size_t j = 0; mine && j < x->inv->hosts[h].naddrs; j++)
				pol_ranges_add_prefix(rg, &x->inv->hosts[h].addrs[j], 0);
		}
	}
	cr_assert_eq(pol_ranges_normalize(rg), 0);
	return rg;
}

static const struct audit_suggestion *s2_find(const struct audit_report *r, const char *from,
					      const char *to, int port)
{
	for (size_t i = 0; i < r->nsuggestions; i++) {
		const struct audit_suggestion *s = &r->suggestions[i];
		for (size_t k = 0; k < s->nitems; k++)
			if (!strcmp(s->from, from) && !strcmp(s->to, to) &&
			    s->items[k].lo <= port && port <= s->items[k].hi)
				return s;
	}
	return NULL;
}

static const char *s2_object(const struct audit_report *r, const struct audit_suggestion *s, int e)
{
	return s->object[e] >= 0 ? r->objects[s->object[e]].name : NULL;
}

Test(audit, stage2_suggestions_name_the_observed_hosts)
{
	struct s2fx x;
	s2_load(&x);
	json_t *j = s2_summary(&x);
	struct audit_report *r = s2_audit(&x, j);

	/* The zone pairs, and voip -> bms twice: other hosts, another rule. */
	cr_assert_eq(r->nsuggestions, 6);
	const struct audit_suggestion *g = s2_find(r, "guest", "servers", 53);
	const struct audit_suggestion *pr = s2_find(r, "admin", "servers", 631);
	const struct audit_suggestion *v443 = s2_find(r, "voip", "bms", 443);
	const struct audit_suggestion *v80 = s2_find(r, "voip", "bms", 80);
	const struct audit_suggestion *db = s2_find(r, "admin", "servers", 5432);
	cr_assert(g && pr && v443 && v80 && db);
	cr_assert_neq(v443, v80);
	/* The resolvers, observed both, are the policy's object; the guests are new. */
	cr_expect_str_eq(s2_object(r, g, 1), "resolvers");
	cr_expect(r->objects[g->object[1]].existing);
	cr_expect_str_eq(s2_object(r, g, 0), "audit-guest-servers-src");
	cr_expect_eq(r->objects[g->object[0]].nitems, 2);
	cr_expect_eq(g->scope, POL_SCOPE_DC_ONLY, "every destination in the data centre");
	/* The excluded printer by its name in hosts.csv, at the same site. */
	cr_expect_str_eq(r->objects[pr->object[1]].items[0], "s1-print");
	cr_expect_str_eq(r->objects[pr->object[0]].items[0], "10.99.1.20");
	cr_expect_eq(pr->scope, POL_SCOPE_SAME_SITE);
	/* Twelve phones: the zone; one supervisor: the host. */
	cr_expect_eq(v443->object[0], -1);
	cr_expect_str_eq(r->objects[v443->object[1]].items[0], "s1-bms-sup");
	cr_expect_eq(v443->scope, POL_SCOPE_SAME_SITE, "the agent counted every one same-site");
	cr_expect_str_eq(r->objects[v80->object[0]].items[0], "10.99.17.5");
	cr_expect_eq(v443->object[1], v80->object[1], "one object for the same hosts");
	cr_expect_str_eq(r->objects[db->object[1]].items[0], "pay-db");
	/* The host's other address is in another zone: the side keeps the zone. */
	const struct audit_suggestion *du = s2_find(r, "voip", "admin", 3389);
	cr_assert(du);
	cr_expect_str_eq(r->objects[du->object[1]].items[0], "dual");
	cr_expect(du->zoned[1] && !du->zoned[0]);
	cr_expect_eq(pr->zoned[0] + pr->zoned[1] + g->zoned[0] + g->zoned[1], 0);
	/* Only the guests' suggestion overrides an explicit deny rule. */
	cr_expect_eq(g->ncuts, 1);
	cr_expect_str_eq(x.p->rules[g->cuts[0]].id, "guest-no-servers");
	cr_expect_str_eq(x.p->rules[g->before].id, "guest-no-servers");
	cr_expect_eq(pr->ncuts + v443->ncuts + v80->ncuts + db->ncuts, 0);

	/* The tables' names reach the report. */
	const struct audit_denial *dg = denial(r, "guest", "servers", "udp/53");
	cr_assert(dg);
	cr_expect_eq(dg->nnames[SUMMARY_DST_SETS], 2, "core and the dns rule's source term");
	cr_expect_str_eq(dg->names[SUMMARY_DST_SETS][0].name, "core");
	cr_expect_eq(dg->names[SUMMARY_DST_SETS][0].flows, 3);
	cr_expect_str_eq(dg->names[SUMMARY_DST_SETS][1].name, "{except: [{zone: guest}]}");
	cr_expect_eq(dg->nnames[SUMMARY_SRC_SETS], 0, "guests lie in no set of S1's table");
	cr_expect_str_eq(dg->names[SUMMARY_FROM][0].name, "guest");
	cr_expect_str_eq(dg->names[SUMMARY_TO][0].name, "servers");
	cr_expect_str_eq(dg->ex[0].dst_host, "dc-dns2", "the busiest pair: 10.99.8.54, twice");
	json_t *rj = audit_report_json(r, x.p, x.inv);
	json_t *sj = json_array_get(json_object_get(json_object_get(rj, "suggestions"), "rules"),
				    (size_t)(g - r->suggestions));
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(sj, "cuts_through"), 0)),
			 "guest-no-servers");
	cr_expect_str_eq(json_string_value(json_object_get(sj, "scope")), "dc-only");
	json_decref(rj);

	/* The fragment, merged into the policy, loads... */
	char *frag = audit_suggest_yaml(r, x.p, x.inv);
	cr_assert(frag);
	cr_expect(strstr(frag, "# cuts through: guest-no-servers (reject)\n"), "%s", frag);
	cr_expect(strstr(frag, "audit-admin-servers-2-src: [\"fd99:0:0:1::20\"]") ||
		      strstr(frag, "audit-admin-servers-src: [\"fd99:0:0:1::20\"]"),
		  "%s", frag);
	char *merged = merge(x.text, frag);
	struct policy *np = NULL;
	struct diag_list *ndl = diag_list_new();
	cr_assert_eq(
	    policy_load_buffer(merged, strlen(merged), "merged.yaml", x.inv, S2_DATE, ndl, &np), 0,
	    "%s\n%s", tu_diags(ndl), merged);
	cr_expect_eq(np->nrules, x.p->nrules + r->nsuggestions);

	/* ...lets every observed connection through at every gateway that judges it... */
	struct pol_build *ob, *nb;
	struct pol_table *city;
	cr_assert_eq(pol_build_new(x.p, x.inv, &ob), 0);
	cr_assert_eq(pol_build_new(np, x.inv, &nb), 0);
	cr_assert_eq(pol_build_city(ob, &city), 0);
	size_t ns = x.inv->nsites;
	struct pol_table **ot = calloc(ns, sizeof(*ot)), **nt = calloc(ns, sizeof(*nt));
	for (size_t i = 0; i < ns; i++) {
		cr_assert_eq(pol_build_gateway(ob, (int)i, POL_MODE_ENFORCE, &ot[i]), 0);
		cr_assert_eq(pol_build_gateway(nb, (int)i, POL_MODE_ENFORCE, &nt[i]), 0);
	}
	for (size_t i = 0; i < NS2OBS; i++) {
		struct pol_tuple tp = {.proto = s2obs[i].proto,
				       .dport = s2obs[i].dport,
				       .icmp_type = -1,
				       .time = (int64_t)S2_NOON};
		int judges[2], counted;
		size_t nj;
		cr_assert_eq(ip_addr_parse(s2obs[i].src, &tp.src), 0);
		cr_assert_eq(ip_addr_parse(s2obs[i].dst, &tp.dst), 0);
		pol_build_judges(ob, &tp.src, &tp.dst, judges, &nj, &counted);
		cr_assert_gt(nj, 0);
		for (size_t k = 0; k < nj; k++) {
			struct pol_verdict v;
			cr_assert_eq(pol_decide(nt[judges[k]], &tp, &v), 0);
			cr_expect(v.action == POL_ACCEPT && v.by == POL_BY_RULE,
				  "observation %zu at %s", i, x.inv->sites[judges[k]].id);
		}
	}

	/* ...and opens nothing else: every tuple whose verdict changed lies within a
	 * suggestion's observed service, its zones and, where it names hosts, their
	 * addresses (by the test's reckoning, not the audit's objects). */
	const char *cand[] = {
	    "10.99.49.5",    "10.99.49.6",    "10.99.49.7",	"10.99.49.4",	  "10.99.8.53",
	    "10.99.8.54",    "10.99.8.52",    "10.99.8.55",	"10.99.8.123",	  "10.99.1.20",
	    "10.99.1.21",    "10.99.9.10",    "10.99.9.11",	"10.99.9.20",	  "10.99.17.5",
	    "10.99.17.6",    "10.99.17.13",   "10.99.17.200",	"10.99.41.10",	  "10.99.41.11",
	    "10.99.8.81",    "10.99.8.80",    "10.99.57.5",	"10.99.2.20",	  "10.99.11.10",
	    "10.99.43.10",   "100.70.1.10",   "192.0.2.1",	"fd99:0:0:1::20", "fd99:0:0:1::21",
	    "fd99:0:1::81",  "fd99:0:1::80",  "fd99:0:1::53",	"fd99:0:1:1::10", "fd99:0:5:1::10",
	    "fd99:0:6:1::5", "fd99:0:2:1::5", "fd99:0:0:3::20", "10.99.1.50",	  "10.99.9.50"};
	const struct {
		uint8_t proto;
		uint16_t port;
	} svcs[] = {{17, 53}, {6, 53},	 {6, 631}, {6, 9100}, {6, 443},
		    {6, 80},  {6, 5432}, {6, 22},  {6, 3389}};
	size_t nc = sizeof(cand) / sizeof(cand[0]), changed = 0;
	bool other_addr = false;
	struct pol_ranges *allowed[16][2];
	cr_assert_leq(r->nsuggestions, 16);
	for (size_t k = 0; k < r->nsuggestions; k++)
		for (int e = 0; e < 2; e++)
			allowed[k][e] = s2_allowed(&x, r, city, k, e);
	for (size_t a = 0; a < nc; a++)
		for (size_t b = 0; b < nc; b++)
			for (size_t v = 0; v < sizeof(svcs) / sizeof(svcs[0]); v++) {
				struct pol_tuple tp = {.proto = svcs[v].proto,
						       .dport = svcs[v].port,
						       .icmp_type = -1,
						       .time = (int64_t)S2_NOON};
				cr_assert_eq(ip_addr_parse(cand[a], &tp.src), 0);
				cr_assert_eq(ip_addr_parse(cand[b], &tp.dst), 0);
				if (tp.src.family != tp.dst.family)
					continue;
				int judges[2], counted;
				size_t nj;
				pol_build_judges(ob, &tp.src, &tp.dst, judges, &nj, &counted);
				for (size_t k = 0; k < nj; k++) {
					struct pol_verdict vo, vn;
					cr_assert_eq(pol_decide(ot[judges[k]], &tp, &vo), 0);
					cr_assert_eq(pol_decide(nt[judges[k]], &tp, &vn), 0);
					if (vo.action == vn.action)
						continue;
					changed++;
					other_addr |= !strcmp(cand[a], "fd99:0:2:1::5") &&
						      !strcmp(cand[b], "fd99:0:5:1::10") &&
						      tp.dport == 443;
					cr_assert_eq(vn.action, POL_ACCEPT, "%s -> %s", cand[a],
						     cand[b]);
					struct pol_class cs, cd;
					pol_classify(city, &tp.src, &cs);
					pol_classify(city, &tp.dst, &cd);
					bool within = false;
					for (size_t s = 0; s < r->nsuggestions && !within; s++) {
						const struct audit_suggestion *sg =
						    &r->suggestions[s];
						bool svc = false;
						for (size_t i = 0; i < sg->nitems; i++)
							svc |= sg->items[i].proto == tp.proto &&
							       sg->items[i].lo <= tp.dport &&
							       tp.dport <= sg->items[i].hi;
						within =
						    svc &&
						    !strcmp(sg->from,
							    pol_table_zone_name(city, cs.zone)) &&
						    !strcmp(sg->to,
							    pol_table_zone_name(city, cd.zone)) &&
						    (!allowed[s][0] ||
						     pol_ranges_find(allowed[s][0], &tp.src)) &&
						    (!allowed[s][1] ||
						     pol_ranges_find(allowed[s][1], &tp.dst));
					}
					cr_assert(within,
						  "%s -> %s %u/%u at %s: opened by no suggestion",
						  cand[a], cand[b], tp.proto, tp.dport,
						  x.inv->sites[judges[k]].id);
				}
			}
	/* The observed, and the other addresses of their hosts: any phone (a zone) to the
	 * supervisor's IPv6 address. */
	cr_expect_gt(changed, 8, "%zu changed", changed);
	cr_expect(other_addr);

	for (size_t k = 0; k < r->nsuggestions; k++)
		for (int e = 0; e < 2; e++)
			if (allowed[k][e]) {
				pol_ranges_free(allowed[k][e]);
				free(allowed[k][e]);
			}
	for (size_t i = 0; i < ns; i++) {
		pol_table_free(ot[i]);
		pol_table_free(nt[i]);
	}
	free(ot);
	free(nt);
	pol_table_free(city);
	pol_build_free(ob);
	pol_build_free(nb);
	policy_free(np);
	diag_list_free(ndl);
	free(merged);
	free(frag);
	json_decref(j);
	audit_report_free(r);
	s2_free(&x);
}

/* The tuple of a stage-2 summary with these zones and port. */
static json_t *s2_tuple(json_t *j, const char *from, const char *to, int port)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(j, "tuples"), i, t)
	{
		if (!strcmp(json_string_value(json_object_get(t, "src_zone")), from) &&
		    !strcmp(json_string_value(json_object_get(t, "dst_zone")), to) &&
		    json_integer_value(json_object_get(t, "dst_port")) == port)
			return t;
	}
	cr_assert_fail("no tuple %s -> %s %d", from, to, port);
	return NULL;
}

/* Audits a changed copy of the stage-2 summary: the report, or NULL when it was refused
 * with an error containing want. */
static struct audit_report *s2_changed(struct s2fx *x, json_t *j, const char *want)
{
	struct audit *a;
	struct audit_report *r = NULL;
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(audit_new(x->p, x->inv, NULL, &a), 0);
	int rc = audit_add_json(a, j, "s1.json", dl);
	if (want) {
		cr_expect_eq(rc, -EINVAL, "%s", want);
		cr_expect(tu_diag_contains(dl, want), "want '%s': %s", want, tu_diags(dl));
	} else {
		cr_expect_eq(rc, 0, "%s", tu_diags(dl));
		cr_assert_eq(audit_report(a, &r), 0);
	}
	audit_free(a);
	diag_list_free(dl);
	json_decref(j);
	return r;
}

Test(audit, stage2_summary_members_are_checked_and_evidence_kept_apart)
{
	struct s2fx x;
	s2_load(&x);
	json_t *base = s2_summary(&x);
	/* Names counting more connections than the tuple has, half a pair of set lists,
	 * hosts that are no addresses, a scope check beyond the tuple's flows. */
	json_t *j = json_deep_copy(base);
	json_t *t = s2_tuple(j, "guest", "servers", 53);
	json_object_set_new(json_array_get(json_object_get(t, "dst_sets"), 0), "flows",
			    json_integer(4));
	s2_changed(&x, j, "dst_sets[0].flows: expected an integer from 0 to 3");
	j = json_deep_copy(base);
	json_object_del(s2_tuple(j, "guest", "servers", 53), "src_sets");
	s2_changed(&x, j, "'src_sets' and 'dst_sets' go together");
	j = json_deep_copy(base);
	t = s2_tuple(j, "guest", "servers", 53);
	json_array_set_new(json_object_get(json_object_get(t, "hosts"), "src"), 0,
			   json_string("10.99.49.5|x"));
	s2_changed(&x, j, "hosts.src[0]: expected an address or a pseudonym");
	j = json_deep_copy(base);
	t = s2_tuple(j, "guest", "servers", 53);
	json_object_set_new(json_object_get(t, "scope"), "same_site", json_integer(9));
	s2_changed(&x, j, "scope.same_site: expected an integer from 0 to 3");
	j = json_deep_copy(base);
	t = s2_tuple(j, "guest", "servers", 53);
	json_object_set_new(json_object_get(t, "matched"), "to",
			    json_pack("[{s:s,s:i},{s:s,s:i}]", "name", "servers", "flows", 1,
				      "name", "servers", "flows", 2));
	s2_changed(&x, j, "'servers' is listed twice");

	/* The anti-lockout's accept (by "management") is read: traffic, neither covered
	 * nor denied. */
	j = json_deep_copy(base);
	json_array_append_new(json_object_get(j, "tuples"),
			      json_pack("{s:s,s:s,s:i,s:i,s:i,s:s,s:b,s:s,s:n,s:i,s:i,s:i}",
					"src_zone", "mgmt", "dst_zone", "mgmt", "ip_version", 4,
					"proto", 6, "dst_port", 22, "verdict", "accept", "passes",
					true, "by", "management", "rule", "flows", 2, "packets", 4,
					"bytes", 240));
	struct audit_report *m = s2_changed(&x, j, NULL);
	cr_expect_eq(m->total.flows, NS2OBS + 2);
	cr_expect_eq(m->denied.flows, NS2OBS);
	cr_expect_eq(m->covered.flows, 0);
	audit_report_free(m);

	/* Evidence the audit cannot use leaves the end to its zone: pseudonyms, an
	 * incomplete list, an agent that lists no hosts. */
	const char *cases[] = {"pseudonyms", "incomplete", "absent"};
	for (size_t c = 0; c < 3; c++) {
		j = json_deep_copy(base);
		t = s2_tuple(j, "guest", "servers", 53);
		json_t *h = json_object_get(t, "hosts");
		if (c == 0)
			json_array_set_new(json_object_get(h, "dst"), 0,
					   json_string("h:0123456789abcdef"));
		else if (c == 1)
			json_object_set_new(h, "src_complete", json_false());
		else
			json_object_del(t, "hosts");
		struct audit_report *r = s2_changed(&x, j, NULL);
		const struct audit_suggestion *g = s2_find(r, "guest", "servers", 53);
		cr_assert(g, "%s", cases[c]);
		cr_expect_eq(g->object[c == 1 ? 0 : 1], -1, "%s: the zone", cases[c]);
		cr_expect_eq(g->object[0] >= 0 && g->object[1] >= 0, false, "%s", cases[c]);
		if (c == 1)
			cr_expect_str_eq(s2_object(r, g, 1), "resolvers",
					 "the other end still known");
		audit_report_free(r);
	}
	json_decref(base);
	s2_free(&x);
}
