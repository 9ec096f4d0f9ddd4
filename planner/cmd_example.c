// SPDX-License-Identifier: MIT
/* Placeholder until the module lands; replaced by its owner. */
#include "core/exitcodes.h"
#include "planner/commands.h"
#include "planner/out.h"

int cmd_example(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return out_fail(SEG_EXIT_FINDINGS, "example: not built yet");
}
