// SPDX-License-Identifier: MIT
#include "compile/compile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile/gateway.h"
#include "core/atomic.h"
#include "core/sha256.h"
#include "core/timewin.h"
#include "core/version.h"

#define NAME_MAX_LEN 200 /* nft names may be longer (NFT_NAME_MAXLEN 256); keep a margin */

/* ------------------------------------------------------------------ */
/* The city-wide build */

struct pol_build {
	const struct policy *p;
	const struct inventory *inv;
	struct pol_ranges part;	      /* segments and VPN pools: val = policy zone */
	struct pol_ranges city;	      /* the city plan */
	struct pol_ranges sites;      /* segments: val = site index */
	struct pol_ranges *districts; /* per district: its sites' segments */
	struct pol_ranges dc;	      /* data-centre networks */
	struct pol_ranges mgmt;	      /* management zones, for the anti-lockout rule */
	size_t *seg_start; /* segments of site s: seg_index[seg_start[s]..seg_start[s+1]) */
	size_t *seg_index;
	bool *site_dc;		  /* some segment of the site lies in the data-centre networks */
	struct pol_ranges self;	  /* the gateways' own interface addresses: val = site */
	struct pol_ranges *gwto;  /* per policy rule: a gateway service's gateways' addresses */
	struct pol_ranges *terms; /* per policy term: its addresses */
	bool *term_site;	  /* [term * nsites + site]: the term has an address there */
	char hash[80];
};

static int add_segment(struct pol_ranges *r, const struct segment *s, int val)
{
	int rc = 0;
	if (s->has_v4)
		rc = pol_ranges_add_prefix(r, &s->v4, val);
	if (rc == 0 && s->has_v6)
		rc = pol_ranges_add_prefix(r, &s->v6, val);
	return rc;
}

static json_t *canon_match(const struct pol_match *m)
{
	json_t *o = json_object();
	json_t *p = json_array();
	for (size_t i = 0; i < m->nports; i++)
		json_array_append_new(
		    p, json_pack("[iii]", m->ports[i].proto, m->ports[i].lo, m->ports[i].hi));
	json_object_set_new(o, "ports", p);
	json_t *a = json_array();
	for (size_t i = 0; i < m->nicmp; i++)
		json_array_append_new(a, json_integer(m->icmp[i]));
	json_object_set_new(o, "icmp", a);
	a = json_array();
	for (size_t i = 0; i < m->nicmp6; i++)
		json_array_append_new(a, json_integer(m->icmp6[i]));
	json_object_set_new(o, "icmpv6", a);
	a = json_array();
	for (size_t i = 0; i < m->nprotos; i++)
		json_array_append_new(a, json_integer(m->protos[i]));
	json_object_set_new(o, "protocols", a);
	return o;
}

static json_t *canon_ints(const struct policy *p, const int *v, size_t n, bool any, bool zones)
{
	if (any)
		return json_string("any");
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    a, json_string(zones ? p->zones[v[i]].name : p->services[v[i]].name));
	return a;
}

static json_t *canon_side(const struct policy *p, const struct pol_rside *sd)
{
	if (sd->any)
		return json_string("any");
	json_t *a = json_array();
	for (size_t i = 0; i < sd->nzones; i++)
		json_array_append_new(a, json_string(p->zones[sd->zones[i]].name));
	for (size_t i = 0; i < sd->nterms; i++)
		json_array_append_new(a, json_pack("{s:s}", "term", p->terms[sd->terms[i]].label));
	return a;
}

static json_t *ranges_canon(const struct pol_ranges *rs)
{
	json_t *a = json_array();
	for (size_t i = 0; i < rs->n; i++) {
		char x[IP_PREFIX_STRLEN], y[IP_PREFIX_STRLEN];
		ip_addr_format(&rs->v[i].first, x, sizeof(x));
		ip_addr_format(&rs->v[i].last, y, sizeof(y));
		json_array_append_new(a, json_pack("[ss]", x, y));
	}
	return a;
}

static json_t *prefix_json(const struct ip_prefix *pf, bool has)
{
	char buf[IP_PREFIX_STRLEN];
	if (!has)
		return json_null();
	ip_prefix_format(pf, buf, sizeof(buf));
	return json_string(buf);
}

/*
 * The hash covers what decides the rulesets: the parsed policy (not its
 * formatting or comments in YAML) and the inventory's sites, segments and
 * address plan, as compact JSON in a fixed order.
 */
static int build_hash(struct pol_build *b)
{
	const struct policy *p = b->p;
	const struct inventory *inv = b->inv;
	json_t *c = json_object();
	json_t *a = json_array();
	for (size_t i = 0; i < p->nzones; i++)
		json_array_append_new(
		    a, json_pack("[ss]", p->zones[i].name, pol_zone_kind_names[p->zones[i].kind]));
	json_object_set_new(c, "zones", a);
	a = json_array();
	for (size_t i = 0; i < p->nservices; i++)
		json_array_append_new(
		    a, json_pack("[so]", p->services[i].name, canon_match(&p->services[i].match)));
	json_object_set_new(c, "services", a);
	a = json_array();
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];
		json_t *o =
		    json_pack("{s:s,s:o,s:o,s:o,s:s,s:s,s:b,s:s,s:b,s:s?}", "id", r->id, "from",
			      canon_side(p, &r->from), "to", canon_side(p, &r->to), "services",
			      canon_ints(p, r->services, r->nservices, r->svc_any, false), "scope",
			      pol_scope_names[r->scope], "action", pol_action_names[r->action],
			      "log", r->log, "expires", r->expires, "expired", r->expired, "site",
			      r->site >= 0 ? inv->sites[r->site].id : NULL);
		/* Stage-2 keys only when used: a stage-1 policy keeps its hash. */
		if (r->gateway) {
			json_t *ifs = json_array();
			for (size_t k = 0; k < r->nifaces; k++)
				json_array_append_new(ifs, json_string(r->ifaces[k]));
			json_object_set_new(o, "gateway", ifs);
		}
		if (r->limit.rate)
			json_object_set_new(o, "limit",
					    json_pack("[isib]", r->limit.rate, r->limit.unit,
						      r->limit.burst, r->limit.per_source));
		if (r->when.set)
			json_object_set_new(o, "when", json_string(r->when.text));
		json_array_append_new(a, o);
	}
	json_object_set_new(c, "rules", a);
	if (p->nterms) {
		a = json_array();
		for (size_t i = 0; i < p->nterms; i++)
			json_array_append_new(
			    a, json_pack("[so]", p->terms[i].label, ranges_canon(&b->terms[i])));
		json_object_set_new(c, "terms", a);
	}
	json_object_set_new(c, "management",
			    canon_ints(p, p->management, p->nmanagement, false, true));
	a = json_array();
	for (size_t i = 0; i < p->ndc_sites; i++)
		json_array_append_new(a, json_string(inv->sites[p->dc_sites[i]].id));
	for (size_t i = 0; i < p->ndc_prefixes; i++)
		json_array_append_new(a, prefix_json(&p->dc_prefixes[i], true));
	json_object_set_new(c, "datacentre", a);
	json_object_set_new(
	    c, "logging",
	    json_pack("[biis]", p->log_denied, p->log_group, p->log_rate, p->log_rate_unit));
	a = json_array();
	for (size_t i = 0; i < inv->nsites; i++)
		json_array_append_new(a, json_pack("[ssi]", inv->sites[i].id,
						   inv->districts[inv->sites[i].district].name,
						   inv->sites[i].flags));
	json_object_set_new(c, "sites", a);
	a = json_array();
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *s = &inv->segments[i];
		json_array_append_new(a, json_pack("[ssoo]", inv->sites[s->site].id, s->zone,
						   prefix_json(&s->v4, s->has_v4),
						   prefix_json(&s->v6, s->has_v6)));
	}
	json_object_set_new(c, "segments", a);
	a = json_array();
	for (size_t i = 0; i < inv->nplan; i++)
		json_array_append_new(a, json_pack("[so]", inv->plan[i].zone,
						   prefix_json(&inv->plan[i].prefix, true)));
	json_object_set_new(c, "plan", a);
	char *text = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(c);
	if (!text)
		return -ENOMEM;
	uint8_t d[32];
	sha256(text, strlen(text), d);
	free(text);
	int o = snprintf(b->hash, sizeof(b->hash), "sha256:");
	for (int i = 0; i < 32; i++)
		o += snprintf(b->hash + o, sizeof(b->hash) - (size_t)o, "%02x", d[i]);
	return 0;
}

void pol_build_free(struct pol_build *b)
{
	if (!b)
		return;
	pol_ranges_free(&b->part);
	pol_ranges_free(&b->city);
	pol_ranges_free(&b->sites);
	for (size_t i = 0; b->districts && i < b->inv->ndistricts; i++)
		pol_ranges_free(&b->districts[i]);
	free(b->districts);
	pol_ranges_free(&b->dc);
	pol_ranges_free(&b->mgmt);
	free(b->seg_start);
	free(b->seg_index);
	free(b->site_dc);
	for (size_t i = 0; b->terms && i < b->p->nterms; i++)
		pol_ranges_free(&b->terms[i]);
	free(b->terms);
	free(b->term_site);
	pol_ranges_free(&b->self);
	for (size_t i = 0; b->gwto && i < b->p->nrules; i++)
		pol_ranges_free(&b->gwto[i]);
	free(b->gwto);
	free(b);
}

static int zone_ranges(const struct pol_table *t, int z, uint8_t fam, struct pol_ranges *out);
static long gw_rule_ifaces(const struct inventory *inv, int site, const struct pol_rule *r,
			   char **out, size_t max);
static bool iface_matches(const struct pol_rule *r, const struct iface *x);

/*
 * Where each gateway service goes: the own addresses of every gateway that
 * compiles it. The gateways on the way (the source's own) let it through
 * with a forward rule to these addresses, so one rule opens it end to end.
 */
static int gateway_targets(struct pol_build *b)
{
	const struct policy *p = b->p;
	const struct inventory *inv = b->inv;
	int rc = 0;
	if (!(b->gwto = calloc(p->nrules + 1, sizeof(*b->gwto))))
		return -ENOMEM;
	for (size_t i = 0; i < p->nrules && rc == 0; i++) {
		const struct pol_rule *r = &p->rules[i];
		if (!r->gateway || r->expired)
			continue;
		for (size_t k = 0; k < inv->nifaces && rc == 0; k++) {
			const struct iface *x = &inv->ifaces[k];
			if (!iface_matches(r, x))
				continue;
			if (x->has_v4)
				rc = pol_ranges_add(&b->gwto[i], &x->addr4, &x->addr4, 0);
			if (rc == 0 && x->has_v6)
				rc = pol_ranges_add(&b->gwto[i], &x->addr6, &x->addr6, 0);
		}
		if (rc == 0)
			rc = pol_ranges_normalize(&b->gwto[i]);
	}
	return rc;
}

/* acc = acc and by (tmp is scratch). */
static int narrow(struct pol_ranges *acc, const struct pol_ranges *by, struct pol_ranges *tmp)
{
	tmp->n = 0;
	int rc = pol_ranges_intersect(acc, by, tmp);
	acc->n = 0;
	return rc < 0 ? rc : pol_ranges_copy_into(acc, tmp);
}

/*
 * Every endpoint term's addresses: its zones' (the city table's), its
 * objects', hosts' and labels', its sites' segments, intersected, minus its
 * exclusions (terms read before it). And which sites each term touches.
 */
static int materialize_terms(struct pol_build *b)
{
	const struct policy *p = b->p;
	const struct inventory *inv = b->inv;
	struct pol_table *city = NULL;
	struct pol_ranges u = {0}, tmp = {0}, acc = {0};
	int rc;
	b->terms = calloc(p->nterms + 1, sizeof(*b->terms));
	b->term_site = calloc(p->nterms * inv->nsites + 1, sizeof(bool));
	if (!b->terms || !b->term_site)
		return -ENOMEM;
	if (p->nterms == 0)
		return 0;
	if ((rc = pol_build_city(b, &city)) < 0)
		return rc;
	for (size_t i = 0; i < p->nterms && rc == 0; i++) {
		const struct pol_term *t = &p->terms[i];
		/* Start from every address, narrow by each constraint. */
		acc.n = 0;
		struct ip_addr lo, hi;
		for (uint8_t fam = 4; fam <= 6 && rc == 0; fam += 2) {
			memset(&lo, 0, sizeof(lo));
			memset(&hi, 0, sizeof(hi));
			lo.family = hi.family = fam;
			memset(hi.b, 0xff, fam == 4 ? 4 : 16);
			rc = pol_ranges_add(&acc, &lo, &hi, 0);
		}
		if (rc == 0)
			rc = pol_ranges_normalize(&acc);
		if (t->nzones) {
			u.n = 0;
			for (size_t k = 0; k < t->nzones && rc == 0; k++)
				for (uint8_t fam = 4; fam <= 6 && rc == 0; fam += 2)
					rc = zone_ranges(city, t->zones[k], fam, &u);
			if (rc == 0)
				rc = pol_ranges_normalize(&u);
			if (rc == 0)
				rc = narrow(&acc, &u, &tmp);
		}
		if (t->has_addrs && rc == 0)
			rc = narrow(&acc, &t->addrs, &tmp);
		if (t->has_sites && rc == 0) {
			u.n = 0;
			for (size_t k = 0; k < b->sites.n && rc == 0; k++)
				if (t->sites[b->sites.v[k].val])
					rc = pol_ranges_add(&u, &b->sites.v[k].first,
							    &b->sites.v[k].last, 0);
			if (rc == 0)
				rc = pol_ranges_normalize(&u);
			if (rc == 0)
				rc = narrow(&acc, &u, &tmp);
		}
		for (size_t k = 0; k < t->nexcept && rc == 0; k++) {
			tmp.n = 0;
			for (uint8_t fam = 4; fam <= 6 && rc == 0; fam += 2)
				rc = pol_ranges_subtract(&acc, &b->terms[t->except[k]], fam, &tmp);
			acc.n = 0;
			if (rc == 0)
				rc = pol_ranges_copy_into(&acc, &tmp);
		}
		if (rc == 0)
			rc = pol_ranges_copy_into(&b->terms[i], &acc);
		/* The sites it touches: walk the site partition along the term's ranges. */
		const struct pol_ranges *tr = &b->terms[i];
		size_t j = 0;
		for (size_t k = 0; k < tr->n && rc == 0; k++) {
			while (j < b->sites.n &&
			       ip_addr_cmp(&b->sites.v[j].last, &tr->v[k].first) < 0)
				j++;
			for (size_t m = j; m < b->sites.n &&
					   ip_addr_cmp(&b->sites.v[m].first, &tr->v[k].last) <= 0;
			     m++)
				b->term_site[i * inv->nsites + (size_t)b->sites.v[m].val] = true;
		}
	}
	pol_ranges_free(&u);
	pol_ranges_free(&tmp);
	pol_ranges_free(&acc);
	pol_table_free(city);
	return rc;
}

/* Does some range of the normalized list r share an address with prefix p? */
static bool overlaps(const struct pol_ranges *r, const struct ip_prefix *p)
{
	struct ip_addr first, last;
	memset(&first, 0, sizeof(first));
	memset(&last, 0, sizeof(last));
	ip_prefix_first(p, &first);
	ip_prefix_last(p, &last);
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ip_addr_cmp(&r->v[mid].last, &first) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && ip_addr_cmp(&r->v[lo].first, &last) <= 0;
}

static bool is_mgmt(const struct policy *p, int z)
{
	for (size_t i = 0; i < p->nmanagement; i++)
		if (p->management[i] == z)
			return true;
	return false;
}

int pol_build_new(const struct policy *p, const struct inventory *inv, struct pol_build **out)
{
	struct pol_build *b = calloc(1, sizeof(*b));
	int rc = -ENOMEM;
	*out = NULL;
	if (!b)
		return -ENOMEM;
	b->p = p;
	b->inv = inv;
	b->districts = calloc(inv->ndistricts + 1, sizeof(*b->districts));
	b->seg_start = calloc(inv->nsites + 1, sizeof(size_t));
	b->seg_index = calloc(inv->nsegments + 1, sizeof(size_t));
	b->site_dc = calloc(inv->nsites + 1, sizeof(bool));
	if (!b->districts || !b->seg_start || !b->seg_index || !b->site_dc)
		goto out;
	/* Segments grouped by site (counting sort keeps the inventory's order within a site). */
	for (size_t i = 0; i < inv->nsegments; i++)
		b->seg_start[inv->segments[i].site + 1]++;
	for (size_t s = 0; s < inv->nsites; s++)
		b->seg_start[s + 1] += b->seg_start[s];
	size_t *fill = calloc(inv->nsites + 1, sizeof(size_t));
	if (!fill)
		goto out;
	for (size_t i = 0; i < inv->nsegments; i++) {
		int s = inv->segments[i].site;
		b->seg_index[b->seg_start[s] + fill[s]++] = i;
	}
	free(fill);
	bool *dcsite = calloc(inv->nsites + 1, sizeof(bool));
	if (!dcsite)
		goto out;
	for (size_t i = 0; i < p->ndc_sites; i++)
		dcsite[p->dc_sites[i]] = true;
	rc = 0;
	for (size_t i = 0; i < inv->nsegments && rc == 0; i++) {
		const struct segment *s = &inv->segments[i];
		int z = policy_find_zone(p, s->zone);
		/* The policy was loaded against this inventory; another one is a caller bug. */
		rc = z < 0 ? -EINVAL : add_segment(&b->part, s, z);
		if (rc == 0)
			rc = add_segment(&b->sites, s, s->site);
		if (rc == 0)
			rc = add_segment(&b->districts[inv->sites[s->site].district], s, 0);
		if (rc == 0 && dcsite[s->site])
			rc = add_segment(&b->dc, s, 0);
		if (rc == 0 && is_mgmt(p, z))
			rc = add_segment(&b->mgmt, s, 0);
	}
	free(dcsite);
	bool any_city = false;
	for (size_t i = 0; i < inv->nplan && rc == 0; i++) {
		const struct plan_prefix *pp = &inv->plan[i];
		if (strcmp(pp->zone, "city") == 0) {
			rc = pol_ranges_add_prefix(&b->city, &pp->prefix, 0);
			any_city = true;
		} else if (strncmp(pp->zone, "vpn-", 4) == 0) {
			rc = pol_ranges_add_prefix(&b->part, &pp->prefix,
						   policy_find_zone(p, pp->zone));
			if (rc == 0 && is_mgmt(p, policy_find_zone(p, pp->zone)))
				rc = pol_ranges_add_prefix(&b->mgmt, &pp->prefix, 0);
		}
	}
	/* Without a plan the city is just its segments and pools: nothing is unassigned. */
	for (size_t i = 0; !any_city && i < b->part.n && rc == 0; i++)
		rc = pol_ranges_add(&b->city, &b->part.v[i].first, &b->part.v[i].last, 0);
	for (size_t i = 0; i < p->ndc_prefixes && rc == 0; i++)
		rc = pol_ranges_add_prefix(&b->dc, &p->dc_prefixes[i], 0);
	if (rc < 0)
		goto out;
	/* The inventory guarantees disjoint segments and pools; anything else is a caller bug. */
	if ((rc = pol_ranges_normalize(&b->part)) < 0 ||
	    (rc = pol_ranges_normalize(&b->sites)) < 0 ||
	    (rc = pol_ranges_normalize(&b->city)) < 0 || (rc = pol_ranges_normalize(&b->dc)) < 0 ||
	    (rc = pol_ranges_normalize(&b->mgmt)) < 0) {
		rc = rc == -EEXIST ? -EINVAL : rc;
		goto out;
	}
	for (size_t d = 0; d < inv->ndistricts; d++)
		if ((rc = pol_ranges_normalize(&b->districts[d])) < 0)
			goto out;
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *s = &inv->segments[i];
		if ((s->has_v4 && overlaps(&b->dc, &s->v4)) ||
		    (s->has_v6 && overlaps(&b->dc, &s->v6)))
			b->site_dc[s->site] = true;
	}
	for (size_t k = 0; k < inv->nifaces && rc == 0; k++) {
		const struct iface *x = &inv->ifaces[k];
		if (x->has_v4)
			rc = pol_ranges_add(&b->self, &x->addr4, &x->addr4, x->site);
		if (rc == 0 && x->has_v6)
			rc = pol_ranges_add(&b->self, &x->addr6, &x->addr6, x->site);
	}
	/* Two gateways with one address (a VRRP pair's shared one) judge it alike: keep one. */
	if (rc == 0 && (rc = pol_ranges_normalize(&b->self)) == -EEXIST)
		rc = 0;
	if (rc < 0 || (rc = materialize_terms(b)) < 0 || (rc = gateway_targets(b)) < 0)
		goto out;
	rc = build_hash(b);
out:
	if (rc < 0)
		pol_build_free(b);
	else
		*out = b;
	return rc;
}

const struct policy *pol_build_policy(const struct pol_build *b)
{
	return b->p;
}

const struct pol_ranges *pol_build_term(const struct pol_build *b, int term)
{
	return term >= 0 && (size_t)term < b->p->nterms ? &b->terms[term] : NULL;
}

const char *pol_build_hash(const struct pol_build *b)
{
	return b->hash;
}

/* ------------------------------------------------------------------ */
/* Tables */

/* Can this side of a rule match an address of the site (local zones, dc, terms)? */
static bool side_local(const struct pol_build *b, const struct pol_rside *sd, int site,
		       const bool *local_zone, bool local_dc)
{
	const struct policy *p = b->p;
	if (sd->any)
		return true;
	for (size_t i = 0; i < sd->nzones; i++)
		if (local_zone[sd->zones[i]] ||
		    (p->zones[sd->zones[i]].kind == POL_ZONE_DC && local_dc))
			return true;
	for (size_t i = 0; i < sd->nterms; i++)
		if (b->term_site[(size_t)sd->terms[i] * b->inv->nsites + (size_t)site])
			return true;
	return false;
}

static long gw_rule_ifaces(const struct inventory *inv, int site, const struct pol_rule *r,
			   char **out, size_t max);

/*
 * Is the rule compiled at site's gateway? A gateway judges the connections
 * with an end in its own segments, so a rule that can match no such
 * connection is left out: a rule naming endpoints at a site group is
 * compiled at every gateway of the group and at every gateway its other
 * side reaches, never at the others.
 */
static bool rule_applies(const struct pol_build *b, const struct pol_rule *r, int site,
			 const bool *local_zone, bool local_dc)
{
	if (r->expired || (r->site >= 0 && r->site != site))
		return false;
	if (r->gateway) {
		char *names[1];
		return gw_rule_ifaces(b->inv, site, r, names, 1) >= 0;
	}
	bool f = side_local(b, &r->from, site, local_zone, local_dc);
	bool t = side_local(b, &r->to, site, local_zone, local_dc);
	if (r->scope == POL_SCOPE_SAME_SITE)
		return f && t;
	return f || t;
}

/* The table set of policy term k, added on first use. */
static int term_set(const struct pol_build *b, struct pol_table *t, int *tmap, int k)
{
	if (tmap[k] >= 0)
		return tmap[k];
	const struct pol_term *pt = &b->p->terms[k];
	int rc = pol_table_add_set(t, pt->setname, pt->label, &b->terms[k]);
	/* Two terms whose names meet (a digest's few digits): a suffix keeps them apart. */
	for (unsigned n = 2; rc == -EEXIST && n < 1000; n++) {
		char name[128];
		snprintf(name, sizeof(name), "%s_%u", pt->setname, n);
		rc = pol_table_add_set(t, name, pt->label, &b->terms[k]);
	}
	if (rc >= 0)
		tmap[k] = rc;
	return rc;
}

static int side_of(const struct pol_build *b, struct pol_table *t, const struct pol_rside *in,
		   const int *map, int *tmap, struct pol_side *out)
{
	memset(out, 0, sizeof(*out));
	out->any = in->any;
	out->zones = calloc(in->nzones + 1, sizeof(int));
	out->sets = calloc(in->nterms + 1, sizeof(int));
	if (!out->zones || !out->sets)
		return -ENOMEM;
	for (size_t i = 0; i < in->nzones; i++) {
		int z = map[in->zones[i]];
		bool dup = false;
		for (size_t k = 0; k < out->nzones; k++)
			dup |= out->zones[k] == z;
		if (!dup)
			out->zones[out->nzones++] = z;
	}
	for (size_t i = 0; i < in->nterms; i++) {
		int k = term_set(b, t, tmap, in->terms[i]);
		if (k < 0)
			return k;
		out->sets[out->nsets++] = k;
	}
	return 0;
}

/* How far ahead a time window's occurrences are rendered (docs/policy.md). */
#define WINDOW_HORIZON_DAYS 366

/* From the day before the policy's day to WINDOW_HORIZON_DAYS after its start (whole
 * days: compiling twice on one day gives the same files). */
static void window_horizon(const struct policy *p, int64_t *from, int64_t *to)
{
	int64_t day = p->now - ((p->now % 86400) + 86400) % 86400;
	*from = day - 86400;
	*to = day + (int64_t)WINDOW_HORIZON_DAYS * 86400;
}

/*
 * The interfaces of site's gateway a gateway service is accepted on: its
 * names and roles resolved (at most max; none when it names none). -1 when
 * it names interfaces and none is at this site (the service is then not
 * compiled there).
 */
static bool iface_matches(const struct pol_rule *r, const struct iface *x)
{
	if (!r->nifaces)
		return true;
	for (size_t i = 0; i < r->nifaces; i++)
		if (strcmp(r->ifaces[i], x->name) == 0 ||
		    strcmp(r->ifaces[i], iface_role_names[x->role]) == 0)
			return true;
	return false;
}

static long gw_rule_ifaces(const struct inventory *inv, int site, const struct pol_rule *r,
			   char **out, size_t max)
{
	size_t n = 0;
	if (!r->gateway || !r->nifaces)
		return 0;
	for (size_t k = inv->iface_start[site]; k < inv->iface_start[site + 1] && n < max; k++)
		if (iface_matches(r, &inv->ifaces[k]))
			out[n++] = inv->ifaces[k].name;
	return n ? (long)n : -1;
}

/* fwd: the forward rule of a gateway service, to the gateways that offer it. */
static int add_trule(const struct pol_build *b, struct pol_table *t, const struct pol_rule *r,
		     int site, const int *map, int *tmap, bool fwd)
{
	const struct policy *p = b->p;
	struct pol_trule tr;
	memset(&tr, 0, sizeof(tr));
	int rc = -ENOMEM;
	tr.id = r->id;
	tr.action = r->action;
	tr.scope = r->scope;
	tr.log = r->log;
	tr.exception = r->site >= 0;
	tr.gateway = r->gateway;
	tr.comment = r->comment;
	tr.expires = r->expires_at;
	tr.limit = r->limit;
	char *ifnames[64];
	tr.ifaces = ifnames;
	long nif = gw_rule_ifaces(b->inv, site, r, ifnames, 64);
	tr.nifaces = nif > 0 ? (size_t)nif : 0;
	if ((rc = side_of(b, t, &r->from, map, tmap, &tr.from)) < 0 ||
	    (rc = side_of(b, t, &r->to, map, tmap, &tr.to)) < 0)
		goto out;
	if (r->gateway && !fwd && r->nifaces) {
		/* Offered on the named interfaces' own addresses: the input rule and the
		 * table match the destination, so query and kernel agree whatever
		 * interface the packet comes in on. */
		struct pol_ranges own = {0};
		rc = 0;
		for (size_t k = b->inv->iface_start[site];
		     k < b->inv->iface_start[site + 1] && rc == 0; k++) {
			const struct iface *x = &b->inv->ifaces[k];
			if (!iface_matches(r, x))
				continue;
			if (x->has_v4)
				rc = pol_ranges_add(&own, &x->addr4, &x->addr4, 0);
			if (rc == 0 && x->has_v6)
				rc = pol_ranges_add(&own, &x->addr6, &x->addr6, 0);
		}
		char name[96], label[128];
		snprintf(name, sizeof(name), "gs_%s", r->id);
		snprintf(label, sizeof(label), "{addresses offering %s}", r->id);
		int k = rc < 0 ? rc : pol_table_add_set(t, name, label, &own);
		pol_ranges_free(&own);
		if (k < 0) {
			rc = k;
			goto out;
		}
		tr.to.any = false;
		tr.to.sets[0] = k;
		tr.to.nsets = 1;
	}
	if (fwd) {
		char name[96];
		snprintf(name, sizeof(name), "g_%s", r->id);
		char label[128];
		snprintf(label, sizeof(label), "{gateways offering %s}", r->id);
		int k = pol_table_find_set(t, name);
		if (k < 0 && (k = pol_table_add_set(t, name, label, &b->gwto[r - p->rules])) < 0) {
			rc = k;
			goto out;
		}
		tr.gateway = false;
		tr.nifaces = 0;
		/* The offering gateway limits; the gateways on the way do not. */
		memset(&tr.limit, 0, sizeof(tr.limit));
		tr.to.any = false;
		tr.to.sets[0] = k;
		tr.to.nsets = 1;
	}
	rc = -ENOMEM;
	if (r->when.set) {
		struct tw_window w = {
		    .days = r->when.days, .start = r->when.start, .end = r->when.end};
		snprintf(w.tz, sizeof(w.tz), "%s", r->when.tz);
		int64_t from, to;
		window_horizon(p, &from, &to);
		long n = tw_intervals(&w, from, to, NULL, 0);
		struct tw_interval *iv = calloc(n > 0 ? (size_t)n + 1 : 1, sizeof(*iv));
		tr.spans = calloc(n > 0 ? (size_t)n + 1 : 1, sizeof(*tr.spans));
		if (n < 0 || !iv || !tr.spans) {
			free(iv);
			rc = n < 0 ? (int)n : -ENOMEM;
			goto out;
		}
		n = tw_intervals(&w, from, to, iv, (size_t)n);
		for (long i = 0; i < n; i++)
			tr.spans[tr.nspans++] = (struct pol_span){iv[i].first, iv[i].last};
		free(iv);
		tr.window = (char *)r->when.text;
	}
	tr.svc.any = r->svc_any;
	size_t nl = 1;
	for (size_t i = 0; i < r->nservices; i++)
		nl += strlen(p->services[r->services[i]].name) + 1;
	if (!r->svc_any) {
		if (!(tr.svc_names = calloc(nl, 1)))
			goto out;
		for (size_t i = 0; i < r->nservices; i++) {
			if (i)
				strcat(tr.svc_names, ",");
			strcat(tr.svc_names, p->services[r->services[i]].name);
			if ((rc = pol_match_merge(&tr.svc, &p->services[r->services[i]].match)) < 0)
				goto out;
		}
	}
	rc = pol_table_add_rule(t, &tr);
out:
	pol_side_free(&tr.from);
	pol_side_free(&tr.to);
	free(tr.spans);
	free(tr.svc_names);
	pol_match_free(&tr.svc);
	return rc;
}

static int copy_list(struct pol_ranges *dst, const struct pol_ranges *src, int val)
{
	for (size_t i = 0; i < src->n; i++) {
		int rc = pol_ranges_add(dst, &src->v[i].first, &src->v[i].last,
					val < 0 ? src->v[i].val : val);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int set_meta(const struct pol_build *b, struct pol_table *t, int site, enum pol_mode mode)
{
	const struct inventory *inv = b->inv;
	struct pol_table_meta m = {
	    .gateway = site >= 0 ? inv->sites[site].id : NULL,
	    .district = site >= 0 ? inv->districts[inv->sites[site].district].name : NULL,
	    .mode = mode,
	    .hash = b->hash,
	    .date = b->p->date,
	    .generator = "segplan " SEGPLAN_VERSION,
	};
	return pol_table_set_meta(t, &m);
}

int pol_build_gateway(const struct pol_build *b, int site, enum pol_mode mode,
		      struct pol_table **out)
{
	const struct policy *p = b->p;
	const struct inventory *inv = b->inv;
	struct pol_table *t = pol_table_new();
	bool *local_zone = calloc(p->nzones + 1, sizeof(bool));
	bool *used = calloc(p->nzones + 1, sizeof(bool));
	int *map = calloc(p->nzones + 1, sizeof(int));
	bool *applies = calloc(p->nrules + 1, sizeof(bool));
	bool *fwd = calloc(p->nrules + 1, sizeof(bool));
	int *tmap = malloc((p->nterms + 1) * sizeof(int));
	int rc = -ENOMEM;
	*out = NULL;
	if (!t || !local_zone || !used || !map || !applies || !tmap || !fwd)
		goto out;
	for (size_t k = 0; k < p->nterms; k++)
		tmap[k] = -1;
	rc = -EINVAL;
	if (site < 0 || (size_t)site >= inv->nsites)
		goto out;
	for (size_t k = b->seg_start[site]; k < b->seg_start[site + 1]; k++) {
		int z = policy_find_zone(p, inv->segments[b->seg_index[k]].zone);
		local_zone[z] = used[z] = true;
	}
	bool district = false, dc = false;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];
		if (r->gateway && !r->expired && b->gwto[i].n &&
		    side_local(b, &r->from, site, local_zone, b->site_dc[site])) {
			fwd[i] = true;
			for (size_t k = 0; k < r->from.nzones; k++)
				used[r->from.zones[k]] = true;
		}
		if (!(applies[i] = rule_applies(b, r, site, local_zone, b->site_dc[site])))
			continue;
		for (size_t k = 0; k < r->from.nzones; k++)
			used[r->from.zones[k]] = true;
		for (size_t k = 0; k < r->to.nzones; k++)
			used[r->to.zones[k]] = true;
		district |= r->scope == POL_SCOPE_SAME_DISTRICT;
		dc |= r->scope == POL_SCOPE_DC_ONLY;
	}
	/* Zones in the policy's order; those no rule here names collapse into one. */
	int other = -1;
	for (size_t z = 0; z < p->nzones; z++) {
		enum pol_zone_kind k = p->zones[z].kind;
		if (used[z] || k == POL_ZONE_INTERNET || k == POL_ZONE_UNASSIGNED ||
		    k == POL_ZONE_SPECIAL || k == POL_ZONE_PRIVEXT) {
			if ((map[z] = pol_table_add_zone(t, p->zones[z].name, k)) < 0) {
				rc = map[z];
				goto out;
			}
			dc |= k == POL_ZONE_DC && used[z];
		} else {
			map[z] = -1;
		}
	}
	for (size_t z = 0; z < p->nzones; z++) {
		if (map[z] >= 0 || p->zones[z].kind == POL_ZONE_DC)
			continue;
		if (other < 0 && (other = pol_table_add_zone(t, "-", POL_ZONE_OTHER)) < 0) {
			rc = other;
			goto out;
		}
		map[z] = other;
	}
	rc = 0;
	for (size_t i = 0; i < b->part.n && rc == 0; i++)
		rc = pol_ranges_add(pol_table_list(t, POL_L_ZONES), &b->part.v[i].first,
				    &b->part.v[i].last, map[b->part.v[i].val]);
	if (rc == 0)
		rc = copy_list(pol_table_list(t, POL_L_CITY), &b->city, 0);
	if (rc == 0 && district)
		rc = copy_list(pol_table_list(t, POL_L_DISTRICT),
			       &b->districts[inv->sites[site].district], 0);
	if (rc == 0 && dc)
		rc = copy_list(pol_table_list(t, POL_L_DC), &b->dc, 0);
	int sidx = rc == 0 ? pol_table_add_site(t, inv->sites[site].id) : rc;
	if (sidx < 0) {
		rc = sidx;
		goto out;
	}
	for (size_t k = b->seg_start[site]; k < b->seg_start[site + 1] && rc == 0; k++) {
		const struct segment *s = &inv->segments[b->seg_index[k]];
		rc = add_segment(pol_table_list(t, POL_L_LOCAL), s, 0);
		if (rc == 0)
			rc = add_segment(pol_table_list(t, POL_L_SITES), s, sidx);
	}
	/* The gateway's own addresses and the management networks (input chain). */
	for (size_t k = inv->iface_start[site]; k < inv->iface_start[site + 1] && rc == 0; k++) {
		const struct iface *x = &inv->ifaces[k];
		if (x->has_v4)
			rc = pol_ranges_add(pol_table_list(t, POL_L_SELF), &x->addr4, &x->addr4, 0);
		if (rc == 0 && x->has_v6)
			rc = pol_ranges_add(pol_table_list(t, POL_L_SELF), &x->addr6, &x->addr6, 0);
	}
	if (rc == 0 && pol_table_clist(t, POL_L_SELF)->n)
		rc = copy_list(pol_table_list(t, POL_L_MGMT), &b->mgmt, 0);
	/* This site's exceptions first, then the city-wide rules. */
	for (int pass = 0; pass < 2 && rc == 0; pass++)
		for (size_t i = 0; i < p->nrules && rc == 0; i++)
			if (applies[i] && (p->rules[i].site >= 0) == (pass == 0))
				rc = add_trule(b, t, &p->rules[i], site, map, tmap, false);
	/* Gateway services on their way to other gateways: after the city-wide rules. */
	for (size_t i = 0; i < p->nrules && rc == 0; i++)
		if (fwd[i])
			rc = add_trule(b, t, &p->rules[i], site, map, tmap, true);
	if (rc == 0)
		rc = pol_table_seal(t);
	if (rc == 0)
		rc = set_meta(b, t, site, mode);
out:
	free(local_zone);
	free(used);
	free(map);
	free(applies);
	free(fwd);
	free(tmap);
	if (rc < 0)
		pol_table_free(t);
	else
		*out = t;
	return rc;
}

bool pol_build_offers(const struct pol_build *b, int rule, int site)
{
	const struct pol_rule *r = &b->p->rules[rule];
	char *names[1];
	return r->gateway && !r->expired && gw_rule_ifaces(b->inv, site, r, names, 1) >= 0;
}

int pol_build_city(const struct pol_build *b, struct pol_table **out)
{
	const struct policy *p = b->p;
	const struct inventory *inv = b->inv;
	struct pol_table *t = pol_table_new();
	int rc = -ENOMEM;
	*out = NULL;
	if (!t)
		goto out;
	for (size_t z = 0; z < p->nzones; z++)
		if ((rc = pol_table_add_zone(t, p->zones[z].name, p->zones[z].kind)) < 0)
			goto out;
	for (size_t s = 0; s < inv->nsites; s++)
		if ((rc = pol_table_add_site(t, inv->sites[s].id)) < 0)
			goto out;
	rc = copy_list(pol_table_list(t, POL_L_ZONES), &b->part, -1);
	if (rc == 0)
		rc = copy_list(pol_table_list(t, POL_L_CITY), &b->city, 0);
	if (rc == 0)
		rc = copy_list(pol_table_list(t, POL_L_DC), &b->dc, 0);
	if (rc == 0)
		rc = copy_list(pol_table_list(t, POL_L_SITES), &b->sites, -1);
	if (rc == 0)
		rc = pol_table_seal(t);
	if (rc == 0)
		rc = set_meta(b, t, -1, POL_MODE_ENFORCE);
out:
	if (rc < 0)
		pol_table_free(t);
	else
		*out = t;
	return rc;
}

void pol_build_judges(const struct pol_build *b, const struct ip_addr *src,
		      const struct ip_addr *dst, int judges[2], size_t *njudges, int *counted)
{
	const struct pol_range *s = pol_ranges_find(&b->sites, src);
	const struct pol_range *d = pol_ranges_find(&b->sites, dst);
	*njudges = 0;
	*counted = -1;
	if (s)
		judges[(*njudges)++] = s->val;
	/* A gateway's own address: that gateway judges it too (its input chain). */
	const struct pol_range *g = pol_ranges_find(&b->self, dst);
	if (!d || (g && g->val != d->val))
		d = g ? g : d;
	if (d && (!s || d->val != s->val))
		judges[(*njudges)++] = d->val;
	if (*njudges)
		*counted = judges[0];
}

/* ------------------------------------------------------------------ */
/* Range arithmetic for the nft sets */

/* The addresses of zone z of family fam in table t, appended to out. */
static int zone_ranges(const struct pol_table *t, int z, uint8_t fam, struct pol_ranges *out)
{
	const struct pol_ranges *part = pol_table_clist(t, POL_L_ZONES);
	switch (pol_table_zone_kind(t, z)) {
	case POL_ZONE_INTERNET: {
		/* Outside the city, the special-purpose and the private ranges. */
		struct pol_ranges u = {0};
		int rc = copy_list(&u, pol_table_clist(t, POL_L_CITY), 0);
		if (rc == 0)
			rc = copy_list(&u, pol_outside_ranges(POL_ZONE_SPECIAL), 0);
		if (rc == 0)
			rc = copy_list(&u, pol_outside_ranges(POL_ZONE_PRIVEXT), 0);
		if (rc == 0)
			rc = pol_ranges_normalize(&u);
		if (rc == 0)
			rc = pol_ranges_complement(&u, fam, out);
		pol_ranges_free(&u);
		return rc;
	}
	case POL_ZONE_SPECIAL:
	case POL_ZONE_PRIVEXT:
		return pol_ranges_subtract(pol_outside_ranges(pol_table_zone_kind(t, z)),
					   pol_table_clist(t, POL_L_CITY), fam, out);
	case POL_ZONE_UNASSIGNED:
		return pol_ranges_subtract(pol_table_clist(t, POL_L_CITY), part, fam, out);
	case POL_ZONE_DC:
		for (size_t i = 0; i < pol_table_clist(t, POL_L_DC)->n; i++) {
			const struct pol_range *r = &pol_table_clist(t, POL_L_DC)->v[i];
			if (r->first.family == fam) {
				int rc = pol_ranges_add(out, &r->first, &r->last, 0);
				if (rc < 0)
					return rc;
			}
		}
		return 0;
	default:
		for (size_t i = 0; i < part->n; i++)
			if (part->v[i].val == z && part->v[i].first.family == fam) {
				int rc =
				    pol_ranges_add(out, &part->v[i].first, &part->v[i].last, 0);
				if (rc < 0)
					return rc;
			}
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* nftables text */

struct render {
	const struct pol_build *b;
	const struct pol_table *t;
	FILE *sets, *fwd, *in, *pre;
	FILE *cur;    /* the chain policy rules go to: forward, or input for gateway services */
	char **names; /* sets declared so far, and union sets found empty (not declared) */
	char **keys;  /* what each set holds: its zones or services */
	bool *nonempty;
	size_t nnames;
	struct pol_nft_stats st;
	int err;
};

/* Index of a set declared (or found empty) so far, or -1. */
static int declared(const struct render *r, const char *name)
{
	for (size_t i = 0; i < r->nnames; i++)
		if (strcmp(r->names[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * The index of the set for key, -1 when it is new. Different zone or service
 * lists can spell the same name (a zone "a__b" and the union of "a" and "b"):
 * a numeric suffix then keeps them apart, so name may change.
 */
static int lookup_set(const struct render *r, char *name, size_t size, const char *key)
{
	size_t base = strlen(name);
	for (unsigned n = 2;; n++) {
		int i = declared(r, name);
		if (i < 0 || strcmp(r->keys[i], key) == 0)
			return i;
		snprintf(name + base, size - base, "_%u", n);
	}
}

static void remember(struct render *r, const char *name, const char *key, bool nonempty)
{
	char **v = realloc(r->names, (r->nnames + 1) * sizeof(*v));
	char **k = realloc(r->keys, (r->nnames + 1) * sizeof(*k));
	bool *ne = realloc(r->nonempty, (r->nnames + 1) * sizeof(*ne));
	char *n = strdup(name), *kd = strdup(key);
	if (v)
		r->names = v;
	if (k)
		r->keys = k;
	if (ne)
		r->nonempty = ne;
	if (!v || !k || !ne || !n || !kd) {
		free(n);
		free(kd);
		r->err = -ENOMEM;
		return;
	}
	v[r->nnames] = n;
	k[r->nnames] = kd;
	ne[r->nnames++] = nonempty;
	r->st.sets += nonempty;
}

static void elem_sep(FILE *f, size_t i)
{
	fputs(i ? ",\n\t\t\t" : "\t\telements = {\n\t\t\t", f);
}

/* Declares an address set once; list sets may be empty, since rules and transit name them. */
static void declare_addr_set(struct render *r, const char *name, const char *key, uint8_t fam,
			     const struct pol_ranges *rs)
{
	if (declared(r, name) >= 0)
		return;
	remember(r, name, key, true);
	fprintf(r->sets, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", name,
		fam == 4 ? "ipv4_addr" : "ipv6_addr");
	size_t k = 0;
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->v[i].first.family != fam)
			continue;
		char buf[2 * IP_PREFIX_STRLEN + 2];
		struct ip_prefix p;
		if (pol_range_is_prefix(&rs->v[i], &p)) {
			ip_prefix_format(&p, buf, sizeof(buf));
		} else {
			char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
			ip_addr_format(&rs->v[i].first, a, sizeof(a));
			ip_addr_format(&rs->v[i].last, b, sizeof(b));
			snprintf(buf, sizeof(buf), "%s-%s", a, b);
		}
		elem_sep(r->sets, k++);
		fputs(buf, r->sets);
	}
	if (k)
		fputs("\n\t\t}\n", r->sets);
	fputs("\t}\n", r->sets);
	r->st.elements += k;
}

static size_t count_family(const struct pol_ranges *rs, uint8_t fam)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->n; i++)
		n += rs->v[i].first.family == fam;
	return n;
}

static const char *fam_sfx(uint8_t fam)
{
	return fam == 4 ? "v4" : "v6";
}

/*
 * The named set of the union of zones zs for family fam: z_<zone>[__<zone>...]_v4.
 * Returns false when the union has no address of that family (the rule then
 * cannot match that family and is not rendered for it).
 */
static bool list_set(struct render *r, enum pol_list l, const char *base, uint8_t fam, char *name,
		     size_t size);

/*
 * The set name of the sorted zones zs (name has NAME_MAX_LEN + 64 bytes) and
 * *key, exact, for lookup_set (malloc'ed). A union too long for a name is
 * "zu_", its first zones, and 16 hex digits of the SHA-256 of the whole
 * name: deterministic, bounded, and distinct for distinct lists.
 */
static bool union_name(const struct render *r, const int *zs, size_t n, uint8_t fam, char *name,
		       size_t size, char **key)
{
	size_t len = 1, klen = 8;
	for (size_t i = 0; i < n; i++) {
		len += 2 + strlen(pol_table_zone_name(r->t, zs[i]));
		klen += 12;
	}
	char *full = malloc(len + 1);
	*key = malloc(klen);
	if (!full || !*key) {
		free(full);
		free(*key);
		*key = NULL;
		return false;
	}
	size_t o = (size_t)sprintf(full, "z"), ko = (size_t)sprintf(*key, "z%u", fam);
	for (size_t i = 0; i < n; i++) {
		o += (size_t)sprintf(full + o, "%s%s", i ? "__" : "_",
				     pol_table_zone_name(r->t, zs[i]));
		ko += (size_t)sprintf(*key + ko, ",%d", zs[i]);
	}
	if (o + 4 < NAME_MAX_LEN) {
		snprintf(name, size, "%s_%s", full, fam_sfx(fam));
	} else {
		uint8_t d[32];
		char hex[17];
		sha256(full, o, d);
		for (int i = 0; i < 8; i++)
			sprintf(hex + 2 * i, "%02x", d[i]);
		snprintf(name, size, "zu_%.*s_%s_%s", 64, full + 2, hex, fam_sfx(fam));
	}
	free(full);
	return true;
}

static bool zone_set(struct render *r, const int *zs, size_t n, uint8_t fam, char *name,
		     size_t size)
{
	/* The dc pseudo-zone alone is the data-centre list itself. */
	if (n == 1 && pol_table_zone_kind(r->t, zs[0]) == POL_ZONE_DC)
		return list_set(r, POL_L_DC, "dc", fam, name, size);
	int *sorted = malloc((n + 1) * sizeof(int));
	char *key = NULL;
	struct pol_ranges u = {0};
	bool ok = false;
	if (!sorted) {
		r->err = -ENOMEM;
		return false;
	}
	memcpy(sorted, zs, n * sizeof(int));
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			int x = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = x;
		}
	if (!union_name(r, sorted, n, fam, name, size, &key)) {
		free(sorted);
		r->err = -ENOMEM;
		return false;
	}
	int known = lookup_set(r, name, size, key);
	if (known >= 0) {
		free(key);
		free(sorted);
		return r->nonempty[known];
	}
	for (size_t i = 0; i < n; i++)
		if (zone_ranges(r->t, sorted[i], fam, &u) < 0)
			r->err = -ENOMEM;
	if (pol_ranges_normalize(&u) < 0)
		r->err = -ENOMEM;
	if (u.n > 0) {
		declare_addr_set(r, name, key, fam, &u);
		ok = true;
	} else {
		remember(r, name, key, false);
	}
	pol_ranges_free(&u);
	free(key);
	free(sorted);
	return ok;
}

/*
 * The set of one side of a rule for family fam: its zones' set when it names
 * only zones (stage 1, unchanged); the term's own set when it names one term
 * (an object used by many rules is one set); otherwise the union, named by
 * its members. false when the side has no address of that family.
 */
static bool side_set(struct render *r, const struct pol_side *sd, uint8_t fam, char *name,
		     size_t size)
{
	if (sd->nsets == 0)
		return zone_set(r, sd->zones, sd->nzones, fam, name, size);
	struct pol_ranges u = {0};
	char *key = NULL;
	size_t klen = 16 + 12 * (sd->nzones + sd->nsets);
	if (!(key = malloc(klen))) {
		r->err = -ENOMEM;
		return false;
	}
	size_t ko = (size_t)snprintf(key, klen, "s%u", fam);
	for (size_t i = 0; i < sd->nzones; i++)
		ko += (size_t)snprintf(key + ko, klen - ko, ",z%d", sd->zones[i]);
	for (size_t i = 0; i < sd->nsets; i++)
		ko += (size_t)snprintf(key + ko, klen - ko, ",s%d", sd->sets[i]);
	if (sd->nzones == 0 && sd->nsets == 1) {
		snprintf(name, size, "%s_%s", pol_table_set_name(r->t, sd->sets[0]), fam_sfx(fam));
	} else {
		uint8_t d[32];
		char full[512];
		size_t o = 0;
		for (size_t i = 0; i < sd->nzones && o < sizeof(full); i++)
			o += (size_t)snprintf(full + o, sizeof(full) - o, "%s,",
					      pol_table_zone_name(r->t, sd->zones[i]));
		for (size_t i = 0; i < sd->nsets && o < sizeof(full); i++)
			o += (size_t)snprintf(full + o, sizeof(full) - o, "%s,",
					      pol_table_set_name(r->t, sd->sets[i]));
		sha256(full, strlen(full), d);
		snprintf(name, size, "u_%02x%02x%02x%02x%02x%02x_%s", d[0], d[1], d[2], d[3], d[4],
			 d[5], fam_sfx(fam));
	}
	int known = lookup_set(r, name, size, key);
	if (known >= 0) {
		free(key);
		return r->nonempty[known];
	}
	for (size_t i = 0; i < sd->nzones; i++)
		if (zone_ranges(r->t, sd->zones[i], fam, &u) < 0)
			r->err = -ENOMEM;
	for (size_t i = 0; i < sd->nsets; i++) {
		const struct pol_ranges *sr = pol_table_set(r->t, sd->sets[i]);
		for (size_t k = 0; k < sr->n; k++)
			if (sr->v[k].first.family == fam &&
			    pol_ranges_add(&u, &sr->v[k].first, &sr->v[k].last, 0) < 0)
				r->err = -ENOMEM;
	}
	if (pol_ranges_normalize(&u) < 0)
		r->err = -ENOMEM;
	bool ok = u.n > 0;
	if (ok)
		declare_addr_set(r, name, key, fam, &u);
	else
		remember(r, name, key, false);
	pol_ranges_free(&u);
	free(key);
	return ok;
}

/* A named list set of the table (local, district, dc); declared even when empty. */
static bool list_set(struct render *r, enum pol_list l, const char *base, uint8_t fam, char *name,
		     size_t size)
{
	snprintf(name, size, "%s_%s", base, fam_sfx(fam));
	const struct pol_ranges *rs = pol_table_clist(r->t, l);
	declare_addr_set(r, name, name, fam, rs);
	return count_family(rs, fam) > 0;
}

static void port_elems(FILE *f, const struct pol_match *m)
{
	for (size_t i = 0; i < m->nports; i++) {
		const struct pol_ports *p = &m->ports[i];
		elem_sep(f, i);
		/* A name only where nft's grammar has it (no /etc/protocols needed). */
		const struct proto *pr = proto_get(p->proto);
		if (pr && pr->nft_keyword)
			fprintf(f, "%s . ", pr->name);
		else
			fprintf(f, "%u . ", p->proto);
		if (p->lo == p->hi)
			fprintf(f, "%u", p->lo);
		else
			fprintf(f, "%u-%u", p->lo, p->hi);
	}
	fputs("\n\t\t}\n", f);
}

static void u8_elems(FILE *f, const uint8_t *v, size_t n, int icmp_family)
{
	for (size_t i = 0; i < n; i++) {
		const char *nm = icmp_family ? proto_icmp_name((uint8_t)icmp_family, v[i]) : NULL;
		elem_sep(f, i);
		if (nm)
			fputs(nm, f);
		else
			fprintf(f, "%u", v[i]);
	}
	fputs("\n\t\t}\n", f);
}

enum svc_kind { SVC_PORTS, SVC_ICMP, SVC_ICMP6, SVC_PROTO, SVC_KIND_COUNT };
static const char *const svc_sfx[SVC_KIND_COUNT] = {"ports", "icmp", "icmpv6", "proto"};
static const char *const svc_type[SVC_KIND_COUNT] = {"inet_proto . inet_service", "icmp_type",
						     "icmpv6_type", "inet_proto"};

static size_t svc_count(const struct pol_match *m, enum svc_kind k)
{
	switch (k) {
	case SVC_PORTS:
		return m->nports;
	case SVC_ICMP:
		return m->nicmp;
	case SVC_ICMP6:
		return m->nicmp6;
	default:
		return m->nprotos;
	}
}

static void service_set(struct render *r, const struct pol_trule *tr, enum svc_kind k, char *name,
			size_t size)
{
	size_t o = (size_t)snprintf(name, size, "s_");
	for (const char *c = tr->svc_names; *c && o + 2 < size; c++) {
		if (*c == ',') {
			name[o++] = '_';
			name[o++] = '_';
		} else {
			name[o++] = *c;
		}
	}
	name[o] = '\0';
	if (o + 8 >= NAME_MAX_LEN) {
		uint8_t d[32];
		sha256(tr->svc_names, strlen(tr->svc_names), d);
		o = (size_t)snprintf(name, size, "su_%02x%02x%02x%02x%02x%02x", d[0], d[1], d[2],
				     d[3], d[4], d[5]);
	}
	snprintf(name + o, size - o, "_%s", svc_sfx[k]);
	char key[1024];
	snprintf(key, sizeof(key), "s%d:%s", k, tr->svc_names);
	if (lookup_set(r, name, size, key) >= 0)
		return;
	remember(r, name, key, true);
	const struct pol_match *m = &tr->svc;
	fprintf(r->sets, "\tset %s {\n\t\ttype %s\n%s", name, svc_type[k],
		k == SVC_PORTS ? "\t\tflags interval\n" : "");
	if (k == SVC_PORTS)
		port_elems(r->sets, m);
	else if (k == SVC_ICMP)
		u8_elems(r->sets, m->icmp, m->nicmp, 4);
	else if (k == SVC_ICMP6)
		u8_elems(r->sets, m->icmp6, m->nicmp6, 6);
	else
		u8_elems(r->sets, m->protos, m->nprotos, 0);
	fputs("\t}\n", r->sets);
	r->st.elements += svc_count(m, k);
}

static const char *log_group(const struct policy *p, char *buf, size_t size)
{
	if (p->log_group < 0)
		return "";
	snprintf(buf, size, " group %d", p->log_group);
	return buf;
}

/*
 * The log statement of a rule, in a rule of its own placed before the verdict:
 * a `limit` on the verdict rule would let packets over the limit fall through
 * to later rules, and an unlimited log lets a flood fill the log.
 */
static void log_line(struct render *r, const char *match, const char *prefix, const char *id)
{
	const struct policy *p = r->b->p;
	char g[32];
	fprintf(r->cur, "\t\t%s limit rate %u/%s log prefix \"%s \"%s comment \"log:%s\"\n", match,
		p->log_rate, p->log_rate_unit, prefix, log_group(p, g, sizeof(g)), id);
}

/* The rules of one match: an optional log rule, then the verdict (two for reject). */
/* A name for an nft object of rule id (ids are unique, and nft names take - and .). */
static void rule_obj_name(char *buf, size_t size, const char *prefix, const char *id,
			  const char *sfx)
{
	snprintf(buf, size, "%s%s%s", prefix, id, sfx);
}

/*
 * The rule before a limited accept: what exceeds the rate is dropped here, so
 * that it never falls through to a broader rule below. One named limit per
 * policy rule (shared by its IPv4 and IPv6 rules and its services), or, per
 * source, a dynamic set per family keyed by the source address.
 */
static unsigned unit_seconds(const char *unit)
{
	return strcmp(unit, "second") == 0   ? 1
	       : strcmp(unit, "minute") == 0 ? 60
	       : strcmp(unit, "hour") == 0   ? 3600
					     : 86400;
}

/*
 * A limited accept. One limiter per policy rule: a named limit shared by its
 * IPv4 and IPv6 rules and its services, and a rule before the accept drops
 * what exceeds it, so that the excess never falls through to a broader rule
 * below. Per source: a dynamic set per family keyed by the source address
 * (IPv6: its /64, which one host can fill with addresses), and the accept
 * itself updates it: a full set matches nothing, so the rule after it drops
 * (fails closed). An entry lives long enough for its bucket to refill.
 * Burst: as given, else the rate (N connections at once, N per unit).
 */
static void limit_rule(struct render *r, const struct pol_trule *tr, const char *match, uint8_t fam,
		       const char *cmt)
{
	char name[96];
	const struct pol_limit *l = &tr->limit;
	unsigned burst = l->burst ? l->burst : l->rate;
	r->st.rules += 2;
	if (!l->per_source) {
		rule_obj_name(name, sizeof(name), "l_", tr->id, "");
		if (declared(r, name) < 0) {
			remember(r, name, name, true);
			fprintf(r->sets,
				"\tlimit %s {\n\t\trate over %u/%s burst %u packets\n\t}\n", name,
				l->rate, l->unit, burst);
		}
		fprintf(r->cur, "\t\t%s limit name \"%s\" counter drop comment \"limit:%s\"\n",
			match, name, tr->id);
		fprintf(r->cur, "\t\t%s counter accept comment \"%s\"\n", match, cmt);
		return;
	}
	rule_obj_name(name, sizeof(name), "ls_", tr->id, fam == 6 ? "_v6" : "_v4");
	if (declared(r, name) < 0) {
		uint64_t refill = ((uint64_t)burst + l->rate - 1) / l->rate * unit_seconds(l->unit);
		uint64_t timeout = refill + unit_seconds(l->unit);
		remember(r, name, name, true);
		fprintf(r->sets,
			"\tset %s {\n\t\ttype %s\n\t\tsize 65535\n\t\tflags dynamic,timeout\n"
			"\t\ttimeout %llus\n\t}\n",
			name, fam == 6 ? "ipv6_addr" : "ipv4_addr",
			(unsigned long long)(timeout < 600 ? 600 : timeout));
	}
	fprintf(r->cur,
		"\t\t%s update @%s { %s limit rate %u/%s burst %u packets } counter accept "
		"comment \"%s\"\n",
		match, name, fam == 6 ? "ip6 saddr & ffff:ffff:ffff:ffff::" : "ip saddr", l->rate,
		l->unit, burst, cmt);
	fprintf(r->cur, "\t\t%s counter drop comment \"limit:%s\"\n", match, tr->id);
}

/* The occurrences of a rule's time window: absolute UTC instants, one interval set. */
static void window_set(struct render *r, const char *name, const struct pol_trule *tr)
{
	if (declared(r, name) >= 0)
		return;
	remember(r, name, name, true);
	/* The horizon, for `segplan policy status`: past it the rule matches nothing. */
	char until[32];
	int64_t hfrom, hto;
	window_horizon(r->b->p, &hfrom, &hto);
	time_t h = (time_t)hto;
	struct tm tm;
	gmtime_r(&h, &tm);
	strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(r->sets,
		"\tset %s {\n\t\ttypeof meta time\n\t\tflags interval\n"
		"\t\tcomment \"window:%s %s; until %s\"\n",
		name, tr->id, tr->window, until);
	for (size_t i = 0; i < tr->nspans; i++) {
		elem_sep(r->sets, i);
		/* meta time counts nanoseconds: the whole last second is inside. */
		fprintf(r->sets, "%lld-%lld", (long long)tr->spans[i].first,
			(long long)tr->spans[i].last + 1);
	}
	fputs("\n\t\t}\n\t}\n", r->sets);
	r->st.elements += tr->nspans;
}

static void verdict(struct render *r, const struct pol_trule *tr, const char *match, uint8_t fam)
{
	struct pol_table_meta m;
	char prefix[128], cmt[128];
	pol_table_get_meta(r->t, &m);
	/* The input chain always enforces: observe mode concerns the forward policy. */
	bool observe = tr->action != POL_ACCEPT && m.mode == POL_MODE_OBSERVE && !tr->gateway;
	snprintf(cmt, sizeof(cmt), "rule:%s%s", tr->id, tr->exception ? " exception" : "");
	if (observe || tr->log) {
		snprintf(prefix, sizeof(prefix), "segplan %srule:%s", observe ? "observe " : "",
			 tr->id);
		log_line(r, match, prefix, tr->id);
	}
	if (tr->action == POL_ACCEPT && tr->limit.rate &&
	    (m.mode != POL_MODE_OBSERVE || tr->gateway)) {
		limit_rule(r, tr, match, fam, cmt);
		return;
	}
	r->st.rules++;
	if (observe || tr->action == POL_ACCEPT) {
		fprintf(r->cur, "\t\t%s counter accept comment \"%s\"\n", match, cmt);
	} else if (tr->action == POL_DROP) {
		fprintf(r->cur, "\t\t%s counter drop comment \"%s\"\n", match, cmt);
	} else {
		r->st.rules++;
		/* TCP is answered with a reset (RFC 9293 3.10.7.1), the rest with
		 * administratively prohibited (RFC 792 code 13, RFC 4443 code 1). */
		fprintf(r->cur,
			"\t\t%s meta l4proto tcp counter reject with tcp reset comment \"%s\"\n",
			match, cmt);
		fprintf(r->cur,
			"\t\t%s counter reject with icmpx admin-prohibited comment \"%s\"\n", match,
			cmt);
	}
}

static void render_rule(struct render *r, const struct pol_trule *tr, uint8_t fam)
{
	const char *ip = fam == 4 ? "ip" : "ip6";
	char match[2048] = "", name[NAME_MAX_LEN + 64];
	size_t o = 0;
	if (!tr->from.any) {
		if (!side_set(r, &tr->from, fam, name, sizeof(name)))
			return;
		o += (size_t)snprintf(match + o, sizeof(match) - o, " %s saddr @%s", ip, name);
	}
	if (!tr->to.any) {
		if (!side_set(r, &tr->to, fam, name, sizeof(name)))
			return;
		o += (size_t)snprintf(match + o, sizeof(match) - o, " %s daddr @%s", ip, name);
	}
	switch (tr->scope) {
	case POL_SCOPE_SAME_SITE:
	case POL_SCOPE_SAME_DISTRICT: {
		bool site = tr->scope == POL_SCOPE_SAME_SITE;
		if (!list_set(r, site ? POL_L_LOCAL : POL_L_DISTRICT, site ? "local" : "district",
			      fam, name, sizeof(name)))
			return;
		o += (size_t)snprintf(match + o, sizeof(match) - o, " %s saddr @%s %s daddr @%s",
				      ip, name, ip, name);
		break;
	}
	case POL_SCOPE_DC_ONLY:
		if (!list_set(r, POL_L_DC, "dc", fam, name, sizeof(name)))
			return;
		o += (size_t)snprintf(match + o, sizeof(match) - o, " %s daddr @%s", ip, name);
		break;
	default:
		break;
	}
	/* Without an address match nothing ties the rule to its family: say it (inet table). */
	if (o == 0)
		o = (size_t)snprintf(match, sizeof(match), " meta nfproto %s",
				     fam == 4 ? "ipv4" : "ipv6");
	/* The end in Unix seconds: a local-time string would depend on the loader's TZ. */
	if (tr->expires)
		o += (size_t)snprintf(match + o, sizeof(match) - o, " meta time < %lld",
				      (long long)tr->expires);
	/* A time window: its occurrences as absolute UTC instants (no TZ, no DST). */
	if (tr->window) {
		if (!tr->nspans)
			return;
		char wn[64];
		rule_obj_name(wn, sizeof(wn), "w_", tr->id, "");
		window_set(r, wn, tr);
		o += (size_t)snprintf(match + o, sizeof(match) - o, " meta time @%s", wn);
	}
	if (tr->svc.any) {
		verdict(r, tr, match + 1, fam);
		return;
	}
	for (int k = 0; k < SVC_KIND_COUNT; k++) {
		if (!svc_count(&tr->svc, (enum svc_kind)k) || (k == SVC_ICMP && fam != 4) ||
		    (k == SVC_ICMP6 && fam != 6))
			continue;
		service_set(r, tr, (enum svc_kind)k, name, sizeof(name));
		static const char *const how[SVC_KIND_COUNT] = {
		    "meta l4proto . th dport", "icmp type", "icmpv6 type", "meta l4proto"};
		char full[sizeof(match) + NAME_MAX_LEN + 96];
		snprintf(full, sizeof(full), "%s %s @%s", match + 1, how[k], name);
		verdict(r, tr, full, fam);
	}
}

static void default_rules(struct render *r, FILE *f, const char *chain)
{
	const struct policy *p = r->b->p;
	struct pol_table_meta m;
	char g[32];
	pol_table_get_meta(r->t, &m);
	bool observe = m.mode == POL_MODE_OBSERVE && strcmp(chain, "forward") == 0;
	if (p->log_denied || observe)
		fprintf(f, "\t\tlimit rate %u/%s log prefix \"segplan %s %s \"%s\n", p->log_rate,
			p->log_rate_unit, observe ? "observe" : "drop", chain,
			log_group(p, g, sizeof(g)));
	fprintf(f, "\t\tcounter %s comment \"default\"\n", observe ? "accept" : "drop");
}

/* The interfaces of site's gateway (interfaces.csv); 0 when it has none. */
static size_t site_ifaces(const struct inventory *inv, int site, const struct iface **v)
{
	*v = NULL;
	if (!inv->iface_start || !inv->ifaces)
		return 0;
	*v = &inv->ifaces[inv->iface_start[site]];
	return inv->iface_start[site + 1] - inv->iface_start[site];
}

/*
 * Strict reverse-path checks (RFC 3704 2.2) break asymmetric routing: only a
 * single-homed gateway gets them, or one that has no interface table (which
 * keeps the behaviour of inventories without one).
 */
static bool strict_rpf(const struct inventory *inv, int site, const struct iface *v, size_t n)
{
	if (n == 0)
		return true;
	size_t paths = 0, links = 0;
	for (size_t i = 0; i < n; i++)
		paths += v[i].role != IFACE_SEGMENT;
	for (size_t i = 0; i < inv->nlinks; i++)
		if (inv->links[i].kind != LINK_PLANNED &&
		    (inv->links[i].a == site || inv->links[i].b == site))
			links++;
	return paths <= 1 && links <= 1;
}

/* On a segment interface only that segment's prefixes (and, for IPv6, link-local
 * addresses) are sources; a family the segment lacks sends nothing. */
static void segment_antispoof(FILE *f, const char *ifname, uint8_t fam, bool has,
			      const struct ip_prefix *p)
{
	char a[IP_PREFIX_STRLEN] = "";
	fprintf(f, "\t\tiifname \"%s\" ", ifname);
	if (has)
		ip_prefix_format(p, a, sizeof(a));
	if (fam == 4)
		fprintf(f, has ? "ip saddr != %s" : "meta nfproto ipv4", a);
	else
		fprintf(f, has ? "ip6 saddr != { %s, fe80::/10 }" : "ip6 saddr != fe80::/10", a);
	fputs(" counter drop comment \"fixed:antispoof\"\n", f);
}

/* `iifname { "a", "b" }` of the interfaces with the given role (or every non-segment one). */
static bool iface_names(FILE *f, const struct iface *v, size_t n, bool segment)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if ((v[i].role == IFACE_SEGMENT) == segment)
			fprintf(f, "%s\"%s\"", k++ ? ", " : "{ ", v[i].name);
	if (k)
		fputs(" }", f);
	return k > 0;
}

/*
 * The raw-priority prerouting chain: anti-spoofing before anything trusts a
 * source address (the input chain's anti-lockout, the management rules, every
 * policy rule), then conntrack exemption for transit.
 */
static void render_prerouting(struct render *r, int site)
{
	const struct inventory *inv = r->b->inv;
	const struct iface *v;
	size_t n = site_ifaces(inv, site, &v);
	FILE *f = r->pre;
	char l4[32], l6[32];
	fputs(
	    "\tchain prerouting {\n\t\ttype filter hook prerouting priority raw; policy accept;\n",
	    f);
	if (n) {
		/* An interface the table does not name (a trunk's untagged parent, a stray
		 * port) is trusted for nothing: no source could be checked there. */
		fputs("\t\tiifname != { \"lo\"", f);
		for (size_t i = 0; i < n; i++)
			fprintf(f, ", \"%s\"", v[i].name);
		fputs(" } counter drop comment \"fixed:unknown-interface\"\n", f);
	}
	for (size_t i = 0; i < n; i++) {
		const struct iface *x = &v[i];
		if (x->role != IFACE_SEGMENT)
			continue;
		const struct segment *sg = &inv->segments[x->segment];
		/* What must work before a host has an address: DHCP discovery (RFC 2131
		 * 4.1) and duplicate address detection with its MLD report (RFC 4862
		 * 5.4, RFC 3810 5.2.13). */
		fprintf(f,
			"\t\tiifname \"%s\" ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept "
			"comment \"fixed:dhcp\"\n"
			"\t\tiifname \"%s\" ip6 saddr :: icmpv6 type { nd-router-solicit, "
			"nd-neighbor-solicit, mld-listener-report, mld2-listener-report } accept "
			"comment \"fixed:dad\"\n",
			x->name, x->name);
		segment_antispoof(f, x->name, 4, sg->has_v4, &sg->v4);
		segment_antispoof(f, x->name, 6, sg->has_v6, &sg->v6);
	}
	list_set(r, POL_L_LOCAL, "local", 4, l4, sizeof(l4));
	list_set(r, POL_L_LOCAL, "local", 6, l6, sizeof(l6));
	if (n) {
		/* The site's own addresses come only from its segments (and the gateway
		 * itself, over loopback): not from uplinks or transfer networks. */
		for (uint8_t fam = 4; fam <= 6; fam += 2) {
			fputs("\t\tiifname != { \"lo\"", f);
			for (size_t i = 0; i < n; i++)
				if (v[i].role == IFACE_SEGMENT)
					fprintf(f, ", \"%s\"", v[i].name);
			fprintf(f, " } %s saddr @%s counter drop comment \"fixed:antispoof\"\n",
				fam == 4 ? "ip" : "ip6", fam == 4 ? l4 : l6);
		}
	}
	if (strict_rpf(inv, site, v, n))
		fputs("\t\tfib saddr . iif oif missing counter drop comment \"fixed:antispoof\"\n",
		      f);
	/* Transit is not judged here: conntrack would only fill up with it, and an
	 * asymmetric path would make its packets invalid. */
	fprintf(f,
		"\t\tip saddr != @%s ip daddr != @%s fib daddr type unicast notrack comment "
		"\"fixed:transit\"\n"
		"\t\tip6 saddr != @%s ip6 daddr != @%s fib daddr type unicast notrack comment "
		"\"fixed:transit\"\n",
		l4, l4, l6, l6);
	fputs("\t}\n", f);
}

/* The interface called name among v, or NULL. */
static const struct iface *iface_named(const struct iface *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/*
 * Routing and redundancy protocols, as they really work, on the interfaces
 * that run them: one rule per access of gw_access_list (analysis/gateway.h),
 * the list lint and diff compare, so the two cannot drift apart.
 */
static void render_protocols(struct render *r, int site, const struct iface *v, size_t n)
{
	struct gw_access *acc = NULL;
	size_t na = 0;
	FILE *f = r->in;
	char own[IP_PREFIX_STRLEN], on[64] = "";
	if (gw_access_list(r->b->inv, site, &acc, &na) < 0) {
		r->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < na; i++) {
		const struct gw_access *a = &acc[i];
		const struct iface *x = a->iface[0] ? iface_named(v, n, a->iface) : NULL;
		bool any = strcmp(a->from, "any") == 0, v4 = a->family == 4;
		const char *ip = v4 ? "ip" : "ip6";
		snprintf(on, sizeof(on), x ? "iifname \"%s\" " : "%s", x ? x->name : "");
		if (x)
			ip_addr_format(v4 ? &x->addr4 : &x->addr6, own, sizeof(own));
		if (strcmp(a->proto, "ospf") == 0 && v4) {
			/* OSPFv2 (RFC 2328 A.1): TTL 1, from the link's subnet, to AllSPFRouters,
			 * AllDRouters or this interface (database exchange is unicast). */
			fprintf(f, "\t\t%sip protocol ospf ip ttl 1", on);
			if (x)
				fprintf(f, " ip saddr %s ip daddr { 224.0.0.5, 224.0.0.6, %s }",
					a->from, own);
			fputs(" accept comment \"fixed:ospf\"\n", f);
		} else if (strcmp(a->proto, "ospf") == 0) {
			/* OSPFv3 (RFC 5340 A.1): link-local source, hop limit 1. */
			fprintf(
			    f,
			    "\t\t%smeta nfproto ipv6 meta l4proto ospf ip6 hoplimit 1 ip6 saddr "
			    "%s%s accept comment \"fixed:ospf\"\n",
			    on, a->from, x ? " ip6 daddr { ff02::5, ff02::6 }" : "");
			if (x)
				fprintf(
				    f,
				    "\t\t%smeta nfproto ipv6 meta l4proto ospf ip6 hoplimit 1 ip6 "
				    "saddr %s ip6 daddr fe80::/10 fib daddr . iif type local "
				    "accept "
				    "comment \"fixed:ospf\"\n",
				    on, a->from);
		} else if (strcmp(a->proto, "vrrp") == 0 && (any || !x || strchr(a->from, '/'))) {
			/* VRRP (RFC 9568 5.1.1.3, 5.1.2.3): TTL / hop limit 255 to the group. */
			char from[IP_PREFIX_STRLEN + 16] = "";
			if (!any)
				snprintf(from, sizeof(from), " %s saddr %s", ip, a->from);
			fprintf(f, "\t\t%s%s 255%s %s daddr %s accept comment \"fixed:vrrp\"\n", on,
				v4 ? "ip protocol vrrp ip ttl"
				   : "meta nfproto ipv6 meta l4proto vrrp ip6 hoplimit",
				from, ip, v4 ? "224.0.0.18" : "ff02::12");
		} else if (strcmp(a->proto, "vrrp") == 0) {
			/* A unicast VRRP peer, to this interface's address. */
			fprintf(f,
				"\t\t%s%s saddr %s %s daddr %s meta l4proto vrrp %s 255 accept "
				"comment \"fixed:vrrp\"\n",
				on, ip, a->from, ip, own, v4 ? "ip ttl" : "ip6 hoplimit");
		} else if (strcmp(a->proto, "bgp") == 0) {
			/* BGP (RFC 4271 8.2.1): the configured peers only, or (no interface
			 * table: the behaviour `segplan check` warns of) anyone. */
			if (any)
				fprintf(f,
					"\t\t%smeta nfproto %s tcp dport 179 accept comment "
					"\"fixed:bgp\"\n",
					on, v4 ? "ipv4" : "ipv6");
			else
				fprintf(f,
					"\t\t%s%s saddr %s tcp dport 179 accept comment "
					"\"fixed:bgp\"\n",
					on, ip, a->from);
		}
	}
	free(acc);
}

static void render_input(struct render *r, int site)
{
	const struct inventory *inv = r->b->inv;
	const struct iface *v;
	size_t n = site_ifaces(inv, site, &v);
	FILE *f = r->in;
	char name[64];
	fputs("\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
	      "\t\tiif \"lo\" accept comment \"fixed:loopback\"\n"
	      "\t\tct state established,related accept comment \"fixed:established\"\n"
	      "\t\tct state invalid counter drop comment \"fixed:invalid\"\n",
	      f);
	/* After the prerouting chain's anti-spoofing: a forged management source is gone. */
	for (uint8_t fam = 4; fam <= 6; fam += 2) {
		snprintf(name, sizeof(name), "mgmt_%s", fam_sfx(fam));
		declare_addr_set(r, name, name, fam, &r->b->mgmt);
		if (count_family(&r->b->mgmt, fam))
			fprintf(f,
				"\t\t%s saddr @%s counter accept comment \"fixed:anti-lockout\"\n",
				fam == 4 ? "ip" : "ip6", name);
	}
	fputs("\t\ticmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
	      "nd-neighbor-advert } ip6 hoplimit 255 accept comment \"fixed:nd\"\n",
	      f);
	if (n) {
		fputs(
		    "\t\ticmpv6 type { mld-listener-report, mld2-listener-report } ip6 hoplimit 1 "
		    "ip6 saddr { ::, fe80::/10 } accept comment \"fixed:mld\"\n",
		    f);
		/* DHCP discovery and renewal (RFC 2131 4.1) from the segments, to the
		 * gateway's relay or server. */
		char *names = NULL;
		size_t nl = 0;
		FILE *nf = open_memstream(&names, &nl);
		bool any = nf && iface_names(nf, v, n, true);
		if (nf)
			fclose(nf);
		if (!nf || !names)
			r->err = -ENOMEM;
		else if (any)
			fprintf(f,
				"\t\tiifname %s udp sport 68 udp dport 67 accept comment "
				"\"fixed:dhcp\"\n",
				names);
		free(names);
	}
	render_protocols(r, site, v, n);
	/* The gateway services (policy.yaml gateway:), after everything fixed. */
	r->cur = r->in;
	for (size_t i = 0; i < pol_table_nrules(r->t); i++)
		for (uint8_t fam = 4; fam <= 6; fam += 2)
			if (pol_table_rule(r->t, i)->gateway)
				render_rule(r, pol_table_rule(r->t, i), fam);
	default_rules(r, f, "input");
	fputs("\t}\n", f);
}

static void render_forward(struct render *r)
{
	FILE *f = r->fwd;
	char l4[32], l6[32];
	list_set(r, POL_L_LOCAL, "local", 4, l4, sizeof(l4));
	list_set(r, POL_L_LOCAL, "local", 6, l6, sizeof(l6));
	/* ICMP errors pass only as RELATED to a tracked connection; unsolicited ones
	 * are INVALID (pol_icmp_can_open), as are transit packets' never: they are
	 * untracked (prerouting) and pass before. */
	fprintf(f,
		"\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n"
		"\t\tct state established,related accept comment \"fixed:established\"\n"
		"\t\tip saddr != @%s ip daddr != @%s counter accept comment \"fixed:transit\"\n"
		"\t\tip6 saddr != @%s ip6 daddr != @%s counter accept comment "
		"\"fixed:transit\"\n"
		"\t\tct state invalid counter drop comment \"fixed:invalid\"\n",
		l4, l4, l6, l6);
	r->cur = r->fwd;
	for (size_t i = 0; i < pol_table_nrules(r->t); i++)
		for (uint8_t fam = 4; fam <= 6; fam += 2)
			if (!pol_table_rule(r->t, i)->gateway)
				render_rule(r, pol_table_rule(r->t, i), fam);
	default_rules(r, f, "forward");
	fputs("\t}\n", f);
}

int pol_nft_render(const struct pol_build *b, const struct pol_table *t, int site, char **text,
		   size_t *len, struct pol_nft_stats *st)
{
	struct render r = {.b = b, .t = t};
	char *sb = NULL, *fb = NULL, *ib = NULL, *pb = NULL, *out = NULL;
	size_t sl = 0, fl = 0, il = 0, pl = 0, ol = 0;
	int rc = -ENOMEM;
	*text = NULL;
	r.sets = open_memstream(&sb, &sl);
	r.fwd = open_memstream(&fb, &fl);
	r.in = open_memstream(&ib, &il);
	r.pre = open_memstream(&pb, &pl);
	if (!r.sets || !r.fwd || !r.in || !r.pre)
		goto out;
	render_prerouting(&r, site);
	render_forward(&r);
	render_input(&r, site);
	if (r.err < 0) {
		rc = r.err;
		goto out;
	}
	fclose(r.sets);
	fclose(r.fwd);
	fclose(r.in);
	fclose(r.pre);
	r.sets = r.fwd = r.in = r.pre = NULL;
	struct pol_table_meta m;
	pol_table_get_meta(t, &m);
	FILE *o = open_memstream(&out, &ol);
	if (!o)
		goto out;
	fprintf(o,
		"# segplan policy for gateway %s (district %s), mode %s\n"
		"# %s, expiry judged on %s\n"
		"# Generated by %s: do not edit, change policy.yaml and compile again.\n"
		"# Loads in one transaction (nft -f): create the table if missing, delete it,\n"
		"# then define it again with its sets.\n"
		"table inet segplan\n"
		"delete table inet segplan\n"
		"table inet segplan {\n",
		m.gateway, m.district, pol_mode_names[m.mode], m.hash, m.date, m.generator);
	fwrite(sb, 1, sl, o);
	fwrite(pb, 1, pl, o);
	fwrite(fb, 1, fl, o);
	fwrite(ib, 1, il, o);
	fputs("}\n", o);
	if (fclose(o) != 0)
		goto out;
	*text = out;
	*len = ol;
	out = NULL;
	r.st.bytes = ol;
	if (st)
		*st = r.st;
	rc = 0;
out:
	if (r.sets)
		fclose(r.sets);
	if (r.fwd)
		fclose(r.fwd);
	if (r.in)
		fclose(r.in);
	if (r.pre)
		fclose(r.pre);
	free(pb);
	free(sb);
	free(fb);
	free(ib);
	free(out);
	for (size_t i = 0; i < r.nnames; i++)
		free(r.names[i]);
	for (size_t i = 0; i < r.nnames; i++)
		free(r.keys[i]);
	free(r.names);
	free(r.keys);
	free(r.nonempty);
	return rc;
}

/* ------------------------------------------------------------------ */

static int write_gateway(const struct pol_build *b, struct atomic_batch *batch, const char *dir,
			 int site, enum pol_mode mode, struct pol_compile_stats *st)
{
	const char *id = b->inv->sites[site].id;
	struct pol_table *t = NULL;
	char *text = NULL, *json = NULL, *path = NULL;
	size_t len = 0;
	struct pol_nft_stats ns;
	/* Site ids are file names here: refuse the two that name directories. */
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return -EINVAL;
	int rc = pol_build_gateway(b, site, mode, &t);
	if (rc == 0)
		rc = pol_nft_render(b, t, site, &text, &len, &ns);
	if (rc < 0)
		goto out;
	json_t *j = pol_table_to_json(t);
	json = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	rc = -ENOMEM;
	if (!json || asprintf(&path, "%s/%s.nft", dir, id) < 0)
		goto out;
	if ((rc = atomic_batch_add(batch, path, text, len)) < 0)
		goto out;
	free(path);
	path = NULL;
	size_t jl = strlen(json);
	json[jl] = '\n';
	rc = -ENOMEM;
	if (asprintf(&path, "%s/%s.policy.json", dir, id) < 0)
		goto out;
	if ((rc = atomic_batch_add(batch, path, json, jl + 1)) < 0)
		goto out;
	st->gateways++;
	st->rules += ns.rules;
	st->elements += ns.elements;
	st->bytes += len + jl + 1;
	if (ns.rules > st->max_rules)
		st->max_rules = ns.rules;
	if (ns.elements > st->max_elements)
		st->max_elements = ns.elements;
out:
	free(path);
	free(text);
	free(json);
	pol_table_free(t);
	return rc;
}

static bool compile_selected(const struct pol_compile_opts *o, size_t s)
{
	for (size_t i = 0; i < o->nsites; i++)
		if ((size_t)o->sites[i] == s)
			return true;
	return o->nsites == 0;
}

int pol_compile(const struct policy *p, const struct inventory *inv, const char *dir,
		const struct pol_compile_opts *o, struct pol_compile_stats *st)
{
	struct pol_build *b = NULL;
	struct atomic_batch *batch = NULL;
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < o->nsites; i++)
		if (o->sites[i] < 0 || (size_t)o->sites[i] >= inv->nsites)
			return -EINVAL;
	int rc = pol_build_new(p, inv, &b);
	if (rc == 0)
		rc = mkdir_p(dir);
	if (rc == 0)
		rc = atomic_batch_new(&batch);
	/* Every gateway's files appear together, or none of them. */
	for (size_t s = 0; s < inv->nsites && rc == 0; s++)
		if (compile_selected(o, s))
			rc = write_gateway(b, batch, dir, (int)s, o->mode, st);
	if (rc == 0)
		rc = atomic_batch_commit(batch);
	else
		atomic_batch_abort(batch);
	pol_build_free(b);
	return rc;
}
