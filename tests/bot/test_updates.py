"""Different chats at once, each chat in order: the update processor."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.updates import PerChatUpdateProcessor


def message(update_id: int, chat_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "X"}, "text": "hi"}}, None)


async def test_a_slow_chat_does_not_stall_others_and_each_chat_keeps_its_order() -> None:
    processor = PerChatUpdateProcessor(max_running=4)
    finished: list[str] = []

    async def handle(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        finished.append(name)

    tasks = [
        asyncio.create_task(processor.process_update(message(1, 10), handle("A1 slow", 0.3))),
        asyncio.create_task(processor.process_update(message(2, 10), handle("A2", 0.0))),
        asyncio.create_task(processor.process_update(message(3, 20), handle("B1", 0.0))),
        asyncio.create_task(processor.process_update(message(4, 20), handle("B2", 0.01))),
    ]
    await asyncio.gather(*tasks)
    assert finished.index("B1") < finished.index("A1 slow")  # B was not held up by A
    assert finished.index("B2") < finished.index("A1 slow")
    assert finished.index("A1 slow") < finished.index("A2")  # A stayed in order
    assert finished.index("B1") < finished.index("B2")
    assert processor._chats == {}  # nothing left behind


async def test_at_most_max_running_at_once() -> None:
    processor = PerChatUpdateProcessor(max_running=2)
    running = 0
    peak = 0

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    await asyncio.gather(*(processor.process_update(message(i, 100 + i), handle())
                           for i in range(8)))
    assert peak == 2
