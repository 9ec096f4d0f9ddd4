/* SPDX-License-Identifier: MIT */
/*
 * The one reader of the agent's summary (docs/summary.md): a JSON document
 * checked member by member into plain records, every problem a diagnostic
 * that names the member ("tuples[3].dst_port: expected an integer from 0 to
 * 65535"). The audit counts what it reads; nothing here knows the inventory.
 */
#ifndef SEGPLAN_SUMMARY_READ_H
#define SEGPLAN_SUMMARY_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "summary/summary.h"

/* Errors reported per summary; the rest are counted, not shown. */
#define SUMMARY_MAX_ERRORS 20
/* Windows a merged window replaces, or a gap marker drops, at most (docs/summary.md). */
#define SUMMARY_MAX_REFS 4096
/* Length of a "sha256:<64 hex>" text with its terminator. */
#define SUMMARY_SHA256_TEXT 72

/* A spool file another one stands for: a window a merged window replaces, or
 * one a gap marker says was dropped (docs/summary.md, "The spool"). */
struct summary_ref {
	uint64_t seq;
	const char *sha256, *start, *end;
};

/* A spool file's place in its gateway's chain: seq 1, 2, 3, ... and the
 * SHA-256 of the bytes of the file with seq - 1 (NULL for seq 1). */
struct summary_chain {
	bool present;
	const char *gateway;
	uint64_t seq;
	const char *prev; /* NULL: first */
};

struct summary_counts {
	uint64_t flows, packets, bytes;
};

/* A service point: a protocol with a destination port or ICMP type, or (-1) the whole protocol. */
struct summary_svc {
	uint8_t proto;
	uint8_t family; /* 4 or 6: decides ICMP against ICMPv6 */
	int port;	/* port, ICMP type, or -1 */
};

/* An example host pair of a tuple. */
struct summary_example {
	const char *src, *dst;
	uint64_t flows;
};

/* A name of the gateway's policy table and the connections of a tuple it covers. */
struct summary_name {
	const char *name;
	uint64_t flows;
};

/* The lists of names of a tuple (docs/summary.md): the sets each end lay in and
 * the deciding rule's terms that matched. */
enum summary_names { SUMMARY_SRC_SETS, SUMMARY_DST_SETS, SUMMARY_FROM, SUMMARY_TO, SUMMARY_NNAMES };

/* The scope checks counted for denied tuples. */
enum summary_scope { SUMMARY_SAME_SITE, SUMMARY_SAME_DISTRICT, SUMMARY_DST_DC, SUMMARY_NSCOPE };

struct summary_tuple {
	const char *from, *to, *verdict, *by, *rule;
	bool passes;
	struct summary_svc svc;
	struct summary_counts c;
	size_t ex0, nex; /* its examples in summary_read.ex */
	/* Names of the table (absent from summaries of tables without named sets,
	 * and of agents before them): src_sets and dst_sets given, and list k
	 * at summary_read.names[name0[k]], nnames[k] long. */
	bool named;
	size_t name0[SUMMARY_NNAMES], nnames[SUMMARY_NNAMES];
	/* Denied tuples of agents that list them: the distinct addresses of the
	 * source [0] and destination [1], at summary_read.hosts[host0[e]],
	 * nhosts[e] long, and whether that is all of them. */
	bool has_hosts;
	size_t host0[2], nhosts[2];
	bool complete[2];
	/* Connections passing each scope check, where the summary gives it. */
	bool scope_known[SUMMARY_NSCOPE];
	uint64_t scope[SUMMARY_NSCOPE];
	/* Connections with packets in both directions (agents before it: unknown). */
	uint64_t answered;
	bool answered_known;
	/* Each listed address's connections (hosts.src_flows, dst_flows): at
	 * summary_read.host_flows[hflow0[e] + i], nhosts[e] long. */
	size_t hflow0[2];
	bool has_host_flows;
};

struct summary_krule {
	const char *id;
	uint64_t packets, bytes;
};

struct summary_uaddr {
	const char *address;
	uint64_t as_src, as_dst, packets, bytes;
};

struct summary_hit {
	const char *id;
	struct summary_counts c;
};

/* The members of one summary; the strings point into its JSON tree. */
struct summary_read {
	const char *site, *host, *start, *end, *hash, *mode;
	struct summary_tuple *tuples;
	size_t ntuples;
	struct summary_example *ex; /* every tuple's examples, one array per summary */
	size_t nex, excap;
	struct summary_name *names; /* every tuple's names */
	size_t nnames, namecap;
	const char **hosts; /* every denied tuple's addresses */
	size_t nhosts, hostcap;
	struct summary_hit *hits;
	size_t nhits;
	bool kernel;
	const char *applied_at;
	struct summary_krule *krules;
	size_t nkrules;
	struct summary_counts unassigned;
	struct summary_uaddr *utop;
	size_t nutop;
	uint64_t dropped, not_decoded;
	bool pseudonymised;
	struct summary_chain chain; /* spool files only */
	bool empty; /* window.empty: an offline capture without flows; start/end NULL */
	struct summary_ref *replaces; /* a merged window's originals */
	size_t nreplaces;
	uint64_t *host_flows; /* every denied tuple's per-address connections */
	size_t nhost_flows, host_flowcap;
};

/* A gap marker of the spool (kind SUMMARY_GAP_KIND): windows the agent dropped. */
struct summary_gap {
	const char *site, *host, *reason, *start, *end;
	struct summary_chain chain;
	struct summary_ref *dropped;
	size_t ndropped;
};

/* Where the errors of one summary go: its name, the list, how many so far. */
struct summary_reader {
	const char *name;
	struct diag_list *dl;
	int errors;
};

/* An error of the summary being read (only the first SUMMARY_MAX_ERRORS are listed). */
void summary_bad(struct summary_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Checks the whole summary j into s (strings point into j); the number of
 * errors, 0 when s holds the summary. s is to be freed either way. */
int summary_read(struct summary_reader *r, const json_t *j, struct summary_read *s);
void summary_read_free(struct summary_read *s);

/* Checks a gap marker into g (strings point into j); the number of errors.
 * g is to be freed either way. */
int summary_read_gap(struct summary_reader *r, const json_t *j, struct summary_gap *g);
void summary_gap_free(struct summary_gap *g);

/* The kind of a document: 0 a summary, 1 a gap marker, -1 anything else
 * (not an error for callers that scan directories). */
int summary_kind(const json_t *j);

/* ICMP errors that pass with the connection they quote (docs/summary.md):
 * part of that connection, neither covered, uncovered nor denied. */
bool summary_is_related(const struct summary_tuple *u);

#endif
