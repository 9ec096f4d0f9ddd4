// SPDX-License-Identifier: MIT
/*
 * bench_demo: `segplan demo` on the example city against the baseline of
 * the same pipeline as one process per step (what a shell script of the
 * individual commands does: check, topology with two exports, policy
 * compile, vpn, rollout twice, the agent per capture, audit, report).
 * Prints the median wall-clock time of each over --runs runs, and the ratio.
 *
 * usage: bench_demo [--runs N]   (SEGPLAN_SRC: the source tree, default .)
 * segplan and segplan-agent are found in the build tree beside bench/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

#define MAX_RUNS 20
#define DAY	 "2026-03-02"

static char segplan[PATH_MAX], agent[PATH_MAX], inv[PATH_MAX], tmp[PATH_MAX];

/* Runs argv with stdout into out (or /dev/null); false unless it exits with 0 or 1. */
static bool run(char *const argv[], const char *out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out ? out : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0 || waitpid(pid, &st, 0) < 0)
		return false;
	/* audit and vpn exit 1 for findings: the work was done. */
	return WIFEXITED(st) && WEXITSTATUS(st) <= 1;
}

static bool demo_once(int i)
{
	char out[PATH_MAX + 16];
	snprintf(out, sizeof(out), "%s/demo%d", tmp, i);
	char *argv[] = {segplan, "demo",   "--inventory", inv,	    "--out",
			out,	 "--date", DAY,		  "--json", NULL};
	return run(argv, NULL);
}

/* `segplan CMD INVENTORY SUMMARY... OPTS...` as run() runs it. */
static bool run_summaries(const char *cmd, char *const sums[], size_t nsums, char *const opts[],
			  const char *out)
{
	char *argv[24];
	size_t k = 0;
	argv[k++] = segplan;
	argv[k++] = (char *)cmd;
	argv[k++] = inv;
	for (size_t j = 0; j < nsums; j++)
		argv[k++] = sums[j];
	for (size_t j = 0; opts[j]; j++)
		argv[k++] = opts[j];
	argv[k] = NULL;
	return run(argv, out);
}

/* The pipeline step by step, each a process of its own. */
static bool steps_once(int i)
{
	char d[PATH_MAX + 16], f[2 * PATH_MAX + 512], g[2 * PATH_MAX + 512], h[2 * PATH_MAX + 512];
	char *sums[16];
	size_t nsums = 0;
	bool ok = true;
	snprintf(d, sizeof(d), "%s/steps%d", tmp, i);
	mkdir(d, 0755);
#define RUN(out, ...)                                                                              \
	do {                                                                                       \
		char *a_[] = {__VA_ARGS__, NULL};                                                  \
		ok = ok && run(a_, out);                                                           \
	} while (0)
	RUN(NULL, segplan, "check", inv);
	snprintf(f, sizeof(f), "%s/topology.json", d);
	RUN(f, segplan, "topology", inv, "--json");
	snprintf(f, sizeof(f), "%s/map.svg", d);
	RUN(NULL, segplan, "topology", inv, "--export", "svg", "-o", f);
	snprintf(f, sizeof(f), "%s/city.geojson", d);
	RUN(NULL, segplan, "topology", inv, "--export", "geojson", "-o", f);
	snprintf(f, sizeof(f), "%s/rules", d);
	RUN(NULL, segplan, "policy", "compile", inv, "--out", f, "--date", DAY);
	snprintf(f, sizeof(f), "%s/vpn.json", d);
	RUN(f, segplan, "vpn", inv, "--json");
	snprintf(f, sizeof(f), "%s/rollout.csv", d);
	RUN(f, segplan, "rollout", inv, "--csv");
	snprintf(f, sizeof(f), "%s/rollout.json", d);
	RUN(f, segplan, "rollout", inv, "--json");
	char tdir[PATH_MAX + 16];
	snprintf(tdir, sizeof(tdir), "%s/traffic", inv);
	DIR *dh = opendir(tdir);
	struct dirent *e;
	while (ok && dh && (e = readdir(dh)) && nsums < 16) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".pcap") != 0)
			continue;
		snprintf(f, sizeof(f), "%s/%s", tdir, e->d_name);
		snprintf(g, sizeof(g), "%s/rules/%.*s.policy.json", d, (int)(n - 5), e->d_name);
		snprintf(h, sizeof(h), "%s/%.*s.flows.jsonl", d, (int)(n - 5), e->d_name);
		if (asprintf(&sums[nsums], "%s/%.*s.json", d, (int)(n - 5), e->d_name) < 0)
			break;
		RUN(NULL, agent, "--read", f, "--policy", g, "--summary", sums[nsums],
		    "--flows-out", h, "--stats");
		nsums++;
	}
	if (dh)
		closedir(dh);
	snprintf(f, sizeof(f), "%s/audit.json", d);
	char *audit_opts[] = {"--json", "--date", DAY, NULL};
	ok = ok && run_summaries("audit", sums, nsums, audit_opts, f);
	snprintf(g, sizeof(g), "%s/report.html", d);
	char *report_opts[] = {"-o", g, "--date", DAY, NULL};
	ok = ok && run_summaries("report", sums, nsums, report_opts, NULL);
	for (size_t j = 0; j < nsums; j++)
		free(sums[j]);
	return ok && nsums > 0;
#undef RUN
}

int main(int argc, char **argv)
{
	int runs = 3;
	if (argc == 3 && strcmp(argv[1], "--runs") == 0)
		runs = atoi(argv[2]);
	else if (argc != 1) {
		fprintf(stderr, "usage: bench_demo [--runs N]\n");
		return 2;
	}
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "bench_demo: --runs takes 1-%d\n", MAX_RUNS);
		return 2;
	}
	if (bench_sibling(segplan, sizeof(segplan), "../segplan") ||
	    bench_sibling(agent, sizeof(agent), "../agent/segplan-agent"))
		return 1;
	snprintf(inv, sizeof(inv), "%s/examples/stuttgart", bench_src(0, argv, 1));
	if (access(segplan, X_OK) || access(agent, X_OK)) {
		fprintf(stderr, "bench_demo: build segplan and segplan-agent first\n");
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/bench-demo.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	double td[MAX_RUNS], ts[MAX_RUNS];
	bool ok = true;
	for (int i = 0; i < runs && ok; i++) {
		double t = bench_now();
		ok = demo_once(i);
		td[i] = bench_now() - t;
		t = bench_now();
		ok = ok && steps_once(i);
		ts[i] = bench_now() - t;
	}
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_demo: could not remove %s\n", tmp);
	if (!ok) {
		fprintf(stderr, "bench_demo: a run failed\n");
		return 1;
	}
	double md = bench_median(td, runs), ms = bench_median(ts, runs);
	printf("pipeline on %s, median of %d runs (wall clock):\n", inv, runs);
	printf("  segplan demo (one process)          %7.2f s\n", md);
	printf("  the commands, one process per step  %7.2f s\n", ms);
	printf("  ratio demo / steps                  %7.2f\n", md / ms);
	return 0;
}
