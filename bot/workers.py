"""Several workers on one PostgreSQL: `deflect serve-webhook` and `deflect worker`.

The receiver takes Telegram's webhook posts (checking the secret token and path of
bot/webhook.py), writes each update to the durable inbox (storage/postgres/inbox.py) and
answers 200 only after that commits: an update Telegram saw acknowledged is never lost, and
one it redelivers is recognised by its update_id. Workers, any number on any machines, claim
the inbox's updates one chat at a time in update_id order; an update whose worker dies is
claimed again when its lease runs out. Before each update the worker reads that chat's
conversation and that user's data from the store (another worker may have moved it on), and
the repeating jobs run on one worker only: whoever holds the leader's advisory lock.

Each update is handled in a unit of work (storage/postgres/database.py): everything it writes
(the conversation's step, the draft, a referral, a spent invite) commits in one transaction
with its "done" in the inbox, or not at all. A worker killed half-way leaves nothing, and the
worker that claims the update again does it all once. What cannot be undone is a message
already sent: Telegram may show it twice. A referral is logged once per id fixed in the
draft, so even a confirmation sent twice shows the one code in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import ConversationHandler

from bot.app import DeflectApplication, build_application, running
from bot.keys import KeyRing
from bot.metrics import STALL_S, Metrics
from bot.ops import ops_server
from bot.persistence import StoragePersistence
from bot.settings import Settings
from bot.webhook import locked_webhook
from storage.postgres import PostgresStorage
from storage.postgres.database import open_pool, unit_of_work
from storage.postgres.inbox import Claimed, Inbox, Leader

_LOGGER = logging.getLogger(__name__)
LEASE_S = 30.0  # a claimed update not done by then is claimed again (its worker died)
IDLE_PAUSE_S = 0.02
MAX_IDLE_PAUSE_S = 0.5
CLAIMERS = 16  # updates of different chats one worker handles at once


class ClaimLost(Exception):
    """An update's lease ran out while it was handled, and another worker claimed it."""


def _chat_of(body: dict[str, Any]) -> int | None:
    update = Update.de_json(body, None)
    if update is None:
        return None
    chat = update.effective_chat or update.effective_user
    return chat.id if chat is not None else None


def receiver_app(inbox: Inbox, path: str, token: str, metrics: Metrics | None = None
                 ) -> web.Application:
    """The webhook endpoint: 403 without the secret token, 404 elsewhere, 200 once kept."""

    async def receive(request: web.Request) -> web.Response:
        if not secrets.compare_digest(
                request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), token):
            return web.Response(status=403)
        try:
            body = await request.json()
            update_id = int(body["update_id"])
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400)
        chat_id = _chat_of(body)
        # An update with neither chat nor user (a poll's state) is kept under its own number.
        kept = await inbox.put(update_id, chat_id if chat_id is not None else -update_id, body)
        if kept and metrics is not None:  # not Telegram posting again what it had sent
            metrics.received.inc()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post(f"/{path}", receive)
    return app


async def serve_webhook(settings: Settings, listen: str, public_url: str,
                        stop: asyncio.Event | None = None) -> None:
    """Run the receiver until `stop` (or SIGTERM/SIGINT); setWebhook on start."""
    if not settings.database_url:
        raise SystemExit("deflect serve-webhook needs DEFLECT_DATABASE_URL (PostgreSQL)")
    keys = await KeyRing(settings).keys()
    hook = locked_webhook(keys.master, listen, public_url)
    pool = await open_pool(settings.database_url, max_size=20)
    metrics = Metrics()
    runner = web.AppRunner(receiver_app(Inbox(pool, keys.sealer("inbox")), hook.url_path,
                                        hook.secret_token, metrics))
    await runner.setup()
    await web.TCPSite(runner, hook.listen, hook.port).start()
    application = build_application(settings)  # only its bot, to call setWebhook

    async def reachable() -> str | None:
        # The receiver's one job is to keep what Telegram posts: it is healthy while the
        # database takes writes; a backlog is the workers' health, not its own.
        await pool.fetchval("SELECT 1")
        return None

    try:
        async with ops_server(settings.ops_listen, metrics, reachable):
            async with application.bot:
                await application.bot.set_webhook(
                    hook.webhook_url, secret_token=hook.secret_token,
                    allowed_updates=Update.ALL_TYPES)
            await (stop or _until_signalled()).wait()
    finally:
        await runner.cleanup()
        await pool.close()


def _until_signalled() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(number, stop.set)
    return stop


def _conversation(application: DeflectApplication) -> ConversationHandler[Any] | None:
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler) and handler.persistent:
                return handler
    return None


async def _catch_up(application: DeflectApplication, update: Update) -> None:
    """This chat's conversation as the store has it: another worker may have moved it on."""
    handler = _conversation(application)
    persistence = application.persistence
    if handler is None or not isinstance(persistence, StoragePersistence):
        return
    try:
        key = handler._get_key(update)  # noqa: SLF001 - PTB keeps no public way to ask
    except RuntimeError:
        return
    state = await persistence.conversation_state(handler.name or "", key)
    conversations = handler._conversations  # noqa: SLF001
    if state is None:
        getattr(conversations, "data", conversations).pop(key, None)
    else:
        conversations.update_no_track({key: state})  # type: ignore[attr-defined]


async def run_worker(settings: Settings, stop: asyncio.Event | None = None,
                     claimers: int = CLAIMERS, lease_s: float = LEASE_S,
                     serving: bool = False) -> None:
    """Handle the inbox's updates until `stop` (or SIGTERM/SIGINT); `serving`: the process's
    one job (bot/app.py, build_application)."""
    if not settings.database_url:
        raise SystemExit("deflect worker needs DEFLECT_DATABASE_URL (PostgreSQL)")
    application = build_application(settings, shared=True, serving=serving)
    name = f"{os.uname().nodename}:{os.getpid()}"
    async with running(application):
        runtime = application.bot_data.runtime
        assert runtime is not None
        storage = runtime.storage
        assert isinstance(storage, PostgresStorage)
        keys = await KeyRing(settings).keys()
        inbox = Inbox(storage.pool, keys.sealer("inbox"))
        leader = Leader(storage.pool)
        application.bot_data.leads = leader.leads
        application.bot_data.backlog = lambda: inbox.stalled(STALL_S)
        metrics = application.bot_data.metrics
        finished = stop or _until_signalled()

        async def keep_lease(update_id: int) -> None:
            """Renew the lease while the update is handled (a slow Bot API, retries): only a
            dead worker's updates are claimed again."""
            while True:
                await asyncio.sleep(lease_s / 3)
                if not await inbox.renew(update_id, name, lease_s):
                    return

        async def handle(claimed: Claimed) -> None:
            """The update's database effects and its "done" in one transaction: a worker that
            dies before the commit leaves nothing of it, and the next one does it all."""
            with metrics.handling():
                async with unit_of_work(storage.pool):
                    update = Update.de_json(claimed.body, application.bot)
                    await _catch_up(application, update)
                    await application.process_update(update)
                    if not await inbox.done(claimed.update_id, name):
                        # Our lease ran out and another worker holds the update now: undo.
                        raise ClaimLost

        async def claim_and_handle() -> None:
            idle = IDLE_PAUSE_S
            while not finished.is_set():
                try:
                    claimed = await inbox.claim(name, lease_s)
                    if claimed is None:
                        await asyncio.sleep(idle)  # back off while there is nothing to do
                        idle = min(idle * 2, MAX_IDLE_PAUSE_S)
                        continue
                    idle = IDLE_PAUSE_S
                    lease = asyncio.create_task(keep_lease(claimed.update_id))
                    try:
                        await handle(claimed)
                    finally:
                        lease.cancel()
                except Exception:  # noqa: BLE001 - the lease hands the update on
                    _LOGGER.exception("worker: an update could not be handled; it will be "
                                      "claimed again when its lease runs out")
                    await asyncio.sleep(1.0)

        async def forget_done() -> None:
            while not finished.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(finished.wait(), 600)
                await inbox.forget_done()

        try:
            await asyncio.gather(forget_done(),
                                 *(claim_and_handle() for _ in range(claimers)))
        finally:
            await leader.close()
