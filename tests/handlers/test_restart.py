"""A restart mid-checklist (the process killed with SIGKILL) resumes at the same step: with
the state in the SQLite file and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from bot.keys import KeyRing
from bot.settings import Settings
from handlers.common import Step
from members import Members, Role
from storage import open_storage
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.handlers.conftest import CHICAGO_LOOP, StateAt, start_bot, walk_to_needs


async def state_is(state: StateAt, step: int, wait_s: float = 10) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        rows = await state.rows("SELECT state FROM conversation_state")
        if rows == [(step,)]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"conversation state never became {step}: {rows}")


async def officer_in_file(state: StateAt, user_id: int = 1001) -> None:
    """An officer of Chicago PD in the database, before the bot starts on it."""
    keys = await KeyRing(Settings(db_path=state.db_path)).keys()  # the key file, as the bot's
    storage = await open_storage(state.location, keys, directory_file=state.db_path)
    members = await Members.open(storage.members, keys)
    await members.add_member(user_id, await members.ensure_agency("Chicago PD", "US"),
                             Role.OFFICER)
    await storage.close()


async def test_sigkill_mid_checklist_then_finish_the_referral(
        fake_telegram: FakeTelegram, state_at: StateAt) -> None:
    await officer_in_file(state_at)

    first = await start_bot(fake_telegram, state_at)
    user = FakeUser(fake_telegram, 1001)
    try:
        await walk_to_needs(user)
        await state_is(state_at, Step.NEEDS)  # written through before the next update
    finally:
        first.kill()  # SIGKILL: no shutdown, no flush
        await first.wait()
    # Killed mid-conversation, before any checkpoint: the file, its write-ahead log and its
    # shared memory (or a dump of the database) hold the conversation only sealed (no id,
    # no draft in clear).
    raw = await state_at.raw()
    if state_at.url is not None:  # the dump holds the conversation's row: sealed
        assert b"INSERT INTO public.conversation_state" in raw
    for needle in (b"[1001, 1001]", b"1001", b'"pathway"', b'"nonce"', b"active_outreach"):
        assert needle not in raw, needle

    second = await start_bot(fake_telegram, state_at)
    try:
        needs = user.last_keyboard_message()
        await user.press("Detox", needs)
        await user.reply(method="editMessageReplyMarkup")
        await user.press("Done")
        await user.reply("Where are you?")
        await user.share_location(*CHICAGO_LOOP)
        await user.reply("Nearest services")
        await user.press("Refer to 1")
        await user.reply("Referral logged")
    finally:
        second.terminate()
        await second.wait()
    assert await state_at.rows(
        "SELECT pathway, referrer_role, needs, service_id FROM referral") == [
        ("active_outreach", "officer", "detox", "demo-001")]
    assert await state_at.rows("SELECT count(*) FROM conversation_state") == [(0,)]
