// SPDX-License-Identifier: MIT
/*
 * How long `segplan example` takes, against two baselines measured in the
 * same run on the same files: writing the same bytes atomically (the I/O
 * floor), and reading the city back with inventory_load (what every command
 * pays for it). Prints medians of RUNS runs and the ratios.
 *
 * usage: bench_example [SITES...]   (default: 850 10000 100000)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "core/atomic.h"
#include "core/diag.h"
#include "example/example.h"
#include "inventory/inventory.h"

#define RUNS 3

static const char *const files[] = {"districts.csv", "sites.csv",	"links.csv",
				    "segments.csv",  "addressplan.csv", "interfaces.csv",
				    "README.md"};
#define NFILES (sizeof(files) / sizeof(files[0]))

static void clean(const char *dir)
{
	char path[4096];
	for (size_t i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
}

/* The generated files in memory, to rewrite them as the I/O baseline. */
struct blob {
	char *data[NFILES];
	size_t len[NFILES];
	size_t total;
};

static int slurp(const char *dir, struct blob *b)
{
	char path[4096];
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		FILE *f = fopen(path, "rb");
		if (!f)
			return -errno;
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		fseek(f, 0, SEEK_SET);
		b->data[i] = malloc((size_t)n + 1);
		if (!b->data[i] || fread(b->data[i], 1, (size_t)n, f) != (size_t)n) {
			fclose(f);
			return -EIO;
		}
		fclose(f);
		b->len[i] = (size_t)n;
		b->total += (size_t)n;
	}
	return 0;
}

static void blob_free(struct blob *b)
{
	for (size_t i = 0; i < NFILES; i++)
		free(b->data[i]);
}

static int bench(const char *dir, long sites)
{
	struct example_opts o;
	struct blob b;
	double gen[RUNS], wr[RUNS], ld[RUNS];
	char path[4096];
	int r = 0;

	example_opts_default(&o);
	o.sites = sites;
	o.force = true;
	for (int k = 0; k < RUNS; k++) {
		clean(dir);
		double t0 = bench_now();
		r = example_generate(&o, dir, NULL);
		gen[k] = bench_now() - t0;
		if (r < 0)
			return r;
	}
	r = slurp(dir, &b);
	if (r < 0) {
		blob_free(&b);
		return r;
	}
	for (int k = 0; k < RUNS && r == 0; k++) {
		clean(dir);
		double t0 = bench_now();
		for (size_t i = 0; i < NFILES && r == 0; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			r = atomic_write(path, b.data[i], b.len[i]);
		}
		wr[k] = bench_now() - t0;
	}
	for (int k = 0; k < RUNS && r == 0; k++) {
		struct diag_list *dl = diag_list_new();
		struct inventory *inv = NULL;
		double t0 = bench_now();
		r = inventory_load(dir, dl, &inv);
		ld[k] = bench_now() - t0;
		inventory_free(inv);
		diag_list_free(dl);
	}
	if (r == 0) {
		double g = bench_median(gen, RUNS), w = bench_median(wr, RUNS),
		       l = bench_median(ld, RUNS);
		printf("%8ld %9.1f %10.3f %10.3f %10.3f %9.1fx %9.2fx\n", sites,
		       (double)b.total / 1e6, g, w, l, g / w, g / l);
	}
	blob_free(&b);
	clean(dir);
	return r;
}

int main(int argc, char **argv)
{
	static const long defaults[] = {850, 10000, 100000};
	char dir[] = "/tmp/bench_example.XXXXXX";
	int rc = 0;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("segplan example: medians of %d runs, seconds; baselines on the same bytes\n", RUNS);
	printf("%8s %9s %10s %10s %10s %10s %10s\n", "sites", "MB", "generate", "write-only",
	       "load", "gen/write", "gen/load");
	size_t n = argc > 1 ? (size_t)(argc - 1) : sizeof(defaults) / sizeof(defaults[0]);
	for (size_t i = 0; i < n; i++) {
		long sites = argc > 1 ? strtol(argv[i + 1], NULL, 10) : defaults[i];
		int r = bench(dir, sites);
		if (r < 0) {
			fprintf(stderr, "bench_example: %ld sites: %s\n", sites, strerror(-r));
			rc = 1;
		}
	}
	rmdir(dir);
	return rc;
}
