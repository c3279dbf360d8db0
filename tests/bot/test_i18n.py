"""The catalogs: complete, consistent with the code, real, and negotiated per reader."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.eligibility import load_eligibility, missing_translations
from bot.i18n import (
    LOCALES_DIR,
    available_locales,
    compile_catalogs,
    negotiate,
    translations,
)
from directory.hours import Hours
from directory.present import describe, format_distance

SHIPPED = ("ar", "es", "fr", "it", "pt", "ru")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[-0-9]*[sdrxf]")
ISOLATED = re.compile("\u2068(%\\([a-z_]+\\)[-0-9]*[sdrxf])\u2069")
ROOT = Path(__file__).resolve().parents[2]


def forms(value: object) -> tuple[str, ...]:
    """A message's id or string as a tuple of its (plural) forms."""
    if isinstance(value, (tuple, list)):
        return tuple(str(form or "") for form in value)
    return (str(value or ""),)


def catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "deflect.po").open("rb") as source:
        return read_po(source, locale=locale)


def test_the_shipped_locales_are_the_seven_of_the_issue() -> None:
    assert available_locales() == ("ar", "en", "es", "fr", "it", "pt", "ru")


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_message_translated_with_the_same_placeholders_and_all_plural_forms(
        locale: str) -> None:
    po = catalog(locale)
    assert po.num_plurals == get_plural(locale).num_plurals
    assert list(po.check()) == []
    for message in po:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids, strings = forms(message.id), forms(message.string)
        if message.pluralizable:
            assert len(strings) == po.num_plurals, message.id
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert string, f"{locale}: untranslated {message.id!r}"
            assert sorted(PLACEHOLDER.findall(string)) == expected, (locale, message.id, string)


def test_arabic_keeps_every_inserted_value_in_its_own_direction() -> None:
    """A code, address or number inside right-to-left text is wrapped in U+2068...U+2069, so
    "الرمز 7H5S3V" does not reorder around it."""
    for message in catalog("ar"):
        for string in forms(message.string):
            assert len(ISOLATED.findall(string)) == len(PLACEHOLDER.findall(string)), string
    text = translations("ar").gettext("Referral logged. Code: %(code)s\nShow the code at "
                                      "%(name)s.") % {"code": "7H5S3V", "name": "Lakeshore"}
    assert "\u20687H5S3V\u2069" in text
    assert "\u2068Lakeshore\u2069" in text


def test_the_template_is_up_to_date_with_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "pyproject.toml",
         "-o", str(fresh), "--no-location", "--sort-output", "bot", "handlers", "directory"],
        cwd=ROOT, check=True, capture_output=True)
    with fresh.open("rb") as source:
        extracted = {m.id for m in read_po(source) if m.id}
    with (LOCALES_DIR / "deflect.pot").open("rb") as source:
        committed = {m.id for m in read_po(source) if m.id}
    assert extracted - committed == set(), "run pybabel extract (see README)"
    assert committed - extracted == set(), "run pybabel extract (see README)"
    for locale in SHIPPED:
        assert {m.id for m in catalog(locale) if m.id} == committed, f"pybabel update: {locale}"


def test_every_shipped_locale_loads_as_a_real_catalog() -> None:
    compile_catalogs()
    for locale in SHIPPED:
        loaded = translations(locale)
        assert isinstance(loaded, Translations), locale
        assert loaded.gettext("Find help") != "Find help", locale


@pytest.mark.parametrize(("count", "expected"), [
    (1, "Истекает через 1 день."), (3, "Истекает через 3 дня."), (5, "Истекает через 5 дней."),
    (21, "Истекает через 21 день."), (12, "Истекает через 12 дней."),
])
def test_russian_has_three_plural_forms(count: int, expected: str) -> None:
    text = translations("ru").ngettext("It expires in %(count)d day.",
                                       "It expires in %(count)d days.", count)
    assert text % {"count": count} == expected


def test_arabic_uses_all_six_plural_forms() -> None:
    """In Babel's order: zero, one, two, few (3-10), other (100-102), many (11-99); each count
    picks its own form (0 and 100 read alike in Arabic, "يوم", but are separate forms)."""
    ar = translations("ar")
    message = catalog("ar")[("It expires in %(count)d day.", "It expires in %(count)d days.")]
    assert message is not None
    expected = forms(message.string)
    for index, count in enumerate((0, 1, 2, 3, 100, 11)):
        chosen = ar.ngettext("It expires in %(count)d day.", "It expires in %(count)d days.",
                             count)
        assert chosen == expected[index], count


@pytest.mark.parametrize(("tag", "expected"), [
    ("pt-BR", "pt"), ("pt-br", "pt"), ("es-419", "es"), ("es", "es"), ("fr-CA", "fr"),
    ("ar-LB", "ar"), ("ru", "ru"), ("it-CH", "it"), ("en-GB", "en"), ("zh-hans", "en"),
    ("", "en"), (None, "en"), ("C.UTF-8", "en"),
])
def test_telegram_language_codes_are_negotiated(tag: str | None, expected: str) -> None:
    assert negotiate(tag) == expected


def test_an_unknown_language_gets_the_configured_default() -> None:
    assert negotiate("zh-hans", "es") == "es"
    assert negotiate("mk", "fr") == "fr"
    assert negotiate("mk", "xx") == "en"  # a default we do not ship: the source language


def test_eligibility_questions_carry_their_translations_and_missing_ones_are_reported(
        tmp_path: Path) -> None:
    assert missing_translations(load_eligibility(), SHIPPED) == []
    (question,) = load_eligibility()
    assert question.text_in("es") == "¿Hay algún delito violento?"
    partial = tmp_path / "eligibility.json"
    partial.write_text('{"questions": [{"id": "warrant", "text": {"en": "Open warrant?", '
                       '"es": "¿Orden de arresto?"}, "ineligible_answer": "yes", '
                       '"explanation": {"en": "Not with a warrant.", "es": "No con orden."}}]}',
                       encoding="utf-8")
    questions = load_eligibility(partial)
    assert missing_translations(questions, ("es", "ru")) == ["warrant: ru"]
    assert questions[0].text_in("ru") == "Open warrant?"  # English, not nothing


@pytest.mark.parametrize(("locale", "expected"), [
    ("es", "abre el lun a las 8:00"), ("pt", "abre seg. às 08:00"),
    ("ru", "откроется пн в 08:00"), ("it", "apre lun alle 08:00"), ("fr", "ouvre lun. à 08:00"),
    ("en", "opens Mon 8:00\u202fAM"),
])
def test_opening_times_read_the_locales_way(locale: str, expected: str) -> None:
    chicago = ZoneInfo("America/Chicago")
    saturday_night = datetime(2025, 4, 19, 20, 0, tzinfo=chicago)
    hours = Hours("Mo-Fr 08:00-18:00", "America/Chicago", "US-IL")
    status = hours.status(saturday_night)
    assert describe(status, saturday_night, locale, translations(locale)) == expected


def test_distances_in_the_locales_format_and_miles_only_when_asked() -> None:
    assert [format_distance(1234, locale) for locale in ("en", "es", "ru", "ar")] == [
        "1.2 km", "1,2 km", "1,2 км", "1.2 كم"]
    assert format_distance(850, "fr") == "850\u202fm"
    assert format_distance(1234, "en_US", miles=True) == "0.8 mi"
    assert format_distance(150, "en_US", miles=True) == "490 ft"


async def test_a_missing_eligibility_translation_is_named_at_start_up(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from bot.app import build_application, running
    from bot.console import OfflineBotApi
    from bot.settings import Settings

    partial = tmp_path / "eligibility.json"
    partial.write_text('{"questions": [{"id": "warrant", "text": {"en": "Open warrant?"}, '
                       '"ineligible_answer": "yes", "explanation": {"en": "Not with one."}}]}',
                       encoding="utf-8")
    settings = Settings(db_path=tmp_path / "d.sqlite3", eligibility_path=partial)
    async with running(build_application(settings, request=OfflineBotApi(), rate_limit=False)):
        pass
    assert "eligibility questions without a translation" in caplog.text
    assert "warrant: ar, warrant: es, warrant: fr" in caplog.text
