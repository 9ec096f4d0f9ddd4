/* SPDX-License-Identifier: MIT */
/*
 * Demo traffic (docs/demo.md): synthetic but plausible captures of a few
 * site gateways of an inventory, with addresses from its segments.csv, for
 * `segplan demo` to run the agent and the audit on. Each gateway gets the
 * connections of a working morning between its segments, the data-centre
 * servers and the internet: TCP with handshake, request/response data and
 * FIN close, UDP request/response, an RTP stream, ICMP echo, on IPv4 and
 * IPv6; and a few connections the example policy denies. Packets are built
 * by craft/craft.h. The same inventory and seed give byte-identical files:
 * the generator uses its own PRNG (splitmix64) and fixed timestamps.
 *
 * Internet hosts are taken from the documentation ranges (RFC 5737:
 * 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849: 2001:db8::/32):
 * no real host has them, and they lie outside the example's city plan.
 */
#ifndef SEGPLAN_TRAFFIC_H
#define SEGPLAN_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/prefix.h"
#include "inventory/inventory.h"

#define TRAFFIC_DEFAULT_GATEWAYS 3
#define TRAFFIC_MAX_GATEWAYS	 64
/* Bytes kept of each packet, as a capture with `-s 96` keeps: every header
 * the agent reads (at most Ethernet, a VLAN tag, IPv6 and TCP: 78 bytes),
 * not the payload. The wire length is recorded in full. */
#define TRAFFIC_SNAPLEN 96
/* 2026-03-02T08:00:00Z, a Monday morning: the captures' first second. */
#define TRAFFIC_EPOCH_S 1772438400ULL

enum traffic_shape {
	TRAFFIC_TCP,	   /* handshake, request/response rounds, FIN both ways */
	TRAFFIC_TCP_SYN,   /* a SYN sent three times, unanswered (dropped) */
	TRAFFIC_TCP_RESET, /* a SYN answered by a reset (rejected) */
	TRAFFIC_UDP,	   /* request and response */
	TRAFFIC_RTP,	   /* a speech stream both ways, 20 ms packets (RFC 3551) */
	TRAFFIC_ICMP_ECHO, /* echo request and reply (RFC 792, RFC 4443) */
};

/* One connection of a capture, and what the example policy is meant to do with it. */
struct traffic_flow {
	const char *kind;	 /* what it stands for, e.g. "admin-smb" (static text) */
	const char *expect_rule; /* the example policy's deciding rule; NULL: the default drop */
	bool expect_accept;
	enum traffic_shape shape;
	struct ip_addr src, dst; /* the initiator and the responder */
	uint8_t proto;
	uint16_t sport, dport;
	int icmp_type;	   /* the request's type for ICMP/ICMPv6, else -1 */
	uint16_t vlan;	   /* the local end's segment VLAN (0: untagged) */
	uint64_t start_ns; /* since the Unix epoch */
	uint32_t rtt_us;
	unsigned rounds; /* TCP request/response rounds, RTP or echo packets per direction */
	uint32_t request, response; /* payload bytes per round */
};

struct traffic_plan {
	int site; /* inventory index of the gateway */
	struct traffic_flow *flows;
	size_t nflows;
};

struct traffic_stats {
	size_t gateways;
	size_t flows, expect_accepted, expect_denied;
	size_t packets;
	uint64_t bytes; /* IP-layer bytes */
	size_t file_bytes;
};

/*
 * Chooses up to n gateways (n <= TRAFFIC_MAX_GATEWAYS) by site type: a town
 * hall, a school, an office, then a fire station, library, citizen office,
 * depot, nursery and museum, then round again with the next site of each
 * type. Within a type district hubs come first, then sites with more zones,
 * then inventory order. Data centres are never chosen (their traffic is
 * the other end). Fills sites[] and returns how many were chosen.
 */
size_t traffic_pick_gateways(const struct inventory *inv, size_t n, int *sites);

/* The connections of site's capture. 0, -ENOENT when the site has no segment, or -ENOMEM. */
int traffic_plan_site(const struct inventory *inv, int site, uint64_t seed,
		      struct traffic_plan *out);
void traffic_plan_clear(struct traffic_plan *p);

/*
 * Renders a plan as a pcap (Ethernet, nanosecond times) in memory:
 * *data is malloc'ed. Adds to st when not NULL. 0 or a negative errno.
 */
int traffic_render(const struct traffic_plan *p, void **data, size_t *len,
		   struct traffic_stats *st);

/*
 * Writes DIR/<site>.pcap for n gateways chosen by traffic_pick_gateways,
 * all files in one atomic batch (DIR is created when missing). st may be
 * NULL. 0, -ENOENT when the inventory has no site to choose, or a negative
 * errno.
 */
int traffic_generate(const struct inventory *inv, size_t n, uint64_t seed, const char *dir,
		     struct traffic_stats *st);

#endif
