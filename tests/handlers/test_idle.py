"""Idle conversations end with one sweep (handlers/checklist/idle.py), not a timer per tap:
the idle person is told, their draft and state are gone, a busy conversation goes on."""

from __future__ import annotations

import asyncio

from bot.app import DeflectApplication
from bot.persistence import StoragePersistence
from handlers.checklist import IdleClock
from members import Role
from tests.fake_telegram import FakeTelegram
from tests.handlers.conftest import make_member, officer, rows_of, walk


async def test_an_idle_conversation_ends_at_the_sweep_and_a_busy_one_goes_on(
        bot_on_either: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    bot = bot_on_either
    clock = bot.bot_data.idle_clock
    assert isinstance(clock, IdleClock)
    idle, busy = officer(fake_telegram, 1001), officer(fake_telegram, 1002)
    for user in (idle, busy):
        await make_member(bot, user, Role.OFFICER)
    await walk(idle, 2)
    await walk(busy, 1)
    assert clock.waiting() == 2
    clock.timeout_s = 0.5
    await asyncio.sleep(0.6)
    await busy.press("Active outreach")  # the busy one taps again: its clock starts over
    await busy.reply("Any violent offence involved?")
    for _ in range(100):  # the busy one's tap is noted just after its reply
        if clock.idle() == 1:
            break
        await asyncio.sleep(0.01)

    assert await clock.sweep(bot) == 1
    told = await idle.reply("timed out")
    assert "nothing was logged" in str(told.params["text"])
    assert clock.waiting() == 1
    persistence = bot.persistence
    assert isinstance(persistence, StoragePersistence)
    await persistence.written()  # one process writes behind
    assert len(await rows_of(bot, "conversation_state")) == 1  # only the busy one's
    assert len(await rows_of(bot, "user_state")) == 1  # the idle one's draft is gone
    # The idle one's old buttons have expired; the busy one goes on.
    query = await idle.press("No")
    assert await idle.toast(query) == "This step has expired."
    await busy.press("No")
    await busy.reply("agree to be referred")
    assert await clock.sweep(bot) == 0  # nothing idle: nothing said
