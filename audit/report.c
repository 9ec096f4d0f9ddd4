// SPDX-License-Identifier: MIT
/* The report of an audit, the text of its services and its JSON (report.h). */
#include "audit/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/model.h"
#include "audit/suggest.h"

/* ------------------------------------------------------------------ */
/* The report */

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void audit_report_free(struct audit_report *r)
{
	if (!r)
		return;
	free(r->hash);
	free(r->start);
	free(r->end);
	for (size_t i = 0; i < r->nsummaries; i++)
		audit_summary_free(&r->summaries[i]);
	free(r->summaries);
	for (size_t i = 0; i < r->nsites; i++)
		free(r->sites[i].site);
	free(r->sites);
	for (size_t i = 0; i < r->ndenials; i++) {
		struct audit_denial *d = &r->denials[i];
		free(d->from);
		free(d->to);
		free_strs(d->sites, d->nsites);
		free_strs(d->rules, d->nrules);
		for (size_t k = 0; k < d->nex; k++) {
			free(d->ex[k].src);
			free(d->ex[k].dst);
		}
		for (int k = 0; k < SUMMARY_NNAMES; k++) {
			for (size_t j = 0; j < d->nnames[k]; j++)
				free(d->names[k][j].name);
			free(d->names[k]);
		}
	}
	free(r->denials);
	free(r->rules);
	for (size_t i = 0; i < r->nsuggestions; i++) {
		struct audit_suggestion *s = &r->suggestions[i];
		free(s->id);
		free(s->from);
		free(s->to);
		free_strs(s->services, s->nservices);
		free(s->items);
		free(s->comment);
		free(s->owner);
		free(s->cuts);
	}
	free(r->suggestions);
	for (size_t i = 0; i < r->nobjects; i++)
		audit_object_free(&r->objects[i]);
	free(r->objects);
	for (size_t i = 0; i < r->nservices; i++) {
		free(r->services[i].name);
		free(r->services[i].items);
	}
	free(r->services);
	for (size_t i = 0; i < r->nunassigned; i++) {
		free(r->unassigned_top[i].address);
		free_strs(r->unassigned_top[i].sites, r->unassigned_top[i].nsites);
	}
	free(r->unassigned_top);
	for (size_t i = 0; i < r->nforeign; i++) {
		free(r->foreign[i].hash);
		free_strs(r->foreign[i].files, r->foreign[i].nfiles);
	}
	free(r->foreign);
	free(r);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Rule ids sort with the default (NULL) last. */
static int cmp_rule_id(const void *x, const void *y)
{
	const char *a = *(char *const *)x, *b = *(char *const *)y;
	if (!a || !b)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

static int cmp_site(const void *x, const void *y)
{
	return strcmp(((const struct audit_site *)x)->site, ((const struct audit_site *)y)->site);
}

int audit_cmp_svc(const struct summary_svc *a, const struct summary_svc *b)
{
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return (a->port > b->port) - (a->port < b->port);
}

static int cmp_denial(const void *x, const void *y)
{
	const struct audit_denial *a = x, *b = y;
	if (a->c.flows != b->c.flows)
		return a->c.flows > b->c.flows ? -1 : 1;
	if (a->c.bytes != b->c.bytes)
		return a->c.bytes > b->c.bytes ? -1 : 1;
	int c = strcmp(a->from, b->from);
	if (c)
		return c;
	if ((c = strcmp(a->to, b->to)))
		return c;
	return audit_cmp_svc(&a->svc, &b->svc);
}

static int cmp_example(const void *x, const void *y)
{
	const struct audit_example *a = x, *b = y;
	if (a->flows != b->flows)
		return a->flows > b->flows ? -1 : 1;
	int c = strcmp(a->src, b->src);
	return c ? c : strcmp(a->dst, b->dst);
}

static int cmp_unassigned(const void *x, const void *y)
{
	const struct audit_unassigned *a = x, *b = y;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return strcmp(a->address, b->address);
}

static int cmp_foreign(const void *x, const void *y)
{
	const struct audit_foreign *a = x, *b = y;
	if (!a->hash || !b->hash)
		return (a->hash == NULL) - (b->hash == NULL);
	return strcmp(a->hash, b->hash);
}

/* The index in part 0 of a model key (audit_key_part). */
static long key_index(const char *key)
{
	size_t n;
	const char *p = audit_key_part(key, 0, &n);
	long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

static int build_sites(const struct audit *a, struct audit_report *r)
{
	r->sites = calloc(a->sites.n + 1, sizeof(*r->sites));
	if (!r->sites)
		return -ENOMEM;
	for (size_t i = 0; i < a->sites.n; i++, r->nsites++) {
		r->sites[i] = a->site_v[i];
		if (!(r->sites[i].site = strdup(a->site_v[i].site)))
			return -ENOMEM;
	}
	qsort(r->sites, r->nsites, sizeof(*r->sites), cmp_site);
	return 0;
}

struct pick {
	long d;
	const char *text;
	uint64_t flows;
	const char *src, *dst;
};

static int cmp_pick(const void *x, const void *y)
{
	const struct pick *a = x, *b = y;
	if (a->d != b->d)
		return a->d < b->d ? -1 : 1;
	return strcmp(a->text, b->text);
}

/* Denial d's sites (sorted) from the "d|site" pairs. */
static int build_denial_sites(const struct audit *a, struct audit_denial *out, long *order)
{
	struct pick *v = calloc(a->dsites.n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < a->dsites.n; i++) {
		size_t n;
		v[i].d = key_index(a->dsites.keys[i]);
		v[i].text = audit_key_part(a->dsites.keys[i], 1, &n);
	}
	qsort(v, a->dsites.n, sizeof(*v), cmp_pick);
	int rc = 0;
	for (size_t i = 0; i < a->dsites.n && !rc; i++) {
		struct audit_denial *dn = &out[order[v[i].d]];
		char **p = realloc(dn->sites, (dn->nsites + 1) * sizeof(*p));
		if (!p || !(p[dn->nsites] = strdup(v[i].text)))
			rc = -ENOMEM;
		if (p) {
			dn->sites = p;
			if (!rc)
				dn->nsites++;
		}
	}
	free(v);
	return rc;
}

static int cmp_pick_flows(const void *x, const void *y)
{
	const struct pick *a = x, *b = y;
	if (a->d != b->d)
		return a->d < b->d ? -1 : 1;
	struct audit_example ea = {.src = (char *)a->src, .dst = (char *)a->dst, .flows = a->flows};
	struct audit_example eb = {.src = (char *)b->src, .dst = (char *)b->dst, .flows = b->flows};
	return cmp_example(&ea, &eb);
}

/* The busiest example pairs per denial. Keys are "d|src|dst"; addresses
 * and pseudonyms hold no '|'. */
static int build_examples(const struct audit *a, struct audit_denial *out, long *order)
{
	struct pick *v = calloc(a->exkeys.n + 1, sizeof(*v));
	char **split = calloc(a->exkeys.n + 1, sizeof(*split));
	int rc = -ENOMEM;
	if (!v || !split)
		goto out;
	for (size_t i = 0; i < a->exkeys.n; i++) {
		size_t n;
		const char *src = audit_key_part(a->exkeys.keys[i], 1, &n);
		v[i].d = key_index(a->exkeys.keys[i]);
		if (!(split[i] = strndup(src, n)))
			goto out;
		v[i].src = split[i];
		v[i].dst = audit_key_part(a->exkeys.keys[i], 2, &n);
		v[i].flows = a->exflows[i];
	}
	qsort(v, a->exkeys.n, sizeof(*v), cmp_pick_flows);
	for (size_t i = 0; i < a->exkeys.n; i++) {
		struct audit_denial *dn = &out[order[v[i].d]];
		if (dn->nex == AUDIT_EXAMPLES)
			continue;
		struct audit_example *e = &dn->ex[dn->nex];
		if (audit_dup_str(&e->src, v[i].src) || audit_dup_str(&e->dst, v[i].dst)) {
			free(e->src);
			e->src = NULL;
			goto out;
		}
		e->flows = v[i].flows;
		e->src_host = audit_host_name(a->inv, e->src);
		e->dst_host = audit_host_name(a->inv, e->dst);
		dn->nex++;
	}
	rc = 0;
out:
	for (size_t i = 0; split && i < a->exkeys.n; i++)
		free(split[i]);
	free(split);
	free(v);
	return rc;
}

struct dorder {
	const struct audit *a;
	long i;
};

static int cmp_dorder(const void *x, const void *y)
{
	const struct dorder *p = x, *q = y;
	const struct den *a = &p->a->den[p->i], *b = &q->a->den[q->i];
	struct audit_denial da = {.from = a->from, .to = a->to, .svc = a->svc, .c = a->c};
	struct audit_denial db = {.from = b->from, .to = b->to, .svc = b->svc, .c = b->c};
	return cmp_denial(&da, &db);
}

static int cmp_name(const void *x, const void *y)
{
	const struct audit_name *a = x, *b = y;
	if (a->flows != b->flows)
		return a->flows > b->flows ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The names of a denial, by flows (descending), then by name. */
static int copy_names(const struct nlist *l, struct audit_name **out, size_t *n)
{
	*out = calloc(l->n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++, (*n)++) {
		(*out)[i].flows = l->v[i].flows;
		if (!((*out)[i].name = strdup(l->v[i].name)))
			return -ENOMEM;
	}
	qsort(*out, *n, sizeof(**out), cmp_name);
	return 0;
}

static int build_denials(const struct audit *a, struct audit_report *r, long *order)
{
	size_t n = a->dkeys.n;
	struct dorder *o = calloc(n + 1, sizeof(*o));
	r->denials = calloc(n + 1, sizeof(*r->denials));
	if (!o || !r->denials) {
		free(o);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		o[i] = (struct dorder){a, (long)i};
	qsort(o, n, sizeof(*o), cmp_dorder);
	int rc = 0;
	for (size_t k = 0; k < n && !rc; k++, r->ndenials++) {
		const struct den *d = &a->den[o[k].i];
		struct audit_denial *out = &r->denials[k];
		order[o[k].i] = (long)k;
		out->svc = d->svc;
		out->c = d->c;
		out->passed = d->passed;
		out->suggestion = -1;
		rc = audit_dup_str(&out->from, d->from) | audit_dup_str(&out->to, d->to);
		out->rules = calloc(d->nrules + d->nother + 1, sizeof(*out->rules));
		if (!out->rules)
			rc = -ENOMEM;
		for (size_t j = 0; !rc && j < d->nrules; j++) {
			if (d->rules[j] == -2)
				continue;
			if (d->rules[j] >= 0 &&
			    !(out->rules[out->nrules] = strdup(a->p->rules[d->rules[j]].id)))
				rc = -ENOMEM;
			out->nrules++;
		}
		for (size_t j = 0; !rc && j < d->nother; j++)
			if (!(out->rules[out->nrules++] = strdup(d->other[j])))
				rc = -ENOMEM;
		if (!rc)
			qsort(out->rules, out->nrules, sizeof(*out->rules), cmp_rule_id);
		for (int m = 0; !rc && m < SUMMARY_NNAMES; m++)
			rc = copy_names(&d->names[m], &out->names[m], &out->nnames[m]);
	}
	free(o);
	if (rc)
		return rc;
	if ((rc = build_denial_sites(a, r->denials, order)))
		return rc;
	return build_examples(a, r->denials, order);
}

static int build_rules(const struct audit *a, struct audit_report *r)
{
	const struct policy *p = a->p;
	size_t *judged = calloc(p->nrules + 1, sizeof(*judged));
	struct audit_rule_use *kc = calloc(p->nrules + 1, sizeof(*kc));
	r->rules = calloc(p->nrules + 1, sizeof(*r->rules));
	if (!judged || !kc || !r->rules) {
		free(judged);
		free(kc);
		return -ENOMEM;
	}
	/* The kernel's readings, per rule of the policy. */
	for (size_t i = 0; i < a->pkeys.n; i++)
		for (size_t j = 0; j < a->per[i].n; j++) {
			int x = audit_find_rule(a, a->per[i].ids[j]);
			if (x < 0)
				continue;
			kc[x].kernel = true;
			kc[x].kernel_packets += a->per[i].packets[j];
			kc[x].kernel_bytes += a->per[i].bytes[j];
		}
	for (size_t i = 0; i < a->rsites.n; i++) {
		size_t n;
		const char *p0 = audit_key_part(a->rsites.keys[i], 0, &n);
		char *id = strndup(p0, n);
		if (!id)
			return -ENOMEM;
		int k = audit_find_rule(a, id);
		free(id);
		if (k >= 0)
			judged[k]++;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *pr = &p->rules[i];
		if (pr->expired)
			continue;
		struct audit_rule_use *u = &r->rules[r->nrules++];
		u->rule = (int)i;
		u->judged_at = judged[i];
		long h = intern_find(&a->rkeys, pr->id);
		if (h >= 0)
			u->hits = a->rhits[h];
		u->kernel = kc[i].kernel;
		u->kernel_packets = kc[i].kernel_packets;
		u->kernel_bytes = kc[i].kernel_bytes;
		if (u->judged_at && !u->hits.flows && !u->kernel_packets)
			r->unused++;
	}
	free(judged);
	free(kc);
	return 0;
}

static int build_unassigned(const struct audit *a, struct audit_report *r)
{
	size_t n = a->ukeys.n;
	r->unassigned = a->unassigned;
	r->unassigned_top = calloc(n + 1, sizeof(*r->unassigned_top));
	if (!r->unassigned_top)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++, r->nunassigned++) {
		struct audit_unassigned *u = &r->unassigned_top[i];
		u->as_src = a->un[i].as_src;
		u->as_dst = a->un[i].as_dst;
		u->packets = a->un[i].packets;
		u->bytes = a->un[i].bytes;
		if (audit_dup_str(&u->address, a->ukeys.keys[i]))
			return -ENOMEM;
	}
	for (size_t i = 0; i < a->usites.n; i++) {
		size_t len;
		const char *p0 = audit_key_part(a->usites.keys[i], 0, &len);
		char *addr = strndup(p0, len);
		if (!addr)
			return -ENOMEM;
		long u = intern_find(&a->ukeys, addr);
		free(addr);
		if (u >= 0 &&
		    audit_str_set_add(&r->unassigned_top[u].sites, &r->unassigned_top[u].nsites,
				      audit_key_part(a->usites.keys[i], 1, &len)))
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		qsort(r->unassigned_top[i].sites, r->unassigned_top[i].nsites, sizeof(char *),
		      cmp_str);
	qsort(r->unassigned_top, n, sizeof(*r->unassigned_top), cmp_unassigned);
	return 0;
}

static int build_foreign(const struct audit *a, struct audit_report *r)
{
	size_t n = a->fkeys.n;
	r->foreign = calloc(n + 1, sizeof(*r->foreign));
	if (!r->foreign)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++, r->nforeign++) {
		struct audit_foreign *f = &r->foreign[i];
		const struct facc *fa = &a->fac[i];
		f->total = fa->total;
		f->denied = fa->denied;
		if (*a->fkeys.keys[i] && audit_dup_str(&f->hash, a->fkeys.keys[i]))
			return -ENOMEM;
		if (!(f->files = calloc(fa->nfiles + 1, sizeof(*f->files))))
			return -ENOMEM;
		for (size_t j = 0; j < fa->nfiles; j++, f->nfiles++)
			if (audit_dup_str(&f->files[j], fa->files[j]))
				return -ENOMEM;
		qsort(f->files, f->nfiles, sizeof(*f->files), cmp_str);
	}
	qsort(r->foreign, n, sizeof(*r->foreign), cmp_foreign);
	return 0;
}

static int cmp_summary(const void *x, const void *y)
{
	const struct audit_summary *a = x, *b = y;
	int c = strcmp(a->site ? a->site : "", b->site ? b->site : "");
	if (c)
		return c;
	if ((c = strcmp(a->start, b->start)))
		return c;
	return strcmp(a->file, b->file);
}

static int build_summaries(const struct audit *a, struct audit_report *r)
{
	r->summaries = calloc(a->nsums + 1, sizeof(*r->summaries));
	if (!r->summaries)
		return -ENOMEM;
	for (size_t i = 0; i < a->nsums; i++, r->nsummaries++) {
		const struct audit_summary *s = &a->sums[i];
		struct audit_summary *d = &r->summaries[i];
		*d = *s;
		d->file = d->site = d->host = d->start = d->end = d->hash = d->mode = NULL;
		if (audit_dup_str(&d->file, s->file) | audit_dup_str(&d->site, s->site) |
		    audit_dup_str(&d->host, s->host) | audit_dup_str(&d->start, s->start) |
		    audit_dup_str(&d->end, s->end) | audit_dup_str(&d->hash, s->hash) |
		    audit_dup_str(&d->mode, s->mode))
			return -ENOMEM;
	}
	qsort(r->summaries, r->nsummaries, sizeof(*r->summaries), cmp_summary);
	return 0;
}

int audit_report(const struct audit *a, struct audit_report **out)
{
	struct audit_report *r = calloc(1, sizeof(*r));
	long *order = calloc(a->dkeys.n + 1, sizeof(*order));
	int rc = -ENOMEM;
	*out = NULL;
	if (!r || !order)
		goto out;
	r->total = a->total;
	r->covered = a->covered;
	r->denied = a->denied;
	r->passed = a->passed;
	r->skipped = a->skipped;
	if (audit_dup_str(&r->hash, a->hash) || audit_dup_str(&r->start, a->start) ||
	    audit_dup_str(&r->end, a->end))
		goto out;
	if ((rc = build_summaries(a, r)) || (rc = build_sites(a, r)) ||
	    (rc = build_denials(a, r, order)) || (rc = build_rules(a, r)) ||
	    (rc = audit_build_suggestions(a, r, order)) || (rc = build_unassigned(a, r)) ||
	    (rc = build_foreign(a, r)))
		goto out;
	rc = 0;
out:
	free(order);
	if (rc)
		audit_report_free(r);
	else
		*out = r;
	return rc;
}

bool audit_has_findings(const struct audit_report *r)
{
	return r->ndenials || r->unused || r->skipped || r->nforeign;
}

/* ------------------------------------------------------------------ */
/* Text of services */

static void proto_text(uint8_t proto, char *buf, size_t size)
{
	const char *n = proto_name(proto);
	if (n)
		snprintf(buf, size, "%s", n);
	else
		snprintf(buf, size, "%u", proto);
}

void audit_svc_text(const struct summary_svc *s, char *buf, size_t size)
{
	struct audit_item it = {s->proto, s->family, s->port, s->port};
	audit_item_text(&it, buf, size);
}

void audit_item_text(const struct audit_item *it, char *buf, size_t size)
{
	char p[32];
	proto_text(it->proto, p, sizeof(p));
	bool icmp = proto_is_icmp(it->family, it->proto);
	const char *type =
	    icmp && it->lo >= 0 ? proto_icmp_name(it->family, (uint8_t)it->lo) : NULL;
	if (it->lo < 0)
		snprintf(buf, size, "%s", p);
	else if (type)
		snprintf(buf, size, "%s/%s", p, type);
	else if (it->hi > it->lo)
		snprintf(buf, size, "%s/%d-%d", p, it->lo, it->hi);
	else
		snprintf(buf, size, "%s/%d", p, it->lo);
}

/* ------------------------------------------------------------------ */
/* JSON (docs/audit.md) */

static int set(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new_nocheck(o, k, v);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strs_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, str_or_null(v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *share(uint64_t part, uint64_t whole)
{
	return whole ? json_real((double)part / (double)whole) : json_null();
}

static json_t *coverage_json(const struct summary_counts *t, const struct summary_counts *c,
			     const struct summary_counts *d)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:o,s:o,s:I,s:I}", "flows", (json_int_t)t->flows,
			 "bytes", (json_int_t)t->bytes, "covered_flows", (json_int_t)c->flows,
			 "covered_bytes", (json_int_t)c->bytes, "share_flows",
			 share(c->flows, t->flows), "share_bytes", share(c->bytes, t->bytes),
			 "denied_flows", (json_int_t)d->flows, "denied_bytes",
			 (json_int_t)d->bytes);
}

static json_t *items_json(const struct audit_item *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		char t[64];
		audit_item_text(&v[i], t, sizeof(t));
		if (json_array_append_new(a, json_string(t))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *names_json(const struct audit_name *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_pack("{s:s,s:I}", "name", v[i].name, "flows",
						       (json_int_t)v[i].flows))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *denial_json(const struct audit_report *r, const struct audit_denial *d)
{
	char t[64];
	audit_svc_text(&d->svc, t, sizeof(t));
	json_t *ex = json_array();
	for (size_t i = 0; ex && i < d->nex; i++)
		json_array_append_new(ex,
				      json_pack("{s:s,s:s,s:I,s:o,s:o}", "src", d->ex[i].src, "dst",
						d->ex[i].dst, "flows", (json_int_t)d->ex[i].flows,
						"src_host", str_or_null(d->ex[i].src_host),
						"dst_host", str_or_null(d->ex[i].dst_host)));
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:i,s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "from", d->from,
	    "to", d->to, "service", t, "proto", d->svc.proto, "port",
	    d->svc.port >= 0 ? json_integer(d->svc.port) : json_null(), "flows",
	    (json_int_t)d->c.flows, "packets", (json_int_t)d->c.packets, "bytes",
	    (json_int_t)d->c.bytes, "passed_flows", (json_int_t)d->passed, "sites",
	    strs_json(d->sites, d->nsites), "rules", strs_json(d->rules, d->nrules), "src_sets",
	    names_json(d->names[SUMMARY_SRC_SETS], d->nnames[SUMMARY_SRC_SETS]), "dst_sets",
	    names_json(d->names[SUMMARY_DST_SETS], d->nnames[SUMMARY_DST_SETS]), "matched",
	    json_pack("{s:o,s:o}", "from",
		      names_json(d->names[SUMMARY_FROM], d->nnames[SUMMARY_FROM]), "to",
		      names_json(d->names[SUMMARY_TO], d->nnames[SUMMARY_TO])),
	    "examples", ex ? ex : json_null(), "suggestion",
	    d->suggestion >= 0 ? json_string(r->suggestions[d->suggestion].id) : json_null());
	return o;
}

/* An end of a suggestion: its object and the observed hosts, or nulls for the whole zone. */
static json_t *end_json(const struct audit_report *r, const struct audit_suggestion *s, int e)
{
	const struct audit_object *o = s->object[e] >= 0 ? &r->objects[s->object[e]] : NULL;
	return json_pack("{s:o,s:o,s:b}", "object", o ? json_string(o->name) : json_null(), "hosts",
			 o ? strs_json(o->items, o->nitems) : json_null(), "zoned", s->zoned[e]);
}

static json_t *suggestion_json(const struct audit_report *r, const struct audit_suggestion *s,
			       const struct policy *p, const struct inventory *inv)
{
	json_t *cuts = json_array();
	for (size_t i = 0; cuts && i < s->ncuts; i++)
		if (json_array_append_new(cuts, json_string(p->rules[s->cuts[i]].id))) {
			json_decref(cuts);
			cuts = NULL;
		}
	return json_pack(
	    "{s:s,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:o,s:o,s:I,s:I,s:I,s:s,s:s,s:o}", "id",
	    s->id, "site", s->site >= 0 ? json_string(inv->sites[s->site].id) : json_null(), "from",
	    s->from, "to", s->to, "from_end", end_json(r, s, 0), "to_end", end_json(r, s, 1),
	    "services", strs_json(s->services, s->nservices), "observed",
	    items_json(s->items, s->nitems), "scope", pol_scope_names[s->scope], "action", "accept",
	    "insert_before", s->before >= 0 ? json_string(p->rules[s->before].id) : json_null(),
	    "cuts_through", cuts, "flows", (json_int_t)s->c.flows, "packets",
	    (json_int_t)s->c.packets, "bytes", (json_int_t)s->c.bytes, "comment", s->comment,
	    "owner", s->owner, "risk", s->risk ? json_string(s->risk) : json_null());
}

static json_t *rule_json(const struct audit_rule_use *u, const struct policy *p,
			 const struct inventory *inv)
{
	const struct pol_rule *pr = &p->rules[u->rule];
	bool unused = u->judged_at && !u->hits.flows && !u->kernel_packets;
	return json_pack(
	    "{s:s,s:o,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:b}", "id", pr->id, "site",
	    pr->site >= 0 ? json_string(inv->sites[pr->site].id) : json_null(), "action",
	    pol_action_names[pr->action], "file", p->file, "line", (json_int_t)pr->line, "col",
	    (json_int_t)pr->col, "judged_at", (json_int_t)u->judged_at, "hits",
	    (json_int_t)u->hits.flows, "bytes", (json_int_t)u->hits.bytes, "kernel_packets",
	    u->kernel ? json_integer((json_int_t)u->kernel_packets) : json_null(), "kernel_bytes",
	    u->kernel ? json_integer((json_int_t)u->kernel_bytes) : json_null(), "unused", unused);
}

static json_t *summary_json(const struct audit_summary *s)
{
	return json_pack("{s:s,s:o,s:o,s:s,s:s,s:o,s:o,s:b,s:b,s:I,s:I,s:I,s:I,s:I}", "file",
			 s->file, "site", str_or_null(s->site), "host", str_or_null(s->host),
			 "start", s->start, "end", s->end, "hash", str_or_null(s->hash), "mode",
			 str_or_null(s->mode), "current", s->current, "pseudonymised",
			 s->pseudonymised, "flows", (json_int_t)s->counted.flows, "packets",
			 (json_int_t)s->counted.packets, "bytes", (json_int_t)s->counted.bytes,
			 "capture_dropped", (json_int_t)s->capture_dropped, "not_decoded",
			 (json_int_t)s->not_decoded);
}

json_t *audit_report_json(const struct audit_report *r, const struct policy *p,
			  const struct inventory *inv)
{
	json_t *o = json_object();
	int err = !o;
	if (err)
		return NULL;
	err |= set(o, "policy",
		   json_pack("{s:s,s:s,s:s}", "file", p->file, "hash", r->hash, "date", p->date));
	err |=
	    set(o, "window",
		json_pack("{s:o,s:o}", "start", str_or_null(r->start), "end", str_or_null(r->end)));
	json_t *sums = json_array();
	for (size_t i = 0; sums && i < r->nsummaries; i++)
		err |= json_array_append_new(sums, summary_json(&r->summaries[i]));
	err |= set(o, "summaries", sums);
	err |= set(o, "skipped", json_integer((json_int_t)r->skipped));

	json_t *cov = coverage_json(&r->total, &r->covered, &r->denied);
	json_t *sites = json_array();
	for (size_t i = 0; sites && i < r->nsites; i++) {
		const struct audit_site *s = &r->sites[i];
		json_t *c = coverage_json(&s->total, &s->covered, &s->denied);
		err |= !c || set(c, "site", json_string(s->site)) ||
		       set(c, "summaries", json_integer((json_int_t)s->summaries));
		err |= json_array_append_new(sites, c);
	}
	err |= !cov || set(cov, "sites", sites);
	err |= set(o, "coverage", cov);

	json_t *den = json_pack("{s:I,s:I,s:I,s:I}", "flows", (json_int_t)r->denied.flows,
				"packets", (json_int_t)r->denied.packets, "bytes",
				(json_int_t)r->denied.bytes, "passed_flows", (json_int_t)r->passed);
	json_t *items = json_array();
	for (size_t i = 0; items && i < r->ndenials; i++)
		err |= json_array_append_new(items, denial_json(r, &r->denials[i]));
	err |= !den || set(den, "items", items);
	err |= set(o, "denied", den);

	json_t *rules = json_array(), *unused = json_array();
	for (size_t i = 0; rules && unused && i < r->nrules; i++) {
		const struct audit_rule_use *u = &r->rules[i];
		err |= json_array_append_new(rules, rule_json(u, p, inv));
		if (u->judged_at && !u->hits.flows && !u->kernel_packets)
			err |= json_array_append_new(unused, json_string(p->rules[u->rule].id));
	}
	err |= set(o, "rules", rules);
	err |= set(o, "unused_rules", unused);

	json_t *sg = json_object(), *svcs = json_array(), *srules = json_array();
	for (size_t i = 0; svcs && i < r->nservices; i++)
		err |= json_array_append_new(
		    svcs, json_pack("{s:s,s:o}", "name", r->services[i].name, "items",
				    items_json(r->services[i].items, r->services[i].nitems)));
	for (size_t i = 0; srules && i < r->nsuggestions; i++)
		err |=
		    json_array_append_new(srules, suggestion_json(r, &r->suggestions[i], p, inv));
	json_t *objs = json_array();
	for (size_t i = 0; objs && i < r->nobjects; i++)
		err |= json_array_append_new(
		    objs, json_pack("{s:s,s:b,s:o}", "name", r->objects[i].name, "existing",
				    r->objects[i].existing, "items",
				    strs_json(r->objects[i].items, r->objects[i].nitems)));
	err |= !sg || set(sg, "objects", objs) || set(sg, "services", svcs) ||
	       set(sg, "rules", srules) ||
	       set(sg, "unresolved", json_integer((json_int_t)r->unresolved));
	err |= set(o, "suggestions", sg);

	json_t *un =
	    json_pack("{s:I,s:I,s:I}", "flows", (json_int_t)r->unassigned.flows, "packets",
		      (json_int_t)r->unassigned.packets, "bytes", (json_int_t)r->unassigned.bytes);
	json_t *top = json_array();
	for (size_t i = 0; top && i < r->nunassigned; i++) {
		const struct audit_unassigned *u = &r->unassigned_top[i];
		err |= json_array_append_new(
		    top, json_pack("{s:s,s:I,s:I,s:I,s:I,s:o}", "address", u->address, "as_src",
				   (json_int_t)u->as_src, "as_dst", (json_int_t)u->as_dst,
				   "packets", (json_int_t)u->packets, "bytes", (json_int_t)u->bytes,
				   "sites", strs_json(u->sites, u->nsites)));
	}
	err |= !un || set(un, "top", top);
	err |= set(o, "unassigned", un);

	json_t *fo = json_array();
	for (size_t i = 0; fo && i < r->nforeign; i++) {
		const struct audit_foreign *f = &r->foreign[i];
		err |= json_array_append_new(
		    fo, json_pack("{s:o,s:o,s:I,s:I,s:I,s:I}", "hash", str_or_null(f->hash),
				  "files", strs_json(f->files, f->nfiles), "flows",
				  (json_int_t)f->total.flows, "packets",
				  (json_int_t)f->total.packets, "bytes", (json_int_t)f->total.bytes,
				  "denied_flows", (json_int_t)f->denied.flows));
	}
	err |= set(o, "other_policies", fo);
	err |=
	    set(o, "findings",
		json_pack("{s:I,s:I,s:I,s:I,s:b}", "denied", (json_int_t)r->ndenials, "unused",
			  (json_int_t)r->unused, "skipped", (json_int_t)r->skipped,
			  "other_policies", (json_int_t)r->nforeign, "any", audit_has_findings(r)));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}
