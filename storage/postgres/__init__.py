"""The shared backend: the stores on PostgreSQL (asyncpg), for several workers at once.

The directory stays on a local SQLite file per worker (searches run against its R*Tree);
everything the workers share lives here. Chosen by a `postgresql://` location
(storage/__init__.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from directory.store import Directory, open_directory
from members.keys import Keys
from storage.ports import Storage
from storage.postgres import directory_copy
from storage.postgres.database import Pool, open_pool
from storage.postgres.followups import (
    PostgresConversationStore,
    PostgresFollowUpStore,
    PostgresGeocodeCache,
    PostgresMaintenance,
    PostgresUndeliveredStore,
)
from storage.postgres.live import PostgresLiveShare
from storage.postgres.members import PostgresMemberStore
from storage.postgres.referrals import (
    PostgresAuditStore,
    PostgresFigureStore,
    PostgresHandoffStore,
    PostgresReferralStore,
)
from storage.sqlite.database import open_database


@dataclass
class PostgresStorage(Storage):
    pool: Pool
    directory_file: Path
    _local: list[aiosqlite.Connection] = field(default_factory=list)  # the directory's file
    _directory_version: int = 0  # the published directory this worker's copy holds

    @classmethod
    async def open(cls, url: str, keys: Keys, directory_file: str | os.PathLike[str]
                   ) -> PostgresStorage:
        pool = await open_pool(url)
        try:
            followups = PostgresFollowUpStore(pool, keys.sealer("followups"))
            return cls(
                location=_shown(url), pool=pool, directory_file=Path(directory_file),
                members=await PostgresMemberStore.open(pool),
                referrals=PostgresReferralStore(pool, followups.write),
                figures=PostgresFigureStore(pool), followups=followups,
                undelivered=await PostgresUndeliveredStore.open(pool),
                audit=PostgresAuditStore(pool),
                geocode=PostgresGeocodeCache(pool, keys.sealer("geocode")),
                maintenance=PostgresMaintenance(pool),
                handoffs=PostgresHandoffStore(pool, keys.sealer("handoff")))
        except BaseException:
            await pool.close()
            raise

    async def open_directory(self, *, demo: bool) -> Directory:
        db = await open_database(self.directory_file)
        self._local.append(db)
        directory = await open_directory(db, demo=demo)
        directory.live.shared = PostgresLiveShare(self.pool)
        await directory.live.refresh()
        await self.refresh_directory(directory)
        return directory

    async def refresh_directory(self, directory: Directory) -> None:
        """Load the directory published in PostgreSQL if it is newer than this copy's."""
        self._directory_version = await directory_copy.load(self.pool, directory,
                                                            self._directory_version)

    async def publish_directory(self, directory: Directory) -> int:
        """This worker's directory (just imported) becomes every worker's."""
        self._directory_version = await directory_copy.publish(self.pool, directory)
        return self._directory_version

    async def close(self) -> None:
        members, undelivered = self.members, self.undelivered
        if isinstance(members, PostgresMemberStore):
            await members.close()
        if isinstance(undelivered, PostgresUndeliveredStore):
            await undelivered.close()
        await self.pool.close()
        for db in self._local:
            await db.close()
        self._local.clear()


def _shown(url: str) -> str:
    """The location as an operator may see it: never the password."""
    scheme, _sep, rest = url.partition("://")
    host = rest.rpartition("@")[2]
    return f"{scheme}://{host}"


__all__ = ["PostgresConversationStore", "PostgresStorage"]
