/* SPDX-License-Identifier: MIT */
/*
 * `segplan policy lint`: what a policy's rules really decide (docs/policy-lint.md).
 *
 * The analysis is exact, not sampled. Every packet a gateway judges falls in
 * one *atom*: the address family, the source and destination endpoints (a
 * class of addresses alike for every rule: the same zone, the same place
 * inside or outside the data-centre networks, the same membership in every
 * endpoint term of the policies), and the
 * relation of the two ends as the gateway sees them (both in its own
 * segments; one there and one at another site of its district; one there and
 * one elsewhere). Which atoms exist is computed from the inventory, per
 * gateway. Inside an atom the rules differ only by service, a set of points
 * on the *service line*: every IP protocol, with its ports (TCP, UDP, DCCP,
 * UDP-Lite, SCTP: 0-65535) or ICMP/ICMPv6 types (0-255) laid end to end, so
 * that a rule's services are a short list of intervals and coverage is
 * interval arithmetic.
 *
 * The same model serves `segplan policy diff` (analysis/diff.h).
 */
#ifndef SEGPLAN_LINT_H
#define SEGPLAN_LINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/yamlread.h"
#include "inventory/inventory.h"
#include "policy/policy.h"

/* ------------------------------------------------------------------ */
/* The service line */

struct lint_iv {
	uint32_t lo, hi; /* inclusive */
};

/* Sorted, disjoint, non-adjacent intervals. */
struct lint_ivset {
	struct lint_iv *v;
	size_t n, cap;
};

/* The point of (protocol, port or ICMP type) on the service line. */
uint32_t lint_svc_point(uint8_t proto, unsigned port_or_type);
/* Is x in s? (binary search) */
bool lint_ivset_contains(const struct lint_ivset *s, uint32_t x);
void lint_ivset_free(struct lint_ivset *s);

/*
 * The ICMP points that conntrack calls invalid as the first packet of a
 * connection (!pol_icmp_can_open): dropped before any rule, so no rule decides
 * them and no finding or change ever concerns them, even where a box's
 * services span them.
 */
bool lint_svc_is_fixed(uint8_t family, uint32_t point);

/* ------------------------------------------------------------------ */
/* Boxes: products of sets, the form findings and changes are reported in */

enum lint_rel {
	LINT_REL_SITE,	    /* both ends in the gateway's own segments */
	LINT_REL_DISTRICT,  /* one there, the other at another site of its district */
	LINT_REL_ELSEWHERE, /* one there, the other anywhere else */
	LINT_REL_COUNT
};
extern const char *const lint_rel_names[LINT_REL_COUNT];

/*
 * An endpoint is a class of addresses with one membership signature: its
 * zone, whether it lies in the data-centre networks, and which endpoint terms
 * (objects, hosts, labels, site groups, exclusions: policy->terms) hold it.
 * The classes in no term are the plain endpoints zone * 2 + dc, the zone an
 * index into the space's zone names and dc whether the address lies in the
 * data-centre networks; the classes in some term follow, from 2 * nzones on.
 * A stage-1 policy (no terms) has the plain endpoints only.
 */
struct lint_box {
	unsigned fams;	       /* bit 0: IPv4, bit 1: IPv6 */
	unsigned rels;	       /* bit per enum lint_rel */
	bool *from, *to;       /* per endpoint */
	struct lint_ivset svc; /* services (invalid ICMP points may be included: see above) */
};

/* A point of the space, for membership tests. */
struct lint_point {
	uint8_t family;
	int from, to; /* endpoints */
	enum lint_rel rel;
	uint32_t svc; /* lint_svc_point */
};

bool lint_box_contains(const struct lint_box *b, const struct lint_point *pt);

/* A class in some term: endpoint 2 * nzones + k. */
struct lint_class {
	int zone;
	bool dc;
	char *label; /* "servers [core, {app: payroll, role: web}]", "admin [not {except: [guest]}]"
		      */
};

/* The zone names and classes boxes refer to, and which endpoints exist at all. */
struct lint_names {
	char **zones;
	size_t nzones;
	bool *seen;		    /* per endpoint: some address of the inventory falls in it */
	size_t ne;		    /* endpoints: 2 * nzones plain ones, then the classes */
	struct lint_class *classes; /* [ne - 2 * nzones] */
	char *
	    *plain; /* [2 * nzones]: a plain endpoint's label where its zone has classes, or NULL */
};

/* dst (empty) becomes a copy of src, for a report that outlives its space:
 * 0 or -ENOMEM (then what was copied is left for lint_names_clear). */
int lint_names_copy(struct lint_names *dst, const struct lint_names *src);
void lint_names_clear(struct lint_names *n);

/* The plain endpoint of zone name and dc flag (in no term), or -1 for an unknown zone. */
int lint_endpoint(const struct lint_names *n, const char *zone, bool dc);
/* An endpoint's zone (index into n->zones) and data-centre flag. */
int lint_endpoint_zone(const struct lint_names *n, int e);
bool lint_endpoint_dc(const struct lint_names *n, int e);
/* An endpoint as a name: "servers", "servers[dc]", "servers [core, {role: web}]" (malloc'ed). */
char *lint_endpoint_text(const struct lint_names *n, int e);

/* {"family", "from", "to", "relation", "services"} (docs/policy-lint.md). */
json_t *lint_box_json(const struct lint_names *n, const struct lint_box *b);
/* One line: "ipv4 admin -> servers[dc] tcp/445 (same-site)". */
char *lint_box_text(const struct lint_names *n, const struct lint_box *b);

/* ------------------------------------------------------------------ */
/* Lint */

enum lint_kind {
	LINT_SHADOWED,	      /* earlier rules decide everything it matches */
	LINT_UNMATCHABLE,     /* no gateway ever judges a packet it matches */
	LINT_REDUNDANT,	      /* removing it changes no decision */
	LINT_OVERLAP,	      /* an earlier rule with the opposite action takes part of it */
	LINT_OVERRIDE,	      /* a site exception overrides a city-wide rule (a note) */
	LINT_ANY_ANY,	      /* accepts anything from anywhere to anywhere */
	LINT_BROAD,	      /* accepts any service from any source or to any destination */
	LINT_INTERNET_ANY,    /* accepts any service from or to the internet */
	LINT_EMPTY_ZONE,      /* a declared zone with no segment */
	LINT_EXPIRED,	      /* past its expiry date: not compiled */
	LINT_EXPIRING,	      /* expires within LINT_EXPIRY_WARN_DAYS */
	LINT_ACCEPTS_NOTHING, /* no compiled rule accepts anything (rules: []) */
	LINT_UNUSED_SERVICE,  /* a service that no rule names */
	LINT_MGMT_RISK,	      /* a management zone open to guests, pupils or the internet */
	LINT_NO_MGMT,	      /* no management zone with hosts: nothing prevents a lockout */
	LINT_OPEN_BGP,	      /* gateways that accept BGP from any address */
	LINT_UNUSED_OBJECT,   /* an object or external network that nothing used names */
	LINT_UNUSED_GROUP,    /* a site group that nothing names */
	LINT_OBJECT_OVERLAP,  /* an object across zones, or partly inside the city plan */
	LINT_EMPTY_TERM,      /* a rule side's term that holds no address */
	LINT_ASSERTION,	      /* an assertion that the compiled rules break (an error) */
	LINT_KIND_COUNT
};
extern const char *const lint_kind_names[LINT_KIND_COUNT];

#define LINT_EXPIRY_WARN_DAYS 30
/* How far ahead time windows are judged: the compiler's horizon (compile/compile.c). */
#define LINT_WINDOW_HORIZON_DAYS 366

/*
 * A concrete connection that breaks an assertion: from one address to
 * another with one service, at a time (0 when no rule has a time window),
 * and what each judging gateway decides (rule: index into policy->rules, -1
 * for the default drop).
 */
struct lint_flow {
	struct ip_addr src, dst;
	uint8_t proto;
	int port;      /* for protocols with ports, else -1 */
	int icmp_type; /* for ICMP and ICMPv6, else -1 */
	int64_t time;
	int src_ep, dst_ep; /* endpoints */
	size_t njudges;
	int judges[2]; /* inventory site indices, in pol_build_judges' order */
	int rules[2];
	bool accepted[2];
};
struct lint_finding {
	enum lint_kind kind;
	enum diag_severity severity;
	unsigned line, col; /* in the policy file */
	int rule;	    /* index into policy->rules, or -1 */
	int zone;	    /* index into policy->zones (LINT_EMPTY_ZONE), or -1 */
	int service;	    /* index into policy->services (LINT_UNUSED_SERVICE), or -1 */
	int site;	    /* the site whose view found it (exceptions), or -1 */
	int *others;	    /* the rules it names (covering, overlapping, taking over) */
	size_t nothers;
	struct lint_box *boxes; /* LINT_OVERLAP, LINT_OVERRIDE: the packets concerned */
	size_t nboxes;
	int assertion;		/* index into policy->assertions (LINT_ASSERTION), or -1 */
	int object;		/* LINT_UNUSED_OBJECT, LINT_OBJECT_OVERLAP, or -1 */
	int group;		/* LINT_UNUSED_GROUP, or -1 */
	struct lint_flow *flow; /* LINT_ASSERTION: the connection that breaks it */
	char *msg;
	char *file; /* where line:col point: NULL for the policy file, else (sites.csv) */
};

struct lint_report {
	struct lint_names names;
	struct lint_finding *v;
	size_t n;
	size_t views; /* rule lists analysed: the city-wide one and one per site with exceptions */
	size_t atoms; /* atoms that exist, summed over the views */
	size_t classes;	 /* endpoints that exist */
	size_t gateways; /* gateways that differ for the model (district, endpoints at home) */
	size_t regimes;	 /* combinations of time windows open and shut */
	size_t errors;	 /* findings of severity error (failing assertions) */
};

/*
 * Lints p (loaded against inv). doc, when not NULL, is the policy file's
 * YAML tree, used to locate zone declarations. Findings are also added to
 * dl (file p->file), for printing. 0 or a negative errno.
 */
int lint_policy(const struct policy *p, const struct inventory *inv, const struct ydoc *doc,
		struct diag_list *dl, struct lint_report **out);
void lint_report_free(struct lint_report *r);

/* {"kind", "severity", "file", "line", "col", "rule", "site", "rules", "message", ...}. */
json_t *lint_finding_json(const struct policy *p, const struct inventory *inv,
			  const struct lint_report *r, const struct lint_finding *f);

/* {"src", "dst", "from", "to", "protocol", "port", "icmp_type", "time", "judges": [{"site",
 * "verdict", "rule"}]}. */
json_t *lint_flow_json(const struct policy *p, const struct inventory *inv,
		       const struct lint_names *n, const struct lint_flow *fl);

/* ------------------------------------------------------------------ */
/* The model, shared with analysis/diff.c */

struct lint_space;
struct lint_model;

/*
 * A space over the union of the zone names of up to two policies and the
 * atoms that exist in their inventories. pols[i] was loaded against invs[i].
 */
int lint_space_new(const struct policy *const *pols, const struct inventory *const *invs, size_t n,
		   struct lint_space **out);
void lint_space_free(struct lint_space *s);
const struct lint_names *lint_space_names(const struct lint_space *s);
size_t lint_space_natoms(const struct lint_space *s);

/* Endpoints that exist (some address in them), and distinct gateways of input which. */
size_t lint_space_nclasses(const struct lint_space *s);
size_t lint_space_ngateways(const struct lint_space *s, size_t which);
/* The endpoint of address a in input which, or -1 (no zone, or a gateway's own address). */
int lint_space_endpoint(const struct lint_space *s, size_t which, const struct ip_addr *a);
size_t lint_atom_index(const struct lint_space *s, uint8_t family, int from, int to,
		       enum lint_rel rel);
/*
 * One instant for each combination of the inputs' time windows open and shut
 * that occurs between their date and the horizon (or the first expiry); {0}
 * when no rule has a window. *times is malloc'ed.
 */
int lint_space_regimes(const struct lint_space *s, int64_t **times, size_t *n);

/*
 * Marks in real (lint_space_natoms entries) the atoms that some gateway of
 * invs[which] judges; only gateways whose site id keep() accepts (all when
 * keep is NULL).
 */
void lint_space_realise(const struct lint_space *s, size_t which,
			bool (*keep)(const char *site, void *ctx), void *ctx, bool *real);

/* The atom's parts. */
void lint_atom_parts(const struct lint_space *s, size_t atom, uint8_t *family, int *from, int *to,
		     enum lint_rel *rel);

/*
 * The forward rules as one gateway sees them: site's exceptions (site an
 * index of invs[which]) first, then the city-wide rules; gateway services are
 * the input chain's and not in it. Every time window is open until
 * lint_model_set_time.
 */
int lint_model_new(const struct lint_space *s, size_t which, int site, struct lint_model **out);
void lint_model_free(struct lint_model *m);
size_t lint_model_nrules(const struct lint_model *m);
/* The policy rule (index into policy->rules) of the model's k-th rule. */
int lint_model_rule(const struct lint_model *m, size_t k);
/* Opens and shuts the windowed rules as at Unix time t (0: every window open). */
void lint_model_set_time(struct lint_model *m, int64_t t);
/* The model rule that decides service point `point` in atom, -1 for the default drop,
 * -2 for an invalid ICMP point (dropped before any rule). */
int lint_model_verdict(const struct lint_model *m, size_t atom, uint32_t point);

/*
 * First-match decision inside atom: parts[k] gets the services rule k
 * decides there, *rest what falls through to the default drop (invalid ICMP points
 * points excluded from both). The caller frees the sets.
 */
int lint_model_decide(const struct lint_model *m, size_t atom, struct lint_ivset *parts,
		      struct lint_ivset *rest);

/*
 * The input chain of site's gateway (input which): the gateway services it
 * offers (pol_build_offers), in policy order; the management zones come
 * before them (lint_model_management). Decided per source endpoint: the
 * destination is the gateway itself.
 */
int lint_model_new_input(const struct lint_space *s, size_t which, int site,
			 struct lint_model **out);
bool lint_model_management(const struct lint_model *m, int from);
int lint_model_decide_input(const struct lint_model *m, uint8_t family, int from,
			    struct lint_ivset *parts, struct lint_ivset *rest);
/* Do two models hold the same policy rules in the same order? */
bool lint_model_same_rules(const struct lint_model *a, const struct lint_model *b);

/* A side's endpoints and a service set as names (as in boxes). */
json_t *lint_endpoints_json(const struct lint_names *n, const bool *set);
char *lint_endpoints_text(const struct lint_names *n, const bool *set);
json_t *lint_services_json(const struct lint_ivset *svc);
char *lint_services_text(const struct lint_ivset *svc);

/* Interval-set algebra (results into out, which is overwritten). */
int lint_ivset_union(const struct lint_ivset *a, const struct lint_ivset *b,
		     struct lint_ivset *out);
int lint_ivset_inter(const struct lint_ivset *a, const struct lint_ivset *b,
		     struct lint_ivset *out);
int lint_ivset_minus(const struct lint_ivset *a, const struct lint_ivset *b,
		     struct lint_ivset *out);
bool lint_ivset_equal(const struct lint_ivset *a, const struct lint_ivset *b);
/* Adds the invalid ICMP points of family: the canonical form boxes are merged in. */
int lint_ivset_add_fixed(struct lint_ivset *s, uint8_t family);

/*
 * Merges boxes (all with endpoint arrays of 2 * nzones) that differ in one
 * dimension only, until none do; *n shrinks. Frees the merged-away boxes.
 */
int lint_boxes_merge(struct lint_box *v, size_t *n, size_t nendpoints);
void lint_box_free(struct lint_box *b);
/* A box of one atom with services svc (copied). */
int lint_box_atom(const struct lint_space *s, size_t atom, const struct lint_ivset *svc,
		  struct lint_box *out);

#endif
