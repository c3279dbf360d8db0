"""Members and invites: hashed ids, expiry, use counts, lockout after wrong codes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from bot.emergency import emergency_number
from bot.members import JoinResult, Members, Role
from bot.persistence import SqlitePersistence


async def test_codes_expire_and_count_their_uses(db: aiosqlite.Connection) -> None:
    members = await Members.open(db)
    agency = await members.agency("Rome Municipal Police", "IT")
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


async def test_members_are_stored_under_a_keyed_hash(db: aiosqlite.Connection) -> None:
    members = await Members.open(db)
    await members.add_member(987654321, await members.agency("A", "US"), Role.PEER)
    rows = list(await db.execute_fetchall("SELECT user_hmac FROM member"))
    assert rows == [(members.user_key(987654321),)]
    assert b"987654321" not in rows[0][0]
    again = await Members.open(db)  # the secret persists: same member next start
    assert (await again.membership(987654321)) is not None


async def test_five_wrong_codes_an_hour_then_locked_out(db: aiosqlite.Connection) -> None:
    members = await Members.open(db)
    code = await members.invite(await members.agency("A", "US"), Role.PEER)
    for attempt in range(5):
        assert (await members.join(7, f"NOPE{attempt}"))[0] is JoinResult.WRONG_CODE
    assert (await members.join(7, code))[0] is JoinResult.TOO_MANY_TRIES
    assert (await members.join(8, code))[0] is JoinResult.JOINED  # others are not affected


def test_emergency_numbers_by_country() -> None:
    assert [emergency_number(c) for c in ("US", "CA", "GB", "IT", "ZA", "AU", "LB", "xx")] == [
        "911", "911", "999", "112", "10177", "000", "140", "112"]


async def test_idle_conversations_are_deleted(db_path: Path) -> None:

    persistence = SqlitePersistence(db_path, max_idle_s=60)
    await persistence.update_conversation("deflect", (11, 11), 6)
    await persistence.update_user_data(11, {"language": "es"})
    await persistence.update_conversation("deflect", (12, 12), 3)
    db = await persistence._connection()
    await db.execute("UPDATE conversation_state SET updated_at = ? WHERE conversation_key = ?",
                     (time.time() - 61, "[12, 12]"))
    assert await persistence.get_conversations("deflect") == {(11, 11): 6}  # 12 was idle
    assert await persistence.get_user_data() == {11: {"language": "es"}}
    await persistence.update_conversation("deflect", (11, 11), None)  # ended: row gone
    assert await persistence.get_conversations("deflect") == {}
    await persistence.close()
