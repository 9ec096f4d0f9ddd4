// SPDX-License-Identifier: MIT
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile/compile.h"
#include "core/grow.h"
#include "core/intern.h"
#include "core/jarena.h"
#include "core/strmap.h"
#include "core/timefmt.h"

static void add_counts(struct summary_counts *t, const struct summary_counts *c)
{
	t->flows += c->flows;
	t->packets += c->packets;
	t->bytes += c->bytes;
}

/* ------------------------------------------------------------------ */
/* The accumulated state */

struct den {
	char *from, *to;
	struct summary_svc svc;
	struct summary_counts c;
	uint64_t passed;
	int *rules;   /* policy rule indices; -1 the default; -2 a rule the policy lacks */
	char **other; /* ids of rules the policy lacks */
	size_t nrules, nother;
	int *groups;
	size_t ngroups;
};

struct group {
	int site;
	char *from, *to;
	int before; /* smallest deciding rule index, -1 when only the default denies */
	bool at_end;
	struct summary_counts c;
	struct intern pts; /* "proto|family|port" */
	struct summary_svc *svc;
	size_t svccap;
};

struct kperiod {
	char *end;
	uint64_t weight; /* tie-break between readings at the same end: the larger wins */
	char **ids;
	uint64_t *packets, *bytes;
	size_t n;
};

struct uacc {
	uint64_t as_src, as_dst, packets, bytes;
};

struct facc {
	struct summary_counts total, denied;
	char **files;
	size_t nfiles, cap;
};

struct audit {
	const struct policy *p;
	const struct inventory *inv;
	char *hash;
	char *owner;
	unsigned workers;
	/* Rule ids and zone names to their indices; keys borrowed from p. */
	struct strmap *rule_ix, *zone_ix;
	struct audit_summary *sums;
	size_t nsums, scap;
	size_t skipped;
	struct intern windows;
	struct intern sites;
	struct audit_site *site_v;
	size_t sitecap;
	struct intern dkeys;
	struct den *den;
	size_t dcap;
	struct intern dsites; /* "denial|site" */
	struct intern exkeys; /* "denial|src|dst" */
	uint64_t *exflows;
	size_t excap;
	struct intern gkeys;
	struct group *grp;
	size_t gcap;
	struct intern rkeys; /* rule id */
	struct summary_counts *rhits;
	size_t rcap;
	struct intern rsites; /* "id|site" */
	struct intern pkeys;  /* "site|applied_at" */
	struct kperiod *per;
	size_t pcap;
	struct intern ukeys;
	struct uacc *un;
	size_t ucap;
	struct intern usites; /* "address|site" */
	struct summary_counts unassigned;
	struct intern fkeys;
	struct facc *fac;
	size_t fcap;
	struct summary_counts total, covered, denied;
	uint64_t passed;
	char *start, *end;
};

int audit_new(const struct policy *p, const struct inventory *inv, const struct audit_opts *o,
	      struct audit **out)
{
	struct pol_build *b = NULL;
	struct audit *a = calloc(1, sizeof(*a));
	int rc = -ENOMEM;
	*out = NULL;
	if (!a)
		goto out;
	a->p = p;
	a->inv = inv;
	a->workers = o ? o->workers : 0;
	if (!a->workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		a->workers = n > 0 ? (unsigned)n : 1;
	}
	if (a->workers > AUDIT_MAX_WORKERS)
		a->workers = AUDIT_MAX_WORKERS;
	a->owner = strdup(o && o->owner ? o->owner : "security");
	a->rule_ix = strmap_new(p->nrules);
	a->zone_ix = strmap_new(p->nzones);
	if (!a->owner || !a->rule_ix || !a->zone_ix)
		goto out;
	/* The first of equal names wins, as in policy_find_rule's scan. */
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].id && strmap_put(a->rule_ix, p->rules[i].id, (int)i) == -2)
			goto out;
	for (size_t i = 0; i < p->nzones; i++)
		if (strmap_put(a->zone_ix, p->zones[i].name, (int)i) == -2)
			goto out;
	rc = pol_build_new(p, inv, &b);
	if (rc < 0)
		goto out;
	a->hash = strdup(pol_build_hash(b));
	rc = a->hash ? 0 : -ENOMEM;
out:
	pol_build_free(b);
	if (rc < 0)
		audit_free(a);
	else
		*out = a;
	return rc;
}

static void summary_free(struct audit_summary *s)
{
	free(s->file);
	free(s->site);
	free(s->host);
	free(s->start);
	free(s->end);
	free(s->hash);
	free(s->mode);
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nsums; i++)
		summary_free(&a->sums[i]);
	free(a->sums);
	intern_free(&a->windows);
	for (size_t i = 0; i < a->sites.n; i++)
		free(a->site_v[i].site);
	free(a->site_v);
	intern_free(&a->sites);
	for (size_t i = 0; i < a->dkeys.n; i++) {
		struct den *d = &a->den[i];
		free(d->from);
		free(d->to);
		free(d->rules);
		for (size_t k = 0; k < d->nother; k++)
			free(d->other[k]);
		free(d->other);
		free(d->groups);
	}
	free(a->den);
	intern_free(&a->dkeys);
	intern_free(&a->dsites);
	intern_free(&a->exkeys);
	free(a->exflows);
	for (size_t i = 0; i < a->gkeys.n; i++) {
		free(a->grp[i].from);
		free(a->grp[i].to);
		intern_free(&a->grp[i].pts);
		free(a->grp[i].svc);
	}
	free(a->grp);
	intern_free(&a->gkeys);
	free(a->rhits);
	intern_free(&a->rkeys);
	intern_free(&a->rsites);
	for (size_t i = 0; i < a->pkeys.n; i++) {
		struct kperiod *k = &a->per[i];
		for (size_t j = 0; j < k->n; j++)
			free(k->ids[j]);
		free(k->ids);
		free(k->packets);
		free(k->bytes);
		free(k->end);
	}
	free(a->per);
	intern_free(&a->pkeys);
	free(a->un);
	intern_free(&a->ukeys);
	intern_free(&a->usites);
	for (size_t i = 0; i < a->fkeys.n; i++) {
		for (size_t j = 0; j < a->fac[i].nfiles; j++)
			free(a->fac[i].files[j]);
		free(a->fac[i].files);
	}
	free(a->fac);
	intern_free(&a->fkeys);
	free(a->hash);
	free(a->owner);
	free(a->start);
	free(a->end);
	strmap_free(a->rule_ix);
	strmap_free(a->zone_ix);
	free(a);
}

static int find_rule(const struct audit *a, const char *id)
{
	return strmap_get(a->rule_ix, id);
}

static int find_zone(const struct audit *a, const char *name)
{
	return strmap_get(a->zone_ix, name);
}

/*
 * An exact key for the intern tables from n strings: each as its length, ':'
 * and its bytes. A key cut to a buffer could merge two items that differ
 * beyond it, and a '|' inside a name could shift a field into the next.
 * Malloc'ed; NULL when out of memory. key_part reads part i back.
 */
static char *key_of(size_t n, ...)
{
	va_list ap;
	size_t len = 1;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		len += 21 + strlen(va_arg(ap, const char *));
	va_end(ap);
	char *k = malloc(len), *o = k;
	va_start(ap, n);
	for (size_t i = 0; k && i < n; i++) {
		const char *part = va_arg(ap, const char *);
		o += sprintf(o, "%zu:%s", strlen(part), part);
	}
	va_end(ap);
	return k;
}

static const char *key_part(const char *key, size_t i, size_t *len)
{
	for (;; i--) {
		char *end;
		*len = (size_t)strtoull(key, &end, 10);
		key = end + 1;
		if (i == 0)
			return key;
		key += *len;
	}
}

/* intern_get of key_of(n, ...), freed after: the index or -ENOMEM. */
#define INTERN_KEY(table, added, n, ...) intern_key((table), (added), key_of((n), __VA_ARGS__))

static long intern_key(struct intern *t, bool *added, char *key)
{
	long i = key ? intern_get(t, key, added) : -ENOMEM;
	free(key);
	return i;
}

/* ------------------------------------------------------------------ */
/* Counting */

static int dup_str(char **dst, const char *s)
{
	if (!s) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int int_set_add(int **v, size_t *n, int x)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return 0;
	int *p = realloc(*v, (*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	p[(*n)++] = x;
	*v = p;
	return 0;
}

static int str_set_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	char **p = realloc(*v, (*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*v = p;
	if (!(p[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* The group a denied tuple falls into: a site exception's site (when an
 * exception of that site denies it) or the city, and its zone pair. */
static int group_of(struct audit *a, const struct summary_tuple *u, int rule)
{
	char key[64], sk[16];
	int site = rule >= 0 ? a->p->rules[rule].site : -1;
	snprintf(sk, sizeof(sk), "%d", site);
	bool added;
	long g = INTERN_KEY(&a->gkeys, &added, 3, sk, u->from, u->to);
	if (g < 0 || grow_array(&a->grp, &a->gcap, (size_t)g + 1, sizeof(*a->grp)))
		return -ENOMEM;
	struct group *gr = &a->grp[g];
	if (added) {
		gr->site = site;
		gr->before = -1;
		if (dup_str(&gr->from, u->from) || dup_str(&gr->to, u->to))
			return -ENOMEM;
	}
	if (rule >= 0 && (gr->before < 0 || rule < gr->before))
		gr->before = rule;
	if (rule < 0)
		gr->at_end = true;
	add_counts(&gr->c, &u->c);
	/* Whole protocols for what the policy syntax cannot name by port or type. */
	struct summary_svc sv = u->svc;
	bool by_port = proto_has_ports(sv.proto);
	bool by_type = proto_is_icmp(sv.family, sv.proto);
	if (!by_port && !by_type)
		sv.port = -1;
	if (!by_type)
		sv.family = 0;
	snprintf(key, sizeof(key), "%u|%u|%d", sv.proto, sv.family, sv.port);
	long k = intern_get(&gr->pts, key, &added);
	if (k < 0 || grow_array(&gr->svc, &gr->svccap, (size_t)k + 1, sizeof(*gr->svc)))
		return -ENOMEM;
	gr->svc[k] = sv;
	return (int)g;
}

static int count_denial(struct audit *a, const struct summary_read *s,
			const struct summary_tuple *u)
{
	const char *site = s->site;
	char svc[64], dk[24];
	snprintf(svc, sizeof(svc), "%u|%u|%d", u->svc.proto,
		 proto_is_any_icmp(u->svc.proto) ? u->svc.family : 0, u->svc.port);
	bool added;
	long d = INTERN_KEY(&a->dkeys, &added, 3, u->from, u->to, svc);
	if (d < 0 || grow_array(&a->den, &a->dcap, (size_t)d + 1, sizeof(*a->den)))
		return -ENOMEM;
	struct den *dn = &a->den[d];
	if (added) {
		if (dup_str(&dn->from, u->from) || dup_str(&dn->to, u->to))
			return -ENOMEM;
		dn->svc = u->svc;
		if (!proto_is_any_icmp(dn->svc.proto))
			dn->svc.family = 0;
	}
	add_counts(&dn->c, &u->c);
	if (u->passes)
		dn->passed += u->c.flows;
	int rule = -1;
	if (u->rule) {
		rule = find_rule(a, u->rule);
		if (rule < 0 && str_set_add(&dn->other, &dn->nother, u->rule))
			return -ENOMEM;
	}
	if (int_set_add(&dn->rules, &dn->nrules, u->rule && rule < 0 ? -2 : rule))
		return -ENOMEM;
	snprintf(dk, sizeof(dk), "%ld", d);
	if (INTERN_KEY(&a->dsites, NULL, 2, dk, site) < 0)
		return -ENOMEM;
	for (size_t i = u->ex0; i < u->ex0 + u->nex; i++) {
		const struct summary_example *e = &s->ex[i];
		long x = INTERN_KEY(&a->exkeys, NULL, 3, dk, e->src, e->dst);
		if (x < 0 || grow_array(&a->exflows, &a->excap, (size_t)x + 1, sizeof(*a->exflows)))
			return -ENOMEM;
		a->exflows[x] += e->flows;
	}
	if (strcmp(u->from, "-") == 0 || strcmp(u->to, "-") == 0 || find_zone(a, u->from) < 0 ||
	    find_zone(a, u->to) < 0)
		return 0;
	int g = group_of(a, u, rule);
	if (g < 0 || int_set_add(&dn->groups, &dn->ngroups, g))
		return -ENOMEM;
	return 0;
}

static bool is_denied(const struct summary_tuple *u)
{
	return u->verdict && (strcmp(u->verdict, "drop") == 0 || strcmp(u->verdict, "reject") == 0);
}

static int count_foreign(struct audit *a, const struct summary_read *s, const char *name)
{
	long f = intern_get(&a->fkeys, s->hash && s->site ? s->hash : "", NULL);
	if (f < 0 || grow_array(&a->fac, &a->fcap, (size_t)f + 1, sizeof(*a->fac)))
		return -ENOMEM;
	struct facc *fa = &a->fac[f];
	if (grow_array(&fa->files, &fa->cap, fa->nfiles + 1, sizeof(*fa->files)) ||
	    !(fa->files[fa->nfiles] = strdup(name)))
		return -ENOMEM;
	fa->nfiles++;
	for (size_t i = 0; i < s->ntuples; i++) {
		add_counts(&fa->total, &s->tuples[i].c);
		if (is_denied(&s->tuples[i]))
			add_counts(&fa->denied, &s->tuples[i].c);
	}
	return 0;
}

static int keep_period(struct audit *a, const struct summary_read *s)
{
	uint64_t weight = 0;
	bool added;
	long i = INTERN_KEY(&a->pkeys, &added, 2, s->site, s->applied_at ? s->applied_at : "");
	if (i < 0 || grow_array(&a->per, &a->pcap, (size_t)i + 1, sizeof(*a->per)))
		return -ENOMEM;
	struct kperiod *k = &a->per[i];
	for (size_t j = 0; j < s->nkrules; j++)
		weight += s->krules[j].packets;
	/* Counters only grow within one apply period: the latest reading holds
	 * every earlier one, so it alone counts (docs/audit.md). */
	if (!added) {
		int c = strcmp(s->end, k->end);
		if (c < 0 || (c == 0 && weight <= k->weight))
			return 0;
		for (size_t j = 0; j < k->n; j++)
			free(k->ids[j]);
		free(k->ids);
		free(k->packets);
		free(k->bytes);
		free(k->end);
		memset(k, 0, sizeof(*k));
	}
	k->weight = weight;
	k->ids = calloc(s->nkrules + 1, sizeof(*k->ids));
	k->packets = calloc(s->nkrules + 1, sizeof(*k->packets));
	k->bytes = calloc(s->nkrules + 1, sizeof(*k->bytes));
	if (!k->ids || !k->packets || !k->bytes || dup_str(&k->end, s->end))
		return -ENOMEM;
	for (size_t j = 0; j < s->nkrules; j++, k->n++) {
		if (!(k->ids[j] = strdup(s->krules[j].id)))
			return -ENOMEM;
		k->packets[j] = s->krules[j].packets;
		k->bytes[j] = s->krules[j].bytes;
	}
	return 0;
}

static int count_current(struct audit *a, const struct summary_read *s)
{
	long si = intern_get(&a->sites, s->site, NULL);
	if (si < 0 || grow_array(&a->site_v, &a->sitecap, (size_t)si + 1, sizeof(*a->site_v)))
		return -ENOMEM;
	struct audit_site *st = &a->site_v[si];
	if (!st->site && dup_str(&st->site, s->site))
		return -ENOMEM;
	st->summaries++;
	for (size_t i = 0; i < s->ntuples; i++) {
		const struct summary_tuple *u = &s->tuples[i];
		if (summary_is_related(u))
			continue;
		add_counts(&a->total, &u->c);
		add_counts(&st->total, &u->c);
		if (u->verdict && strcmp(u->verdict, "accept") == 0 && u->by &&
		    strcmp(u->by, "rule") == 0) {
			add_counts(&a->covered, &u->c);
			add_counts(&st->covered, &u->c);
		}
		if (!is_denied(u))
			continue;
		add_counts(&a->denied, &u->c);
		add_counts(&st->denied, &u->c);
		if (u->passes)
			a->passed += u->c.flows;
		if (count_denial(a, s, u))
			return -ENOMEM;
	}
	for (size_t i = 0; i < s->nhits; i++) {
		long r = intern_get(&a->rkeys, s->hits[i].id, NULL);
		if (r < 0 || grow_array(&a->rhits, &a->rcap, (size_t)r + 1, sizeof(*a->rhits)))
			return -ENOMEM;
		add_counts(&a->rhits[r], &s->hits[i].c);
		if (INTERN_KEY(&a->rsites, NULL, 2, s->hits[i].id, s->site) < 0)
			return -ENOMEM;
	}
	if (s->kernel && keep_period(a, s))
		return -ENOMEM;
	add_counts(&a->unassigned, &s->unassigned);
	for (size_t i = 0; i < s->nutop; i++) {
		const struct summary_uaddr *ur = &s->utop[i];
		long u = intern_get(&a->ukeys, ur->address, NULL);
		if (u < 0 || grow_array(&a->un, &a->ucap, (size_t)u + 1, sizeof(*a->un)))
			return -ENOMEM;
		a->un[u].as_src += ur->as_src;
		a->un[u].as_dst += ur->as_dst;
		a->un[u].packets += ur->packets;
		a->un[u].bytes += ur->bytes;
		if (INTERN_KEY(&a->usites, NULL, 2, ur->address, s->site) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int note_summary(struct audit *a, const struct summary_read *s, const char *name,
			bool current)
{
	if (grow_array(&a->sums, &a->scap, a->nsums + 1, sizeof(*a->sums)))
		return -ENOMEM;
	struct audit_summary *m = &a->sums[a->nsums];
	memset(m, 0, sizeof(*m));
	int bad_alloc = dup_str(&m->file, name) | dup_str(&m->site, s->site) |
			dup_str(&m->host, s->host) | dup_str(&m->start, s->start) |
			dup_str(&m->end, s->end) | dup_str(&m->hash, s->hash) |
			dup_str(&m->mode, s->mode);
	a->nsums++;
	if (bad_alloc)
		return -ENOMEM;
	m->current = current;
	m->pseudonymised = s->pseudonymised;
	m->capture_dropped = s->dropped;
	m->not_decoded = s->not_decoded;
	for (size_t i = 0; i < s->ntuples; i++)
		add_counts(&m->counted, &s->tuples[i].c);
	if (!a->start || strcmp(s->start, a->start) < 0) {
		free(a->start);
		if (dup_str(&a->start, s->start))
			return -ENOMEM;
	}
	if (!a->end || strcmp(s->end, a->end) > 0) {
		free(a->end);
		if (dup_str(&a->end, s->end))
			return -ENOMEM;
	}
	return 0;
}

/*
 * A summary of the current policy names the inventory's sites and the
 * policy's zones (or "-", the zones a gateway's table merges): anything else
 * means it does not belong to this policy after all.
 */
static int check_current(const struct audit *a, struct summary_reader *r,
			 const struct summary_read *s)
{
	if (inventory_find_site(a->inv, s->site) < 0)
		summary_bad(r, "site: '%s' is not a site of the inventory", s->site);
	for (size_t i = 0; i < s->ntuples && r->errors < SUMMARY_MAX_ERRORS; i++) {
		const char *z[2] = {s->tuples[i].from, s->tuples[i].to};
		for (int k = 0; k < 2; k++)
			if (strcmp(z[k], "-") != 0 && find_zone(a, z[k]) < 0)
				summary_bad(r, "tuples[%zu].%s: '%s' is not a zone of the policy",
					    i, k ? "dst_zone" : "src_zone", z[k]);
	}
	return r->errors;
}

/* Reads and checks one summary into s; false when it is to be skipped. Touches
 * nothing of a: summaries are checked in parallel (audit_add_files). */
static bool check_summary(const struct audit *a, const json_t *j, const char *name,
			  struct diag_list *dl, struct summary_read *s)
{
	struct summary_reader r = {.name = name, .dl = dl};
	if (summary_read(&r, j, s))
		return false;
	bool current = s->site && s->hash && strcmp(s->hash, a->hash) == 0;
	return !(current && check_current(a, &r, s));
}

/* Counts a checked summary. 0 or -ENOMEM. */
static int count_summary(struct audit *a, const struct summary_read *s, const char *name,
			 struct diag_list *dl)
{
	/* A summary without a site or policy decided nothing: apart, like another policy's. */
	bool classified = s->site && s->hash;
	bool current = classified && strcmp(s->hash, a->hash) == 0;
	bool added;
	long w = INTERN_KEY(&a->windows, &added, 5, s->site ? s->site : "", s->host ? s->host : "",
			    s->start, s->end, s->hash ? s->hash : "");
	if (w < 0)
		return -ENOMEM;
	if (!added) {
		diag_add(dl, DIAG_WARNING, name, 0, 0,
			 "the same window of the same gateway as an earlier summary "
			 "(%s, %s to %s): skipped, so that its flows count once",
			 s->site ? s->site : "no site", s->start, s->end);
		return 0;
	}
	if (note_summary(a, s, name, current))
		return -ENOMEM;
	if (current)
		return count_current(a, s);
	if (count_foreign(a, s, name))
		return -ENOMEM;
	if (classified)
		diag_add(dl, DIAG_WARNING, name, 0, 0,
			 "ran policy %s, not the current %s: counted apart", s->hash, a->hash);
	else
		diag_add(dl, DIAG_WARNING, name, 0, 0,
			 "the agent had no policy: its flows are counted apart");
	return 0;
}

int audit_add_json(struct audit *a, const json_t *j, const char *name, struct diag_list *dl)
{
	struct summary_read s;
	int rc = -EINVAL;
	if (check_summary(a, j, name, dl, &s))
		rc = count_summary(a, &s, name, dl);
	else
		a->skipped++;
	summary_read_free(&s);
	return rc;
}

int audit_add_buffer(struct audit *a, const char *buf, size_t len, const char *name,
		     struct diag_list *dl)
{
	json_error_t err;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		diag_add(dl, DIAG_ERROR, name, (unsigned)(err.line > 0 ? err.line : 0),
			 (unsigned)(err.column > 0 ? err.column : 0), "%s: summary skipped",
			 err.text);
		a->skipped++;
		return -EINVAL;
	}
	int rc = audit_add_json(a, j, name, dl);
	json_decref(j);
	return rc;
}

/* A read buffer that one thread reuses from file to file: a fresh block of a
 * summary's size per file made malloc consolidate its free lists every time. */
struct rbuf {
	char *p;
	size_t cap;
};

static bool rbuf_fit(struct rbuf *b, size_t need)
{
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1 << 16;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return false;
	b->p = p;
	b->cap = cap;
	return true;
}

/*
 * The file parsed, with its problems located as json_load_file locates
 * them: it is read whole and handed to json_loadb, which parses a buffer
 * with the same lexer faster than json_load_file's byte-wise fgetc. A read
 * error ends the input as it ends fgetc's.
 */
static json_t *load_file(const char *path, struct diag_list *dl, struct rbuf *b)
{
	json_error_t err;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* jansson's own words, cut at its length, for the same diagnostic. */
		char text[JSON_ERROR_TEXT_LENGTH];
		snprintf(text, sizeof(text), "unable to open %s: %s", path, strerror(errno));
		diag_add(dl, DIAG_ERROR, path, 0, 0, "%s: summary skipped", text);
		return NULL;
	}
	size_t n = 0;
	json_t *j = NULL;
	bool stat_ok = fstat(fd, &st) == 0;
	if (stat_ok && S_ISDIR(st.st_mode)) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "is a directory, not a summary: skipped");
		close(fd);
		return NULL;
	}
	bool fits = rbuf_fit(
	    b, stat_ok && S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 1);
	while (fits) {
		ssize_t k = read(fd, b->p + n, b->cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n == b->cap)
			fits = rbuf_fit(b, b->cap * 2);
	}
	if (!fits)
		diag_add(dl, DIAG_ERROR, path, 0, 0, "out of memory: summary skipped");
	else if (!(j = json_loadb(b->p, n, JSON_REJECT_DUPLICATES, &err)))
		diag_add(dl, DIAG_ERROR, path, (unsigned)(err.line > 0 ? err.line : 0),
			 (unsigned)(err.column > 0 ? err.column : 0), "%s: summary skipped",
			 err.text);
	close(fd);
	return j;
}

int audit_add_file(struct audit *a, const char *path, struct diag_list *dl)
{
	return audit_add_files(a, &path, 1, dl);
}

/* ---- many files at once ---- */

/* One file of audit_add_files: parsed and checked by a worker, then counted
 * in order by the caller's thread. */
struct job {
	const char *path;
	json_t *j;	     /* the tree s points into */
	struct jarena arena; /* j's memory */
	struct summary_read s;
	struct diag_list *dl; /* its diagnostics until it is counted */
	bool ok;	      /* checked: to be counted */
	bool done;
	bool by_worker; /* the worker frees it, in the thread whose malloc arena holds it */
};

/* Jobs taken beyond the last one counted, per worker: bounds the trees held. */
#define JOBS_AHEAD 4

struct pool {
	const struct audit *a;
	struct job *jobs;
	size_t n;
	size_t next;   /* the first job no thread has taken */
	size_t merged; /* jobs counted */
	size_t window; /* jobs taken beyond merged at most */
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t ready; /* a job is done */
	pthread_cond_t room;  /* merged moved on */
};

static void run_job(const struct audit *a, struct job *jb, struct rbuf *b)
{
	jb->dl = diag_list_new();
	if (!jb->dl)
		return;
	jarena_enter(&jb->arena);
	jb->j = load_file(jb->path, jb->dl, b);
	jarena_leave();
	jb->ok = jb->j && check_summary(a, jb->j, jb->path, jb->dl, &jb->s);
}

static void job_free(struct job *jb)
{
	summary_read_free(&jb->s);
	json_decref(jb->j);
	jarena_release(&jb->arena);
	diag_list_free(jb->dl);
	memset(&jb->s, 0, sizeof(jb->s));
	jb->j = NULL;
	jb->dl = NULL;
}

/*
 * Takes jobs in order while the window allows, and frees its own jobs once
 * they are counted: a tree freed by the thread that built it goes back to
 * that thread's malloc arena for the next file (freeing across threads cost
 * twice the parsing here, in fresh pages and arena locks).
 */
static void *worker(void *arg)
{
	enum { CAP = JOBS_AHEAD * AUDIT_MAX_WORKERS + 1 };
	struct pool *pl = arg;
	size_t mine[CAP], head = 0, tail = 0; /* its jobs not yet freed, oldest first */
	struct rbuf b = {0};
	pthread_mutex_lock(&pl->mu);
	for (;;) {
		if (head != tail && mine[head % CAP] < pl->merged) {
			struct job *jb = &pl->jobs[mine[head++ % CAP]];
			pthread_mutex_unlock(&pl->mu);
			job_free(jb);
			pthread_mutex_lock(&pl->mu);
			continue;
		}
		if (pl->stop || (pl->next >= pl->n && head == tail))
			break;
		if (pl->next >= pl->n || pl->next >= pl->merged + pl->window) {
			pthread_cond_wait(&pl->room, &pl->mu);
			continue;
		}
		struct job *jb = &pl->jobs[pl->next];
		jb->by_worker = true;
		mine[tail++ % CAP] = pl->next++;
		pthread_mutex_unlock(&pl->mu);
		run_job(pl->a, jb, &b);
		pthread_mutex_lock(&pl->mu);
		jb->done = true;
		pthread_cond_broadcast(&pl->ready);
	}
	pthread_mutex_unlock(&pl->mu);
	free(b.p);
	return NULL;
}

/* Job i, done: by a worker, or here when none has taken it yet. */
static void wait_job(struct pool *pl, size_t i, struct rbuf *b)
{
	pthread_mutex_lock(&pl->mu);
	while (!pl->jobs[i].done) {
		if (pl->next == i) {
			pl->next++;
			pthread_mutex_unlock(&pl->mu);
			run_job(pl->a, &pl->jobs[i], b);
			pthread_mutex_lock(&pl->mu);
			pl->jobs[i].done = true;
		} else {
			pthread_cond_wait(&pl->ready, &pl->mu);
		}
	}
	pthread_mutex_unlock(&pl->mu);
}

/* Job i's diagnostics and counts, as audit_add_file would have made them. */
static int merge_job(struct audit *a, struct job *jb, struct diag_list *dl)
{
	if (!jb->dl)
		return -ENOMEM;
	for (size_t k = 0; k < diag_count(jb->dl); k++) {
		const struct diag *d = diag_get(jb->dl, k);
		diag_add(dl, d->severity, d->file, d->line, d->col, "%s", d->msg);
	}
	if (!jb->ok) {
		a->skipped++;
		return -EINVAL;
	}
	return count_summary(a, &jb->s, jb->path, dl);
}

int audit_add_files(struct audit *a, const char *const *paths, size_t n, struct diag_list *dl)
{
	struct pool pl = {.a = a, .n = n};
	struct rbuf b = {0};
	pthread_t th[AUDIT_MAX_WORKERS];
	size_t nth = 0, want = a->workers < n ? a->workers : n;
	int rc = 0;
	if (!n)
		return 0;
	pl.jobs = calloc(n, sizeof(*pl.jobs));
	if (!pl.jobs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		pl.jobs[i].path = paths[i];
	pl.window = JOBS_AHEAD * (want ? want : 1);
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.ready, NULL);
	pthread_cond_init(&pl.room, NULL);
	/* jansson seeds its hash function on first use, which is not
	 * thread-safe: seed it before any thread parses. */
	if (want > 1)
		json_object_seed(0);
	/* Trees in arenas: a third less time for parsing than in malloc. */
	jarena_setup();
	/* With one worker, the caller's thread does it all; when threads
	 * cannot be started, it does what they would have. */
	for (size_t i = 0; want > 1 && i < want; i++)
		if (pthread_create(&th[nth], NULL, worker, &pl) == 0)
			nth++;
	for (size_t i = 0; i < n; i++) {
		wait_job(&pl, i, &b);
		int r = merge_job(a, &pl.jobs[i], dl);
		if (r == -ENOMEM || (r == -EINVAL && rc == 0))
			rc = r;
		if (!pl.jobs[i].by_worker)
			job_free(&pl.jobs[i]);
		pthread_mutex_lock(&pl.mu);
		pl.merged = i + 1;
		pl.stop = rc == -ENOMEM;
		pthread_cond_broadcast(&pl.room);
		pthread_mutex_unlock(&pl.mu);
		if (rc == -ENOMEM)
			break;
	}
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	/* After a failure: what the workers left. */
	for (size_t i = 0; i < n; i++)
		job_free(&pl.jobs[i]);
	pthread_cond_destroy(&pl.room);
	pthread_cond_destroy(&pl.ready);
	pthread_mutex_destroy(&pl.mu);
	free(pl.jobs);
	free(b.p);
	return rc;
}

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
		summary_free(&r->summaries[i]);
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
	}
	free(r->suggestions);
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

static int cmp_svc(const struct summary_svc *a, const struct summary_svc *b)
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
	return cmp_svc(&a->svc, &b->svc);
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

/* The index in part 0 of a key_of key. */
static long key_index(const char *key)
{
	size_t n;
	const char *p = key_part(key, 0, &n);
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
		v[i].text = key_part(a->dsites.keys[i], 1, &n);
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
	struct audit_example ea = {(char *)a->src, (char *)a->dst, a->flows};
	struct audit_example eb = {(char *)b->src, (char *)b->dst, b->flows};
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
		const char *src = key_part(a->exkeys.keys[i], 1, &n);
		v[i].d = key_index(a->exkeys.keys[i]);
		if (!(split[i] = strndup(src, n)))
			goto out;
		v[i].src = split[i];
		v[i].dst = key_part(a->exkeys.keys[i], 2, &n);
		v[i].flows = a->exflows[i];
	}
	qsort(v, a->exkeys.n, sizeof(*v), cmp_pick_flows);
	for (size_t i = 0; i < a->exkeys.n; i++) {
		struct audit_denial *dn = &out[order[v[i].d]];
		if (dn->nex == AUDIT_EXAMPLES)
			continue;
		struct audit_example *e = &dn->ex[dn->nex];
		if (dup_str(&e->src, v[i].src) || dup_str(&e->dst, v[i].dst)) {
			free(e->src);
			e->src = NULL;
			goto out;
		}
		e->flows = v[i].flows;
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
		rc = dup_str(&out->from, d->from) | dup_str(&out->to, d->to);
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
			int x = find_rule(a, a->per[i].ids[j]);
			if (x < 0)
				continue;
			kc[x].kernel = true;
			kc[x].kernel_packets += a->per[i].packets[j];
			kc[x].kernel_bytes += a->per[i].bytes[j];
		}
	for (size_t i = 0; i < a->rsites.n; i++) {
		size_t n;
		const char *p0 = key_part(a->rsites.keys[i], 0, &n);
		char *id = strndup(p0, n);
		if (!id)
			return -ENOMEM;
		int k = find_rule(a, id);
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

/* ---- suggestions ---- */

static bool name_taken(const struct policy *p, const struct audit_report *r, const char *s)
{
	if (policy_find_rule(p, s) >= 0)
		return true;
	for (size_t i = 0; i < p->nservices; i++)
		if (strcmp(p->services[i].name, s) == 0)
			return true;
	for (size_t i = 0; i < r->nsuggestions; i++)
		if (r->suggestions[i].id && strcmp(r->suggestions[i].id, s) == 0)
			return true;
	return false;
}

/* "audit-[site-]from-to", in the characters both rule ids and service
 * names allow (a-z 0-9 _ -), at most 48, unique in the policy. */
static char *make_id(const struct policy *p, const struct audit_report *r, const char *site,
		     const char *from, const char *to)
{
	char base[160], id[64];
	snprintf(base, sizeof(base), "audit-%s%s%s-%s", site ? site : "", site ? "-" : "", from,
		 to);
	for (char *c = base; *c; c++) {
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '_'))
			*c = '_';
	}
	snprintf(id, sizeof(id), "%.40s", base);
	for (int n = 2; name_taken(p, r, id); n++)
		snprintf(id, sizeof(id), "%.40s-%d", base, n);
	return strdup(id);
}

/* Observed points, sorted, to items: consecutive ports of one protocol join. */
static size_t points_to_items(const struct summary_svc *v, size_t n, struct audit_item *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct audit_item *last = k ? &out[k - 1] : NULL;
		bool ports = proto_has_ports(v[i].proto) && v[i].port >= 0;
		if (last && ports && last->proto == v[i].proto && last->lo >= 0 &&
		    last->hi + 1 == v[i].port) {
			last->hi = v[i].port;
			continue;
		}
		out[k++] = (struct audit_item){v[i].proto, v[i].family, v[i].port, v[i].port};
	}
	return k;
}

/* Does the observed set (sorted, with flags of the points still free) hold every packet of s? */
static bool service_within(const struct pol_match *m, const struct summary_svc *v, size_t n)
{
	if (m->any || (!m->nports && !m->nicmp && !m->nicmp6 && !m->nprotos))
		return false;
	for (size_t i = 0; i < m->nports; i++) {
		size_t have = 0;
		for (size_t k = 0; k < n; k++)
			have += v[k].proto == m->ports[i].proto && v[k].port >= m->ports[i].lo &&
				v[k].port <= m->ports[i].hi;
		if (have != (size_t)(m->ports[i].hi - m->ports[i].lo) + 1)
			return false;
	}
	for (size_t i = 0; i < m->nicmp + m->nicmp6; i++) {
		bool v6 = i >= m->nicmp;
		int type = v6 ? m->icmp6[i - m->nicmp] : m->icmp[i];
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = v[k].family == (v6 ? 6 : 4) &&
				proto_is_icmp(v[k].family, v[k].proto) && v[k].port == type;
		if (!found)
			return false;
	}
	for (size_t i = 0; i < m->nprotos; i++) {
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = v[k].proto == m->protos[i] && v[k].port < 0;
		if (!found)
			return false;
	}
	return true;
}

/* Is point x a packet of match m? */
static bool service_holds(const struct pol_match *m, const struct summary_svc *x)
{
	for (size_t i = 0; i < m->nports; i++)
		if (m->ports[i].proto == x->proto && x->port >= m->ports[i].lo &&
		    x->port <= m->ports[i].hi)
			return true;
	for (size_t i = 0;
	     x->port >= 0 && x->family == 4 && x->proto == IPPROTO_ICMP && i < m->nicmp; i++)
		if (m->icmp[i] == x->port)
			return true;
	for (size_t i = 0;
	     x->port >= 0 && x->family == 6 && x->proto == IPPROTO_ICMPV6 && i < m->nicmp6; i++)
		if (m->icmp6[i] == x->port)
			return true;
	for (size_t i = 0; x->port < 0 && i < m->nprotos; i++)
		if (m->protos[i] == x->proto)
			return true;
	return false;
}

static int cmp_svc_v(const void *x, const void *y)
{
	return cmp_svc(x, y);
}

/*
 * What makes a suggested accept rule dangerous to take as it is: opening a
 * zone to the internet or to addresses no segment holds, or opening a
 * management zone (the anti-lockout zones) to anyone. Denied traffic of that
 * kind is as often an attack or a misconfiguration as a missing rule.
 */
static const char *suggestion_risk(const struct policy *p, const char *from, const char *to)
{
	for (size_t i = 0; i < p->nzones; i++) {
		const struct pol_zone *z = &p->zones[i];
		if (strcmp(z->name, from) == 0 && z->kind == POL_ZONE_INTERNET)
			return "from the internet";
		if (strcmp(z->name, from) == 0 && z->kind == POL_ZONE_UNASSIGNED)
			return "from addresses in no segment";
	}
	for (size_t i = 0; i < p->nmanagement; i++)
		if (strcmp(p->zones[p->management[i]].name, to) == 0)
			return "into a management zone";
	return NULL;
}

static int suggest_one(const struct audit *a, const struct group *g, struct audit_report *r,
		       struct audit_suggestion *s)
{
	const struct policy *p = a->p;
	size_t n = g->pts.n;
	struct summary_svc *v = calloc(n + 1, sizeof(*v));
	struct summary_svc *rest = calloc(n + 1, sizeof(*rest));
	bool *used = calloc(n + 1, sizeof(*used));
	int rc = -ENOMEM;
	if (!v || !rest || !used)
		goto out;
	memcpy(v, g->svc, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_svc_v);
	s->site = g->site;
	s->before = g->before;
	s->c = g->c;
	const char *site = g->site >= 0 ? a->inv->sites[g->site].id : NULL;
	if (dup_str(&s->from, g->from) || dup_str(&s->to, g->to) ||
	    !(s->id = make_id(p, r, site, g->from, g->to)))
		goto out;
	if (!(s->items = calloc(n + 1, sizeof(*s->items))))
		goto out;
	s->nitems = points_to_items(v, n, s->items);
	/* Named services of the policy that lie wholly within what was seen
	 * are reused; the rest becomes one new service named like the rule. */
	s->services = calloc(p->nservices + 2, sizeof(*s->services));
	if (!s->services)
		goto out;
	for (size_t i = 0; i < p->nservices; i++) {
		const struct pol_match *m = &p->services[i].match;
		if (!service_within(m, v, n))
			continue;
		if (!(s->services[s->nservices] = strdup(p->services[i].name)))
			goto out;
		s->nservices++;
		for (size_t k = 0; k < n; k++)
			used[k] |= service_holds(m, &v[k]);
	}
	size_t nrest = 0;
	for (size_t k = 0; k < n; k++)
		if (!used[k])
			rest[nrest++] = v[k];
	if (nrest) {
		struct audit_service *sv = &r->services[r->nservices];
		if (!(sv->items = calloc(nrest + 1, sizeof(*sv->items))) ||
		    !(sv->name = strdup(s->id)) || !(s->services[s->nservices] = strdup(s->id))) {
			free(sv->items);
			free(sv->name);
			sv->items = NULL;
			sv->name = NULL;
			goto out;
		}
		sv->nitems = points_to_items(rest, nrest, sv->items);
		r->nservices++;
		s->nservices++;
	}
	s->risk = suggestion_risk(p, g->from, g->to);
	char comment[160];
	snprintf(comment, sizeof(comment),
		 "suggested by audit: %" PRIu64 " flows, %" PRIu64 " bytes, review%s%s", g->c.flows,
		 g->c.bytes, s->risk ? " with care: " : "", s->risk ? s->risk : "");
	if (dup_str(&s->comment, comment) || dup_str(&s->owner, a->owner))
		goto out;
	rc = 0;
out:
	free(v);
	free(rest);
	free(used);
	return rc;
}

struct gorder {
	const struct audit *a;
	size_t i;
};

static int cmp_group(const void *x, const void *y)
{
	const struct gorder *p = x, *q = y;
	const struct group *a = &p->a->grp[p->i], *b = &q->a->grp[q->i];
	if (a->site != b->site) {
		if (a->site < 0 || b->site < 0)
			return a->site < 0 ? -1 : 1;
		return strcmp(p->a->inv->sites[a->site].id, p->a->inv->sites[b->site].id);
	}
	/* Only city-wide groups can end at the default: those after the others. */
	int ba = a->before < 0 ? INT32_MAX : a->before, bb = b->before < 0 ? INT32_MAX : b->before;
	if (ba != bb)
		return ba < bb ? -1 : 1;
	if (a->c.flows != b->c.flows)
		return a->c.flows > b->c.flows ? -1 : 1;
	int c = strcmp(a->from, b->from);
	return c ? c : strcmp(a->to, b->to);
}

static int build_suggestions(const struct audit *a, struct audit_report *r, const long *order)
{
	size_t n = a->gkeys.n;
	struct gorder *o = calloc(n + 1, sizeof(*o));
	long *where = calloc(n + 1, sizeof(*where));
	r->suggestions = calloc(n + 1, sizeof(*r->suggestions));
	r->services = calloc(n + 1, sizeof(*r->services));
	int rc = -ENOMEM;
	if (!o || !where || !r->suggestions || !r->services)
		goto out;
	for (size_t i = 0; i < n; i++)
		o[i] = (struct gorder){a, i};
	qsort(o, n, sizeof(*o), cmp_group);
	for (size_t k = 0; k < n; k++) {
		where[o[k].i] = (long)k;
		r->nsuggestions++;
		if (suggest_one(a, &a->grp[o[k].i], r, &r->suggestions[k]))
			goto out;
	}
	/* A denial points at its city-wide suggestion when it has one, else at
	 * the first of its sites'. */
	for (size_t i = 0; i < a->dkeys.n; i++) {
		const struct den *d = &a->den[i];
		struct audit_denial *out = &r->denials[order[i]];
		for (size_t j = 0; j < d->ngroups; j++) {
			long s = where[d->groups[j]];
			if (out->suggestion < 0 || s < out->suggestion)
				out->suggestion = (int)s;
		}
		if (!d->ngroups)
			r->unresolved++;
	}
	rc = 0;
out:
	free(o);
	free(where);
	return rc;
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
		if (dup_str(&u->address, a->ukeys.keys[i]))
			return -ENOMEM;
	}
	for (size_t i = 0; i < a->usites.n; i++) {
		size_t len;
		const char *p0 = key_part(a->usites.keys[i], 0, &len);
		char *addr = strndup(p0, len);
		if (!addr)
			return -ENOMEM;
		long u = intern_find(&a->ukeys, addr);
		free(addr);
		if (u >= 0 && str_set_add(&r->unassigned_top[u].sites, &r->unassigned_top[u].nsites,
					  key_part(a->usites.keys[i], 1, &len)))
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
		if (*a->fkeys.keys[i] && dup_str(&f->hash, a->fkeys.keys[i]))
			return -ENOMEM;
		if (!(f->files = calloc(fa->nfiles + 1, sizeof(*f->files))))
			return -ENOMEM;
		for (size_t j = 0; j < fa->nfiles; j++, f->nfiles++)
			if (dup_str(&f->files[j], fa->files[j]))
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
		if (dup_str(&d->file, s->file) | dup_str(&d->site, s->site) |
		    dup_str(&d->host, s->host) | dup_str(&d->start, s->start) |
		    dup_str(&d->end, s->end) | dup_str(&d->hash, s->hash) |
		    dup_str(&d->mode, s->mode))
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
	if (dup_str(&r->hash, a->hash) || dup_str(&r->start, a->start) || dup_str(&r->end, a->end))
		goto out;
	if ((rc = build_summaries(a, r)) || (rc = build_sites(a, r)) ||
	    (rc = build_denials(a, r, order)) || (rc = build_rules(a, r)) ||
	    (rc = build_suggestions(a, r, order)) || (rc = build_unassigned(a, r)) ||
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

static json_t *denial_json(const struct audit_report *r, const struct audit_denial *d)
{
	char t[64];
	audit_svc_text(&d->svc, t, sizeof(t));
	json_t *ex = json_array();
	for (size_t i = 0; ex && i < d->nex; i++)
		json_array_append_new(ex,
				      json_pack("{s:s,s:s,s:I}", "src", d->ex[i].src, "dst",
						d->ex[i].dst, "flows", (json_int_t)d->ex[i].flows));
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:i,s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "from", d->from, "to", d->to,
	    "service", t, "proto", d->svc.proto, "port",
	    d->svc.port >= 0 ? json_integer(d->svc.port) : json_null(), "flows",
	    (json_int_t)d->c.flows, "packets", (json_int_t)d->c.packets, "bytes",
	    (json_int_t)d->c.bytes, "passed_flows", (json_int_t)d->passed, "sites",
	    strs_json(d->sites, d->nsites), "rules", strs_json(d->rules, d->nrules), "examples",
	    ex ? ex : json_null(), "suggestion",
	    d->suggestion >= 0 ? json_string(r->suggestions[d->suggestion].id) : json_null());
	return o;
}

static json_t *suggestion_json(const struct audit_suggestion *s, const struct policy *p,
			       const struct inventory *inv)
{
	return json_pack(
	    "{s:s,s:o,s:s,s:s,s:o,s:o,s:s,s:s,s:o,s:I,s:I,s:I,s:s,s:s,s:o}", "id", s->id, "site",
	    s->site >= 0 ? json_string(inv->sites[s->site].id) : json_null(), "from", s->from, "to",
	    s->to, "services", strs_json(s->services, s->nservices), "observed",
	    items_json(s->items, s->nitems), "scope", "any", "action", "accept", "insert_before",
	    s->before >= 0 ? json_string(p->rules[s->before].id) : json_null(), "flows",
	    (json_int_t)s->c.flows, "packets", (json_int_t)s->c.packets, "bytes",
	    (json_int_t)s->c.bytes, "comment", s->comment, "owner", s->owner, "risk",
	    s->risk ? json_string(s->risk) : json_null());
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
		err |= json_array_append_new(srules, suggestion_json(&r->suggestions[i], p, inv));
	err |= !sg || set(sg, "services", svcs) || set(sg, "rules", srules) ||
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

/* ------------------------------------------------------------------ */
/* The policy.yaml fragment */

struct buf {
	char *s;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || grow_array(&b->s, &b->cap, b->n + (size_t)k + 1, 1)) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

/* A YAML double-quoted scalar (YAML 1.2, 7.3.1). */
static void put_quoted(struct buf *b, const char *s)
{
	put(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			put(b, "\\x%02x", (unsigned char)*s);
		else
			put(b, "%c", *s);
	}
	put(b, "\"");
}

/* `{tcp: [445, 5000-5002], icmp: [echo-request], protocols: [gre]}` */
static void put_service(struct buf *b, const struct audit_item *v, size_t n)
{
	/* policy.yaml's keys: one per protocol with ports, then ICMP types, whole protocols. */
	struct svc_key {
		const char *key;
		uint8_t proto, family;
	} keys[256 + 3];
	size_t nkeys = 0;
	for (unsigned p = 0; p < 256; p++)
		if (proto_has_ports((uint8_t)p))
			keys[nkeys++] = (struct svc_key){proto_name((uint8_t)p), (uint8_t)p, 0};
	keys[nkeys++] = (struct svc_key){"icmp", IPPROTO_ICMP, 4};
	keys[nkeys++] = (struct svc_key){"icmpv6", IPPROTO_ICMPV6, 6};
	keys[nkeys++] = (struct svc_key){"protocols", 0, 0};
	bool first_key = true;
	put(b, "{");
	for (size_t k = 0; k < nkeys; k++) {
		bool whole = keys[k].proto == 0, any = false;
		for (size_t i = 0; i < n; i++) {
			const struct audit_item *it = &v[i];
			bool mine = whole ? it->lo < 0
					  : it->lo >= 0 && it->proto == keys[k].proto &&
						(!keys[k].family || it->family == keys[k].family);
			if (!mine)
				continue;
			put(b, "%s", any ? ", " : first_key ? "" : ", ");
			if (!any)
				put(b, "%s: [", keys[k].key);
			any = true;
			first_key = false;
			const char *name = NULL;
			if (whole) {
				name = proto_name(it->proto);
				if (name && proto_parse(name) != it->proto)
					name = NULL;
				if (name)
					put(b, "%s", name);
				else
					put(b, "%u", it->proto);
			} else if (keys[k].family) {
				name = proto_icmp_name(keys[k].family, (uint8_t)it->lo);
				if (name)
					put(b, "%s", name);
				else
					put(b, "%d", it->lo);
			} else if (it->hi > it->lo) {
				put(b, "%d-%d", it->lo, it->hi);
			} else {
				put(b, "%d", it->lo);
			}
		}
		if (any)
			put(b, "]");
	}
	put(b, "}");
}

static void put_rule(struct buf *b, const struct audit_suggestion *s, const struct policy *p,
		     const char *ind)
{
	if (s->risk)
		put(b, "%s# review with care: %s\n", ind, s->risk);
	if (s->before >= 0)
		put(b, "%s# insert before: %s\n", ind, p->rules[s->before].id);
	else
		put(b, "%s# insert at the end, before the default\n", ind);
	put(b, "%s- id: %s\n", ind, s->id);
	put(b, "%s  from: [%s]\n", ind, s->from);
	put(b, "%s  to: [%s]\n", ind, s->to);
	put(b, "%s  services: [", ind);
	for (size_t i = 0; i < s->nservices; i++)
		put(b, "%s%s", i ? ", " : "", s->services[i]);
	put(b, "]\n%s  scope: any\n%s  action: accept\n%s  comment: ", ind, ind, ind);
	put_quoted(b, s->comment);
	put(b, "\n%s  owner: ", ind);
	put_quoted(b, s->owner);
	put(b, "\n");
}

char *audit_suggest_yaml(const struct audit_report *r, const struct policy *p,
			 const struct inventory *inv)
{
	struct buf b = {0};
	size_t city = 0;
	put(&b,
	    "# Rules suggested by `segplan audit` for the denied traffic of %zu summaries,\n"
	    "# %s to %s, policy %s.\n"
	    "# For review: nothing here is applied. Each rule belongs in policy.yaml before\n"
	    "# the rule its comment names, or at the end of its list, before the default\n"
	    "# drop; the services go under `services:`.\n",
	    r->nsummaries, r->start ? r->start : "-", r->end ? r->end : "-", r->hash);
	if (r->nservices) {
		put(&b, "services:\n");
		for (size_t i = 0; i < r->nservices; i++) {
			put(&b, "  %s: ", r->services[i].name);
			put_service(&b, r->services[i].items, r->services[i].nitems);
			put(&b, "\n");
		}
	}
	for (size_t i = 0; i < r->nsuggestions; i++)
		city += r->suggestions[i].site < 0;
	put(&b, "rules:%s\n", city ? "" : " []");
	for (size_t i = 0; i < r->nsuggestions; i++)
		if (r->suggestions[i].site < 0)
			put_rule(&b, &r->suggestions[i], p, "  ");
	int site = -1;
	for (size_t i = 0; i < r->nsuggestions; i++) {
		const struct audit_suggestion *s = &r->suggestions[i];
		if (s->site < 0)
			continue;
		if (site < 0)
			put(&b, "sites:\n");
		if (s->site != site)
			put(&b, "  %s:\n    rules:\n", inv->sites[s->site].id);
		site = s->site;
		put_rule(&b, s, p, "      ");
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
