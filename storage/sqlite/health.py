"""Whether an SQLite file can be used, asked before a command opens it: SQLite's own check
of the file (`PRAGMA quick_check`, or the full `integrity_check`) and a write that is rolled
back. A damaged page otherwise reads as no rows at all (figures of 0, a privacy check with
nothing to find), and a read-only file fails only at the first write, half-way through.

Plain sqlite3, not aiosqlite: it runs once, before the command's event loop starts.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# SQLite's primary result codes (https://sqlite.org/rescode.html); an error's extended code
# keeps the primary one in its low byte.
_DAMAGED = {11, 26}  # SQLITE_CORRUPT ("malformed"), SQLITE_NOTADB ("file is not a database")
# SQLITE_PERM, SQLITE_READONLY ("attempt to write a readonly database"), SQLITE_CANTOPEN
# ("unable to open database file": in WAL mode, also the -wal and -shm files beside it)
_READ_ONLY = {3, 8, 14}
_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED: another process holds the write lock
_BUSY_TIMEOUT_S = 5.0


class DatabaseUnusable(Exception):
    """A database file a command must not use; `detail` is what SQLite said of it."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail


class DatabaseDamaged(DatabaseUnusable):
    """SQLite finds the file malformed, or finds no database in it."""


class DatabaseReadOnly(DatabaseUnusable):
    """The file cannot be written: the file itself, or its folder (WAL mode keeps -wal and
    -shm files beside it), or the whole file system is read-only."""


def first_problem(connection: sqlite3.Connection, pragma: str = "integrity_check"
                  ) -> str | None:
    """SQLite's own check of the file (`integrity_check`, or the quicker `quick_check`):
    None if whole, else its first finding on one line (SQLite stops there; it says where)."""
    (verdict,) = connection.execute(f"PRAGMA {pragma}(1)").fetchone()
    return None if verdict == "ok" else " ".join(str(verdict).split())


def check(path: Path, *, full: bool = False) -> None:
    """Raise DatabaseDamaged or DatabaseReadOnly if the file at `path` is either; `full`
    runs integrity_check (every index against its table) instead of quick_check."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
    try:
        problem = first_problem(connection, "integrity_check" if full else "quick_check")
        if problem is not None:
            raise DatabaseDamaged(path, problem)
        _try_writing(connection)
    except sqlite3.Error as error:
        code = getattr(error, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        if primary in _DAMAGED:
            raise DatabaseDamaged(path, str(error)) from error
        if primary in _READ_ONLY:
            raise DatabaseReadOnly(path, str(error)) from error
        raise
    finally:
        connection.close()


def _try_writing(connection: sqlite3.Connection) -> None:
    """Write the schema version back unchanged, and roll it back: the file is not touched,
    but SQLite has had to open it for writing."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", 0) & 0xFF in _BUSY:
            return  # held by a writer (a running bot): the file is writable
        raise
    try:
        connection.execute(f"PRAGMA user_version = {int(version)}")
    finally:
        if connection.in_transaction:  # SQLite ends it itself after some errors
            connection.execute("ROLLBACK")
