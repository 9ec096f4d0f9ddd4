#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The oracle of test_timewin.c: Python's zoneinfo (PEP 615) and datetime read
the wall clock of an instant, and the window rule of core/timewin.h is applied
to that clock reading, written again here without the C code's arithmetic.

stdin: one "ZONE T DAYS START END" a line (T Unix seconds, DAYS the bit mask
Monday = bit 0, START and END minutes as in struct tw_window).
stdout: one "OFFSET IN" a line (OFFSET seconds east, IN 0 or 1).
"""
import sys
from datetime import datetime
from zoneinfo import ZoneInfo


def inside(clock, days, start, end):
    """Did an occurrence start today or yesterday and not yet end?"""
    sod = clock.hour * 3600 + clock.minute * 60 + clock.second
    stop = (end + 1440 if end <= start else end) * 60
    today = clock.weekday()
    yesterday = (today - 1) % 7
    return (days >> today & 1 and start * 60 <= sod < stop) or (
        days >> yesterday & 1 and sod + 86400 < stop
    )


def main():
    zones = {}
    for line in sys.stdin:
        name, t, days, start, end = line.split()
        zone = zones.setdefault(name, ZoneInfo(name))
        clock = datetime.fromtimestamp(int(t), zone)
        offset = int(clock.utcoffset().total_seconds())
        print(offset, int(bool(inside(clock, int(days), int(start), int(end)))))


if __name__ == "__main__":
    main()
