"""Weekly hours as OpenStreetMap `opening_hours` rules: the writing half of HSDS schedules.

This module owns turning the spans read for each day (and for each season: weekly rows valid
between two dates) into rules such as "Mo-Fr 09:00-17:00", days that share their times
grouped, and nights that run past midnight written so that no later rule cuts them short:
in OSM syntax a later `;` rule for a day replaces all of that day, including the previous
night's hours past midnight, so where another day's rule would cut a night, the hours after
midnight are written on the next day itself ("Mo 22:00-24:00; Tu-Fr 00:00-06:00,
22:00-24:00; Sa 00:00-06:00,10:00-14:00").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from directory.importers.hsds_times import DAYS

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Span = tuple[str, str]  # ("22:00", "06:00"): opens, closes ("24:00" for midnight)


@dataclass
class Season:
    """Weekly rows valid between two dates (3.x `valid_from`/`valid_to` with `byday`)."""

    selector: str  # "2025 Jun 01-2025 Aug 31"
    weekly: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))


def weekly_rules(spans_by_day: Mapping[str, list[Span]]) -> list[str]:
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


def season_rules(season: Season, weekly: Mapping[str, list[Span]]) -> list[str]:
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


def osm_date(day: date) -> str:
    return f"{day.year} {_MONTHS[day.month - 1]} {day.day:02d}"
