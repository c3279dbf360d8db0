"""Follow-up: "Did the person get to the service?" after a referral, and confirmations that
did not arrive, shown on the member's next visit.

The reminders are sent by a repeating job that reads what is due from SQLite, so they
survive restarts; each is sent in the language the referral was made in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from babel.dates import format_date
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, TypeHandler

from bot.i18n import parse_locale, translations
from bot.runtime import DeflectContext, Runtime
from directory.i18n import N_
from referrals.followups import Answer, Due
from referrals.model import shown_code

_LOGGER = logging.getLogger(__name__)

CHECK_EVERY_S = 60
_PREFIX = "fu"

ANSWER_NAMES = {
    Answer.ENGAGED: N_("Yes, they engaged"), Answer.NOT_YET: N_("Not yet"),
    Answer.DECLINED: N_("They declined"), Answer.UNKNOWN: N_("Don't know"),
    Answer.TURNED_AWAY: N_("Service was closed / turned them away"),
}
RECORDED = {
    Answer.ENGAGED: N_("Thank you. Referral %(code)s: recorded as engaged."),
    Answer.NOT_YET: N_("Thank you. Referral %(code)s: not yet."),
    Answer.DECLINED: N_("Thank you. Referral %(code)s: recorded as declined."),
    Answer.UNKNOWN: N_("Thank you. Referral %(code)s: recorded as not known."),
    Answer.TURNED_AWAY: N_("Thank you. Referral %(code)s: not yet; the service's closure is "
                           "counted."),
}


def _day_of(created_hour: str, locale: str) -> str:
    made = datetime.strptime(created_hour, "%Y-%m-%dT%H:00Z").replace(tzinfo=UTC)
    return format_date(made.date(), format="medium", locale=parse_locale(locale))


async def reminder(runtime: Runtime, due: Due) -> tuple[str, InlineKeyboardMarkup]:
    """The reminder's text and buttons, in the language of the referral."""
    _ = translations(due.locale).gettext
    name = await runtime.directory.name_of(due.service_id) if due.service_id else None
    text = _("Referral %(code)s of %(day)s to %(service)s.\nDid the person get to the "
             "service?") % {"code": shown_code(due.code),
                            "day": _day_of(due.created_hour, due.locale),
                            "service": name or _("the service")}
    buttons = [InlineKeyboardButton(_(ANSWER_NAMES[a]), callback_data=f"{_PREFIX}:"
                                    f"{due.referral_id}:{a.value}") for a in Answer]
    return text, InlineKeyboardMarkup([buttons[:2], buttons[2:4], buttons[4:]])


async def send_due(bot: Bot, runtime: Runtime, now: float | None = None) -> int:
    """Send every reminder that is due; returns how many went out.

    A chat that blocked the bot or no longer exists gets no more reminders; a network
    failure (after bot/network.py's retries) leaves the reminder to be tried again later.
    """
    sent = 0
    for due in await runtime.followups.due(now):
        text, markup = await reminder(runtime, due)
        try:
            await bot.send_message(due.chat_id, text, reply_markup=markup)
        except (Forbidden, BadRequest) as error:
            _LOGGER.info("follow-up not deliverable (%s); dropped", type(error).__name__)
            await runtime.followups.drop(due.referral_id)
            continue
        except TelegramError as error:
            _LOGGER.warning("follow-up not sent (%s); will retry", type(error).__name__)
            await runtime.followups.postpone(due, now)
            continue
        await runtime.followups.sent(due)
        sent += 1
    return sent


async def send_due_job(context: DeflectContext) -> None:
    """The repeating job (see bot/app.py)."""
    context.bot_data.metrics.followups.inc(await send_due(context.bot, context.runtime))


async def answered(update: Update, context: DeflectContext) -> None:
    """A reminder's button: record the outcome, or say the question has expired."""
    _ = context.translator.gettext
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or query.data is None:
        return
    _prefix, referral_id, value = query.data.split(":")
    answer = Answer(value)
    result = await context.runtime.followups.answer(referral_id, chat.id, answer)
    if result is None:
        await query.answer(_("This question has expired."))
        return
    await query.answer()
    if answer is Answer.TURNED_AWAY:
        referral = await context.runtime.referrals.get(referral_id)
        if referral is not None and referral.service_id is not None:
            await context.runtime.directory.live.report_closed(referral.service_id)
    code, again = result
    text = _(RECORDED[answer]) % {"code": shown_code(code)}
    if again:
        text += "\n" + _("I will ask again later.")
    await query.edit_message_text(text)


async def show_undelivered(update: Update, context: DeflectContext) -> None:
    """Before anything else: confirmations this member missed, with their codes."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return
    runtime = context.runtime
    if not runtime.undelivered.any_waiting():
        return
    key = runtime.members.user_key(user.id)
    if not runtime.undelivered.waiting(key):
        return
    notices = await runtime.undelivered.take(key)
    _ = context.translator.gettext
    lines = [context.translator.ngettext(
        "%(count)d referral was logged, but its confirmation did not reach you:",
        "%(count)d referrals were logged, but their confirmations did not reach you:",
        len(notices)) % {"count": len(notices)}]
    for notice in notices:
        name = await runtime.directory.name_of(notice.service_id) if notice.service_id else None
        lines.append(_("Code %(code)s: %(service)s") % {"code": shown_code(notice.code),
                                                       "service": name or _("the service")})
    try:
        await chat.send_message("\n".join(lines))
    except TelegramError:
        await runtime.undelivered.give_back(key, notices)
        raise


def build_followup_handlers() -> list[BaseHandler[Update, DeflectContext, None]]:
    """The reminder's buttons; registered before the catch-all for stale buttons."""
    answers = "|".join(a.value for a in Answer)
    return [CallbackQueryHandler(answered, pattern=rf"^{_PREFIX}:[0-9a-f]{{32}}:({answers})$")]


class _WhenAnyWaiting(TypeHandler[Update, DeflectContext, None]):
    """Every update, but only while some confirmation waits for someone: otherwise (nearly
    always) the update passes by without the cost of running a callback."""

    def __init__(self, waiting: Callable[[], bool]) -> None:
        super().__init__(Update, show_undelivered)
        self.waiting = waiting

    def check_update(self, update: object) -> bool:
        return self.waiting() and super().check_update(update)


def build_undelivered_handler(waiting: Callable[[], bool]
                              ) -> BaseHandler[Update, DeflectContext, None]:
    """Runs in a group before every other handler (see bot/app.py); `waiting`: whether any
    confirmation waits for anyone at all (Undelivered.any_waiting, kept in memory)."""
    return _WhenAnyWaiting(waiting)

