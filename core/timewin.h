/* SPDX-License-Identifier: MIT */
/*
 * Weekly time windows in a named IANA timezone (a vendor's maintenance
 * window: "mon-fri 22:00-02:00 Europe/Berlin").
 *
 * Zones are read from the TZif files under /usr/share/zoneinfo (RFC 8536,
 * version 1 to 4; for instants past the last transition, the footer's POSIX
 * TZ string, POSIX.1-2017 8.3, with the RFC 8536 3.3.1 extensions). The zone
 * is read by hand, not through libc, because glibc can only convert in a
 * named zone by changing the process's TZ, which is neither thread-safe nor
 * free of global state. Every call reads the zone file afresh and keeps
 * nothing: the functions are reentrant and safe from any thread. To judge
 * many instants, ask tw_intervals once and search its answer.
 *
 * Local time. The local time of an instant t is t + tw_offset(tz, t), counted
 * in seconds from 1970-01-01 00:00 local; its day and clock reading follow
 * from that. A window's occurrence on local day D (a day in days) is the local
 * span [D start, D end) where end is read on day D + 1 when end <= start. An
 * instant is inside the window when its local time lies in an occurrence.
 * That one rule settles the days when the clock jumps:
 * - spring forward (the clock jumps from A to B): local times in [A, B) do
 *   not exist. An occurrence that starts in the gap starts at the instant of
 *   the jump; one that ends in the gap ends there (the last second before the
 *   jump is its last); one that lies wholly in the gap has no instants.
 * - fall back (the clock jumps from B back to A): the local times in [A, B)
 *   occur twice, and both count: a window 02:00-02:30 on that night holds
 *   twice, for half an hour each, in two UTC intervals; a window 01:00-02:30
 *   holds from the first 01:00 to the first 02:30, and again from the jump
 *   back to the second 02:30; a window 00:00-04:00 holds one interval, an
 *   hour longer than its four.
 * Instants are whole seconds; leap seconds are not counted (Unix time), and
 * zones that count them (the "right/" files) are refused. Instants beyond
 * +-2^40 s (about 34,800 years) are outside every window.
 */
#ifndef SEGPLAN_TIMEWIN_H
#define SEGPLAN_TIMEWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_TZ_MAX 64

struct tw_window {
	/* bit 0 = Monday ... bit 6 = Sunday: the days the window STARTS on */
	uint8_t days;
	/* minutes after local midnight, 0..1439 / 1..1440; end <= start: the window runs past
	 * midnight into the next day (end == start: 24 hours) */
	uint16_t start, end;
	/* IANA name, e.g. "Europe/Berlin", or "UTC" */
	char tz[TW_TZ_MAX];
};

/* An inclusive span of Unix seconds. */
struct tw_interval {
	int64_t first, last;
};

/*
 * Parses days, hours and a timezone name into *out (written only on success).
 * days: "daily", or a comma-separated list of days and ranges of days
 * ("mon-fri", "sat,sun", "mon,wed-fri"; lower case; a range may wrap over the
 * week's end: "fri-mon" is fri,sat,sun,mon). hours: "HH:MM-HH:MM" with two
 * digits each, start 00:00..23:59, end 00:00..24:00 (an end of 00:00 is
 * midnight, stored as 1440), start and end not the same clock time.
 * tz: "UTC", or the name of a TZif file under /usr/share/zoneinfo made of
 * A-Za-z0-9_+-/ with no "..", no leading '/', shorter than TW_TZ_MAX.
 * Returns 0, or -EINVAL with a one-line English reason in err (when err is
 * not NULL and errsize > 0), e.g. "unknown timezone 'Europe/Berln' (did you
 * mean 'Europe/Berlin'?)", "bad hours '25:00-02:00': expected HH:MM-HH:MM".
 */
int tw_parse(const char *days, const char *hours, const char *tz, struct tw_window *out, char *err,
	     size_t errsize);

/* The UTC offset (seconds east) in force in tz at Unix time t; 0 on error. */
int tw_offset(const char *tz, int64_t t);

/* The first instant > t at which tz's UTC offset changes, or INT64_MAX when
 * none within 400 days (t + 400 * 86400 included), and on error. A transition
 * that changes only the zone's abbreviation or DST flag is not a change. */
int64_t tw_next_change(const char *tz, int64_t t);

/* Is Unix time t inside the window, judged in local time with the offset in
 * force at t? A window that started on an allowed day before midnight and
 * runs past it still holds after midnight on the next day (fri 22:00-02:00
 * holds Saturday 01:00). False for a window with out-of-range fields or a
 * timezone that cannot be read. */
bool tw_contains(const struct tw_window *w, int64_t t);

/*
 * The instants of [from, to) inside the window, as inclusive UTC intervals in
 * increasing order, clipped to [from, to) and merged when adjacent (so two
 * intervals always have a gap between them). Exactly the instants for which
 * tw_contains is true: for every t in [from, to), tw_contains(w, t) equals "t
 * lies in one of the intervals" (in particular with from = t - 8 days and
 * to = t + 8 days). An occurrence that spans a change of offset is cut at the
 * real instants, so it may be shorter or longer than end - start, or come in
 * two pieces (see "Local time" above). Writes at most max intervals to out
 * (out may be NULL when max is 0) and returns how many there are in all;
 * -EINVAL for a window with out-of-range fields or a zone name tw_parse
 * refuses, -ENOENT when the zone file does not exist, -ENOTSUP for a zone
 * that counts leap seconds, -EBADMSG when it is not a usable TZif file,
 * -ENOMEM, or another negative errno of reading the file.
 */
long tw_intervals(const struct tw_window *w, int64_t from, int64_t to, struct tw_interval *out,
		  size_t max);

/* "mon-fri 22:00-02:00 Europe/Berlin": canonical text, which tw_parse reads
 * back to the same window: days in week order from Monday, three or more
 * consecutive ones as a range ("mon-wed,sat,sun"), "daily" for all seven; an
 * end of 1440 as 24:00. Truncated to size like snprintf. Windows tw_parse
 * cannot make print as they are and do not read back: no days as "none",
 * end == start as the same clock time twice. */
void tw_format(const struct tw_window *w, char *buf, size_t size);

#endif
