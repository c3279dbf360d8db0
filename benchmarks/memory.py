"""Memory over many conversations: does anything grow per chat and never shrink?

    python -m benchmarks.memory --json

In one process, with the in-process Bot API (`bot.console.OfflineBotApi`, as
benchmarks/turns.py), officers each go through a whole checklist to a referral (ten updates:
/checklist, four answers, a need, Done, a location, Refer), `--in-flight` of them side by
side. Prints the resident set size after the first `--first` conversations
(`rss_first_mb`) and after all `--conversations` (`rss_after_mb`), each after a full garbage
collection, and `growth` = after / first (the target is at most 1.10: no per-chat leak);
`referrals` (rows in the log) must equal the conversations.
`rss_start_mb` is before the first conversation (the runtime, the demo directory).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import itertools
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application, running
from bot.console import Console, ConsoleUser, OfflineBotApi, Sent
from bot.settings import Settings
from members import Role
from storage.sqlite import SqliteStorage

STEPS = ("No", "Active outreach", "No", "Yes", "Detox", "Done")
LOOP = "41.8781,-87.6298"


def rss_mb() -> float:
    """This process's resident set size (Linux), after a full collection."""
    gc.collect()
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


class Officers:
    """Console people, each with their own view of what the bot sent them."""

    def __init__(self) -> None:
        self.consoles: dict[int, Console] = {}

    def show(self, sent: Sent) -> None:
        chat = sent.params.get("chat_id")
        console = self.consoles.get(int(chat)) if chat is not None else None
        if console is not None:
            console.show(sent)


async def one_conversation(application: Any, officers: Officers, user_id: int) -> None:
    console = Console(ConsoleUser(id=user_id), io.StringIO())
    officers.consoles[user_id] = console
    try:
        updates = [console.update_for("/checklist")]
        for label in STEPS:
            await _feed(application, updates)
            updates = [console.press(label)]
        await _feed(application, updates)
        await _feed(application, [console.update_for(LOOP)])
        await _feed(application, [console.press("Refer to 1")])
    finally:
        del officers.consoles[user_id]


async def _feed(application: Any, updates: list[dict[str, Any] | None]) -> None:
    for data in updates:
        assert data is not None
        await application.process_update(Update.de_json(data, application.bot))


async def measure(conversations: int, first: int, in_flight: int) -> dict[str, Any]:
    api = OfflineBotApi()
    officers = Officers()
    api.on_send = officers.show
    with tempfile.TemporaryDirectory(prefix="deflect-memory-") as folder:
        application = build_application(Settings(db_path=Path(folder) / "m.sqlite3"),
                                         request=api, rate_limit=False)
        async with running(application):
            runtime = application.bot_data.runtime
            assert runtime is not None
            agency = await runtime.members.ensure_agency("Memory PD", "US")
            people = itertools.count(700_000)
            start = rss_mb()

            async def batch(count: int) -> None:
                for _ in range(0, count, in_flight):
                    ids = [next(people) for _ in range(min(in_flight, count))]
                    for user_id in ids:
                        await runtime.members.add_member(user_id, agency, Role.OFFICER)
                    await asyncio.gather(*(one_conversation(application, officers, user_id)
                                           for user_id in ids))
                    api.sent.clear()  # the offline API's record of calls, not the bot's

            await batch(first)
            after_first = rss_mb()
            await batch(conversations - first)
            after_all = rss_mb()
            storage = runtime.storage
            assert isinstance(storage, SqliteStorage)
            async with storage.db.execute("SELECT count(*) FROM referral") as cursor:
                row = await cursor.fetchone()
            referrals = int(row[0]) if row else 0
    return {"conversations": conversations, "first": first, "in_flight": in_flight,
            "rss_start_mb": start, "rss_first_mb": after_first, "rss_after_mb": after_all,
            "growth": round(after_all / after_first, 3), "referrals": referrals}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--first", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = asyncio.run(measure(args.conversations, args.first, args.in_flight))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
