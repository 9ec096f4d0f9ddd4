// SPDX-License-Identifier: MIT
#include "rollout/rollout_gen.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#define GEN_FIBRE_POINTS 6
#define GEN_BUDGET_SHARE 4.0
#define GEN_MAX_DRAWS	 64
#define GEN_NEIGHBOURS	 4
#define GEN_FIXED_EUR	 30000.0
#define GEN_EUR_PER_M	 (1.3 * 280.0)

uint64_t rollout_gen_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) from the top 53 bits. */
static double unif(uint64_t *s)
{
	return (double)(rollout_gen_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

struct pt {
	double x, y;
};

static double dist(struct pt a, struct pt b)
{
	return sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y));
}

static int find(int *up, int v)
{
	while (up[v] != v)
		v = up[v] = up[up[v]];
	return v;
}

/*
 * Every group of sites that cannot reach the backbone gets one trench: from
 * its member nearest to the backbone, to that backbone point.
 */
static int connect_clusters(struct rollout_inst *in, const struct pt *p, int F, const int *near_f)
{
	int n = in->n;
	int *up = malloc(((size_t)n + 1) * sizeof(int));
	if (!up)
		return -ENOMEM;
	for (int v = 0; v <= n; v++)
		up[v] = v;
	for (int e = 0; e < in->nedges; e++)
		up[find(up, in->edges[e].a)] = find(up, in->edges[e].b);
	for (;;) {
		int pick = -1;
		double pd = INFINITY;
		for (int v = 1; v <= n; v++) {
			if (find(up, v) == find(up, 0))
				continue;
			double d = dist(p[F + v - 1], p[near_f[v - 1]]);
			if (d < pd) {
				pd = d;
				pick = v;
			}
		}
		if (pick < 0)
			break;
		if (rollout_inst_add_edge(in, pick, 0, round(pd * GEN_EUR_PER_M), -1, pick, 0) <
		    0) {
			free(up);
			return -ENOMEM;
		}
		up[find(up, pick)] = find(up, 0);
	}
	free(up);
	return 0;
}

/*
 * A yearly budget of a quarter of what connecting every site in one year
 * (a minimum spanning tree over the backbone) costs: about three quarters
 * of the sites fit the three years, so the years' choices matter.
 */
static int set_budget(struct rollout_inst *in)
{
	struct rollout_plan all;
	int r = rollout_plan_init(&all, in);
	if (r < 0)
		return r;
	for (int v = 1; v <= in->n; v++)
		all.year[v] = 1;
	r = rollout_plan_evaluate(in, &all);
	for (int t = 1; r == 0 && t <= in->horizon; t++)
		in->budget[t] = round(all.spent[1] / GEN_BUDGET_SHARE / 1000.0) * 1000.0;
	rollout_plan_clear(&all);
	return r;
}

static struct rollout_inst *draw(uint64_t *state, int n, int horizon)
{
	uint64_t s = *state;
	bool ok = false;
	struct rollout_inst *in = rollout_inst_new(n, horizon);
	/* Points 0..F-1 are the fibre sites (all node 0), F.. are the sites 1..n. */
	int F = GEN_FIBRE_POINTS, np = F + n;
	struct pt *p = malloc((size_t)np * sizeof(*p));
	int *near_f = malloc((size_t)n * sizeof(int));
	if (!in || !p || !near_f)
		goto out;
	/* Clusters of sites, each with backbone sites on its edge. */
	struct pt centre[3];
	for (int c = 0; c < 3; c++)
		centre[c] = (struct pt){3000 * unif(&s), 3000 * unif(&s)};
	for (int i = 0; i < F; i++) {
		double a = 2 * M_PI * unif(&s), r = 1100 + 500 * unif(&s);
		struct pt c = centre[i % 3];
		p[i] = (struct pt){c.x + r * cos(a), c.y + r * sin(a)};
	}
	for (int i = 0; i < n; i++) {
		struct pt c = centre[rollout_gen_next(&s) % 3];
		/* Irwin-Hall(2) spread: denser near the centre. */
		double dx = (unif(&s) + unif(&s) - 1) * 700, dy = (unif(&s) + unif(&s) - 1) * 700;
		p[F + i] = (struct pt){c.x + dx, c.y + dy};
	}
	for (int i = 0; i < n; i++) {
		int v = i + 1;
		struct rollout_node *nd = &in->nodes[v];
		nd->fixed = GEN_FIXED_EUR + 1000.0 * (double)(rollout_gen_next(&s) % 11);
		/* Integer weights keep the optima exact; a fifth are schools. */
		nd->weight = 1 + (double)(rollout_gen_next(&s) % 10);
		if (rollout_gen_next(&s) % 5 == 0)
			nd->weight += 40;
		nd->site = v;
		/* k nearest points plus the nearest fibre point. */
		int best[GEN_NEIGHBOURS];
		double bd[GEN_NEIGHBOURS];
		int nb = 0, nearest_f = 0;
		for (int j = 0; j < np; j++) {
			if (j == F + i)
				continue;
			double d = dist(p[F + i], p[j]);
			if (j < F && d < dist(p[F + i], p[nearest_f]))
				nearest_f = j;
			int pos = nb < GEN_NEIGHBOURS ? nb++ : GEN_NEIGHBOURS;
			while (pos > 0 && bd[pos - 1] > d) {
				if (pos < GEN_NEIGHBOURS) {
					best[pos] = best[pos - 1];
					bd[pos] = bd[pos - 1];
				}
				pos--;
			}
			if (pos < GEN_NEIGHBOURS) {
				best[pos] = j;
				bd[pos] = d;
			}
		}
		/* A trench to the backbone only where the backbone is among the neighbours. */
		for (int k = 0; k < nb; k++) {
			int j = best[k];
			double c = round(dist(p[F + i], p[j]) * GEN_EUR_PER_M);
			int u = j < F ? 0 : j - F + 1;
			if (rollout_inst_add_edge(in, v, u, c, -1, v, u) < 0)
				goto out;
		}
		near_f[i] = nearest_f;
	}
	if (connect_clusters(in, p, F, near_f) < 0)
		goto out;
	if (rollout_inst_finish(in) < 0 || set_budget(in) < 0)
		goto out;
	ok = true;
out:
	free(p);
	free(near_f);
	*state = s;
	if (!ok) {
		rollout_inst_free(in);
		return NULL;
	}
	return in;
}

struct rollout_inst *rollout_gen_random(uint64_t seed, int n, int horizon)
{
	if (n < 1 || horizon < 1 || horizon > ROLLOUT_MAX_YEARS)
		return NULL;
	uint64_t s = seed;
	/* Redraw (same seed, next numbers) until enough sites need a chain. */
	for (int attempt = 0;; attempt++) {
		struct rollout_inst *in = draw(&s, n, horizon);
		if (!in)
			return NULL;
		if (attempt == GEN_MAX_DRAWS - 1 ||
		    rollout_gen_chain_share(in) >= ROLLOUT_GEN_MIN_CHAIN_SHARE)
			return in;
		rollout_inst_free(in);
	}
}

/*
 * For every site v: the cheapest way to connect v alone (fixed costs of the
 * sites on the way included, v's own excluded) and whether it passes
 * through another site. Dijkstra per site: the instances here are small.
 */
static int standalone(const struct rollout_inst *in, double *cost, char *through)
{
	int n = in->n;
	double *d = malloc(((size_t)n + 1) * sizeof(double));
	int *hops = malloc(((size_t)n + 1) * sizeof(int));
	char *done = malloc((size_t)n + 1);
	if (!d || !hops || !done) {
		free(d);
		free(hops);
		free(done);
		return -ENOMEM;
	}
	for (int v = 1; v <= n; v++) {
		for (int u = 0; u <= n; u++) {
			d[u] = u == 0 ? 0 : INFINITY;
			hops[u] = 0;
			done[u] = 0;
		}
		for (;;) {
			int u = -1;
			for (int w = 0; w <= n; w++)
				if (!done[w] && isfinite(d[w]) && (u < 0 || d[w] < d[u]))
					u = w;
			if (u < 0 || u == v)
				break;
			done[u] = 1;
			double add = u == 0 ? 0 : in->nodes[u].fixed;
			for (int k = in->adj_start[u]; k < in->adj_start[u + 1]; k++) {
				const struct rollout_edge *e = &in->edges[in->adj_edge[k]];
				int w = e->a == u ? e->b : e->a;
				double nd = d[u] + add + e->cost;
				if (w != 0 && nd < d[w]) {
					d[w] = nd;
					hops[w] = hops[u] + 1;
				}
			}
		}
		cost[v] = d[v] + in->nodes[v].fixed;
		through[v] = isfinite(d[v]) && hops[v] >= 2;
	}
	free(d);
	free(hops);
	free(done);
	return 0;
}

double rollout_gen_chain_share(const struct rollout_inst *in)
{
	int n = in->n, k = 0;
	double *cost = malloc(((size_t)n + 1) * sizeof(double));
	char *through = malloc((size_t)n + 1);
	if (!cost || !through || standalone(in, cost, through) < 0) {
		free(cost);
		free(through);
		return -ENOMEM;
	}
	for (int v = 1; v <= n; v++)
		k += through[v];
	free(cost);
	free(through);
	return n ? (double)k / n : 0;
}
