"""`deflect backup` and `deflect restore`: a copy of the SQLite database made while the bot
runs, and the way back to it (storage/sqlite/backup.py does the SQLite part).

A backup is written beside its destination, examined (SQLite's full integrity check, the
same schema version as the database), and only then renamed into place: a copy that is
there is a whole one. It is readable by its owner only: it holds the referral log and the
members' keyed hashes. It never holds the key (bot/keys.py keeps it apart on purpose), and
the command says so. On PostgreSQL, pg_dump and pg_restore do this.

A restore examines the backup first, then, with the bot stopped, keeps the database it
replaces beside it (`<db>.before-restore-<UTC time>`, with its write-ahead log
checkpointed into it, or moved along with it), and puts the backup in its place.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sqlite3
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings
from directory.i18n import Translator
from directory.progress import progress_bar
from storage import check_database
from storage.sqlite import backup
from storage.sqlite.database import open_database

COMMANDS = ("backup", "restore")
# The files SQLite keeps beside a database (write-ahead log, its index, rollback journal).
_BESIDE = ("-wal", "-shm", "-journal")


def add_commands(commands: Any, db_help: str, translator: Translator) -> None:
    _ = translator.gettext
    copy = commands.add_parser(
        "backup", help=_("copy the database while the bot runs (never the key file: back it "
                         "up apart)"))
    copy.add_argument("--to", dest="target", required=True, type=Path, metavar="FILE",
                      help=_("the copy to write, readable by its owner only"))
    copy.add_argument("--force", action="store_true", help=_("replace FILE if it exists"))
    copy.add_argument("--db", help=db_help)
    back = commands.add_parser(
        "restore", help=_("replace the database with a backup; stop the bot first"))
    back.add_argument("--from", dest="source", required=True, type=Path, metavar="FILE",
                      help=_("a copy made by deflect backup"))
    back.add_argument("--yes", action="store_true",
                      help=_("yes: replace the database (it is kept beside it, renamed)"))
    back.add_argument("--db", help=db_help)


async def run(args: argparse.Namespace, settings: Settings, translator: Translator) -> int:
    if args.command == "backup":
        return await asyncio.to_thread(_backup, args.target, args.force, settings, translator)
    restored = await asyncio.to_thread(_restore, args.source, args.yes, settings, translator)
    if isinstance(restored, int):
        return restored
    # The checks of a start: the file is usable, and migrated to this Deflect.
    await asyncio.to_thread(check_database, settings.db_path)
    await (await open_database(settings.db_path)).close()
    await asyncio.to_thread(_say_restored, restored, settings, translator)
    return 0


def _refuse(message: str) -> int:
    sys.stderr.write(message + "\n")
    return 2


def _backup(target: Path, force: bool, settings: Settings, translator: Translator) -> int:
    _ = translator.gettext
    if settings.database_url:
        return _refuse(_("This installation keeps its state on PostgreSQL: back it up there, "
                         "with pg_dump (each worker's SQLite file only holds a copy of the "
                         "directory). Nothing was written."))
    database = settings.db_path
    if not database.is_file():
        return _refuse(_("%(path)s: there is no database to back up; nothing was written")
                       % {"path": database})
    refused = _refused_target(target, settings, force, translator)
    if refused:
        return _refuse(refused)
    temporary = _new_file_beside(target)
    try:
        with progress_bar(sys.stderr, _("copying"), unit=" " + _("pages")) as progress:
            version = backup.copy_database(database, temporary, progress)
        examined = backup.examine(temporary)
        if examined.version != version:
            return _refuse(_("The copy has schema version %(copy)d, the database %(source)d; "
                             "nothing was written") % {"copy": examined.version,
                                                        "source": version})
        _sync(temporary)
        os.replace(temporary, target)
        _sync(target.parent)
    except backup.CopyUnusable as unusable:
        return _refuse(_("The copy of %(path)s did not pass its check (SQLite: %(detail)s); "
                         "nothing was written") % {"path": database,
                                                   "detail": unusable.detail or unusable})
    except sqlite3.Error as error:
        return _refuse(_("%(path)s could not be copied (SQLite: %(detail)s); nothing was "
                         "written") % {"path": database, "detail": error})
    except OSError as error:
        return _refuse(_("%(path)s could not be written (%(reason)s); nothing was written")
                       % {"path": target, "reason": error.strerror or error})
    finally:
        _remove(temporary)
    if settings.key:
        sys.stderr.write(_("The key (DEFLECT_KEY) is not in the backup, on purpose: keep a "
                           "copy of it separately, somewhere else. Without it, members cannot "
                           "be recognised.") + "\n")
    else:
        sys.stderr.write(_("The key file %(path)s is not in the backup, on purpose: back it "
                           "up separately, somewhere else. Without it, members cannot be "
                           "recognised.") % {"path": settings.key_path} + "\n")
    sys.stdout.write(json.dumps({
        "backup": str(target), "bytes": target.stat().st_size,
        "referrals": examined.referrals, "pages": examined.pages,
        "schema_version": examined.version}) + "\n")
    return 0


def _kept_with(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in _BESIDE]


def _refused_target(target: Path, settings: Settings, force: bool, translator: Translator
                    ) -> str | None:
    """Why `--to` must not be written, if it must not."""
    _ = translator.gettext
    kept = [settings.db_path, *_kept_with(settings.db_path), settings.key_path]
    if any(_same_file(target, path) for path in kept):
        return _("--to %(path)s is the database, a file kept with it or the key file: give "
                 "the backup another name; nothing was written") % {"path": target}
    if target.is_dir():
        return _("--to %(path)s is a folder: give a file name") % {"path": target}
    if not target.parent.is_dir():
        return _("--to %(path)s: there is no folder %(folder)s") % {
            "path": target, "folder": target.parent}
    if os.path.lexists(target) and not force:
        return _("%(path)s already exists: give another name, or --force to replace it; "
                 "nothing was written") % {"path": target}
    return None


@dataclass(frozen=True)
class _Restored:
    source: Path
    previous: Path | None  # where the database it replaced went; None: there was none
    examined: backup.Examined


def _restore(source: Path, yes: bool, settings: Settings, translator: Translator
             ) -> int | _Restored:
    """Put the backup in the database's place, or refuse (exit status 2)."""
    _ = translator.gettext
    if settings.database_url:
        return _refuse(_("This installation keeps its state on PostgreSQL: restore it there, "
                         "with pg_restore or psql. Nothing was changed."))
    target = settings.db_path
    if not source.is_file():
        return _refuse(_("%(path)s: no such file or folder") % {"path": source})
    if any(_same_file(source, path) for path in (target, *_kept_with(target))):
        return _refuse(_("--from %(path)s is the database or a file kept with it; nothing "
                         "was changed") % {"path": source})
    if not target.parent.is_dir():
        return _refuse(_("%(path)s: there is no folder %(folder)s") % {
            "path": target, "folder": target.parent})
    try:
        backup.examine(source)
    except backup.CopyUnusable as unusable:
        return _refuse(_unusable_backup(unusable, source, translator))
    if not yes and any(os.path.lexists(path) for path in (target, *_kept_with(target))):
        return _refuse(_("This replaces %(path)s with the backup (the current file is kept "
                         "beside it, renamed). Stop the bot, then run again with --yes.")
                       % {"path": target})
    try:
        previous, examined = _put_in_place(source, target, translator)
    except backup.InUse:
        return _refuse(_("%(path)s is in use: stop the bot (every deflect process using it), "
                         "then restore; nothing was changed") % {"path": target})
    except backup.CopyUnusable as unusable:
        return _refuse(_unusable_backup(unusable, source, translator))
    except (OSError, sqlite3.Error) as error:
        return _refuse(_("%(path)s could not be restored (%(reason)s); nothing was changed")
                       % {"path": target, "reason": getattr(error, "strerror", None) or error})
    return _Restored(source, previous, examined)


def _say_restored(restored: _Restored, settings: Settings, translator: Translator) -> None:
    _ = translator.gettext
    if restored.previous is not None:
        sys.stderr.write(_("The previous database is kept as %(path)s.")
                         % {"path": restored.previous} + "\n")
    if not settings.key and not settings.key_path.exists():
        sys.stderr.write(_("There is no key file at %(path)s: members are recognised only "
                           "with this database's original key file. Put it there (or set "
                           "DEFLECT_KEY); no new key was made.") % {"path": settings.key_path}
                         + "\n")
    examined = restored.examined
    sys.stdout.write(json.dumps({
        "restored": str(settings.db_path), "from": str(restored.source),
        "previous": None if restored.previous is None else str(restored.previous),
        "referrals": examined.referrals, "pages": examined.pages,
        "schema_version": examined.version}) + "\n")


def _unusable_backup(unusable: backup.CopyUnusable, backup_file: Path, translator: Translator
                     ) -> str:
    """Why the backup is refused, naming the file given (not the copy made of it)."""
    _ = translator.gettext
    names = {"path": backup_file, "detail": unusable.detail}
    if isinstance(unusable, backup.TooNew):
        return _("%(path)s was made by a newer Deflect (schema version %(version)d; this one "
                 "knows %(latest)d): upgrade Deflect first; nothing was changed") % {
            "path": backup_file, "version": unusable.version,
            "latest": backup.LATEST_VERSION}
    if isinstance(unusable, backup.NotDeflect):
        return _("%(path)s is not a Deflect database; nothing was changed") % names
    return _("%(path)s is not a usable backup (SQLite: %(detail)s); nothing was changed") % names


def _put_in_place(source: Path, target: Path, translator: Translator
                  ) -> tuple[Path | None, backup.Examined]:
    """Copy the backup beside the database and examine the copy, with the database held so
    that no bot opens it meanwhile; then move the database aside and the copy in its place.
    Returns where the previous database went (None: there was none) and the copy's
    contents."""
    _ = translator.gettext
    temporary = _new_file_beside(target)
    try:
        if target.is_file():  # the restored file is the bot's as the one it replaces was
            _same_owner_and_mode(target, temporary)
        guard = backup.held_exclusively(target) if target.is_file() else nullcontext(False)
        with guard:
            with progress_bar(sys.stderr, _("restoring"), unit=" " + _("pages")) as progress:
                backup.copy_database(source, temporary, progress, read_only=True)
            examined = backup.examine(temporary)
            _sync(temporary)
        previous = _move_aside(target)
        try:
            os.replace(temporary, target)
        except OSError:
            if previous is not None:
                _move(previous, target)
            raise
        _sync(target.parent)
    finally:
        _remove(temporary)
    return previous, examined


def _move_aside(target: Path) -> Path | None:
    """Rename the database and the files SQLite keeps beside it to
    `<db>.before-restore-<UTC time>` (and its -wal, -shm); None if there are none."""
    if not any(os.path.lexists(path) for path in (target, *_kept_with(target))):
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
    number = 1
    while any(os.path.lexists(path) for path in (aside, *_kept_with(aside))):
        number += 1
        aside = target.with_name(f"{target.name}.before-restore-{stamp}-{number}")
    _move(target, aside)
    return aside


def _move(origin: Path, destination: Path) -> None:
    """Rename a database with the files beside it: those first, so that a log of the old
    database is never left at a name where SQLite would apply it to the new one."""
    for suffix in (*_BESIDE, ""):
        path = origin.with_name(origin.name + suffix)
        if os.path.lexists(path):
            os.rename(path, destination.with_name(destination.name + suffix))


def _new_file_beside(target: Path) -> Path:
    """A new empty file in `target`'s folder, readable by its owner only from the start
    (SQLite gives the journals it makes beside it the same mode)."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
    finally:
        os.close(descriptor)
    return temporary


def _same_owner_and_mode(model: Path, path: Path) -> None:
    """Give `path` the mode of `model` and, where this process may, its owner (a restore
    run as root for a bot that runs as its own user)."""
    status = model.stat()
    if (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(path, status.st_uid, status.st_gid)
        except PermissionError:
            pass
    os.chmod(path, status.st_mode & 0o777)


def _sync(path: Path) -> None:
    """fsync a file, or a folder (so that a rename in it is durable)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove(temporary: Path) -> None:
    for suffix in ("", *_BESIDE):
        temporary.with_name(temporary.name + suffix).unlink(missing_ok=True)


def _same_file(one: Path, other: Path) -> bool:
    """The same path once links are followed, or (a hard link) the same file."""
    try:
        return one.resolve() == other.resolve() or os.path.samefile(one, other)
    except (OSError, RuntimeError):  # either is not there, or a loop of links
        return False

