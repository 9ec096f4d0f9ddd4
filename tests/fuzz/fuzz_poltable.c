// SPDX-License-Identifier: MIT
/*
 * The classification table the agent loads (<site>.policy.json,
 * eval/eval.c), from a buffer and through pol_table_load from a file.
 * A table that loads is written again (pol_table_to_json), and that JSON
 * must load to a table that writes the same JSON: what the agent accepted
 * it can hand on unchanged.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "tests/fuzz/harness.h"

static char *dump(const struct pol_table *t)
{
	json_t *j = pol_table_to_json(t);
	FUZZ_ASSERT(j);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	FUZZ_ASSERT(s);
	json_decref(j);
	return s;
}

void fuzz_one(const char *buf, size_t len, struct diag_list *dl)
{
	json_error_t err;
	struct pol_table *t = NULL, *u = NULL, *f = NULL;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	int rc = j ? pol_table_from_json(j, "t.policy.json", dl, &t) : -EINVAL;
	json_decref(j);
	FUZZ_ASSERT((rc == 0) == (t != NULL));

	int rf = pol_table_load(fuzz_write("t.policy.json", buf, len), dl, &f);
	FUZZ_ASSERT((rf == 0) == (f != NULL));
	/* jansson stops a file at a NUL byte as it stops a buffer; otherwise the two agree. */
	if (!memchr(buf, '\0', len))
		FUZZ_ASSERT((rf == 0) == (rc == 0));
	pol_table_free(f);
	if (!t)
		return;

	char *s1 = dump(t);
	struct diag_list *dl2 = diag_list_new();
	FUZZ_ASSERT(dl2);
	json_t *j2 = json_loads(s1, JSON_REJECT_DUPLICATES, &err);
	FUZZ_ASSERT(j2);
	if (pol_table_from_json(j2, "again.policy.json", dl2, &u) != 0) {
		fprintf(stderr, "re-serialised table does not load:\n%s\n", s1);
		diag_write(dl2, stderr);
		__builtin_trap();
	}
	char *s2 = dump(u);
	if (strcmp(s1, s2) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n", s1, s2);
		__builtin_trap();
	}
	free(s1);
	free(s2);
	json_decref(j2);
	diag_list_free(dl2);
	pol_table_free(u);
	pol_table_free(t);
}
