"""The embedded SQLite backend: the file's schema version and settings."""

from __future__ import annotations

import aiosqlite

from storage.sqlite.database import MIGRATIONS


async def test_schema_version_is_recorded(db: aiosqlite.Connection) -> None:
    async with db.execute("PRAGMA user_version") as cursor:
        assert await cursor.fetchone() == (len(MIGRATIONS),)
    async with db.execute("PRAGMA journal_mode") as cursor:
        assert await cursor.fetchone() == ("wal",)
    async with db.execute("PRAGMA foreign_keys") as cursor:
        assert await cursor.fetchone() == (1,)
