"""Translations and locale-aware formats, resolved per reader (never a global locale).

Catalogs live in `locales/<lang>/LC_MESSAGES/deflect.mo`, compiled from the committed `.po`
files; a locale without a compiled catalog falls back to the English source strings.
"""

from __future__ import annotations

import os
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import Translations

DOMAIN = "deflect"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LOCALE = "en"


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog for a locale (English source strings if none is compiled)."""
    return Translations.load(str(LOCALES_DIR), [locale], domain=DOMAIN)


@cache
def parse_locale(tag: str | None, default: str = DEFAULT_LOCALE) -> Locale:
    """A Babel locale from a tag such as `pt-BR`, `es_419` or `C.UTF-8`, else the default.

    Cached: it runs for every update, and Telegram sends a handful of distinct tags.
    """
    if tag:
        code = tag.split(".")[0].split("@")[0]
        if code not in ("C", "POSIX"):
            try:
                return Locale.parse(code.replace("-", "_"))
            except (ValueError, UnknownLocaleError):
                pass
    return Locale.parse(default)


def terminal_locale() -> Locale:
    """The command line's locale, from the usual environment variables."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name):
            return parse_locale(os.environ[name], os.environ.get("DEFLECT_DEFAULT_LOCALE", "en"))
    return parse_locale(os.environ.get("DEFLECT_DEFAULT_LOCALE"))
