/* SPDX-License-Identifier: MIT */
/*
 * Internal to policy/: the state of one policy.yaml read, shared by the
 * stage-1 reader (policy.c: zones, services, rules) and the stage-2 one
 * (stage2.c: objects, external networks, site groups, endpoint terms,
 * gateway services, limits, time windows, assertions).
 */
#ifndef SEGPLAN_POLICY_READER_H
#define SEGPLAN_POLICY_READER_H

#include "core/yamlread.h"
#include "policy/policy.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct reader {
	const struct ydoc *doc;
	const struct inventory *inv;
	struct diag_list *dl;
	struct policy *p;
	long today;
	const char **zone_names; /* for suggestions, kept in step with p->zones */
	const char **svc_names;
	const char **site_names;
	const char **obj_names; /* kept in step with p->objects */
	const char **group_names;
};

bool polr_valid_name(const char *s, bool dots);
const struct ynode *polr_as_list(const struct ynode *n, size_t *len);
const struct ynode *polr_list_item(const struct ynode *n, size_t i);
int polr_zone_ref(struct reader *r, const struct ynode *n);
int polr_service_ref(struct reader *r, const struct ynode *n);
/* `any`, one name or a list of names; resolved through lookup. */
int polr_read_refs(struct reader *r, const struct ynode *n, bool *any, int **out, size_t *nout,
		   int (*lookup)(struct reader *, const struct ynode *));
int polr_get_enum(struct reader *r, const struct ynode *map, const char *key,
		  const char *const *names, size_t n, int dflt);

/* stage2.c */
int polr_read_objects(struct reader *r, const struct ynode *objs, const struct ynode *exts);
int polr_read_groups(struct reader *r, const struct ynode *gs);
/* A rule side (from/to): `any`, or a list of zones, objects, external networks,
 * hosts, site groups and endpoint mappings. what: "from" or "to". */
int polr_read_side(struct reader *r, const struct ynode *n, struct pol_rside *out);
/* The stage-2 keys of a rule: limit, when (and interfaces for gateway services). */
int polr_read_rule_extras(struct reader *r, const struct ynode *n, struct pol_rule *ru);
int polr_read_assertions(struct reader *r, const struct ynode *as);
void polr_free_stage2(struct policy *p);
void polr_side_free(struct pol_rside *s);

#endif
