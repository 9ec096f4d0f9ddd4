// SPDX-License-Identifier: MIT
#include "agent/netmon.h"

#include <errno.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const char *const nm_event_names[NM_EVENT_COUNT] = {
    "link-new", "link-del", "link-up", "link-down", "addr-new", "addr-del", "resync",
};

struct link_state {
	int ifindex;
	char name[IF_NAMESIZE];
	bool up;
};

/* What the caller was last told: the caches change under the manager, and
 * the differences to this snapshot are the events. Comparing whole
 * snapshots also covers the refill after lost notifications. */
struct snapshot {
	struct link_state *links;
	size_t nlinks;
	struct nm_addr *addrs;
	size_t naddrs;
};

struct nm {
	struct nl_sock *sk;	 /* notifications (owned here, used by the manager) */
	struct nl_sock *sync_sk; /* refills */
	struct nl_cache_mngr *mngr;
	struct nl_cache *links, *addrs;
	struct snapshot snap;
	nm_event_fn fn;
	void *arg;
};

static int nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	default:
		return -EIO;
	}
}

static void ignore_change(struct nl_cache *c, struct nl_object *o, int action, void *arg)
{
	(void)c;
	(void)o;
	(void)action;
	(void)arg;
}

struct collect {
	struct snapshot *s;
	size_t cap;
	bool oom;
};

static void collect_link(struct nl_object *o, void *arg)
{
	struct collect *c = arg;
	struct rtnl_link *l = (struct rtnl_link *)o;
	/* IPv6 and bridge link messages make objects of their own family for
	 * the same index, and RTM_DELLINK removes only the AF_UNSPEC one: the
	 * others would keep a deleted interface alive here. */
	if (c->oom || rtnl_link_get_family(l) != AF_UNSPEC)
		return;
	if (c->s->nlinks == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct link_state *v = realloc(c->s->links, cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			return;
		}
		c->s->links = v;
		c->cap = cap;
	}
	struct link_state *ls = &c->s->links[c->s->nlinks++];
	memset(ls, 0, sizeof(*ls));
	ls->ifindex = rtnl_link_get_ifindex(l);
	const char *name = rtnl_link_get_name(l);
	if (name)
		strncpy(ls->name, name, sizeof(ls->name) - 1);
	ls->up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
}

static void collect_addr(struct nl_object *o, void *arg)
{
	struct collect *c = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct nl_addr *local = rtnl_addr_get_local(a);
	if (c->oom || !local)
		return;
	int fam = nl_addr_get_family(local);
	unsigned len = nl_addr_get_len(local);
	if (!((fam == AF_INET && len == 4) || (fam == AF_INET6 && len == 16)))
		return;
	if (c->s->naddrs == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct nm_addr *v = realloc(c->s->addrs, cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			return;
		}
		c->s->addrs = v;
		c->cap = cap;
	}
	struct nm_addr *na = &c->s->addrs[c->s->naddrs++];
	memset(na, 0, sizeof(*na));
	na->ifindex = rtnl_addr_get_ifindex(a);
	na->addr.family = fam == AF_INET ? 4 : 6;
	memcpy(na->addr.b, nl_addr_get_binary_addr(local), len);
	na->prefix_len = rtnl_addr_get_prefixlen(a);
}

static int take_snapshot(struct nm *m, struct snapshot *s)
{
	struct collect c = {s, 0, false};
	memset(s, 0, sizeof(*s));
	nl_cache_foreach(m->links, collect_link, &c);
	c.cap = 0;
	if (!c.oom)
		nl_cache_foreach(m->addrs, collect_addr, &c);
	return c.oom ? -ENOMEM : 0;
}

static void free_snapshot(struct snapshot *s)
{
	free(s->links);
	free(s->addrs);
	memset(s, 0, sizeof(*s));
}

static const struct link_state *find_link(const struct snapshot *s, int ifindex)
{
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].ifindex == ifindex)
			return &s->links[i];
	return NULL;
}

static bool has_addr(const struct snapshot *s, const struct nm_addr *a)
{
	for (size_t i = 0; i < s->naddrs; i++)
		if (s->addrs[i].ifindex == a->ifindex && s->addrs[i].prefix_len == a->prefix_len &&
		    ip_addr_cmp(&s->addrs[i].addr, &a->addr) == 0)
			return true;
	return false;
}

static void emit_link(struct nm *m, enum nm_event_kind k, const struct link_state *l)
{
	struct nm_event e = {.kind = k, .ifindex = l->ifindex};
	memcpy(e.ifname, l->name, sizeof(e.ifname));
	if (m->fn)
		m->fn(m->arg, &e);
}

static void emit_addr(struct nm *m, enum nm_event_kind k, const struct nm_addr *a,
		      const struct snapshot *names)
{
	struct nm_event e = {
	    .kind = k, .ifindex = a->ifindex, .addr = a->addr, .prefix_len = a->prefix_len};
	const struct link_state *l = find_link(names, a->ifindex);
	if (l)
		memcpy(e.ifname, l->name, sizeof(e.ifname));
	if (m->fn)
		m->fn(m->arg, &e);
}

/* Reports the differences between the old snapshot and the caches, in an
 * order a reader can follow: addresses go before their links, new links
 * come before their addresses. */
static int reconcile(struct nm *m)
{
	struct snapshot now;
	int rc = take_snapshot(m, &now);
	if (rc) {
		free_snapshot(&now);
		return rc;
	}
	struct snapshot *old = &m->snap;
	for (size_t i = 0; i < old->naddrs; i++)
		if (!has_addr(&now, &old->addrs[i]))
			emit_addr(m, NM_ADDR_DEL, &old->addrs[i], old);
	for (size_t i = 0; i < old->nlinks; i++) {
		const struct link_state *n = find_link(&now, old->links[i].ifindex);
		if (!n)
			emit_link(m, NM_LINK_DEL, &old->links[i]);
		else if (n->up != old->links[i].up)
			emit_link(m, n->up ? NM_LINK_UP : NM_LINK_DOWN, n);
	}
	for (size_t i = 0; i < now.nlinks; i++)
		if (!find_link(old, now.links[i].ifindex)) {
			emit_link(m, NM_LINK_NEW, &now.links[i]);
			if (now.links[i].up)
				emit_link(m, NM_LINK_UP, &now.links[i]);
		}
	for (size_t i = 0; i < now.naddrs; i++)
		if (!has_addr(old, &now.addrs[i]))
			emit_addr(m, NM_ADDR_NEW, &now.addrs[i], &now);
	free_snapshot(old);
	*old = now;
	return 0;
}

int nm_new(nm_event_fn fn, void *arg, struct nm **out)
{
	int rc = 0, nle;
	*out = NULL;
	struct nm *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	m->sk = nl_socket_alloc();
	m->sync_sk = nl_socket_alloc();
	if (!m->sk || !m->sync_sk) {
		rc = -ENOMEM;
		goto out;
	}
	/* The snapshot at start, read on the sync socket; then the manager
	 * subscribes to the link and address groups and keeps both caches
	 * current (it owns them from here on). */
	struct nl_cache *links = NULL, *addrs = NULL;
	if ((nle = nl_connect(m->sync_sk, NETLINK_ROUTE)) < 0 ||
	    (nle = rtnl_link_alloc_cache(m->sync_sk, AF_UNSPEC, &links)) < 0 ||
	    (nle = rtnl_addr_alloc_cache(m->sync_sk, &addrs)) < 0 ||
	    (nle = nl_cache_mngr_alloc(m->sk, NETLINK_ROUTE, NL_AUTO_PROVIDE, &m->mngr)) < 0) {
		nl_cache_free(links);
		nl_cache_free(addrs);
		rc = nl_errno(nle);
		goto out;
	}
	if ((nle = nl_cache_mngr_add_cache(m->mngr, links, ignore_change, NULL)) < 0) {
		nl_cache_free(links);
		nl_cache_free(addrs);
		rc = nl_errno(nle);
		goto out;
	}
	m->links = links;
	if ((nle = nl_cache_mngr_add_cache(m->mngr, addrs, ignore_change, NULL)) < 0) {
		nl_cache_free(addrs);
		rc = nl_errno(nle);
		goto out;
	}
	m->addrs = addrs;
	/* A burst of changes (many interfaces at once) overflows the default
	 * receive buffer; a lost notification costs a refill. */
	nl_socket_set_buffer_size(m->sk, 1 << 20, 0);
	rc = take_snapshot(m, &m->snap);
out:
	if (rc) {
		nm_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void nm_free(struct nm *m)
{
	if (!m)
		return;
	if (m->mngr)
		nl_cache_mngr_free(m->mngr);
	nl_socket_free(m->sk);
	nl_socket_free(m->sync_sk);
	free_snapshot(&m->snap);
	free(m);
}

int nm_fd(const struct nm *m)
{
	return nl_cache_mngr_get_fd(m->mngr);
}

int nm_process(struct nm *m)
{
	int n = nl_cache_mngr_data_ready(m->mngr);
	if (n < 0) {
		/* Notifications were lost (ENOBUFS) or garbled: read everything
		 * again; reconcile() reports what changed meanwhile. */
		int nle;
		if ((nle = nl_cache_refill(m->sync_sk, m->links)) < 0 ||
		    (nle = nl_cache_refill(m->sync_sk, m->addrs)) < 0)
			return nl_errno(nle);
		int rc = reconcile(m);
		struct nm_event e = {.kind = NM_RESYNC};
		if (m->fn)
			m->fn(m->arg, &e);
		return rc;
	}
	return reconcile(m);
}

int nm_link(const struct nm *m, const char *name, int *ifindex, bool *up)
{
	for (size_t i = 0; i < m->snap.nlinks; i++)
		if (strcmp(m->snap.links[i].name, name) == 0) {
			*ifindex = m->snap.links[i].ifindex;
			*up = m->snap.links[i].up;
			return 0;
		}
	return -ENODEV;
}

const char *nm_ifname(const struct nm *m, int ifindex, char *buf)
{
	const struct link_state *l = find_link(&m->snap, ifindex);
	if (!l)
		return NULL;
	memcpy(buf, l->name, IF_NAMESIZE);
	return buf;
}

size_t nm_addrs(const struct nm *m, struct nm_addr *v, size_t max)
{
	for (size_t i = 0; i < m->snap.naddrs && i < max; i++)
		v[i] = m->snap.addrs[i];
	return m->snap.naddrs;
}
