// SPDX-License-Identifier: MIT
#include "eval/eval.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pol_action_names[POL_ACTION_COUNT] = {"accept", "drop", "reject"};
const char *const pol_scope_names[POL_SCOPE_COUNT] = {"any", "same-site", "same-district",
						      "dc-only"};
const char *const pol_mode_names[POL_MODE_COUNT] = {"enforce", "observe"};
const char *const pol_zone_kind_names[POL_ZONE_KIND_COUNT] = {
    "segment", "vpn", "unassigned", "internet", "dc", "other", "special", "private-external"};
const char *const pol_outcome_names[POL_OUTCOME_COUNT] = {
    "rule", "default", "transit", "invalid", "related", "management", "fixed"};

const char *const pol_special_prefixes[] = {
    "0.0.0.0/8",       /* this network (RFC 791) */
    "127.0.0.0/8",     /* loopback (RFC 1122) */
    "169.254.0.0/16",  /* link-local (RFC 3927) */
    "192.0.0.0/24",    /* IETF protocol assignments (RFC 6890) */
    "192.0.2.0/24",    /* documentation (RFC 5737) */
    "198.18.0.0/15",   /* benchmarking (RFC 2544) */
    "198.51.100.0/24", /* documentation */
    "203.0.113.0/24",  /* documentation */
    "224.0.0.0/4",     /* multicast (RFC 5771) */
    "240.0.0.0/4",     /* reserved, limited broadcast (RFC 1112, RFC 919) */
    "::/128",	       /* unspecified (RFC 4291) */
    "::1/128",	       /* loopback */
    "::ffff:0:0/96",   /* IPv4-mapped */
    "64:ff9b:1::/48",  /* local-use IPv4/IPv6 translation (RFC 8215) */
    "100::/64",	       /* discard-only (RFC 6666) */
    "2001:db8::/32",   /* documentation (RFC 3849) */
    "3fff::/20",       /* documentation (RFC 9637) */
    "fe80::/10",       /* link-local */
    "ff00::/8",	       /* multicast */
    NULL};
const char *const pol_private_prefixes[] = {"10.0.0.0/8",    "172.16.0.0/12", "192.168.0.0/16",
					    "100.64.0.0/10", "fc00::/7",      NULL};

/* The two lists as sorted ranges, built once (read-only afterwards, so threads may share them). */
static struct pol_ranges special_ranges, private_ranges;
static pthread_once_t outside_once = PTHREAD_ONCE_INIT;

static void outside_init(void)
{
	const char *const *lists[2] = {pol_special_prefixes, pol_private_prefixes};
	struct pol_ranges *rs[2] = {&special_ranges, &private_ranges};
	for (int l = 0; l < 2; l++) {
		for (const char *const *s = lists[l]; *s; s++) {
			struct ip_prefix p;
			/* Constant, valid text: a failure here is a bug caught by the unit tests.
			 */
			if (ip_prefix_parse(*s, false, &p) == 0)
				pol_ranges_add_prefix(rs[l], &p, 0);
		}
		pol_ranges_normalize(rs[l]);
	}
}

const struct pol_ranges *pol_outside_ranges(enum pol_zone_kind kind)
{
	pthread_once(&outside_once, outside_init);
	return kind == POL_ZONE_SPECIAL ? &special_ranges : &private_ranges;
}

/* ------------------------------------------------------------------ */
/* Range lists */

static void addr_clean(struct ip_addr *a)
{
	if (a->family == 4)
		memset(a->b + 4, 0, 12);
}

int pol_ranges_add(struct pol_ranges *r, const struct ip_addr *first, const struct ip_addr *last,
		   int val)
{
	if (first->family != last->family || ip_addr_cmp(first, last) > 0)
		return -EINVAL;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct pol_range *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	struct pol_range *e = &r->v[r->n++];
	memset(e, 0, sizeof(*e));
	e->first = *first;
	e->last = *last;
	addr_clean(&e->first);
	addr_clean(&e->last);
	e->val = val;
	return 0;
}

int pol_ranges_add_prefix(struct pol_ranges *r, const struct ip_prefix *p, int val)
{
	struct ip_addr a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ip_prefix_first(p, &a);
	ip_prefix_last(p, &b);
	return pol_ranges_add(r, &a, &b, val);
}

static int range_cmp(const void *x, const void *y)
{
	const struct pol_range *a = x, *b = y;
	int c = ip_addr_cmp(&a->first, &b->first);
	if (c)
		return c;
	c = ip_addr_cmp(&a->last, &b->last);
	if (c)
		return c;
	return (a->val > b->val) - (a->val < b->val);
}

/* Is b's first address at most one past a's last (touching or overlapping)? */
static bool touches(const struct ip_addr *last, const struct ip_addr *first)
{
	if (last->family != first->family)
		return false;
	if (ip_addr_cmp(first, last) <= 0)
		return true;
	struct ip_addr next = *last;
	if (!ip_addr_add(&next, 1))
		return false;
	return ip_addr_cmp(&next, first) == 0;
}

int pol_ranges_normalize(struct pol_ranges *r)
{
	if (r->n < 2)
		return 0;
	qsort(r->v, r->n, sizeof(*r->v), range_cmp);
	/*
	 * Sorted by first address, range i overlaps an earlier j exactly when
	 * j's last reaches i's first; not only the neighbour (a /8 of one zone
	 * reaches over a /16 of it to another zone's /16). One pass keeps the
	 * farthest reach (top) and the farthest of another value (other).
	 */
	const struct pol_range *top = &r->v[0], *other = NULL;
	for (size_t i = 1; i < r->n; i++) {
		const struct pol_range *c = &r->v[i];
		if (c->first.family != top->first.family) {
			top = c;
			other = NULL;
			continue;
		}
		const struct pol_range *far = c->val != top->val ? top : other;
		if (far && ip_addr_cmp(&c->first, &far->last) <= 0)
			return -EEXIST;
		if (ip_addr_cmp(&c->last, &top->last) > 0) {
			if (c->val != top->val)
				other = top;
			top = c;
		} else if (c->val != top->val &&
			   (!other || ip_addr_cmp(&c->last, &other->last) > 0)) {
			other = c;
		}
	}
	size_t o = 0;
	for (size_t i = 1; i < r->n; i++) {
		struct pol_range *cur = &r->v[o];
		if (r->v[i].val == cur->val && touches(&cur->last, &r->v[i].first)) {
			if (ip_addr_cmp(&r->v[i].last, &cur->last) > 0)
				cur->last = r->v[i].last;
		} else {
			r->v[++o] = r->v[i];
		}
	}
	r->n = o + 1;
	return 0;
}

const struct pol_range *pol_ranges_find(const struct pol_ranges *r, const struct ip_addr *a)
{
	struct ip_addr k = *a;
	addr_clean(&k);
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ip_addr_cmp(&r->v[mid].last, &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->n && ip_addr_cmp(&r->v[lo].first, &k) <= 0)
		return &r->v[lo];
	return NULL;
}

static void addr_zero(struct ip_addr *a, uint8_t fam)
{
	memset(a, 0, sizeof(*a));
	a->family = fam;
}

static void addr_max(struct ip_addr *a, uint8_t fam)
{
	addr_zero(a, fam);
	memset(a->b, 0xff, fam == 4 ? 4 : 16);
}

static bool addr_dec(struct ip_addr *a)
{
	int last = a->family == 4 ? 3 : 15;
	for (int i = last; i >= 0; i--)
		if (a->b[i]--)
			return true;
	return false;
}

/* Appends the addresses of family fam that no range of r covers. */
int pol_ranges_complement(const struct pol_ranges *r, uint8_t fam, struct pol_ranges *out)
{
	struct ip_addr cur, end;
	addr_zero(&cur, fam);
	addr_max(&end, fam);
	bool more = true;
	for (size_t i = 0; i < r->n && more; i++) {
		if (r->v[i].first.family != fam)
			continue;
		if (ip_addr_cmp(&r->v[i].first, &cur) > 0) {
			struct ip_addr e = r->v[i].first;
			addr_dec(&e);
			int rc = pol_ranges_add(out, &cur, &e, 0);
			if (rc < 0)
				return rc;
		}
		cur = r->v[i].last;
		more = ip_addr_add(&cur, 1);
	}
	return more ? pol_ranges_add(out, &cur, &end, 0) : 0;
}

/* Appends a minus b (both normalized) for family fam. */
int pol_ranges_subtract(const struct pol_ranges *a, const struct pol_ranges *b, uint8_t fam,
			struct pol_ranges *out)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].first.family != fam)
			continue;
		struct ip_addr cur = a->v[i].first;
		bool open = true;
		while (j < b->n && ip_addr_cmp(&b->v[j].last, &cur) < 0)
			j++;
		for (size_t k = j;
		     open && k < b->n && ip_addr_cmp(&b->v[k].first, &a->v[i].last) <= 0; k++) {
			if (ip_addr_cmp(&b->v[k].first, &cur) > 0) {
				struct ip_addr e = b->v[k].first;
				addr_dec(&e);
				int rc = pol_ranges_add(out, &cur, &e, 0);
				if (rc < 0)
					return rc;
			}
			if (ip_addr_cmp(&b->v[k].last, &a->v[i].last) >= 0)
				open = false;
			cur = b->v[k].last;
			if (!ip_addr_add(&cur, 1))
				open = false;
		}
		if (open) {
			int rc = pol_ranges_add(out, &cur, &a->v[i].last, 0);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int pol_ranges_copy_into(struct pol_ranges *dst, const struct pol_ranges *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int rc = pol_ranges_add(dst, &src->v[i].first, &src->v[i].last, 0);
		if (rc < 0)
			return rc;
	}
	return pol_ranges_normalize(dst);
}

int pol_ranges_intersect(const struct pol_ranges *a, const struct pol_ranges *b,
			 struct pol_ranges *out)
{
	struct pol_ranges nb = {0};
	int rc = 0;
	for (uint8_t fam = 4; fam <= 6 && rc == 0; fam += 2) {
		nb.n = 0;
		rc = pol_ranges_complement(b, fam, &nb);
		if (rc == 0)
			rc = pol_ranges_subtract(a, &nb, fam, out);
	}
	pol_ranges_free(&nb);
	return rc < 0 ? rc : pol_ranges_normalize(out);
}

void pol_ranges_free(struct pol_ranges *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

bool pol_range_is_prefix(const struct pol_range *r, struct ip_prefix *p)
{
	unsigned bits = ip_family_bits(r->first.family), len = bits;
	/* A prefix: first and last agree up to some bit, then first is all zeros, last all ones. */
	for (unsigned i = 0; i < bits; i++) {
		unsigned f = (r->first.b[i / 8] >> (7 - i % 8)) & 1;
		unsigned l = (r->last.b[i / 8] >> (7 - i % 8)) & 1;
		if (len == bits && f != l)
			len = i;
		if (len < bits && (f != 0 || l != 1))
			return false;
	}
	memset(p, 0, sizeof(*p));
	p->family = r->first.family;
	p->len = (uint8_t)len;
	memcpy(p->b, r->first.b, 16);
	return true;
}

/* ------------------------------------------------------------------ */
/* Matches */

static int u8_cmp(const void *x, const void *y)
{
	return (int)*(const uint8_t *)x - (int)*(const uint8_t *)y;
}

static int ports_cmp(const void *x, const void *y)
{
	const struct pol_ports *a = x, *b = y;
	if (a->proto != b->proto)
		return (int)a->proto - (int)b->proto;
	if (a->lo != b->lo)
		return (int)a->lo - (int)b->lo;
	return (int)a->hi - (int)b->hi;
}

static int merge_u8(uint8_t **dst, size_t *nd, const uint8_t *src, size_t ns)
{
	if (!ns)
		return 0;
	uint8_t *v = realloc(*dst, *nd + ns);
	if (!v)
		return -ENOMEM;
	memcpy(v + *nd, src, ns);
	size_t n = *nd + ns, o = 0;
	qsort(v, n, 1, u8_cmp);
	for (size_t i = 0; i < n; i++)
		if (o == 0 || v[o - 1] != v[i])
			v[o++] = v[i];
	*dst = v;
	*nd = o;
	return 0;
}

int pol_match_merge(struct pol_match *dst, const struct pol_match *src)
{
	if (src->any) {
		pol_match_free(dst);
		dst->any = true;
		return 0;
	}
	if (dst->any)
		return 0;
	if (src->nports) {
		struct pol_ports *v = realloc(dst->ports, (dst->nports + src->nports) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v + dst->nports, src->ports, src->nports * sizeof(*v));
		size_t n = dst->nports + src->nports, o = 0;
		qsort(v, n, sizeof(*v), ports_cmp);
		/* Merge overlapping or adjacent ranges of one protocol: nft rejects overlaps. */
		for (size_t i = 0; i < n; i++) {
			if (o && v[o - 1].proto == v[i].proto &&
			    (unsigned)v[i].lo <= (unsigned)v[o - 1].hi + 1) {
				if (v[i].hi > v[o - 1].hi)
					v[o - 1].hi = v[i].hi;
			} else {
				v[o++] = v[i];
			}
		}
		dst->ports = v;
		dst->nports = o;
	}
	if (merge_u8(&dst->icmp, &dst->nicmp, src->icmp, src->nicmp) < 0 ||
	    merge_u8(&dst->icmp6, &dst->nicmp6, src->icmp6, src->nicmp6) < 0 ||
	    merge_u8(&dst->protos, &dst->nprotos, src->protos, src->nprotos) < 0)
		return -ENOMEM;
	return 0;
}

void pol_match_free(struct pol_match *m)
{
	free(m->ports);
	free(m->icmp);
	free(m->icmp6);
	free(m->protos);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* Tables */

struct tzone {
	char *name;
	enum pol_zone_kind kind;
};

struct tset {
	char *name, *label;
	struct pol_ranges r;
};

struct pol_table {
	struct tzone *zones;
	size_t nzones;
	struct tset *sets;
	size_t nsets;
	char **sites;
	size_t nsites;
	struct pol_ranges lists[POL_L_COUNT];
	struct pol_trule *rules;
	size_t nrules;
	char *gateway, *district, *hash, *date, *generator;
	enum pol_mode mode;
	int unassigned, internet, dc, special, privext; /* zone indices, -1 until added */
};

struct pol_table *pol_table_new(void)
{
	struct pol_table *t = calloc(1, sizeof(*t));
	if (t)
		t->unassigned = t->internet = t->dc = t->special = t->privext = -1;
	return t;
}

void pol_side_free(struct pol_side *s)
{
	free(s->zones);
	free(s->sets);
	memset(s, 0, sizeof(*s));
}

static int *dup_ints(const int *v, size_t n);

int pol_side_copy(struct pol_side *dst, const struct pol_side *src)
{
	*dst = *src;
	dst->zones = dup_ints(src->zones, src->nzones);
	dst->sets = dup_ints(src->sets, src->nsets);
	if (!dst->zones || !dst->sets) {
		pol_side_free(dst);
		return -ENOMEM;
	}
	return 0;
}

static void trule_free(struct pol_trule *r)
{
	free(r->id);
	pol_side_free(&r->from);
	pol_side_free(&r->to);
	free(r->window);
	free(r->spans);
	for (size_t i = 0; i < r->nifaces; i++)
		free(r->ifaces[i]);
	free(r->ifaces);
	free(r->comment);
	free(r->svc_names);
	pol_match_free(&r->svc);
}

void pol_table_free(struct pol_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nzones; i++)
		free(t->zones[i].name);
	free(t->zones);
	for (size_t i = 0; i < t->nsites; i++)
		free(t->sites[i]);
	free(t->sites);
	for (int l = 0; l < POL_L_COUNT; l++)
		pol_ranges_free(&t->lists[l]);
	for (size_t i = 0; i < t->nsets; i++) {
		free(t->sets[i].name);
		free(t->sets[i].label);
		pol_ranges_free(&t->sets[i].r);
	}
	free(t->sets);
	for (size_t i = 0; i < t->nrules; i++)
		trule_free(&t->rules[i]);
	free(t->rules);
	free(t->gateway);
	free(t->district);
	free(t->hash);
	free(t->date);
	free(t->generator);
	free(t);
}

int pol_table_find_zone(const struct pol_table *t, const char *name)
{
	for (size_t i = 0; i < t->nzones; i++)
		if (strcmp(t->zones[i].name, name) == 0)
			return (int)i;
	return -1;
}

int pol_table_add_zone(struct pol_table *t, const char *name, enum pol_zone_kind kind)
{
	int z = pol_table_find_zone(t, name);
	if (z >= 0)
		return z;
	struct tzone *v = realloc(t->zones, (t->nzones + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->zones = v;
	char *n = strdup(name);
	if (!n)
		return -ENOMEM;
	v[t->nzones].name = n;
	v[t->nzones].kind = kind;
	z = (int)t->nzones++;
	if (kind == POL_ZONE_UNASSIGNED)
		t->unassigned = z;
	else if (kind == POL_ZONE_INTERNET)
		t->internet = z;
	else if (kind == POL_ZONE_DC)
		t->dc = z;
	else if (kind == POL_ZONE_SPECIAL)
		t->special = z;
	else if (kind == POL_ZONE_PRIVEXT)
		t->privext = z;
	return z;
}

size_t pol_table_nzones(const struct pol_table *t)
{
	return t->nzones;
}

const char *pol_table_zone_name(const struct pol_table *t, int zone)
{
	return zone >= 0 && (size_t)zone < t->nzones ? t->zones[zone].name : NULL;
}

enum pol_zone_kind pol_table_zone_kind(const struct pol_table *t, int zone)
{
	return zone >= 0 && (size_t)zone < t->nzones ? t->zones[zone].kind : POL_ZONE_OTHER;
}

int pol_table_add_site(struct pol_table *t, const char *name)
{
	char **v = realloc(t->sites, (t->nsites + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->sites = v;
	if (!(v[t->nsites] = strdup(name)))
		return -ENOMEM;
	return (int)t->nsites++;
}

const char *pol_table_site_name(const struct pol_table *t, int site)
{
	return site >= 0 && (size_t)site < t->nsites ? t->sites[site] : NULL;
}

size_t pol_table_nsites(const struct pol_table *t)
{
	return t->nsites;
}

struct pol_ranges *pol_table_list(struct pol_table *t, enum pol_list l)
{
	return &t->lists[l];
}

const struct pol_ranges *pol_table_clist(const struct pol_table *t, enum pol_list l)
{
	return &t->lists[l];
}

static int *dup_ints(const int *v, size_t n)
{
	int *o = malloc((n ? n : 1) * sizeof(*o));
	if (o && n)
		memcpy(o, v, n * sizeof(*o));
	return o;
}

int pol_table_add_set(struct pol_table *t, const char *name, const char *label,
		      const struct pol_ranges *r)
{
	if (pol_table_find_set(t, name) >= 0)
		return -EEXIST;
	struct tset *v = realloc(t->sets, (t->nsets + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->sets = v;
	struct tset c = {strdup(name), strdup(label ? label : name), {0}};
	int rc = c.name && c.label ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < r->n; i++)
		rc = pol_ranges_add(&c.r, &r->v[i].first, &r->v[i].last, 0);
	if (rc == 0)
		rc = pol_ranges_normalize(&c.r);
	if (rc < 0) {
		free(c.name);
		free(c.label);
		pol_ranges_free(&c.r);
		return rc;
	}
	t->sets[t->nsets] = c;
	return (int)t->nsets++;
}

int pol_table_find_set(const struct pol_table *t, const char *name)
{
	for (size_t i = 0; i < t->nsets; i++)
		if (strcmp(t->sets[i].name, name) == 0)
			return (int)i;
	return -1;
}

size_t pol_table_nsets(const struct pol_table *t)
{
	return t->nsets;
}

const char *pol_table_set_name(const struct pol_table *t, int set)
{
	return set >= 0 && (size_t)set < t->nsets ? t->sets[set].name : NULL;
}

const char *pol_table_set_label(const struct pol_table *t, int set)
{
	return set >= 0 && (size_t)set < t->nsets ? t->sets[set].label : NULL;
}

const struct pol_ranges *pol_table_set(const struct pol_table *t, int set)
{
	return set >= 0 && (size_t)set < t->nsets ? &t->sets[set].r : NULL;
}

static bool side_valid(const struct pol_table *t, const struct pol_side *sd)
{
	for (size_t i = 0; i < sd->nzones; i++)
		if (sd->zones[i] < 0 || (size_t)sd->zones[i] >= t->nzones)
			return false;
	for (size_t i = 0; i < sd->nsets; i++)
		if (sd->sets[i] < 0 || (size_t)sd->sets[i] >= t->nsets)
			return false;
	return true;
}

static int span_cmp(const void *a, const void *b)
{
	const struct pol_span *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

int pol_table_add_rule(struct pol_table *t, const struct pol_trule *r)
{
	if (!side_valid(t, &r->from) || !side_valid(t, &r->to))
		return -EINVAL;
	for (size_t i = 0; i < r->nspans; i++)
		if (r->spans[i].first > r->spans[i].last)
			return -EINVAL;
	struct pol_trule *v = realloc(t->rules, (t->nrules + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->rules = v;
	struct pol_trule c = *r;
	memset(&c.svc, 0, sizeof(c.svc));
	memset(&c.from, 0, sizeof(c.from));
	memset(&c.to, 0, sizeof(c.to));
	c.id = strdup(r->id);
	c.comment = r->comment ? strdup(r->comment) : NULL;
	c.svc_names = r->svc_names ? strdup(r->svc_names) : NULL;
	c.window = r->window ? strdup(r->window) : NULL;
	c.spans = malloc((r->nspans + 1) * sizeof(*c.spans));
	c.ifaces = calloc(r->nifaces + 1, sizeof(char *));
	c.nifaces = 0;
	int rc = pol_match_merge(&c.svc, &r->svc);
	if (rc == 0)
		rc = pol_side_copy(&c.from, &r->from);
	if (rc == 0)
		rc = pol_side_copy(&c.to, &r->to);
	for (size_t i = 0; rc == 0 && c.ifaces && i < r->nifaces; i++)
		if (!(c.ifaces[c.nifaces++] = strdup(r->ifaces[i])))
			rc = -ENOMEM;
	if (rc < 0 || !c.id || (r->comment && !c.comment) || (r->svc_names && !c.svc_names) ||
	    (r->window && !c.window) || !c.spans || !c.ifaces) {
		trule_free(&c);
		return -ENOMEM;
	}
	if (r->nspans)
		memcpy(c.spans, r->spans, r->nspans * sizeof(*c.spans));
	qsort(c.spans, c.nspans, sizeof(*c.spans), span_cmp);
	t->rules[t->nrules++] = c;
	return 0;
}

size_t pol_table_nrules(const struct pol_table *t)
{
	return t->nrules;
}

const struct pol_trule *pol_table_rule(const struct pol_table *t, size_t i)
{
	return i < t->nrules ? &t->rules[i] : NULL;
}

int pol_table_seal(struct pol_table *t)
{
	for (int l = 0; l < POL_L_COUNT; l++) {
		if (l != POL_L_ZONES && l != POL_L_SITES)
			for (size_t i = 0; i < t->lists[l].n; i++)
				t->lists[l].v[i].val = 0;
		int r = pol_ranges_normalize(&t->lists[l]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int set_str(char **dst, const char *src)
{
	char *n = NULL;
	if (src && !(n = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

int pol_table_set_meta(struct pol_table *t, const struct pol_table_meta *m)
{
	t->mode = m->mode;
	if (set_str(&t->gateway, m->gateway) < 0 || set_str(&t->district, m->district) < 0 ||
	    set_str(&t->hash, m->hash) < 0 || set_str(&t->date, m->date) < 0 ||
	    set_str(&t->generator, m->generator) < 0)
		return -ENOMEM;
	return 0;
}

void pol_table_get_meta(const struct pol_table *t, struct pol_table_meta *m)
{
	m->gateway = t->gateway;
	m->district = t->district;
	m->mode = t->mode;
	m->hash = t->hash;
	m->date = t->date;
	m->generator = t->generator;
}

/* ------------------------------------------------------------------ */
/* Decisions */

void pol_classify(const struct pol_table *t, const struct ip_addr *a, struct pol_class *out)
{
	memset(out, 0, sizeof(*out));
	const struct pol_range *r = pol_ranges_find(&t->lists[POL_L_ZONES], a);
	out->city = pol_ranges_find(&t->lists[POL_L_CITY], a) != NULL;
	if (r) {
		out->zone = r->val;
	} else if (out->city) {
		out->zone = t->unassigned;
	} else {
		out->zone = t->internet;
		/* Tables written before these pseudo-zones existed keep calling it internet. */
		if (t->special >= 0 && pol_ranges_find(pol_outside_ranges(POL_ZONE_SPECIAL), a))
			out->zone = t->special;
		else if (t->privext >= 0 &&
			 pol_ranges_find(pol_outside_ranges(POL_ZONE_PRIVEXT), a))
			out->zone = t->privext;
	}
	const struct pol_range *s = pol_ranges_find(&t->lists[POL_L_SITES], a);
	out->site = s ? s->val : -1;
	out->local = pol_ranges_find(&t->lists[POL_L_LOCAL], a) != NULL;
	out->district = pol_ranges_find(&t->lists[POL_L_DISTRICT], a) != NULL;
	out->dc = pol_ranges_find(&t->lists[POL_L_DC], a) != NULL;
}

static bool zone_in(const struct pol_table *t, const int *zs, size_t n, const struct pol_class *c)
{
	for (size_t i = 0; i < n; i++) {
		if (zs[i] == c->zone && c->zone >= 0)
			return true;
		if (zs[i] == t->dc && c->dc)
			return true;
	}
	return false;
}

bool pol_side_matches(const struct pol_table *t, const struct pol_side *sd, const struct ip_addr *a,
		      const struct pol_class *c)
{
	if (sd->any || zone_in(t, sd->zones, sd->nzones, c))
		return true;
	for (size_t i = 0; i < sd->nsets; i++)
		if (pol_ranges_find(&t->sets[sd->sets[i]].r, a))
			return true;
	return false;
}

/* Is instant x inside one of the sorted, disjoint spans? */
static bool in_spans(const struct pol_span *v, size_t n, int64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].last < x)
			lo = mid + 1;
		else if (v[mid].first > x)
			hi = mid;
		else
			return true;
	}
	return false;
}

static bool has_u8(const uint8_t *v, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static bool svc_matches(const struct pol_match *m, const struct pol_tuple *tp)
{
	if (m->any)
		return true;
	if (has_u8(m->protos, m->nprotos, tp->proto))
		return true;
	if (proto_has_ports(tp->proto))
		for (size_t i = 0; i < m->nports; i++)
			if (m->ports[i].proto == tp->proto && tp->dport >= m->ports[i].lo &&
			    tp->dport <= m->ports[i].hi)
				return true;
	if (tp->src.family == 4 && tp->proto == IPPROTO_ICMP)
		return tp->icmp_type >= 0 && has_u8(m->icmp, m->nicmp, tp->icmp_type);
	if (tp->src.family == 6 && tp->proto == IPPROTO_ICMPV6)
		return tp->icmp_type >= 0 && has_u8(m->icmp6, m->nicmp6, tp->icmp_type);
	return false;
}

bool pol_rule_matches(const struct pol_table *t, const struct pol_trule *r,
		      const struct pol_tuple *tp, const struct pol_class *s,
		      const struct pol_class *d)
{
	if (r->expires && tp->time && tp->time >= r->expires)
		return false;
	if (r->window && tp->time && !in_spans(r->spans, r->nspans, tp->time))
		return false;
	if (!pol_side_matches(t, &r->from, &tp->src, s) ||
	    !pol_side_matches(t, &r->to, &tp->dst, d))
		return false;
	switch (r->scope) {
	case POL_SCOPE_ANY:
		break;
	case POL_SCOPE_SAME_SITE:
		if (!s->local || !d->local)
			return false;
		break;
	case POL_SCOPE_SAME_DISTRICT:
		if (!s->district || !d->district)
			return false;
		break;
	case POL_SCOPE_DC_ONLY:
		if (!d->dc)
			return false;
		break;
	case POL_SCOPE_COUNT:
		return false;
	}
	return svc_matches(&r->svc, tp);
}

bool pol_icmp_can_open(uint8_t family, uint8_t proto, int type)
{
	if (family == 4 && proto == IPPROTO_ICMP)
		/* echo, timestamp, information and address mask requests */
		return type == 8 || type == 13 || type == 15 || type == 17;
	if (family == 6 && proto == IPPROTO_ICMPV6)
		/* echo request, node information query (RFC 4620); MLD (130-132, 143) and
		 * ND without redirect (133-136) are untracked and judged by the rules */
		return type == 128 || type == 139 || (type >= 130 && type <= 136) || type == 143;
	return true;
}

/*
 * The input chain's fixed accepts a tuple can show (compile.c render_input):
 * neighbour discovery (ICMPv6 133-136), MLD reports from :: or a link-local
 * source, DHCP to the server port from a host of a segment (or 0.0.0.0).
 * What a tuple cannot show (hop limits, the client port, the interface) is
 * taken as a real host sends it; the routing protocols' accepts depend on
 * peers the table does not hold and are not judged here.
 */
static bool input_fixed(const struct pol_tuple *tp, const struct pol_class *src)
{
	if (tp->src.family == 6 && tp->proto == IPPROTO_ICMPV6) {
		int ty = tp->icmp_type;
		bool unspec = true, ll = tp->src.b[0] == 0xfe && (tp->src.b[1] & 0xc0) == 0x80;
		for (int i = 0; i < 16; i++)
			unspec &= tp->src.b[i] == 0;
		return (ty >= 133 && ty <= 136) || ((ty == 131 || ty == 143) && (unspec || ll));
	}
	if (tp->proto == IPPROTO_UDP && tp->dport == 67) {
		bool zero = tp->src.family == 4 && !tp->src.b[0] && !tp->src.b[1] &&
			    !tp->src.b[2] && !tp->src.b[3];
		return src->local || zero;
	}
	return false;
}

int pol_decide(const struct pol_table *t, const struct pol_tuple *tp, struct pol_verdict *out)
{
	memset(out, 0, sizeof(*out));
	out->rule = -1;
	if (tp->src.family != tp->dst.family || (tp->src.family != 4 && tp->src.family != 6))
		return -EINVAL;
	pol_classify(t, &tp->src, &out->src);
	pol_classify(t, &tp->dst, &out->dst);
	out->to_gateway = pol_ranges_find(&t->lists[POL_L_SELF], &tp->dst) != NULL;
	if (out->to_gateway) {
		/* The input chain: invalid, the anti-lockout, the gateway services. */
		out->action = POL_DROP;
		if (!pol_icmp_can_open(tp->src.family, tp->proto, tp->icmp_type)) {
			out->by = POL_BY_INVALID;
			return 0;
		}
		if (pol_ranges_find(&t->lists[POL_L_MGMT], &tp->src)) {
			out->by = POL_BY_MANAGEMENT;
			out->action = POL_ACCEPT;
			out->passes = true;
			return 0;
		}
		if (input_fixed(tp, &out->src)) {
			out->by = POL_BY_FIXED;
			out->action = POL_ACCEPT;
			out->passes = true;
			return 0;
		}
		out->by = POL_BY_DEFAULT;
		for (size_t i = 0; i < t->nrules; i++)
			if (t->rules[i].gateway &&
			    pol_rule_matches(t, &t->rules[i], tp, &out->src, &out->dst)) {
				out->by = POL_BY_RULE;
				out->action = t->rules[i].action;
				out->rule = (int)i;
				break;
			}
		/* The input chain always enforces: observe mode concerns the forward policy. */
		out->passes = out->action == POL_ACCEPT;
		return 0;
	}
	if (!out->src.local && !out->dst.local) {
		out->by = POL_BY_TRANSIT;
		out->action = POL_ACCEPT;
		out->passes = true;
		return 0;
	}
	if (!pol_icmp_can_open(tp->src.family, tp->proto, tp->icmp_type)) {
		out->by = POL_BY_INVALID;
		out->action = POL_DROP;
		out->passes = false;
		return 0;
	}
	out->by = POL_BY_DEFAULT;
	out->action = POL_DROP;
	for (size_t i = 0; i < t->nrules; i++) {
		if (!t->rules[i].gateway &&
		    pol_rule_matches(t, &t->rules[i], tp, &out->src, &out->dst)) {
			out->by = POL_BY_RULE;
			out->action = t->rules[i].action;
			out->rule = (int)i;
			break;
		}
	}
	out->passes = out->action == POL_ACCEPT || t->mode == POL_MODE_OBSERVE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* JSON (docs/policy-json.md) */

static const char *const list_names[POL_L_COUNT] = {"zones", "city",  "local", "district",
						    "dc",    "sites", "self",  "management"};

static void range_text(const struct pol_range *r, char *buf, size_t size)
{
	struct ip_prefix p;
	if (pol_range_is_prefix(r, &p)) {
		ip_prefix_format(&p, buf, size);
		return;
	}
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
	ip_addr_format(&r->first, a, sizeof(a));
	ip_addr_format(&r->last, b, sizeof(b));
	snprintf(buf, size, "%s-%s", a, b);
}

static int range_parse(const char *s, struct ip_addr *first, struct ip_addr *last)
{
	const char *dash = strchr(s, '-');
	memset(first, 0, sizeof(*first));
	memset(last, 0, sizeof(*last));
	if (!dash) {
		struct ip_prefix p;
		if (ip_prefix_parse(s, true, &p) != 0)
			return -EINVAL;
		ip_prefix_first(&p, first);
		ip_prefix_last(&p, last);
		return 0;
	}
	char a[IP_PREFIX_STRLEN];
	size_t n = (size_t)(dash - s);
	if (n >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	if (ip_addr_parse(a, first) != 0 || ip_addr_parse(dash + 1, last) != 0 ||
	    first->family != last->family || ip_addr_cmp(first, last) > 0)
		return -EINVAL;
	return 0;
}

static int add_new(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

static json_t *ints_json(const uint8_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

static json_t *zones_json(const struct pol_table *t, const struct pol_side *sd)
{
	if (sd->any)
		return json_string("any");
	json_t *a = json_array();
	for (size_t i = 0; a && i < sd->nzones; i++)
		json_array_append_new(a, json_string(t->zones[sd->zones[i]].name));
	return a;
}

static json_t *sets_json(const struct pol_table *t, const struct pol_side *sd)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < sd->nsets; i++)
		json_array_append_new(a, json_string(t->sets[sd->sets[i]].name));
	return a;
}

static json_t *ranges_json(const struct pol_ranges *rs)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < rs->n; i++) {
		char buf[2 * IP_PREFIX_STRLEN + 2];
		range_text(&rs->v[i], buf, sizeof(buf));
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

static json_t *match_json(const struct pol_match *m)
{
	if (m->any)
		return json_string("any");
	json_t *o = json_object(), *p = json_array();
	for (size_t i = 0; p && i < m->nports; i++)
		json_array_append_new(p, json_pack("{s:i,s:i,s:i}", "proto", m->ports[i].proto,
						   "from", m->ports[i].lo, "to", m->ports[i].hi));
	add_new(o, "ports", p);
	add_new(o, "icmp", ints_json(m->icmp, m->nicmp));
	add_new(o, "icmpv6", ints_json(m->icmp6, m->nicmp6));
	add_new(o, "protocols", ints_json(m->protos, m->nprotos));
	return o;
}

/* An optional member is left out when absent: docs/policy-json.md makes each
 * a string, and the reader refuses a null (a table would not load again). */
static int add_opt(json_t *o, const char *k, const char *s)
{
	return s ? add_new(o, k, json_string(s)) : 0;
}

json_t *pol_table_to_json(const struct pol_table *t)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	int bad = 0;
	bad |= add_new(j, "format", json_integer(POL_TABLE_FORMAT));
	bad |= add_opt(j, "generator", t->generator);
	bad |= add_opt(j, "gateway", t->gateway);
	bad |= add_opt(j, "district", t->district);
	bad |= add_new(j, "mode", json_string(pol_mode_names[t->mode]));
	bad |= add_opt(j, "policy_hash", t->hash);
	bad |= add_opt(j, "date", t->date);
	json_t *zs = json_array();
	for (size_t i = 0; zs && i < t->nzones; i++)
		json_array_append_new(zs, json_pack("{s:s,s:s}", "name", t->zones[i].name, "kind",
						    pol_zone_kind_names[t->zones[i].kind]));
	bad |= add_new(j, "zones", zs);
	json_t *ss = json_array();
	for (size_t i = 0; ss && i < t->nsites; i++)
		json_array_append_new(ss, json_string(t->sites[i]));
	bad |= add_new(j, "sites", ss);
	json_t *ls = json_object();
	for (int l = 0; ls && l < POL_L_COUNT; l++) {
		/* The input chain's lists only when known: older tables stay as they were. */
		if ((l == POL_L_SELF || l == POL_L_MGMT) && t->lists[l].n == 0)
			continue;
		json_t *a = json_array();
		for (size_t i = 0; a && i < t->lists[l].n; i++) {
			const struct pol_range *r = &t->lists[l].v[i];
			char buf[2 * IP_PREFIX_STRLEN + 2];
			range_text(r, buf, sizeof(buf));
			if (l == POL_L_ZONES)
				json_array_append_new(
				    a, json_pack("[s,s]", buf, t->zones[r->val].name));
			else if (l == POL_L_SITES)
				json_array_append_new(a, json_pack("[s,s]", buf, t->sites[r->val]));
			else
				json_array_append_new(a, json_string(buf));
		}
		add_new(ls, list_names[l], a);
	}
	bad |= add_new(j, "lists", ls);
	if (t->nsets) {
		json_t *sa = json_array();
		for (size_t i = 0; sa && i < t->nsets; i++)
			json_array_append_new(
			    sa, json_pack("{s:s,s:s,s:o}", "name", t->sets[i].name, "label",
					  t->sets[i].label, "ranges", ranges_json(&t->sets[i].r)));
		bad |= add_new(j, "sets", sa);
	}
	json_t *rs = json_array();
	for (size_t i = 0; rs && i < t->nrules; i++) {
		const struct pol_trule *r = &t->rules[i];
		json_t *o = json_object();
		add_new(o, "id", json_string(r->id));
		add_new(o, "action", json_string(pol_action_names[r->action]));
		add_new(o, "scope", json_string(pol_scope_names[r->scope]));
		add_new(o, "log", json_boolean(r->log));
		add_new(o, "exception", json_boolean(r->exception));
		add_new(o, "from", zones_json(t, &r->from));
		add_new(o, "to", zones_json(t, &r->to));
		if (r->from.nsets)
			add_new(o, "from_sets", sets_json(t, &r->from));
		if (r->to.nsets)
			add_new(o, "to_sets", sets_json(t, &r->to));
		if (r->gateway)
			add_new(o, "gateway", json_true());
		if (r->nifaces) {
			json_t *ifs = json_array();
			for (size_t k = 0; ifs && k < r->nifaces; k++)
				json_array_append_new(ifs, json_string(r->ifaces[k]));
			add_new(o, "interfaces", ifs);
		}
		if (r->limit.rate)
			add_new(o, "limit",
				json_pack("{s:I,s:s,s:I,s:b}", "rate", (json_int_t)r->limit.rate,
					  "unit", r->limit.unit, "burst",
					  (json_int_t)r->limit.burst, "per_source",
					  r->limit.per_source));
		if (r->window) {
			json_t *sp = json_array();
			for (size_t k = 0; sp && k < r->nspans; k++)
				json_array_append_new(sp, json_pack("[I,I]",
								    (json_int_t)r->spans[k].first,
								    (json_int_t)r->spans[k].last));
			add_new(o, "window", json_string(r->window));
			add_new(o, "window_spans", sp);
		}
		add_new(o, "services", match_json(&r->svc));
		if (r->svc_names)
			add_new(o, "service_names", json_string(r->svc_names));
		if (r->comment)
			add_new(o, "comment", json_string(r->comment));
		if (r->expires)
			add_new(o, "expires_at", json_integer(r->expires));
		json_array_append_new(rs, o);
	}
	bad |= add_new(j, "rules", rs);
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

struct jreader {
	const char *name;
	struct diag_list *dl;
	int errors;
};

static void jerr(struct jreader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jerr(struct jreader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(r->dl, DIAG_ERROR, r->name, 0, 0, fmt, ap);
	va_end(ap);
	r->errors++;
}

static int enum_of(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static int read_u8s(struct jreader *jr, const json_t *a, const char *what, uint8_t **out, size_t *n)
{
	if (!a)
		return 0;
	if (!json_is_array(a)) {
		jerr(jr, "'%s' must be a list of numbers", what);
		return -EINVAL;
	}
	*out = malloc(json_array_size(a) + 1);
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_int_t v = json_integer_value(json_array_get(a, i));
		if (!json_is_integer(json_array_get(a, i)) || v < 0 || v > 255) {
			jerr(jr, "'%s' holds a value outside 0-255", what);
			return -EINVAL;
		}
		(*out)[(*n)++] = (uint8_t)v;
	}
	return 0;
}

static int read_match(struct jreader *jr, const json_t *j, struct pol_match *m)
{
	if (json_is_string(j) && strcmp(json_string_value(j), "any") == 0) {
		m->any = true;
		return 0;
	}
	if (!json_is_object(j)) {
		jerr(jr, "%s: services must be \"any\" or an object", "rule");
		return -EINVAL;
	}
	const json_t *p = json_object_get(j, "ports");
	if (p && json_is_array(p)) {
		m->ports = calloc(json_array_size(p) + 1, sizeof(*m->ports));
		if (!m->ports)
			return -ENOMEM;
		for (size_t i = 0; i < json_array_size(p); i++) {
			json_int_t pr = -1, lo = -1, hi = -1;
			if (json_unpack(json_array_get(p, i), "{s:I,s:I,s:I}", "proto", &pr, "from",
					&lo, "to", &hi) != 0 ||
			    pr < 0 || pr > 255 || !proto_has_ports((uint8_t)pr) || lo < 0 ||
			    hi > 65535 || lo > hi) {
				jerr(jr, "%s: a port range is malformed", "services");
				return -EINVAL;
			}
			m->ports[m->nports++] =
			    (struct pol_ports){(uint8_t)pr, (uint16_t)lo, (uint16_t)hi};
		}
	}
	int r = read_u8s(jr, json_object_get(j, "icmp"), "icmp", &m->icmp, &m->nicmp);
	if (r == 0)
		r = read_u8s(jr, json_object_get(j, "icmpv6"), "icmpv6", &m->icmp6, &m->nicmp6);
	if (r == 0)
		r = read_u8s(jr, json_object_get(j, "protocols"), "protocols", &m->protos,
			     &m->nprotos);
	return r;
}

static int read_zones(struct jreader *jr, const struct pol_table *t, const json_t *j,
		      const json_t *sets, struct pol_side *sd)
{
	bool *any = &sd->any;
	int **out = &sd->zones;
	size_t *n = &sd->nzones;
	*out = calloc(json_is_array(j) ? json_array_size(j) + 1 : 1, sizeof(int));
	sd->sets = calloc(json_is_array(sets) ? json_array_size(sets) + 1 : 1, sizeof(int));
	if (!*out || !sd->sets)
		return -ENOMEM;
	if (sets && !json_is_array(sets)) {
		jerr(jr, "%s: from_sets/to_sets must be lists of set names", "rule");
		return -EINVAL;
	}
	for (size_t i = 0; sets && i < json_array_size(sets); i++) {
		int k = pol_table_find_set(t, json_string_value(json_array_get(sets, i)) ?: "");
		if (k < 0) {
			jerr(jr, "a rule names the unknown set '%s'",
			     json_string_value(json_array_get(sets, i)) ?: "?");
			return -EINVAL;
		}
		sd->sets[sd->nsets++] = k;
	}
	if (json_is_string(j) && strcmp(json_string_value(j), "any") == 0) {
		*any = true;
		return 0;
	}
	if (!json_is_array(j)) {
		jerr(jr, "%s: from/to must be \"any\" or a list of zones", "rule");
		return -EINVAL;
	}
	for (size_t i = 0; i < json_array_size(j); i++) {
		int z = pol_table_find_zone(t, json_string_value(json_array_get(j, i)) ?: "");
		if (z < 0) {
			jerr(jr, "a rule names the unknown zone '%s'",
			     json_string_value(json_array_get(j, i)) ?: "?");
			return -EINVAL;
		}
		(*out)[(*n)++] = z;
	}
	return 0;
}

static int read_rule(struct jreader *jr, struct pol_table *t, json_t *o)
{
	struct pol_trule r;
	memset(&r, 0, sizeof(r));
	const char *id = NULL, *action = NULL, *scope = NULL, *comment = NULL, *names = NULL,
		   *window = NULL;
	int log = 0, exc = 0, gw = 0;
	json_int_t expires = 0;
	json_t *from = NULL, *to = NULL, *svc = NULL, *fsets = NULL, *tsets = NULL, *ifs = NULL,
	       *limit = NULL, *spans = NULL;
	int rc = -EINVAL;
	if (json_unpack((json_t *)o,
			"{s:s,s:s,s:s,s:b,s:b,s:o,s:o,s:o,s?s,s?s,s?I,s?o,s?o,s?b,s?o,s?o,s?s,s?o}",
			"id", &id, "action", &action, "scope", &scope, "log", &log, "exception",
			&exc, "from", &from, "to", &to, "services", &svc, "comment", &comment,
			"service_names", &names, "expires_at", &expires, "from_sets", &fsets,
			"to_sets", &tsets, "gateway", &gw, "interfaces", &ifs, "limit", &limit,
			"window", &window, "window_spans", &spans) != 0 ||
	    expires < 0 || (ifs && !json_is_array(ifs)) || (!window != !spans) ||
	    (spans && !json_is_array(spans))) {
		jerr(jr, "%s: a rule lacks a field or has one of the wrong type", "rules");
		goto out;
	}
	r.gateway = gw;
	r.window = (char *)window;
	if (limit) {
		json_int_t rate = 0, burst = 0;
		const char *unit = NULL;
		int per = 0;
		if (json_unpack(limit, "{s:I,s:s,s:I,s:b}", "rate", &rate, "unit", &unit, "burst",
				&burst, "per_source", &per) != 0 ||
		    rate <= 0 || rate > 1000000000 || burst < 0 || burst > 1000000000 ||
		    strlen(unit) >= sizeof(r.limit.unit)) {
			jerr(jr, "rule '%s': a malformed limit", id);
			goto out;
		}
		r.limit.rate = (unsigned)rate;
		r.limit.burst = (unsigned)burst;
		r.limit.per_source = per;
		snprintf(r.limit.unit, sizeof(r.limit.unit), "%s", unit);
	}
	r.spans = calloc(spans ? json_array_size(spans) + 1 : 1, sizeof(*r.spans));
	r.ifaces = calloc(ifs ? json_array_size(ifs) + 1 : 1, sizeof(char *));
	if (!r.spans || !r.ifaces) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; spans && i < json_array_size(spans); i++) {
		json_int_t a = 0, b = -1;
		if (json_unpack(json_array_get(spans, i), "[II]", &a, &b) != 0 || a > b) {
			jerr(jr, "rule '%s': a malformed window span", id);
			goto out;
		}
		r.spans[r.nspans++] = (struct pol_span){a, b};
	}
	for (size_t i = 0; ifs && i < json_array_size(ifs); i++) {
		const char *x = json_string_value(json_array_get(ifs, i));
		if (!x) {
			jerr(jr, "rule '%s': interfaces must be names", id);
			goto out;
		}
		r.ifaces[r.nifaces++] = (char *)x;
	}
	r.expires = expires;
	int a = enum_of(action, pol_action_names, POL_ACTION_COUNT);
	int s = enum_of(scope, pol_scope_names, POL_SCOPE_COUNT);
	if (a < 0 || s < 0) {
		jerr(jr, "rule '%s' has an unknown action or scope", id);
		goto out;
	}
	r.id = (char *)id;
	r.comment = (char *)comment;
	r.svc_names = (char *)names;
	r.action = (enum pol_action)a;
	r.scope = (enum pol_scope)s;
	r.log = log;
	r.exception = exc;
	rc = read_zones(jr, t, from, fsets, &r.from);
	if (rc == 0)
		rc = read_zones(jr, t, to, tsets, &r.to);
	if (rc == 0)
		rc = read_match(jr, svc, &r.svc);
	if (rc == 0)
		rc = pol_table_add_rule(t, &r);
out:
	pol_side_free(&r.from);
	pol_side_free(&r.to);
	free(r.spans);
	free(r.ifaces);
	pol_match_free(&r.svc);
	return rc;
}

static int find_site(const struct pol_table *t, const char *name)
{
	for (size_t i = 0; i < t->nsites; i++)
		if (strcmp(t->sites[i], name) == 0)
			return (int)i;
	return -1;
}

static int read_list(struct jreader *jr, struct pol_table *t, enum pol_list l, const json_t *a)
{
	if (!json_is_array(a)) {
		jerr(jr, "lists.%s must be a list", list_names[l]);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *e = json_array_get(a, i);
		const char *text = NULL, *ref = NULL;
		int val = 0;
		if (l == POL_L_ZONES || l == POL_L_SITES) {
			if (json_unpack((json_t *)e, "[ss]", &text, &ref) != 0) {
				jerr(jr, "lists.%s entries must be [range, name]", list_names[l]);
				return -EINVAL;
			}
			val = l == POL_L_ZONES ? pol_table_find_zone(t, ref) : find_site(t, ref);
			if (val < 0) {
				jerr(jr, "lists entry names the unknown '%s'", ref);
				return -EINVAL;
			}
		} else {
			text = json_string_value(e);
		}
		struct ip_addr f, la;
		if (!text || range_parse(text, &f, &la) != 0) {
			jerr(jr, "malformed address range '%s'", text ? text : "?");
			return -EINVAL;
		}
		int r = pol_ranges_add(&t->lists[l], &f, &la, val);
		if (r < 0)
			return r;
	}
	return 0;
}

int pol_table_from_json(const json_t *j, const char *name, struct diag_list *dl,
			struct pol_table **out)
{
	struct jreader jr = {name, dl, 0};
	struct pol_table *t = pol_table_new();
	int rc = -ENOMEM;
	*out = NULL;
	if (!t)
		goto out;
	rc = -EINVAL;
	json_int_t format = 0;
	const char *mode = NULL, *gw = NULL, *district = NULL, *hash = NULL, *date = NULL,
		   *gen = NULL;
	json_t *zones = NULL, *sites = NULL, *lists = NULL, *rules = NULL;
	if (json_unpack((json_t *)j, "{s:I,s:s,s:o,s:o,s:o,s:o,s?s,s?s,s?s,s?s,s?s}", "format",
			&format, "mode", &mode, "zones", &zones, "sites", &sites, "lists", &lists,
			"rules", &rules, "gateway", &gw, "district", &district, "policy_hash",
			&hash, "date", &date, "generator", &gen) != 0 ||
	    !json_is_array(zones) || !json_is_array(sites) || !json_is_object(lists) ||
	    !json_is_array(rules)) {
		jerr(&jr, "%s: not a policy table (format, mode, zones, sites, lists, rules)",
		     "file");
		goto out;
	}
	if (format != POL_TABLE_FORMAT) {
		jerr(&jr, "%s: unsupported format version", "file");
		goto out;
	}
	int m = enum_of(mode, pol_mode_names, POL_MODE_COUNT);
	if (m < 0) {
		jerr(&jr, "unknown mode '%s'", mode);
		goto out;
	}
	struct pol_table_meta meta = {gw, district, (enum pol_mode)m, hash, date, gen};
	if ((rc = pol_table_set_meta(t, &meta)) < 0)
		goto out;
	rc = -EINVAL;
	for (size_t i = 0; i < json_array_size(zones); i++) {
		const char *zn = NULL, *kind = NULL;
		if (json_unpack(json_array_get(zones, i), "{s:s,s:s}", "name", &zn, "kind",
				&kind) != 0 ||
		    enum_of(kind, pol_zone_kind_names, POL_ZONE_KIND_COUNT) < 0 ||
		    pol_table_find_zone(t, zn) >= 0) {
			jerr(&jr, "%s: a zone is malformed or repeated", "zones");
			goto out;
		}
		int k = enum_of(kind, pol_zone_kind_names, POL_ZONE_KIND_COUNT);
		if (pol_table_add_zone(t, zn, (enum pol_zone_kind)k) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < json_array_size(sites); i++) {
		const char *sn = json_string_value(json_array_get(sites, i));
		if (!sn) {
			jerr(&jr, "%s: site names must be strings", "sites");
			goto out;
		}
		if (pol_table_add_site(t, sn) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (int l = 0; l < POL_L_COUNT; l++) {
		const json_t *a = json_object_get(lists, list_names[l]);
		if (a && (rc = read_list(&jr, t, (enum pol_list)l, a)) < 0)
			goto out;
	}
	const json_t *sets = json_object_get(j, "sets");
	rc = -EINVAL;
	if (sets && !json_is_array(sets)) {
		jerr(&jr, "%s: must be a list", "sets");
		goto out;
	}
	for (size_t i = 0; sets && i < json_array_size(sets); i++) {
		const char *sn = NULL, *sl = NULL;
		json_t *ra = NULL;
		struct pol_ranges tmp = {0};
		rc = -EINVAL; /* every error below is the file's */
		if (json_unpack(json_array_get(sets, i), "{s:s,s:s,s:o}", "name", &sn, "label", &sl,
				"ranges", &ra) != 0 ||
		    !json_is_array(ra)) {
			jerr(&jr, "%s: a set is malformed", "sets");
			goto out;
		}
		for (size_t k = 0; k < json_array_size(ra); k++) {
			struct ip_addr f, la;
			const char *text = json_string_value(json_array_get(ra, k));
			if (!text || range_parse(text, &f, &la) != 0) {
				jerr(&jr, "set '%s': malformed address range '%s'", sn,
				     text ? text : "?");
				pol_ranges_free(&tmp);
				rc = -EINVAL;
				goto out;
			}
			if ((rc = pol_ranges_add(&tmp, &f, &la, 0)) < 0) {
				pol_ranges_free(&tmp);
				goto out;
			}
		}
		rc = pol_table_add_set(t, sn, sl, &tmp);
		pol_ranges_free(&tmp);
		if (rc == -EEXIST)
			jerr(&jr, "sets: '%s' is repeated", sn);
		if (rc < 0) {
			rc = rc == -EEXIST ? -EINVAL : rc;
			goto out;
		}
		rc = -EINVAL;
	}
	for (size_t i = 0; i < json_array_size(rules); i++)
		if ((rc = read_rule(&jr, t, json_array_get(rules, i))) < 0)
			goto out;
	if ((rc = pol_table_seal(t)) < 0) {
		if (rc == -EEXIST) {
			jerr(&jr, "%s: zone ranges overlap", "lists.zones");
			rc = -EINVAL;
		}
		goto out;
	}
	rc = jr.errors ? -EINVAL : 0;
out:
	if (rc < 0)
		pol_table_free(t);
	else
		*out = t;
	return rc;
}

int pol_table_load(const char *path, struct diag_list *dl, struct pol_table **out)
{
	json_error_t err;
	*out = NULL;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		diag_add(dl, DIAG_ERROR, path, err.line > 0 ? (unsigned)err.line : 0,
			 err.column > 0 ? (unsigned)err.column : 0, "%s", err.text);
		return -EINVAL;
	}
	int r = pol_table_from_json(j, path, dl, out);
	json_decref(j);
	return r;
}
