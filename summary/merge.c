// SPDX-License-Identifier: MIT
/* Several windows of one gateway summed into one (docs/summary.md, "Merged windows"). */
#include "summary/merge.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "summary/summary.h"

#define MERGE_EVENTS	 256 /* events kept per window, as the agent keeps them */
#define MERGE_UNASSIGNED 20  /* unassigned.top, as the agent lists it */

/* a + b, at most INT64_MAX (counters are never negative in a valid summary). */
static json_int_t sat_add(json_int_t a, json_int_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

/* A string member, "" when it is not one. */
static const char *sv(const json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

static json_int_t iv(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* dst.k += src.k */
static int add_key(json_t *dst, const json_t *src, const char *k)
{
	if (!json_is_integer(json_object_get(dst, k)))
		return 0;
	return json_object_set_new(dst, k, json_integer(sat_add(iv(dst, k), iv(src, k))));
}

/* Every integer of src added to dst's integer of the same key, objects recursively. */
static int sum_ints(json_t *dst, const json_t *src)
{
	const char *k;
	json_t *v;
	int bad = 0;
	json_object_foreach((json_t *)src, k, v)
	{
		json_t *d = json_object_get(dst, k);
		if (json_is_integer(v) && json_is_integer(d))
			bad |= add_key(dst, src, k);
		else if (json_is_object(v) && json_is_object(d))
			bad |= sum_ints(d, v);
	}
	return bad;
}

/* An address as 16 bytes (IPv4 mapped) for ordering as the agent orders them; false for a
 * pseudonym. */
static bool addr16(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (s && inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return true;
	}
	return s && inet_pton(AF_INET6, s, out) == 1;
}

static int cmp_addr_text(const char *a, const char *b)
{
	uint8_t x[16], y[16];
	bool px = addr16(a, x), py = addr16(b, y);
	if (px && py)
		return memcmp(x, y, 16);
	if (px != py)
		return px ? -1 : 1;
	return strcmp(a ? a : "", b ? b : "");
}

/* ---- lists of {name, flows}: summed by name, by flows (descending) then name ---- */

static int cmp_named(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t fx = iv(x, "flows"), fy = iv(y, "flows");
	if (fx != fy)
		return fx > fy ? -1 : 1;
	return strcmp(sv(json_object_get(x, "name")), sv(json_object_get(y, "name")));
}

/* Sorts the objects of array a with cmp (a new array replaces its items in place). */
static int sort_array(json_t *a, int (*cmp)(const void *, const void *), size_t keep)
{
	size_t n = json_array_size(a);
	if (!n)
		return 0;
	json_t **v = malloc(n * sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), cmp);
	json_array_clear(a);
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (i < keep)
			bad |= json_array_append(a, v[i]);
		json_decref(v[i]);
	}
	free(v);
	return bad;
}

static bool same_str(const json_t *a, const json_t *b, const char *k)
{
	const char *x = json_string_value(json_object_get(a, k));
	const char *y = json_string_value(json_object_get(b, k));
	return x && y && strcmp(x, y) == 0;
}

/* The object of arr whose string members k1 (and k2 when not NULL) equal x's, or NULL. */
static json_t *find_same(const json_t *arr, const json_t *x, const char *k1, const char *k2)
{
	size_t i;
	json_t *e;
	json_array_foreach((json_t *)arr, i, e)
	{
		if (same_str(e, x, k1) && (!k2 || same_str(e, x, k2)))
			return e;
	}
	return NULL;
}

/* Each object of src added into dst (the counters named, NULL-terminated) where dst has one
 * with the same keys, else appended: lists keyed by k1 (and k2). */
static int add_objects(json_t *dst, const json_t *src, const char *k1, const char *k2,
		       const char *const *counters)
{
	size_t i;
	json_t *s;
	int bad = 0;
	json_array_foreach((json_t *)src, i, s)
	{
		json_t *d = find_same(dst, s, k1, k2);
		for (size_t k = 0; d && counters[k]; k++)
			bad |= add_key(d, s, counters[k]);
		if (!d)
			bad |= json_array_append_new(dst, json_deep_copy(s));
	}
	return bad;
}

static const char *const flows_only[] = {"flows", NULL};

static int merge_names(json_t *dst, const json_t *src)
{
	return add_objects(dst, src, "name", NULL, flows_only);
}

/* src_sets, dst_sets, matched.from, matched.to of tuple src into dst. */
static int merge_tuple_names(json_t *dst, const json_t *src)
{
	static const char *const lists[] = {"src_sets", "dst_sets"};
	int bad = 0;
	for (int k = 0; k < 2; k++) {
		const json_t *s = json_object_get(src, lists[k]);
		json_t *d = json_object_get(dst, lists[k]);
		if (json_is_array(s) && json_is_array(d))
			bad |= merge_names(d, s);
		else if (json_is_array(s))
			bad |= json_object_set_new(dst, lists[k], json_deep_copy(s));
	}
	const json_t *sm = json_object_get(src, "matched");
	json_t *dm = json_object_get(dst, "matched");
	if (json_is_object(sm) && !json_is_object(dm))
		bad |= json_object_set_new(dst, "matched", json_deep_copy(sm));
	else if (json_is_object(sm))
		for (int k = 0; k < 2; k++) {
			const char *end = k ? "to" : "from";
			json_t *d = json_object_get(dm, end);
			if (json_is_array(d))
				bad |= merge_names(d, json_object_get(sm, end));
		}
	return bad;
}

static int cmp_example(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t fx = iv(x, "flows"), fy = iv(y, "flows");
	if (fx != fy)
		return fx > fy ? -1 : 1;
	int c = cmp_addr_text(json_string_value(json_object_get(x, "src")),
			      json_string_value(json_object_get(y, "src")));
	return c ? c
		 : cmp_addr_text(json_string_value(json_object_get(x, "dst")),
				 json_string_value(json_object_get(y, "dst")));
}

static int merge_examples(json_t *dst, const json_t *src)
{
	const json_t *s = json_object_get(src, "examples");
	json_t *d = json_object_get(dst, "examples");
	if (!json_is_array(s))
		return 0;
	if (!json_is_array(d))
		return json_object_set_new(dst, "examples", json_deep_copy(s));
	return add_objects(d, s, "src", "dst", flows_only);
}

/* One end of a denied tuple's hosts: addresses with flows (-1: not given). */
struct hend {
	const char *a[SUMMARY_HOSTS];
	json_int_t f[SUMMARY_HOSTS];
	int n;
	bool more, flows;
};

static void hend_load(struct hend *h, const json_t *hosts, int e)
{
	static const char *const ends[2] = {"src", "dst"},
				 *const fl[2] = {"src_flows", "dst_flows"},
				 *const done[2] = {"src_complete", "dst_complete"};
	const json_t *a = json_object_get(hosts, ends[e]), *f = json_object_get(hosts, fl[e]);
	memset(h, 0, sizeof(*h));
	h->flows = json_is_array(f) && json_array_size(f) == json_array_size(a);
	h->more = !json_is_true(json_object_get(hosts, done[e]));
	for (size_t i = 0; i < json_array_size(a); i++) {
		if (h->n == SUMMARY_HOSTS) {
			h->more = true;
			break;
		}
		h->a[h->n] = json_string_value(json_array_get(a, i));
		h->f[h->n] = h->flows ? json_integer_value(json_array_get(f, i)) : 0;
		if (h->a[h->n])
			h->n++;
	}
}

static void hend_add(struct hend *h, const struct hend *s)
{
	h->flows &= s->flows;
	h->more |= s->more;
	for (int i = 0; i < s->n; i++) {
		int k = 0;
		while (k < h->n && strcmp(h->a[k], s->a[i]) != 0)
			k++;
		if (k < h->n)
			h->f[k] = sat_add(h->f[k], s->f[i]);
		else if (h->n == SUMMARY_HOSTS)
			h->more = true;
		else {
			h->a[h->n] = s->a[i];
			h->f[h->n++] = s->f[i];
		}
	}
	/* sorted by address, as the agent writes them */
	for (int i = 1; i < h->n; i++)
		for (int k = i; k > 0 && cmp_addr_text(h->a[k - 1], h->a[k]) > 0; k--) {
			const char *t = h->a[k];
			json_int_t x = h->f[k];
			h->a[k] = h->a[k - 1];
			h->f[k] = h->f[k - 1];
			h->a[k - 1] = t;
			h->f[k - 1] = x;
		}
}

/* hosts of tuple src into dst: addresses unioned up to SUMMARY_HOSTS per end, flows summed. */
static int merge_hosts(json_t *dst, const json_t *src)
{
	const json_t *sh = json_object_get(src, "hosts");
	json_t *dh = json_object_get(dst, "hosts");
	if (!json_is_object(sh))
		return 0;
	if (!json_is_object(dh))
		return json_object_set_new(dst, "hosts", json_deep_copy(sh));
	struct hend h[2], s;
	for (int e = 0; e < 2; e++) {
		hend_load(&h[e], dh, e);
		hend_load(&s, sh, e);
		hend_add(&h[e], &s);
	}
	json_t *o = json_object();
	int bad = !o;
	for (int e = 0; o && e < 2; e++) {
		json_t *a = json_array();
		bad |= !a;
		for (int i = 0; a && i < h[e].n; i++)
			bad |= json_array_append_new(a, json_string(h[e].a[i]));
		bad |= json_object_set_new(o, e ? "dst" : "src", a);
	}
	bad |= json_object_set_new(o, "src_complete", json_boolean(!h[0].more));
	bad |= json_object_set_new(o, "dst_complete", json_boolean(!h[1].more));
	for (int e = 0; o && h[0].flows && h[1].flows && e < 2; e++) {
		json_t *a = json_array();
		bad |= !a;
		for (int i = 0; a && i < h[e].n; i++)
			bad |= json_array_append_new(a, json_integer(h[e].f[i]));
		bad |= json_object_set_new(o, e ? "dst_flows" : "src_flows", a);
	}
	/* o holds copies of the strings: dh may go now */
	return bad | json_object_set_new(dst, "hosts", o);
}

/* scope: each check summed where both give it, left out where one does not. */
static int merge_scope(json_t *dst, const json_t *src)
{
	json_t *d = json_object_get(dst, "scope");
	const json_t *s = json_object_get(src, "scope");
	if (!json_is_object(d) && !json_is_object(s))
		return 0;
	if (!json_is_object(d) || !json_is_object(s)) {
		json_object_del(dst, "scope");
		return 0;
	}
	static const char *const checks[] = {"same_site", "same_district", "dst_dc"};
	int bad = 0;
	for (size_t k = 0; k < 3; k++) {
		if (json_is_integer(json_object_get(d, checks[k])) &&
		    json_is_integer(json_object_get(s, checks[k])))
			bad |= add_key(d, s, checks[k]);
		else
			json_object_del(d, checks[k]);
	}
	return bad;
}

static int merge_tuple(json_t *dst, const json_t *src)
{
	int bad = 0;
	static const char *const counts[] = {"flows", "packets", "bytes"};
	for (size_t k = 0; k < 3; k++)
		bad |= add_key(dst, src, counts[k]);
	if (json_is_integer(json_object_get(src, "answered")))
		bad |= add_key(dst, src, "answered");
	else
		json_object_del(dst, "answered");
	bad |= merge_tuple_names(dst, src);
	bad |= merge_examples(dst, src);
	bad |= merge_hosts(dst, src);
	bad |= merge_scope(dst, src);
	return bad;
}

/* The identity of a tuple (docs/summary.md, "tuples"). */
static void tuple_key(const json_t *t, char *buf, size_t size)
{
	const json_t *p = json_object_get(t, "dst_port");
	if (!p)
		p = json_object_get(t, "icmp_type");
	snprintf(buf, size, "%s\x1f%s\x1f%lld\x1f%lld\x1f%lld\x1f%s\x1f%d\x1f%s\x1f%s",
		 sv(json_object_get(t, "src_zone")), sv(json_object_get(t, "dst_zone")),
		 (long long)iv(t, "ip_version"), (long long)iv(t, "proto"),
		 p ? (long long)json_integer_value(p) : -1LL, sv(json_object_get(t, "verdict")),
		 json_is_true(json_object_get(t, "passes")), sv(json_object_get(t, "by")),
		 sv(json_object_get(t, "rule")));
}

struct keyed {
	char key[768];
	json_t *t;
};

static int cmp_keyed(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* As the agent orders them: flows, bytes (descending), then the tuple's text. */
static int cmp_tuple_out(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	json_int_t fx = iv(x->t, "flows"), fy = iv(y->t, "flows");
	if (fx != fy)
		return fx > fy ? -1 : 1;
	fx = iv(x->t, "bytes"), fy = iv(y->t, "bytes");
	if (fx != fy)
		return fx > fy ? -1 : 1;
	return strcmp(x->key, y->key);
}

static json_t *merge_tuples(json_t *const *docs, size_t n)
{
	size_t total = 0, m = 0;
	for (size_t d = 0; d < n; d++)
		total += json_array_size(json_object_get(docs[d], "tuples"));
	struct keyed *v = calloc(total ? total : 1, sizeof(*v));
	json_t *out = json_array();
	int bad = !v || !out;
	for (size_t d = 0; !bad && d < n; d++) {
		size_t i;
		json_t *t;
		json_array_foreach(json_object_get(docs[d], "tuples"), i, t)
		{
			char key[768];
			tuple_key(t, key, sizeof(key));
			size_t k = 0;
			/* sorted insertion keeps the lookups short for the usual few hundred */
			struct keyed probe;
			snprintf(probe.key, sizeof(probe.key), "%s", key);
			struct keyed *hit = m ? bsearch(&probe, v, m, sizeof(*v), cmp_keyed) : NULL;
			if (hit) {
				bad |= merge_tuple(hit->t, t);
				continue;
			}
			while (k < m && strcmp(v[k].key, key) < 0)
				k++;
			memmove(v + k + 1, v + k, (m - k) * sizeof(*v));
			snprintf(v[k].key, sizeof(v[k].key), "%s", key);
			v[k].t = json_deep_copy(t);
			bad |= !v[k].t;
			m++;
		}
	}
	if (!bad)
		qsort(v, m, sizeof(*v), cmp_tuple_out);
	for (size_t k = 0; k < m; k++) {
		json_t *ex = json_object_get(v[k].t, "examples");
		if (!bad && json_is_array(ex))
			bad |= sort_array(ex, cmp_example, SUMMARY_EXAMPLES);
		for (int s = 0; !bad && s < 2; s++) {
			json_t *l = json_object_get(v[k].t, s ? "dst_sets" : "src_sets");
			if (json_is_array(l))
				bad |= sort_array(l, cmp_named, SIZE_MAX);
			l = json_object_get(json_object_get(v[k].t, "matched"), s ? "to" : "from");
			if (json_is_array(l))
				bad |= sort_array(l, cmp_named, SIZE_MAX);
		}
		if (!bad)
			bad |= json_array_append(out, v[k].t);
		json_decref(v[k].t);
	}
	free(v);
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* rule_hits: the last window's rules in its order, then other windows' rules, summed by id. */
static int merge_hits(json_t *base, json_t *const *docs, size_t n)
{
	json_t *hits = json_object_get(base, "rule_hits");
	int bad = 0;
	if (!json_is_array(hits))
		return 0;
	static const char *const counters[] = {"hits", "packets", "bytes", NULL};
	for (size_t d = 0; d + 1 < n; d++)
		bad |=
		    add_objects(hits, json_object_get(docs[d], "rule_hits"), "id", NULL, counters);
	return bad;
}

static int cmp_unassigned(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t bx = iv(x, "bytes"), by = iv(y, "bytes");
	if (bx != by)
		return bx > by ? -1 : 1;
	return cmp_addr_text(json_string_value(json_object_get(x, "address")),
			     json_string_value(json_object_get(y, "address")));
}

/* unassigned: totals summed, top merged by address (the busiest 20), addresses at least the
 * largest window's and the distinct addresses listed. */
static int merge_unassigned(json_t *base, json_t *const *docs, size_t n)
{
	json_t *u = json_object_get(base, "unassigned");
	json_t *top = json_object_get(u, "top");
	if (!json_is_object(u))
		return 0;
	int bad = 0;
	json_int_t addresses = iv(u, "addresses");
	for (size_t d = 0; d + 1 < n; d++) {
		const json_t *s = json_object_get(docs[d], "unassigned");
		bad |= add_key(u, s, "flows");
		bad |= add_key(u, s, "packets");
		bad |= add_key(u, s, "bytes");
		if (iv(s, "addresses") > addresses)
			addresses = iv(s, "addresses");
		static const char *const counters[] = {"as_src", "as_dst", "packets", "bytes",
						       NULL};
		if (json_is_array(top))
			bad |=
			    add_objects(top, json_object_get(s, "top"), "address", NULL, counters);
	}
	if ((json_int_t)json_array_size(top) > addresses)
		addresses = (json_int_t)json_array_size(top);
	if (json_is_integer(json_object_get(u, "addresses")))
		bad |= json_object_set_new(u, "addresses", json_integer(addresses));
	if (json_is_array(top))
		bad |= sort_array(top, cmp_unassigned, MERGE_UNASSIGNED);
	return bad;
}

/* capture: the window counters summed, interfaces' counters by name. */
static int merge_capture(json_t *base, json_t *const *docs, size_t n)
{
	json_t *c = json_object_get(base, "capture");
	static const char *const counters[] = {"packets_read", "packets_decoded",
					       "packets_not_decoded", "fragment_cache_evictions"};
	static const char *const ifc[] = {"received", "dropped", "if_dropped", "reopened"};
	int bad = 0;
	if (!json_is_object(c))
		return 0;
	for (size_t d = 0; d + 1 < n; d++) {
		const json_t *s = json_object_get(docs[d], "capture");
		for (size_t k = 0; k < 4; k++)
			bad |= add_key(c, s, counters[k]);
		json_t *de = json_object_get(c, "decode_errors");
		if (json_is_object(de))
			bad |= sum_ints(de, json_object_get(s, "decode_errors"));
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(s, "interfaces"), i, f)
		{
			json_t *x = find_same(json_object_get(c, "interfaces"), f, "name", NULL);
			for (size_t k = 0; x && k < 4; k++)
				bad |= add_key(x, f, ifc[k]);
		}
	}
	return bad;
}

static int merge_flow_table(json_t *base, json_t *const *docs, size_t n)
{
	json_t *f = json_object_get(base, "flow_table");
	int bad = 0;
	for (size_t d = 0; json_is_object(f) && d + 1 < n; d++) {
		const json_t *s = json_object_get(docs[d], "flow_table");
		bad |= add_key(f, s, "created");
		bad |= add_key(f, s, "evicted");
		if (json_is_integer(json_object_get(f, "peak")) && iv(s, "peak") > iv(f, "peak"))
			bad |= json_object_set_new(f, "peak", json_integer(iv(s, "peak")));
	}
	return bad;
}

static int merge_events(json_t *base, json_t *const *docs, size_t n)
{
	json_t *ev = json_array();
	json_int_t dropped = 0;
	int bad = !ev;
	for (size_t d = 0; ev && d < n; d++) {
		size_t i;
		json_t *e;
		dropped = sat_add(dropped, iv(docs[d], "events_dropped"));
		json_array_foreach(json_object_get(docs[d], "events"), i, e)
		{
			if (json_array_size(ev) < MERGE_EVENTS)
				bad |= json_array_append(ev, e);
			else
				dropped = sat_add(dropped, 1);
		}
	}
	if (json_object_get(base, "events")) {
		bad |= json_object_set(base, "events", ev);
		bad |= json_object_set_new(base, "events_dropped", json_integer(dropped));
	}
	json_decref(ev);
	return bad;
}

static int merge_window(json_t *base, json_t *const *docs, size_t n)
{
	const char *first = NULL, *last = NULL;
	int64_t t0 = 0, t1 = 0;
	for (size_t d = 0; d < n; d++) {
		const json_t *w = json_object_get(docs[d], "window");
		const char *s = json_string_value(json_object_get(w, "start"));
		const char *e = json_string_value(json_object_get(w, "end"));
		int64_t a, b;
		if (s && rfc3339_parse(s, &a) && (!first || a < t0)) {
			first = s;
			t0 = a;
		}
		if (e && rfc3339_parse(e, &b) && (!last || b > t1)) {
			last = e;
			t1 = b;
		}
	}
	json_t *w = json_object_get(base, "window");
	if (!json_is_object(w) || !first || !last)
		return -1;
	json_object_del(w, "empty");
	json_object_del(w, "replaces");
	int bad = json_object_set_new(w, "start", json_string(first));
	bad |= json_object_set_new(w, "end", json_string(last));
	bad |= json_object_set_new(w, "seconds", json_real((double)(t1 - t0) / 1e9));
	return bad;
}

json_t *summary_merge(json_t *const *docs, size_t n)
{
	if (!n)
		return NULL;
	json_t *base = json_deep_copy(docs[n - 1]);
	if (!base)
		return NULL;
	json_object_del(base, "chain");
	int bad = merge_window(base, docs, n);
	bad |= merge_capture(base, docs, n);
	bad |= merge_flow_table(base, docs, n);
	static const char *const summed[] = {"flows", "outcomes", "denied"};
	for (size_t k = 0; k < 3; k++)
		for (size_t d = 0; d + 1 < n; d++)
			if (json_is_object(json_object_get(base, summed[k])))
				bad |= sum_ints(json_object_get(base, summed[k]),
						json_object_get(docs[d], summed[k]));
	json_t *tuples = merge_tuples(docs, n);
	bad |= !tuples || json_object_set_new(base, "tuples", tuples);
	bad |= merge_hits(base, docs, n);
	bad |= merge_unassigned(base, docs, n);
	bad |= merge_events(base, docs, n);
	if (bad) {
		json_decref(base);
		return NULL;
	}
	return base;
}
