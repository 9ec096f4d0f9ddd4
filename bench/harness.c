// SPDX-License-Identifier: MIT
#include "harness.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic.h"
#include "example/example.h"
#include "policy/policy.h"

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const char *bench_src(int argc, char **argv, int i)
{
	const char *env = getenv("SEGPLAN_SRC");
	if (argc > i)
		return argv[i];
	return env && *env ? env : ".";
}

int bench_self(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int bench_sibling(char *buf, size_t size, const char *rel)
{
	char self[4096];
	if (bench_self(self, sizeof(self)))
		return -1;
	int n = snprintf(buf, size, "%.*s/%s", (int)(strrchr(self, '/') - self), self, rel);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

struct bench_child bench_run_child(char *const argv[], const char *out)
{
	struct bench_child r = {0, 0, -1};
	pid_t pid = fork();
	if (pid == 0) {
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int n = open("/dev/null", O_WRONLY);
		if (o < 0 || n < 0)
			_exit(127);
		dup2(o, 1);
		dup2(n, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return r;
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) != pid)
		return r;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	r.maxrss_kb = ru.ru_maxrss;
	return r;
}

int bench_agent_opts(int argc, char **argv, struct bench_agent_opts *o, const char *usage,
		     int (*bare)(const char *path))
{
	const struct option lo[] = {
	    {"packets", required_argument, NULL, 'p'},
	    {"flows", required_argument, NULL, 'f'},
	    {"runs", required_argument, NULL, 'r'},
	    {"agent", required_argument, NULL, 'a'},
	    {"keep", o->keep_file ? required_argument : no_argument, NULL, 'k'},
	    {"bare", required_argument, NULL, 'b'},
	    {usage ? "help" : NULL, no_argument, NULL, 'h'}, /* NULL: the end */
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, usage ? "h" : "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->packets = strtoull(optarg, NULL, 10);
			break;
		case 'f':
			o->flows = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			o->runs = atoi(optarg);
			break;
		case 'a':
			o->agent = optarg;
			break;
		case 'k':
			o->keep = o->keep_file ? optarg : "";
			break;
		case 'b':
			return bare(optarg);
		case 'h':
			if (usage) {
				puts(usage);
				return 0;
			}
			return 2;
		default:
			return 2;
		}
	}
	if (!o->agent) {
		/* bench/ and agent/ are siblings in the build tree */
		if (bench_sibling(o->agent_buf, sizeof(o->agent_buf), "../agent/segplan-agent"))
			return 4;
		o->agent = o->agent_buf;
	}
	return -1;
}

int bench_city_generate(long sites, char *tmpl)
{
	char path[4096];
	struct example_opts o;
	if (!mkdtemp(tmpl))
		return -1;
	example_opts_default(&o);
	o.sites = sites;
	o.force = true;
	snprintf(path, sizeof(path), "%s/policy.yaml", tmpl);
	if (example_generate(&o, tmpl, NULL) < 0 ||
	    atomic_write(path, policy_example_yaml, strlen(policy_example_yaml)) < 0)
		return -1;
	return 0;
}

int bench_city_remove(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}
