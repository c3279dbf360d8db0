"""Where Deflect keeps what it keeps: one `Storage` of small typed stores (storage/ports.py),
opened from a location. The embedded default is one SQLite file (storage/sqlite/); another
backend is a sibling package, chosen here by the location's form."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from directory.store import Directory
from storage.ports import ConversationStore, Storage
from storage.sqlite import SqliteConversationStore, SqliteStorage

_URL_SCHEMES = ("postgres://", "postgresql://", "mysql://", "sqlite://")


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


async def open_storage(location: str | os.PathLike[str]) -> Storage:
    return await SqliteStorage.open(_file(location))


async def open_conversations(location: str | os.PathLike[str]) -> ConversationStore:
    """The conversation store alone, on its own connection (python-telegram-bot reads its
    persistence before the rest of the storage is opened)."""
    return await SqliteConversationStore.open(_file(location))


@asynccontextmanager
async def directory_session(location: str | os.PathLike[str], *,
                            demo: bool = True) -> AsyncIterator[Directory]:
    """The storage at `location` and its directory, closed afterwards (the directory
    commands and benchmarks)."""
    storage = await open_storage(location)
    try:
        directory = await storage.open_directory(demo=demo)
        try:
            yield directory
        finally:
            await directory.close()
    finally:
        await storage.close()


__all__ = ["ConversationStore", "Storage", "StorageError", "directory_session",
           "open_conversations", "open_storage"]
