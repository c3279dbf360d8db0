"""The deflection checklist (members) and find-help (anyone): one conversation, two flows.

Checklist: safety -> (overdose steps) -> pathway -> eligibility -> consent -> needs ->
location -> results -> referral. Find help starts at needs and logs nothing unless the person
asks for a referral code. Every step has Back and Cancel; a button from an earlier
conversation answers "this step has expired" and changes nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import uuid
import warnings
from collections.abc import Callable, Coroutine
from gettext import NullTranslations
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.emergency import emergency_number
from bot.i18n import available_locales, language_name
from bot.runtime import DeflectContext
from directory.gazetteer import Place
from directory.hours import State
from directory.model import NEEDS, Need
from directory.present import describe, format_distance
from directory.search import Match, nearest, query_time
from handlers.common import (
    Draft,
    Flow,
    Step,
    button,
    draft_of,
    end_draft,
    keyboard,
    nav_row,
    nonce_matches,
    start_draft,
    value_of,
)
from handlers.guard import sender_membership
from handlers.ui import PATHWAY_NAMES
from members import Role
from referrals.model import Pathway, Referral

_LOGGER = logging.getLogger(__name__)

END = ConversationHandler.END
SEARCH_RADIUS_M = 80_000  # further than this is no warm hand-off
PAGE = 3
_TOKEN = r"[0-9a-f]{6}"
_COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")

def _need_label(context: DeflectContext, need: Need) -> str:
    return _need_labels(context.translator)[need]


@functools.cache
def _need_labels(translator: NullTranslations) -> dict[Need, str]:
    _ = translator.gettext
    return {
        Need.TREATMENT: _("Treatment"), Need.DETOX: _("Detox"),
        Need.MOUD: _("MOUD (methadone, bupe)"), Need.HARM_REDUCTION: _("Harm reduction"),
        Need.NALOXONE: _("Naloxone"), Need.CRISIS: _("Mental-health crisis"),
        Need.SHELTER: _("Shelter"), Need.PEER_SUPPORT: _("Peer support"),
    }


async def _reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat the update came from (message or button press)."""
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text, **kwargs)  # type: ignore[arg-type]


async def _show(update: Update, text: str,
                markup: InlineKeyboardMarkup | None = None) -> None:
    """The next question: in place of the pressed message, or a new one after a message.

    Editing in place keeps one live question on screen (old buttons disappear with it) and
    costs one Bot API call per step instead of two.
    """
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await _reply(update, text, reply_markup=markup)


async def _pressed(update: Update) -> None:
    if update.callback_query:
        await update.callback_query.answer()


# --- entry ----------------------------------------------------------------------------------

async def start_checklist(update: Update, context: DeflectContext) -> int:
    """/checklist: members only; everyone else is told how to join or find help."""
    _ = context.translator.gettext
    if update.callback_query:
        await update.callback_query.answer()
    membership = await sender_membership(update, context)
    if membership is None or membership.role is Role.COMMUNITY:
        await _reply(update, _(
            "The checklist is for officers and peer workers of a deflection program. "
            "Ask your coordinator for an invite code, then send /join CODE.\n"
            "Anyone can use /find to find help now."))
        return END
    draft = start_draft(context, Flow.CHECKLIST, membership)
    return await _ask_safety(update, context, draft)


async def start_find(update: Update, context: DeflectContext) -> int:
    """/find or the Find help button: needs, place, nearest open services."""
    if update.callback_query:
        await update.callback_query.answer()
    draft = start_draft(context, Flow.FIND_HELP, await sender_membership(update, context))
    return await _ask_needs(update, context, draft)


# --- prompts: each sends its question and returns its state ---------------------------------

async def _ask_safety(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.SAFETY
    await _show(update, _("Is anyone in danger or possibly overdosing?"), keyboard([
        [button(_("Yes"), "chk", draft, "yes"), button(_("No"), "chk", draft, "no")],
        nav_row(context, draft),
    ]))
    return Step.SAFETY


def overdose_steps(context: DeflectContext, country: str) -> str:
    _ = context.translator.gettext
    return _(
        "Call %(number)s now.\n"
        "1. Check: no response, slow or no breathing, blue lips.\n"
        "2. Give naloxone: one spray in one nostril.\n"
        "3. Support breathing; recovery position.\n"
        "4. Stay. No response after 2-3 minutes: give a second dose."
    ) % {"number": emergency_number(country)}


async def _ask_pathway(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.PATHWAY
    role = draft.membership.role if draft.membership else Role.COMMUNITY
    offered = [p for p in Pathway
               if not (p is Pathway.OFFICER_INTERVENTION and role is not Role.OFFICER)]
    rows = [[button(_(PATHWAY_NAMES[p]), "path", draft, p.value)] for p in offered]
    await _show(update, _("Which deflection pathway is this?"),
                keyboard([*rows, nav_row(context, draft)]))
    return Step.PATHWAY


async def _ask_eligibility(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.ELIGIBILITY
    questions = context.runtime.eligibility
    if draft.question >= len(questions):
        return await _ask_consent(update, context, draft)
    question = questions[draft.question]
    await _show(update, question.text_in(str(context.locale)), keyboard([
        [button(_("Yes"), "elig", draft, "yes"), button(_("No"), "elig", draft, "no")],
        nav_row(context, draft),
    ]))
    return Step.ELIGIBILITY


async def _ask_consent(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.CONSENT
    await _show(update, _("Does the person agree to be referred?"), keyboard([
        [button(_("Yes"), "consent", draft, "yes"), button(_("No"), "consent", draft, "no")],
        nav_row(context, draft),
    ]))
    return Step.CONSENT


async def _ask_needs(update: Update, context: DeflectContext, draft: Draft,
                     edit: bool = False) -> int:
    _ = context.translator.gettext
    draft.current = Step.NEEDS
    rows = []
    for index in range(0, len(NEEDS), 2):
        rows.append([
            button(("✓ " if need in draft.needs else "") + _need_label(context, need), "need",
                   draft, need.value)
            for need in NEEDS[index:index + 2]
        ])
    rows.append([button(_("Done"), "need", draft, "done")])
    rows.append(nav_row(context, draft))
    query = update.callback_query
    if edit and query is not None:
        await query.edit_message_reply_markup(keyboard(rows))  # ticks only: text unchanged
    else:
        await _show(update, _("What does the person need? Tap all that apply, then Done."),
                    keyboard(rows))
    return Step.NEEDS


async def _ask_location(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.LOCATION
    share = KeyboardButton(_("📍 Share location"), request_location=True)
    markup = ReplyKeyboardMarkup([[share], [_("Back"), _("Cancel")]], resize_keyboard=True,
                                 one_time_keyboard=True)
    await _reply(update, _("Where are you? Tap 📍 Share location."), reply_markup=markup)
    return Step.LOCATION


# --- answers --------------------------------------------------------------------------------

async def _expired(update: Update, context: DeflectContext) -> None:
    _ = context.translator.gettext
    if update.callback_query:
        await update.callback_query.answer(_("This step has expired."))


ButtonStep = Callable[[Update, DeflectContext, Draft], Coroutine[Any, Any, int | None]]
Callback = Callable[[Update, DeflectContext], Coroutine[Any, Any, int | None]]


def answers_button(step: ButtonStep) -> Callback:
    """A button's callback that runs only for the conversation in progress.

    A button from an earlier conversation (its token differs) or with no conversation at all
    is answered "this step has expired", and the state stays as it was.
    """
    @functools.wraps(step)
    async def checked(update: Update, context: DeflectContext) -> int | None:
        draft = draft_of(context)
        if draft is None or not nonce_matches(update, draft):
            await _expired(update, context)
            return None
        return await step(update, context, draft)

    return checked


@answers_button
async def safety_answer(update: Update, context: DeflectContext, draft: Draft
                        ) -> int | None:
    """Yes: emergency number and naloxone steps first. No: on to the pathway."""
    await _pressed(update)
    draft.history.append(Step.SAFETY)
    if value_of(update) == "yes":
        return await _show_overdose(update, context, draft)
    return await _ask_pathway(update, context, draft)


async def _show_overdose(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.OVERDOSE
    country = draft.membership.agency.country if draft.membership else \
        context.runtime.settings.country
    await _show(update, overdose_steps(context, country), keyboard([
        [button(_("Continue when ready"), "od", draft, "continue")],
        nav_row(context, draft, back=False),
    ]))
    return Step.OVERDOSE


@answers_button
async def after_overdose(update: Update, context: DeflectContext, draft: Draft
                         ) -> int | None:
    """Continue after the overdose steps."""
    await _pressed(update)
    return await _ask_pathway(update, context, draft)


@answers_button
async def choose_pathway(update: Update, context: DeflectContext, draft: Draft
                         ) -> int | None:
    """Record the pathway; peers cannot choose officer intervention."""
    pathway = Pathway(value_of(update))
    role = draft.membership.role if draft.membership else Role.COMMUNITY
    if pathway is Pathway.OFFICER_INTERVENTION and role is not Role.OFFICER:
        await _expired(update, context)
        return None
    await _pressed(update)
    draft.pathway = pathway
    draft.history.append(Step.PATHWAY)
    draft.question = 0
    return await _ask_eligibility(update, context, draft)


@answers_button
async def eligibility_answer(update: Update, context: DeflectContext, draft: Draft
                             ) -> int | None:
    """An answer that rules deflection out ends the checklist with the reason."""
    await _pressed(update)
    question = context.runtime.eligibility[draft.question]
    answered_yes = value_of(update) == "yes"
    if answered_yes == question.ineligible_answer:
        _ = context.translator.gettext
        await _show(update, _("Not eligible for deflection. %(reason)s") % {
            "reason": question.explanation_in(str(context.locale))})
        end_draft(context)
        return END
    draft.history.append(Step.ELIGIBILITY)
    draft.question += 1
    return await _ask_eligibility(update, context, draft)


@answers_button
async def consent_answer(update: Update, context: DeflectContext, draft: Draft
                         ) -> int | None:
    """No: a leave-behind message and a declined contact in the log (no service)."""
    await _pressed(update)
    if value_of(update) == "no":
        _ = context.translator.gettext
        referral = Referral.made_by(draft.membership,
                                    pathway=draft.pathway or Pathway.ACTIVE_OUTREACH,
                                    consent=False)
        await context.runtime.referrals.record(referral)
        username = context.bot.username
        await _show(update, _(
            "Recorded as declined. Leave this with the person:\n\n"
            "Help is there when you want it. Message @%(bot)s on Telegram and tap Find help: "
            "no account, no police.") % {"bot": username})
        end_draft(context)
        return END
    draft.history.append(Step.CONSENT)
    return await _ask_needs(update, context, draft)


@answers_button
async def toggle_need(update: Update, context: DeflectContext, draft: Draft
                      ) -> int | None:
    """Tick or untick a need; Done moves on once at least one is ticked."""
    _ = context.translator.gettext
    query = update.callback_query
    assert query is not None
    value = value_of(update)
    if value == "done":
        if not draft.needs:
            await query.answer(_("Tap at least one need first."))
            return Step.NEEDS
        await _pressed(update)
        draft.history.append(Step.NEEDS)
        chosen = ", ".join(_need_label(context, need) for need in NEEDS if need in draft.needs)
        await query.edit_message_text(_("Needs: %(needs)s") % {"needs": chosen})
        return await _ask_location(update, context, draft)
    await query.answer()
    draft.needs ^= {Need(value)}
    return await _ask_needs(update, context, draft, edit=True)


async def got_location(update: Update, context: DeflectContext) -> int | None:
    """A shared location, live location or venue: search from there."""
    draft = draft_of(context)
    message = update.message
    if draft is None or message is None:
        return END
    location = message.location or (message.venue.location if message.venue else None)
    if location is None:
        return None
    draft.lat, draft.lon = location.latitude, location.longitude
    return await _search(update, context, draft)


async def typed_location(update: Update, context: DeflectContext) -> int | None:
    """Typed text at the location step: coordinates work; Back and Cancel too; else a hint."""
    _ = context.translator.gettext
    draft = draft_of(context)
    message = update.message
    if draft is None or message is None or message.text is None:
        return END
    text = message.text.strip()
    if text == _("Back"):
        return await go_back(update, context)
    if text == _("Cancel"):
        return await cancel(update, context)
    match = _COORDINATES.match(text)
    if match:
        lat, lon = float(match[1]), float(match[2])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            draft.lat, draft.lon = lat, lon
            return await _search(update, context, draft)
    places = await _look_up(update, context, text)
    if not places:
        await message.reply_text(_(
            "I couldn't find that place. Tap 📍 Share location below, or type a street and "
            "city, or coordinates like 41.88,-87.63."))
        return None
    if len(places) == 1:
        draft.lat, draft.lon = places[0].lat, places[0].lon
        return await _search(update, context, draft)
    draft.places = [(p.label, p.lat, p.lon) for p in places]
    rows = [[button(label[:60], "loc", draft, str(index))]
            for index, (label, _lat, _lon) in enumerate(draft.places)]
    await _reply(update, _("Which one?"), reply_markup=keyboard([*rows, nav_row(context, draft)]))
    return None


GEOCODER_PATIENCE_S = 3.0  # after this the officer hears "still looking" and may share location


async def _look_up(update: Update, context: DeflectContext, text: str) -> list[Place]:
    """Places for a typed text: the geocoder (cached), else the directory's own entries."""
    _ = context.translator.gettext
    runtime = context.runtime
    lookup = asyncio.ensure_future(
        runtime.geocoder.geocode(text, await runtime.directory.extent()))
    try:
        places = await asyncio.wait_for(asyncio.shield(lookup), GEOCODER_PATIENCE_S)
    except TimeoutError:
        if update.message is not None:
            await update.message.reply_text(_("Still looking… You can also tap 📍 Share "
                                              "location."))
        places = await lookup
    return places or await runtime.directory.places_named(text)


@answers_button
async def choose_place(update: Update, context: DeflectContext, draft: Draft) -> int | None:
    """One of several places that matched what was typed."""
    index = int(value_of(update))
    if not 0 <= index < len(draft.places):
        await _expired(update, context)
        return None
    await _pressed(update)
    _label, draft.lat, draft.lon = draft.places[index]
    return await _search(update, context, draft)


async def _search(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    await _reply(update, _("Looking for open services near you…"),
                 reply_markup=ReplyKeyboardRemove())
    if draft.history[-1:] != [Step.LOCATION]:
        draft.history.append(Step.LOCATION)
    draft.shown = PAGE
    draft.referral_id = uuid.uuid4().hex
    return await _show_results(update, context, draft)


async def _show_results(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.RESULTS
    assert draft.lat is not None
    assert draft.lon is not None
    moment = query_time(draft.lat, draft.lon, None)
    found = await nearest(context.runtime.directory, draft.lat, draft.lon, draft.needs, moment,
                          limit=draft.shown + (0 if draft.include_closed else PAGE),
                          within_m=SEARCH_RADIUS_M)
    if not draft.include_closed:
        found = [m for m in found if m.status.state is not State.CLOSED]
    draft.matches = found[: draft.shown]
    locale = context.locale
    # Miles only where the installation asks for them, and only for readers in English: a
    # Spanish-speaking person in Chicago still reads "1,2 km" formatted their way.
    miles = context.runtime.settings.miles and locale.language == "en"
    if not draft.matches:
        text = _("No open service for that need within %(distance)s.") % {
            "distance": format_distance(SEARCH_RADIUS_M, locale, miles=miles)}
    else:
        lines = [context.translator.ngettext("Nearest service:", "Nearest services:",
                                             len(draft.matches))]
        for number, match in enumerate(draft.matches, start=1):
            service = match.service
            lines.append("\n" + _("%(number)d. %(name)s") % {"number": number,
                                                              "name": service.name})
            lines.append("   " + _("%(distance)s · %(hours)s") % {
                "distance": format_distance(match.distance_m, locale, miles=miles),
                "hours": describe(match.status, moment, locale, context.translator)})
            details = [service.address] if service.address else []
            if service.walk_in:
                details.append(_("walk-in"))
            if service.phone:
                details.append(service.phone)
            if details:
                lines.append("   " + " · ".join(details))
        text = "\n".join(lines)
    label = _("Refer to %(number)d") if draft.flow is Flow.CHECKLIST else \
        _("Code for %(number)d")
    refer = [button(label % {"number": n}, "res", draft, f"refer:{n}")
             for n in range(1, len(draft.matches) + 1)]
    rows = [refer[i:i + 3] for i in range(0, len(refer), 3)]
    extra = [button(_("More"), "res", draft, "more")]
    if not draft.include_closed:
        extra.append(button(_("Include closed"), "res", draft, "closed"))
    rows.append(extra)
    rows.append(nav_row(context, draft))
    await _show(update, text, keyboard(rows))
    return Step.RESULTS


@answers_button
async def results_action(update: Update, context: DeflectContext, draft: Draft
                         ) -> int | None:
    """Refer here (checklist) or get a code (find help); More; Include closed."""
    value = value_of(update)
    if value == "more":
        await _pressed(update)
        draft.shown += PAGE
        return await _show_results(update, context, draft)
    if value == "closed":
        await _pressed(update)
        draft.include_closed = True
        return await _show_results(update, context, draft)
    number = int(value.split(":")[1])
    if not 1 <= number <= len(draft.matches) or draft.referral_id is None:
        await _expired(update, context)
        return None
    await _pressed(update)
    return await _refer(update, context, draft, draft.matches[number - 1], draft.referral_id)


async def _refer(update: Update, context: DeflectContext, draft: Draft, match: Match,
                 referral_id: str) -> int:
    _ = context.translator.gettext
    membership = draft.membership if draft.flow is Flow.CHECKLIST else None
    referral = Referral.made_by(
        membership, pathway=draft.pathway if draft.flow is Flow.CHECKLIST and draft.pathway
        else Pathway.SELF_REFERRAL, needs=draft.needs, service_id=match.service.id,
        lat=draft.lat, lon=draft.lon, distance_m=match.distance_m, consent=True,
        referral_id=referral_id)
    # Logged before anything is sent: a confirmation that fails to arrive loses no referral.
    await context.runtime.referrals.record(referral)
    end_draft(context)
    chat = update.effective_chat
    if membership is not None and chat is not None and chat.type == chat.PRIVATE:
        await context.runtime.followups.schedule(referral.id, chat.id,
                                                 str(context.own_locale))
    if draft.flow is Flow.CHECKLIST:
        text = _("Referral logged. Code: %(code)s\nShow the code at %(name)s.")
    else:
        text = _("Your referral code: %(code)s\nShow it at %(name)s. No name needed.")
    try:
        await _show(update, text % {"code": referral.code, "name": match.service.name})
    except TelegramError as error:
        # Retries (bot/network.py) have given up. The referral is logged; the member sees
        # the confirmation, with its code, the next time they write to the bot.
        _LOGGER.warning("referral confirmation not delivered (%s)", type(error).__name__)
        user = update.effective_user
        if user is not None:
            await context.runtime.undelivered.keep(context.runtime.members.user_key(user.id),
                                                   referral.id)
        return END
    if chat is not None:
        service = match.service
        await chat.send_venue(latitude=service.lat, longitude=service.lon, title=service.name,
                              address=service.address or service.name)
        if service.phone:
            await _reply(update, _("Phone: %(phone)s") % {"phone": service.phone})
    return END


# --- navigation and wrong input --------------------------------------------------------------

_PROMPTS = {
    Step.SAFETY: _ask_safety, Step.PATHWAY: _ask_pathway,
    Step.ELIGIBILITY: _ask_eligibility, Step.CONSENT: _ask_consent, Step.NEEDS: _ask_needs,
    Step.LOCATION: _ask_location, Step.OVERDOSE: _show_overdose,
}


async def go_back(update: Update, context: DeflectContext) -> int | None:
    """Back to the previous question, answers kept."""
    draft = draft_of(context)
    if draft is None:
        return END
    if update.callback_query:
        if not nonce_matches(update, draft):
            await _expired(update, context)
            return None
        await _pressed(update)
    if not draft.history:
        return None
    step = draft.history.pop()
    if step is Step.ELIGIBILITY and draft.question > 0:
        draft.question -= 1
    return await _PROMPTS[step](update, context, draft)


async def navigate(update: Update, context: DeflectContext) -> int | None:
    """The Back, Cancel and Language buttons."""
    value = value_of(update)
    if value == "back":
        return await go_back(update, context)
    if value.startswith("lang"):
        return await _switch_language(update, context)
    return await _cancel_button(update, context)


@answers_button
async def _switch_language(update: Update, context: DeflectContext, draft: Draft
                           ) -> int | None:
    """"Language": the languages to pick from; a pick re-shows the same question in it, for
    this conversation only (the person being helped may read another language)."""
    await _pressed(update)
    value = value_of(update)
    if value == "lang":
        _ = context.translator.gettext
        rows = [[button(language_name(code), "nav", draft, f"lang-{code}")]
                for code in available_locales()]
        await _show(update, _("Show this conversation in:"), keyboard(rows))
        return None
    code = value.removeprefix("lang-")
    if code in available_locales():
        draft.locale = code
    step = draft.current or Step.SAFETY
    if step is Step.RESULTS:
        await _show_results(update, context, draft)
    else:
        await _PROMPTS[step](update, context, draft)
    return None


@answers_button
async def _cancel_button(update: Update, context: DeflectContext, draft: Draft) -> int | None:
    await _pressed(update)
    return await cancel(update, context)


async def cancel(update: Update, context: DeflectContext) -> int:
    """/cancel: end the conversation; nothing is logged."""
    _ = context.translator.gettext
    end_draft(context)
    text = _("Cancelled. Nothing was logged. /start to begin again.")
    if update.callback_query is not None:
        await _show(update, text)
    else:
        await _reply(update, text, reply_markup=ReplyKeyboardRemove())
    return END


async def wrong_input(update: Update, context: DeflectContext) -> int | None:
    """Anything that is not an answer to the current step: a short hint, no change."""
    _ = context.translator.gettext
    message = update.effective_message
    if message is None:
        return None
    if update.edited_message is not None:
        if update.edited_message.location is None:  # live locations edit themselves
            await message.reply_text(_("Edits are ignored; send a new message instead."))
        return None
    await message.reply_text(_("Please use the buttons above, or /cancel to stop."))
    return None


async def timed_out(update: Update, context: DeflectContext) -> None:
    """The conversation sat idle too long: its answers are dropped."""
    _ = context.translator.gettext
    end_draft(context)
    await _reply(update, _("This conversation timed out; nothing was logged. /start to begin "
                           "again."), reply_markup=ReplyKeyboardRemove())


def build_checklist_handler(conversation_minutes: int) -> ConversationHandler[DeflectContext]:
    """The conversation: entry points, one list of handlers per step, fallbacks."""
    private = filters.ChatType.PRIVATE
    paths = "|".join(p.value for p in Pathway)
    needs = "|".join(n.value for n in Need)

    def answer(prefix: str) -> str:
        return rf"^{prefix}:{_TOKEN}:(yes|no)$"

    steps: dict[object, list[BaseHandler[Update, DeflectContext, object]]] = {
        Step.SAFETY: [CallbackQueryHandler(safety_answer, pattern=answer("chk"))],
        Step.OVERDOSE: [CallbackQueryHandler(after_overdose, pattern=rf"^od:{_TOKEN}:continue$")],
        Step.PATHWAY: [CallbackQueryHandler(choose_pathway, pattern=rf"^path:{_TOKEN}:({paths})$")],
        Step.ELIGIBILITY: [CallbackQueryHandler(eligibility_answer,
                                                pattern=answer("elig"))],
        Step.CONSENT: [CallbackQueryHandler(consent_answer, pattern=answer("consent"))],
        Step.NEEDS: [CallbackQueryHandler(toggle_need, pattern=rf"^need:{_TOKEN}:({needs}|done)$")],
        Step.LOCATION: [
            MessageHandler(filters.UpdateType.MESSAGE & (filters.LOCATION | filters.VENUE),
                           got_location),
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND,
                           typed_location),
            CallbackQueryHandler(choose_place, pattern=rf"^loc:{_TOKEN}:[0-4]$"),
        ],
        Step.RESULTS: [CallbackQueryHandler(
            results_action, pattern=rf"^res:{_TOKEN}:(refer:[1-9]|more|closed)$")],
        ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out),
                                      CallbackQueryHandler(timed_out)],
    }
    with warnings.catch_warnings():
        # Conversations are per chat and user, not per message, by design: PTB warns that
        # callback queries are then not tracked per message, which is what we want.
        warnings.filterwarnings("ignore", category=PTBUserWarning,
                                message=".*per_message=False.*")
        return ConversationHandler(
            entry_points=[
                CommandHandler("checklist", start_checklist, filters=private),
                CommandHandler("find", start_find, filters=private),
                CallbackQueryHandler(start_checklist, pattern=r"^start:checklist$"),
                CallbackQueryHandler(start_find, pattern=r"^start:find$"),
            ],
            states=steps,
            fallbacks=[
                CommandHandler("cancel", cancel),
                CallbackQueryHandler(navigate,
                                     pattern=rf"^nav:{_TOKEN}:(back|cancel|lang|lang-\w+)$"),
                MessageHandler(filters.ALL & ~filters.COMMAND, wrong_input),
            ],
            name="deflect",
            persistent=True,
            allow_reentry=True,
            conversation_timeout=conversation_minutes * 60,
        )


