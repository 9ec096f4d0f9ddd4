// SPDX-License-Identifier: MIT
/* The summary reader's spool members (docs/summary.md): answered, hosts'
 * flows, empty windows, the chain, merged windows and gap markers, and
 * their hostile variants, each refused with the member named. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "summary/chain.h"
#include "summary/merge.h"
#include "summary/read.h"
#include "testutil.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A small valid summary with a denied tuple and the new members. */
static const char *base =
    "{\"format\":1,\"kind\":\"segplan-agent-summary\",\"generator\":\"t\",\"host\":\"gw\","
    "\"site\":\"S1\","
    "\"window\":{\"start\":\"2026-11-26T17:00:00Z\",\"end\":\"2026-11-26T17:05:00Z\","
    "\"replaces\":[{\"seq\":1,\"sha256\":\"sha256:" H64 "\",\"start\":\"2026-11-26T17:00:00Z\","
    "\"end\":\"2026-11-26T17:05:00Z\"}]},"
    "\"chain\":{\"gateway\":\"S1\",\"seq\":3,\"prev\":\"sha256:" H64 "\"},"
    "\"tuples\":[{\"src_zone\":\"a\",\"dst_zone\":\"b\",\"ip_version\":4,\"proto\":6,"
    "\"dst_port\":22,\"verdict\":\"drop\",\"passes\":false,\"by\":\"default\",\"rule\":null,"
    "\"flows\":5,\"packets\":9,\"bytes\":900,\"answered\":2,"
    "\"hosts\":{\"src\":[\"10.0.0.1\",\"10.0.0.2\"],\"dst\":[\"10.0.1.1\"],"
    "\"src_complete\":true,\"dst_complete\":true,\"src_flows\":[4,1],\"dst_flows\":[5]}}],"
    "\"rule_hits\":[]}";

struct rd {
	struct diag_list *dl;
	struct summary_reader r;
	json_t *j;
};

static void rd_init(struct rd *x, const char *text)
{
	json_error_t e;
	x->dl = diag_list_new();
	x->r = (struct summary_reader){"s.json", x->dl, 0};
	x->j = json_loads(text, 0, &e);
	cr_assert_not_null(x->j, "%s", e.text);
}

static void rd_fini(struct rd *x)
{
	json_decref(x->j);
	diag_list_free(x->dl);
}

Test(summary, new_members_are_read)
{
	struct rd x;
	struct summary_read s;
	rd_init(&x, base);
	cr_assert_eq(summary_read(&x.r, x.j, &s), 0, "%s", tu_diags(x.dl));
	cr_assert_eq(summary_kind(x.j), 0);
	cr_assert(s.chain.present);
	cr_assert_str_eq(s.chain.gateway, "S1");
	cr_assert_eq(s.chain.seq, 3);
	cr_assert_str_eq(s.chain.prev, "sha256:" H64);
	cr_assert_eq(s.nreplaces, 1);
	cr_assert_eq(s.replaces[0].seq, 1);
	cr_assert_str_eq(s.replaces[0].end, "2026-11-26T17:05:00Z");
	cr_assert_eq(s.ntuples, 1);
	const struct summary_tuple *u = &s.tuples[0];
	cr_assert(u->answered_known);
	cr_assert_eq(u->answered, 2);
	cr_assert(u->has_host_flows);
	cr_assert_eq(u->nhosts[0], 2);
	cr_assert_eq(s.host_flows[u->hflow0[0]], 4);
	cr_assert_eq(s.host_flows[u->hflow0[0] + 1], 1);
	cr_assert_eq(s.host_flows[u->hflow0[1]], 5);
	cr_assert_str_eq(s.hosts[u->host0[1]], "10.0.1.1");
	cr_assert_not(s.empty);
	summary_read_free(&s);
	rd_fini(&x);
}

/* base with one piece of text replaced; the diagnostic must contain want. */
static void refused(const char *from, const char *to, const char *want)
{
	char text[4096];
	const char *p = strstr(base, from);
	cr_assert_not_null(p, "%s", from);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
	struct rd x;
	struct summary_read s;
	rd_init(&x, text);
	cr_assert_gt(summary_read(&x.r, x.j, &s), 0, "accepted: %s", to);
	cr_assert(tu_diag_contains(x.dl, want), "want '%s', got:\n%s", want, tu_diags(x.dl));
	summary_read_free(&s);
	rd_fini(&x);
}

Test(summary, hostile_new_members_are_refused_and_located)
{
	refused("\"answered\":2", "\"answered\":6",
		"tuples[0].answered: expected an integer from 0 to 5");
	refused("\"answered\":2", "\"answered\":-1", "tuples[0].answered");
	refused("\"src_flows\":[4,1]", "\"src_flows\":[4]",
		"tuples[0].hosts.src_flows: expected an array as long as 'src'");
	refused("\"dst_flows\":[5]", "\"dst_flows\":[6]",
		"tuples[0].hosts.dst_flows[0]: expected an integer from 0 to 5");
	refused(",\"dst_flows\":[5]", "", "'src_flows' and 'dst_flows' go together");
	refused("\"prev\":\"sha256:" H64 "\"", "\"prev\":null",
		"chain.prev: expected null for seq 1");
	refused("\"prev\":\"sha256:" H64 "\"", "\"prev\":\"sha256:AB\"",
		"chain.prev: expected \"sha256:\"");
	refused("\"seq\":3", "\"seq\":0", "chain.seq: expected an integer from 1");
	refused("\"gateway\":\"S1\"", "\"gateway\":\"\"", "chain.gateway");
	refused("\"seq\":3", "\"seq\":1", "chain.prev");
	refused("\"seq\":1,", "\"seq\":3,",
		"window.replaces[0].seq: 3 is not before the file's seq 3");
	refused("\"seq\":1,", "\"seq\":\"1\",", "window.replaces[0].seq: expected an integer");
	refused("\"sha256\":\"sha256:" H64 "\"", "\"sha256\":\"md5:1\"",
		"window.replaces[0].sha256");
	refused("\"replaces\":[", "\"replaces\":[3,", "window.replaces[0]: expected an object");
	refused("\"replaces\":[{", "\"replaces\":[],\"x\":[{",
		"window.replaces: expected an array of 1 to 4096");
	refused("\"end\":\"2026-11-26T17:05:00Z\",\"replaces\"",
		"\"end\":\"2026-11-26T17:05:00Z\",\"empty\":1,\"replaces\"",
		"window.empty: expected true or false");
	refused("\"start\":\"2026-11-26T17:00:00Z\",\"end\":\"2026-11-26T17:05:00Z\",\"replaces\"",
		"\"start\":null,\"end\":null,\"replaces\"", "window.start: expected a string");
	refused("\"src\":[\"10.0.0.1\",",
		"\"src\":[\"10.0.0.1\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\","
		"\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",",
		"tuples[0].hosts.src: more than 16 addresses");
}

Test(summary, empty_window_has_null_times_and_no_tuples)
{
	static const char *empty =
	    "{\"format\":1,\"kind\":\"segplan-agent-summary\",\"host\":\"gw\",\"site\":null,"
	    "\"window\":{\"start\":null,\"end\":null,\"empty\":true},\"tuples\":[]}";
	struct rd x;
	struct summary_read s;
	rd_init(&x, empty);
	cr_assert_eq(summary_read(&x.r, x.j, &s), 0, "%s", tu_diags(x.dl));
	cr_assert(s.empty);
	cr_assert_null(s.start);
	cr_assert_null(s.end);
	cr_assert_not(s.chain.present);
	summary_read_free(&s);
	rd_fini(&x);

	/* empty with times, or with tuples, is refused */
	const char *bad[] = {
	    "{\"format\":1,\"kind\":\"segplan-agent-summary\",\"site\":null,\"window\":{\"start\":"
	    "\"2026-11-26T17:00:00Z\",\"end\":null,\"empty\":true},\"tuples\":[]}",
	    "{\"format\":1,\"kind\":\"segplan-agent-summary\",\"site\":null,\"window\":{\"start\":"
	    "null,"
	    "\"end\":null,\"empty\":true},\"tuples\":[{}]}",
	};
	const char *want[] = {"window: an empty window has null 'start' and 'end'",
			      "window.empty: the window is empty but has tuples"};
	for (int i = 0; i < 2; i++) {
		rd_init(&x, bad[i]);
		cr_assert_gt(summary_read(&x.r, x.j, &s), 0);
		cr_assert(tu_diag_contains(x.dl, want[i]), "%s", tu_diags(x.dl));
		summary_read_free(&s);
		rd_fini(&x);
	}
}

Test(summary, old_summaries_without_the_members_stay_valid)
{
	char text[4096];
	/* no chain, no replaces, no answered, no host flows */
	snprintf(text, sizeof(text), "%s",
		 "{\"format\":1,\"kind\":\"segplan-agent-summary\",\"site\":\"S1\","
		 "\"window\":{\"start\":\"2026-11-26T17:00:00Z\",\"end\":\"2026-11-26T17:05:00Z\"},"
		 "\"tuples\":[{\"src_zone\":\"a\",\"dst_zone\":\"b\",\"ip_version\":4,\"proto\":6,"
		 "\"dst_port\":22,\"verdict\":\"drop\",\"passes\":false,\"by\":\"default\","
		 "\"rule\":null,\"flows\":5,\"packets\":9,\"bytes\":900,\"hosts\":{\"src\":[],"
		 "\"dst\":[],\"src_complete\":false,\"dst_complete\":false}}]}");
	struct rd x;
	struct summary_read s;
	rd_init(&x, text);
	cr_assert_eq(summary_read(&x.r, x.j, &s), 0, "%s", tu_diags(x.dl));
	cr_assert_not(s.tuples[0].answered_known);
	cr_assert_not(s.tuples[0].has_host_flows);
	cr_assert_not(s.chain.present);
	cr_assert_eq(s.nreplaces, 0);
	summary_read_free(&s);
	rd_fini(&x);
}

static const char *gap =
    "{\"format\":1,\"kind\":\"segplan-agent-gap\",\"generator\":\"t\",\"host\":\"gw\","
    "\"site\":\"S1\",\"chain\":{\"gateway\":\"S1\",\"seq\":9,\"prev\":\"sha256:" H64 "\"},"
    "\"gap\":{\"reason\":\"size-cap\",\"start\":\"2026-11-26T17:00:00Z\","
    "\"end\":\"2026-11-26T17:10:00Z\",\"dropped\":["
    "{\"seq\":2,\"sha256\":\"sha256:" H64 "\",\"start\":\"2026-11-26T17:00:00Z\","
    "\"end\":\"2026-11-26T17:05:00Z\"},"
    "{\"seq\":3,\"sha256\":\"sha256:" H64 "\",\"start\":\"2026-11-26T17:05:00Z\","
    "\"end\":\"2026-11-26T17:10:00Z\"}]}}";

Test(summary, gap_markers)
{
	struct rd x;
	struct summary_gap g;
	rd_init(&x, gap);
	cr_assert_eq(summary_kind(x.j), 1);
	cr_assert_eq(summary_read_gap(&x.r, x.j, &g), 0, "%s", tu_diags(x.dl));
	cr_assert_str_eq(g.reason, "size-cap");
	cr_assert_eq(g.chain.seq, 9);
	cr_assert_eq(g.ndropped, 2);
	cr_assert_eq(g.dropped[1].seq, 3);
	cr_assert_str_eq(g.end, "2026-11-26T17:10:00Z");
	summary_gap_free(&g);
	/* a gap marker is not a summary */
	struct summary_read s;
	cr_assert_gt(summary_read(&x.r, x.j, &s), 0);
	cr_assert(tu_diag_contains(x.dl, "is not a segplan-agent summary"));
	summary_read_free(&s);
	rd_fini(&x);

	const char *changes[][3] = {
	    {"\"reason\":\"size-cap\"", "\"reason\":\"full\"", "gap.reason: expected"},
	    {"\"seq\":3,", "\"seq\":2,", "gap.dropped[1].seq: 2 is listed twice"},
	    {"\"seq\":3,", "\"seq\":10,", "gap.dropped[1].seq: 10 is not before"},
	    {"\"chain\":{", "\"nochain\":{", "missing member 'chain'"},
	    {"\"end\":\"2026-11-26T17:10:00Z\",\"dropped\"",
	     "\"end\":\"2026-11-26T16:10:00Z\",\"dropped\"",
	     "gap.end: 2026-11-26T16:10:00Z is before the start"},
	    {"\"dropped\":[", "\"dropped\":{\"x\":[", "gap.dropped: expected an array"},
	};
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		char text[4096];
		const char *p = strstr(gap, changes[i][0]);
		cr_assert_not_null(p);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - gap), gap, changes[i][1],
			 p + strlen(changes[i][0]));
		/* keep the braces balanced for the dropped-object case */
		if (strstr(changes[i][1], "{\"x\":[")) {
			size_t n = strlen(text);
			memmove(text + n - 2, "}}}", 4);
		}
		rd_init(&x, text);
		cr_assert_gt(summary_read_gap(&x.r, x.j, &g), 0, "%s", changes[i][1]);
		cr_assert(tu_diag_contains(x.dl, changes[i][2]), "want '%s', got:\n%s",
			  changes[i][2], tu_diags(x.dl));
		summary_gap_free(&g);
		rd_fini(&x);
	}
	json_t *other = json_pack("{s:s}", "kind", "segplan-demo-stats");
	cr_assert_eq(summary_kind(other), -1);
	cr_assert_eq(summary_kind(NULL), -1);
	json_decref(other);
}

/* A window for summary_merge: one denied tuple whose sources are 10.0.0.<first>..<first+n-1>,
 * each with one connection. */
static json_t *mwin(int hour, int first, int n, bool answered, bool scope)
{
	char a[32], b[32];
	snprintf(a, sizeof(a), "2026-11-26T%02d:00:00Z", hour);
	snprintf(b, sizeof(b), "2026-11-26T%02d:05:00Z", hour);
	json_t *src = json_array(), *sf = json_array(), *ex = json_array();
	for (int i = 0; i < n; i++) {
		char ad[32];
		snprintf(ad, sizeof(ad), "10.0.0.%d", first + i);
		json_array_append_new(src, json_string(ad));
		json_array_append_new(sf, json_integer(1));
		json_array_append_new(ex, json_pack("{s:s,s:s,s:i}", "src", ad, "dst", "10.1.1.5",
						    "flows", 1 + (first + i) % 4));
	}
	json_t *t = json_pack("{s:s,s:s,s:i,s:i,s:i,s:s,s:b,s:s,s:n,s:i,s:i,s:i,s:o,s:{s:o,s:[s],"
			      "s:b,s:b,s:o,s:[i]}}",
			      "src_zone", "a", "dst_zone", "b", "ip_version", 4, "proto", 6,
			      "dst_port", 22, "verdict", "drop", "passes", 0, "by", "default",
			      "rule", "flows", n, "packets", 2 * n, "bytes", 100 * n, "examples",
			      ex, "hosts", "src", src, "dst", "10.1.1.5", "src_complete", 1,
			      "dst_complete", 1, "src_flows", sf, "dst_flows", n);
	if (answered)
		json_object_set_new(t, "answered", json_integer(1));
	if (scope)
		json_object_set_new(t, "scope", json_pack("{s:i}", "same_site", 1));
	return json_pack("{s:i,s:s,s:s,s:s,s:{s:s,s:s,s:f},s:[o],s:[{s:s,s:i,s:i,s:i}],"
			 "s:{s:i,s:i,s:i,s:i,s:[{s:s,s:i,s:i,s:i,s:i}]},s:{s:i}}",
			 "format", 1, "kind", "segplan-agent-summary", "host", "gw", "site", "S1",
			 "window", "start", a, "end", b, "seconds", 300.0, "tuples", t, "rule_hits",
			 "id", hour == 1 ? "old" : "web", "hits", 2, "packets", 3, "bytes", 4,
			 "unassigned", "flows", 1, "packets", 2, "bytes", 3, "addresses", 1, "top",
			 "address", "10.9.0.1", "as_src", 1, "as_dst", 0, "packets", 2, "bytes", 3,
			 "denied", "flows", n);
}

Test(summary, merge_sums_windows_and_caps_hosts)
{
	/* 10 + 10 sources (5 shared) = 15 distinct, then 4 more: 19 > 16 */
	json_t *w[3] = {mwin(1, 0, 10, true, true), mwin(2, 5, 10, true, false),
			mwin(3, 15, 4, false, true)};
	json_t *m = summary_merge(w, 3);
	cr_assert_not_null(m);
	struct diag_list *dl = diag_list_new();
	struct summary_reader r = {"merged", dl, 0};
	struct summary_read s;
	cr_assert_eq(summary_read(&r, m, &s), 0, "%s", tu_diags(dl));
	cr_assert_str_eq(s.start, "2026-11-26T01:00:00Z");
	cr_assert_str_eq(s.end, "2026-11-26T03:05:00Z");
	cr_assert_eq(s.ntuples, 1);
	const struct summary_tuple *u = &s.tuples[0];
	cr_assert_eq(u->c.flows, 24);
	cr_assert_eq(u->c.packets, 48);
	cr_assert_eq(u->c.bytes, 2400);
	cr_assert_not(u->answered_known, "one window lacks answered: the sum is unknown");
	cr_assert_not(u->scope_known[SUMMARY_SAME_SITE], "one window lacks the check");
	cr_assert_eq(u->nhosts[0], SUMMARY_HOSTS);
	cr_assert_not(u->complete[0], "19 sources: not all listed");
	cr_assert(u->complete[1]);
	cr_assert(u->has_host_flows);
	/* the shared sources 10.0.0.5..9 have 2 connections, the others 1 */
	for (size_t i = 0; i < u->nhosts[0]; i++) {
		int last = atoi(strrchr(s.hosts[u->host0[0] + i], '.') + 1);
		cr_assert_eq(s.host_flows[u->hflow0[0] + i], last >= 5 && last <= 9 ? 2u : 1u, "%s",
			     s.hosts[u->host0[0] + i]);
		if (i)
			cr_assert_lt(atoi(strrchr(s.hosts[u->host0[0] + i - 1], '.') + 1), last,
				     "sorted by address, not by text");
	}
	cr_assert_eq(s.host_flows[u->hflow0[1]], 24);
	/* examples: the busiest 3 pairs of all windows (flows 1 + n % 4, summed where shared) */
	cr_assert_eq(u->nex, SUMMARY_EXAMPLES);
	cr_assert_eq(s.ex[u->ex0].flows, 8, "10.0.0.7 twice with 4");
	cr_assert_str_eq(s.ex[u->ex0].src, "10.0.0.7");
	/* rule hits by id: web from two windows, old from the first */
	cr_assert_eq(s.nhits, 2);
	cr_assert_str_eq(s.hits[0].id, "web");
	cr_assert_eq(s.hits[0].c.flows, 4);
	cr_assert_str_eq(s.hits[1].id, "old");
	cr_assert_eq(s.hits[1].c.flows, 2);
	cr_assert_eq(s.unassigned.flows, 3);
	cr_assert_eq(s.nutop, 1);
	cr_assert_eq(s.utop[0].as_src, 3);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(m, "denied"), "flows")),
		     24);
	cr_assert_null(json_object_get(m, "chain"));
	summary_read_free(&s);
	diag_list_free(dl);
	json_decref(m);
	for (int i = 0; i < 3; i++)
		json_decref(w[i]);
	cr_assert_null(summary_merge(NULL, 0));
}

Test(summary, chain_check_finds_duplicates_disagreements_and_holes)
{
	char h[4][SUMMARY_SHA256_TEXT];
	for (int i = 0; i < 4; i++)
		summary_sha256(&i, sizeof(i), h[i]);
	cr_assert_eq(strlen(h[0]), SUMMARY_SHA256_TEXT - 1);
	cr_assert_eq(strncmp(h[0], "sha256:", 7), 0);
	/* seq 1 and 2 merged into 3 (listing their hashes), 4 follows 3 */
	struct summary_ref rep[2] = {{1, h[0], NULL, NULL}, {2, h[1], NULL, NULL}};
	struct summary_link v[2] = {{"four", 4, "", h[2], NULL, 0}, {"three", 3, "", h[1], rep, 2}};
	memcpy(v[1].sha256, h[2], sizeof(h[2]));
	memcpy(v[0].sha256, h[3], sizeof(h[3]));
	struct diag_list *dl = diag_list_new();
	cr_assert_eq(summary_chain_check(v, 2, dl), 0, "%s", tu_diags(dl));
	cr_assert_eq(v[0].seq, 3, "sorted by seq");
	/* the merged window lists seq 2 with another hash than its prev names */
	rep[1].sha256 = h[3];
	cr_assert_eq(summary_chain_check(v, 2, dl), 1);
	cr_assert(tu_diag_contains(dl, "three: error: chain broken"), "%s", tu_diags(dl));
	rep[1].sha256 = h[1];
	/* a file for seq 2 that is not what the merged window listed */
	struct summary_link w[3] = {v[0], v[1], {"two", 2, "", h[0], NULL, 0}};
	memcpy(w[2].sha256, h[3], sizeof(h[3]));
	diag_list_free(dl);
	dl = diag_list_new();
	cr_assert_gt(summary_chain_check(w, 3, dl), 0);
	cr_assert(tu_diag_contains(dl, "seq 2 is listed with"), "%s", tu_diags(dl));
	/* a hole: seq 5 missing before 6 */
	struct summary_link x[3] = {v[0], v[1], {"six", 6, "", h[0], NULL, 0}};
	diag_list_free(dl);
	dl = diag_list_new();
	cr_assert_eq(summary_chain_check(x, 3, dl), 1);
	cr_assert(tu_diag_contains(dl, "seq 5 to 5 missing"), "%s", tu_diags(dl));
	/* two files with one seq */
	struct summary_link y[3] = {v[0], v[1], {"also-four", 4, "", h[2], NULL, 0}};
	memcpy(y[2].sha256, h[0], sizeof(h[0]));
	diag_list_free(dl);
	dl = diag_list_new();
	cr_assert_gt(summary_chain_check(y, 3, dl), 0);
	cr_assert(tu_diag_contains(dl, "seq 4 is also"), "%s", tu_diags(dl));
	diag_list_free(dl);
}
