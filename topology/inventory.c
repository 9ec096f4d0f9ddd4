// SPDX-License-Identifier: MIT
#include "topology/inventory.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/csvread.h"

const char *const site_type_names[SITE_TYPE_COUNT] = {
    "town_hall", "office",	   "school", "nursery", "fire_station",
    "library",	 "citizen_office", "depot",  "museum",	"data_centre",
};
const char *const broadband_names[BB_COUNT] = {"fibre", "interim", "dsl", "none"};
const char *const link_kind_names[LINK_KIND_COUNT] = {"fibre", "rented", "dsl", "radio", "planned"};
const char *const site_flag_names[SITE_FLAG_COUNT] = {"critical", "hub",  "primary", "fallback",
						      "vrrp",	  "ospf", "bgp"};

double geo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371008.8, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) +
		   cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	return 2 * r * asin(fmin(1.0, sqrt(a)));
}

/* Loading state shared by the table readers. */
struct loader {
	struct inventory *inv;
	struct diag_list *dl;
	struct strmap *districts;
	/* The table had its columns: references into it are checked. When it
	 * could not be read, every reference would be an error of its own, so
	 * one note says they were not checked. */
	bool districts_read, sites_read;
};

static bool refs_checked(struct loader *ld, bool read, const struct csv_table *t, const char *what,
			 const char *file)
{
	if (!read)
		diag_add(ld->dl, DIAG_NOTE, csv_table_name(t), 0, 0,
			 "%s references not checked: %s could not be read", what, file);
	return read;
}

static char *join(const char *dir, const char *file)
{
	char *p;
	if (strcmp(dir, ".") == 0)
		return strdup(file);
	size_t n = strlen(dir);
	if (asprintf(&p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", file) < 0)
		return NULL;
	return p;
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

static bool zone_ok(const char *s)
{
	if (!*s || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

/* Reports an unknown id with the closest known one. */
static void unknown_ref(const struct csv_table *t, size_t row, int col, struct diag_list *dl,
			const char *what, const char *val, const char *const *names, size_t n)
{
	const char *s = diag_suggest(val, names, n);
	if (s)
		csv_cell_error(t, row, col, dl, "unknown %s '%s' (did you mean '%s'?)", what, val,
			       s);
	else
		csv_cell_error(t, row, col, dl, "unknown %s '%s'", what, val);
}

static const char **site_id_list(const struct inventory *inv)
{
	const char **v = malloc((inv->nsites + 1) * sizeof(*v));
	for (size_t i = 0; v && i < inv->nsites; i++)
		v[i] = inv->sites[i].id;
	return v;
}

static int load_districts(struct loader *ld, const struct csv_table *t)
{
	static const char *const req[] = {"name", "lat", "lon", "radius_m"};
	int c[4];
	struct inventory *inv = ld->inv;
	if (!csv_bind_columns(t, req, 4, NULL, 0, c, ld->dl))
		return 0;
	ld->districts_read = true;
	size_t n = csv_table_nrows(t);
	inv->districts = calloc(n + 1, sizeof(*inv->districts));
	ld->districts = strmap_new(n);
	if (!inv->districts || !ld->districts)
		return -ENOMEM;
	for (size_t r = 0; r < n; r++) {
		struct district *d = &inv->districts[inv->ndistricts];
		const char *name;
		bool ok = csv_get_str(t, r, c[0], ld->dl, &name);
		ok &= csv_get_double(t, r, c[1], true, -90, 90, ld->dl, &d->lat);
		ok &= csv_get_double(t, r, c[2], true, -180, 180, ld->dl, &d->lon);
		ok &= csv_get_double(t, r, c[3], true, 1e-9, 1e7, ld->dl, &d->radius_m);
		if (!ok)
			continue;
		if (!(d->name = strdup(name)))
			return -ENOMEM;
		int prev = strmap_put(ld->districts, d->name, (int)inv->ndistricts);
		if (prev >= 0) {
			csv_cell_error(t, r, c[0], ld->dl,
				       "duplicate district '%s' (first on line %u)", name,
				       csv_row_line(t, (size_t)prev));
			free(d->name);
			d->name = NULL;
			continue;
		}
		inv->ndistricts++;
	}
	return 0;
}

/* Inside the radius and no other district centre nearer: see docs/inventory.md. */
static bool in_district(const struct inventory *inv, int di, double lat, double lon)
{
	const struct district *d = &inv->districts[di];
	double own = geo_distance_m(lat, lon, d->lat, d->lon);
	if (own > d->radius_m)
		return false;
	for (size_t i = 0; i < inv->ndistricts; i++)
		if ((int)i != di &&
		    geo_distance_m(lat, lon, inv->districts[i].lat, inv->districts[i].lon) < own)
			return false;
	return true;
}

static bool parse_flags(const struct csv_table *t, size_t r, int col, struct diag_list *dl,
			unsigned *out)
{
	const char *s = csv_cell(t, r, col);
	bool ok = true;
	*out = 0;
	while (*s) {
		const char *e = strchr(s, ';');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		char word[64];
		if (n >= sizeof(word))
			n = sizeof(word) - 1;
		memcpy(word, s, n);
		word[n] = '\0';
		int k = -1;
		for (int i = 0; i < SITE_FLAG_COUNT && k < 0; i++)
			if (strcmp(word, site_flag_names[i]) == 0)
				k = i;
		if (k >= 0) {
			*out |= 1u << k;
		} else if (n) {
			const char *sug = diag_suggest(word, site_flag_names, SITE_FLAG_COUNT);
			unsigned at = csv_cell_col(t, r, col) +
				      (unsigned)utf8_count(csv_cell(t, r, col),
							   (size_t)(s - csv_cell(t, r, col)));
			diag_add(dl, DIAG_ERROR, csv_table_name(t), csv_cell_line(t, r, col), at,
				 sug ? "unknown flag '%s' (did you mean '%s'?)"
				     : "unknown flag '%s'%s",
				 word, sug ? sug : "");
			ok = false;
		}
		s += n;
		if (*s == ';')
			s++;
	}
	return ok;
}

static int load_sites(struct loader *ld, const struct csv_table *t)
{
	static const char *const req[] = {"id",		  "name",	   "district", "type",
					  "lat",	  "lon",	   "staff",    "broadband",
					  "current_mbps", "required_mbps", "flags"};
	int c[11];
	struct inventory *inv = ld->inv;
	struct diag_list *dl = ld->dl;
	if (!csv_bind_columns(t, req, 11, NULL, 0, c, dl))
		return 0;
	ld->sites_read = true;
	bool check_districts = refs_checked(ld, ld->districts_read, t, "district", "districts.csv");
	size_t n = csv_table_nrows(t);
	inv->sites = calloc(n + 1, sizeof(*inv->sites));
	inv->site_ids = strmap_new(n);
	const char **dnames = calloc(inv->ndistricts + 1, sizeof(*dnames));
	if (!inv->sites || !inv->site_ids || !dnames) {
		free(dnames);
		return -ENOMEM;
	}
	for (size_t i = 0; i < inv->ndistricts; i++)
		dnames[i] = inv->districts[i].name;
	int primary_row = -1, fallback_row = -1;
	for (size_t r = 0; r < n; r++) {
		struct site *s = &inv->sites[inv->nsites];
		const char *id = csv_cell(t, r, c[0]);
		bool ok = true;
		if (!id_ok(id)) {
			csv_cell_error(t, r, c[0], dl,
				       *id ? "invalid site id '%s' (1-32 of A-Z a-z 0-9 _ . -)"
					   : "missing site id%s",
				       id);
			ok = false;
		}
		const char *dn = csv_cell(t, r, c[2]);
		s->district = ld->districts ? strmap_get(ld->districts, dn) : -1;
		if (s->district < 0) {
			if (!*dn)
				csv_cell_error(t, r, c[2], dl, "missing value for 'district'");
			else if (check_districts)
				unknown_ref(t, r, c[2], dl, "district", dn, dnames,
					    inv->ndistricts);
			ok = false;
		}
		int ty = csv_get_enum(t, r, c[3], site_type_names, SITE_TYPE_COUNT, dl);
		int bb = csv_get_enum(t, r, c[7], broadband_names, BB_COUNT, dl);
		ok &= ty >= 0 && bb >= 0;
		ok &= csv_get_double(t, r, c[4], true, -90, 90, dl, &s->lat);
		ok &= csv_get_double(t, r, c[5], true, -180, 180, dl, &s->lon);
		ok &= csv_get_long(t, r, c[6], true, 0, 100000, dl, &s->staff);
		ok &= csv_get_double(t, r, c[8], true, 0, 1e7, dl, &s->current_mbps);
		ok &= csv_get_double(t, r, c[9], true, 0, 1e7, dl, &s->required_mbps);
		ok &= parse_flags(t, r, c[10], dl, &s->flags);
		/* A row with a valid id is kept even when other cells are wrong, so
		 * that links and segments naming it do not report it as unknown. */
		if (!id_ok(id))
			continue;
		if (!(s->id = strdup(id)) || !(s->name = strdup(csv_cell(t, r, c[1])))) {
			free(dnames);
			return -ENOMEM;
		}
		s->line = csv_row_line(t, r);
		int prev = strmap_put(inv->site_ids, s->id, (int)inv->nsites);
		if (prev == -2) {
			free(dnames);
			return -ENOMEM;
		}
		if (prev >= 0) {
			csv_cell_error(t, r, c[0], dl, "duplicate site id '%s' (first on line %u)",
				       id, inv->sites[prev].line);
			free(s->id);
			free(s->name);
			memset(s, 0, sizeof(*s));
			continue;
		}
		inv->nsites++;
		if (ty >= 0 && (s->flags & (SITE_F_PRIMARY | SITE_F_FALLBACK)) &&
		    ty != SITE_DATA_CENTRE)
			csv_cell_error(t, r, c[10], dl,
				       "only a data_centre can be the primary or fallback site");
		if ((s->flags & SITE_F_PRIMARY) && (s->flags & SITE_F_FALLBACK))
			csv_cell_error(t, r, c[10], dl, "a site cannot be primary and fallback");
		if (s->flags & SITE_F_PRIMARY) {
			if (primary_row >= 0)
				csv_cell_error(t, r, c[10], dl,
					       "second primary data centre (first on line %u)",
					       csv_row_line(t, (size_t)primary_row));
			else
				primary_row = (int)r, inv->primary_dc = (int)inv->nsites - 1;
		}
		if (s->flags & SITE_F_FALLBACK) {
			if (fallback_row >= 0)
				csv_cell_error(t, r, c[10], dl,
					       "second fallback data centre (first on line %u)",
					       csv_row_line(t, (size_t)fallback_row));
			else
				fallback_row = (int)r, inv->fallback_dc = (int)inv->nsites - 1;
		}
		if (!ok)
			continue;
		s->type = (enum site_type)ty;
		s->broadband = (enum broadband)bb;
		if (!in_district(inv, s->district, s->lat, s->lon))
			diag_add(dl, DIAG_WARNING, csv_table_name(t), csv_cell_line(t, r, c[4]),
				 csv_cell_col(t, r, c[4]),
				 "site '%s' lies outside the area of district '%s'", id, dn);
	}
	free(dnames);
	if (n && primary_row < 0)
		diag_add(dl, DIAG_ERROR, csv_table_name(t), 0, 0,
			 "no primary data centre (a data_centre site with flag 'primary')");
	return 0;
}

static int load_links(struct loader *ld, const struct csv_table *t)
{
	static const char *const req[] = {"id",	      "a",	 "b", "kind", "capacity_mbps",
					  "length_m", "cost_eur"};
	int c[7];
	struct inventory *inv = ld->inv;
	struct diag_list *dl = ld->dl;
	if (!csv_bind_columns(t, req, 7, NULL, 0, c, dl))
		return 0;
	bool check_sites = refs_checked(ld, ld->sites_read, t, "site", "sites.csv");
	size_t n = csv_table_nrows(t);
	inv->links = calloc(n + 1, sizeof(*inv->links));
	inv->link_ids = strmap_new(n);
	const char **ids = site_id_list(inv);
	if (!inv->links || !inv->link_ids || !ids) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t r = 0; r < n; r++) {
		struct link *l = &inv->links[inv->nlinks];
		const char *id = csv_cell(t, r, c[0]);
		bool ok = true;
		if (!id_ok(id)) {
			csv_cell_error(t, r, c[0], dl,
				       *id ? "invalid link id '%s' (1-32 of A-Z a-z 0-9 _ . -)"
					   : "missing link id%s",
				       id);
			ok = false;
		}
		for (int e = 0; e < 2; e++) {
			const char *sid = csv_cell(t, r, c[1 + e]);
			int si = inventory_find_site(inv, sid);
			if (si < 0) {
				if (!*sid)
					csv_cell_error(t, r, c[1 + e], dl, "missing endpoint '%s'",
						       e ? "b" : "a");
				else if (check_sites)
					unknown_ref(t, r, c[1 + e], dl, "site", sid, ids,
						    inv->nsites);
				ok = false;
			}
			if (e == 0)
				l->a = si;
			else
				l->b = si;
		}
		if (ok && l->a == l->b) {
			csv_cell_error(t, r, c[2], dl, "link '%s' joins site '%s' to itself", id,
				       inv->sites[l->a].id);
			ok = false;
		}
		int kind = csv_get_enum(t, r, c[3], link_kind_names, LINK_KIND_COUNT, dl);
		ok &= kind >= 0;
		ok &= csv_get_double(t, r, c[4], true, 1e-6, 1e9, dl, &l->capacity_mbps);
		ok &= csv_get_double(t, r, c[5], true, 1e-3, 1e8, dl, &l->length_m);
		l->cost_eur = 0;
		if (kind == LINK_PLANNED)
			ok &= csv_get_double(t, r, c[6], true, 1e-6, 1e12, dl, &l->cost_eur);
		else if (csv_cell_present(t, r, c[6])) {
			csv_cell_error(t, r, c[6], dl, "cost_eur is only for planned trenches");
			ok = false;
		}
		if (!ok)
			continue;
		l->kind = (enum link_kind)kind;
		l->line = csv_row_line(t, r);
		if (!(l->id = strdup(id))) {
			free(ids);
			return -ENOMEM;
		}
		int prev = strmap_put(inv->link_ids, l->id, (int)inv->nlinks);
		if (prev >= 0) {
			csv_cell_error(t, r, c[0], dl, "duplicate link id '%s' (first on line %u)",
				       id, inv->links[prev].line);
			free(l->id);
			l->id = NULL;
			continue;
		}
		inv->nlinks++;
	}
	free(ids);
	return 0;
}

/* A prefix cell: empty is fine (returns false with *present false). */
static bool get_prefix(const struct csv_table *t, size_t r, int col, uint8_t family,
		       struct diag_list *dl, struct ip_prefix *out, bool *present)
{
	const char *s = csv_cell(t, r, col);
	*present = *s != '\0';
	if (!*present)
		return true;
	int e = ip_prefix_parse(s, false, out);
	char fixed[IP_PREFIX_STRLEN];
	if (e == -EDOM) {
		ip_prefix_format(out, fixed, sizeof(fixed));
		csv_cell_error(t, r, col, dl, "'%s' has host bits set (did you mean '%s'?)", s,
			       fixed);
		return false;
	}
	if (e < 0 || (family && out->family != family)) {
		csv_cell_error(t, r, col, dl, "'%s' is not a valid %s prefix", s,
			       family == 6   ? "IPv6"
			       : family == 4 ? "IPv4"
					     : "IP");
		return false;
	}
	return true;
}

struct overlap_ctx {
	struct inventory *inv;
	struct diag_list *dl;
	const char *file;
	const struct ip_prefix *v;
	const unsigned *lines, *cols;
	const int *owner; /* segment index */
};

static void report_overlap(size_t i, size_t j, void *p)
{
	struct overlap_ctx *o = p;
	/* Report at the later line so the first definition stands. */
	if (o->lines[j] < o->lines[i]) {
		size_t k = i;
		i = j;
		j = k;
	}
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
	ip_prefix_format(&o->v[j], a, sizeof(a));
	ip_prefix_format(&o->v[i], b, sizeof(b));
	const struct segment *si = &o->inv->segments[o->owner[i]];
	diag_add(o->dl, DIAG_ERROR, o->file, o->lines[j], o->cols[j],
		 "prefix %s overlaps %s of segment '%s' at site '%s' (line %u)", a, b, si->name,
		 o->inv->sites[si->site].id, si->line);
}

static int load_segments(struct loader *ld, const struct csv_table *t)
{
	static const char *const req[] = {"site", "name", "zone", "vlan", "ipv4", "ipv6"};
	int c[6];
	struct inventory *inv = ld->inv;
	struct diag_list *dl = ld->dl;
	if (!csv_bind_columns(t, req, 6, NULL, 0, c, dl))
		return 0;
	bool check_sites = refs_checked(ld, ld->sites_read, t, "site", "sites.csv");
	size_t n = csv_table_nrows(t);
	int r_ = 0;
	inv->segments = calloc(n + 1, sizeof(*inv->segments));
	const char **ids = site_id_list(inv);
	struct ip_prefix *pv = calloc(2 * n + 1, sizeof(*pv));
	unsigned *pl = calloc(2 * n + 1, sizeof(*pl)), *pc = calloc(2 * n + 1, sizeof(*pc));
	int *po = calloc(2 * n + 1, sizeof(*po));
	/* Per-site keys "site\x1fname" and "site\x1fvlan" for uniqueness. */
	char **keys = calloc(2 * n + 1, sizeof(*keys));
	struct strmap *seen = strmap_new(2 * n);
	size_t np = 0, nkeys = 0;
	if (!inv->segments || !ids || !pv || !pl || !pc || !po || !keys || !seen) {
		r_ = -ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < n; r++) {
		struct segment *g = &inv->segments[inv->nsegments];
		const char *sid = csv_cell(t, r, c[0]);
		const char *name = csv_cell(t, r, c[1]);
		const char *zone = csv_cell(t, r, c[2]);
		bool ok = true, h4, h6;
		long vlan = 0;
		g->site = inventory_find_site(inv, sid);
		if (g->site < 0) {
			if (!*sid)
				csv_cell_error(t, r, c[0], dl, "missing value for 'site'");
			else if (check_sites)
				unknown_ref(t, r, c[0], dl, "site", sid, ids, inv->nsites);
			ok = false;
		}
		if (!*name) {
			csv_cell_error(t, r, c[1], dl, "missing value for 'name'");
			ok = false;
		}
		if (!zone_ok(zone)) {
			csv_cell_error(t, r, c[2], dl,
				       *zone ? "invalid zone name '%s' (1-32 of a-z 0-9 _ -)"
					     : "missing value for 'zone'%s",
				       zone);
			ok = false;
		} else if (!strcmp(zone, "internet") || !strcmp(zone, "unassigned") ||
			   !strcmp(zone, "city") || !strncmp(zone, "vpn-", 4)) {
			csv_cell_error(t, r, c[2], dl, "zone name '%s' is reserved", zone);
			ok = false;
		}
		ok &= csv_get_long(t, r, c[3], true, 0, 4094, dl, &vlan);
		ok &= get_prefix(t, r, c[4], 4, dl, &g->v4, &h4);
		ok &= get_prefix(t, r, c[5], 6, dl, &g->v6, &h6);
		if (ok && !h4 && !h6) {
			csv_cell_error(t, r, c[4], dl,
				       "segment '%s' has neither an IPv4 nor an IPv6 prefix", name);
			ok = false;
		}
		if (!ok)
			continue;
		g->has_v4 = h4;
		g->has_v6 = h6;
		g->vlan = (int)vlan;
		g->line = csv_row_line(t, r);
		g->col_zone = csv_cell_col(t, r, c[2]);
		g->col_v4 = csv_cell_col(t, r, c[4]);
		g->col_v6 = csv_cell_col(t, r, c[5]);
		if (!(g->name = strdup(name)) || !(g->zone = strdup(zone))) {
			r_ = -ENOMEM;
			goto out;
		}
		if (asprintf(&keys[nkeys], "%d\x1fn%s", g->site, name) < 0) {
			r_ = -ENOMEM;
			goto out;
		}
		int prev = strmap_put(seen, keys[nkeys++], (int)r);
		if (prev >= 0) {
			csv_cell_error(t, r, c[1], dl,
				       "duplicate segment '%s' at site '%s' (first on line %u)",
				       name, sid, csv_row_line(t, (size_t)prev));
			ok = false;
		}
		if (vlan) {
			if (asprintf(&keys[nkeys], "%d\x1fv%ld", g->site, vlan) < 0) {
				r_ = -ENOMEM;
				goto out;
			}
			prev = strmap_put(seen, keys[nkeys++], (int)r);
			if (prev >= 0) {
				csv_cell_error(
				    t, r, c[3], dl,
				    "VLAN %ld used twice at site '%s' (first on line %u)", vlan,
				    sid, csv_row_line(t, (size_t)prev));
				ok = false;
			}
		}
		if (!ok) {
			free(g->name);
			free(g->zone);
			memset(g, 0, sizeof(*g));
			continue;
		}
		for (int f = 0; f < 2; f++) {
			if (!(f ? h6 : h4))
				continue;
			pv[np] = f ? g->v6 : g->v4;
			pl[np] = csv_cell_line(t, r, c[4 + f]);
			pc[np] = csv_cell_col(t, r, c[4 + f]);
			po[np] = (int)inv->nsegments;
			np++;
		}
		inv->nsegments++;
	}
	struct overlap_ctx oc = {inv, dl, csv_table_name(t), pv, pl, pc, po};
	r_ = ip_prefix_find_overlaps(pv, np, report_overlap, &oc);
out:
	for (size_t i = 0; keys && i < nkeys; i++)
		free(keys[i]);
	free(keys);
	strmap_free(seen);
	free(ids);
	free(pv);
	free(pl);
	free(pc);
	free(po);
	return r_;
}

static int load_plan(struct loader *ld, const struct csv_table *t)
{
	static const char *const req[] = {"zone", "prefix"};
	int c[2];
	struct inventory *inv = ld->inv;
	struct diag_list *dl = ld->dl;
	if (!csv_bind_columns(t, req, 2, NULL, 0, c, dl))
		return 0;
	size_t n = csv_table_nrows(t);
	inv->plan = calloc(n + 1, sizeof(*inv->plan));
	struct ip_prefix *pv = calloc(n + 1, sizeof(*pv));
	unsigned *pl = calloc(n + 1, sizeof(*pl)), *pc = calloc(n + 1, sizeof(*pc));
	int r_ = 0;
	if (!inv->plan || !pv || !pl || !pc) {
		r_ = -ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < n; r++) {
		struct plan_prefix *p = &inv->plan[inv->nplan];
		const char *zone = csv_cell(t, r, c[0]);
		bool present, ok = true;
		if (!zone_ok(zone)) {
			csv_cell_error(t, r, c[0], dl, "invalid zone name '%s'", zone);
			ok = false;
		}
		ok &= get_prefix(t, r, c[1], 0, dl, &p->prefix, &present);
		if (ok && !present) {
			csv_cell_error(t, r, c[1], dl, "missing value for 'prefix'");
			ok = false;
		}
		if (!ok)
			continue;
		if (!(p->zone = strdup(zone))) {
			r_ = -ENOMEM;
			goto out;
		}
		p->line = csv_row_line(t, r);
		inv->nplan++;
	}
	/* Zone supernets and pools: inside the city, and disjoint. */
	size_t np = 0;
	for (size_t i = 0; i < inv->nplan; i++) {
		const struct plan_prefix *p = &inv->plan[i];
		if (strcmp(p->zone, "city") == 0)
			continue;
		bool covered = false;
		for (size_t k = 0; k < inv->nplan && !covered; k++)
			covered = strcmp(inv->plan[k].zone, "city") == 0 &&
				  ip_prefix_covers(&inv->plan[k].prefix, &p->prefix);
		char a[IP_PREFIX_STRLEN];
		ip_prefix_format(&p->prefix, a, sizeof(a));
		if (!covered)
			diag_add(dl, DIAG_ERROR, csv_table_name(t), p->line,
				 csv_cell_col(t, i, c[1]),
				 "%s of zone '%s' lies outside every 'city' prefix", a, p->zone);
		pv[np] = p->prefix;
		pl[np] = p->line;
		pc[np] = (unsigned)i; /* plan index, for the message */
		np++;
	}
	for (size_t i = 0; i < np; i++)
		for (size_t j = i + 1; j < np; j++)
			if (ip_prefix_overlaps(&pv[i], &pv[j])) {
				char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
				ip_prefix_format(&pv[j], a, sizeof(a));
				ip_prefix_format(&pv[i], b, sizeof(b));
				diag_add(dl, DIAG_ERROR, csv_table_name(t), pl[j], 0,
					 "%s (zone '%s') overlaps %s (zone '%s', line %u)", a,
					 inv->plan[pc[j]].zone, b, inv->plan[pc[i]].zone, pl[i]);
			}
out:
	free(pv);
	free(pl);
	free(pc);
	return r_;
}

/* With an address plan, every segment lies inside a supernet of its own zone. */
static void check_segments_in_plan(struct inventory *inv, struct diag_list *dl, const char *file)
{
	if (!inv->nplan)
		return;
	const char **zones = calloc(inv->nplan + 1, sizeof(*zones));
	for (size_t k = 0; zones && k < inv->nplan; k++)
		zones[k] = inv->plan[k].zone;
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		bool has_zone = false;
		for (int f = 0; f < 2; f++) {
			if (!(f ? g->has_v6 : g->has_v4))
				continue;
			const struct ip_prefix *p = f ? &g->v6 : &g->v4;
			bool inside = false;
			for (size_t k = 0; k < inv->nplan && !inside; k++) {
				if (strcmp(inv->plan[k].zone, g->zone) != 0)
					continue;
				has_zone = true;
				inside = ip_prefix_covers(&inv->plan[k].prefix, p);
			}
			if (!has_zone) {
				const char *s =
				    zones ? diag_suggest(g->zone, zones, inv->nplan) : NULL;
				diag_add(dl, DIAG_ERROR, file, g->line, g->col_zone,
					 "zone '%s' has no supernet in addressplan.csv%s%s%s",
					 g->zone, s ? " (did you mean '" : "", s ? s : "",
					 s ? "'?)" : "");
				break;
			}
			if (!inside) {
				char a[IP_PREFIX_STRLEN];
				ip_prefix_format(p, a, sizeof(a));
				diag_add(
				    dl, DIAG_ERROR, file, g->line, f ? g->col_v6 : g->col_v4,
				    "%s of segment '%s' lies outside the supernets of zone '%s'", a,
				    g->name, g->zone);
			}
		}
	}
	free(zones);
}

int inventory_find_site(const struct inventory *inv, const char *id)
{
	return inv->site_ids ? strmap_get(inv->site_ids, id) : -1;
}

int inventory_find_link(const struct inventory *inv, const char *id)
{
	return inv->link_ids ? strmap_get(inv->link_ids, id) : -1;
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->ndistricts; i++)
		free(inv->districts[i].name);
	for (size_t i = 0; i < inv->nsites; i++) {
		free(inv->sites[i].id);
		free(inv->sites[i].name);
	}
	for (size_t i = 0; i < inv->nlinks; i++)
		free(inv->links[i].id);
	for (size_t i = 0; i < inv->nsegments; i++) {
		free(inv->segments[i].name);
		free(inv->segments[i].zone);
	}
	for (size_t i = 0; i < inv->nplan; i++)
		free(inv->plan[i].zone);
	free(inv->districts);
	free(inv->sites);
	free(inv->links);
	free(inv->segments);
	free(inv->plan);
	strmap_free(inv->site_ids);
	strmap_free(inv->link_ids);
	free(inv->dir);
	free(inv);
}

typedef int (*table_loader)(struct loader *, const struct csv_table *);

int inventory_load(const char *dir, struct diag_list *dl, struct inventory **out)
{
	static const struct {
		const char *file;
		table_loader load;
		bool required;
	} files[] = {
	    {"districts.csv", load_districts, true}, {"sites.csv", load_sites, true},
	    {"links.csv", load_links, true},	     {"addressplan.csv", load_plan, false},
	    {"segments.csv", load_segments, true},
	};
	*out = NULL;
	struct inventory *inv = calloc(1, sizeof(*inv));
	struct loader ld = {.inv = inv, .dl = dl};
	size_t errors_before = diag_errors(dl);
	int r = 0;
	if (!inv || !(inv->dir = strdup(dir))) {
		r = -ENOMEM;
		goto out;
	}
	inv->primary_dc = inv->fallback_dc = -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = join(dir, files[i].file);
		struct csv_table *t = NULL;
		if (!path) {
			r = -ENOMEM;
			goto out;
		}
		if (!files[i].required && access(path, F_OK) != 0) {
			free(path);
			continue;
		}
		int e = csv_table_read(path, NULL, dl, &t);
		if (e == 0) {
			e = files[i].load(&ld, t);
			if (e == 0 && files[i].load == load_segments)
				check_segments_in_plan(inv, dl, csv_table_name(t));
		}
		csv_table_free(t);
		free(path);
		if (e == -ENOMEM) {
			r = e;
			goto out;
		}
	}
	if (diag_errors(dl) > errors_before)
		r = -EINVAL;
out:
	strmap_free(ld.districts);
	if (r < 0) {
		inventory_free(inv);
		return r;
	}
	*out = inv;
	return 0;
}
