// SPDX-License-Identifier: MIT
#include "agent/flow.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/proto.h"

#define NS 1000000000ull

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10 };

/* Expiry classes; each is a list in order of last activity, so its head is
 * the flow idle longest and expiry only ever looks at heads. */
enum { CL_TCP, CL_UDP, CL_ICMP, CL_OTHER, CL_CLOSING, CL_COUNT, CL_FREE = 0xff };

/* The canonical key: endpoint a sorts before endpoint b, so both
 * directions find the same entry. For ICMP the "ports" are the identifier
 * (pa) and the request's type and code (pb), and only addresses sort. ICMP
 * errors related to a flow of the table and those that are not are kept
 * apart (rel), so that a record is one or the other. */
struct fkey {
	uint8_t a[16];
	uint8_t b[16];
	uint16_t pa;
	uint16_t pb;
	uint8_t proto;
	uint8_t rel;
	uint16_t vlan;
};

enum {
	F_INIT_B = 0x01, /* the initiator is endpoint b */
	F_FIN_A = 0x02,	 /* FIN sent by a */
	F_FIN_B = 0x04,	 /* FIN sent by b */
	F_RST = 0x08,
	F_SYN_SEEN = 0x10,    /* initiator fixed by a SYN without ACK */
	F_REPLY_FIRST = 0x20, /* opened by an answer (ICMP reply, SYN+ACK): no request seen */
};

/* One table slot. Directions are canonical: [0] is a -> b. Links are slot
 * indices; 0 is nil (slot 0 is never used). */
struct slot {
	struct fkey key;
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t packets[2];
	uint64_t bytes[2];
	uint32_t ifindex[FLOW_MAX_IFS];
	uint16_t vlan_seen[2];
	uint8_t tcp_flags[2];
	uint8_t flags;
	uint8_t cls;
	uint32_t hnext;
	uint32_t prev;
	uint32_t next;
};

_Static_assert(sizeof(struct fkey) == 40, "flow key layout");
_Static_assert(sizeof(struct slot) <= 124, "flow slot must stay compact");

struct list {
	uint32_t head;
	uint32_t tail;
};

/*
 * An ICMP error whose quoted flow is not in the table waits this long (by
 * the packets' clock) before it is judged unsolicited: live capture hands
 * each interface's ring over on its own, and a gateway captures the packet
 * that caused an error inbound on one interface and the error inbound on
 * another, so the error can be read first. At most PENDING_MAX wait; beyond
 * that the oldest is judged at once.
 */
#define REORDER_NS  NS
#define PENDING_MAX 256

struct pending {
	struct dec_pkt p;
	uint64_t ts_ns;
};

struct flow_table {
	struct slot *slots; /* cap + 1 entries */
	uint32_t *buckets;  /* nbuckets heads */
	size_t cap;	    /* slots usable now */
	size_t max;	    /* cap never grows past it */
	size_t nbuckets;    /* power of two >= cap */
	size_t count;
	uint32_t free_head;
	struct list lists[CL_COUNT];
	uint64_t timeout[CL_COUNT];
	uint64_t active_ns;
	uint64_t now_ns;
	uint64_t next_check_ns; /* no list head is due before this */
	uint64_t seed;
	flow_sink_fn sink;
	void *sink_arg;
	bool (*parent_passes)(void *arg, const struct flow *f);
	void *parent_arg;
	struct flow_stats st;
	uint8_t vlan_key[4096 / 8];
	struct pending *pend; /* a ring of PENDING_MAX, allocated when first needed */
	unsigned phead, pn;
};

static const char *const end_names[] = {
    [FLOW_END_IDLE] = "idle",	 [FLOW_END_ACTIVE] = "active",	 [FLOW_END_CLOSED] = "end",
    [FLOW_END_FORCED] = "flush", [FLOW_END_EVICTED] = "evicted",
};

const char *flow_end_name(enum flow_end e)
{
	if (e < FLOW_END_IDLE || e > FLOW_END_EVICTED)
		return NULL;
	return end_names[e];
}

size_t flow_table_record_size(void)
{
	return sizeof(struct slot) + sizeof(uint32_t);
}

/* ---- storage ----------------------------------------------------------- */

static uint64_t mix(uint64_t h)
{
	/* The murmur3 64-bit finaliser. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static size_t key_hash(const struct flow_table *ft, const struct fkey *k)
{
	uint64_t w[5];
	memcpy(w, k, sizeof(w));
	uint64_t h = ft->seed;
	for (int i = 0; i < 5; i++)
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull + (h >> 29);
	return (size_t)mix(h) & (ft->nbuckets - 1);
}

static void list_unlink(struct flow_table *ft, uint32_t i)
{
	struct slot *s = &ft->slots[i];
	struct list *l = &ft->lists[s->cls];
	if (s->prev)
		ft->slots[s->prev].next = s->next;
	else
		l->head = s->next;
	if (s->next)
		ft->slots[s->next].prev = s->prev;
	else
		l->tail = s->prev;
	s->prev = s->next = 0;
}

static void list_append(struct flow_table *ft, uint32_t i, uint8_t cls)
{
	struct slot *s = &ft->slots[i];
	struct list *l = &ft->lists[cls];
	/* A flow joining an empty list may be due before every other head. */
	if (!l->head && s->last_ns + ft->timeout[cls] < ft->next_check_ns)
		ft->next_check_ns = s->last_ns + ft->timeout[cls];
	s->cls = cls;
	s->next = 0;
	s->prev = l->tail;
	if (l->tail)
		ft->slots[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
}

/* Makes a slot the most recently active of its class (or of a new one). */
static void list_touch(struct flow_table *ft, uint32_t i, uint8_t cls)
{
	if (ft->lists[ft->slots[i].cls].tail == i && ft->slots[i].cls == cls)
		return;
	list_unlink(ft, i);
	list_append(ft, i, cls);
}

static void bucket_remove(struct flow_table *ft, uint32_t i)
{
	uint32_t *pp = &ft->buckets[key_hash(ft, &ft->slots[i].key)];
	while (*pp != i)
		pp = &ft->slots[*pp].hnext;
	*pp = ft->slots[i].hnext;
}

/* Grows slots and buckets (doubling from 1024, up to max). False when
 * already at max or out of memory: the caller evicts instead. */
static bool grow(struct flow_table *ft)
{
	if (ft->cap >= ft->max)
		return false;
	size_t ncap = ft->cap ? ft->cap * 2 : 1024;
	if (ncap > ft->max)
		ncap = ft->max;
	size_t nb = ft->nbuckets ? ft->nbuckets : 1;
	while (nb < ncap)
		nb <<= 1;
	struct slot *ns = realloc(ft->slots, (ncap + 1) * sizeof(*ns));
	if (!ns)
		return false;
	ft->slots = ns;
	if (nb != ft->nbuckets) {
		uint32_t *b = calloc(nb, sizeof(*b));
		if (!b)
			return false; /* the larger slot array stays unused */
		free(ft->buckets);
		ft->buckets = b;
		ft->nbuckets = nb;
		for (size_t i = 1; i <= ft->cap; i++) {
			struct slot *s = &ft->slots[i];
			if (s->cls == CL_FREE)
				continue;
			size_t h = key_hash(ft, &s->key);
			s->hnext = b[h];
			b[h] = (uint32_t)i;
		}
	}
	for (size_t i = ncap; i > ft->cap; i--) {
		memset(&ft->slots[i], 0, sizeof(struct slot));
		ft->slots[i].cls = CL_FREE;
		ft->slots[i].hnext = ft->free_head;
		ft->free_head = (uint32_t)i;
	}
	ft->cap = ncap;
	return true;
}

int flow_table_new(const struct flow_config *cfg, struct flow_table **out)
{
	*out = NULL;
	size_t max = cfg && cfg->max_flows ? cfg->max_flows : FLOW_DEFAULT_MAX;
	if (max > FLOW_LIMIT_MAX)
		return -EINVAL;
	struct flow_table *ft = calloc(1, sizeof(*ft));
	if (!ft)
		return -ENOMEM;
	const struct flow_timeouts *t = cfg ? &cfg->timeouts : NULL;
	ft->timeout[CL_TCP] = t && t->tcp_ns ? t->tcp_ns : 300 * NS;
	ft->timeout[CL_UDP] = t && t->udp_ns ? t->udp_ns : 120 * NS;
	ft->timeout[CL_ICMP] = t && t->icmp_ns ? t->icmp_ns : 60 * NS;
	ft->timeout[CL_OTHER] = t && t->other_ns ? t->other_ns : 120 * NS;
	ft->timeout[CL_CLOSING] = t && t->close_ns ? t->close_ns : 2 * NS;
	ft->active_ns = t && t->active_ns ? t->active_ns : 1800 * NS;
	ft->max = max;
	ft->next_check_ns = UINT64_MAX;
	ft->sink = cfg ? cfg->sink : NULL;
	ft->sink_arg = cfg ? cfg->sink_arg : NULL;
	ft->parent_passes = cfg ? cfg->parent_passes : NULL;
	ft->parent_arg = cfg ? cfg->parent_arg : NULL;
	ft->seed = cfg ? cfg->seed : 0;
	if (!ft->seed && getrandom(&ft->seed, sizeof(ft->seed), GRND_NONBLOCK) != sizeof(ft->seed))
		ft->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)ft;
	if (!grow(ft)) {
		flow_table_free(ft);
		return -ENOMEM;
	}
	*out = ft;
	return 0;
}

void flow_table_free(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->slots);
	free(ft->buckets);
	free(ft->pend);
	free(ft);
}

int flow_table_distinguish_vlan(struct flow_table *ft, unsigned vid)
{
	if (vid > 4095)
		return -EINVAL;
	ft->vlan_key[vid / 8] |= (uint8_t)(1u << (vid % 8));
	return 0;
}

const struct flow_stats *flow_table_stats(const struct flow_table *ft)
{
	return &ft->st;
}

size_t flow_table_count(const struct flow_table *ft)
{
	return ft->count;
}

size_t flow_table_mem(const struct flow_table *ft)
{
	return (ft->cap + 1) * sizeof(struct slot) + ft->nbuckets * sizeof(uint32_t) +
	       (ft->pend ? PENDING_MAX * sizeof(struct pending) : 0);
}

/* ---- export ------------------------------------------------------------ */

/* The record of slot s, initiator first. */
static void slot_flow(const struct slot *s, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	int i = s->flags & F_INIT_B ? 1 : 0; /* canonical index of the initiator */
	const struct fkey *k = &s->key;
	memcpy(f->src, i ? k->b : k->a, 16);
	memcpy(f->dst, i ? k->a : k->b, 16);
	f->proto = k->proto;
	if (proto_is_any_icmp(k->proto)) {
		f->icmp_id = k->pa;
		f->icmp_type = (uint8_t)(k->pb >> 8);
		f->icmp_code = (uint8_t)k->pb;
	} else {
		f->sport = i ? k->pb : k->pa;
		f->dport = i ? k->pa : k->pb;
	}
	f->vlan = k->vlan;
	f->related = k->rel != 0;
	f->reply_first = (s->flags & F_REPLY_FIRST) != 0;
	f->first_ns = s->first_ns;
	f->last_ns = s->last_ns;
	for (int d = 0; d < 2; d++) {
		int c = d ^ i;
		f->packets[d] = s->packets[c];
		f->bytes[d] = s->bytes[c];
		f->tcp_flags[d] = s->tcp_flags[c];
		f->vlan_seen[d] = s->vlan_seen[c];
	}
	memcpy(f->ifindex, s->ifindex, sizeof(f->ifindex));
}

static void emit(struct flow_table *ft, const struct slot *s, enum flow_end why)
{
	ft->st.records++;
	if (!ft->sink)
		return;
	struct flow f;
	slot_flow(s, &f);
	ft->sink(ft->sink_arg, &f, why);
}

static void release(struct flow_table *ft, uint32_t i)
{
	list_unlink(ft, i);
	bucket_remove(ft, i);
	ft->slots[i].cls = CL_FREE;
	ft->slots[i].hnext = ft->free_head;
	ft->free_head = i;
	ft->count--;
}

static void end_flow(struct flow_table *ft, uint32_t i, enum flow_end why)
{
	switch (why) {
	case FLOW_END_IDLE:
		ft->st.expired_idle++;
		break;
	case FLOW_END_CLOSED:
		ft->st.expired_closed++;
		break;
	case FLOW_END_EVICTED:
		ft->st.evicted++;
		break;
	case FLOW_END_FORCED:
		ft->st.flushed++;
		break;
	case FLOW_END_ACTIVE:
		ft->st.expired_active++;
		break;
	}
	emit(ft, &ft->slots[i], why);
	release(ft, i);
}

static void resolve_pending(struct flow_table *ft);

void flow_table_expire(struct flow_table *ft, uint64_t now_ns)
{
	if (now_ns > ft->now_ns)
		ft->now_ns = now_ns;
	while (ft->pn && ft->now_ns - ft->pend[ft->phead].ts_ns >= REORDER_NS)
		resolve_pending(ft);
	/* Most packets find nothing due: one comparison instead of a cache
	 * miss on every list head. */
	if (ft->now_ns < ft->next_check_ns)
		return;
	uint64_t next = UINT64_MAX;
	for (int c = 0; c < CL_COUNT; c++) {
		uint32_t i;
		while ((i = ft->lists[c].head) != 0 &&
		       ft->now_ns - ft->slots[i].last_ns >= ft->timeout[c])
			end_flow(ft, i, c == CL_CLOSING ? FLOW_END_CLOSED : FLOW_END_IDLE);
		if (i && ft->slots[i].last_ns + ft->timeout[c] < next)
			next = ft->slots[i].last_ns + ft->timeout[c];
	}
	ft->next_check_ns = next;
}

void flow_table_flush(struct flow_table *ft)
{
	while (ft->pn)
		resolve_pending(ft);
	for (int c = 0; c < CL_COUNT; c++) {
		uint32_t i;
		while ((i = ft->lists[c].head) != 0)
			end_flow(ft, i, FLOW_END_FORCED);
	}
}

/* The least recently active flow: the oldest of the list heads. */
static void evict_one(struct flow_table *ft)
{
	uint32_t victim = 0;
	for (int c = 0; c < CL_COUNT; c++) {
		uint32_t i = ft->lists[c].head;
		if (i && (!victim || ft->slots[i].last_ns < ft->slots[victim].last_ns))
			victim = i;
	}
	if (victim)
		end_flow(ft, victim, FLOW_END_EVICTED);
}

/* ---- update ------------------------------------------------------------ */

static uint8_t proto_class(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return CL_TCP;
	case IPPROTO_UDP:
		return CL_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return CL_ICMP;
	default:
		return CL_OTHER;
	}
}

/* Builds the canonical key; returns the packet's canonical direction
 * (0: a -> b). *reply is set for ICMP replies and TCP SYN+ACK: packets a
 * responder sends. */
static int make_key(const struct flow_table *ft, const struct dec_pkt *p, struct fkey *k,
		    bool *reply)
{
	memset(k, 0, sizeof(*k));
	k->proto = p->proto;
	if (p->vlan && (ft->vlan_key[p->vlan / 8] >> (p->vlan % 8)) & 1)
		k->vlan = p->vlan;
	*reply = false;
	int cmp = memcmp(p->src, p->dst, 16);
	bool icmp = proto_is_any_icmp(p->proto);
	if (icmp) {
		/* A query reply is keyed on its request's type (core/proto.h). */
		int req = proto_icmp_request_of(p->proto == IPPROTO_ICMPV6 ? 6 : 4, p->icmp_type);
		*reply = req >= 0;
		k->pa = p->icmp_id;
		k->pb = (uint16_t)((req >= 0 ? req : p->icmp_type) << 8 | p->icmp_code);
	} else {
		if (p->proto == IPPROTO_TCP)
			*reply = (p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
		if (cmp == 0)
			cmp = (int)p->sport - (int)p->dport;
	}
	if (cmp <= 0) {
		memcpy(k->a, p->src, 16);
		memcpy(k->b, p->dst, 16);
		if (!icmp) {
			k->pa = p->sport;
			k->pb = p->dport;
		}
		return 0;
	}
	memcpy(k->a, p->dst, 16);
	memcpy(k->b, p->src, 16);
	if (!icmp) {
		k->pa = p->dport;
		k->pb = p->sport;
	}
	return 1;
}

static uint32_t lookup(const struct flow_table *ft, const struct fkey *k, size_t h)
{
	for (uint32_t i = ft->buckets[h]; i; i = ft->slots[i].hnext)
		if (memcmp(&ft->slots[i].key, k, sizeof(*k)) == 0)
			return i;
	return 0;
}

static uint32_t create(struct flow_table *ft, const struct fkey *k, int dir, bool reply,
		       uint64_t ts_ns)
{
	if (!ft->free_head && !grow(ft))
		evict_one(ft);
	uint32_t i = ft->free_head;
	struct slot *s = &ft->slots[i];
	ft->free_head = s->hnext;
	memset(s, 0, sizeof(*s));
	s->key = *k;
	s->first_ns = ts_ns;
	s->last_ns = ts_ns;
	/* The sender is the initiator, unless what it sent is an answer. */
	if ((dir == 1) != reply)
		s->flags |= F_INIT_B;
	if (reply)
		s->flags |= F_REPLY_FIRST;
	size_t h = key_hash(ft, k);
	s->hnext = ft->buckets[h];
	ft->buckets[h] = i;
	s->cls = CL_FREE;
	list_append(ft, i, proto_class(k->proto));
	ft->count++;
	ft->st.created++;
	if (ft->count > ft->st.peak)
		ft->st.peak = ft->count;
	return i;
}

/* After an active timeout the flow goes on in a fresh record. */
static void restart(struct slot *s, uint64_t ts_ns)
{
	s->first_ns = ts_ns;
	s->last_ns = ts_ns;
	memset(s->packets, 0, sizeof(s->packets));
	memset(s->bytes, 0, sizeof(s->bytes));
	memset(s->tcp_flags, 0, sizeof(s->tcp_flags));
	memset(s->ifindex, 0, sizeof(s->ifindex));
}

/* Counts a packet into its flow; rel: an ICMP error related to a flow. */
static void account(struct flow_table *ft, const struct dec_pkt *p, uint64_t ts_ns, bool rel)
{
	struct fkey k;
	bool reply;
	int dir = make_key(ft, p, &k, &reply);
	k.rel = rel;
	size_t h = key_hash(ft, &k);
	uint32_t i = lookup(ft, &k, h);
	bool pure_syn = p->proto == IPPROTO_TCP && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	/*
	 * A packet older than the flow was read late: live capture on several
	 * interfaces hands each ring over on its own, so the SYN can come after
	 * the RST or SYN+ACK answering it. It belongs to this flow, and a SYN
	 * among such packets started the connection (RFC 9293 3.5).
	 */
	bool early = i && ts_ns < ft->slots[i].first_ns;
	if (i && pure_syn && !early && ft->slots[i].cls == CL_CLOSING) {
		/* A new connection reusing a closed one's ports. */
		end_flow(ft, i, FLOW_END_CLOSED);
		i = 0;
	}
	if (i && ts_ns >= ft->slots[i].first_ns + ft->active_ns) {
		ft->st.expired_active++;
		emit(ft, &ft->slots[i], FLOW_END_ACTIVE);
		restart(&ft->slots[i], ts_ns);
	}
	if (!i)
		i = create(ft, &k, dir, reply, ts_ns);
	struct slot *s = &ft->slots[i];

	if (pure_syn && (!(s->flags & F_SYN_SEEN) || early)) {
		s->flags |= F_SYN_SEEN;
		s->flags = (uint8_t)((s->flags & ~F_INIT_B) | (dir ? F_INIT_B : 0));
	}
	/* The request came after all (read late): an ordinary connection. */
	if (!reply && (s->flags & F_REPLY_FIRST) && (dir == 1) == ((s->flags & F_INIT_B) != 0))
		s->flags &= (uint8_t)~F_REPLY_FIRST;
	uint64_t n = 1 + (uint64_t)p->held_packets;
	s->packets[dir] += n;
	s->bytes[dir] += p->ip_len + p->held_bytes;
	s->tcp_flags[dir] |= p->tcp_flags;
	ft->st.packets += n;
	if (p->held_packets && p->held_first_ns < s->first_ns)
		s->first_ns = p->held_first_ns;
	if (ts_ns < s->first_ns)
		s->first_ns = ts_ns;
	if (ts_ns > s->last_ns)
		s->last_ns = ts_ns;
	if (p->vlan && !s->vlan_seen[dir])
		s->vlan_seen[dir] = p->vlan;
	if (p->ifindex) {
		for (int j = 0; j < FLOW_MAX_IFS; j++) {
			if (s->ifindex[j] == p->ifindex)
				break;
			if (!s->ifindex[j]) {
				s->ifindex[j] = p->ifindex;
				break;
			}
		}
	}

	uint8_t cls = s->cls;
	if (p->proto == IPPROTO_TCP) {
		if (p->tcp_flags & TCP_FIN)
			s->flags |= dir ? F_FIN_B : F_FIN_A;
		if (p->tcp_flags & TCP_RST)
			s->flags |= F_RST;
		if ((s->flags & (F_FIN_A | F_FIN_B)) == (F_FIN_A | F_FIN_B) || (s->flags & F_RST))
			cls = CL_CLOSING;
	}
	list_touch(ft, i, cls);
}

/* Does the table hold the flow of the packet an error quotes, in either
 * direction? */
static bool quote_found(const struct flow_table *ft, const struct dec_pkt *p)
{
	const struct dec_quote *q = &p->quote;
	struct dec_pkt in;
	struct fkey k;
	bool reply;
	memset(&in, 0, sizeof(in));
	memcpy(in.src, q->src, 16);
	memcpy(in.dst, q->dst, 16);
	in.proto = q->proto;
	in.sport = q->sport;
	in.dport = q->dport;
	in.icmp_type = q->icmp_type;
	in.icmp_code = q->icmp_code;
	in.icmp_id = q->icmp_id;
	in.vlan = p->vlan;
	make_key(ft, &in, &k, &reply);
	uint32_t i = lookup(ft, &k, key_hash(ft, &k));
	if (!i)
		return false;
	/* Conntrack holds only what the gateway let through: an error quoting a
	 * denied packet's flow is no more related than one quoting nothing. */
	if (!ft->parent_passes)
		return true;
	struct flow f;
	slot_flow(&ft->slots[i], &f);
	return ft->parent_passes(ft->parent_arg, &f);
}

/* Judges the error that has waited longest, with what the table holds now. */
static void resolve_pending(struct flow_table *ft)
{
	const struct pending *e = &ft->pend[ft->phead];
	ft->phead = (ft->phead + 1) % PENDING_MAX;
	ft->pn--;
	account(ft, &e->p, e->ts_ns, quote_found(ft, &e->p));
}

/* Keeps an error whose quoted flow is not (yet) in the table; false when
 * there is no memory for it: then it is judged at once. */
static bool defer(struct flow_table *ft, const struct dec_pkt *p, uint64_t ts_ns)
{
	if (!ft->pend && !(ft->pend = calloc(PENDING_MAX, sizeof(*ft->pend))))
		return false;
	if (ft->pn == PENDING_MAX)
		resolve_pending(ft);
	struct pending *e = &ft->pend[(ft->phead + ft->pn) % PENDING_MAX];
	e->p = *p;
	e->ts_ns = ts_ns;
	ft->pn++;
	return true;
}

void flow_table_add(struct flow_table *ft, const struct dec_pkt *p, uint64_t ts_ns)
{
	flow_table_expire(ft, ts_ns);
	/*
	 * An ICMP error is RELATED, as Linux conntrack has it
	 * (nf_conntrack_inet_error()), when it goes to the sender of the packet
	 * it quotes and that packet's flow exists. Only such errors pay for a
	 * lookup.
	 */
	if (p->icmp_error && p->quote.valid && memcmp(p->dst, p->quote.src, 16) == 0) {
		if (quote_found(ft, p))
			account(ft, p, ts_ns, true);
		else if (!defer(ft, p, ts_ns))
			account(ft, p, ts_ns, false);
		return;
	}
	account(ft, p, ts_ns, false);
}
