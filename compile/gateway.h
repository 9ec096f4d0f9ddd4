/* SPDX-License-Identifier: MIT */
/*
 * What reaches a site gateway itself, beside the policy rules of the forward
 * chain: the hosts of the management zones (the input chain's anti-lockout)
 * and the routing and redundancy protocols of its interfaces (OSPF, VRRP,
 * BGP peers; docs/policy.md, the input chain). The same facts the compiler
 * renders (compile/compile.c), as records that lint and diff compare.
 */
#ifndef SEGPLAN_GATEWAY_H
#define SEGPLAN_GATEWAY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/prefix.h"
#include "inventory/inventory.h"

/* One fixed accept of the input chain for a routing or redundancy protocol. */
struct gw_access {
	const char *proto;	     /* "ospf", "vrrp", "bgp" */
	uint8_t family;		     /* 4 or 6 */
	char iface[32];		     /* "" for every interface */
	char from[IP_PREFIX_STRLEN]; /* a peer, a subnet, or "any" */
};

/*
 * The protocol accesses of site's gateway, in the compiler's order: from
 * interfaces.csv when the site has interfaces there, else from its flags in
 * sites.csv (then BGP is open to any address). *v is malloc'd (NULL when
 * none). 0 or -ENOMEM.
 */
int gw_access_list(const struct inventory *inv, int site, struct gw_access **v, size_t *n);
bool gw_access_equal(const struct gw_access *a, const struct gw_access *b);
/* "bgp ipv4 from 192.0.2.1 on eth0", "ospf ipv6 from fe80::/10 on any interface". */
void gw_access_text(const struct gw_access *a, char *buf, size_t size);
/* {"protocol", "family", "interface" (null: every one), "from"}. */
json_t *gw_access_json(const struct gw_access *a);

/*
 * The hosts of a zone in inv: the prefixes of its segments (segments.csv)
 * or of its pool (a vpn-<group> line of addressplan.csv), IPv4 before IPv6,
 * each in address order. *v malloc'd. 0 or -ENOMEM.
 */
int gw_zone_prefixes(const struct inventory *inv, const char *zone, struct ip_prefix **v,
		     size_t *n);

#endif
