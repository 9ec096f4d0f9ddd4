// SPDX-License-Identifier: MIT
/*
 * Agent throughput: generates a capture (default 2,000,000 packets in
 * 200,000 flows: heavy-tailed flow sizes, ~70% TCP / 25% UDP / 5% ICMP,
 * IP packets of 40-1500 bytes, stored with a 128-byte snap length as a flow
 * meter captures), then reads it with a bare libpcap loop, segplan-agent and
 * softflowd, each as a child process, and prints packets per CPU-second
 * (user + system, medians of the runs) side by side with their ratios.
 *
 *   bench_agent [--packets N] [--flows N] [--runs N] [--agent PATH] [--keep FILE]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "craft/craft.h"
#include "harness.h"

#define SEC	   1000000000ull
#define SNAPLEN	   128
#define DURATION_S 600

/* xorshift64*: reproducible captures without libc's rand(). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static size_t between(size_t lo, size_t hi)
{
	return lo + (size_t)(rnd() % (hi - lo + 1));
}

struct gflow {
	uint32_t packets;
	uint8_t proto;
	uint8_t v6;
	uint16_t cport;
	uint16_t sport;
	uint32_t client;
	uint32_t server;
};

struct ev {
	uint64_t ts;
	uint32_t flow;
	uint32_t seq;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Pareto (alpha 1.2) flow sizes scaled to the packet total: a few elephants,
 * many mice, as measured on campus and enterprise links. */
static void flow_sizes(struct gflow *fl, size_t nflows, size_t npackets)
{
	double *raw = malloc(nflows * sizeof(*raw));
	double sum = 0;
	if (!raw)
		exit(4);
	for (size_t i = 0; i < nflows; i++) {
		double u = unit();
		raw[i] = fmin(1.0 / pow(1.0 - u, 1.0 / 1.2), 20000.0);
		sum += raw[i];
	}
	size_t total = 0;
	for (size_t i = 0; i < nflows; i++) {
		double want = raw[i] / sum * (double)(npackets - nflows);
		fl[i].packets = 1 + (uint32_t)want;
		total += fl[i].packets;
	}
	while (total < npackets) {
		fl[rnd() % nflows].packets++;
		total++;
	}
	for (size_t i = 0; total > npackets; i = (i + 1) % nflows)
		if (fl[i].packets > 1) {
			fl[i].packets--;
			total--;
		}
	free(raw);
}

static void addr_text(const struct gflow *f, bool client, char *buf, size_t size)
{
	uint32_t h = client ? f->client : f->server;
	if (f->v6)
		snprintf(buf, size, "2001:db8:%x::%x:%x", client ? 0xc : 0x5, h >> 16, h & 0xffff);
	else
		snprintf(buf, size, "%u.%u.%u.%u", client ? 10 : 172, client ? h >> 16 & 255 : 16,
			 h >> 8 & 255, h & 255);
}

/* One packet of a flow: handshake and FINs for TCP, data in between,
 * echo request/reply for ICMP. */
static size_t gen_packet(const struct gflow *f, uint32_t seq, uint8_t *buf, size_t size,
			 size_t *wire)
{
	char c[64], s[64];
	addr_text(f, true, c, sizeof(c));
	addr_text(f, false, s, sizeof(s));
	struct craft k = {.ip_version = f->v6 ? 6 : 4, .proto = f->proto};
	bool to_server = true;
	size_t hdr = (f->v6 ? 40 : 20) + (f->proto == 6 ? 20 : 8);
	size_t ip = hdr;
	if (f->proto == 6) {
		uint32_t n = f->packets;
		if (seq == 0) {
			k.tcp_flags = 0x02;
		} else if (seq == 1) {
			k.tcp_flags = 0x12;
			to_server = false;
		} else if (n >= 5 && seq >= n - 2) {
			k.tcp_flags = 0x11;
			to_server = seq == n - 2;
		} else {
			to_server = rnd() % 5 < 2;
			k.tcp_flags = 0x10;
			double u = unit();
			if (!to_server && u < 0.6)
				ip = 1500;
			else if (u < 0.8)
				ip = between(hdr, 100);
			else
				ip = between(100, 1500);
			if (ip > hdr)
				k.tcp_flags |= 0x08;
		}
	} else if (f->proto == 17) {
		to_server = seq % 2 == 0;
		ip = between(hdr + 12, 1400);
	} else {
		/* Echo request and reply, as ping sends them (RFC 792, RFC 4443). */
		to_server = seq % 2 == 0;
		if (f->v6)
			k.icmp_type = to_server ? 128 : 129;
		else
			k.icmp_type = to_server ? 8 : 0;
		k.icmp_id = f->cport;
		ip = f->v6 ? 104 : 84;
	}
	k.src = to_server ? c : s;
	k.dst = to_server ? s : c;
	k.sport = to_server ? f->cport : f->sport;
	k.dport = to_server ? f->sport : f->cport;
	k.payload = ip > hdr ? ip - hdr : 0;
	size_t n = craft_packet(&k, DLT_EN10MB, buf, size, NULL);
	*wire = n;
	return n;
}

static int generate(const char *path, size_t npackets, size_t nflows)
{
	static const uint16_t tcp_ports[] = {443, 443, 443, 80, 22, 445, 3389, 8443};
	static const uint16_t udp_ports[] = {53, 53, 123, 443, 514, 161, 5060, 4500};
	struct gflow *fl = calloc(nflows, sizeof(*fl));
	struct ev *ev = malloc(npackets * sizeof(*ev));
	struct craft_writer *w = NULL;
	int rc = 0;
	if (!fl || !ev) {
		rc = -ENOMEM;
		goto out;
	}
	flow_sizes(fl, nflows, npackets);
	size_t e = 0;
	for (size_t i = 0; i < nflows; i++) {
		struct gflow *f = &fl[i];
		double u = unit();
		f->v6 = rnd() % 10 == 0;
		f->proto = u < 0.70 ? 6 : u < 0.95 ? 17 : (f->v6 ? 58 : 1);
		f->client = (uint32_t)(rnd() % 40000);
		f->server = (uint32_t)(rnd() % 3000);
		f->cport = (uint16_t)(1024 + i % 64000);
		f->sport = f->proto == 6 ? tcp_ports[rnd() % 8] : udp_ports[rnd() % 8];
		uint64_t start = (uint64_t)(unit() * DURATION_S * 0.95 * SEC);
		uint64_t room = (uint64_t)DURATION_S * SEC - start;
		uint64_t gap = (uint64_t)(unit() * 0.2 * SEC) + 1000;
		if (gap * f->packets > room)
			gap = room / f->packets;
		for (uint32_t s = 0; s < f->packets; s++)
			ev[e++] = (struct ev){start + gap * s + s, (uint32_t)i, s};
	}
	qsort(ev, npackets, sizeof(*ev), ev_cmp);
	rc = craft_writer_open(path, DLT_EN10MB, &w);
	if (rc)
		goto out;
	uint64_t t0 = 1700000000ull * SEC;
	for (size_t i = 0; i < npackets; i++) {
		uint8_t buf[2048];
		size_t wire;
		size_t n = gen_packet(&fl[ev[i].flow], ev[i].seq, buf, sizeof(buf), &wire);
		if (!n) {
			rc = -EINVAL;
			goto out;
		}
		craft_writer_add(w, t0 + ev[i].ts, buf, wire, SNAPLEN);
	}
	rc = craft_writer_close(w);
	w = NULL;
out:
	craft_writer_close(w);
	free(fl);
	free(ev);
	return rc;
}

static void count_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	uint64_t *acc = (uint64_t *)arg;
	acc[0]++;
	acc[1] += h->len + bytes[h->caplen ? h->caplen - 1 : 0];
}

/* The baseline: libpcap reading every packet and touching its last byte. */
static int bare_loop(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	uint64_t acc[2] = {0, 0};
	pcap_t *p = pcap_open_offline(path, err);
	if (!p) {
		fprintf(stderr, "bench_agent: %s\n", err);
		return 3;
	}
	pcap_loop(p, -1, count_packet, (u_char *)acc);
	pcap_close(p);
	printf("%" PRIu64 " %" PRIu64 "\n", acc[0], acc[1]);
	return 0;
}

struct tool {
	const char *name;
	char *const *argv;
	const char *out;
	double cpu[16];
	long rss;
	bool ok;
	double median;
};

static void measure(struct tool *t, int runs)
{
	t->ok = true;
	for (int i = 0; i < runs; i++) {
		struct bench_child r = bench_run_child(t->argv, t->out);
		if (r.status != 0) {
			fprintf(stderr, "bench_agent: %s exited with %d\n", t->name, r.status);
			t->ok = false;
			return;
		}
		t->cpu[i] = r.cpu;
		if (r.maxrss_kb > t->rss)
			t->rss = r.maxrss_kb;
	}
	t->median = bench_median(t->cpu, (size_t)runs);
}

static bool have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

int main(int argc, char **argv)
{
	struct bench_agent_opts o = {
	    .packets = 2000000, .flows = 200000, .runs = 3, .keep_file = true};
	int rc = bench_agent_opts(
	    argc, argv, &o,
	    "usage: bench_agent [--packets N] [--flows N] [--runs N] [--agent PATH] [--keep FILE]",
	    bare_loop);
	if (rc >= 0)
		return rc;
	size_t npackets = o.packets, nflows = o.flows;
	int runs = o.runs;
	const char *agent = o.agent, *keep = o.keep;
	if (runs < 1 || runs > 16 || nflows == 0 || npackets < nflows) {
		fputs("bench_agent: need 1-16 runs and at least one packet per flow\n", stderr);
		return 2;
	}
	char self[PATH_MAX];
	if (bench_self(self, sizeof(self)))
		return 4;

	char dir[] = "/tmp/bench-agent.XXXXXX";
	if (!mkdtemp(dir))
		return 4;
	char cap[PATH_MAX], flows[PATH_MAX], stats[PATH_MAX];
	snprintf(cap, sizeof(cap), "%s", keep ? keep : "");
	if (!keep)
		snprintf(cap, sizeof(cap), "%s/bench.pcap", dir);
	snprintf(flows, sizeof(flows), "%s/flows.jsonl", dir);
	snprintf(stats, sizeof(stats), "%s/stats.json", dir);

	struct timespec g0, g1;
	clock_gettime(CLOCK_MONOTONIC, &g0);
	if (generate(cap, npackets, nflows) != 0) {
		fprintf(stderr, "bench_agent: cannot write %s\n", cap);
		return 4;
	}
	clock_gettime(CLOCK_MONOTONIC, &g1);
	struct stat st;
	stat(cap, &st);
	printf("capture: %zu packets, %zu flows, %.0f MB (snap length %d), generated in %.1f s\n",
	       npackets, nflows, st.st_size / 1e6, SNAPLEN,
	       (double)(g1.tv_sec - g0.tv_sec) + (g1.tv_nsec - g0.tv_nsec) / 1e9);

	/* Warm the page cache so no run pays for the disk. */
	char *const warm[] = {self, "--bare", cap, NULL};
	bench_run_child(warm, NULL);

	char *const bare_argv[] = {self, "--bare", cap, NULL};
	/* The agent twice: metering alone (flows counted, statistics out), and
	 * with every flow record written as a JSON line. */
	char *const agent_argv[] = {(char *)agent, "--read",  cap, "--max-flows",
				    "262144",	   "--stats", NULL};
	char *const jsonl_argv[] = {(char *)agent, "--read", cap,	"--flows-out", flows,
				    "--max-flows", "262144", "--stats", NULL};
	char *const sfd_argv[] = {"softflowd", "-r", cap, "-D", "-m", "262144", NULL};
	enum { BARE, AGENT, JSONL, SOFTFLOWD, NTOOLS };
	struct tool tools[NTOOLS] = {
	    [BARE] = {.name = "bare libpcap loop", .argv = bare_argv},
	    [AGENT] = {.name = "segplan-agent", .argv = agent_argv, .out = stats},
	    [JSONL] = {.name = "  + --flows-out", .argv = jsonl_argv},
	    [SOFTFLOWD] = {.name = "softflowd -D", .argv = sfd_argv},
	};
	bool sfd = have("softflowd");
	for (size_t i = 0; i < NTOOLS; i++) {
		if (i == SOFTFLOWD && !sfd) {
			fputs("softflowd: not installed (apt-get install softflowd)\n", stdout);
			continue;
		}
		measure(&tools[i], runs);
	}
	printf("\n%-20s %10s %14s %12s %12s\n", "reader", "CPU s", "Mpkt/CPU-s", "CPU vs bare",
	       "peak RSS MB");
	for (size_t i = 0; i < NTOOLS; i++) {
		if (!tools[i].ok)
			continue;
		printf("%-20s %10.3f %14.2f %11.2fx %12.1f\n", tools[i].name, tools[i].median,
		       npackets / tools[i].median / 1e6, tools[i].median / tools[BARE].median,
		       tools[i].rss / 1024.0);
	}
	printf("(median of %d runs each, user + system CPU)\n\n", runs);
	for (int i = AGENT; i <= JSONL; i++) {
		if (!tools[i].ok)
			continue;
		const char *what = i == AGENT ? "segplan-agent" : "with JSON lines";
		if (tools[SOFTFLOWD].ok)
			printf(
			    "%-16s %.2fx the packets per CPU-second of softflowd (target >= 2)\n",
			    what, tools[SOFTFLOWD].median / tools[i].median);
		printf("%-16s %.2fx the CPU time of the bare loop (target <= 3)\n", what,
		       tools[i].median / tools[BARE].median);
	}

	json_error_t jerr;
	json_t *js = tools[AGENT].ok ? json_load_file(stats, 0, &jerr) : NULL;
	if (js) {
		json_t *f = json_object_get(js, "flows");
		json_int_t peak = json_integer_value(json_object_get(f, "peak"));
		json_int_t bytes = json_integer_value(json_object_get(f, "table_bytes"));
		json_int_t created = json_integer_value(json_object_get(f, "created"));
		printf("flows: %" JSON_INTEGER_FORMAT " created, %" JSON_INTEGER_FORMAT
		       " at peak; table %.1f MB = %.0f bytes per flow at peak\n",
		       created, peak, bytes / 1e6, peak ? (double)bytes / (double)peak : 0.0);
		if (peak)
			printf("peak RSS above the bare loop: %.0f bytes per flow at peak\n",
			       (tools[AGENT].rss - tools[BARE].rss) * 1024.0 / (double)peak);
		json_decref(js);
	}
	unlink(flows);
	unlink(stats);
	if (!keep)
		unlink(cap);
	rmdir(dir);
	return 0;
}
