"""Conversation state in SQLite (storage/ports.py's ConversationStore).

These rows are keyed by Telegram ids, as a conversation in progress must be; they are not the
referral log, and they go when the conversation ends or goes idle (`delete_idle`).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import aiosqlite

from storage.sqlite.database import open_database


async def delete_idle(db: aiosqlite.Connection, cutoff: float) -> int:
    """Delete conversation states and user data last written before `cutoff` (epoch
    seconds); returns how many rows. Used by the store and by retention."""
    first = await db.execute("DELETE FROM conversation_state WHERE updated_at < ?", (cutoff,))
    second = await db.execute("DELETE FROM user_state WHERE updated_at < ?", (cutoff,))
    return first.rowcount + second.rowcount


class SqliteConversationStore:
    """On its own connection: python-telegram-bot reads persistence before the rest of the
    storage is opened (in initialize(), before post_init)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> SqliteConversationStore:
        return cls(await open_database(path))

    async def close(self) -> None:
        await self.db.close()

    async def delete_idle(self, cutoff: float) -> int:
        return await delete_idle(self.db, cutoff)

    async def states(self, name: str) -> dict[tuple[Any, ...], int]:
        rows = await self.db.execute_fetchall(
            "SELECT conversation_key, state FROM conversation_state WHERE name = ?", (name,))
        return {tuple(json.loads(key)): int(state) for key, state in rows}

    async def set_state(self, name: str, key: tuple[Any, ...], state: int | None) -> None:
        encoded = json.dumps(list(key))
        if state is None:
            await self.db.execute("DELETE FROM conversation_state WHERE name = ? AND "
                                  "conversation_key = ?", (name, encoded))
            return
        await self.db.execute(
            "INSERT INTO conversation_state (name, conversation_key, state, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (name, conversation_key) DO UPDATE SET "
            "state = excluded.state, updated_at = excluded.updated_at",
            (name, encoded, state, time.time()))

    async def user_data(self) -> dict[int, dict[str, Any]]:
        return {int(user_id): json.loads(text) for user_id, text in
                await self.db.execute_fetchall("SELECT user_id, data FROM user_state")}

    async def set_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        if not data:
            await self.db.execute("DELETE FROM user_state WHERE user_id = ?", (user_id,))
            return
        await self.db.execute(
            "INSERT INTO user_state (user_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at", (user_id, json.dumps(data), time.time()))
