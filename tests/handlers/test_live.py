"""The live directory in Telegram: staff set their service's status in one tap, search shows
and uses it, officers' reports lead to "call first", and a coordinator sees the stalest."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.app import DeflectApplication
from directory.model import Need
from directory.search import nearest
from members import Role
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.handlers.conftest import (
    CHICAGO_LOOP,
    make_member,
    officer,
    pick_detox_and_share_location,
    runtime,
    walk_to_needs,
)

LAKESHORE = "Lakeshore Detox Center (demo)"


async def results_for(user: FakeUser) -> str:
    await walk_to_needs(user)
    await pick_detox_and_share_location(user)
    return str(user.keyboard_message_with("Nearest service")["text"])


async def test_staff_status_is_shown_and_ranks_a_full_service_after_the_open_ones(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    found = await nearest(runtime(bot).directory, *CHICAGO_LOOP, [Need.DETOX], limit=3)
    assert found[0].service.name == LAKESHORE  # the nearest open one, before any status
    members = runtime(bot).members
    staff = FakeUser(fake_telegram, 918_273_650)
    await members.add_member(staff.id, await members.ensure_agency("Lakeshore", "US"),
                             Role.SERVICE, [found[0].service.id])
    await staff.send("/status")
    menu = await staff.reply("Lakeshore Detox Center (demo) now: no status set")
    labels = [b["text"] for row in menu.params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:2] == ["Open", "Closed today"]
    assert sum(label.startswith("Full until") for label in labels) == 3
    assert "3 beds free" in labels  # a detox service counts beds
    # A time that is not midnight there: "full until midnight" is said "full today" (the
    # hour before midnight in Chicago, the first option is midnight).
    buttons = [b for row in menu.params["reply_markup"]["inline_keyboard"] for b in row]
    full = next(b["text"] for b in buttons if b["text"].startswith("Full until")
                and datetime.fromtimestamp(int(b["callback_data"].rsplit("-", 1)[1]),
                                           ZoneInfo("America/Chicago")).time() != time(0))
    await staff.press(full)
    saved = await staff.reply("Saved: full until", method="editMessageText")
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    text = await results_for(user)
    assert LAKESHORE not in text  # ranked after the open ones: not on the first page
    await user.press("More")
    more = str((await user.reply("Nearest services", method="editMessageText")).params["text"])
    lines = more.splitlines()
    at = lines.index(next(line for line in lines if LAKESHORE in line))
    # Every service above it is open by its hours, or may be (hours unknown): full is after.
    above = [lines[i + 1] for i in range(at) if lines[i][:1].isdigit()]
    assert len(above) >= 3
    assert all("open" in line or "hours unknown" in line for line in above), above
    assert lines[at + 2].strip() == "full until " + str(saved.params["text"]).split("until ")[1]
    # Beds free: open again, first again, with the count and when it was said.
    await staff.send("/status")
    await staff.reply("now: full until")
    await staff.press("3 beds free")
    await staff.reply("Saved: 3 beds free", method="editMessageText")
    other = officer(fake_telegram, 1002)
    await make_member(bot, other, Role.OFFICER)
    text = await results_for(other)
    assert "1. " + LAKESHORE in text
    assert "3 beds free (updated " in text


async def test_only_staff_set_a_status(bot: DeflectApplication,
                                       fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await user.send("/status")
    await user.reply("Only service staff can set a service's status")
    query = await user.press_data("st:0:closed", {
        "message_id": 1, "date": 0, "text": "-", "chat": {"id": user.chat, "type": "private"}})
    assert await user.toast(query) == "This step has expired."
    assert await runtime(bot).directory.live.current() == {}


async def test_a_field_report_makes_others_call_first_and_the_coordinator_sees_it(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await results_for(user)
    await user.press("Refer to 1")
    await user.reply("Referral logged")
    # Then, beside it, the hand-off's buttons (this service has no staff: the report alone).
    await fake_telegram.wait_for(lambda call: call.method == "editMessageText" and bool(
        call.params.get("reply_markup")), user.cursor, chat=user.chat)
    confirmation = user.keyboard_message_with("Referral logged")
    query = await user.press("Service was closed / turned them away", confirmation)
    assert await user.toast(query) == "Thank you: reported."
    other = officer(fake_telegram, 1002)
    await make_member(bot, other, Role.OFFICER)
    text = await results_for(other)
    assert "reported closed recently: call first" in text
    kim = FakeUser(fake_telegram, 3003, first_name="Kim")
    await make_member(bot, kim, Role.COORDINATOR)
    await kim.send("/directory")
    listing = str((await kim.reply("Services confirmed least recently")).params["text"])
    lakeshore = next(line for line in listing.splitlines() if line.startswith(LAKESHORE))
    assert " · 1 · " in lakeshore  # one report in the last 30 days
    await other.send("/directory")
    await other.reply("Only a program coordinator")


def test_a_draft_keeps_what_staff_said_of_its_results_across_a_restart() -> None:
    import json
    from datetime import UTC, datetime

    from directory.hours import HoursStatus, State
    from directory.live import Live, LiveState
    from directory.model import Service
    from directory.search import Match
    from handlers.common import Draft, Flow

    service = Service(id="s1", name="Detox", categories=frozenset({Need.DETOX}), lat=41.9,
                      lon=-87.6, opening_hours="24/7", timezone="America/Chicago")
    said = Live(LiveState.CLOSED, None, datetime(2026, 12, 2, 6, tzinfo=UTC),
                datetime(2026, 12, 1, 15, tzinfo=UTC))
    draft = Draft(Flow.FIND_HELP, None, matches=[
        Match(service, 1200.0, HoursStatus(State.OPEN, None, ""), said)])
    again = Draft.from_json(json.loads(json.dumps(draft.to_json())))
    assert again.matches == draft.matches
    assert again.matches[0].closed  # closed by its staff, whatever its hours say


@pytest.fixture
def bot(bot_on_either: DeflectApplication) -> DeflectApplication:
    """Every test of this module on both backends (tests/handlers/conftest.py)."""
    return bot_on_either
