// SPDX-License-Identifier: MIT
/* Decoding: every link type, IPv4 options, IPv6 extension headers,
 * fragments, transport fields, truncation at every byte, and the shared
 * robustness captures. Captures are written here with libpcap. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/capture.h"
#include "agent/decode.h"
#include "agent/export.h"
#include "agent/flow.h"
#include "craft/craft.h"
#include "tests/unit/testutil.h"

#define SEC 1000000000ull

struct rec {
	struct flow f;
	enum flow_end why;
};

struct run {
	struct dec_stats ds;
	struct flow_stats fs;
	struct rec recs[64];
	size_t n;
};

static void collect(void *arg, const struct flow *f, enum flow_end why)
{
	struct run *r = arg;
	cr_assert_lt(r->n, sizeof(r->recs) / sizeof(r->recs[0]));
	r->recs[r->n].f = *f;
	r->recs[r->n].why = why;
	r->n++;
}

static uint64_t not_decoded(const struct dec_stats *ds)
{
	uint64_t s = 0;
	for (int i = 0; i < DEC_R_COUNT; i++)
		s += ds->reasons[i];
	return s;
}

/* Reads path through decoder and flow table, flushes, and checks that every
 * packet read was accounted for. */
static void run_file(const char *path, const struct dec_config *dc, struct run *r)
{
	struct diag_list *dl = diag_list_new();
	struct dec *d = dec_new(dc);
	struct flow_table *ft = NULL;
	struct flow_config fc = {.sink = collect, .sink_arg = r, .seed = 1};
	struct cap *c = NULL;
	memset(r, 0, sizeof(*r));
	cr_assert(dl && d);
	cr_assert_eq(flow_table_new(&fc, &ft), 0);
	cr_assert_eq(cap_open_offline(path, dl, &c), 0, "%s", tu_diags(dl));
	cr_assert_eq(cap_run(c, d, ft, dl), 0, "%s", tu_diags(dl));
	dec_flush(d);
	flow_table_flush(ft);
	r->ds = *dec_stats(d);
	r->fs = *flow_table_stats(ft);
	cr_assert_eq(r->ds.read, r->ds.decoded + not_decoded(&r->ds), "packets not accounted for");
	cr_assert_eq(r->ds.held, 0);
	cr_assert_eq(r->fs.packets, r->ds.decoded, "decoded packets missing from flows");
	cap_close(c);
	flow_table_free(ft);
	dec_free(d);
	diag_list_free(dl);
}

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

static const char *tmp_path(const char *name)
{
	static char buf[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static struct craft_writer *wopen(const char *name, int linktype)
{
	struct craft_writer *w = NULL;
	cr_assert_eq(craft_writer_open(tmp_path(name), linktype, &w), 0);
	return w;
}

/* Crafts and records one packet; returns its frame length. */
static size_t wadd(struct craft_writer *w, int linktype, uint64_t ts, const struct craft *c)
{
	uint8_t buf[70000];
	size_t n = craft_packet(c, linktype, buf, sizeof(buf), NULL);
	cr_assert_gt(n, 0, "craft failed");
	craft_writer_add(w, ts, buf, n, n);
	return n;
}

static void addr4(uint8_t out[16], const char *s)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	cr_assert_eq(inet_pton(AF_INET, s, out + 12), 1);
}

static void addr6(uint8_t out[16], const char *s)
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1);
}

static const struct craft tcp4 = {
    .ip_version = 4,
    .src = "10.1.0.1",
    .dst = "10.2.0.2",
    .proto = 6,
    .sport = 40000,
    .dport = 443,
    .tcp_flags = 0x02,
    .payload = 10,
};

static const struct craft udp6 = {
    .ip_version = 6,
    .src = "2001:db8::1",
    .dst = "2001:db8:1::2",
    .proto = 17,
    .sport = 5353,
    .dport = 53,
    .payload = 30,
};

/* Decodes one crafted frame directly. */
static int dec1(struct dec *d, int linktype, const struct craft *c, size_t cut, struct dec_pkt *p)
{
	uint8_t buf[70000];
	size_t n = craft_packet(c, linktype, buf, sizeof(buf), NULL);
	cr_assert_gt(n, 0);
	return dec_packet(d, linktype, buf, cut < n ? cut : n, n, 1, p);
}

TestSuite(decode, .init = setup, .fini = teardown);

Test(decode, ethernet_ipv4_tcp_counts_ip_bytes_not_frame_bytes)
{
	struct craft_writer *w = wopen("eth.pcap", DLT_EN10MB);
	size_t frame = wadd(w, DLT_EN10MB, 5 * SEC, &tcp4);
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("eth.pcap"), NULL, &r);
	cr_assert_eq(r.ds.decoded, 1);
	cr_assert_eq(r.n, 1);
	uint8_t a[16], b[16];
	addr4(a, "10.1.0.1");
	addr4(b, "10.2.0.2");
	cr_assert_arr_eq(r.recs[0].f.src, a, 16);
	cr_assert_arr_eq(r.recs[0].f.dst, b, 16);
	cr_assert_eq(r.recs[0].f.sport, 40000);
	cr_assert_eq(r.recs[0].f.dport, 443);
	cr_assert_eq(r.recs[0].f.proto, 6);
	cr_assert_eq(r.recs[0].f.tcp_flags[0], 0x02);
	cr_assert_eq(r.recs[0].f.bytes[0], frame - 14, "IP header + payload, no Ethernet");
	cr_assert_eq(r.recs[0].f.first_ns, 5 * SEC);
}

Test(decode, ethernet_padding_is_not_counted)
{
	struct craft c = tcp4;
	c.payload = 0; /* 40-byte IP packet in a 54-byte frame, padded to 60 */
	uint8_t buf[128] = {0};
	size_t n = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), NULL);
	cr_assert_eq(n, 54);
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, 60, 60, 1, &p), DEC_OK);
	cr_assert_eq(p.ip_len, 40);
	dec_free(d);
}

Test(decode, vlan_tags_single_stacked_and_prestandard)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	struct craft c = tcp4;
	c.nvlans = 1;
	c.vlans[0] = 42;
	cr_assert_eq(dec1(d, DLT_EN10MB, &c, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.vlan, 42);
	cr_assert_eq(p.vlan_outer, 0);
	cr_assert_eq(p.dport, 443);

	c.nvlans = 2;
	c.vlans[0] = 100; /* 802.1ad S-tag */
	c.vlans[1] = 200; /* C-tag */
	cr_assert_eq(dec1(d, DLT_EN10MB, &c, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.vlan, 200);
	cr_assert_eq(p.vlan_outer, 100);
	cr_assert_eq(p.sport, 40000);

	c.outer_tpid = 0x9100;
	cr_assert_eq(dec1(d, DLT_EN10MB, &c, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.vlan_outer, 100);
	cr_assert_eq(p.ip_len, 20 + 20 + 10);
	dec_free(d);
}

Test(decode, qinq_capture_file_keeps_vlans_per_direction)
{
	struct craft c = tcp4, back = tcp4;
	c.nvlans = back.nvlans = 2;
	c.vlans[0] = back.vlans[0] = 7;
	c.vlans[1] = 10;
	back.vlans[1] = 20;
	back.src = tcp4.dst;
	back.dst = tcp4.src;
	back.sport = 443;
	back.dport = 40000;
	back.tcp_flags = 0x12;
	struct craft_writer *w = wopen("qinq.pcap", DLT_EN10MB);
	wadd(w, DLT_EN10MB, SEC, &c);
	wadd(w, DLT_EN10MB, 2 * SEC, &back);
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("qinq.pcap"), NULL, &r);
	cr_assert_eq(r.n, 1, "routed between VLANs: one flow");
	cr_assert_eq(r.recs[0].f.vlan_seen[0], 10);
	cr_assert_eq(r.recs[0].f.vlan_seen[1], 20);
	cr_assert_eq(r.recs[0].f.packets[0], 1);
	cr_assert_eq(r.recs[0].f.packets[1], 1);
}

Test(decode, linux_cooked_v1)
{
	struct craft_writer *w = wopen("sll.pcap", DLT_LINUX_SLL);
	size_t frame = wadd(w, DLT_LINUX_SLL, SEC, &udp6);
	struct craft arp = udp6;
	arp.sll_protocol_override = 0x0806;
	wadd(w, DLT_LINUX_SLL, SEC, &arp);
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("sll.pcap"), NULL, &r);
	cr_assert_eq(r.ds.decoded, 1);
	cr_assert_eq(r.ds.reasons[DEC_R_UNSUP_ETHERTYPE], 1);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.recs[0].f.sport, 5353);
	cr_assert_eq(r.recs[0].f.dport, 53);
	cr_assert_eq(r.recs[0].f.bytes[0], frame - 16);
}

Test(decode, linux_cooked_v2_reports_interfaces)
{
	struct craft a = udp6, b = udp6;
	a.ifindex = 7;
	b.ifindex = 9;
	b.src = udp6.dst;
	b.dst = udp6.src;
	b.sport = 53;
	b.dport = 5353;
	struct craft_writer *w = wopen("sll2.pcap", DLT_LINUX_SLL2);
	size_t frame = wadd(w, DLT_LINUX_SLL2, SEC, &a);
	wadd(w, DLT_LINUX_SLL2, SEC + 1000, &b);
	wadd(w, DLT_LINUX_SLL2, SEC + 2000, &a);
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("sll2.pcap"), NULL, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.recs[0].f.ifindex[0], 7);
	cr_assert_eq(r.recs[0].f.ifindex[1], 9);
	cr_assert_eq(r.recs[0].f.ifindex[2], 0);
	cr_assert_eq(r.recs[0].f.bytes[0], 2 * (frame - 20));
	cr_assert_eq(r.recs[0].f.packets[1], 1);
}

Test(decode, raw_ip_link_types)
{
	struct craft_writer *w = wopen("raw.pcap", DLT_RAW);
	wadd(w, DLT_RAW, SEC, &tcp4);
	wadd(w, DLT_RAW, SEC, &udp6);
	uint8_t junk[40] = {0x50};
	craft_writer_add(w, SEC, junk, sizeof(junk), sizeof(junk));
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("raw.pcap"), NULL, &r);
	cr_assert_eq(r.ds.decoded, 2);
	cr_assert_eq(r.ds.reasons[DEC_R_BAD_IP_VERSION], 1);
	cr_assert_eq(r.n, 2);

	w = wopen("ipv4.pcap", DLT_IPV4);
	wadd(w, DLT_IPV4, SEC, &tcp4);
	cr_assert_eq(craft_writer_close(w), 0);
	run_file(tmp_path("ipv4.pcap"), NULL, &r);
	cr_assert_eq(r.ds.decoded, 1);
	cr_assert_eq(r.recs[0].f.dport, 443);

	w = wopen("ipv6.pcap", DLT_IPV6);
	wadd(w, DLT_IPV6, SEC, &udp6);
	cr_assert_eq(craft_writer_close(w), 0);
	run_file(tmp_path("ipv6.pcap"), NULL, &r);
	cr_assert_eq(r.ds.decoded, 1);
	cr_assert_eq(r.recs[0].f.dport, 53);
}

Test(decode, unsupported_link_type_and_ethertype)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	uint8_t buf[128];
	size_t n = craft_packet(&tcp4, DLT_RAW, buf, sizeof(buf), NULL);
	cr_assert_eq(dec_packet(d, DLT_PPP, buf, n, n, 1, &p), DEC_R_UNSUP_LINKTYPE);
	struct craft arp = tcp4;
	arp.sll_protocol_override = 0x0806;
	cr_assert_eq(dec1(d, DLT_EN10MB, &arp, SIZE_MAX, &p), DEC_R_UNSUP_ETHERTYPE);
	arp.sll_protocol_override = 0x0030; /* 802.3 length field */
	cr_assert_eq(dec1(d, DLT_EN10MB, &arp, SIZE_MAX, &p), DEC_R_UNSUP_ETHERTYPE);
	cr_assert_eq(dec_stats(d)->reasons[DEC_R_UNSUP_ETHERTYPE], 2);
	cr_assert_eq(dec_stats(d)->reasons[DEC_R_UNSUP_LINKTYPE], 1);
	cr_assert_eq(dec_stats(d)->read, 3);
	dec_free(d);
}

Test(decode, ipv4_options_are_skipped_and_checked)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	struct craft c = tcp4;
	c.ip_options = 40; /* IHL 15, the maximum */
	cr_assert_eq(dec1(d, DLT_EN10MB, &c, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.sport, 40000);
	cr_assert_eq(p.dport, 443);
	cr_assert_eq(p.ip_len, 60 + 20 + 10);

	/* An option whose length byte claims more than the header holds. */
	uint8_t buf[256];
	c.ip_options = 8;
	size_t n = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), NULL);
	buf[14 + 20] = 0x44; /* timestamp option (RFC 791) */
	buf[14 + 21] = 12;
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_IPV4);
	buf[14 + 21] = 1; /* length below 2 */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_IPV4);
	buf[14 + 21] = 8; /* exactly fills the options */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_OK);
	dec_free(d);
}

Test(decode, bad_ip_headers)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	uint8_t buf[256];
	size_t n = craft_packet(&tcp4, DLT_EN10MB, buf, sizeof(buf), NULL);
	buf[14] = 0x55; /* version 5 */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_IPV4);
	buf[14] = 0x44; /* IHL 4 */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_IPV4);
	buf[14] = 0x45;
	buf[16] = 0;
	buf[17] = 19; /* total length below the header */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_IPV4);

	n = craft_packet(&tcp4, DLT_EN10MB, buf, sizeof(buf), NULL);
	buf[14 + 20 + 12] = 3 << 4; /* TCP data offset 3 */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_TRANSPORT);

	n = craft_packet(&udp6, DLT_EN10MB, buf, sizeof(buf), NULL);
	buf[14] = 0x40; /* version 4 in an IPv6 ethertype */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_IPV6);
	dec_free(d);
}

Test(decode, ipv6_extension_headers_with_ah_length_rule)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	struct craft c = udp6;
	c.proto = 6;
	c.sport = 1111;
	c.dport = 2222;
	c.tcp_flags = 0x18;
	c.next = 4;
	c.ext[0] = CRAFT_EXT_HOPOPTS;
	c.ext[1] = CRAFT_EXT_ROUTING;
	c.ext[2] = CRAFT_EXT_AH; /* 24 bytes: read as (len+1)*8 it would be 40 */
	c.ext[3] = CRAFT_EXT_DSTOPTS;
	cr_assert_eq(dec1(d, DLT_EN10MB, &c, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.proto, 6);
	cr_assert_eq(p.sport, 1111);
	cr_assert_eq(p.dport, 2222);
	cr_assert_eq(p.tcp_flags, 0x18);
	cr_assert_eq(p.ip_len, 40 + 8 + 8 + 24 + 8 + 20 + 30);
	cr_assert_not(p.fragment);
	dec_free(d);
}

Test(decode, ipv6_extension_chain_too_long)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	uint8_t buf[512];
	struct craft c = udp6;
	c.next = 8;
	for (int i = 0; i < 8; i++)
		c.ext[i] = CRAFT_EXT_DSTOPTS;
	cr_assert_eq(dec1(d, DLT_RAW, &c, SIZE_MAX, &p), DEC_OK);
	/* 20 destination options headers, built by hand. */
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x60;
	buf[4] = 0;
	buf[5] = 20 * 8 + 8;
	buf[6] = 60;
	for (int i = 0; i < 20; i++)
		buf[40 + i * 8] = i == 19 ? 17 : 60;
	size_t n = 40 + 20 * 8 + 8;
	cr_assert_eq(dec_packet(d, DLT_RAW, buf, n, n, 1, &p), DEC_R_BAD_IPV6_EXT);
	dec_free(d);
}

Test(decode, transport_fields_sctp_icmp_icmpv6)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	struct craft c = tcp4;
	c.proto = 132;
	c.sport = 2905;
	c.dport = 2906;
	cr_assert_eq(dec1(d, DLT_EN10MB, &c, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.sport, 2905);
	cr_assert_eq(p.dport, 2906);

	c.proto = 1;
	c.icmp_type = 8;
	c.icmp_code = 0;
	c.icmp_id = 0x1234;
	cr_assert_eq(dec1(d, DLT_EN10MB, &c, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.icmp_type, 8);
	cr_assert_eq(p.icmp_id, 0x1234);
	cr_assert_eq(p.sport, 0);
	c.icmp_type = 3;
	c.icmp_code = 4; /* fragmentation needed: no identifier */
	cr_assert_eq(dec1(d, DLT_EN10MB, &c, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.icmp_type, 3);
	cr_assert_eq(p.icmp_code, 4);
	cr_assert_eq(p.icmp_id, 0);

	struct craft v6 = udp6;
	v6.proto = 58;
	v6.icmp_type = 129;
	v6.icmp_id = 77;
	cr_assert_eq(dec1(d, DLT_EN10MB, &v6, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.icmp_type, 129);
	cr_assert_eq(p.icmp_id, 77);
	dec_free(d);
}

/* An ICMP(v6) error from `from` to `to` quoting the first qlen bytes of the
 * raw IP packet *inner (all of it for SIZE_MAX). Returns the decode result. */
static int dec_error(struct dec *d, const char *from, const char *to, uint8_t type, uint8_t code,
		     const struct craft *inner, size_t qlen, size_t cut, struct dec_pkt *p)
{
	uint8_t q[2048];
	size_t n = craft_packet(inner, DLT_RAW, q, sizeof(q), NULL);
	cr_assert_gt(n, 0);
	struct craft e = {
	    .ip_version = strchr(from, ':') ? 6 : 4,
	    .src = from,
	    .dst = to,
	    .proto = strchr(from, ':') ? 58 : 1,
	    .icmp_type = type,
	    .icmp_code = code,
	    .quote = q,
	    .quote_len = qlen < n ? qlen : n,
	};
	return dec1(d, DLT_EN10MB, &e, cut, p);
}

static void assert_quote(const struct dec_pkt *p, uint8_t proto, const char *src, uint16_t sport,
			 const char *dst, uint16_t dport)
{
	uint8_t a[16], b[16];
	if (strchr(src, ':')) {
		addr6(a, src);
		addr6(b, dst);
	} else {
		addr4(a, src);
		addr4(b, dst);
	}
	cr_assert(p->icmp_error);
	cr_assert(p->quote.valid);
	cr_assert_eq(p->quote.proto, proto);
	cr_assert_arr_eq(p->quote.src, a, 16);
	cr_assert_arr_eq(p->quote.dst, b, 16);
	cr_assert_eq(p->quote.sport, sport);
	cr_assert_eq(p->quote.dport, dport);
}

Test(decode, icmp_errors_carry_the_quoted_tuple)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	/* Port unreachable for a UDP datagram: IP header + 8 bytes (RFC 792). */
	struct craft u = tcp4;
	u.proto = 17;
	u.sport = 5060;
	u.dport = 5061;
	cr_assert_eq(dec_error(d, "10.2.0.2", "10.1.0.1", 3, 3, &u, 28, SIZE_MAX, &p), DEC_OK);
	cr_assert_eq(p.icmp_type, 3);
	cr_assert_eq(p.icmp_code, 3);
	assert_quote(&p, 17, "10.1.0.1", 5060, "10.2.0.2", 5061);
	/* The whole datagram (RFC 1812 4.3.2.3), IPv4 options, every error type. */
	struct craft t = tcp4;
	t.ip_options = 8;
	static const uint8_t errors4[] = {3, 4, 5, 11, 12};
	for (size_t i = 0; i < sizeof(errors4); i++) {
		cr_assert_eq(
		    dec_error(d, "10.9.0.1", "10.1.0.1", errors4[i], 0, &t, SIZE_MAX, SIZE_MAX, &p),
		    DEC_OK);
		assert_quote(&p, 6, "10.1.0.1", 40000, "10.2.0.2", 443);
	}
	/* Time exceeded for an echo request: its identifier. */
	struct craft echo = tcp4;
	echo.proto = 1;
	echo.icmp_type = 8;
	echo.icmp_id = 0x4242;
	cr_assert_eq(dec_error(d, "10.9.0.1", "10.1.0.1", 11, 0, &echo, 28, SIZE_MAX, &p), DEC_OK);
	assert_quote(&p, 1, "10.1.0.1", 0, "10.2.0.2", 0);
	cr_assert_eq(p.quote.icmp_type, 8);
	cr_assert_eq(p.quote.icmp_id, 0x4242);
	cr_assert_eq(p.icmp_id, 0, "an error has no identifier of its own");
	/* Other protocols: addresses and protocol, no ports. */
	struct craft gre = tcp4;
	gre.proto = 47;
	gre.payload = 8;
	cr_assert_eq(dec_error(d, "10.2.0.2", "10.1.0.1", 3, 2, &gre, 28, SIZE_MAX, &p), DEC_OK);
	assert_quote(&p, 47, "10.1.0.1", 0, "10.2.0.2", 0);

	/* ICMPv6 errors (types below 128) after extension headers. */
	struct craft u6 = udp6;
	u6.next = 3;
	u6.ext[0] = CRAFT_EXT_HOPOPTS;
	u6.ext[1] = CRAFT_EXT_AH;
	u6.ext[2] = CRAFT_EXT_DSTOPTS;
	cr_assert_eq(
	    dec_error(d, "2001:db8:1::2", "2001:db8::1", 1, 4, &u6, SIZE_MAX, SIZE_MAX, &p),
	    DEC_OK);
	assert_quote(&p, 17, "2001:db8::1", 5353, "2001:db8:1::2", 53);
	/* A first fragment names its connection. */
	struct craft f6 = udp6;
	f6.fragment = true;
	f6.more_fragments = true;
	cr_assert_eq(
	    dec_error(d, "2001:db8:9::1", "2001:db8::1", 2, 0, &f6, SIZE_MAX, SIZE_MAX, &p),
	    DEC_OK);
	assert_quote(&p, 17, "2001:db8::1", 5353, "2001:db8:1::2", 53);
	struct craft e6 = udp6;
	e6.proto = 58;
	e6.icmp_type = 128;
	e6.icmp_id = 7;
	cr_assert_eq(dec_error(d, "2001:db8:9::1", "2001:db8::1", 3, 0, &e6, 48, SIZE_MAX, &p),
		     DEC_OK);
	assert_quote(&p, 58, "2001:db8::1", 0, "2001:db8:1::2", 0);
	cr_assert_eq(p.quote.icmp_type, 128);
	cr_assert_eq(p.quote.icmp_id, 7);
	dec_free(d);
}

Test(decode, icmp_quotes_that_name_no_connection)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	struct craft u = tcp4;
	u.proto = 17;
	struct craft u6 = udp6;
	/* The other IP version inside: IPv4 in ICMPv6, IPv6 in ICMP. */
	cr_assert_eq(dec_error(d, "2001:db8:1::2", "2001:db8::1", 1, 4, &u, SIZE_MAX, SIZE_MAX, &p),
		     DEC_OK);
	cr_assert(p.icmp_error);
	cr_assert_not(p.quote.valid);
	cr_assert_eq(dec_error(d, "10.2.0.2", "10.1.0.1", 3, 3, &u6, SIZE_MAX, SIZE_MAX, &p),
		     DEC_OK);
	cr_assert(p.icmp_error);
	cr_assert_not(p.quote.valid);
	/* An error quoting an error: no tuple (conntrack cannot invert it). */
	struct craft err = tcp4;
	err.proto = 1;
	err.icmp_type = 3;
	err.icmp_code = 3;
	cr_assert_eq(dec_error(d, "10.2.0.2", "10.1.0.1", 3, 1, &err, SIZE_MAX, SIZE_MAX, &p),
		     DEC_OK);
	cr_assert_not(p.quote.valid);
	/* ICMP inside ICMPv6's quote and ICMPv6 inside ICMP's: nonsense. */
	struct craft i4in6 = udp6;
	i4in6.proto = 1;
	i4in6.icmp_type = 8;
	cr_assert_eq(
	    dec_error(d, "2001:db8:1::2", "2001:db8::1", 1, 0, &i4in6, SIZE_MAX, SIZE_MAX, &p),
	    DEC_OK);
	cr_assert_not(p.quote.valid);
	/* Non-first fragments carry no ports. */
	struct craft f4 = u;
	f4.fragment = true;
	f4.frag_offset = 8;
	cr_assert_eq(dec_error(d, "10.2.0.2", "10.1.0.1", 3, 3, &f4, SIZE_MAX, SIZE_MAX, &p),
		     DEC_OK);
	cr_assert_not(p.quote.valid);
	struct craft f6 = u6;
	f6.fragment = true;
	f6.frag_offset = 1232;
	cr_assert_eq(
	    dec_error(d, "2001:db8:1::2", "2001:db8::1", 1, 4, &f6, SIZE_MAX, SIZE_MAX, &p),
	    DEC_OK);
	cr_assert_not(p.quote.valid);
	/* Not errors: queries and ND carry no quote, whatever follows them. */
	uint8_t q[128];
	size_t n = craft_packet(&u, DLT_RAW, q, sizeof(q), NULL);
	struct craft echo = tcp4;
	echo.proto = 1;
	echo.icmp_type = 8;
	echo.quote = q;
	echo.quote_len = n;
	cr_assert_eq(dec1(d, DLT_EN10MB, &echo, SIZE_MAX, &p), DEC_OK);
	cr_assert_not(p.icmp_error);
	cr_assert_not(p.quote.valid);
	struct craft ns = udp6;
	ns.proto = 58;
	ns.icmp_type = 135;
	cr_assert_eq(dec1(d, DLT_EN10MB, &ns, SIZE_MAX, &p), DEC_OK);
	cr_assert_not(p.icmp_error);
	/* ICMP over IPv6 (protocol 1): not an ICMPv6 error. */
	struct craft wrong = udp6;
	wrong.proto = 1;
	wrong.icmp_type = 3;
	cr_assert_eq(dec1(d, DLT_EN10MB, &wrong, SIZE_MAX, &p), DEC_OK);
	cr_assert_not(p.icmp_error);
	dec_free(d);
}

/* A quote cut anywhere, in the error itself or by the capture, leaves the
 * error decoded, with a tuple only once its ports are there. */
static void check_quote_cuts(const char *from, const char *to, uint8_t type,
			     const struct craft *inner, size_t need)
{
	uint8_t q[512];
	size_t n = craft_packet(inner, DLT_RAW, q, sizeof(q), NULL);
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	cr_assert_gt(n, need);
	for (size_t len = 0; len <= n; len++) {
		cr_assert_eq(dec_error(d, from, to, type, 0, inner, len, SIZE_MAX, &p), DEC_OK);
		cr_assert(p.icmp_error);
		cr_assert_eq(p.quote.valid, len >= need, "quote of %zu bytes", len);
		/* The same cut by the capture: 14 Ethernet, IP header, 8 ICMP. */
		size_t l3 = strchr(from, ':') ? 40 : 20;
		cr_assert_eq(
		    dec_error(d, from, to, type, 0, inner, SIZE_MAX, 14 + l3 + 8 + len, &p),
		    DEC_OK);
		cr_assert_eq(p.quote.valid, len >= need, "capture cut after %zu quoted bytes", len);
	}
	const struct dec_stats *st = dec_stats(d);
	cr_assert_eq(st->decoded, st->read);
	dec_free(d);
}

Test(decode, truncated_quotes_decode_without_a_tuple)
{
	struct craft u = tcp4;
	u.proto = 17;
	check_quote_cuts("10.2.0.2", "10.1.0.1", 3, &u, 24);
	struct craft t = tcp4;
	t.ip_options = 12;
	check_quote_cuts("10.2.0.2", "10.1.0.1", 11, &t, 36);
	struct craft echo = tcp4;
	echo.proto = 1;
	echo.icmp_type = 8;
	check_quote_cuts("10.2.0.2", "10.1.0.1", 3, &echo, 26);
	struct craft u6 = udp6;
	u6.next = 2;
	u6.ext[0] = CRAFT_EXT_HOPOPTS;
	u6.ext[1] = CRAFT_EXT_AH;
	check_quote_cuts("2001:db8:1::2", "2001:db8::1", 1, &u6, 40 + 8 + 24 + 4);
	/* A cut inside the error's own 8-byte header is a truncated error. */
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	cr_assert_eq(dec_error(d, "10.2.0.2", "10.1.0.1", 3, 3, &u, SIZE_MAX, 14 + 20 + 7, &p),
		     DEC_R_TRUNC_TRANSPORT);
	dec_free(d);
}

Test(decode, icmp_echo_and_reply_are_one_flow)
{
	struct craft req = tcp4, rep = tcp4;
	req.proto = rep.proto = 1;
	req.icmp_type = 8;
	rep.icmp_type = 0;
	req.icmp_id = rep.icmp_id = 99;
	rep.src = tcp4.dst;
	rep.dst = tcp4.src;
	struct craft v6req = udp6, v6rep = udp6;
	v6req.proto = v6rep.proto = 58;
	v6req.icmp_type = 128;
	v6rep.icmp_type = 129;
	v6req.icmp_id = v6rep.icmp_id = 5;
	v6rep.src = udp6.dst;
	v6rep.dst = udp6.src;
	struct craft_writer *w = wopen("icmp.pcap", DLT_EN10MB);
	/* The capture starts with a reply: the requester is still the initiator. */
	wadd(w, DLT_EN10MB, SEC, &rep);
	wadd(w, DLT_EN10MB, 2 * SEC, &req);
	wadd(w, DLT_EN10MB, 3 * SEC, &rep);
	wadd(w, DLT_EN10MB, 4 * SEC, &v6req);
	wadd(w, DLT_EN10MB, 5 * SEC, &v6rep);
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("icmp.pcap"), NULL, &r);
	cr_assert_eq(r.n, 2);
	uint8_t a[16];
	for (size_t i = 0; i < r.n; i++) {
		const struct flow *f = &r.recs[i].f;
		if (f->proto == 1) {
			addr4(a, "10.1.0.1");
			cr_assert_arr_eq(f->src, a, 16);
			cr_assert_eq(f->icmp_type, 8);
			cr_assert_eq(f->icmp_id, 99);
			cr_assert_eq(f->packets[0], 1);
			cr_assert_eq(f->packets[1], 2);
		} else {
			cr_assert_eq(f->proto, 58);
			addr6(a, "2001:db8::1");
			cr_assert_arr_eq(f->src, a, 16);
			cr_assert_eq(f->icmp_type, 128);
			cr_assert_eq(f->packets[0], 1);
			cr_assert_eq(f->packets[1], 1);
		}
	}
}

/* Writes a datagram split in three fragments in the given order. */
static void write_fragments(struct craft_writer *w, const struct craft *base, const int order[3],
			    uint64_t t0, size_t *total_bytes)
{
	struct craft part[3];
	for (int i = 0; i < 3; i++) {
		part[i] = *base;
		part[i].fragment = true;
		part[i].frag_id = 0xabcd;
		part[i].ip_id = 0xabcd;
		part[i].more_fragments = i < 2;
		part[i].frag_offset = (uint16_t)(i * 64);
		part[i].payload = i == 0 ? 64 - 20 : 64;
	}
	*total_bytes = 0;
	for (int k = 0; k < 3; k++) {
		size_t n = wadd(w, DLT_EN10MB, t0 + (uint64_t)k * 1000, &part[order[k]]);
		*total_bytes += n - 14;
	}
}

static void check_fragments(int version, const int order[3])
{
	struct craft base = version == 4 ? tcp4 : udp6;
	base.proto = 6;
	base.sport = 3000;
	base.dport = 4000;
	base.tcp_flags = 0x18;
	size_t bytes;
	struct craft_writer *w = wopen("frag.pcap", DLT_EN10MB);
	write_fragments(w, &base, order, 10 * SEC, &bytes);
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("frag.pcap"), NULL, &r);
	cr_assert_eq(r.ds.decoded, 3, "all fragments attributed (IPv%d)", version);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.recs[0].f.sport, 3000);
	cr_assert_eq(r.recs[0].f.dport, 4000);
	cr_assert_eq(r.recs[0].f.packets[0], 3);
	cr_assert_eq(r.recs[0].f.bytes[0], bytes);
	cr_assert_eq(r.recs[0].f.first_ns, 10 * SEC, "the earliest fragment starts the flow");
	cr_assert_eq(r.recs[0].f.last_ns, 10 * SEC + 2000);
}

Test(decode, fragments_in_order)
{
	static const int order[3] = {0, 1, 2};
	check_fragments(4, order);
	check_fragments(6, order);
}

Test(decode, fragments_out_of_order)
{
	static const int rev[3] = {2, 1, 0};
	static const int mid[3] = {1, 0, 2};
	check_fragments(4, rev);
	check_fragments(6, rev);
	check_fragments(4, mid);
	check_fragments(6, mid);
}

Test(decode, fragment_without_first_is_counted)
{
	struct craft c = tcp4;
	c.fragment = true;
	c.frag_offset = 1480;
	c.ip_id = 7;
	c.payload = 100;
	struct craft_writer *w = wopen("orphan.pcap", DLT_EN10MB);
	wadd(w, DLT_EN10MB, SEC, &c);
	c.frag_offset = 1580;
	wadd(w, DLT_EN10MB, SEC, &c);
	c.ip_id = 8; /* a second datagram, also without its first fragment */
	wadd(w, DLT_EN10MB, SEC, &c);
	wadd(w, DLT_EN10MB, SEC, &tcp4);
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("orphan.pcap"), NULL, &r);
	cr_assert_eq(r.ds.reasons[DEC_R_FRAG_NO_FIRST], 3);
	cr_assert_eq(r.ds.decoded, 1);
	cr_assert_eq(r.n, 1);
}

Test(decode, fragment_cache_times_out_and_is_bounded)
{
	/* One set of 8 entries, 1 s lifetime. */
	struct dec_config dc = {.frag_entries = 8, .frag_timeout_ns = SEC};
	struct craft later = tcp4;
	later.fragment = true;
	later.frag_offset = 800;
	later.payload = 8;
	struct craft first = tcp4;
	first.fragment = true;
	first.more_fragments = true;
	struct craft_writer *w = wopen("cache.pcap", DLT_EN10MB);
	for (int i = 0; i < 12; i++) {
		later.ip_id = (uint16_t)(100 + i);
		wadd(w, DLT_EN10MB, SEC, &later);
	}
	/* Too late for id 111's entry: it timed out and its fragment was dropped. */
	first.ip_id = 111;
	wadd(w, DLT_EN10MB, 3 * SEC, &first);
	cr_assert_eq(craft_writer_close(w), 0);
	struct run r;
	run_file(tmp_path("cache.pcap"), &dc, &r);
	cr_assert_eq(r.ds.frag_evicted, 4, "12 datagrams through 8 entries");
	cr_assert_eq(r.ds.reasons[DEC_R_FRAG_NO_FIRST], 12);
	cr_assert_eq(r.ds.decoded, 1);
}

/* Cuts a frame at every length below its payload: each cut gives the
 * reason of the header it falls in; the whole headers decode. */
static void check_cuts(int linktype, const struct craft *c, size_t link_len, int in_link)
{
	uint8_t buf[512];
	struct craft_layout lay;
	size_t n = craft_packet(c, linktype, buf, sizeof(buf), &lay);
	cr_assert_gt(n, 0);
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	for (size_t cut = 0; cut <= lay.payload; cut++) {
		int want;
		if (cut < link_len)
			want = in_link;
		else if (cut < lay.l3 + (c->ip_version == 4 ? 20 + c->ip_options : 40))
			want = c->ip_version == 4 ? DEC_R_TRUNC_IPV4 : DEC_R_TRUNC_IPV6;
		else if (cut < lay.l4)
			want = DEC_R_TRUNC_IPV6_EXT;
		else if (cut < lay.payload)
			want = DEC_R_TRUNC_TRANSPORT;
		else
			want = DEC_OK;
		int got = dec_packet(d, linktype, buf, cut, n, 1, &p);
		cr_assert_eq(got, want, "linktype %d cut at %zu of %zu: got %s, want %s", linktype,
			     cut, n, got >= 0 ? dec_reason_name(got) : "ok",
			     want >= 0 ? dec_reason_name(want) : "ok");
	}
	const struct dec_stats *st = dec_stats(d);
	cr_assert_eq(st->read, lay.payload + 1);
	cr_assert_eq(st->read, st->decoded + not_decoded(st));
	dec_free(d);
}

/* RFC 4340 5.1: the generic header is 16 bytes with X = 1, 12 with X = 0; a Data
 * Offset below it or past the packet makes the packet one a receiver ignores. */
Test(decode, dccp_generic_header_by_x_and_data_offset)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	struct craft c = tcp4;
	c.proto = 33;
	c.payload = 0;
	uint8_t buf[256];
	struct craft_layout lay;
	for (int shortseq = 0; shortseq < 2; shortseq++) {
		c.dccp_short_seq = shortseq;
		size_t n = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), &lay);
		cr_assert_eq(lay.payload - lay.l4, shortseq ? 12u : 16u);
		cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_OK);
		cr_expect(p.sport == 40000 && p.dport == 443);
		/* Data Offset in words: one below the header, then one past the packet. */
		buf[lay.l4 + 4] = shortseq ? 2 : 3;
		cr_expect_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_TRANSPORT);
		buf[lay.l4 + 4] = shortseq ? 4 : 5;
		cr_expect_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_R_BAD_TRANSPORT);
	}
	/* X = 1 but only the 12 bytes of a short header captured. */
	c.dccp_short_seq = false;
	size_t n = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), &lay);
	cr_expect_eq(dec_packet(d, DLT_EN10MB, buf, lay.l4 + 12, n, 1, &p), DEC_R_TRUNC_TRANSPORT);
	dec_free(d);
}

Test(decode, truncation_at_every_header_boundary)
{
	struct craft c = tcp4;
	c.nvlans = 2;
	c.vlans[0] = 1;
	c.vlans[1] = 2;
	c.ip_options = 8;
	check_cuts(DLT_EN10MB, &c, 22, DEC_R_TRUNC_LINK);
	check_cuts(DLT_LINUX_SLL, &tcp4, 16, DEC_R_TRUNC_LINK);
	check_cuts(DLT_LINUX_SLL2, &tcp4, 20, DEC_R_TRUNC_LINK);
	check_cuts(DLT_RAW, &tcp4, 1, DEC_R_TRUNC_LINK);
	struct craft u = tcp4;
	u.proto = 17;
	check_cuts(DLT_IPV4, &u, 0, DEC_R_TRUNC_LINK);
	struct craft s = tcp4;
	s.proto = 132;
	check_cuts(DLT_EN10MB, &s, 14, DEC_R_TRUNC_LINK);
	struct craft dc = udp6;
	dc.proto = 33;
	check_cuts(DLT_EN10MB, &dc, 14, DEC_R_TRUNC_LINK);
	dc.dccp_short_seq = true;
	check_cuts(DLT_EN10MB, &dc, 14, DEC_R_TRUNC_LINK);
	struct craft ul = tcp4;
	ul.proto = 136;
	check_cuts(DLT_EN10MB, &ul, 14, DEC_R_TRUNC_LINK);
	struct craft i4 = tcp4;
	i4.proto = 1;
	i4.icmp_type = 8;
	check_cuts(DLT_EN10MB, &i4, 14, DEC_R_TRUNC_LINK);

	struct craft e = udp6;
	e.next = 3;
	e.ext[0] = CRAFT_EXT_HOPOPTS;
	e.ext[1] = CRAFT_EXT_AH;
	e.ext[2] = CRAFT_EXT_DSTOPTS;
	check_cuts(DLT_EN10MB, &e, 14, DEC_R_TRUNC_LINK);
	struct craft i6 = udp6;
	i6.proto = 58;
	i6.icmp_type = 128;
	check_cuts(DLT_IPV6, &i6, 0, DEC_R_TRUNC_LINK);
	struct craft f6 = udp6;
	f6.fragment = true;
	f6.more_fragments = true;
	check_cuts(DLT_RAW, &f6, 1, DEC_R_TRUNC_LINK);
}

Test(decode, gro_super_packets_use_the_captured_length)
{
	struct dec *d = dec_new(NULL);
	struct dec_pkt p;
	struct craft c = tcp4;
	c.payload = 60000;
	c.zero_total_length = true;
	static uint8_t buf[70000];
	size_t n = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), NULL);
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_OK);
	cr_assert_eq(p.ip_len, n - 14);
	cr_assert_eq(p.dport, 443);

	/* Captured with a short snap length: the wire length still counts. */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, 96, n, 1, &p), DEC_OK);
	cr_assert_eq(p.ip_len, n - 14);

	struct craft v6 = udp6;
	v6.payload = 65600; /* beyond a 16-bit payload length */
	n = craft_packet(&v6, DLT_EN10MB, buf, sizeof(buf), NULL);
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_OK);
	cr_assert_eq(p.ip_len, n - 14);
	cr_assert_eq(p.sport, 5353);

	/* A total length above the wire length is clamped to it. */
	n = craft_packet(&tcp4, DLT_EN10MB, buf, sizeof(buf), NULL);
	buf[16] = 0x05;
	buf[17] = 0xdc; /* claims 1500 */
	cr_assert_eq(dec_packet(d, DLT_EN10MB, buf, n, n, 1, &p), DEC_OK);
	cr_assert_eq(p.ip_len, n - 14);
	dec_free(d);
}

Test(decode, reason_names_are_distinct)
{
	for (int i = 0; i < DEC_R_COUNT; i++) {
		cr_assert_not_null(dec_reason_name(i));
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(dec_reason_name(i), dec_reason_name(j));
	}
	cr_assert_null(dec_reason_name(DEC_R_COUNT));
}

Test(decode, refused_files_give_a_diagnostic)
{
	char *bad = tu_write(tmpdir, "bad.pcap", "this is not a capture file at all\n");
	struct diag_list *dl = diag_list_new();
	struct cap *c = NULL;
	cr_assert_eq(cap_open_offline(bad, dl, &c), -EINVAL);
	cr_assert_null(c);
	cr_assert_eq(diag_errors(dl), 1);
	cr_assert(tu_diag_contains(dl, "bad.pcap: error: cannot read capture"), "%s", tu_diags(dl));
	diag_list_free(dl);
	free(bad);
}

/* pcapng blocks (draft-ietf-opsawg-pcapng), little-endian. */
static size_t put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return 4;
}

static size_t pcapng_idb(uint8_t *p, uint16_t linktype)
{
	size_t n = put32(p, 1);
	n += put32(p + n, 20);
	n += put32(p + n, linktype);
	n += put32(p + n, 65535);
	n += put32(p + n, 20);
	return n;
}

static size_t pcapng_epb(uint8_t *p, uint32_t ifid, const uint8_t *pkt, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;
	size_t total = 32 + padded;
	size_t n = put32(p, 6);
	n += put32(p + n, (uint32_t)total);
	n += put32(p + n, ifid);
	n += put32(p + n, 0);
	n += put32(p + n, 1000);
	n += put32(p + n, (uint32_t)len);
	n += put32(p + n, (uint32_t)len);
	memset(p + n, 0, padded);
	memcpy(p + n, pkt, len);
	n += padded;
	n += put32(p + n, (uint32_t)total);
	return n;
}

Test(decode, pcapng_with_interfaces_of_different_link_types_is_refused)
{
	uint8_t file[1024], pkt[256];
	size_t n = put32(file, 0x0a0d0d0a);
	n += put32(file + n, 28);
	n += put32(file + n, 0x1a2b3c4d);
	n += put32(file + n, 1); /* version 1.0 */
	n += put32(file + n, 0xffffffff);
	n += put32(file + n, 0xffffffff); /* section length unknown */
	n += put32(file + n, 28);
	n += pcapng_idb(file + n, 1); /* Ethernet */
	size_t len = craft_packet(&tcp4, DLT_EN10MB, pkt, sizeof(pkt), NULL);
	n += pcapng_epb(file + n, 0, pkt, len);
	n += pcapng_idb(file + n, 113); /* Linux cooked */
	len = craft_packet(&tcp4, DLT_LINUX_SLL, pkt, sizeof(pkt), NULL);
	n += pcapng_epb(file + n, 1, pkt, len);
	const char *path = tmp_path("mixed.pcapng");
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(file, 1, n, f), n);
	fclose(f);

	struct diag_list *dl = diag_list_new();
	struct dec *d = dec_new(NULL);
	struct cap *c = NULL;
	cr_assert_eq(cap_open_offline(path, dl, &c), 0, "%s", tu_diags(dl));
	cr_assert_eq(cap_run(c, d, NULL, dl), -EINVAL);
	cr_assert(tu_diag_contains(dl, "mixed.pcapng: error: cannot read capture"), "%s",
		  tu_diags(dl));
	cr_assert_eq(dec_stats(d)->read, 1, "the packet before the second interface counts");
	cr_assert_eq(dec_stats(d)->decoded, 1);
	cap_close(c);
	dec_free(d);
	diag_list_free(dl);
}

static const char *shared_dir(void)
{
	static char buf[4096];
	const char *s = getenv("SEGPLAN_SHARED");
	if (s && *s)
		return s;
	snprintf(buf, sizeof(buf), "%s/../shared", tu_src());
	return buf;
}

/* Every capture under ../shared/pcaps: no crash (ASan/UBSan in the
 * sanitizer build), every packet accounted for, a diagnostic for files
 * libpcap refuses. */
static void walk(const char *dir, size_t *files, size_t *refused, uint64_t *packets)
{
	DIR *dp = opendir(dir);
	cr_assert_not_null(dp, "cannot open %s", dir);
	struct dirent *e;
	while ((e = readdir(dp))) {
		char path[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path, files, refused, packets);
			continue;
		}
		if (!strstr(e->d_name, ".pcap"))
			continue;
		struct diag_list *dl = diag_list_new();
		struct dec *d = dec_new(NULL);
		struct flow_table *ft = NULL;
		struct flow_config fc = {.max_flows = 64};
		struct cap *c = NULL;
		cr_assert_eq(flow_table_new(&fc, &ft), 0);
		(*files)++;
		int rc = cap_open_offline(path, dl, &c);
		if (rc == 0) {
			rc = cap_run(c, d, ft, dl);
			cr_assert(rc == 0 || rc == -EINVAL, "%s: %d", path, rc);
		}
		if (rc) {
			(*refused)++;
			cr_assert_eq(diag_errors(dl), 1, "%s: refused without a message", path);
		}
		dec_flush(d);
		flow_table_flush(ft);
		const struct dec_stats *ds = dec_stats(d);
		cr_assert_eq(ds->read, ds->decoded + not_decoded(ds), "%s: packets unaccounted for",
			     path);
		cr_assert_eq(flow_table_stats(ft)->packets, ds->decoded, "%s", path);
		*packets += ds->read;
		cap_close(c);
		flow_table_free(ft);
		dec_free(d);
		diag_list_free(dl);
	}
	closedir(dp);
}

Test(decode, shared_captures_never_crash_and_account_for_every_packet, .timeout = 300)
{
	char dir[4096];
	size_t files = 0, refused = 0;
	uint64_t packets = 0;
	int n = snprintf(dir, sizeof(dir), "%s/pcaps", shared_dir());
	cr_assert(n > 0 && (size_t)n < sizeof(dir), "shared directory path too long");
	walk(dir, &files, &refused, &packets);
	cr_assert_gt(files, 100, "only %zu captures under %s", files, dir);
	cr_assert_lt(refused, files / 10, "%zu of %zu refused", refused, files);
	cr_assert_gt(packets, 1000);
}
