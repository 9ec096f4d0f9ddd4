// SPDX-License-Identifier: MIT
#include "core/sha256.h"

#include <string.h>

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of
 * the cube roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One block through the compression function (FIPS 180-4 section 6.2.2),
 * with the message schedule kept in a 16-word ring. */
static void compress(uint32_t h[8], const uint8_t block[SHA256_BLOCK_LEN])
{
	uint32_t w[16];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
	uint32_t e = h[4], f = h[5], g = h[6], k = h[7];

	for (unsigned t = 0; t < 64; t++) {
		uint32_t wt;
		if (t < 16) {
			wt = load_be32(block + 4 * t);
		} else {
			uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
			uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3);
			uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10);
			wt = s1 + w[(t - 7) & 15] + s0 + w[(t - 16) & 15];
		}
		w[t & 15] = wt;
		uint32_t t1 =
		    k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + wt;
		uint32_t t2 =
		    (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += k;
}

void sha256_init(struct sha256_ctx *c)
{
	/* FIPS 180-4 section 5.3.3. */
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(c->h, h0, sizeof(h0));
	c->len = 0;
	c->fill = 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	c->len += len;
	if (c->fill) {
		size_t take = SHA256_BLOCK_LEN - c->fill;
		if (take > len)
			take = len;
		memcpy(c->buf + c->fill, p, take);
		c->fill += take;
		p += take;
		len -= take;
		if (c->fill < SHA256_BLOCK_LEN)
			return;
		compress(c->h, c->buf);
		c->fill = 0;
	}
	for (; len >= SHA256_BLOCK_LEN; p += SHA256_BLOCK_LEN, len -= SHA256_BLOCK_LEN)
		compress(c->h, p);
	if (len) {
		memcpy(c->buf, p, len);
		c->fill = len;
	}
}

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN])
{
	/* Padding (FIPS 180-4 section 5.1.1): a one bit, zeros, and the
	 * message length in bits as a 64-bit big-endian number. */
	uint64_t bits = c->len * 8;
	c->buf[c->fill++] = 0x80;
	if (c->fill > SHA256_BLOCK_LEN - 8) {
		memset(c->buf + c->fill, 0, SHA256_BLOCK_LEN - c->fill);
		compress(c->h, c->buf);
		c->fill = 0;
	}
	memset(c->buf + c->fill, 0, SHA256_BLOCK_LEN - 8 - c->fill);
	store_be32(c->buf + 56, (uint32_t)(bits >> 32));
	store_be32(c->buf + 60, (uint32_t)bits);
	compress(c->h, c->buf);
	for (int i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	memset(c, 0, sizeof(*c));
}

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

/* RFC 2104 section 2: keys longer than the block are hashed first, shorter
 * ones padded with zeros; ipad 0x36 and opad 0x5c. */
void hmac_sha256_key_init(struct hmac_sha256_key *k, const void *key, size_t key_len)
{
	uint8_t block[SHA256_BLOCK_LEN] = {0};
	if (key_len > SHA256_BLOCK_LEN)
		sha256(key, key_len, block);
	else if (key_len)
		memcpy(block, key, key_len);
	for (int i = 0; i < SHA256_BLOCK_LEN; i++)
		block[i] ^= 0x36;
	sha256_init(&k->inner);
	sha256_update(&k->inner, block, sizeof(block));
	for (int i = 0; i < SHA256_BLOCK_LEN; i++)
		block[i] ^= 0x36 ^ 0x5c;
	sha256_init(&k->outer);
	sha256_update(&k->outer, block, sizeof(block));
	/* The key must not linger on the stack. */
	volatile uint8_t *v = block;
	for (size_t i = 0; i < sizeof(block); i++)
		v[i] = 0;
}

void hmac_sha256_with(const struct hmac_sha256_key *k, const void *msg, size_t len,
		      uint8_t out[SHA256_LEN])
{
	uint8_t inner[SHA256_LEN];
	struct sha256_ctx c = k->inner;
	sha256_update(&c, msg, len);
	sha256_final(&c, inner);
	c = k->outer;
	sha256_update(&c, inner, sizeof(inner));
	sha256_final(&c, out);
}

void hmac_sha256_key_wipe(struct hmac_sha256_key *k)
{
	volatile uint8_t *v = (volatile uint8_t *)k;
	for (size_t i = 0; i < sizeof(*k); i++)
		v[i] = 0;
}

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
		 uint8_t out[SHA256_LEN])
{
	struct hmac_sha256_key k;
	hmac_sha256_key_init(&k, key, key_len);
	hmac_sha256_with(&k, msg, len, out);
	hmac_sha256_key_wipe(&k);
}
