// SPDX-License-Identifier: MIT
/* agent/ipfix: what reaches a UDP socket on loopback, decoded here by a
 * small IPFIX reader written from RFC 7011 (message and set headers,
 * template records with enterprise-specific elements) and RFC 5103: values
 * round-trip, messages stay within the size, sequence numbers count data
 * records, templates come first and are refreshed by count and by time,
 * failed sends are counted and never block. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/flow.h"
#include "agent/ipfix.h"
#include "agent/pseudo.h"

#define SEC	1000000000ull
#define MAXTPL	4
#define MAXREC	4096
#define MAXMSG	4096
#define PEN_REV 29305

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t rdn(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

struct tfield {
	uint16_t id, len;
	uint32_t pen;
};

struct tpl {
	uint16_t id, n;
	struct tfield f[64];
};

/* A decoded data record: forward [0] and reverse [1] values. */
struct rec {
	uint16_t tid;
	uint8_t src[16], dst[16];
	uint64_t start_ms, end_ms, octets[2], packets[2];
	uint16_t sport, dport, icmp, flags[2], vlan[2];
	uint8_t proto, reason, biflow;
	uint32_t ingress;
};

struct msginfo {
	size_t len;
	uint32_t export_time, seq, domain, records;
	bool templates;
};

struct coll {
	int fd;
	uint16_t port;
	struct tpl tpl[MAXTPL];
	size_t ntpl;
	struct rec recs[MAXREC];
	size_t nrec;
	struct msginfo msgs[MAXMSG];
	size_t nmsg;
	uint8_t raw[1 << 20]; /* every byte received, for searches */
	size_t nraw;
};

static struct coll *coll_new(void)
{
	struct coll *c = calloc(1, sizeof(*c));
	cr_assert(c);
	c->fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(c->fd >= 0);
	int big = 8 << 20;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert(bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	socklen_t sl = sizeof(sa);
	cr_assert(getsockname(c->fd, (struct sockaddr *)&sa, &sl) == 0);
	c->port = ntohs(sa.sin_port);
	return c;
}

static void coll_free(struct coll *c)
{
	close(c->fd);
	free(c);
}

static struct tpl *find_tpl(struct coll *c, uint16_t id)
{
	for (size_t i = 0; i < c->ntpl; i++)
		if (c->tpl[i].id == id)
			return &c->tpl[i];
	return NULL;
}

static void decode_record(const struct tpl *t, const uint8_t *p, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->tid = t->id;
	for (size_t i = 0; i < t->n; i++) {
		const struct tfield *f = &t->f[i];
		int d = f->pen == PEN_REV ? 1 : 0;
		cr_assert(f->pen == 0 || f->pen == PEN_REV, "unexpected PEN %u", f->pen);
		uint64_t v = f->len <= 8 ? rdn(p, f->len) : 0;
		switch (f->id) {
		case 1:
			r->octets[d] = v;
			break;
		case 2:
			r->packets[d] = v;
			break;
		case 4:
			r->proto = (uint8_t)v;
			break;
		case 6:
			r->flags[d] = (uint16_t)v;
			break;
		case 7:
			r->sport = (uint16_t)v;
			break;
		case 11:
			r->dport = (uint16_t)v;
			break;
		case 8:
		case 12: {
			uint8_t *a = f->id == 8 ? r->src : r->dst;
			a[10] = a[11] = 0xff;
			memcpy(a + 12, p, 4);
			break;
		}
		case 27:
			memcpy(r->src, p, 16);
			break;
		case 28:
			memcpy(r->dst, p, 16);
			break;
		case 10:
			r->ingress = (uint32_t)v;
			break;
		case 32:
		case 139:
			r->icmp = (uint16_t)v;
			break;
		case 58:
			r->vlan[d] = (uint16_t)v;
			break;
		case 136:
			r->reason = (uint8_t)v;
			break;
		case 239:
			r->biflow = (uint8_t)v;
			break;
		case 152:
			r->start_ms = v;
			break;
		case 153:
			r->end_ms = v;
			break;
		default:
			cr_assert_fail("unexpected element %u", f->id);
		}
		p += f->len;
	}
}

/* Checks every length on the way: a set must end exactly at the message's
 * end, a data set hold whole records. */
static void parse_message(struct coll *c, const uint8_t *m, size_t len)
{
	cr_assert(len >= 16);
	cr_assert(c->nmsg < MAXMSG);
	struct msginfo *mi = &c->msgs[c->nmsg++];
	memset(mi, 0, sizeof(*mi));
	cr_assert_eq(rd16(m), 10, "IPFIX version");
	cr_assert_eq(rd16(m + 2), len, "message length field");
	mi->len = len;
	mi->export_time = rd32(m + 4);
	mi->seq = rd32(m + 8);
	mi->domain = rd32(m + 12);
	size_t off = 16;
	while (off < len) {
		cr_assert(len - off >= 4, "set header cut");
		uint16_t sid = rd16(m + off), slen = rd16(m + off + 2);
		cr_assert(slen >= 4 && slen <= len - off, "set length %u at %zu", slen, off);
		const uint8_t *s = m + off + 4, *end = m + off + slen;
		if (sid == 2) {
			mi->templates = true;
			while (s < end) {
				cr_assert(end - s >= 4);
				struct tpl t = {.id = rd16(s), .n = rd16(s + 2)};
				cr_assert(t.n <= 64);
				s += 4;
				for (size_t i = 0; i < t.n; i++) {
					cr_assert(end - s >= 4);
					uint16_t id = rd16(s), flen = rd16(s + 2);
					s += 4;
					t.f[i] = (struct tfield){(uint16_t)(id & 0x7fff), flen, 0};
					if (id & 0x8000) {
						cr_assert(end - s >= 4);
						t.f[i].pen = rd32(s);
						s += 4;
					}
				}
				struct tpl *old = find_tpl(c, t.id);
				if (!old) {
					cr_assert(c->ntpl < MAXTPL);
					old = &c->tpl[c->ntpl++];
				}
				*old = t;
			}
		} else {
			cr_assert(sid >= 256, "data set id %u", sid);
			const struct tpl *t = find_tpl(c, sid);
			cr_assert(t, "data set %u before its template", sid);
			size_t rl = 0;
			for (size_t i = 0; i < t->n; i++)
				rl += t->f[i].len;
			cr_assert(rl > 0 && (size_t)(end - s) % rl == 0, "whole records only");
			for (; s < end; s += rl) {
				cr_assert(c->nrec < MAXREC);
				decode_record(t, s, &c->recs[c->nrec++]);
				mi->records++;
			}
		}
		off += slen;
	}
}

/* Everything queued on the socket (loopback delivers during send()). */
static void coll_drain(struct coll *c)
{
	uint8_t buf[70000];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		cr_assert(c->nraw + (size_t)n <= sizeof(c->raw));
		memcpy(c->raw + c->nraw, buf, (size_t)n);
		c->nraw += (size_t)n;
		parse_message(c, buf, (size_t)n);
	}
}

static void v4(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	cr_assert(inet_pton(AF_INET, s, out + 12) == 1);
}

static struct flow tcp4(unsigned i)
{
	struct flow f = {0};
	char a[32];
	snprintf(a, sizeof(a), "10.0.%u.%u", i / 250, i % 250 + 1);
	v4(a, f.src);
	v4("172.16.7.46", f.dst);
	f.proto = 6;
	f.sport = (uint16_t)(10000 + i);
	f.dport = 445;
	f.first_ns = 1700000000ull * SEC + i * 1000000ull + 999999;
	f.last_ns = f.first_ns + 72 * 1000000ull;
	f.packets[0] = 2 + i;
	f.bytes[0] = 80 + 40ull * i;
	f.packets[1] = 3;
	f.bytes[1] = 169;
	f.tcp_flags[0] = 0x13;
	f.tcp_flags[1] = 0x1b;
	f.vlan_seen[0] = 10;
	f.vlan_seen[1] = 20;
	f.ifindex[0] = 7;
	return f;
}

static struct ipfix_exporter *open_to(struct coll *c, uint32_t domain,
				      const struct ipfix_config *cfg)
{
	char hp[32];
	int err = 1;
	snprintf(hp, sizeof(hp), "127.0.0.1:%u", c->port);
	struct ipfix_exporter *x = ipfix_exporter_new(hp, domain, cfg, &err);
	cr_assert(x, "exporter: %s", strerror(-err));
	cr_assert_eq(err, 0);
	return x;
}

Test(ipfix, values_round_trip_v4_v6_icmp)
{
	struct coll *c = coll_new();
	struct ipfix_exporter *x = open_to(c, 4242, NULL);
	struct flow a = tcp4(3);
	struct flow b = {0};
	cr_assert(inet_pton(AF_INET6, "2001:db8:1::1", b.src) == 1);
	cr_assert(inet_pton(AF_INET6, "2001:db8:2::2", b.dst) == 1);
	b.proto = 58;
	b.icmp_type = 128;
	b.icmp_code = 0;
	b.icmp_id = 99;
	b.first_ns = 1700000001ull * SEC;
	b.last_ns = b.first_ns + 2 * SEC + 5000000;
	b.packets[0] = b.packets[1] = 4;
	b.bytes[0] = 416;
	b.bytes[1] = 420;
	ipfix_export(x, &a, FLOW_END_CLOSED);
	ipfix_export(x, &b, FLOW_END_IDLE);
	cr_expect_eq(c->nmsg, 0, "buffered until flushed");
	ipfix_flush(x);
	coll_drain(c);
	cr_assert_eq(c->nmsg, 1);
	cr_expect(c->msgs[0].templates, "templates in the first message");
	cr_expect_eq(c->msgs[0].domain, 4242);
	cr_expect_eq(c->msgs[0].seq, 0);
	cr_assert_eq(c->nrec, 2);
	cr_expect_eq(c->ntpl, 2, "one template per family");

	const struct rec *r = &c->recs[0];
	cr_expect_eq(r->tid, IPFIX_TEMPLATE_V4);
	cr_expect(memcmp(r->src, a.src, 16) == 0 && memcmp(r->dst, a.dst, 16) == 0);
	cr_expect(r->sport == a.sport && r->dport == 445 && r->proto == 6);
	cr_expect_eq(r->start_ms, a.first_ns / 1000000, "ms truncate");
	cr_expect_eq(r->end_ms, a.last_ns / 1000000);
	cr_expect(r->packets[0] == a.packets[0] && r->octets[0] == a.bytes[0]);
	cr_expect(r->packets[1] == 3 && r->octets[1] == 169, "RFC 5103 reverse counters");
	cr_expect(r->flags[0] == 0x13 && r->flags[1] == 0x1b, "flags per direction");
	cr_expect(r->vlan[0] == 10 && r->vlan[1] == 20, "VLAN per direction");
	cr_expect_eq(r->ingress, 7);
	cr_expect_eq(r->reason, 3, "flowEndReason end of flow");
	cr_expect_eq(r->biflow, 1, "biflowDirection initiator");
	cr_expect_eq(r->icmp, 0);

	r = &c->recs[1];
	cr_expect_eq(r->tid, IPFIX_TEMPLATE_V6);
	cr_expect(memcmp(r->src, b.src, 16) == 0 && memcmp(r->dst, b.dst, 16) == 0);
	cr_expect_eq(r->icmp, 128 << 8, "icmpTypeCodeIPv6");
	cr_expect(r->sport == 0 && r->dport == 0 && r->proto == 58);
	cr_expect(r->octets[1] == 420 && r->reason == 1);
	const struct ipfix_stats *st = ipfix_exporter_stats(x);
	cr_expect(st->messages == 1 && st->records == 2 && st->send_errors == 0);
	cr_expect_eq(st->bytes, c->msgs[0].len);
	ipfix_exporter_free(x);
	coll_free(c);
}

Test(ipfix, messages_bounded_sequence_counts_records)
{
	struct coll *c = coll_new();
	struct ipfix_config cfg = {.max_message = 512, .refresh_messages = 1000};
	struct ipfix_exporter *x = open_to(c, 1, &cfg);
	const unsigned n = 500;
	for (unsigned i = 0; i < n; i++) {
		struct flow f = tcp4(i);
		if (i % 3 == 0) /* mix families inside messages */
			cr_assert(inet_pton(AF_INET6, "2001:db8::5", f.src) == 1 &&
				  inet_pton(AF_INET6, "2001:db8::6", f.dst) == 1);
		ipfix_export(x, &f, FLOW_END_IDLE);
	}
	ipfix_exporter_free(x); /* flushes */
	coll_drain(c);
	cr_assert_eq(c->nrec, n, "every record arrived");
	uint32_t seq = 0;
	for (size_t i = 0; i < c->nmsg; i++) {
		cr_expect(c->msgs[i].len <= 512, "message %zu has %zu bytes", i, c->msgs[i].len);
		cr_expect_eq(c->msgs[i].seq, seq, "message %zu", i);
		seq += c->msgs[i].records;
		/* Full: the next record (at most 101 + 4 bytes) would not fit. */
		if (i + 1 < c->nmsg)
			cr_expect(c->msgs[i].len > 512 - 105, "message %zu underfilled", i);
	}
	cr_expect(c->msgs[0].templates);
	for (size_t i = 1; i < c->nmsg; i++)
		cr_expect(!c->msgs[i].templates, "no refresh before 1000 messages");
	for (unsigned i = 0; i < n; i++)
		cr_expect_eq(c->recs[i].sport, (uint16_t)(10000 + i), "order kept");
	coll_free(c);
}

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

Test(ipfix, templates_refreshed_by_count_and_time)
{
	struct coll *c = coll_new();
	fake_now = 1800000000ull * SEC;
	struct ipfix_config cfg = {
	    .refresh_messages = 3, .refresh_seconds = 10, .clock_ns = fake_clock};
	struct ipfix_exporter *x = open_to(c, 9, &cfg);
	for (unsigned i = 0; i < 7; i++) {
		struct flow f = tcp4(i);
		ipfix_export(x, &f, FLOW_END_IDLE);
		ipfix_flush(x);
	}
	coll_drain(c);
	cr_assert_eq(c->nmsg, 7);
	for (size_t i = 0; i < 7; i++) {
		cr_expect_eq(c->msgs[i].templates, i % 3 == 0, "message %zu", i);
		cr_expect_eq(c->msgs[i].export_time, 1800000000u, "export time from the clock");
	}
	/* Time: 11 s later the next message carries them, whatever the count. */
	fake_now += 11 * SEC;
	struct flow f = tcp4(9);
	ipfix_export(x, &f, FLOW_END_IDLE);
	ipfix_flush(x);
	fake_now += 1 * SEC;
	ipfix_export(x, &f, FLOW_END_IDLE);
	ipfix_flush(x);
	coll_drain(c);
	cr_assert_eq(c->nmsg, 9);
	cr_expect(c->msgs[7].templates, "refresh after 10 s");
	cr_expect(!c->msgs[8].templates);
	cr_expect_eq(c->msgs[8].export_time, 1800000012u);
	cr_expect_eq(ipfix_exporter_stats(x)->template_sends, 4);
	ipfix_exporter_free(x);
	coll_free(c);
}

Test(ipfix, poll_sends_after_max_delay)
{
	struct coll *c = coll_new();
	fake_now = 1800000000ull * SEC;
	struct ipfix_config cfg = {.max_delay_ms = 500, .clock_ns = fake_clock};
	struct ipfix_exporter *x = open_to(c, 9, &cfg);
	struct flow f = tcp4(1);
	ipfix_export(x, &f, FLOW_END_IDLE);
	fake_now += 499 * 1000000ull;
	ipfix_poll(x);
	coll_drain(c);
	cr_expect_eq(c->nmsg, 0, "younger than max_delay: kept");
	fake_now += 1000000ull;
	ipfix_poll(x);
	coll_drain(c);
	cr_expect_eq(c->nmsg, 1, "sent once max_delay passed");
	ipfix_poll(x);
	ipfix_flush(x);
	coll_drain(c);
	cr_expect_eq(c->nmsg, 1, "nothing buffered: nothing sent");
	ipfix_exporter_free(x);
	coll_free(c);
}

Test(ipfix, send_failures_counted_sequence_advances)
{
	/* A port with nothing bound: ICMP port unreachable comes back, and
	 * the next send() reports ECONNREFUSED. */
	struct coll *gone = coll_new();
	uint16_t port = gone->port;
	coll_free(gone);
	char hp[32];
	int err;
	snprintf(hp, sizeof(hp), "127.0.0.1:%u", port);
	struct ipfix_exporter *x = ipfix_exporter_new(hp, 1, NULL, &err);
	cr_assert(x);
	for (unsigned i = 0; i < 6; i++) {
		struct flow f = tcp4(i);
		ipfix_export(x, &f, FLOW_END_IDLE);
		ipfix_flush(x);
	}
	const struct ipfix_stats *st = ipfix_exporter_stats(x);
	cr_expect(st->send_errors >= 1, "refused sends counted");
	cr_expect_eq(st->messages + st->send_errors, 6);
	cr_expect_eq(st->records + st->records_lost, 6);
	cr_expect_eq(st->last_error, ECONNREFUSED);
	ipfix_exporter_free(x);
}

Test(ipfix, never_blocks_on_a_full_receiver)
{
	struct coll *c = coll_new();
	int small = 4096;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct ipfix_exporter *x = open_to(c, 1, NULL);
	const unsigned n = 20000;
	for (unsigned i = 0; i < n; i++) {
		struct flow f = tcp4(i % 1000);
		ipfix_export(x, &f, FLOW_END_IDLE);
	}
	ipfix_flush(x);
	const struct ipfix_stats *st = ipfix_exporter_stats(x);
	cr_expect_eq(st->records + st->records_lost, n, "every record accounted for");
	/* The receiver holds a few messages at most; the rest were dropped
	 * (by the kernel) or refused (counted), never waited for. */
	coll_drain(c);
	cr_expect(c->nmsg < 40, "%zu messages fit a 4 KiB buffer?", c->nmsg);
	cr_expect(c->nrec <= st->records);
	ipfix_exporter_free(x);
	coll_free(c);
}

Test(ipfix, pseudonymised_export_carries_no_address)
{
	static const uint8_t key[32] = "segplan test key, 32 bytes long";
	struct pseudo *p;
	cr_assert(pseudo_new(key, sizeof(key), &p) == 0);
	struct coll *c = coll_new();
	struct ipfix_config cfg = {.pseudo = p};
	struct ipfix_exporter *x = open_to(c, 1, &cfg);
	struct flow f = tcp4(5);
	ipfix_export(x, &f, FLOW_END_IDLE);
	ipfix_flush(x);
	coll_drain(c);
	cr_assert_eq(c->nrec, 1);
	cr_expect(!memmem(c->raw, c->nraw, f.src + 12, 4), "source address bytes sent");
	cr_expect(!memmem(c->raw, c->nraw, f.dst + 12, 4), "destination address bytes sent");
	uint8_t want[16];
	pseudo_addr(p, f.src, want);
	cr_expect(memcmp(c->recs[0].src, want, 16) == 0, "the pseudonym instead");
	cr_expect_eq(c->recs[0].octets[0], f.bytes[0]);
	ipfix_exporter_free(x);
	coll_free(c);
	pseudo_free(p);
}

Test(ipfix, host_port_forms)
{
	int err = 0;
	static const char *const bad[] = {"",	       ":4739",	     "::1:4739", "[::1",
					  "[::1]x",    "host:",	     "host:0",	 "host:65536",
					  "host:12ab", "host:123456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_null(ipfix_exporter_new(bad[i], 1, NULL, &err), "'%s'", bad[i]);
		cr_expect_eq(err, -EINVAL, "'%s'", bad[i]);
	}
	struct ipfix_exporter *x = ipfix_exporter_new("[::1]:4739", 1, NULL, &err);
	cr_expect(x && err == 0, "bracketed IPv6");
	ipfix_exporter_free(x);
	x = ipfix_exporter_new("127.0.0.1", 1, NULL, &err);
	cr_expect(x && err == 0, "default port");
	ipfix_exporter_free(x);
	struct ipfix_config cfg = {.max_message = 511};
	cr_expect_null(ipfix_exporter_new("127.0.0.1:4739", 1, &cfg, &err));
	cr_expect_eq(err, -EINVAL);
	ipfix_exporter_free(NULL);
}
