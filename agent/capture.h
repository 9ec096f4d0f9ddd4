/* SPDX-License-Identifier: MIT */
/*
 * Packet sources for the agent, through libpcap: capture files (pcap and
 * pcapng) now; the same handle will carry live capture. cap_run() feeds
 * every packet through the decoder into the flow table.
 */
#ifndef SEGPLAN_AGENT_CAPTURE_H
#define SEGPLAN_AGENT_CAPTURE_H

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

#endif
