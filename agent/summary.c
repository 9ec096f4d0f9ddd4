// SPDX-License-Identifier: MIT
#include "agent/summary.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/export.h"
#include "core/grow.h"
#include "core/intern.h"
#include "core/strmap.h"

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void to_ip(const uint8_t a[16], struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
		out->family = 4;
		memcpy(out->b, a + 12, 4);
	} else {
		out->family = 6;
		memcpy(out->b, a, 16);
	}
}

/* An initiator "at a site" is counted by its own gateway. The merged zone
 * `other` cannot be told apart here; it holds other sites' segments, so
 * it counts as at a site (docs/summary.md). */
static bool at_site(const struct pol_table *t, const struct pol_class *c)
{
	enum pol_zone_kind k = pol_table_zone_kind(t, c->zone);
	return k == POL_ZONE_SEGMENT || k == POL_ZONE_OTHER;
}

void sum_classify(const struct pol_table *t, const struct flow *f, struct sum_class *out)
{
	memset(out, 0, sizeof(*out));
	out->v.rule = -1;
	out->ours = true;
	if (!t)
		return;
	struct pol_tuple tp = {0};
	to_ip(f->src, &tp.src);
	to_ip(f->dst, &tp.dst);
	tp.proto = f->proto;
	tp.dport = proto_has_ports(f->proto) ? f->dport : 0;
	bool icmp = proto_is_icmp(tp.src.family, f->proto);
	tp.icmp_type = icmp ? f->icmp_type : -1;
	/* Expiry is judged at the flow's first packet (the packets' clock is Unix time). */
	tp.time = (int64_t)(f->first_ns / 1000000000u);
	if (pol_decide(t, &tp, &out->v) != 0)
		return;
	/* pol_decide judges a new connection: an ICMP error is invalid there.
	 * One related to a connection the flow table held passes with it, as
	 * conntrack lets it (ct state related), whatever the rules say. */
	if (f->related && out->v.by != POL_BY_TRANSIT) {
		out->v.by = POL_BY_RELATED;
		out->v.action = POL_ACCEPT;
		out->v.passes = true;
		out->v.rule = -1;
	}
	/* Opened by an answer whose request never crossed the gateway: conntrack
	 * calls that packet invalid (an unsolicited ICMP reply, a SYN+ACK without
	 * SYN), whatever a rule would say of the request. */
	if (f->reply_first && out->v.by != POL_BY_TRANSIT && (icmp || f->proto == IPPROTO_TCP)) {
		out->v.by = POL_BY_INVALID;
		out->v.action = POL_DROP;
		out->v.passes = false;
		out->v.rule = -1;
	}
	out->classified = true;
	const struct pol_class *s = &out->v.src, *d = &out->v.dst;
	out->ours = s->local || (d->local && !at_site(t, s));
	out->src_unassigned = pol_table_zone_kind(t, s->zone) == POL_ZONE_UNASSIGNED;
	out->dst_unassigned = pol_table_zone_kind(t, d->zone) == POL_ZONE_UNASSIGNED;
}

static int set(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new_nocheck(o, k, v);
}

static const char *verdict_name(const struct sum_class *c)
{
	return c->v.by == POL_BY_TRANSIT ? "transit" : pol_action_names[c->v.action];
}

int sum_class_to_json(const struct pol_table *t, const struct sum_class *c, json_t *rec)
{
	int bad = 0;
	if (!c->classified)
		return 0;
	const struct pol_trule *r = c->v.rule >= 0 ? pol_table_rule(t, (size_t)c->v.rule) : NULL;
	bad |= set(rec, "src_zone", json_string(pol_table_zone_name(t, c->v.src.zone)));
	bad |= set(rec, "dst_zone", json_string(pol_table_zone_name(t, c->v.dst.zone)));
	bad |= set(rec, "verdict", json_string(verdict_name(c)));
	bad |= set(rec, "passes", json_boolean(c->v.passes));
	bad |= set(rec, "by", json_string(pol_outcome_names[c->v.by]));
	bad |= set(rec, "rule", r ? json_string(r->id) : json_null());
	bad |= set(rec, "counted", json_boolean(c->ours));
	return bad ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* Keyed entries. Strings (rule ids) interned (core/intern.h); fixed-size binary keys (tuples,
 * addresses, flow keys) in an open-addressing table of indexes into a key array: no text is made
 * per record. */

struct bmap {
	size_t ksize; /* a multiple of 8 */
	uint8_t *keys;
	size_t n, kcap;
	uint32_t *slots; /* index + 1; 0 empty */
	size_t nslots;	 /* power of two, at least twice n */
};

static uint64_t bhash(const uint8_t *k, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t w;
		memcpy(&w, k + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h = h << 31 | h >> 33;
	}
	/* MurmurHash3's 64-bit finaliser: every input bit reaches the low
	 * bits that pick the slot. */
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static long bmap_find(const struct bmap *m, const void *key)
{
	if (!m->nslots)
		return -1;
	size_t mask = m->nslots - 1;
	for (size_t i = bhash(key, m->ksize) & mask;; i = (i + 1) & mask) {
		uint32_t s = m->slots[i];
		if (!s)
			return -1;
		if (memcmp(m->keys + (s - 1) * m->ksize, key, m->ksize) == 0)
			return (long)s - 1;
	}
}

static void bmap_place(struct bmap *m, size_t idx)
{
	size_t mask = m->nslots - 1;
	size_t i = bhash(m->keys + idx * m->ksize, m->ksize) & mask;
	while (m->slots[i])
		i = (i + 1) & mask;
	m->slots[i] = (uint32_t)idx + 1;
}

static long bmap_get(struct bmap *m, const void *key, bool *added)
{
	*added = false;
	long i = bmap_find(m, key);
	if (i >= 0)
		return i;
	if (m->n >= UINT32_MAX - 1)
		return -ENOMEM;
	if (m->n == m->kcap) {
		size_t cap = m->kcap ? m->kcap * 2 : 64;
		uint8_t *k = realloc(m->keys, cap * m->ksize);
		if (!k)
			return -ENOMEM;
		m->keys = k;
		m->kcap = cap;
	}
	if ((m->n + 1) * 2 > m->nslots) {
		size_t ns = m->nslots ? m->nslots * 2 : 128;
		uint32_t *sl = calloc(ns, sizeof(*sl));
		if (!sl)
			return -ENOMEM;
		free(m->slots);
		m->slots = sl;
		m->nslots = ns;
		for (size_t j = 0; j < m->n; j++)
			bmap_place(m, j);
	}
	memcpy(m->keys + m->n * m->ksize, key, m->ksize);
	bmap_place(m, m->n);
	*added = true;
	return (long)m->n++;
}

static void bmap_clear(struct bmap *m)
{
	free(m->keys);
	free(m->slots);
	size_t ks = m->ksize;
	memset(m, 0, sizeof(*m));
	m->ksize = ks;
}

/* ------------------------------------------------------------------ */

struct counts {
	uint64_t flows, packets, bytes;
};

struct example {
	uint8_t src[16], dst[16];
	uint64_t flows;
};

/* Candidates kept per denied tuple; the SUMMARY_EXAMPLES busiest are shown. */
#define EXAMPLE_SLOTS 8

/* A tuple's identity. Zone and rule indexes belong to one policy table:
 * gen tells tables apart, and equal names are merged for the output. */
struct tkey {
	uint32_t gen;
	int16_t szone, dzone, rule;
	uint8_t proto, ipv, by, action, passes, classified;
	int32_t port;
	uint8_t pad[4];
};

/* Connections of a tuple by a name of its table: a named set an end lay in
 * (set >= 0, its index in the tuple's table), or a term of the deciding rule
 * that matched (set -1, found by label). */
struct named {
	char *label;
	int set;
	uint64_t flows;
};

struct names {
	struct named *v;
	size_t n, cap;
};

/* The distinct addresses of one end of a denied tuple, up to SUMMARY_HOSTS. */
struct hosts {
	uint8_t a[SUMMARY_HOSTS][16];
	uint64_t flows[SUMMARY_HOSTS]; /* each address's connections */
	int n;
	bool more; /* some address did not fit */
};

enum { SCOPE_SITE, SCOPE_DISTRICT, SCOPE_DC, SCOPE_N };

struct tuple {
	char *src_zone, *dst_zone, *rule;
	const char *verdict, *by;
	bool passes;
	uint8_t proto, ip_version;
	int port; /* destination port, ICMP type, or -1 */
	struct counts c;
	uint64_t answered; /* connections with packets in both directions */
	struct example ex[EXAMPLE_SLOTS];
	int nex;
	bool named;		 /* its table has named sets: src_sets and dst_sets are written */
	struct names sets[2];	 /* the sets the source [0] and destination [1] lay in */
	struct names matched[2]; /* the deciding rule's terms that matched: from [0], to [1] */
	struct hosts *hosts;	 /* denied tuples: [2], source and destination addresses */
	uint64_t scope[SCOPE_N]; /* denied tuples: connections passing each scope check */
	bool unknown[SCOPE_N];	 /* the table cannot make the check (it lacks the list) */
};

struct hit {
	uint64_t hits, packets, bytes;
};

struct unassigned {
	uint64_t as_src, as_dst, packets, bytes;
};

/* A flow's key for continuation records. */
struct ckey {
	uint8_t src[16], dst[16];
	uint16_t sport, dport, icmp_id, vlan;
	uint8_t proto, icmp_type, icmp_code, related, pad[12];
};

/* bhash() reads whole 64-bit words. */
_Static_assert(sizeof(struct ckey) % 8 == 0, "ckey size");
_Static_assert(sizeof(struct tkey) % 8 == 0, "tkey size");

struct sum {
	struct bmap tmap;
	struct tuple *tuples;
	size_t tcap;
	struct intern rkeys;
	struct hit *hits;
	size_t hcap;
	/* rule index of the current table -> hits index + 1 */
	const struct pol_table *cur;
	uint32_t gen;
	int *rslot;
	size_t nrslot;
	struct bmap umap;
	struct unassigned *un;
	size_t ucap;
	struct counts unassigned_total, denied, not_ours;
	uint64_t outcomes[POL_OUTCOME_COUNT];
	struct sum_totals tot;
	uint64_t packets, bytes; /* of every record */
	bool oom;
	/* Keys of flows whose last record ended by the active timeout: their
	 * next record continues the connection. Lives across windows. */
	struct bmap cmap;
	bool *clive;
	size_t ccap, cdead;
};

int sum_new(struct sum **out)
{
	struct sum *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->tmap.ksize = sizeof(struct tkey);
	s->umap.ksize = 16;
	s->cmap.ksize = sizeof(struct ckey);
	*out = s;
	return 0;
}

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i].label);
	free(n->v);
	memset(n, 0, sizeof(*n));
}

static void tuple_free(struct tuple *t)
{
	free(t->src_zone);
	free(t->dst_zone);
	free(t->rule);
	for (int e = 0; e < 2; e++) {
		names_free(&t->sets[e]);
		names_free(&t->matched[e]);
	}
	free(t->hosts);
}

static void free_window(struct sum *s)
{
	for (size_t i = 0; i < s->tmap.n; i++)
		tuple_free(&s->tuples[i]);
	bmap_clear(&s->tmap);
	intern_free(&s->rkeys);
	bmap_clear(&s->umap);
	free(s->tuples);
	free(s->hits);
	free(s->un);
	free(s->rslot);
	s->tuples = NULL;
	s->hits = NULL;
	s->un = NULL;
	s->rslot = NULL;
	s->cur = NULL;
	s->tcap = s->hcap = s->ucap = s->nrslot = 0;
}

void sum_free(struct sum *s)
{
	if (!s)
		return;
	free_window(s);
	bmap_clear(&s->cmap);
	free(s->clive);
	free(s);
}

void sum_reset(struct sum *s)
{
	free_window(s);
	memset(&s->unassigned_total, 0, sizeof(s->unassigned_total));
	memset(&s->denied, 0, sizeof(s->denied));
	memset(&s->not_ours, 0, sizeof(s->not_ours));
	memset(s->outcomes, 0, sizeof(s->outcomes));
	memset(&s->tot, 0, sizeof(s->tot));
	s->packets = s->bytes = 0;
	s->oom = false;
}

void sum_policy_changed(struct sum *s)
{
	s->cur = NULL;
}

/* Follows the table in use: a new one gets a new generation. */
static void track_table(struct sum *s, const struct pol_table *t)
{
	if (t == s->cur && s->rslot)
		return;
	s->cur = t;
	s->gen++;
	free(s->rslot);
	s->nrslot = t ? pol_table_nrules(t) : 0;
	s->rslot = calloc(s->nrslot ? s->nrslot : 1, sizeof(*s->rslot));
	if (!s->rslot)
		s->oom = true;
}

/* Drops the dead keys once they outnumber the live ones. */
static void compact_continuations(struct sum *s)
{
	if (s->cdead < 1024 || s->cdead * 2 < s->cmap.n)
		return;
	struct bmap old = s->cmap;
	bool *live = s->clive;
	memset(&s->cmap, 0, sizeof(s->cmap));
	s->cmap.ksize = old.ksize;
	s->clive = NULL;
	s->ccap = s->cdead = 0;
	for (size_t i = 0; i < old.n; i++) {
		bool added;
		long j;
		if (!live[i] || (j = bmap_get(&s->cmap, old.keys + i * old.ksize, &added)) < 0 ||
		    grow_array(&s->clive, &s->ccap, (size_t)j + 1, sizeof(bool)))
			continue;
		s->clive[j] = true;
	}
	bmap_clear(&old);
	free(live);
}

/* True when the record continues a flow cut by the active timeout; notes
 * records cut that way. */
static bool continuation(struct sum *s, const struct flow *f, enum flow_end why)
{
	struct ckey k;
	bool added, cont = false;
	if (!s->cmap.n && why != FLOW_END_ACTIVE)
		return false;
	memset(&k, 0, sizeof(k));
	memcpy(k.src, f->src, 16);
	memcpy(k.dst, f->dst, 16);
	k.sport = f->sport;
	k.dport = f->dport;
	k.icmp_id = f->icmp_id;
	k.vlan = f->vlan;
	k.proto = f->proto;
	k.icmp_type = f->icmp_type;
	k.icmp_code = f->icmp_code;
	k.related = f->related;
	long i = bmap_find(&s->cmap, &k);
	if (i >= 0 && s->clive[i]) {
		cont = true;
		if (why != FLOW_END_ACTIVE) {
			s->clive[i] = false;
			s->cdead++;
		}
	} else if (why == FLOW_END_ACTIVE) {
		i = bmap_get(&s->cmap, &k, &added);
		if (i < 0 || grow_array(&s->clive, &s->ccap, (size_t)i + 1, sizeof(bool))) {
			s->oom = true;
			return false;
		}
		if (!added)
			s->cdead--;
		s->clive[i] = true;
	}
	compact_continuations(s);
	return cont;
}

static void add_example(struct tuple *t, const uint8_t src[16], const uint8_t dst[16],
			uint64_t flows)
{
	for (int i = 0; i < t->nex; i++)
		if (memcmp(t->ex[i].src, src, 16) == 0 && memcmp(t->ex[i].dst, dst, 16) == 0) {
			t->ex[i].flows += flows;
			return;
		}
	if (t->nex == EXAMPLE_SLOTS)
		return;
	struct example *e = &t->ex[t->nex++];
	memcpy(e->src, src, 16);
	memcpy(e->dst, dst, 16);
	e->flows = flows;
}

/* Adds flows under a set index (set >= 0) or a label (set -1). 0 or -ENOMEM. */
static int names_add(struct names *n, int set, const char *label, uint64_t flows)
{
	for (size_t i = 0; i < n->n; i++)
		if (set >= 0 ? n->v[i].set == set : strcmp(n->v[i].label, label) == 0) {
			n->v[i].flows += flows;
			return 0;
		}
	if (grow_array(&n->v, &n->cap, n->n + 1, sizeof(*n->v)))
		return -ENOMEM;
	struct named *x = &n->v[n->n];
	if (!(x->label = strdup(label)))
		return -ENOMEM;
	x->set = set;
	x->flows = flows;
	n->n++;
	return 0;
}

static void hosts_add(struct hosts *h, const uint8_t a[16], uint64_t flows)
{
	for (int i = 0; i < h->n; i++)
		if (memcmp(h->a[i], a, 16) == 0) {
			h->flows[i] += flows;
			return;
		}
	if (h->n == SUMMARY_HOSTS) {
		h->more = true;
		return;
	}
	h->flows[h->n] = flows;
	memcpy(h->a[h->n++], a, 16);
}

/*
 * What the table names of a new connection of the tuple (docs/summary.md):
 * the named sets each end lies in, the deciding rule's terms that matched,
 * and for a denied connection its addresses and the scope checks it passes.
 */
static int note_names(const struct pol_table *t, struct tuple *tu, const struct flow *f,
		      const struct sum_class *c, bool denied)
{
	struct ip_addr a[2];
	const struct pol_class *cl[2] = {&c->v.src, &c->v.dst};
	to_ip(f->src, &a[0]);
	to_ip(f->dst, &a[1]);
	for (int e = 0; e < 2; e++)
		for (size_t i = 0; i < pol_table_nsets(t); i++)
			if (pol_ranges_find(pol_table_set(t, (int)i), &a[e]) &&
			    names_add(&tu->sets[e], (int)i, pol_table_set_label(t, (int)i), 1))
				return -ENOMEM;
	if (c->v.rule >= 0) {
		const struct pol_trule *r = pol_table_rule(t, (size_t)c->v.rule);
		const char *m[2] = {summary_side_term(t, &r->from, &a[0], cl[0]),
				    r->gateway && c->v.to_gateway
					? "gateway"
					: summary_side_term(t, &r->to, &a[1], cl[1])};
		for (int e = 0; e < 2; e++)
			if (m[e] && names_add(&tu->matched[e], -1, m[e], 1))
				return -ENOMEM;
	}
	if (!denied)
		return 0;
	if (!tu->hosts && !(tu->hosts = calloc(2, sizeof(*tu->hosts))))
		return -ENOMEM;
	hosts_add(&tu->hosts[0], f->src, 1);
	hosts_add(&tu->hosts[1], f->dst, 1);
	/* A gateway's table carries its district's and the data centres' networks
	 * only when one of its rules needs them: without them it cannot tell. */
	tu->unknown[SCOPE_DISTRICT] |= pol_table_clist(t, POL_L_DISTRICT)->n == 0;
	tu->unknown[SCOPE_DC] |= pol_table_clist(t, POL_L_DC)->n == 0;
	tu->scope[SCOPE_SITE] += cl[0]->local && cl[1]->local;
	tu->scope[SCOPE_DISTRICT] += cl[0]->district && cl[1]->district;
	tu->scope[SCOPE_DC] += cl[1]->dc;
	return 0;
}

static struct tuple *tuple_of(struct sum *s, const struct pol_table *t, const struct flow *f,
			      const struct sum_class *c)
{
	struct tkey k;
	memset(&k, 0, sizeof(k));
	bool v4 = memcmp(f->src, v4_mapped, sizeof(v4_mapped)) == 0;
	bool icmp = proto_is_any_icmp(f->proto);
	k.gen = s->gen;
	k.classified = c->classified;
	k.szone = (int16_t)(c->classified ? c->v.src.zone : -1);
	k.dzone = (int16_t)(c->classified ? c->v.dst.zone : -1);
	k.rule = (int16_t)(c->classified ? c->v.rule : -1);
	k.proto = f->proto;
	k.ipv = v4 ? 4 : 6;
	k.by = (uint8_t)c->v.by;
	k.action = (uint8_t)c->v.action;
	k.passes = c->classified ? c->v.passes : 1;
	k.port = proto_has_ports(f->proto) ? f->dport : icmp ? f->icmp_type : -1;
	bool added;
	long i = bmap_get(&s->tmap, &k, &added);
	if (i < 0 || grow_array(&s->tuples, &s->tcap, (size_t)i + 1, sizeof(*s->tuples)))
		return NULL;
	struct tuple *tu = &s->tuples[i];
	if (added) {
		const struct pol_trule *r =
		    c->classified && c->v.rule >= 0 ? pol_table_rule(t, (size_t)c->v.rule) : NULL;
		tu->src_zone = strdup(c->classified ? pol_table_zone_name(t, c->v.src.zone) : "-");
		tu->dst_zone = strdup(c->classified ? pol_table_zone_name(t, c->v.dst.zone) : "-");
		tu->rule = r ? strdup(r->id) : NULL;
		if (!tu->src_zone || !tu->dst_zone || (r && !tu->rule))
			s->oom = true;
		tu->verdict = c->classified ? verdict_name(c) : NULL;
		tu->by = c->classified ? pol_outcome_names[c->v.by] : NULL;
		tu->passes = k.passes;
		tu->proto = f->proto;
		tu->ip_version = k.ipv;
		tu->port = k.port;
		tu->named = c->classified && pol_table_nsets(t) > 0;
	}
	return tu;
}

static void count_unassigned(struct sum *s, const uint8_t a[16], bool as_src, uint64_t packets,
			     uint64_t bytes, bool conn)
{
	bool added;
	long i = bmap_get(&s->umap, a, &added);
	if (i < 0 || grow_array(&s->un, &s->ucap, (size_t)i + 1, sizeof(*s->un))) {
		s->oom = true;
		return;
	}
	struct unassigned *u = &s->un[i];
	if (conn && as_src)
		u->as_src++;
	else if (conn)
		u->as_dst++;
	u->packets += packets;
	u->bytes += bytes;
}

static struct hit *hit_of(struct sum *s, const struct pol_table *t, int rule)
{
	if (!s->rslot || (size_t)rule >= s->nrslot)
		return NULL;
	if (!s->rslot[rule]) {
		bool added;
		long i = intern_get(&s->rkeys, pol_table_rule(t, (size_t)rule)->id, &added);
		if (i < 0 || grow_array(&s->hits, &s->hcap, (size_t)i + 1, sizeof(*s->hits)))
			return NULL;
		s->rslot[rule] = (int)i + 1;
	}
	return &s->hits[s->rslot[rule] - 1];
}

void sum_add(struct sum *s, const struct pol_table *t, const struct flow *f, enum flow_end why,
	     struct sum_class *out)
{
	struct sum_class c;
	sum_classify(t, f, &c);
	if (out)
		*out = c;
	bool conn = !continuation(s, f, why);
	uint64_t packets = f->packets[0] + f->packets[1];
	uint64_t bytes = f->bytes[0] + f->bytes[1];
	s->tot.records++;
	s->packets += packets;
	s->bytes += bytes;
	if (conn)
		s->tot.connections++;
	if (!c.ours) {
		s->tot.not_ours += conn;
		s->not_ours.flows += conn;
		s->not_ours.packets += packets;
		s->not_ours.bytes += bytes;
		return;
	}
	s->tot.ours += conn;
	track_table(s, t);
	struct tuple *tu = tuple_of(s, t, f, &c);
	if (!tu) {
		s->oom = true;
		return;
	}
	tu->c.flows += conn;
	tu->c.packets += packets;
	tu->c.bytes += bytes;
	tu->answered += conn && f->packets[0] && f->packets[1];
	if (!c.classified)
		return;
	if (conn)
		s->outcomes[c.v.by]++;
	bool denied = c.v.action != POL_ACCEPT && c.v.by != POL_BY_TRANSIT;
	if (denied) {
		s->tot.denied += conn;
		s->denied.flows += conn;
		s->denied.packets += packets;
		s->denied.bytes += bytes;
		if (conn)
			add_example(tu, f->src, f->dst, 1);
	}
	if (conn && note_names(t, tu, f, &c, denied))
		s->oom = true;
	if (c.v.rule >= 0) {
		struct hit *h = hit_of(s, t, c.v.rule);
		if (!h) {
			s->oom = true;
		} else {
			h->hits += conn;
			h->packets += packets;
			h->bytes += bytes;
		}
	}
	if (c.src_unassigned || c.dst_unassigned) {
		s->tot.unassigned += conn;
		s->unassigned_total.flows += conn;
		s->unassigned_total.packets += packets;
		s->unassigned_total.bytes += bytes;
		if (c.src_unassigned)
			count_unassigned(s, f->src, true, packets, bytes, conn);
		if (c.dst_unassigned)
			count_unassigned(s, f->dst, false, packets, bytes, conn);
	}
}

void sum_totals(const struct sum *s, struct sum_totals *out)
{
	*out = s->tot;
}

uint64_t sum_rule_hits(const struct sum *s, const char *id)
{
	long i = intern_find(&s->rkeys, id);
	return i >= 0 ? s->hits[i].hits : 0;
}

/* ------------------------------------------------------------------ */
/* JSON */

static json_t *counts_json(const struct counts *c)
{
	return json_pack("{s:I,s:I,s:I}", "flows", (json_int_t)c->flows, "packets",
			 (json_int_t)c->packets, "bytes", (json_int_t)c->bytes);
}

static int cmp_example(const void *a, const void *b)
{
	const struct example *x = a, *y = b;
	if (x->flows != y->flows)
		return x->flows > y->flows ? -1 : 1;
	int c = memcmp(x->src, y->src, 16);
	return c ? c : memcmp(x->dst, y->dst, 16);
}

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	if (x->flows != y->flows)
		return x->flows > y->flows ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* [{"name": ..., "flows": N}], by flows (descending), then by name. */
static json_t *names_json(const struct names *n)
{
	struct named *v = calloc(n->n + 1, sizeof(*v));
	json_t *a = json_array();
	int bad = !v || !a;
	if (!bad && n->n) {
		memcpy(v, n->v, n->n * sizeof(*v));
		qsort(v, n->n, sizeof(*v), cmp_named);
	}
	for (size_t i = 0; !bad && i < n->n; i++)
		bad |= json_array_append_new(
		    a, json_pack("{s:s,s:I}", "name", v[i].label, "flows", (json_int_t)v[i].flows));
	free(v);
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* An address of a denied tuple's end with its connections. */
struct host_flows {
	uint8_t a[16];
	uint64_t flows;
};

static int cmp_host(const void *a, const void *b)
{
	return memcmp(((const struct host_flows *)a)->a, ((const struct host_flows *)b)->a, 16);
}

/* The addresses of one end, sorted, as every address the agent writes
 * (exp_addr), into *addrs, and each one's connections, parallel, into *flows. */
static int hosts_json(const struct hosts *h, json_t **addrs, json_t **flows)
{
	struct host_flows v[SUMMARY_HOSTS];
	char text[46];
	for (int i = 0; i < h->n; i++) {
		memcpy(v[i].a, h->a[i], 16);
		v[i].flows = h->flows[i];
	}
	qsort(v, (size_t)h->n, sizeof(v[0]), cmp_host);
	*addrs = json_array();
	*flows = json_array();
	int bad = !*addrs || !*flows;
	for (int i = 0; !bad && i < h->n; i++) {
		bad |= json_array_append_new(*addrs,
					     json_string(exp_addr(v[i].a, text, sizeof(text))));
		bad |= json_array_append_new(*flows, json_integer((json_int_t)v[i].flows));
	}
	return bad ? -ENOMEM : 0;
}

/* The names of the table and the denied connections' hosts (docs/summary.md). */
static int tuple_names_json(const struct tuple *tu, json_t *o)
{
	int bad = 0;
	if (tu->named) {
		bad |= set(o, "src_sets", names_json(&tu->sets[0]));
		bad |= set(o, "dst_sets", names_json(&tu->sets[1]));
	}
	if (tu->matched[0].n || tu->matched[1].n)
		bad |= set(o, "matched",
			   json_pack("{s:o,s:o}", "from", names_json(&tu->matched[0]), "to",
				     names_json(&tu->matched[1])));
	return bad;
}

static int tuple_hosts_json(const struct tuple *tu, json_t *o)
{
	if (!tu->hosts)
		return 0;
	json_t *addrs[2] = {NULL, NULL}, *flows[2] = {NULL, NULL};
	int bad = hosts_json(&tu->hosts[0], &addrs[0], &flows[0]);
	bad |= hosts_json(&tu->hosts[1], &addrs[1], &flows[1]);
	/* json_pack's "o" takes each reference, also when it fails */
	bad |= set(o, "hosts",
		   json_pack("{s:o,s:o,s:b,s:b,s:o,s:o}", "src", addrs[0], "dst", addrs[1],
			     "src_complete", !tu->hosts[0].more, "dst_complete", !tu->hosts[1].more,
			     "src_flows", flows[0], "dst_flows", flows[1]));
	static const char *const checks[SCOPE_N] = {"same_site", "same_district", "dst_dc"};
	json_t *sc = json_object();
	bad |= !sc;
	for (int k = 0; sc && k < SCOPE_N; k++)
		if (!tu->unknown[k])
			bad |= set(sc, checks[k], json_integer((json_int_t)tu->scope[k]));
	bad |= set(o, "scope", sc);
	return bad;
}

static json_t *tuple_json(const struct tuple *tu)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = 0;
	bad |= set(o, "src_zone", json_string(tu->src_zone));
	bad |= set(o, "dst_zone", json_string(tu->dst_zone));
	bad |= set(o, "ip_version", json_integer(tu->ip_version));
	bad |= set(o, "proto", json_integer(tu->proto));
	if (proto_has_ports(tu->proto))
		bad |= set(o, "dst_port", json_integer(tu->port));
	else if (tu->port >= 0)
		bad |= set(o, "icmp_type", json_integer(tu->port));
	bad |= set(o, "verdict", tu->verdict ? json_string(tu->verdict) : json_null());
	bad |= set(o, "passes", json_boolean(tu->passes));
	bad |= set(o, "by", tu->by ? json_string(tu->by) : json_null());
	bad |= set(o, "rule", tu->rule ? json_string(tu->rule) : json_null());
	bad |= set(o, "flows", json_integer((json_int_t)tu->c.flows));
	bad |= set(o, "packets", json_integer((json_int_t)tu->c.packets));
	bad |= set(o, "bytes", json_integer((json_int_t)tu->c.bytes));
	bad |= set(o, "answered", json_integer((json_int_t)tu->answered));
	bad |= tuple_names_json(tu, o);
	if (tu->nex) {
		struct example ex[EXAMPLE_SLOTS];
		char a[46], b[46];
		memcpy(ex, tu->ex, sizeof(ex));
		qsort(ex, (size_t)tu->nex, sizeof(ex[0]), cmp_example);
		json_t *arr = json_array();
		for (int i = 0; arr && i < tu->nex && i < SUMMARY_EXAMPLES; i++)
			bad |= json_array_append_new(
			    arr,
			    json_pack("{s:s,s:s,s:I}", "src", exp_addr(ex[i].src, a, sizeof(a)),
				      "dst", exp_addr(ex[i].dst, b, sizeof(b)), "flows",
				      (json_int_t)ex[i].flows));
		bad |= set(o, "examples", arr);
	}
	bad |= tuple_hosts_json(tu, o);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The text identity of a tuple: equal for equal names whatever the table. */
static void tuple_text(const struct tuple *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s|%s|%u|%u|%d|%s|%s|%s|%d", t->src_zone, t->dst_zone, t->proto,
		 t->ip_version, t->port, t->verdict ? t->verdict : "", t->rule ? t->rule : "",
		 t->by ? t->by : "", t->passes);
}

/* Adds src's names, hosts and scope counts to dst (its own copies). 0 or -ENOMEM. */
static int merge_names(struct tuple *dst, const struct tuple *src)
{
	dst->named |= src->named;
	for (int e = 0; e < 2; e++)
		for (size_t i = 0; i < src->sets[e].n; i++)
			if (names_add(&dst->sets[e], -1, src->sets[e].v[i].label,
				      src->sets[e].v[i].flows))
				return -ENOMEM;
	for (int e = 0; e < 2; e++)
		for (size_t i = 0; i < src->matched[e].n; i++)
			if (names_add(&dst->matched[e], -1, src->matched[e].v[i].label,
				      src->matched[e].v[i].flows))
				return -ENOMEM;
	if (!src->hosts)
		return 0;
	if (!dst->hosts && !(dst->hosts = calloc(2, sizeof(*dst->hosts))))
		return -ENOMEM;
	for (int e = 0; e < 2; e++) {
		for (int i = 0; i < src->hosts[e].n; i++)
			hosts_add(&dst->hosts[e], src->hosts[e].a[i], src->hosts[e].flows[i]);
		dst->hosts[e].more |= src->hosts[e].more;
	}
	for (int k = 0; k < SCOPE_N; k++) {
		dst->scope[k] += src->scope[k];
		dst->unknown[k] |= src->unknown[k];
	}
	return 0;
}

/* Frees what merged_tuples made for tuple t: its names and hosts, not the borrowed strings. */
static void merged_free(struct tuple *t)
{
	for (int e = 0; e < 2; e++) {
		names_free(&t->sets[e]);
		names_free(&t->matched[e]);
	}
	free(t->hosts);
}

/* Tuples of several tables in one window, merged by their names. Returns
 * an array of n merged tuples (copies; zone and rule names borrowed), or NULL. */
static struct tuple *merged_tuples(const struct sum *s, size_t *n, char ***texts)
{
	struct intern k = {0};
	struct tuple *v = calloc(s->tmap.n ? s->tmap.n : 1, sizeof(*v));
	*n = 0;
	*texts = NULL;
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->tmap.n; i++) {
		char text[512];
		bool added;
		const struct tuple *t = &s->tuples[i];
		tuple_text(t, text, sizeof(text));
		long j = intern_get(&k, text, &added);
		bool fail = j < 0;
		if (!fail && added) {
			v[j] = *t;
			memset(v[j].sets, 0, sizeof(v[j].sets));
			memset(v[j].matched, 0, sizeof(v[j].matched));
			memset(v[j].scope, 0, sizeof(v[j].scope));
			memset(v[j].unknown, 0, sizeof(v[j].unknown));
			v[j].hosts = NULL;
		} else if (!fail) {
			v[j].c.flows += t->c.flows;
			v[j].c.packets += t->c.packets;
			v[j].c.bytes += t->c.bytes;
			v[j].answered += t->answered;
			for (int e = 0; e < t->nex; e++)
				add_example(&v[j], t->ex[e].src, t->ex[e].dst, t->ex[e].flows);
		}
		if (fail || merge_names(&v[j], t)) {
			for (size_t m = 0; m < k.n; m++)
				merged_free(&v[m]);
			intern_free(&k);
			free(v);
			return NULL;
		}
	}
	*n = k.n;
	*texts = k.keys;
	strmap_free(k.map);
	return v;
}

/* Orders by flows, then bytes, both descending, then by text: stable output. */
struct order {
	const struct tuple *t;
	const char *text;
	const struct unassigned *u;
	const uint8_t *addr;
};

static int cmp_tuple(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	if (x->t->c.flows != y->t->c.flows)
		return x->t->c.flows > y->t->c.flows ? -1 : 1;
	if (x->t->c.bytes != y->t->c.bytes)
		return x->t->c.bytes > y->t->c.bytes ? -1 : 1;
	return strcmp(x->text, y->text);
}

static int cmp_unassigned(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	if (x->u->bytes != y->u->bytes)
		return x->u->bytes > y->u->bytes ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static json_t *hit_json(const char *id, const struct hit *h)
{
	return json_pack("{s:s,s:I,s:I,s:I}", "id", id, "hits", (json_int_t)h->hits, "packets",
			 (json_int_t)h->packets, "bytes", (json_int_t)h->bytes);
}

static json_t *hits_json(const struct sum *s, const struct pol_table *t)
{
	static const struct hit zero;
	json_t *a = json_array();
	size_t nr = t ? pol_table_nrules(t) : 0;
	int bad = !a;
	for (size_t i = 0; !bad && i < nr; i++) {
		const char *id = pol_table_rule(t, i)->id;
		long k = intern_find(&s->rkeys, id);
		bad |= json_array_append_new(a, hit_json(id, k >= 0 ? &s->hits[k] : &zero));
	}
	/* Rules of an earlier policy of this window that the current one lacks. */
	for (size_t k = 0; !bad && k < s->rkeys.n; k++) {
		bool current = false;
		for (size_t i = 0; i < nr && !current; i++)
			current = strcmp(pol_table_rule(t, i)->id, s->rkeys.keys[k]) == 0;
		if (!current)
			bad |= json_array_append_new(a, hit_json(s->rkeys.keys[k], &s->hits[k]));
	}
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *unassigned_json(const struct sum *s)
{
	json_t *o = counts_json(&s->unassigned_total);
	json_t *top = json_array();
	struct order *ord = calloc(s->umap.n ? s->umap.n : 1, sizeof(*ord));
	int bad = !o || !top || !ord;
	for (size_t i = 0; !bad && i < s->umap.n; i++)
		ord[i] = (struct order){.u = &s->un[i], .addr = s->umap.keys + i * 16};
	if (!bad)
		qsort(ord, s->umap.n, sizeof(*ord), cmp_unassigned);
	for (size_t i = 0; !bad && i < s->umap.n && i < SUM_UNASSIGNED_TOP; i++) {
		char text[46];
		const struct unassigned *u = ord[i].u;
		bad |= json_array_append_new(
		    top,
		    json_pack("{s:s,s:I,s:I,s:I,s:I}", "address",
			      exp_addr(ord[i].addr, text, sizeof(text)), "as_src",
			      (json_int_t)u->as_src, "as_dst", (json_int_t)u->as_dst, "packets",
			      (json_int_t)u->packets, "bytes", (json_int_t)u->bytes));
	}
	free(ord);
	if (!bad) {
		bad |= set(o, "addresses", json_integer((json_int_t)s->umap.n));
		bad |= set(o, "top", top);
		top = NULL;
	}
	json_decref(top);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *tuples_json(const struct sum *s)
{
	size_t n;
	char **texts;
	struct tuple *v = merged_tuples(s, &n, &texts);
	struct order *ord = calloc(n ? n : 1, sizeof(*ord));
	json_t *arr = json_array();
	int bad = !v || !ord || !arr;
	for (size_t i = 0; !bad && i < n; i++)
		ord[i] = (struct order){.t = &v[i], .text = texts[i]};
	if (!bad)
		qsort(ord, n, sizeof(*ord), cmp_tuple);
	for (size_t i = 0; !bad && i < n; i++)
		bad |= json_array_append_new(arr, tuple_json(ord[i].t));
	for (size_t i = 0; texts && i < n; i++)
		free(texts[i]);
	for (size_t i = 0; v && i < n; i++)
		merged_free(&v[i]);
	free(texts);
	free(ord);
	free(v);
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int sum_to_json(const struct sum *s, const struct pol_table *t, json_t *obj)
{
	int bad = s->oom;
	json_t *flows =
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "records", (json_int_t)s->tot.records,
		      "connections", (json_int_t)s->tot.connections, "counted",
		      (json_int_t)s->tot.ours, "packets", (json_int_t)s->packets, "bytes",
		      (json_int_t)s->bytes, "not_ours", counts_json(&s->not_ours));
	bad |= !flows || set(obj, "flows", flows);
	bad |= set(obj, "tuples", tuples_json(s));
	bad |= set(obj, "rule_hits", hits_json(s, t));
	json_t *out = json_object();
	for (int i = 0; out && i < POL_OUTCOME_COUNT; i++)
		bad |= set(out, pol_outcome_names[i], json_integer((json_int_t)s->outcomes[i]));
	bad |= set(obj, "outcomes", out);
	bad |= set(obj, "denied", counts_json(&s->denied));
	bad |= set(obj, "unassigned", unassigned_json(s));
	return bad ? -ENOMEM : 0;
}

bool sum_applied_at(const struct nfts *st, int64_t *epoch, char *file, size_t size)
{
	const struct nfts_chain *ch = nfts_chain_find(st, "segplan_meta");
	const char *p = ch && ch->comment ? strstr(ch->comment, "applied-at=") : NULL;
	char *end;
	if (!p)
		return false;
	long long v = strtoll(p + strlen("applied-at="), &end, 10);
	if (end == p + strlen("applied-at="))
		return false;
	*epoch = v;
	const char *f = strstr(end, "file=");
	snprintf(file, size, "%.*s", f ? (int)strcspn(f + 5, " ") : 0, f ? f + 5 : "");
	return true;
}

json_t *sum_kernel_json(const struct nfts *st, int err)
{
	char when[32], file[256];
	int64_t epoch;
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = 0;
	bad |= set(o, "table", json_string("inet segplan"));
	bad |= set(o, "present", json_boolean(st != NULL));
	if (!st) {
		bad |= set(o, "error", err == -ENOENT ? json_null() : json_string(strerror(-err)));
		bad |= set(o, "applied_at", json_null());
		bad |= set(o, "rules", json_array());
	} else {
		bool marked = sum_applied_at(st, &epoch, file, sizeof(file));
		bad |= set(o, "error", json_null());
		bad |= set(o, "applied_at",
			   marked && epoch >= 0
			       ? json_string(summary_time((uint64_t)epoch * 1000000000ull, when,
							  sizeof(when)))
			       : json_null());
		bad |= set(o, "applied_file", marked ? json_string(file) : json_null());
		/* One policy rule can be several nft rules (IPv4 and IPv6, ports
		 * and ICMP types): summed by id, in the order of their first rule. */
		json_t *a = json_array();
		for (size_t i = 0; a && i < nfts_nrules(st); i++) {
			const struct nfts_rule *r = nfts_rule_at(st, i);
			bool seen = false;
			for (size_t k = 0; r->id && k < i && !seen; k++)
				seen = nfts_rule_at(st, k)->id &&
				       strcmp(nfts_rule_at(st, k)->id, r->id) == 0;
			if (!r->id || seen)
				continue;
			uint64_t packets = 0, bytes = 0;
			size_t n = 0;
			for (size_t k = i; k < nfts_nrules(st); k++) {
				const struct nfts_rule *q = nfts_rule_at(st, k);
				if (q->id && strcmp(q->id, r->id) == 0) {
					packets += q->packets;
					bytes += q->bytes;
					n++;
				}
			}
			bad |= json_array_append_new(
			    a, json_pack("{s:s,s:s,s:I,s:I,s:I}", "id", r->id, "chain", r->chain,
					 "nft_rules", (json_int_t)n, "packets", (json_int_t)packets,
					 "bytes", (json_int_t)bytes));
		}
		bad |= set(o, "rules", a);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
