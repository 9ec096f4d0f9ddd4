// SPDX-License-Identifier: MIT
/* The audit model: summaries checked against the current policy and counted (model.h). */
#include "audit/model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile/compile.h"
#include "core/grow.h"
#include "core/strmap.h"
#include "core/timefmt.h"

static void add_counts(struct summary_counts *t, const struct summary_counts *c)
{
	t->flows += c->flows;
	t->packets += c->packets;
	t->bytes += c->bytes;
}

int audit_new(const struct policy *p, const struct inventory *inv, const struct audit_opts *o,
	      struct audit **out)
{
	struct pol_build *b = NULL;
	struct audit *a = calloc(1, sizeof(*a));
	int rc = -ENOMEM;
	*out = NULL;
	if (!a)
		goto out;
	a->p = p;
	a->inv = inv;
	a->workers = o ? o->workers : 0;
	if (!a->workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		a->workers = n > 0 ? (unsigned)n : 1;
	}
	if (a->workers > AUDIT_MAX_WORKERS)
		a->workers = AUDIT_MAX_WORKERS;
	a->owner = strdup(o && o->owner ? o->owner : "security");
	a->rule_ix = strmap_new(p->nrules);
	a->zone_ix = strmap_new(p->nzones);
	if (!a->owner || !a->rule_ix || !a->zone_ix)
		goto out;
	/* The first of equal names wins, as in policy_find_rule's scan. */
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].id && strmap_put(a->rule_ix, p->rules[i].id, (int)i) == -2)
			goto out;
	for (size_t i = 0; i < p->nzones; i++)
		if (strmap_put(a->zone_ix, p->zones[i].name, (int)i) == -2)
			goto out;
	rc = pol_build_new(p, inv, &b);
	if (rc < 0 || (rc = pol_build_city(b, &a->city)) < 0)
		goto out;
	a->hash = strdup(pol_build_hash(b));
	rc = a->hash ? 0 : -ENOMEM;
out:
	pol_build_free(b);
	if (rc < 0)
		audit_free(a);
	else
		*out = a;
	return rc;
}

void audit_summary_free(struct audit_summary *s)
{
	free(s->file);
	free(s->site);
	free(s->host);
	free(s->start);
	free(s->end);
	free(s->hash);
	free(s->mode);
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nsums; i++)
		audit_summary_free(&a->sums[i]);
	free(a->sums);
	intern_free(&a->windows);
	for (size_t i = 0; i < a->sites.n; i++)
		free(a->site_v[i].site);
	free(a->site_v);
	intern_free(&a->sites);
	for (size_t i = 0; i < a->dkeys.n; i++) {
		struct den *d = &a->den[i];
		free(d->from);
		free(d->to);
		free(d->rules);
		for (size_t k = 0; k < d->nother; k++)
			free(d->other[k]);
		free(d->other);
		free(d->groups);
		free(d->points);
		for (int k = 0; k < SUMMARY_NNAMES; k++) {
			for (size_t j = 0; j < d->names[k].n; j++)
				free(d->names[k].v[j].name);
			free(d->names[k].v);
		}
	}
	free(a->den);
	intern_free(&a->dkeys);
	intern_free(&a->dsites);
	intern_free(&a->exkeys);
	free(a->exflows);
	for (size_t i = 0; i < a->gkeys.n; i++) {
		struct group *g = &a->grp[i];
		for (size_t k = 0; k < g->pts.n; k++) {
			struct gpoint *pt = &g->pt[k];
			for (int e = 0; e < 2; e++) {
				for (size_t j = 0; j < pt->nhosts[e]; j++)
					free(pt->hosts[e][j]);
				free(pt->hosts[e]);
			}
			free(pt->rules);
		}
		free(g->from);
		free(g->to);
		intern_free(&g->pts);
		free(g->pt);
	}
	free(a->grp);
	intern_free(&a->gkeys);
	free(a->rhits);
	intern_free(&a->rkeys);
	intern_free(&a->rsites);
	for (size_t i = 0; i < a->pkeys.n; i++) {
		struct kperiod *k = &a->per[i];
		for (size_t j = 0; j < k->n; j++)
			free(k->ids[j]);
		free(k->ids);
		free(k->packets);
		free(k->bytes);
		free(k->end);
	}
	free(a->per);
	intern_free(&a->pkeys);
	free(a->un);
	intern_free(&a->ukeys);
	intern_free(&a->usites);
	for (size_t i = 0; i < a->fkeys.n; i++) {
		for (size_t j = 0; j < a->fac[i].nfiles; j++)
			free(a->fac[i].files[j]);
		free(a->fac[i].files);
	}
	free(a->fac);
	intern_free(&a->fkeys);
	pol_table_free(a->city);
	free(a->hash);
	free(a->owner);
	free(a->start);
	free(a->end);
	strmap_free(a->rule_ix);
	strmap_free(a->zone_ix);
	free(a);
}

int audit_find_rule(const struct audit *a, const char *id)
{
	return strmap_get(a->rule_ix, id);
}

int audit_find_zone(const struct audit *a, const char *name)
{
	return strmap_get(a->zone_ix, name);
}

/*
 * An exact key for the intern tables from n strings: each as its length, ':'
 * and its bytes. A key cut to a buffer could merge two items that differ
 * beyond it, and a '|' inside a name could shift a field into the next.
 * Malloc'ed; NULL when out of memory. audit_key_part reads part i back.
 */
static char *key_of(size_t n, ...)
{
	va_list ap;
	size_t len = 1;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		len += 21 + strlen(va_arg(ap, const char *));
	va_end(ap);
	char *k = malloc(len), *o = k;
	va_start(ap, n);
	for (size_t i = 0; k && i < n; i++) {
		const char *part = va_arg(ap, const char *);
		o += sprintf(o, "%zu:%s", strlen(part), part);
	}
	va_end(ap);
	return k;
}

const char *audit_key_part(const char *key, size_t i, size_t *len)
{
	for (;; i--) {
		char *end;
		*len = (size_t)strtoull(key, &end, 10);
		key = end + 1;
		if (i == 0)
			return key;
		key += *len;
	}
}

/* intern_get of key_of(n, ...), freed after: the index or -ENOMEM. */
#define INTERN_KEY(table, added, n, ...) intern_key((table), (added), key_of((n), __VA_ARGS__))

static long intern_key(struct intern *t, bool *added, char *key)
{
	long i = key ? intern_get(t, key, added) : -ENOMEM;
	free(key);
	return i;
}

int audit_host_of(const struct inventory *inv, const struct ip_addr *ip)
{
	for (size_t h = 0; h < inv->nhosts; h++)
		for (size_t k = 0; k < inv->hosts[h].naddrs; k++)
			if (ip_prefix_contains(&inv->hosts[h].addrs[k], ip))
				return (int)h;
	return -1;
}

const char *audit_host_name(const struct inventory *inv, const char *text)
{
	struct ip_addr ip;
	int h = ip_addr_parse(text, &ip) == 0 ? audit_host_of(inv, &ip) : -1;
	return h >= 0 ? inv->hosts[h].name : NULL;
}

void audit_object_free(struct audit_object *o)
{
	free(o->name);
	for (size_t i = 0; i < o->nitems; i++)
		free(o->items[i]);
	free(o->items);
	pol_ranges_free(&o->addrs);
}

/* ------------------------------------------------------------------ */
/* Counting */

int audit_dup_str(char **dst, const char *s)
{
	if (!s) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int int_set_add(int **v, size_t *n, int x)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return 0;
	int *p = realloc(*v, (*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	p[(*n)++] = x;
	*v = p;
	return 0;
}

int audit_str_set_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	char **p = realloc(*v, (*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*v = p;
	if (!(p[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Adds flows to name in l. 0 or -ENOMEM. */
static int nlist_add(struct nlist *l, const char *name, uint64_t flows)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0) {
			l->v[i].flows += flows;
			return 0;
		}
	if (grow_array(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) ||
	    !(l->v[l->n].name = strdup(name)))
		return -ENOMEM;
	l->v[l->n++].flows = flows;
	return 0;
}

static int cmp_strp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/*
 * The observed addresses of one end of a tuple into the point's: the end
 * stays named by its hosts while every connection's addresses are known (a
 * complete list of addresses, not pseudonyms) and they are at most
 * AUDIT_HOST_OBJECT_MAX; otherwise it is open (its zone).
 */
static int add_hosts(struct gpoint *pt, int e, const struct summary_read *s,
		     const struct summary_tuple *u)
{
	if (pt->open[e])
		return 0;
	if (!u->has_hosts || !u->complete[e]) {
		pt->open[e] = true;
		return 0;
	}
	for (size_t i = u->host0[e]; i < u->host0[e] + u->nhosts[e] && !pt->open[e]; i++) {
		struct ip_addr ip;
		char text[IP_PREFIX_STRLEN];
		const char *h = text;
		if (ip_addr_parse(s->hosts[i], &ip) < 0) {
			pt->open[e] = true;
			break;
		}
		ip_addr_format(&ip, text, sizeof(text)); /* one text per address */
		char **v = pt->hosts[e];
		size_t n = pt->nhosts[e];
		if (n && bsearch(&h, v, n, sizeof(*v), cmp_strp))
			continue;
		if (n == AUDIT_HOST_OBJECT_MAX) {
			pt->open[e] = true;
			break;
		}
		char **w = realloc(v, (n + 1) * sizeof(*w));
		if (!w)
			return -ENOMEM;
		pt->hosts[e] = w;
		if (!(w[n] = strdup(h)))
			return -ENOMEM;
		pt->nhosts[e]++;
		qsort(w, n + 1, sizeof(*w), cmp_strp);
	}
	return 0;
}

/* The group a denied tuple falls into (a site exception's site, when an
 * exception of that site denies it, or the city; and its zone pair), and
 * its service point there: the index of the group, *point that of the point. */
static int group_of(struct audit *a, const struct summary_read *s, const struct summary_tuple *u,
		    int rule, int *point)
{
	char key[64], sk[16];
	int site = rule >= 0 ? a->p->rules[rule].site : -1;
	snprintf(sk, sizeof(sk), "%d", site);
	bool added;
	long g = INTERN_KEY(&a->gkeys, &added, 3, sk, u->from, u->to);
	if (g < 0 || grow_array(&a->grp, &a->gcap, (size_t)g + 1, sizeof(*a->grp)))
		return -ENOMEM;
	struct group *gr = &a->grp[g];
	if (added) {
		gr->site = site;
		if (audit_dup_str(&gr->from, u->from) || audit_dup_str(&gr->to, u->to))
			return -ENOMEM;
	}
	add_counts(&gr->c, &u->c);
	/* Whole protocols for what the policy syntax cannot name by port or type. */
	struct summary_svc sv = u->svc;
	bool by_port = proto_has_ports(sv.proto);
	bool by_type = proto_is_icmp(sv.family, sv.proto);
	if (!by_port && !by_type)
		sv.port = -1;
	if (!by_type)
		sv.family = 0;
	snprintf(key, sizeof(key), "%u|%u|%d", sv.proto, sv.family, sv.port);
	long k = intern_get(&gr->pts, key, &added);
	if (k < 0 || grow_array(&gr->pt, &gr->ptcap, (size_t)k + 1, sizeof(*gr->pt)))
		return -ENOMEM;
	struct gpoint *pt = &gr->pt[k];
	pt->svc = sv;
	add_counts(&pt->c, &u->c);
	if (rule >= 0 && int_set_add(&pt->rules, &pt->nrules, rule))
		return -ENOMEM;
	/* A tuple of continuation records only holds no connection: no evidence. */
	if (u->c.flows) {
		for (int e = 0; e < 2; e++)
			if (add_hosts(pt, e, s, u))
				return -ENOMEM;
		for (int c = 0; c < SUMMARY_NSCOPE; c++) {
			pt->scope[c] += u->scope_known[c] ? u->scope[c] : 0;
			pt->scope_open[c] |= !u->scope_known[c];
		}
	}
	*point = (int)k;
	return (int)g;
}

static int count_denial(struct audit *a, const struct summary_read *s,
			const struct summary_tuple *u)
{
	const char *site = s->site;
	char svc[64], dk[24];
	snprintf(svc, sizeof(svc), "%u|%u|%d", u->svc.proto,
		 proto_is_any_icmp(u->svc.proto) ? u->svc.family : 0, u->svc.port);
	bool added;
	long d = INTERN_KEY(&a->dkeys, &added, 3, u->from, u->to, svc);
	if (d < 0 || grow_array(&a->den, &a->dcap, (size_t)d + 1, sizeof(*a->den)))
		return -ENOMEM;
	struct den *dn = &a->den[d];
	if (added) {
		if (audit_dup_str(&dn->from, u->from) || audit_dup_str(&dn->to, u->to))
			return -ENOMEM;
		dn->svc = u->svc;
		if (!proto_is_any_icmp(dn->svc.proto))
			dn->svc.family = 0;
	}
	add_counts(&dn->c, &u->c);
	if (u->passes)
		dn->passed += u->c.flows;
	for (int k = 0; k < SUMMARY_NNAMES; k++)
		for (size_t i = u->name0[k]; i < u->name0[k] + u->nnames[k]; i++)
			if (nlist_add(&dn->names[k], s->names[i].name, s->names[i].flows))
				return -ENOMEM;
	int rule = -1;
	if (u->rule) {
		rule = audit_find_rule(a, u->rule);
		if (rule < 0 && audit_str_set_add(&dn->other, &dn->nother, u->rule))
			return -ENOMEM;
	}
	if (int_set_add(&dn->rules, &dn->nrules, u->rule && rule < 0 ? -2 : rule))
		return -ENOMEM;
	snprintf(dk, sizeof(dk), "%ld", d);
	if (INTERN_KEY(&a->dsites, NULL, 2, dk, site) < 0)
		return -ENOMEM;
	for (size_t i = u->ex0; i < u->ex0 + u->nex; i++) {
		const struct summary_example *e = &s->ex[i];
		long x = INTERN_KEY(&a->exkeys, NULL, 3, dk, e->src, e->dst);
		if (x < 0 || grow_array(&a->exflows, &a->excap, (size_t)x + 1, sizeof(*a->exflows)))
			return -ENOMEM;
		a->exflows[x] += e->flows;
	}
	if (strcmp(u->from, "-") == 0 || strcmp(u->to, "-") == 0 ||
	    audit_find_zone(a, u->from) < 0 || audit_find_zone(a, u->to) < 0)
		return 0;
	int pt;
	int g = group_of(a, s, u, rule, &pt);
	if (g < 0)
		return -ENOMEM;
	for (size_t i = 0; i < dn->ngroups; i++)
		if (dn->groups[i] == g)
			return 0;
	int *gv = realloc(dn->groups, (dn->ngroups + 1) * sizeof(*gv));
	if (gv)
		dn->groups = gv;
	int *pv = gv ? realloc(dn->points, (dn->ngroups + 1) * sizeof(*pv)) : NULL;
	if (!gv || !pv)
		return -ENOMEM;
	dn->points = pv;
	gv[dn->ngroups] = g;
	pv[dn->ngroups++] = pt;
	return 0;
}

static bool is_denied(const struct summary_tuple *u)
{
	return u->verdict && (strcmp(u->verdict, "drop") == 0 || strcmp(u->verdict, "reject") == 0);
}

static int count_foreign(struct audit *a, const struct summary_read *s, const char *name)
{
	long f = intern_get(&a->fkeys, s->hash && s->site ? s->hash : "", NULL);
	if (f < 0 || grow_array(&a->fac, &a->fcap, (size_t)f + 1, sizeof(*a->fac)))
		return -ENOMEM;
	struct facc *fa = &a->fac[f];
	if (grow_array(&fa->files, &fa->cap, fa->nfiles + 1, sizeof(*fa->files)) ||
	    !(fa->files[fa->nfiles] = strdup(name)))
		return -ENOMEM;
	fa->nfiles++;
	for (size_t i = 0; i < s->ntuples; i++) {
		add_counts(&fa->total, &s->tuples[i].c);
		if (is_denied(&s->tuples[i]))
			add_counts(&fa->denied, &s->tuples[i].c);
	}
	return 0;
}

static int keep_period(struct audit *a, const struct summary_read *s)
{
	uint64_t weight = 0;
	bool added;
	long i = INTERN_KEY(&a->pkeys, &added, 2, s->site, s->applied_at ? s->applied_at : "");
	if (i < 0 || grow_array(&a->per, &a->pcap, (size_t)i + 1, sizeof(*a->per)))
		return -ENOMEM;
	struct kperiod *k = &a->per[i];
	for (size_t j = 0; j < s->nkrules; j++)
		weight += s->krules[j].packets;
	/* Counters only grow within one apply period: the latest reading holds
	 * every earlier one, so it alone counts (docs/audit.md). */
	if (!added) {
		int c = strcmp(s->end, k->end);
		if (c < 0 || (c == 0 && weight <= k->weight))
			return 0;
		for (size_t j = 0; j < k->n; j++)
			free(k->ids[j]);
		free(k->ids);
		free(k->packets);
		free(k->bytes);
		free(k->end);
		memset(k, 0, sizeof(*k));
	}
	k->weight = weight;
	k->ids = calloc(s->nkrules + 1, sizeof(*k->ids));
	k->packets = calloc(s->nkrules + 1, sizeof(*k->packets));
	k->bytes = calloc(s->nkrules + 1, sizeof(*k->bytes));
	if (!k->ids || !k->packets || !k->bytes || audit_dup_str(&k->end, s->end))
		return -ENOMEM;
	for (size_t j = 0; j < s->nkrules; j++, k->n++) {
		if (!(k->ids[j] = strdup(s->krules[j].id)))
			return -ENOMEM;
		k->packets[j] = s->krules[j].packets;
		k->bytes[j] = s->krules[j].bytes;
	}
	return 0;
}

static int count_current(struct audit *a, const struct summary_read *s)
{
	long si = intern_get(&a->sites, s->site, NULL);
	if (si < 0 || grow_array(&a->site_v, &a->sitecap, (size_t)si + 1, sizeof(*a->site_v)))
		return -ENOMEM;
	struct audit_site *st = &a->site_v[si];
	if (!st->site && audit_dup_str(&st->site, s->site))
		return -ENOMEM;
	st->summaries++;
	for (size_t i = 0; i < s->ntuples; i++) {
		const struct summary_tuple *u = &s->tuples[i];
		if (summary_is_related(u))
			continue;
		add_counts(&a->total, &u->c);
		add_counts(&st->total, &u->c);
		if (u->verdict && strcmp(u->verdict, "accept") == 0 && u->by &&
		    strcmp(u->by, "rule") == 0) {
			add_counts(&a->covered, &u->c);
			add_counts(&st->covered, &u->c);
		}
		if (!is_denied(u))
			continue;
		add_counts(&a->denied, &u->c);
		add_counts(&st->denied, &u->c);
		if (u->passes)
			a->passed += u->c.flows;
		if (count_denial(a, s, u))
			return -ENOMEM;
	}
	for (size_t i = 0; i < s->nhits; i++) {
		long r = intern_get(&a->rkeys, s->hits[i].id, NULL);
		if (r < 0 || grow_array(&a->rhits, &a->rcap, (size_t)r + 1, sizeof(*a->rhits)))
			return -ENOMEM;
		add_counts(&a->rhits[r], &s->hits[i].c);
		if (INTERN_KEY(&a->rsites, NULL, 2, s->hits[i].id, s->site) < 0)
			return -ENOMEM;
	}
	if (s->kernel && keep_period(a, s))
		return -ENOMEM;
	add_counts(&a->unassigned, &s->unassigned);
	for (size_t i = 0; i < s->nutop; i++) {
		const struct summary_uaddr *ur = &s->utop[i];
		long u = intern_get(&a->ukeys, ur->address, NULL);
		if (u < 0 || grow_array(&a->un, &a->ucap, (size_t)u + 1, sizeof(*a->un)))
			return -ENOMEM;
		a->un[u].as_src += ur->as_src;
		a->un[u].as_dst += ur->as_dst;
		a->un[u].packets += ur->packets;
		a->un[u].bytes += ur->bytes;
		if (INTERN_KEY(&a->usites, NULL, 2, ur->address, s->site) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int note_summary(struct audit *a, const struct summary_read *s, const char *name,
			bool current)
{
	if (grow_array(&a->sums, &a->scap, a->nsums + 1, sizeof(*a->sums)))
		return -ENOMEM;
	struct audit_summary *m = &a->sums[a->nsums];
	memset(m, 0, sizeof(*m));
	int bad_alloc = audit_dup_str(&m->file, name) | audit_dup_str(&m->site, s->site) |
			audit_dup_str(&m->host, s->host) | audit_dup_str(&m->start, s->start) |
			audit_dup_str(&m->end, s->end) | audit_dup_str(&m->hash, s->hash) |
			audit_dup_str(&m->mode, s->mode);
	a->nsums++;
	if (bad_alloc)
		return -ENOMEM;
	m->current = current;
	m->pseudonymised = s->pseudonymised;
	m->capture_dropped = s->dropped;
	m->not_decoded = s->not_decoded;
	for (size_t i = 0; i < s->ntuples; i++)
		add_counts(&m->counted, &s->tuples[i].c);
	if (!a->start || strcmp(s->start, a->start) < 0) {
		free(a->start);
		if (audit_dup_str(&a->start, s->start))
			return -ENOMEM;
	}
	if (!a->end || strcmp(s->end, a->end) > 0) {
		free(a->end);
		if (audit_dup_str(&a->end, s->end))
			return -ENOMEM;
	}
	return 0;
}

/*
 * A summary of the current policy names the inventory's sites and the
 * policy's zones (or "-", the zones a gateway's table merges): anything else
 * means it does not belong to this policy after all.
 */
static int check_current(const struct audit *a, struct summary_reader *r,
			 const struct summary_read *s)
{
	if (inventory_find_site(a->inv, s->site) < 0)
		summary_bad(r, "site: '%s' is not a site of the inventory", s->site);
	for (size_t i = 0; i < s->ntuples && r->errors < SUMMARY_MAX_ERRORS; i++) {
		const char *z[2] = {s->tuples[i].from, s->tuples[i].to};
		for (int k = 0; k < 2; k++)
			if (strcmp(z[k], "-") != 0 && audit_find_zone(a, z[k]) < 0)
				summary_bad(r, "tuples[%zu].%s: '%s' is not a zone of the policy",
					    i, k ? "dst_zone" : "src_zone", z[k]);
	}
	return r->errors;
}

/* Reads and checks one summary into s; false when it is to be skipped. Touches
 * nothing of a: summaries are checked in parallel (audit_add_files). */
bool audit_check_summary(const struct audit *a, const json_t *j, const char *name,
			 struct diag_list *dl, struct summary_read *s)
{
	struct summary_reader r = {.name = name, .dl = dl};
	if (summary_read(&r, j, s))
		return false;
	bool current = s->site && s->hash && strcmp(s->hash, a->hash) == 0;
	return !(current && check_current(a, &r, s));
}

/* Counts a checked summary. 0 or -ENOMEM. */
int audit_count_summary(struct audit *a, const struct summary_read *s, const char *name,
			struct diag_list *dl)
{
	/* A summary without a site or policy decided nothing: apart, like another policy's. */
	bool classified = s->site && s->hash;
	bool current = classified && strcmp(s->hash, a->hash) == 0;
	bool added;
	long w = INTERN_KEY(&a->windows, &added, 5, s->site ? s->site : "", s->host ? s->host : "",
			    s->start, s->end, s->hash ? s->hash : "");
	if (w < 0)
		return -ENOMEM;
	if (!added) {
		diag_add(dl, DIAG_WARNING, name, 0, 0,
			 "the same window of the same gateway as an earlier summary "
			 "(%s, %s to %s): skipped, so that its flows count once",
			 s->site ? s->site : "no site", s->start, s->end);
		return 0;
	}
	if (note_summary(a, s, name, current))
		return -ENOMEM;
	if (current)
		return count_current(a, s);
	if (count_foreign(a, s, name))
		return -ENOMEM;
	if (classified)
		diag_add(dl, DIAG_WARNING, name, 0, 0,
			 "ran policy %s, not the current %s: counted apart", s->hash, a->hash);
	else
		diag_add(dl, DIAG_WARNING, name, 0, 0,
			 "the agent had no policy: its flows are counted apart");
	return 0;
}

int audit_add_json(struct audit *a, const json_t *j, const char *name, struct diag_list *dl)
{
	struct summary_read s;
	int rc = -EINVAL;
	if (audit_check_summary(a, j, name, dl, &s))
		rc = audit_count_summary(a, &s, name, dl);
	else
		a->skipped++;
	summary_read_free(&s);
	return rc;
}

int audit_add_buffer(struct audit *a, const char *buf, size_t len, const char *name,
		     struct diag_list *dl)
{
	json_error_t err;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		diag_add(dl, DIAG_ERROR, name, (unsigned)(err.line > 0 ? err.line : 0),
			 (unsigned)(err.column > 0 ? err.column : 0), "%s: summary skipped",
			 err.text);
		a->skipped++;
		return -EINVAL;
	}
	int rc = audit_add_json(a, j, name, dl);
	json_decref(j);
	return rc;
}
