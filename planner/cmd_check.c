// SPDX-License-Identifier: MIT
/* segplan check INVENTORY: every validation, nothing else. */
#include <getopt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/exitcodes.h"
#include "inventory/inventory.h"
#include "planner/commands.h"
#include "planner/out.h"
#include "policy/policy.h"
#include "rollout/rollout_city.h"
#include "rollout/rollout_config.h"
#include "vpn/vpn.h"

static const char usage[] =
    "usage: segplan check INVENTORY [--json]\n"
    "\n"
    "Validates every file of the inventory directory (docs/inventory.md): the\n"
    "tables, and policy.yaml, vpn.yaml and rollout.yaml where present. Every\n"
    "problem is reported at once as FILE:LINE:COL: error: ...\n"
    "\n"
    "  --json     print the summary as JSON\n"
    "  -h, --help this help\n"
    "\n"
    "exit: 0 valid (warnings allowed), 3 invalid input, 4 system error\n";

/* A model file of the inventory, when it exists. */
static char *model_path(const char *dir, const char *file)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return NULL;
	if (access(p, F_OK) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

/*
 * The YAML models: every one present is read with its own reader, so that
 * check reports what the command using it would. The policy and the rollout
 * pins refer to the tables and are only checked against a valid inventory.
 * Returns a negative errno for system errors; problems go to dl.
 */
static int check_models(const char *dir, const struct inventory *inv, struct diag_list *dl,
			unsigned *checked)
{
	int r = 0;
	char *path = model_path(dir, "vpn.yaml");
	if (path) {
		struct vpn_config *vc = NULL;
		r = vpn_load_file(path, NULL, dl, &vc);
		vpn_config_free(vc);
		free(path);
		*checked |= 1;
		if (r == -ENOMEM)
			return r;
	}
	if (!inv)
		return 0;
	if ((path = model_path(dir, "policy.yaml"))) {
		struct policy *p = NULL;
		r = policy_load(path, NULL, inv, NULL, dl, &p);
		policy_free(p);
		free(path);
		*checked |= 2;
		if (r == -ENOMEM)
			return r;
	}
	if ((path = model_path(dir, "rollout.yaml"))) {
		struct rollout_config cfg;
		struct rollout_city *city = NULL;
		rollout_config_init(&cfg);
		r = rollout_config_load(path, NULL, dl, &cfg);
		if (r == 0)
			r = rollout_city_build(inv, &cfg, dl, &city);
		rollout_city_free(city);
		rollout_config_clear(&cfg);
		free(path);
		*checked |= 4;
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

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
	const char *inexact = out_inexact_option(argc, argv, opts);
	if (inexact)
		return out_usage(usage, "check: unknown option '%s'", inexact);
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
	unsigned models = 0;
	int r = inventory_load(dir, dl, &inv);
	if (r == 0 || r == -EINVAL)
		r = check_models(dir, inv, dl, &models) < 0 ? -ENOMEM : r;
	out_diags(dl);
	int code = out_input_code(dl, r);
	if (code == SEG_EXIT_SYSTEM) {
		out_fail(code, "%s: %s", dir, strerror(-r));
	} else if (code == SEG_EXIT_OK && json) {
		json_t *j = json_pack(
		    "{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:{s:b, s:b, s:b}, s:I}", "inventory", dir,
		    "valid", 1, "districts", (json_int_t)inv->ndistricts, "sites",
		    (json_int_t)inv->nsites, "links", (json_int_t)inv->nlinks, "segments",
		    (json_int_t)inv->nsegments, "plan_prefixes", (json_int_t)inv->nplan, "models",
		    "policy", (models & 2) != 0, "vpn", (models & 1) != 0, "rollout",
		    (models & 4) != 0, "warnings", (json_int_t)diag_warnings(dl));
		if (j && inv->has_ifaces)
			json_object_set_new(j, "interfaces",
					    json_integer((json_int_t)inv->nifaces));
		if (j && inv->has_hosts)
			json_object_set_new(j, "hosts", json_integer((json_int_t)inv->nhosts));
		code = out_json(j);
	} else if (code == SEG_EXIT_OK) {
		char ifaces[48] = "", hosts[48] = "";
		if (inv->has_ifaces)
			snprintf(ifaces, sizeof(ifaces), ", %zu interfaces", inv->nifaces);
		if (inv->has_hosts)
			snprintf(hosts, sizeof(hosts), ", %zu hosts", inv->nhosts);
		printf("%s: ok: %zu districts, %zu sites, %zu links, %zu segments%s, %zu "
		       "address-plan prefixes%s%s%s%s, %zu warnings\n",
		       dir, inv->ndistricts, inv->nsites, inv->nlinks, inv->nsegments, ifaces,
		       inv->nplan, hosts, models & 2 ? ", policy.yaml" : "",
		       models & 1 ? ", vpn.yaml" : "", models & 4 ? ", rollout.yaml" : "",
		       diag_warnings(dl));
	}
	inventory_free(inv);
	diag_list_free(dl);
	return code;
}
