"""/start, /help, /join, the public overdose button, and what is said outside conversations."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import available_locales, language_name, translations
from bot.runtime import DeflectContext
from directory.i18n import N_
from handlers.checklist import overdose_steps
from handlers.guard import audited, coordinator, sender_membership
from handlers.ui import START_CHECKLIST, START_FIND
from members import JoinResult, Role
from referrals.model import Outcome, Refused, normal_referral_code, shown_code

ROLE_NAMES = {Role.OFFICER: N_("officer"), Role.PEER: N_("peer worker"),
              Role.COORDINATOR: N_("coordinator"), Role.COMMUNITY: N_("member of the public"),
              Role.SERVICE: N_("service staff")}


async def start(update: Update, context: DeflectContext) -> None:
    """Greeting with Find help for anyone, and the checklist for members."""
    _ = context.translator.gettext
    membership = await sender_membership(update, context)
    rows = [[InlineKeyboardButton(_("Find help"), callback_data=START_FIND)]]
    if membership is not None and membership.role in (Role.OFFICER, Role.PEER):
        rows.append([InlineKeyboardButton(_("Start the deflection checklist"),
                                          callback_data=START_CHECKLIST)])
    rows.append([InlineKeyboardButton(_("Someone may be overdosing"),
                                      callback_data="start:overdose")])
    text = _("Deflect finds the nearest service that is open now for drug use, detox, "
             "treatment, naloxone, crisis or shelter.")
    if membership is not None:
        text += "\n" + _("You are a member of %(agency)s.") % {"agency": membership.agency.name}
    await update.effective_chat.send_message(  # type: ignore[union-attr]
        text, reply_markup=InlineKeyboardMarkup(rows))


async def help_command(update: Update, context: DeflectContext) -> None:
    """What each command does."""
    _ = context.translator.gettext
    await update.effective_chat.send_message(_(  # type: ignore[union-attr]
        "/find: the nearest open service for a need\n"
        "/checklist: the deflection checklist (officers and peers)\n"
        "/join CODE: join your agency with an invite code\n"
        "/arrived CODE: confirm a person arrived (coordinators)\n"
        "/invite officer|peer|service ID: an invite code (coordinators)\n"
        "/directory: services confirmed least recently (coordinators)\n"
        "/status: your service's status now (service staff)\n"
        "/language: choose your language\n"
        "/cancel: stop what you are doing\n\n"
        "Someone may be overdosing? Call the emergency number first."))


async def overdose(update: Update, context: DeflectContext) -> None:
    """The public's overdose button: emergency number and naloxone steps."""
    query = update.callback_query
    if query:
        await query.answer()
    membership = await sender_membership(update, context)
    country = membership.agency.country if membership else context.runtime.settings.country
    await update.effective_chat.send_message(  # type: ignore[union-attr]
        overdose_steps(context, country))


async def join(update: Update, context: DeflectContext) -> None:
    """/join CODE: become a member of the agency the code is for."""
    _ = context.translator.gettext
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    code = " ".join(context.args or [])
    if not code:
        await chat.send_message(
            _("Send /join followed by your invite code, e.g. /join ABCDE-23456."))
        return
    result, membership = await context.runtime.members.join(user.id, code)
    if result in (JoinResult.TOO_MANY_TRIES, JoinResult.CEILING):
        await chat.send_message(_("Too many wrong codes. Try again in an hour."))
    elif result is JoinResult.WRONG_CODE or membership is None:
        await chat.send_message(_("That code is not valid or has expired. Check it with your "
                                  "coordinator."))
    elif membership.role is Role.SERVICE:
        names = [await context.runtime.directory.name_of(s) or s for s in membership.services]
        await chat.send_message(_("Welcome: you joined %(agency)s as %(role)s, for %(services)s. "
                                  "You will get a notice when someone is referred to you; "
                                  "/status sets your service's status.")
                                % {"agency": membership.agency.name,
                                   "role": _(ROLE_NAMES[membership.role]),
                                   "services": ", ".join(names)})
    else:
        await chat.send_message(_("Welcome: you joined %(agency)s as %(role)s. /checklist to "
                                  "start.") % {"agency": membership.agency.name,
                                               "role": _(ROLE_NAMES[membership.role])})


async def arrived(update: Update, context: DeflectContext) -> None:
    """/arrived CODE: a coordinator confirms the person got to the service (engaged)."""
    _ = context.translator.gettext
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    membership = await coordinator(update, context,
                                   _("Only a program coordinator can confirm arrivals."))
    if membership is None:
        return
    code = "".join(context.args or [])
    if not code:
        await chat.send_message(_("Send /arrived followed by the referral code, e.g. "
                                  "/arrived 7H5S-3VQK."))
        return
    await audited(update, context, membership, "/arrived")
    runtime = context.runtime
    shown = shown_code(normal_referral_code(code))
    # Only the coordinator's own agency: another agency's code is answered as an unknown one.
    before = await runtime.referrals.confirm_arrival(
        code, agency_id=membership.agency.id, member_key=runtime.members.user_key(user.id))
    if isinstance(before, Refused):
        await chat.send_message(_("Too many unknown codes this hour. Try again later."))
    elif before is None:
        await chat.send_message(_("No referral has the code %(code)s. Nothing was changed.")
                                % {"code": shown})
    elif before is Outcome.ENGAGED:
        await chat.send_message(_("Arrival for %(code)s was already recorded.")
                                % {"code": shown})
    else:
        await chat.send_message(_("Recorded: the person with code %(code)s arrived.")
                                % {"code": shown})


async def language(update: Update, context: DeflectContext) -> None:
    """/language: a button per language; the choice is remembered (under a keyed hash)."""
    _ = context.translator.gettext
    rows = [[InlineKeyboardButton(language_name(code), callback_data=f"setlang:{code}")]
            for code in available_locales()]
    await update.effective_chat.send_message(  # type: ignore[union-attr]
        _("Choose your language:"), reply_markup=InlineKeyboardMarkup(rows))


async def set_language(update: Update, context: DeflectContext) -> None:
    """A language button from /language."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or query.data is None:
        return
    code = query.data.removeprefix("setlang:")
    if code not in available_locales():
        await query.answer(context._("This step has expired."))
        return
    await query.answer()
    await context.runtime.members.set_language(user.id, code)
    _ = translations(code).gettext
    await query.edit_message_text(_("Language: %(language)s. /start to begin.")
                                  % {"language": language_name(code)})


async def group_note(update: Update, context: DeflectContext) -> None:
    """In a group: conversations happen in private only."""
    _ = context.translator.gettext
    await update.effective_message.reply_text(_(  # type: ignore[union-attr]
        "Please message me privately: conversations here would be visible to everyone."))


async def edited(update: Update, context: DeflectContext) -> None:
    """An edited message is not read: not by a conversation (an edited /checklist would
    start it again and drop the answers so far), not by /join (each edit would count as
    another try). In private, a short note says so, except for a live location, which
    edits itself; nothing else sees the update."""
    message = update.effective_message
    chat = update.effective_chat
    if (message is not None and message.location is None and chat is not None
            and chat.type == chat.PRIVATE):
        _ = context.translator.gettext
        await message.reply_text(_("Edits are ignored; send a new message instead."))
    raise ApplicationHandlerStop


def build_edit_handler() -> BaseHandler[Update, DeflectContext, None]:
    """Runs in a group before every other handler (see bot/app.py)."""
    return MessageHandler(filters.UpdateType.EDITED, edited)


async def unknown(update: Update, context: DeflectContext) -> None:
    """An unknown command or a message outside any conversation."""
    _ = context.translator.gettext
    message = update.effective_message
    if message is None:  # edited messages never get here (`edited`, group -2)
        return
    await message.reply_text(_("I did not understand that. /start to begin, /help for help."))


async def stale_button(update: Update, context: DeflectContext) -> None:
    """A button from a finished conversation, or one that was never ours."""
    _ = context.translator.gettext
    if update.callback_query:
        await update.callback_query.answer(_("This step has expired."))


def build_start_handlers() -> list[BaseHandler[Update, DeflectContext, None]]:
    """Commands outside conversations; registered after the conversation (see bot/app.py)."""
    private = filters.ChatType.PRIVATE
    return [
        MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, group_note),
        CommandHandler("start", start, filters=private),
        CommandHandler("help", help_command, filters=private),
        CommandHandler("join", join, filters=private),
        CommandHandler("language", language, filters=private),
        CallbackQueryHandler(set_language, pattern=r"^setlang:\w+$"),
        CommandHandler("arrived", arrived, filters=private),
        CallbackQueryHandler(overdose, pattern=r"^start:overdose$"),
        CallbackQueryHandler(stale_button),
        MessageHandler(private, unknown),
    ]
