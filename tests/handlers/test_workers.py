"""Several workers on one PostgreSQL: the webhook receiver and two workers, each a process of
its own, 300 simulated officers over the fake Bot API (which posts to the webhook as Telegram
does, and posts again what was not answered 200). A worker is SIGKILLed in the middle and the
receiver too: every referral is logged exactly once, every conversation finishes."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from pathlib import Path

import asyncpg

from bot.keys import key_text
from bot.webhook import webhook_secrets
from members import Members, Role
from members.keys import Keys, new_master_key
from referrals.model import shown_code
from storage.postgres import PostgresStorage
from storage.postgres.inbox import Inbox
from tests.fake_telegram import TOKEN, FakeTelegram, FakeUser
from tests.officers import complete_checklist
from tests.postgres_server import free_port

OFFICERS = 300
IN_FLIGHT = 40
PUBLIC_URL = "https://bot.example.org/tg"


async def spawn(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    log = Path(env["LOGS"]) / f"{args[0]}-{len(os.listdir(env['LOGS']))}.log"
    with log.open("wb") as errors:  # read when a test fails: what the process said
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=errors)


async def test_two_workers_and_a_receiver_lose_nothing_and_double_nothing_when_killed(
        fake_telegram: FakeTelegram, postgres_url: str, tmp_path: Path) -> None:
    keys = Keys(new_master_key())
    storage = await PostgresStorage.open(postgres_url, keys, tmp_path / "setup.sqlite3")
    members = await Members.open(storage.members, keys)
    agency = await members.ensure_agency("Chicago PD", "US")
    users = [FakeUser(fake_telegram, 930_000_000 + n) for n in range(OFFICERS)]
    for user in users:
        await members.add_member(user.id, agency, Role.OFFICER)
    await storage.close()
    port = free_port()
    env = {**os.environ, "DEFLECT_TOKEN": TOKEN, "DEFLECT_BASE_URL": fake_telegram.url,
           "DEFLECT_KEY": key_text(keys), "DEFLECT_DATABASE_URL": postgres_url,
           "DEFLECT_GEOCODER": "off", "DEFLECT_FOLLOWUP_HOURS": "24,72",
           "LOGS": str(tmp_path)}
    receive = ["serve-webhook", "--webhook-url", PUBLIC_URL, "--listen", f"127.0.0.1:{port}",
               "--db", str(tmp_path / "receiver.sqlite3")]
    receiver = await spawn(receive, env)
    workers = [await spawn(["worker", "--lease", "3", "--db", str(tmp_path / f"w{n}.sqlite3")],
                           env) for n in (1, 2)]
    stop = asyncio.Event()
    delivery = None
    try:
        await asyncio.wait_for(fake_telegram.webhook_set.wait(), 30)
        local = f"http://127.0.0.1:{port}/{webhook_secrets(keys.master).path}"
        delivery = asyncio.create_task(fake_telegram.deliver(local, stop))
        gate = asyncio.Semaphore(IN_FLIGHT)
        finished: list[str] = []
        a_third, a_half = asyncio.Event(), asyncio.Event()

        async def one(user: FakeUser) -> str:
            async with gate:
                code = await complete_checklist(user, [], wait_s=90)
            finished.append(code)
            if len(finished) >= OFFICERS // 3:
                a_third.set()
            if len(finished) >= OFFICERS // 2:
                a_half.set()
            return code

        async def chaos() -> None:
            nonlocal receiver
            await a_third.wait()
            workers[0].send_signal(signal.SIGKILL)  # its claimed updates go to the other
            await a_half.wait()
            receiver.send_signal(signal.SIGKILL)  # posts in flight fail and are posted again
            await receiver.wait()
            await asyncio.sleep(random.uniform(0.1, 0.5))
            receiver = await spawn(receive, env)

        chaos_task = asyncio.create_task(chaos())
        codes = await asyncio.gather(*(one(user) for user in users))
        await chaos_task
    finally:
        stop.set()
        if delivery is not None:
            await delivery
        for process in (receiver, *workers):
            if process.returncode is None:
                process.terminate()
                await process.wait()
    connection = await asyncpg.connect(postgres_url)
    try:
        rows = await connection.fetch("SELECT id, code FROM referral")
        followups = await connection.fetchval("SELECT count(*) FROM followup")
        waiting = await connection.fetchval("SELECT count(*) FROM inbox")
    finally:
        await connection.close()
    # Every officer's conversation finished with a code that is in the log, once.
    assert len(codes) == OFFICERS
    assert sorted(shown_code(row["code"]) for row in rows) == sorted(codes)
    assert len(rows) == OFFICERS
    assert followups == OFFICERS
    assert waiting == 0
    assert fake_telegram.redelivered > 0  # the receiver's death was seen, and absorbed


async def test_a_redelivered_update_is_kept_once_and_never_again_once_done(
        postgres_url: str, tmp_path: Path) -> None:
    keys = Keys(new_master_key())
    storage = await PostgresStorage.open(postgres_url, keys, tmp_path / "d.sqlite3")
    try:
        inbox = Inbox(storage.pool, keys.sealer("inbox"))
        body = {"update_id": 7, "message": {"text": "/start"}}
        assert await inbox.put(7, 555, body)
        assert not await inbox.put(7, 555, body)  # posted again before it was answered
        assert await inbox.put(8, 555, {"update_id": 8})
        assert await inbox.put(9, 556, {"update_id": 9})
        first = await inbox.claim("a", 30)
        second = await inbox.claim("b", 30)
        # One chat at a time, in order: 8 waits for 7; another chat's 9 goes to "b".
        assert first is not None
        assert second is not None
        assert (first.update_id, second.update_id) == (7, 9)
        assert first.body == body
        assert await inbox.claim("c", 30) is None
        await inbox.done(7)
        assert not await inbox.put(7, 555, body)  # done: a late redelivery changes nothing
        third = await inbox.claim("c", 30)
        assert third is not None
        assert third.update_id == 8
        # A worker that dies: its lease runs out and the update is claimed again.
        assert await inbox.put(10, 557, {"update_id": 10})
        dying = await inbox.claim("x", 0.2)
        assert dying is not None
        assert dying.update_id == 10
        assert await inbox.claim("y", 30) is None
        await asyncio.sleep(0.3)
        again = await inbox.claim("y", 30)
        assert again is not None
        assert again.update_id == 10
        # An update that arrives late (its post overtook by a later one) is not handled
        # beside the later one in progress: the chat waits for that one to be done.
        assert await inbox.put(102, 558, {"update_id": 102})
        later = await inbox.claim("p", 30)
        assert later is not None
        assert later.update_id == 102
        assert await inbox.put(101, 558, {"update_id": 101})
        assert await inbox.claim("q", 30) is None
        await inbox.done(102, "p")
        late = await inbox.claim("q", 30)
        assert late is not None
        assert late.update_id == 101
        # Only its holder finishes an update: a worker whose lease was taken over does not.
        await inbox.done(101, "p")
        assert await inbox.claim("r", 30) is None  # 101 is still q's
        assert await inbox.renew(101, "q", 30)
        assert not await inbox.renew(101, "p", 30)
        raw = await storage.pool.fetchval("SELECT string_agg(encode(sealed, 'escape'), '') "
                                          "FROM inbox")
        assert "/start" not in str(raw)  # sealed
    finally:
        await storage.close()


async def test_the_inbox_is_stalled_only_when_its_oldest_update_waits_too_long(
        postgres_url: str, tmp_path: Path) -> None:
    """Every worker's GET /healthz (bot/ops.py) reads this: any worker can take any chat."""
    keys = Keys(new_master_key())
    storage = await PostgresStorage.open(postgres_url, keys, tmp_path / "d.sqlite3")
    try:
        inbox = Inbox(storage.pool, keys.sealer("inbox"))
        assert await inbox.stalled(60) is None  # empty: quiet, not stalled
        await inbox.put(11, 555, {"update_id": 11})
        await inbox.put(12, 556, {"update_id": 12})
        assert await inbox.stalled(60) is None  # just kept
        later = time.time() + 61
        assert await inbox.stalled(60, now=later) == (
            "2 updates in the inbox, the oldest kept more than 60 s ago, and none done since")
        # One update failing again and again while the others are done is not a stall.
        await storage.pool.execute("INSERT INTO inbox_done (update_id, done_at) VALUES "
                                   "(10, $1)", later - 10)
        assert await inbox.stalled(60, now=later) is None
        await storage.pool.execute("DELETE FROM inbox_done WHERE update_id = 10")
        claimed = await inbox.claim("a", 30)
        assert claimed is not None
        assert await inbox.done(claimed.update_id, "a")
        claimed = await inbox.claim("a", 30)
        assert claimed is not None
        assert await inbox.done(claimed.update_id, "a")
        assert await inbox.stalled(60, now=later) is None  # handled: moving again
    finally:
        await storage.close()
