"""Exactly once, whatever fails: the code a person is shown is the code in the log.

A referral's id and code are fixed when the results are shown; the referral and its reminders
are written in one transaction; any later press of a "Refer" button of the same results (a
double tap, a redelivered update, a press after a crash) shows what the log holds and writes
nothing. A clash of codes draws another; a failure while logging writes nothing, and the same
press works again.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from bot.app import DeflectApplication
from members import Role
from members.keys import CODE_ALPHABET
from referrals.model import Pathway, Referral, shown_code
from referrals.ports import Reminder
from storage.sqlite import SqliteStorage
from tests.fake_telegram import FakeTelegram, FakeUser, Fault
from tests.handlers.conftest import (
    StateAt,
    make_member,
    officer_at_results,
    pick_detox_and_share_location,
    referral_rows,
    rows_of,
    runtime,
    start_bot,
    walk_to_needs,
)
from tests.handlers.test_restart import officer_in_file

FORCED = "AAAABBBB"


def shown_in(text: str, marker: str) -> str:
    """The code a confirmation shows after `marker` ("Code: ")."""
    return text.split(marker)[1].split()[0]


async def until(condition: object, wait_s: float = 20) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def test_sigkill_between_the_log_and_the_confirmation_then_another_press_shows_the_log(
        fake_telegram: FakeTelegram, state_at: StateAt) -> None:
    await officer_in_file(state_at)

    first = await start_bot(fake_telegram, state_at)
    user = FakeUser(fake_telegram, 1001)
    try:
        await walk_to_needs(user)
        await pick_detox_and_share_location(user)
        results = user.last_keyboard_message()
        assert "Refer to 2" in user.buttons()
        # The confirmation never comes back: the bot is inside that call when it is killed,
        # after the referral was committed.
        fake_telegram.faults.append(Fault("editMessageText", chat_id=user.chat, hang=True))
        await user.press("Refer to 1", results)
        await until(lambda: fake_telegram.hung)
        shown_nowhere = str(fake_telegram.hung[0].params["text"])
    finally:
        first.kill()  # SIGKILL
        await first.wait()
    (logged,) = await state_at.rows("SELECT id, code, service_id FROM referral")
    # The reminder was written with it.
    assert await state_at.rows("SELECT referral_id FROM followup") == [(logged[0],)]
    assert shown_in(shown_nowhere, "Code: ") == shown_code(logged[1])

    second = await start_bot(fake_telegram, state_at)
    try:
        # After the restart, the officer presses again: another service's button, even.
        await user.press("Refer to 2", results)
        confirmation = await user.reply("Referral logged")
        venue = await user.reply(method="sendVenue")
    finally:
        second.terminate()
        await second.wait()
    text = str(confirmation.params["text"])
    assert shown_in(text, "Code: ") == shown_code(logged[1])
    assert "Lakeshore Detox Center (demo)" in text  # the first service: the one logged
    assert venue.params["title"] == "Lakeshore Detox Center (demo)"
    assert logged[2] == "demo-001"
    assert await state_at.rows("SELECT id, code, service_id FROM referral") == [logged]
    assert await state_at.rows("SELECT count(*) FROM followup") == [(1,)]


async def test_a_code_clash_draws_another_code_for_members_of_the_public(
        bot_on_either: DeflectApplication, fake_telegram: FakeTelegram,
        monkeypatch: pytest.MonkeyPatch) -> None:
    bot = bot_on_either
    # Every code the results draw is the same one: the log must tell the second person
    # another code, and keep both referrals.
    monkeypatch.setattr("handlers.checklist.results.new_referral_code", lambda: FORCED)
    shown = []
    for user_id in (3001, 3002):
        person = FakeUser(fake_telegram, user_id)
        await person.send("/find")
        await person.reply("What does")
        await pick_detox_and_share_location(person)
        await person.press("Code for 1")
        shown.append(shown_in(str((await person.reply("Your referral code")).params["text"]),
                              "code: "))
    rows = await referral_rows(bot)
    assert len(rows) == 2
    assert shown[0] == "AAAA-BBBB"  # the first person got the code drawn
    assert shown[1] != "AAAA-BBBB"  # the second, another one
    assert sorted(shown) == sorted(shown_code(row["code"]) for row in rows)


async def test_a_failure_while_logging_writes_nothing_and_the_same_press_works_again(
        bot_on_either: DeflectApplication, fake_telegram: FakeTelegram,
        monkeypatch: pytest.MonkeyPatch) -> None:
    bot = bot_on_either
    user = await officer_at_results(bot, fake_telegram)
    results = user.last_keyboard_message()
    store = runtime(bot).storage.referrals
    write = store.write_reminder  # type: ignore[attr-defined]
    failures: list[str] = []

    async def locked_once(*args: Any) -> None:
        # (referral_id, reminder) on SQLite; (connection, referral_id, reminder) on PostgreSQL
        if not failures:
            failures.append(next(arg for arg in args if isinstance(arg, str)))
            raise ConnectionResetError("the database went away while logging")
        await write(*args)

    monkeypatch.setattr(store, "write_reminder", locked_once)
    await user.press("Refer to 1", results)
    await user.reply("Something went wrong on our side")
    assert await referral_rows(bot) == []  # the referral went with its reminder
    assert await rows_of(bot, "followup") == []
    await user.press("Refer to 1", results)
    confirmation = await user.reply("Referral logged")
    (row,) = await referral_rows(bot)
    assert row["id"] == failures[0]  # the same referral, now logged
    assert shown_in(str(confirmation.params["text"]), "Code: ") == shown_code(row["code"])
    assert [followup["referral_id"] for followup in await rows_of(bot, "followup")] == [
        row["id"]]
    # The checklist done again is a new referral, but the old buttons log nothing more.
    query = await user.press("Refer to 1", results)
    assert await user.toast(query) == "This step has expired."
    assert len(await referral_rows(bot)) == 1


async def test_codes_are_eight_characters_shown_in_two_groups_and_arrived_takes_any_form(
        bot_on_either: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    bot = bot_on_either
    user = await officer_at_results(bot, fake_telegram)
    await user.press("Refer to 1")
    shown = shown_in(str((await user.reply("Referral logged")).params["text"]), "Code: ")
    (row,) = await referral_rows(bot)
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{8}}", row["code"])
    assert shown == f"{row['code'][:4]}-{row['code'][4:]}"
    coordinator = FakeUser(fake_telegram, 1009)
    await make_member(bot, coordinator, Role.COORDINATOR)
    for typed, answer in ((shown.lower(), "arrived"), (row["code"], "already recorded"),
                          (f"{shown[:4]} {shown[5:].lower()}", "already recorded")):
        await coordinator.send(f"/arrived {typed}")
        reply = str((await coordinator.reply(answer)).params["text"])
        assert shown in reply


def made(referral_id: str, code: str, service: str) -> Referral:
    return Referral.made_by(None, pathway=Pathway.SELF_REFERRAL, service_id=service,
                            consent=True, referral_id=referral_id, code=code)


async def test_the_store_keeps_one_row_per_id_and_redraws_a_clashing_code(
        storage: SqliteStorage) -> None:
    first = await storage.referrals.add(made("a" * 32, FORCED, "s1"))
    assert first.code == FORCED
    again = await storage.referrals.add(made("a" * 32, "CCCCDDDD", "s2"))
    assert (again.code, again.service_id) == (FORCED, "s1")  # the log's, not the new one's
    other = await storage.referrals.add(made("b" * 32, FORCED, "s3"))
    assert other.code != FORCED
    assert other.id == "b" * 32
    rows = list(await storage.db.execute_fetchall(
        "SELECT id, code, service_id FROM referral ORDER BY id"))
    assert rows == [("a" * 32, FORCED, "s1"), ("b" * 32, other.code, "s3")]
    assert await storage.referrals.get("b" * 32) == other


async def test_a_code_generator_that_only_clashes_logs_nothing(
        storage: SqliteStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    await storage.referrals.add(made("a" * 32, FORCED, "s1"))
    monkeypatch.setattr("storage.sqlite.referrals.new_referral_code", lambda: FORCED)
    with pytest.raises(RuntimeError, match="no free referral code"):
        await storage.referrals.add(made("b" * 32, FORCED, "s2"),
                                    Reminder(555, "en", 0, 3600))
    assert list(await storage.db.execute_fetchall("SELECT id FROM referral")) == [("a" * 32,)]
    assert list(await storage.db.execute_fetchall("SELECT count(*) FROM followup")) == [(0,)]
