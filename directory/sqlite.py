"""One writer at a time on a shared aiosqlite connection.

With several chats handled at once, two coroutines writing through the same connection
would interleave: a single INSERT run while another coroutine is inside BEGIN...COMMIT
becomes part of that transaction, and rolls back with it. Every write therefore takes the
connection's write lock; `transaction()` takes it for a whole BEGIN IMMEDIATE...COMMIT.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

import aiosqlite

_LOCKS: WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = WeakKeyDictionary()


def write_lock(db: aiosqlite.Connection) -> asyncio.Lock:
    lock = _LOCKS.get(db)
    if lock is None:
        lock = _LOCKS[db] = asyncio.Lock()
    return lock


@asynccontextmanager
async def transaction(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error), holding the write lock."""
    async with write_lock(db):
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
