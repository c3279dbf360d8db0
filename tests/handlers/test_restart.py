"""A restart mid-checklist (the process killed with SIGKILL) resumes at the same step."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path

from bot.keys import KeyRing
from bot.settings import Settings
from handlers.common import Step
from members import Members, Role
from storage import open_storage
from tests.fake_telegram import TOKEN, FakeTelegram, FakeUser
from tests.handlers.conftest import CHICAGO_LOOP, walk_to_needs


async def start_bot(server: FakeTelegram, db_path: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "DEFLECT_TOKEN": TOKEN, "DEFLECT_BASE_URL": server.url,
           "DEFLECT_DB": str(db_path), "DEFLECT_GEOCODER": "off"}
    since = len(server.calls)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    await server.wait_for(lambda call: call.method == "setMyCommands", since, wait_s=30)
    return process


async def state_is(db_path: Path, step: int, wait_s: float = 10) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with sqlite3.connect(db_path) as connection:
            rows = connection.execute("SELECT state FROM conversation_state").fetchall()
        if rows == [(step,)]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"conversation state never became {step}: {rows}")


async def officer_in_file(db_path: Path, user_id: int = 1001) -> None:
    """An officer of Chicago PD in the database file, before the bot starts on it."""
    keys = await KeyRing(Settings(db_path=db_path)).keys()  # the key file, as the bot's
    storage = await open_storage(db_path, keys)
    members = await Members.open(storage.members, keys)
    await members.add_member(user_id, await members.ensure_agency("Chicago PD", "US"),
                             Role.OFFICER)
    await storage.close()


async def test_sigkill_mid_checklist_then_finish_the_referral(
        fake_telegram: FakeTelegram, db_path: Path) -> None:
    await officer_in_file(db_path)

    first = await start_bot(fake_telegram, db_path)
    user = FakeUser(fake_telegram, 1001)
    try:
        await walk_to_needs(user)
        await state_is(db_path, Step.NEEDS)  # written through before the next update
    finally:
        first.kill()  # SIGKILL: no shutdown, no flush
        await first.wait()
    # Killed mid-conversation, before any checkpoint: the file, its write-ahead log and its
    # shared memory hold the conversation only sealed (no id, no draft in clear).
    raw = b"".join([await asyncio.to_thread(path.read_bytes) for path in (
        db_path, db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-shm")) if path.exists()])
    for needle in (b"[1001, 1001]", b"1001", b'"pathway"', b'"nonce"', b"active_outreach"):
        assert needle not in raw, needle

    second = await start_bot(fake_telegram, db_path)
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
    with sqlite3.connect(db_path) as connection:
        assert connection.execute(
            "SELECT pathway, referrer_role, needs, service_id FROM referral").fetchall() == [
            ("active_outreach", "officer", "detox", "demo-001")]
        assert connection.execute("SELECT count(*) FROM conversation_state").fetchone() == (0,)
