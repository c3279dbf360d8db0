"""The one SQLite file: opening it, and the numbered schema migrations it has been through.

The directory's migrations are the directory's own (directory/store); the others are in
storage/sqlite/schema.py. They are listed here in the order they ran; `PRAGMA user_version`
records how many have run, so this order never changes: a new table is a new migration.
"""

from __future__ import annotations

import os

import aiosqlite

from directory import store as directory_store
from directory.sqlite import open_migrated
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
    schema.KEYS_APART,  # 10
    schema.GUESS_ATTEMPTS,  # guess_attempt: wrong /arrived codes, per member and hour
    directory_store.MIGRATION_4,  # the live directory: staff statuses, reports, arrivals
    schema.HANDOFF,  # 13: the warm hand-off: staff, hand-offs in progress
)


async def open_database(path: str | os.PathLike[str]) -> aiosqlite.Connection:
    """Open (creating if needed) and migrate the database (directory/sqlite.py says how)."""
    return await open_migrated(path, MIGRATIONS)
