/* SPDX-License-Identifier: MIT */
/*
 * `segplan policy lint|diff`: what a policy's rules really decide, and what
 * changes between two policies (docs/policy-lint.md). Registered in
 * planner/cmd_policy.c's subcommand table; argv[0] is the subcommand name.
 */
#ifndef SEGPLAN_POLICY_LINT_H
#define SEGPLAN_POLICY_LINT_H

int policy_cmd_lint(int argc, char **argv);
int policy_cmd_diff(int argc, char **argv);

#endif
