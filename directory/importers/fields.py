"""Reading single fields as real exports write them: yes/no, web and e-mail addresses,
phone numbers, language names and codes, and opening hours (checked once per expression).

Pure functions of their text, cached where a file repeats values; `ServiceChecker` decides
what a result means for the record and says so.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import phonenumbers
from babel import Locale, UnknownLocaleError
from phonenumbers import shortnumberinfo

from directory import hours

TRUE = {"true", "yes", "1", "y", "t"}
FALSE = {"false", "no", "0", "n", "f"}
URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
# A host name with a top-level domain of letters, optionally a port and a path.
BARE_HOST = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}\.?(?::\d+)?(?:[/?#]\S*)?$", re.I)
_INTERNATIONAL = phonenumbers.PhoneNumberFormat.INTERNATIONAL
EMAIL = re.compile(r"^(?:mailto:)?[^@\s/]+@[^@\s/]+\.[a-z]{2,}$", re.I)


@cache
def _english_language_names() -> dict[str, str]:
    """Language names in English ("Spanish") -> code; one CLDR table, read at once."""
    names: dict[str, str] = {}
    for code, name in Locale("en").languages.items():
        names.setdefault(str(name).casefold(), str(code))
    return names


@cache
def _own_language_names() -> dict[str, str]:
    """Each language's name in itself ("español") -> code: read only when a name is not an
    English one, since it loads every language's CLDR data (seconds, once)."""
    names: dict[str, str] = {}
    for code in _english_language_names().values():
        try:
            own = Locale.parse(code).get_display_name(code)
        except (ValueError, UnknownLocaleError):
            continue
        if own:
            names.setdefault(own.casefold(), code)
    return names


@cache
def language_code(text: str) -> str | None:
    """A language tag (`es`, `pt-BR`, `zh-Hant`) from a code or a name; None if neither."""
    value = text.strip()
    if not value:
        return None
    tag = value.replace("_", "-")
    if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", tag):
        try:
            locale = Locale.parse(tag, sep="-")
        except (ValueError, UnknownLocaleError):
            locale = None
        if locale is not None:
            parts = tag.split("-")
            if len(parts) == 1:  # a bare language (also a 3-letter one): no guessed region
                return locale.language
            return "-".join(p for p in (locale.language, locale.script, locale.territory) if p)
    name = re.sub(r"\s*\(.*\)\s*$", "", value).casefold()
    return _english_language_names().get(name) or _own_language_names().get(name)


# One number as written, maybe with letters (1-800-662-HELP) and an extension.
_ONE_NUMBER = re.compile(r"\+?[\dA-Z\s().\-/]+(?:\s*(?:ext\.?|x|#)\s*\d+)?", re.I)
_SEVERAL = re.compile(r"[;,]|\b(?:or|and|oder|ou|o|y|e|или)\b", re.I)


def phone_numbers(text: str, country: str | None) -> list[str] | None:
    """The numbers in a phone field in international format; the field as written for a
    short number (116 123, 988); None when a number is not read whole.

    Only what phonenumbers reads as a valid number is rewritten: a possible-but-invalid
    reading ("1-800-273-TALK (8255)" as +1 1800273) would change the number.
    """
    if _ONE_NUMBER.fullmatch(text) and not _SEVERAL.search(text):
        try:
            number = phonenumbers.parse(text, country)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            return [phonenumbers.format_number(number, _INTERNATIONAL)]
        if number is not None and not number.extension \
                and shortnumberinfo.is_valid_short_number(number):
            return [text]
    # Several numbers, or words around them: each must be read whole, every digit used.
    found: list[str] = []
    covered: set[int] = set()
    for match in phonenumbers.PhoneNumberMatcher(text, country,
                                                 leniency=phonenumbers.Leniency.VALID):
        found.append(phonenumbers.format_number(match.number, _INTERNATIONAL))
        covered.update(range(match.start, match.end))
    if not found or any(char.isdigit() and index not in covered
                        for index, char in enumerate(text)):
        return None
    return list(dict.fromkeys(found))


check_hours = lru_cache(maxsize=8192)(hours.check)  # few distinct expressions in a file
