"""The questions: how each conversation starts, and each step's question with its buttons.

Every `ask_*` (and `show_overdose`) puts its question on screen, records it as the current
step and returns that step's state; the answers, Back and a language switch all re-ask
through them.
"""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update

from bot.emergency import emergency_number
from bot.runtime import DeflectContext
from directory.model import NEEDS
from handlers.checklist.shared import END, need_label, reply, show
from handlers.common import Draft, Flow, Step, button, keyboard, nav_row, start_draft
from handlers.guard import sender_membership
from handlers.ui import PATHWAY_NAMES, Prefix
from members import Role
from referrals.model import Pathway


async def start_checklist(update: Update, context: DeflectContext) -> int:
    """/checklist: members only; everyone else is told how to join or find help."""
    _ = context.translator.gettext
    if update.callback_query:
        await update.callback_query.answer()
    membership = await sender_membership(update, context)
    # Officers, peers and coordinators; service staff answer referrals, they do not make them.
    if membership is None or membership.role in (Role.COMMUNITY, Role.SERVICE):
        await reply(update, _(
            "The checklist is for officers and peer workers of a deflection program. "
            "Ask your coordinator for an invite code, then send /join CODE.\n"
            "Anyone can use /find to find help now."))
        return END
    draft = start_draft(context, Flow.CHECKLIST, membership)
    return await ask_safety(update, context, draft)


async def start_find(update: Update, context: DeflectContext) -> int:
    """/find or the Find help button: needs, place, nearest open services."""
    if update.callback_query:
        await update.callback_query.answer()
    draft = start_draft(context, Flow.FIND_HELP, await sender_membership(update, context))
    return await ask_needs(update, context, draft)


async def _ask_yes_or_no(update: Update, context: DeflectContext, draft: Draft, step: Step,
                         prefix: Prefix, question: str) -> int:
    """A question answered Yes or No (safety, eligibility, consent), with Back and Cancel."""
    _ = context.translator.gettext
    draft.current = step
    await show(update, question, keyboard([
        [button(_("Yes"), prefix, draft, "yes"), button(_("No"), prefix, draft, "no")],
        nav_row(context, draft),
    ]))
    return step


async def ask_safety(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    return await _ask_yes_or_no(update, context, draft, Step.SAFETY, Prefix.SAFETY,
                                _("Is anyone in danger or possibly overdosing?"))


def overdose_steps(context: DeflectContext, country: str) -> str:
    _ = context.translator.gettext
    return _(
        "Call %(number)s now.\n"
        "1. Check: no response, slow or no breathing, blue lips.\n"
        "2. Give naloxone: one spray in one nostril.\n"
        "3. Support breathing; recovery position.\n"
        "4. Stay. No response after 2-3 minutes: give a second dose."
    ) % {"number": emergency_number(country)}


async def show_overdose(update: Update, context: DeflectContext, draft: Draft) -> int:
    """After "yes, someone is in danger": the emergency number and naloxone steps."""
    _ = context.translator.gettext
    draft.current = Step.OVERDOSE
    country = draft.membership.agency.country if draft.membership else \
        context.runtime.settings.country
    await show(update, overdose_steps(context, country), keyboard([
        [button(_("Continue when ready"), Prefix.OVERDOSE, draft, "continue")],
        nav_row(context, draft, back=False),
    ]))
    return Step.OVERDOSE


async def ask_pathway(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.PATHWAY
    role = draft.membership.role if draft.membership else Role.COMMUNITY
    offered = [p for p in Pathway
               if not (p is Pathway.OFFICER_INTERVENTION and role is not Role.OFFICER)]
    rows = [[button(_(PATHWAY_NAMES[p]), Prefix.PATHWAY, draft, p.value)] for p in offered]
    await show(update, _("Which deflection pathway is this?"),
               keyboard([*rows, nav_row(context, draft)]))
    return Step.PATHWAY


async def ask_eligibility(update: Update, context: DeflectContext, draft: Draft) -> int:
    questions = context.runtime.eligibility
    if draft.question >= len(questions):
        return await ask_consent(update, context, draft)
    return await _ask_yes_or_no(update, context, draft, Step.ELIGIBILITY, Prefix.ELIGIBILITY,
                                questions[draft.question].text_in(str(context.locale)))


async def ask_consent(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    return await _ask_yes_or_no(update, context, draft, Step.CONSENT, Prefix.CONSENT,
                                _("Does the person agree to be referred?"))


async def ask_needs(update: Update, context: DeflectContext, draft: Draft,
                    edit: bool = False) -> int:
    _ = context.translator.gettext
    draft.current = Step.NEEDS
    rows = []
    for index in range(0, len(NEEDS), 2):
        rows.append([
            button(("✓ " if need in draft.needs else "") + need_label(context, need),
                   Prefix.NEED, draft, need.value)
            for need in NEEDS[index:index + 2]
        ])
    rows.append([button(_("Done"), Prefix.NEED, draft, "done")])
    rows.append(nav_row(context, draft))
    query = update.callback_query
    if edit and query is not None:
        await query.edit_message_reply_markup(keyboard(rows))  # ticks only: text unchanged
    else:
        await show(update, _("What does the person need? Tap all that apply, then Done."),
                   keyboard(rows))
    return Step.NEEDS


async def ask_location(update: Update, context: DeflectContext, draft: Draft) -> int:
    _ = context.translator.gettext
    draft.current = Step.LOCATION
    share = KeyboardButton(_("📍 Share location"), request_location=True)
    # A reply keyboard, not inline buttons: only it can ask for the location. Its Back and
    # Cancel arrive as typed text (handlers.checklist.location).
    markup = ReplyKeyboardMarkup([[share], [_("Back"), _("Cancel")]], resize_keyboard=True,
                                 one_time_keyboard=True)
    await reply(update, _("Where are you? Tap 📍 Share location."), reply_markup=markup)
    return Step.LOCATION
