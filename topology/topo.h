/* SPDX-License-Identifier: MIT */
/*
 * The topology graph of the built network (sites and every link that is not
 * a planned trench) and its analyses: connectivity, resilience towards the
 * data-centre pair, what-if failures, capacity with N-1. The graph library
 * stays behind this header: results are plain structs indexed like the
 * inventory's arrays. Algorithms and the JSON schema: docs/topology.md.
 */
#ifndef SEGPLAN_TOPO_H
#define SEGPLAN_TOPO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "inventory/inventory.h"

struct topo;

/* Elements taken out of the network before the graph is built (what-if). */
struct topo_failset {
	int *sites; /* site indices */
	size_t nsites;
	int *links; /* link indices */
	size_t nlinks;
};

/*
 * Builds the graph of inv (borrowed: it must outlive the topo) without the
 * elements of fail (NULL: none). Returns 0 or a negative errno.
 */
int topo_new(const struct inventory *inv, const struct topo_failset *fail, struct topo **out);
void topo_free(struct topo *t);

const struct inventory *topo_inventory(const struct topo *t);
/* Links in the graph (built and not failed). */
size_t topo_nedges(const struct topo *t);
bool topo_site_failed(const struct topo *t, size_t site);
bool topo_link_in_graph(const struct topo *t, size_t link);

/*
 * Resolves site or link ids (--fail) into fs. Unknown ids are errors with a
 * 'did you mean' suggestion; planned trenches are a warning (they are not
 * part of the network). Returns 0, or -EINVAL when errors were added to dl.
 */
int topo_failset_resolve(const struct inventory *inv, const char *const *ids, size_t n,
			 struct diag_list *dl, struct topo_failset *fs);
void topo_failset_free(struct topo_failset *fs);

/* Installs igraph's error and warning handlers and its attribute table once. */
void topo_igraph_init(void);

/* ---- connectivity ---- */

struct topo_connectivity {
	size_t ncomponents; /* of the graph of non-failed sites */
	int *component;	    /* per site; -1 for failed sites */
	size_t *component_size;
	int *cut_off; /* sites (not failed) reaching neither data centre, ascending */
	size_t ncut_off;
};

int topo_connectivity(const struct topo *t, struct topo_connectivity *out);
void topo_connectivity_free(struct topo_connectivity *c);

/* ---- resilience ---- */

enum topo_element { TOPO_SITE, TOPO_LINK };

/* Redundancy class of a site (docs/topology.md). */
enum {
	TOPO_CLASS_CUT_OFF = 0,	  /* reaches neither data centre */
	TOPO_CLASS_SINGLE = 1,	  /* one failure of another site or a link cuts it off */
	TOPO_CLASS_REDUNDANT = 2, /* survives any single failure */
	TOPO_CLASS_FAILED = 3,	  /* taken out by the failset */
};

/* A single point of failure and the sites its failure cuts off from both DCs. */
struct topo_spof {
	enum topo_element kind;
	int index; /* site or link index */
	int *cut;  /* ascending site indices, the failed site itself not included */
	size_t ncut;
	double cut_demand_mbps; /* their required_mbps */
};

struct topo_resilience {
	unsigned char *cls; /* per site: TOPO_CLASS_* */
	size_t class_count[4];
	struct topo_spof *spof; /* sorted by ncut descending, then sites before links, index */
	size_t nspof;
	size_t nspof_sites, nspof_links;
	/* For reference: igraph's counts on the plain graph (without the data centres). */
	size_t plain_articulation_points, plain_bridges;
};

int topo_resilience(const struct topo *t, struct topo_resilience *out);
void topo_resilience_free(struct topo_resilience *r);

/* ---- what-if ---- */

struct topo_class_change {
	int site;
	unsigned char before, after;
};

struct topo_whatif {
	int *lost; /* sites reaching a DC before and not after (failed sites excluded) */
	size_t nlost;
	double lost_demand_mbps;
	int *failed_sites; /* the sites taken out */
	size_t nfailed_sites;
	struct topo_class_change *changed; /* every non-failed site whose class changed */
	size_t nchanged;
	size_t transitions[3][3]; /* [before][after] for non-failed sites reachable or not */
};

/* Compares two resilience results of the same inventory (before, after the failset). */
int topo_whatif(const struct inventory *inv, const struct topo_resilience *before,
		const struct topo_resilience *after, struct topo_whatif *out);
void topo_whatif_free(struct topo_whatif *w);

/* ---- capacity ---- */

enum topo_n1_mode {
	TOPO_N1_AUTO, /* all up to TOPO_N1_ALL_MAX_SITES sites, core above */
	TOPO_N1_ALL,
	TOPO_N1_CORE, /* links between hubs and data centres */
	TOPO_N1_NONE,
};
#define TOPO_N1_ALL_MAX_SITES 20000

struct topo_capacity_opts {
	double threshold; /* utilisation fraction for "over threshold", e.g. 0.8 */
	enum topo_n1_mode n1;
};

struct topo_link_load {
	bool in_graph; /* false: planned or failed */
	double load_mbps, util, headroom_mbps;
	/* N-1: the highest utilisation over the computed failures (or the
	 * base one when none raises it) and the failed link causing it (-1). */
	double worst_load_mbps, worst_util;
	int worst_cause;
};

struct topo_site_route {
	int dc;			/* the data centre it is routed to; -1 unroutable or failed */
	double dist_m;		/* path length */
	int hops;		/* links on the path */
	double bottleneck_mbps; /* minimum capacity on the path (0 at a DC) */
	int bottleneck_link;	/* where it occurs; -1 at a DC or unroutable */
};

/* One N-1 scenario: the failure of a built link. */
struct topo_n1_failure {
	int link;
	size_t rerouted_sites;	 /* sites whose path crossed it */
	size_t unroutable_sites; /* of those, sites with no other path */
	double unroutable_mbps;
	double max_util; /* the highest link utilisation in this scenario */
	int max_util_link;
};

struct topo_routing;

struct topo_capacity {
	double threshold;
	struct topo_link_load *links; /* per inventory link */
	size_t nlinks;
	struct topo_site_route *sites; /* per site */
	size_t nsites;
	double demand_mbps, routed_mbps, unroutable_mbps;
	int *over; /* links with util > threshold, by util descending */
	size_t nover;
	int *by_load; /* built links by util descending */
	size_t nby_load;
	enum topo_n1_mode n1_set;	  /* ALL, CORE or NONE: what was computed */
	struct topo_n1_failure *failures; /* in link index order */
	size_t nfailures;
	struct topo_routing *routing; /* the shortest-path tree, for topo_n1_scenario */
};

int topo_capacity(const struct topo *t, const struct topo_capacity_opts *o,
		  struct topo_capacity *out);
void topo_capacity_free(struct topo_capacity *c);

/*
 * The loads of every link (loads[nlinks], 0 for links not in the graph) when
 * link fails, computed incrementally from c's shortest-path tree, and the
 * demand that can no longer be routed. 0 or a negative errno. Uses c's work
 * space: one call at a time per capacity result.
 */
int topo_n1_scenario(const struct topo *t, const struct topo_capacity *c, int link, double *loads,
		     double *unroutable_mbps);

#endif
