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
from directory.store import MIGRATION_1, MIGRATION_2, MIGRATION_3, Directory, open_directory

DIRECTORY_MIGRATIONS = (MIGRATION_1, MIGRATION_2, MIGRATION_3)


async def open_database(path: str | os.PathLike[str]) -> aiosqlite.Connection:
    """Open (creating if needed) a file with the directory's tables; writes nothing to one
    that has them already."""
    db = await aiosqlite.connect(Path(path), isolation_level=None)
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        await _migrate(db)
        await db.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        await db.close()
        raise
    return db


async def _migrate(db: aiosqlite.Connection) -> None:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    for number in range(version, len(DIRECTORY_MIGRATIONS)):
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in DIRECTORY_MIGRATIONS[number].split(";"):
                if statement.strip():
                    await db.execute(statement.strip())
            broken = list(await db.execute_fetchall("PRAGMA foreign_key_check"))
            assert not broken, f"migration {number + 1} breaks foreign keys: {broken!r}"
            await db.execute(f"PRAGMA user_version = {number + 1}")
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise


@asynccontextmanager
async def directory_session(path: str | os.PathLike[str] | None, *,
                            demo: bool = True) -> AsyncIterator[Directory]:
    """The directory in the file at `path`, closed afterwards."""
    assert path is not None, "the directory's tests always name their database file"
    db = await open_database(path)
    try:
        directory = await open_directory(db, demo=demo)
        try:
            yield directory
        finally:
            await directory.close()
    finally:
        await db.close()


def main(argv: Sequence[str]) -> int:
    """`deflect directory ...` (argv starts with "directory"), in English, with --db."""
    command, *rest = argv
    assert command == "directory", "only the directory's own commands run here"
    return directory_cli.main(
        rest, lambda path, demo: directory_session(path, demo=demo), NullTranslations(),
        Locale("en"), db_exists=lambda path: path is not None and Path(path).exists())
