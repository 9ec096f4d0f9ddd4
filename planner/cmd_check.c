// SPDX-License-Identifier: MIT
/* segplan check INVENTORY: every validation, nothing else. */
#include <getopt.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/exitcodes.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "topology/inventory.h"

static const char usage[] =
    "usage: segplan check INVENTORY [--json]\n"
    "\n"
    "Validates every file of the inventory directory (docs/inventory.md) and\n"
    "reports every problem at once as FILE:LINE:COL: error: ...\n"
    "\n"
    "  --json     print the summary as JSON\n"
    "  -h, --help this help\n"
    "\n"
    "exit: 0 valid (warnings allowed), 3 invalid input, 4 system error\n";

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return out_help(usage);
		default:
			return out_usage(usage, "check: invalid option");
		}
	}
	if (argc - optind != 1)
		return out_usage(usage, "check: expected one INVENTORY directory");
	const char *dir = argv[optind];
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	if (!dl)
		return out_fail(SEG_EXIT_SYSTEM, "out of memory");
	int r = inventory_load(dir, dl, &inv);
	out_diags(dl);
	int code = SEG_EXIT_OK;
	if (r == -EINVAL) {
		code = SEG_EXIT_INPUT;
	} else if (r < 0) {
		code = out_fail(SEG_EXIT_SYSTEM, "%s: %s", dir, strerror(-r));
	} else if (json) {
		json_t *j =
		    json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "inventory", dir, "valid",
			      1, "districts", (json_int_t)inv->ndistricts, "sites",
			      (json_int_t)inv->nsites, "links", (json_int_t)inv->nlinks, "segments",
			      (json_int_t)inv->nsegments, "plan_prefixes", (json_int_t)inv->nplan,
			      "warnings", (json_int_t)diag_warnings(dl));
		code = out_json(j);
	} else {
		printf(
		    "%s: ok: %zu districts, %zu sites, %zu links, %zu segments, %zu address-plan "
		    "prefixes, %zu warnings\n",
		    dir, inv->ndistricts, inv->nsites, inv->nlinks, inv->nsegments, inv->nplan,
		    diag_warnings(dl));
	}
	inventory_free(inv);
	diag_list_free(dl);
	return code;
}
