"""A damaged or read-only database file stops every command with exit 2 and a message that
says what to do, before anything is read from it, written to it, or sent to Telegram."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from bot.keys import key_text
from members.keys import Keys
from storage import DatabaseDamaged, check_database
from storage.sqlite import SqliteStorage
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.referrals.support import seed_program

DAMAGED = "is damaged (SQLite: "
RESTORE = ("Restore it from a backup copy made while it was healthy, or move it away to start "
           "with an empty one; the key file stays as it is.")
READ_ONLY = "cannot be written (SQLite: "

# Every command that opens the database file (argv without --db).
COMMANDS = [
    ["stats", "--from", "2026-11-01", "--to", "2026-11-30"],
    ["export", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "{tmp}/figures.csv"],
    ["purge", "--older-than", "365"],
    ["audit"],
    ["privacy-check"],
    ["invite", "--agency", "Chicago PD", "--role", "officer"],
    ["forget-key", "--yes"],
    ["console"],
    ["directory", "search", "--near", "41.88,-87.63"],
    ["directory", "sources"],
    ["directory", "check", "{tmp}/none.csv"],
]


@pytest.fixture
async def database(storage: SqliteStorage, keys: Keys, db_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Path:
    """A program's log on file, closed (its write-ahead log folded in), its key at hand."""
    monkeypatch.setenv("DEFLECT_KEY", key_text(keys))
    await seed_program(storage)
    await storage.close()
    return db_path


def corrupt_referral_page(path: Path) -> None:
    """Overwrite the header of the referral table's root page, a page mid-file."""
    with closing(sqlite3.connect(path)) as connection:
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'referral'").fetchone()
        (size,) = connection.execute("PRAGMA page_size").fetchone()
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
    assert 1 < root < pages
    with path.open("r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\xff" * 12)


def argv_for(command: list[str], db_path: Path) -> list[str]:
    return [part.replace("{tmp}", str(db_path.parent)) for part in command] + [
        "--db", str(db_path)]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def test_the_check_passes_a_healthy_file_and_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "healthy.sqlite3"
    check_database(path)  # not there yet: the command creates it
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE t (x)")
    check_database(path)
    check_database(path, full=True)


def test_the_corrupted_page_is_what_sqlite_reports(database: Path) -> None:
    corrupt_referral_page(database)
    with pytest.raises(DatabaseDamaged) as raised:
        check_database(database)
    assert raised.value.path == database
    assert "\n" not in raised.value.detail


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_corrupt_page_stops_every_command_with_nothing_changed(
        database: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    corrupt_referral_page(database)
    before = database.read_bytes()
    code, err = run(argv_for(command, database), capsys)
    assert code == 2
    first, second = err.splitlines()
    assert first.startswith(f"{database} {DAMAGED}")
    assert first.endswith("); nothing was done.")
    assert second == RESTORE
    assert "Traceback" not in err
    assert database.read_bytes() == before
    assert not (database.parent / "figures.csv").exists()


def test_purge_checks_every_index_first(
        database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An index out of step with its table passes quick_check; purge runs the full check."""
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA writable_schema = ON")
        (name,) = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'referral' "
            "AND sql IS NULL").fetchone()  # the UNIQUE code's own index
        (root,) = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                                     (name,)).fetchone()
        (size,) = connection.execute("PRAGMA page_size").fetchone()
    with database.open("r+b") as handle:  # an empty leaf: the index lists no referral
        handle.seek((root - 1) * size)
        handle.write(bytes([0x0A, 0, 0, 0, 0, 0x10, 0, 0]))
    check_database(database)  # quick_check does not compare indexes with their tables
    before = database.read_bytes()
    code, err = run(["purge", "--older-than", "365", "--db", str(database)], capsys)
    assert code == 2
    assert DAMAGED in err
    assert database.read_bytes() == before


@pytest.mark.parametrize("command", [COMMANDS[0], COMMANDS[2], COMMANDS[8]], ids=" ".join)
def test_a_file_that_is_not_a_database_stops_with_the_message(
        database: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with database.open("r+b") as handle:
        handle.write(b"\x00" * 100)
    code, err = run(argv_for(command, database), capsys)
    assert code == 2
    assert err == (f"{database} is damaged (SQLite: file is not a database); nothing was "
                   f"done.\n{RESTORE}\n")


async def test_run_stops_before_contacting_telegram(
        database: Path, fake_telegram: FakeTelegram) -> None:
    corrupt_referral_page(database)
    env = {**os.environ, "DEFLECT_TOKEN": TOKEN, "DEFLECT_BASE_URL": fake_telegram.url,
           "DEFLECT_DB": str(database), "DEFLECT_GEOCODER": "off"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2
    assert DAMAGED in err.decode()
    assert "Traceback" not in err.decode()
    assert fake_telegram.calls == []


def _set_immutable(path: Path, on: bool) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: root writes to any file")
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True,
                          check=False)
    if done.returncode:
        pytest.skip(f"chattr: {done.stderr.decode().strip()}")


@pytest.fixture(params=["file", "folder"])
def unwritable(request: pytest.FixtureRequest, database: Path) -> Iterator[Path]:
    """The database file, or the folder it is in, really unwritable: by its permissions
    for an ordinary user; for root, whom permissions do not stop, immutable (chattr +i)."""
    target = database if request.param == "file" else database.parent
    mode = target.stat().st_mode
    root = os.geteuid() == 0
    if root:
        _set_immutable(target, True)
    else:
        target.chmod(0o444 if request.param == "file" else 0o555)
    try:
        yield database
    finally:
        if root:
            _set_immutable(target, False)
        else:
            target.chmod(mode)


@pytest.mark.parametrize("command", [COMMANDS[0], COMMANDS[2], COMMANDS[5], COMMANDS[8]],
                         ids=" ".join)
def test_a_read_only_database_says_so(
        unwritable: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    before = unwritable.read_bytes()
    code, err = run(argv_for(command, unwritable), capsys)
    assert code == 2
    first, second = err.splitlines()
    assert first.startswith(f"{unwritable} {READ_ONLY}")
    assert second.startswith("Deflect writes to the file and, beside it, to its -wal and -shm "
                             "files")
    assert "Traceback" not in err
    assert unwritable.read_bytes() == before
