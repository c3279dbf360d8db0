"""The days, dates and times of day HSDS schedule rows are written with, read as
OpenStreetMap writes them.

This module owns reading one value: a 1.x weekday (1..7 with 1 = Monday as HSDS 1.1.1
defines it, or a day's English name or its abbreviation), an ISO date, and the times real
exports write ("9:00am", "9 am", "830am", "0730", "19:30:00", "09:00-05:00": an offset is
dropped, times are local), each with how it was written (12-hour, 24-hour or a bare hour).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ALIASES = {"weds": "We", "thu": "Th", "thurs": "Th", "tues": "Tu"}

_AMPM = r"(?P<ampm>[ap])\.?(?:m\.?)?"
_ZONE = r"(?P<zone>z|[+-](?:0\d|1[0-4])(?::?[0-5]\d)?)"
_CLOCK = re.compile(rf"(?P<h>\d{{1,2}})(?::(?P<m>\d{{2}})(?::(?P<s>\d{{2}})(?:\.\d+)?)?)?"
                    rf"(?:\s*{_AMPM}|\s*{_ZONE})?", re.I)
_COMPACT = re.compile(rf"(?P<hm>\d{{3,4}})(?:\s*{_AMPM})?", re.I)


class Time(NamedTuple):
    """A time of day as OSM writes it, and how it was written: "12h" (with am/pm), "24h"
    (13:00, 07:30, 00:00) or "bare" (8:00: an hour 1..12 with no am/pm and no leading 0)."""

    text: str
    form: str


@lru_cache(maxsize=4096)  # an export writes few distinct times
def parse_time(text: str) -> Time | None:
    """A time in any form real exports use; None if it cannot be read safely."""
    value = " ".join(text.split()).lower()
    if value in ("noon", "midday"):
        return Time("12:00", "12h")
    if value == "midnight":
        return Time("00:00", "12h")
    match = _CLOCK.fullmatch(value)
    if match:
        hour_text, minute = match["h"], int(match["m"] or 0)
        if match["m"] is None and match["ampm"] is None:
            return None  # "9" alone: an hour, or a count of something?
        if match["s"] is not None and int(match["s"]) > 59:
            return None
    else:
        match = _COMPACT.fullmatch(value)
        if match is None:
            return None
        hour_text, minute = match["hm"][:-2], int(match["hm"][-2:])
    iso = hour_text.startswith("0") or bool(match.groupdict().get("s") or
                                            match.groupdict().get("zone"))
    return _time(int(hour_text), minute, match["ampm"], iso)


def _time(hour: int, minute: int, ampm: str | None, iso: bool) -> Time | None:
    """`iso`: written as ISO 8601 does (a leading zero, seconds or an offset): 24-hour."""
    if minute > 59:
        return None
    if ampm is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
        return Time(f"{hour:02d}:{minute:02d}", "12h")
    if hour > 24 or (hour == 24 and minute):
        return None
    form = "bare" if 1 <= hour <= 12 and not iso else "24h"
    return Time(f"{hour:02d}:{minute:02d}", form)


@lru_cache(maxsize=256)
def parse_weekday(text: str) -> str | None:
    """A 1.x weekday: 1..7 (1 = Monday), "Monday", "Tue", "thurs", "MO"; None if not one."""
    value = text.strip().lower().rstrip(".")
    if value.isdigit():
        number = int(value)
        return DAYS[number - 1] if 1 <= number <= 7 else None
    if value in _DAY_ALIASES:
        return _DAY_ALIASES[value]
    if len(value) < 2:
        return None
    return next((DAYS[i] for i, name in enumerate(_DAY_NAMES) if name.startswith(value)), None)


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
