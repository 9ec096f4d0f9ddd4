/* SPDX-License-Identifier: MIT */
/*
 * `segplan policy apply|confirm|status`: deploying rulesets and reading them
 * back (docs/deploy.md). Registered in planner/cmd_policy.c's subcommand
 * table; argv[0] is the subcommand name.
 */
#ifndef SEGPLAN_POLICY_DEPLOY_H
#define SEGPLAN_POLICY_DEPLOY_H

int policy_cmd_apply(int argc, char **argv);
int policy_cmd_confirm(int argc, char **argv);
int policy_cmd_status(int argc, char **argv);

#endif
