"""A live directory in Telegram: service staff set their service's status in one tap
(`/status`), and a coordinator sees which services nobody has confirmed lately (`/directory`).

Every status expires (directory/live.py): "full until" at the time chosen, every other status
at the end of the service's local day, so no flag outlives its truth.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.runtime import DeflectContext
from directory.i18n import N_
from directory.live import BED_NEEDS, LiveState
from directory.model import Service
from directory.present import describe_live
from handlers.guard import audited, coordinator, sender_membership
from members import Membership, Role

_PREFIX = "st"
FULL_FOR_HOURS = (1, 2, 4)  # "Full until" offers the next whole hours this far ahead
BED_COUNTS = range(6)  # buttons for 0 to 5 beds free; more with /status beds N
STALEST = 15  # services on a coordinator's /directory list
STATE_NAMES = {LiveState.OPEN: N_("open"), LiveState.FULL: N_("full"),
               LiveState.CLOSED: N_("closed")}


async def _staff(update: Update, context: DeflectContext) -> Membership | None:
    membership = await sender_membership(update, context)
    if membership is None or membership.role is not Role.SERVICE or not membership.services:
        chat = update.effective_chat
        if chat is not None:
            await chat.send_message(context.translator.gettext(
                "Only service staff can set a service's status (they join with an invite "
                "for their service)."))
        return None
    return membership


def _full_times(service: Service, now: datetime) -> list[datetime]:
    local = now.astimezone(ZoneInfo(service.timezone or "UTC"))
    top = local.replace(minute=0, second=0, microsecond=0)
    return [top + timedelta(hours=hours) for hours in FULL_FOR_HOURS]


async def _menu(context: DeflectContext, membership: Membership, index: int
                ) -> tuple[str, InlineKeyboardMarkup] | None:
    """The status of one of the member's services, and the buttons that set it."""
    _ = context.translator.gettext
    service_id = membership.services[index]
    runtime = context.runtime
    service = (await runtime.directory.services_by_id([service_id])).get(service_id)
    if service is None:
        return None
    now = datetime.now(UTC)
    live = (await runtime.directory.live.current([service_id], now)).get(service_id)
    said = describe_live(live, now, context.locale, context.translator,
                         zone=service.timezone) if live else None
    text = _("%(name)s now: %(status)s\nSet the status:") % {
        "name": service.name, "status": said or _("no status set")}

    def pressed(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=f"{_PREFIX}:{index}:{action}")

    rows = [[pressed(_("Open"), "open"), pressed(_("Closed today"), "closed")],
            [pressed(_("Full until %(time)s") % {"time": format_time(
                moment, format="short", locale=context.locale)}, f"full-{int(moment.timestamp())}")
             for moment in _full_times(service, now)]]
    if service.categories & BED_NEEDS:
        rows.append([pressed(context.translator.ngettext(
            "%(count)d bed free", "%(count)d beds free", count) % {"count": count},
            f"beds-{count}") for count in BED_COUNTS])
    return text, InlineKeyboardMarkup(rows)


async def status(update: Update, context: DeflectContext) -> None:
    """/status: staff of one service get its buttons at once; of several, a choice first.
    `/status beds N`: beds free beyond the buttons' 0 to 5."""
    _ = context.translator.gettext
    chat = update.effective_chat
    membership = await _staff(update, context)
    if membership is None or chat is None:
        return
    args = context.args or []
    if len(args) == 2 and args[0].lower() == "beds" and args[1].isdigit():
        if len(membership.services) > 1:
            await chat.send_message(_("You work at several services: send /status and "
                                      "choose one."))
        else:
            await _set(update, context, membership, 0, f"beds-{int(args[1])}")
        return
    if len(membership.services) > 1:
        names = await context.runtime.directory.services_by_id(membership.services)
        await chat.send_message(_("Which service?"), reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(names[s].name if s in names else s,
                                   callback_data=f"{_PREFIX}:{i}:menu")]
             for i, s in enumerate(membership.services)]))
        return
    menu = await _menu(context, membership, 0)
    if menu is None:
        await chat.send_message(_("Your service is no longer in the directory."))
        return
    await chat.send_message(menu[0], reply_markup=menu[1])


async def status_pressed(update: Update, context: DeflectContext) -> None:
    _ = context.translator.gettext
    query = update.callback_query
    if query is None or query.data is None:
        return
    membership = await sender_membership(update, context)
    _prefix, index_text, action = query.data.split(":")
    index = int(index_text)
    if (membership is None or membership.role is not Role.SERVICE
            or index >= len(membership.services)):
        await query.answer(_("This step has expired."))
        return
    if action == "menu":
        menu = await _menu(context, membership, index)
        await query.answer()
        if menu is not None:
            await query.edit_message_text(menu[0], reply_markup=menu[1])
        return
    await _set(update, context, membership, index, action)


async def _set(update: Update, context: DeflectContext, membership: Membership, index: int,
               action: str) -> None:
    """Set the status an action names ("open", "closed", "full-<epoch>", "beds-<n>")."""
    _ = context.translator.gettext
    service_id = membership.services[index]
    live = context.runtime.directory.live
    service = (await context.runtime.directory.services_by_id([service_id])).get(service_id)
    kind, _sep, value = action.partition("-")
    try:
        if kind == "open":
            said = await live.set_status(service_id, LiveState.OPEN)
        elif kind == "closed":
            said = await live.set_status(service_id, LiveState.CLOSED)
        elif kind == "full":
            said = await live.set_status(service_id, LiveState.FULL,
                                         until=datetime.fromtimestamp(int(value), UTC))
        else:
            said = await live.set_status(service_id, LiveState.OPEN, beds=int(value))
    except (ValueError, KeyError):
        text = _("That status cannot be set now (a time already past, or beds for a service "
                 "without beds). Send /status again.")
    else:
        text = _("Saved: %(status)s") % {"status": describe_live(
            said, datetime.now(UTC), context.locale, context.translator,
            zone=service.timezone if service else None)
            or _(STATE_NAMES[said.state or LiveState.OPEN])}
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)


async def directory_health(update: Update, context: DeflectContext) -> None:
    """/directory: a coordinator's to-do list, the services nobody has confirmed lately."""
    _ = context.translator.gettext
    chat = update.effective_chat
    membership = await coordinator(update, context,
                                   _("Only a program coordinator can see the directory's "
                                     "health."))
    if membership is None or chat is None:
        return
    await audited(update, context, membership, "/directory")
    locale = context.locale
    rows = await context.runtime.directory.live.health(limit=STALEST)
    lines = [_("Services confirmed least recently (status · arrival · reports in 30 days · "
               "imported):")]
    never = _("never")
    for row in rows:
        lines.append(_("%(name)s: %(status)s · %(arrival)s · %(reports)d · %(imported)s") % {
            "name": row.name,
            "status": f"{_(STATE_NAMES[row.status])} "
                      f"{format_datetime(row.status_updated, 'short', locale=locale)}"
            if row.status and row.status_updated else never,
            "arrival": format_date(row.arrival, "medium", locale=locale)
            if row.arrival else never,
            "reports": row.reports,
            "imported": format_date(row.imported_at.date(), "medium", locale=locale)
            if row.imported_at else never})
    await chat.send_message("\n".join(lines))


def build_live_handlers() -> list[BaseHandler[Update, DeflectContext, None]]:
    private = filters.ChatType.PRIVATE
    return [CommandHandler("status", status, filters=private),
            CommandHandler("directory", directory_health, filters=private),
            CallbackQueryHandler(status_pressed,
                                 pattern=rf"^{_PREFIX}:\d+:(menu|open|closed|full-\d+|beds-\d+)$")]
