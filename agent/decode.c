// SPDX-License-Identifier: MIT
#include "agent/decode.h"

#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/proto.h"

/*
 * The bounds-checked cursor. Every byte taken from a packet goes through
 * these helpers; each returns false (and leaves the cursor alone) when the
 * bytes are not there, so a decoder can never read past the capture.
 */
struct cur {
	const uint8_t *p;
	size_t len;
};

static inline bool cur_u8(struct cur *c, uint8_t *v)
{
	if (c->len < 1)
		return false;
	*v = c->p[0];
	c->p++;
	c->len--;
	return true;
}

static inline bool cur_be16(struct cur *c, uint16_t *v)
{
	if (c->len < 2)
		return false;
	*v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->len -= 2;
	return true;
}

static inline bool cur_be32(struct cur *c, uint32_t *v)
{
	if (c->len < 4)
		return false;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 |
	     (uint32_t)c->p[3];
	c->p += 4;
	c->len -= 4;
	return true;
}

static inline bool cur_copy(struct cur *c, void *dst, size_t n)
{
	if (c->len < n)
		return false;
	memcpy(dst, c->p, n);
	c->p += n;
	c->len -= n;
	return true;
}

static inline bool cur_skip(struct cur *c, size_t n)
{
	if (c->len < n)
		return false;
	c->p += n;
	c->len -= n;
	return true;
}

/* Splits off the next n bytes as their own cursor. */
static inline bool cur_sub(struct cur *c, size_t n, struct cur *sub)
{
	if (c->len < n)
		return false;
	sub->p = c->p;
	sub->len = n;
	c->p += n;
	c->len -= n;
	return true;
}

/* Byte at offset off without consuming it. */
static inline bool cur_peek_u8(const struct cur *c, size_t off, uint8_t *v)
{
	if (off >= c->len)
		return false;
	*v = c->p[off];
	return true;
}

static inline void cur_limit(struct cur *c, size_t n)
{
	if (c->len > n)
		c->len = n;
}

static const char *const reason_names[DEC_R_COUNT] = {
    [DEC_R_TRUNC_LINK] = "truncated_link",
    [DEC_R_UNSUP_LINKTYPE] = "unsupported_linktype",
    [DEC_R_UNSUP_ETHERTYPE] = "unsupported_ethertype",
    [DEC_R_BAD_IP_VERSION] = "bad_ip_version",
    [DEC_R_TRUNC_IPV4] = "truncated_ipv4",
    [DEC_R_BAD_IPV4] = "bad_ipv4_header",
    [DEC_R_TRUNC_IPV6] = "truncated_ipv6",
    [DEC_R_BAD_IPV6] = "bad_ipv6_header",
    [DEC_R_TRUNC_IPV6_EXT] = "truncated_ipv6_ext",
    [DEC_R_BAD_IPV6_EXT] = "bad_ipv6_ext",
    [DEC_R_TRUNC_TRANSPORT] = "truncated_transport",
    [DEC_R_BAD_TRANSPORT] = "bad_transport_header",
    [DEC_R_FRAG_NO_FIRST] = "fragment_without_first",
};

const char *dec_reason_name(enum dec_reason r)
{
	if ((unsigned)r >= DEC_R_COUNT)
		return NULL;
	return reason_names[r];
}

enum {
	ETH_IPV4 = 0x0800,
	ETH_IPV6 = 0x86dd,
	ETH_8021Q = 0x8100,
	ETH_8021AD = 0x88a8,
	ETH_QINQ1 = 0x9100, /* pre-802.1ad stacked tags */
	ETH_QINQ2 = 0x9200,
};

/* More headers than any sane packet carries: a longer chain is an attack on
 * the parser, not traffic (RFC 8200 section 4.1 recommends few). */
#define MAX_EXT_HEADERS 16
/* Stacked VLAN tags followed before giving up on a frame. */
#define MAX_VLAN_TAGS 8

/* ---- fragment cache ---------------------------------------------------- */

/*
 * Non-first fragments carry no transport header (RFC 791 section 2.3,
 * RFC 8200 section 4.5): their ports come from the first fragment. The cache
 * maps (src, dst, proto, id) to what the first fragment carried; a later
 * fragment that arrives first waits in its entry until then. It is
 * set-associative (8 ways) with a fixed size: a full set drops its least
 * recently used entry, so memory is bounded whatever arrives.
 */
#define FRAG_WAYS 8

enum { FE_EMPTY, FE_FIRST, FE_PENDING };

struct frag_ent {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint8_t key_proto; /* IPv4 protocol; 0 for IPv6 (RFC 8200 keys on src, dst, id) */
	uint8_t state;
	uint8_t proto; /* upper-layer protocol from the first fragment */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t sport;
	uint16_t dport;
	uint16_t icmp_id;
	uint32_t held_packets;
	uint64_t held_bytes;
	uint64_t held_first_ns;
	uint64_t held_last_ns;
	uint64_t touched_ns;
};

struct frag_key {
	const uint8_t *src;
	const uint8_t *dst;
	uint32_t id;
	uint8_t proto;
};

struct dec {
	struct dec_stats st;
	struct frag_ent *frag;
	size_t frag_sets; /* power of two */
	uint64_t frag_timeout_ns;
	uint64_t now_ns;
	uint64_t last_sweep_ns;
	uint32_t seed; /* random: crafted fragments cannot aim at one set */
};

struct dec *dec_new(const struct dec_config *cfg)
{
	struct dec *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	size_t want = cfg && cfg->frag_entries ? cfg->frag_entries : 1024;
	if (want > (1u << 20))
		want = 1u << 20;
	size_t sets = 1;
	while (sets * FRAG_WAYS < want)
		sets <<= 1;
	d->frag_sets = sets;
	d->frag_timeout_ns =
	    cfg && cfg->frag_timeout_ns ? cfg->frag_timeout_ns : 30ull * 1000000000ull;
	d->frag = calloc(sets * FRAG_WAYS, sizeof(*d->frag));
	if (!d->frag) {
		free(d);
		return NULL;
	}
	if (getrandom(&d->seed, sizeof(d->seed), GRND_NONBLOCK) != sizeof(d->seed))
		d->seed = (uint32_t)(uintptr_t)d;
	return d;
}

void dec_free(struct dec *d)
{
	if (!d)
		return;
	free(d->frag);
	free(d);
}

const struct dec_stats *dec_stats(const struct dec *d)
{
	return &d->st;
}

static size_t frag_set(const struct dec *d, const struct frag_key *k)
{
	/* FNV-1a: fragments are rare, the key short. */
	uint32_t h = 2166136261u ^ d->seed;
	for (int i = 0; i < 16; i++)
		h = (h ^ k->src[i]) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ k->dst[i]) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((k->id >> (8 * i)) & 0xff)) * 16777619u;
	h = (h ^ k->proto) * 16777619u;
	return (h ^ (h >> 15)) & (d->frag_sets - 1);
}

static bool frag_match(const struct frag_ent *e, const struct frag_key *k)
{
	return e->state != FE_EMPTY && e->id == k->id && e->key_proto == k->proto &&
	       memcmp(e->src, k->src, 16) == 0 && memcmp(e->dst, k->dst, 16) == 0;
}

/* Empties an entry; its held fragments are accounted as never attributed. */
static void frag_drop(struct dec *d, struct frag_ent *e)
{
	if (e->state == FE_PENDING) {
		d->st.reasons[DEC_R_FRAG_NO_FIRST] += e->held_packets;
		d->st.held -= e->held_packets;
	}
	memset(e, 0, sizeof(*e));
}

static bool frag_expired(const struct dec *d, const struct frag_ent *e)
{
	return e->state != FE_EMPTY && d->now_ns - e->touched_ns >= d->frag_timeout_ns;
}

static struct frag_ent *frag_find(struct dec *d, const struct frag_key *k)
{
	struct frag_ent *set = d->frag + frag_set(d, k) * FRAG_WAYS;
	for (int i = 0; i < FRAG_WAYS; i++) {
		if (!frag_match(&set[i], k))
			continue;
		if (frag_expired(d, &set[i])) {
			frag_drop(d, &set[i]);
			return NULL;
		}
		return &set[i];
	}
	return NULL;
}

static struct frag_ent *frag_insert(struct dec *d, const struct frag_key *k)
{
	struct frag_ent *set = d->frag + frag_set(d, k) * FRAG_WAYS;
	struct frag_ent *victim = NULL;
	for (int i = 0; i < FRAG_WAYS; i++) {
		struct frag_ent *e = &set[i];
		if (e->state == FE_EMPTY || frag_expired(d, e)) {
			victim = e;
			break;
		}
		if (!victim || e->touched_ns < victim->touched_ns)
			victim = e;
	}
	if (victim->state != FE_EMPTY && !frag_expired(d, victim))
		d->st.frag_evicted++;
	frag_drop(d, victim);
	memcpy(victim->src, k->src, 16);
	memcpy(victim->dst, k->dst, 16);
	victim->id = k->id;
	victim->key_proto = k->proto;
	victim->touched_ns = d->now_ns;
	return victim;
}

static void frag_sweep(struct dec *d)
{
	size_t n = d->frag_sets * FRAG_WAYS;
	for (size_t i = 0; i < n; i++)
		if (frag_expired(d, &d->frag[i]))
			frag_drop(d, &d->frag[i]);
	d->last_sweep_ns = d->now_ns;
}

void dec_flush(struct dec *d)
{
	size_t n = d->frag_sets * FRAG_WAYS;
	for (size_t i = 0; i < n; i++)
		frag_drop(d, &d->frag[i]);
}

/* A non-first fragment: attributed from the cache, or held until its first. */
static int frag_later(struct dec *d, const struct frag_key *k, uint64_t ts_ns, struct dec_pkt *out)
{
	struct frag_ent *e = frag_find(d, k);
	if (e && e->state == FE_FIRST) {
		out->proto = e->proto;
		out->sport = e->sport;
		out->dport = e->dport;
		out->icmp_type = e->icmp_type;
		out->icmp_code = e->icmp_code;
		out->icmp_id = e->icmp_id;
		e->touched_ns = d->now_ns;
		return DEC_OK;
	}
	if (!e) {
		e = frag_insert(d, k);
		e->state = FE_PENDING;
		e->held_first_ns = ts_ns;
		e->held_last_ns = ts_ns;
	}
	e->held_packets++;
	e->held_bytes += out->ip_len;
	if (ts_ns < e->held_first_ns)
		e->held_first_ns = ts_ns;
	if (ts_ns > e->held_last_ns)
		e->held_last_ns = ts_ns;
	e->touched_ns = d->now_ns;
	d->st.held++;
	return DEC_HELD;
}

/* A decoded first fragment: remembered, and releases what waited for it. */
static void frag_first(struct dec *d, const struct frag_key *k, struct dec_pkt *out)
{
	struct frag_ent *e = frag_find(d, k);
	if (!e)
		e = frag_insert(d, k);
	if (e->state == FE_PENDING) {
		out->held_packets = e->held_packets;
		out->held_bytes = e->held_bytes;
		out->held_first_ns = e->held_first_ns;
		out->held_last_ns = e->held_last_ns;
		d->st.held -= e->held_packets;
		d->st.decoded += e->held_packets;
		e->held_packets = 0;
		e->held_bytes = 0;
	}
	e->state = FE_FIRST;
	e->proto = out->proto;
	e->sport = out->sport;
	e->dport = out->dport;
	e->icmp_type = out->icmp_type;
	e->icmp_code = out->icmp_code;
	e->icmp_id = out->icmp_id;
	e->touched_ns = d->now_ns;
}

/* ---- transport --------------------------------------------------------- */

/*
 * The rest of a header that starts with ports; h holds its fixed part
 * (core/proto.h's hdr_len) after the two ports, c what follows it.
 */
static int dec_after_ports(struct cur *c, struct cur *h, size_t declared, struct dec_pkt *out)
{
	switch (out->proto) {
	case IPPROTO_TCP: {
		uint8_t off, flags;
		if (!cur_skip(h, 8) || !cur_u8(h, &off) || !cur_u8(h, &flags))
			return DEC_R_TRUNC_TRANSPORT;
		/* Data offset counts 32-bit words; the header has at least 5. */
		if ((off >> 4) < 5 || (size_t)(off >> 4) * 4 > declared)
			return DEC_R_BAD_TRANSPORT;
		out->tcp_flags = flags;
		return DEC_OK;
	}
	case IPPROTO_DCCP: {
		/* RFC 4340 5.1: Data Offset (32-bit words), CCVal and CsCov,
		 * checksum, then Res, Type and X. With X = 1 (extended sequence
		 * numbers) the generic header is 16 bytes, else 12. A receiver
		 * ignores a packet whose Data Offset is below the header or past
		 * the packet. */
		uint8_t off, type_x;
		if (!cur_u8(h, &off) || !cur_skip(h, 3) || !cur_u8(h, &type_x))
			return DEC_R_TRUNC_TRANSPORT;
		size_t hlen = type_x & 1 ? 16 : 12;
		if (hlen > 12 && !cur_skip(c, hlen - 12))
			return DEC_R_TRUNC_TRANSPORT;
		if ((size_t)off * 4 < hlen || (size_t)off * 4 > declared)
			return DEC_R_BAD_TRANSPORT;
		return DEC_OK;
	}
	default:
		/* UDP (RFC 768), UDP-Lite (RFC 3828 3.1), SCTP's common header
		 * (RFC 9260 3.1): nothing a flow needs after the ports. */
		return DEC_OK;
	}
}

/*
 * Transport header: every protocol with ports in core/proto.h (TCP, RFC 9293
 * section 3.1; UDP, RFC 768; DCCP, RFC 4340 section 5.1; SCTP, RFC 9260
 * section 3.1; UDP-Lite, RFC 3828 section 3.1), ICMP (RFC 792) and ICMPv6
 * (RFC 4443). The fixed header must be captured in full; options and payload
 * need not be. declared is the transport length the IP header announces.
 */
static int dec_transport(struct cur *c, size_t declared, struct dec_pkt *out)
{
	const struct proto *pr = proto_get(out->proto);
	if (pr && pr->ports) {
		struct cur h;
		if (!cur_sub(c, pr->hdr_len, &h) || !cur_be16(&h, &out->sport) ||
		    !cur_be16(&h, &out->dport))
			return DEC_R_TRUNC_TRANSPORT;
		return dec_after_ports(c, &h, declared, out);
	}
	switch (out->proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		bool v6 = out->proto == IPPROTO_ICMPV6;
		if ((out->ip_version == 6) != v6)
			return DEC_OK; /* ICMP over IPv6 or vice versa: no ports to find */
		/* Every ICMP message has 8 bytes of header (RFC 792); ICMPv6 has
		 * 4, plus the identifier for echo messages (RFC 4443 4.1). */
		struct cur h = *c;
		if (c->len < (v6 ? 4u : 8u) || !cur_u8(&h, &out->icmp_type) ||
		    !cur_u8(&h, &out->icmp_code) || !cur_skip(&h, 2))
			return DEC_R_TRUNC_TRANSPORT;
		/* Echo messages: identifier and sequence number complete the
		 * 8-byte header in both versions. */
		if (proto_icmp_is_query(v6 ? 6 : 4, out->icmp_type) &&
		    (c->len < 8 || !cur_be16(&h, &out->icmp_id)))
			return DEC_R_TRUNC_TRANSPORT;
		return DEC_OK;
	}
	default:
		return DEC_OK;
	}
}

/* ---- network layer ----------------------------------------------------- */

static void map_v4(uint8_t dst[16], const uint8_t v4[4])
{
	memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	memcpy(dst + 12, v4, 4);
}

/* IPv4 options (RFC 791 section 3.1): single-byte EOL and NOP, otherwise
 * type, length (counting both), data. A length that does not fit is bad. */
static bool ipv4_options_ok(struct cur o)
{
	uint8_t type, len;
	while (cur_u8(&o, &type)) {
		if (type == 0)
			return true;
		if (type == 1)
			continue;
		if (!cur_u8(&o, &len) || len < 2 || !cur_skip(&o, (size_t)len - 2))
			return false;
	}
	return true;
}

/* What an IPv6 next header value starts (RFC 8200 section 4, the IANA
 * registry of extension headers): one more extension header, the fragment
 * header, or the upper layer. ESP (RFC 4303) and No Next Header count as the
 * upper layer: nothing after them is readable. */
enum { V6_EXT, V6_FRAGMENT, V6_UPPER };

static int ipv6_header_kind(uint8_t nh)
{
	/* The headers Linux walks past to the upper-layer protocol (ipv6_ext_hdr():
	 * what nftables' meta l4proto and conntrack see), so that the agent judges
	 * the protocol the gateway judged. Mobility (RFC 6275), HIP, shim6 and the
	 * experimental 253/254 (RFC 7045 lists them as extension headers too) are
	 * upper-layer protocols to the kernel, and here. */
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
		return V6_EXT;
	case IPPROTO_FRAGMENT:
		return V6_FRAGMENT;
	default:
		return V6_UPPER;
	}
}

/* Next header and length of an extension header, not consumed: generic ones
 * are (length + 1) * 8 bytes (RFC 8200 section 4), AH counts 32-bit words
 * minus 2 (RFC 4302 section 2.2). False when cut short. */
static bool ipv6_ext_len(const struct cur *h, uint8_t nh, uint8_t *next, size_t *elen)
{
	uint8_t l;
	if (!cur_peek_u8(h, 0, next) || !cur_peek_u8(h, 1, &l))
		return false;
	*elen = nh == IPPROTO_AH ? ((size_t)l + 2) * 4 : ((size_t)l + 1) * 8;
	return true;
}

/* ---- the packet an ICMP error quotes ----------------------------------- */

/* Error messages: destination unreachable, source quench, redirect, time
 * exceeded, parameter problem (RFC 792); every ICMPv6 type below 128 (RFC
 * 4443 section 2.1). The same ones Linux conntrack looks up as RELATED
 * (icmp_is_err() in nf_conntrack_proto_icmp.c, nf_conntrack_icmpv6_error()). */
static bool icmp_is_error(uint8_t type, bool v6)
{
	if (v6)
		return type < 128;
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The quoted IPv4 header (RFC 791 section 3.1). Its total length is the
 * original datagram's, not what was quoted; only the header must be there.
 * A non-first fragment carries no transport header to name a connection. */
static bool quote_ipv4(struct cur *c, struct dec_quote *q)
{
	struct cur h;
	uint8_t vihl, a[4], b[4];
	uint16_t frag;
	if (!cur_peek_u8(c, 0, &vihl) || vihl >> 4 != 4 || (vihl & 0xf) < 5 ||
	    !cur_sub(c, (size_t)(vihl & 0xf) * 4, &h) || !cur_skip(&h, 6) || !cur_be16(&h, &frag) ||
	    !cur_skip(&h, 1) || !cur_u8(&h, &q->proto) || !cur_skip(&h, 2) || !cur_copy(&h, a, 4) ||
	    !cur_copy(&h, b, 4) || (frag & 0x1fff) != 0)
		return false;
	map_v4(q->src, a);
	map_v4(q->dst, b);
	return true;
}

/* The quoted IPv6 header and its extension headers (RFC 8200 sections 3, 4). */
static bool quote_ipv6(struct cur *c, struct dec_quote *q)
{
	uint8_t v, nh, next;
	uint16_t offm;
	size_t elen;
	if (!cur_peek_u8(c, 0, &v) || v >> 4 != 6 || !cur_skip(c, 6) || !cur_u8(c, &nh) ||
	    !cur_skip(c, 1) || !cur_copy(c, q->src, 16) || !cur_copy(c, q->dst, 16))
		return false;
	for (int n = 0; n < MAX_EXT_HEADERS; n++, nh = next) {
		switch (ipv6_header_kind(nh)) {
		case V6_EXT:
			if (!ipv6_ext_len(c, nh, &next, &elen) || !cur_skip(c, elen))
				return false;
			break;
		case V6_FRAGMENT:
			if (!cur_u8(c, &next) || !cur_skip(c, 1) || !cur_be16(c, &offm) ||
			    !cur_skip(c, 4) || (offm & 0xfff8) != 0)
				return false;
			break;
		default:
			q->proto = nh;
			return true;
		}
	}
	return false;
}

/*
 * An error's quote: after the 8-byte header, the invoking packet's IP header
 * and at least 8 bytes of its payload (RFC 792; RFC 1812 section 4.3.2.3
 * allows more), or as much of it as fits (RFC 4443 sections 2.4 and 3).
 * Those 8 bytes hold the ports of TCP, UDP, DCCP, UDP-Lite and SCTP (RFC
 * 9293, 768, 4340, 3828, 9260: the first 4 bytes) and the identifier of an
 * ICMP query. Anything else quoted (another error, the other IP version) names
 * no connection, as in conntrack, whose lookup needs the quote's tuple.
 */
static void dec_quote(struct cur c, struct dec_pkt *out)
{
	struct dec_quote q;
	bool v6 = out->ip_version == 6;
	memset(&q, 0, sizeof(q));
	if (!cur_skip(&c, 8) || !(v6 ? quote_ipv6(&c, &q) : quote_ipv4(&c, &q)))
		return;
	switch (q.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_DCCP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		if (!cur_be16(&c, &q.sport) || !cur_be16(&c, &q.dport))
			return;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((q.proto == IPPROTO_ICMPV6) != v6 || !cur_u8(&c, &q.icmp_type) ||
		    !cur_u8(&c, &q.icmp_code) || !proto_icmp_is_query(v6 ? 6 : 4, q.icmp_type) ||
		    !cur_skip(&c, 2) || !cur_be16(&c, &q.icmp_id))
			return;
		break;
	default:
		break;
	}
	q.valid = true;
	out->quote = q;
}

/* The transport header, and for an ICMP error the packet it quotes: the
 * quote is read for errors only, so other packets pay one comparison. */
static int dec_l4(struct cur *c, size_t declared, struct dec_pkt *out)
{
	struct cur l4 = *c;
	int r = dec_transport(c, declared, out);
	bool v6 = out->ip_version == 6;
	if (r != DEC_OK || out->proto != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) ||
	    !icmp_is_error(out->icmp_type, v6))
		return r;
	out->icmp_error = true;
	dec_quote(l4, out);
	return r;
}

/*
 * IPv4 (RFC 791 section 3.1). The byte count is the total length field;
 * Ethernet padding after it is not part of the packet. A total length of 0
 * is what Linux puts in GRO/TSO super-packets over 64 KiB ("BIG TCP"): then
 * the length on the wire counts. A total length above what was on the wire
 * is clamped to it. The checksum is not verified: with checksum offload,
 * locally sent packets are captured before the NIC fills it in.
 */
static int dec_ipv4(struct dec *d, struct cur *c, size_t wire, uint64_t ts_ns, struct dec_pkt *out)
{
	struct cur h = *c;
	uint8_t vihl, proto;
	uint16_t total, id, frag;
	uint8_t a[4], b[4];
	if (c->len < 20 || !cur_u8(&h, &vihl) || !cur_skip(&h, 1) || !cur_be16(&h, &total) ||
	    !cur_be16(&h, &id) || !cur_be16(&h, &frag) || !cur_skip(&h, 1) || !cur_u8(&h, &proto) ||
	    !cur_skip(&h, 2) || !cur_copy(&h, a, 4) || !cur_copy(&h, b, 4))
		return DEC_R_TRUNC_IPV4;
	if (vihl >> 4 != 4 || (vihl & 0xf) < 5)
		return DEC_R_BAD_IPV4;
	size_t hlen = (size_t)(vihl & 0xf) * 4;
	struct cur opts;
	if (!cur_sub(&h, hlen - 20, &opts))
		return DEC_R_TRUNC_IPV4;
	if (total != 0 && total < hlen)
		return DEC_R_BAD_IPV4;
	if (!ipv4_options_ok(opts))
		return DEC_R_BAD_IPV4;
	size_t ip_len = total ? total : wire;
	if (ip_len > wire)
		ip_len = wire;
	if (ip_len < hlen)
		ip_len = hlen;
	out->ip_version = 4;
	out->ip_len = (uint32_t)ip_len;
	out->proto = proto;
	map_v4(out->src, a);
	map_v4(out->dst, b);
	cur_limit(&h, ip_len - hlen);

	bool more = frag & 0x2000;
	size_t offset = (size_t)(frag & 0x1fff) * 8;
	if (!more && offset == 0)
		return dec_l4(&h, ip_len - hlen, out);
	out->fragment = true;
	struct frag_key k = {out->src, out->dst, id, proto};
	if (offset != 0)
		return frag_later(d, &k, ts_ns, out);
	int r = dec_l4(&h, ip_len - hlen, out);
	if (r == DEC_OK)
		frag_first(d, &k, out);
	return r;
}

/*
 * IPv6 (RFC 8200 section 3) and its extension headers (section 4): the
 * generic ones are (length + 1) * 8 bytes; AH counts 32-bit words minus 2
 * (RFC 4302 section 2.2); the fragment header is 8 bytes (section 4.5).
 * ESP (RFC 4303) and No Next Header end the walk: nothing after them is
 * readable. A payload length of 0 is a jumbogram (RFC 2675) or a GRO/BIG TCP
 * super-packet: the wire length counts.
 */
static int dec_ipv6(struct dec *d, struct cur *c, size_t wire, uint64_t ts_ns, struct dec_pkt *out)
{
	struct cur h = *c;
	uint8_t v, nh;
	uint16_t plen;
	if (c->len < 40 || !cur_u8(&h, &v) || !cur_skip(&h, 3) || !cur_be16(&h, &plen) ||
	    !cur_u8(&h, &nh) || !cur_skip(&h, 1) || !cur_copy(&h, out->src, 16) ||
	    !cur_copy(&h, out->dst, 16))
		return DEC_R_TRUNC_IPV6;
	if (v >> 4 != 6)
		return DEC_R_BAD_IPV6;
	size_t ip_len = plen ? 40 + (size_t)plen : wire;
	if (ip_len > wire)
		ip_len = wire;
	if (ip_len < 40)
		ip_len = 40;
	out->ip_version = 6;
	out->ip_len = (uint32_t)ip_len;
	cur_limit(&h, ip_len - 40);
	size_t declared = ip_len - 40;

	bool first_frag = false;
	struct frag_key k = {out->src, out->dst, 0, 0};
	for (int n = 0;; n++) {
		size_t elen;
		uint8_t next;
		switch (ipv6_header_kind(nh)) {
		case V6_EXT:
			if (!ipv6_ext_len(&h, nh, &next, &elen))
				return DEC_R_TRUNC_IPV6_EXT;
			break;
		case V6_FRAGMENT: {
			struct cur f;
			uint16_t offm;
			uint32_t id;
			if (!cur_sub(&h, 8, &f) || !cur_u8(&f, &next) || !cur_skip(&f, 1) ||
			    !cur_be16(&f, &offm) || !cur_be32(&f, &id))
				return DEC_R_TRUNC_IPV6_EXT;
			declared = declared >= 8 ? declared - 8 : 0;
			if (n >= MAX_EXT_HEADERS)
				return DEC_R_BAD_IPV6_EXT;
			nh = next;
			/* Offset 0 without M is an atomic fragment (RFC 6946):
			 * a whole packet, nothing to reassemble. */
			if ((offm & 0xfff8) == 0 && !(offm & 1))
				continue;
			out->fragment = true;
			k.id = id;
			if (offm & 0xfff8) {
				out->proto = nh;
				return frag_later(d, &k, ts_ns, out);
			}
			first_frag = true;
			continue;
		}
		default:
			out->proto = nh;
			int r = dec_l4(&h, declared, out);
			if (r == DEC_OK && first_frag)
				frag_first(d, &k, out);
			return r;
		}
		if (n >= MAX_EXT_HEADERS)
			return DEC_R_BAD_IPV6_EXT;
		if (!cur_skip(&h, elen))
			return DEC_R_TRUNC_IPV6_EXT;
		declared = declared >= elen ? declared - elen : 0;
		nh = next;
	}
}

/* ---- link layer -------------------------------------------------------- */

/* 802.1Q tags (IEEE 802.1Q-2018 section 9.6), stacked as 802.1ad S-tags
 * followed by C-tags: TCI (PCP, DEI, 12-bit VID), then the next type. */
static int dec_vlan(struct cur *c, uint16_t *etype, struct dec_pkt *out)
{
	int n = 0;
	while (*etype == ETH_8021Q || *etype == ETH_8021AD || *etype == ETH_QINQ1 ||
	       *etype == ETH_QINQ2) {
		uint16_t tci;
		if (n >= MAX_VLAN_TAGS)
			return DEC_R_UNSUP_ETHERTYPE;
		if (!cur_be16(c, &tci) || !cur_be16(c, etype))
			return DEC_R_TRUNC_LINK;
		if (n++ == 0)
			out->vlan_outer = tci & 0x0fff;
		out->vlan = tci & 0x0fff;
	}
	if (n < 2)
		out->vlan_outer = 0;
	return DEC_OK;
}

static int dec_network(struct dec *d, uint16_t etype, struct cur *c, size_t wire, uint64_t ts_ns,
		       struct dec_pkt *out)
{
	if (etype == ETH_IPV4)
		return dec_ipv4(d, c, wire, ts_ns, out);
	if (etype == ETH_IPV6)
		return dec_ipv6(d, c, wire, ts_ns, out);
	return DEC_R_UNSUP_ETHERTYPE;
}

bool dec_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	default:
		return false;
	}
}

static int dec_link(struct dec *d, int linktype, struct cur *c, size_t caplen, size_t wirelen,
		    uint64_t ts_ns, struct dec_pkt *out)
{
	uint16_t etype;
	uint8_t v;
	switch (linktype) {
	case DLT_EN10MB:
		/* Ethernet II (IEEE 802.3 section 3.2.6): a type below 0x600
		 * is an 802.3 length with an LLC header: not IP here. */
		if (!cur_skip(c, 12) || !cur_be16(c, &etype))
			return DEC_R_TRUNC_LINK;
		break;
	case DLT_LINUX_SLL:
		/* Linux cooked v1 (pcap-linktype(7), LINKTYPE_LINUX_SLL): packet
		 * type, ARPHRD type, address length, 8 address bytes, protocol. */
		if (!cur_skip(c, 14) || !cur_be16(c, &etype))
			return DEC_R_TRUNC_LINK;
		break;
	case DLT_LINUX_SLL2: {
		/* Linux cooked v2 (LINKTYPE_LINUX_SLL2): protocol, reserved,
		 * interface index, ARPHRD type, packet type, address length,
		 * 8 address bytes. */
		struct cur h;
		if (!cur_sub(c, 20, &h) || !cur_be16(&h, &etype) || !cur_skip(&h, 2) ||
		    !cur_be32(&h, &out->ifindex))
			return DEC_R_TRUNC_LINK;
		break;
	}
	case DLT_RAW:
		/* Raw IP (LINKTYPE_RAW): the version nibble tells the family. */
		if (!cur_peek_u8(c, 0, &v))
			return DEC_R_TRUNC_LINK;
		if (v >> 4 == 4)
			etype = ETH_IPV4;
		else if (v >> 4 == 6)
			etype = ETH_IPV6;
		else
			return DEC_R_BAD_IP_VERSION;
		break;
	case DLT_IPV4:
		etype = ETH_IPV4;
		break;
	case DLT_IPV6:
		etype = ETH_IPV6;
		break;
	default:
		return DEC_R_UNSUP_LINKTYPE;
	}
	int r = dec_vlan(c, &etype, out);
	if (r != DEC_OK)
		return r;
	size_t link = caplen - c->len;
	return dec_network(d, etype, c, wirelen - link, ts_ns, out);
}

int dec_packet(struct dec *d, int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
	       uint64_t ts_ns, struct dec_pkt *out)
{
	struct cur c = {data, data ? caplen : 0};
	memset(out, 0, sizeof(*out));
	d->st.read++;
	if (ts_ns > d->now_ns)
		d->now_ns = ts_ns;
	if (d->st.held && d->now_ns - d->last_sweep_ns >= d->frag_timeout_ns)
		frag_sweep(d);
	if (wirelen < c.len)
		wirelen = c.len;
	int r = dec_link(d, linktype, &c, c.len, wirelen, ts_ns, out);
	if (r == DEC_OK)
		d->st.decoded++;
	else if (r >= 0)
		d->st.reasons[r]++;
	return r;
}
