"""Recording an arrival, without Telegram: only the referral's own agency may, and unknown
codes are limited per member and for everyone together, each hour. On both backends (a real
SQLite file, a real PostgreSQL database)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from directory.model import Need
from members import Agency
from referrals.log import (
    MAX_UNKNOWN_CODES_PER_HOUR,
    MAX_UNKNOWN_CODES_PER_HOUR_ALL,
    ReferralLog,
)
from referrals.model import Outcome, Pathway, Referral, Refused
from storage.ports import Storage
from tests.referrals.support import select

NOW = datetime(2026, 11, 20, 15, 10, tzinfo=UTC)


async def _agencies(storage: Storage) -> tuple[Agency, Agency]:
    return (await storage.members.ensure_agency("Chicago PD", "US"),
            await storage.members.ensure_agency("Evanston PD", "US"))


async def _refer(log: ReferralLog, agency: Agency) -> Referral:
    referral = Referral.new(pathway=Pathway.ACTIVE_OUTREACH, referrer_role="officer",
                            agency_id=agency.id, needs=[Need.DETOX], service_id="demo-001",
                            lat=41.88, lon=-87.63, distance_m=900, consent=True, now=NOW)
    assert await log.record(referral)
    return referral


async def _row(storage: Storage, referral: Referral) -> tuple[str, str | None]:
    rows = await select(storage, "SELECT outcome, outcome_day FROM referral WHERE id = ?",
                        referral.id)
    return str(rows[0][0]), rows[0][1]


async def test_an_outcome_is_recorded_only_by_the_referrals_own_agency(
        any_storage: Storage) -> None:
    log = ReferralLog(any_storage.referrals)
    chicago, evanston = await _agencies(any_storage)
    referral = await _refer(log, chicago)
    # Another agency's code is answered exactly as an unknown one, and changes nothing.
    assert await log.record_outcome(referral.code, Outcome.ENGAGED,
                                    agency_id=evanston.id) is None
    assert await log.record_outcome("NOPE42", Outcome.ENGAGED, agency_id=evanston.id) is None
    assert await log.confirm_arrival(referral.code, agency_id=evanston.id,
                                     member_key=b"evanston-kim", now=NOW) is None
    assert await _row(any_storage, referral) == ("pending", None)
    assert await log.confirm_arrival(referral.code.lower(), agency_id=chicago.id,
                                     member_key=b"chicago-kim", now=NOW) is Outcome.PENDING
    assert await _row(any_storage, referral) == ("engaged", NOW.date().isoformat())


async def test_unknown_codes_are_limited_per_member_and_hour(any_storage: Storage) -> None:
    log = ReferralLog(any_storage.referrals)
    chicago, evanston = await _agencies(any_storage)
    own, foreign = await _refer(log, evanston), await _refer(log, chicago)
    for attempt in range(MAX_UNKNOWN_CODES_PER_HOUR):
        # Unknown codes and another agency's count alike.
        code = foreign.code if attempt % 2 else f"NOPE{attempt}"
        assert await log.confirm_arrival(code, agency_id=evanston.id, member_key=b"kim",
                                         now=NOW) is None
    # Refused before anything is looked up: a right code now tells nothing either.
    assert await log.confirm_arrival(own.code, agency_id=evanston.id, member_key=b"kim",
                                     now=NOW) is Refused.MEMBER
    assert await _row(any_storage, own) == ("pending", None)
    rows = await select(any_storage,
                        "SELECT kind, member_hmac, hour, failures FROM guess_attempt")
    assert rows == [("arrived", b"kim", "2026-11-20T15", MAX_UNKNOWN_CODES_PER_HOUR)]
    # Another member is not held back, nor is the same one the next hour.
    assert await log.confirm_arrival(own.code, agency_id=evanston.id, member_key=b"lee",
                                     now=NOW) is Outcome.PENDING
    assert await log.confirm_arrival(foreign.code, agency_id=evanston.id, member_key=b"kim",
                                     now=NOW + timedelta(hours=1)) is None
    assert await _row(any_storage, foreign) == ("pending", None)


async def test_everyones_unknown_codes_share_one_hourly_ceiling(
        any_storage: Storage, caplog: pytest.LogCaptureFixture) -> None:
    log = ReferralLog(any_storage.referrals)
    chicago, _evanston = await _agencies(any_storage)
    referral = await _refer(log, chicago)
    members = [f"member-{number}".encode() for number in range(
        MAX_UNKNOWN_CODES_PER_HOUR_ALL // (MAX_UNKNOWN_CODES_PER_HOUR - 1) + 1)]
    tried = 0
    for key in members:  # each stays under its own limit
        for _ in range(MAX_UNKNOWN_CODES_PER_HOUR - 1):
            if tried < MAX_UNKNOWN_CODES_PER_HOUR_ALL:
                assert await log.confirm_arrival(f"NOPE{tried:02d}", agency_id=chicago.id,
                                                 member_key=key, now=NOW) is None
                tried += 1
    assert tried == MAX_UNKNOWN_CODES_PER_HOUR_ALL
    caplog.set_level(logging.WARNING, logger="referrals.log")
    for fresh in (b"newcomer", b"another"):
        assert await log.confirm_arrival(referral.code, agency_id=chicago.id,
                                         member_key=fresh, now=NOW) is Refused.EVERYONE
    assert await _row(any_storage, referral) == ("pending", None)
    warnings = [r for r in caplog.records if r.name == "referrals.log"]
    assert [r.levelno for r in warnings] == [logging.WARNING]  # once, not once a try
    message = warnings[0].getMessage()
    assert "ceiling" in message
    assert referral.code not in message
    assert "newcomer" not in message
    # The next hour starts afresh.
    assert await log.confirm_arrival(referral.code, agency_id=chicago.id,
                                     member_key=b"newcomer",
                                     now=NOW + timedelta(hours=1)) is Outcome.PENDING


async def test_guesses_at_once_from_many_members_never_pass_the_ceiling(
        any_storage: Storage) -> None:
    """Checked and counted in one transaction: guesses arriving together (as updates from
    different chats do) cannot all slip under the ceiling before any is counted."""
    log = ReferralLog(any_storage.referrals)
    chicago, _evanston = await _agencies(any_storage)
    tries = [log.confirm_arrival(f"NOPE{number:03d}", agency_id=chicago.id,
                                 member_key=f"member-{number % 40}".encode(), now=NOW)
             for number in range(2 * MAX_UNKNOWN_CODES_PER_HOUR_ALL)]
    results = await asyncio.gather(*tries)
    assert results.count(None) == MAX_UNKNOWN_CODES_PER_HOUR_ALL
    assert results.count(Refused.EVERYONE) == MAX_UNKNOWN_CODES_PER_HOUR_ALL
    rows = await select(any_storage, "SELECT sum(failures) FROM guess_attempt")
    assert rows == [(MAX_UNKNOWN_CODES_PER_HOUR_ALL,)]
