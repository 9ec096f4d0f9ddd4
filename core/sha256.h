/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 (FIPS 180-4 section 6.2) and HMAC-SHA-256 (RFC 2104, with the
 * test vectors of RFC 4231). Byte-oriented: inputs are whole octets.
 */
#ifndef SEGPLAN_SHA256_H
#define SEGPLAN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	 32
#define SHA256_BLOCK_LEN 64

struct sha256_ctx {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[SHA256_BLOCK_LEN];
	size_t fill; /* bytes waiting in buf */
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* HMAC with a key prepared once: the inner and outer states after the
 * padded key block, so that each message costs no key hashing. */
struct hmac_sha256_key {
	struct sha256_ctx inner;
	struct sha256_ctx outer;
};

void hmac_sha256_key_init(struct hmac_sha256_key *k, const void *key, size_t key_len);
void hmac_sha256_with(const struct hmac_sha256_key *k, const void *msg, size_t len,
		      uint8_t out[SHA256_LEN]);
/* Wipes a prepared key. */
void hmac_sha256_key_wipe(struct hmac_sha256_key *k);

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
		 uint8_t out[SHA256_LEN]);

#endif
