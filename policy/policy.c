// SPDX-License-Identifier: MIT
#include "policy/policy.h"

#include "core/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/yamlread.h"
#include "policy/reader.h"

#define MAX_ID_LEN 48


static const char *const top_keys[] = {
    "version",	"management", "datacentre", "logging", "zones",	    "services", "rules",
    "sites",	"objects",    "externals",  "site_groups", "gateway", "assertions"};
static const char *const rule_keys[] = {"id",	 "from",  "to",	  "services", "scope",
					"action", "log",   "comment", "owner",   "expires",
					"limit",  "when"};
/* A gateway service: no `to` (the gateway itself) and no scope; on which interfaces. */
static const char *const gw_rule_keys[] = {"id",      "from",  "services", "action",
					   "log",     "comment", "owner",	 "expires",
					   "limit",   "when",  "interfaces"};
/* A service's keys: the name of every protocol with ports (core/proto.h), then these. */
static const char *const svc_other_keys[] = {"icmp", "icmpv6", "protocols", "description"};

bool policy_parse_date(const char *s, long *days)
{
	int y, m, d;
	char tail;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
		return false;
	*days = (long)days_from_civil(y, m, d);
	return true;
}

bool polr_valid_name(const char *s, bool dots)
{
	size_t n = strlen(s);
	if (n == 0 || n > MAX_ID_LEN)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '-' || (dots && *c == '.')))
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Zones */

static int add_zone(struct reader *r, const char *name, enum pol_zone_kind kind)
{
	struct policy *p = r->p;
	int z = policy_find_zone(p, name);
	if (z >= 0)
		return z;
	struct pol_zone *v = realloc(p->zones, (p->nzones + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->zones = v;
	const char **names = realloc(r->zone_names, (p->nzones + 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	r->zone_names = names;
	memset(&v[p->nzones], 0, sizeof(v[0]));
	if (!(v[p->nzones].name = strdup(name)))
		return -ENOMEM;
	v[p->nzones].kind = kind;
	names[p->nzones] = v[p->nzones].name;
	return (int)p->nzones++;
}

static int inventory_zones(struct reader *r)
{
	const struct inventory *inv = r->inv;
	for (size_t i = 0; i < inv->nsegments; i++) {
		if (strcmp(inv->segments[i].zone, POL_ZONE_NAME_DC) == 0) {
			char file[4096];
			snprintf(file, sizeof(file), "%s/segments.csv", inv->dir ? inv->dir : ".");
			diag_add(r->dl, DIAG_ERROR, file, inv->segments[i].line, 0,
				 "zone '%s' is reserved for the data-centre networks "
				 "(docs/policy.md)",
				 POL_ZONE_NAME_DC);
			continue;
		}
		int z = add_zone(r, inv->segments[i].zone, POL_ZONE_SEGMENT);
		if (z < 0)
			return z;
		r->p->zones[z].nsegments++;
	}
	for (size_t i = 0; i < inv->nplan; i++)
		if (strncmp(inv->plan[i].zone, "vpn-", 4) == 0) {
			int z = add_zone(r, inv->plan[i].zone, POL_ZONE_VPN);
			if (z < 0)
				return z;
		}
	if (add_zone(r, POL_ZONE_NAME_INTERNET, POL_ZONE_INTERNET) < 0 ||
	    add_zone(r, POL_ZONE_NAME_UNASSIGNED, POL_ZONE_UNASSIGNED) < 0 ||
	    add_zone(r, POL_ZONE_NAME_DC, POL_ZONE_DC) < 0 ||
	    add_zone(r, POL_ZONE_NAME_SPECIAL, POL_ZONE_SPECIAL) < 0 ||
	    add_zone(r, POL_ZONE_NAME_PRIVEXT, POL_ZONE_PRIVEXT) < 0)
		return -ENOMEM;
	return 0;
}

int polr_zone_ref(struct reader *r, const struct ynode *n)
{
	const char *s = ynode_scalar(n);
	if (!s) {
		ynode_error(r->doc, n, r->dl, "a zone must be a name");
		return -1;
	}
	int z = policy_find_zone(r->p, s);
	if (z >= 0)
		return z;
	const char *sug = diag_suggest(s, r->zone_names, r->p->nzones);
	if (strcmp(s, "any") == 0)
		ynode_error(r->doc, n, r->dl, "'any' stands alone, not in a list of zones");
	else if (sug)
		ynode_error(r->doc, n, r->dl, "unknown zone '%s' (did you mean '%s'?)", s, sug);
	else
		ynode_error(r->doc, n, r->dl, "unknown zone '%s'", s);
	return -1;
}

static void read_zones_section(struct reader *r, const struct ynode *zs)
{
	if (!zs || !ynode_expect(r->doc, zs, YNODE_MAP, "zones", r->dl))
		return;
	for (size_t i = 0; i < ynode_len(zs); i++) {
		const struct ynode *k = ynode_key(zs, i), *v = ynode_value(zs, i);
		const char *name = ynode_scalar(k);
		if (!name)
			continue;
		int z = policy_find_zone(r->p, name);
		if (z < 0) {
			if (!polr_valid_name(name, false)) {
				ynode_error(r->doc, k, r->dl,
					    "zone names are 1-48 characters of a-z 0-9 _ -");
				continue;
			}
			const char *sug = diag_suggest(name, r->zone_names, r->p->nzones);
			if (sug)
				ynode_error(r->doc, k, r->dl,
					    "zone '%s' has no segment in the inventory (did you "
					    "mean '%s'?)",
					    name, sug);
			else
				diag_add(r->dl, DIAG_WARNING, ydoc_name(r->doc), ynode_line(k),
					 ynode_col(k), "zone '%s' has no segment in the inventory",
					 name);
			if (sug || (z = add_zone(r, name, POL_ZONE_SEGMENT)) < 0)
				continue;
		}
		const char *desc = ynode_scalar(v);
		if (!desc && ynode_kind(v) == YNODE_MAP) {
			static const char *const zkeys[] = {"description"};
			ynode_check_keys(r->doc, v, zkeys, 1, r->dl);
			ynode_get_str(r->doc, v, "description", false, r->dl, &desc);
		} else if (!desc) {
			ynode_error(r->doc, v, r->dl, "a zone takes a description");
		}
		r->p->zones[z].declared = true;
		/* A zone named twice (a duplicate key, already an error): the last description. */
		free(r->p->zones[z].description);
		r->p->zones[z].description = NULL;
		if (desc && !(r->p->zones[z].description = strdup(desc)))
			return;
	}
	for (size_t z = 0; z < r->p->nzones; z++)
		if (r->p->zones[z].kind == POL_ZONE_SEGMENT && !r->p->zones[z].declared)
			diag_add(r->dl, DIAG_WARNING, ydoc_name(r->doc), ynode_line(zs),
				 ynode_col(zs), "zone '%s' of segments.csv is not described here",
				 r->p->zones[z].name);
}

/* ------------------------------------------------------------------ */
/* Services */

const struct ynode *polr_as_list(const struct ynode *n, size_t *len)
{
	*len = ynode_kind(n) == YNODE_SEQ ? ynode_len(n) : 1;
	return n;
}

const struct ynode *polr_list_item(const struct ynode *n, size_t i)
{
	return ynode_kind(n) == YNODE_SEQ ? ynode_item(n, i) : n;
}

static bool parse_port(const char *s, long *v)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtol(s, &end, 10);
	return !*end && !errno && *v >= 1 && *v <= 65535;
}

static int read_ports(struct reader *r, const struct ynode *n, uint8_t proto, struct pol_match *m)
{
	size_t len;
	polr_as_list(n, &len);
	for (size_t i = 0; i < len; i++) {
		const struct ynode *it = polr_list_item(n, i);
		const char *s = ynode_scalar(it);
		long lo = 0, hi = 0;
		char buf[32];
		const char *dash = s ? strchr(s, '-') : NULL;
		bool ok;
		if (dash && (size_t)(dash - s) < sizeof(buf)) {
			memcpy(buf, s, (size_t)(dash - s));
			buf[dash - s] = '\0';
			ok = parse_port(buf, &lo) && parse_port(dash + 1, &hi);
			if (ok && lo > hi) {
				ynode_error(r->doc, it, r->dl,
					    "port range '%s' runs backwards (did you mean "
					    "'%ld-%ld'?)",
					    s, hi, lo);
				continue;
			}
		} else {
			ok = parse_port(s, &lo);
			hi = lo;
		}
		if (!ok) {
			ynode_error(r->doc, it, r->dl,
				    "bad port '%s': a port is 1-65535, a range LOW-HIGH",
				    s ? s : "(not a value)");
			continue;
		}
		struct pol_ports *v = realloc(m->ports, (m->nports + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->ports = v;
		v[m->nports++] = (struct pol_ports){proto, (uint16_t)lo, (uint16_t)hi};
	}
	return 0;
}

static int read_u8_list(struct reader *r, const struct ynode *n,
			int (*parse)(uint8_t, const char *), uint8_t family, const char *what,
			size_t (*names)(uint8_t, const char **, size_t), uint8_t **out,
			size_t *nout)
{
	size_t len;
	polr_as_list(n, &len);
	for (size_t i = 0; i < len; i++) {
		const struct ynode *it = polr_list_item(n, i);
		const char *s = ynode_scalar(it);
		int v = s ? parse(family, s) : -1;
		if (v < 0) {
			const char *known[256];
			size_t nn = names(family, known, NELEM(known));
			const char *sug = s ? diag_suggest(s, known, nn) : NULL;
			if (sug)
				ynode_error(r->doc, it, r->dl,
					    "unknown %s '%s' (did you mean '%s'?)", what, s, sug);
			else
				ynode_error(r->doc, it, r->dl, "unknown %s '%s'", what,
					    s ? s : "(not a value)");
			continue;
		}
		uint8_t *o = realloc(*out, *nout + 1);
		if (!o)
			return -ENOMEM;
		*out = o;
		o[(*nout)++] = (uint8_t)v;
	}
	return 0;
}

static int proto_parse_f(uint8_t family, const char *s)
{
	(void)family;
	return proto_parse(s);
}

static size_t proto_names_f(uint8_t family, const char **out, size_t max)
{
	(void)family;
	return proto_names(out, max);
}

static size_t svc_keys(const char **out, size_t max)
{
	size_t n = 0;
	for (unsigned p = 0; p < 256 && n < max; p++)
		if (proto_has_ports((uint8_t)p))
			out[n++] = proto_name((uint8_t)p);
	for (size_t i = 0; i < NELEM(svc_other_keys) && n < max; i++)
		out[n++] = svc_other_keys[i];
	return n;
}

static int read_services(struct reader *r, const struct ynode *ss)
{
	struct policy *p = r->p;
	if (!ss || !ynode_expect(r->doc, ss, YNODE_MAP, "services", r->dl))
		return 0;
	const char *keys[256 + NELEM(svc_other_keys)];
	size_t nkeys = svc_keys(keys, NELEM(keys));
	p->services = calloc(ynode_len(ss) + 1, sizeof(*p->services));
	r->svc_names = calloc(ynode_len(ss) + 1, sizeof(*r->svc_names));
	if (!p->services || !r->svc_names)
		return -ENOMEM;
	for (size_t i = 0; i < ynode_len(ss); i++) {
		const struct ynode *k = ynode_key(ss, i), *v = ynode_value(ss, i);
		const char *name = ynode_scalar(k);
		if (!name)
			continue;
		if (!polr_valid_name(name, false) || strcmp(name, "any") == 0) {
			ynode_error(r->doc, k, r->dl,
				    "service names are 1-48 characters of a-z 0-9 _ - (not 'any')");
			continue;
		}
		if (!ynode_expect(r->doc, v, YNODE_MAP, "a service", r->dl))
			continue;
		ynode_check_keys(r->doc, v, keys, nkeys, r->dl);
		struct pol_service *s = &p->services[p->nservices];
		if (!(s->name = strdup(name)))
			return -ENOMEM;
		s->line = ynode_line(k);
		s->col = ynode_col(k);
		r->svc_names[p->nservices++] = s->name;
		int rc = 0;
		for (unsigned j = 0; j < 256 && rc == 0; j++) {
			const struct ynode *pn = proto_has_ports((uint8_t)j)
						     ? ynode_get(v, proto_name((uint8_t)j))
						     : NULL;
			if (pn)
				rc = read_ports(r, pn, (uint8_t)j, &s->match);
		}
		const struct ynode *n;
		if (rc == 0 && (n = ynode_get(v, "icmp")))
			rc = read_u8_list(r, n, proto_icmp_parse, 4, "ICMP type", proto_icmp_names,
					  &s->match.icmp, &s->match.nicmp);
		if (rc == 0 && (n = ynode_get(v, "icmpv6")))
			rc = read_u8_list(r, n, proto_icmp_parse, 6, "ICMPv6 type",
					  proto_icmp_names, &s->match.icmp6, &s->match.nicmp6);
		if (rc == 0 && (n = ynode_get(v, "protocols")))
			rc = read_u8_list(r, n, proto_parse_f, 0, "protocol", proto_names_f,
					  &s->match.protos, &s->match.nprotos);
		if (rc < 0)
			return rc;
		const char *desc;
		ynode_get_str(r->doc, v, "description", false, r->dl, &desc);
		if (!s->match.nports && !s->match.nicmp && !s->match.nicmp6 && !s->match.nprotos)
			diag_add(r->dl, DIAG_WARNING, ydoc_name(r->doc), s->line, s->col,
				 "service '%s' matches nothing", name);
		/* Normalise: sorted, overlapping port ranges merged. */
		struct pol_match norm;
		memset(&norm, 0, sizeof(norm));
		rc = pol_match_merge(&norm, &s->match);
		pol_match_free(&s->match);
		s->match = norm;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rules */

static int find_service(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nservices; i++)
		if (strcmp(p->services[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* `any`, one name or a list of names; resolved through lookup. */
int polr_read_refs(struct reader *r, const struct ynode *n, bool *any, int **out, size_t *nout,
		     int (*lookup)(struct reader *, const struct ynode *))
{
	size_t len;
	polr_as_list(n, &len);
	if (ynode_kind(n) == YNODE_MAP) {
		ynode_error(r->doc, n, r->dl, "expected 'any', a name or a list of names");
		return 0;
	}
	if (ynode_kind(n) == YNODE_SCALAR && strcmp(ynode_scalar(n), "any") == 0) {
		*any = true;
		return 0;
	}
	if (len == 0) {
		ynode_error(r->doc, n, r->dl,
			    "an empty list matches nothing; write 'any' or names");
		return 0;
	}
	*out = calloc(len, sizeof(int));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int v = lookup(r, polr_list_item(n, i));
		bool dup = false;
		for (size_t j = 0; j < *nout && v >= 0; j++)
			dup |= (*out)[j] == v;
		if (v >= 0 && !dup)
			(*out)[(*nout)++] = v;
	}
	return 0;
}

int polr_service_ref(struct reader *r, const struct ynode *n)
{
	const char *s = ynode_scalar(n);
	if (!s) {
		ynode_error(r->doc, n, r->dl, "a service must be a name");
		return -1;
	}
	int v = find_service(r->p, s);
	if (v >= 0)
		return v;
	const char *sug = diag_suggest(s, r->svc_names, r->p->nservices);
	if (strcmp(s, "any") == 0)
		ynode_error(r->doc, n, r->dl, "'any' stands alone, not in a list of services");
	else if (sug)
		ynode_error(r->doc, n, r->dl, "unknown service '%s' (did you mean '%s'?)", s, sug);
	else
		ynode_error(r->doc, n, r->dl, "unknown service '%s'", s);
	return -1;
}

int polr_get_enum(struct reader *r, const struct ynode *map, const char *key,
		    const char *const *names, size_t n, int dflt)
{
	const struct ynode *v = ynode_get(map, key);
	if (!v)
		return dflt;
	const char *s = ynode_scalar(v);
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	const char *sug = s ? diag_suggest(s, (const char **)names, n) : NULL;
	if (sug) {
		ynode_error(r->doc, v, r->dl, "unknown %s '%s' (did you mean '%s'?)", key, s, sug);
		return -1;
	}
	/* Nothing close: the few there are. */
	char list[256] = "";
	for (size_t i = 0, len = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i == 0	    ? ""
					: i + 1 < n ? ", "
						    : " or ",
					names[i]);
	ynode_error(r->doc, v, r->dl, "unknown %s '%s' (%s)", key, s ? s : "(not a value)", list);
	return -1;
}

static int dup_opt(struct reader *r, const struct ynode *map, const char *key, char **out)
{
	const char *s = NULL;
	if (ynode_get_str(r->doc, map, key, false, r->dl, &s) && s && !(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

/* site: -1 city-wide, -2 a gateway service, else the site of an exception. */
static int read_rule(struct reader *r, const struct ynode *n, int site)
{
	struct policy *p = r->p;
	bool gw = site == -2;
	if (!ynode_expect(r->doc, n, YNODE_MAP, gw ? "a gateway service" : "a rule", r->dl))
		return 0;
	if (gw)
		ynode_check_keys(r->doc, n, gw_rule_keys, NELEM(gw_rule_keys), r->dl);
	else
		ynode_check_keys(r->doc, n, rule_keys, NELEM(rule_keys), r->dl);
	struct pol_rule *ru = &p->rules[p->nrules];
	memset(ru, 0, sizeof(*ru));
	ru->site = gw ? -1 : site;
	ru->gateway = gw;
	ru->line = ynode_line(n);
	ru->col = ynode_col(n);
	const char *id = NULL;
	if (!ynode_get_str(r->doc, n, "id", true, r->dl, &id) || !id)
		return 0;
	const struct ynode *idn = ynode_get(n, "id");
	if (!polr_valid_name(id, true)) {
		ynode_error(r->doc, idn, r->dl,
			    "rule ids are 1-48 characters of a-z 0-9 _ - . (got '%s')", id);
		return 0;
	}
	int prev = policy_find_rule(p, id);
	/* A duplicate is still read, so that its other errors are reported too. */
	if (prev >= 0)
		ynode_error(r->doc, idn, r->dl, "duplicate rule id '%s' (first at line %u)", id,
			    p->rules[prev].line);
	if (!(ru->id = strdup(id)))
		return -ENOMEM;
	p->nrules++;
	int rc = 0;
	const struct ynode *v;
	if (!(v = ynode_get(n, "from")))
		ynode_error(r->doc, n, r->dl, "rule '%s': missing key 'from'", id);
	else
		rc = polr_read_side(r, v, &ru->from);
	if (rc < 0)
		return rc;
	if (gw)
		ru->to.any = true;
	else if (!(v = ynode_get(n, "to")))
		ynode_error(r->doc, n, r->dl, "rule '%s': missing key 'to'", id);
	else
		rc = polr_read_side(r, v, &ru->to);
	if (rc < 0)
		return rc;
	if (!(v = ynode_get(n, "services")))
		ynode_error(r->doc, n, r->dl, "rule '%s': missing key 'services'", id);
	else
		rc = polr_read_refs(r, v, &ru->svc_any, &ru->services, &ru->nservices, polr_service_ref);
	if (rc < 0)
		return rc;
	int sc = polr_get_enum(r, n, "scope", pol_scope_names, POL_SCOPE_COUNT, POL_SCOPE_ANY);
	ru->scope = sc < 0 ? POL_SCOPE_ANY : (enum pol_scope)sc;
	if (!ynode_get(n, "action")) {
		ynode_error(r->doc, n, r->dl, "rule '%s': missing key 'action'", id);
	} else {
		int a = polr_get_enum(r, n, "action", pol_action_names, POL_ACTION_COUNT, POL_DROP);
		ru->action = a < 0 ? POL_DROP : (enum pol_action)a;
	}
	ynode_get_bool(r->doc, n, "log", false, r->dl, &ru->log);
	if (dup_opt(r, n, "comment", &ru->comment) < 0 || dup_opt(r, n, "owner", &ru->owner) < 0)
		return -ENOMEM;
	if ((rc = polr_read_rule_extras(r, n, ru)) < 0)
		return rc;
	const char *exp = NULL;
	if (ynode_get_str(r->doc, n, "expires", false, r->dl, &exp) && exp) {
		int64_t end;
		if (!policy_parse_expiry(exp, &end)) {
			ynode_error(r->doc, ynode_get(n, "expires"), r->dl,
				    "bad date '%s': expected YYYY-MM-DD, a real day, or "
				    "YYYY-MM-DDTHH:MM:SSZ",
				    exp);
		} else {
			snprintf(ru->expires, sizeof(ru->expires), "%s", exp);
			ru->expires_at = end;
			ru->expired = end <= p->now;
			if (ru->expired)
				diag_add(r->dl, DIAG_WARNING, ydoc_name(r->doc), ynode_line(n),
					 ynode_col(n),
					 "rule '%s' expired on %s (today is %s): not compiled", id,
					 exp, p->date);
		}
	}
	return 0;
}

static int read_rule_list(struct reader *r, const struct ynode *list, int site)
{
	if (!list || !ynode_expect(r->doc, list, YNODE_SEQ, "rules", r->dl))
		return 0;
	for (size_t i = 0; i < ynode_len(list); i++) {
		int rc = read_rule(r, ynode_item(list, i), site);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static size_t count_rules(const struct ynode *root)
{
	size_t n = 0;
	const struct ynode *rs = ynode_get(root, "rules"), *ss = ynode_get(root, "sites"),
			   *gs = ynode_get(root, "gateway");
	if (rs && ynode_kind(rs) == YNODE_SEQ)
		n += ynode_len(rs);
	if (gs && ynode_kind(gs) == YNODE_SEQ)
		n += ynode_len(gs);
	for (size_t i = 0; ss && ynode_kind(ss) == YNODE_MAP && i < ynode_len(ss); i++) {
		const struct ynode *v = ynode_value(ss, i);
		const struct ynode *l = ynode_kind(v) == YNODE_MAP ? ynode_get(v, "rules") : NULL;
		if (l && ynode_kind(l) == YNODE_SEQ)
			n += ynode_len(l);
	}
	return n;
}

static int read_sites(struct reader *r, const struct ynode *ss)
{
	if (!ss || !ynode_expect(r->doc, ss, YNODE_MAP, "sites", r->dl))
		return 0;
	for (size_t i = 0; i < ynode_len(ss); i++) {
		const struct ynode *k = ynode_key(ss, i), *v = ynode_value(ss, i);
		const char *id = ynode_scalar(k);
		if (!id)
			continue;
		int s = inventory_find_site(r->inv, id);
		if (s < 0) {
			const char *sug = diag_suggest(id, r->site_names, r->inv->nsites);
			if (sug)
				ynode_error(r->doc, k, r->dl,
					    "unknown site '%s' (did you mean '%s'?)", id, sug);
			else
				ynode_error(r->doc, k, r->dl, "unknown site '%s'", id);
			continue;
		}
		if (!ynode_expect(r->doc, v, YNODE_MAP, "a site's exceptions", r->dl))
			continue;
		static const char *const skeys[] = {"rules"};
		ynode_check_keys(r->doc, v, skeys, 1, r->dl);
		int rc = read_rule_list(r, ynode_get(v, "rules"), s);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Management, data centres, logging */

/* True when every segment of zone z is at a school or a nursery. */
static bool only_at_schools(const struct inventory *inv, const char *zone)
{
	size_t n = 0;
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *sg = &inv->segments[i];
		if (strcmp(sg->zone, zone) != 0)
			continue;
		enum site_type t = inv->sites[sg->site].type;
		if (t != SITE_SCHOOL && t != SITE_NURSERY)
			return false;
		n++;
	}
	return n > 0;
}

/*
 * The management zones reach every gateway before any rule (the anti-lockout
 * accept of the input chain): a pseudo-zone there opens the gateways to the
 * world or to unknown hosts, a zone without addresses locks nobody in, and a
 * guest or school network lets visitors and pupils at every gateway.
 */
static void check_management_zone(struct reader *r, const struct ynode *n)
{
	const char *name = ynode_scalar(n);
	int z = name ? policy_find_zone(r->p, name) : -1;
	if (z < 0)
		return; /* reported by zone_ref */
	const struct pol_zone *zn = &r->p->zones[z];
	if (zn->kind == POL_ZONE_INTERNET)
		ynode_error(r->doc, n, r->dl,
			    "management zone '%s' is the pseudo-zone of every address outside "
			    "the city plan: it would open every gateway to the whole internet",
			    name);
	else if (zn->kind != POL_ZONE_SEGMENT && zn->kind != POL_ZONE_VPN)
		ynode_error(r->doc, n, r->dl,
			    "management zone '%s' is a pseudo-zone, not a network of engineers: "
			    "the anti-lockout accept would open every gateway to every host it "
			    "stands for (or hold no address at all); name the engineers' segment "
			    "or VPN zones",
			    name);
	else if (zn->kind == POL_ZONE_SEGMENT && zn->nsegments == 0)
		ynode_error(r->doc, n, r->dl,
			    "management zone '%s' has no addresses (no segment in segments.csv, no "
			    "VPN pool in addressplan.csv): it adds nothing to the anti-lockout "
			    "accept, and a bad ruleset can lock the engineers out of every gateway",
			    name);
	else if (strcmp(name, "guest") == 0 || strcmp(name, "school") == 0 ||
		 only_at_schools(r->inv, name))
		diag_add(r->dl, DIAG_WARNING, ydoc_name(r->doc), ynode_line(n), ynode_col(n),
			 "management zone '%s' is a guest or school network: every visitor or "
			 "pupil there reaches the management of every gateway",
			 name);
}

static int read_management(struct reader *r, const struct ynode *m)
{
	struct policy *p = r->p;
	bool any = false;
	if (!m) {
		int z = policy_find_zone(p, "mgmt");
		if (z < 0 || p->zones[z].kind != POL_ZONE_SEGMENT)
			return 0;
		if (!(p->management = malloc(sizeof(int))))
			return -ENOMEM;
		p->management[p->nmanagement++] = z;
		return 0;
	}
	int rc = polr_read_refs(r, m, &any, &p->management, &p->nmanagement, polr_zone_ref);
	if (any)
		ynode_error(r->doc, m, r->dl, "management lists zones, not 'any'");
	size_t len;
	polr_as_list(m, &len);
	for (size_t i = 0; rc == 0 && !any && i < len; i++)
		check_management_zone(r, polr_list_item(m, i));
	return rc;
}

static int read_dc(struct reader *r, const struct ynode *d)
{
	struct policy *p = r->p;
	const struct inventory *inv = r->inv;
	const struct ynode *sites = NULL, *prefixes = NULL;
	if (d && ynode_expect(r->doc, d, YNODE_MAP, "datacentre", r->dl)) {
		static const char *const dkeys[] = {"sites", "prefixes"};
		ynode_check_keys(r->doc, d, dkeys, 2, r->dl);
		sites = ynode_get(d, "sites");
		prefixes = ynode_get(d, "prefixes");
	}
	p->dc_sites = calloc(inv->nsites + 1, sizeof(int));
	if (!p->dc_sites)
		return -ENOMEM;
	if (!sites) {
		for (size_t i = 0; i < inv->nsites; i++)
			if (inv->sites[i].type == SITE_DATA_CENTRE)
				p->dc_sites[p->ndc_sites++] = (int)i;
	} else {
		size_t len;
		polr_as_list(sites, &len);
		for (size_t i = 0; i < len; i++) {
			const struct ynode *it = polr_list_item(sites, i);
			const char *id = ynode_scalar(it);
			int s = id ? inventory_find_site(inv, id) : -1;
			if (s < 0) {
				const char *sug =
				    id ? diag_suggest(id, r->site_names, inv->nsites) : NULL;
				if (sug)
					ynode_error(r->doc, it, r->dl,
						    "unknown site '%s' (did you mean '%s'?)", id,
						    sug);
				else
					ynode_error(r->doc, it, r->dl, "unknown site '%s'",
						    id ? id : "(not a value)");
				continue;
			}
			p->dc_sites[p->ndc_sites++] = s;
		}
	}
	if (!prefixes)
		return 0;
	size_t len;
	polr_as_list(prefixes, &len);
	p->dc_prefixes = calloc(len + 1, sizeof(*p->dc_prefixes));
	if (!p->dc_prefixes)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		const struct ynode *it = polr_list_item(prefixes, i);
		const char *s = ynode_scalar(it);
		struct ip_prefix pf;
		int rc = s ? ip_prefix_parse(s, false, &pf) : -EINVAL;
		if (rc == -EDOM) {
			char buf[IP_PREFIX_STRLEN];
			ip_prefix_format(&pf, buf, sizeof(buf));
			ynode_error(r->doc, it, r->dl,
				    "prefix '%s' has host bits set (did you mean '%s'?)", s, buf);
		} else if (rc < 0) {
			ynode_error(r->doc, it, r->dl, "bad prefix '%s'", s ? s : "(not a value)");
		} else {
			p->dc_prefixes[p->ndc_prefixes++] = pf;
		}
	}
	return 0;
}

static void read_logging(struct reader *r, const struct ynode *l)
{
	struct policy *p = r->p;
	p->log_denied = true;
	p->log_group = -1;
	p->log_rate = 10;
	snprintf(p->log_rate_unit, sizeof(p->log_rate_unit), "minute");
	if (!l || !ynode_expect(r->doc, l, YNODE_MAP, "logging", r->dl))
		return;
	static const char *const lkeys[] = {"denied", "group", "rate"};
	ynode_check_keys(r->doc, l, lkeys, 3, r->dl);
	ynode_get_bool(r->doc, l, "denied", false, r->dl, &p->log_denied);
	long g = -1;
	if (ynode_get_long(r->doc, l, "group", false, 0, 65535, r->dl, &g))
		p->log_group = (int)g;
	const char *rate = NULL;
	if (!ynode_get_str(r->doc, l, "rate", false, r->dl, &rate) || !rate)
		return;
	unsigned n;
	char unit[16], tail;
	if (sscanf(rate, "%u/%15[a-z]%c", &n, unit, &tail) != 2 || n == 0 || n > 100000 ||
	    (strcmp(unit, "second") != 0 && strcmp(unit, "minute") != 0 &&
	     strcmp(unit, "hour") != 0)) {
		ynode_error(r->doc, ynode_get(l, "rate"), r->dl,
			    "bad rate '%s': expected N/second, N/minute or N/hour", rate);
		return;
	}
	p->log_rate = n;
	snprintf(p->log_rate_unit, sizeof(p->log_rate_unit), "%s", unit);
}

/* ------------------------------------------------------------------ */

bool policy_parse_expiry(const char *s, int64_t *end)
{
	long days;
	int64_t ns;
	if (strlen(s) == 10 && policy_parse_date(s, &days)) {
		*end = ((int64_t)days + 1) * 86400;
		return true;
	}
	if (!rfc3339_parse(s, &ns))
		return false;
	/* Whole seconds: meta time is compared at nanoseconds, the end rounds up. */
	*end = ns / 1000000000 + (ns % 1000000000 > 0);
	return true;
}

static int today_utc(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	if (!gmtime_r(&now, &tm))
		return -EINVAL;
	strftime(buf, size, "%Y-%m-%d", &tm);
	return 0;
}

static int read_doc(struct reader *r)
{
	const struct ynode *root = ydoc_root(r->doc);
	struct policy *p = r->p;
	if (!root) {
		diag_add(r->dl, DIAG_ERROR, ydoc_name(r->doc), 0, 0, "the policy is empty");
		return 0;
	}
	if (!ynode_expect(r->doc, root, YNODE_MAP, "the policy", r->dl))
		return 0;
	ynode_check_keys(r->doc, root, top_keys, NELEM(top_keys), r->dl);
	long version = POLICY_FORMAT;
	if (ynode_get_long(r->doc, root, "version", false, 1, 1000, r->dl, &version) &&
	    version != POLICY_FORMAT)
		ynode_error(r->doc, ynode_get(root, "version"), r->dl,
			    "policy version %ld is not supported (this segplan reads %d)", version,
			    POLICY_FORMAT);
	int rc = inventory_zones(r);
	if (rc < 0)
		return rc;
	read_zones_section(r, ynode_get(root, "zones"));
	if ((rc = read_services(r, ynode_get(root, "services"))) < 0)
		return rc;
	if ((rc = read_management(r, ynode_get(root, "management"))) < 0)
		return rc;
	if ((rc = read_dc(r, ynode_get(root, "datacentre"))) < 0)
		return rc;
	read_logging(r, ynode_get(root, "logging"));
	if ((rc = polr_read_objects(r, ynode_get(root, "objects"), ynode_get(root, "externals"))) <
	    0)
		return rc;
	if ((rc = polr_read_groups(r, ynode_get(root, "site_groups"))) < 0)
		return rc;
	p->rules = calloc(count_rules(root) + 1, sizeof(*p->rules));
	if (!p->rules)
		return -ENOMEM;
	if (!ynode_get(root, "rules"))
		ynode_error(r->doc, root, r->dl, "missing key 'rules'");
	if ((rc = read_rule_list(r, ynode_get(root, "rules"), -1)) < 0)
		return rc;
	if ((rc = read_sites(r, ynode_get(root, "sites"))) < 0)
		return rc;
	if ((rc = read_rule_list(r, ynode_get(root, "gateway"), -2)) < 0)
		return rc;
	return polr_read_assertions(r, ynode_get(root, "assertions"));
}

/* errors_before: the errors in dl before doc was loaded (a duplicate key is an
 * error of the load that still yields a document). */
static int load(struct ydoc *doc, const struct inventory *inv, const char *date,
		struct diag_list *dl, size_t errors_before, struct policy **out)
{
	struct reader r = {.doc = doc, .inv = inv, .dl = dl};
	int rc = -ENOMEM;
	*out = NULL;
	r.p = calloc(1, sizeof(*r.p));
	r.site_names = calloc(inv->nsites + 1, sizeof(*r.site_names));
	if (!r.p || !r.site_names)
		goto out;
	for (size_t i = 0; i < inv->nsites; i++)
		r.site_names[i] = inv->sites[i].id;
	if (!(r.p->file = strdup(ydoc_name(doc))))
		goto out;
	if (date) {
		snprintf(r.p->date, sizeof(r.p->date), "%s", date);
	} else if (today_utc(r.p->date, sizeof(r.p->date)) < 0) {
		rc = -EINVAL;
		goto out;
	}
	if (!policy_parse_date(r.p->date, &r.today)) {
		diag_add(dl, DIAG_ERROR, NULL, 0, 0, "bad date '%s': expected YYYY-MM-DD", date);
		rc = -EINVAL;
		goto out;
	}
	/* A given day is judged at its start; without one, at this moment. */
	r.p->now = date ? (int64_t)r.today * 86400 : (int64_t)time(NULL);
	rc = read_doc(&r);
	if (rc == 0 && diag_errors(dl) > errors_before)
		rc = -EINVAL;
out:
	free(r.zone_names);
	free(r.svc_names);
	free(r.site_names);
	free(r.obj_names);
	free(r.group_names);
	if (rc < 0)
		policy_free(r.p);
	else
		*out = r.p;
	return rc;
}

int policy_load(const char *path, const char *display, const struct inventory *inv,
		const char *date, struct diag_list *dl, struct policy **out)
{
	struct ydoc *doc;
	*out = NULL;
	size_t before = diag_errors(dl);
	int rc = ydoc_load(path, display, dl, &doc);
	if (rc < 0)
		return rc;
	rc = load(doc, inv, date, dl, before, out);
	ydoc_free(doc);
	return rc;
}

int policy_load_buffer(const char *buf, size_t len, const char *name, const struct inventory *inv,
		       const char *date, struct diag_list *dl, struct policy **out)
{
	struct ydoc *doc;
	*out = NULL;
	size_t before = diag_errors(dl);
	int rc = ydoc_load_buffer(buf, len, name, dl, &doc);
	if (rc < 0)
		return rc;
	rc = load(doc, inv, date, dl, before, out);
	ydoc_free(doc);
	return rc;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nzones; i++) {
		free(p->zones[i].name);
		free(p->zones[i].description);
	}
	free(p->zones);
	for (size_t i = 0; i < p->nservices; i++) {
		free(p->services[i].name);
		pol_match_free(&p->services[i].match);
	}
	free(p->services);
	for (size_t i = 0; i < p->nrules; i++) {
		struct pol_rule *r = &p->rules[i];
		free(r->id);
		polr_side_free(&r->from);
		polr_side_free(&r->to);
		for (size_t k = 0; k < r->nifaces; k++)
			free(r->ifaces[k]);
		free(r->ifaces);
		free(r->services);
		free(r->comment);
		free(r->owner);
	}
	free(p->rules);
	polr_free_stage2(p);
	free(p->management);
	free(p->dc_sites);
	free(p->dc_prefixes);
	free(p->file);
	free(p);
}

int policy_find_zone(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nzones; i++)
		if (strcmp(p->zones[i].name, name) == 0)
			return (int)i;
	return -1;
}

int policy_find_rule(const struct policy *p, const char *id)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].id && strcmp(p->rules[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* examples/stuttgart/policy.yaml, kept equal to the file by tests/unit/test_policy.c. */
const char policy_example_yaml[] =
    "# Segment policy of the example city administration (format: docs/policy.md).\n"
    "# Rules are judged top to bottom, the first match decides; what no rule\n"
    "# accepts is dropped. Replies of accepted connections always pass.\n"
    "version: 1\n"
    "\n"
    "# Engineers in these zones always reach every gateway (anti-lockout).\n"
    "management: [mgmt, vpn-admins]\n"
    "\n"
    "# The `dc` networks: every segment of the two data centres.\n"
    "datacentre:\n"
    "  sites: [DC1, DC2]\n"
    "\n"
    "logging:\n"
    "  denied: true\n"
    "  group: 5\n"
    "  rate: 10/minute\n"
    "\n"
    "zones:\n"
    "  admin: Administration clients in offices, town halls and citizen offices\n"
    "  servers: Servers; central services in the data centres, file and print servers on site\n"
    "  voip: IP phones\n"
    "  printers: Printers and multi-function devices\n"
    "  bms: Building automation (heating, ventilation, access control, lifts)\n"
    "  school: Pedagogical networks of the schools, run apart from the administration\n"
    "  guest: Guest WLAN for visitors and citizens\n"
    "  mgmt: Network and server management\n"
    "  vpn-staff: Remote access of office and field staff\n"
    "  vpn-admins: Remote access of the IT administrators\n"
    "  vpn-vendors: Remote access of external vendors\n"
    "\n"
    "services:\n"
    "  dns: {udp: [53], tcp: [53]}\n"
    "  ntp: {udp: [123]}\n"
    "  web: {tcp: [80, 443]}\n"
    "  proxy: {tcp: [3128, 8080]}\n"
    "  mail: {tcp: [25, 465, 587, 993]}\n"
    "  directory:\n"
    "    description: Active Directory (Kerberos, LDAP, global catalogue)\n"
    "    tcp: [88, 389, 636, 3268-3269]\n"
    "    udp: [88, 389]\n"
    "  fileshare: {tcp: [445]}\n"
    "  remote-desktop: {tcp: [3389]}\n"
    "  ssh: {tcp: [22]}\n"
    "  sip: {udp: [5060], tcp: [5060, 5061]}\n"
    "  rtp: {udp: [10000-20000]}\n"
    "  printing: {tcp: [515, 631, 9100]}\n"
    "  snmp: {udp: [161]}\n"
    "  logging: {udp: [514, 162], tcp: [6514]}\n"
    "  bacnet: {udp: [47808-47823]}\n"
    "  modbus: {tcp: [502]}\n"
    "  ping: {icmp: [echo-request], icmpv6: [echo-request]}\n"
    "\n"
    "rules:\n"
    "  - id: mgmt-everywhere\n"
    "    from: [mgmt, vpn-admins]\n"
    "    to: any\n"
    "    services: any\n"
    "    action: accept\n"
    "    comment: Management reaches every system\n"
    "    owner: network-operations\n"
    "\n"
    "  - id: infra-dns-ntp\n"
    "    from: [admin, servers, voip, printers, bms, school, vpn-staff, vpn-vendors]\n"
    "    to: [servers]\n"
    "    services: [dns, ntp]\n"
    "    scope: dc-only\n"
    "    action: accept\n"
    "    comment: Central resolvers and time servers in the data centres\n"
    "    owner: network-operations\n"
    "\n"
    "  - id: devices-logging\n"
    "    from: [voip, printers, bms]\n"
    "    to: [mgmt]\n"
    "    services: [logging]\n"
    "    scope: dc-only\n"
    "    action: accept\n"
    "    comment: Syslog and SNMP traps to the central collectors\n"
    "    owner: network-operations\n"
    "\n"
    "  - id: clients-central-services\n"
    "    from: [admin, vpn-staff]\n"
    "    to: [servers]\n"
    "    services: [web, proxy, mail, directory, fileshare, remote-desktop, ping]\n"
    "    scope: dc-only\n"
    "    action: accept\n"
    "    comment: Office clients use the central applications; the web only through the proxy\n"
    "    owner: it-services\n"
    "\n"
    "  - id: clients-local-servers\n"
    "    from: [admin]\n"
    "    to: [servers]\n"
    "    services: [fileshare, directory, printing]\n"
    "    scope: same-site\n"
    "    action: accept\n"
    "    comment: Branch file and print servers serve their own site only\n"
    "    owner: it-services\n"
    "\n"
    "  - id: print-own-site\n"
    "    from: [admin, school]\n"
    "    to: [printers]\n"
    "    services: [printing]\n"
    "    scope: same-site\n"
    "    action: accept\n"
    "    comment: Printing only at the own site\n"
    "    owner: it-services\n"
    "\n"
    "  - id: print-servers\n"
    "    from: [servers]\n"
    "    to: [printers]\n"
    "    services: [printing, snmp]\n"
    "    action: accept\n"
    "    comment: Print servers spool to and monitor printers\n"
    "    owner: it-services\n"
    "\n"
    "  - id: voip-call-servers\n"
    "    from: [voip]\n"
    "    to: [servers]\n"
    "    services: [sip, rtp]\n"
    "    scope: dc-only\n"
    "    action: accept\n"
    "    comment: Phones register with the call servers in the data centres\n"
    "    owner: telephony\n"
    "\n"
    "  - id: voip-media\n"
    "    from: [voip]\n"
    "    to: [voip]\n"
    "    services: [rtp]\n"
    "    action: accept\n"
    "    comment: Speech flows directly between phones\n"
    "    owner: telephony\n"
    "\n"
    "  - id: bms-to-management-servers\n"
    "    from: [bms]\n"
    "    to: [servers]\n"
    "    services: [bacnet, modbus, web]\n"
    "    scope: dc-only\n"
    "    action: accept\n"
    "    comment: Building automation talks only to its management servers\n"
    "    owner: facility-management\n"
    "\n"
    "  - id: bms-polling\n"
    "    from: [servers]\n"
    "    to: [bms]\n"
    "    services: [bacnet, modbus]\n"
    "    action: accept\n"
    "    comment: The BMS servers poll the controllers\n"
    "    owner: facility-management\n"
    "\n"
    "  - id: vendors-bms\n"
    "    from: [vpn-vendors]\n"
    "    to: [bms]\n"
    "    services: [web, ssh, bacnet]\n"
    "    action: accept\n"
    "    log: true\n"
    "    comment: Vendors maintain the building automation, nothing else\n"
    "    owner: facility-management\n"
    "\n"
    "  - id: vendors-erp-migration\n"
    "    from: [vpn-vendors]\n"
    "    to: [servers]\n"
    "    services: [ssh, remote-desktop]\n"
    "    scope: dc-only\n"
    "    action: accept\n"
    "    log: true\n"
    "    comment: Temporary access for the ERP migration project\n"
    "    owner: it-services\n"
    "    expires: 2027-06-30\n"
    "\n"
    "  - id: servers-internet\n"
    "    from: [servers]\n"
    "    to: [internet]\n"
    "    services: [web, dns, ntp, mail]\n"
    "    action: accept\n"
    "    comment: Updates, outgoing mail and upstream resolvers\n"
    "    owner: it-services\n"
    "\n"
    "  - id: public-services\n"
    "    from: [internet]\n"
    "    to: [servers]\n"
    "    services: [web]\n"
    "    scope: dc-only\n"
    "    action: accept\n"
    "    comment: The city's web services in the data centres\n"
    "    owner: it-services\n"
    "\n"
    "  - id: school-internet\n"
    "    from: [school]\n"
    "    to: [internet]\n"
    "    services: [web, dns, ntp]\n"
    "    action: accept\n"
    "    comment: Pupils reach the internet\n"
    "    owner: school-it\n"
    "\n"
    "  - id: school-apart\n"
    "    from: [school]\n"
    "    to: [admin, servers, voip, bms, mgmt]\n"
    "    services: any\n"
    "    action: reject\n"
    "    log: true\n"
    "    comment: School networks stay apart from the administration\n"
    "    owner: security\n"
    "\n"
    "  - id: guest-internet\n"
    "    from: [guest]\n"
    "    to: [internet]\n"
    "    services: any\n"
    "    action: accept\n"
    "    comment: Guest WLAN reaches the internet only\n"
    "    owner: network-operations\n"
    "\n"
    "  - id: guest-apart\n"
    "    from: [guest]\n"
    "    to: any\n"
    "    services: any\n"
    "    action: drop\n"
    "    log: true\n"
    "    comment: Nothing inside the city for guests\n"
    "    owner: security\n"
    "\n"
    "sites:\n"
    "  S000002:\n"
    "    rules:\n"
    "      - id: fire-station-alarm-calls\n"
    "        from: [bms]\n"
    "        to: [voip]\n"
    "        services: [sip, rtp]\n"
    "        scope: same-site\n"
    "        action: accept\n"
    "        comment: The alarm panel calls the station's phones\n"
    "        owner: fire-brigade\n"
    "  S000003:\n"
    "    rules:\n"
    "      - id: vocational-school-plc-lab\n"
    "        from: [school]\n"
    "        to: [bms]\n"
    "        services: [modbus]\n"
    "        scope: same-site\n"
    "        action: accept\n"
    "        comment: Training lab controllers of the vocational school\n"
    "        owner: school-it\n"
    "        expires: 2027-07-31\n";
