"""The embedded backend: every store in one SQLite file (WAL, one connection per process,
writes serialised by the connection's write lock, numbered migrations in database.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from directory.store import Directory, open_directory
from members.keys import Keys
from storage.ports import Storage
from storage.sqlite.conversations import SqliteConversationStore
from storage.sqlite.database import open_database
from storage.sqlite.followups import SqliteFollowUpStore, SqliteUndeliveredStore
from storage.sqlite.geocode import SqliteGeocodeCache
from storage.sqlite.handoff import SqliteHandoffStore
from storage.sqlite.maintenance import SqliteMaintenance
from storage.sqlite.members import SqliteMemberStore
from storage.sqlite.referrals import SqliteAuditStore, SqliteFigureStore, SqliteReferralStore


@dataclass
class SqliteStorage(Storage):
    db: aiosqlite.Connection

    @classmethod
    async def open(cls, path: str | os.PathLike[str], keys: Keys) -> SqliteStorage:
        """Open (creating and migrating if needed) the file at `path`."""
        db = await open_database(path)
        try:
            return await cls.on(db, str(Path(path)), keys)
        except BaseException:
            await db.close()
            raise

    @classmethod
    async def on(cls, db: aiosqlite.Connection, location: str, keys: Keys) -> SqliteStorage:
        """The stores on a connection already opened (and migrated) by open_database."""
        followups = await SqliteFollowUpStore.open(db, keys.sealer("followups"))
        return cls(location=location, db=db, members=await SqliteMemberStore.open(db),
                   referrals=SqliteReferralStore(db, followups.write),
                   figures=SqliteFigureStore(db), followups=followups,
                   undelivered=await SqliteUndeliveredStore.open(db),
                   audit=SqliteAuditStore(db),
                   geocode=SqliteGeocodeCache(db, keys.sealer("geocode")),
                   maintenance=SqliteMaintenance(db),
                   handoffs=SqliteHandoffStore(db, keys.sealer("handoff")))

    async def open_directory(self, *, demo: bool) -> Directory:
        return await open_directory(self.db, demo=demo)

    async def close(self) -> None:
        # Fold the write-ahead log into the file and empty it: old page images (a finished
        # conversation's ids among them) do not outlive the process in the WAL.
        await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await self.db.close()


__all__ = ["SqliteConversationStore", "SqliteStorage", "open_database"]
