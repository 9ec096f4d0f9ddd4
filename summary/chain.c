// SPDX-License-Identifier: MIT
#include "summary/chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"

void summary_sha256(const void *data, size_t len, char out[SUMMARY_SHA256_TEXT])
{
	uint8_t d[SHA256_LEN];
	sha256(data, len, d);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
}

/* A seq the files know: a file (link set) or a ref of a file (by set). */
struct known {
	uint64_t seq;
	const char *sha256;
	const struct summary_link *link, *by;
};

static int cmp_known(const void *a, const void *b)
{
	const struct known *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->link == NULL) - (y->link == NULL); /* the file first */
}

static int cmp_link(const void *a, const void *b)
{
	const struct summary_link *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const struct known *find(const struct known *k, size_t n, uint64_t seq)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && k[lo].seq == seq ? &k[lo] : NULL;
}

size_t summary_chain_check(struct summary_link *v, size_t n, struct diag_list *dl)
{
	size_t total = n, m = 0, bad = 0;
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_link);
	for (size_t i = 0; i < n; i++)
		total += v[i].nrefs;
	struct known *k = calloc(total, sizeof(*k));
	if (!k) {
		diag_add(dl, DIAG_ERROR, NULL, 0, 0, "out of memory");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		k[m++] = (struct known){v[i].seq, v[i].sha256, &v[i], NULL};
		for (size_t r = 0; r < v[i].nrefs; r++)
			k[m++] = (struct known){v[i].refs[r].seq, v[i].refs[r].sha256, NULL, &v[i]};
	}
	qsort(k, m, sizeof(*k), cmp_known);
	/* each seq one thing: two files, or a file and a ref of another hash, disagree */
	for (size_t i = 1; i < m; i++) {
		if (k[i].seq != k[i - 1].seq)
			continue;
		const struct summary_link *who = k[i].link ? k[i].link : k[i].by;
		if (k[i].link && k[i - 1].link) {
			diag_add(dl, DIAG_ERROR, who->name, 0, 0, "seq %" PRIu64 " is also %s",
				 k[i].seq, k[i - 1].link->name);
			bad++;
		} else if (strcmp(k[i].sha256, k[i - 1].sha256) != 0) {
			diag_add(dl, DIAG_ERROR, who->name, 0, 0,
				 "seq %" PRIu64 " is listed with %s, but %s %s has %s", k[i].seq,
				 k[i].sha256, k[i - 1].link ? "the file" : "the list of",
				 k[i - 1].link ? k[i - 1].link->name : k[i - 1].by->name,
				 k[i - 1].sha256);
			bad++;
		}
	}
	/* no hole from the lowest seq known to the highest */
	for (size_t i = 1; i < m; i++)
		if (k[i].seq > k[i - 1].seq + 1) {
			diag_add(dl, DIAG_ERROR, (k[i].link ? k[i].link : k[i].by)->name, 0, 0,
				 "seq %" PRIu64 " to %" PRIu64
				 " missing: neither a file nor listed by a merged window or a gap "
				 "marker",
				 k[i - 1].seq + 1, k[i].seq - 1);
			bad++;
		}
	/* each file's prev is the hash of the one before */
	for (size_t i = 0; i < n; i++) {
		if (!v[i].prev || v[i].seq < 2)
			continue;
		const struct known *p = find(k, m, v[i].seq - 1);
		if (p && strcmp(p->sha256, v[i].prev) != 0) {
			diag_add(dl, DIAG_ERROR, v[i].name, 0, 0,
				 "chain broken: prev is %s, but seq %" PRIu64 " (%s%s) has %s",
				 v[i].prev, v[i].seq - 1, p->link ? "" : "listed by ",
				 p->link ? p->link->name : p->by->name, p->sha256);
			bad++;
		}
	}
	free(k);
	return bad;
}
