"""`deflect doctor`'s checks of what is on this machine: the database (SQLite or PostgreSQL),
the key, the directory and the catalogs (bot/doctor.py runs them, and those that talk to
Telegram and the geocoder).

Each check reads and never writes. A SQLite file is opened read-only (`mode=ro`), and as
`immutable` when no -wal, -shm or -journal file lies beside it (nothing is running on it):
a read-only connection to a WAL database otherwise creates both files, and leaves them. A
PostgreSQL session is opened with read-only transactions. A long SQLite read is cut off at
the check's deadline (a progress handler), so that no thread outlives the command.
"""

from __future__ import annotations

import asyncio
import hmac
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiosqlite
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.i18n import DOMAIN, LOCALES_DIR, translations
from bot.keys import KeyRefused, parse_key
from bot.settings import Settings
from directory.i18n import Translator
from directory.store import DEMO_SOURCE, Directory
from members.keys import Keys
from members.ports import MemberStore
from storage.sqlite.database import MIGRATIONS
from storage.sqlite.health import first_problem
from storage.sqlite.members import SqliteMemberStore

STALE_DAYS = 90  # a source imported longer ago than this is worth importing again
_READ_ONLY = {"default_transaction_read_only": "on"}  # a PostgreSQL session that writes nothing


class Mark(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"


@dataclass(frozen=True)
class Finding:
    """One line of the checklist: `what` was checked, what was `found`, and for a warning
    or a failure what to do (`advice`, one sentence); all translated. `figures`: the same
    for machines (`--json`)."""

    check: str  # "token", "database", "key", "directory", "source", "catalogs", ...
    mark: Mark
    what: str
    found: str
    advice: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


def read_only_uri(path: Path) -> str:
    """An SQLite URI that opens `path` without creating or changing any file."""
    beside = any(path.with_name(path.name + end).exists() for end in ("-wal", "-shm", "-journal"))
    return f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if beside else "&immutable=1")


def _deadline(seconds: float) -> Callable[[], bool]:
    end = time.monotonic() + seconds
    return lambda: time.monotonic() > end


def _inspect(path: Path, timeout_s: float) -> tuple[str, int]:
    """SQLite's integrity check (its first finding) and the schema version."""
    connection = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None)
    try:
        connection.set_progress_handler(_deadline(timeout_s), 1000)
        problem = first_problem(connection)
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        return problem or "ok", int(version)
    finally:
        connection.close()


def _schema(version: int, latest: int, what: str, translator: Translator,
            figures: dict[str, Any]) -> Finding:
    _ = translator.gettext
    found = (_("intact, schema %(version)d of %(latest)d") if figures.get("integrity") == "ok"
             else _("schema %(version)d of %(latest)d")) % {"version": version, "latest": latest}
    figures.update(schema=version, latest=latest)
    if version < latest:
        return Finding("database", Mark.FAILED, what, found, _(
            "Make a backup copy, then start Deflect once (deflect run): it brings the "
            "database up to date."), figures)
    if version > latest:
        return Finding("database", Mark.FAILED, what, found, _(
            "The database is newer than this Deflect: install the newer Deflect."), figures)
    return Finding("database", Mark.OK, what, found, figures=figures)


async def sqlite_database(path: Path, translator: Translator, timeout_s: float) -> Finding:
    _ = translator.gettext
    what = _("database %(path)s") % {"path": path}
    if not await asyncio.to_thread(path.is_file):
        return Finding("database", Mark.FAILED, what, _("no such file"), _(
            "Run `deflect run` once, or import a directory (deflect directory import FILE "
            "--db PATH): either makes it."), {"exists": False})
    try:
        verdict, version = await asyncio.to_thread(_inspect, path, timeout_s)
    except sqlite3.Error as error:
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF
        if code == sqlite3.SQLITE_INTERRUPT:
            raise TimeoutError from error
        if code in (sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN):
            return Finding("database", Mark.FAILED, what, _(
                "cannot be read (SQLite: %(detail)s)") % {"detail": error}, _(
                "Run doctor as the user that runs Deflect, or let that user read the file "
                "and its folder."), {"exists": True})
        verdict, version = str(error), -1
    if verdict != "ok":
        return Finding("database", Mark.FAILED, what, _(
            "damaged (SQLite: %(detail)s)") % {"detail": verdict}, _(
            "Restore it from a backup copy made while it was healthy, or move it away to "
            "start with an empty one; the key file stays as it is."),
            {"exists": True, "integrity": verdict})
    return _schema(version, len(MIGRATIONS), what, translator,
                   {"exists": True, "integrity": "ok"})


def shown_url(url: str, *, server: bool = False) -> str:
    """What a line may show of a URL: never its user, password or query. scheme://host[:port]
    (a webhook's path is its secret), or for a `server`, host[:port]/database."""
    parts = urlsplit(url)
    host = f"{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}"
    return f"{host}{parts.path}" if server else f"{parts.scheme}://{host}"


async def postgres_database(url: str, translator: Translator, timeout_s: float) -> Finding:
    import asyncpg

    from storage.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS

    _ = translator.gettext
    what = _("database PostgreSQL %(server)s") % {"server": shown_url(url, server=True)}
    try:
        connection = await asyncpg.connect(url, timeout=timeout_s, server_settings=_READ_ONLY)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return Finding("database", Mark.FAILED, what, _("no connection (%(error)s)") % {
            "error": type(error).__name__}, _(
            "Check DEFLECT_DATABASE_URL, and that the server runs and lets this machine in."))
    try:
        version = 0
        if await connection.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
            version = await connection.fetchval("SELECT max(version) FROM schema_version") or 0
    finally:
        await connection.close()
    return _schema(int(version), len(POSTGRES_MIGRATIONS), what, translator, {})


@asynccontextmanager
async def sqlite_reading(path: Path, timeout_s: float) -> AsyncIterator[aiosqlite.Connection]:
    db = await aiosqlite.connect(read_only_uri(path), uri=True, isolation_level=None)
    try:
        await db.set_progress_handler(_deadline(timeout_s), 1000)
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def member_reading(settings: Settings, timeout_s: float) -> AsyncIterator[MemberStore]:
    """The member store, read-only: what the key must open."""
    if settings.database_url:
        import asyncpg

        from storage.postgres.database import Pool
        from storage.postgres.members import PostgresMemberStore

        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1,
                                         timeout=timeout_s, server_settings=_READ_ONLY)
        try:
            yield PostgresMemberStore(Pool(pool), {})
        finally:
            await pool.close()
        return
    async with sqlite_reading(settings.db_path, timeout_s) as db:
        yield SqliteMemberStore(db, {})


@dataclass(frozen=True)
class KeyedData:
    """What the database says of its key (None: the database could not be read)."""

    check_value: bytes | None
    legacy: bytes | None
    holds_data: bool


async def keyed_data(settings: Settings, timeout_s: float) -> KeyedData | None:
    try:
        async with member_reading(settings, timeout_s) as members:
            return KeyedData(await members.key_check(), await members.legacy_secret(),
                             await members.holds_data())
    except Exception:  # noqa: BLE001 - the database line says what is wrong with it
        return None


def _key_text(path: Path) -> tuple[int, str] | None:
    """The key file's mode and text; None: there is none."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    try:
        return mode, path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return mode, ""


async def key(settings: Settings, data: KeyedData | None, translator: Translator
              ) -> tuple[Finding, Keys | None]:
    """The key: where it is, owner-only, and the database's key (by its check value)."""
    _ = translator.gettext
    path = settings.key_path
    where = "DEFLECT_KEY" if settings.key else str(path)
    what = _("key %(path)s") % {"path": where}
    figures: dict[str, Any] = {"where": where}
    if settings.key:
        text = settings.key
    else:
        read = await asyncio.to_thread(_key_text, path)
        if read is None:
            return _no_key(what, data, translator), None
        mode, text = read
        figures["mode"] = f"{mode:03o}"
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            return Finding("key", Mark.FAILED, what, _(
                "others can read it (mode %(mode)s)") % {"mode": figures["mode"]}, _(
                "Make it readable by its owner only (chmod 600 %(path)s): Deflect refuses "
                "to start until then.") % {"path": path}, figures), None
    try:
        keys = parse_key(text, where)
    except KeyRefused:
        return Finding("key", Mark.FAILED, what, _("it holds no Deflect key"), _(
            "Put back the key file (or DEFLECT_KEY) this installation was made with."),
            figures), None
    if data is None:
        return Finding("key", Mark.OK, what, _(
            "a Deflect key; the database could not be read to match it"), figures=figures), keys
    expected = [(data.check_value, keys.check_value()), (data.legacy, keys.master)]
    if any(kept is not None and not hmac.compare_digest(kept, mine) for kept, mine in expected):
        return Finding("key", Mark.FAILED, what, _("not the key of this database"), _(
            "Put back the key this database was made with: another installation's key opens "
            "nothing here."), figures), None
    figures["matches"] = data.check_value is not None
    if data.check_value is None:
        found = _("a Deflect key; the database holds nothing to match it against yet")
    elif settings.key:
        found = _("it opens this database's members")
    else:
        found = _("owner-only; it opens this database's members")
    return Finding("key", Mark.OK, what, found, figures=figures), keys


def _no_key(what: str, data: KeyedData | None, translator: Translator) -> Finding:
    _ = translator.gettext
    if data is not None and (data.check_value is not None or data.holds_data):
        return Finding("key", Mark.FAILED, what, _(
            "missing, and the database holds members and other keyed data"), _(
            "Without it members cannot be recognised and Deflect refuses to start: restore "
            "the key file (or set DEFLECT_KEY); only if it is lost for good, `deflect "
            "forget-key` deletes what it kept."), {"exists": False})
    if data is not None and data.legacy is not None:
        return Finding("key", Mark.WARNING, what, _("still inside the database"), _(
            "Start Deflect once: it moves the key to this file; then keep a copy of the file "
            "apart from the database's backups."), {"exists": False})
    return Finding("key", Mark.WARNING, what, _("not made yet"), _(
        "The first start makes it, owner-only: keep a copy of it apart from the database's "
        "backups."), {"exists": False})


async def directory(path: Path, translator: Translator, timeout_s: float,
                    now: datetime | None = None) -> list[Finding]:
    """The services, their unknown hours and staff confirmations, and each source's age."""
    _ = translator.gettext
    moment = now or datetime.now(UTC)
    what = _("directory")
    async with sqlite_reading(path, timeout_s) as db:
        opened = await Directory.open(db)
        try:
            sources = await opened.sources()
            services = await opened.all_services()
            health = await opened.live.health(moment)
        finally:
            await opened.close()
    unknown = sum(1 for _key, _hours, service in services if not service.opening_hours.strip())
    unconfirmed = sum(1 for row in health if row.status is None and row.arrival is None)
    figures = {"services": len(services), "unknown_hours": unknown,
               "never_confirmed": unconfirmed, "demo": any(s.name == DEMO_SOURCE for s in sources)}
    found = translator.ngettext(
        "%(count)d service; %(unknown)d with unknown hours, %(unconfirmed)d never confirmed "
        "by their staff",
        "%(count)d services; %(unknown)d with unknown hours, %(unconfirmed)d never confirmed "
        "by their staff", len(services)) % {
        "count": len(services), "unknown": unknown, "unconfirmed": unconfirmed}
    if figures["demo"] or not services:
        findings = [Finding("directory", Mark.WARNING, what, found + (
            " " + _("(the bundled demo)") if figures["demo"] else ""), _(
            "Import your real directory (deflect directory import FILE): it replaces the demo."),
            figures)]
    else:
        findings = [Finding("directory", Mark.OK, what, found, figures=figures)]
    for source in sources:
        if source.name != DEMO_SOURCE:
            findings.append(_source(source.name, source.services, source.imported_at, moment,
                                    translator))
    return findings


def _source(name: str, services: int, imported_at: str, now: datetime,
            translator: Translator) -> Finding:
    _ = translator.gettext
    try:
        imported = datetime.fromisoformat(imported_at)
        days = max(0, (now - (imported if imported.tzinfo else imported.replace(tzinfo=UTC))
                       ).days)
    except ValueError:
        days = -1
    what = _("source %(name)s") % {"name": name}
    figures = {"name": name, "services": services, "imported": imported_at, "age_days": days}
    found = translator.ngettext("imported %(days)d day ago, %(count)d services",
                                "imported %(days)d days ago, %(count)d services",
                                max(days, 0)) % {"days": days, "count": services}
    if days < 0 or days > STALE_DAYS:
        return Finding("source", Mark.WARNING, what, found, _(
            "Import a current export of it (deflect directory import): services open, close "
            "and change their hours."), figures)
    return Finding("source", Mark.OK, what, found, figures=figures)


def _untranslated(template: Catalog, catalog: Catalog) -> int:
    count = 0
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else ""
        forms = strings if isinstance(strings, (tuple, list)) else (strings,)
        if found is None or found.fuzzy or not all(forms):
            count += 1
    return count


def catalogs(translator: Translator, folder: Path = LOCALES_DIR) -> Finding:
    """Every shipped catalog: it parses, it is compiled and loads, and translates every
    message of the template (locales/deflect.pot)."""
    _ = translator.gettext
    what = _("catalogs %(path)s") % {"path": folder}
    try:
        with (folder / f"{DOMAIN}.pot").open("rb") as source:
            template = read_po(source)
        missing: dict[str, int] = {}
        stale: list[str] = []
        for po_path in sorted(folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            locale = po_path.parent.parent.name
            with po_path.open("rb") as source:
                missing[locale] = _untranslated(template, read_po(source, locale=locale))
            mo_path = po_path.with_suffix(".mo")
            if (not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime
                    or not isinstance(translations(locale), Translations)):
                stale.append(locale)
    except Exception as error:  # noqa: BLE001 - a catalog that does not parse: say which
        return Finding("catalogs", Mark.FAILED, what, _("unreadable (%(error)s)") % {
            "error": error}, _("Restore the locales folder from this version of Deflect."))
    figures = {"locales": sorted(missing), "untranslated": missing, "not_compiled": stale}
    gaps = ", ".join(f"{locale} {count}" for locale, count in missing.items() if count)
    if gaps:
        return Finding("catalogs", Mark.WARNING, what, _("untranslated messages: %(gaps)s") % {
            "gaps": gaps}, _("Those messages show in English until the catalogs are "
                             "updated (README, Translations)."), figures)
    if stale:
        return Finding("catalogs", Mark.WARNING, what, _("not compiled: %(locales)s") % {
            "locales": ", ".join(stale)}, _("The bot compiles them when it starts, if it may "
                                            "write to the locales folder."), figures)
    return Finding("catalogs", Mark.OK, what, translator.ngettext(
        "%(count)d language, every message translated",
        "%(count)d languages, every message translated", len(missing)) % {
        "count": len(missing)}, figures=figures)
