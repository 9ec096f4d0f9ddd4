// SPDX-License-Identifier: MIT
/* The flow table: direction and initiator, per-direction counters, VLAN
 * keying, every expiry rule, eviction and bounded memory. Captures are
 * written here with libpcap and read back through the agent's reader. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/capture.h"
#include "agent/decode.h"
#include "agent/export.h"
#include "agent/flow.h"
#include "craft/craft.h"
#include "tests/unit/testutil.h"

#define SEC    1000000000ull
#define MAXREC 256

struct rec {
	struct flow f;
	enum flow_end why;
};

struct run {
	struct rec recs[MAXREC];
	size_t n;
	size_t dropped; /* records beyond MAXREC (floods) */
	struct flow_stats fs;
};

static void collect(void *arg, const struct flow *f, enum flow_end why)
{
	struct run *r = arg;
	if (r->n == MAXREC) {
		r->dropped++;
		return;
	}
	r->recs[r->n].f = *f;
	r->recs[r->n].why = why;
	r->n++;
}

static char *tmpdir;
static struct craft_writer *w;

static void setup(void)
{
	tmpdir = tu_tmpdir();
	cr_assert(tmpdir);
	w = NULL;
}

static void teardown(void)
{
	craft_writer_close(w);
	tu_rmdir(tmpdir);
	free(tmpdir);
}

TestSuite(flow, .init = setup, .fini = teardown);

static const char *cap_path(const char *name)
{
	static char buf[2][512];
	static int k;
	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static void begin(const char *name)
{
	cr_assert_eq(craft_writer_open(cap_path(name), DLT_EN10MB, &w), 0);
}

/* A packet from a to b (ICMP: an echo request). */
static size_t pkt(uint64_t ts, const char *a, uint16_t sa, const char *b, uint16_t sb,
		  uint8_t proto, uint8_t flags, size_t payload)
{
	struct craft c = {
	    .ip_version = strchr(a, ':') ? 6 : 4,
	    .src = a,
	    .dst = b,
	    .proto = proto,
	    .sport = sa,
	    .dport = sb,
	    .tcp_flags = flags,
	    .icmp_type = proto == 1    ? 8
			 : proto == 58 ? 128
				       : 0, /* echo requests */
	    .payload = payload,
	};
	uint8_t buf[2048];
	size_t n = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), NULL);
	cr_assert_gt(n, 0);
	craft_writer_add(w, ts, buf, n, n);
	return n - 14;
}

/* UDP between 10.10.0.5:1000 and 10.20.0.5:2000 through a VLAN. */
static void vlan_pkt(uint64_t ts, bool forward, uint16_t vlan)
{
	struct craft c = {.ip_version = 4,
			  .src = forward ? "10.10.0.5" : "10.20.0.5",
			  .dst = forward ? "10.20.0.5" : "10.10.0.5",
			  .proto = 17,
			  .sport = forward ? 1000 : 2000,
			  .dport = forward ? 2000 : 1000,
			  .nvlans = 1,
			  .vlans = {vlan}};
	uint8_t buf[256];
	size_t n = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), NULL);
	cr_assert_gt(n, 0);
	craft_writer_add(w, ts, buf, n, n);
}

/* Closes the capture being written and runs it through a fresh table. */
static void finish(const char *name, struct flow_config *fc, const unsigned *vlans, size_t nvlans,
		   struct run *r)
{
	cr_assert_eq(craft_writer_close(w), 0);
	w = NULL;
	memset(r, 0, sizeof(*r));
	struct flow_config def = {0};
	if (!fc)
		fc = &def;
	fc->sink = collect;
	fc->sink_arg = r;
	fc->seed = 42;
	struct flow_table *ft = NULL;
	cr_assert_eq(flow_table_new(fc, &ft), 0);
	for (size_t i = 0; i < nvlans; i++)
		cr_assert_eq(flow_table_distinguish_vlan(ft, vlans[i]), 0);
	struct dec *d = dec_new(NULL);
	struct diag_list *dl = diag_list_new();
	struct cap *c = NULL;
	cr_assert_eq(cap_open_offline(cap_path(name), dl, &c), 0, "%s", tu_diags(dl));
	cr_assert_eq(cap_run(c, d, ft, dl), 0, "%s", tu_diags(dl));
	dec_flush(d);
	flow_table_flush(ft);
	r->fs = *flow_table_stats(ft);
	cr_assert_eq(flow_table_count(ft), 0);
	cr_assert_eq(r->fs.records, r->n + r->dropped);
	cr_assert_eq(r->fs.packets, dec_stats(d)->decoded);
	cap_close(c);
	diag_list_free(dl);
	dec_free(d);
	flow_table_free(ft);
}

static bool is_addr(const uint8_t a[16], const char *s)
{
	char buf[INET6_ADDRSTRLEN];
	return strcmp(exp_addr(a, buf, sizeof(buf)), s) == 0;
}

/* The flow's initiator side and responder side, as the record names them. */
static void assert_ends(const struct flow *f, const char *src, uint16_t sport, const char *dst,
			uint16_t dport)
{
	cr_assert(is_addr(f->src, src), "src is %s", src);
	cr_assert(is_addr(f->dst, dst), "dst is %s", dst);
	cr_assert_eq(f->sport, sport);
	cr_assert_eq(f->dport, dport);
}

Test(flow, initiator_is_first_sender_not_lower_address)
{
	begin("init.pcap");
	/* UDP: the higher address speaks first. */
	size_t q = pkt(1 * SEC, "10.0.0.9", 5000, "10.0.0.1", 53, 17, 0, 20);
	size_t a = pkt(1 * SEC + 10, "10.0.0.1", 53, "10.0.0.9", 5000, 17, 0, 80);
	pkt(1 * SEC + 20, "10.0.0.1", 53, "10.0.0.9", 5000, 17, 0, 80);
	struct run r;
	finish("init.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(r.n, 1);
	const struct flow *f = &r.recs[0].f;
	assert_ends(f, "10.0.0.9", 5000, "10.0.0.1", 53);
	cr_assert_eq(f->packets[0], 1);
	cr_assert_eq(f->bytes[0], q);
	cr_assert_eq(f->packets[1], 2);
	cr_assert_eq(f->bytes[1], 2 * a);
	cr_assert_eq(f->first_ns, 1 * SEC);
	cr_assert_eq(f->last_ns, 1 * SEC + 20);
}

Test(flow, syn_decides_the_initiator)
{
	begin("syn.pcap");
	/* The capture sees the SYN+ACK first (capture started late, or two
	 * taps merged): the SYN's sender is still the initiator. */
	pkt(1 * SEC, "192.168.1.1", 80, "192.168.1.200", 33000, 6, 0x12, 0);
	pkt(1 * SEC + 5, "192.168.1.200", 33000, "192.168.1.1", 80, 6, 0x10, 0);
	pkt(1 * SEC + 6, "192.168.1.200", 33000, "192.168.1.1", 80, 6, 0x18, 100);
	/* Another connection whose first packet seen is a plain ACK from the
	 * server, then the client's SYN (reordered): the SYN wins. */
	pkt(2 * SEC, "192.168.1.1", 22, "192.168.1.200", 34000, 6, 0x10, 0);
	pkt(2 * SEC + 1, "192.168.1.200", 34000, "192.168.1.1", 22, 6, 0x02, 0);
	struct run r;
	finish("syn.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(r.n, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct flow *f = &r.recs[i].f;
		cr_assert(is_addr(f->src, "192.168.1.200"), "flow %zu", i);
		cr_assert(f->dport == 80 || f->dport == 22);
	}
	const struct flow *web = r.recs[0].f.dport == 80 ? &r.recs[0].f : &r.recs[1].f;
	cr_assert_eq(web->tcp_flags[0], 0x18, "client: ACK|PSH");
	cr_assert_eq(web->tcp_flags[1], 0x12, "server: SYN|ACK");
	cr_assert_eq(web->packets[0], 2);
	cr_assert_eq(web->packets[1], 1);
}

/*
 * Live capture on several interfaces: the answer to a SYN can be read from
 * one interface before the SYN from another. Read order is answer first,
 * timestamps say SYN first; a packet at 5 s drives the RST flow's expiry.
 */
Test(flow, syn_read_after_its_rst_still_starts_the_flow)
{
	struct flow_config fc = {.timeouts = {.close_ns = 2 * SEC}};
	begin("late-syn-rst.pcap");
	size_t rst = pkt(1 * SEC + 10, "10.0.0.2", 25, "10.0.0.9", 40000, 6, 0x14, 0);
	size_t syn = pkt(1 * SEC, "10.0.0.9", 40000, "10.0.0.2", 25, 6, 0x02, 0);
	pkt(5 * SEC, "10.0.0.7", 9, "10.0.0.8", 9, 17, 0, 10);
	struct run r;
	finish("late-syn-rst.pcap", &fc, NULL, 0, &r);
	cr_assert_eq(r.n, 2, "one TCP flow, not an RST flow and a SYN flow");
	cr_assert_eq(r.fs.created, 2);
	size_t t = r.recs[0].f.proto == 6 ? 0 : 1;
	const struct flow *f = &r.recs[t].f;
	cr_assert_eq(r.recs[t].why, FLOW_END_CLOSED);
	assert_ends(f, "10.0.0.9", 40000, "10.0.0.2", 25); /* the SYN's sender initiates */
	cr_assert_eq(f->packets[0], 1);
	cr_assert_eq(f->bytes[0], syn);
	cr_assert_eq(f->tcp_flags[0], 0x02);
	cr_assert_eq(f->packets[1], 1);
	cr_assert_eq(f->bytes[1], rst);
	cr_assert_eq(f->tcp_flags[1], 0x14);
	cr_assert_eq(f->first_ns, 1 * SEC, "the SYN's time starts the flow");
	cr_assert_eq(f->last_ns, 1 * SEC + 10);
}

Test(flow, syn_read_after_its_syn_ack_still_starts_the_flow)
{
	begin("late-syn-synack.pcap");
	size_t sa = pkt(2 * SEC + 5, "192.168.1.1", 443, "192.168.1.200", 35000, 6, 0x12, 0);
	size_t data = pkt(2 * SEC + 30, "192.168.1.1", 443, "192.168.1.200", 35000, 6, 0x18, 200);
	size_t syn = pkt(2 * SEC, "192.168.1.200", 35000, "192.168.1.1", 443, 6, 0x02, 0);
	size_t ack = pkt(2 * SEC + 10, "192.168.1.200", 35000, "192.168.1.1", 443, 6, 0x10, 0);
	struct run r;
	finish("late-syn-synack.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(r.n, 1);
	const struct flow *f = &r.recs[0].f;
	assert_ends(f, "192.168.1.200", 35000, "192.168.1.1", 443);
	cr_assert_eq(f->packets[0], 2);
	cr_assert_eq(f->bytes[0], syn + ack);
	cr_assert_eq(f->tcp_flags[0], 0x02 | 0x10, "client: SYN, ACK");
	cr_assert_eq(f->packets[1], 2);
	cr_assert_eq(f->bytes[1], sa + data);
	cr_assert_eq(f->tcp_flags[1], 0x12 | 0x18, "server: SYN, ACK, PSH");
	cr_assert_eq(f->first_ns, 2 * SEC);
	cr_assert_eq(f->last_ns, 2 * SEC + 30);
}

/* Two SYNs crossing (simultaneous open, RFC 9293 3.5), read in the
 * opposite order of their times: the earlier SYN's sender initiates. */
Test(flow, earlier_syn_read_later_takes_the_initiator_over)
{
	begin("late-syn-cross.pcap");
	pkt(3 * SEC + 50, "10.1.0.1", 7000, "10.1.0.2", 7001, 6, 0x02, 0);
	pkt(3 * SEC, "10.1.0.2", 7001, "10.1.0.1", 7000, 6, 0x02, 0);
	pkt(3 * SEC + 60, "10.1.0.1", 7000, "10.1.0.2", 7001, 6, 0x02, 0);
	struct run r;
	finish("late-syn-cross.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(r.n, 1);
	const struct flow *f = &r.recs[0].f;
	assert_ends(f, "10.1.0.2", 7001, "10.1.0.1", 7000);
	cr_assert_eq(f->packets[0], 1);
	cr_assert_eq(f->packets[1], 2, "a later SYN of the other side changes nothing");
	cr_assert_eq(f->first_ns, 3 * SEC);
}

Test(flow, ipv6_flows_and_json_record)
{
	begin("v6.pcap");
	size_t b =
	    pkt(1700000000ull * SEC + 5, "2001:db8::10", 40000, "2001:db8::1", 443, 6, 0x02, 0);
	struct run r;
	finish("v6.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(r.n, 1);
	json_t *j = exp_flow_json(&r.recs[0].f, r.recs[0].why);
	cr_assert_not_null(j);
	cr_assert_str_eq(json_string_value(json_object_get(j, "src")), "2001:db8::10");
	cr_assert_str_eq(json_string_value(json_object_get(j, "dst")), "2001:db8::1");
	cr_assert_eq(json_integer_value(json_object_get(j, "ip_version")), 6);
	cr_assert_eq(json_integer_value(json_object_get(j, "dst_port")), 443);
	cr_assert_eq(json_integer_value(json_object_get(j, "src_bytes")), (json_int_t)b);
	cr_assert_eq(json_integer_value(json_object_get(j, "src_tcp_flags")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(j, "first")),
			 "2023-11-14T22:13:20.000000005Z");
	cr_assert_str_eq(json_string_value(json_object_get(j, "end_reason")), "flush");
	cr_assert_null(json_object_get(j, "vlan"));
	json_decref(j);
}

Test(flow, vlans_do_not_split_flows_unless_configured)
{
	begin("vlan.pcap");
	vlan_pkt(1 * SEC, true, 10);
	vlan_pkt(2 * SEC, false, 20);
	vlan_pkt(3 * SEC, true, 10);
	struct run r;
	finish("vlan.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(r.n, 1, "routed between VLAN 10 and 20: one flow");
	cr_assert_eq(r.recs[0].f.vlan, 0);
	cr_assert_eq(r.recs[0].f.vlan_seen[0], 10);
	cr_assert_eq(r.recs[0].f.vlan_seen[1], 20);
	cr_assert_eq(r.recs[0].f.packets[0], 2);

	begin("vlan2.pcap");
	vlan_pkt(1 * SEC, true, 10);
	vlan_pkt(2 * SEC, false, 20);
	vlan_pkt(3 * SEC, true, 30); /* 30 is not distinguishing */
	static const unsigned key[] = {10, 20};
	finish("vlan2.pcap", NULL, key, 2, &r);
	cr_assert_eq(r.n, 3, "VLANs 10 and 20 are separate address spaces");
	size_t seen = 0;
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_eq(r.recs[i].f.packets[0] + r.recs[i].f.packets[1], 1);
		seen |= 1u << (r.recs[i].f.vlan == 10 ? 0 : r.recs[i].f.vlan == 20 ? 1 : 2);
	}
	cr_assert_eq(seen, 7);
}

/* Finds the records of a port (proto, dport) in order of export. */
static size_t of_port(const struct run *r, uint8_t proto, const struct rec *out[], size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n && n < max; i++)
		if (r->recs[i].f.proto == proto)
			out[n++] = &r->recs[i];
	return n;
}

Test(flow, idle_timeouts_per_protocol)
{
	struct flow_config fc = {.timeouts = {.tcp_ns = 100 * SEC,
					      .udp_ns = 50 * SEC,
					      .icmp_ns = 20 * SEC,
					      .other_ns = 30 * SEC}};
	begin("idle.pcap");
	/* Each protocol: a gap just below its timeout, then one just above. */
	static const struct {
		uint8_t proto;
		uint64_t t;
	} cls[] = {{6, 100}, {17, 50}, {1, 20}, {47, 30}};
	struct ev {
		uint64_t ts;
		int k;
	} ev[12];
	int ne = 0;
	for (int k = 0; k < 4; k++) {
		ev[ne++] = (struct ev){0, k};
		ev[ne++] = (struct ev){(cls[k].t - 1) * SEC, k};
		ev[ne++] = (struct ev){(2 * cls[k].t) * SEC, k};
	}
	/* Write in time order. */
	for (int i = 0; i < ne; i++)
		for (int j = i + 1; j < ne; j++)
			if (ev[j].ts < ev[i].ts) {
				struct ev t = ev[i];
				ev[i] = ev[j];
				ev[j] = t;
			}
	for (int i = 0; i < ne; i++)
		pkt(ev[i].ts, "10.0.0.1", 1000, "10.0.0.2", 2000, cls[ev[i].k].proto, 0x10, 0);
	struct run r;
	finish("idle.pcap", &fc, NULL, 0, &r);
	for (int k = 0; k < 4; k++) {
		const struct rec *x[4];
		size_t n = of_port(&r, cls[k].proto, x, 4);
		cr_assert_eq(n, 2, "proto %d: %zu records", cls[k].proto, n);
		cr_assert_eq(x[0]->why, FLOW_END_IDLE, "proto %d", cls[k].proto);
		cr_assert_eq(x[0]->f.packets[0], 2, "proto %d", cls[k].proto);
		cr_assert_eq(x[0]->f.last_ns, (cls[k].t - 1) * SEC);
		cr_assert_eq(x[1]->f.packets[0], 1);
		cr_assert_eq(x[1]->f.first_ns, 2 * cls[k].t * SEC);
		/* The restarted flows idle out too, except TCP's: the capture
		 * ends before its 100 s pass. */
		cr_assert_eq(x[1]->why, cls[k].proto == 6 ? FLOW_END_FORCED : FLOW_END_IDLE,
			     "proto %d", cls[k].proto);
	}
	cr_assert_eq(r.fs.expired_idle, 7);
	cr_assert_eq(r.fs.created, 8);
}

Test(flow, active_timeout_splits_long_flows)
{
	struct flow_config fc = {.timeouts = {.active_ns = 30 * SEC}};
	begin("active.pcap");
	for (int i = 0; i < 8; i++)
		pkt((uint64_t)i * 10 * SEC, "10.0.0.1", 1000, "10.0.0.2", 2000, 17, 0, 10);
	struct run r;
	finish("active.pcap", &fc, NULL, 0, &r);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.recs[0].why, FLOW_END_ACTIVE);
	cr_assert_eq(r.recs[0].f.packets[0], 3);
	cr_assert_eq(r.recs[0].f.first_ns, 0);
	cr_assert_eq(r.recs[1].why, FLOW_END_ACTIVE);
	cr_assert_eq(r.recs[1].f.packets[0], 3);
	cr_assert_eq(r.recs[1].f.first_ns, 30 * SEC);
	cr_assert_eq(r.recs[2].why, FLOW_END_FORCED);
	cr_assert_eq(r.recs[2].f.packets[0], 2);
	cr_assert(is_addr(r.recs[2].f.src, "10.0.0.1"), "the initiator survives a restart");
	cr_assert_eq(r.fs.created, 1);
	cr_assert_eq(r.fs.expired_active, 2);
}

Test(flow, fin_both_ways_ends_after_grace)
{
	struct flow_config fc = {.timeouts = {.close_ns = 2 * SEC}};
	begin("fin.pcap");
	pkt(0, "10.0.0.1", 1000, "10.0.0.2", 80, 6, 0x02, 0);
	pkt(1000, "10.0.0.2", 80, "10.0.0.1", 1000, 6, 0x12, 0);
	pkt(2000, "10.0.0.1", 1000, "10.0.0.2", 80, 6, 0x11, 0); /* FIN */
	/* A one-sided FIN does not end a flow (half-close): still open here. */
	pkt(1 * SEC, "10.0.0.9", 1000, "10.0.0.2", 80, 6, 0x11, 0);
	pkt(1 * SEC + 1, "10.0.0.2", 80, "10.0.0.1", 1000, 6, 0x11, 0); /* FIN back */
	pkt(2 * SEC, "10.0.0.1", 1000, "10.0.0.2", 80, 6, 0x10, 0);	/* last ACK, in grace */
	pkt(5 * SEC, "10.0.0.7", 9, "10.0.0.8", 9, 17, 0, 0);		/* moves the clock */
	struct run r;
	finish("fin.pcap", &fc, NULL, 0, &r);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.recs[0].why, FLOW_END_CLOSED);
	cr_assert(is_addr(r.recs[0].f.src, "10.0.0.1"));
	cr_assert_eq(r.recs[0].f.packets[0], 3);
	cr_assert_eq(r.recs[0].f.packets[1], 2);
	cr_assert_eq(r.recs[0].f.tcp_flags[0], 0x13);
	cr_assert_eq(r.recs[1].why, FLOW_END_FORCED, "half-closed flow still open");
	cr_assert(is_addr(r.recs[1].f.src, "10.0.0.9"));
	cr_assert_eq(r.fs.expired_closed, 1);
}

Test(flow, rst_ends_after_grace_and_new_syn_starts_a_new_flow)
{
	struct flow_config fc = {.timeouts = {.close_ns = 2 * SEC}};
	begin("rst.pcap");
	pkt(0, "10.0.0.1", 1000, "10.0.0.2", 25, 6, 0x02, 0);
	pkt(10, "10.0.0.2", 25, "10.0.0.1", 1000, 6, 0x14, 0);	    /* RST|ACK */
	pkt(1 * SEC, "10.0.0.2", 25, "10.0.0.1", 1000, 6, 0x04, 0); /* within grace */
	pkt(4 * SEC, "10.0.0.3", 1000, "10.0.0.2", 25, 6, 0x02, 0);
	pkt(4 * SEC + 10, "10.0.0.2", 25, "10.0.0.3", 1000, 6, 0x14, 0);
	/* The port is reused while the old flow is in its grace: a new flow. */
	pkt(4 * SEC + 20, "10.0.0.3", 1000, "10.0.0.2", 25, 6, 0x02, 0);
	struct run r;
	finish("rst.pcap", &fc, NULL, 0, &r);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.recs[0].why, FLOW_END_CLOSED);
	cr_assert_eq(r.recs[0].f.packets[1], 2, "the late RST joined the closing flow");
	cr_assert_eq(r.recs[0].f.tcp_flags[1], 0x14);
	cr_assert_eq(r.recs[1].why, FLOW_END_CLOSED);
	cr_assert(is_addr(r.recs[1].f.src, "10.0.0.3"));
	cr_assert_eq(r.recs[1].f.packets[0], 1);
	cr_assert_eq(r.recs[2].why, FLOW_END_FORCED);
	cr_assert_eq(r.recs[2].f.packets[0], 1);
	cr_assert_eq(r.recs[2].f.first_ns, 4 * SEC + 20);
}

Test(flow, full_table_evicts_least_recently_active)
{
	struct flow_config fc = {.max_flows = 4};
	begin("evict.pcap");
	for (int i = 1; i <= 4; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.0.0.%d", i);
		pkt((uint64_t)i * SEC, a, 1000, "10.9.9.9", 53, 17, 0, 0);
	}
	pkt(5 * SEC, "10.0.0.1", 1000, "10.9.9.9", 53, 17, 0, 0); /* 1 is recent again */
	pkt(6 * SEC, "10.0.0.5", 1000, "10.9.9.9", 53, 17, 0, 0);
	pkt(7 * SEC, "10.0.0.6", 1000, "10.9.9.9", 53, 17, 0, 0);
	struct run r;
	finish("evict.pcap", &fc, NULL, 0, &r);
	cr_assert_eq(r.fs.evicted, 2);
	cr_assert_eq(r.recs[0].why, FLOW_END_EVICTED);
	cr_assert(is_addr(r.recs[0].f.src, "10.0.0.2"));
	cr_assert_eq(r.recs[1].why, FLOW_END_EVICTED);
	cr_assert(is_addr(r.recs[1].f.src, "10.0.0.3"));
	cr_assert_eq(r.n, 6);
	for (size_t i = 2; i < r.n; i++)
		cr_assert_eq(r.recs[i].why, FLOW_END_FORCED);
}

Test(flow, flood_beyond_max_keeps_memory_flat, .timeout = 120)
{
	enum { MAX = 3000, FILL = 3000, FLOOD = 60000 };
	struct run *r = calloc(1, sizeof(*r));
	cr_assert(r);
	struct flow_config fc = {.max_flows = MAX, .sink = collect, .sink_arg = r, .seed = 7};
	struct flow_table *ft = NULL;
	cr_assert_eq(flow_table_new(&fc, &ft), 0);
	struct dec *d = dec_new(NULL);
	struct diag_list *dl = diag_list_new();
	size_t mem[2];
	for (int part = 0; part < 2; part++) {
		char name[32];
		snprintf(name, sizeof(name), "flood%d.pcap", part);
		begin(name);
		int from = part ? FILL : 0, to = part ? FILL + FLOOD : FILL;
		for (int i = from; i < to; i++) {
			char a[32];
			snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
			pkt((uint64_t)i * 1000, a, (uint16_t)(1024 + i % 50000), "172.16.0.1", 80,
			    6, 0x02, 0);
		}
		cr_assert_eq(craft_writer_close(w), 0);
		w = NULL;
		struct cap *c = NULL;
		cr_assert_eq(cap_open_offline(cap_path(name), dl, &c), 0);
		cr_assert_eq(cap_run(c, d, ft, dl), 0);
		cap_close(c);
		cr_assert_eq(flow_table_count(ft), MAX);
		mem[part] = flow_table_mem(ft);
	}
	cr_assert_eq(mem[1], mem[0], "table grew from %zu to %zu bytes", mem[0], mem[1]);
	cr_assert_leq(mem[0], (size_t)MAX * 2 * flow_table_record_size());
	const struct flow_stats *st = flow_table_stats(ft);
	cr_assert_eq(st->created, FILL + FLOOD);
	cr_assert_eq(st->evicted, FILL + FLOOD - MAX);
	cr_assert_eq(r->n + r->dropped, st->evicted);
	flow_table_flush(ft);
	cr_assert_eq(flow_table_count(ft), 0);
	dec_free(d);
	diag_list_free(dl);
	flow_table_free(ft);
	free(r);
}

/* An ICMP(v6) error from `from` to `to` quoting the packet *inner (its IP
 * header and 8 bytes, RFC 792); returns its IP-layer bytes. */
static size_t icmp_error(uint64_t ts, const char *from, const char *to, uint8_t type, uint8_t code,
			 const struct craft *inner)
{
	uint8_t q[256], buf[512];
	size_t n = craft_packet(inner, DLT_RAW, q, sizeof(q), NULL);
	cr_assert_gt(n, 0);
	bool v6 = strchr(from, ':') != NULL;
	struct craft c = {
	    .ip_version = v6 ? 6 : 4,
	    .src = from,
	    .dst = to,
	    .proto = v6 ? 58 : 1,
	    .icmp_type = type,
	    .icmp_code = code,
	    .quote = q,
	    .quote_len = v6 ? n : (q[0] & 0xf) * 4 + 8u,
	};
	size_t m = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), NULL);
	cr_assert_gt(m, 0);
	craft_writer_add(w, ts, buf, m, m);
	return m - 14;
}

static struct craft quoted(const char *a, uint16_t sa, const char *b, uint16_t sb, uint8_t proto)
{
	return (struct craft){.ip_version = strchr(a, ':') ? 6 : 4,
			      .src = a,
			      .dst = b,
			      .proto = proto,
			      .sport = sa,
			      .dport = sb,
			      .payload = 100};
}

/* The records of ICMP(v6) errors, in the order they ended. */
static size_t errors_of(const struct run *r, const struct rec *out[], size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n && n < max; i++)
		if ((r->recs[i].f.proto == 1 && r->recs[i].f.icmp_type == 3) ||
		    (r->recs[i].f.proto == 1 && r->recs[i].f.icmp_type == 11) ||
		    (r->recs[i].f.proto == 58 && r->recs[i].f.icmp_type < 128))
			out[n++] = &r->recs[i];
	return n;
}

Test(flow, port_unreachable_for_a_udp_flow_is_related)
{
	struct run r;
	const struct rec *e[4];
	begin("related.pcap");
	pkt(1 * SEC, "10.1.0.1", 5060, "10.2.0.2", 5060, 17, 0, 40);
	struct craft u = quoted("10.1.0.1", 5060, "10.2.0.2", 5060, 17);
	size_t bytes = icmp_error(1 * SEC + 500000, "10.2.0.2", "10.1.0.1", 3, 3, &u);
	finish("related.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(errors_of(&r, e, 4), 1);
	cr_assert(e[0]->f.related);
	cr_assert_eq(e[0]->f.icmp_code, 3);
	/* The error keeps its own record: its packet and bytes are counted there. */
	cr_assert_eq(e[0]->f.packets[0], 1);
	cr_assert_eq(e[0]->f.bytes[0], bytes);
	cr_assert(is_addr(e[0]->f.src, "10.2.0.2"));
	for (size_t i = 0; i < r.n; i++)
		if (r.recs[i].f.proto == 17)
			cr_assert_not(r.recs[i].f.related);
}

Test(flow, unsolicited_errors_are_not_related)
{
	struct run r;
	const struct rec *e[8];
	begin("unsolicited.pcap");
	struct craft u = quoted("10.1.0.1", 5060, "10.2.0.2", 5060, 17);
	/* No such flow. */
	icmp_error(1 * SEC, "10.2.0.2", "10.1.0.1", 3, 3, &u);
	/* The flow exists later, but the error went to another host than the
	 * quoted packet's sender, or quotes other ports. */
	pkt(5 * SEC, "10.1.0.1", 5060, "10.2.0.2", 5060, 17, 0, 40);
	icmp_error(5 * SEC + 1000, "10.2.0.2", "10.1.0.9", 3, 3, &u);
	struct craft other = quoted("10.1.0.1", 5061, "10.2.0.2", 5060, 17);
	icmp_error(5 * SEC + 2000, "10.2.0.2", "10.1.0.1", 3, 3, &other);
	finish("unsolicited.pcap", NULL, NULL, 0, &r);
	size_t n = errors_of(&r, e, 8);
	cr_assert_eq(n, 2, "the first and third error are one record, the second its own");
	for (size_t i = 0; i < n; i++)
		cr_assert_not(e[i]->f.related);
}

Test(flow, related_and_unsolicited_errors_are_separate_records)
{
	struct run r;
	const struct rec *e[4];
	begin("mixed.pcap");
	pkt(1 * SEC, "10.1.0.1", 5060, "10.2.0.2", 5060, 17, 0, 40);
	struct craft u = quoted("10.1.0.1", 5060, "10.2.0.2", 5060, 17);
	struct craft other = quoted("10.1.0.1", 7, "10.2.0.2", 7, 17);
	icmp_error(1 * SEC + 1000, "10.2.0.2", "10.1.0.1", 3, 3, &u);
	icmp_error(1 * SEC + 2000, "10.2.0.2", "10.1.0.1", 3, 3, &other);
	icmp_error(1 * SEC + 3000, "10.2.0.2", "10.1.0.1", 3, 3, &u);
	finish("mixed.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(errors_of(&r, e, 4), 2);
	const struct rec *rel = e[0]->f.related ? e[0] : e[1];
	const struct rec *uns = e[0]->f.related ? e[1] : e[0];
	cr_assert(rel->f.related);
	cr_assert_not(uns->f.related);
	cr_assert_eq(rel->f.packets[0], 2);
	cr_assert_eq(uns->f.packets[0], 1);
}

Test(flow, error_quoting_the_other_direction_of_a_tcp_flow)
{
	struct run r;
	const struct rec *e[4];
	begin("tcp.pcap");
	pkt(1 * SEC, "10.1.0.1", 40000, "10.2.0.2", 443, 6, 0x02, 0);
	pkt(1 * SEC + 1000, "10.2.0.2", 443, "10.1.0.1", 40000, 6, 0x12, 0);
	/* A router on the way back cannot forward the server's segment: the
	 * error goes to the server, quoting server -> client. */
	struct craft back = quoted("10.2.0.2", 443, "10.1.0.1", 40000, 6);
	back.tcp_flags = 0x10;
	icmp_error(1 * SEC + 2000, "10.9.0.1", "10.2.0.2", 3, 4, &back);
	/* ICMPv6: packet too big for the client's segment, and time exceeded
	 * for an echo request. */
	pkt(2 * SEC, "fd00::1", 40000, "fd00:1::2", 443, 6, 0x02, 0);
	struct craft fwd6 = quoted("fd00::1", 40000, "fd00:1::2", 443, 6);
	icmp_error(2 * SEC + 1000, "fd00:9::1", "fd00::1", 2, 0, &fwd6);
	pkt(3 * SEC, "10.1.0.1", 0, "10.2.0.2", 0, 1, 0, 56);
	struct craft echo = quoted("10.1.0.1", 0, "10.2.0.2", 0, 1);
	echo.icmp_type = 8;
	icmp_error(3 * SEC + 1000, "10.9.0.1", "10.1.0.1", 11, 0, &echo);
	finish("tcp.pcap", NULL, NULL, 0, &r);
	size_t n = errors_of(&r, e, 4);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++)
		cr_assert(e[i]->f.related, "error %zu (type %u)", i, e[i]->f.icmp_type);
}

Test(flow, an_error_read_before_its_flow_waits_for_it)
{
	struct run r;
	const struct rec *e[4];
	begin("early.pcap");
	/* Read first, sent second: another interface's ring came later. */
	struct craft u = quoted("10.1.0.1", 5060, "10.2.0.2", 5060, 17);
	icmp_error(1 * SEC + 500000, "10.2.0.2", "10.1.0.1", 3, 3, &u);
	pkt(1 * SEC, "10.1.0.1", 5060, "10.2.0.2", 5060, 17, 0, 40);
	/* An error whose flow never comes within a second is unsolicited. */
	struct craft v = quoted("10.1.0.1", 6000, "10.2.0.2", 6000, 17);
	icmp_error(10 * SEC, "10.2.0.2", "10.1.0.1", 3, 1, &v);
	pkt(11 * SEC + 1, "10.3.0.3", 1, "10.4.0.4", 1, 17, 0, 0);
	pkt(11 * SEC + 2, "10.1.0.1", 6000, "10.2.0.2", 6000, 17, 0, 40);
	finish("early.pcap", NULL, NULL, 0, &r);
	cr_assert_eq(errors_of(&r, e, 4), 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(e[i]->f.related, e[i]->f.icmp_code == 3, "code %u", e[i]->f.icmp_code);
}

Test(flow, record_stays_compact)
{
	cr_assert_leq(flow_table_record_size(), 128);
}

Test(flow, bad_configuration)
{
	struct flow_table *ft = NULL;
	struct flow_config fc = {.max_flows = (size_t)FLOW_LIMIT_MAX + 1};
	cr_assert_eq(flow_table_new(&fc, &ft), -EINVAL);
	cr_assert_null(ft);
	cr_assert_eq(flow_table_new(NULL, &ft), 0);
	cr_assert_eq(flow_table_distinguish_vlan(ft, 4096), -EINVAL);
	cr_assert_eq(flow_table_distinguish_vlan(ft, 4095), 0);
	flow_table_free(ft);
	flow_table_free(NULL);
}
