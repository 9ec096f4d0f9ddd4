/* SPDX-License-Identifier: MIT */
/*
 * The chain of a gateway's spool files (docs/summary.md, "The spool"): each
 * file names the SHA-256 of the bytes of the file before it, so a file that
 * was altered, removed or slipped in breaks it. Used by the agent's tests
 * and by anything that collects spool files.
 */
#ifndef SEGPLAN_SUMMARY_CHAIN_H
#define SEGPLAN_SUMMARY_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "summary/read.h"

/* "sha256:<64 hex>" of data, into out. */
void summary_sha256(const void *data, size_t len, char out[SUMMARY_SHA256_TEXT]);

/* One spool file of a gateway as its chain sees it. */
struct summary_link {
	const char *name;		  /* for messages */
	uint64_t seq;			  /* chain.seq */
	char sha256[SUMMARY_SHA256_TEXT]; /* of the file's bytes (summary_sha256) */
	const char *prev;		  /* chain.prev; NULL for seq 1, or a head known before
					     (seq > 1) whose own link is not checked */
	const struct summary_ref *refs;	  /* a merged window's replaces, a gap marker's dropped */
	size_t nrefs;
};

/*
 * Checks the files of one gateway (v in any order; sorted by seq on
 * return): every seq from the lowest one known (a file, or listed by one)
 * to the highest is a file or listed (with its hash) by a merged window or
 * a gap marker; no seq is two different things; and each file's prev is
 * the hash of seq - 1. Each problem is an error in dl under the file's name.
 * Returns the number of problems (0: the chain holds).
 */
size_t summary_chain_check(struct summary_link *v, size_t n, struct diag_list *dl);

#endif
