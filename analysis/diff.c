// SPDX-License-Identifier: MIT
#include "analysis/diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The atoms of one (before rule, after rule) pair in one view, merged into boxes at the end. */
struct group {
	int view; /* -1: the city view, else index into report->sites */
	int ra, rb;
	struct lint_box *v;
	size_t n, cap;
};

struct differ {
	const struct lint_space *s;
	const struct inventory *ia, *ib;
	const struct policy *pa, *pb;
	int64_t *times; /* one instant per combination of time windows (lint_space_regimes) */
	size_t ntimes;
	struct group *g;
	size_t ng;
	char **sites;
	size_t nsites;
};

static struct group *group_of(struct differ *D, int view, int ra, int rb)
{
	for (size_t i = D->ng; i-- > 0;)
		if (D->g[i].view == view && D->g[i].ra == ra && D->g[i].rb == rb)
			return &D->g[i];
	struct group *v = realloc(D->g, (D->ng + 1) * sizeof(*v));
	if (!v)
		return NULL;
	D->g = v;
	memset(&v[D->ng], 0, sizeof(v[0]));
	v[D->ng].view = view;
	v[D->ng].ra = ra;
	v[D->ng].rb = rb;
	return &v[D->ng++];
}

/* Room for one more box. */
static int group_grow(struct group *g)
{
	if (g->n < g->cap)
		return 0;
	size_t cap = g->cap ? 2 * g->cap : 16;
	struct lint_box *v = realloc(g->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	g->v = v;
	g->cap = cap;
	return 0;
}

static int group_add(struct group *g, const struct lint_space *s, size_t atom,
		     const struct lint_ivset *svc)
{
	if (group_grow(g) < 0)
		return -ENOMEM;
	int rc = lint_box_atom(s, atom, svc, &g->v[g->n]);
	if (rc == 0)
		g->n++;
	return rc;
}

/* A box of source endpoint e, family fam, services svc, to the gateway itself. */
static int group_add_input(struct group *g, size_t ne, uint8_t fam, int e,
			   const struct lint_ivset *svc)
{
	if (group_grow(g) < 0)
		return -ENOMEM;
	struct lint_box *b = &g->v[g->n];
	memset(b, 0, sizeof(*b));
	b->fams = fam == 4 ? 1u : 2u;
	b->rels = (1u << LINT_REL_COUNT) - 1;
	b->from = calloc(ne + 1, sizeof(bool));
	b->to = calloc(ne + 1, sizeof(bool));
	if (!b->from || !b->to || lint_ivset_union(svc, &b->svc, &b->svc) < 0 ||
	    lint_ivset_add_fixed(&b->svc, 4) < 0 || lint_ivset_add_fixed(&b->svc, 6) < 0) {
		lint_box_free(b);
		return -ENOMEM;
	}
	b->from[e] = true;
	g->n++;
	return 0;
}

static enum pol_action action_of(const struct policy *p, int rule)
{
	return rule < 0 ? POL_DROP : p->rules[rule].action;
}

static const struct pol_limit *limit_of(const struct policy *p, int rule)
{
	static const struct pol_limit none;
	return rule < 0 ? &none : &p->rules[rule].limit;
}

/* The same verdict: the same action, and an accept limited alike (a limit is part of it). */
static bool same_verdict(const struct differ *D, int ra, int rb)
{
	if (action_of(D->pa, ra) != action_of(D->pb, rb))
		return false;
	const struct pol_limit *x = limit_of(D->pa, ra), *y = limit_of(D->pb, rb);
	if (action_of(D->pa, ra) != POL_ACCEPT || (!x->rate && !y->rate))
		return true;
	return x->rate == y->rate && strcmp(x->unit, y->unit) == 0 && x->burst == y->burst &&
	       x->per_source == y->per_source;
}

/* The decisions' parts of both rule lists, with the default drop's last. */
static void parts_free(struct lint_ivset *pa, size_t na, struct lint_ivset *pb, size_t nb)
{
	for (size_t i = 0; pa && i <= na; i++)
		lint_ivset_free(&pa[i]);
	for (size_t j = 0; pb && j <= nb; j++)
		lint_ivset_free(&pb[j]);
	free(pa);
	free(pb);
}

/* Compares the two rule lists of one view atom by atom. */
static int diff_view(struct differ *D, int view, const struct lint_model *ma,
		     const struct lint_model *mb, const bool *real, size_t *natoms)
{
	const struct lint_space *s = D->s;
	size_t na = lint_model_nrules(ma), nb = lint_model_nrules(mb);
	struct lint_ivset *pa = calloc(na + 1, sizeof(*pa)), *pb = calloc(nb + 1, sizeof(*pb));
	struct lint_ivset x = {0};
	int rc = pa && pb ? 0 : -ENOMEM;
	for (size_t at = 0; at < lint_space_natoms(s) && rc == 0; at++) {
		if (!real[at])
			continue;
		if (natoms)
			(*natoms)++;
		/* The default drop's part goes last, as rule index na (nb). */
		rc = lint_model_decide(ma, at, pa, &pa[na]);
		if (rc == 0)
			rc = lint_model_decide(mb, at, pb, &pb[nb]);
		for (size_t i = 0; i <= na && rc == 0; i++) {
			if (!pa[i].n)
				continue;
			int ra = i < na ? lint_model_rule(ma, i) : -1;
			for (size_t j = 0; j <= nb && rc == 0; j++) {
				int rb = j < nb ? lint_model_rule(mb, j) : -1;
				if (!pb[j].n || same_verdict(D, ra, rb))
					continue;
				if ((rc = lint_ivset_inter(&pa[i], &pb[j], &x)) < 0 || !x.n)
					continue;
				struct group *g = group_of(D, view, ra, rb);
				rc = g ? group_add(g, s, at, &x) : -ENOMEM;
			}
		}
	}
	parts_free(pa, na, pb, nb);
	lint_ivset_free(&x);
	return rc;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static bool not_excepted(const char *site, void *ctx)
{
	const struct differ *D = ctx;
	return !in_list(D->sites, D->nsites, site);
}

static bool is_site(const char *site, void *ctx)
{
	return strcmp(site, ctx) == 0;
}

/* Sites with exceptions that are compiled (not expired), in either policy. */
static int exception_sites(struct differ *D, const struct policy *p, const struct inventory *inv)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];
		if (r->site < 0 || r->expired ||
		    in_list(D->sites, D->nsites, inv->sites[r->site].id))
			continue;
		char **v = realloc(D->sites, (D->nsites + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		D->sites = v;
		if (!(v[D->nsites] = strdup(inv->sites[r->site].id)))
			return -ENOMEM;
		D->nsites++;
	}
	return 0;
}

static int one_view(struct differ *D, const struct inventory *ia, const struct inventory *ib,
		    int view, size_t *natoms)
{
	const struct lint_space *s = D->s;
	struct lint_model *ma = NULL, *mb = NULL;
	bool *real = calloc(lint_space_natoms(s) + 1, 1);
	const char *id = view >= 0 ? D->sites[view] : NULL;
	int rc = real ? 0 : -ENOMEM;
	if (rc == 0 && id) {
		lint_space_realise(s, 0, is_site, (void *)id, real);
		lint_space_realise(s, 1, is_site, (void *)id, real);
		rc = lint_model_new(s, 0, inventory_find_site(ia, id), &ma);
		if (rc == 0)
			rc = lint_model_new(s, 1, inventory_find_site(ib, id), &mb);
	} else if (rc == 0) {
		lint_space_realise(s, 0, not_excepted, D, real);
		lint_space_realise(s, 1, not_excepted, D, real);
		rc = lint_model_new(s, 0, -1, &ma);
		if (rc == 0)
			rc = lint_model_new(s, 1, -1, &mb);
	}
	/* Every combination of time windows; the atoms are counted once. */
	for (size_t t = 0; t < D->ntimes && rc == 0; t++) {
		lint_model_set_time(ma, D->times[t]);
		lint_model_set_time(mb, D->times[t]);
		rc = diff_view(D, view, ma, mb, real, t == 0 ? natoms : NULL);
	}
	lint_model_free(ma);
	lint_model_free(mb);
	free(real);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Beyond the forward chain: management, logging, expiry, gateway protocols */

static bool in_mgmt(const struct policy *p, const char *zone)
{
	for (size_t i = 0; i < p->nmanagement; i++)
		if (strcmp(p->zones[p->management[i]].name, zone) == 0)
			return true;
	return false;
}

/* The zones of x's management that y's lacks, with their hosts in inv. */
static int mgmt_side(struct diff_report *d, const struct policy *x, const struct inventory *inv,
		     const struct policy *y, bool added)
{
	for (size_t i = 0; i < x->nmanagement; i++) {
		const char *zone = x->zones[x->management[i]].name;
		if (in_mgmt(y, zone))
			continue;
		struct diff_mgmt *v = realloc(d->mgmt, (d->nmgmt + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->mgmt = v;
		struct diff_mgmt *m = &v[d->nmgmt++];
		memset(m, 0, sizeof(*m));
		m->added = added;
		if (!(m->zone = strdup(zone)) ||
		    !(m->gateways = calloc(inv->nsites + 1, sizeof(char *))))
			return -ENOMEM;
		for (; m->ngateways < inv->nsites; m->ngateways++)
			if (!(m->gateways[m->ngateways] = strdup(inv->sites[m->ngateways].id)))
				return -ENOMEM;
		int rc = gw_zone_prefixes(inv, zone, &m->hosts, &m->nhosts);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int setting_add(struct diff_setting **v, size_t *n, const char *key, const char *rule,
		       const char *before, const char *after)
{
	if ((before && after && strcmp(before, after) == 0) || (!before && !after))
		return 0;
	struct diff_setting *w = realloc(*v, (*n + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	*v = w;
	struct diff_setting *s = &w[(*n)++];
	memset(s, 0, sizeof(*s));
	s->key = key;
	if ((rule && !(s->rule = strdup(rule))) || (before && !(s->before = strdup(before))) ||
	    (after && !(s->after = strdup(after))))
		return -ENOMEM;
	return 0;
}

static void log_values(const struct policy *p, char *group, char *rate, size_t size)
{
	if (p->log_group >= 0)
		snprintf(group, size, "%d", p->log_group);
	else
		group[0] = '\0';
	snprintf(rate, size, "%u/%s", p->log_rate, p->log_rate_unit);
}

/* Logging settings, each rule's `log` and `expires` (rules in both policies, by id). */
static int diff_settings(struct diff_report *d, const struct policy *a, const struct policy *b)
{
	char ga[32], gb[32], ra[48], rb[48];
	log_values(a, ga, ra, sizeof(ga));
	log_values(b, gb, rb, sizeof(gb));
	int rc = setting_add(&d->logging, &d->nlogging, "denied", NULL,
			     a->log_denied ? "true" : "false", b->log_denied ? "true" : "false");
	if (rc == 0)
		rc = setting_add(&d->logging, &d->nlogging, "group", NULL, ga[0] ? ga : NULL,
				 gb[0] ? gb : NULL);
	if (rc == 0)
		rc = setting_add(&d->logging, &d->nlogging, "rate", NULL, ra, rb);
	for (size_t i = 0; i < b->nrules && rc == 0; i++) {
		const struct pol_rule *rn = &b->rules[i];
		int j = policy_find_rule(a, rn->id);
		if (j < 0)
			continue;
		const struct pol_rule *ro = &a->rules[j];
		rc = setting_add(&d->logging, &d->nlogging, "log", rn->id,
				 ro->log ? "true" : "false", rn->log ? "true" : "false");
		if (rc == 0)
			rc = setting_add(&d->expiry, &d->nexpiry, "expires", rn->id,
					 ro->expires[0] ? ro->expires : NULL,
					 rn->expires[0] ? rn->expires : NULL);
	}
	return rc;
}

static int access_add(struct gw_access **v, size_t *n, const struct gw_access *a)
{
	struct gw_access *w = realloc(*v, (*n + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	*v = w;
	w[(*n)++] = *a;
	return 0;
}

static bool access_in(const struct gw_access *v, size_t n, const struct gw_access *a)
{
	for (size_t i = 0; i < n; i++)
		if (gw_access_equal(&v[i], a))
			return true;
	return false;
}

/* One gateway's protocol access before (site sa of ia, -1: absent) and after. */
static int diff_gateway_one(struct diff_report *d, const char *id, const struct inventory *ia,
			    int sa, const struct inventory *ib, int sb)
{
	struct gw_access *va = NULL, *vb = NULL;
	size_t na = 0, nb = 0;
	struct diff_gateway g = {0};
	int rc = sa >= 0 ? gw_access_list(ia, sa, &va, &na) : 0;
	if (rc == 0 && sb >= 0)
		rc = gw_access_list(ib, sb, &vb, &nb);
	for (size_t i = 0; i < nb && rc == 0; i++)
		if (!access_in(va, na, &vb[i]))
			rc = access_add(&g.added, &g.nadded, &vb[i]);
	for (size_t i = 0; i < na && rc == 0; i++)
		if (!access_in(vb, nb, &va[i]))
			rc = access_add(&g.removed, &g.nremoved, &va[i]);
	if (rc == 0 && (g.nadded || g.nremoved)) {
		struct diff_gateway *w = realloc(d->gateways, (d->ngateways + 1) * sizeof(*w));
		if (!w || !(g.site = strdup(id))) {
			if (w)
				d->gateways = w;
			rc = -ENOMEM;
		} else {
			d->gateways = w;
			w[d->ngateways++] = g;
			memset(&g, 0, sizeof(g));
		}
	}
	free(g.added);
	free(g.removed);
	free(va);
	free(vb);
	return rc;
}

static int diff_gateways(struct diff_report *d, const struct inventory *ia,
			 const struct inventory *ib)
{
	int rc = 0;
	for (size_t s = 0; s < ib->nsites && rc == 0; s++)
		rc = diff_gateway_one(d, ib->sites[s].id, ia,
				      inventory_find_site(ia, ib->sites[s].id), ib, (int)s);
	for (size_t s = 0; s < ia->nsites && rc == 0; s++)
		if (inventory_find_site(ib, ia->sites[s].id) < 0)
			rc = diff_gateway_one(d, ia->sites[s].id, ia, (int)s, ib, -1);
	return rc;
}

size_t diff_count(const struct diff_report *d)
{
	return d->n + d->nmgmt + d->nlogging + d->nexpiry + d->ngateways + d->nservices;
}

/* ------------------------------------------------------------------ */
/* Gateway services: the input chain of every gateway with addresses of its own */

/* Gateways whose gateway services are the same list in each policy. */
struct sgroup {
	struct lint_model *ma, *mb;
	char **ids;
	size_t n;
};

static bool has_self(const struct inventory *inv, int site)
{
	if (site < 0)
		return false;
	for (size_t k = inv->iface_start[site]; k < inv->iface_start[site + 1]; k++)
		if (inv->ifaces[k].has_v4 || inv->ifaces[k].has_v6)
			return true;
	return false;
}

static int sgroup_add(struct sgroup **g, size_t *ng, const struct lint_space *s, const char *id,
		      int sa, int sb)
{
	struct lint_model *ma = NULL, *mb = NULL;
	int rc = lint_model_new_input(s, 0, sa, &ma);
	if (rc == 0)
		rc = lint_model_new_input(s, 1, sb, &mb);
	size_t k = 0;
	for (; rc == 0 && k < *ng; k++)
		if (lint_model_same_rules((*g)[k].ma, ma) && lint_model_same_rules((*g)[k].mb, mb))
			break;
	if (rc == 0 && k == *ng) {
		struct sgroup *v = realloc(*g, (*ng + 1) * sizeof(*v));
		if (!v) {
			rc = -ENOMEM;
		} else {
			*g = v;
			memset(&v[k], 0, sizeof(v[k]));
			v[k].ma = ma;
			v[k].mb = mb;
			ma = mb = NULL;
			(*ng)++;
		}
	}
	char **ids = rc == 0 ? realloc((*g)[k].ids, ((*g)[k].n + 1) * sizeof(char *)) : NULL;
	if (rc == 0 && (!ids || !(ids[(*g)[k].n] = strdup(id)))) {
		if (ids)
			(*g)[k].ids = ids;
		rc = -ENOMEM;
	} else if (rc == 0) {
		(*g)[k].ids = ids;
		(*g)[k].n++;
	}
	lint_model_free(ma);
	lint_model_free(mb);
	return rc;
}

/* The changes of one group of gateways, as boxes per (before, after) rule pair. */
static int services_group(struct differ *D, struct diff_report *d, const struct sgroup *g)
{
	const struct lint_space *s = D->s;
	const struct lint_names *nm = lint_space_names(s);
	size_t na = lint_model_nrules(g->ma), nb = lint_model_nrules(g->mb), ne = nm->ne;
	struct lint_ivset *pa = calloc(na + 1, sizeof(*pa)), *pb = calloc(nb + 1, sizeof(*pb));
	struct lint_ivset x = {0};
	struct group *v = NULL; /* view: unused; ra, rb the rules */
	size_t nv = 0;
	int rc = pa && pb ? 0 : -ENOMEM;
	for (size_t t = 0; t < D->ntimes && rc == 0; t++) {
		lint_model_set_time(g->ma, D->times[t]);
		lint_model_set_time(g->mb, D->times[t]);
		for (size_t e = 0; e < ne && rc == 0; e++) {
			if (!nm->seen[e] || lint_model_management(g->ma, (int)e) ||
			    lint_model_management(g->mb, (int)e))
				continue;
			for (uint8_t fam = 4; fam <= 6 && rc == 0; fam += 2) {
				rc = lint_model_decide_input(g->ma, fam, (int)e, pa, &pa[na]);
				if (rc == 0)
					rc = lint_model_decide_input(g->mb, fam, (int)e, pb,
								     &pb[nb]);
				for (size_t i = 0; i <= na && rc == 0; i++) {
					if (!pa[i].n)
						continue;
					int ra = i < na ? lint_model_rule(g->ma, i) : -1;
					for (size_t j = 0; j <= nb && rc == 0; j++) {
						int rb = j < nb ? lint_model_rule(g->mb, j) : -1;
						if (!pb[j].n || same_verdict(D, ra, rb))
							continue;
						if ((rc = lint_ivset_inter(&pa[i], &pb[j], &x)) <
							0 ||
						    !x.n)
							continue;
						size_t k = 0;
						while (k < nv && (v[k].ra != ra || v[k].rb != rb))
							k++;
						if (k == nv) {
							struct group *w =
							    realloc(v, (nv + 1) * sizeof(*w));
							if (!w) {
								rc = -ENOMEM;
								break;
							}
							v = w;
							memset(&v[nv], 0, sizeof(v[nv]));
							v[nv].ra = ra;
							v[nv++].rb = rb;
						}
						rc = group_add_input(&v[k], ne, fam, (int)e, &x);
					}
				}
			}
		}
	}
	for (size_t k = 0; k < nv && rc == 0; k++) {
		rc = lint_boxes_merge(v[k].v, &v[k].n, ne);
		struct diff_service *w =
		    rc == 0 ? realloc(d->services, (d->nservices + v[k].n + 1) * sizeof(*w)) : NULL;
		if (rc == 0 && !w)
			rc = -ENOMEM;
		if (rc < 0)
			break;
		d->services = w;
		for (size_t i = 0; i < v[k].n; i++) {
			struct diff_service *c = &d->services[d->nservices++];
			memset(c, 0, sizeof(*c));
			c->before = (struct diff_side){action_of(D->pa, v[k].ra), v[k].ra};
			c->after = (struct diff_side){action_of(D->pb, v[k].rb), v[k].rb};
			c->box = v[k].v[i];
			memset(&v[k].v[i], 0, sizeof(v[k].v[i]));
			if (!(c->gateways = calloc(g->n + 1, sizeof(char *)))) {
				rc = -ENOMEM;
				break;
			}
			for (; c->ngateways < g->n; c->ngateways++)
				if (!(c->gateways[c->ngateways] = strdup(g->ids[c->ngateways]))) {
					rc = -ENOMEM;
					break;
				}
		}
	}
	for (size_t k = 0; k < nv; k++) {
		for (size_t i = 0; i < v[k].n; i++)
			lint_box_free(&v[k].v[i]);
		free(v[k].v);
	}
	free(v);
	parts_free(pa, na, pb, nb);
	lint_ivset_free(&x);
	return rc;
}

static int diff_services(struct differ *D, struct diff_report *d)
{
	const struct inventory *ia = D->ia, *ib = D->ib;
	struct sgroup *g = NULL;
	size_t ng = 0;
	int rc = 0;
	for (size_t s = 0; s < ib->nsites && rc == 0; s++) {
		int sa = inventory_find_site(ia, ib->sites[s].id);
		if (has_self(ia, sa) || has_self(ib, (int)s))
			rc = sgroup_add(&g, &ng, D->s, ib->sites[s].id, sa, (int)s);
	}
	for (size_t s = 0; s < ia->nsites && rc == 0; s++)
		if (inventory_find_site(ib, ia->sites[s].id) < 0 && has_self(ia, (int)s))
			rc = sgroup_add(&g, &ng, D->s, ia->sites[s].id, (int)s, -1);
	for (size_t k = 0; k < ng && rc == 0; k++)
		rc = services_group(D, d, &g[k]);
	for (size_t k = 0; k < ng; k++) {
		lint_model_free(g[k].ma);
		lint_model_free(g[k].mb);
		for (size_t i = 0; i < g[k].n; i++)
			free(g[k].ids[i]);
		free(g[k].ids);
	}
	free(g);
	return rc;
}

static void settings_free(struct diff_setting *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].rule);
		free(v[i].before);
		free(v[i].after);
	}
	free(v);
}

void diff_report_free(struct diff_report *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nmgmt; i++) {
		free(d->mgmt[i].zone);
		free(d->mgmt[i].hosts);
		for (size_t k = 0; k < d->mgmt[i].ngateways; k++)
			free(d->mgmt[i].gateways[k]);
		free(d->mgmt[i].gateways);
	}
	free(d->mgmt);
	settings_free(d->logging, d->nlogging);
	settings_free(d->expiry, d->nexpiry);
	for (size_t i = 0; i < d->ngateways; i++) {
		free(d->gateways[i].site);
		free(d->gateways[i].added);
		free(d->gateways[i].removed);
	}
	free(d->gateways);
	for (size_t i = 0; i < d->n; i++)
		lint_box_free(&d->v[i].box);
	free(d->v);
	for (size_t i = 0; i < d->nservices; i++) {
		lint_box_free(&d->services[i].box);
		for (size_t k = 0; k < d->services[i].ngateways; k++)
			free(d->services[i].gateways[k]);
		free(d->services[i].gateways);
	}
	free(d->services);
	for (size_t i = 0; i < d->nsites; i++)
		free(d->sites[i]);
	free(d->sites);
	lint_names_clear(&d->names);
	free(d);
}

/* Moves every group's merged boxes into the report's change list. */
static int collect(struct differ *D, struct diff_report *d, size_t ne)
{
	for (size_t i = 0; i < D->ng; i++) {
		struct group *g = &D->g[i];
		int rc = lint_boxes_merge(g->v, &g->n, ne);
		if (rc < 0)
			return rc;
		struct diff_change *v = realloc(d->v, (d->n + g->n + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->v = v;
		for (size_t k = 0; k < g->n; k++) {
			struct diff_change *c = &d->v[d->n++];
			c->site = g->view >= 0 ? d->sites[g->view] : NULL;
			c->before = (struct diff_side){action_of(D->pa, g->ra), g->ra};
			c->after = (struct diff_side){action_of(D->pb, g->rb), g->rb};
			c->box = g->v[k];
		}
		g->n = 0;
	}
	return 0;
}

int diff_policies(const struct policy *a, const struct inventory *ia, const struct policy *b,
		  const struct inventory *ib, struct diff_report **out)
{
	const struct policy *pols[2] = {a, b};
	const struct inventory *invs[2] = {ia, ib};
	struct lint_space *s = NULL;
	struct differ D = {.pa = a, .pb = b, .ia = ia, .ib = ib};
	struct diff_report *d = calloc(1, sizeof(*d));
	int rc = d ? lint_space_new(pols, invs, 2, &s) : -ENOMEM;
	*out = NULL;
	if (rc < 0)
		goto out;
	D.s = s;
	if ((rc = lint_space_regimes(s, &D.times, &D.ntimes)) < 0 ||
	    (rc = exception_sites(&D, a, ia)) < 0 || (rc = exception_sites(&D, b, ib)) < 0)
		goto out;
	d->classes = lint_space_nclasses(s);
	d->regimes = D.ntimes;
	d->sites = D.sites;
	d->nsites = D.nsites;
	if ((rc = lint_names_copy(&d->names, lint_space_names(s))) < 0)
		goto out;
	for (int view = -1; view < (int)D.nsites && rc == 0; view++)
		rc = one_view(&D, ia, ib, view, &d->atoms);
	if (rc == 0)
		rc = collect(&D, d, d->names.ne);
	if (rc == 0)
		rc = mgmt_side(d, b, ib, a, true);
	if (rc == 0)
		rc = mgmt_side(d, a, ia, b, false);
	if (rc == 0)
		rc = diff_settings(d, a, b);
	if (rc == 0)
		rc = diff_gateways(d, ia, ib);
	if (rc == 0)
		rc = diff_services(&D, d);
out:
	free(D.times);
	for (size_t i = 0; i < D.ng; i++) {
		for (size_t k = 0; k < D.g[i].n; k++)
			lint_box_free(&D.g[i].v[k]);
		free(D.g[i].v);
	}
	free(D.g);
	lint_space_free(s);
	if (d && !d->sites) {
		for (size_t i = 0; i < D.nsites; i++)
			free(D.sites[i]);
		free(D.sites);
	}
	if (rc < 0)
		diff_report_free(d);
	else
		*out = d;
	return rc;
}

static json_t *side_json(const struct policy *p, const struct diff_side *s)
{
	json_t *o = json_pack("{s:s,s:o}", "verdict", pol_action_names[s->action], "rule",
			      s->rule >= 0 ? json_string(p->rules[s->rule].id) : json_null());
	const struct pol_limit *l = limit_of(p, s->rule);
	if (o && l->rate && s->action == POL_ACCEPT)
		json_object_set_new(o, "limit",
				    json_pack("{s:i,s:s,s:i,s:b}", "rate", l->rate, "unit", l->unit,
					      "burst", l->burst, "per_source", l->per_source));
	return o;
}

json_t *diff_change_json(const struct diff_report *d, const struct policy *a,
			 const struct policy *b, const struct diff_change *c)
{
	json_t *o = json_object(), *box = lint_box_json(&d->names, &c->box);
	if (!o || !box) {
		json_decref(o);
		json_decref(box);
		return NULL;
	}
	json_object_set_new(o, "site", c->site ? json_string(c->site) : json_null());
	json_object_update(o, box);
	json_decref(box);
	json_object_set_new(o, "before", side_json(a, &c->before));
	json_object_set_new(o, "after", side_json(b, &c->after));
	return o;
}

static void side_text(const struct policy *p, const struct diff_side *s, char *buf, size_t size)
{
	const struct pol_limit *l = limit_of(p, s->rule);
	char lim[64] = "";
	if (l->rate && s->action == POL_ACCEPT)
		snprintf(lim, sizeof(lim), ", limit %u/%s%s", l->rate, l->unit,
			 l->per_source ? " per source" : "");
	if (s->rule >= 0)
		snprintf(buf, size, "%s (rule '%s'%s)", pol_action_names[s->action],
			 p->rules[s->rule].id, lim);
	else
		snprintf(buf, size, "%s (default)", pol_action_names[s->action]);
}

char *diff_change_text(const struct diff_report *d, const struct policy *a, const struct policy *b,
		       const struct diff_change *c)
{
	char *box = lint_box_text(&d->names, &c->box), *s = NULL, x[128], y[128];
	if (!box)
		return NULL;
	side_text(a, &c->before, x, sizeof(x));
	side_text(b, &c->after, y, sizeof(y));
	if (asprintf(&s, "%s%s%s: %s -> %s", c->site ? c->site : "", c->site ? ": " : "", box, x,
		     y) < 0)
		s = NULL;
	free(box);
	return s;
}

json_t *diff_mgmt_json(const struct diff_mgmt *m)
{
	json_t *hosts = json_array(), *gws = json_array();
	char buf[IP_PREFIX_STRLEN];
	for (size_t i = 0; hosts && i < m->nhosts; i++) {
		ip_prefix_format(&m->hosts[i], buf, sizeof(buf));
		json_array_append_new(hosts, json_string(buf));
	}
	for (size_t i = 0; gws && i < m->ngateways; i++)
		json_array_append_new(gws, json_string(m->gateways[i]));
	if (!hosts || !gws) {
		json_decref(hosts);
		json_decref(gws);
		return NULL;
	}
	return json_pack("{s:s,s:s,s:o,s:o}", "zone", m->zone, "change",
			 m->added ? "added" : "removed", "hosts", hosts, "gateways", gws);
}

char *diff_mgmt_text(const struct diff_mgmt *m)
{
	char *s = NULL, buf[IP_PREFIX_STRLEN];
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	fprintf(f, "management: zone '%s' %s: ", m->zone, m->added ? "added" : "removed");
	for (size_t i = 0; i < m->nhosts; i++) {
		ip_prefix_format(&m->hosts[i], buf, sizeof(buf));
		fprintf(f, "%s%s", i ? ", " : "", buf);
	}
	fprintf(f, "%s %s all %zu gateway%s:", m->nhosts ? "" : "(no hosts)",
		m->added ? "newly reach" : "no longer reach", m->ngateways,
		m->ngateways == 1 ? "" : "s");
	for (size_t i = 0; i < m->ngateways; i++)
		fprintf(f, "%s %s", i ? "," : "", m->gateways[i]);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

json_t *diff_setting_json(const struct diff_setting *s)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "setting", json_string(s->key));
	if (s->rule)
		json_object_set_new(o, "rule", json_string(s->rule));
	json_object_set_new(o, "before", s->before ? json_string(s->before) : json_null());
	json_object_set_new(o, "after", s->after ? json_string(s->after) : json_null());
	return o;
}

char *diff_setting_text(const char *section, const struct diff_setting *s)
{
	char *t = NULL;
	const char *none = strcmp(s->key, "group") == 0 ? "kernel log" : "none";
	if (asprintf(&t, "%s: %s%s%s%s %s -> %s", section, s->rule ? "rule '" : "",
		     s->rule ? s->rule : "", s->rule ? "' " : "", s->key,
		     s->before ? s->before : none, s->after ? s->after : none) < 0)
		return NULL;
	return t;
}

json_t *diff_gateway_json(const struct diff_gateway *g)
{
	json_t *add = json_array(), *rem = json_array();
	for (size_t i = 0; add && i < g->nadded; i++)
		json_array_append_new(add, gw_access_json(&g->added[i]));
	for (size_t i = 0; rem && i < g->nremoved; i++)
		json_array_append_new(rem, gw_access_json(&g->removed[i]));
	if (!add || !rem) {
		json_decref(add);
		json_decref(rem);
		return NULL;
	}
	return json_pack("{s:s,s:o,s:o}", "site", g->site, "added", add, "removed", rem);
}

char *diff_gateway_text(const struct diff_gateway *g)
{
	char *s = NULL, buf[160];
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < g->nremoved + g->nadded; i++) {
		bool rem = i < g->nremoved;
		gw_access_text(rem ? &g->removed[i] : &g->added[i - g->nremoved], buf, sizeof(buf));
		fprintf(f, "%sgateway %s: %s %s", i ? "\n" : "", g->site,
			rem ? "no longer accepts" : "newly accepts", buf);
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

json_t *diff_service_json(const struct diff_report *d, const struct policy *a,
			  const struct policy *b, const struct diff_service *c)
{
	json_t *gw = json_array();
	for (size_t i = 0; gw && i < c->ngateways; i++)
		json_array_append_new(gw, json_string(c->gateways[i]));
	json_t *o = gw ? json_pack("{s:o,s:s,s:o,s:o,s:o,s:o}", "gateways", gw, "family",
				   c->box.fams == 1   ? "ipv4"
				   : c->box.fams == 2 ? "ipv6"
						      : "any",
				   "from", lint_endpoints_json(&d->names, c->box.from), "services",
				   lint_services_json(&c->box.svc), "before",
				   side_json(a, &c->before), "after", side_json(b, &c->after))
		       : NULL;
	return o;
}

char *diff_service_text(const struct diff_report *d, const struct policy *a, const struct policy *b,
			const struct diff_service *c)
{
	char *from = lint_endpoints_text(&d->names, c->box.from), *svc = NULL, *t = NULL;
	char x[160], y[160], more[48] = "";
	if (!from || !(svc = lint_services_text(&c->box.svc))) {
		free(from);
		return NULL;
	}
	side_text(a, &c->before, x, sizeof(x));
	side_text(b, &c->after, y, sizeof(y));
	if (c->ngateways > 1)
		snprintf(more, sizeof(more), " (and %zu more)", c->ngateways - 1);
	if (asprintf(&t, "gateway service on %s%s: %s%s%s -> the gateway %s: %s -> %s",
		     c->ngateways ? c->gateways[0] : "?", more,
		     c->box.fams == 1	? "ipv4 "
		     : c->box.fams == 2 ? "ipv6 "
					: "",
		     from, "", svc, x, y) < 0)
		t = NULL;
	free(from);
	free(svc);
	return t;
}
