"""The SQLite machinery the directory and the storage share: opening a file with its
numbered migrations, and one writer at a time on a shared aiosqlite connection.

With several chats handled at once, two coroutines writing through the same connection
would interleave: a single INSERT run while another coroutine is inside BEGIN...COMMIT
becomes part of that transaction, and rolls back with it. Every write therefore takes the
connection's write lock; `transaction()` takes it for a whole BEGIN IMMEDIATE...COMMIT.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
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


async def open_migrated(path: str | os.PathLike[str], migrations: Sequence[str]
                        ) -> aiosqlite.Connection:
    """Open (creating if needed) and migrate a file; WAL, foreign keys on, autocommit.

    Autocommit (isolation_level None) because writers open their own explicit transactions;
    implicit ones would interleave when several chats write at once.
    """
    _create_private(Path(path))
    db = await aiosqlite.connect(Path(path), isolation_level=None)
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        # After a checkpoint the write-ahead log is cut back to this size (bytes), so it does
        # not keep old page images (ids of finished conversations) around at full size.
        await db.execute("PRAGMA journal_size_limit=1048576")
        # Deleted rows are overwritten, not left in free pages: a finished conversation's
        # state (keyed by Telegram ids) must not linger in the file.
        await db.execute("PRAGMA secure_delete=ON")
        await migrate(db, migrations)
        # After migrating: SQLite rebuilds a table (to change a constraint) only with foreign
        # keys off; each migration checks them itself before it commits.
        await db.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        await db.close()
        raise
    return db


def _create_private(path: Path) -> None:
    """A new database file is made readable by its owner only (SQLite gives its -wal and
    -shm files the same mode): the log and the members' keyed hashes are nobody else's to
    read, whatever the umask. An existing file keeps the mode its operator gave it."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


async def migrate(db: aiosqlite.Connection, migrations: Sequence[str]) -> int:
    """Run the migrations this file has not seen yet, each in its own transaction;
    `PRAGMA user_version` records how many have run. Returns the schema version."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    if version > len(migrations):
        raise RuntimeError(
            f"database schema version {version} is newer than this Deflect "
            f"({len(migrations)}); upgrade Deflect"
        )
    for number in range(version, len(migrations)):
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migrations[number]):
                await db.execute(statement)
            broken = await db.execute_fetchall("PRAGMA foreign_key_check")
            if list(broken):
                raise RuntimeError(f"migration {number + 1} breaks foreign keys: {broken!r}")
            await db.execute(f"PRAGMA user_version = {number + 1}")
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
    return len(migrations)


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
