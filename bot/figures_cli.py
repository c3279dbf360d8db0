"""`deflect stats|export|purge|audit|privacy-check`: a program coordinator's commands."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import secrets
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
from storage import Storage, open_storage
from storage.sqlite.privacy import Ages, check

COMMANDS = ("stats", "export", "purge", "audit", "privacy-check")
SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
        return _privacy_check(settings, translator)
    if args.command == "export":  # before anything is computed, or audited
        refused = await asyncio.to_thread(_refused_out, args.out, settings, translator)
        if refused:
            sys.stderr.write(refused + "\n")
            return 2
    storage = await open_storage(settings.storage_location, await KeyRing(settings).keys(),
                                 directory_file=settings.db_path)
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
        table = await _table(args, storage, settings, translator)
        if table is None:
            return 2
        if args.command == "export":
            try:
                await asyncio.to_thread(_write_atomically, args.out, _csv(table))
            except OSError as error:  # nothing written, so nothing audited
                sys.stderr.write(_("%(path)s could not be written (%(reason)s); nothing was "
                                   "exported") % {"path": args.out,
                                                  "reason": error.strerror or error} + "\n")
                return 2
        await audit.record(storage.audit, None, "cli", f"{args.command} --by {table.by.value}")
    finally:
        await storage.close()
    if args.command == "export":
        return 0
    if args.json:
        sys.stdout.write(json.dumps({
            "from": args.start.isoformat(), "to": args.end.isoformat(), "by": table.by.value,
            "agency": args.agency, "min_cell": table.min_cell, "rows": table.as_records(),
            "engagement_rate": table.engagement_rate,
            "median_days_to_engagement": table.median_days_to_engagement}) + "\n")
    elif args.csv:
        sys.stdout.write(_csv(table))
    else:
        sys.stdout.write(_text(table, translator))
    return 0


def _privacy_check(settings: Settings, translator: Translator) -> int:
    _ = translator.gettext
    if settings.database_url:
        # The check reads a SQLite file's bytes and pages; a PostgreSQL database is not a
        # file it can read. Saying "0 findings" of the local directory file would be a
        # definite wrong answer about the log.
        sys.stderr.write(_("privacy-check scans the SQLite file; this installation keeps its "
                           "state on PostgreSQL, which it cannot check. Nothing was "
                           "checked.") + "\n")
        return 2
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


async def _table(args: argparse.Namespace, storage: Storage, settings: Settings,
                 translator: Translator) -> stats.Table | None:
    """The figures `stats` and `export` ask for; None (and a message) for bad arguments."""
    _ = translator.gettext
    if args.start > args.end:
        sys.stderr.write(_("--from must not be after --to") + "\n")
        return None
    agency_id = None
    if args.agency:
        agency = await storage.members.agency_named(args.agency)
        if agency is None:
            sys.stderr.write(_("no agency is called %(name)s") % {"name": args.agency} + "\n")
            return None
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
    return stats.table(found, total, by, settings.min_cell)


def _refused_out(out: Path, settings: Settings, translator: Translator) -> str | None:
    """Why `--out` must not be written, if it must not: it is the database, a file kept
    with it, or another SQLite database (the export would replace it), or has no folder."""
    _ = translator.gettext
    database = settings.db_path
    kept = [database, settings.key_path, *(database.with_name(database.name + suffix)
                                           for suffix in ("-wal", "-shm", "-journal", ".key"))]
    if any(_same_file(out, path) for path in kept):
        return _("--out %(path)s is the database or a file kept with it: give the export "
                 "another name") % {"path": out}
    try:
        with out.open("rb") as existing:
            is_database = existing.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        is_database = False
    if is_database:
        return _("--out %(path)s is an SQLite database, which the export would replace: give "
                 "the export another name") % {"path": out}
    if not out.parent.is_dir():
        return _("--out %(path)s: there is no folder %(folder)s") % {
            "path": out, "folder": out.parent}
    if out.is_dir():
        return _("--out %(path)s is a folder: give a file name") % {"path": out}
    return None


def _same_file(one: Path, other: Path) -> bool:
    """The same path once links are followed, or (a hard link) the same file."""
    try:
        return one.resolve() == other.resolve() or os.path.samefile(one, other)
    except (OSError, RuntimeError):  # either is not there, or a loop of links
        return False


def _write_atomically(path: Path, text: str) -> None:
    """Write a new file beside `path`, then put it in `path`'s place: a write that fails
    leaves no half-written export, and any earlier file as it was."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _csv(table: stats.Table) -> str:
    rows = [[_cell(name) for name in (table.by.value, *stats.COLUMNS)]]
    rows += [["suppressed" if value is None else _cell(value) for value in record.values()]
             for record in table.as_records()]
    lines = []
    for row in rows:
        # A cell holding a CR must be quoted, or a spreadsheet starts a new row (and a new
        # first cell, unquoted) there: the writer quotes only the characters of its line
        # terminator, so it is given "\r\n", and each line then ends in "\n" as before.
        line = io.StringIO()
        csv.writer(line, lineterminator="\r\n").writerow(row)
        lines.append(line.getvalue().removesuffix("\r\n"))
    return "\n".join(lines) + "\n"


def _cell(value: object) -> object:
    """A text a spreadsheet would run as a formula (a service id or category name from an
    imported directory, say) starts with a quote, so it reads as text; numbers stay
    numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


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
