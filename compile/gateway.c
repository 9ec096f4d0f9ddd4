// SPDX-License-Identifier: MIT
#include "compile/gateway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct alist {
	struct gw_access *v;
	size_t n, cap;
	int err;
};

static void add(struct alist *l, const char *proto, uint8_t family, const char *iface,
		const char *from)
{
	if (l->err)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct gw_access *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->err = -ENOMEM;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	struct gw_access *a = &l->v[l->n++];
	memset(a, 0, sizeof(*a));
	a->proto = proto;
	a->family = family;
	snprintf(a->iface, sizeof(a->iface), "%s", iface ? iface : "");
	snprintf(a->from, sizeof(a->from), "%s", from);
}

static void add_addr(struct alist *l, const char *proto, const char *iface, const struct ip_addr *a)
{
	char buf[IP_PREFIX_STRLEN];
	ip_addr_format(a, buf, sizeof(buf));
	add(l, proto, a->family, iface, buf);
}

/* Mirrors render_protocols and render_input in compile/compile.c. */
int gw_access_list(const struct inventory *inv, int site, struct gw_access **v, size_t *n)
{
	struct alist l = {0};
	size_t first = 0, last = 0;
	if (inv->iface_start && inv->ifaces) {
		first = inv->iface_start[site];
		last = inv->iface_start[site + 1];
	}
	for (size_t i = first; i < last; i++) {
		const struct iface *x = &inv->ifaces[i];
		char net[IP_PREFIX_STRLEN];
		if (x->ospf && x->has_v4) {
			/* OSPFv2 (RFC 2328 A.1): from the link's subnet. */
			ip_prefix_format(&x->net4, net, sizeof(net));
			add(&l, "ospf", 4, x->name, net);
		}
		if (x->ospf && x->has_v6) /* OSPFv3 (RFC 5340 A.1): link-local sources */
			add(&l, "ospf", 6, x->name, "fe80::/10");
		if (x->vrrp && x->has_v4) /* VRRP (RFC 9568): to 224.0.0.18 from the link */
			add(&l, "vrrp", 4, x->name, "any");
		if (x->vrrp && x->has_v6)
			add(&l, "vrrp", 6, x->name, "fe80::/10");
		for (size_t k = 0; k < x->nvrrp_peers; k++)
			if (x->vrrp_peers[k].family == 4 ? x->has_v4 : x->has_v6)
				add_addr(&l, "vrrp", x->name, &x->vrrp_peers[k]);
		for (size_t k = 0; k < x->nbgp_peers; k++) /* BGP (RFC 4271): the peers only */
			add_addr(&l, "bgp", x->name, &x->bgp_peers[k]);
	}
	if (first == last) {
		/* No interface table for the site: its flags, on every interface. */
		unsigned f = inv->sites[site].flags;
		if (f & SITE_F_VRRP) {
			add(&l, "vrrp", 4, NULL, "any");
			add(&l, "vrrp", 6, NULL, "any");
		}
		if (f & SITE_F_OSPF) {
			add(&l, "ospf", 4, NULL, "any");
			add(&l, "ospf", 6, NULL, "fe80::/10");
		}
		if (f & SITE_F_BGP) { /* `tcp dport 179`: both families, from anyone */
			add(&l, "bgp", 4, NULL, "any");
			add(&l, "bgp", 6, NULL, "any");
		}
	}
	if (l.err) {
		free(l.v);
		*v = NULL;
		*n = 0;
		return l.err;
	}
	*v = l.v;
	*n = l.n;
	return 0;
}

bool gw_access_equal(const struct gw_access *a, const struct gw_access *b)
{
	return strcmp(a->proto, b->proto) == 0 && a->family == b->family &&
	       strcmp(a->iface, b->iface) == 0 && strcmp(a->from, b->from) == 0;
}

void gw_access_text(const struct gw_access *a, char *buf, size_t size)
{
	snprintf(buf, size, "%s ipv%u from %s on %s", a->proto, a->family, a->from,
		 a->iface[0] ? a->iface : "any interface");
}

json_t *gw_access_json(const struct gw_access *a)
{
	return json_pack("{s:s,s:s,s:o,s:s}", "protocol", a->proto, "family",
			 a->family == 4 ? "ipv4" : "ipv6", "interface",
			 a->iface[0] ? json_string(a->iface) : json_null(), "from", a->from);
}

static int prefix_cmp(const void *a, const void *b)
{
	return ip_prefix_cmp(a, b); /* IPv4 first */
}

int gw_zone_prefixes(const struct inventory *inv, const char *zone, struct ip_prefix **v, size_t *n)
{
	struct ip_prefix *out = calloc(2 * inv->nsegments + inv->nplan + 1, sizeof(*out));
	size_t k = 0;
	*v = NULL;
	*n = 0;
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < inv->nsegments; i++) {
		const struct segment *s = &inv->segments[i];
		if (strcmp(s->zone, zone) != 0)
			continue;
		if (s->has_v4)
			out[k++] = s->v4;
		if (s->has_v6)
			out[k++] = s->v6;
	}
	/* A pool is a zone of the plan named vpn-<group> (compile/compile.c). */
	for (size_t i = 0; strncmp(zone, "vpn-", 4) == 0 && i < inv->nplan; i++)
		if (strcmp(inv->plan[i].zone, zone) == 0)
			out[k++] = inv->plan[i].prefix;
	qsort(out, k, sizeof(*out), prefix_cmp);
	*v = out;
	*n = k;
	return 0;
}
