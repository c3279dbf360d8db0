"""`deflect stats|export|audit|privacy-check`: a coordinator's figures on the command line."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.keys import key_text
from members.keys import Keys
from storage.sqlite import SqliteStorage
from tests.referrals.support import seed_program


@pytest.fixture
async def program(storage: SqliteStorage, keys: Keys,
                  monkeypatch: pytest.MonkeyPatch) -> SqliteStorage:
    """The program's log, and its key where the command line finds it (DEFLECT_KEY)."""
    monkeypatch.setenv("DEFLECT_KEY", key_text(keys))
    return await seed_program(storage)


# --- the command line -------------------------------------------------------------------------

async def test_stats_export_audit_and_privacy_check_on_the_command_line(
        program: SqliteStorage, db_path: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    await program.db.commit()
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
    codes = [row[0] for row in sqlite3.connect(db_path).execute("SELECT code FROM referral")]
    assert not any(code in exported for code in codes)
    assert await asyncio.to_thread(main, ["stats", *period, "--agency", "Nowhere PD"]) == 2
    assert "no agency is called Nowhere PD" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["audit", "--db", str(db_path)]) == 0
    logged = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2:] for line in logged] == [
        ["cli", "stats --by pathway"], ["cli", "stats --by pathway"],
        ["cli", "export --by week"]]
    # The program's log holds referrals from over a year ago: kept past their time.
    assert await asyncio.to_thread(main, ["privacy-check", "--db", str(db_path)]) == 1
    assert "referral.(rows): rows kept past their time (12)" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["purge", "--older-than", "365", "--db",
                                          str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["referrals"] == 12
    assert await asyncio.to_thread(main, ["privacy-check", "--db", str(db_path)]) == 0
    assert "0 findings" in capsys.readouterr().out
