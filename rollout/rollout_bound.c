// SPDX-License-Identifier: MIT
#include "rollout/rollout_bound.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

struct item {
	int v;
	double w, l; /* weight, lower bound on cost */
};

static int by_ratio(const void *x, const void *y)
{
	const struct item *p = x, *q = y;
	/* w_p / l_p > w_q / l_q without dividing; then by node for a fixed order. */
	double a = p->w * q->l, b = q->w * p->l;
	if (a != b)
		return a > b ? -1 : 1;
	return (p->v > q->v) - (p->v < q->v);
}

double rollout_bound(const struct rollout_inst *in)
{
	int T = in->horizon;
	double cap[ROLLOUT_MAX_YEARS + 2] = {0}, pinned[ROLLOUT_MAX_YEARS + 2] = {0};
	double value = 0;
	struct item *it = malloc(((size_t)in->n + 1) * sizeof(*it));
	if (!it)
		return -ENOMEM;
	size_t ni = 0;
	for (int v = 1; v <= in->n; v++) {
		double cheapest = INFINITY;
		for (int k = in->adj_start[v]; k < in->adj_start[v + 1]; k++)
			cheapest = fmin(cheapest, in->edges[in->adj_edge[k]].cost);
		if (!isfinite(cheapest))
			continue; /* no candidate trench: never connected */
		const struct rollout_node *nd = &in->nodes[v];
		double l = nd->fixed + cheapest;
		if (nd->pin >= 1 && nd->pin <= T) {
			pinned[nd->pin] += l;
			value += nd->weight * (T - nd->pin + 1);
		} else if (l <= 0) {
			value += nd->weight * T;
		} else {
			it[ni++] = (struct item){v, nd->weight, l};
		}
	}
	if (in->carry_over) {
		/*
		 * Cumulative free spending up to year t may not exceed
		 * D_t = sum_{s<=t} (B_s - pinned_s), nor D_u for any later u.
		 */
		double d[ROLLOUT_MAX_YEARS + 2], acc = 0;
		for (int t = 1; t <= T; t++) {
			acc += in->budget[t] - pinned[t];
			d[t] = acc;
		}
		for (int t = T - 1; t >= 1; t--)
			d[t] = fmin(d[t], d[t + 1]);
		double prev = 0;
		for (int t = 1; t <= T; t++) {
			double c = fmax(d[t], prev);
			cap[t] = c - prev;
			prev = c;
		}
	} else {
		for (int t = 1; t <= T; t++)
			cap[t] = fmax(0, in->budget[t] - pinned[t]);
	}
	qsort(it, ni, sizeof(*it), by_ratio);
	int t = 1;
	for (size_t i = 0; i < ni && t <= T; i++) {
		double left = 1.0; /* fraction of the item still to place */
		while (left > 0 && t <= T) {
			double need = left * it[i].l;
			if (need <= cap[t]) {
				value += left * it[i].w * (T - t + 1);
				cap[t] -= need;
				left = 0;
			} else {
				double frac = cap[t] / it[i].l;
				value += frac * it[i].w * (T - t + 1);
				left -= frac;
				cap[t] = 0;
				t++;
			}
		}
	}
	free(it);
	return value;
}
