// SPDX-License-Identifier: MIT
#include "policies/diff.h"

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
	const struct policy *pa, *pb;
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

static int group_add(struct group *g, const struct lint_space *s, size_t atom,
		     const struct lint_ivset *svc)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct lint_box *v = realloc(g->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		g->v = v;
		g->cap = cap;
	}
	int rc = lint_box_atom(s, atom, svc, &g->v[g->n]);
	if (rc == 0)
		g->n++;
	return rc;
}

static enum pol_action action_of(const struct policy *p, int rule)
{
	return rule < 0 ? POL_DROP : p->rules[rule].action;
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
				if (!pb[j].n || action_of(D->pa, ra) == action_of(D->pb, rb))
					continue;
				if ((rc = lint_ivset_inter(&pa[i], &pb[j], &x)) < 0 || !x.n)
					continue;
				struct group *g = group_of(D, view, ra, rb);
				rc = g ? group_add(g, s, at, &x) : -ENOMEM;
			}
		}
	}
	for (size_t i = 0; pa && i <= na; i++)
		lint_ivset_free(&pa[i]);
	for (size_t j = 0; pb && j <= nb; j++)
		lint_ivset_free(&pb[j]);
	free(pa);
	free(pb);
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
	if (rc == 0)
		rc = diff_view(D, view, ma, mb, real, natoms);
	lint_model_free(ma);
	lint_model_free(mb);
	free(real);
	return rc;
}

void diff_report_free(struct diff_report *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		lint_box_free(&d->v[i].box);
	free(d->v);
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
	struct differ D = {.pa = a, .pb = b};
	struct diff_report *d = calloc(1, sizeof(*d));
	int rc = d ? lint_space_new(pols, invs, 2, &s) : -ENOMEM;
	*out = NULL;
	if (rc < 0)
		goto out;
	D.s = s;
	if ((rc = exception_sites(&D, a, ia)) < 0 || (rc = exception_sites(&D, b, ib)) < 0)
		goto out;
	d->sites = D.sites;
	d->nsites = D.nsites;
	if ((rc = lint_names_copy(&d->names, lint_space_names(s))) < 0)
		goto out;
	for (int view = -1; view < (int)D.nsites && rc == 0; view++)
		rc = one_view(&D, ia, ib, view, &d->atoms);
	if (rc == 0)
		rc = collect(&D, d, 2 * d->names.nzones);
out:
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
	return json_pack("{s:s,s:o}", "verdict", pol_action_names[s->action], "rule",
			 s->rule >= 0 ? json_string(p->rules[s->rule].id) : json_null());
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
	if (s->rule >= 0)
		snprintf(buf, size, "%s (rule '%s')", pol_action_names[s->action],
			 p->rules[s->rule].id);
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
