"""Logs that hold nothing: at DEBUG the libraries that log updates and URLs are capped unless
DEFLECT_DEBUG_UNSAFE=1, and the token is never printed, not even when Telegram refuses it."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import (
    LIBRARY_CAPS,
    DropLibraryDebug,
    RedactToken,
    cap_library_logs,
    install_log_redaction,
)
from bot.settings import Settings
from tests.fake_telegram import TOKEN, FakeTelegram, FakeUser
from tests.handlers.conftest import polling

ROOT = Path(__file__).resolve().parents[2]
PERSON_ID = 918273645
NAME, USERNAME = "Zebulon", "zeb_on_patrol"
TEXT = "Quillon lives at 12 Wabash"


@pytest.fixture
def logging_restored(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The library loggers' levels and the root's filters as they were before the test."""
    levels = {name: logging.getLogger(name).level for name in LIBRARY_CAPS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    root = logging.getLogger()
    for filterer in (root, *root.handlers, caplog.handler):
        for added in [f for f in filterer.filters
                      if isinstance(f, (RedactToken, DropLibraryDebug))]:
            filterer.removeFilter(added)


async def talk(server: FakeTelegram, db_path: Path) -> None:
    """A person starts the bot and sends a message with a name and an address in it."""
    person = FakeUser(server, PERSON_ID, first_name=NAME, username=USERNAME)
    async with polling(Settings(token=TOKEN, db_path=db_path, base_url=server.url)):
        await person.send("/start")
        await person.reply("Deflect finds")
        await person.send(TEXT)
        await person.reply()


@pytest.mark.usefixtures("logging_restored")
async def test_at_debug_the_logs_hold_nothing_of_the_people_nor_the_token(
        fake_telegram: FakeTelegram, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    install_log_redaction(TOKEN)
    cap_library_logs(debug_unsafe=False)
    await talk(fake_telegram, db_path)
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    assert any(r.name.startswith("telegram") for r in caplog.records)  # their INFO is kept
    for secret in (str(PERSON_ID), NAME, USERNAME, TEXT, "Wabash", TOKEN, TOKEN.split(":")[1]):
        assert secret not in caplog.text
    assert "DEFLECT_DEBUG_UNSAFE" not in caplog.text


@pytest.mark.usefixtures("logging_restored")
async def test_a_library_logger_set_to_debug_by_name_is_still_capped(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cap_library_logs(debug_unsafe=False)
    logging.getLogger("telegram.ext.Updater").setLevel(logging.DEBUG)
    try:
        logging.getLogger("telegram.ext.Updater").debug("Webhook received data: %s", TEXT)
        logging.getLogger("telegram.ext.Updater").info("Webhook server started")
    finally:
        logging.getLogger("telegram.ext.Updater").setLevel(logging.NOTSET)
    assert TEXT not in caplog.text
    assert "Webhook server started" in caplog.text


@pytest.mark.usefixtures("logging_restored")
async def test_debug_unsafe_says_what_the_logs_now_hold(
        fake_telegram: FakeTelegram, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    install_log_redaction(TOKEN)
    cap_library_logs(debug_unsafe=True)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ids, names and message texts" in warnings[0].getMessage()
    await talk(fake_telegram, db_path)
    assert TEXT in caplog.text  # what the cap keeps out by default
    assert TOKEN not in caplog.text


def test_debug_unsafe_is_read_from_the_environment_and_off_by_default() -> None:
    assert Settings.from_env({}).debug_unsafe is False
    assert Settings.from_env({"DEFLECT_DEBUG_UNSAFE": "0"}).debug_unsafe is False
    assert Settings.from_env({"DEFLECT_DEBUG_UNSAFE": "1"}).debug_unsafe is True


def test_a_traceback_that_holds_the_token_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.redaction.traceback")
    logger.addFilter(RedactToken(TOKEN))
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        logger.exception("start-up failed")
    assert "The token `<token>` was rejected" in caplog.text
    assert TOKEN not in caplog.text


async def test_a_refused_token_ends_deflect_run_with_one_line_and_no_token(
        tmp_path: Path) -> None:
    """Telegram answers 401 Unauthorized to a token it does not know (here: any but the
    fake's own)."""
    server = FakeTelegram(token="654321:another-bot")
    await server.start()
    try:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("DEFLECT_", "TELEGRAM_"))}
        env.update({"DEFLECT_TOKEN": TOKEN, "DEFLECT_BASE_URL": server.url,
                    "DEFLECT_DB": str(tmp_path / "deflect.sqlite3"), "LC_ALL": "C.UTF-8"})
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await server.stop()
    output = (out + err).decode()
    assert process.returncode == 2, output
    assert err.decode().splitlines() == [
        "Telegram refused the bot token: check DEFLECT_TOKEN (the token @BotFather gave you)"]
    assert out == b""
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
    assert "Traceback" not in output
