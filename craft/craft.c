// SPDX-License-Identifier: MIT
#include "craft/craft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto.h"

struct wbuf {
	uint8_t *p;
	size_t len;
	size_t size;
	bool full;
};

static uint8_t *w_put(struct wbuf *w, size_t n)
{
	if (w->full || w->size - w->len < n) {
		w->full = true;
		return NULL;
	}
	uint8_t *at = w->p + w->len;
	memset(at, 0, n);
	w->len += n;
	return at;
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, (uint16_t)(v >> 16));
	be16(p + 2, (uint16_t)v);
}

/* The Internet checksum (RFC 1071) over an IPv4 header. */
static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t l4_size(const struct craft *c)
{
	if (c->fragment && c->frag_offset)
		return 0;
	const struct proto *pr = proto_get(c->proto);
	if (pr && pr->ports)
		return pr->hdr_len + (c->proto == IPPROTO_DCCP && !c->dccp_short_seq ? 4 : 0);
	return proto_is_any_icmp(c->proto) ? 8 : 0;
}

/* Bytes after the transport header: a quote, then the payload. */
static size_t body_len(const struct craft *c)
{
	return c->quote_len + c->payload;
}

static void write_l4(const struct craft *c, uint8_t *p)
{
	if (proto_has_ports(c->proto)) {
		be16(p, c->sport);
		be16(p + 2, c->dport);
	}
	switch (c->proto) {
	case IPPROTO_TCP:
		p[12] = 5 << 4;
		p[13] = c->tcp_flags;
		be16(p + 14, 65535);
		break;
	case IPPROTO_UDP:
		be16(p + 4, (uint16_t)(8 + body_len(c)));
		break;
	case IPPROTO_DCCP:
		/* RFC 4340 5.1: Data Offset in words, then a DCCP-Data packet
		 * (type 2) with X = 1 and 48-bit sequence numbers, or X = 0. */
		p[4] = c->dccp_short_seq ? 3 : 4;
		p[8] = (uint8_t)(2 << 1 | (c->dccp_short_seq ? 0 : 1));
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p[0] = c->icmp_type;
		p[1] = c->icmp_code;
		be16(p + 4, c->icmp_id);
		break;
	default:
		break;
	}
}

static uint16_t link_proto(const struct craft *c)
{
	if (c->sll_protocol_override)
		return c->sll_protocol_override;
	return c->ip_version == 6 ? 0x86dd : 0x0800;
}

static bool write_link(const struct craft *c, int linktype, struct wbuf *w)
{
	uint8_t *h;
	switch (linktype) {
	case DLT_EN10MB:
		if (!(h = w_put(w, 12)))
			return false;
		memcpy(h, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
		for (int i = 0; i < c->nvlans && i < 2; i++) {
			uint16_t tpid = 0x8100;
			if (i == 0 && c->nvlans == 2)
				tpid = c->outer_tpid ? c->outer_tpid : 0x88a8;
			if (!(h = w_put(w, 4)))
				return false;
			be16(h, tpid);
			be16(h + 2, c->vlans[i] & 0x0fff);
		}
		if (!(h = w_put(w, 2)))
			return false;
		be16(h, c->sll_protocol_override ? c->sll_protocol_override : link_proto(c));
		return true;
	case DLT_LINUX_SLL:
		if (!(h = w_put(w, 16)))
			return false;
		be16(h, 0);	/* sent to us */
		be16(h + 2, 1); /* ARPHRD_ETHER */
		be16(h + 4, 6);
		memcpy(h + 6, "\x02\x00\x00\x00\x00\x02", 6);
		be16(h + 14, link_proto(c));
		return true;
	case DLT_LINUX_SLL2:
		if (!(h = w_put(w, 20)))
			return false;
		be16(h, link_proto(c));
		be32(h + 4, c->ifindex);
		be16(h + 8, 1); /* ARPHRD_ETHER */
		h[10] = 0;	/* sent to us */
		h[11] = 6;
		memcpy(h + 12, "\x02\x00\x00\x00\x00\x02", 6);
		return true;
	case DLT_RAW:
		return true;
	case DLT_IPV4:
		return c->ip_version == 4;
	case DLT_IPV6:
		return c->ip_version == 6;
	default:
		return false;
	}
}

static bool write_ipv4(const struct craft *c, struct wbuf *w, struct craft_layout *lay)
{
	uint8_t a[4], b[4];
	if (inet_pton(AF_INET, c->src, a) != 1 || inet_pton(AF_INET, c->dst, b) != 1 ||
	    c->ip_options > 40 || c->ip_options % 4)
		return false;
	size_t hlen = 20 + c->ip_options;
	size_t l4 = l4_size(c);
	size_t total = hlen + l4 + body_len(c);
	if (total > 65535)
		total = 0;
	lay->l3 = w->len;
	uint8_t *h = w_put(w, hlen);
	if (!h)
		return false;
	h[0] = (uint8_t)(0x40 | hlen / 4);
	be16(h + 2, c->zero_total_length ? 0 : (uint16_t)total);
	be16(h + 4, c->ip_id);
	uint16_t frag = 0;
	if (c->fragment)
		frag = (uint16_t)((c->more_fragments ? 0x2000 : 0) | (c->frag_offset / 8));
	be16(h + 6, frag);
	h[8] = 64;
	h[9] = c->proto;
	memcpy(h + 12, a, 4);
	memcpy(h + 16, b, 4);
	for (size_t i = 0; i < c->ip_options; i++)
		h[20 + i] = i + 1 == c->ip_options ? 0 : 1; /* NOPs, then EOL */
	be16(h + 10, ip_checksum(h, hlen));
	return true;
}

static bool write_ipv6(const struct craft *c, struct wbuf *w, struct craft_layout *lay)
{
	uint8_t a[16], b[16];
	if (inet_pton(AF_INET6, c->src, a) != 1 || inet_pton(AF_INET6, c->dst, b) != 1 ||
	    c->next > CRAFT_MAX_EXT)
		return false;
	lay->l3 = w->len;
	uint8_t *h = w_put(w, 40);
	if (!h)
		return false;
	size_t start = w->len;
	h[0] = 0x60;
	h[7] = 64;
	memcpy(h + 8, a, 16);
	memcpy(h + 24, b, 16);
	size_t nh_at = 6; /* offset of the "next header" byte to fill, from h */
	uint8_t *nh_base = h;
	for (int i = 0; i < c->next; i++) {
		size_t n = c->ext[i] == CRAFT_EXT_AH ? 24 : 8;
		lay->ext[lay->next++] = w->len;
		uint8_t *e = w_put(w, n);
		if (!e)
			return false;
		/* w_put never moves the buffer: earlier pointers stay valid. */
		nh_base[nh_at] = (uint8_t)c->ext[i];
		if (c->ext[i] == CRAFT_EXT_AH) {
			e[1] = (uint8_t)(n / 4 - 2); /* RFC 4302 2.2 */
			be32(e + 4, 0x1000 + (uint32_t)i);
		} else {
			e[1] = 0;
			if (c->ext[i] == CRAFT_EXT_ROUTING) {
				e[2] = 4; /* segment routing, segments left 0 */
			} else {
				e[2] = 1; /* PadN (RFC 8200 4.2) over the 6 option bytes */
				e[3] = 4;
			}
		}
		nh_base = e;
		nh_at = 0;
	}
	if (c->fragment) {
		lay->ext[lay->next++] = w->len;
		uint8_t *f = w_put(w, 8);
		if (!f)
			return false;
		nh_base[nh_at] = 44;
		be16(f + 2, (uint16_t)((c->frag_offset & 0xfff8) | (c->more_fragments ? 1 : 0)));
		be32(f + 4, c->frag_id);
		nh_base = f;
		nh_at = 0;
	}
	nh_base[nh_at] = c->proto;
	size_t plen = w->len - start + l4_size(c) + body_len(c);
	be16(h + 4, c->zero_total_length || plen > 65535 ? 0 : (uint16_t)plen);
	return true;
}

size_t craft_packet(const struct craft *c, int linktype, uint8_t *buf, size_t size,
		    struct craft_layout *lay)
{
	struct craft_layout scratch;
	struct wbuf w = {buf, 0, size, false};
	if (!lay)
		lay = &scratch;
	memset(lay, 0, sizeof(*lay));
	if (!write_link(c, linktype, &w))
		return 0;
	bool ok = c->ip_version == 4   ? write_ipv4(c, &w, lay)
		  : c->ip_version == 6 ? write_ipv6(c, &w, lay)
				       : false;
	if (!ok)
		return 0;
	lay->l4 = w.len;
	size_t n = l4_size(c);
	uint8_t *p = w_put(&w, n);
	if (!p && n)
		return 0;
	if (n)
		write_l4(c, p);
	if (c->quote_len) {
		uint8_t *q = w_put(&w, c->quote_len);
		if (!q)
			return 0;
		memcpy(q, c->quote, c->quote_len);
	}
	lay->payload = w.len;
	uint8_t *pl = w_put(&w, c->payload);
	if (!pl && c->payload)
		return 0;
	for (size_t i = 0; i < c->payload; i++)
		pl[i] = (uint8_t)(i * 7);
	lay->len = w.len;
	return w.full ? 0 : w.len;
}

struct craft_writer {
	pcap_t *p;
	pcap_dumper_t *d;
};

int craft_writer_open(const char *path, int linktype, struct craft_writer **out)
{
	*out = NULL;
	struct craft_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->p = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
	if (!w->p) {
		free(w);
		return -ENOMEM;
	}
	w->d = pcap_dump_open(w->p, path);
	if (!w->d) {
		pcap_close(w->p);
		free(w);
		return -EINVAL;
	}
	*out = w;
	return 0;
}

void craft_writer_add(struct craft_writer *w, uint64_t ts_ns, const uint8_t *pkt, size_t len,
		      size_t caplen)
{
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000ull);
	/* With nanosecond precision libpcap keeps nanoseconds here. */
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000ull);
	h.len = (bpf_u_int32)len;
	h.caplen = (bpf_u_int32)(caplen < len ? caplen : len);
	pcap_dump((u_char *)w->d, &h, pkt);
}

int craft_writer_close(struct craft_writer *w)
{
	if (!w)
		return 0;
	int rc = pcap_dump_flush(w->d) == 0 ? 0 : -EIO;
	pcap_dump_close(w->d);
	pcap_close(w->p);
	free(w);
	return rc;
}
