"""What the running application holds, and the context type every callback receives."""

from __future__ import annotations

from dataclasses import dataclass
from gettext import NullTranslations
from typing import Any

import aiosqlite
from babel import Locale
from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.eligibility import EligibilityQuestion
from bot.followups import FollowUps, Undelivered
from bot.geocoding import Geocoder
from bot.i18n import parse_locale, translations
from bot.members import Members
from bot.referrals import ReferralLog
from bot.settings import Settings
from directory.store import Directory


@dataclass(frozen=True)
class Runtime:
    """Opened in post_init, closed in post_shutdown."""

    settings: Settings
    db: aiosqlite.Connection
    directory: Directory
    members: Members
    referrals: ReferralLog
    eligibility: tuple[EligibilityQuestion, ...]
    geocoder: Geocoder
    followups: FollowUps
    undelivered: Undelivered


class BotData:
    """application.bot_data: the runtime once post_init has opened it."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None


class DeflectContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context of one update: shared runtime, and the reader's own language."""

    _locale: Locale | None = None

    @classmethod
    def from_update(cls, update: object, application: Application[Any, Any, Any, Any, Any, Any]
                    ) -> DeflectContext:
        context = super().from_update(update, application)
        default = context.bot_data.runtime.settings.default_locale if context.bot_data.runtime \
            else "en"
        language = None
        if isinstance(update, Update) and update.effective_user:
            language = update.effective_user.language_code
        # Resolved per update, never a global: interleaved awaits would mix languages.
        context._locale = parse_locale(language, default)
        return context

    @property
    def runtime(self) -> Runtime:
        runtime = self.bot_data.runtime
        if runtime is None:
            raise RuntimeError("the application has not been initialised")
        return runtime

    @property
    def locale(self) -> Locale:
        return self._locale or parse_locale(None)

    @property
    def translator(self) -> NullTranslations:
        return translations(str(self.locale))

    def _(self, message: str) -> str:
        return self.translator.gettext(message)
