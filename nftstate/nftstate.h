/* SPDX-License-Identifier: MIT */
/*
 * A snapshot of one live nftables table, read from the kernel over netlink
 * (libnftnl + libmnl): chains, rules with their handles, counters and
 * comments, sets with their elements. It never runs nft nor parses
 * `nft list` text. The gateway agent links this module too, so it depends on
 * core/ only.
 *
 * Rules of the policy compiler carry `comment "rule:<id>"` (docs/deploy.md);
 * the id is split off so that counters map back to policy rules.
 */
#ifndef SEGPLAN_NFTSTATE_H
#define SEGPLAN_NFTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfts_chain {
	char *name;
	uint64_t handle;
	bool base;     /* has a hook (type/hook/prio/policy are meaningful) */
	char *type;    /* "filter", "nat", "route"; NULL for regular chains */
	uint32_t hook; /* NF_INET_* hook number */
	int32_t prio;
	uint32_t policy; /* NF_ACCEPT (1) or NF_DROP (0) */
	char *comment;	 /* NULL when none */
};

struct nfts_rule {
	char *chain;
	uint64_t handle;
	char *comment; /* NULL when none */
	char *id;      /* the <id> of a "rule:<id>" comment; NULL otherwise */
	bool counter;  /* has at least one counter expression */
	uint64_t packets;
	uint64_t bytes;
	/* The rule's expressions as text, with counter values, quota use and
	 * anonymous set names (replaced by their elements) left out: equal for
	 * the same rule loaded twice, whatever the file's formatting. */
	char *fingerprint;
};

struct nfts_set {
	char *name;
	uint64_t handle;
	bool anonymous; /* bound to one rule (`{ a, b }` inline), named __set%d */
	uint32_t flags; /* NFT_SET_* */
	uint32_t key_type;
	uint32_t key_len;
	uint32_t data_type; /* maps only */
	char *comment;
	size_t nelems;
	/* Canonical element text, sorted: addresses and ports decoded where the
	 * key type is known (IPv4/IPv6 address, protocol, service, their
	 * concatenations), hex otherwise; intervals as FROM-TO; map data after
	 * " : ". */
	char **elems;
};

struct nfts;

/* Reads table `family name` (family: inet, ip, ip6, arp, bridge, netdev)
 * of the current network namespace. All parts come from one ruleset
 * generation (re-read when the ruleset changed during the dump).
 * Returns 0, -ENOENT when there is no such table, -EINVAL for an unknown
 * family, -EAGAIN when the ruleset kept changing, or another negative errno
 * (-EPERM without CAP_NET_ADMIN). */
int nfts_read(const char *family, const char *name, struct nfts **out);
void nfts_free(struct nfts *s);

const char *nfts_family(const struct nfts *s);
const char *nfts_table(const struct nfts *s);
uint64_t nfts_table_handle(const struct nfts *s);
const char *nfts_table_comment(const struct nfts *s);
uint32_t nfts_genid(const struct nfts *s);

size_t nfts_nchains(const struct nfts *s);
const struct nfts_chain *nfts_chain_at(const struct nfts *s, size_t i);
const struct nfts_chain *nfts_chain_find(const struct nfts *s, const char *name);

/* Rules in chain order (chains in the kernel's order), each chain's rules in
 * evaluation order. */
size_t nfts_nrules(const struct nfts *s);
const struct nfts_rule *nfts_rule_at(const struct nfts *s, size_t i);
/* The first rule whose comment is "rule:<id>"; NULL when none. */
const struct nfts_rule *nfts_rule_find(const struct nfts *s, const char *id);

size_t nfts_nsets(const struct nfts *s);
const struct nfts_set *nfts_set_at(const struct nfts *s, size_t i);
const struct nfts_set *nfts_set_find(const struct nfts *s, const char *name);

/* Drift between an intended table and a live one. */
enum nfts_drift_kind {
	NFTS_DRIFT_MISSING, /* intended, not live */
	NFTS_DRIFT_EXTRA,   /* live, not intended */
	NFTS_DRIFT_CHANGED, /* both, but different */
	NFTS_DRIFT_ORDER,   /* a chain's rules match but run in another order */
};

enum nfts_drift_object {
	NFTS_OBJ_CHAIN,
	NFTS_OBJ_RULE,
	NFTS_OBJ_SET,
	NFTS_OBJ_ELEMENT,
};

struct nfts_drift {
	enum nfts_drift_kind kind;
	enum nfts_drift_object object;
	char *chain;  /* rules and chains; NULL otherwise */
	char *set;    /* sets and elements; NULL otherwise */
	char *name;   /* rule id (NULL for a rule without one), element text */
	char *detail; /* what differs, or the fingerprint of a rule without id */
	char *want;   /* changed rules: the intended and the live fingerprint */
	char *have;
};

/* Compares want (e.g. a file loaded into a scratch namespace) with have
 * (the live table). Rules are matched by comment id, rules without an id by
 * chain and fingerprint; named sets by name and elements; anonymous sets are
 * part of their rule's fingerprint. Chains named skip_chain (may be NULL) are
 * left out on both sides. Returns 0 with *out (NULL when *n is 0) or
 * -ENOMEM. */
int nfts_diff(const struct nfts *want, const struct nfts *have, const char *skip_chain,
	      struct nfts_drift **out, size_t *n);
void nfts_drift_free(struct nfts_drift *d, size_t n);

const char *nfts_drift_kind_name(enum nfts_drift_kind k);
const char *nfts_drift_object_name(enum nfts_drift_object o);

#endif
