"""Copies of the SQLite file: made while the bot runs (SQLite's online backup API, read from
one snapshot), examined before they are trusted, and the lock that tells a restore the bot is
still running. The key file is never part of any of it (bot/keys.py keeps it apart).

Plain sqlite3, not aiosqlite: the commands run these in a thread, outside the event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from directory.importers import Progress
from storage.sqlite.database import MIGRATIONS
from storage.sqlite.health import first_problem

LATEST_VERSION = len(MIGRATIONS)  # the schema version this code migrates a file to
STEP_PAGES = 256  # pages copied per step of the backup (1 MB of 4 KB pages): one bar update
_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED: another connection holds the file
_BUSY_TIMEOUT_S = 5.0
_IN_USE_WAIT_S = 0.2  # how long a restore waits for a running bot to let the file go
_FIRST_TABLE = "directory_source"  # made by the first migration of every Deflect database


class CopyUnusable(Exception):
    """A copy that must not be trusted (the command line says why, in the operator's
    language)."""

    def __init__(self, path: Path, detail: str = "") -> None:
        super().__init__(f"{path}: {detail}" if detail else str(path))
        self.path = path
        self.detail = detail


class Unreadable(CopyUnusable):
    """SQLite cannot read the file, or its integrity check fails; `detail` is SQLite's."""


class NotDeflect(CopyUnusable):
    """A database, but no schema version of Deflect's (or no table of it)."""


class TooNew(CopyUnusable):
    """Made by a newer Deflect: its schema version is past this code's last migration."""

    def __init__(self, path: Path, version: int) -> None:
        super().__init__(path, f"schema version {version}")
        self.version = version


class InUse(Exception):
    """Another connection (a running bot) has the database open."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path}: in use")
        self.path = path


@dataclass(frozen=True)
class Examined:
    version: int  # PRAGMA user_version: the migrations the file has been through
    pages: int
    referrals: int


def _connect(path: Path, mode: str, timeout: float = _BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """A connection to an existing file (never creating one), "ro" or "rw"."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True,
                           isolation_level=None, timeout=timeout)


def _version(connection: sqlite3.Connection) -> int:
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    return int(version)


def examine(path: Path) -> Examined:
    """What the copy at `path` holds, once SQLite's full integrity check finds it whole and
    it is a database of this Deflect or an older one. Raise Unreadable, NotDeflect or TooNew;
    the file is only read."""
    try:
        with closing(_connect(path, "ro")) as connection:
            # The first problem is enough to refuse the copy (and says where).
            problem = first_problem(connection)
            if problem is not None:
                raise Unreadable(path, problem)
            version = _version(connection)
            tables = {name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            (pages,) = connection.execute("PRAGMA page_count").fetchone()
            referrals = connection.execute("SELECT count(*) FROM referral").fetchone()[0] \
                if "referral" in tables else 0
    except sqlite3.Error as error:
        raise Unreadable(path, str(error)) from error
    if version < 1 or _FIRST_TABLE not in tables:
        raise NotDeflect(path)
    if version > LATEST_VERSION:
        raise TooNew(path, version)
    return Examined(version, int(pages), int(referrals))


def copy_database(source: Path, target: Path, progress: Progress | None = None, *,
                  read_only: bool = False, step_pages: int = STEP_PAGES) -> int:
    """Copy the database at `source` into `target` (an existing empty file, which keeps its
    mode) with SQLite's online backup API, and return the schema version copied.

    On WAL, as Deflect keeps its file, the whole copy is read inside one read transaction:
    the bot goes on committing meanwhile (to the write-ahead log, which this snapshot does not
    see), the copy never has to start again, and it is the database exactly as it was when
    the copy began. The copy is left in rollback-journal mode: one self-contained file.
    `read_only`: `source` is opened read-only (a backup being restored)."""
    with closing(_connect(source, "ro" if read_only else "rw")) as reader, \
            closing(sqlite3.connect(target, isolation_level=None)) as copy:
        (journal,) = reader.execute("PRAGMA journal_mode").fetchone()
        snapshot = str(journal).lower() == "wal"
        if snapshot:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot
        version = _version(reader)

        def report(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        # Without WAL a stepped copy would start again at every write of another process:
        # it is then copied in one step, under a read lock held just that long.
        reader.backup(copy, pages=step_pages if snapshot else -1, progress=report)
        if snapshot:
            reader.execute("COMMIT")
        copy.execute("PRAGMA journal_mode=DELETE")
    return version


@contextmanager
def held_exclusively(path: Path) -> Iterator[bool]:
    """Hold the database at `path` so that no other connection can open it; raise InUse if
    one (a running bot) has it open already. Yields False if SQLite cannot lock it as a
    database (a damaged file: it is replaced as it is). On leaving, the write-ahead log is
    checkpointed into the file and removed, as when the last connection closes."""
    connection = _connect(path, "rw", timeout=_IN_USE_WAIT_S)
    try:
        try:
            # In WAL mode every open connection holds a shared lock on the file for as
            # long as it is open, even between transactions; exclusive locking mode asks
            # for an exclusive one, which SQLite grants only when no other connection is.
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
            connection.execute("BEGIN EXCLUSIVE")
        except sqlite3.Error as error:
            code = getattr(error, "sqlite_errorcode", 0)
            if isinstance(code, int) and code & 0xFF in _BUSY:
                raise InUse(path) from error
            held = False
        else:
            held = True
        yield held
        if held:
            connection.execute("COMMIT")
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # the log then moves aside with the file (the restore does that)
    finally:
        connection.close()
