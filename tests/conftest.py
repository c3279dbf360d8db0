"""Fixtures shared by every test: a real SQLite file per test, files written on demand."""

from __future__ import annotations

import asyncio
import csv
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import asyncpg
import pytest

from bot.i18n import compile_catalogs
from directory.importers.simple_csv import COLUMNS
from directory.store import Directory, open_directory
from members.keys import Keys, new_master_key
from storage.ports import Storage
from storage.postgres import PostgresStorage
from storage.postgres.database import migrate
from storage.sqlite import SqliteStorage
from storage.sqlite.database import open_database
from tests.fake_telegram import FakeTelegram
from tests.postgres_server import PostgresServer, postgres_server

Row = dict[str, str]


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """The .mo files are built, not committed: compile any missing or stale ones first."""
    compile_catalogs()


def service_row(**fields: str) -> Row:
    """A valid simple-CSV row (a walk-in detox in the Loop) with some fields changed."""
    row = {
        "id": "svc-1", "name": "Test Detox", "categories": "detox;treatment",
        "lat": "41.8806", "lon": "-87.6298", "address": "30 N LaSalle St",
        "phone": "+1 312 555 0000", "opening_hours": "24/7", "languages": "en;es",
        "walk_in": "true", "website": "https://example.org", "description": "",
    }
    row.update(fields)
    return row


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: list[Row], name: str = "city.csv", columns: tuple[str, ...] = COLUMNS
              ) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return path
    return write


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """The loopback Bot API (tests/fake_telegram.py), for the tests that run the bot."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "deflect.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await open_database(db_path)
    yield connection
    await connection.close()


@pytest.fixture
async def directory(db: aiosqlite.Connection) -> AsyncIterator[Directory]:
    """An empty directory (no demo)."""
    opened = await open_directory(db, demo=False)
    yield opened
    await opened.close()


@pytest.fixture
def keys() -> Keys:
    """A fresh installation's keys (held by the test, never in the database)."""
    return Keys(new_master_key())


@pytest.fixture
async def storage(db: aiosqlite.Connection, db_path: Path, keys: Keys) -> SqliteStorage:
    """Every store on the test's SQLite file (the `db` fixture's connection)."""
    return await SqliteStorage.on(db, str(db_path), keys)


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_storage(request: pytest.FixtureRequest, tmp_path: Path, keys: Keys
                      ) -> AsyncIterator[Storage]:
    """Every store on a fresh SQLite file, then on a fresh PostgreSQL database (the tests'
    throwaway server): a test that takes it runs on both backends."""
    if request.param == "sqlite":
        opened: Storage = await SqliteStorage.open(tmp_path / "deflect.sqlite3", keys)
        yield opened
        await opened.close()
        return
    async with fresh_database(request.getfixturevalue("postgres")) as url:
        opened = await PostgresStorage.open(url, keys, tmp_path / "directory.sqlite3")
        yield opened
        await opened.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL for the session, started only if a test asks for it; it
    fails (never skips) when it cannot start (tests/postgres_server.py)."""
    with postgres_server() as server:
        # Its own event loop, in a thread: a test's loop may be running already.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, _migrated_template(server)).result()
        yield server


TEMPLATE = "deflect_template"


async def _migrated_template(server: PostgresServer) -> None:
    """A database migrated once, that each test's fresh database is copied from (CREATE
    DATABASE ... TEMPLATE): the migrations run once per session, not once per test."""
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    connection = await asyncpg.connect(server.url(TEMPLATE))
    try:
        await migrate(connection)
    finally:
        await connection.close()


@asynccontextmanager
async def fresh_database(server: PostgresServer) -> AsyncIterator[str]:
    """A new database on `server` for one test (its URL), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    finally:
        await admin.close()
    try:
        yield server.url(name)
    finally:
        admin = await asyncpg.connect(server.url())
        try:
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        finally:
            await admin.close()


@pytest.fixture
async def postgres_url(postgres: PostgresServer) -> AsyncIterator[str]:
    async with fresh_database(postgres) as url:
        yield url
