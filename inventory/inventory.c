// SPDX-License-Identifier: MIT
#include "inventory/inventory.h"

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
const char *const iface_role_names[IFACE_ROLE_COUNT] = {"segment", "uplink", "transfer"};

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
	bool districts_read, sites_read, segments_read;
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

/* 1 to max characters of A-Z a-z 0-9 _ . - */
static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n && n <= max &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static bool id_ok(const char *s)
{
	return name_ok(s, 32);
}

/* Linux interface names: at most IFNAMSIZ - 1 = 15 bytes; the kernel refuses
 * '.', '..', '/', ':' and whitespace (dev_valid_name); 'lo' is the loopback. */
static bool ifname_ok(const char *s)
{
	return name_ok(s, 15) && strcmp(s, "lo") != 0 && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

/* 1 to max bytes of a-z 0-9 and the characters of punct. */
static bool lower_name_ok(const char *s, size_t n, size_t max, const char *punct)
{
	if (!n || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] && strchr(punct, s[i]))))
			return false;
	return true;
}

static bool zone_ok(const char *s)
{
	return lower_name_ok(s, strlen(s), 32, "_-");
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
	ld->segments_read = true;
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

/* --- interfaces.csv --- */

/* The column of a byte offset inside a cell (for errors at one value of a list). */
static unsigned cell_col_at(const struct csv_table *t, size_t r, int col, size_t off)
{
	return csv_cell_col(t, r, col) + (unsigned)utf8_count(csv_cell(t, r, col), off);
}

/*
 * "ADDR/LEN" of one family with host bits allowed: the gateway's address and
 * its subnet. Empty is fine (*present false).
 */
static bool get_ifaddr(const struct csv_table *t, size_t r, int col, uint8_t family,
		       struct diag_list *dl, struct ip_addr *addr, struct ip_prefix *net,
		       bool *present)
{
	const char *s = csv_cell(t, r, col), *slash = strchr(s, '/');
	char a[IP_PREFIX_STRLEN];
	size_t n = slash ? (size_t)(slash - s) : 0;
	int e = -EINVAL;
	*present = *s != '\0';
	if (!*present)
		return true;
	if (slash && n < sizeof(a)) {
		memcpy(a, s, n);
		a[n] = '\0';
		e = ip_addr_parse(a, addr);
		if (e == 0)
			e = ip_prefix_parse(s, false, net);
	}
	if ((e < 0 && e != -EDOM) || addr->family != family) {
		csv_cell_error(t, r, col, dl,
			       "'%s' is not an IPv%d address with a prefix length (like %s)", s,
			       family, family == 4 ? "10.0.0.1/24" : "fd00::1/64");
		return false;
	}
	return true;
}

/* "yes", "no" or empty (= no). */
static bool get_yesno(const struct csv_table *t, size_t r, int col, struct diag_list *dl, bool *out)
{
	static const char *const yn[] = {"no", "yes"};
	const char *s = csv_cell(t, r, col);
	*out = strcmp(s, "yes") == 0;
	if (!*s || *out || strcmp(s, "no") == 0)
		return true;
	const char *sug = diag_suggest(s, yn, 2);
	csv_cell_error(t, r, col, dl, "'%s' is not 'yes' or 'no' (column '%s')%s%s%s", s,
		       csv_table_header(t, (size_t)col), sug ? " (did you mean '" : "",
		       sug ? sug : "", sug ? "'?)" : "");
	return false;
}

/*
 * ';'-separated host addresses, each bad one an error at its value. Returns
 * 0, -EINVAL (reported) or -ENOMEM; *out is NULL when there are none.
 */
static int get_addr_list(const struct csv_table *t, size_t r, int col, struct diag_list *dl,
			 struct ip_addr **out, size_t *nout)
{
	const char *cell = csv_cell(t, r, col);
	size_t cap = 1;
	int ret = 0;
	*out = NULL;
	*nout = 0;
	if (!*cell)
		return 0;
	for (const char *p = cell; *p; p++)
		cap += *p == ';';
	if (!(*out = calloc(cap, sizeof(**out))))
		return -ENOMEM;
	for (const char *s = cell; *s;) {
		size_t n = strcspn(s, ";");
		char word[IP_PREFIX_STRLEN];
		bool ok = n < sizeof(word);
		if (ok) {
			memcpy(word, s, n);
			word[n] = '\0';
			ok = ip_addr_parse(word, &(*out)[*nout]) == 0;
		}
		if (ok)
			(*nout)++;
		else if (n) {
			diag_add(dl, DIAG_ERROR, csv_table_name(t), csv_cell_line(t, r, col),
				 cell_col_at(t, r, col, (size_t)(s - cell)),
				 "'%.*s' is not an IP address (column '%s')", (int)n, s,
				 csv_table_header(t, (size_t)col));
			ret = -EINVAL;
		}
		s += n;
		if (*s == ';')
			s++;
	}
	return ret;
}

/* A segment prefix and its segment, sorted for the overlap lookups of uplink nets. */
struct seg_net {
	struct ip_prefix p;
	int seg;
};

static int seg_net_cmp(const void *a, const void *b)
{
	const struct seg_net *x = a, *y = b;
	int c = ip_prefix_cmp(&x->p, &y->p);
	return c ? c : x->seg - y->seg;
}

/*
 * A segment that net overlaps, or -1. Segments do not overlap each other
 * (load_segments), so only the neighbours of net's place in the sorted
 * array can: the one before may cover it, the one after may lie inside it.
 */
static int seg_overlapping(const struct seg_net *v, size_t n, const struct ip_prefix *net)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ip_prefix_cmp(&v[mid].p, net) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && ip_prefix_overlaps(&v[lo].p, net))
		return v[lo].seg;
	if (lo > 0 && ip_prefix_overlaps(&v[lo - 1].p, net))
		return v[lo - 1].seg;
	return -1;
}

/* What load_ifaces learns per site and per segment for the checks across rows. */
struct iface_check {
	size_t *site_row;      /* first row of the site, SIZE_MAX: none */
	bool *site_wan;	       /* has an uplink or transfer interface */
	unsigned *site_warned; /* SITE_F_OSPF, _VRRP, _BGP: disagreement already reported */
	size_t *seg_row;       /* the row of the segment's interface, SIZE_MAX: none */
	struct seg_net *nets;
	size_t nnets;
	struct strmap *segs, *names; /* "site\x1fname" -> segment; -> row */
	char **keys;
	size_t nkeys;
};

static void iface_check_free(struct iface_check *k)
{
	free(k->site_row);
	free(k->site_wan);
	free(k->site_warned);
	free(k->seg_row);
	free(k->nets);
	strmap_free(k->segs);
	strmap_free(k->names);
	for (size_t i = 0; k->keys && i < k->nkeys; i++)
		free(k->keys[i]);
	free(k->keys);
}

/* Every segment prefix, sorted for seg_overlapping; NULL on out-of-memory. */
static struct seg_net *seg_nets_new(const struct inventory *inv, size_t *n)
{
	struct seg_net *v = malloc((2 * inv->nsegments + 1) * sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		if (g->has_v4)
			v[(*n)++] = (struct seg_net){g->v4, (int)i};
		if (g->has_v6)
			v[(*n)++] = (struct seg_net){g->v6, (int)i};
	}
	qsort(v, *n, sizeof(*v), seg_net_cmp);
	return v;
}

static int iface_check_init(struct iface_check *k, const struct inventory *inv, size_t nrows)
{
	size_t ns = inv->nsites, ng = inv->nsegments;
	memset(k, 0, sizeof(*k));
	k->site_row = malloc((ns + 1) * sizeof(*k->site_row));
	k->site_wan = calloc(ns + 1, sizeof(*k->site_wan));
	k->site_warned = calloc(ns + 1, sizeof(*k->site_warned));
	k->seg_row = malloc((ng + 1) * sizeof(*k->seg_row));
	k->nets = seg_nets_new(inv, &k->nnets);
	k->segs = strmap_new(ng);
	k->names = strmap_new(nrows);
	k->keys = calloc(ng + nrows + 1, sizeof(*k->keys));
	if (!k->site_row || !k->site_wan || !k->site_warned || !k->seg_row || !k->nets ||
	    !k->segs || !k->names || !k->keys)
		return -ENOMEM;
	for (size_t i = 0; i < ns; i++)
		k->site_row[i] = SIZE_MAX;
	for (size_t i = 0; i < ng; i++) {
		const struct segment *g = &inv->segments[i];
		k->seg_row[i] = SIZE_MAX;
		if (asprintf(&k->keys[k->nkeys], "%d\x1f%s", g->site, g->name) < 0)
			return -ENOMEM;
		if (strmap_put(k->segs, k->keys[k->nkeys++], (int)i) == -2)
			return -ENOMEM;
	}
	return 0;
}

/* The segment column of a row: its segment index, -1 when none or in error,
 * -ENOMEM. */
static int iface_segment(const struct loader *ld, struct iface_check *k, const struct csv_table *t,
			 size_t r, int col, int site, int role, bool check)
{
	const struct inventory *inv = ld->inv;
	const char *name = csv_cell(t, r, col);
	if (role != IFACE_SEGMENT) {
		if (*name && role >= 0)
			csv_cell_error(t, r, col, ld->dl, "'segment' must be empty for role '%s'",
				       iface_role_names[role]);
		return -1;
	}
	if (!*name) {
		csv_cell_error(t, r, col, ld->dl,
			       "missing value for 'segment' (required for role 'segment')");
		return -1;
	}
	if (site < 0 || !check)
		return -1;
	char *key;
	if (asprintf(&key, "%d\x1f%s", site, name) < 0)
		return -ENOMEM;
	int g = strmap_get(k->segs, key);
	free(key);
	if (g < 0) {
		const char **names = calloc(inv->nsegments + 1, sizeof(*names));
		size_t n = 0;
		for (size_t i = 0; names && i < inv->nsegments; i++)
			if (inv->segments[i].site == site)
				names[n++] = inv->segments[i].name;
		const char *s = names ? diag_suggest(name, names, n) : NULL;
		csv_cell_error(t, r, col, ld->dl, "site '%s' has no segment '%s'%s%s%s",
			       inv->sites[site].id, name, s ? " (did you mean '" : "", s ? s : "",
			       s ? "'?)" : "");
		free(names);
		return -1;
	}
	if (k->seg_row[g] != SIZE_MAX) {
		csv_cell_error(
		    t, r, col, ld->dl,
		    "segment '%s' of site '%s' has a second interface (first on line %u)", name,
		    inv->sites[site].id, csv_row_line(t, k->seg_row[g]));
		return -1;
	}
	k->seg_row[g] = r;
	return g;
}

/* A segment interface's address: in the segment's prefix, with its length. */
static bool iface_addr_in_segment(const struct csv_table *t, size_t r, int col,
				  struct diag_list *dl, const struct segment *g, int family,
				  bool present, const struct ip_addr *a,
				  const struct ip_prefix *net)
{
	bool has = family == 4 ? g->has_v4 : g->has_v6;
	const struct ip_prefix *p = family == 4 ? &g->v4 : &g->v6;
	char ps[IP_PREFIX_STRLEN];
	if (!has && !present)
		return true;
	if (!has) {
		csv_cell_error(t, r, col, dl,
			       "segment '%s' has no IPv%d prefix: leave 'ipv%d' empty", g->name,
			       family, family);
		return false;
	}
	ip_prefix_format(p, ps, sizeof(ps));
	if (!present) {
		csv_cell_error(t, r, col, dl, "missing IPv%d address: segment '%s' has %s", family,
			       g->name, ps);
		return false;
	}
	if (!ip_prefix_contains(p, a) || net->len != p->len) {
		csv_cell_error(t, r, col, dl, "'%s' is not an address of segment '%s' (%s)",
			       csv_cell(t, r, col), g->name, ps);
		return false;
	}
	return true;
}

/* Warns once per site and kind when a row and the site's flags disagree. */
static void iface_flag(const struct loader *ld, struct iface_check *k, const struct csv_table *t,
		       size_t r, int col, int site, const char *ifname, unsigned flag,
		       const char *flag_name, const char *what)
{
	const struct site *s = &ld->inv->sites[site];
	if ((s->flags & flag) || (k->site_warned[site] & flag))
		return;
	k->site_warned[site] |= flag;
	diag_add(ld->dl, DIAG_WARNING, csv_table_name(t), csv_cell_line(t, r, col),
		 csv_cell_col(t, r, col),
		 "interface '%s' %s but site '%s' has no '%s' flag (sites.csv line %u)", ifname,
		 what, s->id, flag_name, s->line);
}

/* The checks across rows: every segment of a site with rows has its interface. */
static void iface_check_sites(const struct loader *ld, const struct iface_check *k,
			      const struct csv_table *t)
{
	const struct inventory *inv = ld->inv;
	const char *file = csv_table_name(t);
	size_t without = 0;
	char list[200] = "";
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		size_t r = k->site_row[g->site];
		if (r != SIZE_MAX && k->seg_row[i] == SIZE_MAX)
			diag_add(ld->dl, DIAG_ERROR, file, csv_row_line(t, r), 1,
				 "site '%s' has no interface for segment '%s' (segments.csv line "
				 "%u)",
				 inv->sites[g->site].id, g->name, g->line);
	}
	for (size_t s = 0; s < inv->nsites; s++) {
		size_t r = k->site_row[s];
		if (r == SIZE_MAX) {
			size_t n = strlen(list);
			if (without < 5)
				snprintf(list + n, sizeof(list) - n, "%s%s", without ? ", " : "",
					 inv->sites[s].id);
			else if (without == 5)
				snprintf(list + n, sizeof(list) - n, ", ...");
			without++;
		} else if (!k->site_wan[s]) {
			diag_add(ld->dl, DIAG_WARNING, file, csv_row_line(t, r), 1,
				 "site '%s' has no uplink or transfer interface", inv->sites[s].id);
		}
	}
	if (without == 1)
		diag_add(ld->dl, DIAG_WARNING, file, 0, 0,
			 "1 site has no interfaces (%s): its gateway keeps the plain reverse-path "
			 "check",
			 list);
	else if (without)
		diag_add(ld->dl, DIAG_WARNING, file, 0, 0,
			 "%zu sites have no interfaces (%s): their gateways keep the plain "
			 "reverse-path check",
			 without, list);
}

static int load_ifaces(struct loader *ld, const struct csv_table *t)
{
	static const char *const req[] = {"site", "name", "role", "segment",   "vlan",	    "ipv4",
					  "ipv6", "ospf", "vrrp", "bgp_peers", "vrrp_peers"};
	enum { C_SITE, C_NAME, C_ROLE, C_SEG, C_VLAN, C_V4, C_V6, C_OSPF, C_VRRP, C_BGP, C_VRRPP };
	int c[11];
	struct inventory *inv = ld->inv;
	struct diag_list *dl = ld->dl;
	struct iface_check k;
	int r_ = 0;
	inv->has_ifaces = true;
	memset(&k, 0, sizeof(k));
	if (!csv_bind_columns(t, req, 11, NULL, 0, c, dl))
		return 0;
	bool check_sites = refs_checked(ld, ld->sites_read, t, "site", "sites.csv");
	bool check_segs =
	    check_sites && refs_checked(ld, ld->segments_read, t, "segment", "segments.csv");
	size_t n = csv_table_nrows(t);
	const char **ids = site_id_list(inv);
	inv->ifaces = calloc(n + 1, sizeof(*inv->ifaces));
	if (!ids || !inv->ifaces || iface_check_init(&k, inv, n) < 0) {
		r_ = -ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < n; r++) {
		struct iface *f = &inv->ifaces[inv->nifaces];
		const char *sid = csv_cell(t, r, c[C_SITE]), *name = csv_cell(t, r, c[C_NAME]);
		bool ok = true;
		long vlan = 0;
		memset(f, 0, sizeof(*f));
		f->site = inventory_find_site(inv, sid);
		if (f->site < 0) {
			if (!*sid)
				csv_cell_error(t, r, c[C_SITE], dl, "missing value for 'site'");
			else if (check_sites)
				unknown_ref(t, r, c[C_SITE], dl, "site", sid, ids, inv->nsites);
			ok = false;
		} else if (k.site_row[f->site] == SIZE_MAX) {
			k.site_row[f->site] = r;
		}
		if (!ifname_ok(name)) {
			csv_cell_error(t, r, c[C_NAME], dl,
				       *name ? "invalid interface name '%s' (1-15 of A-Z a-z 0-9 _ "
					       ". -, not 'lo', '.' or '..')"
					     : "missing value for 'name'%s",
				       name);
			ok = false;
		} else if (f->site >= 0) {
			if (asprintf(&k.keys[k.nkeys], "%d\x1f%s", f->site, name) < 0) {
				r_ = -ENOMEM;
				goto out;
			}
			int prev = strmap_put(k.names, k.keys[k.nkeys++], (int)r);
			if (prev == -2) {
				r_ = -ENOMEM;
				goto out;
			}
			if (prev >= 0) {
				csv_cell_error(t, r, c[C_NAME], dl,
					       "duplicate interface '%s' at site '%s' (first on "
					       "line %u)",
					       name, sid, csv_row_line(t, (size_t)prev));
				ok = false;
			}
		}
		int role = csv_get_enum(t, r, c[C_ROLE], iface_role_names, IFACE_ROLE_COUNT, dl);
		ok &= role >= 0;
		f->segment = iface_segment(ld, &k, t, r, c[C_SEG], f->site, role, check_segs);
		if (f->segment == -ENOMEM) {
			r_ = -ENOMEM;
			goto out;
		}
		if (role == IFACE_SEGMENT && f->segment < 0)
			ok = false;
		else if (role != IFACE_SEGMENT && csv_cell_present(t, r, c[C_SEG]))
			ok = false;
		bool vlan_ok = csv_get_long(t, r, c[C_VLAN], false, 0, 4094, dl, &vlan);
		bool a4 = get_ifaddr(t, r, c[C_V4], 4, dl, &f->addr4, &f->net4, &f->has_v4);
		bool a6 = get_ifaddr(t, r, c[C_V6], 6, dl, &f->addr6, &f->net6, &f->has_v6);
		ok &= vlan_ok && a4 && a6;
		if (f->segment >= 0) {
			const struct segment *g = &inv->segments[f->segment];
			if (vlan_ok && vlan != g->vlan) {
				csv_cell_error(t, r, c[C_VLAN], dl,
					       "VLAN %ld differs from VLAN %d of segment '%s'",
					       vlan, g->vlan, g->name);
				ok = false;
			}
			if (a4)
				ok &= iface_addr_in_segment(t, r, c[C_V4], dl, g, 4, f->has_v4,
							    &f->addr4, &f->net4);
			if (a6)
				ok &= iface_addr_in_segment(t, r, c[C_V6], dl, g, 6, f->has_v6,
							    &f->addr6, &f->net6);
		}
		if (role == IFACE_UPLINK || role == IFACE_TRANSFER) {
			if (f->site >= 0)
				k.site_wan[f->site] = true;
			for (int fam = 0; fam < 2; fam++) {
				const struct ip_prefix *p = fam ? &f->net6 : &f->net4;
				bool valid = fam ? a6 && f->has_v6 : a4 && f->has_v4;
				int g = valid ? seg_overlapping(k.nets, k.nnets, p) : -1;
				if (g < 0)
					continue;
				const struct segment *sg = &inv->segments[g];
				char ps[IP_PREFIX_STRLEN];
				ip_prefix_format(fam ? &sg->v6 : &sg->v4, ps, sizeof(ps));
				csv_cell_error(t, r, c[fam ? C_V6 : C_V4], dl,
					       "'%s' overlaps %s of segment '%s' at site '%s' "
					       "(segments.csv line %u)",
					       csv_cell(t, r, c[fam ? C_V6 : C_V4]), ps, sg->name,
					       inv->sites[sg->site].id, sg->line);
				ok = false;
			}
		}
		ok &= get_yesno(t, r, c[C_OSPF], dl, &f->ospf);
		ok &= get_yesno(t, r, c[C_VRRP], dl, &f->vrrp);
		int e = get_addr_list(t, r, c[C_BGP], dl, &f->bgp_peers, &f->nbgp_peers);
		int e2 = get_addr_list(t, r, c[C_VRRPP], dl, &f->vrrp_peers, &f->nvrrp_peers);
		if (e == -ENOMEM || e2 == -ENOMEM) {
			r_ = -ENOMEM;
			free(f->bgp_peers);
			free(f->vrrp_peers);
			goto out;
		}
		ok &= e == 0 && e2 == 0;
		if (f->site >= 0) {
			if (f->ospf)
				iface_flag(ld, &k, t, r, c[C_OSPF], f->site, name, SITE_F_OSPF,
					   "ospf", "runs OSPF");
			if (f->vrrp)
				iface_flag(ld, &k, t, r, c[C_VRRP], f->site, name, SITE_F_VRRP,
					   "vrrp", "runs VRRP");
			if (f->nbgp_peers)
				iface_flag(ld, &k, t, r, c[C_BGP], f->site, name, SITE_F_BGP, "bgp",
					   "has BGP peers");
		}
		if (!ok || !(f->name = strdup(name))) {
			free(f->bgp_peers);
			free(f->vrrp_peers);
			memset(f, 0, sizeof(*f));
			if (ok) {
				r_ = -ENOMEM;
				goto out;
			}
			continue;
		}
		f->role = (enum iface_role)role;
		f->vlan = (int)vlan;
		f->line = csv_row_line(t, r);
		inv->nifaces++;
	}
	if (check_segs)
		iface_check_sites(ld, &k, t);
out:
	iface_check_free(&k);
	free(ids);
	return r_;
}

/* Orders the interfaces by site (stable: file order within a site) and
 * indexes them; without interfaces.csv every site has none. */
static int index_ifaces(struct inventory *inv)
{
	size_t *start = calloc(inv->nsites + 2, sizeof(*start));
	struct iface *v = calloc(inv->nifaces + 1, sizeof(*v));
	if (!start || !v) {
		free(start);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < inv->nifaces; i++)
		start[inv->ifaces[i].site + 2]++;
	for (size_t s = 0; s < inv->nsites; s++)
		start[s + 2] += start[s + 1];
	for (size_t i = 0; i < inv->nifaces; i++)
		v[start[inv->ifaces[i].site + 1]++] = inv->ifaces[i];
	free(inv->ifaces);
	inv->ifaces = v;
	inv->iface_start = start;
	return 0;
}

/* --- hosts.csv --- */

#define HOST_NAME_MAX_LEN 63
#define LABEL_MAX_LEN	  48

/* The number of words in a space-separated list. */
static size_t count_words(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s != ' ' && (s[1] == ' ' || s[1] == '\0');
	return n;
}

/* The next word of a space-separated list at or after *pos, or false at the end. */
static bool next_word(const char *cell, size_t *pos, size_t *off, size_t *len)
{
	while (cell[*pos] == ' ')
		(*pos)++;
	if (!cell[*pos])
		return false;
	*off = *pos;
	*len = strcspn(cell + *pos, " ");
	*pos += *len;
	return true;
}

/* An address as written in hosts.csv: a host prefix without its length. */
static void host_addr_text(const struct ip_prefix *p, char *buf, size_t size)
{
	ip_prefix_format(p, buf, size);
	if (p->len == ip_family_bits(p->family))
		*strchr(buf, '/') = '\0';
}

/* One address of a host, and where it stands (the name is the table's cell). */
struct host_addr_ref {
	const char *host; /* NULL: a gateway interface's own address */
	const struct iface *iface;
	unsigned line, col;
};

/* What load_hosts needs across rows. */
struct host_check {
	struct seg_net *nets; /* segment prefixes, sorted */
	size_t nnets;
	struct strmap *names;	 /* name -> row */
	const char **ids;	 /* site ids, for suggestions */
	struct ip_prefix *addrs; /* every address of every row, and the gateways' */
	struct host_addr_ref *refs;
	size_t naddrs;
	size_t *offs; /* the current row's addresses: byte offsets in the cell */
};

static void host_check_free(struct host_check *k)
{
	free(k->nets);
	strmap_free(k->names);
	free(k->ids);
	free(k->addrs);
	free(k->refs);
	free(k->offs);
}

static int host_check_init(struct host_check *k, const struct inventory *inv,
			   const struct csv_table *t, int addr_col)
{
	size_t n = csv_table_nrows(t), words = 0, most = 0;
	for (size_t r = 0; r < n; r++) {
		size_t w = count_words(csv_cell(t, r, addr_col));
		words += w;
		most = w > most ? w : most;
	}
	memset(k, 0, sizeof(*k));
	k->nets = seg_nets_new(inv, &k->nnets);
	k->names = strmap_new(n);
	k->ids = site_id_list(inv);
	k->addrs = malloc((words + 2 * inv->nifaces + 1) * sizeof(*k->addrs));
	k->refs = malloc((words + 2 * inv->nifaces + 1) * sizeof(*k->refs));
	k->offs = malloc((most + 1) * sizeof(*k->offs));
	if (!k->nets || !k->names || !k->ids || !k->addrs || !k->refs || !k->offs)
		return -ENOMEM;
	/* The gateways' own addresses: a host must not take one. */
	for (size_t i = 0; i < inv->nifaces; i++) {
		const struct iface *f = &inv->ifaces[i];
		for (int fam = 0; fam < 2; fam++) {
			if (!(fam ? f->has_v6 : f->has_v4))
				continue;
			struct ip_prefix *p = &k->addrs[k->naddrs];
			p->family = fam ? 6 : 4;
			p->len = (uint8_t)ip_family_bits(p->family);
			memcpy(p->b, (fam ? &f->addr6 : &f->addr4)->b, sizeof(p->b));
			k->refs[k->naddrs++] = (struct host_addr_ref){NULL, f, f->line, 0};
		}
	}
	return 0;
}

/*
 * The addresses column: space-separated addresses and prefixes (host bits
 * zero), at least one; each bad one is an error at its value. Fills h->addrs
 * and k->offs. Returns 0, -EINVAL (reported) or -ENOMEM.
 */
static int get_host_addrs(const struct csv_table *t, size_t r, int col, struct diag_list *dl,
			  struct host_check *k, struct host *h)
{
	const char *cell = csv_cell(t, r, col);
	size_t cap = count_words(cell), pos = 0, off, n;
	int ret = 0;
	if (!cap) {
		csv_cell_error(t, r, col, dl,
			       "missing value for 'addresses' (at least one address)");
		return -EINVAL;
	}
	if (!(h->addrs = calloc(cap, sizeof(*h->addrs))))
		return -ENOMEM;
	while (next_word(cell, &pos, &off, &n)) {
		char word[IP_PREFIX_STRLEN], fixed[IP_PREFIX_STRLEN];
		struct ip_prefix *p = &h->addrs[h->naddrs];
		int e = -EINVAL;
		if (n < sizeof(word)) {
			memcpy(word, cell + off, n);
			word[n] = '\0';
			e = ip_prefix_parse(word, true, p);
		}
		if (e == 0) {
			k->offs[h->naddrs++] = off;
			continue;
		}
		ret = -EINVAL;
		unsigned at = cell_col_at(t, r, col, off);
		if (e == -EDOM) {
			ip_prefix_format(p, fixed, sizeof(fixed));
			diag_add(dl, DIAG_ERROR, csv_table_name(t), csv_cell_line(t, r, col), at,
				 "'%s' has host bits set (did you mean '%s'?)", word, fixed);
		} else {
			bool sep = memchr(cell + off, ',', n) || memchr(cell + off, ';', n);
			diag_add(dl, DIAG_ERROR, csv_table_name(t), csv_cell_line(t, r, col), at,
				 "'%.*s' is not an IP address or prefix%s", (int)n, cell + off,
				 sep ? " (separate addresses with spaces)" : "");
		}
	}
	return ret;
}

struct label_at {
	struct host_label l;
	size_t off;
};

static int label_at_cmp(const void *a, const void *b)
{
	const struct label_at *x = a, *y = b;
	int c = strcmp(x->l.key, y->l.key);
	if (!c)
		c = strcmp(x->l.value, y->l.value);
	return c ? c : (x->off > y->off) - (x->off < y->off);
}

/*
 * The labels column: space-separated key=value pairs, kept sorted by key and
 * value; a key may have several values, an exact pair only once. Returns 0,
 * -EINVAL (reported) or -ENOMEM.
 */
static int get_host_labels(const struct csv_table *t, size_t r, int col, struct diag_list *dl,
			   struct host *h)
{
	const char *cell = csv_cell(t, r, col), *file = csv_table_name(t);
	size_t cap = count_words(cell), pos = 0, off, n, nv = 0;
	unsigned line = csv_cell_line(t, r, col);
	int ret = 0;
	if (!cap)
		return 0;
	struct label_at *v = calloc(cap, sizeof(*v));
	if (!v || !(h->labels = calloc(cap, sizeof(*h->labels)))) {
		free(v);
		return -ENOMEM;
	}
	while (next_word(cell, &pos, &off, &n)) {
		const char *w = cell + off, *eq = memchr(w, '=', n);
		size_t kn = eq ? (size_t)(eq - w) : 0;
		if (!eq || !lower_name_ok(w, kn, LABEL_MAX_LEN, "_-.") ||
		    !lower_name_ok(eq + 1, n - kn - 1, LABEL_MAX_LEN, "_-.")) {
			diag_add(dl, DIAG_ERROR, file, line, cell_col_at(t, r, col, off),
				 "invalid label '%.*s' (key=value, each 1-%d of a-z 0-9 _ - .)",
				 (int)n, w, LABEL_MAX_LEN);
			ret = -EINVAL;
			continue;
		}
		v[nv].off = off;
		v[nv].l.key = strndup(w, kn);
		v[nv].l.value = strndup(eq + 1, n - kn - 1);
		if (!v[nv].l.key || !v[nv].l.value) {
			free(v[nv].l.key);
			free(v[nv].l.value);
			ret = -ENOMEM;
			break;
		}
		nv++;
	}
	qsort(v, nv, sizeof(*v), label_at_cmp);
	for (size_t i = 0; i < nv; i++) {
		const struct host_label *last = h->nlabels ? &h->labels[h->nlabels - 1] : NULL;
		if (last && !strcmp(last->key, v[i].l.key) && !strcmp(last->value, v[i].l.value)) {
			if (ret != -ENOMEM)
				diag_add(dl, DIAG_ERROR, file, line,
					 cell_col_at(t, r, col, v[i].off),
					 "duplicate label '%s=%s'", v[i].l.key, v[i].l.value);
			ret = ret ? ret : -EINVAL;
			free(v[i].l.key);
			free(v[i].l.value);
			continue;
		}
		h->labels[h->nlabels++] = v[i].l;
	}
	free(v);
	return ret;
}

/* The site's segment prefixes of one family, "name prefix, ..." (at most eight). */
static size_t site_nets_text(const struct inventory *inv, int site, uint8_t family, char *buf,
			     size_t size)
{
	size_t k = 0, len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *g = &inv->segments[i];
		if (g->site != site || !(family == 4 ? g->has_v4 : g->has_v6))
			continue;
		char p[IP_PREFIX_STRLEN];
		ip_prefix_format(family == 4 ? &g->v4 : &g->v6, p, sizeof(p));
		if (k < 8 && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s %s", k ? ", " : "",
						g->name, p);
		else if (k == 8 && len < size)
			len += (size_t)snprintf(buf + len, size - len, ", ...");
		k++;
	}
	return k;
}

/*
 * A host address and the segments: with a site, it lies inside a segment of
 * that site (an error otherwise); without one, inside no segment of any site
 * (a warning: the host belongs to that site).
 */
static bool host_addr_placed(const struct loader *ld, const struct host_check *k,
			     const struct csv_table *t, size_t r, int col, size_t off,
			     const char *name, int site, const struct ip_prefix *p)
{
	const struct inventory *inv = ld->inv;
	int gi = seg_overlapping(k->nets, k->nnets, p);
	const struct segment *g = gi >= 0 ? &inv->segments[gi] : NULL;
	const struct ip_prefix *gp = g ? (p->family == 4 ? &g->v4 : &g->v6) : NULL;
	bool inside = g && ip_prefix_covers(gp, p);
	char a[IP_PREFIX_STRLEN], nets[512], other[200] = "";
	unsigned line = csv_cell_line(t, r, col), at = cell_col_at(t, r, col, off);
	host_addr_text(p, a, sizeof(a));
	if (site < 0) {
		if (g)
			diag_add(ld->dl, DIAG_WARNING, csv_table_name(t), line, at,
				 "host '%s' has no site but %s %s segment '%s' of site '%s' (add "
				 "site '%s')",
				 name, a, inside ? "lies in" : "overlaps", g->name,
				 inv->sites[g->site].id, inv->sites[g->site].id);
		return true;
	}
	if (inside && g->site == site)
		return true;
	if (g && g->site != site)
		snprintf(other, sizeof(other), "; it %s segment '%s' of site '%s'",
			 inside ? "lies in" : "overlaps", g->name, inv->sites[g->site].id);
	if (site_nets_text(inv, site, p->family, nets, sizeof(nets)))
		diag_add(ld->dl, DIAG_ERROR, csv_table_name(t), line, at,
			 "%s is not inside a segment of site '%s' (its IPv%d segments: %s)%s", a,
			 inv->sites[site].id, p->family, nets, other);
	else
		diag_add(ld->dl, DIAG_ERROR, csv_table_name(t), line, at,
			 "%s: site '%s' has no IPv%d segment%s", a, inv->sites[site].id, p->family,
			 other);
	return false;
}

struct host_overlap_ctx {
	const struct inventory *inv;
	struct diag_list *dl;
	const char *file;
	const struct host_check *k;
};

/* Two hosts (or a host and a gateway) sharing addresses: reported at the later host. */
static void report_host_overlap(size_t i, size_t j, void *p)
{
	struct host_overlap_ctx *o = p;
	const struct host_addr_ref *x = &o->k->refs[i], *y = &o->k->refs[j];
	if (!x->host && !y->host)
		return; /* two gateway addresses: interfaces.csv's business */
	if (!y->host ||
	    (x->host && (x->line > y->line || (x->line == y->line && x->col > y->col)))) {
		const struct host_addr_ref *s = x;
		size_t si = i;
		x = y, i = j;
		y = s, j = si;
	}
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
	host_addr_text(&o->k->addrs[j], a, sizeof(a));
	host_addr_text(&o->k->addrs[i], b, sizeof(b));
	if (!x->host)
		diag_add(
		    o->dl, DIAG_ERROR, o->file, y->line, y->col,
		    "%s of host '%s' overlaps %s, the address of gateway interface '%s' at site "
		    "'%s' (interfaces.csv line %u)",
		    a, y->host, b, x->iface->name, o->inv->sites[x->iface->site].id, x->line);
	else if (x->line == y->line)
		diag_add(o->dl, DIAG_ERROR, o->file, y->line, y->col,
			 "%s overlaps %s, another address of host '%s'", a, b, y->host);
	else
		diag_add(o->dl, DIAG_ERROR, o->file, y->line, y->col,
			 "%s of host '%s' overlaps %s of host '%s' (line %u)", a, y->host, b,
			 x->host, x->line);
}

static void host_clear(struct host *h)
{
	free(h->name);
	free(h->description);
	free(h->addrs);
	for (size_t i = 0; i < h->nlabels; i++) {
		free(h->labels[i].key);
		free(h->labels[i].value);
	}
	free(h->labels);
	memset(h, 0, sizeof(*h));
}

/* The name and site columns of a row: 1 when both are right, 0 when not
 * (reported), -ENOMEM. */
static int host_name_site(struct loader *ld, struct host_check *k, const struct csv_table *t,
			  size_t r, const int *c, bool check_sites, struct host *h)
{
	struct diag_list *dl = ld->dl;
	const char *name = csv_cell(t, r, c[0]), *sid = csv_cell(t, r, c[1]);
	int ok = 1;
	if (!lower_name_ok(name, strlen(name), HOST_NAME_MAX_LEN, "_-.")) {
		csv_cell_error(t, r, c[0], dl,
			       *name ? "invalid host name '%s' (1-63 of a-z 0-9 _ - .)"
				     : "missing value for 'name'%s",
			       name);
		ok = 0;
	} else {
		int prev = strmap_put(k->names, name, (int)r);
		if (prev == -2)
			return -ENOMEM;
		if (prev >= 0) {
			csv_cell_error(t, r, c[0], dl, "duplicate host '%s' (first on line %u)",
				       name, csv_row_line(t, (size_t)prev));
			ok = 0;
		}
	}
	h->site = *sid ? inventory_find_site(ld->inv, sid) : -1;
	if (*sid && h->site < 0) {
		if (check_sites)
			unknown_ref(t, r, c[1], dl, "site", sid, k->ids, ld->inv->nsites);
		ok = 0;
	}
	return ok;
}

static int load_hosts(struct loader *ld, const struct csv_table *t)
{
	static const char *const req[] = {"name", "site", "addresses"};
	static const char *const opt[] = {"labels", "description"};
	enum { C_NAME, C_SITE, C_ADDRS, C_LABELS, C_DESC };
	int c[5];
	struct inventory *inv = ld->inv;
	struct diag_list *dl = ld->dl;
	struct host_check k;
	int r_ = 0;
	inv->has_hosts = true;
	memset(&k, 0, sizeof(k));
	if (!csv_bind_columns(t, req, 3, opt, 2, c, dl))
		return 0;
	bool check_sites = refs_checked(ld, ld->sites_read, t, "site", "sites.csv");
	bool check_segs =
	    check_sites && refs_checked(ld, ld->segments_read, t, "segment", "segments.csv");
	size_t n = csv_table_nrows(t);
	inv->hosts = calloc(n + 1, sizeof(*inv->hosts));
	inv->host_ids = strmap_new(n);
	if (!inv->hosts || !inv->host_ids || host_check_init(&k, inv, t, c[C_ADDRS]) < 0) {
		r_ = -ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < n; r++) {
		struct host *h = &inv->hosts[inv->nhosts];
		const char *name = csv_cell(t, r, c[C_NAME]);
		int ok = host_name_site(ld, &k, t, r, c, check_sites, h);
		int ea = ok < 0 ? ok : get_host_addrs(t, r, c[C_ADDRS], dl, &k, h);
		int el = ea == -ENOMEM ? ea : get_host_labels(t, r, c[C_LABELS], dl, h);
		if (ok < 0 || ea == -ENOMEM || el == -ENOMEM) {
			host_clear(h);
			r_ = -ENOMEM;
			goto out;
		}
		bool good = ok && ea == 0 && el == 0;
		for (size_t i = 0; i < h->naddrs; i++) {
			unsigned col = cell_col_at(t, r, c[C_ADDRS], k.offs[i]);
			if (check_segs && (h->site >= 0 || !*csv_cell(t, r, c[C_SITE])))
				good &= host_addr_placed(ld, &k, t, r, c[C_ADDRS], k.offs[i], name,
							 h->site, &h->addrs[i]);
			k.addrs[k.naddrs] = h->addrs[i];
			k.refs[k.naddrs++] = (struct host_addr_ref){
			    name, NULL, csv_cell_line(t, r, c[C_ADDRS]), col};
		}
		if (good) {
			h->name = strdup(name);
			h->description = strdup(csv_cell(t, r, c[C_DESC]));
			h->line = csv_row_line(t, r);
		}
		if (!good || !h->name || !h->description) {
			host_clear(h);
			if (good) {
				r_ = -ENOMEM;
				goto out;
			}
			continue;
		}
		if (strmap_put(inv->host_ids, h->name, (int)inv->nhosts) == -2) {
			host_clear(h);
			r_ = -ENOMEM;
			goto out;
		}
		inv->nhosts++;
	}
	struct host_overlap_ctx oc = {inv, dl, csv_table_name(t), &k};
	r_ = ip_prefix_find_overlaps(k.addrs, k.naddrs, report_host_overlap, &oc);
out:
	host_check_free(&k);
	return r_;
}

int inventory_find_site(const struct inventory *inv, const char *id)
{
	return inv->site_ids ? strmap_get(inv->site_ids, id) : -1;
}

int inventory_find_link(const struct inventory *inv, const char *id)
{
	return inv->link_ids ? strmap_get(inv->link_ids, id) : -1;
}

int inventory_find_host(const struct inventory *inv, const char *name)
{
	return inv->host_ids ? strmap_get(inv->host_ids, name) : -1;
}

bool host_has_label(const struct host *h, const char *key, const char *value)
{
	for (size_t i = 0; i < h->nlabels; i++) {
		int c = strcmp(h->labels[i].key, key);
		if (c > 0)
			break;
		if (c == 0 && (!value || strcmp(h->labels[i].value, value) == 0))
			return true;
	}
	return false;
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
	for (size_t i = 0; i < inv->nifaces; i++) {
		free(inv->ifaces[i].name);
		free(inv->ifaces[i].bgp_peers);
		free(inv->ifaces[i].vrrp_peers);
	}
	free(inv->ifaces);
	free(inv->iface_start);
	for (size_t i = 0; i < inv->nhosts; i++)
		host_clear(&inv->hosts[i]);
	free(inv->hosts);
	strmap_free(inv->host_ids);
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
	    {"segments.csv", load_segments, true},   {"interfaces.csv", load_ifaces, false},
	    {"hosts.csv", load_hosts, false},
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
	else
		r = index_ifaces(inv);
out:
	strmap_free(ld.districts);
	if (r < 0) {
		inventory_free(inv);
		return r;
	}
	*out = inv;
	return 0;
}
