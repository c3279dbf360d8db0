"""The one error handler: log with the traceback, tell the user what to do next."""

from __future__ import annotations

import logging

from telegram import Update

from bot.runtime import DeflectContext

_LOGGER = logging.getLogger(__name__)


async def on_error(update: object, context: DeflectContext) -> None:
    """Log first (with exc_info), then a short apology that says what to do."""
    _LOGGER.error("update failed", exc_info=context.error)
    context.bot_data.metrics.handler_errors.labels(
        "update" if isinstance(update, Update) else "job").inc()
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    _ = context.translator.gettext
    try:
        await update.effective_chat.send_message(_(
            "Something went wrong on our side. Try that again; if it keeps failing, /cancel "
            "and /start."))
    except Exception:  # noqa: BLE001 - the network may be why we are here
        _LOGGER.warning("could not tell the user about the error", exc_info=True)
