"""Conversation state kept by the storage, so that a restart mid-checklist resumes at the
same step.

A python-telegram-bot `BasePersistence` on top of the storage's conversation store
(storage/ports.py): conversation states and each user's data (the draft of a referral in
progress) as JSON, never pickle. It writes through: after every update the application asks
it to save what changed (see bot/app.py), so even a killed process loses at most the update
being handled.

These rows are keyed by Telegram ids, as a conversation in progress must be; they are not
the referral log, and they are deleted when the conversation ends or goes idle for
DEFLECT_CONVERSATION_MINUTES.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from telegram.ext import BasePersistence, PersistenceInput

from bot.runtime import BotData
from storage import ConversationStore

if TYPE_CHECKING:  # PTB's private type aliases, for annotations only
    from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

# How a user_data value is read back from its JSON form (a draft, by its key); values
# without a decoder are plain JSON. A value with `to_json` is written through it.
Decoders = Mapping[str, Callable[[Any], Any]]


class StoragePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], BotData]):
    """Conversations and user data in the storage; chat, bot and callback data are not kept."""

    def __init__(self, open_store: Callable[[], Awaitable[ConversationStore]],
                 max_idle_s: float, decoders: Decoders | None = None, *,
                 shared: bool = False) -> None:
        super().__init__(store_data=PersistenceInput(bot_data=False, chat_data=False,
                                                     user_data=True, callback_data=False),
                         update_interval=60)
        self.open_store = open_store
        self.max_idle_s = max_idle_s
        self.decoders = dict(decoders or {})
        self._store: ConversationStore | None = None
        # What was last written for each user: python-telegram-bot asks again for data that
        # has not changed (bot/app.py saves each update's user at once, and PTB marks the
        # same user again after the update), and an unchanged draft is not sealed twice.
        self._written: dict[int, str] = {}
        # Several workers share the store (bot/workers.py): what this process holds of a
        # user may be stale, so it is read again before each of their updates.
        self.shared = shared

    async def store(self) -> ConversationStore:
        # Opened on first use: PTB reads persistence in initialize(), before post_init.
        if self._store is None:
            self._store = await self.open_store()
        return self._store

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None

    async def purge_idle(self) -> int:
        """Delete conversations and user data idle for longer than allowed; returns rows."""
        if not self.shared:
            # What was deleted must be written again if it comes back. Shared: this
            # process's copies are read again before each update (refresh_user_data), and a
            # stale copy must never be written back over another worker's.
            self._written.clear()
        return await (await self.store()).delete_idle(time.time() - self.max_idle_s)

    # --- what PTB reads at start ---------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        await self.purge_idle()
        return dict(await (await self.store()).states(name))

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        loaded: dict[int, dict[Any, Any]] = {}
        for user_id, data in (await (await self.store()).user_data()).items():
            loaded[user_id] = {key: self.decoders[key](value) if key in self.decoders
                               else value for key, value in data.items()}
        return loaded

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> BotData:
        return BotData()

    async def get_callback_data(self) -> CDCData | None:
        return None

    # --- what PTB writes as things change ---------------------------------------------------

    async def update_conversation(self, name: str, key: ConversationKey,
                                  new_state: object | None) -> None:
        await (await self.store()).set_state(
            name, tuple(key), None if new_state is None else int(new_state))  # type: ignore[call-overload]

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        plain = {key: (value.to_json() if hasattr(value, "to_json") else value)
                 for key, value in data.items()}
        text = json.dumps(plain, sort_keys=True)
        if self._written.get(user_id) == text:
            return
        await (await self.store()).set_user_data(user_id, plain)
        if plain or self.shared:
            # Shared: "nothing" is remembered too, so that this worker's stale copy of an
            # ended draft is not written over a newer one another worker made.
            self._written[user_id] = text
        else:
            self._written.pop(user_id, None)

    async def drop_user_data(self, user_id: int) -> None:
        self._written.pop(user_id, None)
        await (await self.store()).set_user_data(user_id, {})

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: BotData) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        if not self.shared:
            return None
        stored = await (await self.store()).user(user_id)
        user_data.clear()
        user_data.update({key: self.decoders[key](value) if key in self.decoders else value
                          for key, value in stored.items()})
        self._written[user_id] = json.dumps(stored, sort_keys=True)
        return None

    async def conversation_state(self, name: str, key: tuple[Any, ...]) -> int | None:
        return await (await self.store()).state(name, key)

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        return None

    async def flush(self) -> None:
        await self.close()
