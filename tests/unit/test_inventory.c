// SPDX-License-Identifier: MIT
/* Inventory loading: a valid city, and every kind of bad input, located exactly. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inventory.h"
#include "tests/unit/testutil.h"

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
	const char *ifaces; /* NULL: no interfaces.csv */
	const char *hosts;  /* NULL: no hosts.csv */
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
	if (f.ifaces)
		free(tu_write(dir, "interfaces.csv", f.ifaces));
	if (f.hosts)
		free(tu_write(dir, "hosts.csv", f.hosts));
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

/* Loads and expects success; the inventory, its diagnostics in *dlp, its directory in *dirp. */
static struct inventory *load_good(struct fixture f, struct diag_list **dlp, char **dirp)
{
	*dirp = make_inv(f);
	*dlp = diag_list_new();
	struct inventory *inv = NULL;
	cr_assert_eq(inventory_load(*dirp, *dlp, &inv), 0, "%s", tu_diags(*dlp));
	return inv;
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
	/* Without interfaces.csv: no interfaces, an index all the same, no warning. */
	cr_assert_not(inv->has_ifaces);
	cr_assert_eq(inv->nifaces, 0);
	cr_assert_not_null(inv->iface_start);
	cr_assert_eq(inv->iface_start[inv->nsites], 0);
	/* Without hosts.csv: no hosts, none to find. */
	cr_assert_not(inv->has_hosts);
	cr_assert_eq(inv->nhosts, 0);
	cr_assert_eq(inventory_find_host(inv, "dns1"), -1);
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

/* --- interfaces.csv --- */

#define IFHDR "site,name,role,segment,vlan,ipv4,ipv6,ospf,vrrp,bgp_peers,vrrp_peers\n"

/* The fixture's sites with the flags the interface tables below agree with. */
static const char ifsites[] =
    "id,name,district,type,lat,lon,staff,broadband,current_mbps,required_mbps,flags\n"
    "DC1,Rechenzentrum,Mitte,data_centre,48.7760,9.1830,12,fibre,10000,10000,"
    "primary;critical;bgp;ospf\n"
    "DC2,Ausweich-RZ,Möhringen,data_centre,48.7240,9.1490,4,fibre,10000,10000,fallback\n"
    "S000001,Rathaus,Möhringen,town_hall,48.7260,9.1510,120,fibre,1000,500,hub;vrrp;ospf\n"
    "S000002,Grundschule Mitte 1,Mitte,school,48.7770,9.1800,40,dsl,50,500,\n";

static void addr_is(const struct ip_addr *a, const char *want)
{
	char buf[IP_PREFIX_STRLEN];
	ip_addr_format(a, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
}

static void net_is(const struct ip_prefix *p, const char *want)
{
	char buf[IP_PREFIX_STRLEN];
	ip_prefix_format(p, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
}

Test(inventory, interfaces_load_sorted_by_site)
{
	char *dir = make_inv((struct fixture){
	    .sites = ifsites,
	    .ifaces = IFHDR
	    "S000001,eth1.10,segment,admin,10,10.0.0.1/25,fd5e::1/64,,yes,,10.0.0.2;fd5e::2\n"
	    "DC1,eth1.100,segment,servers,100,10.32.0.1/22,fd5e:0:0:100::1/64,no,no,,\n"
	    "S000001,wan0,transfer,,0,192.168.255.0/31,fd5e:ffff::/127,yes,no,,\n"
	    "DC1,isp0,uplink,,,100.64.0.1/31,,no,no,100.64.0.0,\n"
	    "S000001,eth1.20,segment,voip,20,10.16.0.1/26,,no,yes,,\n"
	    "DC1,wan0,transfer,,,192.168.255.1/31,fd5e:ffff::1/127,yes,,,\n"
	    "DC2,wan0,transfer,,,192.168.255.3/31,,,,,\n"
	    "S000002,eth1.10,segment,admin,10,10.0.0.129/26,fd5e:0:0:1::1/64,,,,\n"
	    "S000002,wan0,uplink,,,192.0.2.2/30,2001:db8::2/64,,,,\n"});
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	cr_assert_eq(inventory_load(dir, dl, &inv), 0, "%s", tu_diags(dl));
	cr_assert_eq(diag_count(dl), 0, "%s", tu_diags(dl));
	cr_assert(inv->has_ifaces);
	cr_assert_eq(inv->nifaces, 9);
	const size_t start[] = {0, 3, 4, 7, 9};
	for (size_t s = 0; s <= inv->nsites; s++)
		cr_assert_eq(inv->iface_start[s], start[s], "iface_start[%zu] = %zu", s,
			     inv->iface_start[s]);
	const char *names[] = {"eth1.100", "isp0",    "wan0",	 "wan0", "eth1.10",
			       "wan0",	   "eth1.20", "eth1.10", "wan0"};
	for (size_t i = 0; i < 9; i++)
		cr_assert_str_eq(inv->ifaces[i].name, names[i]);
	const struct iface *f = &inv->ifaces[0];
	cr_assert_eq(f->site, 0);
	cr_assert_eq(f->role, IFACE_SEGMENT);
	cr_assert_eq(f->segment, 3);
	cr_assert_eq(f->vlan, 100);
	cr_assert_eq(f->line, 3);
	cr_assert(f->has_v4 && f->has_v6);
	addr_is(&f->addr4, "10.32.0.1");
	net_is(&f->net4, "10.32.0.0/22");
	addr_is(&f->addr6, "fd5e:0:0:100::1");
	net_is(&f->net6, "fd5e:0:0:100::/64");
	f = &inv->ifaces[1];
	cr_assert_eq(f->role, IFACE_UPLINK);
	cr_assert_eq(f->segment, -1);
	cr_assert_eq(f->vlan, 0);
	cr_assert(f->has_v4 && !f->has_v6);
	addr_is(&f->addr4, "100.64.0.1");
	net_is(&f->net4, "100.64.0.0/31");
	cr_assert_eq(f->nbgp_peers, 1);
	addr_is(&f->bgp_peers[0], "100.64.0.0");
	cr_assert_eq(f->nvrrp_peers, 0);
	f = &inv->ifaces[4];
	cr_assert_eq(f->site, 2);
	cr_assert_eq(f->segment, 0);
	cr_assert(f->vrrp && !f->ospf);
	cr_assert_eq(f->nvrrp_peers, 2);
	addr_is(&f->vrrp_peers[0], "10.0.0.2");
	addr_is(&f->vrrp_peers[1], "fd5e::2");
	f = &inv->ifaces[5];
	cr_assert_eq(f->role, IFACE_TRANSFER);
	cr_assert(f->ospf && !f->vrrp);
	addr_is(&f->addr6, "fd5e:ffff::");
	net_is(&f->net6, "fd5e:ffff::/127");
	addr_is(&f->addr4, "192.168.255.0");
	net_is(&f->net4, "192.168.255.0/31");
	f = &inv->ifaces[6];
	cr_assert_eq(f->segment, 1);
	cr_assert_not(f->has_v6);
	cr_assert_eq(inv->ifaces[7].segment, 2);
	cr_assert_eq(inv->ifaces[8].site, 3);
	inventory_free(inv);
	done(dl, dir);
}

Test(inventory, interface_errors_located)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){.ifaces = IFHDR
			     "S00001,wan0,uplink,,,192.168.1.1/30,,,,,\n"
			     "S000001,lo,uplink,,,,,,,,\n"
			     "S000001,averyveryverylong,uplink,,,,,,,,\n"
			     "S000001,wan0,transfr,,,,,,,,\n"
			     "S000001,wan1,uplink,admin,,,,,,,\n"
			     "S000001,wan1,uplink,,4095,10.0.0.9/25,,ja,Yes,10.0.0.1;10.0.0.300,"
			     "fd5e::1;zz\n"
			     "S000001,eth1.10,segment,,10,,,,,,\n"
			     "S000001,eth1.11,segment,admn,10,,,,,,\n"
			     "S000001,eth1.12,segment,admin,11,10.0.1.1/25,,,,,\n"
			     "S000001,eth1.13,segment,admin,10,10.0.0.1/25,fd5e::1/64,,,,\n"
			     "S000001,eth1.20,segment,voip,20,10.16.0.1/24,fd5e:1::1/64,,,,\n"
			     "S000002,eth1.10,segment,admin,10,10.0.0.129/26,,,,,\n"
			     "S000002,wan0,uplink,,,10.0.0.1,fd5e:0:0:1::9/126,,,,\n"},
	    &dir);
	expect(dl, dir,
	       "interfaces.csv:2:1: error: unknown site 'S00001' (did you mean 'S000001'?)");
	expect(dl, dir,
	       "interfaces.csv:3:9: error: invalid interface name 'lo' (1-15 of A-Z a-z 0-9 _ . "
	       "-, not 'lo', '.' or '..')");
	expect(dl, dir,
	       "interfaces.csv:4:9: error: invalid interface name 'averyveryverylong' (1-15 of "
	       "A-Z a-z 0-9 _ . -, not 'lo', '.' or '..')");
	expect(dl, dir,
	       "interfaces.csv:5:14: error: unknown role 'transfr' (did you mean 'transfer'?)");
	expect(dl, dir, "interfaces.csv:6:21: error: 'segment' must be empty for role 'uplink'");
	expect(dl, dir,
	       "interfaces.csv:7:9: error: duplicate interface 'wan1' at site 'S000001' (first "
	       "on line 6)");
	expect(dl, dir, "interfaces.csv:7:22: error: vlan '4095' out of range [0, 4094]");
	expect(dl, dir,
	       "interfaces.csv:7:27: error: '10.0.0.9/25' overlaps 10.0.0.0/25 of segment 'admin' "
	       "at site 'S000001' (segments.csv line 2)");
	expect(dl, dir, "interfaces.csv:7:40: error: 'ja' is not 'yes' or 'no' (column 'ospf')");
	expect(dl, dir,
	       "interfaces.csv:7:43: error: 'Yes' is not 'yes' or 'no' (column 'vrrp') (did you "
	       "mean 'yes'?)");
	expect(dl, dir,
	       "interfaces.csv:7:56: error: '10.0.0.300' is not an IP address (column "
	       "'bgp_peers')");
	expect(dl, dir,
	       "interfaces.csv:7:75: error: 'zz' is not an IP address (column 'vrrp_peers')");
	expect(dl, dir,
	       "interfaces.csv:8:25: error: missing value for 'segment' (required for role "
	       "'segment')");
	expect(dl, dir,
	       "interfaces.csv:9:25: error: site 'S000001' has no segment 'admn' (did you mean "
	       "'admin'?)");
	expect(dl, dir,
	       "interfaces.csv:10:31: error: VLAN 11 differs from VLAN 10 of segment 'admin'");
	expect(dl, dir,
	       "interfaces.csv:10:34: error: '10.0.1.1/25' is not an address of segment 'admin' "
	       "(10.0.0.0/25)");
	expect(dl, dir,
	       "interfaces.csv:10:46: error: missing IPv6 address: segment 'admin' has fd5e::/64");
	expect(dl, dir,
	       "interfaces.csv:11:25: error: segment 'admin' of site 'S000001' has a second "
	       "interface (first on line 10)");
	expect(dl, dir,
	       "interfaces.csv:12:33: error: '10.16.0.1/24' is not an address of segment 'voip' "
	       "(10.16.0.0/26)");
	expect(dl, dir,
	       "interfaces.csv:12:46: error: segment 'voip' has no IPv6 prefix: leave 'ipv6' "
	       "empty");
	expect(dl, dir,
	       "interfaces.csv:13:48: error: missing IPv6 address: segment 'admin' has "
	       "fd5e:0:0:1::/64");
	expect(dl, dir,
	       "interfaces.csv:14:23: error: '10.0.0.1' is not an IPv4 address with a prefix "
	       "length (like 10.0.0.1/24)");
	expect(dl, dir,
	       "interfaces.csv:14:32: error: 'fd5e:0:0:1::9/126' overlaps fd5e:0:0:1::/64 of "
	       "segment 'admin' at site 'S000002' (segments.csv line 4)");
	/* Nothing else: every segment that a row names counts as covered, so a
	 * wrong row does not also make its segment 'missing'. */
	cr_assert_eq(diag_errors(dl), 23, "%s", tu_diags(dl));
	done(dl, dir);
}

/* Across rows: a site with rows has every segment's interface and a way out;
 * rows and the site flags agree; sites without rows are one warning. */
Test(inventory, interface_table_against_sites)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){.ifaces = IFHDR
			     "S000001,eth1.10,segment,admin,10,10.0.0.1/25,fd5e::1/64,yes,"
			     "yes,,\n"
			     "S000002,eth1.10,segment,admin,10,10.0.0.129/26,fd5e:0:0:1::1/"
			     "64,no,yes,,\n"
			     "S000002,wan0,uplink,,,192.168.0.1/30,,yes,,192.168.0.2,\n"},
	    &dir);
	expect(dl, dir,
	       "interfaces.csv:2:1: error: site 'S000001' has no interface for segment 'voip' "
	       "(segments.csv line 3)");
	cr_assert_eq(diag_errors(dl), 1, "%s", tu_diags(dl));
	expect(dl, dir,
	       "interfaces.csv:2:1: warning: site 'S000001' has no uplink or transfer interface");
	expect(dl, dir,
	       "interfaces.csv:2:57: warning: interface 'eth1.10' runs OSPF but site 'S000001' "
	       "has no 'ospf' flag (sites.csv line 4)");
	expect(dl, dir,
	       "interfaces.csv:3:68: warning: interface 'eth1.10' runs VRRP but site 'S000002' "
	       "has no 'vrrp' flag (sites.csv line 5)");
	expect(dl, dir,
	       "interfaces.csv:4:39: warning: interface 'wan0' runs OSPF but site 'S000002' has "
	       "no 'ospf' flag (sites.csv line 5)");
	expect(dl, dir,
	       "interfaces.csv:4:44: warning: interface 'wan0' has BGP peers but site 'S000002' "
	       "has no 'bgp' flag (sites.csv line 5)");
	expect(dl, dir,
	       "interfaces.csv: warning: 2 sites have no interfaces (DC1, DC2): their gateways "
	       "keep the plain reverse-path check");
	cr_assert_eq(diag_warnings(dl), 6, "%s", tu_diags(dl));
	done(dl, dir);
}

/* Sites without rows keep today's behaviour: one warning naming at most five. */
Test(inventory, sites_without_interfaces_are_one_warning)
{
	char sitesv[2048] = "id,name,district,type,lat,lon,staff,broadband,current_mbps,"
			    "required_mbps,flags\n"
			    "DC1,RZ,Mitte,data_centre,48.776,9.183,1,fibre,1,1,primary\n";
	for (int i = 1; i <= 7; i++) {
		size_t n = strlen(sitesv);
		snprintf(sitesv + n, sizeof(sitesv) - n,
			 "S%d,A,Mitte,office,48.77,9.18,1,fibre,1,1,\n", i);
	}
	char *dir = make_inv((struct fixture){
	    .sites = sitesv,
	    .links = "id,a,b,kind,capacity_mbps,length_m,cost_eur\nL1,DC1,S1,fibre,1,1,\n",
	    .segments = "site,name,zone,vlan,ipv4,ipv6\nS1,a,admin,10,10.1.0.0/24,\n",
	    .plan = "",
	    .ifaces = IFHDR "DC1,wan0,uplink,,,192.0.2.1/30,,,,,\n"});
	struct diag_list *dl = diag_list_new();
	struct inventory *inv = NULL;
	cr_assert_eq(inventory_load(dir, dl, &inv), 0, "%s", tu_diags(dl));
	expect(dl, dir,
	       "interfaces.csv: warning: 7 sites have no interfaces (S1, S2, S3, S4, S5, ...): "
	       "their gateways keep the plain reverse-path check");
	cr_assert_eq(diag_count(dl), 1, "%s", tu_diags(dl));
	cr_assert_eq(inv->nifaces, 1);
	cr_assert_eq(inv->iface_start[1], 1);
	cr_assert_eq(inv->iface_start[8], 1);
	inventory_free(inv);
	done(dl, dir);
}

/* --- hosts.csv --- */

#define HOSTHDR "name,site,addresses,labels,description\n"

static void host_addr_is(const struct host *h, size_t i, const char *want)
{
	char buf[IP_PREFIX_STRLEN];
	cr_assert_lt(i, h->naddrs);
	ip_prefix_format(&h->addrs[i], buf, sizeof(buf));
	cr_assert_str_eq(buf, want, "%s address %zu", h->name, i);
}

static void label_is(const struct host *h, size_t i, const char *key, const char *value)
{
	cr_assert_lt(i, h->nlabels);
	cr_assert_str_eq(h->labels[i].key, key, "%s label %zu", h->name, i);
	cr_assert_str_eq(h->labels[i].value, value, "%s label %zu", h->name, i);
}

Test(inventory, hosts_load_with_sorted_labels)
{
	char *dir;
	struct diag_list *dl;
	struct inventory *inv = load_good(
	    (struct fixture){
		.hosts = HOSTHDR
		"dc1-dns1,DC1,10.32.0.10 fd5e:0:0:100::10,role=resolver app=dns,\"Resolver 1, "
		"RZ\"\n"
		"rathaus.print-1,S000001,  10.0.0.10   fd5e::10 ,"
		"role=print district=moehringen role=dhcp app=cups app-x=1,Druckserver Möhringen\n"
		"dc1-db_cluster,DC1,10.32.1.0/28 fd5e:0:0:100::1:0/112,,\n"
		"state-dc-portal,,100.96.0.10 fd8c:31d4:57a2::10,partner=state-dc,\n"
		"voip-gw,S000001,10.16.0.10,,Nur IPv4\n"},
	    &dl, &dir);
	cr_assert_eq(diag_count(dl), 0, "%s", tu_diags(dl));
	cr_assert(inv->has_hosts);
	cr_assert_eq(inv->nhosts, 5);
	cr_assert_eq(inventory_find_host(inv, "dc1-dns1"), 0);
	cr_assert_eq(inventory_find_host(inv, "state-dc-portal"), 3);
	cr_assert_eq(inventory_find_host(inv, "dc1-dns2"), -1);

	const struct host *h = &inv->hosts[0];
	cr_assert_str_eq(h->name, "dc1-dns1");
	cr_assert_eq(h->site, 0);
	cr_assert_eq(h->line, 2);
	cr_assert_str_eq(h->description, "Resolver 1, RZ");
	cr_assert_eq(h->naddrs, 2);
	host_addr_is(h, 0, "10.32.0.10/32");
	host_addr_is(h, 1, "fd5e:0:0:100::10/128");
	cr_assert_eq(h->nlabels, 2);
	label_is(h, 0, "app", "dns");
	label_is(h, 1, "role", "resolver");

	/* Labels sorted by key, then value ("app" before "app-x" though '-' < '='). */
	h = &inv->hosts[1];
	cr_assert_eq(h->site, 2);
	cr_assert_str_eq(h->description, "Druckserver Möhringen");
	cr_assert_eq(h->naddrs, 2);
	host_addr_is(h, 0, "10.0.0.10/32");
	host_addr_is(h, 1, "fd5e::10/128");
	cr_assert_eq(h->nlabels, 5);
	label_is(h, 0, "app", "cups");
	label_is(h, 1, "app-x", "1");
	label_is(h, 2, "district", "moehringen");
	label_is(h, 3, "role", "dhcp");
	label_is(h, 4, "role", "print");
	/* A key with several values: any of them, or the key alone. */
	cr_assert(host_has_label(h, "role", "print"));
	cr_assert(host_has_label(h, "role", "dhcp"));
	cr_assert(host_has_label(h, "role", NULL));
	cr_assert(host_has_label(h, "app-x", NULL));
	cr_assert_not(host_has_label(h, "role", "web"));
	cr_assert_not(host_has_label(h, "env", NULL));
	cr_assert_not(host_has_label(h, "ro", NULL));

	/* Prefixes are allowed, labels are not required. */
	h = &inv->hosts[2];
	host_addr_is(h, 0, "10.32.1.0/28");
	host_addr_is(h, 1, "fd5e::100:0:0:1:0/112");
	cr_assert_eq(h->nlabels, 0);
	cr_assert_not(host_has_label(h, "role", NULL));
	cr_assert_str_eq(h->description, "");

	/* No site: outside every segment, nothing to say. */
	h = &inv->hosts[3];
	cr_assert_eq(h->site, -1);
	host_addr_is(h, 1, "fd8c:31d4:57a2::10/128");
	cr_assert(host_has_label(h, "partner", "state-dc"));

	/* A segment with IPv4 only: the host has IPv4 only. */
	h = &inv->hosts[4];
	cr_assert_eq(h->naddrs, 1);
	host_addr_is(h, 0, "10.16.0.10/32");
	inventory_free(inv);
	done(dl, dir);
}

/* Columns are found by name; labels and description may be left out. */
Test(inventory, hosts_need_three_columns)
{
	char *dir;
	struct diag_list *dl;
	struct inventory *inv = load_good((struct fixture){.hosts = "addresses,name,site\n"
								    "10.32.0.10,dc1-dns1,DC1\n"},
					  &dl, &dir);
	cr_assert_eq(inv->nhosts, 1);
	cr_assert_eq(inv->hosts[0].nlabels, 0);
	cr_assert_str_eq(inv->hosts[0].description, "");
	inventory_free(inv);
	done(dl, dir);
	dl = load_bad((struct fixture){.hosts = "name,sites,labels\ndc1-dns1,DC1,\n"}, &dir);
	expect(dl, dir, "hosts.csv:1:6: error: missing column 'site' (did you mean 'sites'?)");
	expect(dl, dir, "hosts.csv:1:1: error: missing column 'addresses'");
	done(dl, dir);
}

Test(inventory, host_errors_located)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){
		.hosts = HOSTHDR
		"dc1-dns1,DC1,10.32.0.10 fd5e:0:0:100::10,role=resolver app=dns,\n"
		"dc1-dns1,DC,10.32.0.11,,\n"
		"Print,S00001,10.0.0.11,,\n"
		",S000001,10.0.0.12,,\n"
		"a-name-that-is-longer-than-sixty-three-characters-which-is-the-limit,,"
		"100.96.0.1,,\n"
		"nowhere,S000001,,role=x,\n"
		"spaces,S000001,   ,,\n"
		"badaddr,S000001,10.0.0.300 10.0.0.13;10.0.0.14 fd5e::/60 10.0.0.8/29x,,\n"
		"bits,S000001,10.0.0.17/28 fd5e::1/64,,\n"
		"labels,S000001,10.0.0.20,role=print Role=x role= =x role app=a=b "
		"k=averyveryveryveryveryveryveryveryveryveryverylongvalue,\n"
		"dup-label,S000001,10.0.0.21,role=print app=cups role=print role=print,\n"
		"elsewhere,S000002,10.0.0.22 fd5e:0:0:1::22 10.0.0.130,,\n"
		"other-site,S000002,10.32.0.12,,\n"
		"no-v6,S000001,10.16.0.10 fd5e:0:0:100::12,,\n"
		"too-wide,DC1,10.32.0.0/21,,\n"
		"no-v4-seg,DC2,10.32.0.13,,\n"},
	    &dir);
	expect(dl, dir, "hosts.csv:3:1: error: duplicate host 'dc1-dns1' (first on line 2)");
	expect(dl, dir, "hosts.csv:3:10: error: unknown site 'DC' (did you mean 'DC1'?)");
	expect(dl, dir, "hosts.csv:4:1: error: invalid host name 'Print' (1-63 of a-z 0-9 _ - .)");
	expect(dl, dir, "hosts.csv:4:7: error: unknown site 'S00001' (did you mean 'S000001'?)");
	expect(dl, dir, "hosts.csv:5:1: error: missing value for 'name'");
	expect(dl, dir,
	       "hosts.csv:6:1: error: invalid host name "
	       "'a-name-that-is-longer-than-sixty-three-characters-which-is-the-limit' (1-63 of "
	       "a-z 0-9 _ - .)");
	expect(dl, dir,
	       "hosts.csv:7:17: error: missing value for 'addresses' (at least one address)");
	expect(dl, dir,
	       "hosts.csv:8:16: error: missing value for 'addresses' (at least one address)");
	expect(dl, dir, "hosts.csv:9:17: error: '10.0.0.300' is not an IP address or prefix");
	expect(dl, dir,
	       "hosts.csv:9:28: error: '10.0.0.13;10.0.0.14' is not an IP address or prefix "
	       "(separate addresses with spaces)");
	expect(dl, dir,
	       "hosts.csv:9:48: error: fd5e::/60 is not inside a segment of site 'S000001' (its "
	       "IPv6 segments: admin fd5e::/64)");
	expect(dl, dir, "hosts.csv:9:58: error: '10.0.0.8/29x' is not an IP address or prefix");
	expect(dl, dir,
	       "hosts.csv:10:14: error: '10.0.0.17/28' has host bits set (did you mean "
	       "'10.0.0.16/28'?)");
	expect(
	    dl, dir,
	    "hosts.csv:10:27: error: 'fd5e::1/64' has host bits set (did you mean 'fd5e::/64'?)");
	const char *bad_labels[] = {"37: error: invalid label 'Role=x'",
				    "44: error: invalid label 'role='",
				    "50: error: invalid label '=x'",
				    "53: error: invalid label 'role'",
				    "58: error: invalid label 'app=a=b'",
				    "66: error: invalid label "
				    "'k=averyveryveryveryveryveryveryveryveryveryverylongvalue'"};
	for (size_t i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++) {
		char want[256];
		snprintf(want, sizeof(want),
			 "hosts.csv:11:%s (key=value, each 1-48 of a-z 0-9 _ - .)", bad_labels[i]);
		expect(dl, dir, want);
	}
	/* An exact pair twice is an error at each repetition. */
	expect(dl, dir, "hosts.csv:12:49: error: duplicate label 'role=print'");
	expect(dl, dir, "hosts.csv:12:60: error: duplicate label 'role=print'");
	/* With a site: inside that site's segments, the others named. */
	expect(dl, dir,
	       "hosts.csv:13:19: error: 10.0.0.22 is not inside a segment of site 'S000002' (its "
	       "IPv4 segments: admin 10.0.0.128/26); it lies in segment 'admin' of site "
	       "'S000001'");
	expect(dl, dir,
	       "hosts.csv:14:20: error: 10.32.0.12 is not inside a segment of site 'S000002' (its "
	       "IPv4 segments: admin 10.0.0.128/26); it lies in segment 'servers' of site 'DC1'");
	expect(dl, dir,
	       "hosts.csv:15:26: error: fd5e:0:0:100::12 is not inside a segment of site "
	       "'S000001' (its IPv6 segments: admin fd5e::/64); it lies in segment 'servers' of "
	       "site 'DC1'");
	expect(dl, dir,
	       "hosts.csv:16:14: error: 10.32.0.0/21 is not inside a segment of site 'DC1' (its "
	       "IPv4 segments: servers 10.32.0.0/22)");
	expect(dl, dir,
	       "hosts.csv:17:15: error: 10.32.0.13: site 'DC2' has no IPv4 segment; it lies in "
	       "segment 'servers' of site 'DC1'");
	/* Addresses shared between hosts, reported at the later one. */
	expect(dl, dir,
	       "hosts.csv:16:14: error: 10.32.0.0/21 of host 'too-wide' overlaps 10.32.0.10 of "
	       "host 'dc1-dns1' (line 2)");
	expect(dl, dir,
	       "hosts.csv:17:15: error: 10.32.0.13 of host 'no-v4-seg' overlaps 10.32.0.0/21 of "
	       "host 'too-wide' (line 16)");
	cr_assert_eq(diag_errors(dl), 32, "%s", tu_diags(dl));
	cr_assert_eq(diag_warnings(dl), 0, "%s", tu_diags(dl));
	done(dl, dir);
}

/* The same address twice, overlapping prefixes, and a gateway's own address. */
Test(inventory, host_addresses_collide)
{
	char *dir;
	struct diag_list *dl = load_bad(
	    (struct fixture){
		.sites = ifsites,
		.ifaces = IFHDR
		"DC1,eth1.100,segment,servers,100,10.32.0.1/22,fd5e:0:0:100::1/64,no,no,,\n"
		"DC1,isp0,uplink,,,100.64.0.1/31,,no,no,100.64.0.0,\n",
		.hosts = HOSTHDR "dns1,DC1,10.32.0.10 fd5e:0:0:100::10,,\n"
				 "dns2,DC1,10.32.0.11 fd5e:0:0:100::10,,\n"
				 "cluster,DC1,10.32.0.8/29,,\n"
				 "twice,DC1,10.32.0.20 fd5e:0:0:100::20 10.32.0.20,,\n"
				 "gw,DC1,fd5e:0:0:100::1 10.32.0.0/30,,\n"
				 "isp,,100.64.0.1,partner=isp,\n"},
	    &dir);
	expect(dl, dir,
	       "hosts.csv:3:21: error: fd5e:0:0:100::10 of host 'dns2' overlaps fd5e:0:0:100::10 "
	       "of host 'dns1' (line 2)");
	expect(dl, dir,
	       "hosts.csv:4:13: error: 10.32.0.8/29 of host 'cluster' overlaps 10.32.0.10 of host "
	       "'dns1' (line 2)");
	expect(dl, dir,
	       "hosts.csv:5:39: error: 10.32.0.20 overlaps 10.32.0.20, another address of host "
	       "'twice'");
	expect(dl, dir,
	       "hosts.csv:6:8: error: fd5e:0:0:100::1 of host 'gw' overlaps fd5e:0:0:100::1, the "
	       "address of gateway interface 'eth1.100' at site 'DC1' (interfaces.csv line 2)");
	expect(dl, dir,
	       "hosts.csv:6:24: error: 10.32.0.0/30 of host 'gw' overlaps 10.32.0.1, the address "
	       "of gateway interface 'eth1.100' at site 'DC1' (interfaces.csv line 2)");
	expect(dl, dir,
	       "hosts.csv:7:6: error: 100.64.0.1 of host 'isp' overlaps 100.64.0.1, the address of "
	       "gateway interface 'isp0' at site 'DC1' (interfaces.csv line 3)");
	done(dl, dir);
}

/* A host at no site whose address lies in a segment: it loads, with a warning naming the site. */
Test(inventory, host_without_site_in_a_segment_warns)
{
	char *dir;
	struct diag_list *dl;
	struct inventory *inv = load_good(
	    (struct fixture){.hosts = HOSTHDR "printer-x,,10.0.0.140 fd5e:0:0:1::140 100.96.0.1,,\n"
					      "broad,,10.32.0.0/21,,\n"},
	    &dl, &dir);
	expect(dl, dir,
	       "hosts.csv:2:12: warning: host 'printer-x' has no site but 10.0.0.140 lies in "
	       "segment 'admin' of site 'S000002' (add site 'S000002')");
	expect(dl, dir,
	       "hosts.csv:2:23: warning: host 'printer-x' has no site but fd5e:0:0:1::140 lies in "
	       "segment 'admin' of site 'S000002' (add site 'S000002')");
	expect(dl, dir,
	       "hosts.csv:3:8: warning: host 'broad' has no site but 10.32.0.0/21 overlaps "
	       "segment 'servers' of site 'DC1' (add site 'DC1')");
	cr_assert_eq(diag_count(dl), 3, "%s", tu_diags(dl));
	cr_assert_eq(inv->nhosts, 2);
	cr_assert_eq(inv->hosts[0].site, -1);
	inventory_free(inv);
	done(dl, dir);
}

/* Without sites.csv the sites of hosts are not checked: one note, not an error per host. */
Test(inventory, hosts_with_unread_sites_are_one_note)
{
	char *dir;
	struct diag_list *dl =
	    load_bad((struct fixture){.sites = "id,name\nDC1,RZ\n",
				      .hosts = HOSTHDR "dns1,DC1,10.32.0.10,,\nx,,10.32.0.11,,\n"},
		     &dir);
	expect(dl, dir,
	       "hosts.csv: note: site references not checked: sites.csv could not be read");
	for (size_t i = 0; i < diag_count(dl); i++) {
		const struct diag *d = diag_get(dl, i);
		cr_assert(d->severity != DIAG_ERROR || !strstr(d->file, "hosts.csv"), "%s",
			  tu_diags(dl));
	}
	done(dl, dir);
}
