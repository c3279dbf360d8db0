"""HSDS schedules as one OpenStreetMap `opening_hours` expression per service.

This module owns reading the schedule rows of every HSDS version: 1.x `regular_schedules`
(one `weekday` a row: 1..7 with 1 = Monday as HSDS 1.1.1 defines it, or a day's English name
or its abbreviation) and `holiday_schedules` (dated closures or dated times), 2.0 and 3.x
`schedules` (RFC 5545-style `freq`/`byday`, optionally bounded by `valid_from`/`valid_to`);
and the times real exports write ("9:00am", "9 am", "830am", "0730", "19:30:00",
"09:00-05:00": an offset is dropped, times are local).

Weekly rows become rules such as "Mo-Fr 09:00-17:00"; dated rows follow them so they win on
their dates. A row that cannot be read leaves the whole service's hours unknown (""), never
only that row: leaving out one row would turn its day into a definite "closed", which is a
wrong answer. Each such row gives a `Note` (a warning at FILE:ROW: FIELD).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from directory.i18n import N_

Rows = Sequence[tuple[int, Mapping[str, str]]]  # (line, row)

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_BYDAY = {"MO": "Mo", "TU": "Tu", "WE": "We", "TH": "Th", "FR": "Fr", "SA": "Sa", "SU": "Su"}
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ALIASES = {"weds": "We", "thu": "Th", "thurs": "Th", "tues": "Tu"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}

_AMPM = r"(?P<ampm>[ap])\.?(?:m\.?)?"
_ZONE = r"(?P<zone>z|[+-](?:0\d|1[0-4])(?::?[0-5]\d)?)"
_CLOCK = re.compile(rf"(?P<h>\d{{1,2}})(?::(?P<m>\d{{2}})(?::(?P<s>\d{{2}})(?:\.\d+)?)?)?"
                    rf"(?:\s*{_AMPM}|\s*{_ZONE})?", re.I)
_MISSING = N_("missing; the hours of this service are left unknown")
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


@dataclass(frozen=True)
class Note:
    """Why a schedule row could not be read: a warning at FILE:ROW: FIELD."""

    file: str
    row: int
    field_name: str
    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)


class _Unreadable(Exception):
    def __init__(self, field_name: str, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.field = field_name
        self.msgid = msgid
        self.params = params


@dataclass
class Converted:
    """One service's hours: the expression ("" = unknown) and the rows that could not be read."""

    expression: str
    notes: list[Note]


@dataclass
class _Rules:
    weekly: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    dated: list[str] = field(default_factory=list)
    dated_open: bool = False  # a dated rule opens (else all dated rules are closures)


def convert(rows: Rows, file: str, holidays: Rows = (),
            holiday_file: str = "holiday_schedules.csv") -> Converted:
    """The rows of one service (weekly, then 1.x holidays) as one expression."""
    rules = _Rules()
    notes: list[Note] = []
    for rows_of, name, read in ((rows, file, _weekly_row), (holidays, holiday_file,
                                                            _holiday_row)):
        for line, row in rows_of:
            try:
                read(row, rules)
            except _Unreadable as why:
                notes.append(Note(name, line, why.field, why.msgid, why.params))
    if notes:
        return Converted("", notes)
    return Converted(_expression(rules, closures_only_unknown=bool(holidays)), notes)


def schedule_to_opening_hours(rows: Rows, holidays: Rows = ()) -> str:
    """Schedule rows (`schedules.csv`, or 1.x `regular_schedules.csv` when they have a
    `weekday`) as one expression; "" when any row cannot be read."""
    return convert(rows, "schedules.csv", holidays).expression


def _weekly_row(row: Mapping[str, str], rules: _Rules) -> None:
    if "weekday" in row:
        day = parse_weekday(row["weekday"])
        if day is None:
            raise _Unreadable("weekday", N_(
                "%(value)r is not a weekday (1 = Monday to 7 = Sunday, or its name); the "
                "hours of this service are left unknown"), value=row["weekday"])
        rules.weekly[day].append(_span(row, "opens_at", "closes_at"))
        return
    _rrule_only_weekly(row)
    days = _byday(row.get("byday", ""))
    valid_from, valid_to = _date(row, "valid_from"), _date(row, "valid_to")
    if valid_from is None and valid_to is None:
        if not days:
            raise _Unreadable("byday", _MISSING)
        for day in days:
            rules.weekly[day].append(_span(row, "opens_at", "closes_at"))
        return
    selector = f"{_osm_date(valid_from or date(2000, 1, 1))}-" \
               f"{_osm_date(valid_to or date(2099, 12, 31))}"
    day_part = f" {','.join(days)}" if days else ""
    if row.get("opens_at", "").strip() or row.get("closes_at", "").strip():
        opens, closes = _span(row, "opens_at", "closes_at")
        rules.dated.append(f"{selector}{day_part} {opens}-{closes}")
        rules.dated_open = True
    else:
        rules.dated.append(f"{selector}{day_part} off")


def _rrule_only_weekly(row: Mapping[str, str]) -> None:
    freq = row.get("freq", "").strip().upper()
    if freq not in ("", "WEEKLY"):
        raise _Unreadable("freq", N_("only WEEKLY schedules are read, not %(value)s; the "
                                     "hours of this service are left unknown"), value=freq)
    interval = row.get("interval", "").strip()
    if interval and interval not in ("1", "1.0"):
        raise _Unreadable("interval", N_("every %(value)s weeks cannot be written as opening "
                                         "hours; the hours of this service are left unknown"),
                          value=interval)
    for name in ("byweekno", "bymonthday", "byyearday"):
        if row.get(name, "").strip():
            raise _Unreadable(name, N_("%(value)r cannot be written as opening hours; the "
                                       "hours of this service are left unknown"),
                              value=row[name].strip())


def _byday(text: str) -> list[str]:
    days: list[str] = []
    for part in text.upper().replace(" ", "").split(","):
        if part not in _BYDAY:
            if part:
                raise _Unreadable("byday", N_("%(value)r is not a weekday (MO to SU); the "
                                              "hours of this service are left unknown"),
                                  value=part)
            continue
        if _BYDAY[part] not in days:
            days.append(_BYDAY[part])
    return days


def _holiday_row(row: Mapping[str, str], rules: _Rules) -> None:
    """A 1.x holiday row: closed on its dates, or open at its times on them."""
    start = _date(row, "start_date")
    end = _date(row, "end_date") or start
    if end is None:
        raise _Unreadable("start_date", _MISSING)
    selector = f"{_osm_date(start or end)}-{_osm_date(end)}"
    closed = row.get("closed", "").strip().lower()
    if closed in _TRUE:
        rules.dated.append(f"{selector} off")
    elif closed in _FALSE:
        opens, closes = _span(row, "opens_at", "closes_at")
        rules.dated.append(f"{selector} {opens}-{closes}")
        rules.dated_open = True
    else:
        raise _Unreadable("closed", N_("%(value)r is not true or false; the hours of this "
                                       "service are left unknown"),
                          value=row.get("closed", "").strip())


def _date(row: Mapping[str, str], name: str) -> date | None:
    text = row.get(name, "").strip()
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        raise _Unreadable(name, N_("%(value)r is not a date (YYYY-MM-DD); the hours of this "
                                   "service are left unknown"), value=text)
    return day


def _span(row: Mapping[str, str], opens_name: str, closes_name: str) -> tuple[str, str]:
    opens, closes = _one_time(row, opens_name), _one_time(row, closes_name)
    for name, this, other in ((opens_name, opens, closes), (closes_name, closes, opens)):
        if this.form == "bare" and other.form == "12h":
            raise _Unreadable(name, N_("%(value)r has no am or pm, and the other time of the "
                                       "row has; the hours of this service are left unknown"),
                              value=row[name].strip())
    start, end = opens.text, closes.text
    if end == "00:00" or (start == "00:00" and end == "23:59"):
        end = "24:00"
    if start == end:
        raise _Unreadable(closes_name, N_("opens and closes at the same time (%(value)s); the "
                                          "hours of this service are left unknown"),
                          value=row[closes_name].strip())
    return start, end


def _one_time(row: Mapping[str, str], name: str) -> Time:
    text = row.get(name, "")
    if not text.strip():
        raise _Unreadable(name, _MISSING)
    time = parse_time(text)
    if time is None:
        raise _Unreadable(name, N_("%(value)r is not a time; the hours of this service are "
                                   "left unknown"), value=text.strip())
    return time


def _expression(rules: _Rules, closures_only_unknown: bool) -> str:
    """Weekly rules by day, grouped where days share their times, then the dated rules.

    Dated rules alone: a 3.x seasonal schedule opens only on its dates ("off" elsewhere),
    but closures alone (or 1.x holidays without weekly rows) say nothing about other days.
    """
    by_spans: dict[tuple[tuple[str, str], ...], list[str]] = defaultdict(list)
    for day in DAYS:
        if day in rules.weekly:
            by_spans[tuple(sorted(set(rules.weekly[day])))].append(day)
    weekly = [f"{_day_ranges(days)} {','.join(f'{a}-{b}' for a, b in spans)}"
              for spans, days in by_spans.items()]
    if not weekly:
        if not rules.dated or closures_only_unknown or not rules.dated_open:
            return ""
        weekly = ["off"]
    return "; ".join(weekly + rules.dated)


def _day_ranges(days: list[str]) -> str:
    """["Mo", "Tu", "We", "Fr"] -> "Mo-We,Fr": runs of three or more days as ranges."""
    runs: list[list[str]] = []
    for day in days:
        if runs and DAYS.index(day) == DAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(run) for run in runs)


def _osm_date(day: date) -> str:
    return f"{day.year} {_MONTHS[day.month - 1]} {day.day:02d}"
