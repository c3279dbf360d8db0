"""Program coordinators' commands: /stats (their agency's figures, small counts withheld, and
a chart of referrals per week by pathway) and /invite (a code for an officer, a peer, or the
staff of directory services). Every use is written to the audit table."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from babel.dates import format_date
from babel.numbers import format_percent
from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.runtime import DeflectContext
from directory.i18n import N_
from handlers.guard import audited, coordinator
from handlers.ui import PATHWAY_NAMES
from members import Role
from referrals import figures as stats
from referrals.charts import referrals_per_week
from referrals.model import Pathway

PERIODS = {"week": 7, "month": 30, "quarter": 91}
# What a coordinator may invite, by the word after /invite, and how the reply names it.
INVITE_ROLES = {"officer": Role.OFFICER, "peer": Role.PEER, "service": Role.SERVICE}
INVITE_ROLE_NAMES = {Role.OFFICER: N_("an officer"), Role.PEER: N_("a peer worker"),
                     Role.SERVICE: N_("service staff")}
INVITE_DAYS = 7


async def stats_command(update: Update, context: DeflectContext) -> None:
    """/stats [week|month|quarter]: coordinators only, their own agency only."""
    _ = context.translator.gettext
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    runtime = context.runtime
    membership = await coordinator(update, context,
                                   _("Only a program coordinator can see the figures."))
    if membership is None:
        return
    period = (context.args or ["month"])[0].lower()
    if period not in PERIODS:
        await chat.send_message(_("Send /stats week, /stats month or /stats quarter."))
        return
    end = datetime.now(UTC).date()
    start = end - timedelta(days=PERIODS[period] - 1)
    min_cell = runtime.settings.min_cell
    await audited(update, context, membership, f"/stats {period}")
    rows, total = await stats.figures(runtime.storage.figures, stats.By.PATHWAY, start=start,
                                      end=end, agency_id=membership.agency.id)
    table = stats.table(rows, total, stats.By.PATHWAY, min_cell)
    mark = stats.WITHHELD
    locale = context.locale

    def name(key: str) -> str:
        return _(PATHWAY_NAMES[Pathway(key)]) if key in Pathway._value2member_map_ else key

    lines = [_("%(agency)s, %(start)s to %(end)s") % {
        "agency": membership.agency.name,
        "start": format_date(start, format="medium", locale=locale),
        "end": format_date(end, format="medium", locale=locale)}]
    totals = table.total()
    lines.append(_("Contacts: %(contacts)s · referrals: %(referrals)s · declined: "
                   "%(declines)s · engaged: %(engaged)s") % {
        key: cell.show(mark) for key, cell in zip(stats.COLUMNS, totals, strict=True)})
    for key, row in zip(table.keys, table.cells[:-1], strict=True):
        lines.append(_("%(pathway)s: %(referrals)s referred, %(declines)s declined") % {
            "pathway": name(key), "referrals": row[1].show(mark),
            "declines": row[2].show(mark)})
    if table.engagement_rate is not None:
        lines.append(_("Engaged at follow-up: %(rate)s") % {
            "rate": format_percent(table.engagement_rate, locale=locale)})
    if table.median_days_to_engagement is not None:
        lines.append(_("Median days from referral to engagement: %(days)s") % {
            "days": table.median_days_to_engagement})
    services, services_total = await stats.figures(
        runtime.storage.figures, stats.By.SERVICE, start=start, end=end,
        agency_id=membership.agency.id)
    top = stats.table(services, services_total, stats.By.SERVICE, min_cell)
    shown = [(key, row[1].value) for key, row in zip(top.keys, top.cells[:-1], strict=True)
             if not row[1].suppressed and row[1].value > 0][:3]
    for key, count in shown:
        lines.append(_("Referred to %(service)s: %(count)d") % {
            "service": await runtime.directory.name_of(key) or key, "count": count})
    note = _("%(mark)s withheld: counts from 1 to %(last)d, and others where a total would "
             "reveal them.") % {"last": min_cell - 1, "mark": mark}
    lines.append(note)
    await chat.send_message("\n".join(lines))
    pivot = await stats.referrals_by_week_and_pathway(
        runtime.storage.figures, start=start, end=end, agency_id=membership.agency.id,
        min_cell=min_cell)
    if not pivot.weeks:
        return
    picture = await asyncio.to_thread(
        referrals_per_week, pivot, [name(p) for p in pivot.pathways],
        _("Referrals per week by pathway"), note)
    await chat.send_photo(picture, caption=_("Referrals per week by pathway"))


async def invite_command(update: Update, context: DeflectContext) -> None:
    """/invite officer|peer, /invite service ID [ID ...]: a one-use code for the
    coordinator's own agency, valid for a week; for service staff, bound to those services."""
    _ = context.translator.gettext
    chat = update.effective_chat
    if chat is None:
        return
    membership = await coordinator(update, context,
                                   _("Only a program coordinator can make invites."))
    if membership is None:
        return
    words = context.args or []
    role = INVITE_ROLES.get(words[0].lower()) if words else None
    services = list(dict.fromkeys(words[1:]))
    if role is None or (role is Role.SERVICE) != bool(services):
        await chat.send_message(_("Send /invite officer, /invite peer, or /invite service "
                                  "followed by the ids of the services, e.g. /invite "
                                  "service demo-001."))
        return
    await audited(update, context, membership, "/invite")
    runtime = context.runtime
    names = {service: await runtime.directory.name_of(service) for service in services}
    unknown = [service for service, name in names.items() if name is None]
    if unknown:
        await chat.send_message(_("No service in the directory has the id %(id)s. No invite "
                                  "was made.") % {"id": ", ".join(unknown)})
        return
    code = await runtime.members.invite(membership.agency, role, uses=1, days=INVITE_DAYS,
                                        services=services)
    lines = [_("Invite code for %(role)s at %(agency)s: %(code)s") % {
                 "role": _(INVITE_ROLE_NAMES[role]), "agency": membership.agency.name,
                 "code": code},
             context.translator.ngettext(
                 "It can be used once and expires in %(count)d day: send it to them, to send "
                 "/join and the code.",
                 "It can be used once and expires in %(count)d days: send it to them, to send "
                 "/join and the code.", INVITE_DAYS) % {"count": INVITE_DAYS}]
    lines += [_("Staff of %(service)s (%(id)s)") % {"service": names[service], "id": service}
              for service in services]
    await chat.send_message("\n".join(lines))


def build_coordinator_handlers() -> list[BaseHandler[Update, DeflectContext, None]]:
    private = filters.ChatType.PRIVATE
    return [CommandHandler("stats", stats_command, filters=private),
            CommandHandler("invite", invite_command, filters=private)]
