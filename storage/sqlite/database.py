"""The one SQLite file: opening it, and the numbered schema migrations it has been through.

The directory's migrations are the directory's own (directory/store); the others are in
storage/sqlite/schema.py. They are listed here in the order they ran; `PRAGMA user_version`
records how many have run, so this order never changes: a new table is a new migration.
"""

from __future__ import annotations

import os
from pathlib import Path

import aiosqlite

from directory import store as directory_store
from storage.sqlite import schema

MIGRATIONS: tuple[str, ...] = (
    directory_store.MIGRATION_1,
    schema.MEMBERS + schema.REFERRALS,
    schema.CONVERSATIONS,
    schema.GEOCODE_CACHE,
    schema.FOLLOWUPS,
    schema.LANGUAGES,
    schema.REFERRAL_WEEK + schema.AUDIT,
    directory_store.MIGRATION_2,
    directory_store.MIGRATION_3,
)


async def open_database(path: str | os.PathLike[str]) -> aiosqlite.Connection:
    """Open (creating if needed) and migrate the database; WAL, foreign keys on, autocommit.

    Autocommit (isolation_level None) because writers open their own explicit transactions;
    implicit ones would interleave when several chats write at once.
    """
    db = await aiosqlite.connect(Path(path), isolation_level=None)
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        # Deleted rows are overwritten, not left in free pages: a finished conversation's
        # state (keyed by Telegram ids) must not linger in the file.
        await db.execute("PRAGMA secure_delete=ON")
        await migrate(db)
        # After migrating: SQLite rebuilds a table (to change a constraint) only with foreign
        # keys off; each migration checks them itself before it commits.
        await db.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        await db.close()
        raise
    return db


async def migrate(db: aiosqlite.Connection) -> int:
    """Run the migrations this file has not seen yet; returns the schema version."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {version} is newer than this Deflect "
            f"({len(MIGRATIONS)}); upgrade Deflect"
        )
    for number in range(version, len(MIGRATIONS)):
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number]):
                await db.execute(statement)
            broken = await db.execute_fetchall("PRAGMA foreign_key_check")
            if list(broken):
                raise RuntimeError(f"migration {number + 1} breaks foreign keys: {broken!r}")
            await db.execute(f"PRAGMA user_version = {number + 1}")
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
