"""Who ran which coordinator command, and on which day: kept so that a program can show who
looked at its figures. A member appears only as the keyed hash membership uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from referrals.ports import AuditStore


@dataclass(frozen=True)
class Entry:
    day: str
    member: str  # the hash's first 12 hex digits: enough to tell members apart
    role: str
    command: str


async def record(store: AuditStore, member_key: bytes | None, role: str, command: str,
                 day: date | None = None) -> None:
    """Log one use of a coordinator command (the command line's uses have no member)."""
    await store.add(day or datetime.now(UTC).date(), member_key, role, command)


async def entries(store: AuditStore) -> list[Entry]:
    return [Entry(day, key.hex()[:12] if key else "-", role, command)
            for day, key, role, command in await store.entries()]
