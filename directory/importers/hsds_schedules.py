"""HSDS schedules as one OpenStreetMap `opening_hours` expression per service.

This module owns reading the schedule rows of every HSDS version: 1.x `regular_schedules`
(one `weekday` a row: 1..7 with 1 = Monday as HSDS 1.1.1 defines it, or a day's English name
or its abbreviation) and `holiday_schedules` (dated closures or dated times), 2.0 and 3.x
`schedules` (RFC 5545-style `freq`/`byday`, optionally bounded by `valid_from`/`valid_to`);
and the times real exports write ("9:00am", "9 am", "830am", "0730", "19:30:00",
"09:00-05:00": an offset is dropped, times are local).

Weekly rows become rules such as "Mo-Fr 09:00-17:00"; dated rows follow them so they win on
their dates. A row whose `closes_at` is earlier than its `opens_at` runs past midnight, whatever
the other days' hours: in OSM syntax a later `;` rule for a day replaces all of that day,
including the previous night's hours past midnight ("Mo-Fr 22:00-06:00; Sa 10:00-14:00" is
closed at 03:00 on Saturday), so where another day's rule would cut a night short, the hours
after midnight are written on the next day itself ("Mo 22:00-24:00; Tu-Fr 00:00-06:00,
22:00-24:00; Sa 00:00-06:00,10:00-14:00"). Rows of one season (3.x `valid_from`/`valid_to`
with `byday`) are one weekly schedule the same way, within their dates.

A row that cannot be read leaves the whole service's hours unknown (""), never only that
row: leaving out one row would turn its day into a definite "closed", which is a wrong
answer. Each such row gives a `Note` (a warning at FILE:ROW: FIELD).
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


Span = tuple[str, str]  # ("22:00", "06:00"): opens, closes ("24:00" for midnight)


@dataclass
class _Season:
    """Weekly rows valid between two dates (3.x `valid_from`/`valid_to` with `byday`)."""

    selector: str  # "2025 Jun 01-2025 Aug 31"
    weekly: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class _Rules:
    weekly: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    dated: list[str | _Season] = field(default_factory=list)  # in row order: later wins
    seasons: dict[str, _Season] = field(default_factory=dict)
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
        rules.dated_open = True
        if not days:
            rules.dated.append(f"{selector} {opens}-{closes}")
            return
        season = rules.seasons.get(selector)
        if season is None:
            season = rules.seasons[selector] = _Season(selector)
            rules.dated.append(season)
        for day in days:
            season.weekly[day].append((opens, closes))
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


def _span(row: Mapping[str, str], opens_name: str, closes_name: str) -> Span:
    opens, closes = _one_time(row, opens_name), _one_time(row, closes_name)
    for name, this, other in ((opens_name, opens, closes), (closes_name, closes, opens)):
        if this.form == "bare" and other.form == "12h":
            raise _Unreadable(name, N_("%(value)r has no am or pm, and the other time of the "
                                       "row has; the hours of this service are left unknown"),
                              value=row[name].strip())
    if opens.form == closes.form == "bare" and closes.text < opens.text:
        # "9:00" to "5:00": a 12-hour clock without am/pm, or a night shift? Never guess.
        raise _Unreadable(closes_name, N_("%(opens)s to %(value)s without am or pm could be a "
                                          "day or a night; the hours of this service are left "
                                          "unknown"),
                          opens=row[opens_name].strip(), value=row[closes_name].strip())
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
    weekly = _weekly_rules(rules.weekly)
    if not weekly:
        if not rules.dated or closures_only_unknown or not rules.dated_open:
            return ""
        weekly = ["off"]
    dated = [rule for item in rules.dated
             for rule in ([item] if isinstance(item, str) else _season_rules(item, rules.weekly))]
    return "; ".join(weekly + dated)


def _weekly_rules(spans_by_day: Mapping[str, list[Span]]) -> list[str]:
    """One rule per set of days that share their times ("Mo-Fr 09:00-17:00"), in week order.

    A night (closes before it opens) runs on into the next day. Where that day has a rule of
    its own, OSM ends the night at midnight unless the day's own hours cover it (and
    opening-hours-py does so even where the day's rule comes first), so every day's hours
    are then written out within the day, the nights' ends included.
    """
    spans = _by_day(spans_by_day)
    if _cut_nights(spans):
        spans = _within_days(spans)
    return _grouped(spans)


def _season_rules(season: _Season, weekly: Mapping[str, list[Span]]) -> list[str]:
    """The rules of one season, which replace the weekly hours of the days they name.

    Where a night meets the season (a night of the season's own, or a weekly night on a day
    the season names or before one) the season's whole week is written out within the days:
    the days it names with its hours, the others with their weekly hours, each night ending
    on the next day, and days with no hours "off", so that no rule before it matters there.
    """
    own = _by_day(season.weekly)
    regular = _by_day(weekly)
    meets = any(_has_night(spans) for spans in own.values()) or any(
        _has_night(spans) and (day in own or _next(day) in own)
        for day, spans in regular.items())
    if not meets:
        rules = _grouped(own)
    else:
        in_season = _within_days({day: own.get(day, regular.get(day, ())) for day in DAYS})
        rules = _grouped({day: in_season.get(day, ()) for day in DAYS})
    return [f"{season.selector} {rule}" for rule in rules]


def _by_day(spans_by_day: Mapping[str, list[Span]]) -> dict[str, tuple[Span, ...]]:
    return {day: tuple(sorted(set(spans_by_day[day]))) for day in DAYS if spans_by_day.get(day)}


def _grouped(spans: Mapping[str, tuple[Span, ...]]) -> list[str]:
    """Days that share their hours as one rule each, in the order of their first day; a day
    with no hours (written out only where it must be) is "off"."""
    by_spans: dict[tuple[Span, ...], list[str]] = defaultdict(list)
    for day in DAYS:
        if day in spans:
            by_spans[spans[day]].append(day)
    return [f"{_day_ranges(days)} "
            f"{','.join(f'{a}-{b}' for a, b in day_spans) if day_spans else 'off'}"
            for day_spans, days in by_spans.items()]


def _next(day: str) -> str:
    return DAYS[(DAYS.index(day) + 1) % 7]


def _has_night(spans: tuple[Span, ...]) -> bool:
    return any(_minutes(closes) < _minutes(opens) for opens, closes in spans)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _cut_nights(spans: Mapping[str, tuple[Span, ...]]) -> bool:
    """Whether a night runs into a day whose own rule (another one) would cut it: a rule that
    does not cover the night's hours, or one written before the night's own rule."""
    first_of: dict[tuple[Span, ...], int] = {}
    for index, day in enumerate(DAYS):
        if day in spans:
            first_of.setdefault(spans[day], index)
    for day, day_spans in spans.items():
        following = _next(day)
        if following not in spans or spans[following] == day_spans:
            continue  # no rule of its own for the next day, or the same rule
        for opens, closes in day_spans:
            if _minutes(closes) < _minutes(opens) and (
                    first_of[spans[following]] < first_of[day_spans]
                    or not _covered(spans[following], _minutes(closes))):
                return True
    return False


def _covered(day_spans: tuple[Span, ...], until: int) -> bool:
    """Whether a day's own hours cover it from midnight to `until` minutes."""
    reached = 0
    for opens, closes in sorted((_minutes(a), _minutes(b)) for a, b in day_spans):
        if opens > reached:
            break
        reached = max(reached, closes if closes > opens else 24 * 60)
    return reached >= until


def _within_days(spans: Mapping[str, tuple[Span, ...]]) -> dict[str, tuple[Span, ...]]:
    """Each day's hours with nights split at midnight, overlaps merged: "Mo 22:00-06:00"
    becomes "Mo 22:00-24:00" and "Tu 00:00-06:00"."""
    ranges: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for index, day in enumerate(DAYS):
        for opens, closes in spans.get(day, ()):
            start, end = _minutes(opens), _minutes(closes)
            if end > start:
                ranges[day].append((start, end))
                continue
            if start < 24 * 60:
                ranges[day].append((start, 24 * 60))
            if end > 0:
                ranges[DAYS[(index + 1) % 7]].append((0, end))
    merged: dict[str, tuple[Span, ...]] = {}
    for day in DAYS:
        joined: list[list[int]] = []
        for start, end in sorted(ranges.get(day, ())):
            if joined and start <= joined[-1][1]:
                joined[-1][1] = max(joined[-1][1], end)
            else:
                joined.append([start, end])
        if joined:
            merged[day] = tuple((_clock(start), _clock(end)) for start, end in joined)
    return merged


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
