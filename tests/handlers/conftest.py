"""The real Application polling the loopback fake Bot API, and people to talk to it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
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
async def bot_on_either(request: pytest.FixtureRequest, fake_telegram: FakeTelegram,
                        db_path: Path) -> AsyncIterator[DeflectApplication]:
    """The bot with its state in the SQLite file, then on PostgreSQL (a fresh database on
    the tests' throwaway server): the same test, both backends."""
    settings = Settings(token=TOKEN, db_path=db_path, base_url=fake_telegram.url,
                        telegram_retry_pause_s=0.05)
    if request.param == "sqlite":
        async with polling(settings) as application:
            yield application
        return
    async with fresh_database(request.getfixturevalue("postgres")) as url:
        async with polling(dataclasses.replace(settings, database_url=url)) as application:
            yield application


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
