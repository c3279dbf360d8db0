"""What one checklist step costs on top of python-telegram-bot itself.

    python -m benchmarks.turns --json

In one process, with the same in-process Bot API (`bot.console.OfflineBotApi`, no network),
the same number of updates goes through (a) a bare python-telegram-bot echo bot and (b) our
Application at the first step of the checklist (an officer answering "is anyone in danger?":
conversation lookup, token check, draft update, the pathway question and its eight buttons
put in place of the answered one: answerCallbackQuery + editMessageText).
Prints `echo_us` and `turn_us` (mean per update) and `ratio` = turn_us / echo_us.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.app import OFFLINE_TOKEN, build_application
from bot.console import Console, ConsoleUser, OfflineBotApi
from bot.members import Role
from bot.settings import Settings


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(update.message.text or "")


async def echo_bot(updates: int, rounds: int) -> list[float]:
    api = OfflineBotApi()
    application = ApplicationBuilder().token(OFFLINE_TOKEN).request(api).get_updates_request(
        api).build()
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    console = Console(ConsoleUser(), io.StringIO())
    timings = []
    async with application:
        await application.start()
        for _round in range(rounds):
            batch = []
            for i in range(updates):
                data = console.update_for(f"hello {i}")
                assert data is not None
                batch.append(Update.de_json(data, application.bot))
            began = time.perf_counter()
            for update in batch:
                await application.process_update(update)
            timings.append((time.perf_counter() - began) / updates * 1e6)
        await application.stop()
    return timings


async def checklist_step(updates: int, rounds: int, folder: Path) -> list[float]:
    api = OfflineBotApi()
    application = build_application(Settings(db_path=folder / "turns.sqlite3"), request=api,
                                     rate_limit=False)
    timings = []
    async with application:
        assert application.post_init is not None
        await application.post_init(application)
        await application.start()
        runtime = application.bot_data.runtime
        assert runtime is not None
        agency = await runtime.members.agency("Bench PD", "US")
        people = itertools.count(10_000)
        for _round in range(rounds):
            # Each timed update is the first step of a checklist, one officer each: "is anyone
            # in danger?" answered No, which records it and puts the pathway question in place.
            batch = []
            for _ in range(updates):
                user = ConsoleUser(id=next(people))
                await runtime.members.add_member(user.id, agency, Role.OFFICER)
                console = Console(user, io.StringIO())
                api.on_send = console.show
                start = console.update_for("/checklist")
                assert start is not None
                await application.process_update(Update.de_json(start, application.bot))
                batch.append(Update.de_json(console.press("No"), application.bot))
            api.on_send = None
            began = time.perf_counter()
            for update in batch:
                await application.process_update(update)
            timings.append((time.perf_counter() - began) / updates * 1e6)
        await application.stop()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
    return timings


async def measure(updates: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="deflect-turns-") as folder:
        await echo_bot(updates, 1)  # warm-up: imports, first-call paths
        echo = await echo_bot(updates, rounds)
        turn = await checklist_step(updates, rounds, Path(folder))
    echo_us = statistics.median(echo)
    turn_us = statistics.median(turn)
    return {"updates": updates * rounds, "echo_us": round(echo_us, 1),
            "turn_us": round(turn_us, 1), "ratio": round(turn_us / echo_us, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.turns")
    parser.add_argument("--updates", type=int, default=500, help="updates per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = asyncio.run(measure(args.updates, args.rounds))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>8}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
