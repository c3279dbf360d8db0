"""The webhook: only Telegram can post to it (a secret path and a secret token, derived from the
master key), and Telegram is told both by setWebhook.

The real webhook server (python-telegram-bot's, on a free loopback port) receives the posts;
the bot's Bot API calls go to the loopback fake.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.app import DeflectApplication, build_application, running
from bot.settings import Settings
from bot.webhook import SECRET_TOKEN, locked_webhook, start_webhook, webhook_secrets
from members.keys import new_master_key
from tests.fake_telegram import TOKEN, FakeTelegram, FakeUser

ROOT = Path(__file__).resolve().parents[2]
MASTER = bytes(range(32))
PUBLIC_URL = "https://deflect.example.org/telegram"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_secrets_are_derived_from_the_key_and_are_what_telegram_accepts() -> None:
    secrets = webhook_secrets(MASTER)
    assert secrets == webhook_secrets(MASTER)  # the same URL after every restart
    assert secrets.token != secrets.path
    for value in (secrets.token, secrets.path):
        assert SECRET_TOKEN.fullmatch(value)
        assert len(value) == 43  # 32 bytes, base64 without padding
        assert value not in repr(secrets)
    other = webhook_secrets(new_master_key())
    assert (other.token, other.path) != (secrets.token, secrets.path)


def test_the_secret_path_is_appended_to_the_public_url() -> None:
    path = webhook_secrets(MASTER).path
    hook = locked_webhook(MASTER, "0.0.0.0:8443", "https://bot.example.org/tg/?x=1")
    assert (hook.listen, hook.port, hook.url_path) == ("0.0.0.0", 8443, path)
    assert hook.webhook_url == f"https://bot.example.org/tg/{path}?x=1"
    assert locked_webhook(MASTER, "[::1]:88", "https://bot.example.org").webhook_url == (
        f"https://bot.example.org/{path}")
    assert locked_webhook(MASTER, "[::1]:88", "https://bot.example.org").listen == "::1"


async def test_forged_posts_are_refused_and_telegrams_are_answered(
        fake_telegram: FakeTelegram, db_path: Path) -> None:
    application: DeflectApplication = build_application(Settings(
        token=TOKEN, db_path=db_path, base_url=fake_telegram.url, telegram_retry_pause_s=0.05))
    port = free_port()
    secrets = webhook_secrets(MASTER)
    async with running(application):
        assert application.updater is not None
        await start_webhook(application.updater, MASTER, f"127.0.0.1:{port}", PUBLIC_URL)
        try:
            # setWebhook told Telegram the secret URL and the token.
            (set_webhook,) = [c for c in fake_telegram.calls if c.method == "setWebhook"]
            assert set_webhook.params["url"] == f"{PUBLIC_URL}/{secrets.path}"
            assert set_webhook.params["secret_token"] == secrets.token

            local = f"http://127.0.0.1:{port}"
            # A coordinator's id as the sender, the forger's own chat for the answer.
            forger = FakeUser(fake_telegram, 1001, first_name="Dana", chat_id=6666)
            forged = {"update_id": 900, "message": forger.text_message("/stats")}
            async with httpx.AsyncClient(base_url=local, timeout=10) as client:
                answers = [
                    (await client.post(f"/{secrets.path}", json=forged)).status_code,
                    (await client.post(f"/{secrets.path}", json=forged,
                                       headers={HEADER: "guessed"})).status_code,
                    (await client.post(f"/{secrets.path}", json=forged,
                                       headers={HEADER: secrets.path})).status_code,
                    (await client.post("/", json=forged,
                                       headers={HEADER: secrets.token})).status_code,
                    (await client.post(f"/{secrets.token}", json=forged,
                                       headers={HEADER: secrets.token})).status_code,
                    (await client.post(f"/{secrets.path}x", json=forged,
                                       headers={HEADER: secrets.token})).status_code,
                ]
                assert answers == [403, 403, 403, 404, 404, 404]
                assert application.update_queue.empty()

                person = FakeUser(fake_telegram, 4242)
                genuine = {"update_id": 901, "message": person.text_message("/start")}
                answer = await client.post(f"/{secrets.path}", json=genuine,
                                           headers={HEADER: secrets.token})
                assert answer.status_code == 200
                await person.reply("Deflect finds")
        finally:
            await application.updater.stop()
    sent = [c for c in fake_telegram.calls if c.method.startswith("send")]
    assert sent
    assert {int(c.params["chat_id"]) for c in sent} == {person.chat}


async def _wait_for_webhook(server: FakeTelegram, process: asyncio.subprocess.Process
                            ) -> dict[str, Any]:
    for _ in range(600):
        if server.webhook is not None:
            return server.webhook
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    raise AssertionError("deflect run never called setWebhook")


async def test_deflect_run_with_a_webhook_url_locks_the_webhook(
        fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    """`deflect run --webhook-url`: the whole command, in a process of its own."""
    port = free_port()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DEFLECT_", "TELEGRAM_"))}
    env.update({"DEFLECT_TOKEN": TOKEN, "DEFLECT_BASE_URL": fake_telegram.url,
                "DEFLECT_DB": str(tmp_path / "deflect.sqlite3"), "DEFLECT_GEOCODER": "off",
                "LC_ALL": "C.UTF-8"})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--webhook-url", PUBLIC_URL,
        "--listen", f"127.0.0.1:{port}", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        webhook = await _wait_for_webhook(fake_telegram, process)
        url = urlsplit(str(webhook["url"]))
        assert f"https://{url.netloc}{url.path}".startswith(PUBLIC_URL + "/")
        path = url.path.removeprefix("/telegram")
        assert len(path) == 44
        token = str(webhook["secret_token"])
        assert SECRET_TOKEN.fullmatch(token)
        person = FakeUser(fake_telegram, 4343)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(100):  # setWebhook comes just before the server listens
                try:
                    await client.post("/", json={})
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            forged = {"update_id": 1, "message": person.text_message("/start")}
            assert (await client.post(path, json=forged)).status_code == 403
            assert (await client.post("/", json=forged,
                                      headers={HEADER: token})).status_code == 404
            genuine = {"update_id": 2, "message": person.text_message("/start")}
            assert (await client.post(path, json=genuine,
                                      headers={HEADER: token})).status_code == 200
            await person.reply("Deflect finds", wait_s=20)
        assert len([c for c in fake_telegram.calls if c.method == "sendMessage"]) == 1
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert TOKEN not in (out + err).decode()
