// SPDX-License-Identifier: MIT
/*
 * bench_topology: load + full analysis (connectivity, resilience, capacity
 * with N-1) of example cities of 850, 10,000 and 100,000 sites, generated
 * into a temporary directory. The baseline in the same run is loading the
 * inventory alone; each size runs in its own child process so that its peak
 * RSS is its own. Usage: bench_topology [REPS] (default 5; the largest city
 * runs at most 3 times).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "core/diag.h"
#include "example/example.h"
#include "inventory/inventory.h"
#include "topology/topo.h"

struct sample {
	double load_s, full_s, analysis_s;
	long rss_kib;
	size_t sites, links, n1_failures;
	int n1_set;
};

static int load(const char *dir, struct inventory **inv)
{
	struct diag_list *dl = diag_list_new();
	if (!dl)
		return -ENOMEM;
	int r = inventory_load(dir, dl, inv);
	diag_list_free(dl);
	return r;
}

/* One load + analysis; fills the sizes of s and the analysis time. */
static int full_run(const char *dir, enum topo_n1_mode n1, struct sample *s, double *analysis_s)
{
	struct inventory *inv = NULL;
	struct topo *t = NULL;
	struct topo_connectivity c = {0};
	struct topo_resilience r = {0};
	struct topo_capacity cap = {0};
	struct topo_capacity_opts o = {.threshold = 0.8, .n1 = n1};
	int e;
	if ((e = load(dir, &inv)) < 0)
		goto out;
	double t0 = bench_now();
	if ((e = topo_new(inv, NULL, &t)) < 0 || (e = topo_connectivity(t, &c)) < 0 ||
	    (e = topo_resilience(t, &r)) < 0 || (e = topo_capacity(t, &o, &cap)) < 0)
		goto out;
	s->sites = inv->nsites;
	s->links = topo_nedges(t);
	s->n1_failures = cap.nfailures;
	s->n1_set = cap.n1_set;
	*analysis_s = bench_now() - t0;
out:
	topo_capacity_free(&cap);
	topo_resilience_free(&r);
	topo_connectivity_free(&c);
	topo_free(t);
	inventory_free(inv);
	return e;
}

static int measure(const char *dir, int reps, enum topo_n1_mode n1, struct sample *out)
{
	double loads[16], fulls[16], analyses[16];
	for (int i = 0; i < reps; i++) {
		struct inventory *inv = NULL;
		double t0 = bench_now();
		int e = load(dir, &inv);
		loads[i] = bench_now() - t0;
		inventory_free(inv);
		if (e < 0)
			return e;
		t0 = bench_now();
		if ((e = full_run(dir, n1, out, &analyses[i])) < 0)
			return e;
		fulls[i] = bench_now() - t0;
	}
	out->load_s = bench_median(loads, reps);
	out->full_s = bench_median(fulls, reps);
	out->analysis_s = bench_median(analyses, reps);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	out->rss_kib = ru.ru_maxrss;
	return 0;
}

/* Runs measure() in a child so that peak RSS belongs to this size alone. */
static int measure_child(const char *dir, int reps, enum topo_n1_mode n1, struct sample *out)
{
	int fd[2];
	if (pipe(fd) < 0)
		return -errno;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(fd[0]);
		struct sample s = {0};
		int e = measure(dir, reps, n1, &s);
		ssize_t w = write(fd[1], &s, sizeof(s));
		_exit(e < 0 || w != (ssize_t)sizeof(s) ? 1 : 0);
	}
	close(fd[1]);
	ssize_t n = read(fd[0], out, sizeof(*out));
	close(fd[0]);
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (n != (ssize_t)sizeof(*out) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -EIO;
	return 0;
}

int main(int argc, char **argv)
{
	static const long sizes[] = {850, 10000, 100000};
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	if (reps < 1 || reps > 15) {
		fprintf(stderr, "usage: bench_topology [REPS 1-15]\n");
		return 2;
	}
	char base[] = "/tmp/bench-topology.XXXXXX";
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 4;
	}
	char day[32];
	time_t tt = time(NULL);
	strftime(day, sizeof(day), "%Y-%m-%d", localtime(&tt));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("bench_topology %s, %ld CPUs; median of %d runs (largest city: %d)\n", day, cpus,
	       reps, reps < 3 ? reps : 3);
	printf("load: inventory_load alone (the baseline); full: load + topo_new + connectivity +\n"
	       "resilience + capacity with N-1; analysis: the part of full after loading;\n"
	       "ratio: analysis / load\n");
	printf("%-8s %-7s %6s %6s %9s %9s %9s %8s %9s\n", "sites", "links", "n1", "fails", "load s",
	       "full s", "analysis", "ratio", "peak RSS");
	int rc = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char dir[256];
		snprintf(dir, sizeof(dir), "%s/city-%ld", base, sizes[i]);
		struct example_opts eo;
		example_opts_default(&eo);
		eo.sites = sizes[i];
		double g0 = bench_now();
		int e = example_generate(&eo, dir, NULL);
		if (e < 0) {
			fprintf(stderr, "example_generate %ld: %s\n", sizes[i], strerror(-e));
			rc = 1;
			break;
		}
		double gen = bench_now() - g0;
		int n = sizes[i] >= 100000 && reps > 3 ? 3 : reps;
		enum topo_n1_mode modes[] = {TOPO_N1_AUTO, TOPO_N1_ALL};
		for (int m = 0; m < (sizes[i] > TOPO_N1_ALL_MAX_SITES ? 2 : 1); m++) {
			struct sample s;
			if ((e = measure_child(dir, n, modes[m], &s)) < 0) {
				fprintf(stderr, "%ld sites: failed (%s)\n", sizes[i], strerror(-e));
				rc = 1;
				continue;
			}
			printf("%-8zu %-7zu %6s %6zu %9.3f %9.3f %9.3f %7.1fx %6.0f MiB\n", s.sites,
			       s.links, s.n1_set == TOPO_N1_ALL ? "all" : "core", s.n1_failures,
			       s.load_s, s.full_s, s.analysis_s, s.analysis_s / s.load_s,
			       (double)s.rss_kib / 1024.0);
		}
		printf("%8s (generating the city took %.2f s)\n", "", gen);
		fflush(stdout);
	}
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	printf("targets: 850 sites under 0.2 s, 100000 sites under 10 s (load + analysis)\n");
	return rc;
}
