"""The warm hand-off end to end over the fake Bot API: the service's staff are told, their
answer shows in the officer's confirmation, a referral they cannot take moves in one tap to
the next nearest open service (the same referral), and arrival is one tap on the notice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app import DeflectApplication
from directory.model import Need
from directory.search import nearest
from handlers.handoff import no_answer
from members import Role
from referrals.model import shown_code
from referrals.privacy import DIRECTORY_TABLES, Finding, inspect
from storage.postgres import PostgresStorage
from storage.sqlite.privacy import Ages, check
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.handlers.conftest import (
    CHICAGO_LOOP,
    officer_at_results,
    referral_rows,
    rows_of,
    runtime,
)

STAFF_A, STAFF_B, STAFF_C = 918_273_645, 918_273_646, 918_273_647


async def detox_near_the_loop(bot: DeflectApplication) -> list[str]:
    found = await nearest(runtime(bot).directory, *CHICAGO_LOOP, [Need.DETOX], limit=3)
    return [match.service.id for match in found]


async def staff(bot: DeflectApplication, fake_telegram: FakeTelegram, user_id: int,
                service_id: str) -> FakeUser:
    members = runtime(bot).members
    agency = await members.ensure_agency(f"Staff of {service_id}", "US")
    await members.add_member(user_id, agency, Role.SERVICE, [service_id])
    return FakeUser(fake_telegram, user_id, first_name="Staff", username=f"staff{user_id}")


def a_message(user: FakeUser) -> dict[str, object]:
    """A message in this user's chat, for a button pressed on it (a forged press)."""
    return {"message_id": 1, "date": int(time.time()), "text": "-",
            "chat": {"id": user.chat, "type": "private"}}


def confirmation(fake_telegram: FakeTelegram, user: FakeUser) -> dict[str, object]:
    return user.keyboard_message_with("Referral logged")


async def test_refer_decline_move_expect_arrive_one_referral(
        bot: DeflectApplication, fake_telegram: FakeTelegram, db_path: Path) -> None:
    first, second, _third = await detox_near_the_loop(bot)
    a = await staff(bot, fake_telegram, STAFF_A, first)
    b = await staff(bot, fake_telegram, STAFF_B, second)
    user = await officer_at_results(bot, fake_telegram)
    a._mark()
    await user.press("Refer to 1")
    await user.reply("Referral logged")
    notice = await a.reply("Someone is on their way")
    (row,) = await referral_rows(bot)
    text = str(notice.params["text"])
    assert shown_code(row["code"]) in text
    assert "Detox" in text
    assert "Active outreach" in text
    assert "1 to 5 km" in text
    for personal in ("Dana", "officer_dana", "1001", "41.87", "-87.62"):
        assert personal not in text
    told = await user.reply("has been told", method="editMessageText")
    assert "Lakeshore" in str(told.params["text"])
    # The officer says how the person travels: the notice shows it.
    await user.press("Walking there", confirmation(fake_telegram, user))
    await a.reply("Walking there", method="editMessageText")
    # Staff A cannot take them: the officer sees it and moves the referral in one tap.
    await a.press("Can't take now: full")
    await user.reply("can't take them now (full)", method="editMessageText")
    b._mark()
    declined = confirmation(fake_telegram, user)
    await user.press("Next nearest open service", declined)
    await user.reply("Moved to", method="editMessageText")
    venue = await user.reply(method="sendVenue")
    # The same button again (a double tap, or the update handled again): one move.
    again = await user.press("Next nearest open service", declined)
    assert await user.toast(again) == "Moved already."
    await b.reply("Someone is on their way")
    await a.reply("went to another service", method="editMessageText")
    assert venue.params["title"] != "Lakeshore Detox Center (demo)"
    await b.press("Expecting them")
    await user.reply("expecting them", method="editMessageText")
    query = await b.press("Arrived")
    assert await b.toast(query) == "Arrival recorded."
    await user.reply("Arrived at", method="editMessageText")
    (row,) = await referral_rows(bot)
    assert (row["service_id"], row["outcome"], row["moves"], row["handoff"]) == (
        second, "engaged", 1, "expected")
    if isinstance(runtime(bot).storage, PostgresStorage):
        await nothing_of_anyone_on_postgresql(bot, (STAFF_A, STAFF_B, 1001))
        return
    # Nothing of anyone in the file: the privacy check, and the staff ids in any form.
    # (`deflect privacy-check` and this byte scan are of the SQLite file and its log.)
    await runtime(bot).storage.maintenance.checkpoint()
    findings, _transient = check(db_path, Ages(conversation_idle_s=1800, retention_days=365,
                                              followup_hours=(24, 72)))
    assert findings == []
    raw = b"".join(path.read_bytes() for path in (
        db_path, db_path.with_name(db_path.name + "-wal")) if path.exists())
    for user_id in (STAFF_A, STAFF_B, 1001):
        assert str(user_id).encode() not in raw
        for size in (4, 6, 8):  # SQLite's own integer sizes, big-endian
            assert user_id.to_bytes(size, "big") not in raw


async def nothing_of_anyone_on_postgresql(bot: DeflectApplication, user_ids: tuple[int, ...]
                                          ) -> None:
    """PostgreSQL's counterpart of the file scan: every value of every table that is not the
    directory's passes the privacy check's rules (referrals/privacy.py), and none holds a
    user id in any form (as a number, as text, or as SQLite's integer bytes in a blob)."""
    storage = runtime(bot).storage
    assert isinstance(storage, PostgresStorage)
    tables = [row["tablename"] for row in await storage.pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert {"referral", "member", "staff", "handoff", "followup"} <= set(tables)
    findings: list[Finding] = []
    for table in tables:
        for row in await rows_of(bot, table):
            for column, value in row.items():
                if not DIRECTORY_TABLES.match(table):
                    finding = inspect(table, column, value)
                    if finding is not None:
                        findings.append(finding)
                for user_id in user_ids:
                    assert not _holds(value, user_id), (table, column)
    assert findings == []


def _holds(value: object, user_id: int) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == user_id
    data = value if isinstance(value, bytes) else str(value).encode()
    return str(user_id).encode() in data or any(
        user_id.to_bytes(size, "big") in data for size in (4, 6, 8))


async def test_no_answer_tells_the_officer_and_changes_nothing_else(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    first, _second, _third = await detox_near_the_loop(bot)
    a = await staff(bot, fake_telegram, STAFF_A, first)
    user = await officer_at_results(bot, fake_telegram)
    await user.press("Refer to 1")
    await a.reply("Someone is on their way")
    # The officer is shown that the staff were told once the hand-off is kept: from then on
    # its answer time runs.
    await user.reply("has been told", method="editMessageText")
    assert await no_answer(bot.bot, runtime(bot)) == 0  # not yet
    user._mark()
    assert await no_answer(bot.bot, runtime(bot), now=time.time() + 11 * 60) == 1
    told = await user.reply("No answer from Lakeshore Detox Center (demo) within 10 minutes")
    assert "call them first" in str(told.params["text"])
    assert await no_answer(bot.bot, runtime(bot), now=time.time() + 12 * 60) == 0  # once
    (row,) = await referral_rows(bot)
    assert (row["service_id"], row["outcome"], row["moves"], row["handoff"]) == (
        first, "pending", 0, "no_answer")
    # A late answer still counts.
    await a.press("Expecting them")
    await user.reply("expecting them", method="editMessageText")


async def test_only_the_services_own_staff_answer_and_forged_buttons_do_nothing(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    first, second, _third = await detox_near_the_loop(bot)
    a = await staff(bot, fake_telegram, STAFF_A, first)
    c = await staff(bot, fake_telegram, STAFF_C, second)
    user = await officer_at_results(bot, fake_telegram)
    await user.press("Refer to 1")
    notice = await a.reply("Someone is on their way")
    markup = notice.params["reply_markup"]
    assert isinstance(markup, dict)
    expecting = markup["inline_keyboard"][0][0]["callback_data"]
    arrived = markup["inline_keyboard"][-1][0]["callback_data"]
    # Staff of another service, an officer, a member of the public: not theirs.
    for outsider in (c, user, FakeUser(fake_telegram, 5555)):
        for data in (expecting, arrived):
            query = await outsider.press_data(data, a_message(outsider))
            assert await outsider.toast(query) == \
                "This referral is not for a service you work at."
    # A referral id that was never made; the officer's buttons from someone else's chat.
    query = await a.press_data("hs:" + "0" * 32 + ":expecting", a_message(a))
    assert await a.toast(query) == "This step has expired."
    (row,) = await referral_rows(bot)
    officer_data = f"hm:{row['id']}:report"
    query = await c.press_data(officer_data, a_message(c))
    assert await c.toast(query) == "This step has expired."
    (row,) = await referral_rows(bot)
    assert (row["outcome"], row["handoff"]) == ("pending", "none")
    assert list(await runtime(bot).directory.live.current()) == []  # no report counted


@pytest.fixture
def bot(bot_on_either: DeflectApplication) -> DeflectApplication:
    """Every test of this module on both backends (tests/handlers/conftest.py)."""
    return bot_on_either
