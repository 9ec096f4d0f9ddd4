// SPDX-License-Identifier: MIT
/* The agent's two ways of running: the live event loop (captures, netlink,
 * signals SIGTERM/SIGINT/SIGHUP/SIGUSR1 through a signalfd, the one-second
 * tick and the summary timer) and the offline read of a capture file. */
#ifndef SEGPLAN_AGENT_LOOP_H
#define SEGPLAN_AGENT_LOOP_H

#include "agent/agent.h"

/* Live capture on a->ifs until SIGTERM or SIGINT; drops privileges to
 * --user once the captures and netlink are open. Returns the exit code. */
int loop_run_live(struct agent *a);
/* Reads the capture file cap to its end and writes the outputs. Returns
 * the exit code. */
int loop_run_offline(struct agent *a, struct cap *cap);

#endif
