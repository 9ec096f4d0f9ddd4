/* SPDX-License-Identifier: MIT */
/*
 * Builds packets from a description: the unit tests, the fuzzer's seeds and
 * the benchmark's capture generator use it to write captures with known
 * contents. Layouts follow the same RFCs the decoder cites.
 */
#ifndef SEGPLAN_AGENT_CRAFT_H
#define SEGPLAN_AGENT_CRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRAFT_MAX_EXT 8

/* IPv6 extension header kinds craft_packet() can insert. */
enum craft_ext {
	CRAFT_EXT_HOPOPTS = 0,
	CRAFT_EXT_ROUTING = 43,
	CRAFT_EXT_DSTOPTS = 60,
	CRAFT_EXT_AH = 51,
};

struct craft {
	int ip_version;	 /* 4 or 6 */
	const char *src; /* textual addresses of that family */
	const char *dst;
	uint8_t proto;
	uint16_t sport; /* protocols with ports (core/proto.h) */
	uint16_t dport;
	uint8_t tcp_flags;
	bool dccp_short_seq; /* DCCP: X = 0, a 12-byte generic header (else 16) */
	uint8_t icmp_type;   /* ICMP, ICMPv6: the identifier is written for any type */
	uint8_t icmp_code;
	uint16_t icmp_id;
	size_t payload; /* bytes after the transport header */
	/* ICMP/ICMPv6 errors: the quoted packet (e.g. another crafted DLT_RAW
	 * packet, or a part of one), written after the 8-byte header and
	 * before the payload bytes. */
	const uint8_t *quote;
	size_t quote_len;

	/* Link layer details. */
	uint16_t vlans[2]; /* outermost first */
	int nvlans;
	uint16_t outer_tpid; /* tag type of the outer tag when nvlans == 2; 0 = 802.1ad */
	uint16_t sll_protocol_override; /* SLL/SLL2 protocol field; 0 = the IP one */
	uint32_t ifindex;		/* SLL2 */

	/* IPv4 */
	size_t ip_options; /* bytes of NOP options then EOL (multiple of 4, <= 40) */
	uint16_t ip_id;
	bool zero_total_length; /* as in GRO/TSO super-packets */

	/* IPv6 */
	enum craft_ext ext[CRAFT_MAX_EXT];
	int next;

	/* Fragmentation: IPv4 flags/offset, or an IPv6 fragment header after
	 * the other extension headers. An offset above 0 writes no transport
	 * header: payload bytes only. */
	bool fragment;
	bool more_fragments;
	uint16_t frag_offset; /* in bytes, multiple of 8 */
	uint32_t frag_id;
};

/* Where each layer starts in a crafted frame. */
struct craft_layout {
	size_t l3;		       /* IP header */
	size_t ext[CRAFT_MAX_EXT + 1]; /* IPv6 extension headers (fragment last) */
	int next;
	size_t l4; /* transport header (== payload for later fragments) */
	size_t payload;
	size_t len; /* whole frame */
};

/*
 * Writes the frame for a libpcap link type (DLT_EN10MB, DLT_LINUX_SLL,
 * DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6) into buf. Returns its length,
 * or 0 when it does not fit, an address does not parse, or the link type is
 * not one of those. lay may be NULL.
 */
size_t craft_packet(const struct craft *c, int linktype, uint8_t *buf, size_t size,
		    struct craft_layout *lay);

/* Capture files written through libpcap (pcap format, nanosecond times). */
struct craft_writer;

/* 0, -EINVAL (libpcap refused) or -ENOMEM. */
int craft_writer_open(const char *path, int linktype, struct craft_writer **out);
/* Records a packet of wire length len of which the first caplen bytes
 * (at most len) are stored. */
void craft_writer_add(struct craft_writer *w, uint64_t ts_ns, const uint8_t *pkt, size_t len,
		      size_t caplen);
/* Flushes and closes; 0 or -EIO. NULL is a no-op. */
int craft_writer_close(struct craft_writer *w);

#endif
