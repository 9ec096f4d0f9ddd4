/* SPDX-License-Identifier: MIT */
/*
 * The policy evaluator: the one piece of code that decides what a gateway
 * does with a new connection. The planner uses it for `segplan policy query`,
 * the compiler renders the same table into nftables sets and rules, and the
 * agent on a gateway loads the table from <site>.policy.json
 * (docs/policy-json.md). It depends on core/ only: no inventory, no graph.
 *
 * A table holds, for one gateway (or for the whole city, to classify):
 *  - the zones, by index;
 *  - address range lists: the zone partition (range -> zone, disjoint), the
 *    city plan, the gateway's own segments (local), its district's segments,
 *    the data-centre networks, and optionally range -> site;
 *  - the rules that apply at this gateway, in evaluation order (this site's
 *    exceptions first, then the city-wide rules), first match wins;
 *  - the mode (enforce or observe).
 */
#ifndef SEGPLAN_EVAL_H
#define SEGPLAN_EVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/prefix.h"
#include "core/proto.h"

/* Version of the <site>.policy.json format written and accepted. */
#define POL_TABLE_FORMAT 1

enum pol_action { POL_ACCEPT, POL_DROP, POL_REJECT, POL_ACTION_COUNT };
enum pol_scope {
	POL_SCOPE_ANY,
	POL_SCOPE_SAME_SITE,	 /* both ends in this gateway's own segments */
	POL_SCOPE_SAME_DISTRICT, /* both ends in segments of this gateway's district */
	POL_SCOPE_DC_ONLY,	 /* the destination is in the data-centre networks */
	POL_SCOPE_COUNT
};
enum pol_mode { POL_MODE_ENFORCE, POL_MODE_OBSERVE, POL_MODE_COUNT };

enum pol_zone_kind {
	POL_ZONE_SEGMENT,    /* a zone of segments.csv */
	POL_ZONE_VPN,	     /* a VPN pool of addressplan.csv (vpn-<group>) */
	POL_ZONE_UNASSIGNED, /* inside the city plan, in no segment and no pool */
	POL_ZONE_INTERNET,   /* outside the city plan */
	POL_ZONE_DC,	     /* the data-centre networks (an overlay, not a partition zone) */
	POL_ZONE_OTHER,	     /* zones no rule of this gateway names, merged */
	POL_ZONE_SPECIAL,    /* outside the city: never-routed special-purpose ranges */
	POL_ZONE_PRIVEXT,    /* outside the city: RFC 1918, RFC 6598, ULA space (partners) */
	POL_ZONE_KIND_COUNT
};

extern const char *const pol_action_names[POL_ACTION_COUNT];
extern const char *const pol_scope_names[POL_SCOPE_COUNT];
extern const char *const pol_mode_names[POL_MODE_COUNT];
extern const char *const pol_zone_kind_names[POL_ZONE_KIND_COUNT];

/* ------------------------------------------------------------------ */
/* Address range lists */

struct pol_range {
	struct ip_addr first, last; /* inclusive, same family */
	int val;		    /* zone or site index; 0 in plain sets */
};

struct pol_ranges {
	struct pol_range *v;
	size_t n, cap;
};

int pol_ranges_add(struct pol_ranges *r, const struct ip_addr *first, const struct ip_addr *last,
		   int val);
int pol_ranges_add_prefix(struct pol_ranges *r, const struct ip_prefix *p, int val);
/*
 * Sorts, and merges overlapping or adjacent ranges with the same value.
 * Any two ranges with different values that share an address (not only
 * neighbours after sorting) are -EEXIST (the list is left sorted but
 * unmerged). O(n log n). 0 or a negative errno.
 */
int pol_ranges_normalize(struct pol_ranges *r);
/* The range holding a, or NULL (binary search; r must be normalized). */
const struct pol_range *pol_ranges_find(const struct pol_ranges *r, const struct ip_addr *a);
void pol_ranges_free(struct pol_ranges *r);
/* Set arithmetic on normalized lists (values ignored; results carry 0):
 * appends the addresses of family fam that no range of r covers; appends
 * a minus b in family fam; out = a and b (both families, normalized). */
int pol_ranges_complement(const struct pol_ranges *r, uint8_t fam, struct pol_ranges *out);
int pol_ranges_subtract(const struct pol_ranges *a, const struct pol_ranges *b, uint8_t fam,
			struct pol_ranges *out);
int pol_ranges_intersect(const struct pol_ranges *a, const struct pol_ranges *b,
			 struct pol_ranges *out);
/* Appends src to dst (values 0) and normalizes dst. */
int pol_ranges_copy_into(struct pol_ranges *dst, const struct pol_ranges *src);
/* Is the range exactly one CIDR prefix? Fills *p when so. */
bool pol_range_is_prefix(const struct pol_range *r, struct ip_prefix *p);

/* ------------------------------------------------------------------ */
/* What a rule matches besides addresses */

struct pol_ports {
	uint8_t proto; /* one with ports (proto_has_ports) */
	uint16_t lo, hi;
};

struct pol_match {
	bool any; /* every packet; the lists are then empty */
	struct pol_ports *ports;
	size_t nports;
	uint8_t *icmp; /* ICMP types (RFC 792) */
	size_t nicmp;
	uint8_t *icmp6; /* ICMPv6 types (RFC 4443) */
	size_t nicmp6;
	uint8_t *protos; /* whole IP protocols */
	size_t nprotos;
};

/* Appends every item of src to dst (duplicates removed, lists sorted). */
int pol_match_merge(struct pol_match *dst, const struct pol_match *src);
void pol_match_free(struct pol_match *m);

/* ------------------------------------------------------------------ */
/* Rules of a table */

/*
 * One side of a rule: `any`, or the union of zones (indices of the table; a
 * POL_ZONE_DC zone matches the dc list) and address sets (indices of the
 * table's named sets: objects, external networks, hosts selected by labels,
 * endpoints at a site group, exclusions already subtracted).
 */
struct pol_side {
	bool any;
	int *zones;
	size_t nzones;
	int *sets;
	size_t nsets;
};

/* A rate limit on the new connections a rule accepts (nft `limit rate over`). */
struct pol_limit {
	unsigned rate;	 /* 0: none */
	char unit[8];	 /* second, minute, hour, day */
	unsigned burst;	 /* 0: nft's default */
	bool per_source; /* per source address (a dynamic set), else for the whole rule */
};

/* An occurrence of a rule's time window, in UTC (inclusive Unix seconds). */
struct pol_span {
	int64_t first, last;
};

struct pol_trule {
	char *id;
	enum pol_action action;
	enum pol_scope scope;
	bool log;
	bool exception; /* a site exception of this gateway */
	bool gateway;	/* a gateway service: traffic to the gateway itself (input chain) */
	struct pol_side from, to;
	struct pol_match svc;
	struct pol_limit limit;
	char
	    *window; /* the time window as written ("mon-fri 22:00-02:00 Europe/Berlin"), or NULL */
	struct pol_span *spans; /* its occurrences in the table's horizon, sorted, disjoint */
	size_t nspans;
	char **ifaces; /* gateway services: the interfaces they are accepted on (none: every one) */
	size_t nifaces;
	char *svc_names; /* the policy's service names joined by ',' (NULL for any) */
	char *comment;
	int64_t expires; /* Unix seconds from which the rule no longer matches; 0: never */
};

/* ------------------------------------------------------------------ */
/* The table */

enum pol_list {
	POL_L_ZONES,	/* the zone partition: val = zone index */
	POL_L_CITY,	/* the city plan */
	POL_L_LOCAL,	/* this gateway's own segments */
	POL_L_DISTRICT, /* segments of the sites of this gateway's district */
	POL_L_DC,	/* data-centre networks */
	POL_L_SITES,	/* val = site index (only in classification tables) */
	POL_L_SELF,	/* the gateway's own interface addresses (input chain) */
	POL_L_MGMT,	/* the management zones' networks: the input chain's anti-lockout */
	POL_L_COUNT
};

struct pol_table;

struct pol_table *pol_table_new(void);
void pol_table_free(struct pol_table *t);

/* Finds or adds a zone; its index, or a negative errno. */
int pol_table_add_zone(struct pol_table *t, const char *name, enum pol_zone_kind kind);
int pol_table_find_zone(const struct pol_table *t, const char *name);
size_t pol_table_nzones(const struct pol_table *t);
const char *pol_table_zone_name(const struct pol_table *t, int zone);
enum pol_zone_kind pol_table_zone_kind(const struct pol_table *t, int zone);

/* Adds a site name; its index, or a negative errno. */
int pol_table_add_site(struct pol_table *t, const char *name);
const char *pol_table_site_name(const struct pol_table *t, int site);
size_t pol_table_nsites(const struct pol_table *t);

/* The lists are filled directly, then pol_table_seal normalizes them. */
struct pol_ranges *pol_table_list(struct pol_table *t, enum pol_list l);
const struct pol_ranges *pol_table_clist(const struct pol_table *t, enum pol_list l);

/*
 * Named address sets of a table (docs/policy.md, objects): name is the
 * nftables-safe set base name (o_<object>, x_<external>, t_<digest>), label
 * what the policy calls it. The ranges are copied and normalized. The index,
 * or a negative errno (-EEXIST for a name already there).
 */
int pol_table_add_set(struct pol_table *t, const char *name, const char *label,
		      const struct pol_ranges *r);
int pol_table_find_set(const struct pol_table *t, const char *name);
size_t pol_table_nsets(const struct pol_table *t);
const char *pol_table_set_name(const struct pol_table *t, int set);
const char *pol_table_set_label(const struct pol_table *t, int set);
const struct pol_ranges *pol_table_set(const struct pol_table *t, int set);

/* Deep copy and release. */
int pol_side_copy(struct pol_side *dst, const struct pol_side *src);
void pol_side_free(struct pol_side *s);

/* Deep-copies r (indices must be valid zones and sets). 0 or a negative errno. */
int pol_table_add_rule(struct pol_table *t, const struct pol_trule *r);
size_t pol_table_nrules(const struct pol_table *t);
const struct pol_trule *pol_table_rule(const struct pol_table *t, size_t i);

/*
 * Normalizes every list. The zone partition must not overlap; the function
 * returns -EEXIST when it does. 0 or a negative errno.
 */
int pol_table_seal(struct pol_table *t);

/* Metadata carried into policy.json; strings are copied. NULL clears. */
struct pol_table_meta {
	const char *gateway;  /* the site id of the gateway, NULL for a city table */
	const char *district; /* its district */
	enum pol_mode mode;
	const char *hash; /* hex SHA-256 of the policy and the plan */
	const char *date; /* the date expiry was judged against, YYYY-MM-DD */
	const char *generator;
};
int pol_table_set_meta(struct pol_table *t, const struct pol_table_meta *m);
void pol_table_get_meta(const struct pol_table *t, struct pol_table_meta *m);

/* ------------------------------------------------------------------ */
/* Classification and decisions */

struct pol_class {
	int zone;      /* the partition zone; unassigned or internet outside it */
	int site;      /* site index when the table knows it, else -1 */
	bool city;     /* inside the city plan */
	bool local;    /* in this gateway's segments */
	bool district; /* in its district's segments */
	bool dc;       /* in the data-centre networks */
};

/*
 * Special-purpose ranges (RFC 6890 and the IANA registries: never routed on
 * the internet) and private ranges (RFC 1918, RFC 6598 shared space, RFC 4193
 * unique local addresses). Outside the city plan, an address in the first is
 * in the pseudo-zone `special`, one in the second in `private-external`, any
 * other in `internet`. NULL-terminated lists of prefix strings.
 */
extern const char *const pol_special_prefixes[];
extern const char *const pol_private_prefixes[];
/* Those lists as normalized ranges, for kind POL_ZONE_SPECIAL or POL_ZONE_PRIVEXT. */
const struct pol_ranges *pol_outside_ranges(enum pol_zone_kind kind);

/* Classifies an address. The table must be sealed. */
void pol_classify(const struct pol_table *t, const struct ip_addr *a, struct pol_class *out);

struct pol_tuple {
	struct ip_addr src, dst; /* same family */
	uint8_t proto;		 /* IANA protocol number */
	uint16_t dport;		 /* for protocols with ports */
	int icmp_type;		 /* for ICMP/ICMPv6; -1 when unknown */
	int64_t time;		 /* when the connection opened (Unix seconds); 0: ignore expiry */
};

enum pol_outcome {
	POL_BY_RULE,	   /* a rule decided */
	POL_BY_DEFAULT,	   /* no rule matched: default drop */
	POL_BY_TRANSIT,	   /* neither end is this gateway's: passes */
	POL_BY_INVALID,	   /* conntrack calls it invalid: an ICMP message that cannot open
			      a connection (an unsolicited error, a reply); dropped */
	POL_BY_RELATED,	   /* an ICMP error RELATED to a tracked connection: passes with it.
			      Only the agent, which sees the connection, says so; pol_decide
			      never does */
	POL_BY_MANAGEMENT, /* to the gateway itself from a management network: the
			      input chain's anti-lockout accepts it before any rule */
	POL_BY_FIXED,	   /* to the gateway itself: a fixed accept of the input chain
			      (neighbour discovery, MLD reports, DHCP from a segment) */
	POL_OUTCOME_COUNT
};
extern const char *const pol_outcome_names[POL_OUTCOME_COUNT];

struct pol_verdict {
	enum pol_outcome by;
	enum pol_action action; /* what the policy says */
	bool passes;		/* what the gateway does (observe mode lets everything pass) */
	int rule;		/* index of the deciding rule, -1 otherwise */
	bool to_gateway;	/* the destination is the gateway itself (input chain) */
	struct pol_class src, dst;
};

/* Does address a lie on this side of a rule, classified as c? */
bool pol_side_matches(const struct pol_table *t, const struct pol_side *sd, const struct ip_addr *a,
		      const struct pol_class *c);

/* Does rule r match the tuple whose ends classify as s and d? */
bool pol_rule_matches(const struct pol_table *t, const struct pol_trule *r,
		      const struct pol_tuple *tp, const struct pol_class *s,
		      const struct pol_class *d);

/*
 * Can a packet of this ICMP (family 4) or ICMPv6 (6) type be the first of a
 * connection? Linux conntrack (nf_conntrack_proto_icmp.c, _icmpv6.c) creates
 * a connection only for queries (echo, timestamp, information and address
 * mask requests; ICMPv6 echo and node information queries). An error is
 * RELATED to the connection it quotes and passes with it; one that quotes no
 * tracked connection, and every other message that is not part of a
 * connection, is INVALID and dropped before any rule. ND and MLD messages are
 * not tracked at all (untracked) and are judged by the rules. True for every
 * non-ICMP protocol.
 */
bool pol_icmp_can_open(uint8_t family, uint8_t proto, int type);

/*
 * Decides a new connection at the table's gateway, exactly as the compiled
 * forward chain does: transit, then what conntrack calls invalid
 * (pol_icmp_can_open), then the rules in order, then the default drop.
 * A connection to one of the gateway's own addresses (POL_L_SELF) is judged
 * as the input chain judges it: the management networks first (anti-lockout),
 * then the gateway services in order, then the default drop. A limited rule
 * decides (the verdict is its action; the kernel drops what exceeds the rate,
 * which a single connection cannot tell). Time windows are judged at tp->time
 * (0: the window is ignored, as for expiry).
 * 0, or -EINVAL for mixed families.
 */
int pol_decide(const struct pol_table *t, const struct pol_tuple *tp, struct pol_verdict *out);

/* ------------------------------------------------------------------ */
/* <site>.policy.json (docs/policy-json.md) */

/* A new JSON object for the table; NULL on out-of-memory. */
json_t *pol_table_to_json(const struct pol_table *t);
/* Reads a table from its JSON form; problems are diagnostics for name. */
int pol_table_from_json(const json_t *j, const char *name, struct diag_list *dl,
			struct pol_table **out);
int pol_table_load(const char *path, struct diag_list *dl, struct pol_table **out);

#endif
