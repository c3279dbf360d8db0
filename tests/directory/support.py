"""What the directory's tests need of a database and a command line, without the bot.

A SQLite file with the directory's own tables only (its migrations, in order), opened as
the bot opens its database (WAL, foreign keys on after migrating, autocommit), and
`deflect directory ...` run through the directory's own command-line layer in English.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from gettext import NullTranslations
from pathlib import Path

import aiosqlite
from babel import Locale

from directory import cli as directory_cli
from directory.sqlite import open_migrated
from directory.store import (
    MIGRATION_1,
    MIGRATION_2,
    MIGRATION_3,
    MIGRATION_4,
    Directory,
    directory_in,
)

DIRECTORY_MIGRATIONS = (MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4)


async def open_database(path: str | os.PathLike[str]) -> aiosqlite.Connection:
    """Open (creating if needed) a file with the directory's tables, as the storage opens
    its file; writes nothing to one that has them already."""
    return await open_migrated(path, DIRECTORY_MIGRATIONS)


@asynccontextmanager
async def directory_session(path: str | os.PathLike[str] | None, *,
                            demo: bool = True) -> AsyncIterator[Directory]:
    """The directory in the file at `path`, closed afterwards."""
    assert path is not None, "the directory's tests always name their database file"
    async with directory_in(lambda: open_database(path), demo=demo) as directory:
        yield directory


def main(argv: Sequence[str]) -> int:
    """`deflect directory ...` (argv starts with "directory"), in English, with --db."""
    command, *rest = argv
    assert command == "directory", "only the directory's own commands run here"
    return directory_cli.main(
        rest, lambda path, demo: directory_session(path, demo=demo), NullTranslations(),
        Locale("en"), db_exists=lambda path: path is not None and Path(path).exists())
