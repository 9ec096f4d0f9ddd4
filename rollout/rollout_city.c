// SPDX-License-Identifier: MIT
#include "rollout/rollout_city.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pt {
	double x; /* metres east in a local equirectangular projection: only for pruning */
	int site;
};

static int by_x(const void *a, const void *b)
{
	const struct pt *p = a, *q = b;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return (p->site > q->site) - (p->site < q->site);
}

static bool needs_rollout(const struct site *s)
{
	return s->type != SITE_DATA_CENTRE && s->broadband != BB_FIBRE;
}

static double score_site(const struct rollout_config *cfg, const struct site *s, unsigned urgent,
			 struct rollout_score *sc)
{
	sc->base = cfg->w_base;
	sc->school = s->type == SITE_SCHOOL ? cfg->w_school : 0;
	sc->critical = s->flags & SITE_F_CRITICAL ? cfg->w_critical : 0;
	sc->staff = cfg->w_staff * (double)s->staff;
	sc->bandwidth = cfg->w_bandwidth * fmax(0, s->required_mbps - s->current_mbps);
	/* Rent is paid while waiting by sites on interim lines and by urgent ones that get one. */
	bool rents = s->broadband == BB_INTERIM || urgent;
	sc->rent = rents ? cfg->w_rent * cfg->rent_eur_per_year / 1000.0 : 0;
	sc->total = sc->base + sc->school + sc->critical + sc->staff + sc->bandwidth + sc->rent;
	return sc->total;
}

struct knn {
	const struct inventory *inv;
	int q, k, found;
	double qx;
	int *idx;
	double *dist;
};

/* Offers pool point p; false once points this far east or west cannot be nearer. */
static bool knn_offer(struct knn *kn, const struct pt *p)
{
	if (kn->found == kn->k && fabs(p->x - kn->qx) * 0.99 > kn->dist[kn->k - 1])
		return false;
	if (p->site == kn->q)
		return true;
	const struct site *s = &kn->inv->sites[kn->q], *o = &kn->inv->sites[p->site];
	double d = geo_distance_m(s->lat, s->lon, o->lat, o->lon);
	int pos = kn->found < kn->k ? kn->found++ : kn->k;
	/* Ties go to the lower site index, so the result does not depend on the sweep. */
	while (pos > 0 &&
	       (kn->dist[pos - 1] > d || (kn->dist[pos - 1] == d && kn->idx[pos - 1] > p->site))) {
		if (pos < kn->k) {
			kn->dist[pos] = kn->dist[pos - 1];
			kn->idx[pos] = kn->idx[pos - 1];
		}
		pos--;
	}
	if (pos < kn->k) {
		kn->dist[pos] = d;
		kn->idx[pos] = p->site;
	}
	return true;
}

/*
 * The k points of pool (sorted by x) nearest to site q by great-circle
 * distance, q itself left out: sweeps west and east from q's position and
 * stops once the east-west gap alone exceeds the k-th distance (1% slack
 * for the projection).
 */
static int nearest(const struct inventory *inv, const struct pt *pool, size_t np, double qx, int q,
		   int k, int *idx, double *dist)
{
	struct knn kn = {inv, q, k, 0, qx, idx, dist};
	size_t lo = 0, hi = np;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (pool[mid].x < qx)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;)
		if (!knn_offer(&kn, &pool[i]))
			break;
	for (size_t i = lo; i < np; i++)
		if (!knn_offer(&kn, &pool[i]))
			break;
	return kn.found;
}

static void check_refs(const struct inventory *inv, const struct rollout_config *cfg,
		       const char *const *ids, struct diag_list *dl, int *pin_of, char *excluded)
{
	for (size_t i = 0; i < cfg->nexclude; i++) {
		const struct rollout_site_ref *r = &cfg->exclude[i];
		int s = inventory_find_site(inv, r->site);
		if (s < 0) {
			const char *sug = diag_suggest(r->site, ids, inv->nsites);
			diag_add(dl, DIAG_ERROR, cfg->file, r->line, r->col,
				 "unknown site '%s'%s%s%s", r->site, sug ? " (did you mean '" : "",
				 sug ? sug : "", sug ? "'?)" : "");
		} else if (!needs_rollout(&inv->sites[s])) {
			diag_add(dl, DIAG_WARNING, cfg->file, r->line, r->col,
				 "site '%s' is not part of the rollout (%s)", r->site,
				 inv->sites[s].type == SITE_DATA_CENTRE ? "a data centre"
									: "already on fibre");
		} else {
			excluded[s] = 1;
		}
	}
	for (size_t i = 0; i < cfg->npins; i++) {
		const struct rollout_site_ref *r = &cfg->pins[i];
		int s = inventory_find_site(inv, r->site);
		if (s < 0) {
			const char *sug = diag_suggest(r->site, ids, inv->nsites);
			diag_add(dl, DIAG_ERROR, cfg->file, r->line, r->col,
				 "unknown site '%s'%s%s%s", r->site, sug ? " (did you mean '" : "",
				 sug ? sug : "", sug ? "'?)" : "");
		} else if (!needs_rollout(&inv->sites[s])) {
			diag_add(dl, DIAG_ERROR, cfg->file, r->line, r->col,
				 "site '%s' cannot be pinned: %s", r->site,
				 inv->sites[s].type == SITE_DATA_CENTRE ? "it is a data centre"
									: "it is already on fibre");
		} else if (excluded[s]) {
			diag_add(dl, DIAG_ERROR, cfg->file, r->line, r->col,
				 "site '%s' is both pinned and excluded", r->site);
		} else if (r->year > cfg->horizon) {
			diag_add(dl, DIAG_ERROR, cfg->file, r->line, r->col,
				 "site '%s' is pinned to year %d (%d), beyond the horizon of %d "
				 "years (%d-%d)",
				 r->site, r->year, cfg->start_year + r->year - 1, cfg->horizon,
				 cfg->start_year, cfg->start_year + cfg->horizon - 1);
		} else {
			pin_of[s] = r->year;
		}
	}
}

static int add_candidates(struct rollout_city *c, const struct rollout_config *cfg,
			  const char *planned)
{
	const struct inventory *inv = c->inv;
	struct rollout_inst *in = c->inst;
	int k = cfg->neighbours, r = -ENOMEM;
	double lat0 = 0, rad = M_PI / 180.0, R = 6371008.8;
	for (size_t i = 0; i < inv->nsites; i++)
		lat0 += inv->sites[i].lat / (double)inv->nsites;
	struct pt *all = malloc((inv->nsites + 1) * sizeof(*all));
	struct pt *fib = malloc((inv->nsites + 1) * sizeof(*fib));
	int *idx = malloc(((size_t)k + 1) * sizeof(int));
	double *dist = malloc(((size_t)k + 1) * sizeof(double));
	size_t na = 0, nf = 0;
	if (!all || !fib || !idx || !dist)
		goto out;
	/* Neighbours are fibre sites (data centres too) and the other sites to connect. */
	for (size_t i = 0; i < inv->nsites; i++) {
		const struct site *s = &inv->sites[i];
		struct pt p = {s->lon * rad * cos(lat0 * rad) * R, (int)i};
		if (s->broadband == BB_FIBRE) {
			fib[nf++] = p;
			all[na++] = p;
		} else if (c->site_node[i] > 0) {
			all[na++] = p;
		}
	}
	qsort(all, na, sizeof(*all), by_x);
	qsort(fib, nf, sizeof(*fib), by_x);
	for (int v = 1; v <= in->n; v++) {
		int s = in->nodes[v].site;
		if (planned[v])
			continue;
		double qx = inv->sites[s].lon * rad * cos(lat0 * rad) * R;
		int got = nearest(inv, all, na, qx, s, k, idx, dist);
		/* The nearest fibre site too, so that every site can reach the network. */
		if (got < k + 1 && nearest(inv, fib, nf, qx, s, 1, idx + got, dist + got) == 1)
			got++;
		for (int j = 0; j < got; j++) {
			int o = idx[j];
			int u = inv->sites[o].broadband == BB_FIBRE ? 0 : c->site_node[o];
			double eur = dist[j] * cfg->detour_factor * cfg->trench_eur_per_m;
			if ((r = rollout_inst_add_edge(in, v, u, eur, -1, s, o)) < 0)
				goto out;
		}
	}
	r = 0;
out:
	free(all);
	free(fib);
	free(idx);
	free(dist);
	return r;
}

static int add_planned(struct rollout_city *c, char *planned)
{
	const struct inventory *inv = c->inv;
	for (size_t i = 0; i < inv->nlinks; i++) {
		const struct link *l = &inv->links[i];
		if (l->kind != LINK_PLANNED || !(l->cost_eur > 0))
			continue;
		int ua = inv->sites[l->a].broadband == BB_FIBRE ? 0 : c->site_node[l->a];
		int ub = inv->sites[l->b].broadband == BB_FIBRE ? 0 : c->site_node[l->b];
		if (ua < 0 || ub < 0 || ua == ub)
			continue;
		int r = rollout_inst_add_edge(c->inst, ua, ub, l->cost_eur, (int)i, l->a, l->b);
		if (r < 0)
			return r;
		planned[ua] = planned[ub] = 1;
	}
	return 0;
}

/* Sites no candidate trench chain links to the network: they never connect. */
static size_t count_unreachable(const struct rollout_inst *in)
{
	char *seen = calloc((size_t)in->n + 1, 1);
	int *stack = malloc(((size_t)in->n + 1) * sizeof(int));
	size_t reached = 0, top = 0;
	if (!seen || !stack) {
		free(seen);
		free(stack);
		return 0;
	}
	stack[top++] = 0;
	seen[0] = 1;
	while (top) {
		int u = stack[--top];
		for (int k = in->adj_start[u]; k < in->adj_start[u + 1]; k++) {
			const struct rollout_edge *e = &in->edges[in->adj_edge[k]];
			int v = e->a == u ? e->b : e->a;
			if (!seen[v]) {
				seen[v] = 1;
				reached++;
				stack[top++] = v;
			}
		}
	}
	free(seen);
	free(stack);
	return (size_t)in->n - reached;
}

int rollout_city_build(const struct inventory *inv, const struct rollout_config *cfg,
		       struct diag_list *dl, struct rollout_city **out)
{
	*out = NULL;
	int r = -ENOMEM;
	size_t errs = diag_errors(dl);
	struct rollout_city *c = calloc(1, sizeof(*c));
	const char **ids = malloc((inv->nsites + 1) * sizeof(*ids));
	int *pin_of = calloc(inv->nsites + 1, sizeof(int));
	char *excluded = calloc(inv->nsites + 1, 1);
	char *planned = NULL;
	if (!c || !ids || !pin_of || !excluded)
		goto out;
	c->inv = inv;
	for (size_t i = 0; i < inv->nsites; i++)
		ids[i] = inv->sites[i].id;
	check_refs(inv, cfg, ids, dl, pin_of, excluded);
	if (diag_errors(dl) > errs) {
		r = -EINVAL;
		goto out;
	}
	c->site_node = malloc((inv->nsites + 1) * sizeof(int));
	if (!c->site_node)
		goto out;
	int n = 0;
	for (size_t i = 0; i < inv->nsites; i++) {
		const struct site *s = &inv->sites[i];
		c->site_node[i] = -1;
		if (s->type == SITE_DATA_CENTRE)
			continue;
		c->sites++;
		if (s->broadband == BB_FIBRE)
			c->fibre++;
		else if (excluded[i])
			c->excluded++;
		else
			c->site_node[i] = ++n;
	}
	c->inst = rollout_inst_new(n, cfg->horizon);
	c->score = calloc((size_t)n + 1, sizeof(*c->score));
	c->urgent = calloc((size_t)n + 1, sizeof(*c->urgent));
	planned = calloc((size_t)n + 1, 1);
	if (!c->inst || !c->score || !c->urgent || !planned)
		goto out;
	for (size_t i = 0; i < inv->nsites; i++) {
		int v = c->site_node[i];
		if (v <= 0)
			continue;
		const struct site *s = &inv->sites[i];
		unsigned u = 0;
		if (s->type == SITE_SCHOOL && s->current_mbps < s->required_mbps)
			u |= ROLLOUT_URGENT_SCHOOL;
		if (s->flags & SITE_F_CRITICAL)
			u |= ROLLOUT_URGENT_CRITICAL;
		c->urgent[v] = u;
		struct rollout_node *nd = &c->inst->nodes[v];
		nd->site = (int)i;
		nd->fixed = round(cfg->site_fixed_eur);
		nd->weight = score_site(cfg, s, u, &c->score[v]);
		nd->pin = pin_of[i];
	}
	for (int t = 1; t <= cfg->horizon; t++)
		c->inst->budget[t] = rollout_config_budget(cfg, t);
	c->inst->carry_over = cfg->carry_over;
	if ((r = add_planned(c, planned)) < 0 || (r = add_candidates(c, cfg, planned)) < 0 ||
	    (r = rollout_inst_finish(c->inst)) < 0)
		goto out;
	c->unreachable = count_unreachable(c->inst);
	*out = c;
	c = NULL;
	r = 0;
out:
	rollout_city_free(c);
	free(ids);
	free(pin_of);
	free(excluded);
	free(planned);
	return r;
}

void rollout_city_free(struct rollout_city *c)
{
	if (!c)
		return;
	rollout_inst_free(c->inst);
	free(c->score);
	free(c->urgent);
	free(c->site_node);
	free(c);
}

void rollout_city_set_budget(struct rollout_city *c, double eur)
{
	for (int t = 1; t <= c->inst->horizon; t++)
		c->inst->budget[t] = eur;
}

double rollout_city_rent(const struct rollout_config *cfg, int year, int horizon)
{
	return cfg->rent_eur_per_year * (year >= 1 ? year : horizon);
}
