/* SPDX-License-Identifier: MIT */
/*
 * Packet decoding for the agent: link layer (Ethernet with 802.1Q/802.1ad
 * tags, Linux cooked capture v1/v2, raw IP), IPv4 and IPv6 with extension
 * headers and fragments, and the transport fields a flow needs (ports, TCP
 * flags, ICMP type and code; for ICMP errors, the tuple of the packet they
 * quote).
 *
 * Every packet handed to dec_packet() is accounted for exactly once: either
 * it is decoded into a struct dec_pkt, or it is counted under one named
 * reason, or (a non-first fragment that arrived before its first fragment)
 * it is held in the fragment cache until the first fragment attributes it or
 * the cache drops it under DEC_R_FRAG_NO_FIRST. After dec_flush():
 *	read == decoded + sum(reasons).
 */
#ifndef SEGPLAN_AGENT_DECODE_H
#define SEGPLAN_AGENT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a packet was not decoded. The names are part of the stats format. */
enum dec_reason {
	DEC_R_TRUNC_LINK,      /* link-layer header or VLAN tag cut short */
	DEC_R_UNSUP_LINKTYPE,  /* a link type the agent does not decode */
	DEC_R_UNSUP_ETHERTYPE, /* not IPv4/IPv6 (ARP, LLDP, 802.3 LLC, MPLS, ...) */
	DEC_R_BAD_IP_VERSION,  /* raw-IP link whose first nibble is neither 4 nor 6 */
	DEC_R_TRUNC_IPV4,      /* fewer bytes than the IPv4 header (with options) */
	DEC_R_BAD_IPV4,	       /* version, IHL, total length or options invalid */
	DEC_R_TRUNC_IPV6,      /* fewer than 40 bytes of IPv6 header */
	DEC_R_BAD_IPV6,	       /* version or payload length invalid */
	DEC_R_TRUNC_IPV6_EXT,  /* an extension header runs past the data */
	DEC_R_BAD_IPV6_EXT,    /* extension header chain too long */
	DEC_R_TRUNC_TRANSPORT, /* a port protocol's fixed header or ICMP's cut short */
	DEC_R_BAD_TRANSPORT,   /* e.g. TCP or DCCP data offset below the header */
	DEC_R_FRAG_NO_FIRST,   /* non-first fragment whose first fragment never came */
	DEC_R_COUNT
};

/* The stats name of a reason ("truncated_link", ...); NULL when out of range. */
const char *dec_reason_name(enum dec_reason r);

/* Result of dec_packet(): decoded, held, or a reason (>= 0). */
#define DEC_OK	 (-1)
#define DEC_HELD (-2)

/*
 * The packet an ICMP or ICMPv6 error quotes (RFC 792, RFC 4443 section 2.1):
 * sent by the error's receiver, it names the connection the error belongs to.
 * Not valid when the error's quote is cut short, malformed, of the other IP
 * version, a non-first fragment, or an ICMP message other than a query (only
 * those have a tuple, as in Linux conntrack).
 */
struct dec_quote {
	bool valid;
	uint8_t proto;
	uint8_t src[16]; /* IPv4-mapped as in struct dec_pkt */
	uint8_t dst[16];
	uint16_t sport; /* TCP, UDP, SCTP, DCCP, UDP-Lite: the first 4 bytes */
	uint16_t dport;
	uint8_t icmp_type; /* a quoted ICMP/ICMPv6 query: type, code, identifier */
	uint8_t icmp_code;
	uint16_t icmp_id;
};

/* One decoded packet: a plain record. Addresses are 16 bytes; IPv4 ones in
 * the IPv4-mapped form ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2). */
struct dec_pkt {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport; /* protocols with ports (core/proto.h); 0 otherwise */
	uint16_t dport;
	uint16_t icmp_id;  /* identifier of ICMP/ICMPv6 query messages, else 0 */
	uint8_t icmp_type; /* ICMP/ICMPv6 only */
	uint8_t icmp_code;
	bool icmp_error;     /* ICMP types 3, 4, 5, 11, 12; ICMPv6 types below 128 */
	uint8_t proto;	     /* upper-layer protocol (IANA protocol number) */
	uint8_t ip_version;  /* 4 or 6 */
	uint8_t tcp_flags;   /* TCP control bits (FIN 0x01 ... CWR 0x80) */
	bool fragment;	     /* part of a fragmented datagram */
	uint16_t vlan;	     /* innermost 802.1Q VLAN id, 0 when untagged */
	uint16_t vlan_outer; /* outermost tag's VLAN id when stacked (802.1ad) */
	uint32_t ifindex;    /* interface index (SLL2, live capture); 0 unknown */
	uint32_t ip_len;     /* bytes at the IP layer: IP header + payload */
	/* Non-first fragments that arrived before this first fragment and are
	 * now attributed to it: count, bytes and their time span (ns). */
	uint32_t held_packets;
	uint64_t held_bytes;
	uint64_t held_first_ns;
	uint64_t held_last_ns;
	struct dec_quote quote; /* an ICMP error's quoted packet; else not valid */
};

struct dec_config {
	/* Fragment cache entries: rounded up to a power of two, 8 to 2^20;
	 * 0 = 1024. An entry lives this long after its last fragment: 0 =
	 * 30 s, Linux's ipfrag_time (RFC 791 recommends a 15 s initial timer). */
	unsigned frag_entries;
	uint64_t frag_timeout_ns;
};

struct dec_stats {
	uint64_t read;
	uint64_t decoded;
	uint64_t reasons[DEC_R_COUNT];
	uint64_t held;	       /* non-first fragments currently waiting in the cache */
	uint64_t frag_evicted; /* cache entries dropped because the cache was full */
};

struct dec;

/* cfg may be NULL for the defaults. Returns NULL on out of memory. */
struct dec *dec_new(const struct dec_config *cfg);
void dec_free(struct dec *d);

/* Decodes one captured packet of the given libpcap link type (DLT_*).
 * data has caplen bytes; wirelen is the length on the wire (pcap's len,
 * used when the IP header gives no length: GRO/GSO and jumbograms).
 * Returns DEC_OK with *out filled, DEC_HELD, or an enum dec_reason. */
int dec_packet(struct dec *d, int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
	       uint64_t ts_ns, struct dec_pkt *out);

/* Drops every held fragment (counted as DEC_R_FRAG_NO_FIRST): end of input. */
void dec_flush(struct dec *d);

const struct dec_stats *dec_stats(const struct dec *d);

/* True when the libpcap link type is one dec_packet() decodes. */
bool dec_linktype_supported(int linktype);

#endif
