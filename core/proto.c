// SPDX-License-Identifier: MIT
#include "core/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Indexed by number. Names are nft's (and /etc/protocols'), with one
 * exception: "ipip" is protocol 4 as in IPPROTO_IPIP, where /etc/protocols
 * says "ipencap" and gives "ipip" to 94; the compiler writes 4 as a number,
 * so nft never resolves that name.
 */
static const struct proto protos[256] = {
    [IPPROTO_ICMP] = {"icmp", IPPROTO_ICMP, false, true, 4, 0},		/* RFC 792 */
    [IPPROTO_IGMP] = {"igmp", IPPROTO_IGMP, false, true, 0, 0},		/* RFC 3376 */
    [IPPROTO_IPIP] = {"ipip", IPPROTO_IPIP, false, false, 0, 0},	/* RFC 2003 */
    [IPPROTO_TCP] = {"tcp", IPPROTO_TCP, true, true, 0, 20},		/* RFC 9293 3.1 */
    [IPPROTO_UDP] = {"udp", IPPROTO_UDP, true, true, 0, 8},		/* RFC 768 */
    [IPPROTO_DCCP] = {"dccp", IPPROTO_DCCP, true, true, 0, 12},		/* RFC 4340 5.1 */
    [IPPROTO_IPV6] = {"ipv6", IPPROTO_IPV6, false, false, 0, 0},	/* RFC 4213 */
    [IPPROTO_GRE] = {"gre", IPPROTO_GRE, false, false, 0, 0},		/* RFC 2784 */
    [IPPROTO_ESP] = {"esp", IPPROTO_ESP, false, true, 0, 0},		/* RFC 4303 */
    [IPPROTO_AH] = {"ah", IPPROTO_AH, false, true, 0, 0},		/* RFC 4302 */
    [IPPROTO_ICMPV6] = {"icmpv6", IPPROTO_ICMPV6, false, true, 6, 0},	/* RFC 4443 */
    [PROTO_EIGRP] = {"eigrp", PROTO_EIGRP, false, false, 0, 0},		/* RFC 7868 */
    [PROTO_OSPF] = {"ospf", PROTO_OSPF, false, false, 0, 0},		/* RFC 2328, 5340 */
    [IPPROTO_PIM] = {"pim", IPPROTO_PIM, false, false, 0, 0},		/* RFC 7761 */
    [PROTO_VRRP] = {"vrrp", PROTO_VRRP, false, false, 0, 0},		/* RFC 9568 */
    [PROTO_L2TP] = {"l2tp", PROTO_L2TP, false, false, 0, 0},		/* RFC 3931 */
    [IPPROTO_SCTP] = {"sctp", IPPROTO_SCTP, true, true, 0, 12},		/* RFC 9260 3.1 */
    [IPPROTO_UDPLITE] = {"udplite", IPPROTO_UDPLITE, true, true, 0, 8}, /* RFC 3828 3.1 */
};

struct icmp_type {
	const char *name;
	bool query;	 /* a query message (identifier after the 4-byte header) */
	uint8_t request; /* for a query message: the type of its request */
};

/* RFC 792, RFC 950 (address mask). */
static const struct icmp_type icmp4[256] = {
    [0] = {"echo-reply", true, 8},
    [3] = {"destination-unreachable", false, 0},
    [4] = {"source-quench", false, 0},
    [5] = {"redirect", false, 0},
    [8] = {"echo-request", true, 8},
    [9] = {"router-advertisement", false, 0},
    [10] = {"router-solicitation", false, 0},
    [11] = {"time-exceeded", false, 0},
    [12] = {"parameter-problem", false, 0},
    [13] = {"timestamp-request", true, 13},
    [14] = {"timestamp-reply", true, 13},
    [15] = {"info-request", true, 15},
    [16] = {"info-reply", true, 15},
    [17] = {"address-mask-request", true, 17},
    [18] = {"address-mask-reply", true, 17},
};

/* RFC 4443, MLD (RFC 2710, 3810), ND (RFC 4861), router renumbering (RFC 2894). */
static const struct icmp_type icmp6[256] = {
    [1] = {"destination-unreachable", false, 0}, [2] = {"packet-too-big", false, 0},
    [3] = {"time-exceeded", false, 0},		 [4] = {"parameter-problem", false, 0},
    [128] = {"echo-request", true, 128},	 [129] = {"echo-reply", true, 128},
    [130] = {"mld-listener-query", false, 0},	 [131] = {"mld-listener-report", false, 0},
    [132] = {"mld-listener-done", false, 0},	 [133] = {"nd-router-solicit", false, 0},
    [134] = {"nd-router-advert", false, 0},	 [135] = {"nd-neighbor-solicit", false, 0},
    [136] = {"nd-neighbor-advert", false, 0},	 [137] = {"nd-redirect", false, 0},
    [138] = {"router-renumbering", false, 0},	 [143] = {"mld2-listener-report", false, 0},
};

/* A decimal number 0-255 (no sign, no spaces); -1 otherwise. */
static int parse_u8(const char *s)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || errno || v > 255)
		return -1;
	return (int)v;
}

const struct proto *proto_get(uint8_t num)
{
	return protos[num].name ? &protos[num] : NULL;
}

const struct proto *proto_by_name(const char *name)
{
	for (size_t i = 0; name && i < 256; i++)
		if (protos[i].name && strcmp(protos[i].name, name) == 0)
			return &protos[i];
	return NULL;
}

int proto_parse(const char *s)
{
	int v = parse_u8(s);
	if (v >= 0)
		return v;
	const struct proto *p = proto_by_name(s);
	return p ? p->num : -1;
}

const char *proto_name(uint8_t num)
{
	return protos[num].name;
}

bool proto_has_ports(uint8_t num)
{
	return protos[num].ports;
}

bool proto_is_icmp(uint8_t family, uint8_t num)
{
	return protos[num].icmp_family && protos[num].icmp_family == family;
}

bool proto_is_any_icmp(uint8_t num)
{
	return protos[num].icmp_family != 0;
}

uint8_t proto_icmp_of(uint8_t family)
{
	return family == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
}

size_t proto_names(const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < 256 && n < max; i++)
		if (protos[i].name)
			out[n++] = protos[i].name;
	return n;
}

static const struct icmp_type *icmp_table(uint8_t family)
{
	return family == 6 ? icmp6 : icmp4;
}

int proto_icmp_parse(uint8_t family, const char *s)
{
	int v = parse_u8(s);
	if (v >= 0)
		return v;
	const struct icmp_type *t = icmp_table(family);
	for (int i = 0; s && i < 256; i++)
		if (t[i].name && strcmp(t[i].name, s) == 0)
			return i;
	return -1;
}

const char *proto_icmp_name(uint8_t family, uint8_t type)
{
	return icmp_table(family)[type].name;
}

size_t proto_icmp_names(uint8_t family, const char **out, size_t max)
{
	const struct icmp_type *t = icmp_table(family);
	size_t n = 0;
	for (size_t i = 0; i < 256 && n < max; i++)
		if (t[i].name)
			out[n++] = t[i].name;
	return n;
}

bool proto_icmp_is_query(uint8_t family, uint8_t type)
{
	return icmp_table(family)[type].query;
}

int proto_icmp_request_of(uint8_t family, uint8_t type)
{
	const struct icmp_type *t = &icmp_table(family)[type];
	return t->query && t->request != type ? t->request : -1;
}
