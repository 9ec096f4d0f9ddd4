// SPDX-License-Identifier: MIT
/* The agent's options: the option table, the command line, the config
 * file (`name = value` lines, the long option names) and the --help text
 * (docs/segplan-agent.8). */
#ifndef SEGPLAN_AGENT_OPTIONS_H
#define SEGPLAN_AGENT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/flow.h"
#include "core/diag.h"

#define SEC		   1000000000ull
#define MAX_IFACES	   16
#define MAX_CFG_ARGS	   256
#define DEFAULT_ROT_MB	   64
#define DEFAULT_ROT_S	   3600
#define DEFAULT_KEEP_H	   168
#define DEFAULT_IVAL_S	   300
#define DEFAULT_SPOOL_MB   512
#define DEFAULT_SPOOL_DAYS 14

struct opts {
	const char *read;
	const char *ifaces[MAX_IFACES];
	int nifaces;
	uint64_t buffer_mb, snaplen;
	const char *filter;
	const char *policy;
	const char *flows_out;
	uint64_t rotate_mb, rotate_s, retain_h;
	bool rotate_set, retain_set;
	const char *summary;
	uint64_t interval_s;
	const char *spool;		       /* --spool DIR */
	uint64_t spool_max_mb, spool_max_days; /* 0: the defaults */
	const char *ipfix;
	uint64_t ipfix_domain;
	const char *pseudonymise;
	uint64_t max_flows;
	bool stats_json;
	const char *vlan_key;
	struct flow_timeouts timeouts;
	const char *user;
};

/* Prints "segplan-agent: <message>" and the usage to stderr; returns
 * SEG_EXIT_USAGE. */
int opt_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses the config file (when given) and the command line into *o.
 * Returns -1 to go on or an exit code; *argv_out holds the arguments that
 * *o points into (free with opt_free_args). Config diagnostics go to dl. */
int opt_load(int argc, char **argv, struct diag_list *dl, struct opts *o, char ***argv_out,
	     int *nalloc);
void opt_free_args(char **args, int nalloc);

/* --vlan-key LIST into the flow table. 0, -EINVAL or -ENOMEM. */
int opt_apply_vlan_key(struct flow_table *ft, const char *list);

#endif
