"""What the running application holds, and the context type every callback receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from gettext import NullTranslations
from typing import Any

from babel import Locale
from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.eligibility import EligibilityQuestion
from bot.i18n import negotiate, parse_locale, translations
from bot.metrics import Metrics
from bot.settings import Settings
from directory.geocoder import Geocoder
from directory.store import Directory
from members import Members
from referrals.followups import FollowUps, Undelivered
from referrals.handoff import Handoffs
from referrals.log import ReferralLog
from storage import Storage


@dataclass(frozen=True)
class Runtime:
    """Opened in post_init, closed in post_shutdown."""

    settings: Settings
    storage: Storage
    directory: Directory
    members: Members
    referrals: ReferralLog
    eligibility: tuple[EligibilityQuestion, ...]
    geocoder: Geocoder
    followups: FollowUps
    undelivered: Undelivered
    handoffs: Handoffs


class BotData:
    """application.bot_data: the runtime once post_init has opened it."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        # Several workers (bot/workers.py): whether this one runs the repeating jobs now.
        self.leads: Callable[[], Awaitable[bool]] | None = None
        # One process: the clock that ends idle conversations (handlers/checklist/idle.py).
        self.idle_clock: Any = None
        # The checklist's ConversationHandler: its state is written through after each update.
        self.checklist: Any = None
        # Before an update's handlers: wait for the chat's last write (bot/app.py, _settler).
        self.settle: Callable[[Update], Awaitable[None]] | None = None
        # What GET /metrics shows, and the flow of updates GET /healthz reads (bot/ops.py).
        self.metrics = Metrics()
        # Several workers: why the shared inbox is not moving, or None (bot/workers.py);
        # one process: None, and the application's own queue is read instead.
        self.backlog: Callable[[], Awaitable[str | None]] | None = None
        # The health and metrics server while it runs (DEFLECT_OPS_LISTEN).
        self.ops: AsyncExitStack | None = None
        self.ops_address: tuple[str, int] | None = None  # where it listens (port 0: chosen)


class DeflectContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context of one update: shared runtime, and the reader's own language."""

    _locale: Locale | None = None
    _update: Update | None = None

    @classmethod
    def from_update(cls, update: object, application: Application[Any, Any, Any, Any, Any, Any]
                    ) -> DeflectContext:
        context = super().from_update(update, application)
        runtime = context.bot_data.runtime
        default = runtime.settings.default_locale if runtime else "en"
        chosen = None
        if isinstance(update, Update) and update.effective_user:
            user = update.effective_user
            # Their /language choice, else their Telegram app's language, else the default.
            chosen = (runtime.members.language(user.id) if runtime else None) \
                or negotiate(user.language_code, default)
        # Resolved per update, never a global: interleaved awaits would mix languages.
        context._locale = parse_locale(chosen or negotiate(None, default))
        context._update = update if isinstance(update, Update) else None
        return context

    async def refresh_data(self) -> None:
        """PTB awaits this once per update, before its first handler: the chat's last write
        is waited for here, at no handler's cost (bot/app.py)."""
        settle = self.bot_data.settle
        if settle is not None and self._update is not None:
            await settle(self._update)
        await super().refresh_data()

    @property
    def runtime(self) -> Runtime:
        runtime = self.bot_data.runtime
        if runtime is None:
            raise RuntimeError("the application has not been initialised")
        return runtime

    @property
    def locale(self) -> Locale:
        """The reader's language; in a conversation, the one chosen for the person being
        helped ("Show this in another language"), if any."""
        try:
            draft = self.user_data.get("draft") if self.user_data is not None else None
        except RuntimeError:  # an update without a user (e.g. a job)
            draft = None
        override = getattr(draft, "locale", None)
        if override:
            return parse_locale(override)
        return self._locale or parse_locale(None)

    @property
    def own_locale(self) -> Locale:
        """The user's own language, whatever the conversation is shown in (for what reaches
        them later, such as follow-up reminders)."""
        return self._locale or parse_locale(None)

    @property
    def translator(self) -> NullTranslations:
        return translations(str(self.locale))

    def _(self, message: str) -> str:
        return self.translator.gettext(message)
