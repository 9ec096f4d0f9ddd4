// SPDX-License-Identifier: MIT
#include "example/example.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/atomic.h"
#include "core/prefix.h"
#include "core/rng.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "rollout/rollout_config.h"
#include "vpn/vpn.h"

/*
 * Geometry. Candidate points are drawn in a local equirectangular frame with
 * a fixed cos(48.78 deg) written out as a literal, so that drawing needs only
 * IEEE-754 arithmetic (the same on every machine); membership of a district's
 * area is then decided with geo_distance_m and a safety margin, so that the
 * coordinates as printed (%.6f, about 0.1 m) are still inside when read back.
 */
#define M_PER_DEG     111195.0802 /* 2 pi 6371008.8 / 360 */
#define COS_REF	      0.658952062333717
#define AREA_MARGIN_M 2.0
#define PLACE_TRIES   10000

struct district_def {
	const char *name;
	double lat, lon; /* approximate centre of the Stadtbezirk */
	double radius_m; /* about 1.5 x the radius of a circle of the district's area */
	unsigned pop;	 /* inhabitants, rounded (Statistisches Amt Stuttgart, 2023) */
};

static const struct district_def dist_defs[] = {
    {"Mitte", 48.7760, 9.1790, 1650, 22800},
    {"Nord", 48.7990, 9.1850, 2200, 27400},
    {"Ost", 48.7830, 9.2100, 2650, 47900},
    {"Süd", 48.7600, 9.1640, 2750, 43900},
    {"West", 48.7740, 9.1500, 2750, 52400},
    {"Bad Cannstatt", 48.8040, 9.2230, 3350, 71000},
    {"Birkach", 48.7230, 9.2050, 1950, 6800},
    {"Botnang", 48.7780, 9.1180, 2100, 13000},
    {"Degerloch", 48.7440, 9.1690, 2400, 16900},
    {"Feuerbach", 48.8150, 9.1580, 3300, 30300},
    {"Hedelfingen", 48.7600, 9.2560, 1950, 9900},
    {"Möhringen", 48.7250, 9.1450, 3350, 32200},
    {"Mühlhausen", 48.8420, 9.2290, 3000, 25900},
    {"Münster", 48.8230, 9.2150, 1500, 6500},
    {"Obertürkheim", 48.7590, 9.2720, 1900, 8700},
    {"Plieningen", 48.7030, 9.2100, 3300, 13300},
    {"Sillenbuch", 48.7460, 9.2200, 2550, 24000},
    {"Stammheim", 48.8490, 9.1510, 1750, 12400},
    {"Untertürkheim", 48.7820, 9.2520, 2550, 16800},
    {"Vaihingen", 48.7300, 9.1050, 4100, 46500},
    {"Wangen", 48.7740, 9.2390, 1700, 9400},
    {"Weilimdorf", 48.8160, 9.1060, 3000, 31600},
    {"Zuffenhausen", 48.8330, 9.1730, 3000, 38700},
};
#define NDIST	       ((int)(sizeof(dist_defs) / sizeof(dist_defs[0])))
#define DIST_MITTE     0
#define DIST_VAIHINGEN 19

/* Mix of the sites other than data centres and town halls, per mille. */
static const struct {
	enum site_type type;
	unsigned permille;
} type_mix[] = {
    {SITE_SCHOOL, 200}, {SITE_NURSERY, 150},	 {SITE_OFFICE, 450}, {SITE_CITIZEN_OFFICE, 30},
    {SITE_LIBRARY, 30}, {SITE_FIRE_STATION, 40}, {SITE_DEPOT, 80},   {SITE_MUSEUM, 20},
};
#define NMIX (sizeof(type_mix) / sizeof(type_mix[0]))

/* Name stems: what the building is called, and for schools their staff range. */
struct stem {
	enum site_type type;
	const char *name;
	unsigned weight; /* relative frequency within the type */
	long staff_lo, staff_hi;
};

static const struct stem stems[] = {
    {SITE_SCHOOL, "Grundschule", 45, 15, 45},
    {SITE_SCHOOL, "Werkrealschule", 5, 20, 50},
    {SITE_SCHOOL, "Realschule", 10, 35, 70},
    {SITE_SCHOOL, "Gymnasium", 15, 55, 110},
    {SITE_SCHOOL, "Gemeinschaftsschule", 10, 40, 90},
    {SITE_SCHOOL, "Berufliche Schule", 8, 70, 180},
    {SITE_SCHOOL, "SBBZ", 7, 20, 60},
    {SITE_NURSERY, "Kita", 1, 6, 25},
    {SITE_OFFICE, "Sozialamt", 3, 4, 180},
    {SITE_OFFICE, "Jugendamt", 3, 4, 180},
    {SITE_OFFICE, "Gesundheitsamt", 1, 4, 180},
    {SITE_OFFICE, "Tiefbauamt", 2, 4, 180},
    {SITE_OFFICE, "Amt für öffentliche Ordnung", 2, 4, 180},
    {SITE_OFFICE, "Standesamt", 1, 4, 180},
    {SITE_OFFICE, "Liegenschaftsamt", 1, 4, 180},
    {SITE_OFFICE, "Garten-, Friedhofs- und Forstamt", 2, 4, 180},
    {SITE_OFFICE, "Schulverwaltungsamt", 1, 4, 180},
    {SITE_OFFICE, "Amt für Umweltschutz", 1, 4, 180},
    {SITE_OFFICE, "Baurechtsamt", 1, 4, 180},
    {SITE_OFFICE, "Stadtmessungsamt", 1, 4, 180},
    {SITE_OFFICE, "Jugendhaus", 3, 4, 180},
    {SITE_OFFICE, "Seniorenbegegnungsstätte", 2, 4, 180},
    {SITE_CITIZEN_OFFICE, "Bürgerbüro", 1, 6, 25},
    {SITE_LIBRARY, "Stadtbibliothek", 1, 3, 20},
    {SITE_FIRE_STATION, "Freiwillige Feuerwehr", 1, 4, 15},
    {SITE_DEPOT, "Betriebshof", 3, 10, 120},
    {SITE_DEPOT, "Bauhof", 2, 10, 120},
    {SITE_DEPOT, "Stadtgärtnerei", 1, 10, 120},
    {SITE_DEPOT, "Wertstoffhof", 2, 10, 120},
    {SITE_MUSEUM, "Heimatmuseum", 2, 4, 30},
    {SITE_MUSEUM, "Stadtteilmuseum", 1, 4, 30},
};
#define NSTEMS (sizeof(stems) / sizeof(stems[0]))
/* Professional fire brigade stations (Feuerwachen), numbered city-wide. */
#define PRO_FIRE_STATIONS 5

enum zone { Z_ADMIN, Z_SERVERS, Z_VOIP, Z_PRINTERS, Z_BMS, Z_SCHOOL, Z_GUEST, Z_MGMT, Z_COUNT };
static const char *const zone_names[Z_COUNT] = {"admin", "servers", "voip",  "printers",
						"bms",	 "school",  "guest", "mgmt"};
static const int zone_vlan[Z_COUNT] = {10, 20, 30, 40, 50, 60, 70, 99};

/*
 * The address plan (docs/addressplan.md): segments from 10.0.0.0/8 below the
 * VPN pools at 10.240.0.0/12, and /64s from a ULA /48 (RFC 4193, global ID
 * 5e2a719c40 drawn once) whose last 16 /64s hold the VPN pools.
 */
#define V4_CITY	 0x0a000000u
#define V4_LIMIT 0x00f00000u /* segments end below 10.240.0.0 */
static const uint8_t ula_base[8] = {0xfd, 0x5e, 0x2a, 0x71, 0x9c, 0x40, 0, 0};
#define V6_VPN_RESERVED 16
static const struct {
	const char *zone;
	uint32_t v4;
	unsigned v4len;
	unsigned v6slot; /* /64 index counted from the end of the city prefix */
} vpn_pools[] = {
    {"vpn-staff", 0x0af00000u, 18, 16},
    {"vpn-admins", 0x0af04000u, 22, 15},
    {"vpn-vendors", 0x0af04400u, 22, 14},
};
#define NVPN (sizeof(vpn_pools) / sizeof(vpn_pools[0]))

/*
 * Transfer networks of the gateways' interfaces (docs/addressplan.md): one
 * per existing link, an IPv4 /31 (RFC 3021) from 10.248.0.0/13, which the
 * plan leaves to no zone and no pool, and an IPv6 /127 (RFC 6164) from the
 * city prefix's last /64, one of the V6_VPN_RESERVED that segments never get
 * and that is not a pool. Both count from 1: the all-zeros address of the
 * /64 is its Subnet-Router anycast address (RFC 6164 section 5.1). The providers of the data
 * centres' Internet uplinks hand out /31s from the shared address space 100.64.0.0/10 (RFC 6598).
 */
#define V4_TRANSFER	 0x0af80000u /* 10.248.0.0/13 */
#define V4_TRANSFER_NETS ((uint64_t)1 << (32 - 13 - 1))
#define V6_TRANSFER_SLOT 1	     /* the last /64 */
#define V4_PROVIDER	 0x64400000u /* 100.64.0.0 */
#define TRUNK_IFACE	 "eth1"

#define CORE_MBPS	  100000 /* 100G on the core ring */
#define DC_MBPS		  100000
#define ACCESS_FIBRE_MBPS 10000 /* 10G optics on the city's own dark fibre */
#define DC_REQ_MBPS	  10000 /* replication between the data centres */
#define SECOND_PATH_SHARE 0.30
#define PLANNED_SHARE	  0.10

/* The generator's streams (core/rng.h). */
struct rng {
	struct xoshiro x;
};

/* One independent stream per phase, so that a phase's draws never shift another's. */
static void rng_init(struct rng *r, uint64_t seed, uint64_t phase)
{
	xoshiro_seed(&r->x, seed ^ (phase * 0xd1b54a32d192ed03u));
}

static uint64_t rng_next(struct rng *r)
{
	return xoshiro_next(&r->x);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), without modulo bias. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
	do
		x = rng_next(r);
	while (x >= lim);
	return x % n;
}

static long rng_range(struct rng *r, long lo, long hi)
{
	return lo + (long)rng_below(r, (uint64_t)(hi - lo + 1));
}

static void shuffle_int(struct rng *r, int *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(r, i);
		int t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

struct gsite {
	char id[12];
	char name[128];
	int district;
	enum site_type type;
	double lat, lon;
	long staff;
	enum broadband bb;
	long cur, req;
	unsigned flags;
	int stem;
	int branch; /* fibre access tree: the branch below the hub, -1 when not on fibre */
};

struct glink {
	char id[12];
	int a, b;
	enum link_kind kind;
	long cap;
	long long dm;	/* length in decimetres */
	long long cost; /* EUR, planned trenches only */
};

struct gseg {
	int site;
	uint8_t zone;
	uint8_t v4len;
	uint32_t v4; /* offset inside 10.0.0.0/8 */
	uint64_t v6; /* /64 index inside the city's ULA prefix */
};

#define ZONE_BLOCKS 3

struct zblocks {
	uint64_t start[ZONE_BLOCKS], size[ZONE_BLOCKS]; /* offsets and sizes in addresses or /64s */
	int n;
	uint64_t used; /* what the zone's segments take */
};

struct city {
	long n;
	struct gsite *s;
	size_t ns;
	struct glink *l;
	size_t nl, capl;
	struct gseg *g;
	size_t ng;
	int hub[NDIST];
	bool v4;
	unsigned ula_len;
	/* Each zone's supernets: at most ZONE_BLOCKS aligned blocks per family. */
	struct zblocks v4z[Z_COUNT], v6z[Z_COUNT];
	size_t underserved, planned, fibre, other;
	size_t core_links, fibre_links, second_links, rented_links, dsl_links;
	struct vendor_pick {
		int site, vendor; /* a vendor controller's site and bms_vendors index */
	} vend[EXAMPLE_VENDOR_SITES];
	size_t nvend;
};

static double round6(double x)
{
	return round(x * 1e6) / 1e6;
}

static bool in_area(int d, double lat, double lon)
{
	const struct district_def *c = &dist_defs[d];
	double own = geo_distance_m(lat, lon, c->lat, c->lon);
	if (own > c->radius_m - AREA_MARGIN_M)
		return false;
	for (int k = 0; k < NDIST; k++)
		if (k != d && geo_distance_m(lat, lon, dist_defs[k].lat, dist_defs[k].lon) <
				  own + AREA_MARGIN_M)
			return false;
	return true;
}

/* A point of district d's area within within_m of its centre (rejection sampling). */
static void place(struct rng *r, int d, double within_m, double *lat, double *lon)
{
	const struct district_def *c = &dist_defs[d];
	double rad = fmin(within_m, c->radius_m);
	for (int t = 0; t < PLACE_TRIES; t++) {
		double dx = (2 * rng_unit(r) - 1) * rad, dy = (2 * rng_unit(r) - 1) * rad;
		if (dx * dx + dy * dy > rad * rad)
			continue;
		double la = round6(c->lat + dy / M_PER_DEG);
		double lo = round6(c->lon + dx / (M_PER_DEG * COS_REF));
		if (in_area(d, la, lo)) {
			*lat = la;
			*lon = lo;
			return;
		}
	}
	/* The centre is always inside its own area. */
	*lat = c->lat;
	*lon = c->lon;
}

/* A connected fibre node, packed so that nearest-node scans stay in cache. */
struct node {
	double lat, lon;
	int site, branch, district;
};

/* Squared distance in the local frame: enough to rank neighbours. */
static double near2(const struct gsite *a, const struct node *b)
{
	double dy = a->lat - b->lat, dx = (a->lon - b->lon) * COS_REF;
	return dx * dx + dy * dy;
}

static void node_set(struct node *n, const struct gsite *s, int site)
{
	n->lat = s->lat;
	n->lon = s->lon;
	n->site = site;
	n->branch = s->branch;
	n->district = s->district;
}

/*
 * A uniform grid over the city for nearest-node queries: cells are searched
 * in growing square rings until nothing unvisited can be nearer. Ties go to
 * the node added first, as a linear scan in insertion order would.
 */
#define GRID_CELL_DEG 0.002 /* about 220 m of latitude */

struct grid {
	double lat0, lon0;
	long nx, ny;
	int *head; /* first node of each cell, or -1 */
	int *next; /* the next node in the same cell, or -1 */
};

static void grid_free(struct grid *g)
{
	free(g->head);
	free(g->next);
	g->head = NULL;
	g->next = NULL;
}

static int grid_init(struct grid *g, const struct city *c)
{
	double la0 = HUGE_VAL, la1 = -HUGE_VAL, lo0 = HUGE_VAL, lo1 = -HUGE_VAL;
	for (size_t i = 0; i < c->ns; i++) {
		la0 = fmin(la0, c->s[i].lat);
		la1 = fmax(la1, c->s[i].lat);
		lo0 = fmin(lo0, c->s[i].lon);
		lo1 = fmax(lo1, c->s[i].lon);
	}
	g->lat0 = la0;
	g->lon0 = lo0;
	g->nx = (long)((lo1 - lo0) * COS_REF / GRID_CELL_DEG) + 1;
	g->ny = (long)((la1 - la0) / GRID_CELL_DEG) + 1;
	g->head = malloc((size_t)(g->nx * g->ny) * sizeof(*g->head));
	g->next = malloc(c->ns * sizeof(*g->next));
	if (!g->head || !g->next) {
		grid_free(g);
		return -ENOMEM;
	}
	for (long i = 0; i < g->nx * g->ny; i++)
		g->head[i] = -1;
	return 0;
}

static void grid_cell(const struct grid *g, double lat, double lon, long *cx, long *cy)
{
	*cx = (long)((lon - g->lon0) * COS_REF / GRID_CELL_DEG);
	*cy = (long)((lat - g->lat0) / GRID_CELL_DEG);
	*cx = *cx < 0 ? 0 : *cx >= g->nx ? g->nx - 1 : *cx;
	*cy = *cy < 0 ? 0 : *cy >= g->ny ? g->ny - 1 : *cy;
}

static void grid_add(struct grid *g, const struct node *v, int k)
{
	long cx, cy;
	grid_cell(g, v[k].lat, v[k].lon, &cx, &cy);
	g->next[k] = g->head[cy * g->nx + cx];
	g->head[cy * g->nx + cx] = k;
}

/* The nearest node, and the nearest one of another branch than that (SIZE_MAX: none). */
struct nearest {
	size_t b1, b2;
	double d1, d2;
};

static bool closer(double x, size_t k, double d, size_t b)
{
	return x < d || (x == d && k < b);
}

static void nearest_consider(struct nearest *n, const struct node *v, size_t k, double x)
{
	if (closer(x, k, n->d1, n->b1)) {
		/* The old best is the nearest of every branch but the new best's. */
		if (n->b1 != SIZE_MAX && v[k].branch != v[n->b1].branch) {
			n->b2 = n->b1;
			n->d2 = n->d1;
		}
		n->b1 = k;
		n->d1 = x;
	} else if (closer(x, k, n->d2, n->b2) && v[k].branch != v[n->b1].branch) {
		n->b2 = k;
		n->d2 = x;
	}
}

/* Nodes of district d only (d < 0: all); want2 also asks for the other branch. */
static void grid_nearest(const struct grid *g, const struct node *v, const struct gsite *s, int d,
			 bool want2, struct nearest *n)
{
	long cx, cy, rmax = g->nx > g->ny ? g->nx : g->ny;
	grid_cell(g, s->lat, s->lon, &cx, &cy);
	n->b1 = n->b2 = SIZE_MAX;
	n->d1 = n->d2 = HUGE_VAL;
	for (long r = 0; r <= rmax; r++) {
		for (long y = cy - r; y <= cy + r; y++) {
			if (y < 0 || y >= g->ny)
				continue;
			long step = (y == cy - r || y == cy + r) ? 1 : 2 * r;
			for (long x = cx - r; x <= cx + r; x += step) {
				if (x < 0 || x >= g->nx)
					continue;
				for (int k = g->head[y * g->nx + x]; k >= 0; k = g->next[k])
					if (d < 0 || v[k].district == d)
						nearest_consider(n, v, (size_t)k, near2(s, &v[k]));
			}
		}
		/* Every node outside rings 0..r is farther than r cells (less a hair for rounding).
		 */
		double bound = (double)r * GRID_CELL_DEG * (1 - 1e-9);
		bound *= bound;
		if (n->d1 < bound && (!want2 || n->d2 < bound))
			break;
	}
}

static long long route_dm(const struct gsite *a, const struct gsite *b)
{
	double m = geo_distance_m(a->lat, a->lon, b->lat, b->lon) * INVENTORY_DETOUR_FACTOR;
	long long dm = llround(m * 10);
	return dm > 0 ? dm : 1;
}

/*
 * Apportions total over weights by the largest-remainder method (ties to
 * the lower index), so the counts add up exactly.
 */
static void apportion(size_t total, const unsigned *w, size_t n, size_t *out)
{
	uint64_t sum = 0, given = 0;
	for (size_t i = 0; i < n; i++)
		sum += w[i];
	uint64_t rem[64];
	for (size_t i = 0; i < n; i++) {
		uint64_t x = (uint64_t)total * w[i];
		out[i] = (size_t)(x / sum);
		rem[i] = x % sum;
		given += out[i];
	}
	while (given < total) {
		size_t best = 0;
		for (size_t i = 1; i < n; i++)
			if (rem[i] > rem[best])
				best = i;
		out[best]++;
		rem[best] = 0;
		given++;
	}
}

size_t example_underserved_target(long n)
{
	if (n >= EXAMPLE_FULL_SITES)
		return EXAMPLE_UNDERSERVED_SCHOOLS;
	if (n <= 0)
		return 0;
	return (size_t)(EXAMPLE_UNDERSERVED_SCHOOLS * n / EXAMPLE_FULL_SITES);
}

void example_opts_default(struct example_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sites = EXAMPLE_DEFAULT_SITES;
	o->seed = EXAMPLE_DEFAULT_SEED;
}

static int add_link(struct city *c, const char *prefix, size_t *counter, int a, int b,
		    enum link_kind kind, long cap)
{
	if (c->nl == c->capl) {
		size_t cap2 = c->capl ? 2 * c->capl : 1024;
		struct glink *nl = realloc(c->l, cap2 * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		c->l = nl;
		c->capl = cap2;
	}
	struct glink *l = &c->l[c->nl++];
	memset(l, 0, sizeof(*l));
	(*counter)++;
	if (strcmp(prefix, "C") == 0)
		snprintf(l->id, sizeof(l->id), "C%02zu", *counter);
	else
		snprintf(l->id, sizeof(l->id), "%s%07zu", prefix, *counter);
	l->a = a;
	l->b = b;
	l->kind = kind;
	l->cap = cap;
	l->dm = route_dm(&c->s[a], &c->s[b]);
	if (kind == LINK_PLANNED)
		l->cost = (long long)EXAMPLE_TRENCH_FIXED_EUR +
			  l->dm * (long long)EXAMPLE_TRENCH_EUR_PER_M / 10;
	return 0;
}

static int pick_stem(struct rng *r, enum site_type t)
{
	unsigned total = 0;
	for (size_t i = 0; i < NSTEMS; i++)
		if (stems[i].type == t)
			total += stems[i].weight;
	uint64_t x = rng_below(r, total);
	for (size_t i = 0; i < NSTEMS; i++) {
		if (stems[i].type != t)
			continue;
		if (x < stems[i].weight)
			return (int)i;
		x -= stems[i].weight;
	}
	return -1;
}

static long round_up(long x, long step)
{
	return (x + step - 1) / step * step;
}

static long clampl(long x, long lo, long hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* Staff and required bandwidth by type (and stem for schools). */
static void size_site(struct rng *r, struct gsite *s, bool pro_fire)
{
	double u = rng_unit(r);
	const struct stem *st = s->stem >= 0 ? &stems[s->stem] : NULL;
	switch (s->type) {
	case SITE_TOWN_HALL:
		s->staff = s->district == DIST_MITTE ? 450 : rng_range(r, 25, 84);
		s->req = s->district == DIST_MITTE ? 1000 : 500;
		break;
	case SITE_DATA_CENTRE:
		s->staff = rng_range(r, 12, 30);
		s->req = DC_REQ_MBPS;
		break;
	case SITE_SCHOOL:
		s->staff = rng_range(r, st->staff_lo, st->staff_hi);
		s->req = clampl(round_up(100 + 4 * s->staff, 50), 150, 500);
		break;
	case SITE_NURSERY:
		s->staff = rng_range(r, st->staff_lo, st->staff_hi);
		s->req = s->staff > 15 ? 50 : 20;
		break;
	case SITE_OFFICE:
		/* Skewed towards small branch offices: 4 + 176 u^2. */
		s->staff = st->staff_lo + (long)((double)(st->staff_hi - st->staff_lo) * u * u);
		s->req = clampl(round_up(3 * s->staff, 50), 50, 500);
		break;
	case SITE_FIRE_STATION:
		s->staff = pro_fire ? rng_range(r, 40, 90) : rng_range(r, 4, 15);
		s->req = pro_fire ? 200 : 50;
		break;
	case SITE_LIBRARY:
		s->staff = rng_range(r, st->staff_lo, st->staff_hi);
		s->req = clampl(round_up(50 + 5 * s->staff, 50), 50, 200);
		break;
	case SITE_CITIZEN_OFFICE:
		s->staff = rng_range(r, st->staff_lo, st->staff_hi);
		s->req = round_up(50 + 3 * s->staff, 50);
		break;
	case SITE_DEPOT:
		s->staff = st->staff_lo + (long)((double)(st->staff_hi - st->staff_lo) * u * u);
		s->req = clampl(round_up(20 + s->staff, 50), 50, 100);
		break;
	case SITE_MUSEUM:
		s->staff = rng_range(r, st->staff_lo, st->staff_hi);
		s->req = 50;
		break;
	default:
		break;
	}
}

static void name_site(struct gsite *s, size_t *counts, size_t *pro_fire)
{
	const char *d = dist_defs[s->district].name;
	if (s->type == SITE_TOWN_HALL) {
		if (s->district == DIST_MITTE)
			snprintf(s->name, sizeof(s->name), "Rathaus Stuttgart");
		else
			snprintf(s->name, sizeof(s->name), "Bezirksrathaus %s", d);
		return;
	}
	if (s->type == SITE_FIRE_STATION && *pro_fire < PRO_FIRE_STATIONS) {
		snprintf(s->name, sizeof(s->name), "Feuerwache %zu", ++*pro_fire);
		return;
	}
	size_t k = ++counts[(size_t)s->stem * NDIST + (size_t)s->district];
	if (k == 1)
		snprintf(s->name, sizeof(s->name), "%s %s", stems[s->stem].name, d);
	else
		snprintf(s->name, sizeof(s->name), "%s %s %zu", stems[s->stem].name, d, k);
}

/* Sites: DC1, DC2, then district by district its town hall and its other sites. */
static int make_sites(struct city *c, uint64_t seed)
{
	int r = 0;
	size_t other = (size_t)c->n - 2 - NDIST;
	unsigned w[NDIST], tw[NMIX];
	size_t per_dist[NDIST], per_type[NMIX];
	int *deck = NULL;
	size_t *counts = calloc(NSTEMS * NDIST, sizeof(*counts));
	struct rng rp, rt, rs;
	rng_init(&rp, seed, 1);
	rng_init(&rt, seed, 2);
	rng_init(&rs, seed, 3);

	c->s = calloc((size_t)c->n, sizeof(*c->s));
	deck = malloc((other + 1) * sizeof(*deck));
	if (!c->s || !deck || !counts) {
		r = -ENOMEM;
		goto out;
	}
	for (int d = 0; d < NDIST; d++)
		w[d] = dist_defs[d].pop;
	apportion(other, w, NDIST, per_dist);
	for (size_t i = 0; i < NMIX; i++)
		tw[i] = type_mix[i].permille;
	apportion(other, tw, NMIX, per_type);
	size_t k = 0;
	for (size_t i = 0; i < NMIX; i++)
		for (size_t j = 0; j < per_type[i]; j++)
			deck[k++] = (int)type_mix[i].type;
	shuffle_int(&rt, deck, other);

	size_t pro_fire = 0, next = 0, ids = 0;
	for (int dc = 0; dc < 2; dc++) {
		struct gsite *s = &c->s[c->ns++];
		s->type = SITE_DATA_CENTRE;
		s->district = dc == 0 ? DIST_MITTE : DIST_VAIHINGEN;
		s->stem = -1;
		snprintf(s->id, sizeof(s->id), "DC%d", dc + 1);
		snprintf(s->name, sizeof(s->name), "Rechenzentrum %s%s",
			 dist_defs[s->district].name, dc == 0 ? "" : " (Ausweich)");
		place(&rp, s->district, 1500, &s->lat, &s->lon);
		s->flags = SITE_F_CRITICAL | (dc == 0 ? SITE_F_PRIMARY : SITE_F_FALLBACK) |
			   SITE_F_VRRP | SITE_F_OSPF | SITE_F_BGP;
		size_site(&rs, s, false);
	}
	for (int d = 0; d < NDIST; d++) {
		for (size_t j = 0; j <= per_dist[d]; j++) {
			struct gsite *s = &c->s[c->ns];
			s->district = d;
			s->stem = -1;
			snprintf(s->id, sizeof(s->id), "S%06zu", ++ids);
			if (j == 0) {
				/* The district town hall is the hub, near the centre. */
				s->type = SITE_TOWN_HALL;
				s->flags = SITE_F_CRITICAL | SITE_F_HUB | SITE_F_VRRP | SITE_F_OSPF;
				c->hub[d] = (int)c->ns;
				place(&rp, d, 400, &s->lat, &s->lon);
			} else {
				s->type = (enum site_type)deck[next++];
				s->stem = pick_stem(&rs, s->type);
				place(&rp, d, dist_defs[d].radius_m, &s->lat, &s->lon);
			}
			bool pro = s->type == SITE_FIRE_STATION && pro_fire < PRO_FIRE_STATIONS;
			size_site(&rs, s, pro);
			name_site(s, counts, &pro_fire);
			if (s->type == SITE_FIRE_STATION)
				s->flags |= SITE_F_CRITICAL;
			/* Depots with winter service and civil protection duties. */
			if (s->type == SITE_DEPOT && rng_unit(&rs) < 0.25)
				s->flags |= SITE_F_CRITICAL;
			c->ns++;
		}
	}
out:
	free(deck);
	free(counts);
	return r;
}

static void set_offnet(struct rng *r, struct gsite *s, bool underserved)
{
	static const long dsl[] = {16, 25, 50, 100};
	static const long rented[] = {100, 200, 300, 500, 1000};
	if (underserved) {
		/* Schools need 150 Mbit/s or more: every choice here is below that. */
		bool is_dsl = rng_unit(r) < 0.5;
		s->bb = is_dsl ? BB_DSL : BB_INTERIM;
		s->cur = is_dsl ? dsl[2 + rng_below(r, 2)] : rented[0];
		return;
	}
	/* Interim lines are mostly sized to the need, some one step short. */
	bool is_dsl = s->req <= 100;
	const long *opt = is_dsl ? dsl : rented;
	size_t n = is_dsl ? 4 : 5, i = 0;
	while (i + 1 < n && opt[i] < s->req)
		i++;
	if (i > 0 && rng_unit(r) < 0.3)
		i--;
	s->bb = is_dsl ? BB_DSL : BB_INTERIM;
	s->cur = opt[i];
}

/*
 * Broadband: round(75 %) of the non-data-centre sites are on fibre. All
 * town halls, fire stations and all schools but the under-served ones are;
 * the rest of the off-fibre quota is drawn from the other types.
 */
static int assign_broadband(struct city *c, uint64_t seed)
{
	int r = 0;
	struct rng rb;
	rng_init(&rb, seed, 4);
	size_t nschool = 0, ncand = 0;
	int *school = malloc(c->ns * sizeof(*school)), *cand = malloc(c->ns * sizeof(*cand));
	bool *off = calloc(c->ns, sizeof(*off));
	if (!school || !cand || !off) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->ns; i++) {
		struct gsite *s = &c->s[i];
		s->branch = -1;
		if (s->type == SITE_SCHOOL)
			school[nschool++] = (int)i;
		else if (s->type != SITE_DATA_CENTRE && s->type != SITE_TOWN_HALL &&
			 s->type != SITE_FIRE_STATION && !(s->flags & SITE_F_CRITICAL))
			cand[ncand++] = (int)i;
	}
	c->other = c->ns - 2;
	size_t nonfibre = c->other - (3 * c->other + 2) / 4;
	size_t u = example_underserved_target(c->n);
	if (u > nschool)
		u = nschool;
	if (u > nonfibre)
		u = nonfibre;
	size_t rest = nonfibre - u;
	if (rest > ncand)
		rest = ncand;
	shuffle_int(&rb, school, nschool);
	shuffle_int(&rb, cand, ncand);
	for (size_t i = 0; i < u; i++)
		off[school[i]] = true;
	for (size_t i = 0; i < rest; i++)
		off[cand[i]] = true;
	/* Line capacities are drawn in site order. */
	for (size_t i = 0; i < c->ns; i++) {
		struct gsite *s = &c->s[i];
		if (off[i]) {
			set_offnet(&rb, s, s->type == SITE_SCHOOL);
			continue;
		}
		s->bb = BB_FIBRE;
		s->cur = s->type == SITE_DATA_CENTRE || s->type == SITE_TOWN_HALL
			     ? CORE_MBPS
			     : ACCESS_FIBRE_MBPS;
	}
	c->underserved = u;
	c->fibre = c->other - u - rest;
out:
	free(school);
	free(cand);
	free(off);
	return r;
}

/* Half-plane then cross product: angular order around the city without atan2. */
static int ring_cmp_ref(const struct gsite *a, const struct gsite *b, double clat, double clon)
{
	double ax = (a->lon - clon) * COS_REF, ay = a->lat - clat;
	double bx = (b->lon - clon) * COS_REF, by = b->lat - clat;
	int ha = ay < 0 || (ay == 0 && ax < 0), hb = by < 0 || (by == 0 && bx < 0);
	if (ha != hb)
		return ha - hb;
	double cr = ax * by - ay * bx;
	return cr > 0 ? -1 : cr < 0 ? 1 : 0;
}

/*
 * The core ring: DC1, the hubs counter-clockwise around the city starting
 * after DC2's bearing, DC2, back to DC1: a cycle, so 2-edge-connected.
 */
static int make_core(struct city *c)
{
	double clat = 0, clon = 0;
	for (int d = 0; d < NDIST; d++) {
		clat += dist_defs[d].lat;
		clon += dist_defs[d].lon;
	}
	clat /= NDIST;
	clon /= NDIST;
	int order[NDIST];
	for (int d = 0; d < NDIST; d++)
		order[d] = c->hub[d];
	/* Insertion sort: 23 items, and a stable, libc-independent order. */
	for (int i = 1; i < NDIST; i++) {
		int v = order[i], j = i;
		while (j > 0 && ring_cmp_ref(&c->s[v], &c->s[order[j - 1]], clat, clon) < 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
	int start = 0;
	while (start < NDIST && ring_cmp_ref(&c->s[order[start]], &c->s[1], clat, clon) <= 0)
		start++;
	size_t cnt = 0;
	int prev = 0;
	for (int i = 0; i < NDIST; i++) {
		int h = order[(start + i) % NDIST];
		int r = add_link(c, "C", &cnt, prev, h, LINK_FIBRE, CORE_MBPS);
		if (r < 0)
			return r;
		prev = h;
	}
	int r = add_link(c, "C", &cnt, prev, 1, LINK_FIBRE, CORE_MBPS);
	if (r == 0)
		r = add_link(c, "C", &cnt, 1, 0, LINK_FIBRE, DC_MBPS);
	c->core_links = cnt;
	return r;
}

/*
 * Access fibre, district by district in id order: each fibre site joins the
 * nearest node already connected (tree-like, with chains); some also get a
 * second link to the nearest connected node of another branch, so that the
 * two paths to the hub share no link.
 */
static int make_access(struct city *c, uint64_t seed)
{
	int r = 0;
	struct rng ra;
	struct grid g;
	struct nearest n;
	rng_init(&ra, seed, 5);
	size_t nf = 0, nc = 0;
	struct node *conn = malloc(c->ns * sizeof(*conn));
	if (!conn || grid_init(&g, c) < 0) {
		free(conn);
		return -ENOMEM;
	}
	for (int d = 0; d < NDIST; d++) {
		for (size_t i = 0; i < 2; i++)
			if (c->s[i].district == d) {
				c->s[i].branch = (int)i;
				node_set(&conn[nc], &c->s[i], (int)i);
				grid_add(&g, conn, (int)nc++);
			}
		c->s[c->hub[d]].branch = c->hub[d];
		node_set(&conn[nc], &c->s[c->hub[d]], c->hub[d]);
		grid_add(&g, conn, (int)nc++);
		for (size_t i = 0; i < c->ns; i++) {
			struct gsite *s = &c->s[i];
			if (s->district != d || s->bb != BB_FIBRE || s->branch >= 0)
				continue;
			bool second = rng_unit(&ra) < SECOND_PATH_SHARE;
			grid_nearest(&g, conn, s, d, second, &n);
			const struct gsite *p = &c->s[conn[n.b1].site];
			r = add_link(c, "F", &nf, (int)i, conn[n.b1].site, LINK_FIBRE,
				     ACCESS_FIBRE_MBPS);
			if (r < 0)
				goto out;
			c->fibre_links++;
			s->branch = (p->flags & (SITE_F_HUB | SITE_F_PRIMARY | SITE_F_FALLBACK))
					? (int)i
					: p->branch;
			if (second && n.b2 != SIZE_MAX) {
				r = add_link(c, "F", &nf, (int)i, conn[n.b2].site, LINK_FIBRE,
					     ACCESS_FIBRE_MBPS);
				if (r < 0)
					goto out;
				c->second_links++;
				s->flags |= SITE_F_OSPF;
			}
			node_set(&conn[nc], s, (int)i);
			grid_add(&g, conn, (int)nc++);
		}
	}
	/* The interim lines: one rented line or DSL line to the district hub each. */
	size_t nr = 0, nd = 0;
	for (size_t i = 0; i < c->ns; i++) {
		struct gsite *s = &c->s[i];
		if (s->bb == BB_FIBRE)
			continue;
		bool dsl = s->bb == BB_DSL;
		r = add_link(c, dsl ? "D" : "R", dsl ? &nd : &nr, (int)i, c->hub[s->district],
			     dsl ? LINK_DSL : LINK_RENTED, s->cur);
		if (r < 0)
			goto out;
	}
	c->rented_links = nr;
	c->dsl_links = nd;
out:
	free(conn);
	grid_free(&g);
	return r;
}

/* Planned trenches: a tenth of the off-fibre sites, to the nearest fibre node. */
static int make_planned(struct city *c, uint64_t seed)
{
	int r = 0;
	struct rng rq;
	struct grid g = {0};
	struct nearest n;
	rng_init(&rq, seed, 6);
	int *off = malloc(c->ns * sizeof(*off));
	struct node *fib = malloc(c->ns * sizeof(*fib));
	bool *pick = calloc(c->ns, sizeof(*pick));
	size_t noff = 0, nfib = 0, np = 0;
	if (!off || !fib || !pick || grid_init(&g, c) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->ns; i++) {
		if (c->s[i].bb != BB_FIBRE) {
			off[noff++] = (int)i;
			continue;
		}
		node_set(&fib[nfib], &c->s[i], (int)i);
		grid_add(&g, fib, (int)nfib++);
	}
	size_t want = (size_t)llround((double)noff * PLANNED_SHARE);
	shuffle_int(&rq, off, noff);
	for (size_t i = 0; i < want; i++)
		pick[off[i]] = true;
	for (size_t i = 0; i < c->ns; i++) {
		if (!pick[i])
			continue;
		grid_nearest(&g, fib, &c->s[i], -1, false, &n);
		r = add_link(c, "P", &np, (int)i, fib[n.b1].site, LINK_PLANNED, ACCESS_FIBRE_MBPS);
		if (r < 0)
			goto out;
	}
	c->planned = np;
out:
	free(off);
	free(fib);
	free(pick);
	grid_free(&g);
	return r;
}

/* IPv4 segment size: hosts plus network, broadcast and gateway; /28 at least. */
static uint8_t v4_len(long hosts)
{
	uint64_t need = (uint64_t)hosts + 3, size = 16;
	uint8_t len = 28;
	while (size < need) {
		size *= 2;
		len--;
	}
	return len;
}

/* The hosts a site needs in zone z, or 0 when the site has no such segment. */
static long zone_hosts(const struct gsite *s, enum zone z)
{
	enum site_type t = s->type;
	long st = s->staff;
	switch (z) {
	case Z_ADMIN:
		return (5 * st + 3) / 4 + 8;
	case Z_SERVERS:
		if (t == SITE_DATA_CENTRE)
			return 400;
		if (t == SITE_TOWN_HALL)
			return 20 + st / 10;
		if (t == SITE_SCHOOL || t == SITE_FIRE_STATION || (t == SITE_OFFICE && st >= 40))
			return 8 + st / 20;
		return 0;
	case Z_VOIP:
		return t == SITE_DATA_CENTRE ? 0 : st + st / 10 + 4;
	case Z_PRINTERS:
		return t == SITE_DATA_CENTRE ? 0 : st / 8 + 4;
	case Z_BMS:
		if (t == SITE_CITIZEN_OFFICE || (t == SITE_OFFICE && st < 20))
			return 0;
		return t == SITE_DATA_CENTRE ? 60 : 12 + st / 4 + (t == SITE_SCHOOL ? 30 : 0);
	case Z_SCHOOL:
		/* Pupils' and teachers' devices: about ten per member of staff. */
		return t == SITE_SCHOOL ? 10 * st + 20 : 0;
	case Z_GUEST:
		switch (t) {
		case SITE_TOWN_HALL:
			return 200;
		case SITE_SCHOOL:
			return 250;
		case SITE_LIBRARY:
		case SITE_MUSEUM:
			return 100;
		case SITE_CITIZEN_OFFICE:
			return 60;
		default:
			return 0;
		}
	case Z_MGMT:
		return t == SITE_DATA_CENTRE ? 200 : 10 + st / 6;
	default:
		return 0;
	}
}

static void city_prefix(const struct city *c, uint64_t idx, unsigned len, struct ip_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = 6;
	p->len = (uint8_t)len;
	uint64_t hi = 0;
	for (int i = 0; i < 8; i++)
		hi = hi << 8 | ula_base[i];
	hi &= ~(UINT64_MAX >> c->ula_len);
	hi |= idx;
	for (int i = 7; i >= 0; i--) {
		p->b[i] = (uint8_t)hi;
		hi >>= 8;
	}
}

static void v4_prefix(uint32_t addr, unsigned len, struct ip_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = 4;
	p->len = (uint8_t)len;
	p->b[0] = (uint8_t)(addr >> 24);
	p->b[1] = (uint8_t)(addr >> 16);
	p->b[2] = (uint8_t)(addr >> 8);
	p->b[3] = (uint8_t)addr;
}

/* The smallest number >= n with at most ZONE_BLOCKS one-bits: a zone's size
 * rounded so that it is at most ZONE_BLOCKS prefixes (waste below 1/7). */
static uint64_t round_blocks(uint64_t n)
{
	for (;;) {
		uint64_t m = n;
		int bits = 0;
		while (m) {
			bits++;
			m &= m - 1;
		}
		if (bits <= ZONE_BLOCKS)
			return n;
		n += n & -n; /* carry the lowest one-bit upwards */
	}
}

struct gblock {
	uint64_t size;
	int zone, k;
};

static int gblock_cmp(const void *a, const void *b)
{
	const struct gblock *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->zone != y->zone)
		return x->zone - y->zone;
	return x->k - y->k;
}

/*
 * Places every zone's blocks in one address space: all blocks of all zones
 * sorted by falling size and packed from 0 are each aligned to their size and
 * leave no holes (a buddy layout). Returns the end of the space used.
 */
static uint64_t place_blocks(struct zblocks *z)
{
	struct gblock all[Z_COUNT * ZONE_BLOCKS];
	size_t n = 0;
	for (int i = 0; i < Z_COUNT; i++) {
		uint64_t m = round_blocks(z[i].used);
		z[i].n = 0;
		for (int bit = 63; bit >= 0; bit--)
			if (m >> bit & 1) {
				z[i].size[z[i].n] = (uint64_t)1 << bit;
				all[n++] = (struct gblock){(uint64_t)1 << bit, i, z[i].n};
				z[i].n++;
			}
	}
	qsort(all, n, sizeof(all[0]), gblock_cmp);
	uint64_t cur = 0;
	for (size_t i = 0; i < n; i++) {
		z[all[i].zone].start[all[i].k] = cur;
		cur += all[i].size;
	}
	return cur;
}

/* Hands out consecutive pieces of a zone's blocks, largest pieces first. */
struct zcursor {
	const struct zblocks *z;
	int k;
	uint64_t off;
};

static uint64_t zcursor_take(struct zcursor *c, uint64_t size)
{
	/* Pieces come in falling powers of two, so a block is either full or has room. */
	while (c->off + size > c->z->size[c->k]) {
		c->k++;
		c->off = 0;
	}
	uint64_t at = c->z->start[c->k] + c->off;
	c->off += size;
	return at;
}

/*
 * Zone-major allocation (docs/addressplan.md): each zone gets at most three
 * aligned supernets per family, sized to its segments; inside them segments
 * are packed largest first. IPv6 gives every segment one /64.
 */
static int make_segments(struct city *c)
{
	size_t cap = c->ns * Z_COUNT;
	c->g = malloc(cap * sizeof(*c->g));
	size_t *byzone = malloc(cap * sizeof(*byzone));
	if (!c->g || !byzone) {
		free(byzone);
		return -ENOMEM;
	}
	memset(c->v4z, 0, sizeof(c->v4z));
	memset(c->v6z, 0, sizeof(c->v6z));
	for (size_t i = 0; i < c->ns; i++)
		for (int z = 0; z < Z_COUNT; z++) {
			long h = zone_hosts(&c->s[i], (enum zone)z);
			if (h <= 0)
				continue;
			struct gseg *g = &c->g[c->ng++];
			g->site = (int)i;
			g->zone = (uint8_t)z;
			g->v4len = v4_len(h);
			c->v4z[z].used += (uint64_t)1 << (32 - g->v4len);
			c->v6z[z].used++;
		}
	uint64_t v4end = place_blocks(c->v4z);
	uint64_t v6end = place_blocks(c->v6z);
	c->v4 = v4end <= V4_LIMIT;
	for (int z = 0; z < Z_COUNT; z++) {
		size_t n = 0;
		for (size_t i = 0; i < c->ng; i++)
			if (c->g[i].zone == z)
				byzone[n++] = i;
		struct zcursor c4 = {&c->v4z[z], 0, 0}, c6 = {&c->v6z[z], 0, 0};
		for (uint8_t len = 0; n && len <= 32; len++)
			for (size_t k = 0; k < n; k++) {
				struct gseg *g = &c->g[byzone[k]];
				if (g->v4len == len)
					g->v4 =
					    (uint32_t)zcursor_take(&c4, (uint64_t)1 << (32 - len));
			}
		for (size_t k = 0; k < n; k++)
			c->g[byzone[k]].v6 = zcursor_take(&c6, 1);
	}
	c->ula_len = 48;
	while (c->ula_len > 8 && v6end + V6_VPN_RESERVED > (uint64_t)1 << (64 - c->ula_len))
		c->ula_len -= 4;
	free(byzone);
	return 0;
}

static unsigned log2u64(uint64_t v)
{
	unsigned k = 0;
	while (v > 1) {
		v >>= 1;
		k++;
	}
	return k;
}

static void csv_text(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void flags_text(FILE *f, unsigned flags)
{
	bool first = true;
	for (int i = 0; i < SITE_FLAG_COUNT; i++)
		if (flags & (1u << i)) {
			if (!first)
				fputc(';', f);
			fputs(site_flag_names[i], f);
			first = false;
		}
}

static void write_districts(const struct city *c, FILE *f)
{
	(void)c;
	fputs("name,lat,lon,radius_m\n", f);
	for (int d = 0; d < NDIST; d++) {
		csv_text(f, dist_defs[d].name);
		fprintf(f, ",%.6f,%.6f,%.0f\n", dist_defs[d].lat, dist_defs[d].lon,
			dist_defs[d].radius_m);
	}
}

static void write_sites(const struct city *c, FILE *f)
{
	fputs("id,name,district,type,lat,lon,staff,broadband,current_mbps,required_mbps,flags\n",
	      f);
	for (size_t i = 0; i < c->ns; i++) {
		const struct gsite *s = &c->s[i];
		fprintf(f, "%s,", s->id);
		csv_text(f, s->name);
		fputc(',', f);
		csv_text(f, dist_defs[s->district].name);
		fprintf(f, ",%s,%.6f,%.6f,%ld,%s,%ld,%ld,", site_type_names[s->type], s->lat,
			s->lon, s->staff, broadband_names[s->bb], s->cur, s->req);
		flags_text(f, s->flags);
		fputc('\n', f);
	}
}

static void write_links(const struct city *c, FILE *f)
{
	fputs("id,a,b,kind,capacity_mbps,length_m,cost_eur\n", f);
	for (size_t i = 0; i < c->nl; i++) {
		const struct glink *l = &c->l[i];
		fprintf(f, "%s,%s,%s,%s,%ld,%lld.%lld,", l->id, c->s[l->a].id, c->s[l->b].id,
			link_kind_names[l->kind], l->cap, l->dm / 10, l->dm % 10);
		if (l->kind == LINK_PLANNED)
			fprintf(f, "%lld", l->cost);
		fputc('\n', f);
	}
}

static void write_segments(const struct city *c, FILE *f)
{
	char buf[IP_PREFIX_STRLEN];
	struct ip_prefix p;
	fputs("site,name,zone,vlan,ipv4,ipv6\n", f);
	for (size_t i = 0; i < c->ng; i++) {
		const struct gseg *g = &c->g[i];
		fprintf(f, "%s,%s,%s,%d,", c->s[g->site].id, zone_names[g->zone],
			zone_names[g->zone], zone_vlan[g->zone]);
		if (c->v4) {
			v4_prefix(V4_CITY + g->v4, g->v4len, &p);
			ip_prefix_format(&p, buf, sizeof(buf));
			fputs(buf, f);
		}
		city_prefix(c, g->v6, 64, &p);
		ip_prefix_format(&p, buf, sizeof(buf));
		fprintf(f, ",%s\n", buf);
	}
}

static void plan_row(FILE *f, const char *zone, const struct ip_prefix *p)
{
	char buf[IP_PREFIX_STRLEN];
	ip_prefix_format(p, buf, sizeof(buf));
	fprintf(f, "%s,%s\n", zone, buf);
}

static size_t write_plan(const struct city *c, FILE *f)
{
	struct ip_prefix p;
	size_t rows = 0;
	fputs("zone,prefix\n", f);
	if (c->v4) {
		v4_prefix(V4_CITY, 8, &p);
		plan_row(f, "city", &p);
		rows++;
	}
	city_prefix(c, 0, c->ula_len, &p);
	plan_row(f, "city", &p);
	rows++;
	for (int z = 0; z < Z_COUNT; z++) {
		for (int k = 0; c->v4 && k < c->v4z[z].n; k++) {
			v4_prefix(V4_CITY + (uint32_t)c->v4z[z].start[k],
				  32 - log2u64(c->v4z[z].size[k]), &p);
			plan_row(f, zone_names[z], &p);
			rows++;
		}
		for (int k = 0; k < c->v6z[z].n; k++) {
			city_prefix(c, c->v6z[z].start[k], 64 - log2u64(c->v6z[z].size[k]), &p);
			plan_row(f, zone_names[z], &p);
			rows++;
		}
	}
	uint64_t slots = (uint64_t)1 << (64 - c->ula_len);
	for (size_t i = 0; i < NVPN; i++) {
		if (c->v4) {
			v4_prefix(vpn_pools[i].v4, vpn_pools[i].v4len, &p);
			plan_row(f, vpn_pools[i].zone, &p);
			rows++;
		}
		city_prefix(c, slots - vpn_pools[i].v6slot, 64, &p);
		plan_row(f, vpn_pools[i].zone, &p);
		rows++;
	}
	return rows;
}

/* One address of an interface, "ADDR/LEN", or nothing when absent. */
static void ifaddr_text(FILE *f, const struct ip_prefix *net, uint64_t host, bool present)
{
	char buf[IP_PREFIX_STRLEN];
	struct ip_addr a;
	if (!present)
		return;
	ip_prefix_first(net, &a);
	ip_addr_add(&a, host);
	ip_addr_format(&a, buf, sizeof(buf));
	fprintf(f, "%s/%u", buf, net->len);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/*
 * interfaces.csv (docs/inventory.md): per site, a VLAN sub-interface on the
 * trunk for each segment with the segment's first host as the gateway, then
 * one interface per existing link in links.csv order, both ends on the
 * link's transfer networks (a the first address, b the second), then for the
 * BGP sites the provider uplink with the provider as BGP peer.
 */
static int write_ifaces(const struct city *c, FILE *f)
{
	size_t *start = calloc(c->ns + 2, sizeof(*start));
	size_t *by_site = malloc((2 * c->nl + 1) * sizeof(*by_site));
	uint64_t *tnet = malloc((c->nl + 1) * sizeof(*tnet));
	if (!start || !by_site || !tnet) {
		free(start);
		free(by_site);
		free(tnet);
		return -ENOMEM;
	}
	/* The links at each site, in links.csv order (a counting sort). */
	uint64_t nt = 0;
	for (size_t i = 0; i < c->nl; i++) {
		const struct glink *l = &c->l[i];
		if (l->kind == LINK_PLANNED)
			continue;
		tnet[i] = ++nt;
		start[l->a + 2]++;
		start[l->b + 2]++;
	}
	for (size_t s = 0; s < c->ns; s++)
		start[s + 2] += start[s + 1];
	for (size_t i = 0; i < c->nl; i++) {
		const struct glink *l = &c->l[i];
		if (l->kind == LINK_PLANNED)
			continue;
		by_site[start[l->a + 1]++] = i;
		by_site[start[l->b + 1]++] = i;
	}
	bool v4_transfer = c->v4 && nt < V4_TRANSFER_NETS;
	struct ip_prefix p4, p6, v6net;
	uint64_t slots = (uint64_t)1 << (64 - c->ula_len);
	city_prefix(c, slots - V6_TRANSFER_SLOT, 64, &v6net);
	size_t g = 0, isp = 0;
	fputs("site,name,role,segment,vlan,ipv4,ipv6,ospf,vrrp,bgp_peers,vrrp_peers\n", f);
	for (size_t s = 0; s < c->ns; s++) {
		const struct gsite *st = &c->s[s];
		bool vrrp = st->flags & SITE_F_VRRP;
		for (; g < c->ng && c->g[g].site == (int)s; g++) {
			const struct gseg *sg = &c->g[g];
			int vlan = zone_vlan[sg->zone];
			if (vlan)
				fprintf(f, "%s,%s.%d,segment,%s,%d,", st->id, TRUNK_IFACE, vlan,
					zone_names[sg->zone], vlan);
			else
				fprintf(f, "%s,%s,segment,%s,0,", st->id, TRUNK_IFACE,
					zone_names[sg->zone]);
			v4_prefix(V4_CITY + sg->v4, sg->v4len, &p4);
			ifaddr_text(f, &p4, 1, c->v4);
			fputc(',', f);
			city_prefix(c, sg->v6, 64, &p6);
			ifaddr_text(f, &p6, 1, true);
			fprintf(f, ",no,%s,,\n", yes_no(vrrp));
		}
		for (size_t k = start[s]; k < start[s + 1]; k++) {
			const struct glink *l = &c->l[by_site[k]];
			bool fibre = l->kind == LINK_FIBRE || l->kind == LINK_RADIO;
			bool ospf = fibre && (c->s[l->a].flags & c->s[l->b].flags & SITE_F_OSPF);
			uint64_t end = l->a == (int)s ? 0 : 1, t = tnet[by_site[k]];
			fprintf(f, "%s,wan%zu,%s,,0,", st->id, k - start[s],
				fibre ? "transfer" : "uplink");
			v4_prefix(V4_TRANSFER + (uint32_t)(2 * t), 31, &p4);
			ifaddr_text(f, &p4, end, v4_transfer);
			fputc(',', f);
			p6 = v6net;
			p6.len = 127;
			for (int i = 0; i < 8; i++)
				p6.b[15 - i] = (uint8_t)((2 * t) >> (8 * i));
			ifaddr_text(f, &p6, end, true);
			fprintf(f, ",%s,no,,\n", yes_no(ospf));
		}
		if (st->flags & SITE_F_BGP) {
			char peer[IP_PREFIX_STRLEN];
			struct ip_addr a;
			v4_prefix(V4_PROVIDER + (uint32_t)(2 * isp++), 31, &p4);
			ip_prefix_first(&p4, &a);
			ip_addr_format(&a, peer, sizeof(peer));
			fprintf(f, "%s,isp0,uplink,,0,", st->id);
			ifaddr_text(f, &p4, 1, true);
			fprintf(f, ",,no,no,%s,\n", peer);
		}
	}
	free(start);
	free(by_site);
	free(tnet);
	return 0;
}

/*
 * hosts.csv (docs/inventory.md, "The example city"): the data centres'
 * central services, per district a print server and a building-automation
 * supervisor in its town hall, vendor controllers in the bms segments of a
 * few other sites, and the state's services at no site. A host's address is
 * its segment's start plus a fixed offset of 10 or more, clear of the
 * gateway (the first host); the IPv6 interface id repeats the IPv4 address's
 * last octet (the last two in segments larger than a /24), so that 10.6.0.10
 * goes with ::10, 10.4.13.74 with ::74 and 10.6.1.10 with ::1:10.
 */
#define HOST_OFFSET 10 /* a district site's host: clear of the gateway at 1 */

struct dc_host {
	const char *name; /* after "dc1-" or "dc2-" */
	enum zone zone;
	unsigned off;
	unsigned dcs; /* bit 0: DC1, bit 1: DC2 */
	bool app;     /* an application: env=prod in DC1, env=standby in DC2 */
	const char *labels;
	const char *what; /* the description, before the site's name */
};

static const struct dc_host dc_hosts[] = {
    {"dns1", Z_SERVERS, 10, 3, false, "app=dns role=resolver", "DNS-Resolver 1"},
    {"dns2", Z_SERVERS, 11, 3, false, "app=dns role=resolver", "DNS-Resolver 2"},
    {"ntp1", Z_SERVERS, 20, 3, false, "app=time role=ntp", "NTP-Server 1"},
    {"ntp2", Z_SERVERS, 21, 3, false, "app=time role=ntp", "NTP-Server 2"},
    {"mail1", Z_SERVERS, 25, 3, false, "app=mail role=relay", "Mail-Relay"},
    {"ldap1", Z_SERVERS, 30, 3, false, "app=ldap role=directory", "Verzeichnisdienst 1"},
    {"ldap2", Z_SERVERS, 31, 3, false, "app=ldap role=directory", "Verzeichnisdienst 2"},
    {"dhcp1", Z_SERVERS, 40, 3, false, "app=dhcp role=dhcp", "DHCP-Server (Failover-Paar)"},
    {"payroll-web", Z_SERVERS, 100, 3, true, "app=payroll role=web",
     "Personalabrechnung, Webserver"},
    {"payroll-app", Z_SERVERS, 101, 3, true, "app=payroll role=app",
     "Personalabrechnung, Anwendungsserver"},
    {"payroll-db", Z_SERVERS, 102, 3, true, "app=payroll role=db", "Personalabrechnung, Datenbank"},
    {"casemgmt-web", Z_SERVERS, 110, 3, true, "app=casemgmt role=web",
     "Fallbearbeitung, Webserver"},
    {"casemgmt-app", Z_SERVERS, 111, 3, true, "app=casemgmt role=app",
     "Fallbearbeitung, Anwendungsserver"},
    {"casemgmt-db", Z_SERVERS, 112, 3, true, "app=casemgmt role=db", "Fallbearbeitung, Datenbank"},
    {"mon1", Z_MGMT, 10, 3, false, "app=snmp role=monitoring", "Netzüberwachung (SNMP)"},
    {"syslog1", Z_MGMT, 20, 1, false, "app=syslog role=syslog", "Syslog-Sammler"},
    {"cooling", Z_BMS, 10, 3, false, "app=bms role=controller vendor=stulz",
     "Klimasteuerung (Stulz)"},
};
#define NDC_HOSTS (sizeof(dc_hosts) / sizeof(dc_hosts[0]))

/* Building-automation vendors of the controllers at the district sites. */
static const struct {
	const char *label, *name;
} bms_vendors[] = {
    {"sauter", "Sauter"},
    {"siemens", "Siemens"},
    {"kieback-peter", "Kieback&Peter"},
    {"honeywell", "Honeywell"},
    {"johnson-controls", "Johnson Controls"},
};
#define NVENDORS (sizeof(bms_vendors) / sizeof(bms_vendors[0]))

/*
 * Services of the state's data centre, reached over the state administration
 * network: addresses from the shared address space (RFC 6598) as that network
 * hands them out, far from the providers' /31s at 100.64.0.0, and the state's
 * own ULA; both outside the city's plan.
 */
static const struct {
	const char *name, *v4, *v6, *labels, *what;
} partner_hosts[] = {
    {"state-dc-portal", "100.96.0.10", "fd8c:31d4:57a2:1::10",
     "app=eservices partner=state-dc role=web", "Landesrechenzentrum: Serviceportal des Landes"},
    {"state-dc-ldap", "100.96.0.20", "fd8c:31d4:57a2:1::20",
     "app=ldap partner=state-dc role=directory",
     "Landesrechenzentrum: Verzeichnisdienst der Landesverwaltung"},
    {"state-dc-mail", "100.96.0.25", "fd8c:31d4:57a2:1::25", "app=mail partner=state-dc role=relay",
     "Landesrechenzentrum: Mail-Gateway des Landesverwaltungsnetzes"},
};
#define NPARTNERS (sizeof(partner_hosts) / sizeof(partner_hosts[0]))

static int vendor_pick_cmp(const void *a, const void *b)
{
	const struct vendor_pick *x = a, *y = b;
	return x->site - y->site;
}

/* The sites with vendor controllers: drawn from those with a bms segment
 * other than the data centres and town halls (their own stream). */
static int make_vendor_sites(struct city *c, uint64_t seed)
{
	struct rng r;
	int *cand = malloc((c->ns + 1) * sizeof(*cand));
	size_t n = 0;
	if (!cand)
		return -ENOMEM;
	rng_init(&r, seed, 7);
	for (size_t i = 0; i < c->ns; i++) {
		const struct gsite *s = &c->s[i];
		if (s->type != SITE_DATA_CENTRE && s->type != SITE_TOWN_HALL &&
		    zone_hosts(s, Z_BMS) > 0)
			cand[n++] = (int)i;
	}
	c->nvend = 0;
	for (size_t k = 0; k < n && k < EXAMPLE_VENDOR_SITES; k++) {
		size_t j = k + (size_t)rng_below(&r, n - k);
		int t = cand[k];
		cand[k] = cand[j];
		cand[j] = t;
		c->vend[c->nvend++] = (struct vendor_pick){cand[k], (int)rng_below(&r, NVENDORS)};
	}
	qsort(c->vend, c->nvend, sizeof(*c->vend), vendor_pick_cmp);
	free(cand);
	return 0;
}

/* The index of site's segment in zone z (c->g is ordered by site), or -1. */
static long find_seg(const struct city *c, int site, enum zone z)
{
	size_t lo = 0, hi = c->ng;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->g[mid].site < site)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->ng && c->g[lo].site == site; lo++)
		if (c->g[lo].zone == z)
			return (long)lo;
	return -1;
}

static size_t dc_host_count(void)
{
	size_t n = 0;
	for (size_t k = 0; k < NDC_HOSTS; k++)
		n += (dc_hosts[k].dcs & 1) + (dc_hosts[k].dcs >> 1 & 1);
	return n;
}

static size_t host_count(const struct city *c)
{
	return dc_host_count() + 2 * NDIST + c->nvend + NPARTNERS;
}

/* A name as a label value: lower case, umlauts spelt out, '-' for a space. */
static void label_slug(const char *name, char *out, size_t size)
{
	static const char *const map[][2] = {{"ä", "ae"}, {"ö", "oe"}, {"ü", "ue"}, {"Ä", "ae"},
					     {"Ö", "oe"}, {"Ü", "ue"}, {"ß", "ss"}};
	size_t n = 0;
	while (*name && n + 3 < size) {
		size_t k = 0;
		while (k < sizeof(map) / sizeof(map[0]) && strncmp(name, map[k][0], 2) != 0)
			k++;
		if (k < sizeof(map) / sizeof(map[0])) {
			memcpy(out + n, map[k][1], 2);
			n += 2;
			name += 2;
			continue;
		}
		char ch = *name++;
		out[n++] = ch == ' ' ? '-' : (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	out[n] = '\0';
}

static int label_word_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t kx = strcspn(x, "="), ky = strcspn(y, "=");
	int c = strncmp(x, y, kx < ky ? kx : ky);
	if (c || kx != ky)
		return c ? c : kx < ky ? -1 : 1;
	return strcmp(x + kx, y + ky);
}

/* Space-separated key=value labels, written sorted by key, then value (as the reader keeps them).
 */
static void labels_text(FILE *f, const char *labels)
{
	char buf[256], *w[16];
	size_t n = 0;
	snprintf(buf, sizeof(buf), "%s", labels);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < 16;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	qsort(w, n, sizeof(w[0]), label_word_cmp);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", w[i]);
}

/* The decimal digits of x < 256 as hex digits: 74 -> 0x74. */
static uint64_t dec_as_hex(unsigned x)
{
	return (uint64_t)(x / 100) << 8 | (uint64_t)(x / 10 % 10) << 4 | x % 10;
}

/* One row: the host at offset off of segment seg, with both its families. */
static int host_row(FILE *f, const struct city *c, const char *name, long seg, unsigned off,
		    const char *labels, const char *desc)
{
	if (seg < 0)
		return -ERANGE;
	const struct gseg *g = &c->g[seg];
	char buf[IP_PREFIX_STRLEN];
	struct ip_prefix p;
	struct ip_addr a;
	/* Never the broadcast address; the sizes of docs/addressplan.md leave room. */
	if (c->v4 && off + 1 >= (uint64_t)1 << (32 - g->v4len))
		return -ERANGE;
	fprintf(f, "%s,%s,", name, c->s[g->site].id);
	/* The interface id repeats the IPv4 address's last octets, as written. */
	uint32_t a4 = c->v4 ? V4_CITY + g->v4 + off : off;
	uint64_t id = dec_as_hex(a4 & 255);
	if (!c->v4 || g->v4len < 24)
		id |= dec_as_hex(a4 >> 8 & 255) << 16;
	if (c->v4) {
		v4_prefix(a4, 32, &p);
		ip_prefix_format(&p, buf, sizeof(buf));
		*strchr(buf, '/') = '\0';
		fprintf(f, "%s ", buf);
	}
	city_prefix(c, g->v6, 64, &p);
	ip_prefix_first(&p, &a);
	ip_addr_add(&a, id);
	ip_addr_format(&a, buf, sizeof(buf));
	fprintf(f, "%s,", buf);
	labels_text(f, labels);
	fputc(',', f);
	csv_text(f, desc);
	fputc('\n', f);
	return 0;
}

static int write_hosts(const struct city *c, FILE *f)
{
	char name[96], labels[200], desc[320], slug[64];
	int r = 0;
	fputs("name,site,addresses,labels,description\n", f);
	/* DC1 and DC2 are the first two sites (make_sites). */
	for (int dc = 0; dc < 2 && r == 0; dc++)
		for (size_t k = 0; k < NDC_HOSTS && r == 0; k++) {
			const struct dc_host *h = &dc_hosts[k];
			if (!(h->dcs >> dc & 1))
				continue;
			snprintf(name, sizeof(name), "dc%d-%s", dc + 1, h->name);
			/* Applications run in DC1 and stand by in DC2. */
			const char *env = dc ? "standby" : "prod",
				   *mode = dc ? "Standby" : "Produktion";
			if (h->app) {
				snprintf(labels, sizeof(labels), "%s env=%s", h->labels, env);
				snprintf(desc, sizeof(desc), "%s: %s (%s)", c->s[dc].name, h->what,
					 mode);
			} else {
				snprintf(labels, sizeof(labels), "%s", h->labels);
				snprintf(desc, sizeof(desc), "%s: %s", c->s[dc].name, h->what);
			}
			r = host_row(f, c, name, find_seg(c, dc, h->zone), h->off, labels, desc);
		}
	for (int d = 0; d < NDIST && r == 0; d++) {
		const struct gsite *s = &c->s[c->hub[d]];
		label_slug(dist_defs[d].name, slug, sizeof(slug));
		snprintf(name, sizeof(name), "%s-print", slug);
		snprintf(labels, sizeof(labels), "district=%s role=print", slug);
		snprintf(desc, sizeof(desc), "%s: Druckserver", s->name);
		r = host_row(f, c, name, find_seg(c, c->hub[d], Z_SERVERS), HOST_OFFSET, labels,
			     desc);
		if (r)
			break;
		snprintf(name, sizeof(name), "%s-bms", slug);
		snprintf(labels, sizeof(labels), "app=bms district=%s role=bms-supervisor", slug);
		snprintf(desc, sizeof(desc), "%s: Gebäudeleittechnik, Leitrechner", s->name);
		r = host_row(f, c, name, find_seg(c, c->hub[d], Z_BMS), HOST_OFFSET, labels, desc);
	}
	for (size_t k = 0; k < c->nvend && r == 0; k++) {
		const struct gsite *s = &c->s[c->vend[k].site];
		const char *v = bms_vendors[c->vend[k].vendor].label;
		char id[sizeof(s->id)];
		label_slug(s->id, id, sizeof(id));
		label_slug(dist_defs[s->district].name, slug, sizeof(slug));
		snprintf(name, sizeof(name), "%s-bms-%s", id, v);
		snprintf(labels, sizeof(labels), "app=bms district=%s role=controller vendor=%s",
			 slug, v);
		snprintf(desc, sizeof(desc), "%s: Automationsstation %s", s->name,
			 bms_vendors[c->vend[k].vendor].name);
		r = host_row(f, c, name, find_seg(c, c->vend[k].site, Z_BMS), HOST_OFFSET, labels,
			     desc);
	}
	for (size_t k = 0; k < NPARTNERS && r == 0; k++) {
		fprintf(f, "%s,,%s %s,", partner_hosts[k].name, partner_hosts[k].v4,
			partner_hosts[k].v6);
		labels_text(f, partner_hosts[k].labels);
		fputc(',', f);
		csv_text(f, partner_hosts[k].what);
		fputc('\n', f);
	}
	return r;
}

static void write_readme(const struct city *c, FILE *f, uint64_t seed)
{
	size_t dn[NDIST] = {0}, df[NDIST] = {0}, tn[SITE_TYPE_COUNT] = {0},
	       tf[SITE_TYPE_COUNT] = {0};
	for (size_t i = 0; i < c->ns; i++) {
		const struct gsite *s = &c->s[i];
		dn[s->district]++;
		tn[s->type]++;
		if (s->bb == BB_FIBRE) {
			df[s->district]++;
			tf[s->type]++;
		}
	}
	fprintf(
	    f,
	    "# Example city: Stuttgart, %zu sites\n\n"
	    "Generated by `segplan example --sites %zu --seed %" PRIu64 "`; the same command\n"
	    "writes the same bytes on every machine. A made-up city administration network on\n"
	    "Stuttgart's 23 districts (Stadtbezirke): site names, counts and numbers are\n"
	    "invented, district centres and populations are approximately real. The formats are\n"
	    "in docs/inventory.md, the address plan in docs/addressplan.md.\n\n",
	    c->ns, c->ns, seed);
	fprintf(
	    f,
	    "- %zu sites: two data centres (DC1 primary in Mitte, DC2 fallback in Vaihingen),\n"
	    "  one town hall per district as its hub, %zu other sites.\n"
	    "- Core ring of %zu fibre links (%d Mbit/s, DC1-DC2 %d Mbit/s): DC1, the hubs\n"
	    "  around the city, DC2, back to DC1.\n"
	    "- %zu of %zu non-data-centre sites on the city's fibre (%.1f %%), %zu access fibre\n"
	    "  links of %d Mbit/s, %zu of them second paths.\n"
	    "- %zu sites on rented lines, %zu on DSL, each with one line to its district hub;\n"
	    "  %zu under-served schools; %zu planned trenches (%.0f EUR + %.0f EUR/m).\n"
	    "- %zu segments; %s.\n"
	    "- %zu hosts: %zu central services in the data centres, a print server and a\n"
	    "  building-automation supervisor in every district's town hall, %zu vendor\n"
	    "  controllers at other sites, %zu services of the state's data centre at no site.\n\n",
	    c->ns, c->ns - 2 - NDIST, c->core_links, CORE_MBPS, DC_MBPS, c->fibre, c->other,
	    100.0 * (double)c->fibre / (double)c->other, c->fibre_links + c->second_links,
	    ACCESS_FIBRE_MBPS, c->second_links, c->rented_links, c->dsl_links, c->underserved,
	    c->planned, EXAMPLE_TRENCH_FIXED_EUR, EXAMPLE_TRENCH_EUR_PER_M, c->ng,
	    c->v4 ? "IPv4 from 10.0.0.0/8 and IPv6 from a ULA /48"
		  : "IPv6 only: the city is too large for 10.0.0.0/8",
	    host_count(c), dc_host_count(), c->nvend, NPARTNERS);
	fputs("| district | sites | on fibre |\n|---|---:|---:|\n", f);
	for (int d = 0; d < NDIST; d++)
		fprintf(f, "| %s | %zu | %zu |\n", dist_defs[d].name, dn[d], df[d]);
	fputs("\n| type | sites | on fibre |\n|---|---:|---:|\n", f);
	for (int t = 0; t < SITE_TYPE_COUNT; t++)
		fprintf(f, "| %s | %zu | %zu |\n", site_type_names[t], tn[t], tf[t]);
	fputs("\n| zone | VLAN | segments |\n|---|---:|---:|\n", f);
	for (int z = 0; z < Z_COUNT; z++)
		fprintf(f, "| %s | %d | %" PRIu64 " |\n", zone_names[z], zone_vlan[z],
			c->v6z[z].used);
}

/* True when dir exists and has an entry other than . and .. */
static int dir_has_files(const char *dir, bool *has)
{
	*has = false;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			*has = true;
			break;
		}
	closedir(d);
	return 0;
}

enum out_file {
	OUT_DISTRICTS,
	OUT_SITES,
	OUT_LINKS,
	OUT_SEGMENTS,
	OUT_PLAN,
	OUT_IFACES,
	OUT_HOSTS,
	OUT_README,
	OUT_POLICY,
	OUT_POLICY2,
	OUT_VPN,
	OUT_ROLLOUT,
	OUT_N
};
static const char *const out_names[OUT_N] = {
    "districts.csv",   "sites.csv",	     "links.csv", "segments.csv",
    "addressplan.csv", "interfaces.csv",     "hosts.csv", "README.md",
    "policy.yaml",     "policy-stage2.yaml", "vpn.yaml",  "rollout.yaml",
};

/* For the stage-2 policy: false only for a controller vendor the city has no controller of. */
static bool city_has_vendor(const char *vendor, void *ctx)
{
	const struct city *c = ctx;
	bool known = false;
	for (size_t v = 0; v < NVENDORS; v++)
		known |= strcmp(bms_vendors[v].label, vendor) == 0;
	if (!known)
		return true;
	for (size_t k = 0; k < c->nvend; k++)
		if (strcmp(bms_vendors[c->vend[k].vendor].label, vendor) == 0)
			return true;
	return false;
}

/* Every file of the city appears together (core/atomic.h batch), or none. */
static int write_all(const struct city *c, const char *dir, uint64_t seed, size_t *plan_rows)
{
	struct atomic_batch *batch;
	int r = atomic_batch_new(&batch);
	for (int k = 0; k < OUT_N && r == 0; k++) {
		char *path = NULL, *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f || asprintf(&path, "%s/%s", dir, out_names[k]) < 0) {
			if (f)
				fclose(f);
			free(buf);
			r = -ENOMEM;
			break;
		}
		switch (k) {
		case OUT_DISTRICTS:
			write_districts(c, f);
			break;
		case OUT_SITES:
			write_sites(c, f);
			break;
		case OUT_LINKS:
			write_links(c, f);
			break;
		case OUT_SEGMENTS:
			write_segments(c, f);
			break;
		case OUT_PLAN:
			*plan_rows = write_plan(c, f);
			break;
		case OUT_IFACES:
			r = write_ifaces(c, f);
			break;
		case OUT_HOSTS:
			r = write_hosts(c, f);
			break;
		case OUT_README:
			write_readme(c, f, seed);
			break;
		/* The models of the other commands, the same for every city size. */
		case OUT_POLICY:
			fputs(policy_example_yaml, f);
			break;
		case OUT_POLICY2:
			example_write_stage2(f, city_has_vendor, (void *)c);
			break;
		case OUT_VPN:
			fputs(vpn_example_yaml, f);
			break;
		default:
			fputs(rollout_example_yaml, f);
			break;
		}
		if (fclose(f) != 0 && r == 0)
			r = -ENOMEM;
		if (r == 0)
			r = atomic_batch_add(batch, path, buf, len);
		free(path);
		free(buf);
	}
	if (r == 0)
		return atomic_batch_commit(batch);
	atomic_batch_abort(batch);
	return r;
}

int example_generate(const struct example_opts *o, const char *dir, struct example_summary *sum)
{
	struct city c;
	bool has = false;
	size_t plan_rows = 0;
	memset(&c, 0, sizeof(c));
	if (!o || !dir || !*dir || o->sites < EXAMPLE_MIN_SITES || o->sites > EXAMPLE_MAX_SITES)
		return -EINVAL;
	int r = dir_has_files(dir, &has);
	if (r < 0)
		return r;
	if (has && !o->force)
		return -ENOTEMPTY;
	c.n = o->sites;
	c.v4 = true;
	r = make_sites(&c, o->seed);
	if (r == 0)
		r = assign_broadband(&c, o->seed);
	if (r == 0)
		r = make_core(&c);
	if (r == 0)
		r = make_access(&c, o->seed);
	if (r == 0)
		r = make_planned(&c, o->seed);
	if (r == 0)
		r = make_segments(&c);
	if (r == 0)
		r = make_vendor_sites(&c, o->seed);
	if (r == 0)
		r = mkdir_p(dir);
	if (r == 0)
		r = write_all(&c, dir, o->seed, &plan_rows);
	if (r == 0 && sum) {
		memset(sum, 0, sizeof(*sum));
		sum->sites = c.ns;
		sum->links = c.nl;
		sum->segments = c.ng;
		sum->plan_rows = plan_rows;
		sum->hosts = host_count(&c);
		sum->fibre_sites = c.fibre;
		sum->other_sites = c.other;
		sum->underserved_schools = c.underserved;
		sum->planned_trenches = c.planned;
		sum->ipv4 = c.v4;
		sum->ula_len = c.ula_len;
	}
	free(c.s);
	free(c.l);
	free(c.g);
	return r;
}
