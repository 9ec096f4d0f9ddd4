// SPDX-License-Identifier: MIT
#include "rollout/rollout_exact.h"

#include <errno.h>
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct arc {
	int tail, head, edge;
};

struct mip {
	const struct rollout_inst *in;
	int T, na;
	struct arc *arcs;
	int *in_start, *in_arc; /* arcs entering each node */
	int *ia, *ja;
	double *ar;
	size_t nz, cap;
	double *warm; /* column values of the warm plan, 1-based; NULL when none */
	bool warm_sent;
	double best_bound;
	bool have_bound;
};

static int nz_add(struct mip *m, int row, int col, double v)
{
	if (m->nz + 1 >= m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 4096;
		int *ia = realloc(m->ia, cap * sizeof(int));
		if (ia)
			m->ia = ia;
		int *ja = realloc(m->ja, cap * sizeof(int));
		if (ja)
			m->ja = ja;
		double *ar = realloc(m->ar, cap * sizeof(double));
		if (ar)
			m->ar = ar;
		if (!ia || !ja || !ar)
			return -ENOMEM;
		m->cap = cap;
	}
	m->nz++;
	m->ia[m->nz] = row;
	m->ja[m->nz] = col;
	m->ar[m->nz] = v;
	return 0;
}

static int build_arcs(struct mip *m)
{
	const struct rollout_inst *in = m->in;
	int n = in->n;
	m->arcs = malloc(((size_t)2 * in->nedges + 1) * sizeof(*m->arcs));
	m->in_start = calloc((size_t)n + 2, sizeof(int));
	m->in_arc = malloc(((size_t)2 * in->nedges + 1) * sizeof(int));
	if (!m->arcs || !m->in_start || !m->in_arc)
		return -ENOMEM;
	/* No arc enters the network: it needs no connection. */
	for (int e = 0; e < in->nedges; e++) {
		const struct rollout_edge *ed = &in->edges[e];
		if (ed->b >= 1)
			m->arcs[m->na++] = (struct arc){ed->a, ed->b, e};
		if (ed->a >= 1)
			m->arcs[m->na++] = (struct arc){ed->b, ed->a, e};
	}
	for (int k = 0; k < m->na; k++)
		m->in_start[m->arcs[k].head + 1]++;
	for (int v = 0; v <= n; v++)
		m->in_start[v + 1] += m->in_start[v];
	int *fill = malloc(((size_t)n + 1) * sizeof(int));
	if (!fill)
		return -ENOMEM;
	memcpy(fill, m->in_start, ((size_t)n + 1) * sizeof(int));
	for (int k = 0; k < m->na; k++)
		m->in_arc[fill[m->arcs[k].head]++] = k;
	free(fill);
	return 0;
}

/* Column numbers (1-based, GLPK): y[v,t], then a[arc,t], then g[k,arc,t]. */
static int col_y(const struct mip *m, int v, int t)
{
	return 1 + (v - 1) * m->T + (t - 1);
}

static int col_a(const struct mip *m, int arc, int t)
{
	return 1 + m->in->n * m->T + arc * m->T + (t - 1);
}

static int col_g(const struct mip *m, int k, int arc, int t)
{
	return 1 + (m->in->n + m->na) * m->T + ((k - 1) * m->na + arc) * m->T + (t - 1);
}

/*
 * Only y is integer. For integer y, each year's arcs form a fractional
 * arborescence over that year's sites and the network before it; that
 * polytope is integral (Edmonds 1967), so a tree at most as expensive
 * exists and the optimum is that of the all-integer model.
 */
static int build(struct mip *m, glp_prob *lp)
{
	const struct rollout_inst *in = m->in;
	int n = in->n, T = m->T, na = m->na, r;
	int ncols = (n + na) * T + n * na * T;
	glp_set_obj_dir(lp, GLP_MAX);
	glp_add_cols(lp, ncols);
	for (int v = 1; v <= n; v++) {
		int pin = in->nodes[v].pin;
		for (int t = 1; t <= T; t++) {
			int c = col_y(m, v, t);
			glp_set_col_kind(lp, c, GLP_BV);
			if (pin)
				glp_set_col_bnds(lp, c, GLP_FX, pin == t, pin == t);
			glp_set_obj_coef(lp, c, in->nodes[v].weight * (T - t + 1));
		}
	}
	for (int k = 0; k < na; k++)
		for (int t = 1; t <= T; t++)
			glp_set_col_bnds(lp, col_a(m, k, t), GLP_DB, 0, 1);
	for (int kk = 1; kk <= n; kk++)
		for (int k = 0; k < na; k++)
			for (int t = 1; t <= T; t++) {
				int c = col_g(m, kk, k, t);
				/* Flow never leaves its own sink. */
				if (m->arcs[k].tail == kk)
					glp_set_col_bnds(lp, c, GLP_FX, 0, 0);
				else
					glp_set_col_bnds(lp, c, GLP_DB, 0, 1);
			}

	/* Each site is connected at most once, through one arc in its year. */
	int row = glp_add_rows(lp, n);
	for (int v = 1; v <= n; v++, row++) {
		glp_set_row_bnds(lp, row, GLP_UP, 0, 1);
		for (int t = 1; t <= T; t++)
			if ((r = nz_add(m, row, col_y(m, v, t), 1)) < 0)
				return r;
	}
	for (int v = 1; v <= n; v++) {
		row = glp_add_rows(lp, T);
		for (int t = 1; t <= T; t++, row++) {
			glp_set_row_bnds(lp, row, GLP_FX, 0, 0);
			if ((r = nz_add(m, row, col_y(m, v, t), -1)) < 0)
				return r;
			for (int j = m->in_start[v]; j < m->in_start[v + 1]; j++)
				if ((r = nz_add(m, row, col_a(m, m->in_arc[j], t), 1)) < 0)
					return r;
		}
	}
	/* Budgets; with carry-over, cumulatively. */
	row = glp_add_rows(lp, T);
	double cum = 0;
	for (int t = 1; t <= T; t++, row++) {
		cum += in->budget[t];
		glp_set_row_bnds(lp, row, GLP_UP, 0, in->carry_over ? cum : in->budget[t]);
		for (int s = in->carry_over ? 1 : t; s <= t; s++) {
			for (int v = 1; v <= n; v++)
				if (in->nodes[v].fixed > 0 &&
				    (r = nz_add(m, row, col_y(m, v, s), in->nodes[v].fixed)) < 0)
					return r;
			for (int k = 0; k < na; k++) {
				double c = in->edges[m->arcs[k].edge].cost;
				if (c > 0 && (r = nz_add(m, row, col_a(m, k, s), c)) < 0)
					return r;
			}
		}
	}
	/*
	 * The same budgets over y alone, each site at its fixed cost plus its
	 * cheapest incoming trench: implied, but all-binary rows that GLPK's
	 * cover and MIR cuts can strengthen.
	 */
	row = glp_add_rows(lp, T);
	cum = 0;
	for (int t = 1; t <= T; t++, row++) {
		cum += in->budget[t];
		glp_set_row_bnds(lp, row, GLP_UP, 0, in->carry_over ? cum : in->budget[t]);
		for (int s = in->carry_over ? 1 : t; s <= t; s++)
			for (int v = 1; v <= n; v++) {
				double c = INFINITY;
				for (int j = m->in_start[v]; j < m->in_start[v + 1]; j++)
					c = fmin(c, in->edges[m->arcs[m->in_arc[j]].edge].cost);
				c = in->nodes[v].fixed + (isfinite(c) ? c : 0);
				if (c > 0 && (r = nz_add(m, row, col_y(m, v, s), c)) < 0)
					return r;
			}
	}
	/* The same-year rule: a trench from u is used no earlier than u's own year. */
	for (int k = 0; k < na; k++) {
		int u = m->arcs[k].tail;
		if (u == 0)
			continue;
		row = glp_add_rows(lp, T);
		for (int t = 1; t <= T; t++, row++) {
			glp_set_row_bnds(lp, row, GLP_UP, 0, 0);
			if ((r = nz_add(m, row, col_a(m, k, t), 1)) < 0)
				return r;
			for (int s = 1; s <= t; s++)
				if ((r = nz_add(m, row, col_y(m, u, s), -1)) < 0)
					return r;
		}
	}
	/* Conservation: commodity k delivers y[k,t] to k in year t. */
	for (int kk = 1; kk <= n; kk++)
		for (int t = 1; t <= T; t++) {
			row = glp_add_rows(lp, n);
			for (int j = 1; j <= n; j++)
				glp_set_row_bnds(lp, row + j - 1, GLP_FX, 0, 0);
			for (int k = 0; k < na; k++) {
				const struct arc *a = &m->arcs[k];
				if (a->tail == kk)
					continue;
				if ((r = nz_add(m, row + a->head - 1, col_g(m, kk, k, t), 1)) < 0)
					return r;
				if (a->tail >= 1 &&
				    (r = nz_add(m, row + a->tail - 1, col_g(m, kk, k, t), -1)) < 0)
					return r;
			}
			if ((r = nz_add(m, row + kk - 1, col_y(m, kk, t), -1)) < 0)
				return r;
		}
	/* Capacity: flow only over trenches built by then. */
	for (int kk = 1; kk <= n; kk++)
		for (int k = 0; k < na; k++) {
			if (m->arcs[k].tail == kk)
				continue;
			row = glp_add_rows(lp, T);
			for (int t = 1; t <= T; t++, row++) {
				glp_set_row_bnds(lp, row, GLP_UP, 0, 0);
				if ((r = nz_add(m, row, col_g(m, kk, k, t), 1)) < 0)
					return r;
				for (int s = 1; s <= t; s++)
					if ((r = nz_add(m, row, col_a(m, k, s), -1)) < 0)
						return r;
			}
		}
	glp_load_matrix(lp, (int)m->nz, m->ia, m->ja, m->ar);
	return 0;
}

/* The warm plan as column values: its parent arcs, and each site's tree path as its flow. */
static int warm_vector(struct mip *m, const struct rollout_plan *p, int ncols)
{
	const struct rollout_inst *in = m->in;
	m->warm = calloc((size_t)ncols + 1, sizeof(double));
	if (!m->warm)
		return -ENOMEM;
	int *arc_of = malloc(((size_t)in->n + 1) * sizeof(int));
	if (!arc_of)
		return -ENOMEM;
	for (int v = 1; v <= in->n; v++) {
		arc_of[v] = -1;
		if (p->year[v] < 1)
			continue;
		for (int j = m->in_start[v]; j < m->in_start[v + 1]; j++)
			if (m->arcs[m->in_arc[j]].edge == p->edge[v])
				arc_of[v] = m->in_arc[j];
		m->warm[col_y(m, v, p->year[v])] = 1;
		if (arc_of[v] >= 0)
			m->warm[col_a(m, arc_of[v], p->year[v])] = 1;
	}
	for (int k = 1; k <= in->n; k++) {
		int t = p->year[k];
		if (t < 1)
			continue;
		for (int v = k; v > 0 && arc_of[v] >= 0; v = m->arcs[arc_of[v]].tail)
			m->warm[col_g(m, k, arc_of[v], t)] = 1;
	}
	free(arc_of);
	return 0;
}

static bool warm_valid(const struct rollout_inst *in, const struct rollout_plan *warm)
{
	struct rollout_plan q = {0};
	bool ok = rollout_plan_copy(&q, warm) == 0 && rollout_plan_evaluate(in, &q) == 0 &&
		  rollout_plan_within_budget(in, &q);
	for (int v = 1; ok && v <= in->n; v++)
		ok = in->nodes[v].pin == 0 || q.year[v] == in->nodes[v].pin;
	for (int v = 1; ok && v <= in->n; v++)
		ok = q.year[v] == 0 || q.edge[v] == warm->edge[v];
	rollout_plan_clear(&q);
	return ok;
}

static void callback(glp_tree *tree, void *info)
{
	struct mip *m = info;
	int best = glp_ios_best_node(tree);
	if (best > 0) {
		double b = glp_ios_node_bound(tree, best);
		/* Nodes not yet solved carry +-DBL_MAX: no information. */
		if (fabs(b) > 1e300)
			b = INFINITY;
		if (isfinite(b) && (!m->have_bound || b < m->best_bound))
			m->best_bound = b;
		m->have_bound = true;
	}
	if (glp_ios_reason(tree) == GLP_IHEUR && m->warm && !m->warm_sent) {
		m->warm_sent = true;
		glp_ios_heur_sol(tree, m->warm);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int rollout_exact(const struct rollout_inst *in, const struct rollout_exact_opts *opts,
		  const struct rollout_plan *warm, struct rollout_plan *out,
		  struct rollout_exact_info *info)
{
	int limit = opts && opts->max_sites > 0 ? opts->max_sites : ROLLOUT_EXACT_MAX_SITES;
	memset(info, 0, sizeof(*info));
	if (in->n > limit)
		return -E2BIG;
	if (in->n == 0) {
		/* Nothing to connect: the empty plan, optimal (GLPK refuses a
		 * problem without columns). */
		out->year[0] = 0;
		int e = rollout_plan_evaluate(in, out);
		info->optimal = e == 0;
		info->bound = out->value;
		return e;
	}
	struct mip m = {.in = in, .T = in->horizon};
	glp_prob *lp = NULL;
	int r = build_arcs(&m);
	if (r < 0)
		goto out;
	glp_term_out(GLP_OFF);
	lp = glp_create_prob();
	if ((r = build(&m, lp)) < 0)
		goto out;
	int ncols = glp_get_num_cols(lp);
	info->rows = glp_get_num_rows(lp);
	info->cols = ncols;
	/* GLPK takes a heuristic solution on trust: hand over valid plans only. */
	if (warm && warm_valid(in, warm) && (r = warm_vector(&m, warm, ncols)) < 0)
		goto out;

	double t0 = now_s();
	glp_smcp sp;
	glp_init_smcp(&sp);
	sp.msg_lev = GLP_MSG_OFF;
	sp.presolve = GLP_OFF;
	if (glp_simplex(lp, &sp) != 0 || glp_get_status(lp) != GLP_OPT) {
		/* The relaxation is infeasible only when the pins are. */
		r = glp_get_status(lp) == GLP_NOFEAS ? -ENOSPC : -EIO;
		goto out;
	}
	glp_iocp ip;
	glp_init_iocp(&ip);
	ip.msg_lev = GLP_MSG_OFF;
	ip.presolve = GLP_OFF; /* the incumbent callback needs the original columns */
	ip.gmi_cuts = ip.mir_cuts = ip.cov_cuts = ip.clq_cuts = GLP_ON;
	ip.mip_gap = 1e-9;
	/* Pseudo-cost branching closed the test instances several times faster. */
	ip.br_tech = GLP_BR_PCH;
	ip.cb_func = callback;
	ip.cb_info = &m;
	if (opts && opts->time_limit_s > 0)
		ip.tm_lim = (int)fmin(opts->time_limit_s * 1000.0, 2e9);
	int ret = glp_intopt(lp, &ip);
	info->seconds = now_s() - t0;
	int st = glp_mip_status(lp);
	if (ret != 0 && ret != GLP_ETMLIM) {
		r = ret == GLP_ENOPFS || st == GLP_NOFEAS ? -ENOSPC : -EIO;
		goto out;
	}
	if (st == GLP_NOFEAS) {
		r = -ENOSPC;
		goto out;
	}
	if (st != GLP_OPT && st != GLP_FEAS) {
		r = -ETIME;
		goto out;
	}
	info->optimal = st == GLP_OPT && ret == 0;
	for (int v = 0; v <= in->n; v++)
		out->year[v] = 0;
	for (int v = 1; v <= in->n; v++)
		for (int t = 1; t <= m.T; t++)
			if (glp_mip_col_val(lp, col_y(&m, v, t)) > 0.5)
				out->year[v] = t;
	r = rollout_plan_evaluate(in, out);
	if (r < 0) {
		r = r == -ENOMEM ? r : -EIO;
		goto out;
	}
	info->bound = info->optimal || !m.have_bound ? fmax(out->value, glp_mip_obj_val(lp))
						     : fmax(m.best_bound, out->value);
out:
	if (lp)
		glp_delete_prob(lp);
	free(m.arcs);
	free(m.in_start);
	free(m.in_arc);
	free(m.ia);
	free(m.ja);
	free(m.ar);
	free(m.warm);
	return r;
}
