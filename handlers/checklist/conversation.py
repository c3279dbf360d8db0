"""The ConversationHandler: its entry points, the handlers of each step with the patterns of
their buttons (handlers.ui), and the fallbacks that work at every step."""

from __future__ import annotations

import warnings

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.runtime import DeflectContext
from handlers import ui
from handlers.checklist.answers import (
    after_overdose,
    choose_pathway,
    consent_answer,
    eligibility_answer,
    safety_answer,
    toggle_need,
)
from handlers.checklist.location import choose_place, got_location, typed_location
from handlers.checklist.navigation import cancel, navigate, wrong_input
from handlers.checklist.prompts import start_checklist, start_find
from handlers.checklist.results import results_action
from handlers.common import Step


def build_checklist_handler() -> ConversationHandler[DeflectContext]:
    """The conversation: entry points, one list of handlers per step, fallbacks. Idle
    conversations are ended by one sweep (handlers/checklist/idle.py), not PTB's timer."""
    private = filters.ChatType.PRIVATE
    steps: dict[object, list[BaseHandler[Update, DeflectContext, object]]] = {
        Step.SAFETY: [CallbackQueryHandler(safety_answer, pattern=ui.SAFETY_ANSWER)],
        Step.OVERDOSE: [CallbackQueryHandler(after_overdose, pattern=ui.OVERDOSE_CONTINUE)],
        Step.PATHWAY: [CallbackQueryHandler(choose_pathway, pattern=ui.PATHWAY_CHOICE)],
        Step.ELIGIBILITY: [CallbackQueryHandler(eligibility_answer,
                                                pattern=ui.ELIGIBILITY_ANSWER)],
        Step.CONSENT: [CallbackQueryHandler(consent_answer, pattern=ui.CONSENT_ANSWER)],
        Step.NEEDS: [CallbackQueryHandler(toggle_need, pattern=ui.NEED_TOGGLE)],
        Step.LOCATION: [
            MessageHandler(filters.UpdateType.MESSAGE & (filters.LOCATION | filters.VENUE),
                           got_location),
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND,
                           typed_location),
            CallbackQueryHandler(choose_place, pattern=ui.PLACE_CHOICE),
        ],
        Step.RESULTS: [CallbackQueryHandler(results_action, pattern=ui.RESULT_ACTION)],
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
                CallbackQueryHandler(start_checklist, pattern=ui.START_CHECKLIST_PRESSED),
                CallbackQueryHandler(start_find, pattern=ui.START_FIND_PRESSED),
            ],
            states=steps,
            fallbacks=[
                CommandHandler("cancel", cancel),
                CallbackQueryHandler(navigate, pattern=ui.NAVIGATION),
                MessageHandler(filters.ALL & ~filters.COMMAND, wrong_input),
            ],
            name="deflect",
            persistent=True,
            allow_reentry=True,
        )
