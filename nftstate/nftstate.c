// SPDX-License-Identifier: MIT
#include "nftstate/nftstate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "core/grow.h"

/* nftables' own datatype numbers (nftables src/datatype.h, stored in the
 * set's NFTA_SET_KEY_TYPE); concatenations pack one type per 6 bits, the
 * first component in the highest bits, each component padded to 4 bytes. */
enum {
	NFTS_TYPE_IPADDR = 7,
	NFTS_TYPE_IP6ADDR = 8,
	NFTS_TYPE_INET_PROTOCOL = 12,
	NFTS_TYPE_INET_SERVICE = 13,
	NFTS_TYPE_BITS = 6,
};

#define RULE_ID_PREFIX "rule:"
/* Dumps arrive in datagrams of up to 32 KiB (netlink(7)); twice that is safe
 * with large pages. */
#define NL_RECV_SIZE 65536
#define READ_TRIES   5

struct nfts {
	const char *family;
	char *table;
	uint64_t handle;
	char *comment;
	uint32_t genid;
	struct nfts_chain *chains;
	size_t nchains, cchains;
	struct nfts_rule *rules;
	size_t nrules, crules;
	struct nfts_set *sets;
	size_t nsets, csets;
};

struct nl {
	struct mnl_socket *sk;
	uint32_t portid;
	uint32_t seq;
	char *buf;
};

static const struct {
	const char *name;
	uint16_t proto;
} families[] = {
    {"inet", NFPROTO_INET}, {"ip", NFPROTO_IPV4},	{"ip6", NFPROTO_IPV6},
    {"arp", NFPROTO_ARP},   {"bridge", NFPROTO_BRIDGE}, {"netdev", NFPROTO_NETDEV},
};

/* strdup that treats NULL as "absent"; *err set on allocation failure. */
static char *dup_opt(const char *s, int *err)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

static void chain_clear(struct nfts_chain *c)
{
	free(c->name);
	free(c->type);
	free(c->comment);
}

static void rule_clear(struct nfts_rule *r)
{
	free(r->chain);
	free(r->comment);
	free(r->id);
	free(r->fingerprint);
}

static void set_clear(struct nfts_set *s)
{
	free(s->name);
	free(s->comment);
	for (size_t i = 0; i < s->nelems; i++)
		free(s->elems[i]);
	free(s->elems);
}

static void state_clear(struct nfts *s)
{
	for (size_t i = 0; i < s->nchains; i++)
		chain_clear(&s->chains[i]);
	for (size_t i = 0; i < s->nrules; i++)
		rule_clear(&s->rules[i]);
	for (size_t i = 0; i < s->nsets; i++)
		set_clear(&s->sets[i]);
	free(s->chains);
	free(s->rules);
	free(s->sets);
	free(s->comment);
	s->chains = NULL;
	s->rules = NULL;
	s->sets = NULL;
	s->comment = NULL;
	s->nchains = s->cchains = s->nrules = s->crules = s->nsets = s->csets = 0;
}

void nfts_free(struct nfts *s)
{
	if (!s)
		return;
	state_clear(s);
	free(s->table);
	free(s);
}

/* ---- netlink ---------------------------------------------------------- */

static int nl_open(struct nl *nl)
{
	memset(nl, 0, sizeof(*nl));
	nl->buf = malloc(NL_RECV_SIZE);
	if (!nl->buf)
		return -ENOMEM;
	nl->sk = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl->sk)
		return -errno;
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

static void nl_close(struct nl *nl)
{
	if (nl->sk)
		mnl_socket_close(nl->sk);
	free(nl->buf);
}

/* Sends one request and runs cb on every reply until the dump's DONE or the
 * request's ACK. A dump interrupted by a ruleset change (NLM_F_DUMP_INTR)
 * comes back as -EINTR, which the caller retries. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sk, nl->buf, NL_RECV_SIZE);
		if (n < 0)
			return -errno;
		errno = 0;
		int r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = nftnl_gen_alloc();
	if (!g) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_gen_nlmsg_parse(nlh, g) == 0)
		*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

static int read_genid(struct nl *nl, uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
	    nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, ++nl->seq);
	return nl_talk(nl, nlh, gen_cb, genid);
}

/* ---- user data (comments) --------------------------------------------- */

struct ud_find {
	uint8_t type;
	const char *val;
	uint8_t len;
};

static int ud_cb(const struct nftnl_udata *attr, void *data)
{
	struct ud_find *f = data;
	if (nftnl_udata_type(attr) == f->type) {
		f->val = nftnl_udata_get(attr);
		f->len = nftnl_udata_len(attr);
	}
	return 0;
}

/* The comment TLV of a user data blob (libnftnl udata.h); NULL when none. */
static char *ud_comment(const void *ud, uint32_t len, uint8_t type, int *err)
{
	struct ud_find f = {.type = type};
	if (!ud || len == 0 || nftnl_udata_parse(ud, len, ud_cb, &f) < 0 || !f.val)
		return NULL;
	char *s = strndup(f.val, f.len);
	if (!s)
		*err = -ENOMEM;
	return s;
}

/* ---- table and chains ------------------------------------------------- */

struct read_ctx {
	struct nfts *s;
	int err;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), rc->s->table) == 0) {
		uint32_t len = 0;
		const void *ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
		rc->s->handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
		free(rc->s->comment);
		rc->s->comment = ud_comment(ud, len, NFTNL_UDATA_TABLE_COMMENT, &rc->err);
	}
	nftnl_table_free(t);
	return rc->err ? MNL_CB_ERROR : MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nfts *s = rc->s;
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (!c) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), s->table) != 0)
		goto out;
	rc->err = grow_array(&s->chains, &s->cchains, s->nchains + 1, sizeof(*s->chains));
	if (rc->err)
		goto out;
	struct nfts_chain *ch = &s->chains[s->nchains++];
	uint32_t len = 0;
	const void *ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);
	ch->name = dup_opt(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), &rc->err);
	ch->handle = nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE);
	ch->base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
	if (ch->base) {
		ch->type = dup_opt(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), &rc->err);
		ch->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
		ch->prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
		ch->policy = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY);
	}
	ch->comment = ud_comment(ud, len, NFTNL_UDATA_CHAIN_COMMENT, &rc->err);
out:
	nftnl_chain_free(c);
	if (rc->err)
		errno = -rc->err;
	return rc->err ? MNL_CB_ERROR : MNL_CB_OK;
}

/* ---- sets and elements ------------------------------------------------ */

static size_t type_size(uint32_t t)
{
	switch (t) {
	case NFTS_TYPE_IPADDR:
		return 4;
	case NFTS_TYPE_IP6ADDR:
		return 16;
	case NFTS_TYPE_INET_PROTOCOL:
		return 1;
	case NFTS_TYPE_INET_SERVICE:
		return 2;
	default:
		return 0;
	}
}

static void put_hex(FILE *f, const uint8_t *p, size_t len)
{
	fputs("0x", f);
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
}

static void put_component(FILE *f, uint32_t t, const uint8_t *p)
{
	char a[INET6_ADDRSTRLEN];
	switch (t) {
	case NFTS_TYPE_IPADDR:
		fputs(inet_ntop(AF_INET, p, a, sizeof(a)), f);
		break;
	case NFTS_TYPE_IP6ADDR:
		fputs(inet_ntop(AF_INET6, p, a, sizeof(a)), f);
		break;
	case NFTS_TYPE_INET_PROTOCOL:
		fprintf(f, "%u", p[0]);
		break;
	default: /* NFTS_TYPE_INET_SERVICE: network byte order */
		fprintf(f, "%u", (unsigned)p[0] << 8 | p[1]);
		break;
	}
}

/* A key or map value in the notation of nft where the type is known. */
static void put_key(FILE *f, uint32_t type, const uint8_t *p, size_t len)
{
	uint32_t comp[5];
	size_t n = 0, want = 0;
	for (uint32_t t = type; t && n < 5; t >>= NFTS_TYPE_BITS)
		comp[n++] = t & ((1u << NFTS_TYPE_BITS) - 1);
	if (n == 0 || (type >> (NFTS_TYPE_BITS * n)) != 0) {
		put_hex(f, p, len);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t sz = type_size(comp[i]);
		if (sz == 0) {
			put_hex(f, p, len);
			return;
		}
		want += n == 1 ? sz : (sz + 3) / 4 * 4;
	}
	if (want != len) {
		put_hex(f, p, len);
		return;
	}
	size_t off = 0;
	for (size_t i = n; i-- > 0;) {
		put_component(f, comp[i], p + off);
		size_t sz = type_size(comp[i]);
		off += n == 1 ? sz : (sz + 3) / 4 * 4;
		if (i)
			fputs(" . ", f);
	}
}

struct raw_elem {
	uint8_t key[64];
	uint32_t klen;
	uint8_t kend[64];
	uint32_t kendlen;
	bool interval_end;
	struct nftnl_set_elem *e;
};

static int raw_cmp(const void *a, const void *b)
{
	const struct raw_elem *x = a, *y = b;
	uint32_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	/* An interval's end and the next one's start share a key: end first. */
	return (int)y->interval_end - (int)x->interval_end;
}

static void put_data(FILE *f, const struct nfts_set *st, struct nftnl_set_elem *e)
{
	uint32_t len = 0;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
		int32_t v = (int32_t)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
		const char *chain = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)
					? nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN)
					: "";
		switch (v) {
		case NF_ACCEPT:
			fputs(" : accept", f);
			break;
		case NF_DROP:
			fputs(" : drop", f);
			break;
		case NFT_CONTINUE:
			fputs(" : continue", f);
			break;
		case NFT_RETURN:
			fputs(" : return", f);
			break;
		case NFT_JUMP:
			fprintf(f, " : jump %s", chain);
			break;
		case NFT_GOTO:
			fprintf(f, " : goto %s", chain);
			break;
		default:
			fprintf(f, " : verdict %" PRId32, v);
			break;
		}
	} else if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA)) {
		const uint8_t *d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);
		fputs(" : ", f);
		put_key(f, st->data_type, d, len);
	}
}

/* Decrements a big-endian number: an rbtree interval's end element holds the
 * first key after the interval (nftables' interval encoding). */
static void be_dec(uint8_t *p, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (p[i]-- != 0)
			break;
}

static int add_elem_text(struct nfts_set *st, size_t *cap, char *text)
{
	if (!text)
		return -ENOMEM;
	if (grow_array(&st->elems, cap, st->nelems + 1, sizeof(*st->elems)) < 0) {
		free(text);
		return -ENOMEM;
	}
	st->elems[st->nelems++] = text;
	return 0;
}

static int elem_text(const struct nfts_set *st, const struct raw_elem *from, const uint8_t *to,
		     size_t tolen, char **out)
{
	char *text = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&text, &tl);
	if (!f)
		return -ENOMEM;
	put_key(f, st->key_type, from->key, from->klen);
	if (to && !(tolen == from->klen && memcmp(to, from->key, tolen) == 0)) {
		fputs("-", f);
		put_key(f, st->key_type, to, tolen);
	}
	put_data(f, st, from->e);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*out = text;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct raw_list {
	struct raw_elem *v;
	size_t n, cap;
};

static int raw_add(struct nftnl_set_elem *e, void *data)
{
	struct raw_list *rl = data;
	uint32_t len = 0;
	const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	if (!k || len > sizeof(rl->v->key))
		return 0;
	if (grow_array(&rl->v, &rl->cap, rl->n + 1, sizeof(*rl->v)) < 0)
		return -1;
	struct raw_elem *re = &rl->v[rl->n++];
	memcpy(re->key, k, len);
	re->klen = len;
	re->e = e;
	re->interval_end =
	    nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
	    (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
	const void *ke = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len);
	if (ke && len <= sizeof(re->kend)) {
		memcpy(re->kend, ke, len);
		re->kendlen = len;
	}
	return 0;
}

/* Turns the kernel's elements into sorted canonical text. Interval sets kept
 * as start/end element pairs (rbtree) are paired into FROM-TO; pipapo
 * elements carry their end in KEY_END. */
static int collect_elems(struct nfts_set *st, struct nftnl_set *ns)
{
	struct raw_list rl = {0};
	size_t tcap = 0;
	int r = 0;
	if (nftnl_set_elem_foreach(ns, raw_add, &rl) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (rl.n)
		qsort(rl.v, rl.n, sizeof(*rl.v), raw_cmp);
	const struct raw_elem *start = NULL;
	for (size_t i = 0; i < rl.n && r == 0; i++) {
		const struct raw_elem *re = &rl.v[i];
		char *text = NULL;
		if (re->kendlen) {
			r = elem_text(st, re, re->kend, re->kendlen, &text);
		} else if (!(st->flags & NFT_SET_INTERVAL)) {
			r = elem_text(st, re, NULL, 0, &text);
		} else if (re->interval_end) {
			if (start) {
				uint8_t to[64];
				memcpy(to, re->key, re->klen);
				be_dec(to, re->klen);
				r = elem_text(st, start, to, re->klen, &text);
				start = NULL;
			}
		} else {
			if (start)
				r = elem_text(st, start, NULL, 0, &text);
			start = re;
		}
		if (r == 0 && text)
			r = add_elem_text(st, &tcap, text);
	}
	if (r == 0 && start) {
		uint8_t to[64];
		char *text = NULL;
		memset(to, 0xff, start->klen);
		r = elem_text(st, start, to, start->klen, &text);
		if (r == 0)
			r = add_elem_text(st, &tcap, text);
	}
	if (r == 0 && st->nelems)
		qsort(st->elems, st->nelems, sizeof(*st->elems), str_cmp);
out:
	free(rl.v);
	return r;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nftnl_set_elems_nlmsg_parse(nlh, data) < 0) {
		errno = EINVAL;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int read_elems(struct nl *nl, uint16_t family, const char *table, struct nfts_set *st)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int r = -ENOMEM;
	struct nftnl_set *ns = nftnl_set_alloc();
	if (!ns)
		return -ENOMEM;
	if (nftnl_set_set_str(ns, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(ns, NFTNL_SET_NAME, st->name) < 0)
		goto out;
	struct nlmsghdr *nlh =
	    nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, ++nl->seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, ns);
	r = nl_talk(nl, nlh, elems_cb, ns);
	if (r == 0)
		r = collect_elems(st, ns);
out:
	nftnl_set_free(ns);
	return r;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nfts *s = rc->s;
	struct nftnl_set *ns = nftnl_set_alloc();
	if (!ns) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_set_nlmsg_parse(nlh, ns) < 0 ||
	    strcmp(nftnl_set_get_str(ns, NFTNL_SET_TABLE), s->table) != 0)
		goto out;
	rc->err = grow_array(&s->sets, &s->csets, s->nsets + 1, sizeof(*s->sets));
	if (rc->err)
		goto out;
	struct nfts_set *st = &s->sets[s->nsets++];
	uint32_t len = 0;
	const void *ud = nftnl_set_get_data(ns, NFTNL_SET_USERDATA, &len);
	st->name = dup_opt(nftnl_set_get_str(ns, NFTNL_SET_NAME), &rc->err);
	st->handle = nftnl_set_get_u64(ns, NFTNL_SET_HANDLE);
	st->flags = nftnl_set_get_u32(ns, NFTNL_SET_FLAGS);
	st->anonymous = (st->flags & NFT_SET_ANONYMOUS) != 0;
	st->key_type = nftnl_set_get_u32(ns, NFTNL_SET_KEY_TYPE);
	st->key_len = nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN);
	if (nftnl_set_is_set(ns, NFTNL_SET_DATA_TYPE))
		st->data_type = nftnl_set_get_u32(ns, NFTNL_SET_DATA_TYPE);
	st->comment = ud_comment(ud, len, NFTNL_UDATA_SET_COMMENT, &rc->err);
out:
	nftnl_set_free(ns);
	if (rc->err)
		errno = -rc->err;
	return rc->err ? MNL_CB_ERROR : MNL_CB_OK;
}

/* ---- rules ------------------------------------------------------------ */

static const struct nfts_set *find_set_any(const struct nfts *s, const char *name)
{
	for (size_t i = 0; i < s->nsets; i++)
		if (strcmp(s->sets[i].name, name) == 0)
			return &s->sets[i];
	return NULL;
}

static void put_expr_body(FILE *f, const struct nftnl_expr *e)
{
	char small[512];
	int n = nftnl_expr_snprintf(small, sizeof(small), e, NFTNL_OUTPUT_DEFAULT, 0);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		fputs(small, f);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		return;
	if (nftnl_expr_snprintf(big, (size_t)n + 1, e, NFTNL_OUTPUT_DEFAULT, 0) >= 0)
		fputs(big, f);
	free(big);
}

/* One expression of the fingerprint: state that changes while the rule runs
 * (counter values, quota use, last-seen time) is left out, and anonymous
 * sets, whose __set%d names depend on load order, are replaced by their
 * elements. */
static void put_expr(FILE *f, const struct nfts *s, const struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	fprintf(f, "[%s", name);
	if (strcmp(name, "counter") == 0 || strcmp(name, "last") == 0) {
		/* state only */
	} else if (strcmp(name, "quota") == 0) {
		fprintf(f, " bytes %" PRIu64 " flags %" PRIu32,
			nftnl_expr_get_u64(e, NFTNL_EXPR_QUOTA_BYTES),
			nftnl_expr_get_u32(e, NFTNL_EXPR_QUOTA_FLAGS));
	} else if (strcmp(name, "lookup") == 0) {
		const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
		const struct nfts_set *st = set ? find_set_any(s, set) : NULL;
		fprintf(f, " sreg %" PRIu32, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
			fprintf(f, " dreg %" PRIu32, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
		if (st && st->anonymous) {
			fputs(" set {", f);
			for (size_t i = 0; i < st->nelems; i++)
				fprintf(f, "%s%s", i ? ", " : "", st->elems[i]);
			fputs("}", f);
		} else {
			fprintf(f, " set %s", set ? set : "?");
		}
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS))
			fprintf(f, " flags 0x%" PRIx32,
				nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS));
	} else {
		fputc(' ', f);
		put_expr_body(f, e);
	}
	fputs("] ", f);
}

static int rule_fill(struct nfts *s, struct nfts_rule *ru, struct nftnl_rule *nr)
{
	int err = 0;
	uint32_t len = 0;
	const void *ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);
	ru->chain = dup_opt(nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN), &err);
	ru->handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	ru->comment = ud_comment(ud, len, NFTNL_UDATA_RULE_COMMENT, &err);
	/* "rule:<id>[ <marks>]": the id ends at the first space (docs/policy.md),
	 * so a site exception ("rule:x exception") maps back to policy rule x. */
	if (ru->comment && strncmp(ru->comment, RULE_ID_PREFIX, strlen(RULE_ID_PREFIX)) == 0 &&
	    ru->comment[strlen(RULE_ID_PREFIX)] != '\0' &&
	    ru->comment[strlen(RULE_ID_PREFIX)] != ' ') {
		const char *id = ru->comment + strlen(RULE_ID_PREFIX);
		ru->id = strndup(id, strcspn(id, " "));
		if (!ru->id)
			err = -ENOMEM;
	}
	if (err)
		return err;

	size_t flen = 0;
	FILE *f = open_memstream(&ru->fingerprint, &flen);
	if (!f)
		return -ENOMEM;
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(nr);
	if (!it) {
		fclose(f);
		return -ENOMEM;
	}
	for (struct nftnl_expr *e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
			ru->counter = true;
			ru->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			ru->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
		}
		put_expr(f, s, e);
	}
	nftnl_expr_iter_destroy(it);
	if (fclose(f) != 0)
		return -ENOMEM;
	/* drop the trailing blank of the last "[...] " */
	if (flen && ru->fingerprint[flen - 1] == ' ')
		ru->fingerprint[flen - 1] = '\0';
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nfts *s = rc->s;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	if (!nr) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0 ||
	    strcmp(nftnl_rule_get_str(nr, NFTNL_RULE_TABLE), s->table) != 0)
		goto out;
	rc->err = grow_array(&s->rules, &s->crules, s->nrules + 1, sizeof(*s->rules));
	if (rc->err)
		goto out;
	rc->err = rule_fill(s, &s->rules[s->nrules++], nr);
out:
	nftnl_rule_free(nr);
	if (rc->err)
		errno = -rc->err;
	return rc->err ? MNL_CB_ERROR : MNL_CB_OK;
}

/* ---- reading ---------------------------------------------------------- */

static int read_once(struct nl *nl, uint16_t family, struct nfts *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct read_ctx rc = {.s = s};
	uint32_t gen_after = 0;
	struct nlmsghdr *nlh;
	int r = read_genid(nl, &s->genid);
	if (r < 0)
		return r;

	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, s->table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK, ++nl->seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r = nl_talk(nl, nlh, table_cb, &rc);
	if (r < 0)
		return rc.err ? rc.err : r;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_DUMP, ++nl->seq);
	r = nl_talk(nl, nlh, chain_cb, &rc);
	if (r < 0)
		return rc.err ? rc.err : r;

	struct nftnl_set *ns = nftnl_set_alloc();
	if (!ns)
		return -ENOMEM;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, s->table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, family, NLM_F_DUMP, ++nl->seq);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	r = nl_talk(nl, nlh, set_cb, &rc);
	if (r < 0)
		return rc.err ? rc.err : r;
	for (size_t i = 0; i < s->nsets; i++) {
		r = read_elems(nl, family, s->table, &s->sets[i]);
		if (r < 0)
			return r;
	}

	struct nftnl_rule *nr = nftnl_rule_alloc();
	if (!nr)
		return -ENOMEM;
	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, s->table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP, ++nl->seq);
	nftnl_rule_nlmsg_build_payload(nlh, nr);
	nftnl_rule_free(nr);
	r = nl_talk(nl, nlh, rule_cb, &rc);
	if (r < 0)
		return rc.err ? rc.err : r;

	r = read_genid(nl, &gen_after);
	if (r < 0)
		return r;
	return gen_after == s->genid ? 0 : -EAGAIN;
}

int nfts_read(const char *family, const char *name, struct nfts **out)
{
	struct nl nl;
	struct nfts *s = NULL;
	uint16_t proto = 0;
	int r = -EINVAL;
	*out = NULL;
	memset(&nl, 0, sizeof(nl));
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (family && strcmp(family, families[i].name) == 0) {
			proto = families[i].proto;
			family = families[i].name;
		}
	if (!proto || !name || !*name)
		goto out;
	r = -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->table = strdup(name)))
		goto out;
	s->family = family;
	r = nl_open(&nl);
	if (r < 0)
		goto out;
	for (int i = 0; i < READ_TRIES; i++) {
		state_clear(s);
		r = read_once(&nl, proto, s);
		if (r != -EAGAIN && r != -EINTR)
			break;
	}
	if (r == -EINTR)
		r = -EAGAIN;
out:
	nl_close(&nl);
	if (r < 0)
		nfts_free(s);
	else
		*out = s;
	return r;
}

/* ---- accessors -------------------------------------------------------- */

const char *nfts_family(const struct nfts *s)
{
	return s->family;
}

const char *nfts_table(const struct nfts *s)
{
	return s->table;
}

uint64_t nfts_table_handle(const struct nfts *s)
{
	return s->handle;
}

const char *nfts_table_comment(const struct nfts *s)
{
	return s->comment;
}

uint32_t nfts_genid(const struct nfts *s)
{
	return s->genid;
}

size_t nfts_nchains(const struct nfts *s)
{
	return s->nchains;
}

const struct nfts_chain *nfts_chain_at(const struct nfts *s, size_t i)
{
	return i < s->nchains ? &s->chains[i] : NULL;
}

const struct nfts_chain *nfts_chain_find(const struct nfts *s, const char *name)
{
	for (size_t i = 0; i < s->nchains; i++)
		if (strcmp(s->chains[i].name, name) == 0)
			return &s->chains[i];
	return NULL;
}

size_t nfts_nrules(const struct nfts *s)
{
	return s->nrules;
}

const struct nfts_rule *nfts_rule_at(const struct nfts *s, size_t i)
{
	return i < s->nrules ? &s->rules[i] : NULL;
}

const struct nfts_rule *nfts_rule_find(const struct nfts *s, const char *id)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (s->rules[i].id && strcmp(s->rules[i].id, id) == 0)
			return &s->rules[i];
	return NULL;
}

size_t nfts_nsets(const struct nfts *s)
{
	return s->nsets;
}

const struct nfts_set *nfts_set_at(const struct nfts *s, size_t i)
{
	return i < s->nsets ? &s->sets[i] : NULL;
}

const struct nfts_set *nfts_set_find(const struct nfts *s, const char *name)
{
	const struct nfts_set *st = find_set_any(s, name);
	return st && !st->anonymous ? st : NULL;
}

/* ---- drift ------------------------------------------------------------ */

struct drifts {
	struct nfts_drift *d;
	size_t n, cap;
	int err;
};

static void drift_add(struct drifts *ds, enum nfts_drift_kind kind, enum nfts_drift_object obj,
		      const char *chain, const char *set, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void drift_add(struct drifts *ds, enum nfts_drift_kind kind, enum nfts_drift_object obj,
		      const char *chain, const char *set, const char *name, const char *fmt, ...)
{
	if (ds->err)
		return;
	if (grow_array(&ds->d, &ds->cap, ds->n + 1, sizeof(*ds->d)) < 0) {
		ds->err = -ENOMEM;
		return;
	}
	struct nfts_drift *d = &ds->d[ds->n++];
	d->kind = kind;
	d->object = obj;
	d->chain = dup_opt(chain, &ds->err);
	d->set = dup_opt(set, &ds->err);
	d->name = dup_opt(name, &ds->err);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		if (vasprintf(&d->detail, fmt, ap) < 0) {
			d->detail = NULL;
			ds->err = -ENOMEM;
		}
		va_end(ap);
	}
}

static const char *policy_name(uint32_t p)
{
	return p == NF_ACCEPT ? "accept" : p == NF_DROP ? "drop" : "other";
}

static bool skipped(const char *chain, const char *skip)
{
	return skip && strcmp(chain, skip) == 0;
}

static void diff_chains(const struct nfts *want, const struct nfts *have, const char *skip,
			struct drifts *ds)
{
	for (size_t i = 0; i < want->nchains; i++) {
		const struct nfts_chain *w = &want->chains[i];
		if (skipped(w->name, skip))
			continue;
		const struct nfts_chain *h = nfts_chain_find(have, w->name);
		if (!h) {
			drift_add(ds, NFTS_DRIFT_MISSING, NFTS_OBJ_CHAIN, w->name, NULL, NULL,
				  NULL);
			continue;
		}
		if (w->base != h->base)
			drift_add(ds, NFTS_DRIFT_CHANGED, NFTS_OBJ_CHAIN, w->name, NULL, NULL,
				  "%s chain live, %s chain intended", h->base ? "base" : "regular",
				  w->base ? "base" : "regular");
		else if (w->base && (w->hook != h->hook || w->prio != h->prio ||
				     strcmp(w->type ? w->type : "", h->type ? h->type : "") != 0))
			drift_add(ds, NFTS_DRIFT_CHANGED, NFTS_OBJ_CHAIN, w->name, NULL, NULL,
				  "live type %s hook %" PRIu32 " priority %" PRId32
				  ", intended type %s hook %" PRIu32 " priority %" PRId32,
				  h->type ? h->type : "?", h->hook, h->prio,
				  w->type ? w->type : "?", w->hook, w->prio);
		else if (w->base && w->policy != h->policy)
			drift_add(ds, NFTS_DRIFT_CHANGED, NFTS_OBJ_CHAIN, w->name, NULL, NULL,
				  "live policy %s, intended policy %s", policy_name(h->policy),
				  policy_name(w->policy));
	}
	for (size_t i = 0; i < have->nchains; i++) {
		const struct nfts_chain *h = &have->chains[i];
		if (!skipped(h->name, skip) && !nfts_chain_find(want, h->name))
			drift_add(ds, NFTS_DRIFT_EXTRA, NFTS_OBJ_CHAIN, h->name, NULL, NULL, NULL);
	}
}

/* Pairs intended rules with live ones: first by comment id, then rules
 * without an id by chain and fingerprint. match[i] is the live index of
 * intended rule i, or SIZE_MAX. */
static void pair_rules(const struct nfts *want, const struct nfts *have, const char *skip,
		       size_t *match, bool *used)
{
	for (size_t i = 0; i < want->nrules; i++) {
		const struct nfts_rule *w = &want->rules[i];
		match[i] = SIZE_MAX;
		if (skipped(w->chain, skip))
			continue;
		size_t best = SIZE_MAX;
		for (size_t j = 0; j < have->nrules; j++) {
			const struct nfts_rule *h = &have->rules[j];
			if (used[j] || skipped(h->chain, skip))
				continue;
			if (w->id) {
				if (!h->id || strcmp(w->id, h->id) != 0)
					continue;
				if (best == SIZE_MAX || strcmp(h->chain, w->chain) == 0)
					best = j;
				if (strcmp(h->chain, w->chain) == 0)
					break;
			} else if (!h->id && strcmp(h->chain, w->chain) == 0 &&
				   strcmp(h->fingerprint, w->fingerprint) == 0) {
				best = j;
				break;
			}
		}
		if (best != SIZE_MAX) {
			match[i] = best;
			used[best] = true;
		}
	}
}

static void diff_rules(const struct nfts *want, const struct nfts *have, const char *skip,
		       struct drifts *ds)
{
	size_t *match = calloc(want->nrules + 1, sizeof(*match));
	bool *used = calloc(have->nrules + 1, sizeof(*used));
	if (!match || !used) {
		ds->err = -ENOMEM;
		goto out;
	}
	pair_rules(want, have, skip, match, used);
	for (size_t i = 0; i < want->nrules; i++) {
		const struct nfts_rule *w = &want->rules[i];
		if (skipped(w->chain, skip))
			continue;
		if (match[i] == SIZE_MAX) {
			drift_add(ds, NFTS_DRIFT_MISSING, NFTS_OBJ_RULE, w->chain, NULL, w->id,
				  "%s", w->fingerprint);
			continue;
		}
		const struct nfts_rule *h = &have->rules[match[i]];
		if (strcmp(h->chain, w->chain) != 0)
			drift_add(ds, NFTS_DRIFT_CHANGED, NFTS_OBJ_RULE, w->chain, NULL, w->id,
				  "live in chain %s", h->chain);
		else if (strcmp(h->fingerprint, w->fingerprint) != 0) {
			drift_add(ds, NFTS_DRIFT_CHANGED, NFTS_OBJ_RULE, w->chain, NULL, w->id,
				  "expressions differ");
			if (!ds->err) {
				ds->d[ds->n - 1].want = dup_opt(w->fingerprint, &ds->err);
				ds->d[ds->n - 1].have = dup_opt(h->fingerprint, &ds->err);
			}
		}
	}
	for (size_t j = 0; j < have->nrules; j++) {
		const struct nfts_rule *h = &have->rules[j];
		if (!used[j] && !skipped(h->chain, skip))
			drift_add(ds, NFTS_DRIFT_EXTRA, NFTS_OBJ_RULE, h->chain, NULL, h->id, "%s",
				  h->fingerprint);
	}
	/* Order: within each intended chain, the live partners of its rules
	 * must appear in the same order (first match wins in nftables). */
	for (size_t c = 0; c < want->nchains; c++) {
		const char *chain = want->chains[c].name;
		size_t last = 0;
		bool first = true, bad = false;
		if (skipped(chain, skip))
			continue;
		for (size_t i = 0; i < want->nrules && !bad; i++) {
			if (match[i] == SIZE_MAX || strcmp(want->rules[i].chain, chain) != 0 ||
			    strcmp(have->rules[match[i]].chain, chain) != 0)
				continue;
			if (!first && match[i] < last)
				bad = true;
			last = match[i];
			first = false;
		}
		if (bad)
			drift_add(ds, NFTS_DRIFT_ORDER, NFTS_OBJ_CHAIN, chain, NULL, NULL,
				  "rules run in another order than intended");
	}
out:
	free(match);
	free(used);
}

static void diff_elems(const struct nfts_set *w, const struct nfts_set *h, struct drifts *ds)
{
	size_t i = 0, j = 0;
	while (i < w->nelems || j < h->nelems) {
		int c = i == w->nelems ? 1 : j == h->nelems ? -1 : strcmp(w->elems[i], h->elems[j]);
		if (c < 0)
			drift_add(ds, NFTS_DRIFT_MISSING, NFTS_OBJ_ELEMENT, NULL, w->name,
				  w->elems[i++], NULL);
		else if (c > 0)
			drift_add(ds, NFTS_DRIFT_EXTRA, NFTS_OBJ_ELEMENT, NULL, w->name,
				  h->elems[j++], NULL);
		else
			i++, j++;
	}
}

static void diff_sets(const struct nfts *want, const struct nfts *have, struct drifts *ds)
{
	for (size_t i = 0; i < want->nsets; i++) {
		const struct nfts_set *w = &want->sets[i];
		if (w->anonymous)
			continue;
		const struct nfts_set *h = nfts_set_find(have, w->name);
		if (!h) {
			drift_add(ds, NFTS_DRIFT_MISSING, NFTS_OBJ_SET, NULL, w->name, NULL, NULL);
			continue;
		}
		if (w->key_type != h->key_type || w->key_len != h->key_len ||
		    w->data_type != h->data_type ||
		    (w->flags & ~NFT_SET_EVAL) != (h->flags & ~NFT_SET_EVAL))
			drift_add(
			    ds, NFTS_DRIFT_CHANGED, NFTS_OBJ_SET, NULL, w->name, NULL,
			    "live key type %" PRIu32 " length %" PRIu32 " flags 0x%" PRIx32
			    ", intended key type %" PRIu32 " length %" PRIu32 " flags 0x%" PRIx32,
			    h->key_type, h->key_len, h->flags, w->key_type, w->key_len, w->flags);
		diff_elems(w, h, ds);
	}
	for (size_t i = 0; i < have->nsets; i++) {
		const struct nfts_set *h = &have->sets[i];
		if (!h->anonymous && !nfts_set_find(want, h->name))
			drift_add(ds, NFTS_DRIFT_EXTRA, NFTS_OBJ_SET, NULL, h->name, NULL, NULL);
	}
}

int nfts_diff(const struct nfts *want, const struct nfts *have, const char *skip_chain,
	      struct nfts_drift **out, size_t *n)
{
	struct drifts ds = {0};
	diff_chains(want, have, skip_chain, &ds);
	diff_rules(want, have, skip_chain, &ds);
	diff_sets(want, have, &ds);
	if (ds.err) {
		nfts_drift_free(ds.d, ds.n);
		*out = NULL;
		*n = 0;
		return ds.err;
	}
	*out = ds.d;
	*n = ds.n;
	return 0;
}

void nfts_drift_free(struct nfts_drift *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++) {
		free(d[i].chain);
		free(d[i].set);
		free(d[i].name);
		free(d[i].detail);
		free(d[i].want);
		free(d[i].have);
	}
	free(d);
}

const char *nfts_drift_kind_name(enum nfts_drift_kind k)
{
	switch (k) {
	case NFTS_DRIFT_MISSING:
		return "missing";
	case NFTS_DRIFT_EXTRA:
		return "extra";
	case NFTS_DRIFT_CHANGED:
		return "changed";
	case NFTS_DRIFT_ORDER:
		return "order";
	}
	return "?";
}

const char *nfts_drift_object_name(enum nfts_drift_object o)
{
	switch (o) {
	case NFTS_OBJ_CHAIN:
		return "chain";
	case NFTS_OBJ_RULE:
		return "rule";
	case NFTS_OBJ_SET:
		return "set";
	case NFTS_OBJ_ELEMENT:
		return "element";
	}
	return "?";
}
