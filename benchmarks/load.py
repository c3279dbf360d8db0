"""Many officers at once: the real Application polling the loopback fake Bot API over HTTP.

    python -m benchmarks.load --conversations 1000 --json
    python -m benchmarks.load --rate 50 --find-capacity
    python -m benchmarks.load --rate 50 --find-capacity --workers 2

Capacity, open loop (`--rate R`): officers who think 3-20 s (`--think`) between a reply and
their next tap, enough of them that their taps arrive at R a second in all (many independent
people: close to a Poisson stream), each going through checklist after checklist. After
`--warmup` seconds, the taps of a `--window` are measured from tap to the bot's reply over
real HTTP. `--find-capacity` doubles R from `--rate` until a rate fails (p99 over 100 ms, an
error, or the taps falling short of R because replies came late), then halves the interval
`--steps` times, and prints `capacity_updates_per_s`: the largest R that held. Each trial is
printed to standard error as it ends. With `--workers N`: the webhook receiver and N worker
processes on PostgreSQL instead of one process on SQLite.

The closed-loop run below (`--conversations`, `--in-flight`, no think time) measures queueing
behind a saturated core; it is kept for faults and exactly-once, not as the capacity figure.

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
import contextlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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


async def drive_rate(rate: float, think: tuple[float, float], warmup_s: float,
                     window_s: float) -> None:
    """The other process, open loop: as `drive`, with officers tapping at `rate`."""
    telegram = FakeTelegram()
    await telegram.start()
    print(json.dumps({"telegram": telegram.url, "nominatim": None}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    print(json.dumps(await open_loop(telegram, FIRST_USER, rate, think, warmup_s, window_s)),
          flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await telegram.stop()


async def _bot_for_driver(driver: asyncio.subprocess.Process, settings: Settings,
                          members: int, rate_limit: bool) -> dict[str, Any]:
    """The bot in this process, polling the driver's fake Bot API, with `members` officers
    of one agency: tells the driver to go and returns the summary it prints."""
    assert driver.stdin is not None
    assert driver.stdout is not None
    # As `deflect run` builds it (serving: frozen after start).
    application = build_application(settings, rate_limit=rate_limit, serving=True)
    async with running(application):
        runtime = application.bot_data.runtime
        assert runtime is not None
        agency = await runtime.members.ensure_agency("Load PD", "US")
        for index in range(members):
            await runtime.members.add_member(FIRST_USER + index, agency, Role.OFFICER)
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1,
                                                allowed_updates=Update.ALL_TYPES)
        driver.stdin.write(b"go\n")
        await driver.stdin.drain()
        summary: dict[str, Any] = json.loads(await driver.stdout.readline())
        await application.updater.stop()
    return summary


async def measure_rate(rate: float, think: tuple[float, float], warmup_s: float,
                       window_s: float) -> dict[str, Any]:
    """One process on SQLite, its officers tapping at `rate` (open loop, in another
    process, over real HTTP through the fake Bot API)."""
    driver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.load", "--drive", "--rate", str(rate), "--think",
        str(think[0]), str(think[1]), "--warmup", str(warmup_s), "--window", str(window_s),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert driver.stdin is not None
    assert driver.stdout is not None
    urls = json.loads(await driver.stdout.readline())
    with tempfile.TemporaryDirectory(prefix="deflect-rate-") as folder:
        settings = Settings(token=TOKEN, db_path=Path(folder) / "rate.sqlite3",
                            base_url=urls["telegram"])
        trial = await _bot_for_driver(driver, settings, officers_for(rate, think), False)
        driver.stdin.write(b"stop\n")
        await driver.stdin.drain()
        await driver.wait()
    return {"backend": "sqlite", "workers": 1, **trial}


async def find_capacity(trial: Callable[[float], Awaitable[dict[str, Any]]], start: float,
                        steps: int) -> dict[str, Any]:
    """The largest rate that `holds`: doubling from `start` until a rate fails, then
    `steps` halvings of the interval between the last that held and the first that
    failed. Each trial is printed (stderr) as it ends."""
    trials: list[dict[str, Any]] = []

    async def run(rate: float) -> bool:
        result = await trial(rate)
        trials.append(result)
        sys.stderr.write(json.dumps(result) + "\n")
        return holds(result)

    held, failed = 0.0, None
    rate = start
    while failed is None:
        if await run(rate):
            held, rate = rate, rate * 2
        else:
            failed = rate
    for _ in range(steps):
        middle = round((held + failed) / 2, 1)
        if await run(middle):
            held = middle
        else:
            failed = middle
    best = max((t for t in trials if t["rate"] == held), key=lambda t: t["rate"],
               default=None)
    return {"capacity_updates_per_s": held, "target_p99_ms": TARGET_P99_MS,
            "first_rate_that_failed": failed, "at_capacity": best, "trials": len(trials)}


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


class _WindowOver(Exception):
    """The measuring window has closed: the officer taps no more."""


THINK_S = (3.0, 20.0)  # an officer's time between a reply and their next tap
TARGET_P99_MS = 100.0


def officers_for(rate: float, think: tuple[float, float]) -> int:
    """How many officers, each tapping once per think time, tap `rate` times a second."""
    return max(1, round(rate * (think[0] + think[1]) / 2))


async def open_loop(telegram: FakeTelegram, first_user: int, rate: float,
                    think: tuple[float, float], warmup_s: float, window_s: float,
                    seed: int = 1) -> dict[str, Any]:
    """Officers who think 3-20 s between taps, enough of them that their taps arrive at
    `rate` a second (a sum of many independent people: close to a Poisson stream). Each
    goes through checklist after checklist; their first taps are spread over one think
    time. Taps made in the window after the warm-up are measured, tap to the bot's reply
    (an officer whose reply is late taps late: beyond capacity, the rate falls short)."""
    rng = random.Random(seed)
    count = officers_for(rate, think)
    began = time.monotonic()
    window = (began + warmup_s, began + warmup_s + window_s)
    measured: list[float] = []
    errors = 0

    async def officer(index: int) -> None:
        nonlocal errors
        user = FakeUser(telegram, first_user + index)

        async def thinking() -> None:
            await asyncio.sleep(rng.uniform(*think))
            if time.monotonic() >= window[1]:
                raise _WindowOver

        await asyncio.sleep(rng.uniform(0, think[1]))
        while time.monotonic() < window[1]:
            latencies: list[float] = []
            tapped: list[float] = []
            try:
                await complete_checklist(user, latencies, wait_s=30, think=thinking,
                                         tapped=tapped)
            except _WindowOver:
                pass
            except (AssertionError, TimeoutError):
                errors += 1
            measured.extend(ms for at, ms in zip(tapped, latencies, strict=True)
                            if window[0] <= at < window[1])

    await asyncio.gather(*(officer(index) for index in range(count)))
    measured.sort()
    return {"rate": rate, "officers": count, "think_s": list(think),
            "updates_per_s": round(len(measured) / window_s, 1),
            "taps_measured": len(measured), "errors": errors,
            "p50_ms": round(statistics.median(measured), 1) if measured else None,
            "p99_ms": _percentile(measured, 0.99) if measured else None,
            "max_ms": round(measured[-1], 1) if measured else None}


def holds(trial: dict[str, Any]) -> bool:
    """The rate was served: p99 within TARGET_P99_MS, no errors, and the taps arrived at
    (nearly) the rate asked: an overloaded bot slows the officers down, and the rate falls."""
    return (trial["errors"] == 0 and trial["p99_ms"] is not None
            and trial["p99_ms"] <= TARGET_P99_MS
            and trial["updates_per_s"] >= 0.9 * trial["rate"])


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
        summary = await _bot_for_driver(driver, settings, conversations, telegram_rate_limit)
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


@contextlib.asynccontextmanager
async def workers_running(members: int, database_url: str | None, workers: int
                          ) -> AsyncIterator[tuple[FakeTelegram, str]]:
    """The webhook receiver and `workers` worker processes on PostgreSQL (bot/workers.py),
    `members` officers of one agency, and the fake Bot API posting updates to the webhook
    one at a time, as Telegram does; yields the fake and the database's URL. Without a
    URL, a throwaway PostgreSQL is started here."""
    from bot.keys import key_text
    from bot.webhook import webhook_secrets
    from members import Members
    from members.keys import Keys, new_master_key
    from storage.postgres import PostgresStorage
    from tests.conftest import _migrated_template as migrated_template
    from tests.conftest import fresh_database
    from tests.postgres_server import free_port, postgres_server

    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        async with contextlib.AsyncExitStack() as astack:
            if database_url:
                url = database_url
            else:
                server = stack.enter_context(postgres_server())
                # The migrated database fresh_database copies (the tests' session makes it).
                await migrated_template(server)
                url = await astack.enter_async_context(fresh_database(server))
            keys = Keys(new_master_key())
            storage = await PostgresStorage.open(url, keys, Path(folder) / "setup.sqlite3")
            people = await Members.open(storage.members, keys)
            agency = await people.ensure_agency("Load PD", "US")
            for index in range(members):
                await people.add_member(FIRST_USER + index, agency, Role.OFFICER)
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
            delivery = None
            try:
                await asyncio.wait_for(telegram.webhook_set.wait(), 60)
                delivery = asyncio.create_task(telegram.deliver(
                    f"http://127.0.0.1:{port}/{webhook_secrets(keys.master).path}", stop))
                yield telegram, url
            finally:
                stop.set()
                if delivery is not None:
                    await delivery
                for process in processes:
                    process.terminate()
                    await process.wait()
                await telegram.stop()


async def _referrals(url: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM referral"))
    finally:
        await connection.close()


async def measure_workers(conversations: int, in_flight: int, database_url: str | None,
                          workers: int) -> dict[str, Any]:
    """The same officers, closed loop, through the receiver and `workers` workers."""
    async with workers_running(conversations, database_url, workers) as (telegram, url):
        gate = asyncio.Semaphore(in_flight)
        latencies: list[float] = []
        errors = 0

        async def one(index: int) -> None:
            nonlocal errors
            async with gate:
                try:
                    await complete_checklist(FakeUser(telegram, FIRST_USER + index), latencies)
                except (AssertionError, TimeoutError):
                    errors += 1

        began = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(conversations)))
        elapsed = time.monotonic() - began
        referrals = await _referrals(url)
    latencies.sort()
    return {"backend": "postgresql", "workers": workers, "conversations": conversations,
            "in_flight": in_flight, "referrals": referrals, "errors": errors,
            "updates_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": _percentile(latencies, 0.99), "seconds": round(elapsed, 1)}


async def measure_workers_rate(rate: float, think: tuple[float, float], warmup_s: float,
                               window_s: float, database_url: str | None, workers: int
                               ) -> dict[str, Any]:
    """Open loop at `rate` through the receiver and `workers` workers. The officers run in
    this process, beside the fake Bot API; the bot's processes are the workers."""
    async with workers_running(officers_for(rate, think), database_url, workers) as (
            telegram, _url):
        trial = await open_loop(telegram, FIRST_USER, rate, think, warmup_s, window_s)
    return {"backend": "postgresql", "workers": workers, **trial}


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
    parser.add_argument("--rate", type=float, help="open loop: officers tap this many "
                        "times a second in all (think time --think), one process on SQLite "
                        "(or --workers N on PostgreSQL); prints p50/p99 from tap to reply")
    parser.add_argument("--find-capacity", action="store_true", help="the largest --rate "
                        f"with p99 <= {TARGET_P99_MS:.0f} ms and no errors (from --rate, "
                        "doubling, then halving the interval --steps times)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--think", type=float, nargs=2, default=THINK_S, metavar=("MIN", "MAX"))
    parser.add_argument("--warmup", type=float, default=25.0, help="seconds before measuring")
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--workers", type=int, nargs="*", metavar="N",
                        help="on PostgreSQL with N worker processes, each N in turn; then "
                        "one process on SQLite, side by side (one JSON line each)")
    args = parser.parse_args(argv)
    if args.drive and args.rate:
        asyncio.run(drive_rate(args.rate, tuple(args.think), args.warmup, args.window))
        return 0
    if args.drive:
        asyncio.run(drive(args.conversations, args.in_flight, args.stall, args.faults))
        return 0
    if args.rate:
        think = (args.think[0], args.think[1])

        async def trial(rate: float) -> dict[str, Any]:
            if args.workers:
                return await measure_workers_rate(rate, think, args.warmup, args.window,
                                                  args.database_url, args.workers[0])
            return await measure_rate(rate, think, args.warmup, args.window)

        if args.find_capacity:
            print(json.dumps(asyncio.run(find_capacity(trial, args.rate, args.steps))),
                  flush=True)
        else:
            print(json.dumps(asyncio.run(trial(args.rate))), flush=True)
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
