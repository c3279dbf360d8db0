"""The warm hand-off in Telegram: the service's staff are told at once (after the officer's
confirmation, never before it), their answer shows in the officer's confirmation, edited in
place, and a referral a service cannot take moves, in one tap, to the next nearest open
service: the same referral, never a second one.

What is sent and kept is in referrals/handoff.py; how it reads is in handlers/handoff_text.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from gettext import NullTranslations

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.i18n import translations
from bot.runtime import DeflectContext, Runtime
from handlers.handoff_text import (
    ARRIVED,
    DRIVE,
    NEXT,
    OFFICER_PATTERN,
    REPORT,
    STAFF_PATTERN,
    WALK,
    notice_buttons,
    notice_text,
    officer_buttons,
    officer_text,
)
from members import Role
from referrals.handoff_model import Answer, HandoffState, Notice, Travel
from referrals.model import Outcome, Referral

_LOGGER = logging.getLogger(__name__)
CHECK_EVERY_S = 60


async def _edit(bot: Bot, chat_id: int, message_id: int, text: str,
                markup: InlineKeyboardMarkup | None) -> None:
    try:
        await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                    reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            _LOGGER.info("hand-off message not edited (%s)", type(error).__name__)
    except TelegramError as error:
        _LOGGER.warning("hand-off message not edited (%s)", type(error).__name__)


def _staff_translator(runtime: Runtime, chat_id: int) -> NullTranslations:
    # A staff chat is the staff member's private chat: its id is their user id.
    return translations(runtime.members.language(chat_id) or runtime.settings.default_locale)


async def _name(runtime: Runtime, service_id: str, state_locale: str) -> str:
    name = await runtime.directory.name_of(service_id)
    return name or translations(state_locale).gettext("the service")


async def show_officer(bot: Bot, runtime: Runtime, referral: Referral, state: HandoffState,
                       *, arrived: bool = False) -> None:
    """The officer's confirmation as the hand-off stands now."""
    if state.officer_message is None:
        return
    translator = translations(state.locale)
    name = await _name(runtime, state.service_id, state.locale)
    await _edit(bot, state.officer_chat, state.officer_message,
                officer_text(translator, referral, name, state, runtime.handoffs.minutes,
                             arrived=arrived),
                officer_buttons(translator, state, arrived=arrived))


async def show_notices(bot: Bot, runtime: Runtime, referral: Referral, state: HandoffState,
                       notices: Iterable[Notice] | None = None, *, moved_away: bool = False,
                       arrived: bool = False) -> None:
    for notice in state.notices if notices is None else notices:
        translator = _staff_translator(runtime, notice.chat_id)
        await _edit(bot, notice.chat_id, notice.message_id,
                    notice_text(translator, referral, state, moved_away=moved_away,
                                arrived=arrived),
                    notice_buttons(translator, state, moved_away=moved_away, arrived=arrived))


async def _notify(bot: Bot, runtime: Runtime, referral: Referral, state: HandoffState
                  ) -> list[Notice]:
    """A notice to every staff member of the referral's service; those that reach them."""
    sent = []
    for chat_id in await runtime.members.staff_chats(state.service_id):
        translator = _staff_translator(runtime, chat_id)
        try:
            message = await bot.send_message(chat_id, notice_text(translator, referral, state),
                                             reply_markup=notice_buttons(translator, state))
        except TelegramError as error:
            _LOGGER.warning("hand-off notice not delivered (%s)", type(error).__name__)
            continue
        sent.append(Notice(chat_id, message.message_id))
    return sent


async def prepare(context: DeflectContext, referral: Referral, chat_id: int,
                  alternatives: Iterable[tuple[str, float]]) -> tuple[HandoffState, bool]:
    """The hand-off of a referral just logged, before its confirmation is shown (whose
    buttons it gives: `officer_buttons`), and whether an earlier press began it already."""
    runtime = context.runtime
    state = await runtime.handoffs.get(referral.id)
    if state is not None:
        return state, True
    return runtime.handoffs.begin(referral, chat_id, str(context.locale), alternatives), False


def first_buttons(context: DeflectContext, state: HandoffState) -> InlineKeyboardMarkup | None:
    return officer_buttons(translations(state.locale), state)


async def begin(update: Update, context: DeflectContext, referral: Referral,
                state: HandoffState, begun: bool) -> None:
    """After the officer's confirmation (never before it): tell the service's staff, if it
    has any, and show in the confirmation that they were told. A repeat press (`begun`)
    shows where the hand-off stands in the confirmation it has just shown again."""
    runtime = context.runtime
    query = update.callback_query
    state.officer_message = (query.message.message_id if query is not None and query.message
                             else None)
    if begun:
        await runtime.handoffs.save(state)
        await show_officer(context.bot, runtime, referral, state)
        return
    notices = await _notify(context.bot, runtime, referral, state)
    await runtime.handoffs.asked(state, notices)
    if notices:
        await show_officer(context.bot, runtime, referral, state)


def _button(update: Update) -> tuple[CallbackQuery, str, str] | None:
    """The pressed button's query, referral id and action ("<prefix>:<id>:<action>")."""
    query = update.callback_query
    if query is None or query.data is None or update.effective_user is None:
        return None
    _prefix, referral_id, action = query.data.split(":")
    return query, referral_id, action


async def staff_pressed(update: Update, context: DeflectContext) -> None:
    """A staff member's answer, or the person's arrival, on a notice."""
    _ = context.translator.gettext
    pressed, user = _button(update), update.effective_user
    if pressed is None or user is None:
        return
    query, referral_id, action = pressed
    runtime = context.runtime
    referral = await runtime.referrals.get(referral_id)
    if referral is None:
        await query.answer(_("This step has expired."))
        return
    membership = await runtime.members.membership(user.id)
    if (membership is None or membership.role is not Role.SERVICE
            or referral.service_id not in membership.services):
        await query.answer(_("This referral is not for a service you work at."))
        return
    state = await runtime.handoffs.get(referral_id)
    if action == ARRIVED:
        before = await runtime.referrals.record_arrival(referral_id)
        await query.answer(_("Arrival recorded.") if before is not Outcome.ENGAGED
                           else _("Arrival was already recorded."))
        if state is not None and state.service_id == referral.service_id:
            await show_notices(context.bot, runtime, referral, state, arrived=True)
            await show_officer(context.bot, runtime, referral, state, arrived=True)
            await runtime.handoffs.end(referral_id)
        else:
            await query.edit_message_reply_markup(None)
        return
    if state is None or state.service_id != referral.service_id:
        await query.answer(_("This step has expired."))
        return
    if state.answer is not None:
        await query.answer(_("A colleague has answered already."))
        return
    await runtime.handoffs.answered(state, Answer(action))
    await query.answer()
    await show_notices(context.bot, runtime, referral, state)
    await show_officer(context.bot, runtime, referral, state)


async def officer_pressed(update: Update, context: DeflectContext) -> None:
    """The officer's buttons on the confirmation: how the person travels, the service was
    closed or turned them away, the next nearest open service."""
    _ = context.translator.gettext
    pressed, chat = _button(update), update.effective_chat
    if pressed is None or chat is None:
        return
    query, referral_id, action = pressed
    runtime = context.runtime
    state = await runtime.handoffs.get(referral_id)
    referral = await runtime.referrals.get(referral_id)
    if state is None or referral is None or state.officer_chat != chat.id:
        await query.answer(_("This step has expired."))
        return
    if action in (WALK, DRIVE):
        if state.travel is None:
            state.travel = Travel.WALKING if action == WALK else Travel.DRIVEN
            await runtime.handoffs.save(state)
            await show_notices(context.bot, runtime, referral, state)
        await query.answer()
    elif action == REPORT:
        if not state.reported:
            await runtime.directory.live.report_closed(state.service_id)
            state.reported = True
            await runtime.handoffs.save(state)
        await query.answer(_("Thank you: reported."))
    elif action.startswith(NEXT):
        if action != f"{NEXT}{len(state.tried)}":  # this move was made already
            await query.answer(_("Moved already."))
            return
        if not await _move(update, context, referral, state):
            return
        referral = await runtime.referrals.get(referral_id) or referral
    await show_officer(context.bot, runtime, referral, state)


async def _move(update: Update, context: DeflectContext, referral: Referral,
                state: HandoffState) -> bool:
    """Move the referral to the next nearest service open now; False if there is none."""
    _ = context.translator.gettext
    runtime = context.runtime
    query = update.callback_query
    assert query is not None
    untried = [s for s, _d in state.alternatives if s not in state.tried and s != state.service_id]
    found = runtime.handoffs.next_service(state, await runtime.directory.open_now(untried))
    if found is None:
        await query.answer(_("No other service from the results is open now: call first, or "
                             "start a new checklist."), show_alert=True)
        return False
    old_notices = list(state.notices)
    await runtime.handoffs.move(state, *found)
    await query.answer()
    await show_notices(context.bot, runtime, referral, state, old_notices, moved_away=True)
    moved = await runtime.referrals.get(referral.id) or referral
    await runtime.handoffs.asked(state, await _notify(context.bot, runtime, moved, state))
    service = (await runtime.directory.services_by_id([found[0]])).get(found[0])
    chat = update.effective_chat
    if service is not None and chat is not None:
        await chat.send_venue(latitude=service.lat, longitude=service.lon, title=service.name,
                              address=service.address or service.name)
    return True


async def no_answer(bot: Bot, runtime: Runtime, now: float | None = None) -> int:
    """Tell officers whose service's staff have not answered in time; returns how many."""
    told = 0
    for state in await runtime.handoffs.due(now):
        referral = await runtime.referrals.get(state.referral_id)
        if referral is None:
            await runtime.handoffs.end(state.referral_id)
            continue
        await runtime.handoffs.no_answer(state)
        translator = translations(state.locale)
        name = await _name(runtime, state.service_id, state.locale)
        try:
            await bot.send_message(state.officer_chat, translator.gettext(
                "No answer from %(name)s within %(minutes)d minutes: call them first.")
                % {"name": name, "minutes": round(runtime.handoffs.minutes)})
        except TelegramError as error:
            _LOGGER.warning("no-answer notice not delivered (%s)", type(error).__name__)
        await show_officer(bot, runtime, referral, state)
        told += 1
    return told


async def no_answer_job(context: DeflectContext) -> None:
    """The repeating job (see bot/app.py)."""
    await no_answer(context.bot, context.runtime)


def build_handoff_handlers() -> list[BaseHandler[Update, DeflectContext, None]]:
    """The notice's and the confirmation's buttons; before the catch-all for stale ones."""
    return [CallbackQueryHandler(staff_pressed, pattern=STAFF_PATTERN),
            CallbackQueryHandler(officer_pressed, pattern=OFFICER_PATTERN)]
