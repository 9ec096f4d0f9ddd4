// SPDX-License-Identifier: MIT
#include "rollout/rollout_heur.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rollout/rollout_gen.h"

/*
 * Neighbourhood sizes: exchange moves look at every pair of sites, drop and
 * insert moves refill the whole plan for every site; above these sizes only
 * the cheaper moves run, which keeps 10,000-site cities under a second.
 */
#define PAIR_MOVE_MAX_SITES   40
#define DROP_MOVE_MAX_SITES   60
#define INSERT_MOVE_MAX_SITES 60
#define MAX_ROUNDS	      50
#define PERTURB_MAX_SITES     40
#define PERTURB_ROUNDS	      100
#define PERTURB_RESTART	      25
#define PERTURB_SLACK	      0.03

struct heur {
	const struct rollout_inst *in;
	double *dist, *gain;
	int *pred, *heap, *hpos;
	int *tabu_years; /* storage behind tabu */
	int *tabu;	 /* during a perturbation: the year a site may not be refilled into */
	int hn;
	struct rollout_plan trial, trial2, walk;
};

static void heap_up(struct heur *h, int i)
{
	int v = h->heap[i];
	while (i > 0) {
		int p = (i - 1) / 2, u = h->heap[p];
		if (h->dist[u] < h->dist[v] || (h->dist[u] == h->dist[v] && u < v))
			break;
		h->heap[i] = u;
		h->hpos[u] = i;
		i = p;
	}
	h->heap[i] = v;
	h->hpos[v] = i;
}

static void heap_down(struct heur *h, int i)
{
	int v = h->heap[i];
	for (;;) {
		int c = 2 * i + 1;
		if (c >= h->hn)
			break;
		int cv = h->heap[c];
		if (c + 1 < h->hn) {
			int d = h->heap[c + 1];
			if (h->dist[d] < h->dist[cv] || (h->dist[d] == h->dist[cv] && d < cv)) {
				c++;
				cv = d;
			}
		}
		if (h->dist[v] < h->dist[cv] || (h->dist[v] == h->dist[cv] && v < cv))
			break;
		h->heap[i] = cv;
		h->hpos[cv] = i;
		i = c;
	}
	h->heap[i] = v;
	h->hpos[v] = i;
}

static void heap_push_or_decrease(struct heur *h, int v)
{
	if (h->hpos[v] < 0) {
		h->heap[h->hn] = v;
		h->hpos[v] = h->hn++;
	}
	heap_up(h, h->hpos[v]);
}

static int heap_pop(struct heur *h)
{
	int v = h->heap[0];
	h->hpos[v] = -2; /* settled */
	if (--h->hn > 0) {
		h->heap[0] = h->heap[h->hn];
		h->hpos[h->heap[0]] = 0;
		heap_down(h, 0);
	}
	return v;
}

/*
 * A site may be added in year t unless it is connected or pinned to another
 * year. Modes for the insert move: PULL lets a chain move sites planned for
 * a later year to t; FRESH also ignores the sites of year t as a network,
 * so that the chain does not depend on them (they may be dropped after).
 */
enum chain_mode { CHAIN_ADD, CHAIN_PULL, CHAIN_FRESH };

static bool addable(const struct rollout_inst *in, const struct rollout_plan *p, int v, int t,
		    enum chain_mode mode, const int *h_tabu)
{
	if (in->nodes[v].pin != 0 && in->nodes[v].pin != t)
		return false;
	if (h_tabu && h_tabu[v] == t)
		return false;
	if (mode == CHAIN_FRESH && p->year[v] == t)
		return true;
	return p->year[v] == 0 || (mode != CHAIN_ADD && p->year[v] > t);
}

/*
 * Cheapest chains from the network of year t (root, sites of years 1..t) to
 * every addable site: a site's price is its fixed cost plus the trench that
 * reaches it; gain sums the weights along the chain.
 */
static void chains(struct heur *h, const struct rollout_plan *p, int t, enum chain_mode mode)
{
	const struct rollout_inst *in = h->in;
	h->hn = 0;
	for (int v = 0; v <= in->n; v++) {
		h->hpos[v] = -1;
		h->pred[v] = -1;
		int last = mode == CHAIN_FRESH ? t - 1 : t;
		if (v == 0 || (p->year[v] >= 1 && p->year[v] <= last)) {
			h->dist[v] = 0;
			h->gain[v] = 0;
			heap_push_or_decrease(h, v);
		} else {
			h->dist[v] = INFINITY;
			h->gain[v] = 0;
		}
	}
	while (h->hn > 0) {
		int u = heap_pop(h);
		for (int k = in->adj_start[u]; k < in->adj_start[u + 1]; k++) {
			const struct rollout_edge *e = &in->edges[in->adj_edge[k]];
			int v = e->a == u ? e->b : e->a;
			if (v == 0 || h->hpos[v] == -2 || !addable(in, p, v, t, mode, h->tabu))
				continue;
			double nd = h->dist[u] + e->cost + in->nodes[v].fixed;
			if (nd < h->dist[v]) {
				h->dist[v] = nd;
				h->gain[v] = h->gain[u] + in->nodes[v].weight;
				h->pred[v] = u;
				heap_push_or_decrease(h, v);
			}
		}
	}
}

/* Money still free in year t: with carry-over, no later year may go short. */
static double remaining(const struct rollout_inst *in, const struct rollout_plan *p, int t)
{
	if (!in->carry_over)
		return in->budget[t] - p->spent[t];
	double cb = 0, cs = 0, best = INFINITY;
	for (int s = 1; s <= in->horizon; s++) {
		cb += in->budget[s];
		cs += p->spent[s];
		if (s >= t && cb - cs < best)
			best = cb - cs;
	}
	return best;
}

static void label_chain(struct heur *h, struct rollout_plan *p, int v, int t)
{
	while (v > 0 && (p->year[v] == 0 || p->year[v] > t)) {
		p->year[v] = t;
		v = h->pred[v];
	}
}

/*
 * Adds chains in year order, best gain per euro^alpha first, while they fit.
 * p must be evaluated and within budget; it stays so.
 */
static int fill(struct heur *h, struct rollout_plan *p, double alpha)
{
	const struct rollout_inst *in = h->in;
	for (int t = 1; t <= in->horizon; t++) {
		for (;;) {
			double room = remaining(in, p, t) + 1e-6;
			chains(h, p, t, CHAIN_ADD);
			int best = -1;
			double bscore = 0;
			for (int v = 1; v <= in->n; v++) {
				if (p->year[v] != 0 || !(h->dist[v] <= room))
					continue;
				double s = h->gain[v] / pow(fmax(h->dist[v], 1.0), alpha);
				if (best < 0 || s > bscore) {
					best = v;
					bscore = s;
				}
			}
			if (best < 0)
				break;
			label_chain(h, p, best, t);
			int r = rollout_plan_evaluate(in, p);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Year s keeps its budget (with carry-over: the years up to s together). */
static bool fits_year(const struct rollout_inst *in, const struct rollout_plan *p, int s)
{
	double cb = 0, cs = 0;
	for (int t = in->carry_over ? 1 : s; t <= s; t++) {
		cb += in->budget[t];
		cs += p->spent[t];
	}
	return cs <= cb + 1e-6;
}

/*
 * Connects the pinned sites of each year by their cheapest chains. A chain
 * too dear for the pin's year is spread: its sites, from the network end,
 * move to the earliest year that still has room for them.
 */
static int place_pins(struct heur *h, struct rollout_plan *p)
{
	const struct rollout_inst *in = h->in;
	int r = 0, e;
	for (int t = 1; t <= in->horizon; t++) {
		for (int v = 1; v <= in->n; v++) {
			if (in->nodes[v].pin != t || p->year[v] != 0)
				continue;
			chains(h, p, t, CHAIN_ADD);
			if (!isfinite(h->dist[v])) {
				p->year[v] = t;
				r = -ENOSPC;
				continue;
			}
			int len = 0;
			for (int u = v; u > 0 && p->year[u] == 0; u = h->pred[u])
				h->heap[len++] = u;
			label_chain(h, p, v, t);
			if ((e = rollout_plan_evaluate(in, p)) < 0)
				return e == -ENOMEM ? e : -ENOSPC;
			for (int i = len - 1; i >= 1 && !fits_year(in, p, t); i--) {
				int u = h->heap[i];
				for (int s = 1; s < t; s++) {
					p->year[u] = s;
					e = rollout_plan_evaluate(in, p);
					if (e == -ENOMEM)
						return e;
					if (e == 0 && fits_year(in, p, s))
						break;
					p->year[u] = t;
				}
				if ((e = rollout_plan_evaluate(in, p)) < 0)
					return e == -ENOMEM ? e : -ENOSPC;
			}
		}
	}
	e = rollout_plan_evaluate(in, p);
	if (e == -ENOMEM)
		return e;
	if (e < 0 || !rollout_plan_within_budget(in, p))
		r = -ENOSPC;
	return r;
}

/* Evaluates the trial plan; true when it is a valid plan that beats value. */
static bool better(struct heur *h, struct rollout_plan *p, double value, int *err)
{
	int r = rollout_plan_evaluate(h->in, p);
	if (r == -ENOMEM)
		*err = r;
	return r == 0 && rollout_plan_within_budget(h->in, p) && p->value > value + 1e-9;
}

static bool movable(const struct rollout_inst *in, int v)
{
	return in->nodes[v].pin == 0;
}

/*
 * Takes u out of the plan together with every site that then loses its way
 * to the network. 0; -EINVAL when a pinned site would be lost; -ENOMEM.
 */
static int drop_cascade(const struct rollout_inst *in, struct rollout_plan *p, int u)
{
	p->year[u] = 0;
	for (;;) {
		int r = rollout_plan_evaluate(in, p);
		if (r != -EINVAL)
			return r;
		for (int v = 1; v <= in->n; v++) {
			if (p->year[v] == 0 || p->parent[v] >= 0)
				continue;
			if (!movable(in, v))
				return -EINVAL;
			p->year[v] = 0;
		}
	}
}

/*
 * Insert v in year t through its cheapest chain (pulling sites planned later
 * forward), then drop the sites of year t that give up the least value per
 * euro until the budgets hold again, then refill. Leaves the result in
 * h->trial; returns 1 when it is a valid plan, 0 when not, or -ENOMEM.
 */
static int insert_move(struct heur *h, const struct rollout_plan *p, int v, int t,
		       enum chain_mode mode, double alpha)
{
	const struct rollout_inst *in = h->in;
	struct rollout_plan *tr = &h->trial, *t2 = &h->trial2;
	if (rollout_plan_copy(tr, p) < 0)
		return -ENOMEM;
	chains(h, tr, t, mode);
	if (!isfinite(h->dist[v]))
		return 0;
	/* Mark the chain: its sites are not dropped again. */
	for (int u = v; u > 0 && (tr->year[u] == 0 || tr->year[u] > t); u = h->pred[u])
		h->gain[u] = -1;
	label_chain(h, tr, v, t);
	int r = rollout_plan_evaluate(in, tr);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	while (!rollout_plan_within_budget(in, tr)) {
		int best = -1;
		double bscore = 0;
		for (int u = 1; u <= in->n; u++) {
			if (tr->year[u] != t || h->gain[u] == -1 || !movable(in, u))
				continue;
			if (rollout_plan_copy(t2, tr) < 0)
				return -ENOMEM;
			r = drop_cascade(in, t2, u);
			if (r == -ENOMEM)
				return r;
			double freed = tr->spent[t] - t2->spent[t];
			if (r < 0 || freed <= 0 || t2->year[v] == 0)
				continue;
			double sc = (tr->value - t2->value) / freed;
			if (best < 0 || sc < bscore) {
				best = u;
				bscore = sc;
			}
		}
		if (best < 0)
			return 0;
		if ((r = drop_cascade(in, tr, best)) < 0)
			return r == -ENOMEM ? r : 0;
	}
	if (fill(h, tr, alpha) < 0)
		return -ENOMEM;
	return 1;
}

/* One pass of improving moves; returns 1 when the plan improved, 0, or -ENOMEM. */
static int improve_once(struct heur *h, struct rollout_plan *p, double alpha)
{
	const struct rollout_inst *in = h->in;
	int n = in->n, T = in->horizon, err = 0;
	struct rollout_plan *tr = &h->trial;

	/* Earlier: the network only grows, so nothing else can lose its connection. */
	for (int v = 1; v <= n; v++) {
		if (!movable(in, v) || p->year[v] <= 1)
			continue;
		for (int t = 1; t < p->year[v]; t++) {
			if (rollout_plan_copy(tr, p) < 0)
				return -ENOMEM;
			tr->year[v] = t;
			if (better(h, tr, p->value, &err))
				return rollout_plan_copy(p, tr) < 0 ? -ENOMEM : 1;
			if (err)
				return err;
		}
	}
	/* Drop one site (or postpone it) and spend the money again. */
	if (n <= DROP_MOVE_MAX_SITES) {
		for (int v = 1; v <= n; v++) {
			if (!movable(in, v) || p->year[v] == 0)
				continue;
			for (int t = p->year[v] + 1; t <= T + 1; t++) {
				if (rollout_plan_copy(tr, p) < 0)
					return -ENOMEM;
				tr->year[v] = t > T ? 0 : t;
				int r = rollout_plan_evaluate(in, tr);
				if (r == -ENOMEM)
					return r;
				if (r < 0 || !rollout_plan_within_budget(in, tr))
					continue;
				if (fill(h, tr, alpha) < 0)
					return -ENOMEM;
				if (tr->value > p->value + 1e-9)
					return rollout_plan_copy(p, tr) < 0 ? -ENOMEM : 1;
			}
		}
	}
	/* Insert with ejection: reach a site earlier at the price of others. */
	if (n <= INSERT_MOVE_MAX_SITES) {
		for (int v = 1; v <= n; v++) {
			if (!movable(in, v))
				continue;
			int last = p->year[v] ? p->year[v] - 1 : T;
			for (int t = 1; t <= last; t++)
				for (int mode = CHAIN_PULL; mode <= CHAIN_FRESH; mode++) {
					int r = insert_move(h, p, v, t, mode, alpha);
					if (r < 0)
						return r;
					if (r && tr->value > p->value + 1e-9)
						return rollout_plan_copy(p, tr) < 0 ? -ENOMEM : 1;
				}
		}
	}
	/* Exchange: give two sites new years (0 = not connected), then refill. */
	if (n <= PAIR_MOVE_MAX_SITES) {
		for (int u = 1; u <= n; u++) {
			if (!movable(in, u) || p->year[u] == 0)
				continue;
			for (int v = 1; v <= n; v++) {
				if (v == u || !movable(in, v))
					continue;
				if (p->year[v] != 0 && p->year[v] <= p->year[u])
					continue;
				for (int a = 0; a <= T; a++) {
					if (a != 0 && a <= p->year[u])
						continue;
					if (rollout_plan_copy(tr, p) < 0)
						return -ENOMEM;
					tr->year[u] = a;
					tr->year[v] = p->year[u];
					int r = rollout_plan_evaluate(in, tr);
					if (r == -ENOMEM)
						return r;
					if (r < 0 || !rollout_plan_within_budget(in, tr))
						continue;
					if (fill(h, tr, alpha) < 0)
						return -ENOMEM;
					if (tr->value > p->value + 1e-9)
						return rollout_plan_copy(p, tr) < 0 ? -ENOMEM : 1;
				}
			}
		}
	}
	return 0;
}

static int local_search(struct heur *h, struct rollout_plan *p, double alpha)
{
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int r = improve_once(h, p, alpha);
		if (r <= 0)
			return r;
	}
	return 0;
}

/*
 * One random kick of the plan cur, in place: either force a site into an
 * earlier year whatever it costs now (insert with ejection), or take up to
 * three sites out and refill without putting them back into their old
 * years. 1 when cur is a valid plan to improve, 0 to skip, -ENOMEM.
 */
static int kick(struct heur *h, struct rollout_plan *cur, uint64_t *rng, int *tabu)
{
	const struct rollout_inst *in = h->in;
	int r;
	if (rollout_gen_next(rng) % 2) {
		int v = 1 + (int)(rollout_gen_next(rng) % (uint64_t)in->n);
		int last = cur->year[v] ? cur->year[v] - 1 : in->horizon;
		if (!movable(in, v) || last < 1)
			return 0;
		int t = 1 + (int)(rollout_gen_next(rng) % (uint64_t)last);
		r = insert_move(h, cur, v, t, CHAIN_FRESH, 1.0);
		if (r <= 0)
			return r;
		return rollout_plan_copy(cur, &h->trial) < 0 ? -ENOMEM : 1;
	}
	int k = 1 + (int)(rollout_gen_next(rng) % 3);
	memset(tabu, 0, ((size_t)in->n + 1) * sizeof(int));
	for (int j = 0; j < k; j++) {
		int v = 1 + (int)(rollout_gen_next(rng) % (uint64_t)in->n);
		if (cur->year[v] == 0 || !movable(in, v))
			continue;
		tabu[v] = cur->year[v];
		if ((r = drop_cascade(in, cur, v)) < 0)
			return r == -ENOMEM ? r : 0;
	}
	r = rollout_plan_evaluate(in, cur);
	if (r < 0 || !rollout_plan_within_budget(in, cur))
		return r == -ENOMEM ? r : 0;
	h->tabu = tabu;
	r = fill(h, cur, 1.0);
	h->tabu = NULL;
	return r < 0 ? r : 1;
}

/*
 * Iterated local search: kick the plan, improve, keep the result when it
 * is better; the walk may also go a little downhill and returns to the best
 * now and then. The random numbers come from a fixed seed, so the plan is
 * the same on every run.
 */
static int perturb(struct heur *h, struct rollout_plan *best, struct rollout_plan *cur,
		   struct rollout_plan *walk, int *tabu)
{
	uint64_t rng = 0x5e9b1a2c3d4e5f60ull;
	int since_best = 0;
	if (rollout_plan_copy(walk, best) < 0)
		return -ENOMEM;
	for (int it = 0; it < PERTURB_ROUNDS; it++) {
		if (++since_best % PERTURB_RESTART == 0 && rollout_plan_copy(walk, best) < 0)
			return -ENOMEM;
		if (rollout_plan_copy(cur, walk) < 0)
			return -ENOMEM;
		int r = kick(h, cur, &rng, tabu);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if ((r = local_search(h, cur, 1.0)) < 0)
			return r;
		if (cur->value > best->value + 1e-9) {
			since_best = 0;
			if (rollout_plan_copy(best, cur) < 0)
				return -ENOMEM;
		}
		if (cur->value >= walk->value * (1 - PERTURB_SLACK) &&
		    rollout_plan_copy(walk, cur) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int solve(struct heur *h, struct rollout_plan *p, double alpha)
{
	int r = place_pins(h, p);
	if (r < 0)
		return r;
	if ((r = fill(h, p, alpha)) < 0)
		return r;
	return local_search(h, p, alpha);
}

int rollout_heuristic(const struct rollout_inst *in, struct rollout_plan *out)
{
	/* Several greed exponents for small instances, where one wrong pick costs most. */
	static const double alphas[] = {1.0, 0.5, 1.5};
	size_t nalpha = in->n <= PAIR_MOVE_MAX_SITES ? 3 : 1;
	struct heur h = {.in = in};
	struct rollout_plan cur = {0};
	size_t k = (size_t)in->n + 1;
	int r = -ENOMEM;
	h.dist = malloc(k * sizeof(double));
	h.gain = malloc(k * sizeof(double));
	h.pred = malloc(k * sizeof(int));
	h.heap = malloc(k * sizeof(int));
	h.hpos = malloc(k * sizeof(int));
	h.tabu_years = malloc(k * sizeof(int));
	if (!h.dist || !h.gain || !h.pred || !h.heap || !h.hpos || !h.tabu_years)
		goto out;
	if (rollout_plan_init(&h.trial, in) < 0 || rollout_plan_init(&h.trial2, in) < 0 ||
	    rollout_plan_init(&h.walk, in) < 0 || rollout_plan_init(&cur, in) < 0)
		goto out;
	bool have = false;
	for (size_t i = 0; i < nalpha; i++) {
		memset(cur.year, 0, k * sizeof(int));
		r = solve(&h, &cur, alphas[i]);
		if (r < 0) {
			if (r == -ENOSPC && rollout_plan_copy(out, &cur) < 0)
				r = -ENOMEM;
			goto out;
		}
		if (!have || cur.value > out->value + 1e-9) {
			if ((r = rollout_plan_copy(out, &cur)) < 0)
				goto out;
			have = true;
		}
	}
	if (in->n > 0 && in->n <= PERTURB_MAX_SITES &&
	    (r = perturb(&h, out, &cur, &h.walk, h.tabu_years)) < 0)
		goto out;
	r = 0;
out:
	rollout_plan_clear(&cur);
	rollout_plan_clear(&h.trial);
	rollout_plan_clear(&h.trial2);
	rollout_plan_clear(&h.walk);
	free(h.dist);
	free(h.gain);
	free(h.pred);
	free(h.heap);
	free(h.hpos);
	free(h.tabu_years);
	return r;
}

int rollout_greedy(const struct rollout_inst *in, double alpha, struct rollout_plan *out)
{
	struct heur h = {.in = in};
	size_t k = (size_t)in->n + 1;
	int r = -ENOMEM;
	h.dist = malloc(k * sizeof(double));
	h.gain = malloc(k * sizeof(double));
	h.pred = malloc(k * sizeof(int));
	h.heap = malloc(k * sizeof(int));
	h.hpos = malloc(k * sizeof(int));
	if (!h.dist || !h.gain || !h.pred || !h.heap || !h.hpos)
		goto out;
	memset(out->year, 0, k * sizeof(int));
	if ((r = place_pins(&h, out)) == 0)
		r = fill(&h, out, alpha);
out:
	free(h.dist);
	free(h.gain);
	free(h.pred);
	free(h.heap);
	free(h.hpos);
	return r;
}
