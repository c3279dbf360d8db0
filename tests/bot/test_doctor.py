"""`deflect doctor`: one line per check, exit 1 on a failure only, and nothing changed: no
database, key file or -wal/-shm file made, no file touched, the token never printed."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.keys import KeyRing
from bot.settings import Settings
from bot.webhook import locked_webhook
from members import Members, Role
from storage import open_storage
from storage.sqlite.database import MIGRATIONS
from tests.fake_nominatim import FakeNominatim
from tests.fake_telegram import TOKEN, FakeTelegram

DATA = Path(__file__).resolve().parents[1] / "directory" / "data"
DIRECTORY = DATA / "findtreatment" / "cbhsq_2019_charlottesville_5rows.json"
PUBLIC_URL = "https://bot.example.org/hook"
ENVIRONMENT = ("DEFLECT_TOKEN", "TELEGRAM_BOT_TOKEN", "DEFLECT_DB", "DEFLECT_DATABASE_URL",
               "DEFLECT_KEY", "DEFLECT_KEY_FILE", "DEFLECT_BASE_URL", "DEFLECT_GEOCODER",
               "DEFLECT_GEOCODER_URL", "DEFLECT_DIRECTORY", "LANG", "LC_MESSAGES")


@dataclass
class Site:
    folder: Path
    db: Path
    key_file: Path
    master: bytes
    telegram: FakeTelegram
    nominatim: FakeNominatim


@pytest.fixture
async def site(tmp_path: Path, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> AsyncIterator[Site]:
    """A healthy installation: a real directory imported by the command line, a member kept
    under the key (an owner-only key file), the fake Bot API and the fake Nominatim."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LC_ALL", "C")
    folder = tmp_path / "site"
    await asyncio.to_thread(folder.mkdir)
    db = folder / "deflect.sqlite3"
    assert await asyncio.to_thread(
        main, ["directory", "import", str(DIRECTORY), "--db", str(db)]) == 0
    keys = await KeyRing(Settings(db_path=db)).keys()
    storage = await open_storage(db, keys)
    try:
        members = await Members.open(storage.members, keys)
        await members.add_member(7_100_000_123, await members.ensure_agency("Chicago PD", "US"),
                                 Role.OFFICER)
    finally:
        await storage.close()
    nominatim = FakeNominatim()
    monkeypatch.setenv("DEFLECT_GEOCODER_URL", await nominatim.start())
    monkeypatch.setenv("DEFLECT_TOKEN", TOKEN)
    monkeypatch.setenv("DEFLECT_BASE_URL", fake_telegram.url)
    capsys.readouterr()
    yield Site(folder, db, db.with_name(db.name + ".key"), keys.master, fake_telegram, nominatim)
    await nominatim.stop()


async def doctor(capsys: pytest.CaptureFixture[str], db: Path, *argv: str
                 ) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["doctor", "--db", str(db), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def line(out: str, what: str) -> str:
    """The checklist's line about `what` (its mark is the first word)."""
    found = [text for text in out.splitlines() if text.split(maxsplit=1)[1].startswith(what)]
    assert len(found) == 1, out
    return found[0]


def snapshot(folder: Path) -> dict[str, int]:
    """Every file of the folder with its last change, and the folder's own."""
    files = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    return {**files, ".": folder.stat().st_mtime_ns}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_healthy_installation_is_all_ok_and_the_token_is_never_shown(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = await doctor(capsys, site.db)
    assert code == 0, out
    lines = out.splitlines()
    assert [text.split()[0] for text in lines] == ["ok"] * len(lines), out
    for what in ("bot token", "database", "key", "directory", "source", "catalogs",
                 "geocoder", "webhook"):
        line(out, what)
    assert "@deflect_test_bot" in line(out, "bot token")
    assert "schema 13 of 13" in line(out, "database")
    assert "5 services" in line(out, "directory")
    assert "opens this database's members" in line(out, "key")
    assert TOKEN not in out + err
    assert TOKEN.split(":")[1] not in out + err
    # The checks asked Telegram and the geocoder themselves.
    assert {"getMe", "getWebhookInfo"} <= {call.method for call in site.telegram.calls}
    assert len(site.nominatim.requests) == 1

    code, out, _err = await doctor(capsys, site.db, "--json")
    found = json.loads(out)
    assert code == 0
    assert {check["status"] for check in found} == {"ok"}
    assert [check["check"] for check in found] == [
        "token", "database", "key", "directory", "source", "catalogs", "geocoder", "webhook"]
    assert found[1]["figures"] == {"exists": True, "integrity": "ok",
                                   "schema": len(MIGRATIONS), "latest": len(MIGRATIONS)}


async def test_doctor_changes_nothing_in_the_folder(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    before = await asyncio.to_thread(snapshot, site.folder)
    assert (await doctor(capsys, site.db))[0] == 0
    assert await asyncio.to_thread(snapshot, site.folder) == before
    # A missing database: a failure that says how one is made, and nothing made.
    missing = site.folder / "other.sqlite3"
    code, out, _err = await doctor(capsys, missing)
    assert code == 1
    assert line(out, "database").startswith("FAILED")
    assert "deflect run" in line(out, "database")
    assert line(out, "key").startswith("warning")
    assert await asyncio.to_thread(snapshot, site.folder) == before


async def test_a_missing_key_file_with_members_fails_and_says_what_to_do(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    await asyncio.to_thread(site.key_file.unlink)
    code, out, _err = await doctor(capsys, site.db)
    assert code == 1
    key = line(out, "key")
    assert key.startswith("FAILED")
    assert "members cannot be recognised" in key
    assert "restore the key file" in key
    assert "deflect forget-key" in key
    assert not await asyncio.to_thread(site.key_file.exists)
    # Without a key the webhook cannot be compared: a warning, not a guess.
    code, out, _err = await doctor(capsys, site.db, "--webhook-url", PUBLIC_URL)
    assert line(out, "webhook").startswith("warning")


async def test_a_key_file_others_can_read_fails(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    await asyncio.to_thread(os.chmod, site.key_file, 0o644)
    code, out, _err = await doctor(capsys, site.db)
    assert code == 1
    assert line(out, "key").startswith("FAILED")
    assert "chmod 600" in line(out, "key")


async def test_another_installations_key_fails(
        site: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    await KeyRing(Settings(db_path=other)).keys()
    code, out, _err = await doctor(capsys, site.db)
    assert code == 0
    await asyncio.to_thread(os.replace, other.with_name(other.name + ".key"), site.key_file)
    code, out, _err = await doctor(capsys, site.db)
    assert code == 1
    assert "not the key of this database" in line(out, "key")


def _set_version(db: Path, version: int) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA user_version = {version}")
    connection.close()


async def test_a_database_behind_the_latest_migration_fails(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    await asyncio.to_thread(_set_version, site.db, len(MIGRATIONS) - 1)
    code, out, _err = await doctor(capsys, site.db)
    assert code == 1
    database = line(out, "database")
    assert database.startswith("FAILED")
    assert f"schema {len(MIGRATIONS) - 1} of {len(MIGRATIONS)}" in database
    assert "deflect run" in database
    assert line(out, "directory").startswith("ok")  # still read


async def test_a_damaged_database_is_a_failed_line_not_a_traceback(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    await asyncio.to_thread(site.db.write_bytes, b"this is not a database " * 200)
    code, out, err = await doctor(capsys, site.db)
    assert code == 1
    database = line(out, "database")
    assert database.startswith("FAILED")
    assert "damaged" in database
    assert "Restore it from a backup copy" in database
    assert "Traceback" not in out + err
    assert line(out, "directory").startswith("warning")


async def test_an_unreachable_geocoder_fails(
        site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("DEFLECT_GEOCODER_URL", f"http://127.0.0.1:{port}")
    code, out, _err = await doctor(capsys, site.db)
    assert code == 1
    geocoder = line(out, "geocoder")
    assert geocoder.startswith("FAILED")
    assert f"127.0.0.1:{port} does not answer" in geocoder
    # Off: typed places use the directory's own entries, which is fine.
    monkeypatch.setenv("DEFLECT_GEOCODER", "off")
    code, out, _err = await doctor(capsys, site.db)
    assert (code, line(out, "geocoder").split()[0]) == (0, "ok")


async def test_a_refused_or_missing_token(
        site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFLECT_TOKEN", "123456:a-token-telegram-refuses")
    code, out, err = await doctor(capsys, site.db)
    assert code == 1
    assert "Telegram refused it" in line(out, "bot token")
    assert "a-token-telegram-refuses" not in out + err
    monkeypatch.setenv("DEFLECT_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    code, out, _err = await doctor(capsys, site.db)
    assert (code, line(out, "bot token").split()[0]) == (1, "FAILED")
    # No token: only the console works; a warning, and warnings do not fail.
    monkeypatch.delenv("DEFLECT_TOKEN")
    code, out, _err = await doctor(capsys, site.db)
    assert code == 0
    assert line(out, "bot token").startswith("warning")
    assert "deflect console" in line(out, "bot token")


async def test_a_webhook_at_telegram_while_polling_fails_and_its_secret_stays_hidden(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    locked = locked_webhook(site.master, "127.0.0.1:8443", PUBLIC_URL)
    site.telegram.webhook = {"url": locked.webhook_url}
    code, out, err = await doctor(capsys, site.db)
    assert code == 1
    webhook = line(out, "webhook")
    assert webhook.startswith("FAILED")
    assert "Polling gets nothing while a webhook is set" in webhook
    assert locked.url_path not in out + err
    # With the URL it runs with: the same, and Telegram's last error is a warning.
    code, out, err = await doctor(capsys, site.db, "--webhook-url", PUBLIC_URL)
    assert (code, line(out, "webhook").split()[0]) == (0, "ok")
    site.telegram.webhook_errors = {"last_error_date": 1_750_000_000,
                                    "last_error_message": "Connection refused"}
    code, out, err = await doctor(capsys, site.db, "--webhook-url", PUBLIC_URL, "--json")
    webhook_json: dict[str, Any] = json.loads(out)[-1]
    assert (code, webhook_json["status"]) == (0, "warning")
    assert "Connection refused" in webhook_json["found"]
    assert locked.url_path not in out + err
    # Another URL than the one this key locks: a failure.
    code, out, _err = await doctor(capsys, site.db, "--webhook-url", "https://other.example.org")
    assert code == 1
    assert "not to https://other.example.org/" in line(out, "webhook")


async def test_a_stale_source_and_the_demo_are_warnings(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    def age(db: Path) -> None:
        with sqlite3.connect(db) as connection:
            connection.execute("UPDATE directory_source SET imported_at = ?",
                               ("2020-01-01T00:00:00+00:00",))
        connection.close()

    await asyncio.to_thread(age, site.db)
    code, out, _err = await doctor(capsys, site.db)
    assert code == 0
    source = line(out, "source cbhsq_2019_charlottesville_5rows")
    assert source.startswith("warning")
    assert "Import a current export" in source
    demo = site.folder / "demo.sqlite3"
    assert await asyncio.to_thread(main, ["directory", "sources", "--db", str(demo)]) == 0
    capsys.readouterr()
    code, out, _err = await doctor(capsys, demo)
    assert line(out, "directory").startswith("warning")
    assert "Import your real directory" in line(out, "directory")


async def test_postgresql_at_the_latest_schema_then_behind_it(
        site: Site, capsys: pytest.CaptureFixture[str], postgres_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncpg

    monkeypatch.setenv("DEFLECT_KEY_FILE", str(site.folder / "shared.key"))
    await KeyRing(Settings.from_env(db_path=site.db, database_url=postgres_url)).keys()
    code, out, _err = await doctor(capsys, site.db, "--database-url", postgres_url)
    assert code == 0, out
    assert line(out, "database").startswith("ok")
    assert "://" not in line(out, "database")  # the server, never the URL's user
    assert "opens this database's members" in line(out, "key")
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute("DELETE FROM schema_version WHERE version = "
                                 "(SELECT max(version) FROM schema_version)")
    finally:
        await connection.close()
    code, out, _err = await doctor(capsys, site.db, "--database-url", postgres_url)
    assert code == 1
    assert line(out, "database").startswith("FAILED")
