// SPDX-License-Identifier: MIT
#include "agent/capture.h"

#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cap {
	pcap_t *p;
	char *path; /* file, or interface name */
	int linktype;
	bool live;
	uint32_t ifindex;
	int fd;
	/* pcap_stats() counters are 32 bits: widened by their last values. */
	struct pcap_stat last;
	struct cap_stats total;
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
	uint32_t ifindex;
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
	if (rc == DEC_OK && r->ft) {
		if (!pkt.ifindex)
			pkt.ifindex = r->ifindex;
		flow_table_add(r->ft, &pkt, ts);
	}
}

int cap_run(struct cap *c, struct dec *d, struct flow_table *ft, struct diag_list *dl)
{
	struct run_ctx r = {d, ft, c->linktype, c->ifindex};
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

int cap_filter_text(const char *filter, char *buf, size_t size)
{
	return snprintf(buf, size, "(%s) or (vlan and (%s))", filter, filter);
}

static int set_filter_prog(struct cap *c, const char *filter, struct diag_list *dl, bool install);

int cap_filter_check(const char *filter, struct diag_list *dl)
{
	struct cap c = {0};
	c.p = pcap_open_dead(DLT_EN10MB, CAP_DEFAULT_SNAPLEN);
	if (!c.p)
		return -ENOMEM;
	char name[] = "filter";
	c.path = name;
	int rc = set_filter_prog(&c, filter, dl, false);
	pcap_close(c.p);
	return rc;
}

/* libpcap's error codes of pcap_activate() as errnos. */
static int activate_errno(int rc)
{
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
	case PCAP_ERROR_IFACE_NOT_UP:
		return -ENODEV;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return -EPERM;
	default:
		return -EIO;
	}
}

static int set_filter_prog(struct cap *c, const char *filter, struct diag_list *dl, bool install)
{
	struct bpf_program prog;
	int n = cap_filter_text(filter, NULL, 0);
	char *text = malloc((size_t)n + 1);
	if (!text)
		return -ENOMEM;
	cap_filter_text(filter, text, (size_t)n + 1);
	int rc = 0;
	if (pcap_compile(c->p, &prog, text, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		diag_add(dl, DIAG_ERROR, "--filter", 0, 0, "bad capture filter '%s': %s", filter,
			 pcap_geterr(c->p));
		rc = -EINVAL;
	} else {
		if (install && pcap_setfilter(c->p, &prog) != 0) {
			diag_add(dl, DIAG_ERROR, c->path, 0, 0, "cannot set capture filter: %s",
				 pcap_geterr(c->p));
			rc = -EIO;
		}
		pcap_freecode(&prog);
	}
	free(text);
	return rc;
}

int cap_open_live(const struct cap_live_config *cfg, struct diag_list *dl, struct cap **out)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	int rc = 0;
	*out = NULL;
	struct cap *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->live = true;
	c->fd = -1;
	c->path = strdup(cfg->ifname);
	if (!c->path) {
		rc = -ENOMEM;
		goto out;
	}
	c->ifindex = if_nametoindex(cfg->ifname);
	if (!c->ifindex) {
		rc = -ENODEV;
		goto out;
	}
	c->p = pcap_create(cfg->ifname, err);
	if (!c->p) {
		diag_add(dl, DIAG_ERROR, c->path, 0, 0, "cannot capture: %s", err);
		rc = -EIO;
		goto out;
	}
	unsigned mb = cfg->buffer_mb ? cfg->buffer_mb : CAP_DEFAULT_BUFFER_MB;
	/* The snap length must cover stacked VLAN tags and IPv6 extension
	 * headers before the transport header (docs/agent.md). */
	pcap_set_snaplen(c->p, (int)(cfg->snaplen ? cfg->snaplen : CAP_DEFAULT_SNAPLEN));
	pcap_set_buffer_size(c->p, (int)(mb * 1024u * 1024u));
	/* A zero timeout on TPACKET_V3 never hands over a partly filled block. */
	pcap_set_timeout(c->p, (int)(cfg->timeout_ms ? cfg->timeout_ms : CAP_DEFAULT_TIMEOUT_MS));
	pcap_set_promisc(c->p, 0);
	pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO);
	int a = pcap_activate(c->p);
	if (a > 0) {
		diag_add(dl, DIAG_WARNING, c->path, 0, 0, "capture: %s", pcap_geterr(c->p));
	} else if (a < 0) {
		rc = activate_errno(a);
		if (rc != -ENODEV)
			diag_add(dl, DIAG_ERROR, c->path, 0, 0, "cannot capture: %s",
				 a == PCAP_ERROR ? pcap_geterr(c->p) : pcap_statustostr(a));
		goto out;
	}
	/* A packet routed from one captured interface to another is seen on
	 * both; counting inbound only counts it once. */
	if (!cfg->both_directions && pcap_setdirection(c->p, PCAP_D_IN) != 0)
		diag_add(dl, DIAG_WARNING, c->path, 0, 0, "cannot capture inbound only: %s",
			 pcap_geterr(c->p));
	if (cfg->filter && (rc = set_filter_prog(c, cfg->filter, dl, true)) != 0)
		goto out;
	if (pcap_setnonblock(c->p, 1, err) != 0) {
		diag_add(dl, DIAG_ERROR, c->path, 0, 0, "cannot capture: %s", err);
		rc = -EIO;
		goto out;
	}
	c->fd = pcap_get_selectable_fd(c->p);
	c->linktype = pcap_datalink(c->p);
	if (!dec_linktype_supported(c->linktype))
		diag_add(dl, DIAG_WARNING, c->path, 0, 0,
			 "link type %s is not decoded: its packets count as unsupported",
			 cap_linktype_name(c));
out:
	if (rc) {
		cap_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

const char *cap_ifname(const struct cap *c)
{
	return c->live ? c->path : NULL;
}

uint32_t cap_ifindex(const struct cap *c)
{
	return c->ifindex;
}

int cap_fd(const struct cap *c)
{
	return c->fd;
}

int cap_dispatch(struct cap *c, struct dec *d, struct flow_table *ft, int max, struct diag_list *dl)
{
	struct run_ctx r = {d, ft, c->linktype, c->ifindex};
	int n = pcap_dispatch(c->p, max > 0 ? max : -1, on_packet, (u_char *)&r);
	if (n >= 0 || n == PCAP_ERROR_BREAK)
		return n < 0 ? 0 : n;
	/* An interface that was deleted or went down ends the handle: the
	 * caller reopens it when netlink reports the interface again. */
	diag_add(dl, DIAG_WARNING, c->path, 0, 0, "capture ended: %s", pcap_geterr(c->p));
	return n == PCAP_ERROR_IFACE_NOT_UP || if_nametoindex(c->path) != c->ifindex ? -ENODEV
										     : -EIO;
}

static uint64_t widen(uint64_t total, u_int *last, u_int now)
{
	total += (u_int)(now - *last);
	*last = now;
	return total;
}

int cap_stats(struct cap *c, struct cap_stats *out)
{
	struct pcap_stat st;
	if (!c->live)
		return -ENOTSUP;
	if (pcap_stats(c->p, &st) == 0) {
		c->total.received = widen(c->total.received, &c->last.ps_recv, st.ps_recv);
		c->total.dropped = widen(c->total.dropped, &c->last.ps_drop, st.ps_drop);
		c->total.if_dropped = widen(c->total.if_dropped, &c->last.ps_ifdrop, st.ps_ifdrop);
	}
	*out = c->total;
	return 0;
}
