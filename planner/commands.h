/* SPDX-License-Identifier: MIT */
/* The segplan command table: one cmd_<name>.c per command. */
#ifndef SEGPLAN_COMMANDS_H
#define SEGPLAN_COMMANDS_H

struct command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const char *summary;
};

int cmd_check(int argc, char **argv);
int cmd_example(int argc, char **argv);
int cmd_topology(int argc, char **argv);
int cmd_vpn(int argc, char **argv);
int cmd_rollout(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
