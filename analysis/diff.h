/* SPDX-License-Identifier: MIT */
/*
 * `segplan policy diff`: the semantic difference of two policies
 * (docs/policy-lint.md): the packets whose verdict changes, as boxes of
 * (family, source zones, destination zones, relation of the ends, services),
 * each with the verdict and the deciding rule before and after. Built on the
 * exact model of analysis/lint.h, so reordering independent rules, renaming
 * a service or splitting a rule into equivalent ones gives no change.
 */
#ifndef SEGPLAN_DIFF_H
#define SEGPLAN_DIFF_H

#include <jansson.h>
#include <stddef.h>

#include "analysis/lint.h"
#include "compile/gateway.h"
#include "inventory/inventory.h"
#include "policy/policy.h"

struct diff_side {
	enum pol_action action;
	int rule; /* index into that policy's rules; -1 for the default drop */
};

struct diff_change {
	/*
	 * The gateway: NULL for every gateway without exceptions of its own (in
	 * either policy), else the site id of one that has some.
	 */
	const char *site;
	struct diff_side before, after;
	struct lint_box box;
};

/* A zone added to or removed from `management`: its hosts reach every gateway itself. */
struct diff_mgmt {
	char *zone;
	bool added;		 /* else removed */
	struct ip_prefix *hosts; /* the zone's prefixes (gw_zone_prefixes), in its inventory */
	size_t nhosts;
	char **gateways; /* every gateway of that inventory: anti-lockout applies everywhere */
	size_t ngateways;
};

/* A setting that differs: logging (rule NULL, or a rule's `log`) or a rule's `expires`. */
struct diff_setting {
	const char *key;      /* "denied", "group", "rate", "log", "expires" */
	char *rule;	      /* the rule's id, NULL for a policy-wide setting */
	char *before, *after; /* NULL: absent (no expiry, no log group) */
};

/* The routing-protocol access of one gateway that differs (compile/gateway.h). */
struct diff_gateway {
	char *site;
	struct gw_access *added, *removed;
	size_t nadded, nremoved;
};

/*
 * Traffic to the gateways themselves whose verdict changes: sources (a box
 * with `to` empty), services, on the gateways listed, through their gateway
 * services (the input chain; sources in a management zone of either policy
 * are the `management` section's).
 */
struct diff_service {
	char **gateways; /* site ids */
	size_t ngateways;
	struct diff_side before, after;
	struct lint_box box;
};

struct diff_report {
	struct lint_names names; /* the zones the boxes refer to */
	struct diff_change *v;
	size_t n;
	struct diff_mgmt *mgmt;
	size_t nmgmt;
	struct diff_setting *logging, *expiry;
	size_t nlogging, nexpiry;
	struct diff_gateway *gateways;
	size_t ngateways;
	char **sites; /* the sites with exceptions, each its own view */
	size_t nsites;
	size_t atoms; /* atoms compared, summed over the views */
	struct diff_service *services;
	size_t nservices;
	size_t classes; /* endpoints that exist in either inventory */
	size_t regimes; /* combinations of time windows compared */
};

/*
 * Compares the decisions of policy b (loaded against inventory ib) with
 * those of a (against ia). Zones and sites are matched by name. 0 or a
 * negative errno.
 */
int diff_policies(const struct policy *a, const struct inventory *ia, const struct policy *b,
		  const struct inventory *ib, struct diff_report **out);
void diff_report_free(struct diff_report *d);

/* {"site", "family", "from", "to", "relation", "services", "before", "after"}. */
json_t *diff_change_json(const struct diff_report *d, const struct policy *a,
			 const struct policy *b, const struct diff_change *c);
/* "S000002: admin -> servers[dc] tcp/445 (same-site): accept (rule 'x') -> drop (default)". */
char *diff_change_text(const struct diff_report *d, const struct policy *a, const struct policy *b,
		       const struct diff_change *c);

/* Everything that differs: forward changes and the other sections. */
size_t diff_count(const struct diff_report *d);

/* {"zone", "change": "added"|"removed", "hosts": [...], "gateways": [...]}. */
json_t *diff_mgmt_json(const struct diff_mgmt *m);
/* "management: zone 'admin' added: 10.0.0.0/25, fd5e::/64 newly reach all 5 gateways: DC1, ...". */
char *diff_mgmt_text(const struct diff_mgmt *m);
/* {"setting"|"rule", "before", "after"}; text "logging: rate 5/second -> 10/minute". */
json_t *diff_setting_json(const struct diff_setting *s);
char *diff_setting_text(const char *section, const struct diff_setting *s);
/* {"gateways", "family", "from", "services", "before", "after"}; text
 * "gateway service on S1: ipv4 monitoring [mon1] udp/161: drop (default) -> accept (rule 'snmp')".
 */
json_t *diff_service_json(const struct diff_report *d, const struct policy *a,
			  const struct policy *b, const struct diff_service *c);
char *diff_service_text(const struct diff_report *d, const struct policy *a, const struct policy *b,
			const struct diff_service *c);
/* {"site", "added": [access...], "removed": [...]}; text one line per access. */
json_t *diff_gateway_json(const struct diff_gateway *g);
char *diff_gateway_text(const struct diff_gateway *g);

#endif
