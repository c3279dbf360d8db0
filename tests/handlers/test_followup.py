"""Closing the loop: reminders after a referral, /arrived, and confirmations that got lost."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import DeflectApplication
from bot.network import NETWORK_RETRIES
from bot.settings import Settings
from handlers.followup import send_due
from members import Role
from referrals.model import shown_code
from storage.postgres.followups import PostgresFollowUpStore
from storage.sqlite.followups import SqliteFollowUpStore
from tests.fake_telegram import FakeTelegram, FakeUser, Fault
from tests.handlers.conftest import (
    make_member,
    officer,
    pick_detox_and_share_location,
    polling,
    referral_rows,
    rows_of,
    runtime,
    walk_to_needs,
)

HOUR = 3600


async def refer(bot: DeflectApplication, user: FakeUser) -> str:
    """Walk `user` (an officer) to a referral; returns its code."""
    await walk_to_needs(user)
    await pick_detox_and_share_location(user)
    await user.press("Refer to 1")
    confirmation = await user.reply("Referral logged. Code: ")
    return str(confirmation.params["text"]).split("Code: ")[1].split()[0]


async def pending(bot: DeflectApplication) -> list[tuple[int, int]]:
    """(chat, reminders sent) of each reminder; the chat id is only ever stored sealed (the
    SQLite file keeps an always-empty `chat_id` column from before ids were sealed;
    PostgreSQL's table has no such column)."""
    store = runtime(bot).storage.followups
    assert isinstance(store, SqliteFollowUpStore | PostgresFollowUpStore)
    rows = await rows_of(bot, "followup")
    if isinstance(store, SqliteFollowUpStore):
        assert all(row["chat_id"] is None for row in rows)
    else:
        assert all("chat_id" not in row for row in rows)
    return [(store._chat(str(r["referral_id"]), bytes(r["sealed_chat"])), int(r["sent"]))
            for r in rows]


async def test_reminders_at_24_and_72_hours_survive_a_restart_and_record_the_answer(
        fake_telegram: FakeTelegram, settings_on_either: Settings) -> None:
    settings = settings_on_either
    user = officer(fake_telegram)
    made = time.time()
    async with polling(settings) as bot:
        await make_member(bot, user, Role.OFFICER)
        code = await refer(bot, user)
        assert await pending(bot) == [(user.chat, 0)]
        assert await send_due(bot.bot, runtime(bot), made + 23 * HOUR) == 0  # not yet due
    # A restart between the referral and its reminder loses nothing.
    async with polling(settings) as bot:
        user.cursor = len(fake_telegram.chat_calls[user.chat])
        assert await send_due(bot.bot, runtime(bot), made + 24 * HOUR + 60) == 1
        first = await user.reply("Did the person get to the service?")
        assert code in first.params["text"]
        assert "Lakeshore Detox Center (demo)" in first.params["text"]
        assert user.buttons() == ["Yes, they engaged", "Not yet", "They declined", "Don't know",
                                  "Service was closed / turned them away"]
        await user.press("Not yet")
        edited = await user.reply(f"Referral {code}: not yet.")
        assert "I will ask again later." in edited.params["text"]
        (row,) = await referral_rows(bot)
        assert (row["outcome"], row["outcome_day"]) == ("not_yet", time.strftime(
            "%Y-%m-%d", time.gmtime()))
        assert await send_due(bot.bot, runtime(bot), made + 30 * HOUR) == 0
        assert await send_due(bot.bot, runtime(bot), made + 72 * HOUR + 60) == 1
        await user.reply("Did the person get to the service?")
        second = user.last_keyboard_message()
        await user.press("Yes, they engaged")
        await user.reply(f"Referral {code}: recorded as engaged.")
        (row,) = await referral_rows(bot)
        assert row["outcome"] == "engaged"
        assert await pending(bot) == []  # answered: the chat id is gone
        # Its buttons, pressed again, change nothing.
        query = await user.press("They declined", second)
        assert await user.toast(query) == "This question has expired."
        assert (await referral_rows(bot))[0]["outcome"] == "engaged"


async def test_a_forged_answer_for_someone_elses_referral_changes_nothing(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    dana, other = officer(fake_telegram), officer(fake_telegram, 1002)
    await make_member(bot, dana, Role.OFFICER)
    await make_member(bot, other, Role.OFFICER)
    await refer(bot, dana)
    assert await send_due(bot.bot, runtime(bot), time.time() + 25 * HOUR) == 1
    (row,) = await referral_rows(bot)
    await other.send("/start")
    await other.reply("Deflect finds")
    query = await other.press_data(f"fu:{row['id']}:engaged")
    assert await other.toast(query) == "This question has expired."
    assert (await referral_rows(bot))[0]["outcome"] == "pending"
    assert await pending(bot) == [(dana.chat, 1)]


async def test_no_reminder_after_arrival_is_confirmed_or_for_the_public(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    dana = officer(fake_telegram)
    coordinator = FakeUser(fake_telegram, 3003, first_name="Kim")
    await make_member(bot, dana, Role.OFFICER)
    await make_member(bot, coordinator, Role.COORDINATOR)
    code = await refer(bot, dana)
    await coordinator.send(f"/arrived {code}")
    await coordinator.reply("arrived")
    assert [(row["role"], row["command"]) for row in await rows_of(bot, "audit")] == [
        ("coordinator", "/arrived")]
    person = FakeUser(fake_telegram, 7007)
    await person.send("/find")
    await person.reply("What does the person need?")
    await pick_detox_and_share_location(person)
    await person.press("Code for 1")
    await person.reply("Your referral code")
    assert len(await referral_rows(bot)) == 2
    assert await send_due(bot.bot, runtime(bot), time.time() + 25 * HOUR) == 0
    assert await pending(bot) == []
    assert [c for c in fake_telegram.calls if "Did the person" in str(c.params.get("text"))] == []


async def test_a_blocked_chat_gets_no_more_reminders_and_a_network_failure_tries_later(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    dana, sam = officer(fake_telegram), FakeUser(fake_telegram, 2002)
    await make_member(bot, dana, Role.OFFICER)
    await make_member(bot, sam, Role.PEER)
    await refer(bot, dana)
    await refer(bot, sam)
    await sam.reply("Phone: +1 312-555-0101")  # the last thing the referral sends
    now = time.time() + 25 * HOUR
    # Dana blocked the bot (403); Sam's reminder fails on the first try and on every one of
    # bot/network.py's retries (500).
    fake_telegram.faults.append(Fault("sendMessage", 403, chat_id=dana.chat))
    fake_telegram.faults.extend(Fault("sendMessage", 500, chat_id=sam.chat)
                                for _ in range(NETWORK_RETRIES + 1))
    assert await send_due(bot.bot, runtime(bot), now) == 0
    assert await pending(bot) == [(sam.chat, 0)]
    assert await send_due(bot.bot, runtime(bot), now + 60) == 0  # postponed, not yet due
    assert await send_due(bot.bot, runtime(bot), now + 6 * 60) == 1
    await sam.reply("Did the person get to the service?")


async def test_a_confirmation_that_cannot_be_delivered_is_shown_next_time(
        bot: DeflectApplication, fake_telegram: FakeTelegram,
        caplog: pytest.LogCaptureFixture) -> None:
    dana = officer(fake_telegram)
    await make_member(bot, dana, Role.OFFICER)
    await walk_to_needs(dana)
    await pick_detox_and_share_location(dana)
    # The first try and every retry of the confirmation fail.
    fake_telegram.faults.extend(Fault("editMessageText", 502, chat_id=dana.chat)
                                for _ in range(NETWORK_RETRIES + 1))
    await dana.press("Refer to 1")
    (row,) = await referral_rows_when_given_up(bot, dana)
    assert not [c for c in fake_telegram.chat_calls[dana.chat]
                if "Referral logged" in str(c.params.get("text"))]
    assert "referral confirmation not delivered" in caplog.text
    await dana.send("/start")
    notice = await dana.reply("did not reach you")
    assert f"Code {shown_code(row['code'])}: Lakeshore Detox Center (demo)" in notice.params["text"]
    await dana.reply("Deflect finds")  # and then what they asked for
    # Shown once.
    await dana.send("/help")
    await dana.reply("/find")
    assert sum("did not reach you" in str(c.params.get("text"))
               for c in fake_telegram.chat_calls[dana.chat]) == 1


async def referral_rows_when_given_up(bot: DeflectApplication, user: FakeUser
                                      ) -> list[dict[str, Any]]:
    """The referral rows once the confirmation has been given up on."""
    key = runtime(bot).members.user_key(user.id)
    for _ in range(200):
        if runtime(bot).undelivered.waiting(key):
            return await referral_rows(bot)
        await asyncio.sleep(0.05)
    raise AssertionError("the confirmation was never given up on")


@pytest.fixture
async def bot(settings_on_either: Settings) -> AsyncIterator[DeflectApplication]:
    """Every test of this module on both backends (tests/handlers/conftest.py's
    bot_on_either), with failed calls retried after 0.01 s, 0.02 s, ... rather than 0.05 s,
    ...: giving up takes 0.3 s, not 1.5 s, which keeps the two runs quick."""
    settings = dataclasses.replace(settings_on_either, telegram_retry_pause_s=0.01)
    async with polling(settings) as application:
        yield application
