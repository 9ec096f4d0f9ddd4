/* SPDX-License-Identifier: MIT */
/*
 * Packet sources for the agent, through libpcap: capture files (pcap and
 * pcapng) and live interfaces. cap_run() and cap_dispatch() feed every
 * packet through the decoder into the flow table.
 */
#ifndef SEGPLAN_AGENT_CAPTURE_H
#define SEGPLAN_AGENT_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/decode.h"
#include "agent/flow.h"
#include "core/diag.h"

struct cap;

/*
 * Opens a capture file read with nanosecond timestamps. Returns 0, or
 * -EINVAL with an error diagnostic on path when libpcap refuses the file
 * (missing, unreadable, bad header), or -ENOMEM.
 */
int cap_open_offline(const char *path, struct diag_list *dl, struct cap **out);
void cap_close(struct cap *c);

/* The file's libpcap link type (DLT_*) and its name ("EN10MB"). */
int cap_linktype(const struct cap *c);
const char *cap_linktype_name(const struct cap *c);

/*
 * Reads packets until the end of the file, decoding each and counting the
 * decoded ones into ft (which may be NULL: decode only). Returns 0 at the
 * end, -EINTR when cap_stop() interrupted it, or -EINVAL with a diagnostic
 * when libpcap refuses the rest of the file (truncated record, an interface
 * of another link type in pcapng). Packets before the error stay counted.
 */
int cap_run(struct cap *c, struct dec *d, struct flow_table *ft, struct diag_list *dl);

/* Makes cap_run() return at the next packet; safe in a signal handler. */
void cap_stop(struct cap *c);

/* Live capture settings; zeros pick the defaults. */
struct cap_live_config {
	const char *ifname;
	unsigned buffer_mb;   /* kernel ring, MiB (default 32; libpcap's own is 2) */
	unsigned snaplen;     /* bytes kept per packet (default 256) */
	unsigned timeout_ms;  /* ring block timeout (default 200) */
	const char *filter;   /* BPF expression, also applied inside VLAN tags; NULL all */
	bool both_directions; /* default: inbound only (PCAP_D_IN) */
};

#define CAP_DEFAULT_BUFFER_MB  32
#define CAP_DEFAULT_SNAPLEN    256
#define CAP_DEFAULT_TIMEOUT_MS 200

/*
 * Opens a live capture, non-blocking. Returns 0 (libpcap warnings become
 * DIAG_WARNING diagnostics), -ENODEV when the interface does not exist or
 * is down, -EPERM without CAP_NET_RAW, -EINVAL for a filter libpcap does not
 * compile (an error diagnostic names it), -ENOMEM, or -EIO for other libpcap
 * errors (with a diagnostic).
 */
int cap_open_live(const struct cap_live_config *cfg, struct diag_list *dl, struct cap **out);

/* The libpcap expression a filter F becomes: F for untagged frames or F
 * inside 802.1Q tags, since libpcap matches tagged frames only after a
 * `vlan` keyword. Returns the length snprintf would have written. */
int cap_filter_text(const char *filter, char *buf, size_t size);

/* Compiles a filter (as cap_open_live would) without a capture: 0, or
 * -EINVAL with an error diagnostic. */
int cap_filter_check(const char *filter, struct diag_list *dl);

/* Interface name (NULL offline), its index when opened (0 offline), and a
 * descriptor to poll for readability (-1 offline). */
const char *cap_ifname(const struct cap *c);
uint32_t cap_ifindex(const struct cap *c);
int cap_fd(const struct cap *c);

/*
 * Processes the packets waiting on a live capture (at most max; 0 = one
 * ring's worth), stamping them with the interface index. Returns the
 * number processed, -ENODEV when the interface went away (close and reopen
 * it), or -EIO with a diagnostic.
 */
int cap_dispatch(struct cap *c, struct dec *d, struct flow_table *ft, int max,
		 struct diag_list *dl);

/* Kernel counters of a live capture (pcap_stats): packets the filter
 * passed, dropped for lack of ring space, dropped by the interface. */
struct cap_stats {
	uint64_t received;
	uint64_t dropped;
	uint64_t if_dropped;
};

/* 0, or -ENOTSUP offline. The kernel's 32-bit counters are widened here:
 * the values only grow while the capture is open. */
int cap_stats(struct cap *c, struct cap_stats *out);

#endif
