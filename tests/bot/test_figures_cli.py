"""`deflect stats|export|audit|privacy-check`: a coordinator's figures on the command line,
with the state on the SQLite file and on PostgreSQL (`cli_state`,
tests/bot/test_cli_backends.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from bot.keys import key_text
from members.keys import Keys
from referrals.model import Pathway
from storage import Storage
from storage.sqlite import SqliteStorage
from tests.bot.test_cli_backends import (
    CliState,
    cli_state_fixture,  # noqa: F401 (the fixture cli_state)
    commit,
)
from tests.referrals.support import log_referral, seed_program


@pytest.fixture
async def program(cli_state: CliState, keys: Keys,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Storage]:
    """The program's log on either backend, and its key where the command line finds it
    (DEFLECT_KEY)."""
    monkeypatch.setenv("DEFLECT_KEY", key_text(keys))
    storage = await cli_state.open(keys)
    try:
        yield await seed_program(storage)
    finally:
        await storage.close()


@pytest.fixture
async def sqlite_program(storage: SqliteStorage, keys: Keys,
                         monkeypatch: pytest.MonkeyPatch) -> SqliteStorage:
    """The program's log on the SQLite file alone (the tests about the file)."""
    monkeypatch.setenv("DEFLECT_KEY", key_text(keys))
    return await seed_program(storage)


# --- the command line -------------------------------------------------------------------------

async def test_stats_export_audit_and_purge_on_the_command_line(
        program: Storage, cli_state: CliState, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    db_path = cli_state.db_path
    await commit(program)
    period = ["--from", "2026-11-01", "--to", "2026-11-30", "--db", str(db_path)]
    assert await asyncio.to_thread(
        main, ["stats", *period, "--agency", "Evanston PD", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == [
        {"pathway": "active_outreach", "contacts": None, "referrals": None, "declines": 0,
         "engaged": 0},
        {"pathway": "total", "contacts": None, "referrals": None, "declines": 0,
         "engaged": 0}]
    assert await asyncio.to_thread(main, ["stats", *period, "--by", "pathway"]) == 0
    text = capsys.readouterr().out
    assert "engagement rate: 57%" in text  # 20 of 35
    assert "* withheld: counts from 1 to 9" in text
    out = tmp_path / "figures.csv"
    assert await asyncio.to_thread(main, ["export", *period, "--out", str(out)]) == 0
    exported = out.read_text(encoding="utf-8")
    assert exported.splitlines()[0] == "week,contacts,referrals,declines,engaged"
    codes = [row[0] for row in await cli_state.rows("SELECT code FROM referral")]
    assert len(codes) == 59
    assert not any(code in exported for code in codes)
    assert await asyncio.to_thread(main, ["stats", *period, "--agency", "Nowhere PD"]) == 2
    assert "no agency is called Nowhere PD" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["audit", "--db", str(db_path)]) == 0
    logged = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2:] for line in logged] == [
        ["cli", "stats --by pathway"], ["cli", "stats --by pathway"],
        ["cli", "export --by week"]]
    # The program's log holds 12 referrals from over a year ago.
    assert await asyncio.to_thread(main, ["purge", "--older-than", "365", "--db",
                                          str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["referrals"] == 12
    assert len(await cli_state.rows("SELECT code FROM referral")) == 47
    assert await asyncio.to_thread(main, ["audit", "--db", str(db_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split("\t")[2:] == [
        "cli", "purge --older-than 365"]


# SQLite only: `deflect privacy-check` reads the SQLite file's bytes and pages. On
# PostgreSQL it refuses (the test below) rather than report on the local directory copy.
async def test_privacy_check_finds_old_referrals_until_they_are_purged(
        sqlite_program: SqliteStorage, db_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    await sqlite_program.db.commit()
    # The program's log holds referrals from over a year ago: kept past their time.
    assert await asyncio.to_thread(main, ["privacy-check", "--db", str(db_path)]) == 1
    assert "referral.(rows): rows kept past their time (12)" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["purge", "--older-than", "365", "--db",
                                          str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["referrals"] == 12
    assert await asyncio.to_thread(main, ["privacy-check", "--db", str(db_path)]) == 0
    assert "0 findings" in capsys.readouterr().out


def test_privacy_check_on_postgresql_says_it_cannot_check_and_checks_nothing(
        postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFLECT_DATABASE_URL", postgres_url)
    local = tmp_path / "deflect.sqlite3"
    assert main(["directory", "sources", "--db", str(local)]) == 0  # a directory copy exists
    capsys.readouterr()
    assert main(["privacy-check", "--db", str(local)]) == 2
    said = capsys.readouterr()
    assert "cannot check" in said.err
    assert "findings" not in said.out  # no verdict about a file that is not the log


# --- exports: never over the database, nothing audited unless written, no formulas --------

PERIOD = ["--from", "2026-11-01", "--to", "2026-11-30"]


def export(db_path: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
           ) -> tuple[int, str]:
    code = main(["export", *PERIOD, "--db", str(db_path), "--out", str(out), *extra])
    return code, capsys.readouterr().err


def audited(db_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["audit", "--db", str(db_path)]) == 0
    return [line.split("\t")[3] for line in capsys.readouterr().out.splitlines()]


# SQLite only: about the SQLite file itself and the files kept beside it (-wal, -shm,
# -journal, the key), and another SQLite file the export would replace.
def test_export_refuses_the_database_the_files_kept_with_it_and_any_sqlite_file(
        sqlite_program: SqliteStorage, db_path: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE t (x)")
    (tmp_path / "link.sqlite3").symlink_to(db_path)
    os.link(db_path, tmp_path / "hard.csv")
    kept = [db_path, *(db_path.with_name(db_path.name + suffix)
                       for suffix in ("-wal", "-shm", "-journal", ".key")),
            tmp_path / "link.sqlite3", tmp_path / "hard.csv",
            tmp_path / "sub" / ".." / db_path.name]
    (tmp_path / "sub").mkdir()
    files = {path: path.read_bytes() for path in (db_path, other)}
    for out in kept:
        assert export(db_path, out, capsys) == (
            2, f"--out {out} is the database or a file kept with it: give the export another "
               "name\n"), out
    assert export(db_path, other, capsys) == (
        2, f"--out {other} is an SQLite database, which the export would replace: give the "
           "export another name\n")
    assert {path: path.read_bytes() for path in files} == files
    assert not db_path.with_name(db_path.name + "-journal").exists()
    assert audited(db_path, capsys) == []


def test_export_to_a_missing_folder_or_a_folder_says_so_and_audits_nothing(
        program: Storage, cli_state: CliState, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    db_path = cli_state.db_path
    out = tmp_path / "missing" / "figures.csv"
    assert export(db_path, out, capsys) == (
        2, f"--out {out}: there is no folder {out.parent}\n")
    assert export(db_path, tmp_path, capsys) == (
        2, f"--out {tmp_path} is a folder: give a file name\n")
    assert audited(db_path, capsys) == []


@pytest.fixture
def locked_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder no file can be created in: by its permissions for an ordinary user; for
    root, whom permissions do not stop, immutable (chattr +i)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "figures.csv").write_text("the last export\n", encoding="utf-8")
    root = os.geteuid() == 0
    if root and shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: root writes in any folder")
    if root and subprocess.run(["chattr", "+i", str(folder)], check=False).returncode:
        pytest.skip("chattr +i refused on this file system")
    if not root:
        folder.chmod(0o555)
    try:
        yield folder
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)


def test_a_failed_export_leaves_the_last_file_and_no_audit_row(
        program: Storage, cli_state: CliState, locked_folder: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    db_path = cli_state.db_path
    out = locked_folder / "figures.csv"
    code, err = export(db_path, out, capsys)
    assert code == 2
    assert err.startswith(f"{out} could not be written (")
    assert err.endswith("); nothing was exported\n")
    assert "Traceback" not in err
    assert [path.name for path in locked_folder.iterdir()] == ["figures.csv"]
    assert out.read_text(encoding="utf-8") == "the last export\n"
    assert audited(db_path, capsys) == []


async def test_exported_cells_a_spreadsheet_would_run_are_text(
        program: Storage, cli_state: CliState, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Service ids come from imported directory files: `=HYPERLINK(...)` is a formula to a
    spreadsheet unless it starts with a quote (and so are +, -, @, tab and CR)."""
    db_path = cli_state.db_path
    formulas = ['=HYPERLINK("http://x","y")', "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx"]
    for service in formulas:
        for _ in range(12):  # enough that the row's counts are shown, not withheld
            await log_referral(program, Pathway.ACTIVE_OUTREACH, service=service)
    out = tmp_path / "figures.csv"
    assert await asyncio.to_thread(export, db_path, out, capsys, "--by", "service") == (0, "")
    rows = await asyncio.to_thread(read_csv, out)
    assert {row[0]: row[1:] for row in rows if row[0][1:] in formulas} == {
        "'" + service: ["12", "12", "0", "0"] for service in formulas}
    # A CR inside a cell is quoted: no new row (and no unquoted formula) starts there.
    await log_referral(program, Pathway.ACTIVE_OUTREACH, service="x\r=1+1")
    assert await asyncio.to_thread(export, db_path, out, capsys, "--by", "service") == (0, "")
    rows = await asyncio.to_thread(read_csv, out)
    assert ["x\r=1+1", "suppressed", "suppressed", "0", "0"] in rows
    assert not any(row[0].startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows)
    assert await asyncio.to_thread(
        main, ["stats", *PERIOD, "--by", "service", "--csv", "--db", str(db_path)]) == 0
    shown = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert sorted(row[0] for row in shown if row[0][1:] in formulas) == sorted(
        "'" + service for service in formulas)
    assert await asyncio.to_thread(audited, db_path, capsys) == [
        "export --by service", "export --by service", "stats --by service"]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))
