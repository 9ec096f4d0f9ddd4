// SPDX-License-Identifier: MIT
#include "craft/traffic.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/proto.h"
#include "craft/craft.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* Payload of a full-sized segment on a 1500-byte path (RFC 879: MTU - 40 - options). */
#define MSS 1448
/* Flows start within this window after TRAFFIC_EPOCH_S. */
#define WINDOW_S 600

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, and the same on every machine. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]; the modulo bias is irrelevant for demo traffic. */
static uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_next(r) % ((uint64_t)hi - lo + 1));
}

/* ------------------------------------------------------------------ */
/* The catalogue */

/* Where a connection goes. */
enum peer {
	PEER_DC_SERVERS,    /* the servers zone of the primary (or fallback) data centre */
	PEER_LOCAL,	    /* a segment of the given zone at this site */
	PEER_INTERNET,	    /* a documentation address */
	PEER_FROM_INTERNET, /* the initiator is on the internet, the responder local */
};

/* Server roles in the data centres: host numbers inside their servers segment. */
enum {
	HOST_DIRECTORY = 10,
	HOST_FILES = 20,
	HOST_WEB = 30,
	HOST_DNS = 53,
	HOST_CALLS = 60,
	HOST_BMS = 70,
};

struct kind {
	const char *name;
	const char *from; /* zone of the initiator (the responder's for PEER_FROM_INTERNET) */
	enum peer peer;
	const char *to; /* zone for PEER_LOCAL */
	unsigned host;	/* responder's host number; 0: a random client host */
	enum traffic_shape shape;
	uint8_t proto;		  /* IPPROTO_*; ICMP is chosen per family */
	uint16_t dport, dport_hi; /* a range picks one port per connection */
	unsigned count;		  /* connections per address family */
	unsigned rounds;
	uint32_t request, response;
	const char *rule; /* the example policy's deciding rule, NULL for the default drop */
	bool accept;
};

/*
 * What the example policy (examples/stuttgart/policy.yaml) is meant to do
 * with each kind; tests/unit/test_traffic.c holds every generated
 * connection against the compiled gateway table.
 */
static const struct kind kinds[] = {
    {"admin-https", "admin", PEER_DC_SERVERS, NULL, HOST_WEB, TRAFFIC_TCP, 6, 443, 0, 4, 4, 600,
     5000, "clients-central-services", true},
    {"admin-smb", "admin", PEER_DC_SERVERS, NULL, HOST_FILES, TRAFFIC_TCP, 6, 445, 0, 3, 5, 300,
     9000, "clients-central-services", true},
    {"admin-kerberos", "admin", PEER_DC_SERVERS, NULL, HOST_DIRECTORY, TRAFFIC_UDP, 17, 88, 0, 2, 1,
     1400, 1300, "clients-central-services", true},
    {"admin-kerberos-tcp", "admin", PEER_DC_SERVERS, NULL, HOST_DIRECTORY, TRAFFIC_TCP, 6, 88, 0, 1,
     1, 1600, 1500, "clients-central-services", true},
    {"admin-ldap", "admin", PEER_DC_SERVERS, NULL, HOST_DIRECTORY, TRAFFIC_TCP, 6, 389, 0, 1, 3,
     200, 1800, "clients-central-services", true},
    {"admin-ldaps", "admin", PEER_DC_SERVERS, NULL, HOST_DIRECTORY, TRAFFIC_TCP, 6, 636, 0, 1, 3,
     250, 2400, "clients-central-services", true},
    {"admin-dns", "admin", PEER_DC_SERVERS, NULL, HOST_DNS, TRAFFIC_UDP, 17, 53, 0, 3, 1, 40, 120,
     "infra-dns-ntp", true},
    {"admin-ping", "admin", PEER_DC_SERVERS, NULL, HOST_FILES, TRAFFIC_ICMP_ECHO, 1, 0, 0, 1, 4, 56,
     56, "clients-central-services", true},
    {"admin-local-smb", "admin", PEER_LOCAL, "servers", 10, TRAFFIC_TCP, 6, 445, 0, 1, 4, 300, 7000,
     "clients-local-servers", true},
    {"admin-print-ipp", "admin", PEER_LOCAL, "printers", 5, TRAFFIC_TCP, 6, 631, 0, 1, 2, 12000,
     400, "print-own-site", true},
    {"admin-print-raw", "admin", PEER_LOCAL, "printers", 6, TRAFFIC_TCP, 6, 9100, 0, 1, 2, 15000, 0,
     "print-own-site", true},
    {"voip-sip", "voip", PEER_DC_SERVERS, NULL, HOST_CALLS, TRAFFIC_UDP, 17, 5060, 0, 2, 1, 700,
     500, "voip-call-servers", true},
    {"voip-sips", "voip", PEER_DC_SERVERS, NULL, HOST_CALLS, TRAFFIC_TCP, 6, 5061, 0, 1, 2, 900,
     600, "voip-call-servers", true},
    {"voip-rtp", "voip", PEER_DC_SERVERS, NULL, HOST_CALLS, TRAFFIC_RTP, 17, 10000, 20000, 1, 40,
     172, 172, "voip-call-servers", true},
    {"bms-bacnet", "bms", PEER_DC_SERVERS, NULL, HOST_BMS, TRAFFIC_UDP, 17, 47808, 0, 2, 1, 24, 60,
     "bms-to-management-servers", true},
    {"bms-modbus", "bms", PEER_DC_SERVERS, NULL, HOST_BMS, TRAFFIC_TCP, 6, 502, 0, 1, 4, 12, 40,
     "bms-to-management-servers", true},
    {"school-https", "school", PEER_INTERNET, NULL, 0, TRAFFIC_TCP, 6, 443, 0, 4, 4, 700, 7000,
     "school-internet", true},
    {"school-dns", "school", PEER_INTERNET, NULL, 0, TRAFFIC_UDP, 17, 53, 0, 2, 1, 40, 140,
     "school-internet", true},
    {"school-print", "school", PEER_LOCAL, "printers", 5, TRAFFIC_TCP, 6, 631, 0, 1, 2, 10000, 400,
     "print-own-site", true},
    {"guest-https", "guest", PEER_INTERNET, NULL, 0, TRAFFIC_TCP, 6, 443, 0, 3, 4, 600, 7000,
     "guest-internet", true},
    {"guest-dns", "guest", PEER_INTERNET, NULL, 0, TRAFFIC_UDP, 17, 53, 0, 1, 1, 40, 130,
     "guest-internet", true},
    {"mgmt-ssh", "mgmt", PEER_LOCAL, "bms", 10, TRAFFIC_TCP, 6, 22, 0, 1, 6, 120, 600,
     "mgmt-everywhere", true},
    {"mgmt-snmp", "mgmt", PEER_LOCAL, "printers", 5, TRAFFIC_UDP, 17, 161, 0, 1, 1, 60, 300,
     "mgmt-everywhere", true},
    /* Denied by the example policy. */
    {"guest-to-servers", "guest", PEER_DC_SERVERS, NULL, HOST_FILES, TRAFFIC_TCP_SYN, 6, 445, 0, 1,
     0, 0, 0, "guest-apart", false},
    {"school-to-admin", "school", PEER_LOCAL, "admin", 0, TRAFFIC_TCP_RESET, 6, 445, 0, 1, 0, 0, 0,
     "school-apart", false},
    {"school-to-servers", "school", PEER_DC_SERVERS, NULL, HOST_WEB, TRAFFIC_TCP_RESET, 6, 443, 0,
     1, 0, 0, 0, "school-apart", false},
    {"bms-to-internet", "bms", PEER_INTERNET, NULL, 0, TRAFFIC_TCP_SYN, 6, 443, 0, 1, 0, 0, 0, NULL,
     false},
    {"admin-to-internet", "admin", PEER_INTERNET, NULL, 0, TRAFFIC_TCP_SYN, 6, 443, 0, 1, 0, 0, 0,
     NULL, false},
    {"internet-to-rdp", "admin", PEER_FROM_INTERNET, NULL, 0, TRAFFIC_TCP_SYN, 6, 3389, 0, 1, 0, 0,
     0, NULL, false},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* ------------------------------------------------------------------ */
/* Segments by site */

struct segidx {
	size_t *first, *count; /* per site, into order */
	size_t *order;	       /* segment indices grouped by site, file order within */
};

static void segidx_free(struct segidx *x)
{
	free(x->first);
	free(x->count);
	free(x->order);
}

static int segidx_build(const struct inventory *inv, struct segidx *x)
{
	size_t *fill = calloc(inv->nsites + 1, sizeof(*fill));
	x->first = calloc(inv->nsites + 1, sizeof(*x->first));
	x->count = calloc(inv->nsites + 1, sizeof(*x->count));
	x->order = malloc((inv->nsegments + 1) * sizeof(*x->order));
	if (!fill || !x->first || !x->count || !x->order) {
		free(fill);
		segidx_free(x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < inv->nsegments; i++)
		x->count[inv->segments[i].site]++;
	for (size_t s = 1; s < inv->nsites; s++)
		x->first[s] = x->first[s - 1] + x->count[s - 1];
	for (size_t i = 0; i < inv->nsegments; i++) {
		size_t s = (size_t)inv->segments[i].site;
		x->order[x->first[s] + fill[s]++] = i;
	}
	free(fill);
	return 0;
}

/* The first segment of site in zone, or NULL. */
static const struct segment *site_segment(const struct inventory *inv, const struct segidx *x,
					  int site, const char *zone)
{
	if (site < 0)
		return NULL;
	for (size_t i = 0; i < x->count[site]; i++) {
		const struct segment *s = &inv->segments[x->order[x->first[site] + i]];
		if (strcmp(s->zone, zone) == 0)
			return s;
	}
	return NULL;
}

static size_t site_zones(const struct inventory *inv, const struct segidx *x, int site)
{
	size_t n = 0;
	for (size_t i = 0; i < x->count[site]; i++) {
		const struct segment *s = &inv->segments[x->order[x->first[site] + i]];
		n += site_segment(inv, x, site, s->zone) == s;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Choosing gateways */

static const enum site_type pick_order[] = {
    SITE_TOWN_HALL,	 SITE_SCHOOL, SITE_OFFICE,  SITE_FIRE_STATION, SITE_LIBRARY,
    SITE_CITIZEN_OFFICE, SITE_DEPOT,  SITE_NURSERY, SITE_MUSEUM,
};
#define NORDER (sizeof(pick_order) / sizeof(pick_order[0]))

struct cand {
	int site;
	bool hub;
	size_t zones;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->hub != y->hub)
		return x->hub ? -1 : 1;
	if (x->zones != y->zones)
		return x->zones > y->zones ? -1 : 1;
	return (x->site > y->site) - (x->site < y->site);
}

size_t traffic_pick_gateways(const struct inventory *inv, size_t n, int *sites)
{
	struct cand *c = calloc(inv->nsites + 1, sizeof(*c));
	struct segidx x = {0};
	size_t at[NORDER], len[NORDER], nc = 0, got = 0;
	if (n > TRAFFIC_MAX_GATEWAYS)
		n = TRAFFIC_MAX_GATEWAYS;
	if (!c || segidx_build(inv, &x) < 0)
		goto out;
	for (size_t t = 0; t < NORDER; t++) {
		at[t] = nc;
		for (size_t s = 0; s < inv->nsites; s++)
			if (inv->sites[s].type == pick_order[t] && x.count[s])
				c[nc++] =
				    (struct cand){(int)s, (inv->sites[s].flags & SITE_F_HUB) != 0,
						  site_zones(inv, &x, (int)s)};
		len[t] = nc - at[t];
		qsort(c + at[t], len[t], sizeof(*c), cand_cmp);
	}
	for (size_t round = 0; got < n; round++) {
		size_t before = got;
		for (size_t t = 0; t < NORDER && got < n; t++)
			if (round < len[t])
				sites[got++] = c[at[t] + round].site;
		if (got == before)
			break;
	}
out:
	segidx_free(&x);
	free(c);
	return got;
}

/* ------------------------------------------------------------------ */
/* Planning a site's connections */

/* Host number n of a segment's prefix, kept off the network and broadcast addresses. */
static struct ip_addr host_in(const struct ip_prefix *p, uint32_t n)
{
	struct ip_addr a;
	unsigned bits = ip_family_bits(p->family) - p->len;
	ip_prefix_first(p, &a);
	if (bits < 32) {
		uint64_t size = 1ULL << bits;
		if (size <= 2)
			return a;
		if (n == 0 || n >= size - 1)
			n = 1 + n % (uint32_t)(size - 2);
	}
	ip_addr_add(&a, n);
	return a;
}

static bool seg_has(const struct segment *s, int family)
{
	return s && (family == 4 ? s->has_v4 : s->has_v6);
}

static const struct ip_prefix *seg_prefix(const struct segment *s, int family)
{
	return family == 4 ? &s->v4 : &s->v6;
}

/* A client's host number: a plausible DHCP range per kind of segment. */
static uint32_t client_host(const char *zone, struct rng *r)
{
	if (strcmp(zone, "admin") == 0)
		return rng_range(r, 20, 219);
	if (strcmp(zone, "school") == 0)
		return rng_range(r, 20, 419);
	if (strcmp(zone, "guest") == 0)
		return rng_range(r, 50, 199);
	if (strcmp(zone, "mgmt") == 0)
		return rng_range(r, 5, 9);
	if (strcmp(zone, "bms") == 0)
		return rng_range(r, 10, 39);
	return rng_range(r, 10, 209);
}

/*
 * An internet address for the demo captures. Not the documentation ranges: the
 * policy puts those in the pseudo-zone `special` (never routed), so traffic
 * "from the internet" must come from ordinary global unicast space.
 */
static struct ip_addr internet_host(int family, struct rng *r)
{
	static const char *const nets[] = {"11.22.33.", "11.44.55.", "11.66.77."};
	char text[IP_PREFIX_STRLEN];
	struct ip_addr a;
	if (family == 4)
		snprintf(text, sizeof(text), "%s%u", nets[rng_range(r, 0, 2)],
			 rng_range(r, 1, 254));
	else
		snprintf(text, sizeof(text), "2a0b:11:%x::%x", rng_range(r, 1, 0xffff),
			 rng_range(r, 1, 0xffff));
	if (ip_addr_parse(text, &a) < 0)
		memset(&a, 0, sizeof(a));
	return a;
}

/* +-25 % around v, so that equal kinds do not give equal flows. */
static uint32_t vary(struct rng *r, uint32_t v)
{
	return v < 4 ? v : rng_range(r, v - v / 4, v + v / 4);
}

static uint64_t site_seed(uint64_t seed, const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	return seed ^ h;
}

struct planner {
	const struct inventory *inv;
	const struct segidx *x;
	int site;
	const struct segment *dc_servers;
	struct rng r;
	struct traffic_plan *p;
	size_t cap;
};

static int add_flow(struct planner *pl, const struct kind *k, int family)
{
	const struct segment *local = site_segment(pl->inv, pl->x, pl->site, k->from);
	const struct segment *resp = k->peer == PEER_DC_SERVERS ? pl->dc_servers
				     : k->peer == PEER_LOCAL
					 ? site_segment(pl->inv, pl->x, pl->site, k->to)
					 : NULL;
	bool needs_resp = k->peer == PEER_DC_SERVERS || k->peer == PEER_LOCAL;
	if (!seg_has(local, family) || (needs_resp && !seg_has(resp, family)))
		return 0;
	if (pl->p->nflows == pl->cap) {
		size_t cap = pl->cap ? 2 * pl->cap : 64;
		struct traffic_flow *v = realloc(pl->p->flows, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		pl->p->flows = v;
		pl->cap = cap;
	}
	struct traffic_flow *f = &pl->p->flows[pl->p->nflows++];
	struct rng *r = &pl->r;
	memset(f, 0, sizeof(*f));
	f->kind = k->name;
	f->expect_rule = k->rule;
	f->expect_accept = k->accept;
	f->shape = k->shape;
	f->proto = k->proto == IPPROTO_ICMP ? proto_icmp_of(family) : k->proto;
	f->vlan = (uint16_t)(local->vlan > 0 ? local->vlan : 0);
	struct ip_addr client = host_in(seg_prefix(local, family), client_host(local->zone, r));
	switch (k->peer) {
	case PEER_DC_SERVERS:
	case PEER_LOCAL:
		f->src = client;
		f->dst = host_in(seg_prefix(resp, family),
				 k->host ? k->host : client_host(resp->zone, r));
		f->rtt_us =
		    k->peer == PEER_LOCAL ? rng_range(r, 200, 800) : rng_range(r, 900, 4000);
		break;
	case PEER_INTERNET:
		f->src = client;
		f->dst = internet_host(family, r);
		f->rtt_us = rng_range(r, 12000, 45000);
		break;
	case PEER_FROM_INTERNET:
		f->src = internet_host(family, r);
		f->dst = client;
		f->rtt_us = rng_range(r, 12000, 45000);
		break;
	}
	if (k->shape == TRAFFIC_RTP) {
		/* RTP uses an even port, RTCP the next odd one (RFC 3550 11). */
		f->sport = (uint16_t)(rng_range(r, k->dport, k->dport_hi - 1) & ~1u);
		f->dport = (uint16_t)(rng_range(r, k->dport, k->dport_hi - 1) & ~1u);
	} else if (k->shape == TRAFFIC_ICMP_ECHO) {
		f->sport = (uint16_t)rng_range(r, 1, 0xffff); /* the echo identifier */
	} else {
		/* The IANA dynamic port range (RFC 6335 6). */
		f->sport = (uint16_t)rng_range(r, 49152, 65535);
		f->dport = k->dport;
	}
	f->icmp_type = k->shape == TRAFFIC_ICMP_ECHO ? (family == 4 ? 8 : 128) : -1;
	f->start_ns = TRAFFIC_EPOCH_S * 1000000000ULL +
		      (uint64_t)rng_range(r, 0, WINDOW_S - 5) * 1000000000ULL +
		      rng_range(r, 0, 999999999);
	f->rounds = k->rounds > 1 ? rng_range(r, k->rounds - k->rounds / 3, k->rounds) : k->rounds;
	f->request = vary(r, k->request);
	f->response = vary(r, k->response);
	if (k->shape == TRAFFIC_RTP)
		f->request = f->response = k->request;
	return 0;
}

void traffic_plan_clear(struct traffic_plan *p)
{
	free(p->flows);
	memset(p, 0, sizeof(*p));
	p->site = -1;
}

int traffic_plan_site(const struct inventory *inv, int site, uint64_t seed,
		      struct traffic_plan *out)
{
	struct segidx x = {0};
	memset(out, 0, sizeof(*out));
	out->site = site;
	if (site < 0 || (size_t)site >= inv->nsites)
		return -EINVAL;
	int r = segidx_build(inv, &x);
	if (r < 0)
		return r;
	if (!x.count[site]) {
		r = -ENOENT;
		goto out;
	}
	int dc = inv->primary_dc >= 0 ? inv->primary_dc : inv->fallback_dc;
	struct planner pl = {.inv = inv,
			     .x = &x,
			     .site = site,
			     .dc_servers = site_segment(inv, &x, dc, "servers"),
			     .r = {site_seed(seed, inv->sites[site].id)},
			     .p = out};
	for (size_t k = 0; k < NKINDS && r == 0; k++)
		for (int family = 4; family <= 6 && r == 0; family += 2)
			for (unsigned i = 0; i < kinds[k].count && r == 0; i++)
				r = add_flow(&pl, &kinds[k], family);
out:
	segidx_free(&x);
	if (r < 0)
		traffic_plan_clear(out);
	return r;
}

/* ------------------------------------------------------------------ */
/* Rendering packets */

struct pkt {
	uint64_t ts;
	size_t seq; /* emission order: keeps equal times stable */
	uint32_t len;
	uint16_t caplen;
	uint8_t data[TRAFFIC_SNAPLEN];
};

struct render {
	struct pkt *v;
	size_t n, cap;
	uint16_t ip_id;
	uint64_t ip_bytes;
	uint8_t frame[65600];
};

/* Emits one packet of f; back: from the responder. 0 or a negative errno. */
static int emit(struct render *rd, const struct traffic_flow *f, bool back, uint64_t ts,
		uint8_t flags, size_t payload, uint8_t icmp_type)
{
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
	ip_addr_format(back ? &f->dst : &f->src, a, sizeof(a));
	ip_addr_format(back ? &f->src : &f->dst, b, sizeof(b));
	struct craft c = {
	    .ip_version = f->src.family,
	    .src = a,
	    .dst = b,
	    .proto = f->proto,
	    .sport = back ? f->dport : f->sport,
	    .dport = back ? f->sport : f->dport,
	    .tcp_flags = flags,
	    .icmp_type = icmp_type,
	    .icmp_id = f->sport,
	    .payload = payload,
	    .vlans = {f->vlan},
	    .nvlans = f->vlan ? 1 : 0,
	    .ip_id = rd->ip_id++,
	};
	struct craft_layout lay;
	size_t len = craft_packet(&c, DLT_EN10MB, rd->frame, sizeof(rd->frame), &lay);
	if (!len)
		return -EINVAL;
	if (rd->n == rd->cap) {
		size_t cap = rd->cap ? 2 * rd->cap : 1024;
		struct pkt *v = realloc(rd->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rd->v = v;
		rd->cap = cap;
	}
	struct pkt *p = &rd->v[rd->n];
	p->ts = ts;
	p->seq = rd->n++;
	p->len = (uint32_t)len;
	p->caplen = (uint16_t)(len < TRAFFIC_SNAPLEN ? len : TRAFFIC_SNAPLEN);
	memcpy(p->data, rd->frame, p->caplen);
	rd->ip_bytes += len - lay.l3;
	return 0;
}

/* Sends bytes as full segments, the last one pushed; returns the time after the last. */
static int send_data(struct render *rd, const struct traffic_flow *f, bool back, uint64_t *t,
		     uint32_t bytes)
{
	int r = 0;
	while (bytes && r == 0) {
		uint32_t n = bytes > MSS ? MSS : bytes;
		bytes -= n;
		r = emit(rd, f, back, *t, TCP_ACK | (bytes ? 0 : TCP_PSH), n, 0);
		*t += 15000; /* 15 us apart: back to back on a gigabit link */
	}
	return r;
}

static int render_flow(struct render *rd, const struct traffic_flow *f, struct rng *r)
{
	uint64_t t = f->start_ns, rtt = (uint64_t)f->rtt_us * 1000;
	int e = 0;
	switch (f->shape) {
	case TRAFFIC_TCP:
		/* RFC 9293 3.5: three-way handshake, data, FIN from each side. */
		e = emit(rd, f, false, t, TCP_SYN, 0, 0);
		if (!e)
			e = emit(rd, f, true, t + rtt, TCP_SYN | TCP_ACK, 0, 0);
		t += rtt + 40000;
		if (!e)
			e = emit(rd, f, false, t, TCP_ACK, 0, 0);
		for (unsigned i = 0; i < f->rounds && !e; i++) {
			t += 20000;
			e = send_data(rd, f, false, &t, f->request);
			t += rtt;
			if (!e && f->response)
				e = send_data(rd, f, true, &t, f->response);
			else if (!e)
				e = emit(rd, f, true, t, TCP_ACK, 0, 0);
			t += 30000;
			if (!e && f->response)
				e = emit(rd, f, false, t, TCP_ACK, 0, 0);
			t += (uint64_t)rng_range(r, 1, 40) * 1000000; /* think time */
		}
		if (!e)
			e = emit(rd, f, false, t, TCP_FIN | TCP_ACK, 0, 0);
		if (!e)
			e = emit(rd, f, true, t + rtt, TCP_FIN | TCP_ACK, 0, 0);
		if (!e)
			e = emit(rd, f, false, t + rtt + 30000, TCP_ACK, 0, 0);
		break;
	case TRAFFIC_TCP_SYN:
		/* Retransmitted after the initial RTO of 1 s, then 2 s (RFC 6298 2, 5.5). */
		e = emit(rd, f, false, t, TCP_SYN, 0, 0);
		if (!e)
			e = emit(rd, f, false, t + 1000000000ULL, TCP_SYN, 0, 0);
		if (!e)
			e = emit(rd, f, false, t + 3000000000ULL, TCP_SYN, 0, 0);
		break;
	case TRAFFIC_TCP_RESET:
		/* nft `reject with tcp reset` answers in the responder's name. */
		e = emit(rd, f, false, t, TCP_SYN, 0, 0);
		if (!e)
			e = emit(rd, f, true, t + rtt / 2, TCP_RST | TCP_ACK, 0, 0);
		break;
	case TRAFFIC_UDP:
		e = emit(rd, f, false, t, 0, f->request, 0);
		if (!e)
			e = emit(rd, f, true, t + rtt, 0, f->response, 0);
		break;
	case TRAFFIC_RTP:
		/* One 20 ms G.711 frame per packet each way (RFC 3551 4.5.14). */
		for (unsigned i = 0; i < f->rounds && !e; i++) {
			uint64_t at = t + (uint64_t)i * 20000000ULL;
			e = emit(rd, f, false, at, 0, f->request, 0);
			if (!e)
				e = emit(rd, f, true, at + rtt / 2, 0, f->response, 0);
		}
		break;
	case TRAFFIC_ICMP_ECHO: {
		uint8_t reply = f->icmp_type == 8 ? 0 : 129;
		for (unsigned i = 0; i < f->rounds && !e; i++) {
			uint64_t at = t + (uint64_t)i * 1000000000ULL;
			e = emit(rd, f, false, at, 0, f->request, (uint8_t)f->icmp_type);
			if (!e)
				e = emit(rd, f, true, at + rtt, 0, f->response, reply);
		}
		break;
	}
	}
	return e;
}

static int pkt_cmp(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* libpcap writes capture files only to a path: write one beside nothing and read it back. */
static int pcap_bytes(const struct render *rd, void **data, size_t *len)
{
	const char *tmpdir = getenv("TMPDIR");
	char *path = NULL;
	struct craft_writer *w = NULL;
	FILE *f = NULL;
	int r = -ENOMEM, fd = -1;
	*data = NULL;
	if (asprintf(&path, "%s/segplan-traffic-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") < 0) {
		path = NULL;
		goto out;
	}
	if ((fd = mkstemp(path)) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = craft_writer_open(path, DLT_EN10MB, &w)) < 0)
		goto out;
	for (size_t i = 0; i < rd->n; i++)
		craft_writer_add(w, rd->v[i].ts, rd->v[i].data, rd->v[i].len, rd->v[i].caplen);
	r = craft_writer_close(w);
	w = NULL;
	struct stat st;
	if (r < 0 || fstat(fd, &st) < 0 || !(f = fdopen(fd, "rb"))) {
		r = r < 0 ? r : -errno;
		goto out;
	}
	fd = -1;
	*len = (size_t)st.st_size;
	if (!(*data = malloc(*len + 1))) {
		r = -ENOMEM;
		goto out;
	}
	r = fread(*data, 1, *len, f) == *len ? 0 : -EIO;
out:
	craft_writer_close(w);
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (path && path[0])
		unlink(path);
	free(path);
	if (r < 0) {
		free(*data);
		*data = NULL;
	}
	return r;
}

int traffic_render(const struct traffic_plan *p, void **data, size_t *len, struct traffic_stats *st)
{
	struct render *rd = calloc(1, sizeof(*rd));
	struct rng r = {0x5e9b1a7ULL ^ (uint64_t)p->nflows};
	int e = 0;
	*data = NULL;
	*len = 0;
	if (!rd)
		return -ENOMEM;
	for (size_t i = 0; i < p->nflows && !e; i++)
		e = render_flow(rd, &p->flows[i], &r);
	if (e)
		goto out;
	qsort(rd->v, rd->n, sizeof(*rd->v), pkt_cmp);
	if ((e = pcap_bytes(rd, data, len)) < 0)
		goto out;
	if (st) {
		st->flows += p->nflows;
		for (size_t i = 0; i < p->nflows; i++) {
			st->expect_accepted += p->flows[i].expect_accept;
			st->expect_denied += !p->flows[i].expect_accept;
		}
		st->packets += rd->n;
		st->bytes += rd->ip_bytes;
		st->file_bytes += *len;
	}
out:
	free(rd->v);
	free(rd);
	return e;
}

int traffic_generate(const struct inventory *inv, size_t n, uint64_t seed, const char *dir,
		     struct traffic_stats *st)
{
	int sites[TRAFFIC_MAX_GATEWAYS];
	struct atomic_batch *b = NULL;
	struct traffic_plan p = {.site = -1};
	void *data = NULL;
	char *path = NULL;
	size_t len, got = traffic_pick_gateways(inv, n, sites);
	int r;
	if (!got)
		return -ENOENT;
	if ((r = mkdir_p(dir)) < 0 || (r = atomic_batch_new(&b)) < 0)
		return r;
	for (size_t i = 0; i < got && r == 0; i++) {
		if ((r = traffic_plan_site(inv, sites[i], seed, &p)) < 0 ||
		    (r = traffic_render(&p, &data, &len, st)) < 0)
			break;
		if (asprintf(&path, "%s/%s.pcap", dir, inv->sites[sites[i]].id) < 0) {
			path = NULL;
			r = -ENOMEM;
			break;
		}
		r = atomic_batch_add(b, path, data, len);
		free(path);
		free(data);
		path = NULL;
		data = NULL;
		traffic_plan_clear(&p);
		if (st && r == 0)
			st->gateways++;
	}
	traffic_plan_clear(&p);
	if (r < 0) {
		atomic_batch_abort(b);
		return r;
	}
	return atomic_batch_commit(b);
}
