"""Conversations left idle end with one sweep, not a timer per update.

python-telegram-bot's `conversation_timeout` reschedules an APScheduler job on every update
of a conversation: measurable on every tap (benchmarks/turns.py). Here each update only
notes the time (`IdleClock.seen`, from bot/app.py's save step), and a repeating job
(`sweep`, every SWEEP_S) ends the conversations idle for longer than the timeout as PTB's
would: the same "timed out" answer (navigation.timed_out) to the chat's last update, the
draft dropped, the conversation ended and written through. A conversation ends between
DEFLECT_CONVERSATION_MINUTES and that plus SWEEP_S after its last update.

One process only: several workers each see only some of a chat's updates, so there the
store's idle purge ends conversations instead (bot/app.py).
"""

from __future__ import annotations

import time
from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler

from bot.runtime import DeflectContext
from handlers.checklist.navigation import timed_out

SWEEP_S = 15.0


class IdleClock:
    def __init__(self, handler: ConversationHandler[Any], timeout_s: float) -> None:
        self.handler = handler
        self.timeout_s = timeout_s
        # conversation key -> (last update's monotonic time, that update)
        self._last: dict[tuple[int | str, ...], tuple[float, Update]] = {}

    def _active(self, key: tuple[int | str, ...]) -> bool:
        return self.handler._conversations.get(key) is not None  # noqa: SLF001

    def seen(self, key: tuple[int | str, ...] | None, update: Update) -> None:
        """After an update was handled (`key`: its conversation's): the conversation's
        clock starts again, or stops if the update ended it."""
        if key is None:
            return
        if self._active(key):
            self._last[key] = (time.monotonic(), update)
        else:
            self._last.pop(key, None)

    def waiting(self) -> int:
        """Conversations whose clock runs."""
        return len(self._last)

    def idle(self) -> int:
        """Conversations idle for longer than the timeout now (the next sweep ends them)."""
        cutoff = time.monotonic() - self.timeout_s
        return sum(1 for when, _update in self._last.values() if when <= cutoff)

    async def sweep(self, application: Application[Any, Any, Any, Any, Any, Any]) -> int:
        """End every conversation idle for longer than the timeout; returns how many."""
        cutoff = time.monotonic() - self.timeout_s
        ended = 0
        # Stamps are taken again by updates handled while this sweep awaits: a conversation
        # that moved on in between is left alone.
        for key, (when, update) in list(self._last.items()):
            if not self._active(key):
                self._last.pop(key, None)
                continue
            if when > cutoff or self._last.get(key, (0.0, None))[0] != when:
                continue
            del self._last[key]
            context = DeflectContext.from_update(update, application)
            await context.refresh_data()
            try:
                await timed_out(update, context)
            finally:
                self.handler._update_state(ConversationHandler.END, key)  # noqa: SLF001
                if update.effective_user is not None:
                    application.mark_data_for_update_persistence(
                        user_ids=update.effective_user.id)
            ended += 1
        if ended:
            await application.update_persistence()
        return ended
