// SPDX-License-Identifier: MIT
/* Privilege drop (--user), after the captures and netlink are open. */
#ifndef SEGPLAN_AGENT_PRIVS_H
#define SEGPLAN_AGENT_PRIVS_H

/* Runs as user, keeping only CAP_NET_RAW (reopening captures) and
 * CAP_NET_ADMIN (reading the nftables counters) in the permitted and
 * effective sets. 0, -ENOENT for no such user, or a negative errno. */
int privs_drop(const char *user);

#endif
