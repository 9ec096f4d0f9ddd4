// SPDX-License-Identifier: MIT
/* The suggested rules: built from the denied groups, written as policy.yaml (suggest.h). */
#include "audit/suggest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/model.h"
#include "audit/report.h"
#include "core/grow.h"
#include "core/intern.h"

/* ------------------------------------------------------------------ */
/* The suggested rules */

/*
 * What building the suggestions keeps at hand, so that thousands of them
 * cost no quadratic scans: the ids and new object names given so far, and
 * the objects by their addresses (policy_objects: the policy's, by the text
 * of their ranges; objects: the report's).
 */
struct sctx {
	const struct audit *a;
	struct audit_report *r;
	struct intern ids, names;
	struct intern pkeys; /* the policy's objects' ranges as text */
	int *pobj;	     /* pkeys index -> policy object */
	struct intern okeys; /* the report's objects' ranges as text, index = r->objects index */
};

static bool name_taken(struct sctx *x, const char *s)
{
	const struct policy *p = x->a->p;
	if (policy_find_rule(p, s) >= 0 || intern_find(&x->ids, s) >= 0)
		return true;
	for (size_t i = 0; i < p->nservices; i++)
		if (strcmp(p->services[i].name, s) == 0)
			return true;
	return false;
}

/* "audit-[site-]from-to", in the characters both rule ids and service
 * names allow (a-z 0-9 _ -), at most 48, unique in the policy. */
static char *make_id(struct sctx *x, const char *site, const char *from, const char *to)
{
	char base[160], id[64];
	snprintf(base, sizeof(base), "audit-%s%s%s-%s", site ? site : "", site ? "-" : "", from,
		 to);
	for (char *c = base; *c; c++) {
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '_'))
			*c = '_';
	}
	snprintf(id, sizeof(id), "%.40s", base);
	for (int n = 2; name_taken(x, id); n++)
		snprintf(id, sizeof(id), "%.40s-%d", base, n);
	return intern_get(&x->ids, id, NULL) < 0 ? NULL : strdup(id);
}

/* Observed points, sorted, to items: consecutive ports of one protocol join. */
static size_t points_to_items(const struct summary_svc *v, size_t n, struct audit_item *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct audit_item *last = k ? &out[k - 1] : NULL;
		bool ports = proto_has_ports(v[i].proto) && v[i].port >= 0;
		if (last && ports && last->proto == v[i].proto && last->lo >= 0 &&
		    last->hi + 1 == v[i].port) {
			last->hi = v[i].port;
			continue;
		}
		out[k++] = (struct audit_item){v[i].proto, v[i].family, v[i].port, v[i].port};
	}
	return k;
}

/* Does the observed set (sorted, with flags of the points still free) hold every packet of s? */
static bool service_within(const struct pol_match *m, const struct summary_svc *v, size_t n)
{
	if (m->any || (!m->nports && !m->nicmp && !m->nicmp6 && !m->nprotos))
		return false;
	for (size_t i = 0; i < m->nports; i++) {
		size_t have = 0;
		for (size_t k = 0; k < n; k++)
			have += v[k].proto == m->ports[i].proto && v[k].port >= m->ports[i].lo &&
				v[k].port <= m->ports[i].hi;
		if (have != (size_t)(m->ports[i].hi - m->ports[i].lo) + 1)
			return false;
	}
	for (size_t i = 0; i < m->nicmp + m->nicmp6; i++) {
		bool v6 = i >= m->nicmp;
		int type = v6 ? m->icmp6[i - m->nicmp] : m->icmp[i];
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = v[k].family == (v6 ? 6 : 4) &&
				proto_is_icmp(v[k].family, v[k].proto) && v[k].port == type;
		if (!found)
			return false;
	}
	for (size_t i = 0; i < m->nprotos; i++) {
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = v[k].proto == m->protos[i] && v[k].port < 0;
		if (!found)
			return false;
	}
	return true;
}

/* Is point x a packet of match m? */
static bool service_holds(const struct pol_match *m, const struct summary_svc *x)
{
	for (size_t i = 0; i < m->nports; i++)
		if (m->ports[i].proto == x->proto && x->port >= m->ports[i].lo &&
		    x->port <= m->ports[i].hi)
			return true;
	for (size_t i = 0;
	     x->port >= 0 && x->family == 4 && x->proto == IPPROTO_ICMP && i < m->nicmp; i++)
		if (m->icmp[i] == x->port)
			return true;
	for (size_t i = 0;
	     x->port >= 0 && x->family == 6 && x->proto == IPPROTO_ICMPV6 && i < m->nicmp6; i++)
		if (m->icmp6[i] == x->port)
			return true;
	for (size_t i = 0; x->port < 0 && i < m->nprotos; i++)
		if (m->protos[i] == x->proto)
			return true;
	return false;
}

/*
 * What makes a suggested accept rule dangerous to take as it is: opening a
 * zone to the internet or to addresses no segment holds, or opening a
 * management zone (the anti-lockout zones) to anyone. Denied traffic of that
 * kind is as often an attack or a misconfiguration as a missing rule.
 */
static const char *suggestion_risk(const struct policy *p, const char *from, const char *to)
{
	for (size_t i = 0; i < p->nzones; i++) {
		const struct pol_zone *z = &p->zones[i];
		if (strcmp(z->name, from) == 0 && z->kind == POL_ZONE_INTERNET)
			return "from the internet";
		if (strcmp(z->name, from) == 0 && z->kind == POL_ZONE_UNASSIGNED)
			return "from addresses in no segment";
	}
	for (size_t i = 0; i < p->nmanagement; i++)
		if (strcmp(p->zones[p->management[i]].name, to) == 0)
			return "into a management zone";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Host-level ends: the observed hosts as an object */

/* Normalized ranges as text, equal for equal ranges: malloc'ed, or NULL. */
static char *ranges_key(const struct pol_ranges *r)
{
	size_t cap = r->n * 2 * IP_PREFIX_STRLEN + 1;
	char *k = malloc(cap), *o = k;
	for (size_t i = 0; k && i < r->n; i++) {
		char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
		ip_addr_format(&r->v[i].first, a, sizeof(a));
		ip_addr_format(&r->v[i].last, b, sizeof(b));
		o += sprintf(o, "%s-%s,", a, b);
	}
	if (k)
		*o = 0;
	return k;
}

/* Does every address of r lie in zone (by the city's classification)? */
static bool within_zone(const struct pol_table *city, const struct pol_ranges *r, const char *zone)
{
	for (size_t i = 0; i < r->n; i++) {
		struct pol_class c1, c2;
		pol_classify(city, &r->v[i].first, &c1);
		pol_classify(city, &r->v[i].last, &c2);
		if (strcmp(pol_table_zone_name(city, c1.zone), zone) != 0 ||
		    strcmp(pol_table_zone_name(city, c2.zone), zone) != 0)
			return false;
		if (!ip_addr_cmp(&r->v[i].first, &r->v[i].last))
			continue;
		/* A range of several addresses: one range of the zone partition holds it. */
		const struct pol_range *z =
		    pol_ranges_find(pol_table_clist(city, POL_L_ZONES), &r->v[i].first);
		if (!z || ip_addr_cmp(&z->last, &r->v[i].last) < 0)
			return false;
	}
	return true;
}

/* Addresses as text (they parse: the model keeps addresses only), by address. */
static int cmp_addr_text(const void *x, const void *y)
{
	struct ip_addr a, b;
	if (ip_addr_parse(*(char *const *)x, &a) < 0 || ip_addr_parse(*(char *const *)y, &b) < 0)
		return strcmp(*(char *const *)x, *(char *const *)y);
	return ip_addr_cmp(&a, &b);
}

static bool object_name_taken(const struct sctx *x, const char *s)
{
	const struct audit *a = x->a;
	return policy_find_zone(a->p, s) >= 0 || policy_find_object(a->p, s) >= 0 ||
	       policy_find_group(a->p, s) >= 0 || inventory_find_host(a->inv, s) >= 0 ||
	       intern_find(&x->names, s) >= 0;
}

/*
 * End e of suggestion s as the observed hosts (n sorted addresses): each
 * address stands for its host of hosts.csv, or for itself. The object is an
 * object of the policy that holds exactly those addresses, one made for an
 * earlier suggestion, or a new one named after the rule ("ID-src",
 * "ID-dst"). r->objects has room for it. 0 or -ENOMEM.
 */
static int end_object(struct sctx *x, struct audit_suggestion *s, int e, char *const *addrs,
		      size_t n, const char *zone)
{
	const struct audit *a = x->a;
	struct audit_report *r = x->r;
	const struct inventory *inv = a->inv;
	struct audit_object o = {0};
	bool *used = calloc(inv->nhosts + 1, sizeof(*used));
	char *key = NULL;
	int rc = -ENOMEM;
	if (!used || !(o.items = calloc(n + 1, sizeof(*o.items))))
		goto out;
	/* The hosts' names first, in the order of hosts.csv, then the other addresses. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			struct ip_addr ip;
			if (ip_addr_parse(addrs[i], &ip) < 0) {
				rc = -EINVAL; /* the model keeps addresses only */
				goto out;
			}
			int h = audit_host_of(inv, &ip);
			if (pass == 0 && h >= 0 && !used[h]) {
				used[h] = true;
				for (size_t k = 0; k < inv->hosts[h].naddrs; k++)
					if (pol_ranges_add_prefix(&o.addrs, &inv->hosts[h].addrs[k],
								  0))
						goto out;
			} else if (pass == 1 && h < 0) {
				if (pol_ranges_add(&o.addrs, &ip, &ip, 0) ||
				    !(o.items[o.nitems++] = strdup(addrs[i])))
					goto out;
			}
		}
	/* The addresses in address order, after the hosts' names in the order of hosts.csv. */
	qsort(o.items, o.nitems, sizeof(*o.items), cmp_addr_text);
	size_t nbare = o.nitems, nnames = 0;
	for (size_t h = 0; h < inv->nhosts; h++)
		nnames += used[h];
	char **items = calloc(nbare + nnames + 1, sizeof(*items));
	if (!items)
		goto out;
	size_t k = 0;
	for (size_t h = 0; h < inv->nhosts; h++)
		if (used[h] && !(items[k++] = strdup(inv->hosts[h].name))) {
			for (size_t j = 0; j < k - 1; j++)
				free(items[j]);
			free(items);
			goto out;
		}
	if (nbare)
		memcpy(items + k, o.items, nbare * sizeof(*items));
	free(o.items);
	o.items = items;
	o.nitems = nbare + nnames;
	if (pol_ranges_normalize(&o.addrs))
		goto out;
	s->zoned[e] = !within_zone(a->city, &o.addrs, zone);
	bool added;
	long ok = (key = ranges_key(&o.addrs)) ? intern_get(&x->okeys, key, &added) : -ENOMEM;
	if (ok < 0)
		goto out;
	if (!added) {
		s->object[e] = (int)ok;
		rc = 0;
		goto out;
	}
	long pk = intern_find(&x->pkeys, key);
	if (pk >= 0) {
		o.existing = true;
		o.name = strdup(a->p->objects[x->pobj[pk]].name);
	} else {
		char base[64], name[80];
		snprintf(base, sizeof(base), "%.40s-%s", s->id, e ? "dst" : "src");
		snprintf(name, sizeof(name), "%s", base);
		for (int i = 2; object_name_taken(x, name); i++)
			snprintf(name, sizeof(name), "%s-%d", base, i);
		if (intern_get(&x->names, name, NULL) >= 0)
			o.name = strdup(name);
	}
	if (!o.name)
		goto out;
	s->object[e] = (int)r->nobjects;
	r->objects[r->nobjects++] = o;
	memset(&o, 0, sizeof(o));
	rc = 0;
out:
	audit_object_free(&o);
	free(used);
	free(key);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Units: the points of a group with the same observed hosts, one rule each */

struct unit {
	const struct audit *a;
	size_t g;
	size_t *pts; /* points of the group, by service */
	size_t npts;
	int before; /* smallest deny rule of its points, -1: only the default */
	struct summary_counts c;
};

/* Do points x and y have the same ends: both open, or the same hosts? */
static bool same_ends(const struct gpoint *x, const struct gpoint *y)
{
	for (int e = 0; e < 2; e++) {
		if (x->open[e] != y->open[e])
			return false;
		if (x->open[e])
			continue;
		if (x->nhosts[e] != y->nhosts[e])
			return false;
		for (size_t i = 0; i < x->nhosts[e]; i++)
			if (strcmp(x->hosts[e][i], y->hosts[e][i]) != 0)
				return false;
	}
	return true;
}

/*
 * The narrowest scope every observed connection of the unit passed: what
 * the summaries counted where they count it, else what the observed hosts
 * say when both ends are known (all at one site, all in one district, every
 * destination in the data centres).
 */
static enum pol_scope unit_scope(const struct audit *a, const struct unit *u)
{
	const struct group *g = &a->grp[u->g];
	const struct gpoint *p0 = &g->pt[u->pts[0]];
	uint64_t flows = 0, n[SUMMARY_NSCOPE] = {0};
	bool open[SUMMARY_NSCOPE] = {0}, holds[SUMMARY_NSCOPE];
	for (size_t i = 0; i < u->npts; i++) {
		const struct gpoint *pt = &g->pt[u->pts[i]];
		flows += pt->c.flows;
		for (int k = 0; k < SUMMARY_NSCOPE; k++) {
			n[k] += pt->scope[k];
			open[k] |= pt->scope_open[k];
		}
	}
	for (int k = 0; k < SUMMARY_NSCOPE; k++)
		holds[k] = flows && !open[k] && n[k] == flows;
	if (flows && !p0->open[0] && !p0->open[1]) {
		int site = -2, district = -2;
		bool dc = true;
		for (int e = 0; e < 2; e++)
			for (size_t i = 0; i < p0->nhosts[e]; i++) {
				struct ip_addr ip;
				struct pol_class c;
				if (ip_addr_parse(p0->hosts[e][i], &ip) < 0)
					return POL_SCOPE_ANY;
				pol_classify(a->city, &ip, &c);
				int d = c.site >= 0 ? (int)a->inv->sites[c.site].district : -1;
				site = site == -2 || site == c.site ? c.site : -1;
				district = district == -2 || district == d ? d : -1;
				dc &= e == 0 || c.dc;
			}
		holds[SUMMARY_SAME_SITE] |= site >= 0;
		holds[SUMMARY_SAME_DISTRICT] |= district >= 0;
		holds[SUMMARY_DST_DC] |= dc;
	}
	if (holds[SUMMARY_SAME_SITE])
		return POL_SCOPE_SAME_SITE;
	if (holds[SUMMARY_SAME_DISTRICT])
		return POL_SCOPE_SAME_DISTRICT;
	if (holds[SUMMARY_DST_DC])
		return POL_SCOPE_DC_ONLY;
	return POL_SCOPE_ANY;
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;
	return (a > b) - (a < b);
}

static int suggest_one(struct sctx *x, const struct unit *u, struct audit_suggestion *s)
{
	const struct audit *a = x->a;
	struct audit_report *r = x->r;
	const struct policy *p = a->p;
	const struct group *g = &a->grp[u->g];
	size_t n = u->npts, ncuts = 0;
	struct summary_svc *v = calloc(n + 1, sizeof(*v));
	struct summary_svc *rest = calloc(n + 1, sizeof(*rest));
	bool *used = calloc(n + 1, sizeof(*used));
	int rc = -ENOMEM;
	s->object[0] = s->object[1] = -1;
	if (!v || !rest || !used)
		goto out;
	for (size_t i = 0; i < n; i++) {
		v[i] = g->pt[u->pts[i]].svc;
		ncuts += g->pt[u->pts[i]].nrules;
	}
	s->site = g->site;
	s->before = u->before;
	s->c = u->c;
	const char *site = g->site >= 0 ? a->inv->sites[g->site].id : NULL;
	if (audit_dup_str(&s->from, g->from) || audit_dup_str(&s->to, g->to) ||
	    !(s->id = make_id(x, site, g->from, g->to)))
		goto out;
	if (!(s->items = calloc(n + 1, sizeof(*s->items))))
		goto out;
	s->nitems = points_to_items(v, n, s->items);
	/* Named services of the policy that lie wholly within what was seen
	 * are reused; the rest becomes one new service named like the rule. */
	s->services = calloc(p->nservices + 2, sizeof(*s->services));
	if (!s->services)
		goto out;
	for (size_t i = 0; i < p->nservices; i++) {
		const struct pol_match *m = &p->services[i].match;
		if (!service_within(m, v, n))
			continue;
		if (!(s->services[s->nservices] = strdup(p->services[i].name)))
			goto out;
		s->nservices++;
		for (size_t k = 0; k < n; k++)
			used[k] |= service_holds(m, &v[k]);
	}
	size_t nrest = 0;
	for (size_t k = 0; k < n; k++)
		if (!used[k])
			rest[nrest++] = v[k];
	if (nrest) {
		struct audit_service *sv = &r->services[r->nservices];
		if (!(sv->items = calloc(nrest + 1, sizeof(*sv->items))) ||
		    !(sv->name = strdup(s->id)) || !(s->services[s->nservices] = strdup(s->id))) {
			free(sv->items);
			free(sv->name);
			sv->items = NULL;
			sv->name = NULL;
			goto out;
		}
		sv->nitems = points_to_items(rest, nrest, sv->items);
		r->nservices++;
		s->nservices++;
	}
	/* The ends: the observed hosts when all are known and few. */
	const struct gpoint *p0 = &g->pt[u->pts[0]];
	for (int e = 0; e < 2; e++)
		if (!p0->open[e] && p0->nhosts[e] &&
		    (rc = end_object(x, s, e, p0->hosts[e], p0->nhosts[e], e ? g->to : g->from)))
			goto out;
	rc = -ENOMEM;
	s->scope = unit_scope(a, u);
	/* The deny rules it would override for the connections it was made for. */
	if (!(s->cuts = calloc(ncuts + 1, sizeof(*s->cuts))))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct gpoint *pt = &g->pt[u->pts[i]];
		for (size_t k = 0; k < pt->nrules; k++) {
			bool dup = false;
			for (size_t j = 0; j < s->ncuts; j++)
				dup |= s->cuts[j] == pt->rules[k];
			if (!dup)
				s->cuts[s->ncuts++] = pt->rules[k];
		}
	}
	qsort(s->cuts, s->ncuts, sizeof(*s->cuts), cmp_int);
	s->risk = suggestion_risk(p, g->from, g->to);
	char comment[512];
	int len =
	    snprintf(comment, sizeof(comment),
		     "suggested by audit: %" PRIu64 " flows, %" PRIu64 " bytes, review%s%s",
		     u->c.flows, u->c.bytes, s->risk ? " with care: " : "", s->risk ? s->risk : "");
	for (size_t i = 0; i < s->ncuts && len > 0 && (size_t)len < sizeof(comment); i++)
		len += snprintf(comment + len, sizeof(comment) - (size_t)len, "%s%s",
				i ? ", " : "; cuts through ", p->rules[s->cuts[i]].id);
	if (audit_dup_str(&s->comment, comment) || audit_dup_str(&s->owner, a->owner))
		goto out;
	rc = 0;
out:
	free(v);
	free(rest);
	free(used);
	return rc;
}

static int cmp_unit(const void *x, const void *y)
{
	const struct unit *p = x, *q = y;
	const struct audit *au = p->a;
	const struct group *a = &au->grp[p->g], *b = &au->grp[q->g];
	if (a->site != b->site) {
		if (a->site < 0 || b->site < 0)
			return a->site < 0 ? -1 : 1;
		return strcmp(au->inv->sites[a->site].id, au->inv->sites[b->site].id);
	}
	/* Only city-wide groups can end at the default: those after the others. */
	int ba = p->before < 0 ? INT32_MAX : p->before, bb = q->before < 0 ? INT32_MAX : q->before;
	if (ba != bb)
		return ba < bb ? -1 : 1;
	if (p->c.flows != q->c.flows)
		return p->c.flows > q->c.flows ? -1 : 1;
	int c = strcmp(a->from, b->from);
	if (c || (c = strcmp(a->to, b->to)))
		return c;
	return audit_cmp_svc(&a->pt[p->pts[0]].svc, &b->pt[q->pts[0]].svc);
}

struct pref {
	const struct group *g;
	size_t k;
};

static int cmp_pref(const void *x, const void *y)
{
	const struct pref *a = x, *b = y;
	return audit_cmp_svc(&a->g->pt[a->k].svc, &b->g->pt[b->k].svc);
}

/* The units of group g appended to u (room for one per point); where[k] gets point k's unit. */
static int group_units(const struct audit *a, size_t g, struct unit *u, size_t *nu, long *where)
{
	const struct group *gr = &a->grp[g];
	size_t n = gr->pts.n, first = *nu;
	struct pref *o = calloc(n + 1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		o[k] = (struct pref){gr, k};
	qsort(o, n, sizeof(*o), cmp_pref);
	for (size_t i = 0; i < n; i++) {
		const struct gpoint *pt = &gr->pt[o[i].k];
		size_t j = first;
		while (j < *nu && !same_ends(&gr->pt[u[j].pts[0]], pt))
			j++;
		if (j == *nu) {
			u[j] = (struct unit){.a = a, .g = g, .before = -1};
			if (!(u[j].pts = calloc(n + 1, sizeof(*u[j].pts)))) {
				free(o);
				return -ENOMEM;
			}
			(*nu)++;
		}
		struct unit *x = &u[j];
		x->pts[x->npts++] = o[i].k;
		x->c.flows += pt->c.flows;
		x->c.packets += pt->c.packets;
		x->c.bytes += pt->c.bytes;
		for (size_t k = 0; k < pt->nrules; k++)
			if (x->before < 0 || pt->rules[k] < x->before)
				x->before = pt->rules[k];
		where[o[i].k] = (long)j;
	}
	free(o);
	return 0;
}

struct uorder {
	struct unit *u;
	size_t i;
};

static int cmp_uorder(const void *x, const void *y)
{
	return cmp_unit(((const struct uorder *)x)->u, ((const struct uorder *)y)->u);
}

/* The policy's objects by the text of their ranges (the first of equal ones). */
static int index_policy_objects(struct sctx *x)
{
	const struct policy *p = x->a->p;
	if (!(x->pobj = calloc(p->nobjects + 1, sizeof(*x->pobj))))
		return -ENOMEM;
	for (size_t i = 0; i < p->nobjects; i++) {
		char *key = ranges_key(&p->objects[i].addrs);
		bool added;
		long k = key ? intern_get(&x->pkeys, key, &added) : -ENOMEM;
		free(key);
		if (k < 0)
			return -ENOMEM;
		if (added)
			x->pobj[k] = (int)i;
	}
	return 0;
}

int audit_build_suggestions(const struct audit *a, struct audit_report *r, const long *order)
{
	size_t ng = a->gkeys.n, np = 0, nu = 0;
	for (size_t g = 0; g < ng; g++)
		np += a->grp[g].pts.n;
	struct sctx x = {.a = a, .r = r};
	struct unit *u = calloc(np + 1, sizeof(*u));
	long **where = calloc(ng + 1, sizeof(*where)); /* group, point -> unit */
	long *rank = calloc(np + 1, sizeof(*rank));    /* unit -> suggestion */
	struct uorder *o = calloc(np + 1, sizeof(*o));
	r->suggestions = calloc(np + 1, sizeof(*r->suggestions));
	r->services = calloc(np + 1, sizeof(*r->services));
	r->objects = calloc(2 * np + 1, sizeof(*r->objects));
	int rc = -ENOMEM;
	if (!u || !where || !rank || !o || !r->suggestions || !r->services || !r->objects ||
	    index_policy_objects(&x))
		goto out;
	for (size_t g = 0; g < ng; g++)
		if (!(where[g] = calloc(a->grp[g].pts.n + 1, sizeof(**where))) ||
		    group_units(a, g, u, &nu, where[g]))
			goto out;
	/* Sorted, the units become the suggestions. */
	for (size_t i = 0; i < nu; i++)
		o[i] = (struct uorder){&u[i], i};
	qsort(o, nu, sizeof(*o), cmp_uorder);
	for (size_t k = 0; k < nu; k++) {
		rank[o[k].i] = (long)k;
		r->nsuggestions++;
		if ((rc = suggest_one(&x, o[k].u, &r->suggestions[k])))
			goto out;
	}
	/* A denial points at its city-wide suggestion when it has one, else at
	 * the first of its sites'. */
	for (size_t i = 0; i < a->dkeys.n; i++) {
		const struct den *d = &a->den[i];
		struct audit_denial *out = &r->denials[order[i]];
		for (size_t j = 0; j < d->ngroups; j++) {
			long s = rank[where[d->groups[j]][d->points[j]]];
			if (out->suggestion < 0 || s < out->suggestion)
				out->suggestion = (int)s;
		}
		if (!d->ngroups)
			r->unresolved++;
	}
	rc = 0;
out:
	for (size_t i = 0; u && i < nu; i++)
		free(u[i].pts);
	for (size_t g = 0; where && g < ng; g++)
		free(where[g]);
	free(u);
	free(where);
	free(rank);
	free(o);
	free(x.pobj);
	intern_free(&x.ids);
	intern_free(&x.names);
	intern_free(&x.pkeys);
	intern_free(&x.okeys);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The policy.yaml fragment */

struct buf {
	char *s;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || grow_array(&b->s, &b->cap, b->n + (size_t)k + 1, 1)) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

/* A YAML double-quoted scalar (YAML 1.2, 7.3.1). */
static void put_quoted(struct buf *b, const char *s)
{
	put(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			put(b, "\\x%02x", (unsigned char)*s);
		else
			put(b, "%c", *s);
	}
	put(b, "\"");
}

/* `{tcp: [445, 5000-5002], icmp: [echo-request], protocols: [gre]}` */
static void put_service(struct buf *b, const struct audit_item *v, size_t n)
{
	/* policy.yaml's keys: one per protocol with ports, then ICMP types, whole protocols. */
	struct svc_key {
		const char *key;
		uint8_t proto, family;
	} keys[256 + 3];
	size_t nkeys = 0;
	for (unsigned p = 0; p < 256; p++)
		if (proto_has_ports((uint8_t)p))
			keys[nkeys++] = (struct svc_key){proto_name((uint8_t)p), (uint8_t)p, 0};
	keys[nkeys++] = (struct svc_key){"icmp", IPPROTO_ICMP, 4};
	keys[nkeys++] = (struct svc_key){"icmpv6", IPPROTO_ICMPV6, 6};
	keys[nkeys++] = (struct svc_key){"protocols", 0, 0};
	bool first_key = true;
	put(b, "{");
	for (size_t k = 0; k < nkeys; k++) {
		bool whole = keys[k].proto == 0, any = false;
		for (size_t i = 0; i < n; i++) {
			const struct audit_item *it = &v[i];
			bool mine = whole ? it->lo < 0
					  : it->lo >= 0 && it->proto == keys[k].proto &&
						(!keys[k].family || it->family == keys[k].family);
			if (!mine)
				continue;
			put(b, "%s", any ? ", " : first_key ? "" : ", ");
			if (!any)
				put(b, "%s: [", keys[k].key);
			any = true;
			first_key = false;
			const char *name = NULL;
			if (whole) {
				name = proto_name(it->proto);
				if (name && proto_parse(name) != it->proto)
					name = NULL;
				if (name)
					put(b, "%s", name);
				else
					put(b, "%u", it->proto);
			} else if (keys[k].family) {
				name = proto_icmp_name(keys[k].family, (uint8_t)it->lo);
				if (name)
					put(b, "%s", name);
				else
					put(b, "%d", it->lo);
			} else if (it->hi > it->lo) {
				put(b, "%d-%d", it->lo, it->hi);
			} else {
				put(b, "%d", it->lo);
			}
		}
		if (any)
			put(b, "]");
	}
	put(b, "}");
}

/* A side: the zone, the object of the observed hosts, or both ({zone: Z, object: O}). */
static void put_end(struct buf *b, const struct audit_report *r, const struct audit_suggestion *s,
		    int e)
{
	const char *zone = e ? s->to : s->from;
	if (s->object[e] < 0)
		put(b, "[%s]", zone);
	else if (s->zoned[e])
		put(b, "{zone: %s, object: %s}", zone, r->objects[s->object[e]].name);
	else
		put(b, "[%s]", r->objects[s->object[e]].name);
}

static void put_rule(struct buf *b, const struct audit_report *r, const struct audit_suggestion *s,
		     const struct policy *p, const char *ind)
{
	if (s->risk)
		put(b, "%s# review with care: %s\n", ind, s->risk);
	for (size_t i = 0; i < s->ncuts; i++)
		put(b, "%s%s%s (%s)%s", i ? ", " : ind,
		    i ? "" : "# cuts through: ", p->rules[s->cuts[i]].id,
		    pol_action_names[p->rules[s->cuts[i]].action], i + 1 < s->ncuts ? "" : "\n");
	if (s->before >= 0)
		put(b, "%s# insert before: %s\n", ind, p->rules[s->before].id);
	else
		put(b, "%s# insert at the end, before the default\n", ind);
	put(b, "%s- id: %s\n%s  from: ", ind, s->id, ind);
	put_end(b, r, s, 0);
	put(b, "\n%s  to: ", ind);
	put_end(b, r, s, 1);
	put(b, "\n%s  services: [", ind);
	for (size_t i = 0; i < s->nservices; i++)
		put(b, "%s%s", i ? ", " : "", s->services[i]);
	put(b, "]\n%s  scope: %s\n%s  action: accept\n%s  comment: ", ind,
	    pol_scope_names[s->scope], ind, ind);
	put_quoted(b, s->comment);
	put(b, "\n%s  owner: ", ind);
	put_quoted(b, s->owner);
	put(b, "\n");
}

char *audit_suggest_yaml(const struct audit_report *r, const struct policy *p,
			 const struct inventory *inv)
{
	struct buf b = {0};
	size_t city = 0;
	put(&b,
	    "# Rules suggested by `segplan audit` for the denied traffic of %zu summaries,\n"
	    "# %s to %s, policy %s.\n"
	    "# For review: nothing here is applied. Each rule belongs in policy.yaml before\n"
	    "# the rule its comment names, or at the end of its list, before the default\n"
	    "# drop; the services go under `services:`, the objects under `objects:`.\n",
	    r->nsummaries, r->start ? r->start : "-", r->end ? r->end : "-", r->hash);
	size_t nnew = 0;
	for (size_t i = 0; i < r->nobjects; i++)
		nnew += !r->objects[i].existing;
	if (nnew)
		put(&b, "objects:\n");
	for (size_t i = 0; i < r->nobjects; i++) {
		const struct audit_object *o = &r->objects[i];
		if (o->existing)
			continue;
		put(&b, "  %s: [", o->name);
		for (size_t k = 0; k < o->nitems; k++) {
			put(&b, "%s", k ? ", " : "");
			/* addresses quoted: an IPv6 address is no plain YAML scalar */
			if (inventory_find_host(inv, o->items[k]) >= 0)
				put(&b, "%s", o->items[k]);
			else
				put_quoted(&b, o->items[k]);
		}
		put(&b, "]\n");
	}
	if (r->nservices) {
		put(&b, "services:\n");
		for (size_t i = 0; i < r->nservices; i++) {
			put(&b, "  %s: ", r->services[i].name);
			put_service(&b, r->services[i].items, r->services[i].nitems);
			put(&b, "\n");
		}
	}
	for (size_t i = 0; i < r->nsuggestions; i++)
		city += r->suggestions[i].site < 0;
	put(&b, "rules:%s\n", city ? "" : " []");
	for (size_t i = 0; i < r->nsuggestions; i++)
		if (r->suggestions[i].site < 0)
			put_rule(&b, r, &r->suggestions[i], p, "  ");
	int site = -1;
	for (size_t i = 0; i < r->nsuggestions; i++) {
		const struct audit_suggestion *s = &r->suggestions[i];
		if (s->site < 0)
			continue;
		if (site < 0)
			put(&b, "sites:\n");
		if (s->site != site)
			put(&b, "  %s:\n    rules:\n", inv->sites[s->site].id);
		site = s->site;
		put_rule(&b, r, s, p, "      ");
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
