// SPDX-License-Identifier: MIT
/* The summary reader's spool members (docs/summary.md): answered, hosts'
 * flows, empty windows, the chain, merged windows and gap markers, and
 * their hostile variants, each refused with the member named. */
#include <criterion/criterion.h>
#include <string.h>

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
