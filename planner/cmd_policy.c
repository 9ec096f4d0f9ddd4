// SPDX-License-Identifier: MIT
/* Placeholder until the module lands; replaced by its owner. */
#include "core/exitcodes.h"
#include "planner/commands.h"
#include "planner/out.h"

int cmd_policy(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return out_fail(SEG_EXIT_FINDINGS, "policy: not built yet");
}
