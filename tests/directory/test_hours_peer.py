"""opening_hours.js, the reference implementation of OSM opening hours, as a peer.

Its own test cases about PH, SH, comments, fallbacks, past-midnight spans, week numbers and
dated exceptions (data/opening_hours_js/, see SOURCE.md there) are evaluated through our
`Hours` with python-holidays' calendars, sampled every 30 minutes across each case's range
and at every boundary the case states. Each case must agree, be a documented difference
between the two holiday calendars, or be answered unknown where it does not agree: never
open where opening_hours.js says closed or unknown, never closed where it says open or
unknown.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from directory import hours_rules
from directory.hours import Hours, State, check, has_school_calendar

DATA = Path(__file__).parent / "data" / "opening_hours_js" / "cases.json"
ZONE = ZoneInfo("Europe/Berlin")  # the zone opening_hours.js's tests run in
UTC = ZoneInfo("UTC")
STEP = timedelta(minutes=30)
# A case over a longer range is sampled every STEP only near the boundaries it states,
# and at 03:00, 12:00 and 20:00 on every other day: keeps the whole file to seconds.
DENSE_DAYS = 21


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text())
    return loaded


def instant(text: str) -> datetime:
    """A wall time as `new Date(text)` reads it in Europe/Berlin, as an aware UTC moment."""
    wall = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)
    return wall.astimezone(UTC)


@dataclass(frozen=True)
class Verdict:
    kind: str  # agree, calendar, unknown, disagree
    detail: str = ""


def expected(intervals: list[tuple[datetime, datetime, bool]], moment: datetime) -> State:
    for start, end, unknown in intervals:
        if start <= moment < end:
            return State.UNKNOWN if unknown else State.OPEN
    return State.CLOSED


def samples(case: dict[str, Any], intervals: list[tuple[datetime, datetime, bool]]
            ) -> list[datetime]:
    start, end = instant(case["from"]), instant(case["to"])
    moments: set[datetime] = set()
    boundaries = sorted({b for a, z, _ in intervals for b in (a, z)})
    minute = timedelta(minutes=1)
    for boundary in boundaries:
        moments.update((boundary - minute, boundary, boundary + minute))
    if end - start <= timedelta(days=DENSE_DAYS):
        moment = start
        while moment < end:
            moments.add(moment)
            moment += STEP
    else:
        for boundary in boundaries:
            moment = boundary - timedelta(hours=26)
            while moment < boundary + timedelta(hours=26):
                moments.add(moment)
                moment += STEP
        day = start.astimezone(ZONE).date()
        while day <= end.astimezone(ZONE).date():
            for hour in (3, 12, 20):
                moments.add(datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)
                            .astimezone(UTC))
            day += timedelta(days=1)
    return sorted(m for m in moments if start <= m < end)


def calendar_differences() -> dict[tuple[str, str, str], set[date]]:
    listed: dict[tuple[str, str, str], set[date]] = {}
    for entry in document()["calendar_differences"]:
        key = (entry["name"], entry["expression"], entry["region"])
        listed.setdefault(key, set()).update(date.fromisoformat(d) for d in entry["dates"])
    return listed


def judge(case: dict[str, Any]) -> Verdict:
    intervals = [(instant(a), instant(b), unknown) for a, b, unknown, _ in case["intervals"]]
    hours = Hours(case["expression"], "Europe/Berlin", case["region"])
    allowed = calendar_differences().get((case["name"], case["expression"], case["region"]),
                                         set())
    unknown = calendar = False
    for moment in samples(case, intervals):
        ours, theirs = hours.state(moment), expected(intervals, moment)
        if ours is theirs:
            continue
        if ours is State.UNKNOWN:
            unknown = True
            continue
        if moment.astimezone(ZONE).date() in allowed:
            calendar = True
            continue
        return Verdict("disagree", f"{moment.astimezone(ZONE):%Y-%m-%d %H:%M}: ours {ours}, "
                                   f"opening_hours.js {theirs}")
    return Verdict("calendar" if calendar else "unknown" if unknown else "agree")


def cases() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = document()["cases"]
    return loaded


@cache
def verdicts() -> tuple[Verdict, ...]:
    """Each case's verdict, in the order of the cases (computed once: a few seconds)."""
    return tuple(judge(case) for case in cases())


def test_the_peer_cases_are_there_with_their_source() -> None:
    source = document()["source"]
    assert source["repository"] == "https://github.com/opening-hours/opening_hours.js"
    assert source["licence"] == "LGPL-3.0-only"
    assert len(cases()) > 300
    kinds = Counter(kind for case in cases() for kind in case["categories"])
    for kind in ("PH", "SH", "comment", "fallback", "week", "dated", "past-midnight"):
        assert kinds[kind] >= 10, kind


def test_no_case_of_the_peer_is_a_definite_disagreement() -> None:
    figures = Counter(v.kind for v in verdicts())
    disagreements = [f"{c['name']!r} {c['expression']!r} ({c['region']}): {v.detail}"
                     for c, v in zip(cases(), verdicts(), strict=True) if v.kind == "disagree"]
    print(f"peer: tried {len(verdicts())}, agree {figures['agree']}, documented calendar "
          f"differences {figures['calendar']}, unknown {figures['unknown']}, "
          f"disagree {figures['disagree']}")
    assert disagreements == []
    # Answered exactly wherever we can prove it, not by retreating to unknown: every case
    # that opening-hours-py parses, without an open end (18:00+), an easter range or SH
    # without a school calendar, agrees or is a calendar difference (see the test below).
    assert figures["agree"] + figures["calendar"] >= 270


def test_every_documented_calendar_difference_is_still_needed() -> None:
    by_key = {(c["name"], c["expression"], c["region"]): v
              for c, v in zip(cases(), verdicts(), strict=True)}
    for entry in document()["calendar_differences"]:
        assert entry["reason"], entry
        assert by_key[(entry["name"], entry["expression"], entry["region"])].kind == "calendar"


@pytest.mark.parametrize("name", ["Fallback group rules (unknown)",
                                  "Additional comments for unknown"])
def test_named_peer_groups_agree(name: str) -> None:
    chosen = [v.kind for c, v in zip(cases(), verdicts(), strict=True) if c["name"] == name]
    assert chosen
    assert set(chosen) == {"agree"}, name


def test_what_is_answered_unknown_is_only_what_we_cannot_read_exactly() -> None:
    """The cases answered unknown, by why: none is unknown for a reason not listed here."""
    reasons: Counter[str] = Counter()
    for case, verdict in zip(cases(), verdicts(), strict=True):
        if verdict.kind != "unknown":
            continue
        expression = case["expression"]
        reading = hours_rules.read(expression)
        if check(expression):
            reasons["does not parse"] += 1  # opening_hours.js's error tolerance ("10-12")
        elif hours_rules.uses_open_end(expression):
            reasons["open end"] += 1
        elif reading.unsupported:
            reasons["unsupported form"] += 1  # easter ranges, a comment before the days
        elif "SH" in reading.kinds and not has_school_calendar(case["region"], 2024):
            reasons["school holidays without a calendar"] += 1
        else:
            reasons["other"] += 1
    assert reasons["other"] == 0, reasons
    assert reasons["unsupported form"] <= 15, reasons
