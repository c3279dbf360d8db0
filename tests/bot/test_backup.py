"""`deflect backup` and `deflect restore`: a whole copy made while the bot runs fifty
conversations, never the key, refusals that leave nothing written, a restore that keeps the
database it replaces, and a progress bar on a terminal only."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import json
import os
import pty
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import termios
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from bot.keys import KeyRing
from bot.settings import Settings
from members import Members, Role
from storage import open_storage
from storage.sqlite.backup import LATEST_VERSION
from storage.sqlite.database import open_database
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.handlers.conftest import StateAt
from tests.handlers.conftest import start_bot as start_bot_process
from tests.officers import complete_checklist

CONVERSATIONS = 50
FIRST_USER = 700_000
PAGE = 4096


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No installation of the machine running the tests: each test says where its state is."""
    for name in ("DEFLECT_DB", "DEFLECT_DATABASE_URL", "DEFLECT_KEY", "DEFLECT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as local:
        return [tuple(row) for row in local.execute(query).fetchall()]


def referral_ids(path: Path) -> set[str]:
    return {str(row[0]) for row in rows(path, "SELECT id FROM referral")}


def make_database(path: Path, referrals: int = 3, first: int = 0) -> None:
    """A migrated database with the demo directory's tables and `referrals` rows."""
    async def migrated() -> None:
        await (await open_database(path)).close()

    asyncio.run(migrated())
    add_referrals(path, referrals, first)


def add_referrals(path: Path, count: int, first: int = 0) -> None:
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executemany(
            "INSERT INTO referral (id, code, created_hour, pathway, referrer_role, needs, "
            "consent, outcome) VALUES (?, ?, '2025-06-11T12', 'active_outreach', 'officer', "
            "'detox', 1, 'pending')",
            [(f"ref-{n}", f"CODE{n}") for n in range(first, first + count)])


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# The copy made while the bot runs.


async def officers_in_file(db_path: Path, ids: list[int]) -> bytes:
    """Officers of Chicago PD in the database before the bot starts on it; returns the key
    file's bytes (made now, beside the database, as the bot's)."""
    keys = await KeyRing(Settings(db_path=db_path)).keys()
    storage = await open_storage(db_path, keys, directory_file=db_path)
    try:
        members = await Members.open(storage.members, keys)
        agency = await members.ensure_agency("Chicago PD", "US")
        for user_id in ids:
            await members.add_member(user_id, agency, Role.OFFICER)
    finally:
        await storage.close()
    return db_path.with_name(db_path.name + ".key").read_bytes()


def environment(db_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DEFLECT_DATABASE_URL", "DEFLECT_KEY", "DEFLECT_KEY_FILE")}
    return {**env, "DEFLECT_DB": str(db_path), **extra}


async def start_bot(server: FakeTelegram, db_path: Path) -> asyncio.subprocess.Process:
    # Telegram's flood limits off, as in benchmarks/load.py: fifty people, not patience.
    return await start_bot_process(server, StateAt(db_path, None),
                                   DEFLECT_TELEGRAM_FLOOD_LIMITS="off")


async def test_a_backup_while_fifty_conversations_run_holds_every_referral_committed_before(
        fake_telegram: FakeTelegram, db_path: Path, tmp_path: Path) -> None:
    users = [FakeUser(fake_telegram, FIRST_USER + n) for n in range(CONVERSATIONS)]
    key_file = await officers_in_file(db_path, [user.id for user in users])
    copies = tmp_path / "copies"
    copies.mkdir()
    out = copies / "deflect-backup.sqlite3"
    # Half the officers finish before the backup starts; the other half stop after their
    # fourth tap until it starts, and go on tapping (and the bot writing) while it runs.
    release, held = asyncio.Event(), asyncio.Event()
    waiting = 0

    def held_after(taps: int) -> Callable[[], Awaitable[None]]:
        done = 0

        async def think() -> None:
            nonlocal done, waiting
            done += 1
            if done == taps + 1:
                waiting += 1
                if waiting == CONVERSATIONS // 2:
                    held.set()
                await release.wait()
        return think

    bot = await start_bot(fake_telegram, db_path)
    try:
        early = [asyncio.create_task(complete_checklist(user, [], wait_s=90))
                 for user in users[:CONVERSATIONS // 2]]
        late = [asyncio.create_task(complete_checklist(user, [], wait_s=90,
                                                       think=held_after(4)))
                for user in users[CONVERSATIONS // 2:]]
        await asyncio.gather(*early)
        await held.wait()
        committed = referral_ids(db_path)  # read from the live file, before the backup
        assert len(committed) == CONVERSATIONS // 2
        release.set()
        backup = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "backup", "--to", str(out), env=environment(db_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await backup.communicate()
        await asyncio.gather(*late)
        after = referral_ids(db_path)
    finally:
        bot.terminate()
        await bot.wait()
    assert backup.returncode == 0, stderr
    assert len(after) == CONVERSATIONS  # the bot went on working through the backup
    copied = referral_ids(out)
    assert committed <= copied <= after
    assert rows(out, "PRAGMA integrity_check") == [("ok",)]
    assert rows(out, "PRAGMA user_version") == rows(db_path, "PRAGMA user_version")
    assert rows(out, "SELECT count(*) FROM member") == [(CONVERSATIONS,)]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    summary = json.loads(stdout)
    assert summary["backup"] == str(out)
    assert summary["referrals"] == len(copied)
    assert summary["bytes"] == out.stat().st_size == summary["pages"] * PAGE
    # The key never: neither the key file nor the key itself.
    master = base64.b64decode(key_file.decode().strip().partition(":")[2])
    raw = out.read_bytes()
    assert key_file.strip() not in raw
    assert master not in raw
    assert f"The key file {db_path}.key is not in the backup" in stderr.decode()
    assert files_in(copies) == [out.name]  # one file, no temporary, no journal


# Refusals: exit 2, a message, nothing written.


def test_an_existing_file_is_replaced_only_with_force(
        capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path) -> None:
    make_database(db_path)
    out = tmp_path / "backup.sqlite3"
    out.write_bytes(b"an older backup")
    code, stdout, err = run(capsys, "backup", "--to", str(out), "--db", str(db_path))
    assert (code, stdout) == (2, "")
    assert f"{out} already exists" in err
    assert "--force" in err
    assert out.read_bytes() == b"an older backup"
    before = files_in(tmp_path)
    code, stdout, _err = run(capsys, "backup", "--to", str(out), "--db", str(db_path),
                             "--force")
    assert code == 0
    assert json.loads(stdout)["referrals"] == 3
    assert referral_ids(out) == {"ref-0", "ref-1", "ref-2"}
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", ".key"])
def test_the_database_and_the_files_kept_with_it_are_never_the_backup(
        capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path,
        suffix: str) -> None:
    make_database(db_path)
    held = sqlite3.connect(db_path)  # the bot's connection: the -wal and -shm are there
    try:
        held.execute("SELECT count(*) FROM referral").fetchone()
        before = {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)}
        target = tmp_path / (db_path.name + suffix)
        code, stdout, err = run(capsys, "backup", "--to", str(target), "--db", str(db_path),
                                "--force")
        after = {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)}
    finally:
        held.close()
    assert (code, stdout) == (2, "")
    assert f"--to {target} is the database, a file kept with it or the key file" in err
    assert after == before


def test_on_postgresql_it_points_to_pg_dump(
        capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_database(db_path)
    # No server there: the refusal comes before any connection.
    monkeypatch.setenv("DEFLECT_DATABASE_URL", "postgresql://deflect@127.0.0.1:9/none")
    out = tmp_path / "backup.sqlite3"
    before = files_in(tmp_path)
    code, stdout, err = run(capsys, "backup", "--to", str(out), "--db", str(db_path))
    assert (code, stdout) == (2, "")
    assert "PostgreSQL" in err
    assert "pg_dump" in err
    code, stdout, err = run(capsys, "restore", "--from", str(db_path), "--db",
                            str(tmp_path / "other.sqlite3"), "--yes")
    assert (code, stdout) == (2, "")
    assert "pg_restore" in err
    assert files_in(tmp_path) == before


def test_a_missing_database_is_not_backed_up(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    out = tmp_path / "backup.sqlite3"
    code, stdout, err = run(capsys, "backup", "--to", str(out), "--db", str(missing))
    assert (code, stdout) == (2, "")
    assert f"{missing}: there is no database to back up" in err
    assert files_in(tmp_path) == []


# Restore.


def test_restore_round_trip_keeps_the_database_it_replaces(
        capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path) -> None:
    make_database(db_path, referrals=3)
    out = tmp_path / "backup.sqlite3"
    assert run(capsys, "backup", "--to", str(out), "--db", str(db_path))[0] == 0
    # After the backup: more referrals, some committed only to the write-ahead log (a
    # connection still open, as the bot's would be until it stops).
    add_referrals(db_path, 2, first=3)
    wal = sqlite3.connect(db_path, isolation_level=None)
    wal.execute("PRAGMA wal_autocheckpoint=0")
    wal.execute("DELETE FROM referral WHERE id = 'ref-0'")
    assert db_path.with_name(db_path.name + "-wal").stat().st_size > 0
    changed = referral_ids(db_path)
    assert changed == {"ref-1", "ref-2", "ref-3", "ref-4"}

    code, stdout, err = run(capsys, "restore", "--from", str(out), "--db", str(db_path),
                            "--yes")
    assert (code, stdout) == (2, "")  # the connection is still open: the bot is running
    assert f"{db_path} is in use: stop the bot" in err
    assert referral_ids(db_path) == changed
    wal.close()  # the bot stops

    code, stdout, err = run(capsys, "restore", "--from", str(out), "--db", str(db_path),
                            "--yes")
    assert code == 0, err
    summary = json.loads(stdout)
    previous = Path(summary["previous"])
    assert previous.name.startswith(f"{db_path.name}.before-restore-")
    assert f"The previous database is kept as {previous}" in err
    assert referral_ids(db_path) == {"ref-0", "ref-1", "ref-2"} == referral_ids(out)
    assert summary["referrals"] == 3
    # The previous database, whole on its own: what the log held was checkpointed into it.
    assert referral_ids(previous) == changed
    assert rows(previous, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db_path, "PRAGMA user_version") == [(LATEST_VERSION,)]
    assert rows(db_path, "PRAGMA journal_mode") == [("wal",)]  # as open_database sets it
    leftovers = [name for name in files_in(tmp_path) if name.endswith(".tmp")]
    assert leftovers == []
    # No key file beside it: the restore says members need the original one, makes none.
    assert "members are recognised only with this database's original key file" in err
    assert not db_path.with_name(db_path.name + ".key").exists()


def _garbage(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(3 * PAGE))


def _damaged_page(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.seek(4 * PAGE)
        handle.write(b"\xff" * PAGE)


def _not_deflect(path: Path) -> None:
    path.unlink()
    with closing(sqlite3.connect(path)) as other, other:
        other.execute("CREATE TABLE referral (id TEXT)")
        other.execute("PRAGMA user_version = 3")


def _too_new(path: Path) -> None:
    with closing(sqlite3.connect(path)) as newer:
        newer.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")


@pytest.mark.parametrize(("spoil", "says"), [
    (_garbage, "is not a usable backup (SQLite: file is not a database)"),
    (_damaged_page, "is not a usable backup (SQLite: *** in database main *** Page 5"),
    (_not_deflect, "is not a Deflect database"),
    (_too_new, "was made by a newer Deflect"),
])
def test_a_damaged_or_foreign_backup_is_refused_by_name(
        capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path,
        spoil: Callable[[Path], None], says: str) -> None:
    make_database(db_path)
    out = tmp_path / "backup.sqlite3"
    assert run(capsys, "backup", "--to", str(out), "--db", str(db_path))[0] == 0
    spoil(out)
    before = {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)}
    code, stdout, err = run(capsys, "restore", "--from", str(out), "--db", str(db_path),
                            "--yes")
    assert (code, stdout) == (2, "")
    assert f"{out} {says}" in err
    assert {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)} == before


def test_restore_asks_for_yes_before_replacing_a_database(
        capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path) -> None:
    make_database(db_path)
    out = tmp_path / "backup.sqlite3"
    assert run(capsys, "backup", "--to", str(out), "--db", str(db_path))[0] == 0
    add_referrals(db_path, 1, first=3)
    before = {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)}
    code, stdout, err = run(capsys, "restore", "--from", str(out), "--db", str(db_path))
    assert (code, stdout) == (2, "")
    assert "run again with --yes" in err
    assert {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)} == before
    # Where there is no database yet, there is nothing to ask about.
    fresh = tmp_path / "fresh" / "deflect.sqlite3"
    fresh.parent.mkdir()
    code, stdout, _err = run(capsys, "restore", "--from", str(out), "--db", str(fresh))
    assert code == 0
    assert json.loads(stdout)["previous"] is None
    assert referral_ids(fresh) == referral_ids(out)


def test_restore_replaces_a_damaged_database(
        capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path) -> None:
    make_database(db_path)
    out = tmp_path / "backup.sqlite3"
    assert run(capsys, "backup", "--to", str(out), "--db", str(db_path))[0] == 0
    _damaged_page(db_path)
    damaged = db_path.read_bytes()
    code, stdout, err = run(capsys, "restore", "--from", str(out), "--db", str(db_path),
                            "--yes")
    assert code == 0, err
    assert Path(json.loads(stdout)["previous"]).read_bytes() == damaged
    assert referral_ids(db_path) == referral_ids(out)


# Progress: a bar on a terminal, nothing but the summary on a pipe.


def on_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run `python -m bot ...` with its standard error on a pseudo-terminal; returns the
    exit status, standard output, and what the terminal showed."""
    terminal, child = pty.openpty()
    # A terminal 80 columns wide (a new pseudo-terminal has 0, and tqdm fits the bar to it).
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "bot", *argv], env=env,
                               stdout=subprocess.PIPE, stderr=child)
    os.close(child)
    shown = []
    try:
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # EIO: the child's side is closed
                break
            if not chunk:
                break
            shown.append(chunk)
    finally:
        os.close(terminal)
    assert process.stdout is not None
    out = process.stdout.read().decode()
    process.stdout.close()
    return process.wait(), out, b"".join(shown).decode()


def test_a_terminal_shows_the_pages_copied(db_path: Path, tmp_path: Path) -> None:
    make_database(db_path)
    pages = rows(db_path, "PRAGMA page_count")[0][0]
    out = tmp_path / "backup.sqlite3"
    code, stdout, shown = on_terminal(["backup", "--to", str(out)], environment(db_path))
    assert code == 0, shown
    assert json.loads(stdout)["pages"] == pages
    assert "copying" in shown
    assert f"{pages}/{pages} [" in shown
    assert " pages/s" in shown
    code, stdout, shown = on_terminal(["restore", "--from", str(out), "--yes"],
                                      environment(db_path))
    assert code == 0, shown
    assert "restoring" in shown
    assert f"{pages}/{pages} [" in shown


def test_a_pipe_gets_only_the_summary_and_the_key_notice(db_path: Path,
                                                         tmp_path: Path) -> None:
    make_database(db_path)
    out = tmp_path / "backup.sqlite3"
    done = subprocess.run([sys.executable, "-m", "bot", "backup", "--to", str(out)],
                          env=environment(db_path), capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert json.loads(done.stdout)["backup"] == str(out)
    assert done.stderr.splitlines() == [
        f"The key file {db_path}.key is not in the backup, on purpose: back it up "
        "separately, somewhere else. Without it, members cannot be recognised."]


def test_a_backup_copied_by_hand_while_the_bot_was_stopped_restores_too(
        capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path) -> None:
    """A plain copy of the file (in WAL mode, as the bot leaves it) is a backup as well."""
    make_database(db_path, referrals=4)
    by_hand = tmp_path / "copied.sqlite3"
    shutil.copyfile(db_path, by_hand)
    target = tmp_path / "restored" / "deflect.sqlite3"
    target.parent.mkdir()
    code, stdout, err = run(capsys, "restore", "--from", str(by_hand), "--db", str(target))
    assert code == 0, err
    assert json.loads(stdout)["referrals"] == 4
    assert referral_ids(target) == referral_ids(db_path)
