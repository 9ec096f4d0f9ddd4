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

/* ------------------------------------------------------------------ */
/* The suggested rules */

static bool name_taken(const struct policy *p, const struct audit_report *r, const char *s)
{
	if (policy_find_rule(p, s) >= 0)
		return true;
	for (size_t i = 0; i < p->nservices; i++)
		if (strcmp(p->services[i].name, s) == 0)
			return true;
	for (size_t i = 0; i < r->nsuggestions; i++)
		if (r->suggestions[i].id && strcmp(r->suggestions[i].id, s) == 0)
			return true;
	return false;
}

/* "audit-[site-]from-to", in the characters both rule ids and service
 * names allow (a-z 0-9 _ -), at most 48, unique in the policy. */
static char *make_id(const struct policy *p, const struct audit_report *r, const char *site,
		     const char *from, const char *to)
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
	for (int n = 2; name_taken(p, r, id); n++)
		snprintf(id, sizeof(id), "%.40s-%d", base, n);
	return strdup(id);
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

static int cmp_svc_v(const void *x, const void *y)
{
	return audit_cmp_svc(x, y);
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

static int suggest_one(const struct audit *a, const struct group *g, struct audit_report *r,
		       struct audit_suggestion *s)
{
	const struct policy *p = a->p;
	size_t n = g->pts.n;
	struct summary_svc *v = calloc(n + 1, sizeof(*v));
	struct summary_svc *rest = calloc(n + 1, sizeof(*rest));
	bool *used = calloc(n + 1, sizeof(*used));
	int rc = -ENOMEM;
	if (!v || !rest || !used)
		goto out;
	memcpy(v, g->svc, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_svc_v);
	s->site = g->site;
	s->before = g->before;
	s->c = g->c;
	const char *site = g->site >= 0 ? a->inv->sites[g->site].id : NULL;
	if (audit_dup_str(&s->from, g->from) || audit_dup_str(&s->to, g->to) ||
	    !(s->id = make_id(p, r, site, g->from, g->to)))
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
	s->risk = suggestion_risk(p, g->from, g->to);
	char comment[160];
	snprintf(comment, sizeof(comment),
		 "suggested by audit: %" PRIu64 " flows, %" PRIu64 " bytes, review%s%s", g->c.flows,
		 g->c.bytes, s->risk ? " with care: " : "", s->risk ? s->risk : "");
	if (audit_dup_str(&s->comment, comment) || audit_dup_str(&s->owner, a->owner))
		goto out;
	rc = 0;
out:
	free(v);
	free(rest);
	free(used);
	return rc;
}

struct gorder {
	const struct audit *a;
	size_t i;
};

static int cmp_group(const void *x, const void *y)
{
	const struct gorder *p = x, *q = y;
	const struct group *a = &p->a->grp[p->i], *b = &q->a->grp[q->i];
	if (a->site != b->site) {
		if (a->site < 0 || b->site < 0)
			return a->site < 0 ? -1 : 1;
		return strcmp(p->a->inv->sites[a->site].id, p->a->inv->sites[b->site].id);
	}
	/* Only city-wide groups can end at the default: those after the others. */
	int ba = a->before < 0 ? INT32_MAX : a->before, bb = b->before < 0 ? INT32_MAX : b->before;
	if (ba != bb)
		return ba < bb ? -1 : 1;
	if (a->c.flows != b->c.flows)
		return a->c.flows > b->c.flows ? -1 : 1;
	int c = strcmp(a->from, b->from);
	return c ? c : strcmp(a->to, b->to);
}

int audit_build_suggestions(const struct audit *a, struct audit_report *r, const long *order)
{
	size_t n = a->gkeys.n;
	struct gorder *o = calloc(n + 1, sizeof(*o));
	long *where = calloc(n + 1, sizeof(*where));
	r->suggestions = calloc(n + 1, sizeof(*r->suggestions));
	r->services = calloc(n + 1, sizeof(*r->services));
	int rc = -ENOMEM;
	if (!o || !where || !r->suggestions || !r->services)
		goto out;
	for (size_t i = 0; i < n; i++)
		o[i] = (struct gorder){a, i};
	qsort(o, n, sizeof(*o), cmp_group);
	for (size_t k = 0; k < n; k++) {
		where[o[k].i] = (long)k;
		r->nsuggestions++;
		if (suggest_one(a, &a->grp[o[k].i], r, &r->suggestions[k]))
			goto out;
	}
	/* A denial points at its city-wide suggestion when it has one, else at
	 * the first of its sites'. */
	for (size_t i = 0; i < a->dkeys.n; i++) {
		const struct den *d = &a->den[i];
		struct audit_denial *out = &r->denials[order[i]];
		for (size_t j = 0; j < d->ngroups; j++) {
			long s = where[d->groups[j]];
			if (out->suggestion < 0 || s < out->suggestion)
				out->suggestion = (int)s;
		}
		if (!d->ngroups)
			r->unresolved++;
	}
	rc = 0;
out:
	free(o);
	free(where);
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

static void put_rule(struct buf *b, const struct audit_suggestion *s, const struct policy *p,
		     const char *ind)
{
	if (s->risk)
		put(b, "%s# review with care: %s\n", ind, s->risk);
	if (s->before >= 0)
		put(b, "%s# insert before: %s\n", ind, p->rules[s->before].id);
	else
		put(b, "%s# insert at the end, before the default\n", ind);
	put(b, "%s- id: %s\n", ind, s->id);
	put(b, "%s  from: [%s]\n", ind, s->from);
	put(b, "%s  to: [%s]\n", ind, s->to);
	put(b, "%s  services: [", ind);
	for (size_t i = 0; i < s->nservices; i++)
		put(b, "%s%s", i ? ", " : "", s->services[i]);
	put(b, "]\n%s  scope: any\n%s  action: accept\n%s  comment: ", ind, ind, ind);
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
	    "# drop; the services go under `services:`.\n",
	    r->nsummaries, r->start ? r->start : "-", r->end ? r->end : "-", r->hash);
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
			put_rule(&b, &r->suggestions[i], p, "  ");
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
		put_rule(&b, s, p, "      ");
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
