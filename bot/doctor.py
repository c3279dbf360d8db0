"""`deflect doctor`: check an installation before it goes live, and change nothing.

One line per check: a mark (ok, warning, FAILED), what was checked, what was found and, for
a warning or a failure, what to do. Exit status 1 if any check failed, else 0 (warnings do
not fail); `--json` gives the same as one list of objects. The checks: the bot token
(getMe), the database (integrity, schema), the key, the directory and its sources, the
catalogs, the geocoder and the webhook Telegram holds (getWebhookInfo). bot/doctor_checks.py
holds those of this machine and says how they read without writing; each check here has a
time limit, so that the doctor never hangs. It creates no database, key file or folder, and
prints neither the token nor the webhook's secret path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable
from typing import Any

from bot import doctor_checks as checks
from bot.doctor_checks import Finding, Mark
from bot.settings import Settings
from directory.gazetteer import Place
from directory.geocoder import Geocoder
from directory.i18n import Translator
from members.keys import Keys

COMMANDS = ("doctor",)
TIMEOUT_S = 10.0
ORDER = ("token", "database", "key", "directory", "source", "catalogs", "geocoder", "webhook")
_LISTEN = "127.0.0.1:8443"  # the webhook's URL does not depend on where the server listens


def add_commands(commands: Any, db_help: str, translator: Translator) -> None:
    _ = translator.gettext
    doctor = commands.add_parser(
        "doctor", help=_("check this installation before it goes live; changes nothing"))
    doctor.add_argument("--db", help=db_help)
    doctor.add_argument("--database-url", help=_(
        "PostgreSQL URL of the shared state (default: $DEFLECT_DATABASE_URL)"))
    doctor.add_argument("--webhook-url", help=_(
        "the public HTTPS URL the bot runs with (deflect run --webhook-url)"))
    doctor.add_argument("--timeout", type=float, default=TIMEOUT_S, metavar="SECONDS",
                        help=_("the longest each check waits"))
    doctor.add_argument("--json", action="store_true", help=_("the checks as one JSON list"))


async def run(args: argparse.Namespace, settings: Settings, translator: Translator) -> int:
    findings = await examine(settings, translator, webhook_url=args.webhook_url,
                             timeout_s=max(0.1, args.timeout))
    if args.json:
        sys.stdout.write(json.dumps([{
            "check": f.check, "status": f.mark.value, "what": f.what, "found": f.found,
            "advice": f.advice, "figures": f.figures} for f in findings],
            ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render(findings, translator))
    return 1 if any(f.mark is Mark.FAILED for f in findings) else 0


def render(findings: list[Finding], translator: Translator) -> str:
    _ = translator.gettext
    marks = {Mark.OK: _("ok"), Mark.WARNING: _("warning"), Mark.FAILED: _("FAILED")}
    width = max(len(mark) for mark in marks.values())
    lines = []
    for finding in findings:
        line = f"{marks[finding.mark].ljust(width)}  {finding.what}: {finding.found}"
        if finding.mark is not Mark.OK and finding.advice:
            line += " \u2014 " + finding.advice
        lines.append(line)
    return "\n".join(lines) + "\n"


async def _bounded(work: Awaitable[Any], check: str, what: str, timeout_s: float,
                   translator: Translator) -> Any:
    """The check's result, or a failure saying it did not answer in time."""
    _ = translator.gettext
    try:
        async with asyncio.timeout(timeout_s):
            return await work
    except TimeoutError:
        return Finding(check, Mark.FAILED, what, _("no answer within %(seconds)g s") % {
            "seconds": timeout_s}, _("Something is stuck or too slow: look at it, or give "
                                     "doctor a longer --timeout."))
    except (OSError, RuntimeError) as error:  # a line, not a traceback; never its text
        return Finding(check, Mark.FAILED, what, _("could not be checked (%(error)s)") % {
            "error": type(error).__name__}, _("Run doctor as the user that runs Deflect, "
                                              "with the same environment."))


async def examine(settings: Settings, translator: Translator, *, webhook_url: str | None,
                  timeout_s: float) -> list[Finding]:
    _ = translator.gettext
    findings: list[Finding] = []
    if settings.database_url:
        database = checks.postgres_database(settings.database_url, translator, timeout_s)
    else:
        database = checks.sqlite_database(settings.db_path, translator, timeout_s)
    findings.append(await _bounded(database, "database", _("database"), timeout_s, translator))
    readable = findings[-1].mark is not Mark.FAILED or "schema" in findings[-1].figures
    data = (await _bounded(checks.keyed_data(settings, timeout_s), "key", "", timeout_s,
                           translator) if readable else None)
    found_key, keys = await checks.key(settings, data if isinstance(data, checks.KeyedData)
                                       else None, translator)
    findings.append(found_key)
    findings += await _directory(settings, readable, translator, timeout_s)
    findings.append(await asyncio.to_thread(checks.catalogs, translator))
    findings.append(await _bounded(_geocoder(settings, translator, timeout_s), "geocoder",
                                   _("geocoder"), timeout_s + 1, translator))
    findings += await _telegram(settings, keys, webhook_url, translator, timeout_s)
    return sorted(findings, key=lambda f: ORDER.index(f.check))


async def _directory(settings: Settings, readable: bool, translator: Translator,
                     timeout_s: float) -> list[Finding]:
    _ = translator.gettext
    what = _("directory")
    exists = await asyncio.to_thread(settings.db_path.is_file)
    if not exists or (not readable and not settings.database_url):
        return [Finding("directory", Mark.WARNING, what, _("not read"), _(
            "Make the database right first (see its line), then run doctor again.")
            if not settings.database_url else _(
            "Import the directory (deflect directory import FILE): with DEFLECT_DATABASE_URL "
            "set, every worker loads it."))]
    try:
        found = await _bounded(checks.directory(settings.db_path, translator, timeout_s),
                               "directory", what, timeout_s, translator)
    except Exception as error:  # noqa: BLE001 - an old or damaged schema: say so in a line
        return [Finding("directory", Mark.WARNING, what, _("not read (%(error)s)") % {
            "error": error}, _("Make the database right first (see its line), then run "
                               "doctor again."))]
    return found if isinstance(found, list) else [found]


class _NoCache:
    """The doctor asks the geocoder itself, and keeps nothing."""

    async def get(self, query: str, max_age_s: float) -> list[Place] | None:
        return None

    async def put(self, query: str, places: list[Place]) -> None:
        return None


async def _geocoder(settings: Settings, translator: Translator, timeout_s: float) -> Finding:
    _ = translator.gettext
    what = _("geocoder")
    if not settings.geocoder_url:
        return Finding("geocoder", Mark.OK, what, _(
            "off: typed places use the directory's own entries"), figures={"url": None})
    shown = checks.shown_url(settings.geocoder_url)
    contact = f" ({settings.geocoder_contact})" if settings.geocoder_contact else ""
    geocoder = Geocoder(_NoCache(), url=settings.geocoder_url, timeout_s=timeout_s,
                        user_agent=f"Deflect/0.1 deflection referral bot{contact}")
    try:
        await geocoder.open()
        places = await geocoder.geocode(settings.country, None)
    finally:
        await geocoder.close()
    if places is None:
        return Finding("geocoder", Mark.FAILED, what, _("%(url)s does not answer") % {
            "url": shown}, _("Check DEFLECT_GEOCODER_URL and the network; with "
                             "DEFLECT_GEOCODER=off typed places use the directory's own "
                             "entries instead."), {"url": shown})
    return Finding("geocoder", Mark.OK, what, _("%(url)s answers") % {"url": shown},
                   figures={"url": shown})


async def _telegram(settings: Settings, keys: Keys | None, webhook_url: str | None,
                    translator: Translator, timeout_s: float) -> list[Finding]:
    """The token (getMe) and the webhook Telegram holds (getWebhookInfo)."""
    _ = translator.gettext
    token_what, webhook_what = _("bot token"), _("webhook")
    if not settings.token:
        return [Finding("token", Mark.WARNING, token_what, _("DEFLECT_TOKEN is not set"), _(
                    "Only `deflect console` works without it: set DEFLECT_TOKEN to the token "
                    "@BotFather gave you.")),
                Finding("webhook", Mark.WARNING, webhook_what, _("not checked without a token"),
                        _("Set DEFLECT_TOKEN, then run doctor again."))]
    # As in bot/cli.py: Telegram is loaded only by the commands that talk to it.
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError
    from telegram.request import HTTPXRequest

    request = HTTPXRequest(connect_timeout=timeout_s, read_timeout=timeout_s,
                           write_timeout=timeout_s, pool_timeout=timeout_s)
    base_url = (settings.base_url.rstrip("/") if settings.base_url
                else "https://api.telegram.org") + "/bot"
    bot = Bot(settings.token, base_url=base_url, request=request)
    try:
        async with asyncio.timeout(timeout_s):
            me = await bot.get_me()
            info = await bot.get_webhook_info()
    except InvalidToken:
        return [Finding("token", Mark.FAILED, token_what, _("Telegram refused it"), _(
            "Check DEFLECT_TOKEN: it must be the token @BotFather gave you.")), _skipped(
            webhook_what, translator)]
    except (TelegramError, TimeoutError) as error:  # never its text: it may hold the token
        return [Finding("token", Mark.FAILED, token_what, _(
            "Telegram did not answer (%(error)s)") % {"error": type(error).__name__}, _(
            "Check the network, a proxy on the way, and DEFLECT_BASE_URL if it is set.")),
            _skipped(webhook_what, translator)]
    finally:
        await request.shutdown()
    found = Finding("token", Mark.OK, token_what, _("accepted: @%(username)s") % {
        "username": me.username}, figures={"username": me.username})
    return [found, _webhook(info, keys, webhook_url, translator)]


def _skipped(what: str, translator: Translator) -> Finding:
    _ = translator.gettext
    return Finding("webhook", Mark.WARNING, what, _("not checked: Telegram did not answer"),
                   _("Make the token right first (see its line), then run doctor again."))


def _webhook(info: Any, keys: Keys | None, webhook_url: str | None,
             translator: Translator) -> Finding:
    """What Telegram holds against what `deflect run --webhook-url` (or polling) needs."""
    from bot.webhook import locked_webhook

    _ = translator.gettext
    what = _("webhook")
    held = str(info.url or "")
    figures: dict[str, Any] = {"set": bool(held),
                               "origin": checks.shown_url(held) if held else None,
                               "pending_update_count": int(info.pending_update_count or 0)}
    pending = translator.ngettext("%(count)d update waiting", "%(count)d updates waiting",
                                  figures["pending_update_count"]) % {
        "count": figures["pending_update_count"]}
    if webhook_url is None:
        if held:
            return Finding("webhook", Mark.FAILED, what, _(
                "Telegram posts to %(url)s/\u2026, %(pending)s") % {
                "url": checks.shown_url(held), "pending": pending}, _(
                "Polling gets nothing while a webhook is set: give doctor the --webhook-url "
                "this installation runs with, or stop the one that set it."), figures)
        return Finding("webhook", Mark.OK, what, _("none: the bot polls, %(pending)s") % {
            "pending": pending}, figures=figures)
    shown = webhook_url.rstrip("/") + "/\u2026"
    if keys is None:
        return Finding("webhook", Mark.WARNING, what, _("not compared: no usable key"), _(
            "The webhook's secret path derives from the key: make the key right first (see "
            "its line)."), figures)
    expected = locked_webhook(keys.master, _LISTEN, webhook_url).webhook_url
    if not held:
        return Finding("webhook", Mark.FAILED, what, _("none is set at Telegram"), _(
            "Start Deflect with --webhook-url %(url)s: it sets the webhook.") % {
            "url": webhook_url}, figures)
    if held != expected:
        return Finding("webhook", Mark.FAILED, what, _(
            "Telegram posts to %(held)s/\u2026, not to %(url)s") % {
            "held": checks.shown_url(held), "url": shown}, _(
            "Start Deflect with this --webhook-url and this key: it sets the webhook again."),
            figures)
    figures["matches"] = True
    found = _("Telegram posts to %(url)s, %(pending)s") % {"url": shown, "pending": pending}
    if info.last_error_message:
        when = info.last_error_date.isoformat() if info.last_error_date else "?"
        figures.update(last_error_message=str(info.last_error_message), last_error_date=when)
        return Finding("webhook", Mark.WARNING, what, found + "; " + _(
            "last error %(date)s: %(error)s") % {"date": when, "error": info.last_error_message},
            _("Check that the public URL reaches `deflect run --listen` through your proxy, "
              "with a valid certificate."), figures)
    return Finding("webhook", Mark.OK, what, found, figures=figures)
