// SPDX-License-Identifier: MIT
/*
 * The kernel-counter reader against a real kernel: every test runs in its own
 * Criterion worker process, which moves into a fresh network namespace
 * (unshare) before loading anything, so nothing touches the host's ruleset.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "deploy/apply.h"
#include "nftstate/nftstate.h"
#include "tests/unit/testutil.h"

static void scratch_netns(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root for a network namespace");
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
}

/* Loads ruleset text with libnftables; the reader under test never sees
 * how the table got there. */
static void load(const char *text)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	cr_assert_not_null(ctx);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	int r = nft_run_cmd_from_buffer(ctx, text);
	cr_assert_eq(r, 0, "nft: %s", nft_ctx_get_error_buffer(ctx));
	nft_ctx_free(ctx);
}

/* `nft -a list table` as a second opinion on rule handles. */
static char *list_with_handles(const char *table)
{
	char cmd[128];
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	cr_assert_not_null(ctx);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_HANDLE);
	snprintf(cmd, sizeof(cmd), "list table %s", table);
	cr_assert_eq(nft_run_cmd_from_buffer(ctx, cmd), 0);
	char *out = strdup(nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	return out;
}

static uint64_t listed_handle(const char *listing, const char *comment)
{
	char needle[128];
	snprintf(needle, sizeof(needle), "comment \"%s\" # handle ", comment);
	const char *p = strstr(listing, needle);
	cr_assert_not_null(p, "no %s in\n%s", needle, listing);
	return strtoull(p + strlen(needle), NULL, 10);
}

static const char small_table[] =
    "table inet segplan {\n"
    "  chain forward {\n"
    "    type filter hook forward priority 0; policy drop;\n"
    "    ct state established,related accept\n"
    "    ip saddr 10.99.1.0/24 tcp dport 22 counter accept comment \"rule:ssh\"\n"
    "    ip6 saddr fd99::/64 tcp dport 443 counter accept comment \"rule:web6\"\n"
    "  }\n"
    "  chain input {\n"
    "    type filter hook input priority 0; policy accept;\n"
    "    udp dport 53 counter accept comment \"dns, no id\"\n"
    "  }\n"
    "}\n";

Test(nftstate, rules_handles_and_comments)
{
	scratch_netns();
	load(small_table);
	struct nfts *s;
	cr_assert_eq(nfts_read("inet", "segplan", &s), 0);
	cr_assert_eq(nfts_nchains(s), 2);
	cr_assert_eq(nfts_nrules(s), 4);

	const struct nfts_chain *fw = nfts_chain_find(s, "forward");
	cr_assert_not_null(fw);
	cr_assert(fw->base);
	cr_assert_str_eq(fw->type, "filter");
	cr_assert_eq(fw->policy, 0u, "forward's policy is drop");
	cr_assert_eq(nfts_chain_find(s, "input")->policy, 1u, "input's policy is accept");

	const struct nfts_rule *r0 = nfts_rule_at(s, 0);
	cr_assert_str_eq(r0->chain, "forward");
	cr_assert_null(r0->comment);
	cr_assert_null(r0->id);
	cr_assert_not(r0->counter);

	const struct nfts_rule *ssh = nfts_rule_find(s, "ssh");
	const struct nfts_rule *web6 = nfts_rule_find(s, "web6");
	cr_assert_not_null(ssh);
	cr_assert_not_null(web6);
	cr_assert_eq(ssh, nfts_rule_at(s, 1), "rules come in evaluation order");
	cr_assert_str_eq(ssh->comment, "rule:ssh");
	cr_assert_str_eq(ssh->chain, "forward");
	cr_assert(ssh->counter);

	const struct nfts_rule *dns = nfts_rule_at(s, 3);
	cr_assert_str_eq(dns->chain, "input");
	cr_assert_str_eq(dns->comment, "dns, no id", "a comment without rule: has no id");
	cr_assert_null(dns->id);
	cr_assert_null(nfts_rule_find(s, "dns"));

	char *listing = list_with_handles("inet segplan");
	cr_assert_eq(ssh->handle, listed_handle(listing, "rule:ssh"));
	cr_assert_eq(web6->handle, listed_handle(listing, "rule:web6"));
	cr_assert_neq(ssh->handle, web6->handle);
	free(listing);
	nfts_free(s);
}

Test(nftstate, counters_read_back_exactly)
{
	scratch_netns();
	load("table inet segplan {\n"
	     "  chain forward {\n"
	     "    type filter hook forward priority 0; policy accept;\n"
	     "    tcp dport 80 counter packets 5 bytes 300 accept comment \"rule:five\"\n"
	     "    tcp dport 81 counter packets 4294967301 bytes 1099511627776 accept "
	     "comment \"rule:big\"\n"
	     "    tcp dport 82 counter accept comment \"rule:zero\"\n"
	     "    tcp dport 80 counter accept comment \"rule:five-again\"\n"
	     "  }\n"
	     "}\n");
	struct nfts *s;
	cr_assert_eq(nfts_read("inet", "segplan", &s), 0);
	const struct nfts_rule *five = nfts_rule_find(s, "five");
	const struct nfts_rule *big = nfts_rule_find(s, "big");
	const struct nfts_rule *zero = nfts_rule_find(s, "zero");
	cr_assert_eq(five->packets, 5);
	cr_assert_eq(five->bytes, 300);
	cr_assert_eq(big->packets, 4294967301ULL, "64-bit packet counts survive");
	cr_assert_eq(big->bytes, 1099511627776ULL);
	cr_assert_eq(zero->packets, 0);
	cr_assert_eq(zero->bytes, 0);
	const struct nfts_rule *same = nfts_rule_find(s, "five-again");
	cr_assert_eq(same->packets, 0);
	cr_assert_str_eq(five->fingerprint, same->fingerprint,
			 "counter values stay out of the fingerprint");
	nfts_free(s);
}

Test(nftstate, missing_table_and_bad_family)
{
	scratch_netns();
	struct nfts *s = (struct nfts *)1;
	cr_assert_eq(nfts_read("inet", "segplan", &s), -ENOENT);
	cr_assert_null(s);
	load("table ip segplan {\n  chain c {\n  }\n}\n");
	cr_assert_eq(nfts_read("inet", "segplan", &s), -ENOENT, "other families do not count");
	cr_assert_eq(nfts_read("ip", "segplan", &s), 0);
	cr_assert_eq(nfts_nchains(s), 1);
	nfts_free(s);
	cr_assert_eq(nfts_read("inet6", "segplan", &s), -EINVAL);
}

Test(nftstate, set_elements_in_nft_notation)
{
	scratch_netns();
	load("table inet segplan {\n"
	     "  set admins { type ipv4_addr; elements = { 10.99.1.2, 10.99.1.1 } }\n"
	     "  set nets { type ipv4_addr; flags interval;\n"
	     "    elements = { 10.99.3.0/24, 10.99.4.0/24, 10.99.9.9 } }\n"
	     "  set v6 { type ipv6_addr; flags interval; elements = { fd99::/64 } }\n"
	     "  set flows { type ipv4_addr . inet_proto . inet_service; flags interval;\n"
	     "    elements = { 10.99.2.1 . tcp . 80-90, 10.99.2.2 . udp . 53 } }\n"
	     "  map vm { type ipv6_addr : verdict; elements = { fd99::1 : accept } }\n"
	     "  chain forward {\n"
	     "    type filter hook forward priority 0; policy accept;\n"
	     "    ip saddr { 10.99.7.1, 10.99.7.2 } counter accept comment \"rule:anon\"\n"
	     "  }\n"
	     "}\n");
	struct nfts *s;
	cr_assert_eq(nfts_read("inet", "segplan", &s), 0);
	const struct nfts_set *a = nfts_set_find(s, "admins");
	cr_assert_eq(a->nelems, 2);
	cr_assert_str_eq(a->elems[0], "10.99.1.1", "elements come sorted");
	cr_assert_str_eq(a->elems[1], "10.99.1.2");

	const struct nfts_set *n = nfts_set_find(s, "nets");
	cr_assert_eq(n->nelems, 3);
	cr_assert_str_eq(n->elems[0], "10.99.3.0-10.99.3.255", "prefixes become ranges");
	cr_assert_str_eq(n->elems[1], "10.99.4.0-10.99.4.255");
	cr_assert_str_eq(n->elems[2], "10.99.9.9", "a single address stays one");

	cr_assert_str_eq(nfts_set_find(s, "v6")->elems[0], "fd99::-fd99::ffff:ffff:ffff:ffff");

	const struct nfts_set *f = nfts_set_find(s, "flows");
	cr_assert_eq(f->nelems, 2);
	cr_assert_str_eq(f->elems[0], "10.99.2.1 . 6 . 80-10.99.2.1 . 6 . 90");
	cr_assert_str_eq(f->elems[1], "10.99.2.2 . 17 . 53");

	cr_assert_str_eq(nfts_set_find(s, "vm")->elems[0], "fd99::1 : accept");

	/* The inline set is anonymous: not found by name, but its elements
	 * stand in the rule's fingerprint in place of its __set%d name. */
	const struct nfts_rule *r = nfts_rule_find(s, "anon");
	bool found_anon = false;
	for (size_t i = 0; i < nfts_nsets(s); i++) {
		const struct nfts_set *st = nfts_set_at(s, i);
		if (st->anonymous) {
			found_anon = true;
			cr_assert_null(nfts_set_find(s, st->name));
			cr_assert_null(strstr(r->fingerprint, st->name), "%s", r->fingerprint);
		}
	}
	cr_assert(found_anon);
	cr_assert_not_null(strstr(r->fingerprint, "set {10.99.7.1, 10.99.7.2}"), "%s",
			   r->fingerprint);
	nfts_free(s);
}

/* The same rules, written differently and loaded in another order. */
static const char want_text[] =
    "table inet want {\n"
    "  set admins { type ipv4_addr; elements = { 10.99.1.1, 10.99.1.2 } }\n"
    "  chain forward { type filter hook forward priority 0; policy drop;\n"
    "    ct state established,related accept\n"
    "    ip saddr @admins tcp dport 22 counter accept comment \"rule:ssh\"\n"
    "    ip saddr { 10.99.5.1, 10.99.5.2 } tcp dport 80 counter accept comment \"rule:web\"\n"
    "    tcp dport 25 counter accept comment \"rule:smtp\"\n"
    "    tcp dport 53 counter accept comment \"rule:dns\"\n"
    "  }\n"
    "}\n";

Test(nftstate, fingerprints_ignore_formatting_counters_and_set_names)
{
	scratch_netns();
	/* an extra anonymous set first, so that __set%d numbers differ */
	load("table inet have {\n"
	     "  chain other { ip daddr { 10.99.8.8, 10.99.8.9 } accept; }\n"
	     "  set admins {\n    type ipv4_addr\n    elements = { 10.99.1.2,\n 10.99.1.1 }\n  }\n"
	     "  chain forward {\n"
	     "    type filter hook forward priority filter\n    policy drop\n"
	     "    ct state established , related accept\n"
	     "    ip saddr @admins tcp dport ssh counter packets 9 bytes 900 accept "
	     "comment \"rule:ssh\"\n"
	     "    ip saddr { 10.99.5.2, 10.99.5.1 } tcp dport http counter accept "
	     "comment \"rule:web\"\n"
	     "    tcp dport 25 counter accept comment \"rule:smtp\"\n"
	     "    tcp dport 53 counter accept comment \"rule:dns\"\n"
	     "  }\n"
	     "}\n");
	load(want_text);
	struct nfts *w, *h;
	cr_assert_eq(nfts_read("inet", "want", &w), 0);
	cr_assert_eq(nfts_read("inet", "have", &h), 0);
	const char *ids[] = {"ssh", "web", "smtp", "dns"};
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(nfts_rule_find(w, ids[i])->fingerprint,
				 nfts_rule_find(h, ids[i])->fingerprint, "rule %s", ids[i]);
	struct nfts_drift *d;
	size_t n;
	cr_assert_eq(nfts_diff(w, h, "other", &d, &n), 0);
	cr_assert_eq(n, 0, "first drift: %s %s %s %s", n ? nfts_drift_kind_name(d[0].kind) : "",
		     n ? nfts_drift_object_name(d[0].object) : "", n ? d[0].chain : "",
		     n ? d[0].detail : "");
	nfts_drift_free(d, n);
	/* without skipping, the extra chain is drift */
	cr_assert_eq(nfts_diff(w, h, NULL, &d, &n), 0);
	cr_assert_eq(n, 2, "the chain and its rule");
	cr_assert_eq(d[0].kind, NFTS_DRIFT_EXTRA);
	cr_assert_eq(d[0].object, NFTS_OBJ_CHAIN);
	cr_assert_str_eq(d[0].chain, "other");
	cr_assert_eq(d[1].kind, NFTS_DRIFT_EXTRA);
	cr_assert_eq(d[1].object, NFTS_OBJ_RULE);
	cr_assert_null(d[1].name, "the rule has no id");
	cr_assert_not_null(strstr(d[1].detail, "set {10.99.8.8, 10.99.8.9}"), "%s", d[1].detail);
	nfts_drift_free(d, n);
	nfts_free(w);
	nfts_free(h);
}

static const struct nfts_drift *find_drift(const struct nfts_drift *d, size_t n,
					   enum nfts_drift_kind k, enum nfts_drift_object o,
					   const char *name)
{
	for (size_t i = 0; i < n; i++) {
		const char *nm = o == NFTS_OBJ_CHAIN || (o == NFTS_OBJ_RULE && !d[i].name)
				     ? d[i].chain
				 : o == NFTS_OBJ_SET ? d[i].set
						     : d[i].name;
		if (d[i].kind == k && d[i].object == o && nm && strcmp(nm, name) == 0)
			return &d[i];
	}
	return NULL;
}

Test(nftstate, drift_by_id_fingerprint_elements_and_order)
{
	scratch_netns();
	load(want_text);
	load("table inet have {\n"
	     "  set admins { type ipv4_addr; elements = { 10.99.1.1, 10.99.1.3 } }\n"
	     "  set stale { type ipv4_addr; }\n"
	     "  chain forward { type filter hook forward priority 0; policy accept;\n"
	     "    ct state established,related accept\n"
	     "    tcp dport 53 counter accept comment \"rule:dns\"\n"
	     "    tcp dport 25 counter accept comment \"rule:smtp\"\n"
	     "    ip saddr @admins tcp dport 2222 counter accept comment \"rule:ssh\"\n"
	     "    tcp dport 8080 counter accept comment \"rule:debug\"\n"
	     "  }\n"
	     "}\n");
	struct nfts *w, *h;
	cr_assert_eq(nfts_read("inet", "want", &w), 0);
	cr_assert_eq(nfts_read("inet", "have", &h), 0);
	struct nfts_drift *d;
	size_t n;
	cr_assert_eq(nfts_diff(w, h, NULL, &d, &n), 0);

	const struct nfts_drift *x;
	x = find_drift(d, n, NFTS_DRIFT_CHANGED, NFTS_OBJ_CHAIN, "forward");
	cr_assert_not_null(x, "the policy changed");
	cr_assert_str_eq(x->detail, "live policy accept, intended policy drop");
	x = find_drift(d, n, NFTS_DRIFT_CHANGED, NFTS_OBJ_RULE, "ssh");
	cr_assert_not_null(x, "ssh matches another port");
	cr_assert_not_null(strstr(x->have, "0x0000ae08"), "port 2222: %s", x->have);
	cr_assert_not_null(strstr(x->want, "0x00001600"), "port 22: %s", x->want);
	cr_assert_not_null(find_drift(d, n, NFTS_DRIFT_MISSING, NFTS_OBJ_RULE, "web"));
	cr_assert_not_null(find_drift(d, n, NFTS_DRIFT_EXTRA, NFTS_OBJ_RULE, "debug"));
	cr_assert_not_null(find_drift(d, n, NFTS_DRIFT_MISSING, NFTS_OBJ_ELEMENT, "10.99.1.2"));
	cr_assert_not_null(find_drift(d, n, NFTS_DRIFT_EXTRA, NFTS_OBJ_ELEMENT, "10.99.1.3"));
	cr_assert_not_null(find_drift(d, n, NFTS_DRIFT_EXTRA, NFTS_OBJ_SET, "stale"));
	cr_assert_not_null(find_drift(d, n, NFTS_DRIFT_ORDER, NFTS_OBJ_CHAIN, "forward"),
			   "dns now runs before smtp");
	cr_assert_eq(n, 8, "nothing else differs");
	nfts_drift_free(d, n);
	nfts_free(w);
	nfts_free(h);
}

Test(nftstate, generation_moves_with_every_change)
{
	scratch_netns();
	load(small_table);
	struct nfts *a, *b;
	cr_assert_eq(nfts_read("inet", "segplan", &a), 0);
	load("add rule inet segplan input tcp dport 1 accept\n");
	cr_assert_eq(nfts_read("inet", "segplan", &b), 0);
	cr_assert_neq(nfts_genid(a), nfts_genid(b));
	cr_assert_eq(nfts_nrules(b), nfts_nrules(a) + 1);
	nfts_free(a);
	nfts_free(b);
}

/* The apply module's side of the reader: the marker chain and errors. */

Test(apply, marker_records_the_apply_time)
{
	scratch_netns();
	char *dir = tu_tmpdir();
	char *path =
	    tu_write(dir, "site 1.nft",
		     "table inet segplan\ndelete table inet segplan\n"
		     "table inet segplan {\n"
		     "  chain forward { type filter hook forward priority 0; policy drop;\n"
		     "    tcp dport 22 counter accept comment \"rule:ssh\"\n  }\n}\n");
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(apply_file(path, 1700000000, dl), 0, "%s", tu_diags(dl));
	struct nfts *s;
	struct apply_mark m;
	cr_assert_eq(nfts_read(APPLY_FAMILY, APPLY_TABLE, &s), 0);
	cr_assert_eq(apply_mark_get(s, &m), 0);
	cr_assert_eq(m.applied, 1700000000);
	cr_assert_str_eq(m.file, "site_1.nft", "the file name, made safe for a comment");
	cr_assert_not_null(nfts_rule_find(s, "ssh"));
	nfts_free(s);
	/* applied again: one marker, the new time */
	cr_assert_eq(apply_file(path, 1700000100, dl), 0, "%s", tu_diags(dl));
	cr_assert_eq(nfts_read(APPLY_FAMILY, APPLY_TABLE, &s), 0);
	cr_assert_eq(apply_mark_get(s, &m), 0);
	cr_assert_eq(m.applied, 1700000100);
	cr_assert_eq(nfts_nchains(s), 2);
	nfts_free(s);
	/* a table loaded by other means has no marker */
	load("delete table inet segplan\ntable inet segplan {\n  chain c {\n  }\n}\n");
	cr_assert_eq(nfts_read(APPLY_FAMILY, APPLY_TABLE, &s), 0);
	cr_assert_eq(apply_mark_get(s, &m), -ENOENT);
	nfts_free(s);
	diag_list_free(dl);
	free(path);
	tu_rmdir(dir);
	free(dir);
}

Test(apply, broken_ruleset_names_its_line_and_changes_nothing)
{
	scratch_netns();
	load(small_table);
	char *dir = tu_tmpdir();
	char *path =
	    tu_write(dir, "bad.nft",
		     "table inet segplan\ndelete table inet segplan\n"
		     "table inet segplan {\n"
		     "  chain forward { type filter hook forward priority 0; policy drop;\n"
		     "    tcp dport 22 countr accept comment \"rule:ssh\"\n  }\n}\n");
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(apply_file(path, 1, dl), -EINVAL);
	char want[4200];
	snprintf(want, sizeof(want), "%s:5:", path);
	cr_assert(tu_diag_contains(dl, want), "%s", tu_diags(dl));
	cr_assert(tu_diag_contains(dl, "error: syntax error"), "%s", tu_diags(dl));
	struct nfts *s;
	cr_assert_eq(nfts_read(APPLY_FAMILY, APPLY_TABLE, &s), 0);
	cr_assert_not_null(nfts_rule_find(s, "web6"), "the previous table stays");
	cr_assert_eq(nfts_nrules(s), 4);
	nfts_free(s);
	diag_list_free(dl);
	free(path);
	tu_rmdir(dir);
	free(dir);
}

Test(apply, read_file_uses_a_scratch_namespace)
{
	scratch_netns();
	char *dir = tu_tmpdir();
	char *path = tu_write(dir, "want.nft", small_table);
	struct diag_list *dl = diag_list_new();
	struct nfts *want, *live;
	cr_assert_eq(apply_read_file(path, dl, &want), 0, "%s", tu_diags(dl));
	cr_assert_eq(nfts_nrules(want), 4);
	nfts_free(want);
	cr_assert_eq(nfts_read(APPLY_FAMILY, APPLY_TABLE, &live), -ENOENT,
		     "nothing was loaded where we run");
	char *other = tu_write(dir, "other.nft", "table inet other {\n  chain c {\n  }\n}\n");
	cr_assert_eq(apply_read_file(other, dl, &want), -ENOENT);
	cr_assert(tu_diag_contains(dl, "defines no table inet segplan"), "%s", tu_diags(dl));
	nfts_free(want);
	diag_list_free(dl);
	free(path);
	free(other);
	tu_rmdir(dir);
	free(dir);
}
