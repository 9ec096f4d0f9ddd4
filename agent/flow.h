/* SPDX-License-Identifier: MIT */
/*
 * The flow table: bidirectional flows keyed by the 5-tuple, with per
 * direction packets, IP-layer bytes (IPFIX octetDeltaCount, RFC 7012) and
 * OR-ed TCP flags. The initiator is the side that sent first, or the side
 * that sent the SYN when one is seen (also when the SYN is read after
 * packets it precedes in time). Flows end by idle timeout (per
 * protocol class), active timeout, TCP close (FIN both ways or RST, after a
 * grace), eviction when the table is full, or a final flush; each ended flow
 * is handed to the sink. Time is whatever clock the packets carry: in
 * offline mode the capture's own, so replays give the same flows.
 *
 * An ICMP error is RELATED when the table holds the flow of the packet it
 * quotes (as conntrack has it); related errors and unsolicited ones with the
 * same addresses, type and code are separate records. An error whose quoted
 * flow is missing waits up to a second of the packets' clock for it (the
 * flow's packet may be read after the error) before it counts as unsolicited.
 */
#ifndef SEGPLAN_AGENT_FLOW_H
#define SEGPLAN_AGENT_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "agent/decode.h"

/* Why a flow record was exported. The values are IPFIX flowEndReason
 * (RFC 5102 section 5.11.3). */
enum flow_end {
	FLOW_END_IDLE = 1,    /* idle timeout */
	FLOW_END_ACTIVE = 2,  /* active timeout: the flow goes on in a new record */
	FLOW_END_CLOSED = 3,  /* end of flow detected: TCP FIN both ways or RST */
	FLOW_END_FORCED = 4,  /* flushed at the end of the capture */
	FLOW_END_EVICTED = 5, /* lack of resources: the table was full */
};

/* "idle", "active", "end", "flush", "evicted"; NULL when out of range. */
const char *flow_end_name(enum flow_end e);

#define FLOW_MAX_IFS 3

/* An exported flow record, oriented from the initiator (src) to the
 * responder (dst). Index 0 of the per-direction arrays is src -> dst. */
struct flow {
	uint8_t src[16]; /* IPv4 as ::ffff:a.b.c.d */
	uint8_t dst[16];
	uint16_t sport; /* protocols with ports (core/proto.h); 0 otherwise */
	uint16_t dport;
	uint16_t icmp_id;  /* ICMP/ICMPv6: identifier of query messages */
	uint8_t icmp_type; /* ICMP/ICMPv6: the request's type for query pairs */
	uint8_t icmp_code;
	uint8_t proto;
	uint16_t vlan;	       /* part of the key: only for distinguishing VLANs */
	uint16_t vlan_seen[2]; /* first VLAN id seen per direction, 0 none */
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t packets[2];
	uint64_t bytes[2];
	uint8_t tcp_flags[2];
	uint32_t ifindex[FLOW_MAX_IFS]; /* interfaces seen; 0 ends the list */
	/* ICMP errors RELATED to a flow of the table: each quotes a packet of a
	 * flow the table held when the error was counted (conntrack's view). */
	bool related;
	bool reply_first; /* its first packet answered a request not seen (ICMP reply,
			   * SYN+ACK): conntrack calls such a packet invalid */
};

typedef void (*flow_sink_fn)(void *arg, const struct flow *f, enum flow_end why);

/* Timeouts in nanoseconds of the packets' clock; 0 picks the default. */
struct flow_timeouts {
	uint64_t tcp_ns;    /* idle TCP (default 300 s) */
	uint64_t udp_ns;    /* idle UDP (default 120 s) */
	uint64_t icmp_ns;   /* idle ICMP/ICMPv6 (default 60 s) */
	uint64_t other_ns;  /* idle other protocols (default 120 s) */
	uint64_t active_ns; /* active timeout (default 1800 s) */
	uint64_t close_ns;  /* grace after FIN both ways or RST (default 2 s) */
};

struct flow_config {
	size_t max_flows; /* 0 = FLOW_DEFAULT_MAX */
	struct flow_timeouts timeouts;
	flow_sink_fn sink; /* may be NULL: records are dropped */
	void *sink_arg;
	/*
	 * Did the gateway let flow f through? Asked of the flow an ICMP error
	 * quotes: the error is related only then (conntrack holds no denied
	 * connection). NULL: every flow of the table counts.
	 */
	bool (*parent_passes)(void *arg, const struct flow *f);
	void *parent_arg;
	uint64_t seed; /* hash seed; 0 = random */
};

#define FLOW_DEFAULT_MAX 262144
#define FLOW_LIMIT_MAX	 (1u << 30)

struct flow_stats {
	uint64_t created; /* flows started (a restart after an active timeout is not one) */
	uint64_t expired_idle;
	uint64_t expired_active;
	uint64_t expired_closed;
	uint64_t evicted;
	uint64_t flushed;
	uint64_t records; /* records handed to the sink */
	uint64_t packets; /* packets counted into flows (held fragments included) */
	uint64_t peak;	  /* most flows in the table at once */
};

struct flow_table;

/* 0, -EINVAL (max_flows out of range) or -ENOMEM. */
int flow_table_new(const struct flow_config *cfg, struct flow_table **out);
void flow_table_free(struct flow_table *ft);

/* Makes VLAN vid part of the flow key (overlapping address spaces). By
 * default VLANs are not: a flow routed between two VLANs stays one flow.
 * 0 or -EINVAL (vid above 4095). */
int flow_table_distinguish_vlan(struct flow_table *ft, unsigned vid);

/* Counts one decoded packet at time ts_ns; first expires what the clock
 * has moved past. Never fails: when the table is full the least recently
 * active flow is evicted. An ICMP error that quotes a flow the table does not
 * hold is counted a second later (flow_table_expire(), flow_table_flush()). */
void flow_table_add(struct flow_table *ft, const struct dec_pkt *p, uint64_t ts_ns);

/* Expires flows idle (or closed) as of now_ns; for a clock not driven by
 * packets (live capture on a quiet link). */
void flow_table_expire(struct flow_table *ft, uint64_t now_ns);

/* Exports every remaining flow with FLOW_END_FORCED. */
void flow_table_flush(struct flow_table *ft);

const struct flow_stats *flow_table_stats(const struct flow_table *ft);
size_t flow_table_count(const struct flow_table *ft);
/* Bytes allocated for flow records and the hash index. */
size_t flow_table_mem(const struct flow_table *ft);
/* Bytes per flow record in the table (the record plus its index share). */
size_t flow_table_record_size(void);

#endif
