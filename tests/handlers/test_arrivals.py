"""/arrived and /join against guessing, over the fake Bot API: an arrival is recorded only by
the referral's own agency, and wrong codes are limited per person and for everyone together,
each hour."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.app import DeflectApplication
from directory.model import Need
from members import MAX_FAILED_JOINS_PER_HOUR_ALL, Role
from referrals.log import MAX_UNKNOWN_CODES_PER_HOUR, MAX_UNKNOWN_CODES_PER_HOUR_ALL
from referrals.model import Pathway, Referral, shown_code
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.handlers.conftest import make_member, referral_rows, runtime

TOO_MANY = "Too many unknown codes this hour. Try again later."


async def _refer(bot: DeflectApplication, agency: str) -> str:
    """A referral made by an officer of `agency`; its code."""
    agency_id = (await runtime(bot).members.ensure_agency(agency, "US")).id
    referral = Referral.new(pathway=Pathway.ACTIVE_OUTREACH, referrer_role="officer",
                            agency_id=agency_id, needs=[Need.DETOX], service_id="demo-001",
                            lat=41.88, lon=-87.63, distance_m=800, consent=True,
                            now=datetime.now(UTC))
    assert await runtime(bot).referrals.record(referral) == referral
    return shown_code(referral.code)


async def _outcomes(bot: DeflectApplication) -> dict[str, tuple[str, str | None]]:
    return {shown_code(row["code"]): (row["outcome"], row["outcome_day"])
            for row in await referral_rows(bot)}


async def _coordinator(bot: DeflectApplication, fake_telegram: FakeTelegram, user_id: int,
                       agency: str) -> FakeUser:
    user = FakeUser(fake_telegram, user_id, first_name="Kim")
    await make_member(bot, user, Role.COORDINATOR, agency=agency)
    return user


async def test_an_evanston_coordinator_cannot_record_a_chicago_arrival(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    chicago = await _refer(bot, "Chicago PD")
    kim = await _coordinator(bot, fake_telegram, 3003, "Evanston PD")
    await kim.send(f"/arrived {chicago}")
    foreign = (await kim.reply()).params["text"]
    unknown_code = "NOPE42"
    await kim.send(f"/arrived {unknown_code}")
    unknown = (await kim.reply()).params["text"]
    # The same answer as for a code that does not exist: nothing tells that it does.
    assert foreign == f"No referral has the code {chicago}. Nothing was changed."
    assert foreign.replace(chicago, unknown_code) == unknown
    assert await _outcomes(bot) == {chicago: ("pending", None)}


async def test_the_same_coordinator_records_its_own_agencys_arrival(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    chicago, evanston = await _refer(bot, "Chicago PD"), await _refer(bot, "Evanston PD")
    kim = await _coordinator(bot, fake_telegram, 3003, "Evanston PD")
    await kim.send(f"/arrived {chicago}")
    await kim.reply("No referral has the code")
    await kim.send(f"/arrived {evanston.lower()}")
    await kim.reply(f"Recorded: the person with code {evanston} arrived.")
    outcomes = await _outcomes(bot)
    assert outcomes[chicago] == ("pending", None)
    assert outcomes[evanston] == ("engaged", datetime.now(UTC).date().isoformat())


async def test_unknown_codes_are_limited_per_coordinator_each_hour(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    chicago, evanston = await _refer(bot, "Chicago PD"), await _refer(bot, "Evanston PD")
    kim = await _coordinator(bot, fake_telegram, 3003, "Evanston PD")
    for attempt in range(MAX_UNKNOWN_CODES_PER_HOUR):
        code = chicago if attempt % 2 else f"NOPE{attempt:02d}"  # another agency's counts
        await kim.send(f"/arrived {code}")
        await kim.reply("No referral has the code")
    await kim.send(f"/arrived {evanston}")  # right, but no longer looked up
    await kim.reply(TOO_MANY)
    assert await _outcomes(bot) == {chicago: ("pending", None), evanston: ("pending", None)}
    lee = await _coordinator(bot, fake_telegram, 3004, "Evanston PD")
    await lee.send(f"/arrived {evanston}")
    await lee.reply(f"Recorded: the person with code {evanston} arrived.")


async def test_many_coordinators_share_one_hourly_ceiling_of_unknown_codes(
        bot: DeflectApplication, fake_telegram: FakeTelegram,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="referrals.log")
    code = await _refer(bot, "Chicago PD")
    per_member = MAX_UNKNOWN_CODES_PER_HOUR - 1  # each stays under its own limit
    accounts = -(-MAX_UNKNOWN_CODES_PER_HOUR_ALL // per_member)
    tried = 0
    for number in range(accounts):
        guesser = await _coordinator(bot, fake_telegram, 4000 + number, "Evanston PD")
        for _ in range(min(per_member, MAX_UNKNOWN_CODES_PER_HOUR_ALL - tried)):
            await guesser.send(f"/arrived NOPE{tried:03d}")
            await guesser.reply("No referral has the code")
            tried += 1
    assert not [r for r in caplog.records if r.name == "referrals.log"]
    kim = await _coordinator(bot, fake_telegram, 3003, "Chicago PD")
    for _ in range(2):
        await kim.send(f"/arrived {code}")
        await kim.reply(TOO_MANY)
    assert await _outcomes(bot) == {code: ("pending", None)}
    (warning,) = [r for r in caplog.records if r.name == "referrals.log"]  # once an hour
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert message == ("arrived: hourly ceiling of unknown codes reached; refusing further "
                       "tries this hour")
    for secret in (code, "3003", "Kim"):  # no code, id or name
        assert secret not in message


async def test_many_users_share_one_hourly_ceiling_of_wrong_join_codes(
        bot: DeflectApplication, fake_telegram: FakeTelegram,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="members.service")
    members = runtime(bot).members
    code = await members.invite(await members.ensure_agency("Chicago PD", "US"), Role.PEER)
    for number in range(MAX_FAILED_JOINS_PER_HOUR_ALL):  # one wrong code each
        user = FakeUser(fake_telegram, 5000 + number)
        await user.send(f"/join WRONG-{number:05d}")
        await user.reply("That code is not valid")
    newcomer = FakeUser(fake_telegram, 6006, first_name="Robin")
    for _ in range(2):
        await newcomer.send(f"/join {code}")
        await newcomer.reply("Too many wrong codes. Try again in an hour.")
    assert await members.membership(6006) is None
    (warning,) = [r for r in caplog.records if r.name == "members.service"]  # once an hour
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert message == ("join: hourly ceiling of wrong codes reached; refusing further tries "
                       "this hour")
    for secret in (code, "6006", "Robin"):  # no code, id or name
        assert secret not in message


@pytest.fixture
def bot(bot_on_either: DeflectApplication) -> DeflectApplication:
    """Every test of this module on both backends (tests/handlers/conftest.py)."""
    return bot_on_either
