"""What one checklist step costs on top of python-telegram-bot itself.

    python -m benchmarks.turns --json

In one process, with the same in-process Bot API (`bot.console.OfflineBotApi`, no network),
the same number of updates goes through (a) a bare python-telegram-bot echo bot and (b) our
Application at the first step of the checklist (an officer answering "is anyone in danger?":
conversation lookup, token check, draft update, the pathway question and its eight buttons
put in place of the answered one: answerCallbackQuery + editMessageText).
Prints `echo_us` and `turn_us` (mean per update) and `ratio` = turn_us / echo_us. Also
`same_calls_us`: a bare python-telegram-bot handler making the same Bot API calls as our step
(answer the button, put an eight-button question in its place) with no logic of its own, and
`ratio_to_same_calls`: what our conversation, checks and state add over that floor.
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

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import OFFLINE_TOKEN, build_application, running
from bot.console import Console, ConsoleUser, OfflineBotApi
from bot.settings import Settings
from members import Role


async def _per_update_us(application: Any, batch: list[Update]) -> float:
    """Mean microseconds per update, handling the batch one update after another."""
    began = time.perf_counter()
    for update in batch:
        await application.process_update(update)
    return (time.perf_counter() - began) / len(batch) * 1e6


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
            timings.append(await _per_update_us(application, batch))
        await application.stop()
    return timings


# What our step puts in place of the answered question, word for word (English): the
# floor makes the same calls with the same payload, so the ratio is our logic alone.
PATHWAYS = (("self_referral", "Self-referral"), ("active_outreach", "Active outreach"),
            ("naloxone_plus", "Naloxone Plus (after an overdose)"),
            ("officer_prevention", "Officer prevention (no charges)"),
            ("officer_intervention", "Officer intervention (charges held)"),
            ("community_response", "Community response"))
NAVIGATION = (("back", "Back"), ("cancel", "Cancel"), ("lang", "Language"))


async def _same_calls(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    rows = [[InlineKeyboardButton(label, callback_data=f"path:abcdef:{value}")]
            for value, label in PATHWAYS]
    rows.append([InlineKeyboardButton(label, callback_data=f"nav:abcdef:{value}")
                 for value, label in NAVIGATION])
    await query.edit_message_text("Which deflection pathway is this?",
                                  reply_markup=InlineKeyboardMarkup(rows))


async def bare_same_calls(updates: int, rounds: int) -> list[float]:
    """A bare PTB bot making the same Bot API calls as our step, with no logic at all."""
    api = OfflineBotApi()
    application = ApplicationBuilder().token(OFFLINE_TOKEN).request(api).get_updates_request(
        api).build()
    application.add_handler(CallbackQueryHandler(_same_calls))
    console = Console(ConsoleUser(), io.StringIO())
    api.on_send = console.show
    timings = []
    async with application:
        await application.start()
        await application.bot.send_message(ConsoleUser().id, "Is anyone in danger?",
                                           reply_markup=InlineKeyboardMarkup([[
                                               InlineKeyboardButton("Yes", callback_data="y"),
                                               InlineKeyboardButton("No", callback_data="n")]]))
        pressed = console.press("No")
        for _round in range(rounds):
            batch = [Update.de_json(pressed, application.bot) for _ in range(updates)]
            timings.append(await _per_update_us(application, batch))
        await application.stop()
    return timings


async def checklist_step(updates: int, rounds: int, folder: Path) -> list[float]:
    api = OfflineBotApi()
    application = build_application(Settings(db_path=folder / "turns.sqlite3"), request=api,
                                     rate_limit=False)
    timings = []
    async with running(application):
        runtime = application.bot_data.runtime
        assert runtime is not None
        agency = await runtime.members.ensure_agency("Bench PD", "US")
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
            timings.append(await _per_update_us(application, batch))
    return timings


async def measure(updates: int, rounds: int) -> dict[str, Any]:
    echo: list[float] = []
    turn: list[float] = []
    floor: list[float] = []
    with tempfile.TemporaryDirectory(prefix="deflect-turns-") as folder:
        await echo_bot(updates, 1)  # warm-up: imports, first-call paths
        # Round by round, side by side: a busier moment of the machine weighs on all three.
        for number in range(rounds):
            echo += await echo_bot(updates, 1)
            place = Path(folder) / str(number)
            place.mkdir()
            turn += await checklist_step(updates, 1, place)
            floor += await bare_same_calls(updates, 1)
    echo_us = statistics.median(echo)
    turn_us = statistics.median(turn)
    floor_us = statistics.median(floor)
    return {"updates": updates * rounds, "echo_us": round(echo_us, 1),
            "turn_us": round(turn_us, 1), "ratio": round(turn_us / echo_us, 2),
            "same_calls_us": round(floor_us, 1),
            "ratio_to_same_calls": round(turn_us / floor_us, 2)}


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
