"""Members and invites: hashed ids, expiry, use counts, lockout after wrong codes.
On both backends (a real SQLite file, a real PostgreSQL database), no Telegram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from members import JoinResult, Members, Role
from members.keys import Keys
from members.ports import MemberStore
from storage.ports import Storage
from storage.postgres import PostgresStorage
from storage.postgres.members import PostgresMemberStore
from storage.sqlite import SqliteStorage
from storage.sqlite.members import SqliteMemberStore
from tests.referrals.support import select


async def test_codes_expire_and_count_their_uses(any_storage: Storage, keys: Keys) -> None:
    members = await Members.open(any_storage.members, keys)
    agency = await members.ensure_agency("Rome Municipal Police", "IT")
    code = await members.invite(agency, Role.OFFICER, uses=2, days=3)
    later = datetime.now(UTC).date() + timedelta(days=4)
    assert (await members.join(1, code, today=later))[0] is JoinResult.WRONG_CODE
    assert (await members.join(2, code))[0] is JoinResult.JOINED
    assert (await members.join(3, code.replace("-", " ").lower()))[0] is JoinResult.JOINED
    assert (await members.join(4, code))[0] is JoinResult.WRONG_CODE  # both uses spent
    membership = await members.membership(2)
    assert membership is not None
    assert (membership.role, membership.agency.country) == (Role.OFFICER, "IT")
    assert await members.membership(4) is None


async def _store_again(storage: Storage) -> MemberStore:
    """A second member store on the same data, as the next start would open."""
    if isinstance(storage, SqliteStorage):
        return await SqliteMemberStore.open(storage.db)
    assert isinstance(storage, PostgresStorage)
    return await PostgresMemberStore.open(storage.pool)


async def test_members_are_stored_under_a_keyed_hash(any_storage: Storage, keys: Keys) -> None:
    members = await Members.open(any_storage.members, keys)
    await members.add_member(987654321, await members.ensure_agency("A", "US"), Role.PEER)
    rows = await select(any_storage, "SELECT user_hmac FROM member")
    assert rows == [(members.user_key(987654321),)]
    assert b"987654321" not in rows[0][0]
    # The secret persists: the same member at the next start.
    store = await _store_again(any_storage)
    try:
        again = await Members.open(store, keys)
        assert (await again.membership(987654321)) is not None
    finally:
        if isinstance(store, PostgresMemberStore):
            await store.close()  # gives back its LISTEN connection


async def test_five_wrong_codes_an_hour_then_locked_out(any_storage: Storage, keys: Keys
                                                        ) -> None:
    members = await Members.open(any_storage.members, keys)
    code = await members.invite(await members.ensure_agency("A", "US"), Role.PEER)
    for attempt in range(5):
        assert (await members.join(7, f"NOPE{attempt}"))[0] is JoinResult.WRONG_CODE
    assert (await members.join(7, code))[0] is JoinResult.TOO_MANY_TRIES
    assert (await members.join(8, code))[0] is JoinResult.JOINED  # others are not affected
