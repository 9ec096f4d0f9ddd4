// SPDX-License-Identifier: MIT
/* Inventory loading: a valid city, and every kind of bad input, located exactly. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "topology/inventory.h"

static const char districts[] = "name,lat,lon,radius_m\n"
				"Mitte,48.7758,9.1829,2000\n"
				"Möhringen,48.7250,9.1500,3000\n";
static const char sites[] =
    "id,name,district,type,lat,lon,staff,broadband,current_mbps,required_mbps,flags\n"
    "DC1,Rechenzentrum,Mitte,data_centre,48.7760,9.1830,12,fibre,10000,10000,primary;critical\n"
    "DC2,Ausweich-RZ,Möhringen,data_centre,48.7240,9.1490,4,fibre,10000,10000,fallback\n"
    "S000001,\"Rathaus Möhringen, Hub\",Möhringen,town_hall,48.7260,9.1510,120,fibre,1000,"
    "500,hub;vrrp\n"
    "S000002,Grundschule Mitte 1,Mitte,school,48.7770,9.1800,40,dsl,50,500,\n";
static const char links[] = "id,a,b,kind,capacity_mbps,length_m,cost_eur\n"
			    "L1,DC1,S000001,fibre,10000,7500,\n"
			    "L2,S000001,DC2,fibre,10000,300,\n"
			    "L3,DC1,S000002,dsl,50,400,\n"
			    "P1,DC1,S000002,planned,1000,400,130000\n";
static const char segments[] = "site,name,zone,vlan,ipv4,ipv6\n"
			       "S000001,admin,admin,10,10.0.0.0/25,fd5e::/64\n"
			       "S000001,voip,voip,20,10.16.0.0/26,\n"
			       "S000002,admin,admin,10,10.0.0.128/26,fd5e:0:0:1::/64\n"
			       "DC1,servers,servers,100,10.32.0.0/22,fd5e:0:0:100::/64\n";
static const char plan[] = "zone,prefix\n"
			   "city,10.0.0.0/8\n"
			   "city,fd5e::/48\n"
			   "admin,10.0.0.0/20\n"
			   "admin,fd5e::/56\n"
			   "voip,10.16.0.0/20\n"
			   "servers,10.32.0.0/20\n"
			   "servers,fd5e:0:0:100::/56\n";

struct fixture {
	const char *districts, *sites, *links, *segments, *plan;
};

/* Writes an inventory (NULL members get the valid defaults; "" omits the plan). */
static char *make_inv(struct fixture f)
{
	char *dir = tu_tmpdir();
	free(tu_write(dir, "districts.csv", f.districts ? f.districts : districts));
	free(tu_write(dir, "sites.csv", f.sites ? f.sites : sites));
	free(tu_write(dir, "links.csv", f.links ? f.links : links));
	free(tu_write(dir, "segments.csv", f.segments ? f.segments : segments));
	if (!f.plan || *f.plan)
		free(tu_write(dir, "addressplan.csv", f.plan ? f.plan : plan));
	return dir;
}

/* Loads and expects failure; returns the diagnostics with the temp dir prefix removed. */
static struct diag_list *load_bad(struct fixture f, char **dirp)
{
	char *dir = make_inv(f);
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = (struct inventory *)1;
	cr_assert_eq(inventory_load(dir, dl, &inv), -EINVAL, "%s", tu_diags(dl));
	cr_assert_null(inv);
	*dirp = dir;
	return dl;
}

static void expect(struct diag_list *dl, const char *dir, const char *want)
{
	char full[1024];
	snprintf(full, sizeof(full), "%s/%s", dir, want);
	cr_assert(tu_has_diag(dl, full), "want: %s\ngot:\n%s", full, tu_diags(dl));
}

static void done(struct diag_list *dl, char *dir)
{
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(inventory, valid_city_loads)
{
	char *dir = make_inv((struct fixture){0});
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	cr_assert_eq(inventory_load(dir, dl, &inv), 0, "%s", tu_diags(dl));
	cr_assert_eq(diag_count(dl), 0, "%s", tu_diags(dl));
	cr_assert_eq(inv->nsites, 4);
	cr_assert_eq(inv->nlinks, 4);
	cr_assert_eq(inv->nsegments, 4);
	cr_assert_eq(inv->nplan, 7);
	cr_assert_eq(inv->primary_dc, 0);
	cr_assert_eq(inv->fallback_dc, 1);
	int s = inventory_find_site(inv, "S000001");
	cr_assert_eq(s, 2);
	cr_assert_str_eq(inv->sites[s].name, "Rathaus Möhringen, Hub");
	cr_assert_eq(inv->sites[s].flags, SITE_F_HUB | SITE_F_VRRP);
	cr_assert_eq(inv->sites[s].type, SITE_TOWN_HALL);
	cr_assert_str_eq(inv->districts[inv->sites[s].district].name, "Möhringen");
	int l = inventory_find_link(inv, "P1");
	cr_assert_eq(inv->links[l].kind, LINK_PLANNED);
	cr_assert_eq(inv->links[l].cost_eur, 130000);
	cr_assert_eq(inv->segments[1].has_v6, false);
	cr_assert_eq(inv->segments[0].vlan, 10);
	cr_assert_eq(inventory_find_site(inv, "S9"), -1);
	inventory_free(inv);
	inventory_free(NULL);
	diag_list_free(dl);
	tu_rmdir(dir);
	free(dir);
}

Test(inventory, unknown_district_with_suggestion)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){.sites = "id,name,district,type,lat,lon,staff,broadband,current_mbps,"
				      "required_mbps,flags\n"
				      "DC1,RZ,Mite,data_centre,48.776,9.183,1,fibre,1,1,primary\n"},
	    &dir);
	expect(dl, dir, "sites.csv:2:8: error: unknown district 'Mite' (did you mean 'Mitte'?)");
	done(dl, dir);
}

Test(inventory, duplicate_ids)
{
	char *dir;
	char s[2048];
	snprintf(s, sizeof(s), "%sS000002,Copy,Mitte,office,48.777,9.18,1,fibre,1,1,\n", sites);
	struct diag_list *dl = load_bad((struct fixture){.sites = s}, &dir);
	expect(dl, dir, "sites.csv:6:1: error: duplicate site id 'S000002' (first on line 5)");
	done(dl, dir);
}

Test(inventory, link_endpoints_must_exist)
{
	char *dir;
	struct diag_list *dl =
	    load_bad((struct fixture){.links = "id,a,b,kind,capacity_mbps,length_m,cost_eur\n"
					       "L1,DC1,S000003,fibre,1000,10,\n"
					       "L2,DC9,DC9,fibre,1000,10,\n"
					       "L3,DC1,DC1,fibre,1000,10,\n"
					       "L4,DC1,DC2,fibre,1000,10,99\n"
					       "L5,DC1,DC2,planned,1000,10,\n"},
		     &dir);
	expect(dl, dir, "links.csv:2:8: error: unknown site 'S000003' (did you mean 'S000001'?)");
	expect(dl, dir, "links.csv:3:4: error: unknown site 'DC9' (did you mean 'DC1'?)");
	expect(dl, dir, "links.csv:4:8: error: link 'L3' joins site 'DC1' to itself");
	expect(dl, dir, "links.csv:5:26: error: cost_eur is only for planned trenches");
	expect(dl, dir, "links.csv:6:28: error: missing value for 'cost_eur'");
	done(dl, dir);
}

Test(inventory, invalid_and_overlapping_prefixes)
{
	char *dir;
	struct diag_list *dl =
	    load_bad((struct fixture){.segments = "site,name,zone,vlan,ipv4,ipv6\n"
						  "S000001,admin,admin,10,10.0.0.0/25,fd5e::/64\n"
						  "S000002,admin,admin,10,10.0.0.64/26,\n"
						  "S000002,voip,voip,20,10.16.0.1/26,\n"
						  "S000002,bms,admin,30,10.0.1.0/33,\n"
						  "S000002,x,admin,40,,fd5e::1:0:0:0/64\n"
						  "S000002,y,admin,50,10.0.2.0/24,10.0.3.0/24\n"
						  "S000002,z,admin,60,,\n"},
		     &dir);
	expect(dl, dir,
	       "segments.csv:3:24: error: prefix 10.0.0.64/26 overlaps 10.0.0.0/25 of segment "
	       "'admin' at site 'S000001' (line 2)");
	expect(dl, dir,
	       "segments.csv:4:22: error: '10.16.0.1/26' has host bits set (did you mean "
	       "'10.16.0.0/26'?)");
	expect(dl, dir, "segments.csv:5:22: error: '10.0.1.0/33' is not a valid IPv4 prefix");
	expect(dl, dir, "segments.csv:7:32: error: '10.0.3.0/24' is not a valid IPv6 prefix");
	expect(dl, dir,
	       "segments.csv:8:20: error: segment 'z' has neither an IPv4 nor an IPv6 prefix");
	done(dl, dir);
}

Test(inventory, segment_outside_its_zone)
{
	char *dir;
	struct diag_list *dl =
	    load_bad((struct fixture){.segments = "site,name,zone,vlan,ipv4,ipv6\n"
						  "S000001,admin,admin,10,10.16.1.0/24,\n"
						  "S000001,p,printers,11,10.40.0.0/24,\n"
						  "S000001,q,admn,12,10.41.0.0/24,\n"},
		     &dir);
	expect(dl, dir,
	       "segments.csv:2:24: error: 10.16.1.0/24 of segment 'admin' lies outside the "
	       "supernets of zone 'admin'");
	expect(dl, dir,
	       "segments.csv:3:11: error: zone 'printers' has no supernet in addressplan.csv");
	expect(dl, dir,
	       "segments.csv:4:11: error: zone 'admn' has no supernet in addressplan.csv (did "
	       "you mean 'admin'?)");
	done(dl, dir);
}

Test(inventory, coordinates_types_and_keywords)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){.sites = "id,name,district,type,lat,lon,staff,broadband,current_mbps,"
				      "required_mbps,flags\n"
				      "DC1,RZ,Mitte,data_centre,48.776,9.183,1,fibre,1,1,primary\n"
				      "S1,A,Mitte,office,91.5,9.18,1,fibre,1,1,\n"
				      "S2,B,Mitte,office,48.77,-181,1,fibre,1,1,\n"
				      "S3,C,Mitte,offce,48.77,9.18,many,fiber,1,1,critcal\n"
				      "S 4,D,Mitte,office,48.77,9.18,1,fibre,1,1,\n",
			     .links = "id,a,b,kind,capacity_mbps,length_m,cost_eur\n",
			     .segments = "site,name,zone,vlan,ipv4,ipv6\n",
			     .plan = ""},
	    &dir);
	expect(dl, dir, "sites.csv:3:19: error: lat '91.5' out of range [-90, 90]");
	expect(dl, dir, "sites.csv:4:25: error: lon '-181' out of range [-180, 180]");
	expect(dl, dir, "sites.csv:5:12: error: unknown type 'offce' (did you mean 'office'?)");
	expect(dl, dir, "sites.csv:5:29: error: 'many' is not an integer (column 'staff')");
	expect(dl, dir, "sites.csv:5:34: error: unknown broadband 'fiber' (did you mean 'fibre'?)");
	expect(dl, dir, "sites.csv:5:44: error: unknown flag 'critcal' (did you mean 'critical'?)");
	expect(dl, dir, "sites.csv:6:1: error: invalid site id 'S 4' (1-32 of A-Z a-z 0-9 _ . -)");
	done(dl, dir);
}

Test(inventory, missing_columns_empty_files_bad_text)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){.districts = "name,lat,lon\nMitte,48.7758,9.1829\n",
			     .links = "",
			     .segments = "site,name,zone,vlan,ipv4,ipv6\nS000001,adm\xfcn,admin,10,"
					 "10.0.0.0/25,\n"},
	    &dir);
	expect(dl, dir, "districts.csv:1:1: error: missing column 'radius_m'");
	expect(dl, dir, "links.csv:1:1: error: file is empty (expected a header row)");
	expect(dl, dir, "segments.csv:2:12: error: invalid UTF-8 (byte 0xfc)");
	/* Without districts every site's district would be unknown: one note
	 * instead of an error per site. */
	expect(dl, dir,
	       "sites.csv: note: district references not checked: districts.csv could not be read");
	cr_assert_eq(diag_errors(dl), 3, "no error per site:\n%s", tu_diags(dl));
	done(dl, dir);
}

/* A table that cannot be read (a missing column, or no file) makes every
 * reference into it unknown: the references are not checked, and one note
 * per referring file says so, so that the one real error stands out. */
Test(inventory, unread_sites_are_one_error_not_hundreds)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){.sites = "id,name,district,type,lat,lon,broadband,current_mbps,"
				      "required_mbps,flags\n"
				      "DC1,RZ,Mitte,data_centre,48.776,9.183,fibre,1,1,primary\n"},
	    &dir);
	expect(dl, dir, "sites.csv:1:1: error: missing column 'staff'");
	expect(dl, dir,
	       "links.csv: note: site references not checked: sites.csv could not be read");
	expect(dl, dir,
	       "segments.csv: note: site references not checked: sites.csv could not be read");
	cr_assert_eq(diag_errors(dl), 1, "%s", tu_diags(dl));
	done(dl, dir);
}

Test(inventory, absurd_line_and_missing_file)
{
	char *dir = make_inv((struct fixture){0});
	size_t n = 200000;
	char *big = malloc(n + 200);
	strcpy(big, "id,a,b,kind,capacity_mbps,length_m,cost_eur\nL1,DC1,DC2,fibre,1000,10,\nL2,");
	size_t k = strlen(big);
	memset(big + k, 'x', n);
	strcpy(big + k + n, ",DC2,fibre,1,1,\n");
	free(tu_write(dir, "links.csv", big));
	free(big);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm '%s/segments.csv'", dir);
	cr_assert_eq(tu_run(cmd), 0);
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	cr_assert_eq(inventory_load(dir, dl, &inv), -EINVAL);
	expect(dl, dir,
	       "links.csv:3:65537: error: line too long (200019 bytes; the limit is 65536)");
	expect(dl, dir, "segments.csv: error: cannot open: No such file or directory");
	done(dl, dir);
}

Test(inventory, primary_data_centre_rules)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){.sites = "id,name,district,type,lat,lon,staff,broadband,current_mbps,"
				      "required_mbps,flags\n"
				      "DC1,RZ,Mitte,office,48.776,9.183,1,fibre,1,1,primary\n",
			     .links = "id,a,b,kind,capacity_mbps,length_m,cost_eur\n",
			     .segments = "site,name,zone,vlan,ipv4,ipv6\n",
			     .plan = ""},
	    &dir);
	expect(dl, dir,
	       "sites.csv:2:46: error: only a data_centre can be the primary or fallback "
	       "site");
	done(dl, dir);
	dl = load_bad((struct fixture){.sites = "id,name,district,type,lat,lon,staff,broadband,"
						"current_mbps,required_mbps,flags\n"
						"DC1,RZ,Mitte,data_centre,48.776,9.183,1,fibre,1,1,"
						"\n",
				       .links = "id,a,b,kind,capacity_mbps,length_m,cost_eur\n",
				       .segments = "site,name,zone,vlan,ipv4,ipv6\n",
				       .plan = ""},
		      &dir);
	expect(dl, dir,
	       "sites.csv: error: no primary data centre (a data_centre site with flag "
	       "'primary')");
	done(dl, dir);
}

Test(inventory, every_file_reported_at_once)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){
		.sites = "id,name,district,type,lat,lon,staff,broadband,current_mbps,"
			 "required_mbps,flags\n"
			 "DC1,RZ,Mitte,data_centre,48.776,9.183,1,fibre,1,1,primary\n"
			 "S1,A,Nord,office,48.77,9.18,1,fibre,1,1,\n",
		.links = "id,a,b,kind,capacity_mbps,length_m,cost_eur\nL1,DC1,S2,fibre,1,1,\n",
		.segments = "site,name,zone,vlan,ipv4,ipv6\nS1,a,internet,1,10.0.0.0/24,\n",
		.plan = ""},
	    &dir);
	expect(dl, dir, "sites.csv:3:6: error: unknown district 'Nord'");
	expect(dl, dir, "links.csv:2:8: error: unknown site 'S2' (did you mean 'S1'?)");
	expect(dl, dir, "segments.csv:2:6: error: zone name 'internet' is reserved");
	cr_assert_eq(diag_errors(dl), 3, "%s", tu_diags(dl));
	done(dl, dir);
}
