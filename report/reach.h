/* SPDX-License-Identifier: MIT */
/*
 * How much of the city a policy lets talk to itself: for a service, the ordered
 * pairs of the city's own IPv4 addresses (segments and VPN pools, the gateways'
 * own addresses left out) whose new connection every judging gateway passes,
 * counted exactly. What a stricter policy closes is the difference of two
 * counts (README.md, "What the stage-2 policy closes"; docs/demo.md).
 *
 * Only pairs some site gateway judges count: ends in two different segments,
 * or one end in a segment and the other in a VPN pool. Hosts of one segment
 * reach each other without a gateway, whatever the policy says; a pool's
 * users reach another pool through the VPN gateway, not a site's.
 *
 * The address space is cut into pieces at every boundary the policy can see
 * (segments, pools, data-centre networks, the addresses of every endpoint
 * term: objects, hosts, labels, site groups, exclusions) and at each gateway's
 * own addresses. Pieces with the same zone, data-centre flag and term
 * membership (and, at a site with exceptions, the same site) form a class;
 * every pair of classes is judged once per relation of the two ends (same
 * site, same district, elsewhere) through pol_decide on two representative
 * addresses, at every gateway that judges it, and weighted by the number of
 * address pairs of the two classes in that relation. tests/unit/test_reach.c
 * checks the class assumption against pol_decide on random address pairs and
 * the counts against a sum over every pair of pieces.
 */
#ifndef SEGPLAN_REACH_H
#define SEGPLAN_REACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/prefix.h"
#include "inventory/inventory.h"
#include "policy/policy.h"

/* A service to count: one destination port of one protocol. */
struct reach_probe {
	const char *name; /* "ssh" */
	uint8_t proto;	  /* IANA number: 6 tcp, 17 udp */
	uint16_t dport;
};

/* The services README.md and the demo count. */
extern const struct reach_probe reach_probes[];
extern const size_t reach_nprobes;

struct reach_counts {
	uint64_t inside;	/* ordered address pairs inside the city that can open it */
	uint64_t to_internet;	/* city addresses at a site that can open it to the internet
				   (management sources left out when skipped) */
	uint64_t from_internet; /* city addresses at a site the internet can open it to */
};

struct reach;

/*
 * Cuts the city of p and inv into classes, judging connections that open at
 * instant when (Unix seconds: time windows and expiry). With skip_management,
 * pairs whose source is in one of the policy's management zones are not
 * counted (they reach everything in most policies, and would drown what the
 * rest may reach). 0 or a negative errno.
 */
int reach_new(const struct policy *p, const struct inventory *inv, int64_t when,
	      bool skip_management, struct reach **out);
void reach_free(struct reach *r);

/* The space counted. */
struct reach_space {
	uint64_t addresses; /* the city's IPv4 addresses counted */
	uint64_t pairs;	    /* ordered pairs of them a gateway judges (no management source
			       when skipped): what reach_counts.inside counts out of */
	uint64_t sited;	    /* the addresses at a site */
	size_t pieces, classes;
};
void reach_space(const struct reach *r, struct reach_space *out);

/* The counts for one service. 0 or a negative errno. */
int reach_count(struct reach *r, const struct reach_probe *probe, struct reach_counts *out);

/*
 * What the count assumes for one pair of addresses: 1 when the connection
 * from src to dst passes (the verdict of its classes' representatives), 0
 * when it does not, -1 when the pair is not counted (an end outside the
 * pieces, a gateway's own address, one segment, two pools, a management
 * source when skipped); a negative errno
 * below -1. dst may be the internet representative (reach_internet).
 */
int reach_pair(struct reach *r, const struct reach_probe *probe, const struct ip_addr *src,
	       const struct ip_addr *dst);
/* The internet address the counts use: a public address that no object, host or external
 * network of the policy names; NULL when none of the few tried qualifies. */
const struct ip_addr *reach_internet(const struct reach *r);

#endif
