"""Opening hours: overnight spans, 24/7, DST days, unknown hours and public holidays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from gettext import NullTranslations
from zoneinfo import ZoneInfo

import holidays
import pytest

from directory.hours import (
    Hours,
    State,
    check,
    localize,
    parse_region,
    rewrite_public_holidays,
    uses_unsupported_holiday_form,
)
from directory.present import describe

CHICAGO = "America/Chicago"
UTC = ZoneInfo("UTC")


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def test_overnight_span_is_open_after_midnight_and_closed_by_day() -> None:
    hours = Hours("Mo-Su 22:00-06:00", CHICAGO, "US-IL")
    assert hours.state(at(CHICAGO, 2025, 6, 11, 23, 30)) is State.OPEN
    assert hours.state(at(CHICAGO, 2025, 6, 12, 3, 0)) is State.OPEN
    assert hours.state(at(CHICAGO, 2025, 6, 12, 12, 0)) is State.CLOSED
    status = hours.status(at(CHICAGO, 2025, 6, 12, 3, 0))
    assert status.next_change == at(CHICAGO, 2025, 6, 12, 6, 0)


def test_midnight_written_as_24_00() -> None:
    hours = Hours("Mo-Su 12:00-24:00", CHICAGO, "")
    assert hours.state(at(CHICAGO, 2025, 6, 11, 23, 59)) is State.OPEN
    assert hours.state(at(CHICAGO, 2025, 6, 12, 0, 30)) is State.CLOSED


def test_always_open_has_no_next_change() -> None:
    status = Hours("24/7", CHICAGO, "US-IL").status(at(CHICAGO, 2025, 12, 25, 3, 0))
    assert status.state is State.OPEN
    assert status.next_change is None


@pytest.mark.parametrize("expression", ["", "Mo-Fr 9am-5pm", "sometimes", "Mo-Fr 25:00-26:00x"])
def test_missing_or_unparsable_hours_are_unknown_never_open(expression: str) -> None:
    hours = Hours(expression, CHICAGO, "US-IL")
    assert hours.state(at(CHICAGO, 2025, 6, 11, 12, 0)) is State.UNKNOWN
    assert hours.status(at(CHICAGO, 2025, 6, 11, 12, 0)).next_change is None


def test_unparsable_hours_give_a_reason() -> None:
    (problem,) = check("Mo-Fr 9-17")
    assert "do not parse" in problem.render(NullTranslations())
    assert check("Mo-Fr 09:00-17:00") == []
    assert check("") == []


def test_explicit_unknown_state() -> None:
    assert Hours("Mo-Fr unknown", CHICAGO, "").state(at(CHICAGO, 2025, 6, 11, 12)) is State.UNKNOWN


def test_evaluated_in_the_services_own_zone_whatever_the_callers_zone() -> None:
    london = Hours("Mo-Fr 09:00-17:00", "Europe/London", "GB-ENG")
    # 16:30 in London on a Wednesday is 10:30 in Chicago.
    assert london.state(at(CHICAGO, 2025, 6, 11, 10, 30)) is State.OPEN
    assert london.state(at(CHICAGO, 2025, 6, 11, 11, 30)) is State.CLOSED


def test_naive_time_means_wall_time_at_the_query_point() -> None:
    moment = localize(datetime(2025, 6, 11, 9, 0), CHICAGO)
    assert moment == datetime(2025, 6, 11, 14, 0, tzinfo=UTC)
    aware = datetime(2025, 6, 11, 9, 0, tzinfo=UTC)
    assert localize(aware, CHICAGO) is aware


def test_spring_forward_skipped_wall_time_reads_with_the_earlier_offset() -> None:
    # 02:30 does not exist in Chicago on 2025-03-09; PEP 495 fold=0 reads it as CST (-6),
    # which is 03:30 CDT.
    moment = localize(datetime(2025, 3, 9, 2, 30), CHICAGO)
    assert moment == datetime(2025, 3, 9, 8, 30, tzinfo=UTC)
    hours = Hours("Mo-Su 03:00-04:00", CHICAGO, "")
    assert hours.state(moment) is State.OPEN


def test_fall_back_repeated_wall_time_is_the_first_one() -> None:
    moment = localize(datetime(2025, 11, 2, 1, 30), CHICAGO)
    assert moment == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # CDT, -5
    hours = Hours("Su 01:00-02:00", CHICAGO, "")
    assert hours.state(moment) is State.OPEN
    # The second 01:30 (CST) is also within 01:00-02:00 local.
    assert hours.state(datetime(2025, 11, 2, 7, 30, tzinfo=UTC)) is State.OPEN


def test_next_change_on_a_dst_day_is_in_local_wall_time() -> None:
    hours = Hours("Mo-Su 00:00-03:00", CHICAGO, "")
    status = hours.status(at(CHICAGO, 2025, 3, 9, 1, 0))
    assert status.state is State.OPEN
    assert status.next_change is not None
    assert status.next_change.replace(tzinfo=None) == datetime(2025, 3, 9, 3, 0)
    # Clocks jump: only one real hour passes between 01:00 CST and 03:00 CDT.
    elapsed = status.next_change.astimezone(UTC) - at(CHICAGO, 2025, 3, 9, 1, 0).astimezone(UTC)
    assert elapsed == timedelta(hours=1)


def test_london_spring_forward_day() -> None:
    hours = Hours("Mo-Su 01:00-02:00", "Europe/London", "GB-ENG")
    # 01:00-02:00 does not exist in London on 2025-03-30; the service never opens that day.
    assert hours.state(datetime(2025, 3, 30, 1, 0, tzinfo=UTC)) is State.CLOSED


def test_dated_exception_overrides_weekly_rules() -> None:
    hours = Hours("Mo-Su 08:00-20:00; 2025 Dec 24-2025 Dec 26 10:00-14:00", CHICAGO, "")
    assert hours.state(at(CHICAGO, 2025, 12, 25, 9, 0)) is State.CLOSED
    assert hours.state(at(CHICAGO, 2025, 12, 25, 11, 0)) is State.OPEN
    assert hours.state(at(CHICAGO, 2025, 12, 27, 9, 0)) is State.OPEN


REGIONS = {
    "GB-ENG": "Europe/London", "GB-SCT": "Europe/London", "US-IL": CHICAGO,
    "IT": "Europe/Rome", "FR": "Europe/Paris", "ES": "Europe/Madrid",
    "DE-BY": "Europe/Berlin", "ZA": "Africa/Johannesburg",
}


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_public_holidays_follow_python_holidays(region: str) -> None:
    """Every day of 2024-2027: closed on exactly python-holidays' dates, open otherwise."""
    zone = REGIONS[region]
    country, subdivision = parse_region(region)
    closed_on_holidays = Hours("Mo-Su 08:00-20:00; PH off", zone, region)
    only_on_holidays = Hours("PH 10:00-12:00", zone, region)
    weekends_and_holidays = Hours("Mo-Fr 08:00-20:00; Sa,Su,PH off", zone, region)
    for year in range(2024, 2028):
        official = holidays.country_holidays(country, subdiv=subdivision, years=year)
        assert len(official) >= 8
        day = date(year, 1, 1)
        while day.year == year:
            noon = at(zone, day.year, day.month, day.day, 11, 0)
            holiday = day in official
            expected = State.CLOSED if holiday else State.OPEN
            assert closed_on_holidays.state(noon) is expected, (region, day)
            assert only_on_holidays.state(noon) is (State.OPEN if holiday else State.CLOSED)
            weekday_open = day.weekday() < 5 and not holiday
            assert weekends_and_holidays.state(noon) is (
                State.OPEN if weekday_open else State.CLOSED), (region, day)
            day += timedelta(days=1)


def test_england_holidays_opening_hours_py_misses_are_closed() -> None:
    hours = Hours("Mo-Su 08:00-20:00; PH off", "Europe/London", "GB-ENG")
    for missed in (date(2025, 1, 1), date(2025, 4, 21), date(2025, 8, 25), date(2026, 4, 6)):
        noon = at("Europe/London", missed.year, missed.month, missed.day, 12)
        assert hours.state(noon) is State.CLOSED, missed


def test_holiday_next_change_skips_to_the_day_after() -> None:
    hours = Hours("Mo-Fr 09:00-17:00; PH off", "Europe/London", "GB-ENG")
    status = hours.status(at("Europe/London", 2025, 4, 18, 12))  # Good Friday
    assert status.state is State.CLOSED
    assert status.next_change == at("Europe/London", 2025, 4, 22, 9, 0)  # after Easter Monday


def test_holidays_in_a_region_without_a_calendar_never_match() -> None:
    hours = Hours("Mo-Su 08:00-20:00; PH off", "Etc/GMT+11", "")
    assert hours.state(datetime(2025, 12, 25, 21, tzinfo=UTC)) is State.OPEN


@pytest.mark.parametrize(("expression", "rewritten"), [
    ("Mo-Fr 09:00-17:00; PH off", "Mo-Fr 09:00-17:00; 2025 Dec 25 off"),
    ("Mo-Fr 09:00-17:00; Sa,PH off", "Mo-Fr 09:00-17:00; Sa off; 2025 Dec 25 off"),
    ("PH,Su 10:00-12:00", "Su 10:00-12:00; 2025 Dec 25 10:00-12:00"),
    ('Mo-Fr 09:00-17:00 "PH; call first"', 'Mo-Fr 09:00-17:00 "PH; call first"'),
    ("Mo-Fr 08:00-12:00, 13:00-17:00; PH off",
     "Mo-Fr 08:00-12:00, 13:00-17:00; 2025 Dec 25 off"),
])
def test_rewrite_of_ph_forms(expression: str, rewritten: str) -> None:
    assert rewrite_public_holidays(expression, (date(2025, 12, 25),)) == rewritten


@pytest.mark.parametrize("expression", ["PH +1 day off", "Jan PH off", "Mo-Fr 09:00 || PH off",
                                        "PH Mo off"])
def test_ph_forms_that_keep_the_library_calendar_are_flagged(expression: str) -> None:
    assert uses_unsupported_holiday_form(expression)
    assert rewrite_public_holidays(expression, (date(2025, 12, 25),)) is None


def test_describe_status_phrases() -> None:
    english = NullTranslations()
    noon = at(CHICAGO, 2025, 6, 11, 12, 0)  # a Wednesday
    weekday = Hours("Mo-Fr 08:00-18:00", CHICAGO, "")
    assert describe(weekday.status(noon), noon, "en", english) == "open until 6:00\u202fPM"
    friday_night = at(CHICAGO, 2025, 6, 13, 20, 0)
    assert describe(weekday.status(friday_night), friday_night, "en_GB", english) == (
        "opens Mon 08:00")
    assert describe(Hours("24/7", CHICAGO, "").status(noon), noon, "en", english) == (
        "open 24 hours")
    assert describe(Hours("", CHICAGO, "").status(noon), noon, "en", english) == (
        "hours unknown, call first")
    early = at(CHICAGO, 2025, 6, 11, 6, 0)
    assert describe(weekday.status(early), early, "es", english) == "opens at 8:00"
