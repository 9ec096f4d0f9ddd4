// SPDX-License-Identifier: MIT
/*
 * Stage 2 of policy.yaml (docs/policy.md "Stage 2"): objects and external
 * networks, site groups, endpoint terms (labels of hosts.csv, exclusions),
 * gateway services' interfaces, limits, time windows and assertions.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "core/timewin.h"
#include "policy/reader.h"

/* ------------------------------------------------------------------ */
/* Small helpers */

static int push_int(int **v, size_t *n, int x)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return 0;
	int *w = realloc(*v, (*n + 1) * sizeof(int));
	if (!w)
		return -ENOMEM;
	*v = w;
	w[(*n)++] = x;
	return 0;
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int add_ranges(struct pol_ranges *dst, const struct pol_ranges *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int rc = pol_ranges_add(dst, &src->v[i].first, &src->v[i].last, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Parses an address or a prefix with host bits zero; reports at n. */
static bool read_prefix(struct reader *r, const struct ynode *n, struct ip_prefix *out)
{
	const char *s = ynode_scalar(n);
	int rc = s ? ip_prefix_parse(s, true, out) : -EINVAL;
	if (rc == -EDOM) {
		char buf[IP_PREFIX_STRLEN];
		ip_prefix_format(out, buf, sizeof(buf));
		ynode_error(r->doc, n, r->dl, "prefix '%s' has host bits set (did you mean '%s'?)",
			    s, buf);
		return false;
	}
	if (rc < 0) {
		ynode_error(r->doc, n, r->dl, "bad address or prefix '%s'",
			    s ? s : "(not a value)");
		return false;
	}
	return true;
}

static bool looks_like_address(const char *s)
{
	return s && (strchr(s, ':') || (s[0] >= '0' && s[0] <= '9' && strchr(s, '.')));
}

static int host_addrs(const struct host *h, struct pol_ranges *out)
{
	for (size_t i = 0; i < h->naddrs; i++) {
		int rc = pol_ranges_add_prefix(out, &h->addrs[i], 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Is any address of the ranges inside the city (a segment or a city prefix)? */
static bool in_city(const struct inventory *inv, const struct ip_prefix *pf)
{
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *s = &inv->segments[i];
		if ((s->has_v4 && ip_prefix_overlaps(&s->v4, pf)) ||
		    (s->has_v6 && ip_prefix_overlaps(&s->v6, pf)))
			return true;
	}
	for (size_t i = 0; i < inv->nplan; i++)
		if (ip_prefix_overlaps(&inv->plan[i].prefix, pf))
			return true;
	return false;
}

/* Every name the endpoints can use, for suggestions. */
static const char **endpoint_names(const struct reader *r, size_t *n)
{
	const struct policy *p = r->p;
	const struct inventory *inv = r->inv;
	const char **v = calloc(p->nzones + p->nobjects + p->ngroups + inv->nhosts + 1,
				sizeof(char *));
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < p->nzones; i++)
		v[(*n)++] = p->zones[i].name;
	for (size_t i = 0; i < p->nobjects; i++)
		v[(*n)++] = p->objects[i].name;
	for (size_t i = 0; i < p->ngroups; i++)
		v[(*n)++] = p->groups[i].name;
	for (size_t i = 0; i < inv->nhosts; i++)
		v[(*n)++] = inv->hosts[i].name;
	return v;
}

/* A name clashes with a zone, another object or group, or a host. */
static bool name_taken(struct reader *r, const struct ynode *k, const char *name, size_t self_obj,
		       size_t self_group)
{
	const struct policy *p = r->p;
	const char *what = NULL;
	if (policy_find_zone(p, name) >= 0)
		what = "a zone";
	for (size_t i = 0; !what && i < p->nobjects; i++)
		if (i != self_obj && strcmp(p->objects[i].name, name) == 0)
			what = p->objects[i].kind == POL_OBJ_EXTERNAL ? "an external network"
								     : "an object";
	for (size_t i = 0; !what && i < p->ngroups; i++)
		if (i != self_group && strcmp(p->groups[i].name, name) == 0)
			what = "a site group";
	if (!what && inventory_find_host(r->inv, name) >= 0)
		what = "a host of hosts.csv";
	if (what)
		ynode_error(r->doc, k, r->dl, "'%s' is already the name of %s: names of zones, "
					      "objects, external networks, site groups and hosts "
					      "must differ",
			    name, what);
	return what != NULL;
}

/* A new definition's name: valid and not taken. what: "object", "site group"... */
static bool new_name(struct reader *r, const struct ynode *k, const char *name, const char *what)
{
	if (!polr_valid_name(name, false)) {
		ynode_error(r->doc, k, r->dl, "%s names are 1-48 characters of a-z 0-9 _ - (got '%s')",
			    what, name);
		return false;
	}
	return !name_taken(r, k, name, (size_t)-1, (size_t)-1);
}

/* ------------------------------------------------------------------ */
/* Objects and external networks */

struct objread {
	struct reader *r;
	const struct ynode **defs;
	unsigned char *state; /* 0 unread, 1 reading, 2 done */
};

static int resolve_object(struct objread *o, size_t i);

/* One entry of an object: an address or prefix, a host, another object. */
static int object_item(struct objread *o, size_t i, const struct ynode *it, const char *as)
{
	struct reader *r = o->r;
	struct pol_object *ob = &r->p->objects[i];
	const char *s = ynode_scalar(it);
	if (!s) {
		ynode_error(r->doc, it, r->dl, "an object lists addresses, prefixes, hosts and "
					       "objects by name");
		return 0;
	}
	bool addr = as ? strcmp(as, "addresses") == 0 : looks_like_address(s);
	if (addr) {
		struct ip_prefix pf;
		if (read_prefix(r, it, &pf))
			return pol_ranges_add_prefix(&ob->addrs, &pf, 0);
		return 0;
	}
	int h = (!as || strcmp(as, "hosts") == 0) ? inventory_find_host(r->inv, s) : -1;
	if (h >= 0)
		return host_addrs(&r->inv->hosts[h], &ob->addrs);
	int k = (!as || strcmp(as, "objects") == 0) ? policy_find_object(r->p, s) : -1;
	if (k >= 0) {
		if (o->state[k] == 1) {
			ynode_error(r->doc, it, r->dl, "object '%s' contains itself (through '%s')",
				    ob->name, s);
			return 0;
		}
		int rc = resolve_object(o, (size_t)k);
		if (rc == 0)
			rc = add_ranges(&ob->addrs, &r->p->objects[k].addrs);
		if (rc == 0)
			rc = push_int(&ob->nested, &ob->nnested, k);
		return rc;
	}
	size_t nn;
	const char **names = endpoint_names(r, &nn);
	const char *sug = names ? diag_suggest(s, names, nn) : NULL;
	if (sug)
		ynode_error(r->doc, it, r->dl,
			    "'%s' is no address, host or object (did you mean '%s'?)", s, sug);
	else
		ynode_error(r->doc, it, r->dl, "'%s' is no address, host or object", s);
	free(names);
	return names ? 0 : -ENOMEM;
}

static int object_list(struct objread *o, size_t i, const struct ynode *n, const char *as)
{
	size_t len;
	polr_as_list(n, &len);
	for (size_t k = 0; k < len; k++) {
		int rc = object_item(o, i, polr_list_item(n, k), as);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int resolve_object(struct objread *o, size_t i)
{
	struct reader *r = o->r;
	struct pol_object *ob = &r->p->objects[i];
	const struct ynode *v = o->defs[i];
	int rc = 0;
	if (o->state[i] == 2)
		return 0;
	o->state[i] = 1;
	size_t errors = diag_errors(r->dl);
	if (ynode_kind(v) == YNODE_MAP) {
		static const char *const okeys[] = {"addresses", "hosts", "objects", "description"};
		static const char *const xkeys[] = {"addresses", "description"};
		bool ext = ob->kind == POL_OBJ_EXTERNAL;
		ynode_check_keys(r->doc, v, ext ? xkeys : okeys, ext ? NELEM(xkeys) : NELEM(okeys),
				 r->dl);
		const char *d = NULL;
		if (ynode_get_str(r->doc, v, "description", false, r->dl, &d) && d &&
		    !(ob->description = strdup(d)))
			rc = -ENOMEM;
		static const char *const parts[] = {"addresses", "hosts", "objects"};
		for (size_t k = 0; rc == 0 && k < (ext ? 1u : NELEM(parts)); k++)
			if (ynode_get(v, parts[k]))
				rc = object_list(o, i, ynode_get(v, parts[k]), parts[k]);
	} else if (ob->kind == POL_OBJ_EXTERNAL) {
		rc = object_list(o, i, v, "addresses");
	} else {
		rc = object_list(o, i, v, NULL);
	}
	if (rc == 0)
		rc = pol_ranges_normalize(&ob->addrs);
	/* Empty because of an error already reported: once is enough. */
	if (rc == 0 && ob->addrs.n == 0 && diag_errors(r->dl) == errors)
		diag_add(r->dl, DIAG_ERROR, ydoc_name(r->doc), ob->line, ob->col,
			 "%s '%s' holds no address",
			 ob->kind == POL_OBJ_EXTERNAL ? "external network" : "object", ob->name);
	o->state[i] = 2;
	return rc;
}

static int declare_objects(struct reader *r, const struct ynode *m, enum pol_object_kind kind,
			   const struct ynode **defs)
{
	struct policy *p = r->p;
	const char *what = kind == POL_OBJ_EXTERNAL ? "externals" : "objects";
	if (!m || !ynode_expect(r->doc, m, YNODE_MAP, what, r->dl))
		return 0;
	for (size_t i = 0; i < ynode_len(m); i++) {
		const struct ynode *k = ynode_key(m, i);
		const char *name = ynode_scalar(k);
		if (!name)
			continue;
		if (!new_name(r, k, name,
			      kind == POL_OBJ_EXTERNAL ? "external network" : "object"))
			continue;
		struct pol_object *ob = &p->objects[p->nobjects];
		memset(ob, 0, sizeof(*ob));
		if (!(ob->name = strdup(name)))
			return -ENOMEM;
		ob->kind = kind;
		ob->line = ynode_line(k);
		ob->col = ynode_col(k);
		r->obj_names[p->nobjects] = ob->name;
		defs[p->nobjects++] = ynode_value(m, i);
	}
	return 0;
}

int polr_read_objects(struct reader *r, const struct ynode *objs, const struct ynode *exts)
{
	struct policy *p = r->p;
	size_t cap = (objs && ynode_kind(objs) == YNODE_MAP ? ynode_len(objs) : 0) +
		     (exts && ynode_kind(exts) == YNODE_MAP ? ynode_len(exts) : 0);
	struct objread o = {r, calloc(cap + 1, sizeof(*o.defs)), calloc(cap + 1, 1)};
	p->objects = calloc(cap + 1, sizeof(*p->objects));
	r->obj_names = calloc(cap + 1, sizeof(char *));
	int rc = -ENOMEM;
	if (!o.defs || !o.state || !p->objects || !r->obj_names)
		goto out;
	if ((rc = declare_objects(r, exts, POL_OBJ_EXTERNAL, o.defs)) < 0 ||
	    (rc = declare_objects(r, objs, POL_OBJ_OBJECT, o.defs)) < 0)
		goto out;
	for (size_t i = 0; i < p->nobjects && rc == 0; i++)
		rc = resolve_object(&o, i);
	/* External networks live outside the city: in private-external or internet. */
	for (size_t i = 0; i < p->nobjects && rc == 0; i++) {
		struct pol_object *ob = &p->objects[i];
		if (ob->kind != POL_OBJ_EXTERNAL)
			continue;
		for (size_t k = 0; k < ob->addrs.n; k++) {
			struct ip_prefix pf;
			const struct pol_range *rg = &ob->addrs.v[k];
			pf.family = rg->first.family;
			pf.len = 0;
			memcpy(pf.b, rg->first.b, sizeof(pf.b));
			/* Test the range's ends: the first prefix covering each. */
			struct ip_prefix a = {.family = pf.family, .len = pf.family == 4 ? 32 : 128};
			struct ip_prefix b = a;
			memcpy(a.b, rg->first.b, sizeof(a.b));
			memcpy(b.b, rg->last.b, sizeof(b.b));
			bool inside = in_city(r->inv, &a) || in_city(r->inv, &b);
			for (size_t s = 0; !inside && s < r->inv->nsegments; s++) {
				const struct segment *sg = &r->inv->segments[s];
				struct ip_addr f;
				if (sg->has_v4 && sg->v4.family == pf.family) {
					ip_prefix_first(&sg->v4, &f);
					inside = ip_addr_cmp(&f, &rg->first) >= 0 &&
						 ip_addr_cmp(&f, &rg->last) <= 0;
				}
				if (!inside && sg->has_v6 && sg->v6.family == pf.family) {
					ip_prefix_first(&sg->v6, &f);
					inside = ip_addr_cmp(&f, &rg->first) >= 0 &&
						 ip_addr_cmp(&f, &rg->last) <= 0;
				}
			}
			if (inside) {
				diag_add(r->dl, DIAG_ERROR, ydoc_name(r->doc), ob->line, ob->col,
					 "external network '%s' overlaps the city's own addresses "
					 "(segments.csv, addressplan.csv): name city addresses as "
					 "an object",
					 ob->name);
				break;
			}
		}
	}
out:
	free(o.defs);
	free(o.state);
	return rc;
}

/* Object o is used, and so is every object it includes. */
static void mark_used(struct policy *p, int o)
{
	if (p->objects[o].used)
		return;
	p->objects[o].used = true;
	for (size_t i = 0; i < p->objects[o].nnested; i++)
		mark_used(p, p->objects[o].nested[i]);
}

/* ------------------------------------------------------------------ */
/* Site groups */

static int site_ref(struct reader *r, const struct ynode *it)
{
	const char *id = ynode_scalar(it);
	int s = id ? inventory_find_site(r->inv, id) : -1;
	if (s >= 0)
		return s;
	const char *sug = id ? diag_suggest(id, r->site_names, r->inv->nsites) : NULL;
	if (sug)
		ynode_error(r->doc, it, r->dl, "unknown site '%s' (did you mean '%s'?)", id, sug);
	else
		ynode_error(r->doc, it, r->dl, "unknown site '%s'", id ? id : "(not a value)");
	return -1;
}

/* Marks in sel the sites whose attribute (type, district, flag) is one of the list's. */
static void select_by(struct reader *r, const struct ynode *n, const char *key, bool *sel)
{
	const struct inventory *inv = r->inv;
	size_t len;
	polr_as_list(n, &len);
	for (size_t i = 0; i < len; i++) {
		const struct ynode *it = polr_list_item(n, i);
		const char *s = ynode_scalar(it);
		int k = -1;
		const char **names = NULL;
		size_t nn = 0;
		const char *dn[1024];
		if (strcmp(key, "types") == 0) {
			names = (const char **)site_type_names;
			nn = SITE_TYPE_COUNT;
		} else if (strcmp(key, "flags") == 0) {
			names = (const char **)site_flag_names;
			nn = SITE_FLAG_COUNT;
		} else {
			for (size_t d = 0; d < inv->ndistricts && d < NELEM(dn); d++)
				dn[nn++] = inv->districts[d].name;
			names = dn;
		}
		for (size_t j = 0; s && j < nn; j++)
			if (strcmp(names[j], s) == 0)
				k = (int)j;
		if (k < 0) {
			const char *sug = s ? diag_suggest(s, names, nn) : NULL;
			if (sug)
				ynode_error(r->doc, it, r->dl, "unknown %.*s '%s' (did you mean '%s'?)",
					    (int)strlen(key) - 1, key, s, sug);
			else
				ynode_error(r->doc, it, r->dl, "unknown %.*s '%s'",
					    (int)strlen(key) - 1, key, s ? s : "(not a value)");
			continue;
		}
		for (size_t st = 0; st < inv->nsites; st++) {
			const struct site *x = &inv->sites[st];
			if ((strcmp(key, "types") == 0 && (int)x->type == k) ||
			    (strcmp(key, "flags") == 0 && (x->flags & (1u << k))) ||
			    (strcmp(key, "districts") == 0 && x->district == k))
				sel[st] = true;
		}
	}
}

int polr_read_groups(struct reader *r, const struct ynode *gs)
{
	struct policy *p = r->p;
	const struct inventory *inv = r->inv;
	if (!gs || !ynode_expect(r->doc, gs, YNODE_MAP, "site_groups", r->dl))
		return 0;
	p->groups = calloc(ynode_len(gs) + 1, sizeof(*p->groups));
	r->group_names = calloc(ynode_len(gs) + 1, sizeof(char *));
	bool *sel = calloc(inv->nsites + 1, sizeof(bool));
	if (!p->groups || !r->group_names || !sel) {
		free(sel);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ynode_len(gs); i++) {
		const struct ynode *k = ynode_key(gs, i), *v = ynode_value(gs, i);
		const char *name = ynode_scalar(k);
		if (!name)
			continue;
		if (!new_name(r, k, name, "site group"))
			continue;
		struct pol_group *g = &p->groups[p->ngroups];
		memset(g, 0, sizeof(*g));
		if (!(g->name = strdup(name)) || !(g->member = calloc(inv->nsites + 1, 1))) {
			free(sel);
			return -ENOMEM;
		}
		g->line = ynode_line(k);
		g->col = ynode_col(k);
		r->group_names[p->ngroups++] = g->name;
		if (ynode_kind(v) != YNODE_MAP) {
			/* A list of site ids. */
			size_t len;
			polr_as_list(v, &len);
			for (size_t j = 0; j < len; j++) {
				int s = site_ref(r, polr_list_item(v, j));
				if (s >= 0)
					g->member[s] = true;
			}
		} else {
			static const char *const gkeys[] = {"types", "districts", "flags", "sites",
							    "except"};
			ynode_check_keys(r->doc, v, gkeys, NELEM(gkeys), r->dl);
			bool any_criterion = false;
			for (size_t s = 0; s < inv->nsites; s++)
				g->member[s] = true;
			/* Every criterion given narrows the group (they intersect). */
			for (size_t c = 0; c < 4; c++) {
				const struct ynode *cv = ynode_get(v, gkeys[c]);
				if (!cv)
					continue;
				any_criterion = true;
				memset(sel, 0, inv->nsites);
				if (c == 3) {
					size_t len;
					polr_as_list(cv, &len);
					for (size_t j = 0; j < len; j++) {
						int s = site_ref(r, polr_list_item(cv, j));
						if (s >= 0)
							sel[s] = true;
					}
				} else {
					select_by(r, cv, gkeys[c], sel);
				}
				for (size_t s = 0; s < inv->nsites; s++)
					g->member[s] = g->member[s] && sel[s];
			}
			if (!any_criterion)
				ynode_error(r->doc, v, r->dl,
					    "site group '%s' selects every site: give types, "
					    "districts, flags or sites",
					    name);
			const struct ynode *ex = ynode_get(v, "except");
			size_t len = 0;
			if (ex)
				polr_as_list(ex, &len);
			for (size_t j = 0; j < len; j++) {
				int s = site_ref(r, polr_list_item(ex, j));
				if (s >= 0)
					g->member[s] = false;
			}
		}
		for (size_t s = 0; s < inv->nsites; s++)
			g->nmembers += g->member[s];
		if (g->nmembers == 0)
			diag_add(r->dl, DIAG_WARNING, ydoc_name(r->doc), g->line, g->col,
				 "site group '%s' holds no site", name);
	}
	free(sel);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Endpoint terms */

/* The address keys of a mapping: each a union of its names; different keys intersect. */
enum { TK_OBJECT, TK_EXTERNAL, TK_HOST, TK_COUNT };

struct termbuild {
	struct pol_term t;
	struct pol_ranges kaddrs[TK_COUNT]; /* objects, external networks, hosts named */
	bool has_k[TK_COUNT];
	struct pol_ranges laddrs; /* hosts selected by labels */
	bool has_labels;
	char *label; /* the canonical text, whole: terms are told apart by it */
	size_t lo, cap;
};

static void tb_text(struct termbuild *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_text(struct termbuild *b, const char *fmt, ...)
{
	va_list ap, aq;
	va_start(ap, fmt);
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0 && b->lo + (size_t)n + 1 > b->cap) {
		size_t cap = 2 * (b->lo + (size_t)n + 1) + 64;
		char *v = realloc(b->label, cap);
		if (v) {
			b->label = v;
			b->cap = cap;
		}
	}
	if (n >= 0 && b->lo + (size_t)n + 1 <= b->cap)
		b->lo += (size_t)vsnprintf(b->label + b->lo, b->cap - b->lo, fmt, aq);
	va_end(aq);
}

static void tb_free(struct termbuild *b)
{
	for (int k = 0; k < TK_COUNT; k++)
		pol_ranges_free(&b->kaddrs[k]);
	pol_ranges_free(&b->laddrs);
	free(b->label);
	b->label = NULL;
}

static void term_free(struct pol_term *t)
{
	free(t->label);
	free(t->setname);
	free(t->zones);
	pol_ranges_free(&t->addrs);
	free(t->sites);
	free(t->except);
	free(t->objects);
	free(t->groups);
	free(t->labels);
	memset(t, 0, sizeof(*t));
}

/* Adds b's term to the policy (or finds an equal one by label). Its index. */
static int intern_term(struct reader *r, struct termbuild *b)
{
	struct policy *p = r->p;
	if (!b->label)
		return -ENOMEM;
	int k = policy_find_term(p, b->label);
	if (k >= 0) {
		term_free(&b->t);
		tb_free(b);
		return k;
	}
	struct pol_term *v = realloc(p->terms, (p->nterms + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->terms = v;
	if (!(b->t.label = strdup(b->label)))
		return -ENOMEM;
	/* One object alone is its own set, shared by every rule naming it. */
	char name[96];
	bool only_obj = b->t.nobjects == 1 && !b->t.zones && !b->has_labels && !b->t.has_sites &&
			!b->t.nexcept && b->t.has_addrs && strcmp(b->label, p->objects[b->t.objects[0]].name) == 0;
	if (only_obj) {
		const struct pol_object *ob = &p->objects[b->t.objects[0]];
		snprintf(name, sizeof(name), "%s_%s", ob->kind == POL_OBJ_EXTERNAL ? "x" : "o",
			 ob->name);
	} else {
		/* Readable and unique: the label's words, then 6 digits of its digest. */
		uint8_t d[SHA256_LEN];
		sha256(b->label, strlen(b->label), d);
		size_t o = (size_t)snprintf(name, sizeof(name), "t_");
		bool sep = false;
		for (const char *c = b->label; *c && o < 40; c++) {
			bool w = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-';
			if (w) {
				if (sep && o > 2)
					name[o++] = '_';
				name[o++] = *c;
				sep = false;
			} else {
				sep = true;
			}
		}
		snprintf(name + o, sizeof(name) - o, "_%02x%02x%02x", d[0], d[1], d[2]);
	}
	if (!(b->t.setname = strdup(name)))
		return -ENOMEM;
	p->terms[p->nterms] = b->t;
	memset(&b->t, 0, sizeof(b->t));
	tb_free(b);
	return (int)p->nterms++;
}

static int read_term_map(struct reader *r, const struct ynode *m);

/* A name in an endpoint list: zone (*zone set), or a term index. */
static int name_item(struct reader *r, const struct ynode *it, int *zone)
{
	struct policy *p = r->p;
	const char *s = ynode_scalar(it);
	*zone = -1;
	if (!s) {
		ynode_error(r->doc, it, r->dl, "expected a name or a mapping");
		return -1;
	}
	if (strcmp(s, "any") == 0) {
		ynode_error(r->doc, it, r->dl, "'any' stands alone, not in a list of zones");
		return -1;
	}
	int z = policy_find_zone(p, s);
	if (z >= 0) {
		*zone = z;
		return -1;
	}
	struct termbuild b;
	memset(&b, 0, sizeof(b));
	int o = policy_find_object(p, s), g = -1, h = -1;
	if (o >= 0) {
		mark_used(p, o);
		b.t.has_addrs = true;
		if (push_int(&b.t.objects, &b.t.nobjects, o) < 0 ||
		    pol_ranges_copy_into(&b.t.addrs, &p->objects[o].addrs) < 0)
			return -2;
	} else if ((g = policy_find_group(p, s)) >= 0) {
		p->groups[g].used = true;
		b.t.has_sites = true;
		if (push_int(&b.t.groups, &b.t.ngroups, g) < 0 ||
		    !(b.t.sites = calloc(r->inv->nsites + 1, 1)))
			return -2;
		memcpy(b.t.sites, p->groups[g].member, r->inv->nsites);
	} else if ((h = inventory_find_host(r->inv, s)) >= 0) {
		b.t.has_addrs = true;
		if (host_addrs(&r->inv->hosts[h], &b.t.addrs) < 0 ||
		    pol_ranges_normalize(&b.t.addrs) < 0)
			return -2;
	} else {
		size_t nn;
		const char **names = endpoint_names(r, &nn);
		const char *sug = names ? diag_suggest(s, names, nn) : NULL;
		/* A stage-1 policy (or a zone close by) keeps the stage-1 wording. */
		bool zones_only = !p->nobjects && !p->ngroups && !r->inv->nhosts;
		const char *what = zones_only || (sug && policy_find_zone(p, sug) >= 0)
				       ? "zone"
				       : "zone, object, site group or host";
		if (sug)
			ynode_error(r->doc, it, r->dl, "unknown %s '%s' (did you mean '%s'?)", what,
				    s, sug);
		else
			ynode_error(r->doc, it, r->dl, "unknown %s '%s'", what, s);
		free(names);
		return names ? -1 : -2;
	}
	if (g >= 0)
		tb_text(&b, "{sites: %s}", s);
	else if (h >= 0)
		tb_text(&b, "{host: %s}", s);
	else
		tb_text(&b, "%s", s);
	int k = intern_term(r, &b);
	return k < 0 ? -2 : k;
}

/* Reads one endpoint list (or one item) into zones and terms. -ENOMEM or 0. */
static int read_items(struct reader *r, const struct ynode *n, int **zones, size_t *nz, int **terms,
		      size_t *nt)
{
	size_t len;
	polr_as_list(n, &len);
	if (ynode_kind(n) == YNODE_SEQ && len == 0) {
		ynode_error(r->doc, n, r->dl, "an empty list matches nothing; write 'any' or names");
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		const struct ynode *it = polr_list_item(n, i);
		int zone = -1, k;
		if (ynode_kind(it) == YNODE_MAP)
			k = read_term_map(r, it);
		else
			k = name_item(r, it, &zone);
		if (k == -2)
			return -ENOMEM;
		/* A mapping of zones alone is those zones. */
		if (k <= -10) {
			zone = -(k + 10);
			k = -1;
		}
		if (zone >= 0 && push_int(zones, nz, zone) < 0)
			return -ENOMEM;
		if (k >= 0 && push_int(terms, nt, k) < 0)
			return -ENOMEM;
	}
	return 0;
}

static const char *const term_keys[] = {"zone",	   "zones", "object", "objects", "external",
					"externals", "host",  "hosts",  "sites",   "labels",
					"except"};

static bool is_term_key(const char *k)
{
	for (size_t i = 0; i < NELEM(term_keys); i++)
		if (strcmp(term_keys[i], k) == 0)
			return true;
	return false;
}

/* Hosts carrying key=one of the values; unknown keys and values are errors. */
static int label_hosts(struct reader *r, const struct ynode *kn, const struct ynode *vn,
		       bool *sel, struct termbuild *b)
{
	const struct inventory *inv = r->inv;
	const char *key = ynode_scalar(kn);
	if (!key)
		return 0;
	if (!inv->has_hosts || inv->nhosts == 0) {
		ynode_error(r->doc, kn, r->dl,
			    "label '%s': labels select hosts of hosts.csv, and the inventory has "
			    "none",
			    key);
		return 0;
	}
	const char **keys = calloc(inv->nhosts * 8 + 1, sizeof(char *)), **vals = NULL;
	size_t nk = 0;
	bool known = false;
	if (!keys)
		return -ENOMEM;
	for (size_t h = 0; h < inv->nhosts; h++)
		for (size_t l = 0; l < inv->hosts[h].nlabels && nk < inv->nhosts * 8; l++) {
			keys[nk++] = inv->hosts[h].labels[l].key;
			known |= strcmp(inv->hosts[h].labels[l].key, key) == 0;
		}
	if (!known) {
		const char *sug = diag_suggest(key, keys, nk);
		if (sug)
			ynode_error(r->doc, kn, r->dl,
				    "no host of hosts.csv has the label '%s' (did you mean '%s'?)",
				    key, sug);
		else
			ynode_error(r->doc, kn, r->dl, "no host of hosts.csv has the label '%s'",
				    key);
		free(keys);
		return 0;
	}
	free(keys);
	bool *any = calloc(inv->nhosts + 1, sizeof(bool));
	vals = calloc(inv->nhosts * 8 + 1, sizeof(char *));
	if (!any || !vals) {
		free(any);
		free(vals);
		return -ENOMEM;
	}
	size_t len, nv = 0;
	polr_as_list(vn, &len);
	for (size_t h = 0; h < inv->nhosts; h++)
		for (size_t l = 0; l < inv->hosts[h].nlabels && nv < inv->nhosts * 8; l++)
			if (strcmp(inv->hosts[h].labels[l].key, key) == 0)
				vals[nv++] = inv->hosts[h].labels[l].value;
	tb_text(b, "%s%s: ", b->lo > 1 ? ", " : "", key);
	for (size_t i = 0; i < len; i++) {
		const struct ynode *it = polr_list_item(vn, i);
		const char *val = ynode_scalar(it);
		bool hit = false;
		for (size_t h = 0; val && h < inv->nhosts; h++)
			if (host_has_label(&inv->hosts[h], key, val))
				any[h] = hit = true;
		if (!val)
			ynode_error(r->doc, it, r->dl, "a label's value must be a word");
		else if (!hit) {
			const char *sug = diag_suggest(val, vals, nv);
			if (sug)
				ynode_error(r->doc, it, r->dl,
					    "no host has %s=%s (did you mean '%s'?)", key, val,
					    sug);
			else
				ynode_error(r->doc, it, r->dl, "no host has %s=%s", key, val);
		}
		tb_text(b, "%s%s", i ? "|" : "", val ? val : "?");
	}
	for (size_t h = 0; h < inv->nhosts; h++)
		sel[h] = sel[h] && any[h];
	b->has_labels = true;
	free(any);
	free(vals);
	return 0;
}

/* A list of names for one key of a term, with its lookup. */
static void term_names(struct reader *r, const struct ynode *n, const char *key,
		       struct termbuild *b, int *err)
{
	struct policy *p = r->p;
	size_t len;
	polr_as_list(n, &len);
	tb_text(b, "%s%s: ", b->lo > 1 ? ", " : "", key);
	for (size_t i = 0; i < len; i++) {
		const struct ynode *it = polr_list_item(n, i);
		const char *s = ynode_scalar(it);
		tb_text(b, "%s%s", i ? "|" : "", s ? s : "?");
		if (!s) {
			ynode_error(r->doc, it, r->dl, "expected a name");
			continue;
		}
		if (key[0] == 'z') {
			int z = polr_zone_ref(r, it);
			if (z >= 0 && push_int(&b->t.zones, &b->t.nzones, z) < 0)
				*err = -ENOMEM;
		} else if (key[0] == 'o' || key[0] == 'e') {
			int o = policy_find_object(p, s);
			bool ext = key[0] == 'e';
			if (o < 0 || (ext && p->objects[o].kind != POL_OBJ_EXTERNAL)) {
				const char *sug = diag_suggest(s, r->obj_names, p->nobjects);
				if (sug)
					ynode_error(r->doc, it, r->dl,
						    "unknown %s '%s' (did you mean '%s'?)",
						    ext ? "external network" : "object", s, sug);
				else
					ynode_error(r->doc, it, r->dl, "unknown %s '%s'",
						    ext ? "external network" : "object", s);
				continue;
			}
			mark_used(p, o);
			int kk = ext ? TK_EXTERNAL : TK_OBJECT;
			b->has_k[kk] = true;
			if (push_int(&b->t.objects, &b->t.nobjects, o) < 0 ||
			    add_ranges(&b->kaddrs[kk], &p->objects[o].addrs) < 0)
				*err = -ENOMEM;
		} else if (key[0] == 'h') {
			int h = inventory_find_host(r->inv, s);
			if (h < 0) {
				size_t nn = r->inv->nhosts;
				const char **hn = calloc(nn + 1, sizeof(char *));
				for (size_t k = 0; hn && k < nn; k++)
					hn[k] = r->inv->hosts[k].name;
				const char *sug = hn ? diag_suggest(s, hn, nn) : NULL;
				if (sug)
					ynode_error(r->doc, it, r->dl,
						    "unknown host '%s' (did you mean '%s'?)", s,
						    sug);
				else
					ynode_error(r->doc, it, r->dl,
						    "unknown host '%s' (hosts.csv)", s);
				free(hn);
				continue;
			}
			b->has_k[TK_HOST] = true;
			if (host_addrs(&r->inv->hosts[h], &b->kaddrs[TK_HOST]) < 0)
				*err = -ENOMEM;
		} else { /* sites: group names or site ids */
			if (!b->t.sites && !(b->t.sites = calloc(r->inv->nsites + 1, 1))) {
				*err = -ENOMEM;
				return;
			}
			b->t.has_sites = true;
			int g = policy_find_group(p, s);
			if (g >= 0) {
				p->groups[g].used = true;
				if (push_int(&b->t.groups, &b->t.ngroups, g) < 0)
					*err = -ENOMEM;
				for (size_t st = 0; st < r->inv->nsites; st++)
					b->t.sites[st] |= p->groups[g].member[st];
				continue;
			}
			int st = inventory_find_site(r->inv, s);
			if (st >= 0) {
				b->t.sites[st] = true;
				continue;
			}
			const char *sug = diag_suggest(s, r->group_names, p->ngroups);
			if (!sug)
				sug = diag_suggest(s, r->site_names, r->inv->nsites);
			if (sug)
				ynode_error(r->doc, it, r->dl,
					    "unknown site group or site '%s' (did you mean '%s'?)",
					    s, sug);
			else
				ynode_error(r->doc, it, r->dl, "unknown site group or site '%s'",
					    s);
		}
	}
}

/*
 * An endpoint mapping. Its term index; -2 out of memory; -1 nothing usable
 * (errors reported); -(10 + z) for a mapping that is just one zone z.
 */
static int read_term_map(struct reader *r, const struct ynode *m)
{
	const struct inventory *inv = r->inv;
	struct termbuild b;
	memset(&b, 0, sizeof(b));
	int err = 0;
	bool *sel = calloc(inv->nhosts + 1, sizeof(bool));
	size_t errors = diag_errors(r->dl);
	if (!sel)
		return -2;
	for (size_t h = 0; h < inv->nhosts; h++)
		sel[h] = true;
	tb_text(&b, "{");
	/* Fixed key order, so that equal terms get equal labels. */
	static const char *const order[] = {"zone", "zones", "object", "objects", "external",
					    "externals", "host", "hosts"};
	for (size_t i = 0; i < NELEM(order) && err == 0; i++) {
		const struct ynode *v = ynode_get(m, order[i]);
		if (v)
			term_names(r, v, order[i], &b, &err);
	}
	/* Labels: under `labels:` or as the mapping's own other keys. */
	const struct ynode *lm = ynode_get(m, "labels");
	if (lm && ynode_expect(r->doc, lm, YNODE_MAP, "labels", r->dl)) {
		for (size_t i = 0; i < ynode_len(lm) && err == 0; i++)
			err = label_hosts(r, ynode_key(lm, i), ynode_value(lm, i), sel, &b);
	}
	for (size_t i = 0; i < ynode_len(m) && err == 0; i++) {
		const char *k = ynode_scalar(ynode_key(m, i));
		if (k && !is_term_key(k))
			err = label_hosts(r, ynode_key(m, i), ynode_value(m, i), sel, &b);
	}
	if (ynode_get(m, "sites") && err == 0)
		term_names(r, ynode_get(m, "sites"), "sites", &b, &err);
	if (err == 0 && b.has_labels) {
		for (size_t h = 0; h < inv->nhosts && err == 0; h++)
			if (sel[h])
				err = host_addrs(&inv->hosts[h], &b.laddrs);
		if (err == 0)
			err = pol_ranges_normalize(&b.laddrs);
		if (err == 0 && b.laddrs.n == 0 && diag_errors(r->dl) == errors)
			ynode_error(r->doc, m, r->dl, "no host carries all these labels");
	}
	/* Each key is the union of its names; the keys given narrow each other. */
	bool first = true;
	for (int k = 0; k < TK_COUNT + 1 && err == 0; k++) {
		struct pol_ranges *src = k < TK_COUNT ? &b.kaddrs[k] : &b.laddrs;
		if (k < TK_COUNT ? !b.has_k[k] : !b.has_labels)
			continue;
		err = pol_ranges_normalize(src);
		if (err == 0 && first) {
			err = pol_ranges_copy_into(&b.t.addrs, src);
		} else if (err == 0) {
			struct pol_ranges tmp = {0};
			err = pol_ranges_intersect(&b.t.addrs, src, &tmp);
			pol_ranges_free(&b.t.addrs);
			b.t.addrs = tmp;
		}
		first = false;
		b.t.has_addrs = true;
	}
	if (b.has_labels && err == 0) {
		/* The selector as written, for query's answer. */
		const char *open = strchr(b.label, '{');
		b.t.labels = strdup(open ? open + 1 : b.label);
	}
	const struct ynode *ex = ynode_get(m, "except");
	if (ex && err == 0) {
		int *xz = NULL, *xt = NULL;
		size_t nxz = 0, nxt = 0;
		err = read_items(r, ex, &xz, &nxz, &xt, &nxt);
		/* Zones excluded become terms of their own: the subtraction is on addresses. */
		for (size_t i = 0; i < nxz && err == 0; i++) {
			struct termbuild zb;
			memset(&zb, 0, sizeof(zb));
			if (push_int(&zb.t.zones, &zb.t.nzones, xz[i]) < 0) {
				err = -ENOMEM;
				break;
			}
			tb_text(&zb, "{zone: %s}", r->p->zones[xz[i]].name);
			int k = intern_term(r, &zb);
			if (k < 0 || push_int(&xt, &nxt, k) < 0)
				err = -ENOMEM;
		}
		if (nxt)
			qsort(xt, nxt, sizeof(int), int_cmp);
		tb_text(&b, "%sexcept: [", b.lo > 1 ? ", " : "");
		for (size_t i = 0; i < nxt; i++)
			tb_text(&b, "%s%s", i ? ", " : "", r->p->terms[xt[i]].label);
		tb_text(&b, "]");
		b.t.except = xt;
		b.t.nexcept = nxt;
		free(xz);
	}
	tb_text(&b, "}");
	free(sel);
	if (err < 0 || !b.label) {
		term_free(&b.t);
		tb_free(&b);
		return -2;
	}
	if (b.lo <= 2) {
		if (ynode_len(m) == 0)
			ynode_error(r->doc, m, r->dl,
			    "an endpoint mapping needs zone, object, external, host, labels, sites "
			    "or except");
		term_free(&b.t);
		tb_free(&b);
		return -1;
	}
	if (b.t.nzones == 1 && !b.t.has_addrs && !b.t.has_sites && !b.t.nexcept) {
		int z = b.t.zones[0];
		term_free(&b.t);
		tb_free(&b);
		return -(10 + z);
	}
	int k = intern_term(r, &b);
	return k < 0 ? -2 : k;
}

int polr_read_side(struct reader *r, const struct ynode *n, struct pol_rside *out)
{
	memset(out, 0, sizeof(*out));
	if (ynode_kind(n) == YNODE_SCALAR && strcmp(ynode_scalar(n), "any") == 0) {
		out->any = true;
		return 0;
	}
	int rc = read_items(r, n, &out->zones, &out->nzones, &out->terms, &out->nterms);
	if (rc < 0)
		return rc;
	if (out->nzones)
		qsort(out->zones, out->nzones, sizeof(int), int_cmp);
	if (out->nterms)
		qsort(out->terms, out->nterms, sizeof(int), int_cmp);
	return 0;
}

void polr_side_free(struct pol_rside *s)
{
	free(s->zones);
	free(s->terms);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ */
/* Limits, time windows, interfaces */

static void read_limit(struct reader *r, const struct ynode *n, struct pol_rule *ru)
{
	const char *rate = ynode_scalar(n);
	const struct ynode *rn = n;
	if (ynode_kind(n) == YNODE_MAP) {
		static const char *const lkeys[] = {"rate", "burst", "per"};
		ynode_check_keys(r->doc, n, lkeys, NELEM(lkeys), r->dl);
		rn = ynode_get(n, "rate");
		rate = NULL;
		if (!ynode_get_str(r->doc, n, "rate", true, r->dl, &rate))
			return;
		long burst = 0;
		if (ynode_get_long(r->doc, n, "burst", false, 1, 1000000, r->dl, &burst))
			ru->limit.burst = (unsigned)burst;
		int per = polr_get_enum(r, n, "per", (const char *const[]){"rule", "source"}, 2, 0);
		ru->limit.per_source = per == 1;
	}
	unsigned v;
	char unit[16], tail;
	if (!rate || sscanf(rate, "%u/%15[a-z]%c", &v, unit, &tail) != 2 || v == 0 ||
	    v > 1000000 ||
	    (strcmp(unit, "second") != 0 && strcmp(unit, "minute") != 0 &&
	     strcmp(unit, "hour") != 0 && strcmp(unit, "day") != 0)) {
		ynode_error(r->doc, rn, r->dl,
			    "bad limit '%s': expected N/second, N/minute, N/hour or N/day",
			    rate ? rate : "(not a value)");
		return;
	}
	if (ru->action != POL_ACCEPT) {
		ynode_error(r->doc, rn, r->dl,
			    "rule '%s': a limit caps what a rule accepts; this rule does not "
			    "accept",
			    ru->id);
		return;
	}
	ru->limit.rate = v;
	snprintf(ru->limit.unit, sizeof(ru->limit.unit), "%.7s", unit);
}

static void read_when(struct reader *r, const struct ynode *n, struct pol_rule *ru)
{
	if (!ynode_expect(r->doc, n, YNODE_MAP, "a time window", r->dl))
		return;
	static const char *const wkeys[] = {"days", "hours", "timezone"};
	ynode_check_keys(r->doc, n, wkeys, NELEM(wkeys), r->dl);
	const char *days = "daily", *hours = NULL, *tz = "UTC";
	ynode_get_str(r->doc, n, "days", false, r->dl, &days);
	if (!ynode_get_str(r->doc, n, "hours", true, r->dl, &hours) || !hours)
		return;
	ynode_get_str(r->doc, n, "timezone", false, r->dl, &tz);
	struct tw_window w;
	char err[256];
	if (tw_parse(days ? days : "daily", hours, tz ? tz : "UTC", &w, err, sizeof(err)) < 0) {
		ynode_error(r->doc, n, r->dl, "rule '%s': %s", ru->id, err);
		return;
	}
	ru->when.set = true;
	ru->when.days = w.days;
	ru->when.start = w.start;
	ru->when.end = w.end;
	snprintf(ru->when.tz, sizeof(ru->when.tz), "%s", w.tz);
	tw_format(&w, ru->when.text, sizeof(ru->when.text));
}

static void read_ifaces(struct reader *r, const struct ynode *n, struct pol_rule *ru)
{
	size_t len;
	polr_as_list(n, &len);
	ru->ifaces = calloc(len + 1, sizeof(char *));
	if (!ru->ifaces)
		return;
	for (size_t i = 0; i < len; i++) {
		const struct ynode *it = polr_list_item(n, i);
		const char *s = ynode_scalar(it);
		bool ok = s && (strcmp(s, "segment") == 0 || strcmp(s, "uplink") == 0 ||
				strcmp(s, "transfer") == 0);
		for (size_t k = 0; s && !ok && k < r->inv->nifaces; k++)
			ok = strcmp(r->inv->ifaces[k].name, s) == 0;
		if (!ok) {
			ynode_error(r->doc, it, r->dl,
				    "'%s' is no interface role (segment, uplink, transfer) and no "
				    "interface of interfaces.csv",
				    s ? s : "(not a value)");
			continue;
		}
		ru->ifaces[ru->nifaces++] = strdup(s);
	}
}

int polr_read_rule_extras(struct reader *r, const struct ynode *n, struct pol_rule *ru)
{
	const struct ynode *v;
	if ((v = ynode_get(n, "limit")))
		read_limit(r, v, ru);
	if ((v = ynode_get(n, "when")))
		read_when(r, v, ru);
	if ((v = ynode_get(n, "interfaces")) && ru->gateway)
		read_ifaces(r, v, ru);
	if (ru->gateway && !r->inv->has_ifaces && v)
		ynode_error(r->doc, v, r->dl,
			    "gateway service '%s': interfaces need interfaces.csv", ru->id);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Assertions */

int polr_read_assertions(struct reader *r, const struct ynode *as)
{
	struct policy *p = r->p;
	if (!as || !ynode_expect(r->doc, as, YNODE_SEQ, "assertions", r->dl))
		return 0;
	p->assertions = calloc(ynode_len(as) + 1, sizeof(*p->assertions));
	if (!p->assertions)
		return -ENOMEM;
	static const char *const akeys[] = {"id", "from", "to", "services", "expect", "comment"};
	for (size_t i = 0; i < ynode_len(as); i++) {
		const struct ynode *n = ynode_item(as, i);
		if (!ynode_expect(r->doc, n, YNODE_MAP, "an assertion", r->dl))
			continue;
		ynode_check_keys(r->doc, n, akeys, NELEM(akeys), r->dl);
		const char *id = NULL, *c = NULL;
		if (!ynode_get_str(r->doc, n, "id", true, r->dl, &id) || !id)
			continue;
		if (!polr_valid_name(id, true)) {
			ynode_error(r->doc, ynode_get(n, "id"), r->dl,
				    "assertion ids are 1-48 characters of a-z 0-9 _ - . (got '%s')",
				    id);
			continue;
		}
		for (size_t k = 0; k < p->nassertions; k++)
			if (strcmp(p->assertions[k].id, id) == 0)
				ynode_error(r->doc, ynode_get(n, "id"), r->dl,
					    "duplicate assertion id '%s' (first at line %u)", id,
					    p->assertions[k].line);
		struct pol_assertion *a = &p->assertions[p->nassertions++];
		if (!(a->id = strdup(id)))
			return -ENOMEM;
		a->line = ynode_line(n);
		a->col = ynode_col(n);
		int rc = 0;
		const struct ynode *v;
		if (!(v = ynode_get(n, "from")))
			ynode_error(r->doc, n, r->dl, "assertion '%s': missing key 'from'", id);
		else
			rc = polr_read_side(r, v, &a->from);
		if (rc == 0 && !(v = ynode_get(n, "to")))
			ynode_error(r->doc, n, r->dl, "assertion '%s': missing key 'to'", id);
		else if (rc == 0)
			rc = polr_read_side(r, v, &a->to);
		if (rc == 0 && (v = ynode_get(n, "services")))
			rc = polr_read_refs(r, v, &a->svc_any, &a->services, &a->nservices,
					    polr_service_ref);
		else if (rc == 0)
			a->svc_any = true;
		if (rc < 0)
			return rc;
		if (!ynode_get(n, "expect")) {
			ynode_error(r->doc, n, r->dl,
				    "assertion '%s': missing key 'expect' (allow or deny)", id);
		} else {
			int e = polr_get_enum(r, n, "expect", (const char *const[]){"deny", "allow"},
					      2, 0);
			a->allow = e == 1;
		}
		if (ynode_get_str(r->doc, n, "comment", false, r->dl, &c) && c &&
		    !(a->comment = strdup(c)))
			return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

void polr_free_stage2(struct policy *p)
{
	for (size_t i = 0; i < p->nobjects; i++) {
		free(p->objects[i].name);
		free(p->objects[i].description);
		free(p->objects[i].nested);
		pol_ranges_free(&p->objects[i].addrs);
	}
	free(p->objects);
	for (size_t i = 0; i < p->ngroups; i++) {
		free(p->groups[i].name);
		free(p->groups[i].member);
	}
	free(p->groups);
	for (size_t i = 0; i < p->nterms; i++)
		term_free(&p->terms[i]);
	free(p->terms);
	for (size_t i = 0; i < p->nassertions; i++) {
		struct pol_assertion *a = &p->assertions[i];
		free(a->id);
		polr_side_free(&a->from);
		polr_side_free(&a->to);
		free(a->services);
		free(a->comment);
	}
	free(p->assertions);
}

int policy_find_object(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nobjects; i++)
		if (strcmp(p->objects[i].name, name) == 0)
			return (int)i;
	return -1;
}

int policy_find_group(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

int policy_find_term(const struct policy *p, const char *label)
{
	for (size_t i = 0; i < p->nterms; i++)
		if (strcmp(p->terms[i].label, label) == 0)
			return (int)i;
	return -1;
}
