"""`deflect directory ...`: import, check, search, list sources and list the directory's health
(cli_health), from a terminal.

Exit status: 0 done, 2 bad input (nothing changed), as the README says.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TextIO

from babel import Locale

from directory.cli_health import write_health
from directory.geo import parse_lat_lon
from directory.hours import InvalidRegion, parse_region
from directory.i18n import N_, Message, Translator
from directory.importers import (
    FORMATS,
    Problem,
    ReadResult,
    default_source,
    detect_format,
    read_paths,
)
from directory.importers.common import parse_need
from directory.live import Live
from directory.model import Need
from directory.present import describe, describe_live, format_distance
from directory.progress import progress_bar
from directory.search import nearest, query_time
from directory.store import DEMO_SOURCE, Directory

OK = 0
INVALID = 2
_NAMES_SHOWN = 5

# (database path or None, load the demo if empty) -> the directory, closed on exit
OpenDirectory = Callable[[str | None, bool], AbstractAsyncContextManager[Directory]]


def add_commands(parser: argparse.ArgumentParser, db_help: str, translator: Translator) -> None:
    """Attach the directory subcommands to `deflect directory`."""
    _ = translator.gettext
    commands = parser.add_subparsers(dest="directory_command", required=True)
    for name, summary in (("import", _("import a directory file or folder")),
                          ("check", _("validate a file without importing it"))):
        command = commands.add_parser(name, help=summary)
        command.add_argument("path", type=Path, nargs="+",
                             help=_("a file or folder; several files of one format make one "
                                    "source"))
        command.add_argument("--format", choices=FORMATS)
        command.add_argument("--region", help=_("ISO 3166 country[-subdivision] for public "
                             "holidays, e.g. GB-ENG, US-IL, DE-BY"))
        command.add_argument("--encoding", help=_("the files' text encoding if not UTF-8, "
                                                  "e.g. cp1252, utf-16"))
        command.add_argument("--source", help=_("source name (default: file or folder name)"))
        command.add_argument("--needs", metavar="NEED,...",
                             help=_("needs every service of the source meets, added to those "
                                    "read from it, e.g. shelter,peer_support"))
        command.add_argument("--skip-invalid", action="store_true",
                             help=_("import the valid records and list the skipped ones"))
        command.add_argument("--db", help=db_help)
    search = commands.add_parser("search", help=_("the nearest services for a need"))
    search.add_argument("--near", required=True, metavar="LAT,LON")
    search.add_argument("--need", action="append", default=[], choices=[n.value for n in Need])
    search.add_argument("--at", metavar="ISO8601",
                        help=_("when (default now); without an offset: local time there"))
    search.add_argument("--limit", type=int, default=3)
    search.add_argument("--within-km", type=float, help=_("only services this close"))
    search.add_argument("--json", action="store_true")
    search.add_argument("--db", help=db_help)
    sources = commands.add_parser("sources", help=_("list the imported sources"))
    sources.add_argument("--db", help=db_help)
    health = commands.add_parser(
        "health", help=_("every service's last staff status, confirmed arrival, field reports "
                         "and source import, stalest first"))
    health.add_argument("--json", action="store_true")
    health.add_argument("--db", help=db_help)


def main(argv: Sequence[str], open_db: OpenDirectory, translator: Translator, locale: Locale,
         *, db_help: str = "", out: TextIO | None = None, err: TextIO | None = None,
         db_exists: Callable[[str | None], bool] = lambda _path: False) -> int:
    """`deflect directory ARGV...` on its own: the arguments after `directory` parsed as
    `add_commands` defines them and run as `run` runs them (its exit status; bad arguments
    exit as argparse does). `deflect` itself parses its whole command line and calls `run`."""
    parser = argparse.ArgumentParser(prog="deflect directory")
    add_commands(parser, db_help, translator)
    args = parser.parse_args(list(argv))
    return asyncio.run(run(args, open_db, translator, locale, out, err, db_exists))


async def run(args: argparse.Namespace, open_db: OpenDirectory,
              translator: Translator, locale: Locale, out: TextIO | None = None,
              err: TextIO | None = None,
              db_exists: Callable[[str | None], bool] = lambda _path: False) -> int:
    """Run one `deflect directory` command; `db_exists` tells check whether there is a
    database whose other sources it should check ids against (check never creates one)."""
    _ = translator.gettext
    out = out or sys.stdout
    err = err or sys.stderr
    command = args.directory_command
    if command in ("import", "check"):
        return await _import(args, open_db, translator, out, err, db_exists)
    if command == "search":
        return await _search(args, open_db, translator, locale, out, err)
    if command == "health":
        async with open_db(args.db, True) as directory:
            await write_health(directory, translator, out, as_json=bool(args.json))
        return OK
    async with open_db(args.db, True) as directory:
        for source in await directory.sources():
            out.write(translator.ngettext(
                "%(name)s: %(count)d service, %(format)s from %(origin)s, imported %(when)s, "
                "region %(region)s",
                "%(name)s: %(count)d services, %(format)s from %(origin)s, imported %(when)s, "
                "region %(region)s", source.services) % {
                "name": source.name, "count": source.services, "format": source.format,
                "origin": source.origin, "when": source.imported_at,
                "region": source.region or _("per service")} + "\n")
    return OK


async def _import(args: argparse.Namespace, open_db: OpenDirectory,
                  translator: Translator, out: TextIO, err: TextIO,
                  db_exists: Callable[[str | None], bool]) -> int:
    """Import or check: the same reading, the same messages and the same exit code; only
    import writes."""
    _ = translator.gettext
    paths: list[Path] = args.path
    for path in paths:
        if not await asyncio.to_thread(path.exists):
            err.write(_("%(path)s: no such file or folder") % {"path": path} + "\n")
            return INVALID
    region = None
    if args.region:
        try:
            country, subdivision = parse_region(args.region)
        except InvalidRegion:
            err.write(_("--region %(region)s: not a region python-holidays knows "
                        "(ISO 3166, e.g. GB-ENG, US-IL, FR)") % {"region": args.region} + "\n")
            return INVALID
        region = country + (f"-{subdivision}" if subdivision else "")
    source = args.source or default_source(paths[0])
    if source == DEMO_SOURCE and paths[0].name != "demo_chicago.csv":
        err.write(_("the source name %(name)s is kept for the bundled demo; choose another "
                    "with --source") % {"name": DEMO_SOURCE} + "\n")
        return INVALID
    needs: set[Need] = set()  # --needs: what the coordinator knows every service meets
    for word in filter(None, (word.strip() for word in (args.needs or "").split(","))):
        need = parse_need(word)
        if need is None:
            err.write(_("--needs %(value)s: not a need (the needs are %(known)s)") % {
                "value": word, "known": ", ".join(Need)} + "\n")
            return INVALID
        needs.add(need)
    kind = args.format or detect_format(paths[0])
    mixed = [path for path in paths if not args.format and detect_format(path) != kind]
    if mixed:
        err.write(_("%(path)s is not %(format)s like %(first)s: give the files of one source "
                    "in one format (or say which with --format)") % {
            "path": mixed[0], "format": kind, "first": paths[0]} + "\n")
        return INVALID
    with progress_bar(err, _("reading")) as progress:
        result = await asyncio.to_thread(read_paths, paths, format=kind, region=region,
                                         source=source, encoding=args.encoding,
                                         progress=progress, needs=needs)
    checking = args.directory_command == "check"
    # check reads the database only if there is one: it never creates it.
    database = open_db(args.db, False) if not checking or db_exists(args.db) else None
    async with database or nullcontext() as directory:
        if directory is not None:
            await _check_ids_elsewhere(directory, result, source, kind)
        code = _verdict(result, bool(args.skip_invalid), translator, out, err)
        if code != OK:
            return code
        if checking:
            out.write(_("check only: the directory is unchanged") + "\n")
            return OK
        assert directory is not None
        kept = result.without_invalid().services
        origin = ", ".join(str(p) for p in paths)
        await directory.replace_source(source, kept, format=kind, origin=origin,
                                       region=region or "")
    out.write(translator.ngettext(
        "imported %(count)d service from %(path)s as source %(source)s",
        "imported %(count)d services from %(path)s as source %(source)s",
        len(kept)) % {"count": len(kept), "path": origin, "source": source} + "\n")
    return OK


def _verdict(result: ReadResult, skipping: bool, translator: Translator, out: TextIO,
             err: TextIO) -> int:
    """Print the problems and the summary; OK if the import may go ahead."""
    _ = translator.gettext
    invalid = result.invalid_records()
    _report(result, translator, err, skipped=skipping)
    kept = len([s for s in result.services if s.id not in invalid])
    if result.version:
        out.write(_("read as %(version)s") % {"version": result.version} + "\n")
    refused = bool(result.file_errors) or (bool(invalid) and not skipping)
    out.write(_("%(imported)d to import, %(repaired)d repaired, %(skipped)d skipped, "
                "%(left_out)d left out (see the warnings), %(out_of_scope)d out of scope "
                "(no need)") % {
        "imported": 0 if refused else kept,
        "repaired": len(result.repaired_records()),
        "skipped": len(invalid) if skipping else 0,
        "left_out": len(result.left_out),
        "out_of_scope": result.not_in_scope} + "\n")
    listed = [(_("skipped") if skipping else _("records with errors"), sorted(
                  f"{result.names[record]} ({record})" if record in result.names else record
                  for record in invalid)),
              (_("left out"), result.left_out),
              (_("out of scope (they meet no deflection need)"), result.out_of_scope)]
    for label, names in listed:
        if names:
            out.write(_names_line(label, names, translator) + "\n")
    if result.file_errors:
        err.write(_("nothing imported; the directory is unchanged") + "\n")
        return INVALID
    if invalid and not skipping:
        err.write(translator.ngettext(
            "nothing imported; the directory is unchanged (%(count)d record has errors; "
            "--skip-invalid imports the others and lists the ones skipped)",
            "nothing imported; the directory is unchanged (%(count)d records have errors; "
            "--skip-invalid imports the others and lists the ones skipped)",
            len(invalid)) % {"count": len(invalid)} + "\n")
        return INVALID
    if kept == 0:
        if result.not_in_scope and not invalid:
            err.write(_("nothing imported: no record meets a deflection need (the needs are "
                        "%(known)s; see the README for how each format's records are "
                        "read)") % {"known": ", ".join(Need)} + "\n")
        else:
            err.write(_("nothing imported; the directory is unchanged") + "\n")
        return INVALID
    return OK


def _names_line(label: str, names: list[str], translator: Translator) -> str:
    """"label: a; b; c and 12 more", the first few of a list of records."""
    shown = names[:_NAMES_SHOWN]
    line = translator.gettext("%(label)s: %(names)s") % {"label": label,
                                                          "names": "; ".join(shown)}
    more = len(names) - len(shown)
    if more:
        line += " " + translator.ngettext("and %(count)d more", "and %(count)d more",
                                          more) % {"count": more}
    return line


async def _check_ids_elsewhere(directory: Directory, result: ReadResult, source: str,
                               kind: str) -> None:
    """An id another source already uses is an error for the record, except the same
    OpenStreetMap object in two OSM sources (a doctor exported again as a dentist)."""
    taken = await directory.ids_elsewhere([s.id for s in result.services], source)
    taken.pop("", None)
    for service, row, file in zip(result.services, result.rows, result.files, strict=True):
        holder = taken.get(service.id)
        if holder is None or holder[0] == DEMO_SOURCE or (kind == "osm" and holder[1] == "osm"):
            continue  # OSM ids name one object: the store merges the needs of both sources
        message = Message(N_("id %(value)r is already used by source %(source)s"),
                          {"value": service.id, "source": holder[0]})
        result.problems.append(Problem(file, row, "id", message, record=service.id))


def _report(result: ReadResult, translator: Translator, err: TextIO,
            skipped: bool = False) -> None:
    _ = translator.gettext
    for problem in result.problems:
        line = problem.render(translator)
        if problem.severity == "warning":
            line = _("%(problem)s (warning)") % {"problem": line}
        elif skipped and problem.record is not None:
            line = _("%(problem)s (record skipped)") % {"problem": line}
        err.write(line + "\n")


async def _search(args: argparse.Namespace, open_db: OpenDirectory,
                  translator: Translator, locale: Locale, out: TextIO, err: TextIO) -> int:
    _ = translator.gettext
    point = parse_lat_lon(args.near)
    if point is None:
        err.write(_("--near %(value)s: expected LAT,LON in degrees, e.g. 41.88,-87.63")
                  % {"value": args.near} + "\n")
        return INVALID
    at = None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            err.write(_("--at %(value)s: expected an ISO 8601 time, e.g. 2025-04-21T09:30")
                      % {"value": args.at} + "\n")
            return INVALID
    if args.limit < 1:
        err.write(_("--limit must be at least 1") + "\n")
        return INVALID
    async with open_db(args.db, True) as directory:
        within = args.within_km * 1000 if args.within_km else None
        matches = await nearest(directory, point[0], point[1], [Need(n) for n in args.need],
                                at, args.limit, within_m=within)
    moment = query_time(point[0], point[1], at)
    if args.json:
        json.dump([{
            "id": m.service.id, "name": m.service.name, "distance_m": round(m.distance_m, 1),
            "status": m.status.state.value,
            "next_change": m.status.next_change.isoformat() if m.status.next_change else None,
            "address": m.service.address, "phone": m.service.phone,
            "needs": sorted(n.value for n in m.service.categories),
            **_live_json(m.live),
        } for m in matches], out, ensure_ascii=False)
        out.write("\n")
        return OK
    if not matches:
        out.write(_("No service found for that need.") + "\n")
    for number, match in enumerate(matches, start=1):
        service = match.service
        said = (describe_live(match.live, moment, locale, translator, zone=service.timezone)
                if match.live is not None else None)
        out.write(f"{number}. {service.name} · {format_distance(match.distance_m, locale)} · "
                  f"{describe(match.status, moment, locale, translator)}"
                  + (f" · {said}" if said else "") + "\n")
        details = [d for d in (service.address, service.phone) if d]
        if service.walk_in:
            details.append(_("walk-in"))
        if details:
            out.write("   " + " · ".join(details) + "\n")
    return OK


def _live_json(live: Live | None) -> dict[str, object]:
    """A result's live fields: the staff status (null when none holds), when it was set and
    until when (ISO 8601, UTC), beds free, and whether it was reported closed recently."""
    state = live.state if live is not None else None
    return {
        "live_status": state.value if state is not None else None,
        "live_updated": live.updated.isoformat() if live and live.updated else None,
        "live_until": live.until.isoformat() if live and live.until else None,
        "beds": live.beds if live is not None else None,
        "reported_closed": bool(live and live.reported_closed),
    }
