// SPDX-License-Identifier: MIT
/* segplan example: writes the deterministic example city (example/example.h). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/exitcodes.h"
#include "craft/traffic.h"
#include "example/example.h"
#include "inventory/inventory.h"
#include "planner/commands.h"
#include "planner/out.h"

static const char usage[] =
    "usage: segplan example [--sites N] [--seed S] --out DIR [--force] [--traffic N] [--json]\n"
    "\n"
    "Writes an example inventory modelled on Stuttgart (districts.csv, sites.csv,\n"
    "links.csv, segments.csv, addressplan.csv, interfaces.csv, hosts.csv,\n"
    "README.md, policy.yaml, vpn.yaml, rollout.yaml) into DIR, and for the default\n"
    "city demo captures of a few gateways into DIR/traffic/ (docs/demo.md). The\n"
    "same N and S give byte-identical files.\n"
    "\n"
    "  -n, --sites N   number of sites, 25-1000000 (default 850)\n"
    "  -s, --seed S    random seed, 0-18446744073709551615 (default 1)\n"
    "  -o, --out DIR   output directory, created when missing\n"
    "  -f, --force     overwrite the files of a non-empty DIR\n"
    "  -t, --traffic N demo captures of N gateways, 0-64 (default 3)\n"
    "      --json      print a summary as JSON\n"
    "  -h, --help      show this help\n";

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* Captures of an earlier generation (another seed picks other gateways):
 * DIR/traffic holds only generated captures, so its *.pcap files go. */
static int remove_old_captures(const char *tdir)
{
	DIR *d = opendir(tdir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".pcap") != 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
	}
	closedir(d);
	return r;
}

/* The demo captures (craft/traffic.h), from the inventory just written. */
static int write_traffic(const char *dir, size_t n, uint64_t seed)
{
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	char *tdir = NULL;
	int code = SEG_EXIT_SYSTEM, r = -ENOMEM;
	if (!dl || asprintf(&tdir, "%s/traffic", dir) < 0) {
		tdir = NULL;
		goto out;
	}
	if ((r = inventory_load(dir, dl, &inv)) < 0 || out_input_code(dl, r) != SEG_EXIT_OK) {
		out_diags(dl);
		r = r < 0 ? r : -EINVAL;
		goto out;
	}
	r = remove_old_captures(tdir);
	if (r == 0)
		r = traffic_generate(inv, n, seed, tdir, NULL);
	code = r < 0 ? SEG_EXIT_SYSTEM : SEG_EXIT_OK;
out:
	if (r < 0)
		out_fail(code, "example: cannot write the demo captures into %s: %s",
			 tdir ? tdir : dir, strerror(-r));
	free(tdir);
	inventory_free(inv);
	diag_list_free(dl);
	return code;
}

int cmd_example(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"sites", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 's'},
	    {"out", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"traffic", required_argument, NULL, 't'}, /* demo captures: craft/traffic.h */
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct example_opts o;
	struct example_summary sum;
	const char *dir = NULL;
	bool json = false;
	long traffic = TRAFFIC_DEFAULT_GATEWAYS;
	uint64_t v;
	int c;

	example_opts_default(&o);
	optind = 0;
	opterr = 0;
	const char *inexact = out_inexact_option(argc, argv, longopts);
	if (inexact)
		return out_usage(usage, "example: unknown option '%s'", inexact);
	while ((c = getopt_long(argc, argv, ":n:s:o:ft:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_u64(optarg, &v) || v < EXAMPLE_MIN_SITES ||
			    v > EXAMPLE_MAX_SITES)
				return out_usage(usage, "example: --sites must be %d-%d, not '%s'",
						 EXAMPLE_MIN_SITES, EXAMPLE_MAX_SITES, optarg);
			o.sites = (long)v;
			break;
		case 's':
			if (!parse_u64(optarg, &v))
				return out_usage(
				    usage, "example: --seed must be an unsigned integer, not '%s'",
				    optarg);
			o.seed = v;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'f':
			o.force = true;
			break;
		case 't':
			if (!parse_u64(optarg, &v) || v > TRAFFIC_MAX_GATEWAYS)
				return out_usage(usage, "example: --traffic must be 0-%d, not '%s'",
						 TRAFFIC_MAX_GATEWAYS, optarg);
			traffic = (long)v;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return out_help(usage);
		case ':':
			return out_usage(usage, "example: option '%s' needs a value",
					 argv[optind - 1]);
		default:
			return out_usage(usage, "example: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return out_usage(usage, "example: unexpected argument '%s'", argv[optind]);
	if (!dir || !*dir)
		return out_usage(usage, "example: --out DIR is required");

	int r = example_generate(&o, dir, &sum);
	if (r == -ENOTEMPTY)
		return out_fail(SEG_EXIT_FINDINGS,
				"example: %s is not empty (use --force to overwrite)", dir);
	if (r < 0)
		return out_fail(SEG_EXIT_SYSTEM, "example: cannot write %s: %s", dir, strerror(-r));
	if (traffic > 0 && (r = write_traffic(dir, (size_t)traffic, o.seed)) != 0)
		return r;
	if (!json)
		return SEG_EXIT_OK;
	json_t *j = json_pack(
	    "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:i}", "dir", dir, "sites",
	    (json_int_t)sum.sites, "links", (json_int_t)sum.links, "segments",
	    (json_int_t)sum.segments, "plan_rows", (json_int_t)sum.plan_rows, "fibre_sites",
	    (json_int_t)sum.fibre_sites, "other_sites", (json_int_t)sum.other_sites,
	    "underserved_schools", (json_int_t)sum.underserved_schools, "planned_trenches",
	    (json_int_t)sum.planned_trenches, "ipv4", sum.ipv4, "ula_prefix_len", (int)sum.ula_len);
	if (!j)
		return out_fail(SEG_EXIT_SYSTEM, "example: out of memory");
	return out_json(j);
}
