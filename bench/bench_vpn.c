// SPDX-License-Identifier: MIT
/*
 * bench_vpn: the whole VPN model (vpn_compute: tunnels, Engset, Erlang B,
 * throughput, Monte Carlo, three max-user searches, horizon) on the example
 * vpn.yaml, against a baseline of only loading and validating vpn.yaml.
 * Prints the median of several runs of each and their ratio.
 *
 * usage: bench_vpn [RUNS] [SAMPLES]   (defaults 9 and 2000, as the CLI)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "vpn/vpn.h"

static struct vpn_config *load(struct diag_list *dl)
{
	struct vpn_config *c = NULL;
	if (vpn_load_buffer(vpn_example_yaml, strlen(vpn_example_yaml), "vpn.yaml", dl, &c) < 0)
		return NULL;
	return c;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 9;
	long samples = argc > 2 ? atol(argv[2]) : 2000;
	if (runs < 1 || runs > 1000 || samples < 1) {
		fprintf(stderr, "usage: bench_vpn [RUNS 1-1000] [SAMPLES >= 1]\n");
		return 2;
	}
	double *base = calloc((size_t)runs, sizeof(double));
	double *full = calloc((size_t)runs, sizeof(double));
	struct diag_list *dl = diag_list_new();
	if (!base || !full || !dl)
		return 4;
	struct vpn_result r = {0};
	for (int i = 0; i < runs; i++) {
		double t0 = bench_now();
		struct vpn_config *c = load(dl);
		double t1 = bench_now();
		if (!c) {
			diag_write(dl, stderr);
			return 3;
		}
		vpn_config_free(c);
		base[i] = t1 - t0;

		t0 = bench_now();
		c = load(dl);
		struct vpn_options o = {.users = 0, .samples = samples, .seed = 1};
		vpn_result_free(&r);
		int rc = c ? vpn_compute(c, &o, &r) : -1;
		t1 = bench_now();
		vpn_config_free(c);
		if (rc < 0) {
			fprintf(stderr, "vpn_compute failed: %d\n", rc);
			return 4;
		}
		full[i] = t1 - t0;
	}
	double mb = bench_median(base, runs), mf = bench_median(full, runs);
	printf("bench_vpn: example vpn.yaml, %d runs, %ld Monte Carlo samples\n", runs, samples);
	printf("  baseline  load vpn.yaml           median %10.3f ms\n", mb * 1e3);
	printf("  full      load + vpn_compute      median %10.3f ms\n", mf * 1e3);
	printf("  ratio full / baseline             %10.0f x\n", mb > 0 ? mf / mb : 0);
	printf("  result: tunnels %ld (Engset %ld, Erlang B %ld), throughput %.1f Mbit/s, "
	       "Monte Carlo %+.2f%%, max users normal %ld, N-1 %ld\n",
	       r.now.tunnels, r.tunnels_engset, r.tunnels_erlang_b, r.now.mbps, 100 * r.mc_rel_diff,
	       r.max_users[VPN_NORMAL], r.max_users_n1);
	vpn_result_free(&r);
	diag_list_free(dl);
	free(base);
	free(full);
	return 0;
}
