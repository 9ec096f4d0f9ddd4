// SPDX-License-Identifier: MIT
/* segplan topology INVENTORY: connectivity, resilience, capacity with N-1, exports. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/exitcodes.h"
#include "inventory/inventory.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "topology/export.h"
#include "topology/topo.h"

static const char usage[] =
    "usage: segplan topology INVENTORY [--json] [--fail ID ...] [--threshold PERCENT]\n"
    "                        [--n1 all|core] [--top N] [--export FORMAT -o FILE]\n"
    "\n"
    "Analyses the built network of the inventory (planned trenches left out):\n"
    "connectivity, single points of failure towards the data centres, redundancy\n"
    "class of every site, link loads and N-1 worst cases (docs/topology.md).\n"
    "\n"
    "  --json              print the full result as JSON\n"
    "  --fail ID           take a site or link out first (repeatable) and report\n"
    "                      what is lost and how redundancy classes change\n"
    "  --threshold PERCENT utilisation that counts as overloaded (default 80)\n"
    "  --n1 all|core       N-1 failures to compute: every link, or the links\n"
    "                      between hubs and data centres (default: all up to\n"
    "                      20000 sites, core above)\n"
    "  --top N             entries per list in the text output (default 10)\n"
    "  --export FORMAT     also write the graph: graphml, dot, geojson or svg\n"
    "  -o, --output FILE   the export's file (written atomically)\n"
    "  -h, --help          this help\n"
    "\n"
    "exit: 0 ok, 2 usage, 3 invalid input, 4 system error\n";

struct opts {
	bool json;
	const char **fail;
	size_t nfail;
	double threshold;
	enum topo_n1_mode n1;
	long top;
	bool have_export;
	enum export_format fmt;
	const char *output;
	const char *dir;
};

/* Everything the command computes. */
struct results {
	struct inventory *inv;
	struct topo *base, *cur; /* cur: after the failures (== base without --fail) */
	struct topo_failset fs;
	struct topo_connectivity conn;
	struct topo_resilience res_base, res; /* res: of cur */
	struct topo_whatif whatif;
	struct topo_capacity cap;
};

static const char *const class_names[] = {"cut off", "single", "redundant", "failed"};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"fail", required_argument, NULL, 'f'},
	    {"threshold", required_argument, NULL, 't'},
	    {"n1", required_argument, NULL, 'n'},
	    {"top", required_argument, NULL, 'T'},
	    {"export", required_argument, NULL, 'e'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;
	optind = 1;
	const char *inexact = out_inexact_option(argc, argv, lopts);
	if (inexact)
		return out_usage(usage, "topology: unknown option '%s'", inexact);
	while ((c = getopt_long(argc, argv, "ho:", lopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'f':
			o->fail[o->nfail++] = optarg;
			break;
		case 't':
			errno = 0;
			o->threshold = strtod(optarg, &end) / 100.0;
			if (errno || end == optarg || *end || !isfinite(o->threshold) ||
			    o->threshold <= 0)
				return out_usage(usage,
						 "topology: --threshold takes a percentage > 0");
			break;
		case 'n':
			if (strcmp(optarg, "all") == 0)
				o->n1 = TOPO_N1_ALL;
			else if (strcmp(optarg, "core") == 0)
				o->n1 = TOPO_N1_CORE;
			else
				return out_usage(usage, "topology: --n1 takes 'all' or 'core'");
			break;
		case 'T':
			errno = 0;
			o->top = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->top < 1)
				return out_usage(usage, "topology: --top takes a number >= 1");
			break;
		case 'e':
			if (export_format_parse(optarg, &o->fmt) < 0) {
				const char *s =
				    diag_suggest(optarg, export_format_names, EXPORT_FORMAT_COUNT);
				if (s)
					return out_usage(usage,
							 "topology: unknown export format '%s' "
							 "(did you mean '%s'?)",
							 optarg, s);
				return out_usage(usage, "topology: unknown export format '%s'",
						 optarg);
			}
			o->have_export = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			return out_help(usage);
		default:
			return out_usage(usage, "topology: invalid option");
		}
	}
	if (argc - optind != 1)
		return out_usage(usage, "topology: expected one INVENTORY directory");
	if (o->have_export != (o->output != NULL))
		return out_usage(usage, "topology: --export and -o go together");
	o->dir = argv[optind];
	return -1;
}

static void results_free(struct results *r)
{
	topo_capacity_free(&r->cap);
	topo_whatif_free(&r->whatif);
	topo_resilience_free(&r->res);
	topo_resilience_free(&r->res_base);
	topo_connectivity_free(&r->conn);
	if (r->cur != r->base)
		topo_free(r->cur);
	topo_free(r->base);
	topo_failset_free(&r->fs);
	inventory_free(r->inv);
}

static int analyse(const struct opts *o, struct results *r)
{
	struct topo_capacity_opts co = {.threshold = o->threshold, .n1 = o->n1};
	int e;
	if ((e = topo_new(r->inv, NULL, &r->base)) < 0)
		return e;
	r->cur = r->base;
	if (o->nfail) {
		if ((e = topo_resilience(r->base, &r->res_base)) < 0)
			return e;
		if ((e = topo_new(r->inv, &r->fs, &r->cur)) < 0)
			return e;
	}
	if ((e = topo_connectivity(r->cur, &r->conn)) < 0 ||
	    (e = topo_resilience(r->cur, &r->res)) < 0 ||
	    (e = topo_capacity(r->cur, &co, &r->cap)) < 0)
		return e;
	if (o->nfail && (e = topo_whatif(r->inv, &r->res_base, &r->res, &r->whatif)) < 0)
		return e;
	return 0;
}

/* ---- JSON (schema: docs/topology.md) ---- */

static json_t *site_ids(const struct inventory *inv, const int *idx, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(inv->sites[idx[i]].id));
	return a;
}

static json_t *link_id_or_null(const struct inventory *inv, int l)
{
	return l >= 0 ? json_string(inv->links[l].id) : json_null();
}

/* JSON has no infinity: distances of unroutable sites are null. */
static json_t *real_or_null(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *json_connectivity(const struct results *r)
{
	json_t *sizes = json_array();
	for (size_t i = 0; sizes && i < r->conn.ncomponents; i++)
		json_array_append_new(sizes, json_integer((json_int_t)r->conn.component_size[i]));
	return json_pack("{s:I, s:o, s:o}", "components", (json_int_t)r->conn.ncomponents,
			 "component_sizes", sizes, "cut_off",
			 site_ids(r->inv, r->conn.cut_off, r->conn.ncut_off));
}

static json_t *json_resilience(const struct results *r)
{
	const struct inventory *inv = r->inv;
	const struct topo_resilience *res = &r->res;
	json_t *spofs = json_array();
	for (size_t i = 0; spofs && i < res->nspof; i++) {
		const struct topo_spof *s = &res->spof[i];
		json_t *j = json_pack(
		    "{s:s, s:s, s:I, s:f, s:o}", "kind", s->kind == TOPO_SITE ? "site" : "link",
		    "id", s->kind == TOPO_SITE ? inv->sites[s->index].id : inv->links[s->index].id,
		    "cut_off_count", (json_int_t)s->ncut, "cut_off_mbps", s->cut_demand_mbps,
		    "cut_off", site_ids(inv, s->cut, s->ncut));
		json_array_append_new(spofs, j);
	}
	return json_pack("{s:{s:I, s:I, s:I, s:I}, s:I, s:I, s:{s:I, s:I}, s:o}", "classes", "0",
			 (json_int_t)res->class_count[0], "1", (json_int_t)res->class_count[1], "2",
			 (json_int_t)res->class_count[2], "failed", (json_int_t)res->class_count[3],
			 "spof_sites", (json_int_t)res->nspof_sites, "spof_links",
			 (json_int_t)res->nspof_links, "plain_graph", "articulation_points",
			 (json_int_t)res->plain_articulation_points, "bridges",
			 (json_int_t)res->plain_bridges, "spofs", spofs);
}

static json_t *json_whatif(const struct results *r)
{
	const struct inventory *inv = r->inv;
	const struct topo_whatif *w = &r->whatif;
	json_t *links = json_array(), *changed = json_array(), *tr = json_array();
	for (size_t i = 0; links && i < r->fs.nlinks; i++)
		json_array_append_new(links, json_string(inv->links[r->fs.links[i]].id));
	for (size_t i = 0; changed && i < w->nchanged; i++)
		json_array_append_new(changed, json_pack("{s:s, s:i, s:i}", "id",
							 inv->sites[w->changed[i].site].id,
							 "before", w->changed[i].before, "after",
							 w->changed[i].after));
	for (int b = 0; tr && b < 3; b++)
		for (int a = 0; a < 3; a++)
			if (w->transitions[b][a] && a != b)
				json_array_append_new(
				    tr, json_pack("{s:i, s:i, s:I}", "before", b, "after", a,
						  "sites", (json_int_t)w->transitions[b][a]));
	return json_pack("{s:o, s:o, s:o, s:f, s:o, s:o}", "failed_sites",
			 site_ids(inv, w->failed_sites, w->nfailed_sites), "failed_links", links,
			 "lost", site_ids(inv, w->lost, w->nlost), "lost_mbps", w->lost_demand_mbps,
			 "class_changes", tr, "changed", changed);
}

static const char *n1_set_name(enum topo_n1_mode m)
{
	return m == TOPO_N1_ALL ? "all" : m == TOPO_N1_CORE ? "core" : "none";
}

static json_t *json_capacity(const struct results *r)
{
	const struct inventory *inv = r->inv;
	const struct topo_capacity *c = &r->cap;
	json_t *links = json_array(), *over = json_array(), *fails = json_array();
	for (size_t l = 0; links && l < c->nlinks; l++) {
		const struct topo_link_load *ll = &c->links[l];
		const struct link *k = &inv->links[l];
		if (!ll->in_graph)
			continue;
		json_array_append_new(
		    links,
		    json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:o}", "id",
			      k->id, "a", inv->sites[k->a].id, "b", inv->sites[k->b].id, "kind",
			      link_kind_names[k->kind], "capacity_mbps", k->capacity_mbps,
			      "load_mbps", ll->load_mbps, "utilisation", ll->util, "headroom_mbps",
			      ll->headroom_mbps, "n1_worst_load_mbps", ll->worst_load_mbps,
			      "n1_worst_utilisation", ll->worst_util, "n1_worst_failure",
			      link_id_or_null(inv, ll->worst_cause)));
	}
	for (size_t i = 0; over && i < c->nover; i++)
		json_array_append_new(over, json_string(inv->links[c->over[i]].id));
	for (size_t i = 0; fails && i < c->nfailures; i++) {
		const struct topo_n1_failure *f = &c->failures[i];
		json_array_append_new(
		    fails,
		    json_pack("{s:s, s:I, s:I, s:f, s:f, s:o}", "link", inv->links[f->link].id,
			      "rerouted_sites", (json_int_t)f->rerouted_sites, "unroutable_sites",
			      (json_int_t)f->unroutable_sites, "unroutable_mbps",
			      f->unroutable_mbps, "max_utilisation", f->max_util,
			      "max_utilisation_link", link_id_or_null(inv, f->max_util_link)));
	}
	return json_pack("{s:f, s:f, s:f, s:f, s:o, s:o, s:{s:s, s:I, s:o}}", "threshold_percent",
			 c->threshold * 100.0, "demand_mbps", c->demand_mbps, "routed_mbps",
			 c->routed_mbps, "unroutable_mbps", c->unroutable_mbps, "links", links,
			 "over_threshold", over, "n1", "set", n1_set_name(c->n1_set),
			 "failures_computed", (json_int_t)c->nfailures, "failures", fails);
}

static json_t *json_sites(const struct results *r)
{
	const struct inventory *inv = r->inv;
	json_t *a = json_array();
	for (size_t v = 0; a && v < inv->nsites; v++) {
		const struct topo_site_route *s = &r->cap.sites[v];
		json_array_append_new(
		    a,
		    json_pack("{s:s, s:i, s:s, s:o, s:o, s:i, s:o, s:o}", "id", inv->sites[v].id,
			      "class", r->res.cls[v], "class_name", class_names[r->res.cls[v]],
			      "dc", s->dc >= 0 ? json_string(inv->sites[s->dc].id) : json_null(),
			      "distance_m", real_or_null(s->dist_m), "hops", s->hops,
			      "bottleneck_mbps",
			      s->bottleneck_link >= 0 ? json_real(s->bottleneck_mbps) : json_null(),
			      "bottleneck_link", link_id_or_null(inv, s->bottleneck_link)));
	}
	return a;
}

static size_t count_kind(const struct inventory *inv, bool planned)
{
	size_t n = 0;
	for (size_t l = 0; l < inv->nlinks; l++)
		n += (inv->links[l].kind == LINK_PLANNED) == planned;
	return n;
}

static int print_json(const struct opts *o, const struct results *r)
{
	const struct inventory *inv = r->inv;
	json_t *j = json_pack(
	    "{s:s, s:I, s:I, s:I, s:o, s:o, s:o}", "inventory", o->dir, "sites",
	    (json_int_t)inv->nsites, "links", (json_int_t)count_kind(inv, false), "planned_links",
	    (json_int_t)count_kind(inv, true), "data_centres",
	    json_pack(
		"{s:o, s:o}", "primary",
		inv->primary_dc >= 0 ? json_string(inv->sites[inv->primary_dc].id) : json_null(),
		"fallback",
		inv->fallback_dc >= 0 ? json_string(inv->sites[inv->fallback_dc].id) : json_null()),
	    "connectivity", json_connectivity(r), "resilience", json_resilience(r));
	if (!j)
		return out_fail(SEG_EXIT_SYSTEM, "out of memory");
	if (o->nfail)
		json_object_set_new(j, "whatif", json_whatif(r));
	json_object_set_new(j, "capacity", json_capacity(r));
	json_object_set_new(j, "sites", json_sites(r));
	return out_json(j);
}

/* ---- text ---- */

static void print_site_list(const struct inventory *inv, const int *idx, size_t n, size_t top)
{
	for (size_t i = 0; i < n && i < top; i++)
		printf("%s%s", i ? ", " : "", inv->sites[idx[i]].id);
	if (n > top)
		printf(" (+%zu more)", n - top);
}

struct key {
	double k;
	int i;
};

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	if (x->k != y->k)
		return x->k > y->k ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static void print_link_head(const struct inventory *inv, int l)
{
	const struct link *k = &inv->links[l];
	printf("    %s %s-%s %s %.0f Mbit/s", k->id, inv->sites[k->a].id, inv->sites[k->b].id,
	       link_kind_names[k->kind], k->capacity_mbps);
}

static void print_capacity(const struct opts *o, const struct results *r, size_t top)
{
	const struct inventory *inv = r->inv;
	const struct topo_capacity *c = &r->cap;
	printf("\ncapacity (each site's required bandwidth over the shortest path to the primary "
	       "data centre,\nthe fallback when the primary is unreachable):\n");
	printf("  demand %.0f Mbit/s, routed %.0f, unroutable %.0f\n", c->demand_mbps,
	       c->routed_mbps, c->unroutable_mbps);
	printf("  most loaded links:\n");
	for (size_t i = 0; i < c->nby_load && i < top; i++) {
		const struct topo_link_load *ll = &c->links[c->by_load[i]];
		print_link_head(inv, c->by_load[i]);
		printf(": load %.0f (%.1f%%), headroom %.0f\n", ll->load_mbps, 100 * ll->util,
		       ll->headroom_mbps);
	}
	printf("  links over %g%%: %zu\n", 100 * c->threshold, c->nover);
	for (size_t i = 0; i < c->nover && i < top; i++) {
		const struct topo_link_load *ll = &c->links[c->over[i]];
		print_link_head(inv, c->over[i]);
		printf(": %.1f%%\n", 100 * ll->util);
	}
	if (c->n1_set == TOPO_N1_NONE)
		return;

	struct key *k = malloc((c->nlinks + c->nfailures + 1) * sizeof(*k));
	if (!k)
		return;
	printf("\nN-1 (%s: %zu link failures computed%s):\n",
	       c->n1_set == TOPO_N1_ALL ? "every link" : "core links between hubs and data centres",
	       c->nfailures,
	       o->n1 == TOPO_N1_AUTO && c->n1_set == TOPO_N1_CORE
		   ? ", more than 20000 sites; --n1 all for every link"
		   : "");
	size_t nk = 0;
	for (size_t l = 0; l < c->nlinks; l++)
		if (c->links[l].in_graph && c->links[l].worst_cause >= 0)
			k[nk++] = (struct key){c->links[l].worst_util, (int)l};
	qsort(k, nk, sizeof(*k), cmp_key);
	printf("  worst-case utilisation (%zu links loaded more by some failure):\n", nk);
	for (size_t i = 0; i < nk && i < top; i++) {
		const struct topo_link_load *ll = &c->links[k[i].i];
		print_link_head(inv, k[i].i);
		printf(": %.1f%% when %s fails (normally %.1f%%)\n", 100 * ll->worst_util,
		       inv->links[ll->worst_cause].id, 100 * ll->util);
	}
	nk = 0;
	for (size_t i = 0; i < c->nfailures; i++)
		if (c->failures[i].unroutable_sites)
			k[nk++] = (struct key){c->failures[i].unroutable_mbps, (int)i};
	qsort(k, nk, sizeof(*k), cmp_key);
	printf("  failures that leave demand unroutable: %zu\n", nk);
	for (size_t i = 0; i < nk && i < top; i++) {
		const struct topo_n1_failure *f = &c->failures[k[i].i];
		print_link_head(inv, f->link);
		printf(": %zu sites, %.0f Mbit/s\n", f->unroutable_sites, f->unroutable_mbps);
	}
	free(k);
}

static void print_text(const struct opts *o, const struct results *r)
{
	const struct inventory *inv = r->inv;
	const struct topo_resilience *res = &r->res;
	size_t top = (size_t)o->top;
	printf("%s: %zu sites, %zu links in the network (%zu planned trenches left out)\n", o->dir,
	       inv->nsites, count_kind(inv, false), count_kind(inv, true));
	printf("data centres: primary %s, fallback %s\n",
	       inv->primary_dc >= 0 ? inv->sites[inv->primary_dc].id : "(none)",
	       inv->fallback_dc >= 0 ? inv->sites[inv->fallback_dc].id : "(none)");
	if (o->nfail) {
		const struct topo_whatif *w = &r->whatif;
		printf("\nwhat-if: failed %zu sites, %zu links\n", r->fs.nsites, r->fs.nlinks);
		printf("  lost (reached a data centre before, not after): %zu sites, %.0f Mbit/s",
		       w->nlost, w->lost_demand_mbps);
		if (w->nlost) {
			printf(": ");
			print_site_list(inv, w->lost, w->nlost, top);
		}
		printf("\n  redundancy class changes:");
		size_t nt = 0;
		for (int b = 0; b < 3; b++)
			for (int a = 0; a < 3; a++)
				if (a != b && w->transitions[b][a]) {
					printf("%s %s -> %s: %zu", nt++ ? "," : "", class_names[b],
					       class_names[a], w->transitions[b][a]);
				}
		printf("%s\n", nt ? "" : " none");
		printf("  (the analyses below are of the network after the failures)\n");
	}
	printf("\ncomponents: %zu; cut off from both data centres: %zu", r->conn.ncomponents,
	       r->conn.ncut_off);
	if (r->conn.ncut_off) {
		printf(": ");
		print_site_list(inv, r->conn.cut_off, r->conn.ncut_off, top);
	}
	printf("\nredundancy classes: %zu redundant (survive any single failure), %zu single "
	       "(one failure cuts them off), %zu cut off\n",
	       res->class_count[2], res->class_count[1], res->class_count[0]);
	printf("single points of failure: %zu sites, %zu links (plain graph, for reference: %zu "
	       "articulation points, %zu bridges)\n",
	       res->nspof_sites, res->nspof_links, res->plain_articulation_points,
	       res->plain_bridges);
	for (size_t i = 0; i < res->nspof && i < top; i++) {
		const struct topo_spof *s = &res->spof[i];
		if (s->kind == TOPO_SITE)
			printf("  site %s (%s) cuts off %zu sites, %.0f Mbit/s: ",
			       inv->sites[s->index].id, inv->sites[s->index].name, s->ncut,
			       s->cut_demand_mbps);
		else
			printf("  link %s (%s-%s) cuts off %zu sites, %.0f Mbit/s: ",
			       inv->links[s->index].id, inv->sites[inv->links[s->index].a].id,
			       inv->sites[inv->links[s->index].b].id, s->ncut, s->cut_demand_mbps);
		print_site_list(inv, s->cut, s->ncut, top);
		printf("\n");
	}
	print_capacity(o, r, top);
}

int cmd_topology(int argc, char **argv)
{
	struct opts o = {.threshold = 0.8, .n1 = TOPO_N1_AUTO, .top = 10};
	struct results r = {0};
	struct diag_list *dl = NULL;
	int code;

	o.fail = calloc((size_t)argc + 1, sizeof(*o.fail));
	if (!o.fail)
		return out_fail(SEG_EXIT_SYSTEM, "out of memory");
	if ((code = parse_opts(argc, argv, &o)) >= 0)
		goto out;
	dl = diag_list_new();
	if (!dl) {
		code = out_fail(SEG_EXIT_SYSTEM, "out of memory");
		goto out;
	}
	int e = inventory_load(o.dir, dl, &r.inv);
	if (e == 0)
		e = topo_failset_resolve(r.inv, o.fail, o.nfail, dl, &r.fs);
	out_diags(dl);
	if ((code = out_input_code(dl, e)) != SEG_EXIT_OK) {
		if (code == SEG_EXIT_SYSTEM)
			out_fail(code, "%s: %s", o.dir, strerror(-e));
		goto out;
	}
	if ((e = analyse(&o, &r)) < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "topology: %s", strerror(-e));
		goto out;
	}
	if (o.have_export && (e = export_write(r.cur, &r.res, o.fmt, o.output)) < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "%s: %s", o.output, strerror(-e));
		goto out;
	}
	if (o.json) {
		code = print_json(&o, &r);
	} else {
		print_text(&o, &r);
		code = fflush(stdout) == 0 ? SEG_EXIT_OK : SEG_EXIT_SYSTEM;
	}
out:
	results_free(&r);
	diag_list_free(dl);
	free(o.fail);
	return code;
}
