"""The `deflect` command line: one entry point for every job the program does.

Subcommands are added as their features land; each returns an exit status (0 done,
2 bad input with nothing changed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from bot import backup_cli, doctor, figures_cli, members_cli
from bot.i18n import terminal_locale, translations
from bot.keys import KeyRefused, KeyRing
from bot.logs import cap_library_logs, install_log_redaction, reported_by_caller
from bot.settings import Settings, database_path, parse_listen
from directory import cli as directory_cli
from directory.i18n import Translator
from members import Role
from storage import (
    DatabaseDamaged,
    DatabaseUnusable,
    StorageError,
    check_database,
    directory_session,
    forget_keyed,
    member_session,
    publish_directory,
)

_LOGGER = logging.getLogger(__name__)


def build_parser(translator: Translator) -> argparse.ArgumentParser:
    _ = translator.gettext
    parser = argparse.ArgumentParser(
        prog="deflect",
        description=_("Deflect: the nearest open service for a person who uses drugs, "
                      "and an anonymised referral."))
    commands = parser.add_subparsers(dest="command", required=True)
    directory = commands.add_parser(
        "directory", help=_("import, check and search the service directory"))
    db_help = _("SQLite file (default: $DEFLECT_DB or ./deflect.sqlite3)")
    directory_cli.add_commands(directory, db_help, translator)
    run = commands.add_parser("run", help=_("run the bot on Telegram (needs DEFLECT_TOKEN)"))
    run.add_argument("--webhook-url", help=_("public HTTPS URL Telegram posts updates to"))
    run.add_argument("--listen", default="127.0.0.1:8443", metavar="HOST:PORT",
                     help=_("where the webhook server listens"))
    run.add_argument("--db", help=db_help)
    url_help = _("PostgreSQL URL of the shared state (default: $DEFLECT_DATABASE_URL)")
    run.add_argument("--database-url", help=url_help)
    receiver = commands.add_parser(
        "serve-webhook", help=_("receive Telegram's webhook into the shared inbox (PostgreSQL; "
                                "run with one or more `deflect worker`)"))
    receiver.add_argument("--webhook-url", required=True,
                          help=_("public HTTPS URL Telegram posts updates to"))
    receiver.add_argument("--listen", default="127.0.0.1:8443", metavar="HOST:PORT",
                          help=_("where the webhook server listens"))
    worker = commands.add_parser(
        "worker", help=_("handle updates from the shared inbox (PostgreSQL); run any number"))
    worker.add_argument("--claimers", type=int, default=16,
                        help=_("updates of different chats handled at once"))
    worker.add_argument("--lease", type=float, default=30.0, metavar="SECONDS",
                        help=_("an update a worker took and did not finish in this time is "
                               "taken again by another"))
    for command in (receiver, worker):
        command.add_argument("--database-url", help=url_help)
        command.add_argument("--db", help=_("this worker's SQLite copy of the directory"))
    for command in (run, receiver, worker):
        command.add_argument(
            "--ops-listen", metavar="HOST:PORT",
            help=_("serve GET /healthz and GET /metrics here, for the container's health "
                   "check and Prometheus; keep it off the public proxy (default: "
                   "$DEFLECT_OPS_LISTEN; none: off)"))
    console = commands.add_parser(
        "console", help=_("try the bot in this terminal: no token, no configuration"))
    console.add_argument("--as", dest="role", choices=["officer", "peer", "community"],
                         default="community", help=_("who you are in the demo"))
    console.add_argument("--db", help=db_help)
    members_cli.add_commands(commands, db_help, translator)
    forget = commands.add_parser(
        "forget-key", help=_("after losing the key: delete members and everything keyed, so "
                             "that the next start makes a new key"))
    forget.add_argument("--yes", action="store_true",
                        help=_("yes: every member will have to join again"))
    forget.add_argument("--db", help=db_help)
    figures_cli.add_commands(commands, db_help, translator)
    doctor.add_commands(commands, db_help, translator)
    backup_cli.add_commands(commands, db_help, translator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `deflect` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    locale = terminal_locale()
    translator = translations(str(locale))
    args = build_parser(translator).parse_args(argv)
    try:
        # Every command uses the database: a damaged or read-only file stops it before it
        # reads anything (or contacts Telegram); purge checks every page and index first.
        if args.command == "directory":
            check_database(database_path(args.db))
            done = asyncio.run(directory_cli.run(
                args, lambda path, demo: directory_session(database_path(path), demo=demo),
                translator, locale, db_exists=lambda path: database_path(path).exists()))
            url = os.environ.get("DEFLECT_DATABASE_URL")
            if done == 0 and url and args.directory_command == "import":
                # Several workers: the directory just imported becomes every worker's.
                version = asyncio.run(publish_directory(url, database_path(args.db)))
                sys.stderr.write(translator.gettext(
                    "Published to every worker (directory version %(version)d).")
                    % {"version": version} + "\n")
            return done
        settings = Settings.from_env(db_path=database_path(args.db),
                                     database_url=getattr(args, "database_url", None),
                                     ops_listen=getattr(args, "ops_listen", None))
        if settings.ops_listen and args.command in ("run", "serve-webhook", "worker"):
            try:
                parse_listen(settings.ops_listen)
            except ValueError:
                sys.stderr.write(translator.gettext(
                    "--ops-listen (or DEFLECT_OPS_LISTEN) must be HOST:PORT, e.g. "
                    "127.0.0.1:9464; got %(value)s") % {"value": settings.ops_listen} + "\n")
                return 2
        install_log_redaction(settings.token)
        cap_library_logs(settings.debug_unsafe)
        if args.command in doctor.COMMANDS:  # not check_database: it reports damage itself
            return asyncio.run(doctor.run(args, settings, translator))
        if args.command != "restore":  # a damaged file is what a restore replaces
            check_database(settings.storage_location, full=args.command == "purge")
        return _command(settings, args, translator)
    except StorageError as error:
        sys.stderr.write(translator.gettext(
            "DEFLECT_DB names a %(scheme)s server: give it a file path such as "
            "deflect.sqlite3 (a PostgreSQL server goes in DEFLECT_DATABASE_URL)")
            % {"scheme": error.scheme}
            + "\n")
        return 2
    except KeyRefused as refused:
        sys.stderr.write(translator.gettext(refused.msgid) % {"path": refused.path} + "\n")
        return 2
    except DatabaseUnusable as unusable:
        sys.stderr.write(_unusable(unusable, translator))
        return 2


def _unusable(unusable: DatabaseUnusable, translator: Translator) -> str:
    """What a damaged or read-only database file is, and what to do about it."""
    _ = translator.gettext
    names = {"path": unusable.path, "detail": unusable.detail}
    if isinstance(unusable, DatabaseDamaged):
        lines = [_("%(path)s is damaged (SQLite: %(detail)s); nothing was done.") % names,
                 _("Restore it from a backup copy made while it was healthy, or move it away "
                   "to start with an empty one; the key file stays as it is.")]
    else:
        lines = [_("%(path)s cannot be written (SQLite: %(detail)s); nothing was done.")
                 % names,
                 _("Deflect writes to the file and, beside it, to its -wal and -shm files: "
                   "make the file and its folder writable for the user that runs Deflect, or "
                   "move them to a disk that is not read-only.")]
    return "\n".join(lines) + "\n"


def _command(settings: Settings, args: argparse.Namespace, translator: Translator) -> int:
    if args.command == "console":
        return _console(settings, Role(args.role))
    if args.command in members_cli.COMMANDS:
        return asyncio.run(members_cli.run(args, settings, translator))
    if args.command == "run":
        return _run(settings, args, translator)
    if args.command in ("serve-webhook", "worker"):
        return _workers(settings, args, translator)
    if args.command == "forget-key":
        return asyncio.run(_forget_key(settings, args, translator))
    if args.command in figures_cli.COMMANDS:
        return asyncio.run(figures_cli.run(args, settings, translator))
    if args.command in backup_cli.COMMANDS:
        return asyncio.run(backup_cli.run(args, settings, translator))
    return 2


async def _forget_key(settings: Settings, args: argparse.Namespace, translator: Translator
                      ) -> int:
    _ = translator.gettext
    if not args.yes:
        sys.stderr.write(_("This deletes every member, invite, language choice and pending "
                           "reminder; the referral log and figures stay. Run again with "
                           "--yes to do it.") + "\n")
        return 2
    if settings.key:
        sys.stderr.write(_("DEFLECT_KEY is set: with the key there is nothing to forget")
                         + "\n")
        return 2
    if settings.key_path.exists():
        sys.stderr.write(_("%(path)s still exists: move it away first (if it is the right "
                           "key, nothing needs to be forgotten)") % {"path": settings.key_path}
                         + "\n")
        return 2
    async with member_session(settings.storage_location) as store:
        legacy = await store.legacy_secret() is not None
    if legacy:
        sys.stderr.write(_("This database still holds its key, from before keys were kept "
                           "apart: start Deflect once and it moves it to %(path)s")
                         % {"path": settings.key_path} + "\n")
        return 2
    deleted = await forget_keyed(settings.storage_location)
    sys.stdout.write(json.dumps(deleted) + "\n")
    return 0


def _console(settings: Settings, role: Role) -> int:
    # Imported here, not above: only the commands that talk to Telegram load it (the
    # directory and figures commands start without python-telegram-bot's 200 modules).
    from bot.app import build_application
    from bot.console import ConsoleUser, main_console

    user = ConsoleUser()

    async def prepare(application: Any) -> None:
        runtime = application.bot_data.runtime
        if role is not Role.COMMUNITY:
            agency = await runtime.members.ensure_agency("Demo Police Department (demo)", "US")
            await runtime.members.add_member(user.id, agency, role)

    return main_console(lambda api: build_application(settings, request=api, rate_limit=False),
                        user, prepare)


def _workers(settings: Settings, args: argparse.Namespace, translator: Translator) -> int:
    # As in _console: Telegram is loaded only by the commands that talk to it.
    from bot.workers import run_worker, serve_webhook

    _ = translator.gettext
    if not settings.database_url:
        sys.stderr.write(_("deflect %(command)s needs the shared state on PostgreSQL: "
                           "DEFLECT_DATABASE_URL or --database-url") % {"command": args.command}
                         + "\n")
        return 2
    if not settings.token:
        sys.stderr.write(_("deflect run needs a bot token in DEFLECT_TOKEN (from @BotFather); "
                           "to try it without one: deflect console") + "\n")
        return 2
    if args.command == "serve-webhook":
        asyncio.run(serve_webhook(settings, args.listen, args.webhook_url))
    else:
        asyncio.run(run_worker(settings, claimers=max(1, args.claimers),
                               lease_s=max(1.0, args.lease), serving=True))
    return 0


def _run(settings: Settings, args: argparse.Namespace, translator: Translator) -> int:
    # As in _console: Telegram is loaded only by the commands that talk to it.
    from telegram import Update
    from telegram.error import InvalidToken

    from bot.app import build_application
    from bot.webhook import run_webhook

    _ = translator.gettext
    if not settings.token:
        sys.stderr.write(_("deflect run needs a bot token in DEFLECT_TOKEN (from @BotFather); "
                           "to try it without one: deflect console") + "\n")
        return 2
    # The webhook's secrets derive from the master key (bot/webhook.py); a refused key is
    # reported by main.
    master = asyncio.run(KeyRing(settings).keys()).master if args.webhook_url else None
    application = build_application(settings, serving=True)
    # PTB logs a refused token with a traceback whose message holds the token: it is left
    # out of the logs, and said here in one line.
    with reported_by_caller(InvalidToken):
        try:
            if master is not None:
                run_webhook(application, master, args.listen, args.webhook_url)
            else:
                application.run_polling(allowed_updates=Update.ALL_TYPES)
        except InvalidToken:
            sys.stderr.write(_("Telegram refused the bot token: check DEFLECT_TOKEN (the token "
                               "@BotFather gave you)") + "\n")
            return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
