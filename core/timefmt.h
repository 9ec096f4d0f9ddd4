/* SPDX-License-Identifier: MIT */
/*
 * Times as text: RFC 3339 date-times (section 5.6), the one format segplan's
 * files carry (agent summaries, kernel readings, IPFIX exports).
 */
#ifndef SEGPLAN_TIMEFMT_H
#define SEGPLAN_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parses full-date "T" full-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM),
 * 'T' and 'Z' in either case (RFC 3339 5.6 note), a real calendar day, hours
 * 0-23, minutes 0-59, seconds 0-60 (a leap second, counted as the next second),
 * offsets up to 23:59. Into *ns: nanoseconds since 1970-01-01T00:00:00Z
 * (digits beyond the ninth are dropped). False, *ns untouched, when s is not
 * exactly one such time (no space, no trailing text).
 */
bool rfc3339_parse(const char *s, int64_t *ns);

/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian calendar;
 * m 1..12, d 1..31, any year; negative before 1970). */
int64_t days_from_civil(int y, int m, int d);

#endif
