"""End to end over real HTTP: people talk to the real Application through the fake Bot API."""

from __future__ import annotations

import pytest

from bot.app import DeflectApplication
from members import Role
from referrals.model import shown_code
from tests.fake_telegram import FakeTelegram, FakeUser, Fault
from tests.handlers.conftest import (
    CHICAGO_LOOP,
    make_member,
    officer,
    pick_detox_and_share_location,
    referral_rows,
    rows_of,
    runtime,
    walk,
    walk_to_needs,
)


async def test_officer_checklist_to_a_referral_in_eight_taps(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await walk_to_needs(user)
    await pick_detox_and_share_location(user)
    results = user.last_keyboard_message()
    assert "1. Lakeshore Detox Center (demo)" in results["text"]
    assert "open 24 hours" in results["text"]
    await user.press("Refer to 1")
    confirmation = await user.reply("Referral logged. Code: ")
    venue = await user.reply(method="sendVenue")
    assert venue.params["title"] == "Lakeshore Detox Center (demo)"
    (row,) = await referral_rows(bot)
    code = str(confirmation.params["text"]).split("Code: ")[1].split()[0]
    assert shown_code(row["code"]) == code
    assert {k: row[k] for k in ("pathway", "referrer_role", "needs", "service_id", "area_cell",
                                "distance_band", "consent", "outcome", "outcome_day")} == {
        "pathway": "active_outreach", "referrer_role": "officer", "needs": "detox",
        "service_id": "demo-001", "area_cell": "dp3wj", "distance_band": "1-5km",
        "consent": 1, "outcome": "pending", "outcome_day": None}
    assert row["created_hour"].endswith(":00Z")
    # Taps: No, pathway, No, Yes, Detox, Done, share location, Refer = 8.
    # The same button again (a double tap or a redelivered update) writes nothing.
    query = await user.press("Refer to 1", results)
    assert await user.toast(query) == "This step has expired."
    assert len(await referral_rows(bot)) == 1


async def test_peer_does_not_see_officer_intervention_and_cannot_forge_it(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    peer = FakeUser(fake_telegram, 2002, first_name="Sam", username="peer_sam")
    await make_member(bot, peer, Role.PEER)
    await peer.send("/checklist")
    await peer.reply("Is anyone in danger")
    await peer.press("No")
    await peer.reply("Which deflection pathway")
    assert "Officer intervention (charges held)" not in peer.buttons()
    assert "Active outreach" in peer.buttons()
    token = peer.last_keyboard_message()["reply_markup"]["inline_keyboard"][0][0][
        "callback_data"].split(":")[1]
    query = await peer.press_data(f"path:{token}:officer_intervention")
    assert await peer.toast(query) == "This step has expired."
    await peer.press("Self-referral")
    await peer.reply("Any violent offence involved?")


async def test_declined_consent_logs_a_contact_without_a_service(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await walk(user, 3, pathway="Officer prevention (no charges)")
    await user.press("No")
    leave_behind = await user.reply("Recorded as declined")
    assert "@deflect_test_bot" in leave_behind.params["text"]
    (row,) = await referral_rows(bot)
    assert (row["pathway"], row["consent"], row["service_id"], row["outcome"]) == (
        "officer_prevention", 0, None, "declined")


async def test_violent_offence_is_not_eligible(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await walk(user, 2)
    await user.press("Yes")
    await user.reply("Not eligible for deflection. A violent offence rules out deflection.")
    assert await referral_rows(bot) == []


async def test_member_of_the_public_finds_help_and_asks_for_a_code(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    person = FakeUser(fake_telegram, 3003, first_name="Jo", username="jo_anon")
    await person.send("/start")
    await person.reply("Deflect finds the nearest service")
    assert "Start the deflection checklist" not in person.buttons()
    await person.press("Find help")
    await person.reply("What does the person need?")
    await pick_detox_and_share_location(person)
    assert await referral_rows(bot) == []  # nothing is logged by looking
    await person.press("Code for 2")
    await person.reply("Your referral code: ")
    await person.reply(method="sendVenue")
    (row,) = await referral_rows(bot)
    assert (row["pathway"], row["referrer_role"], row["agency_id"]) == (
        "self_referral", "community", None)


async def test_overdose_branch_comes_first(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER, agency="Met Police", country="GB")
    await user.send("/checklist")
    await user.reply("Is anyone in danger")
    await user.press("Yes")
    steps = await user.reply("Call 999 now.")
    text = str(steps.params["text"])
    assert "naloxone" in text
    assert "second dose" in text
    await user.press("Continue when ready")
    await user.reply("Which deflection pathway")


async def test_public_overdose_button(bot: DeflectApplication,
                                      fake_telegram: FakeTelegram) -> None:
    person = FakeUser(fake_telegram, 3004)
    await person.send("/start")
    await person.reply("Deflect finds")
    await person.press("Someone may be overdosing")
    await person.reply("Call 911 now.")


async def test_unregistered_user_cannot_start_the_checklist(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    stranger = FakeUser(fake_telegram, 4004)
    await stranger.send("/checklist")
    answer = await stranger.reply("The checklist is for officers and peer workers")
    assert "/join" in answer.params["text"]
    await stranger.send("Detox")
    await stranger.reply("I did not understand that.")


async def test_join_with_an_invite_code_and_wrong_codes_are_limited(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    members = runtime(bot).members
    code = await members.invite(await members.ensure_agency("Chicago PD", "US"), Role.PEER)
    user = FakeUser(fake_telegram, 5005)
    for attempt in range(5):
        await user.send(f"/join WRONG-{attempt}")
        await user.reply("That code is not valid")
    await user.send(f"/join {code}")
    await user.reply("Too many wrong codes")
    newcomer = FakeUser(fake_telegram, 5006)
    await newcomer.send(f"/join {code.lower()}")
    await newcomer.reply("Welcome: you joined Chicago PD as peer worker")
    assert (await members.membership(5006)) is not None
    await FakeUser(fake_telegram, 5007).send(f"/join {code}")  # one use only
    assert len(await rows_of(bot, "member")) == 1


async def test_back_keeps_earlier_answers(bot: DeflectApplication,
                                          fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await walk_to_needs(user)
    await user.press("Back")
    await user.reply("agree to be referred")
    await user.press("Yes")
    await user.reply("What does the person need?")
    await pick_detox_and_share_location(user)
    await user.press("Refer to 1")
    await user.reply("Referral logged")
    (row,) = await referral_rows(bot)
    assert row["pathway"] == "active_outreach"


WRONG_INPUTS = ["sticker", "photo", "text", "edit", "forged", "stale"]


@pytest.mark.parametrize("wrong", WRONG_INPUTS)
@pytest.mark.parametrize("step", ["safety", "pathway", "needs", "location", "results"])
async def test_wrong_input_at_every_step_gets_a_hint_and_changes_nothing(
        bot: DeflectApplication, fake_telegram: FakeTelegram, step: str, wrong: str) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    # A finished conversation first, so that a stale button exists.
    await user.send("/checklist")
    await user.reply("Is anyone in danger")
    old_buttons = user.last_keyboard_message()
    await user.send("/cancel")
    await user.reply("Cancelled")

    await walk(user, {"safety": 0, "pathway": 1}.get(step, 4))
    if step in ("location", "results"):
        await user.press("Detox")
        await user.reply(method="editMessageReplyMarkup")
        await user.press("Done")
        await user.reply("Where are you?")
    if step == "results":
        await user.share_location(*CHICAGO_LOOP)
        await user.reply("Nearest services")
    current = user.last_keyboard_message()

    if wrong == "sticker":
        await user.send_sticker()
    elif wrong == "photo":
        await user.send_photo()
    elif wrong == "text":
        await user.send("the person is called Chris")
    elif wrong == "edit":
        await user.edit_last("changed my mind")
    if wrong in ("sticker", "photo", "text", "edit"):
        expected = {"edit": "Edits are ignored",
                    "text": "I couldn't find that place" if step == "location"
                    else "Please use the buttons above"}.get(wrong, "Please use the buttons above")
        await user.reply(expected)
    elif wrong == "forged":
        query = await user.press_data("res:zzzzzz:refer:1", current)
        assert await user.toast(query) == "This step has expired."
    else:
        label = old_buttons["reply_markup"]["inline_keyboard"][0][0]["text"]
        query = await user.press(label, old_buttons)
        assert await user.toast(query) == "This step has expired."

    # The step is where it was: its own buttons still work.
    if step == "safety":
        await user.press("No", current)
        await user.reply("Which deflection pathway")
    elif step == "pathway":
        await user.press("Active outreach", current)
        await user.reply("Any violent offence")
    elif step == "needs":
        await user.press("Detox", current)
        await user.reply(method="editMessageReplyMarkup")
    elif step == "location":
        await user.share_location(*CHICAGO_LOOP)
        await user.reply("Nearest services")
    else:
        await user.press("Refer to 1", current)
        await user.reply("Referral logged")
    assert len(await referral_rows(bot)) == (1 if step == "results" else 0)


async def test_group_chats_get_a_note_to_message_privately(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    member = officer(fake_telegram)
    await make_member(bot, member, Role.OFFICER)
    member.chat_id = -100200
    await member.send("/checklist")
    await member.reply("Please message me privately")
    await member.send("/find")
    await member.reply("Please message me privately")


async def test_typed_coordinates_work_at_the_location_step(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    person = FakeUser(fake_telegram, 6006)
    await person.send("/find")
    await person.reply("What does the person need?")
    await person.press("Naloxone")
    await person.reply(method="editMessageReplyMarkup")
    await person.press("Done")
    await person.reply("Where are you?")
    await person.send("41.8781, -87.6298")
    await person.reply("Nearest services")


async def test_commands_are_registered(bot: DeflectApplication,
                                       fake_telegram: FakeTelegram) -> None:
    (call,) = [c for c in fake_telegram.calls if c.method == "setMyCommands"]
    names = [command["command"] for command in call.params["commands"]]
    assert names == ["start", "find", "checklist", "join", "language", "help", "cancel"]


async def test_a_rapid_double_tap_writes_one_referral(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await walk_to_needs(user)
    await pick_detox_and_share_location(user)
    results = user.last_keyboard_message()
    first = await user.press("Refer to 1", results)
    second = await user.press_data(
        next(b["callback_data"] for row in results["reply_markup"]["inline_keyboard"]
             for b in row if b["text"] == "Refer to 1"), results)
    assert await user.toast(second) == "This step has expired."
    assert await user.toast(first) == ""
    assert len(await referral_rows(bot)) == 1


async def test_a_failure_is_logged_and_the_user_told_what_to_do_and_the_referral_kept(
        bot: DeflectApplication, fake_telegram: FakeTelegram,
        caplog: pytest.LogCaptureFixture) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await walk_to_needs(user)
    await pick_detox_and_share_location(user)
    fake_telegram.faults.append(Fault("sendVenue", 400))
    await user.press("Refer to 1")
    await user.reply("Something went wrong on our side")
    assert len(await referral_rows(bot)) == 1  # written before anything was sent
    assert "update failed" in caplog.text
    assert "TEST-token" not in caplog.text


def test_settings_never_show_the_token() -> None:
    from bot.settings import Settings

    settings = Settings.from_env({"DEFLECT_TOKEN": "42:very-secret", "DEFLECT_DB": "x.db",
                                  "DEFLECT_CONVERSATION_MINUTES": "5"})
    assert settings.token == "42:very-secret"
    assert "very-secret" not in repr(settings)
    assert settings.conversation_minutes == 5
    assert Settings.from_env({"TELEGRAM_BOT_TOKEN": "7:t"}).token == "7:t"


async def test_more_and_include_closed(bot: DeflectApplication,
                                       fake_telegram: FakeTelegram) -> None:
    person = FakeUser(fake_telegram, 7007)
    await person.send("/find")
    await person.reply("What does the person need?")
    await person.press("Treatment")
    await person.reply(method="editMessageReplyMarkup")
    await person.press("Done")
    await person.reply("Where are you?")
    await person.share_location(*CHICAGO_LOOP)
    await person.reply("Nearest services")
    first = person.buttons()
    await person.press("More")
    more = await person.reply("Nearest services")
    assert len([b for b in person.buttons() if b.startswith("Code for")]) > len(
        [b for b in first if b.startswith("Code for")])
    assert "\n4. " in str(more.params["text"])
    await person.press("Include closed")
    await person.reply("Nearest services")
    assert "Include closed" not in person.buttons()


async def test_a_coordinator_confirms_arrival_by_code(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await walk_to_needs(user)
    await pick_detox_and_share_location(user)
    await user.press("Refer to 1")
    confirmation = await user.reply("Referral logged. Code: ")
    code = str(confirmation.params["text"]).split("Code: ")[1].split()[0]

    await user.send(f"/arrived {code}")
    await user.reply("Only a program coordinator can confirm arrivals.")
    clinic = FakeUser(fake_telegram, 8008, first_name="Clinic")
    # The officer's own agency: only it records the arrival (test_arrivals.py: others can't).
    await make_member(bot, clinic, Role.COORDINATOR, agency="Chicago PD")
    await clinic.send("/arrived NOPE42")
    await clinic.reply("No referral has the code NOPE42. Nothing was changed.")
    assert (await referral_rows(bot))[0]["outcome"] == "pending"
    await clinic.send(f"/arrived {code.lower()}")
    await clinic.reply(f"Recorded: the person with code {code} arrived.")
    (row,) = await referral_rows(bot)
    assert row["outcome"] == "engaged"
    assert row["outcome_day"] is not None
    await clinic.send(f"/arrived {code}")
    await clinic.reply("already recorded")


@pytest.fixture
def bot(bot_on_either: DeflectApplication) -> DeflectApplication:
    """Every test of this module on both backends (tests/handlers/conftest.py)."""
    return bot_on_either
