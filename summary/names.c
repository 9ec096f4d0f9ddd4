// SPDX-License-Identifier: MIT
#include "summary/summary.h"

const char *summary_side_term(const struct pol_table *t, const struct pol_side *sd,
			      const struct ip_addr *a, const struct pol_class *c)
{
	if (sd->any)
		return "any";
	for (size_t i = 0; i < sd->nzones; i++) {
		struct pol_side one = {.zones = &sd->zones[i], .nzones = 1};
		if (pol_side_matches(t, &one, a, c))
			return pol_table_zone_name(t, sd->zones[i]);
	}
	for (size_t i = 0; i < sd->nsets; i++)
		if (pol_ranges_find(pol_table_set(t, sd->sets[i]), a))
			return pol_table_set_label(t, sd->sets[i]);
	return NULL;
}
