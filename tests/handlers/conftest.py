"""The real Application polling the loopback fake Bot API, and people to talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.app import DeflectApplication, build_application, running
from bot.members import Role
from bot.runtime import Runtime
from bot.settings import Settings
from tests.fake_telegram import TOKEN, FakeTelegram, FakeUser

CHICAGO_LOOP = (41.8781, -87.6298)


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@asynccontextmanager
async def polling(settings: Settings) -> AsyncIterator[DeflectApplication]:
    """The real Application, long-polling the fake Bot API at settings.base_url."""
    application = build_application(settings)
    async with running(application):
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1,
                                                allowed_updates=Update.ALL_TYPES)
        yield application
        await application.updater.stop()


@pytest.fixture
async def bot(fake_telegram: FakeTelegram, db_path: Path) -> AsyncIterator[DeflectApplication]:
    async with polling(Settings(token=TOKEN, db_path=db_path,
                                base_url=fake_telegram.url)) as application:
        yield application


def runtime(application: DeflectApplication) -> Runtime:
    assert application.bot_data.runtime is not None
    return application.bot_data.runtime


async def make_member(application: DeflectApplication, user: FakeUser, role: Role,
                      agency: str = "Chicago PD", country: str = "US") -> None:
    members = runtime(application).members
    await members.add_member(user.id, await members.agency(agency, country), role)


async def referral_rows(application: DeflectApplication) -> list[dict[str, Any]]:
    db = runtime(application).db
    async with db.execute("SELECT * FROM referral ORDER BY rowid") as cursor:
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]
