"""Conversation state in SQLite, so that a restart mid-checklist resumes at the same step.

A python-telegram-bot `BasePersistence` that stores the conversation states and each user's
data (the draft of a referral in progress) as JSON, never pickle, in the same database file.
It writes through: after every update the application asks it to save what changed (see
bot/app.py), so even a killed process loses at most the update being handled.

These rows are keyed by Telegram ids, as a conversation in progress must be; they are not
the referral log, and they are deleted when the conversation ends or goes idle for
DEFLECT_CONVERSATION_MINUTES.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
from telegram.ext import BasePersistence, PersistenceInput

if TYPE_CHECKING:  # bot.database lists this module's migration: no import cycle at run time
    from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

    from bot.runtime import BotData

MIGRATION = """
CREATE TABLE conversation_state (
    name TEXT NOT NULL,
    conversation_key TEXT NOT NULL,
    state INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (name, conversation_key)
);
CREATE TABLE user_state (
    user_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

DRAFT_KEY = "draft"


async def delete_idle(db: aiosqlite.Connection, cutoff: float) -> int:
    """Delete conversation states and user data last written before `cutoff` (epoch
    seconds); returns how many rows. Used by the persistence and by retention."""
    first = await db.execute("DELETE FROM conversation_state WHERE updated_at < ?", (cutoff,))
    second = await db.execute("DELETE FROM user_state WHERE updated_at < ?", (cutoff,))
    return first.rowcount + second.rowcount


class SqlitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], "BotData"]):
    """Conversations and user data in SQLite; chat, bot and callback data are not kept."""

    def __init__(self, db_path: Path, max_idle_s: float) -> None:
        super().__init__(store_data=PersistenceInput(bot_data=False, chat_data=False,
                                                     user_data=True, callback_data=False),
                         update_interval=60)
        self.db_path = db_path
        self.max_idle_s = max_idle_s
        self._db: aiosqlite.Connection | None = None

    async def _connection(self) -> aiosqlite.Connection:
        # Opened on first use: PTB reads persistence in initialize(), before post_init.
        if self._db is None:
            from bot.database import open_database

            self._db = await open_database(self.db_path)
        return self._db

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def purge_idle(self) -> int:
        """Delete conversations and user data idle for longer than allowed; returns rows."""
        return await delete_idle(await self._connection(), time.time() - self.max_idle_s)

    # --- what PTB reads at start ---------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        await self.purge_idle()
        db = await self._connection()
        rows = await db.execute_fetchall(
            "SELECT conversation_key, state FROM conversation_state WHERE name = ?", (name,))
        return {tuple(json.loads(key)): int(state) for key, state in rows}

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        from handlers.common import Draft  # the draft's codec lives with the draft

        db = await self._connection()
        loaded: dict[int, dict[Any, Any]] = {}
        for user_id, text in await db.execute_fetchall("SELECT user_id, data FROM user_state"):
            data = json.loads(text)
            if DRAFT_KEY in data:
                data[DRAFT_KEY] = Draft.from_json(data[DRAFT_KEY])
            loaded[int(user_id)] = data
        return loaded

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> BotData:
        from bot.runtime import BotData

        return BotData()

    async def get_callback_data(self) -> CDCData | None:
        return None

    # --- what PTB writes as things change ---------------------------------------------------

    async def update_conversation(self, name: str, key: ConversationKey,
                                  new_state: object | None) -> None:
        db = await self._connection()
        encoded = json.dumps(list(key))
        if new_state is None:
            await db.execute("DELETE FROM conversation_state WHERE name = ? AND "
                             "conversation_key = ?", (name, encoded))
            return
        await db.execute(
            "INSERT INTO conversation_state (name, conversation_key, state, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (name, conversation_key) DO UPDATE SET "
            "state = excluded.state, updated_at = excluded.updated_at",
            (name, encoded, int(new_state), time.time()))  # type: ignore[call-overload]

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        db = await self._connection()
        plain = {key: (value.to_json() if hasattr(value, "to_json") else value)
                 for key, value in data.items()}
        if not plain:
            await db.execute("DELETE FROM user_state WHERE user_id = ?", (user_id,))
            return
        await db.execute(
            "INSERT INTO user_state (user_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at", (user_id, json.dumps(plain), time.time()))

    async def drop_user_data(self, user_id: int) -> None:
        db = await self._connection()
        await db.execute("DELETE FROM user_state WHERE user_id = ?", (user_id,))

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: BotData) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        return None

    async def flush(self) -> None:
        await self.close()
