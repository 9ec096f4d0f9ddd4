/* SPDX-License-Identifier: MIT */
/* Exit codes shared by every segplan program (documented in segplan.1). */
#ifndef SEGPLAN_EXITCODES_H
#define SEGPLAN_EXITCODES_H

enum seg_exit {
	SEG_EXIT_OK = 0,       /* success, nothing found */
	SEG_EXIT_FINDINGS = 1, /* the command ran and found something (lint, audit) or failed */
	SEG_EXIT_USAGE = 2,    /* bad command line */
	SEG_EXIT_INPUT = 3,    /* invalid input files */
	SEG_EXIT_SYSTEM = 4,   /* system error: I/O, memory, kernel */
};

#endif
