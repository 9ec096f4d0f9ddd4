/* SPDX-License-Identifier: MIT */
/*
 * `segplan audit`: the agents' segment summaries (docs/summary.md) from any
 * number of gateways and windows, held against the inventory's current
 * policy (docs/audit.md). What is covered by an explicit accept rule, what
 * the policy denies that really happens, rules nothing hit, the smallest
 * set of zone-pair rules that would let the denied traffic through, and
 * traffic of addresses no segment holds.
 *
 * Summaries are added one at a time; a malformed one is a located
 * diagnostic and changes nothing, so the others still count. Adding is
 * commutative: the report depends on the multiset of tuples, rule hits and
 * kernel counter readings, not on which file or in which order they came.
 */
#ifndef SEGPLAN_AUDIT_H
#define SEGPLAN_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "summary/read.h"

/* Example host pairs kept per denied service. */
#define AUDIT_EXAMPLES 3

/* One summary that was read (skipped ones are diagnostics only). */
struct audit_summary {
	char *file, *site, *host;
	char *start, *end; /* the window, RFC 3339 */
	char *hash;	   /* the policy hash the agent ran, NULL without a policy */
	char *mode;	   /* enforce | observe, NULL without a policy */
	bool current;	   /* hash equals the inventory's current policy */
	bool pseudonymised;
	struct summary_counts counted; /* the tuples' flows */
	uint64_t capture_dropped;      /* packets the capture lost (kernel ring, interface) */
	uint64_t not_decoded;	       /* packets the agent could not decode */
};

struct audit_site {
	char *site;
	size_t summaries;
	struct summary_counts total, covered, denied;
};

struct audit_example {
	char *src, *dst; /* as the summary gives them: addresses or "h:" pseudonyms */
	uint64_t flows;
	const char *src_host, *dst_host; /* their hosts of hosts.csv, or NULL */
};

/* A name of the gateways' tables (a set, a term of a rule) and the flows it covered. */
struct audit_name {
	char *name;
	uint64_t flows;
};

struct audit_denial {
	char *from, *to;
	struct summary_svc svc;
	struct summary_counts c;
	uint64_t passed; /* flows that passed anyway (observe mode) */
	char **sites;	 /* sorted */
	size_t nsites;
	char **rules; /* deciding rules, sorted; NULL stands for the default drop */
	size_t nrules;
	struct audit_example ex[AUDIT_EXAMPLES];
	size_t nex;
	int suggestion; /* index into report->suggestions, -1 when none is possible */
	/* What the summaries named (enum summary_names: the sets the sources and
	 * destinations lay in, the deny rules' terms that matched), by flows. */
	struct audit_name *names[SUMMARY_NNAMES];
	size_t nnames[SUMMARY_NNAMES];
};

/* A port range, ICMP type or whole protocol of a suggested rule. */
struct audit_item {
	uint8_t proto;
	uint8_t family; /* for ICMP types: 4 (icmp) or 6 (icmpv6) */
	int lo, hi;	/* inclusive; -1 for the whole protocol */
};

struct audit_service {
	char *name;
	struct audit_item *items;
	size_t nitems;
};

/* An object a suggestion names: the observed hosts of one end. */
struct audit_object {
	char *name;
	bool existing; /* an object of the policy that holds exactly these addresses */
	char **items;  /* the hosts: hosts.csv names, then addresses */
	size_t nitems;
	struct pol_ranges addrs; /* the addresses the items stand for */
};

struct audit_suggestion {
	char *id;
	int site;	 /* inventory site index of a site exception, -1 for a city-wide rule */
	char *from, *to; /* zones */
	/*
	 * The ends (from [0], to [1]) as the observed hosts when they are few and
	 * all known: an index into report->objects, or -1 for the whole zone;
	 * zoned when the object also holds addresses outside the zone (the rule
	 * then names {zone: Z, object: O}).
	 */
	int object[2];
	bool zoned[2];
	enum pol_scope scope; /* the narrowest scope every observed connection passed */
	/* Explicit deny rules of the policy (indices) that decide some of its
	 * connections today: the suggestion would override them. */
	int *cuts;
	size_t ncuts;
	char **services; /* names: existing services and the new one */
	size_t nservices;
	struct audit_item *items; /* everything observed, ranges merged */
	size_t nitems;
	int before; /* policy rule index to insert before, -1: at the end, before the default */
	struct summary_counts c;
	char *comment, *owner;
	/* Why the rule needs a second look before anyone adds it, or NULL:
	 * "from the internet", "from addresses in no segment", "into a
	 * management zone" (audit_suggestion_risk). */
	const char *risk;
};

struct audit_rule_use {
	int rule;		    /* index into policy->rules */
	size_t judged_at;	    /* audited gateways whose table carries the rule */
	struct summary_counts hits; /* flows = new connections */
	bool kernel;		    /* some gateway reported kernel counters for it */
	uint64_t kernel_packets, kernel_bytes;
};

struct audit_unassigned {
	char *address;
	uint64_t as_src, as_dst, packets, bytes;
	char **sites;
	size_t nsites;
};

/* Summaries of a policy other than the current one, kept apart. */
struct audit_foreign {
	char *hash; /* NULL: summaries without a policy */
	char **files;
	size_t nfiles;
	struct summary_counts total, denied;
};

struct audit_report {
	char *hash; /* the current policy's */
	char *start, *end;
	struct audit_summary *summaries;
	size_t nsummaries;
	size_t skipped;
	struct summary_counts total, covered, denied;
	uint64_t passed;
	struct audit_site *sites;
	size_t nsites;
	struct audit_denial *denials; /* by flows, then bytes, descending */
	size_t ndenials;
	struct audit_rule_use *rules; /* every compiled rule of the policy, in policy order */
	size_t nrules;
	size_t unused; /* carried by some audited gateway, no hit, no kernel count */
	struct audit_suggestion *suggestions;
	size_t nsuggestions;
	struct audit_service *services; /* new named services the suggestions use */
	size_t nservices;
	struct audit_object *objects; /* the objects they name, new and existing */
	size_t nobjects;
	size_t unresolved; /* denials no rule can be suggested for (zone "-") */
	struct summary_counts unassigned;
	struct audit_unassigned *unassigned_top; /* by bytes, descending */
	size_t nunassigned;
	struct audit_foreign *foreign;
	size_t nforeign;
};

struct audit;

struct audit_opts {
	const char *owner; /* of the suggested rules; NULL: "security" */
	/* Threads audit_add_files reads and checks summaries in; 0: one per
	 * online CPU, at most AUDIT_MAX_WORKERS; 1: none besides the caller's.
	 * The result does not depend on it. */
	unsigned workers;
};

#define AUDIT_MAX_WORKERS 8

/*
 * p was loaded against inv; both must outlive the audit. The current
 * policy hash is computed as the compiler does (pol_build_hash). 0 or a
 * negative errno.
 */
int audit_new(const struct policy *p, const struct inventory *inv, const struct audit_opts *o,
	      struct audit **out);
void audit_free(struct audit *a);

/*
 * Adds one summary. A file that cannot be read or parsed, or that breaks
 * the format, is an error diagnostic located at FILE:LINE:COL where the JSON
 * parser stopped, or at FILE with the path of the bad member; it is skipped
 * whole and -EINVAL returned. A second summary of the same gateway, host and
 * window is a warning and skipped (counted once). -ENOMEM otherwise fails.
 */
int audit_add_file(struct audit *a, const char *path, struct diag_list *dl);
/*
 * Adds n files as n calls of audit_add_file in that order would, with the
 * same report and the same diagnostics in the same order; the files are
 * read, parsed and checked in parallel (audit_opts.workers), and counted in
 * order. 0, -EINVAL when some file was skipped, or -ENOMEM.
 */
int audit_add_files(struct audit *a, const char *const *paths, size_t n, struct diag_list *dl);
int audit_add_buffer(struct audit *a, const char *buf, size_t len, const char *name,
		     struct diag_list *dl);
int audit_add_json(struct audit *a, const json_t *j, const char *name, struct diag_list *dl);

/* The report of everything added so far. 0 or -ENOMEM. */
int audit_report(const struct audit *a, struct audit_report **out);
void audit_report_free(struct audit_report *r);

/* True when something is denied, a carried rule is unused, a summary was
 * skipped, or a summary ran another policy. */
bool audit_has_findings(const struct audit_report *r);

/* "tcp/445", "icmp/echo-request", "icmpv6/128", "gre", "udp/5000-5010". */
void audit_svc_text(const struct summary_svc *s, char *buf, size_t size);
void audit_item_text(const struct audit_item *it, char *buf, size_t size);

/* The report as JSON (docs/audit.md). NULL on out of memory. */
json_t *audit_report_json(const struct audit_report *r, const struct policy *p,
			  const struct inventory *inv);

/*
 * The suggested rules as a policy.yaml fragment (docs/audit.md): a
 * `services:` and a `rules:` section, and `sites:` for site exceptions,
 * each rule preceded by a comment line `# insert before: ID` or
 * `# insert at the end, before the default`. malloc'ed text, or NULL.
 */
char *audit_suggest_yaml(const struct audit_report *r, const struct policy *p,
			 const struct inventory *inv);

#endif
