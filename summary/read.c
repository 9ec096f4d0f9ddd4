// SPDX-License-Identifier: MIT
#include "summary/read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/proto.h"
#include "core/timefmt.h"

void summary_read_free(struct summary_read *s)
{
	free(s->tuples);
	free(s->ex);
	free(s->names);
	free(s->hosts);
	free(s->hits);
	free(s->krules);
	free(s->utop);
	free(s->replaces);
	free(s->host_flows);
}

void summary_bad(struct summary_reader *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	r->errors++;
	if (r->errors > SUMMARY_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->errors == SUMMARY_MAX_ERRORS)
		diag_add(r->dl, DIAG_ERROR, r->name, 0, 0, "%s (further errors not shown)", msg);
	else
		diag_add(r->dl, DIAG_ERROR, r->name, 0, 0, "%s", msg);
}

/*
 * Where a member is, "A[i].B[k]" (an index left out when NOIX, B when
 * NULL): kept apart and written out only for a diagnostic, since nearly
 * every member read is fine.
 */
#define NOIX SIZE_MAX
struct at {
	const char *a;
	size_t i;
	const char *b;
	size_t k;
};

#define AT(name) (&(const struct at){(name), NOIX, NULL, NOIX})

static const char *at_text(const struct at *w, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s", w->a);
	if (n >= 0 && (size_t)n < size && w->i != NOIX)
		n += snprintf(buf + n, size - (size_t)n, "[%zu]", w->i);
	if (n >= 0 && (size_t)n < size && w->b)
		n += snprintf(buf + n, size - (size_t)n, ".%s", w->b);
	if (n >= 0 && (size_t)n < size && w->k != NOIX)
		snprintf(buf + n, size - (size_t)n, "[%zu]", w->k);
	return buf;
}

/* The text of w, in a buffer that lives to the end of the full expression's block. */
#define PATH(w) at_text((w), (char[96]){0}, 96)

/* A member that must be a non-negative integer (at most max). */
static bool get_u64(struct summary_reader *r, const json_t *o, const struct at *w, const char *key,
		    bool required, uint64_t max, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);
	*out = 0;
	if (!v) {
		if (required)
			summary_bad(r, "%s: missing member '%s'", PATH(w), key);
		return !required;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		summary_bad(r, "%s.%s: expected an integer from 0 to %" PRIu64, PATH(w), key, max);
		return false;
	}
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* A string member; null is allowed when nullable (then *out is NULL). */
static bool get_str(struct summary_reader *r, const json_t *o, const struct at *w, const char *key,
		    bool required, bool nullable, const char **out)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v) {
		if (required)
			summary_bad(r, "%s: missing member '%s'", PATH(w), key);
		return !required;
	}
	if (json_is_null(v) && nullable)
		return true;
	if (!json_is_string(v)) {
		summary_bad(r, "%s.%s: expected a string%s", PATH(w), key,
			    nullable ? " or null" : "");
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* A required RFC 3339 time (core/timefmt.h): its text and *t; null when nullable. */
static bool get_time(struct summary_reader *r, const json_t *o, const struct at *w, const char *key,
		     bool nullable, const char **out, int64_t *t)
{
	if (!get_str(r, o, w, key, true, nullable, out) || !*out)
		return false;
	if (rfc3339_parse(*out, t))
		return true;
	summary_bad(r, "%s.%s: '%s' is not an RFC 3339 time (like 2026-11-26T08:00:00Z)", PATH(w),
		    key, *out);
	return false;
}

/* Members start and end: two times, the end not before the start. */
static void get_span(struct summary_reader *r, const json_t *o, const struct at *w,
		     const char **start, const char **end)
{
	int64_t t0, t1;
	if (get_time(r, o, w, "start", false, start, &t0) &&
	    get_time(r, o, w, "end", false, end, &t1) && t1 < t0)
		summary_bad(r, "%s.end: %s is before the start %s", PATH(w), *end, *start);
}

static bool one_of(const char *s, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(s, *names) == 0)
			return true;
	return false;
}

static const char *const verdicts[] = {"accept", "drop", "reject", "transit", NULL};
static const char *const outcomes[] = {"rule",	  "default",	"transit", "invalid",
				       "related", "management", "fixed",   NULL};

/* ICMP errors that pass with the connection they quote (docs/summary.md):
 * part of that connection, neither covered, uncovered nor denied. */
bool summary_is_related(const struct summary_tuple *u)
{
	return u->by && strcmp(u->by, "related") == 0;
}

static bool is_pseudonym(const char *s)
{
	return s && strncmp(s, "h:", 2) == 0;
}

/* An address or an "h:" pseudonym: short, printable, no '|' (the audit's key separator). */
static bool host_text(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (*s == '|' || (unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* One member of an object: a string (nullable or not) or an integer from 0 to INT64_MAX. */
struct field {
	const char *key;
	enum { F_STR, F_U64, F_U64_OPT } type;
	size_t off; /* in the record */
};
#define STR(T, m, k)                                                                               \
	{                                                                                          \
		(k), F_STR, offsetof(T, m)                                                         \
	}
#define U64(T, m, k)                                                                               \
	{                                                                                          \
		(k), F_U64, offsetof(T, m)                                                         \
	}
#define U64_OPT(T, m, k)                                                                           \
	{                                                                                          \
		(k), F_U64_OPT, offsetof(T, m)                                                     \
	}

/*
 * An array of objects read by one field table: each element into the next
 * record of items (size bytes each, room for every element) or, when items
 * is NULL, into a scratch record (at most 64 bytes); done (may be NULL) checks and uses a
 * record whose fields were read (ok: without an error) and says whether it
 * is kept. The index of an element goes into w.k when w.b is set, else w.i.
 */
struct objects {
	struct at w;
	const struct field *f;
	size_t nf;
	size_t size;
	bool (*done)(struct summary_reader *r, const struct at *w, struct summary_read *s,
		     void *rec, bool ok);
};

/* The records kept. */
static size_t read_objects(struct summary_reader *r, const json_t *a, const struct objects *o,
			   void *items, struct summary_read *s)
{
	size_t i, n = 0;
	const json_t *e;
	max_align_t scratch[64 / sizeof(max_align_t)];
	json_array_foreach(a, i, e)
	{
		struct at w = o->w;
		*(w.b ? &w.k : &w.i) = i;
		if (!json_is_object(e)) {
			summary_bad(r, "%s: expected an object", PATH(&w));
			continue;
		}
		char *rec = items ? (char *)items + n * o->size : (char *)scratch;
		int before = r->errors;
		for (size_t k = 0; k < o->nf; k++) {
			const struct field *f = &o->f[k];
			if (f->type == F_STR)
				get_str(r, e, &w, f->key, true, false,
					(const char **)(rec + f->off));
			else
				get_u64(r, e, &w, f->key, f->type == F_U64, INT64_MAX,
					(uint64_t *)(rec + f->off));
		}
		bool ok = r->errors == before;
		if (o->done ? o->done(r, &w, s, rec, ok) : ok)
			n++;
	}
	return n;
}

/* read_objects into a new array (*items, one spare record); false when out of memory. */
static bool read_new_objects(struct summary_reader *r, const json_t *a, const struct objects *o,
			     void **items, size_t *n, struct summary_read *s)
{
	*items = calloc(json_array_size(a) + 1, o->size);
	if (!*items) {
		summary_bad(r, "out of memory");
		return false;
	}
	*n = read_objects(r, a, o, *items, s);
	return true;
}

/* An example is kept even when wrong: an error skips the whole summary. */
static bool example_done(struct summary_reader *r, const struct at *w, struct summary_read *s,
			 void *rec, bool ok)
{
	const struct summary_example *x = rec;
	(void)ok;
	if (!host_text(x->src) || !host_text(x->dst))
		summary_bad(r, "%s: 'src' and 'dst' must be addresses or pseudonyms", PATH(w));
	s->pseudonymised |= is_pseudonym(x->src) || is_pseudonym(x->dst);
	return true;
}

static bool uaddr_done(struct summary_reader *r, const struct at *w, struct summary_read *s,
		       void *rec, bool ok)
{
	const struct summary_uaddr *u = rec;
	if (!ok)
		return false;
	if (!host_text(u->address)) {
		summary_bad(r, "%s.address: expected an address or a pseudonym", PATH(w));
		return false;
	}
	s->pseudonymised |= is_pseudonym(u->address);
	return true;
}

/* The losses of one interface, summed over the window's interfaces. */
struct iface_loss {
	uint64_t dropped, if_dropped;
};

static bool iface_done(struct summary_reader *r, const struct at *w, struct summary_read *s,
		       void *rec, bool ok)
{
	const struct iface_loss *l = rec;
	(void)r, (void)w, (void)ok;
	s->dropped += l->dropped + l->if_dropped;
	return true;
}

static const struct field example_fields[] = {
    STR(struct summary_example, src, "src"),
    STR(struct summary_example, dst, "dst"),
    U64(struct summary_example, flows, "flows"),
};
static const struct field krule_fields[] = {
    STR(struct summary_krule, id, "id"),
    U64(struct summary_krule, packets, "packets"),
    U64(struct summary_krule, bytes, "bytes"),
};
static const struct field uaddr_fields[] = {
    STR(struct summary_uaddr, address, "address"), U64(struct summary_uaddr, as_src, "as_src"),
    U64(struct summary_uaddr, as_dst, "as_dst"),   U64(struct summary_uaddr, packets, "packets"),
    U64(struct summary_uaddr, bytes, "bytes"),
};
static const struct field iface_fields[] = {
    U64_OPT(struct iface_loss, dropped, "dropped"),
    U64_OPT(struct iface_loss, if_dropped, "if_dropped"),
};
static const struct field hit_fields[] = {
    STR(struct summary_hit, id, "id"),
    U64(struct summary_hit, c.flows, "hits"),
    U64_OPT(struct summary_hit, c.packets, "packets"),
    U64_OPT(struct summary_hit, c.bytes, "bytes"),
};
#define FIELDS(t) (t), sizeof(t) / sizeof((t)[0])

static void read_examples(struct summary_reader *r, const json_t *ex, size_t i,
			  struct summary_read *s, struct summary_tuple *u)
{
	if (!json_is_array(ex))
		summary_bad(r, "%s: expected an array",
			    PATH(&((struct at){"tuples", i, "examples", NOIX})));
	u->ex0 = s->nex;
	if (grow_array(&s->ex, &s->excap, s->nex + json_array_size(ex), sizeof(*s->ex))) {
		summary_bad(r, "out of memory");
		return;
	}
	const struct objects o = {
	    {"tuples", i, "examples", NOIX}, FIELDS(example_fields), sizeof(*s->ex), example_done};
	s->nex += read_objects(r, ex, &o, s->ex + s->nex, s);
	u->nex = s->nex - u->ex0;
}

/* One list of names of tuple i ([{"name", "flows"}]), each at most the tuple's flows. */
static void read_names(struct summary_reader *r, const json_t *a, const struct at *w,
		       struct summary_read *s, struct summary_tuple *u, enum summary_names k)
{
	u->name0[k] = s->nnames;
	if (!json_is_array(a)) {
		summary_bad(r, "%s: expected an array", PATH(w));
		return;
	}
	if (grow_array(&s->names, &s->namecap, s->nnames + json_array_size(a), sizeof(*s->names))) {
		summary_bad(r, "out of memory");
		return;
	}
	size_t j;
	const json_t *e;
	json_array_foreach(a, j, e)
	{
		struct at we = *w;
		we.k = j;
		struct summary_name *n = &s->names[s->nnames];
		if (!json_is_object(e)) {
			summary_bad(r, "%s: expected an object", PATH(&we));
			continue;
		}
		if (!get_str(r, e, &we, "name", true, false, &n->name) ||
		    !get_u64(r, e, &we, "flows", true, u->c.flows, &n->flows))
			continue;
		for (size_t m = u->name0[k]; m < s->nnames; m++)
			if (strcmp(s->names[m].name, n->name) == 0)
				summary_bad(r, "%s: '%s' is listed twice", PATH(w), n->name);
		s->nnames++;
	}
	u->nnames[k] = s->nnames - u->name0[k];
}

/* hosts.src_flows and dst_flows: parallel to src and dst, each at most the tuple's flows. */
static void read_host_flows(struct summary_reader *r, const json_t *h, size_t i,
			    struct summary_read *s, struct summary_tuple *u)
{
	static const char *const keys[2] = {"src_flows", "dst_flows"};
	static const char *const ends[2] = {"src", "dst"};
	const json_t *f[2] = {json_object_get(h, keys[0]), json_object_get(h, keys[1])};
	const struct at w = {"tuples", i, "hosts", NOIX};
	if (!f[0] && !f[1])
		return;
	if (!f[0] || !f[1]) {
		summary_bad(r, "%s: 'src_flows' and 'dst_flows' go together", PATH(&w));
		return;
	}
	for (int e = 0; e < 2; e++) {
		const json_t *a = json_object_get(h, ends[e]);
		if (!json_is_array(f[e]) || json_array_size(f[e]) != json_array_size(a) ||
		    json_array_size(f[e]) != u->nhosts[e]) {
			summary_bad(r, "%s.%s: expected an array as long as '%s'", PATH(&w),
				    keys[e], ends[e]);
			return;
		}
	}
	if (grow_array(&s->host_flows, &s->host_flowcap,
		       s->nhost_flows + u->nhosts[0] + u->nhosts[1], sizeof(*s->host_flows))) {
		summary_bad(r, "out of memory");
		return;
	}
	for (int e = 0; e < 2; e++) {
		u->hflow0[e] = s->nhost_flows;
		for (size_t j = 0; j < u->nhosts[e]; j++) {
			const json_t *v = json_array_get(f[e], j);
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    (uint64_t)json_integer_value(v) > u->c.flows) {
				summary_bad(r, "%s.%s[%zu]: expected an integer from 0 to %" PRIu64,
					    PATH(&w), keys[e], j, u->c.flows);
				return;
			}
			s->host_flows[s->nhost_flows++] = (uint64_t)json_integer_value(v);
		}
	}
	u->has_host_flows = true;
}

/* The names of the table, the denied connections' hosts and scope (docs/summary.md). */
static void read_tuple_names(struct summary_reader *r, const json_t *t, size_t i,
			     struct summary_read *s, struct summary_tuple *u)
{
	static const char *const keys[SUMMARY_NNAMES] = {"src_sets", "dst_sets", "from", "to"};
	const json_t *ss = json_object_get(t, "src_sets"), *ds = json_object_get(t, "dst_sets");
	if ((ss == NULL) != (ds == NULL))
		summary_bad(r, "%s: 'src_sets' and 'dst_sets' go together",
			    PATH(&((struct at){"tuples", i, NULL, NOIX})));
	u->named = ss && ds;
	const json_t *m = json_object_get(t, "matched");
	if (m && !json_is_object(m))
		summary_bad(r, "%s: expected an object",
			    PATH(&((struct at){"tuples", i, "matched", NOIX})));
	for (int k = 0; k < SUMMARY_NNAMES; k++) {
		const json_t *a =
		    k < SUMMARY_FROM ? json_object_get(t, keys[k]) : json_object_get(m, keys[k]);
		char path[32];
		snprintf(path, sizeof(path), "%s%s", k < SUMMARY_FROM ? "" : "matched.", keys[k]);
		u->name0[k] = s->nnames;
		if (a)
			read_names(r, a, &((struct at){"tuples", i, path, NOIX}), s, u,
				   (enum summary_names)k);
		else if (m && json_is_object(m) && k >= SUMMARY_FROM)
			summary_bad(r, "%s: missing member '%s'",
				    PATH(&((struct at){"tuples", i, "matched", NOIX})), keys[k]);
	}
	const json_t *h = json_object_get(t, "hosts");
	if (h) {
		static const char *const ends[2] = {"src", "dst"};
		static const char *const done[2] = {"src_complete", "dst_complete"};
		u->has_hosts = true;
		for (int e = 0; e < 2; e++) {
			const json_t *a = json_object_get(h, ends[e]);
			const json_t *c = json_object_get(h, done[e]);
			const struct at w = {"tuples", i, "hosts", NOIX};
			u->host0[e] = s->nhosts;
			if (!json_is_array(a) || !json_is_boolean(c)) {
				summary_bad(r,
					    "%s: expected '%s' (an array) and '%s' (true or false)",
					    PATH(&w), ends[e], done[e]);
				continue;
			}
			u->complete[e] = json_is_true(c);
			if (json_array_size(a) > SUMMARY_HOSTS) {
				summary_bad(r, "%s.%s: more than %d addresses", PATH(&w), ends[e],
					    SUMMARY_HOSTS);
				continue;
			}
			if (grow_array(&s->hosts, &s->hostcap, s->nhosts + json_array_size(a),
				       sizeof(*s->hosts))) {
				summary_bad(r, "out of memory");
				return;
			}
			size_t j;
			const json_t *x;
			json_array_foreach(a, j, x)
			{
				const char *v = json_string_value(x);
				if (!host_text(v)) {
					summary_bad(
					    r, "%s.%s[%zu]: expected an address or a pseudonym",
					    PATH(&w), ends[e], j);
					continue;
				}
				s->pseudonymised |= is_pseudonym(v);
				s->hosts[s->nhosts++] = v;
			}
			u->nhosts[e] = s->nhosts - u->host0[e];
		}
		read_host_flows(r, h, i, s, u);
	}
	const json_t *sc = json_object_get(t, "scope");
	if (sc) {
		static const char *const checks[SUMMARY_NSCOPE] = {"same_site", "same_district",
								   "dst_dc"};
		if (!json_is_object(sc))
			summary_bad(r, "%s: expected an object",
				    PATH(&((struct at){"tuples", i, "scope", NOIX})));
		for (int k = 0; json_is_object(sc) && k < SUMMARY_NSCOPE; k++)
			if (json_object_get(sc, checks[k]))
				u->scope_known[k] =
				    get_u64(r, sc, &((struct at){"tuples", i, "scope", NOIX}),
					    checks[k], true, u->c.flows, &u->scope[k]);
	}
}

static void read_tuple(struct summary_reader *r, const json_t *t, size_t i, struct summary_read *s)
{
	const struct at w = {"tuples", i, NULL, NOIX};
	uint64_t v, fam, proto;
	struct summary_tuple *u = &s->tuples[s->ntuples];
	memset(u, 0, sizeof(*u));
	if (!json_is_object(t)) {
		summary_bad(r, "%s: expected an object", PATH(&w));
		return;
	}
	int before = r->errors;
	get_str(r, t, &w, "src_zone", true, false, &u->from);
	get_str(r, t, &w, "dst_zone", true, false, &u->to);
	get_str(r, t, &w, "verdict", true, true, &u->verdict);
	get_str(r, t, &w, "by", true, true, &u->by);
	get_str(r, t, &w, "rule", true, true, &u->rule);
	get_u64(r, t, &w, "ip_version", true, 6, &fam);
	get_u64(r, t, &w, "proto", true, 255, &proto);
	get_u64(r, t, &w, "flows", true, INT64_MAX, &u->c.flows);
	get_u64(r, t, &w, "packets", true, INT64_MAX, &u->c.packets);
	get_u64(r, t, &w, "bytes", true, INT64_MAX, &u->c.bytes);
	if (r->errors == before && json_object_get(t, "answered"))
		u->answered_known = get_u64(r, t, &w, "answered", true, u->c.flows, &u->answered);
	const json_t *pv = json_object_get(t, "passes");
	if (!json_is_boolean(pv))
		summary_bad(r, "%s.passes: expected true or false", PATH(&w));
	u->passes = json_is_true(pv);
	if (r->errors > before)
		return;
	if (fam != 4 && fam != 6)
		summary_bad(r, "%s.ip_version: expected 4 or 6", PATH(&w));
	if (u->verdict && !one_of(u->verdict, verdicts))
		summary_bad(r, "%s.verdict: unknown verdict '%s'", PATH(&w), u->verdict);
	if (u->by && !one_of(u->by, outcomes))
		summary_bad(r, "%s.by: unknown outcome '%s'", PATH(&w), u->by);
	if (u->by && strcmp(u->by, "rule") == 0 && !u->rule)
		summary_bad(r, "%s: decided by a rule, but 'rule' is null", PATH(&w));
	if (summary_is_related(u) && (!u->verdict || strcmp(u->verdict, "accept") != 0 || u->rule))
		summary_bad(
		    r,
		    "%s: a related ICMP error passes with its connection: verdict accept, no rule",
		    PATH(&w));
	if ((u->verdict == NULL) != (u->by == NULL))
		summary_bad(r,
			    "%s: 'verdict' and 'by' must both be null (unclassified) or both set",
			    PATH(&w));
	u->svc.proto = (uint8_t)proto;
	u->svc.family = (uint8_t)fam;
	u->svc.port = -1;
	bool icmp = proto_is_icmp((uint8_t)fam, (uint8_t)proto);
	if (proto_has_ports((uint8_t)proto)) {
		if (get_u64(r, t, &w, "dst_port", true, 65535, &v))
			u->svc.port = (int)v;
	} else if (icmp && json_object_get(t, "icmp_type")) {
		if (get_u64(r, t, &w, "icmp_type", true, 255, &v))
			u->svc.port = (int)v;
	}
	const json_t *ex = json_object_get(t, "examples");
	if (ex)
		read_examples(r, ex, i, s, u);
	read_tuple_names(r, t, i, s, u);
	if (r->errors == before)
		s->ntuples++;
}

static void read_kernel(struct summary_reader *r, const json_t *k, struct summary_read *s)
{
	const json_t *present = json_object_get(k, "present");
	if (!json_is_boolean(present)) {
		summary_bad(r, "kernel.present: expected true or false");
		return;
	}
	if (!json_is_true(present))
		return;
	int64_t t;
	get_time(r, k, AT("kernel"), "applied_at", true, &s->applied_at, &t);
	const json_t *rules = json_object_get(k, "rules");
	if (!json_is_array(rules)) {
		summary_bad(r, "kernel.rules: expected an array");
		return;
	}
	const struct objects o = {
	    {"kernel.rules", NOIX, NULL, NOIX}, FIELDS(krule_fields), sizeof(*s->krules), NULL};
	s->kernel = read_new_objects(r, rules, &o, (void **)&s->krules, &s->nkrules, s);
}

static void read_unassigned(struct summary_reader *r, const json_t *u, struct summary_read *s)
{
	uint64_t v;
	if (!json_is_object(u)) {
		summary_bad(r, "unassigned: expected an object");
		return;
	}
	get_u64(r, u, AT("unassigned"), "flows", true, INT64_MAX, &s->unassigned.flows);
	get_u64(r, u, AT("unassigned"), "packets", true, INT64_MAX, &s->unassigned.packets);
	get_u64(r, u, AT("unassigned"), "bytes", true, INT64_MAX, &s->unassigned.bytes);
	get_u64(r, u, AT("unassigned"), "addresses", false, INT64_MAX, &v);
	const json_t *top = json_object_get(u, "top");
	if (!top)
		return;
	if (!json_is_array(top)) {
		summary_bad(r, "unassigned.top: expected an array");
		return;
	}
	const struct objects o = {{"unassigned.top", NOIX, NULL, NOIX},
				  FIELDS(uaddr_fields),
				  sizeof(*s->utop),
				  uaddr_done};
	read_new_objects(r, top, &o, (void **)&s->utop, &s->nutop, s);
}

static void read_capture(struct summary_reader *r, const json_t *c, struct summary_read *s)
{
	if (!c || json_is_null(c))
		return;
	if (!json_is_object(c)) {
		summary_bad(r, "capture: expected an object");
		return;
	}
	get_u64(r, c, AT("capture"), "packets_not_decoded", false, INT64_MAX, &s->not_decoded);
	const json_t *ifs = json_object_get(c, "interfaces");
	if (ifs && !json_is_array(ifs)) {
		summary_bad(r, "capture.interfaces: expected an array");
		return;
	}
	const struct objects o = {{"capture.interfaces", NOIX, NULL, NOIX},
				  FIELDS(iface_fields),
				  sizeof(struct iface_loss),
				  iface_done};
	read_objects(r, ifs, &o, NULL, s);
}

/* "sha256:" and 64 lower-case hex digits. */
static bool sha256_text(const char *t)
{
	if (!t || strncmp(t, "sha256:", 7) != 0 || strlen(t) != 7 + 2 * 32)
		return false;
	for (t += 7; *t; t++)
		if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f')))
			return false;
	return true;
}

/* The spool chain {gateway, seq, prev}; missing is an error when required. */
static void read_chain(struct summary_reader *r, const json_t *j, bool required,
		       struct summary_chain *c)
{
	const json_t *o = json_object_get(j, "chain");
	memset(c, 0, sizeof(*c));
	if (!o) {
		if (required)
			summary_bad(r, "summary: missing member 'chain'");
		return;
	}
	if (!json_is_object(o)) {
		summary_bad(r, "chain: expected an object");
		return;
	}
	int before = r->errors;
	get_str(r, o, AT("chain"), "gateway", true, false, &c->gateway);
	get_u64(r, o, AT("chain"), "seq", true, INT64_MAX, &c->seq);
	get_str(r, o, AT("chain"), "prev", true, true, &c->prev);
	if (r->errors > before)
		return;
	if (!*c->gateway || strlen(c->gateway) > 255)
		summary_bad(r, "chain.gateway: expected a name of 1 to 255 characters");
	if (c->seq == 0)
		summary_bad(r, "chain.seq: expected an integer from 1");
	else if ((c->seq == 1) != (c->prev == NULL))
		summary_bad(r, "chain.prev: expected null for seq 1 and a hash after it");
	if (c->prev && !sha256_text(c->prev))
		summary_bad(r, "chain.prev: expected \"sha256:\" and 64 hex digits");
	c->present = r->errors == before;
}

/* An array of {seq, sha256, start, end} (a merged window's replaces, a gap
 * marker's dropped): at least one, at most SUMMARY_MAX_REFS, seqs distinct. */
static void read_refs(struct summary_reader *r, const json_t *a, const char *where,
		      struct summary_ref **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > SUMMARY_MAX_REFS) {
		summary_bad(r, "%s: expected an array of 1 to %d objects", where, SUMMARY_MAX_REFS);
		return;
	}
	if (!(*out = calloc(json_array_size(a), sizeof(**out)))) {
		summary_bad(r, "out of memory");
		return;
	}
	size_t i;
	const json_t *e;
	json_array_foreach(a, i, e)
	{
		const struct at w = {where, i, NULL, NOIX};
		struct summary_ref *f = &(*out)[*n];
		if (!json_is_object(e)) {
			summary_bad(r, "%s: expected an object", PATH(&w));
			continue;
		}
		int before = r->errors;
		get_u64(r, e, &w, "seq", true, INT64_MAX, &f->seq);
		get_str(r, e, &w, "sha256", true, false, &f->sha256);
		get_span(r, e, &w, &f->start, &f->end);
		if (r->errors > before)
			continue;
		if (f->seq == 0)
			summary_bad(r, "%s.seq: expected an integer from 1", PATH(&w));
		if (!sha256_text(f->sha256))
			summary_bad(r, "%s.sha256: expected \"sha256:\" and 64 hex digits",
				    PATH(&w));
		for (size_t k = 0; k < *n; k++)
			if ((*out)[k].seq == f->seq)
				summary_bad(r, "%s.seq: %" PRIu64 " is listed twice", PATH(&w),
					    f->seq);
		if (r->errors == before)
			(*n)++;
	}
}

/* Every ref is an earlier file of the chain. */
static void refs_before(struct summary_reader *r, const struct summary_chain *c,
			const struct summary_ref *v, size_t n, const char *where)
{
	for (size_t i = 0; c->present && i < n; i++)
		if (v[i].seq >= c->seq)
			summary_bad(
			    r, "%s[%zu].seq: %" PRIu64 " is not before the file's seq %" PRIu64,
			    where, i, v[i].seq, c->seq);
}

/* format and kind: true when j is a document of this kind in format 1. */
static bool read_kind(struct summary_reader *r, const json_t *j, const char *want, const char *what)
{
	uint64_t format;
	const char *kind;
	int before = r->errors;
	if (!json_is_object(j)) {
		summary_bad(r, "expected a JSON object (a %s)", what);
		return false;
	}
	if (get_str(r, j, AT("summary"), "kind", true, false, &kind) && strcmp(kind, want) != 0) {
		summary_bad(r, "kind: '%s' is not a %s", kind, what);
		return false;
	}
	if (!get_u64(r, j, AT("summary"), "format", true, INT32_MAX, &format))
		return false;
	if (format != SUMMARY_FORMAT) {
		summary_bad(r,
			    "format: version %" PRIu64 " is not supported (this reader accepts %d)",
			    format, SUMMARY_FORMAT);
		return false;
	}
	return r->errors == before;
}

int summary_kind(const json_t *j)
{
	const char *k = json_string_value(json_object_get(j, "kind"));
	if (k && strcmp(k, SUMMARY_KIND) == 0)
		return 0;
	if (k && strcmp(k, SUMMARY_GAP_KIND) == 0)
		return 1;
	return -1;
}

void summary_gap_free(struct summary_gap *g)
{
	free(g->dropped);
	g->dropped = NULL;
}

int summary_read_gap(struct summary_reader *r, const json_t *j, struct summary_gap *g)
{
	static const char *const reasons[] = {"size-cap", "age-cap", NULL};
	memset(g, 0, sizeof(*g));
	if (!read_kind(r, j, SUMMARY_GAP_KIND, "segplan-agent gap marker"))
		return r->errors;
	get_str(r, j, AT("summary"), "site", true, true, &g->site);
	get_str(r, j, AT("summary"), "host", true, true, &g->host);
	read_chain(r, j, true, &g->chain);
	const json_t *o = json_object_get(j, "gap");
	if (!json_is_object(o)) {
		summary_bad(r, "gap: expected an object");
		return r->errors;
	}
	if (get_str(r, o, AT("gap"), "reason", true, false, &g->reason) &&
	    !one_of(g->reason, reasons))
		summary_bad(r, "gap.reason: expected \"size-cap\" or \"age-cap\", not '%s'",
			    g->reason);
	get_span(r, o, AT("gap"), &g->start, &g->end);
	read_refs(r, json_object_get(o, "dropped"), "gap.dropped", &g->dropped, &g->ndropped);
	refs_before(r, &g->chain, g->dropped, g->ndropped, "gap.dropped");
	return r->errors;
}

/* window: start and end, or (an offline capture without flows) empty with null times. */
static void read_window(struct summary_reader *r, const json_t *w, struct summary_read *s)
{
	if (!json_is_object(w)) {
		summary_bad(r, "window: expected an object");
		return;
	}
	const json_t *e = json_object_get(w, "empty");
	if (e && !json_is_boolean(e))
		summary_bad(r, "window.empty: expected true or false");
	s->empty = json_is_true(e);
	if (s->empty) {
		if (!json_is_null(json_object_get(w, "start")) ||
		    !json_is_null(json_object_get(w, "end")))
			summary_bad(r, "window: an empty window has null 'start' and 'end'");
	} else {
		get_span(r, w, AT("window"), &s->start, &s->end);
	}
	const json_t *rep = json_object_get(w, "replaces");
	if (rep) {
		read_refs(r, rep, "window.replaces", &s->replaces, &s->nreplaces);
		if (s->empty)
			summary_bad(r, "window.replaces: an empty window replaces none");
	}
}

/* Checks the whole summary into s; the number of errors. */
int summary_read(struct summary_reader *r, const json_t *j, struct summary_read *s)
{
	memset(s, 0, sizeof(*s));
	if (!read_kind(r, j, SUMMARY_KIND, "segplan-agent summary"))
		return r->errors;
	get_str(r, j, AT("summary"), "site", true, true, &s->site);
	get_str(r, j, AT("summary"), "host", false, true, &s->host);
	read_window(r, json_object_get(j, "window"), s);
	read_chain(r, j, false, &s->chain);
	refs_before(r, &s->chain, s->replaces, s->nreplaces, "window.replaces");
	const json_t *pol = json_object_get(j, "policy");
	if (pol && !json_is_null(pol)) {
		if (!json_is_object(pol)) {
			summary_bad(r, "policy: expected an object or null");
		} else {
			get_str(r, pol, AT("policy"), "hash", true, true, &s->hash);
			get_str(r, pol, AT("policy"), "mode", false, true, &s->mode);
		}
	}
	read_capture(r, json_object_get(j, "capture"), s);

	const json_t *tuples = json_object_get(j, "tuples");
	if (!json_is_array(tuples)) {
		summary_bad(r, "tuples: expected an array");
		return r->errors;
	}
	if (s->empty && json_array_size(tuples))
		summary_bad(r, "window.empty: the window is empty but has tuples");
	s->tuples = calloc(json_array_size(tuples) + 1, sizeof(*s->tuples));
	if (!s->tuples) {
		summary_bad(r, "out of memory");
		return r->errors;
	}
	size_t i;
	const json_t *e;
	json_array_foreach(tuples, i, e)
	{
		if (r->errors >= SUMMARY_MAX_ERRORS)
			break;
		read_tuple(r, e, i, s);
	}

	const json_t *hits = json_object_get(j, "rule_hits");
	if (hits && !json_is_array(hits)) {
		summary_bad(r, "rule_hits: expected an array");
	} else if (hits) {
		const struct objects o = {
		    {"rule_hits", NOIX, NULL, NOIX}, FIELDS(hit_fields), sizeof(*s->hits), NULL};
		if (!read_new_objects(r, hits, &o, (void **)&s->hits, &s->nhits, s))
			return r->errors;
	}
	const json_t *un = json_object_get(j, "unassigned");
	if (un && !json_is_null(un))
		read_unassigned(r, un, s);
	const json_t *k = json_object_get(j, "kernel");
	if (k && !json_is_null(k)) {
		if (!json_is_object(k))
			summary_bad(r, "kernel: expected an object or null");
		else
			read_kernel(r, k, s);
	}
	return r->errors;
}
