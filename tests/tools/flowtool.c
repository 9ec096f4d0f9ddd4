// SPDX-License-Identifier: MIT
/*
 * Test helper for the IPFIX and accuracy end-to-end tests
 * (tests/e2e/ipfix_nfdump.sh, tests/e2e/accuracy_nfpcapd.sh):
 *
 *   flowtool interop OUT.pcap
 *	a capture of a small known set of flows (IPv4 and IPv6; TCP, UDP,
 *	ICMP, ICMPv6, GRE; a VLAN)
 *   flowtool export PCAP HOST:PORT DOMAIN [KEYFILE]
 *	reads the capture through the agent library (decoder, flow table)
 *	into the IPFIX exporter; prints every exported record as CSV
 *	(proto,src,sport,dst,dport,ipkt,ibyt,opkt,obyt,first_ms,last_ms,
 *	dport being type * 256 + code for ICMP) and the exporter's counters
 *	on stderr
 *   flowtool accuracy OUT.pcap SEED NFLOWS [FEATURE,... [FRAGS.csv]]
 *	a capture with heavy-tailed flow sizes, IPv4 and IPv6, and the
 *	features named (default all): vlan (802.1Q tags), qinq (802.1ad +
 *	802.1Q), frag (UDP datagrams in fragments), gap (idle gaps longer
 *	than the timeouts), midstream (TCP flows without their handshake);
 *	FRAGS.csv lists every fragmented datagram (version, src, sport, dst,
 *	dport, ms, fragments, IP bytes of all fragments)
 *   flowtool compare AGENT.jsonl NFDUMP.json [FRAGS.csv]
 *	matches nfdump's unidirectional records to the agent's biflows
 *	(docs/agent.md, "Accuracy against nfpcapd") and prints every
 *	difference; exit 1 when there is one
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/capture.h"
#include "agent/decode.h"
#include "agent/export.h"
#include "agent/flow.h"
#include "agent/ipfix.h"
#include "agent/pseudo.h"
#include "core/diag.h"
#include "core/proto.h"
#include "craft/craft.h"

#define SEC   1000000000ull
#define MSEC  1000000ull
#define T0_NS (1700000000ull * SEC)

static int usage(void)
{
	fputs("usage: flowtool interop OUT.pcap\n"
	      "       flowtool export PCAP HOST:PORT DOMAIN [KEYFILE]\n"
	      "       flowtool accuracy OUT.pcap SEED NFLOWS [FEATURE,... [FRAGS.csv]]\n"
	      "       flowtool compare AGENT.jsonl NFDUMP.json [FRAGS.csv]\n",
	      stderr);
	return 2;
}

/* Writes one crafted frame, with its wire length, into the capture. */
static int emit(struct craft_writer *w, const struct craft *c, uint64_t ts, size_t *ip_len)
{
	uint8_t buf[9200];
	struct craft_layout lay;
	size_t n = craft_packet(c, DLT_EN10MB, buf, sizeof(buf), &lay);
	if (!n)
		return -EINVAL;
	craft_writer_add(w, ts, buf, n, n);
	if (ip_len)
		*ip_len = n - lay.l3;
	return 0;
}

/* ---- interop: a known set of flows ---- */

struct side {
	const char *a, *b;
	uint16_t pa, pb;
};

static int interop(const char *path)
{
	struct craft_writer *w = NULL;
	int rc = craft_writer_open(path, DLT_EN10MB, &w);
	if (rc)
		return rc;
	uint64_t t = T0_NS + 5 * SEC;
	/* (version, proto, a, b, ports, packets a->b, b->a, payload base, vlan) */
	static const struct {
		int v;
		uint8_t proto;
		const char *a, *b;
		uint16_t pa, pb;
		int fwd, rev;
		size_t payload;
		uint16_t vlan;
	} fl[] = {
	    {4, 6, "10.1.0.1", "10.2.0.1", 40001, 443, 7, 6, 100, 0},
	    {4, 17, "10.1.0.2", "10.2.0.2", 5353, 53, 2, 2, 40, 0},
	    {4, 1, "10.1.0.3", "10.2.0.3", 77, 0, 3, 3, 56, 0},
	    {6, 6, "2001:db8:1::1", "2001:db8:2::1", 50000, 22, 5, 4, 300, 0},
	    {6, 17, "2001:db8:1::2", "2001:db8:2::2", 6000, 123, 4, 0, 48, 0},
	    {6, 58, "2001:db8:1::3", "2001:db8:2::3", 99, 0, 2, 2, 32, 0},
	    {4, 17, "10.1.0.4", "10.2.0.4", 20000, 514, 9, 2, 200, 42},
	    {4, 47, "10.1.0.5", "10.2.0.5", 0, 0, 3, 1, 64, 0},
	};
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]) && !rc; i++) {
		int total = fl[i].fwd + fl[i].rev;
		int sent_f = 0, sent_r = 0;
		for (int k = 0; k < total && !rc; k++) {
			/* Alternate while both sides have packets left. */
			bool fwd = (k % 2 == 0 && sent_f < fl[i].fwd) || sent_r >= fl[i].rev;
			struct craft c = {.ip_version = fl[i].v, .proto = fl[i].proto};
			c.src = fwd ? fl[i].a : fl[i].b;
			c.dst = fwd ? fl[i].b : fl[i].a;
			c.sport = fwd ? fl[i].pa : fl[i].pb;
			c.dport = fwd ? fl[i].pb : fl[i].pa;
			c.payload = fl[i].payload + (size_t)k * 3;
			if (fl[i].proto == 6) {
				c.tcp_flags = k == 0 ? 0x02 : k == 1 ? 0x12 : 0x18;
				/* FIN from the initiator, RST from the responder:
				 * the directions' flags differ. */
				if (k >= total - 2)
					c.tcp_flags = fwd ? 0x11 : 0x14;
			}
			if (fl[i].proto == 1 || fl[i].proto == 58) {
				bool v6 = fl[i].proto == 58;
				c.icmp_type = fwd ? (v6 ? 128 : 8) : (v6 ? 129 : 0);
				c.icmp_id = fl[i].pa;
				c.sport = c.dport = 0;
			}
			if (fl[i].vlan) {
				/* Replies come back on the next VLAN (routed). */
				c.vlans[0] = (uint16_t)(fl[i].vlan + (fwd ? 0 : 1));
				c.nvlans = 1;
			}
			rc = emit(w, &c, t, NULL);
			t += 7 * MSEC;
			if (fwd)
				sent_f++;
			else
				sent_r++;
		}
		t += 150 * MSEC;
	}
	int crc = craft_writer_close(w);
	return rc ? rc : crc;
}

/* ---- export: capture -> flow table -> IPFIX ---- */

struct tee {
	struct ipfix_exporter *x;
	const struct pseudo *p;
	unsigned long records;
};

static void print_sink(void *arg, const struct flow *in, enum flow_end why)
{
	struct tee *t = arg;
	struct flow ps;
	const struct flow *f = in;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	ipfix_export(t->x, in, why);
	if (t->p) {
		pseudo_flow(t->p, in, &ps);
		f = &ps;
	}
	bool ports = proto_has_ports(f->proto);
	/* ICMP: type and code where the destination port goes, as
	 * icmpTypeCodeIPv4/IPv6 carries them and nfdump shows them. */
	unsigned dport = ports ? f->dport : 0;
	if (proto_is_any_icmp(f->proto))
		dport = (unsigned)f->icmp_type << 8 | f->icmp_code;
	printf("%u,%s,%u,%s,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
	       "\n",
	       f->proto, exp_addr(f->src, a, sizeof(a)), ports ? f->sport : 0,
	       exp_addr(f->dst, b, sizeof(b)), dport, f->packets[0], f->bytes[0], f->packets[1],
	       f->bytes[1], (uint64_t)(f->first_ns / MSEC), (uint64_t)(f->last_ns / MSEC));
	t->records++;
}

static int export(const char *pcap, const char *host_port, const char *domain, const char *keyfile)
{
	struct diag_list *dl = diag_list_new();
	struct pseudo *p = NULL;
	struct cap *cap = NULL;
	struct dec *d = NULL;
	struct flow_table *ft = NULL;
	struct tee t = {0};
	int err = 0, code = 1;
	if (!dl)
		goto out;
	if (keyfile && pseudo_open(keyfile, dl, &p) != 0)
		goto out;
	struct ipfix_config cfg = {.pseudo = p};
	t.x = ipfix_exporter_new(host_port, (uint32_t)strtoul(domain, NULL, 10), &cfg, &err);
	t.p = p;
	if (!t.x) {
		fprintf(stderr, "flowtool: %s: %s\n", host_port, strerror(-err));
		goto out;
	}
	struct flow_config fc = {.sink = print_sink, .sink_arg = &t};
	d = dec_new(NULL);
	if (!d || flow_table_new(&fc, &ft) != 0 || cap_open_offline(pcap, dl, &cap) != 0 ||
	    cap_run(cap, d, ft, dl) != 0)
		goto out;
	dec_flush(d);
	flow_table_flush(ft);
	ipfix_flush(t.x);
	const struct ipfix_stats *s = ipfix_exporter_stats(t.x);
	fprintf(stderr,
		"flowtool: %lu records; ipfix: %" PRIu64 " messages, %" PRIu64 " records, %" PRIu64
		" send errors\n",
		t.records, s->messages, s->records, s->send_errors);
	code = s->send_errors || s->records != t.records ? 1 : 0;
out:
	diag_write(dl, stderr);
	ipfix_exporter_free(t.x);
	cap_close(cap);
	flow_table_free(ft);
	dec_free(d);
	pseudo_free(p);
	diag_list_free(dl);
	return code;
}

/* ---- accuracy: a synthetic capture ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
	/* splitmix64: reproducible for a seed, independent of libc. */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

struct gen_flow {
	int v;
	uint8_t proto;
	char a[48], b[48];
	uint16_t pa, pb;
	uint32_t packets;
	uint64_t start, step;
	uint32_t gap_at; /* packet index after which an idle gap comes; 0 none */
	bool midstream;	 /* TCP without the handshake */
	int nvlans;
	uint16_t vlans[2];
	bool fragments; /* large UDP datagrams sent as fragments */
};

struct gen_pkt {
	uint64_t ts;
	uint32_t flow;
	uint32_t seq;
};

static int pkt_cmp(const void *x, const void *y)
{
	const struct gen_pkt *a = x, *b = y;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->flow != b->flow)
		return a->flow < b->flow ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

#define GAP_NS	    (200 * SEC) /* longer than every idle timeout of the test */
#define SPAN_NS	    (900 * SEC)
#define MAX_PACKETS 3000

static int accuracy(const char *path, uint64_t seed, size_t nflows, const char *features,
		    const char *frags_path)
{
	FILE *frags = NULL;
	bool want_vlan = strstr(features, "vlan") != NULL;
	bool want_qinq = strstr(features, "qinq") != NULL;
	bool want_frag = strstr(features, "frag") != NULL;
	bool want_gap = strstr(features, "gap") != NULL;
	bool want_mid = strstr(features, "midstream") != NULL;
	struct gen_flow *fl = calloc(nflows, sizeof(*fl));
	struct gen_pkt *ev = NULL;
	struct craft_writer *w = NULL;
	size_t nev = 0;
	int rc = -ENOMEM;
	rng = seed;
	if (!fl)
		goto out;
	for (size_t i = 0; i < nflows; i++) {
		struct gen_flow *f = &fl[i];
		double u = uniform();
		f->v = rnd() % 10 < 3 ? 6 : 4;
		f->proto = u < 0.6 ? 6 : u < 0.9 ? 17 : (f->v == 6 ? 58 : 1);
		/* Every flow has its own address pair: ICMP flows are keyed by
		 * addresses only in nfdump. */
		unsigned tag = (unsigned)(rnd() % 10);
		if (tag < 2 && want_qinq) {
			f->nvlans = 2; /* QinQ: 802.1ad outer, 802.1Q inner */
			f->vlans[0] = (uint16_t)(100 + tag);
			f->vlans[1] = (uint16_t)(10 + i % 50);
		} else if (tag >= 2 && tag < 4 && want_vlan) {
			f->nvlans = 1;
			f->vlans[0] = (uint16_t)(10 + i % 50);
		}
		/* QinQ initiators in blocks of their own (10.255/16,
		 * 2001:db8:ff::/48): the comparison finds them there. */
		bool qinq = f->nvlans == 2;
		if (f->v == 4) {
			snprintf(f->a, sizeof(f->a), "10.%zu.%zu.%zu", qinq ? 255 : 1 + i / 65536,
				 i / 256 % 256, i % 256);
			snprintf(f->b, sizeof(f->b), "172.16.%zu.%zu", i / 256 % 256, i % 256);
		} else {
			snprintf(f->a, sizeof(f->a), "2001:db8:%s::%zx", qinq ? "ff" : "a", i + 1);
			snprintf(f->b, sizeof(f->b), "2001:db8:b::%zx", i + 1);
		}
		f->pa = (uint16_t)(1024 + rnd() % 60000);
		/* Not 53: nfpcapd makes every DNS packet a flow of its own. */
		f->pb = f->proto == 6 ? 443 : f->proto == 17 ? 514 : 0;
		if (f->proto == 1 || f->proto == 58)
			f->pa = (uint16_t)(1 + rnd() % 65000); /* echo identifier */
		/* Pareto, shape 1.1: most flows a few packets, some thousands. */
		double size = 2.0 / pow(1.0 - uniform(), 1.0 / 1.1);
		f->packets = size > MAX_PACKETS ? MAX_PACKETS : (uint32_t)size;
		f->start = (uint64_t)(uniform() * 300.0 * SEC);
		f->step = 1 * MSEC + rnd() % (400 * MSEC);
		if (want_gap && f->packets >= 6 && rnd() % 8 == 0)
			f->gap_at = 1 + (uint32_t)(rnd() % (f->packets - 2));
		f->midstream = want_mid && f->proto == 6 && rnd() % 5 == 0;
		/* Not in QinQ: nfpcapd skips those frames anyway. */
		f->fragments = want_frag && f->proto == 17 && f->nvlans < 2 && rnd() % 4 == 0;
		nev += f->packets;
	}
	ev = malloc(nev * sizeof(*ev));
	if (!ev)
		goto out;
	size_t e = 0;
	for (size_t i = 0; i < nflows; i++)
		for (uint32_t s = 0; s < fl[i].packets; s++) {
			uint64_t ts = fl[i].start + s * fl[i].step + s;
			if (fl[i].gap_at && s >= fl[i].gap_at)
				ts += GAP_NS;
			ev[e++] = (struct gen_pkt){ts, (uint32_t)i, s};
		}
	qsort(ev, nev, sizeof(*ev), pkt_cmp);
	rc = craft_writer_open(path, DLT_EN10MB, &w);
	if (frags_path && !rc && !(frags = fopen(frags_path, "w")))
		rc = -errno;
	for (size_t k = 0; k < nev && !rc; k++) {
		const struct gen_flow *f = &fl[ev[k].flow];
		uint32_t s = ev[k].seq;
		bool fwd = s == 0 || rnd() % 5 < 3;
		struct craft c = {.ip_version = f->v, .proto = f->proto};
		c.src = fwd ? f->a : f->b;
		c.dst = fwd ? f->b : f->a;
		c.sport = fwd ? f->pa : f->pb;
		c.dport = fwd ? f->pb : f->pa;
		c.nvlans = f->nvlans;
		memcpy(c.vlans, f->vlans, sizeof(c.vlans));
		/* Sizes: mostly small, a share near the MTU. */
		double u = uniform();
		c.payload = u < 0.5 ? rnd() % 64 : u < 0.8 ? 64 + rnd() % 600 : 1000 + rnd() % 400;
		if (f->proto == 6) {
			c.tcp_flags = 0x10;
			if (!f->midstream && s == 0)
				c.tcp_flags = 0x02;
			else if (!f->midstream && s == 1)
				c.tcp_flags = 0x12;
			else if (c.payload)
				c.tcp_flags = 0x18;
		} else if (f->proto == 1 || f->proto == 58) {
			c.icmp_type = f->proto == 58 ? (fwd ? 128 : 129) : (fwd ? 8 : 0);
			c.icmp_id = f->pa;
			c.sport = c.dport = 0;
		}
		uint64_t ts = T0_NS + ev[k].ts;
		if (f->fragments && rnd() % 3 == 0) {
			/* A datagram in three fragments of 8-byte multiples,
			 * the first with the UDP header (RFC 791, RFC 8200 4.5). */
			uint32_t id = (uint32_t)(rnd() & 0xffff) | 1;
			size_t part = 512, total = 0;
			for (int j = 0; j < 3 && !rc; j++) {
				struct craft g = c;
				g.fragment = true;
				g.frag_id = id;
				g.ip_id = (uint16_t)id;
				g.more_fragments = j < 2;
				/* The first carries the UDP header and part bytes,
				 * the others part + 8 bytes each. */
				g.payload = j == 0 ? part : part + 8;
				g.frag_offset =
				    (uint16_t)(j == 0 ? 0
						      : 8 + part + (size_t)(j - 1) * (part + 8));
				size_t ip_len = 0;
				rc = emit(w, &g, ts + (uint64_t)j, &ip_len);
				total += ip_len;
			}
			/* What nfpcapd makes of it differs by family: the
			 * comparison needs every fragmented datagram. */
			if (frags)
				fprintf(frags, "%d,%s,%u,%s,%u,%" PRIu64 ",3,%zu\n", c.ip_version,
					c.src, c.sport, c.dst, c.dport, (uint64_t)(ts / MSEC),
					total);
			continue;
		}
		rc = emit(w, &c, ts, NULL);
	}
	int crc = craft_writer_close(w);
	w = NULL;
	if (!rc)
		rc = crc;
	size_t gaps = 0;
	for (size_t i = 0; i < nflows; i++)
		gaps += fl[i].gap_at != 0;
	printf("flows %zu gaps %zu datagrams %zu\n", nflows, gaps, nev);
out:
	if (frags && fclose(frags) != 0 && !rc)
		rc = -EIO;
	craft_writer_close(w);
	free(fl);
	free(ev);
	return rc;
}

/* ---- compare: agent biflows against nfdump's unidirectional records ---- */

struct endpoint {
	uint8_t addr[16];
	uint16_t port;
};

struct cflow {
	uint8_t proto;
	struct endpoint src, dst;
	uint64_t first_ms, last_ms;
	uint64_t pkts[2], bytes[2];	    /* the agent's: forward, reverse */
	uint64_t got_pkts[2], got_bytes[2]; /* nfdump's, summed */
	uint64_t adj_pkts[2], adj_bytes[2]; /* fragments nfpcapd counts elsewhere */
	size_t matched;
};

static bool parse_addr(const char *s, uint8_t out[16])
{
	if (!s)
		return false;
	memset(out, 0, 16);
	if (strchr(s, ':'))
		return inet_pton(AF_INET6, s, out) == 1;
	out[10] = out[11] = 0xff;
	return inet_pton(AF_INET, s, out + 12) == 1;
}

/* "2023-11-14T22:13:20.016937757Z" (agent) or "2023-11-14T22:13:20.016"
 * (nfdump, local time: run with TZ=UTC) to ms since the epoch. */
static bool parse_ms(const char *s, uint64_t *out)
{
	struct tm tm = {0};
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return false;
	uint64_t ms = (uint64_t)timegm(&tm) * 1000u;
	if (*rest == '.') {
		unsigned digits = 0, frac = 0;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
			if (digits < 3)
				frac = frac * 10 + (unsigned)(*rest - '0');
		for (; digits < 3; digits++)
			frac *= 10;
		ms += frac;
	}
	*out = ms;
	return true;
}

static uint64_t jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static bool same_ep(const struct endpoint *a, const struct endpoint *b)
{
	return memcmp(a->addr, b->addr, 16) == 0 && a->port == b->port;
}

/* nfpcapd 1.7.1 counts IPv6 fragments as flows of protocol 44 (the
 * fragment header) between the two addresses: totals per direction. */
struct frag6 {
	uint8_t src[16], dst[16];
	uint64_t want_pkts, want_bytes, got_pkts, got_bytes;
};

static struct frag6 *frag6_slot(struct frag6 **tab, size_t *n, const uint8_t src[16],
				const uint8_t dst[16])
{
	for (size_t i = 0; i < *n; i++)
		if (memcmp((*tab)[i].src, src, 16) == 0 && memcmp((*tab)[i].dst, dst, 16) == 0)
			return &(*tab)[i];
	struct frag6 *grown = realloc(*tab, (*n + 1) * sizeof(**tab));
	if (!grown)
		return NULL;
	*tab = grown;
	struct frag6 *f = &grown[(*n)++];
	memset(f, 0, sizeof(*f));
	memcpy(f->src, src, 16);
	memcpy(f->dst, dst, 16);
	return f;
}

static struct cflow *find_flow(struct cflow *fl, size_t n, uint8_t proto, const struct endpoint *s,
			       const struct endpoint *d, uint64_t first, uint64_t last, int *dir)
{
	for (size_t k = 0; k < n; k++) {
		struct cflow *c = &fl[k];
		if (c->proto != proto || first < c->first_ms || last > c->last_ms)
			continue;
		if (same_ep(&c->src, s) && same_ep(&c->dst, d)) {
			*dir = 0;
			return c;
		}
		if (same_ep(&c->src, d) && same_ep(&c->dst, s)) {
			*dir = 1;
			return c;
		}
	}
	return NULL;
}

/* Applies flowtool accuracy's list of fragmented datagrams: IPv4 ones
 * nfpcapd reassembles (one packet, the extra 20-byte headers not counted),
 * IPv6 ones it counts under protocol 44. */
static int apply_frags(const char *path, struct cflow *fl, size_t n, struct frag6 **tab,
		       size_t *ntab)
{
	char line[512];
	FILE *in = fopen(path, "r");
	if (!in)
		return -errno;
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), in)) {
		char *save = NULL, *fld[8];
		int nf = 0;
		for (char *t = strtok_r(line, ",\n", &save); t && nf < 8;
		     t = strtok_r(NULL, ",\n", &save))
			fld[nf++] = t;
		struct endpoint s = {0}, d = {0};
		if (nf != 8 || !parse_addr(fld[1], s.addr) || !parse_addr(fld[3], d.addr)) {
			rc = -EINVAL;
			break;
		}
		s.port = (uint16_t)atoi(fld[2]);
		d.port = (uint16_t)atoi(fld[4]);
		uint64_t ms = strtoull(fld[5], NULL, 10);
		uint64_t k = strtoull(fld[6], NULL, 10), bytes = strtoull(fld[7], NULL, 10);
		int dir;
		struct cflow *c = find_flow(fl, n, 17, &s, &d, ms, ms, &dir);
		if (!c) {
			printf("fragments of %s %s -> %s %s at %" PRIu64 " in no agent flow\n",
			       fld[1], fld[2], fld[3], fld[4], ms);
			rc = -ENOENT;
			break;
		}
		if (atoi(fld[0]) == 4) {
			c->adj_pkts[dir] += k - 1;
			c->adj_bytes[dir] += (k - 1) * 20;
		} else {
			c->adj_pkts[dir] += k;
			c->adj_bytes[dir] += bytes;
			struct frag6 *f = frag6_slot(tab, ntab, s.addr, d.addr);
			if (!f) {
				rc = -ENOMEM;
				break;
			}
			f->want_pkts += k;
			f->want_bytes += bytes;
		}
	}
	fclose(in);
	return rc;
}

static int compare(const char *agent_path, const char *nfdump_path, const char *frags_path)
{
	struct cflow *fl = NULL;
	size_t n = 0, cap = 0, nf_records = 0, diffs = 0;
	json_error_t jerr;
	json_t *nf = NULL;
	struct frag6 *f6 = NULL;
	size_t nf6 = 0;
	int code = 1;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	FILE *in = fopen(agent_path, "r");
	if (!in) {
		fprintf(stderr, "flowtool: %s: %s\n", agent_path, strerror(errno));
		goto out;
	}
	for (;;) {
		json_t *o = json_loadf(in, JSON_DISABLE_EOF_CHECK, &jerr);
		if (!o)
			break;
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			struct cflow *grown = realloc(fl, cap * sizeof(*fl));
			if (!grown) {
				json_decref(o);
				goto out;
			}
			fl = grown;
		}
		struct cflow *c = &fl[n];
		memset(c, 0, sizeof(*c));
		c->proto = (uint8_t)jint(o, "proto");
		bool ok = parse_addr(json_string_value(json_object_get(o, "src")), c->src.addr) &&
			  parse_addr(json_string_value(json_object_get(o, "dst")), c->dst.addr) &&
			  parse_ms(json_string_value(json_object_get(o, "first")), &c->first_ms) &&
			  parse_ms(json_string_value(json_object_get(o, "last")), &c->last_ms);
		c->src.port = (uint16_t)jint(o, "src_port");
		c->dst.port = (uint16_t)jint(o, "dst_port");
		c->pkts[0] = jint(o, "src_packets");
		c->bytes[0] = jint(o, "src_bytes");
		c->pkts[1] = jint(o, "dst_packets");
		c->bytes[1] = jint(o, "dst_bytes");
		json_decref(o);
		if (!ok) {
			fprintf(stderr, "flowtool: %s: record %zu malformed\n", agent_path, n + 1);
			goto out;
		}
		n++;
	}
	if (frags_path && apply_frags(frags_path, fl, n, &f6, &nf6) != 0) {
		fprintf(stderr, "flowtool: %s: cannot apply\n", frags_path);
		goto out;
	}
	nf = json_load_file(nfdump_path, 0, &jerr);
	if (!json_is_array(nf)) {
		fprintf(stderr, "flowtool: %s:%d: %s\n", nfdump_path, jerr.line, jerr.text);
		goto out;
	}
	size_t i;
	json_t *r;
	json_array_foreach(nf, i, r)
	{
		const char *type = json_string_value(json_object_get(r, "type"));
		if (!type || strcmp(type, "FLOW") != 0)
			continue;
		nf_records++;
		struct endpoint s = {0}, d = {0};
		uint64_t first, last;
		uint8_t proto = (uint8_t)jint(r, "proto");
		const char *sa = json_string_value(json_object_get(r, "src4_addr"));
		const char *da = json_string_value(json_object_get(r, "dst4_addr"));
		if (!sa) {
			sa = json_string_value(json_object_get(r, "src6_addr"));
			da = json_string_value(json_object_get(r, "dst6_addr"));
		}
		if (!parse_addr(sa, s.addr) || !parse_addr(da, d.addr) ||
		    !parse_ms(json_string_value(json_object_get(r, "first")), &first) ||
		    !parse_ms(json_string_value(json_object_get(r, "last")), &last)) {
			fprintf(stderr, "flowtool: %s: record %zu malformed\n", nfdump_path, i + 1);
			goto out;
		}
		if (proto_has_ports(proto)) {
			s.port = (uint16_t)jint(r, "src_port");
			d.port = (uint16_t)jint(r, "dst_port");
		}
		if (proto == 44) {
			struct frag6 *f = frag6_slot(&f6, &nf6, s.addr, d.addr);
			if (!f)
				goto out;
			f->got_pkts += jint(r, "in_packets");
			f->got_bytes += jint(r, "in_bytes");
			continue;
		}
		/* The agent's biflow of the same tuple whose time span holds it. */
		int dir = 0;
		struct cflow *hit = find_flow(fl, n, proto, &s, &d, first, last, &dir);
		if (!hit) {
			printf("nfdump-only %u %s %u -> %s %u: %" PRIu64 " packets %" PRIu64
			       " bytes\n",
			       proto, sa, s.port, da, d.port, jint(r, "in_packets"),
			       jint(r, "in_bytes"));
			diffs++;
			continue;
		}
		hit->got_pkts[dir] += jint(r, "in_packets");
		hit->got_bytes[dir] += jint(r, "in_bytes");
		hit->matched++;
	}
	uint64_t agent_only_pkts = 0;
	for (size_t k = 0; k < n; k++) {
		const struct cflow *c = &fl[k];
		exp_addr(c->src.addr, a, sizeof(a));
		exp_addr(c->dst.addr, b, sizeof(b));
		uint64_t left = c->pkts[0] - c->adj_pkts[0] + c->pkts[1] - c->adj_pkts[1];
		if (!c->matched && left == 0)
			continue; /* only IPv6 fragments: counted under protocol 44 */
		if (!c->matched) {
			/* Not a difference by itself: the script decides
			 * (frames nfpcapd skips). */
			printf("agent-only %u %s %u -> %s %u: %" PRIu64 " packets\n", c->proto, a,
			       c->src.port, b, c->dst.port, c->pkts[0] + c->pkts[1]);
			agent_only_pkts += c->pkts[0] + c->pkts[1];
			continue;
		}
		for (int dir = 0; dir < 2; dir++)
			if (c->pkts[dir] - c->adj_pkts[dir] != c->got_pkts[dir] ||
			    c->bytes[dir] - c->adj_bytes[dir] != c->got_bytes[dir]) {
				printf("differ %u %s %u -> %s %u %s: agent %" PRIu64
				       " packets %" PRIu64 " bytes, nfdump %" PRIu64
				       " packets %" PRIu64 " bytes\n",
				       c->proto, a, c->src.port, b, c->dst.port,
				       dir ? "reverse" : "forward", c->pkts[dir] - c->adj_pkts[dir],
				       c->bytes[dir] - c->adj_bytes[dir], c->got_pkts[dir],
				       c->got_bytes[dir]);
				diffs++;
			}
	}
	for (size_t k = 0; k < nf6; k++)
		if (f6[k].want_pkts != f6[k].got_pkts || f6[k].want_bytes != f6[k].got_bytes) {
			printf("differ 44 %s -> %s: fragments %" PRIu64 " packets %" PRIu64
			       " bytes, nfdump %" PRIu64 " packets %" PRIu64 " bytes\n",
			       exp_addr(f6[k].src, a, sizeof(a)), exp_addr(f6[k].dst, b, sizeof(b)),
			       f6[k].want_pkts, f6[k].want_bytes, f6[k].got_pkts, f6[k].got_bytes);
			diffs++;
		}
	printf("summary: %zu agent records, %zu nfdump records, %" PRIu64
	       " agent-only packets, %zu differences\n",
	       n, nf_records, agent_only_pkts, diffs);
	code = diffs ? 1 : 0;
out:
	if (in)
		fclose(in);
	json_decref(nf);
	free(fl);
	free(f6);
	return code;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	int rc;
	if (strcmp(cmd, "interop") == 0 && argc == 3)
		rc = interop(argv[2]);
	else if (strcmp(cmd, "export") == 0 && (argc == 5 || argc == 6))
		return export(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	else if (strcmp(cmd, "compare") == 0 && (argc == 4 || argc == 5))
		return compare(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	else if (strcmp(cmd, "accuracy") == 0 && (argc == 5 || argc == 6 || argc == 7))
		rc = accuracy(argv[2], strtoull(argv[3], NULL, 10), strtoul(argv[4], NULL, 10),
			      argc >= 6 ? argv[5] : "vlan,qinq,frag,gap,midstream",
			      argc == 7 ? argv[6] : NULL);
	else
		return usage();
	if (rc) {
		fprintf(stderr, "flowtool: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}
