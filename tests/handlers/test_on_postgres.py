"""The bot on PostgreSQL, one process: the same conversation, the referral in the shared
database, the directory in the worker's own SQLite file."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from bot.settings import Settings
from members import Role
from referrals.model import shown_code
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.handlers.conftest import (
    make_member,
    officer,
    pick_detox_and_share_location,
    polling,
    walk_to_needs,
)


async def test_an_officer_refers_with_the_state_on_postgres(
        fake_telegram: FakeTelegram, postgres_url: str, db_path: Path) -> None:
    settings = Settings(token=TOKEN, db_path=db_path, database_url=postgres_url,
                        base_url=fake_telegram.url, telegram_retry_pause_s=0.05)
    async with polling(settings) as bot:
        user = officer(fake_telegram)
        await make_member(bot, user, Role.OFFICER)
        await walk_to_needs(user)
        await pick_detox_and_share_location(user)
        await user.press("Refer to 1")
        confirmation = await user.reply("Referral logged")
    connection = await asyncpg.connect(postgres_url)
    try:
        rows = await connection.fetch("SELECT code, service_id, pathway FROM referral")
        assert len(rows) == 1
        assert shown_code(rows[0]["code"]) in str(confirmation.params["text"])
        assert (rows[0]["service_id"], rows[0]["pathway"]) == ("demo-001", "active_outreach")
        assert await connection.fetchval("SELECT count(*) FROM followup") == 1
        assert await connection.fetchval("SELECT count(*) FROM conversation_state") == 0
    finally:
        await connection.close()
    # The shared state is not in the worker's file: only the directory is.
    import sqlite3

    with sqlite3.connect(db_path) as local:
        assert local.execute("SELECT count(*) FROM referral").fetchone() == (0,)
        assert local.execute("SELECT count(*) FROM service").fetchone()[0] > 0
