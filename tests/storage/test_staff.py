"""Service staff in storage: their chats are sealed, never written in clear in the SQLite file
(not in the file, not in its write-ahead log), and removing a member removes their bindings
(on both backends)."""

from __future__ import annotations

import struct
from pathlib import Path

from members import Members, Role
from members.keys import Keys
from storage.ports import Storage
from storage.sqlite import SqliteStorage
from tests.referrals.support import select

STAFF = 6_543_210_987


def _file_bytes(db_path: Path) -> bytes:
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


# SQLite only: what it reads is the bytes SQLite wrote to the file and its write-ahead log.
async def test_staff_chat_ids_never_reach_the_file(storage: SqliteStorage, keys: Keys,
                                                   db_path: Path) -> None:
    members = await Members.open(storage.members, keys)
    agency = await members.ensure_agency("Lakeshore Detox Center (demo)", "US")
    code = await members.invite(agency, Role.SERVICE, services=["demo-001", "demo-002"])
    await members.join(STAFF, code)
    assert await members.staff_chats("demo-002") == [STAFF]
    rows = list(await storage.db.execute_fetchall(
        "SELECT service_id, member_hmac, sealed_chat FROM staff ORDER BY service_id"))
    assert [(service, bytes(key)) for service, key, _sealed in rows] == [
        ("demo-001", members.user_key(STAFF)), ("demo-002", members.user_key(STAFF))]
    raw = _file_bytes(db_path)
    assert raw  # the test reads what SQLite wrote
    for needle in (str(STAFF).encode(), struct.pack(">q", STAFF), struct.pack("<q", STAFF),
                   struct.pack(">Q", STAFF)[2:]):  # SQLite's 6-byte integer form
        assert needle not in raw, needle
    await storage.maintenance.checkpoint()
    raw = _file_bytes(db_path)
    assert str(STAFF).encode() not in raw
    assert struct.pack(">q", STAFF) not in raw


async def test_removing_a_member_deletes_their_staff_rows(any_storage: Storage, keys: Keys
                                                          ) -> None:
    members = await Members.open(any_storage.members, keys)
    agency = await members.ensure_agency("Lakeshore Detox Center (demo)", "US")
    code = await members.invite(agency, Role.SERVICE, services=["demo-001", "demo-002"])
    await members.join(STAFF, code)
    assert len(await select(any_storage, "SELECT * FROM staff")) == 2
    assert await members.remove(agency=agency) == 1
    assert await select(any_storage, "SELECT * FROM staff") == []
    assert await select(any_storage, "SELECT * FROM member") == []
