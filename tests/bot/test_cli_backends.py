"""The command-line tests' state on either backend: the SQLite file, then a fresh PostgreSQL
database (the tests' throwaway server). A test that takes `cli_state` runs twice.

The command line finds PostgreSQL in DEFLECT_DATABASE_URL (the coordinator's and the members
commands have no `--database-url`); `--db` still names the local SQLite file, which on
PostgreSQL holds this machine's copy of the directory and beside which the key file sits.

Importing `cli_state_fixture` makes the fixture `cli_state` available to a test module.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from members.keys import Keys
from storage import Storage, open_storage
from storage.sqlite import SqliteStorage
from tests.conftest import fresh_database
from tests.postgres_server import binaries


@dataclass(frozen=True)
class CliState:
    """Where the commands keep their state: `db_path` alone, or the PostgreSQL at `url`
    (with the directory in `db_path`)."""

    db_path: Path
    url: str | None

    @property
    def location(self) -> str | Path:
        return self.url or self.db_path

    @property
    def insertion_order(self) -> str:
        """The column rows of the audit table are in the order they were written by."""
        return "rowid" if self.url is None else "seq"

    async def rows(self, query: str) -> list[tuple[Any, ...]]:
        """A query without parameters, read by a connection of its own."""
        if self.url is None:
            with closing(sqlite3.connect(self.db_path)) as connection:
                return [tuple(row) for row in connection.execute(query)]
        shared = await asyncpg.connect(self.url)
        try:
            return [tuple(row) for row in await shared.fetch(query)]
        finally:
            await shared.close()

    def read(self, query: str) -> list[tuple[Any, ...]]:
        """`rows`, for a test that is not a coroutine."""
        return asyncio.run(self.rows(query))

    async def created(self) -> bool:
        """Whether the state has been made yet: the file (a refused command makes none), or
        on PostgreSQL the tables (the tests' fresh databases already have them)."""
        if self.url is None:
            return self.db_path.exists()
        return bool(await self.rows(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'"))

    async def raw(self) -> bytes:
        """Everything of the state someone could copy: the file with its write-ahead log
        and shared memory, or a dump of the database's data."""
        if self.url is None:
            return b"".join(path.read_bytes() for path in (
                self.db_path, self.db_path.with_name(self.db_path.name + "-wal"),
                self.db_path.with_name(self.db_path.name + "-shm")) if path.exists())
        done = await asyncio.to_thread(
            subprocess.run, [str(binaries() / "pg_dump"), "--data-only", "--inserts",
                             self.url], capture_output=True, check=True)
        return done.stdout

    async def open(self, keys: Keys) -> Storage:
        """Every store, as the commands open them."""
        return await open_storage(self.location, keys, directory_file=self.db_path)


async def commit(storage: Storage) -> None:
    """Make what `storage` wrote visible to the commands' own connections (PostgreSQL
    commits every statement)."""
    if isinstance(storage, SqliteStorage):
        await storage.db.commit()


@pytest.fixture(name="cli_state", params=["sqlite", "postgresql"])
async def cli_state_fixture(request: pytest.FixtureRequest, db_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[CliState]:
    if request.param == "sqlite":
        monkeypatch.delenv("DEFLECT_DATABASE_URL", raising=False)
        yield CliState(db_path, None)
        return
    async with fresh_database(request.getfixturevalue("postgres")) as url:
        monkeypatch.setenv("DEFLECT_DATABASE_URL", url)
        yield CliState(db_path, url)
