// SPDX-License-Identifier: MIT
#include "rollout/rollout_model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rollout_inst *rollout_inst_new(int n, int horizon)
{
	if (n < 0 || horizon < 1 || horizon > ROLLOUT_MAX_YEARS)
		return NULL;
	struct rollout_inst *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->n = n;
	in->horizon = horizon;
	in->nodes = calloc((size_t)n + 1, sizeof(*in->nodes));
	if (!in->nodes) {
		free(in);
		return NULL;
	}
	in->nodes[0].site = -1;
	for (int v = 1; v <= n; v++) {
		in->nodes[v].site = -1;
		in->nodes[v].weight = 1;
	}
	return in;
}

void rollout_inst_free(struct rollout_inst *in)
{
	if (!in)
		return;
	free(in->nodes);
	free(in->edges);
	free(in->adj_start);
	free(in->adj_edge);
	free(in);
}

int rollout_inst_add_edge(struct rollout_inst *in, int a, int b, double cost, int tag, int end_a,
			  int end_b)
{
	if (a < 0 || b < 0 || a > in->n || b > in->n || a == b || !(cost >= 0) || !isfinite(cost))
		return -EINVAL;
	if ((size_t)in->nedges == in->cap_edges) {
		size_t cap = in->cap_edges ? 2 * in->cap_edges : 64;
		struct rollout_edge *e = realloc(in->edges, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		in->edges = e;
		in->cap_edges = cap;
	}
	/* Keep a < b so that parallel edges sort next to each other. */
	if (a > b) {
		int t = a;
		a = b;
		b = t;
		t = end_a;
		end_a = end_b;
		end_b = t;
	}
	in->edges[in->nedges++] = (struct rollout_edge){a, b, round(cost), tag, end_a, end_b};
	return 0;
}

static int edge_cmp(const void *x, const void *y)
{
	const struct rollout_edge *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	if (p->cost != q->cost)
		return p->cost < q->cost ? -1 : 1;
	/* Equal-cost parallels: the lower tag wins, so the result never depends on input order. */
	return (p->tag > q->tag) - (p->tag < q->tag);
}

int rollout_inst_finish(struct rollout_inst *in)
{
	if (in->nedges)
		qsort(in->edges, (size_t)in->nedges, sizeof(*in->edges), edge_cmp);
	int m = 0;
	for (int i = 0; i < in->nedges; i++) {
		if (m && in->edges[m - 1].a == in->edges[i].a &&
		    in->edges[m - 1].b == in->edges[i].b)
			continue;
		in->edges[m++] = in->edges[i];
	}
	in->nedges = m;
	free(in->adj_start);
	free(in->adj_edge);
	in->adj_start = calloc((size_t)in->n + 2, sizeof(int));
	in->adj_edge = malloc(((size_t)2 * m + 1) * sizeof(int));
	if (!in->adj_start || !in->adj_edge)
		return -ENOMEM;
	for (int i = 0; i < m; i++) {
		in->adj_start[in->edges[i].a + 1]++;
		in->adj_start[in->edges[i].b + 1]++;
	}
	for (int v = 0; v <= in->n; v++)
		in->adj_start[v + 1] += in->adj_start[v];
	int *fill = malloc(((size_t)in->n + 1) * sizeof(int));
	if (!fill)
		return -ENOMEM;
	memcpy(fill, in->adj_start, ((size_t)in->n + 1) * sizeof(int));
	for (int i = 0; i < m; i++) {
		in->adj_edge[fill[in->edges[i].a]++] = i;
		in->adj_edge[fill[in->edges[i].b]++] = i;
	}
	free(fill);
	return 0;
}

int rollout_inst_edge(const struct rollout_inst *in, int u, int v)
{
	for (int k = in->adj_start[u]; k < in->adj_start[u + 1]; k++) {
		const struct rollout_edge *e = &in->edges[in->adj_edge[k]];
		if ((e->a == u && e->b == v) || (e->a == v && e->b == u))
			return in->adj_edge[k];
	}
	return -1;
}

int rollout_plan_init(struct rollout_plan *p, const struct rollout_inst *in)
{
	memset(p, 0, sizeof(*p));
	p->n = in->n;
	p->horizon = in->horizon;
	size_t k = (size_t)in->n + 1;
	p->year = calloc(k, sizeof(int));
	p->parent = malloc(k * sizeof(int));
	p->edge = malloc(k * sizeof(int));
	if (!p->year || !p->parent || !p->edge) {
		rollout_plan_clear(p);
		return -ENOMEM;
	}
	for (size_t v = 0; v < k; v++)
		p->parent[v] = p->edge[v] = -1;
	return 0;
}

void rollout_plan_clear(struct rollout_plan *p)
{
	if (!p)
		return;
	free(p->year);
	free(p->parent);
	free(p->edge);
	memset(p, 0, sizeof(*p));
}

int rollout_plan_copy(struct rollout_plan *dst, const struct rollout_plan *src)
{
	size_t k = (size_t)src->n + 1;
	if (dst->n != src->n || !dst->year) {
		rollout_plan_clear(dst);
		dst->year = malloc(k * sizeof(int));
		dst->parent = malloc(k * sizeof(int));
		dst->edge = malloc(k * sizeof(int));
		if (!dst->year || !dst->parent || !dst->edge) {
			rollout_plan_clear(dst);
			return -ENOMEM;
		}
	}
	int *y = dst->year, *pa = dst->parent, *e = dst->edge;
	*dst = *src;
	dst->year = y;
	dst->parent = pa;
	dst->edge = e;
	memcpy(y, src->year, k * sizeof(int));
	memcpy(pa, src->parent, k * sizeof(int));
	memcpy(e, src->edge, k * sizeof(int));
	return 0;
}

double rollout_value(const struct rollout_inst *in, const int *year)
{
	double v = 0;
	for (int i = 1; i <= in->n; i++)
		if (year[i] >= 1 && year[i] <= in->horizon)
			v += in->nodes[i].weight * (in->horizon - year[i] + 1);
	return v;
}

/* A node is on the network at year t when it is the root or was connected before t. */
static bool on_network(const struct rollout_plan *p, int v, int t)
{
	return v == 0 || (p->year[v] >= 1 && p->year[v] < t);
}

int rollout_plan_evaluate(const struct rollout_inst *in, struct rollout_plan *p)
{
	int n = in->n, r = 0;
	int *list = malloc(((size_t)n + 1) * sizeof(int));
	double *key = malloc(((size_t)n + 1) * sizeof(double));
	int *kedge = malloc(((size_t)n + 1) * sizeof(int));
	char *done = calloc((size_t)n + 1, 1);
	if (!list || !key || !kedge || !done) {
		r = -ENOMEM;
		goto out;
	}
	for (int v = 0; v <= n; v++)
		p->parent[v] = p->edge[v] = -1;
	memset(p->spent, 0, sizeof(p->spent));
	/* Prim per year: the network so far is one super node, the year's sites join it. */
	for (int t = 1; t <= in->horizon; t++) {
		int ns = 0;
		for (int v = 1; v <= n; v++)
			if (p->year[v] == t)
				list[ns++] = v;
		for (int i = 0; i < ns; i++) {
			int v = list[i];
			key[v] = INFINITY;
			kedge[v] = -1;
			for (int k = in->adj_start[v]; k < in->adj_start[v + 1]; k++) {
				const struct rollout_edge *e = &in->edges[in->adj_edge[k]];
				int u = e->a == v ? e->b : e->a;
				if (on_network(p, u, t) && e->cost < key[v]) {
					key[v] = e->cost;
					kedge[v] = in->adj_edge[k];
				}
			}
		}
		for (int it = 0; it < ns; it++) {
			int best = -1;
			for (int i = 0; i < ns; i++) {
				int v = list[i];
				if (!done[v] && kedge[v] >= 0 && (best < 0 || key[v] < key[best]))
					best = v;
			}
			if (best < 0) {
				r = -EINVAL;
				break;
			}
			done[best] = 1;
			const struct rollout_edge *be = &in->edges[kedge[best]];
			p->parent[best] = be->a == best ? be->b : be->a;
			p->edge[best] = kedge[best];
			p->spent[t] += in->nodes[best].fixed + be->cost;
			for (int k = in->adj_start[best]; k < in->adj_start[best + 1]; k++) {
				const struct rollout_edge *e = &in->edges[in->adj_edge[k]];
				int u = e->a == best ? e->b : e->a;
				if (u > 0 && p->year[u] == t && !done[u] && e->cost < key[u]) {
					key[u] = e->cost;
					kedge[u] = in->adj_edge[k];
				}
			}
		}
		for (int i = 0; i < ns; i++)
			if (!done[list[i]])
				p->spent[t] += in->nodes[list[i]].fixed;
	}
	p->value = rollout_value(in, p->year);
out:
	free(list);
	free(key);
	free(kedge);
	free(done);
	return r;
}

bool rollout_plan_within_budget(const struct rollout_inst *in, const struct rollout_plan *p)
{
	double cb = 0, cs = 0;
	for (int t = 1; t <= in->horizon; t++) {
		if (in->carry_over) {
			cb += in->budget[t];
			cs += p->spent[t];
			if (cs > cb + 1e-6)
				return false;
		} else if (p->spent[t] > in->budget[t] + 1e-6) {
			return false;
		}
	}
	return true;
}
