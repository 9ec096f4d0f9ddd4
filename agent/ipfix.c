// SPDX-License-Identifier: MIT
#include "agent/ipfix.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "core/proto.h"

/* RFC 7011 section 3.1 (message header) and 3.3.2 (set header). */
#define MSG_HEADER_LEN	16
#define SET_HEADER_LEN	4
#define SET_ID_TEMPLATE 2
#define IPFIX_VERSION	10
#define ENTERPRISE_BIT	0x8000

/* Information Elements (IANA registry, RFC 7012 and RFC 5102). */
enum ie {
	IE_OCTET_DELTA = 1,
	IE_PACKET_DELTA = 2,
	IE_PROTOCOL = 4,
	IE_TCP_FLAGS = 6,
	IE_SRC_PORT = 7,
	IE_SRC_V4 = 8,
	IE_INGRESS_IF = 10,
	IE_DST_PORT = 11,
	IE_DST_V4 = 12,
	IE_SRC_V6 = 27,
	IE_DST_V6 = 28,
	IE_ICMP_V4 = 32,
	IE_VLAN = 58,
	IE_FLOW_END_REASON = 136,
	IE_ICMP_V6 = 139,
	IE_START_MS = 152,
	IE_END_MS = 153,
	IE_BIFLOW_DIRECTION = 239,
};

struct field {
	uint16_t id;
	uint16_t len;
	bool reverse; /* RFC 5103 reverse element: enterprise bit, PEN 29305 */
};

/*
 * The biflow templates (docs/ipfix.md). Each reverse element directly
 * precedes its forward element: collectors that ignore the PEN read the
 * forward value last. tcpControlBits is 2 bytes (RFC 7125).
 */
#define FIELDS(SRC, DST, ALEN, ICMP)                                                               \
	{                                                                                          \
		{IE_START_MS, 8, false}, {IE_END_MS, 8, false}, {SRC, ALEN, false},                \
		    {DST, ALEN, false}, {IE_SRC_PORT, 2, false}, {IE_DST_PORT, 2, false},          \
		    {IE_PROTOCOL, 1, false}, {ICMP, 2, false}, {IE_TCP_FLAGS, 2, true},            \
		    {IE_TCP_FLAGS, 2, false}, {IE_VLAN, 2, true}, {IE_VLAN, 2, false},             \
		    {IE_INGRESS_IF, 4, false}, {IE_FLOW_END_REASON, 1, false},                     \
		    {IE_BIFLOW_DIRECTION, 1, false}, {IE_OCTET_DELTA, 8, false},                   \
		    {IE_PACKET_DELTA, 8, false}, {IE_OCTET_DELTA, 8, true},                        \
		    {IE_PACKET_DELTA, 8, true},                                                    \
	}

static const struct field fields_v4[] = FIELDS(IE_SRC_V4, IE_DST_V4, 4, IE_ICMP_V4);
static const struct field fields_v6[] = FIELDS(IE_SRC_V6, IE_DST_V6, 16, IE_ICMP_V6);
#define NFIELDS (sizeof(fields_v4) / sizeof(fields_v4[0]))

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct ipfix_exporter {
	int fd;
	uint32_t domain;
	struct ipfix_config cfg;
	struct ipfix_stats st;
	uint32_t sequence; /* data records in earlier messages, modulo 2^32 */

	uint8_t *buf; /* the message being built, cfg.max_message bytes */
	size_t len;   /* 0: no message open */
	size_t set_off;
	uint16_t set_id; /* template of the open data set, 0 none */
	uint32_t records;
	bool has_templates;
	uint64_t first_ns; /* when the first record of the message came */

	bool templates_due;
	uint64_t template_ns; /* last time templates went out */
	unsigned since_template;
	size_t rec_len_v4, rec_len_v6, templates_len;
};

/* A bounded writer: every byte goes through put(), which refuses to pass
 * the end. A refused put leaves the buffer as it was. */
struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
};

static bool put_uint(struct wbuf *w, uint64_t v, size_t n)
{
	if (n > 8 || n > w->cap - w->len)
		return false;
	for (size_t i = 0; i < n; i++)
		w->p[w->len + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	w->len += n;
	return true;
}

static bool put_bytes(struct wbuf *w, const uint8_t *src, size_t n)
{
	if (n > w->cap - w->len)
		return false;
	memcpy(w->p + w->len, src, n);
	w->len += n;
	return true;
}

static void set_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint64_t now_ns(const struct ipfix_exporter *x)
{
	if (x->cfg.clock_ns)
		return x->cfg.clock_ns(x->cfg.clock_arg);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t record_len(const struct field *fs)
{
	size_t n = 0;
	for (size_t i = 0; i < NFIELDS; i++)
		n += fs[i].len;
	return n;
}

static size_t template_len(void)
{
	size_t n = 4; /* template id, field count */
	for (size_t i = 0; i < NFIELDS; i++)
		n += fields_v4[i].reverse ? 8 : 4;
	return n;
}

/* RFC 7011 section 3.4.1: Template ID, Field Count, Field Specifiers. */
static bool put_template(struct wbuf *w, uint16_t id, const struct field *fs)
{
	bool ok = put_uint(w, id, 2) && put_uint(w, NFIELDS, 2);
	for (size_t i = 0; ok && i < NFIELDS; i++) {
		ok = put_uint(w, fs[i].id | (fs[i].reverse ? ENTERPRISE_BIT : 0), 2) &&
		     put_uint(w, fs[i].len, 2);
		if (ok && fs[i].reverse)
			ok = put_uint(w, IPFIX_PEN_REVERSE, 4);
	}
	return ok;
}

static bool put_field(struct wbuf *w, const struct field *fd, const struct flow *f,
		      enum flow_end why)
{
	int d = fd->reverse ? 1 : 0;
	bool icmp = proto_is_any_icmp(f->proto);
	bool ports = proto_has_ports(f->proto);
	switch (fd->id) {
	case IE_START_MS:
		return put_uint(w, f->first_ns / 1000000u, fd->len);
	case IE_END_MS:
		return put_uint(w, f->last_ns / 1000000u, fd->len);
	case IE_SRC_V4:
		return put_bytes(w, f->src + 12, 4);
	case IE_DST_V4:
		return put_bytes(w, f->dst + 12, 4);
	case IE_SRC_V6:
		return put_bytes(w, f->src, 16);
	case IE_DST_V6:
		return put_bytes(w, f->dst, 16);
	case IE_SRC_PORT:
		return put_uint(w, ports ? f->sport : 0, fd->len);
	case IE_DST_PORT:
		return put_uint(w, ports ? f->dport : 0, fd->len);
	case IE_PROTOCOL:
		return put_uint(w, f->proto, fd->len);
	case IE_ICMP_V4:
	case IE_ICMP_V6:
		return put_uint(w, icmp ? (uint16_t)(f->icmp_type << 8 | f->icmp_code) : 0,
				fd->len);
	case IE_TCP_FLAGS:
		return put_uint(w, f->proto == 6 ? f->tcp_flags[d] : 0, fd->len);
	case IE_VLAN:
		return put_uint(w, f->vlan_seen[d], fd->len);
	case IE_INGRESS_IF:
		return put_uint(w, f->ifindex[0], fd->len);
	case IE_FLOW_END_REASON:
		return put_uint(w, (uint64_t)why, fd->len);
	case IE_BIFLOW_DIRECTION:
		/* RFC 5103 section 6.3: the source is the initiator. */
		return put_uint(w, 1, fd->len);
	case IE_OCTET_DELTA:
		return put_uint(w, f->bytes[d], fd->len);
	case IE_PACKET_DELTA:
		return put_uint(w, f->packets[d], fd->len);
	}
	return false;
}

static void close_set(struct ipfix_exporter *x)
{
	if (x->set_id) {
		set_u16(x->buf + x->set_off + 2, (uint16_t)(x->len - x->set_off));
		x->set_id = 0;
	}
}

static void send_message(struct ipfix_exporter *x, uint64_t now)
{
	if (!x->len)
		return;
	close_set(x);
	struct wbuf w = {x->buf, MSG_HEADER_LEN, 0};
	put_uint(&w, IPFIX_VERSION, 2);
	put_uint(&w, x->len, 2);
	put_uint(&w, (uint32_t)(now / 1000000000ull), 4);
	put_uint(&w, x->sequence, 4);
	put_uint(&w, x->domain, 4);
	/* The sequence counts data records sent (RFC 7011 section 3.1),
	 * refused ones too: the gap tells the collector that they are lost. */
	x->sequence += x->records;
	ssize_t n = send(x->fd, x->buf, x->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)x->len) {
		x->st.messages++;
		x->st.records += x->records;
		x->st.bytes += x->len;
		if (x->has_templates)
			x->st.template_sends++;
	} else {
		x->st.send_errors++;
		x->st.records_lost += x->records;
		x->st.last_error = n < 0 ? errno : EMSGSIZE;
		if (x->has_templates)
			x->templates_due = true;
	}
	x->since_template++;
	x->len = 0;
	x->records = 0;
	x->has_templates = false;
}

static void start_message(struct ipfix_exporter *x, uint64_t now)
{
	x->len = MSG_HEADER_LEN;
	x->set_id = 0;
	x->records = 0;
	x->first_ns = now;
	x->has_templates = false;
	if (x->templates_due || x->since_template >= x->cfg.refresh_messages ||
	    now - x->template_ns >= (uint64_t)x->cfg.refresh_seconds * 1000000000ull) {
		struct wbuf w = {x->buf, x->cfg.max_message, x->len};
		bool ok = put_uint(&w, SET_ID_TEMPLATE, 2) &&
			  put_uint(&w, SET_HEADER_LEN + x->templates_len, 2) &&
			  put_template(&w, IPFIX_TEMPLATE_V4, fields_v4) &&
			  put_template(&w, IPFIX_TEMPLATE_V6, fields_v6);
		if (ok) {
			x->len = w.len;
			x->has_templates = true;
			x->templates_due = false;
			x->template_ns = now;
			x->since_template = 0;
		}
	}
}

void ipfix_export(struct ipfix_exporter *x, const struct flow *in, enum flow_end why)
{
	struct flow ps;
	const struct flow *f = in;
	if (x->cfg.pseudo) {
		pseudo_flow(x->cfg.pseudo, in, &ps);
		f = &ps;
	}
	bool v4 = memcmp(f->src, v4_mapped, sizeof(v4_mapped)) == 0;
	uint16_t tid = v4 ? IPFIX_TEMPLATE_V4 : IPFIX_TEMPLATE_V6;
	const struct field *fs = v4 ? fields_v4 : fields_v6;
	size_t rec = v4 ? x->rec_len_v4 : x->rec_len_v6;
	uint64_t now = now_ns(x);

	for (int attempt = 0; attempt < 2; attempt++) {
		if (!x->len)
			start_message(x, now);
		size_t need = rec + (x->set_id == tid ? 0 : SET_HEADER_LEN);
		if (need <= x->cfg.max_message - x->len)
			break;
		send_message(x, now);
	}
	struct wbuf w = {x->buf, x->cfg.max_message, x->len};
	bool new_set = x->set_id != tid;
	if (new_set) {
		close_set(x);
		if (!put_uint(&w, tid, 2) || !put_uint(&w, 0, 2))
			goto out;
	}
	for (size_t i = 0; i < NFIELDS; i++)
		if (!put_field(&w, &fs[i], f, why))
			goto out;
	if (new_set) {
		x->set_off = x->len;
		x->set_id = tid;
	}
	x->len = w.len;
	x->records++;
	return;
out:
	/* Only when max_message cannot hold one record: counted, not written. */
	x->st.records_lost++;
}

void ipfix_sink(void *arg, const struct flow *f, enum flow_end why)
{
	ipfix_export(arg, f, why);
}

void ipfix_flush(struct ipfix_exporter *x)
{
	if (x->len)
		send_message(x, now_ns(x));
}

void ipfix_poll(struct ipfix_exporter *x)
{
	if (!x->len)
		return;
	uint64_t now = now_ns(x);
	if (now - x->first_ns >= (uint64_t)x->cfg.max_delay_ms * 1000000ull)
		send_message(x, now);
}

const struct ipfix_stats *ipfix_exporter_stats(const struct ipfix_exporter *x)
{
	return &x->st;
}

/* "HOST:PORT", "[V6]:PORT", "HOST", "[V6]" into host and port. */
static int split_host_port(const char *s, char *host, size_t hsize, char *port, size_t psize)
{
	const char *h = s, *p = NULL;
	size_t hlen;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(end - h);
		if (end[1] == ':')
			p = end + 2;
		else if (end[1] != '\0')
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return -EINVAL; /* a bare IPv6 address needs brackets */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			p = colon + 1;
	}
	if (hlen == 0 || hlen >= hsize)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (!p) {
		snprintf(port, psize, "%d", IPFIX_PORT);
		return 0;
	}
	size_t plen = strlen(p);
	if (plen == 0 || plen > 5 || plen >= psize || strspn(p, "0123456789") != plen)
		return -EINVAL;
	long v = strtol(p, NULL, 10);
	if (v < 1 || v > 65535)
		return -EINVAL;
	memcpy(port, p, plen + 1);
	return 0;
}

struct ipfix_exporter *ipfix_exporter_new(const char *host_port, uint32_t observation_domain,
					  const struct ipfix_config *cfg, int *err)
{
	char host[256], port[8];
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	struct ipfix_exporter *x = NULL;
	int rc = split_host_port(host_port, host, sizeof(host), port, sizeof(port));
	if (rc)
		goto out;
	x = calloc(1, sizeof(*x));
	if (!x) {
		rc = -ENOMEM;
		goto out;
	}
	x->fd = -1;
	if (cfg)
		x->cfg = *cfg;
	if (!x->cfg.max_message)
		x->cfg.max_message = IPFIX_MESSAGE_DEFAULT;
	if (!x->cfg.refresh_seconds)
		x->cfg.refresh_seconds = 60;
	if (!x->cfg.refresh_messages)
		x->cfg.refresh_messages = 100;
	if (!x->cfg.max_delay_ms)
		x->cfg.max_delay_ms = 1000;
	if (x->cfg.max_message < IPFIX_MESSAGE_MIN || x->cfg.max_message > IPFIX_MESSAGE_MAX) {
		rc = -EINVAL;
		goto out;
	}
	x->domain = observation_domain;
	x->rec_len_v4 = record_len(fields_v4);
	x->rec_len_v6 = record_len(fields_v6);
	x->templates_len = 2 * template_len();
	x->templates_due = true;
	x->buf = malloc(x->cfg.max_message);
	if (!x->buf) {
		rc = -ENOMEM;
		goto out;
	}
	int gai = getaddrinfo(host, port, &hints, &ai);
	if (gai) {
		rc = gai == EAI_MEMORY ? -ENOMEM : gai == EAI_SYSTEM ? -errno : -ENOENT;
		goto out;
	}
	x->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0 || connect(x->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		rc = -errno;
		goto out;
	}
	rc = 0;
out:
	if (ai)
		freeaddrinfo(ai);
	if (rc && x) {
		if (x->fd >= 0)
			close(x->fd);
		free(x->buf);
		free(x);
		x = NULL;
	}
	if (err)
		*err = rc;
	return x;
}

void ipfix_exporter_free(struct ipfix_exporter *x)
{
	if (!x)
		return;
	ipfix_flush(x);
	close(x->fd);
	free(x->buf);
	free(x);
}
