"""Conversation state kept by the storage, so that a restart mid-checklist resumes at the
same step.

A python-telegram-bot `BasePersistence` on top of the storage's conversation store
(storage/ports.py): conversation states and each user's data (the draft of a referral in
progress) as JSON, never pickle. After every update the application hands it what changed
(`write_through`, from bot/app.py; nothing if nothing did). One process writes behind: what
the updates of one event-loop tick changed goes to the store together, in one transaction,
off the update's path, and a chat's next update first waits for its last one's write
(`settle`), so a killed process still loses at most the update being handled. Several
workers write at once, inside the update's unit of work (storage/postgres/database.py).

These rows are keyed by Telegram ids, as a conversation in progress must be; they are not
the referral log, and they are deleted when the conversation ends or goes idle for
DEFLECT_CONVERSATION_MINUTES.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from telegram.ext import BasePersistence, PersistenceInput

from bot.runtime import BotData
from storage import ConversationStore
from storage.ports import StateWrite, UserWrite

if TYPE_CHECKING:  # PTB's private type aliases, for annotations only
    from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

# How a user_data value is read back from its JSON form (a draft, by its key); values
# without a decoder are plain JSON. A value with `to_json` is written through it.
Decoders = Mapping[str, Callable[[Any], Any]]
_LOGGER = logging.getLogger(__name__)


def _plain(data: dict[Any, Any]) -> dict[str, Any]:
    """A user's data as the JSON it is written as, and a snapshot of it: a value with
    `to_json` (the draft) builds its JSON afresh, anything else is copied, so that what
    was written can be told from what changed since without encoding it again."""
    return {key: value.to_json() if hasattr(value, "to_json") else copy.deepcopy(value)
            for key, value in data.items()}


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
        self._opening = asyncio.Lock()
        # What was last written for each user: python-telegram-bot asks again for data that
        # has not changed (bot/app.py saves each update's user at once, and PTB marks the
        # same user again after the update), and an unchanged draft is not sealed twice.
        self._written: dict[int, dict[str, Any]] = {}
        # The conversation states the store holds, likewise (a conversation missing here has
        # no row): a state that did not change is not written again.
        self._states: dict[tuple[str, tuple[Any, ...]], int] = {}
        # Several workers share the store (bot/workers.py): what this process holds of a
        # user may be stale, so it is read again before each of their updates.
        self.shared = shared
        # One process: writes wait for the end of the event loop's tick and go together,
        # in one transaction (write-behind); a chat's next update waits for its last write
        # (`settle`). Several workers write at once, inside the update's unit of work.
        self._pending_states: dict[tuple[str, tuple[Any, ...]], int | None] = {}
        self._pending_users: dict[int, dict[str, Any]] = {}
        self._batch: asyncio.Future[None] | None = None  # the batch being gathered
        self._waiting_on: dict[tuple[Any, ...], asyncio.Future[None]] = {}
        self._flusher: asyncio.Task[None] | None = None

    async def store(self) -> ConversationStore:
        # Opened on first use: PTB reads persistence in initialize(), before post_init. Once:
        # the writer behind and an update may ask at the same moment.
        if self._store is None:
            async with self._opening:
                if self._store is None:
                    self._store = await self.open_store()
        return self._store

    async def close(self) -> None:
        await self.written()
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
            self._states.clear()
        return await (await self.store()).delete_idle(time.time() - self.max_idle_s)

    # --- what PTB reads at start ---------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        await self.purge_idle()
        states = await (await self.store()).states(name)
        for key, state in states.items():
            self.knows(name, key, state)
        return dict(states)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        loaded: dict[int, dict[Any, Any]] = {}
        for user_id, data in (await (await self.store()).user_data()).items():
            self._written[user_id] = data
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
        state = None if new_state is None else int(new_state)  # type: ignore[call-overload]
        if self._states.get((name, tuple(key))) == state:
            return  # written through already (write_through)
        self.knows(name, tuple(key), state)
        await self._write([(name, tuple(key), state)], [])

    def knows(self, name: str, key: tuple[Any, ...], state: int | None) -> None:
        """The store holds `state` for this conversation (None: no row). Several workers:
        read from the store before each of the chat's updates (bot/workers.py)."""
        if state is None:
            self._states.pop((name, key), None)
        else:
            self._states[(name, key)] = state

    async def write_through(self, name: str, key: tuple[Any, ...] | None, state: int | None,
                            user_id: int | None, data: dict[Any, Any] | None) -> None:
        """After each update (bot/app.py): the conversation's state and the user's data,
        whichever changed, written in one transaction; nothing written if neither did.
        Cheaper than PTB's update_persistence, which copies every marked user's data and
        writes each item apart."""
        write_state: StateWrite | None = None
        if key is not None and self._states.get((name, key)) != state:
            write_state = (name, key, state)
        write_user: UserWrite | None = None
        if user_id is not None and data is not None:
            plain = _plain(data)
            if self._written.get(user_id) != plain:
                write_user = (user_id, plain)
        if write_state is None and write_user is None:
            return
        if write_state is not None:
            self.knows(*write_state)
        if write_user is not None:
            self._remember_user(*write_user)
        await self._write([write_state] if write_state else [],
                          [write_user] if write_user else [])

    async def _write(self, states: list[StateWrite], users: list[UserWrite]) -> None:
        if self.shared:
            await (await self.store()).save(states, users)
            return
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
        for name, key, state in states:
            self._pending_states[(name, key)] = state
            self._waiting_on[("state", name, key)] = self._batch
        for user_id, data in users:
            self._pending_users[user_id] = data
            self._waiting_on[("user", user_id)] = self._batch
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._write_batches())

    async def _write_batches(self) -> None:
        try:
            while self._batch is not None:
                await asyncio.sleep(0)  # the other updates of this tick join the batch
                batch, self._batch = self._batch, None
                states, self._pending_states = self._pending_states, {}
                users, self._pending_users = self._pending_users, {}
                try:
                    await (await self.store()).save(
                        [(name, key, state) for (name, key), state in states.items()],
                        list(users.items()))
                except Exception as error:  # noqa: BLE001 - the next update writes again
                    _LOGGER.error("conversation state not written (%s); it will be written "
                                  "with the next update", type(error).__name__)
                    self._written.clear()
                    self._states.clear()
                finally:
                    batch.set_result(None)
                    self._waiting_on = {key: future for key, future in self._waiting_on.items()
                                        if future is not batch}
        finally:
            self._flusher = None

    def behind(self) -> bool:
        """Writes are waiting or under way (nothing to settle otherwise)."""
        return bool(self._waiting_on)

    async def settle(self, name: str, key: tuple[Any, ...] | None, user_id: int | None
                     ) -> None:
        """Before a chat's next update: its last update's writes are in the store, so a
        process killed during this one loses at most this one."""
        for waiting in (("state", name, key), ("user", user_id)):
            future = self._waiting_on.get(waiting)
            if future is not None:
                await asyncio.shield(future)

    async def written(self) -> None:
        """Everything handed to the store so far is in it (at shutdown, in tests)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        plain = _plain(data)
        if self._written.get(user_id) == plain:
            return
        self._remember_user(user_id, plain)
        await self._write([], [(user_id, plain)])

    def _remember_user(self, user_id: int, plain: dict[str, Any]) -> None:
        if plain or self.shared:
            # Shared: "nothing" is remembered too, so that this worker's stale copy of an
            # ended draft is not written over a newer one another worker made.
            self._written[user_id] = plain
        else:
            self._written.pop(user_id, None)

    async def drop_user_data(self, user_id: int) -> None:
        if self.shared:
            # PTB calls this up to a minute later (its own flush): by then another worker may
            # have written this user a new draft. An ended draft's row went with its update
            # (write_through, inside the update's unit of work).
            return
        if user_id not in self._written:
            return  # no row was written or loaded for them, none to delete
        self._written.pop(user_id, None)
        await self._write([], [(user_id, {})])

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
        self._written[user_id] = stored
        return None

    async def conversation_state(self, name: str, key: tuple[Any, ...]) -> int | None:
        state = await (await self.store()).state(name, key)
        self.knows(name, key, state)
        return state

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        return None

    async def flush(self) -> None:
        await self.close()
