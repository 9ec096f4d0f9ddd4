// SPDX-License-Identifier: MIT
/*
 * policy.yaml (policy/policy.c) read against a small fixed inventory
 * (tests/e2e/fixtures/stage2: hosts with labels, interfaces) on a fixed date, so that expiry does not
 * depend on the day the fuzzer runs.
 */
#include "policy/policy.h"
#include "tests/fuzz/harness.h"

void fuzz_init(void)
{
	fuzz_inventory("../e2e/fixtures/stage2");
}

void fuzz_one(const char *buf, size_t len, struct diag_list *dl)
{
	struct policy *p = NULL;
	int rc = policy_load_buffer(buf, len, "policy.yaml", fuzz_inventory("../e2e/fixtures/stage2"),
				    "2026-01-01", dl, &p);
	FUZZ_ASSERT((rc == 0) == (p != NULL));
	FUZZ_ASSERT(rc != 0 || diag_errors(dl) == 0);
	policy_free(p);
}
