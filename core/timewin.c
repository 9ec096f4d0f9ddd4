// SPDX-License-Identifier: MIT
/* Weekly time windows in a named zone, the zone read from its TZif file (timewin.h). */
#include "core/timewin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/grow.h"
#include "core/timefmt.h"

#define ZONEINFO  "/usr/share/zoneinfo"
#define DAY	  86400
#define T_LIMIT	  ((int64_t)1 << 40)
#define NO_CHANGE INT64_MAX
/* Real TZif files are a few KiB; a larger file is refused, not read. */
#define TZIF_MAX (1 << 20)

static int64_t floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* 0 = Monday ... 6 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t day)
{
	return (int)(day + 3 - floordiv(day + 3, 7) * 7);
}

/* The proleptic Gregorian year of a day counted from 1970-01-01
 * (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", civil_from_days). */
static int year_of(int64_t day)
{
	int64_t z = day + 719468;
	int64_t era = floordiv(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	return (int)(yoe + era * 400 + (mp >= 10));
}

/* ---- POSIX TZ strings (POSIX.1-2017 8.3; RFC 8536 3.3.1 widens the rule times) ---- */

struct tz_date {
	char kind; /* 'J': Jn, 1..365 without Feb 29; 'n': n, 0..365; 'M': Mm.w.d */
	int n, m, w, d;
	int32_t time; /* local seconds after midnight, -167h..167h */
};

struct tz_rule {
	int32_t std_off, dst_off; /* seconds east */
	bool dst;
	struct tz_date start, end;
};

static bool posix_num(const char **s, int lo, int hi, int *v)
{
	const char *p = *s;
	int n = 0, k = 0;
	for (; *p >= '0' && *p <= '9' && k < 4; p++, k++)
		n = n * 10 + (*p - '0');
	if (k == 0 || n < lo || n > hi)
		return false;
	*v = n;
	*s = p;
	return true;
}

/* [+-]hh[:mm[:ss]] with hours up to maxh, in seconds. */
static bool posix_time(const char **s, int maxh, int32_t *secs)
{
	int sign = 1, h, m = 0, sec = 0;
	if (**s == '+' || **s == '-')
		sign = *(*s)++ == '-' ? -1 : 1;
	if (!posix_num(s, 0, maxh, &h))
		return false;
	if (**s == ':') {
		++*s;
		if (!posix_num(s, 0, 59, &m))
			return false;
		if (**s == ':') {
			++*s;
			if (!posix_num(s, 0, 59, &sec))
				return false;
		}
	}
	*secs = sign * (h * 3600 + m * 60 + sec);
	return true;
}

static bool posix_name(const char **s)
{
	const char *p = *s;
	if (*p == '<') {
		for (p++; *p && *p != '>'; p++)
			if (!(*p == '+' || *p == '-' || (*p >= '0' && *p <= '9') ||
			      (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
				return false;
		if (*p != '>' || p - *s < 4)
			return false;
		*s = p + 1;
		return true;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	if (p - *s < 3)
		return false;
	*s = p;
	return true;
}

static bool posix_date(const char **s, struct tz_date *dt)
{
	memset(dt, 0, sizeof(*dt));
	if (**s == 'J') {
		++*s;
		dt->kind = 'J';
		if (!posix_num(s, 1, 365, &dt->n))
			return false;
	} else if (**s == 'M') {
		++*s;
		dt->kind = 'M';
		if (!posix_num(s, 1, 12, &dt->m) || *(*s)++ != '.' || !posix_num(s, 1, 5, &dt->w) ||
		    *(*s)++ != '.' || !posix_num(s, 0, 6, &dt->d))
			return false;
	} else {
		dt->kind = 'n';
		if (!posix_num(s, 0, 365, &dt->n))
			return false;
	}
	dt->time = 2 * 3600;
	if (**s == '/') {
		++*s;
		return posix_time(s, 167, &dt->time);
	}
	return true;
}

/* std offset [dst [offset] ,start[/time],end[/time]]; a DST name needs its rule. */
static bool posix_parse(const char *s, struct tz_rule *r)
{
	int32_t west;
	memset(r, 0, sizeof(*r));
	if (!posix_name(&s) || !posix_time(&s, 24, &west))
		return false;
	r->std_off = -west;
	if (!*s)
		return true;
	if (!posix_name(&s))
		return false;
	r->dst = true;
	r->dst_off = r->std_off + 3600;
	if (*s != ',') {
		if (!posix_time(&s, 24, &west))
			return false;
		r->dst_off = -west;
	}
	return *s++ == ',' && posix_date(&s, &r->start) && *s++ == ',' && posix_date(&s, &r->end) &&
	       !*s;
}

/* The instant a rule date falls on in year y, its time read with offset off. */
static int64_t rule_instant(const struct tz_date *dt, int y, int32_t off)
{
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int64_t day;
	if (dt->kind == 'J') {
		day = days_from_civil(y, 1, 1) + dt->n - 1 + (leap && dt->n >= 60);
	} else if (dt->kind == 'n') {
		day = days_from_civil(y, 1, 1) + dt->n;
	} else {
		int64_t first = days_from_civil(y, dt->m, 1);
		int64_t next =
		    dt->m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, dt->m + 1, 1);
		int sunday0 = (weekday(first) + 1) % 7;
		day = first + (dt->d - sunday0 + 7) % 7 + (int64_t)(dt->w - 1) * 7;
		while (day >= next)
			day -= 7;
	}
	return day * DAY + dt->time - off;
}

struct tz_event {
	int64_t at;
	int32_t off; /* in force from at on */
};

/*
 * The rule's changes in the years around t, in order. Each year's dates lie
 * within a week of that year (times up to 167 h), so years y-2..y+2 hold the
 * last change at or before t and the first after it. At the same instant an
 * end of DST sorts before a start (RFC 8536 3.3.1: DST all year).
 */
static size_t rule_events(const struct tz_rule *r, int64_t t, struct tz_event ev[10])
{
	int y = year_of(floordiv(t, DAY));
	size_t n = 0;
	for (int k = -2; k <= 2; k++) {
		ev[n++] = (struct tz_event){rule_instant(&r->end, y + k, r->dst_off), r->std_off};
		ev[n++] = (struct tz_event){rule_instant(&r->start, y + k, r->std_off), r->dst_off};
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			struct tz_event *a = &ev[j - 1], *b = &ev[j];
			if (a->at < b->at || (a->at == b->at && a->off == r->std_off))
				break;
			struct tz_event x = *a;
			*a = *b;
			*b = x;
		}
	return n;
}

/* ---- TZif files (RFC 8536) ---- */

struct tz {
	int64_t *at;  /* transitions, increasing */
	int32_t *off; /* the offset from at[i] on */
	size_t n;
	int32_t off0; /* before the first transition: time type 0 */
	bool rule;    /* the footer holds a TZ string: it governs from the last transition on */
	struct tz_rule r;
};

static void tz_free(struct tz *z)
{
	free(z->at);
	free(z->off);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static bool tz_name_ok(const char *name)
{
	size_t len = strnlen(name, TW_TZ_MAX);
	if (len == 0 || len == TW_TZ_MAX || name[0] == '/' || strstr(name, ".."))
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") ==
	       len;
}

/* RFC 8536 3.1-3.3: header, (v1 block,) data block, footer. */
static int tzif_parse(const unsigned char *b, size_t len, struct tz *z)
{
	if (len < 44 || memcmp(b, "TZif", 4) != 0)
		return -EBADMSG;
	bool v2 = b[4] >= '2';
	size_t tsz = 4;
	uint64_t isut = be32(b + 20), isstd = be32(b + 24), leap = be32(b + 28),
		 timecnt = be32(b + 32), typecnt = be32(b + 36), charcnt = be32(b + 40);
	const unsigned char *p = b + 44, *end = b + len;
	if (v2) {
		uint64_t v1 = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
		if (v1 + 44 > (uint64_t)(end - p))
			return -EBADMSG;
		p += v1;
		if (memcmp(p, "TZif", 4) != 0)
			return -EBADMSG;
		isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28);
		timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
		p += 44;
		tsz = 8;
	}
	if (leap)
		return -ENOTSUP;
	uint64_t need = timecnt * (tsz + 1) + typecnt * 6 + charcnt + isstd + isut;
	if (typecnt == 0 || (isstd && isstd != typecnt) || (isut && isut != typecnt) ||
	    need > (uint64_t)(end - p))
		return -EBADMSG;
	const unsigned char *times = p, *idx = p + timecnt * tsz, *types = idx + timecnt;
	for (uint64_t i = 0; i < typecnt; i++) {
		int32_t off = (int32_t)be32(types + 6 * i);
		if (off < -89999 || off > 93599)
			return -EBADMSG;
	}
	z->off0 = (int32_t)be32(types);
	if (timecnt) {
		z->at = malloc(timecnt * sizeof(*z->at));
		z->off = malloc(timecnt * sizeof(*z->off));
		if (!z->at || !z->off)
			return -ENOMEM;
	}
	for (uint64_t i = 0; i < timecnt; i++) {
		z->at[i] = tsz == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
		if (idx[i] >= typecnt || (i && z->at[i] <= z->at[i - 1]))
			return -EBADMSG;
		z->off[i] = (int32_t)be32(types + 6 * idx[i]);
	}
	z->n = timecnt;
	if (!v2)
		return 0;
	p += need;
	/* The footer: "\n" TZ string "\n"; an empty string means none. */
	char footer[128];
	const unsigned char *nl = p < end && *p == '\n' ? memchr(p + 1, '\n', end - p - 1) : NULL;
	if (!nl || (size_t)(nl - p - 1) >= sizeof(footer))
		return -EBADMSG;
	memcpy(footer, p + 1, nl - p - 1);
	footer[nl - p - 1] = 0;
	if (!footer[0])
		return 0;
	z->rule = true;
	return posix_parse(footer, &z->r) ? 0 : -EBADMSG;
}

/* 0, -EINVAL (a name that is no zone name), -ENOENT, -EBADMSG, -ENOTSUP (leap seconds),
 * -ENOMEM, or another error of reading the file. */
static int tz_load(const char *name, struct tz *z)
{
	memset(z, 0, sizeof(*z));
	if (strcmp(name, "UTC") == 0)
		return 0;
	if (!tz_name_ok(name))
		return -EINVAL;
	char path[sizeof(ZONEINFO) + TW_TZ_MAX];
	snprintf(path, sizeof(path), "%s/%s", ZONEINFO, name);
	unsigned char *buf = NULL;
	int err = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = errno == ENOTDIR ? -ENOENT : -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -ENOENT;
		goto out;
	}
	if (st.st_size > TZIF_MAX) {
		err = -EBADMSG;
		goto out;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			err = k < 0 ? -errno : -EBADMSG;
			goto out;
		}
		got += k;
	}
	err = tzif_parse(buf, got, z);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (err)
		tz_free(z);
	return err;
}

static int32_t tz_offset_at(const struct tz *z, int64_t t)
{
	t = t < -T_LIMIT ? -T_LIMIT : t > T_LIMIT ? T_LIMIT : t;
	if (z->n && t < z->at[z->n - 1]) {
		if (t < z->at[0])
			return z->off0;
		size_t lo = 0, hi = z->n - 1; /* at[lo] <= t < at[hi] */
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;
			if (z->at[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		return z->off[lo];
	}
	if (!z->rule)
		return z->n ? z->off[z->n - 1] : z->off0;
	if (!z->r.dst)
		return z->r.std_off;
	struct tz_event ev[10];
	size_t n = rule_events(&z->r, t, ev);
	int32_t off = ev[0].off;
	for (size_t i = 0; i < n && ev[i].at <= t; i++)
		off = ev[i].off;
	return off;
}

/* The first instant > t at which the table or the rule has an entry, or NO_CHANGE. */
static int64_t tz_next_event(const struct tz *z, int64_t t)
{
	if (t >= T_LIMIT)
		return NO_CHANGE;
	if (z->n && t < z->at[z->n - 1]) {
		size_t lo = 0, hi = z->n - 1; /* the first at[] > t is in [lo, hi] */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (z->at[mid] > t)
				hi = mid;
			else
				lo = mid + 1;
		}
		return z->at[lo];
	}
	if (!z->rule || !z->r.dst)
		return NO_CHANGE;
	struct tz_event ev[10];
	size_t n = rule_events(&z->r, t, ev);
	for (size_t i = 0; i < n; i++)
		if (ev[i].at > t)
			return ev[i].at;
	return NO_CHANGE;
}

/* The first instant in (t, limit] at which the offset differs from that at t, or NO_CHANGE. */
static int64_t tz_next_change(const struct tz *z, int64_t t, int64_t limit)
{
	int32_t cur = tz_offset_at(z, t);
	for (int64_t e = tz_next_event(z, t); e <= limit; e = tz_next_event(z, e))
		if (tz_offset_at(z, e) != cur)
			return e;
	return NO_CHANGE;
}

int tw_offset(const char *tz, int64_t t)
{
	struct tz z;
	if (!tz || tz_load(tz, &z) < 0)
		return 0;
	int off = tz_offset_at(&z, t);
	tz_free(&z);
	return off;
}

int64_t tw_next_change(const char *tz, int64_t t)
{
	struct tz z;
	if (!tz || t < -T_LIMIT || t >= T_LIMIT || tz_load(tz, &z) < 0)
		return NO_CHANGE;
	int64_t next = tz_next_change(&z, t, t + 400 * DAY);
	tz_free(&z);
	return next;
}

/* ---- windows ---- */

static bool window_ok(const struct tw_window *w)
{
	return w && w->start < 1440 && w->end >= 1 && w->end <= 1440 &&
	       memchr(w->tz, 0, sizeof(w->tz));
}

/* The occurrence's length end - start in seconds, past midnight when end <= start. */
static int64_t window_end(const struct tw_window *w)
{
	return (int64_t)(w->end <= w->start ? w->end + 1440 : w->end) * 60;
}

static bool starts_on(const struct tw_window *w, int64_t day)
{
	return w->days >> weekday(day) & 1;
}

/* Is local time s (seconds from 1970-01-01 00:00 local) in an occurrence? */
static bool local_in(const struct tw_window *w, int64_t s)
{
	int64_t day = floordiv(s, DAY), sec = s - day * DAY;
	int64_t from = (int64_t)w->start * 60, to = window_end(w);
	return (starts_on(w, day) && sec >= from && sec < to) ||
	       (starts_on(w, day - 1) && sec + DAY < to);
}

bool tw_contains(const struct tw_window *w, int64_t t)
{
	struct tz z;
	if (!window_ok(w) || t < -T_LIMIT || t > T_LIMIT || tz_load(w->tz, &z) < 0)
		return false;
	bool in = local_in(w, t + tz_offset_at(&z, t));
	tz_free(&z);
	return in;
}

/* Intervals merged as they come (in order), counted in full, the first max written. */
struct collect {
	struct tw_interval *out, cur;
	size_t max;
	long n;
	bool open;
};

static void collect_flush(struct collect *c)
{
	if (!c->open)
		return;
	if ((size_t)c->n < c->max)
		c->out[c->n] = c->cur;
	c->n++;
	c->open = false;
}

static void collect_add(struct collect *c, int64_t first, int64_t last)
{
	if (c->open && first <= c->cur.last + 1) {
		if (last > c->cur.last)
			c->cur.last = last;
		return;
	}
	collect_flush(c);
	c->cur = (struct tw_interval){first, last};
	c->open = true;
}

/* The instants of [a, b), all with offset off, whose local time is in an occurrence: the local
 * span [a + off, b + off) cut by each occurrence that can meet it, shifted back. */
static void collect_span(struct collect *c, const struct tw_window *w, int64_t a, int64_t b,
			 int32_t off)
{
	int64_t la = a + off, lb = b + off, from = (int64_t)w->start * 60, to = window_end(w);
	for (int64_t day = floordiv(la, DAY) - 1; day <= floordiv(lb - 1, DAY); day++) {
		if (!starts_on(w, day))
			continue;
		int64_t x = day * DAY + from, y = day * DAY + to;
		x = x > la ? x : la;
		y = y < lb ? y : lb;
		if (x < y)
			collect_add(c, x - off, y - off - 1);
	}
}

long tw_intervals(const struct tw_window *w, int64_t from, int64_t to, struct tw_interval *out,
		  size_t max)
{
	if (!window_ok(w) || (max && !out))
		return -EINVAL;
	from = from < -T_LIMIT ? -T_LIMIT : from;
	to = to > T_LIMIT + 1 ? T_LIMIT + 1 : to;
	if (from >= to)
		return 0;
	struct tz z;
	int err = tz_load(w->tz, &z);
	if (err < 0)
		return err;
	struct collect c = {.out = out, .max = max};
	for (int64_t a = from, b; a < to; a = b) {
		b = tz_next_change(&z, a, to - 1);
		b = b < to ? b : to;
		collect_span(&c, w, a, b, tz_offset_at(&z, a));
	}
	collect_flush(&c);
	tz_free(&z);
	return c.n;
}

/* ---- text ---- */

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* s as it may be shown in a one-line message: at most 64 bytes, control bytes as '?'. */
static const char *shown(const char *s, char buf[72])
{
	size_t i = 0;
	for (; s[i] && i < 64; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

static int fail(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errsize, const char *fmt, ...)
{
	if (err && errsize) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && memcmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* A day name at s (len bytes): its index, or -1 with the reason in err. */
static int parse_day(const char *days, const char *s, size_t len, char *err, size_t errsize)
{
	int i = day_index(s, len);
	if (i >= 0)
		return i;
	char word[16], show[72], wshow[72];
	snprintf(word, sizeof(word), "%.*s", (int)(len < 15 ? len : 15), s);
	const char *hint = diag_suggest(word, day_names, 7);
	/* "monday", "Tues": the first three letters name the day */
	bool word_of_letters =
	    len >= 3 && strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == len;
	for (int k = 0; !hint && word_of_letters && k < 7; k++)
		if (strncasecmp(word, day_names[k], 3) == 0)
			hint = day_names[k];
	if (len == 0)
		fail(err, errsize, "bad days '%s': empty day", shown(days, show));
	else if (hint)
		fail(err, errsize, "bad days '%s': unknown day '%s' (did you mean '%s'?)",
		     shown(days, show), shown(word, wshow), hint);
	else
		fail(err, errsize,
		     "bad days '%s': unknown day '%s' (expected mon tue wed thu fri sat sun, or "
		     "daily)",
		     shown(days, show), shown(word, wshow));
	return -1;
}

static int parse_days(const char *days, uint8_t *mask, char *err, size_t errsize)
{
	if (strcmp(days, "daily") == 0) {
		*mask = 0x7f;
		return 0;
	}
	if (!*days)
		return fail(err, errsize, "bad days '': expected daily or days like mon-fri,sun");
	*mask = 0;
	for (const char *p = days;;) {
		size_t len = strcspn(p, ","), dash = strcspn(p, "-,");
		int a = parse_day(days, p, dash < len ? dash : len, err, errsize), b = a;
		if (a < 0)
			return -EINVAL;
		if (dash < len &&
		    (b = parse_day(days, p + dash + 1, len - dash - 1, err, errsize)) < 0)
			return -EINVAL;
		for (int d = a;; d = (d + 1) % 7) {
			*mask |= 1 << d;
			if (d == b)
				break;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static bool two_digits(const char *s, int max, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return *v <= max;
}

static int parse_hours(const char *hours, uint16_t *start, uint16_t *end, char *err, size_t errsize)
{
	char show[72];
	int h1, m1, h2, m2;
	if (strlen(hours) != 11 || !two_digits(hours, 23, &h1) || hours[2] != ':' ||
	    !two_digits(hours + 3, 59, &m1) || hours[5] != '-' || !two_digits(hours + 6, 24, &h2) ||
	    hours[8] != ':' || !two_digits(hours + 9, 59, &m2) || (h2 == 24 && m2 != 0))
		return fail(err, errsize, "bad hours '%s': expected HH:MM-HH:MM",
			    shown(hours, show));
	if (h1 * 60 + m1 == h2 * 60 + m2)
		return fail(
		    err, errsize,
		    "bad hours '%s': start and end are the same time (a whole day is 00:00-24:00)",
		    hours);
	*start = h1 * 60 + m1;
	*end = h2 * 60 + m2 ? h2 * 60 + m2 : 1440;
	return 0;
}

/* The entry of dir (a directory when want_dir, else a file) that diag_suggest finds for word,
 * into best; its edit distance from word, or SIZE_MAX when there is none. */
static size_t closest_entry(const char *dir, const char *word, bool want_dir, char *best,
			    size_t size)
{
	DIR *d = opendir(dir);
	if (!d)
		return SIZE_MAX;
	char **names = NULL;
	size_t n = 0, cap = 0, dist = SIZE_MAX;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!tz_name_ok(e->d_name) || e->d_name[0] == '.' || stat(path, &st) < 0 ||
		    (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
			continue;
		if (grow_array(&names, &cap, n + 1, sizeof(*names)) < 0 ||
		    !(names[n] = strdup(e->d_name)))
			goto out;
		n++;
	}
	const char *hint = diag_suggest(word, (const char *const *)names, n);
	if (hint && strlen(hint) < size) {
		strcpy(best, hint);
		dist = diag_edit_distance(word, hint);
	}
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return dist;
}

/* A zone name close to name, component by component ("Eurpe/Berln": "Europe/Berlin"). */
static bool suggest_path(const char *name, char *hint, size_t size)
{
	char dir[PATH_MAX], part[TW_TZ_MAX], best[TW_TZ_MAX];
	size_t used = 0;
	snprintf(dir, sizeof(dir), "%s", ZONEINFO);
	for (const char *p = name;; p += strcspn(p, "/") + 1) {
		size_t len = strcspn(p, "/");
		bool last = !p[len];
		snprintf(part, sizeof(part), "%.*s", (int)len, p);
		if (closest_entry(dir, part, !last, best, sizeof(best)) == SIZE_MAX)
			return false;
		int k = snprintf(hint + used, size - used, "%s%s", used ? "/" : "", best);
		if (k < 0 || (size_t)k >= size - used)
			return false;
		used += k;
		if (last)
			return true;
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s", best);
	}
}

/* For a bare name, the closest city of any area ("Berlin": "Europe/Berlin"). */
static bool suggest_city(const char *name, char *hint, size_t size)
{
	char dir[PATH_MAX], best[TW_TZ_MAX];
	size_t bestd = SIZE_MAX;
	DIR *d = opendir(ZONEINFO);
	if (!d)
		return false;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "posix") == 0 ||
		    strcmp(e->d_name, "right") == 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", ZONEINFO, e->d_name);
		size_t dist = closest_entry(dir, name, false, best, sizeof(best));
		if (dist < bestd && snprintf(hint, size, "%s/%s", e->d_name, best) < (int)size)
			bestd = dist;
	}
	closedir(d);
	return bestd != SIZE_MAX;
}

/* A zone close to the unknown name that tw_parse accepts, into hint. */
static bool suggest_zone(const char *name, char *hint, size_t size)
{
	struct tz z;
	if (!suggest_path(name, hint, size) &&
	    (strchr(name, '/') || !suggest_city(name, hint, size)))
		return false;
	if (strcmp(hint, name) == 0 || tz_load(hint, &z) < 0)
		return false;
	tz_free(&z);
	return true;
}

static int check_zone(const char *tz, char *err, size_t errsize)
{
	char show[72], hint[TW_TZ_MAX * 2];
	size_t len = strlen(tz);
	if (!len)
		return fail(err, errsize,
			    "missing timezone: expected a name like Europe/Berlin or UTC");
	if (len >= TW_TZ_MAX)
		return fail(err, errsize, "bad timezone '%s': longer than %d characters",
			    shown(tz, show), TW_TZ_MAX - 1);
	if (!tz_name_ok(tz))
		return fail(err, errsize,
			    "bad timezone '%s': expected a name like Europe/Berlin (A-Za-z0-9_+-/, "
			    "no '..', no leading '/')",
			    shown(tz, show));
	struct tz z;
	int rc = tz_load(tz, &z);
	if (rc == 0) {
		tz_free(&z);
		return 0;
	}
	if (rc == -ENOENT && suggest_zone(tz, hint, sizeof(hint)))
		return fail(err, errsize, "unknown timezone '%s' (did you mean '%s'?)", tz, hint);
	if (rc == -ENOENT)
		return fail(err, errsize, "unknown timezone '%s'", tz);
	if (rc == -ENOTSUP)
		return fail(err, errsize, "timezone '%s' counts leap seconds: not supported", tz);
	if (rc == -EBADMSG)
		return fail(err, errsize, "timezone '%s': %s/%s is not a TZif file", tz, ZONEINFO,
			    tz);
	return fail(err, errsize, "timezone '%s': cannot read %s/%s: %s", tz, ZONEINFO, tz,
		    strerror(-rc));
}

int tw_parse(const char *days, const char *hours, const char *tz, struct tw_window *out, char *err,
	     size_t errsize)
{
	struct tw_window w = {0};
	if (err && errsize)
		err[0] = 0;
	if (!days || !hours || !tz || !out)
		return fail(err, errsize, "missing days, hours or timezone");
	if (parse_days(days, &w.days, err, errsize) < 0 ||
	    parse_hours(hours, &w.start, &w.end, err, errsize) < 0 ||
	    check_zone(tz, err, errsize) < 0)
		return -EINVAL;
	strcpy(w.tz, tz);
	*out = w;
	return 0;
}

void tw_format(const struct tw_window *w, char *buf, size_t size)
{
	char days[32] = "daily", *p = days;
	if ((w->days & 0x7f) != 0x7f) {
		days[0] = 0;
		for (int d = 0; d < 7;) {
			if (!(w->days >> d & 1)) {
				d++;
				continue;
			}
			int e = d;
			while (e < 6 && w->days >> (e + 1) & 1)
				e++;
			p += sprintf(p, "%s%s", p == days ? "" : ",", day_names[d]);
			if (e - d >= 2)
				p += sprintf(p, "-%s", day_names[e]);
			else
				e = d;
			d = e + 1;
		}
		if (p == days)
			strcpy(days, "none");
	}
	snprintf(buf, size, "%s %02d:%02d-%02d:%02d %.*s", days, w->start / 60, w->start % 60,
		 w->end / 60, w->end % 60, (int)strnlen(w->tz, TW_TZ_MAX), w->tz);
}
