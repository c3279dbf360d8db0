"""What every step of the checklist uses: replies that keep one question on screen, the
answer to a pressed button, the need labels, and the guard that makes an old button stale."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot.runtime import DeflectContext
from directory.model import Need
from handlers.common import Draft, draft_of, nonce_matches
from handlers.ui import NEED_NAMES

END = ConversationHandler.END


def need_label(context: DeflectContext, need: Need) -> str:
    return context.translator.gettext(NEED_NAMES[need])


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat the update came from (message or button press)."""
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text, **kwargs)  # type: ignore[arg-type]


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """The next question: in place of the pressed message, or a new one after a message.

    Editing in place keeps one live question on screen (old buttons disappear with it) and
    costs one Bot API call per step instead of two.
    """
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await reply(update, text, reply_markup=markup)


async def pressed(update: Update) -> None:
    if update.callback_query:
        await update.callback_query.answer()


async def expired(update: Update, context: DeflectContext) -> None:
    _ = context.translator.gettext
    if update.callback_query:
        await update.callback_query.answer(_("This step has expired."))


ButtonStep = Callable[[Update, DeflectContext, Draft], Coroutine[Any, Any, int | None]]
Callback = Callable[[Update, DeflectContext], Coroutine[Any, Any, int | None]]


def answers_button(step: ButtonStep) -> Callback:
    """A button's callback that runs only for the conversation in progress.

    A button from an earlier conversation (its nonce differs) or with no conversation at all
    is answered "this step has expired", and the state stays as it was.
    """
    @functools.wraps(step)
    async def checked(update: Update, context: DeflectContext) -> int | None:
        draft = draft_of(context)
        if draft is None or not nonce_matches(update, draft):
            await expired(update, context)
            return None
        return await step(update, context, draft)

    return checked
