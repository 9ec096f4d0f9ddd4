// SPDX-License-Identifier: MIT
/*
 * The YAML reader (core/yamlread.c): a document is loaded from a buffer and
 * every node visited through the accessors the file readers use.
 */
#include "core/yamlread.h"
#include "tests/fuzz/harness.h"

static const char *const known[] = {"name", "zones", "rules", "sites", "groups", "horizon"};

static size_t walk(const struct ydoc *d, const struct ynode *n, struct diag_list *dl, int depth)
{
	size_t sum = ynode_line(n) + ynode_col(n);
	FUZZ_ASSERT(depth < 100000);
	switch (ynode_kind(n)) {
	case YNODE_SCALAR: {
		double x;
		long l;
		FUZZ_ASSERT(ynode_scalar(n));
		ynode_to_double(d, n, -1e12, 1e12, dl, &x);
		ynode_to_long(d, n, -1000, 1000, dl, &l);
		break;
	}
	case YNODE_SEQ:
		FUZZ_ASSERT(!ynode_scalar(n));
		for (size_t i = 0; i < ynode_len(n); i++)
			sum += walk(d, ynode_item(n, i), dl, depth + 1);
		break;
	case YNODE_MAP: {
		double x;
		long l;
		bool b;
		const char *s;
		for (size_t i = 0; i < ynode_len(n); i++) {
			const struct ynode *k = ynode_key(n, i);
			sum +=
			    walk(d, k, dl, depth + 1) + walk(d, ynode_value(n, i), dl, depth + 1);
			if (ynode_kind(k) == YNODE_SCALAR)
				FUZZ_ASSERT(ynode_get(n, ynode_scalar(k)));
		}
		ynode_check_keys(d, n, known, sizeof(known) / sizeof(known[0]), dl);
		ynode_get_double(d, n, "name", false, 0, 1, dl, &x);
		ynode_get_long(d, n, "horizon", false, 0, 10, dl, &l);
		ynode_get_bool(d, n, "zones", false, dl, &b);
		ynode_get_str(d, n, "rules", false, dl, &s);
		ynode_expect(d, n, YNODE_SEQ, "a list", dl);
		break;
	}
	}
	return sum;
}

void fuzz_one(const char *buf, size_t len, struct diag_list *dl)
{
	struct ydoc *d = NULL;
	int rc = ydoc_load_buffer(buf, len, "f.yaml", dl, &d);
	FUZZ_ASSERT((rc == 0) == (d != NULL));
	if (d && ydoc_root(d))
		walk(d, ydoc_root(d), dl, 0);
	ydoc_free(d);
}
