// SPDX-License-Identifier: MIT
/* rollout.yaml (rollout/rollout_config.c), read over the defaults. */
#include "rollout/rollout_config.h"
#include "tests/fuzz/harness.h"

void fuzz_one(const char *buf, size_t len, struct diag_list *dl)
{
	struct rollout_config c;
	rollout_config_init(&c);
	int rc = rollout_config_load_buffer(buf, len, "rollout.yaml", dl, &c);
	FUZZ_ASSERT(rc != 0 || diag_errors(dl) == 0);
	if (rc == 0)
		for (int t = 1; t <= c.horizon; t++)
			FUZZ_ASSERT(rollout_config_budget(&c, t) >= 0);
	rollout_config_clear(&c);
}
