// SPDX-License-Identifier: MIT
/*
 * The compiler (compile/compile.c): golden rulesets byte for byte, every
 * generated ruleset accepted by libnftables (dry run in a fresh network
 * namespace), the structure of the rules (one per policy rule and family,
 * counters, comments, no IPv6 match from an IPv4-only rule), the
 * classification table the agent loads, and where flows are judged and
 * counted.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile/compile.h"
#include "core/sha256.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

#define GOLDEN	   "tests/golden/policy"
#define GOLDEN_INV GOLDEN "/inventory"
#define DAY	   "2026-01-01"

struct world {
	struct inventory *inv;
	struct policy *p;
	struct pol_build *b;
};

static void load_world(struct world *w, const char *rel)
{
	struct diag_list *dl = diag_list_new();
	char *ppath;
	memset(w, 0, sizeof(*w));
	cr_assert_eq(inventory_load(tu_path(rel), dl, &w->inv), 0, "%s", tu_diags(dl));
	cr_assert(asprintf(&ppath, "%s/policy.yaml", tu_path(rel)) > 0);
	if (tu_file_exists(ppath))
		cr_assert_eq(policy_load(ppath, "policy.yaml", w->inv, DAY, dl, &w->p), 0, "%s",
			     tu_diags(dl));
	else
		cr_assert_eq(policy_load_buffer(policy_example_yaml, strlen(policy_example_yaml),
						"policy.yaml", w->inv, DAY, dl, &w->p),
			     0, "%s", tu_diags(dl));
	cr_assert_eq(pol_build_new(w->p, w->inv, &w->b), 0);
	free(ppath);
	diag_list_free(dl);
}

static void free_world(struct world *w)
{
	pol_build_free(w->b);
	policy_free(w->p);
	inventory_free(w->inv);
}

/* ------------------------------------------------------------------ */

static int compile_golden(const char *out, enum pol_mode mode, const char *site)
{
	struct world w;
	load_world(&w, GOLDEN_INV);
	int s = site ? inventory_find_site(w.inv, site) : -1;
	struct pol_compile_opts o = {.sites = &s, .nsites = site ? 1 : 0, .mode = mode};
	struct pol_compile_stats st;
	int rc = pol_compile(w.p, w.inv, out, &o, &st);
	free_world(&w);
	return rc;
}

static void expect_same_file(const char *want, const char *got)
{
	size_t wl, gl;
	char *a = tu_read(want, &wl), *b = tu_read(got, &gl);
	cr_assert_not_null(a, "missing %s (scripts/regen-golden.sh)", want);
	cr_assert_not_null(b, "missing %s", got);
	cr_expect(wl == gl && memcmp(a, b, wl) == 0,
		  "%s differs from the golden file %s (run scripts/regen-golden.sh if intended)",
		  got, want);
	free(a);
	free(b);
}

Test(compile, golden_files_byte_for_byte)
{
	char *dir = tu_tmpdir();
	char *odir;
	cr_assert(asprintf(&odir, "%s/observe", dir) > 0);
	cr_assert_eq(compile_golden(dir, POL_MODE_ENFORCE, NULL), 0);
	cr_assert_eq(compile_golden(odir, POL_MODE_OBSERVE, "S1"), 0);
	DIR *d = opendir(tu_path(GOLDEN "/expected"));
	cr_assert_not_null(d);
	struct dirent *e;
	size_t n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *want, *got;
		cr_assert(asprintf(&want, "%s/%s", tu_path(GOLDEN "/expected"), e->d_name) > 0);
		if (strcmp(e->d_name, "S1.observe.nft") == 0)
			cr_assert(asprintf(&got, "%s/S1.nft", odir) > 0);
		else
			cr_assert(asprintf(&got, "%s/%s", dir, e->d_name) > 0);
		expect_same_file(want, got);
		free(want);
		free(got);
		n++;
	}
	closedir(d);
	/* Four gateways, two files each, plus the observe-mode ruleset. */
	cr_expect_eq(n, 9);
	free(odir);
	tu_rmdir(dir);
	free(dir);
}

Test(compile, golden_rulesets_pass_nft_dry_run)
{
	const char *names[] = {"DC1.nft", "S1.nft", "S2.nft", "S3.nft", "S1.observe.nft"};
	char *paths[5];
	for (int i = 0; i < 5; i++)
		cr_assert(asprintf(&paths[i], "%s/%s", tu_path(GOLDEN "/expected"), names[i]) > 0);
	struct tu_nft_job job = {.files = (const char *const *)paths, .nfiles = 5};
	char msg[4096];
	int rc = tu_nft_dry_run(&job, msg, sizeof(msg));
	tu_skip_without_netns(rc);
	cr_expect_eq(rc, 0, "%s", msg);
	for (int i = 0; i < 5; i++)
		free(paths[i]);
}

Test(compile, dry_run_catches_a_broken_ruleset)
{
	/* The harness itself must be able to fail. */
	const char *bad = "table inet segplan {\n\tchain forward {\n\t\ttcp dport 70000 "
			  "accept\n\t}\n}\n";
	struct tu_nft_job job = {.bufs = &bad, .nbufs = 1};
	char msg[4096];
	int rc = tu_nft_dry_run(&job, msg, sizeof(msg));
	tu_skip_without_netns(rc);
	cr_expect_eq(rc, 1);
	cr_expect(strstr(msg, "out of range") != NULL, "%s", msg);
}

Test(compile, every_example_gateway_passes_nft_dry_run, .timeout = 600)
{
	if (!tu_file_exists(tu_path("examples/stuttgart/sites.csv")))
		cr_skip_test("examples/stuttgart is not there yet");
	struct world w;
	load_world(&w, "examples/stuttgart");
	char **bufs = calloc(w.inv->nsites, sizeof(char *));
	cr_assert_not_null(bufs);
	for (size_t s = 0; s < w.inv->nsites; s++) {
		struct pol_table *t;
		size_t len;
		cr_assert_eq(pol_build_gateway(w.b, (int)s, POL_MODE_ENFORCE, &t), 0);
		cr_assert_eq(pol_nft_render(w.b, t, (int)s, &bufs[s], &len, NULL), 0);
		pol_table_free(t);
	}
	struct tu_nft_job job = {.bufs = (const char *const *)bufs, .nbufs = w.inv->nsites};
	char msg[4096];
	int rc = tu_nft_dry_run(&job, msg, sizeof(msg));
	tu_skip_without_netns(rc);
	cr_expect_eq(rc, 0, "%s", msg);
	for (size_t s = 0; s < w.inv->nsites; s++)
		free(bufs[s]);
	free(bufs);
	free_world(&w);
}

/* ------------------------------------------------------------------ */
/* Structure of the rules */

struct line_stats {
	size_t rule_lines, with_counter, v4, v6, mixed;
	char ids[64][64];
	size_t nids;
};

static void scan_rules(const char *text, struct line_stats *s)
{
	memset(s, 0, sizeof(*s));
	const char *l = text;
	while (l && *l) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		char line[4096];
		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		char *c = strstr(line, "comment \"rule:");
		if (c) {
			s->rule_lines++;
			s->with_counter += strstr(line, " counter ") != NULL;
			bool v4 = strstr(line, "ip saddr") || strstr(line, "ip daddr") ||
				  strstr(line, "nfproto ipv4") || strstr(line, "icmp type");
			bool v6 = strstr(line, "ip6 saddr") || strstr(line, "ip6 daddr") ||
				  strstr(line, "nfproto ipv6") || strstr(line, "icmpv6 type");
			s->v4 += v4 && !v6;
			s->v6 += v6 && !v4;
			s->mixed += v4 == v6;
			char id[64];
			sscanf(c + strlen("comment \"rule:"), "%63[^\" ]", id);
			bool seen = false;
			for (size_t i = 0; i < s->nids; i++)
				seen |= strcmp(s->ids[i], id) == 0;
			if (!seen && s->nids < 64)
				snprintf(s->ids[s->nids++], sizeof(s->ids[0]), "%s", id);
		}
		l = end ? end + 1 : NULL;
	}
}

Test(compile, one_rule_per_policy_rule_and_family_with_counter_and_comment)
{
	struct world w;
	load_world(&w, GOLDEN_INV);
	for (size_t s = 0; s < w.inv->nsites; s++) {
		struct pol_table *t;
		char *text;
		size_t len;
		struct pol_nft_stats st;
		cr_assert_eq(pol_build_gateway(w.b, (int)s, POL_MODE_ENFORCE, &t), 0);
		cr_assert_eq(pol_nft_render(w.b, t, (int)s, &text, &len, &st), 0);
		struct line_stats ls;
		scan_rules(text, &ls);
		/* Every policy rule of the table appears, under its own comment, and no other. */
		cr_expect_eq(ls.nids, pol_table_nrules(t), "%s", w.inv->sites[s].id);
		for (size_t i = 0; i < pol_table_nrules(t); i++) {
			bool found = false;
			for (size_t k = 0; k < ls.nids; k++)
				found |= strcmp(ls.ids[k], pol_table_rule(t, i)->id) == 0;
			cr_expect(found, "rule %s missing at %s", pol_table_rule(t, i)->id,
				  w.inv->sites[s].id);
		}
		cr_expect_eq(ls.rule_lines, st.rules);
		cr_expect_eq(ls.with_counter, ls.rule_lines, "every rule carries a counter");
		cr_expect_eq(ls.mixed, 0, "a rule mixes or omits families at %s",
			     w.inv->sites[s].id);
		cr_expect_eq(ls.v4 + ls.v6, ls.rule_lines);
		/* Rules that cannot apply here are left out: guests live only at S3. */
		bool guest = false;
		for (size_t k = 0; k < ls.nids; k++)
			guest |= strcmp(ls.ids[k], "guest-internet") == 0;
		cr_expect_eq(guest, strcmp(w.inv->sites[s].id, "S3") == 0);
		free(text);
		pol_table_free(t);
	}
	free_world(&w);
}

Test(compile, v4_only_zone_gives_no_v6_rule)
{
	struct world w;
	load_world(&w, GOLDEN_INV);
	int s1 = inventory_find_site(w.inv, "S1");
	struct pol_table *t;
	char *text;
	size_t len;
	cr_assert_eq(pol_build_gateway(w.b, s1, POL_MODE_ENFORCE, &t), 0);
	cr_assert_eq(pol_nft_render(w.b, t, s1, &text, &len, NULL), 0);
	size_t v4 = 0, v6 = 0;
	for (const char *l = text; (l = strstr(l, "comment \"rule:print-local\"")); l++) {
		const char *bol = l;
		while (bol > text && bol[-1] != '\n')
			bol--;
		if (strncmp(bol, "\t\tip6 ", 6) == 0)
			v6++;
		else if (strncmp(bol, "\t\tip ", 5) == 0)
			v4++;
	}
	cr_expect_eq(v4, 1, "printers (IPv4 only) get exactly one IPv4 rule");
	cr_expect_eq(v6, 0, "and no IPv6 rule that could match any IPv6 packet");
	/* A rule whose zones have both families gets one rule for each. */
	size_t both = 0;
	for (const char *l = text; (l = strstr(l, "comment \"rule:mgmt-all\"")); l++)
		both++;
	cr_expect_eq(both, 2);
	free(text);
	pol_table_free(t);
	free_world(&w);
}

Test(compile, observe_mode_keeps_rules_and_lets_denials_pass)
{
	struct world w;
	load_world(&w, GOLDEN_INV);
	int s1 = inventory_find_site(w.inv, "S1");
	struct pol_table *te, *to;
	char *e, *o;
	size_t len;
	struct pol_nft_stats se, so;
	cr_assert_eq(pol_build_gateway(w.b, s1, POL_MODE_ENFORCE, &te), 0);
	cr_assert_eq(pol_build_gateway(w.b, s1, POL_MODE_OBSERVE, &to), 0);
	cr_assert_eq(pol_nft_render(w.b, te, s1, &e, &len, &se), 0);
	cr_assert_eq(pol_nft_render(w.b, to, s1, &o, &len, &so), 0);
	struct line_stats le, lo;
	scan_rules(e, &le);
	scan_rules(o, &lo);
	/* The same rules; a reject is two nft rules (TCP reset, ICMP) only when it rejects. */
	cr_expect_geq(le.rule_lines, lo.rule_lines);
	cr_expect_eq(le.nids, lo.nids);
	cr_expect_eq(se.elements, so.elements);
	const char *fwd = strstr(o, "chain forward");
	const char *in = strstr(o, "chain input");
	cr_assert(fwd && in);
	/* No policy rule drops or rejects in observe mode; the forward default accepts. */
	cr_expect_null(strstr(fwd, "reject"));
	cr_expect(strstr(o, "log prefix \"segplan observe rule:school-apart \""));
	const char *def = strstr(fwd, "counter accept comment \"default\"");
	cr_expect(def && def < in, "forward default accepts in observe mode");
	cr_expect(strstr(e, "counter drop comment \"default\""));
	free(e);
	free(o);
	pol_table_free(te);
	pol_table_free(to);
	free_world(&w);
}

Test(compile, antispoof_first_and_atomic_table_replacement)
{
	struct world w;
	load_world(&w, GOLDEN_INV);
	for (size_t s = 0; s < w.inv->nsites; s++) {
		struct pol_table *t;
		char *text;
		size_t len;
		cr_assert_eq(pol_build_gateway(w.b, (int)s, POL_MODE_ENFORCE, &t), 0);
		cr_assert_eq(pol_nft_render(w.b, t, (int)s, &text, &len, NULL), 0);
		const char *a = strstr(text, "\ntable inet segplan\n");
		const char *d = strstr(text, "\ndelete table inet segplan\n");
		const char *b = strstr(text, "\ntable inet segplan {\n");
		cr_expect(a && d && b && a < d && d < b);
		const char *pre = strstr(text, "chain prerouting");
		const char *in = strstr(text, "chain input");
		cr_assert_not_null(in);
		cr_assert_not_null(pre);
		/* Anti-spoofing (raw prerouting, before conntrack and every filter chain)
		 * comes before anything that trusts a source: without an interface table,
		 * the strict reverse-path check. */
		const char *spoof = strstr(pre, "fib saddr . iif oif missing counter drop");
		cr_expect(spoof && spoof < strstr(pre, "notrack"));
		cr_expect(strstr(pre, "priority raw;"));
		cr_expect(
		    strstr(in, "ip saddr @mgmt_v4 counter accept comment \"fixed:anti-lockout\""));
		unsigned flags = w.inv->sites[s].flags;
		cr_expect_eq(strstr(in, "fixed:vrrp") != NULL, (flags & SITE_F_VRRP) != 0);
		cr_expect_eq(strstr(in, "fixed:ospf") != NULL, (flags & SITE_F_OSPF) != 0);
		cr_expect_eq(strstr(in, "fixed:bgp") != NULL, (flags & SITE_F_BGP) != 0);
		const char *fwd = strstr(text, "chain forward");
		cr_expect(strstr(fwd, "ct state established,related accept") <
			  strstr(fwd, "comment \"rule:"));
		/* Transit passes before conntrack's invalid verdict (it is untracked),
		 * and no ICMP error passes unless RELATED. */
		cr_expect(strstr(fwd, "comment \"fixed:transit\"") <
			  strstr(fwd, "comment \"fixed:invalid\""));
		cr_expect_null(strstr(text, "icmp-errors"));
		free(text);
		pol_table_free(t);
	}
	free_world(&w);
}

Test(compile, rule_count_does_not_grow_with_sites)
{
	/* Duplicate the golden city's sites many times over: per-gateway rule counts stay. */
	struct world w;
	load_world(&w, GOLDEN_INV);
	size_t max_rules = 0;
	for (size_t s = 0; s < w.inv->nsites; s++) {
		struct pol_table *t;
		cr_assert_eq(pol_build_gateway(w.b, (int)s, POL_MODE_ENFORCE, &t), 0);
		if (pol_table_nrules(t) > max_rules)
			max_rules = pol_table_nrules(t);
		pol_table_free(t);
	}
	cr_expect_leq(max_rules, w.p->nrules);
	free_world(&w);
	if (!tu_file_exists(tu_path("examples/stuttgart/sites.csv")))
		return;
	load_world(&w, "examples/stuttgart");
	size_t live = 0;
	for (size_t i = 0; i < w.p->nrules; i++)
		live += !w.p->rules[i].expired;
	for (size_t s = 0; s < w.inv->nsites; s++) {
		struct pol_table *t;
		cr_assert_eq(pol_build_gateway(w.b, (int)s, POL_MODE_ENFORCE, &t), 0);
		cr_expect_leq(pol_table_nrules(t), live);
		pol_table_free(t);
	}
	free_world(&w);
}

Test(compile, policy_json_loads_back)
{
	char *dir = tu_tmpdir();
	cr_assert_eq(compile_golden(dir, POL_MODE_ENFORCE, "S2"), 0);
	char *path;
	cr_assert(asprintf(&path, "%s/S2.policy.json", dir) > 0);
	struct diag_list *dl = diag_list_new();
	struct pol_table *t;
	cr_assert_eq(pol_table_load(path, dl, &t), 0, "%s", tu_diags(dl));
	struct pol_table_meta m;
	pol_table_get_meta(t, &m);
	cr_expect_str_eq(m.gateway, "S2");
	cr_expect_str_eq(m.district, "Mitte");
	cr_expect_eq(strncmp(m.hash, "sha256:", 7), 0);
	cr_expect_eq(strlen(m.hash), 7 + 64);
	/* The site exception comes first and is marked. */
	cr_assert_gt(pol_table_nrules(t), 0);
	cr_expect_str_eq(pol_table_rule(t, 0)->id, "s2-lab-printers");
	cr_expect(pol_table_rule(t, 0)->exception);
	cr_expect_not(pol_table_rule(t, 1)->exception);
	/* Only S2 was written: nothing else appears. */
	char *other;
	cr_assert(asprintf(&other, "%s/S1.nft", dir) > 0);
	cr_expect_not(tu_file_exists(other));
	pol_table_free(t);
	diag_list_free(dl);
	free(path);
	free(other);
	tu_rmdir(dir);
	free(dir);
}

Test(compile, judges_and_counting)
{
	struct world w;
	load_world(&w, GOLDEN_INV);
	struct {
		const char *src, *dst;
		const char *judges, *counted;
	} cases[] = {
	    {"10.0.1.10", "10.1.0.10", "S1,DC1", "S1"},	 /* initiator's site counts */
	    {"10.1.0.10", "10.0.1.10", "DC1,S1", "DC1"}, /* the other way round */
	    {"10.0.1.10", "10.2.1.10", "S1", "S1"},	 /* one site, one gateway */
	    {"8.8.8.8", "10.0.3.10", "S3", "S3"},	 /* from outside: destination counts */
	    {"10.200.0.1", "10.1.0.10", "DC1", "DC1"},	 /* a VPN pool is at no site */
	    {"8.8.8.8", "10.0.0.1", "", "-"},		 /* nobody's segment */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_addr s, d;
		int judges[2], counted;
		size_t n;
		ip_addr_parse(cases[i].src, &s);
		ip_addr_parse(cases[i].dst, &d);
		pol_build_judges(w.b, &s, &d, judges, &n, &counted);
		char got[64] = "";
		for (size_t k = 0; k < n; k++) {
			strcat(got, k ? "," : "");
			strcat(got, w.inv->sites[judges[k]].id);
		}
		cr_expect_str_eq(got, cases[i].judges, "%s -> %s", cases[i].src, cases[i].dst);
		cr_expect_str_eq(counted >= 0 ? w.inv->sites[counted].id : "-", cases[i].counted);
	}
	free_world(&w);
}

Test(compile, hash_follows_content_not_formatting)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv;
	cr_assert_eq(inventory_load(tu_path(GOLDEN_INV), dl, &inv), 0);
	const char *a =
	    "services: {web: {tcp: [80]}}\nrules:\n"
	    "  - {id: r, from: [admin], to: [servers], services: [web], action: accept}\n";
	const char *b =
	    "# the same policy, laid out differently\nservices:\n  web:\n    tcp: [80]\n"
	    "rules:\n  - id: r\n    from: admin\n    to: servers\n    services: web\n"
	    "    action: accept\n";
	const char *c =
	    "services: {web: {tcp: [81]}}\nrules:\n"
	    "  - {id: r, from: [admin], to: [servers], services: [web], action: accept}\n";
	const char *texts[] = {a, b, c};
	char hashes[3][80];
	for (int i = 0; i < 3; i++) {
		struct policy *p;
		struct pol_build *bd;
		cr_assert_eq(
		    policy_load_buffer(texts[i], strlen(texts[i]), "policy.yaml", inv, DAY, dl, &p),
		    0, "%s", tu_diags(dl));
		cr_assert_eq(pol_build_new(p, inv, &bd), 0);
		snprintf(hashes[i], sizeof(hashes[i]), "%s", pol_build_hash(bd));
		pol_build_free(bd);
		policy_free(p);
	}
	cr_expect_str_eq(hashes[0], hashes[1]);
	cr_expect_str_neq(hashes[0], hashes[2]);
	inventory_free(inv);
	diag_list_free(dl);
}

static void hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

Test(compile, sha256_known_answers)
{
	/* FIPS 180-4 examples (NIST CSRC), including the two-block padding case. */
	const char *msgs[] = {"", "abc",
			      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
	const char *want[] = {
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	};
	for (int i = 0; i < 3; i++) {
		uint8_t d[32];
		char h[65];
		sha256(msgs[i], strlen(msgs[i]), d);
		hex(d, h);
		cr_expect_str_eq(h, want[i]);
	}
	/* A million 'a's crosses many blocks. */
	char *m = malloc(1000000);
	memset(m, 'a', 1000000);
	uint8_t d[32];
	char h[65];
	sha256(m, 1000000, d);
	hex(d, h);
	cr_expect_str_eq(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(m);
}

Test(compile, cli_input_error_writes_nothing)
{
	const char *bin = getenv("SEGPLAN_BIN");
	if (!bin || !*bin)
		cr_skip_test("SEGPLAN_BIN is not set (run through ctest)");
	char *dir = tu_tmpdir(), *cmd, *out;
	cr_assert(asprintf(&cmd,
			   "cp %s/*.csv %s/ && printf 'rules:\\n  - {id: a, from: [admn], to: "
			   "any, services: any, action: accept}\\n' > %s/policy.yaml",
			   tu_path(GOLDEN_INV), dir, dir) > 0);
	cr_assert_eq(tu_run(cmd), 0);
	free(cmd);
	cr_assert(asprintf(&out, "%s/out", dir) > 0);
	cr_assert(asprintf(&cmd, "%s policy compile %s --out %s 2>/dev/null", bin, dir, out) > 0);
	cr_expect_eq(tu_run(cmd), 3);
	cr_expect_not(tu_file_exists(out), "nothing is written on an input error");
	free(cmd);
	cr_assert(asprintf(&cmd, "%s policy compile %s 2>/dev/null", bin, dir) > 0);
	cr_expect_eq(tu_run(cmd), 2, "missing --out is a usage error");
	free(cmd);
	free(out);
	tu_rmdir(dir);
	free(dir);
}

/* The set name after "ip saddr @" in the rule with comment id, into out. */
static void saddr_set_of(const char *nft, const char *id, char *out, size_t size)
{
	char *c;
	cr_assert(asprintf(&c, "comment \"rule:%s\"", id) > 0);
	const char *at = strstr(nft, c);
	cr_assert_not_null(at, "no rule %s", id);
	/* The rule's line starts after the previous newline. */
	while (at > nft && at[-1] != '\n')
		at--;
	const char *m = strstr(at, "ip saddr @");
	cr_assert_not_null(m);
	m += strlen("ip saddr @");
	size_t n = strcspn(m, " \n");
	cr_assert_lt(n, size);
	memcpy(out, m, n);
	out[n] = '\0';
	free(c);
}

/* 60 zones of 32-character names (the longest a zone may have) in one rule: the
 * union's name (over 2,000 characters spelled out) is bounded,
 * deterministic and distinct from a union that differs in one zone; no read
 * or write beyond a buffer (run under ASan: -DSEGPLAN_SANITIZE=ON). */
Test(compile, long_unions_get_bounded_distinct_names)
{
	enum { NZ = 60 };
	char *dir = tu_tmpdir(), *cmd;
	cr_assert(asprintf(&cmd, "cp %s/*.csv %s/", tu_path(GOLDEN_INV), dir) > 0);
	cr_assert_eq(tu_run(cmd), 0);
	free(cmd);
	char path[4096];
	snprintf(path, sizeof(path), "%s/segments.csv", dir);
	FILE *f = fopen(path, "a");
	snprintf(path, sizeof(path), "%s/addressplan.csv", dir);
	FILE *plan = fopen(path, "a");
	cr_assert(f && plan);
	char *all = NULL, *other = NULL, *rev = NULL;
	size_t la = 0, lo = 0, lr = 0;
	FILE *fa = open_memstream(&all, &la), *fo = open_memstream(&other, &lo),
	     *fr = open_memstream(&rev, &lr);
	for (int i = 0; i < NZ; i++) {
		char zone[64];
		snprintf(zone, sizeof(zone), "zone-%02d-%.24s", i, "abcdefghijklmnopqrstuvwxyz");
		cr_assert_eq(strlen(zone), 32);
		fprintf(f, "S3,seg%02d,%s,%d,10.5.%d.0/24,\n", i, zone, 100 + i, i);
		fprintf(plan, "%s,10.5.%d.0/24\n", zone, i);
		fprintf(fa, "%s%s", i ? ", " : "", zone);
		fprintf(fo, "%s%s", i ? ", " : "", i == NZ - 1 ? "admin" : zone);
	}
	for (int i = NZ - 1; i >= 0; i--)
		fprintf(fr, "%szone-%02d-%.24s", i < NZ - 1 ? ", " : "", i,
			"abcdefghijklmnopqrstuvwxyz");
	fclose(f);
	fclose(plan);
	fclose(fa);
	fclose(fo);
	fclose(fr);
	char *text;
	cr_assert(
	    asprintf(&text,
		     "services:\n"
		     "  web: {tcp: [80, 443]}\n"
		     "  dns: {udp: [53]}\n"
		     "rules:\n"
		     "  - {id: all, from: [%s], to: any, services: [web], action: accept}\n"
		     "  - {id: other, from: [%s], to: any, services: [dns], action: accept}\n"
		     "  - {id: reversed, from: [%s], to: any, services: [dns], action: drop}\n",
		     all, other, rev) > 0);
	struct diag_list *dl = diag_list_new();
	struct inventory *inv;
	struct policy *p;
	struct pol_build *b;
	struct pol_table *t;
	cr_assert_eq(inventory_load(dir, dl, &inv), 0, "%s", tu_diags(dl));
	cr_assert_eq(policy_load_buffer(text, strlen(text), "policy.yaml", inv, DAY, dl, &p), 0,
		     "%s", tu_diags(dl));
	cr_assert_eq(pol_build_new(p, inv, &b), 0);
	int s3 = inventory_find_site(inv, "S3");
	cr_assert_eq(pol_build_gateway(b, s3, POL_MODE_ENFORCE, &t), 0);
	char *nft, *nft2;
	size_t len, len2;
	cr_assert_eq(pol_nft_render(b, t, s3, &nft, &len, NULL), 0);
	cr_assert_eq(pol_nft_render(b, t, s3, &nft2, &len2, NULL), 0);
	cr_expect(len == len2 && memcmp(nft, nft2, len) == 0, "the same names every time");
	char a[512], o[512], r[512];
	saddr_set_of(nft, "all", a, sizeof(a));
	saddr_set_of(nft, "other", o, sizeof(o));
	saddr_set_of(nft, "reversed", r, sizeof(r));
	cr_expect_lt(strlen(a), 200, "%s", a);
	cr_expect_lt(strlen(o), 200, "%s", o);
	cr_expect(strncmp(a, "zu_zone-00-", 11) == 0, "a readable prefix: %s", a);
	cr_expect(strlen(a) > 4 && strcmp(a + strlen(a) - 3, "_v4") == 0, "%s", a);
	cr_expect_str_neq(a, o, "unions that differ in one zone share the set %s", a);
	cr_expect_str_eq(a, r, "the order of the zones does not matter");
	free(nft);
	free(nft2);
	free(text);
	free(all);
	free(other);
	free(rev);
	pol_table_free(t);
	pol_build_free(b);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(compile, set_names_never_merge_different_zone_lists)
{
	/* A zone called "admin__servers" spells like the union of admin and servers. */
	char *dir = tu_tmpdir(), *cmd;
	cr_assert(
	    asprintf(&cmd,
		     "cp %s/*.csv %s/ && sed -i 's/,guest,70,/,admin__servers,70,/' "
		     "%s/segments.csv && sed -i 's/^guest,/admin__servers,/' %s/addressplan.csv",
		     tu_path(GOLDEN_INV), dir, dir, dir) > 0);
	cr_assert_eq(tu_run(cmd), 0);
	struct diag_list *dl = diag_list_new();
	struct inventory *inv;
	struct policy *p;
	struct pol_build *b;
	struct pol_table *t;
	cr_assert_eq(inventory_load(dir, dl, &inv), 0, "%s", tu_diags(dl));
	const char *text = "rules:\n"
			   "  - {id: union, from: [admin, servers], to: any, services: any, "
			   "action: accept}\n"
			   "  - {id: single, from: [admin__servers], to: any, services: any, "
			   "action: drop}\n";
	cr_assert_eq(policy_load_buffer(text, strlen(text), "policy.yaml", inv, DAY, dl, &p), 0,
		     "%s", tu_diags(dl));
	cr_assert_eq(pol_build_new(p, inv, &b), 0);
	int s3 = inventory_find_site(inv, "S3");
	cr_assert_eq(pol_build_gateway(b, s3, POL_MODE_ENFORCE, &t), 0);
	char *nft;
	size_t len;
	cr_assert_eq(pol_nft_render(b, t, s3, &nft, &len, NULL), 0);
	char u[128] = "", s[128] = "";
	const char *lu = strstr(nft, "\t\tip saddr @");
	cr_assert_not_null(lu);
	sscanf(lu, "\t\tip saddr @%127s", u);
	const char *ls = strstr(nft, "comment \"rule:union\"");
	ls = strstr(ls, "\t\tip saddr @");
	cr_assert_not_null(ls);
	sscanf(ls, "\t\tip saddr @%127s", s);
	cr_expect_str_neq(u, s, "two zone lists share the set %s", u);
	/* And the single zone's set holds only its own prefix. */
	char *decl;
	cr_assert(asprintf(&decl, "set %s {", s) > 0);
	const char *d = strstr(nft, decl);
	cr_assert_not_null(d, "%s", nft);
	cr_expect_not_null(strstr(d, "10.4.3.0/24"));
	const char *end = strstr(d, "\t}\n");
	cr_expect(end && !memmem(d, (size_t)(end - d), "10.0.1.0", 8));
	free(decl);
	free(nft);
	pol_table_free(t);
	pol_build_free(b);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
	free(cmd);
	tu_rmdir(dir);
	free(dir);
}

/* With an interface table: per-interface anti-spoofing for every segment, the
 * site's prefixes refused from every other interface, and the strict
 * reverse-path check only where the site has one path (one uplink or transfer
 * interface, one link): a second path makes traffic asymmetric. */
Test(compile, antispoofing_per_interface_and_strict_rpf_only_single_homed)
{
	struct world w;
	load_world(&w, "examples/stuttgart");
	size_t single = 0, multi = 0;
	for (size_t s = 0; s < w.inv->nsites; s++) {
		struct pol_table *t;
		char *text, *pre;
		size_t len, paths = 0, links = 0;
		cr_assert_eq(pol_build_gateway(w.b, (int)s, POL_MODE_ENFORCE, &t), 0);
		cr_assert_eq(pol_nft_render(w.b, t, (int)s, &text, &len, NULL), 0);
		cr_assert_not_null(pre = strstr(text, "chain prerouting"));
		*strstr(pre, "\n\t}\n") = '\0';
		for (size_t i = w.inv->iface_start[s]; i < w.inv->iface_start[s + 1]; i++) {
			const struct iface *x = &w.inv->ifaces[i];
			char want[128];
			if (x->role != IFACE_SEGMENT) {
				paths++;
				continue;
			}
			snprintf(want, sizeof(want), "iifname \"%s\" ip saddr != ", x->name);
			cr_expect(strstr(pre, want), "%s: %s", w.inv->sites[s].id, want);
		}
		for (size_t l = 0; l < w.inv->nlinks; l++)
			links += w.inv->links[l].kind != LINK_PLANNED &&
				 (w.inv->links[l].a == (int)s || w.inv->links[l].b == (int)s);
		bool strict = strstr(pre, "fib saddr . iif oif missing") != NULL;
		cr_expect_eq(strict, paths <= 1 && links <= 1, "%s: %zu paths, %zu links",
			     w.inv->sites[s].id, paths, links);
		cr_expect(
		    strstr(pre, "ip saddr @local_v4 counter drop comment \"fixed:antispoof\""));
		single += strict;
		multi += !strict;
		free(text);
		pol_table_free(t);
	}
	cr_expect_gt(single, 0);
	cr_expect_gt(multi, 0);
	free_world(&w);
}

/* ------------------------------------------------------------------ */
/* Stage 2: the rule count does not grow with the hosts */

/* The nft rules rendered from policy rules at site of the fixture inventory with policy text. */
static size_t s2_rules(const char *text, const char *site, size_t *elements)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct policy *p = NULL;
	struct pol_build *b = NULL;
	struct pol_table *t = NULL;
	cr_assert_eq(inventory_load(tu_path("tests/e2e/fixtures/stage2"), dl, &inv), 0, "%s",
		     tu_diags(dl));
	cr_assert_eq(policy_load_buffer(text, strlen(text), "policy.yaml", inv, DAY, dl, &p), 0,
		     "%s", tu_diags(dl));
	int s = inventory_find_site(inv, site);
	cr_assert_eq(pol_build_new(p, inv, &b), 0);
	cr_assert_eq(pol_build_gateway(b, s, POL_MODE_ENFORCE, &t), 0);
	char *nft = NULL;
	size_t len;
	struct pol_nft_stats st;
	cr_assert_eq(pol_nft_render(b, t, s, &nft, &len, &st), 0);
	*elements = st.elements;
	free(nft);
	pol_table_free(t);
	pol_build_free(b);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
	return st.rules;
}

Test(compile, stage2_rules_do_not_grow_with_hosts)
{
	/* One object with 2 addresses, then with 2,002, used by three rules. */
	char *big = NULL, *small = NULL;
	size_t cap = 64 * 2100, o = 0;
	char *addrs = malloc(cap);
	cr_assert_not_null(addrs);
	o += (size_t)snprintf(addrs + o, cap - o, "[10.99.8.53, \"fd99:0:1::53\"");
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(addrs + o, cap - o, ", 100.80.%d.%d", i / 125, 1 + 2 * (i % 125));
	snprintf(addrs + o, cap - o, "]");
	static const char fmt[] = "version: 1\nservices:\n  web: {tcp: [80]}\n  dns: {udp: [53]}\n"
				  "  ping: {icmp: [echo-request], icmpv6: [echo-request]}\n"
				  "objects:\n  x: %s\nrules:\n"
				  "  - {id: a, from: [admin], to: x, services: [web], action: accept}\n"
				  "  - {id: b, from: [voip], to: x, services: [dns, ping], action: accept}\n"
				  "  - {id: c, from: x, to: [admin], services: [web], action: reject}\n";
	cr_assert(asprintf(&small, fmt, "[10.99.8.53, \"fd99:0:1::53\"]") > 0);
	cr_assert(asprintf(&big, fmt, addrs) > 0);
	size_t es, eb;
	size_t rs = s2_rules(small, "S1", &es), rb = s2_rules(big, "S1", &eb);
	cr_expect_eq(rs, rb, "rules: %zu with 2 addresses, %zu with 2,002", rs, rb);
	cr_expect_geq(eb, es + 2000, "the addresses are set elements: %zu vs %zu", eb, es);
	/* The bound: per policy rule and family one rule per service kind (ports, ICMP,
	 * ICMPv6), two for reject: a 2, b (ports+icmp in v4, ports+icmpv6 in v6) 4, c 4. */
	cr_expect_eq(rs, 2u + 4u + 4u, "%zu rules", rs);
	free(addrs);
	free(small);
	free(big);
}
