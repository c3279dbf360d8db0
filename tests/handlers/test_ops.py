"""GET /healthz and GET /metrics, scraped over HTTP from a running bot (bot/ops.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_application, running
from bot.metrics import Flow
from bot.settings import Settings
from members import Role
from referrals.model import area_cell
from tests.fake_telegram import TOKEN, FakeTelegram, Fault
from tests.handlers.conftest import (
    CHICAGO_LOOP,
    make_member,
    officer,
    pick_detox_and_share_location,
    polling,
    referral_rows,
    runtime,
    walk_to_needs,
)

# A label may hold only fixed words: a Bot API method's name, where an error came from, or a
# histogram bucket's bound. Never a number that could be an id, a code or a place.
_METHOD = re.compile(r"[a-z][A-Za-z]{2,40}")
_FIXED = {"source": {"update", "job"}}


@pytest.fixture
def settings(fake_telegram: FakeTelegram, db_path: Path) -> Settings:
    return Settings(token=TOKEN, db_path=db_path, base_url=fake_telegram.url,
                    telegram_retry_pause_s=0.05)


async def _get(address: tuple[str, int], path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(
            f"http://{address[0]}:{address[1]}{path}") as response:
        return response.status, await response.text()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_with_a_scripted_referral_and_name_nobody(
        settings_on_either: Settings, fake_telegram: FakeTelegram) -> None:
    settings = dataclasses.replace(settings_on_either, ops_listen="127.0.0.1:0")
    async with polling(settings) as bot:
        address = bot.bot_data.ops_address
        assert address is not None
        assert address[1] != 0
        status, body = await _get(address, "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, before_text = await _get(address, "/metrics")
        assert status == 200
        before = _samples(before_text)

        user = officer(fake_telegram)
        await make_member(bot, user, Role.OFFICER)
        await walk_to_needs(user)
        await pick_detox_and_share_location(user)
        # The confirmation meets a 500 (retried) and a 429 (waited out), both counted.
        fake_telegram.faults += [Fault("sendMessage", status=500),
                                 Fault("sendMessage", status=429, retry_after=1)]
        await user.press("Refer to 1")
        confirmation = await user.reply("Referral logged. Code: ")
        code = str(confirmation.params["text"]).split("Code: ")[1].split()[0]
        [logged] = await referral_rows(bot)
        for _ in range(100):  # the Refer update goes on after its confirmation: let it end
            status, after_text = await _get(address, "/metrics")
            after = _samples(after_text)
            if _value(after, "deflect_updates_in_flight") == 0:
                break
            await asyncio.sleep(0.05)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("deflect_referrals_logged_total") == 1
    assert moved("deflect_search_seconds_count") == 1  # the one search, with its latency
    assert moved("deflect_search_seconds_sum") > 0
    # /checklist, four answers, Detox, Done, the location, Refer: nine updates.
    assert moved("deflect_updates_handled_total") == 9
    assert moved("deflect_bot_api_retries_total", method="sendMessage") == 1
    assert moved("deflect_bot_api_rate_limited_total", method="sendMessage") == 1
    assert _value(after, "deflect_handler_errors_total", source="update") == 0
    assert _value(after, "deflect_updates_in_flight") == 0

    # Nobody in it: no label but fixed words, and nothing of the person, the officer, the
    # referral or the place anywhere in the scrape.
    for family in text_string_to_metric_families(after_text):
        for sample in family.samples:
            for label, value in sample.labels.items():
                if label == "le":
                    float(value)  # a bucket's bound
                elif label == "method":
                    assert _METHOD.fullmatch(value), (sample.name, value)
                else:
                    assert value in _FIXED[label], (sample.name, label, value)
    cell = area_cell(*CHICAGO_LOOP)
    assert cell is not None
    for secret in (str(user.id), str(user.chat), code, logged["code"], logged["id"],
                   logged["service_id"], "Lakeshore", cell, "41.87", "87.62"):
        assert secret not in after_text, secret


async def test_healthz_says_503_when_the_database_fails(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    async with polling(dataclasses.replace(settings, ops_listen="127.0.0.1:0")) as bot:
        address = bot.bot_data.ops_address
        assert address is not None
        assert (await _get(address, "/healthz"))[0] == 200

        async def failing() -> None:
            raise sqlite3.OperationalError("disk I/O error")

        # The database's read fails as a dying disk's would (closing the connection under
        # the running bot would break its shutdown, not only its health).
        monkeypatch.setattr(runtime(bot).storage.maintenance, "ping", failing)
        status, body = await _get(address, "/healthz")
        assert status == 503
        assert json.loads(body) == {
            "status": "unhealthy", "problem": "the database did not answer (OperationalError)"}
        monkeypatch.undo()
        assert (await _get(address, "/healthz"))[0] == 200


async def test_no_server_unless_asked(settings: Settings) -> None:
    async with polling(settings) as bot:
        assert bot.bot_data.ops_address is None
        assert bot.bot_data.ops is None


def test_flow_is_stalled_only_when_updates_wait_or_hang() -> None:
    now = [1000.0]
    flow = Flow(lambda: now[0])
    assert flow.stalled(waiting=0) is None
    now[0] += 3600  # a quiet hour with nothing to do is not a stall
    assert flow.stalled(waiting=0) is None
    assert flow.stalled(waiting=3) is not None  # updates waiting, and nothing moved for 1 h
    ticket = flow.started()
    assert flow.stalled(waiting=3) is None  # one has started
    now[0] += 61
    assert "handled for more than" in (flow.stalled(waiting=0) or "")  # and hangs
    assert flow.finished(ticket) == pytest.approx(61)
    assert flow.stalled(waiting=3) is None
    now[0] += 61
    assert "waiting" in (flow.stalled(waiting=3) or "")


async def test_a_taken_port_stops_the_start_and_closes_what_it_opened(
        settings: Settings) -> None:
    """Two workers on one host with one DEFLECT_OPS_LISTEN: the second must exit, not hang
    on the stores its start had opened."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        application = build_application(
            dataclasses.replace(settings, ops_listen=f"127.0.0.1:{port}"))
        with pytest.raises(OSError, match="address already in use"):
            async with running(application):
                pytest.fail("started on a taken port")
    assert application.bot_data.runtime is None  # post_shutdown closed the stores
    assert application.bot_data.ops is None


@pytest.mark.parametrize(("serving", "frozen"), [(True, True), (False, False)])
def test_a_serving_process_freezes_what_start_up_made(tmp_path: Path, serving: bool,
                                                      frozen: bool) -> None:
    """`deflect run` and `deflect worker` freeze start-up's objects out of the collector's
    full passes; tests and the console, with many applications in one process, must not."""
    script = (
        "import asyncio, gc, sys\n"
        "from pathlib import Path\n"
        "from bot.app import build_application, running\n"
        "from bot.console import OfflineBotApi\n"
        "from bot.settings import Settings\n"
        "async def main():\n"
        "    app = build_application(Settings(db_path=Path(sys.argv[1])),\n"
        f"                            serving={serving}, request=OfflineBotApi())\n"
        "    async with running(app):\n"
        "        print(gc.get_freeze_count())\n"
        "asyncio.run(main())\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "d.sqlite3")],
                          capture_output=True, text=True, timeout=120, check=True)
    assert (int(done.stdout.split()[-1]) > 10_000) is frozen, done.stdout
