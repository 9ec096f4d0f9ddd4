// SPDX-License-Identifier: MIT
/* core/sha256 against the FIPS 180-4 examples and the RFC 4231 HMAC test
 * cases; agent/pseudo: stable per key, different across keys, no raw
 * address in any output, key files checked. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/export.h"
#include "agent/flow.h"
#include "agent/pseudo.h"
#include "core/diag.h"
#include "core/sha256.h"
#include "tests/unit/testutil.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void unhex(const char *s, uint8_t *out, size_t *n)
{
	size_t len = strlen(s) / 2;
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	*n = len;
}

static void expect_sha(const void *msg, size_t len, const char *want)
{
	uint8_t d[SHA256_LEN];
	char got[65];
	sha256(msg, len, d);
	hex(d, sizeof(d), got);
	cr_expect_str_eq(got, want, "sha256 of %zu bytes", len);
}

/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf"). */
Test(sha256, fips_examples)
{
	expect_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	expect_sha(m448, strlen(m448),
		   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	const char *m896 =
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjk"
	    "lmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	expect_sha(m896, strlen(m896),
		   "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* One million 'a' fed in uneven pieces: the incremental path and block
 * boundaries. */
Test(sha256, million_a_incremental)
{
	static uint8_t chunk[997];
	memset(chunk, 'a', sizeof(chunk));
	struct sha256_ctx c;
	sha256_init(&c);
	size_t left = 1000000;
	for (size_t step = 1; left; step = step % 997 + 1) {
		size_t n = step < left ? step : left;
		sha256_update(&c, chunk, n);
		left -= n;
	}
	uint8_t d[SHA256_LEN];
	char got[65];
	sha256_final(&c, d);
	hex(d, sizeof(d), got);
	cr_expect_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the padding boundary (55, 56, 63, 64 bytes): one call and
 * byte by byte must agree. */
Test(sha256, incremental_equals_one_shot)
{
	uint8_t msg[200];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 50; len <= 130; len++) {
		uint8_t a[SHA256_LEN], b[SHA256_LEN];
		sha256(msg, len, a);
		struct sha256_ctx c;
		sha256_init(&c);
		for (size_t i = 0; i < len; i++)
			sha256_update(&c, msg + i, 1);
		sha256_final(&c, b);
		cr_expect(memcmp(a, b, sizeof(a)) == 0, "length %zu", len);
	}
}

struct rfc4231 {
	const char *key, *data, *mac;
	size_t trunc; /* bytes compared; 0 = all */
};

/* RFC 4231 section 4, test cases 1-7 (hex). */
static const struct rfc4231 cases[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 0},
    {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 0},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddddddddddddddd",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 0},
    {"0102030405060708090a0b0c0d0e0f10111213141516171819",
     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
     "cdcdcdcdcdcdcdcd",
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 0},
    {"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
     "a3b6167473100ee06e0c796c2955552b", 16},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaa",
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048"
     "617368204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 0},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaa",
     "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d"
     "73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174"
     "612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e"
     "6720757365642062792074686520484d414320616c676f726974686d2e",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 0},
};

Test(hmac_sha256, rfc4231_cases)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t key[200], data[200], mac[SHA256_LEN];
		size_t klen, dlen;
		char got[65];
		unhex(cases[i].key, key, &klen);
		unhex(cases[i].data, data, &dlen);
		hmac_sha256(key, klen, data, dlen, mac);
		size_t n = cases[i].trunc ? cases[i].trunc : SHA256_LEN;
		hex(mac, n, got);
		cr_expect_str_eq(got, cases[i].mac, "RFC 4231 test case %zu", i + 1);
		/* The prepared key gives the same MAC. */
		struct hmac_sha256_key k;
		uint8_t mac2[SHA256_LEN];
		hmac_sha256_key_init(&k, key, klen);
		hmac_sha256_with(&k, data, dlen, mac2);
		hmac_sha256_key_wipe(&k);
		cr_expect(memcmp(mac, mac2, sizeof(mac)) == 0, "case %zu prepared key", i + 1);
	}
}

static const uint8_t key_a[32] = "0123456789abcdef0123456789ABCDEF";
static const uint8_t key_b[32] = "0123456789abcdef0123456789ABCDEG";

static void v4(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	cr_assert(inet_pton(AF_INET, s, out + 12) == 1);
}

static void v6(const char *s, uint8_t out[16])
{
	cr_assert(inet_pton(AF_INET6, s, out) == 1);
}

Test(pseudo, stable_per_key_and_different_across_keys)
{
	struct pseudo *a1, *a2, *b;
	cr_assert(pseudo_new(key_a, sizeof(key_a), &a1) == 0);
	cr_assert(pseudo_new(key_a, sizeof(key_a), &a2) == 0);
	cr_assert(pseudo_new(key_b, sizeof(key_b), &b) == 0);
	uint8_t x[16], y[16];
	v4("10.0.52.19", x);
	v4("10.0.52.20", y);
	char t1[PSEUDO_TEXT_LEN], t2[PSEUDO_TEXT_LEN], t3[PSEUDO_TEXT_LEN], t4[PSEUDO_TEXT_LEN];
	pseudo_text(a1, x, t1, sizeof(t1));
	pseudo_text(a2, x, t2, sizeof(t2));
	pseudo_text(b, x, t3, sizeof(t3));
	pseudo_text(a1, y, t4, sizeof(t4));
	cr_expect_str_eq(t1, t2, "same key, same address: same pseudonym");
	cr_expect_str_neq(t1, t3, "another key: another pseudonym");
	cr_expect_str_neq(t1, t4, "neighbouring addresses differ");
	cr_expect(strlen(t1) == 18 && strncmp(t1, "h:", 2) == 0, "form h:<16 hex>: %s", t1);
	cr_expect(strspn(t1 + 2, "0123456789abcdef") == 16);
	/* The text form is the HMAC itself. */
	uint8_t mac[SHA256_LEN];
	char want[65];
	hmac_sha256(key_a, sizeof(key_a), x, 16, mac);
	hex(mac, 8, want);
	cr_expect_str_eq(t1 + 2, want);
	pseudo_free(a1);
	pseudo_free(a2);
	pseudo_free(b);
	pseudo_free(NULL);
}

Test(pseudo, binary_pseudonyms_stay_in_family_and_reserved_space)
{
	struct pseudo *p;
	cr_assert(pseudo_new(key_a, sizeof(key_a), &p) == 0);
	uint8_t in4[16], in6[16], out[16], again[16];
	char t[PSEUDO_TEXT_LEN], buf[64];
	v4("192.0.2.7", in4);
	pseudo_addr(p, in4, out);
	pseudo_addr(p, in4, again);
	cr_expect(memcmp(out, again, 16) == 0);
	cr_expect(out[10] == 0xff && out[11] == 0xff, "still IPv4-mapped");
	cr_expect((out[12] & 0xf0) == 0xf0, "in 240.0.0.0/4: %s", exp_addr(out, buf, sizeof(buf)));
	v6("2001:db8:5::1", in6);
	pseudo_addr(p, in6, out);
	static const uint8_t doc64[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0};
	cr_expect(memcmp(out, doc64, 8) == 0, "in 2001:db8::/64");
	/* The interface identifier is the text pseudonym's 64 bits. */
	pseudo_text(p, in6, t, sizeof(t));
	char iid[17];
	hex(out + 8, 8, iid);
	cr_expect_str_eq(iid, t + 2);
	pseudo_free(p);
}

Test(pseudo, short_or_long_key_refused)
{
	struct pseudo *p = (struct pseudo *)1;
	cr_expect(pseudo_new(key_a, 15, &p) == -EINVAL);
	cr_expect(p == NULL);
	static uint8_t big[PSEUDO_KEY_MAX + 1];
	cr_expect(pseudo_new(big, sizeof(big), &p) == -EINVAL);
	cr_expect(pseudo_new(key_a, 16, &p) == 0);
	pseudo_free(p);
}

static char *write_key(const char *dir, const char *name, const void *data, size_t len, int mode)
{
	char *path;
	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	cr_assert(fwrite(data, 1, len, f) == len);
	fclose(f);
	cr_assert(chmod(path, (mode_t)mode) == 0);
	return path;
}

Test(pseudo, key_files)
{
	char *dir = tu_tmpdir();
	struct diag_list *dl = diag_list_new();
	struct pseudo *p = NULL;
	char *good = write_key(dir, "good", key_a, sizeof(key_a), 0600);
	cr_expect(pseudo_open(good, dl, &p) == 0, "%s", tu_diags(dl));
	cr_expect(p != NULL);
	/* The file's key pseudonymises as the same bytes in memory do. */
	struct pseudo *mem;
	cr_assert(pseudo_new(key_a, sizeof(key_a), &mem) == 0);
	uint8_t a[16];
	v4("10.1.2.3", a);
	cr_expect(pseudo_hash(p, a) == pseudo_hash(mem, a));
	pseudo_free(mem);
	pseudo_free(p);

	char *open_key = write_key(dir, "open", key_a, sizeof(key_a), 0644);
	cr_expect(pseudo_open(open_key, dl, &p) == -EINVAL);
	cr_expect(p == NULL);
	cr_expect(tu_diag_contains(dl, "open to group or others (mode 0644)"), "%s", tu_diags(dl));
	char *group = write_key(dir, "group", key_a, sizeof(key_a), 0640);
	cr_expect(pseudo_open(group, dl, &p) == -EINVAL);

	char *shortk = write_key(dir, "short", key_a, 15, 0600);
	cr_expect(pseudo_open(shortk, dl, &p) == -EINVAL);
	cr_expect(tu_diag_contains(dl, "key file has 15 bytes"), "%s", tu_diags(dl));

	static const uint8_t zeros[32];
	char *zero = write_key(dir, "zero", zeros, sizeof(zeros), 0600);
	cr_expect(pseudo_open(zero, dl, &p) == -EINVAL);
	cr_expect(tu_diag_contains(dl, "one byte value repeated"), "%s", tu_diags(dl));

	char *missing;
	cr_assert(asprintf(&missing, "%s/missing", dir) > 0);
	cr_expect(pseudo_open(missing, dl, &p) == -EINVAL);
	cr_expect(tu_diag_contains(dl, "cannot open key file"), "%s", tu_diags(dl));
	cr_expect(pseudo_open(dir, dl, &p) == -EINVAL, "a directory is no key file");

	free(good);
	free(open_key);
	free(group);
	free(shortk);
	free(zero);
	free(missing);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

static struct flow sample_flow(bool six)
{
	struct flow f = {0};
	if (six) {
		v6("2001:db8:77::19", f.src);
		v6("fd00:1234::46", f.dst);
	} else {
		v4("10.0.52.19", f.src);
		v4("172.16.7.46", f.dst);
	}
	f.proto = 6;
	f.sport = 13198;
	f.dport = 445;
	f.first_ns = 1700000000ull * 1000000000ull;
	f.last_ns = f.first_ns + 5000000;
	f.packets[0] = 2;
	f.bytes[0] = 80;
	f.packets[1] = 3;
	f.bytes[1] = 169;
	return f;
}

Test(pseudo, jsonl_output_has_no_raw_address)
{
	struct pseudo *p;
	cr_assert(pseudo_new(key_a, sizeof(key_a), &p) == 0);
	char *buf = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&buf, &size);
	cr_assert(mem);
	struct exp_jsonl out = {.f = mem};
	struct flow f4 = sample_flow(false), f6 = sample_flow(true);
	exp_set_addr_hook(pseudo_addr_hook, p);
	exp_jsonl_sink(&out, &f4, FLOW_END_IDLE);
	exp_jsonl_sink(&out, &f6, FLOW_END_CLOSED);
	exp_set_addr_hook(NULL, NULL);
	fclose(mem);
	cr_expect(out.err == 0 && out.lines == 2);
	cr_expect(!strstr(buf, "10.0.52.19") && !strstr(buf, "172.16.7.46"), "%s", buf);
	cr_expect(!strstr(buf, "2001:db8:77::19") && !strstr(buf, "fd00:1234::46"), "%s", buf);
	char want[PSEUDO_TEXT_LEN + 16];
	char t[PSEUDO_TEXT_LEN];
	snprintf(want, sizeof(want), "\"src\":\"%s\"", pseudo_text(p, f4.src, t, sizeof(t)));
	cr_expect(strstr(buf, want) != NULL, "want %s in %s", want, buf);
	/* Everything else is the ordinary record. */
	cr_expect(strstr(buf, "\"src_bytes\":80") && strstr(buf, "\"dst_port\":445") &&
		  strstr(buf, "\"end_reason\":\"end\""));
	free(buf);

	/* Binary pseudonyms of a flow: no byte run of the raw addresses. */
	struct flow out6;
	pseudo_flow(p, &f6, &out6);
	cr_expect(memcmp(out6.src, f6.src, 16) != 0 && memcmp(out6.dst, f6.dst, 16) != 0);
	cr_expect(out6.bytes[1] == 169 && out6.dport == 445, "only addresses change");
	pseudo_free(p);
}
