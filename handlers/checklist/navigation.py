"""Moving about the conversation rather than answering it: Back, the language switch, Cancel,
input that answers no step, and the timeout."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot.i18n import available_locales, language_name
from bot.runtime import DeflectContext
from handlers.checklist.prompts import (
    ask_consent,
    ask_eligibility,
    ask_location,
    ask_needs,
    ask_pathway,
    ask_safety,
    show_overdose,
)
from handlers.checklist.results import show_results
from handlers.checklist.shared import END, answers_button, expired, pressed, reply, show
from handlers.common import (
    Draft,
    Step,
    button,
    draft_of,
    end_draft,
    keyboard,
    nonce_matches,
    value_of,
)
from handlers.ui import Prefix

# Each step's question, to re-ask after Back or a language switch (results are re-shown with
# show_results: Back from the results goes to the location question).
_PROMPTS = {
    Step.SAFETY: ask_safety, Step.PATHWAY: ask_pathway,
    Step.ELIGIBILITY: ask_eligibility, Step.CONSENT: ask_consent, Step.NEEDS: ask_needs,
    Step.LOCATION: ask_location, Step.OVERDOSE: show_overdose,
}


async def go_back(update: Update, context: DeflectContext) -> int | None:
    """Back to the previous question, answers kept."""
    draft = draft_of(context)
    if draft is None:
        return END
    if update.callback_query:
        if not nonce_matches(update, draft):
            await expired(update, context)
            return None
        await pressed(update)
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
    await pressed(update)
    value = value_of(update)
    if value == "lang":
        _ = context.translator.gettext
        rows = [[button(language_name(code), Prefix.NAV, draft, f"lang-{code}")]
                for code in available_locales()]
        await show(update, _("Show this conversation in:"), keyboard(rows))
        return None
    code = value.removeprefix("lang-")
    if code in available_locales():
        draft.locale = code
    step = draft.current or Step.SAFETY
    if step is Step.RESULTS:
        await show_results(update, context, draft)
    else:
        await _PROMPTS[step](update, context, draft)
    return None


@answers_button
async def _cancel_button(update: Update, context: DeflectContext, draft: Draft) -> int | None:
    await pressed(update)
    return await cancel(update, context)


async def cancel(update: Update, context: DeflectContext) -> int:
    """/cancel: end the conversation; nothing is logged."""
    _ = context.translator.gettext
    end_draft(context)
    text = _("Cancelled. Nothing was logged. /start to begin again.")
    if update.callback_query is not None:
        await show(update, text)
    else:
        await reply(update, text, reply_markup=ReplyKeyboardRemove())
    return END


async def wrong_input(update: Update, context: DeflectContext) -> int | None:
    """Anything that is not an answer to the current step: a short hint, no change."""
    _ = context.translator.gettext
    message = update.effective_message
    if message is None:
        return None
    await message.reply_text(_("Please use the buttons above, or /cancel to stop."))
    return None


async def timed_out(update: Update, context: DeflectContext) -> None:
    """The conversation sat idle too long: its answers are dropped."""
    _ = context.translator.gettext
    end_draft(context)
    await reply(update, _("This conversation timed out; nothing was logged. /start to begin "
                          "again."), reply_markup=ReplyKeyboardRemove())

