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

struct pol_rule {
	char *id;
	bool from_any, to_any, svc_any;
	int *from, *to; /* indices into policy->zones */
	size_t nfrom, nto;
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
