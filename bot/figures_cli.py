"""`deflect stats|export|purge|audit|privacy-check`: a program coordinator's commands."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.keys import KeyRing
from bot.settings import Settings
from directory.i18n import Translator
from referrals import audit
from referrals import figures as stats
from referrals.followups import FollowUps
from referrals.retention import purge
from storage import open_storage
from storage.sqlite.privacy import Ages, check

COMMANDS = ("stats", "export", "purge", "audit", "privacy-check")


def add_commands(commands: Any, db_help: str, translator: Translator) -> None:
    _ = translator.gettext
    for name, summary in (("stats", _("program figures, small counts withheld")),
                          ("export", _("write the figures table to a CSV file"))):
        command = commands.add_parser(name, help=summary)
        command.add_argument("--from", dest="start", required=True, type=_day,
                             metavar="YYYY-MM-DD")
        command.add_argument("--to", dest="end", required=True, type=_day, metavar="YYYY-MM-DD")
        command.add_argument("--agency", help=_("one agency's figures (its name)"))
        command.add_argument("--by", choices=[b.value for b in stats.By],
                             default="week" if name == "export" else "pathway")
        command.add_argument("--db", help=db_help)
        if name == "stats":
            shape = command.add_mutually_exclusive_group()
            shape.add_argument("--json", action="store_true")
            shape.add_argument("--csv", action="store_true")
        else:
            command.add_argument("--out", required=True, type=Path, metavar="FILE.csv")
    clean = commands.add_parser(
        "purge", help=_("fold old referrals into weekly figures and delete them"))
    clean.add_argument("--older-than", dest="days", type=int, required=True, metavar="DAYS")
    clean.add_argument("--db", help=db_help)
    log = commands.add_parser("audit", help=_("who ran coordinator commands, and when"))
    log.add_argument("--db", help=db_help)
    scan = commands.add_parser(
        "privacy-check", help=_("search the database for identifiers; exit 1 if any"))
    scan.add_argument("--db", help=db_help)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: YYYY-MM-DD") from None


async def run(args: argparse.Namespace, settings: Settings, translator: Translator) -> int:
    _ = translator.gettext
    if args.command == "privacy-check":
        if not settings.db_path.exists():
            sys.stderr.write(_("%(path)s: no such file or folder") % {
                "path": settings.db_path} + "\n")
            return 2
        findings, transient = check(settings.db_path, Ages(
            conversation_idle_s=settings.conversation_minutes * 60,
            retention_days=settings.retention_days, followup_hours=settings.followup_hours))
        for finding in findings:
            sys.stdout.write(finding.render() + "\n")
        for name, rows in sorted(transient.items()):
            sys.stdout.write(translator.ngettext(
                "%(table)s: %(rows)d row held by design while in use",
                "%(table)s: %(rows)d rows held by design while in use", rows)
                % {"table": name, "rows": rows} + "\n")
        sys.stdout.write(translator.ngettext("%(count)d finding", "%(count)d findings",
                                             len(findings)) % {"count": len(findings)} + "\n")
        return 1 if findings else 0
    storage = await open_storage(settings.db_path, await KeyRing(settings).keys())
    try:
        if args.command == "audit":
            for entry in await audit.entries(storage.audit):
                sys.stdout.write(f"{entry.day}\t{entry.member}\t{entry.role}\t{entry.command}\n")
            return 0
        if args.command == "purge":
            if args.days < 1:
                sys.stderr.write(_("--older-than must be at least 1") + "\n")
                return 2
            done = await purge(storage.maintenance, args.days,
                               FollowUps(storage.followups, settings.followup_hours),
                               conversation_idle_s=settings.conversation_minutes * 60)
            await audit.record(storage.audit, None, "cli", f"purge --older-than {args.days}")
            sys.stdout.write(json.dumps(done.__dict__) + "\n")
            return 0
        if args.start > args.end:
            sys.stderr.write(_("--from must not be after --to") + "\n")
            return 2
        agency_id = None
        if args.agency:
            agency = await storage.members.agency_named(args.agency)
            if agency is None:
                sys.stderr.write(_("no agency is called %(name)s") % {"name": args.agency}
                                 + "\n")
                return 2
            agency_id = agency.id
        by = stats.By(args.by)
        categories: dict[str, tuple[str, ...]] = {}
        if by is stats.By.CATEGORY:
            directory = await storage.open_directory(demo=False)
            try:
                categories = await directory.needs_by_service()
            finally:
                await directory.close()
        found, total = await stats.figures(storage.figures, by, start=args.start, end=args.end,
                                           agency_id=agency_id, categories=categories)
        table = stats.table(found, total, by, settings.min_cell)
        await audit.record(storage.audit, None, "cli", f"{args.command} --by {by.value}")
    finally:
        await storage.close()
    if args.command == "export":
        args.out.write_text(_csv(table), encoding="utf-8")
        return 0
    if args.json:
        sys.stdout.write(json.dumps({
            "from": args.start.isoformat(), "to": args.end.isoformat(), "by": by.value,
            "agency": args.agency, "min_cell": table.min_cell, "rows": table.as_records(),
            "engagement_rate": table.engagement_rate,
            "median_days_to_engagement": table.median_days_to_engagement}) + "\n")
    elif args.csv:
        sys.stdout.write(_csv(table))
    else:
        sys.stdout.write(_text(table, translator))
    return 0


def _csv(table: stats.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([table.by.value, *stats.COLUMNS])
    for record in table.as_records():
        writer.writerow(["suppressed" if value is None else value for value in record.values()])
    return out.getvalue()


def _text(table: stats.Table, translator: Translator) -> str:
    _ = translator.gettext
    mark = stats.WITHHELD
    lines = ["\t".join([table.by.value, *stats.COLUMNS])]
    for key, row in zip((*table.keys, "total"), table.cells, strict=True):
        lines.append("\t".join([key, *(cell.show(mark) for cell in row)]))
    if table.engagement_rate is not None:
        lines.append(_("engagement rate: %(rate)d%%")
                     % {"rate": round(100 * table.engagement_rate)})
    if table.median_days_to_engagement is not None:
        lines.append(_("median days from referral to engagement: %(days)s")
                     % {"days": table.median_days_to_engagement})
    lines.append(_("%(mark)s withheld: counts from 1 to %(last)d, and others where a total "
                   "would reveal them.") % {"last": table.min_cell - 1, "mark": mark})
    return "\n".join(lines) + "\n"
