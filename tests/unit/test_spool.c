// SPDX-License-Identifier: MIT
/* The agent's spool (agent/spool.h, docs/summary.md "The spool") without a
 * capture: windows made here, a clock of the test's, the chain checked from
 * the files' bytes (summary/chain.h), merged windows checked against sums
 * the test makes itself from the windows it wrote. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/spool.h"
#include "core/timefmt.h"
#include "summary/chain.h"
#include "summary/read.h"
#include "summary/summary.h"
#include "testutil.h"

#define NS   1000000000ull
#define WIN  300
#define MAXW 1200

/* 2026-11-26T00:00:00Z */
static int64_t t0(void)
{
	return days_from_civil(2026, 11, 26) * 86400;
}

struct clk {
	uint64_t now_ns;
	json_t *log; /* every line the spool logged */
};

static uint64_t clk_now(void *arg)
{
	return ((struct clk *)arg)->now_ns;
}

static void clk_log(void *arg, const char *msg)
{
	json_array_append_new(((struct clk *)arg)->log, json_string(msg));
}

static size_t logged(const struct clk *c, const char *needle)
{
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(c->log); i++)
		n += strstr(json_string_value(json_array_get(c->log, i)), needle) != NULL;
	return n;
}

static json_t *tuple(const char *sz, const char *dz, int proto, int port, const char *verdict,
		     const char *by, const char *rule, json_int_t flows, json_int_t answered)
{
	return json_pack("{s:s,s:s,s:i,s:i,s:i,s:s,s:b,s:s,s:s?,s:I,s:I,s:I,s:I}", "src_zone", sz,
			 "dst_zone", dz, "ip_version", 4, "proto", proto, "dst_port", port,
			 "verdict", verdict, "passes", strcmp(verdict, "accept") == 0, "by", by,
			 "rule", rule, "flows", flows, "packets", flows * 10, "bytes",
			 flows * 1000 + 7, "answered", answered);
}

/* Window i: three tuples whose counts vary with i, a denied one with hosts. */
static json_t *window(int i, const char *mode)
{
	char a[32], b[32], src[32];
	int64_t s = t0() + (int64_t)i * WIN;
	json_t *j = json_object();
	cr_assert_eq(summary_envelope(j, "gw-s1", "S1"), 0);
	json_object_set_new(j, "window",
			    json_pack("{s:s,s:s,s:f,s:b,s:s}", "start",
				      summary_time((uint64_t)s * NS, a, sizeof(a)), "end",
				      summary_time((uint64_t)(s + WIN) * NS, b, sizeof(b)),
				      "seconds", (double)WIN, "final", 0, "clock", "wall"));
	json_object_set_new(j, "policy",
			    json_pack("{s:s,s:s}", "hash", "sha256:abc", "mode", mode));
	json_int_t web = 1 + i % 7, dns = 1 + i % 5, ssh = 1 + i % 3;
	json_object_set_new(j, "flows",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I}}", "records",
				      web + dns + ssh, "connections", web + dns + ssh, "counted",
				      web + dns + ssh, "packets", 10 * (web + dns + ssh), "bytes",
				      (json_int_t)i, "not_ours", "flows", (json_int_t)1, "packets",
				      (json_int_t)2, "bytes", (json_int_t)3));
	json_t *t = json_array();
	json_array_append_new(t,
			      tuple("admin", "servers", 6, 80, "accept", "rule", "web", web, web));
	json_array_append_new(t,
			      tuple("guest", "servers", 17, 53, "accept", "rule", "dns", dns, 0));
	json_t *d = tuple("admin", "servers", 6, 22, "drop", "default", NULL, ssh, i % 2);
	snprintf(src, sizeof(src), "10.0.1.%d", i % 20);
	json_object_set_new(
	    d, "examples",
	    json_pack("[{s:s,s:s,s:I}]", "src", src, "dst", "10.1.1.5", "flows", ssh));
	json_object_set_new(d, "hosts",
			    json_pack("{s:[s],s:[s],s:b,s:b,s:[I],s:[I]}", "src", src, "dst",
				      "10.1.1.5", "src_complete", 1, "dst_complete", 1, "src_flows",
				      ssh, "dst_flows", ssh));
	json_array_append_new(t, d);
	json_object_set_new(j, "tuples", t);
	json_object_set_new(j, "rule_hits",
			    json_pack("[{s:s,s:I,s:I,s:I},{s:s,s:I,s:I,s:I}]", "id", "web", "hits",
				      web, "packets", 10 * web, "bytes", 1000 * web + 7, "id",
				      "dns", "hits", dns, "packets", 10 * dns, "bytes",
				      1000 * dns + 7));
	json_object_set_new(j, "outcomes",
			    json_pack("{s:I,s:I}", "rule", web + dns, "default", ssh));
	json_object_set_new(
	    j, "denied",
	    json_pack("{s:I,s:I,s:I}", "flows", ssh, "packets", 10 * ssh, "bytes", 1000 * ssh + 7));
	json_object_set_new(j, "unassigned",
			    json_pack("{s:i,s:i,s:i,s:i,s:[]}", "flows", 0, "packets", 0, "bytes",
				      0, "addresses", 0, "top"));
	struct diag_list *dl = diag_list_new();
	struct summary_reader r = {"window", dl, 0};
	struct summary_read sr;
	cr_assert_eq(summary_read(&r, j, &sr), 0, "%s", tu_diags(dl));
	summary_read_free(&sr);
	diag_list_free(dl);
	return j;
}

/* The test's spool: what it wrote, by seq. */
struct fx {
	char *dir;
	struct clk c;
	struct spool *sp;
	json_t *docs[MAXW + 1]; /* the window written as seq s (NULL: not a window) */
	uint64_t nwin;
};

static void fx_open(struct fx *f, uint64_t max_bytes, uint64_t max_days)
{
	struct spool_caps caps = {max_bytes, max_days * 86400};
	struct spool_env env = {clk_now, clk_log, &f->c};
	cr_assert_eq(spool_open(f->dir, "gw-s1", "S1", &caps, &env, &f->sp), 0);
}

static void fx_init(struct fx *f, uint64_t max_bytes, uint64_t max_days)
{
	memset(f, 0, sizeof(*f));
	f->dir = tu_tmpdir();
	f->c.log = json_array();
	fx_open(f, max_bytes, max_days);
}

static void fx_free(struct fx *f)
{
	spool_close(f->sp);
	for (size_t i = 0; i <= MAXW; i++)
		json_decref(f->docs[i]);
	json_decref(f->c.log);
	tu_rmdir(f->dir);
	free(f->dir);
}

/* Writes window i at its end; returns its seq. */
static uint64_t put(struct fx *f, int i, const char *mode)
{
	int64_t s = t0() + (int64_t)i * WIN;
	json_t *w = window(i, mode);
	uint64_t seq = spool_head(f->sp) + 1; /* the window goes first, merges after it */
	f->c.now_ns = (uint64_t)(s + WIN) * NS;
	cr_assert_eq(spool_write(f->sp, w, (uint64_t)s * NS, (uint64_t)(s + WIN) * NS), 0);
	cr_assert_leq(seq, MAXW);
	f->docs[seq] = w;
	f->nwin++;
	return seq;
}

/* Every file of the directory, read back from its bytes. */
struct file {
	char name[256];
	json_t *j;
	int kind; /* summary_kind, or -2 not JSON */
	struct summary_read s;
	struct summary_gap g;
	mode_t mode;
};

struct dirview {
	struct file *v;
	size_t n;
	struct summary_link *links;
	struct diag_list *dl;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

static void view(const char *dir, struct dirview *d)
{
	memset(d, 0, sizeof(*d));
	d->v = calloc(4 * MAXW, sizeof(*d->v));
	d->links = calloc(4 * MAXW, sizeof(*d->links));
	d->dl = diag_list_new();
	DIR *dd = opendir(dir);
	struct dirent *e;
	cr_assert(dd);
	while ((e = readdir(dd)))
		if (e->d_name[0] != '.') {
			cr_assert_lt(d->n, 4 * MAXW);
			snprintf(d->v[d->n++].name, sizeof(d->v[0].name), "%s", e->d_name);
		}
	closedir(dd);
	qsort(d->v, d->n, sizeof(*d->v), cmp_name);
	for (size_t i = 0; i < d->n; i++) {
		struct file *f = &d->v[i];
		char path[600];
		size_t len;
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, f->name);
		cr_assert_eq(stat(path, &st), 0);
		f->mode = st.st_mode & 07777;
		char *text = tu_slurp(path, &len);
		struct summary_link *l = &d->links[i];
		l->name = f->name;
		summary_sha256(text, len, l->sha256);
		f->j = json_loadb(text, len, 0, NULL);
		free(text);
		f->kind = f->j ? summary_kind(f->j) : -2;
		struct summary_reader r = {f->name, d->dl, 0};
		if (f->kind == 0) {
			cr_assert_eq(summary_read(&r, f->j, &f->s), 0, "%s", tu_diags(d->dl));
			l->seq = f->s.chain.seq;
			l->prev = f->s.chain.prev;
			l->refs = f->s.replaces;
			l->nrefs = f->s.nreplaces;
		} else if (f->kind == 1) {
			cr_assert_eq(summary_read_gap(&r, f->j, &f->g), 0, "%s", tu_diags(d->dl));
			l->seq = f->g.chain.seq;
			l->prev = f->g.chain.prev;
			l->refs = f->g.dropped;
			l->nrefs = f->g.ndropped;
		} else {
			/* not a spool file: its seq from its name, its link unchecked */
			l->seq = strtoull(strchr(f->name, '.') + 1, NULL, 10);
		}
	}
}

static void view_free(struct dirview *d)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].kind == 0)
			summary_read_free(&d->v[i].s);
		if (d->v[i].kind == 1)
			summary_gap_free(&d->v[i].g);
		json_decref(d->v[i].j);
	}
	free(d->v);
	free(d->links);
	diag_list_free(d->dl);
}

/* The chain holds and every seq from 1 to head is a file, replaced or dropped. */
static void chain_holds(const char *dir, uint64_t head)
{
	struct dirview d;
	view(dir, &d);
	cr_assert_eq(summary_chain_check(d.links, d.n, d.dl), 0, "%s", tu_diags(d.dl));
	bool *seen = calloc(head + 1, 1);
	for (size_t i = 0; i < d.n; i++) {
		const struct summary_link *l = &d.links[i];
		cr_assert_leq(l->seq, head);
		seen[l->seq] = true;
		for (size_t r = 0; r < l->nrefs; r++)
			seen[l->refs[r].seq] = true;
	}
	for (uint64_t s = 1; s <= head; s++)
		cr_assert(seen[s], "seq %llu is missing: not a file, not replaced, not dropped",
			  (unsigned long long)s);
	free(seen);
	view_free(&d);
}

Test(spool, a_day_away_is_kept_whole_and_its_chain_verifies)
{
	struct fx f;
	fx_init(&f, 1024ull << 20, 14);
	for (int i = 0; i < 300; i++)
		cr_assert_eq(put(&f, i, "enforce"), (uint64_t)i + 1);
	cr_assert_eq(logged(&f.c, "merged") + logged(&f.c, "dropped"), 0);
	struct dirview d;
	view(f.dir, &d);
	cr_assert_eq(d.n, 300);
	for (size_t i = 0; i < d.n; i++) {
		char want[128], when[20];
		time_t t = (time_t)(t0() + (int64_t)i * WIN);
		strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", gmtime(&t));
		snprintf(want, sizeof(want), "S1.%010zu.%s.json", i + 1, when);
		cr_assert_str_eq(d.v[i].name, want);
		cr_assert_eq(d.v[i].mode, 0640, "%s: mode %o", d.v[i].name, d.v[i].mode);
		cr_assert_str_eq(d.v[i].s.chain.gateway, "S1");
		/* the file is the window written, with its chain */
		json_t *c = json_copy(d.v[i].j);
		json_object_del(c, "chain");
		cr_assert(json_equal(c, f.docs[i + 1]), "%s differs from the window", d.v[i].name);
		json_decref(c);
	}
	cr_assert_null(d.v[0].s.chain.prev);
	view_free(&d);
	chain_holds(f.dir, 300);
	fx_free(&f);
}

/* One window's file size (about: the chain adds a little). */
static uint64_t window_size(void)
{
	json_t *w = window(5, "enforce");
	char *t = json_dumps(w, JSON_INDENT(2));
	uint64_t n = strlen(t) + 200;
	free(t);
	json_decref(w);
	return n;
}

struct sums {
	char key[128];
	json_int_t flows, packets, bytes, answered;
};

static struct sums *sum_of(struct sums *v, size_t *n, const json_t *t)
{
	char key[128];
	snprintf(key, sizeof(key), "%s|%s|%lld|%s|%s",
		 json_string_value(json_object_get(t, "src_zone")),
		 json_string_value(json_object_get(t, "dst_zone")),
		 (long long)json_integer_value(json_object_get(t, "dst_port")),
		 json_string_value(json_object_get(t, "verdict")),
		 json_string_value(json_object_get(t, "rule")) ?: "-");
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].key, key) == 0)
			return &v[i];
	snprintf(v[*n].key, sizeof(v[0].key), "%s", key);
	return &v[(*n)++];
}

static void add_tuples(struct sums *v, size_t *n, const json_t *doc)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(doc, "tuples"), i, t)
	{
		struct sums *s = sum_of(v, n, t);
		s->flows += json_integer_value(json_object_get(t, "flows"));
		s->packets += json_integer_value(json_object_get(t, "packets"));
		s->bytes += json_integer_value(json_object_get(t, "bytes"));
		s->answered += json_integer_value(json_object_get(t, "answered"));
	}
}

/* Each merged window against the windows it replaces, summed here. */
static size_t merged_sums_hold(struct fx *f)
{
	struct dirview d;
	size_t merged = 0;
	view(f->dir, &d);
	for (size_t i = 0; i < d.n; i++) {
		const struct file *m = &d.v[i];
		if (m->kind != 0 || !m->s.nreplaces)
			continue;
		merged++;
		struct sums want[8] = {0}, got[8] = {0};
		size_t nw = 0, ng = 0;
		json_int_t hits = 0, want_hits = 0, ssh_src = 0;
		int64_t first = INT64_MAX, last = 0;
		for (size_t r = 0; r < m->s.nreplaces; r++) {
			const struct summary_ref *ref = &m->s.replaces[r];
			json_t *orig = f->docs[ref->seq];
			cr_assert(orig, "%s replaces seq %llu, which was no window", m->name,
				  (unsigned long long)ref->seq);
			add_tuples(want, &nw, orig);
			want_hits += json_integer_value(json_object_get(
			    json_array_get(json_object_get(orig, "rule_hits"), 0), "hits"));
			/* the sha256 listed is the original file's: the chain of the
			 * originals, recomputed as the file after each one named it */
			int64_t a, b;
			cr_assert(rfc3339_parse(ref->start, &a) && rfc3339_parse(ref->end, &b));
			first = a < first ? a : first;
			last = b > last ? b : last;
		}
		add_tuples(got, &ng, m->j);
		cr_assert_eq(nw, ng, "%s: %zu tuples, want %zu", m->name, ng, nw);
		for (size_t k = 0; k < nw; k++) {
			size_t x = 0;
			while (x < ng && strcmp(got[x].key, want[k].key) != 0)
				x++;
			cr_assert_lt(x, ng, "%s lacks %s", m->name, want[k].key);
			cr_assert_eq(got[x].flows, want[k].flows, "%s %s flows", m->name,
				     want[k].key);
			cr_assert_eq(got[x].packets, want[k].packets);
			cr_assert_eq(got[x].bytes, want[k].bytes);
			cr_assert_eq(got[x].answered, want[k].answered);
		}
		/* rule hits by id, and the denied tuple's per-address flows */
		size_t k;
		json_t *h, *t;
		json_array_foreach(json_object_get(m->j, "rule_hits"), k, h)
		{
			if (strcmp(json_string_value(json_object_get(h, "id")), "web") == 0)
				hits = json_integer_value(json_object_get(h, "hits"));
		}
		cr_assert_eq(hits, want_hits, "%s: web hits", m->name);
		json_array_foreach(json_object_get(m->j, "tuples"), k, t)
		{
			json_t *sf = json_object_get(json_object_get(t, "hosts"), "src_flows");
			for (size_t z = 0; z < json_array_size(sf); z++)
				ssh_src += json_integer_value(json_array_get(sf, z));
			if (sf) {
				cr_assert_eq(
				    ssh_src, json_integer_value(json_object_get(t, "flows")),
				    "%s: the sources' flows add up to the tuple's", m->name);
			}
		}
		int64_t ms, me;
		cr_assert(rfc3339_parse(m->s.start, &ms) && rfc3339_parse(m->s.end, &me));
		cr_assert_eq(ms, first);
		cr_assert_eq(me, last);
	}
	view_free(&d);
	return merged;
}

/* The hashes a merged window lists are those of the original files' bytes: the
 * files are read before the spool merges them (a copy is kept here). */
static void copy_dir(const char *from, const char *to)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "cp -p '%s'/S1.* '%s'/ 2>/dev/null", from, to);
	tu_run(cmd);
}

Test(spool, at_the_cap_hours_are_merged_and_add_up)
{
	struct fx f;
	uint64_t one = window_size();
	fx_init(&f, 24 * one, 14);
	char *keep = tu_tmpdir();
	for (int i = 0; i < 72; i++) {
		put(&f, i, "enforce");
		copy_dir(f.dir, keep);
	}
	cr_assert_gt(logged(&f.c, "merged 12 windows"), 0, "no merge logged");
	cr_assert_eq(logged(&f.c, "dropped"), 0, "merging was enough");
	cr_assert_leq(spool_bytes(f.sp), 24 * one);
	cr_assert_gt(merged_sums_hold(&f), 0);
	/* the replaces' hashes are the hashes of the originals as written */
	struct dirview d, k;
	view(f.dir, &d);
	view(keep, &k);
	size_t checked = 0;
	for (size_t i = 0; i < d.n; i++)
		for (size_t r = 0; r < d.v[i].s.nreplaces; r++) {
			const struct summary_ref *ref = &d.v[i].s.replaces[r];
			for (size_t x = 0; x < k.n; x++)
				if (k.links[x].seq == ref->seq) {
					cr_assert_str_eq(k.links[x].sha256, ref->sha256);
					checked++;
				}
		}
	cr_assert_gt(checked, 12);
	view_free(&d);
	view_free(&k);
	chain_holds(f.dir, spool_head(f.sp));
	tu_rmdir(keep);
	free(keep);
	fx_free(&f);
}

Test(spool, windows_of_another_policy_are_not_merged_together)
{
	struct fx f;
	uint64_t one = window_size();
	fx_init(&f, 12 * one, 14);
	for (int i = 0; i < 12; i++)
		put(&f, i, i < 6 ? "observe" : "enforce");
	put(&f, 12, "enforce");
	struct dirview d;
	view(f.dir, &d);
	size_t merged = 0;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].kind == 0 && d.v[i].s.nreplaces) {
			merged++;
			cr_assert_eq(d.v[i].s.nreplaces, 6, "%s", d.v[i].name);
			for (size_t r = 0; r < 6; r++)
				cr_assert_str_eq(
				    json_string_value(json_object_get(
					json_object_get(f.docs[d.v[i].s.replaces[r].seq], "policy"),
					"mode")),
				    d.v[i].s.mode);
		}
	cr_assert_eq(merged, 2, "one merged window per policy mode");
	view_free(&d);
	cr_assert_gt(merged_sums_hold(&f), 0);
	chain_holds(f.dir, spool_head(f.sp));
	fx_free(&f);
}

/* The gap markers of the directory, each of this reason and named as one. */
static size_t gap_markers(const struct dirview *d, const char *reason)
{
	size_t gaps = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].kind == 1) {
			gaps++;
			cr_assert_str_eq(d->v[i].g.reason, reason);
			cr_assert(strstr(d->v[i].name, ".gap.json"), "%s", d->v[i].name);
		}
	return gaps;
}

Test(spool, over_the_cap_after_merging_windows_are_dropped_with_a_gap_marker)
{
	struct fx f;
	uint64_t one = window_size();
	fx_init(&f, 10 * one, 14);
	for (int i = 0; i < 48; i++)
		put(&f, i, "enforce");
	cr_assert_gt(logged(&f.c, "dropped"), 0);
	cr_assert_gt(logged(&f.c, "for the size cap"), 0);
	cr_assert_leq(spool_bytes(f.sp), 10 * one);
	struct dirview d;
	view(f.dir, &d);
	cr_assert_gt(gap_markers(&d, "size-cap"), 0);
	view_free(&d);
	/* nothing is silently missing: every seq is a file, replaced or dropped */
	chain_holds(f.dir, spool_head(f.sp));
	fx_free(&f);
}

Test(spool, files_past_the_age_cap_are_dropped_with_a_gap_marker)
{
	struct fx f;
	fx_init(&f, 0, 2);
	/* one window every 6 hours for 4 days */
	for (int i = 0; i < 16; i++)
		put(&f, i * 72, "enforce");
	cr_assert_gt(logged(&f.c, "for the age cap"), 0);
	struct dirview d;
	view(f.dir, &d);
	int64_t cutoff = (int64_t)(f.c.now_ns / NS) - 2 * 86400;
	cr_assert_gt(gap_markers(&d, "age-cap"), 0);
	for (size_t i = 0; i < d.n; i++) {
		int64_t e;
		if (d.v[i].kind == 0) {
			cr_assert(rfc3339_parse(d.v[i].s.end, &e));
			cr_assert_geq(e / (int64_t)NS, cutoff, "%s is older than the cap",
				      d.v[i].name);
		}
	}
	view_free(&d);
	chain_holds(f.dir, spool_head(f.sp));
	fx_free(&f);
}

Test(spool, an_altered_or_missing_file_breaks_the_chain)
{
	struct fx f;
	fx_init(&f, 0, 0);
	for (int i = 0; i < 10; i++)
		put(&f, i, "enforce");
	chain_holds(f.dir, 10);
	struct dirview d;
	view(f.dir, &d);
	char path[600], name[256];
	snprintf(name, sizeof(name), "%s", d.v[4].name);
	snprintf(path, sizeof(path), "%s/%s", f.dir, name);
	view_free(&d);
	/* one byte of seq 5 changed: still a valid summary, but seq 6 names other bytes */
	size_t len;
	char *text = tu_slurp(path, &len);
	char *p = strstr(text, "\"flows\": ");
	cr_assert(p);
	p[9] = p[9] == '9' ? '8' : (char)(p[9] + 1);
	FILE *o = fopen(path, "w");
	fwrite(text, 1, len, o);
	fclose(o);
	free(text);
	view(f.dir, &d);
	cr_assert_eq(summary_chain_check(d.links, d.n, d.dl), 1, "%s", tu_diags(d.dl));
	cr_assert(tu_diag_contains(d.dl, "chain broken"), "%s", tu_diags(d.dl));
	cr_assert(tu_diag_contains(d.dl, "S1.0000000006."), "%s", tu_diags(d.dl));
	view_free(&d);
	/* and a file removed is a hole */
	unlink(path);
	view(f.dir, &d);
	cr_assert_gt(summary_chain_check(d.links, d.n, d.dl), 0);
	cr_assert(tu_diag_contains(d.dl, "seq 5 to 5 missing"), "%s", tu_diags(d.dl));
	view_free(&d);
	fx_free(&f);
}

Test(spool, a_restart_continues_the_chain)
{
	struct fx f;
	fx_init(&f, 0, 0);
	for (int i = 0; i < 5; i++)
		put(&f, i, "enforce");
	spool_close(f.sp);
	fx_open(&f, 0, 0);
	cr_assert_eq(spool_head(f.sp), 5);
	for (int i = 5; i < 10; i++)
		cr_assert_eq(put(&f, i, "enforce"), (uint64_t)i + 1);
	chain_holds(f.dir, 10);

	/* the last file corrupt: logged, and the chain goes on after it with its hash */
	struct dirview d;
	view(f.dir, &d);
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", f.dir, d.v[9].name);
	view_free(&d);
	spool_close(f.sp);
	FILE *o = fopen(path, "w");
	fputs("{\"kind\": \"segplan-agent-summary\", \"cut short", o);
	fclose(o);
	fx_open(&f, 0, 0);
	cr_assert_gt(logged(&f.c, "not a valid spool file"), 0);
	cr_assert_gt(logged(&f.c, "the chain continues after it"), 0);
	cr_assert_eq(put(&f, 10, "enforce"), 11);
	view(f.dir, &d);
	char want[SUMMARY_SHA256_TEXT];
	size_t len;
	char *text = tu_slurp(path, &len);
	summary_sha256(text, len, want);
	free(text);
	cr_assert_eq(d.v[9].kind, -2);
	cr_assert_str_eq(d.v[10].s.chain.prev, want);
	cr_assert_eq(summary_chain_check(d.links, d.n, d.dl), 0, "%s", tu_diags(d.dl));
	view_free(&d);
	fx_free(&f);
}

Test(spool, an_existing_name_is_never_overwritten)
{
	struct fx f;
	fx_init(&f, 0, 0);
	put(&f, 0, "enforce");
	/* another writer took the next name */
	char path[600], when[20];
	time_t t = (time_t)(t0() + WIN);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", gmtime(&t));
	snprintf(path, sizeof(path), "%s/S1.0000000002.%s.json", f.dir, when);
	FILE *o = fopen(path, "w");
	fputs("foreign\n", o);
	fclose(o);
	int64_t s1 = t0() + WIN;
	json_t *w = window(1, "enforce");
	cr_assert_eq(spool_write(f.sp, w, (uint64_t)s1 * NS, (uint64_t)(s1 + WIN) * NS), 0);
	json_decref(w);
	size_t len;
	char *text = tu_slurp(path, &len);
	cr_assert_str_eq(text, "foreign\n", "the file was overwritten");
	free(text);
	cr_assert_gt(logged(&f.c, "exists already: not overwritten"), 0);
	cr_assert_eq(spool_head(f.sp), 3, "the window went after it");
	struct dirview d;
	view(f.dir, &d);
	cr_assert_eq(d.n, 3);
	cr_assert_eq(summary_chain_check(d.links, d.n, d.dl), 0, "%s", tu_diags(d.dl));
	cr_assert_eq(d.v[2].s.chain.seq, 3);
	view_free(&d);
	fx_free(&f);
}
