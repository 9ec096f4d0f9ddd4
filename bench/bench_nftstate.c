// SPDX-License-Identifier: MIT
/*
 * bench_nftstate: reading a gateway's live table over netlink (nfts_read:
 * rules with counters and comments, sets with elements, fingerprints)
 * against the baseline of having libnftables print it (`list table`, text
 * only, before any parsing of that text), on the same table in one
 * invocation. Runs in a scratch network namespace; needs root.
 *
 * usage: bench_nftstate [RUNS]   (default 5; prints medians in ms)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "harness.h"
#include "nftstate/nftstate.h"

/* The compiler's shape at a given size: one interval set of host
 * addresses, one counted rule per policy rule. */
static char *make_table(int rules, int elems)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fputs("table inet segplan\ndelete table inet segplan\ntable inet segplan {\n"
	      "  set hosts { type ipv4_addr; flags interval; elements = { ",
	      f);
	for (int i = 0; i < elems; i++)
		fprintf(f, "%s10.%d.%d.%d", i ? ", " : "", 100 + i / 32768, (i / 128) % 256,
			(i % 128) * 2);
	fputs(" } }\n  chain forward { type filter hook forward priority 0; policy drop;\n"
	      "    ct state established,related accept\n",
	      f);
	for (int i = 0; i < rules; i++)
		fprintf(f,
			"    ip saddr @hosts ip daddr 10.99.%d.%d tcp dport %d counter accept "
			"comment \"rule:r%d\"\n",
			i / 250, i % 250 + 1, 1024 + i, i);
	fputs("  }\n}\n", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int run(struct nft_ctx *ctx, const char *cmd)
{
	return nft_run_cmd_from_buffer(ctx, cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	static const int sizes[][2] = {{100, 1000}, {1000, 10000}, {4000, 50000}};
	if (runs < 1 || runs > 100) {
		fprintf(stderr, "usage: bench_nftstate [RUNS 1-100]\n");
		return 2;
	}
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "bench_nftstate: needs root for a scratch network namespace\n");
		return 77;
	}
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	double *base = calloc((size_t)runs, sizeof(double));
	double *read = calloc((size_t)runs, sizeof(double));
	if (!ctx || !base || !read || nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx))
		return 4;
	printf("%6s %8s %16s %14s %8s\n", "rules", "elements", "nft list (text)", "nfts_read",
	       "ratio");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		char *table = make_table(sizes[s][0], sizes[s][1]);
		if (!table || run(ctx, table) != 0) {
			fprintf(stderr, "load: %s\n", nft_ctx_get_error_buffer(ctx));
			return 4;
		}
		free(table);
		size_t nrules = 0, nelems = 0;
		for (int i = 0; i < runs; i++) {
			double t0 = bench_now();
			if (run(ctx, "list table inet segplan") != 0)
				return 4;
			double t1 = bench_now();
			struct nfts *st;
			int r = nfts_read("inet", "segplan", &st);
			double t2 = bench_now();
			if (r < 0) {
				fprintf(stderr, "nfts_read: %s\n", strerror(-r));
				return 4;
			}
			nrules = nfts_nrules(st);
			nelems = nfts_set_find(st, "hosts")->nelems;
			nfts_free(st);
			base[i] = (t1 - t0) * 1e3;
			read[i] = (t2 - t1) * 1e3;
		}
		double b = bench_median(base, runs), r = bench_median(read, runs);
		printf("%6zu %8zu %13.1f ms %11.1f ms %7.2fx\n", nrules - 1, nelems, b, r, b / r);
	}
	nft_ctx_free(ctx);
	free(base);
	free(read);
	return 0;
}
