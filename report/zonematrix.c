// SPDX-License-Identifier: MIT
#include "report/zonematrix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/lint.h"

const char *const zm_verdict_names[ZM_VERDICT_COUNT] = {"never", "denied", "partly", "scoped",
							"allowed"};

/* What one atom at one gateway view decides, summed up. */
enum { ST_NONE, ST_SOME, ST_ALL };

struct acc {
	size_t atoms;
	int state;	     /* of the first atom */
	bool uniform;	     /* every atom so far has the first atom's state and rules */
	bool all;	     /* every atom so far accepts everything */
	unsigned char *sig;  /* accepting rules of the first atom, per policy rule */
	unsigned char *hits; /* accepting rules of any atom */
	bool exceptions;
};

struct work {
	const struct policy *p;
	const struct inventory *inv;
	const struct lint_space *s;
	int *row;	     /* space zone -> matrix index, -1 */
	size_t n;	     /* matrix zones */
	struct acc *acc;     /* n * n */
	unsigned char *cur;  /* per policy rule: accepts in the current atom */
	bool *has_exception; /* per inventory site */
};

static bool without_exceptions(const char *site, void *ctx)
{
	const struct work *w = ctx;
	int i = inventory_find_site(w->inv, site);
	return i >= 0 && !w->has_exception[i];
}

static bool same_site(const char *site, void *ctx)
{
	return strcmp(site, ctx) == 0;
}

static void add_atom(struct work *w, struct acc *a, int state, bool exc)
{
	size_t nr = w->p->nrules;
	for (size_t i = 0; i < nr; i++)
		a->hits[i] |= w->cur[i];
	a->exceptions |= exc;
	if (a->atoms++ == 0) {
		a->state = state;
		a->uniform = true;
		a->all = state == ST_ALL;
		memcpy(a->sig, w->cur, nr);
		return;
	}
	if (a->state != state || memcmp(a->sig, w->cur, nr) != 0)
		a->uniform = false;
	a->all &= state == ST_ALL;
}

/* One gateway view: the model of site (-1: city-wide) over the atoms real marks. */
static int view(struct work *w, int site, const bool *real)
{
	const struct lint_space *s = w->s;
	struct lint_model *m = NULL;
	struct lint_ivset *parts = NULL, rest = {0};
	size_t nr = 0;
	int rc = lint_model_new(s, 0, site, &m);
	if (rc < 0)
		return rc;
	nr = lint_model_nrules(m);
	if (!(parts = calloc(nr + 1, sizeof(*parts)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t at = 0; at < lint_space_natoms(s); at++) {
		if (!real[at])
			continue;
		uint8_t fam;
		int from, to;
		enum lint_rel rel;
		lint_atom_parts(s, at, &fam, &from, &to, &rel);
		const struct lint_names *nm = lint_space_names(s);
		int r = w->row[lint_endpoint_zone(nm, from)], c = w->row[lint_endpoint_zone(nm, to)];
		if (r < 0 || c < 0)
			continue;
		if ((rc = lint_model_decide(m, at, parts, &rest)) < 0)
			goto out;
		bool acc = false, deny = rest.n > 0, exc = false;
		memset(w->cur, 0, w->p->nrules);
		for (size_t k = 0; k < nr; k++) {
			if (!parts[k].n)
				continue;
			const struct pol_rule *pr = &w->p->rules[lint_model_rule(m, k)];
			exc |= pr->site >= 0;
			if (pr->action == POL_ACCEPT) {
				acc = true;
				w->cur[lint_model_rule(m, k)] = 1;
			} else {
				deny = true;
			}
		}
		int state = !acc ? ST_NONE : deny ? ST_SOME : ST_ALL;
		add_atom(w, &w->acc[(size_t)r * w->n + (size_t)c], state, exc);
	}
out:
	for (size_t k = 0; parts && k < nr; k++)
		lint_ivset_free(&parts[k]);
	free(parts);
	lint_ivset_free(&rest);
	lint_model_free(m);
	return rc;
}

static int fill_cell(struct work *w, const struct acc *a, struct zm_cell *c)
{
	c->atoms = a->atoms;
	c->exceptions = a->exceptions;
	/* Everything accepted everywhere is "allowed" whichever rules did it. */
	if (!a->atoms)
		c->verdict = ZM_NEVER;
	else if (a->all)
		c->verdict = ZM_ALLOWED;
	else if (a->uniform && a->state == ST_NONE)
		c->verdict = ZM_DENIED;
	else if (a->uniform)
		c->verdict = ZM_PARTLY;
	else
		c->verdict = ZM_SCOPED;
	for (size_t i = 0; i < w->p->nrules; i++)
		c->nrules += a->hits[i];
	if (!c->nrules)
		return 0;
	if (!(c->rules = calloc(c->nrules, sizeof(int))))
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < w->p->nrules; i++)
		if (a->hits[i])
			c->rules[k++] = (int)i;
	return 0;
}

void zm_matrix_free(struct zm_matrix *m)
{
	if (!m)
		return;
	for (size_t i = 0; m->cells && i < m->nzones * m->nzones; i++)
		free(m->cells[i].rules);
	free(m->cells);
	free(m->zones);
	memset(m, 0, sizeof(*m));
}

int zm_compute(const struct policy *p, const struct inventory *inv, struct zm_matrix *out)
{
	struct work w = {.p = p, .inv = inv};
	struct lint_space *s = NULL;
	bool *real = NULL;
	int rc;
	memset(out, 0, sizeof(*out));
	const struct policy *pols[] = {p};
	const struct inventory *invs[] = {inv};
	if ((rc = lint_space_new(pols, invs, 1, &s)) < 0)
		return rc;
	w.s = s;
	const struct lint_names *names = lint_space_names(s);
	size_t nz = 0;
	rc = -ENOMEM;
	out->zones = calloc(p->nzones + 1, sizeof(int));
	w.row = calloc(names->nzones + 1, sizeof(int));
	w.has_exception = calloc(inv->nsites + 1, sizeof(bool));
	w.cur = calloc(p->nrules + 1, 1);
	real = calloc(lint_space_natoms(s) + 1, sizeof(bool));
	if (!out->zones || !w.row || !w.has_exception || !w.cur || !real)
		goto out;
	for (size_t z = 0; z < p->nzones; z++)
		if (p->zones[z].kind != POL_ZONE_DC)
			out->zones[nz++] = (int)z;
	out->nzones = w.n = nz;
	for (size_t z = 0; z < names->nzones; z++) {
		int pz = policy_find_zone(p, names->zones[z]);
		w.row[z] = -1;
		for (size_t i = 0; pz >= 0 && i < nz; i++)
			if (out->zones[i] == pz)
				w.row[z] = (int)i;
	}
	out->cells = calloc(nz * nz + 1, sizeof(*out->cells));
	w.acc = calloc(nz * nz + 1, sizeof(*w.acc));
	if (!out->cells || !w.acc)
		goto out;
	for (size_t i = 0; i < nz * nz; i++) {
		w.acc[i].sig = calloc(p->nrules + 1, 1);
		w.acc[i].hits = calloc(p->nrules + 1, 1);
		if (!w.acc[i].sig || !w.acc[i].hits)
			goto out;
	}
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].site >= 0 && !p->rules[i].expired)
			w.has_exception[p->rules[i].site] = true;

	lint_space_realise(s, 0, without_exceptions, &w, real);
	if ((rc = view(&w, -1, real)) < 0)
		goto out;
	out->views = 1;
	for (size_t g = 0; g < inv->nsites; g++) {
		if (!w.has_exception[g])
			continue;
		memset(real, 0, lint_space_natoms(s) * sizeof(bool));
		lint_space_realise(s, 0, same_site, inv->sites[g].id, real);
		if ((rc = view(&w, (int)g, real)) < 0)
			goto out;
		out->views++;
	}
	for (size_t i = 0; i < nz * nz; i++)
		if ((rc = fill_cell(&w, &w.acc[i], &out->cells[i])) < 0)
			goto out;
	rc = 0;
out:
	for (size_t i = 0; w.acc && i < nz * nz; i++) {
		free(w.acc[i].sig);
		free(w.acc[i].hits);
	}
	free(w.acc);
	free(w.row);
	free(w.has_exception);
	free(w.cur);
	free(real);
	lint_space_free(s);
	if (rc < 0)
		zm_matrix_free(out);
	return rc;
}

const struct zm_cell *zm_cell(const struct zm_matrix *m, int from, int to)
{
	int r = -1, c = -1;
	for (size_t i = 0; i < m->nzones; i++) {
		if (m->zones[i] == from)
			r = (int)i;
		if (m->zones[i] == to)
			c = (int)i;
	}
	if (r < 0 || c < 0)
		return NULL;
	return &m->cells[(size_t)r * m->nzones + (size_t)c];
}
