/* SPDX-License-Identifier: MIT */
/*
 * What every benchmark program needs and none of them measures: the clock,
 * medians of runs, where the source tree and the other programs of the build
 * are, child processes' CPU time, and the options of the agent benchmarks.
 * Linked into every bench_*.c (bench/CMakeLists.txt).
 */
#ifndef SEGPLAN_BENCH_HARNESS_H
#define SEGPLAN_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seconds on the monotonic clock. */
double bench_now(void);

/* qsort order of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* The median of n > 0 values, sorting v: the middle one, for even n the
 * mean of the two middle ones. */
double bench_median(double *v, size_t n);

/* The source tree: argv[i] when given, else $SEGPLAN_SRC when set and not
 * empty, else ".". */
const char *bench_src(int argc, char **argv, int i);

/* This program's path (/proc/self/exe), and a path relative to its folder
 * in the build tree ("../segplan"). 0, or -1 when it cannot be found. */
int bench_self(char *buf, size_t size);
int bench_sibling(char *buf, size_t size, const char *rel);

/* A generated city of `sites` sites with the example policy, in a new folder made from tmpl
 * (mkdtemp); 0 or -1. bench_city_remove deletes it. */
int bench_city_generate(long sites, char *tmpl);
int bench_city_remove(const char *dir);

/* A child run: CPU time (user + system), peak RSS, exit status (128 + the
 * signal when killed, -1 when it did not run). */
struct bench_child {
	double cpu;
	long maxrss_kb;
	int status;
};

/* argv (PATH searched) with stdout to out, or /dev/null, and stderr to
 * /dev/null. */
struct bench_child bench_run_child(char *const argv[], const char *out);

/*
 * The agent benchmarks' options: --packets N --flows N --runs N --agent PATH
 * --keep [FILE] --bare PCAP (the child that reads a capture with a bare
 * libpcap loop: bare(PCAP) is the exit code) and, with a usage text,
 * -h/--help. The defaults are o's on entry; an agent left NULL is the build
 * tree's segplan-agent. -1 to go on, else the exit code.
 */
struct bench_agent_opts {
	uint64_t packets, flows;
	int runs;
	const char *agent;
	bool keep_file;	  /* --keep takes FILE (into keep) rather than nothing */
	const char *keep; /* --keep's FILE, or "" after a bare --keep */
	char agent_buf[4200];
};

int bench_agent_opts(int argc, char **argv, struct bench_agent_opts *o, const char *usage,
		     int (*bare)(const char *path));

#endif
