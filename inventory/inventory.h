/* SPDX-License-Identifier: MIT */
/*
 * The inventory: districts, sites, links, segments and the address plan of
 * the city, read from a directory of CSV files (docs/inventory.md) and
 * validated as a whole. Plain records in arrays; ids are resolved to indices
 * once at load time.
 */
#ifndef SEGPLAN_INVENTORY_H
#define SEGPLAN_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/prefix.h"
#include "core/strmap.h"

enum site_type {
	SITE_TOWN_HALL,
	SITE_OFFICE,
	SITE_SCHOOL,
	SITE_NURSERY,
	SITE_FIRE_STATION,
	SITE_LIBRARY,
	SITE_CITIZEN_OFFICE,
	SITE_DEPOT,
	SITE_MUSEUM,
	SITE_DATA_CENTRE,
	SITE_TYPE_COUNT
};

enum broadband { BB_FIBRE, BB_INTERIM, BB_DSL, BB_NONE, BB_COUNT };

enum link_kind { LINK_FIBRE, LINK_RENTED, LINK_DSL, LINK_RADIO, LINK_PLANNED, LINK_KIND_COUNT };

/* Site flags (the 'flags' column, ';'-separated). */
enum site_flag {
	SITE_F_CRITICAL = 1u << 0, /* critical infrastructure */
	SITE_F_HUB = 1u << 1,	   /* district hub on the core ring */
	SITE_F_PRIMARY = 1u << 2,  /* the primary data centre */
	SITE_F_FALLBACK = 1u << 3, /* the fallback data centre */
	SITE_F_VRRP = 1u << 4,	   /* gateway pair runs VRRP */
	SITE_F_OSPF = 1u << 5,	   /* gateway runs OSPF */
	SITE_F_BGP = 1u << 6,	   /* gateway runs BGP */
};
#define SITE_FLAG_COUNT 7

/* Zones are an open set of names; these are the ones the example uses. */
struct district {
	char *name;
	double lat, lon; /* centre, degrees WGS84 */
	double radius_m; /* the district's area: see docs/inventory.md */
};

struct site {
	char *id;
	char *name;
	int district; /* index into inv->districts */
	enum site_type type;
	double lat, lon;
	long staff;
	enum broadband broadband;
	double current_mbps, required_mbps;
	unsigned flags;
	unsigned line; /* source line in sites.csv */
};

struct link {
	char *id;
	int a, b; /* site indices */
	enum link_kind kind;
	double capacity_mbps;
	double length_m;
	double cost_eur; /* planned trenches only; 0 otherwise */
	unsigned line;
};

struct segment {
	int site;
	char *name;
	char *zone;
	int vlan; /* 0 = untagged */
	bool has_v4, has_v6;
	struct ip_prefix v4, v6;
	unsigned line;
	unsigned col_zone, col_v4, col_v6; /* where they stand in segments.csv */
};

/*
 * A site gateway's interface (interfaces.csv, optional): what the policy
 * compiler needs for per-interface anti-spoofing and routing-protocol rules.
 */
enum iface_role { IFACE_SEGMENT, IFACE_UPLINK, IFACE_TRANSFER, IFACE_ROLE_COUNT };

struct iface {
	int site;   /* index into inv->sites */
	char *name; /* Linux interface name */
	enum iface_role role;
	int segment; /* index into inv->segments for role segment, else -1 */
	int vlan;    /* 0 = untagged */
	bool has_v4, has_v6;
	struct ip_addr addr4, addr6; /* the gateway's own address on this interface */
	struct ip_prefix net4, net6; /* the interface's subnet (host bits zero) */
	bool ospf, vrrp;
	struct ip_addr *bgp_peers;
	size_t nbgp_peers;
	struct ip_addr *vrrp_peers; /* unicast VRRP peers */
	size_t nvrrp_peers;
	unsigned line;
};

/*
 * A host object (hosts.csv, optional): a server or device that policies can
 * name by its labels (stage-2 micro-segmentation).
 */
struct host_label {
	char *key, *value;
};

struct host {
	char *name;
	int site;		 /* index into inv->sites, -1 when none */
	struct ip_prefix *addrs; /* host addresses are /32 or /128 */
	size_t naddrs;
	struct host_label *labels; /* sorted by key then value */
	size_t nlabels;
	char *description; /* "" when none */
	unsigned line;
};

/* One row of addressplan.csv: a zone's supernet (zone "city" = the whole plan). */
struct plan_prefix {
	char *zone;
	struct ip_prefix prefix;
	unsigned line;
};

struct inventory {
	char *dir;
	struct district *districts;
	size_t ndistricts;
	struct site *sites;
	size_t nsites;
	struct link *links;
	size_t nlinks;
	struct segment *segments;
	size_t nsegments;
	struct plan_prefix *plan;
	size_t nplan;
	struct iface *ifaces; /* sorted by site, then file order */
	size_t nifaces;
	/* nsites + 1 entries, always allocated (all zero without interfaces.csv):
	 * site s has ifaces[iface_start[s] .. iface_start[s + 1]). */
	size_t *iface_start;
	bool has_ifaces;		    /* interfaces.csv was present */
	int primary_dc, fallback_dc;	    /* site indices, -1 when absent */
	struct strmap *site_ids, *link_ids; /* id -> index */

	/* hosts.csv (optional), in file order */
	struct host *hosts;
	size_t nhosts;
	bool has_hosts;		 /* hosts.csv was present */
	struct strmap *host_ids; /* name -> index */
};

extern const char *const site_type_names[SITE_TYPE_COUNT];
extern const char *const broadband_names[BB_COUNT];
extern const char *const link_kind_names[LINK_KIND_COUNT];
extern const char *const site_flag_names[SITE_FLAG_COUNT];
extern const char *const iface_role_names[IFACE_ROLE_COUNT]; /* "segment", "uplink", "transfer" */

/*
 * Loads and validates DIR/{districts,sites,links,segments,addressplan,
 * interfaces,hosts}.csv (addressplan.csv, interfaces.csv and hosts.csv are optional). Every problem
 * in every file is added to dl. Returns 0 with *out set when there were no errors (warnings
 * allowed), -EINVAL when errors were reported (*out NULL), or another negative errno.
 */
int inventory_load(const char *dir, struct diag_list *dl, struct inventory **out);
void inventory_free(struct inventory *inv);

/* Site index for an id, or -1. O(1) average. */
int inventory_find_site(const struct inventory *inv, const char *id);
/* Link index for an id, or -1. */
int inventory_find_link(const struct inventory *inv, const char *id);
/* Host index for a name, or -1. */
int inventory_find_host(const struct inventory *inv, const char *name);
/* True when h has the label key=value; value NULL: any value of key. */
bool host_has_label(const struct host *h, const char *key, const char *value);

/* Great-circle distance in metres (haversine, mean Earth radius 6,371,008.8 m). */
double geo_distance_m(double lat1, double lon1, double lat2, double lon2);

/* The detour factor: fibre routes run along streets, longer than the straight line. */
#define INVENTORY_DETOUR_FACTOR 1.3

#endif
