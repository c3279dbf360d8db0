"""The answers given with buttons: safety, after the overdose steps, pathway, eligibility,
consent and needs. Each records its answer and asks the next question."""

from __future__ import annotations

from telegram import Update

from bot.runtime import DeflectContext
from directory.model import NEEDS, Need
from handlers.checklist.prompts import (
    ask_eligibility,
    ask_location,
    ask_needs,
    ask_pathway,
    show_overdose,
)
from handlers.checklist.shared import END, answers_button, expired, need_label, pressed, show
from handlers.common import Draft, Step, end_draft, value_of
from members import Role
from referrals.model import Pathway, Referral


@answers_button
async def safety_answer(update: Update, context: DeflectContext, draft: Draft
                        ) -> int | None:
    """Yes: emergency number and naloxone steps first. No: on to the pathway."""
    await pressed(update)
    draft.history.append(Step.SAFETY)
    if value_of(update) == "yes":
        return await show_overdose(update, context, draft)
    return await ask_pathway(update, context, draft)


@answers_button
async def after_overdose(update: Update, context: DeflectContext, draft: Draft
                         ) -> int | None:
    """Continue after the overdose steps."""
    await pressed(update)
    return await ask_pathway(update, context, draft)


@answers_button
async def choose_pathway(update: Update, context: DeflectContext, draft: Draft
                         ) -> int | None:
    """Record the pathway; peers cannot choose officer intervention."""
    pathway = Pathway(value_of(update))
    role = draft.membership.role if draft.membership else Role.COMMUNITY
    if pathway is Pathway.OFFICER_INTERVENTION and role is not Role.OFFICER:
        await expired(update, context)
        return None
    await pressed(update)
    draft.pathway = pathway
    draft.history.append(Step.PATHWAY)
    draft.question = 0
    return await ask_eligibility(update, context, draft)


@answers_button
async def eligibility_answer(update: Update, context: DeflectContext, draft: Draft
                             ) -> int | None:
    """An answer that rules deflection out ends the checklist with the reason."""
    await pressed(update)
    question = context.runtime.eligibility[draft.question]
    answered_yes = value_of(update) == "yes"
    if answered_yes == question.ineligible_answer:
        _ = context.translator.gettext
        await show(update, _("Not eligible for deflection. %(reason)s") % {
            "reason": question.explanation_in(str(context.locale))})
        end_draft(context)
        return END
    draft.history.append(Step.ELIGIBILITY)
    draft.question += 1
    return await ask_eligibility(update, context, draft)


@answers_button
async def consent_answer(update: Update, context: DeflectContext, draft: Draft
                         ) -> int | None:
    """No: a leave-behind message and a declined contact in the log (no service)."""
    await pressed(update)
    if value_of(update) == "no":
        _ = context.translator.gettext
        referral = Referral.made_by(draft.membership,
                                    pathway=draft.pathway or Pathway.ACTIVE_OUTREACH,
                                    consent=False)
        logged = await context.runtime.referrals.record(referral)
        context.bot_data.metrics.referral_logged(referral, logged)
        username = context.bot.username
        await show(update, _(
            "Recorded as declined. Leave this with the person:\n\n"
            "Help is there when you want it. Message @%(bot)s on Telegram and tap Find help: "
            "no account, no police.") % {"bot": username})
        end_draft(context)
        return END
    draft.history.append(Step.CONSENT)
    return await ask_needs(update, context, draft)


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
        await pressed(update)
        draft.history.append(Step.NEEDS)
        chosen = ", ".join(need_label(context, need) for need in NEEDS if need in draft.needs)
        await query.edit_message_text(_("Needs: %(needs)s") % {"needs": chosen})
        return await ask_location(update, context, draft)
    await query.answer()
    draft.needs ^= {Need(value)}
    return await ask_needs(update, context, draft, edit=True)
