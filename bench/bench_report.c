// SPDX-License-Identifier: MIT
/*
 * bench_report: what `segplan report` costs on example cities (850 sites and
 * a larger one), generated into a temporary directory. Side by side in one
 * run, each with its baseline:
 *  - the zone matrix (zm_compute) against `segplan policy lint` on the same
 *    policy (lint_policy: the same atom model, one pass per gateway view);
 *  - writing the HTML (report_write) against writing the plain SVG map it
 *    embeds (export_svg);
 *  - everything (report_data_load: inventory, topology with N-1, rollout
 *    plan and bound, VPN model, matrix) for the total.
 * Prints medians, ratios and the report's size. Usage: bench_report [REPS]
 * (default 5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "analysis/lint.h"
#include "core/diag.h"
#include "example/example.h"
#include "report/report.h"
#include "report/reportdata.h"
#include "report/zonematrix.h"
#include "topology/export.h"

#define MAX_REPS 50

struct times {
	double all[MAX_REPS], matrix[MAX_REPS], lint[MAX_REPS], html[MAX_REPS], svg[MAX_REPS];
};

static int one_rep(const char *dir, struct times *t, int i, size_t *bytes, size_t *zones)
{
	struct diag_list *dl = diag_list_new();
	struct report_data *d = NULL;
	struct report_data_opts o = {0};
	struct zm_matrix m = {0};
	struct lint_report *lr = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int r = -ENOMEM;
	if (!dl)
		return r;
	double t0 = bench_now();
	if ((r = report_data_load(dir, &o, dl, &d)) < 0)
		goto out;
	t->all[i] = bench_now() - t0;
	struct report_input in = {.source = dir};
	report_data_input(d, &in);
	const struct inventory *inv = topo_inventory(in.topo);

	t0 = bench_now();
	if ((r = zm_compute(in.policy, inv, &m)) < 0)
		goto out;
	t->matrix[i] = bench_now() - t0;
	*zones = m.nzones;
	struct diag_list *ldl = diag_list_new();
	t0 = bench_now();
	r = ldl ? lint_policy(in.policy, inv, NULL, ldl, &lr) : -ENOMEM;
	t->lint[i] = bench_now() - t0;
	diag_list_free(ldl);
	if (r < 0)
		goto out;

	r = -ENOMEM;
	if (!(f = open_memstream(&buf, &len)))
		goto out;
	t0 = bench_now();
	if ((r = report_write(&in, f)) < 0 || fflush(f) != 0)
		goto out;
	t->html[i] = bench_now() - t0;
	*bytes = len;
	rewind(f);
	t0 = bench_now();
	if ((r = export_svg(in.topo, in.res, f)) < 0 || fflush(f) != 0)
		goto out;
	t->svg[i] = bench_now() - t0;
	r = 0;
out:
	if (f)
		fclose(f);
	free(buf);
	lint_report_free(lr);
	zm_matrix_free(&m);
	report_data_free(d);
	diag_list_free(dl);
	return r;
}

static int bench_city(long sites, int reps)
{
	char tmpl[] = "/tmp/bench_report.XXXXXX";
	char dir[64], cmd[128];
	if (!mkdtemp(tmpl))
		return -errno;
	snprintf(dir, sizeof(dir), "%s/city", tmpl);
	struct example_opts eo;
	example_opts_default(&eo);
	eo.sites = sites;
	int r = example_generate(&eo, dir, NULL);
	struct times t;
	size_t bytes = 0, zones = 0;
	for (int i = 0; r == 0 && i < reps; i++)
		r = one_rep(dir, &t, i, &bytes, &zones);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_report: could not remove %s\n", tmpl);
	if (r < 0)
		return r;
	double all = bench_median(t.all, reps), mx = bench_median(t.matrix, reps),
	       li = bench_median(t.lint, reps);
	double html = bench_median(t.html, reps), svg = bench_median(t.svg, reps);
	printf("%7ld sites, %zu zones: everything %.3f s | matrix %.3f s, lint %.3f s (%.2fx) | "
	       "HTML %.4f s, SVG map %.4f s (%.2fx) | report %.0f KB\n",
	       sites, zones, all, mx, li, mx / li, html, svg, html / svg, (double)bytes / 1024);
	return 0;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	if (reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "usage: bench_report [REPS 1-%d]\n", MAX_REPS);
		return 2;
	}
	printf("bench_report: medians of %d runs\n", reps);
	static const long sizes[] = {850, 5000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int r = bench_city(sizes[i], reps);
		if (r < 0) {
			fprintf(stderr, "bench_report: %ld sites: %s\n", sizes[i], strerror(-r));
			return 1;
		}
	}
	return 0;
}
