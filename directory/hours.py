"""Opening hours: is a service open at a given moment, and until when.

Expressions use OpenStreetMap's `opening_hours` syntax and are evaluated by opening-hours-py
in the service's own timezone, after `directory.hours_rules` has rewritten them into what the
OSM specification means (comments are unknown, `, ` read as opening_hours.js reads it,
fallback rules applied per moment). Public holidays come from python-holidays, not from
opening-hours-py's calendars, which miss dates (England's Easter Monday, New Year's Day and
August bank holiday among them): every `PH` is written out as the explicit holiday dates of
the service's region for the years around the moment asked about, e.g.
`Mo-Fr 09:00-17:00; Sa,PH off` becomes `Mo-Fr 09:00-17:00; Sa off; 2025 Jan 01,... off`.
School holidays (`SH`) are written out the same way where python-holidays has the region's
school calendar (the German states); elsewhere they are unknown. Sunrise, sunset, dawn and
dusk are computed at the service's coordinates; without them, or where the sun does not
rise or set that day, they are unknown.

The rule: a status is `open` or `closed` only when the expression, as OSM defines it, says so
for that moment. Hours that do not parse, and whatever the evaluation cannot resolve, are
*unknown* ("call first"), never *open*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import opening_hours
from opening_hours import OpeningHours
from opening_hours import State as _LibState

from directory import hours_rules
from directory.i18n import N_, Message

# A change further away than this is reported as none; bounds the work of next_change.
_HORIZON_DAYS = 366
_UTC = ZoneInfo("UTC")
# Raised for expressions that do not parse; the package's stub does not declare it.
_ParserError: type[Exception] = opening_hours.ParserError  # type: ignore[attr-defined]
_PARSE_ERRORS = (_ParserError, SyntaxError, ValueError)
# Countries whose school holidays python-holidays knows completely, per subdivision.
_SCHOOL_CALENDARS = frozenset({"DE"})


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


def _calendar(region: str, year: int, category: str) -> tuple[date, ...]:
    try:
        country, subdivision = parse_region(region)
    except InvalidRegion:
        return ()
    found = holidays.country_holidays(country, subdiv=subdivision, years=year,
                                      categories=(category,))
    return tuple(sorted(found))


@cache
def holiday_dates(region: str, year: int) -> tuple[date, ...]:
    """Public holidays of a region in a year, per python-holidays; () for unknown regions."""
    return _calendar(region, year, "public") if region else ()


@cache
def school_holiday_dates(region: str, year: int) -> tuple[date, ...] | None:
    """School holidays of a region in a year; None where python-holidays has no calendar."""
    country, _, subdivision = region.upper().partition("-")
    if country not in _SCHOOL_CALENDARS or not subdivision:
        return None
    try:
        dates = _calendar(region, year, "school")
    except NotImplementedError:
        return None
    return dates or None  # an empty year is one the tables do not cover yet


def has_school_calendar(region: str, year: int) -> bool:
    return all(school_holiday_dates(region, y) is not None for y in (year - 1, year, year + 1))


@cache
def _reading(expression: str) -> hours_rules.Reading:
    return hours_rules.read(expression)


def check(expression: str) -> list[Message]:
    """Why an expression cannot be used, as messages (empty: it parses or is empty)."""
    return list(_check(expression))


@cache
def _check(expression: str) -> tuple[Message, ...]:
    if not expression.strip():
        return ()
    try:
        # As it will be evaluated: rewritten, PH and SH written as (here: no) dates.
        for layer in _reading(expression).layers:
            OpeningHours(hours_rules.render(layer, {}, _wide_filter), auto_country=False,
                         auto_timezone=False)
    except _PARSE_ERRORS as error:
        lines = [line.strip() for line in str(error).strip().splitlines()]
        detail = next((line.lstrip("= ") for line in lines if "expected" in line), lines[0])
        return (Message(N_("hours do not parse, imported as unknown (%(detail)s)"),
                        {"detail": detail}),)
    return ()


def uses_sun_times(expression: str) -> bool:
    """Whether an expression needs the service's coordinates (sunrise, sunset, dawn, dusk):
    only these need a compiled `Hours` per service rather than per (expression, zone,
    region)."""
    return bool(expression.strip()) and _reading(expression).sun


def unknown_reasons(expression: str, region: str | None) -> list[Message]:
    """What of a parsing expression is answered unknown, and why (for import warnings).

    `region` None: not known at import; SH is then reported as depending on it.
    """
    if not expression.strip():
        return []
    reading = _reading(expression)
    if reading.unsupported:
        return [Message(N_("answered unknown at all times, since opening-hours-py would read "
                           "it differently from the OSM specification: %(what)s"),
                        {"what": "; ".join(_english(m) for m in reading.unsupported)})]
    reasons = list(reading.partly_unknown)
    if hours_rules.uses_open_end(expression):
        reasons = [Message(N_("an open end (a time followed by +) is answered unknown at all "
                              "times"))]
    if "SH" in reading.kinds:
        year = datetime.now(_UTC).year
        if region is None:
            reasons.append(Message(N_("school holidays (SH) are answered unknown at all times "
                                      "unless the service's region has a school calendar "
                                      "(python-holidays: the German states)")))
        elif not has_school_calendar(region, year):
            reasons.append(Message(N_("school holidays (SH): no school calendar for %(region)s, "
                                      "answered unknown at all times"),
                                   {"region": region or "-"}))
    return reasons


def _english(message: Message) -> str:
    return message.msgid % dict(message.params) if message.params else message.msgid


class Hours:
    """The compiled opening hours of one service: expression, timezone, holiday region and,
    for sunrise and sunset, its coordinates."""

    __slots__ = ("_by_year", "_coords", "_reading", "expression", "region", "valid", "zone")

    def __init__(self, expression: str, timezone: str, region: str,
                 lat: float | None = None, lon: float | None = None) -> None:
        self.expression = expression.strip()
        self.zone = ZoneInfo(timezone or "UTC")
        self.region = region
        self._by_year: dict[int, tuple[OpeningHours, ...] | None] = {}
        self._coords = (lat, lon) if lat is not None and lon is not None else None
        self.valid = bool(self.expression) and not _check(self.expression)
        self._reading = _reading(self.expression) if self.valid else None

    @property
    def _closing(self) -> bool:
        return self._reading is not None and bool(self._reading.closing)

    def _answerable(self, year: int) -> bool:
        reading = self._reading
        if reading is None or reading.unsupported or hours_rules.uses_open_end(self.expression):
            return False
        if reading.sun and self._coords is None:
            return False
        return "SH" not in reading.kinds or has_school_calendar(self.region, year)

    def _compiled(self, year: int) -> tuple[OpeningHours, ...] | None:
        if year in self._by_year:
            return self._by_year[year]
        compiled: tuple[OpeningHours, ...] | None = None
        if self._reading is not None and self._answerable(year):
            years = (year - 1, year, year + 1)
            calendars = {"PH": frozenset(d for y in years for d in holiday_dates(self.region, y))}
            if "SH" in self._reading.kinds:
                calendars["SH"] = frozenset(d for y in years
                                            for d in school_holiday_dates(self.region, y) or ())
            layers = self._reading.layers
            if self._reading.closing:  # evaluated first: see _layered
                layers = (self._reading.closing, *layers)
            try:
                compiled = tuple(self._compile(hours_rules.render(layer, calendars, _wide_filter))
                                 for layer in layers)
            except _PARSE_ERRORS:
                compiled = None
        self._by_year[year] = compiled
        return compiled

    def _compile(self, expression: str) -> OpeningHours:
        return OpeningHours(expression, timezone=self.zone, coords=self._coords,
                            auto_country=False,
                            # opening-hours-py computes sun times at the coordinates only
                            # with this set; the timezone given still wins.
                            auto_timezone=self._coords is not None,
                            max_interval_days=_HORIZON_DAYS)

    def _for(self, at: datetime) -> tuple[tuple[OpeningHours, ...] | None, datetime]:
        if at.tzinfo is None:
            raise ValueError("opening hours are evaluated at an aware datetime")
        # Through UTC: a wall time the clocks skip (or repeat) becomes a real instant.
        local = at.astimezone(_UTC).astimezone(self.zone)
        compiled = self._compiled(local.year)
        if compiled is not None and self._reading is not None and self._reading.sun:
            if self._coords is None or _sun_unreliable(self._coords[0], local.date()):
                compiled = None
        return compiled, local

    def ready(self, at: datetime) -> bool:
        """Whether `state(at)` and `status(at)` compile nothing first (warm: a few
        milliseconds saved, see directory/search.py)."""
        return at.astimezone(self.zone).year in self._by_year

    def state(self, at: datetime) -> State:
        compiled, local = self._for(at)
        if compiled is None:
            return State.UNKNOWN
        return _layered(compiled, local, self._closing)[0]

    def status(self, at: datetime) -> HoursStatus:
        compiled, local = self._for(at)
        if compiled is None:
            return UNKNOWN
        state, comment = _layered(compiled, local, self._closing)
        change = _next_change(compiled, local, state, self._closing)
        if change is not None and change.tzinfo is None:
            change = change.replace(tzinfo=self.zone)
        return HoursStatus(state, change, comment)


def _layered(layers: tuple[OpeningHours, ...], local: datetime,
             closing: bool = False) -> tuple[State, str]:
    """The state at a moment: each fallback layer answers where those before are closed;
    with `closing`, the first layer holds the off rules that follow a fallback rule, and
    wherever one of them matches (reads open) the place is closed."""
    if closing:
        if layers[0].state(local)[0] == _LibState.OPEN:
            return State.CLOSED, ""
        layers = layers[1:]
    state, comment = State.CLOSED, ""
    for layer in layers:
        lib_state, comment = layer.state(local)
        state = _STATES.get(lib_state, State.UNKNOWN)
        if state is not State.CLOSED:
            break
    return state, comment


def _next_change(layers: tuple[OpeningHours, ...], local: datetime, state: State,
                 closing: bool = False) -> datetime | None:
    if len(layers) == 1:
        return layers[0].next_change(local)
    moment = local
    limit = local + timedelta(days=_HORIZON_DAYS)
    while moment < limit:
        changes = [c for c in (layer.next_change(moment) for layer in layers) if c is not None]
        if not changes:
            return None
        moment = min(c if c.tzinfo is not None else c.replace(tzinfo=local.tzinfo)
                     for c in changes)
        if _layered(layers, moment, closing)[0] is not state:
            return moment
    return None


@cache
def _wide_filter_for(selectors: str) -> OpeningHours | None:
    try:
        return OpeningHours(selectors, auto_country=False, auto_timezone=False)
    except _PARSE_ERRORS:
        return None


def _wide_filter(selectors: str) -> hours_rules.DateFilter | None:
    """Whether a day is in a rule's month, date, week or year selectors (`Jan`, `2025`)."""
    compiled = _wide_filter_for(selectors)
    if compiled is None:
        raise ValueError(selectors)  # makes the expression unknown: see Hours._compiled

    def matches(day: date) -> bool:
        return compiled.state(datetime.combine(day, time(12)))[0] == _LibState.OPEN

    return matches


def _sun_unreliable(lat: float, day: date) -> bool:
    """True near days on which the sun does not rise, set or reach civil dawn or dusk at
    this latitude: opening-hours-py's answers there are wrong (south of the equator even
    inverted), so they are unknown. A simple solar declination is enough with this margin."""
    for offset in (-1, 0, 1):
        n = (day + timedelta(days=offset)).timetuple().tm_yday
        declination = math.radians(-23.44) * math.cos(2 * math.pi / 365 * (n + 10))
        phi = math.radians(lat)
        # Hour angle of civil dawn/dusk (sun 6 degrees below the horizon), the lowest event.
        cos_h = ((math.sin(math.radians(-6)) - math.sin(phi) * math.sin(declination))
                 / (math.cos(phi) * math.cos(declination) or 1e-9))
        if abs(cos_h) > 0.97:
            return True
    return False


def localize(at: datetime, zone: str) -> datetime:
    """An aware moment from a time that may lack an offset (then: wall time in `zone`).

    A wall time the clocks skip (spring forward) or repeat (fall back) is read as PEP 495
    does with fold=0: the offset in force before the change.
    """
    if at.tzinfo is not None:
        return at
    return at.replace(tzinfo=ZoneInfo(zone or "UTC")).astimezone(_UTC)
