// SPDX-License-Identifier: MIT
/* segplan policy: compile and query segment policies (docs/policy.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile/compile.h"
#include "core/timefmt.h"
#include "core/exitcodes.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "planner/policy_deploy.h"
#include "planner/policy_lint.h"
#include "policy/policy.h"
#include "summary/summary.h"

static const char usage_main[] =
    "usage: segplan policy <subcommand> [<args>]\n\n"
    "subcommands:\n"
    "  compile   per-gateway nftables rulesets and classification tables\n"
    "  query     the verdict for one connection, and why\n"
    "  lint      findings in the policy (shadowed, unused, expired rules)\n"
    "  diff      what changes between two policies\n"
    "  apply     load a compiled ruleset into the kernel\n"
    "  confirm   keep a ruleset applied with --confirm\n"
    "  status    live counters and drift of the loaded ruleset\n\n"
    "`segplan policy <subcommand> --help` describes each.\n";

static const char usage_compile[] =
    "usage: segplan policy compile INVENTORY --out DIR [--site ID]... [--mode enforce|observe]\n"
    "                              [--date YYYY-MM-DD] [--policy FILE] [--json]\n\n"
    "Reads INVENTORY and INVENTORY/policy.yaml and writes, for every site gateway (or\n"
    "the one given), DIR/<site>.nft (load with `nft -f`) and DIR/<site>.policy.json.\n\n"
    "  -o, --out DIR     output directory (created if missing)\n"
    "  -p, --policy FILE the policy to compile instead of INVENTORY/policy.yaml\n"
    "  -s, --site ID     only this site's gateway; again for more sites\n"
    "  -m, --mode MODE   enforce (default) or observe: count and log what would be\n"
    "                    dropped, but let it pass\n"
    "  -d, --date DAY    judge rule expiry on this day instead of today (UTC)\n"
    "      --json        print a summary as JSON\n"
    "  -h, --help        this text\n";

static const char usage_query[] =
    "usage: segplan policy query INVENTORY --src IP --dst IP --proto P\n"
    "                            [--dport N] [--type T] [--mode M] [--date DAY | --time T]\n"
    "                            [--policy FILE] [--json]\n"
    "       segplan policy query INVENTORY --batch [--mode M] [--date DAY | --time T]\n"
    "                            [--policy FILE]\n\n"
    "Decides one new connection as every gateway that judges it would: the verdict,\n"
    "the deciding rule, the zones and sites of both ends, the scope checks, and the\n"
    "gateway that counts it.\n\n"
    "  --src IP, --dst IP  the initiator and the destination (same family)\n"
    "  --proto P           a protocol name (tcp, udplite, icmpv6, gre, ...) or number\n"
    "  --dport N           destination port (tcp, udp, sctp, dccp, udplite)\n"
    "  --type T            ICMP or ICMPv6 type, name or number\n"
    "  --mode M            enforce (default) or observe\n"
    "  --date DAY          judge rule expiry on this day (YYYY-MM-DD)\n"
    "  --time T            the connection opens at T (RFC 3339, e.g. 2027-01-04T22:30:00Z):\n"
    "                      expiry and time windows are judged at that instant\n"
    "  --policy FILE       the policy to judge by instead of INVENTORY/policy.yaml\n"
    "  --json              machine output (docs/policy.md)\n"
    "  --batch             many connections: one line 'SRC DST PROTO [DPORT|TYPE]' each\n"
    "                      on standard input, one line of JSON each on standard output\n"
    "                      (the object of --json); the inventory is loaded once\n"
    "  -h, --help          this text\n";

/* Inventory and policy (policy_file, or DIR/policy.yaml when NULL), loaded with
 * diagnostics printed; returns an exit code. */
static int load_all(const char *dir, const char *policy_file, const char *date,
		    struct inventory **inv, struct policy **p)
{
	struct diag_list *dl = diag_list_new();
	char *path = NULL;
	int code = SEG_EXIT_SYSTEM;
	*inv = NULL;
	*p = NULL;
	if (!dl)
		return SEG_EXIT_SYSTEM;
	int rc = inventory_load(dir, dl, inv);
	if (rc == 0) {
		if (policy_file ? !(path = strdup(policy_file))
				: asprintf(&path, "%s/policy.yaml", dir) < 0) {
			path = NULL;
			goto out;
		}
		rc = policy_load(path, NULL, *inv, date, dl, p);
	}
	out_diags(dl);
	code = out_input_code(dl, rc);
	if (code == SEG_EXIT_SYSTEM)
		out_fail(code, "policy: %s", strerror(-rc));
out:
	free(path);
	diag_list_free(dl);
	if (code != SEG_EXIT_OK) {
		policy_free(*p);
		inventory_free(*inv);
		*p = NULL;
		*inv = NULL;
	}
	return code;
}

static int parse_mode(const char *s)
{
	for (int i = 0; i < POL_MODE_COUNT; i++)
		if (strcmp(s, pol_mode_names[i]) == 0)
			return i;
	return -1;
}

static int check_date(const char *usage, const char *date)
{
	long days;
	if (date && !policy_parse_date(date, &days))
		return out_usage(usage, "policy: bad --date '%s' (expected YYYY-MM-DD)", date);
	return SEG_EXIT_OK;
}

/* Loads, resolves every --site (all unknown ones reported) and compiles; an exit code. */
static int compile_run(const char *dir, const char *policy_file, const char *out, const char *date,
		       enum pol_mode mode, bool json, const char *const *sites, size_t nsites,
		       int *idx)
{
	struct inventory *inv;
	struct policy *p;
	int code = load_all(dir, policy_file, date, &inv, &p);
	if (code != SEG_EXIT_OK)
		return code;
	struct pol_compile_opts o = {.sites = idx, .nsites = nsites, .mode = mode};
	for (size_t i = 0; i < nsites; i++)
		if ((idx[i] = inventory_find_site(inv, sites[i])) < 0)
			code =
			    out_fail(SEG_EXIT_INPUT, "policy compile: unknown site '%s'", sites[i]);
	if (code != SEG_EXIT_OK)
		goto out;
	struct pol_compile_stats st;
	int rc = pol_compile(p, inv, out, &o, &st);
	if (rc < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "policy compile: %s: %s", out, strerror(-rc));
		goto out;
	}
	if (json)
		code = out_json(
		    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s}", "gateways",
			      (json_int_t)st.gateways, "rules", (json_int_t)st.rules, "max_rules",
			      (json_int_t)st.max_rules, "elements", (json_int_t)st.elements,
			      "max_elements", (json_int_t)st.max_elements, "bytes",
			      (json_int_t)st.bytes, "mode", pol_mode_names[mode], "date", p->date));
	else
		printf("%zu gateway%s compiled into %s (%s): %zu rules, at most %zu per gateway; "
		       "%zu set elements, at most %zu per gateway\n",
		       st.gateways, st.gateways == 1 ? "" : "s", out, pol_mode_names[mode],
		       st.rules, st.max_rules, st.elements, st.max_elements);
out:
	policy_free(p);
	inventory_free(inv);
	return code;
}

static int policy_compile(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},  {"policy", required_argument, NULL, 'p'},
	    {"site", required_argument, NULL, 's'}, {"mode", required_argument, NULL, 'm'},
	    {"date", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL, *date = NULL, *policy_file = NULL;
	int mode = POL_MODE_ENFORCE, c;
	bool json = false;
	optind = 1;
	opterr = 0;
	const char *inexact = out_inexact_option(argc, argv, opts);
	if (inexact)
		return out_usage(usage_compile, "policy compile: unknown option '%s'", inexact);
	/* Every --site counts (never only the last): argc bounds their number. */
	const char **sites = calloc((size_t)argc + 1, sizeof(*sites));
	int *idx = calloc((size_t)argc + 1, sizeof(*idx));
	size_t nsites = 0;
	if (!sites || !idx) {
		free(sites);
		free(idx);
		return out_fail(SEG_EXIT_SYSTEM, "out of memory");
	}
	int code = SEG_EXIT_OK;
	while (code == SEG_EXIT_OK &&
	       (c = getopt_long(argc, argv, "o:p:s:m:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			policy_file = optarg;
			break;
		case 's':
			sites[nsites++] = optarg;
			break;
		case 'm':
			if ((mode = parse_mode(optarg)) < 0)
				code = out_usage(usage_compile, "policy compile: unknown mode '%s'",
						 optarg);
			break;
		case 'd':
			date = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			code = out_help(usage_compile);
			goto done;
		default:
			code = out_usage(usage_compile, "policy compile: bad option '%s'",
					 argv[optind - 1]);
		}
	}
	if (code == SEG_EXIT_OK && (optind != argc - 1 || !out))
		code = out_usage(usage_compile, "policy compile: need INVENTORY and --out DIR");
	if (code == SEG_EXIT_OK)
		code = check_date(usage_compile, date);
	if (code == SEG_EXIT_OK)
		code = compile_run(argv[optind], policy_file, out, date, (enum pol_mode)mode, json,
				   sites, nsites, idx);
done:
	free(sites);
	free(idx);
	return code;
}

/* ------------------------------------------------------------------ */

struct query_args {
	struct pol_tuple tp;
	int mode;
	const char *date;
	const char *policy_file; /* --policy, or NULL for INVENTORY/policy.yaml */
	bool json, batch;
	const char *src, *dst;
	const struct policy *p;
	int64_t time;	   /* --time: the instant the connection opens (Unix s), 0: none */
	char time_day[11]; /* its day, the date the policy is judged on */
};

static int parse_tuple(struct query_args *q, const char *proto, const char *dport,
		       const char *type);

/* Returns an exit code, or -1 for --help. */
static int parse_query(int argc, char **argv, struct query_args *q, const char **dir)
{
	static const struct option opts[] = {
	    {"src", required_argument, NULL, 's'},
	    {"dst", required_argument, NULL, 'd'},
	    {"proto", required_argument, NULL, 'p'},
	    {"dport", required_argument, NULL, 'P'},
	    {"type", required_argument, NULL, 't'},
	    {"mode", required_argument, NULL, 'm'},
	    {"date", required_argument, NULL, 'D'},
	    {"time", required_argument, NULL, 'T'},
	    {"policy", required_argument, NULL, 'F'},
	    {"json", no_argument, NULL, 'j'},
	    {"batch", no_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *proto = NULL, *dport = NULL, *type = NULL;
	int c;
	memset(q, 0, sizeof(*q));
	q->tp.icmp_type = -1;
	optind = 1;
	opterr = 0;
	const char *inexact = out_inexact_option(argc, argv, opts);
	if (inexact)
		return out_usage(usage_query, "policy query: unknown option '%s'", inexact);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			q->src = optarg;
			break;
		case 'd':
			q->dst = optarg;
			break;
		case 'p':
			proto = optarg;
			break;
		case 'P':
			dport = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'm':
			if ((q->mode = parse_mode(optarg)) < 0)
				return out_usage(usage_query, "policy query: unknown mode '%s'",
						 optarg);
			break;
		case 'D':
			q->date = optarg;
			break;
		case 'T': {
			int64_t ns;
			if (!rfc3339_parse(optarg, &ns))
				return out_usage(usage_query,
						 "policy query: bad --time '%s' (expected "
						 "YYYY-MM-DDTHH:MM:SSZ or with an offset)",
						 optarg);
			q->time = ns / 1000000000;
			time_t tt = (time_t)q->time;
			struct tm tm;
			gmtime_r(&tt, &tm);
			strftime(q->time_day, sizeof(q->time_day), "%Y-%m-%d", &tm);
			break;
		}
		case 'F':
			q->policy_file = optarg;
			break;
		case 'j':
			q->json = true;
			break;
		case 'b':
			q->batch = true;
			break;
		case 'h':
			return -1;
		default:
			return out_usage(usage_query, "policy query: bad option '%s'",
					 argv[optind - 1]);
		}
	}
	if (q->batch) {
		if (optind != argc - 1 || q->src || q->dst || proto || dport || type)
			return out_usage(usage_query, "policy query: --batch takes INVENTORY and "
						      "the connections on standard input");
		*dir = argv[optind];
		q->json = true;
		return check_date(usage_query, q->date);
	}
	if (optind != argc - 1 || !q->src || !q->dst || !proto)
		return out_usage(usage_query,
				 "policy query: need INVENTORY, --src, --dst, --proto");
	*dir = argv[optind];
	int code = parse_tuple(q, proto, dport, type);
	if (code != SEG_EXIT_OK)
		return code;
	return check_date(usage_query, q->date);
}

/* The connection of q->src, q->dst and the strings given; an exit code. */
static int parse_tuple(struct query_args *q, const char *proto, const char *dport, const char *type)
{
	q->tp.icmp_type = -1;
	q->tp.dport = 0;
	if (ip_addr_parse(q->src, &q->tp.src) != 0 || ip_addr_parse(q->dst, &q->tp.dst) != 0)
		return out_usage(usage_query, "policy query: --src and --dst take IP addresses");
	if (q->tp.src.family != q->tp.dst.family)
		return out_usage(usage_query, "policy query: --src and --dst differ in family");
	int pr = proto_parse(proto);
	if (pr < 0) {
		const char *names[256];
		const char *sug = diag_suggest(proto, names, proto_names(names, 256));
		if (sug)
			return out_usage(usage_query,
					 "policy query: unknown protocol '%s' (did you mean '%s'?)",
					 proto, sug);
		return out_usage(usage_query, "policy query: unknown protocol '%s'", proto);
	}
	q->tp.proto = (uint8_t)pr;
	if (proto_has_ports(q->tp.proto)) {
		char *end;
		long v = dport ? strtol(dport, &end, 10) : -1;
		if (!dport || *end || v < 0 || v > 65535)
			return out_usage(usage_query, "policy query: %s needs --dport 0-65535",
					 proto);
		q->tp.dport = (uint16_t)v;
	} else if (dport) {
		return out_usage(usage_query, "policy query: %s has no ports", proto);
	}
	bool icmp = proto_is_icmp(q->tp.src.family, q->tp.proto);
	if (type && !icmp)
		return out_usage(usage_query,
				 "policy query: --type is for icmp (IPv4) and icmpv6 (IPv6)");
	if (type && (q->tp.icmp_type = proto_icmp_parse(q->tp.src.family, type)) < 0)
		return out_usage(usage_query, "policy query: unknown ICMP type '%s'", type);
	if (icmp && !type)
		return out_usage(usage_query, "policy query: %s needs --type", proto);
	return SEG_EXIT_OK;
}

/* What the policy's stage-2 names say about an address: objects, host, labels, groups. */
struct end_names {
	const char *objects[32], *groups[32];
	size_t nobjects, ngroups;
	const struct host *host;
};

static void names_of(const struct policy *p, const struct inventory *inv, const struct ip_addr *a,
		     int site, struct end_names *n)
{
	memset(n, 0, sizeof(*n));
	for (size_t i = 0; i < p->nobjects && n->nobjects < 32; i++)
		if (pol_ranges_find(&p->objects[i].addrs, a))
			n->objects[n->nobjects++] = p->objects[i].name;
	for (size_t i = 0; site >= 0 && i < p->ngroups && n->ngroups < 32; i++)
		if (p->groups[i].member[site])
			n->groups[n->ngroups++] = p->groups[i].name;
	for (size_t h = 0; h < inv->nhosts && !n->host; h++)
		for (size_t k = 0; k < inv->hosts[h].naddrs; k++)
			if (ip_prefix_contains(&inv->hosts[h].addrs[k], a))
				n->host = &inv->hosts[h];
}

static json_t *strs_json(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *end_json(const struct pol_table *city, const struct inventory *inv,
			const struct policy *p, const char *ip, const struct ip_addr *a,
			const struct pol_class *c)
{
	const char *site = pol_table_site_name(city, c->site);
	int s = site ? inventory_find_site(inv, site) : -1;
	json_t *j = json_pack(
	    "{s:s,s:s,s:s,s:s?,s:s?,s:b}", "address", ip, "zone",
	    pol_table_zone_name(city, c->zone), "kind",
	    pol_zone_kind_names[pol_table_zone_kind(city, c->zone)], "site", site, "district",
	    s >= 0 ? inv->districts[inv->sites[s].district].name : NULL, "dc", c->dc);
	struct end_names n;
	names_of(p, inv, a, s, &n);
	json_object_set_new(j, "objects", strs_json(n.objects, n.nobjects));
	json_object_set_new(j, "groups", strs_json(n.groups, n.ngroups));
	json_object_set_new(j, "host", n.host ? json_string(n.host->name) : json_null());
	json_t *l = json_object();
	for (size_t i = 0; n.host && i < n.host->nlabels; i++) {
		const struct host_label *hl = &n.host->labels[i];
		json_t *v = json_object_get(l, hl->key);
		if (!v)
			json_object_set_new(l, hl->key, v = json_array());
		json_array_append_new(v, json_string(hl->value));
	}
	json_object_set_new(j, "labels", l);
	return j;
}

struct checks {
	bool same_site, same_district, dst_dc;
};

/* The scope facts from the city-wide classification (not one gateway's view). */
static void scope_checks(const struct pol_table *city, const struct inventory *inv,
			 const struct pol_class *s, const struct pol_class *d, struct checks *c)
{
	const char *ss = pol_table_site_name(city, s->site);
	const char *ds = pol_table_site_name(city, d->site);
	int si = ss ? inventory_find_site(inv, ss) : -1;
	int di = ds ? inventory_find_site(inv, ds) : -1;
	c->same_site = si >= 0 && si == di;
	c->same_district = si >= 0 && di >= 0 && inv->sites[si].district == inv->sites[di].district;
	c->dst_dc = d->dc;
}

static const char *verdict_word(const struct pol_verdict *v)
{
	return v->by == POL_BY_TRANSIT ? "transit" : pol_action_names[v->action];
}

struct query_result {
	struct pol_class src, dst; /* city-wide */
	struct checks ck;
	int judges[2], counted, decisive;
	size_t nj;
	struct pol_table *gw[2];
	struct pol_verdict v[2];
	bool passes;
};

static void print_json(const struct query_args *q, const struct inventory *inv,
		       const struct pol_table *city, struct query_result *r, int *code)
{
	int d = r->decisive;
	const struct pol_trule *dr =
	    d >= 0 && r->v[d].rule >= 0 ? pol_table_rule(r->gw[d], (size_t)r->v[d].rule) : NULL;
	json_t *j = json_object(), *ga = json_array();
	json_object_set_new(j, "verdict",
			    json_string(pol_action_names[d >= 0 ? r->v[d].action : POL_ACCEPT]));
	json_object_set_new(j, "passes", json_boolean(r->passes));
	json_object_set_new(j, "rule", dr ? json_string(dr->id) : json_null());
	json_object_set_new(j, "by", json_string(d >= 0 ? pol_outcome_names[r->v[d].by] : "none"));
	json_object_set_new(j, "exception", json_boolean(dr && dr->exception));
	json_object_set_new(j, "decided_at",
			    d >= 0 ? json_string(inv->sites[r->judges[d]].id) : json_null());
	json_object_set_new(j, "src", end_json(city, inv, q->p, q->src, &q->tp.src, &r->src));
	json_object_set_new(j, "dst", end_json(city, inv, q->p, q->dst, &q->tp.dst, &r->dst));
	json_object_set_new(j, "proto", json_integer(q->tp.proto));
	if (proto_has_ports(q->tp.proto))
		json_object_set_new(j, "dport", json_integer(q->tp.dport));
	if (q->tp.icmp_type >= 0)
		json_object_set_new(j, "type", json_integer(q->tp.icmp_type));
	json_object_set_new(j, "mode", json_string(pol_mode_names[q->mode]));
	json_object_set_new(j, "scope",
			    json_pack("{s:b,s:b,s:b}", "same_site", r->ck.same_site,
				      "same_district", r->ck.same_district, "dst_dc",
				      r->ck.dst_dc));
	for (size_t i = 0; i < r->nj; i++) {
		const struct pol_trule *ru =
		    r->v[i].rule >= 0 ? pol_table_rule(r->gw[i], (size_t)r->v[i].rule) : NULL;
		json_t *g = json_pack(
		    "{s:s,s:s,s:b,s:s,s:s?,s:b,s:s?,s:b,s:b}", "site", inv->sites[r->judges[i]].id,
		    "verdict", verdict_word(&r->v[i]), "passes", r->v[i].passes, "by",
		    pol_outcome_names[r->v[i].by], "rule", ru ? ru->id : NULL, "exception",
		    ru && ru->exception, "scope", ru ? pol_scope_names[ru->scope] : NULL, "counts",
		    r->judges[i] == r->counted, "to_gateway", r->v[i].to_gateway);
		if (ru) {
			const char *f =
			    summary_side_term(r->gw[i], &ru->from, &q->tp.src, &r->v[i].src);
			const char *t =
			    summary_side_term(r->gw[i], &ru->to, &q->tp.dst, &r->v[i].dst);
			json_object_set_new(
			    g, "matched",
			    json_pack("{s:s?,s:s?}", "from", f, "to", ru->gateway ? "gateway" : t));
			if (ru->window)
				json_object_set_new(g, "window", json_string(ru->window));
			if (ru->limit.rate)
				json_object_set_new(
				    g, "limit",
				    json_pack("{s:I,s:s,s:I,s:b}", "rate",
					      (json_int_t)ru->limit.rate, "unit", ru->limit.unit,
					      "burst",
					      (json_int_t)(ru->limit.burst ? ru->limit.burst
									   : ru->limit.rate),
					      "per_source", ru->limit.per_source));
		}
		json_array_append_new(ga, g);
	}
	json_object_set_new(j, "gateways", ga);
	json_object_set_new(j, "counted_at",
			    r->counted >= 0 ? json_string(inv->sites[r->counted].id) : json_null());
	if (!q->batch) {
		*code = out_json(j);
		return;
	}
	/* one line each, flushed: a reader may answer line by line */
	if (json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0)
		*code = SEG_EXIT_SYSTEM;
	json_decref(j);
}

static void print_text(const struct query_args *q, const struct inventory *inv,
		       const struct pol_table *city, const struct query_result *r)
{
	printf("%s -> %s proto %u", q->src, q->dst, q->tp.proto);
	if (proto_has_ports(q->tp.proto))
		printf(" dport %u", q->tp.dport);
	if (q->tp.icmp_type >= 0)
		printf(" type %d", q->tp.icmp_type);
	printf(": %s\n", r->passes ? "PASSES" : "DENIED");
	const struct pol_class *ends[2] = {&r->src, &r->dst};
	for (int e = 0; e < 2; e++) {
		const char *site = pol_table_site_name(city, ends[e]->site);
		printf("  %s %s: zone %s (%s)%s%s%s\n", e ? "dst" : "src", e ? q->dst : q->src,
		       pol_table_zone_name(city, ends[e]->zone),
		       pol_zone_kind_names[pol_table_zone_kind(city, ends[e]->zone)],
		       site ? ", site " : ", at no site", site ? site : "",
		       ends[e]->dc ? ", data-centre network" : "");
		struct end_names n;
		names_of(q->p, inv, e ? &q->tp.dst : &q->tp.src,
			 site ? inventory_find_site(inv, site) : -1, &n);
		if (n.host) {
			printf("    host %s", n.host->name);
			for (size_t k = 0; k < n.host->nlabels; k++)
				printf("%s%s=%s", k ? " " : " (", n.host->labels[k].key,
				       n.host->labels[k].value);
			printf("%s\n", n.host->nlabels ? ")" : "");
		}
		for (size_t k = 0; k < n.nobjects; k++)
			printf("%s%s", k ? ", " : "    in objects: ", n.objects[k]);
		if (n.nobjects)
			printf("\n");
		for (size_t k = 0; k < n.ngroups; k++)
			printf("%s%s", k ? ", " : "    site groups: ", n.groups[k]);
		if (n.ngroups)
			printf("\n");
	}
	printf("  scope checks: same site %s, same district %s, destination in dc %s\n",
	       r->ck.same_site ? "yes" : "no", r->ck.same_district ? "yes" : "no",
	       r->ck.dst_dc ? "yes" : "no");
	if (r->nj == 0)
		printf("  no site gateway judges it: neither end is in a segment\n");
	for (size_t i = 0; i < r->nj; i++) {
		const struct pol_verdict *v = &r->v[i];
		const struct pol_trule *ru =
		    v->rule >= 0 ? pol_table_rule(r->gw[i], (size_t)v->rule) : NULL;
		printf("  gateway %s: %s", inv->sites[r->judges[i]].id, verdict_word(v));
		if (ru) {
			const char *f = summary_side_term(r->gw[i], &ru->from, &q->tp.src, &v->src);
			const char *t = summary_side_term(r->gw[i], &ru->to, &q->tp.dst, &v->dst);
			printf(" by %srule %s%s (scope %s; from %s, to %s",
			       ru->gateway ? "gateway " : "", ru->id,
			       ru->exception ? " [site exception]" : "", pol_scope_names[ru->scope],
			       f ? f : "?",
			       ru->gateway ? "the gateway"
			       : t	   ? t
					   : "?");
			if (ru->window)
				printf("; window %s", ru->window);
			if (ru->limit.rate)
				printf(
				    "; limit %u/%s burst %u%s: new connections over it are dropped",
				    ru->limit.rate, ru->limit.unit,
				    ru->limit.burst ? ru->limit.burst : ru->limit.rate,
				    ru->limit.per_source ? " per source (IPv6: per /64)" : "");
			printf(")");
		} else if (v->by == POL_BY_MANAGEMENT) {
			printf(" by the anti-lockout (a management network to the gateway)");
		} else if (v->by == POL_BY_DEFAULT)
			printf(" by default (no rule matched)");
		else if (v->by == POL_BY_INVALID)
			printf(
			    " as invalid (an ICMP message that opens no connection: an "
			    "unsolicited error or reply; related ones pass with their connection)");
		if (q->mode == POL_MODE_OBSERVE && v->action != POL_ACCEPT)
			printf(", observe mode lets it pass");
		printf("%s\n", r->judges[i] == r->counted ? "; counted here" : "");
	}
}

/* One connection, judged with the city's build; gateway tables come from
 * cache[site * 2 + mode] when a cache is given (batch) and are kept there. */
static int query_one(const struct query_args *q, const struct inventory *inv,
		     const struct pol_build *b, const struct pol_table *city,
		     struct pol_table **cache, int64_t now)
{
	struct query_result r;
	int code = SEG_EXIT_OK, rc = 0;
	memset(&r, 0, sizeof(r));
	pol_classify(city, &q->tp.src, &r.src);
	pol_classify(city, &q->tp.dst, &r.dst);
	scope_checks(city, inv, &r.src, &r.dst, &r.ck);
	pol_build_judges(b, &q->tp.src, &q->tp.dst, r.judges, &r.nj, &r.counted);
	r.passes = true;
	r.decisive = r.nj ? 0 : -1;
	/* A connection opened at the policy's instant (now, or --date's start): what
	 * the kernel's `meta time` sees. */
	struct pol_tuple tp = q->tp;
	tp.time = now;
	for (size_t i = 0; i < r.nj; i++) {
		struct pol_table **slot = cache ? &cache[r.judges[i] * 2 + q->mode] : &r.gw[i];
		if (!*slot &&
		    (rc = pol_build_gateway(b, r.judges[i], (enum pol_mode)q->mode, slot)) < 0)
			goto out;
		r.gw[i] = *slot;
		if ((rc = pol_decide(r.gw[i], &tp, &r.v[i])) < 0)
			goto out;
		r.passes &= r.v[i].passes;
		/* The first gateway that denies decides; otherwise the counting one. */
		if (r.v[i].action != POL_ACCEPT && r.v[r.decisive].action == POL_ACCEPT)
			r.decisive = (int)i;
	}
	if (q->json)
		print_json(q, inv, city, &r, &code);
	else
		print_text(q, inv, city, &r);
out:
	if (rc < 0)
		code = out_fail(SEG_EXIT_SYSTEM, "policy query: %s", strerror(-rc));
	if (!cache)
		for (int i = 0; i < 2; i++)
			pol_table_free(r.gw[i]);
	return code;
}

/* --batch: "SRC DST PROTO [DPORT|TYPE]" per line of standard input. */
static int query_batch(struct query_args *q, const struct inventory *inv, const struct pol_build *b,
		       const struct pol_table *city, int64_t now)
{
	size_t nslots = inv->nsites * 2;
	struct pol_table **cache = calloc(nslots ? nslots : 1, sizeof(*cache));
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int code = SEG_EXIT_OK;
	if (!cache)
		return out_fail(SEG_EXIT_SYSTEM, "policy query: %s", strerror(ENOMEM));
	while (code == SEG_EXIT_OK && getline(&line, &cap, stdin) >= 0) {
		char *f[5], *save = NULL;
		int n = 0;
		lineno++;
		for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 5;
		     t = strtok_r(NULL, " \t\r\n", &save))
			f[n++] = t;
		if (n == 0 || f[0][0] == '#')
			continue;
		if (n < 3 || n > 4) {
			code = out_fail(SEG_EXIT_USAGE,
					"policy query: line %zu: want SRC DST PROTO [DPORT|TYPE]",
					lineno);
			break;
		}
		q->src = f[0];
		q->dst = f[1];
		if (ip_addr_parse(q->src, &q->tp.src) != 0 ||
		    ip_addr_parse(q->dst, &q->tp.dst) != 0 ||
		    q->tp.src.family != q->tp.dst.family) {
			code = out_fail(SEG_EXIT_USAGE,
					"policy query: line %zu: two IP addresses of one family",
					lineno);
			break;
		}
		int pr = proto_parse(f[2]);
		bool icmp = pr >= 0 && proto_is_icmp(q->tp.src.family, (uint8_t)pr);
		const char *arg = n == 4 && strcmp(f[3], "-") != 0 ? f[3] : NULL;
		code = parse_tuple(q, f[2], icmp ? NULL : arg, icmp ? arg : NULL);
		if (code != SEG_EXIT_OK)
			break;
		code = query_one(q, inv, b, city, cache, now);
	}
	free(line);
	for (size_t i = 0; i < nslots; i++)
		pol_table_free(cache[i]);
	free(cache);
	return code;
}

static int run_query(struct query_args *q, const struct inventory *inv, const struct policy *p)
{
	struct pol_build *b = NULL;
	struct pol_table *city = NULL;
	int code = SEG_EXIT_OK;
	int rc = pol_build_new(p, inv, &b);
	if (rc == 0)
		rc = pol_build_city(b, &city);
	if (rc < 0)
		code = out_fail(SEG_EXIT_SYSTEM, "policy query: %s", strerror(-rc));
	else if (q->batch)
		code = query_batch(q, inv, b, city, q->time ? q->time : p->now);
	else
		code = query_one(q, inv, b, city, NULL, q->time ? q->time : p->now);
	pol_table_free(city);
	pol_build_free(b);
	return code;
}

static int policy_query(int argc, char **argv)
{
	struct query_args q;
	const char *dir = NULL;
	int code = parse_query(argc, argv, &q, &dir);
	if (code < 0)
		return out_help(usage_query);
	if (code != SEG_EXIT_OK)
		return code;
	struct inventory *inv;
	struct policy *p;
	if (q.time && q.date)
		return out_usage(usage_query, "policy query: --time and --date exclude each other");
	if ((code = load_all(dir, q.policy_file, q.time ? q.time_day : q.date, &inv, &p)) !=
	    SEG_EXIT_OK)
		return code;
	q.p = p;
	code = run_query(&q, inv, p);
	policy_free(p);
	inventory_free(inv);
	return code;
}

/* ------------------------------------------------------------------ */

/* The subcommands: one function each, lint/diff in cmd_policy_lint.c, deploying in
 * cmd_policy_deploy.c. */
static const struct command subcommands[] = {
    {"compile", policy_compile, "per-gateway nftables rulesets and classification tables"},
    {"query", policy_query, "the verdict for one connection, and why"},
    {"lint", policy_cmd_lint, "findings in the policy"},
    {"diff", policy_cmd_diff, "what changes between two policies"},
    {"apply", policy_cmd_apply, "load a compiled ruleset into the kernel"},
    {"confirm", policy_cmd_confirm, "keep a ruleset applied with --confirm"},
    {"status", policy_cmd_status, "live counters and drift of the loaded ruleset"},
};
#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

int cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		return out_usage(usage_main, "policy: missing subcommand");
	if (out_is_help(argv[1]))
		return out_help(usage_main);
	const char *names[NSUB];
	for (size_t i = 0; i < NSUB; i++) {
		names[i] = subcommands[i].name;
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	}
	const char *s = diag_suggest(argv[1], names, NSUB);
	if (s)
		return out_usage(usage_main, "policy: unknown subcommand '%s' (did you mean '%s'?)",
				 argv[1], s);
	return out_usage(usage_main, "policy: unknown subcommand '%s'", argv[1]);
}
