"""build_application: wiring only. Handlers live in handlers/, state in bot/runtime.py."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot.eligibility import load_eligibility, missing_translations
from bot.i18n import available_locales, compile_catalogs, translations
from bot.keys import KeyRing
from bot.metrics import Metrics
from bot.network import RetryingRateLimiter
from bot.ops import ops_server
from bot.persistence import StoragePersistence
from bot.runtime import BotData, DeflectContext, Runtime
from bot.settings import Settings
from bot.updates import PerChatUpdateProcessor
from directory.geocoder import Geocoder
from directory.importers import default_source, detect_format, read_path
from handlers.checklist import IdleClock, build_checklist_handler
from handlers.checklist.idle import SWEEP_S as IDLE_SWEEP_S
from handlers.common import DRAFT, Draft
from handlers.coordinator import build_coordinator_handlers
from handlers.errors import on_error
from handlers.followup import (
    CHECK_EVERY_S,
    build_followup_handlers,
    build_undelivered_handler,
    send_due_job,
)
from handlers.handoff import CHECK_EVERY_S as HANDOFF_EVERY_S
from handlers.handoff import build_handoff_handlers, no_answer_job
from handlers.live import build_live_handlers
from handlers.start import build_edit_handler, build_start_handlers
from members import Members
from referrals.followups import FollowUps, Undelivered
from referrals.handoff import Handoffs
from referrals.log import ReferralLog
from referrals.retention import purge
from storage import ConversationStore, open_conversations, open_storage

_LOGGER = logging.getLogger(__name__)

DeflectApplication = Application[Any, DeflectContext, dict[Any, Any], dict[Any, Any], BotData,
                                 Any]

# A token that satisfies PTB's checks where no real one exists (console, benchmarks).
OFFLINE_TOKEN = "0:offline"  # noqa: S105 - not a secret


def commands(translator: Any) -> list[BotCommand]:
    _ = translator.gettext
    return [
        BotCommand("start", _("Start: find help or begin the checklist")),
        BotCommand("find", _("The nearest open service for a need")),
        BotCommand("checklist", _("Deflection checklist (officers and peers)")),
        BotCommand("join", _("Join your agency with an invite code")),
        BotCommand("language", _("Choose your language")),
        BotCommand("help", _("What I can do")),
        BotCommand("cancel", _("Stop what you are doing")),
    ]


async def _post_init(application: DeflectApplication, settings: Settings, keyring: KeyRing,
                     *, serving: bool = False) -> None:
    compile_catalogs()
    eligibility = load_eligibility(settings.eligibility_path)
    missing = missing_translations(eligibility, available_locales())
    if missing:
        _LOGGER.warning("eligibility questions without a translation (asked in English): %s",
                        ", ".join(missing))
    keys = await keyring.keys()
    storage = await open_storage(settings.storage_location, keys,
                                 directory_file=settings.db_path)
    directory = await storage.open_directory(demo=settings.directory_path is None)
    await directory.warm()  # every service's hours compiled before the first search
    if settings.directory_path is not None and not await directory.sources():
        # DEFLECT_DIRECTORY: a deployment's own directory, imported once, all or nothing.
        result = read_path(settings.directory_path)
        if result.errors:
            raise SystemExit("\n".join(p.render_english() for p in result.errors))
        await directory.replace_source(default_source(settings.directory_path),
                                       result.services,
                                       format=detect_format(settings.directory_path),
                                       origin=str(settings.directory_path), region="")
    contact = f" ({settings.geocoder_contact})" if settings.geocoder_contact else ""
    geocoder = Geocoder(storage.geocode, url=settings.geocoder_url,
                        user_agent=f"Deflect/0.1 deflection referral bot{contact}")
    await geocoder.open()
    application.bot_data.runtime = Runtime(
        settings=settings, storage=storage, directory=directory,
        members=await Members.open(storage.members, keys), referrals=ReferralLog(storage.referrals),
        eligibility=eligibility, geocoder=geocoder,
        followups=FollowUps(storage.followups, settings.followup_hours),
        undelivered=Undelivered(storage.undelivered),
        handoffs=Handoffs(storage.handoffs, settings.handoff_minutes),
    )
    await application.bot.set_my_commands(commands(translations(settings.default_locale)))
    if serving:
        # What start-up made (the libraries, the compiled hours, the catalogs) lives as long
        # as the process: frozen, the collector's full passes no longer walk it. They paused
        # the bot 60-90 ms at a time at 150 updates/s (p99 67 -> 26 ms, benchmarks/load.py).
        # Not in tests or the console: many applications in one process would freeze each
        # other's garbage for good.
        gc.freeze()
    if settings.ops_listen:
        ops = AsyncExitStack()
        application.bot_data.ops_address = await ops.enter_async_context(ops_server(
            settings.ops_listen, application.bot_data.metrics, lambda: health(application)))
        application.bot_data.ops = ops


async def health(application: DeflectApplication) -> str | None:
    """What GET /healthz reports (bot/ops.py): None when the database answers and updates
    are flowing, else what is wrong."""
    bot_data = application.bot_data
    runtime = bot_data.runtime
    if runtime is None:
        return "not started"
    await runtime.storage.maintenance.ping()
    if bot_data.backlog is not None:  # several workers: this one's own, then the inbox
        return bot_data.metrics.flow.stalled() or await bot_data.backlog()
    return bot_data.metrics.flow.stalled(application.update_queue.qsize())


async def _post_shutdown(application: DeflectApplication) -> None:
    if application.bot_data.ops is not None:
        await application.bot_data.ops.aclose()
        application.bot_data.ops = None
    runtime = application.bot_data.runtime
    if runtime is not None:
        await runtime.geocoder.close()
        await runtime.directory.close()
        await runtime.storage.close()
        application.bot_data.runtime = None


@asynccontextmanager
async def running(application: DeflectApplication) -> AsyncIterator[DeflectApplication]:
    """The application initialised and started, with its runtime open, but not polling.

    run_polling and run_webhook do this themselves; the console, tests and benchmarks feed
    updates through process_update (or start the updater) inside this block.
    """
    async with application:
        try:
            # Inside the try: what post_init opened before failing (the stores, a health
            # server whose port was taken) is closed again, and the process can exit.
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
            try:
                yield application
            finally:
                await application.stop()
        finally:
            if application.post_shutdown is not None:
                await application.post_shutdown(application)


_EDIT_GROUP = -2
_NOTICE_GROUP = -1
CHECKPOINT_EVERY_S = 60
_SAVE_GROUP = 100
MAX_RUNNING_UPDATES = 64


def _any_undelivered(application: DeflectApplication) -> bool:
    runtime = application.bot_data.runtime
    return runtime is not None and runtime.undelivered.any_waiting()


def _conversation_key(bot_data: BotData, update: Update
                      ) -> tuple[str, tuple[Any, ...] | None]:
    """The checklist's name and this update's key in it (None: no chat or user)."""
    checklist = bot_data.checklist
    if checklist is None:
        return "", None
    try:
        return checklist.name or "", checklist._get_key(update)  # noqa: SLF001 - no public way
    except RuntimeError:  # an update without chat or user
        return checklist.name or "", None


def _settler(application: DeflectApplication, persistence: StoragePersistence
             ) -> Callable[[Update], Awaitable[None]]:
    async def settle(update: Update) -> None:
        """Before anything else: the chat's previous update's state is in the store (written
        behind, bot/persistence.py), so a process killed during this one loses only this
        one. Called by DeflectContext.refresh_data, once per update."""
        if not persistence.behind():
            return
        name, key = _conversation_key(application.bot_data, update)
        user = update.effective_user
        await persistence.settle(name, key, user.id if user else None)
    return settle


async def _save_state(update: Update, context: DeflectContext) -> None:
    """Write through to the storage what this update changed: the conversation's state and
    the user's data (the draft), in one transaction, before the chat's next update, so a
    process killed next resumes with both. Nothing is written if neither changed."""
    application = context.application
    persistence = application.persistence
    clock = context.bot_data.idle_clock
    if not isinstance(persistence, StoragePersistence):
        return
    name, key = _conversation_key(context.bot_data, update)
    state: int | None = None
    if key is not None:
        found = context.bot_data.checklist._conversations.get(key)  # noqa: SLF001
        state = None if found is None else int(found)
    user = update.effective_user
    data = application.user_data.get(user.id) if user else None
    await persistence.write_through(name, key, state, user.id if user else None, data)
    if user is not None and data is not None and not data:
        # Nothing kept for them: PTB's empty entry would stay for good, one per person ever
        # seen (benchmarks/memory.py).
        application.drop_user_data(user.id)
    if clock is not None:
        clock.seen(key, update)


async def _end_idle(context: DeflectContext) -> None:
    """One process: end the conversations idle for DEFLECT_CONVERSATION_MINUTES."""
    clock = context.bot_data.idle_clock
    if clock is not None:
        await clock.sweep(context.application)


async def _purge_idle(context: DeflectContext) -> None:
    """Delete conversation rows idle for longer than DEFLECT_CONVERSATION_MINUTES."""
    persistence = context.application.persistence
    if isinstance(persistence, StoragePersistence):
        await persistence.purge_idle()


async def _checkpoint(context: DeflectContext) -> None:
    """Empty the write-ahead log: what finished conversations wrote does not stay in it."""
    await context.runtime.storage.maintenance.checkpoint()


async def _retention(context: DeflectContext) -> None:
    """Daily: fold and delete referral rows older than DEFLECT_RETENTION_DAYS, and whatever
    else has expired, then compact (referrals/retention.py)."""
    runtime = context.runtime
    done = await purge(runtime.storage.maintenance, runtime.settings.retention_days,
                       runtime.followups,
                       conversation_idle_s=runtime.settings.conversation_minutes * 60)
    # The live directory's old statuses and reports (facts about services, not people).
    statuses, reports = await runtime.directory.live.expire()
    _LOGGER.info("retention: %s; live statuses %d, reports %d", done, statuses, reports)


LIVE_REFRESH_S = 5


async def _refresh_live(context: DeflectContext) -> None:
    """Several workers: the statuses other workers took, and a newly published directory."""
    runtime = context.runtime
    await runtime.directory.live.refresh()
    await runtime.storage.refresh_directory(runtime.directory)


def _leader_only(callback: Callable[[DeflectContext], Awaitable[None]]
                 ) -> Callable[[DeflectContext], Coroutine[Any, Any, None]]:
    """A repeating job that runs on one worker only (all of them on a single process)."""
    async def gated(context: DeflectContext) -> None:
        leads = context.bot_data.leads
        if leads is None or await leads():
            await callback(context)
    gated.__name__ = getattr(callback, "__name__", "job")
    return gated


async def _conversations(settings: Settings, keyring: KeyRing) -> ConversationStore:
    return await open_conversations(settings.storage_location, await keyring.keys())


def build_application(settings: Settings, *, request: BaseRequest | None = None,
                      rate_limit: bool = True, shared: bool = False,
                      serving: bool = False) -> DeflectApplication:
    """The Application, its handlers in their order, and the runtime's open/close hooks.

    `shared`: one of several workers on one PostgreSQL (bot/workers.py): conversations are
    read from the store before each update, and the repeating jobs run only on the worker
    that leads (`BotData.leads`). `serving`: the application is the process's one job
    (`deflect run`, `deflect worker`): once started, what it holds for good is frozen out of
    the garbage collector's way (see _post_init)."""
    keyring = KeyRing(settings)
    metrics = Metrics()
    builder = (
        ApplicationBuilder()
        .token(settings.token or OFFLINE_TOKEN)
        .context_types(ContextTypes(context=DeflectContext, bot_data=BotData))
        .persistence(StoragePersistence(lambda: _conversations(settings, keyring),
                                        settings.conversation_minutes * 60,
                                        {DRAFT: Draft.from_json}, shared=shared))
        .concurrent_updates(PerChatUpdateProcessor(max_running=MAX_RUNNING_UPDATES,
                                                   metrics=metrics))
        .post_init(lambda app: _post_init(app, settings, keyring, serving=serving))
        .post_shutdown(_post_shutdown)
    )
    if settings.base_url:
        builder = builder.base_url(settings.base_url.rstrip("/") + "/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        # PTB's default is one pooled connection, so with chats handled side by side every
        # reply would queue behind the others (and httpcore's pool churns looking for one).
        builder = (builder.connection_pool_size(MAX_RUNNING_UPDATES).pool_timeout(10.0)
                   .read_timeout(settings.telegram_timeout_s)
                   .write_timeout(settings.telegram_timeout_s))
    # Flood limits (off only to measure the bot itself), 429s waited out, and network
    # failures retried: see bot/network.py.
    limiter = RetryingRateLimiter(flood_limits=rate_limit and settings.flood_limits,
                                  first_pause_s=settings.telegram_retry_pause_s,
                                  metrics=metrics)
    builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB's generics
    application: DeflectApplication = builder.build()
    application.bot_data.metrics = metrics
    # Order matters: the conversation first, so a button or message that belongs to a step
    # reaches it; then commands and the catch-alls for stale buttons and stray messages.
    # First of all, each in a group of its own: edited messages are not read, and then
    # confirmations the member missed.
    application.add_handler(build_edit_handler(), group=_EDIT_GROUP)
    application.add_handler(build_undelivered_handler(lambda: _any_undelivered(application)),
                            group=_NOTICE_GROUP)
    checklist = build_checklist_handler()
    application.add_handler(checklist)
    application.bot_data.checklist = checklist
    if isinstance(application.persistence, StoragePersistence):
        application.bot_data.settle = _settler(application, application.persistence)
    if not shared:
        # Several workers: a clock in one process cannot see the chat's later updates on
        # another; the store's idle purge ends their conversations instead.
        application.bot_data.idle_clock = IdleClock(checklist,
                                                    settings.conversation_minutes * 60)
        application.job_queue.run_repeating(  # type: ignore[union-attr]
            _end_idle, interval=IDLE_SWEEP_S, first=IDLE_SWEEP_S, name="end-idle")
    for handler in [*build_followup_handlers(), *build_handoff_handlers(),
                    *build_live_handlers(), *build_coordinator_handlers(),
                    *build_start_handlers()]:
        application.add_handler(handler)
    # Last, in a group of its own so that it sees every update after the others: save what
    # the update changed before the next one, so a killed process resumes where it was.
    application.add_handler(TypeHandler(Update, _save_state), group=_SAVE_GROUP)
    # Every worker: the live directory's shared statuses into this worker's copy (nothing to
    # do on one SQLite file).
    application.job_queue.run_repeating(  # type: ignore[union-attr]
        _refresh_live, interval=LIVE_REFRESH_S, first=LIVE_REFRESH_S, name="refresh-live")
    for callback, every, first, name in (
            (_purge_idle, 60, 60, "purge-idle-conversations"),
            (send_due_job, CHECK_EVERY_S, CHECK_EVERY_S, "send-follow-ups"),
            (no_answer_job, HANDOFF_EVERY_S, HANDOFF_EVERY_S, "hand-off-no-answer"),
            (_checkpoint, CHECKPOINT_EVERY_S, CHECKPOINT_EVERY_S, "checkpoint-wal"),
            (_retention, 24 * 3600, 3600, "retention")):
        application.job_queue.run_repeating(  # type: ignore[union-attr]
            _leader_only(callback), interval=every, first=first, name=name)
    application.add_error_handler(on_error)
    return application
