"""Nights that a later rule cuts short: a warning for hours written by people.

In OpenStreetMap's `opening_hours`, a rule that names a day replaces all of that day, including
the hours past midnight of an earlier rule's night: in `Mo-Fr 22:00-06:00; Sa 10:00-14:00`
Friday's night ends at midnight, and the place is closed at 03:00 on Saturday. That is how
the specification and opening-hours-py read it, and the import evaluates it as written, but a
person writing it rarely means it: `cancelled_nights` finds the days on which that happens, so
that the import can say so for the row.

It compares each rule that runs past midnight, evaluated alone, with that rule and the rules
after it: where the rule alone is open after midnight, continuing its night, and the rules
from it onwards are not, a later rule has cut the night. Only rules separated by `;` are
compared (`,` adds to a day without replacing it); the fallback rules after `||` are not. A
day is reported when the night before it is cut in most weeks of a year: a dated closure
(`Mo-Su 22:00-06:00; 2025 Dec 25 off`) cuts one night on purpose and is not reported.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from functools import lru_cache

import opening_hours
from opening_hours import OpeningHours
from opening_hours import State as _LibState

from directory.hours_rules import split_rules
from directory.i18n import N_, Message

WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
# Raised for expressions that do not parse; the package's stub does not declare it.
_ParserError: type[Exception] = opening_hours.ParserError  # type: ignore[attr-defined]
_RANGE = re.compile(r"(\d\d?):(\d\d)\s*-\s*(\d\d?):(\d\d)")
_COMMENT = re.compile(r'"[^"]*"')
_Interval = tuple[datetime, datetime, str]  # begin, end, comment

CANCELLED_NIGHTS = N_(
    "a later rule ends the night before %(days)s at midnight: in opening hours a rule for a "
    "day replaces that whole day, the previous night's hours past midnight included; "
    "evaluated as written (to keep the night, give its hours after midnight on that day too, "
    "e.g. \"Mo-Fr 22:00-06:00; Sa 00:00-06:00,10:00-14:00\")")


def cancelled_nights_message(days: list[str]) -> Message:
    """The import warning for the days `cancelled_nights` found."""
    return Message(CANCELLED_NIGHTS, {"days": ", ".join(days)})


def cancelled_nights(expression: str, year: int | None = None) -> list[str]:
    """The weekdays ("Sa") whose previous night, as an earlier rule gives it, a later rule
    ends at midnight, in week order; [] when there are none or the expression does not parse.

    `year`: the year whose weeks are compared (default: this year), for rules with dates.
    """
    return list(_cancelled(" ".join(expression.split()), year or date.today().year))


@lru_cache(maxsize=1024)  # a source repeats few distinct expressions
def _cancelled(expression: str, year: int) -> tuple[str, ...]:
    rules = _rules(expression)
    if len(rules) < 2 or not any(_wraps(rule) for rule in rules[:-1]):
        return ()
    start = datetime(year, 1, 1) - timedelta(days=date(year, 1, 1).weekday())
    end = start + timedelta(weeks=53)
    nights: Counter[int] = Counter()  # weekday -> nights running into it, by rule
    cut: Counter[int] = Counter()
    for index, rule in enumerate(rules[:-1]):
        if not _wraps(rule):
            continue
        alone = _compiled(rule)
        onwards = _compiled("; ".join(rules[index:]))
        if alone is None or onwards is None:
            return ()
        kept = _open(onwards, start, end)
        for begin, until, comment in _past_midnight(_open(alone, start, end)):
            nights[begin.weekday()] += 1
            if not _covered(kept, begin, until, comment):
                cut[begin.weekday()] += 1
    return tuple(WEEKDAYS[day] for day in range(7) if cut[day] and 2 * cut[day] > nights[day])


def _rules(expression: str) -> list[str]:
    """The `;` rules before any fallback (`||`), cut where opening_hours.js cuts them
    (`split_rules`); an additional rule after `, ` stays with the rule it adds to."""
    rules: list[str] = []
    for separator, rule in split_rules(expression):
        if separator == "||":
            break
        if separator == "," and rules:
            rules[-1] += ", " + rule
        else:
            rules.append(rule)
    return [rule for rule in rules if rule]


def _wraps(rule: str) -> bool:
    """Whether a rule has a time range running past midnight (`22:00-06:00`, `20:00-26:00`)."""
    for h1, m1, h2, m2 in _RANGE.findall(_COMMENT.sub('""', rule)):
        opens, closes = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
        if closes <= opens or closes > 24 * 60:
            return True
    return False


def _compiled(expression: str) -> OpeningHours | None:
    try:
        return OpeningHours(expression, auto_country=False, auto_timezone=False)
    except (_ParserError, SyntaxError, ValueError):
        return None


def _open(hours: OpeningHours, start: datetime, end: datetime) -> list[_Interval]:
    """The open intervals in [start, end) with their comments, adjacent ones joined.

    opening-hours-py answers a rule with only a comment (`Sa "by appointment"`) open; the
    comment tells it apart, so intervals are compared with theirs.
    """
    joined: list[_Interval] = []
    for begin, until, state, comment in hours.intervals(start, end):
        if state != _LibState.OPEN:
            continue
        until = until or end
        if joined and joined[-1][1] >= begin and joined[-1][2] == comment:
            joined[-1] = (joined[-1][0], max(joined[-1][1], until), comment)
        else:
            joined.append((begin, until, comment))
    return joined


def _past_midnight(intervals: list[_Interval]) -> list[_Interval]:
    """The parts after each midnight of the intervals that were open before it."""
    parts: list[_Interval] = []
    for begin, until, comment in intervals:
        midnight = datetime.combine(begin.date() + timedelta(days=1), datetime.min.time())
        while midnight < until:
            parts.append((midnight, min(until, midnight + timedelta(days=1)), comment))
            midnight += timedelta(days=1)
    return parts


def _covered(intervals: list[_Interval], begin: datetime, until: datetime,
             comment: str) -> bool:
    return any(start <= begin and until <= end and same == comment
               for start, end, same in intervals)
