/* SPDX-License-Identifier: MIT */
/*
 * The gateway's interfaces and addresses through rtnetlink (libnl-route):
 * a snapshot at start (link and address caches), then every change as it
 * happens (nl_cache_mngr on the RTNLGRP link and address groups): a link
 * going down or up, an address added or removed, an interface deleted and
 * created again under a new index. When the kernel drops notifications
 * (ENOBUFS on the socket) the caches are refilled and the caller is told to
 * re-check whatever it derived from them.
 */
#ifndef SEGPLAN_AGENT_NETMON_H
#define SEGPLAN_AGENT_NETMON_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/prefix.h"

enum nm_event_kind {
	NM_LINK_NEW,  /* an interface appeared (or was seen first) */
	NM_LINK_DEL,  /* an interface was deleted */
	NM_LINK_UP,   /* administratively up (IFF_UP set) */
	NM_LINK_DOWN, /* IFF_UP cleared */
	NM_ADDR_NEW,
	NM_ADDR_DEL,
	NM_RESYNC, /* notifications were lost: the caches were read again */
	NM_EVENT_COUNT
};

/* "link-new", "link-del", "link-up", "link-down", "addr-new", "addr-del", "resync". */
extern const char *const nm_event_names[NM_EVENT_COUNT];

struct nm_event {
	enum nm_event_kind kind;
	int ifindex;
	char ifname[IF_NAMESIZE]; /* "" when the kernel did not say */
	struct ip_addr addr;	  /* addresses only */
	int prefix_len;
};

typedef void (*nm_event_fn)(void *arg, const struct nm_event *e);

struct nm;

/* Reads links and addresses and subscribes to their changes. 0, or a
 * negative errno (-ENOMEM, -EPERM, -EIO). fn may be NULL. */
int nm_new(nm_event_fn fn, void *arg, struct nm **out);
void nm_free(struct nm *m);

/* The descriptor to poll for notifications. */
int nm_fd(const struct nm *m);

/* Handles what is waiting on the descriptor, calling fn per change. 0, or
 * a negative errno when even refilling the caches failed. */
int nm_process(struct nm *m);

/* The current index and IFF_UP state of an interface by name: 0 or -ENODEV. */
int nm_link(const struct nm *m, const char *name, int *ifindex, bool *up);

/* The name of an interface index into buf (IF_NAMESIZE); NULL when unknown. */
const char *nm_ifname(const struct nm *m, int ifindex, char *buf);

struct nm_addr {
	int ifindex;
	struct ip_addr addr;
	int prefix_len;
};

/* Copies up to max current addresses into v; returns how many there are. */
size_t nm_addrs(const struct nm *m, struct nm_addr *v, size_t max);

#endif
