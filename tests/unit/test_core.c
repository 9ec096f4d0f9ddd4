// SPDX-License-Identifier: MIT
/* core/: diagnostics, prefixes, CSV and YAML readers, atomic output, string map,
 * JSON arenas. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/atomic.h"
#include "core/csvread.h"
#include "core/diag.h"
#include "core/jarena.h"
#include "core/prefix.h"
#include "core/strmap.h"
#include "core/timefmt.h"
#include "core/yamlread.h"
#include "tests/unit/testutil.h"

Test(diag, format_sort_and_count)
{
	struct diag_list *dl = diag_list_new();
	diag_add(dl, DIAG_ERROR, "b.csv", 3, 1, "late");
	diag_add(dl, DIAG_WARNING, "a.csv", 9, 2, "warn");
	diag_add(dl, DIAG_ERROR, "b.csv", 2, 7, "early");
	diag_add(dl, DIAG_ERROR, NULL, 0, 0, "global");
	cr_assert_eq(diag_errors(dl), 3);
	cr_assert_eq(diag_warnings(dl), 1);
	diag_sort(dl);
	char buf[128];
	diag_format(diag_get(dl, 0), buf, sizeof(buf));
	cr_assert_str_eq(buf, "b.csv:2:7: error: early");
	diag_format(diag_get(dl, 1), buf, sizeof(buf));
	cr_assert_str_eq(buf, "b.csv:3:1: error: late");
	diag_format(diag_get(dl, 2), buf, sizeof(buf));
	cr_assert_str_eq(buf, "a.csv:9:2: warning: warn");
	diag_format(diag_get(dl, 3), buf, sizeof(buf));
	cr_assert_str_eq(buf, "error: global");
	diag_list_free(dl);
	diag_list_free(NULL);
}

Test(diag, suggest)
{
	const char *names[] = {"Mitte", "Nord", "Bad Cannstatt", "Möhringen"};
	cr_assert_str_eq(diag_suggest("Mite", names, 4), "Mitte");
	cr_assert_str_eq(diag_suggest("Bad Canstatt", names, 4), "Bad Cannstatt");
	cr_assert_null(diag_suggest("Zuffenhausen", names, 4));
	cr_assert_eq(diag_edit_distance("kitten", "sitting"), 3);
	cr_assert_eq(diag_edit_distance("", "abc"), 3);
}

Test(prefix, parse_and_format)
{
	struct ip_prefix p;
	char buf[IP_PREFIX_STRLEN];
	cr_assert_eq(ip_prefix_parse("10.1.0.0/16", false, &p), 0);
	cr_assert_eq(p.family, 4);
	cr_assert_eq(p.len, 16);
	ip_prefix_format(&p, buf, sizeof(buf));
	cr_assert_str_eq(buf, "10.1.0.0/16");
	cr_assert_eq(ip_prefix_parse("fd12:3456:789a::/48", false, &p), 0);
	cr_assert_eq(p.family, 6);
	ip_prefix_format(&p, buf, sizeof(buf));
	cr_assert_str_eq(buf, "fd12:3456:789a::/48");
	cr_assert_eq(ip_prefix_parse("10.1.2.3/16", false, &p), -EDOM);
	ip_prefix_format(&p, buf, sizeof(buf));
	cr_assert_str_eq(buf, "10.1.0.0/16", "host bits cleared for the suggestion");
	cr_assert_eq(ip_prefix_parse("10.1.0.0/33", false, &p), -EINVAL);
	cr_assert_eq(ip_prefix_parse("10.1.0/16", false, &p), -EINVAL);
	cr_assert_eq(ip_prefix_parse("010.1.0.0/16", false, &p), -EINVAL);
	cr_assert_eq(ip_prefix_parse("10.1.0.0/-1", false, &p), -EINVAL);
	cr_assert_eq(ip_prefix_parse("10.1.0.0", false, &p), -EINVAL);
	cr_assert_eq(ip_prefix_parse("10.1.0.7", true, &p), 0);
	cr_assert_eq(p.len, 32);
	cr_assert_eq(ip_prefix_parse("::/0", false, &p), 0);
	cr_assert_eq(ip_prefix_parse("fe80::1/129", false, &p), -EINVAL);
	cr_assert_eq(ip_prefix_parse("", false, &p), -EINVAL);
}

Test(prefix, contains_covers_overlaps)
{
	struct ip_prefix a, b, c, v6;
	struct ip_addr x;
	ip_prefix_parse("10.0.0.0/8", false, &a);
	ip_prefix_parse("10.20.0.0/23", false, &b);
	ip_prefix_parse("10.20.2.0/24", false, &c);
	ip_prefix_parse("::ffff:10.0.0.0/104", false, &v6);
	cr_assert(ip_prefix_covers(&a, &b));
	cr_assert_not(ip_prefix_covers(&b, &a));
	cr_assert(ip_prefix_overlaps(&a, &c));
	cr_assert_not(ip_prefix_overlaps(&b, &c));
	cr_assert_not(ip_prefix_overlaps(&a, &v6), "families never overlap");
	ip_addr_parse("10.20.1.255", &x);
	cr_assert(ip_prefix_contains(&b, &x));
	ip_addr_parse("10.20.2.0", &x);
	cr_assert_not(ip_prefix_contains(&b, &x));
	struct ip_addr last;
	ip_prefix_last(&b, &last);
	char buf[IP_PREFIX_STRLEN];
	ip_addr_format(&last, buf, sizeof(buf));
	cr_assert_str_eq(buf, "10.20.1.255");
	cr_assert(ip_addr_add(&last, 1));
	ip_addr_format(&last, buf, sizeof(buf));
	cr_assert_str_eq(buf, "10.20.2.0");
	ip_addr_parse("255.255.255.255", &x);
	cr_assert_not(ip_addr_add(&x, 1), "overflow past the family's end");
}

struct pairs {
	size_t n;
	size_t i[16], j[16];
};

static void collect(size_t i, size_t j, void *ctx)
{
	struct pairs *p = ctx;
	p->i[p->n] = i;
	p->j[p->n] = j;
	p->n++;
}

Test(prefix, find_overlaps_matches_brute_force)
{
	const char *txt[] = {"10.0.0.0/24",	"10.0.1.0/24", "10.0.0.128/25",	 "fd00::/64",
			     "fd00:0:0:1::/64", "fd00::/48",   "192.168.0.0/16", "10.0.2.0/23"};
	struct ip_prefix v[8];
	for (int k = 0; k < 8; k++)
		cr_assert_eq(ip_prefix_parse(txt[k], false, &v[k]), 0);
	struct pairs p = {0};
	cr_assert_eq(ip_prefix_find_overlaps(v, 8, collect, &p), 0);
	/* 10.0.0.128/25 in 10.0.0.0/24; both v6 /64s in fd00::/48. */
	size_t brute = 0;
	for (int a = 0; a < 8; a++)
		for (int b = a + 1; b < 8; b++)
			brute += ip_prefix_overlaps(&v[a], &v[b]);
	cr_assert_eq(brute, 3);
	cr_assert_eq(p.n, 3);
	for (size_t k = 0; k < p.n; k++)
		cr_assert(ip_prefix_overlaps(&v[p.i[k]], &v[p.j[k]]));
}

static struct csv_table *read_csv(const char *dir, const char *name, const char *text,
				  struct diag_list *dl)
{
	char *path = tu_write(dir, name, text);
	struct csv_table *t = NULL;
	cr_assert_eq(csv_table_read(path, name, dl, &t), 0);
	free(path);
	return t;
}

Test(csv, positions_quotes_and_utf8_columns)
{
	char *dir = tu_tmpdir();
	struct diag_list *dl = diag_list_new();
	struct csv_table *t = read_csv(dir, "t.csv",
				       "id,name,n\n"
				       "a,\"Amt, Süd\",1\n"
				       "\n"
				       "b,Möhringen,x\n"
				       "c,\"multi\nline\",3\n",
				       dl);
	cr_assert_eq(diag_count(dl), 0, "%s", tu_diags(dl));
	cr_assert_eq(csv_table_nrows(t), 3);
	cr_assert_eq(csv_table_column(t, "n"), 2);
	cr_assert_str_eq(csv_cell(t, 0, 1), "Amt, Süd");
	cr_assert_eq(csv_cell_line(t, 1, 2), 4);
	/* "b,Möhringen," : the umlaut counts as one column. */
	cr_assert_eq(csv_cell_col(t, 1, 2), 13);
	long v;
	cr_assert_not(csv_get_long(t, 1, 2, true, 0, 10, dl, &v));
	cr_assert(tu_has_diag(dl, "t.csv:4:13: error: 'x' is not an integer (column 'n')"), "%s",
		  tu_diags(dl));
	cr_assert_str_eq(csv_cell(t, 2, 1), "multi\nline");
	cr_assert_eq(csv_cell_line(t, 2, 2), 6,
		     "a field after a quoted newline is on the next line");
	cr_assert(csv_get_long(t, 2, 2, true, 0, 10, dl, &v));
	cr_assert_eq(v, 3);
	csv_table_free(t);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(csv, bad_text_is_located)
{
	char *dir = tu_tmpdir();
	struct diag_list *dl = diag_list_new();
	char *longline = malloc(CSV_MAX_LINE + 100);
	memset(longline, 'x', CSV_MAX_LINE + 10);
	strcpy(longline + CSV_MAX_LINE + 10, "\n");
	char *text;
	cr_assert(asprintf(&text, "a,b\n1,ok\n2,caf\xe9\n%s3,\xc0\xaf\n4,\"open\n", longline) > 0);
	struct csv_table *t = read_csv(dir, "bad.csv", text, dl);
	cr_assert(tu_has_diag(dl, "bad.csv:3:6: error: invalid UTF-8 (byte 0xe9)"), "%s",
		  tu_diags(dl));
	cr_assert(tu_diag_contains(dl, "bad.csv:4:65537: error: line too long"), "%s",
		  tu_diags(dl));
	cr_assert(tu_has_diag(dl, "bad.csv:5:3: error: invalid UTF-8 (byte 0xc0)"),
		  "overlong encoding is invalid: %s", tu_diags(dl));
	cr_assert(tu_diag_contains(dl, "unterminated quoted field"), "%s", tu_diags(dl));
	cr_assert_eq(csv_table_nrows(t), 1, "only the good row survives");
	csv_table_free(t);
	free(text);
	free(longline);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(csv, empty_missing_and_bound_columns)
{
	char *dir = tu_tmpdir();
	struct diag_list *dl = diag_list_new();
	struct csv_table *t = read_csv(dir, "empty.csv", "", dl);
	cr_assert(tu_has_diag(dl, "empty.csv:1:1: error: file is empty (expected a header row)"));
	csv_table_free(t);
	t = read_csv(dir, "cols.csv", "id,lattitude,extra\n1,2,3\n", dl);
	const char *req[] = {"id", "latitude"};
	int idx[2];
	cr_assert_not(csv_bind_columns(t, req, 2, NULL, 0, idx, dl));
	cr_assert(tu_has_diag(dl, "cols.csv:1:4: error: missing column 'latitude' (did you mean "
				  "'lattitude'?)"),
		  "%s", tu_diags(dl));
	cr_assert(tu_has_diag(dl, "cols.csv:1:14: warning: unknown column 'extra' is ignored"),
		  "%s", tu_diags(dl));
	csv_table_free(t);
	t = NULL;
	cr_assert_eq(csv_table_read("/nonexistent/x.csv", NULL, dl, &t), -ENOENT);
	cr_assert_null(t);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(csv, values_beyond_the_header)
{
	char *dir = tu_tmpdir();
	struct diag_list *dl = diag_list_new();
	/* Line 2: a comma in an unquoted name shifts the values; line 3: a
	 * trailing comma (an empty extra) is harmless; line 4 is quoted. */
	struct csv_table *t = read_csv(dir, "w.csv",
				       "id,name,staff\n"
				       "S1,Rathaus, Mitte,12\n"
				       "S2,Schule,30,\n"
				       "S3,\"Amt, Ost\",4\n",
				       dl);
	cr_assert(tu_has_diag(dl, "w.csv:2:19: error: 4 values, but the header has 3 columns (a "
				  "comma in a value that is not quoted?)"),
		  "%s", tu_diags(dl));
	cr_assert_eq(diag_count(dl), 1, "%s", tu_diags(dl));
	cr_assert_eq(csv_table_nrows(t), 3, "the rows are kept for their other checks");
	csv_table_free(t);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(yaml, tree_positions_and_checked_getters)
{
	const char *text = "budget: 5000000\n"
			   "groups:\n"
			   "  - name: staff\n"
			   "    share: 1.5\n"
			   "  - name: vendors\n"
			   "    acounts: 10\n"
			   "flag: yes\n"
			   "budget: 1\n";
	struct diag_list *dl = diag_list_new();
	struct ydoc *d = NULL;
	cr_assert_eq(ydoc_load_buffer(text, strlen(text), "v.yaml", dl, &d), 0);
	cr_assert(tu_has_diag(dl, "v.yaml:8:1: error: duplicate key 'budget' (first at line 1)"),
		  "%s", tu_diags(dl));
	const struct ynode *root = ydoc_root(d);
	double b = 0;
	cr_assert(ynode_get_double(d, root, "budget", true, 0, 1e9, dl, &b));
	cr_assert_eq(b, 5000000);
	const struct ynode *groups = ynode_get(root, "groups");
	cr_assert_eq(ynode_len(groups), 2);
	double share;
	cr_assert_not(ynode_get_double(d, ynode_item(groups, 0), "share", true, 0, 1, dl, &share));
	cr_assert(tu_has_diag(dl, "v.yaml:4:12: error: 1.5 is out of range [0, 1]"), "%s",
		  tu_diags(dl));
	const char *known[] = {"name", "accounts"};
	cr_assert_not(ynode_check_keys(d, ynode_item(groups, 1), known, 2, dl));
	cr_assert(tu_has_diag(dl, "v.yaml:6:5: error: unknown key 'acounts' (did you mean "
				  "'accounts'?)"),
		  "%s", tu_diags(dl));
	bool flag;
	cr_assert_not(ynode_get_bool(d, root, "flag", true, dl, &flag));
	cr_assert(tu_has_diag(dl, "v.yaml:7:7: error: 'flag' must be true or false"), "%s",
		  tu_diags(dl));
	long missing = 7;
	cr_assert_not(ynode_get_long(d, root, "horizon", true, 0, 10, dl, &missing));
	cr_assert(ynode_get_long(d, root, "horizon", false, 0, 10, dl, &missing));
	cr_assert_eq(missing, 7, "an absent optional key leaves the default");
	ydoc_free(d);
	diag_list_free(dl);
}

Test(yaml, syntax_and_encoding_errors)
{
	struct diag_list *dl = diag_list_new();
	struct ydoc *d = NULL;
	const char *bad = "a: [1, 2\nb: 3\n";
	cr_assert_eq(ydoc_load_buffer(bad, strlen(bad), "s.yaml", dl, &d), -EINVAL);
	cr_assert_null(d);
	cr_assert(tu_diag_contains(dl, "s.yaml:"), "%s", tu_diags(dl));
	cr_assert(tu_diag_contains(dl, "YAML syntax error"), "%s", tu_diags(dl));
	const char *latin1 = "name: M\xfchlhausen\n";
	cr_assert_eq(ydoc_load_buffer(latin1, strlen(latin1), "l.yaml", dl, &d), -EINVAL);
	cr_assert(tu_has_diag(dl, "l.yaml:1:8: error: invalid UTF-8 (byte 0xfc)"), "%s",
		  tu_diags(dl));
	cr_assert_eq(ydoc_load("/nonexistent.yaml", NULL, dl, &d), -ENOENT);
	diag_list_free(dl);
}

Test(atomic, commit_and_abort)
{
	char *dir = tu_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	struct atomic_file *af;
	cr_assert_eq(atomic_file_open(path, &af), 0);
	fputs("half", atomic_file_stream(af));
	cr_assert_not(tu_file_exists(path), "nothing visible before commit");
	atomic_file_abort(af);
	cr_assert_not(tu_file_exists(path), "abort leaves no file");
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	cr_assert_eq(tu_run(cmd), 0, "no temporary file left behind");
	cr_assert_eq(atomic_write(path, "whole\n", 6), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 6);
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	cr_assert_eq(mkdir_p(path), 0);
	cr_assert(tu_file_exists(path));
	cr_assert_lt(atomic_write("/nonexistent-dir/x", "x", 1), 0);
	tu_rmdir(dir);
	free(dir);
}

Test(strmap, put_get_grow)
{
	struct strmap *m = strmap_new(2);
	char keys[1000][8];
	for (int i = 0; i < 1000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		cr_assert_eq(strmap_put(m, keys[i], i), -1);
	}
	cr_assert_eq(strmap_put(m, "k17", 5), 17, "existing value returned, not replaced");
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(strmap_get(m, keys[i]), i);
	cr_assert_eq(strmap_get(m, "nope"), -1);
	cr_assert_eq(strmap_size(m), 1000);
	strmap_free(m);
}

Test(atomic, batch_all_or_nothing)
{
	char *dir = tu_tmpdir();
	char a[512], b[512], cmd[1400];
	snprintf(a, sizeof(a), "%s/a.nft", dir);
	snprintf(b, sizeof(b), "%s/b.nft", dir);
	struct atomic_batch *batch;
	cr_assert_eq(atomic_batch_new(&batch), 0);
	cr_assert_eq(atomic_batch_add(batch, a, "one\n", 4), 0);
	cr_assert_eq(atomic_batch_add(batch, b, "two\n", 4), 0);
	cr_assert_not(tu_file_exists(a), "nothing visible before the commit");
	atomic_batch_abort(batch);
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	cr_assert_eq(tu_run(cmd), 0, "an aborted batch leaves no file at all");
	cr_assert_eq(atomic_batch_new(&batch), 0);
	cr_assert_eq(atomic_batch_add(batch, a, "one\n", 4), 0);
	cr_assert_lt(atomic_batch_add(batch, "/nonexistent-dir/x", "x", 1), 0);
	cr_assert_eq(atomic_batch_add(batch, b, "two\n", 4), 0);
	cr_assert_eq(atomic_batch_commit(batch), 0);
	snprintf(cmd, sizeof(cmd), "test \"$(cat '%s' '%s')\" = \"$(printf 'one\\ntwo')\"", a, b);
	cr_assert_eq(tu_run(cmd), 0, "both files in place with their contents");
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 2", dir);
	cr_assert_eq(tu_run(cmd), 0, "no temporary file left behind");
	atomic_batch_abort(NULL);
	tu_rmdir(dir);
	free(dir);
}

/* A document with what jansson allocates in every size: small objects and
 * keys, a string and an array too large for an arena block (from malloc). */
static char *arena_doc(int seed)
{
	json_t *big = json_array();
	for (int i = 0; i < 12000; i++)
		json_array_append_new(big, json_integer(i * seed));
	char *s = malloc(100001);
	memset(s, 'a' + seed % 26, 100000);
	s[100000] = '\0';
	json_t *d = json_pack("{s:i,s:s,s:o,s:[{s:s,s:b},{s:n,s:f}]}", "seed", seed, "long", s,
			      "big", big, "list", "zone", "voip", "passes", 1, "rule", "x", 0.5);
	char *text = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	free(s);
	return text;
}

static bool block_of(const struct jarena *a, const void *b)
{
	for (const void *x = a->blocks; x; x = *(void *const *)x)
		if (x == b)
			return true;
	return false;
}

Test(jarena, trees_equal_malloc_trees_and_blocks_are_reused)
{
	cr_assert(jarena_setup(), "the address range is reserved here");
	cr_assert(jarena_setup(), "a second setup is a no-op");
	char *text = arena_doc(7);
	json_t *ref = json_loads(text, 0, NULL);
	cr_assert_not_null(ref);
	struct jarena a = {0};
	jarena_enter(&a);
	json_t *j = json_loads(text, 0, NULL);
	jarena_leave();
	cr_assert_not_null(j);
	cr_assert(a.nblocks >= 1, "the tree is in the arena");
	cr_assert(json_equal(ref, j));
	/* Dumped outside the arena: memory for free(). */
	char *again = json_dumps(j, JSON_COMPACT);
	cr_assert_str_eq(again, text);
	free(again);
	/* Values made outside any arena are malloc's, freed as usual (the
	 * ASan build's leak check would see them otherwise). */
	json_t *outside = json_string("outside");
	json_decref(outside);
	json_decref(j);
	struct jarena used = a;
	cr_assert(block_of(&used, used.blocks));
	void *first = a.blocks;
	jarena_release(&a);
	cr_assert_null(a.blocks);
	cr_assert_eq(a.nblocks, 0);
	jarena_enter(&a);
	j = json_loads(text, 0, NULL);
	jarena_leave();
	cr_assert(json_equal(ref, j));
	cr_assert_eq(a.nblocks, used.nblocks, "the same document takes as many blocks");
	cr_assert(block_of(&a, first), "released blocks are used again, not fresh ones");
	json_decref(j);
	jarena_release(&a);
	json_decref(ref);
	free(text);
}

struct arena_thread {
	int seed;
	int bad;
};

static void *arena_worker(void *arg)
{
	struct arena_thread *t = arg;
	char *text = arena_doc(t->seed);
	json_t *ref = json_loads(text, 0, NULL);
	for (int k = 0; k < 40; k++) {
		struct jarena a = {0};
		jarena_enter(&a);
		json_t *j = json_loads(text, 0, NULL);
		jarena_leave();
		if (!j || !json_equal(ref, j))
			t->bad++;
		json_decref(j);
		jarena_release(&a);
	}
	json_decref(ref);
	free(text);
	return NULL;
}

Test(jarena, threads_share_the_block_pool)
{
	cr_assert(jarena_setup());
	json_object_seed(1);
	enum { N = 4 };
	pthread_t th[N];
	struct arena_thread t[N];
	for (int i = 0; i < N; i++) {
		t[i] = (struct arena_thread){.seed = i + 1};
		cr_assert_eq(pthread_create(&th[i], NULL, arena_worker, &t[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(t[i].bad, 0, "thread %d: a tree differed from its malloc twin", i);
	}
}

#if defined(__SANITIZE_ADDRESS__)
/* The sanitizer build poisons released blocks: a tree used after its
 * arena's release is reported (and aborts, ASAN_OPTIONS=abort_on_error=1). */
Test(jarena, use_after_release_is_reported, .signal = SIGABRT)
{
	cr_assert(jarena_setup());
	struct jarena a = {0};
	jarena_enter(&a);
	json_t *j = json_loads("{\"zone\": \"voip\"}", 0, NULL);
	jarena_leave();
	cr_assert_not_null(j);
	jarena_release(&a);
	volatile char c = json_string_value(json_object_get(j, "zone"))[0];
	(void)c;
}
#endif

/* RFC 3339 section 5.6 and its examples (section 5.8), against timegm. */
Test(timefmt, rfc3339_times_and_only_those)
{
	static const struct {
		const char *text;
		int y, mo, d, h, mi, s;
		int64_t frac_ns, offset_s;
	} good[] = {
	    {"1985-04-12T23:20:50.52Z", 1985, 4, 12, 23, 20, 50, 520000000, 0},
	    {"1996-12-19T16:39:57-08:00", 1996, 12, 19, 16, 39, 57, 0, -8 * 3600},
	    {"1990-12-31T23:59:60Z", 1990, 12, 31, 23, 59, 60, 0, 0},
	    {"1990-12-31T15:59:60-08:00", 1990, 12, 31, 15, 59, 60, 0, -8 * 3600},
	    {"1937-01-01T12:00:27.87+00:20", 1937, 1, 1, 12, 0, 27, 870000000, 1200},
	    {"2026-11-26t08:00:00z", 2026, 11, 26, 8, 0, 0, 0, 0},
	    {"2024-02-29T00:00:00.123456789123Z", 2024, 2, 29, 0, 0, 0, 123456789, 0},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct tm tm = {.tm_year = good[i].y - 1900,
				.tm_mon = good[i].mo - 1,
				.tm_mday = good[i].d,
				.tm_hour = good[i].h,
				.tm_min = good[i].mi,
				.tm_sec = good[i].s};
		int64_t want = ((int64_t)timegm(&tm) - good[i].offset_s) * 1000000000 +
			       good[i].frac_ns,
			got = 0;
		cr_expect(rfc3339_parse(good[i].text, &got), "%s", good[i].text);
		cr_expect_eq(got, want, "%s: %lld, want %lld", good[i].text, (long long)got,
			     (long long)want);
	}
	static const char *const bad[] = {
	    "yesterday",
	    "2026-13-40T08:00:00Z",
	    "2026-02-29T08:00:00Z",
	    "2026-04-31T08:00:00Z",
	    "2026-11-26 08:00:00Z",
	    "2026-11-26T08:00:00",
	    "2026-11-26T24:00:00Z",
	    "2026-11-26T08:60:00Z",
	    "2026-11-26T08:00:61Z",
	    "2026-11-26T08:00:00.Z",
	    "2026-11-26T08:00:00+0100",
	    "2026-11-26T08:00:00+24:00",
	    "2026-11-26T08:00:00Z ",
	    "2026-11-26",
	    "26-11-26T08:00:00Z",
	    "",
	    /* past 64-bit nanoseconds (found by fuzz.audit: a signed overflow) */
	    "9999-12-31T23:59:59Z",
	    "2262-04-12T00:00:00Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 42;
		cr_expect_not(rfc3339_parse(bad[i], &t), "'%s' accepted", bad[i]);
		cr_expect_eq(t, 42, "untouched");
	}
	cr_expect_not(rfc3339_parse(NULL, &(int64_t){0}));
	int64_t last;
	cr_expect(rfc3339_parse("2262-04-10T00:00:00Z", &last), "the last day that fits");
}
