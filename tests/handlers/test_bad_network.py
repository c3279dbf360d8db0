"""A bad network: 10% of Bot API calls fail (429, 500, timeouts, dropped connections) while
200 officers each complete a referral. Every referral is logged exactly once, every
confirmation reaches its officer, and the bot keeps running: on the SQLite file and on
PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from bot.settings import Settings
from members import Role
from referrals.model import shown_code
from tests.fake_telegram import FAULT_KINDS, FakeTelegram, FakeUser, RandomFaults
from tests.handlers.conftest import make_member, polling, referral_rows
from tests.officers import complete_checklist

CONVERSATIONS = 200
IN_FLIGHT = 50


async def test_ten_percent_faults_over_200_conversations_lose_nothing(
        fake_telegram: FakeTelegram, settings_on_either: Settings,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.network")
    fake_telegram.random_faults = RandomFaults(0.10, seed=7, hold_s=1.5)
    settings = dataclasses.replace(settings_on_either, telegram_timeout_s=1.0,
                                   telegram_retry_pause_s=0.1)
    gate = asyncio.Semaphore(IN_FLIGHT)
    # Telegram's flood limits (30 messages a second) would make this a test of patience:
    # off, as in benchmarks/load.py. 429s are still waited out by AIORateLimiter.
    async with polling(settings, flood_limits=False) as bot:
        users = [FakeUser(fake_telegram, 900_000 + index) for index in range(CONVERSATIONS)]
        for user in users:
            await make_member(bot, user, Role.OFFICER)

        async def one(user: FakeUser) -> str:
            async with gate:
                return await complete_checklist(user, [], wait_s=120)

        codes = await asyncio.gather(*(one(user) for user in users))
        rows = await referral_rows(bot)
        assert bot.running
    injected = fake_telegram.random_faults.injected
    assert set(injected) == set(FAULT_KINDS), injected  # every kind of failure happened
    assert sum(injected.values()) > 0.05 * len(fake_telegram.calls)
    # Every officer got a confirmation, and its code is a logged referral, logged once.
    assert len(codes) == CONVERSATIONS
    assert sorted(shown_code(row["code"]) for row in rows) == sorted(codes)
    assert len({row["id"] for row in rows}) == CONVERSATIONS
    # Retried, never given up on: no update failed.
    assert "update failed" not in caplog.text
    assert "retry 1 of" in caplog.text
