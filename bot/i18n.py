"""Translations and locale-aware formats, resolved per reader (never a global locale).

Catalogs: `locales/<lang>/LC_MESSAGES/deflect.po` (committed) compiled to `deflect.mo` (not
committed). `compile_catalogs()` compiles any that are missing or older than their `.po`; the
bot runs it at start and the test suite before its first test, so a fresh clone needs no
separate step. A reader's language is negotiated with Babel against the shipped locales:
`pt-BR` reads Portuguese, `es-419` Spanish, anything unknown the default.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "deflect"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SOURCE_LOCALE = "en"
DEFAULT_LOCALE = SOURCE_LOCALE
# Right-to-left scripts: their catalogs wrap every inserted value in Unicode isolates
# (U+2068 ... U+2069), so a code, an address or a number keeps its own direction.
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})

_LOGGER = logging.getLogger(__name__)


def _catalog_files(folder: Path | None = None) -> dict[str, Path]:
    root = folder or LOCALES_DIR
    return {path.parent.parent.name: path
            for path in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}


def compile_catalogs(folder: Path | None = None) -> list[str]:
    """Compile every `.po` whose `.mo` is missing or older; returns the locales compiled."""
    compiled = []
    for locale, po_path in _catalog_files(folder).items():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=locale, domain=DOMAIN)
        try:
            with mo_path.open("wb") as target:
                write_mo(target, catalog)
        except OSError as error:  # an installation without write access: say so, go on
            _LOGGER.warning("cannot compile %s (%s); run pybabel compile -d locales -D %s",
                            po_path, error, DOMAIN)
            continue
        compiled.append(locale)
    if compiled:
        _LOGGER.info("compiled catalogs: %s", ", ".join(compiled))
        translations.cache_clear()
    return compiled


@cache
def available_locales() -> tuple[str, ...]:
    """The source language and every locale with a catalog, e.g. ("ar", "en", "es", ...)."""
    return tuple(sorted({SOURCE_LOCALE, *_catalog_files()}))


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog for a locale (English source strings if none is compiled)."""
    return Translations.load(str(LOCALES_DIR), [locale], domain=DOMAIN)


def _language_code(tag: str | None) -> str | None:
    """`pt-BR`, `es_419.UTF-8` or `sr@latin` as a Babel code (`pt_BR`, ...); None for an
    empty tag or the C/POSIX locale."""
    if not tag:
        return None
    code = tag.split(".")[0].split("@")[0]
    return None if code in ("C", "POSIX") else code.replace("-", "_")


@cache
def negotiate(tag: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The shipped locale that best serves a language tag (`pt-BR` -> `pt`), else default.

    Cached: it runs for every update, and Telegram sends a handful of distinct tags.
    """
    code = _language_code(tag)
    chosen = negotiate_locale([code], available_locales(), sep="_") if code else None
    if chosen:
        return chosen
    return default if default in available_locales() else SOURCE_LOCALE


@cache
def parse_locale(tag: str | None, default: str = DEFAULT_LOCALE) -> Locale:
    """A Babel locale (for formats) from a tag such as `pt-BR`, `es_419` or `C.UTF-8`."""
    code = _language_code(tag)
    if code:
        try:
            return Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            pass
    return Locale.parse(default)


@cache
def language_name(locale: str) -> str:
    """A language's name in itself, as a button shows it: "español", "русский", "العربية"."""
    name = Locale.parse(locale).get_display_name(locale) or locale
    return name[:1].upper() + name[1:]


def is_rtl(locale: str) -> bool:
    return locale.split("_")[0] in RTL_LANGUAGES


def terminal_locale() -> Locale:
    """The command line's locale, from the usual environment variables."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name):
            return parse_locale(os.environ[name], os.environ.get("DEFLECT_DEFAULT_LOCALE", "en"))
    return parse_locale(os.environ.get("DEFLECT_DEFAULT_LOCALE"))
