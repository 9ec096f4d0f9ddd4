// SPDX-License-Identifier: MIT
#include "topology/topo.h"

#include <errno.h>
#include <igraph.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * The graph of a topo is the "augmented" graph: vertices 0..n-1 are the
 * sites, vertex n is a virtual root joined to the primary and the fallback
 * data centre. Edge ids 0..m-1 are the built links in inventory order, the
 * last one or two edges are the virtual ones. The plain graph (sites and
 * links only) is kept beside it for igraph's reference analyses.
 */
struct topo {
	const struct inventory *inv;
	igraph_t plain, aug;
	bool have_plain, have_aug, have_inc;
	igraph_inclist_t inc; /* of aug */
	size_t n, m, nvirt;
	int root;
	int *edge_link; /* per aug edge: link index, -1 for virtual edges */
	int *link_edge; /* per link: aug edge id, -1 when not in the graph */
	int *efrom, *eto;
	double *elen, *ecap;
	unsigned char *site_failed;
};

/* ---- igraph plumbing ---- */

static void topo_error_handler(const char *reason, const char *file, int line,
			       igraph_error_t igraph_errno)
{
	/* Library code never prints: the error code is returned to the caller,
	 * and igraph's temporaries must still be released (igraph_error.h). */
	(void)reason;
	(void)file;
	(void)line;
	(void)igraph_errno;
	IGRAPH_FINALLY_FREE();
}

static void topo_warning_handler(const char *reason, const char *file, int line)
{
	/* Dijkstra warns about unreachable vertices: those are results here. */
	(void)reason;
	(void)file;
	(void)line;
}

static pthread_once_t igraph_once = PTHREAD_ONCE_INIT;

static void igraph_setup(void)
{
	igraph_set_error_handler(topo_error_handler);
	igraph_set_warning_handler(topo_warning_handler);
	igraph_set_attribute_table(&igraph_cattribute_table);
}

void topo_igraph_init(void)
{
	pthread_once(&igraph_once, igraph_setup);
}

static int ig_err(igraph_error_t e)
{
	switch (e) {
	case IGRAPH_SUCCESS:
		return 0;
	case IGRAPH_ENOMEM:
		return -ENOMEM;
	case IGRAPH_EFILE:
		return -EIO;
	default:
		return -EINVAL;
	}
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* ---- the graph ---- */

void topo_free(struct topo *t)
{
	if (!t)
		return;
	if (t->have_inc)
		igraph_inclist_destroy(&t->inc);
	if (t->have_aug)
		igraph_destroy(&t->aug);
	if (t->have_plain)
		igraph_destroy(&t->plain);
	free(t->edge_link);
	free(t->link_edge);
	free(t->efrom);
	free(t->eto);
	free(t->elen);
	free(t->ecap);
	free(t->site_failed);
	free(t);
}

static bool site_usable(const struct topo *t, int s)
{
	return s >= 0 && (size_t)s < t->n && !t->site_failed[s];
}

int topo_new(const struct inventory *inv, const struct topo_failset *fail, struct topo **out)
{
	struct topo *t = NULL;
	unsigned char *link_failed = NULL;
	igraph_vector_int_t ev;
	bool have_ev = false;
	int r = 0;

	*out = NULL;
	if (inv->nsites >= (size_t)INT32_MAX || inv->nlinks >= (size_t)INT32_MAX / 2)
		return -EOVERFLOW;
	topo_igraph_init();
	t = calloc(1, sizeof(*t));
	link_failed = calloc(inv->nlinks ? inv->nlinks : 1, 1);
	if (!t || !link_failed) {
		r = -ENOMEM;
		goto out;
	}
	t->inv = inv;
	t->n = inv->nsites;
	t->root = (int)inv->nsites;
	t->site_failed = calloc(t->n ? t->n : 1, 1);
	t->link_edge = malloc((inv->nlinks ? inv->nlinks : 1) * sizeof(int));
	if (!t->site_failed || !t->link_edge) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; fail && i < fail->nsites; i++) {
		if (fail->sites[i] < 0 || (size_t)fail->sites[i] >= t->n) {
			r = -EINVAL;
			goto out;
		}
		t->site_failed[fail->sites[i]] = 1;
	}
	for (size_t i = 0; fail && i < fail->nlinks; i++) {
		if (fail->links[i] < 0 || (size_t)fail->links[i] >= inv->nlinks) {
			r = -EINVAL;
			goto out;
		}
		link_failed[fail->links[i]] = 1;
	}

	for (size_t l = 0; l < inv->nlinks; l++) {
		const struct link *k = &inv->links[l];
		t->link_edge[l] = -1;
		if (k->kind == LINK_PLANNED || link_failed[l] || !site_usable(t, k->a) ||
		    !site_usable(t, k->b) || k->a == k->b)
			continue;
		t->link_edge[l] = (int)t->m++;
	}
	int dcs[2], ndc = 0;
	if (site_usable(t, inv->primary_dc))
		dcs[ndc++] = inv->primary_dc;
	if (site_usable(t, inv->fallback_dc) && inv->fallback_dc != inv->primary_dc)
		dcs[ndc++] = inv->fallback_dc;
	t->nvirt = (size_t)ndc;

	size_t ne = t->m + t->nvirt;
	t->edge_link = malloc((ne ? ne : 1) * sizeof(int));
	t->efrom = malloc((ne ? ne : 1) * sizeof(int));
	t->eto = malloc((ne ? ne : 1) * sizeof(int));
	t->elen = malloc((ne ? ne : 1) * sizeof(double));
	t->ecap = malloc((ne ? ne : 1) * sizeof(double));
	if (!t->edge_link || !t->efrom || !t->eto || !t->elen || !t->ecap) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t l = 0; l < inv->nlinks; l++) {
		int e = t->link_edge[l];
		if (e < 0)
			continue;
		t->edge_link[e] = (int)l;
		t->efrom[e] = inv->links[l].a;
		t->eto[e] = inv->links[l].b;
		t->elen[e] = inv->links[l].length_m;
		t->ecap[e] = inv->links[l].capacity_mbps;
	}
	for (int i = 0; i < ndc; i++) {
		size_t e = t->m + (size_t)i;
		t->edge_link[e] = -1;
		t->efrom[e] = t->root;
		t->eto[e] = dcs[i];
		t->elen[e] = 0;
		t->ecap[e] = INFINITY;
	}

	if ((r = ig_err(igraph_vector_int_init(&ev, (igraph_integer_t)(2 * ne)))) < 0)
		goto out;
	have_ev = true;
	for (size_t e = 0; e < ne; e++) {
		VECTOR(ev)[2 * e] = t->efrom[e];
		VECTOR(ev)[2 * e + 1] = t->eto[e];
	}
	if ((r = ig_err(
		 igraph_create(&t->aug, &ev, (igraph_integer_t)t->n + 1, IGRAPH_UNDIRECTED))) < 0)
		goto out;
	t->have_aug = true;
	if ((r = ig_err(igraph_vector_int_resize(&ev, (igraph_integer_t)(2 * t->m)))) < 0)
		goto out;
	if ((r = ig_err(igraph_create(&t->plain, &ev, (igraph_integer_t)t->n, IGRAPH_UNDIRECTED))) <
	    0)
		goto out;
	t->have_plain = true;
	if ((r = ig_err(igraph_inclist_init(&t->aug, &t->inc, IGRAPH_ALL, IGRAPH_LOOPS_ONCE))) < 0)
		goto out;
	t->have_inc = true;
	*out = t;
	t = NULL;
out:
	if (have_ev)
		igraph_vector_int_destroy(&ev);
	free(link_failed);
	topo_free(t);
	return r;
}

const struct inventory *topo_inventory(const struct topo *t)
{
	return t->inv;
}

size_t topo_nedges(const struct topo *t)
{
	return t->m;
}

bool topo_site_failed(const struct topo *t, size_t site)
{
	return site < t->n && t->site_failed[site];
}

bool topo_link_in_graph(const struct topo *t, size_t link)
{
	return link < t->inv->nlinks && t->link_edge[link] >= 0;
}

static int other_end(const struct topo *t, int e, int v)
{
	return t->efrom[e] == v ? t->eto[e] : t->efrom[e];
}

/* ---- failsets ---- */

void topo_failset_free(struct topo_failset *fs)
{
	if (!fs)
		return;
	free(fs->sites);
	free(fs->links);
	memset(fs, 0, sizeof(*fs));
}

static bool int_in(const int *a, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == x)
			return true;
	return false;
}

int topo_failset_resolve(const struct inventory *inv, const char *const *ids, size_t n,
			 struct diag_list *dl, struct topo_failset *fs)
{
	const char **cands = NULL;
	size_t errors = 0;
	int r = 0;

	memset(fs, 0, sizeof(*fs));
	fs->sites = malloc((n ? n : 1) * sizeof(int));
	fs->links = malloc((n ? n : 1) * sizeof(int));
	if (!fs->sites || !fs->links) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int s = -1, l = -1;
		for (size_t k = 0; k < inv->nsites && s < 0; k++)
			if (strcmp(inv->sites[k].id, ids[i]) == 0)
				s = (int)k;
		for (size_t k = 0; k < inv->nlinks && s < 0 && l < 0; k++)
			if (strcmp(inv->links[k].id, ids[i]) == 0)
				l = (int)k;
		if (s >= 0) {
			if (!int_in(fs->sites, fs->nsites, s))
				fs->sites[fs->nsites++] = s;
		} else if (l >= 0 && inv->links[l].kind == LINK_PLANNED) {
			diag_add(
			    dl, DIAG_WARNING, NULL, 0, 0,
			    "--fail %s: link '%s' is a planned trench, not part of the network",
			    ids[i], ids[i]);
		} else if (l >= 0) {
			if (!int_in(fs->links, fs->nlinks, l))
				fs->links[fs->nlinks++] = l;
		} else {
			if (!cands) {
				cands = malloc((inv->nsites + inv->nlinks + 1) * sizeof(*cands));
				if (!cands) {
					r = -ENOMEM;
					goto out;
				}
				for (size_t k = 0; k < inv->nsites; k++)
					cands[k] = inv->sites[k].id;
				for (size_t k = 0; k < inv->nlinks; k++)
					cands[inv->nsites + k] = inv->links[k].id;
			}
			const char *sug = diag_suggest(ids[i], cands, inv->nsites + inv->nlinks);
			if (sug)
				diag_add(dl, DIAG_ERROR, NULL, 0, 0,
					 "--fail: unknown site or link '%s' (did you mean '%s'?)",
					 ids[i], sug);
			else
				diag_add(dl, DIAG_ERROR, NULL, 0, 0,
					 "--fail: unknown site or link '%s'", ids[i]);
			errors++;
		}
	}
	if (errors)
		r = -EINVAL;
out:
	free(cands);
	if (r < 0)
		topo_failset_free(fs);
	return r;
}

/* ---- connectivity ---- */

void topo_connectivity_free(struct topo_connectivity *c)
{
	if (!c)
		return;
	free(c->component);
	free(c->component_size);
	free(c->cut_off);
	memset(c, 0, sizeof(*c));
}

int topo_connectivity(const struct topo *t, struct topo_connectivity *out)
{
	igraph_vector_int_t memb;
	igraph_integer_t no = 0;
	bool have_memb = false;
	int *renum = NULL;
	unsigned char *has_dc = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = ig_err(igraph_vector_int_init(&memb, 0))) < 0)
		goto out;
	have_memb = true;
	if ((r = ig_err(igraph_connected_components(&t->plain, &memb, NULL, &no, IGRAPH_WEAK))) < 0)
		goto out;
	renum = malloc(((size_t)no + 1) * sizeof(int));
	has_dc = calloc((size_t)no + 1, 1);
	out->component = malloc((t->n ? t->n : 1) * sizeof(int));
	out->component_size = calloc((size_t)no + 1, sizeof(size_t));
	out->cut_off = malloc((t->n ? t->n : 1) * sizeof(int));
	if (!renum || !has_dc || !out->component || !out->component_size || !out->cut_off) {
		r = -ENOMEM;
		goto out;
	}
	for (igraph_integer_t i = 0; i < no; i++)
		renum[i] = -1;
	/* Failed sites are isolated vertices: not components of the network. */
	for (size_t v = 0; v < t->n; v++) {
		if (t->site_failed[v]) {
			out->component[v] = -1;
			continue;
		}
		int c = (int)VECTOR(memb)[v];
		if (renum[c] < 0)
			renum[c] = (int)out->ncomponents++;
		out->component[v] = renum[c];
		out->component_size[renum[c]]++;
	}
	for (size_t e = t->m; e < t->m + t->nvirt; e++)
		has_dc[out->component[t->eto[e]]] = 1;
	for (size_t v = 0; v < t->n; v++)
		if (out->component[v] >= 0 && !has_dc[out->component[v]])
			out->cut_off[out->ncut_off++] = (int)v;
out:
	if (have_memb)
		igraph_vector_int_destroy(&memb);
	free(renum);
	free(has_dc);
	if (r < 0)
		topo_connectivity_free(out);
	return r;
}

/* ---- resilience ---- */

void topo_resilience_free(struct topo_resilience *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nspof; i++)
		free(r->spof[i].cut);
	free(r->spof);
	free(r->cls);
	memset(r, 0, sizeof(*r));
}

static int cmp_spof(const void *a, const void *b)
{
	const struct topo_spof *x = a, *y = b;
	if (x->ncut != y->ncut)
		return x->ncut > y->ncut ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind == TOPO_SITE ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/*
 * The lowpoint DFS of Hopcroft and Tarjan (1973), iterative, from the virtual
 * root. The parent is skipped by edge id, not by vertex, so a parallel link
 * is a back edge: two fibres between the same sites are two paths.
 * Results: preorder numbers, lowpoints, DFS parents and subtree sizes;
 * order[] lists the reached vertices in preorder, so the subtree of v is
 * order[pre[v] .. pre[v] + size[v]).
 */
struct dfs {
	int *pre, *low, *par, *pe, *size, *order, *stack, *next;
	size_t norder;
};

static void dfs_free(struct dfs *d)
{
	free(d->pre);
	free(d->low);
	free(d->par);
	free(d->pe);
	free(d->size);
	free(d->order);
	free(d->stack);
	free(d->next);
}

static int lowpoint_dfs(const struct topo *t, struct dfs *d)
{
	size_t nv = t->n + 1;
	memset(d, 0, sizeof(*d));
	d->pre = malloc(nv * sizeof(int));
	d->low = malloc(nv * sizeof(int));
	d->par = malloc(nv * sizeof(int));
	d->pe = malloc(nv * sizeof(int));
	d->size = malloc(nv * sizeof(int));
	d->order = malloc(nv * sizeof(int));
	d->stack = malloc(nv * sizeof(int));
	d->next = calloc(nv, sizeof(int));
	if (!d->pre || !d->low || !d->par || !d->pe || !d->size || !d->order || !d->stack ||
	    !d->next)
		return -ENOMEM;
	for (size_t v = 0; v < nv; v++) {
		d->pre[v] = -1;
		d->par[v] = -1;
		d->pe[v] = -1;
		d->size[v] = 1;
	}
	size_t sp = 0;
	int root = t->root;
	d->pre[root] = d->low[root] = 0;
	d->order[d->norder++] = root;
	d->stack[sp++] = root;
	while (sp) {
		int v = d->stack[sp - 1];
		const igraph_vector_int_t *inc = igraph_inclist_get(&t->inc, v);
		if (d->next[v] < igraph_vector_int_size(inc)) {
			int e = (int)VECTOR(*inc)[d->next[v]++];
			if (e == d->pe[v])
				continue;
			int w = other_end(t, e, v);
			if (d->pre[w] < 0) {
				d->pre[w] = d->low[w] = (int)d->norder;
				d->order[d->norder++] = w;
				d->par[w] = v;
				d->pe[w] = e;
				d->stack[sp++] = w;
			} else if (d->pre[w] < d->low[v]) {
				d->low[v] = d->pre[w];
			}
			continue;
		}
		sp--;
		if (v != root) {
			int p = d->par[v];
			if (d->low[v] < d->low[p])
				d->low[p] = d->low[v];
			d->size[p] += d->size[v];
		}
	}
	return 0;
}

static int plain_counts(const struct topo *t, struct topo_resilience *out)
{
	igraph_vector_int_t res;
	int r = ig_err(igraph_vector_int_init(&res, 0));
	if (r < 0)
		return r;
	if ((r = ig_err(igraph_articulation_points(&t->plain, &res))) < 0)
		goto out;
	out->plain_articulation_points = (size_t)igraph_vector_int_size(&res);
	if ((r = ig_err(igraph_bridges(&t->plain, &res))) < 0)
		goto out;
	out->plain_bridges = (size_t)igraph_vector_int_size(&res);
out:
	igraph_vector_int_destroy(&res);
	return r;
}

int topo_resilience(const struct topo *t, struct topo_resilience *out)
{
	const struct inventory *inv = t->inv;
	struct dfs d;
	unsigned char *crit = NULL, *vuln = NULL;
	size_t *ncut_site = NULL;
	int *spof_of_site = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = lowpoint_dfs(t, &d)) < 0)
		goto out;
	size_t nv = t->n + 1;
	crit = calloc(nv, 1);
	vuln = calloc(nv, 1);
	ncut_site = calloc(nv, sizeof(size_t));
	spof_of_site = malloc(nv * sizeof(int));
	out->cls = malloc(t->n ? t->n : 1);
	if (!crit || !vuln || !ncut_site || !spof_of_site || !out->cls) {
		r = -ENOMEM;
		goto out;
	}

	/*
	 * The subtree of a DFS child c of p is cut off from the root when p
	 * fails iff low[c] >= pre[p]; when low[c] > pre[p] the tree edge p-c is
	 * a bridge as well. The virtual root is no site: its children are never
	 * cut off by it. A site is of class 1 iff some tree edge on its root
	 * path is critical: one pass in preorder.
	 */
	size_t nbridges = 0, ncuts = 0;
	for (size_t i = 1; i < d.norder; i++) {
		int c = d.order[i], p = d.par[c];
		if (p != t->root && d.low[c] >= d.pre[p]) {
			crit[c] = 1;
			if (ncut_site[p] == 0)
				ncuts++;
			ncut_site[p] += (size_t)d.size[c];
			if (d.low[c] > d.pre[p] && t->edge_link[d.pe[c]] >= 0)
				nbridges++;
		}
		vuln[c] = vuln[p] || crit[c];
	}
	for (size_t v = 0; v < t->n; v++) {
		if (t->site_failed[v])
			out->cls[v] = TOPO_CLASS_FAILED;
		else if (d.pre[v] < 0)
			out->cls[v] = TOPO_CLASS_CUT_OFF;
		else
			out->cls[v] = vuln[v] ? TOPO_CLASS_SINGLE : TOPO_CLASS_REDUNDANT;
		out->class_count[out->cls[v]]++;
	}

	out->spof = calloc(ncuts + nbridges + 1, sizeof(*out->spof));
	if (!out->spof) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t v = 0; v < t->n; v++) {
		spof_of_site[v] = -1;
		if (!ncut_site[v])
			continue;
		struct topo_spof *s = &out->spof[out->nspof];
		s->kind = TOPO_SITE;
		s->index = (int)v;
		s->cut = malloc(ncut_site[v] * sizeof(int));
		if (!s->cut) {
			r = -ENOMEM;
			goto out;
		}
		spof_of_site[v] = (int)out->nspof++;
		out->nspof_sites++;
	}
	for (size_t i = 1; i < d.norder; i++) {
		int c = d.order[i], p = d.par[c];
		if (!crit[c])
			continue;
		struct topo_spof *s = &out->spof[spof_of_site[p]];
		for (int k = d.pre[c]; k < d.pre[c] + d.size[c]; k++)
			s->cut[s->ncut++] = d.order[k];
		if (d.low[c] > d.pre[p] && t->edge_link[d.pe[c]] >= 0) {
			struct topo_spof *b = &out->spof[out->nspof++];
			b->kind = TOPO_LINK;
			b->index = t->edge_link[d.pe[c]];
			b->ncut = (size_t)d.size[c];
			b->cut = malloc(b->ncut * sizeof(int));
			if (!b->cut) {
				r = -ENOMEM;
				goto out;
			}
			memcpy(b->cut, &d.order[d.pre[c]], b->ncut * sizeof(int));
			out->nspof_links++;
		}
	}
	for (size_t i = 0; i < out->nspof; i++) {
		struct topo_spof *s = &out->spof[i];
		qsort(s->cut, s->ncut, sizeof(int), cmp_int);
		for (size_t k = 0; k < s->ncut; k++)
			s->cut_demand_mbps += inv->sites[s->cut[k]].required_mbps;
	}
	qsort(out->spof, out->nspof, sizeof(*out->spof), cmp_spof);
	r = plain_counts(t, out);
out:
	dfs_free(&d);
	free(crit);
	free(vuln);
	free(ncut_site);
	free(spof_of_site);
	if (r < 0)
		topo_resilience_free(out);
	return r;
}

/* ---- what-if ---- */

void topo_whatif_free(struct topo_whatif *w)
{
	if (!w)
		return;
	free(w->lost);
	free(w->failed_sites);
	free(w->changed);
	memset(w, 0, sizeof(*w));
}

int topo_whatif(const struct inventory *inv, const struct topo_resilience *before,
		const struct topo_resilience *after, struct topo_whatif *out)
{
	size_t n = inv->nsites;
	memset(out, 0, sizeof(*out));
	out->lost = malloc((n ? n : 1) * sizeof(int));
	out->failed_sites = malloc((n ? n : 1) * sizeof(int));
	out->changed = malloc((n ? n : 1) * sizeof(*out->changed));
	if (!out->lost || !out->failed_sites || !out->changed) {
		topo_whatif_free(out);
		return -ENOMEM;
	}
	for (size_t v = 0; v < n; v++) {
		unsigned char b = before->cls[v], a = after->cls[v];
		if (a == TOPO_CLASS_FAILED) {
			out->failed_sites[out->nfailed_sites++] = (int)v;
			continue;
		}
		if (b == TOPO_CLASS_FAILED)
			continue;
		out->transitions[b][a]++;
		if (b != TOPO_CLASS_CUT_OFF && a == TOPO_CLASS_CUT_OFF) {
			out->lost[out->nlost++] = (int)v;
			out->lost_demand_mbps += inv->sites[v].required_mbps;
		}
		if (a != b)
			out->changed[out->nchanged++] =
			    (struct topo_class_change){.site = (int)v, .before = b, .after = a};
	}
	return 0;
}

/* ---- capacity ---- */

/* A binary min-heap of (distance, vertex) with lazy deletion. */
struct heap {
	double *key;
	int *val;
	size_t n, cap;
};

static int heap_push(struct heap *h, double k, int v)
{
	if (h->n == h->cap) {
		size_t nc = h->cap ? 2 * h->cap : 64;
		double *nk = realloc(h->key, nc * sizeof(double));
		if (!nk)
			return -ENOMEM;
		h->key = nk;
		int *nvv = realloc(h->val, nc * sizeof(int));
		if (!nvv)
			return -ENOMEM;
		h->val = nvv;
		h->cap = nc;
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h->key[p] <= k)
			break;
		h->key[i] = h->key[p];
		h->val[i] = h->val[p];
		i = p;
	}
	h->key[i] = k;
	h->val[i] = v;
	return 0;
}

static void heap_pop(struct heap *h, double *k, int *v)
{
	*k = h->key[0];
	*v = h->val[0];
	double lk = h->key[--h->n];
	int lv = h->val[h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->key[c + 1] < h->key[c])
			c++;
		if (lk <= h->key[c])
			break;
		h->key[i] = h->key[c];
		h->val[i] = h->val[c];
		i = c;
	}
	if (h->n) {
		h->key[i] = lk;
		h->val[i] = lv;
	}
}

/*
 * The shortest-path tree from the virtual root (edge 0 to the primary,
 * a weight larger than any path to the fallback) and the per-scenario
 * work arrays of the incremental N-1.
 */
struct topo_routing {
	size_t nv, ne;
	int *par, *pe, *pre, *size, *order;
	size_t norder;
	double *dist, *demand, *sub, *load, *w;
	/* N-1 work space */
	double *delta, *nd, *nsub;
	int *npe, *npar, *nord, *touched;
	unsigned char *is_touched, *settled;
	size_t ntouched, nnord;
	struct heap heap;
};

static void routing_free(struct topo_routing *r)
{
	if (!r)
		return;
	free(r->par);
	free(r->pe);
	free(r->pre);
	free(r->size);
	free(r->order);
	free(r->dist);
	free(r->demand);
	free(r->sub);
	free(r->load);
	free(r->w);
	free(r->delta);
	free(r->nd);
	free(r->nsub);
	free(r->npe);
	free(r->npar);
	free(r->nord);
	free(r->touched);
	free(r->is_touched);
	free(r->settled);
	free(r->heap.key);
	free(r->heap.val);
	free(r);
}

void topo_capacity_free(struct topo_capacity *c)
{
	if (!c)
		return;
	free(c->links);
	free(c->sites);
	free(c->over);
	free(c->by_load);
	free(c->failures);
	routing_free(c->routing);
	memset(c, 0, sizeof(*c));
}

static int routing_alloc(struct topo_routing *r)
{
	size_t nv = r->nv, ne = r->ne ? r->ne : 1;
	r->par = malloc(nv * sizeof(int));
	r->pe = malloc(nv * sizeof(int));
	r->pre = malloc(nv * sizeof(int));
	r->size = malloc(nv * sizeof(int));
	r->order = malloc(nv * sizeof(int));
	r->dist = malloc(nv * sizeof(double));
	r->demand = calloc(nv, sizeof(double));
	r->sub = calloc(nv, sizeof(double));
	r->load = calloc(ne, sizeof(double));
	r->w = malloc(ne * sizeof(double));
	r->delta = calloc(ne, sizeof(double));
	r->nd = malloc(nv * sizeof(double));
	r->nsub = malloc(nv * sizeof(double));
	r->npe = malloc(nv * sizeof(int));
	r->npar = malloc(nv * sizeof(int));
	r->nord = malloc(nv * sizeof(int));
	r->touched = malloc(ne * sizeof(int));
	r->is_touched = calloc(ne, 1);
	r->settled = calloc(nv, 1);
	if (!r->par || !r->pe || !r->pre || !r->size || !r->order || !r->dist || !r->demand ||
	    !r->sub || !r->load || !r->w || !r->delta || !r->nd || !r->nsub || !r->npe ||
	    !r->npar || !r->nord || !r->touched || !r->is_touched || !r->settled)
		return -ENOMEM;
	return 0;
}

/* The tree from igraph's Dijkstra: parents, then preorder and subtree sizes. */
static int build_routing(const struct topo *t, struct topo_routing *r)
{
	igraph_vector_t w;
	igraph_vector_int_t parents, inbound;
	int *first = NULL, *next = NULL, *stack = NULL;
	bool hw = false, hp = false, hi = false;
	int e;

	double sum = 1;
	for (size_t i = 0; i < t->m; i++)
		sum += t->elen[i];
	for (size_t i = 0; i < r->ne; i++)
		r->w[i] = t->elen[i];
	/* Any path through the fallback must be longer than every path to the
	 * primary: twice the total length of all links is. */
	for (size_t i = t->m; i < r->ne; i++)
		r->w[i] = t->eto[i] == t->inv->primary_dc ? 0 : 2 * sum;

	if ((e = ig_err(igraph_vector_init(&w, (igraph_integer_t)r->ne))) < 0)
		goto out;
	hw = true;
	for (size_t i = 0; i < r->ne; i++)
		VECTOR(w)[i] = r->w[i];
	if ((e = ig_err(igraph_vector_int_init(&parents, 0))) < 0)
		goto out;
	hp = true;
	if ((e = ig_err(igraph_vector_int_init(&inbound, 0))) < 0)
		goto out;
	hi = true;
	if ((e = ig_err(igraph_get_shortest_paths_dijkstra(&t->aug, NULL, NULL, t->root,
							   igraph_vss_all(), &w, IGRAPH_ALL,
							   &parents, &inbound))) < 0)
		goto out;

	size_t nv = r->nv;
	first = malloc(nv * sizeof(int));
	next = malloc(nv * sizeof(int));
	stack = malloc(nv * sizeof(int));
	if (!first || !next || !stack) {
		e = -ENOMEM;
		goto out;
	}
	for (size_t v = 0; v < nv; v++) {
		first[v] = -1;
		r->pre[v] = -1;
		r->size[v] = 1;
		r->par[v] = -1;
		r->pe[v] = -1;
		r->dist[v] = INFINITY;
	}
	/* Children lists in reverse so the walk visits them in vertex order. */
	for (size_t v = nv; v-- > 0;) {
		igraph_integer_t in = VECTOR(inbound)[v];
		if ((int)v == t->root || in < 0)
			continue;
		r->pe[v] = (int)in;
		r->par[v] = other_end(t, (int)in, (int)v);
		next[v] = first[r->par[v]];
		first[r->par[v]] = (int)v;
	}
	size_t sp = 0;
	r->norder = 0;
	r->dist[t->root] = 0;
	stack[sp++] = t->root;
	while (sp) {
		int v = stack[--sp];
		r->pre[v] = (int)r->norder;
		r->order[r->norder++] = v;
		if (v != t->root)
			r->dist[v] = r->dist[r->par[v]] + r->w[r->pe[v]];
		for (int c = first[v]; c >= 0; c = next[c])
			stack[sp++] = c;
	}
	for (size_t i = r->norder; i-- > 1;) {
		int v = r->order[i];
		r->size[r->par[v]] += r->size[v];
	}
	e = 0;
out:
	if (hw)
		igraph_vector_destroy(&w);
	if (hp)
		igraph_vector_int_destroy(&parents);
	if (hi)
		igraph_vector_int_destroy(&inbound);
	free(first);
	free(next);
	free(stack);
	return e;
}

static void touch(struct topo_routing *r, int e, double d)
{
	if (!r->is_touched[e]) {
		r->is_touched[e] = 1;
		r->touched[r->ntouched++] = e;
		r->delta[e] = 0;
	}
	r->delta[e] += d;
}

static void untouch_all(struct topo_routing *r)
{
	for (size_t i = 0; i < r->ntouched; i++) {
		r->is_touched[r->touched[i]] = 0;
		r->delta[r->touched[i]] = 0;
	}
	r->ntouched = 0;
}

static bool in_subtree(const struct topo_routing *r, int c, int v)
{
	return r->pre[v] >= r->pre[c] && r->pre[v] < r->pre[c] + r->size[c];
}

/*
 * The failure of aug edge e. Only the demands of the subtree S below e
 * crossed it. Distances outside S do not change (their tree paths avoid e),
 * so the new shortest path of a vertex of S enters S once, over a boundary
 * edge, and stays inside: a Dijkstra over S alone, seeded from the boundary,
 * finds it. The load changes are left in r->delta / r->touched.
 */
static int n1_failure(const struct topo *t, struct topo_routing *r, int e,
		      struct topo_n1_failure *res)
{
	int c = -1;
	res->rerouted_sites = res->unroutable_sites = 0;
	res->unroutable_mbps = 0;
	if (r->pe[t->efrom[e]] == e)
		c = t->efrom[e];
	else if (r->pe[t->eto[e]] == e)
		c = t->eto[e];
	touch(r, e, -r->load[e]);
	if (c < 0)
		return 0;

	double dem = r->sub[c];
	for (int p = r->par[c]; r->pe[p] >= 0; p = r->par[p])
		touch(r, r->pe[p], -dem);
	int lo = r->pre[c], hi = r->pre[c] + r->size[c];
	res->rerouted_sites = (size_t)r->size[c];
	for (int k = lo; k < hi; k++) {
		int v = r->order[k];
		if (v != c)
			touch(r, r->pe[v], -r->load[r->pe[v]]);
		r->nd[v] = INFINITY;
		r->npe[v] = -1;
		r->settled[v] = 0;
	}
	r->heap.n = 0;
	for (int k = lo; k < hi; k++) {
		int u = r->order[k];
		const igraph_vector_int_t *inc = igraph_inclist_get(&t->inc, u);
		igraph_integer_t deg = igraph_vector_int_size(inc);
		for (igraph_integer_t i = 0; i < deg; i++) {
			int f = (int)VECTOR(*inc)[i];
			int x = other_end(t, f, u);
			if (f == e || r->pre[x] < 0 || in_subtree(r, c, x))
				continue;
			double cand = r->dist[x] + r->w[f];
			if (cand < r->nd[u]) {
				r->nd[u] = cand;
				r->npe[u] = f;
				r->npar[u] = x;
			}
		}
		if (r->npe[u] >= 0 && heap_push(&r->heap, r->nd[u], u) < 0)
			return -ENOMEM;
	}
	r->nnord = 0;
	while (r->heap.n) {
		double d;
		int u;
		heap_pop(&r->heap, &d, &u);
		if (r->settled[u] || d > r->nd[u])
			continue;
		r->settled[u] = 1;
		r->nord[r->nnord++] = u;
		const igraph_vector_int_t *inc = igraph_inclist_get(&t->inc, u);
		igraph_integer_t deg = igraph_vector_int_size(inc);
		for (igraph_integer_t i = 0; i < deg; i++) {
			int f = (int)VECTOR(*inc)[i];
			int x = other_end(t, f, u);
			if (f == e || r->pre[x] < 0 || !in_subtree(r, c, x) || r->settled[x])
				continue;
			double cand = d + r->w[f];
			if (cand < r->nd[x]) {
				r->nd[x] = cand;
				r->npe[x] = f;
				r->npar[x] = u;
				if (heap_push(&r->heap, cand, x) < 0)
					return -ENOMEM;
			}
		}
	}
	for (int k = lo; k < hi; k++) {
		int v = r->order[k];
		r->nsub[v] = r->demand[v];
		if (!r->settled[v]) {
			res->unroutable_sites++;
			res->unroutable_mbps += r->demand[v];
		}
	}
	/* Settling order puts every new parent before its children. */
	for (size_t i = r->nnord; i-- > 0;) {
		int u = r->nord[i], x = r->npar[u];
		double s = r->nsub[u];
		touch(r, r->npe[u], s);
		if (in_subtree(r, c, x)) {
			r->nsub[x] += s;
			continue;
		}
		for (int p = x; r->pe[p] >= 0; p = r->par[p])
			touch(r, r->pe[p], s);
	}
	return 0;
}

static double clean_load(double x)
{
	/* Subtracting and re-adding the same demands leaves rounding dust. */
	return fabs(x) < 1e-9 ? 0 : x;
}

static bool is_core_site(const struct site *s)
{
	return s->type == SITE_DATA_CENTRE ||
	       (s->flags & (SITE_F_HUB | SITE_F_PRIMARY | SITE_F_FALLBACK)) != 0;
}

struct util_key {
	double util;
	int link;
};

static int cmp_util_key(const void *a, const void *b)
{
	const struct util_key *x = a, *y = b;
	if (x->util != y->util)
		return x->util > y->util ? -1 : 1;
	return (x->link > y->link) - (x->link < y->link);
}

/* Sorts link indices by utilisation descending, then by index. */
static int sort_by_util(int *idx, size_t n, const struct topo_link_load *links)
{
	struct util_key *k = malloc((n ? n : 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		k[i] = (struct util_key){.util = links[idx[i]].util, .link = idx[i]};
	qsort(k, n, sizeof(*k), cmp_util_key);
	for (size_t i = 0; i < n; i++)
		idx[i] = k[i].link;
	free(k);
	return 0;
}

static int n1_all(const struct topo *t, struct topo_capacity *c)
{
	const struct inventory *inv = t->inv;
	struct topo_routing *r = c->routing;
	size_t nf = 0;
	for (size_t l = 0; l < inv->nlinks; l++) {
		int e = t->link_edge[l];
		if (e < 0)
			continue;
		if (c->n1_set == TOPO_N1_CORE && !(is_core_site(&inv->sites[inv->links[l].a]) &&
						   is_core_site(&inv->sites[inv->links[l].b])))
			continue;
		nf++;
	}
	c->failures = calloc(nf ? nf : 1, sizeof(*c->failures));
	if (!c->failures)
		return -ENOMEM;
	for (size_t l = 0; l < inv->nlinks; l++) {
		int e = t->link_edge[l];
		if (e < 0)
			continue;
		if (c->n1_set == TOPO_N1_CORE && !(is_core_site(&inv->sites[inv->links[l].a]) &&
						   is_core_site(&inv->sites[inv->links[l].b])))
			continue;
		struct topo_n1_failure *f = &c->failures[c->nfailures++];
		f->link = (int)l;
		int rr = n1_failure(t, r, e, f);
		if (rr < 0) {
			untouch_all(r);
			return rr;
		}
		f->max_util = 0;
		f->max_util_link = -1;
		for (size_t i = 0; i < r->ntouched; i++) {
			int g = r->touched[i];
			int gl = t->edge_link[g];
			if (gl < 0 || g == e)
				continue;
			struct topo_link_load *ll = &c->links[gl];
			double load = clean_load(r->load[g] + r->delta[g]);
			double u = load / t->ecap[g];
			if (u > ll->worst_util) {
				ll->worst_util = u;
				ll->worst_load_mbps = load;
				ll->worst_cause = (int)l;
			}
			if (u > f->max_util || (u == f->max_util && gl < f->max_util_link)) {
				f->max_util = u;
				f->max_util_link = gl;
			}
		}
		/* The busiest link the failure did not touch keeps its load. */
		for (size_t i = 0; i < c->nby_load; i++) {
			int gl = c->by_load[i];
			int g = t->link_edge[gl];
			if (g == e || r->is_touched[g])
				continue;
			double u = c->links[gl].util;
			if (u > f->max_util || (u == f->max_util && gl < f->max_util_link)) {
				f->max_util = u;
				f->max_util_link = gl;
			}
			break;
		}
		untouch_all(r);
	}
	return 0;
}

int topo_capacity(const struct topo *t, const struct topo_capacity_opts *o,
		  struct topo_capacity *out)
{
	const struct inventory *inv = t->inv;
	struct topo_routing *r = NULL;
	int e;

	memset(out, 0, sizeof(*out));
	out->threshold = o ? o->threshold : 0.8;
	enum topo_n1_mode mode = o ? o->n1 : TOPO_N1_AUTO;
	if (mode == TOPO_N1_AUTO)
		mode = t->n <= TOPO_N1_ALL_MAX_SITES ? TOPO_N1_ALL : TOPO_N1_CORE;
	out->n1_set = mode;
	out->nlinks = inv->nlinks;
	out->nsites = t->n;
	out->links = calloc(inv->nlinks ? inv->nlinks : 1, sizeof(*out->links));
	out->sites = calloc(t->n ? t->n : 1, sizeof(*out->sites));
	out->over = malloc((inv->nlinks ? inv->nlinks : 1) * sizeof(int));
	out->by_load = malloc((inv->nlinks ? inv->nlinks : 1) * sizeof(int));
	r = out->routing = calloc(1, sizeof(*r));
	if (!out->links || !out->sites || !out->over || !out->by_load || !r) {
		e = -ENOMEM;
		goto out;
	}
	r->nv = t->n + 1;
	r->ne = t->m + t->nvirt;
	if ((e = routing_alloc(r)) < 0)
		goto out;
	if ((e = build_routing(t, r)) < 0)
		goto out;

	for (size_t v = 0; v < t->n; v++) {
		if (t->site_failed[v])
			continue;
		r->demand[v] = inv->sites[v].required_mbps;
		out->demand_mbps += r->demand[v];
	}
	for (size_t i = r->norder; i-- > 0;) {
		int v = r->order[i];
		r->sub[v] += r->demand[v];
		if (v != t->root) {
			r->sub[r->par[v]] += r->sub[v];
			r->load[r->pe[v]] = r->sub[v];
		}
	}
	for (size_t v = 0; v < t->n; v++) {
		struct topo_site_route *s = &out->sites[v];
		s->dc = -1;
		s->bottleneck_link = -1;
		if (r->pre[v] < 0 || t->site_failed[v]) {
			s->dist_m = INFINITY;
			if (!t->site_failed[v])
				out->unroutable_mbps += r->demand[v];
		}
	}
	/* Preorder: a site's parent is done before it. */
	for (size_t i = 1; i < r->norder; i++) {
		int v = r->order[i], p = r->par[v];
		struct topo_site_route *s = &out->sites[v];
		if (p == t->root) {
			s->dc = v;
			s->dist_m = 0;
			continue;
		}
		const struct topo_site_route *ps = &out->sites[p];
		int g = r->pe[v];
		s->dc = ps->dc;
		s->dist_m = ps->dist_m + t->elen[g];
		s->hops = ps->hops + 1;
		if (ps->bottleneck_link < 0 || t->ecap[g] < ps->bottleneck_mbps) {
			s->bottleneck_mbps = t->ecap[g];
			s->bottleneck_link = t->edge_link[g];
		} else {
			s->bottleneck_mbps = ps->bottleneck_mbps;
			s->bottleneck_link = ps->bottleneck_link;
		}
	}
	out->routed_mbps = out->demand_mbps - out->unroutable_mbps;

	for (size_t l = 0; l < inv->nlinks; l++) {
		struct topo_link_load *ll = &out->links[l];
		int g = t->link_edge[l];
		ll->worst_cause = -1;
		if (g < 0)
			continue;
		ll->in_graph = true;
		ll->load_mbps = r->load[g];
		ll->util = r->load[g] / t->ecap[g];
		ll->headroom_mbps = t->ecap[g] - r->load[g];
		ll->worst_load_mbps = ll->load_mbps;
		ll->worst_util = ll->util;
		out->by_load[out->nby_load++] = (int)l;
	}
	if ((e = sort_by_util(out->by_load, out->nby_load, out->links)) < 0)
		goto out;
	for (size_t i = 0; i < out->nby_load; i++)
		if (out->links[out->by_load[i]].util > out->threshold)
			out->over[out->nover++] = out->by_load[i];

	if (mode != TOPO_N1_NONE)
		e = n1_all(t, out);
out:
	if (e < 0)
		topo_capacity_free(out);
	return e;
}

int topo_n1_scenario(const struct topo *t, const struct topo_capacity *c, int link, double *loads,
		     double *unroutable_mbps)
{
	const struct inventory *inv = t->inv;
	struct topo_routing *r = c->routing;
	struct topo_n1_failure f = {.link = link};
	if (link < 0 || (size_t)link >= inv->nlinks || !r)
		return -EINVAL;
	for (size_t l = 0; l < inv->nlinks; l++) {
		int g = t->link_edge[l];
		loads[l] = g < 0 ? 0 : r->load[g];
	}
	*unroutable_mbps = 0;
	int e = t->link_edge[link];
	if (e < 0)
		return 0;
	int rr = n1_failure(t, r, e, &f);
	if (rr == 0) {
		for (size_t i = 0; i < r->ntouched; i++) {
			int g = r->touched[i];
			if (t->edge_link[g] >= 0)
				loads[t->edge_link[g]] = clean_load(r->load[g] + r->delta[g]);
		}
		*unroutable_mbps = f.unroutable_mbps;
	}
	untouch_all(r);
	return rr;
}
