// SPDX-License-Identifier: MIT
#include "agent/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

struct cap {
	pcap_t *p;
	char *path;
	int linktype;
};

int cap_open_offline(const char *path, struct diag_list *dl, struct cap **out)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	*out = NULL;
	struct cap *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(path);
	if (!c->path) {
		free(c);
		return -ENOMEM;
	}
	/* Nanosecond precision: libpcap scales microsecond files up. */
	c->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!c->p) {
		/* libpcap prefixes some messages with the path already. */
		const char *msg = err[0] ? err : "unknown libpcap error";
		size_t n = strlen(path);
		if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
			msg += n + 2;
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read capture: %s", msg);
		cap_close(c);
		return -EINVAL;
	}
	c->linktype = pcap_datalink(c->p);
	*out = c;
	return 0;
}

void cap_close(struct cap *c)
{
	if (!c)
		return;
	if (c->p)
		pcap_close(c->p);
	free(c->path);
	free(c);
}

int cap_linktype(const struct cap *c)
{
	return c->linktype;
}

const char *cap_linktype_name(const struct cap *c)
{
	const char *n = pcap_datalink_val_to_name(c->linktype);
	return n ? n : "unknown";
}

void cap_stop(struct cap *c)
{
	pcap_breakloop(c->p);
}

struct run_ctx {
	struct dec *d;
	struct flow_table *ft;
	int linktype;
};

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct run_ctx *r = (struct run_ctx *)arg;
	struct dec_pkt pkt;
	/* Times before 1970 are damaged records: they count as 0. */
	uint64_t ts = h->ts.tv_sec < 0 ? 0
				       : (uint64_t)h->ts.tv_sec * 1000000000ull +
					     (uint64_t)(h->ts.tv_usec < 0 ? 0 : h->ts.tv_usec);
	int rc = dec_packet(r->d, r->linktype, bytes, h->caplen, h->len, ts, &pkt);
	if (rc == DEC_OK && r->ft)
		flow_table_add(r->ft, &pkt, ts);
}

int cap_run(struct cap *c, struct dec *d, struct flow_table *ft, struct diag_list *dl)
{
	struct run_ctx r = {d, ft, c->linktype};
	int n = pcap_loop(c->p, -1, on_packet, (u_char *)&r);
	if (n == PCAP_ERROR_BREAK)
		return -EINTR;
	if (n < 0) {
		diag_add(dl, DIAG_ERROR, c->path, 0, 0, "cannot read capture: %s",
			 pcap_geterr(c->p));
		return -EINVAL;
	}
	return 0;
}
