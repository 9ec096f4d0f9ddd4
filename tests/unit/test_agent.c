// SPDX-License-Identifier: MIT
/* The agent's classification and segment summary on crafted captures with a
 * hand-made policy table; the VLAN-aware capture filter; rotated flow
 * segments with retention. Captures are written with craft/craft.h and read
 * back through the agent's own reader, decoder and flow table. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/capture.h"
#include "agent/decode.h"
#include "agent/export.h"
#include "agent/flow.h"
#include "agent/netmon.h"
#include "agent/summary.h"
#include "craft/craft.h"
#include "compile/compile.h"
#include "eval/eval.h"
#include "inventory/inventory.h"
#include "policy/policy.h"
#include "tests/unit/testutil.h"

#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

/* Gateway S1: admin 10.0.1.0/24 and servers 10.1.1.0/24 are its own; admin
 * 10.0.2.0/24 is another site's; vpn-staff is a pool; the rest of 10/8 is
 * unassigned, everything else the internet. */
static const char policy_fmt[] =
    "{\"format\": 1, \"generator\": \"test\", \"gateway\": \"S1\", \"district\": \"Mitte\",\n"
    " \"mode\": \"%s\", \"policy_hash\": \"sha256:%064d\", \"date\": \"2026-01-01\",\n"
    " \"zones\": [{\"name\": \"admin\", \"kind\": \"segment\"},\n"
    "           {\"name\": \"servers\", \"kind\": \"segment\"},\n"
    "           {\"name\": \"vpn-staff\", \"kind\": \"vpn\"},\n"
    "           {\"name\": \"internet\", \"kind\": \"internet\"},\n"
    "           {\"name\": \"unassigned\", \"kind\": \"unassigned\"}],\n"
    " \"sites\": [\"S1\"],\n"
    " \"lists\": {\"zones\": [[\"10.0.1.0/24\", \"admin\"], [\"10.0.2.0/24\", \"admin\"],\n"
    "                       [\"10.1.1.0/24\", \"servers\"], [\"10.200.0.0/22\", \"vpn-staff\"],\n"
    "                       [\"fd00:1::/64\", \"admin\"], [\"fd00:2::/64\", \"servers\"]],\n"
    "           \"city\": [\"10.0.0.0/8\", \"fd00::/16\"],\n"
    "           \"local\": [\"10.0.1.0/24\", \"10.1.1.0/24\", \"fd00:1::/64\", \"fd00:2::/64\"],\n"
    "           \"district\": [], \"dc\": [],\n"
    "           \"sites\": [[\"10.0.1.0/24\", \"S1\"], [\"10.1.1.0/24\", \"S1\"]]},\n"
    " \"rules\": [\n"
    "  {\"id\": \"%s\", \"action\": \"accept\", \"scope\": \"any\", \"log\": false,\n"
    "   \"exception\": false, \"from\": [\"admin\", \"vpn-staff\"], \"to\": [\"servers\"],\n"
    "   \"services\": {\"ports\": [{\"proto\": 6, \"from\": 80, \"to\": 80}], \"icmp\": [8],\n"
    "                \"icmpv6\": [128], \"protocols\": []}, \"service_names\": \"web\"},\n"
    "  {\"id\": \"no-unassigned\", \"action\": \"drop\", \"scope\": \"any\", \"log\": false,\n"
    "   \"exception\": false, \"from\": \"any\", \"to\": [\"unassigned\"], \"services\": "
    "\"any\"}]}\n";

static char *tmpdir;

static void setup(void)
{
	tmpdir = tu_tmpdir();
	cr_assert(tmpdir);
}

static void teardown(void)
{
	tu_rmdir(tmpdir);
	free(tmpdir);
}

static struct pol_table *load_policy(const char *mode, const char *web_id)
{
	char text[4096];
	snprintf(text, sizeof(text), policy_fmt, mode, 0, web_id);
	char *path = tu_write(tmpdir, "S1.policy.json", text);
	struct diag_list *dl = diag_list_new();
	struct pol_table *t = NULL;
	int rc = pol_table_load(path, dl, &t);
	cr_assert_eq(rc, 0, "%s", tu_diags(dl));
	diag_list_free(dl);
	free(path);
	return t;
}

/* A capture under construction: packets with their IP-layer sizes. */
struct capbuild {
	struct craft_writer *w;
	char *path;
};

static void cap_begin(struct capbuild *b, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	b->path = strdup(path);
	cr_assert_eq(craft_writer_open(b->path, DLT_EN10MB, &b->w), 0);
}

/* Writes one packet; returns its bytes at the IP layer. */
static uint64_t put(struct capbuild *b, uint64_t ts, const struct craft *c)
{
	uint8_t buf[2048];
	struct craft_layout lay;
	size_t n = craft_packet(c, DLT_EN10MB, buf, sizeof(buf), &lay);
	cr_assert(n > 0);
	craft_writer_add(b->w, ts, buf, n, n);
	return n - lay.l3;
}

static struct craft tcp4(const char *src, const char *dst, uint16_t sport, uint16_t dport,
			 uint8_t flags, size_t payload)
{
	return (struct craft){.ip_version = 4,
			      .src = src,
			      .dst = dst,
			      .proto = 6,
			      .sport = sport,
			      .dport = dport,
			      .tcp_flags = flags,
			      .payload = payload};
}

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01

/* A whole TCP connection, client first: handshake, data, FIN both ways.
 * Returns its IP bytes; *packets gets its packet count. */
static uint64_t connection(struct capbuild *b, uint64_t ts, const char *cli, const char *srv,
			   uint16_t sport, uint16_t dport, uint64_t *packets)
{
	uint64_t bytes = 0;
	bytes += put(b, ts,
		     &(struct craft){.ip_version = 4,
				     .src = cli,
				     .dst = srv,
				     .proto = 6,
				     .sport = sport,
				     .dport = dport,
				     .tcp_flags = SYN});
	bytes += put(b, ts + 1000,
		     &(struct craft){.ip_version = 4,
				     .src = srv,
				     .dst = cli,
				     .proto = 6,
				     .sport = dport,
				     .dport = sport,
				     .tcp_flags = SYN | ACK});
	bytes += put(b, ts + 2000,
		     &(struct craft){.ip_version = 4,
				     .src = cli,
				     .dst = srv,
				     .proto = 6,
				     .sport = sport,
				     .dport = dport,
				     .tcp_flags = ACK,
				     .payload = 100});
	bytes += put(b, ts + 3000,
		     &(struct craft){.ip_version = 4,
				     .src = srv,
				     .dst = cli,
				     .proto = 6,
				     .sport = dport,
				     .dport = sport,
				     .tcp_flags = FIN | ACK,
				     .payload = 300});
	bytes += put(b, ts + 4000,
		     &(struct craft){.ip_version = 4,
				     .src = cli,
				     .dst = srv,
				     .proto = 6,
				     .sport = sport,
				     .dport = dport,
				     .tcp_flags = FIN | ACK});
	*packets += 5;
	return bytes;
}

struct ctx {
	struct sum *s;
	const struct pol_table *t;
	json_t *records; /* every record with its classification */
};

static void sink(void *arg, const struct flow *f, enum flow_end why)
{
	struct ctx *c = arg;
	struct sum_class cls;
	sum_add(c->s, c->t, f, why, &cls);
	json_t *o = exp_flow_json(f, why);
	cr_assert(o);
	cr_assert_eq(sum_class_to_json(c->t, &cls, o), 0);
	json_array_append_new(c->records, o);
}

/* Reads the capture through the agent's pipeline into the summary. */
static void run(struct capbuild *b, struct ctx *c, const struct flow_timeouts *to)
{
	cr_assert_eq(craft_writer_close(b->w), 0);
	b->w = NULL;
	struct diag_list *dl = diag_list_new();
	struct cap *cap = NULL;
	struct dec *d = dec_new(NULL);
	struct flow_table *ft = NULL;
	struct flow_config fc = {.sink = sink, .sink_arg = c, .seed = 1};
	if (to)
		fc.timeouts = *to;
	cr_assert_eq(flow_table_new(&fc, &ft), 0);
	cr_assert_eq(cap_open_offline(b->path, dl, &cap), 0, "%s", tu_diags(dl));
	cr_assert_eq(cap_run(cap, d, ft, dl), 0, "%s", tu_diags(dl));
	dec_flush(d);
	flow_table_flush(ft);
	cap_close(cap);
	flow_table_free(ft);
	dec_free(d);
	diag_list_free(dl);
	free(b->path);
}

static json_t *summary(struct ctx *c)
{
	json_t *j = json_object();
	cr_assert_eq(sum_to_json(c->s, c->t, j), 0);
	return j;
}

/* The tuple whose fields match, or NULL. */
static json_t *find_tuple(json_t *sum, const char *sz, const char *dz, int proto, int port)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(sum, "tuples"), i, t)
	{
		json_t *p =
		    json_object_get(t, proto == 1 || proto == 58 ? "icmp_type" : "dst_port");
		if (strcmp(json_string_value(json_object_get(t, "src_zone")), sz) == 0 &&
		    strcmp(json_string_value(json_object_get(t, "dst_zone")), dz) == 0 &&
		    json_integer_value(json_object_get(t, "proto")) == proto &&
		    (port < 0 ? !p : json_integer_value(p) == port))
			return t;
	}
	return NULL;
}

static json_int_t hits(json_t *sum, const char *id)
{
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(sum, "rule_hits"), i, h)
	{
		if (strcmp(json_string_value(json_object_get(h, "id")), id) == 0)
			return json_integer_value(json_object_get(h, "hits"));
	}
	return -1;
}

static json_int_t geti(json_t *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *cur = o;
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && cur;
	     k = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, k);
	cr_assert(json_is_integer(cur), "no integer at %s", path);
	return json_integer_value(cur);
}

struct fixture {
	struct ctx c;
	struct capbuild b;
	struct pol_table *t;
};

static void fx_init(struct fixture *fx, const char *mode, const char *name)
{
	fx->t = load_policy(mode, "web");
	cr_assert_eq(sum_new(&fx->c.s), 0);
	fx->c.t = fx->t;
	fx->c.records = json_array();
	cap_begin(&fx->b, name);
}

static void fx_free(struct fixture *fx)
{
	sum_free(fx->c.s);
	pol_table_free(fx->t);
	json_decref(fx->c.records);
}

TestSuite(agent, .init = setup, .fini = teardown);

Test(agent, allowed_and_denied_connections_per_tuple)
{
	struct fixture fx;
	fx_init(&fx, "enforce", "a.pcap");
	uint64_t web_packets = 0, web_bytes = 0, ssh_packets = 0, ssh_bytes = 0;
	for (int i = 0; i < 3; i++)
		web_bytes += connection(&fx.b, T0 + (uint64_t)i * SEC, "10.0.1.10", "10.1.1.5",
					(uint16_t)(40000 + i), 80, &web_packets);
	/* ssh: 2 connections from .10, 1 from .11, 1 from .12: denied by default */
	const char *ssh_from[] = {"10.0.1.10", "10.0.1.10", "10.0.1.11", "10.0.1.12"};
	for (int i = 0; i < 4; i++) {
		struct craft syn = tcp4(ssh_from[i], "10.1.1.5", (uint16_t)(50000 + i), 22, SYN, 0);
		ssh_bytes += put(&fx.b, T0 + 10 * SEC + (uint64_t)i * SEC, &syn);
		ssh_bytes += put(&fx.b, T0 + 11 * SEC + (uint64_t)i * SEC, &syn);
		ssh_packets += 2;
	}
	run(&fx.b, &fx.c, NULL);
	json_t *j = summary(&fx.c);

	json_t *web = find_tuple(j, "admin", "servers", 6, 80);
	cr_assert(web);
	cr_assert_str_eq(json_string_value(json_object_get(web, "verdict")), "accept");
	cr_assert_str_eq(json_string_value(json_object_get(web, "rule")), "web");
	cr_assert(json_is_true(json_object_get(web, "passes")));
	cr_assert_eq(geti(web, "flows"), 3);
	cr_assert_eq(geti(web, "packets"), (json_int_t)web_packets);
	cr_assert_eq(geti(web, "bytes"), (json_int_t)web_bytes);
	cr_assert_null(json_object_get(web, "examples"), "only denied tuples list hosts");
	cr_assert_eq(geti(web, "answered"), 3, "each connection was answered");

	json_t *ssh = find_tuple(j, "admin", "servers", 6, 22);
	cr_assert(ssh);
	cr_assert_str_eq(json_string_value(json_object_get(ssh, "verdict")), "drop");
	cr_assert_str_eq(json_string_value(json_object_get(ssh, "by")), "default");
	cr_assert(json_is_null(json_object_get(ssh, "rule")));
	cr_assert(json_is_false(json_object_get(ssh, "passes")));
	cr_assert_eq(geti(ssh, "flows"), 4);
	cr_assert_eq(geti(ssh, "packets"), (json_int_t)ssh_packets);
	cr_assert_eq(geti(ssh, "bytes"), (json_int_t)ssh_bytes);
	cr_assert_eq(geti(ssh, "answered"), 0, "SYNs only: none answered");
	json_t *ex = json_object_get(ssh, "examples");
	cr_assert_eq(json_array_size(ex), SUMMARY_EXAMPLES);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ex, 0), "src")),
			 "10.0.1.10", "the busiest pair first");
	cr_assert_eq(geti(json_array_get(ex, 0), "flows"), 2);

	cr_assert_eq(hits(j, "web"), 3, "hits count connections, not packets");
	cr_assert_eq(hits(j, "no-unassigned"), 0, "every rule is listed, zero or not");
	cr_assert_eq(geti(j, "denied.flows"), 4);
	cr_assert_eq(geti(j, "outcomes.default"), 4);
	cr_assert_eq(geti(j, "outcomes.rule"), 3);
	cr_assert_eq(geti(j, "flows.connections"), 7);
	json_decref(j);
	fx_free(&fx);
}

/* The flows listed for address addr in a denied tuple's hosts (end "src" or "dst"), or -1. */
static json_int_t host_flows(json_t *tuple, const char *end, const char *addr)
{
	char key[16];
	json_t *h = json_object_get(tuple, "hosts");
	json_t *a = json_object_get(h, end);
	snprintf(key, sizeof(key), "%s_flows", end);
	json_t *f = json_object_get(h, key);
	cr_assert_eq(json_array_size(a), json_array_size(f), "%s and %s are parallel", end, key);
	for (size_t i = 0; i < json_array_size(a); i++)
		if (strcmp(json_string_value(json_array_get(a, i)), addr) == 0)
			return json_integer_value(json_array_get(f, i));
	return -1;
}

Test(agent, denied_tuples_count_answered_connections_and_flows_per_host)
{
	struct fixture fx;
	fx_init(&fx, "enforce", "answered.pcap");
	uint64_t packets = 0;
	/* ssh is denied: 2 answered connections from .10 (to .5 and .6), 1 from .11
	 * to .5; and 3 unanswered SYNs from .12 to .5 */
	connection(&fx.b, T0, "10.0.1.10", "10.1.1.5", 40000, 22, &packets);
	connection(&fx.b, T0 + SEC, "10.0.1.10", "10.1.1.6", 40001, 22, &packets);
	connection(&fx.b, T0 + 2 * SEC, "10.0.1.11", "10.1.1.5", 40002, 22, &packets);
	for (int i = 0; i < 3; i++) {
		struct craft syn = tcp4("10.0.1.12", "10.1.1.5", (uint16_t)(50000 + i), 22, SYN, 0);
		put(&fx.b, T0 + 3 * SEC + (uint64_t)i * SEC, &syn);
	}
	run(&fx.b, &fx.c, NULL);
	json_t *j = summary(&fx.c);
	json_t *ssh = find_tuple(j, "admin", "servers", 6, 22);
	cr_assert(ssh);
	cr_assert_str_eq(json_string_value(json_object_get(ssh, "verdict")), "drop");
	cr_assert_eq(geti(ssh, "flows"), 6);
	cr_assert_eq(geti(ssh, "answered"), 3, "enforcement failures: answered although denied");
	cr_assert_eq(host_flows(ssh, "src", "10.0.1.10"), 2);
	cr_assert_eq(host_flows(ssh, "src", "10.0.1.11"), 1);
	cr_assert_eq(host_flows(ssh, "src", "10.0.1.12"), 3);
	cr_assert_eq(host_flows(ssh, "dst", "10.1.1.5"), 5);
	cr_assert_eq(host_flows(ssh, "dst", "10.1.1.6"), 1);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(ssh, "hosts"), "src")), 3);
	json_decref(j);
	fx_free(&fx);
}

/* The tuple of zones sz -> dz, ICMP type `type`, decided as `by`. */
static json_t *find_icmp_by(json_t *sum, const char *sz, const char *dz, int type, const char *by)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(sum, "tuples"), i, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "src_zone")), sz) == 0 &&
		    strcmp(json_string_value(json_object_get(t, "dst_zone")), dz) == 0 &&
		    json_integer_value(json_object_get(t, "proto")) == 1 &&
		    json_integer_value(json_object_get(t, "icmp_type")) == type &&
		    strcmp(json_string_value(json_object_get(t, "by")), by) == 0)
			return t;
	}
	return NULL;
}

/* A port unreachable from `from` to `to` quoting UDP to -> from. */
static uint64_t port_unreachable(struct capbuild *b, uint64_t ts, const char *from, const char *to,
				 uint16_t sport, uint16_t dport)
{
	uint8_t q[128];
	struct craft u = {.ip_version = 4,
			  .src = to,
			  .dst = from,
			  .proto = 17,
			  .sport = sport,
			  .dport = dport,
			  .payload = 20};
	size_t n = craft_packet(&u, DLT_RAW, q, sizeof(q), NULL);
	cr_assert_gt(n, 28);
	return put(b, ts,
		   &(struct craft){.ip_version = 4,
				   .src = from,
				   .dst = to,
				   .proto = 1,
				   .icmp_type = 3,
				   .icmp_code = 3,
				   .quote = q,
				   .quote_len = 28});
}

Test(agent, icmp_errors_related_to_a_flow_pass_with_it)
{
	struct fixture fx;
	fx_init(&fx, "enforce", "related.pcap");
	/* admin -> servers UDP 5060: the default drops it (this gateway sees
	 * the attempt); the server answers port unreachable. */
	put(&fx.b, T0,
	    &(struct craft){.ip_version = 4,
			    .src = "10.0.1.10",
			    .dst = "10.1.1.5",
			    .proto = 17,
			    .sport = 5000,
			    .dport = 5060,
			    .payload = 20});
	uint64_t rel_bytes =
	    port_unreachable(&fx.b, T0 + 1000, "10.1.1.5", "10.0.1.10", 5000, 5060);
	/* The same error for a datagram never seen: unsolicited. */
	uint64_t inv_bytes =
	    port_unreachable(&fx.b, T0 + 2000, "10.1.1.6", "10.0.1.11", 5000, 5060);
	run(&fx.b, &fx.c, NULL);
	json_t *j = summary(&fx.c);

	json_t *rel = find_icmp_by(j, "servers", "admin", 3, "related");
	cr_assert(rel);
	cr_assert_str_eq(json_string_value(json_object_get(rel, "verdict")), "accept");
	cr_assert(json_is_true(json_object_get(rel, "passes")));
	cr_assert(json_is_null(json_object_get(rel, "rule")));
	cr_assert_eq(geti(rel, "flows"), 1);
	cr_assert_eq(geti(rel, "bytes"), (json_int_t)rel_bytes, "the error's own bytes");
	cr_assert_null(json_object_get(rel, "examples"), "not a denial");

	json_t *inv = find_icmp_by(j, "servers", "admin", 3, "invalid");
	cr_assert(inv);
	cr_assert_str_eq(json_string_value(json_object_get(inv, "verdict")), "drop");
	cr_assert(json_is_false(json_object_get(inv, "passes")));
	cr_assert_eq(geti(inv, "bytes"), (json_int_t)inv_bytes);

	cr_assert_eq(geti(j, "outcomes.related"), 1);
	cr_assert_eq(geti(j, "outcomes.invalid"), 1);
	cr_assert_eq(geti(j, "outcomes.default"), 1, "the UDP datagram");
	cr_assert_eq(geti(j, "denied.flows"), 2, "the datagram and the unsolicited error");

	/* Flow records say so too. */
	size_t i, nrel = 0;
	json_t *o;
	json_array_foreach(fx.c.records, i, o)
	{
		if (json_integer_value(json_object_get(o, "proto")) != 1)
			continue;
		bool r = json_is_true(json_object_get(o, "related"));
		nrel += r;
		cr_assert_str_eq(json_string_value(json_object_get(o, "by")),
				 r ? "related" : "invalid");
	}
	cr_assert_eq(nrel, 1);
	json_decref(j);
	fx_free(&fx);
}

Test(agent, the_initiator_decides_even_when_its_syn_was_missed)
{
	struct fixture fx;
	fx_init(&fx, "enforce", "b.pcap");
	/* The capture starts at the server's SYN+ACK: the responder speaks first. */
	put(&fx.b, T0,
	    &(struct craft){.ip_version = 4,
			    .src = "10.1.1.5",
			    .dst = "10.0.1.10",
			    .proto = 6,
			    .sport = 80,
			    .dport = 40000,
			    .tcp_flags = SYN | ACK});
	put(&fx.b, T0 + 1000,
	    &(struct craft){.ip_version = 4,
			    .src = "10.0.1.10",
			    .dst = "10.1.1.5",
			    .proto = 6,
			    .sport = 40000,
			    .dport = 80,
			    .tcp_flags = ACK,
			    .payload = 10});
	run(&fx.b, &fx.c, NULL);
	json_t *j = summary(&fx.c);
	cr_assert_eq(hits(j, "web"), 1);
	cr_assert_null(find_tuple(j, "servers", "admin", 6, 40000), "not judged backwards");
	json_t *rec = json_array_get(fx.c.records, 0);
	cr_assert_str_eq(json_string_value(json_object_get(rec, "src_zone")), "admin");
	cr_assert_str_eq(json_string_value(json_object_get(rec, "rule")), "web");
	cr_assert(json_is_true(json_object_get(rec, "counted")));
	json_decref(j);
	fx_free(&fx);
}

Test(agent, who_counts_a_flow)
{
	struct fixture fx;
	fx_init(&fx, "enforce", "c.pcap");
	uint64_t p = 0;
	/* another site's admin to our server: that site's gateway counts it */
	connection(&fx.b, T0, "10.0.2.7", "10.1.1.5", 40000, 80, &p);
	/* the internet to our server: we do (the initiator is at no site) */
	connection(&fx.b, T0 + SEC, "192.0.2.1", "10.1.1.5", 40001, 80, &p);
	/* a VPN pool to our server: we do */
	connection(&fx.b, T0 + 2 * SEC, "10.200.0.9", "10.1.1.5", 40002, 80, &p);
	/* transit between two addresses that are not ours */
	connection(&fx.b, T0 + 3 * SEC, "10.0.2.7", "198.51.100.1", 40003, 443, &p);
	run(&fx.b, &fx.c, NULL);
	json_t *j = summary(&fx.c);
	cr_assert_eq(geti(j, "flows.connections"), 4);
	cr_assert_eq(geti(j, "flows.counted"), 2);
	cr_assert_eq(geti(j, "flows.not_ours.flows"), 2);
	cr_assert_null(find_tuple(j, "admin", "servers", 6, 80), "not ours: in no tuple");
	cr_assert(find_tuple(j, "internet", "servers", 6, 80));
	json_t *vpn = find_tuple(j, "vpn-staff", "servers", 6, 80);
	cr_assert(vpn);
	cr_assert_str_eq(json_string_value(json_object_get(vpn, "rule")), "web");
	cr_assert_eq(hits(j, "web"), 1, "only the counted VPN connection");
	cr_assert_eq(geti(j, "outcomes.transit"), 0, "transit flows are not ours");
	json_t *rec = json_array_get(fx.c.records, 3);
	cr_assert_str_eq(json_string_value(json_object_get(rec, "verdict")), "transit");
	cr_assert(json_is_false(json_object_get(rec, "counted")));
	json_decref(j);
	fx_free(&fx);
}

Test(agent, unassigned_addresses_are_listed)
{
	struct fixture fx;
	fx_init(&fx, "enforce", "d.pcap");
	uint64_t bytes = 0;
	for (int i = 0; i < 3; i++) {
		struct craft syn =
		    tcp4("10.0.1.10", "10.7.0.1", (uint16_t)(41000 + i), 445, SYN, 0);
		bytes += put(&fx.b, T0 + (uint64_t)i * SEC, &syn);
	}
	struct craft in = {.ip_version = 4,
			   .src = "10.9.9.9",
			   .dst = "10.0.1.10",
			   .proto = 17,
			   .sport = 5353,
			   .dport = 53,
			   .payload = 20};
	put(&fx.b, T0 + 5 * SEC, &in);
	run(&fx.b, &fx.c, NULL);
	json_t *j = summary(&fx.c);
	cr_assert_eq(hits(j, "no-unassigned"), 3);
	cr_assert_eq(geti(j, "unassigned.flows"), 4);
	cr_assert_eq(geti(j, "unassigned.addresses"), 2);
	json_t *top = json_array_get(json_object_get(json_object_get(j, "unassigned"), "top"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(top, "address")), "10.7.0.1");
	cr_assert_eq(geti(top, "as_dst"), 3);
	cr_assert_eq(geti(top, "as_src"), 0);
	cr_assert_eq(geti(top, "bytes"), (json_int_t)bytes);
	/* the unassigned initiator is at no site: counted at its destination */
	json_t *udp = find_tuple(j, "unassigned", "admin", 17, 53);
	cr_assert(udp);
	cr_assert_str_eq(json_string_value(json_object_get(udp, "by")), "default");
	json_decref(j);
	fx_free(&fx);
}

Test(agent, observe_mode_reports_what_would_break)
{
	struct fixture fx;
	fx_init(&fx, "observe", "e.pcap");
	struct craft syn = tcp4("10.0.1.10", "10.1.1.5", 50000, 22, SYN, 0);
	put(&fx.b, T0, &syn);
	struct craft ping = {.ip_version = 4,
			     .src = "10.0.1.10",
			     .dst = "10.1.1.5",
			     .proto = 1,
			     .icmp_type = 8,
			     .icmp_id = 7};
	put(&fx.b, T0 + SEC, &ping);
	run(&fx.b, &fx.c, NULL);
	json_t *j = summary(&fx.c);
	json_t *ssh = find_tuple(j, "admin", "servers", 6, 22);
	cr_assert(ssh);
	cr_assert_str_eq(json_string_value(json_object_get(ssh, "verdict")), "drop");
	cr_assert(json_is_true(json_object_get(ssh, "passes")), "observe: it passes");
	cr_assert_eq(geti(j, "denied.flows"), 1, "and is still reported as denied");
	json_t *icmp = find_tuple(j, "admin", "servers", 1, 8);
	cr_assert(icmp, "ICMP tuples are keyed by type");
	cr_assert_str_eq(json_string_value(json_object_get(icmp, "rule")), "web");
	json_decref(j);
	fx_free(&fx);
}

Test(agent, active_timeout_records_are_one_connection)
{
	struct fixture fx;
	fx_init(&fx, "enforce", "f.pcap");
	uint64_t packets = 0, bytes = 0;
	/* one UDP exchange every 5 s for 40 s with a 10 s active timeout */
	for (int i = 0; i <= 8; i++) {
		struct craft q = {.ip_version = 4,
				  .src = "10.0.1.10",
				  .dst = "10.1.1.5",
				  .proto = 6,
				  .sport = 40000,
				  .dport = 80,
				  .tcp_flags = ACK,
				  .payload = 50};
		bytes += put(&fx.b, T0 + (uint64_t)i * 5 * SEC, &q);
		packets++;
	}
	struct flow_timeouts to = {.active_ns = 10 * SEC};
	run(&fx.b, &fx.c, &to);
	cr_assert_gt(json_array_size(fx.c.records), 2, "the active timeout split the flow");
	json_t *j = summary(&fx.c);
	cr_assert_eq(hits(j, "web"), 1);
	cr_assert_eq(geti(j, "flows.connections"), 1);
	cr_assert_eq(geti(j, "flows.records"), (json_int_t)json_array_size(fx.c.records));
	json_t *web = find_tuple(j, "admin", "servers", 6, 80);
	cr_assert_eq(geti(web, "flows"), 1);
	cr_assert_eq(geti(web, "packets"), (json_int_t)packets);
	cr_assert_eq(geti(web, "bytes"), (json_int_t)bytes);
	json_decref(j);
	fx_free(&fx);
}

Test(agent, reload_keeps_counts_of_the_old_rules)
{
	struct fixture fx;
	fx_init(&fx, "enforce", "g.pcap");
	uint64_t p = 0;
	connection(&fx.b, T0, "10.0.1.10", "10.1.1.5", 40000, 80, &p);
	run(&fx.b, &fx.c, NULL);
	/* SIGHUP: the new policy names the rule differently */
	struct pol_table *t2 = load_policy("enforce", "web-v2");
	fx.c.t = t2;
	cap_begin(&fx.b, "g2.pcap");
	connection(&fx.b, T0 + 10 * SEC, "10.0.1.10", "10.1.1.5", 40001, 80, &p);
	run(&fx.b, &fx.c, NULL);
	json_t *j = summary(&fx.c);
	cr_assert_eq(hits(j, "web"), 1, "the old rule's hit stays in the window");
	cr_assert_eq(hits(j, "web-v2"), 1);
	cr_assert_eq(geti(j, "flows.connections"), 2);
	json_decref(j);
	sum_reset(fx.c.s);
	j = summary(&fx.c);
	cr_assert_eq(hits(j, "web"), -1, "a new window forgets the old rule");
	cr_assert_eq(hits(j, "web-v2"), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "tuples")), 0);
	json_decref(j);
	pol_table_free(t2);
	fx_free(&fx);
}

Test(agent, without_policy_flows_are_counted_unclassified)
{
	struct sum *s;
	cr_assert_eq(sum_new(&s), 0);
	struct ctx c = {s, NULL, json_array()};
	struct capbuild b;
	cap_begin(&b, "h.pcap");
	uint64_t p = 0;
	connection(&b, T0, "10.0.1.10", "10.1.1.5", 40000, 80, &p);
	run(&b, &c, NULL);
	json_t *j = summary(&c);
	json_t *t = find_tuple(j, "-", "-", 6, 80);
	cr_assert(t);
	cr_assert(json_is_null(json_object_get(t, "verdict")));
	cr_assert_eq(geti(t, "packets"), (json_int_t)p);
	cr_assert_null(json_object_get(json_array_get(c.records, 0), "verdict"));
	json_decref(j);
	json_decref(c.records);
	sum_free(s);
}

/* ------------------------------------------------------------------ */
/* Stage 2: the table of tests/e2e/fixtures/stage2 at S1 */

#define S2_DIR	 "tests/e2e/fixtures/stage2"
#define S2_DATE	 "2026-12-01"
#define MON_NOON 1796644800ull /* 2026-12-07T12:00:00Z, Monday 13:00 in Berlin */
#define MON_2130 1796679000ull /* 2026-12-07T21:30:00Z, 22:30 in Berlin: in the window */
#define TUE_0059 1796691590ull /* 2026-12-08T00:59:50Z, 01:59:50 in Berlin: 10 s before its end */
#define MON_2059 1796677190ull /* 2026-12-07T20:59:50Z, 21:59:50 in Berlin: 10 s before it */

/* One connection of the fixture and what the policy says of it at S1 (by hand). */
struct s2flow {
	int v;
	const char *src, *dst;
	uint8_t proto;
	uint16_t dport;
	uint64_t at;	  /* first packet, Unix seconds */
	uint64_t last;	  /* a second packet this many seconds later (0: one packet) */
	const char *rule; /* deciding rule, NULL for none */
	const char *by;	  /* rule, default, management */
	const char *verdict;
	bool counted; /* S1 counts it */
};

static const struct s2flow s2flows[] = {
    {4, "10.99.1.20", "10.99.8.80", 6, 443, MON_NOON, 0, "payroll-web", "rule", "accept", true},
    {6, "fd99:0:0:1::20", "fd99:0:1::80", 6, 443, MON_NOON, 0, "payroll-web", "rule", "accept",
     true},
    {4, "10.99.1.20", "10.99.8.53", 17, 53, MON_NOON, 0, "dns", "rule", "accept", true},
    {4, "10.99.49.5", "10.99.8.53", 17, 53, MON_NOON, 0, NULL, "default", "drop", true},
    {4, "10.99.49.6", "10.99.8.54", 17, 53, MON_NOON, 0, NULL, "default", "drop", true},
    {4, "10.99.1.20", "10.99.9.10", 6, 631, MON_NOON, 0, NULL, "default", "drop", true},
    {4, "10.99.1.20", "10.99.9.20", 6, 631, MON_NOON, 0, "print-net", "rule", "accept", true},
    {4, "10.99.1.21", "10.99.9.30", 6, 22, MON_NOON, 0, "ssh-limited", "rule", "accept", true},
    {4, "10.99.17.5", "10.99.9.30", 6, 22, MON_NOON, 0, "ssh-src", "rule", "accept", true},
    {4, "10.99.66.7", "10.99.41.10", 6, 22, MON_2130, 0, "maint", "rule", "accept", true},
    {4, "10.99.66.8", "10.99.41.10", 6, 22, MON_NOON, 0, NULL, "default", "drop", true},
    /* judged at the first packet: in the window, then past its end... */
    {4, "10.99.66.9", "10.99.41.11", 6, 22, TUE_0059, 40, "maint", "rule", "accept", true},
    /* ...and before it, then inside */
    {4, "10.99.66.10", "10.99.41.11", 6, 22, MON_2059, 40, NULL, "default", "drop", true},
    /* the gateway itself: a gateway service, the default of the input chain, the anti-lockout */
    {4, "10.99.8.161", "10.99.254.1", 17, 161, MON_NOON, 0, "snmp", "rule", "accept", false},
    {4, "10.99.1.20", "10.99.1.1", 6, 22, MON_NOON, 0, NULL, "default", "drop", true},
    {4, "10.99.57.5", "10.99.57.1", 6, 22, MON_NOON, 0, NULL, "management", "accept", true},
    {4, "10.99.1.22", "100.70.1.10", 6, 443, MON_NOON, 0, "state-partner", "rule", "accept", true},
    {4, "10.99.41.20", "10.99.41.10", 6, 443, MON_NOON, 0, "bms-sup", "rule", "accept", true},
    {4, "10.99.41.20", "10.99.8.80", 6, 443, MON_NOON, 0, NULL, "default", "drop", true},
    {4, "10.99.57.5", "10.99.8.81", 6, 5432, MON_NOON, 0, "mgmt-all", "rule", "accept", true},
};
#define NS2FLOWS (sizeof(s2flows) / sizeof(s2flows[0]))

struct s2 {
	struct inventory *inv;
	struct policy *p;
	struct pol_build *b;
	struct pol_table *t; /* S1's, read back from its policy.json as the agent reads it */
};

static void s2_load(struct s2 *x)
{
	struct diag_list *dl = diag_list_new();
	memset(x, 0, sizeof(*x));
	cr_assert_eq(inventory_load(tu_path(S2_DIR), dl, &x->inv), 0, "%s", tu_diags(dl));
	cr_assert_eq(policy_load(tu_path(S2_DIR "/policy.yaml"), NULL, x->inv, S2_DATE, dl, &x->p),
		     0, "%s", tu_diags(dl));
	cr_assert_eq(pol_build_new(x->p, x->inv, &x->b), 0);
	struct pol_table *t;
	cr_assert_eq(
	    pol_build_gateway(x->b, inventory_find_site(x->inv, "S1"), POL_MODE_ENFORCE, &t), 0);
	json_t *j = pol_table_to_json(t);
	char *text = json_dumps(j, 0);
	char *path = tu_write(tmpdir, "S1.policy.json", text);
	cr_assert_eq(pol_table_load(path, dl, &x->t), 0, "%s", tu_diags(dl));
	free(path);
	free(text);
	json_decref(j);
	pol_table_free(t);
	diag_list_free(dl);
}

static void s2_free(struct s2 *x)
{
	pol_table_free(x->t);
	pol_build_free(x->b);
	policy_free(x->p);
	inventory_free(x->inv);
}

/* The connection's packets: one from the initiator, and one more `last` seconds later. */
static void s2_put(struct capbuild *b, const struct s2flow *f, uint16_t sport)
{
	struct craft c = {.ip_version = f->v,
			  .src = f->src,
			  .dst = f->dst,
			  .proto = f->proto,
			  .sport = sport,
			  .dport = f->dport,
			  .tcp_flags = f->proto == 6 ? SYN : 0,
			  .payload = f->proto == 6 ? 0 : 40};
	put(b, f->at * SEC, &c);
	if (f->last) {
		c.tcp_flags = f->proto == 6 ? ACK : 0;
		c.payload = 100;
		put(b, (f->at + f->last) * SEC, &c);
	}
}

/* `segplan policy query --batch --time T --json` for the flows of s2flows opened at T: one
 * JSON object per flow in *out (indexed like s2flows; others left NULL). */
static void s2_query(uint64_t at, json_t **out)
{
	const char *bin = getenv("SEGPLAN_BIN");
	char in[512], cmd[2048], tm[32];
	snprintf(in, sizeof(in), "%s/query-%llu.txt", tmpdir, (unsigned long long)at);
	FILE *f = fopen(in, "w");
	cr_assert(f);
	for (size_t i = 0; i < NS2FLOWS; i++)
		if (s2flows[i].at == at)
			fprintf(f, "%s %s %u %u\n", s2flows[i].src, s2flows[i].dst,
				s2flows[i].proto, s2flows[i].dport);
	fclose(f);
	time_t tt = (time_t)at;
	struct tm g;
	strftime(tm, sizeof(tm), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &g));
	snprintf(cmd, sizeof(cmd), "'%s' policy query '%s' --batch --time %s < '%s' 2>/dev/null",
		 bin, tu_path(S2_DIR), tm, in);
	FILE *q = popen(cmd, "r");
	cr_assert(q);
	char line[16384];
	for (size_t i = 0; i < NS2FLOWS; i++) {
		if (s2flows[i].at != at)
			continue;
		cr_assert(fgets(line, sizeof(line), q), "query answered no line for flow %zu", i);
		json_error_t err;
		out[i] = json_loads(line, 0, &err);
		cr_assert(out[i], "flow %zu: %s", i, err.text);
	}
	cr_assert_eq(pclose(q), 0, "%s", cmd);
}

/* query's judgement at gateway S1. */
static json_t *at_s1(json_t *q)
{
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(q, "gateways"), i, g)
	{
		if (strcmp(json_string_value(json_object_get(g, "site")), "S1") == 0)
			return g;
	}
	return NULL;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The tuple of a classified record (its zones, service, verdict and rule). */
static json_t *tuple_of_record(json_t *sum, json_t *rec)
{
	size_t i;
	json_t *t;
	bool ports = json_object_get(rec, "dst_port") != NULL;
	json_array_foreach(json_object_get(sum, "tuples"), i, t)
	{
		if (str_eq(jstr(t, "src_zone"), jstr(rec, "src_zone")) &&
		    str_eq(jstr(t, "dst_zone"), jstr(rec, "dst_zone")) &&
		    geti(t, "ip_version") == geti(rec, "ip_version") &&
		    geti(t, "proto") == geti(rec, "proto") &&
		    (!ports || geti(t, "dst_port") == geti(rec, "dst_port")) &&
		    str_eq(jstr(t, "verdict"), jstr(rec, "verdict")) &&
		    str_eq(jstr(t, "rule"), jstr(rec, "rule")))
			return t;
	}
	return NULL;
}

/* Adds n to the count of name in the object o. */
static void bump(json_t *o, const char *name, json_int_t n)
{
	json_t *v = json_object_get(o, name);
	json_object_set_new(o, name, json_integer((v ? json_integer_value(v) : 0) + n));
}

/* A tuple's [{"name", "flows"}] list as an object name -> flows. */
static json_t *names_obj(json_t *list)
{
	json_t *o = json_object();
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		cr_assert_null(json_object_get(o, jstr(e, "name")), "a name listed twice");
		json_object_set(o, jstr(e, "name"), json_object_get(e, "flows"));
	}
	return o;
}

/*
 * The named sets of S1's table that hold address a, found from the policy
 * (the term's addresses as the compiler resolved them, by label), not from
 * the table's sets: the sets of gateway services ("{gateways offering X}")
 * are no policy term and are asked of the table.
 */
static void s2_sets_of(const struct s2 *x, const char *addr, json_t *into)
{
	struct ip_addr a;
	cr_assert_eq(ip_addr_parse(addr, &a), 0);
	for (size_t i = 0; i < pol_table_nsets(x->t); i++) {
		const char *label = pol_table_set_label(x->t, (int)i);
		int k = policy_find_term(x->p, label);
		const struct pol_ranges *r =
		    k >= 0 ? pol_build_term(x->b, k) : pol_table_set(x->t, (int)i);
		/* The compiler's sets of a gateway service: "{gateways offering ID}" (and
		 * the gateway's own addresses offering it), ID a gateway service. */
		const char *off = strstr(label, " offering ");
		char id[64] = "";
		if (off)
			snprintf(id, sizeof(id), "%.*s", (int)strcspn(off + 10, "}"), off + 10);
		int gr = policy_find_rule(x->p, id);
		cr_assert(k >= 0 || (gr >= 0 && x->p->rules[gr].gateway), "%s", label);
		if (pol_ranges_find(r, &a))
			bump(into, label, 1);
	}
}

Test(agent, stage2_table_decides_like_policy_query)
{
	if (!getenv("SEGPLAN_BIN"))
		cr_skip_test("SEGPLAN_BIN is not set (run through ctest)");
	struct s2 x;
	s2_load(&x);
	cr_assert_gt(pol_table_nsets(x.t), 5, "S1's table names objects, externals and terms");
	struct ctx c = {NULL, x.t, json_array()};
	cr_assert_eq(sum_new(&c.s), 0);
	struct capbuild b;
	cap_begin(&b, "stage2.pcap");
	/* In time order: the capture is read as a clock. */
	bool done[NS2FLOWS] = {0};
	for (size_t n = 0; n < NS2FLOWS; n++) {
		size_t best = NS2FLOWS;
		for (size_t i = 0; i < NS2FLOWS; i++)
			if (!done[i] && (best == NS2FLOWS || s2flows[i].at < s2flows[best].at))
				best = i;
		done[best] = true;
		s2_put(&b, &s2flows[best], (uint16_t)(41000 + best));
	}
	run(&b, &c, NULL);
	json_t *q[NS2FLOWS] = {0};
	const uint64_t times[] = {MON_NOON, MON_2130, TUE_0059, MON_2059};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		s2_query(times[i], q);
	json_t *sum = summary(&c);

	/* Every record against query at S1 and against the expectation by hand. */
	cr_assert_eq(json_array_size(c.records), NS2FLOWS);
	json_t *want_sets = json_object(), *want_matched = json_object(),
	       *want_scope = json_object();
	size_t i;
	json_t *rec;
	json_array_foreach(c.records, i, rec)
	{
		size_t k = (size_t)(geti(rec, "src_port") - 41000);
		cr_assert_lt(k, NS2FLOWS);
		const struct s2flow *f = &s2flows[k];
		json_t *g = at_s1(q[k]);
		cr_assert(g, "flow %zu: query has no judgement at S1", k);
		cr_assert_str_eq(jstr(rec, "verdict"), jstr(g, "verdict"), "flow %zu", k);
		cr_assert_str_eq(jstr(rec, "by"), jstr(g, "by"), "flow %zu", k);
		cr_assert(str_eq(jstr(rec, "rule"), jstr(g, "rule")), "flow %zu: %s, query %s", k,
			  jstr(rec, "rule"), jstr(g, "rule"));
		cr_assert_eq(json_is_true(json_object_get(rec, "counted")),
			     str_eq(jstr(q[k], "counted_at"), "S1"), "flow %zu", k);
		cr_assert_str_eq(jstr(rec, "verdict"), f->verdict, "flow %zu", k);
		cr_assert_str_eq(jstr(rec, "by"), f->by, "flow %zu", k);
		cr_assert(str_eq(jstr(rec, "rule"), f->rule), "flow %zu: %s", k, jstr(rec, "rule"));
		cr_assert_eq(json_is_true(json_object_get(rec, "counted")), f->counted, "flow %zu",
			     k);
		if (!f->counted)
			continue;
		/* What the tuple names: the sets of both ends, the matched terms, the scope. */
		json_t *t = tuple_of_record(sum, rec);
		cr_assert(t, "flow %zu has a tuple", k);
		char key[32];
		snprintf(key, sizeof(key), "%p", (void *)t);
		json_t *ws = json_object_get(want_sets, key);
		if (!ws) {
			ws = json_pack("{s:o,s:o}", "src", json_object(), "dst", json_object());
			json_object_set_new(want_sets, key, ws);
			json_object_set_new(
			    want_matched, key,
			    json_pack("{s:o,s:o}", "from", json_object(), "to", json_object()));
			json_object_set_new(want_scope, key,
					    json_pack("{s:i,s:i,s:i}", "same_site", 0,
						      "same_district", 0, "dst_dc", 0));
		}
		s2_sets_of(&x, f->src, json_object_get(ws, "src"));
		s2_sets_of(&x, f->dst, json_object_get(ws, "dst"));
		json_t *m = json_object_get(g, "matched");
		if (m) {
			json_t *wm = json_object_get(want_matched, key);
			bump(json_object_get(wm, "from"), jstr(m, "from"), 1);
			bump(json_object_get(wm, "to"), jstr(m, "to"), 1);
		}
		json_t *sc = json_object_get(q[k], "scope"), *w = json_object_get(want_scope, key);
		const char *checks[] = {"same_site", "same_district", "dst_dc"};
		for (int e = 0; e < 3; e++)
			bump(w, checks[e], json_is_true(json_object_get(sc, checks[e])));
	}
	const char *key;
	json_t *ws;
	size_t tuples = 0;
	json_object_foreach(want_sets, key, ws)
	{
		json_t *t = NULL;
		sscanf(key, "%p", (void **)&t);
		json_t *got_src = names_obj(json_object_get(t, "src_sets"));
		json_t *got_dst = names_obj(json_object_get(t, "dst_sets"));
		cr_assert(json_equal(got_src, json_object_get(ws, "src")), "%s -> %s src_sets: %s",
			  jstr(t, "src_zone"), jstr(t, "dst_zone"),
			  json_dumps(json_object_get(t, "src_sets"), 0));
		cr_assert(json_equal(got_dst, json_object_get(ws, "dst")), "%s -> %s dst_sets: %s",
			  jstr(t, "src_zone"), jstr(t, "dst_zone"),
			  json_dumps(json_object_get(t, "dst_sets"), 0));
		json_decref(got_src);
		json_decref(got_dst);
		json_t *wm = json_object_get(want_matched, key),
		       *mt = json_object_get(t, "matched");
		if (json_object_size(json_object_get(wm, "from"))) {
			json_t *f = names_obj(json_object_get(mt, "from"));
			json_t *to = names_obj(json_object_get(mt, "to"));
			cr_assert(json_equal(f, json_object_get(wm, "from")), "matched from of %s",
				  jstr(t, "rule"));
			cr_assert(json_equal(to, json_object_get(wm, "to")), "matched to of %s",
				  jstr(t, "rule"));
			json_decref(f);
			json_decref(to);
		} else {
			cr_assert_null(mt, "no rule, nothing matched");
		}
		bool denied = strcmp(jstr(t, "verdict"), "accept") != 0;
		json_t *sc = json_object_get(t, "scope");
		cr_assert_eq(sc != NULL, denied);
		/* S1's table has no rule of scope same-district or dc-only: it carries
		 * neither list and cannot make those checks. */
		cr_assert(!sc || (json_object_size(sc) == 1 && json_object_get(sc, "same_site")),
			  "%s", json_dumps(sc, 0));
		if (sc)
			cr_assert_eq(json_integer_value(json_object_get(sc, "same_site")),
				     json_integer_value(json_object_get(
					 json_object_get(want_scope, key), "same_site")),
				     "%s -> %s same_site", jstr(t, "src_zone"),
				     jstr(t, "dst_zone"));
		tuples += denied;
		tuples += 100;
	}
	cr_assert_eq(tuples / 100, 16, "tuples counted at S1");
	cr_assert_eq(tuples % 100, 5, "denied tuples");

	/* By hand: what the tuples name. */
	json_t *pw = find_tuple(sum, "admin", "servers", 6, 443);
	cr_assert(pw);
	cr_assert_str_eq(jstr(json_array_get(json_object_get(pw, "dst_sets"), 0), "name"),
			 "{app: payroll, role: web}");
	cr_assert_str_eq(
	    jstr(json_array_get(json_object_get(json_object_get(pw, "matched"), "to"), 0), "name"),
	    "{app: payroll, role: web}");
	json_t *st = find_tuple(sum, "admin", "private-external", 6, 443);
	cr_assert(st);
	json_t *sd = names_obj(json_object_get(st, "dst_sets"));
	cr_assert(json_object_get(sd, "state-dc"), "the external network is named");
	json_decref(sd);
	/* guest -> resolvers: two hosts each way, all of them listed */
	json_t *gd = find_tuple(sum, "guest", "servers", 17, 53);
	cr_assert(gd);
	json_t *h = json_object_get(gd, "hosts");
	cr_assert(json_is_true(json_object_get(h, "src_complete")));
	cr_assert_eq(json_array_size(json_object_get(h, "src")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(h, "dst"), 0)),
			 "10.99.8.53");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(h, "dst"), 1)),
			 "10.99.8.54");
	cr_assert_eq(geti(gd, "scope.same_site"), 0);
	/* admin -> the excluded printer at the same site */
	json_t *pr = NULL;
	json_array_foreach(json_object_get(sum, "tuples"), i, pr)
	{
		if (geti(pr, "dst_port") == 631 && json_object_get(pr, "hosts"))
			break;
	}
	cr_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(json_object_get(pr, "hosts"), "dst"), 0)),
			 "10.99.9.10");
	cr_assert_eq(geti(pr, "scope.same_site"), 1);

	for (size_t k = 0; k < NS2FLOWS; k++)
		json_decref(q[k]);
	json_decref(want_sets);
	json_decref(want_matched);
	json_decref(want_scope);
	json_decref(sum);
	json_decref(c.records);
	sum_free(c.s);
	s2_free(&x);
}

/* ------------------------------------------------------------------ */
/* Capture filter */

static bool filter_matches(const char *expr, const uint8_t *pkt, size_t n)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program prog;
	cr_assert_eq(pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN), 0, "%s",
		     pcap_geterr(p));
	struct pcap_pkthdr h = {.caplen = (bpf_u_int32)n, .len = (bpf_u_int32)n};
	bool m = pcap_offline_filter(&prog, &h, pkt) != 0;
	pcap_freecode(&prog);
	pcap_close(p);
	return m;
}

Test(agent, filter_matches_inside_vlan_tags)
{
	uint8_t tagged[256], plain[256];
	struct craft c = tcp4("10.0.1.10", "10.1.1.5", 40000, 80, SYN, 0);
	size_t np = craft_packet(&c, DLT_EN10MB, plain, sizeof(plain), NULL);
	c.vlans[0] = 10;
	c.nvlans = 1;
	size_t nt = craft_packet(&c, DLT_EN10MB, tagged, sizeof(tagged), NULL);
	char expr[256];
	cap_filter_text("tcp port 80", expr, sizeof(expr));
	cr_assert_not(filter_matches("tcp port 80", tagged, nt), "why the wrapping is needed");
	cr_assert(filter_matches(expr, tagged, nt));
	cr_assert(filter_matches(expr, plain, np));
	cap_filter_text("udp", expr, sizeof(expr));
	cr_assert_not(filter_matches(expr, tagged, nt));

	struct diag_list *dl = diag_list_new();
	cr_assert_eq(cap_filter_check("tcp port 80", dl), 0);
	cr_assert_eq(cap_filter_check("tcp portt 80", dl), -EINVAL);
	cr_assert(tu_diag_contains(dl, "bad capture filter 'tcp portt 80'"), "%s", tu_diags(dl));
	diag_list_free(dl);
}

/* ------------------------------------------------------------------ */
/* Rotated flow segments */

static size_t count_files(const char *dir, const char *prefix, const char *suffix)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "test $(ls '%s' | grep -c '^%s.*%s$') -eq", dir, prefix, suffix);
	for (size_t n = 0; n < 50; n++) {
		char full[1100];
		snprintf(full, sizeof(full), "%s %zu", cmd, n);
		if (tu_run(full) == 0)
			return n;
	}
	return (size_t)-1;
}

static void write_records(struct exp_rotor *r, int n)
{
	json_t *o =
	    json_pack("{s:s,s:i}", "pad", "0123456789012345678901234567890123456789", "n", 1);
	for (int i = 0; i < n; i++)
		exp_jsonl_write(exp_rotor_writer(r), o);
	json_decref(o);
}

Test(agent, flow_segments_rotate_by_size_and_age)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/flows.jsonl", tmpdir);
	struct exp_rotor *r;
	struct exp_rotor_config cfg = {.path = path, .max_bytes = 1000, .max_age_ns = 60 * SEC};
	cr_assert_eq(exp_rotor_open(&cfg, T0, &r), 0);
	cr_assert_eq(count_files(tmpdir, "flows-", ".jsonl"), 0, "nothing visible while open");
	write_records(r, 10); /* 10 lines of about 60 bytes: not full */
	cr_assert_eq(exp_rotor_tick(r, T0 + SEC), 0);
	cr_assert_eq(count_files(tmpdir, "flows-", ".jsonl"), 0);
	write_records(r, 10); /* full */
	cr_assert_eq(exp_rotor_tick(r, T0 + 2 * SEC), 0);
	cr_assert_eq(count_files(tmpdir, "flows-", ".jsonl"), 1);
	char want[512];
	snprintf(want, sizeof(want), "%s/flows-20231114T221320Z.jsonl", tmpdir);
	cr_assert_str_eq(exp_rotor_last(r), want, "named by the time the segment opened");
	write_records(r, 1);
	cr_assert_eq(exp_rotor_tick(r, T0 + 30 * SEC), 0, "neither full nor old");
	cr_assert_eq(count_files(tmpdir, "flows-", ".jsonl"), 1);
	cr_assert_eq(exp_rotor_tick(r, T0 + 63 * SEC), 0);
	cr_assert_eq(count_files(tmpdir, "flows-", ".jsonl"), 2, "rotated by age");
	cr_assert_eq(exp_rotor_close(r), 0);
	cr_assert_eq(count_files(tmpdir, "flows-", ".jsonl"), 3, "the last segment on close");
	/* every line of every segment is whole JSON */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cat '%s'/flows-*.jsonl | jq -e -s 'length == 21' >/dev/null",
		 tmpdir);
	cr_assert_eq(tu_run(cmd), 0);
}

Test(agent, retention_deletes_only_old_closed_segments)
{
	char path[512], old[600], keep[600], other[600], tmpf[600];
	snprintf(path, sizeof(path), "%s/flows.jsonl", tmpdir);
	snprintf(old, sizeof(old), "%s/flows-20000101T000000Z.jsonl", tmpdir);
	snprintf(keep, sizeof(keep), "%s/flows-20990101T000000Z.jsonl", tmpdir);
	snprintf(other, sizeof(other), "%s/other-20000101T000000Z.jsonl", tmpdir);
	snprintf(tmpf, sizeof(tmpf), "%s/flows-20000101T000000Z.jsonl.tmp.abcdef", tmpdir);
	const char *files[] = {old, keep, other, tmpf};
	for (int i = 0; i < 4; i++) {
		FILE *f = fopen(files[i], "w");
		cr_assert(f);
		fclose(f);
	}
	/* "old" and the others were last written two days ago; "keep" now */
	struct timespec two_days[2] = {{.tv_sec = (time_t)(T0 / SEC) - 2 * 86400},
				       {.tv_sec = (time_t)(T0 / SEC) - 2 * 86400}};
	struct timespec fresh[2] = {{.tv_sec = (time_t)(T0 / SEC)}, {.tv_sec = (time_t)(T0 / SEC)}};
	for (int i = 0; i < 4; i++)
		cr_assert_eq(utimensat(AT_FDCWD, files[i], i == 1 ? fresh : two_days, 0), 0);
	struct exp_rotor *r;
	struct exp_rotor_config cfg = {.path = path, .retain_ns = 24 * 3600 * SEC};
	cr_assert_eq(exp_rotor_open(&cfg, T0, &r), 0);
	cr_assert_not(tu_file_exists(old), "older than a day: deleted");
	cr_assert(tu_file_exists(keep));
	cr_assert(tu_file_exists(other), "not a segment of this file");
	cr_assert(tu_file_exists(tmpf), "a temporary file is not a closed segment");
	cr_assert_eq(exp_rotor_close(r), 0);
}

/* ------------------------------------------------------------------ */
/* Interfaces and addresses through rtnetlink, in a namespace of its own */

#define MAX_EV 64

struct evlog {
	struct nm_event ev[MAX_EV];
	int n;
};

static void on_event(void *arg, const struct nm_event *e)
{
	struct evlog *l = arg;
	if (l->n < MAX_EV)
		l->ev[l->n++] = *e;
}

/* Handles notifications until one of kind for ifname has come (at most 2 s). */
static bool await(struct nm *m, struct evlog *l, enum nm_event_kind kind, const char *ifname)
{
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < l->n; i++)
			if (l->ev[i].kind == kind && strcmp(l->ev[i].ifname, ifname) == 0)
				return true;
		struct pollfd p = {.fd = nm_fd(m), .events = POLLIN};
		if (poll(&p, 1, 100) > 0)
			cr_assert_eq(nm_process(m), 0);
	}
	return false;
}

static const struct nm_event *find_addr(const struct evlog *l, enum nm_event_kind kind,
					const char *text)
{
	struct ip_addr a;
	cr_assert_eq(ip_addr_parse(text, &a), 0);
	for (int i = 0; i < l->n; i++)
		if (l->ev[i].kind == kind && ip_addr_cmp(&l->ev[i].addr, &a) == 0)
			return &l->ev[i];
	return NULL;
}

Test(agent, netlink_follows_links_and_addresses)
{
	if (geteuid() != 0)
		cr_skip_test("needs root for a network namespace");
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	struct evlog log = {.n = 0};
	struct nm *m;
	cr_assert_eq(tu_run("ip link add dum0 type veth peer name dum1"), 0);
	cr_assert_eq(nm_new(on_event, &log, &m), 0);
	int idx0, idx;
	bool up;
	cr_assert_eq(nm_link(m, "dum0", &idx0, &up), 0, "the snapshot at start");
	cr_assert_not(up);
	cr_assert_eq(log.n, 0, "the snapshot is no event");

	/* Both ends up: the carrier brings IPv6 autoconfiguration, whose
	 * RTM_NEWLINK messages of family AF_INET6 are link objects too. */
	cr_assert_eq(tu_run("ip link set dum0 up && ip link set dum1 up"), 0);
	cr_assert(await(m, &log, NM_LINK_UP, "dum0"));
	cr_assert_eq(tu_run("ip addr add 10.0.1.7/24 dev dum0 && "
			    "ip -6 addr add fd00:1::7/64 dev dum0 nodad"),
		     0);
	struct nm_addr addrs[16];
	for (int i = 0; i < 20 && !find_addr(&log, NM_ADDR_NEW, "fd00:1::7"); i++)
		await(m, &log, NM_RESYNC, "never");
	const struct nm_event *e = find_addr(&log, NM_ADDR_NEW, "10.0.1.7");
	cr_assert(e);
	cr_assert_eq(e->prefix_len, 24);
	cr_assert_eq(e->ifindex, idx0);
	cr_assert_str_eq(e->ifname, "dum0");
	cr_assert(find_addr(&log, NM_ADDR_NEW, "fd00:1::7"));
	size_t n = nm_addrs(m, addrs, 16);
	bool listed = false;
	for (size_t i = 0; i < n && i < 16; i++)
		listed |= addrs[i].ifindex == idx0 && addrs[i].addr.family == 4;
	cr_assert(listed, "the address is in the current list");

	cr_assert_eq(tu_run("ip addr del 10.0.1.7/24 dev dum0"), 0);
	for (int i = 0; i < 20 && !find_addr(&log, NM_ADDR_DEL, "10.0.1.7"); i++)
		await(m, &log, NM_RESYNC, "never");
	cr_assert(find_addr(&log, NM_ADDR_DEL, "10.0.1.7"));

	cr_assert_eq(tu_run("ip link set dum0 down"), 0);
	cr_assert(await(m, &log, NM_LINK_DOWN, "dum0"));

	/* Deleted and created again: a new index. The IPv6 link object of the
	 * old one must not keep it alive. */
	cr_assert_eq(tu_run("ip link del dum0"), 0);
	cr_assert(await(m, &log, NM_LINK_DEL, "dum0"));
	cr_assert_eq(nm_link(m, "dum0", &idx, &up), -ENODEV);
	cr_assert_eq(tu_run("ip link add dum0 type veth peer name dum1 && ip link set dum0 up"), 0);
	cr_assert(await(m, &log, NM_LINK_NEW, "dum0"));
	cr_assert(await(m, &log, NM_LINK_UP, "dum0"));
	cr_assert_eq(nm_link(m, "dum0", &idx, &up), 0);
	cr_assert_neq(idx, idx0);
	cr_assert(up);
	char name[IF_NAMESIZE];
	cr_assert_str_eq(nm_ifname(m, idx, name), "dum0");
	cr_assert_null(nm_ifname(m, idx0, name));
	nm_free(m);
}

/* What the refill test counts: new addresses in 10.9/16, and refills. */
struct burst {
	int addr_new, resync;
};

static void on_burst(void *arg, const struct nm_event *e)
{
	struct burst *b = arg;
	if (e->kind == NM_ADDR_NEW && e->addr.family == 4 && e->addr.b[0] == 10 &&
	    e->addr.b[1] == 9)
		b->addr_new++;
	if (e->kind == NM_RESYNC)
		b->resync++;
}

/*
 * More changes at once than the notification socket holds: the kernel drops
 * notifications and says so with ENOBUFS. The manager must read the tables
 * again (one "resync"), and report each address exactly once, as if nothing
 * had been lost.
 */
Test(agent, netlink_refills_after_lost_notifications)
{
	if (geteuid() != 0)
		cr_skip_test("needs root for a network namespace");
	enum { N = 400 };
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(
	    tu_run("ip link add burst0 type veth peer name burst1 && ip link set burst0 up"), 0);
	struct burst b = {0};
	struct nm *m;
	cr_assert_eq(nm_new(on_burst, &b, &m), 0);
	/* The smallest receive buffer the kernel allows: a few messages. */
	int small = 1;
	cr_assert_eq(setsockopt(nm_fd(m), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	char path[] = "/tmp/segplan-burst.XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	for (int i = 0; i < N; i++)
		fprintf(f, "addr add 10.9.%d.%d/32 dev burst0\n", i / 250, i % 250 + 1);
	fclose(f);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ip -batch %s", path);
	int rc = tu_run(cmd);
	unlink(path);
	cr_assert_eq(rc, 0);
	for (int round = 0; round < 50 && b.addr_new < N; round++) {
		struct pollfd p = {.fd = nm_fd(m), .events = POLLIN};
		if (poll(&p, 1, 100) > 0)
			cr_assert_eq(nm_process(m), 0);
	}
	cr_assert_geq(b.resync, 1, "the overflow was noticed");
	cr_assert_eq(b.addr_new, N, "every address once: %d of %d", b.addr_new, N);
	struct nm_addr *v = calloc(N + 16, sizeof(*v));
	size_t n = nm_addrs(m, v, N + 16), ours = 0;
	for (size_t i = 0; i < n && i < N + 16; i++)
		ours += v[i].addr.family == 4 && v[i].addr.b[0] == 10 && v[i].addr.b[1] == 9;
	cr_assert_eq(ours, N, "the current list holds them all");
	free(v);
	nm_free(m);
}
