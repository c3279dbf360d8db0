"""Service staff: invites bound to services, staff bindings with sealed chats, removal by
invite or agency, counts. On both backends (a real SQLite file, a real PostgreSQL database),
no Telegram."""

from __future__ import annotations

import logging

import pytest

from members import JoinResult, Members, Role
from members.keys import Keys, new_master_key
from storage.ports import Storage
from tests.referrals.support import execute, select

DANA, SAM, LEE = 7_100_200_301, 7_100_200_302, 7_100_200_303


async def _members(storage: Storage, keys: Keys) -> Members:
    return await Members.open(storage.members, keys)


async def test_a_service_invite_needs_services_and_no_other_invite_has_any(
        any_storage: Storage, keys: Keys) -> None:
    members = await _members(any_storage, keys)
    agency = await members.ensure_agency("Lakeshore Detox Center (demo)", "US")
    with pytest.raises(ValueError, match="service staff"):
        await members.invite(agency, Role.SERVICE)
    with pytest.raises(ValueError, match="service staff"):
        await members.invite(agency, Role.OFFICER, services=["demo-001"])
    with pytest.raises(ValueError, match="service id"):
        await members.invite(agency, Role.SERVICE, services=["demo-001;demo-002"])
    assert await select(any_storage, "SELECT * FROM invite") == []
    await members.invite(agency, Role.SERVICE, services=["demo-001", "demo-002", "demo-001"])
    assert await select(any_storage, "SELECT role, services FROM invite") == [
        ("service", "demo-001;demo-002")]


async def test_joining_with_a_service_invite_makes_staff_of_its_services(
        any_storage: Storage, keys: Keys) -> None:
    members = await _members(any_storage, keys)
    agency = await members.ensure_agency("Lakeshore Detox Center (demo)", "US")
    code = await members.invite(agency, Role.SERVICE, uses=2,
                                services=["demo-002", "demo-001"])
    result, joined = await members.join(DANA, code)
    assert result is JoinResult.JOINED
    assert joined is not None
    assert (joined.role, joined.services) == (Role.SERVICE, ("demo-002", "demo-001"))
    membership = await members.membership(DANA)
    assert membership is not None
    assert (membership.agency.name, membership.role, membership.services) == (
        "Lakeshore Detox Center (demo)", Role.SERVICE, ("demo-002", "demo-001"))
    assert await members.staff_chats("demo-001") == [DANA]
    assert await members.staff_chats("demo-002") == [DANA]
    assert await members.staff_chats("demo-003") == []
    await members.join(SAM, code)
    assert sorted(await members.staff_chats("demo-001")) == [DANA, SAM]
    # Every member remembers the invite they joined with, as its keyed hash.
    assert await select(any_storage, "SELECT DISTINCT invite_hash FROM member") == [
        (keys.invite(code),)]


async def test_other_members_have_no_services(any_storage: Storage, keys: Keys) -> None:
    members = await _members(any_storage, keys)
    code = await members.invite(await members.ensure_agency("Chicago PD", "US"), Role.OFFICER)
    await members.join(DANA, code)
    membership = await members.membership(DANA)
    assert membership is not None
    assert (membership.role, membership.services) == (Role.OFFICER, ())
    assert await select(any_storage, "SELECT * FROM staff") == []


async def test_joining_again_replaces_the_staff_bindings(any_storage: Storage, keys: Keys
                                                         ) -> None:
    members = await _members(any_storage, keys)
    detox = await members.ensure_agency("Lakeshore Detox Center (demo)", "US")
    first = await members.invite(detox, Role.SERVICE, services=["demo-001", "demo-002"])
    second = await members.invite(detox, Role.SERVICE, services=["demo-003"])
    await members.join(DANA, first)
    await members.join(DANA, second)
    assert await members.staff_chats("demo-001") == []
    assert await members.staff_chats("demo-003") == [DANA]
    membership = await members.membership(DANA)
    assert membership is not None
    assert membership.services == ("demo-003",)
    # And an officer's invite ends the staff bindings altogether.
    police = await members.invite(await members.ensure_agency("Chicago PD", "US"), Role.OFFICER)
    await members.join(DANA, police)
    assert await members.staff_chats("demo-003") == []
    assert await select(any_storage, "SELECT * FROM staff") == []


async def test_a_sealed_chat_opens_only_in_its_own_row_and_with_its_key(
        any_storage: Storage, keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    members = await _members(any_storage, keys)
    agency = await members.ensure_agency("Lakeshore Detox Center (demo)", "US")
    await members.add_member(DANA, agency, Role.SERVICE, services=["demo-001"])
    # The same sealed chat copied to another service does not open there.
    await execute(
        any_storage, "INSERT INTO staff (service_id, member_hmac, sealed_chat) "
        "SELECT 'demo-002', member_hmac, sealed_chat FROM staff")
    with caplog.at_level(logging.WARNING):
        assert await members.staff_chats("demo-002") == []
        assert await members.staff_chats("demo-002") == []
    assert len(caplog.records) == 1  # logged once, and without ids
    assert str(DANA) not in caplog.text
    other = await Members.open(any_storage.members, Keys(new_master_key()))
    assert await other.staff_chats("demo-001") == []


async def test_remove_by_invite_or_by_agency_takes_the_staff_bindings_along(
        any_storage: Storage, keys: Keys) -> None:
    members = await _members(any_storage, keys)
    detox = await members.ensure_agency("Lakeshore Detox Center (demo)", "US")
    staff = await members.invite(detox, Role.SERVICE, uses=3, services=["demo-001"])
    await members.join(DANA, staff)
    await members.join(SAM, staff)
    police = await members.ensure_agency("Chicago PD", "US")
    await members.add_member(LEE, police, Role.OFFICER)
    await members.add_member(LEE + 1, police, Role.COORDINATOR)
    assert await members.remove(invite=staff, dry_run=True) == 2
    assert await members.staff_chats("demo-001") != []  # a dry run removes nothing
    assert await members.remove(invite=staff.lower().replace("-", " ")) == 2
    assert await members.membership(DANA) is None
    assert await members.staff_chats("demo-001") == []
    assert await select(any_storage, "SELECT * FROM staff") == []
    # Its third use is gone with them: nobody else joins with it.
    result, joined = await members.join(LEE + 2, staff)
    assert (result, joined) == (JoinResult.WRONG_CODE, None)
    assert await members.remove(agency=police, role=Role.OFFICER) == 1
    assert await members.membership(LEE) is None
    assert await members.membership(LEE + 1) is not None
    assert await members.remove(agency=police) == 1
    with pytest.raises(ValueError, match="by invite or by agency"):
        await members.remove()
    with pytest.raises(ValueError, match="by invite or by agency"):
        await members.remove(invite=staff, agency=police)


async def test_counts_per_agency_and_role(any_storage: Storage, keys: Keys) -> None:
    members = await _members(any_storage, keys)
    police = await members.ensure_agency("Chicago PD", "US")
    detox = await members.ensure_agency("Lakeshore Detox Center (demo)", "US")
    for user in (1, 2):
        await members.add_member(user, police, Role.OFFICER)
    await members.add_member(3, police, Role.PEER)
    await members.add_member(4, detox, Role.SERVICE, services=["demo-001"])
    assert [(c.agency, c.role, c.members) for c in await members.counts()] == [
        ("Chicago PD", Role.OFFICER, 2), ("Chicago PD", Role.PEER, 1),
        ("Lakeshore Detox Center (demo)", Role.SERVICE, 1)]
    assert [(c.agency, c.role, c.members) for c in await members.counts(detox)] == [
        ("Lakeshore Detox Center (demo)", Role.SERVICE, 1)]
