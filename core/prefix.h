/* SPDX-License-Identifier: MIT */
/* IPv4 and IPv6 addresses and prefixes (RFC 4632 CIDR, RFC 4291 / RFC 5952 text). */
#ifndef SEGPLAN_PREFIX_H
#define SEGPLAN_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text form: an IPv6 address with an embedded IPv4 part, "/128", NUL. */
#define IP_PREFIX_STRLEN 50

/* Addresses are kept in network byte order in 16 bytes; IPv4 uses the first 4. */
struct ip_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t b[16];
};

struct ip_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;	/* 0..32 or 0..128 */
	uint8_t b[16];	/* host bits are zero */
};

/* Parses an address; returns 0 or -EINVAL. */
int ip_addr_parse(const char *s, struct ip_addr *out);

/*
 * Parses "ADDR/LEN" (or a bare address as a host prefix when allow_host is
 * set). Returns 0, -EINVAL for syntax, or -EDOM when host bits are set (the
 * prefix is still filled in with them cleared, so callers can suggest it).
 */
int ip_prefix_parse(const char *s, bool allow_host, struct ip_prefix *out);

void ip_addr_format(const struct ip_addr *a, char *buf, size_t size);
void ip_prefix_format(const struct ip_prefix *p, char *buf, size_t size);

unsigned ip_family_bits(uint8_t family);
bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
/* True when every address of inner lies in outer. */
bool ip_prefix_covers(const struct ip_prefix *outer, const struct ip_prefix *inner);
bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b);
/* Orders by family, then address, then length (shorter first). */
int ip_prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b);
int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b);

/* The first and last address of a prefix. */
void ip_prefix_first(const struct ip_prefix *p, struct ip_addr *out);
void ip_prefix_last(const struct ip_prefix *p, struct ip_addr *out);

/* Adds n (may be large) to an address; returns false on overflow past the family's end. */
bool ip_addr_add(struct ip_addr *a, uint64_t n);

/*
 * Finds overlapping pairs in an array of prefixes in O(n log n): calls
 * cb(i, j, ctx) for each prefix j that overlaps an earlier-sorted prefix i
 * (indices into the caller's array). Returns 0 or -ENOMEM.
 */
int ip_prefix_find_overlaps(const struct ip_prefix *v, size_t n,
			    void (*cb)(size_t i, size_t j, void *ctx), void *ctx);

#endif
