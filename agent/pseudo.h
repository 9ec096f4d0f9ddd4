/* SPDX-License-Identifier: MIT */
/*
 * Pseudonymisation of host addresses in the agent's outputs: every address
 * becomes a keyed hash, HMAC-SHA-256(key, the 16-byte address) (RFC 2104),
 * stable for one key so that audits can still group a host's flows, and
 * unlinkable to the address without the key.
 *
 * Text outputs show "h:" and the first 8 bytes of the HMAC in hex, which no
 * parser takes for an address. Binary outputs (IPFIX) need an address of the
 * same family: IPv4 becomes 240.0.0.0/4 (RFC 1112 class E, reserved, never
 * routed) with 28 bits of the hash, IPv6 2001:db8::/64 (RFC 3849,
 * documentation only) with the same 64 bits that the text form shows.
 */
#ifndef SEGPLAN_AGENT_PSEUDO_H
#define SEGPLAN_AGENT_PSEUDO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/export.h"
#include "agent/flow.h"
#include "core/diag.h"

#define PSEUDO_KEY_MIN	16
#define PSEUDO_KEY_MAX	4096
#define PSEUDO_TEXT_LEN 19 /* "h:" + 16 hex digits + NUL */

struct pseudo;

/*
 * Reads the key from a file: a regular file of 16 to 4096 bytes that
 * neither group nor others may read or write (a key others can read
 * pseudonymises nothing). Returns 0; -EINVAL with an error diagnostic on
 * path when the file is missing, unreadable, of the wrong size, too open,
 * or all one byte value; -ENOMEM.
 */
int pseudo_open(const char *path, struct diag_list *dl, struct pseudo **out);

/* From key bytes in memory: 0, -EINVAL (shorter than PSEUDO_KEY_MIN or
 * longer than PSEUDO_KEY_MAX) or -ENOMEM. */
int pseudo_new(const void *key, size_t len, struct pseudo **out);

/* Wipes the key; NULL is a no-op. */
void pseudo_free(struct pseudo *p);

/* The first 8 bytes of HMAC-SHA-256(key, addr), big-endian. */
uint64_t pseudo_hash(const struct pseudo *p, const uint8_t addr[16]);

/* "h:0123456789abcdef" into buf (PSEUDO_TEXT_LEN bytes); returns buf. */
const char *pseudo_text(const struct pseudo *p, const uint8_t addr[16], char *buf, size_t size);

/* The binary pseudonym of the same family (IPv4-mapped stays IPv4-mapped). */
void pseudo_addr(const struct pseudo *p, const uint8_t in[16], uint8_t out[16]);

/* A copy of the flow with both addresses replaced by pseudo_addr(). */
void pseudo_flow(const struct pseudo *p, const struct flow *in, struct flow *out);

/* An exp_addr_fn (agent/export.h) whose ctx is a struct pseudo: installed
 * with exp_set_addr_hook, it pseudonymises every address the agent writes. */
const char *pseudo_addr_hook(const void *ctx, const uint8_t a[16], char *buf, size_t size);

#endif
