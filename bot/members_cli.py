"""`deflect invite` and `deflect members list|remove`: who may join, and who leaves.

An invite is for an agency's officers, peers or coordinators, or for the staff of directory
services (`--service`, each id checked against the directory). Removal is by the invite a
member joined with or by agency; it is audited, and without --yes it only says how many.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.keys import KeyRing
from bot.settings import Settings
from directory.i18n import Translator
from members import Agency, Members, Role
from referrals import audit
from storage import Storage, open_storage

COMMANDS = ("invite", "members")
_MEMBER_ROLES = [role.value for role in Role if role is not Role.COMMUNITY]


def add_commands(commands: Any, db_help: str, translator: Translator) -> None:
    _ = translator.gettext
    invite = commands.add_parser(
        "invite", help=_("make an invite code for an agency, or for the staff of services"))
    invite.add_argument("--agency", help=_("the agency (default with --service: the first "
                                           "service's name)"))
    invite.add_argument("--role", choices=_MEMBER_ROLES)
    invite.add_argument("--service", dest="services", action="append", default=[],
                        metavar="ID", help=_("a directory service the staff work at "
                                             "(repeat for several; implies --role service)"))
    invite.add_argument("--uses", type=int, default=1)
    invite.add_argument("--days", type=int, default=7)
    invite.add_argument("--country", help=_("ISO country of a new agency (emergency number)"))
    invite.add_argument("--db", help=db_help)
    members = commands.add_parser("members", help=_("count or remove members"))
    actions = members.add_subparsers(dest="members_command", required=True)
    listing = actions.add_parser("list", help=_("members per agency and role (counts only)"))
    listing.add_argument("--agency", help=_("one agency (its name)"))
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--db", help=db_help)
    remove = actions.add_parser(
        "remove", help=_("remove the members who joined with an invite, or an agency's"))
    which = remove.add_mutually_exclusive_group(required=True)
    which.add_argument("--invite", metavar="CODE", help=_("the invite code they joined with"))
    which.add_argument("--agency", help=_("every member of this agency (its name)"))
    remove.add_argument("--role", choices=_MEMBER_ROLES, help=_("only members in this role"))
    remove.add_argument("--yes", action="store_true", help=_("yes: remove them"))
    remove.add_argument("--db", help=db_help)


async def run(args: argparse.Namespace, settings: Settings, translator: Translator) -> int:
    role = None
    if args.command == "invite":
        checked = _invite_role(args, translator)
        if not isinstance(checked, Role):  # nothing opened, nothing made
            sys.stderr.write(checked + "\n")
            return 2
        role = checked
    keys = await KeyRing(settings).keys()
    storage = await open_storage(settings.storage_location, keys,
                                 directory_file=settings.db_path)
    try:
        members = await Members.open(storage.members, keys)
        if role is not None:
            return await _invite(args, role, settings, members, storage, translator)
        if args.members_command == "list":
            return await _list(args, members, storage, translator)
        return await _remove(args, members, storage, translator)
    finally:
        await storage.close()


def _invite_role(args: argparse.Namespace, translator: Translator) -> Role | str:
    """The invite's role, or why the arguments do not make one (Role is a str too: tell
    them apart with isinstance(..., Role))."""
    _ = translator.gettext
    if args.uses < 1 or args.days < 1:
        return _("--uses and --days must be at least 1")
    if args.services:
        if args.role not in (None, Role.SERVICE.value):
            return _("--service makes an invite for service staff: leave out --role, or give "
                     "--role service")
        return Role.SERVICE
    if args.role == Role.SERVICE.value:
        return _("--role service needs the services: --service ID (repeat for several)")
    if args.role is None or args.agency is None:
        return _("give --agency and --role, or --service ID for the staff of a service")
    return Role(args.role)


async def _service_names(storage: Storage, settings: Settings, services: list[str]
                         ) -> dict[str, str | None]:
    """Each id's name in the directory the bot serves (None: no such service)."""
    directory = await storage.open_directory(demo=settings.directory_path is None)
    try:
        return {service: await directory.name_of(service) for service in services}
    finally:
        await directory.close()


async def _invite(args: argparse.Namespace, role: Role, settings: Settings, members: Members,
                  storage: Storage, translator: Translator) -> int:
    _, ngettext = translator.gettext, translator.ngettext
    services = list(dict.fromkeys(args.services))
    names = await _service_names(storage, settings, services)
    unknown = [service for service, name in names.items() if name is None]
    if unknown:
        sys.stderr.write(_("No service in the directory has the id %(id)s; nothing was made.")
                         % {"id": ", ".join(unknown)} + "\n")
        return 2
    agency_name = args.agency or str(names[services[0]])
    agency = await members.ensure_agency(agency_name, args.country or settings.country)
    code = await members.invite(agency, role, uses=args.uses, days=args.days,
                                services=services)
    lines = [
        _("Invite code for %(role)s at %(agency)s: %(code)s") % {
            "role": role.value, "agency": agency.name, "code": code},
        ngettext("It can be used %(count)d time.", "It can be used %(count)d times.", args.uses)
        % {"count": args.uses},
        ngettext("It expires in %(count)d day.", "It expires in %(count)d days.", args.days)
        % {"count": args.days},
    ]
    lines += [_("Staff of %(service)s (%(id)s)") % {"service": names[service], "id": service}
              for service in services]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


async def _agency(name: str | None, members: Members, translator: Translator
                  ) -> tuple[bool, Agency | None]:
    """Whether the agency given (if any) exists, said on stderr if not; and the agency."""
    if name is None:
        return True, None
    agency = await members.agency_named(name)
    if agency is None:
        sys.stderr.write(translator.gettext("No agency is named %(agency)s.")
                         % {"agency": name} + "\n")
    return agency is not None, agency


async def _list(args: argparse.Namespace, members: Members, storage: Storage,
                translator: Translator) -> int:
    found, agency = await _agency(args.agency, members, translator)
    if not found:
        return 2
    counts = await members.counts(agency)
    await audit.record(storage.audit, None, "cli", "members list")
    if args.json:
        sys.stdout.write(json.dumps([{"agency": count.agency, "role": count.role.value,
                                      "members": count.members} for count in counts]) + "\n")
    else:
        for count in counts:
            sys.stdout.write(f"{count.agency}\t{count.role.value}\t{count.members}\n")
    return 0


async def _remove(args: argparse.Namespace, members: Members, storage: Storage,
                  translator: Translator) -> int:
    found, agency = await _agency(args.agency, members, translator)
    if not found:
        return 2
    role = Role(args.role) if args.role else None
    if not args.yes:
        count = await members.remove(invite=args.invite, agency=agency, role=role,
                                     dry_run=True)
        sys.stderr.write(translator.ngettext(
            "This removes %(count)d member. Run again with --yes to do it.",
            "This removes %(count)d members. Run again with --yes to do it.", count)
            % {"count": count} + "\n")
        return 2
    removed = await members.remove(invite=args.invite, agency=agency, role=role)
    # Never the code itself: the audit says what was done, not the secret it was done with.
    command = "members remove " + ("--invite" if args.invite is not None else "--agency")
    await audit.record(storage.audit, None, "cli",
                       command + (f" --role {role.value}" if role else ""))
    sys.stdout.write(json.dumps({"members": removed}) + "\n")
    return 0
