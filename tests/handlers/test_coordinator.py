"""/stats in Telegram: coordinators only, their own agency, small counts withheld, a chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import DeflectApplication
from directory.model import Need
from members import Role
from referrals.model import Pathway, Referral
from referrals.retention import purge
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.handlers.conftest import make_member, rows_of, runtime


async def _seed(bot: DeflectApplication, agency: str, pathway: Pathway, count: int,
                consent: bool = True) -> None:
    members = runtime(bot).members
    agency_id = (await members.ensure_agency(agency, "US")).id
    for _ in range(count):
        await runtime(bot).referrals.record(Referral.new(
            pathway=pathway, referrer_role="officer", agency_id=agency_id, needs=[Need.DETOX],
            service_id="demo-001", lat=41.88, lon=-87.63, distance_m=800, consent=consent,
            now=datetime.now(UTC)))


async def test_a_coordinator_gets_their_agencys_figures_and_a_chart(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    kim = FakeUser(fake_telegram, 3003, first_name="Kim")
    await make_member(bot, kim, Role.COORDINATOR)
    await _seed(bot, "Chicago PD", Pathway.ACTIVE_OUTREACH, 25)
    await _seed(bot, "Chicago PD", Pathway.ACTIVE_OUTREACH, 12, consent=False)
    await _seed(bot, "Chicago PD", Pathway.NALOXONE_PLUS, 3)
    await _seed(bot, "Evanston PD", Pathway.ACTIVE_OUTREACH, 50)  # not Kim's
    await kim.send("/stats week")
    summary = (await kim.reply("Chicago PD")).params["text"]
    assert "Contacts: 40 · referrals: 28 · declined: 12 · engaged: 0" in summary
    assert "Naloxone Plus (after an overdose): * referred, 0 declined" in summary
    # 25 alone beside the total of 28 would give the 3 away: withheld too.
    assert "Active outreach: * referred, 12 declined" in summary
    assert "* withheld: counts from 1 to 9, and others where a total would reveal" in summary
    # Top services: all 28 went to one service, so its count equals the total and is shown.
    assert "Referred to Lakeshore Detox Center (demo): 28" in summary
    photo = await kim.reply(method="sendPhoto")
    assert photo.params["photo"].startswith(b"\x89PNG")
    assert photo.params["caption"] == "Referrals per week by pathway"
    rows = await rows_of(bot, "audit")
    assert [(len(row["member_hmac"]), row["role"], row["command"]) for row in rows] == [
        (32, "coordinator", "/stats week")]


async def test_others_are_not_allowed_and_nothing_is_sent_or_logged(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    dana = FakeUser(fake_telegram, 1001)
    await make_member(bot, dana, Role.OFFICER)
    person = FakeUser(fake_telegram, 7007)
    for user in (dana, person):
        await user.send("/stats")
        await user.reply("Only a program coordinator can see the figures.")
    kim = FakeUser(fake_telegram, 3003)
    await make_member(bot, kim, Role.COORDINATOR)
    await kim.send("/stats decade")
    await kim.reply("Send /stats week, /stats month or /stats quarter.")
    assert not [c for c in fake_telegram.calls if c.method == "sendPhoto"]
    assert await rows_of(bot, "audit") == []


async def test_retention_runs_while_the_bot_is_running(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    """The daily job's purge (with VACUUM) beside the bot's other connections."""
    await _seed(bot, "Chicago PD", Pathway.ACTIVE_OUTREACH, 12)
    dana = FakeUser(fake_telegram, 1001)
    await make_member(bot, dana, Role.OFFICER)
    await dana.send("/checklist")  # a conversation in progress keeps going
    await dana.reply("Is anyone in danger")
    done = await purge(runtime(bot).storage.maintenance, 1, runtime(bot).followups,
                       now=datetime.now(UTC) + timedelta(days=3))
    assert done.referrals == 12
    await dana.press("No")
    await dana.reply("Which deflection pathway")


async def test_stats_never_show_another_agencys_referrals(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    await _seed(bot, "Chicago PD", Pathway.NALOXONE_PLUS, 30)
    await _seed(bot, "Chicago PD", Pathway.ACTIVE_OUTREACH, 20, consent=False)
    await _seed(bot, "Evanston PD", Pathway.ACTIVE_OUTREACH, 12)
    lee = FakeUser(fake_telegram, 3004, first_name="Lee")
    await make_member(bot, lee, Role.COORDINATOR, agency="Evanston PD")
    for period in ("week", "month", "quarter"):
        await lee.send(f"/stats {period}")
        summary = str((await lee.reply("Evanston PD")).params["text"])
        assert "Contacts: 12 · referrals: 12 · declined: 0 · engaged: 0" in summary
        assert "Active outreach: 12 referred, 0 declined" in summary
        assert "Naloxone Plus" not in summary  # Chicago's only
        assert "Referred to Lakeshore Detox Center (demo): 12" in summary
        assert "Chicago" not in summary
        await lee.reply(method="sendPhoto")
    # An agency with no referrals of its own sees none, and no chart, beside busy ones.
    sam = FakeUser(fake_telegram, 3005, first_name="Sam")
    await make_member(bot, sam, Role.COORDINATOR, agency="Skokie PD")
    await sam.send("/stats quarter")
    summary = str((await sam.reply("Skokie PD")).params["text"])
    assert "Contacts: 0 · referrals: 0 · declined: 0 · engaged: 0" in summary
    assert "Referred to" not in summary
    await sam.send("/stats decade")  # answered in turn: the /stats before it has finished
    await sam.reply("Send /stats week, /stats month or /stats quarter.")
    photos = [c for c in fake_telegram.calls
              if c.method == "sendPhoto" and int(c.params["chat_id"]) == sam.chat]
    assert photos == []


async def test_a_coordinator_invites_the_staff_of_a_service(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    kim = FakeUser(fake_telegram, 3003, first_name="Kim")
    await make_member(bot, kim, Role.COORDINATOR)
    await kim.send("/invite service demo-001 demo-002")
    reply = str((await kim.reply("Invite code for service staff at Chicago PD: ")
                 ).params["text"])
    assert "Staff of Lakeshore Detox Center (demo) (demo-001)" in reply
    assert "Staff of Near West Withdrawal Unit (demo) (demo-002)" in reply
    code = reply.splitlines()[0].rsplit(" ", 1)[1]
    ana = FakeUser(fake_telegram, 5_555_000_111, first_name="Ana")
    await ana.send(f"/join {code}")
    await ana.reply()  # the welcome: see test_staff_are_welcomed_when_they_join
    members = runtime(bot).members
    membership = await members.membership(ana.id)
    assert membership is not None
    assert (membership.agency.name, membership.role, membership.services) == (
        "Chicago PD", Role.SERVICE, ("demo-001", "demo-002"))
    assert await members.staff_chats("demo-001") == [ana.chat]
    assert [(row["role"], row["command"]) for row in await rows_of(bot, "audit")] == [
        ("coordinator", "/invite")]
    # One use only.
    lee = FakeUser(fake_telegram, 5_555_000_222)
    await lee.send(f"/join {code}")
    await lee.reply("That code is not valid or has expired.")


async def test_staff_are_welcomed_when_they_join(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    members = runtime(bot).members
    code = await members.invite(await members.ensure_agency("Lakeshore", "US"), Role.SERVICE,
                                services=["demo-001"])
    ana = FakeUser(fake_telegram, 5_555_000_111)
    await ana.send(f"/join {code}")
    await ana.reply("Welcome: you joined Lakeshore", wait_s=3)


async def test_invite_for_officers_peers_and_what_is_refused(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    kim = FakeUser(fake_telegram, 3003, first_name="Kim")
    await make_member(bot, kim, Role.COORDINATOR)
    await kim.send("/invite peer")
    code = str((await kim.reply("Invite code for a peer worker at Chicago PD: ")
                ).params["text"]).splitlines()[0].rsplit(" ", 1)[1]
    sam = FakeUser(fake_telegram, 5_555_000_333)
    await sam.send(f"/join {code}")
    await sam.reply("Welcome: you joined Chicago PD as peer worker.")
    for wrong in ("/invite", "/invite coordinator", "/invite service", "/invite officer x"):
        await kim.send(wrong)
        await kim.reply("Send /invite officer, /invite peer, or /invite service")
    await kim.send("/invite service demo-001 nowhere-9")
    await kim.reply("No service in the directory has the id nowhere-9. No invite was made.")
    dana = FakeUser(fake_telegram, 1001)
    await make_member(bot, dana, Role.OFFICER)
    staff = FakeUser(fake_telegram, 1002)
    members = runtime(bot).members
    await members.add_member(staff.id, await members.ensure_agency("Lakeshore", "US"),
                             Role.SERVICE, services=["demo-001"])
    for user in (dana, staff, FakeUser(fake_telegram, 7007)):
        await user.send("/invite service demo-001")
        await user.reply("Only a program coordinator can make invites.")
    invites = [(row["role"], row["services"]) for row in await rows_of(bot, "invite")]
    assert invites == [("peer", "")]  # the peer's, used: nothing else was made


async def _staff(bot: DeflectApplication, fake_telegram: FakeTelegram) -> FakeUser:
    staff = FakeUser(fake_telegram, 5_555_000_444)
    members = runtime(bot).members
    await members.add_member(staff.id, await members.ensure_agency("Lakeshore", "US"),
                             Role.SERVICE, services=["demo-001"])
    return staff


async def test_staff_get_no_figures_no_arrivals_and_no_checklist_button(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    staff = await _staff(bot, fake_telegram)
    await staff.send("/stats")
    await staff.reply("Only a program coordinator can see the figures.")
    await staff.send("/arrived 7H5S-3VQK")
    await staff.reply("Only a program coordinator can confirm arrivals.")
    await staff.send("/start")
    buttons = [button["text"] for row in (await staff.reply("Deflect finds")).params[
        "reply_markup"]["inline_keyboard"] for button in row]
    assert "Start the deflection checklist" not in buttons
    assert await rows_of(bot, "audit") == []


async def test_staff_are_refused_the_checklist(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    staff = await _staff(bot, fake_telegram)
    await staff.send("/checklist")
    await staff.reply("The checklist is for officers and peer workers", wait_s=3)


@pytest.fixture
def bot(bot_on_either: DeflectApplication) -> DeflectApplication:
    """Every test of this module on both backends (tests/handlers/conftest.py)."""
    return bot_on_either
