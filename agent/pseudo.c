// SPDX-License-Identifier: MIT
#include "agent/pseudo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"

struct pseudo {
	struct hmac_sha256_key key;
};

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int pseudo_new(const void *key, size_t len, struct pseudo **out)
{
	*out = NULL;
	if (len < PSEUDO_KEY_MIN || len > PSEUDO_KEY_MAX)
		return -EINVAL;
	struct pseudo *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	hmac_sha256_key_init(&p->key, key, len);
	*out = p;
	return 0;
}

void pseudo_free(struct pseudo *p)
{
	if (!p)
		return;
	hmac_sha256_key_wipe(&p->key);
	free(p);
}

static void wipe(void *buf, size_t len)
{
	volatile uint8_t *v = buf;
	for (size_t i = 0; i < len; i++)
		v[i] = 0;
}

int pseudo_open(const char *path, struct diag_list *dl, struct pseudo **out)
{
	uint8_t key[PSEUDO_KEY_MAX + 1];
	size_t len = 0;
	struct stat st;
	int rc = -EINVAL;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot open key file: %s", strerror(errno));
		goto out;
	}
	/* Checked on the open file, so that it cannot be swapped in between. */
	if (fstat(fd, &st) != 0) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read key file: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "key file is not a regular file");
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		diag_add(dl, DIAG_ERROR, path, 0, 0,
			 "key file is open to group or others (mode %04o): chmod 600 it",
			 (unsigned)(st.st_mode & 07777));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, key + len, sizeof(key) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read key file: %s",
				 strerror(errno));
			goto out;
		}
		if (n == 0 || len + (size_t)n == sizeof(key)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	if (len < PSEUDO_KEY_MIN || len > PSEUDO_KEY_MAX) {
		diag_add(dl, DIAG_ERROR, path, 0, 0,
			 "key file has %s%zu bytes; it needs %d to %d random bytes "
			 "(head -c 32 /dev/urandom)",
			 len > PSEUDO_KEY_MAX ? "more than " : "",
			 len > PSEUDO_KEY_MAX ? (size_t)PSEUDO_KEY_MAX : len, PSEUDO_KEY_MIN,
			 PSEUDO_KEY_MAX);
		goto out;
	}
	/* A file of one repeated byte (zeros from a truncate, a fill) is no key. */
	bool same = true;
	for (size_t i = 1; i < len && same; i++)
		same = key[i] == key[0];
	if (same) {
		diag_add(dl, DIAG_ERROR, path, 0, 0,
			 "key file holds one byte value repeated; it needs random bytes "
			 "(head -c 32 /dev/urandom)");
		goto out;
	}
	rc = pseudo_new(key, len, out);
out:
	wipe(key, sizeof(key));
	if (fd >= 0)
		close(fd);
	return rc;
}

uint64_t pseudo_hash(const struct pseudo *p, const uint8_t addr[16])
{
	uint8_t mac[SHA256_LEN];
	hmac_sha256_with(&p->key, addr, 16, mac);
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | mac[i];
	return h;
}

const char *pseudo_text(const struct pseudo *p, const uint8_t addr[16], char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	if (size < PSEUDO_TEXT_LEN) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	uint64_t h = pseudo_hash(p, addr);
	buf[0] = 'h';
	buf[1] = ':';
	for (int i = 0; i < 16; i++)
		buf[2 + i] = hex[(h >> (60 - 4 * i)) & 0xf];
	buf[18] = '\0';
	return buf;
}

void pseudo_addr(const struct pseudo *p, const uint8_t in[16], uint8_t out[16])
{
	uint64_t h = pseudo_hash(p, in);
	if (memcmp(in, v4_mapped, sizeof(v4_mapped)) == 0) {
		uint32_t a = 0xf0000000u | (uint32_t)(h >> 36);
		memcpy(out, v4_mapped, sizeof(v4_mapped));
		out[12] = (uint8_t)(a >> 24);
		out[13] = (uint8_t)(a >> 16);
		out[14] = (uint8_t)(a >> 8);
		out[15] = (uint8_t)a;
		return;
	}
	static const uint8_t doc[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0};
	memcpy(out, doc, sizeof(doc));
	for (int i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)(h >> (56 - 8 * i));
}

void pseudo_flow(const struct pseudo *p, const struct flow *in, struct flow *out)
{
	uint8_t src[16], dst[16];
	pseudo_addr(p, in->src, src);
	pseudo_addr(p, in->dst, dst);
	*out = *in;
	memcpy(out->src, src, 16);
	memcpy(out->dst, dst, 16);
}

const char *pseudo_addr_hook(const void *ctx, const uint8_t a[16], char *buf, size_t size)
{
	return pseudo_text(ctx, a, buf, size);
}
