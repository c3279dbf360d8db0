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
    unknown_reasons,
    uses_sun_times,
)
from directory.hours_rules import read as read_rules
from directory.hours_rules import render, split_rules
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


def rewritten(expression: str, holidays: tuple[date, ...] = (date(2025, 12, 25),)) -> str:
    reading = read_rules(expression)
    assert not reading.unsupported, reading.unsupported
    (layer,) = reading.layers
    return render(layer, {"PH": frozenset(holidays)}, lambda selectors: None)


@pytest.mark.parametrize(("expression", "expected"), [
    ("Mo-Fr 09:00-17:00; PH off", "Mo-Fr 09:00-17:00; 2025 Dec 25 off"),
    ("Mo-Fr 09:00-17:00; Sa,PH off", "Mo-Fr 09:00-17:00; Sa off; 2025 Dec 25 off"),
    ("PH,Su 10:00-12:00", "Su 10:00-12:00; 2025 Dec 25 10:00-12:00"),
    ("PH, Su 10:00-12:00", "Su 10:00-12:00; 2025 Dec 25 10:00-12:00"),
    ('Mo-Fr 09:00-17:00 open "PH; call first"', 'Mo-Fr 09:00-17:00 open "PH; call first"'),
    ("Mo-Fr 08:00-12:00, 13:00-17:00; PH off", "Mo-Fr 08:00-12:00,13:00-17:00; 2025 Dec 25 off"),
    ("Mo-Fr 09:00-12:00, 14:00-18:00; Sa,PH 09:00-12:00, 14:00-17:00",
     "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00,14:00-17:00; "
     "2025 Dec 25 09:00-12:00,14:00-17:00"),
    ("PH +1 day off", "2025 Dec 26 off"),
    ("PH -1 day 10:00-12:00", "2025 Dec 24 10:00-12:00"),
    ("PH Th off", "2025 Dec 25 off"),  # 2025-12-25 is a Thursday
    ("PH Mo off", "1900 Jan 01 off"),
    ("PH We,Fr 10:00-12:00", "1900 Jan 01 10:00-12:00"),
    ('"by appointment"', 'unknown "by appointment"'),
    ('Mo-Fr "on request"', 'Mo-Fr unknown "on request"'),
    ("Mo, Th 08:00-12:00", "Mo,Th 08:00-12:00"),
    ("Mo-Fr 08:00-12:00, We 14:00-18:00", "Mo-Fr 08:00-12:00, We 14:00-18:00"),
    ("Mo off, Tu 14:00-18:00", "Mo off, Tu 14:00-18:00"),
])
def test_rewrite_into_what_the_specification_means(expression: str, expected: str) -> None:
    assert rewritten(expression) == expected


def test_a_comma_inside_a_comment_never_cuts_a_rule() -> None:
    assert split_rules('Mo 10:00-12:00 "A, B; C || D", Tu 09:00-10:00') == [
        ("", 'Mo 10:00-12:00 "A, B; C || D"'), (",", "Tu 09:00-10:00")]


BERLIN = "Europe/Berlin"


@pytest.mark.parametrize("expression", ['"by appointment"', '"nach Vereinbarung"',
                                        'Mo-Fr "nach Vereinbarung"', "Mo-Fr unknown"])
def test_comment_only_hours_are_unknown_never_open(expression: str) -> None:
    hours = Hours(expression, BERLIN, "DE-BW")
    for day in range(8, 15):  # a whole week of June 2025, day and night
        for hour in (3, 10, 15, 22):
            assert hours.state(at(BERLIN, 2025, 6, day, hour)) is not State.OPEN
    assert hours.state(at(BERLIN, 2025, 6, 10, 10)) is State.UNKNOWN


def test_a_comment_fallback_is_unknown_outside_the_hours() -> None:
    hours = Hours('Mo-Fr 09:00-12:00 || "nach telefonischer Vereinbarung"', BERLIN, "DE-BW")
    assert hours.state(at(BERLIN, 2025, 6, 10, 10)) is State.OPEN  # Tuesday
    assert hours.state(at(BERLIN, 2025, 6, 10, 15)) is State.UNKNOWN  # Tuesday afternoon
    assert hours.state(at(BERLIN, 2025, 6, 15, 3)) is State.UNKNOWN  # Sunday 03:00
    status = hours.status(at(BERLIN, 2025, 6, 10, 10))
    assert status.next_change == at(BERLIN, 2025, 6, 10, 12)
    assert hours.status(at(BERLIN, 2025, 6, 10, 15)).comment == "nach telefonischer Vereinbarung"


def test_off_rules_after_a_fallback_close_where_they_match() -> None:
    hours = Hours('Mo-Fr 09:00-12:00 || "call"; PH off', BERLIN, "DE-BW")
    assert hours.state(at(BERLIN, 2025, 6, 10, 15)) is State.UNKNOWN
    assert hours.state(at(BERLIN, 2025, 6, 19, 10)) is State.CLOSED  # Corpus Christi in BW


def test_weekday_list_with_a_space_after_the_comma() -> None:
    hours = Hours("Mo, Th 08:00-12:00", BERLIN, "")
    assert hours.state(at(BERLIN, 2025, 6, 9, 10)) is State.OPEN  # Monday
    assert hours.state(at(BERLIN, 2025, 6, 9, 15)) is State.CLOSED  # not all of Monday
    assert hours.state(at(BERLIN, 2025, 6, 12, 10)) is State.OPEN  # Thursday
    assert hours.state(at(BERLIN, 2025, 6, 10, 23)) is State.CLOSED


def test_time_lists_with_spaces_survive_the_holiday_rewrite() -> None:
    hours = Hours("Mo-Fr 09:00-12:00, 14:00-18:00; Sa,PH 09:00-12:00, 14:00-17:00",
                  BERLIN, "DE-BW")
    assert hours.state(at(BERLIN, 2025, 6, 14, 15)) is State.OPEN  # Saturday 15:00
    assert hours.state(at(BERLIN, 2025, 6, 19, 15)) is State.OPEN  # Corpus Christi 15:00
    assert hours.state(at(BERLIN, 2025, 6, 19, 17, 30)) is State.CLOSED
    assert hours.state(at(BERLIN, 2025, 6, 18, 17, 30)) is State.OPEN


def test_holiday_forms_are_exact() -> None:
    # 2025 in Baden-Württemberg: Epiphany Mon 6 Jan, Easter Monday 21 Apr, Whit Monday 9 Jun.
    ph_monday = Hours("Mo-Su 08:00-20:00; PH Mo off", BERLIN, "DE-BW")
    assert ph_monday.state(at(BERLIN, 2025, 4, 21, 12)) is State.CLOSED
    assert ph_monday.state(at(BERLIN, 2025, 4, 28, 12)) is State.OPEN  # an ordinary Monday
    assert ph_monday.state(at(BERLIN, 2025, 4, 18, 12)) is State.OPEN  # Good Friday: not Mo
    january = Hours("Mo-Su 08:00-20:00; Jan PH off", BERLIN, "DE-BW")
    assert january.state(at(BERLIN, 2025, 1, 6, 12)) is State.CLOSED  # Epiphany
    assert january.state(at(BERLIN, 2025, 4, 21, 12)) is State.OPEN
    after = Hours("Mo-Su 08:00-20:00; PH +1 day off", BERLIN, "DE-BW")
    assert after.state(at(BERLIN, 2025, 1, 7, 12)) is State.CLOSED
    assert after.state(at(BERLIN, 2025, 1, 6, 12)) is State.OPEN
    before = Hours("PH -1 day Mo-We 10:00-12:00", BERLIN, "DE-BW")
    assert before.state(at(BERLIN, 2025, 6, 18, 11)) is State.OPEN  # We before Corpus Christi
    assert before.state(at(BERLIN, 2025, 4, 17, 11)) is State.CLOSED  # Th before Good Friday
    wednesday = Hours("PH We,Fr 10:00-12:00", BERLIN, "DE-BW")
    assert wednesday.state(at(BERLIN, 2025, 4, 18, 11)) is State.OPEN  # Good Friday
    assert wednesday.state(at(BERLIN, 2025, 4, 21, 11)) is State.CLOSED  # Easter Monday


def test_school_holidays_with_a_calendar_and_without() -> None:
    # Baden-Württemberg's summer holidays 2025: 31 July to 13 September (KMK).
    bw = Hours("Mo-Fr 09:00-17:00; SH off", BERLIN, "DE-BW")
    assert bw.state(at(BERLIN, 2025, 8, 12, 10)) is State.CLOSED
    assert bw.state(at(BERLIN, 2025, 10, 7, 10)) is State.OPEN
    elsewhere = Hours("Mo-Fr 09:00-17:00; SH off", "Europe/Paris", "FR")
    assert elsewhere.state(at("Europe/Paris", 2025, 8, 12, 10)) is State.UNKNOWN
    (reason,) = unknown_reasons("Mo-Fr 09:00-17:00; SH off", "FR")
    assert "school" in reason.render(NullTranslations())
    assert unknown_reasons("Mo-Fr 09:00-17:00; SH off", "DE-BW") == []


@pytest.mark.parametrize("expression", [
    "Mo-Fr 09:00-17:00; SH PH -1 day Mo-We off",  # not a form of the specification
    "Su 11:00-01:00; Jan-Dec Sa 11:00-02:00",  # a night into a day an earlier rule names
    "Apr 05-easter -1 day 10:00-12:00",
    "Mo-Fr 09:00-12:00 || Sa 10:00-12:00; Su 10:00-11:00",
    "Mo-Sa 18:00+",
])
def test_forms_read_differently_by_opening_hours_py_are_unknown(expression: str) -> None:
    hours = Hours(expression, BERLIN, "DE-BW")
    for day in range(6, 13):
        for hour in (1, 11, 19):
            assert hours.state(at(BERLIN, 2025, 4, day, hour)) is State.UNKNOWN, (day, hour)
    assert unknown_reasons(expression, "DE-BW")


def test_a_later_rules_night_on_a_day_an_earlier_rule_names_is_kept() -> None:
    # As opening_hours.js reads it: Saturday's night runs into Sunday; opening-hours-py alone
    # would drop it because the earlier rule names Sunday.
    hours = Hours("Mo,Tu,We,Th,Fr,Su 11:00-01:00; Sa 11:00-02:00", BERLIN, "")
    assert hours.state(at(BERLIN, 2025, 6, 15, 1, 30)) is State.OPEN  # Sunday 01:30
    assert hours.state(at(BERLIN, 2025, 6, 15, 2, 30)) is State.CLOSED
    assert hours.state(at(BERLIN, 2025, 6, 16, 0, 30)) is State.OPEN  # Sunday's own night
    # A later rule naming the day still cancels the night, in both readings.
    later = Hours("Sa 11:00-02:00; Su 11:00-01:00", BERLIN, "")
    assert later.state(at(BERLIN, 2025, 6, 15, 1, 30)) is State.CLOSED


def test_reasons_for_import_warnings() -> None:
    english = NullTranslations()
    (comment,) = unknown_reasons('Mo-Fr 09:00-12:00 || "nach Vereinbarung"', "DE-BW")
    assert "nach Vereinbarung" in comment.render(english)
    assert "unknown" in comment.render(english)
    assert unknown_reasons("Mo-Fr 09:00-17:00; PH off", "DE-BW") == []
    assert unknown_reasons("", None) == []


def test_sun_times_at_the_services_coordinates() -> None:
    # Berlin, 21 June 2025: sunrise 04:43, sunset 21:33 (CEST).
    hours = Hours("sunrise-sunset", BERLIN, "DE-BE", lat=52.52, lon=13.40)
    assert hours.state(at(BERLIN, 2025, 6, 21, 4, 40)) is State.CLOSED
    assert hours.state(at(BERLIN, 2025, 6, 21, 4, 50)) is State.OPEN
    assert hours.state(at(BERLIN, 2025, 6, 21, 21, 30)) is State.OPEN
    assert hours.state(at(BERLIN, 2025, 6, 21, 21, 40)) is State.CLOSED
    assert hours.status(at(BERLIN, 2025, 6, 21, 12)).next_change == at(BERLIN, 2025, 6, 21,
                                                                        21, 33)
    # Without coordinates the library would use fixed times: unknown instead.
    assert Hours("sunrise-sunset", BERLIN, "DE-BE").state(
        at(BERLIN, 2025, 6, 21, 12)) is State.UNKNOWN
    assert Hours("Mo-Fr 08:00-12:00", BERLIN, "", lat=52.52, lon=13.40).state(
        at(BERLIN, 2025, 6, 20, 9)) is State.OPEN
    assert uses_sun_times("Mo-Fr 08:00-sunset")
    assert uses_sun_times("(dawn+01:00)-18:00")
    assert not uses_sun_times('Mo-Fr 08:00-18:00 "not after sunset"')


@pytest.mark.parametrize(("zone", "lat", "lon", "month"), [
    ("Arctic/Longyearbyen", 78.22, 15.65, 6), ("Arctic/Longyearbyen", 78.22, 15.65, 12),
    ("Antarctica/McMurdo", -77.85, 166.67, 6), ("Antarctica/McMurdo", -77.85, 166.67, 12),
])
def test_sun_times_where_the_sun_does_not_rise_or_set_are_unknown(
        zone: str, lat: float, lon: float, month: int) -> None:
    hours = Hours("sunrise-sunset", zone, "", lat=lat, lon=lon)
    assert hours.state(at(zone, 2025, month, 21, 12)) is State.UNKNOWN


@pytest.mark.parametrize(("zone", "wall"), [
    (CHICAGO, datetime(2025, 3, 9, 2, 30)), ("Europe/London", datetime(2025, 3, 30, 1, 30)),
    (CHICAGO, datetime(2025, 11, 2, 1, 30)), ("Australia/Lord_Howe", datetime(2025, 10, 5, 2, 15)),
])
def test_aware_times_in_a_dst_gap_or_overlap_never_raise(zone: str, wall: datetime) -> None:
    for expression in ("Mo-Su 00:00-24:00", "Mo-Su 02:00-03:00", "sunrise-sunset",
                       'Mo-Fr 09:00-12:00 || "call"'):
        hours = Hours(expression, zone, "", lat=41.9, lon=-87.6)
        for fold in (0, 1):
            moment = wall.replace(tzinfo=ZoneInfo(zone), fold=fold)
            hours.state(moment)
            hours.status(moment)
    gap = datetime(2025, 3, 9, 2, 30, tzinfo=ZoneInfo(CHICAGO))  # read as 03:30 CDT
    assert Hours("Mo-Su 03:00-04:00", CHICAGO, "").state(gap) is State.OPEN


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
