/* SPDX-License-Identifier: MIT */
/*
 * The segment policy: INVENTORY/policy.yaml (docs/policy.md), read and
 * validated against an inventory. A plain read-only record once loaded, so
 * that the compiler, query, lint and diff all walk the same structure.
 */
#ifndef SEGPLAN_POLICY_H
#define SEGPLAN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/prefix.h"
#include "eval/eval.h"
#include "inventory/inventory.h"

/* Version of the policy.yaml format this reader accepts. */
#define POLICY_FORMAT 1

/* Names of the pseudo-zones (docs/policy.md). */
#define POL_ZONE_NAME_INTERNET	 "internet"
#define POL_ZONE_NAME_UNASSIGNED "unassigned"
#define POL_ZONE_NAME_DC	 "dc"
#define POL_ZONE_NAME_SPECIAL	 "special"
#define POL_ZONE_NAME_PRIVEXT	 "private-external"

struct pol_zone {
	char *name;
	enum pol_zone_kind kind;
	char *description; /* from the zones: section; NULL when none */
	bool declared;	   /* listed in the zones: section */
	size_t nsegments;  /* segments of the inventory in this zone */
};

struct pol_service {
	char *name;
	struct pol_match match;
	unsigned line, col;
};

/*
 * A named object: addresses and prefixes, hosts of hosts.csv and other
 * objects (nesting resolved), or an external network (outside the city plan).
 */
enum pol_object_kind { POL_OBJ_OBJECT, POL_OBJ_EXTERNAL };
struct pol_object {
	char *name;
	enum pol_object_kind kind;
	struct pol_ranges addrs; /* normalized, val 0 */
	int *nested;		 /* objects it includes by name */
	size_t nnested;
	char *description;
	bool used; /* named by a rule, an assertion or another object that is used */
	unsigned line, col;
};

/* A site group: sites selected by type, district, flag or an explicit list. */
struct pol_group {
	char *name;
	bool *member; /* [inv->nsites] */
	size_t nmembers;
	bool used;
	unsigned line, col;
};

/*
 * An endpoint term of a rule side other than plain zones: the addresses in
 * every constraint given (any of its zones, any of its objects and hosts,
 * the hosts carrying every label asked for, the segments of any of its
 * sites), minus those of its exclusions. The addresses are computed by the
 * compiler (pol_build), which knows the zone partition.
 */
struct pol_term {
	char *label;   /* canonical text: "resolvers", "{zone: bms, sites: fire-stations}" */
	char *setname; /* nftables-safe base name: o_<object>, x_<external>, t_<digest> */
	int *zones;    /* any of these zones (policy zone indices); NULL: no zone constraint */
	size_t nzones;
	bool has_addrs; /* an object, host or label constraint */
	struct pol_ranges addrs;
	bool has_sites;
	bool *sites; /* [inv->nsites] */
	int *except; /* indices of terms subtracted */
	size_t nexcept;
	int *objects; /* objects named (for query's answer and lint's unused objects) */
	size_t nobjects;
	int *groups;
	size_t ngroups;
	char *labels; /* the label selector as written ("app=payroll role=web"), or NULL */
};

/* One side of a rule: `any`, or the union of zones and terms. */
struct pol_rside {
	bool any;
	int *zones; /* indices into policy->zones */
	size_t nzones;
	int *terms; /* indices into policy->terms */
	size_t nterms;
};

/* A weekly time window in a timezone (core/timewin.h) */
struct pol_when {
	bool set;
	char text[128]; /* canonical: "mon-fri 22:00-02:00 Europe/Berlin" */
	uint8_t days;
	uint16_t start, end;
	char tz[64];
};

struct pol_rule {
	char *id;
	bool svc_any;
	struct pol_rside from, to;
	int *services; /* indices into policy->services */
	size_t nservices;
	enum pol_scope scope;
	enum pol_action action;
	bool log;
	char *comment, *owner;
	char expires[32];   /* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, "" when it does not expire */
	int64_t expires_at; /* Unix seconds from which it no longer matches; 0: never */
	bool expired;	    /* ended before the policy's instant (now): not compiled */
	int site;	    /* -1 for a city-wide rule, else the site of this exception */
	bool gateway;	    /* a gateway service (section gateway:): to the gateway itself */
	char **ifaces;	    /* gateway services: interface names or roles; none: every one */
	size_t nifaces;
	struct pol_limit limit;
	struct pol_when when;
	unsigned line, col;
};

/* An invariant lint checks at every gateway (section assertions:). */
struct pol_assertion {
	char *id;
	struct pol_rside from, to;
	bool svc_any;
	int *services;
	size_t nservices;
	bool allow; /* expect: allow (every such connection accepted), else deny (none) */
	char *comment;
	unsigned line, col;
};

struct policy {
	char *file;
	struct pol_zone *zones;
	size_t nzones;
	struct pol_service *services;
	size_t nservices;
	/* City-wide rules in file order, then every site's exceptions, by site and file order. */
	struct pol_rule *rules;
	size_t nrules;
	struct pol_object *objects; /* objects and external networks, in file order */
	size_t nobjects;
	struct pol_group *groups;
	size_t ngroups;
	struct pol_term *terms; /* every distinct endpoint term the rules use */
	size_t nterms;
	struct pol_assertion *assertions;
	size_t nassertions;
	int *management; /* zones that always reach the gateways (anti-lockout) */
	size_t nmanagement;
	int *dc_sites; /* inventory site indices whose segments are data-centre networks */
	size_t ndc_sites;
	struct ip_prefix *dc_prefixes; /* further data-centre networks */
	size_t ndc_prefixes;
	bool log_denied;
	int log_group;		/* NFLOG group (nft `log group`), -1 for the kernel log */
	unsigned log_rate;	/* denied packets logged per log_rate_unit */
	char log_rate_unit[16]; /* second, minute, hour */
	char date[11];		/* the day expiry is judged against */
	int64_t now; /* the instant (Unix seconds): that day's start, or the time of loading */
};

/*
 * Reads path (shown as display, or path when NULL) against inv, judging
 * expiry on date (YYYY-MM-DD; NULL = today, UTC). Every problem is a
 * located diagnostic. Returns 0 with *out set (warnings allowed), -EINVAL
 * when errors were reported, or another negative errno.
 */
int policy_load(const char *path, const char *display, const struct inventory *inv,
		const char *date, struct diag_list *dl, struct policy **out);
int policy_load_buffer(const char *buf, size_t len, const char *name, const struct inventory *inv,
		       const char *date, struct diag_list *dl, struct policy **out);
void policy_free(struct policy *p);

/* Object, group or term index by name (terms: by label), or -1. */
int policy_find_object(const struct policy *p, const char *name);
int policy_find_group(const struct policy *p, const char *name);
int policy_find_term(const struct policy *p, const char *label);

/* Zone index by name, or -1. */
int policy_find_zone(const struct policy *p, const char *name);
/* Rule index by id, or -1. */
int policy_find_rule(const struct policy *p, const char *id);

/* Parses YYYY-MM-DD (a real calendar date) into days since 1970-01-01; false when invalid. */
bool policy_parse_date(const char *s, long *days);
/*
 * Parses a rule's end: YYYY-MM-DD (the rule lasts through that day, UTC: it
 * ends at the next midnight) or an RFC 3339 time YYYY-MM-DDTHH:MM:SSZ (or with
 * an offset, +HH:MM).
 * Unix seconds in *end; false when invalid.
 */
bool policy_parse_expiry(const char *s, int64_t *end);

/* The example city's policy (examples/stuttgart/policy.yaml), NUL-terminated. */
extern const char policy_example_yaml[];

#endif
