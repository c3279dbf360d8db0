"""`deflect console`: the real application in a terminal, replayable from piped input."""

from __future__ import annotations

import io
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.logs import RedactToken, install_log_redaction


def run_console(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                lines: str, *argv: str) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    code = main(["console", *argv])
    return code, capsys.readouterr().out


def test_console_public_find_help_replays_piped_lines(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        db_path: Path) -> None:
    # 1 Find help, 2 Detox, 9 Done, location, 1 Code for 1
    code, out = run_console(monkeypatch, capsys, "1\n2\n9\n41.8781,-87.6298\n1\n",
                            "--db", str(db_path))
    assert code == 0
    assert "[1] Find help" in out
    assert "1. Lakeshore Detox Center (demo)" in out
    assert "Your referral code: " in out
    assert "📍 Lakeshore Detox Center (demo)" in out
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("SELECT pathway, referrer_role FROM referral").fetchall() == [
            ("self_referral", "community")]


def test_console_as_officer_logs_a_referral(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        db_path: Path) -> None:
    # /start buttons: 1 Find help, 2 Start the checklist, 3 overdose.
    script = "2\n2\n2\n2\n1\n2\n9\n41.8781,-87.6298\n1\n"
    code, out = run_console(monkeypatch, capsys, script, "--as", "officer", "--db", str(db_path))
    assert code == 0
    assert "You are a member of Demo Police Department (demo)." in out
    assert "Referral logged. Code: " in out
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("SELECT pathway, referrer_role, service_id FROM referral"
                                  ).fetchall() == [("active_outreach", "officer", "demo-001")]


def test_console_ends_at_end_of_input(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out = run_console(monkeypatch, capsys, "", "--db", str(db_path))
    assert code == 0
    assert "Find help" in out


def test_run_without_a_token_points_to_the_console(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        db_path: Path) -> None:
    monkeypatch.delenv("DEFLECT_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run", "--db", str(db_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "DEFLECT_TOKEN" in err
    assert "deflect console" in err


def test_invite_prints_a_code_stored_only_as_a_hash(
        capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    assert main(["invite", "--agency", "Brighton Police", "--role", "peer", "--uses", "3",
                 "--country", "GB", "--db", str(db_path)]) == 0
    first, uses, days = capsys.readouterr().out.strip().splitlines()
    code = first.rsplit(" ", 1)[1]
    assert len(code) == 11
    assert (uses, days) == ("It can be used 3 times.", "It expires in 7 days.")
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    assert code.encode() not in raw
    assert code.replace("-", "").encode() not in raw


def test_the_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    token = "123456:SECRET-token"
    logger = logging.getLogger("tests.redaction")
    logger.addFilter(RedactToken(token))
    with caplog.at_level(logging.INFO):
        logger.info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", token)
    assert token not in caplog.text
    assert "bot<token>/getMe" in caplog.text
    install_log_redaction(token)
    assert logging.getLogger("httpx").level == logging.WARNING
