/* SPDX-License-Identifier: MIT */
/*
 * The one table of IP protocols (IANA "Assigned Internet Protocol Numbers")
 * and of ICMP and ICMPv6 types that every part of segplan shares: the policy
 * reader (service keys, `protocols:` names), the evaluator, the nftables
 * compiler, the agent's decoder, flow table and summary, the audit and
 * `segplan policy query`. A protocol with ports is one row here with
 * `ports` set; nothing else in the tree lists them.
 *
 * Numbers come from <netinet/in.h> where it has them (IPPROTO_*).
 */
#ifndef SEGPLAN_PROTO_H
#define SEGPLAN_PROTO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OSPF, VRRP and friends have no IPPROTO_ constant in glibc. */
#define PROTO_EIGRP 88
#define PROTO_OSPF  89
#define PROTO_VRRP  112
#define PROTO_L2TP  115

struct proto {
	const char *name; /* as nft spells it; for a protocol with ports, its policy.yaml key */
	uint8_t num;
	/* The header starts with 16-bit source and destination ports: nft's `th dport`
	 * and a policy's port lists apply, the agent keys flows on them. */
	bool ports;
	/* nft's grammar knows the name without /etc/protocols (nft 1.0.6); the
	 * compiler writes the number for the others. */
	bool nft_keyword;
	uint8_t icmp_family; /* 4 for ICMP, 6 for ICMPv6, else 0 */
	/* Bytes of fixed transport header the agent needs to read the ports
	 * (DCCP: 12, or 16 with extended sequence numbers); 0 when it reads none. */
	uint8_t hdr_len;
};

/* The row of a protocol number, or NULL when the table has none. */
const struct proto *proto_get(uint8_t num);
/* The row of a name (exact match), or NULL. */
const struct proto *proto_by_name(const char *name);
/* A protocol name or a number 0-255; -1 when neither. */
int proto_parse(const char *s);
/* The name of a protocol number, or NULL. */
const char *proto_name(uint8_t num);
bool proto_has_ports(uint8_t num);
/* Is num the ICMP of that IP version: ICMP in IPv4, ICMPv6 in IPv6? */
bool proto_is_icmp(uint8_t family, uint8_t num);
/* ICMP or ICMPv6, of either IP version. */
bool proto_is_any_icmp(uint8_t num);
/* IPPROTO_ICMPV6 for family 6, IPPROTO_ICMP otherwise. */
uint8_t proto_icmp_of(uint8_t family);
/* Fills out (room for max) with the names in number order: for 'did you mean'.
 * Returns how many. At most 256. */
size_t proto_names(const char **out, size_t max);

/* ICMP (RFC 792, RFC 950) and ICMPv6 (RFC 4443, 4861, 2710, 3810) types,
 * named as nft spells them. family is 4 or 6. */
int proto_icmp_parse(uint8_t family, const char *s); /* name or number; -1 */
const char *proto_icmp_name(uint8_t family, uint8_t type);
size_t proto_icmp_names(uint8_t family, const char **out, size_t max);
/* Query messages (echo, timestamp, information, address mask): their 8-byte
 * header carries an identifier shared by the request and its reply. */
bool proto_icmp_is_query(uint8_t family, uint8_t type);
/* The request type of a query reply; -1 when type is not a reply. */
int proto_icmp_request_of(uint8_t family, uint8_t type);

#endif
