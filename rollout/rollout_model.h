/* SPDX-License-Identifier: MIT */
/*
 * The rollout model shared by every solver (docs/rollout.md, "The model").
 * Node 0 is the existing fibre network (every fibre site contracted into one
 * root); nodes 1..n are the sites still to connect. An edge is a candidate
 * trench. A plan gives each node a year 1..T (0 = not connected in the
 * horizon) and a parent: the node it is trenched to, connected in the same
 * year or earlier (the same-year rule), so the trenches form a tree rooted
 * at the network. Year t spends the fixed costs of its sites plus their
 * parent trenches; the value of a plan is sum weight x (T - year + 1).
 */
#ifndef SEGPLAN_ROLLOUT_MODEL_H
#define SEGPLAN_ROLLOUT_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#define ROLLOUT_MAX_YEARS 50

struct rollout_node {
	int site;      /* caller's id (inventory site index), -1 for the root */
	double fixed;  /* EUR: building entry and equipment */
	double weight; /* priority score, > 0 */
	int pin;       /* 1..T: must be connected in that year; 0 = free */
};

struct rollout_edge {
	int a, b;	  /* node indices, a != b */
	double cost;	  /* EUR, whole euros */
	int tag;	  /* caller's id (inventory link index), -1 when none */
	int end_a, end_b; /* caller's ids of the two ends (the fibre site for the root) */
};

/*
 * An instance. Built with rollout_inst_new / _add_edge / _finish; after
 * rollout_inst_finish the fields are read-only and the adjacency is valid:
 * the edges of node v are adj_edge[adj_start[v] .. adj_start[v + 1]).
 * Parallel edges are reduced to the cheapest.
 */
struct rollout_inst {
	int n;			    /* sites to connect; nodes are 0..n */
	struct rollout_node *nodes; /* n + 1, nodes[0] is the root */
	int nedges;
	struct rollout_edge *edges;
	int horizon;			      /* T */
	double budget[ROLLOUT_MAX_YEARS + 1]; /* 1..T, EUR */
	bool carry_over;		      /* unspent budget moves to the next year */
	int *adj_start, *adj_edge;
	size_t cap_edges;
};

struct rollout_inst *rollout_inst_new(int n, int horizon);
void rollout_inst_free(struct rollout_inst *in);
/* 0 or -ENOMEM / -EINVAL (bad node index, self-loop, negative cost). */
int rollout_inst_add_edge(struct rollout_inst *in, int a, int b, double cost, int tag, int end_a,
			  int end_b);
int rollout_inst_finish(struct rollout_inst *in);
/* The edge between u and v, or -1. */
int rollout_inst_edge(const struct rollout_inst *in, int u, int v);

/* A plan: arrays over nodes 0..n (index 0 unused). */
struct rollout_plan {
	int n, horizon;
	int *year;   /* 0 = not connected */
	int *parent; /* node, 0 = the network; -1 when not connected */
	int *edge;   /* edge to the parent, -1 when not connected */
	double spent[ROLLOUT_MAX_YEARS + 1];
	double value;
};

int rollout_plan_init(struct rollout_plan *p, const struct rollout_inst *in);
void rollout_plan_clear(struct rollout_plan *p);
int rollout_plan_copy(struct rollout_plan *dst, const struct rollout_plan *src);

/*
 * Given p->year, chooses the cheapest parents (per year, a minimum spanning
 * forest of that year's sites over the network built before it) and fills
 * parent, edge, spent and value. Returns 0, or -EINVAL when some site cannot
 * reach the network through sites of its year or earlier (parents of such
 * sites are -1), or -ENOMEM.
 */
int rollout_plan_evaluate(const struct rollout_inst *in, struct rollout_plan *p);

/* True when every year's spending fits its budget (cumulatively with carry-over). */
bool rollout_plan_within_budget(const struct rollout_inst *in, const struct rollout_plan *p);

/* The value of a year assignment: sum weight x (T - year + 1). */
double rollout_value(const struct rollout_inst *in, const int *year);

#endif
