"""The `deflect` command line: one entry point for every job the program does.

Subcommands are added as their features land; each returns an exit status (0 done,
2 bad input with nothing changed).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.database import directory_session
from bot.i18n import terminal_locale, translations
from directory import cli as directory_cli
from directory.i18n import Translator

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
    directory_cli.add_commands(
        directory, _("SQLite file (default: $DEFLECT_DB or ./deflect.sqlite3)"), translator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `deflect` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    locale = terminal_locale()
    translator = translations(str(locale))
    args = build_parser(translator).parse_args(argv)
    if args.command == "directory":
        return asyncio.run(directory_cli.run(
            args, lambda path, demo: directory_session(path, demo=demo), translator, locale))
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
