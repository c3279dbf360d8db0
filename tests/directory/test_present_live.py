"""What staff and field reports say, as a phone screen shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from gettext import NullTranslations
from zoneinfo import ZoneInfo

from directory.live import Live, LiveState
from directory.present import describe_live

CHICAGO = "America/Chicago"
ENGLISH = NullTranslations()
# 15:00 in Chicago on Wednesday 11 June 2025 (CDT, UTC-5); the day ends at 05:00 UTC.
AT = datetime(2025, 6, 11, 20, 0, tzinfo=UTC)
UPDATED = datetime(2025, 6, 11, 19, 10, tzinfo=UTC)  # 14:10 there
END_OF_DAY = datetime(2025, 6, 12, 5, 0, tzinfo=UTC)


def said(state: LiveState | None, until: datetime = END_OF_DAY, beds: int | None = None,
         reported: bool = False) -> Live:
    return Live(state, beds, until if state else None, UPDATED if state else None, reported)


def test_full_until_a_time_today_or_another_day() -> None:
    six_pm = datetime(2025, 6, 11, 23, 0, tzinfo=UTC)
    assert describe_live(said(LiveState.FULL, six_pm), AT, "en_GB", ENGLISH,
                         zone=CHICAGO) == "full until 18:00"
    assert describe_live(said(LiveState.FULL, six_pm), AT, "en", ENGLISH,
                         zone=CHICAGO) == "full until 6:00\u202fPM"
    assert describe_live(said(LiveState.FULL), AT, "en_GB", ENGLISH, zone=CHICAGO) == (
        "full today")
    tomorrow = datetime(2025, 6, 12, 14, 0, tzinfo=UTC)
    assert describe_live(said(LiveState.FULL, tomorrow), AT, "en_GB", ENGLISH,
                         zone=CHICAGO) == "full until Thu 09:00"


def test_beds_open_and_closed_say_who_said_it_and_when() -> None:
    assert describe_live(said(LiveState.OPEN, beds=3), AT, "en_GB", ENGLISH,
                         zone=CHICAGO) == "3 beds free (updated 14:10)"
    assert describe_live(said(LiveState.OPEN, beds=1), AT, "en_GB", ENGLISH,
                         zone=CHICAGO) == "1 bed free (updated 14:10)"
    assert describe_live(said(LiveState.OPEN), AT, "en_GB", ENGLISH, zone=CHICAGO) == (
        "open now (said by staff, updated 14:10)")
    assert describe_live(said(LiveState.CLOSED), AT, "en_GB", ENGLISH, zone=CHICAGO) == (
        "closed today (said by staff)")
    four_pm = datetime(2025, 6, 11, 21, 0, tzinfo=UTC)
    assert describe_live(said(LiveState.CLOSED, four_pm), AT, "en_GB", ENGLISH,
                         zone=CHICAGO) == "closed until 16:00 (said by staff)"
    # Without a zone, times are shown in `at`'s own.
    assert describe_live(said(LiveState.OPEN), AT.astimezone(ZoneInfo(CHICAGO)), "en_GB",
                         ENGLISH) == "open now (said by staff, updated 14:10)"
    assert describe_live(said(LiveState.OPEN), AT, "en_GB", ENGLISH) == (
        "open now (said by staff, updated 19:10)")


def test_field_reports_say_call_first() -> None:
    assert describe_live(said(None, reported=True), AT, "en", ENGLISH, zone=CHICAGO) == (
        "reported closed recently: call first")
    assert describe_live(said(None), AT, "en", ENGLISH, zone=CHICAGO) is None
    # Reported closed on a day after the staff said open: both are shown.
    assert describe_live(said(LiveState.OPEN, reported=True), AT, "en_GB", ENGLISH,
                         zone=CHICAGO) == (
        "open now (said by staff, updated 14:10) · reported closed since: call first")
    # Full or closed by staff agree with a report: the staff's word is enough.
    assert describe_live(said(LiveState.CLOSED, reported=True), AT, "en_GB", ENGLISH,
                         zone=CHICAGO) == "closed today (said by staff)"
