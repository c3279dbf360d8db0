"""Where Deflect keeps what it keeps: one `Storage` of small typed stores (storage/ports.py),
opened from a location. The embedded default is one SQLite file (storage/sqlite/); another
backend is a sibling package, chosen here by the location's form."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from directory.store import Directory, directory_in
from members.keys import Keys
from members.ports import MemberStore
from storage.ports import ConversationStore, Storage
from storage.sqlite import SqliteConversationStore, SqliteStorage, health
from storage.sqlite.database import open_database
from storage.sqlite.health import DatabaseDamaged, DatabaseReadOnly, DatabaseUnusable
from storage.sqlite.maintenance import forget_keyed as sqlite_forget_keyed
from storage.sqlite.members import SqliteMemberStore

_URL_SCHEMES = ("postgres://", "postgresql://", "mysql://", "sqlite://")
_POSTGRES = ("postgres://", "postgresql://")


def is_postgres(location: str | os.PathLike[str]) -> bool:
    return os.fspath(location).lower().startswith(_POSTGRES)


class StorageError(Exception):
    """A location that names no storage this build can open (the command line says so in
    the operator's language)."""

    def __init__(self, location: str, scheme: str) -> None:
        super().__init__(f"{scheme}: not a storage this version can open")
        self.location = location
        self.scheme = scheme


def _file(location: str | os.PathLike[str]) -> Path:
    text = os.fspath(location)
    if text.lower().startswith(_URL_SCHEMES):
        raise StorageError(text, text.split(":", 1)[0])
    return Path(text)


def check_database(location: str | os.PathLike[str], *, full: bool = False) -> None:
    """Raise DatabaseDamaged or DatabaseReadOnly if the database file at `location` exists
    and is either (storage/sqlite/health.py); `full`: the full integrity check. A file not
    there yet is fine: the command creates it."""
    if is_postgres(location):
        return  # PostgreSQL checks its own pages; nothing of it is a file here
    path = _file(location)
    if path.is_file():
        health.check(path, full=full)


async def open_storage(location: str | os.PathLike[str], keys: Keys, *,
                       directory_file: str | os.PathLike[str] | None = None) -> Storage:
    """The stores at `location`: a SQLite file, or a PostgreSQL URL whose workers each keep
    the directory in a local SQLite file (`directory_file`)."""
    if is_postgres(location):
        from storage.postgres import PostgresStorage  # asyncpg only where it is used

        if directory_file is None:
            raise ValueError("on PostgreSQL, the directory needs a local SQLite file")
        return await PostgresStorage.open(os.fspath(location), keys, directory_file)
    return await SqliteStorage.open(_file(location), keys)


async def open_conversations(location: str | os.PathLike[str], keys: Keys
                             ) -> ConversationStore:
    """The conversation store alone, on its own connection (python-telegram-bot reads its
    persistence before the rest of the storage is opened)."""
    if is_postgres(location):
        from storage.postgres import PostgresConversationStore

        return await PostgresConversationStore.open(os.fspath(location), keys)
    return await SqliteConversationStore.open(_file(location), keys)


async def forget_keyed(location: str | os.PathLike[str]) -> dict[str, int]:
    """Delete everything only the lost key could read (storage/sqlite/maintenance.py)."""
    if is_postgres(location):
        from storage.postgres.database import open_pool
        from storage.postgres.followups import forget_keyed as postgres_forget_keyed

        pool = await open_pool(os.fspath(location))
        try:
            return await postgres_forget_keyed(pool)
        finally:
            await pool.close()
    db = await open_database(_file(location))
    try:
        return await sqlite_forget_keyed(db)
    finally:
        await db.close()


async def publish_directory(url: str, directory_file: str | os.PathLike[str]) -> int:
    """Several workers: the directory in `directory_file` becomes the one every worker of
    the PostgreSQL at `url` loads (storage/postgres/directory_copy.py); its version."""
    from storage.postgres import directory_copy
    from storage.postgres.database import open_pool

    pool = await open_pool(url, max_size=2)
    try:
        async with directory_session(directory_file, demo=False) as directory:
            return await directory_copy.publish(pool, directory)
    finally:
        await pool.close()


@asynccontextmanager
async def member_session(location: str | os.PathLike[str]) -> AsyncIterator[MemberStore]:
    """The member store alone, before the keys are open (bot/keys.py opens them with it)."""
    if is_postgres(location):
        from storage.postgres.database import open_pool
        from storage.postgres.members import PostgresMemberStore

        pool = await open_pool(os.fspath(location), max_size=2)
        store = await PostgresMemberStore.open(pool)
        try:
            yield store
        finally:
            await store.close()
            await pool.close()
        return
    db = await open_database(_file(location))
    try:
        yield await SqliteMemberStore.open(db)
    finally:
        await db.close()


@asynccontextmanager
async def directory_session(location: str | os.PathLike[str], *,
                            demo: bool = True) -> AsyncIterator[Directory]:
    """The directory kept at `location`, closed afterwards (the directory commands and
    benchmarks: the directory is public data and needs no key)."""
    async with directory_in(lambda: open_database(_file(location)), demo=demo) as directory:
        yield directory


__all__ = ["ConversationStore", "DatabaseDamaged", "DatabaseReadOnly", "DatabaseUnusable",
           "Storage", "StorageError", "check_database", "directory_session", "forget_keyed",
           "is_postgres", "member_session", "open_conversations", "open_storage",
           "publish_directory"]
