// SPDX-License-Identifier: MIT
/*
 * segplan audit against its baseline, in one run: 850 gateways' summaries of
 * the example city (examples/stuttgart, its policy), a few hundred tuples
 * each, generated in memory with a fixed seed:
 *  - baseline: parsing every summary with jansson, nothing else;
 *  - audit: the current policy's hash (pol_build_new), every summary checked
 *    and counted, the report, its JSON and the suggested rules' YAML;
 * medians of several runs, and the ratio of the two.
 * usage: bench_audit [SRCDIR [TUPLES]]   (SRCDIR defaults to $SEGPLAN_SRC or ".")
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policies/audit.h"
#include "policies/compile.h"
#include "policies/policy.h"
#include "topology/inventory.h"

#define RUNS   5
#define TUPLES 300 /* per gateway */
#define DATE   "2026-01-01"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* xorshift64*: a fixed stream, so every run audits the same summaries. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dull) % n;
}

static const int ports[] = {22,	 53,   80,   123,  389,	 443,  445,  514,  631,	 636,
			    993, 1433, 1521, 3268, 3389, 5060, 5061, 8080, 8443, 9100};

static int ntuples = TUPLES;

static json_t *tuple(const struct policy *p, const char **zones, size_t nz, size_t site)
{
	int proto = rnd(10) < 7 ? 6 : rnd(3) ? 17 : 1;
	int port = proto == 1 ? 8 : rnd(4) ? ports[rnd(20)] : 1024 + (int)rnd(60000);
	uint64_t r = rnd(100), flows = 1 + rnd(200);
	const char *verdict = r < 80 ? "accept" : r < 95 ? "drop" : "reject";
	const char *rule = NULL;
	if (r < 80 || r >= 95) {
		const struct pol_rule *pr = &p->rules[rnd(p->nrules)];
		rule = pr->id;
	}
	json_t *t = json_pack("{s:s,s:s,s:i,s:i}", "src_zone", zones[rnd(nz)], "dst_zone",
			      zones[rnd(nz)], "ip_version", rnd(4) ? 4 : 6, "proto", proto);
	json_object_set_new(t, proto == 1 ? "icmp_type" : "dst_port", json_integer(port));
	json_object_set_new(t, "verdict", json_string(verdict));
	json_object_set_new(t, "passes", json_boolean(r < 80));
	json_object_set_new(t, "by", json_string(rule ? "rule" : "default"));
	json_object_set_new(t, "rule", rule ? json_string(rule) : json_null());
	json_object_set_new(t, "flows", json_integer((json_int_t)flows));
	json_object_set_new(t, "packets", json_integer((json_int_t)(flows * (2 + rnd(40)))));
	json_object_set_new(t, "bytes", json_integer((json_int_t)(flows * (120 + rnd(60000)))));
	if (r >= 80) {
		json_t *ex = json_array();
		for (int i = 0; i < 3; i++) {
			char a[32], b[32];
			snprintf(a, sizeof(a), "10.%zu.%d.%d", site % 250, (int)rnd(250),
				 (int)rnd(250) + 1);
			snprintf(b, sizeof(b), "10.%d.%d.%d", (int)rnd(250), (int)rnd(250),
				 (int)rnd(250) + 1);
			json_array_append_new(ex, json_pack("{s:s,s:s,s:i}", "src", a, "dst", b,
							    "flows", (int)(1 + rnd(flows))));
		}
		json_object_set_new(t, "examples", ex);
	}
	return t;
}

static char *summary(const struct policy *p, const struct inventory *inv, const char *hash,
		     const char **zones, size_t nz, size_t site)
{
	json_t *tuples = json_array(), *hits = json_array(), *krules = json_array(),
	       *top = json_array();
	for (int i = 0; i < ntuples; i++)
		json_array_append_new(tuples, tuple(p, zones, nz, site));
	for (size_t i = 0; i < p->nrules; i++) {
		json_int_t h = (json_int_t)rnd(3) * (json_int_t)rnd(1000);
		json_array_append_new(hits,
				      json_pack("{s:s,s:I,s:I,s:I}", "id", p->rules[i].id, "hits",
						h, "packets", h * 10, "bytes", h * 5000));
		json_array_append_new(
		    krules, json_pack("{s:s,s:s,s:i,s:I,s:I}", "id", p->rules[i].id, "chain",
				      "forward", "nft_rules", 2, "packets", h, "bytes", h * 60));
	}
	for (int i = 0; i < 5; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.255.%d.%d", (int)rnd(250), (int)rnd(250) + 1);
		json_array_append_new(top,
				      json_pack("{s:s,s:i,s:i,s:i,s:i}", "address", a, "as_src",
						(int)rnd(10), "as_dst", (int)rnd(10), "packets",
						(int)rnd(1000), "bytes", (int)rnd(100000)));
	}
	json_t *j = json_pack(
	    "{s:i,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:f,s:b,s:s},s:{s:s,s:s,s:s,s:s},"
	    "s:{s:s,s:I,s:I,s:I,s:[]},s:o,s:o,s:{s:i,s:i,s:i,s:i,s:o},s:{s:b,s:s,s:o}}",
	    "format", 1, "kind", "segplan-agent-summary", "generator", "segplan-agent bench",
	    "host", inv->sites[site].id, "site", inv->sites[site].id, "window", "start",
	    "2026-01-01T08:00:00Z", "end", "2026-01-01T09:00:00Z", "seconds", 3600.0, "final", 0,
	    "clock", "wall", "policy", "file", "x.policy.json", "gateway", inv->sites[site].id,
	    "hash", hash, "mode", "observe", "capture", "mode", "live", "packets_read",
	    (json_int_t)1000000, "packets_decoded", (json_int_t)1000000, "packets_not_decoded",
	    (json_int_t)0, "interfaces", "tuples", tuples, "rule_hits", hits, "unassigned", "flows",
	    40, "packets", 400, "bytes", 40000, "addresses", 5, "top", top, "kernel", "present", 1,
	    "applied_at", "2026-01-01T07:00:00Z", "rules", krules);
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	return text;
}

int main(int argc, char **argv)
{
	const char *src = argc > 1 ? argv[1] : getenv("SEGPLAN_SRC") ? getenv("SEGPLAN_SRC") : ".";
	char dir[4096], path[4200];
	if (argc > 2)
		ntuples = atoi(argv[2]) > 0 ? atoi(argv[2]) : TUPLES;
	snprintf(dir, sizeof(dir), "%s/examples/stuttgart", src);
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	struct policy *p = NULL;
	struct pol_build *b = NULL;
	if (inventory_load(dir, dl, &inv) < 0 || policy_load(path, NULL, inv, DATE, dl, &p) < 0 ||
	    pol_build_new(p, inv, &b) < 0) {
		diag_write(dl, stderr);
		fprintf(stderr, "bench_audit: cannot load %s\n", dir);
		return 1;
	}
	const char **zones = calloc(p->nzones, sizeof(*zones));
	size_t nz = 0;
	for (size_t i = 0; i < p->nzones; i++)
		if (p->zones[i].kind != POL_ZONE_DC && p->zones[i].kind != POL_ZONE_OTHER)
			zones[nz++] = p->zones[i].name;
	size_t n = inv->nsites;
	char **text = calloc(n, sizeof(*text));
	size_t total = 0;
	for (size_t s = 0; s < n; s++) {
		text[s] = summary(p, inv, pol_build_hash(b), zones, nz, s);
		total += strlen(text[s]);
	}
	pol_build_free(b);

	double tp[RUNS], ta[RUNS], th[RUNS], tr[RUNS], to[RUNS];
	size_t ndenials = 0, nsugg = 0;
	uint64_t flows = 0;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_s();
		for (size_t s = 0; s < n; s++) {
			json_t *j =
			    json_loadb(text[s], strlen(text[s]), JSON_REJECT_DUPLICATES, NULL);
			if (!j)
				return 1;
			json_decref(j);
		}
		tp[r] = now_s() - t0;

		t0 = now_s();
		struct audit *a;
		struct audit_report *rep;
		if (audit_new(p, inv, NULL, &a) < 0)
			return 1;
		th[r] = now_s() - t0;
		for (size_t s = 0; s < n; s++)
			if (audit_add_buffer(a, text[s], strlen(text[s]), inv->sites[s].id, dl))
				return 1;
		double t1 = now_s();
		if (audit_report(a, &rep) < 0)
			return 1;
		double t2 = now_s();
		tr[r] = t2 - t1;
		json_t *j = audit_report_json(rep, p, inv);
		char *js = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		char *yaml = audit_suggest_yaml(rep, p, inv);
		ta[r] = now_s() - t0;
		to[r] = now_s() - t2;
		if (!js || !yaml)
			return 1;
		ndenials = rep->ndenials;
		nsugg = rep->nsuggestions;
		flows = rep->total.flows;
		free(js);
		free(yaml);
		json_decref(j);
		audit_report_free(rep);
		audit_free(a);
	}
	double mp = median(tp, RUNS), ma = median(ta, RUNS), mh = median(th, RUNS);
	double mr = median(tr, RUNS), mo = median(to, RUNS);
	printf("example city: %zu gateways' summaries, %d tuples each, %.1f MB of JSON\n", n,
	       ntuples, (double)total / 1e6);
	printf("    parse only (baseline)   %.3f s\n", mp);
	printf("    audit                   %.3f s   %.2fx parsing\n", ma, ma / mp);
	printf("      policy hash %.3f s, summaries %.3f s, report %.3f s, JSON and YAML %.3f s\n",
	       mh, ma - mh - mr - mo, mr, mo);
	printf("    %" PRIu64 " flows, %zu denied zone pairs/services, %zu suggested rules\n",
	       flows, ndenials, nsugg);
	printf("    target: under 1 s: %s\n", ma < 1.0 ? "met" : "MISSED");
	for (size_t s = 0; s < n; s++)
		free(text[s]);
	free(text);
	free(zones);
	policy_free(p);
	inventory_free(inv);
	diag_list_free(dl);
	return 0;
}
