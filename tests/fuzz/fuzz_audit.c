// SPDX-License-Identifier: MIT
/*
 * The agent summaries the audit reads (audit/model.c, docs/summary.md),
 * held against the policy of a small inventory (tests/golden/audit). Each
 * input is added from a buffer to one audit and through audit_add_file (the
 * reader of `segplan audit`, with its own file buffer and JSON arena) to
 * another; both must accept or skip it alike, and their reports are built.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "tests/fuzz/harness.h"

static struct policy *pol;

void fuzz_init(void)
{
	const struct inventory *inv = fuzz_inventory("audit/inventory");
	size_t len;
	char *y = fuzz_slurp("tests/golden/audit/inventory/policy.yaml", &len);
	struct diag_list *dl = diag_list_new();
	FUZZ_ASSERT(dl);
	if (policy_load_buffer(y, len, "policy.yaml", inv, "2026-01-01", dl, &pol) != 0) {
		diag_write(dl, stderr);
		__builtin_trap();
	}
	diag_list_free(dl);
	free(y);
}

static int add(bool file, const char *buf, size_t len, struct diag_list *dl)
{
	struct audit_opts o = {.workers = 1};
	struct audit *a;
	struct audit_report *r;
	FUZZ_ASSERT(audit_new(pol, fuzz_inventory("audit/inventory"), &o, &a) == 0);
	int rc = file ? audit_add_file(a, fuzz_write("s.json", buf, len), dl)
		      : audit_add_buffer(a, buf, len, "s.json", dl);
	FUZZ_ASSERT(audit_report(a, &r) == 0);
	json_t *j = audit_report_json(r, pol, fuzz_inventory("audit/inventory"));
	json_decref(j);
	char *y = audit_suggest_yaml(r, pol, fuzz_inventory("audit/inventory"));
	free(y);
	audit_report_free(r);
	audit_free(a);
	return rc;
}

void fuzz_one(const char *buf, size_t len, struct diag_list *dl)
{
	int rb = add(false, buf, len, dl);
	int rf = add(true, buf, len, dl);
	FUZZ_ASSERT(rb == rf);
}
