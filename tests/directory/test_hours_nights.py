"""`cancelled_nights`: the days whose previous night a later `;` rule ends at midnight, found
by comparing each rule that runs past midnight, alone, with the rules from it onwards."""

from __future__ import annotations

from collections import defaultdict
from gettext import NullTranslations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from directory.hours_nights import CANCELLED_NIGHTS, cancelled_nights, cancelled_nights_message
from directory.importers.hsds_schedules import schedule_to_opening_hours

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


@pytest.mark.parametrize(("expression", "days"), [
    # The cases that made the warning: Friday's night shift, and Monday's night into Tuesday's
    # own hours.
    ("Mo-Fr 22:00-06:00; Sa 10:00-14:00", ["Sa"]),
    ("Mo 09:00-08:00; Tu 10:00-08:00", ["Tu"]),
    ("Mo-Fr 22:00-06:00; Sa off", ["Sa"]),
    ("Mo-Fr 20:00-26:00; Sa 09:00-12:00", ["Sa"]),  # past 24:00 is the same night
    ('Mo-Fr 22:00-06:00; Sa "by appointment"', ["Sa"]),  # a comment is no longer the night
    ("Mo-Su 22:00-06:00; We,Sa 12:00-14:00", ["We", "Sa"]),
    ("Mo-Su 22:00-06:00; We,Sa 12:00-14:00 || \"call first\"", ["We", "Sa"]),
    ("Jan-Mar Mo-Fr 22:00-06:00; Sa 10:00-14:00", ["Sa"]),  # a season's nights, each week
    ("Mo-Fr 22:00-06:00; Sa 03:00-14:00", ["Sa"]),  # covered only in part
])
def test_nights_a_later_rule_cuts(expression: str, days: list[str]) -> None:
    assert cancelled_nights(expression, 2025) == days


@pytest.mark.parametrize("expression", [
    "Mo-Fr 22:00-06:00",  # one rule: its own nights are kept
    "Mo-Fr 22:00-06:00, Sa 10:00-14:00",  # `,` adds to Saturday without replacing it
    "Sa 10:00-14:00; Mo-Fr 22:00-06:00",  # the rule for Saturday comes first
    "Mo-Fr 22:00-06:00; Sa 00:00-06:00,10:00-14:00",  # the night written on Saturday too
    "Fr,Sa 22:00-06:00; Su 00:00-24:00",  # Sunday's own hours cover the night
    "Mo-Su 22:00-06:00; 2025 Dec 25 off",  # one dated closure, on purpose
    "Mo-Fr 22:00-06:00; PH off",  # holidays: dated closures too
    "24/7; Sa 10:00-14:00",  # no night: Friday ends at midnight anyway
    "Mo 22:00-24:00; Tu-Fr 00:00-06:00,22:00-24:00; Sa 00:00-06:00,10:00-14:00",
    'Mo-Fr 22:00-06:00 "walk-in"; Sa 00:00-06:00 "walk-in",10:00-14:00',
    "Mo-Fr 09:00-17:00; Sa 10:00-14:00",
    "",
    "not hours; 22:00-06:00; at all",  # does not parse: the parser's own warning says so
])
def test_nights_kept(expression: str) -> None:
    assert cancelled_nights(expression, 2025) == []


def test_the_message_names_the_days() -> None:
    message = cancelled_nights_message(["Sa", "Su"])
    assert message.msgid == CANCELLED_NIGHTS
    assert message.render(NullTranslations()).startswith(
        "a later rule ends the night before Sa, Su at midnight")


# --- Property: on weekly rules written as a person would, a direct reading of the rows ------

TIMES = [f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(0, 24 * 60, 30)]
Row = tuple[int, str, str]


def minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


def written_with_semicolons(rows: list[Row]) -> tuple[str, dict[int, tuple[tuple[str, str], ...]],
                                                      dict[int, int]]:
    """Rows as one `;` rule per set of days with the same hours, in the order of their first
    day (as HSDS schedules were once converted); the spans by day; each day's rule index."""
    spans: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for day, opens, closes in rows:
        spans[day].add((opens, "24:00" if closes == "00:00" else closes))
    by_day = {day: tuple(sorted(spans[day])) for day in sorted(spans)}
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for day, day_spans in by_day.items():
        groups.setdefault(day_spans, []).append(day)
    order = {day_spans: index for index, day_spans in enumerate(groups)}
    rules = [f"{','.join(DAYS[d] for d in days)} {','.join(f'{a}-{b}' for a, b in day_spans)}"
             for day_spans, days in groups.items()]
    return "; ".join(rules), by_day, {day: order[s] for day, s in by_day.items()}


def cut_by_reading(rows: list[Row]) -> list[str]:
    """A night of day D is cut on D+1 when D+1 has a rule of its own, written after D's,
    whose hours do not run from midnight to the night's end."""
    _, by_day, rule_of = written_with_semicolons(rows)
    cut: set[int] = set()
    for day, day_spans in by_day.items():
        following = (day + 1) % 7
        ends = [minutes(b) for a, b in day_spans if minutes(b) < minutes(a)]
        if not ends or following not in by_day or rule_of[following] <= rule_of[day]:
            continue
        reached = 0
        for opens, closes in sorted((minutes(a), minutes(b)) for a, b in by_day[following]):
            if opens > reached:
                break
            reached = max(reached, closes if closes > opens else 24 * 60)
        if reached < max(ends):
            cut.add(following)
    return [DAYS[day] for day in sorted(cut)]


rows_strategy = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from(TIMES), st.sampled_from(TIMES))
    .filter(lambda row: row[1] != row[2]),
    min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(rows_strategy)
def test_any_weekly_rules_as_people_write_them(rows: list[Row]) -> None:
    expression, _, _ = written_with_semicolons(rows)
    assert cancelled_nights(expression, 2025) == cut_by_reading(rows), expression


@settings(max_examples=100, deadline=None)
@given(rows_strategy)
def test_hsds_schedules_never_cut_a_night(rows: list[Row]) -> None:
    schedule = [(line, {"weekday": str(day + 1), "opens_at": opens, "closes_at": closes})
                for line, (day, opens, closes) in enumerate(rows, start=2)]
    assert cancelled_nights(schedule_to_opening_hours(schedule), 2025) == []
