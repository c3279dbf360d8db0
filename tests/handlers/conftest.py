"""The real Application polling the loopback fake Bot API, and people to talk to it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest
from telegram import Update

from bot.app import DeflectApplication, build_application, running
from bot.runtime import Runtime
from bot.settings import Settings
from members import Role
from storage.postgres import PostgresStorage
from storage.sqlite import SqliteStorage
from tests.conftest import fresh_database
from tests.fake_telegram import TOKEN, FakeTelegram, FakeUser
from tests.postgres_server import binaries

CHICAGO_LOOP = (41.8781, -87.6298)


@asynccontextmanager
async def polling(settings: Settings, *, flood_limits: bool = True
                  ) -> AsyncIterator[DeflectApplication]:
    """The real Application, long-polling the fake Bot API at settings.base_url."""
    application = build_application(settings, rate_limit=flood_limits)
    async with running(application):
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1,
                                                allowed_updates=Update.ALL_TYPES)
        try:
            yield application
        finally:
            await application.updater.stop()


@pytest.fixture
async def bot(fake_telegram: FakeTelegram, db_path: Path) -> AsyncIterator[DeflectApplication]:
    async with polling(Settings(token=TOKEN, db_path=db_path, base_url=fake_telegram.url,
                                telegram_retry_pause_s=0.05)) as application:
        yield application


def runtime(application: DeflectApplication) -> Runtime:
    assert application.bot_data.runtime is not None
    return application.bot_data.runtime


def database(application: DeflectApplication) -> aiosqlite.Connection:
    """The running bot's SQLite connection, for tests that look at the file's rows."""
    storage = runtime(application).storage
    assert isinstance(storage, SqliteStorage)
    return storage.db


async def make_member(application: DeflectApplication, user: FakeUser, role: Role,
                      agency: str = "Chicago PD", country: str = "US") -> None:
    members = runtime(application).members
    await members.add_member(user.id, await members.ensure_agency(agency, country), role)


async def rows_of(application: DeflectApplication, table: str) -> list[dict[str, Any]]:
    """A table's rows, on either backend (in the order they were written on SQLite)."""
    storage = runtime(application).storage
    if isinstance(storage, PostgresStorage):
        order = "created_hour, id" if table == "referral" else "1"
        return [dict(row) for row in await storage.pool.fetch(
            f"SELECT * FROM {table} ORDER BY {order}")]
    async with database(application).execute(f"SELECT * FROM {table} ORDER BY rowid") as cursor:
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


async def referral_rows(application: DeflectApplication) -> list[dict[str, Any]]:
    return await rows_of(application, "referral")


@pytest.fixture(params=["sqlite", "postgresql"])
async def settings_on_either(request: pytest.FixtureRequest, fake_telegram: FakeTelegram,
                             db_path: Path) -> AsyncIterator[Settings]:
    """The bot's settings with its state in the SQLite file, then on PostgreSQL (a fresh
    database on the tests' throwaway server): the same test, both backends."""
    settings = Settings(token=TOKEN, db_path=db_path, base_url=fake_telegram.url,
                        telegram_retry_pause_s=0.05)
    if request.param == "sqlite":
        yield settings
        return
    async with fresh_database(request.getfixturevalue("postgres")) as url:
        yield dataclasses.replace(settings, database_url=url)


@pytest.fixture
async def bot_on_either(settings_on_either: Settings) -> AsyncIterator[DeflectApplication]:
    """The bot on the SQLite file, then on PostgreSQL."""
    async with polling(settings_on_either) as application:
        yield application


@dataclasses.dataclass(frozen=True)
class StateAt:
    """Where a bot started as a process of its own keeps its state: the SQLite file, or a
    PostgreSQL database (with the directory in the file)."""

    db_path: Path
    url: str | None

    def env(self) -> dict[str, str]:
        return {"DEFLECT_DB": str(self.db_path),
                **({"DEFLECT_DATABASE_URL": self.url} if self.url else {})}

    @property
    def location(self) -> str:
        return self.url or str(self.db_path)

    async def rows(self, query: str) -> list[tuple[Any, ...]]:
        """A query without parameters, read by a connection of its own."""
        if self.url is None:
            with sqlite3.connect(self.db_path) as local:
                return [tuple(row) for row in local.execute(query).fetchall()]
        shared = await asyncpg.connect(self.url)
        try:
            return [tuple(row) for row in await shared.fetch(query)]
        finally:
            await shared.close()

    async def raw(self) -> bytes:
        """Everything of the state someone could copy: the file with its write-ahead log
        and shared memory, or a dump of the database's data."""
        if self.url is None:
            return b"".join([await asyncio.to_thread(path.read_bytes) for path in (
                self.db_path, self.db_path.with_name(self.db_path.name + "-wal"),
                self.db_path.with_name(self.db_path.name + "-shm")) if path.exists()])
        done = await asyncio.to_thread(
            subprocess.run, [str(binaries() / "pg_dump"), "--data-only", "--inserts",
                             self.url], capture_output=True, check=True)
        return done.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
async def state_at(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[StateAt]:
    if request.param == "sqlite":
        yield StateAt(db_path, None)
        return
    async with fresh_database(request.getfixturevalue("postgres")) as url:
        yield StateAt(db_path, url)


async def start_bot(server: FakeTelegram, state: StateAt, **extra: str
                    ) -> asyncio.subprocess.Process:
    """`deflect run` in a process of its own, polling `server`, once it is ready."""
    env = {**{key: value for key, value in os.environ.items()
              if key not in ("DEFLECT_DATABASE_URL", "DEFLECT_KEY", "DEFLECT_KEY_FILE")},
           "DEFLECT_TOKEN": TOKEN, "DEFLECT_BASE_URL": server.url, **state.env(),
           "DEFLECT_GEOCODER": "off", **extra}
    since = len(server.calls)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    await server.wait_for(lambda call: call.method == "setMyCommands", since, wait_s=30)
    return process


def officer(server: FakeTelegram, user_id: int = 1001) -> FakeUser:
    return FakeUser(server, user_id, first_name="Dana", username="officer_dana")


async def walk(user: FakeUser, answers: int, pathway: str = "Active outreach") -> None:
    """Start the checklist and give the first `answers` answers (no danger, the pathway,
    eligible, consent), waiting for each next question."""
    await user.send("/checklist")
    await user.reply("Is anyone in danger")
    steps = [("No", "Which deflection pathway"), (pathway, "Any violent offence involved?"),
             ("No", "agree to be referred"), ("Yes", "What does the person need?")]
    for label, question in steps[:answers]:
        await user.press(label)
        await user.reply(question)


async def walk_to_needs(user: FakeUser, pathway: str = "Active outreach") -> None:
    await walk(user, 4, pathway)


async def pick_detox_and_share_location(user: FakeUser) -> None:
    await user.press("Detox")
    await user.reply(method="editMessageReplyMarkup")
    await user.press("Done")
    await user.reply("Where are you?")
    await user.share_location(*CHICAGO_LOOP)
    await user.reply("Nearest services")


async def officer_at_results(bot: DeflectApplication, server: FakeTelegram,
                             user_id: int = 1001) -> FakeUser:
    """An officer of Chicago PD at the results for detox near the Loop."""
    user = officer(server, user_id)
    await make_member(bot, user, Role.OFFICER)
    await walk_to_needs(user)
    await pick_detox_and_share_location(user)
    return user
