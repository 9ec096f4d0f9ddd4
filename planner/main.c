// SPDX-License-Identifier: MIT
/* segplan: the planner CLI. `segplan <command> [<subcommand>] ...` */
#include <stdio.h>
#include <string.h>

#include "core/diag.h"
#include "core/exitcodes.h"
#include "core/version.h"
#include "planner/commands.h"
#include "planner/out.h"

/* Keep in the order `segplan --help` shows them. */
static const struct command commands[] = {
    {"check", cmd_check, "validate an inventory and nothing else"},
    {"topology", cmd_topology, "resilience and capacity analysis, exports"},
    {"policy", cmd_policy, "compile, query, lint, diff and apply segment policies"},
    {"audit", cmd_audit, "agents' summaries against the policy: coverage, denials, unused rules"},
    {"vpn", cmd_vpn, "VPN headroom for the remote-access users"},
    {"rollout", cmd_rollout, "budgeted broadband rollout plan"},
    {"report", cmd_report, "one self-contained HTML report: map, rollout, VPN, policy"},
    {"example", cmd_example, "generate a realistic example city"},
    {"demo", cmd_demo, "the whole pipeline on the example city, end to end"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: segplan <command> [<args>]\n"
	      "       segplan <command> --help\n"
	      "       segplan --version\n\n"
	      "Micro-segmentation and capacity planning for a city network.\n\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nexit codes: 0 ok, 1 findings or failure, 2 usage, 3 invalid input, "
	      "4 system error\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return SEG_EXIT_USAGE;
	}
	if (out_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			for (size_t i = 0; i < NCOMMANDS; i++)
				if (strcmp(commands[i].name, argv[2]) == 0) {
					char *hargv[] = {argv[2], "--help", NULL};
					return commands[i].run(2, hargv);
				}
		}
		usage(stdout);
		return SEG_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("segplan %s\n", SEGPLAN_VERSION);
		return SEG_EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			return commands[i].run(argc - 1, argv + 1);
	const char *names[NCOMMANDS];
	for (size_t i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	const char *s = diag_suggest(argv[1], names, NCOMMANDS);
	if (s)
		fprintf(stderr, "segplan: unknown command '%s' (did you mean '%s'?)\n", argv[1], s);
	else
		fprintf(stderr, "segplan: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return SEG_EXIT_USAGE;
}
