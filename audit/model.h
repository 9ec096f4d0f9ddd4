/* SPDX-License-Identifier: MIT */
/*
 * The audit model, inside the audit folder only: what the summaries added so
 * far add up to (struct audit of audit.h), counted in order. The report
 * (report.c) and the suggested rules (suggest.c) read it; the pool (pool.c)
 * checks summaries in parallel with audit_check_summary and counts them with
 * audit_count_summary in the caller's thread.
 */
#ifndef SEGPLAN_AUDIT_MODEL_H
#define SEGPLAN_AUDIT_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "core/diag.h"
#include "core/intern.h"
#include "eval/eval.h"
#include "summary/read.h"

/* Distinct hosts of an end up to which a suggestion names them (docs/audit.md). */
#define AUDIT_HOST_OBJECT_MAX 8

/* Connections by name: the table's sets and matched terms of a denial. */
struct nacc {
	char *name;
	uint64_t flows;
};

struct nlist {
	struct nacc *v;
	size_t n, cap;
};

struct den {
	char *from, *to;
	struct summary_svc svc;
	struct summary_counts c;
	uint64_t passed;
	int *rules;   /* policy rule indices; -1 the default; -2 a rule the policy lacks */
	char **other; /* ids of rules the policy lacks */
	size_t nrules, nother;
	int *groups; /* the groups it falls into, and its service point in each */
	int *points;
	size_t ngroups;
	struct nlist names[SUMMARY_NNAMES]; /* what the summaries named (summary_names) */
};

/*
 * What the summaries say of one service point of a group: its denied
 * connections, the distinct addresses of each end while they are few and
 * all known (else the end is open: only its zone is known), the scope
 * checks they passed, and the rules that denied them.
 */
struct gpoint {
	struct summary_svc svc;
	struct summary_counts c;
	char **hosts[2]; /* sorted addresses of the source and the destination */
	size_t nhosts[2];
	bool open[2];
	uint64_t scope[SUMMARY_NSCOPE];
	bool scope_open[SUMMARY_NSCOPE]; /* some connection's check is not known */
	int *rules;			 /* deny rules (policy indices) that decided some */
	size_t nrules;
};

struct group {
	int site;
	char *from, *to;
	struct summary_counts c;
	struct intern pts; /* "proto|family|port" */
	struct gpoint *pt;
	size_t ptcap;
};

struct kperiod {
	char *end;
	uint64_t weight; /* tie-break between readings at the same end: the larger wins */
	char **ids;
	uint64_t *packets, *bytes;
	size_t n;
};

struct uacc {
	uint64_t as_src, as_dst, packets, bytes;
};

struct facc {
	struct summary_counts total, denied;
	char **files;
	size_t nfiles, cap;
};

struct audit {
	const struct policy *p;
	const struct inventory *inv;
	struct pol_table *city; /* classifies observed addresses: site, district, data centre */
	char *hash;
	char *owner;
	unsigned workers;
	/* Rule ids and zone names to their indices; keys borrowed from p. */
	struct strmap *rule_ix, *zone_ix;
	struct audit_summary *sums;
	size_t nsums, scap;
	size_t skipped;
	struct intern windows;
	struct intern sites;
	struct audit_site *site_v;
	size_t sitecap;
	struct intern dkeys;
	struct den *den;
	size_t dcap;
	struct intern dsites; /* "denial|site" */
	struct intern exkeys; /* "denial|src|dst" */
	uint64_t *exflows;
	size_t excap;
	struct intern gkeys;
	struct group *grp;
	size_t gcap;
	struct intern rkeys; /* rule id */
	struct summary_counts *rhits;
	size_t rcap;
	struct intern rsites; /* "id|site" */
	struct intern pkeys;  /* "site|applied_at" */
	struct kperiod *per;
	size_t pcap;
	struct intern ukeys;
	struct uacc *un;
	size_t ucap;
	struct intern usites; /* "address|site" */
	struct summary_counts unassigned;
	struct intern fkeys;
	struct facc *fac;
	size_t fcap;
	struct summary_counts total, covered, denied;
	uint64_t passed;
	char *start, *end;
};

/* Reads and checks one summary into s; false when it is to be skipped. Reads
 * a only, so that summaries are checked in parallel. */
bool audit_check_summary(const struct audit *a, const json_t *j, const char *name,
			 struct diag_list *dl, struct summary_read *s);
/* Counts a checked summary. 0 or -ENOMEM. */
int audit_count_summary(struct audit *a, const struct summary_read *s, const char *name,
			struct diag_list *dl);

/* Frees the strings of s, not s. */
void audit_summary_free(struct audit_summary *s);

/* The index of a rule id or zone name in the policy, or negative. */
int audit_find_rule(const struct audit *a, const char *id);
int audit_find_zone(const struct audit *a, const char *name);

/* Part i of an intern key of the model and its length (not 0-terminated). */
const char *audit_key_part(const char *key, size_t i, size_t *len);

/* The host of hosts.csv that has address ip, or -1. */
int audit_host_of(const struct inventory *inv, const struct ip_addr *ip);
/* The name of the host of hosts.csv that has the address written as text, or NULL. */
const char *audit_host_name(const struct inventory *inv, const char *text);

/* Frees the members of o. */
void audit_object_free(struct audit_object *o);

/* *dst a copy of s, NULL for NULL. 0 or -ENOMEM. */
int audit_dup_str(char **dst, const char *s);
/* Adds a copy of s to the set v of n strings unless it holds it. 0 or -ENOMEM. */
int audit_str_set_add(char ***v, size_t *n, const char *s);

#endif
