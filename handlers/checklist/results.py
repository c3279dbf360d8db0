"""The end of both flows: the search from a place, the results page with its buttons, and the
referral (logged for the checklist, a code for find help) with its confirmation."""

from __future__ import annotations

import logging
import uuid

from telegram import ReplyKeyboardRemove, Update
from telegram.error import TelegramError

from bot.runtime import DeflectContext
from directory.present import describe, describe_live, format_distance
from directory.search import Match, nearest, query_time
from handlers import handoff
from handlers.checklist.shared import END, answers_button, expired, pressed, reply, show
from handlers.common import Draft, Flow, Step, button, end_draft, keyboard, nav_row, value_of
from handlers.ui import Prefix
from referrals.model import Pathway, Referral, new_referral_code, shown_code

_LOGGER = logging.getLogger(__name__)

SEARCH_RADIUS_M = 80_000  # further than this is no warm hand-off
PAGE = 3


async def search(update: Update, context: DeflectContext, draft: Draft) -> int:
    """The place is known (draft.lat, draft.lon): the first page of results."""
    _ = context.translator.gettext
    await reply(update, _("Looking for open services near you…"),
                reply_markup=ReplyKeyboardRemove())
    if draft.history[-1:] != [Step.LOCATION]:
        draft.history.append(Step.LOCATION)
    draft.shown = PAGE
    draft.referral_id = uuid.uuid4().hex
    draft.referral_code = new_referral_code()
    return await show_results(update, context, draft)


async def show_results(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.RESULTS
    assert draft.lat is not None
    assert draft.lon is not None
    moment = query_time(draft.lat, draft.lon, None)
    with context.bot_data.metrics.search.time():
        found = await nearest(context.runtime.directory, draft.lat, draft.lon, draft.needs,
                              moment, limit=draft.shown + (0 if draft.include_closed else PAGE),
                              within_m=SEARCH_RADIUS_M)
    if not draft.include_closed:
        found = [m for m in found if not m.closed]
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
            said = describe_live(match.live, moment, locale, context.translator,
                                 zone=service.timezone) if match.live else None
            if said:
                lines.append("   " + said)
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
    refer_buttons = [button(label % {"number": n}, Prefix.RESULT, draft, f"refer:{n}")
                     for n in range(1, len(draft.matches) + 1)]
    rows = [refer_buttons[i:i + 3] for i in range(0, len(refer_buttons), 3)]
    extra = [button(_("More"), Prefix.RESULT, draft, "more")]
    if not draft.include_closed:
        extra.append(button(_("Include closed"), Prefix.RESULT, draft, "closed"))
    rows.append(extra)
    rows.append(nav_row(context, draft))
    await show(update, text, keyboard(rows))
    return Step.RESULTS


@answers_button
async def results_action(update: Update, context: DeflectContext, draft: Draft
                         ) -> int | None:
    """Refer here (checklist) or get a code (find help); More; Include closed."""
    value = value_of(update)
    if value == "more":
        await pressed(update)
        draft.shown += PAGE
        return await show_results(update, context, draft)
    if value == "closed":
        await pressed(update)
        draft.include_closed = True
        return await show_results(update, context, draft)
    number = int(value.split(":")[1])
    if not 1 <= number <= len(draft.matches) or draft.referral_id is None:
        await expired(update, context)
        return None
    await pressed(update)
    return await refer(update, context, draft, draft.matches[number - 1], draft.referral_id)


async def refer(update: Update, context: DeflectContext, draft: Draft, match: Match,
                referral_id: str) -> int:
    _ = context.translator.gettext
    runtime = context.runtime
    membership = draft.membership if draft.flow is Flow.CHECKLIST else None
    referral = Referral.made_by(
        membership, pathway=draft.pathway if draft.flow is Flow.CHECKLIST and draft.pathway
        else Pathway.SELF_REFERRAL, needs=draft.needs, service_id=match.service.id,
        lat=draft.lat, lon=draft.lon, distance_m=match.distance_m, consent=True,
        referral_id=referral_id, code=draft.referral_code)
    chat = update.effective_chat
    reminder = None
    if membership is not None and chat is not None and chat.type == chat.PRIVATE:
        reminder = runtime.followups.plan(chat.id, str(context.own_locale))
    # Logged, with its reminders, in one transaction before anything is sent: a confirmation
    # that fails to arrive loses no referral, and a failure here writes nothing (the same
    # press works again). What is shown is what the log holds: after a restart, a second
    # press of any "Refer" button shows the referral logged by the first, its code and its
    # service, and writes nothing.
    logged = await runtime.referrals.record(referral, reminder)
    context.bot_data.metrics.referral_logged(referral, logged)
    end_draft(context)
    if logged.service_id != match.service.id:
        match = next((m for m in draft.matches if m.service.id == logged.service_id), match)
    service = match.service if match.service.id == logged.service_id else None
    name = service.name if service is not None else (
        await runtime.directory.name_of(logged.service_id) if logged.service_id else None
    ) or _("the service")
    if draft.flow is Flow.CHECKLIST:
        text = _("Referral logged. Code: %(code)s\nShow the code at %(name)s.")
    else:
        text = _("Your referral code: %(code)s\nShow it at %(name)s. No name needed.")
    # The warm hand-off of a member's referral: its buttons (the service was closed, next
    # nearest) come with the confirmation; its staff are told after it, never before.
    state = await handoff.prepare(context, logged, chat.id, [
        (m.service.id, m.distance_m) for m in draft.matches if not m.closed]
    ) if reminder is not None and chat is not None else None
    try:
        await show(update, text % {"code": shown_code(logged.code), "name": name},
                   handoff.first_buttons(context, state[0]) if state else None)
    except TelegramError as error:
        # Retries (bot/network.py) have given up. The referral is logged; the member sees
        # the confirmation, with its code, the next time they write to the bot.
        _LOGGER.warning("referral confirmation not delivered (%s)", type(error).__name__)
        user = update.effective_user
        if user is not None:
            await runtime.undelivered.keep(runtime.members.user_key(user.id), logged.id)
        return END
    if chat is not None and service is not None:
        await chat.send_venue(latitude=service.lat, longitude=service.lon, title=service.name,
                              address=service.address or service.name)
        if service.phone:
            await reply(update, _("Phone: %(phone)s") % {"phone": service.phone})
    if state is not None:
        await handoff.begin(update, context, logged, *state)
    return END
