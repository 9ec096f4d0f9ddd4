// SPDX-License-Identifier: MIT
/*
 * The CSV reader (core/csvread.c) and the inventory's table loaders
 * (inventory/inventory.c). The input is one table of a small valid inventory
 * (tests/golden/policy/inventory, and the hosts.csv below); the others stay
 * valid. Which table is decided by the header line, so that the real tables
 * seed their own loader: an input whose header names no table picks one by
 * its first byte.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/csvread.h"
#include "inventory/inventory.h"
#include "tests/fuzz/harness.h"

static const char *const tables[] = {"districts.csv", "sites.csv",	 "links.csv",
				     "segments.csv",  "addressplan.csv", "hosts.csv"};
#define NTABLES	    (sizeof(tables) / sizeof(tables[0]))
#define HOSTS_TABLE 5

/* The golden inventory has no hosts: these fit its segments (docs/inventory.md, hosts.csv). */
static const char hosts_csv[] =
    "name,site,addresses,labels,description\n"
    "dc1-dns1,DC1,10.1.0.10 fd00:1:0:100::10,app=dns role=resolver,\"DNS-Resolver 1, RZ\"\n"
    "dc1-mon,DC1,10.9.0.10 fd00:1:0:900::10,app=snmp role=monitoring,\n"
    "s1-print,S1,10.1.1.10 fd00:1:0:101::10,district=mitte role=dhcp role=print,Druckserver\n"
    "s3-portal,S3,10.4.3.16/28,app=portal,\n"
    "state-dc,,100.96.0.10 fd8c:31d4:57a2::10,partner=state-dc,\n";
static const char *orig[NTABLES];
static size_t origlen[NTABLES];
static char dir[4200];

void fuzz_init(void)
{
	char rel[256], sub[4300];
	snprintf(dir, sizeof(dir), "%s", fuzz_write("inv", "", 0));
	remove(dir);
	FUZZ_ASSERT(mkdir(dir, 0700) == 0);
	for (size_t i = 0; i < NTABLES; i++) {
		snprintf(rel, sizeof(rel), "tests/golden/policy/inventory/%s", tables[i]);
		if (i == HOSTS_TABLE) {
			orig[i] = hosts_csv;
			origlen[i] = sizeof(hosts_csv) - 1;
		} else {
			orig[i] = fuzz_slurp(rel, &origlen[i]);
		}
		snprintf(sub, sizeof(sub), "inv/%s", tables[i]);
		fuzz_write(sub, orig[i], origlen[i]);
	}
}

static size_t pick(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) : len;
	char head[256];
	if (n >= sizeof(head))
		n = sizeof(head) - 1;
	memcpy(head, buf, n);
	head[n] = '\0';
	if (strstr(head, "addresses") || strstr(head, "labels"))
		return HOSTS_TABLE;
	if (strstr(head, "radius"))
		return 0;
	if (strstr(head, "district"))
		return 1;
	if (strstr(head, "kind"))
		return 2;
	if (strstr(head, "vlan") || strncmp(head, "site,", 5) == 0)
		return 3;
	if (strstr(head, "prefix"))
		return 4;
	return len ? (unsigned char)buf[0] % NTABLES : 0;
}

/* Every cell and its location, as the loaders read them. */
static void walk(const char *path, struct diag_list *dl)
{
	struct csv_table *t;
	if (csv_table_read(path, "t.csv", dl, &t) != 0)
		return;
	size_t sum = 0;
	for (size_t c = 0; c < csv_table_ncols(t); c++)
		sum += strlen(csv_table_header(t, c));
	for (size_t r = 0; r < csv_table_nrows(t); r++) {
		for (int c = 0; c <= (int)csv_table_ncols(t); c++) {
			sum += strlen(csv_cell(t, r, c)) + csv_cell_line(t, r, c) +
			       csv_cell_col(t, r, c);
			long l;
			double d;
			csv_get_long(t, r, c, false, -5, 5, dl, &l);
			csv_get_double(t, r, c, false, -1e9, 1e9, dl, &d);
		}
	}
	FUZZ_ASSERT(sum != (size_t)-1);
	csv_table_free(t);
}

void fuzz_one(const char *buf, size_t len, struct diag_list *dl)
{
	size_t i = pick(buf, len);
	char sub[4300];
	snprintf(sub, sizeof(sub), "inv/%s", tables[i]);
	const char *path = fuzz_write(sub, buf, len);
	walk(path, dl);
	struct inventory *inv = NULL;
	int rc = inventory_load(dir, dl, &inv);
	FUZZ_ASSERT((rc == 0) == (inv != NULL));
	inventory_free(inv);
	fuzz_write(sub, orig[i], origlen[i]);
}
