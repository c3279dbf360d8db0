"""Who ran which coordinator command, and on which day: kept so that a program can show who
looked at its figures. A member appears only as the keyed hash membership uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import aiosqlite

from directory.sqlite import write_lock

MIGRATION = """
CREATE TABLE audit (
    day TEXT NOT NULL,
    member_hmac BLOB,
    role TEXT NOT NULL,
    command TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    day: str
    member: str  # the hash's first 12 hex digits: enough to tell members apart
    role: str
    command: str


async def record(db: aiosqlite.Connection, member_key: bytes | None, role: str, command: str,
                 day: date | None = None) -> None:
    """Log one use of a coordinator command (the command line's uses have no member)."""
    async with write_lock(db):
        await db.execute("INSERT INTO audit (day, member_hmac, role, command) VALUES (?, ?, ?, ?)",
                         ((day or datetime.now(UTC).date()).isoformat(), member_key, role,
                          command))


async def entries(db: aiosqlite.Connection) -> list[Entry]:
    rows = await db.execute_fetchall(
        "SELECT day, member_hmac, role, command FROM audit ORDER BY day, rowid")
    return [Entry(str(day), bytes(key).hex()[:12] if key else "-", str(role), str(command))
            for day, key, role, command in rows]
