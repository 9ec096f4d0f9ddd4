// SPDX-License-Identifier: MIT
/*
 * What classification costs the agent: one capture of gateway traffic
 * (default 1,000,000 packets in 100,000 connections between the zones of a
 * hand-made policy table: allowed web, denied ssh, unassigned, internet,
 * another site's hosts, VPN users), read by
 *   - a bare libpcap loop (in a child, the floor),
 *   - segplan-agent --read (flows only),
 *   - segplan-agent --read --policy --summary (every flow classified once,
 *     the segment summary built and written),
 * each a child process, CPU time (user + system) medians side by side.
 *
 *   bench_agentlive [--packets N] [--flows N] [--runs N] [--agent PATH] [--keep]
 *
 * --keep leaves the capture and the policy in the temporary directory (for
 * perf).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "craft/craft.h"
#include "harness.h"

#define SEC	   1000000000ull
#define MAX_RUNS   15
#define POLICY_FMT "%s/S1.policy.json"

static const char policy_json[] =
    "{\"format\": 1, \"generator\": \"bench\", \"gateway\": \"S1\", \"district\": \"Mitte\",\n"
    " \"mode\": \"enforce\", \"policy_hash\": \"sha256:0\", \"date\": \"2026-01-01\",\n"
    " \"zones\": [{\"name\": \"admin\", \"kind\": \"segment\"},\n"
    "           {\"name\": \"servers\", \"kind\": \"segment\"},\n"
    "           {\"name\": \"vpn-staff\", \"kind\": \"vpn\"},\n"
    "           {\"name\": \"internet\", \"kind\": \"internet\"},\n"
    "           {\"name\": \"unassigned\", \"kind\": \"unassigned\"}],\n"
    " \"sites\": [\"S1\"],\n"
    " \"lists\": {\"zones\": [[\"10.0.0.0/16\", \"admin\"], [\"10.1.0.0/16\", \"servers\"],\n"
    "                       [\"10.200.0.0/16\", \"vpn-staff\"]],\n"
    "           \"city\": [\"10.0.0.0/8\"], \"local\": [\"10.0.1.0/24\", \"10.1.1.0/24\"],\n"
    "           \"district\": [], \"dc\": [], \"sites\": []},\n"
    " \"rules\": [\n"
    "  {\"id\": \"web\", \"action\": \"accept\", \"scope\": \"any\", \"log\": false,\n"
    "   \"exception\": false, \"from\": [\"admin\", \"vpn-staff\"], \"to\": [\"servers\"],\n"
    "   \"services\": {\"ports\": [{\"proto\": 6, \"from\": 80, \"to\": 80},\n"
    "                {\"proto\": 6, \"from\": 443, \"to\": 443}], \"icmp\": [8],\n"
    "                \"icmpv6\": [], \"protocols\": []}},\n"
    "  {\"id\": \"out\", \"action\": \"accept\", \"scope\": \"any\", \"log\": false,\n"
    "   \"exception\": false, \"from\": [\"admin\"], \"to\": [\"internet\"],\n"
    "   \"services\": \"any\"},\n"
    "  {\"id\": \"no-unassigned\", \"action\": \"drop\", \"scope\": \"any\", \"log\": false,\n"
    "   \"exception\": false, \"from\": \"any\", \"to\": [\"unassigned\"], \"services\": "
    "\"any\"}]}\n";

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* One connection's ends by kind: the mix a site gateway sees. */
static void ends(uint64_t i, char *src, char *dst, uint16_t *dport)
{
	unsigned a = (unsigned)(next() % 250) + 1, b = (unsigned)(next() % 250) + 1;
	switch (i % 10) {
	case 0:
	case 1:
	case 2:
	case 3: /* local clients to local servers, web */
		sprintf(src, "10.0.1.%u", a);
		sprintf(dst, "10.1.1.%u", b);
		*dport = i % 2 ? 443 : 80;
		break;
	case 4: /* denied: ssh */
		sprintf(src, "10.0.1.%u", a);
		sprintf(dst, "10.1.1.%u", b);
		*dport = 22;
		break;
	case 5:
	case 6: /* out to the internet */
		sprintf(src, "10.0.1.%u", a);
		sprintf(dst, "198.51.%u.%u", a, b);
		*dport = 443;
		break;
	case 7: /* unassigned */
		sprintf(src, "10.0.1.%u", a);
		sprintf(dst, "10.77.%u.%u", a, b);
		*dport = 445;
		break;
	case 8: /* VPN users */
		sprintf(src, "10.200.%u.%u", a, b);
		sprintf(dst, "10.1.1.%u", b);
		*dport = 443;
		break;
	default: /* another site's clients: not ours */
		sprintf(src, "10.0.7.%u", a);
		sprintf(dst, "10.1.1.%u", b);
		*dport = 80;
		break;
	}
}

static int generate(const char *path, uint64_t packets, uint64_t flows)
{
	struct craft_writer *w;
	if (craft_writer_open(path, DLT_EN10MB, &w) != 0)
		return -1;
	uint64_t per = packets / flows;
	uint8_t buf[256];
	for (uint64_t f = 0; f < flows; f++) {
		char src[32], dst[32];
		uint16_t dport;
		ends(f, src, dst, &dport);
		uint16_t sport = (uint16_t)(1024 + f % 60000);
		uint64_t t0 = SEC * 1700000000ull + f * 3000000ull; /* 300 s of traffic */
		for (uint64_t k = 0; k < per; k++) {
			bool back = k % 2 == 1;
			struct craft c = {.ip_version = 4,
					  .src = back ? dst : src,
					  .dst = back ? src : dst,
					  .proto = 6,
					  .sport = back ? dport : sport,
					  .dport = back ? sport : dport,
					  .tcp_flags = k == 0	? 0x02
						       : k == 1 ? 0x12
								: 0x10,
					  .payload = k < 2 ? 0 : 60 + (size_t)(next() % 1200)};
			size_t n = craft_packet(&c, DLT_EN10MB, buf, sizeof(buf), NULL);
			craft_writer_add(w, t0 + k * 1000000ull, buf, n, n < 128 ? n : 128);
		}
	}
	return craft_writer_close(w);
}

static void count_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	uint64_t *acc = (uint64_t *)arg;
	acc[0]++;
	acc[1] += h->len + bytes[0];
}

static int bare_loop(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	uint64_t acc[2] = {0, 0};
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p)
		return 3;
	pcap_loop(p, -1, count_packet, (u_char *)acc);
	pcap_close(p);
	printf("%" PRIu64 "\n", acc[0] + (acc[1] & 1));
	return 0;
}

/* The median CPU seconds of runs child runs; negative when one failed. */
static double median(char *const argv[], int runs)
{
	double v[MAX_RUNS];
	for (int i = 0; i < runs; i++) {
		struct bench_child r = bench_run_child(argv, NULL);
		if (r.status != 0)
			return -1;
		v[i] = r.cpu;
	}
	return bench_median(v, (size_t)runs);
}

int main(int argc, char **argv)
{
	struct bench_agent_opts o = {.packets = 1000000, .flows = 100000, .runs = 5};
	int rc = bench_agent_opts(argc, argv, &o, NULL, bare_loop);
	if (rc >= 0)
		return rc;
	uint64_t packets = o.packets, flows = o.flows;
	int runs = o.runs;
	bool keep = o.keep != NULL;
	const char *agent = o.agent;
	if (runs < 1 || runs > MAX_RUNS || !flows || packets < flows * 2) {
		fprintf(stderr, "bench_agentlive: bad --runs, --flows or --packets\n");
		return 2;
	}
	char self[4096];
	if (bench_self(self, sizeof(self)))
		return 4;
	char dir[] = "/tmp/bench_agentlive.XXXXXX";
	if (!mkdtemp(dir))
		return 4;
	char cap[64], pol[64], sum[64];
	snprintf(cap, sizeof(cap), "%s/gw.pcap", dir);
	snprintf(pol, sizeof(pol), POLICY_FMT, dir);
	snprintf(sum, sizeof(sum), "%s/summary.json", dir);
	FILE *pf = fopen(pol, "w");
	if (!pf || fputs(policy_json, pf) < 0 || fclose(pf) != 0 ||
	    generate(cap, packets, flows) != 0) {
		fprintf(stderr, "bench_agentlive: cannot write the inputs in %s\n", dir);
		return 4;
	}
	printf("capture: %" PRIu64 " packets in %" PRIu64 " connections\n", packets, flows);
	char *bare[] = {self, "--bare", cap, NULL};
	char *plain[] = {(char *)agent, "--read", cap, "--stats", NULL};
	char *classify[] = {(char *)agent, "--read",	cap, "--stats", "--policy",
			    pol,	   "--summary", sum, NULL};
	double tb = median(bare, runs), tp = median(plain, runs), tc = median(classify, runs);
	rc = 0;
	if (tb < 0 || tp < 0 || tc < 0) {
		fprintf(stderr, "bench_agentlive: a run failed (agent %s)\n", agent);
		rc = 1;
	} else {
		printf("\n%-40s %8s %12s\n", "reader", "CPU s", "vs bare");
		printf("%-40s %8.3f %11.2fx\n", "bare libpcap loop", tb, 1.0);
		printf("%-40s %8.3f %11.2fx\n", "segplan-agent --read", tp, tp / tb);
		printf("%-40s %8.3f %11.2fx\n", "  + --policy --summary (classified)", tc, tc / tb);
		printf("(median of %d runs each, user + system CPU)\n\n", runs);
		printf("classification and summary: %.0f ns per connection, %.2fx the flows-only "
		       "agent\n",
		       (tc - tp) / (double)flows * 1e9, tc / tp);
		printf("classified agent %.2fx the CPU time of the bare loop (target <= 3)\n",
		       tc / tb);
	}
	if (keep) {
		printf("kept: %s\n", dir);
		return rc;
	}
	unlink(cap);
	unlink(pol);
	unlink(sum);
	rmdir(dir);
	return rc;
}
