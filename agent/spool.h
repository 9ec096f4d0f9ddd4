/* SPDX-License-Identifier: MIT */
/*
 * The agent's spool (--spool DIR, docs/summary.md "The spool"): every
 * window's summary as a file of its own, chained by SHA-256 per gateway,
 * written atomically and never over an existing name. When the directory
 * passes its size cap the oldest complete clock hours of 5-minute windows
 * are merged into hourly windows (summary/merge.h); when that is not enough,
 * or a file passes the age cap, the oldest files are dropped and a gap
 * marker lists them. Every merge and drop is logged; nothing goes silently.
 *
 * No capture here: the window is a JSON document with its times, the clock
 * and the log are the caller's (tests/unit/test_spool.c drives it).
 */
#ifndef SEGPLAN_AGENT_SPOOL_H
#define SEGPLAN_AGENT_SPOOL_H

#include <jansson.h>
#include <stdint.h>

#define SPOOL_DEFAULT_MB   512
#define SPOOL_DEFAULT_DAYS 14

struct spool_caps {
	uint64_t max_bytes; /* of this gateway's files; 0: no cap */
	uint64_t max_age_s; /* a file whose window ended longer ago is dropped; 0: no cap */
};

struct spool_env {
	uint64_t (*now_ns)(void *arg);		 /* wall clock; NULL: CLOCK_REALTIME */
	void (*log)(void *arg, const char *msg); /* each merge, drop and problem; may be NULL */
	void *arg;
};

struct spool;

/*
 * Opens the spool in dir (created when missing) for the gateway site (its
 * site id), or host when site is NULL. Finds the highest seq of the
 * gateway's files and hashes that file's bytes to continue the chain (a file
 * that is not a valid spool file is logged and the chain continues after it
 * all the same). 0 or a negative errno.
 */
int spool_open(const char *dir, const char *host, const char *site, const struct spool_caps *caps,
	       const struct spool_env *env, struct spool **out);

/*
 * Writes the window summary (not changed: the file gets a copy with
 * "chain") whose window is [start_ns, end_ns] as the next file, then keeps
 * the caps. 0, -EEXIST when the file name is taken (nothing is written), or
 * another negative errno.
 */
int spool_write(struct spool *sp, const json_t *summary, uint64_t start_ns, uint64_t end_ns);

/* The seq of the newest file (0: none yet) and the bytes of the gateway's files. */
uint64_t spool_head(const struct spool *sp);
uint64_t spool_bytes(const struct spool *sp);

void spool_close(struct spool *sp);

#endif
