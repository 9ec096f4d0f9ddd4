// SPDX-License-Identifier: MIT
/* The running agent: its state (options, decoder, flow table, policy,
 * window counters, interfaces, outputs), the flow sink that classifies and
 * counts each record, the interfaces' counters, the window's events and
 * the policy reload (SIGHUP). */
#ifndef SEGPLAN_AGENT_AGENT_H
#define SEGPLAN_AGENT_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/capture.h"
#include "agent/decode.h"
#include "agent/export.h"
#include "agent/flow.h"
#include "agent/ipfix.h"
#include "agent/netmon.h"
#include "agent/options.h"
#include "agent/pseudo.h"
#include "agent/spool.h"
#include "agent/summary.h"
#include "core/atomic.h"
#include "core/diag.h"
#include "eval/eval.h"

#define MAX_EVENTS 256 /* netlink events kept per summary window */

struct iface {
	const char *name;
	struct cap *cap;   /* NULL while the interface is gone or down */
	uint32_t ifindex;  /* of the open capture, or last seen */
	unsigned reopened; /* captures opened again after the first */
	bool opened_once;
	int last_err;		 /* of the last attempt to open, 0 ok */
	struct cap_stats closed; /* counters of captures closed before */
	struct cap_stats window; /* totals at the window's start */
};

struct agent {
	struct opts o;
	struct diag_list *dl;
	struct dec *dec;
	struct flow_table *ft;
	struct pol_table *pol;
	unsigned reloads, reload_errors;
	uint64_t policy_loaded_ns;
	struct sum *sum;
	struct pseudo *ps;	   /* --pseudonymise, or NULL */
	struct ipfix_exporter *ix; /* --ipfix, or NULL */
	struct exp_jsonl *w;	   /* where flow records go, or NULL */
	struct exp_jsonl offline_w;
	struct atomic_file *af; /* offline flows file */
	struct exp_rotor *rot;	/* live flows segments */
	struct iface ifs[MAX_IFACES];
	int nifs;
	struct nm *nm;
	json_t *events;
	unsigned events_dropped;
	uint64_t win_start_ns;
	uint64_t first_ns, last_ns; /* offline: the capture's time span */
	struct dec_stats dec_base;
	struct flow_stats flow_base;
	const char *capture_error; /* offline: the file was refused part-way */
	bool summarize;		   /* live, or a summary file asked for */
	struct spool *spool;	   /* --spool, or NULL */
};

uint64_t agent_now_ns(void);
/* flow_config.parent_passes: would the gateway's policy let flow f through
 * (an ICMP error's parent)? arg is the agent. */
bool agent_parent_passes(void *arg, const struct flow *f);
/* flow_config.sink: classify once per record, count it into the window,
 * write it. arg is the agent. */
void agent_sink(void *arg, const struct flow *f, enum flow_end why);
/* The zone of an address under the current policy (NULL without one). */
void agent_zone_of(const struct agent *a, const struct ip_addr *ad, const char **zone, bool *local);
/* Counters of an interface over all its captures. */
struct cap_stats agent_iface_stats(struct iface *f);
/* Closes the interface's capture, keeping its counters. */
void agent_iface_close(struct iface *f);
/* An event of the window (docs/summary.md, "events"); ifname, addr and zone
 * may be NULL. */
void agent_record_event(struct agent *a, const char *what, const char *ifname, int ifindex,
			const char *addr, const char *zone);
/* Prints the diagnostics gathered so far and starts an empty list (the
 * old one stays when no memory is left for a new one). */
void agent_flush_diags(struct agent *a);
/* SIGHUP: loads --policy again; a bad file keeps the old one. */
void agent_reload_policy(struct agent *a);

#endif
