// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the decoder and the flow table. An input that starts
 * with a pcap or pcapng magic number is read as a capture file (so the
 * shared captures seed it as they are); any other input is one packet whose
 * first byte picks the link type. Built by tests/fuzz/run.sh with
 * clang -fsanitize=fuzzer,address,undefined.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent/decode.h"
#include "agent/flow.h"

static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				DLT_RAW,    DLT_IPV4,	   DLT_IPV6};

static struct dec *dec;
static struct flow_table *ft;

static void sink(void *arg, const struct flow *f, enum flow_end why)
{
	uint64_t *n = arg;
	/* Touch the record so a bad one shows up under the sanitizers. */
	*n += f->packets[0] + f->packets[1] + f->bytes[0] + (uint64_t)why;
}

static uint64_t sunk;

static void setup(void)
{
	struct dec_config dc = {.frag_entries = 16, .frag_timeout_ns = 1000000000ull};
	struct flow_config fc = {.max_flows = 32, .sink = sink, .sink_arg = &sunk, .seed = 1};
	dec = dec_new(&dc);
	if (!dec || flow_table_new(&fc, &ft) != 0)
		__builtin_trap();
}

static void one(int linktype, const uint8_t *p, size_t caplen, size_t len, uint64_t ts)
{
	struct dec_pkt pkt;
	if (dec_packet(dec, linktype, p, caplen, len, ts, &pkt) == DEC_OK)
		flow_table_add(ft, &pkt, ts);
}

static void check(void)
{
	const struct dec_stats *st = dec_stats(dec);
	uint64_t sum = st->decoded + st->held;
	for (int r = 0; r < DEC_R_COUNT; r++)
		sum += st->reasons[r];
	if (sum != st->read)
		__builtin_trap();
}

static void read_capture(const uint8_t *data, size_t size)
{
	char err[PCAP_ERRBUF_SIZE];
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return;
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		fclose(f);
		return;
	}
	int lt = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	while (pcap_next_ex(p, &h, &bytes) == 1)
		one(lt, bytes, h->caplen, h->len,
		    (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec);
	pcap_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t clock;
	if (!dec)
		setup();
	if (size >= 4 &&
	    (memcmp(data, "\xd4\xc3\xb2\xa1", 4) == 0 || memcmp(data, "\xa1\xb2\xc3\xd4", 4) == 0 ||
	     memcmp(data, "\x4d\x3c\xb2\xa1", 4) == 0 || memcmp(data, "\xa1\xb2\x3c\x4d", 4) == 0 ||
	     memcmp(data, "\x0a\x0d\x0d\x0a", 4) == 0)) {
		read_capture(data, size);
	} else if (size >= 1) {
		clock += 100000000ull; /* 0.1 s per input: timeouts and the cache age */
		one(linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))], data + 1,
		    size - 1, size - 1 + (data[0] >> 4) * 1000, clock);
	}
	check();
	return 0;
}
