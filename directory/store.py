"""The directory's store: the `Directory` the bot and the command line hold.

This module owns opening and closing a directory over the shared database connection and
puts it together from the modules that own each part: the tables and their row codecs
(store_schema: MIGRATION_1..4), the reads (store_reader, with search's own `Reader`), the
writes (store_writer), the live statuses and field reports (live, as `directory.live`) and
the bundled demo (store_demo, the only one that imports the importers). Every name other
code imports from `directory.store` is re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from directory import store_demo
from directory.live import LiveDirectory
from directory.model import Need
from directory.sqlite import transaction, write_lock
from directory.store_demo import DEMO_REGION
from directory.store_reader import DirectoryReads, Reader, SourceInfo
from directory.store_schema import (
    MIGRATION_1,
    MIGRATION_2,
    MIGRATION_3,
    MIGRATION_4,
    HoursKey,
    hours_key_of,
)
from directory.store_writer import DEMO_SOURCE, DirectoryWrites

# The directory's own tables, in the order they may be filled (the R*Trees come after).
COPIED_TABLES = ("directory_source", "hours_rule", "service", "service_contribution")


def _only_the_directory(path: Path) -> None:
    """Drop every table of the image but the directory's (and the R*Trees' own), and leave
    no page of what was dropped in the file."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as image:
        names = [str(row[0]) for row in image.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for name in names:
            if name not in COPIED_TABLES and not name.startswith("service_rtree_"):
                image.execute(f'DROP TABLE IF EXISTS "{name}"')
        image.execute("VACUUM")


class Directory(DirectoryReads, DirectoryWrites):
    """The services of every source: writes through the shared connection, searches through
    a reader of their own."""

    def __init__(self, db: aiosqlite.Connection, reader: Reader) -> None:
        self.db = db
        self.reader = reader
        self.live = LiveDirectory(db)  # staff statuses, field reports, health

    @classmethod
    async def open(cls, db: aiosqlite.Connection) -> Directory:
        rows = await db.execute_fetchall("PRAGMA database_list")
        path = next((str(row[2]) for row in rows if row[1] == "main"), "")
        if not path:
            raise ValueError("the directory needs a database file (not :memory:)")
        return cls(db, Reader(path))

    async def warm(self, at: datetime | None = None) -> int:
        """Every service's hours compiled for the year of `at` (default now), in the
        reader's thread: searches then never pay for it (benchmarks/nearest.py)."""
        moment = at or datetime.now(UTC)
        return await self.reader.run(lambda reader: reader.warm(moment))

    async def close(self) -> None:
        await self.reader.close()

    async def write_image(self, path: Path) -> None:
        """A consistent copy of this directory at `path`, and nothing else of its file (the
        file may have held a single process's members or referrals): what is published for
        the other workers to load (storage/postgres/directory_copy.py)."""
        async with write_lock(self.db):
            await self.db.execute("VACUUM INTO ?", (str(path),))
        await asyncio.to_thread(_only_the_directory, path)

    async def load_image(self, path: Path) -> None:
        """Replace this directory's services, sources and hours with those of the image at
        `path`, in one transaction; searches see the old directory or the new one."""
        tables = [*COPIED_TABLES, *(f"service_rtree_{need.value}" for need in Need)]
        await self.db.execute("ATTACH DATABASE ? AS image", (str(path),))
        try:
            async with transaction(self.db):
                for table in reversed(tables):  # services before what they reference
                    await self.db.execute(f"DELETE FROM main.{table}")
                for table in tables:
                    await self.db.execute(
                        f"INSERT INTO main.{table} SELECT * FROM image.{table}")
        finally:
            await self.db.execute("DETACH DATABASE image")
        self.reader.generation += 1  # cached hours belong to the old directory

    async def ensure_demo(self) -> bool:
        """Load the bundled demo directory if there is no directory yet; True if it did."""
        return await store_demo.ensure_demo(self)


async def open_directory(db: aiosqlite.Connection, *, demo: bool = True) -> Directory:
    """The directory over an open, migrated database; loads the demo if it has none.

    Close it (`await directory.close()`) before the connection.
    """
    directory = await Directory.open(db)
    if demo:
        await directory.ensure_demo()
    return directory


@asynccontextmanager
async def directory_in(connect: Callable[[], Awaitable[aiosqlite.Connection]], *,
                       demo: bool = True) -> AsyncIterator[Directory]:
    """The directory in the database `connect` opens; directory and connection closed
    afterwards, in that order (the command line, benchmarks, tests)."""
    db = await connect()
    try:
        directory = await open_directory(db, demo=demo)
        try:
            yield directory
        finally:
            await directory.close()
    finally:
        await db.close()


__all__ = ["DEMO_REGION", "DEMO_SOURCE", "MIGRATION_1", "MIGRATION_2", "MIGRATION_3",
           "MIGRATION_4",
           "Directory", "HoursKey", "Need", "Reader", "SourceInfo",
           "directory_in", "hours_key_of", "open_directory"]
