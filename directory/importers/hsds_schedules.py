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

Reading one day, date or time is `hsds_times`'s; writing the rules for the spans read,
nights and seasons included, is `hsds_week`'s. This module owns reading the rows of one
service and the order of its rules.

A row that cannot be read leaves the whole service's hours unknown (""), never only that
row: leaving out one row would turn its day into a definite "closed", which is a wrong
answer. Each such row gives a `Note` (a warning at FILE:ROW: FIELD).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from directory.i18n import N_
from directory.importers.hsds_times import DAYS, Time, parse_date, parse_time, parse_weekday
from directory.importers.hsds_week import Season, Span, osm_date, season_rules, weekly_rules

__all__ = ["DAYS", "Converted", "Note", "Rows", "Time", "convert", "parse_date", "parse_time",
           "parse_weekday", "schedule_to_opening_hours"]

Rows = Sequence[tuple[int, Mapping[str, str]]]  # (line, row)

_BYDAY = {"MO": "Mo", "TU": "Tu", "WE": "We", "TH": "Th", "FR": "Fr", "SA": "Sa", "SU": "Su"}
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}
_MISSING = N_("missing; the hours of this service are left unknown")


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
    weekly: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    dated: list[str | Season] = field(default_factory=list)  # in row order: later wins
    seasons: dict[str, Season] = field(default_factory=dict)
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
    selector = f"{osm_date(valid_from or date(2000, 1, 1))}-" \
               f"{osm_date(valid_to or date(2099, 12, 31))}"
    day_part = f" {','.join(days)}" if days else ""
    if row.get("opens_at", "").strip() or row.get("closes_at", "").strip():
        opens, closes = _span(row, "opens_at", "closes_at")
        rules.dated_open = True
        if not days:
            rules.dated.append(f"{selector} {opens}-{closes}")
            return
        season = rules.seasons.get(selector)
        if season is None:
            season = rules.seasons[selector] = Season(selector)
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
    selector = f"{osm_date(start or end)}-{osm_date(end)}"
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
    weekly = weekly_rules(rules.weekly)
    if not weekly:
        if not rules.dated or closures_only_unknown or not rules.dated_open:
            return ""
        weekly = ["off"]
    dated = [rule for item in rules.dated
             for rule in ([item] if isinstance(item, str) else season_rules(item, rules.weekly))]
    return "; ".join(weekly + dated)
