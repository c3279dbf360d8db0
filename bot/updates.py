"""Updates from different chats run side by side; each chat's updates run in order.

python-telegram-bot handles one update at a time by default, so one slow step (a geocode, a
busy database) would stall every officer. This processor lets `max_running` updates run at
once, never two of the same chat, in the order they arrived. An update waiting for its
chat's previous one does not take one of the running slots.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.metrics import Metrics

# PTB's own bound is taken before our per-chat wait, so it is set out of the way and the
# real bound (`max_running`) applied once an update's turn in its chat has come.
_UNBOUNDED = 1_000_000


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_running: int = 64, metrics: Metrics | None = None) -> None:
        super().__init__(max_concurrent_updates=_UNBOUNDED)
        self.max_running = max_running
        self.metrics = metrics or Metrics()
        self._running = asyncio.Semaphore(max_running)
        self._chats: dict[object, tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def chat_key(update: object) -> object:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return ("user", update.effective_user.id)
        return None  # jobs and other non-updates: no ordering among themselves

    async def do_process_update(self, update: object,
                                coroutine: Awaitable[Any]) -> None:
        key = self.chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock, waiting = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, waiting + 1)
        try:
            async with lock, self._running:
                with self.metrics.handling():
                    await coroutine
        finally:
            lock, waiting = self._chats[key]
            if waiting == 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, waiting - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
