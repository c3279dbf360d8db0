"""HSDS schedules keep their nights: a weekly row that closes before it opens runs past
midnight whatever the other days' hours, proved by evaluating the expressions we write with
opening-hours-py (through `directory.hours.Hours`) against a direct reading of the rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from directory.hours import Hours, State
from directory.importers.hsds_schedules import DAYS, schedule_to_opening_hours

UTC = ZoneInfo("UTC")
MONDAY = datetime(2025, 1, 6, tzinfo=UTC)  # a week without public holidays in most places
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=DAYS.index(day), hours=hour, minutes=minute)


def state(expression: str, moment: datetime) -> State:
    return Hours(expression, "UTC", "").state(moment)


def weekday_rows(*rows: tuple[str, str, str]) -> list[tuple[int, Mapping[str, str]]]:
    """1.x `regular_schedules` rows: (weekday 1..7, opens_at, closes_at)."""
    return [(line, {"weekday": day, "opens_at": iso(opens), "closes_at": iso(closes)})
            for line, (day, opens, closes) in enumerate(rows, start=2)]


def test_friday_night_runs_into_a_saturday_with_hours_of_its_own() -> None:
    rows = weekday_rows(*[(str(day), "22:00", "06:00") for day in range(1, 6)],
                        ("6", "10:00", "14:00"))
    expression = schedule_to_opening_hours(rows)
    assert expression == ("Mo 22:00-24:00; Tu-Fr 00:00-06:00,22:00-24:00; "
                          "Sa 00:00-06:00,10:00-14:00")
    assert state(expression, at("Sa", 3)) is State.OPEN  # Friday's night shift
    assert state(expression, at("Sa", 7)) is State.CLOSED
    assert state(expression, at("Sa", 11)) is State.OPEN
    assert state(expression, at("Su", 3)) is State.CLOSED  # no night on Saturday
    assert state(expression, at("Mo", 3)) is State.CLOSED  # nor on Sunday
    assert state(expression, at("We", 3)) is State.OPEN


def test_two_nights_in_a_row_each_with_its_own_hours() -> None:
    expression = schedule_to_opening_hours(weekday_rows(("1", "09:00", "08:00"),
                                                        ("2", "10:00", "08:00")))
    assert state(expression, at("Tu", 6)) is State.OPEN  # Monday's night
    assert state(expression, at("Tu", 9)) is State.CLOSED
    assert state(expression, at("We", 6)) is State.OPEN  # Tuesday's night
    assert state(expression, at("We", 9)) is State.CLOSED


def test_a_night_split_at_midnight_still_reports_its_real_end() -> None:
    rows = weekday_rows(*[(str(day), "22:00", "06:00") for day in range(1, 6)],
                        ("6", "10:00", "14:00"))
    status = Hours(schedule_to_opening_hours(rows), "UTC", "").status(at("Fr", 23))
    assert status.state is State.OPEN
    assert status.next_change == at("Sa", 6)  # not "until midnight"


def test_nights_no_other_rule_cuts_stay_as_written() -> None:
    every_weeknight = weekday_rows(*[(str(day), "22:00", "06:00") for day in range(1, 6)])
    assert schedule_to_opening_hours(every_weeknight) == "Mo-Fr 22:00-06:00"
    # Sunday is open all day anyway: Saturday's night needs nothing more.
    rows = weekday_rows(("6", "22:00", "06:00"), ("7", "00:00", "23:59"))
    expression = schedule_to_opening_hours(rows)
    assert expression == "Sa 22:00-06:00; Su 00:00-24:00"
    assert state(expression, at("Su", 3)) is State.OPEN
    assert state(expression, at("Mo", 3)) is State.CLOSED


def test_a_sunday_night_runs_into_monday() -> None:
    expression = schedule_to_opening_hours(weekday_rows(("7", "20:00", "02:00"),
                                                        ("1", "09:00", "17:00")))
    assert expression == "Mo 00:00-02:00,09:00-17:00; Su 20:00-24:00"
    assert state(expression, at("Mo", 1)) is State.OPEN


def test_a_night_and_a_morning_that_overlap_are_one_span() -> None:
    expression = schedule_to_opening_hours(weekday_rows(("1", "20:00", "10:00"),
                                                        ("2", "08:00", "12:00")))
    assert expression == "Mo 20:00-24:00; Tu 00:00-12:00"


def test_rows_of_one_season_keep_their_nights_and_their_split_shifts() -> None:
    season = {"valid_from": "2025-01-01", "valid_to": "2025-12-31"}
    rows = [(2, {"byday": "MO,TU,WE,TH,FR", "opens_at": "22:00", "closes_at": "06:00",
                 **season}),
            (3, {"byday": "SA", "opens_at": "10:00", "closes_at": "14:00", **season}),
            (4, {"byday": "SA", "opens_at": "16:00", "closes_at": "18:00", **season})]
    expression = schedule_to_opening_hours(rows)
    assert state(expression, at("Sa", 3)) is State.OPEN
    assert state(expression, at("Sa", 11)) is State.OPEN  # the first shift survives the
    assert state(expression, at("Sa", 17)) is State.OPEN  # second
    assert state(expression, at("Su", 3)) is State.CLOSED
    assert state(expression, datetime(2026, 1, 10, 3, tzinfo=UTC)) is State.CLOSED  # after


# --- Property: the expression says what the rows say, at every half hour of a week -----------

def iso(time: str) -> str:
    """With seconds, as ISO 8601 writes times: "10:30" to "10:00" without them could be a
    12-hour clock, and the importer rightly refuses to guess that into a night."""
    return f"{time}:00" if time.count(":") == 1 else time


TIMES = [f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(0, 24 * 60, 30)]
Row = tuple[int, str, str]  # (day 0..6, opens, closes)


def open_by_rows(rows: Sequence[Row], day: int, minute: int) -> bool:
    """The rows read directly: a row closing at or before it opens ends on the next day."""
    for row_day, opens, closes in rows:
        start = int(opens[:2]) * 60 + int(opens[3:])
        end = int(closes[:2]) * 60 + int(closes[3:]) or 24 * 60  # 00:00 closes at midnight
        if end > start:
            if row_day == day and start <= minute < end:
                return True
        elif (row_day == day and minute >= start) or \
                ((row_day + 1) % 7 == day and minute < end):
            return True
    return False


rows_strategy = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from(TIMES), st.sampled_from(TIMES))
    .filter(lambda row: row[1] != row[2]),
    min_size=1, max_size=8)


def assert_agrees(expression: str, rows: Sequence[Row], start: datetime) -> None:
    hours = Hours(expression, "UTC", "")
    for step in range(7 * 48):
        moment = start + timedelta(minutes=30 * step)
        expected = State.OPEN if open_by_rows(rows, moment.weekday(), moment.hour * 60 +
                                              moment.minute) else State.CLOSED
        assert hours.state(moment) is expected, (expression, rows, moment)


@settings(max_examples=150, deadline=None)
@given(rows_strategy)
def test_any_weekly_rows_1_x(rows: list[Row]) -> None:
    expression = schedule_to_opening_hours(
        weekday_rows(*[(str(day + 1), opens, closes) for day, opens, closes in rows]))
    assert_agrees(expression, rows, MONDAY)


@settings(max_examples=100, deadline=None)
@given(rows_strategy)
def test_any_weekly_rows_3_x(rows: list[Row]) -> None:
    schedule = [(line, {"freq": "WEEKLY", "byday": BYDAY[day], "opens_at": iso(opens),
                        "closes_at": iso(closes)})
                for line, (day, opens, closes) in enumerate(rows, start=2)]
    assert_agrees(schedule_to_opening_hours(schedule), rows, MONDAY)


@settings(max_examples=100, deadline=None)
@given(rows_strategy)
def test_any_weekly_rows_of_one_season(rows: list[Row]) -> None:
    season = {"valid_from": "2025-01-01", "valid_to": "2025-12-31"}
    schedule = [(line, {"byday": BYDAY[day], "opens_at": iso(opens), "closes_at": iso(closes),
                        **season})
                for line, (day, opens, closes) in enumerate(rows, start=2)]
    assert_agrees(schedule_to_opening_hours(schedule), rows, datetime(2025, 6, 2, tzinfo=UTC))


@settings(max_examples=100, deadline=None)
@given(rows_strategy, rows_strategy)
def test_a_season_replaces_the_days_it_names_and_keeps_every_night(
        regular: list[Row], seasonal: list[Row]) -> None:
    season = {"valid_from": "2025-04-01", "valid_to": "2025-09-30"}
    schedule = [(line, {"freq": "WEEKLY", "byday": BYDAY[day], "opens_at": iso(opens),
                        "closes_at": iso(closes)})
                for line, (day, opens, closes) in enumerate(regular, start=2)]
    schedule += [(line, {"byday": BYDAY[day], "opens_at": iso(opens), "closes_at": iso(closes),
                         **season})
                 for line, (day, opens, closes) in enumerate(seasonal, start=20)]
    expression = schedule_to_opening_hours(schedule)
    named = {day for day, _, _ in seasonal}
    in_season = [row for row in regular if row[0] not in named] + seasonal
    assert_agrees(expression, in_season, datetime(2025, 6, 2, tzinfo=UTC))
    assert_agrees(expression, regular, datetime(2025, 1, 13, tzinfo=UTC))  # out of season
