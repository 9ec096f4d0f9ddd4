// SPDX-License-Identifier: MIT
/* core/timewin: weekly windows in IANA zones, offsets and changes, the nights the clock jumps,
 * and Python's zoneinfo as the oracle of offsets and window membership. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/timefmt.h"
#include "core/timewin.h"
#include "tests/unit/testutil.h"

#define DAY (int64_t)86400
/* An instant given as a UTC date and time. */
#define UTC(y, mo, d, h, mi) (days_from_civil(y, mo, d) * DAY + (h)*3600 + (mi)*60)

static struct tw_window win(const char *days, const char *hours, const char *tz)
{
	struct tw_window w;
	char err[256];
	int rc = tw_parse(days, hours, tz, &w, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s %s %s: %s", days, hours, tz, err);
	return w;
}

static void parse_fails(const char *days, const char *hours, const char *tz, const char *want)
{
	struct tw_window w = {.days = 0x55};
	char err[256] = "";
	cr_assert_eq(tw_parse(days, hours, tz, &w, err, sizeof(err)), -EINVAL, "%s %s %s", days,
		     hours, tz);
	cr_assert_str_eq(err, want);
	cr_assert_eq(w.days, 0x55, "out is written only on success");
}

Test(timewin, parse_errors_each_message)
{
	static const struct {
		const char *days, *hours, *tz, *want;
	} cases[] = {
	    {"mon-fry", "22:00-02:00", "UTC",
	     "bad days 'mon-fry': unknown day 'fry' (did you mean 'fri'?)"},
	    {"Monday", "22:00-02:00", "UTC",
	     "bad days 'Monday': unknown day 'Monday' (did you mean 'mon'?)"},
	    {"MON", "22:00-02:00", "UTC",
	     "bad days 'MON': unknown day 'MON' (did you mean 'mon'?)"},
	    {"weekdays", "22:00-02:00", "UTC",
	     "bad days 'weekdays': unknown day 'weekdays' (expected mon tue wed thu fri sat "
	     "sun, or daily)"},
	    {"mon\n", "22:00-02:00", "UTC",
	     "bad days 'mon?': unknown day 'mon?' (did you mean 'mon'?)"},
	    {"tue-\x1b[2J", "22:00-02:00", "UTC",
	     "bad days 'tue-?[2J': unknown day '?[2J' (expected mon tue wed thu fri sat sun, or "
	     "daily)"},
	    {"mon,,fri", "22:00-02:00", "UTC", "bad days 'mon,,fri': empty day"},
	    {"mon,", "22:00-02:00", "UTC", "bad days 'mon,': empty day"},
	    {"mon-", "22:00-02:00", "UTC", "bad days 'mon-': empty day"},
	    {"", "22:00-02:00", "UTC", "bad days '': expected daily or days like mon-fri,sun"},
	    {"daily", "25:00-02:00", "UTC", "bad hours '25:00-02:00': expected HH:MM-HH:MM"},
	    {"daily", "9:00-17:00", "UTC", "bad hours '9:00-17:00': expected HH:MM-HH:MM"},
	    {"daily", "09:60-17:00", "UTC", "bad hours '09:60-17:00': expected HH:MM-HH:MM"},
	    {"daily", "22:00-24:30", "UTC", "bad hours '22:00-24:30': expected HH:MM-HH:MM"},
	    {"daily", "24:00-02:00", "UTC", "bad hours '24:00-02:00': expected HH:MM-HH:MM"},
	    {"daily", "22:00-02:00 ", "UTC", "bad hours '22:00-02:00 ': expected HH:MM-HH:MM"},
	    {"daily", "02:00-02:00", "UTC",
	     "bad hours '02:00-02:00': start and end are the same time (a whole day is "
	     "00:00-24:00)"},
	    {"daily", "00:00-00:00", "UTC",
	     "bad hours '00:00-00:00': start and end are the same time (a whole day is "
	     "00:00-24:00)"},
	    {"daily", "00:00-24:00", "",
	     "missing timezone: expected a name like Europe/Berlin or UTC"},
	    {"daily", "00:00-24:00", "Europe/Berln",
	     "unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"},
	    {"daily", "00:00-24:00", "europe/berlin",
	     "unknown timezone 'europe/berlin' (did you mean 'Europe/Berlin'?)"},
	    {"daily", "00:00-24:00", "Berlin",
	     "unknown timezone 'Berlin' (did you mean 'Europe/Berlin'?)"},
	    {"daily", "00:00-24:00", "America/New_Yrok",
	     "unknown timezone 'America/New_Yrok' (did you mean 'America/New_York'?)"},
	    {"daily", "00:00-24:00", "Mars/Olympus_Mons", "unknown timezone 'Mars/Olympus_Mons'"},
	    {"daily", "00:00-24:00", "Europe", "unknown timezone 'Europe'"},
	    {"daily", "00:00-24:00", "Europe/Berlin/x", "unknown timezone 'Europe/Berlin/x'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_fails(cases[i].days, cases[i].hours, cases[i].tz, cases[i].want);
	static const char *const bad[] = {"../etc/passwd",    "/etc/localtime", "Europe/../UTC",
					  "Europe/Berlin;id", "Europe/Berlin ", "Europe\\Berlin"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[256];
		snprintf(want, sizeof(want),
			 "bad timezone '%s': expected a name like Europe/Berlin (A-Za-z0-9_+-/, no "
			 "'..', no leading '/')",
			 bad[i]);
		parse_fails("daily", "00:00-24:00", bad[i], want);
	}
	char longname[80];
	memset(longname, 'A', 70);
	longname[70] = 0;
	parse_fails(
	    "daily", "00:00-24:00", longname,
	    "bad timezone 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...': "
	    "longer than 63 characters");
	parse_fails("daily", "00:00-24:00", "right/UTC",
		    "timezone 'right/UTC' counts leap seconds: not supported");
	/* a text file of the tzdata package, not a TZif file */
	cr_assert(tu_file_exists("/usr/share/zoneinfo/leapseconds"));
	parse_fails("daily", "00:00-24:00", "leapseconds",
		    "timezone 'leapseconds': /usr/share/zoneinfo/leapseconds is not a TZif file");

	struct tw_window w;
	cr_assert_eq(tw_parse("daily", "00:00-24:00", "Nowhere", &w, NULL, 0), -EINVAL);
	char tiny[8];
	cr_assert_eq(tw_parse("daily", "00:00-24:00", "Nowhere", &w, tiny, sizeof(tiny)), -EINVAL);
	cr_assert_str_eq(tiny, "unknown");
}

Test(timewin, parse_and_format)
{
	static const struct {
		const char *days, *hours, *tz, *text;
		uint8_t mask;
		uint16_t start, end;
	} cases[] = {
	    {"mon-fri", "22:00-02:00", "Europe/Berlin", "mon-fri 22:00-02:00 Europe/Berlin", 0x1f,
	     1320, 120},
	    {"sat,sun", "00:00-24:00", "UTC", "sat,sun 00:00-24:00 UTC", 0x60, 0, 1440},
	    {"daily", "08:30-17:45", "Asia/Kolkata", "daily 08:30-17:45 Asia/Kolkata", 0x7f, 510,
	     1065},
	    {"mon,wed-fri", "23:59-00:00", "UTC", "mon,wed-fri 23:59-24:00 UTC", 0x1d, 1439, 1440},
	    {"fri-mon", "10:00-11:00", "UTC", "mon,fri-sun 10:00-11:00 UTC", 0x71, 600, 660},
	    {"sun-sun", "10:00-09:00", "UTC", "sun 10:00-09:00 UTC", 0x40, 600, 540},
	    {"mon-sun", "00:00-00:01", "UTC", "daily 00:00-00:01 UTC", 0x7f, 0, 1},
	    {"tue,mon,tue", "01:00-02:00", "America/New_York",
	     "mon,tue 01:00-02:00 America/New_York", 0x03, 60, 120},
	    {"sun,mon,tue,thu", "01:00-02:00", "Etc/GMT-14",
	     "mon,tue,thu,sun 01:00-02:00 Etc/GMT-14", 0x4b, 60, 120},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tw_window w = win(cases[i].days, cases[i].hours, cases[i].tz), back;
		cr_assert_eq(w.days, cases[i].mask, "%s", cases[i].days);
		cr_assert_eq(w.start, cases[i].start);
		cr_assert_eq(w.end, cases[i].end);
		char buf[128], d[32], h[16], z[TW_TZ_MAX];
		tw_format(&w, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].text);
		/* the canonical text reads back to the same window */
		cr_assert_eq(sscanf(buf, "%31s %15s %63s", d, h, z), 3);
		back = win(d, h, z);
		cr_assert_eq(memcmp(&back, &w, sizeof(w)), 0, "%s", buf);
	}
	struct tw_window w = win("mon-fri", "22:00-02:00", "Europe/Berlin");
	char small[8];
	tw_format(&w, small, sizeof(small));
	cr_assert_str_eq(small, "mon-fri");
}

/* tw_next_change(tz, from) is at, where the offset goes from before to after. */
struct change {
	const char *tz;
	int64_t from, at;
	int before, after;
};

static void changes_are(const struct change *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *tz = c[i].tz;
		cr_assert_eq(tw_next_change(tz, c[i].from), c[i].at, "%s from %" PRId64, tz,
			     c[i].from);
		cr_assert_eq(tw_offset(tz, c[i].from), c[i].before, "%s at %" PRId64, tz,
			     c[i].from);
		cr_assert_eq(tw_offset(tz, c[i].at - 1), c[i].before, "%s at %" PRId64, tz,
			     c[i].at);
		cr_assert_eq(tw_offset(tz, c[i].at), c[i].after, "%s at %" PRId64, tz, c[i].at);
		cr_assert_eq(tw_offset(tz, c[i].at + 1), c[i].after, "%s at %" PRId64, tz, c[i].at);
	}
}

/* Berlin: CET (+1) and CEST (+2), changing on the last Sundays of March and October at 01:00
 * UTC; New York on the second Sunday of March and the first of November at 02:00 local. */
Test(timewin, offsets_and_changes_2026_2027)
{
	cr_assert_eq(UTC(2026, 3, 29, 1, 0), 1774746000);
	const struct change c[] = {
	    {"Europe/Berlin", UTC(2026, 1, 15, 12, 0), UTC(2026, 3, 29, 1, 0), 3600, 7200},
	    {"Europe/Berlin", UTC(2026, 3, 29, 1, 0), UTC(2026, 10, 25, 1, 0), 7200, 3600},
	    {"Europe/Berlin", UTC(2026, 7, 1, 0, 0), UTC(2026, 10, 25, 1, 0), 7200, 3600},
	    {"Europe/Berlin", UTC(2026, 10, 25, 1, 0) - 1, UTC(2026, 10, 25, 1, 0), 7200, 3600},
	    {"Europe/Berlin", UTC(2026, 10, 25, 1, 0), UTC(2027, 3, 28, 1, 0), 3600, 7200},
	    {"Europe/Berlin", UTC(2027, 3, 28, 1, 0) - 1, UTC(2027, 3, 28, 1, 0), 3600, 7200},
	    {"Europe/Berlin", UTC(2027, 3, 28, 1, 0), UTC(2027, 10, 31, 1, 0), 7200, 3600},
	    {"Europe/Berlin", UTC(2027, 10, 31, 1, 0), UTC(2028, 3, 26, 1, 0), 3600, 7200},
	    {"Europe/Berlin", UTC(2027, 12, 24, 18, 0), UTC(2028, 3, 26, 1, 0), 3600, 7200},
	    {"America/New_York", UTC(2026, 1, 1, 0, 0), UTC(2026, 3, 8, 7, 0), -18000, -14400},
	    {"America/New_York", UTC(2026, 3, 8, 7, 0), UTC(2026, 11, 1, 6, 0), -14400, -18000},
	};
	changes_are(c, sizeof(c) / sizeof(c[0]));
}

/* Past the TZif table's last transition (2037 in Debian's files) the footer's TZ string rules. */
Test(timewin, offsets_and_changes_from_the_tz_string_footer)
{
	const struct change c[] = {
	    {"Europe/Berlin", UTC(2037, 12, 1, 0, 0), UTC(2038, 3, 28, 1, 0), 3600, 7200},
	    {"Europe/Berlin", UTC(2040, 3, 1, 0, 0), UTC(2040, 3, 25, 1, 0), 3600, 7200},
	    {"Europe/Berlin", UTC(2040, 3, 25, 1, 0), UTC(2040, 10, 28, 1, 0), 7200, 3600},
	    {"America/New_York", UTC(2050, 6, 1, 0, 0), UTC(2050, 11, 6, 6, 0), -14400, -18000},
	    /* negative DST: "IST-1GMT0,M10.5.0,M3.5.0/1" */
	    {"Europe/Dublin", UTC(2040, 1, 10, 0, 0), UTC(2040, 3, 25, 1, 0), 0, 3600},
	    /* the southern hemisphere: DST across the new year */
	    {"Australia/Sydney", UTC(2045, 1, 10, 0, 0), UTC(2045, 4, 1, 16, 0), 39600, 36000},
	};
	changes_are(c, sizeof(c) / sizeof(c[0]));
	cr_assert_eq(tw_offset("Europe/Berlin", UTC(2400, 7, 1, 0, 0)), 7200);
}

Test(timewin, zones_without_dst)
{
	int64_t t = UTC(2026, 6, 1, 0, 0);
	cr_assert_eq(tw_offset("UTC", t), 0);
	cr_assert_eq(tw_next_change("UTC", t), INT64_MAX);
	cr_assert_eq(tw_offset("Asia/Kolkata", t), 19800);
	cr_assert_eq(tw_offset("Asia/Kolkata", UTC(2045, 1, 1, 0, 0)), 19800);
	cr_assert_eq(tw_next_change("Asia/Kolkata", t), INT64_MAX);
	cr_assert_eq(tw_next_change("Asia/Kolkata", UTC(2045, 1, 1, 0, 0)), INT64_MAX);
	/* a change further than 400 days away is none: Kolkata went from +06:30 to +05:30 on
	 * 1945-10-14, three years after its change before */
	int64_t ist = UTC(1945, 10, 14, 17, 30);
	cr_assert_eq(tw_offset("Asia/Kolkata", ist - 1), 23400);
	cr_assert_eq(tw_next_change("Asia/Kolkata", ist - 400 * DAY), ist);
	cr_assert_eq(tw_next_change("Asia/Kolkata", ist - 400 * DAY - 1), INT64_MAX);
	/* errors */
	cr_assert_eq(tw_offset("Nowhere/Zone", t), 0);
	cr_assert_eq(tw_offset("../../etc/passwd", t), 0);
	cr_assert_eq(tw_next_change("Nowhere/Zone", t), INT64_MAX);
	cr_assert_eq(tw_next_change("Europe/Berlin", INT64_MAX), INT64_MAX);
	cr_assert_eq(tw_offset("Europe/Berlin", INT64_MIN),
		     tw_offset("Europe/Berlin", -(INT64_C(1) << 40)));
}

/* The intervals of [from, to) are exactly want[]; tw_contains agrees at every edge (but those
 * of the clipping). */
static void intervals_are(const struct tw_window *w, int64_t from, int64_t to,
			  const struct tw_interval *want, size_t n)
{
	struct tw_interval got[16];
	char text[128];
	tw_format(w, text, sizeof(text));
	long k = tw_intervals(w, from, to, got, 16);
	cr_assert_eq(k, (long)n, "%s: %ld intervals, want %zu", text, k, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(got[i].first, want[i].first,
			     "%s [%zu].first %" PRId64 " want %" PRId64, text, i, got[i].first,
			     want[i].first);
		cr_assert_eq(got[i].last, want[i].last, "%s [%zu].last %" PRId64 " want %" PRId64,
			     text, i, got[i].last, want[i].last);
		cr_assert(want[i].first == from || !tw_contains(w, want[i].first - 1), "%s", text);
		cr_assert(tw_contains(w, want[i].first), "%s", text);
		cr_assert(tw_contains(w, want[i].last), "%s", text);
		cr_assert(want[i].last == to - 1 || !tw_contains(w, want[i].last + 1), "%s", text);
	}
}

/* The interval [a, b) of instants. */
#define IV(a, b)                                                                                   \
	{                                                                                          \
		(a), (b)-1                                                                         \
	}

Test(timewin, window_across_midnight)
{
	struct tw_window w = win("fri", "22:00-02:00", "Europe/Berlin");
	cr_assert(tw_contains(&w, UTC(2026, 6, 5, 23, 30)), "Sat 01:30 CEST");
	cr_assert(!tw_contains(&w, UTC(2026, 6, 5, 0, 0)), "Fri 02:00 CEST");
	cr_assert(!tw_contains(&w, UTC(2026, 6, 4, 23, 30)), "Fri 01:30 CEST: thu is not a day");
	cr_assert(!tw_contains(&w, UTC(2026, 6, 6, 20, 30)), "Sat 22:30 CEST");
	struct tw_interval one[] = {IV(UTC(2026, 6, 5, 20, 0), UTC(2026, 6, 6, 0, 0))};
	intervals_are(&w, UTC(2026, 6, 1, 0, 0), UTC(2026, 6, 8, 0, 0), one, 1);
	/* the week's end: Sunday night into Monday */
	w = win("sun", "23:00-01:00", "UTC");
	cr_assert(tw_contains(&w, UTC(2026, 6, 8, 0, 30)), "Mon 00:30");
	cr_assert(!tw_contains(&w, UTC(2026, 6, 9, 0, 30)), "Tue 00:30");
	/* clipped to [from, to); a whole day's windows merge */
	w = win("mon-fri", "09:00-17:00", "UTC");
	struct tw_interval clipped[] = {IV(UTC(2026, 6, 1, 12, 0), UTC(2026, 6, 1, 17, 0)),
					IV(UTC(2026, 6, 2, 9, 0), UTC(2026, 6, 2, 10, 0))};
	intervals_are(&w, UTC(2026, 6, 1, 12, 0), UTC(2026, 6, 2, 10, 0), clipped, 2);
	w = win("daily", "00:00-24:00", "Europe/Berlin");
	struct tw_interval all[] = {IV(UTC(2026, 3, 27, 0, 0), UTC(2026, 4, 2, 0, 0))};
	intervals_are(&w, all[0].first, all[0].last + 1, all, 1);
	w = win("sat", "12:00-12:01", "Europe/Berlin");
	struct tw_interval sats[] = {IV(UTC(2026, 3, 28, 11, 0), UTC(2026, 3, 28, 11, 1)),
				     IV(UTC(2026, 4, 4, 10, 0), UTC(2026, 4, 4, 10, 1))};
	intervals_are(&w, UTC(2026, 3, 23, 0, 0), UTC(2026, 4, 6, 0, 0), sats, 2);
}

/* A window ("DAYS HOURS ZONE") and the instants it holds around a night the clock jumps: none,
 * [a0, b0), or [a0, b0) and [a1, b1) (b1 == 0: only one). */
struct night {
	const char *spec;
	int64_t a0, b0, a1, b1;
};

static void nights_are(const struct night *c, size_t n, int64_t from, int64_t to)
{
	for (size_t i = 0; i < n; i++) {
		char days[16], hours[16], tz[TW_TZ_MAX];
		cr_assert_eq(sscanf(c[i].spec, "%15s %15s %63s", days, hours, tz), 3);
		struct tw_window w = win(days, hours, tz);
		struct tw_interval iv[] = {IV(c[i].a0, c[i].b0), IV(c[i].a1, c[i].b1)};
		intervals_are(&w, from, to, iv, !c[i].b0 ? 0 : !c[i].b1 ? 1 : 2);
	}
}

/* Spring forward: Berlin 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC); New York 2026-03-08
 * 02:00 EST -> 03:00 EDT (07:00 UTC). The local times of the gap do not exist. */
Test(timewin, spring_forward_nights)
{
	const struct night berlin[] = {
	    /* starts in the gap: at the jump */
	    {"sun 02:30-04:00 Europe/Berlin", UTC(2026, 3, 29, 1, 0), UTC(2026, 3, 29, 2, 0), 0, 0},
	    /* ends in the gap: at the jump */
	    {"sat 23:00-02:30 Europe/Berlin", UTC(2026, 3, 28, 22, 0), UTC(2026, 3, 29, 1, 0), 0,
	     0},
	    /* wholly in the gap: never */
	    {"sun 02:00-03:00 Europe/Berlin", 0, 0, 0, 0},
	    /* two hours, not three */
	    {"sun 01:00-04:00 Europe/Berlin", UTC(2026, 3, 29, 0, 0), UTC(2026, 3, 29, 2, 0), 0, 0},
	};
	nights_are(berlin, 4, UTC(2026, 3, 27, 0, 0), UTC(2026, 3, 31, 0, 0));
	const struct night ny[] = {
	    {"sun 02:15-02:45 America/New_York", 0, 0, 0, 0},
	    {"sun 02:00-03:00 America/New_York", 0, 0, 0, 0},
	    /* three and a half hours, not four and a half */
	    {"sat 23:00-03:30 America/New_York", UTC(2026, 3, 8, 4, 0), UTC(2026, 3, 8, 7, 30), 0,
	     0},
	};
	nights_are(ny, 3, UTC(2026, 3, 6, 0, 0), UTC(2026, 3, 10, 0, 0));
}

/* Fall back: Berlin 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC); New York 2026-11-01
 * 02:00 EDT -> 01:00 EST (06:00 UTC). The repeated local times count both times. */
Test(timewin, fall_back_nights)
{
	const struct night berlin[] = {
	    {"sun 02:00-02:30 Europe/Berlin", UTC(2026, 10, 25, 0, 0), UTC(2026, 10, 25, 0, 30),
	     UTC(2026, 10, 25, 1, 0), UTC(2026, 10, 25, 1, 30)},
	    {"sun 01:00-02:30 Europe/Berlin", UTC(2026, 10, 24, 23, 0), UTC(2026, 10, 25, 0, 30),
	     UTC(2026, 10, 25, 1, 0), UTC(2026, 10, 25, 1, 30)},
	    /* seven hours, not six */
	    {"sat 22:00-04:00 Europe/Berlin", UTC(2026, 10, 24, 20, 0), UTC(2026, 10, 25, 3, 0), 0,
	     0},
	    /* both hours, merged at the jump */
	    {"sun 02:00-03:00 Europe/Berlin", UTC(2026, 10, 25, 0, 0), UTC(2026, 10, 25, 2, 0), 0,
	     0},
	};
	nights_are(berlin, 4, UTC(2026, 10, 23, 0, 0), UTC(2026, 10, 27, 0, 0));
	const struct night ny[] = {
	    {"sun 01:30-02:00 America/New_York", UTC(2026, 11, 1, 5, 30), UTC(2026, 11, 1, 6, 0),
	     UTC(2026, 11, 1, 6, 30), UTC(2026, 11, 1, 7, 0)},
	    {"sun 00:00-03:00 America/New_York", UTC(2026, 11, 1, 4, 0), UTC(2026, 11, 1, 8, 0), 0,
	     0},
	    {"sat 22:00-01:15 America/New_York", UTC(2026, 11, 1, 2, 0), UTC(2026, 11, 1, 5, 15),
	     UTC(2026, 11, 1, 6, 0), UTC(2026, 11, 1, 6, 15)},
	};
	nights_are(ny, 3, UTC(2026, 10, 30, 0, 0), UTC(2026, 11, 3, 0, 0));
}

Test(timewin, intervals_sizing_and_errors)
{
	struct tw_window w = win("mon-fri", "09:00-17:00", "Europe/Berlin");
	int64_t from = UTC(2026, 6, 1, 0, 0), to = UTC(2026, 7, 1, 0, 0);
	cr_assert_eq(tw_intervals(&w, from, to, NULL, 0), 22);
	struct tw_interval iv[3] = {{0, 0}, {0, 0}, {-1, -1}};
	cr_assert_eq(tw_intervals(&w, from, to, iv, 2), 22);
	cr_assert_eq(iv[1].first, UTC(2026, 6, 2, 7, 0));
	cr_assert_eq(iv[2].first, -1, "nothing past max");
	cr_assert_eq(tw_intervals(&w, to, from, iv, 2), 0);
	cr_assert_eq(tw_intervals(&w, from, from, iv, 2), 0);
	cr_assert_eq(tw_intervals(&w, from, to, NULL, 1), -EINVAL);
	struct tw_window bad = w;
	bad.start = 1440;
	cr_assert_eq(tw_intervals(&bad, from, to, NULL, 0), -EINVAL);
	cr_assert(!tw_contains(&bad, UTC(2026, 6, 1, 9, 0)));
	bad = w;
	bad.end = 0;
	cr_assert_eq(tw_intervals(&bad, from, to, NULL, 0), -EINVAL);
	bad = w;
	memset(bad.tz, 'A', sizeof(bad.tz));
	cr_assert_eq(tw_intervals(&bad, from, to, NULL, 0), -EINVAL);
	bad = w;
	strcpy(bad.tz, "Nowhere/Zone");
	cr_assert_eq(tw_intervals(&bad, from, to, NULL, 0), -ENOENT);
	cr_assert(!tw_contains(&bad, UTC(2026, 6, 1, 9, 0)));
	strcpy(bad.tz, "../../../etc/passwd");
	cr_assert_eq(tw_intervals(&bad, from, to, NULL, 0), -EINVAL);
	strcpy(bad.tz, "right/UTC");
	cr_assert_eq(tw_intervals(&bad, from, to, NULL, 0), -ENOTSUP);
	strcpy(bad.tz, "leapseconds");
	cr_assert_eq(tw_intervals(&bad, from, to, NULL, 0), -EBADMSG);
	/* end == start in a struct made by hand: 24 hours */
	struct tw_window day = {.days = 1, .start = 600, .end = 600, .tz = "UTC"};
	struct tw_interval want[] = {IV(UTC(2026, 6, 1, 10, 0), UTC(2026, 6, 2, 10, 0))};
	intervals_are(&day, from, UTC(2026, 6, 8, 0, 0), want, 1);
	/* the ends of time */
	cr_assert(!tw_contains(&w, INT64_MAX));
	cr_assert(!tw_contains(&w, INT64_MIN));
	cr_assert_geq(tw_intervals(&w, INT64_MAX - DAY, INT64_MAX, NULL, 0), 0);
	cr_assert_geq(tw_intervals(&w, INT64_MIN, INT64_MIN + DAY, NULL, 0), 0);
}

/* ---- the property and the oracle ---- */

static const char *const zones[] = {
    "Europe/Berlin",	"America/New_York",    "Asia/Kolkata",	   "UTC",
    "Australia/Sydney", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham",
    "Europe/Dublin",	"Africa/Casablanca",   "Antarctica/Troll", "America/Santiago",
    "Asia/Tehran",	"America/Sao_Paulo",
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

struct probe {
	struct tw_window w;
	int64_t t;
	int off;
	bool in;
};

static uint64_t below(struct xoshiro *r, uint64_t n)
{
	return xoshiro_next(r) % n;
}

/* A random window; half the times on the half hour, where the clock jumps. */
static struct tw_window random_window(struct xoshiro *r)
{
	struct tw_window w = {.days = 1 + below(r, 127)};
	w.start = below(r, 2) ? below(r, 1440) : below(r, 48) * 30;
	w.end = below(r, 2) ? 1 + below(r, 1440) : 30 + below(r, 48) * 30;
	strcpy(w.tz, zones[below(r, NZONES)]);
	return w;
}

/* A random instant of [lo, hi); half of them within three hours of a change of offset. */
static int64_t random_instant(struct xoshiro *r, const char *tz, int64_t lo, int64_t hi)
{
	int64_t t = lo + (int64_t)below(r, hi - lo);
	if (below(r, 2))
		return t;
	int64_t next = tw_next_change(tz, t);
	return next == INT64_MAX ? t : next - 3 * 3600 + (int64_t)below(r, 6 * 3600);
}

/* tw_contains(t) is membership in tw_intervals(t - 8 days, t + 8 days), whose intervals are in
 * order, apart, and inside the span. */
static void agrees_with_intervals(const struct tw_window *w, int64_t t)
{
	struct tw_interval iv[64];
	long n = tw_intervals(w, t - 8 * DAY, t + 8 * DAY, iv, 64);
	cr_assert(n >= 0 && n <= 64, "%ld", n);
	cr_assert_eq(tw_intervals(w, t - 8 * DAY, t + 8 * DAY, NULL, 0), n);
	bool member = false;
	for (long i = 0; i < n; i++) {
		cr_assert_leq(iv[i].first, iv[i].last);
		cr_assert(i == 0 || iv[i].first > iv[i - 1].last + 1, "not merged or out of order");
		member |= iv[i].first <= t && t <= iv[i].last;
	}
	cr_assert(n == 0 || (iv[0].first >= t - 8 * DAY && iv[n - 1].last < t + 8 * DAY));
	char text[128];
	tw_format(w, text, sizeof(text));
	cr_assert_eq(tw_contains(w, t), member, "%s at %" PRId64 ": tw_contains %d, intervals %d",
		     text, t, !member, member);
}

/* Python's answers for the probes, compared line by line. */
static void oracle_agrees(const struct probe *p, size_t n)
{
	cr_assert_eq(
	    tu_run("python3 -c 'import zoneinfo' >/dev/null 2>&1"), 0,
	    "python3 with zoneinfo is needed for the oracle (scripts/deps.sh installs it)");
	char *dir = tu_tmpdir();
	cr_assert_not_null(dir);
	char path[4096], cmd[8192];
	snprintf(path, sizeof(path), "%s/probes", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %" PRId64 " %u %u %u\n", p[i].w.tz, p[i].t, p[i].w.days,
			p[i].w.start, p[i].w.end);
	cr_assert_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "python3 '%s' < '%s'", tu_path("tests/unit/timewin_oracle.py"),
		 path);
	FILE *py = popen(cmd, "r");
	cr_assert_not_null(py);
	size_t got = 0, wrong = 0;
	int off, in;
	while (got < n && fscanf(py, "%d %d", &off, &in) == 2) {
		if (off != p[got].off || in != p[got].in) {
			char text[128];
			tw_format(&p[got].w, text, sizeof(text));
			if (wrong++ < 10)
				cr_log_error("%s at %" PRId64 ": offset %d in %d, python %d %d",
					     text, p[got].t, p[got].off, p[got].in, off, in);
		}
		got++;
	}
	cr_assert_eq(pclose(py), 0, "the oracle failed");
	tu_rmdir(dir);
	free(dir);
	cr_assert_eq(got, n, "the oracle answered %zu of %zu", got, n);
	cr_assert_eq(wrong, 0, "%zu of %zu probes differ from python's zoneinfo", wrong, n);
}

/* n random probes over [lo, hi): every one checked against tw_intervals, every k-th (and the
 * instants of its next change) against the oracle. */
static void property(uint64_t seed, int64_t lo, int64_t hi, size_t n, size_t k)
{
	struct xoshiro r;
	xoshiro_seed(&r, seed);
	struct probe *p = calloc(3 * (n / k + 1), sizeof(*p));
	cr_assert_not_null(p);
	size_t np = 0;
	for (size_t i = 0; i < n; i++) {
		struct tw_window w = random_window(&r);
		int64_t t = random_instant(&r, w.tz, lo, hi);
		agrees_with_intervals(&w, t);
		if (i % k)
			continue;
		int64_t next = tw_next_change(w.tz, t);
		int64_t at[3] = {t, next - 1, next};
		for (size_t j = 0; j < (next == INT64_MAX ? 1u : 3u); j++)
			p[np++] = (struct probe){w, at[j], tw_offset(w.tz, at[j]),
						 tw_contains(&w, at[j])};
		if (next != INT64_MAX) {
			cr_assert_gt(next, t);
			cr_assert_leq(next, t + 400 * DAY);
			cr_assert_eq(tw_offset(w.tz, next - 1), tw_offset(w.tz, t));
			cr_assert_neq(tw_offset(w.tz, next), tw_offset(w.tz, t));
		}
	}
	oracle_agrees(p, np);
	free(p);
}

Test(timewin, property_2026_to_2028_against_intervals_and_zoneinfo, .timeout = 600)
{
	property(20260329, UTC(2026, 1, 1, 0, 0), UTC(2029, 1, 1, 0, 0), 10000, 5);
}

Test(timewin, property_past_the_tables_against_zoneinfo, .timeout = 600)
{
	property(20381019, UTC(2038, 1, 1, 0, 0), UTC(2046, 1, 1, 0, 0), 2000, 2);
}
