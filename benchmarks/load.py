"""Many officers at once: the real Application polling the loopback fake Bot API over HTTP.

    python -m benchmarks.load --conversations 1000 --json

The bot runs in this process; the fake Bot API, the fake Nominatim and the simulated
officers in another, so that simulating fifty people takes neither the bot's CPU nor its
event loop. Every simulated officer completes a checklist to a referral (9 actions),
`--in-flight` of them at a time; one of them types a place whose geocode takes `--stall`
seconds. Prints `referrals` (rows in the database; must equal the conversations), `p50_ms`
and `p99_ms` (from a user's action to the bot's reply to it), `p99_ms_with_stall_excluded`
(without the officer whose geocode stalls) and `errors` (conversations that did not finish).

Telegram allows a bot about 30 messages a second overall, and python-telegram-bot's
AIORateLimiter enforces that by default; at that rate 50 conversations in flight wait on the
limit, not on the bot. This benchmark measures the bot, so the limiter is off unless
`--telegram-rate-limit` is given.

`--faults 0.1` makes the fake Bot API fail 10% of calls (getUpdates excepted), each a 429
with retry_after, a 500, an answer held back past the bot's timeout, or a dropped connection.
Then `confirmed` (officers who got their confirmation), `confirmed_and_logged` (of those,
codes present in the log) and `referrals` must all equal the conversations, and `errors` 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application, running
from bot.settings import Settings
from members import Role
from referrals.model import shown_code
from tests.fake_nominatim import FakeNominatim
from tests.fake_telegram import TOKEN, FakeTelegram, FakeUser, RandomFaults
from tests.officers import STALLED_PLACE, complete_checklist

FIRST_USER = 500_000
FAULT_TIMEOUT_S = 1.0  # the bot's read timeout when faults are injected
FAULT_HOLD_S = 1.5  # how long the fake holds back an answer it "loses"


def _percentile(values: list[float], q: float) -> float:
    return round(values[min(len(values) - 1, round(q * (len(values) - 1)))], 1)


async def drive(conversations: int, in_flight: int, stall_s: float, faults: float) -> None:
    """The other process: the fake Bot API, the fake Nominatim and the simulated officers.

    Prints the two URLs as a JSON line, waits for "go" on standard input, runs everyone, and
    prints the latencies' summary as a JSON line.
    """
    telegram, nominatim = FakeTelegram(), FakeNominatim()
    if faults:
        telegram.random_faults = RandomFaults(faults, hold_s=FAULT_HOLD_S)
    await telegram.start()
    await nominatim.start()
    nominatim.add(STALLED_PLACE, ("Navy Pier, Chicago", 41.8917, -87.6086))
    nominatim.delays[STALLED_PLACE] = stall_s
    print(json.dumps({"telegram": telegram.url, "nominatim": nominatim.url}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    gate = asyncio.Semaphore(in_flight)
    latencies: dict[int, list[float]] = {}
    codes: list[str] = []
    errors = 0
    stalled_index = conversations // 2

    async def one(index: int) -> None:
        nonlocal errors
        async with gate:
            latencies[index] = []
            user = FakeUser(telegram, FIRST_USER + index)
            try:
                codes.append(await complete_checklist(user, latencies[index],
                                                      typed_place=index == stalled_index))
            except (AssertionError, TimeoutError):
                errors += 1

    began = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(conversations)))
    elapsed = time.monotonic() - began
    everything = sorted(v for values in latencies.values() for v in values)
    unstalled = sorted(v for index, values in latencies.items() if index != stalled_index
                       for v in values)
    print(json.dumps({
        "p50_ms": round(statistics.median(everything), 1),
        "p99_ms": _percentile(everything, 0.99),
        "p99_ms_with_stall_excluded": _percentile(unstalled, 0.99), "errors": errors,
        "replies": len(everything), "seconds": round(elapsed, 1), "codes": codes,
        "faults_injected": telegram.random_faults.injected if telegram.random_faults else {},
    }), flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # the bot has stopped: the fakes may go
    await telegram.stop()
    await nominatim.stop()


async def measure(conversations: int, in_flight: int, stall_s: float,
                  telegram_rate_limit: bool, faults: float = 0.0) -> dict[str, Any]:
    """The bot in this process; the fakes and the officers in another, so that simulating
    fifty people does not take the bot's CPU or event loop."""
    driver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.load", "--drive", "--conversations",
        str(conversations), "--in-flight", str(in_flight), "--stall", str(stall_s),
        "--faults", str(faults),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert driver.stdin is not None
    assert driver.stdout is not None
    urls = json.loads(await driver.stdout.readline())
    with tempfile.TemporaryDirectory(prefix="deflect-load-") as folder:
        db_path = Path(folder) / "load.sqlite3"
        # With faults, an answer held back counts as a timeout after FAULT_TIMEOUT_S.
        settings = Settings(token=TOKEN, db_path=db_path, base_url=urls["telegram"],
                            geocoder_url=urls["nominatim"],
                            telegram_timeout_s=FAULT_TIMEOUT_S if faults else 10.0)
        application = build_application(settings, rate_limit=telegram_rate_limit)
        async with running(application):
            runtime = application.bot_data.runtime
            assert runtime is not None
            agency = await runtime.members.ensure_agency("Load PD", "US")
            for index in range(conversations):
                await runtime.members.add_member(FIRST_USER + index, agency, Role.OFFICER)
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1,
                                                    allowed_updates=Update.ALL_TYPES)
            driver.stdin.write(b"go\n")
            await driver.stdin.drain()
            summary = json.loads(await driver.stdout.readline())
            await application.updater.stop()
        driver.stdin.write(b"stop\n")
        await driver.stdin.drain()
        await driver.wait()
        with sqlite3.connect(db_path) as connection:
            referrals = connection.execute("SELECT count(*) FROM referral").fetchone()[0]
            logged = {shown_code(code) for (code,) in connection.execute(
                "SELECT code FROM referral")}
    codes = summary.pop("codes")
    return {"conversations": conversations, "in_flight": in_flight, "referrals": referrals,
            # Confirmations that reached their officer, and whose code is in the log.
            "confirmed": len(codes), "confirmed_and_logged": len(set(codes) & logged),
            **summary, "telegram_rate_limit": telegram_rate_limit, "faults": faults}


async def measure_workers(conversations: int, in_flight: int, database_url: str | None,
                          workers: int) -> dict[str, Any]:
    """The same officers through the webhook receiver and `workers` worker processes on
    PostgreSQL (bot/workers.py); the fake Bot API posts updates to the webhook one at a
    time, as Telegram does. Without a URL, a throwaway PostgreSQL is started here."""
    import contextlib
    import os

    import asyncpg

    from bot.keys import key_text
    from bot.webhook import webhook_secrets
    from members import Members
    from members.keys import Keys, new_master_key
    from storage.postgres import PostgresStorage
    from tests.conftest import fresh_database
    from tests.postgres_server import free_port, postgres_server

    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        async with contextlib.AsyncExitStack() as astack:
            if database_url:
                url = database_url
            else:
                url = await astack.enter_async_context(
                    fresh_database(stack.enter_context(postgres_server())))
            keys = Keys(new_master_key())
            storage = await PostgresStorage.open(url, keys, Path(folder) / "setup.sqlite3")
            members = await Members.open(storage.members, keys)
            agency = await members.ensure_agency("Load PD", "US")
            for index in range(conversations):
                await members.add_member(FIRST_USER + index, agency, Role.OFFICER)
            await storage.close()
            telegram = FakeTelegram()
            await telegram.start()
            port = free_port()
            env = {**os.environ, "DEFLECT_TOKEN": TOKEN, "DEFLECT_BASE_URL": telegram.url,
                   "DEFLECT_KEY": key_text(keys), "DEFLECT_DATABASE_URL": url,
                   "DEFLECT_GEOCODER": "off",
                   # As the SQLite run: the bot's own cost, not Telegram's 30 messages/s.
                   "DEFLECT_TELEGRAM_FLOOD_LIMITS": "off"}
            processes = [await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *args, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
                for args in [["serve-webhook", "--webhook-url", "https://bot.example.org/tg",
                              "--listen", f"127.0.0.1:{port}", "--db", f"{folder}/r.sqlite3"],
                             *(["worker", "--db", f"{folder}/w{n}.sqlite3"]
                               for n in range(workers))]]
            stop = asyncio.Event()
            try:
                await asyncio.wait_for(telegram.webhook_set.wait(), 60)
                delivery = asyncio.create_task(telegram.deliver(
                    f"http://127.0.0.1:{port}/{webhook_secrets(keys.master).path}", stop))
                gate = asyncio.Semaphore(in_flight)
                latencies: list[float] = []
                errors = 0

                async def one(index: int) -> None:
                    nonlocal errors
                    async with gate:
                        try:
                            await complete_checklist(FakeUser(telegram, FIRST_USER + index),
                                                     latencies)
                        except (AssertionError, TimeoutError):
                            errors += 1

                began = time.monotonic()
                await asyncio.gather(*(one(i) for i in range(conversations)))
                elapsed = time.monotonic() - began
                stop.set()
                await delivery
            finally:
                for process in processes:
                    process.terminate()
                    await process.wait()
                await telegram.stop()
            connection = await asyncpg.connect(url)
            try:
                referrals = await connection.fetchval("SELECT count(*) FROM referral")
            finally:
                await connection.close()
    latencies.sort()
    return {"backend": "postgresql", "workers": workers, "conversations": conversations,
            "in_flight": in_flight, "referrals": referrals, "errors": errors,
            "updates_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": _percentile(latencies, 0.99), "seconds": round(elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--stall", type=float, default=5.0, help="seconds one geocode takes")
    parser.add_argument("--telegram-rate-limit", action="store_true")
    parser.add_argument("--faults", type=float, default=0.0,
                        help="share of Bot API calls that fail (429, 500, timeout, dropped)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help="PostgreSQL for --workers (default: a "
                        "throwaway server started here)")
    parser.add_argument("--workers", type=int, nargs="*", metavar="N",
                        help="on PostgreSQL with N worker processes, each N in turn; then "
                        "one process on SQLite, side by side (one JSON line each)")
    args = parser.parse_args(argv)
    if args.drive:
        asyncio.run(drive(args.conversations, args.in_flight, args.stall, args.faults))
        return 0
    if args.workers:
        for count in args.workers:
            print(json.dumps(asyncio.run(measure_workers(
                args.conversations, args.in_flight, args.database_url, count))), flush=True)
        sqlite = asyncio.run(measure(args.conversations, args.in_flight, 0.0,
                                     args.telegram_rate_limit))
        print(json.dumps({"backend": "sqlite", "workers": 1, **{
            key: sqlite[key] for key in ("conversations", "in_flight", "referrals", "errors",
                                         "p50_ms", "p99_ms", "seconds")},
            "updates_per_s": round(sqlite["replies"] / sqlite["seconds"], 1)}), flush=True)
        return 0
    report = asyncio.run(measure(args.conversations, args.in_flight, args.stall,
                                 args.telegram_rate_limit, args.faults))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>28}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
