"""An update's database effects and its "done" commit together (storage/postgres/database.py).

The worker here dies, in effect, after handling every update and before marking it done:
`Inbox.done` raises the first time it is called for each update. Each update is
then claimed again when its lease runs out and handled a second time. With the effects and
"done" in one transaction the second handling finds nothing of the first, so everything
happens once: a need ticked twice is ticked (not ticked, then unticked), a two-use invite
spent by one /join has one use left, one referral is logged. With "done" written apart from
the effects (as before this change), each of these comes out wrong.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.keys import key_text
from bot.settings import Settings
from bot.webhook import webhook_secrets
from bot.workers import run_worker, serve_webhook
from members import Members, Role
from members.keys import Keys, new_master_key
from referrals.model import shown_code
from storage.postgres import PostgresStorage
from storage.postgres.inbox import Inbox
from tests.fake_telegram import TOKEN, FakeTelegram, FakeUser
from tests.handlers.conftest import CHICAGO_LOOP
from tests.postgres_server import free_port

PUBLIC_URL = "https://bot.example.org/tg"


async def test_a_worker_dying_before_the_commit_leaves_nothing_and_the_next_does_it_once(
        fake_telegram: FakeTelegram, postgres_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    keys = Keys(new_master_key())
    storage = await PostgresStorage.open(postgres_url, keys, tmp_path / "setup.sqlite3")
    members = await Members.open(storage.members, keys)
    agency = await members.ensure_agency("Chicago PD", "US")
    invite = await members.invite(agency, Role.OFFICER, uses=2)
    await storage.close()

    died: set[int] = set()
    real_done = Inbox.done

    async def dies_once(self: Inbox, update_id: int, worker: str | None = None) -> bool:
        if update_id not in died:  # handled, not yet marked done: the worker is gone
            died.add(update_id)
            raise ConnectionResetError("the worker is gone before the update is done")
        return await real_done(self, update_id, worker)

    monkeypatch.setattr(Inbox, "done", dies_once)
    port = free_port()
    settings = Settings(token=TOKEN, db_path=tmp_path / "w.sqlite3", base_url=fake_telegram.url,
                        database_url=postgres_url, key=key_text(keys),
                        telegram_retry_pause_s=0.05)
    stop = asyncio.Event()
    receiver = asyncio.create_task(serve_webhook(
        dataclasses.replace(settings, db_path=tmp_path / "r.sqlite3"),
        f"127.0.0.1:{port}", PUBLIC_URL, stop))
    await asyncio.wait_for(fake_telegram.webhook_set.wait(), 30)
    worker = asyncio.create_task(run_worker(settings, stop, claimers=2, lease_s=0.6))
    delivery = asyncio.create_task(fake_telegram.deliver(
        f"http://127.0.0.1:{port}/{webhook_secrets(keys.master).path}", stop))
    database = await asyncpg.connect(postgres_url)

    async def settled() -> None:
        """Both handlings of what was sent are over: it was kept, and left the inbox."""
        for _ in range(400):
            await asyncio.sleep(0.05)
            if (not fake_telegram.pending
                    and await database.fetchval("SELECT count(*) FROM inbox") == 0):
                return
        raise AssertionError("the inbox did not empty")

    user = FakeUser(fake_telegram, 4242, first_name="Dana")
    try:
        async def step(action: Any, expect: str = "", method: str | None = None) -> None:
            await action
            await user.reply(expect, method=method, wait_s=30)
            await settled()

        await step(user.send(f"/join {invite}"), "Welcome")
        await step(user.send("/checklist"), "Is anyone in danger")
        for label, question in (("No", "Which deflection pathway"),
                                ("Active outreach", "Any violent offence involved?"),
                                ("No", "agree to be referred"),
                                ("Yes", "What does the person need?")):
            await step(user.press(label, user.keyboard_message_with("")), question)
        needs = user.keyboard_message_with("What does the person need?")
        await step(user.press("Detox", needs), method="editMessageReplyMarkup")
        ticked = user.keyboard_message_with("What does the person need?")
        labels = [b["text"] for row in ticked["reply_markup"]["inline_keyboard"] for b in row]
        assert "✓ Detox" in labels  # handled twice, ticked once: not ticked and unticked
        await step(user.press("Done", ticked), "Where are you?")
        await step(user.share_location(*CHICAGO_LOOP), "Nearest services")
        results = user.keyboard_message_with("Nearest services")
        await step(user.press("Refer to 1", results), "Referral logged")

        confirmations = [c for c in fake_telegram.chat_calls[user.chat]
                         if "Referral logged" in str(c.params.get("text", ""))]
        referrals = await database.fetch("SELECT code, needs FROM referral")
        assert len(referrals) == 1
        assert referrals[0]["needs"] == "detox"
        # The confirmation was sent by both handlings (a message cannot be unsent), with
        # the one code in the log.
        assert len(confirmations) == 2
        assert all(shown_code(referrals[0]["code"]) in str(c.params["text"])
                   for c in confirmations)
        assert await database.fetchval("SELECT count(*) FROM followup") == 1
        assert await database.fetchval("SELECT uses_left FROM invite") == 1
        assert await database.fetchval("SELECT count(*) FROM member") == 1
        # Every update died once and was done once.
        assert len(died) >= 10
        assert await database.fetchval("SELECT count(*) FROM inbox_done") == len(died)
    finally:
        stop.set()
        await database.close()
        await asyncio.gather(receiver, worker, delivery)
