"""Opening hours: is a service open at a given moment, and until when.

Expressions use OpenStreetMap's `opening_hours` syntax and are evaluated by opening-hours-py
in the service's own timezone. Public holidays come from python-holidays, not from
opening-hours-py's calendars, which miss dates (England's Easter Monday, New Year's Day and
August bank holiday among them): before evaluation every `PH` in a rule's day selector is
rewritten into the explicit holiday dates of the service's region for the years around the
moment asked about, e.g. `Mo-Fr 09:00-17:00; Sa,PH off` becomes
`Mo-Fr 09:00-17:00; Sa off; 2025 Jan 01,2025 Apr 18,... off`. The few PH forms this cannot
rewrite (`PH +1 day`, `PH Mo`, PH after a date or in a fallback rule) keep opening-hours-py's
own calendar, and the importer warns about them.

Hours that do not parse are *unknown*, never *open*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import opening_hours
from opening_hours import OpeningHours
from opening_hours import State as _LibState

from directory.i18n import N_, Message

# A change further away than this is reported as none; bounds the work of next_change.
_HORIZON_DAYS = 366
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NEVER = "1900 Jan 01"  # a date selector that matches no day we will ever be asked about
_UTC = ZoneInfo("UTC")
# Raised for expressions that do not parse; the package's stub does not declare it.
_ParserError: type[Exception] = opening_hours.ParserError  # type: ignore[attr-defined]


class State(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


_STATES = {_LibState.OPEN: State.OPEN, _LibState.CLOSED: State.CLOSED}


@dataclass(frozen=True)
class HoursStatus:
    """Open, closed or unknown at a moment, and when that next changes (None: not soon)."""

    state: State
    next_change: datetime | None = None  # aware, in the service's timezone
    comment: str = ""


UNKNOWN = HoursStatus(State.UNKNOWN)


class InvalidRegion(ValueError):
    """A region code python-holidays does not know."""


def parse_region(region: str) -> tuple[str, str | None]:
    """Split and check an ISO 3166 region such as `GB-ENG`, `US-IL` or `FR`."""
    country, _, subdivision = region.strip().upper().partition("-")
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise InvalidRegion(region)
    if subdivision and subdivision not in supported[country]:
        raise InvalidRegion(region)
    return country, subdivision or None


@cache
def holiday_dates(region: str, year: int) -> tuple[date, ...]:
    """Public holidays of a region in a year, per python-holidays; () for unknown regions."""
    if not region:
        return ()
    try:
        country, subdivision = parse_region(region)
    except InvalidRegion:
        return ()
    calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return tuple(sorted(calendar))


_DAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_WEEKDAY = rf"{_DAY}(?:\[[-0-9,]+\])?(?:-{_DAY})?"
_ITEM = rf"(?:PH|SH|{_WEEKDAY})"
# A rule that starts with its day selector (no year/month/week before it).
_RULE_DAYS = re.compile(rf"^(?P<lead>\s*)(?P<days>{_ITEM}(?:,{_ITEM})*)(?P<rest>(?:\s.*)?)$", re.S)
_PH = re.compile(r"\bPH\b")
_REST_UNSUPPORTED = re.compile(rf"^\s*(?:[+-]\s*\d|{_DAY}\b)")


def _split_rules(expression: str) -> list[tuple[str, str]]:
    """Cut an expression into (separator, rule) pairs, never inside a quoted comment."""
    pieces: list[tuple[str, str]] = []
    separator = ""
    start = 0
    in_quote = False
    i = 0
    while i < len(expression):
        char = expression[i]
        if char == '"':
            in_quote = not in_quote
        elif not in_quote:
            found = ""
            if char == ";":
                found = ";"
            elif expression.startswith("||", i):
                found = "||"
            elif char == "," and expression[i + 1 : i + 2] == " ":
                found = ","
            if found:
                pieces.append((separator, expression[start:i]))
                separator = found
                i += len(found)
                start = i
                continue
        i += 1
    pieces.append((separator, expression[start:]))
    return pieces


_JOIN = {"": "", ";": "; ", ",": ", ", "||": " || "}


def rewrite_public_holidays(expression: str, dates: tuple[date, ...]) -> str | None:
    """Replace `PH` in day selectors by explicit dates; None where a PH form cannot be."""
    if not _PH.search(_strip_comments(expression)):
        return expression
    dated = ",".join(f"{d.year} {_MONTHS[d.month - 1]} {d.day:02d}" for d in dates) or _NEVER
    out: list[str] = []
    for separator, rule in _split_rules(expression):
        text = rule.strip()
        if _PH.search(_strip_comments(rule)):
            match = _RULE_DAYS.match(rule)
            if separator == "||" or match is None:
                return None
            days = match["days"].split(",")
            rest = match["rest"].rstrip()
            if "PH" not in days or _REST_UNSUPPORTED.match(rest):
                return None
            others = [d for d in days if d != "PH"]
            # "Sa,PH x" applies x on Saturdays and on holidays: two rules in its place, the
            # dated one last so that it wins on a holiday, as PH did.
            parts = ([",".join(others) + rest] if others else []) + [dated + rest]
            text = _JOIN[separator or ";"].join(parts)
        out.append(_JOIN[separator] + text)
    return "".join(out)


def _strip_comments(rule: str) -> str:
    return re.sub(r'"[^"]*"', '""', rule)


def check(expression: str) -> list[Message]:
    """Why an expression cannot be used, as messages (empty: it parses or is empty)."""
    if not expression.strip():
        return []
    try:
        OpeningHours(expression, auto_country=False, auto_timezone=False)
    except (_ParserError, SyntaxError, ValueError) as error:
        lines = [line.strip() for line in str(error).strip().splitlines()]
        detail = next((line.lstrip("= ") for line in lines if "expected" in line), lines[0])
        return [Message(N_("hours do not parse, imported as unknown (%(detail)s)"),
                        {"detail": detail})]
    return []


def uses_unsupported_holiday_form(expression: str) -> bool:
    """True where PH is used in a form that keeps opening-hours-py's own holiday calendar."""
    return bool(expression.strip()) and rewrite_public_holidays(expression, ()) is None


class Hours:
    """The compiled opening hours of one service: expression, timezone and holiday region."""

    __slots__ = ("_by_year", "expression", "region", "valid", "zone")

    def __init__(self, expression: str, timezone: str, region: str) -> None:
        self.expression = expression.strip()
        self.zone = ZoneInfo(timezone or "UTC")
        self.region = region
        self._by_year: dict[int, OpeningHours | None] = {}
        self.valid = bool(self.expression) and not check(self.expression)

    def _compiled(self, year: int) -> OpeningHours | None:
        if year in self._by_year:
            return self._by_year[year]
        compiled: OpeningHours | None = None
        if self.valid:
            years = (year - 1, year, year + 1)
            dates = tuple(d for y in years for d in holiday_dates(self.region, y))
            rewritten = rewrite_public_holidays(self.expression, dates)
            country = self.region.partition("-")[0] or None
            try:
                compiled = OpeningHours(
                    rewritten if rewritten is not None else self.expression,
                    timezone=self.zone,
                    country=None if rewritten is not None else country,
                    auto_country=False,
                    auto_timezone=False,
                    max_interval_days=_HORIZON_DAYS,
                )
            except (_ParserError, SyntaxError, ValueError):
                compiled = None
        self._by_year[year] = compiled
        return compiled

    def _for(self, at: datetime) -> tuple[OpeningHours | None, datetime]:
        if at.tzinfo is None:
            raise ValueError("opening hours are evaluated at an aware datetime")
        local = at.astimezone(self.zone)
        return self._compiled(local.year), local

    def state(self, at: datetime) -> State:
        compiled, local = self._for(at)
        if compiled is None:
            return State.UNKNOWN
        state, _comment = compiled.state(local)
        return _STATES.get(state, State.UNKNOWN)

    def status(self, at: datetime) -> HoursStatus:
        compiled, local = self._for(at)
        if compiled is None:
            return UNKNOWN
        state, comment = compiled.state(local)
        change = compiled.next_change(local)
        if change is not None and change.tzinfo is None:
            change = change.replace(tzinfo=self.zone)
        return HoursStatus(_STATES.get(state, State.UNKNOWN), change, comment)


def localize(at: datetime, zone: str) -> datetime:
    """An aware moment from a time that may lack an offset (then: wall time in `zone`).

    A wall time the clocks skip (spring forward) or repeat (fall back) is read as PEP 495
    does with fold=0: the offset in force before the change.
    """
    if at.tzinfo is not None:
        return at
    return at.replace(tzinfo=ZoneInfo(zone or "UTC")).astimezone(_UTC)
