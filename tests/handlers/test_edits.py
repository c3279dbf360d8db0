"""Edited messages are not read: an edited /checklist does not start the conversation again,
an edited /join is not another try, and a live location moving says nothing."""

from __future__ import annotations

import pytest

from bot.app import DeflectApplication
from members import Role
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.handlers.conftest import CHICAGO_LOOP, make_member, officer, rows_of

EDITS = "Edits are ignored; send a new message instead."


async def test_an_edited_checklist_command_keeps_the_answers_so_far(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await user.send("/checklist")
    await user.reply("Is anyone in danger")
    await user.press("No")
    await user.reply("Which deflection pathway")
    pathways = user.last_keyboard_message()
    await user.edit_last("/checklist")
    note = await user.reply()
    assert note.params["text"] == EDITS
    # The draft is the one before the edit: its question's buttons still answer it.
    await user.press("Active outreach", pathways)
    await user.reply("Any violent offence involved?")


async def test_edits_of_a_join_command_are_not_more_tries(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = FakeUser(fake_telegram, 5105)
    await user.send("/join WRONG-0")
    await user.reply("That code is not valid")
    for attempt in range(1, 4):
        await user.edit_last(f"/join WRONG-{attempt}")
        assert (await user.reply()).params["text"] == EDITS
    assert [row["failures"] for row in await rows_of(bot, "join_attempt")] == [1]


async def test_a_live_location_moving_is_neither_read_nor_answered(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = FakeUser(fake_telegram, 5106)
    await user.share_location(*CHICAGO_LOOP, edited=True)
    await user.send("/help")
    await user.reply("/checklist")
    # Chats are handled in order: by the answer to /help, the location was handled, silently.
    assert [str(call.params.get("text")) for call in fake_telegram.chat_calls[user.chat]
            if call.method == "sendMessage"][:-1] == []


@pytest.fixture
def bot(bot_on_either: DeflectApplication) -> DeflectApplication:
    """Every test of this module on both backends (tests/handlers/conftest.py)."""
    return bot_on_either
