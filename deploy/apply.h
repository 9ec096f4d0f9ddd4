/* SPDX-License-Identifier: MIT */
/*
 * Deploying a segplan ruleset (the compiler's DIR/<site>.nft) with
 * libnftables: a dry run first, then one transaction, so a ruleset that fails
 * leaves the previous one in place. A confirm window works like a router's
 * "commit confirmed": the previous table is saved and a detached watchdog
 * puts it back unless apply_confirm() comes in time. The state on disk and
 * the marker chain are described in docs/deploy.md.
 */
#ifndef SEGPLAN_APPLY_H
#define SEGPLAN_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "core/diag.h"
#include "nftstate/nftstate.h"

#define APPLY_FAMILY "inet"
#define APPLY_TABLE  "segplan"
/* A regular chain without rules that every apply adds to the table in the
 * same transaction; its comment "segplan applied-at=EPOCH file=NAME" says
 * since when the counters run (they restart with every apply). */
#define APPLY_MARK_CHAIN "segplan_meta"
/* State of confirm windows: APPLY_RUN_DIR/<netns label>/, or
 * $SEGPLAN_RUN_DIR/<netns label>/ when set. */
#define APPLY_RUN_DIR "/run/segplan"

/* Enters the network namespace /run/netns/NAME (as `ip netns` names them).
 * 0, -EINVAL for a name that is not a plain file name, or a negative errno. */
int apply_enter_netns(const char *name);

/* The name under which the state of the current namespace is kept: name when
 * given; otherwise "default" for the initial namespace, the /run/netns entry
 * of the current one (`ip netns exec`), or "netns-<inode>". -EINVAL when
 * name is "default" or not a plain file name. */
int apply_netns_label(const char *name, char *buf, size_t size);
/* APPLY_RUN_DIR/<label> (or $SEGPLAN_RUN_DIR/<label>); -ENAMETOOLONG. */
int apply_state_dir(const char *label, char *buf, size_t size);

/* Dry run of the whole transaction apply_file() would send. Errors in the
 * ruleset become diagnostics at FILE:LINE:COL and return -EINVAL; -EPERM
 * without CAP_NET_ADMIN; other negative errnos for system errors. */
int apply_check(const char *path, struct diag_list *dl);
/* apply_check(), then the ruleset and the marker (applied at `now`) in one
 * transaction. Same returns. */
int apply_file(const char *path, time_t now, struct diag_list *dl);

/* Loads path into a scratch network namespace (unshare), reads the table
 * back with nfts_read() and returns to the caller's namespace: the intended
 * state in the same form as the live one. Returns like apply_file(), or
 * -ENOENT when the file does not create the table. */
int apply_read_file(const char *path, struct diag_list *dl, struct nfts **out);

struct apply_mark {
	time_t applied;
	char file[128];
};

/* The marker of a table read by nfts_read(): 0, or -ENOENT when the table
 * was not loaded by apply_file() (e.g. by `nft -f`). */
int apply_mark_get(const struct nfts *s, struct apply_mark *m);

struct apply_pending {
	pid_t pid; /* the watchdog */
	unsigned long long starttime;
	bool alive; /* the watchdog still runs */
	time_t applied;
	time_t deadline;
	char file[512];
};

struct apply_rollback {
	time_t at;
	time_t applied; /* the apply that was rolled back */
	bool ok;
	char file[512];
	char error[512];
};

/* Applies path with a confirm window of `seconds`: saves the live table (or
 * its absence) to statedir, applies, and starts the watchdog. When a window
 * is already open, the saved table stays the one from before the first
 * unconfirmed apply, and the old watchdog is replaced once the new ruleset
 * is in. Returns like apply_file(); the previous table stays when anything
 * fails. */
int apply_confirmed(const char *path, const char *statedir, unsigned seconds, time_t now,
		    struct diag_list *dl, struct apply_pending *out);

/* Keeps the applied ruleset: stops the watchdog and removes the saved
 * table. 0 with *out describing the window, -ENOENT when no window is open
 * (never opened, or it expired and the rollback ran). */
int apply_confirm(const char *statedir, struct apply_pending *out);

/* The open confirm window: 0, -ENOENT when none. */
int apply_pending_get(const char *statedir, struct apply_pending *out);
/* The last rollback done by a watchdog: 0, -ENOENT when none. */
int apply_rollback_get(const char *statedir, struct apply_rollback *out);

#endif
