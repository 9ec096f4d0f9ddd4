/* SPDX-License-Identifier: MIT */
/*
 * IPFIX export (RFC 7011) over UDP of the agent's bidirectional flow
 * records (RFC 5103). Records are buffered into messages of at most
 * max_message bytes; a message goes out when the next record would not fit,
 * on ipfix_flush(), or from ipfix_poll() once it has waited max_delay. The
 * two templates (IPv4 and IPv6 biflows, docs/ipfix.md) are sent in the first
 * message and again every refresh_seconds and every refresh_messages
 * messages (RFC 7011 section 8.4: a UDP collector that restarted learns them
 * again). The socket is non-blocking: a message the kernel does not take
 * at once is dropped and counted, never waited for; the sequence number
 * still advances, so the collector sees the loss.
 */
#ifndef SEGPLAN_AGENT_IPFIX_H
#define SEGPLAN_AGENT_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "agent/flow.h"
#include "agent/pseudo.h"

#define IPFIX_PORT	      4739 /* IANA "ipfix" */
#define IPFIX_TEMPLATE_V4     256
#define IPFIX_TEMPLATE_V6     257
#define IPFIX_PEN_REVERSE     29305 /* RFC 5103 section 6.1 */
#define IPFIX_MESSAGE_MIN     512   /* RFC 7011 section 10.3.3: always fits a path */
#define IPFIX_MESSAGE_MAX     65507 /* largest UDP payload over IPv4 */
#define IPFIX_MESSAGE_DEFAULT 1400

struct ipfix_config {
	size_t max_message;	   /* bytes per message; 0 = 1400, else 512 to 65507 */
	unsigned refresh_seconds;  /* template refresh period; 0 = 60 */
	unsigned refresh_messages; /* template refresh every N messages; 0 = 100 */
	unsigned max_delay_ms;	   /* ipfix_poll() sends records older than this; 0 = 1000 */
	/* Replaces every address by its pseudonym (agent/pseudo.h); may be NULL. */
	const struct pseudo *pseudo;
	/* Wall clock in ns since the epoch, for the Export Time and the
	 * refresh period; NULL = CLOCK_REALTIME. */
	uint64_t (*clock_ns)(void *arg);
	void *clock_arg;
};

struct ipfix_stats {
	uint64_t messages;	 /* messages handed to the kernel */
	uint64_t records;	 /* data records in them */
	uint64_t bytes;		 /* bytes in them */
	uint64_t template_sends; /* messages that carried the templates */
	uint64_t send_errors;	 /* messages the kernel refused (full buffer, unreachable) */
	uint64_t records_lost;	 /* data records in those */
	int last_error;		 /* errno of the last refused message, 0 none */
};

struct ipfix_exporter;

/*
 * A UDP exporter to host_port: "HOST:PORT", "[IPv6]:PORT", or a HOST alone
 * for port 4739; HOST is an address or a name resolved once, here.
 * observation_domain goes into every message header; cfg may be NULL for
 * the defaults. Returns NULL with *err set: -EINVAL (host_port or cfg
 * malformed), -ENOENT (the name does not resolve), -ENOMEM, or the errno of
 * the socket calls.
 */
struct ipfix_exporter *ipfix_exporter_new(const char *host_port, uint32_t observation_domain,
					  const struct ipfix_config *cfg, int *err);

/* Sends what is buffered, then frees; NULL is a no-op. */
void ipfix_exporter_free(struct ipfix_exporter *x);

/* Buffers one flow record; sends the message before it when it is full.
 * Never blocks. */
void ipfix_export(struct ipfix_exporter *x, const struct flow *f, enum flow_end why);

/* Matches flow_sink_fn; arg is the exporter. */
void ipfix_sink(void *arg, const struct flow *f, enum flow_end why);

/* Sends the buffered records now (nothing when there are none). */
void ipfix_flush(struct ipfix_exporter *x);

/* Sends the buffered records if the oldest has waited max_delay_ms: for a
 * timer in live capture, so that a quiet link does not hold records back. */
void ipfix_poll(struct ipfix_exporter *x);

const struct ipfix_stats *ipfix_exporter_stats(const struct ipfix_exporter *x);

#endif
