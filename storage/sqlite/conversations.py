"""Conversation state in SQLite (storage/ports.py's ConversationStore).

A conversation in progress must be found again by its Telegram ids, and its draft holds the
place being searched from: each row is found by a keyed tag of its key, and the key itself and
the user's data are sealed (AES-GCM under a key derived from the master key, bound to the
row), so the file alone reveals no id and no place. Rows go when the conversation ends or
goes idle (`delete_idle`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import aiosqlite

from members.keys import Keys, Sealer
from storage.ports import StateWrite, UserWrite
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

    def __init__(self, db: aiosqlite.Connection, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    @classmethod
    async def open(cls, path: str | os.PathLike[str], keys: Keys) -> SqliteConversationStore:
        return cls(await open_database(path), keys.sealer("conversations"))

    async def close(self) -> None:
        await self.db.close()

    async def delete_idle(self, cutoff: float) -> int:
        return await delete_idle(self.db, cutoff)

    def _key_tag(self, name: str, key: tuple[Any, ...]) -> bytes:
        return self.sealer.tag(json.dumps([name, *key]).encode())

    def _user_tag(self, user_id: int) -> bytes:
        return self.sealer.tag(f"user:{user_id}".encode())

    async def states(self, name: str) -> dict[tuple[Any, ...], int]:
        rows = await self.db.execute_fetchall(
            "SELECT key_tag, sealed_key, state FROM conversation_state WHERE name = ?", (name,))
        return {tuple(json.loads(self.sealer.open(bytes(sealed), bytes(tag)))): int(state)
                for tag, sealed, state in rows}

    def _state_statement(self, name: str, key: tuple[Any, ...], state: int | None
                         ) -> tuple[str, tuple[Any, ...]]:
        tag = self._key_tag(name, key)
        if state is None:
            return ("DELETE FROM conversation_state WHERE name = ? AND key_tag = ?",
                    (name, tag))
        sealed = self.sealer.seal(json.dumps(list(key)).encode(), tag)
        return ("INSERT INTO conversation_state (name, key_tag, sealed_key, state, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, key_tag) DO UPDATE SET "
                "state = excluded.state, updated_at = excluded.updated_at",
                (name, tag, sealed, state, time.time()))

    async def set_state(self, name: str, key: tuple[Any, ...], state: int | None) -> None:
        await self.db.execute(*self._state_statement(name, key, state))

    async def state(self, name: str, key: tuple[Any, ...]) -> int | None:
        rows = list(await self.db.execute_fetchall(
            "SELECT state FROM conversation_state WHERE name = ? AND key_tag = ?",
            (name, self._key_tag(name, key))))
        return int(rows[0][0]) if rows else None

    async def user(self, user_id: int) -> dict[str, Any]:
        tag = self._user_tag(user_id)
        rows = list(await self.db.execute_fetchall(
            "SELECT sealed FROM user_state WHERE user_tag = ?", (tag,)))
        if not rows:
            return {}
        _user_id, data = json.loads(self.sealer.open(bytes(rows[0][0]), tag))
        return dict(data)

    async def user_data(self) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for tag, sealed in await self.db.execute_fetchall(
                "SELECT user_tag, sealed FROM user_state"):
            user_id, data = json.loads(self.sealer.open(bytes(sealed), bytes(tag)))
            found[int(user_id)] = data
        return found

    def _user_statement(self, user_id: int, data: dict[str, Any]
                        ) -> tuple[str, tuple[Any, ...]]:
        tag = self._user_tag(user_id)
        if not data:
            return "DELETE FROM user_state WHERE user_tag = ?", (tag,)
        sealed = self.sealer.seal(json.dumps([user_id, data]).encode(), tag)
        return ("INSERT INTO user_state (user_tag, sealed, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_tag) DO UPDATE SET sealed = excluded.sealed, "
                "updated_at = excluded.updated_at", (tag, sealed, time.time()))

    async def set_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await self.db.execute(*self._user_statement(user_id, data))

    async def save(self, states: Sequence[StateWrite], users: Sequence[UserWrite]) -> None:
        statements = [self._state_statement(*state) for state in states] + [
            self._user_statement(*user) for user in users]
        if len(statements) == 1:
            await self.db.execute(*statements[0])
        elif statements:
            # One trip to the connection's thread and one commit, not one of each per row
            # (aiosqlite's own way of running a function in that thread).
            await self.db._execute(  # type: ignore[no-untyped-call]  # noqa: SLF001
                _in_one_transaction, self.db._conn, statements)  # noqa: SLF001


def _in_one_transaction(connection: sqlite3.Connection,
                        statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    """In the connection's own thread: the statements in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        for sql, parameters in statements:
            connection.execute(sql, parameters)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
